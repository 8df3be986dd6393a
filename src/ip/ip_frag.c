/* Reassembly for both families: IPv4 (RFC 791 §3.2 "Reassembly") and IPv6 (RFC 8200 §4.5).
 *
 * A datagram being reassembled is found by its key: (source, destination, protocol,
 * identification) for IPv4, (source, destination, identification) for IPv6. Its fragments are
 * kept as they came, each piece of data in its own allocation, in a list sorted by offset that
 * never overlaps; the last fragment (MF / M clear) fixes the end. With no overlap allowed, the
 * datagram is complete when the end is known and the bytes held add up to it; only then is one
 * buffer of the whole length made. So memory follows what was received: a lone fragment at
 * offset 40000 costs its own few bytes, not a 40 KB buffer, and no hole list needs a fixed
 * size (45 fragments of a 64 KiB datagram may arrive in any order).
 *
 * The rebuilt datagram carries the header of the fragment at offset 0: for IPv4 its header,
 * options included (RFC 791 §3.2: the first fragment's options are the datagram's), with the
 * total length of the whole; for IPv6 its unfragmentable part (RFC 8200 §4.5: "the
 * Unfragmentable Part of the reassembled packet consists of all headers up to, but not
 * including, the Fragment header of the first fragment packet"), whose last Next Header takes
 * the first fragment's Fragment header's, and whose Payload Length counts the whole. That must
 * fit in 65535 octets (IPv4 total length, RFC 791 §3.1; IPv6 payload length); a datagram that
 * would not (the "ping of death", or a first fragment whose options push a 65515-byte payload
 * past the limit) is discarded and counted as invalid.
 *
 * Overlap policy: RFC 5722 §4, which RFC 8200 §4.5 keeps for IPv6 and Linux, FreeBSD and
 * Windows apply to IPv4 too, instead of RFC 791's "later data wins": a fragment that overlaps
 * bytes already held discards the whole datagram, because overlapping fragments are only ever
 * an attack (RFC 1858 §4 rewrites a TCP header that way) or a broken sender. An exact duplicate
 * (the same offset, length and bytes as a fragment held, which the network can produce) is
 * dropped alone, as RFC 8200 §4.5 allows; any other repeat of held bytes is an overlap.
 *
 * The upper-layer header must come whole in the first fragment. IPv4, for a datagram carrying
 * TCP (RFC 1858): a first fragment too short to hold the TCP header (§3.1, here the whole
 * header its data offset announces, at least 20 bytes), and any fragment at offset 8 (§3.2:
 * FO = 1, which can only rewrite the first fragment's TCP flags), are dropped and counted.
 * IPv6 (RFC 7112 §5): the walker (sk_ip6_ext_walk) rejects a first fragment whose extension
 * headers run past it, or that lacks the whole TCP, UDP or ICMPv6 header, before it gets here.
 * An IPv6 atomic fragment (offset 0, M 0) is a whole packet: RFC 6946 §4 has it processed in
 * isolation, so it never meets the queue.
 *
 * Limits (sk_config), one budget for both families: at most ipfrag_max_datagrams at once,
 * ipfrag_max_bytes of memory in all (descriptors, headers, pieces and the final buffer),
 * ipfrag_max_fragments per datagram. A new datagram or a new piece that would pass the first
 * two evicts the oldest datagrams (each eviction counted), so a flood of fragments that never
 * complete can neither exhaust memory nor lock out later datagrams for long; a datagram with
 * too many fragments is discarded. Timeouts from the first fragment: ipfrag_timeout_us for
 * IPv4 (RFC 1122 §3.3.2 "the reassembly timeout"), 60 s for IPv6 (RFC 8200 §4.5). Datagrams are
 * kept in arrival order, the eviction order; with two timeouts that is not quite the expiry
 * order, so the timer looks at each of the (at most ipfrag_max_datagrams) datagrams, as a
 * lookup does.
 */
#include "ip/ip_int.h"

#define MAX_PAYLOAD (UINT16_MAX - SK_IPV4_HLEN) /* with the shortest header */
#define RFC1858_FO1 8u /* RFC 1858 §3.2: fragment offset 1, in bytes */

/* One fragment, whichever its family: what the common code needs of it. */
struct frag_in {
    uint8_t family;           /* 4 or 6 */
    struct sk_addr src, dst;
    uint32_t id;
    uint8_t proto;            /* IPv4: the key's; IPv6: 0 */
    uint32_t off;             /* bytes */
    bool more;                /* MF / M */
    const uint8_t *data;      /* the fragment's data */
    uint32_t len;
    uint32_t max_end;         /* the highest end its header leaves room for */
    const uint8_t *hdr;       /* the header an offset-0 fragment gives the datagram */
    uint16_t hdr_len;
    uint16_t next_off;        /* IPv6: the unfragmentable part's last Next Header field */
    uint8_t next;             /* IPv6: the Fragment header's Next Header */
    const uint8_t *frame;
    size_t frame_len;
};

/* Every change to the memory held goes through here, so the limit and the gauge in the
 * counters see the same number. */
static void account(struct sk_stack *st, struct frag_dgram *d, size_t add, size_t sub)
{
    d->bytes = d->bytes + add - sub;
    st->ip->frag_bytes = st->ip->frag_bytes + add - sub;
    st->ctr.ip_reasm_bytes = st->ip->frag_bytes;
}

/* The oldest datagram, NULL if none. */
static struct frag_dgram *oldest(struct sk_ipstate *s)
{
    return sk_list_entry(sk_list_first(&s->frags), struct frag_dgram, link);
}

static void unlink_dgram(struct sk_stack *st, struct frag_dgram *d)
{
    if (!sk_list_linked(&d->link))
        return; /* complete() took it off already */
    sk_list_remove(&d->link);
    st->ip->frag_count--;
}

static void free_pieces(struct sk_stack *st, struct frag_dgram *d)
{
    struct frag_piece *p;
    while ((p = sk_list_entry(sk_list_first(&d->pieces), struct frag_piece, link)) != NULL) {
        sk_list_remove(&p->link);
        account(st, d, 0, sizeof(*p) + p->len);
        sk_mem_free(st, p, sizeof(*p) + p->len);
    }
}

void sk_ipfrag_release(struct sk_stack *st, struct frag_dgram *d)
{
    if (d == NULL)
        return;
    free_pieces(st, d);
    if (d->buf)
        sk_mem_free(st, d->buf, (size_t)d->hdr_len + d->total);
    if (d->hdr)
        sk_mem_free(st, d->hdr, d->hdr_len);
    account(st, d, 0, d->bytes);
    sk_mem_free(st, d, sizeof(*d));
}

static void discard(struct sk_stack *st, struct frag_dgram *d, enum sk_drop_reason why,
                    const struct frag_in *f)
{
    unlink_dgram(st, d);
    sk_ipfrag_release(st, d);
    sk_drop(st, why, NULL, f ? f->frame : NULL, f ? f->frame_len : 0);
}

/* Evicts the oldest datagrams other than keep until `need` more bytes fit. Each eviction is
 * counted apart from the drop, so that --stats tells a full table from the other limits. */
static bool make_room(struct sk_stack *st, size_t need, const struct frag_dgram *keep)
{
    struct sk_ipstate *s = st->ip;
    while (s->frag_bytes + need > st->cfg.ipfrag_max_bytes) {
        struct frag_dgram *old = oldest(s);
        if (old != NULL && old == keep)
            old = sk_list_entry(sk_list_next(&s->frags, &old->link), struct frag_dgram, link);
        if (old == NULL)
            return false;
        st->ctr.ip_reasm_evicted++;
        discard(st, old, SK_DROP_IP_REASM_LIMIT, NULL);
    }
    return true;
}

/* Memory for d, within the limit (make_room) and counted. */
static void *dgram_alloc(struct sk_stack *st, struct frag_dgram *d, size_t n)
{
    if (!make_room(st, n, d))
        return NULL;
    void *p = sk_mem_alloc(st, n);
    if (p != NULL)
        account(st, d, n, 0);
    return p;
}

static struct frag_dgram *find(struct sk_stack *st, const struct frag_in *f)
{
    struct sk_list *l = &st->ip->frags;
    for (struct sk_list_node *n = sk_list_first(l); n; n = sk_list_next(l, n)) {
        struct frag_dgram *d = sk_list_entry(n, struct frag_dgram, link);
        if (d->id == f->id && d->family == f->family && d->proto == f->proto &&
            sk_addr_eq(&d->src, &f->src) && sk_addr_eq(&d->dst, &f->dst))
            return d;
    }
    return NULL;
}

static struct frag_dgram *create(struct sk_stack *st, const struct frag_in *f)
{
    struct sk_ipstate *s = st->ip;
    if (s->frag_count >= st->cfg.ipfrag_max_datagrams && oldest(s)) {
        st->ctr.ip_reasm_evicted++;
        discard(st, oldest(s), SK_DROP_IP_REASM_LIMIT, NULL);
    }
    if (s->frag_count >= st->cfg.ipfrag_max_datagrams ||
        !make_room(st, sizeof(struct frag_dgram), NULL))
        return NULL;
    struct frag_dgram *d = sk_mem_alloc(st, sizeof(*d));
    if (d == NULL)
        return NULL;
    memset(d, 0, sizeof(*d));
    sk_list_init(&d->pieces);
    d->family = f->family;
    d->src = f->src;
    d->dst = f->dst;
    d->id = f->id;
    d->proto = f->proto;
    d->expires = st->now + (f->family == 6 ? SK_IP6FRAG_TIMEOUT_US : st->cfg.ipfrag_timeout_us);
    sk_list_append(&s->frags, &d->link);
    s->frag_count++;
    account(st, d, sizeof(*d), 0);
    sk_ip_deadline_at(st, d->expires);
    return d;
}

/* The end of the data: the last fragment came. Data past it, or a second, different end,
 * make the datagram invalid. */
static bool set_total(struct frag_dgram *d, uint32_t total)
{
    if (d->have_last)
        return d->total == total;
    if (d->data_end > total)
        return false; /* bytes beyond the end were received */
    d->have_last = true;
    d->total = total;
    return true;
}

/* The rebuilt datagram, the first fragment's header and all the data, fits the 16-bit length
 * field: IPv4's total length counts the header (RFC 791 §3.1), IPv6's payload length counts
 * what follows the fixed 40 bytes. Until the first fragment comes its header is assumed to be
 * the shortest. */
static bool fits(const struct frag_dgram *d)
{
    uint32_t least = d->family == 6 ? SK_IPV6_HLEN : SK_IPV4_HLEN;
    uint32_t uncounted = d->family == 6 ? SK_IPV6_HLEN : 0;
    uint32_t hlen = d->have_first ? d->hdr_len : least;
    uint32_t end = d->have_last ? d->total : d->data_end;
    return hlen - uncounted + end <= UINT16_MAX;
}

/* Puts the header and the pieces together: the one moment a datagram holds its whole length
 * in one buffer (counted, within the limit; the pieces go at once). */
static bool assemble(struct sk_stack *st, struct frag_dgram *d)
{
    d->buf = dgram_alloc(st, d, (size_t)d->hdr_len + d->total);
    if (d->buf == NULL)
        return false;
    memcpy(d->buf, d->hdr, d->hdr_len);
    for (struct sk_list_node *n = sk_list_first(&d->pieces); n; n = sk_list_next(&d->pieces, n)) {
        const struct frag_piece *p = sk_list_entry(n, struct frag_piece, link);
        memcpy(d->buf + d->hdr_len + p->off, p->data, p->len);
    }
    free_pieces(st, d);
    return true;
}

/* The checks on one fragment by itself; 0 if it may join a datagram. */
static enum sk_drop_reason frag_check(const struct frag_in *f)
{
    /* RFC 791 §3.1, RFC 8200 §4.5: every fragment but the last carries a multiple of 8
     * octets; no datagram is longer than its length field allows (the "ping of death" is one
     * that would be). */
    if (f->len == 0 || (f->more && f->len % 8 != 0) || f->off + f->len > f->max_end)
        return SK_DROP_IP_FRAG_INVALID;
    return SK_DROP_NONE;
}

/* Where the fragment [off, off+len) goes in the sorted list (before *at: a piece's node or,
 * at the end, the list's head), or why it cannot:
 * SK_DROP_IP_FRAG_DUP for an exact duplicate of a piece held (RFC 8200 §4.5), else
 * SK_DROP_IP_FRAG_OVERLAP for any overlap (RFC 5722 §4). */
static enum sk_drop_reason place(struct frag_dgram *d, const struct frag_in *f,
                                 struct sk_list_node **at)
{
    uint32_t off = f->off, len = f->len;
    struct frag_piece *prev = NULL, *next = NULL;
    for (struct sk_list_node *n = sk_list_first(&d->pieces); n; n = sk_list_next(&d->pieces, n)) {
        struct frag_piece *p = sk_list_entry(n, struct frag_piece, link);
        if (p->off > off) {
            next = p;
            break;
        }
        prev = p;
    }
    if (prev && prev->off + prev->len > off) {
        bool same = prev->off == off && prev->len == len &&
                    memcmp(prev->data, f->data, len) == 0;
        return same ? SK_DROP_IP_FRAG_DUP : SK_DROP_IP_FRAG_OVERLAP;
    }
    if (next && next->off < off + len)
        return SK_DROP_IP_FRAG_OVERLAP;
    *at = next ? &next->link : &d->pieces.head;
    return SK_DROP_NONE;
}

/* Keeps the fragment's data (and, at offset 0, its header); false if memory is short. */
static bool take(struct sk_stack *st, struct frag_dgram *d, const struct frag_in *f,
                 struct sk_list_node *at)
{
    uint8_t *hdr = NULL;
    if (f->off == 0 && (hdr = dgram_alloc(st, d, f->hdr_len)) == NULL)
        return false;
    struct frag_piece *p = dgram_alloc(st, d, sizeof(*p) + f->len);
    if (p == NULL) {
        if (hdr != NULL) {
            account(st, d, 0, f->hdr_len);
            sk_mem_free(st, hdr, f->hdr_len);
        }
        return false;
    }
    p->off = f->off;
    p->len = f->len;
    memcpy(p->data, f->data, f->len);
    memset(&p->link, 0, sizeof(p->link));
    sk_list_insert_before(at, &p->link);
    d->nfrags++;
    d->received += f->len;
    if (f->off + f->len > d->data_end)
        d->data_end = f->off + f->len;
    if (hdr != NULL) {
        d->have_first = true;
        d->hdr = hdr;
        d->hdr_len = f->hdr_len;
        d->next_off = f->next_off;
        d->next = f->next;
        memcpy(d->hdr, f->hdr, f->hdr_len);
    }
    return true;
}

/* The common path: the fragment joins its datagram. Returns the datagram when this fragment
 * completed it (assembled, off the list), else NULL (queued or dropped, the drop counted). */
static struct frag_dgram *frag_add(struct sk_stack *st, const struct frag_in *f)
{
    enum sk_drop_reason bad = st->cfg.ipfrag_max_bytes == 0 ? SK_DROP_IP_FRAGMENT : frag_check(f);
    if (bad != SK_DROP_NONE) {
        sk_drop(st, bad, NULL, f->frame, f->frame_len);
        return NULL;
    }
    struct frag_dgram *d = find(st, f);
    if (d == NULL && (d = create(st, f)) == NULL) {
        sk_drop(st, SK_DROP_IP_REASM_LIMIT, NULL, f->frame, f->frame_len);
        return NULL;
    }
    if (f->more ? d->have_last && f->off + f->len > d->total : !set_total(d, f->off + f->len)) {
        discard(st, d, SK_DROP_IP_FRAG_INVALID, f);
        return NULL;
    }
    struct sk_list_node *at = NULL;
    bad = place(d, f, &at);
    if (bad == SK_DROP_IP_FRAG_DUP) {
        sk_drop(st, bad, NULL, f->frame, f->frame_len); /* the datagram lives on */
        return NULL;
    }
    if (bad == SK_DROP_NONE && d->nfrags >= st->cfg.ipfrag_max_fragments) {
        st->ctr.ip_frag_too_many++;
        bad = SK_DROP_IP_REASM_LIMIT;
    }
    if (bad == SK_DROP_NONE && !take(st, d, f, at))
        bad = SK_DROP_IP_REASM_LIMIT;
    if (bad == SK_DROP_NONE && !fits(d))
        bad = SK_DROP_IP_FRAG_INVALID;
    /* Complete: the end is known and, the pieces never overlapping, all of it is held. */
    if (bad == SK_DROP_NONE && d->have_last && d->received == d->total && !assemble(st, d))
        bad = SK_DROP_IP_REASM_LIMIT;
    if (bad != SK_DROP_NONE) {
        discard(st, d, bad, f);
        return NULL;
    }
    if (d->buf == NULL)
        return NULL;
    unlink_dgram(st, d);
    st->ctr.ip_reassembled++;
    return d;
}

/* ---- IPv4 ---- */

/* RFC 1858 §3: a fragment of a TCP datagram that could hide or rewrite the TCP header. */
static bool tiny_tcp_fragment(const struct ip_pkt *f)
{
    if (f->h.proto != SK_IPPROTO_TCP)
        return false;
    if (f->h.frag_off == RFC1858_FO1)
        return true;
    if (f->h.frag_off != 0)
        return false;
    size_t need = SK_TCP_HLEN;
    if (f->h.payload_len > 12 && (size_t)(f->h.payload[12] >> 4) * 4 > need)
        need = (size_t)(f->h.payload[12] >> 4) * 4;
    return f->h.payload_len < need;
}

/* The header of the first fragment goes right before the data, with the length and the
 * fragment fields of the whole datagram, so that an ICMP error can quote it. */
static void complete4(struct frag_dgram *d, const struct ip_pkt *f, struct ip_pkt *out)
{
    uint8_t *raw = d->buf;
    uint16_t total_len = (uint16_t)(d->hdr_len + d->total); /* fits() held */
    sk_put16(raw + 2, total_len);
    sk_put16(raw + 6, 0);
    sk_put16(raw + 10, 0);
    sk_put16(raw + 10, sk_csum_fold(sk_csum_add(0, raw, d->hdr_len)));
    *out = *f;
    out->h.hdr_len = (uint8_t)d->hdr_len;
    out->h.tos = raw[1];
    out->h.total_len = total_len;
    out->h.mf = false;
    out->h.df = false;
    out->h.frag_off = 0;
    out->h.ttl = raw[8];
    out->h.options = raw + SK_IPV4_HLEN;
    out->h.options_len = d->hdr_len - SK_IPV4_HLEN;
    out->h.payload = raw + d->hdr_len;
    out->h.payload_len = d->total;
    out->raw = raw;
    out->raw_len = total_len;
}

bool sk_ipfrag_input(struct sk_stack *st, const struct ip_pkt *f, struct ip_pkt *out,
                     struct frag_dgram **done)
{
    *done = NULL;
    struct frag_in in = {
        .family = 4, .src = sk_addr_from_v4(f->h.src), .dst = sk_addr_from_v4(f->h.dst),
        .id = f->h.id, .proto = f->h.proto, .off = f->h.frag_off, .more = f->h.mf,
        .data = f->h.payload, .len = (uint32_t)f->h.payload_len, .max_end = MAX_PAYLOAD,
        .hdr = f->raw, .hdr_len = f->h.hdr_len, .frame = f->frame, .frame_len = f->frame_len,
    };
    if (st->cfg.ipfrag_max_bytes != 0 && frag_check(&in) == SK_DROP_NONE &&
        tiny_tcp_fragment(f)) {
        sk_drop(st, SK_DROP_IP_FRAG_TINY, NULL, f->frame, f->frame_len);
        return false;
    }
    struct frag_dgram *d = frag_add(st, &in);
    if (d == NULL)
        return false;
    complete4(d, f, out);
    *done = d;
    return true;
}

/* ---- IPv6 ---- */

/* The reassembled packet: the unfragmentable part with the Fragment header's Next Header in
 * its last Next Header field and the whole payload length (RFC 8200 §4.5), then the data. */
static void complete6(struct frag_dgram *d)
{
    d->buf[d->next_off] = d->next;
    sk_put16(d->buf + 4, (uint16_t)(d->hdr_len - SK_IPV6_HLEN + d->total)); /* fits() held */
}

bool sk_ip6frag_input(struct sk_stack *st, const uint8_t *pkt, size_t len,
                      const struct sk_ip6_ext *e, const uint8_t *frame, size_t frame_len,
                      const uint8_t **out, size_t *out_len, struct frag_dgram **done)
{
    *done = NULL;
    /* RFC 6946 §4: an atomic fragment is a packet of its own. */
    if (e->frag_offset == 0 && !e->frag_more) {
        *out = pkt;
        *out_len = len;
        return true;
    }
    size_t data_off = e->frag_hdr_off + SK_IP6_FRAG_HLEN;
    struct frag_in in = {
        .family = 6, .id = e->frag_id, .off = e->frag_offset, .more = e->frag_more,
        .data = pkt + data_off, .len = (uint32_t)(len - data_off),
        .max_end = (uint32_t)(UINT16_MAX - (e->frag_hdr_off - SK_IPV6_HLEN)),
        .hdr = pkt, .hdr_len = (uint16_t)e->frag_hdr_off, .next_off = (uint16_t)e->frag_next_off,
        .next = e->frag_next, .frame = frame, .frame_len = frame_len,
    };
    memcpy(in.src.b, pkt + 8, 16);
    memcpy(in.dst.b, pkt + 24, 16);
    struct frag_dgram *d = frag_add(st, &in);
    if (d == NULL)
        return false;
    complete6(d);
    *out = d->buf;
    *out_len = (size_t)d->hdr_len + d->total;
    *done = d;
    return true;
}

/* ---- Time and teardown ---- */

#define ICMP6_TE_REASSEMBLY 1 /* RFC 4443 §3.3: fragment reassembly time exceeded */

/* RFC 8200 §4.5: an IPv6 datagram abandoned after its offset-0 fragment came earns that
 * fragment's source an ICMPv6 Time Exceeded, code 1, quoting the fragment: rebuilt here from
 * what was kept (its unfragmentable part as it came, a Fragment header, its data), cut to fit
 * 1280 bytes. sk_icmp6_send_error applies RFC 4443 §2.4's rules and the rate limit. */
static void time_exceeded6(struct sk_stack *st, const struct frag_dgram *d)
{
    const struct frag_piece *first =
        sk_list_entry(sk_list_first(&d->pieces), struct frag_piece, link);
    if (d->family != 6 || !d->have_first || first == NULL || first->off != 0)
        return;
    uint8_t q[SK_IPV6_MIN_MTU - SK_IPV6_HLEN - SK_ICMP6_HLEN];
    size_t data = first->len;
    if (data > sizeof(q) - d->hdr_len - SK_IP6_FRAG_HLEN)
        data = sizeof(q) - d->hdr_len - SK_IP6_FRAG_HLEN; /* the walk's byte limit keeps it > 0 */
    uint8_t *f = q + d->hdr_len;
    memcpy(q, d->hdr, d->hdr_len);
    f[0] = d->next;
    f[1] = 0;
    sk_put16(f + 2, 1); /* offset 0, M */
    sk_put32(f + 4, d->id);
    memcpy(f + SK_IP6_FRAG_HLEN, first->data, data);
    struct ip6_pkt p = {
        .src = &d->src, .dst = &d->dst, .proto = d->next, .payload = first->data,
        .payload_len = data, .raw = q, .raw_len = d->hdr_len + SK_IP6_FRAG_HLEN + data,
        .multicast = sk_addr_is_multicast6(&d->dst),
    };
    sk_icmp6_send_error(st, &p, SK_ICMP6_TIME_EXCEEDED, ICMP6_TE_REASSEMBLY, 0, false);
}

sk_time_us sk_ipfrag_timer(struct sk_stack *st)
{
    struct sk_list *l = &st->ip->frags;
    sk_time_us next = SK_TIME_NEVER;
    struct sk_list_node *n = sk_list_first(l);
    while (n != NULL) {
        struct frag_dgram *d = sk_list_entry(n, struct frag_dgram, link);
        n = sk_list_next(l, n);
        if (d->expires <= st->now) {
            time_exceeded6(st, d);
            discard(st, d, SK_DROP_IP_REASM_TIMEOUT, NULL);
        }
        else if (d->expires < next)
            next = d->expires;
    }
    return next;
}

void sk_ipfrag_free(struct sk_stack *st)
{
    struct sk_ipstate *s = st->ip;
    struct frag_dgram *d;
    while ((d = oldest(s)) != NULL) {
        unlink_dgram(st, d);
        sk_ipfrag_release(st, d);
    }
}
