#!/usr/bin/env bash
# `synack connect` sends 10 MB to a kernel (python) server that echoes it: the server must
# receive it byte-exact, and what comes back must be byte-exact too; connect exits 0 after
# the clean close. Then the refusal and timeout paths: exit 1 with a clear message.
source "$(dirname "$0")/lib.sh"
setup_ns
random_file "$TMP/data" 10485760
(nsrun python3 "$(dirname "$0")/echo_server.py" "$KADDR" 5001 "$TMP/server.sha" >"$TMP/server.out" 2>&1) &
PIDS+=($!)
wait_for "grep -q listening '$TMP/server.out'" 5 || fail "python server did not start"
nsx "$BIN" connect --tap "$TAP" --addr "$SADDR/24" --to "$KADDR:5001" --send "$TMP/data" \
  --recv "$TMP/back" >"$TMP/connect.out" 2>"$TMP/connect.err" || fail "connect failed"
wait_for "[ -s '$TMP/server.sha' ]" 5 || fail "server did not finish"
want=$(sha "$TMP/data")
[ "$(cut -d' ' -f1 "$TMP/server.sha")" = "$want" ] || fail "server received different bytes"
[ "$(sha "$TMP/back")" = "$want" ] || fail "echo came back different"
echo "synack -> kernel, 10 MB each way: $(cat "$TMP/connect.err")"

# Nobody listens on 5002: the kernel answers RST, connect says so and fails.
nsx "$BIN" connect --tap "$TAP" --addr "$SADDR/24" --to "$KADDR:5002" >"$TMP/refused.out" \
  2>"$TMP/refused.err" && fail "connect to a closed port succeeded"
grep -q "connection refused" "$TMP/refused.err" || fail "no refusal message: $(cat "$TMP/refused.err")"
# Nobody at 10.77.0.9: no ARP answer, connect gives up after its timeout.
nsx "$BIN" connect --tap "$TAP" --addr "$SADDR/24" --to 10.77.0.9:80 --timeout 2 \
  >"$TMP/timeout.out" 2>"$TMP/timeout.err" && fail "connect to nobody succeeded"
grep -q "timed out" "$TMP/timeout.err" || fail "no timeout message: $(cat "$TMP/timeout.err")"
echo "PASS: connect 10 MB byte-exact, refusal and timeout reported"
