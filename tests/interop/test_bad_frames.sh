#!/usr/bin/env bash
# Bad frames from the kernel side (AF_PACKET on the TAP): truncated, wrong version, bad
# checksums (IP, TCP, UDP, ICMP), oversize, wrong MAC, unknown EtherType and protocol,
# malformed ARP, overlapping and duplicate fragments, a fragment past 65535 bytes and a flood
# of 2000 incomplete datagrams. Each is dropped and counted under its reason (the SIGUSR1
# dump), synack keeps its memory bounded and still answers ping and echoes 1 MB afterwards.
source "$(dirname "$0")/lib.sh"
setup_ns
start_serve --port 7 --app echo
nsx ping -c 1 -W 2 "$SADDR" >/dev/null || fail "ping failed before"
# The flood is 2000 frames at once: a queue long enough that the kernel drops none of them
# before synack (slow under the sanitizers) reads them.
nsx ip link set "$TAP" txqueuelen 10000
nsx python3 "$(dirname "$0")/bad_frames.py" "$TAP" "$SMAC" "$KADDR" "$SADDR" small \
  >"$TMP/bad.out" 2>&1 || fail "sending bad frames failed: $(cat "$TMP/bad.out")"
nsx ip link set "$TAP" mtu 9000
nsx python3 "$(dirname "$0")/bad_frames.py" "$TAP" "$SMAC" "$KADDR" "$SADDR" oversize \
  >>"$TMP/bad.out" 2>&1 || fail "sending the oversize frame failed: $(cat "$TMP/bad.out")"
nsx ip link set "$TAP" mtu 1500
val() { awk -v k="$1" '$1 == k {v = $2} END {print v + 0}' "$TMP/stats.txt"; }
# The frames are queued in the TAP; on a loaded machine synack may still be reading them: take
# the counters until the last kinds sent have arrived (10 s at most), not after a fixed sleep.
for _ in $(seq 1 50); do
  serve_stats >"$TMP/stats.txt"
  oversize=$(( $(val drop.link-oversize) + $(val tap.oversize_dropped) ))
  [ "$oversize" -ge 1 ] && [ "$(val drop.ip-reassembly-limit)" -ge 1900 ] && break
  sleep 0.2
done
for reason in ip-truncated ip-version ip-checksum ip-total-length tcp-checksum udp-checksum \
  icmp-checksum ip-protocol link-not-for-us link-ethertype arp-malformed ip-fragment-overlap \
  ip-fragment-duplicate ip-fragment-invalid; do
  [ "$(val "drop.$reason")" -ge 1 ] || fail "drop.$reason not counted"
done
# The oversize frame: dropped by the stack (a plain TAP), or, with the virtio-net header, by
# the loop, which lets only frames the kernel marked as coalesced past the MTU.
[ "$oversize" -ge 1 ] || fail "the oversize frame was not dropped (drop.link-oversize, tap.oversize_dropped)"
[ "$(val drop.ip-reassembly-limit)" -ge 1900 ] || fail "fragment flood: only $(val drop.ip-reassembly-limit) evictions"
[ "$(val icmp_out)" -ge 1 ] || fail "no protocol unreachable sent"
kill -0 "$SERVE_PID" || fail "synack serve died"
nsx ping -c 2 -i 0.2 -W 2 "$SADDR" >/dev/null || fail "ping failed after the bad frames"
random_file "$TMP/data" 1048576
nsx python3 "$(dirname "$0")/echo_client.py" "$SADDR" 7 "$TMP/data" >"$TMP/client.out" 2>&1 ||
  fail "echo failed after the bad frames: $(cat "$TMP/client.out")"
grep '^drop\.' "$TMP/stats.txt" | tr '\n' ' '
echo
stop_serve
echo "PASS: bad frames dropped and counted, synack unharmed"
