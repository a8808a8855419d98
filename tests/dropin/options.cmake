# The options of the process heap (src/heap/options.hpp), included from
# tests/dropin/CMakeLists.txt. Every test runs check_options.py with one
# case (its docstring says what each asserts), 60 s at most.
set(options_script ${CMAKE_CURRENT_SOURCE_DIR}/check_options.py)

# The table as README.md shows it, printed from the one in options.hpp.
# The same on every system: a cross build (Windows, under wine) leaves it
# to the native ones, as the script runs the program itself.
add_executable(dropin_options_table options_table.cpp)
target_link_libraries(dropin_options_table PRIVATE rulloc_heap rulloc_flags)
if(NOT CMAKE_CROSSCOMPILING)
  add_test(NAME dropin.options.readme_table
           COMMAND python3 ${options_script} readme
                   --table $<TARGET_FILE:dropin_options_table>
                   --readme ${PROJECT_SOURCE_DIR}/README.md)
  set_tests_properties(dropin.options.readme_table PROPERTIES TIMEOUT 60)
endif()

if(NOT TARGET rulloc_shared)
  return()
endif()

add_executable(dropin_options options.c)
target_link_libraries(dropin_options PRIVATE rulloc_flags ${CMAKE_DL_LIBS}
                                             Threads::Threads)
target_include_directories(dropin_options PRIVATE
                           ${PROJECT_SOURCE_DIR}/include
                           ${CMAKE_CURRENT_SOURCE_DIR})
target_compile_options(dropin_options PRIVATE -fno-builtin)

# options_test(NAME CASE ARGS...): check_options.py CASE ARGS... on
# librulloc.so as dropin.options.NAME.
function(options_test name case)
  add_test(NAME dropin.options.${name}
           COMMAND python3 ${options_script} ${case} ${ARGN}
                   --lib $<TARGET_FILE:rulloc_shared>
                   --probe $<TARGET_FILE:dropin_options>
                   --table $<TARGET_FILE:dropin_options_table>)
  set_tests_properties(dropin.options.${name} PROPERTIES TIMEOUT 60)
endfunction()

foreach(option purge_delay_ms purge_thread show_stats verbose check_at_exit
               dump_signal lanes thread_cache_bytes large_cache_bytes
               mmap_threshold trim_threshold map_file)
  foreach(way options variable default)
    options_test(${option}.${way} effect ${option} ${way})
  endforeach()
endforeach()
foreach(name mmap_threshold trim_threshold trim_threshold_off)
  options_test(mallopt.${name} mallopt ${name})
endforeach()
options_test(precedence precedence)
foreach(case not_a_number out_of_range over_range_keeps_options bad_enum
             bad_flag bad_suffix bad_signal too_long path_too_long unknown
             no_value)
  options_test(bad.${case} bad ${case})
endforeach()

# A set-uid program ignores the environment (AT_SECURE). Making one takes
# root: a copy of the probe, linked with librulloc-malloc.a (LD_PRELOAD is
# ignored there too), owned by nobody with the set-uid bit, run by root.
# Registered only when configured as root; elsewhere not tested.
execute_process(COMMAND id -u OUTPUT_VARIABLE options_uid
                OUTPUT_STRIP_TRAILING_WHITESPACE)
if(options_uid STREQUAL "0")
  add_executable(dropin_options_static options.c)
  target_link_libraries(dropin_options_static PRIVATE rulloc_malloc
                        rulloc_flags ${CMAKE_DL_LIBS} Threads::Threads)
  target_include_directories(dropin_options_static PRIVATE
                             ${PROJECT_SOURCE_DIR}/include
                             ${CMAKE_CURRENT_SOURCE_DIR})
  target_compile_options(dropin_options_static PRIVATE -fno-builtin)
  set_target_properties(dropin_options_static PROPERTIES LINKER_LANGUAGE CXX)
  add_test(NAME dropin.options.secure_execution
           COMMAND python3 ${options_script} secure
                   --probe $<TARGET_FILE:dropin_options_static>)
  set_tests_properties(dropin.options.secure_execution PROPERTIES TIMEOUT 60)
endif()
