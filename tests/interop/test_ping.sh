#!/usr/bin/env bash
# The kernel pings synack: ARP resolves (the kernel learns synack's MAC), echo replies come
# back, also for requests large enough to be fragmented both ways (reassembly, fragmentation):
# the largest ICMP echo there is (65507 bytes of data: 45 fragments at MTU 1500), and one whose
# first fragment carries 40 bytes of Record Route option (ping -R; RFC 791 does not copy it
# into later fragments), which the kernel builds, not us.
source "$(dirname "$0")/lib.sh"
setup_ns
start_serve --port 7 --app echo --pcap "$TMP/serve.pcap"
nsx ping -c 5 -i 0.2 -W 2 "$SADDR" >"$TMP/ping.out" || fail "ping failed"
grep -q " 0% packet loss" "$TMP/ping.out" || fail "ping lost packets"
nsx ip neigh show "$SADDR" dev "$TAP" | grep -qi "$SMAC" || fail "kernel did not learn synack's MAC"
nsx ping -c 3 -i 0.2 -W 2 -s 5000 "$SADDR" >"$TMP/ping-big.out" || fail "fragmented ping failed"
[ "$(counter ip_reassembled)" -ge 3 ] || fail "no reassembly counted"
[ "$(counter ip_frags_out)" -ge 9 ] || fail "no fragments sent"
[ "$(counter icmp_out)" -ge 8 ] || fail "echo replies not counted"
nsx ping -c 2 -i 0.5 -W 3 -s 65507 "$SADDR" >"$TMP/ping-64k.out" || fail "64 KiB ping failed"
nsx ping -c 2 -i 0.5 -W 3 -R -s 3000 "$SADDR" >"$TMP/ping-rr.out" || fail "ping -R failed"
[ "$(counter ip_reassembled)" -ge 7 ] || fail "64 KiB and options pings not reassembled"
serve_stats >"$TMP/stats.txt"
if grep -E '^drop\.ip-(fragment|reassembly)' "$TMP/stats.txt"; then
  fail "a legitimate fragment was dropped"
fi
stop_serve # closes the capture
if command -v tshark >/dev/null; then
  # tshark, not our parser, says the kernel's first fragments carried 40 bytes of options.
  first=$(tshark -n -r "$TMP/serve.pcap" -Y "ip.src == $KADDR && ip.hdr_len == 60 && \
    ip.flags.mf == 1 && ip.frag_offset == 0" 2>/dev/null | wc -l)
  echo "first fragments with 40 bytes of options from the kernel (tshark): $first"
  [ "$first" -ge 2 ] || fail "ping -R sent no first fragment with options"
fi
echo "PASS: ping, ARP, fragmented ping, 64 KiB ping, ping -R with fragments"
