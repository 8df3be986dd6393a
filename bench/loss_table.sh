#!/usr/bin/env bash
# The loss table: synack's sender and the Linux kernel's (CUBIC) on the same TAP link, under
# the same seeded loss and delay, beside the Mathis and Padhye (PFTK) models. Run as root:
#
#   sudo bench/loss_table.sh [path/to/synack]          (default: build/synack)
#
# Environment: LT_SECONDS (per measurement, default 10), LT_SEEDS (default "1"; e.g. "1 2 3"),
# LT_LOSSES (percent, default "0.1 1 3 10"), LT_RTTS (ms, default "10 100").
#
# Everything happens in a private network namespace with one TAP interface: the kernel side is
# 10.77.0.1/24, synack 10.77.0.2/24. For each RTT, loss P and seed, `synack serve` runs with
# --loss P --delay RTT/2 --seed S (so both directions lose P of their frames and wait RTT/2):
#   synack -> kernel: `serve --app chargen`, a kernel client (bench/loss_client.py) reads for
#                     LT_SECONDS; goodput = the bytes its application read in that time;
#   kernel -> synack: `serve --app discard`, the kernel client writes for LT_SECONDS with CUBIC
#                     set on its socket (TCP_CONGESTION "cubic"); goodput = the bytes synack
#                     acknowledged in that time (tcpi_bytes_acked).
# Both measurements include the handshake and slow start, the same for both senders. synack
# uses serve's buffers (1 MiB each way; 128 KiB when README's table was measured), which also bound the kernel's sender (synack
# receives), so neither direction has more window than the other.
#
# The models, for MSS = 1448 bytes (1500 - 20 IP - 20 TCP - 12 timestamps) and p = P:
#   Mathis et al. 1997:  B = MSS / RTT * C / sqrt(p), C = sqrt(3/2)
#   Padhye et al. 1998 (PFTK, with timeouts), b = 2 (one ACK for two segments):
#     B = MSS / (RTT * sqrt(2bp/3) + T0 * min(1, 3 * sqrt(3bp/8)) * p * (1 + 32p^2))
#     with T0 = RTT + 200 ms, Linux's RTO at a steady RTT (srtt + max(4 rttvar, 200 ms min)).
# Output: a markdown table on stdout (progress on stderr).
set -u
if [ "$(id -u)" -ne 0 ]; then
  echo "loss_table.sh: needs root (network namespace and TAP device)" >&2
  exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$(readlink -f "${1:-$HERE/../build/synack}")
[ -x "$BIN" ] || { echo "loss_table.sh: no synack binary at $BIN" >&2; exit 2; }
T=${LT_SECONDS:-10}
SEEDS=${LT_SEEDS:-1}
LOSSES=${LT_LOSSES:-0.1 1 3 10}
RTTS=${LT_RTTS:-10 100}
NS=sk-losstable-$$
TAP=skt0
KADDR=10.77.0.1
SADDR=10.77.0.2
TMP=$(mktemp -d /tmp/loss_table.XXXXXX)
SERVE_PID=

cleanup() {
  [ -n "$SERVE_PID" ] && kill -TERM "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
  ip netns del "$NS" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add "$NS" || exit 1
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" ip tuntap add dev "$TAP" mode tap
ip netns exec "$NS" ip addr add "$KADDR/24" dev "$TAP"
ip netns exec "$NS" ip link set "$TAP" up

# measure APP MODE LOSS% DELAY_MS SEED: prints "BYTES RETRANSMITS" (the kernel's for write,
# synack's for read).
measure() {
  local app=$1 mode=$2 loss=$3 delay=$4 seed=$5 i
  (exec nsenter --net="/var/run/netns/$NS" "$BIN" serve --tap "$TAP" --addr "$SADDR/24" \
    --port 5001 --app "$app" --loss "$loss%" --delay "$delay" --seed "$seed" --stats \
    >"$TMP/serve.out" 2>"$TMP/serve.err") &
  SERVE_PID=$!
  for ((i = 0; i < 100; i++)); do
    grep -q '^synack serve:' "$TMP/serve.out" 2>/dev/null && break
    sleep 0.05
  done
  ip netns exec "$NS" python3 "$HERE/loss_client.py" "$mode" "$SADDR" 5001 "$T" >"$TMP/client.out"
  kill -TERM "$SERVE_PID"
  wait "$SERVE_PID"
  SERVE_PID=
  local bytes rtx
  bytes=$(awk '$1 == "bytes" {print $2}' "$TMP/client.out")
  if [ "$mode" = read ]; then
    rtx=$(awk '$1 == "tcp_retransmits" {v = $2} END {print v + 0}' "$TMP/serve.err")
  else
    rtx=$(awk '$1 == "bytes" {print $6}' "$TMP/client.out")
  fi
  echo "${bytes:-0} ${rtx:-0}"
}

echo "loss table: $T s per measurement, seeds: $SEEDS, synack $BIN" >&2
echo "| RTT | loss | seed | synack → kernel Mbit/s (rtx) | kernel CUBIC → synack Mbit/s (rtx) | synack / kernel | Mathis Mbit/s | PFTK Mbit/s |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
for rtt in $RTTS; do
  delay=$(awk -v r="$rtt" 'BEGIN {print r / 2}')
  for loss in $LOSSES; do
    for seed in $SEEDS; do
      echo "RTT $rtt ms, loss $loss %, seed $seed ..." >&2
      read -r s_bytes s_rtx < <(measure chargen read "$loss" "$delay" "$seed")
      read -r k_bytes k_rtx < <(measure discard write "$loss" "$delay" "$seed")
      awk -v rtt="$rtt" -v loss="$loss" -v seed="$seed" -v t="$T" -v sb="$s_bytes" \
        -v sr="$s_rtx" -v kb="$k_bytes" -v kr="$k_rtx" 'BEGIN {
        mss = 1448; r = rtt / 1000; p = loss / 100; b = 2; t0 = r + 0.2
        mathis = mss * 8 / r * sqrt(1.5) / sqrt(p) / 1e6
        x = 3 * sqrt(3 * b * p / 8); if (x > 1) x = 1
        pftk = mss * 8 / (r * sqrt(2 * b * p / 3) + t0 * x * p * (1 + 32 * p * p)) / 1e6
        s = sb * 8 / t / 1e6; k = kb * 8 / t / 1e6
        ratio = k > 0 ? sprintf("%.2f", s / k) : "-"
        printf "| %d ms | %s %% | %s | %.2f (%d) | %.2f (%d) | %s | %.2f | %.2f |\n",
          rtt, loss, seed, s, sr, k, kr, ratio, mathis, pftk }'
    done
  done
done
