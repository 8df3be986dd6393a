# Generates tests/unit/ipv6_vectors.h (run with python3 and scapy 2.5 from the repository root): IPv6 packets (from the IPv6 header on) made by scapy.
from scapy.all import *
A="2001:db8::a"; B="2001:db8::b"
vecs = [
 ("V6_RA", 'IPv6(src="fe80::1", dst="ff02::1", hlim=255)/ICMPv6ND_RA(chlim=64, routerlifetime=1800, reachabletime=0, retranstimer=0)/ICMPv6NDOptSrcLLAddr(lladdr="02:00:00:00:00:01")/ICMPv6NDOptMTU(mtu=1400)/ICMPv6NDOptPrefixInfo(prefix="2001:db8:1::", prefixlen=64, L=1, A=1, validlifetime=86400, preferredlifetime=14400)'),
 ("V6_ECHO_B_TO_A", 'IPv6(src="2001:db8::b", dst="2001:db8::a")/ICMPv6EchoRequest(id=0x1234, seq=1, data=b"synack-ipv6")'),
 ("V6_ECHO_A_TO_B", 'IPv6(src="2001:db8::a", dst="2001:db8::b")/ICMPv6EchoRequest(id=0x4321, seq=7, data=b"synack-ipv6")'),
 ("V6_ECHO_REPLY_A_TO_B", 'IPv6(src="2001:db8::a", dst="2001:db8::b", hlim=64)/ICMPv6EchoReply(id=0x1234, seq=1, data=b"synack-ipv6")'),
 ("V6_DSTOPT_UNKNOWN_10", 'IPv6(src="2001:db8::b", dst="2001:db8::a")/IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x80, optdata=b"\\0\\0\\0\\0")])/ICMPv6EchoRequest()'),
 ("V6_RH0", 'IPv6(src="2001:db8::b", dst="2001:db8::a")/IPv6ExtHdrRouting(type=0, segleft=1, addresses=["2001:db8::c"])/ICMPv6EchoRequest()'),
 ("V6_HBH_NOT_FIRST", 'IPv6(src="2001:db8::b", dst="2001:db8::a")/IPv6ExtHdrDestOpt()/IPv6ExtHdrHopByHop()/ICMPv6EchoRequest()'),
 ("V6_PTB_1300", 'IPv6(src="2001:db8::fe", dst="2001:db8::a")/ICMPv6PacketTooBig(mtu=1300)/IPv6(src="2001:db8::a", dst="2001:db8:2::99")/UDP(sport=5000, dport=7)/(b"x"*8)'),
 ("V6_PTB_1000", 'IPv6(src="2001:db8::fe", dst="2001:db8::a")/ICMPv6PacketTooBig(mtu=1000)/IPv6(src="2001:db8::a", dst="2001:db8:2::98")/UDP(sport=5000, dport=7)/(b"x"*8)'),
 ("V6_NA_S_MAC2", 'IPv6(src="2001:db8::b", dst="2001:db8::a", hlim=255)/ICMPv6ND_NA(R=0, S=1, O=0, tgt="2001:db8::b")/ICMPv6NDOptDstLLAddr(lladdr="02:00:00:66:00:0b")'),
 ("V6_NA_UNSOL_MAC3", 'IPv6(src="2001:db8::b", dst="ff02::1", hlim=255)/ICMPv6ND_NA(R=0, S=0, O=0, tgt="2001:db8::b")/ICMPv6NDOptDstLLAddr(lladdr="02:00:00:66:00:0c")'),
 ("V6_NA_OVERRIDE_MAC3", 'IPv6(src="2001:db8::b", dst="ff02::1", hlim=255)/ICMPv6ND_NA(R=0, S=0, O=1, tgt="2001:db8::b")/ICMPv6NDOptDstLLAddr(lladdr="02:00:00:66:00:0c")'),
 ("V6_NA_S_MAC3", 'IPv6(src="2001:db8::b", dst="2001:db8::a", hlim=255)/ICMPv6ND_NA(R=0, S=1, O=0, tgt="2001:db8::b")/ICMPv6NDOptDstLLAddr(lladdr="02:00:00:66:00:0c")'),
 ("V6_NA_HLIM64", 'IPv6(src="2001:db8::b", dst="2001:db8::a", hlim=64)/ICMPv6ND_NA(R=0, S=1, O=1, tgt="2001:db8::b")/ICMPv6NDOptDstLLAddr(lladdr="02:00:00:66:00:0b")'),
 ("V6_NS_DAD_TO_UNICAST", 'IPv6(src="::", dst="2001:db8::a", hlim=255)/ICMPv6ND_NS(tgt="2001:db8::a")'),
 ("V6_ECHO_BIG_B_TO_A", 'IPv6(src="2001:db8::b", dst="2001:db8::a")/ICMPv6EchoRequest(id=7, seq=9, data=bytes(range(256))*5+bytes(range(120)))'),
 ("V6_PTB_1300_TO_B", 'IPv6(src="2001:db8::fe", dst="2001:db8::a")/ICMPv6PacketTooBig(mtu=1300)/IPv6(src="2001:db8::a", dst="2001:db8::b")/UDP(sport=5000, dport=7)/(b"x"*8)'),
 ("V6_UNKNOWN_NH", 'IPv6(src="2001:db8::b", dst="2001:db8::a", nh=253)/Raw(b"abcdefgh")'),
 ("V6_NO_NEXT", 'IPv6(src="2001:db8::b", dst="2001:db8::a", nh=59)'),
]
out = ["/* IPv6 test packets (from the IPv6 header on), each made by python3-scapy 2.5 with the",
       " * expression above it: raw(<expression>). Generated once and committed; nothing here",
       " * comes from synack. */",
       "#ifndef SK_TEST_IPV6_VECTORS_H", "#define SK_TEST_IPV6_VECTORS_H", "#include <stdint.h>", ""]
for name, expr in vecs:
    b = raw(eval(expr))
    import textwrap
    lines = textwrap.wrap(expr.replace(")/", ") / "), 92, break_on_hyphens=False)
    out.append("/* " + lines[0])
    out += [" *   " + l for l in lines[1:]]
    out[-1] += " */"
    out.append("static const uint8_t %s[%d] = {" % (name, len(b)))
    for i in range(0, len(b), 12):
        out.append("    " + ", ".join("0x%02x" % x for x in b[i:i+12]) + ",")
    out.append("};")
out.append("#endif")
open("tests/unit/ipv6_vectors.h","w").write("\n".join(out) + "\n")
