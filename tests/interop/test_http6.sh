#!/usr/bin/env bash
# `curl -6` from the kernel's side to `synack serve --app http:DIR` over IPv6 (issue 13): a 50 MB
# file byte-exact, and the same server's dual-stack listener (examples/httpd_core.c, an AF_INET6
# socket on [::]:80) still serves IPv4 at once; serve's lines name the IPv6 peer in brackets.
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || { echo "FAIL: curl missing (scripts/install-deps.sh installs it)"; exit 1; }
K6=fd00:77::1
S6=fd00:77::2
setup_ns
nsx sysctl -qw net.ipv6.conf."$TAP".disable_ipv6=0
nsx ip -6 addr add "$K6/64" dev "$TAP" nodad
mkdir -p "$TMP/www"
random_file "$TMP/www/big.bin" $((50 * 1024 * 1024))
start_serve --port 80 --app "http:$TMP/www" --addr "$S6/64"
sleep 1.5 # DAD (RFC 4862 §5.4): one solicitation and RetransTimer before the address is used
nsx curl -6 -sS --max-time 60 -o "$TMP/got.bin" -w '%{http_code} %{size_download}\n' \
  "http://[$S6]/big.bin" >"$TMP/curl.out" 2>"$TMP/curl.err" || fail "curl -6 failed: $(cat "$TMP/curl.err")"
read -r code size <"$TMP/curl.out"
[ "$code" = 200 ] || fail "GET over IPv6: status $code"
[ "$(sha "$TMP/got.bin")" = "$(sha "$TMP/www/big.bin")" ] || fail "GET over IPv6: 50 MB file differs"
echo "curl -6: 200, $size bytes, byte-exact"
nsx curl -4 -sS --max-time 20 -o "$TMP/got4.bin" "http://$SADDR/big.bin" 2>"$TMP/curl4.err" ||
  fail "curl -4 to the same server failed: $(cat "$TMP/curl4.err")"
[ "$(sha "$TMP/got4.bin")" = "$(sha "$TMP/www/big.bin")" ] || fail "GET over IPv4 differs"
wait_for "grep -q '^\[$K6\]:' '$TMP/serve.out'" 5 || fail "no line for the IPv6 peer: $(tail -3 "$TMP/serve.out")"
stop_serve
echo "PASS: curl -6 50 MB byte-exact from --app http, IPv4 on the same listener"
