# Warning flags and sanitizers shared by every acto target.
add_library(acto_build_flags INTERFACE)
target_compile_options(acto_build_flags INTERFACE
    -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes
    -Wmissing-prototypes -Wformat=2 -Wvla -Wpointer-arith -Wundef
    -Wcast-align -Wwrite-strings -Wnull-dereference -Wdouble-promotion)
if(ACTO_WERROR)
    target_compile_options(acto_build_flags INTERFACE -Werror)
    # With link-time optimization, code (and some warnings) comes at link.
    target_link_options(acto_build_flags INTERFACE -Werror)
endif()

if(ACTO_SANITIZE STREQUAL "address")
    set(acto_san -fsanitize=address,undefined -fno-sanitize-recover=undefined
        -fno-omit-frame-pointer)
elseif(ACTO_SANITIZE STREQUAL "thread")
    set(acto_san -fsanitize=thread -fno-omit-frame-pointer)
elseif(NOT ACTO_SANITIZE STREQUAL "")
    message(FATAL_ERROR "ACTO_SANITIZE must be empty, 'address' or 'thread'")
endif()
if(acto_san)
    # Applied globally so the tests and tools carry the same instrumentation.
    add_compile_options(${acto_san})
    add_link_options(${acto_san})
endif()
