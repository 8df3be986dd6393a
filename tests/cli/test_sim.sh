#!/usr/bin/env bash
# `synack sim`: every scenario reaches what it promises and draws it.
#
# Each scenario must exit 0, say PASS, and its ladder must show the state changes that make the
# scenario what it is (RFC 9293 §3.5, §3.6). Then: a lossy transfer verifies byte for byte, a
# run replays exactly from its seed, long transfers are summed up unless --verbose, --ascii is
# plain ASCII and --quiet prints only the summary.
#
# usage: bash test_sim.sh /path/to/synack
set -u
SYNACK=${1:?usage: test_sim.sh /path/to/synack}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

ok() { echo "ok   $*"; }
not_ok() { echo "FAIL $*"; failures=$((failures + 1)); }

# run NAME ARGS...: runs `synack sim ARGS`, output in $tmp/NAME.out / .err, status in $rc.
run() {
    local name=$1
    shift
    "$SYNACK" sim "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
    rc=$?
}

# expect_lines NAME PATTERN...: every extended regex matches some line of $tmp/NAME.out.
expect_lines() {
    local name=$1 pat missing=0
    shift
    for pat in "$@"; do
        if ! grep -Eq -- "$pat" "$tmp/$name.out"; then
            not_ok "$name: no line matches '$pat'"
            missing=1
        fi
    done
    return $missing
}

# scenario NAME PATTERN...: the scenario passes and shows each pattern.
scenario() {
    local name=$1
    shift
    run "$name" --scenario "$name"
    if [ "$rc" -ne 0 ]; then
        not_ok "$name: exit status $rc, expected 0: $(head -c 300 "$tmp/$name.err")"
        return
    fi
    expect_lines "$name" 'result +✓ PASS' "$@" && ok "$name"
}

A='→' # between two states

scenario handshake-close \
    "client: CLOSED $A SYN-SENT" "server: LISTEN $A SYN-RECEIVED" \
    "client: SYN-SENT $A ESTABLISHED" "server: SYN-RECEIVED $A ESTABLISHED" \
    "client: ESTABLISHED $A FIN-WAIT-1" "server: ESTABLISHED $A CLOSE-WAIT" \
    "server: CLOSE-WAIT $A LAST-ACK" "client: [A-Z0-9-]+ $A TIME-WAIT" \
    "client: TIME-WAIT $A CLOSED" "server: LAST-ACK $A CLOSED" \
    ' SYN .*▶' '◀.* SYN\|ACK ' ' FIN\|ACK .*▶' '◀.* FIN\|ACK ' 'client: TIME-WAIT timer fired' \
    'client → server +1000 bytes sent, 1000 received, verified' \
    'server → client +1000 bytes echoed, 1000 received, verified' \
    'final states +client CLOSED, server CLOSED'

scenario simultaneous-open \
    "client: CLOSED $A SYN-SENT" "server: CLOSED $A SYN-SENT" \
    "client: SYN-SENT $A SYN-RECEIVED" "server: SYN-SENT $A SYN-RECEIVED" \
    "client: SYN-RECEIVED $A ESTABLISHED" "server: SYN-RECEIVED $A ESTABLISHED" \
    'verified'

scenario simultaneous-close \
    "client: ESTABLISHED $A FIN-WAIT-1" "server: ESTABLISHED $A FIN-WAIT-1" \
    "client: FIN-WAIT-1 $A CLOSING" "server: FIN-WAIT-1 $A CLOSING" \
    "client: CLOSING $A TIME-WAIT" "server: CLOSING $A TIME-WAIT" \
    "client: TIME-WAIT $A CLOSED" "server: TIME-WAIT $A CLOSED"

scenario half-close \
    "client: ESTABLISHED $A FIN-WAIT-1" "client: FIN-WAIT-1 $A FIN-WAIT-2" \
    "server: ESTABLISHED $A CLOSE-WAIT" "server: send\(\) 1000 bytes in CLOSE-WAIT" \
    "server: CLOSE-WAIT $A LAST-ACK" "client: FIN-WAIT-2 $A TIME-WAIT" \
    'server → client +1000 bytes echoed, 1000 received, verified'

scenario refused \
    "client: CLOSED $A SYN-SENT" 'server: dropped \(tcp-no-socket\)' '◀.* RST\|ACK ' \
    "client: SYN-SENT $A CLOSED" 'ECONNREFUSED' 'final states +client CLOSED \(ECONNREFUSED\)'

scenario reset \
    "client: SYN-SENT $A ESTABLISHED" 'abort\(\)' ' RST .*▶' 'server: error ECONNRESET' \
    "server: ESTABLISHED $A CLOSED" 'verified'

scenario syn-loss \
    ' SYN .*✕ .*\[lost on the link\]' 'client: retransmit timer fired' \
    ' SYN .*▶ .*\[retransmission\]' "server: LISTEN $A SYN-RECEIVED" \
    "client: TIME-WAIT $A CLOSED" 'dropped by rule 1' 'retransmissions +client 1,'

# The handshake's numbers: the SYN-ACK acks the client's ISN + 1, the ACK the server's ISN + 1
# (absolute numbers, with the relative ones beside them).
run isn
syn=$(grep -E ' SYN .*▶' "$tmp/isn.out" | head -1 |
    awk '{for (i = 1; i <= NF; i++) if ($i ~ /▶$/) {print $(i + 1); exit}}')
synack=$(grep -E '◀.* SYN\|ACK ' "$tmp/isn.out" | head -1 | sed -E 's/.*SYN\|ACK (─)+ +//' |
    awk '{print $1, $3}')
server_isn=${synack%% *}
synack_ack=${synack##* }
if [ -n "$syn" ] && [ -n "$server_isn" ] &&
   [ "$synack_ack" = "$(( (syn + 1) % 4294967296 ))" ] &&
   grep -Eq "▶ +$(( (syn + 1) % 4294967296 )) \(1\) +$(( (server_isn + 1) % 4294967296 )) \(1\) " \
       "$tmp/isn.out"; then
    ok "handshake acks are ISN+1 (client ISN $syn, server ISN $server_isn)"
else
    not_ok "handshake acks: client ISN '$syn', SYN-ACK seq/ack '$synack'"
fi

# A lossy transfer still arrives byte for byte.
run lossy --bytes 100000 --loss 0.05 --seed 7
if [ "$rc" -eq 0 ] && expect_lines lossy \
       'client → server +100000 bytes sent, 100000 received, verified' \
       'server → client +100000 bytes echoed, 100000 received, verified' \
       '\[lost on the link\]|lost or corrupted' 'result +✓ PASS'; then
    ok "100000 bytes with 5% loss verified"
else
    not_ok "100000 bytes with 5% loss (exit $rc): $(cat "$tmp/lossy.err")"
fi

# Every fault at once, in ASCII, verbose.
run faults --bytes 50000 --loss 2% --dup 2% --reorder 5% --corrupt 2% --delay 5 --rate 20 --seed 3 --verbose --ascii
if [ "$rc" -eq 0 ] && expect_lines faults 'result +PASS' 'verified'; then
    ok "loss, duplication, reordering, corruption and a rate limit together"
else
    not_ok "all faults (exit $rc): $(cat "$tmp/faults.err")"
fi

# The same seed replays the same run; percent and fraction mean the same.
run replay --bytes 100000 --loss 5% --seed 7
if cmp -s "$tmp/lossy.out" "$tmp/replay.out"; then
    ok "a run replays exactly from its seed"
else
    not_ok "two runs with seed 7 differ"
fi
run other_seed --bytes 100000 --loss 5% --seed 8
if ! cmp -s "$tmp/lossy.out" "$tmp/other_seed.out"; then
    ok "another seed, another run"
else
    not_ok "seeds 7 and 8 gave the same run"
fi

# Long transfers are summed up in the middle, unless --verbose.
run verbose --bytes 100000 --loss 0.05 --seed 7 --verbose
if grep -q 'rows not shown' "$tmp/lossy.out" && ! grep -q 'rows not shown' "$tmp/verbose.out" &&
   [ "$(wc -l <"$tmp/verbose.out")" -gt "$(wc -l <"$tmp/lossy.out")" ]; then
    ok "--verbose draws every row, the default sums up the middle"
else
    not_ok "elision: default and --verbose outputs"
fi

# A run that cannot settle (every frame lost) ends, fails with a reason, and exits 1.
run black_hole --loss 1
if [ "$rc" -eq 1 ] && grep -q 'FAIL' "$tmp/black_hole.out" && grep -q 'failed:' "$tmp/black_hole.err"; then
    ok "--loss 1 fails with exit 1 and a reason"
else
    not_ok "--loss 1: exit $rc, stderr: $(cat "$tmp/black_hole.err")"
fi

# --ascii is plain ASCII; the default uses UTF-8 arrows.
run ascii --ascii --scenario syn-loss
if [ "$rc" -eq 0 ] && [ "$(LC_ALL=C tr -d '\000-\177' <"$tmp/ascii.out" | wc -c)" -eq 0 ] &&
   grep -Eq -- '-+ SYN -+>' "$tmp/ascii.out" && grep -Eq -- '-+ SYN -+x' "$tmp/ascii.out" &&
   grep -q 'CLOSED -> SYN-SENT' "$tmp/ascii.out"; then
    ok "--ascii is plain ASCII"
else
    not_ok "--ascii (exit $rc)"
fi

# --quiet prints the summary only.
run quiet --quiet
if [ "$rc" -eq 0 ] && [ "$(head -1 "$tmp/quiet.out")" = "summary" ] &&
   ! grep -q 'client: ' "$tmp/quiet.out" && grep -q 'PASS' "$tmp/quiet.out"; then
    ok "--quiet prints only the summary"
else
    not_ok "--quiet (exit $rc)"
fi

# --bytes 0: a bare handshake and close.
run zero --bytes 0
if [ "$rc" -eq 0 ] && expect_lines zero 'result +✓ PASS' "client: TIME-WAIT $A CLOSED"; then
    ok "--bytes 0"
else
    not_ok "--bytes 0 (exit $rc): $(cat "$tmp/zero.err")"
fi

if [ "$failures" -ne 0 ]; then
    echo "test_sim: $failures failure(s)"
    exit 1
fi
echo "test_sim: all passed"
