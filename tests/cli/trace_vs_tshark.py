"""Checks `synack trace --json` against tshark reading the same capture, for test_trace.sh:

  trace_vs_tshark.py CAPTURE JSON [EXPECT...]

Every TCP segment tshark dissects must be an event of the JSON, in order, with tshark's raw
sequence and acknowledgement numbers, flags, payload length and window field; each connection's
ISNs are the raw sequence numbers of tshark's SYN and SYN|ACK, its segment count tshark's, and
the retransmissions the trace notes are the segments tshark's tcp.analysis.retransmission marks.
EXPECT items add what the scenario's story says: end=closed, states=TIME-WAIT/CLOSED,
reset_by=0, conns=2, min_retx=N (the capture shows at least N), min_noted=N (the trace notes
at least N as retransmissions), retx=N (the retransmissions the story knows, where tshark's
heuristics misread a segment). Prints one line per failed check; exit status 1 if any.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from tshark_fields import tshark_fields  # noqa: E402

FIELDS = ["tcp.stream", "tcp.seq_raw", "tcp.ack_raw", "tcp.flags", "tcp.len",
          "tcp.window_size_value", "tcp.analysis.retransmission"]
RETRANSMIT_NOTES = {"retransmit", "fast-retransmit", "syn-retransmit", "fin-retransmit"}


def tshark(capture):
    segs = []
    for v in tshark_fields(capture, FIELDS, options=["-o", "tcp.analyze_sequence_numbers:TRUE"]):
        segs.append({"stream": int(v["tcp.stream"]), "seq": int(v["tcp.seq_raw"]),
                     "ack": int(v["tcp.ack_raw"]), "flags": int(v["tcp.flags"], 16) & 0xff,
                     "len": int(v["tcp.len"]), "win": int(v["tcp.window_size_value"]),
                     "retx": v["tcp.analysis.retransmission"] != ""})
    return segs


def main():
    capture, json_path = sys.argv[1:3]
    expect = dict(e.split("=", 1) for e in sys.argv[3:])
    fails = []
    check = lambda cond, what: cond or fails.append(what)
    trace = json.load(open(json_path))
    tsegs = tshark(capture)
    streams = sorted({t["stream"] for t in tsegs})
    conns = trace["connections"]
    check(len(conns) == len(streams), "%d connections, tshark %d streams" %
          (len(conns), len(streams)))
    if "conns" in expect:
        check(len(conns) == int(expect["conns"]), "%d connections, want %s" %
              (len(conns), expect["conns"]))
    for conn, stream in zip(conns, streams):
        ts = [t for t in tsegs if t["stream"] == stream]
        ev = [e for e in conn["events"] if e["kind"] == "seg"]
        info = conn["info"]
        where = "connection %d" % info["id"]
        check(len(ev) == len(ts), "%s: %d segments, tshark %d" % (where, len(ev), len(ts)))
        check(sum(info["segments"]) == len(ts), "%s: info says %d segments, tshark %d" %
              (where, sum(info["segments"]), len(ts)))
        for i, (e, t) in enumerate(zip(ev, ts)):
            for key, mine in (("seq", e["seq"]), ("ack", e["ack"]), ("flags", e["flags_bits"]),
                              ("len", e["len"]), ("win", e["win"])):
                if key == "ack" and not t["flags"] & 0x10:
                    continue
                check(mine == t[key], "%s, segment %d: %s %s, tshark %s" %
                      (where, i, key, mine, t[key]))
        syn = [t for t in ts if t["flags"] & 0x12 == 0x02]
        synack = [t for t in ts if t["flags"] & 0x12 == 0x12]
        if syn:
            check(info["isn"][0] == syn[0]["seq"], "%s: client ISN %s, tshark %d" %
                  (where, info["isn"][0], syn[0]["seq"]))
        if synack:
            check(info["isn"][1] == synack[0]["seq"], "%s: server ISN %s, tshark %d" %
                  (where, info["isn"][1], synack[0]["seq"]))
            # RFC 9293 §3.5: the SYN|ACK acknowledges ISN+1.
            check(synack[0]["ack"] == (syn[0]["seq"] + 1) % 2**32, "%s: SYN|ACK ack" % where)
        # Retransmissions, segment by segment. Every one the trace notes, tshark marks too. Every
        # one tshark marks, the trace notes as a retransmission, or, when the capture never
        # showed the first copy (sim captures after the link's loss), as data filling a gap:
        # from the capture alone it may have arrived late; tshark's timing heuristics call it a
        # retransmission.
        codes = [{n["code"] for n in e["notes"]} for e in ev]
        noted = {i for i, c in enumerate(codes) if RETRANSMIT_NOTES & c}
        filled = {i for i, c in enumerate(codes) if "fills-gap" in c}
        marked = {i for i, t in enumerate(ts) if t["retx"]}
        if "retx" in expect:
            check(len(noted) == int(expect["retx"]), "%s: %d retransmissions noted, want %s" %
                  (where, len(noted), expect["retx"]))
        else:
            check(noted <= marked, "%s: segments %s noted as retransmissions, tshark marks %s" %
                  (where, sorted(noted - marked), sorted(marked)))
            check(marked <= noted | filled, "%s: tshark marks segments %s as retransmissions, "
                  "the trace notes neither retransmission nor gap" %
                  (where, sorted(marked - noted - filled)))
        if "min_noted" in expect:
            check(len(noted) >= int(expect["min_noted"]), "%s: %d retransmissions noted, the "
                  "scenario wants at least %s" % (where, len(noted), expect["min_noted"]))
        if "min_retx" in expect:
            check(len(marked) >= int(expect["min_retx"]), "%s: only %d retransmissions: the "
                  "scenario wants at least %s" % (where, len(marked), expect["min_retx"]))
        if "end" in expect:
            check(info["end"] == expect["end"], "%s: ended %s, want %s" %
                  (where, info["end"], expect["end"]))
        if "states" in expect:
            got = "/".join(info["state"])
            check(got == expect["states"], "%s: final states %s, want %s" %
                  (where, got, expect["states"]))
        if "reset_by" in expect:
            check(str(info["reset_by"]) == expect["reset_by"], "%s: reset by %s, want %s" %
                  (where, info["reset_by"], expect["reset_by"]))
    for f in fails:
        print(f)
    sys.exit(1 if fails else 0)


main()
