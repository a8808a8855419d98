# Included by tests/CMakeLists.txt: the fuzz targets built as plain programs
# (replay_main.cpp instead of libFuzzer, so g++ and TSan builds have them
# too) that run every input of the kept corpora once, as CTest tests
# fuzz.replay.*, on Linux and under wine alike.
set(fuzz_dir ${CMAKE_CURRENT_LIST_DIR})
include(${fuzz_dir}/secure_heap.cmake)
rulloc_fuzz_secure_heap(rulloc_fuzz_replay_heap_secure)
rulloc_fuzz_plain_heap(rulloc_fuzz_replay_heap_plain)

# rulloc_fuzz_replay(TEST SOURCE LIBRARY CORPUS): test fuzz.replay.TEST.
function(rulloc_fuzz_replay test source library corpus)
  string(REPLACE "." "_" name fuzz_replay_${test})
  add_executable(${name} ${fuzz_dir}/${source} ${fuzz_dir}/replay_main.cpp)
  target_link_libraries(${name} PRIVATE ${library} rulloc_flags)
  # mingw-w64: C99's printf (%zu) instead of msvcrt's.
  if(WIN32)
    target_compile_definitions(${name} PRIVATE __USE_MINGW_ANSI_STDIO=1)
  endif()
  add_test(NAME fuzz.replay.${test} COMMAND ${name} ${fuzz_dir}/${corpus})
  set_tests_properties(fuzz.replay.${test} PROPERTIES TIMEOUT 300)
endfunction()
rulloc_fuzz_replay(allocator allocator_fuzzer.cpp rulloc corpus)
rulloc_fuzz_replay(process_heap process_heap_fuzzer.cpp
                   ${rulloc_fuzz_replay_heap_plain} corpus-heap)
rulloc_fuzz_replay(process_heap.secure process_heap_fuzzer.cpp
                   rulloc_fuzz_replay_heap_secure corpus-heap)
