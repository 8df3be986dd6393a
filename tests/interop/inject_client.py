#!/usr/bin/env python3
"""The kernel's side of test_blind_injection.sh: one connection to an echo server that
carries a known byte stream both ways while a blind attacker (blind_inject.py) forges
segments into it.

usage: inject_client.py HOST PORT DIR TAIL_BYTES

Connects, writes its local port to DIR/port, then sends a pseudo-random stream (fixed seed)
and reads the echo at the same time until the attacker writes DIR/storm_done, and until all
of it is echoed; writes DIR/quiet and waits for DIR/resume (the attacker works on the idle
connection meanwhile); sends TAIL_BYTES more, half-closes and reads the echo to EOF. Every
echoed byte is compared with what was sent. Prints "sent N echoed M ok" (exit 0) or what
differed (exit 1).
"""
import os
import random
import socket
import sys
import threading
import time

CHUNK = 16384
WINDOW = 256 * 1024   # bytes in flight: the echo server reads only what it can send back
PACE_S = 0.005        # between chunks while the storm lasts: about 3 MB/s, so that the
                      # capture keeps every segment and the attacker gets the CPU it needs


def wait_file(path, timeout):
    end = time.time() + timeout
    while not os.path.exists(path):
        if time.time() > end:
            sys.exit("inject_client: no %s after %d s" % (path, timeout))
        time.sleep(0.02)


def main():
    host, port, d, tail = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    rnd = random.Random(5961)
    s = socket.create_connection((host, port), timeout=60)
    with open(os.path.join(d, "port.tmp"), "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))

    sent = bytearray()
    state = {"got": 0, "bad": None, "eof": False}
    progress = threading.Condition()

    def reader():
        while True:
            try:
                b = s.recv(1 << 16)
            except OSError as e:
                state["bad"] = "recv: %r after %d bytes" % (e, state["got"])
                b = b""
            with progress:
                if not b:
                    state["eof"] = True
                    progress.notify_all()
                    return
                g = state["got"]
                if state["bad"] is None and bytes(sent[g:g + len(b)]) != b:
                    state["bad"] = "echo differs at byte %d" % g
                state["got"] = g + len(b)
                progress.notify_all()

    def send(n):
        data = rnd.randbytes(n)
        with progress:
            while len(sent) - state["got"] > WINDOW and not state["eof"]:
                progress.wait(1)
            sent.extend(data)
        s.sendall(data)

    def drain():
        with progress:
            while state["got"] < len(sent) and not state["eof"]:
                progress.wait(1)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        while not os.path.exists(os.path.join(d, "storm_done")) and state["bad"] is None:
            send(CHUNK)
            time.sleep(PACE_S)
        drain()
        open(os.path.join(d, "quiet"), "w").close()
        wait_file(os.path.join(d, "resume"), 120)
        left = tail
        while left > 0 and state["bad"] is None:
            send(min(CHUNK, left))
            left -= CHUNK
        s.shutdown(socket.SHUT_WR)
    except OSError as e:
        state["bad"] = state["bad"] or "send: %r after %d bytes" % (e, len(sent))
    finally:  # the attacker waits for this: never leave it hanging
        open(os.path.join(d, "quiet"), "a").close()
    t.join(60)
    if state["bad"] is None and state["got"] != len(sent):
        state["bad"] = "echo ended after %d of %d bytes" % (state["got"], len(sent))
    if state["bad"]:
        print("sent %d echoed %d FAILED: %s" % (len(sent), state["got"], state["bad"]))
        sys.exit(1)
    print("sent %d echoed %d ok" % (len(sent), state["got"]))


if __name__ == "__main__":
    main()
