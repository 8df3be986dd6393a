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

# ---- the options for long, slow and one-sided runs (issue 9); tshark reads the captures ----
have_tshark=1
command -v tshark >/dev/null 2>&1 || have_tshark=0
# tcount PCAP FILTER: how many frames of PCAP match the display filter.
tcount() {
    tshark -r "$1" -Y "$2" -T fields -e frame.number 2>/dev/null | wc -l
}
# tfield PCAP FILTER FIELD: the field's values, one a line.
tfield() {
    tshark -r "$1" -Y "$2" -T fields -e "$3" 2>/dev/null
}
# summary_ok NAME BYTES: the run passed and both directions verified BYTES bytes.
summary_ok() {
    [ "$rc" -eq 0 ] && expect_lines "$1" "client → server +$2 bytes sent, $2 received, verified" \
        "server → client +$2 bytes echoed, $2 received, verified" 'result +✓ PASS'
}

# --mtu sets both stacks and the link: every datagram fits, each side announces MTU - 40
# (RFC 9293 §3.7.1: MSS = MTU less the 20-byte IPv4 and 20-byte TCP headers).
for mtu in 1400 576 116 9000; do
    run "mtu$mtu" --mtu $mtu --bytes 2M --quiet --pcap "$tmp/mtu$mtu.pcap"
    if ! summary_ok "mtu$mtu" 2000000; then
        not_ok "--mtu $mtu --bytes 2M (exit $rc): $(head -c 300 "$tmp/mtu$mtu.err")"
        continue
    fi
    [ "$have_tshark" -eq 1 ] || { ok "--mtu $mtu completes (no tshark to read the capture)"; continue; }
    max=$(tfield "$tmp/mtu$mtu.pcap" ip "ip.len" | sort -n | tail -1)
    mss=$(tfield "$tmp/mtu$mtu.pcap" 'tcp.flags.syn == 1' tcp.options.mss_val | sort -u | tr '\n' ' ')
    over=$(tcount "$tmp/mtu$mtu.pcap" "ip.len > $mtu")
    if [ "$over" -eq 0 ] && [ "$max" -le "$mtu" ] && [ "$mss" = "$((mtu - 40)) " ] &&
       grep -Eq 'over MTU 0$' "$tmp/mtu$mtu.out"; then
        ok "--mtu $mtu: 2M verified, largest datagram $max, both SYNs announce MSS $((mtu - 40))"
    else
        not_ok "--mtu $mtu: $over datagrams over $mtu (largest $max), SYN MSS values '$mss'"
    fi
done

# A long run streams: 50M both ways, verified, summary only (--bytes 100G is parsed in
# test_args.sh; here a run 500 times shorter).
run long --bytes 50M --quiet
if summary_ok long 50000000 && [ "$(head -1 "$tmp/long.out")" = "summary" ]; then
    ok "--bytes 50M --quiet verified both ways"
else
    not_ok "--bytes 50M --quiet (exit $rc): $(head -c 300 "$tmp/long.err")"
fi
# Beyond 1G the ladder is not drawn even without --quiet (checked on a run that fails at once).
run nodraw --bytes 2G --loss 1
if [ "$rc" -eq 1 ] && grep -q 'no ladder for more than' "$tmp/nodraw.out" &&
   ! grep -q ' SYN .*✕' "$tmp/nodraw.out"; then
    ok "--bytes 2G draws no ladder"
else
    not_ok "--bytes 2G without --quiet (exit $rc)"
fi

# Slow readers on a lossless link: nothing is ever retransmitted and nothing the receiver offered
# is dropped (RFC 9293 §3.8.6, §3.10.7.4). The oracle is the capture: tshark finds no
# retransmission; each side's in-window drops (tcp-out-of-order-full, tcp-unacceptable-seq) are
# 0, and what it dropped beyond its window is exactly the zero-window probes tshark sees sent to
# it (a probe's byte lies beyond a zero window and is answered with an ACK, RFC 9293 §3.8.6.1).
slow_reader() {
    local name=$1
    shift
    run "$name" --bytes 2M --quiet --pcap "$tmp/$name.pcap" "$@"
    if ! summary_ok "$name" 2000000; then
        not_ok "slow reader $*: exit $rc: $(head -c 300 "$tmp/$name.err")"
        return
    fi
    if [ "$have_tshark" -eq 0 ]; then
        ok "slow reader $* completes (no tshark)"
        return
    fi
    local rtx zwp_c zwp_s
    rtx=$(tcount "$tmp/$name.pcap" 'tcp.analysis.retransmission || tcp.analysis.fast_retransmission')
    zwp_c=$(tcount "$tmp/$name.pcap" 'ip.dst == 10.0.0.1 && tcp.analysis.zero_window_probe')
    zwp_s=$(tcount "$tmp/$name.pcap" 'ip.dst == 10.0.0.2 && tcp.analysis.zero_window_probe')
    if [ "$rtx" -eq 0 ] &&
       expect_lines "$name" "drops +client tcp-out-of-order-full 0, tcp-unacceptable-seq 0, tcp-beyond-window $zwp_c(,|\$)" \
           "^ +server tcp-out-of-order-full 0, tcp-unacceptable-seq 0, tcp-beyond-window $zwp_s(,|\$)"; then
        ok "slow reader $*: no retransmission in the capture, no in-window drop ($zwp_c + $zwp_s window probes)"
    else
        not_ok "slow reader $*: $rtx retransmissions in the capture, window probes to client $zwp_c, to server $zwp_s; $(grep -A1 'drops' "$tmp/$name.out" | tr -s ' ')"
    fi
}
slow_reader read_rate --read 4k/10
slow_reader read_server --read 1k/5 --read-side server
slow_reader read_client --read 3000/7 --read-side client
slow_reader read_pause --read-pause 100:3000 --read-pause 5000:2000 --read-side server
slow_reader read_both --read 8Ki/20 --read-pause 300:1500 --mtu 576

# The reader's rate is the goodput: 4000 bytes each 10 ms is 3.2 Mbit/s at most, and a reader
# kept busy reads close to it (within 10%).
rate=$(grep -E '^  goodput' "$tmp/read_rate.out" | sed -E 's/.*server → client ([0-9.]+) Mbit\/s.*/\1/')
if [ -n "$rate" ] && awk -v r="$rate" 'BEGIN { exit !(r <= 3.2 && r >= 2.88) }'; then
    ok "--read 4k/10: goodput $rate Mbit/s, at most 3.2"
else
    not_ok "--read 4k/10: goodput '$rate', expected 2.88 to 3.2 Mbit/s"
fi
# A pause is a pause: the server reads nothing from 100 ms to 3100 ms, so its window closes and
# the client's data waits (the capture shows a zero window from the server).
if [ "$have_tshark" -eq 1 ]; then
    zw=$(tcount "$tmp/read_pause.pcap" 'ip.src == 10.0.0.2 && tcp.window_size == 0 && tcp.flags.syn == 0')
    [ "$zw" -gt 0 ] && ok "--read-pause: the server advertised a zero window ($zw segments)" ||
        not_ok "--read-pause: no zero window from the server"
fi

# One-way loss: frames are lost only in the direction asked for. The capture is taken after
# loss at the sender, so a lost data segment is a hole in that sender's sequence (tshark:
# tcp.analysis.lost_segment); the other direction has none, and the link's counters agree.
one_way() {
    local name=$1 lossy=$2 clean=$3 dir=$4
    shift 4
    run "$name" --bytes 1M --quiet --seed 3 --pcap "$tmp/$name.pcap" "$@"
    if ! summary_ok "$name" 1000000; then
        not_ok "$*: exit $rc: $(head -c 300 "$tmp/$name.err")"
        return
    fi
    local holes_lossy=-1 holes_clean=-1
    if [ "$have_tshark" -eq 1 ]; then
        holes_lossy=$(tcount "$tmp/$name.pcap" "ip.src == $lossy && tcp.analysis.lost_segment")
        holes_clean=$(tcount "$tmp/$name.pcap" "ip.src == $clean && tcp.analysis.lost_segment")
    fi
    local other=server
    [ "$dir" = server ] && other=client
    if [ "$holes_clean" -le 0 ] && [ "$holes_lossy" -ne 0 ] &&
       expect_lines "$name" "$dir → $other +frames [0-9]+, lost [1-9]" \
           "$other → $dir +frames [0-9]+, lost 0,"; then
        ok "$*: lost frames only from the $dir ($holes_lossy holes in its stream, none in the other)"
    else
        not_ok "$*: holes from $lossy $holes_lossy, from $clean $holes_clean; $(grep -A1 '  link' "$tmp/$name.out" | tr -s ' ')"
    fi
}
one_way loss_c2s 10.0.0.1 10.0.0.2 client --loss-c2s 5%
one_way loss_s2c 10.0.0.2 10.0.0.1 server --loss-s2c 0.05
one_way burst_s2c 10.0.0.2 10.0.0.1 server --burst-s2c 2%,30%,60%
one_way burst_c2s 10.0.0.1 10.0.0.2 client --burst-c2s 0.02,0.3,0.6 --loss-s2c 0

# The issue's two cases (issue 9, items 2 and 3) complete with every byte verified.
run issue_faults --bytes 10M --loss 0.05 --reorder 0.1 --dup 0.05 --corrupt 0.01 --delay 20 \
    --rate 100 --seed 13 --quiet
summary_ok issue_faults 10000000 && ok "issue 9: 10M with loss, reordering, duplication, corruption" ||
    not_ok "issue 9: 10M with every fault, seed 13 (exit $rc): $(head -c 300 "$tmp/issue_faults.err")"
# Item 6: `synack sim --mtu 1400` black-holed every full segment; any seed now completes.
for seed in 1 4; do
    run "issue_mtu$seed" --bytes 2000000 --mtu 1400 --seed $seed --quiet
    summary_ok "issue_mtu$seed" 2000000 && ok "issue 9: 2000000 bytes at MTU 1400, seed $seed" ||
        not_ok "issue 9: MTU 1400, seed $seed (exit $rc): $(head -c 300 "$tmp/issue_mtu$seed.err")"
done
for seed in 9 2; do
    run "issue_loss$seed" --bytes 5000000 --loss 0.30 --seed $seed --quiet
    summary_ok "issue_loss$seed" 5000000 && ok "issue 9: 5000000 bytes at 30% loss, seed $seed" ||
        not_ok "issue 9: 30% loss, seed $seed (exit $rc): $(head -c 300 "$tmp/issue_loss$seed.err")"
done

if [ "$failures" -ne 0 ]; then
    echo "test_sim: $failures failure(s)"
    exit 1
fi
echo "test_sim: all passed"
