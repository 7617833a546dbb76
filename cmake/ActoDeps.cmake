# Finds a dependency through pkg-config and, when it is missing, stops the
# configuration with the exact Debian command that installs it.
find_package(PkgConfig QUIET)
if(NOT PKG_CONFIG_FOUND)
    message(FATAL_ERROR
        "acto needs pkg-config to find its dependencies.\n"
        "Install it with: sudo apt-get install -y pkg-config")
endif()

# acto_require_pkg(prefix module debian-package) defines PkgConfig::<prefix>.
function(acto_require_pkg prefix module package)
    pkg_check_modules(${prefix} QUIET IMPORTED_TARGET GLOBAL ${module})
    if(NOT ${prefix}_FOUND)
        message(FATAL_ERROR
            "acto needs ${module} (pkg-config module '${module}').\n"
            "Install it with: sudo apt-get install -y ${package}")
    endif()
    message(STATUS "acto: found ${module} ${${prefix}_VERSION}")
endfunction()
