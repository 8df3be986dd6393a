/* Neighbor Discovery messages (RFC 4861 §4) and their options (§4.6), over ICMPv6.
 *
 *  all:  0 type  1 code  2-3 checksum  4..
 *  RS    4-7 reserved                                                          options at 8
 *  RA    4 cur hop limit  5 M|O|reserved  6-7 router lifetime  8-11 reachable time
 *        12-15 retrans timer                                                   options at 16
 *  NS    4-7 reserved  8-23 target                                             options at 24
 *  NA    4 R|S|O|reserved  5-7 reserved  8-23 target                           options at 24
 *  Redirect  4-7 reserved  8-23 target  24-39 destination                      options at 40
 *
 * An option is type(1), length(1, in units of 8 octets, the type and length included), data.
 * A length of 0 is malformed and the whole message is discarded (§4.6), as is an option that
 * runs past the message. The parser checks the format and the checks of §6.1 and §7.1 that
 * need nothing but the message (code 0, length, a multicast target); the hop limit and the
 * source address are the IP layer's.
 */
#include <string.h>

#include "wire/wire.h"

#define RA_M 0x80
#define RA_O 0x40
#define NA_R 0x80
#define NA_S 0x40
#define NA_O 0x20
#define PI_L 0x80
#define PI_A 0x40
#define OPT_UNIT 8
#define PREFIX_INFO_LEN 4    /* §4.6.2: 32 octets */
#define MTU_LEN 1            /* §4.6.4: 8 octets */
#define REDIRECTED_HLEN 8    /* §4.6.3: type, length, 6 reserved octets */

/* Where the options begin: the fixed part of each message (RFC 4861 §4.1-4.5); 0 if the type
 * is not Neighbor Discovery. */
static size_t fixed_len(uint8_t type)
{
    switch (type) {
    case SK_ND_ROUTER_SOLICIT: return 8;
    case SK_ND_ROUTER_ADVERT: return 16;
    case SK_ND_NEIGHBOR_SOLICIT: return 24;
    case SK_ND_NEIGHBOR_ADVERT: return 24;
    case SK_ND_REDIRECT: return 40;
    default: return 0;
    }
}

static void take_lladdr(const uint8_t *d, size_t n, uint8_t *out, uint8_t *out_len)
{
    if (n > SK_ND_LLADDR_MAX)
        n = SK_ND_LLADDR_MAX;
    memcpy(out, d, n);
    *out_len = (uint8_t)n;
}

static int take_prefix(const uint8_t *o, struct sk_nd_opts *opts)
{
    if (o[2] > 128)
        return SK_DROP_ND_MALFORMED;
    if (opts->nprefix == SK_ND_MAX_PREFIXES)
        return SK_DROP_NONE;
    struct sk_nd_prefix *pi = &opts->prefix[opts->nprefix++];
    pi->prefix_len = o[2];
    pi->on_link = (o[3] & PI_L) != 0;
    pi->autonomous = (o[3] & PI_A) != 0;
    pi->valid_lifetime = sk_get32(o + 4);
    pi->preferred_lifetime = sk_get32(o + 8);
    memcpy(pi->prefix.b, o + 16, 16);
    return SK_DROP_NONE;
}

/* RFC 4861 §4.6: the options at p[0, len). */
static int parse_opts(const uint8_t *p, size_t len, struct sk_nd_opts *opts)
{
    size_t i = 0;
    while (i < len) {
        if (len - i < 2 || p[i + 1] == 0)
            return SK_DROP_ND_MALFORMED;
        size_t olen = (size_t)p[i + 1] * OPT_UNIT;
        if (olen > len - i)
            return SK_DROP_ND_MALFORMED;
        const uint8_t *o = p + i;
        switch (o[0]) {
        case SK_ND_OPT_SRC_LLADDR:
            take_lladdr(o + 2, olen - 2, opts->src_ll, &opts->src_ll_len);
            break;
        case SK_ND_OPT_TGT_LLADDR:
            take_lladdr(o + 2, olen - 2, opts->tgt_ll, &opts->tgt_ll_len);
            break;
        case SK_ND_OPT_PREFIX_INFO:
            if (o[1] != PREFIX_INFO_LEN || take_prefix(o, opts) != SK_DROP_NONE)
                return SK_DROP_ND_MALFORMED;
            break;
        case SK_ND_OPT_REDIRECTED:
            opts->redirected = o + REDIRECTED_HLEN;
            opts->redirected_len = olen - REDIRECTED_HLEN;
            break;
        case SK_ND_OPT_MTU:
            if (o[1] != MTU_LEN)
                return SK_DROP_ND_MALFORMED;
            opts->has_mtu = true;
            opts->mtu = sk_get32(o + 4);
            break;
        default: /* §4.6: "silently ignore any options they do not recognize" */
            break;
        }
        i += olen;
    }
    return SK_DROP_NONE;
}

int sk_nd_parse(const uint8_t *p, size_t len, struct sk_nd_msg *m)
{
    memset(m, 0, sizeof(*m));
    size_t fixed = len >= 2 ? fixed_len(p[0]) : 0;
    if (fixed == 0 || len < fixed || p[1] != 0)
        return SK_DROP_ND_MALFORMED;
    m->type = p[0];
    if (m->type == SK_ND_ROUTER_ADVERT) {
        m->cur_hop_limit = p[4];
        m->managed = (p[5] & RA_M) != 0;
        m->other = (p[5] & RA_O) != 0;
        m->router_lifetime = sk_get16(p + 6);
        m->reachable_time = sk_get32(p + 8);
        m->retrans_timer = sk_get32(p + 12);
    } else if (m->type != SK_ND_ROUTER_SOLICIT) {
        memcpy(m->target.b, p + 8, 16);
        if (m->type == SK_ND_NEIGHBOR_ADVERT) {
            m->router = (p[4] & NA_R) != 0;
            m->solicited = (p[4] & NA_S) != 0;
            m->override = (p[4] & NA_O) != 0;
        }
        if (m->type == SK_ND_REDIRECT)
            memcpy(m->dest.b, p + 24, 16);
        /* §7.1.1, §7.1.2: the target of NS and NA is not multicast; §8.1: nor a Redirect's
         * destination. */
        if (sk_addr_is_multicast6(m->type == SK_ND_REDIRECT ? &m->dest : &m->target))
            return SK_DROP_ND_MALFORMED;
    }
    return parse_opts(p + fixed, len - fixed, &m->opts);
}

/* ---- Emitting ---- */

struct nd_writer {
    uint8_t *p;
    size_t cap, len;
    bool full;
};

/* Room for n more bytes, zeroed; NULL (and w->full) if there is none. */
static uint8_t *put(struct nd_writer *w, size_t n)
{
    if (w->full || n > w->cap - w->len) {
        w->full = true;
        return NULL;
    }
    uint8_t *o = w->p + w->len;
    memset(o, 0, n);
    w->len += n;
    return o;
}

static void put_lladdr(struct nd_writer *w, uint8_t type, const uint8_t *a, size_t n)
{
    size_t units = (2 + n + OPT_UNIT - 1) / OPT_UNIT;
    uint8_t *o = put(w, units * OPT_UNIT);
    if (o == NULL)
        return;
    o[0] = type;
    o[1] = (uint8_t)units;
    memcpy(o + 2, a, n);
}

static void put_prefix(struct nd_writer *w, const struct sk_nd_prefix *pi)
{
    uint8_t *o = put(w, PREFIX_INFO_LEN * OPT_UNIT);
    if (o == NULL)
        return;
    o[0] = SK_ND_OPT_PREFIX_INFO;
    o[1] = PREFIX_INFO_LEN;
    o[2] = pi->prefix_len;
    o[3] = (uint8_t)((pi->on_link ? PI_L : 0) | (pi->autonomous ? PI_A : 0));
    sk_put32(o + 4, pi->valid_lifetime);
    sk_put32(o + 8, pi->preferred_lifetime);
    memcpy(o + 16, pi->prefix.b, 16);
}

/* §4.6.3: as much of the original packet as keeps the Redirect within the minimum MTU,
 * cut to whole 8-octet units. pkt must not lie in the message being written. */
static void put_redirected(struct nd_writer *w, const uint8_t *pkt, size_t n)
{
    size_t room = SK_IPV6_MIN_MTU - SK_IPV6_HLEN;
    room = w->len + REDIRECTED_HLEN < room ? room - w->len - REDIRECTED_HLEN : 0;
    if (n > room)
        n = room;
    n -= n % OPT_UNIT;
    if (n == 0)
        return;
    uint8_t *o = put(w, REDIRECTED_HLEN + n);
    if (o == NULL)
        return;
    o[0] = SK_ND_OPT_REDIRECTED;
    o[1] = (uint8_t)((REDIRECTED_HLEN + n) / OPT_UNIT);
    memmove(o + REDIRECTED_HLEN, pkt, n);
}

static void put_opts(struct nd_writer *w, const struct sk_nd_opts *o)
{
    if (o->src_ll_len)
        put_lladdr(w, SK_ND_OPT_SRC_LLADDR, o->src_ll, o->src_ll_len);
    if (o->tgt_ll_len)
        put_lladdr(w, SK_ND_OPT_TGT_LLADDR, o->tgt_ll, o->tgt_ll_len);
    if (o->has_mtu) {
        uint8_t *m = put(w, MTU_LEN * OPT_UNIT);
        if (m != NULL) {
            m[0] = SK_ND_OPT_MTU;
            m[1] = MTU_LEN;
            sk_put32(m + 4, o->mtu);
        }
    }
    for (size_t i = 0; i < o->nprefix && i < SK_ND_MAX_PREFIXES; i++)
        put_prefix(w, &o->prefix[i]);
    if (o->redirected != NULL)
        put_redirected(w, o->redirected, o->redirected_len);
}

size_t sk_nd_emit(uint8_t *p, size_t cap, const struct sk_addr *src, const struct sk_addr *dst,
                  const struct sk_nd_msg *m)
{
    size_t fixed = fixed_len(m->type);
    struct nd_writer w = {p, cap, 0, false};
    uint8_t *h = fixed ? put(&w, fixed) : NULL;
    if (h == NULL || m->opts.src_ll_len > SK_ND_LLADDR_MAX ||
        m->opts.tgt_ll_len > SK_ND_LLADDR_MAX)
        return 0;
    h[0] = m->type;
    if (m->type == SK_ND_ROUTER_ADVERT) {
        h[4] = m->cur_hop_limit;
        h[5] = (uint8_t)((m->managed ? RA_M : 0) | (m->other ? RA_O : 0));
        sk_put16(h + 6, m->router_lifetime);
        sk_put32(h + 8, m->reachable_time);
        sk_put32(h + 12, m->retrans_timer);
    } else if (m->type != SK_ND_ROUTER_SOLICIT) {
        memcpy(h + 8, m->target.b, 16);
        if (m->type == SK_ND_NEIGHBOR_ADVERT)
            h[4] = (uint8_t)((m->router ? NA_R : 0) | (m->solicited ? NA_S : 0) |
                             (m->override ? NA_O : 0));
        if (m->type == SK_ND_REDIRECT)
            memcpy(h + 24, m->dest.b, 16);
    }
    put_opts(&w, &m->opts);
    if (w.full)
        return 0;
    sk_put16(p + 2, sk_csum_fold(sk_csum_add(
                        sk_csum_pseudo6(src->b, dst->b, SK_IPPROTO_ICMPV6, (uint32_t)w.len), p,
                        w.len)));
    return w.len;
}
