#!/usr/bin/env bash
# `synack connect --html` and `synack serve --html` against the kernel: the page is written at
# exit and holds the connection with one segment record per TCP segment of the run, counted
# by tshark in the run's own --pcap (an outside count, not the page's), the sender's
# variables and why each of synack's segments left. Structure in a browser is
# test_trace_html.sh's part; here the data the page is drawn from.
source "$(dirname "$0")/lib.sh"
setup_ns
command -v tshark >/dev/null || { echo "SKIP: no tshark"; exit 77; }
random_file "$TMP/data" 200000
(nsrun python3 "$(dirname "$0")/echo_server.py" "$KADDR" 5003 "$TMP/server.sha" >"$TMP/server.out" 2>&1) &
PIDS+=($!)
wait_for "grep -q listening '$TMP/server.out'" 5 || fail "python server did not start"
nsx "$BIN" connect --tap "$TAP" --addr "$SADDR/24" --to "$KADDR:5003" --send "$TMP/data" \
  --recv "$TMP/back" --pcap "$TMP/c.pcap" --html "$TMP/c.html" --lang en \
  >"$TMP/connect.out" 2>"$TMP/connect.err" || fail "connect failed: $(cat "$TMP/connect.err")"
[ -s "$TMP/c.html" ] || fail "no page written"
want=$(tshark -r "$TMP/c.pcap" -Y tcp 2>/dev/null | wc -l)
got=$(grep -o '"kind":"seg"' "$TMP/c.html" | wc -l)
[ "$got" -eq "$want" ] && [ "$want" -gt 0 ] || fail "page has $got segments, tshark counts $want"
grep -q '"why":"syn"' "$TMP/c.html" || fail "the SYN's reason is missing"
grep -q '"why":"new-data"' "$TMP/c.html" || fail "no data segment's reason"
grep -q '"sender":{"cwnd":' "$TMP/c.html" || fail "no sender variables"
grep -q '"kind":"state","t_us":[0-9]*,"side":0,"state_from":"CLOSED","state_to":"SYN-SENT"' \
  "$TMP/c.html" ||
  fail "the real state change CLOSED -> SYN-SENT is missing"
grep -q '</script' <(sed -n '/id="trace-data"/,/<\/script>/p' "$TMP/c.html" | sed '$d') &&
  fail "the data ends its script element early"
echo "connect --html: $got segments = tshark's $want"

# serve --html: a kernel client (nc) sends to synack's echo; SIGTERM ends it, the page is
# written at exit.
(nsrun "$BIN" serve --tap "$TAP" --addr "$SADDR/24" --port 7 --app echo \
   --pcap "$TMP/s.pcap" --html "$TMP/s.html" --lang zh >"$TMP/serve.out" 2>"$TMP/serve.err") &
SPID=$!
PIDS+=($SPID)
wait_for "grep -q 'synack serve' '$TMP/serve.out'" 5 || fail "serve did not start"
head -c 50000 "$TMP/data" | timeout 10 ip netns exec "$NS" nc -q 1 "$SADDR" 7 >"$TMP/echoed" ||
  true
kill -TERM "$SPID"
wait_for "[ -s '$TMP/s.html' ]" 10 || fail "serve wrote no page: $(cat "$TMP/serve.err")"
wait "$SPID" 2>/dev/null || true
want=$(tshark -r "$TMP/s.pcap" -Y tcp 2>/dev/null | wc -l)
got=$(grep -o '"kind":"seg"' "$TMP/s.html" | wc -l)
[ "$got" -eq "$want" ] && [ "$want" -gt 0 ] || fail "serve page has $got segments, tshark counts $want"
grep -q '<html lang="zh"' "$TMP/s.html" || fail "serve page not in Chinese"
echo "PASS: connect --html and serve --html pages hold every segment with the sender's view"
