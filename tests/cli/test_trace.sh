#!/usr/bin/env bash
# `synack trace`: captures written by `synack sim --pcap` explained, checked from outside.
#
# What is expected comes from tshark reading the same file (segments, raw sequence numbers,
# ISNs, flags, windows, retransmission marks: trace_vs_tshark.py) and from each sim scenario's
# story under RFC 9293 (the client closes first: it ends in TIME-WAIT, the server CLOSED). The
# same capture rewritten under every link type synack reads (trace_convert.py: Ethernet, VLAN,
# SLL, SLL2, raw IPv4/IPv6, NULL both byte orders, LOOP; pcapng by editcap) must trace the same.
# Damaged captures (empty, garbage, cut header, cut last record, unknown link type, headers cut
# by the snap length) get one clear line naming the file, exit status 1, and no crash.
#
# usage: bash test_trace.sh /path/to/synack      (needs tshark and editcap: make deps)
set -u
SYNACK=${1:?usage: test_trace.sh /path/to/synack}
HERE=$(cd "$(dirname "$0")" && pwd)
for tool in tshark editcap mergecap python3; do
    if ! command -v $tool >/dev/null 2>&1; then
        echo "FAIL $tool is not installed (make deps installs it)"
        exit 1
    fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
ok() { echo "ok   $*"; }
not_ok() { echo "FAIL $*"; failures=$((failures + 1)); }

# trace NAME ARGS...: `synack trace ARGS`, output in $tmp/NAME.out / .err, status in $rc.
trace() {
    local name=$1
    shift
    "$SYNACK" trace "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
    rc=$?
}

# has NAME FILE PATTERN...: every extended regex matches a line of $tmp/NAME.FILE.
has() {
    local name=$1 file=$2 pat missing=0
    shift 2
    for pat in "$@"; do
        if ! grep -Eq -- "$pat" "$tmp/$name.$file"; then
            not_ok "$name: no line of its $file matches '$pat'"
            missing=1
        fi
    done
    return $missing
}

# sim NAME ARGS...: a capture $tmp/NAME.pcap from `synack sim ARGS`.
sim() {
    local name=$1
    shift
    if ! "$SYNACK" sim "$@" --quiet --pcap "$tmp/$name.pcap" >"$tmp/$name.sim" 2>&1; then
        not_ok "$name: synack sim $* failed: $(tail -3 "$tmp/$name.sim")"
        return 1
    fi
}

# story NAME EXPECT...: the JSON of $tmp/NAME.pcap agrees with tshark and the story.
story() {
    local name=$1
    shift
    trace "$name" --quiet --json "$tmp/$name.json" "$tmp/$name.pcap"
    if [ "$rc" -ne 0 ]; then
        not_ok "$name: exit status $rc: $(head -c 300 "$tmp/$name.err")"
        return 1
    fi
    if python3 "$HERE/trace_vs_tshark.py" "$tmp/$name.pcap" "$tmp/$name.json" "$@" \
        >"$tmp/$name.check" 2>&1; then
        ok "$name: agrees with tshark and the scenario ($*)"
    else
        not_ok "$name: $(head -5 "$tmp/$name.check" | tr '\n' ';')"
    fi
}

A='→'

# ---- sim scenarios, each with its known end ----
sim hs --scenario handshake-close && story hs end=closed states=TIME-WAIT/CLOSED
sim half --scenario half-close && story half end=closed states=TIME-WAIT/CLOSED
sim sclose --scenario simultaneous-close && story sclose end=closed states=TIME-WAIT/TIME-WAIT
# tshark takes each SYN|ACK of a simultaneous open, which repeats its sender's SYN sequence
# number, for a retransmission; RFC 9293 §3.5 (figure 8) says it is not one, and no segment is
# lost in this scenario.
sim sopen --scenario simultaneous-open && story sopen end=closed retx=0
sim refused --scenario refused && story refused end=refused states=CLOSED/CLOSED
sim reset --scenario reset && story reset end=reset reset_by=0 states=CLOSED/CLOSED
sim v6 --scenario handshake-close --ipv6 && story v6 end=closed states=TIME-WAIT/CLOSED
# Loss: the sim captures after the link's loss at the sender, so what tshark marks as
# retransmitted is what the capture shows sent twice.
sim loss --bytes 100000 --loss 5% --seed 7 && story loss end=closed min_retx=1
sim loss6 --bytes 50000 --loss 3% --seed 3 --ipv6 && story loss6 end=closed min_retx=1
# Lost ACKs (server to client): the echo's segments go again; the one whose first copy the
# capture holds is noted as a retransmission, those whose first copy was lost before the capture
# as gap fills, each where tshark marks a retransmission. (The tail loss probe resends the last
# segment sent, RFC 8985 §7.3, not the last MSS, so it no longer overlaps a captured copy.)
sim ackloss --bytes 20000 --loss-s2c 40% --seed 2 && story ackloss end=closed min_noted=1

# ---- the ladder, in words ----
trace ladder --ascii "$tmp/hs.pcap"
A2='->'
[ "$rc" -eq 0 ] && has ladder out "client: CLOSED $A2 SYN-SENT" "server: LISTEN $A2 SYN-RECEIVED" \
    "client: SYN-SENT $A2 ESTABLISHED" "server: SYN-RECEIVED $A2 ESTABLISHED" \
    "client: ESTABLISHED $A2 FIN-WAIT-1" "server: CLOSE-WAIT $A2 LAST-ACK" \
    "client: [A-Z0-9-]+ $A2 TIME-WAIT" "server: LAST-ACK $A2 CLOSED" \
    'three-way handshake 1/3' 'three-way handshake 3/3' 'four-way close' \
    '^connection 1: client 10\.0\.0\.1:[0-9]+, server 10\.0\.0\.2:7' \
    '^ +0\.000 +-+ SYN -+>' && ! grep -q '[^ -~]' "$tmp/ladder.out" &&
    ok "ladder: states, notes, --ascii"
[ "$rc" -eq 0 ] || not_ok "ladder: exit status $rc"
# The ISN in the note is tshark's raw sequence number of the SYN.
isn=$(tshark -n -r "$tmp/hs.pcap" -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' -T fields \
    -e tcp.seq_raw 2>/dev/null)
has ladder out "handshake 1/3: SYN, ISN $isn\$" && ok "ladder: ISN $isn as tshark reads it"

# RFC 9293 §3.6's four-way close, the client closing first (the scenario's story): its FIN is
# step 1 and its last ACK step 4, both on rows going right; the server's ACK and FIN, 2 and 3,
# on rows going left.
steps=$(awk '/-+>   /{d="right"} /<-+ /{d="left"} match($0, /four-way close [1-4]\/4/){
    print substr($0, RSTART + 15, 1) d}' "$tmp/ladder.out" | tr '\n' ' ')
[ "$steps" = "1right 2left 3left 4right " ] && ok "ladder: the four-way close's steps" ||
    not_ok "ladder: four-way close steps '$steps', want '1right 2left 3left 4right '"
has ladder out 'four-way close 1/4, FIN: .*half-close' && ok "ladder: the first FIN is a half-close"

trace zh --lang zh "$tmp/hs.pcap"
[ "$rc" -eq 0 ] && has zh out '三次握手 1/3' '四次挥手 1/4.*半关闭' '四次挥手 4/4' '客户端' '服务器' "TIME-WAIT" &&
    ok "--lang zh"
LANG=zh_CN.UTF-8 LC_ALL= LC_MESSAGES= "$SYNACK" trace "$tmp/half.pcap" >"$tmp/zhenv.out" 2>&1
has zhenv out '三次握手' '半关闭|四次挥手' && ok "LANG=zh_CN.UTF-8 chooses Chinese"
LC_ALL=C LANG=zh_CN.UTF-8 "$SYNACK" trace "$tmp/hs.pcap" >"$tmp/cenv.out" 2>&1
has cenv out 'three-way handshake' && ok "LC_ALL=C wins over LANG"
trace rst "$tmp/reset.pcap"
has rst out 'RST: the application aborted' && ok "reset: the RST explained"
trace ref "$tmp/refused.pcap"
has ref out 'connection refused' && ok "refused: the RST explained"

# A long transfer is summed up unless --verbose.
trace long "$tmp/loss.pcap"
trace longv --verbose "$tmp/loss.pcap"
rows=$(grep -c 'ACK' "$tmp/long.out"); rowsv=$(grep -c 'ACK' "$tmp/longv.out")
total=$(tshark -n -r "$tmp/loss.pcap" -Y tcp 2>/dev/null | wc -l)
if grep -q 'rows not shown' "$tmp/long.out" && [ "$rowsv" -ge "$total" ] &&
    [ "$rows" -lt "$rowsv" ]; then
    ok "long transfer summed up ($rows rows), --verbose shows all $total segments"
else
    not_ok "summing up: $rows rows, verbose $rowsv, tshark $total segments"
fi

# ---- several connections: --list, --conn, --filter ----
sim two1 --seed 11 && sim two2 --seed 12 --scenario half-close
mergecap -w "$tmp/two.pcap" "$tmp/two1.pcap" "$tmp/two2.pcap" 2>/dev/null
story two conns=2 end=closed
trace list --list "$tmp/two.pcap"
p1=$(tshark -n -r "$tmp/two.pcap" -Y 'tcp.stream==0' -T fields -e tcp.srcport 2>/dev/null | head -1)
p2=$(tshark -n -r "$tmp/two.pcap" -Y 'tcp.stream==1' -T fields -e tcp.srcport 2>/dev/null | head -1)
[ "$rc" -eq 0 ] && has list out "^ +1  10\.0\.0\.1:$p1 " "^ +2  10\.0\.0\.1:$p2 " \
    'closed by both sides' && [ "$(grep -c '^ *[0-9]  ' "$tmp/list.out")" -eq 2 ] && ok "--list"
trace conn2 --conn 2 "$tmp/two.pcap"
[ "$rc" -eq 0 ] && has conn2 out "^connection 2: client 10\.0\.0\.1:$p2" && \
    ! grep -q '^connection 1' "$tmp/conn2.out" && ok "--conn 2"
trace filt --filter "10.0.0.1:$p2,10.0.0.2:7" "$tmp/two.pcap"
[ "$rc" -eq 0 ] && has filt out "^connection 2: " && ! grep -q '^connection 1' "$tmp/filt.out" \
    && ok "--filter ADDR:PORT,ADDR:PORT"
trace filt6 --filter "[2001:db8::2]:7" "$tmp/v6.pcap"
[ "$rc" -eq 0 ] && has filt6 out '^connection 1: client \[2001:db8::1\]' &&
    ok "--filter [IPv6]:PORT"
trace nomatch --filter ":9999" "$tmp/two.pcap"
[ "$rc" -eq 0 ] && has nomatch out 'no TCP connection' && ok "--filter matching nothing"
trace noconn --conn 7 "$tmp/two.pcap"
[ "$rc" -eq 1 ] && has noconn err 'no connection 7' && ok "--conn 7 of 2: exit 1"

# ---- link types and formats: the same connection every way ----
"$SYNACK" trace --json - "$tmp/hs.pcap" | python3 -c \
    'import json,sys; d=json.load(sys.stdin); print(json.dumps(d["connections"]))' >"$tmp/ref.json"
"$SYNACK" trace --json - "$tmp/v6.pcap" | python3 -c \
    'import json,sys; d=json.load(sys.stdin); print(json.dumps(d["connections"]))' >"$tmp/ref6.json"
same_as() { # same_as REF FILE: FILE's connections are REF's, and tshark sees the segments
    "$SYNACK" trace --json - "$2" 2>"$tmp/same.err" | python3 -c \
        'import json,sys; d=json.load(sys.stdin); print(json.dumps(d["connections"]))' \
        >"$tmp/same.json" && cmp -s "$1" "$tmp/same.json"
}
for kind in ether vlan sll sll2 null-le null-be loop ipv4; do
    python3 "$HERE/trace_convert.py" "$tmp/hs.pcap" "$tmp/hs-$kind.pcap" $kind
    n=$(tshark -n -r "$tmp/hs-$kind.pcap" -Y tcp 2>/dev/null | wc -l)
    if [ "$n" -ne 9 ]; then
        not_ok "$kind: tshark sees $n TCP segments in the rewritten capture, not 9"
    elif same_as "$tmp/ref.json" "$tmp/hs-$kind.pcap"; then
        ok "link type $kind: traced the same"
    else
        not_ok "link type $kind: traced differently: $(head -c 200 "$tmp/same.err")"
    fi
done
for kind in ipv6 null-le null6-bsd loop sll2; do
    python3 "$HERE/trace_convert.py" "$tmp/v6.pcap" "$tmp/v6-$kind.pcap" $kind
    if same_as "$tmp/ref6.json" "$tmp/v6-$kind.pcap"; then
        ok "IPv6, link type $kind: traced the same"
    else
        not_ok "IPv6, link type $kind: traced differently"
    fi
done
editcap -F pcapng "$tmp/hs-ether.pcap" "$tmp/hs.pcapng" 2>/dev/null
editcap -F pcapng "$tmp/hs-sll2.pcap" "$tmp/hs-sll2.pcapng" 2>/dev/null
head -c 4 "$tmp/hs.pcapng" | od -An -tx1 | grep -q '0a 0d 0d 0a' || not_ok "editcap wrote no pcapng"
for f in hs.pcapng hs-sll2.pcapng; do
    same_as "$tmp/ref.json" "$tmp/$f" && ok "$f (editcap -F pcapng): traced the same" \
        || not_ok "$f: traced differently"
done
editcap -F pcap --set-tsprec=9 "$tmp/hs-ether.pcap" "$tmp/hs-ns.pcap" 2>/dev/null ||
    editcap -F nsecpcap "$tmp/hs-ether.pcap" "$tmp/hs-ns.pcap"
same_as "$tmp/ref.json" "$tmp/hs-ns.pcap" && ok "nanosecond pcap: traced the same" \
    || not_ok "nanosecond pcap: traced differently"

# ---- bad captures: one clear line naming the file, exit status 1 ----
# bad NAME PATTERN: $tmp/NAME exits 1 with an error line naming it that matches PATTERN.
bad() {
    trace "bad-$1" "$tmp/$1"
    if [ "$rc" -ne 1 ]; then
        not_ok "$1: exit status $rc, expected 1"
    elif ! grep -Eq "^synack trace: $tmp/$1: .*$2" "$tmp/bad-$1.err"; then
        not_ok "$1: message '$(head -c 200 "$tmp/bad-$1.err")' lacks '$2'"
    else
        ok "$1: $(grep -E "$2" "$tmp/bad-$1.err" | head -1 | sed "s|$tmp/||")"
    fi
}
: >"$tmp/empty.pcap"
bad empty.pcap 'empty file'
printf 'GET / HTTP/1.1\r\nHost: example\r\n\r\nnot a capture at all, just text\n' >"$tmp/text.pcap"
bad text.pcap 'not a pcap or pcapng capture'
head -c 12 "$tmp/hs.pcap" >"$tmp/header-cut.pcap"
bad header-cut.pcap 'not a readable capture|truncated'
size=$(stat -c %s "$tmp/hs-ether.pcap")
head -c $((size - 7)) "$tmp/hs-ether.pcap" >"$tmp/last-cut.pcap"
bad last-cut.pcap 'damaged after 8 packets: .*truncated'
has bad-last-cut.pcap out '^connection 1: ' 'three-way handshake 3/3' &&
    ok "last-cut: the 8 packets read are still shown"
size=$(stat -c %s "$tmp/hs.pcapng")
head -c $((size - 20)) "$tmp/hs.pcapng" >"$tmp/last-cut.pcapng"
bad last-cut.pcapng 'damaged after [0-9]+ packets'
python3 "$HERE/trace_convert.py" "$tmp/hs.pcap" "$tmp/user0.pcap" linktype147
bad user0.pcap 'link type 147 .*not supported'
bad no-such-file.pcap 'No such file or directory'
mkdir "$tmp/dir.pcap"
bad dir.pcap 'is a directory'
# Snap length 60: 14 + 20 + 32 bytes of Ethernet, IPv4 and TCP with timestamps do not fit.
editcap -s 60 "$tmp/hs-ether.pcap" "$tmp/snap60.pcap" 2>/dev/null
bad snap60.pcap '9 packets cut by the capture.s snap length'
# Snap length 200: the headers fit, the 1000-byte payloads are cut: noted, not an error.
editcap -s 200 "$tmp/hs-ether.pcap" "$tmp/snap200.pcap" 2>/dev/null
trace snap200 "$tmp/snap200.pcap"
[ "$rc" -eq 0 ] && has snap200 out 'capture kept 134 of 1000 payload bytes' && \
    has snap200 err 'snap length cut the payload of 2 segments' &&
    ok "snap200: payload cut noted, exit 0"
# Garbage frames inside a good file: counted, reported, no crash.
python3 - "$tmp/hs.pcap" "$tmp/garbage-in.pcap" <<'PY'
import random, struct, sys
data = open(sys.argv[1], "rb").read()
random.seed(14)
junk = bytes([0x45]) + bytes(random.randrange(256) for _ in range(70))
open(sys.argv[2], "wb").write(data + struct.pack("<IIII", 0, 70000, len(junk), len(junk)) + junk)
PY
bad garbage-in.pcap 'not well-formed IPv4/IPv6 with TCP'
# Random bytes after a valid pcap header: whatever libpcap makes of them, no crash.
python3 - "$tmp/hs.pcap" "$tmp/random.pcap" <<'PY'
import random, sys
random.seed(7)
hdr = open(sys.argv[1], "rb").read()[:24]
open(sys.argv[2], "wb").write(hdr + bytes(random.randrange(256) for _ in range(3000)))
PY
trace random "$tmp/random.pcap"
[ "$rc" -eq 1 ] && ok "random records: exit 1 ($(head -1 "$tmp/random.err" | sed "s|$tmp/||"))" \
    || not_ok "random records: exit status $rc"

# ---- usage errors: exit status 2 ----
usage() {
    local what=$1
    shift
    "$SYNACK" trace "$@" >/dev/null 2>"$tmp/usage.err"
    local r=$?
    [ "$r" -eq 2 ] && grep -q "^synack trace: " "$tmp/usage.err" && ok "usage: $what" ||
        not_ok "usage: $what: exit status $r, $(head -c 200 "$tmp/usage.err")"
}
usage "no file"
usage "two files" "$tmp/hs.pcap" "$tmp/hs.pcap"
usage "--lang xx" --lang xx "$tmp/hs.pcap"
usage "--conn 0" --conn 0 "$tmp/hs.pcap"
usage "--filter bad" --filter 'nothing:here' "$tmp/hs.pcap"
usage "--filter [::1" --filter '[::1' "$tmp/hs.pcap"
usage "unknown option" --frobnicate "$tmp/hs.pcap"
"$SYNACK" help trace | grep -q '^usage: synack trace' && ok "synack help trace" ||
    not_ok "synack help trace"
"$SYNACK" --help | grep -q '^  trace  ' && ok "synack --help lists trace" ||
    not_ok "synack --help lists no trace"

if [ "$failures" -ne 0 ]; then
    echo "test_trace: $failures failure(s)"
    exit 1
fi
echo "test_trace: all passed"
