# Every code example in README.md is built and run by the tests, so the
# README cannot rot. acto_readme_examples(readme) reads the README when
# CMake configures (and again whenever it changes) and:
#
# - writes each ```c block into its own file under readme/ in the build
#   folder, starting with `#line N "README.md"`, so a compiler error names
#   the README line; the files are built with acto's warnings (but
#   -Wno-unused-parameter: callbacks keep their full signatures) and linked
#   with acto::runtime, acto::actors and acto::protocols;
# - a block that defines main() becomes a test, readme_<name>, run in
#   readme/ in the build folder: it passes when the program exits 0
#   within 60 s (and printed what the marker's `expect` asks); a failure
#   names the README line. A block without main() is compiled only.
#
# A block is a whole translation unit unless the line right before its
# fence is a marker naming the example it belongs to:
#
#   <!-- example: NAME -->                  a part of example NAME: every
#                                           block of NAME, in README order,
#                                           makes one file
#   <!-- example: NAME; expect: REGEX -->   ... whose output must match
#                                           REGEX (a CMake regex, to the
#                                           end of the marker)
#   <!-- example: NAME; compile-only -->    built, not run (a server)
#   <!-- file: PATH -->                     any block (```cmake, ```sh):
#                                           must equal PATH (from the
#                                           source root) byte for byte
#
# Options can be combined on any block of NAME. Other fenced blocks (sh,
# text, ...) are not compiled. Unnamed blocks are named L<line>.
cmake_policy(VERSION 3.20) # also in script mode (IN_LIST, ...)
set(ACTO_README_RUNNER ${CMAKE_CURRENT_LIST_DIR}/ActoReadmeRun.cmake)

# The README is read as lists of lines: characters CMake's lists treat
# specially are swapped for placeholders while parsing.
function(acto__readme_escape in out)
    string(REPLACE "\\" "@ACTO_BS@" s "${in}")
    string(REPLACE ";" "@ACTO_SC@" s "${s}")
    string(REPLACE "[" "@ACTO_LB@" s "${s}")
    string(REPLACE "]" "@ACTO_RB@" s "${s}")
    set(${out} "${s}" PARENT_SCOPE)
endfunction()

function(acto__readme_unescape in out)
    string(REPLACE "@ACTO_SC@" ";" s "${in}")
    string(REPLACE "@ACTO_LB@" "[" s "${s}")
    string(REPLACE "@ACTO_RB@" "]" s "${s}")
    string(REPLACE "@ACTO_BS@" "\\" s "${s}")
    set(${out} "${s}" PARENT_SCOPE)
endfunction()

# Writes path only when its content changes, so reconfiguring rebuilds
# only the examples that changed.
function(acto__readme_write path content)
    if(EXISTS ${path})
        file(READ ${path} old)
        if(old STREQUAL content)
            return()
        endif()
    endif()
    file(WRITE ${path} "${content}")
endfunction()

# acto_readme_extract(readme outdir) writes outdir/readme_<name>.c (and
# .expect) per example and outdir/file_L<line>.txt per file-checked block,
# removes files of examples that are gone, and sets in the caller
# ACTO_README_EXAMPLES ("name|line|has main|runs" per example) and
# ACTO_README_FILES ("line|path" per file-checked block). It also works
# in script mode, for tests/test_readme_extract.cmake:
#   cmake -DREADME=file -DOUT=dir -P ActoReadme.cmake   (writes OUT/manifest)
function(acto_readme_extract readme outdir)
    file(MAKE_DIRECTORY ${outdir})
    file(READ ${readme} text)
    acto__readme_escape("${text}" text)
    string(REPLACE "\n" ";" lines "${text}")

    set(n 0)
    set(fence "")   # the open block's language, or empty outside blocks
    set(marker "")  # the marker on the line before a fence
    set(names "")
    foreach(line IN LISTS lines)
        math(EXPR n "${n} + 1")
        if(NOT fence STREQUAL "")
            if(line MATCHES "^```[ \t]*$")
                if(fence STREQUAL "c")
                    string(APPEND ex_${name}_code "\n")
                endif()
                if(NOT file_path STREQUAL "")
                    list(APPEND file_checks "${block_line}|${file_path}")
                    acto__readme_unescape("${file_body}" body)
                    acto__readme_write(${outdir}/file_L${block_line}.txt
                        "${body}")
                endif()
                set(fence "")
            else()
                if(fence STREQUAL "c")
                    string(APPEND ex_${name}_code "${line}\n")
                    if(line MATCHES "^(int[ \t]+)?main[ \t]*\\(")
                        set(ex_${name}_main ON)
                    endif()
                endif()
                if(NOT file_path STREQUAL "")
                    string(APPEND file_body "${line}\n")
                endif()
            endif()
            continue()
        endif()
        if(line MATCHES "^```([a-zA-Z0-9_+-]*)[ \t]*$")
            set(fence "${CMAKE_MATCH_1}")
            if(fence STREQUAL "")
                set(fence "text")
            endif()
            set(fence_line ${n})
            math(EXPR block_line "${n} + 1")
            set(file_path "")
            set(file_body "")
            if(marker MATCHES "^<!-- file: ([^ ]+) -->$")
                set(file_path "${CMAKE_MATCH_1}")
            endif()
            if(fence STREQUAL "c")
                set(name "L${block_line}")
                set(opts "")
                if(marker MATCHES "^<!-- example: ([A-Za-z0-9_]+)(.*) -->$")
                    set(name "${CMAKE_MATCH_1}")
                    acto__readme_unescape("${CMAKE_MATCH_2}" opts)
                endif()
                if(NOT name IN_LIST names)
                    list(APPEND names ${name})
                    set(ex_${name}_line ${block_line})
                    set(ex_${name}_code "")
                    set(ex_${name}_main OFF)
                    set(ex_${name}_run ON)
                    set(ex_${name}_expect "")
                endif()
                if(opts MATCHES "; expect: ")
                    string(REGEX REPLACE "^.*; expect: " "" e "${opts}")
                    string(REGEX REPLACE "; compile-only$" "" e "${e}")
                    set(ex_${name}_expect "${e}")
                endif()
                if(opts MATCHES "; compile-only")
                    set(ex_${name}_run OFF)
                endif()
                string(APPEND ex_${name}_code
                    "#line ${block_line} \"${readme}\"\n")
            endif()
            set(marker "")
            continue()
        endif()
        set(marker "${line}")
    endforeach()
    if(NOT fence STREQUAL "")
        message(FATAL_ERROR "${readme}:${fence_line}: a code block never ends")
    endif()

    # Files of examples since renamed or removed would linger otherwise.
    file(GLOB old_files ${outdir}/readme_* ${outdir}/file_L*)
    foreach(name IN LISTS names)
        list(REMOVE_ITEM old_files ${outdir}/readme_${name}.c
            ${outdir}/readme_${name}.expect)
    endforeach()
    foreach(check IN LISTS file_checks)
        string(REGEX REPLACE "\\|.*" "" at "${check}")
        list(REMOVE_ITEM old_files ${outdir}/file_L${at}.txt)
    endforeach()
    if(old_files)
        file(REMOVE ${old_files})
    endif()

    set(examples "")
    foreach(name IN LISTS names)
        acto__readme_unescape("${ex_${name}_code}" code)
        acto__readme_write(${outdir}/readme_${name}.c "/* Extracted from \
${readme} by cmake/ActoReadme.cmake: edit the README, not this file. */\n\
${code}")
        acto__readme_unescape("${ex_${name}_expect}" expect)
        acto__readme_write(${outdir}/readme_${name}.expect "${expect}")
        list(APPEND examples
            "${name}|${ex_${name}_line}|${ex_${name}_main}|${ex_${name}_run}")
    endforeach()
    set(ACTO_README_EXAMPLES "${examples}" PARENT_SCOPE)
    set(ACTO_README_FILES "${file_checks}" PARENT_SCOPE)
endfunction()

function(acto_readme_examples readme)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${readme})
    set(outdir ${CMAKE_CURRENT_BINARY_DIR}/readme)
    acto_readme_extract(${readme} ${outdir})
    foreach(example IN LISTS ACTO_README_EXAMPLES)
        string(REPLACE "|" ";" example "${example}")
        list(GET example 0 name)
        list(GET example 1 line)
        list(GET example 2 has_main)
        list(GET example 3 runs)
        set(src ${outdir}/readme_${name}.c)
        if(has_main)
            add_executable(readme_${name} ${src})
        else()
            add_library(readme_${name} OBJECT ${src})
        endif()
        target_link_libraries(readme_${name} PRIVATE acto::runtime
            acto::actors acto::protocols acto_build_flags)
        target_compile_options(readme_${name} PRIVATE -Wno-unused-parameter)
        if(has_main AND runs)
            add_test(NAME readme_${name}
                COMMAND ${CMAKE_COMMAND} -DPROGRAM=$<TARGET_FILE:readme_${name}>
                    -DEXPECT_FILE=${outdir}/readme_${name}.expect
                    -DWHERE=${readme}:${line}
                    -P ${ACTO_README_RUNNER}
                WORKING_DIRECTORY ${outdir})
            set_tests_properties(readme_${name} PROPERTIES
                TIMEOUT 60 LABELS readme)
        endif()
    endforeach()
    foreach(check IN LISTS ACTO_README_FILES)
        string(REPLACE "|" ";" check "${check}")
        list(GET check 0 at)
        list(GET check 1 path)
        add_test(NAME readme_file_L${at}
            COMMAND ${CMAKE_COMMAND} -DEXTRACTED=${outdir}/file_L${at}.txt
                -DFILE=${PROJECT_SOURCE_DIR}/${path}
                -DWHERE=${readme}:${at} -P ${ACTO_README_RUNNER})
        set_tests_properties(readme_file_L${at} PROPERTIES
            TIMEOUT 30 LABELS readme)
    endforeach()
endfunction()

if(CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
    acto_readme_extract(${README} ${OUT})
    string(REPLACE ";" "\n" examples "${ACTO_README_EXAMPLES}")
    string(REPLACE ";" "\n" files "${ACTO_README_FILES}")
    file(WRITE ${OUT}/manifest "${examples}\n--\n${files}\n")
endif()
