/* synack CLI: the ladder diagram (see ladder.h).
 *
 * Recording keeps one small record per trace event. Segments are matched sender to receiver
 * by a hash of the frame (or of the header fields when the trace carries no frame): the first
 * arrival marks a segment delivered, later ones count as duplicates. A frame the receiver drops
 * that differs from an undelivered segment in at most one bit is that segment, corrupted on
 * the link. Whatever is still undelivered when the run ends was lost.
 *
 * Drawing is a second pass: initial sequence numbers per endpoint (for the relative numbers),
 * retransmissions per flow (a segment starting below the highest sequence number already sent),
 * and, unless verbose, which rows of a long transfer to sum up.
 *
 * Captured mode (ladder_seen) fills the same records, each segment delivered once, with the
 * observer's window, relative numbers and notes beside it; the drawing is the same but for the
 * window column (bytes, with the raw value when scaled) and the notes under the row.
 */
#include "ladder.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX
#define LANE 46          /* display columns between the time and the segment fields */
#define KEEP_DATA 3      /* data segments shown at each end of a long transfer */
#define MIN_GAP 10       /* fewer hidden rows than this are shown after all */
#define MAX_ROWS 200     /* beyond this (unless verbose) the middle rows are summed up */
#define HASH_BYTES 96    /* IPv4 and TCP headers with options fit */
#define MAX_ENDPOINTS 32 /* endpoints remembered for ISNs and retransmission tracking */

static const struct ladder_glyphs utf8_glyphs = {
    .line = "\u2500", .right = "\u25b6", .left = "\u25c0", .lost = "\u2715",
    .to = " \u2192 ", .vdots = "\u22ee", .yes = "\u2713 ", .no = "\u2717 ",
    .bullet = "\u2022 ",
};
static const struct ladder_glyphs ascii_glyphs = {
    .line = "-", .right = ">", .left = "<", .lost = "x",
    .to = " -> ", .vdots = ":", .yes = "", .no = "", .bullet = "* ",
};

const struct ladder_glyphs *ladder_glyphs(bool ascii) {
    return ascii ? &ascii_glyphs : &utf8_glyphs;
}

enum rec_kind { REC_SEG, REC_STATE, REC_TIMER, REC_DROP, REC_ERROR, REC_NOTE };
enum seg_fate { FATE_IN_FLIGHT, FATE_ARRIVED, FATE_CORRUPTED };

/* What captured mode knows of a segment beyond its header. */
struct seen {
    uint32_t wnd_bytes, rel_seq, rel_ack;
    bool scaled, rel_known, notable, resent;
    char *notes; /* lines separated by '\n', or NULL */
};

struct rec {
    uint8_t kind, side;
    uint8_t fate;        /* REC_SEG */
    uint8_t arrivals;    /* REC_SEG, saturating at 255 */
    uint8_t reason;      /* REC_DROP; REC_SEG corrupted: why the receiver dropped it */
    sk_time_us t;
    union {
        struct sk_trace_segment seg;
        struct { uint8_t from, to; } st;
        uint8_t timer;
        int err;
        char *note;
    } u;
    struct sk_addr src, dst; /* REC_SEG: the segment's addresses, either family */
    struct seen *seen;       /* REC_SEG in captured mode */
    /* REC_SEG matching. */
    uint64_t hash;
    uint8_t *frame;      /* copy kept while in flight, to recognise it corrupted */
    uint32_t frame_len;
    uint32_t chain;      /* next record in the same hash bucket */
    uint32_t prev, next; /* list of in-flight segments of the same direction */
};

struct ladder {
    struct ladder_options opt;
    const struct ladder_glyphs *g;
    struct rec *recs;
    uint32_t n, cap;
    uint32_t *bucket; /* hash heads */
    uint32_t nbucket, nseg;
    uint32_t head[2], tail[2]; /* in-flight list per sending side */
    bool oom;
};

struct ladder *ladder_new(const struct ladder_options *opt) {
    struct ladder *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->opt = *opt;
    l->g = ladder_glyphs(opt->ascii);
    for (int s = 0; s < 2; s++)
        l->head[s] = l->tail[s] = NONE;
    return l;
}

void ladder_free(struct ladder *l) {
    if (!l)
        return;
    for (uint32_t i = 0; i < l->n; i++) {
        if (l->recs[i].kind == REC_SEG) {
            free(l->recs[i].frame);
            if (l->recs[i].seen)
                free(l->recs[i].seen->notes);
            free(l->recs[i].seen);
        }
        else if (l->recs[i].kind == REC_NOTE)
            free(l->recs[i].u.note);
    }
    free(l->recs);
    free(l->bucket);
    free(l);
}

bool ladder_incomplete(const struct ladder *l) {
    return l->oom;
}

static struct rec *push(struct ladder *l, int kind, int side, sk_time_us t) {
    if (l->n == l->cap) {
        uint32_t cap = l->cap ? l->cap * 2 : 256;
        struct rec *r = realloc(l->recs, (size_t)cap * sizeof(*r));
        if (!r) {
            l->oom = true;
            return NULL;
        }
        l->recs = r;
        l->cap = cap;
    }
    struct rec *r = &l->recs[l->n++];
    memset(r, 0, sizeof(*r));
    r->kind = (uint8_t)kind;
    r->side = (uint8_t)side;
    r->t = t;
    r->chain = r->prev = r->next = NONE;
    return r;
}

/* ---- matching a segment's departure with its arrival ---- */

static uint64_t fnv1a(uint64_t h, const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t segment_hash(const struct sk_trace_event *ev) {
    uint64_t h = 0xcbf29ce484222325ull;
    if (ev->frame && ev->frame_len) /* the headers and the length tell frames apart */
        return fnv1a(fnv1a(h, &ev->frame_len, sizeof(ev->frame_len)), ev->frame,
                     ev->frame_len < HASH_BYTES ? ev->frame_len : HASH_BYTES);
    const struct sk_trace_segment *s = &ev->u.seg;
    uint32_t f[] = {s->saddr, s->daddr, s->sport, s->dport, s->seq, s->ack, s->flags, s->wnd,
                    s->len, s->ts_val, s->ts_ecr};
    return fnv1a(h, f, sizeof(f));
}

static bool grow_buckets(struct ladder *l) {
    uint32_t n = l->nbucket ? l->nbucket * 2 : 1024;
    uint32_t *b = malloc((size_t)n * sizeof(*b));
    if (!b)
        return false;
    for (uint32_t i = 0; i < n; i++)
        b[i] = NONE;
    free(l->bucket);
    l->bucket = b;
    l->nbucket = n;
    for (uint32_t i = 0; i < l->n; i++) {
        struct rec *r = &l->recs[i];
        if (r->kind != REC_SEG)
            continue;
        uint32_t *head = &l->bucket[r->hash & (n - 1)];
        r->chain = *head;
        *head = i;
    }
    return true;
}

static void unlink_in_flight(struct ladder *l, uint32_t i) {
    struct rec *r = &l->recs[i];
    int s = r->side;
    if (r->prev != NONE)
        l->recs[r->prev].next = r->next;
    else
        l->head[s] = r->next;
    if (r->next != NONE)
        l->recs[r->next].prev = r->prev;
    else
        l->tail[s] = r->prev;
    r->prev = r->next = NONE;
    free(r->frame);
    r->frame = NULL;
}

static void record_departure(struct ladder *l, int side, const struct sk_trace_event *ev) {
    if (l->nseg + 1 > l->nbucket && !grow_buckets(l)) {
        l->oom = true;
        return;
    }
    struct rec *r = push(l, REC_SEG, side, ev->time);
    if (!r)
        return;
    uint32_t i = (uint32_t)(r - l->recs);
    r->u.seg = ev->u.seg;
    r->src = ev->src;
    r->dst = ev->dst;
    r->fate = FATE_IN_FLIGHT;
    r->hash = segment_hash(ev);
    if (ev->frame && ev->frame_len) {
        r->frame = malloc(ev->frame_len);
        if (r->frame) {
            memcpy(r->frame, ev->frame, ev->frame_len);
            r->frame_len = (uint32_t)ev->frame_len;
        }
    }
    uint32_t *head = &l->bucket[r->hash & (l->nbucket - 1)];
    r->chain = *head;
    *head = i;
    l->nseg++;
    r->prev = l->tail[side];
    if (r->prev != NONE)
        l->recs[r->prev].next = i;
    else
        l->head[side] = i;
    l->tail[side] = i;
}

static bool same_header(const struct sk_trace_segment *a, const struct sk_trace_segment *b) {
    return a->seq == b->seq && a->ack == b->ack && a->flags == b->flags && a->len == b->len &&
           a->sport == b->sport && a->dport == b->dport;
}

/* The record of the segment `ev` (seen at the receiver) as its sender sent it: the oldest one
 * still in flight if any, else one already delivered (then this is a duplicate). */
static uint32_t find_sent(const struct ladder *l, int sender, const struct sk_trace_event *ev) {
    if (!l->nbucket)
        return NONE;
    uint64_t h = segment_hash(ev);
    uint32_t in_flight = NONE, delivered = NONE;
    for (uint32_t i = l->bucket[h & (l->nbucket - 1)]; i != NONE; i = l->recs[i].chain) {
        const struct rec *r = &l->recs[i];
        if (r->side != sender || r->hash != h || !same_header(&r->u.seg, &ev->u.seg))
            continue;
        if (r->fate == FATE_IN_FLIGHT)
            in_flight = i; /* the chain runs newest first: keep going for the oldest */
        else if (delivered == NONE)
            delivered = i;
    }
    return in_flight != NONE ? in_flight : delivered;
}

static void record_arrival(struct ladder *l, int side, const struct sk_trace_event *ev) {
    uint32_t i = find_sent(l, 1 - side, ev);
    if (i == NONE)
        return;
    struct rec *r = &l->recs[i];
    if (r->arrivals < 255)
        r->arrivals++;
    if (r->fate == FATE_IN_FLIGHT) {
        r->fate = FATE_ARRIVED;
        unlink_in_flight(l, i);
    }
}

/* Differs from b in at most one bit? */
static bool one_bit_apart(const uint8_t *a, const uint8_t *b, size_t n) {
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t x = a[i] ^ b[i];
        if (x) {
            if (x & (x - 1))
                return false;
            if (++bits > 1)
                return false;
        }
    }
    return true;
}

static void record_drop(struct ladder *l, int side, const struct sk_trace_event *ev) {
    uint8_t reason = (uint8_t)ev->u.drop.reason;
    if (ev->frame && ev->frame_len) {
        /* A frame the receiver saw intact (SEG_IN came first) and then refused is a drop by
         * TCP, drawn on the receiver's side. One that never passed the checksums and is a bit
         * away from a segment in flight is that segment, corrupted on the wire. */
        uint64_t h = segment_hash(ev);
        bool seen_intact = false;
        for (uint32_t i = l->nbucket ? l->bucket[h & (l->nbucket - 1)] : NONE; i != NONE;
             i = l->recs[i].chain)
            if (l->recs[i].side == 1 - side && l->recs[i].hash == h)
                seen_intact = true;
        if (!seen_intact) {
            for (uint32_t i = l->head[1 - side]; i != NONE; i = l->recs[i].next) {
                struct rec *r = &l->recs[i];
                if (r->frame && r->frame_len == ev->frame_len &&
                    one_bit_apart(r->frame, ev->frame, ev->frame_len)) {
                    r->fate = FATE_CORRUPTED;
                    r->reason = reason;
                    unlink_in_flight(l, i);
                    return;
                }
            }
        }
    }
    struct rec *r = push(l, REC_DROP, side, ev->time);
    if (r)
        r->reason = reason;
}

void ladder_trace(struct ladder *l, int side, const struct sk_trace_event *ev) {
    if (!l || side < 0 || side > 1)
        return;
    struct rec *r;
    switch (ev->kind) {
    case SK_TRACE_SEG_OUT:
        record_departure(l, side, ev);
        break;
    case SK_TRACE_SEG_IN:
        record_arrival(l, side, ev);
        break;
    case SK_TRACE_DROP:
        record_drop(l, side, ev);
        break;
    case SK_TRACE_STATE:
        if ((r = push(l, REC_STATE, side, ev->time))) {
            r->u.st.from = (uint8_t)ev->u.state.from;
            r->u.st.to = (uint8_t)ev->u.state.to;
        }
        break;
    case SK_TRACE_TIMER:
        if ((r = push(l, REC_TIMER, side, ev->time)))
            r->u.timer = (uint8_t)ev->u.timer.timer;
        break;
    case SK_TRACE_ERROR:
        if ((r = push(l, REC_ERROR, side, ev->time)))
            r->u.err = ev->u.error.err;
        break;
    }
}

void ladder_note(struct ladder *l, int side, sk_time_us t, const char *fmt, ...) {
    if (!l)
        return;
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    char *copy = strdup(buf);
    struct rec *r = copy ? push(l, REC_NOTE, side, t) : NULL;
    if (!r) {
        free(copy);
        l->oom = true;
        return;
    }
    r->u.note = copy;
}

void ladder_seen(struct ladder *l, const struct ladder_seen *s) {
    if (!l || s->side < 0 || s->side > 1)
        return;
    struct seen *x = calloc(1, sizeof(*x));
    size_t len = 0;
    for (int i = 0; i < s->nnotes; i++)
        len += strlen(s->notes[i]) + 1;
    char *notes = len ? malloc(len) : NULL;
    struct rec *r = x && (notes || !len) ? push(l, REC_SEG, s->side, s->t) : NULL;
    if (!r) {
        free(x);
        free(notes);
        l->oom = true;
        return;
    }
    size_t n = 0;
    for (int i = 0; i < s->nnotes; i++)
        n += (size_t)sprintf(notes + n, "%s%s", i ? "\n" : "", s->notes[i]);
    x->notes = notes;
    x->wnd_bytes = s->wnd_bytes;
    x->scaled = s->scaled;
    x->rel_known = s->rel_known;
    x->rel_seq = s->rel_seq;
    x->rel_ack = s->rel_ack;
    x->notable = s->notable;
    x->resent = s->resent;
    r->u.seg = *s->seg;
    r->src = s->src;
    r->dst = s->dst;
    r->fate = FATE_ARRIVED; /* seen once, where the capture was taken */
    r->arrivals = 1;
    r->seen = x;
}

/* ---- names ---- */

const char *ladder_errno_name(int err) {
    switch (-err) {
    case 0: return "no error";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ECONNRESET: return "ECONNRESET";
    case ETIMEDOUT: return "ETIMEDOUT";
    case ECONNABORTED: return "ECONNABORTED";
    case EPIPE: return "EPIPE";
    case ENOTCONN: return "ENOTCONN";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case ENETUNREACH: return "ENETUNREACH";
    case ENOMEM: return "ENOMEM";
    case EADDRINUSE: return "EADDRINUSE";
    case EINVAL: return "EINVAL";
    default: return "error";
    }
}

static const char *state_name(int s) {
    const char *n = sk_tcp_state_name((enum sk_tcp_state)s);
    return n ? n : "?";
}

static const char *timer_name(int t) {
    static const char *const names[SK_TIMER_COUNT] = {
        [SK_TIMER_RETRANSMIT] = "retransmit",   [SK_TIMER_PERSIST] = "persist",
        [SK_TIMER_DELACK] = "delayed-ACK",      [SK_TIMER_KEEPALIVE] = "keepalive",
        [SK_TIMER_TIME_WAIT] = "TIME-WAIT",     [SK_TIMER_USER_TIMEOUT] = "user-timeout",
        [SK_TIMER_TLP] = "tail-loss-probe",    [SK_TIMER_RACK] = "rack-reorder",
        [SK_TIMER_PACE] = "pacing",
    };
    return t >= 0 && t < SK_TIMER_COUNT && names[t] ? names[t] : "unknown";
}

static const char *drop_name(int r) {
    const char *n = sk_drop_reason_name((enum sk_drop_reason)r);
    return n ? n : "unknown";
}

/* "SYN|ACK", in the order people say them. */
void ladder_flags_label(uint8_t f, char *buf, size_t size) {
    static const struct { uint8_t bit; const char *name; } order[] = {
        {SK_TCP_SYN, "SYN"}, {SK_TCP_FIN, "FIN"}, {SK_TCP_RST, "RST"}, {SK_TCP_PSH, "PSH"},
        {SK_TCP_ACK, "ACK"}, {SK_TCP_URG, "URG"}, {SK_TCP_ECE, "ECE"}, {SK_TCP_CWR, "CWR"},
    };
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        if (f & order[i].bit)
            n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s", n ? "|" : "",
                                  order[i].name);
    if (n == 0)
        snprintf(buf, size, "none");
}

/* ---- a line under construction ---- */

struct out {
    char buf[1024];
    size_t n;
    int cols; /* display columns written so far */
};

/* Display columns of the UTF-8 character starting at s: 0 for a continuation byte, 2 for the
 * East Asian wide ranges (CJK ideographs, fullwidth punctuation: the Chinese notes), else 1. */
static int char_width(const char *s) {
    const unsigned char *u = (const unsigned char *)s;
    if ((u[0] & 0xc0) == 0x80)
        return 0;
    if ((u[0] & 0xf0) != 0xe0 || (u[1] & 0xc0) != 0x80 || (u[2] & 0xc0) != 0x80)
        return 1;
    unsigned cp = (u[0] & 0x0fu) << 12 | (u[1] & 0x3fu) << 6 | (u[2] & 0x3fu);
    bool wide = (cp >= 0x2e80 && cp <= 0xa4cf) || (cp >= 0xac00 && cp <= 0xd7a3) ||
                (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) ||
                (cp >= 0xff00 && cp <= 0xff60) || (cp >= 0xffe0 && cp <= 0xffe6);
    return wide ? 2 : 1;
}

static void put(struct out *o, const char *s) {
    for (; *s && o->n + 1 < sizeof(o->buf); s++) {
        o->cols += char_width(s);
        o->buf[o->n++] = *s;
    }
    o->buf[o->n] = '\0';
}

static void putn(struct out *o, const char *s, int times) {
    for (int i = 0; i < times; i++)
        put(o, s);
}

static void putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct out *o, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    put(o, tmp);
}

static void pad_to(struct out *o, int col) {
    while (o->cols < col && o->n + 1 < sizeof(o->buf))
        put(o, " ");
}

static int display_width(const char *s) {
    int w = 0;
    for (; *s; s++)
        w += char_width(s);
    return w;
}

/* ---- drawing ---- */

struct endpoint {
    struct sk_addr addr;        /* either family (an IPv4 one IPv4-mapped) */
    uint16_t port;
    bool isn_known, max_known;
    bool sent_syn, sent_synack;
    uint32_t isn;     /* sequence number of its first SYN */
    uint32_t snd_max; /* highest sequence number sent so far, for spotting retransmissions */
};

struct drawing {
    const struct ladder *l;
    const struct ladder_glyphs *g;
    FILE *out;
    struct endpoint ep[MAX_ENDPOINTS];
    int nep;
    sk_time_us last_t;
    bool have_last_t;
    int time_col, lane_col, fields_col;
    bool settled; /* false: segments still in flight were not lost, the run was stopped */
};

static struct endpoint *endpoint(struct drawing *d, const struct sk_addr *addr, uint16_t port) {
    for (int i = 0; i < d->nep; i++)
        if (sk_addr_eq(&d->ep[i].addr, addr) && d->ep[i].port == port)
            return &d->ep[i];
    if (d->nep == MAX_ENDPOINTS)
        return NULL;
    struct endpoint *e = &d->ep[d->nep++];
    memset(e, 0, sizeof(*e));
    e->addr = *addr;
    e->port = port;
    return e;
}

static bool seq_lt(uint32_t a, uint32_t b) {
    return (int32_t)(a - b) < 0;
}

/* Advances the per-endpoint view through segment r; true if r resends sequence space. */
static bool note_segment(struct drawing *d, const struct rec *r) {
    const struct sk_trace_segment *s = &r->u.seg;
    struct endpoint *e = endpoint(d, &r->src, s->sport);
    if (!e)
        return false;
    if ((s->flags & SK_TCP_SYN) && !e->isn_known) {
        e->isn_known = true;
        e->isn = s->seq;
    }
    if (s->flags & SK_TCP_RST)
        return false;
    /* A SYN is resent when the same kind (SYN, or SYN|ACK) went before: the SYN|ACK of a
     * simultaneous open repeats the SYN's sequence number but is no retransmission. */
    if (s->flags & SK_TCP_SYN) {
        bool *sent = (s->flags & SK_TCP_ACK) ? &e->sent_synack : &e->sent_syn;
        bool again = *sent;
        *sent = true;
        if (!e->max_known || seq_lt(e->snd_max, s->seq + 1 + s->len)) {
            e->snd_max = s->seq + 1 + s->len;
            e->max_known = true;
        }
        return again;
    }
    uint32_t span = s->len + !!(s->flags & SK_TCP_FIN);
    if (span == 0)
        return false;
    bool resent = e->max_known && seq_lt(s->seq, e->snd_max);
    if (!e->max_known || seq_lt(e->snd_max, s->seq + span)) {
        e->snd_max = s->seq + span;
        e->max_known = true;
    }
    return resent;
}

static void time_column(struct drawing *d, struct out *o, sk_time_us t) {
    if (!d->have_last_t || t != d->last_t)
        putf(o, "%11.3f", (double)t / 1000.0);
    d->last_t = t;
    d->have_last_t = true;
    pad_to(o, d->lane_col);
}

static void emit(struct drawing *d, struct out *o) {
    /* No trailing spaces. */
    while (o->n > 0 && o->buf[o->n - 1] == ' ')
        o->buf[--o->n] = '\0';
    fprintf(d->out, "%s\n", o->buf);
}

/* Text written on one side of the lane: the left side starts at the left column, the right
 * side ends at the right column, or if too long for that, starts a third of the way in (and
 * runs on past the lane) so that it still reads as the right side's. */
static void side_text(struct out *o, int side, const char *text) {
    if (side == 1) {
        int w = display_width(text);
        int indent = w < LANE ? LANE - w : 0;
        if (indent < LANE / 3)
            indent = LANE / 3;
        putn(o, " ", indent);
    }
    put(o, text);
}

static void draw_arrow(struct drawing *d, struct out *o, const struct rec *r) {
    const struct ladder_glyphs *g = d->g;
    char label[64];
    ladder_flags_label(r->u.seg.flags, label, sizeof(label));
    if (r->u.seg.len) { /* so that data stands out from pure ACKs */
        size_t n = strlen(label);
        snprintf(label + n, sizeof(label) - n, ", %" PRIu32 " %s", r->u.seg.len,
                 d->l->opt.bytes ? d->l->opt.bytes : "bytes");
    }
    int lw = display_width(label) + 2; /* with a space each side */
    int shaft = LANE - 1 - lw;         /* columns of line, the head takes one */
    if (shaft < 2)
        shaft = 2;
    int a = shaft / 2, b = shaft - a;
    bool lost = r->fate == FATE_CORRUPTED || (r->fate == FATE_IN_FLIGHT && d->settled);
    int gap = lost ? 6 : 0; /* a lost segment stops short of the other column */
    if (r->side == 0) {
        putn(o, g->line, a);
        putf(o, " %s ", label);
        int tail = b - gap > 1 ? b - gap : 1;
        putn(o, g->line, tail);
        put(o, lost ? g->lost : g->right);
    } else {
        if (lost) {
            int lead = a - gap > 1 ? gap : 0;
            putn(o, " ", lead);
            put(o, g->lost);
            putn(o, g->line, a - lead);
        } else {
            put(o, g->left);
            putn(o, g->line, a);
        }
        putf(o, " %s ", label);
        putn(o, g->line, b);
    }
}

static void draw_numbers(struct drawing *d, struct out *o, const struct rec *r, bool resent) {
    const struct sk_trace_segment *s = &r->u.seg;
    const struct seen *x = r->seen;
    struct endpoint *src = endpoint(d, &r->src, s->sport);
    struct endpoint *dst = endpoint(d, &r->dst, s->dport);
    /* The ISNs the relative numbers count from: the ladder's own view of the SYNs, or in
     * captured mode the observer's (which also knows them for a SYN it missed a copy of). */
    bool src_known = src && src->isn_known, dst_known = dst && dst->isn_known;
    uint32_t src_isn = src_known ? src->isn : 0, dst_isn = dst_known ? dst->isn : 0;
    if (x) {
        src_known = dst_known = x->rel_known;
        src_isn = s->seq - x->rel_seq;
        dst_isn = s->ack - x->rel_ack;
    }
    if (src_known)
        putf(o, "%" PRIu32 " (%" PRIu32 ")", s->seq, s->seq - src_isn);
    else
        putf(o, "%" PRIu32, s->seq);
    pad_to(o, d->fields_col + 24);
    if (!(s->flags & SK_TCP_ACK))
        put(o, "-");
    else if (dst_known)
        putf(o, "%" PRIu32 " (%" PRIu32 ")", s->ack, s->ack - dst_isn);
    else
        putf(o, "%" PRIu32, s->ack);
    pad_to(o, d->fields_col + 48);
    if (x)
        putf(o, "%8" PRIu32 " %6" PRIu32 "  ", x->wnd_bytes, s->len);
    else
        putf(o, "%5u %6" PRIu32 "  ", s->wnd, s->len);

    char opts[320];
    ladder_options_text(s, dst_known, dst_isn, opts, sizeof(opts));
    put(o, opts);
    bool first = opts[0] == '\0';
#define SEP() (first ? (first = false, "") : ", ")
    if (x && x->scaled && s->wnd && x->wnd_bytes != s->wnd) {
        /* The window field as on the wire, and the scale (RFC 7323 §2.3) it was shifted by. */
        unsigned shift = 0;
        while (shift < 14 && ((uint32_t)s->wnd << shift) < x->wnd_bytes)
            shift++;
        putf(o, "%swin %u<<%u", SEP(), s->wnd, shift);
    }
    /* What became of it, after the options; in captured mode the notes say it in words. */
    const char *gap = first ? "" : "  ";
    if (resent && !x)
        putf(o, "%s[retransmission]", gap), gap = "  ";
    if (r->fate == FATE_IN_FLIGHT && d->settled)
        putf(o, "%s[lost on the link]", gap), gap = "  ";
    else if (r->fate == FATE_IN_FLIGHT)
        putf(o, "%s[in flight when the run stopped]", gap), gap = "  ";
    else if (r->fate == FATE_CORRUPTED)
        putf(o, "%s[corrupted on the link, dropped: %s]", gap, drop_name(r->reason)), gap = "  ";
    if (r->arrivals > 1)
        putf(o, "%s[duplicated: arrived %u times]", gap, r->arrivals);
#undef SEP
}

/* "client: SYN-SENT → ESTABLISHED", "server: dropped (tcp-no-socket)", ...: what a row
 * other than a segment says, on its side. */
static void side_event_text(const struct drawing *d, const struct rec *r, char *buf,
                            size_t size) {
    int n = snprintf(buf, size, "%s: ", d->l->opt.names[r->side]);
    char *p = buf + n;
    size_t left = size - (size_t)n;
    switch (r->kind) {
    case REC_STATE:
        snprintf(p, left, "%s%s%s", state_name(r->u.st.from), d->g->to, state_name(r->u.st.to));
        break;
    case REC_TIMER:
        snprintf(p, left, "%s timer fired", timer_name(r->u.timer));
        break;
    case REC_DROP:
        snprintf(p, left, "dropped (%s)", drop_name(r->reason));
        break;
    case REC_ERROR:
        snprintf(p, left, "error %s", ladder_errno_name(r->u.err));
        break;
    case REC_NOTE:
        snprintf(p, left, "%s", r->u.note);
        break;
    default:
        break;
    }
}

size_t ladder_options_text(const struct sk_trace_segment *s, bool rel, uint32_t isn, char *buf,
                           size_t size) {
    size_t n = 0;
    buf[0] = '\0';
#define ADD(...) (n += (size_t)snprintf(buf + n, n < size ? size - n : 0, __VA_ARGS__))
#define SEP (n ? ", " : "")
    if (s->opts & SK_OPT_MSS)
        ADD("%smss %u", SEP, s->mss);
    if (s->opts & SK_OPT_SACK_PERM)
        ADD("%ssackOK", SEP);
    if (s->opts & SK_OPT_TIMESTAMP)
        ADD("%sTS val %" PRIu32 " ecr %" PRIu32, SEP, s->ts_val, s->ts_ecr);
    if (s->opts & SK_OPT_WSCALE)
        ADD("%swscale %u", SEP, s->wscale);
    if ((s->opts & SK_OPT_SACK) && s->nsack) {
        /* SACK blocks name the receiver's sequence space: shown relative to its ISN. */
        ADD("%ssack", SEP);
        for (int i = 0; i < s->nsack && i < 4; i++)
            ADD(" %" PRIu32 "-%" PRIu32, s->sack[i].left - (rel ? isn : 0),
                s->sack[i].right - (rel ? isn : 0));
    }
#undef SEP
#undef ADD
    return n < size ? n : size - 1;
}

int ladder_display_width(const char *s) {
    return display_width(s);
}

/* A captured segment's notes, one a line under its row, from the fields column. */
static void draw_notes(struct drawing *d, const char *notes) {
    while (*notes) {
        const char *nl = strchr(notes, '\n');
        size_t len = nl ? (size_t)(nl - notes) : strlen(notes);
        struct out o = {0};
        pad_to(&o, d->fields_col);
        put(&o, d->g->bullet);
        putf(&o, "%.*s", (int)len, notes);
        emit(d, &o);
        notes += len + (nl ? 1 : 0);
    }
}

static bool always_shown(const struct rec *r) {
    if (r->kind == REC_SEG)
        return (r->u.seg.flags & (SK_TCP_SYN | SK_TCP_FIN | SK_TCP_RST)) != 0 ||
               (r->seen && r->seen->notable);
    if (r->kind == REC_DROP)
        return false;
    if (r->kind == REC_TIMER)
        return r->u.timer != SK_TIMER_DELACK;
    return true;
}

/* What a run of rows left out held, for the line that stands for them. */
struct gap {
    uint32_t rows, segs[2], data_segs[2], lost, resent, drops, timers, states;
    uint64_t bytes[2];
    sk_time_us from, to;
};

static void human_bytes(char *buf, size_t size, uint64_t b) {
    if (b < 10000)
        snprintf(buf, size, "%" PRIu64 " bytes", b);
    else if (b < 10000000)
        snprintf(buf, size, "%.1f kB", (double)b / 1e3);
    else
        snprintf(buf, size, "%.1f MB", (double)b / 1e6);
}

static void flush_gap(struct drawing *d, struct gap *gp) {
    if (!gp->rows)
        return;
    const char *n0 = d->l->opt.names[0], *n1 = d->l->opt.names[1];
    struct out o = {0};
    time_column(d, &o, gp->from);
    pad_to(&o, d->lane_col + LANE / 2);
    put(&o, d->g->vdots);
    fprintf(d->out, "%s\n", o.buf);

    char b0[32], b1[32];
    human_bytes(b0, sizeof(b0), gp->bytes[0]);
    human_bytes(b1, sizeof(b1), gp->bytes[1]);
    struct out t = {0};
    pad_to(&t, d->lane_col);
    putf(&t, "%" PRIu32 " rows not shown (%.3f to %.3f ms): %s sent %" PRIu32 " segments "
             "(%" PRIu32 " with data, %s), %s sent %" PRIu32 " (%" PRIu32 " with data, %s)",
         gp->rows, (double)gp->from / 1000.0, (double)gp->to / 1000.0, n0, gp->segs[0],
         gp->data_segs[0], b0, n1, gp->segs[1], gp->data_segs[1], b1);
    fprintf(d->out, "%s\n", t.buf);
    struct out u = {0};
    pad_to(&u, d->lane_col);
    if (d->l->opt.captured) /* nothing is lost, dropped or timed in a capture's view */
        putf(&u, "%" PRIu32 " retransmissions, %" PRIu32 " state changes; --verbose shows "
                 "every row", gp->resent, gp->states);
    else
        putf(&u, "%" PRIu32 " lost or corrupted, %" PRIu32 " retransmissions, %" PRIu32
                 " drops, %" PRIu32 " timers, %" PRIu32 " state changes; --verbose shows every "
                 "row", gp->lost, gp->resent, gp->drops, gp->timers, gp->states);
    fprintf(d->out, "%s\n", u.buf);
    struct out v = {0};
    pad_to(&v, d->lane_col + LANE / 2);
    put(&v, d->g->vdots);
    fprintf(d->out, "%s\n", v.buf);
    memset(gp, 0, sizeof(*gp));
    d->have_last_t = false;
}

void ladder_print(const struct ladder *l, FILE *out, const char *titles[2], bool settled) {
    struct drawing *d = calloc(1, sizeof(*d));
    if (!d)
        return;
    d->l = l;
    d->g = l->g;
    d->out = out;
    d->settled = settled;
    d->lane_col = 13;
    d->fields_col = d->lane_col + LANE + 3;

    /* Which rows to sum up. First, between the first and the last KEEP_DATA data segments,
     * everything except SYN/FIN/RST, state changes, errors, notes and timers other than
     * delayed ACKs. Then, if that still leaves too many rows (a loop, a long fight with the
     * link), the middle of what is left. */
    bool *hide = calloc(l->n ? l->n : 1, sizeof(*hide));
    if (!hide) {
        free(d);
        return;
    }
    uint32_t ndata = 0;
    for (uint32_t i = 0; i < l->n; i++)
        if (l->recs[i].kind == REC_SEG && l->recs[i].u.seg.len > 0)
            ndata++;
    if (!l->opt.verbose && ndata > 2 * KEEP_DATA + 4) {
        uint32_t k = 0, from = NONE, to = NONE;
        for (uint32_t i = 0; i < l->n; i++) {
            if (l->recs[i].kind != REC_SEG || l->recs[i].u.seg.len == 0)
                continue;
            k++;
            if (k == KEEP_DATA)
                from = i + 1;
            if (k == ndata - KEEP_DATA + 1)
                to = i; /* exclusive */
        }
        for (uint32_t i = from; i < to; i++)
            hide[i] = !always_shown(&l->recs[i]);
    }
    /* A short run of hidden rows is not worth its summary: show it. */
    for (uint32_t i = 0; i < l->n;) {
        if (!hide[i]) {
            i++;
            continue;
        }
        uint32_t j = i;
        while (j < l->n && hide[j])
            j++;
        if (j - i < MIN_GAP)
            memset(hide + i, 0, (j - i) * sizeof(*hide));
        i = j;
    }
    uint32_t shown = 0;
    for (uint32_t i = 0; i < l->n; i++)
        shown += !hide[i];
    if (!l->opt.verbose && shown > MAX_ROWS) {
        uint32_t k = 0;
        for (uint32_t i = 0; i < l->n; i++) {
            if (hide[i])
                continue;
            k++;
            if (k > MAX_ROWS / 2 && k <= shown - MAX_ROWS / 4)
                hide[i] = true;
        }
    }

    /* Column header. */
    static const char *const english[4] = {"time ms", "seq (relative)", "ack (relative)",
                                           "  win    len  options"};
    const char *hd[4];
    for (int k = 0; k < 4; k++)
        hd[k] = l->opt.header[k] ? l->opt.header[k] : english[k];
    if (l->opt.captured && !l->opt.header[3])
        hd[3] = "     win    len  options"; /* the window in bytes takes a wider column */
    struct out h = {0};
    pad_to(&h, 11 - display_width(hd[0]));
    put(&h, hd[0]);
    pad_to(&h, d->lane_col);
    put(&h, titles[0]);
    put(&h, "  ");
    pad_to(&h, d->lane_col + LANE - display_width(titles[1]));
    put(&h, titles[1]);
    put(&h, "  ");
    pad_to(&h, d->fields_col);
    put(&h, hd[1]);
    pad_to(&h, d->fields_col + 24);
    put(&h, hd[2]);
    pad_to(&h, d->fields_col + 48);
    put(&h, hd[3]);
    fprintf(out, "%s\n", h.buf);
    struct out rule = {0};
    putn(&rule, d->g->line, d->fields_col + 48 + 21 + (l->opt.captured ? 3 : 0));
    fprintf(out, "%s\n", rule.buf);

    struct gap gp = {0};
    for (uint32_t i = 0; i < l->n; i++) {
        const struct rec *r = &l->recs[i];
        bool resent = r->kind == REC_SEG && note_segment(d, r);
        if (r->kind == REC_SEG && r->seen) /* a capture: the observer's word, not a guess */
            resent = r->seen->resent;
        if (hide[i]) {
            if (!gp.rows)
                gp.from = r->t;
            gp.to = r->t;
            gp.rows++;
            if (r->kind == REC_SEG) {
                gp.segs[r->side]++;
                if (r->u.seg.len) {
                    gp.data_segs[r->side]++;
                    gp.bytes[r->side] += r->u.seg.len;
                }
                if (r->fate == FATE_CORRUPTED || (r->fate == FATE_IN_FLIGHT && d->settled))
                    gp.lost++;
                if (resent)
                    gp.resent++;
            } else if (r->kind == REC_DROP) {
                gp.drops++;
            } else if (r->kind == REC_TIMER) {
                gp.timers++;
            } else if (r->kind == REC_STATE) {
                gp.states++;
            }
            continue;
        }
        flush_gap(d, &gp);

        struct out o = {0};
        time_column(d, &o, r->t);
        if (r->kind == REC_SEG) {
            draw_arrow(d, &o, r);
            pad_to(&o, d->fields_col);
            draw_numbers(d, &o, r, resent);
            emit(d, &o);
            if (r->seen && r->seen->notes)
                draw_notes(d, r->seen->notes);
            continue;
        } else {
            char text[320];
            side_event_text(d, r, text, sizeof(text));
            side_text(&o, r->side, text);
        }
        emit(d, &o);
    }
    flush_gap(d, &gp);
    free(hide);
    free(d);
}
