#!/usr/bin/env bash
# IPv6 with the kernel as the peer (issue 13): synack serve with --addr6 forms a link-local
# address (RFC 7217, after DAD), answers `ping -6` to it and to its static address; neighbour
# discovery works both ways: the kernel's neighbour table shows synack's MAC as REACHABLE
# (synack answered its solicitation with a solicited advertisement), and synack resolved the
# kernel's address itself (its solicitation out, the kernel's advertisement in, counted).
source "$(dirname "$0")/lib.sh"
K6=fd00:77::1
S6=fd00:77::2
setup_ns
nsx sysctl -qw net.ipv6.conf."$TAP".disable_ipv6=0
nsx ip -6 addr add "$K6/64" dev "$TAP" nodad
start_serve --port 7 --app echo --addr6 "$S6/64"
# DAD: one solicitation, then RetransTimer (1 s) without an answer.
sleep 1.5
nsx ping -6 -c 5 -i 0.2 -W 2 "$S6" >"$TMP/ping6.out" || fail "ping -6 to the static address failed"
grep -q " 0% packet loss" "$TMP/ping6.out" || fail "ping -6 lost packets"
nsx ip -6 neigh show "$S6" dev "$TAP" >"$TMP/neigh.out"
grep -qi "$SMAC" "$TMP/neigh.out" || fail "kernel did not learn synack's MAC over ND"
grep -q "REACHABLE" "$TMP/neigh.out" || fail "kernel's entry for synack is not REACHABLE"
[ "$(counter nd_na_out)" -ge 1 ] || fail "synack answered no solicitation"
[ "$(counter icmp6_out)" -ge 5 ] || fail "echo replies not counted"
# synack's link-local address: the one answering all-nodes that is not the kernel's own
# (answering it, synack resolves the kernel's link-local address).
own=$(nsx ip -6 -o addr show dev "$TAP" scope link | awk '{print $4}' | cut -d/ -f1)
nsx ping -6 -c 2 -i 0.3 -W 2 "ff02::1%$TAP" >"$TMP/mcast.out" 2>&1
ll=$(grep -o 'from fe80:[0-9a-f:]*' "$TMP/mcast.out" | awk '{print $2}' | sort -u |
  grep -v "^$own\$" | head -n 1)
[ -n "$ll" ] || fail "no link-local address of synack answered ff02::1"
echo "synack's link-local address: $ll"
nsx ping -6 -c 3 -i 0.2 -W 2 "$ll%$TAP" >"$TMP/ping6-ll.out" || fail "ping -6 to $ll failed"
nsx ip -6 neigh show "$ll" dev "$TAP" | grep -qi "$SMAC" || fail "no ND entry for $ll"
[ "$(counter nd_rs_out)" -ge 1 ] || fail "synack sent no router solicitation"
# synack resolves the kernel: the kernel's solicitation left synack a STALE entry for it, the
# echo replies moved it to DELAY, and DELAY_FIRST_PROBE_TIME (5 s, RFC 4861 §7.3.3) later a
# unicast solicitation probes it; the replies to the link-local and multicast pings resolved
# the kernel's link-local address from scratch (a multicast solicitation).
wait_for '[ "$(counter nd_na_in)" -ge 2 ]' 8 || fail "synack took no advertisement from the kernel"
[ "$(counter nd_ns_out)" -ge 4 ] || fail "synack sent no solicitation beyond DAD's two"
# TCP over this IPv6 layer (the transports are the addr branch's): the echo app, kernel as
# the client, to the static address.
head -c 100000 /dev/urandom >"$TMP/blob"
nsx timeout 10 python3 "$(dirname "$0")/echo_client.py" "$S6" 7 "$TMP/blob" \
  >"$TMP/echo6.out" 2>&1 || fail "TCP echo over IPv6 failed"
# And with nc -6 (netcat-openbsd; -N shuts the write side at the end of input, so that the
# echo ends with synack's FIN): the same bytes come back.
nsx timeout 10 nc -6 -N "$S6" 7 <"$TMP/blob" >"$TMP/nc6.out" 2>"$TMP/nc6.err" ||
  fail "nc -6 echo failed: $(cat "$TMP/nc6.err")"
[ "$(sha "$TMP/nc6.out")" = "$(sha "$TMP/blob")" ] || fail "nc -6: the echo differs"
serve_stats >"$TMP/stats.txt"
if grep -E '^drop\.(nd-invalid|nd-malformed|icmp6-checksum)' "$TMP/stats.txt"; then
  fail "the kernel's ND or ICMPv6 was refused"
fi
stop_serve
echo "PASS: ping -6 static and link-local, ND both ways (kernel REACHABLE), RS sent, TCP echo (python, nc -6)"
