/* TCBs, their tables, and the user calls of RFC 9293 §3.10.1-3.10.6 (OPEN, SEND, RECEIVE,
 * CLOSE, ABORT, STATUS) in their non-blocking form.
 *
 * Lifetimes: the application owns a handle (TF_USER) until close/abort. The protocol owns the
 * TCB until it reaches CLOSED. A TCB is freed when neither holds it, at the end of the current
 * stack entry point (the reap list), so no pointer on the call stack dangles.
 */
#include <limits.h>

#include "tcp/tcp_cc.h"
#include "ip/ip_int.h"
#include "tcp/tcp_int.h"
#include "tcp/tcp_ranges.h"
#include "util/rand.h"

const char *sk_tcp_state_name(enum sk_tcp_state s)
{
    static const char *const names[SK_TCP_STATE_COUNT] = {
        "CLOSED",      "LISTEN",     "SYN-SENT",   "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
        "FIN-WAIT-2",  "CLOSE-WAIT", "CLOSING",    "LAST-ACK",     "TIME-WAIT"};
    return (unsigned)s < SK_TCP_STATE_COUNT ? names[s] : "?";
}

/* ---- Tables ---- */

/* A keyed hash (key purpose p) of the 4-tuple: sk_pair_key's bytes with the ports' word
 * lport << 16 | rport as the tail (RFC 6528's F for the ISN, the tables' bucket hash). */
static uint32_t tuple_hash_key(const struct sk_stack *st, enum sk_key_purpose p,
                               const struct sk_addr *laddr, uint16_t lport,
                               const struct sk_addr *raddr, uint16_t rport)
{
    const uint64_t *k = sk_key(st, p);
    uint32_t ports = ((uint32_t)lport << 16) | rport;
    uint8_t t[SK_PAIR_KEY_MAX];
    size_t n = sk_pair_key(laddr, raddr, &ports, 1, t);
    return (uint32_t)sk_siphash(k[0], k[1], t, n);
}

static uint32_t tuple_hash(const struct sk_stack *st, const struct sk_addr *laddr, uint16_t lport,
                           const struct sk_addr *raddr, uint16_t rport)
{
    /* Keyed (its own key, SK_KEY_HASH) so that a peer cannot aim many connections at one
     * bucket, and learns nothing about the ISN key from the buckets' timing. */
    return tuple_hash_key(st, SK_KEY_HASH, laddr, lport, raddr, rport);
}

int sk_tcb_hash_insert(struct sk_tcp *c)
{
    struct sk_stack *st = c->st;
    if (sk_port_ref(st, c->lport) != 0) /* bind and the port picker see the port taken */
        return -ENOMEM;
    if (c->state == SK_TCP_LISTEN) {
        struct sk_tcp **b = &st->listen_tab[c->lport & st->listen_tab_mask];
        c->hash_next = *b;
        *b = c;
        return 0;
    }
    uint32_t h = tuple_hash(st, &c->laddr, c->lport, &c->raddr, c->rport) & st->conn_tab_mask;
    c->hash_next = st->conn_tab[h];
    st->conn_tab[h] = c;
    return 0;
}

static struct sk_tcp **find_slot(struct sk_tcp *c)
{
    struct sk_stack *st = c->st;
    struct sk_tcp **p;
    if (c->state == SK_TCP_LISTEN)
        p = &st->listen_tab[c->lport & st->listen_tab_mask];
    else
        p = &st->conn_tab[tuple_hash(st, &c->laddr, c->lport, &c->raddr, c->rport) &
                          st->conn_tab_mask];
    for (; *p; p = &(*p)->hash_next)
        if (*p == c)
            return p;
    return NULL;
}

void sk_tcb_hash_remove(struct sk_tcp *c)
{
    struct sk_tcp **p = find_slot(c);
    if (p) {
        *p = c->hash_next;
        sk_port_unref(c->st, c->lport);
    }
    c->hash_next = NULL;
}

struct sk_tcp *sk_tcb_lookup(struct sk_stack *st, const struct sk_addr *laddr, uint16_t lport,
                             const struct sk_addr *raddr, uint16_t rport)
{
    uint32_t h = tuple_hash(st, laddr, lport, raddr, rport) & st->conn_tab_mask;
    for (struct sk_tcp *c = st->conn_tab[h]; c; c = c->hash_next)
        if (c->lport == lport && c->rport == rport && sk_addr_eq(&c->raddr, raddr) &&
            sk_addr_eq(&c->laddr, laddr))
            return c;
    return NULL;
}

/* The listener on lport whatever the families it takes (for bind and the port pickers). */
static struct sk_tcp *listener_on(struct sk_stack *st, uint16_t lport)
{
    for (struct sk_tcp *c = st->listen_tab[lport & st->listen_tab_mask]; c; c = c->hash_next)
        if (c->lport == lport)
            return c;
    return NULL;
}

struct sk_tcp *sk_listener_lookup(struct sk_stack *st, uint16_t lport, bool v6,
                                  const struct sk_addr *dst)
{
    for (struct sk_tcp *c = st->listen_tab[lport & st->listen_tab_mask]; c; c = c->hash_next)
        if (c->lport == lport && !(v6 ? c->lsn->v4only : c->lsn->v6only) &&
            (!c->lsn->bound || sk_addr_eq(&c->lsn->addr, dst)))
            return c;
    return NULL;
}

void sk_tcp_listen_addr(struct sk_tcp *l, const struct sk_addr *a)
{
    if (l->lsn == NULL)
        return;
    l->lsn->bound = !sk_addr_is_any(a);
    l->lsn->addr = *a;
}

void sk_tcp_listen_family(struct sk_tcp *l, int family)
{
    if (l->lsn == NULL)
        return;
    l->lsn->v4only = family == 4;
    l->lsn->v6only = family == 6;
}

/* ---- TCB life ---- */

void sk_tcb_init(struct sk_stack *st, struct sk_tcp *c)
{
    memset(c, 0, sizeof(*c));
    c->st = st;
    c->heap_idx = UINT32_MAX;
    for (int k = 0; k < SK_TCB_TIMERS; k++)
        c->timer[k] = SK_TIME_NEVER;
    c->deadline = SK_TIME_NEVER;
    c->sndbuf_size = st->cfg.sndbuf_bytes;
    c->rcvbuf_size = st->cfg.rcvbuf_bytes;
    c->rto_us = st->cfg.rto_initial_us;
    c->user_timeout_us = st->cfg.user_timeout_us;
    c->keepalive = st->cfg.keepalive;
    c->ka_idle_us = st->cfg.keepalive_idle_us;
    c->ka_intvl_us = st->cfg.keepalive_intvl_us;
    c->ka_cnt = st->cfg.keepalive_cnt;
    c->laddr = sk_addr_from_v4(st->cfg.addr);
    c->cc = st->cfg.congestion_control ? sk_cc_find(st->cfg.congestion_control) : &sk_cc_cubic;
}

int sk_tcb_ext_attach(struct sk_tcp *c)
{
    if (c->x)
        return 0;
    struct sk_stack *st = c->st;
    struct sk_tcp_ext *x = sk_mem_alloc(st, sizeof(*x));
    if (x == NULL)
        return -ENOMEM; /* counted: alloc_failures */
    memset(x, 0, sizeof(*x));
    uint8_t ooo_max = st->cfg.ooo_ranges_max, sb_max = st->cfg.sack_ranges_max;
    sk_ranges_init(&x->ooo, NULL, ooo_max && ooo_max < SK_OOO_MAX ? ooo_max : SK_OOO_MAX,
                   NULL);
    sk_ranges_init(&x->sb, NULL, sb_max && sb_max < SK_SB_MAX ? sb_max : SK_SB_MAX,
                   &x->sack_work);
    /* RecoveryPoint and the ECN reduction point start at ISS (RFC 6582 §3.2 step 1): nothing
     * before the connection's first byte can end a recovery. */
    x->recover = c->iss;
    x->ecn_recover = c->iss;
    x->cubic.epoch_start = SK_TIME_NEVER;
    x->last_data_rcv = st->now; /* Linux's lrcvtime starts at the synchronization */
    c->x = x;
    return 0;
}

struct sk_tcp *sk_tcb_new(struct sk_stack *st)
{
    if (st->ctr.connections >= st->cfg.max_connections) {
        st->ctr.limit_connections++;
        return NULL;
    }
    struct sk_tcp *c = sk_mem_alloc(st, sizeof(*c));
    if (c == NULL)
        return NULL;
    sk_tcb_init(st, c);
    c->conn_id = st->next_conn_id++;
    sk_list_prepend(&st->all, &c->all_link);
    st->ctr.connections++;
    return c;
}

static void acceptq_remove(struct sk_tcp *l, struct sk_tcp *c)
{
    if (c->flags & TF_IN_ACCEPTQ) { /* the link is shared (struct sk_tcp): ask the flag */
        sk_list_remove(&c->acceptq_link);
        l->lsn->accept_queued--;
    }
    c->flags &= ~TF_IN_ACCEPTQ;
}

static struct sk_tcp *acceptq_first(struct sk_tcp *l)
{
    return sk_list_entry(sk_list_first(&l->lsn->acceptq), struct sk_tcp, acceptq_link);
}

/* Detaches a passive child from its listener's counts and queues. */
static void detach_from_listener(struct sk_tcp *c)
{
    struct sk_tcp *l = c->listener;
    if (l == NULL)
        return;
    sk_tfo_child_done(c);
    if (c->flags & TF_IN_ACCEPTQ)
        acceptq_remove(l, c);
    sk_tcp_synq_remove(c);
    c->listener = NULL;
}

void sk_tcb_destroy(struct sk_tcp *c)
{
    struct sk_stack *st = c->st;
    sk_timer_remove(c);
    sk_ring_free(st, &c->snd);
    sk_ring_free(st, &c->rcv);
    sk_tcp_marks_free(c);
    if (c->x) {
        sk_tcb_ranges_release(c, &c->x->ooo);
        sk_tcb_ranges_release(c, &c->x->sb);
        sk_rack_release(c);
        sk_cc_hystart_release(c);
        sk_mem_free(st, c->x, sizeof(*c->x));
    }
    sk_mem_free(st, c->lsn, sizeof(*c->lsn));
    sk_list_remove(&c->all_link);
    st->ctr.connections--;
    sk_mem_free(st, c, sizeof(*c));
}

static void reap(struct sk_tcp *c)
{
    if (c->flags & TF_DEAD)
        return;
    c->flags |= TF_DEAD;
    sk_list_prepend(&c->st->reap, &c->reap_link);
}

void sk_tcp_set_state(struct sk_tcp *c, enum sk_tcp_state s)
{
    if (c->state == s)
        return;
    struct sk_trace_event ev = {.kind = SK_TRACE_STATE, .conn = c, .conn_id = c->conn_id};
    ev.u.state.from = c->state;
    ev.u.state.to = s;
    c->state = s;
    if (s == SK_TCP_ESTABLISHED)
        c->st->ctr.tcp_established++;
    sk_trace_emit(c->st, &ev);
}

void sk_tcp_terminate(struct sk_tcp *c, int err)
{
    /* RFC 1122 §4.2.3.9: a connection that times out after ICMP soft errors reports what the
     * network said (host or net unreachable), as Linux does; a PMTU update is not an error. */
    if (err == -ETIMEDOUT && c->soft_error != 0 && c->soft_error != -EMSGSIZE)
        err = c->soft_error;
    if (err != 0 && c->error == 0) {
        c->error = err;
        c->st->ctr.tcp_conn_failed++;
        struct sk_trace_event ev = {.kind = SK_TRACE_ERROR, .conn = c, .conn_id = c->conn_id};
        ev.u.error.err = err;
        sk_trace_emit(c->st, &ev);
    }
    /* A connection that fails while it waits in the accept queue stays there, closed with
     * its error: Linux's inet_csk_accept hands out what the queue holds, and the
     * application's first call reports the reset (or timeout). */
    bool queued = (c->flags & TF_IN_ACCEPTQ) && c->error != 0;
    if (!queued)
        detach_from_listener(c);
    sk_tcb_hash_remove(c);
    sk_timer_remove(c);
    sk_tcp_set_state(c, SK_TCP_CLOSED);
    if (c->flags & TF_USER)
        sk_tcp_notify(c);
    else if (!queued)
        reap(c);
}

unsigned sk_tcp_events(const struct sk_tcp *c)
{
    unsigned ev = 0;
    switch (c->state) {
    case SK_TCP_LISTEN:
        return sk_list_empty(&c->lsn->acceptq) ? 0 : SK_EV_ACCEPTABLE;
    case SK_TCP_CLOSED:
        ev |= SK_EV_CLOSED;
        if (c->error)
            ev |= SK_EV_ERROR | SK_EV_READABLE | SK_EV_WRITABLE;
        if (c->rcv.len || (c->flags & TF_FIN_RCVD))
            ev |= SK_EV_READABLE;
        return ev;
    case SK_TCP_TIME_WAIT:
        ev |= SK_EV_CLOSED;
        break;
    default:
        break;
    }
    if (c->state >= SK_TCP_ESTABLISHED)
        ev |= SK_EV_CONNECTED;
    /* SO_RCVLOWAT: readable once the mark is reached (Linux's tcp_stream_is_readable). */
    if (c->rcv.len >= sk_tcp_rcvlowat_mark(c) || (c->flags & TF_FIN_RCVD))
        ev |= SK_EV_READABLE;
    /* Writable with room in the send buffer (sk_tcp_snd_room) and, under TCP_NOTSENT_LOWAT,
     * while twice the unsent bytes are below the mark (Linux's tcp_poll:
     * __sk_stream_is_writeable(sk, 1)). */
    if ((c->state == SK_TCP_ESTABLISHED || c->state == SK_TCP_CLOSE_WAIT) &&
        !(c->flags & TF_FIN_QUEUED) && sk_tcp_snd_room(c) &&
        (sk_tcp_notsent_mark(c) == UINT32_MAX ||
         2 * (uint64_t)sk_tcp_notsent(c) < sk_tcp_notsent_mark(c)))
        ev |= SK_EV_WRITABLE;
    /* A deferred Fast Open connection waits for the application's first write, which sends
     * the SYN: it is writable (Linux's tcp_poll for DEFER_CONNECT). */
    if (c->state == SK_TCP_SYN_SENT && (c->fo & FO_DEFER))
        ev |= SK_EV_WRITABLE;
    return ev;
}

void sk_tcp_notify(struct sk_tcp *c)
{
    unsigned ev = sk_tcp_events(c);
    if (ev == c->last_events)
        return;
    c->last_events = ev;
    if (c->cb && (c->flags & TF_USER))
        c->cb(c, ev, c->cb_ctx);
}

/* RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey), M a 4 µs
 * clock, F SipHash-2-4 under the stack's ISN key (SK_KEY_ISN, derived from sk_config.secret). */
uint32_t sk_tcp_isn(struct sk_stack *st, const struct sk_addr *laddr, uint16_t lport,
                    const struct sk_addr *raddr, uint16_t rport)
{
    /* F's input is sk_pair_key's: for IPv4 the 12 bytes it always was, for IPv6 the two
     * 16-byte addresses and the ports' word (docs/api.md, tests/ref/ref_isn.h). */
    uint32_t f = tuple_hash_key(st, SK_KEY_ISN, laddr, lport, raddr, rport);
    return f + (uint32_t)(st->now / 4);
}

/* RFC 7323 §5.4: the TSval offset is a keyed hash of the address pair (SK_KEY_TS), not random
 * per connection, so every incarnation of a 4-tuple sends TSvals from one monotonic clock and
 * the peer's PAWS and RFC 6191 TIME-WAIT reuse keep working; a different host still cannot
 * read our uptime from it. */
uint32_t sk_tcp_ts_offset(const struct sk_stack *st, const struct sk_addr *laddr,
                          const struct sk_addr *raddr)
{
    const uint64_t *k = sk_key(st, SK_KEY_TS);
    uint8_t t[SK_PAIR_KEY_MAX];
    size_t n = sk_pair_key(laddr, raddr, NULL, 0, t);
    return (uint32_t)sk_siphash(k[0], k[1], t, n);
}

/* A connection pays for what it uses (docs: DESIGN.md): the send ring appears with the first
 * byte the application queues, the receive ring with the first byte of text the peer sends;
 * each grows with what it holds and goes again when empty. sndbuf_size and rcvbuf_size are
 * the limits, and the window a SYN or an ACK offers is computed from rcvbuf_size alone
 * (sk_tcp_rcv_window), so it is the same whatever the ring's size at the moment. */
int sk_tcb_snd_ring(struct sk_tcp *c, uint32_t need)
{
    if (c->snd_resv) /* spans lent (sk_tcp_send_reserve): the ring stays put */
        need = min_u32(need, c->snd.size);
    return sk_ring_reserve(c->st, &c->snd, need, sk_tcp_snd_limit(c));
}

uint32_t sk_tcp_snd_limit(const struct sk_tcp *c)
{
    if (!c->st->cfg.sndbuf_chunks)
        return c->sndbuf_size;
    uint64_t most = (uint64_t)c->sndbuf_size + 2u * (uint64_t)sk_tcp_size_goal(c);
    return most > UINT32_MAX ? UINT32_MAX : (uint32_t)most;
}

bool sk_tcp_snd_room(const struct sk_tcp *c)
{
    uint32_t q = c->snd.len;
    if (q >= c->sndbuf_size)
        return false;
    /* sk_stream_wspace >= sk_stream_min_wspace: sndbuf - wmem_queued >= wmem_queued / 2. */
    return !c->st->cfg.sndbuf_chunks || c->sndbuf_size - q >= q / 2;
}

int sk_tcb_rcv_ring(struct sk_tcp *c, uint32_t need)
{
    if (c->rcv_lent) /* spans lent (sk_tcp_recv_borrow): the ring stays put */
        need = min_u32(need, c->rcv.size);
    return sk_ring_reserve(c->st, &c->rcv, need, sk_rcv_ring_bytes(c, c->rcvbuf_size));
}

/* Range sets' storage: most connections never see a hole or a SACK block, so the out-of-order
 * set and the scoreboard take memory only while they hold ranges. */
int sk_tcb_ranges_need(struct sk_tcp *c, struct sk_ranges *s)
{
    if (s->r)
        return 0;
    s->r = sk_mem_alloc(c->st, sizeof(*s->r) * s->cap);
    return s->r ? 0 : -ENOMEM; /* counted: alloc_failures */
}

void sk_tcb_ranges_release(struct sk_tcp *c, struct sk_ranges *s)
{
    if (s->r == NULL)
        return;
    sk_mem_free(c->st, s->r, sizeof(*s->r) * s->cap);
    s->r = NULL;
    s->n = 0;
}

/* Empty: nothing unacknowledged or queued; nothing unread, nothing held out of order. */
static bool snd_ring_idle(const struct sk_tcp *c)
{
    return c->snd.buf && c->snd.len == 0 && c->snd_resv == 0; /* reserved space pins it */
}
static bool rcv_ring_idle(const struct sk_tcp *c)
{
    return c->rcv.buf && c->rcv.len == 0 && (c->x == NULL || c->x->ooo.n == 0);
}

void sk_tcb_rings_check(struct sk_tcp *c)
{
    /* After our FIN is queued nothing more is sent, after the peer's nothing more received. */
    if (snd_ring_idle(c) && (c->flags & TF_FIN_QUEUED))
        sk_ring_free(c->st, &c->snd);
    if (rcv_ring_idle(c) && (c->flags & TF_FIN_RCVD))
        sk_ring_free(c->st, &c->rcv);
    if ((snd_ring_idle(c) || rcv_ring_idle(c)) && c->timer[TCB_TIMER_RELEASE] == SK_TIME_NEVER) {
        c->timer[TCB_TIMER_RELEASE] = c->st->now + SK_RING_HOLD_US;
        sk_timer_update(c);
    }
}

/* TCB_TIMER_RELEASE: an empty ring is freed once no segment came (receive) or left (send)
 * for SK_RING_HOLD_US; one still in use is looked at again when that time has passed. A ring
 * that holds data again is left alone: sk_tcb_rings_check arms the timer when it empties. */
void sk_tcb_release_rings(struct sk_tcp *c)
{
    sk_time_us now = c->st->now, next = SK_TIME_NEVER;
    if (rcv_ring_idle(c)) {
        if (now - c->last_rcv >= SK_RING_HOLD_US)
            sk_ring_free(c->st, &c->rcv);
        else
            next = c->last_rcv + SK_RING_HOLD_US;
    }
    if (snd_ring_idle(c)) {
        if (now - c->last_send >= SK_RING_HOLD_US)
            sk_ring_free(c->st, &c->snd);
        else if (c->last_send + SK_RING_HOLD_US < next)
            next = c->last_send + SK_RING_HOLD_US;
    }
    if (next != SK_TIME_NEVER) {
        c->timer[TCB_TIMER_RELEASE] = next;
        sk_timer_update(c);
    }
}

void sk_tcp_child_established(struct sk_tcp *c)
{
    sk_tfo_child_done(c);
    sk_tcp_acceptq_add(c);
}

/* A child leaves the SYN queue for its listener's accept queue: at the end of its handshake,
 * or at its SYN for a Fast Open child (RFC 7413 §4.2.2). Once only: a Fast Open child joined
 * at its SYN (or was accepted already). */
void sk_tcp_acceptq_add(struct sk_tcp *c)
{
    struct sk_tcp *l = c->listener;
    if (l == NULL || (c->flags & TF_IN_ACCEPTQ))
        return;
    sk_tcp_synq_remove(c);
    c->flags |= TF_IN_ACCEPTQ;
    sk_list_append(&l->lsn->acceptq, &c->acceptq_link);
    l->lsn->accept_queued++;
    sk_tcp_notify(l);
}

/* ---- User calls ---- */

static bool port_in_use(struct sk_stack *st, const struct sk_addr *laddr, uint16_t lport,
                        const struct sk_addr *raddr, uint16_t rport)
{
    return sk_tcb_lookup(st, laddr, lport, raddr, rport) != NULL ||
           sk_tw_in_use(st, laddr, lport, raddr, rport);
}

struct remote {
    const struct sk_addr *laddr, *addr;
    uint16_t port;
};

/* A candidate for connect: free unless its 4-tuple is live, a listener has it or a socket
 * holds it by bind() (Linux __inet_hash_connect skips ports bound that way); table lookups.
 * The same port may serve other destinations (RFC 6056 §2.2). */
static bool connect_port_taken(struct sk_stack *st, uint16_t p, void *ctx)
{
    const struct remote *r = ctx;
    st->ctr.port_lookups += 3;
    return sk_port_held(st, p) || port_in_use(st, r->laddr, p, r->addr, r->port) ||
           listener_on(st, p) != NULL;
}

/* RFC 6056 §3.3.4 (Algorithm 4), see ports.c. */
static uint16_t pick_ephemeral(struct sk_stack *st, const struct sk_addr *laddr,
                               const struct sk_addr *raddr, uint16_t rport)
{
    struct remote r = {laddr, raddr, rport};
    return sk_port_pick(st, raddr, rport, connect_port_taken, &r);
}

/* The MSS we announce: the MTU less the IP and TCP headers (RFC 9293 §3.7.1); for IPv6 the
 * IPv6 header's 40 bytes (RFC 8200 §3, so 1440 on a 1500-byte link), and never above what
 * the minimum IPv6 MTU of 1280 leaves (RFC 8200 §5) if the link were smaller. */
uint16_t sk_tcp_our_mss(const struct sk_tcp *c)
{
    const struct sk_stack *st = c->st;
    uint32_t mtu = st->cfg.mtu;
    if (!sk_addr_is_v4(&c->raddr) && mtu < SK_IPV6_MIN_MTU)
        mtu = SK_IPV6_MIN_MTU;
    uint16_t m = (uint16_t)(mtu - sk_tcp_ip_hlen(c) - SK_TCP_HLEN);
    return st->cfg.mss && st->cfg.mss < m ? st->cfg.mss : m;
}

void sk_tcp_init_send(struct sk_tcp *c, uint32_t iss)
{
    c->iss = iss;
    c->snd_una = iss;
    c->snd_nxt = iss;
    c->snd_max = iss;
    c->sndbuf_seq = iss + 1;
    c->rcv_mss = sk_tcp_our_mss(c);
    /* Until the peer's MSS is known (syn_options), snd_mss is what the path carries: our MTU,
     * or less once an ICMP "fragmentation needed" says so (tcp_icmp.c), kept for the SYN-ACK. */
    c->snd_mss = c->rcv_mss;
    c->ts_offset = sk_tcp_ts_offset(c->st, &c->laddr, &c->raddr);
}

/* Applies params to a new TCB, before its buffers exist and before its first segment. The MSS
 * cap is applied by the caller once sk_tcp_init_send has set the MSS from the MTU. */
static int apply_params(struct sk_tcp *c, const struct sk_tcp_params *p)
{
    if (p == NULL)
        return 0;
    if (p->congestion_control) {
        const struct sk_cc_ops *cc = sk_cc_find(p->congestion_control);
        if (cc == NULL)
            return -ENOENT;
        c->cc = cc;
    }
    if (p->no_options)
        c->flags |= TF_NOOPT;
    if (p->user_timeout_us)
        c->user_timeout_us = p->user_timeout_us;
    c->syn_retries = p->syn_retries;
    if (p->sndbuf_bytes)
        c->sndbuf_size = p->sndbuf_bytes;
    if (p->rcvbuf_bytes)
        c->rcvbuf_size = p->rcvbuf_bytes;
    return 0;
}

static uint16_t capped_mss(uint16_t mss, uint16_t cap)
{
    if (cap == 0)
        return mss;
    if (cap < 64)
        cap = 64;
    return cap < mss ? cap : mss;
}

void sk_tcb_inherit(struct sk_tcp *c, const struct sk_tcp *l)
{
    c->sndbuf_size = l->sndbuf_size;
    c->rcvbuf_size = l->rcvbuf_size;
    c->cc = l->cc;
    c->flags |= l->flags & TF_NOOPT;
    c->user_timeout_us = l->user_timeout_us;
    c->rcv_mss = capped_mss(c->rcv_mss, l->rcv_mss); /* a listener keeps its cap in rcv_mss */
    sk_tcp_marks_inherit(c, l);
}

int sk_tcp_connect(struct sk_stack *st, uint16_t local_port, uint32_t raddr, uint16_t rport,
                   struct sk_tcp **out)
{
    return sk_tcp_connect_with(st, local_port, raddr, rport, NULL, out);
}

int sk_tcp_connect_with(struct sk_stack *st, uint16_t local_port, uint32_t raddr, uint16_t rport,
                        const struct sk_tcp_params *p, struct sk_tcp **out)
{
    struct sk_addr r = sk_addr_from_v4(raddr);
    return sk_tcp_connect_from(st, NULL, local_port, &r, rport, p, out);
}

int sk_tcp_connect_addr(struct sk_stack *st, uint16_t local_port, const struct sk_addr *raddr,
                        uint16_t rport, const struct sk_tcp_params *p, struct sk_tcp **out)
{
    if (raddr == NULL)
        return -EINVAL;
    return sk_tcp_connect_from(st, NULL, local_port, raddr, rport, p, out);
}

/* The local address a connection to raddr goes from: ours for IPv4; for IPv6 laddr if given
 * (a socket bound to one of ours), else RFC 6724's choice. 0, -EINVAL (a destination TCP
 * cannot reach: ours, unspecified, multicast), -EHOSTUNREACH / -ENETUNREACH (no route). */
static int connect_laddr(struct sk_stack *st, const struct sk_addr *laddr,
                         const struct sk_addr *raddr, struct sk_addr *out)
{
    if (sk_addr_is_any(raddr))
        return -EINVAL;
    if (sk_addr_is_v4(raddr)) {
        if (sk_addr_v4(raddr) == st->cfg.addr)
            return -EINVAL;
        /* RFC 1122 §3.3.1.1: an off-link destination with no gateway has no next hop. Say so
         * now, as Linux's connect() does, instead of sending SYNs that IP drops until the
         * retries end. */
        bool bcast;
        if (sk_ip_route(st, sk_addr_v4(raddr), &bcast) == 0)
            return -EHOSTUNREACH;
        *out = sk_addr_from_v4(st->cfg.addr);
        return 0;
    }
    /* RFC 9293 §3.9.1 / RFC 1122 §4.2.3.10: no TCP to a multicast address (Linux says
     * ENETUNREACH). */
    if (sk_addr_is_multicast6(raddr))
        return -ENETUNREACH;
    if (sk_ip6_is_local(st, raddr))
        return -EINVAL;
    if (laddr && !sk_addr_is_any(laddr)) {
        *out = *laddr;
        return 0;
    }
    return sk_ip6_select_src(st, raddr, out) ? 0 : -ENETUNREACH;
}

int sk_tcp_connect_from(struct sk_stack *st, const struct sk_addr *laddr, uint16_t local_port,
                        const struct sk_addr *raddr, uint16_t rport,
                        const struct sk_tcp_params *p, struct sk_tcp **out)
{
    if (p && p->congestion_control && sk_cc_find(p->congestion_control) == NULL)
        return -ENOENT;
    if (out == NULL || rport == 0)
        return -EINVAL;
    struct sk_addr src;
    int err = connect_laddr(st, laddr, raddr, &src);
    if (err != 0)
        return err;
    sk_enter(st);
    if (local_port == 0) {
        local_port = pick_ephemeral(st, &src, raddr, rport);
        if (local_port == 0) {
            err = -EADDRNOTAVAIL;
            goto out;
        }
    } else if (port_in_use(st, &src, local_port, raddr, rport)) {
        err = -EADDRINUSE;
        goto out;
    }
    struct sk_tcp *c = sk_tcb_new(st);
    if (c == NULL) {
        err = -ENOMEM;
        goto out;
    }
    c->flags |= TF_USER;
    c->laddr = src;
    c->lport = local_port;
    c->raddr = *raddr;
    c->rport = rport;
    apply_params(c, p); /* buffer sizes only: the rings come with the first byte */
    sk_tcp_init_send(c, sk_tcp_isn(st, &c->laddr, c->lport, &c->raddr, c->rport));
    c->rcv_mss = capped_mss(c->rcv_mss, p ? p->mss : 0);
    /* The shift we offer in the SYN; the SYN-ACK decides whether it holds (RFC 7323 §2.2). */
    c->rcv_wscale = st->cfg.opt_wscale ? st->cfg.wscale : 0;
    if (sk_tcb_hash_insert(c) != 0) {
        sk_tcb_destroy(c);
        err = -ENOMEM;
        goto out;
    }
    st->ctr.tcp_active_opens++;
    /* RFC 9293 §3.10.1: send <SEQ=ISS><CTL=SYN>, enter SYN-SENT. With Fast Open's
     * TCP_FASTOPEN_CONNECT and a cookie known, the SYN waits for the first data (RFC 7413
     * §4.2.1 carries it in the SYN). */
    sk_tcp_set_state(c, SK_TCP_SYN_SENT);
    if (p && p->fastopen) {
        c->fo |= FO_WANT;
        if (p->fastopen == SK_FASTOPEN_DEFER && sk_tfo_defer_connect(c))
            c->fo |= FO_DEFER;
    }
    sk_tcp_output(c);
    *out = c;
out:
    sk_leave(st);
    return err;
}

int sk_tcp_set_maxseg(struct sk_tcp *l, uint16_t mss)
{
    if (l == NULL || l->state != SK_TCP_LISTEN || l->lsn == NULL)
        return -EINVAL;
    l->rcv_mss = mss == 0 ? 0 : mss < 64 ? 64 : mss; /* the cap (sk_tcb_inherit) */
    return 0;
}

int sk_tcp_listen(struct sk_stack *st, uint16_t port, int backlog, struct sk_tcp **out)
{
    return sk_tcp_listen_with(st, port, backlog, NULL, out);
}

int sk_tcp_listen_with(struct sk_stack *st, uint16_t port, int backlog,
                       const struct sk_tcp_params *p, struct sk_tcp **out)
{
    if (out == NULL || port == 0)
        return -EINVAL;
    if (p && p->congestion_control && sk_cc_find(p->congestion_control) == NULL)
        return -ENOENT;
    if (listener_on(st, port))
        return -EADDRINUSE;
    struct sk_tcp *l = sk_tcb_new(st);
    if (l == NULL)
        return -ENOMEM;
    l->lsn = sk_mem_alloc(st, sizeof(*l->lsn));
    if (l->lsn == NULL) {
        sk_tcb_destroy(l);
        return -ENOMEM;
    }
    memset(l->lsn, 0, sizeof(*l->lsn));
    sk_list_init(&l->lsn->synq.list);
    sk_list_init(&l->lsn->acceptq);
    l->flags |= TF_USER;
    l->lport = port;
    apply_params(l, p);
    l->rcv_mss = p ? p->mss : 0; /* the cap its connections get (sk_tcb_inherit) */
    if (backlog < 1)
        backlog = 1;
    l->lsn->backlog = backlog > (int)st->cfg.max_syn_backlog ? (int)st->cfg.max_syn_backlog : backlog;
    l->state = SK_TCP_LISTEN; /* set directly: a listener's birth is not a transition to trace */
    if (sk_tcb_hash_insert(l) != 0) {
        sk_tcb_destroy(l);
        return -ENOMEM;
    }
    *out = l;
    return 0;
}

int sk_tcp_accept(struct sk_tcp *l, struct sk_tcp **out)
{
    if (l->state != SK_TCP_LISTEN || out == NULL)
        return -EINVAL;
    struct sk_tcp *c = acceptq_first(l);
    if (c == NULL)
        return -EAGAIN;
    acceptq_remove(l, c);
    sk_tfo_child_done(c);
    c->listener = NULL;
    c->flags |= TF_USER;
    c->cb = l->cb;
    c->cb_ctx = l->cb_ctx;
    c->last_events = sk_tcp_events(c);
    *out = c;
    sk_tcp_notify(l);
    return 0;
}

/* The checks Linux's import_iovec makes before any byte moves (lib/iov_iter.c): more than
 * UIO_MAXIOV (1024) buffers or a negative count is -EINVAL, an unreadable array -EFAULT, a
 * length above SSIZE_MAX -EINVAL. A NULL base with a length is -EFAULT here, before any byte
 * moves: Linux faults on the copy, and a kernel socket then queued or consumed nothing in
 * every case we tried (tcp_sendmsg_locked copies the header and body into one skb). */
int sk_iov_check(const struct iovec *iov, int n)
{
    if (n < 0 || n > SK_IOV_MAX)
        return -EINVAL;
    if (n > 0 && iov == NULL)
        return -EFAULT;
    for (int i = 0; i < n; i++)
        if (iov[i].iov_len > SSIZE_MAX)
            return -EINVAL;
    for (int i = 0; i < n; i++)
        if (iov[i].iov_base == NULL && iov[i].iov_len > 0)
            return -EFAULT;
    return 0;
}

/* Whether the connection can take data to send: 0, or what sk_tcp_send returns instead. */
static int send_allowed(const struct sk_tcp *c)
{
    switch (c->state) {
    case SK_TCP_CLOSED:
        return c->error ? c->error : -ENOTCONN;
    case SK_TCP_LISTEN:
        return -ENOTCONN;
    case SK_TCP_SYN_SENT:
    case SK_TCP_SYN_RECEIVED:
    case SK_TCP_ESTABLISHED:
    case SK_TCP_CLOSE_WAIT:
        break;
    default:
        return -EPIPE; /* RFC 9293 §3.10.2: "connection closing" */
    }
    return (c->flags & TF_FIN_QUEUED) ? -EPIPE : 0;
}

/* A gather write: every buffer is queued before output runs once, so Nagle's algorithm
 * (RFC 9293 §3.7.4) and the segmenter see the whole write, as Linux's tcp_sendmsg_locked
 * copies the whole iov before tcp_push; a short header and its body leave as one segment. */
static ssize_t sendv_flags(struct sk_tcp *c, const struct iovec *iov, int iovcnt,
                           unsigned flags)
{
    int e = (flags & ~(unsigned)SK_TCP_SEND_EOR) ? -EINVAL : sk_iov_check(iov, iovcnt);
    if (e == 0)
        e = send_allowed(c);
    if (e == 0 && c->snd_resv)
        e = -EBUSY; /* the reserved space is the application's (sk_tcp_send_reserve) */
    if (e)
        return e;
    bool any = false;
    for (int i = 0; i < iovcnt && !any; i++)
        any = iov[i].iov_len > 0;
    if (!any) {
        /* An empty write still starts a deferred Fast Open (SK_FASTOPEN_DEFER: Linux's
         * TCP_FASTOPEN_CONNECT, where tcp_sendmsg_fastopen sends the SYN with no data). */
        if (c->fo & FO_DEFER) {
            sk_enter(c->st);
            c->fo &= (uint16_t)~FO_DEFER;
            sk_tcp_output(c);
            sk_leave(c->st);
        }
        return 0;
    }
    /* The ring grows to take the whole iov if the configured size allows. */
    uint64_t want_all = 0;
    for (int i = 0; i < iovcnt; i++)
        want_all += iov[i].iov_len;
    uint32_t room = c->sndbuf_size > c->snd.len ? c->sndbuf_size - c->snd.len : 0;
    uint32_t cap = sk_tfo_defer_room(c); /* a deferred Fast Open SYN's data, UINT32_MAX */
    room = min_u32(room, cap);
    /* sk_config.sndbuf_chunks: a write that does not fit below the size goes chunk by chunk,
     * as Linux's skbs fill (tcp_marks.c); one that fits is taken whole, as there. */
    bool chunks = c->st->cfg.sndbuf_chunks && cap == UINT32_MAX && room < want_all;
    if (room < want_all && !chunks)
        sk_tcp_chrono_sndbuf_full(c); /* the writer waits for room (tcp_chrono.c) */
    if (room == 0 && !chunks)
        return -EAGAIN;
    bool eor = (flags & SK_TCP_SEND_EOR) != 0;
    if (eor && sk_tcp_record_reserve(c) != 0)
        return -ENOBUFS; /* counted: alloc_failures */
    /* TCP_NOTSENT_LOWAT, sk_config.sndbuf_chunks and sk_config.forced_push queue the write in
     * chunks (tcp_marks.c). */
    if (chunks || sk_tcp_notsent_mark(c) != UINT32_MAX ||
        (c->st->cfg.forced_push && !(c->fo & FO_DEFER)))
        return sk_tcp_send_chunked(c, iov, iovcnt, (size_t)want_all, eor);
    if (sk_tcb_snd_ring(c, c->snd.len + (uint32_t)(want_all < room ? want_all : room)) != 0)
        return -ENOBUFS; /* counted: limit_buffers or alloc_failures */
    size_t total = 0;
    for (int i = 0; i < iovcnt; i++) {
        uint32_t want = iov[i].iov_len > UINT32_MAX ? UINT32_MAX : (uint32_t)iov[i].iov_len;
        if (cap != UINT32_MAX)
            want = min_u32(want, cap - (uint32_t)total);
        uint32_t n = want ? sk_ring_append(&c->snd, iov[i].iov_base, want) : 0;
        total += n;
        if (n < want)
            break; /* the buffer is full: a partial count, as writev */
    }
    if (total == 0)
        return -EAGAIN;
    /* The data's end is a push point unless it came with MSG_MORE (SK_TCP_SEND_MORE). */
    if (c->flags & TF_MORE)
        c->flags |= TF_NOPUSH;
    else
        c->flags &= ~TF_NOPUSH;
    if (eor && total == want_all)
        sk_tcp_record_mark(c); /* the whole write is queued: it ends a record */
    sk_enter(c->st);
    c->fo &= (uint16_t)~FO_DEFER; /* a deferred Fast Open SYN goes now, with this data */
    sk_tcp_output(c);
    sk_tcp_notify(c);
    sk_leave(c->st);
    return (ssize_t)total;
}

/* SK_TCP_SEND_MORE holds for this call only (Linux's tcp_sendmsg: tcp_push with
 * TCP_NAGLE_CORK and no tcp_mark_push). */
ssize_t sk_tcp_sendv_flags(struct sk_tcp *c, const struct iovec *iov, int iovcnt,
                           unsigned flags)
{
    if (flags & SK_TCP_SEND_MORE)
        c->flags |= TF_MORE;
    ssize_t n = sendv_flags(c, iov, iovcnt, flags & ~(unsigned)SK_TCP_SEND_MORE);
    c->flags &= ~TF_MORE;
    return n;
}

ssize_t sk_tcp_sendv(struct sk_tcp *c, const struct iovec *iov, int iovcnt)
{
    return sk_tcp_sendv_flags(c, iov, iovcnt, 0);
}

ssize_t sk_tcp_send_flags(struct sk_tcp *c, const void *buf, size_t len, unsigned flags)
{
    struct iovec v = {.iov_base = (void *)buf, .iov_len = len};
    return sk_tcp_sendv_flags(c, &v, 1, flags);
}

ssize_t sk_tcp_send(struct sk_tcp *c, const void *buf, size_t len)
{
    return sk_tcp_send_flags(c, buf, len, 0);
}

/* RFC 9293 §3.8.6.2.2 (receiver SWS avoidance): after a read, announce the reopened window
 * once its right edge can move by min(MSS, half the buffer); and only while what the peer may
 * still send is under half the buffer, since until then it is not held back. */
static void announce_window(struct sk_tcp *c)
{
    uint32_t edge = c->rcv_nxt + sk_tcp_rcv_window(c);
    uint32_t thresh = min_u32(c->rcv_mss, c->rcvbuf_size / 2);
    bool open = c->state == SK_TCP_ESTABLISHED || c->state == SK_TCP_FIN_WAIT_1 ||
                c->state == SK_TCP_FIN_WAIT_2;
    if (open && seq_gt(edge, c->rcv_adv) && edge - c->rcv_adv >= thresh &&
        c->rcv_adv - c->rcv_nxt < c->rcvbuf_size / 2) {
        enum sk_seg_why cause = sk_tcp_cause(c->st, SK_SEG_WHY_WINDOW_UPDATE);
        sk_tcp_send_ack(c);
        c->st->seg_cause = cause;
    }
}

/* Bytes were consumed from the receive ring (a read, or a release of lent bytes): the ring
 * may go, the window may be announced, the application hears what changed. */
static void after_read(struct sk_tcp *c)
{
    if (c->state == SK_TCP_TIME_WAIT && c->rcv.len == 0)
        sk_ring_free(c->st, &c->rcv); /* read to the end: TIME-WAIT holds no buffer */
    else
        sk_tcb_rings_check(c);
    announce_window(c);
    sk_tcp_notify(c);
}

/* A scatter read: the buffers are filled in order from one look at the receive queue, and
 * the window is announced once, after all of them. */
ssize_t sk_tcp_recvv(struct sk_tcp *c, const struct iovec *iov, int iovcnt)
{
    int e = sk_iov_check(iov, iovcnt);
    if (e)
        return e;
    if (c->state == SK_TCP_LISTEN)
        return -ENOTCONN;
    if (c->rcv_lent)
        return -EBUSY; /* the first bytes are lent (sk_tcp_recv_borrow) */
    if (c->rcv.len == 0) {
        if (c->flags & TF_FIN_RCVD)
            return 0;
        if (c->error)
            return c->error;
        if (c->state == SK_TCP_CLOSED)
            return -ENOTCONN;
        return -EAGAIN;
    }
    uint32_t done = 0;
    for (int i = 0; i < iovcnt && done < c->rcv.len; i++) {
        uint32_t left = c->rcv.len - done;
        uint32_t n = iov[i].iov_len < left ? (uint32_t)iov[i].iov_len : left;
        if (n)
            sk_ring_peek(&c->rcv, done, iov[i].iov_base, n);
        done += n;
    }
    if (done == 0)
        return 0;
    sk_enter(c->st);
    sk_ring_consume(&c->rcv, done);
    after_read(c);
    sk_leave(c->st);
    return done;
}

ssize_t sk_tcp_recv(struct sk_tcp *c, void *buf, size_t len)
{
    struct iovec v = {.iov_base = buf, .iov_len = len};
    return sk_tcp_recvv(c, &v, 1);
}

ssize_t sk_tcp_peek(const struct sk_tcp *c, void *buf, size_t len)
{
    if (c->state == SK_TCP_LISTEN)
        return -ENOTCONN;
    if (c->rcv.len == 0) {
        if (c->flags & TF_FIN_RCVD)
            return 0;
        if (c->error)
            return c->error;
        return c->state == SK_TCP_CLOSED ? -ENOTCONN : -EAGAIN;
    }
    uint32_t n = len < c->rcv.len ? (uint32_t)len : c->rcv.len;
    sk_ring_peek(&c->rcv, 0, buf, n);
    return n;
}

/* ---- Zero-copy receive and send (tcp.h): spans into the rings themselves. ---- */

/* The n bytes that lie off bytes after r's head, as up to two spans (the ring wraps). */
static void ring_spans(const struct sk_ring *r, uint32_t off, uint32_t n, struct iovec span[2])
{
    span[0] = span[1] = (struct iovec){0};
    if (n == 0)
        return;
    uint32_t pos = (r->head + off) % r->size;
    uint32_t first = min_u32(n, r->size - pos);
    span[0] = (struct iovec){.iov_base = r->buf + pos, .iov_len = first};
    if (n > first)
        span[1] = (struct iovec){.iov_base = r->buf, .iov_len = n - first};
}

ssize_t sk_tcp_recv_borrow(struct sk_tcp *c, struct iovec span[2])
{
    span[0] = span[1] = (struct iovec){0};
    if (c->state == SK_TCP_LISTEN)
        return -ENOTCONN;
    if (c->rcv.len == 0) { /* as sk_tcp_recvv */
        if (c->flags & TF_FIN_RCVD)
            return 0;
        if (c->error)
            return c->error;
        return c->state == SK_TCP_CLOSED ? -ENOTCONN : -EAGAIN;
    }
    /* The ring takes its full size before the first loan, so that data arriving while bytes
     * are lent finds room without moving them (a ring that cannot grow now stays as it is:
     * text that does not fit is not acknowledged, and the peer sends it again). */
    if (c->rcv_lent == 0)
        sk_tcb_rcv_ring(c, sk_rcv_ring_bytes(c, c->rcvbuf_size));
    /* Everything readable, at the addresses it has; the ring stays put while lent. */
    c->rcv_lent = c->rcv.len;
    ring_spans(&c->rcv, 0, c->rcv_lent, span);
    return c->rcv_lent;
}

int sk_tcp_recv_release(struct sk_tcp *c, size_t n)
{
    if (n > c->rcv_lent)
        return -EINVAL;
    if (n == 0)
        return 0;
    sk_enter(c->st);
    c->rcv_lent -= (uint32_t)n;
    sk_ring_consume(&c->rcv, (uint32_t)n);
    after_read(c);
    sk_leave(c->st);
    return 0;
}

ssize_t sk_tcp_send_reserve(struct sk_tcp *c, size_t want, struct iovec span[2])
{
    span[0] = span[1] = (struct iovec){0};
    c->snd_resv = 0; /* a new reservation replaces any earlier one */
    int e = send_allowed(c);
    if (e)
        return e;
    if (want == 0)
        return 0;
    uint32_t room = c->sndbuf_size > c->snd.len ? c->sndbuf_size - c->snd.len : 0;
    if (room < want)
        sk_tcp_chrono_sndbuf_full(c); /* the writer waits for room (tcp_chrono.c) */
    if (room == 0)
        return -EAGAIN;
    /* The ring grows now to hold the reservation if it can (then it is pinned until the
     * commit); if it cannot grow that far, the reservation is what it holds. */
    uint32_t need = c->snd.len + (want < room ? (uint32_t)want : room);
    if (sk_tcb_snd_ring(c, need) != 0 && c->snd.buf == NULL)
        return -ENOBUFS; /* counted: limit_buffers or alloc_failures */
    room = min_u32(room, sk_ring_free_space(&c->snd));
    if (room == 0)
        return -ENOBUFS; /* full as allocated, and growing it failed (counted) */
    c->snd_resv = want < room ? (uint32_t)want : room;
    ring_spans(&c->snd, c->snd.len, c->snd_resv, span);
    return c->snd_resv;
}

ssize_t sk_tcp_send_commit(struct sk_tcp *c, size_t n)
{
    if (n > c->snd_resv)
        return -EINVAL;
    c->snd_resv = 0;
    int e = send_allowed(c);
    if (e)
        return e;
    if (n == 0) {
        sk_tcb_rings_check(c); /* the ring may be empty and unpinned now */
        return 0;
    }
    /* The bytes are in place after the queued data: queue them as sk_tcp_sendv does. */
    sk_enter(c->st);
    c->snd.len += (uint32_t)n;
    sk_tcp_output(c);
    sk_tcp_notify(c);
    sk_leave(c->st);
    return (ssize_t)n;
}

size_t sk_tcp_readable(const struct sk_tcp *c)
{
    return c->rcv.len;
}

size_t sk_tcp_writable(const struct sk_tcp *c)
{
    if (c->flags & TF_FIN_QUEUED)
        return 0;
    if (sk_tcp_notsent(c) >= sk_tcp_notsent_mark(c))
        return 0; /* TCP_NOTSENT_LOWAT: a send would take nothing */
    return c->sndbuf_size > c->snd.len ? c->sndbuf_size - c->snd.len : 0; /* grown at send */
}

/* RFC 9293 §3.10.4 CLOSE: the sending side ends after the queued data. */
static int close_send_side(struct sk_tcp *c)
{
    c->snd_resv = 0; /* a reservation ends: nothing of it is sent */
    switch (c->state) {
    case SK_TCP_SYN_SENT:
        /* Not yet synchronized: the FIN goes out after the handshake. */
        c->flags |= TF_FIN_QUEUED;
        return 0;
    case SK_TCP_SYN_RECEIVED:
        /* Synchronized without passing through ESTABLISHED, where the congestion window is
         * set: set it here, or the data queued meanwhile would go out against a zero cwnd
         * (and CUBIC divide by it) once the SYN is acknowledged. */
        if (sk_tcb_ext_attach(c) != 0)
            return -ENOMEM;
        c->cc->init(c);
        c->flags |= TF_FIN_QUEUED;
        sk_tcp_set_state(c, SK_TCP_FIN_WAIT_1);
        break;
    case SK_TCP_ESTABLISHED:
        c->flags |= TF_FIN_QUEUED;
        sk_tcp_set_state(c, SK_TCP_FIN_WAIT_1);
        break;
    case SK_TCP_CLOSE_WAIT:
        c->flags |= TF_FIN_QUEUED;
        sk_tcp_set_state(c, SK_TCP_LAST_ACK);
        break;
    case SK_TCP_LISTEN:
    case SK_TCP_CLOSED:
        return -ENOTCONN;
    default:
        return 0; /* already closing */
    }
    sk_tcb_rings_check(c); /* nothing more will be queued */
    sk_tcp_output(c);
    return 0;
}

int sk_tcp_shutdown(struct sk_tcp *c)
{
    sk_enter(c->st);
    int r = close_send_side(c);
    sk_tcp_notify(c);
    sk_leave(c->st);
    return r;
}

/* Sends RST if synchronized (RFC 9293 §3.10.5) and ends the connection. */
static void abort_conn(struct sk_tcp *c, int err)
{
    /* sk_config.rst_ack_on_abort: Linux's RST carries ACK (and a timestamp) once synchronized.
     * A Fast Open child in SYN-RECEIVED has acknowledged the SYN's data: its RST acknowledges
     * it too, as Linux's tcp_send_active_reset (RST,ACK) does. */
    uint8_t flags = SK_TCP_RST;
    if (c->st->cfg.rst_ack_on_abort && c->state >= SK_TCP_ESTABLISHED)
        flags |= SK_TCP_ACK;
    if ((c->fo & FO_PASSIVE) && c->state == SK_TCP_SYN_RECEIVED)
        flags |= SK_TCP_ACK;
    if (c->state >= SK_TCP_SYN_RECEIVED && c->state != SK_TCP_TIME_WAIT)
        sk_tcp_send_ctl_why(c, c->snd_max, 0, flags, SK_SEG_WHY_RST_ABORT);
    sk_tcp_terminate(c, err);
}

static void close_listener(struct sk_tcp *l)
{
    /* Never-accepted connections and half-open ones are reset: nobody will read them. The
     * listener's own lists find them, so closing it scans no table. */
    while (!sk_list_empty(&l->lsn->acceptq)) {
        struct sk_tcp *c = acceptq_first(l);
        detach_from_listener(c);
        if (c->state == SK_TCP_CLOSED)
            reap(c); /* failed while queued (sk_tcp_terminate) */
        else
            abort_conn(c, -ECONNABORTED);
    }
    while (!sk_list_empty(&l->lsn->synq.list))
        abort_conn(sk_list_entry(sk_list_first(&l->lsn->synq.list), struct sk_tcp, synq_link),
                   -ECONNABORTED);
    sk_tcb_hash_remove(l);
    l->flags &= ~TF_USER;
    reap(l);
}

void sk_tcp_close(struct sk_tcp *c)
{
    struct sk_stack *st = c->st;
    sk_enter(st);
    if (c->state == SK_TCP_LISTEN) {
        close_listener(c);
        sk_leave(st);
        return;
    }
    c->flags &= ~TF_USER;
    c->flags |= TF_RCV_SHUT;
    c->cb = NULL;
    c->rcv_lent = 0; /* loans end with the handle */
    switch (c->state) {
    case SK_TCP_CLOSED:
        reap(c);
        break;
    case SK_TCP_SYN_SENT:
        /* RFC 9293 §3.10.4: delete the TCB. */
        sk_tcp_terminate(c, 0);
        break;
    case SK_TCP_TIME_WAIT:
        sk_tw_release(c); /* unread data goes; TIME-WAIT runs on in its record */
        break;
    default:
        /* RFC 2525 §2.17: closing with unread data resets the connection. */
        if (c->rcv.len > 0) {
            abort_conn(c, 0);
            break;
        }
        if (close_send_side(c) != 0) {
            abort_conn(c, 0); /* no memory for the FIN's sender state: reset, not orphaned */
            break;
        }
        /* An orphan in FIN-WAIT-2 waits for the peer's FIN so long, no longer. */
        if (c->state == SK_TCP_FIN_WAIT_2)
            sk_tcp_timer_set(c, SK_TIMER_TIME_WAIT, sk_tcp_fin_wait2_us(c));
        break;
    }
    sk_leave(st);
}

void sk_tcp_abort(struct sk_tcp *c)
{
    struct sk_stack *st = c->st;
    sk_enter(st);
    if (c->state == SK_TCP_LISTEN) {
        close_listener(c);
    } else {
        c->flags &= ~TF_USER;
        c->cb = NULL;
        if (c->state == SK_TCP_CLOSED)
            reap(c);
        else if (c->state == SK_TCP_TIME_WAIT)
            sk_tw_forget(c);
        if (c->state != SK_TCP_CLOSED)
            abort_conn(c, 0);
    }
    sk_leave(st);
}

enum sk_tcp_state sk_tcp_get_state(const struct sk_tcp *c)
{
    return c->state;
}

int sk_tcp_error(const struct sk_tcp *c)
{
    return c->error;
}

void sk_tcp_set_callback(struct sk_tcp *c, sk_tcp_callback cb, void *ctx)
{
    c->cb = cb;
    c->cb_ctx = ctx;
    c->last_events = sk_tcp_events(c);
}

void *sk_tcp_get_context(const struct sk_tcp *c)
{
    return c->cb_ctx;
}

/* Sends what is queued, a short tail included whatever the cork (Linux's TCP_NAGLE_PUSH). */
static void push_pending(struct sk_tcp *c)
{
    if (c->state < SK_TCP_ESTABLISHED)
        return;
    sk_enter(c->st);
    c->flags |= TF_PUSH_ONCE;
    sk_tcp_output(c);
    c->flags &= ~TF_PUSH_ONCE;
    sk_leave(c->st);
}

void sk_tcp_set_nodelay(struct sk_tcp *c, bool nodelay)
{
    if (nodelay)
        c->flags |= TF_NODELAY;
    else
        c->flags &= ~TF_NODELAY;
    /* Linux's __tcp_sock_set_nodelay: turning Nagle off pushes, past a cork too. */
    if (nodelay)
        push_pending(c);
}

void sk_tcp_set_cork(struct sk_tcp *c, bool cork)
{
    if (cork) {
        c->flags |= TF_CORK;
        return;
    }
    bool was = (c->flags & TF_CORK) != 0;
    c->flags &= ~TF_CORK;
    if (was)
        push_pending(c); /* Linux's __tcp_sock_set_cork: uncorking sends what waited */
}

void sk_tcp_set_syn_retries(struct sk_tcp *c, uint8_t retries)
{
    c->syn_retries = retries;
}

void sk_tcp_set_write_pending(struct sk_tcp *c, bool pending)
{
    if (pending)
        c->flags |= TF_WRITE_PENDING;
    else
        c->flags &= ~TF_WRITE_PENDING;
}

void sk_tcp_set_keepalive(struct sk_tcp *c, bool on, uint64_t idle_us, uint32_t intvl_us,
                          uint8_t cnt)
{
    const struct sk_config *cfg = &c->st->cfg;
    c->keepalive = on;
    c->ka_idle_us = idle_us ? idle_us : cfg->keepalive_idle_us;
    c->ka_intvl_us = intvl_us ? intvl_us : cfg->keepalive_intvl_us;
    c->ka_cnt = cnt ? cnt : cfg->keepalive_cnt;
    c->ka_probes = 0;
    if (c->last_rcv == 0)
        c->last_rcv = c->st->now;
    sk_tcp_keepalive_arm(c);
}

void sk_tcp_set_user_timeout(struct sk_tcp *c, uint64_t timeout_us)
{
    c->user_timeout_us = timeout_us ? timeout_us : c->st->cfg.user_timeout_us;
    /* A running timer keeps its deadline (it started with the unacknowledged data); with no
     * user timeout left it stops, and the retry limits decide again. */
    if (c->user_timeout_us == 0)
        sk_tcp_timer_stop(c, SK_TIMER_USER_TIMEOUT);
}

/* A ring reallocated to `keep` bytes (its first bytes from head), or freed if that is 0. */
static int shrink_ring(struct sk_stack *st, struct sk_ring *r, uint32_t keep)
{
    struct sk_ring n = {0};
    if (keep && sk_ring_reserve(st, &n, keep, keep) != 0)
        return -ENOMEM;
    if (keep)
        sk_ring_peek(r, 0, n.buf, keep);
    n.len = r->len;
    sk_ring_free(st, r);
    *r = n;
    return 0;
}

int sk_tcp_set_buffers(struct sk_tcp *c, uint32_t sndbuf_bytes, uint32_t rcvbuf_bytes)
{
    struct sk_stack *st = c->st;
    if (c->rcv_lent || c->snd_resv)
        return -EBUSY; /* lent spans pin the rings (tcp.h) */
    uint32_t snd = sndbuf_bytes ? max_u32(sndbuf_bytes, c->snd.len) : c->sndbuf_size;
    uint32_t rcv = rcvbuf_bytes ? rcvbuf_bytes : c->rcvbuf_size;
    /* Received bytes held, then the window offered beyond RCV.NXT (out-of-order data lies in
     * it): the ring keeps all of that. */
    uint32_t offered = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
    uint32_t rcv_keep = c->rcv.len + offered;
    rcv = max_u32(rcv, rcv_keep);
    /* The sizes are limits: a ring grows to them with use. Only a ring already larger than
     * its new limit is reallocated now, to what it holds (the receive ring's out-of-order
     * bytes lie within rcv_keep), and grows again from there. */
    uint32_t rcv_ring = sk_rcv_ring_bytes(c, rcv);
    bool rcv_new = c->rcv.buf && rcv_ring != sk_rcv_ring_bytes(c, c->rcvbuf_size);
    if ((c->snd.size > snd && shrink_ring(st, &c->snd, c->snd.len) != 0) ||
        (c->rcv.size > rcv_ring && shrink_ring(st, &c->rcv, rcv_keep) != 0))
        return -ENOMEM;
    c->sndbuf_size = snd;
    c->rcvbuf_size = rcv;
    if (rcv_new && c->state != SK_TCP_LISTEN) {
        sk_enter(st);
        sk_tcp_notify(c);
        sk_leave(st);
    }
    return 0;
}

void sk_tcp_get_buffers(const struct sk_tcp *c, uint32_t *sndbuf_bytes, uint32_t *rcvbuf_bytes)
{
    if (sndbuf_bytes)
        *sndbuf_bytes = c->sndbuf_size;
    if (rcvbuf_bytes)
        *rcvbuf_bytes = c->rcvbuf_size;
}

int sk_tcp_set_congestion(struct sk_tcp *c, const char *name)
{
    const struct sk_cc_ops *cc = sk_cc_find(name);
    if (cc == NULL)
        return -ENOENT;
    if (cc == c->cc)
        return 0;
    /* cwnd and ssthresh stay; the new module starts from them (CUBIC a new epoch, RFC 9438
     * §4.2, with W_max unknown). Before ESTABLISHED the module's init runs as usual. */
    c->cc = cc;
    if (c->x) {
        c->x->cc_acked = 0;
        memset(&c->x->cubic, 0, sizeof(c->x->cubic));
        c->x->cubic.epoch_start = SK_TIME_NEVER;
    }
    return 0;
}

const char *sk_tcp_get_congestion(const struct sk_tcp *c)
{
    return c->cc ? c->cc->name : "";
}

void sk_tcp_get_addrs(const struct sk_tcp *c, struct sk_addr *local, struct sk_addr *remote)
{
    if (local)
        *local = c->laddr;
    if (remote)
        *remote = c->raddr;
}

/* Loss detection and recovery, in segments of snd_mss as Linux's tcp_info counts them
 * (tcpi_ca_state, tcpi_lost, tcpi_sacked, tcpi_retrans, tcpi_unacked, tcpi_reordering,
 * tcpi_reord_seen, tcpi_delivered, tcpi_min_rtt, and RACK's window). */
static void tcp_info_recovery(const struct sk_tcp *c, struct sk_tcp_info *o)
{
    const struct sk_tcp_ext *x = c->x;
    uint32_t mss = c->snd_mss ? c->snd_mss : 1;
    if (c->flags & TF_RECOVERY)
        o->ca_state = SK_CA_RECOVERY;
    else if (x->in_loss)
        o->ca_state = SK_CA_LOSS;
    else if ((c->flags & TF_ECN) && seq_lt(c->snd_una, x->ecn_recover))
        o->ca_state = SK_CA_CWR;
    else if (x->sb.n > 0 || x->dupacks > 0)
        o->ca_state = SK_CA_DISORDER;
    else
        o->ca_state = SK_CA_OPEN;
    if (sk_rack_active(c) && x->segs_n > 0) {
        sk_rack_counts(c, &o->unacked, &o->sacked, &o->lost, &o->retrans_out);
    } else {
        uint32_t flight = c->snd_max - c->snd_una;
        uint32_t sacked = sk_ranges_covered(&x->sb, c->snd_una, c->snd_max);
        o->unacked = (flight + mss - 1) / mss;
        o->sacked = (sacked + mss - 1) / mss;
        if (c->flags & TF_RECOVERY) { /* RFC 6675: the holes below the recovery's repairs */
            uint32_t rxt = seq_gt(x->high_rxt, c->snd_una) ? x->high_rxt - c->snd_una : 0;
            o->retrans_out = (rxt - sk_ranges_covered(&x->sb, c->snd_una, c->snd_una + rxt) +
                              mss - 1) / mss;
        }
    }
    o->reordering = x->reordering ? x->reordering : 3; /* RFC 6675 DupThresh until raised */
    o->reord_seen = x->reord_seen;
    /* Our SYN (or SYN-ACK) counts once acknowledged, with any data it carried, as Linux's
     * tcpi_delivered counts it (tcp_clean_rtx_queue; tcp_rcv_state_process's "SYN-ACK
     * delivery isn't tracked in tcp_ack"). Bytes become segments rounded up: a short last
     * segment is one. */
    o->delivered = (x->delivered + mss - 1) / mss + ((c->flags & TF_SYN_ACKED) ? 1u : 0u);
    o->min_rtt_us = x->min_rtt_us;
    o->rack_reo_wnd_us = x->reo_wnd_us;
}

void sk_tcp_get_info(const struct sk_tcp *c, struct sk_tcp_info *o)
{
    memset(o, 0, sizeof(*o));
    o->state = c->state;
    o->laddr = sk_addr_is_v4(&c->laddr) ? sk_addr_v4(&c->laddr) : 0;
    o->raddr = sk_addr_is_v4(&c->raddr) ? sk_addr_v4(&c->raddr) : 0;
    o->lport = c->lport;
    o->rport = c->rport;
    o->iss = c->iss;
    o->irs = c->irs;
    o->snd_una = c->snd_una;
    o->snd_nxt = c->snd_nxt;
    o->snd_wnd = c->snd_wnd;
    o->snd_wl1 = c->snd_wl1;
    o->snd_wl2 = c->snd_wl2;
    o->rcv_nxt = c->rcv_nxt;
    o->rcv_wnd = c->rcv_adv - c->rcv_nxt;
    o->snd_mss = c->snd_mss;
    o->rcv_mss = c->rcv_mss;
    o->snd_wscale = c->snd_wscale;
    o->rcv_wscale = c->rcv_wscale;
    o->sack_ok = (c->flags & TF_SACK) != 0;
    o->ts_ok = (c->flags & TF_TS) != 0;
    o->rto_us = c->rto_us;
    o->srtt_us = c->srtt_us;
    o->rttvar_us = c->rttvar_us;
    o->cwnd = c->cwnd;
    o->ssthresh = c->ssthresh;
    o->retransmits = c->retries;
    o->total_retransmits = c->total_retransmits;
    if (c->x) { /* before it, nothing was counted */
        o->bytes_sent = c->x->bytes_sent;
        o->bytes_acked = c->x->bytes_acked;
        o->bytes_received = c->x->bytes_received;
        o->sack_ranges = c->x->sb.n;
        o->ooo_ranges = c->x->ooo.n;
        o->sack_work = c->x->sack_work;
        tcp_info_recovery(c, o);
    }
    o->sndbuf_used = c->snd.len;
    o->rcvbuf_used = c->rcv.len;
    o->error = c->error;
    o->conn_id = c->conn_id;
    o->probes = c->probes_out;
    sk_tcp_chrono_info(c, o);
    sk_plpmtu_info(c, o);
}

void sk_tcp_free_all(struct sk_stack *st)
{
    /* Every TCB, whoever holds it, is on the stack's list of all TCBs. */
    sk_list_init(&st->reap); /* its TCBs are on the list of all, freed below */
    while (!sk_list_empty(&st->all))
        sk_tcb_destroy(sk_list_entry(sk_list_first(&st->all), struct sk_tcp, all_link));
    sk_tw_free_all(st);
}
