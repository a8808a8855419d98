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

# The benchmark workloads (bench/workloads, which check their own blocks and
# print a checksum of what they computed), each built twice: on the C
# runtime's malloc and with librulloc-malloc.a linked. Both must exit 0 and
# print the same, and rulloc's run must show (RULLOC_SHOW_STATS) that
# rulloc served it (windows_workload.sh). At a small scale: 1 to 5 s each.
set(workload_dir ${PROJECT_SOURCE_DIR}/bench/workloads)
file(GLOB workload_sources CONFIGURE_DEPENDS ${workload_dir}/*.cpp)
foreach(source IN LISTS workload_sources)
  get_filename_component(name ${source} NAME_WE)
  add_executable(wl_${name} ${source})
  add_executable(wl_${name}_rulloc ${source})
  target_link_libraries(wl_${name}_rulloc PRIVATE rulloc_malloc)
  foreach(program wl_${name} wl_${name}_rulloc)
    target_compile_options(${program} PRIVATE -O2 -Wall -Wextra)
    target_link_libraries(${program} PRIVATE Threads::Threads)
  endforeach()
  # At this scale `large` makes 100 blocks, the others many thousands.
  set(fewest 1000)
  if(name STREQUAL "large")
    set(fewest 100)
  endif()
  add_test(NAME dropin.windows.workload.${name}
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/windows_workload.sh
                   ${CMAKE_CROSSCOMPILING_EMULATOR} $<TARGET_FILE:wl_${name}>
                   $<TARGET_FILE:wl_${name}_rulloc> ${fewest}
                   --threads 2 --scale 0.05)
  set_tests_properties(dropin.windows.workload.${name} PROPERTIES TIMEOUT 120)
endforeach()
