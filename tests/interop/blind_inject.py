#!/usr/bin/python3
"""The blind attacker of test_blind_injection.sh (RFC 5961), built with scapy.

usage: blind_inject.py IFACE DST_MAC SERVER_IP SERVER_PORT CLIENT_IP DIR SEED [PHASES]

Forges segments from CLIENT_IP:port (the port the kernel client wrote to DIR/port) to
SERVER_IP:SERVER_PORT and writes them on IFACE, the kernel's side of synack's TAP, so they
reach synack as if the client had sent them. Its own traffic never reaches the kernel's socket.

Phases (PHASES, comma-separated; default all, in this order):
  storm      while the client transfers (until it is done, DIR/storm_done is then written):
             RSTs, SYNs and data segments with random sequence numbers (random ACK numbers
             for the data), none of them knowing the connection's state
  -- the client stops sending and writes DIR/quiet; the attacker then learns SND.NXT and
     RCV.NXT of synack by sniffing the answer to one out-of-window segment (as an on-path
     observer of a few packets could) --
  rst-straddle   RSTs carrying payload whose sequence number is below RCV.NXT and whose data
                 runs past it (RFC 5961 §3.2 judges the untrimmed SEG.SEQ: challenge ACK)
  syn-below      SYNs (half with the ACK bit and the learned SND.NXT) with data, sequence
                 number below RCV.NXT, data running past it (§4.2: challenge ACK, the data
                 never delivered)
  quiet-syn, quiet-rst   the random storm again, one kind at a time, on the idle connection,
                 so that every ACK synack sends in those windows answers them
  bad-ack        data at exactly RCV.NXT whose ACK is far behind SND.UNA or ahead of SND.NXT
                 (RFC 5961 §5 and RFC 9293 §3.10.7.4: dropped with an ACK, data not taken)
  quiet-data     random data segments on the idle connection
Writes DIR/phases (one line per phase: name, packets, start and end in seconds since the
epoch, for tshark's frame.time_epoch), then DIR/resume for the client.

The sequence numbers are random from SEED (printed by the test, for a replay); the segments
are made from one scapy template per kind, and only the sequence and acknowledgment numbers
change, with the TCP checksum adjusted for them (RFC 1624), so that thousands are ready in
milliseconds.
"""
import os
import random
import socket
import struct
import sys
import time

from scapy.all import IP, TCP, AsyncSniffer, Ether, get_if_hwaddr, raw

STORM_EACH = 2000     # per kind, during the transfer
QUIET_EACH = 3000     # per kind, on the idle connection
STRADDLE = 300        # RSTs and SYNs straddling RCV.NXT, each
BAD_ACK = 200
PAUSE_S = 0.7         # between phases: every answer lands in its own phase's window
RATE = 4000           # packets per second in the quiet phases


def wait_file(path, timeout):
    end = time.time() + timeout
    while not os.path.exists(path):
        if time.time() > end:
            sys.exit("blind_inject: no %s after %d s" % (path, timeout))
        time.sleep(0.02)


def checksum_fix(csum, old, new):
    """RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), over the 16-bit words that changed."""
    s = (~csum) & 0xffff
    for o, n in zip(struct.unpack("!4H", old), struct.unpack("!4H", new)):
        s += ((~o) & 0xffff) + n
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


class Forger:
    """Frames from the client's 4-tuple; templates by scapy, numbers patched in."""

    def __init__(self, iface, dst_mac, sip, sport, cip, cport):
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        self.sock.bind((iface, 0))
        self.eth = Ether(src=get_if_hwaddr(iface), dst=dst_mac)
        self.ip = IP(src=cip, dst=sip, ttl=64)
        self.sport, self.cport = sport, cport
        self.templates = {}

    def frame(self, flags, seq, ack, payload=b""):
        key = (flags, payload)
        t = self.templates.get(key)
        if t is None:
            t = raw(self.eth / self.ip / TCP(sport=self.cport, dport=self.sport, flags=flags,
                                             seq=0, ack=0, window=502) / payload)
            self.templates[key] = t
        tcp = 14 + 20  # Ethernet and an option-less IP header
        b = bytearray(t)
        old = bytes(b[tcp + 4:tcp + 12])
        new = struct.pack("!II", seq & 0xffffffff, ack & 0xffffffff)
        b[tcp + 4:tcp + 12] = new
        csum = struct.unpack("!H", b[tcp + 16:tcp + 18])[0]
        b[tcp + 16:tcp + 18] = struct.pack("!H", checksum_fix(csum, old, new))
        return bytes(b)

    def send(self, frames, rate=None):
        """Writes the frames, at most `rate` a second if given; returns (start, end)."""
        t0 = time.time()
        for i, f in enumerate(frames):
            self.sock.send(f)
            if rate and i % 50 == 49:
                ahead = t0 + (i + 1) / rate - time.time()
                if ahead > 0:
                    time.sleep(ahead)
        return t0, time.time()


def random_frames(fg, rnd, kind, n):
    out = []
    for _ in range(n):
        seq = rnd.getrandbits(32)
        if kind == "rst":
            out.append(fg.frame("R", seq, 0))
        elif kind == "syn":
            out.append(fg.frame("S", seq, 0))
        else:
            out.append(fg.frame("PA", seq, rnd.getrandbits(32), b"blind data " * 4))
    return out


def learn(fg, iface, sip, sport, cport, rnd):
    """SND.NXT and RCV.NXT of synack: the ACK it sends for one out-of-window segment."""
    flt = "tcp and src host %s and src port %d and dst port %d" % (sip, sport, cport)
    for _ in range(8):
        sn = AsyncSniffer(iface=iface, filter=flt, store=True)
        sn.start()
        time.sleep(0.3)
        fg.send([fg.frame("PA", rnd.getrandbits(32), rnd.getrandbits(32), b"probe")])
        time.sleep(0.5)
        got = sn.stop()
        if got:
            t = got[-1][TCP]
            return t.seq, t.ack
        time.sleep(PAUSE_S)
    sys.exit("blind_inject: synack answered no probe (is the connection alive?)")


def main():
    iface, dst_mac, sip, sport, cip, d, seed = sys.argv[1:8]
    phases = sys.argv[8].split(",") if len(sys.argv) > 8 else [
        "storm", "rst-straddle", "syn-below", "quiet-syn", "quiet-rst", "bad-ack", "quiet-data"]
    sport, rnd = int(sport), random.Random(int(seed))
    wait_file(os.path.join(d, "port"), 20)
    cport = int(open(os.path.join(d, "port")).read())
    fg = Forger(iface, dst_mac, sip, sport, cip, cport)
    log = []

    if "storm" in phases:
        frames = []
        for kind in ("rst", "syn", "data"):
            frames += random_frames(fg, rnd, kind, STORM_EACH)
        rnd.shuffle(frames)
        t0, t1 = fg.send(frames, rate=RATE)
        log.append(("storm", len(frames), t0, t1))
    open(os.path.join(d, "storm_done"), "w").close()
    wait_file(os.path.join(d, "quiet"), 60)
    time.sleep(PAUSE_S)

    snd_nxt, rcv_nxt = learn(fg, iface, sip, sport, cport, rnd)
    print("learned: synack SND.NXT %u RCV.NXT %u" % (snd_nxt, rcv_nxt))
    time.sleep(PAUSE_S)
    for name in phases:
        frames = []
        if name == "rst-straddle":
            for _ in range(STRADDLE):
                before = rnd.randint(1, 100)       # bytes below RCV.NXT
                after = rnd.randint(1, 100)        # bytes from RCV.NXT on
                frames.append(fg.frame("RA", rcv_nxt - before, snd_nxt, b"R" * (before + after)))
        elif name == "syn-below":
            for i in range(STRADDLE):
                before = rnd.randint(1, 100)
                after = rnd.randint(1, 100)
                # With and without ACK: without it, RFC 9293's fifth check drops the segment
                # anyway; with it (the learned SND.NXT), only the SYN check stands in the way.
                frames.append(fg.frame("SA" if i % 2 else "S", rcv_nxt - before,
                                       snd_nxt if i % 2 else 0, b"S" * (before + after)))
        elif name == "bad-ack":
            for i in range(BAD_ACK):
                # Far behind SND.UNA (beyond any window a peer could have had, 2^30 bytes)
                # or ahead of what synack has sent.
                ack = snd_nxt - (1 << 30) - rnd.getrandbits(20) if i % 2 else \
                    snd_nxt + 1 + rnd.getrandbits(20)
                frames.append(fg.frame("PA", rcv_nxt, ack, b"A" * 64))
        elif name.startswith("quiet-"):
            frames = random_frames(fg, rnd, name[6:], QUIET_EACH)
        else:
            continue
        t0, t1 = fg.send(frames, rate=RATE)
        log.append((name, len(frames), t0, t1))
        time.sleep(PAUSE_S)
    with open(os.path.join(d, "phases"), "w") as f:
        for name, n, t0, t1 in log:
            f.write("%s %d %.6f %.6f\n" % (name, n, t0, t1))
    open(os.path.join(d, "resume"), "w").close()


if __name__ == "__main__":
    try:
        main()
    finally:  # the client waits for these: never leave it hanging
        for f in ("storm_done", "resume"):
            open(os.path.join(sys.argv[6], f), "a").close()
