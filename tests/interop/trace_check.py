"""Checks `synack trace --json` on a kernel capture of test_trace_kernel.sh against what the test
knows from elsewhere: tshark's dissection and analysis of the same capture, the facts the
Python peers wrote (trace_peers.py: ports, bytes sent and received, errors), and RFC 9293's
state diagram run again here on tshark's view of each segment. Nothing expected is read back
from synack's output.

  trace_check.py CAPTURE ENCAP PORT CLIENT_FACTS SERVER_FACTS SYNACK_JSON [SUMMARY_OUT]

ENCAP is the link type the capturing tool was asked for, in tshark's numbers
(frame.encap_type: 1 Ethernet, 25 Linux cooked, 210 Linux cooked v2). PORT is scenario a's
server port (trace_peers.py). Prints one line per check failed and exits 1 if any; writes to
SUMMARY_OUT what the formats must agree on (no times), one line per segment, so that the test
can compare the pcap, pcapng and cooked captures of one run.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from tshark_fields import tshark_fields  # noqa: E402

SCENARIOS = "abcde"     # trace_peers.py: a at PORT, b at PORT+1, ...
TSHARK_FIELDS = [
    "frame.number", "frame.encap_type", "frame.time_relative", "tcp.stream", "ip.src", "ip.dst",
    "ipv6.src", "ipv6.dst",
    "tcp.srcport", "tcp.dstport", "tcp.seq_raw", "tcp.ack_raw", "tcp.seq", "tcp.ack",
    "tcp.flags", "tcp.len", "tcp.window_size", "tcp.options.mss_val",
    "tcp.options.wscale.shift", "tcp.options.sack_perm", "tcp.options.timestamp.tsval",
    "tcp.options.sack_le", "tcp.options.sack_re", "tcp.options.sack.dsack",
    "tcp.analysis.window_full", "tcp.analysis.retransmission",
    "tcp.analysis.fast_retransmission", "tcp.analysis.spurious_retransmission",
    "tcp.analysis.duplicate_ack", "tcp.analysis.zero_window", "tcp.analysis.zero_window_probe",
    "tcp.analysis.keep_alive", "tcp.analysis.keep_alive_ack", "tcp.analysis.window_update",
    "tcp.analysis.out_of_order", "tcp.analysis.lost_segment", "tcp.analysis.ack_lost_segment",
]
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
    return cond


# --- the oracle: tshark ---------------------------------------------------------------------

def tshark_segments(capture):
    segs = []
    for v in tshark_fields(capture, TSHARK_FIELDS):
        segs.append({
            "frame": int(v["frame.number"]),
            "encap": int(v["frame.encap_type"]),
            "time_us": round(float(v["frame.time_relative"]) * 1e6),
            "stream": int(v["tcp.stream"]),
            "src": v["ip.src"] or v["ipv6.src"], "dst": v["ip.dst"] or v["ipv6.dst"],
            "sport": int(v["tcp.srcport"]), "dport": int(v["tcp.dstport"]),
            "seq": int(v["tcp.seq_raw"]), "ack": int(v["tcp.ack_raw"]),
            "rel_seq": int(v["tcp.seq"]), "rel_ack": int(v["tcp.ack"] or 0),
            "flags": int(v["tcp.flags"], 16) & 0xFF, "len": int(v["tcp.len"]),
            "wnd": int(v["tcp.window_size"]),
            "mss": int(v["tcp.options.mss_val"]) if v["tcp.options.mss_val"] else 0,
            "wscale": int(v["tcp.options.wscale.shift"])
            if v["tcp.options.wscale.shift"] else -1,
            "sack_perm": v["tcp.options.sack_perm"] != "",
            "ts": v["tcp.options.timestamp.tsval"] != "",
            "sack_blocks": len(v["tcp.options.sack_le"].split(","))
            if v["tcp.options.sack_le"] else 0,
            # SACK blocks as tshark reads them, relative to the data sender's ISN.
            "sack": list(zip(map(int, filter(None, v["tcp.options.sack_le"].split(","))),
                             map(int, filter(None, v["tcp.options.sack_re"].split(","))))),
            "dsack": v["tcp.options.sack.dsack"] != "",
            "window_full": v["tcp.analysis.window_full"] != "",
            "retx": any(v["tcp.analysis." + k] for k in
                        ("retransmission", "fast_retransmission", "spurious_retransmission")),
            "dup_ack": v["tcp.analysis.duplicate_ack"] != "",
            "zero_window": v["tcp.analysis.zero_window"] != "",
            # Linux probes a zero window with an empty segment at SND.UNA - 1, which tshark
            # calls a keep-alive; a 1-byte probe at SND.NXT it calls a zero window probe.
            "probe_like": v["tcp.analysis.keep_alive"] != "" or
            v["tcp.analysis.zero_window_probe"] != "",
            "keep_alive_ack": v["tcp.analysis.keep_alive_ack"] != "",
            "window_update": v["tcp.analysis.window_update"] != "",
            "out_of_order": v["tcp.analysis.out_of_order"] != "",
            "lost": v["tcp.analysis.lost_segment"] != "" or
            v["tcp.analysis.ack_lost_segment"] != "",
        })
    return segs


# --- the oracle: RFC 9293's state diagram, run here --------------------------------------------

def rfc9293_states(segs, side1_listens=True):
    """Both ends' states after each segment, as RFC 9293 §3.10.7 moves them when each segment
    reaches its receiver the moment it is seen. segs carry 'from' (0 = the SYN's sender)."""
    st = ["CLOSED", "LISTEN" if side1_listens else "CLOSED"]
    fin_seq = [None, None]      # sequence number of each side's FIN
    out = []
    for s in segs:
        f, r = s["from"], 1 - s["from"]
        fl = s["flags"]
        if fl & RST:
            # §3.10.4 ABORT / §3.10.7.1: the sender of a RST is CLOSED; §3.10.7.3/4: an
            # acceptable RST closes the receiver (in SYN-SENT only if it acknowledges the SYN).
            st[f] = "CLOSED"
            if st[r] != "SYN-SENT" or fl & ACK:
                st[r] = "CLOSED"
        elif fl & SYN and not fl & ACK:
            st[f] = "SYN-SENT"                          # §3.10.1 OPEN, active
            if st[r] == "LISTEN":
                st[r] = "SYN-RECEIVED"                  # §3.10.7.2
        elif fl & SYN:
            st[f] = "SYN-RECEIVED"
            if st[r] == "SYN-SENT":
                st[r] = "ESTABLISHED"                   # §3.10.7.3: our SYN acknowledged
        else:
            if fl & ACK:                                # §3.10.7.4, fifth check: ACK
                if st[r] == "SYN-RECEIVED":
                    st[r] = "ESTABLISHED"
                acks_fin = fin_seq[r] is not None and s["ack"] == (fin_seq[r] + 1) & 0xFFFFFFFF
                if acks_fin:
                    st[r] = {"FIN-WAIT-1": "FIN-WAIT-2", "CLOSING": "TIME-WAIT",
                             "LAST-ACK": "CLOSED"}.get(st[r], st[r])
            if fl & FIN:                                # §3.10.7.4, eighth check: FIN
                fin_seq[f] = (s["seq"] + s["len"]) & 0xFFFFFFFF
                st[f] = {"ESTABLISHED": "FIN-WAIT-1", "SYN-RECEIVED": "FIN-WAIT-1",
                         "CLOSE-WAIT": "LAST-ACK"}.get(st[f], st[f])
                st[r] = {"ESTABLISHED": "CLOSE-WAIT", "SYN-RECEIVED": "CLOSE-WAIT",
                         "FIN-WAIT-1": "CLOSING", "FIN-WAIT-2": "TIME-WAIT"}.get(st[r], st[r])
        out.append(tuple(st))
    return out


# What the test did, and so how each connection must end (RFC 9293 §3.6, §3.5.2, §3.10.4).
FINAL = {
    "a": {"end": "closed", "states": ("TIME-WAIT", "CLOSED"), "reset_by": -1},
    "b": {"end": "refused", "states": ("CLOSED", "CLOSED"), "reset_by": None},
    "c": {"end": "reset", "states": ("CLOSED", "CLOSED"), "reset_by": 0},
    "d": {"end": "closed", "states": ("TIME-WAIT", "CLOSED"), "reset_by": -1},
    "e": {"end": "closed", "states": ("TIME-WAIT", "CLOSED"), "reset_by": -1},
}


# --- synack's JSON (docs/trace.md) ------------------------------------------------------------

def load_synack(path):
    """The connections of synack's JSON: each its "info" plus "segs", the "seg" events."""
    with open(path) as f:
        trace = json.load(f)
    check(trace.get("format") == "synack-trace" and trace.get("version") == 1,
          "%s: not a synack-trace version 1 JSON" % path)
    conns = []
    for c in trace["connections"]:
        conn = dict(c["info"])
        conn["segs"] = [e for e in c["events"] if e["kind"] == "seg"]
        conns.append(conn)
    return conns


def conn_key(c):
    return (tuple(c["addr"]), tuple(c["port"]))


def note_kinds(seg):
    return [n["code"] for n in seg.get("notes", [])]


def note(seg, kind):
    for n in seg.get("notes", []):
        if n["code"] == kind:
            return n
    return None


# --- the checks --------------------------------------------------------------------------------

def check_conn(name, tsegs, conn, cfacts, sfacts):
    where = "scenario %s (%s:%d -> %s:%d)" % (name, tsegs[0]["src"], tsegs[0]["sport"],
                                             tsegs[0]["dst"], tsegs[0]["dport"])
    ssegs = conn["segs"]
    if not check(len(ssegs) == len(tsegs), "%s: synack has %d segments, tshark %d" %
                 (where, len(ssegs), len(tsegs))):
        return
    opener = (tsegs[0]["src"], tsegs[0]["sport"])
    for t in tsegs:
        t["from"] = 0 if (t["src"], t["sport"]) == opener else 1
    info = conn

    # The 4-tuple: side 0 is the client, which sent the SYN.
    check(info["addr"][0] == tsegs[0]["src"] and info["port"][0] == tsegs[0]["sport"],
          "%s: side 0 is %s:%s, not the SYN's sender" % (where, info["addr"][0],
                                                          info["port"][0]))

    # Segment by segment: the header as tshark decodes it.
    isn_seen = [any(t["flags"] & SYN and t["from"] == side for t in tsegs) for side in (0, 1)]
    for i, (t, s) in enumerate(zip(tsegs, ssegs)):
        at = "%s, segment %d (frame %d)" % (where, i, t["frame"])
        check(s["from"] == t["from"], "%s: from %s, tshark %s" % (at, s["from"], t["from"]))
        check(s["seq"] == t["seq"], "%s: seq %s, tshark %d" % (at, s["seq"], t["seq"]))
        check(s["ack"] == t["ack"] or not t["flags"] & ACK,
              "%s: ack %s, tshark %d" % (at, s["ack"], t["ack"]))
        check(s["flags_bits"] & 0xFF == t["flags"], "%s: flags 0x%x, tshark 0x%x" %
              (at, s["flags_bits"], t["flags"]))
        check(s["len"] == t["len"], "%s: len %s, tshark %d" % (at, s["len"], t["len"]))
        # Times from the capture's first packet (tshark's frame.time_relative).
        check(abs(s["t_us"] - t["time_us"]) <= 1, "%s: time %s us, tshark %d us" %
              (at, s["t_us"], t["time_us"]))
        # The window in bytes: tshark scales it once it has seen both SYNs (RFC 7323 §2.3).
        check(s["win_bytes"] == t["wnd"], "%s: window %s bytes, tshark %d" %
              (at, s["win_bytes"], t["wnd"]))
        # Relative numbers: tshark's relative seq/ack are from the ISNs it saw. Where a side's
        # SYN is not in the capture (b's RST|ACK: the server never sent one), tshark takes a
        # base of its own and synack says null (observe.h: one rel_known for both numbers).
        if s["rel_seq"] is None or s["rel_ack"] is None:
            check(not all(isn_seen), "%s: relative numbers null, both ISNs seen" % at)
            continue
        check(s["rel_seq"] == t["rel_seq"], "%s: relative seq %s, tshark %d" %
              (at, s["rel_seq"], t["rel_seq"]))
        if t["flags"] & ACK:
            check(s["rel_ack"] == t["rel_ack"], "%s: relative ack %s, tshark %d" %
                  (at, s["rel_ack"], t["rel_ack"]))

    # ISNs and the handshake: ISN+1 acknowledged, in tshark's numbers.
    syn = tsegs[0]
    check(syn["flags"] == SYN, "%s: the first segment is not a SYN (tshark)" % where)
    isn0 = syn["seq"]
    check(info["isn"][0] == isn0, "%s: client ISN %s, tshark %d" % (where, info["isn"][0], isn0))
    n = note(ssegs[0], "handshake-syn")
    check(n is not None and n["a"] == isn0, "%s: SYN lacks handshake-syn with ISN %d: %s" %
          (where, isn0, ssegs[0].get("notes")))
    if name == "b":
        check(info["isn"][1] is None, "%s: a server ISN %s, but it sent no SYN" %
              (where, info["isn"][1]))
        rst = tsegs[1]
        check(rst["flags"] == RST | ACK and rst["ack"] == (isn0 + 1) & 0xFFFFFFFF,
              "%s: tshark: the answer is not RST|ACK of ISN+1" % where)
        check("rst-refused" in note_kinds(ssegs[1]),
              "%s: the RST|ACK lacks rst-refused: %s" % (where, note_kinds(ssegs[1])))
    else:
        sa = tsegs[1]
        check(sa["flags"] == SYN | ACK and sa["ack"] == (isn0 + 1) & 0xFFFFFFFF,
              "%s: tshark: the SYN|ACK does not acknowledge ISN+1" % where)
        isn1 = sa["seq"]
        check(info["isn"][1] == isn1, "%s: server ISN %s, tshark %d" %
              (where, info["isn"][1], isn1))
        n = note(ssegs[1], "handshake-synack")
        check(n is not None and n["a"] == isn1, "%s: SYN|ACK lacks handshake-synack with ISN "
              "%d: %s" % (where, isn1, ssegs[1].get("notes")))
        third = tsegs[2]
        check(third["from"] == 0 and third["ack"] == (isn1 + 1) & 0xFFFFFFFF,
              "%s: tshark: the third segment does not acknowledge ISN+1" % where)
        check("handshake-ack" in note_kinds(ssegs[2]),
              "%s: the third segment lacks handshake-ack: %s" % (where, note_kinds(ssegs[2])))
        # Options, from the two SYNs as tshark reads them.
        for side, t in ((0, syn), (1, sa)):
            check(info["mss"][side] == t["mss"], "%s: side %d MSS %s, tshark %d" %
                  (where, side, info["mss"][side], t["mss"]))
        both_ws = syn["wscale"] >= 0 and sa["wscale"] >= 0
        for side, t in ((0, syn), (1, sa)):
            want = t["wscale"] if both_ws else -1
            check(info["wscale"][side] == want, "%s: side %d window scale %s, tshark %d" %
                  (where, side, info["wscale"][side], want))
        check(info["sack_ok"] == (syn["sack_perm"] and sa["sack_perm"]),
              "%s: sack_ok %s" % (where, info["sack_ok"]))
        check(info["ts_ok"] == (syn["ts"] and sa["ts"]), "%s: ts_ok %s" % (where, info["ts_ok"]))
        # The options note on the SYN|ACK (observe.h: a = SK_OPT_* agreed, synack/trace.h's
        # bits MSS 1, WSCALE 2, SACK_PERM 4, TIMESTAMP 8; b = the two shifts, side 0's high).
        bits = ((1 if syn["mss"] and sa["mss"] else 0) | (2 if both_ws else 0) |
                (4 if syn["sack_perm"] and sa["sack_perm"] else 0) |
                (8 if syn["ts"] and sa["ts"] else 0))
        shifts = (syn["wscale"] << 8 | sa["wscale"]) if both_ws else 0xFFFF
        n = note(ssegs[1], "options")
        check(n is not None and (n["a"], n["b"]) == (bits, shifts),
              "%s: options note %s, want a=%d b=%d" % (where, n, bits, shifts))

    # States: RFC 9293's diagram run here on tshark's segments, after every segment. In b the
    # server's state before the RST cannot be known from the capture (a listener would have
    # answered), so its column is compared from the RST on.
    want_states = rfc9293_states(tsegs)
    for i, (w, s) in enumerate(zip(want_states, ssegs)):
        got = tuple(s["states_after"])
        if name == "b" and i == 0:
            w, got = w[:1], got[:1]
        check(got == w, "%s, segment %d (frame %d): states after %s, RFC 9293 says %s" %
              (where, i, tsegs[i]["frame"], got, w))
    final = FINAL[name]
    check(tuple(info["state"]) == final["states"], "%s: final states %s, want %s" %
          (where, tuple(info["state"]), final["states"]))
    check(want_states[-1] == final["states"], "%s: the capture does not show %s's end (%s)" %
          (where, name, want_states[-1]))
    check(info["end"] == final["end"], "%s: ended %s, want %s" % (where, info["end"],
                                                                  final["end"]))
    if final["reset_by"] is not None:
        want = final["reset_by"] if final["reset_by"] >= 0 else None
        check(info["reset_by"] == want, "%s: reset by %s, want %s" % (where, info["reset_by"],
                                                                      want))
    if name == "c":
        rst = [i for i, t in enumerate(tsegs) if t["flags"] & RST]
        check(len(rst) == 1 and tsegs[rst[0]]["from"] == 0,
              "%s: tshark: not one RST from the client" % where)
        if rst:
            check("rst-abort" in note_kinds(ssegs[rst[0]]), "%s: the RST lacks rst-abort: %s" %
                  (where, note_kinds(ssegs[rst[0]])))
        check(sfacts["error"] == "ECONNRESET", "%s: the server saw %s" % (where, sfacts["error"]))

    # Closing: a FIN note on every FIN, fin-acked on the first segment acknowledging it, and
    # TIME-WAIT on the segment after which the diagram puts an end in TIME-WAIT, or on that
    # end's next segment (its ACK of the FIN).
    for i, t in enumerate(tsegs):
        if t["flags"] & FIN and not any(u["flags"] & FIN and u["from"] == t["from"]
                                        for u in tsegs[:i]):
            check("fin" in note_kinds(ssegs[i]), "%s, segment %d: FIN lacks its note: %s" %
                  (where, i, note_kinds(ssegs[i])))
            fin_ack = (t["seq"] + t["len"] + 1) & 0xFFFFFFFF
            acks = [j for j in range(i + 1, len(tsegs)) if tsegs[j]["from"] != t["from"] and
                    tsegs[j]["flags"] & ACK and tsegs[j]["ack"] == fin_ack]
            if check(acks, "%s: tshark: the FIN of side %d is never acknowledged" %
                     (where, t["from"])):
                check("fin-acked" in note_kinds(ssegs[acks[0]]),
                      "%s, segment %d: acknowledges the FIN but lacks fin-acked: %s" %
                      (where, acks[0], note_kinds(ssegs[acks[0]])))
    tw = [i for i, s in enumerate(ssegs) if "time-wait" in note_kinds(s)]
    if "TIME-WAIT" in final["states"]:
        k = next(i for i, w in enumerate(want_states) if "TIME-WAIT" in w)
        side = want_states[k].index("TIME-WAIT")
        nxt = next((j for j in range(k + 1, len(tsegs)) if tsegs[j]["from"] == side), None)
        check(len(tw) == 1 and tw[0] in (k, nxt), "%s: time-wait noted on %s, want segment "
              "%d or %s" % (where, tw, k, nxt))
    else:
        check(not tw, "%s: time-wait noted on %s" % (where, tw))

    # Annotations against tshark's own analysis, where the two must agree.
    def notes_at(*kinds):
        return {i for i, s in enumerate(ssegs) if set(note_kinds(s)) & set(kinds)}

    def frames(ix):
        return sorted(tsegs[i]["frame"] for i in ix)

    def agree(label, got, want):
        check(got == want, "%s: %s on frames %s, tshark %s" % (where, label, frames(got),
                                                               frames(want)))
    # Retransmissions of any kind (data, SYN, FIN): tshark's retransmission flags.
    agree("retransmissions",
          notes_at("retransmit", "fast-retransmit", "syn-retransmit", "fin-retransmit"),
          {i for i, t in enumerate(tsegs) if t["retx"]})
    agree("duplicate ACKs", notes_at("dup-ack"), {i for i, t in enumerate(tsegs) if t["dup_ack"]})
    # Zero windows: every segment tshark calls a zero window carries the note or follows one
    # from the same side with the window still shut (a repeated zero window need not be
    # pointed out again); none elsewhere.
    zw_t = {i for i, t in enumerate(tsegs) if t["zero_window"]}
    zw_s = notes_at("zero-window")
    check(zw_s <= zw_t, "%s: zero-window on frames %s, tshark only %s" % (where, frames(zw_s),
                                                                          frames(zw_t)))
    last_wnd = [None, None]
    probe_want, open_want, ka_want = set(), set(), set()
    for i, t in enumerate(tsegs):
        f = t["from"]
        if i in zw_t and last_wnd[f] != 0:
            check(i in zw_s, "%s: frame %d closes the window, synack says nothing" %
                  (where, t["frame"]))
        # A probe (tshark's keep-alive or zero window probe) while the receiver's window is
        # zero is a window probe (RFC 9293 §3.8.6.1); otherwise a keep-alive (§3.8.4).
        if t["probe_like"]:
            (probe_want if last_wnd[1 - f] == 0 else ka_want).add(i)
        if last_wnd[f] == 0 and t["wnd"] > 0 and not t["flags"] & (SYN | RST):
            open_want.add(i)
        if not t["flags"] & (SYN | RST):
            last_wnd[f] = t["wnd"]
    agree("window probes", notes_at("window-probe"), probe_want)
    if name == "d":
        check(zw_t and probe_want and open_want, "%s: tshark sees %d zero windows, %d probes, "
              "%d openings: the scenario did not close the window" %
              (where, len(zw_t), len(probe_want), len(open_want)))
    agree("window opening", notes_at("window-open"), open_want)
    agree("keep-alives", notes_at("keepalive"), ka_want)
    # The answer to a keep-alive: tshark's keep-alive ACK, after a keep-alive (not a probe).
    ka_ack_want = set()
    for i, t in enumerate(tsegs):
        if t["keep_alive_ack"]:
            prev = [j for j in range(i) if tsegs[j]["from"] != t["from"]]
            if prev and prev[-1] in ka_want:
                ka_ack_want.add(i)
    agree("keep-alive answers", notes_at("keepalive-ack"), ka_ack_want)
    if name == "e":
        check(len(ka_want) >= 2, "%s: tshark sees %d keep-alives, the client idled for two" %
              (where, len(ka_want)))
    # SACK: a note with the number of blocks on every segment carrying them; D-SACK as tshark.
    for i, t in enumerate(tsegs):
        n = note(ssegs[i], "sack")
        if t["sack_blocks"]:
            check(n is not None and n["a"] == t["sack_blocks"],
                  "%s, frame %d: %d SACK blocks, synack's note %s" % (where, t["frame"],
                                                                       t["sack_blocks"], n))
        else:
            check(n is None, "%s, frame %d: a SACK note without blocks" % (where, t["frame"]))
    agree("D-SACK", notes_at("dsack"), {i for i, t in enumerate(tsegs) if t["dsack"]})
    # A lossless veth: tshark sees nothing missing or out of order, and neither may synack.
    if not any(t["out_of_order"] or t["lost"] for t in tsegs):
        agree("out of order / capture gaps",
              notes_at("out-of-order", "capture-missed", "ack-unseen", "mid-stream"), set())

    # SACK blocks: absolute, as tshark reads them plus the data sender's ISN.
    isn = info["isn"]
    for i, t in enumerate(tsegs):
        if t["sack"] and isn[1 - t["from"]] is not None:
            base = isn[1 - t["from"]]
            want = [[(le + base) & 0xFFFFFFFF, (re + base) & 0xFFFFFFFF] for le, re in t["sack"]]
            check(ssegs[i].get("sack") == want, "%s, frame %d: SACK blocks %s, tshark %s" %
                  (where, t["frame"], ssegs[i].get("sack"), want))
    # A retransmission's arguments: the time since the same sequence number was last sent and
    # the bytes sent again, from tshark's frames.
    for i, t in enumerate(tsegs):
        n = note(ssegs[i], "retransmit") or note(ssegs[i], "fast-retransmit")
        if n is None or not t["len"]:
            continue
        # The last segment that carried its first byte (with TSO, maybe from its middle).
        prev = [u for u in tsegs[:i] if u["from"] == t["from"] and
                (t["seq"] - u["seq"]) & 0xFFFFFFFF < u["len"]]
        if check(prev, "%s, frame %d: a retransmission of nothing tshark saw" %
                 (where, t["frame"])):
            dt = t["time_us"] - prev[-1]["time_us"]
            check(abs(n["a"] - dt) <= 2, "%s, frame %d: retransmitted after %d us, tshark %d" %
                  (where, t["frame"], n["a"], dt))
            if n["code"] == "retransmit":
                check(n["b"] == t["len"], "%s, frame %d: %d bytes resent, tshark %d" %
                      (where, t["frame"], n["b"], t["len"]))
    # The data that fills the receiver's window, as tshark's window-full; the window that opens
    # again offers what tshark reads in it; a FIN counts what its sender sent in all.
    agree("window full", notes_at("window-full"), {i for i, t in enumerate(tsegs)
                                                     if t["window_full"]})
    for i in open_want:
        n = note(ssegs[i], "window-open")
        check(n is None or n["a"] == tsegs[i]["wnd"], "%s, frame %d: window opens to %s, "
              "tshark %d" % (where, tsegs[i]["frame"], n and n["a"], tsegs[i]["wnd"]))
    sent = [cfacts.get("sent"), sfacts.get("sent")]
    for i, t in enumerate(tsegs):
        n = note(ssegs[i], "fin")
        if n is not None and sent[t["from"]] is not None:
            check(n["a"] == sent[t["from"]], "%s, frame %d: FIN after %d bytes, the peer sent "
                  "%d" % (where, t["frame"], n["a"], sent[t["from"]]))

    # The summary's counts: segments and retransmissions each side sent, in tshark's reading.
    for key, want in (("segments", [sum(1 for t in tsegs if t["from"] == side)
                                    for side in (0, 1)]),
                      ("retransmits", [sum(1 for t in tsegs if t["from"] == side and t["retx"])
                                       for side in (0, 1)])):
        check(list(info[key]) == want, "%s: %s %s, tshark %s" % (where, key, info[key], want))

    # Bytes each way: what the Python peers sent.
    if name != "b":
        want = [cfacts["sent"], sfacts["sent"]]
        check(list(info["bytes"]) == want, "%s: bytes %s, the peers sent %s" %
              (where, list(info["bytes"]), want))
        check(cfacts["received"] == sfacts["sent"] and sfacts["received"] == cfacts["sent"],
              "%s: the peers' own counts disagree: %s %s" % (where, cfacts, sfacts))


def summary_lines(name, conn):
    """What must not depend on the capture's format or timing: header fields, window, states,
    notes (kinds and arguments other than times)."""
    timed = {"retransmit", "fast-retransmit", "syn-retransmit", "fin-retransmit"}
    yield "%s isn=%s end=%s states=%s bytes=%s" % (name, conn["isn"], conn["end"],
                                                     conn["state"], conn["bytes"])
    for s in conn["segs"]:
        notes = ",".join("%s(%s)" % (n["code"], "" if n["code"] in timed else n["a"])
                         for n in s.get("notes", []))
        yield "  %d %d %s %s %d %d %s %s" % (s["from"], s["seq"], s["ack"], s["flags_bits"],
                                             s["len"], s["win_bytes"], s["states_after"], notes)


def main():
    capture, encap, port, cfacts_path, sfacts_path, synack_path = sys.argv[1:7]
    summary_path = sys.argv[7] if len(sys.argv) > 7 else None
    port = int(port)
    with open(cfacts_path) as f:
        cfacts = json.load(f)
    with open(sfacts_path) as f:
        sfacts = json.load(f)
    tsegs = tshark_segments(capture)
    encaps = {t["encap"] for t in tsegs}
    check(encaps == {int(encap)}, "%s: link types %s, want %s" % (capture, encaps, encap))
    conns = {conn_key(c): c for c in load_synack(synack_path)}
    check(len(conns) == len(SCENARIOS), "synack found %d connections, the test made %d" %
          (len(conns), len(SCENARIOS)))
    summary = []
    for k, name in enumerate(SCENARIOS):
        cport = cfacts[name]["client_port"]
        mine = [t for t in tsegs if (t["sport"], t["dport"]) in ((cport, port + k),
                                                                 (port + k, cport))]
        if not check(mine, "scenario %s: tshark finds no segment on ports %d, %d" %
                     (name, cport, port + k)):
            continue
        key = ((mine[0]["src"], mine[0]["dst"]), (cport, port + k))
        conn = conns.get(key)
        if not check(conn is not None, "scenario %s: synack has no connection %s" % (name, key)):
            continue
        check_conn(name, mine, conn, cfacts[name], sfacts.get(name, {}))
        summary += list(summary_lines(name, conn))
    if summary_path:
        with open(summary_path, "w") as f:
            f.write("\n".join(summary) + "\n")
    for f in failures:
        print("FAIL:", f)
    print("%s: %d segments in %d connections checked, %d failures" %
          (capture, len(tsegs), len(conns), len(failures)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
