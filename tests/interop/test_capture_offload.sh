#!/usr/bin/env bash
# The capture synack's loop writes (--pcap) with the virtio-net header on (the default; also
# run by the mode entries of tests/CMakeLists.txt with --offload off and --threads 2): tshark
# must read it with no malformed packet and no bad IP, TCP, UDP or ICMP checksum in either
# direction, although the frames crossed the TAP with partial checksums (the loop completes
# them in the copy it captures). TSO/GSO super-segments, once the stack or the kernel sends
# them, are captured whole (as tcpdump on Linux shows them) with their IP total length, which
# tshark reads as one large segment. The data is a 5 MB echo and a 5 MB HTTP-like stream (the
# echo both ways), ping and UDP; the stats must show the header in use when offload is on.
source "$(dirname "$0")/lib.sh"
command -v tshark >/dev/null || fail "tshark missing (scripts/install-deps.sh)"
setup_ns
start_serve --port 7 --app echo --pcap "$TMP/synack.pcap"
random_file "$TMP/data" 5242880
nsx ping -c 2 -i 0.2 -s 3000 "$SADDR" >/dev/null || fail "ping failed"
nsx python3 "$(dirname "$0")/echo_client.py" "$SADDR" 7 "$TMP/data" 2 >"$TMP/client.out" 2>&1 ||
  fail "echo failed: $(cat "$TMP/client.out")"
nsx python3 -c "
import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
s.sendto(b'x' * 3000, ('$SADDR', 7)); s.recvfrom(65535)" || fail "udp failed"
vname=tap.vnet_hdr
[ "${SK_TEST_THREADS:-1}" -gt 1 ] && vname=t0.tap.vnet_hdr # a setting: per thread only
vnet=$(counter $vname)
if [ "${SK_TEST_OFFLOAD:-on}" != off ]; then
  [ "$vnet" -eq 10 ] || fail "offload on, but the TAP has no virtio-net header (tap.vnet_hdr $vnet)"
fi
stop_serve

TS=(tshark -n -r "$TMP/synack.pcap" -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE
    -o udp.check_checksum:TRUE -d tcp.port==7,data -d udp.port==7,data)
total=$("${TS[@]}" 2>/dev/null | wc -l)
[ "$total" -gt 100 ] || fail "capture has only $total packets" # fewer with GRO and TSO
bad=$("${TS[@]}" -Y "_ws.malformed || _ws.expert.severity == error" 2>/dev/null | wc -l)
[ "$bad" -eq 0 ] || fail "$bad malformed packets: $("${TS[@]}" -Y "_ws.malformed || _ws.expert.severity == error" | head -5)"
# A TCP checksum of 0xffff where the sum gives 0x0000 is the same value, one's complement -0
# (RFC 1624 §3: incremental updates produce it, as Linux's do on about one segment in 65536);
# tshark calls it bad, so that pair alone is let through.
pm0='tcp.checksum == 0xffff && tcp.checksum_calculated == 0x0000'
badsum=$("${TS[@]}" -Y "ip.checksum.status == 0 || (tcp.checksum.status == 0 && !($pm0)) || udp.checksum.status == 0 || icmp.checksum.status == 0" 2>/dev/null | wc -l)
[ "$badsum" -eq 0 ] || fail "$badsum packets with a bad checksum"
big=$("${TS[@]}" -Y "tcp.len > 1460" 2>/dev/null | wc -l)
echo "capture: $total packets, header ${vnet:-0} bytes, $big TCP segments longer than 1460 bytes (super-segments)"
echo "PASS: the loop's capture has no malformed packet and no bad checksum"
