"""Rewrites a raw-IP pcap (LINKTYPE_RAW, as `synack sim --pcap` writes) with another link
header, from the link types' definitions at tcpdump.org/linktypes.html, for test_trace.sh:

  trace_convert.py IN OUT KIND

KIND: ether, vlan (Ethernet with two 802.1Q tags), sll, sll2, null-le, null-be (DLT_NULL with
the family word little- or big-endian), loop (DLT_LOOP, big-endian), null6-bsd (DLT_NULL with
AF_INET6 = 24, for IPv6), ipv4 / ipv6 (LINKTYPE_IPV4 228 / LINKTYPE_IPV6 229), linktype147
(the same records under USER0, which synack trace does not read).
Only the Python standard library: the bytes are written here by the definitions, not by the
code under test.
"""
import struct
import sys

LINKTYPES = {"ether": 1, "vlan": 1, "sll": 113, "sll2": 276, "null-le": 0, "null-be": 0,
             "null6-bsd": 0, "loop": 108, "ipv4": 228, "ipv6": 229, "linktype147": 147}


def records(data):
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(endian + "IIII", data[off:off + 16])
        yield sec, frac, data[off + 16:off + 16 + incl], orig
        off += 16 + incl


def link_header(kind, ip):
    v6 = ip[0] >> 4 == 6
    etype = 0x86dd if v6 else 0x0800
    mac_a, mac_b = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")
    if kind == "ether":
        return mac_b + mac_a + struct.pack(">H", etype)
    if kind == "vlan":  # 802.1Q TPID 0x8100, TCI (VLAN 10, then 20)
        return mac_b + mac_a + struct.pack(">HHHHH", 0x8100, 10, 0x8100, 20, etype)
    if kind == "sll":   # packet type 4 (sent by us), ARPHRD_ETHER 1, address length 6
        return struct.pack(">HHH", 4, 1, 6) + mac_a + b"\0\0" + struct.pack(">H", etype)
    if kind == "sll2":  # protocol, reserved, ifindex, ARPHRD_ETHER, packet type, addr len, addr
        return struct.pack(">HHIHBB", etype, 0, 2, 1, 4, 6) + mac_a + b"\0\0"
    fam = 10 if v6 else 2  # Linux's AF_INET6; BSDs differ (null6-bsd)
    if kind == "null-le":
        return struct.pack("<I", fam)
    if kind in ("null-be", "loop"):
        return struct.pack(">I", fam)
    if kind == "null6-bsd":
        return struct.pack("<I", 24 if v6 else 2)
    return b""         # ipv4, ipv6, linktype147


def main():
    src, dst, kind = sys.argv[1:4]
    data = open(src, "rb").read()
    hdr = bytearray(data[:24])
    endian = "<" if struct.unpack("<I", data[:4])[0] in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    struct.pack_into(endian + "I", hdr, 20, LINKTYPES[kind])
    out = [bytes(hdr)]
    for sec, frac, frame, orig in records(data):
        h = link_header(kind, frame)
        out.append(struct.pack(endian + "IIII", sec, frac, len(h) + len(frame), len(h) + orig))
        out.append(h + frame)
    open(dst, "wb").write(b"".join(out))


main()
