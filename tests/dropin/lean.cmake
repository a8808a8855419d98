# librulloc.so needs no C++ runtime (issue 12), included from
# tests/dropin/CMakeLists.txt where the drop-in exists: each library needs
# only the C library; a C program with it preloaded maps no libstdc++, libm
# nor libgcc_s, and a C++ library it opens with a scope of its own still
# gets its new_handler called and std::bad_alloc thrown (lean.c,
# lean_plugin.cpp; the C++ programs' own checks are dropin.*.cpp.*).
foreach(library rulloc_shared rulloc_secure rulloc_unchecked)
  add_test(NAME dropin.lean.needed.${library}
           COMMAND bash ${dropin_dir}/lean_needed.sh $<TARGET_FILE:${library}>)
  set_tests_properties(dropin.lean.needed.${library} PROPERTIES TIMEOUT 60)
endforeach()

add_library(dropin_lean_plugin MODULE lean_plugin.cpp)
target_link_libraries(dropin_lean_plugin PRIVATE rulloc_flags)
target_compile_options(dropin_lean_plugin PRIVATE -fno-builtin)
dropin_program(dropin_lean lean.c)
add_dependencies(dropin_lean dropin_lean_plugin)
dropin_preload_test(lean.c dropin_lean $<TARGET_FILE:dropin_lean_plugin>)
set_tests_properties(dropin.preload.lean.c dropin.secure.lean.c
                     PROPERTIES TIMEOUT 60)
