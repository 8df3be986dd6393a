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
         --bytes --pcap --seed --loss --dup --reorder --corrupt --delay --rate --mtu --scenario \
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
usage_error sim --bytes 2G
usage_error sim --bytes 99999999999999999999999
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
usage_error sim --mtu 70000
usage_error sim --pcap ''

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
accepted '10 bytes sent' --bytes 010
accepted '16 bytes sent' --bytes 0x10
accepted '0 bytes sent' --bytes 0
accepted 'PASS' --seed 18446744073709551615
accepted 'PASS' --loss 0 --dup 0% --reorder 0.0 --corrupt 0
accepted 'PASS' --delay 0
accepted 'PASS' --delay 2.5 --rate 0.5
accepted 'PASS' --mtu 1500
accepted 'PASS' -s half-close -b 2k

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
