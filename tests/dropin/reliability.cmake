# Reliability tests of the process allocator (issue 11), included from
# tests/dropin/CMakeLists.txt: each could hang, so each has a short timeout.
dropin_program(dropin_reliability reliability.c)
add_library(dropin_tls_plugin MODULE tls_plugin.c)
target_link_libraries(dropin_tls_plugin PRIVATE rulloc_flags)
add_dependencies(dropin_reliability dropin_tls_plugin)

# on_both_libraries(NAME [PRELOAD] [ENV VAR=VALUE...] COMMAND ...): the
# command as dropin.reliability.NAME for librulloc.so and as
# dropin.secure.reliability.NAME for librulloc-secure.so, 60 s at most
# (a run takes 1-3 s). @LIB@ in the command stands for the library;
# PRELOAD preloads it into the command.
function(on_both_libraries name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "PRELOAD" "" "ENV;COMMAND")
  foreach(variant preload secure)
    set(lib ${dropin_lib})
    set(prefix dropin.reliability)
    if(variant STREQUAL secure)
      set(lib ${dropin_secure_lib})
      set(prefix dropin.secure.reliability)
    endif()
    string(REPLACE "@LIB@" "${lib}" command "${arg_COMMAND}")
    add_test(NAME ${prefix}.${name} COMMAND ${command})
    set(env ${arg_ENV})
    if(arg_PRELOAD)
      list(APPEND env "LD_PRELOAD=${lib}")
    endif()
    set_tests_properties(${prefix}.${name} PROPERTIES TIMEOUT 60)
    if(env)
      set_tests_properties(${prefix}.${name} PROPERTIES ENVIRONMENT "${env}")
    endif()
  endforeach()
endfunction()

# reliability_test(NAME ARGS... [ENV VAR=VALUE...]): the program with the
# library preloaded must exit 0.
function(reliability_test name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "ENV")
  on_both_libraries(${name} PRELOAD ENV ${arg_ENV}
                    COMMAND dropin_reliability ${arg_UNPARSED_ARGUMENTS})
endfunction()

# 1. No deadlock when threads exit (glibc frees TLS under its stack-cache
# lock), with a dlopened library's TLS, or many joined threads.
reliability_test(detached-8 detached 8)
reliability_test(detached-32 detached 32)
reliability_test(joined-100 joined 100)
reliability_test(joined-500 joined 500)
reliability_test(dlopen-tls dlopen-tls $<TARGET_FILE:dropin_tls_plugin>)
# The same class of bug where else libc holds a lock: atexit, fork.
reliability_test(exit-frees exit-frees)
reliability_test(fork-frees fork-frees)
# 2-3. Every free path purges; the large cache keeps to its bound.
reliability_test(realloc-shrink realloc-shrink)
reliability_test(big-freed big-freed)
reliability_test(big-freed-at-once big-freed ENV RULLOC_PURGE_DELAY_MS=0)
# 5. A small program stays single-threaded; an option keeps any so.
reliability_test(single single)
reliability_test(no-thread no-thread ENV RULLOC_PURGE_THREAD=0)
# 6. A dump whose reader stops reading holds no lock, and a thread cancelled
# in its write leaves none held.
reliability_test(dump-blocked dump-blocked ENV RULLOC_LANES=1)
# 7. A limit on the address space leaves room for blocks of its size.
reliability_test(address-limit address-limit)

# expect_report(NAME STATUS LINE ARGS... [ENV VAR=VALUE...]): the program,
# on both libraries, must exit with STATUS and print LINE on stderr.
function(expect_report name status line)
  cmake_parse_arguments(PARSE_ARGV 3 arg "" "" "ENV")
  on_both_libraries(${name} ENV ${arg_ENV}
    COMMAND bash ${dropin_dir}/expect_report.sh @LIB@ ${status} ${line}
            $<TARGET_FILE:dropin_reliability> ${arg_UNPARSED_ARGUMENTS})
endfunction()

# 4. A corrupted link of an engine block's free list is reported, not
# followed.
expect_report(link-smash 134
  "rulloc: malloc(POINTER): corrupted free-list link" link-smash)
# 6. Never read what rulloc does not own to classify a pointer; name the
# call that was misused; a bad setting is named.
expect_report(foreign-mmap 134
  "rulloc: free(POINTER): not a pointer rulloc returned" foreign-mmap)
expect_report(usable-freed 134
  "rulloc: malloc_usable_size(POINTER): block already free" usable-freed)
expect_report(bad-delay 0
  "rulloc: RULLOC_PURGE_DELAY_MS=soon: not a number or off, using 1000"
  single ENV RULLOC_PURGE_DELAY_MS=soon)
expect_report(bad-thread-option 0
  "rulloc: RULLOC_PURGE_THREAD=yes: not 0 or 1, using 1"
  single ENV RULLOC_PURGE_THREAD=yes)

# glibc's introspection calls (issue 13): figures that follow the program,
# malloc_info's XML parsed by a real parser.
dropin_program(dropin_introspection introspection.c)
dropin_preload_test(introspection.figures dropin_introspection figures)
# M_ARENA_MAX keeps new threads on the first lanes (and without it they
# spread, so the check can fail).
dropin_preload_test(introspection.arena_max dropin_introspection lanes 1)
dropin_preload_test(introspection.lanes_spread dropin_introspection lanes 0)
foreach(variant lib secure_lib)
  add_test(NAME dropin.introspection.xml.${variant}
           COMMAND python3 ${dropin_dir}/check_malloc_info.py
                   ${dropin_${variant}} $<TARGET_FILE:dropin_introspection>)
  set_tests_properties(dropin.introspection.xml.${variant} PROPERTIES
                       TIMEOUT 60)
endforeach()
