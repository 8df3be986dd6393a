#!/usr/bin/env bash
# Installs synack into a temporary prefix and builds an outside program against it, twice:
# with `pkg-config --cflags --libs synack` and with CMake's find_package(synack). Each runs the
# echo example (two stacks in one process over the in-memory simulator) and must verify.
# Usage: test_install.sh SOURCE_DIR BUILD_DIR CC SANITIZE(ON/OFF)
set -euo pipefail
src=$1 build=$2 cc=${3:-cc} sanitize=${4:-OFF}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

cmake --install "$build" --prefix "$prefix" >"$tmp/install.log"
for f in include/synack/synack.h include/synack/socket.h include/synack/blocking.h \
         lib/libsynack.a lib/libsynack.so lib/pkgconfig/synack.pc \
         lib/cmake/synack/synackConfig.cmake lib/cmake/synack/synackTargets.cmake; do
    [[ -e $prefix/$f ]] || { echo "FAIL: $f not installed"; exit 1; }
done
echo "installed: $(find "$prefix" -type f | wc -l) files under a temporary prefix"

# The library may have been built with the sanitizers: then the outside program needs them too
# (that is this build's business, not the package's).
extra=()
[[ $sanitize == ON ]] && extra=(-fsanitize=address,undefined)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
flags=$(pkg-config --cflags --libs synack)
echo "pkg-config --cflags --libs synack: $flags"
mkdir -p "$tmp/outside"
cp "$src/examples/echo.c" "$tmp/outside/echo.c"
"$cc" -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror "${extra[@]}" \
    "$tmp/outside/echo.c" -o "$tmp/outside/echo" $flags
out=$(LD_LIBRARY_PATH=$prefix/lib "$tmp/outside/echo" 200000)
echo "$out"
[[ $out == *verified* ]] || { echo "FAIL: $out"; exit 1; }
# The shared library, not a copy of the objects, was linked.
deps=$(LD_LIBRARY_PATH=$prefix/lib ldd "$tmp/outside/echo")
[[ $deps == *"$prefix/lib/libsynack.so"* ]] || { echo "FAIL: not linked to the installed libsynack.so"; exit 1; }
echo "pkg-config build: linked to $prefix/lib/libsynack.so, verified"
# Static: the archive on its own.
"$cc" -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror "${extra[@]}" $(pkg-config --cflags synack) \
    "$tmp/outside/echo.c" -o "$tmp/outside/echo-static" "$prefix/lib/libsynack.a" \
    $(pkg-config --static --libs-only-other synack)
out=$("$tmp/outside/echo-static" 100000)
[[ $out == *verified* ]] || { echo "FAIL: $out"; exit 1; }
echo "static link: verified"

# CMake package.
mkdir -p "$tmp/cm"
cat >"$tmp/cm/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.18)
project(outside C)
find_package(synack 0.1 REQUIRED)
add_executable(echo echo.c)
target_compile_options(echo PRIVATE ${extra[*]:-})
target_link_options(echo PRIVATE ${extra[*]:-})
target_link_libraries(echo PRIVATE synack::synack)
CM
cp "$src/examples/echo.c" "$tmp/cm/echo.c"
cmake -S "$tmp/cm" -B "$tmp/cm/build" -DCMAKE_C_COMPILER="$cc" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_FLAGS="-D_DEFAULT_SOURCE" >"$tmp/cm.log" 2>&1 || { cat "$tmp/cm.log"; exit 1; }
cmake --build "$tmp/cm/build" >>"$tmp/cm.log" 2>&1 || { cat "$tmp/cm.log"; exit 1; }
out=$(LD_LIBRARY_PATH=$prefix/lib "$tmp/cm/build/echo" 100000)
[[ $out == *verified* ]] || { echo "FAIL: $out"; exit 1; }
echo "find_package(synack) + synack::synack: verified"
echo "PASS"
