#!/usr/bin/env bash
# `synack trace` on real captures of the Linux kernel talking to itself (issue 14): two network
# namespaces joined by a veth pair, Python sockets at both ends (trace_peers.py), no synack in
# the traffic. Five scenarios: a handshake with data both ways and an orderly close (the
# client first), a refused connection, an abort (SO_LINGER {1, 0}), a transfer into a
# receiver whose small buffer closes its window (zero window, window probes, window open), and
# an idle connection kept alive (keep-alive probes and their answers).
#
# One run is captured four ways at once on the client's side: tcpdump on the veth (pcap,
# Ethernet), dumpcap (pcapng), and tcpdump on "any" as Linux cooked v1 and v2 (SLL, SLL2).
# The veth keeps its default offloads (TSO/GSO), so the captures hold segments of several MSS,
# as captures on real hosts do (ctest's interop_test_trace_kernel_mss runs it without them).
# Each capture is traced with --json and checked by trace_check.py against tshark's dissection
# and analysis of the same file, the bytes the peers sent, and RFC 9293's state diagram run
# again in the checker; the four must then agree with each other segment by segment. A few
# checks read the terminal: the ladder, --list and --lang zh.
#
# SK_TRACE_OFFLOAD=off turns TSO, GSO and GRO off on both veth ends (ethtool): then every
# segment is at most one MSS. SK_TRACE_FAMILY=6 runs it all over IPv6 (fd00:78::1 and ::2 on
# the veth, no DAD): ctest's interop_test_trace_kernel6. SK_TRACE_KEEP=DIR keeps the captures and synack's outputs there.
source "$(dirname "$0")/lib.sh"
HERE=$(dirname "$(readlink -f "$0")")
for t in tcpdump dumpcap tshark; do
  command -v $t >/dev/null || fail "$t missing (scripts/install-deps.sh)"
done
NS2="sk-tkserv-$$"          # the server's namespace; $NS (lib.sh) is the client's
CADDR=10.78.0.1
PADDR=10.78.0.2
CEP=$CADDR                  # how --list writes the addresses before ":port"
PEP=$PADDR
if [ "${SK_TRACE_FAMILY:-4}" = 6 ]; then
  CADDR=fd00:78::1          # a unique local prefix, inside the test's namespaces only
  PADDR=fd00:78::2
  CEP="\[$CADDR\]"
  PEP="\[$PADDR\]"
fi
PORT=5001                   # scenarios a .. e on PORT .. PORT+4 (trace_peers.py)
keep() { # SK_TRACE_KEEP=DIR: what the test made, kept whether it passes or fails
  [ -n "${SK_TRACE_KEEP:-}" ] || return 0
  mkdir -p "$SK_TRACE_KEEP" && cp "$TMP"/* "$SK_TRACE_KEEP"/ 2>/dev/null
}
trap 'keep; cleanup; ip netns del "$NS2" 2>/dev/null' EXIT
nsx2() { ip netns exec "$NS2" "$@"; }

sweep_stale_ns
ip netns add "$NS" || fail "cannot create namespace $NS"
ip netns add "$NS2" || fail "cannot create namespace $NS2"
nsx ip link set lo up
nsx2 ip link set lo up
nsx ip link add vc type veth peer name vs netns "$NS2" || fail "cannot create the veth pair"
if [ "${SK_TRACE_FAMILY:-4}" = 6 ]; then
  nsx ip -6 addr add "$CADDR/64" dev vc nodad
  nsx2 ip -6 addr add "$PADDR/64" dev vs nodad
else
  nsx ip addr add "$CADDR/24" dev vc
  nsx2 ip addr add "$PADDR/24" dev vs
fi
nsx ip link set vc up
nsx2 ip link set vs up
if [ "${SK_TRACE_OFFLOAD:-on}" = off ]; then
  command -v ethtool >/dev/null || fail "ethtool missing (scripts/install-deps.sh)"
  nsx ethtool -K vc tso off gso off gro off >/dev/null || fail "ethtool -K vc failed"
  nsx2 ethtool -K vs tso off gso off gro off >/dev/null || fail "ethtool -K vs failed"
fi

# Captures: --immediate-mode so that tcpdump hands every packet over as it comes (with the
# ring buffer's timeout, a SIGINT loses what is still in the ring). In that mode each slot of
# the ring holds a whole snaplen, so the ring gets 32 MB (-B) and the snaplen 70,000 bytes,
# above the largest GSO segment (64 KB): a burst of a few hundred segments fits. -Z root keeps
# tcpdump writing into the test's private directory.
capture() { # NAME COMMAND...: starts the capture, its stderr in $TMP/NAME.err
  local name=$1; shift
  (nsrun "$@" >"$TMP/$name.cap.out" 2>"$TMP/$name.cap.err") &
  PIDS+=($!)
  CAP_PIDS+=($!)
}
CAP_PIDS=()
TD=(tcpdump --immediate-mode -B 32768 -s 70000 -Z root)
capture eth "${TD[@]}" -i vc -w "$TMP/eth.pcap"
capture sll "${TD[@]}" -i any -y LINUX_SLL -w "$TMP/sll.pcap"
capture sll2 "${TD[@]}" -i any -y LINUX_SLL2 -w "$TMP/sll2.pcap"
capture ng dumpcap -q -B 32 -s 70000 -i vc -w "$TMP/ng.pcapng"
wait_for "grep -q 'listening on' '$TMP/eth.cap.err' && grep -q 'listening on' '$TMP/sll.cap.err' &&
  grep -q 'listening on' '$TMP/sll2.cap.err' && grep -q Capturing '$TMP/ng.cap.err'" 10 ||
  fail "the captures did not start: $(cat "$TMP"/*.cap.err)"

(exec nsenter --net="/var/run/netns/$NS2" python3 "$HERE/trace_peers.py" server "$PADDR" "$PORT" \
  "$TMP/server.json" >"$TMP/server.out" 2>&1) &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
wait_for "grep -q listening '$TMP/server.out'" 5 || fail "the Python server did not start"
nsx python3 "$HERE/trace_peers.py" client "$PADDR" "$PORT" "$TMP/client.json" \
  >"$TMP/client.out" 2>&1 || fail "the Python client failed"
wait "$SERVER_PID" || fail "the Python server failed"
sleep 1 # past the capture rings' timeouts: the last ACK reaches every file
for p in "${CAP_PIDS[@]}"; do kill -INT "$p" 2>/dev/null; done
for p in "${CAP_PIDS[@]}"; do wait "$p" 2>/dev/null; done
grep -h 'dropped by kernel' "$TMP"/*.cap.err | grep -qv '^0 ' && fail "tcpdump dropped packets"
grep -q "dropped on interface 'vc': [0-9]*/0 " "$TMP/ng.cap.err" || fail "dumpcap dropped packets"

CAPS=(eth.pcap ng.pcapng sll.pcap sll2.pcap)
# The link types each tool was asked for, in tshark's numbers (frame.encap_type): Ethernet,
# Ethernet, Linux cooked (SLL), SLL2; trace_check.py checks them.
ENCAPS=(1 1 25 210)

# synack trace --json on each, checked; then the four summaries must be identical (the same
# segments, states and notes).
for i in "${!CAPS[@]}"; do
  c=${CAPS[$i]}
  "$BIN" trace --json "$TMP/$c.json" "$TMP/$c" >"$TMP/$c.trace.out" 2>"$TMP/$c.trace.err" ||
    fail "synack trace --json $c failed: $(cat "$TMP/$c.trace.err")"
  python3 "$HERE/trace_check.py" "$TMP/$c" "${ENCAPS[$i]}" "$PORT" "$TMP/client.json" \
    "$TMP/server.json" "$TMP/$c.json" "$TMP/$c.summary" >"$TMP/$c.check.out" 2>&1 || {
    cat "$TMP/$c.check.out"
    fail "synack trace on $c disagrees with the capture"
  }
  tail -n 1 "$TMP/$c.check.out"
done
for c in "${CAPS[@]:1}"; do
  diff -u "$TMP/eth.pcap.summary" "$TMP/$c.summary" >"$TMP/$c.diff.out" ||
    fail "synack reads $c differently from eth.pcap"
done

# The terminal (in English whatever the locale): --list has one row per connection with its
# ports, the bytes each way the peers sent and how it ended; the ladder of scenario a has its
# SYN with the client's ISN (as tshark reads it) and every state the close passes through;
# with --lang zh, the Chinese words for the handshake and the four-way close.
"$BIN" trace --lang en --list "$TMP/eth.pcap" >"$TMP/list.out" 2>"$TMP/list.err" ||
  fail "--list failed"
cat "$TMP/list.out"
list_row() { grep -E "$CEP:[0-9]+ +$PEP:$1 " "$TMP/list.out"; }
[ "$(grep -cE "$CEP:[0-9]+ +$PEP:" "$TMP/list.out")" -eq 5 ] || fail "--list: not 5 rows"
list_row $PORT | grep -qE " 3000 +5000 .*closed" || fail "--list: row a"
list_row $((PORT + 1)) | grep -q "refused" || fail "--list: row b"
list_row $((PORT + 2)) | grep -qE " 1000 +700 .*reset" || fail "--list: row c"
list_row $((PORT + 3)) | grep -q "closed" || fail "--list: row d"
list_row $((PORT + 4)) | grep -qE " 100 +0 .*closed" || fail "--list: row e"
cport=$(python3 -c "import json; print(json.load(open('$TMP/client.json'))['a']['client_port'])")
tshark -n -r "$TMP/eth.pcap" -Y "tcp.port == $cport" -T fields -e tcp.flags -e tcp.seq_raw \
  >"$TMP/a_segs.out" 2>/dev/null
isn=$(awk '$1 == "0x0002" {print $2}' "$TMP/a_segs.out")
[ -n "$isn" ] || fail "tshark finds no SYN from port $cport"
"$BIN" trace --lang en --verbose --conn 1 "$TMP/eth.pcap" >"$TMP/ladder.out" \
  2>"$TMP/ladder.err" || fail "synack trace --conn 1 failed"
# One row per segment: the rows are those with "seq (relative)" and "ack (relative)" (or "-").
rows=$(grep -cE '[0-9]+ \([0-9]+\) +([0-9]+ \([0-9]+\)|-) ' "$TMP/ladder.out")
[ "$rows" -eq "$(wc -l <"$TMP/a_segs.out")" ] ||
  fail "the ladder has $rows segment rows, tshark $(wc -l <"$TMP/a_segs.out") segments"
grep -qE " SYN .* $isn \(0\) " "$TMP/ladder.out" || fail "the ladder lacks the SYN row, ISN $isn"
grep -q "ISN $isn" "$TMP/ladder.out" || fail "the ladder does not explain the ISN $isn"
for s in SYN-SENT SYN-RECEIVED ESTABLISHED FIN-WAIT-1 CLOSE-WAIT LAST-ACK TIME-WAIT; do
  grep -q -- "$s" "$TMP/ladder.out" || fail "the ladder of scenario a never shows $s"
done
"$BIN" trace --lang zh --conn 1 "$TMP/eth.pcap" >"$TMP/ladder_zh.out" 2>&1 ||
  fail "--lang zh failed"
for w in 三次握手 四次挥手 TIME-WAIT; do
  grep -q "$w" "$TMP/ladder_zh.out" || fail "the Chinese ladder lacks $w"
done
head -n 20 "$TMP/ladder.out"

echo "PASS: synack trace agrees with tshark, the peers and RFC 9293 on pcap, pcapng, SLL, SLL2 (IPv${SK_TRACE_FAMILY:-4})"
