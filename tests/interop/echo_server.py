"""Kernel-side TCP server for the interop tests: accepts one connection on HOST:PORT, echoes
everything back as it arrives, closes after the peer's FIN, and writes the sha256 of what it
received to OUT. Prints 'listening' once bound. HOST may be IPv6. Usage: echo_server.py HOST PORT
OUT"""
import hashlib
import socket
import sys

host, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ls = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((host, port))
ls.listen(1)
print("listening", flush=True)
ls.settimeout(60)
s, peer = ls.accept()
s.settimeout(60)
h = hashlib.sha256()
n = 0
while True:
    b = s.recv(1 << 16)
    if not b:
        break
    h.update(b)
    n += len(b)
    s.sendall(b)
s.close()
with open(out, "w") as f:
    f.write("%s %d\n" % (h.hexdigest(), n))
