#!/usr/bin/env bash
# A router advertisement from the kernel's side (radvd, Debian's) gives synack a SLAAC address
# (RFC 4862 §5.5.3: the advertised /64 and an RFC 7217 identifier, after DAD) and a default
# router. The address is found from synack's answer to an all-nodes echo request sent from an
# address of the advertised prefix (RFC 6724 picks the SLAAC address as the source: rule 2
# prefers a global address for a global destination, rule 8 the longest matching prefix),
# then pinged directly; an echo from outside every on-link prefix is answered through the
# default router (the kernel, whose link-local address synack resolves).
source "$(dirname "$0")/lib.sh"
command -v radvd >/dev/null || { echo "SKIP: radvd not installed"; exit 77; }
K6=fd00:78::1
FAR=fd00:99::1
setup_ns
nsx sysctl -qw net.ipv6.conf."$TAP".disable_ipv6=0
nsx sysctl -qw net.ipv6.conf.all.forwarding=1 # radvd advertises only from a router
nsx ip -6 addr add "$K6/64" dev "$TAP" nodad
nsx ip -6 addr add "$FAR/128" dev lo
cat >"$TMP/radvd.conf" <<EOF
interface $TAP {
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 4;
    AdvDefaultLifetime 600;
    prefix fd00:78::/64 { AdvOnLink on; AdvAutonomous on; };
};
EOF
start_serve --port 7 --app echo --addr6 fd00:77::2/64
(nsrun radvd -n -C "$TMP/radvd.conf" -p "$TMP/radvd.pid" -m stderr \
  >"$TMP/radvd.out" 2>"$TMP/radvd.err") &
PIDS+=($!)
# synack's router solicitation (or radvd's periodic advertisement), then DAD of the address.
wait_for '[ "$(counter nd_ra_in)" -ge 1 ]' 10 || fail "synack took no router advertisement"
sleep 1.5
nsx ping -6 -c 2 -i 0.3 -W 2 -I "$K6" "ff02::1%$TAP" >"$TMP/mcast.out" 2>&1
slaac=$(grep -o 'from fd00:78:[0-9a-f:]*' "$TMP/mcast.out" |
  awk '{sub(/:$/, "", $2); print $2}' | sort -u | grep -v "^$K6\$" | head -n 1)
[ -n "$slaac" ] || fail "no SLAAC address of synack answered from the advertised prefix"
echo "synack's SLAAC address: $slaac"
nsx ping -6 -c 3 -i 0.2 -W 2 "$slaac" >"$TMP/ping-slaac.out" || fail "ping -6 $slaac failed"
# From outside every on-link prefix: the reply goes through the default router.
nsx ping -6 -c 3 -i 0.2 -W 2 -I "$FAR" "$slaac" >"$TMP/ping-far.out" ||
  fail "no answer through the default router"
serve_stats >"$TMP/stats.txt"
if grep -E '^drop\.(nd-invalid|nd-malformed|out-no-route)' "$TMP/stats.txt"; then
  fail "an advertisement was refused or a reply had no route"
fi
stop_serve
echo "PASS: radvd's advertisement gave synack a SLAAC address and a default router"
