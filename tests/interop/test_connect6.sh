#!/usr/bin/env bash
# `synack connect` over IPv6 to a kernel (python) server (issue 13): 10 MB each way with loss
# and reordering on synack's side of the link, byte-exact both ways, a clean close; the capture
# reads in tshark as IPv6 with no malformed packet and good TCP checksums; a closed port answers
# RST over IPv6 and connect reports the refusal.
source "$(dirname "$0")/lib.sh"
K6=fd00:77::1
S6=fd00:77::2
setup_ns
nsx sysctl -qw net.ipv6.conf."$TAP".disable_ipv6=0
nsx ip -6 addr add "$K6/64" dev "$TAP" nodad
random_file "$TMP/data" 10485760
(nsrun python3 "$(dirname "$0")/echo_server.py" "$K6" 5001 "$TMP/server.sha" >"$TMP/server.out" 2>&1) &
PIDS+=($!)
wait_for "grep -q listening '$TMP/server.out'" 5 || fail "python server did not start"
# --addr twice, once per family; DAD takes a second before the address is used.
nsx "$BIN" connect --tap "$TAP" --addr "$SADDR/24" --addr "$S6/64" --to "[$K6]:5001" \
  --send "$TMP/data" --recv "$TMP/back" --loss 1% --reorder 1% --seed 7 --timeout 20 \
  --pcap "$TMP/c6.pcap" >"$TMP/connect.out" 2>"$TMP/connect.err" ||
  fail "connect over IPv6 failed: $(tail -3 "$TMP/connect.err")"
wait_for "[ -s '$TMP/server.sha' ]" 10 || fail "server did not finish"
want=$(sha "$TMP/data")
[ "$(cut -d' ' -f1 "$TMP/server.sha")" = "$want" ] || fail "server received different bytes"
[ "$(sha "$TMP/back")" = "$want" ] || fail "echo came back different"
echo "synack -> kernel over IPv6, 10 MB each way with 1% loss and 1% reordering: $(cat "$TMP/connect.err")"
if command -v tshark >/dev/null 2>&1; then
  bad=$(tshark -r "$TMP/c6.pcap" -o tcp.check_checksum:TRUE -d tcp.port==5001,data \
    -Y '(_ws.malformed || tcp.checksum.status == 2) && ipv6' 2>/dev/null | head -5)
  [ -z "$bad" ] || fail "malformed or bad checksums in the capture: $bad"
  n6=$(tshark -r "$TMP/c6.pcap" -Y 'ipv6 && tcp' 2>/dev/null | wc -l)
  [ "$n6" -gt 1000 ] || fail "only $n6 IPv6 TCP packets in the capture"
  echo "capture: $n6 IPv6 TCP packets, none malformed, checksums good"
fi
nsx "$BIN" connect --tap "$TAP" --addr "$SADDR/24" --addr "$S6/64" --to "[$K6]:5002" \
  >"$TMP/refused.out" 2>"$TMP/refused.err" && fail "connect to a closed port succeeded"
grep -q "connection refused" "$TMP/refused.err" || fail "no refusal message: $(cat "$TMP/refused.err")"
echo "PASS: connect over IPv6, 10 MB each way byte-exact through loss and reordering, refusal"
