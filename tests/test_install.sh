#!/bin/sh
# Installs this build of acto into a fresh prefix with `cmake --install`
# and builds tests/consumer/ out of tree against it twice, with
# pkg-config (a plain cc command line) and with CMake's find_package, then
# runs both programs and checks their traces with the installed acto-trace.
#
# Usage: test_install.sh CMAKE BUILD_DIR WORK_DIR CONSUMER_SRC CC LIBDIR
#            BUILD_TYPE [SANITIZER_FLAGS]
# SANITIZER_FLAGS: the flags the build was instrumented with; the consumer
# is compiled and linked with them too, since the installed archives call
# into the sanitizer runtimes.
set -eu

cmake=$1 build=$2 work=$3 src=$4 cc=$5 libdir=$6 build_type=$7
san=${8:-}
prefix=$work/prefix

fail() {
    echo "test_install: $*" >&2
    exit 1
}

rm -rf "$work"
mkdir -p "$work"
"$cmake" --install "$build" --prefix "$prefix" >"$work/install.log" ||
    fail "cmake --install failed: see $work/install.log"

for f in include/acto/acto.h include/acto/pipeline.h \
    include/acto/tracefile.h "$libdir/libacto_runtime.a" \
    "$libdir/libacto_actors.a" "$libdir/libacto_protocols.a" \
    "$libdir/pkgconfig/acto.pc" "$libdir/cmake/acto/acto-config.cmake" \
    "$libdir/cmake/acto/acto-config-version.cmake" bin/acto-trace; do
    [ -e "$prefix/$f" ] || fail "not installed: $prefix/$f"
done
grep -q "^prefix=$prefix\$" "$prefix/$libdir/pkgconfig/acto.pc" ||
    fail "acto.pc does not name the prefix $prefix"

check_run() { # how program trace
    out=$("$2" "$3") || fail "$1: the consumer failed: $out"
    echo "$1: $out"
    echo "$out" | grep -q "greeted 1, sum 10100, [1-9][0-9]* trace events" ||
        fail "$1: unexpected output"
    "$prefix/bin/acto-trace" check "$3" >"$work/$1-check.txt" ||
        fail "$1: acto-trace check: $(cat "$work/$1-check.txt")"
}

# pkg-config, as README.md shows it; strict C11 with warnings as errors,
# so acto's installed headers hold up in a pedantic project too (the
# feature-test macro is the one README.md says strict C11 needs).
mkdir -p "$work/pkgconfig"
flags=$(PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig" \
    pkg-config --cflags --libs --static acto) ||
    fail "pkg-config does not find acto"
strict="-std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Wpedantic -Werror"
# shellcheck disable=SC2086 # word splitting of the flags is intended
"$cc" $strict $san -o "$work/pkgconfig/consumer" "$src/main.c" $flags ||
    fail "pkg-config: cc $strict $san ... $flags failed"
check_run pkgconfig "$work/pkgconfig/consumer" "$work/pkgconfig/trace.acto"

# find_package(acto), from a project outside acto's tree.
"$cmake" -S "$src" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_BUILD_TYPE="$build_type" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_C_FLAGS="$san" -DCMAKE_EXE_LINKER_FLAGS="$san" \
    >"$work/cmake.log" 2>&1 ||
    fail "find_package: configuring failed: see $work/cmake.log"
"$cmake" --build "$work/cmake" >>"$work/cmake.log" 2>&1 ||
    fail "find_package: building failed: see $work/cmake.log"
check_run find_package "$work/cmake/consumer" "$work/cmake/trace.acto"
echo "test_install: OK"
