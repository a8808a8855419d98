# Cross-compiling for 64-bit Windows with Debian's mingw-w64 (posix threading
# variant, so std::thread and std::mutex come from winpthreads), running the
# results under wine. Use through the `windows` presets:
#   cmake --workflow --preset windows
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(RULLOC_MINGW_TRIPLE x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${RULLOC_MINGW_TRIPLE}-gcc-posix)
set(CMAKE_CXX_COMPILER ${RULLOC_MINGW_TRIPLE}-g++-posix)
set(CMAKE_RC_COMPILER ${RULLOC_MINGW_TRIPLE}-windres)

# Headers and libraries of the target only; programs from the host.
set(CMAKE_FIND_ROOT_PATH /usr/${RULLOC_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# libgcc, libstdc++ and winpthread linked in statically: the .exe files run
# under wine (or on Windows) without copying any mingw DLL next to them.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")

# ctest (and gtest_discover_tests) run every .exe through wine. The wine
# prefix and WINEDEBUG come from the environment (the `windows` presets set
# them; see docs/windows.md).
find_program(RULLOC_WINE NAMES wine64 wine
             PATHS /usr/lib/wine /usr/lib64/wine /opt/wine-stable/bin
             NO_CMAKE_FIND_ROOT_PATH)
if(RULLOC_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${RULLOC_WINE})
endif()

# Listing a test executable's tests needs wine too: gtest_discover_tests does
# it when ctest starts, not after every link, so building never runs wine.
set(CMAKE_GTEST_DISCOVER_TESTS_DISCOVERY_MODE PRE_TEST)
