# `cmake --install` of acto: the headers of every layer, the three
# libraries with an exported CMake package (find_package(acto) gives
# acto::runtime, acto::actors, acto::protocols), an acto.pc for pkg-config
# and the tools listed in tools/CMakeLists.txt (ACTO_INSTALL_TOOLS).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(acto_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/acto)

# EXPORT_NAME gives the exported targets the names the build uses through
# its aliases, so a consumer's target_link_libraries reads the same.
set_target_properties(acto_runtime PROPERTIES EXPORT_NAME runtime)
set_target_properties(acto_actors PROPERTIES EXPORT_NAME actors)
set_target_properties(acto_protocols PROPERTIES EXPORT_NAME protocols)

install(TARGETS acto_runtime acto_actors acto_protocols
    EXPORT acto-targets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
foreach(layer runtime actors protocols)
    install(DIRECTORY ${PROJECT_SOURCE_DIR}/${layer}/include/acto
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")
endforeach()

install(EXPORT acto-targets
    NAMESPACE acto::
    FILE acto-targets.cmake
    DESTINATION ${acto_cmake_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/acto-config.cmake.in
    ${PROJECT_BINARY_DIR}/acto-config.cmake
    INSTALL_DESTINATION ${acto_cmake_dir})
# 0.x: a minor version may break the API, so only the same minor matches.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/acto-config-version.cmake
    VERSION ${PROJECT_VERSION}
    COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/acto-config.cmake
    ${PROJECT_BINARY_DIR}/acto-config-version.cmake
    DESTINATION ${acto_cmake_dir})

# acto.pc names the prefix the files are installed under, which is only
# known at install time (`cmake --install build --prefix /opt/acto`): the
# version and folders are filled in now, the prefix by the install step.
get_target_property(acto_lib_type acto_runtime TYPE)
if(acto_lib_type STREQUAL "STATIC_LIBRARY")
    set(ACTO_PC_LINKAGE "static archives: link with pkg-config --static")
else()
    set(ACTO_PC_LINKAGE "shared libraries")
endif()
set(ACTO_PC_PREFIX "@ACTO_PC_PREFIX@") # kept for the install step
configure_file(${PROJECT_SOURCE_DIR}/cmake/acto.pc.in
    ${PROJECT_BINARY_DIR}/acto.pc.in @ONLY)
install(CODE "
    set(ACTO_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
    configure_file(\"${PROJECT_BINARY_DIR}/acto.pc.in\"
        \"${PROJECT_BINARY_DIR}/acto.pc\" @ONLY)
")
install(FILES ${PROJECT_BINARY_DIR}/acto.pc
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
