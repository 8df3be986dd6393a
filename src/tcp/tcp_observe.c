/* The passive observer (synack/observe.h): RFC 9293's state diagram (§3.3.2) run for both ends
 * of every TCP connection in a capture, and the notes a reader of the capture would make.
 *
 * Model. Each segment is taken to reach its receiver at the moment it is seen. A side's state
 * moves on what it sends (a FIN from ESTABLISHED means FIN-WAIT-1) and on what it receives (an
 * ACK of its FIN moves FIN-WAIT-1 to FIN-WAIT-2). What a side has sent but the capture has not
 * shown yet cannot be known: the inferred state lags the real one until it is seen.
 *
 * Memory. A connection is a struct obs_conn (summary and the few sequence variables of each
 * side, about 330 bytes) and, while either side is not CLOSED, a struct obs_track (about 1.3 KiB:
 * per side, OBS_RANGES ranges of sequence space seen and the OBS_SENDS most recent data
 * segments with their times). The track is freed when both sides are CLOSED (or one CLOSED and
 * the other in TIME-WAIT); the summary stays for sk_observer_conn_info.
 *
 * Untrusted input: every length comes from the wire parsers (src/wire), which never read outside
 * the bytes given; every sequence comparison is modular (RFC 9293 §3.4).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "synack/observe.h"
#include "internal.h"
#include "tcp/tcp_ranges.h"
#include "util/rand.h"
#include "wire/wire.h"

#define OBS_RANGES 16        /* disjoint ranges of one side's sequence space remembered */
#define OBS_SENDS 32         /* recent data segments remembered with their send times */
#define OBS_MAX_CONNS 65536  /* sk_observer_config.max_conns when 0 */
#define OBS_DUPTHRESH 3      /* RFC 5681 §3.2: the third duplicate ACK triggers fast retransmit */
#define OBS_MAX_WSCALE 14    /* RFC 7323 §2.3 */
#define OBS_NO_WSCALE 0xffff /* SK_OBS_OPTIONS's b when window scaling is off */

/* One data segment as sent: [left, right) at time t; retx if it was a retransmission. */
struct obs_send {
    uint32_t left, right;
    sk_time_us t;
    bool retx;
};

/* The per-side tracking freed once the connection is over. */
struct obs_track_side {
    struct sk_range store[OBS_RANGES];
    struct sk_ranges seen; /* data bytes this side has sent, at or above snd_una */
    struct obs_send sends[OBS_SENDS];
    uint8_t nsends, next;  /* ring of the most recent sends */
};
struct obs_track {
    struct obs_track_side s[2];
};

struct obs_side {
    struct sk_addr addr;
    uint16_t port;
    enum sk_tcp_state state;
    bool isn_known, syn_seen, synack_seen;
    uint32_t isn;
    sk_time_us syn_time;
    bool seq_known;          /* snd_una and snd_max hold values */
    uint32_t snd_una;        /* highest ACK the peer sent for this side's sequence space */
    uint32_t snd_max;        /* highest sequence number sent + 1 (SYN and FIN count) */
    bool ack_known;          /* this side has sent an ACK: ack and wnd below */
    uint32_t ack;            /* highest ACK this side sent (its RCV.NXT as far as seen) */
    uint32_t wnd;            /* last window offered, in bytes */
    uint32_t max_wnd;        /* largest window offered, in bytes */
    bool fin_sent, fin_acked, got_fin, fin_ack_sent;
    uint32_t fin_seq;
    sk_time_us fin_time;
    uint8_t opts;            /* options on its SYN */
    uint16_t mss;
    uint8_t wscale;          /* as sent (clamped to 14) */
    uint32_t dupacks;        /* duplicate ACKs this side has sent in the current run */
    uint32_t sacked;         /* bytes its last ACK's SACK blocks cover above its ACK */
    uint32_t sack_high;      /* the highest right edge of those blocks */
    bool zero_wnd;           /* its last window was zero */
    bool keepalive_pending;  /* it sent a keep-alive not answered yet */
    bool challenge_pending;  /* it received what RFC 5961 answers with a challenge ACK */
    uint64_t segments, bytes, retransmits;
};

struct obs_conn {
    struct obs_conn *hnext;  /* hash chain: only the newest connection of a 4-tuple */
    uint64_t id, nseg;
    struct obs_side side[2];
    bool mid_stream, scale_known, scale_on;
    sk_time_us first, last;
    enum sk_obs_end end;
    int8_t reset_by;
    struct obs_track *track; /* NULL once the connection is over */
};

struct sk_observer {
    struct sk_observer_config cfg;
    struct obs_conn **byid;  /* id - 1 -> connection */
    uint64_t nconns, cap_conns;
    struct obs_conn **table; /* hash buckets of the 4-tuple */
    size_t nbuckets;
    uint64_t followed;       /* connections holding a track */
    struct sk_observer_stats stats;
};

/* ---- Memory: the config's allocator or malloc ---- */

static void *obs_realloc(struct sk_observer *o, void *p, size_t old_size, size_t new_size)
{
    if (o->cfg.alloc)
        return o->cfg.alloc(o->cfg.alloc_ctx, p, old_size, new_size);
    if (new_size == 0) {
        free(p);
        return NULL;
    }
    return realloc(p, new_size);
}

static void *obs_alloc(struct sk_observer *o, size_t size)
{
    void *p = obs_realloc(o, NULL, 0, size);
    if (p)
        memset(p, 0, size);
    return p;
}

static void obs_free(struct sk_observer *o, void *p, size_t size)
{
    if (p)
        obs_realloc(o, p, size, 0);
}

/* ---- Names ---- */

static const char *const note_names[SK_OBS_NOTE_COUNT] = {
    [SK_OBS_NOTE_NONE] = "none",
    [SK_OBS_HANDSHAKE_SYN] = "handshake-syn",
    [SK_OBS_HANDSHAKE_SYNACK] = "handshake-synack",
    [SK_OBS_HANDSHAKE_ACK] = "handshake-ack",
    [SK_OBS_SIMULTANEOUS_OPEN] = "simultaneous-open",
    [SK_OBS_SYN_RETRANSMIT] = "syn-retransmit",
    [SK_OBS_SYN_BAD_ACK] = "syn-bad-ack",
    [SK_OBS_OPTIONS] = "options",
    [SK_OBS_RETRANSMIT] = "retransmit",
    [SK_OBS_FAST_RETRANSMIT] = "fast-retransmit",
    [SK_OBS_DUP_ACK] = "dup-ack",
    [SK_OBS_SACK] = "sack",
    [SK_OBS_DSACK] = "dsack",
    [SK_OBS_OUT_OF_ORDER] = "out-of-order",
    [SK_OBS_FILLS_GAP] = "fills-gap",
    [SK_OBS_CAPTURE_MISSED] = "capture-missed",
    [SK_OBS_ACK_UNSEEN] = "ack-unseen",
    [SK_OBS_SPURIOUS_RETRANSMIT] = "spurious-retransmit",
    [SK_OBS_ZERO_WINDOW] = "zero-window",
    [SK_OBS_WINDOW_OPEN] = "window-open",
    [SK_OBS_WINDOW_PROBE] = "window-probe",
    [SK_OBS_WINDOW_FULL] = "window-full",
    [SK_OBS_WINDOW_UPDATE] = "window-update",
    [SK_OBS_KEEPALIVE] = "keepalive",
    [SK_OBS_KEEPALIVE_ACK] = "keepalive-ack",
    [SK_OBS_FIN] = "fin",
    [SK_OBS_HALF_CLOSE] = "half-close",
    [SK_OBS_FIN_ACKED] = "fin-acked",
    [SK_OBS_SIMULTANEOUS_CLOSE] = "simultaneous-close",
    [SK_OBS_TIME_WAIT] = "time-wait",
    [SK_OBS_FIN_RETRANSMIT] = "fin-retransmit",
    [SK_OBS_RST_REFUSED] = "rst-refused",
    [SK_OBS_RST_ABORT] = "rst-abort",
    [SK_OBS_RST_NO_CONNECTION] = "rst-no-connection",
    [SK_OBS_RST_IGNORED] = "rst-ignored",
    [SK_OBS_RST_SYN_SENT] = "rst-syn-sent",
    [SK_OBS_CHALLENGE_ACK] = "challenge-ack",
    [SK_OBS_MID_STREAM] = "mid-stream",
    [SK_OBS_SNAPLEN_CUT] = "snaplen-cut",
    [SK_OBS_AFTER_CLOSE] = "after-close",
};

const char *sk_obs_note_name(enum sk_obs_note_kind k)
{
    if ((unsigned)k >= SK_OBS_NOTE_COUNT || !note_names[k])
        return "unknown";
    return note_names[k];
}

const char *sk_obs_end_name(enum sk_obs_end e)
{
    switch (e) {
    case SK_OBS_END_OPEN: return "open";
    case SK_OBS_END_HANDSHAKE: return "handshake";
    case SK_OBS_END_REFUSED: return "refused";
    case SK_OBS_END_CLOSED: return "closed";
    case SK_OBS_END_HALF_CLOSED: return "half-closed";
    case SK_OBS_END_RESET: return "reset";
    }
    return "unknown";
}

/* ---- The observer ---- */

struct sk_observer *sk_observer_new(const struct sk_observer_config *cfg)
{
    struct sk_observer_config c = {0};
    if (cfg)
        c = *cfg;
    if (c.max_conns == 0)
        c.max_conns = OBS_MAX_CONNS;
    struct sk_observer tmp = {.cfg = c};
    struct sk_observer *o = obs_alloc(&tmp, sizeof(*o));
    if (!o)
        return NULL;
    o->cfg = c;
    return o;
}

void sk_observer_free(struct sk_observer *o)
{
    if (!o)
        return;
    for (uint64_t i = 0; i < o->nconns; i++) {
        obs_free(o, o->byid[i]->track, sizeof(struct obs_track));
        obs_free(o, o->byid[i], sizeof(struct obs_conn));
    }
    obs_free(o, o->byid, (size_t)o->cap_conns * sizeof(o->byid[0]));
    obs_free(o, o->table, o->nbuckets * sizeof(o->table[0]));
    obs_free(o, o, sizeof(*o));
}

uint64_t sk_observer_conn_count(const struct sk_observer *o)
{
    return o->nconns;
}

void sk_observer_get_stats(const struct sk_observer *o, struct sk_observer_stats *out)
{
    *out = o->stats;
    out->conns = o->nconns;
}

static bool side_closed(const struct obs_side *s)
{
    return s->state == SK_TCP_CLOSED || s->state == SK_TCP_TIME_WAIT;
}

static bool conn_over(const struct obs_conn *c)
{
    return side_closed(&c->side[0]) && side_closed(&c->side[1]);
}

static enum sk_obs_end conn_end(const struct obs_conn *c)
{
    if (c->end == SK_OBS_END_RESET || c->end == SK_OBS_END_REFUSED)
        return c->end;
    const struct obs_side *a = &c->side[0], *b = &c->side[1];
    if (a->fin_sent && b->fin_sent && a->fin_acked && b->fin_acked)
        return SK_OBS_END_CLOSED;
    if (a->fin_sent || b->fin_sent)
        return a->fin_sent && b->fin_sent ? SK_OBS_END_CLOSED : SK_OBS_END_HALF_CLOSED;
    if (a->state == SK_TCP_SYN_SENT || a->state == SK_TCP_SYN_RECEIVED ||
        b->state == SK_TCP_SYN_SENT || b->state == SK_TCP_SYN_RECEIVED)
        return SK_OBS_END_HANDSHAKE;
    return SK_OBS_END_OPEN;
}

int sk_observer_conn_info(const struct sk_observer *o, uint64_t id, struct sk_obs_conn_info *out)
{
    if (id == 0 || id > o->nconns)
        return -ENOENT;
    const struct obs_conn *c = o->byid[id - 1];
    memset(out, 0, sizeof(*out));
    out->id = c->id;
    out->mid_stream = c->mid_stream;
    out->first = c->first;
    out->last = c->last;
    for (int i = 0; i < 2; i++) {
        const struct obs_side *s = &c->side[i];
        out->addr[i] = s->addr;
        out->port[i] = s->port;
        out->segments[i] = s->segments;
        out->bytes[i] = s->bytes;
        out->retransmits[i] = s->retransmits;
        out->isn[i] = s->isn;
        out->isn_known[i] = s->isn_known;
        out->mss[i] = (s->opts & SK_OPT_MSS) ? s->mss : 0;
        out->wscale[i] = c->scale_on ? (int8_t)s->wscale : -1;
        out->state[i] = s->state;
    }
    out->sack_ok = (c->side[0].opts & c->side[1].opts & SK_OPT_SACK_PERM) != 0;
    out->ts_ok = (c->side[0].opts & c->side[1].opts & SK_OPT_TIMESTAMP) != 0;
    out->end = conn_end(c);
    out->reset_by = c->end == SK_OBS_END_RESET ? c->reset_by : -1;
    return 0;
}

/* ---- The connection table: 4-tuple -> newest connection, both directions alike ---- */

struct obs_tuple {
    struct sk_addr src, dst;
    uint16_t sport, dport;
};

/* The same hash for both directions: the two endpoints in a fixed order. The key is fixed
 * (the observer has no randomness): a capture crafted to collide only slows its own reading. */
static uint64_t tuple_hash(const struct obs_tuple *t)
{
    uint8_t k[36];
    uint8_t a[18], b[18];
    memcpy(a, t->src.b, 16);
    sk_put16(a + 16, t->sport);
    memcpy(b, t->dst.b, 16);
    sk_put16(b + 16, t->dport);
    bool swap = memcmp(a, b, sizeof(a)) > 0;
    memcpy(k, swap ? b : a, 18);
    memcpy(k + 18, swap ? a : b, 18);
    return sk_siphash(0x73796e61636b6f62ull, 0x7365727665722121ull, k, sizeof(k));
}

static bool ends_eq(const struct obs_side *s, const struct sk_addr *a, uint16_t port)
{
    return s->port == port && sk_addr_eq(&s->addr, a);
}

/* The connection of t and the side that sent it, or NULL. */
static struct obs_conn *table_find(const struct sk_observer *o, const struct obs_tuple *t,
                                   uint64_t h, uint8_t *from)
{
    if (!o->nbuckets)
        return NULL;
    for (struct obs_conn *c = o->table[h & (o->nbuckets - 1)]; c; c = c->hnext) {
        for (uint8_t i = 0; i < 2; i++) {
            if (ends_eq(&c->side[i], &t->src, t->sport) &&
                ends_eq(&c->side[!i], &t->dst, t->dport)) {
                *from = i;
                return c;
            }
        }
    }
    return NULL;
}

static uint64_t conn_hash(const struct obs_conn *c)
{
    struct obs_tuple t = {c->side[0].addr, c->side[1].addr, c->side[0].port, c->side[1].port};
    return tuple_hash(&t);
}

/* Doubles the buckets when the chains grow past one on average; a refusal keeps the old
 * table (longer chains, still correct). */
static void table_grow(struct sk_observer *o)
{
    size_t n = o->nbuckets ? o->nbuckets * 2 : 64;
    struct obs_conn **t = obs_alloc(o, n * sizeof(*t));
    if (!t)
        return;
    for (size_t i = 0; i < o->nbuckets; i++) {
        struct obs_conn *c = o->table[i], *next;
        for (; c; c = next) {
            next = c->hnext;
            size_t b = conn_hash(c) & (n - 1);
            c->hnext = t[b];
            t[b] = c;
        }
    }
    obs_free(o, o->table, o->nbuckets * sizeof(o->table[0]));
    o->table = t;
    o->nbuckets = n;
}

static void table_remove(struct sk_observer *o, struct obs_conn *c, uint64_t h)
{
    struct obs_conn **pp = &o->table[h & (o->nbuckets - 1)];
    for (; *pp; pp = &(*pp)->hnext) {
        if (*pp == c) {
            *pp = c->hnext;
            c->hnext = NULL;
            return;
        }
    }
}

static void release_track(struct sk_observer *o, struct obs_conn *c)
{
    if (!c->track)
        return;
    obs_free(o, c->track, sizeof(*c->track));
    c->track = NULL;
    o->followed--;
}

/* A new connection with t's sender as side 0; NULL (counted) when out of memory or over
 * max_conns. */
static struct obs_conn *conn_new(struct sk_observer *o, const struct obs_tuple *t, uint64_t h,
                                 enum sk_obs_result *res)
{
    if (o->followed >= o->cfg.max_conns) {
        o->stats.conn_limit++;
        *res = SK_OBS_LIMIT;
        return NULL;
    }
    *res = SK_OBS_NO_MEMORY;
    if (o->nconns == o->cap_conns) {
        uint64_t n = o->cap_conns ? o->cap_conns * 2 : 16;
        if (n > SIZE_MAX / sizeof(o->byid[0]))
            goto nomem;
        struct obs_conn **b = obs_realloc(o, o->byid, (size_t)o->cap_conns * sizeof(*b),
                                          (size_t)n * sizeof(*b));
        if (!b)
            goto nomem;
        o->byid = b;
        o->cap_conns = n;
    }
    struct obs_conn *c = obs_alloc(o, sizeof(*c));
    if (!c)
        goto nomem;
    c->track = obs_alloc(o, sizeof(*c->track));
    if (!c->track) {
        obs_free(o, c, sizeof(*c));
        goto nomem;
    }
    for (int i = 0; i < 2; i++)
        sk_ranges_init(&c->track->s[i].seen, c->track->s[i].store, OBS_RANGES, NULL);
    c->side[0].addr = t->src;
    c->side[0].port = t->sport;
    c->side[1].addr = t->dst;
    c->side[1].port = t->dport;
    c->reset_by = -1;
    c->id = ++o->nconns;
    o->byid[c->id - 1] = c;
    o->followed++;
    if (o->nconns > o->nbuckets)
        table_grow(o);
    if (o->nbuckets) {
        size_t b = h & (o->nbuckets - 1);
        c->hnext = o->table[b];
        o->table[b] = c;
    }
    return c;
nomem:
    o->stats.no_memory++;
    return NULL;
}

/* ---- Per-segment analysis ---- */

/* What one segment is, as parsed. */
struct obs_in {
    sk_time_us t;
    struct obs_tuple tup;
    bool v4;
    uint32_t saddr4, daddr4;
    struct sk_tcp_hdr th;
    uint32_t len;            /* payload bytes on the wire */
    uint32_t captured;       /* of them, in the capture */
};

/* The analysis of one segment in progress. */
struct obs_ctx {
    struct sk_observer *o;
    struct obs_conn *c;
    const struct obs_in *in;
    struct sk_obs_segment s;
    struct obs_side *snd, *rcv;
    struct obs_track_side *ts, *tr; /* the tracks of snd and rcv, NULL when released */
    uint8_t flags;
};

static void note(struct obs_ctx *x, enum sk_obs_note_kind k, uint64_t a, uint64_t b)
{
    if (x->s.nnotes >= SK_OBS_MAX_NOTES)
        return;
    x->s.notes[x->s.nnotes++] = (struct sk_obs_note){k, a, b};
}

static uint32_t seg_end(const struct obs_ctx *x)
{
    const struct sk_tcp_hdr *th = &x->in->th;
    return th->seq + x->in->len + ((th->flags & SK_TCP_SYN) ? 1u : 0u) +
           ((th->flags & SK_TCP_FIN) ? 1u : 0u);
}

/* Raises a side's highest sequence number sent. */
static void advance_max(struct obs_side *s, uint32_t end)
{
    if (!s->seq_known) {
        s->seq_known = true;
        s->snd_una = end;
        s->snd_max = end;
    } else if (seq_gt(end, s->snd_max)) {
        s->snd_max = end;
    }
}

/* RFC 7323 §2.2-2.3: scaling applies once both SYNs carried the option, never to a SYN. */
static uint32_t wnd_bytes(const struct obs_conn *c, const struct obs_side *s, uint8_t flags,
                          uint16_t wnd)
{
    if ((flags & SK_TCP_SYN) || !c->scale_on)
        return wnd;
    return (uint32_t)wnd << s->wscale;
}

/* The options both SYNs agreed on (RFC 7323 §1.3, §2.2; RFC 2018 §2; RFC 9293 §3.7.1). */
static void options_agreed(struct obs_ctx *x)
{
    struct obs_conn *c = x->c;
    uint8_t both = c->side[0].opts & c->side[1].opts;
    c->scale_known = true;
    c->scale_on = (both & SK_OPT_WSCALE) != 0;
    uint64_t b = c->scale_on ? ((uint64_t)c->side[0].wscale << 8 | c->side[1].wscale)
                             : OBS_NO_WSCALE;
    note(x, SK_OBS_OPTIONS, both & (SK_OPT_MSS | SK_OPT_WSCALE | SK_OPT_SACK_PERM |
                                    SK_OPT_TIMESTAMP), b);
}

static void take_syn_options(struct obs_side *s, const struct sk_tcp_opts *op)
{
    s->opts = op->present & (SK_OPT_MSS | SK_OPT_WSCALE | SK_OPT_SACK_PERM | SK_OPT_TIMESTAMP);
    s->mss = op->mss;
    s->wscale = op->wscale > OBS_MAX_WSCALE ? OBS_MAX_WSCALE : op->wscale;
}

/* A SYN sent again: same ISN. SYN|ACK and SYN alike (RFC 9293 §3.8.1, RFC 6298 §5). */
static bool syn_again(struct obs_ctx *x)
{
    struct obs_side *s = x->snd;
    bool synack = (x->flags & SK_TCP_ACK) != 0;
    if (!s->syn_seen || s->isn != x->in->th.seq || (synack && !s->synack_seen))
        return false;
    note(x, SK_OBS_SYN_RETRANSMIT, (uint64_t)(x->in->t - s->syn_time), 0);
    s->retransmits++;
    return true;
}

/* A SYN without ACK (RFC 9293 §3.5, §3.10.7.2, §3.10.7.3). */
static void on_syn(struct obs_ctx *x)
{
    struct obs_side *s = x->snd, *r = x->rcv;
    uint32_t seq = x->in->th.seq;
    if (syn_again(x))
        return;
    if (s->syn_seen || (s->state != SK_TCP_CLOSED && s->state != SK_TCP_LISTEN &&
                        s->state != SK_TCP_SYN_RECEIVED)) {
        /* RFC 5961 §4: a SYN in a synchronized state is answered with a challenge ACK. */
        r->challenge_pending = true;
        return;
    }
    s->syn_seen = true;
    s->isn_known = true;
    s->isn = seq;
    s->syn_time = x->in->t;
    s->seq_known = false;
    advance_max(s, seq + 1);
    s->snd_una = seq;
    take_syn_options(s, &x->in->th.opts);
    if (r->syn_seen && r->state == SK_TCP_SYN_SENT) {
        /* §3.5 Figure 8: the SYNs crossed; each side, SYN-SENT, receives a SYN. */
        note(x, SK_OBS_SIMULTANEOUS_OPEN, seq, 0);
        s->state = SK_TCP_SYN_RECEIVED;
        r->state = SK_TCP_SYN_RECEIVED;
        return;
    }
    note(x, SK_OBS_HANDSHAKE_SYN, seq, 0);
    s->state = SK_TCP_SYN_SENT;
    r->state = SK_TCP_SYN_RECEIVED; /* from LISTEN, §3.10.7.2 */
}

/* A SYN|ACK (RFC 9293 §3.5 Figure 6 line 3; §3.10.7.3). */
static void on_synack(struct obs_ctx *x)
{
    struct obs_side *s = x->snd, *r = x->rcv;
    const struct sk_tcp_hdr *th = &x->in->th;
    if (syn_again(x))
        return;
    if (s->synack_seen || (s->syn_seen && s->isn != th->seq)) {
        r->challenge_pending = true;
        return;
    }
    if (r->isn_known && th->ack != r->isn + 1) {
        /* §3.10.7.3: an unacceptable ACK in SYN-SENT: the opener answers with a RST. */
        note(x, SK_OBS_SYN_BAD_ACK, (uint64_t)r->isn + 1, th->ack);
        return;
    }
    bool crossed = s->syn_seen; /* simultaneous open: its SYN came first */
    s->syn_seen = s->synack_seen = true;
    s->isn_known = true;
    s->isn = th->seq;
    s->syn_time = x->in->t;
    s->seq_known = false;
    advance_max(s, th->seq + 1);
    s->snd_una = th->seq;
    if (!crossed)
        take_syn_options(s, &th->opts);
    if (!r->isn_known) { /* the SYN was not seen: its ISN is the ACK - 1 */
        r->isn_known = r->syn_seen = true;
        r->isn = th->ack - 1;
        advance_max(r, th->ack);
        r->snd_una = th->ack - 1;
    }
    note(x, SK_OBS_HANDSHAKE_SYNACK, th->seq, 0);
    if (s->state != SK_TCP_ESTABLISHED) /* crossed: it may have had the other's already */
        s->state = SK_TCP_SYN_RECEIVED;
    /* §3.10.7.3 (SYN-SENT) and §3.10.7.4 (SYN-RECEIVED, simultaneous open): our SYN is
     * acknowledged. */
    r->state = SK_TCP_ESTABLISHED;
    if (!x->c->scale_known)
        options_agreed(x);
}

/* ---- Acknowledgements, windows, SACK ---- */

/* The peer's FIN reaches r (RFC 9293 §3.10.7.4, eighth step: check the FIN bit). */
static void fin_arrives(struct obs_side *r)
{
    if (r->got_fin)
        return;
    r->got_fin = true;
    switch (r->state) {
    case SK_TCP_SYN_RECEIVED:
    case SK_TCP_ESTABLISHED:
        r->state = SK_TCP_CLOSE_WAIT;
        break;
    case SK_TCP_FIN_WAIT_1: /* its own FIN not acknowledged yet: both FINs crossed */
        r->state = SK_TCP_CLOSING;
        break;
    case SK_TCP_FIN_WAIT_2:
        r->state = SK_TCP_TIME_WAIT;
        break;
    default:
        break;
    }
}

/* The newest remembered send overlapping [left, right), or NULL. */
static const struct obs_send *last_send(const struct obs_track_side *t, uint32_t left,
                                        uint32_t right)
{
    for (uint8_t k = 0; k < t->nsends; k++) {
        const struct obs_send *e = &t->sends[(t->next + OBS_SENDS - 1 - k) % OBS_SENDS];
        if (seq_lt(e->left, right) && seq_lt(left, e->right))
            return e;
    }
    return NULL;
}

/* RFC 2018 §4, RFC 2883 §4: the blocks, and whether the first reports a duplicate. */
static void on_sack(struct obs_ctx *x)
{
    const struct sk_tcp_opts *op = &x->in->th.opts;
    struct obs_side *s = x->snd;
    uint32_t ack = x->in->th.ack;
    s->sacked = 0;
    s->sack_high = ack;
    if (!(op->present & SK_OPT_SACK) || op->nsack == 0)
        return;
    note(x, SK_OBS_SACK, op->nsack, 0);
    for (uint8_t i = 0; i < op->nsack; i++) {
        uint32_t l = op->sack[i].left, r = op->sack[i].right;
        if (!seq_lt(l, r) || !seq_gt(r, ack))
            continue;
        if (seq_lt(l, ack))
            l = ack;
        s->sacked += r - l;
        if (seq_gt(r, s->sack_high))
            s->sack_high = r;
    }
    /* RFC 2883 §4: a first block below the cumulative ACK, or inside the second block. */
    uint32_t l0 = op->sack[0].left, r0 = op->sack[0].right;
    bool dsack = seq_lt(l0, ack) ||
                 (op->nsack >= 2 && seq_ge(l0, op->sack[1].left) &&
                  seq_le(r0, op->sack[1].right));
    if (!dsack)
        return;
    note(x, SK_OBS_DSACK, l0, r0);
    /* RFC 3708 §2 (D-SACK based detection): the duplicate is of our retransmission. */
    const struct obs_send *e = x->tr ? last_send(x->tr, l0, r0) : NULL;
    if (e && e->retx)
        note(x, SK_OBS_SPURIOUS_RETRANSMIT, l0, r0);
}

/* An ACK that reaches beyond what the acknowledged side was seen to send. */
static void ack_beyond(struct obs_ctx *x, uint32_t ack)
{
    struct obs_side *s = x->snd, *r = x->rcv;
    uint32_t over = ack - r->snd_max;
    /* Nothing unseen fits past a FIN, nor more than the acknowledging side's window. */
    uint32_t limit = x->c->scale_known ? (s->max_wnd > 65535 ? s->max_wnd : 65535) : 1u << 30;
    if (r->fin_sent || over > limit) {
        note(x, SK_OBS_ACK_UNSEEN, over, 0);
        return;
    }
    note(x, SK_OBS_CAPTURE_MISSED, over, 0);
    r->bytes += over;
    if (x->tr) {
        while (sk_ranges_add(&x->tr->seen, r->snd_max, ack, NULL) == -ENOSPC)
            sk_ranges_add(&x->tr->seen, x->tr->seen.r[0].right, x->tr->seen.r[1].left, NULL);
    }
    r->snd_max = ack;
}

/* RFC 5681 §2: "duplicate acknowledgment" (a)-(e). A closed window's answers to probes and
 * the answers to keep-alives and to RFC 5961 are not reports of loss. */
static bool is_dup_ack(const struct obs_ctx *x, bool pure, uint32_t wnd)
{
    const struct obs_side *s = x->snd, *r = x->rcv;
    return pure && s->ack_known && x->in->th.ack == s->ack && wnd == s->wnd && wnd != 0 &&
           r->seq_known && seq_lt(r->snd_una, r->snd_max) &&
           !(r->fin_sent && r->snd_max - r->snd_una == 1) && !r->keepalive_pending;
}

/* The acknowledgement and window of a segment with ACK (RFC 9293 §3.10.7.4, fifth step). */
static void on_ack(struct obs_ctx *x)
{
    struct obs_side *s = x->snd, *r = x->rcv;
    uint32_t ack = x->in->th.ack, wnd = x->s.wnd_bytes;
    bool pure = x->in->len == 0 && !(x->flags & (SK_TCP_SYN | SK_TCP_FIN));
    if (!r->seq_known) { /* mid-stream: the first we learn of the peer's sequence space */
        r->seq_known = true;
        r->snd_una = r->snd_max = ack;
    } else if (seq_gt(ack, r->snd_max)) {
        ack_beyond(x, ack);
    }
    if (pure && r->keepalive_pending && seq_ge(ack, r->snd_max - 1)) {
        note(x, SK_OBS_KEEPALIVE_ACK, 0, 0);
        r->keepalive_pending = false;
    } else if (pure && s->challenge_pending) {
        note(x, SK_OBS_CHALLENGE_ACK, 0, 0);
        s->challenge_pending = false;
    } else if (is_dup_ack(x, pure, wnd)) {
        s->dupacks++;
        note(x, SK_OBS_DUP_ACK, s->dupacks, 0);
    } else if (!s->ack_known || seq_gt(ack, s->ack)) {
        s->dupacks = 0;
    }
    if (seq_gt(ack, r->snd_una) && seq_le(ack, r->snd_max)) {
        r->snd_una = ack;
        r->keepalive_pending = false;
        if (x->tr)
            sk_ranges_remove_below(&x->tr->seen, ack);
    }
    if (!(x->flags & SK_TCP_SYN))
        on_sack(x);
    /* §3.10.7.4 SYN-RECEIVED: an ACK of our SYN|ACK moves it to ESTABLISHED. */
    if (r->state == SK_TCP_SYN_RECEIVED && r->synack_seen && seq_gt(ack, r->isn) &&
        !(x->flags & SK_TCP_SYN)) {
        r->state = SK_TCP_ESTABLISHED;
        note(x, SK_OBS_HANDSHAKE_ACK, 0, 0);
    }
    /* §3.10.7.4 FIN-WAIT-1, CLOSING, LAST-ACK: an ACK of our FIN. Acknowledging it proves the
     * FIN arrived, even where the capture shows a gap before it. */
    if (r->fin_sent && !r->fin_acked && seq_ge(ack, r->fin_seq + 1)) {
        r->fin_acked = true;
        fin_arrives(s);
        note(x, SK_OBS_FIN_ACKED, 0, 0);
        if (r->state == SK_TCP_FIN_WAIT_1)
            r->state = SK_TCP_FIN_WAIT_2;
        else if (r->state == SK_TCP_CLOSING)
            r->state = SK_TCP_TIME_WAIT;
        else if (r->state == SK_TCP_LAST_ACK)
            r->state = SK_TCP_CLOSED;
    }
    if (r->fin_sent && !s->fin_ack_sent && seq_ge(ack, r->fin_seq + 1)) {
        s->fin_ack_sent = true;
        if (s->state == SK_TCP_TIME_WAIT)
            note(x, SK_OBS_TIME_WAIT, 0, 0);
    }
    /* RFC 9293 §3.8.6, §3.8.6.1: the window. */
    if (wnd == 0)
        note(x, SK_OBS_ZERO_WINDOW, 0, 0);
    else if (s->zero_wnd)
        note(x, SK_OBS_WINDOW_OPEN, wnd, 0);
    else if (pure && s->ack_known && ack == s->ack && wnd != s->wnd)
        note(x, SK_OBS_WINDOW_UPDATE, wnd, 0);
    s->zero_wnd = wnd == 0;
    if (!s->ack_known || seq_ge(ack, s->ack))
        s->ack = ack;
    s->ack_known = true;
    s->wnd = wnd;
    if (wnd > s->max_wnd)
        s->max_wnd = wnd;
}

/* ---- Data ---- */

/* Keep-alive (RFC 9293 §3.8.4): SND.NXT - 1 with 0 or 1 byte, nothing outstanding. Against a
 * zero window the same segment is a window probe (§3.8.6.1; Linux probes so). */
static bool keepalive_or_probe(struct obs_ctx *x, uint32_t seq)
{
    struct obs_side *s = x->snd, *r = x->rcv;
    uint32_t len = x->in->len;
    if ((x->flags & (SK_TCP_SYN | SK_TCP_FIN | SK_TCP_RST)) || len > 1 || !s->seq_known)
        return false;
    if (r->ack_known && r->wnd == 0 && (seq == s->snd_una - 1 || seq == r->ack) &&
        s->state >= SK_TCP_ESTABLISHED) {
        note(x, SK_OBS_WINDOW_PROBE, len, 0);
        return true;
    }
    if (seq == s->snd_max - 1 && s->snd_una == s->snd_max && s->state >= SK_TCP_ESTABLISHED &&
        !s->fin_sent) {
        note(x, SK_OBS_KEEPALIVE, len, 0);
        s->keepalive_pending = true;
        return true;
    }
    return false;
}

/* Remembers [left, right) as seen; when the set is full, the lowest hole is taken as filled
 * (its late arrival then reads as a retransmission: a documented limit). */
static void seen_add(struct obs_track_side *t, uint32_t left, uint32_t right)
{
    while (sk_ranges_add(&t->seen, left, right, NULL) == -ENOSPC)
        sk_ranges_add(&t->seen, t->seen.r[0].right, t->seen.r[1].left, NULL);
}

static void remember_send(struct obs_track_side *t, uint32_t left, uint32_t right,
                          sk_time_us when, bool retx)
{
    t->sends[t->next] = (struct obs_send){left, right, when, retx};
    t->next = (uint8_t)((t->next + 1) % OBS_SENDS);
    if (t->nsends < OBS_SENDS)
        t->nsends++;
}

/* A retransmission (RFC 9293 §3.8.1; RFC 5681 §3.2 fast retransmit after three duplicate
 * ACKs, or RFC 6675 §5 loss shown by SACK blocks above it). */
static void retransmitted(struct obs_ctx *x, uint32_t seq, uint32_t end, uint32_t again)
{
    struct obs_side *s = x->snd, *r = x->rcv;
    const struct obs_send *e = x->ts ? last_send(x->ts, seq, end) : NULL;
    uint64_t since = e ? (uint64_t)(x->in->t - e->t) : 0;
    uint32_t smss = (s->opts & SK_OPT_MSS) && r->mss ? r->mss : 536; /* RFC 9293 §3.7.1 */
    bool sack_loss = r->sacked > (OBS_DUPTHRESH - 1) * smss && seq_lt(seq, r->sack_high);
    if (r->dupacks >= OBS_DUPTHRESH || sack_loss)
        note(x, SK_OBS_FAST_RETRANSMIT, since, r->dupacks);
    else
        note(x, SK_OBS_RETRANSMIT, since, again);
    s->retransmits++;
}

static void on_data(struct obs_ctx *x)
{
    struct obs_side *s = x->snd, *r = x->rcv;
    uint32_t seq = x->in->th.seq + ((x->flags & SK_TCP_SYN) ? 1u : 0u);
    uint32_t len = x->in->len, end = seq + len;
    if (keepalive_or_probe(x, seq) || len == 0)
        return;
    uint32_t again = 0, from = seq;
    if (seq_lt(seq, s->snd_una)) { /* acknowledged already: sent before */
        from = seq_lt(end, s->snd_una) ? end : s->snd_una;
        again = from - seq;
    }
    if (x->ts)
        again += sk_ranges_covered(&x->ts->seen, from, end);
    if (again)
        retransmitted(x, seq, end, again);
    else if (seq_gt(seq, s->snd_max))
        note(x, SK_OBS_OUT_OF_ORDER, seq - s->snd_max, 0);
    else if (seq_lt(seq, s->snd_max))
        note(x, SK_OBS_FILLS_GAP, len, 0);
    s->bytes += len - again;
    if (r->fin_sent)
        note(x, SK_OBS_HALF_CLOSE, len, 0);
    if (r->ack_known && r->wnd && end == r->ack + r->wnd)
        note(x, SK_OBS_WINDOW_FULL, 0, 0);
    if (x->ts) {
        if (seq_lt(from, end))
            seen_add(x->ts, from, end);
        remember_send(x->ts, seq, end, x->in->t, again != 0);
    }
}

/* ---- Closing and resets ---- */

/* The FIN reaches the receiver once every byte before it has (RFC 9293 §3.10.7.4: a FIN is
 * processed in sequence); a gap the capture shows holds it back. */
static void fin_try(struct obs_ctx *x)
{
    struct obs_side *s = x->snd;
    if (!s->fin_sent || x->rcv->got_fin)
        return;
    uint32_t base = s->snd_una, gl, gr;
    if (s->isn_known && seq_lt(base, s->isn + 1))
        base = s->isn + 1;
    if (x->ts && sk_ranges_next_gap(&x->ts->seen, base, s->fin_seq, &gl, &gr))
        return;
    fin_arrives(x->rcv);
}

static void on_fin(struct obs_ctx *x)
{
    struct obs_side *s = x->snd, *r = x->rcv;
    const struct sk_tcp_hdr *th = &x->in->th;
    uint32_t fseq = th->seq + x->in->len + ((x->flags & SK_TCP_SYN) ? 1u : 0u);
    if (s->fin_sent) {
        if (fseq == s->fin_seq) {
            note(x, SK_OBS_FIN_RETRANSMIT, (uint64_t)(x->in->t - s->fin_time), 0);
            if (x->in->len == 0)
                s->retransmits++;
        }
        return;
    }
    s->fin_sent = true;
    s->fin_seq = fseq;
    s->fin_time = x->in->t;
    note(x, SK_OBS_FIN, s->bytes, 0);
    /* §3.6 Figure 13: its FIN does not acknowledge the peer's, so it left before that one
     * arrived: it went to FIN-WAIT-1 and then, receiving the peer's FIN, to CLOSING. */
    bool crossed = r->fin_sent &&
                   !((x->flags & SK_TCP_ACK) && seq_ge(th->ack, r->fin_seq + 1));
    if (crossed)
        note(x, SK_OBS_SIMULTANEOUS_CLOSE, 0, 0);
    switch (s->state) {
    case SK_TCP_SYN_RECEIVED:
    case SK_TCP_ESTABLISHED:
        s->state = SK_TCP_FIN_WAIT_1; /* §3.10.4 CLOSE */
        break;
    case SK_TCP_CLOSE_WAIT:
        s->state = crossed ? SK_TCP_CLOSING : SK_TCP_LAST_ACK;
        break;
    default:
        break;
    }
}

/* RST (RFC 9293 §3.5.2, §3.10.7; RFC 5961 §3). */
static void on_rst(struct obs_ctx *x)
{
    struct obs_side *s = x->snd, *r = x->rcv;
    const struct sk_tcp_hdr *th = &x->in->th;
    struct obs_conn *c = x->c;
    if (r->state == SK_TCP_SYN_SENT && !s->syn_seen) {
        /* §3.10.7.3: acceptable in SYN-SENT only if it acknowledges the SYN; then nobody
         * was listening (§3.10.7.1: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>). */
        if ((x->flags & SK_TCP_ACK) && th->ack == r->isn + 1) {
            note(x, SK_OBS_RST_REFUSED, 0, 0);
            s->state = r->state = SK_TCP_CLOSED;
            c->end = SK_OBS_END_REFUSED;
        } else {
            note(x, SK_OBS_RST_IGNORED, 0, 0);
        }
        return;
    }
    enum sk_obs_note_kind why = SK_OBS_RST_ABORT;
    if (s->state == SK_TCP_SYN_SENT) {
        why = SK_OBS_RST_SYN_SENT;
    } else if (s->state == SK_TCP_CLOSED || s->state == SK_TCP_LISTEN) {
        why = SK_OBS_RST_NO_CONNECTION;
    } else if (r->ack_known && r->state != SK_TCP_SYN_SENT) {
        /* RFC 5961 §3.2: exactly RCV.NXT resets; elsewhere in the window it is answered with
         * a challenge ACK; outside it, dropped. RCV.NXT is the receiver's last ACK or, as
         * everything seen is taken as delivered, the end of what the sender sent. */
        bool exact = th->seq == r->ack || (s->seq_known && th->seq == s->snd_max);
        if (!exact) {
            if (seq_ge(th->seq, r->ack) && seq_lt(th->seq, r->ack + (r->wnd ? r->wnd : 1)))
                r->challenge_pending = true;
            note(x, SK_OBS_RST_IGNORED, 0, 0);
            return;
        }
    }
    note(x, why, 0, 0);
    s->state = r->state = SK_TCP_CLOSED;
    c->end = SK_OBS_END_RESET;
    c->reset_by = (int8_t)(s == &c->side[0] ? 0 : 1);
}

/* ---- One segment ---- */

/* A SYN without ACK opens a new connection on a tuple whose last one is over (RFC 9293 §3.6.1:
 * a new SYN may reuse a tuple in TIME-WAIT), or whose opener is trying again with a new ISN
 * after its first attempt got no answer. */
static bool starts_new(const struct obs_conn *c, uint8_t from, const struct sk_tcp_hdr *th)
{
    if ((th->flags & (SK_TCP_SYN | SK_TCP_ACK | SK_TCP_RST)) != SK_TCP_SYN)
        return false;
    const struct obs_side *s = &c->side[from];
    return conn_over(c) ||
           (s->syn_seen && s->isn != th->seq && s->state == SK_TCP_SYN_SENT);
}

/* The states before a new connection's first segment: a SYN finds its receiver listening; a
 * SYN|ACK first (its SYN missed) has the opener in SYN-SENT; anything else was picked up
 * mid-stream, in ESTABLISHED as far as anyone can tell. */
static void conn_start(struct obs_conn *c, const struct obs_in *in)
{
    uint8_t f = in->th.flags & (SK_TCP_SYN | SK_TCP_ACK | SK_TCP_RST);
    c->first = in->t;
    if (f == SK_TCP_SYN) {
        c->side[0].state = SK_TCP_CLOSED;
        c->side[1].state = SK_TCP_LISTEN;
        return;
    }
    c->mid_stream = true;
    if (f == (SK_TCP_SYN | SK_TCP_ACK)) {
        c->side[0].state = SK_TCP_SYN_SENT;
        c->side[1].state = SK_TCP_SYN_RECEIVED;
        return;
    }
    c->side[0].state = c->side[1].state = SK_TCP_ESTABLISHED;
}

/* The connection of the segment (a new one if needed), or NULL with *res set. */
static struct obs_conn *conn_of(struct sk_observer *o, const struct obs_in *in, uint8_t *from,
                                bool *fresh, enum sk_obs_result *res)
{
    uint64_t h = tuple_hash(&in->tup);
    struct obs_conn *c = table_find(o, &in->tup, h, from);
    *fresh = false;
    if (c && starts_new(c, *from, &in->th)) {
        table_remove(o, c, h);
        release_track(o, c);
        c = NULL;
    }
    if (c)
        return c;
    struct obs_tuple t = in->tup;
    *from = 0;
    if ((in->th.flags & (SK_TCP_SYN | SK_TCP_ACK)) == (SK_TCP_SYN | SK_TCP_ACK)) {
        /* Side 0 is the opener: here the SYN|ACK's receiver. */
        t = (struct obs_tuple){in->tup.dst, in->tup.src, in->tup.dport, in->tup.sport};
        *from = 1;
    }
    c = conn_new(o, &t, h, res);
    if (!c)
        return NULL;
    conn_start(c, in);
    *fresh = true;
    return c;
}

static void fill_segment(struct obs_ctx *x, uint8_t from)
{
    const struct obs_in *in = x->in;
    struct sk_obs_segment *s = &x->s;
    struct sk_trace_segment *g = &s->seg;
    const struct sk_tcp_opts *op = &in->th.opts;
    s->conn = x->c->id;
    s->index = x->c->nseg;
    s->from = from;
    s->time = in->t;
    s->src = in->tup.src;
    s->dst = in->tup.dst;
    if (in->v4) {
        g->saddr = in->saddr4;
        g->daddr = in->daddr4;
    }
    g->sport = in->th.sport;
    g->dport = in->th.dport;
    g->seq = in->th.seq;
    g->ack = in->th.ack;
    g->flags = in->th.flags;
    g->wnd = in->th.wnd;
    g->len = in->len;
    g->opts = op->present;
    g->mss = op->mss;
    g->wscale = op->wscale;
    g->ts_val = op->ts_val;
    g->ts_ecr = op->ts_ecr;
    g->nsack = op->nsack;
    for (uint8_t i = 0; i < op->nsack && i < 4; i++) {
        g->sack[i].left = op->sack[i].left;
        g->sack[i].right = op->sack[i].right;
    }
    s->captured_len = in->captured;
    for (int i = 0; i < 2; i++)
        s->state_before[i] = x->c->side[i].state;
    /* RFC 7323 §2.2: a SYN's window is never scaled. */
    s->wnd_scale_known = (in->th.flags & SK_TCP_SYN) || x->c->scale_known;
    s->wnd_bytes = wnd_bytes(x->c, x->snd, in->th.flags, in->th.wnd);
}

static void relative(struct obs_ctx *x)
{
    bool ack = (x->flags & SK_TCP_ACK) != 0;
    x->s.rel_known = x->snd->isn_known && (!ack || x->rcv->isn_known);
    if (x->snd->isn_known)
        x->s.rel_seq = x->in->th.seq - x->snd->isn;
    if (ack && x->rcv->isn_known)
        x->s.rel_ack = x->in->th.ack - x->rcv->isn;
}

/* The segment in a connection still followed. */
static void analyse(struct obs_ctx *x)
{
    struct obs_side *s = x->snd;
    if (x->flags & SK_TCP_RST) {
        on_rst(x);
        return;
    }
    if (!(x->flags & SK_TCP_SYN) && !s->seq_known) { /* mid-stream: its first segment */
        s->seq_known = true;
        s->snd_una = s->snd_max = x->in->th.seq;
    }
    bool syn_again = false;
    if ((x->flags & (SK_TCP_SYN | SK_TCP_ACK)) == SK_TCP_SYN) {
        uint64_t n = s->retransmits;
        on_syn(x);
        syn_again = s->retransmits != n;
    } else if (x->flags & SK_TCP_SYN) {
        uint64_t n = s->retransmits;
        on_synack(x);
        syn_again = s->retransmits != n;
        s->ack = x->in->th.ack;
        s->ack_known = true;
        s->wnd = s->max_wnd = x->s.wnd_bytes;
    }
    if (syn_again)
        return;
    if ((x->flags & (SK_TCP_ACK | SK_TCP_SYN)) == SK_TCP_ACK)
        on_ack(x);
    on_data(x);
    if (x->flags & SK_TCP_FIN)
        on_fin(x);
    if (s->seq_known)
        advance_max(s, seg_end(x));
    fin_try(x);
}

static enum sk_obs_result observe(struct sk_observer *o, const struct obs_in *in)
{
    uint8_t from;
    bool fresh;
    enum sk_obs_result res = SK_OBS_TCP;
    struct obs_conn *c = conn_of(o, in, &from, &fresh, &res);
    if (!c)
        return res;
    struct obs_ctx x = {.o = o, .c = c, .in = in, .flags = in->th.flags};
    x.snd = &c->side[from];
    x.rcv = &c->side[!from];
    if (c->track) {
        x.ts = &c->track->s[from];
        x.tr = &c->track->s[!from];
    }
    fill_segment(&x, from);
    if (fresh && c->mid_stream)
        note(&x, SK_OBS_MID_STREAM, 0, 0);
    if (!c->track) /* both ends closed: it opens nothing (starts_new said so) */
        note(&x, (x.flags & SK_TCP_RST) ? SK_OBS_RST_NO_CONNECTION : SK_OBS_AFTER_CLOSE, 0, 0);
    else
        analyse(&x);
    if (in->captured < in->len)
        note(&x, SK_OBS_SNAPLEN_CUT, in->captured, in->len);
    relative(&x);
    for (int i = 0; i < 2; i++)
        x.s.state_after[i] = c->side[i].state;
    c->last = in->t;
    c->nseg++;
    x.snd->segments++;
    o->stats.tcp++;
    if (o->cfg.on_segment)
        o->cfg.on_segment(o->cfg.user, &x.s);
    if (c->track && conn_over(c))
        release_track(o, c);
    return SK_OBS_TCP;
}

/* ---- Parsing: IP (either family) and TCP, with the wire parsers ---- */

/* The TCP segment inside an IP packet: l4 holds cap bytes of a wire_len-byte segment. */
static enum sk_obs_result parse_tcp(struct obs_in *in, const uint8_t *l4, size_t cap,
                                    size_t wire)
{
    if (sk_tcp_parse(l4, cap, 0, 0, false, &in->th) != SK_DROP_NONE)
        return SK_OBS_MALFORMED; /* the header (or its options) cut or invalid */
    in->len = (uint32_t)(wire - in->th.hdr_len);
    in->captured = (uint32_t)in->th.payload_len;
    in->tup.sport = in->th.sport;
    in->tup.dport = in->th.dport;
    return SK_OBS_TCP;
}

static enum sk_obs_result parse_v4(struct obs_in *in, const uint8_t *p, size_t cap, size_t wire)
{
    struct sk_ipv4_hdr ip;
    if (sk_ipv4_parse_capture(p, cap, &ip) != SK_DROP_NONE || ip.total_len > wire)
        return SK_OBS_MALFORMED;
    if (ip.mf || ip.frag_off) /* RFC 791 §3.2: not reassembled here */
        return SK_OBS_FRAGMENT;
    if (ip.proto != SK_IPPROTO_TCP)
        return SK_OBS_NOT_TCP;
    in->v4 = true;
    in->saddr4 = ip.src;
    in->daddr4 = ip.dst;
    in->tup.src = sk_addr_from_v4(ip.src);
    in->tup.dst = sk_addr_from_v4(ip.dst);
    return parse_tcp(in, ip.payload, ip.payload_len, (size_t)ip.total_len - ip.hdr_len);
}

static enum sk_obs_result parse_v6(struct obs_in *in, const uint8_t *p, size_t cap, size_t wire)
{
    struct sk_ipv6_hdr ip;
    struct sk_ip6_ext e;
    if (sk_ipv6_parse_capture(p, cap, &ip) != SK_DROP_NONE ||
        SK_IPV6_HLEN + (size_t)ip.payload_len_field > wire)
        return SK_OBS_MALFORMED;
    size_t held = SK_IPV6_HLEN + ip.payload_len;
    int r = sk_ip6_ext_walk(p, held, &e);
    if (r == SK_DROP_IP6_CHAIN_INCOMPLETE || r == SK_DROP_IP_FRAG_INVALID)
        return SK_OBS_FRAGMENT;
    if (r != SK_DROP_NONE || e.upper_off > held)
        return SK_OBS_MALFORMED;
    if (e.has_frag && (e.frag_offset || e.frag_more)) /* RFC 8200 §4.5; atomic ones pass */
        return SK_OBS_FRAGMENT;
    if (e.proto != SK_IPPROTO_TCP)
        return SK_OBS_NOT_TCP;
    in->tup.src = ip.src;
    in->tup.dst = ip.dst;
    return parse_tcp(in, p + e.upper_off, held - e.upper_off,
                     SK_IPV6_HLEN + (size_t)ip.payload_len_field - e.upper_off);
}

enum sk_obs_result sk_observer_input(struct sk_observer *o, sk_time_us t, const uint8_t *pkt,
                                     size_t captured, size_t wire_len)
{
    struct obs_in in = {.t = t};
    enum sk_obs_result r = SK_OBS_MALFORMED;
    o->stats.packets++;
    if (wire_len < captured)
        wire_len = captured;
    if (pkt && captured >= 1 && pkt[0] >> 4 == 4)
        r = parse_v4(&in, pkt, captured, wire_len);
    else if (pkt && captured >= 1 && pkt[0] >> 4 == 6)
        r = parse_v6(&in, pkt, captured, wire_len);
    switch (r) {
    case SK_OBS_TCP:
        return observe(o, &in);
    case SK_OBS_NOT_TCP:
        o->stats.not_tcp++;
        break;
    case SK_OBS_FRAGMENT:
        o->stats.fragments++;
        break;
    default:
        o->stats.malformed++;
        break;
    }
    return r;
}
