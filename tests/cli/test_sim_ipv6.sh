#!/usr/bin/env bash
# `synack sim --ipv6` (issue 13): the connection runs over IPv6 between 2001:db8::1 and
# 2001:db8::2, byte-exact through loss; tshark reads the capture as IPv6 with good TCP checksums
# (RFC 8200 §8.1 pseudo-header), nothing malformed, and the SYN's MSS is the MTU less 60 (RFC
# 8200's 40-byte header and TCP's 20); the ladder names the IPv6 addresses.
#
# usage: bash test_sim_ipv6.sh /path/to/synack      (needs tshark; `make test` installs it)
set -u
SYNACK=${1:?usage: test_sim_ipv6.sh /path/to/synack}
if ! command -v tshark >/dev/null 2>&1; then
    echo "FAIL tshark is not installed: it is needed to check the pcap output (make deps installs it)"
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
ok() { echo "ok   $*"; }
not_ok() { echo "FAIL $*"; failures=$((failures + 1)); }
TSHARK=(tshark -o tcp.check_checksum:TRUE -d tcp.port==7,data)

"$SYNACK" sim --ipv6 --bytes 100000 --loss 5% --seed 3 --pcap "$tmp/s.pcap" >"$tmp/out" 2>&1 ||
    not_ok "synack sim --ipv6 failed: $(tail -5 "$tmp/out")"
grep -q 'PASS' "$tmp/out" && ok "sim --ipv6 with 5% loss passes (every byte echoed and verified)" ||
    not_ok "no PASS in: $(tail -3 "$tmp/out")"
grep -q 'client \[2001:db8::1\]:' "$tmp/out" && grep -q 'server \[2001:db8::2\]:7' "$tmp/out" &&
    ok "the ladder names [2001:db8::1] and [2001:db8::2]:7" ||
    not_ok "the ladder's titles: $(grep -m2 -e 'client \[' -e 'server \[' "$tmp/out")"

bad=$("${TSHARK[@]}" -r "$tmp/s.pcap" \
    -Y '_ws.malformed || tcp.checksum.status == 2 || _ws.expert.severity == error || !ipv6' \
    2>"$tmp/err")
if [ $? -ne 0 ]; then
    not_ok "tshark failed: $(head -3 "$tmp/err")"
elif [ -n "$bad" ]; then
    not_ok "malformed, bad checksum or not IPv6:"
    echo "$bad" | head -10
else
    ok "$("${TSHARK[@]}" -r "$tmp/s.pcap" 2>/dev/null | wc -l) IPv6 packets, none malformed, checksums good"
fi
read -r src dst mss < <("${TSHARK[@]}" -r "$tmp/s.pcap" -Y 'tcp.flags.syn == 1' -T fields \
    -E separator=' ' -e ipv6.src -e ipv6.dst -e tcp.options.mss_val 2>/dev/null | head -1)
[ "${src:-}" = "2001:db8::1" ] && [ "${dst:-}" = "2001:db8::2" ] &&
    ok "the SYN goes from 2001:db8::1 to 2001:db8::2" || not_ok "SYN from '${src:-}' to '${dst:-}'"
[ "${mss:-}" = "$((1500 - 40 - 20))" ] && ok "the SYN's MSS is 1440 (1500 - 40 - 20)" ||
    not_ok "the SYN's MSS is '${mss:-}', want 1440"

"$SYNACK" sim --ipv6 --mtu 1200 >/dev/null 2>&1
[ $? -eq 2 ] && ok "--ipv6 --mtu 1200 is a usage error (RFC 8200 §5: 1280 at least)" ||
    not_ok "--ipv6 --mtu 1200 did not fail with status 2"

[ "$failures" -eq 0 ] || exit 1
