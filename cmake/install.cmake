# `make install PREFIX=DIR` / `cmake --install BUILD --prefix DIR`: the static and shared
# library, the public headers, a pkg-config file (synack.pc) and a CMake package
# (find_package(synack) gives synack::synack, the shared library, and synack::synack_static).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set_target_properties(synack PROPERTIES EXPORT_NAME synack_static)
set_target_properties(synack_shared PROPERTIES EXPORT_NAME synack)
install(TARGETS synack synack_shared EXPORT synackTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/synack DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")

set(SK_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/synack)
install(EXPORT synackTargets NAMESPACE synack:: DESTINATION ${SK_CMAKE_DIR})
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/synackConfig.cmake.in
                              ${CMAKE_BINARY_DIR}/synackConfig.cmake
                              INSTALL_DESTINATION ${SK_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/synackConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/synackConfig.cmake ${CMAKE_BINARY_DIR}/synackConfigVersion.cmake
        DESTINATION ${SK_CMAKE_DIR})

# synack.pc finds its prefix from where it lies (${pcfiledir}), so the installed tree can be
# moved or installed with --prefix after configuring.
file(RELATIVE_PATH SK_PC_TO_PREFIX /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
string(REGEX REPLACE "/$" "" SK_PC_TO_PREFIX "${SK_PC_TO_PREFIX}")
configure_file(${CMAKE_SOURCE_DIR}/synack.pc.in ${CMAKE_BINARY_DIR}/synack.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/synack.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The test: install into a temporary prefix, build examples/echo.c outside the tree with
# `pkg-config --cflags --libs synack` (and with find_package), run it.
if(SK_TESTS)
  add_test(NAME install_outside_program
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/install/test_install.sh
                   ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR} "${CMAKE_C_COMPILER}" "${SK_SANITIZE}")
endif()
