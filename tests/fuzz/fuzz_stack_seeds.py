#!/usr/bin/env python3
"""Writes hand-made fuzz_stack scripts (format: fuzz_stack_script.h) that take a connection
to the deep states: data both ways, TIME-WAIT, SACK recovery, a zero window, simultaneous
open, Ethernet with ARP. The fuzzer starts from them; `make fuzz-soak` grows the rest.
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


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, (setup, recs) in SCRIPTS.items():
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(bytes([setup]) + b"".join(recs))


if __name__ == "__main__":
    main()
