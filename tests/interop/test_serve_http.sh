#!/usr/bin/env bash
# `synack serve --app http:DIR` (the server of examples/httpd_core.c) on a TAP device in a
# namespace, curl in the kernel's namespace as client: a 5 MB file byte-exact, Content-Type,
# HEAD with its Content-Length, 404 for a missing file, keep-alive over two URLs, 8 clients at once; every
# connection leaves its line, and SIGTERM stops serve with status 0 and the request count.
# Usage: bash test_serve_http.sh path/to/synack
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || { echo "FAIL: curl missing (scripts/install-deps.sh installs it)"; exit 1; }

setup_ns
mkdir -p "$TMP/www"
random_file "$TMP/www/big.bin" $((5 * 1024 * 1024))
echo '<html><body>hello from synack serve</body></html>' >"$TMP/www/index.html"
start_serve --port 80 --app "http:$TMP/www"
grep -q "^synack serve: http $TMP/www on $SADDR:80 (tcp)" "$TMP/serve.out" ||
  fail "start line: $(head -1 "$TMP/serve.out")"

# GET: 5 MB byte-exact.
nsx curl -sS --max-time 20 -o "$TMP/got.bin" -w '%{http_code} %{size_download}\n' \
  "http://$SADDR/big.bin" >"$TMP/curl.out" 2>"$TMP/curl.err" || fail "curl GET failed"
read -r code size <"$TMP/curl.out"
[ "$code" = 200 ] || fail "GET: status $code"
[ "$(sha "$TMP/got.bin")" = "$(sha "$TMP/www/big.bin")" ] || fail "GET: 5 MB file differs"
echo "GET: 200, $size bytes, byte-exact"

# Content-Type from the extension (RFC 9110 §8.3): html, and octet-stream for .bin.
[ "$(nsx curl -sS --max-time 5 -o /dev/null -w '%{content_type}' "http://$SADDR/")" = \
  "text/html; charset=utf-8" ] || fail "Content-Type of / is not text/html"
[ "$(nsx curl -sS --max-time 5 -I -o /dev/null -w '%{content_type}' "http://$SADDR/big.bin")" = \
  application/octet-stream ] || fail "Content-Type of .bin is not application/octet-stream"

# HEAD: the file's length and no body; 404 for a missing file.
nsx curl -sS --max-time 5 -I "http://$SADDR/big.bin" >"$TMP/head.out" 2>&1 || fail "HEAD failed"
grep -q "^HTTP/1.1 200" "$TMP/head.out" || fail "HEAD: not 200"
grep -qi "^Content-Length: 5242880" "$TMP/head.out" || fail "HEAD: wrong Content-Length"
[ "$(nsx curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://$SADDR/nope")" = 404 ] ||
  fail "404"
echo "HEAD: 200, Content-Length 5242880; missing file: 404"

# Keep-alive: two URLs, one connection.
nsx curl -sS --max-time 5 -v "http://$SADDR/" "http://$SADDR/index.html" -o /dev/null -o /dev/null \
  2>"$TMP/keepalive.err" || fail "keep-alive fetch"
grep -q "Re-using existing connection" "$TMP/keepalive.err" || fail "keep-alive not used"

# 8 clients at once, each fetching the big file.
cpids=()
for i in 1 2 3 4 5 6 7 8; do
  nsx curl -sS --max-time 20 -o "$TMP/par$i.bin" "http://$SADDR/big.bin" 2>"$TMP/par$i.err" &
  cpids+=("$!")
done
for i in 1 2 3 4 5 6 7 8; do
  wait "${cpids[$((i - 1))]}" || fail "concurrent client $i failed"
  [ "$(sha "$TMP/par$i.bin")" = "$(sha "$TMP/www/big.bin")" ] || fail "concurrent client $i differs"
done
echo "keep-alive OK; 8 concurrent clients byte-exact"

# One line per connection: GET, 2 Content-Type, HEAD, 404, keep-alive, 8 concurrent = 14.
wait_for "[ \$(grep -c ' bytes, closed$' '$TMP/serve.out') -ge 14 ]" 5 ||
  fail "expected 14 'closed' connection lines"
grep -Eq "^$KADDR:[0-9]+ in [0-9]+ out 524[0-9]{4} bytes, closed$" "$TMP/serve.out" ||
  fail "no connection line for the 5 MB GET"
stop_serve
grep -q "stopping after 14 connections, 15 HTTP requests (1 not found)" "$TMP/serve.err" ||
  fail "exit summary: $(grep stopping "$TMP/serve.err")"
echo "PASS: serve --app http: GET 5 MB, Content-Type, HEAD, 404, keep-alive, 8 concurrent clients"
