/* synack: the software segmenter and checksum completion (include/synack/gso.h).
 *
 * What a virtio-net device or Linux's GSO does with a frame the stack left unfinished for the
 * link: a partial checksum is completed by summing from csum_start to the end (virtio spec
 * §5.1.6.2, RFC 1071); a TCP super-segment is cut into gso_size pieces with the headers
 * copied and fixed up as Linux's tcp_gso_segment and inet_gso_segment do (ipv6_gso_segment
 * for SK_GSO_TCPV6: a 40-byte IPv6 header without extension headers, as the stack sends them,
 * whose payload length changes and which has no identification or header checksum).
 */
#include "synack/gso.h"

#include <errno.h>
#include <string.h>

#include "wire/wire.h"

int sk_csum_complete(uint8_t *frame, size_t len, const struct sk_frame_meta *meta)
{
    if (meta == NULL || !(meta->flags & SK_FRAME_CSUM_PARTIAL))
        return 0;
    size_t start = meta->csum_start, field = start + meta->csum_offset;
    if (start >= len || field + 2 > len)
        return -EINVAL;
    /* The field holds the pseudo-header sum; the complement of the whole sum is the
     * checksum (RFC 1071 §1: summing a correct segment gives all ones). */
    sk_put16(frame + field, sk_csum_fold(sk_csum_add(0, frame + start, len - start)));
    return 0;
}

/* Where the headers of a super-segment are, checked against the frame. */
struct gso_layout {
    size_t ip_off, ihl, tcp_off, hdr_len, payload;
    bool v6;
};

static int gso_check(const uint8_t *frame, size_t len, const struct sk_frame_meta *m,
                     size_t ip_off, struct gso_layout *g)
{
    if (!(m->flags & SK_FRAME_CSUM_PARTIAL) || m->gso_size == 0 || ip_off + SK_IPV4_HLEN > len)
        return -EINVAL;
    const uint8_t *ip = frame + ip_off;
    g->ip_off = ip_off;
    g->v6 = m->gso_type == SK_GSO_TCPV6;
    g->ihl = g->v6 ? SK_IPV6_HLEN : (size_t)(ip[0] & 0x0f) * 4;
    g->tcp_off = ip_off + g->ihl;
    g->hdr_len = m->hdr_len;
    bool ip_ok = g->v6 ? ip_off + SK_IPV6_HLEN <= len && (ip[0] >> 4) == 6 &&
                             ip[6] == SK_IPPROTO_TCP
                       : (ip[0] >> 4) == 4 && g->ihl >= SK_IPV4_HLEN && ip[9] == SK_IPPROTO_TCP;
    if (!ip_ok ||
        m->csum_start != g->tcp_off || m->csum_offset != 16 ||
        g->hdr_len < g->tcp_off + SK_TCP_HLEN || g->hdr_len > len ||
        g->hdr_len != g->tcp_off + (size_t)(frame[g->tcp_off + 12] >> 4) * 4)
        return -EINVAL;
    g->payload = len - g->hdr_len;
    return 0;
}

/* Fixes up piece idx (payload bytes plen from offset off) built at p. */
static void gso_fix_piece(uint8_t *p, const struct gso_layout *g, size_t plen, size_t off,
                          unsigned idx, bool last, uint16_t whole_len)
{
    uint8_t *ip = p + g->ip_off, *th = p + g->tcp_off;
    size_t tcp_len = g->hdr_len - g->tcp_off + plen;
    if (g->v6) {
        sk_put16(ip + 4, (uint16_t)tcp_len); /* RFC 8200 §3: Payload Length */
    } else {
        sk_put16(ip + 2, (uint16_t)(g->ihl + tcp_len));
        sk_put16(ip + 4, (uint16_t)(sk_get16(ip + 4) + idx));
        sk_put16(ip + 10, 0);
        sk_put16(ip + 10, sk_csum_fold(sk_csum_add(0, ip, g->ihl)));
    }
    sk_put32(th + 4, sk_get32(th + 4) + (uint32_t)off);
    if (!last)
        th[13] &= (uint8_t)~(SK_TCP_FIN | SK_TCP_PSH);
    if (idx > 0)
        th[13] &= (uint8_t)~SK_TCP_CWR;
    /* The field holds the pseudo-header sum for the whole length: take that length out and
     * put this piece's in (one's complement: adding ~x subtracts x), then complete. */
    uint32_t pseudo = sk_csum_combine(sk_get16(th + 16), (uint16_t)~whole_len);
    pseudo = sk_csum_combine(pseudo, (uint32_t)tcp_len);
    pseudo = (pseudo & 0xffffu) + (pseudo >> 16);
    pseudo = (pseudo & 0xffffu) + (pseudo >> 16);
    sk_put16(th + 16, (uint16_t)pseudo);
    sk_put16(th + 16, sk_csum_fold(sk_csum_add(0, th, tcp_len)));
}

int sk_gso_segment(const uint8_t *frame, size_t len, const struct sk_frame_meta *meta,
                   size_t ip_off, uint8_t *buf, size_t cap, sk_gso_emit_fn emit, void *ctx)
{
    static const struct sk_frame_meta none = {0};
    if (meta == NULL)
        meta = &none;
    if (meta->gso_type == SK_GSO_NONE || len <= (size_t)meta->hdr_len + meta->gso_size) {
        /* One piece: at most gso_size of payload, or not a super-segment at all. */
        if (len > cap)
            return -ENOSPC;
        memcpy(buf, frame, len);
        if (sk_csum_complete(buf, len, meta) != 0)
            return -EINVAL;
        emit(ctx, buf, len);
        return 1;
    }
    if (meta->gso_type != SK_GSO_TCPV4 && meta->gso_type != SK_GSO_TCPV6)
        return -EINVAL;
    struct gso_layout g;
    if (gso_check(frame, len, meta, ip_off, &g) != 0)
        return -EINVAL;
    size_t gso = meta->gso_size;
    if (cap < g.hdr_len + gso)
        return -ENOSPC;
    uint16_t whole_len = (uint16_t)(len - g.tcp_off);
    int n = 0;
    for (size_t off = 0; off < g.payload; off += gso, n++) {
        size_t plen = g.payload - off < gso ? g.payload - off : gso;
        memcpy(buf, frame, g.hdr_len);
        memcpy(buf + g.hdr_len, frame + g.hdr_len + off, plen);
        gso_fix_piece(buf, &g, plen, off, (unsigned)n, off + plen == g.payload, whole_len);
        emit(ctx, buf, g.hdr_len + plen);
    }
    return n;
}
