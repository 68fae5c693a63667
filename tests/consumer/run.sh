#!/bin/sh
# Installs the build tree into a temporary prefix, then builds and runs tests/consumer/main.c against it four ways:
# pkg-config and CMake's find_package, each with the shared and with the static library.  The shared builds must
# load libglnn.so, the static ones must not.
# Usage: run.sh BUILD_DIR   (from anywhere)
set -eu
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
CC=${CC:-cc}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PREFIX=$TMP/prefix
failures=0
fail() {
    echo "FAIL $*"
    failures=$((failures + 1))
}
# check NAME shared|static PROGRAM: runs it, and looks at whether it loads libglnn.so
check() {
    if ! out=$("$3" 2>&1); then
        fail "$1: $out"
        return
    fi
    case "$out" in *"consumer: ok"*) ;; *) fail "$1: printed '$out'" ;; esac
    if ldd "$3" | grep -q 'libglnn\.so'; then linked=shared; else linked=static; fi
    [ "$linked" = "$2" ] || fail "$1: linked $linked, expected $2"
    echo "ok $1 ($linked)"
}

cmake --install "$BUILD" --prefix "$PREFIX" >"$TMP/install.log" || { cat "$TMP/install.log"; exit 1; }
PC=$(find "$PREFIX" -name glnn.pc)
[ -n "$PC" ] || { echo "FAIL no glnn.pc under $PREFIX"; exit 1; }
[ -f "$(dirname "$PC")/../cmake/glnn/glnnConfig.cmake" ] || fail "no glnnConfig.cmake next to pkgconfig/"
[ -f "$(dirname "$PC")/../cmake/glnn/glnnConfigVersion.cmake" ] || fail "no glnnConfigVersion.cmake"

# pkg-config: the prefix is found from the .pc file's own place.
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$PC")
LIBDIR=$(pkg-config --variable=libdir glnn)
[ "$(pkg-config --modversion glnn)" = "$(sed -n 's/^#define GLNN_VERSION "\(.*\)"/\1/p' "$PREFIX/include/glnn.h")" ] ||
    fail "pkg-config --modversion differs from GLNN_VERSION"
pkg-config --static --libs glnn | grep -q -- '-lEGL' || fail "pkg-config --static --libs lacks -lEGL"
# shellcheck disable=SC2046
$CC -std=c11 -Wall -Wextra -Werror "$HERE/main.c" $(pkg-config --cflags glnn) $(pkg-config --libs glnn) -lm \
    -Wl,-rpath,"$LIBDIR" -o "$TMP/pc_shared"
check pkg-config-shared shared "$TMP/pc_shared"
# Static: the archive itself, then the dependencies pkg-config --static lists (--as-needed drops libglnn.so).
# shellcheck disable=SC2046
$CC -std=c11 -Wall -Wextra -Werror "$HERE/main.c" $(pkg-config --cflags glnn) -Wl,--as-needed "$LIBDIR/libglnn.a" \
    $(pkg-config --static --libs glnn) -lm -o "$TMP/pc_static"
check pkg-config-static static "$TMP/pc_static"

# CMake: find_package(glnn 0.1) and glnn::glnn or glnn::glnn_static.
for kind in shared static; do
    target=glnn::glnn
    [ "$kind" = static ] && target=glnn::glnn_static
    if cmake -S "$HERE" -B "$TMP/cmake_$kind" -DCMAKE_PREFIX_PATH="$PREFIX" -DGLNN_TARGET=$target \
        -DCMAKE_C_COMPILER="$CC" >"$TMP/cmake_$kind.log" 2>&1 &&
        cmake --build "$TMP/cmake_$kind" >>"$TMP/cmake_$kind.log" 2>&1; then
        check "find_package-$kind" $kind "$TMP/cmake_$kind/consumer"
    else
        cat "$TMP/cmake_$kind.log"
        fail "find_package-$kind: configuring or building failed"
    fi
done
# A version glnn cannot satisfy is refused.
mkdir "$TMP/v"
sed 's/find_package(glnn 0.1 REQUIRED)/find_package(glnn 9.0 REQUIRED)/' "$HERE/CMakeLists.txt" >"$TMP/v/CMakeLists.txt"
cp "$HERE/main.c" "$TMP/v/"
if cmake -S "$TMP/v" -B "$TMP/v/build" -DCMAKE_PREFIX_PATH="$PREFIX" >"$TMP/v.log" 2>&1; then
    fail "find_package(glnn 9.0) accepted version $(pkg-config --modversion glnn)"
else
    grep -q 'version' "$TMP/v.log" || fail "find_package(glnn 9.0): no word on the version"
    echo "ok find_package refuses version 9.0"
fi
echo "consumer: $failures failed"
[ "$failures" -eq 0 ]
