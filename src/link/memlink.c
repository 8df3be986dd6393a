/* synack: the in-memory link, two stacks joined by a seeded, faulty wire.
 *
 * Outside the core. A frame sent from one side passes, in this order:
 *   1. rules (nth matching frame per rule: drop, duplicate or extra delay),
 *   2. the MTU check,
 *   3. loss at the sender (uniform, then Gilbert-Elliott burst loss),
 *   4. the rate limit: a byte queue in front of a serializer (tail drop when full),
 *   5. corruption (one random bit), then the capture (pcap) at the send time,
 *   6. propagation: delay + jitter, plus reorder_us for frames held back,
 *   7. duplication (the copy is captured too and arrives right after, or with its own jitter).
 * Frames in flight sit in a binary min-heap keyed by (arrival time, sequence number): equal
 * arrival times leave in the order they were sent, and 100k frames in flight cost O(log n) each.
 *
 * Every random choice comes from a per-direction xoshiro256** generator seeded (through
 * splitmix64) from the link's seed, so changing the faults of one direction never moves the
 * schedule of the other, and a run replays exactly from its seed.
 *
 * Rules read the TCP flags of bare IPv4 datagrams (SK_LINK_IP, the simulator's framing).
 *
 * Offloads (sk_memlink_set_caps): before step 1, a TSO super-segment is cut into MTU-sized
 * frames (sk_gso_segment, as the sender's NIC would) unless the receiving side takes large
 * frames; each piece then passes the steps alone. At step 5, a frame that is not corrupted
 * reaches a receiver with caps.rx_csum marked SK_FRAME_CSUM_VALID (nothing altered it); a
 * corrupted one, or any frame for a receiver without rx_csum, has its partial checksum
 * finished first and carries no mark, so the receiver verifies it.
 */
#include "synack/memlink.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "synack/gso.h"
#include "synack/pcap.h"

#define MEMLINK_MAX_RULES 16
#define MEMLINK_DEFAULT_QUEUE_BYTES (256u * 1024u)

/* ---- random numbers: splitmix64 to seed, xoshiro256** to draw ---- */

struct rng {
    uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed) {
    /* splitmix64 never yields four zero words in a row, so the xoshiro state is valid. */
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, 1): the top 53 bits fill a double's mantissa exactly. */
static double rng_unit(struct rng *r) {
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* True with probability p. Draws nothing when p <= 0, so a fault that is off costs no number
 * from the stream and leaves the other faults' schedule as it was. */
static bool rng_chance(struct rng *r, double p) {
    if (p <= 0)
        return false;
    return rng_unit(r) < p;
}

/* Uniform in [0, n), without modulo bias (rejects the short last bucket). n > 0. */
static uint64_t rng_below(struct rng *r, uint64_t n) {
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
        x = rng_next(r);
    } while (x >= limit);
    return x % n;
}

/* ---- frames in flight: a min-heap on (arrival time, sequence number) ---- */

/* Up to this many spare frame buffers, and no more than MEMLINK_POOL_BYTES in all. */
#define MEMLINK_POOL 1024
#define MEMLINK_POOL_BYTES (8u << 20)

struct flight {
    sk_time_us at;
    uint64_t seq;      /* send order; breaks ties so equal times stay FIFO */
    int from_side;
    size_t len;
    uint8_t *data;     /* owned, back to the pool after delivery */
    size_t cap;        /* bytes allocated at data */
    struct sk_frame_meta meta; /* what the receiver is told about it */
};

static bool flight_before(const struct flight *a, const struct flight *b) {
    if (a->at != b->at)
        return a->at < b->at;
    return a->seq < b->seq;
}

/* A frame waiting for (or in) the serializer of a rate-limited direction: it holds len bytes
 * of the queue until its last bit has left at `done`. */
struct queued {
    sk_time_us done;
    size_t len;
};

/* One direction of the link: what side `from` sends. */
struct direction {
    struct sk_memlink_faults faults;
    struct rng rng;
    bool burst_bad;          /* Gilbert-Elliott state: in the lossy state */
    sk_time_us link_free_at; /* when the serializer finishes the last queued frame */
    /* FIFO ring of frames in the rate limiter's queue, oldest first. */
    struct queued *q;
    size_t q_cap, q_head, q_count;
    uint64_t q_bytes;
    struct sk_memlink_stats stats;
};

struct rule_slot {
    struct sk_memlink_rule rule;
    uint32_t matches; /* frames that matched so far, to find the nth */
};

struct sk_memlink {
    struct direction dir[2];
    struct rule_slot rules[MEMLINK_MAX_RULES];
    size_t nrules;
    struct flight *heap;
    size_t heap_len, heap_cap;
    uint64_t next_seq;
    struct sk_pcap *pcap;
    /* Frame buffers are reused, all of one capacity (the largest frame seen): a malloc and
     * free per frame, with the page faults that follow, cost more than the copy itself. */
    uint8_t *pool[MEMLINK_POOL];
    size_t pool_n, pool_cap;
    /* Offloads each side's stack offers (sk_memlink_set_caps) and where the IPv4 header
     * starts in this link's frames; a buffer for the pieces of a super-segment cut here. */
    struct sk_link_caps caps[2];
    size_t ip_off;
    uint8_t *gso_buf;
    size_t gso_cap;
};

static uint8_t *frame_alloc(struct sk_memlink *l, size_t len, size_t *cap) {
    if (len > l->pool_cap) {
        while (l->pool_n > 0)
            free(l->pool[--l->pool_n]);
        l->pool_cap = len < 2048 ? 2048 : len;
    }
    *cap = l->pool_cap;
    if (l->pool_n > 0)
        return l->pool[--l->pool_n];
    return malloc(l->pool_cap);
}

static void frame_free(struct sk_memlink *l, uint8_t *data, size_t cap) {
    if (cap == l->pool_cap && l->pool_n < MEMLINK_POOL &&
        (l->pool_n + 1) * l->pool_cap <= MEMLINK_POOL_BYTES)
        l->pool[l->pool_n++] = data;
    else
        free(data);
}

static bool side_ok(int side) {
    return side == 0 || side == 1;
}

static sk_time_us time_add(sk_time_us t, uint64_t d) {
    /* Saturate below SK_TIME_NEVER: an arrival is always a real time. */
    if (t >= SK_TIME_NEVER - 1 - d)
        return SK_TIME_NEVER - 1;
    return t + d;
}

static bool heap_push(struct sk_memlink *l, const struct flight *f) {
    if (l->heap_len == l->heap_cap) {
        size_t cap = l->heap_cap ? l->heap_cap * 2 : 64;
        struct flight *h = realloc(l->heap, cap * sizeof(*h));
        if (!h)
            return false;
        l->heap = h;
        l->heap_cap = cap;
    }
    /* Sift up: move parents down until the new frame's place is found. */
    size_t i = l->heap_len++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!flight_before(f, &l->heap[parent]))
            break;
        l->heap[i] = l->heap[parent];
        i = parent;
    }
    l->heap[i] = *f;
    return true;
}

static struct flight heap_pop(struct sk_memlink *l) {
    struct flight top = l->heap[0];
    struct flight last = l->heap[--l->heap_len];
    size_t n = l->heap_len, i = 0;
    /* Sift down: the last element falls from the root to where it belongs. */
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && flight_before(&l->heap[c + 1], &l->heap[c]))
            c++;
        if (!flight_before(&l->heap[c], &last))
            break;
        l->heap[i] = l->heap[c];
        i = c;
    }
    if (n > 0)
        l->heap[i] = last;
    return top;
}

/* ---- public API ---- */

struct sk_memlink *sk_memlink_new(uint64_t seed) {
    struct sk_memlink *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    for (int side = 0; side < 2; side++) {
        /* Distinct, well-mixed streams per direction from one seed. */
        uint64_t x = seed ^ (0x5bd1e9955bd1e995ull * (uint64_t)(side + 1));
        rng_seed(&l->dir[side].rng, splitmix64(&x));
    }
    return l;
}

void sk_memlink_free(struct sk_memlink *l) {
    if (!l)
        return;
    for (size_t i = 0; i < l->heap_len; i++)
        free(l->heap[i].data);
    while (l->pool_n > 0)
        free(l->pool[--l->pool_n]);
    free(l->gso_buf);
    free(l->heap);
    for (int side = 0; side < 2; side++)
        free(l->dir[side].q);
    free(l);
}

void sk_memlink_set_faults(struct sk_memlink *l, int from_side, const struct sk_memlink_faults *f) {
    if (!l || !side_ok(from_side))
        return;
    struct direction *d = &l->dir[from_side];
    if (f)
        d->faults = *f;
    else
        memset(&d->faults, 0, sizeof(d->faults));
}

/* Returns 0, -ENOSPC when 16 rules are set, or -EINVAL for a side other than 0/1 or an
 * unknown action. */
int sk_memlink_add_rule(struct sk_memlink *l, const struct sk_memlink_rule *r) {
    if (!l || !r || !side_ok(r->from_side))
        return -EINVAL;
    if (r->action != SK_MEMLINK_DROP && r->action != SK_MEMLINK_DUP &&
        r->action != SK_MEMLINK_DELAY)
        return -EINVAL;
    if (l->nrules == MEMLINK_MAX_RULES)
        return -ENOSPC;
    l->rules[l->nrules].rule = *r;
    l->rules[l->nrules].matches = 0;
    l->nrules++;
    return 0;
}

void sk_memlink_set_pcap(struct sk_memlink *l, struct sk_pcap *pcap) {
    if (l)
        l->pcap = pcap;
}

/* TCP flags of a bare IPv4 datagram, or -1 if it is not a first-fragment TCP segment with a
 * readable flags byte. Reads nothing beyond len and trusts no length field. */
static int frame_tcp_flags(const uint8_t *p, size_t len) {
    if (len < 20 || (p[0] >> 4) != 4)
        return -1;
    size_t ihl = (size_t)(p[0] & 0x0f) * 4;
    if (ihl < 20 || p[9] != 6)
        return -1;
    /* A non-first fragment carries no TCP header: its first bytes are payload. */
    uint16_t frag_off = (uint16_t)(((p[6] & 0x1f) << 8) | p[7]);
    if (frag_off != 0)
        return -1;
    if (len < ihl + 14)
        return -1;
    return p[ihl + 13];
}

/* What the rules decided for one frame. */
struct rule_verdict {
    bool drop, dup;
    uint64_t extra_delay_us;
};

static struct rule_verdict apply_rules(struct sk_memlink *l, int from_side, const uint8_t *frame,
                                       size_t len) {
    struct rule_verdict v = {0};
    int flags = -2; /* parsed on first need */
    for (size_t i = 0; i < l->nrules; i++) {
        struct rule_slot *rs = &l->rules[i];
        const struct sk_memlink_rule *r = &rs->rule;
        if (r->from_side != from_side)
            continue;
        if (r->tcp_flags_mask != 0) {
            if (flags == -2)
                flags = frame_tcp_flags(frame, len);
            /* Frames that are not TCP only match mask 0. */
            if (flags < 0 || ((uint8_t)flags & r->tcp_flags_mask) != r->tcp_flags_value)
                continue;
        }
        rs->matches++;
        if (r->nth != 0 && rs->matches != r->nth)
            continue;
        l->dir[from_side].stats.rule_hits++;
        switch (r->action) {
        case SK_MEMLINK_DROP: v.drop = true; break;
        case SK_MEMLINK_DUP: v.dup = true; break;
        case SK_MEMLINK_DELAY: v.extra_delay_us += r->delay_us; break;
        }
    }
    return v;
}

/* Loss at the sender: uniform first, then the Gilbert-Elliott chain, which moves once per
 * frame (enter or leave the lossy state) before the frame's fate in that state is drawn. */
static bool lose_at_sender(struct direction *d) {
    const struct sk_memlink_faults *f = &d->faults;
    if (rng_chance(&d->rng, f->loss))
        return true;
    if (d->burst_bad) {
        if (rng_chance(&d->rng, f->burst_exit))
            d->burst_bad = false;
    } else if (rng_chance(&d->rng, f->burst_enter)) {
        d->burst_bad = true;
    }
    return d->burst_bad && rng_chance(&d->rng, f->burst_loss);
}

/* Frees queue space of frames whose last bit has left by now. */
static void queue_drain(struct direction *d, sk_time_us now) {
    while (d->q_count > 0 && d->q[d->q_head].done <= now) {
        d->q_bytes -= d->q[d->q_head].len;
        d->q_head = (d->q_head + 1) % d->q_cap;
        d->q_count--;
    }
}

static bool queue_append(struct direction *d, sk_time_us done, size_t len) {
    if (d->q_count == d->q_cap) {
        /* Grow and unroll the ring so the oldest entry is at index 0. */
        size_t cap = d->q_cap ? d->q_cap * 2 : 32;
        struct queued *q = malloc(cap * sizeof(*q));
        if (!q)
            return false;
        for (size_t i = 0; i < d->q_count; i++)
            q[i] = d->q[(d->q_head + i) % d->q_cap];
        free(d->q);
        d->q = q;
        d->q_cap = cap;
        d->q_head = 0;
    }
    d->q[(d->q_head + d->q_count) % d->q_cap] = (struct queued){done, len};
    d->q_count++;
    d->q_bytes += len;
    return true;
}

/* The rate limiter: returns false on tail drop, else sets *departure to when the frame's last
 * bit has left the sender (serialization: the frame starts when the link is free). */
static bool rate_limit(struct direction *d, size_t len, sk_time_us now, sk_time_us *departure) {
    const struct sk_memlink_faults *f = &d->faults;
    if (f->rate_bps == 0) {
        *departure = now;
        return true;
    }
    uint64_t limit = f->queue_bytes ? f->queue_bytes : MEMLINK_DEFAULT_QUEUE_BYTES;
    queue_drain(d, now);
    if (d->q_bytes + len > limit)
        return false;
    /* len*8 bits at rate_bps, rounded up to whole microseconds so a frame never leaves early.
     * len is at most a few hundred KiB, so len*8e6 fits easily in 64 bits. */
    uint64_t ser_us = ((uint64_t)len * 8u * 1000000u + f->rate_bps - 1) / f->rate_bps;
    sk_time_us start = d->link_free_at > now ? d->link_free_at : now;
    sk_time_us done = time_add(start, ser_us);
    if (!queue_append(d, done, len))
        return false; /* out of memory: behaves as a full queue */
    d->link_free_at = done;
    *departure = done;
    return true;
}

static void corrupt_one_bit(struct rng *r, uint8_t *frame, size_t len) {
    uint64_t bit = rng_below(r, (uint64_t)len * 8);
    frame[bit / 8] ^= (uint8_t)(1u << (bit % 8));
}

/* Propagation time of one copy: delay, plus a fresh uniform jitter in [0, jitter_us]. */
static uint64_t propagation_us(struct direction *d) {
    uint64_t t = d->faults.delay_us;
    if (d->faults.jitter_us > 0)
        t += rng_below(&d->rng, (uint64_t)d->faults.jitter_us + 1);
    return t;
}

/* Queues one copy for arrival. The heap takes ownership of data on success. */
static bool put_in_flight(struct sk_memlink *l, int from_side, uint8_t *data, size_t cap,
                          size_t len, sk_time_us at, const struct sk_frame_meta *meta) {
    struct flight f = {.at = at, .seq = l->next_seq++, .from_side = from_side, .len = len,
                       .data = data, .cap = cap, .meta = *meta};
    return heap_push(l, &f);
}

static void capture(struct sk_memlink *l, sk_time_us now, const uint8_t *frame, size_t len) {
    /* A failed write is remembered by the pcap writer and reported by sk_pcap_close. */
    if (l->pcap)
        (void)sk_pcap_write(l->pcap, now, frame, len);
}

/* What the receiving side is told about a frame that crossed the wire intact: a link that
 * knows nothing altered it vouches for its checksum (SK_FRAME_CSUM_VALID) to a stack that
 * accepts that (caps.rx_csum); a partial checksum stays partial. Another stack gets a
 * finished frame and verifies it. Corruption models a bad wire: the checksum is finished
 * first and nothing is vouched for, so the receiver's own verification must catch it. */
static void finish_for_receiver(struct sk_memlink *l, int from_side, uint8_t *copy, size_t len,
                                bool corrupt, struct sk_frame_meta *m) {
    const struct sk_link_caps *rx = &l->caps[1 - from_side];
    bool vouch = rx->rx_csum && !corrupt;
    if ((m->flags & SK_FRAME_CSUM_PARTIAL) && (!vouch || l->pcap)) {
        (void)sk_csum_complete(copy, len, m); /* a capture shows finished checksums */
        m->flags &= (uint8_t)~SK_FRAME_CSUM_PARTIAL;
    }
    if (vouch)
        m->flags |= SK_FRAME_CSUM_VALID;
    else
        m->flags = 0;
    /* On input, gso_type and gso_size describe a coalesced segment (informational). */
}

static void send_one(struct sk_memlink *l, int from_side, const uint8_t *frame, size_t len,
                     const struct sk_frame_meta *meta, sk_time_us now) {
    struct direction *d = &l->dir[from_side];
    const struct sk_memlink_faults *f = &d->faults;
    d->stats.sent++;

    /* Rules count every frame the side sends, before any random fault, so "the 2nd SYN" means
     * the 2nd SYN the stack emitted whatever else the link does. */
    struct rule_verdict v = apply_rules(l, from_side, frame, len);
    if (v.drop)
        return; /* counted in rule_hits */

    if (f->mtu != 0 && len > f->mtu) {
        d->stats.mtu_drops++;
        return;
    }
    if (lose_at_sender(d)) {
        d->stats.lost++;
        return;
    }
    sk_time_us departure;
    if (!rate_limit(d, len, now, &departure)) {
        d->stats.queue_drops++;
        return;
    }

    size_t copy_cap, dup_cap = 0;
    uint8_t *copy = frame_alloc(l, len, &copy_cap);
    if (!copy) {
        d->stats.queue_drops++; /* out of memory: the frame never makes it onto the wire */
        return;
    }
    if (len > 0)
        memcpy(copy, frame, len);
    struct sk_frame_meta m = *meta;
    bool corrupt = len > 0 && rng_chance(&d->rng, f->corrupt);
    finish_for_receiver(l, from_side, copy, len, corrupt, &m);
    if (corrupt) {
        corrupt_one_bit(&d->rng, copy, len);
        d->stats.corrupted++;
    }
    capture(l, now, copy, len);

    uint64_t hold_us = v.extra_delay_us;
    if (rng_chance(&d->rng, f->reorder)) {
        hold_us += f->reorder_us;
        d->stats.reordered++;
    }
    sk_time_us at = time_add(departure, propagation_us(d) + hold_us);

    /* The duplicate is made in the network, after the bottleneck: it is the same bytes (a
     * corrupted frame is duplicated corrupted), takes no extra serialization, and with jitter
     * draws its own propagation time. Decided before the original is queued, so the original
     * always has the smaller sequence number and arrives first at equal times. */
    bool dup = v.dup || rng_chance(&d->rng, f->dup);
    uint8_t *dup_copy = NULL;
    if (dup) {
        dup_copy = frame_alloc(l, len, &dup_cap);
        if (dup_copy && len > 0)
            memcpy(dup_copy, copy, len);
    }
    if (!put_in_flight(l, from_side, copy, copy_cap, len, at, &m)) {
        frame_free(l, copy, copy_cap);
        if (dup_copy)
            frame_free(l, dup_copy, dup_cap);
        d->stats.queue_drops++;
        return;
    }
    if (dup_copy) {
        capture(l, now, dup_copy, len);
        sk_time_us dup_at = f->jitter_us > 0
                                ? time_add(departure, propagation_us(d) + hold_us)
                                : at;
        if (put_in_flight(l, from_side, dup_copy, dup_cap, len, dup_at, &m))
            d->stats.duplicated++;
        else
            frame_free(l, dup_copy, dup_cap);
    }
}

/* The pieces of a super-segment cut here go onto the wire one by one. */
struct gso_ctx {
    struct sk_memlink *l;
    int from_side;
    sk_time_us now;
};

static void gso_piece(void *ctx, const uint8_t *frame, size_t len) {
    struct gso_ctx *g = ctx;
    static const struct sk_frame_meta complete = {0};
    send_one(g->l, g->from_side, frame, len, &complete, g->now);
}

void sk_memlink_send_meta(struct sk_memlink *l, int from_side, const uint8_t *frame, size_t len,
                          const struct sk_frame_meta *meta, sk_time_us now) {
    static const struct sk_frame_meta complete = {0};
    if (!l || !side_ok(from_side) || (!frame && len > 0))
        return;
    if (meta == NULL)
        meta = &complete;
    /* A super-segment crosses whole (as GRO would hand it over) only to a stack that takes
     * large frames and through a wire with no smaller MTU; otherwise it is cut here, as the
     * sender's NIC would. */
    const struct sk_link_caps *rx = &l->caps[1 - from_side];
    uint16_t mtu = l->dir[from_side].faults.mtu;
    if (meta->gso_type != SK_GSO_NONE && (!rx->rx_large || (mtu != 0 && len > mtu))) {
        size_t need = (size_t)meta->hdr_len + meta->gso_size;
        if (need > l->gso_cap) {
            uint8_t *b = realloc(l->gso_buf, need);
            if (!b) {
                l->dir[from_side].stats.queue_drops++;
                return;
            }
            l->gso_buf = b;
            l->gso_cap = need;
        }
        struct gso_ctx g = {l, from_side, now};
        if (sk_gso_segment(frame, len, meta, l->ip_off, l->gso_buf, l->gso_cap, gso_piece, &g) < 0)
            l->dir[from_side].stats.gso_errors++;
        else
            l->dir[from_side].stats.gso_segmented++;
        return;
    }
    send_one(l, from_side, frame, len, meta, now);
}

void sk_memlink_send(struct sk_memlink *l, int from_side, const uint8_t *frame, size_t len,
                     sk_time_us now) {
    sk_memlink_send_meta(l, from_side, frame, len, NULL, now);
}

void sk_memlink_set_caps(struct sk_memlink *l, int side, const struct sk_link_caps *caps,
                         size_t ip_off) {
    if (!l || !side_ok(side))
        return;
    if (caps)
        l->caps[side] = *caps;
    else
        memset(&l->caps[side], 0, sizeof(l->caps[side]));
    l->ip_off = ip_off;
}

sk_time_us sk_memlink_next_deadline(const struct sk_memlink *l) {
    if (!l || l->heap_len == 0)
        return SK_TIME_NEVER;
    return l->heap[0].at;
}

/* Delivers the frames due at or before now that were already in flight when the call began.
 * A frame the callback sends (a stack answering) is never delivered in the same call, even with
 * zero delay: two stacks answering each other at zero delay would otherwise never return. The
 * caller sees it through sk_memlink_next_deadline. */
/* Delivers with or without the frames' metadata: one of fn, mfn is set. */
static size_t deliver(struct sk_memlink *l, sk_time_us now, sk_memlink_deliver_fn fn,
                      sk_memlink_deliver_meta_fn mfn, void *ctx) {
    if (!l)
        return 0;
    uint64_t seq_limit = l->next_seq;
    size_t n = 0;
    while (l->heap_len > 0 && l->heap[0].at <= now && l->heap[0].seq < seq_limit) {
        /* Pop before calling out: the callback may send, which pushes onto the heap. */
        struct flight f = heap_pop(l);
        l->dir[f.from_side].stats.delivered++;
        if (fn)
            fn(ctx, 1 - f.from_side, f.data, f.len, now);
        else if (mfn)
            mfn(ctx, 1 - f.from_side, f.data, f.len, &f.meta, now);
        frame_free(l, f.data, f.cap);
        n++;
    }
    return n;
}

size_t sk_memlink_deliver(struct sk_memlink *l, sk_time_us now, sk_memlink_deliver_fn fn,
                          void *ctx) {
    return deliver(l, now, fn, NULL, ctx);
}

size_t sk_memlink_deliver_meta(struct sk_memlink *l, sk_time_us now,
                               sk_memlink_deliver_meta_fn fn, void *ctx) {
    return deliver(l, now, NULL, fn, ctx);
}

void sk_memlink_get_stats(const struct sk_memlink *l, int from_side, struct sk_memlink_stats *out) {
    if (!out)
        return;
    if (!l || !side_ok(from_side)) {
        memset(out, 0, sizeof(*out));
        return;
    }
    *out = l->dir[from_side].stats;
}
