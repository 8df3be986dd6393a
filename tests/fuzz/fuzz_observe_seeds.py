#!/usr/bin/env python3
"""Writes hand-made fuzz_observe inputs (format: the comment at the top of fuzz_observe.c): a
handshake with options, data both ways, a loss and its fast retransmission, a zero window and
its probe, and a four-way close, over IPv4 and IPv6; a refused connection; an abort; a
snaplen-cut segment; raw bytes. The fuzzer starts from them.
Usage: fuzz_observe_seeds.py DIR"""
import hashlib
import os
import struct
import sys

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
A, B = 0, 1
ISN_A, ISN_B = 1000, 5000
# MSS 1460, NOP WS 7, NOP NOP SACK-permitted (RFC 9293 §3.2, RFC 7323 §2.2, RFC 2018 §2).
SYN_OPTS = bytes([2, 4, 0x05, 0xb4, 1, 3, 3, 7, 1, 1, 4, 2])


def built(d, flags, seq, ack, wnd=1000, dlen=0, opts=b"", cut=0, step=1, v6=0, port=0):
    kind = d | (v6 << 1) | (port << 2)
    return (bytes([kind, flags]) + struct.pack(">IIHHB", seq & 0xffffffff, ack & 0xffffffff,
                                               wnd, dlen, len(opts)) + opts + bytes([cut, step]))


def sack(left, right):
    return bytes([1, 1, 5, 10]) + struct.pack(">II", left, right)


def connection(v6):
    a, b = ISN_A + 1, ISN_B + 1
    s = [built(A, SYN, ISN_A, 0, 64240, opts=SYN_OPTS, v6=v6),
         built(B, SYN | ACK, ISN_B, a, 65160, opts=SYN_OPTS, v6=v6),
         built(A, ACK, a, b, 502, v6=v6)]
    for i in range(4):
        s.append(built(A, ACK, a + 1000 * i, b, 502, dlen=1000, v6=v6))
    for _ in range(4):  # the first segment lost: duplicate ACKs with SACK
        s.append(built(B, ACK, b, a, 500, opts=sack(a + 1000, a + 4000), v6=v6))
    s.append(built(A, ACK, a, b, 502, dlen=1000, v6=v6))        # fast retransmission
    s.append(built(B, ACK, b, a + 4000, 0, v6=v6))              # zero window
    s.append(built(A, ACK, a + 4000, b, 502, dlen=1, step=200, v6=v6))  # probe
    s.append(built(B, ACK, b, a + 4000, 500, v6=v6))            # window open
    s.append(built(B, PSH | ACK, b, a + 4000, 500, dlen=300, v6=v6))
    s.append(built(A, FIN | ACK, a + 4000, b + 300, 502, v6=v6))
    s.append(built(B, ACK, b + 300, a + 4001, 500, v6=v6))
    s.append(built(B, FIN | ACK, b + 300, a + 4001, 500, v6=v6))
    s.append(built(A, ACK, a + 4001, b + 301, 502, v6=v6))
    return b"".join(s)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    seeds = [
        b"\x00" + connection(0),
        b"\x00" + connection(1),
        b"\x03" + connection(0) + connection(1),
        b"\x00" + built(A, SYN, ISN_A, 0) + built(B, RST | ACK, 0, ISN_A + 1),
        b"\x00" + connection(0)[:200] + built(A, RST, ISN_A + 1, 0),
        b"\x00" + built(A, ACK, 77, 88, dlen=1000, cut=200),
        b"\xa0" + connection(0),
        b"\x00" + bytes([0x80, 0, 20, 0]) + bytes([0x45] + [0] * 19),
    ]
    for s in seeds:
        with open(os.path.join(out, hashlib.sha1(s).hexdigest()), "wb") as f:
            f.write(s)


if __name__ == "__main__":
    main()
