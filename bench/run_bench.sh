#!/usr/bin/env bash
# make bench: every subject measured side by side in one run, as root.
#
# usage: bench/run_bench.sh BUILD_DIR        (BUILD_DIR holds synack and bench/*)
# environment:
#   BENCH_QUICK=1     a smoke run: one round, a fraction of a second per measurement, small
#                     in-memory sizes (what ctest's bench_smoke runs)
#   BENCH_ROUNDS=N    rounds (default 3; quick 1); BENCH_SECS=S seconds per wire measurement
#                     (default 3; quick 0.3); BENCH_ONLY="synack-tap kernel-veth ..." subjects
#   SK_BENCH_OUT=DIR  where the records, logs, results.json and the SVGs go
#                     (default BUILD_DIR/bench-out; emptied first)
#
# Wire subjects, each with the kernel as the peer (bench/kpeer.c) in a namespace made here:
#   synack-tap           `synack serve` on a TAP, default settings
#   synack-tap-2threads  the same with --threads 2, when serve has that option
#   lwip-tap             lwIP 2.1 (Debian's liblwip-dev) on a TAP (bench/lwip/lwip_serve.c)
#   tap-limit            the raw TAP endpoint with TSO/GRO (bench/tap_limit.c): bulk only
#   kernel-veth          the kernel's TCP in a second namespace over a veth pair
# and in one process: synack-memory (two stacks, bench_goodput, bench_connections) beside
# kernel-loopback (bench_kernel_loopback, kpeer over 127.0.0.1), in a namespace whose
# loopback MTU is set to 65536 and to 1500. Rounds go round-robin over the subjects, so a
# change in the machine's load touches all of them alike. Then bench/report.py.
#
# Nothing is configured in the root namespace: every address, route and sysctl lives in the
# namespaces skbench-*-PID, deleted on exit with the processes started here (by their PIDs).
set -u
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: make bench needs root (network namespaces and TAP devices)"
  exit 77
fi
B=$(readlink -f "${1:?usage: run_bench.sh BUILD_DIR}")
HERE=$(dirname "$(readlink -f "$0")")
SYNACK=$B/synack
KPEER=$B/bench/kpeer
TAPLIM=$B/bench/tap_limit
LWIP=$B/bench/lwip_serve
OUT=$(mkdir -p "${SK_BENCH_OUT:-$B/bench-out}" && readlink -f "${SK_BENCH_OUT:-$B/bench-out}")
export SK_BENCH_OUT=$OUT
QUICK=${BENCH_QUICK:-0}
[ "$QUICK" = 0 ] && QUICK=
if [ -n "$QUICK" ]; then
  ROUNDS=${BENCH_ROUNDS:-1} SECS=${BENCH_SECS:-0.3} GP_BYTES=$((64 << 20)) STATES_N=100
  SCALE_MAX=10000 RATE_SECS=0.3
else
  ROUNDS=${BENCH_ROUNDS:-3} SECS=${BENCH_SECS:-3} GP_BYTES=$((1 << 30)) STATES_N=1000
  SCALE_MAX=1000000 RATE_SECS=2
fi
ID=$$
NS_T=skbench-tap-$ID NS_A=skbench-ka-$ID NS_B=skbench-kb-$ID NS_L=skbench-lo-$ID
TAP=skbtap0 KADDR=10.78.0.1 SADDR=10.78.0.2 SMAC=02:00:00:78:00:02
VA=10.79.0.1 VB=10.79.0.2
PORT_DISCARD=9 PORT_SOURCE=19 PORT_ECHO=7
LOG=$OUT/log
rm -rf "$OUT"/*.jsonl "$OUT"/*.svg "$OUT"/results.json "$OUT"/expected.txt "$LOG"
mkdir -p "$LOG"
PIDS=()
FAILS=0

cleanup() {
  local p ns
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  for ns in "$NS_T" "$NS_A" "$NS_B" "$NS_L"; do ip netns del "$ns" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 1' INT TERM

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
say() { echo "bench: $*"; }
fail() { echo "bench: FAIL: $*" | tee -a "$LOG/fails.txt"; FAILS=$((FAILS + 1)); }

# Namespaces left by a bench that was killed (SIGKILL skips the trap): their PID is gone.
for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^skbench-.*-[0-9]+$/ {print $1}'); do
  kill -0 "${ns##*-}" 2>/dev/null || ip netns del "$ns" 2>/dev/null
done

# A namespace for the kernel's side: loopback up, all ports for the connection-rate client,
# and no TIME-WAIT: a client closing 15,000 connections a second would otherwise run out of
# ports within the run (its FINs still go). The kernel's sockets use CUBIC (kpeer sets it).
make_ns() {
  ip netns add "$1" || { echo "bench: cannot create namespace $1"; exit 1; }
  nsx "$1" ip link set lo up
  nsx "$1" sysctl -q -w net.ipv4.ip_local_port_range="1024 65535" >/dev/null
  nsx "$1" sysctl -q -w net.ipv4.tcp_max_tw_buckets=0 >/dev/null
}

# A fresh TAP in NS_T (ARGS: extra `ip tuntap` flags such as multi_queue), with a static
# neighbour entry for the subject so no subject's ARP is in any measurement.
make_tap() {
  nsx "$NS_T" ip link del "$TAP" 2>/dev/null
  nsx "$NS_T" ip tuntap add dev "$TAP" mode tap "$@" || return 1
  nsx "$NS_T" ip addr add "$KADDR/24" dev "$TAP"
  nsx "$NS_T" ip link set "$TAP" up
  nsx "$NS_T" ip neigh replace "$SADDR" lladdr "$SMAC" dev "$TAP" nud permanent
}

# start_server NAME READY_REGEX CMD...: CMD in NS_T (exec'd, so its PID is ours to kill),
# output in $LOG/NAME.out/.err; waits until READY_REGEX appears in its output.
SERVER_PID=
start_server() {
  local name=$1 ready=$2 i
  shift 2
  (exec nsenter --net="/var/run/netns/$NS_T" "$@" >>"$LOG/$name.out" 2>>"$LOG/$name.err") &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  for ((i = 0; i < 100; i++)); do
    grep -q "$ready" "$LOG/$name.out" 2>/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  fail "$name did not start: $(tail -n 3 "$LOG/$name.err" 2>/dev/null)"
  stop_server
  return 1
}
stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null
  local i
  for ((i = 0; i < 60; i++)); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=
}

# client NS SUBJECT MODE HOST PORT [kpeer options]: one measurement.
client() {
  local ns=$1 subject=$2 mode=$3 host=$4 port=$5
  shift 5
  if ! timeout 60 ip netns exec "$ns" "$KPEER" --subject "$subject" "$@" "$mode" "$host" \
      "$port" "$SECS" >>"$LOG/$subject.client" 2>&1; then
    fail "$subject $mode (round $SK_BENCH_ROUND): $(tail -n 1 "$LOG/$subject.client")"
  fi
}

expect() { local s=$1 m; shift; for m in "$@"; do echo "$s $m" >>"$OUT/expected.txt"; done; }
WIRE_ALL="bulk_in_gbps bulk_out_gbps conn_per_s rr_p50_us rr_p99_us"

# The server command for a TAP subject and an app (discard, source, echo).
synack_cmd() { # APP [extra serve options]
  local app=$1 port
  shift
  case $app in
    discard) port=$PORT_DISCARD ;;
    source) port=$PORT_SOURCE app=chargen ;;
    echo) port=$PORT_ECHO ;;
  esac
  echo "$SYNACK serve --tap $TAP --addr $SADDR/24 --mac $SMAC --port $port --app $app $*"
}

# tap_subject NAME: one round of the wire measurements of a TAP subject.
tap_subject() {
  local name=$1 mode app cmd ready
  for mode in send recv crr rr; do
    case $mode in
      send) app=discard port=$PORT_DISCARD ;;
      recv) app=source port=$PORT_SOURCE ;;
      *) app=echo port=$PORT_ECHO ;;
    esac
    case $name in
      synack-tap) cmd=$(synack_cmd $app) ready='^synack serve:' ;;
      synack-tap-2threads) cmd=$(synack_cmd $app --threads 2) ready='^synack serve:' ;;
      lwip-tap) cmd="$LWIP --tap $TAP --addr $SADDR --mac $SMAC" ready='^lwip_serve: ready' ;;
      tap-limit)
        [ "$mode" = send ] || [ "$mode" = recv ] || continue
        cmd="$TAPLIM --tap $TAP --addr $SADDR --mac $SMAC" ready='^tap_limit: ready' ;;
    esac
    # shellcheck disable=SC2086 # cmd is a word list built above
    start_server "$name" "$ready" $cmd || continue
    client "$NS_T" "$name" "$mode" "$SADDR" "$port"
    stop_server
  done
}

# ---- which subjects ----
SUBJECTS=(synack-tap)
if "$SYNACK" serve --help 2>/dev/null | grep -q -- '--threads'; then
  SUBJECTS+=(synack-tap-2threads)
fi
if [ -x "$LWIP" ]; then SUBJECTS+=(lwip-tap); else say "no $LWIP (liblwip-dev missing): no lwip-tap"; fi
SUBJECTS+=(tap-limit kernel-veth synack-memory kernel-loopback)
if [ -n "${BENCH_ONLY:-}" ]; then
  keep=()
  for s in "${SUBJECTS[@]}"; do
    [[ " $BENCH_ONLY " == *" $s "* ]] && keep+=("$s")
  done
  SUBJECTS=("${keep[@]}")
fi
has() { [[ " ${SUBJECTS[*]} " == *" $1 "* ]]; }
say "subjects: ${SUBJECTS[*]}; $ROUNDS round(s), ${SECS} s per wire measurement; output in $OUT"
cat /proc/loadavg >"$OUT/loadavg.start"
date -u +%Y-%m-%dT%H:%M:%SZ >"$OUT/date.start"
git -C "$HERE/.." describe --always --dirty >"$OUT/revision" 2>/dev/null || true

# ---- set up ----
make_ns "$NS_T"
if has kernel-veth; then
  make_ns "$NS_A"
  make_ns "$NS_B"
  nsx "$NS_A" ip link add skbva0 type veth peer name skbvb0 netns "$NS_B"
  nsx "$NS_A" ip addr add "$VA/24" dev skbva0
  nsx "$NS_B" ip addr add "$VB/24" dev skbvb0
  nsx "$NS_A" ip link set skbva0 up
  nsx "$NS_B" ip link set skbvb0 up
  for a in "discard $PORT_DISCARD" "source $PORT_SOURCE" "echo $PORT_ECHO"; do
    set -- $a
    (exec nsenter --net="/var/run/netns/$NS_B" "$KPEER" serve "$2" "$1" \
      >>"$LOG/kernel-veth.out" 2>&1) &
    PIDS+=($!)
  done
fi
if has kernel-loopback; then
  make_ns "$NS_L"
  (exec nsenter --net="/var/run/netns/$NS_L" "$KPEER" serve "$PORT_ECHO" echo \
    >>"$LOG/kernel-loopback.out" 2>&1) &
  PIDS+=($!)
fi
sleep 0.3 # the kernel-side servers are listening

for s in "${SUBJECTS[@]}"; do
  case $s in
    tap-limit) expect "$s" bulk_in_gbps bulk_out_gbps ;;
    synack-memory) expect "$s" goodput_1500_gbps goodput_64k_gbps mem_conn_per_s \
                     scale_conn_per_s scale_bytes_per_conn
                   expect synack tcb_bytes conn_bytes_established conn_bytes_time_wait ;;
    kernel-loopback) expect "$s" goodput_1500_gbps goodput_64k_gbps mem_conn_per_s ;;
    lwip-tap) expect "$s" $WIRE_ALL; expect lwip tcb_bytes ;;
    *) expect "$s" $WIRE_ALL ;;
  esac
done

# ---- rounds ----
GP=$B/bench/bench_goodput
for ((r = 1; r <= ROUNDS; r++)); do
  export SK_BENCH_ROUND=$r
  for s in "${SUBJECTS[@]}"; do
    say "round $r/$ROUNDS: $s"
    case $s in
      # A fresh TAP for each: the offloads one subject negotiated (TUNSETOFFLOAD) outlive
      # its descriptor and would meet the next one, which may not read a virtio-net header.
      synack-tap-2threads)
        make_tap multi_queue || fail "cannot make a multi-queue TAP"
        tap_subject "$s" ;;
      synack-tap | lwip-tap | tap-limit)
        make_tap || fail "cannot make the TAP"
        tap_subject "$s" ;;
      kernel-veth)
        client "$NS_A" "$s" send "$VB" $PORT_DISCARD
        client "$NS_A" "$s" recv "$VB" $PORT_SOURCE
        client "$NS_A" "$s" crr "$VB" $PORT_ECHO
        client "$NS_A" "$s" rr "$VB" $PORT_ECHO ;;
      synack-memory)
        for sc in clean-1500 clean-1500-offload clean-64k clean-64k-offload; do
          "$GP" --only "$sc" --bytes "$GP_BYTES" >>"$LOG/$s.out" 2>&1 || fail "bench_goodput $sc"
        done
        "$B/bench/bench_connections" --rate "$RATE_SECS" >>"$LOG/$s.out" 2>&1 ||
          fail "bench_connections --rate" ;;
      kernel-loopback)
        for mtu in 65536 1500; do
          nsx "$NS_L" ip link set lo mtu $mtu
          m=goodput_64k_gbps
          [ $mtu = 1500 ] && m=goodput_1500_gbps
          nsx "$NS_L" "$B/bench/bench_kernel_loopback" --bytes "$GP_BYTES" --metric $m \
            >>"$LOG/$s.out" 2>&1 || fail "bench_kernel_loopback mtu $mtu"
        done
        nsx "$NS_L" ip link set lo mtu 65536
        client "$NS_L" "$s" crr 127.0.0.1 $PORT_ECHO --metric mem_conn_per_s ;;
    esac
  done
done

# ---- memory: once (exact counts, not timings, except the scaling run's rate) ----
if has synack-memory; then
  export SK_BENCH_ROUND=1
  say "memory: bytes per connection by state, and 1 to $SCALE_MAX connections"
  "$B/bench/bench_connections" --states "$STATES_N" >>"$LOG/memory.out" 2>&1 ||
    fail "bench_connections --states"
  "$B/bench/bench_connections" --scale "$SCALE_MAX" >>"$LOG/memory.out" 2>&1 ||
    fail "bench_connections --scale"
fi
# ---- the runs make bench always had, printed as they are (not in the table) ----
if has synack-memory && [ -z "$QUICK" ]; then
  say "in the simulator under 1 % loss (CUBIC, NewReno) and a million half-open connections"
  for sc in lossy-cubic lossy-newreno; do
    "$GP" --only "$sc" >"$LOG/extra-$sc.out" 2>&1 || fail "bench_goodput $sc"
    tail -n 2 "$LOG/extra-$sc.out"
  done
  "$B/bench/bench_connections" >"$LOG/extra-half-open.out" 2>&1 || fail "bench_connections"
  cat "$LOG/extra-half-open.out"
fi
# ---- where synack's time goes over TAP: one more bulk run each way under `perf record`
# (cpu-clock samples with call graphs, outside the measured rounds so the sampling costs
# nothing in the table), summarised as the functions with the most samples ----
if has synack-tap && [ -z "$QUICK" ] && command -v perf >/dev/null; then
  say "profile: synack-tap bulk in and out under perf"
  export SK_BENCH_ROUND=0
  for mode in send recv; do
    app=discard port=$PORT_DISCARD metric=bulk_in
    [ $mode = recv ] && app=source port=$PORT_SOURCE metric=bulk_out
    make_tap || { fail "cannot make the TAP"; break; }
    # shellcheck disable=SC2046 # synack_cmd prints a word list
    start_server synack-tap-perf '^synack serve:' perf record -q -e cpu-clock -F 2000 -g \
      -o "$LOG/perf-$metric.data" -- $(synack_cmd $app) || continue
    mkdir -p "$LOG/perf-records" # the profiled run's figures stay out of the table
    SK_BENCH_OUT=$LOG/perf-records timeout 60 ip netns exec "$NS_T" "$KPEER" --subject synack-tap "$mode" "$SADDR" "$port" \
      "$SECS" >>"$LOG/synack-tap-perf.client" 2>&1
    stop_server
    perf report -i "$LOG/perf-$metric.data" --stdio --no-children --sort symbol \
      --percent-limit 1.5 -g none 2>/dev/null | grep -v '^#' | grep -v '^$' \
      >"$OUT/profile-$metric.txt"
    echo "synack-tap $metric: where the samples fall (perf, cpu-clock, self time)"
    head -n 15 "$OUT/profile-$metric.txt"
  done
fi
cat /proc/loadavg >"$OUT/loadavg.end"

check=()
[ -n "$QUICK" ] && check=(--check)
python3 "$HERE/report.py" "${check[@]}" "$OUT" || FAILS=$((FAILS + 1))
[ "$FAILS" -eq 0 ] || { echo "bench: $FAILS failure(s); logs in $LOG"; exit 1; }
