/* IPv4 reassembly (RFC 791 §3.2 "Reassembly", with the hole descriptors of RFC 815).
 *
 * A datagram being reassembled is found by (source, destination, protocol, identification).
 * It keeps a list of holes, the byte ranges still missing (RFC 815 §3): at first one hole from
 * 0 to "infinity"; the last fragment (MF clear) fixes the end. A fragment must fall entirely
 * inside one hole, which it splits in at most two, so a datagram of n fragments never has more
 * than n + 1 holes; the list grows with them (no fixed number of holes: 45 fragments of a
 * 64 KiB datagram may arrive in any order). The datagram is complete when no hole is left.
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
 * (the same bytes at the same place, which the network can produce) is dropped alone, as RFC
 * 8200 §4.5 allows.
 *
 * RFC 1858 (tiny fragments, for a datagram carrying TCP): a first fragment too short to hold
 * the TCP header (§3.1, here the whole header its data offset announces, at least 20 bytes),
 * and any fragment at offset 8 (§3.2: FO = 1, which can only rewrite the first fragment's TCP
 * flags), are dropped and counted.
 *
 * Limits (sk_config): ipfrag_timeout_us from the first fragment (RFC 1122 §3.3.2 "the
 * reassembly timeout"), at most ipfrag_max_datagrams at once, ipfrag_max_bytes of memory in
 * all (headers, hole lists and buffers), ipfrag_max_fragments per datagram. A new datagram or
 * a growing buffer that would pass the first two evicts the oldest datagrams (each eviction
 * counted), so a flood of fragments that never complete can neither exhaust memory nor lock
 * out later datagrams for long; a datagram with too many fragments is discarded. Datagrams are
 * kept in arrival order, which is their expiry order: the timer looks only at the head.
 */
#include "ip/ip_int.h"

#define HOLE_INFINITY 65535u
#define MAX_PAYLOAD (UINT16_MAX - SK_IPV4_HLEN) /* with the shortest header */
#define BUF_STEP 2048u
#define HOLES_FIRST 4u
#define RFC1858_FO1 8u /* RFC 1858 §3.2: fragment offset 1, in bytes */

static size_t dgram_bytes(const struct frag_dgram *d)
{
    return sizeof(*d) + d->holes_cap * sizeof(struct frag_hole) +
           (d->buf ? SK_FRAG_HDR_ROOM + d->cap : 0);
}

/* Every change to the memory held goes through here, so the gauge in the counters is exact. */
static void account(struct sk_stack *st, size_t add, size_t sub)
{
    st->ip->frag_bytes = st->ip->frag_bytes + add - sub;
    st->ctr.ip_reasm_bytes = st->ip->frag_bytes;
}

static void unlink_dgram(struct sk_stack *st, struct frag_dgram *d)
{
    struct sk_ipstate *s = st->ip;
    struct frag_dgram **pp = &s->frag_head, *prev = NULL;
    while (*pp && *pp != d) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (*pp == NULL)
        return;
    *pp = d->next;
    if (s->frag_tail == d)
        s->frag_tail = prev;
    d->next = NULL;
    s->frag_count--;
}

void sk_ipfrag_release(struct sk_stack *st, struct frag_dgram *d)
{
    if (d == NULL)
        return;
    account(st, 0, dgram_bytes(d));
    if (d->buf)
        sk_mem_free(st, d->buf, SK_FRAG_HDR_ROOM + d->cap);
    sk_mem_free(st, d->holes, d->holes_cap * sizeof(struct frag_hole));
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
        struct frag_dgram *old = s->frag_head;
        if (old == keep)
            old = old->next;
        if (old == NULL)
            return false;
        st->ctr.ip_reasm_evicted++;
        discard(st, old, SK_DROP_IP_REASM_LIMIT, NULL);
    }
    return true;
}

static struct frag_dgram *find(struct sk_stack *st, const struct sk_ipv4_hdr *h)
{
    for (struct frag_dgram *d = st->ip->frag_head; d; d = d->next)
        if (d->id == h->id && d->src == h->src && d->dst == h->dst && d->proto == h->proto)
            return d;
    return NULL;
}

static struct frag_dgram *create(struct sk_stack *st, const struct sk_ipv4_hdr *h)
{
    struct sk_ipstate *s = st->ip;
    if (s->frag_count >= st->cfg.ipfrag_max_datagrams && s->frag_head) {
        st->ctr.ip_reasm_evicted++;
        discard(st, s->frag_head, SK_DROP_IP_REASM_LIMIT, NULL);
    }
    size_t holes = HOLES_FIRST * sizeof(struct frag_hole);
    if (s->frag_count >= st->cfg.ipfrag_max_datagrams ||
        !make_room(st, sizeof(struct frag_dgram) + holes, NULL))
        return NULL;
    struct frag_dgram *d = sk_mem_alloc(st, sizeof(*d));
    struct frag_hole *hl = d ? sk_mem_alloc(st, holes) : NULL;
    if (hl == NULL) {
        sk_mem_free(st, d, sizeof(*d));
        return NULL;
    }
    memset(d, 0, sizeof(*d));
    d->src = h->src;
    d->dst = h->dst;
    d->id = h->id;
    d->proto = h->proto;
    d->expires = st->now + st->cfg.ipfrag_timeout_us;
    d->holes = hl;
    d->holes_cap = HOLES_FIRST;
    d->nholes = 1;
    d->holes[0] = (struct frag_hole){0, HOLE_INFINITY};
    if (s->frag_tail)
        s->frag_tail->next = d;
    else
        s->frag_head = d;
    s->frag_tail = d;
    s->frag_count++;
    account(st, dgram_bytes(d), 0);
    sk_ip_deadline_at(st, d->expires);
    return d;
}

/* Room for n hole descriptors, within the memory limit. */
static bool reserve_holes(struct sk_stack *st, struct frag_dgram *d, uint32_t n)
{
    if (n <= d->holes_cap)
        return true;
    uint32_t cap = d->holes_cap * 2 >= n ? d->holes_cap * 2 : n;
    size_t old = d->holes_cap * sizeof(struct frag_hole), want = cap * sizeof(struct frag_hole);
    if (!make_room(st, want - old, d))
        return false;
    struct frag_hole *nh = st->cfg.alloc(st->cfg.alloc_ctx, d->holes, old, want);
    if (nh == NULL) {
        st->ctr.alloc_failures++;
        return false;
    }
    d->holes = nh;
    d->holes_cap = cap;
    account(st, want, old);
    return true;
}

/* Grows d's buffer to hold payload bytes [0, end). */
static bool reserve(struct sk_stack *st, struct frag_dgram *d, uint32_t end)
{
    if (d->buf && end <= d->cap)
        return true;
    uint32_t cap = (end + BUF_STEP - 1) / BUF_STEP * BUF_STEP;
    if (cap > MAX_PAYLOAD)
        cap = MAX_PAYLOAD;
    size_t old = d->buf ? SK_FRAG_HDR_ROOM + d->cap : 0;
    size_t want = SK_FRAG_HDR_ROOM + cap;
    if (!make_room(st, want - old, d))
        return false;
    uint8_t *nb = st->cfg.alloc(st->cfg.alloc_ctx, d->buf, old, want);
    if (nb == NULL) {
        st->ctr.alloc_failures++;
        return false;
    }
    d->buf = nb;
    d->cap = cap;
    account(st, want, old);
    return true;
}

/* The end of the data: the last fragment came. Holes past it vanish; data past it, or a
 * second, different end, make the datagram invalid. */
static bool set_total(struct frag_dgram *d, uint32_t total)
{
    if (d->have_last)
        return d->total == total;
    if (d->data_end > total)
        return false; /* bytes beyond the end were received */
    /* Only the trailing hole reaches infinity; anything else before total is fine. */
    uint32_t n = 0;
    for (uint32_t i = 0; i < d->nholes; i++) {
        struct frag_hole h = d->holes[i];
        if (h.last == HOLE_INFINITY) {
            if (h.first == total)
                continue;
            h.last = total - 1;
        }
        d->holes[n++] = h;
    }
    d->nholes = n;
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

/* RFC 815 §3 steps 1-3: the hole [first, last] falls in, or -1. *touches: it meets a hole. */
static int find_hole(const struct frag_dgram *d, uint32_t first, uint32_t last, bool *touches)
{
    int hit = -1;
    *touches = false;
    for (uint32_t i = 0; i < d->nholes; i++) {
        const struct frag_hole *h = &d->holes[i];
        if (first > h->last || last < h->first)
            continue;
        *touches = true;
        if (h->first <= first && last <= h->last)
            hit = (int)i;
    }
    return hit;
}

/* Steps 4-6: delete the hole; new holes before and after the fragment, if any. */
static bool split_hole(struct sk_stack *st, struct frag_dgram *d, int hit, uint32_t first,
                       uint32_t last)
{
    if (!reserve_holes(st, d, d->nholes + 1))
        return false;
    struct frag_hole h = d->holes[hit];
    d->holes[hit] = d->holes[--d->nholes];
    if (first > h.first)
        d->holes[d->nholes++] = (struct frag_hole){h.first, first - 1};
    if (last < h.last)
        d->holes[d->nholes++] = (struct frag_hole){last + 1, h.last};
    return true;
}

/* A fragment that fills no hole: a duplicate if it repeats held bytes exactly, else an
 * overlap that discards the datagram. */
static void not_in_a_hole(struct sk_stack *st, struct frag_dgram *d, const struct ip_pkt *f,
                          bool touches)
{
    uint32_t first = f->h.frag_off, len = (uint32_t)f->h.payload_len;
    if (!touches && d->buf && first + len <= d->cap &&
        memcmp(d->buf + SK_FRAG_HDR_ROOM + first, f->h.payload, len) == 0 &&
        (first != 0 || d->have_first)) {
        sk_drop(st, SK_DROP_IP_FRAG_DUP, NULL, f->frame, f->frame_len);
        return;
    }
    discard(st, d, SK_DROP_IP_FRAG_OVERLAP, f);
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
    uint32_t first = f->h.frag_off, len = (uint32_t)f->h.payload_len, last = first + len - 1;
    struct frag_dgram *d = find(st, &f->h);
    if (d == NULL && (d = create(st, &f->h)) == NULL) {
        sk_drop(st, SK_DROP_IP_REASM_LIMIT, NULL, f->frame, f->frame_len);
        return false;
    }
    if (f->h.mf ? d->have_last && last >= d->total : !set_total(d, first + len)) {
        discard(st, d, SK_DROP_IP_FRAG_INVALID, f);
        return false;
    }
    bool touches;
    int hit = find_hole(d, first, last, &touches);
    if (hit < 0) {
        not_in_a_hole(st, d, f, touches);
        return false;
    }
    if (d->nfrags >= st->cfg.ipfrag_max_fragments) {
        st->ctr.ip_frag_too_many++;
        discard(st, d, SK_DROP_IP_REASM_LIMIT, f);
        return false;
    }
    if (!split_hole(st, d, hit, first, last) || !reserve(st, d, last + 1)) {
        discard(st, d, SK_DROP_IP_REASM_LIMIT, f);
        return false;
    }
    d->nfrags++;
    memcpy(d->buf + SK_FRAG_HDR_ROOM + first, f->h.payload, len);
    if (last + 1 > d->data_end)
        d->data_end = last + 1;
    if (first == 0) {
        d->have_first = true;
        d->hdr_len = f->h.hdr_len;
        memcpy(d->hdr, f->raw, f->h.hdr_len);
    }
    if (!fits(d)) {
        discard(st, d, SK_DROP_IP_FRAG_INVALID, f);
        return false;
    }
    /* Step 8: no hole left (and the end known) means complete. */
    if (d->nholes > 0 || !d->have_last)
        return false;
    complete(st, d, f, out);
    *done = d;
    return true;
}

sk_time_us sk_ipfrag_timer(struct sk_stack *st)
{
    struct sk_ipstate *s = st->ip;
    while (s->frag_head && s->frag_head->expires <= st->now)
        discard(st, s->frag_head, SK_DROP_IP_REASM_TIMEOUT, NULL);
    return s->frag_head ? s->frag_head->expires : SK_TIME_NEVER;
}

void sk_ipfrag_free(struct sk_stack *st)
{
    struct sk_ipstate *s = st->ip;
    while (s->frag_head) {
        struct frag_dgram *d = s->frag_head;
        unlink_dgram(st, d);
        sk_ipfrag_release(st, d);
    }
}
