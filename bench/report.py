#!/usr/bin/env python3
"""make bench's report: medians, the table, the goals, results.json and one SVG per metric.

usage: report.py [--check] DIR

Reads every DIR/*.jsonl (one measurement a line, written by the bench programs through
bench/bench_out.h and by bench/kpeer.c):
  {"metric": "bulk_in_gbps", "subject": "synack-tap", "value": 2.1, "unit": "Gbit/s",
   "round": 1, "params": {...}}
takes the median over rounds of each (subject, metric) -- of each (subject, metric, n) for the
scaling metrics, whose params carry n -- prints the tables and the goal ratios of issue 12,
and writes DIR/results.json (the machine, the medians, the ratios, every record) and
DIR/<metric>.svg: bars per subject, or a log-log line over n for the scaling metrics.
--check (the smoke test): also fails unless every "subject metric" line of DIR/expected.txt
has a record and every SVG parses as XML; the numbers themselves are not judged.
Python 3 standard library only.
"""
import glob
import json
import os
import platform
import statistics
import sys
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

WIRE_SUBJECTS = ["synack-tap", "synack-tap-2threads", "kernel-veth", "lwip-tap", "tap-limit"]
WIRE_METRICS = [("bulk_in_gbps", "kernel→subject Gbit/s"), ("bulk_out_gbps", "subject→kernel Gbit/s"),
                ("conn_per_s", "conn/s"), ("rr_p50_us", "RR p50 µs"), ("rr_p99_us", "RR p99 µs")]
MEM_SUBJECTS = ["synack-memory", "kernel-loopback"]
MEM_METRICS = [("goodput_1500_gbps", "MTU 1500 Gbit/s"), ("goodput_1500_offload_gbps", "MTU 1500, offloads"),
               ("goodput_64k_gbps", "64 KiB Gbit/s"), ("goodput_64k_offload_gbps", "64 KiB, offloads"),
               ("mem_conn_per_s", "conn/s")]
STATES = ["listen", "syn_sent", "syn_received", "established", "established_32b", "close_wait",
          "last_ack", "fin_wait_1", "fin_wait_2", "time_wait"]
SCALE_METRICS = [("scale_conn_per_s", "connections/s"), ("scale_bytes_per_conn", "bytes per connection")]
DESCRIPTIONS = {
    "synack-tap": "synack serve on a TAP, default settings",
    "synack-tap-2threads": "synack serve --threads 2 on a multi-queue TAP",
    "kernel-veth": "Linux TCP, two namespaces over veth",
    "lwip-tap": "lwIP (liblwip-dev) raw API on a TAP",
    "tap-limit": "raw TAP endpoint with TSO/GRO (bulk only)",
    "synack-memory": "two synack stacks, one thread, in-memory link",
    "kernel-loopback": "Linux TCP over 127.0.0.1 in a namespace",
}


def load(dirpath):
    records = []
    for path in sorted(glob.glob(os.path.join(dirpath, "*.jsonl"))):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    records.append(json.loads(line))
    return records


def medians(records):
    """{(subject, metric): median} and {(subject, metric): {n: median}} for scaling metrics."""
    flat, scaled = {}, {}
    for r in records:
        n = r.get("params", {}).get("n")
        if r["metric"].startswith("scale_") and n is not None:
            scaled.setdefault((r["subject"], r["metric"]), {}).setdefault(int(n), []).append(r["value"])
        else:
            flat.setdefault((r["subject"], r["metric"]), []).append(r["value"])
    flat = {k: statistics.median(v) for k, v in flat.items()}
    scaled = {k: {n: statistics.median(v) for n, v in sorted(d.items())} for k, d in scaled.items()}
    return flat, scaled


def units(records):
    return {r["metric"]: r["unit"] for r in records}


def machine(dirpath):
    def read(name, default=""):
        try:
            with open(os.path.join(dirpath, name)) as f:
                return f.read().strip()
        except OSError:
            return default
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_kb = 0
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "memory_gib": round(mem_kb / (1 << 20), 1),
        "date": read("date.start"),
        "load_start": " ".join(read("loadavg.start").split()[:3]),
        "load_end": " ".join(read("loadavg.end").split()[:3]),
        "revision": read("revision"),
    }


def fmt(v):
    if v is None:
        return "–"
    if v >= 1000:
        return f"{v:,.0f}"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def table(title, rows, cols, flat):
    present = [s for s in rows if any((s, m) in flat for m, _ in cols)]
    if not present:
        return []
    head = ["subject"] + [label for _, label in cols]
    body = [[s] + [fmt(flat.get((s, m))) for m, _ in cols] for s in present]
    widths = [max(len(r[i]) for r in [head] + body) for i in range(len(head))]
    out = ["", title]
    line = lambda r: "  " + "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
    out.append(line(head))
    out.extend(line(r) for r in body)
    return out


def ratio(flat, a, b):
    if a in flat and b in flat and flat[b]:
        return flat[a] / flat[b]
    return None


def goals(flat):
    """Issue 12's goals, each a ratio or a value measured in this run, with its target; the
    ratios the issue sets no target for are there for information (target None)."""
    g = []
    def add(name, value, target=None, op=">="):
        if value is None:
            return
        met = None
        if target is not None:
            met = {">=": value >= target, ">": value > target, "<": value < target}[op]
        g.append({"goal": name, "value": round(value, 3), "target": target, "op": op, "met": met})
    for s in ["synack-tap", "synack-tap-2threads"]:
        r = lambda m, other: ratio(flat, (s, m), (other, m))
        add(f"{s} in / tap-limit in", r("bulk_in_gbps", "tap-limit"), 0.9)
        add(f"{s} out / tap-limit out", r("bulk_out_gbps", "tap-limit"))
        add(f"{s} in / kernel-veth in", r("bulk_in_gbps", "kernel-veth"))
        add(f"{s} out / kernel-veth out", r("bulk_out_gbps", "kernel-veth"), 2.0)
        add(f"{s} in / lwip-tap in", r("bulk_in_gbps", "lwip-tap"), 9.0, ">")
        add(f"{s} out / lwip-tap out", r("bulk_out_gbps", "lwip-tap"), 9.0, ">")
        add(f"{s} conn/s / kernel-veth conn/s", r("conn_per_s", "kernel-veth"), 1.0)
        add(f"{s} RR p50 / kernel-veth RR p50", r("rr_p50_us", "kernel-veth"))
    add("synack-memory conn/s / kernel-loopback conn/s",
        ratio(flat, ("synack-memory", "mem_conn_per_s"), ("kernel-loopback", "mem_conn_per_s")), 10.0)
    add("synack-memory 64 KiB Gbit/s", flat.get(("synack-memory", "goodput_64k_gbps")), 60.0)
    add("synack-memory MTU 1500 Gbit/s", flat.get(("synack-memory", "goodput_1500_gbps")), 20.0)
    # The same with the in-memory link offering what a virtio-net TAP offers (TSO, checksums,
    # GRO: sk_link_caps), as information beside the goals above.
    add("synack-memory 64 KiB Gbit/s, link offloads", flat.get(("synack-memory", "goodput_64k_offload_gbps")))
    add("synack-memory MTU 1500 Gbit/s, link offloads",
        flat.get(("synack-memory", "goodput_1500_offload_gbps")))
    # 216 is issue 12's figure for lwIP's tcp_pcb; as Debian builds lwIP it measures 288 (the
    # lwip row of the bytes-per-state table). The label stays as the README's sample shows it
    # until the next recorded run.
    add("synack TCB bytes (lwIP's tcp_pcb: 216)", flat.get(("synack", "tcb_bytes")), 216, "<")
    add("synack idle established connection bytes", flat.get(("synack", "conn_bytes_established")), 1024,
        "<")
    return g


# ---- SVG, written by hand ----
def svg_bars(metric, unit, values, runs):
    """Horizontal bars, one per subject, the median written beside it, the rounds as dots."""
    bar_h, gap, left, width = 26, 10, 190, 460
    top = 40
    h = top + len(values) * (bar_h + gap) + 30
    vmax = max([v for _, v in values] + [x for xs in runs.values() for x in xs] + [1e-9])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 120}" height="{h}" '
             f'font-family="sans-serif" font-size="13">',
             f'<text x="10" y="22" font-size="15" font-weight="bold">{escape(metric)} ({escape(unit)}), '
             f'median of rounds</text>']
    for i, (subject, v) in enumerate(values):
        y = top + i * (bar_h + gap)
        w = max(1.0, width * v / vmax)
        color = "#3b7dd8" if subject.startswith("synack") else "#999999"
        parts.append(f'<text x="{left - 8}" y="{y + bar_h * 0.7:.1f}" text-anchor="end">{escape(subject)}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}"/>')
        parts.append(f'<text x="{left + w + 6:.1f}" y="{y + bar_h * 0.7:.1f}">{escape(fmt(v))}</text>')
        for x in runs.get(subject, []):
            parts.append(f'<circle cx="{left + width * x / vmax:.1f}" cy="{y + bar_h / 2}" r="2.5" fill="#222"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def svg_loglog(metric, unit, series):
    """Log-log lines over n, one per subject."""
    import math
    left, top, width, height = 80, 40, 480, 300
    pts = [(n, v) for d in series.values() for n, v in d.items() if n > 0 and v > 0]
    if not pts:
        pts = [(1, 1)]
    lx0, lx1 = math.floor(math.log10(min(n for n, _ in pts))), math.ceil(math.log10(max(n for n, _ in pts)))
    ly0, ly1 = math.floor(math.log10(min(v for _, v in pts))), math.ceil(math.log10(max(v for _, v in pts)))
    lx1, ly1 = max(lx1, lx0 + 1), max(ly1, ly0 + 1)
    X = lambda n: left + width * (math.log10(n) - lx0) / (lx1 - lx0)
    Y = lambda v: top + height - height * (math.log10(v) - ly0) / (ly1 - ly0)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 160}" height="{top + height + 50}" '
             f'font-family="sans-serif" font-size="12">',
             f'<text x="10" y="22" font-size="15" font-weight="bold">{escape(metric)} ({escape(unit)}) '
             f'against connections, log-log</text>',
             f'<rect x="{left}" y="{top}" width="{width}" height="{height}" fill="none" stroke="#888"/>']
    for e in range(lx0, lx1 + 1):
        x = X(10 ** e)
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + height}" stroke="#ddd"/>')
        parts.append(f'<text x="{x:.1f}" y="{top + height + 16}" text-anchor="middle">1e{e}</text>')
    for e in range(ly0, ly1 + 1):
        y = Y(10 ** e)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + width}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">1e{e}</text>')
    parts.append(f'<text x="{left + width / 2}" y="{top + height + 36}" text-anchor="middle">connections (n)</text>')
    colors = ["#3b7dd8", "#d8553b", "#3bd87d", "#999999"]
    for i, (subject, d) in enumerate(sorted(series.items())):
        c = colors[i % len(colors)]
        xy = [(X(n), Y(v)) for n, v in sorted(d.items()) if n > 0 and v > 0]
        parts.append(f'<polyline fill="none" stroke="{c}" stroke-width="2" points="'
                     + " ".join(f"{x:.1f},{y:.1f}" for x, y in xy) + '"/>')
        for (x, y), (n, v) in zip(xy, sorted(d.items())):
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{c}"/>')
            parts.append(f'<text x="{x + 5:.1f}" y="{y - 6:.1f}" font-size="10">{escape(fmt(v))}</text>')
        parts.append(f'<text x="{left + width + 10}" y="{top + 16 + 16 * i}" fill="{c}">{escape(subject)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def order(subject):
    known = WIRE_SUBJECTS + MEM_SUBJECTS + ["synack", "lwip"]
    return known.index(subject) if subject in known else len(known)


def main(argv):
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    if len(args) != 1:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    d = args[0]
    records = load(d)
    flat, scaled = medians(records)
    unit = units(records)
    m = machine(d)
    rounds = max([r.get("round", 1) for r in records] + [0])
    lines = ["make bench: medians of %d round(s)" % rounds,
             f"machine: {m['cpu']}, {m['cores']} cores, Linux {m['kernel']}, {m['memory_gib']} GiB; "
             f"{m['date']}; load {m['load_start']} at start, {m['load_end']} at end; revision {m['revision'] or '?'}"]
    lines += table("Over a wire, the Linux kernel as the peer (bulk: one flow; conn/s: 32 B each way, "
                   "one client thread; RR: 32 B ping-pong on one connection)", WIRE_SUBJECTS, WIRE_METRICS, flat)
    lines += table("In one process (goodput: one flow, wall clock; conn/s: 32 B each way)", MEM_SUBJECTS,
                   MEM_METRICS, flat)
    state_cols = [("tcb_bytes", "TCB")] + [("conn_bytes_" + s, s) for s in STATES]
    lines += table("Bytes per connection by state (everything the stack allocates, by difference over "
                   "N connections; lwIP: sizeof(struct tcp_pcb) only)", ["synack", "lwip"], state_cols, flat)
    for (subject, metric), d_n in sorted(scaled.items()):
        lines.append("")
        lines.append(f"{subject} {metric} by number of established connections:")
        lines.append("  " + "  ".join(f"n={n:,}: {fmt(v)}" for n, v in d_n.items()))
    g = goals(flat)
    if g:
        lines.append("")
        lines.append("Goals of issue 12 (ratios within this run):")
        for x in g:
            verdict = {True: "met    ", False: "NOT met", None: "info   "}[x["met"]]
            target = "" if x["target"] is None else f" (goal {x['op'].replace('>=', '≥')} {x['target']})"
            lines.append(f"  {verdict}  {x['goal']}: {fmt(x['value'])}{target}")
    print("\n".join(lines))

    # One SVG per metric.
    svgs = []
    by_metric = {}
    for (subject, metric), v in flat.items():
        by_metric.setdefault(metric, []).append((subject, v))
    runs = {}
    for r in records:
        if not r["metric"].startswith("scale_"):
            runs.setdefault(r["metric"], {}).setdefault(r["subject"], []).append(r["value"])
    for metric, values in sorted(by_metric.items()):
        values.sort(key=lambda sv: order(sv[0]))
        path = os.path.join(d, metric + ".svg")
        with open(path, "w") as f:
            f.write(svg_bars(metric, unit.get(metric, ""), values, runs.get(metric, {})))
        svgs.append(path)
    series = {}
    for (subject, metric), d_n in scaled.items():
        series.setdefault(metric, {})[subject] = d_n
    for metric, s in sorted(series.items()):
        path = os.path.join(d, metric + ".svg")
        with open(path, "w") as f:
            f.write(svg_loglog(metric, unit.get(metric, ""), s))
        svgs.append(path)

    results = {
        "machine": m,
        "rounds": rounds,
        "subjects": {s: DESCRIPTIONS.get(s, "") for s in sorted({r["subject"] for r in records}, key=order)},
        "medians": {},
        "scaling": {},
        "goals": g,
        "units": unit,
        "records": records,
    }
    for (subject, metric), v in flat.items():
        results["medians"].setdefault(subject, {})[metric] = v
    for (subject, metric), d_n in scaled.items():
        results["scaling"].setdefault(subject, {})[metric] = {str(n): v for n, v in d_n.items()}
    with open(os.path.join(d, "results.json"), "w") as f:
        json.dump(results, f, indent=1, ensure_ascii=False)
    print(f"\nwrote {os.path.join(d, 'results.json')} and {len(svgs)} SVG plots in {d}")

    if not check:
        return 0
    bad = []
    have = {(r["subject"], r["metric"]) for r in records}
    try:
        with open(os.path.join(d, "expected.txt")) as f:
            expected = [tuple(line.split()) for line in f if line.strip()]
    except OSError:
        expected = []
        bad.append("no expected.txt")
    for subject, metric in expected:
        if (subject, metric) not in have:
            bad.append(f"no record of {metric} for {subject}")
    for path in svgs:
        try:
            ET.parse(path)
        except ET.ParseError as e:
            bad.append(f"{path}: not XML: {e}")
    with open(os.path.join(d, "results.json")) as f:
        json.load(f)
    for b in bad:
        print("bench check: " + b, file=sys.stderr)
    print(f"bench check: {len(expected)} expected records, {len(svgs)} SVGs: "
          + ("all present and well-formed" if not bad else f"{len(bad)} problem(s)"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
