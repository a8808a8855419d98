# Install rules: headers, the libraries, a CMake package (rulloc-config.cmake
# with imported targets rulloc::rulloc, rulloc::heap, rulloc::malloc and
# rulloc::shared, and a version file) and a pkg-config file.
#
#   cmake --install build/release --prefix /usr/local
#
#   find_package(rulloc REQUIRED)
#   target_link_libraries(app PRIVATE rulloc::rulloc)   # Rulloc<N>, C API
#   target_link_libraries(app PRIVATE rulloc::malloc)   # malloc replaced
#
#   cc app.c $(pkg-config --cflags --libs rulloc)
#   LD_PRELOAD=$(pkg-config --variable=preload rulloc) program
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(RULLOC_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/rulloc
    CACHE STRING "Where rulloc-config.cmake is installed")

# The targets link rulloc_flags (warnings, sanitizers) and src/ privately;
# neither exists once installed. For static libraries CMake still records
# private dependencies as $<LINK_ONLY:...>, so they are wrapped here to be
# build-only. A sanitizer build passes the sanitizer on to consumers.
function(rulloc_make_installable target)
  get_target_property(links ${target} INTERFACE_LINK_LIBRARIES)
  if(links)
    string(REPLACE "$<LINK_ONLY:rulloc_flags>"
                   "$<LINK_ONLY:$<BUILD_INTERFACE:rulloc_flags>>" links "${links}")
    set_property(TARGET ${target} PROPERTY INTERFACE_LINK_LIBRARIES "${links}")
  endif()
  get_target_property(includes ${target} INTERFACE_INCLUDE_DIRECTORIES)
  if(includes)
    set(fixed "")
    foreach(dir IN LISTS includes)
      if(dir STREQUAL "${PROJECT_SOURCE_DIR}/src")
        list(APPEND fixed "$<BUILD_INTERFACE:${dir}>")
      else()
        list(APPEND fixed "${dir}")
      endif()
    endforeach()
    set_property(TARGET ${target} PROPERTY INTERFACE_INCLUDE_DIRECTORIES "${fixed}")
  endif()
  if(RULLOC_SANITIZE)
    set_property(TARGET ${target} APPEND PROPERTY INTERFACE_LINK_OPTIONS
                 "$<INSTALL_INTERFACE:-fsanitize=${RULLOC_SANITIZE}>")
  endif()
endfunction()

set(rulloc_install_targets rulloc)
set_target_properties(rulloc PROPERTIES EXPORT_NAME rulloc)
rulloc_make_installable(rulloc)
if(TARGET rulloc_malloc)
  # librulloc-malloc.a needs the process heap (librulloc_heap.a) and the
  # engine (librulloc.a) after it on the link line.
  list(APPEND rulloc_install_targets rulloc_heap rulloc_malloc)
  set_target_properties(rulloc_heap PROPERTIES EXPORT_NAME heap)
  set_target_properties(rulloc_malloc PROPERTIES EXPORT_NAME malloc)
  rulloc_make_installable(rulloc_heap)
  rulloc_make_installable(rulloc_malloc)
endif()
if(TARGET rulloc_shared)  # not on Windows
  list(APPEND rulloc_install_targets rulloc_shared)
  set_target_properties(rulloc_shared PROPERTIES EXPORT_NAME shared)
endif()

install(TARGETS ${rulloc_install_targets}
  EXPORT rulloc-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/rulloc
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h" PATTERN "*.hpp")
install(EXPORT rulloc-targets
  NAMESPACE rulloc::
  FILE rulloc-targets.cmake
  DESTINATION ${RULLOC_INSTALL_CMAKEDIR})

configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/rulloc-config.cmake.in
  ${PROJECT_BINARY_DIR}/rulloc-config.cmake
  INSTALL_DESTINATION ${RULLOC_INSTALL_CMAKEDIR})
# 0.x: a minor version may break the API, so only the same minor matches.
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/rulloc-config-version.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/rulloc-config.cmake
  ${PROJECT_BINARY_DIR}/rulloc-config-version.cmake
  DESTINATION ${RULLOC_INSTALL_CMAKEDIR})

# pkg-config: relocatable (the prefix is found from the .pc file's place),
# so `cmake --install --prefix ANY` works.
file(RELATIVE_PATH RULLOC_PC_TO_PREFIX
     "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" RULLOC_PC_TO_PREFIX "${RULLOC_PC_TO_PREFIX}")
if(TARGET rulloc_shared)
  set(RULLOC_PC_PRELOAD "preload=\${libdir}/$<TARGET_FILE_NAME:rulloc_shared>")
else()
  set(RULLOC_PC_PRELOAD "")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/rulloc.pc.in
               ${PROJECT_BINARY_DIR}/rulloc.pc.configured @ONLY)
file(GENERATE OUTPUT ${PROJECT_BINARY_DIR}/rulloc.pc
     INPUT ${PROJECT_BINARY_DIR}/rulloc.pc.configured)
install(FILES ${PROJECT_BINARY_DIR}/rulloc.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
