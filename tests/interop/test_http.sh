#!/usr/bin/env bash
# The example HTTP server (examples/httpd.c) on a TAP device in a namespace, the kernel as
# client: curl fetches a 50 MB file byte-exact, then wrk with 100 connections for 10 s must see
# zero errors (socket errors and non-2xx responses); the counts are printed.
# Usage: bash test_http.sh path/to/synack (synack-httpd is found in examples/ beside it).
. "$(dirname "$0")/lib.sh"
HTTPD=$(dirname "$BIN")/examples/synack-httpd
[ -x "$HTTPD" ] || fail "no $HTTPD"
command -v curl >/dev/null || { echo "FAIL: curl missing (scripts/install-deps.sh installs it)"; exit 1; }
command -v wrk >/dev/null || { echo "FAIL: wrk missing (scripts/install-deps.sh installs it)"; exit 1; }

setup_ns
mkdir -p "$TMP/www"
random_file "$TMP/www/big.bin" $((50 * 1024 * 1024))
echo '<html><body>hello from synack</body></html>' >"$TMP/www/index.html"
(nsrun "$HTTPD" --tap "$TAP" --addr "$SADDR/24" "$TMP/www" >"$TMP/httpd.out" 2>"$TMP/httpd.err") &
PIDS+=("$!")
wait_for "grep -q 'serving' '$TMP/httpd.err'" 5 || fail "httpd did not start"

# 1. curl: 50 MB byte-exact.
nsx curl -sS --max-time 60 -o "$TMP/got.bin" -w '%{http_code} %{size_download} %{speed_download}\n' \
  "http://$SADDR/big.bin" >"$TMP/curl.out" 2>"$TMP/curl.err" || fail "curl failed"
read -r code size speed <"$TMP/curl.out"
[ "$code" = 200 ] || fail "curl: status $code"
[ "$(sha "$TMP/got.bin")" = "$(sha "$TMP/www/big.bin")" ] || fail "curl: 50 MB file differs"
echo "curl: 200, $size bytes, byte-exact, $(awk -v s="$speed" 'BEGIN {printf "%.1f", s * 8 / 1e6}') Mbit/s"
# HEAD, 404 and keep-alive (two URLs on one connection) from curl too.
nsx curl -sS -I "http://$SADDR/big.bin" | grep -q "Content-Length: 52428800" || fail "HEAD"
[ "$(nsx curl -s -o /dev/null -w '%{http_code}' "http://$SADDR/nope")" = 404 ] || fail "404"
nsx curl -sS -v "http://$SADDR/" "http://$SADDR/index.html" -o /dev/null -o /dev/null \
  2>"$TMP/keepalive.err" || fail "keep-alive fetch"
grep -q "Re-using existing connection" "$TMP/keepalive.err" || fail "keep-alive not used"
echo "curl: HEAD, 404 and keep-alive OK"

# 2. wrk: 100 connections for 10 s, zero errors.
nsx wrk -t 2 -c 100 -d 10s "http://$SADDR/index.html" >"$TMP/wrk.out" 2>&1 || fail "wrk failed"
cat "$TMP/wrk.out"
grep -q "Socket errors" "$TMP/wrk.out" && fail "wrk: socket errors"
grep -q "Non-2xx or 3xx" "$TMP/wrk.out" && fail "wrk: non-2xx responses"
reqs=$(awk '/requests in/ {print $1}' "$TMP/wrk.out")
[ "${reqs:-0}" -gt 0 ] || fail "wrk: no requests"
echo "wrk: $reqs requests, 100 connections, 10 s, 0 errors"
echo "PASS"
