# Shared by the interop tests: each test runs as `bash test_X.sh path/to/synack`, as root.
#
# It makes its own network namespace sk-NAME-PID with a TAP interface skt0 in it, the kernel
# side addressed 10.77.0.1/24, synack 10.77.0.2/24 (addresses exist only in the namespace).
# The trap removes the namespace and kills the processes the test started (their PIDs only),
# whether it passes or fails. Exit 77 (ctest SKIP_RETURN_CODE) only when not root.
set -u
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: interop tests need root (network namespaces and TAP devices)"
  exit 77
fi
BIN=$(readlink -f "$1")
TEST_NAME=$(basename "$0" .sh)
NS="sk-${TEST_NAME#test_}-$$"
TAP=skt0
KADDR=10.77.0.1
SADDR=10.77.0.2
SMAC=02:00:00:77:00:02
TMP=$(mktemp -d "/tmp/${TEST_NAME}.XXXXXX")
PIDS=()
# Modes (tests/CMakeLists.txt runs a subset of the tests in each): SK_TEST_OFFLOAD=off runs
# synack with --offload off (plain frames, no virtio-net header); SK_TEST_THREADS=N runs
# `synack serve --threads N` on a multi-queue TAP. NET_MODE_OPTS holds the options for
# `synack connect` (one thread always), SERVE_MODE_OPTS those for serve.
NET_MODE_OPTS=()
[ "${SK_TEST_OFFLOAD:-on}" = off ] && NET_MODE_OPTS+=(--offload off)
SERVE_MODE_OPTS=("${NET_MODE_OPTS[@]}")
[ "${SK_TEST_THREADS:-1}" -gt 1 ] && SERVE_MODE_OPTS+=(--threads "$SK_TEST_THREADS")
if [ ${#SERVE_MODE_OPTS[@]} -gt 0 ]; then
  echo "mode: serve ${SERVE_MODE_OPTS[*]}"
fi

cleanup() {
  local p
  for p in "${PIDS[@]}"; do
    kill -TERM "$p" 2>/dev/null
  done
  for p in "${PIDS[@]}"; do
    wait "$p" 2>/dev/null
  done
  ip netns del "$NS" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

nsx() { ip netns exec "$NS" "$@"; }
# Like nsx, but execs the command itself (ip netns exec forks and would stand between a
# signal and synack): the PID of `nsrun CMD &` is CMD's.
nsrun() { exec nsenter --net="/var/run/netns/$NS" "$@"; }

fail() {
  echo "FAIL ($TEST_NAME): $*"
  local f
  for f in "$TMP"/*.out "$TMP"/*.err; do
    [ -s "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }
  done
  exit 1
}

# Waits up to $2 seconds (default 5) for the shell condition $1.
wait_for() {
  local i n=$(( ${2:-5} * 20 ))
  for ((i = 0; i < n; i++)); do
    eval "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# A test that ctest killed at its timeout (SIGKILL: no EXIT trap) leaves its namespace behind.
# Each name ends in the PID of the test that made it: remove those whose test is gone.
sweep_stale_ns() {
  local ns pid
  for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^sk-.*-[0-9]+$/ {print $1}'); do
    pid=${ns##*-}
    kill -0 "$pid" 2>/dev/null || ip netns del "$ns" 2>/dev/null
  done
}

setup_ns() {
  sweep_stale_ns
  ip netns add "$NS" || fail "cannot create namespace $NS"
  nsx ip link set lo up
  local mq=()
  [ "${SK_TEST_THREADS:-1}" -gt 1 ] && mq=(multi_queue)
  nsx ip tuntap add dev "$TAP" mode tap "${mq[@]}" || fail "cannot create $TAP"
  nsx ip addr add "$KADDR/24" dev "$TAP"
  nsx ip link set "$TAP" up
}

# start_serve ARGS...: synack serve on the TAP (its stdout in $TMP/serve.out, stderr in
# $TMP/serve.err), waits until it is ready.
start_serve() {
  (nsrun "$BIN" serve --tap "$TAP" --addr "$SADDR/24" --mac "$SMAC" "${SERVE_MODE_OPTS[@]}" "$@" \
    >"$TMP/serve.out" 2>"$TMP/serve.err") &
  SERVE_PID=$!
  PIDS+=("$SERVE_PID")
  wait_for "grep -q '^synack serve:' '$TMP/serve.out'" 5 || fail "synack serve did not start"
}

# Asks serve for its counters (SIGUSR1) and prints them: the lines of the new block between
# "--- synack counters at T s ---" and "--- end of counters ---".
serve_stats() {
  local before
  before=$(grep -c '^--- end of counters ---$' "$TMP/serve.err")
  kill -USR1 "$SERVE_PID"
  wait_for "[ \$(grep -c '^--- end of counters ---\$' '$TMP/serve.err') -gt $before ]" 5 ||
    fail "no stats"
  awk -v n=$((before + 1)) '/^--- synack counters at / {k++; next} /^--- end of counters ---$/ {
    if (k == n) exit; next } k == n' "$TMP/serve.err"
}

# counter NAME: the last value of counter NAME in serve's stats dump (0 if absent).
counter() {
  serve_stats >"$TMP/stats.txt"
  awk -v k="$1" '$1 == k {v = $2} END {print v + 0}' "$TMP/stats.txt"
}

stop_serve() {
  kill -TERM "$SERVE_PID" 2>/dev/null
  wait "$SERVE_PID"
  local rc=$?
  [ $rc -eq 0 ] || fail "synack serve exited with status $rc"
}

# random_file PATH BYTES
random_file() { head -c "$2" /dev/urandom >"$1"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

# True when synack is built with AddressSanitizer (the build of `make test-asan`): it runs
# several times slower, and its RSS holds shadow memory and the quarantine of freed blocks,
# so an RSS bound measures the sanitizer, not the stack.
sanitized() { ldd "$BIN" 2>/dev/null | grep -q libasan; }
