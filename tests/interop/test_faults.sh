#!/usr/bin/env bash
# The 10 MB transfers of test_echo_kernel_client and test_connect_kernel_server again, with
# synack's fault injection on the wire in both directions (seeded): 1.5% loss, 1% reordering,
# 0.5% duplication. Loss recovery must still deliver every byte exactly.
source "$(dirname "$0")/lib.sh"
setup_ns
FAULTS=(--loss 1.5% --reorder 1% --dup 0.5% --seed 42)
random_file "$TMP/data" 10485760
want=$(sha "$TMP/data")

start_serve --port 7 --app echo "${FAULTS[@]}"
nsx python3 "$(dirname "$0")/echo_client.py" "$SADDR" 7 "$TMP/data" >"$TMP/client.out" 2>&1 ||
  fail "echo mismatch under faults: $(cat "$TMP/client.out")"
echo "kernel -> synack echo, 10 MB, faults ${FAULTS[*]}: $(cat "$TMP/client.out")"
[ "$(counter tcp_retransmits)" -gt 0 ] || fail "no retransmissions: were the faults applied?"
stop_serve

(nsrun python3 "$(dirname "$0")/echo_server.py" "$KADDR" 5001 "$TMP/server.sha" >"$TMP/server.out" 2>&1) &
PIDS+=($!)
wait_for "grep -q listening '$TMP/server.out'" 5 || fail "python server did not start"
nsx "$BIN" connect --tap "$TAP" --addr "$SADDR/24" --to "$KADDR:5001" --send "$TMP/data" \
  --recv "$TMP/back" "${FAULTS[@]}" "${NET_MODE_OPTS[@]}" >"$TMP/connect.out" 2>"$TMP/connect.err" ||
  fail "connect failed under faults"
wait_for "[ -s '$TMP/server.sha' ]" 5 || fail "server did not finish"
[ "$(cut -d' ' -f1 "$TMP/server.sha")" = "$want" ] || fail "server received different bytes"
[ "$(sha "$TMP/back")" = "$want" ] || fail "echo came back different"
echo "synack -> kernel, 10 MB each way, faults: $(cat "$TMP/connect.err")"
echo "PASS: 10 MB byte-exact both ways under loss, reordering and duplication"
