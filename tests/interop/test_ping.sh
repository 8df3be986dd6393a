#!/usr/bin/env bash
# The kernel pings synack: ARP resolves (the kernel learns synack's MAC), echo replies come
# back, also for requests large enough to be fragmented both ways (reassembly, fragmentation).
source "$(dirname "$0")/lib.sh"
setup_ns
start_serve --port 7 --app echo
nsx ping -c 5 -i 0.2 -W 2 "$SADDR" >"$TMP/ping.out" || fail "ping failed"
grep -q " 0% packet loss" "$TMP/ping.out" || fail "ping lost packets"
nsx ip neigh show "$SADDR" dev "$TAP" | grep -qi "$SMAC" || fail "kernel did not learn synack's MAC"
nsx ping -c 3 -i 0.2 -W 2 -s 5000 "$SADDR" >"$TMP/ping-big.out" || fail "fragmented ping failed"
[ "$(counter ip_reassembled)" -ge 3 ] || fail "no reassembly counted"
[ "$(counter ip_frags_out)" -ge 9 ] || fail "no fragments sent"
[ "$(counter icmp_out)" -ge 8 ] || fail "echo replies not counted"
stop_serve
echo "PASS: ping, ARP, fragmented ping"
