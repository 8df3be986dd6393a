"""Kernel-side TCP client for the interop tests: sends a file to host:port, reading the
echo at the same time, then half-closes and reads to EOF. Prints the echo's sha256 and the
seconds taken. Usage: echo_client.py HOST PORT FILE [CONNECTIONS]. With CONNECTIONS > 1, that
many connections run at once, each sending the whole file; every echo must match."""
import hashlib
import socket
import sys
import threading
import time


def one(host, port, data, results, i):
    try:
        s = socket.create_connection((host, port), timeout=60)
        got = []

        def reader():
            while True:
                b = s.recv(1 << 16)
                if not b:
                    break
                got.append(b)

        t = threading.Thread(target=reader)
        t.start()
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        t.join(120)
        s.close()
        results[i] = hashlib.sha256(b"".join(got)).hexdigest()
    except Exception as e:  # reported as a mismatch with its reason
        results[i] = "error: %r" % (e,)


def main():
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    data = open(path, "rb").read()
    want = hashlib.sha256(data).hexdigest()
    results = [None] * n
    t0 = time.monotonic()
    threads = [threading.Thread(target=one, args=(host, port, data, results, i)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dt = time.monotonic() - t0
    bad = [r for r in results if r != want]
    print("connections %d ok %d seconds %.3f" % (n, n - len(bad), dt))
    for r in bad[:5]:
        print("mismatch:", r)
    sys.exit(1 if bad else 0)


main()
