# Tests cmake/ActoReadme.cmake's extraction on tests/readme_extract/
# fixture.md: parts joined in order, markers, unnamed blocks, the
# characters CMake lists treat specially, #line directives that make a
# compiler name the README line, an unterminated block, stale files.
#   cmake -DACTO_README=cmake/ActoReadme.cmake -DFIXTURE=fixture.md
#         -DOUT=dir -DCC=cc -P test_readme_extract.cmake
function(fail what)
    message(FATAL_ERROR "readme_extract: ${what}")
endfunction()

function(extract readme out result)
    execute_process(COMMAND ${CMAKE_COMMAND} -DREADME=${readme} -DOUT=${out}
        -P ${ACTO_README} RESULT_VARIABLE rc ERROR_VARIABLE err)
    set(${result} "${rc}|${err}" PARENT_SCOPE)
endfunction()

function(expect_file path want)
    file(READ ${path} got)
    if(NOT got STREQUAL want)
        fail("${path}:\n--- got\n${got}\n--- wanted\n${want}")
    endif()
endfunction()

file(REMOVE_RECURSE ${OUT})
extract(${FIXTURE} ${OUT} r)
if(NOT r MATCHES "^0[|]")
    fail("extraction failed: ${r}")
endif()

expect_file(${OUT}/manifest "two_parts|8|ON|ON
L29|29|OFF|ON
L35|35|OFF|ON
server|42|ON|OFF
--
50|tests/readme_extract/fixture.txt
")
expect_file(${OUT}/readme_two_parts.c "/* Extracted from ${FIXTURE} by \
cmake/ActoReadme.cmake: edit the README, not this file. */
#line 8 \"${FIXTURE}\"
#include <stdio.h>

#define GREETING \\
    \"a;b[1]\"

#line 18 \"${FIXTURE}\"
int
main(void)
{
    puts(GREETING \"\\\\n\");
    return 0;
}

")
expect_file(${OUT}/readme_two_parts.expect "a;b\\[1\\]")
expect_file(${OUT}/readme_server.expect "")
expect_file(${OUT}/file_L50.txt "a line; with [brackets]\n")

# The joined parts build and print what the marker expects.
execute_process(COMMAND ${CC} -o ${OUT}/two_parts ${OUT}/readme_two_parts.c
    RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    fail("two_parts does not compile: ${err}")
endif()
execute_process(COMMAND ${OUT}/two_parts OUTPUT_VARIABLE out)
file(READ ${OUT}/readme_two_parts.expect want)
if(NOT out MATCHES "${want}")
    fail("two_parts printed '${out}', not '${want}'")
endif()

# A compiler error names the README's line, not the extracted file's.
execute_process(COMMAND ${CC} -fsyntax-only ${OUT}/readme_server.c
    RESULT_VARIABLE rc ERROR_VARIABLE err)
if(rc EQUAL 0 OR NOT err MATCHES "fixture.md:43:")
    fail("the broken block's error does not name fixture.md:43: ${err}")
endif()

# A block that never ends stops the configuration at its line.
file(WRITE ${OUT}/cut.md "text\n\n```c\nint x;\n")
extract(${OUT}/cut.md ${OUT}/cut r)
string(REGEX REPLACE "[ \n]+" " " r "${r}") # CMake wraps its messages
if(r MATCHES "^0[|]" OR NOT r MATCHES "cut.md:3: a code block never ends")
    fail("an unterminated block was not reported at its line: ${r}")
endif()

# Files of examples that are gone are removed.
file(WRITE ${OUT}/fewer.md "```c\nint y;\n```\n")
extract(${OUT}/fewer.md ${OUT} r)
if(EXISTS ${OUT}/readme_server.c OR EXISTS ${OUT}/file_L50.txt OR
    NOT EXISTS ${OUT}/readme_L2.c)
    fail("stale example files were kept (or the new one not written)")
endif()
message("readme_extract: OK")
