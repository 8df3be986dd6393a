/* TCP header (RFC 9293 §3.1) and options (RFC 9293 §3.2; window scale and timestamps,
 * RFC 7323 §2-3; SACK-permitted and SACK, RFC 2018 §2-3). Checksum per RFC 1071, over the IPv4
 * (RFC 9293 §3.1) or the IPv6 (RFC 8200 §8.1) pseudo-header.
 *
 *  0-1 source port  2-3 destination port  4-7 sequence  8-11 acknowledgment
 *  12 data offset(4)|reserved(4)  13 flags CWR..FIN  14-15 window  16-17 checksum
 *  18-19 urgent pointer  20.. options (data offset * 4 - 20 bytes, at most 40)
 */
#include <string.h>

#include "wire/wire.h"

/* Option kinds (RFC 9293 §3.2, RFC 7323, RFC 2018) and their fixed lengths. */
enum {
    OPT_EOL = 0,
    OPT_NOP = 1,
    OPT_MSS = 2,        /* kind, len 4, mss(2) */
    OPT_WS = 3,         /* kind, len 3, shift(1) */
    OPT_SACK_PERM = 4,  /* kind, len 2 */
    OPT_SACK = 5,       /* kind, len 2+8n, n x (left edge, right edge) */
    OPT_TS = 8,         /* kind, len 10, TSval(4), TSecr(4) */
    OPT_FASTOPEN = 34,  /* RFC 7413 §4.1.1: kind, len 2+n, cookie(n) */
    OPT_EXP = 254,      /* RFC 6994 experimental: kind, len, ExID(2), ...: Fast Open's draft
                         * form is ExID 0xF989, then the cookie */
};
#define FO_EXP_MAGIC 0xF989u
#define OPTLEN_MSS 4
#define OPTLEN_WS 3
#define OPTLEN_SACK_PERM 2
#define OPTLEN_TS 10
#define OPTLEN_SACK_BLOCK 8
#define TCP_MAX_OPTLEN 40 /* data offset is 4 bits: 15 * 4 - 20 */

/* ---- Options: parsing ---- */

/* RFC 7413 §4.1.1: a Fast Open option with a cookie of n bytes (0: a request). A length no
 * cookie has (odd, 2, above 16) is kept as present but invalid, so the receiver can tell a
 * server that answers with a broken option from one that answers with none. */
static void fo_take(struct sk_tcp_opts *o, const uint8_t *d, size_t n, bool exp)
{
    o->present |= SK_OPT_FASTOPEN;
    o->fo_exp = exp;
    o->fo_valid = n == 0 || (n % 2 == 0 && n >= SK_TCP_FO_COOKIE_MIN && n <= SK_TCP_FO_COOKIE_MAX);
    o->fo_len = o->fo_valid ? (uint8_t)n : 0;
    if (o->fo_valid)
        memcpy(o->fo_cookie, d, n);
}

int sk_tcp_opts_parse(const uint8_t *p, size_t len, struct sk_tcp_opts *o)
{
    memset(o, 0, sizeof(*o));
    size_t i = 0;
    while (i < len) {
        uint8_t kind = p[i];
        if (kind == OPT_EOL)
            break;
        if (kind == OPT_NOP) {
            i++;
            continue;
        }
        /* Every other option is kind, length (counting both), data (RFC 9293 §3.2). */
        if (len - i < 2)
            return SK_DROP_TCP_OPTIONS;
        size_t olen = p[i + 1];
        if (olen < 2 || olen > len - i)
            return SK_DROP_TCP_OPTIONS;
        const uint8_t *d = p + i + 2;
        switch (kind) {
        case OPT_MSS:
            if (olen != OPTLEN_MSS)
                return SK_DROP_TCP_OPTIONS;
            o->mss = sk_get16(d);
            o->present |= SK_OPT_MSS;
            break;
        case OPT_WS:
            if (olen != OPTLEN_WS)
                return SK_DROP_TCP_OPTIONS;
            o->wscale = d[0];
            o->present |= SK_OPT_WSCALE;
            break;
        case OPT_SACK_PERM:
            if (olen != OPTLEN_SACK_PERM)
                return SK_DROP_TCP_OPTIONS;
            o->present |= SK_OPT_SACK_PERM;
            break;
        case OPT_SACK: {
            if (olen < 2 + OPTLEN_SACK_BLOCK || (olen - 2) % OPTLEN_SACK_BLOCK != 0)
                return SK_DROP_TCP_OPTIONS;
            size_t n = (olen - 2) / OPTLEN_SACK_BLOCK;
            if (n > SK_TCP_MAX_SACK)
                n = SK_TCP_MAX_SACK;
            for (size_t b = 0; b < n; b++) {
                o->sack[b].left = sk_get32(d + b * OPTLEN_SACK_BLOCK);
                o->sack[b].right = sk_get32(d + b * OPTLEN_SACK_BLOCK + 4);
            }
            o->nsack = (uint8_t)n;
            o->present |= SK_OPT_SACK;
            break;
        }
        case OPT_TS:
            if (olen != OPTLEN_TS)
                return SK_DROP_TCP_OPTIONS;
            o->ts_val = sk_get32(d);
            o->ts_ecr = sk_get32(d + 4);
            o->present |= SK_OPT_TIMESTAMP;
            break;
        case OPT_FASTOPEN:
            fo_take(o, d, olen - 2, false);
            break;
        case OPT_EXP:
            if (olen >= 4 && sk_get16(d) == FO_EXP_MAGIC)
                fo_take(o, d + 2, olen - 4, true);
            break;
        default: /* RFC 9293 §3.2: unknown options are skipped by their length */
            break;
        }
        i += olen;
    }
    return SK_DROP_NONE;
}

/* ---- Options: emitting ----
 *
 * Every option (or pair of options sharing a word) is preceded by just enough NOPs to make it end
 * on a 32-bit boundary, so the list needs no trailing padding and every field after a run of
 * NOPs is aligned, as RFC 7323 Appendix A suggests. Byte layouts (ws = shift, ts = TSval TSecr):
 *
 * SK_SYN_OPTS_LINUX, and every non-SYN segment (Linux's tcp_options_write order: mss, sackOK+TS,
 * wscale, SACK):
 *   mss,sackOK,TS,nop,wscale  02 04 mm mm | 04 02 08 0a ts(8) | 01 03 03 ws            20 bytes
 *   mss,nop,nop,TS,nop,ws     02 04 mm mm | 01 01 08 0a ts(8) | 01 03 03 ws            20 bytes
 *   mss,nop,nop,sackOK,nop,ws 02 04 mm mm | 01 01 04 02 | 01 03 03 ws                  12 bytes
 *   data/ACK: nop,nop,TS      01 01 08 0a ts(8)                                        12 bytes
 *             nop,nop,SACK    01 01 05 len blocks(8n)        (after TS: n <= 3, else n <= 4)
 * SK_SYN_OPTS_FREEBSD (tcp_addoptions order: mss, wscale, sackOK, TS, SACK):
 *   mss,nop,ws,sackOK,TS      02 04 mm mm | 01 03 03 ws | 04 02 08 0a ts(8)            20 bytes
 *   mss,nop,ws,nop,nop,TS     02 04 mm mm | 01 03 03 ws | 01 01 08 0a ts(8)            20 bytes
 *   mss,nop,ws,sackOK,eol,eol 02 04 mm mm | 01 03 03 ws | 04 02 00 00                  12 bytes
 *   (sackOK without TS: FreeBSD pads the end of the list with EOL, not NOPs before sackOK)
 * Any other combination of o->present comes out in the same order with the same rule. Only SACK
 * blocks can run out of room (the others take at most 20 bytes); those that do not fit in 40 bytes
 * are left out, and a SACK option with no block is not sent.
 */

struct opt_writer {
    uint8_t buf[TCP_MAX_OPTLEN];
    size_t len;
};

/* NOPs so that an option of n bytes written next ends on a 32-bit boundary. */
static void pad_for(struct opt_writer *w, size_t n)
{
    while ((w->len + n) % 4)
        w->buf[w->len++] = OPT_NOP;
}

static void put_kind_len(struct opt_writer *w, uint8_t kind, uint8_t len)
{
    w->buf[w->len++] = kind;
    w->buf[w->len++] = len;
}

static void put_ws(struct opt_writer *w, const struct sk_tcp_opts *o)
{
    pad_for(w, OPTLEN_WS);
    put_kind_len(w, OPT_WS, OPTLEN_WS);
    w->buf[w->len++] = o->wscale;
}

/* sackOK and TS: when both are sent, sackOK fills the two bytes TS would pad with NOPs. */
static void put_sackperm_ts(struct opt_writer *w, const struct sk_tcp_opts *o)
{
    bool sack_perm = o->present & SK_OPT_SACK_PERM, ts = o->present & SK_OPT_TIMESTAMP;
    pad_for(w, (sack_perm ? OPTLEN_SACK_PERM : 0u) + (ts ? OPTLEN_TS : 0u));
    if (sack_perm)
        put_kind_len(w, OPT_SACK_PERM, OPTLEN_SACK_PERM);
    if (ts) {
        put_kind_len(w, OPT_TS, OPTLEN_TS);
        sk_put32(w->buf + w->len, o->ts_val);
        sk_put32(w->buf + w->len + 4, o->ts_ecr);
        w->len += 8;
    }
}

/* Bytes the Fast Open option takes, padded to the word (0 if absent). */
static size_t fastopen_room(const struct sk_tcp_opts *o)
{
    if (!(o->present & SK_OPT_FASTOPEN))
        return 0;
    size_t n = o->fo_len > SK_TCP_FO_COOKIE_MAX ? SK_TCP_FO_COOKIE_MAX : o->fo_len;
    return ((o->fo_exp ? 4 : 2) + n + 3) & ~(size_t)3;
}

static void put_sack(struct opt_writer *w, const struct sk_tcp_opts *o)
{
    /* Everything before SACK ends aligned and takes at most 20 bytes, so the option costs
     * 2 NOPs + 2 + 8n bytes and at least 2 blocks fit; a Fast Open option (at most 20 bytes,
     * only on SYNs in practice) keeps its room, so it always fits. */
    size_t n = o->nsack < SK_TCP_MAX_SACK ? o->nsack : SK_TCP_MAX_SACK;
    size_t room = TCP_MAX_OPTLEN - fastopen_room(o);
    while (n > 0 && w->len + ((4 - (w->len + 2 + n * OPTLEN_SACK_BLOCK) % 4) % 4) + 2 +
                            n * OPTLEN_SACK_BLOCK > room)
        n--;
    if (n == 0)
        return;
    size_t olen = 2 + n * OPTLEN_SACK_BLOCK;
    pad_for(w, olen);
    put_kind_len(w, OPT_SACK, (uint8_t)olen);
    for (size_t b = 0; b < n; b++) {
        sk_put32(w->buf + w->len, o->sack[b].left);
        sk_put32(w->buf + w->len + 4, o->sack[b].right);
        w->len += OPTLEN_SACK_BLOCK;
    }
}

/* RFC 7413 §4.1.1 (and its experimental form), after the others as Linux's tcp_options_write
 * puts it: kind, length, cookie, then NOPs to the word's end (FO,nop,nop for a request). */
static void put_fastopen(struct opt_writer *w, const struct sk_tcp_opts *o)
{
    size_t n = o->fo_len > SK_TCP_FO_COOKIE_MAX ? SK_TCP_FO_COOKIE_MAX : o->fo_len;
    size_t olen = (o->fo_exp ? 4 : 2) + n;
    while (w->len % 4)
        w->buf[w->len++] = OPT_NOP;
    if (w->len + ((olen + 3) & ~(size_t)3) > TCP_MAX_OPTLEN)
        return;
    if (o->fo_exp) {
        put_kind_len(w, OPT_EXP, (uint8_t)olen);
        sk_put16(w->buf + w->len, FO_EXP_MAGIC);
        w->len += 2;
    } else {
        put_kind_len(w, OPT_FASTOPEN, (uint8_t)olen);
    }
    memcpy(w->buf + w->len, o->fo_cookie, n);
    w->len += n;
    while (w->len % 4)
        w->buf[w->len++] = OPT_NOP;
}

size_t sk_tcp_opts_emit(uint8_t *p, size_t cap, const struct sk_tcp_opts *o, int syn_layout)
{
    struct opt_writer w = {.len = 0};
    bool freebsd = syn_layout == SK_SYN_OPTS_FREEBSD;

    if (o->present & SK_OPT_MSS) {
        pad_for(&w, OPTLEN_MSS);
        put_kind_len(&w, OPT_MSS, OPTLEN_MSS);
        sk_put16(w.buf + w.len, o->mss);
        w.len += 2;
    }
    if (freebsd && (o->present & SK_OPT_WSCALE))
        put_ws(&w, o);
    if (freebsd && (o->present & SK_OPT_SACK_PERM) && !(o->present & SK_OPT_TIMESTAMP))
        put_kind_len(&w, OPT_SACK_PERM, OPTLEN_SACK_PERM); /* FreeBSD: 16-bit aligned is enough */
    else if (o->present & (SK_OPT_SACK_PERM | SK_OPT_TIMESTAMP))
        put_sackperm_ts(&w, o);
    if (!freebsd && (o->present & SK_OPT_WSCALE))
        put_ws(&w, o);
    if (o->present & SK_OPT_SACK)
        put_sack(&w, o);
    if (o->present & SK_OPT_FASTOPEN)
        put_fastopen(&w, o);
    /* FreeBSD's tcp_addoptions closes an unaligned list with EOL padding (mss,sackOK,eol,eol);
     * the other layouts are always aligned. */
    while (w.len % 4)
        w.buf[w.len++] = OPT_EOL;

    if (w.len > cap)
        return 0;
    memcpy(p, w.buf, w.len);
    return w.len;
}

/* ---- The segment ---- */

/* One implementation for both families: `pseudo` is the pseudo-header's sum without the length
 * (sk_csum_pseudo or sk_csum_pseudo6 of length 0), and the segment's length is added here as a
 * 32-bit field, as IPv6 has it (RFC 8200 §8.1). For IPv4 that is the same sum whenever the
 * length fits its 16 bits; a larger (offloaded) segment gets its length summed whole instead of
 * truncated. */
static uint32_t with_len(uint32_t pseudo, size_t len)
{
    return pseudo + (uint32_t)((len >> 16) & 0xffff) + (uint32_t)(len & 0xffff);
}

static uint32_t pseudo4(uint32_t src, uint32_t dst)
{
    return sk_csum_pseudo(src, dst, SK_IPPROTO_TCP, 0);
}

static uint32_t pseudo6(const struct sk_addr *src, const struct sk_addr *dst)
{
    return sk_csum_pseudo6(src->b, dst->b, SK_IPPROTO_TCP, 0);
}

static int tcp_parse(const uint8_t *p, size_t len, uint32_t pseudo, bool verify_csum,
                     struct sk_tcp_hdr *h)
{
    if (len < SK_TCP_HLEN)
        return SK_DROP_TCP_TRUNCATED;
    size_t hdr_len = (size_t)(p[12] >> 4) * 4;
    if (hdr_len < SK_TCP_HLEN || hdr_len > len)
        return SK_DROP_TCP_HDRLEN;
    /* Checksum before options: a corrupted option list is a checksum drop, not an option one. */
    if (verify_csum && sk_csum_fold(sk_csum_add(with_len(pseudo, len), p, len)) != 0)
        return SK_DROP_TCP_CHECKSUM;
    int err = sk_tcp_opts_parse(p + SK_TCP_HLEN, hdr_len - SK_TCP_HLEN, &h->opts);
    if (err)
        return err;
    h->csum_partial = false;
    h->payload_summed = false;
    h->payload_sum = 0;
    h->sport = sk_get16(p);
    h->dport = sk_get16(p + 2);
    h->seq = sk_get32(p + 4);
    h->ack = sk_get32(p + 8);
    h->hdr_len = (uint8_t)hdr_len;
    h->flags = p[13];
    h->wnd = sk_get16(p + 14);
    h->checksum = sk_get16(p + 16);
    h->urg = sk_get16(p + 18);
    h->payload = p + hdr_len;
    h->payload_len = len - hdr_len;
    return SK_DROP_NONE;
}

int sk_tcp_parse(const uint8_t *p, size_t len, uint32_t src, uint32_t dst, bool verify_csum,
                 struct sk_tcp_hdr *h)
{
    return tcp_parse(p, len, pseudo4(src, dst), verify_csum, h);
}

int sk_tcp_parse6(const uint8_t *p, size_t len, const struct sk_addr *src,
                  const struct sk_addr *dst, bool verify_csum, struct sk_tcp_hdr *h)
{
    return tcp_parse(p, len, pseudo6(src, dst), verify_csum, h);
}

/* h->hdr_len and h->checksum are ignored: both are computed. */
static size_t tcp_emit(uint8_t *p, size_t cap, uint32_t pseudo, const struct sk_tcp_hdr *h,
                       int syn_layout)
{
    uint8_t opts[TCP_MAX_OPTLEN];
    size_t opts_len = sk_tcp_opts_emit(opts, sizeof(opts), &h->opts, syn_layout);
    size_t hdr_len = SK_TCP_HLEN + opts_len;
    if (cap < hdr_len || h->payload_len > cap - hdr_len)
        return 0;
    size_t len = hdr_len + h->payload_len;
    /* Payload first: it may already sit at (or overlap) its place after the header. */
    if (h->payload_len && h->payload != p + hdr_len)
        memmove(p + hdr_len, h->payload, h->payload_len);
    sk_put16(p, h->sport);
    sk_put16(p + 2, h->dport);
    sk_put32(p + 4, h->seq);
    sk_put32(p + 8, h->ack);
    p[12] = (uint8_t)(hdr_len / 4 << 4);
    p[13] = h->flags;
    sk_put16(p + 14, h->wnd);
    sk_put16(p + 16, 0);
    sk_put16(p + 18, h->urg);
    memcpy(p + SK_TCP_HLEN, opts, opts_len);
    uint32_t sum = with_len(pseudo, len);
    if (h->csum_partial)
        sk_put16(p + 16, (uint16_t)~sk_csum_fold(sum)); /* the link sums the rest into it */
    else if (h->payload_summed && h->payload_len)
        sk_put16(p + 16, sk_csum_fold(sk_csum_combine(sk_csum_add(sum, p, hdr_len),
                                                      h->payload_sum)));
    else
        sk_put16(p + 16, sk_csum_fold(sk_csum_add(sum, p, len)));
    return len;
}

size_t sk_tcp_emit(uint8_t *p, size_t cap, uint32_t src, uint32_t dst, const struct sk_tcp_hdr *h,
                   int syn_layout)
{
    return tcp_emit(p, cap, pseudo4(src, dst), h, syn_layout);
}

size_t sk_tcp_emit6(uint8_t *p, size_t cap, const struct sk_addr *src, const struct sk_addr *dst,
                    const struct sk_tcp_hdr *h, int syn_layout)
{
    return tcp_emit(p, cap, pseudo6(src, dst), h, syn_layout);
}
