#!/usr/bin/env bash
# Runs packetdrill scripts against synack through libsynack-packetdrill.so.
#
#   tests/packetdrill/run-packetdrill.sh PACKETDRILL_BIN DIR [SO_FLAGS]
#
# Every *.pkt under DIR runs in its own packetdrill process, in parallel (JOBS, default nproc),
# under `timeout` (TIMEOUT seconds, default 60). Prints the failing scripts and
# "N passed, N failed"; exits 1 if any failed. A script's `--mtu=N` line is passed on to the
# adapter as mtu=N (packetdrill does not tell the shared object). The adapter is
# $SK_PACKETDRILL_SO, default build/packetdrill/libsynack-packetdrill.so. Logs go to $LOGDIR
# (default: a fresh temporary folder), one NAME.log per script. Flags for single scripts (the
# sysctls a suite's scripts assume) come from $FLAGS_FILE, by default
# tests/packetdrill/<folder name>.flags: lines "path/in/folder.pkt key=value,...".
# The IP version is the script's own `--ip_version=` line (ipv4 if none), or $IP_VERSION for
# every script (ipv4-mapped-ipv6 runs IPv4 scripts through AF_INET6 sockets). IPv4 and
# ipv4-mapped-ipv6 scripts run with local 192.168.0.2, remote 192.0.2.1; IPv6 ones with
# local fd3d:fa7b:d17d::2/48 (packetdrill's prefix, an explicit host address in it), remote
# 2001:db8::1 (packetdrill's default); the adapter gets the local address as local_ip=.
set -u

if [ $# -lt 2 ]; then
    echo "usage: $0 PACKETDRILL_BIN DIR [SO_FLAGS]" >&2
    exit 2
fi
PD_BIN=$(realpath "$1")
DIR=$2
SO_FLAGS=${3:-}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SO=$(realpath "${SK_PACKETDRILL_SO:-$ROOT/build/packetdrill/libsynack-packetdrill.so}")
JOBS=${JOBS:-$(nproc)}
TIMEOUT=${TIMEOUT:-60}
LOGDIR=${LOGDIR:-$(mktemp -d /tmp/synack-packetdrill.XXXXXX)}
LOCAL_IP=192.168.0.2
LOCAL_IP6=fd3d:fa7b:d17d::2
REMOTE_IP6=2001:db8::1
GATEWAY_IP6=fd3d:fa7b:d17d::1
IP_VERSION=${IP_VERSION:-}
# Per-script flags: $FLAGS_FILE, default tests/packetdrill/<folder name>.flags if present.
FLAGS_FILE=${FLAGS_FILE:-$ROOT/tests/packetdrill/$(basename "$(realpath "$DIR")").flags}
REMOTE_IP=192.0.2.1
# profile=linux runs a suite the way Linux's own runner (gtests/net/packetdrill/run_all.py) does:
# its addresses, its -D definitions, *v6.pkt over IPv6 with an MTU of 1520.
LINUX_SUITE=0
case ",$SO_FLAGS," in *,profile=linux,*) LINUX_SUITE=1 ;; esac
mkdir -p "$LOGDIR"

[ -x "$PD_BIN" ] || { echo "no packetdrill binary at $PD_BIN" >&2; exit 2; }
[ -f "$SO" ] || { echo "no adapter at $SO (run make)" >&2; exit 2; }

# The host shim (packetdrill/pdhost.c, built next to the adapter) is preloaded into packetdrill:
# the host getsockopt(TCP_INFO) of a script's Python blocks reaches the adapter, and mlockall
# becomes a no-op (as a non-root user it makes packetdrill's thread creation fail).
PDHOST=$(realpath "${SK_PDHOST_SO:-$(dirname "$SO")/libsynack-pdhost.so}")
[ -f "$PDHOST" ] || { echo "no host shim at $PDHOST (run make)" >&2; exit 2; }
PRELOAD=$PDHOST

run_one() {
    script=$1
    name=${script#"$DIR"/}
    log="$LOGDIR/$(echo "$name" | tr '/' '_').log"
    ipv=${IP_VERSION:-$(sed -n 's/^--ip_version="\{0,1\}\([a-z0-9-]*\).*/\1/p' "$script" | head -1)}
    if [ -z "$ipv" ] && [ "$LINUX_SUITE" = 1 ] && [ "${name%v6.pkt}" != "$name" ]; then
        ipv=ipv6 # Linux's run_all.py runs *v6.pkt over IPv6 only
    fi
    ipv=${ipv:-ipv4}
    defines=
    if [ "$LINUX_SUITE" = 1 ]; then
        # Linux's suite runs with run_all.py's addresses and definitions. TFO_COOKIE is the
        # cookie Linux's server gives the remote address under defaults.sh's key
        # (tcp_fastopen_key=a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4): SipHash-2-4 keyed with those
        # four words as little-endian bytes, over the SYN's source then destination address
        # (__tcp_fastopen_cookie_gen_cipher), the 64-bit result as little-endian bytes.
        if [ "$ipv" = ipv6 ]; then
            local_ip=fd3d:a0b:17d6::1/48
            ipargs="--mtu=1520 --local_ip=fd3d:0a0b:17d6::1 --remote_ip=fd3d:fa7b:d17d::1"
            ipargs="$ipargs --gateway_ip=fd3d:0a0b:17d6:8888::1"
            defines="-D TFO_COOKIE=c1d1e9742a47a9bc -D CMSG_LEVEL_IP=SOL_IPV6"
            defines="$defines -D CMSG_TYPE_RECVERR=IPV6_RECVERR"
        else
            local_ip=192.168.0.1
            ipargs="--local_ip=192.168.0.1 --remote_ip=192.0.2.1 --gateway_ip=192.168.0.1"
            ipargs="$ipargs --netmask_ip=255.255.0.0"
            defines="-D TFO_COOKIE=3021b9d889017eeb -D CODE=host_unreachable"
            defines="$defines -D CMSG_LEVEL_IP=SOL_IP -D CMSG_TYPE_RECVERR=IP_RECVERR"
        fi
    elif [ "$ipv" = ipv6 ]; then
        local_ip=$LOCAL_IP6
        ipargs="--local_ip=$LOCAL_IP6 --remote_ip=$REMOTE_IP6 --gateway_ip=$GATEWAY_IP6"
    else
        local_ip=$LOCAL_IP
        ipargs="--local_ip=$LOCAL_IP --remote_ip=$REMOTE_IP --gateway_ip=192.168.0.1"
        ipargs="$ipargs --netmask_ip=255.255.0.0"
    fi
    flags="local_ip=$local_ip"
    [ -n "$SO_FLAGS" ] && flags="$flags,$SO_FLAGS"
    mtu=$(sed -n 's/^--mtu=\([0-9]*\).*/\1/p' "$script" | head -1)
    [ -z "$mtu" ] && [ "$LINUX_SUITE" = 1 ] && [ "$ipv" = ipv6 ] && mtu=1520
    [ -n "$mtu" ] && flags="$flags,mtu=$mtu"
    if [ -f "$FLAGS_FILE" ]; then
        extra=$(awk -v n="$name" '$1 == n { print $2 }' "$FLAGS_FILE" | paste -sd, -)
        [ -n "$extra" ] && flags="$flags,$extra"
    fi
    run=$script
    if grep -v '^ *//' "$script" | grep -q -E '`|TCP_NOOPT|TCP_KEEPINIT'; then
        # A copy of the script runs instead (host-commands.pl), changed in two ways only:
        # - host commands in backticks (Linux's scripts: sysctl, ip, tc, and their
        #   ../common/defaults.sh) would change the host, not the stack: each becomes `true`,
        #   which keeps a timed command's place in the script's time line; what they set comes
        #   from the profile and the flags file, and the numeric TCP sysctls they set are
        #   written to a file the adapter applies before its next socket call (sysctl_file=),
        #   so that a sysctl changed mid-script changes the stack then. Comment lines stay.
        # - packetdrill built on Linux does not know FreeBSD's TCP_NOOPT and TCP_KEEPINIT: the
        #   copy carries FreeBSD's numbers for them (8, 128), which the adapter reads as those
        #   options under profile=freebsd.
        run="$LOGDIR/$(echo "$name" | tr '/' '_')"
        sysctls="$run.sysctl"
        : >"$sysctls"
        perl "$ROOT/tests/packetdrill/host-commands.pl" "$sysctls" <"$script" >"$run"
        flags="$flags,sysctl_file=$sysctls"
    fi
    ( cd "$(dirname "$run")" &&
      LD_PRELOAD="$PRELOAD" timeout "$TIMEOUT" "$PD_BIN" \
        --so_filename="$SO" --so_flags="$flags" --ip_version="$ipv" $ipargs $defines \
        "$(basename "$run")" ) >"$log" 2>&1
    rc=$?
    if [ $rc = 0 ]; then echo "PASS $name"; else echo "FAIL $name (exit $rc)"; fi
}
export -f run_one
export ROOT LINUX_SUITE PD_BIN SO SO_FLAGS DIR LOGDIR PRELOAD TIMEOUT LOCAL_IP REMOTE_IP FLAGS_FILE \
    LOCAL_IP6 REMOTE_IP6 GATEWAY_IP6 IP_VERSION

results=$(find "$DIR" -name '*.pkt' | sort | xargs -P "$JOBS" -I{} bash -c 'run_one "$1"' _ {} | sort -k2)
pass=$(printf '%s\n' "$results" | grep -c '^PASS ')
fail=$(printf '%s\n' "$results" | grep -c '^FAIL ')
printf '%s\n' "$results" | grep '^FAIL ' || true
echo "$pass passed, $fail failed (logs in $LOGDIR)"
[ "$fail" = 0 ]
