/* IPv4 reassembly (RFC 791 §3.2 "Reassembly", with the hole descriptors of RFC 815).
 *
 * A datagram being reassembled is found by (source, destination, protocol, identification).
 * It keeps a list of holes, the byte ranges still missing (RFC 815 §3): at first one hole from
 * 0 to "infinity"; the last fragment (MF clear) fixes the end. A fragment must fall entirely
 * inside one hole, which it splits in at most two. A fragment that overlaps bytes already
 * held only in part, or repeats them with different content, discards the whole datagram:
 * overlapping fragments are only ever an attack or a broken sender (the rule of RFC 5722 for
 * IPv6, which Linux applies to IPv4 too). One that repeats held bytes unchanged (a duplicate
 * from the network) is dropped alone. The datagram is complete when no hole is left.
 *
 * Limits (sk_config): ipfrag_timeout_us from the first fragment (RFC 1122 §3.3.2 "the
 * reassembly timeout"), at most ipfrag_max_datagrams at once and ipfrag_max_bytes of buffers
 * in all; a new datagram or a growing buffer that would pass them evicts the oldest datagrams
 * (each eviction counted), so a flood of fragments can neither exhaust memory nor lock out
 * later datagrams for long. More than SK_FRAG_MAX_HOLES holes (a pathological fragment
 * pattern) also discards the datagram. Datagrams are kept in arrival order, which is their
 * expiry order: the timer looks only at the head.
 */
#include "ip/ip_int.h"

#define HOLE_INFINITY 65535u
#define MAX_PAYLOAD (UINT16_MAX - SK_IPV4_HLEN)
#define BUF_STEP 2048u

static size_t dgram_bytes(const struct frag_dgram *d)
{
    return sizeof(*d) + (d->buf ? SK_FRAG_HDR_ROOM + d->cap : 0);
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
    st->ip->frag_bytes -= dgram_bytes(d);
    if (d->buf)
        sk_mem_free(st, d->buf, SK_FRAG_HDR_ROOM + d->cap);
    sk_mem_free(st, d, sizeof(*d));
}

static void discard(struct sk_stack *st, struct frag_dgram *d, enum sk_drop_reason why,
                    const struct ip_pkt *f)
{
    unlink_dgram(st, d);
    sk_ipfrag_release(st, d);
    sk_drop(st, why, NULL, f ? f->frame : NULL, f ? f->frame_len : 0);
}

/* Evicts the oldest datagrams other than keep until `need` more bytes fit. */
static bool make_room(struct sk_stack *st, size_t need, const struct frag_dgram *keep)
{
    struct sk_ipstate *s = st->ip;
    while (s->frag_bytes + need > st->cfg.ipfrag_max_bytes) {
        struct frag_dgram *old = s->frag_head;
        if (old == keep)
            old = old->next;
        if (old == NULL)
            return false;
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
    if (s->frag_count >= st->cfg.ipfrag_max_datagrams && s->frag_head)
        discard(st, s->frag_head, SK_DROP_IP_REASM_LIMIT, NULL);
    if (s->frag_count >= st->cfg.ipfrag_max_datagrams || !make_room(st, sizeof(struct frag_dgram), NULL))
        return NULL;
    struct frag_dgram *d = sk_mem_alloc(st, sizeof(*d));
    if (d == NULL)
        return NULL;
    memset(d, 0, sizeof(*d));
    d->src = h->src;
    d->dst = h->dst;
    d->id = h->id;
    d->proto = h->proto;
    d->expires = st->now + st->cfg.ipfrag_timeout_us;
    d->nholes = 1;
    d->holes[0].first = 0;
    d->holes[0].last = HOLE_INFINITY;
    if (s->frag_tail)
        s->frag_tail->next = d;
    else
        s->frag_head = d;
    s->frag_tail = d;
    s->frag_count++;
    s->frag_bytes += sizeof(*d);
    sk_ip_deadline_at(st, d->expires);
    return d;
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
    st->ip->frag_bytes += want - old;
    return true;
}

/* The end of the data: the last fragment came. Holes past it vanish; data past it, or a
 * second, different end, make the datagram invalid. */
static bool set_total(struct frag_dgram *d, uint32_t total)
{
    if (d->have_last)
        return d->total == total;
    for (uint8_t i = 0; i < d->nholes; i++)
        if (d->holes[i].last != HOLE_INFINITY && d->holes[i].last >= total)
            return false; /* bytes beyond the end were received */
    /* Only the trailing hole reaches infinity; anything else before total is fine. */
    uint8_t n = 0;
    for (uint8_t i = 0; i < d->nholes; i++) {
        struct frag_hole h = d->holes[i];
        if (h.last == HOLE_INFINITY) {
            if (h.first > total)
                return false;
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

static void complete(struct sk_stack *st, struct frag_dgram *d, const struct ip_pkt *f,
                     struct ip_pkt *out)
{
    unlink_dgram(st, d);
    st->ctr.ip_reassembled++;
    /* The header of the first fragment goes right before the data, with the length and the
     * fragment fields of the whole datagram, so that an ICMP error can quote it. */
    uint8_t *raw = d->buf + SK_FRAG_HDR_ROOM - d->hdr_len;
    memcpy(raw, d->hdr, d->hdr_len);
    sk_put16(raw + 2, (uint16_t)(d->hdr_len + d->total));
    sk_put16(raw + 6, 0);
    sk_put16(raw + 10, 0);
    sk_put16(raw + 10, sk_csum_fold(sk_csum_add(0, raw, d->hdr_len)));
    *out = *f;
    out->h.hdr_len = d->hdr_len;
    out->h.tos = raw[1];
    out->h.total_len = (uint16_t)(d->hdr_len + d->total);
    out->h.mf = false;
    out->h.df = false;
    out->h.frag_off = 0;
    out->h.ttl = raw[8];
    out->h.options = raw + SK_IPV4_HLEN;
    out->h.options_len = d->hdr_len - SK_IPV4_HLEN;
    out->h.payload = d->buf + SK_FRAG_HDR_ROOM;
    out->h.payload_len = d->total;
    out->raw = raw;
    out->raw_len = d->hdr_len + d->total;
}

bool sk_ipfrag_input(struct sk_stack *st, const struct ip_pkt *f, struct ip_pkt *out,
                     struct frag_dgram **done)
{
    *done = NULL;
    if (st->cfg.ipfrag_max_bytes == 0) {
        sk_drop(st, SK_DROP_IP_FRAGMENT, NULL, f->frame, f->frame_len);
        return false;
    }
    uint32_t first = f->h.frag_off, len = (uint32_t)f->h.payload_len;
    /* RFC 791 §3.1: every fragment but the last carries a multiple of 8 octets; no datagram
     * is longer than 65535 octets (the "ping of death" is one that would be). */
    if (len == 0 || (f->h.mf && len % 8 != 0) || first + len > MAX_PAYLOAD) {
        sk_drop(st, SK_DROP_IP_FRAG_INVALID, NULL, f->frame, f->frame_len);
        return false;
    }
    uint32_t last = first + len - 1;
    struct frag_dgram *d = find(st, &f->h);
    if (d == NULL && (d = create(st, &f->h)) == NULL) {
        sk_drop(st, SK_DROP_IP_REASM_LIMIT, NULL, f->frame, f->frame_len);
        return false;
    }
    if (!f->h.mf) {
        if (!set_total(d, first + len)) {
            discard(st, d, SK_DROP_IP_FRAG_INVALID, f);
            return false;
        }
    } else if (d->have_last && last >= d->total) {
        discard(st, d, SK_DROP_IP_FRAG_INVALID, f);
        return false;
    }
    /* RFC 815 §3 steps 1-3: the hole this fragment fills. */
    int hit = -1;
    bool touches = false;
    for (uint8_t i = 0; i < d->nholes; i++) {
        const struct frag_hole *h = &d->holes[i];
        if (first > h->last || last < h->first)
            continue;
        touches = true;
        if (h->first <= first && last <= h->last)
            hit = i;
    }
    if (hit < 0) {
        /* Inside bytes already held (a duplicate if they are the same), or straddling held
         * bytes and a hole: an overlap. */
        if (!touches && d->buf && last < d->cap &&
            memcmp(d->buf + SK_FRAG_HDR_ROOM + first, f->h.payload, len) == 0 &&
            (first != 0 || d->have_first)) {
            sk_drop(st, SK_DROP_IP_FRAG_DUP, NULL, f->frame, f->frame_len);
            return false;
        }
        discard(st, d, SK_DROP_IP_FRAG_OVERLAP, f);
        return false;
    }
    /* Steps 4-6: delete the hole; new holes before and after the fragment, if any. */
    struct frag_hole h = d->holes[hit];
    d->holes[hit] = d->holes[--d->nholes];
    if (first > h.first || last < h.last) {
        uint8_t need = (uint8_t)((first > h.first) + (last < h.last));
        if (d->nholes + need > SK_FRAG_MAX_HOLES) {
            discard(st, d, SK_DROP_IP_REASM_LIMIT, f);
            return false;
        }
        if (first > h.first)
            d->holes[d->nholes++] = (struct frag_hole){h.first, first - 1};
        if (last < h.last)
            d->holes[d->nholes++] = (struct frag_hole){last + 1, h.last};
    }
    if (!reserve(st, d, last + 1)) {
        discard(st, d, SK_DROP_IP_REASM_LIMIT, f);
        return false;
    }
    memcpy(d->buf + SK_FRAG_HDR_ROOM + first, f->h.payload, len);
    if (first == 0) {
        d->have_first = true;
        d->hdr_len = f->h.hdr_len;
        memcpy(d->hdr, f->raw, f->h.hdr_len);
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
