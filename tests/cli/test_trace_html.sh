#!/usr/bin/env bash
# The HTML page of `synack sim --html` and `synack trace --html` (tools/html.c, tools/page/),
# opened in headless Chromium (Debian's `chromium`) and checked by structure, not pixels:
#  - no console message at all (the page logs nothing) and no uncaught exception;
#  - the ladder SVG has exactly one element of class "seg" per TCP segment, the count taken
#    from tshark's reading of the run's pcap (plus the frames the simulated link lost, which
#    the pcap does not hold: the count `sim` prints for its link, not the page's own);
#  - the time-sequence graph, the step-through controls and its panel, and for a simulation
#    the sender's cwnd/ssthresh and SRTT/RTO graphs exist;
#  - the Chinese page has the Chinese words (三次握手, 上一个, 下一个, 拥塞窗口 cwnd);
#  - a run of more segments than the page draws says how many were left out, and a trace with
#    no connection says so, both without errors.
# A screenshot of each page goes to the log directory (SK_TEST_LOG_DIR, else ./trace_html_log).
# SK_TRACE_HTML_SHORT=1 (the sanitizer build) makes only pages 1 and 4: sim's and trace's.
# Without chromium the test is skipped (exit 77): scripts/install-deps.sh installs it.
#
# usage: bash test_trace_html.sh /path/to/synack
set -u
SYNACK=${1:?usage: test_trace_html.sh /path/to/synack}
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
    echo "SKIP: chromium is not installed (apt-get install chromium, or scripts/install-deps.sh)"
    exit 77
fi
if ! command -v tshark >/dev/null; then
    echo "SKIP: tshark is not installed (scripts/install-deps.sh)"
    exit 77
fi
LOG=${SK_TEST_LOG_DIR:-$PWD/trace_html_log}
mkdir -p "$LOG"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
ok() { echo "ok   $*"; }
not_ok() { echo "FAIL $*"; failures=$((failures + 1)); }
check() { # check DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# open NAME: loads $tmp/NAME.html in headless Chromium; the DOM after the scripts ran goes to
# $tmp/NAME.dom, its log (console messages) to $tmp/NAME.log, a screenshot to the log dir.
open_page() {
    local name=$1 url="file://$tmp/$1.html"
    local flags=(--headless=new --no-sandbox --disable-gpu --no-first-run --hide-scrollbars
                 --user-data-dir="$tmp/profile" --virtual-time-budget=5000)
    timeout 180 "$CHROMIUM" "${flags[@]}" --enable-logging=stderr --v=0 --dump-dom "$url" \
        >"$tmp/$name.dom" 2>"$tmp/$name.log"
    timeout 180 "$CHROMIUM" "${flags[@]}" --window-size=1400,1000 \
        --screenshot="$LOG/$name.png" "$url" >/dev/null 2>&1
    cp "$tmp/$name.html" "$LOG/$name.html"
    [ -s "$tmp/$name.dom" ] || not_ok "$name: chromium produced no DOM ($(tail -3 "$tmp/$name.log"))"
    [ -s "$LOG/$name.png" ] && ok "$name: screenshot $LOG/$name.png"
}

no_errors() { # the page wrote nothing to the console (it logs nothing) and threw nothing
    ! grep -qE 'CONSOLE|Uncaught' "$tmp/$1.log"
}
count() { grep -o "$2" "$tmp/$1.dom" | wc -l; }
has() { grep -q "$2" "$tmp/$1.dom"; }

# tshark's count of TCP segments in a capture: the oracle for the ladder's rows.
tcp_in_pcap() { tshark -r "$1" -Y tcp 2>/dev/null | wc -l; }
# Frames the simulated link lost, from sim's summary ("... frames N, lost L, ...").
lost_on_link() { grep -o 'lost [0-9]*' "$1" | awk '{s += $2} END {print s + 0}'; }

# structure NAME PCAP SUMMARY: the checks every page gets.
structure() {
    local name=$1 pcap=$2 summary=$3
    local want=$(( $(tcp_in_pcap "$pcap") + $(lost_on_link "$summary") ))
    local got
    got=$(count "$name" '<g class="seg[ "]')
    check "$name: no console errors or exceptions" no_errors "$name"
    check "$name: ladder SVG present" has "$name" '<svg id="ladder"'
    if [ "$got" -eq "$want" ] && [ "$want" -gt 0 ]; then
        ok "$name: $got elements of class seg = $want TCP segments (tshark + lost on the link)"
    else
        not_ok "$name: $got elements of class seg, tshark and the link say $want"
    fi
    check "$name: time-sequence graph with data bars" has "$name" 'class="tbar'
    check "$name: time-sequence graph with the ACK line" has "$name" 'class="ackline"'
    check "$name: step-through buttons" has "$name" '<button id="next"'
    check "$name: step panel filled" has "$name" '<div id="detail"><table>'
    check "$name: the first segment is the current step" has "$name" 'class="seg s0[^"]* cur" data-i="0"'
}

# 1. synack sim --html: the default scenario, English.
"$SYNACK" sim -q --bytes 20000 --pcap "$tmp/sim.pcap" --html "$tmp/sim_en.html" --lang en \
    >"$tmp/sim.txt" 2>&1 || not_ok "synack sim --html failed: $(tail -3 "$tmp/sim.txt")"
open_page sim_en
structure sim_en "$tmp/sim.pcap" "$tmp/sim.txt"
check "sim_en: cwnd/ssthresh graph (sender info)" has sim_en 'class="series c-cwnd"'
check "sim_en: SRTT/RTO graph (sender info)" has sim_en 'class="series c-rto"'
check "sim_en: why the first segment left" has sim_en 'opening SYN: the application called connect()'

if [ -z "${SK_TRACE_HTML_SHORT:-}" ]; then
# 1b. Zoom, pan and stepping, driven by the events a user makes: the page opened with #selftest
# fires them at itself (keys, the wheel, a drag, the buttons) and writes the views' domains
# before and after each. What each must do is what the page's help line and docs/trace-html.md
# promise: + and the wheel zoom in to 80 % about the centre, - zooms out by 1.25, Shift+arrows
# pan by a tenth, 0 and "Reset view" restore the whole connection, a drag moves the ladder
# with the pointer, the arrows step one segment.
timeout 180 "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --no-first-run \
    --user-data-dir="$tmp/profile" --virtual-time-budget=5000 --window-size=1400,1000 \
    --enable-logging=stderr --v=0 --dump-dom "file://$tmp/sim_en.html#selftest" \
    >"$tmp/selftest.dom" 2>"$tmp/selftest.log"
if python3 - "$tmp/selftest.dom" <<'PY'
import json, re, sys
dom = open(sys.argv[1], encoding="utf-8").read()
m = re.findall(r'<pre id="selftest">(\[\{.*?\}\])</pre>', dom)
if not m:
    sys.exit("no self-test results in the DOM")
steps = {s["step"]: s for s in json.loads(m[-1].replace("&quot;", '"'))}
bad = []
def close(a, b):
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))
def height(d): return d[3] - d[2]
def width(d): return d[1] - d[0]
def want(name, cond):
    if not cond:
        bad.append("%s: %s" % (name, json.dumps(steps.get(name))))
s = steps["key+"]
want("key+", close(height(s["after"]), 0.8 * height(s["before"])) and
     close(s["after"][2] + s["after"][3], s["before"][2] + s["before"][3]))
s = steps["key-"]
want("key-", close(height(s["after"]), 1.25 * height(s["before"])))
s = steps["shift-down"]
want("shift-down", close(s["after"][2] - s["before"][2], 0.1 * height(s["before"])) and
     close(height(s["after"]), height(s["before"])))
want("key0", steps["key0"]["after"] == steps["key0"]["full"])
want("next2", steps["next2"]["cur"] == 2)
want("prev", steps["prev"]["cur"] == 1)
s = steps["wheel-tsg"]
want("wheel-tsg", close(width(s["after"]), 0.8 * width(s["before"])) and
     close(height(s["after"]), 0.8 * height(s["before"])))
s = steps["drag-ladder"]
want("drag-ladder", close(s["before"][2] - s["after"][2], 100 / s["height"] * height(s["before"])))
s = steps["button-zoom-in"]
want("button-zoom-in", close(width(s["after"]), 0.8 * width(s["before"])))
want("button-reset", steps["button-reset"]["after"] == steps["button-reset"]["full"])
if 'class="seg s0 cur" data-i="1"' not in dom and not re.search(r'class="seg s[01][^"]* cur" data-i="1"', dom):
    bad.append("the current step is not segment 1 after two steps forward and one back")
if bad:
    sys.exit("\n".join(bad))
PY
then ok "sim_en: zoom, pan and stepping by keys, wheel, drag and buttons (#selftest)"
else not_ok "sim_en: the self-test of zoom, pan and stepping failed (above)"
fi
check "sim_en #selftest: no console errors" eval '! grep -qE "CONSOLE|Uncaught" "$tmp/selftest.log"'

# 2. The same run in Chinese: the words learners meet.
"$SYNACK" sim -q --bytes 20000 --html "$tmp/sim_zh.html" --lang zh >/dev/null 2>&1 ||
    not_ok "synack sim --html --lang zh failed"
open_page sim_zh
check "sim_zh: no console errors" no_errors sim_zh
check "sim_zh: <html lang=zh>" has sim_zh '<html lang="zh"'
for w in 三次握手 四次挥手 上一个 下一个 '拥塞窗口 cwnd' '慢启动阈值 ssthresh' '平滑往返时间 SRTT' '重传超时 RTO'; do
    check "sim_zh: has '$w'" has sim_zh "$w"
done
check "sim_zh: state names stay RFC 9293's" has sim_zh 'SYN-SENT'
# The applications' calls and the timers in Chinese too: the client sends the 20000 bytes it
# was told to, and TIME-WAIT's 2 MSL expires at its end.
check "sim_zh: the send() note in Chinese" has sim_zh 'send() 20000 字节测试数据'
check "sim_zh: the TIME-WAIT timer in Chinese" has sim_zh '到期：TIME-WAIT 定时器（2 MSL）'

# 3. A lossy run: lost segments are marked, retransmissions coloured.
"$SYNACK" sim -q --bytes 100000 --loss 3% --seed 7 --pcap "$tmp/loss.pcap" \
    --html "$tmp/sim_loss.html" --lang en >"$tmp/loss.txt" 2>&1 ||
    not_ok "synack sim --loss --html failed: $(tail -3 "$tmp/loss.txt")"
open_page sim_loss
structure sim_loss "$tmp/loss.pcap" "$tmp/loss.txt"
if [ "$(lost_on_link "$tmp/loss.txt")" -gt 0 ]; then
    check "sim_loss: lost segments marked" has sim_loss 'class="seg s[01][^"]* lost'
    check "sim_loss: retransmissions marked" has sim_loss 'class="tbar s[01] rtx'
fi
fi # SK_TRACE_HTML_SHORT

# 4. synack trace --html on the simulation's capture.
"$SYNACK" trace --html "$tmp/trace_en.html" --lang en "$tmp/sim.pcap" >"$tmp/trace.txt" 2>&1 ||
    not_ok "synack trace --html failed: $(tail -3 "$tmp/trace.txt")"
open_page trace_en
structure trace_en "$tmp/sim.pcap" /dev/null
# No connection at all (a filter that matches none): an empty page, no exception.
"$SYNACK" trace --html "$tmp/empty.html" --lang en --filter :1 "$tmp/sim.pcap" >/dev/null 2>&1
open_page empty
check "empty: no console errors" no_errors empty
check "empty: says there is no connection" has empty 'No TCP connection in this trace.'
# A capture whose path holds markup: the page's title and its JSON carry the path, and neither
# may end the <script> element or add an element (the path's "</script>" spans a directory).
mkdir -p "$tmp/x<"
cp "$tmp/sim.pcap" "$tmp/x</script><p id=\"pwn\">&amp;.pcap"
"$SYNACK" trace --html "$tmp/hostile.html" --lang en "$tmp/x</script><p id=\"pwn\">&amp;.pcap" \
    >/dev/null 2>&1 || not_ok "synack trace --html on a path with markup failed"
open_page hostile
structure hostile "$tmp/sim.pcap" /dev/null
check "hostile: the path's markup made no element" eval '! has hostile "<p id=\"pwn\">"'

if [ -z "${SK_TRACE_HTML_SHORT:-}" ]; then
# 5. More segments than the page draws: it says so, and still runs without errors.
"$SYNACK" sim -q --bytes 15M --html "$tmp/big.html" --lang en >/dev/null 2>&1 ||
    not_ok "synack sim --bytes 15M --html failed"
open_page big
check "big: no console errors" no_errors big
segs=$(count big '<g class="seg[ "]')
if [ "$segs" -eq 20000 ]; then ok "big: 20000 segments drawn"; else not_ok "big: $segs drawn"; fi
check "big: says segments were left out" has big 'segments of this connection are not drawn'

# 6. The refused connection (SYN, RST): a short trace, a reset phase.
"$SYNACK" sim -q -s refused --html "$tmp/refused.html" --lang en >/dev/null 2>&1
open_page refused
check "refused: no console errors" no_errors refused
check "refused: two segments" [ "$(count refused '<g class="seg[ "]')" -eq 2 ]
fi # SK_TRACE_HTML_SHORT

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed; pages and screenshots in $LOG"
    exit 1
fi
echo "all checks passed; pages and screenshots in $LOG"
