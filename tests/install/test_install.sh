#!/usr/bin/env bash
# Installs synack into a temporary prefix and builds an outside program against it, twice:
# with `pkg-config --cflags --libs synack` and with CMake's find_package(synack). Each runs the
# echo example (two stacks in one process over the in-memory simulator) and must verify; the
# pkg-config build as docs/getting-started.md says (with its rpath) starts without
# LD_LIBRARY_PATH. Then the program of docs/getting-started.md itself: as many lines as its
# heading says, built with the doc's command line, and (as root, in a network namespace of its
# own) started on a TAP device where the kernel's bytes come back through it.
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
# As docs/getting-started.md says: the rpath from pkg-config, and the program starts with no
# LD_LIBRARY_PATH at all.
rpath=-Wl,-rpath,$(pkg-config --variable=libdir synack)
"$cc" -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror "${extra[@]}" \
    "$tmp/outside/echo.c" -o "$tmp/outside/echo-rpath" $flags "$rpath"
out=$(env -u LD_LIBRARY_PATH "$tmp/outside/echo-rpath" 100000)
[[ $out == *verified* ]] || { echo "FAIL: with the rpath: $out"; exit 1; }
echo "pkg-config build with the doc's rpath: starts without LD_LIBRARY_PATH, verified"
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

# The program of docs/getting-started.md: the first C block after "## A stack on TAP in N
# lines" has N lines, builds with the doc's command and starts.
doc=$src/docs/getting-started.md
claim=$(sed -n 's/^## A stack on TAP in \([0-9][0-9]*\) lines$/\1/p' "$doc")
[[ -n $claim ]] || { echo "FAIL: no '## A stack on TAP in N lines' in $doc"; exit 1; }
awk '/^## A stack on TAP in/ {f = 1} f && /^```c$/ {c = 1; next} c && /^```$/ {exit} c' "$doc" \
    >"$tmp/outside/app.c"
lines=$(wc -l <"$tmp/outside/app.c")
[[ $lines -eq $claim ]] || { echo "FAIL: the doc says $claim lines, its program has $lines"; exit 1; }
"$cc" "${extra[@]}" "$tmp/outside/app.c" $(pkg-config --cflags --libs synack) \
    -Wl,-rpath,"$(pkg-config --variable=libdir synack)" -o "$tmp/outside/app"
deps=$(env -u LD_LIBRARY_PATH ldd "$tmp/outside/app")
[[ $deps == *"libsynack.so.0 => $prefix/lib"* ]] ||
    { echo "FAIL: the doc's program does not find libsynack.so.0: $deps"; exit 1; }
echo "docs/getting-started.md: $lines lines as claimed, built with the doc's command"
if [[ $(id -u) -ne 0 ]]; then
    echo "(not root: the doc's program is not started on a TAP device)"
    echo "PASS"
    exit 0
fi
# Root: a namespace of its own with tap0 as the doc sets it up; the kernel sends 64 KiB
# through the program's echo service and must get every byte back.
ns=sk-install-$$
app_pid=
ip netns add "$ns"
trap 'set +e; [[ -n $app_pid ]] && { kill "$app_pid"; wait "$app_pid"; } 2>/dev/null
      ip netns del "$ns"; rm -rf "$tmp"' EXIT
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" ip tuntap add dev tap0 mode tap
ip netns exec "$ns" ip addr add 10.0.0.1/24 dev tap0
ip netns exec "$ns" ip link set tap0 up
(exec env -u LD_LIBRARY_PATH nsenter --net="/var/run/netns/$ns" "$tmp/outside/app" \
    >"$tmp/app.out" 2>"$tmp/app.err") &
app_pid=$!
got=$(ip netns exec "$ns" python3 -c '
import socket, sys, time
data = bytes(range(256)) * 256
for _ in range(50):  # the program needs a moment to open the TAP
    try:
        s = socket.create_connection(("10.0.0.2", 7), timeout=0.2)
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("no connection")
s.settimeout(10)
s.sendall(data)
s.shutdown(socket.SHUT_WR)
got = b""
while len(got) < len(data):
    d = s.recv(65536)
    if not d:
        break
    got += d
print(len(got), got == data)') || { echo "FAIL: the doc's program: $got $(cat "$tmp/app.err")"; exit 1; }
[[ $got == "65536 True" ]] || { echo "FAIL: the doc's program echoed: $got"; exit 1; }
kill -0 "$app_pid" || { echo "FAIL: the doc's program exited: $(cat "$tmp/app.err")"; exit 1; }
echo "docs/getting-started.md: the program runs on tap0 and echoes 65536 bytes"
echo "PASS"
