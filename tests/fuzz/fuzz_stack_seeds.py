#!/usr/bin/env python3
"""Writes hand-made fuzz_stack scripts (format: fuzz_stack_script.h) that take a connection
to the deep states: data both ways, TIME-WAIT, SACK recovery, a zero window, simultaneous
open, Ethernet with ARP; and raw IPv6 frames (echo, neighbour and router discovery, bad
extension headers, Packet Too Big) on both link types. The fuzzer starts from them; `make fuzz-soak` grows the rest.
Usage: fuzz_stack_seeds.py DIR"""
import os
import struct
import sys

SYN, FIN, RST, PSH, ACK, ECE, CWR = 0x02, 0x01, 0x04, 0x08, 0x10, 0x40, 0x80
MSS, WS, SACKP, TS, SACK = 0x01, 0x02, 0x04, 0x08, 0x10
SYN_OPTS = MSS | WS | SACKP | TS


def seg(flags, flow=0, sa=0, so=0, aa=0, ao=0, wnd=65535, opts=TS, mss=1460, ws=7, dlen=0,
        sacks=(), extra=0, frag=0, urg=0):
    b = bytearray(41)
    b[0], b[1], b[2] = flow, flags, sa
    struct.pack_into(">h", b, 3, so)
    b[5] = aa
    struct.pack_into(">hH", b, 6, ao, wnd)
    b[10] = opts | (SACK if sacks else 0)
    struct.pack_into(">HB", b, 11, mss, ws)
    b[18] = len(sacks)
    for i, (left, length) in enumerate(sacks):
        struct.pack_into(">hH", b, 19 + 4 * i, left, length)
    struct.pack_into(">HBBH", b, 35, dlen, extra, frag, urg)
    return bytes([0, len(b)]) + bytes(b)


def time(mode, amount):
    return bytes([1, 3, mode]) + struct.pack(">H", amount)


def app(call, slot=0, *args):
    b = bytes([call | slot << 4]) + bytes(args) + bytes(3 - len(args))
    return bytes([2, 4]) + b


def icmp(type_sel=0, code=4, mtu=576, anchor=0, off=0, flow=0):
    return bytes([5, 8, flow, type_sel, code]) + struct.pack(">HBh", mtu, anchor, off)


def app2(call, slot=0, x=0, y=0):
    return bytes([6, 6, call, slot]) + struct.pack(">HH", x, y)


ACCEPT, SEND, RECV, SHUTDOWN, CLOSE, ABORT, CONNECT, LISTEN = range(8)
NEXT_DEADLINE = 2

passive = [seg(SYN, opts=SYN_OPTS), seg(ACK), app(ACCEPT)]
active = [app(CONNECT, 0, 0, 0), seg(SYN | ACK, opts=SYN_OPTS)]

SCRIPTS = {
    # We close first: FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT, then 2*MSL.
    "passive-close-time-wait": (0x00, passive + [
        seg(ACK | PSH, dlen=100), app(RECV, 0, 20), app(SEND, 0, 50), seg(ACK),
        app(CLOSE), seg(ACK), seg(FIN | ACK), time(NEXT_DEADLINE, 3)]),
    # The peer closes first: CLOSE-WAIT, LAST-ACK.
    "active-peer-closes": (0x00, active + [
        app(SEND, 0, 100), seg(ACK | PSH, dlen=300), seg(FIN | ACK), app(RECV, 0, 40),
        app(CLOSE), seg(ACK)]),
    # Bulk data, a hole, three duplicate ACKs with SACK blocks: SACK recovery.
    "active-sack-recovery": (0x20, active + [
        app(SEND, 0, 255), app(SEND, 0, 255), app(SEND, 0, 255), time(0, 1),
        seg(ACK, aa=1, sacks=[(1460, 1460)]), seg(ACK, aa=1, sacks=[(1460, 2920)]),
        seg(ACK, aa=1, sacks=[(1460, 4380)]), seg(ACK, aa=1, sacks=[(1460, 5840)]),
        seg(ACK), time(0, 300), seg(ACK)]),
    # Without SACK: NewReno's fast recovery and a timeout.
    "active-newreno-rto": (0x24 | 0x08, active + [
        app(SEND, 0, 255), app(SEND, 0, 255), seg(ACK, aa=1, opts=0),
        seg(ACK, aa=1, opts=0), seg(ACK, aa=1, opts=0), seg(ACK, aa=1, opts=0),
        time(0, 1500), seg(ACK, opts=0), time(3, 5)]),
    # The peer's window closes: persist probes, then it opens again.
    "passive-zero-window": (0x00, passive + [
        app(SEND, 0, 200), seg(ACK, wnd=0), time(0, 1500), time(0, 3000), seg(ACK, wnd=0),
        seg(ACK, wnd=65535), time(0, 300)]),
    # Both SYNs cross; we close in SYN-RECEIVED (the cubic regression, in this format).
    "simultaneous-open-close": (0x00, [
        app(CONNECT, 0, 0, 0), app(SEND, 0, 2), seg(SYN, opts=SYN_OPTS), app(SHUTDOWN),
        seg(ACK, ao=-23), seg(ACK), time(NEXT_DEADLINE, 2)]),
    # Injection at an established connection: a RST, a SYN and data near RCV.NXT.
    "passive-injection": (0x00, passive + [
        seg(RST, sa=1, so=1), seg(RST | ACK, sa=1, so=0, dlen=10), seg(SYN, sa=1, so=-5),
        seg(ACK | PSH, sa=1, so=-10, dlen=20), seg(ACK | PSH, sa=2, dlen=20),
        seg(ACK, aa=0, ao=5000)]),
    # Fragmentation needed in the middle of a burst (RFC 1191), then a tiny MTU; a buffer
    # change and the other congestion control on the way.
    "active-icmp-frag-needed": (0x20, active + [
        app(SEND, 0, 255), app2(0, 0, 8192, 8192), icmp(mtu=576), seg(ACK, aa=1),
        icmp(mtu=68), app2(1, 0, 1), app(SEND, 0, 255), seg(ACK), time(0, 1200), seg(ACK)]),
    # Ethernet with ARP; data in fragments, out of order, with CE marks.
    "ethernet-fragments-ecn": (0x02 | 0x40, [
        seg(SYN | ECE | CWR, opts=SYN_OPTS), seg(ACK), app(ACCEPT),
        seg(ACK | PSH, dlen=1000, extra=0x04 | 0x40 | 0x01, frag=10),
        seg(ACK | PSH, sa=0, so=1460, dlen=500, extra=0x04 | 0x08 | 0x40 | 0x10, frag=3),
        seg(ACK | PSH, dlen=460, extra=0x01), app(RECV, 0, 255), app(SEND, 0, 30), seg(ACK),
        time(0, 100)]),
}


# ---- IPv6 (issue 13): raw frames, built here with their checksums (RFC 8200 §8.1). ----
OUR6 = bytes.fromhex("20010db8000000000000000000000001")
PEER6 = bytes.fromhex("20010db8000000000000000000000002")
OUR_MAC, PEER_MAC = bytes([2, 0, 0, 0, 0, 1]), bytes([2, 0, 0, 0, 0, 2])


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(">%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def ip6(src, dst, nh, payload, hlim=64):
    return struct.pack(">IHBB", 6 << 28, len(payload), nh, hlim) + src + dst + payload


def icmp6(src, dst, typ, code, body, hlim=64, ext=b"", ext_nh=None):
    msg = bytes([typ, code, 0, 0]) + body
    pseudo = src + dst + struct.pack(">IxxxB", len(msg), 58)
    msg = msg[:2] + struct.pack(">H", csum(pseudo + msg)) + msg[4:]
    if ext_nh is None:
        return ip6(src, dst, 58, msg, hlim)
    return ip6(src, dst, ext_nh, ext + msg, hlim)


def raw_frame(pkt, ether, dst_mac=OUR_MAC):
    f = (dst_mac + PEER_MAC + b"\x86\xdd" + pkt) if ether else pkt
    return bytes([3, 1 + len(f), 1]) + f


LL_PEER = bytes.fromhex("fe800000000000000000000000000002")
SOLICITED = bytes.fromhex("ff0200000000000000000001ff000001")
ECHO = icmp6(PEER6, OUR6, 128, 0, struct.pack(">HH", 0x1234, 1) + b"synack")
NS = icmp6(PEER6, SOLICITED, 135, 0, bytes(4) + OUR6 + bytes([1, 1]) + PEER_MAC, hlim=255)
NA = icmp6(PEER6, OUR6, 136, 0, bytes([0x60, 0, 0, 0]) + PEER6 + bytes([2, 1]) + PEER_MAC,
           hlim=255)
RA = icmp6(LL_PEER, bytes.fromhex("ff020000000000000000000000000001"), 134, 0,
           bytes([64, 0]) + struct.pack(">HII", 1800, 0, 0) + bytes([1, 1]) + PEER_MAC +
           bytes([5, 1, 0, 0]) + struct.pack(">I", 1400) +
           bytes([3, 4, 64, 0xc0]) + struct.pack(">III", 86400, 14400, 0) +
           bytes.fromhex("20010db8000100000000000000000000"), hlim=255)
DSTOPT_UNKNOWN = icmp6(PEER6, OUR6, 128, 0, bytes(4), ext=bytes([58, 0, 0x80, 4, 0, 0, 0, 0]),
                       ext_nh=60)
RH0 = icmp6(PEER6, OUR6, 128, 0, bytes(4), ext=bytes([58, 2, 0, 1, 0, 0, 0, 0]) +
            bytes.fromhex("20010db8000000000000000000000003"), ext_nh=43)
QUOTE = ip6(OUR6, bytes.fromhex("20010db8000200000000000000000099"), 17,
            struct.pack(">HHHH", 5000, 7, 16, 0) + b"x" * 8)
PTB = icmp6(PEER6, OUR6, 2, 0, struct.pack(">I", 1300) + QUOTE)
ALL_NODES_MAC = bytes([0x33, 0x33, 0, 0, 0, 1])
SOLICITED_MAC = bytes([0x33, 0x33, 0xff, 0, 0, 1])

SCRIPTS["ipv6-ethernet-nd"] = (0x02, [
    raw_frame(NS, True, SOLICITED_MAC), raw_frame(ECHO, True), raw_frame(NA, True),
    raw_frame(RA, True, ALL_NODES_MAC), time(0, 1500), raw_frame(DSTOPT_UNKNOWN, True),
    raw_frame(RH0, True), raw_frame(PTB, True), time(NEXT_DEADLINE, 3), raw_frame(ECHO, True)])
SCRIPTS["ipv6-bare-icmp6"] = (0x00, [
    raw_frame(ECHO, False), raw_frame(DSTOPT_UNKNOWN, False), raw_frame(RH0, False),
    raw_frame(PTB, False), raw_frame(ECHO, False)])


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, (setup, recs) in SCRIPTS.items():
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(bytes([setup]) + b"".join(recs))


if __name__ == "__main__":
    main()
