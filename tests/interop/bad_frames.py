"""Hand-built bad frames, sent from the kernel side of the TAP with an AF_PACKET socket.
Usage: bad_frames.py IFNAME SYNACK_MAC KERNEL_IP SYNACK_IP PHASE
PHASE "small" sends every frame that fits the MTU; "oversize" sends one 3000-byte frame (the
caller raises the interface MTU first, or the kernel refuses it)."""
import socket
import struct
import sys

ifname, smac, kip, sip, phase = sys.argv[1:6]
dst = bytes.fromhex(smac.replace(":", ""))
src = bytes.fromhex(open("/sys/class/net/%s/address" % ifname).read().strip().replace(":", ""))
kaddr, saddr = socket.inet_aton(kip), socket.inet_aton(sip)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))


def csum(b):
    if len(b) % 2:
        b += b"\0"
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while t >> 16:
        t = (t & 0xFFFF) + (t >> 16)
    return ~t & 0xFFFF


def eth(payload, ethertype=0x0800, to=dst):
    s.send(to + src + struct.pack("!H", ethertype) + payload)


def ip(proto, payload, ident=1, frag=0, ver=4, total=None, bad_csum=False):
    tl = 20 + len(payload) if total is None else total
    h = struct.pack("!BBHHHBBH4s4s", ver << 4 | 5, 0, tl, ident, frag, 64, proto, 0, kaddr, saddr)
    c = csum(h) ^ (0x5555 if bad_csum else 0)
    return h[:10] + struct.pack("!H", c) + h[12:] + payload


def l4_csum(proto, seg):
    return csum(kaddr + saddr + struct.pack("!BBH", 0, proto, len(seg)) + seg)


def tcp_syn(bad=False):
    seg = struct.pack("!HHIIBBHHH", 40000, 7, 1000, 0, 5 << 4, 0x02, 65535, 0, 0)
    c = l4_csum(6, seg) ^ (0x1111 if bad else 0)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def udp(data, bad=False):
    seg = struct.pack("!HHHH", 40000, 7, 8 + len(data), 0) + data
    c = l4_csum(17, seg) ^ (0x2222 if bad else 0)
    return seg[:6] + struct.pack("!H", c) + seg[8:]


MF = 0x2000
if phase == "oversize":
    eth(ip(17, udp(b"o" * 2972)))
    sys.exit(0)

eth(ip(6, tcp_syn())[:10])                                  # ip-truncated
eth(ip(6, tcp_syn(), ver=6))                                # ip-version
eth(ip(6, tcp_syn(), bad_csum=True))                        # ip-checksum
eth(ip(6, tcp_syn(), total=200))                            # ip-total-length
eth(ip(6, tcp_syn(bad=True)))                               # tcp-checksum
eth(ip(17, udp(b"hello", bad=True)))                        # udp-checksum
icmp = struct.pack("!BBHHH", 8, 0, 0x1234, 1, 1) + b"ping"
eth(ip(1, icmp))                                            # icmp-checksum
eth(ip(253, b"unknown protocol"))                           # ip-protocol (+ ICMP unreachable)
eth(ip(6, tcp_syn()), to=b"\x02\x99\x99\x99\x99\x99")       # link-not-for-us
eth(b"\0" * 46, ethertype=0x88B5)                           # link-ethertype
arp = struct.pack("!HHBBH", 1, 0x0800, 7, 4, 1) + b"\0" * 22
eth(arp, ethertype=0x0806)                                  # arp-malformed
# Overlapping fragments: [0, 16) then [8, 24): the whole datagram is dropped.
body = udp(b"x" * 40)
eth(ip(17, body[:16], ident=100, frag=MF))
eth(ip(17, body[8:24], ident=100, frag=MF | 1))             # ip-fragment-overlap
# The same fragment twice: the copy alone is dropped.
eth(ip(17, body[:16], ident=101, frag=MF))
eth(ip(17, body[:16], ident=101, frag=MF))                  # ip-fragment-duplicate
# A fragment reaching past 65535 bytes (the "ping of death").
eth(ip(1, b"d" * 16, ident=102, frag=8191))                 # ip-fragment-invalid
# A flood of first fragments that never complete: 2000 datagrams of 1480 bytes.
chunk = b"f" * 1480
for i in range(2000):
    eth(ip(17, chunk, ident=1000 + i, frag=MF))             # ip-reassembly-limit
print("sent")
