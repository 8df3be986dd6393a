#!/usr/bin/env bash
# A server that closes first holds the TIME-WAITs: `synack serve --app http:DIR` answers
# wrk's requests, each with Connection: close (RFC 9112 §9.6), so each connection is one
# request and synack sends the first FIN, then holds the 4-tuple in TIME-WAIT for 2·MSL
# (60 s by default, longer than this test). wrk makes REQUESTS of them from the kernel's
# namespace: none may fail (no socket error, no status other than 2xx), synack's TIME-WAIT
# count is printed and must reach MIN_TW (15,000), and its RSS may grow by at most
# RSS_BOUND_MB over the base (why that much: below). The first connections are captured and
# tshark shows synack closed first in each: its FIN does not acknowledge the client's.
# Usage: bash test_timewait_http.sh path/to/synack
. "$(dirname "$0")/lib.sh"
for t in wrk tcpdump tshark; do
  command -v $t >/dev/null || { echo "FAIL: $t missing (scripts/install-deps.sh installs it)"; exit 1; }
done
HERE=$(dirname "$0")
REQUESTS=25000
CONNS=8
if sanitized; then
  REQUESTS=5000 # about 150 a second there, against 3,000
  echo "AddressSanitizer build: $REQUESTS requests"
fi
# The kernel picks its ports at random and takes again one it holds nothing for, and then
# synack reopens its TIME-WAIT (RFC 6191, tcp_timewait_reused): about one in eight here. So
# the records held are fewer than the requests; 60 % of them is the least that shows they stay.
MIN_TW=$((REQUESTS * 6 / 10))
# A TIME-WAIT is a record of at most 64 bytes (docs/security.md): 25,000 of them are 1.6 MB,
# their hash table a fraction of that. The CONNS connections alive at any moment hold
# 2 x 128 KB of buffers each (serve's sizes), 2 MB. Twice the records plus the live
# buffers, rounded up, is 6 MB; a TIME-WAIT that kept its TCB (about 1 KB) would need 25 MB,
# one that kept its buffers 6 GB.
RSS_BOUND_MB=6

rss_kb() { awk '$1 == "VmRSS:" {print $2}' "/proc/$SERVE_PID/status"; }

setup_ns
mkdir -p "$TMP/www"
echo '<html><body>closed by the server</body></html>' >"$TMP/www/index.html"
start_serve --port 80 --app "http:$TMP/www"
# Room for REQUESTS ports: the default range has 28,000, of which Linux tries every other one
# first.
nsx sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
nsx curl -sS --max-time 5 -H "Connection: close" -o /dev/null "http://$SADDR/index.html" ||
  fail "no answer to a first request"
rss0=$(rss_kb)

(nsrun tcpdump -i "$TAP" -U -s 128 -c 2000 -w "$TMP/cap.pcap" "tcp port 80" >"$TMP/tcpdump.out" 2>&1) &
DUMP_PID=$!
PIDS+=("$DUMP_PID")
wait_for "grep -q 'listening on' '$TMP/tcpdump.out'" 5 || fail "tcpdump did not start"

(WRK_REQUESTS=$REQUESTS nsrun wrk -t1 -c$CONNS -d55s -s "$HERE/wrk_close.lua" \
  "http://$SADDR/index.html" >"$TMP/wrk.out" 2>&1) &
WRK_PID=$!
PIDS+=("$WRK_PID")
# wrk's thread stops after REQUESTS responses, but wrk itself waits out -d: SIGINT ends it
# (it prints its statistics then) once serve has seen them all end.
wait_for "[ \$(grep -c ' bytes, closed$' '$TMP/serve.out') -ge $((REQUESTS + 2)) ] || \
  ! kill -0 $WRK_PID" 56
kill -INT "$WRK_PID" 2>/dev/null
wait "$WRK_PID"
kill -TERM "$DUMP_PID" 2>/dev/null
wait "$DUMP_PID"
cat "$TMP/wrk.out"
rss1=$(rss_kb)
serve_stats >"$TMP/stats.txt"
echo "--- the stack's counters"
grep -Ei 'time_?wait|^connections|^buffer_bytes|limit_|tcp_passive_opens|tcp_rst_out' "$TMP/stats.txt"
echo "server RSS: $rss0 kB at the start, $rss1 kB holding the TIME-WAITs (bound: +$RSS_BOUND_MB MB)"

bad=0
done_reqs=$(sed -n 's/^ *\([0-9][0-9]*\) requests in .*/\1/p' "$TMP/wrk.out")
[ "${done_reqs:-0}" -ge "$REQUESTS" ] ||
  { echo "wrk completed ${done_reqs:-no} requests of $REQUESTS"; bad=1; }
grep -q "Socket errors" "$TMP/wrk.out" && { echo "wrk saw socket errors"; bad=1; }
grep -q "Non-2xx" "$TMP/wrk.out" && { echo "wrk saw responses other than 2xx"; bad=1; }

# Who closed first, in the captured connections: synack's FIN must not acknowledge the
# client's FIN (it was sent before that arrived), as tshark's relative numbers show. wrk's
# first connection, which only checks that the server is there, carries no request: that one
# the client closes, and it is left out (synack's FIN at relative sequence number 1).
tshark -r "$TMP/cap.pcap" -Y "tcp.flags.fin == 1" -T fields -e tcp.stream -e ip.src -e tcp.seq \
  -e tcp.ack 2>/dev/null | awk -v s="$SADDR" '
  $2 == s && !($1 in sack) {sseq[$1] = $3; sack[$1] = $4}
  $2 != s && !($1 in cseq) {cseq[$1] = $3; cack[$1] = $4}
  END {
    for (k in sack) if (k in cseq && sseq[k] > 1) {
      n++
      if (sack[k] > cseq[k]) passive++         # synack had the client FIN first
      else if (cack[k] <= sseq[k]) both++      # neither had the other: simultaneous close
    }
    printf "%d %d %d\n", n, passive, both
  }' >"$TMP/closes.txt"
read -r n passive both <"$TMP/closes.txt"
echo "captured connections: $n; closed first by synack: $((n - passive)) ($both of them simultaneous closes)"
[ "$n" -ge 50 ] || { echo "too few closes captured"; bad=1; }
[ "$passive" -eq 0 ] || { echo "$passive connections were closed by the client first"; bad=1; }

# TIME-WAIT: the records synack holds now (sk_stack_counters.timewait_records).
tw=$(awk '$1 == "tcp_timewait_records" {print $2}' "$TMP/stats.txt")
echo "TIME-WAIT records held: ${tw:-none counted}"
[ "${tw:-0}" -ge "$MIN_TW" ] || { echo "fewer than $MIN_TW TIME-WAITs held"; bad=1; }
if sanitized; then
  echo "AddressSanitizer build: RSS printed, not bounded (shadow memory, quarantine)"
elif [ $((rss1 - rss0)) -gt $((RSS_BOUND_MB * 1024)) ]; then
  echo "RSS grew by $(( (rss1 - rss0) / 1024 )) MB, more than $RSS_BOUND_MB MB"
  bad=1
fi
[ "$bad" -eq 0 ] || fail "TIME-WAIT under an HTTP load that closes every connection"
stop_serve
echo "PASS: $done_reqs requests with Connection: close, $tw TIME-WAITs held, RSS +$(( (rss1 - rss0) / 1024 )) MB"
