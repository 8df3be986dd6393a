#!/usr/bin/env bash
# 100 kernel connections to `synack serve --app echo` at once, 200 KB each, all echoed
# byte-exact; serve prints one line per connection.
source "$(dirname "$0")/lib.sh"
setup_ns
start_serve --port 7 --app echo
random_file "$TMP/data" 204800
nsx python3 "$(dirname "$0")/echo_client.py" "$SADDR" 7 "$TMP/data" 100 >"$TMP/client.out" 2>&1 ||
  fail "concurrent echo failed: $(cat "$TMP/client.out")"
echo "100 concurrent connections: $(cat "$TMP/client.out")"
wait_for "[ \$(grep -c 'in 204800 out 204800 bytes, closed' '$TMP/serve.out') -eq 100 ]" 10 ||
  fail "serve reported $(grep -c 'bytes, closed' "$TMP/serve.out") of 100 connections"
stop_serve
echo "PASS: 100 concurrent connections"
