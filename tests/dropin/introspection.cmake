# The live heap, on demand (issue 13): rulloc_check(), rulloc_dump(),
# rulloc_stats_json() and rulloc_map_json(). Included from tests/dropin/CMakeLists.txt before the
# drop-in's tests: the first part runs in every build (TSan and ASan
# included), the rest where librulloc.so exists. Each test has a short
# timeout: a deadlock is a failure, not a wait.

# rulloc_check on a busy 8-thread heap, and on a slab broken by a test-only
# fault (heap_faults.hpp, compiled into this test only).
add_executable(dropin_check_test check_test.cpp)
target_link_libraries(dropin_check_test PRIVATE rulloc_heap_api
                                                GTest::gtest_main rulloc_flags)
gtest_discover_tests(dropin_check_test TEST_PREFIX "dropin.check."
                     DISCOVERY_TIMEOUT 120 PROPERTIES TIMEOUT 120)

if(NOT TARGET rulloc_shared)
  return()
endif()

function(introspection_program name)
  add_executable(${name} ${ARGN})
  target_link_libraries(${name} PRIVATE rulloc_flags Threads::Threads)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/include)
  target_compile_options(${name} PRIVATE -fno-builtin)
endfunction()

introspection_program(dropin_dump_signal dump_signal.c)
introspection_program(dropin_stats_json stats_json.c)
target_link_libraries(dropin_stats_json PRIVATE ${CMAKE_DL_LIBS})
introspection_program(dropin_map_json map_json.c)
target_link_libraries(dropin_map_json PRIVATE ${CMAKE_DL_LIBS})

# stats_json_report(VARIANT LIB NAME VAR=VALUE LINE): dropin_stats_json with
# LIB preloaded and VAR=VALUE set must exit 0 and print LINE on stderr.
function(stats_json_report variant lib name setting line)
  set(test dropin.${variant}.introspection.${name})
  add_test(NAME ${test}
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/expect_report.sh ${lib} 0
                   ${line} $<TARGET_FILE:dropin_stats_json>)
  set_tests_properties(${test} PROPERTIES TIMEOUT 60 ENVIRONMENT "${setting}")
endfunction()

foreach(variant preload secure)
  set(lib $<TARGET_FILE:rulloc_shared>)
  if(variant STREQUAL secure)
    set(lib $<TARGET_FILE:rulloc_secure>)
  endif()
  # The dump on SIGUSR2, 100 times in a row, from 4 busy threads.
  add_test(NAME dropin.${variant}.introspection.dump_signal
           COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/dump_signal.py ${lib}
                   $<TARGET_FILE:dropin_dump_signal> 100)
  set_tests_properties(dropin.${variant}.introspection.dump_signal PROPERTIES
                       TIMEOUT 60)
  # rulloc_stats_json and RULLOC_SHOW_STATS=json, parsed by python.
  add_test(NAME dropin.${variant}.introspection.stats_json
           COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/check_stats_json.py
                   ${lib} $<TARGET_FILE:dropin_stats_json>)
  set_tests_properties(dropin.${variant}.introspection.stats_json PROPERTIES
                       TIMEOUT 60)
  # rulloc_map_json against rulloc_stats_json, drawn by tools/rulloc-map
  # in headless Chromium (.ci/dropin-deps installs it).
  add_test(NAME dropin.${variant}.introspection.map
           COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/check_map.py ${lib}
                   $<TARGET_FILE:dropin_map_json>
                   ${PROJECT_SOURCE_DIR}/tools/rulloc-map)
  set_tests_properties(dropin.${variant}.introspection.map PROPERTIES
                       TIMEOUT 240)
  # RULLOC_CHECK_AT_EXIT=1 after that run; a bad signal name is named.
  stats_json_report(${variant} ${lib} check_at_exit RULLOC_CHECK_AT_EXIT=1
                    "rulloc: heap check at exit: sound")
  stats_json_report(${variant} ${lib} bad_dump_signal RULLOC_DUMP_SIGNAL=SIGFOO
    "rulloc: RULLOC_DUMP_SIGNAL=SIGFOO: not a signal that may be caught (SIGUSR2, USR2 or a number) or off, using off")
endforeach()
