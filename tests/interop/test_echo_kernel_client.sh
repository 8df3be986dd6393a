#!/usr/bin/env bash
# The kernel connects to `synack serve --app echo` and sends 10 MB of random data: the echo
# must come back byte-exact (sha256), and serve prints one line for the connection.
source "$(dirname "$0")/lib.sh"
setup_ns
start_serve --port 7 --app echo
random_file "$TMP/data" 10485760
nsx python3 "$(dirname "$0")/echo_client.py" "$SADDR" 7 "$TMP/data" >"$TMP/client.out" 2>&1 ||
  fail "echo mismatch: $(cat "$TMP/client.out")"
echo "kernel -> synack echo, 10 MB: $(cat "$TMP/client.out")"
wait_for "grep -q 'in 10485760 out 10485760 bytes, closed' '$TMP/serve.out'" 5 ||
  fail "serve did not report the connection"
stop_serve
echo "PASS: 10 MB echoed byte-exact"
