# GoogleTest: the system package when it fits, else built from the sources
# that Debian's googletest package ships (needed when cross-compiling, or when
# sanitizers want an instrumented copy).
option(RULLOC_GTEST_FROM_SOURCE "Build GoogleTest from /usr/src/googletest" OFF)
if(CMAKE_CROSSCOMPILING)
  set(RULLOC_GTEST_FROM_SOURCE ON)
endif()

if(NOT RULLOC_GTEST_FROM_SOURCE)
  find_package(GTest QUIET)
endif()
if(NOT TARGET GTest::gtest_main)
  set(RULLOC_GTEST_SOURCE_DIR "/usr/src/googletest" CACHE PATH "GoogleTest sources")
  set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
  set(BUILD_GMOCK OFF CACHE BOOL "" FORCE)
  set(gtest_force_shared_crt ON CACHE BOOL "" FORCE)
  add_subdirectory(${RULLOC_GTEST_SOURCE_DIR} ${CMAKE_BINARY_DIR}/googletest EXCLUDE_FROM_ALL)
  # GoogleTest 1.11 and later define these aliases themselves.
  if(NOT TARGET GTest::gtest)
    add_library(GTest::gtest ALIAS gtest)
  endif()
  if(NOT TARGET GTest::gtest_main)
    add_library(GTest::gtest_main ALIAS gtest_main)
  endif()
endif()
include(GoogleTest)

# Listing a test executable's tests means running it. A cross build can only
# do that through the emulator (wine for Windows), so it lists them when ctest
# starts rather than after every link: building then needs no emulator.
# (cmake/toolchains/mingw-w64.cmake sets this for the whole project.)
if(CMAKE_CROSSCOMPILING AND NOT CMAKE_GTEST_DISCOVER_TESTS_DISCOVERY_MODE)
  set(CMAKE_GTEST_DISCOVER_TESTS_DISCOVERY_MODE PRE_TEST)
endif()

# rulloc_add_test(NAME SOURCES...): one GoogleTest executable, its tests
# registered with CTest one by one.
function(rulloc_add_test name)
  add_executable(${name} ${ARGN})
  target_link_libraries(${name} PRIVATE rulloc GTest::gtest_main rulloc_flags)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  # Each test takes well under a second (release and ASan builds): 120 s
  # is a hang, not a slow machine.
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 120 PROPERTIES TIMEOUT 120)
endfunction()
