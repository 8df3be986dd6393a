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
if [ "${SK_TEST_THREADS:-1}" -gt 1 ]; then
  # Every thread's stack served some of the 100 (the keyed hash spreads them), frames the
  # kernel put on another thread's queue were steered across, and no ring overflowed.
  serve_stats >"$TMP/stats.txt"
  v() { awk -v k="$1" '$1 == k {x = $2} END {print x + 0}' "$TMP/stats.txt"; }
  for ((t = 0; t < SK_TEST_THREADS; t++)); do
    [ "$(v t$t.tcp_passive_opens)" -gt 0 ] || fail "thread $t served no connection"
  done
  [ "$(v tap.steered_in)" -gt 0 ] || fail "no frame was steered between threads"
  [ "$(v tap.steer_drops)" -eq 0 ] || fail "$(v tap.steer_drops) frames lost to full rings"
  echo "threads: passive opens per thread $(for ((t = 0; t < SK_TEST_THREADS; t++)); do v t$t.tcp_passive_opens; done | tr '\n' ' ')steered $(v tap.steered_in)"
fi
stop_serve
echo "PASS: 100 concurrent connections"
