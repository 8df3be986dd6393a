#!/usr/bin/env python3
"""Reads an RFC 864 character generator stream until TOTAL bytes have arrived.

usage: stream_client.py ADDR PORT TOTAL FLOOR

Every byte is checked against RFC 864's lines, built here: line i is the 72 printable
characters (0x20..0x7e, 95 of them) starting at the (i mod 95)th, then CR LF. The stream is
periodic with 95 lines of 74 bytes, so one period compared at the right offset checks all of it.
Once a second it prints the bytes received in that second and in all; an interval that moves
fewer than FLOOR bytes is a stall: it says so and exits 1. Exit 0 after TOTAL bytes, all right.
"""
import socket
import sys
import time

LINE = 74
PERIOD = 95 * LINE


def rfc864_period():
    out = bytearray()
    for i in range(95):
        out += bytes(0x20 + (i + k) % 95 for k in range(72)) + b"\r\n"
    return bytes(out)


def main():
    addr, port, total, floor = sys.argv[1], int(sys.argv[2]), int(float(sys.argv[3])), int(sys.argv[4])
    chunk = 1 << 18
    period = rfc864_period()
    pattern = period * (chunk // PERIOD + 2)
    buf = bytearray(chunk)
    view = memoryview(buf)
    s = socket.create_connection((addr, port), timeout=10)
    s.settimeout(0.2)  # wake at least five times a second, data or not, to judge the interval
    got = 0
    start = last = time.monotonic()
    at_last = 0
    second = 0
    while got < total:
        try:
            n = s.recv_into(view, chunk)
        except socket.timeout:
            n = -1
        if n == 0:
            print(f"FAIL: the server closed after {got} bytes", flush=True)
            return 1
        if n > 0:
            off = got % PERIOD
            if buf[:n] != pattern[off:off + n]:  # copies and memcmp: cheap per byte
                print(f"FAIL: bytes {got}..{got + n} are not RFC 864's lines", flush=True)
                return 1
            got += n
        now = time.monotonic()
        if now - last >= 1.0:
            second += 1
            moved = got - at_last
            print(f"second {second}: {moved} bytes ({moved * 8 / (now - last) / 1e9:.2f} Gbit/s), "
                  f"{got} in all", flush=True)
            if moved < floor:
                print(f"FAIL: stalled: {moved} bytes in second {second} (floor {floor}) "
                      f"after {got} bytes", flush=True)
                return 1
            last, at_last = now, got
    secs = time.monotonic() - start
    print(f"OK: {got} bytes of RFC 864 lines in {secs:.1f} s ({got * 8 / secs / 1e9:.2f} Gbit/s)",
          flush=True)
    s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
