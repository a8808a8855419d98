# Windows (issue 14): librulloc-malloc.a linked into programs, run under
# wine. Included from tests/dropin/CMakeLists.txt; nothing elsewhere.
if(NOT WIN32 OR NOT TARGET rulloc_malloc)
  return()
endif()

# The replacement's entry points, blocks of the C runtime's own heap, new
# and delete, threads and the purger (windows_link.cpp), one test a group.
add_executable(dropin_windows_link windows_link.cpp)
target_link_libraries(dropin_windows_link PRIVATE rulloc_malloc rulloc_flags)
target_compile_options(dropin_windows_link PRIVATE -fno-builtin)
foreach(group malloc runtime_calls runtime_blocks new_delete threads purger)
  add_test(NAME dropin.windows.link.${group}
           COMMAND dropin_windows_link ${group})
  set_tests_properties(dropin.windows.link.${group} PROPERTIES TIMEOUT 60
                       ENVIRONMENT "RULLOC_PURGE_DELAY_MS=20"
                       PASS_REGULAR_EXPRESSION "^${group}: 0 failed")
endforeach()
