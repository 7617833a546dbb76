# Runs one README example for ctest (see ActoReadme.cmake):
#   -DPROGRAM=exe -DEXPECT_FILE=f -DWHERE=README.md:N   runs exe: it must
#       exit 0 and, when f is not empty, print something matching f's regex
#   -DEXTRACTED=a -DFILE=b -DWHERE=README.md:N          a must equal b
# A failure names the README line of the example.
if(DEFINED EXTRACTED)
    file(READ ${EXTRACTED} shown)
    if(NOT EXISTS ${FILE})
        message(FATAL_ERROR "${WHERE}: the block stands for ${FILE}, "
            "which does not exist")
    endif()
    file(READ ${FILE} real)
    if(NOT shown STREQUAL real)
        message(FATAL_ERROR "${WHERE}: the block differs from ${FILE}: "
            "copy the file into the README (or the block into the file)")
    endif()
    message("${WHERE}: the block equals ${FILE}")
    return()
endif()

execute_process(COMMAND ${PROGRAM} RESULT_VARIABLE rc
    OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc STREQUAL "0")
    message(FATAL_ERROR "${WHERE}: the example exited with ${rc}")
endif()
file(READ ${EXPECT_FILE} expect)
if(NOT expect STREQUAL "" AND NOT out MATCHES "${expect}")
    message(FATAL_ERROR "${WHERE}: the example's output does not match "
        "'${expect}'")
endif()
