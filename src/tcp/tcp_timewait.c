/* TIME-WAIT as a record of its own (RFC 9293 §3.10.7.4, RFC 6191, RFC 7323 §5, RFC 1337).
 *
 * Once both FINs have crossed, a connection's only duties for 2*MSL are to acknowledge the
 * peer's FIN again if it comes again, to keep old duplicates from reaching a new incarnation of
 * the 4-tuple, and to let a SYN that cannot be an old duplicate reopen the 4-tuple (RFC 6191).
 * That takes the 4-tuple, SND.NXT, RCV.NXT, TS.Recent and a deadline: a 64-byte record here,
 * instead of the ~1 KB TCB and its two 64 KiB rings, which go when the connection enters
 * TIME-WAIT (sk_tw_enter). Records count against neither max_connections nor max_buffer_bytes
 * but against their own limit, max_time_wait; when it is reached the oldest record is ended to
 * make room (counted), as a flood of short connections must not stop new ones.
 *
 * Storage: records sit in chunks of TW_CHUNK, allocated on first need and given back when the
 * last record has expired (shrink), and refer to each other by 32-bit index, which keeps a
 * record (struct sk_tw, tcp_int.h) at 64 bytes with the whole 4-tuple and the connection's id.
 * An IPv6 record's two 16-byte addresses would not fit: they sit in a side store, an array
 * per chunk made when the chunk first holds an IPv6 record (TW_V6), so IPv4 records keep
 * their 64 bytes and a stack that never speaks IPv6 pays nothing for it.
 * A chained hash table (keyed with sk_key(SK_KEY_HASH), so a peer cannot aim at one bucket)
 * finds them by 4-tuple; one FIFO orders them by deadline. Every record lives 2*MSL from its
 * last (re)start and a restart moves it to the tail, so FIFO order is expiry order and only
 * the head's deadline is ever looked at (st->tw_deadline, folded into sk_stack_next_deadline).
 *
 * The application may still hold its handle when its connection enters TIME-WAIT (it shut
 * down and both FINs crossed). Its TCB then stays, in TIME-WAIT, in the connection table,
 * without timers and send buffer, keeping received data not yet read; the record (TW_OWNED)
 * does all the TIME-WAIT work, except that a SYN never reopens it (reusable). When the record
 * ends (2*MSL, RST, reclaim) the TCB goes CLOSED and the application is told; when the
 * application closes first, the TCB is freed and the record runs on alone. So sk_tcp_get_state says TIME-WAIT for exactly as long as the
 * record lives, and SK_EV_CLOSED comes on entry to TIME-WAIT as before.
 */
#include "tcp/tcp_int.h"
#include "util/rand.h"

#define TW_NIL UINT32_MAX
#define TW_CHUNK_SHIFT 8
#define TW_CHUNK (1u << TW_CHUNK_SHIFT)
/* RFC 6191 §2 wants the new incarnation's sequence numbers above the old one's; the new ISS is
 * at least this far above the old SND.NXT, more than a 16-bit window can cover. */
#define TW_ISS_GAP (1u << 17)

/* The addresses of an IPv6 record (TW_V6), beside its record. */
struct tw_addr6 {
    struct sk_addr laddr, raddr;
};

struct sk_twtab {
    struct sk_tw **chunk;      /* nchunks_max slots; chunk i holds records i*TW_CHUNK.. */
    struct tw_addr6 **chunk6;  /* NULL until the first IPv6 record; then nchunks_max slots,
                                * slot i NULL until chunk i holds one */
    uint32_t nchunks, nchunks_max;
    uint32_t *bucket;          /* heads of the hash chains */
    uint32_t mask;
    uint32_t free;             /* free records, through hash_next */
    uint32_t head, tail;       /* oldest and newest record */
    uint32_t used;
    /* A SYN reopened this 4-tuple (sk_tw_input): the listener's new connection starts its ISS
     * at iss_floor or above (sk_tw_reopen_iss). Valid for the segment being processed only. */
    bool reopen;
    struct sk_addr reopen_raddr;
    uint16_t reopen_lport, reopen_rport;
    uint32_t reopen_iss_floor;
};

static struct sk_tw *at(const struct sk_twtab *t, uint32_t i)
{
    return &t->chunk[i >> TW_CHUNK_SHIFT][i & (TW_CHUNK - 1)];
}

static uint32_t max_records(const struct sk_stack *st)
{
    return st->cfg.max_time_wait ? st->cfg.max_time_wait : 65536;
}

static uint32_t bucket_of(const struct sk_stack *st, const struct sk_addr *laddr, uint16_t lport,
                          const struct sk_addr *raddr, uint16_t rport)
{
    const uint64_t *k = sk_key(st, SK_KEY_HASH);
    uint32_t ports = ((uint32_t)lport << 16) | rport;
    uint8_t v[SK_PAIR_KEY_MAX];
    size_t n = sk_pair_key(laddr, raddr, &ports, 1, v);
    return (uint32_t)sk_siphash(k[0], k[1], v, n) & st->tw->mask;
}

/* Record i's addresses, of either family. */
static void tw_addrs(const struct sk_twtab *t, uint32_t i, struct sk_addr *laddr,
                     struct sk_addr *raddr)
{
    const struct sk_tw *w = at(t, i);
    if (w->flags & TW_V6) {
        const struct tw_addr6 *a = &t->chunk6[i >> TW_CHUNK_SHIFT][i & (TW_CHUNK - 1)];
        *laddr = a->laddr;
        *raddr = a->raddr;
    } else {
        *laddr = sk_addr_from_v4(w->laddr);
        *raddr = sk_addr_from_v4(w->raddr);
    }
}

/* Stores record i's addresses: IPv4 in the record, IPv6 in the side store (made if need
 * be). -ENOMEM if it cannot be. */
static int tw_set_addrs(struct sk_stack *st, uint32_t i, const struct sk_addr *laddr,
                        const struct sk_addr *raddr)
{
    struct sk_twtab *t = st->tw;
    struct sk_tw *w = at(t, i);
    if (sk_addr_is_v4(laddr) && sk_addr_is_v4(raddr)) {
        w->laddr = sk_addr_v4(laddr);
        w->raddr = sk_addr_v4(raddr);
        return 0;
    }
    if (t->chunk6 == NULL) {
        t->chunk6 = sk_mem_alloc(st, sizeof(*t->chunk6) * t->nchunks_max);
        if (t->chunk6 == NULL)
            return -ENOMEM;
        memset(t->chunk6, 0, sizeof(*t->chunk6) * t->nchunks_max);
    }
    struct tw_addr6 **c6 = &t->chunk6[i >> TW_CHUNK_SHIFT];
    if (*c6 == NULL && (*c6 = sk_mem_alloc(st, sizeof(**c6) * TW_CHUNK)) == NULL)
        return -ENOMEM;
    (*c6)[i & (TW_CHUNK - 1)] = (struct tw_addr6){*laddr, *raddr};
    w->flags |= TW_V6;
    return 0;
}

static uint32_t tw_bucket(const struct sk_stack *st, uint32_t i)
{
    struct sk_addr l, r;
    tw_addrs(st->tw, i, &l, &r);
    const struct sk_tw *w = at(st->tw, i);
    return bucket_of(st, &l, w->lport, &r, w->rport);
}

/* Frees chunk i's side store, if it has one. */
static void chunk6_free(struct sk_stack *st, uint32_t i)
{
    struct sk_twtab *t = st->tw;
    if (t->chunk6 && t->chunk6[i]) {
        sk_mem_free(st, t->chunk6[i], sizeof(struct tw_addr6) * TW_CHUNK);
        t->chunk6[i] = NULL;
    }
}

/* The table comes with the first record: a stack that never closes first pays nothing. */
static int tab_init(struct sk_stack *st)
{
    if (st->tw)
        return 0;
    struct sk_twtab *t = sk_mem_alloc(st, sizeof(*t));
    if (t == NULL)
        return -ENOMEM;
    memset(t, 0, sizeof(*t));
    uint32_t max = max_records(st);
    t->nchunks_max = (max + TW_CHUNK - 1) / TW_CHUNK;
    uint32_t nb = 256; /* grown with the records (grow_buckets) */
    t->mask = nb - 1;
    t->chunk = sk_mem_alloc(st, sizeof(*t->chunk) * t->nchunks_max);
    t->bucket = sk_mem_alloc(st, sizeof(*t->bucket) * nb);
    if (t->chunk == NULL || t->bucket == NULL) {
        sk_mem_free(st, t->chunk, sizeof(*t->chunk) * t->nchunks_max);
        sk_mem_free(st, t->bucket, sizeof(*t->bucket) * nb);
        sk_mem_free(st, t, sizeof(*t));
        return -ENOMEM;
    }
    memset(t->bucket, 0xff, sizeof(*t->bucket) * nb); /* every chain empty: TW_NIL */
    t->free = t->head = t->tail = TW_NIL;
    st->tw = t;
    return 0;
}

void sk_tw_free_all(struct sk_stack *st)
{
    struct sk_twtab *t = st->tw;
    if (t == NULL)
        return;
    for (uint32_t i = 0; i < t->nchunks; i++) {
        sk_mem_free(st, t->chunk[i], sizeof(struct sk_tw) * TW_CHUNK);
        chunk6_free(st, i);
    }
    sk_mem_free(st, t->chunk6, sizeof(*t->chunk6) * t->nchunks_max);
    sk_mem_free(st, t->chunk, sizeof(*t->chunk) * t->nchunks_max);
    sk_mem_free(st, t->bucket, sizeof(*t->bucket) * (t->mask + 1));
    sk_mem_free(st, t, sizeof(*t));
    st->tw = NULL;
    st->tw_deadline = SK_TIME_NEVER;
    st->ctr.timewait_records = 0;
}

static uint32_t lookup(const struct sk_stack *st, const struct sk_addr *laddr, uint16_t lport,
                       const struct sk_addr *raddr, uint16_t rport)
{
    const struct sk_twtab *t = st->tw;
    if (t == NULL || t->used == 0)
        return TW_NIL;
    for (uint32_t i = t->bucket[bucket_of(st, laddr, lport, raddr, rport)]; i != TW_NIL;
         i = at(t, i)->hash_next) {
        const struct sk_tw *w = at(t, i);
        if (w->lport != lport || w->rport != rport)
            continue;
        struct sk_addr l, r;
        tw_addrs(t, i, &l, &r);
        if (sk_addr_eq(&r, raddr) && sk_addr_eq(&l, laddr))
            return i;
    }
    return TW_NIL;
}

/* The records' FIFO, oldest first, is linked by 32-bit indices into the chunks rather than by
 * util/list.h's pointers: two pointers would take 16 bytes where the indices take 8, and the
 * record must stay within 64 bytes (the budget for TIME-WAIT). */
static void fifo_append(struct sk_stack *st, uint32_t i)
{
    struct sk_twtab *t = st->tw;
    struct sk_tw *w = at(t, i);
    w->older = t->tail;
    w->newer = TW_NIL;
    if (t->tail != TW_NIL)
        at(t, t->tail)->newer = i;
    else
        t->head = i;
    t->tail = i;
    st->tw_deadline = at(t, t->head)->deadline;
}

static void fifo_unlink(struct sk_stack *st, uint32_t i)
{
    struct sk_twtab *t = st->tw;
    struct sk_tw *w = at(t, i);
    if (w->older != TW_NIL)
        at(t, w->older)->newer = w->newer;
    else
        t->head = w->newer;
    if (w->newer != TW_NIL)
        at(t, w->newer)->older = w->older;
    else
        t->tail = w->older;
    st->tw_deadline = t->head != TW_NIL ? at(t, t->head)->deadline : SK_TIME_NEVER;
}

/* Gives record i (taken by tw_new, off every list) back. */
static void tw_free_index(struct sk_stack *st, uint32_t i)
{
    struct sk_twtab *t = st->tw;
    at(t, i)->hash_next = t->free;
    t->free = i;
    t->used--;
    st->ctr.timewait_records = t->used;
}

/* Takes record i off the table, the FIFO and its port's count, and frees it. */
static void tw_remove(struct sk_stack *st, uint32_t i)
{
    struct sk_twtab *t = st->tw;
    struct sk_tw *w = at(t, i);
    uint32_t *p = &t->bucket[tw_bucket(st, i)];
    while (*p != i)
        p = &at(t, *p)->hash_next;
    *p = w->hash_next;
    fifo_unlink(st, i);
    sk_port_unref(st, w->lport);
    tw_free_index(st, i);
}

/* TIME-WAIT ends (2*MSL, RST, reuse, reclaim): the record goes, and the TCB the application
 * still holds goes CLOSED (traced and notified there); a record alone traces the end itself. */
static void tw_end(struct sk_stack *st, uint32_t i)
{
    struct sk_tw w = *at(st->tw, i);
    struct sk_addr laddr, raddr;
    tw_addrs(st->tw, i, &laddr, &raddr);
    tw_remove(st, i);
    if (w.flags & TW_OWNED) {
        struct sk_tcp *c = sk_tcb_lookup(st, &laddr, w.lport, &raddr, w.rport);
        if (c && c->state == SK_TCP_TIME_WAIT)
            sk_tcp_terminate(c, 0);
        return;
    }
    struct sk_trace_event ev = {.kind = SK_TRACE_STATE, .conn_id = w.conn_id};
    ev.u.state.from = SK_TCP_TIME_WAIT;
    ev.u.state.to = SK_TCP_CLOSED;
    sk_trace_emit(st, &ev);
}

/* Chains stay at two records or fewer on average: past that the bucket array doubles and
 * every record is hashed again, a walk that the doubling pays for (amortized O(1) per record).
 * Without memory for it the chains just grow longer. */
static void grow_buckets(struct sk_stack *st)
{
    struct sk_twtab *t = st->tw;
    uint32_t nb = t->mask + 1;
    if (t->used < 2 * nb || nb >= (1u << 24))
        return;
    uint32_t *b = sk_mem_alloc(st, sizeof(*b) * nb * 2);
    if (b == NULL)
        return;
    memset(b, 0xff, sizeof(*b) * nb * 2);
    sk_mem_free(st, t->bucket, sizeof(*b) * nb);
    t->bucket = b;
    t->mask = nb * 2 - 1;
    for (uint32_t i = t->head; i != TW_NIL; i = at(t, i)->newer) {
        struct sk_tw *w = at(t, i);
        uint32_t *p = &b[tw_bucket(st, i)];
        w->hash_next = *p;
        *p = i;
    }
}

/* A free record, at the tail of the FIFO. At max_time_wait the oldest is ended for it. */
static uint32_t tw_new(struct sk_stack *st)
{
    if (tab_init(st) != 0)
        return TW_NIL;
    struct sk_twtab *t = st->tw;
    if (t->used >= max_records(st)) {
        st->ctr.tcp_timewait_reclaimed++;
        tw_end(st, t->head);
    }
    if (t->free == TW_NIL) {
        if (t->nchunks == t->nchunks_max)
            return TW_NIL; /* never: max_records fit in nchunks_max chunks */
        struct sk_tw *c = sk_mem_alloc(st, sizeof(*c) * TW_CHUNK);
        if (c == NULL)
            return TW_NIL;
        t->chunk[t->nchunks] = c;
        for (uint32_t k = TW_CHUNK; k-- > 0;) {
            c[k].hash_next = t->free;
            t->free = t->nchunks * TW_CHUNK + k;
        }
        t->nchunks++;
    }
    uint32_t i = t->free;
    t->free = at(t, i)->hash_next;
    t->used++;
    st->ctr.timewait_records = t->used;
    return i;
}

/* RFC 9293 §3.10.7.4, TIME-WAIT under "eighth": 2*MSL starts (again) now. */
static void restart(struct sk_stack *st, uint32_t i)
{
    fifo_unlink(st, i);
    at(st->tw, i)->deadline = st->now + 2ull * st->cfg.msl_us;
    fifo_append(st, i);
}

/* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=flags>, with our timestamp (RFC 7323 §3.2) if agreed. */
static void tw_send(struct sk_stack *st, uint32_t i, uint8_t flags)
{
    const struct sk_tw *w = at(st->tw, i);
    /* A RST offers no window (as sk_tcp_send_ctl's). */
    struct sk_tcp_hdr h = {.sport = w->lport, .dport = w->rport, .seq = w->snd_nxt,
                           .ack = w->rcv_nxt, .flags = flags,
                           .wnd = (flags & SK_TCP_RST) ? 0 : w->wnd};
    if (w->flags & TW_TS) {
        h.opts.present = SK_OPT_TIMESTAMP;
        h.opts.ts_val = (uint32_t)(st->now / 1000) + w->ts_offset; /* as sk_tcp_ts_now */
        h.opts.ts_ecr = w->ts_recent;
    }
    struct sk_addr laddr, raddr;
    tw_addrs(st->tw, i, &laddr, &raddr);
    sk_tcp_emit_bare(st, w->conn_id, &laddr, &raddr, &h);
}

static void tw_ack(struct sk_stack *st, uint32_t i)
{
    tw_send(st, i, SK_TCP_ACK);
}

static void tw_drop(struct sk_stack *st, enum sk_drop_reason r, const uint8_t *frame,
                    size_t frame_len)
{
    sk_drop(st, r, NULL, frame, frame_len);
}

void sk_tw_enter(struct sk_tcp *c)
{
    struct sk_stack *st = c->st;
    for (int k = 0; k < SK_TCB_TIMERS; k++)
        c->timer[k] = SK_TIME_NEVER;
    sk_timer_remove(c);
    sk_ring_free(st, &c->snd);
    if (c->rcv.len == 0)
        sk_ring_free(st, &c->rcv);
    uint32_t i = tw_new(st);
    /* The record keeps its port counted as used (ports.c), as the TCB did: bind without
     * SO_REUSEADDR and the port pickers see it. */
    if (i != TW_NIL && sk_port_ref(st, c->lport) != 0) {
        tw_free_index(st, i);
        i = TW_NIL;
    }
    if (i == TW_NIL) {
        /* No memory for the record (counted in alloc_failures): TIME-WAIT ends here. */
        sk_tcp_terminate(c, 0);
        return;
    }
    struct sk_tw *w = at(st->tw, i);
    memset(w, 0, sizeof(*w));
    w->flags = (c->flags & TF_TS) ? TW_TS : 0;
    if (tw_set_addrs(st, i, &c->laddr, &c->raddr) != 0) {
        sk_port_unref(st, c->lport);
        tw_free_index(st, i);
        sk_tcp_terminate(c, 0); /* as for no record at all (alloc_failures counted) */
        return;
    }
    w->lport = c->lport;
    w->rport = c->rport;
    w->snd_nxt = c->snd_max;
    w->rcv_nxt = c->rcv_nxt;
    w->ts_recent = c->ts_recent;
    w->ts_offset = c->ts_offset;
    w->rcv_wscale = c->rcv_wscale;
    uint32_t adv = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
    w->wnd = (uint16_t)min_u32(adv >> c->rcv_wscale, 65535);
    w->conn_id = c->conn_id;
    w->deadline = st->now + 2ull * st->cfg.msl_us;
    uint32_t *b = &st->tw->bucket[tw_bucket(st, i)];
    w->hash_next = *b;
    *b = i;
    fifo_append(st, i);
    grow_buckets(st);
    if (c->flags & TF_USER) {
        w->flags |= TW_OWNED;
        return;
    }
    /* The TCB goes without a trace of CLOSED: the connection is still in TIME-WAIT, and the
     * record traces its end. */
    c->state = SK_TCP_CLOSED;
    sk_tcp_terminate(c, 0);
}

/* The application closes its TCB in TIME-WAIT (RFC 9293 §3.10.4: TIME-WAIT goes on): the TCB
 * is freed, without a trace of CLOSED, and the record runs on alone. */
void sk_tw_release(struct sk_tcp *c)
{
    uint32_t i = lookup(c->st, &c->laddr, c->lport, &c->raddr, c->rport);
    if (i != TW_NIL)
        at(c->st->tw, i)->flags &= (uint8_t)~TW_OWNED;
    c->state = SK_TCP_CLOSED;
    sk_tcp_terminate(c, 0);
}

/* RFC 9293 §3.10.5 ABORT in TIME-WAIT deletes the TCB: TIME-WAIT ends with it. */
void sk_tw_forget(struct sk_tcp *c)
{
    uint32_t i = lookup(c->st, &c->laddr, c->lport, &c->raddr, c->rport);
    if (i != TW_NIL)
        tw_remove(c->st, i);
}

bool sk_tw_in_use(struct sk_stack *st, const struct sk_addr *laddr, uint16_t lport,
                  const struct sk_addr *raddr, uint16_t rport)
{
    return lookup(st, laddr, lport, raddr, rport) != TW_NIL;
}

/* The last record went: a burst of TIME-WAITs gives its memory back (chunks, a grown bucket
 * array) once it has drained. */
static void shrink(struct sk_stack *st)
{
    struct sk_twtab *t = st->tw;
    if (t->used != 0 || (t->nchunks == 0 && t->mask == 255))
        return;
    for (uint32_t i = 0; i < t->nchunks; i++) {
        sk_mem_free(st, t->chunk[i], sizeof(struct sk_tw) * TW_CHUNK);
        chunk6_free(st, i);
    }
    t->nchunks = 0;
    t->free = TW_NIL;
    uint32_t *b = sk_mem_alloc(st, sizeof(*b) * 256);
    if (b == NULL)
        return;
    sk_mem_free(st, t->bucket, sizeof(*b) * (t->mask + 1));
    memset(b, 0xff, sizeof(*b) * 256);
    t->bucket = b;
    t->mask = 255;
}

void sk_tw_timer(struct sk_stack *st)
{
    struct sk_twtab *t = st->tw;
    while (t && t->head != TW_NIL && at(t, t->head)->deadline <= st->now) {
        struct sk_trace_event ev = {.kind = SK_TRACE_TIMER, .conn_id = at(t, t->head)->conn_id};
        ev.u.timer.timer = SK_TIMER_TIME_WAIT;
        sk_trace_emit(st, &ev);
        tw_end(st, t->head);
    }
    if (t)
        shrink(st);
}

/* RFC 6191 §2 (RFC 1122 §4.2.2.13 when either side has no timestamps): may this SYN reopen
 * the 4-tuple? With timestamps on both incarnations, if its TSval is above TS.Recent;
 * otherwise if its sequence number is above RCV.NXT, the last the old incarnation saw. */
static bool reusable(const struct sk_stack *st, const struct sk_tw *w, const struct sk_tcp_hdr *h)
{
    if ((h->flags & (SK_TCP_SYN | SK_TCP_ACK | SK_TCP_RST)) != SK_TCP_SYN)
        return false;
    /* Only a TIME-WAIT the application has let go of: its handle would see the connection
     * replaced under it. The SYN gets RFC 5961's challenge ACK instead, as in FreeBSD, whose
     * TIME-WAIT after shutdown is still a full connection (packetdrill's
     * rcv-syn-time-wait-using-shutdown-*-secure). */
    if (w->flags & TW_OWNED)
        return false;
    bool new_ts = (h->opts.present & SK_OPT_TIMESTAMP) && st->cfg.opt_timestamps;
    if ((w->flags & TW_TS) && new_ts)
        return seq_gt(h->opts.ts_val, w->ts_recent);
    return seq_gt(h->seq, w->rcv_nxt);
}

uint32_t sk_tw_reopen_iss(struct sk_stack *st, const struct sk_tcp *c, uint32_t isn)
{
    struct sk_twtab *t = st->tw;
    if (t == NULL || !t->reopen || !sk_addr_eq(&t->reopen_raddr, &c->raddr) ||
        t->reopen_lport != c->lport || t->reopen_rport != c->rport)
        return isn;
    t->reopen = false;
    return seq_ge(isn, t->reopen_iss_floor) ? isn : t->reopen_iss_floor;
}

/* RFC 9293 §3.10.7.4 first check, against the window of our last ACK. */
static bool acceptable(const struct sk_tw *w, uint32_t seq, uint32_t seg_len)
{
    uint32_t wnd = (uint32_t)w->wnd << w->rcv_wscale, nxt = w->rcv_nxt;
    if (seg_len == 0)
        return wnd == 0 ? seq == nxt : seq_le(nxt, seq) && seq_lt(seq, nxt + wnd);
    uint32_t last = seq + seg_len - 1;
    return wnd != 0 && ((seq_le(nxt, seq) && seq_lt(seq, nxt + wnd)) ||
                        (seq_le(nxt, last) && seq_lt(last, nxt + wnd)));
}

/* sk_config.bsd_time_wait (FreeBSD's tcp_twcheck): no ACK, dropped silently; anything but an
 * in-sequence bare ACK, answered with an ACK; the retransmitted FIN restarts 2*MSL. */
static void bsd_segment(struct sk_stack *st, uint32_t i, const struct sk_tcp_hdr *h,
                        const uint8_t *frame, size_t frame_len)
{
    struct sk_tw *w = at(st->tw, i);
    bool fin = (h->flags & SK_TCP_FIN) != 0;
    if (!(h->flags & SK_TCP_ACK)) {
        tw_drop(st, SK_DROP_TCP_NO_ACK, frame, frame_len);
        return;
    }
    if (fin && h->seq + (uint32_t)h->payload_len + 1 == w->rcv_nxt)
        restart(st, i);
    if (fin || h->payload_len || h->seq != w->rcv_nxt || h->ack != w->snd_nxt)
        tw_ack(st, i);
}

/* RFC 9293 §3.10.7.4 for TIME-WAIT, second and fourth checks: RST and SYN. True if the
 * segment was one of them (and is dealt with). */
static bool tw_rst_or_syn(struct sk_stack *st, uint32_t i, const struct sk_tcp_hdr *h,
                          const uint8_t *frame, size_t frame_len)
{
    struct sk_tw *w = at(st->tw, i);
    /* Second, RST: RFC 5961 §3.2, only an exact one counts, else a challenge ACK; then RFC
     * 9293 ends TIME-WAIT, unless sk_config.rfc1337 (RFC 1337 §3) ignores it. */
    if (h->flags & SK_TCP_RST) {
        if (h->seq == w->rcv_nxt && !st->cfg.rfc1337) {
            tw_end(st, i);
            return true;
        }
        tw_drop(st, SK_DROP_TCP_RST_INVALID, frame, frame_len);
        if (h->seq != w->rcv_nxt && sk_tcp_challenge_budget(st)) {
            st->ctr.tcp_challenge_acks++;
            tw_ack(st, i);
        }
        return true;
    }
    /* Fourth, a SYN that may not (or, without a listener, cannot) reopen the 4-tuple: RFC 5961
     * §4.2's challenge ACK, or RFC 793's RST (sk_config.rfc793_syn). */
    if (h->flags & SK_TCP_SYN) {
        tw_drop(st, SK_DROP_TCP_SYN_INVALID, frame, frame_len);
        if (st->cfg.rfc793_syn) {
            tw_send(st, i, SK_TCP_RST | SK_TCP_ACK);
            tw_end(st, i);
            return true;
        }
        if (sk_tcp_challenge_budget(st)) {
            st->ctr.tcp_challenge_acks++;
            tw_ack(st, i);
        }
        return true;
    }
    return false;
}

/* RFC 9293 §3.10.7.4 for TIME-WAIT, in the RFC's order. */
static void tw_segment(struct sk_stack *st, uint32_t i, const struct sk_tcp_hdr *h,
                       const uint8_t *frame, size_t frame_len)
{
    struct sk_tw *w = at(st->tw, i);
    bool rst = (h->flags & SK_TCP_RST) != 0, syn = (h->flags & SK_TCP_SYN) != 0;
    bool fin = (h->flags & SK_TCP_FIN) != 0;
    uint32_t len = (uint32_t)h->payload_len;
    if (st->cfg.bsd_time_wait && !rst && !syn) {
        bsd_segment(st, i, h, frame, frame_len);
        return;
    }
    /* RFC 5961 §4.2: a SYN gets a challenge ACK whatever its sequence number and timestamp,
     * so the fourth check comes first for it (as in tcp_input.c's sync_input). */
    if (syn && !rst && tw_rst_or_syn(st, i, h, frame, frame_len))
        return;
    /* RFC 7323 §5.3 PAWS: an older TSval marks an old duplicate; ACKed and dropped. TS.Recent
     * keeps no age: a record lives 2*MSL, nowhere near §5.5's 24 days. */
    if ((w->flags & TW_TS) && (h->opts.present & SK_OPT_TIMESTAMP) && !rst &&
        seq_lt(h->opts.ts_val, w->ts_recent)) {
        tw_drop(st, SK_DROP_TCP_PAWS, frame, frame_len);
        tw_ack(st, i);
        return;
    }
    /* First, the sequence number: an unacceptable segment gets an ACK (a RST nothing). The
     * retransmitted FIN is one: its ACK was lost, so 2*MSL starts over ("eighth"). */
    if (!acceptable(w, h->seq, len + syn + fin)) {
        tw_drop(st, SK_DROP_TCP_SEQ, frame, frame_len);
        if (rst)
            return;
        if (fin && h->seq + len + 1 == w->rcv_nxt)
            restart(st, i);
        tw_ack(st, i);
        return;
    }
    if (tw_rst_or_syn(st, i, h, frame, frame_len))
        return;
    /* Fifth, the ACK: none, dropped; one for something never sent, answered. */
    if (!(h->flags & SK_TCP_ACK)) {
        tw_drop(st, SK_DROP_TCP_NO_ACK, frame, frame_len);
        return;
    }
    if (seq_gt(h->ack, w->snd_nxt)) {
        tw_drop(st, SK_DROP_TCP_ACK_INVALID, frame, frame_len);
        tw_ack(st, i);
        return;
    }
    /* RFC 7323 §4.3: TS.Recent follows a segment that covers Last.ACK.sent (RCV.NXT). */
    if ((w->flags & TW_TS) && (h->opts.present & SK_OPT_TIMESTAMP) && seq_le(h->seq, w->rcv_nxt))
        w->ts_recent = h->opts.ts_val;
    /* Seventh, text: cannot be, the peer's FIN came before it; ignored. Eighth, a FIN: ACKed,
     * and 2*MSL starts over. */
    if (len > 0)
        tw_drop(st, SK_DROP_TCP_RCV_WINDOW, frame, frame_len);
    if (fin) {
        restart(st, i);
        tw_ack(st, i);
    }
}

bool sk_tw_input(struct sk_stack *st, const struct sk_l3 *ip, const struct sk_tcp_hdr *h,
                 const uint8_t *frame, size_t frame_len)
{
    if (st->tw == NULL)
        return false;
    st->tw->reopen = false;
    uint32_t i = lookup(st, &ip->dst, h->dport, &ip->src, h->sport);
    if (i == TW_NIL)
        return false;
    struct sk_tw *w = at(st->tw, i);
    /* The listener comes first: a SYN RFC 6191 admits reopens the 4-tuple only where one
     * waits; elsewhere TIME-WAIT answers it (no RST, the record stays). */
    if (reusable(st, w, h) && sk_listener_lookup(st, h->dport, ip->v6, &ip->dst) != NULL) {
        struct sk_twtab *t = st->tw;
        t->reopen = true;
        t->reopen_raddr = ip->src;
        t->reopen_lport = w->lport;
        t->reopen_rport = w->rport;
        t->reopen_iss_floor = w->snd_nxt + TW_ISS_GAP;
        st->ctr.tcp_timewait_reused++;
        tw_end(st, i);
        return false;
    }
    sk_tcp_trace_seg_as(st, SK_TRACE_SEG_IN, NULL, w->conn_id, &ip->src, &ip->dst, h, frame,
                        frame_len);
    tw_segment(st, i, h, frame, frame_len);
    return true;
}
