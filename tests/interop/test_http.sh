#!/usr/bin/env bash
# The example HTTP server (examples/httpd.c) on a TAP device in a namespace, the kernel as
# client: each file's Content-Type; in a capture on the kernel's side, a small page leaves as
# one segment holding the whole response and a larger one as full segments (the headers never
# leave alone to wait for the client's ACK); curl fetches a 50 MB file byte-exact, then wrk
# with 100 connections for 10 s must see zero errors (socket errors and non-2xx responses);
# the counts are printed.
# Usage: bash test_http.sh path/to/synack (synack-httpd is found in examples/ beside it).
. "$(dirname "$0")/lib.sh"
HTTPD=$(dirname "$BIN")/examples/synack-httpd
[ -x "$HTTPD" ] || fail "no $HTTPD"
command -v curl >/dev/null || { echo "FAIL: curl missing (scripts/install-deps.sh installs it)"; exit 1; }
command -v wrk >/dev/null || { echo "FAIL: wrk missing (scripts/install-deps.sh installs it)"; exit 1; }
command -v dumpcap >/dev/null && command -v tshark >/dev/null ||
  fail "tshark/dumpcap missing (scripts/install-deps.sh installs them)"

setup_ns
mkdir -p "$TMP/www"
random_file "$TMP/www/big.bin" $((50 * 1024 * 1024))
echo '<html><body>hello from synack</body></html>' >"$TMP/www/index.html"
echo 'body { color: black }' >"$TMP/www/style.css"
random_file "$TMP/www/photo.JPG" 5000
random_file "$TMP/www/blob.xyz" 10
(nsrun "$HTTPD" --tap "$TAP" --addr "$SADDR/24" "$TMP/www" >"$TMP/httpd.out" 2>"$TMP/httpd.err") &
PIDS+=("$!")
wait_for "grep -q 'serving' '$TMP/httpd.err'" 5 || fail "httpd did not start"

# 1. Content-Type by extension (RFC 9110 §8.3), case-insensitive; unknown: octet-stream.
ctype() { nsx curl -sS --max-time 5 -o /dev/null -w '%{content_type}' "http://$SADDR/$1"; }
[ "$(ctype '')" = "text/html; charset=utf-8" ] || fail "Content-Type of /: $(ctype '')"
[ "$(ctype style.css)" = "text/css; charset=utf-8" ] || fail "Content-Type of .css: $(ctype style.css)"
[ "$(ctype photo.JPG)" = "image/jpeg" ] || fail "Content-Type of .JPG: $(ctype photo.JPG)"
[ "$(ctype blob.xyz)" = "application/octet-stream" ] || fail "Content-Type of .xyz: $(ctype blob.xyz)"
echo "Content-Type: html, css, JPG and an unknown extension as expected"

# 2. The whole response at once, judged on a capture taken on the kernel's side of the TAP:
# the page (headers + 44 bytes) in a single segment, which is therefore sent before any ACK of
# the client for the headers; the 5000-byte file in segments that are all full but the last
# (full: the kernel's MSS less the TCP options the segment carries). Byte counts from curl.
(nsrun dumpcap -q -i "$TAP" -f "tcp port 80" -w "$TMP/http.pcapng" >"$TMP/dumpcap.out" \
  2>"$TMP/dumpcap.err") &
DUMPCAP_PID=$!
PIDS+=("$DUMPCAP_PID")
wait_for "grep -q Capturing '$TMP/dumpcap.err'" 10 || fail "dumpcap did not start"
for f in index.html photo.JPG; do
  nsx curl -sS --max-time 5 -o /dev/null -w '%{local_port} %{size_header} %{size_download}\n' \
    "http://$SADDR/$f" >"$TMP/seg_$f.out" 2>&1 || fail "GET $f: $(cat "$TMP/seg_$f.out")"
done
sleep 0.3
kill -TERM "$DUMPCAP_PID"
wait "$DUMPCAP_PID" 2>/dev/null
# segments PORT: "len optbytes" of each segment the server sent to client port PORT with data.
segments() {
  tshark -n -r "$TMP/http.pcapng" -Y "tcp.srcport == 80 && tcp.dstport == $1 && tcp.len > 0" \
    -T fields -e tcp.len -e tcp.hdr_len 2>/dev/null | awk '{print $1, $2 - 20}'
}
read -r port hsize bsize <"$TMP/seg_index.html.out"
segments "$port" >"$TMP/seg_index.txt"
[ "$(wc -l <"$TMP/seg_index.txt")" -eq 1 ] ||
  fail "the page left in $(wc -l <"$TMP/seg_index.txt") segments: $(tr '\n' ' ' <"$TMP/seg_index.txt")"
read -r len _ <"$TMP/seg_index.txt"
[ "$len" -eq $((hsize + bsize)) ] || fail "the page's segment has $len bytes, response $((hsize + bsize))"
read -r port hsize bsize <"$TMP/seg_photo.JPG.out"
kmss=$(tshark -n -r "$TMP/http.pcapng" -Y "tcp.srcport == $port && tcp.flags.syn == 1" \
  -T fields -e tcp.options.mss_val 2>/dev/null | head -1)
[ -n "$kmss" ] || fail "no SYN with an MSS from client port $port in the capture"
segments "$port" >"$TMP/seg_photo.txt"
awk -v mss="$kmss" -v total=$((hsize + bsize)) '
  { n++; sum += $1; if (prev != "" && prev + popt != mss) short++; prev = $1; popt = $2 }
  END { if (short || sum != total) exit 1 }' "$TMP/seg_photo.txt" ||
  fail "5000-byte file: segments $(awk '{print $1}' "$TMP/seg_photo.txt" | tr '\n' ' ')(MSS $kmss, response $((hsize + bsize)) bytes)"
echo "whole responses: the page in 1 segment of $len bytes; 5000 bytes in segments of $(awk '{print $1}' "$TMP/seg_photo.txt" | tr '\n' ' ')(MSS $kmss)"

# 3. curl: 50 MB byte-exact.
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

# 4. wrk: 100 connections for 10 s, zero errors.
nsx wrk -t 2 -c 100 -d 10s "http://$SADDR/index.html" >"$TMP/wrk.out" 2>&1 || fail "wrk failed"
cat "$TMP/wrk.out"
grep -q "Socket errors" "$TMP/wrk.out" && fail "wrk: socket errors"
grep -q "Non-2xx or 3xx" "$TMP/wrk.out" && fail "wrk: non-2xx responses"
reqs=$(awk '/requests in/ {print $1}' "$TMP/wrk.out")
[ "${reqs:-0}" -gt 0 ] || fail "wrk: no requests"
echo "wrk: $reqs requests, 100 connections, 10 s, 0 errors"
echo "PASS"
