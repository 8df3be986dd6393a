#!/usr/bin/env bash
# `synack sim --pcap`: the capture reads cleanly in tshark, with good checksums, and shows the
# handshake's numbers: the SYN-ACK acks the client's ISN + 1, the third segment the server's
# ISN + 1 (absolute sequence numbers).
#
# usage: bash test_pcap.sh /path/to/synack      (needs tshark; `make test` installs it)
set -u
SYNACK=${1:?usage: test_pcap.sh /path/to/synack}
if ! command -v tshark >/dev/null 2>&1; then
    echo "FAIL tshark is not installed: it is needed to check the pcap output (make deps installs it)"
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
ok() { echo "ok   $*"; }
not_ok() { echo "FAIL $*"; failures=$((failures + 1)); }

# The payload is random bytes: decoded as plain data on the demo's port, so that no heuristic
# dissector mistakes it for its protocol; what is judged is IP and TCP.
TSHARK=(tshark -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE
        -o tcp.relative_sequence_numbers:FALSE -d tcp.port==7,data)

# clean NAME: no malformed packet, no bad IP or TCP checksum in $tmp/NAME.pcap.
clean() {
    local bad
    bad=$("${TSHARK[@]}" -r "$tmp/$1.pcap" \
        -Y '_ws.malformed || tcp.checksum.status == 2 || ip.checksum.status == 2 || _ws.expert.severity == error' \
        2>"$tmp/$1.tshark.err")
    if [ $? -ne 0 ]; then
        not_ok "$1: tshark failed: $(head -3 "$tmp/$1.tshark.err")"
    elif [ -n "$bad" ]; then
        not_ok "$1: malformed packets or bad checksums:"
        echo "$bad" | head -10
    else
        ok "$1: $("${TSHARK[@]}" -r "$tmp/$1.pcap" 2>/dev/null | wc -l) packets, none malformed, checksums good"
    fi
}

"$SYNACK" sim --quiet --pcap "$tmp/handshake.pcap" >/dev/null 2>"$tmp/err" ||
    not_ok "synack sim --pcap failed: $(cat "$tmp/err")"
clean handshake

# The first three packets: SYN, SYN-ACK, ACK with absolute numbers.
"${TSHARK[@]}" -r "$tmp/handshake.pcap" -T fields -E separator=' ' \
    -e tcp.flags.syn -e tcp.flags.ack -e tcp.seq -e tcp.ack 2>/dev/null | head -3 >"$tmp/hs"
norm() { sed -e 's/True/1/g; s/False/0/g' "$tmp/hs"; } # booleans print as 1/0 or True/False
read -r s1 a1 seq1 _ack1 < <(norm | sed -n 1p)
read -r s2 a2 seq2 ack2 < <(norm | sed -n 2p)
read -r s3 a3 _seq3 ack3 < <(norm | sed -n 3p)
if [ "$s1$a1" = "10" ] && [ "$s2$a2" = "11" ] && [ "$s3$a3" = "01" ]; then
    ok "the capture starts with SYN, SYN-ACK, ACK"
else
    not_ok "first three packets' SYN/ACK flags: '$s1$a1' '$s2$a2' '$s3$a3' (want 10 11 01)"
fi
if [ -n "${seq1:-}" ] && [ "${ack2:-}" = "$(( (seq1 + 1) % 4294967296 ))" ]; then
    ok "the SYN-ACK acks the client's ISN + 1 ($seq1 + 1)"
else
    not_ok "SYN-ACK ack '${ack2:-}', client ISN '${seq1:-}'"
fi
if [ -n "${seq2:-}" ] && [ "${ack3:-}" = "$(( (seq2 + 1) % 4294967296 ))" ]; then
    ok "the third segment acks the server's ISN + 1 ($seq2 + 1)"
else
    not_ok "third segment ack '${ack3:-}', server ISN '${seq2:-}'"
fi

# The ladder and the capture agree on the numbers.
"$SYNACK" sim >"$tmp/ladder" 2>&1
if grep -q "$seq1 (0)" "$tmp/ladder" && grep -q "$seq2 (0)" "$tmp/ladder"; then
    ok "the ladder shows the same ISNs as the capture"
else
    not_ok "the ladder does not show ISNs $seq1 and $seq2"
fi

# Every scenario, and a lossy transfer with options, SACK blocks and retransmissions.
for s in simultaneous-open simultaneous-close half-close refused reset syn-loss; do
    "$SYNACK" sim --quiet --scenario "$s" --pcap "$tmp/$s.pcap" >/dev/null 2>&1
    clean "$s"
done
"$SYNACK" sim --quiet --bytes 100000 --loss 0.05 --seed 7 --pcap "$tmp/lossy.pcap" >/dev/null 2>&1 ||
    not_ok "lossy run with --pcap failed"
clean lossy
n_sack=$("${TSHARK[@]}" -r "$tmp/lossy.pcap" -Y 'tcp.options.sack_le' 2>/dev/null | wc -l)
n_rtx=$("${TSHARK[@]}" -r "$tmp/lossy.pcap" -Y 'tcp.analysis.retransmission || tcp.analysis.fast_retransmission' 2>/dev/null | wc -l)
if [ "$n_sack" -gt 0 ] && [ "$n_rtx" -gt 0 ]; then
    ok "lossy capture: $n_sack segments with SACK blocks, $n_rtx retransmissions"
else
    not_ok "lossy capture: $n_sack SACK segments, $n_rtx retransmissions (want both > 0)"
fi

if [ "$failures" -ne 0 ]; then
    echo "test_pcap: $failures failure(s)"
    exit 1
fi
echo "test_pcap: all passed"
