#!/usr/bin/env python3
"""Kernel side of bench/loss_table.sh: one TCP connection for SECONDS, counting the bytes
that were delivered in that time.

usage: loss_client.py read|write ADDR PORT SECONDS

read:  reads what the server sends (synack's chargen); delivered = bytes read by the
       application within SECONDS of the connect call.
write: writes as fast as the socket takes (to synack's discard) with the kernel's CUBIC
       chosen for this socket (setsockopt TCP_CONGESTION "cubic"); delivered = what the
       receiver acknowledged within SECONDS (tcpi_bytes_acked of TCP_INFO, RFC 4898's
       HCThruOctetsAcked), not what sits unsent in the socket buffer.
Prints one line: "bytes N seconds S retrans R" (R: the kernel's tcpi_total_retrans, for
write; 0 for read).
"""
import select
import socket
import struct
import sys
import time

# struct tcp_info (linux/tcp.h): 8 one-byte fields, then 24 u32 up to tcpi_total_retrans
# (offset 100), then u64 tcpi_pacing_rate, tcpi_max_pacing_rate, tcpi_bytes_acked (offset 120).
TCPI_TOTAL_RETRANS = 100
TCPI_BYTES_ACKED = 120


def tcp_info(s):
    raw = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    acked = struct.unpack_from("=Q", raw, TCPI_BYTES_ACKED)[0]
    retrans = struct.unpack_from("=I", raw, TCPI_TOTAL_RETRANS)[0]
    return acked, retrans


def main():
    mode, addr, port, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"cubic")
    start = time.monotonic()
    end = start + secs
    s.settimeout(secs)
    try:
        s.connect((addr, port))
    except OSError as e:
        print("bytes 0 seconds %.3f retrans 0 (connect: %s)" % (secs, e))
        return 0
    s.setblocking(False)
    got = 0
    block = b"x" * (1 << 16)
    buf = bytearray(1 << 18)
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        if mode == "read":
            r, _, _ = select.select([s], [], [], left)
            if r:
                n = s.recv_into(buf)
                if n == 0:
                    break
                got += n
        else:
            _, w, _ = select.select([], [s], [], left)
            if w:
                try:
                    s.send(block)
                except BlockingIOError:
                    pass
    retrans = 0
    if mode == "write":
        got, retrans = tcp_info(s)
    print("bytes %d seconds %.3f retrans %d" % (got, secs, retrans))
    s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
