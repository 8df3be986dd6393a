#!/usr/bin/env bash
# Blind injection (RFC 5961) over TAP: a kernel client streams a known byte sequence through
# `synack serve --app echo` while blind_inject.py (scapy) forges segments from the client's
# address and port: thousands of RSTs, SYNs and data segments with random sequence numbers
# during the transfer; then, on the idle connection, RSTs with payload straddling RCV.NXT, SYNs
# with data below RCV.NXT, data at RCV.NXT with an impossible ACK, and the random storm again.
# The connection must survive byte-exact (every echoed byte compared, synack's byte count
# equal to the client's), each straddling phase must draw a challenge ACK (§3.2, §4.2), and
# the ACKs synack sends on the idle connection, counted by tshark in a tcpdump capture, must
# stay under the limits of sk_config_default: the global challenge ACK budget (§7) and the
# per-connection limit on ACKs for unacceptable segments; data segments draw at most one ACK
# each.
# Usage: bash test_blind_injection.sh path/to/synack  (INJECT_SEED=N replays a run)
. "$(dirname "$0")/lib.sh"
for t in tcpdump tshark; do
  command -v $t >/dev/null || { echo "FAIL: $t missing (scripts/install-deps.sh installs it)"; exit 1; }
done
/usr/bin/python3 -c 'import scapy' 2>/dev/null ||
  { echo "FAIL: scapy missing for /usr/bin/python3 (scripts/install-deps.sh installs python3-scapy)"; exit 1; }
HERE=$(dirname "$0")
SEED=${INJECT_SEED:-$RANDOM}
echo "seed $SEED (INJECT_SEED=$SEED replays the forged numbers)"

# config_default NAME: NAME's default in sk_config_default (src/stack.c), the knob the limit
# comes from; empty if the stack has no such knob.
config_default() {
  sed -n "s/^ *cfg->$1 = \([0-9][0-9 *]*\);.*/\1/p" "$HERE/../../src/stack.c" | head -1 |
    awk '{ v = 1; n = split($0, f, "*"); for (i = 1; i <= n; i++) v *= f[i]; print v }'
}

setup_ns
start_serve --port 7 --app echo
(nsrun tcpdump -i "$TAP" -U -s 128 -w "$TMP/cap.pcap" "tcp port 7" >"$TMP/tcpdump.out" 2>&1) &
DUMP_PID=$!
PIDS+=("$DUMP_PID")
wait_for "grep -q 'listening on' '$TMP/tcpdump.out'" 5 || fail "tcpdump did not start"
(nsrun /usr/bin/python3 "$HERE/blind_inject.py" "$TAP" "$SMAC" "$SADDR" 7 "$KADDR" "$TMP" "$SEED" \
  ${INJECT_PHASES:-} >"$TMP/inject.out" 2>"$TMP/inject.err") &
INJ_PID=$!
PIDS+=("$INJ_PID")

nsx python3 "$HERE/inject_client.py" "$SADDR" 7 "$TMP" 1048576 >"$TMP/client.out" 2>&1
client_rc=$?
wait "$INJ_PID" || fail "blind_inject.py failed"
sleep 0.5
kill -TERM "$DUMP_PID"
wait "$DUMP_PID"
cat "$TMP/inject.out" "$TMP/client.out"
serve_stats >"$TMP/stats.txt"
echo "--- the stack's counters"
grep -E 'challenge|ack|tcp_segs|tcp_rst|drop\.tcp' "$TMP/stats.txt"

# Every ACK synack sent on the connection, with its time: "epoch len syn fin rst".
tshark -r "$TMP/cap.pcap" -Y "ip.src == $SADDR && tcp.srcport == 7" -T fields \
  -e frame.time_epoch -e tcp.len -e tcp.flags.syn -e tcp.flags.fin -e tcp.flags.reset \
  >"$TMP/server_segs.txt" 2>"$TMP/tshark.err" || fail "tshark could not read the capture"
# pure_acks T0 T1: synack's segments without data, SYN, FIN or RST in [T0, T1).
pure_acks() {
  awk -v a="$1" -v b="$2" '$1 >= a && $1 < b && $2 == 0 && $3 != "1" && $3 != "True" &&
    $4 != "1" && $4 != "True" && $5 != "1" && $5 != "True" {n++} END {print n + 0}' \
    "$TMP/server_segs.txt"
}

bad=0
[ $client_rc -eq 0 ] || { echo "the connection did not survive byte-exact"; bad=1; }
sent=$(sed -n 's/^sent \([0-9]*\) echoed.*/\1/p' "$TMP/client.out")
grep -Eq "^$KADDR:[0-9]+ in $sent out $sent bytes, closed$" "$TMP/serve.out" ||
  { echo "synack's account of the connection: $(cat "$TMP/serve.out")"; bad=1; }
[ "$(awk '$1 == "drop.tcp-checksum" {print $2}' "$TMP/stats.txt")" = "" ] ||
  { echo "forged segments with a bad checksum: the test's forging is wrong"; bad=1; }

# The limits (RFC 5961 §7). Challenge ACKs, those for RSTs and SYNs: at most
# challenge_ack_limit L a second for the whole stack, the budget of each second drawn at random
# from [ceil(L/2), ceil(L/2) + L - 1] (CVE-2016-5696, as Linux draws it), so a window of T
# seconds touches at most floor(T) + 2 budgets; and on one connection at most one per
# invalid_ack_ratelimit_us, floor(T / interval) + 1 in the window. Segments with data are
# answered each time, as Linux does (they cannot feed an ACK loop): no more ACKs than segments.
limit=$(config_default challenge_ack_limit)
interval_us=$(config_default invalid_ack_ratelimit_us)
if [ -z "$limit" ] || [ -z "$interval_us" ]; then
  echo "sk_config_default has no challenge_ack_limit or invalid_ack_ratelimit_us: no rate limit"
  limit=0
  interval_us=0
fi

# Per phase: the segments forged, and the ACKs synack sent from its start until the next one
# (blind_inject.py pauses 0.7 s after each, so that every answer falls in its own window).
echo "--- phases: forged segments, synack's pure ACKs in the phase's window, the bound"
while read -r name n t0 t1; do
  w1=$(awk -v t="$t1" 'BEGIN {printf "%.6f", t + 0.7}')
  acks=$(pure_acks "$t0" "$w1")
  secs=$(awk -v a="$t0" -v b="$w1" 'BEGIN {printf "%.2f", b - a}')
  case "$name" in
  storm) allowed="-" ;; # the transfer's own ACKs are in this window
  bad-ack | quiet-data) allowed=$n ;;
  *)
    allowed=$(awk -v t="$secs" -v l="$limit" -v iv="$interval_us" 'BEGIN {
      g = l > 0 ? (int(t) + 2) * (int((l + 1) / 2) + l - 1) : -1
      c = iv > 0 ? int(t * 1e6 / iv) + 1 : -1
      if (g < 0 || (c >= 0 && c < g)) g = c
      print g < 0 ? "no-limit" : g }') ;;
  esac
  printf '%-13s %5d forged %5d ACKs in %s s (at most %s)\n' "$name" "$n" "$acks" "$secs" "$allowed"
  case "$name" in
  rst-straddle | syn-below)
    [ "$acks" -ge 1 ] || { echo "$name drew no challenge ACK (RFC 5961 §3.2 and §4.2 ask for one)"; bad=1; } ;;
  esac
  case "$allowed" in
  -) ;;
  no-limit) echo "$name: no limit holds these ACKs"; bad=1 ;;
  *) [ "$acks" -le "$allowed" ] || { echo "$name: more ACKs than the limits allow"; bad=1; } ;;
  esac
done <"$TMP/phases"
[ "$bad" -eq 0 ] || fail "blind injection (seed $SEED)"
stop_serve
echo "PASS: blind injection (seed $SEED): $sent bytes byte-exact both ways, ACKs within the limits"
