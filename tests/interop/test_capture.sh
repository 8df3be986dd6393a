#!/usr/bin/env bash
# A capture on the kernel side of the TAP (dumpcap, read with tshark) while the kernel and
# synack exchange TCP both ways, ping and UDP: no malformed packet at all, no bad IP, TCP, UDP
# or ICMP checksum from synack; synack honours the kernel's MSS (its segments carry at most
# MSS - 12 bytes with timestamps) and its scaled window (no "window exceeded"), and the kernel
# agrees to synack's window scale and sends more than 64 KiB in flight on the strength of it.
# With --offload off: what is judged is synack's own checksums and segment sizes on the wire
# (with the virtio-net header, the kernel's side of the TAP shows partial checksums and
# super-segments, as any NIC with offloads does; test_capture_offload judges that mode).
source "$(dirname "$0")/lib.sh"
command -v dumpcap >/dev/null && command -v tshark >/dev/null || fail "tshark/dumpcap missing (scripts/install-deps.sh)"
setup_ns
(nsrun dumpcap -q -i "$TAP" -f "not ip6" -w "$TMP/kernel.pcapng" >"$TMP/dumpcap.out" 2>"$TMP/dumpcap.err") &
DUMPCAP_PID=$!
PIDS+=("$DUMPCAP_PID")
wait_for "grep -q Capturing '$TMP/dumpcap.err'" 10 || fail "dumpcap did not start"
start_serve --port 7 --app echo --pcap "$TMP/synack.pcap" --offload off
random_file "$TMP/data" 2097152
nsx ping -c 2 -i 0.2 -s 3000 "$SADDR" >/dev/null || fail "ping failed"
nsx python3 "$(dirname "$0")/echo_client.py" "$SADDR" 7 "$TMP/data" >"$TMP/client.out" 2>&1 ||
  fail "echo failed: $(cat "$TMP/client.out")"
nsx python3 -c "
import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
s.sendto(b'x' * 3000, ('$SADDR', 7)); s.recvfrom(65535)" || fail "udp failed"
stop_serve
(nsrun python3 "$(dirname "$0")/echo_server.py" "$KADDR" 5001 "$TMP/server.sha" >"$TMP/server.out" 2>&1) &
PIDS+=($!)
wait_for "grep -q listening '$TMP/server.out'" 5 || fail "python server did not start"
nsx "$BIN" connect --tap "$TAP" --addr "$SADDR/24" --to "$KADDR:5001" --send "$TMP/data" \
  --recv /dev/null --offload off >"$TMP/connect.out" 2>"$TMP/connect.err" || fail "connect failed"
sleep 0.3
kill -TERM "$DUMPCAP_PID"
wait "$DUMPCAP_PID" 2>/dev/null

# The payload is random bytes: decoded as plain data on the test's ports, so that no heuristic
# dissector (Thrift, say) mistakes it for its protocol and calls the packet malformed. What is
# judged is Ethernet, ARP, IP, ICMP, UDP and TCP.
TS=(tshark -n -r "$TMP/kernel.pcapng" -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE
    -o udp.check_checksum:TRUE -d tcp.port==7,data -d tcp.port==5001,data -d udp.port==7,data)
total=$("${TS[@]}" 2>/dev/null | wc -l)
[ "$total" -gt 1000 ] || fail "capture has only $total packets"
bad=$("${TS[@]}" -Y "_ws.malformed || _ws.expert.severity == error" 2>/dev/null | wc -l)
[ "$bad" -eq 0 ] || fail "$bad malformed packets: $("${TS[@]}" -Y "_ws.malformed || _ws.expert.severity == error" | head -5)"
badsum=$("${TS[@]}" -Y "ip.src == $SADDR && (ip.checksum.status == 0 || tcp.checksum.status == 0 || udp.checksum.status == 0 || icmp.checksum.status == 0)" 2>/dev/null | wc -l)
[ "$badsum" -eq 0 ] || fail "$badsum packets from synack with a bad checksum"
kmss=$("${TS[@]}" -Y "ip.src == $KADDR && tcp.flags.syn == 1" -T fields -e tcp.options.mss_val 2>/dev/null | sort -n | head -1)
[ -n "$kmss" ] || fail "no kernel SYN with an MSS in the capture"
maxlen=$("${TS[@]}" -Y "ip.src == $SADDR && tcp" -T fields -e tcp.len 2>/dev/null | sort -n | tail -1)
[ "$maxlen" -le $((kmss - 12)) ] || fail "synack sent $maxlen bytes in a segment, kernel MSS $kmss"
exceeded=$("${TS[@]}" -Y "ip.src == $SADDR && tcp.analysis.window_exceeded" 2>/dev/null | wc -l)
[ "$exceeded" -eq 0 ] || fail "synack exceeded the kernel's window $exceeded times"
sws=$("${TS[@]}" -Y "ip.src == $SADDR && tcp.flags.syn == 1" -T fields -e tcp.options.wscale.shift 2>/dev/null | sort -u | head -1)
[ -n "$sws" ] && [ "$sws" -gt 0 ] || fail "synack offered no window scale"
kflight=$("${TS[@]}" -Y "ip.src == $KADDR && tcp.analysis.bytes_in_flight" -T fields -e tcp.analysis.bytes_in_flight 2>/dev/null | sort -n | tail -1)
[ "$kflight" -gt 65535 ] || fail "kernel never had more than 64 KiB in flight ($kflight): window scale not honoured"
# synack's own capture opens in tshark too.
"${TS[@]/$TMP\/kernel.pcapng/$TMP/synack.pcap}" >/dev/null 2>&1 || fail "synack's --pcap is unreadable"
echo "capture: $total packets, kernel MSS $kmss, synack's largest segment $maxlen, synack wscale $sws, kernel's most in flight $kflight"
echo "PASS: no malformed packets or bad checksums; MSS and window scaling honoured"
