"""The kernel on both ends of test_trace_kernel.sh: plain Python sockets, no synack involved.

  trace_peers.py server ADDR PORT FACTS    (in the server's namespace; prints 'listening')
  trace_peers.py client ADDR PORT FACTS    (in the client's namespace)

The scenarios use consecutive ports from PORT (nothing listens on PORT+1):
  a  PORT    handshake, data both ways, orderly close, the client shuts down first
  b  PORT+1  connection refused: no listener, the kernel answers the SYN with RST|ACK
  c  PORT+2  abort: the client sets SO_LINGER {1, 0} and closes in ESTABLISHED (RST)
  d  PORT+3  a tight receive buffer: the server sets SO_RCVBUF before listen and does not
             read for PAUSE_S, so its window closes and the client's kernel probes it; then
             it reads everything, the window opens, and both close as in a
  e  PORT+4  keep-alive: the client turns on SO_KEEPALIVE with a 1 s idle time and interval,
             stays idle for KEEPALIVE_IDLE_S (two probes, each answered), then closes as in a
Each side writes what it did and saw (ports, bytes sent and received, errors) to FACTS as
JSON: these are the facts the trace is checked against, never synack's output.
"""
import errno
import json
import socket
import struct
import sys
import time

A_CLIENT_BYTES, A_SERVER_BYTES = 3000, 5000
C_CLIENT_BYTES, C_SERVER_BYTES = 1000, 700
D_CLIENT_BYTES, D_SERVER_BYTES = 100000, 10
D_RCVBUF = 4096
PAUSE_S = 1.5
E_CLIENT_BYTES = 100
KEEPALIVE_IDLE_S = 2.6
TIMEOUT_S = 20


def payload(n, seed):
    return bytes((seed + i * 7) & 0xFF for i in range(n))


def recv_exactly(s, n):
    got = bytearray()
    while len(got) < n:
        b = s.recv(n - len(got))
        if not b:
            raise RuntimeError("EOF after %d of %d bytes" % (len(got), n))
        got += b
    return bytes(got)


def recv_to_eof(s, chunk=65536):
    got = bytearray()
    while True:
        b = s.recv(chunk)
        if not b:
            return bytes(got)
        got += b


def family(addr):
    """AF_INET6 for an IPv6 address (SK_TRACE_FAMILY=6), else AF_INET."""
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def listener(addr, port, rcvbuf=None):
    ls = socket.socket(family(addr), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf:
        # Set before listen: the accepted socket inherits it, and the window it offers in its
        # SYN|ACK (and its window scale) is already the small one.
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    ls.bind((addr, port))
    ls.listen(4)
    ls.settimeout(TIMEOUT_S)
    return ls


def accept(ls):
    s, peer = ls.accept()
    s.settimeout(TIMEOUT_S)
    return s, peer


def server(addr, port, facts_path):
    facts = {}
    lsa = listener(addr, port)
    lsc = listener(addr, port + 2)
    lsd = listener(addr, port + 3, D_RCVBUF)
    lse = listener(addr, port + 4)
    print("listening", flush=True)

    s, peer = accept(lsa)
    got = recv_exactly(s, A_CLIENT_BYTES)
    s.sendall(payload(A_SERVER_BYTES, 2))
    rest = recv_to_eof(s)               # the client's FIN
    s.close()                           # our FIN: LAST-ACK, then CLOSED
    facts["a"] = {"client_port": peer[1], "received": len(got) + len(rest),
                  "sent": A_SERVER_BYTES, "intact": got == payload(A_CLIENT_BYTES, 1)}

    s, peer = accept(lsc)
    got = recv_exactly(s, C_CLIENT_BYTES)
    s.sendall(payload(C_SERVER_BYTES, 4))
    err = None
    try:
        rest = s.recv(65536)            # the client aborts: ECONNRESET, not EOF
        err = "eof" if not rest else "data"
    except ConnectionResetError:
        err = "ECONNRESET"
    s.close()
    facts["c"] = {"client_port": peer[1], "received": len(got), "sent": C_SERVER_BYTES,
                  "error": err}

    s, peer = accept(lsd)
    rcvbuf = s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    time.sleep(PAUSE_S)                 # not reading: the window closes, the peer probes
    got = recv_to_eof(s, 4096)          # reading: the window opens; then the client's FIN
    s.sendall(payload(D_SERVER_BYTES, 6))
    s.close()
    facts["d"] = {"client_port": peer[1], "received": len(got), "sent": D_SERVER_BYTES,
                  "intact": got == payload(D_CLIENT_BYTES, 5), "rcvbuf": rcvbuf}

    s, peer = accept(lse)
    got = recv_to_eof(s)
    s.close()
    facts["e"] = {"client_port": peer[1], "received": len(got), "sent": 0}
    with open(facts_path, "w") as f:
        json.dump(facts, f, indent=1)


def connect(addr, port):
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.settimeout(TIMEOUT_S)
    s.connect((addr, port))
    return s


def client(addr, port, facts_path):
    facts = {}
    # a: the client shuts down first (FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT on the server's FIN).
    s = connect(addr, port)
    local = s.getsockname()[1]
    s.sendall(payload(A_CLIENT_BYTES, 1))
    got = recv_exactly(s, A_SERVER_BYTES)
    s.shutdown(socket.SHUT_WR)
    rest = recv_to_eof(s)
    s.close()
    facts["a"] = {"client_port": local, "sent": A_CLIENT_BYTES, "received": len(got) + len(rest),
                  "intact": got == payload(A_SERVER_BYTES, 2)}
    time.sleep(0.1)

    # b: nobody listens on port + 1.
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.settimeout(TIMEOUT_S)
    err = s.connect_ex((addr, port + 1))
    facts["b"] = {"client_port": s.getsockname()[1], "error": errno.errorcode.get(err, str(err))}
    s.close()
    time.sleep(0.1)

    # c: data both ways, then an abortive close (RFC 9293 §3.10.4 ABORT: RST, no FIN).
    s = connect(addr, port + 2)
    local = s.getsockname()[1]
    s.sendall(payload(C_CLIENT_BYTES, 3))
    got = recv_exactly(s, C_SERVER_BYTES)
    time.sleep(0.05)                    # let the ACK of the server's data go out first
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    facts["c"] = {"client_port": local, "sent": C_CLIENT_BYTES, "received": len(got)}
    time.sleep(0.1)

    # d: more than the server's small buffer holds, sent while the server does not read.
    s = connect(addr, port + 3)
    local = s.getsockname()[1]
    s.sendall(payload(D_CLIENT_BYTES, 5))
    s.shutdown(socket.SHUT_WR)
    got = recv_to_eof(s)
    s.close()
    facts["d"] = {"client_port": local, "sent": D_CLIENT_BYTES, "received": len(got)}
    time.sleep(0.1)

    # e: an idle connection kept alive (RFC 9293 §3.8.4; Linux's TCP_KEEPIDLE, TCP_KEEPINTVL).
    s = connect(addr, port + 4)
    local = s.getsockname()[1]
    s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
    s.sendall(payload(E_CLIENT_BYTES, 7))
    time.sleep(KEEPALIVE_IDLE_S)
    s.shutdown(socket.SHUT_WR)
    got = recv_to_eof(s)
    s.close()
    facts["e"] = {"client_port": local, "sent": E_CLIENT_BYTES, "received": len(got)}
    with open(facts_path, "w") as f:
        json.dump(facts, f, indent=1)


if __name__ == "__main__":
    role, addr, port, facts_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    {"server": server, "client": client}[role](addr, port, facts_path)
