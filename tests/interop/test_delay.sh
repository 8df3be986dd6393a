#!/usr/bin/env bash
# `--delay MS` holds every frame MS milliseconds in each direction (serve and connect share
# the loop that does it): the kernel's ping, timed by the kernel, can then never come back in
# less than 2 x MS. Only that lower bound is checked (an upper bound would be a timing goal).
# The first ping also waits for ARP, which the delay holds as well; it is left out.
source "$(dirname "$0")/lib.sh"
setup_ns
start_serve --port 7 --app echo --delay 50
nsx ping -c 4 -i 0.2 "$SADDR" >"$TMP/ping.out" 2>&1 || fail "ping failed: $(cat "$TMP/ping.out")"
cat "$TMP/ping.out"
rtts=$(awk -F'time=' '/time=/ {split($2, a, " "); print a[1]}' "$TMP/ping.out" | tail -n +2)
[ -n "$rtts" ] || fail "no round-trip times in ping's output"
for r in $rtts; do
  awk -v r="$r" 'BEGIN {exit !(r >= 100)}' || fail "a ping came back in $r ms with 50 ms each way"
done
stop_serve
echo "PASS: with --delay 50 every ping took at least 100 ms ($(echo $rtts))"
