#!/usr/bin/env bash
# A kernel client that waits 2 s before it reads: it sends 4 MB to `synack serve --app echo`
# at once, so the echo backs up into synack and every window on the path closes, then opens
# again when the client reads. On a link that loses nothing, every byte must come back, and
# synack must neither drop a segment that was inside the window it offered nor retransmit
# anything: its counters tcp_retransmits and every drop.tcp-* stay zero (a flow-controlled
# sender is not a lossy one).
#
# One drop is right, and tshark counts it independently: Linux probes a zero window with an
# empty segment at RCV.NXT - 1 (Wireshark calls it a keep-alive), which RFC 9293 §3.10.7.4
# finds unacceptable (answer with an ACK, drop it); while synack's own window is shut it takes
# such a segment for its ACK and answers it all the same. So drop.tcp-unacceptable-seq may not
# exceed the number of such probes from the kernel in synack's capture, and nothing else may
# drop.
source "$(dirname "$0")/lib.sh"
setup_ns
command -v tshark >/dev/null || fail "tshark missing (scripts/install-deps.sh)"
random_file "$TMP/data" 4194304
start_serve --port 7 --app echo --pcap "$TMP/serve.pcap"
nsx python3 "$(dirname "$0")/slow_echo_client.py" "$SADDR" 7 "$TMP/data" 2 \
  >"$TMP/client.out" 2>&1 || fail "slow reader: $(cat "$TMP/client.out")"
cat "$TMP/client.out"
wait_for "grep -q 'in 4194304 out 4194304 bytes, closed' '$TMP/serve.out'" 5 ||
  fail "serve did not report the whole connection"
serve_stats >"$TMP/stats.txt"
echo "synack's counters after the slow reader:"
grep -E '^(tcp_|drop\.)' "$TMP/stats.txt" | sed 's/^/  /'
stop_serve # closes the capture
probes=$(tshark -n -r "$TMP/serve.pcap" -Y "ip.src == $KADDR && tcp.analysis.keep_alive" 2>/dev/null |
  wc -l)
echo "zero-window probes from the kernel at RCV.NXT - 1 (tshark): $probes"
# Neither side may retransmit on this link, by tshark's reading of the capture too: a kernel
# that retransmits here did not get (or did not accept) synack's ACKs.
rtx=$(tshark -n -r "$TMP/serve.pcap" -Y "tcp.analysis.retransmission" -T fields -e ip.src \
  2>/dev/null | sort | uniq -c | awk '{printf "%s from %s; ", $1, $2}')
[ -z "$rtx" ] || echo "retransmissions in the capture (tshark): $rtx"
# A probe that arrives while synack's own window is shut is taken for its ACK and answered
# (acceptable() in tcp_input.c), not dropped: at most that many such drops.
bad=$(awk -v probes="$probes" '$1 == "drop.tcp-unacceptable-seq" { $2 -= probes; if ($2 < 0) $2 = 0 }
  $1 == "tcp_retransmits" || $1 == "tcp_tail_loss_probes" || $1 ~ /^drop\.tcp-/ {
  if ($2 != 0) printf "%s %s; ", $1, $2 }' "$TMP/stats.txt")
[ -z "$bad" ] || fail "on a lossless link (unacceptable-seq less the kernel's probes): $bad"
[ -z "$rtx" ] || fail "on a lossless link, tshark finds retransmissions: $rtx"
echo "PASS: 4 MB echoed to a reader that paused 2 s, no drop and no retransmission"
