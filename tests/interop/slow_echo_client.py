"""Kernel-side TCP client that is slow to read: sends FILE to HOST:PORT from one thread while
the main thread waits PAUSE seconds before it reads anything, then reads the echo to the end.
Both directions fill up meanwhile: the kernel's receive buffer, synack's send and receive
buffers, then the kernel's send buffer, so both windows close and reopen. Exits 0 when the
echo equals FILE (sha256), printing its digest; 1 otherwise.
Usage: slow_echo_client.py HOST PORT FILE PAUSE"""
import hashlib
import socket
import sys
import threading
import time


def main():
    host, port, path, pause = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    data = open(path, "rb").read()
    s = socket.create_connection((host, port), timeout=60)
    sent = []

    def writer():
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        sent.append(True)

    t = threading.Thread(target=writer)
    t.start()
    time.sleep(pause)
    got = hashlib.sha256()
    n = 0
    while True:
        b = s.recv(1 << 16)
        if not b:
            break
        got.update(b)
        n += len(b)
    t.join(60)
    s.close()
    want = hashlib.sha256(data).hexdigest()
    if not sent or got.hexdigest() != want:
        print("FAIL: sent all: %s, echo %d of %d bytes, sha256 %s, want %s"
              % (bool(sent), n, len(data), got.hexdigest(), want))
        return 1
    print("echo %d bytes after a %.1f s pause, sha256 %s" % (n, pause, want))
    return 0


if __name__ == "__main__":
    sys.exit(main())
