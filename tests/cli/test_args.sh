#!/usr/bin/env bash
# The command line: help, and every bad command, option or value is refused with exit 2 and a
# message on stderr (nothing on stdout); good values in every accepted form are taken.
#
# usage: bash test_args.sh /path/to/synack
set -u
SYNACK=${1:?usage: test_args.sh /path/to/synack}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

ok() { echo "ok   $*"; }
not_ok() { echo "FAIL $*"; failures=$((failures + 1)); }

# usage_error ARGS...: `synack ARGS` exits 2, says why on stderr, prints nothing on stdout.
usage_error() {
    "$SYNACK" "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    if [ "$rc" -eq 2 ] && [ -s "$tmp/err" ] && [ ! -s "$tmp/out" ]; then
        ok "synack $* -> exit 2: $(head -1 "$tmp/err")"
    else
        not_ok "synack $* -> exit $rc, stderr '$(head -c 200 "$tmp/err")', stdout $(wc -c <"$tmp/out") bytes"
    fi
}

# says WANT ARGS...: `synack ARGS` exits 2 and its stderr is exactly the line WANT: the option by
# its name, then the value as given, then why (the value never stands in for the option).
says() {
    local want=$1
    shift
    "$SYNACK" "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    if [ "$rc" -eq 2 ] && [ "$(cat "$tmp/err")" = "$want" ] && [ ! -s "$tmp/out" ]; then
        ok "synack $* says: $want"
    else
        not_ok "synack $* -> exit $rc, stderr '$(head -c 300 "$tmp/err")', expected '$want'"
    fi
}

# accepted WANT ARGS...: `synack sim --quiet ARGS` exits 0 and its output matches WANT.
accepted() {
    local want=$1
    shift
    "$SYNACK" sim --quiet "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    if [ "$rc" -eq 0 ] && grep -Eq -- "$want" "$tmp/out"; then
        ok "synack sim $* accepted"
    else
        not_ok "synack sim $* -> exit $rc: $(head -c 200 "$tmp/err")"
    fi
}

# Help.
"$SYNACK" --help >"$tmp/out" 2>&1 && grep -q 'sim' "$tmp/out" && grep -q 'usage: synack' "$tmp/out" &&
    ok "synack --help" || not_ok "synack --help"
"$SYNACK" sim --help >"$tmp/out" 2>&1
rc=$?
missing=""
for s in handshake-close simultaneous-open simultaneous-close half-close refused reset syn-loss \
         --bytes --pcap --seed --loss --loss-c2s --loss-s2c --burst --burst-c2s --burst-s2c --dup \
         --reorder --corrupt --delay --rate --mtu --read --read-pause --read-side --scenario \
         --verbose --quiet --ascii examples; do
    grep -q -- "$s" "$tmp/out" || missing="$missing $s"
done
[ "$rc" -eq 0 ] && [ -z "$missing" ] && ok "synack sim --help names every scenario and option" ||
    not_ok "synack sim --help (exit $rc) lacks:$missing"
"$SYNACK" help sim >"$tmp/out" 2>&1 && grep -q 'syn-loss' "$tmp/out" &&
    ok "synack help sim" || not_ok "synack help sim"

# Commands and options that do not exist.
usage_error
usage_error bogus
usage_error --bogus
usage_error help bogus
usage_error sim --bogus
usage_error sim -x
usage_error sim extra-argument
usage_error sim --verbose=1
usage_error sim --bytes
usage_error sim --scenario nope
usage_error sim --scenario ''

# Bad numbers.
usage_error sim --bytes -5
usage_error sim --bytes abc
usage_error sim --bytes 10x
usage_error sim --bytes 1.5
usage_error sim --bytes ''
usage_error sim --bytes ' 5'
usage_error sim --bytes +5
usage_error sim --bytes 1001T
usage_error sim --bytes 2P
usage_error sim --bytes 5Kb
usage_error sim --bytes 99999999999999999999999
usage_error sim --bytes 20000000Ti
usage_error sim --seed -1
usage_error sim --seed 1.5
usage_error sim --seed 18446744073709551616
usage_error sim --loss 1.5
usage_error sim --loss 150%
usage_error sim --loss -0.1
usage_error sim --loss abc
usage_error sim --loss nan
usage_error sim --loss inf
usage_error sim --loss 5%%
usage_error sim --dup 2
usage_error sim --reorder x
usage_error sim --corrupt 101%
usage_error sim --delay -1
usage_error sim --delay 1e9
usage_error sim --rate 0
usage_error sim --rate fast
usage_error sim --mtu 10
usage_error sim --mtu 115
usage_error sim --mtu 0
usage_error sim --mtu 65536
usage_error sim --mtu 70000
usage_error sim --pcap ''
usage_error sim --loss-c2s 2
usage_error sim --loss-s2c -1%
usage_error sim --burst 0.1,0.2
usage_error sim --burst 0.1,0.2,0.3,0.4
usage_error sim --burst 0.1,0,0.5
usage_error sim --burst-c2s 0.1,x,0.5
usage_error sim --burst-s2c 2,0.5,0.5
usage_error sim --read 4k
usage_error sim --read 0/10
usage_error sim --read 4k/0
usage_error sim --read /10
usage_error sim --read 4k/10/2
usage_error sim --read-pause 100
usage_error sim --read-pause 100:0
usage_error sim --read-pause -1:100
usage_error sim --read-side neither
usage_error sim --read-pause 1:1 --read-pause 2:1 --read-pause 3:1 --read-pause 4:1 \
    --read-pause 5:1 --read-pause 6:1 --read-pause 7:1 --read-pause 8:1 --read-pause 9:1

# Messages name the option (by its long name, however it was written), then the value once.
H="(see 'synack sim --help')"
says "synack sim: --bytes '2P' is not a whole number (digits, optionally followed by k, M, G, T, Ki, Mi, Gi or Ti) $H" \
    sim --bytes 2P
says "synack sim: --bytes 'abc' is not a whole number $H" sim -b abc
says "synack sim: --bytes '1001T' is too large $H" sim --bytes=1001T
says "synack sim: --loss '1.5' must be between 0 and 1 (or a percentage like 5%) $H" sim --loss 1.5
says "synack sim: --loss-c2s '150%' must be at most 100% $H" sim --loss-c2s 150%
says "synack sim: --delay '-1' must not be negative $H" sim --delay -1
says "synack sim: --rate '0' is too small $H" sim --rate 0
says "synack sim: --mtu '115' is too small: the stacks need at least 116 (40 bytes of headers, 12 of timestamps and a 64-byte segment) $H" \
    sim --mtu 115
says "synack sim: --mtu '65536' is too large: an IPv4 datagram is at most 65535 bytes $H" \
    sim --mtu 65536
says "synack sim: --read '4k' is not N/MS (bytes per period / period in ms, for example 4k/10) $H" \
    sim --read 4k
says "synack sim: --read-side 'neither' is not client, server or both $H" sim --read-side neither
says "synack sim: --burst '0.1,0,0.5' never leaves the lossy state: EXIT must be above 0 $H" \
    sim --burst 0.1,0,0.5
H="(see 'synack serve --help')"
says "synack serve: --port '0' is too small $H" serve --port 0
says "synack serve: --port '65536' is too large $H" serve --port 65536
says "synack serve: --addr '999.1.1.1/24' is not ADDRESS/PREFIX (for example 10.77.0.2/24) $H" \
    serve --port 80 --addr 999.1.1.1/24
says "synack serve: --loss '2' must be between 0 and 1 (or a percentage like 5%) $H" \
    serve --port 80 --loss 2
H="(see 'synack connect --help')"
says "synack connect: --timeout '0' is too small $H" connect --to 10.77.0.1:7 --timeout 0
says "synack connect: --delay 'x' is not a number $H" connect --to 10.77.0.1:7 --delay x

# serve's apps: http:DIR needs an existing directory (checked before any TAP is touched).
: >"$tmp/file"
usage_error serve --port 80 --app gopher
usage_error serve --port 80 --app http:
usage_error serve --port 80 --app http:/nonexistent-dir
usage_error serve --port 80 --app "http:$tmp/file"
"$SYNACK" serve --help >"$tmp/out" 2>&1 && grep -q 'http:DIR' "$tmp/out" &&
    grep -q 'curl http://' "$tmp/out" && ok "synack serve --help shows http:DIR" ||
    not_ok "synack serve --help lacks http:DIR"

# Good values in their accepted forms.
accepted '1000 bytes sent' --bytes 1k
accepted '1024 bytes sent' --bytes 1Ki
accepted '2097152 bytes sent' --bytes 2Mi
accepted 'PASS' --mtu 116 --bytes 10k
accepted 'PASS' --mtu 65535 --bytes 10k
accepted 'PASS' --loss-c2s 0 --loss-s2c 0% --burst 0,1,0 --burst-c2s 0,0,0
accepted 'PASS' --read 1Ki/0.5 --read-pause 0:1 --read-pause 2.5:0.5 --read-side client
accepted 'PASS' --read 100000/1 --read-side server
accepted 'PASS' --read-side both
accepted '10 bytes sent' --bytes 010
accepted '16 bytes sent' --bytes 0x10
accepted '0 bytes sent' --bytes 0
accepted 'PASS' --seed 18446744073709551615
accepted 'PASS' --loss 0 --dup 0% --reorder 0.0 --corrupt 0
accepted 'PASS' --delay 0
accepted 'PASS' --delay 2.5 --rate 0.5
accepted 'PASS' --mtu 1500
accepted 'PASS' -s half-close -b 2k

# Counts are 64-bit: 100G and 1Ti are taken whole (a black-holed link ends the run at once and
# the reason names the count the client had to send: 100 * 10^9 and 2^40, worked out here).
for spec in "100G $((100 * 1000 * 1000 * 1000))" "1Ti $((1 << 40))" "5Gi $((5 << 30))"; do
    set -- $spec
    "$SYNACK" sim --quiet --bytes "$1" --loss 1 >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ "$rc" -eq 1 ] && grep -q "client sent 0 of $2 bytes" "$tmp/out" &&
        ok "--bytes $1 is $2 bytes" || not_ok "--bytes $1 (exit $rc): $(head -c 300 "$tmp/out")"
done

# A pcap path that cannot be written is a failure (exit 1), not a usage error.
"$SYNACK" sim --pcap /nonexistent-dir/x.pcap >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] && grep -q 'x.pcap' "$tmp/err" && ok "unwritable --pcap: exit 1 with a message" ||
    not_ok "unwritable --pcap: exit $rc, stderr '$(cat "$tmp/err")'"

if [ "$failures" -ne 0 ]; then
    echo "test_args: $failures failure(s)"
    exit 1
fi
echo "test_args: all passed"
