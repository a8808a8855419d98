# rulloc_fuzz_secure_heap(NAME): a static library of the process heap in
# secure mode (RULLOC_SECURE=1), from the very sources of the `rulloc`,
# `rulloc_heap` and `rulloc_heap_api` targets, the way the top-level
# CMakeLists.txt builds librulloc-secure.so from them (without the malloc
# override, so it runs under the sanitizers).
#
# rulloc_fuzz_plain_heap(VARIABLE): the plain build of the same, with the
# rulloc_* entry points of rulloc/malloc.h where a library has them.
function(rulloc_fuzz_secure_heap name)
  if(NOT TARGET Threads::Threads)
    find_package(Threads REQUIRED)
  endif()
  set(sources)
  foreach(target rulloc rulloc_heap rulloc_heap_api)
    if(NOT TARGET ${target})
      continue()
    endif()
    get_target_property(dir ${target} SOURCE_DIR)
    get_target_property(list ${target} SOURCES)
    foreach(source IN LISTS list)
      if(NOT IS_ABSOLUTE ${source})
        set(source ${dir}/${source})
      endif()
      list(APPEND sources ${source})
    endforeach()
  endforeach()
  get_target_property(root rulloc SOURCE_DIR)
  add_library(${name} STATIC ${sources})
  target_compile_definitions(${name} PUBLIC RULLOC_SECURE=1)
  target_include_directories(${name} PUBLIC ${root}/include ${root}/src)
  target_link_libraries(${name} PUBLIC Threads::Threads ${CMAKE_DL_LIBS}
                                PRIVATE rulloc_flags)
endfunction()

function(rulloc_fuzz_plain_heap variable)
  if(TARGET rulloc_heap_api)
    set(${variable} rulloc_heap_api PARENT_SCOPE)
  else()
    set(${variable} rulloc_heap PARENT_SCOPE)
  endif()
endfunction()
