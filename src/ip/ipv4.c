/* IPv4 input and output (RFC 791, RFC 1122 §3.2.1 and §3.3).
 *
 * Input validates the header (version, lengths, checksum: RFC 1122 §3.2.1.1-2), checks the
 * destination and hands the payload to the transport. Fragments are dropped and counted until
 * reassembly lands with the real-wire work. Output writes a 20-byte header with DF set (TCP
 * segments are sized to the path MTU, RFC 1191) and a per-stack incrementing ID.
 */
#include "internal.h"

size_t sk_ip_headroom(const struct sk_stack *st)
{
    (void)st;
    return SK_IPV4_HLEN;
}

static bool is_bad_source(uint32_t a)
{
    /* RFC 1122 §3.2.1.3: never accept a broadcast, multicast or loopback source. */
    return a == 0xffffffffu || (a >> 28) == 0xe || (a >> 24) == 127;
}

void sk_ip_input(struct sk_stack *st, const uint8_t *pkt, size_t len, const uint8_t *frame,
                 size_t frame_len)
{
    struct sk_ipv4_hdr ip;
    int r = sk_ipv4_parse(pkt, len, &ip);
    if (r != 0) {
        sk_drop(st, (enum sk_drop_reason)r, NULL, frame, frame_len);
        return;
    }
    st->ctr.ip_in++;
    if (ip.dst != st->cfg.addr) {
        sk_drop(st, SK_DROP_IP_NOT_FOR_US, NULL, frame, frame_len);
        return;
    }
    if (is_bad_source(ip.src)) {
        sk_drop(st, SK_DROP_IP_BAD_SRC, NULL, frame, frame_len);
        return;
    }
    if (ip.mf || ip.frag_off != 0) {
        sk_drop(st, SK_DROP_IP_FRAGMENT, NULL, frame, frame_len);
        return;
    }
    switch (ip.proto) {
    case SK_IPPROTO_TCP:
        sk_tcp_input(st, &ip, frame, frame_len);
        break;
    default:
        sk_drop(st, SK_DROP_IP_PROTO, NULL, frame, frame_len);
        break;
    }
}

void sk_ip_output(struct sk_stack *st, uint32_t dst, uint8_t proto, size_t len)
{
    static const uint8_t ttl = 64; /* RFC 1700 default TTL, as Linux and FreeBSD */
    struct sk_ipv4_hdr ip = {
        .hdr_len = SK_IPV4_HLEN,
        .id = (uint16_t)st->ctr.ip_out,
        .df = true,
        .ttl = ttl,
        .proto = proto,
        .src = st->cfg.addr,
        .dst = dst,
    };
    size_t n = sk_ipv4_emit(st->tx, st->tx_cap, &ip, len);
    if (n == 0) {
        sk_drop(st, SK_DROP_OUT_NO_ROUTE, NULL, NULL, 0);
        return;
    }
    st->ctr.ip_out++;
    st->ctr.frames_out++;
    st->ctr.bytes_out += n + len;
    st->cfg.output(st->cfg.output_ctx, st->tx, n + len);
}
