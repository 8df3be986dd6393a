#!/usr/bin/env bash
# A SYN flood (RFC 4987) at `synack serve --app echo` over TAP: `hping3 -S --flood
# --rand-source` for 10 s, as fast as hping3 goes here, while 100 established kernel connections
# keep echoing (every byte checked; goodput before, during and after printed) and 100 fresh
# connections are attempted during the flood, one every 100 ms: at least 99 must complete
# (connect, send 64 bytes, read them back, close). None of the established connections may
# break or wait for synack (waiting out the kernel's own back-off after losses at the TAP
# queue is printed, not failed). The server's RSS before and after the flood is printed and
# bounded (RSS_BOUND_MB below says why that much). The stack's counters are printed at the end.
# Usage: bash test_syn_flood.sh path/to/synack
. "$(dirname "$0")/lib.sh"
command -v hping3 >/dev/null || { echo "FAIL: hping3 missing (scripts/install-deps.sh installs it)"; exit 1; }

# What the flood may add to the server's memory. A SYN answered with a cookie leaves nothing
# behind (RFC 4987 §3.6), so the flood itself may hold only the SYN queue: the listener's
# backlog (128) of half-open TCBs of about 1 KB with no buffers yet (they appear at
# establishment), under the stack's max_half_open (1024) whatever the listeners.
# The fresh connections come and go (at most a few alive at once, 2 x 128 KB of buffers each),
# and the ARP queue for spoofed on-link sources is bounded at 64 KB. 16 MB is room for all of
# that twice over plus the allocator's slack; a stack that keeps state per spoofed SYN (tens
# of bytes for each of the millions sent) or buffers per half-open child goes past it.
RSS_BOUND_MB=16

setup_ns
start_serve --port 7 --app echo
# ARP for synack before the flood, so that hping3's first packets go out at once.
nsx ping -c 1 -W 2 "$SADDR" >/dev/null || fail "no ping answer before the flood"

nsx python3 "$(dirname "$0")/flood_clients.py" "$SADDR" 7 "$SERVE_PID" 100 3 5 100 -- \
  timeout -s INT 10 hping3 -S -p 7 --flood --rand-source -I "$TAP" "$SADDR" \
  >"$TMP/client.out" 2>"$TMP/client.err" || fail "flood_clients.py failed"
cat "$TMP/client.out"
val() { awk -v k="$1" '$1 == k {print $2}' "$TMP/client.out"; }

# hping3 prints "N packets transmitted, ..." when its SIGINT comes.
sent=$(sed -n 's/^\([0-9][0-9]*\) packets transmitted.*/\1/p' "$TMP/client.err")
[ -n "$sent" ] || fail "no hping3 statistics: $(tail -3 "$TMP/client.err")"
echo "hping3: $sent SYNs with random sources in its 10 s, $((sent / 10)) SYN/s"
grep '^fresh connection\|^established connection\|^moved nothing' "$TMP/client.err" | head -20

# Frames the kernel could not queue to the TAP (synack did not read them in time): losses the
# established connections repair by retransmission.
echo "TAP queue drops (kernel to synack): $(nsx cat "/sys/class/net/$TAP/statistics/tx_dropped")"
echo "--- the stack's counters after the flood"
serve_stats | tee "$TMP/stats.txt" | grep -E 'cookie|syn|backlog|half|evict|tcp_|limit|drop|tap\.' || true

rss0=$(val rss_before_kB)
rss1=$(val rss_after_kB)
echo "server RSS: $rss0 kB before the flood, $rss1 kB after (bound: +$RSS_BOUND_MB MB)"

bad=0
[ "$(val new_ok)" -ge 99 ] || { echo "only $(val new_ok) of 100 fresh connections completed during the flood"; bad=1; }
[ "$(val broken)" -eq 0 ] || { echo "$(val broken) established connections broke"; bad=1; }
[ "$(val corrupt)" -eq 0 ] || { echo "$(val corrupt) established connections got a wrong echo"; bad=1; }
# A connection may move nothing for a while when the kernel lost several retransmissions in a
# row at the TAP queue and backs off (RFC 6298 §5.5: RTO 0.2 s, 0.4 s, ... 6.4 s); one that
# waits for synack instead is stuck.
[ "$(val stuck_during)" -eq 0 ] || { echo "$(val stuck_during) established connections waited for synack during the flood"; bad=1; }
[ "$(val stuck_after)" -eq 0 ] || { echo "$(val stuck_after) established connections waited for synack after the flood"; bad=1; }
if sanitized; then
  echo "AddressSanitizer build: RSS printed, not bounded (shadow memory, quarantine)"
elif [ $((rss1 - rss0)) -gt $((RSS_BOUND_MB * 1024)) ]; then
  echo "RSS grew by $(( (rss1 - rss0) / 1024 )) MB, more than $RSS_BOUND_MB MB"
  bad=1
fi
[ "$bad" -eq 0 ] || fail "the listener did not hold under the SYN flood"
stop_serve
echo "PASS: SYN flood of $sent SYNs: $(val new_ok)/100 fresh connections, 100 established kept going"
