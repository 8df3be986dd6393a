#!/usr/bin/env bash
# Path MTU discovery over IPv6 with the kernel as the router (RFC 8201, issue 13): the kernel
# routes from synack's link to a second namespace over a veth of MTU 1280 (the IPv6 minimum,
# RFC 8200 §5); radvd on synack's link makes the kernel synack's default router (RFC 4861
# §6.3.4). `synack connect` sends 2 MB to an echo server there: its first full-sized segments
# draw a Packet Too Big (MTU 1280) from the router, synack lowers its MSS to 1280 - 60 = 1220
# (RFC 8201 §4, RFC 9293 §3.7.1) and resends; 2 MB arrive and come back byte-exact. tshark
# reads the kernel-side capture: no malformed packet, no bad checksum from synack, and after
# the first Packet Too Big no packet of synack's toward the far address above 1280 bytes.
source "$(dirname "$0")/lib.sh"
command -v radvd >/dev/null || fail "radvd missing (scripts/install-deps.sh installs it)"
command -v dumpcap >/dev/null && command -v tshark >/dev/null || fail "tshark/dumpcap missing"
K6=fd00:77::1
S6=fd00:77::2
FAR_NS="${NS}-far"          # the namespace behind the 1280-byte link
FAR=fd00:bb::2
PY=/usr/bin/python3
setup_ns
cleanup_far() { ip netns del "$FAR_NS" 2>/dev/null; }
trap 'cleanup_far; cleanup' EXIT
nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.all.forwarding=1
nsx ip -6 addr add "$K6/64" dev "$TAP" nodad
# The far namespace behind a veth whose router end has MTU 1280 (the IPv6 minimum, RFC 8200
# §5). The far host's own end is 1500 and its route toward synack sends at most 1280 but
# advertises MSS 1440: so synack learns of the 1280-byte hop only from the router's Packet
# Too Big, as on a real path whose narrow link is in the middle.
ip netns add "$FAR_NS" || fail "cannot create $FAR_NS"
ip link add vr0 netns "$NS" type veth peer name vf0 netns "$FAR_NS"
nsx ip link set vr0 mtu 1280 up
nsx ip -6 addr add fd00:bb::1/64 dev vr0 nodad
ip netns exec "$FAR_NS" ip link set lo up
ip netns exec "$FAR_NS" ip link set vf0 mtu 1500 up
ip netns exec "$FAR_NS" ip -6 addr add "$FAR/64" dev vf0 nodad
ip netns exec "$FAR_NS" ip -6 route add default via fd00:bb::1 mtu 1280 advmss 1440

cat >"$TMP/radvd.conf" <<EOF
interface $TAP {
  AdvSendAdvert on;
  MinRtrAdvInterval 3;
  MaxRtrAdvInterval 4;
  AdvDefaultLifetime 600;
  prefix fd00:77::/64 { AdvOnLink on; AdvAutonomous off; };
};
EOF
(nsrun radvd -n -C "$TMP/radvd.conf" -p "$TMP/radvd.pid" -m stderr >"$TMP/radvd.out" 2>&1) &
PIDS+=($!)
dumpcap_start() {
  (nsrun dumpcap -q -i "$TAP" -w "$TMP/kernel.pcapng" >"$TMP/dumpcap.out" 2>"$TMP/dumpcap.err") &
  DUMPCAP_PID=$!
  PIDS+=("$DUMPCAP_PID")
  wait_for "grep -q Capturing '$TMP/dumpcap.err'" 10 || fail "dumpcap did not start"
}

# ---- PMTU discovery through the 1280-byte link ----
random_file "$TMP/far.bin" $((2 * 1024 * 1024))
# connect waits for DAD of its address and for the router's advertisement (its solicitation
# draws one), then goes through the router. Twice: with offloads (TSO super-segments, which
# the router cuts or refuses by their segment size) and without, so that the capture shows
# the segments themselves (a super-segment is one packet there): the capture is of that run.
for mode in on off; do
  rm -f "$TMP/far.sha" "$TMP/far.back"
  [ "$mode" = off ] && dumpcap_start
  (ip netns exec "$FAR_NS" "$PY" "$(dirname "$0")/echo_server.py" "$FAR" 5002 "$TMP/far.sha" \
    >"$TMP/far.out" 2>&1) &
  PIDS+=($!)
  wait_for "grep -q listening '$TMP/far.out'" 5 || fail "far server did not start"
  nsx "$BIN" connect --tap "$TAP" --addr "$SADDR/24" --addr "$S6/64" --mac "$SMAC" \
    --to "[$FAR]:5002" --send "$TMP/far.bin" --recv "$TMP/far.back" --timeout 20 \
    --offload "$mode" >"$TMP/connect-far.out" 2>"$TMP/connect-far.err" ||
    fail "connect through the 1280 link (offload $mode) failed: $(tail -3 "$TMP/connect-far.err")"
  wait_for "[ -s '$TMP/far.sha' ]" 10 || fail "far server did not finish"
  [ "$(cut -d' ' -f1 "$TMP/far.sha")" = "$(sha "$TMP/far.bin")" ] || fail "far server: bytes differ"
  [ "$(sha "$TMP/far.back")" = "$(sha "$TMP/far.bin")" ] || fail "far echo differs"
  echo "offload $mode: $(cat "$TMP/connect-far.err")"
done
echo "2 MB each way through a 1280-byte link: byte-exact"

# ---- the capture ----
sleep 0.3
kill -TERM "$DUMPCAP_PID"
wait "$DUMPCAP_PID" 2>/dev/null
TS=(tshark -n -r "$TMP/kernel.pcapng" -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE
    -d tcp.port==5002,data)
total=$("${TS[@]}" 2>/dev/null | wc -l)
[ "$total" -gt 2000 ] || fail "capture has only $total packets"
# An ICMPv6 error quotes as much of the packet as fits in 1280 bytes (RFC 4443 §2.4 (c)):
# tshark calls the quoted packet's Payload Length an error, so those are left out here.
JUDGE="(_ws.malformed || _ws.expert.severity == error) && !(icmpv6.type < 128)"
bad=$("${TS[@]}" -Y "$JUDGE" 2>/dev/null | wc -l)
[ "$bad" -eq 0 ] || fail "$bad malformed packets: $("${TS[@]}" -Y "$JUDGE" | head -5)"
mine="eth.src == $SMAC"
badsum=$("${TS[@]}" -Y "$mine && (tcp.checksum.status == 0 || udp.checksum.status == 0 || icmpv6.checksum.status == 0)" 2>/dev/null | wc -l)
[ "$badsum" -eq 0 ] || fail "$badsum packets from synack with a bad checksum"
ptb=$("${TS[@]}" -Y "icmpv6.type == 2 && icmpv6.mtu == 1280" 2>/dev/null | wc -l)
[ "$ptb" -ge 1 ] || fail "the router sent no Packet Too Big (the path never needed it?)"
# The initial window left at full size before the first PTB came back (the router answers
# each of those packets, rate-limited); after the last PTB every packet synack sends toward the
# far address fits 1280 bytes.
last=$("${TS[@]}" -Y "icmpv6.type == 2" -T fields -e frame.number 2>/dev/null | tail -1)
big=$("${TS[@]}" -Y "frame.number > $last && $mine && ipv6.dst == $FAR && ipv6.plen > 1240" 2>/dev/null | wc -l)
# Full-sized segments now fill the 1280-byte path exactly: Payload Length 1280 - 40 = 1240
# (MSS 1220 less the 12 bytes of timestamps, RFC 6691, plus the 32-byte TCP header).
small=$("${TS[@]}" -Y "frame.number > $last && $mine && ipv6.dst == $FAR && ipv6.plen == 1240" 2>/dev/null | wc -l)
[ "$small" -gt 1000 ] || fail "only $small packets of exactly 1280 bytes after the Packet Too Big"
[ "$big" -eq 0 ] || fail "$big packets toward $FAR above 1280 bytes after the last Packet Too Big"
echo "capture: $total packets, none malformed, $ptb Packet Too Big, then $small packets of exactly 1280 bytes and none above"
echo "PASS: 2 MB each way through a 1280-byte link after a Packet Too Big; capture clean"
