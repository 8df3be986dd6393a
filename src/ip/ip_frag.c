/* IPv4 reassembly (RFC 791 §3.2 "Reassembly").
 *
 * A datagram being reassembled is found by (source, destination, protocol, identification).
 * Its fragments are kept as they came, each piece of data in its own allocation, in a list
 * sorted by offset that never overlaps; the last fragment (MF clear) fixes the end. With no
 * overlap allowed, the datagram is complete when the end is known and the bytes held add up to
 * it; only then is one buffer of the whole length made. So memory follows what was received: a
 * lone fragment at offset 40000 costs its own few bytes, not a 40 KB buffer, and no hole list
 * needs a fixed size (45 fragments of a 64 KiB datagram may arrive in any order).
 *
 * The rebuilt datagram carries the header of the fragment at offset 0, options included (RFC
 * 791 §3.2: the first fragment's options are the datagram's), with the total length of the
 * whole. That header plus the data must fit in 65535 octets (RFC 791 §3.1); a datagram that
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
 * RFC 1858 (tiny fragments, for a datagram carrying TCP): a first fragment too short to hold
 * the TCP header (§3.1, here the whole header its data offset announces, at least 20 bytes),
 * and any fragment at offset 8 (§3.2: FO = 1, which can only rewrite the first fragment's TCP
 * flags), are dropped and counted.
 *
 * Limits (sk_config): ipfrag_timeout_us from the first fragment (RFC 1122 §3.3.2 "the
 * reassembly timeout"), at most ipfrag_max_datagrams at once, ipfrag_max_bytes of memory in
 * all (descriptors, pieces and the final buffer), ipfrag_max_fragments per datagram. A new
 * datagram or a new piece that would pass the first two evicts the oldest datagrams (each
 * eviction counted), so a flood of fragments that never complete can neither exhaust memory nor lock
 * out later datagrams for long; a datagram with too many fragments is discarded. Datagrams are
 * kept in arrival order, which is their expiry order: the timer looks only at the head.
 */
#include "ip/ip_int.h"

#define MAX_PAYLOAD (UINT16_MAX - SK_IPV4_HLEN) /* with the shortest header */
#define RFC1858_FO1 8u /* RFC 1858 §3.2: fragment offset 1, in bytes */

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
        sk_mem_free(st, d->buf, SK_FRAG_HDR_ROOM + d->total);
    account(st, d, 0, d->bytes);
    sk_mem_free(st, d, sizeof(*d));
}

static void discard(struct sk_stack *st, struct frag_dgram *d, enum sk_drop_reason why,
                    const struct ip_pkt *f)
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

static struct frag_dgram *find(struct sk_stack *st, const struct sk_ipv4_hdr *h)
{
    struct sk_list *l = &st->ip->frags;
    for (struct sk_list_node *n = sk_list_first(l); n; n = sk_list_next(l, n)) {
        struct frag_dgram *d = sk_list_entry(n, struct frag_dgram, link);
        if (d->id == h->id && d->src == h->src && d->dst == h->dst && d->proto == h->proto)
            return d;
    }
    return NULL;
}

static struct frag_dgram *create(struct sk_stack *st, const struct sk_ipv4_hdr *h)
{
    struct sk_ipstate *s = st->ip;
    if (s->frag_count >= st->cfg.ipfrag_max_datagrams && oldest(s)) {
        st->ctr.ip_reasm_evicted++;
        discard(st, oldest(s), SK_DROP_IP_REASM_LIMIT, NULL);
    }
    if (s->frag_count >= st->cfg.ipfrag_max_datagrams || !make_room(st, sizeof(struct frag_dgram), NULL))
        return NULL;
    struct frag_dgram *d = sk_mem_alloc(st, sizeof(*d));
    if (d == NULL)
        return NULL;
    memset(d, 0, sizeof(*d));
    sk_list_init(&d->pieces);
    d->src = h->src;
    d->dst = h->dst;
    d->id = h->id;
    d->proto = h->proto;
    d->expires = st->now + st->cfg.ipfrag_timeout_us;
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

/* RFC 791 §3.1: the rebuilt datagram, the first fragment's header and all the data, fits in
 * 65535 octets. Until the first fragment comes its header is assumed to be the shortest. */
static bool fits(const struct frag_dgram *d)
{
    uint32_t hlen = d->have_first ? d->hdr_len : SK_IPV4_HLEN;
    uint32_t end = d->have_last ? d->total : d->data_end;
    return hlen + end <= UINT16_MAX;
}

/* Puts the pieces together behind room for the header: the one moment a datagram holds its
 * whole length in one buffer (counted, within the limit; the pieces go at once). */
static bool assemble(struct sk_stack *st, struct frag_dgram *d)
{
    d->buf = dgram_alloc(st, d, SK_FRAG_HDR_ROOM + d->total);
    if (d->buf == NULL)
        return false;
    for (struct sk_list_node *n = sk_list_first(&d->pieces); n; n = sk_list_next(&d->pieces, n)) {
        const struct frag_piece *p = sk_list_entry(n, struct frag_piece, link);
        memcpy(d->buf + SK_FRAG_HDR_ROOM + p->off, p->data, p->len);
    }
    free_pieces(st, d);
    return true;
}

static void complete(struct sk_stack *st, struct frag_dgram *d, const struct ip_pkt *f,
                     struct ip_pkt *out)
{
    unlink_dgram(st, d);
    st->ctr.ip_reassembled++;
    /* The header of the first fragment goes right before the data, with the length and the
     * fragment fields of the whole datagram, so that an ICMP error can quote it. */
    uint8_t *raw = d->buf + SK_FRAG_HDR_ROOM - d->hdr_len;
    uint16_t total_len = (uint16_t)(d->hdr_len + d->total); /* fits() held */
    memcpy(raw, d->hdr, d->hdr_len);
    sk_put16(raw + 2, total_len);
    sk_put16(raw + 6, 0);
    sk_put16(raw + 10, 0);
    sk_put16(raw + 10, sk_csum_fold(sk_csum_add(0, raw, d->hdr_len)));
    *out = *f;
    out->h.hdr_len = d->hdr_len;
    out->h.tos = raw[1];
    out->h.total_len = total_len;
    out->h.mf = false;
    out->h.df = false;
    out->h.frag_off = 0;
    out->h.ttl = raw[8];
    out->h.options = raw + SK_IPV4_HLEN;
    out->h.options_len = d->hdr_len - SK_IPV4_HLEN;
    out->h.payload = d->buf + SK_FRAG_HDR_ROOM;
    out->h.payload_len = d->total;
    out->raw = raw;
    out->raw_len = total_len;
}

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

/* The checks on one fragment by itself; 0 if it may join a datagram. */
static enum sk_drop_reason frag_check(const struct ip_pkt *f)
{
    uint32_t first = f->h.frag_off, len = (uint32_t)f->h.payload_len;
    /* RFC 791 §3.1: every fragment but the last carries a multiple of 8 octets; no datagram
     * is longer than 65535 octets (the "ping of death" is one that would be). */
    if (len == 0 || (f->h.mf && len % 8 != 0) || first + len > MAX_PAYLOAD)
        return SK_DROP_IP_FRAG_INVALID;
    if (tiny_tcp_fragment(f))
        return SK_DROP_IP_FRAG_TINY;
    return SK_DROP_NONE;
}

/* Where the fragment [off, off+len) goes in the sorted list (before *at: a piece's node or,
 * at the end, the list's head), or why it cannot:
 * SK_DROP_IP_FRAG_DUP for an exact duplicate of a piece held (RFC 8200 §4.5), else
 * SK_DROP_IP_FRAG_OVERLAP for any overlap (RFC 5722 §4). */
static enum sk_drop_reason place(struct frag_dgram *d, const struct ip_pkt *f,
                                 struct sk_list_node **at)
{
    uint32_t off = f->h.frag_off, len = (uint32_t)f->h.payload_len;
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
                    memcmp(prev->data, f->h.payload, len) == 0;
        return same ? SK_DROP_IP_FRAG_DUP : SK_DROP_IP_FRAG_OVERLAP;
    }
    if (next && next->off < off + len)
        return SK_DROP_IP_FRAG_OVERLAP;
    *at = next ? &next->link : &d->pieces.head;
    return SK_DROP_NONE;
}

/* Keeps the fragment's data (and, at offset 0, its header); false if memory is short. */
static bool take(struct sk_stack *st, struct frag_dgram *d, const struct ip_pkt *f,
                 struct sk_list_node *at)
{
    uint32_t off = f->h.frag_off, len = (uint32_t)f->h.payload_len;
    struct frag_piece *p = dgram_alloc(st, d, sizeof(*p) + len);
    if (p == NULL)
        return false;
    p->off = off;
    p->len = len;
    memcpy(p->data, f->h.payload, len);
    memset(&p->link, 0, sizeof(p->link));
    sk_list_insert_before(at, &p->link);
    d->nfrags++;
    d->received += len;
    if (off + len > d->data_end)
        d->data_end = off + len;
    if (off == 0) {
        d->have_first = true;
        d->hdr_len = f->h.hdr_len;
        memcpy(d->hdr, f->raw, f->h.hdr_len);
    }
    return true;
}

bool sk_ipfrag_input(struct sk_stack *st, const struct ip_pkt *f, struct ip_pkt *out,
                     struct frag_dgram **done)
{
    *done = NULL;
    enum sk_drop_reason bad = st->cfg.ipfrag_max_bytes == 0 ? SK_DROP_IP_FRAGMENT : frag_check(f);
    if (bad != SK_DROP_NONE) {
        sk_drop(st, bad, NULL, f->frame, f->frame_len);
        return false;
    }
    uint32_t first = f->h.frag_off, len = (uint32_t)f->h.payload_len;
    struct frag_dgram *d = find(st, &f->h);
    if (d == NULL && (d = create(st, &f->h)) == NULL) {
        sk_drop(st, SK_DROP_IP_REASM_LIMIT, NULL, f->frame, f->frame_len);
        return false;
    }
    if (f->h.mf ? d->have_last && first + len > d->total : !set_total(d, first + len)) {
        discard(st, d, SK_DROP_IP_FRAG_INVALID, f);
        return false;
    }
    struct sk_list_node *at = NULL;
    bad = place(d, f, &at);
    if (bad == SK_DROP_IP_FRAG_DUP) {
        sk_drop(st, bad, NULL, f->frame, f->frame_len); /* the datagram lives on */
        return false;
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
        return false;
    }
    if (d->buf == NULL)
        return false;
    complete(st, d, f, out);
    *done = d;
    return true;
}

sk_time_us sk_ipfrag_timer(struct sk_stack *st)
{
    struct sk_ipstate *s = st->ip;
    struct frag_dgram *d;
    while ((d = oldest(s)) != NULL && d->expires <= st->now)
        discard(st, d, SK_DROP_IP_REASM_TIMEOUT, NULL);
    return d ? d->expires : SK_TIME_NEVER;
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
