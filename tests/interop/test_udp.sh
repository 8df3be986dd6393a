#!/usr/bin/env bash
# UDP echo from the kernel: small datagrams, a 20000-byte one (fragmented both ways), and a
# datagram to a closed port answered with ICMP port unreachable (the kernel's connected UDP
# socket reports ECONNREFUSED).
source "$(dirname "$0")/lib.sh"
setup_ns
start_serve --port 7 --app echo
nsx python3 - "$SADDR" >"$TMP/udp.out" 2>&1 <<'PY' || fail "udp: $(cat "$TMP/udp.out")"
import os, socket, sys
host = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for n in (1, 100, 1472, 1473, 20000):
    data = os.urandom(n)
    s.sendto(data, (host, 7))
    got, peer = s.recvfrom(65535)
    assert got == data and peer == (host, 7), "echo of %d bytes differs" % n
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
c.settimeout(2)
c.connect((host, 9))
c.send(b"anyone?")
try:
    c.recv(100)
    raise SystemExit("closed port answered")
except ConnectionRefusedError:
    pass
print("udp ok")
PY
[ "$(counter drop.udp-no-socket)" -eq 1 ] || fail "udp-no-socket not counted"
[ "$(counter udp_out)" -eq 5 ] || fail "udp_out is not 5"
stop_serve
echo "PASS: UDP echo, fragmented UDP, port unreachable"
