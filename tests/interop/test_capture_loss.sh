#!/usr/bin/env bash
# Where `--pcap` records under --loss: at each sender's side of the fault link, so the frames
# the link drops are in the capture (Wireshark shows them, and then their retransmissions).
# The oracle is a second capture the kernel takes itself (dumpcap on the TAP: the frames it
# received from synack after the losses, and every frame it sent), compared frame by frame
# (source, IP ID, sequence, acknowledgment, length) with tshark:
#   - synack's frames: everything the kernel received is in synack's capture, and synack's
#     capture holds frames the kernel never received (the lost ones);
#   - the kernel's frames: the two captures hold the same set, lost ones included.
# With --offload off: frame by frame needs the same frames on both sides (with the virtio-net
# header, synack captures super-segments and GRO frames whole, which the kernel's side sees cut
# or coalesced differently).
source "$(dirname "$0")/lib.sh"
command -v dumpcap >/dev/null && command -v tshark >/dev/null || fail "tshark/dumpcap missing (scripts/install-deps.sh)"
setup_ns
(nsrun dumpcap -q -i "$TAP" -f "tcp" -w "$TMP/kernel.pcapng" >"$TMP/dumpcap.out" 2>"$TMP/dumpcap.err") &
DUMPCAP_PID=$!
PIDS+=("$DUMPCAP_PID")
wait_for "grep -q Capturing '$TMP/dumpcap.err'" 10 || fail "dumpcap did not start"
start_serve --port 7 --app echo --loss 5% --seed 7 --pcap "$TMP/synack.pcap" --offload off
random_file "$TMP/data" 1048576
nsx python3 "$(dirname "$0")/echo_client.py" "$SADDR" 7 "$TMP/data" >"$TMP/client.out" 2>&1 ||
  fail "echo failed under 5% loss: $(cat "$TMP/client.out")"
stop_serve
sleep 0.3
kill -TERM "$DUMPCAP_PID"
wait "$DUMPCAP_PID" 2>/dev/null

frames() { # frames FILE SRC: one line per TCP frame from SRC, sorted
  tshark -n -r "$1" -Y "tcp && ip.src == $2" -T fields -e ip.id -e tcp.seq_raw -e tcp.ack_raw \
    -e tcp.len -e tcp.flags 2>/dev/null | sort
}
frames "$TMP/synack.pcap" "$SADDR" >"$TMP/s_sent.txt"
frames "$TMP/kernel.pcapng" "$SADDR" >"$TMP/k_got.txt"
frames "$TMP/synack.pcap" "$KADDR" >"$TMP/s_kernel.txt"
frames "$TMP/kernel.pcapng" "$KADDR" >"$TMP/k_sent.txt"
[ -s "$TMP/k_got.txt" ] && [ -s "$TMP/k_sent.txt" ] || fail "a capture is empty"
extra=$(comm -13 "$TMP/s_sent.txt" "$TMP/k_got.txt" | wc -l)
lost=$(comm -23 "$TMP/s_sent.txt" "$TMP/k_got.txt" | wc -l)
echo "synack sent $(wc -l <"$TMP/s_sent.txt") TCP frames (its capture), the kernel received" \
  "$(wc -l <"$TMP/k_got.txt") (dumpcap): $lost lost on the way, all in synack's capture"
[ "$extra" -eq 0 ] || fail "$extra frames reached the kernel that synack's capture lacks"
[ "$lost" -gt 0 ] || fail "no frame of synack's was lost at 5%: the capture point is not the sender's"
cmp -s "$TMP/s_kernel.txt" "$TMP/k_sent.txt" ||
  fail "the kernel's frames differ between the captures: $(diff "$TMP/s_kernel.txt" "$TMP/k_sent.txt" | head -5)"
echo "the kernel sent $(wc -l <"$TMP/k_sent.txt") TCP frames: the same set in both captures"
echo "PASS: under 5% loss, --pcap holds every frame each side sent, the lost ones too"
