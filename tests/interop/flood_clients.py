#!/usr/bin/env python3
"""Kernel-side clients for test_syn_flood.sh: established connections that keep transferring
while a flood command runs, and new connections attempted during it.

usage: flood_clients.py HOST PORT SERVER_PID CONNS BEFORE_S AFTER_S NEW -- FLOOD_CMD...

CONNS connections to an echo server each keep at most WINDOW bytes in flight and check every
echoed byte against what they sent (a fixed pseudo-random block, repeated). Phases: BEFORE_S
seconds of transfer, then FLOOD_CMD runs (its output is kept in flood.out beside this run's
report) while NEW fresh connections are attempted, one every flood-duration/NEW seconds (each:
connect, send 64 bytes, read them back, compare, close), then AFTER_S seconds more.
The server's RSS (VmRSS of SERVER_PID) is read before the flood and at the end.

Prints one "name value" line per result, for the shell test to check:
  goodput_before_MBps, goodput_during_MBps, goodput_after_MBps   (all connections together)
  stalled_during, stalled_after     connections that moved no byte in that phase
  stuck_during, stuck_after         of those, the ones whose kernel was not backing off after
                                    losses (RFC 6298 §5.5): waiting for synack
  corrupt                           connections whose echo differed from what they sent
  broken                            connections that ended (error, EOF) before the end
  new_ok, new_failed                the fresh connections
  rss_before_kB, rss_after_kB
  flood_seconds
"""
import os
import random
import selectors
import socket
import struct
import subprocess
import sys
import threading
import time

WINDOW = 16 * 1024   # bytes in flight per connection: the echo server reads only what it can send
BLOCK = 1 << 16
# The established connections' congestion control, named rather than the host's default
# (net.ipv4.tcp_congestion_control, which a namespace inherits). With BBR (v1, Linux's
# tcp_bbr.c) the flood's hundreds of thousands of drops at the TAP queue can leave a
# connection's bandwidth estimate at a few kbit/s: the kernel then paces one segment every
# few seconds after the flood, with its data unacknowledged, no RTO back-off and synack idle
# (seen: "bbr:(bw:2760bps) pacing_rate 2728bps", synack with nothing queued and its window
# open), which the check below took for a connection waiting for synack. CUBIC, the kernel's
# built-in default, does not pace (no fq qdisc here): a kernel holding data back is in RTO
# back-off (RFC 6298 §5.5), which the check recognises.
CLIENT_CC = b"cubic"
FLOOD_S = 10.0       # the flood's planned length, to spread the fresh connections over it


class Conn:
    def __init__(self, sock, block):
        self.sock = sock
        self.block = block
        self.sent = 0       # bytes sent; the stream is block repeated
        self.got = 0        # bytes echoed back and checked
        self.corrupt = False
        self.broken = None

    def pattern(self, off, n):
        """n bytes of the stream from offset off."""
        out = bytearray()
        while n > 0:
            i = off % BLOCK
            k = min(n, BLOCK - i)
            out += self.block[i:i + k]
            off += k
            n -= k
        return bytes(out)


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def tcp_info(sock):
    """The kernel's view of a connection (struct tcp_info, linux/tcp.h): whether it waits out a
    retransmission timeout (its segments were lost, it has unacknowledged data and has backed
    off, RFC 6298 §5.5) rather than for synack; and a line that says so."""
    b = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    retransmits, probes, backoff = b[2], b[3], b[4]
    rto_us, _, _, _, unacked, _, lost = struct.unpack_from("7I", b, 8)
    last_data_recv_ms = struct.unpack_from("I", b, 52)[0]
    cwnd = struct.unpack_from("I", b, 80)[0]
    in_rto = unacked > 0 and backoff > 0 and probes == 0
    return in_rto, ("port %d: kernel unacked %d lost %d retransmits %d backoff %d probes %d "
                    "rto %d ms cwnd %d, last data received %d ms ago%s" % (
                        sock.getsockname()[1], unacked, lost, retransmits, backoff, probes,
                        rto_us // 1000, cwnd, last_data_recv_ms,
                        ": the kernel backs off" if in_rto else ""))


def stalls(conns, moved, phase):
    """Connections that moved nothing in a phase: (all of them, those not in the kernel's
    retransmission back-off, which wait for synack)."""
    n = stuck = 0
    for c, m in zip(conns, moved):
        if m == 0 and not c.broken:
            in_rto, line = tcp_info(c.sock)
            n += 1
            stuck += not in_rto
            print("moved nothing %s the flood: %s" % (phase, line), file=sys.stderr)
            # The kernel's whole view of it (timers, window, pacing), for the diagnosis.
            ss = subprocess.run(["ss", "-tino", "sport = :%d" % c.sock.getsockname()[1]],
                                capture_output=True, text=True).stdout
            print("  ss: " + " ".join(ss.split("\n")[1:]).strip(), file=sys.stderr)
    return n, stuck


def pump(conns, stop, counted):
    """Moves bytes on every connection until stop is set; counted[i] adds the bytes echoed."""
    sel = selectors.DefaultSelector()
    for i, c in enumerate(conns):
        c.sock.setblocking(False)
        sel.register(c.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, i)
    while not stop.is_set():
        for key, ev in sel.select(0.2):
            c = conns[key.data]
            if c.broken:
                continue
            try:
                if ev & selectors.EVENT_READ:
                    b = c.sock.recv(1 << 16)
                    if not b:
                        c.broken = "EOF"
                        sel.unregister(c.sock)
                        continue
                    if b != c.pattern(c.got, len(b)):
                        c.corrupt = True
                    c.got += len(b)
                    counted[0][key.data] += len(b)
                if ev & selectors.EVENT_WRITE and c.sent - c.got < WINDOW:
                    n = min(WINDOW - (c.sent - c.got), 16384)
                    c.sent += c.sock.send(c.pattern(c.sent, n))
            except (BlockingIOError, InterruptedError):
                pass
            except OSError as e:
                c.broken = repr(e)
                sel.unregister(c.sock)
        # Only ask to write where there is room in the window, or select spins.
        for i, c in enumerate(conns):
            if c.broken:
                continue
            want = selectors.EVENT_READ
            if c.sent - c.got < WINDOW:
                want |= selectors.EVENT_WRITE
            if sel.get_key(c.sock).events != want:
                sel.modify(c.sock, want, i)


def fresh(host, port, i, results):
    """One new connection: connect, send 64 bytes, read them back, close."""
    msg = ("fresh connection %03d " % i).encode().ljust(64, b".")
    try:
        s = socket.create_connection((host, port), timeout=20)
        s.sendall(msg)
        got = b""
        while len(got) < len(msg):
            b = s.recv(4096)
            if not b:
                break
            got += b
        s.close()
        results[i] = "ok" if got == msg else "echo differs: %r" % got[:80]
    except OSError as e:
        results[i] = repr(e)


def main():
    argv = sys.argv[1:]
    sep = argv.index("--")
    host, port, pid, nconn, before_s, after_s, nnew = argv[:sep]
    flood_cmd = argv[sep + 1:]
    port, pid, nconn, nnew = int(port), int(pid), int(nconn), int(nnew)
    before_s, after_s = float(before_s), float(after_s)
    rnd = random.Random(10)
    conns = []
    for _ in range(nconn):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, CLIENT_CC)
        s.settimeout(10)
        s.connect((host, port))
        conns.append(Conn(s, bytes(rnd.getrandbits(8) for _ in range(BLOCK))))
    counted = [[0] * nconn]
    stop = threading.Event()
    pumper = threading.Thread(target=pump, args=(conns, stop, counted))
    pumper.start()

    def phase(seconds):
        counted[0] = [0] * nconn
        time.sleep(seconds)
        return counted[0]

    out = {}
    try:
        moved = phase(before_s)
        out["goodput_before_MBps"] = "%.2f" % (sum(moved) / before_s / 1e6)
        out["rss_before_kB"] = rss_kb(pid)

        counted[0] = [0] * nconn
        t0 = time.monotonic()
        flood = subprocess.Popen(flood_cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        flood_end = {}

        def flood_wait():
            flood_end["out"] = flood.communicate()[0].decode(errors="replace")
            flood_end["t"] = time.monotonic()
            flood_end["moved"], counted[0] = counted[0], [0] * nconn

        waiter = threading.Thread(target=flood_wait)
        waiter.start()
        results = [None] * nnew
        starters = []
        for i in range(nnew):
            time.sleep(FLOOD_S / nnew)
            t = threading.Thread(target=fresh, args=(host, port, i, results))
            t.start()
            starters.append(t)
        waiter.join()
        flood_out = flood_end["out"]
        flood_s = flood_end["t"] - t0
        moved = flood_end["moved"]
        out["goodput_during_MBps"] = "%.2f" % (sum(moved) / flood_s / 1e6)
        out["stalled_during"], out["stuck_during"] = stalls(conns, moved, "during")
        out["flood_seconds"] = "%.2f" % flood_s
        for t in starters:
            t.join()
        out["new_ok"] = sum(1 for r in results if r == "ok")
        out["new_failed"] = nnew - out["new_ok"]
        for i, r in enumerate(results):
            if r != "ok":
                print("fresh connection %d: %s" % (i, r), file=sys.stderr)

        moved = phase(after_s)
        out["goodput_after_MBps"] = "%.2f" % (sum(moved) / after_s / 1e6)
        out["stalled_after"], out["stuck_after"] = stalls(conns, moved, "after")
        out["rss_after_kB"] = rss_kb(pid)
    finally:
        stop.set()
        pumper.join()
    out["corrupt"] = sum(1 for c in conns if c.corrupt)
    out["broken"] = sum(1 for c in conns if c.broken)
    for c in conns:
        if c.broken:
            print("established connection ended: %s" % c.broken, file=sys.stderr)
        c.sock.close()
    sys.stderr.write(flood_out)
    for k, v in out.items():
        print(k, v)


if __name__ == "__main__":
    main()
