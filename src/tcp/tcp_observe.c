/* The passive observer (synack/observe.h): RFC 9293's state diagram (§3.3.2) run for both ends
 * of every TCP connection in a capture, and the notes a reader of the capture would make.
 *
 * Model. Each segment is taken to reach its receiver at the moment it is seen. A side's state
 * moves on what it sends (a FIN from ESTABLISHED means FIN-WAIT-1) and on what it receives (an
 * ACK of its FIN moves FIN-WAIT-1 to FIN-WAIT-2). What a side has sent but the capture has not
 * shown yet cannot be known: the inferred state lags the real one until it is seen.
 *
 * Memory. A connection is a struct obs_conn (summary and the few sequence variables of each
 * side, 352 bytes on x86-64) and, while either side is not CLOSED, a struct obs_track (1856 bytes:
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

#include "tcp/tcp_observe_int.h"
#include "util/rand.h"

#define OBS_MAX_CONNS 65536  /* sk_observer_config.max_conns when 0 */

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
    if (o->nconns >= o->nbuckets)
        table_grow(o);
    if (o->nbuckets == 0)
        goto nomem;
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
    size_t b = h & (o->nbuckets - 1);
    c->hnext = o->table[b];
    o->table[b] = c;
    return c;
nomem:
    o->stats.no_memory++;
    return NULL;
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
    return obs_conn_over(c) ||
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
    sk_obs_fill_segment(&x, from);
    if (fresh && c->mid_stream)
        sk_obs_note(&x, SK_OBS_MID_STREAM, 0, 0);
    if (!c->track) /* both ends closed: it opens nothing (starts_new said so) */
        sk_obs_after_close(&x);
    else
        sk_obs_analyse(&x);
    if (in->captured < in->len)
        sk_obs_note(&x, SK_OBS_SNAPLEN_CUT, in->captured, in->len);
    sk_obs_relative(&x);
    for (int i = 0; i < 2; i++)
        x.s.state_after[i] = c->side[i].state;
    c->last = in->t;
    c->nseg++;
    x.snd->segments++;
    o->stats.tcp++;
    if (o->cfg.on_segment)
        o->cfg.on_segment(o->cfg.user, &x.s);
    if (c->track && obs_conn_over(c))
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
