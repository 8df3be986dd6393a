/* LISTEN (RFC 9293 §3.10.7.2), the SYN queue and SYN cookies (RFC 4987).
 *
 * A SYN for a listener opens a half-open child in SYN-RECEIVED, which waits on the SYN queue:
 * its listener's list and the stack's, both oldest first. The queue is full at the listener's
 * backlog or at sk_config.max_half_open children in the whole stack. Then, with syncookies = 1
 * (or always, with 2), the SYN is answered with a SYN cookie (RFC 4987 §3.6) and nothing is
 * kept: the ACK that returns the cookie opens the connection, in SYN-RECEIVED, and goes on
 * through tcp_input.c like the ACK of any handshake. With syncookies = 0 the oldest half-open
 * child makes room (RFC 4987 §3.4). Either way a flood of SYNs from spoofed sources holds at
 * most the queue's worth of memory, and a real client still gets in.
 *
 * The cookie (all values in host order; tests/ref/ref_cookie.h computes it again):
 *   t     the cookie clock, now_us / 64 s, modulo 2^32
 *   mssi  the index of the largest entry of cookie_mss[] not above the peer's MSS (536 when its
 *         SYN has none; 0 below the table)
 *   opt   0 unless both sides use timestamps; then 0x40 | ECN << 5 | SACK-permitted << 4 |
 *         the peer's window shift (15: no window scaling)
 *   F     SipHash-2-4 under sk_key(SK_KEY_COOKIE) of sk_pair_key(laddr, raddr) followed by
 *         the four uint32_t {lport << 16 | rport, IRS, t, mssi | opt << 3}: for IPv4 the six
 *         uint32_t {laddr, raddr, lport << 16 | rport, IRS, t, mssi | opt << 3} (24 bytes),
 *         for IPv6 the two 16-byte addresses then those four words (48 bytes)
 *   ISS   (t mod 4) << 30 | mssi << 27 | (F mod 2^27)
 *   TSval our timestamp clock with its low 6 bits replaced by opt's (less 64 if that put it
 *         ahead of the clock, so that the connection's later TSvals never go back, RFC 7323 §5.3)
 * The returning ACK (SYN and RST clear) carries cookie = SEG.ACK - 1 and IRS = SEG.SEQ - 1, and
 * opt in its TSecr; it is valid if t mod 4 names this period or the one before (a cookie lives
 * 64 to 128 s) and F matches. Forging one takes about 2^27 guesses per 4-tuple and period.
 */

#include "tcp/tcp_int.h"
#include "util/rand.h"

#define COOKIE_PERIOD_US (64ull * 1000000)
#define COOKIE_AGE_MAX 1u           /* periods a cookie outlives the one it was made in */
#define COOKIE_HASH_MASK 0x07ffffffu
#define COOKIE_TS_MASK 0x3fu        /* TSval bits that carry opt */
#define COOKIE_OPT_TS 0x40u
#define COOKIE_OPT_ECN 0x20u
#define COOKIE_OPT_SACK 0x10u
#define COOKIE_NO_WSCALE 15u

/* MSS values a cookie can carry: 64 (the least this stack sends), the default 536, and the
 * values common paths announce (tunnels, PPPoE, Ethernet). */
static const uint16_t cookie_mss[8] = {64, 536, 1200, 1300, 1380, 1440, 1452, 1460};

static void drop(struct sk_tcp *l, enum sk_drop_reason r, const uint8_t *frame, size_t len)
{
    sk_drop(l->st, r, l, frame, len);
}

/* ---- The SYN queue: two lists, oldest first ---- */

static void fifo_append(struct sk_tcb_fifo *q, struct sk_list_node *n)
{
    sk_list_append(&q->list, n);
    q->len++;
}

static void fifo_remove(struct sk_tcb_fifo *q, struct sk_list_node *n)
{
    sk_list_remove(n);
    q->len--;
}

static void synq_add(struct sk_tcp *l, struct sk_tcp *c)
{
    c->listener = l;
    c->flags |= TF_IN_SYNQ;
    fifo_append(&l->lsn->synq, &c->synq_link);
    fifo_append(&l->st->halfopen, &c->halfopen_link);
}

void sk_tcp_synq_remove(struct sk_tcp *c)
{
    if (!(c->flags & TF_IN_SYNQ))
        return;
    fifo_remove(&c->listener->lsn->synq, &c->synq_link);
    fifo_remove(&c->st->halfopen, &c->halfopen_link);
    c->flags &= ~TF_IN_SYNQ;
}

static bool synq_full(const struct sk_tcp *l)
{
    return l->lsn->synq.len >= (uint32_t)l->lsn->backlog || l->st->halfopen.len >= l->st->cfg.max_half_open;
}

/* RFC 4987 §3.4: without cookies, the oldest half-open child makes room for a new SYN: the
 * listener's own when its backlog is full, else the stack's oldest. A spoofed SYN's child is
 * never answered, so the oldest is the likeliest to be one; a real client whose child goes
 * sends its SYN again. False if there is nothing to evict. */
static bool synq_evict_for(struct sk_tcp *l)
{
    struct sk_stack *st = l->st;
    struct sk_tcp *victim =
        l->lsn->synq.len >= (uint32_t)l->lsn->backlog
            ? sk_list_entry(sk_list_first(&l->lsn->synq.list), struct sk_tcp, synq_link)
            : sk_list_entry(sk_list_first(&st->halfopen.list), struct sk_tcp, halfopen_link);
    if (victim == NULL)
        return false;
    st->ctr.tcp_halfopen_evicted++;
    sk_tcp_terminate(victim, 0);
    return true;
}

/* ---- A child from a SYN ---- */

/* Fills the new TCB c as the child of l that `syn` opens with ISS iss: a copy of the listener
 * (its buffer sizes, congestion control, MSS cap) that takes what the SYN says. The caller puts
 * it in a state and in the tables. */
static void child_addresses(struct sk_tcp *c, const struct sk_l3 *ip,
                            const struct sk_tcp_hdr *syn)
{
    c->laddr = ip->dst;
    c->lport = syn->dport;
    c->raddr = ip->src;
    c->rport = syn->sport;
}

static void child_init(struct sk_tcp *c, struct sk_tcp *l, const struct sk_l3 *ip,
                       const struct sk_tcp_hdr *syn, uint32_t iss)
{
    child_addresses(c, ip, syn);
    c->flags |= TF_PASSIVE;
    c->listener = l;
    c->state = SK_TCP_LISTEN; /* the child starts as a copy of the listener */
    sk_tcp_init_send(c, iss);
    sk_tcb_inherit(c, l);
    c->irs = syn->seq;
    c->rcv_nxt = syn->seq + 1;
    c->rcv_adv = c->rcv_nxt;
    sk_tcp_passive_syn_options(c, syn);
    /* RFC 7323 §2.2: the window of a SYN is not scaled. */
    c->snd_wnd = syn->wnd;
    c->max_snd_wnd = syn->wnd;
    c->snd_wl1 = syn->seq;
    c->snd_wl2 = syn->ack;
}

/* Puts a new child in the connection table; if the port's use count cannot grow (memory),
 * the child goes again. */
static bool child_insert(struct sk_tcp *l, struct sk_tcp *c, const uint8_t *frame, size_t len)
{
    if (sk_tcb_hash_insert(c) == 0)
        return true;
    drop(l, SK_DROP_TCP_NO_MEMORY, frame, len);
    sk_tcp_terminate(c, 0);
    return false;
}

/* ---- SYN cookies (RFC 4987 §3.6), laid out at the top of this file ---- */

/* Whether a timestamp can carry opt: both ends must use them, which a listener without options
 * or a stack without timestamps never does. */
static bool cookie_ts_possible(const struct sk_tcp *l)
{
    return l->st->cfg.opt_timestamps && !(l->flags & TF_NOOPT);
}

static uint32_t cookie_mss_index(const struct sk_tcp *l, const struct sk_tcp_hdr *syn)
{
    uint32_t peer = (syn->opts.present & SK_OPT_MSS) && !(l->flags & TF_NOOPT) ? syn->opts.mss
                                                                               : 536;
    uint32_t i = 7;
    while (i > 0 && cookie_mss[i] > peer)
        i--;
    return i;
}

/* The cookie for this SYN (or the SYN an ACK answers), laid out at the top of this file. */
static uint32_t cookie_make(struct sk_stack *st, const struct sk_l3 *ip,
                            const struct sk_tcp_hdr *h, uint32_t irs, uint32_t t, uint32_t mssi,
                            uint32_t opt)
{
    const uint64_t *k = sk_key(st, SK_KEY_COOKIE);
    uint32_t w[4] = {((uint32_t)h->dport << 16) | h->sport, irs, t, mssi | opt << 3};
    uint8_t in[SK_PAIR_KEY_MAX];
    size_t n = sk_pair_key(&ip->dst, &ip->src, w, 4, in);
    uint32_t f = (uint32_t)sk_siphash(k[0], k[1], in, n);
    return (t & 3u) << 30 | mssi << 27 | (f & COOKIE_HASH_MASK);
}

/* What the timestamps will remember of the SYN's options (0: no timestamps, then the cookie
 * connection goes without window scaling, SACK and ECN, and its SYN,ACK offers none). */
static uint32_t cookie_opt(struct sk_tcp *t)
{
    if (!(t->flags & TF_TS)) {
        t->flags &= ~(TF_WSCALE | TF_SACK | TF_ECN);
        t->snd_wscale = t->rcv_wscale = 0;
        return 0;
    }
    return COOKIE_OPT_TS | ((t->flags & TF_ECN) ? COOKIE_OPT_ECN : 0) |
           ((t->flags & TF_SACK) ? COOKIE_OPT_SACK : 0) |
           ((t->flags & TF_WSCALE) ? t->snd_wscale : COOKIE_NO_WSCALE);
}

/* Answers the SYN with <SEQ=cookie><ACK=SEG.SEQ+1><CTL=SYN,ACK> and keeps nothing. The SYN,ACK
 * is built in a TCB on the C stack, set up as the child would be, in no table and never timed,
 * so that it carries exactly the options and window a child's SYN,ACK would. */
static void send_cookie(struct sk_tcp *l, const struct sk_l3 *ip, const struct sk_tcp_hdr *h)
{
    struct sk_stack *st = l->st;
    struct sk_tcp t;
    sk_tcb_init(st, &t);
    child_init(&t, l, ip, h, 0);
    t.state = SK_TCP_SYN_RECEIVED;
    uint32_t opt = cookie_opt(&t);
    uint32_t mssi = cookie_mss_index(l, h);
    uint32_t tick = (uint32_t)(st->now / COOKIE_PERIOD_US);
    t.iss = cookie_make(st, ip, h, h->seq, tick, mssi, opt);
    uint32_t now_ms = (uint32_t)(st->now / 1000);
    /* The clock of every connection of the address pair (RFC 7323 §5.4, sk_tcp_ts_offset): the
     * one the connection opened by the cookie's ACK will run on, without state kept here. */
    uint32_t clock = now_ms + sk_tcp_ts_offset(st, &ip->dst, &ip->src);
    uint32_t tsval = (clock & ~COOKIE_TS_MASK) | (opt & COOKIE_TS_MASK);
    if (seq_gt(tsval, clock))
        tsval -= COOKIE_TS_MASK + 1;
    t.ts_offset = tsval - now_ms; /* sk_tcp_ts_now(&t) is tsval */
    sk_tcp_send_synack(&t);
    st->ctr.tcp_syncookies_sent++;
    l->lsn->syncookie_until = (uint64_t)(tick + 1 + COOKIE_AGE_MAX) * COOKIE_PERIOD_US;
}

/* Whether an ACK for l may return a cookie: l sent some that are still alive, or every SYN gets
 * one. Otherwise an ACK is only a bad ACK, and a blind attacker has nothing to guess at. */
static bool cookies_live(const struct sk_tcp *l)
{
    const struct sk_stack *st = l->st;
    return st->cfg.syncookies == 2 || (st->cfg.syncookies == 1 && st->now < l->lsn->syncookie_until);
}

/* The SYN as the cookie remembers it: ISN, MSS from the table, and with timestamps the options
 * opt names; the window and TSval are the ACK's. False if h carries no valid cookie. */
static bool cookie_decode(struct sk_tcp *l, const struct sk_l3 *ip,
                          const struct sk_tcp_hdr *h, struct sk_tcp_hdr *syn)
{
    struct sk_stack *st = l->st;
    uint32_t cookie = h->ack - 1, irs = h->seq - 1;
    uint32_t tick = (uint32_t)(st->now / COOKIE_PERIOD_US);
    uint32_t age = (tick - (cookie >> 30)) & 3u;
    bool ts = cookie_ts_possible(l) && (h->opts.present & SK_OPT_TIMESTAMP);
    uint32_t opt = ts ? COOKIE_OPT_TS | (h->opts.ts_ecr & COOKIE_TS_MASK) : 0;
    uint32_t mssi = (cookie >> 27) & 7u;
    if (age > COOKIE_AGE_MAX || cookie_make(st, ip, h, irs, tick - age, mssi, opt) != cookie)
        return false;
    memset(syn, 0, sizeof(*syn));
    syn->sport = h->sport;
    syn->dport = h->dport;
    syn->seq = irs;
    syn->flags = SK_TCP_SYN;
    syn->wnd = h->wnd;
    syn->opts.present = SK_OPT_MSS;
    syn->opts.mss = cookie_mss[mssi];
    if (opt == 0)
        return true;
    syn->opts.present |= SK_OPT_TIMESTAMP;
    syn->opts.ts_val = h->opts.ts_val;
    if ((opt & 0xf) != COOKIE_NO_WSCALE) {
        syn->opts.present |= SK_OPT_WSCALE;
        syn->opts.wscale = (uint8_t)(opt & 0xf);
    }
    if (opt & COOKIE_OPT_SACK)
        syn->opts.present |= SK_OPT_SACK_PERM;
    if (opt & COOKIE_OPT_ECN)
        syn->flags |= SK_TCP_ECE | SK_TCP_CWR; /* RFC 3168 §6.1.1: the SYN asked for ECN */
    return true;
}

/* A valid cookie ACK: the child its SYN would have made, in SYN-RECEIVED with the SYN,ACK
 * sent; tcp_input.c then takes the ACK (and any data) as in any handshake. NULL if the accept
 * queue is full (the ACK is dropped, as for a half-open child: the peer's data or FIN brings
 * the cookie again) or memory is short. */
static struct sk_tcp *cookie_open(struct sk_tcp *l, const struct sk_l3 *ip,
                                  const struct sk_tcp_hdr *h, const struct sk_tcp_hdr *syn,
                                  const uint8_t *frame, size_t frame_len)
{
    struct sk_stack *st = l->st;
    if (l->lsn->accept_queued >= (uint32_t)l->lsn->backlog) {
        drop(l, SK_DROP_TCP_ACCEPT_FULL, frame, frame_len);
        return NULL;
    }
    struct sk_tcp *c = sk_tcb_new(st);
    if (c == NULL) {
        drop(l, SK_DROP_TCP_NO_MEMORY, frame, frame_len);
        return NULL;
    }
    child_init(c, l, ip, syn, h->ack - 1);
    c->snd_nxt = c->snd_max = c->iss + 1;
    c->last_ack_sent = c->rcv_nxt;
    /* The cookie's TSval had its low bits replaced, so its echo does not date the SYN,ACK (it
     * reads up to 63 ms early): like an echo that Karn's rule makes ambiguous (tcp_recovery.c
     * advance_una) it gives no RTT sample, and the RTO stays at its initial value until the
     * first data is timed (RFC 6298 §2.1). */
    if (c->flags & TF_TS) {
        c->una_rtx = true;
        c->ts_una_rtx = sk_tcp_ts_now(c) + 1;
    }
    st->ctr.tcp_syncookies_validated++;
    st->ctr.tcp_passive_opens++;
    sk_tcp_set_state(c, SK_TCP_SYN_RECEIVED);
    if (!child_insert(l, c, frame, frame_len))
        return NULL;
    return c;
}

/* ---- §3.10.7.2 LISTEN ---- */

/* Third, a SYN: a half-open child, or a cookie when the SYN queue is full. */
static void listen_syn(struct sk_tcp *l, const struct sk_l3 *ip, const struct sk_tcp_hdr *h,
                       const uint8_t *frame, size_t frame_len)
{
    struct sk_stack *st = l->st;
    /* Nobody takes the connections already made: a new one would only wait with them. */
    if (l->lsn->accept_queued >= (uint32_t)l->lsn->backlog) {
        st->ctr.limit_backlog++;
        drop(l, SK_DROP_TCP_BACKLOG_FULL, frame, frame_len);
        return;
    }
    bool full = synq_full(l);
    if (st->cfg.syncookies == 2 || (full && st->cfg.syncookies == 1)) {
        send_cookie(l, ip, h);
        return;
    }
    if (full && !synq_evict_for(l)) {
        st->ctr.limit_backlog++;
        drop(l, SK_DROP_TCP_BACKLOG_FULL, frame, frame_len);
        return;
    }
    struct sk_tcp *c = sk_tcb_new(st);
    if (c == NULL) {
        drop(l, SK_DROP_TCP_NO_MEMORY, frame, frame_len);
        return;
    }
    /* RFC 6528's ISS, raised above the old SND.NXT when the SYN reopens a 4-tuple in TIME-WAIT
     * (RFC 6191, tcp_timewait.c). */
    child_addresses(c, ip, h);
    uint32_t isn = sk_tcp_isn(st, &ip->dst, h->dport, &ip->src, h->sport);
    child_init(c, l, ip, h, sk_tw_reopen_iss(st, c, isn));
    /* RFC 7413 §4.2.2: with a valid Fast Open cookie the SYN's data is taken now. */
    bool fastopen = sk_tfo_server_syn(l, c, ip, h);
    synq_add(l, c);
    st->ctr.tcp_passive_opens++;
    /* Otherwise data or FIN on the SYN is not acknowledged: the peer sends it again once we
     * are synchronized (RFC 9293 §3.10.7.2 allows queueing it; we keep no memory for it). */
    sk_tcp_set_state(c, SK_TCP_SYN_RECEIVED);
    if (child_insert(l, c, frame, frame_len)) {
        sk_tcp_output(c);
        if (fastopen)
            sk_tcp_acceptq_add(c); /* acceptable (and readable) before the handshake ends */
    }
}

struct sk_tcp *sk_tcp_listen_input(struct sk_tcp *l, const struct sk_l3 *ip,
                                   const struct sk_tcp_hdr *h, const uint8_t *frame,
                                   size_t frame_len)
{
    struct sk_stack *st = l->st;
    /* First, an incoming RST is ignored. */
    if (h->flags & SK_TCP_RST) {
        drop(l, SK_DROP_TCP_RST_INVALID, frame, frame_len);
        return NULL;
    }
    /* Second, any ACK is bad in LISTEN: <SEQ=SEG.ACK><CTL=RST>. Unless it returns a cookie
     * (RFC 4987 §3.6): then it is the third segment of a handshake whose state it carries. */
    if (h->flags & SK_TCP_ACK) {
        if (!(h->flags & SK_TCP_SYN) && cookies_live(l)) {
            struct sk_tcp_hdr syn;
            if (cookie_decode(l, ip, h, &syn))
                return cookie_open(l, ip, h, &syn, frame, frame_len);
            st->ctr.tcp_syncookies_failed++;
            /* Data or FIN past a lost handshake ACK and first segment cannot show the cookie
             * (SEG.SEQ - 1 is not the IRS): no RST, the retransmission from IRS + 1 will
             * (sk_config.syncookie_quiet_data, a named deviation). */
            if (st->cfg.syncookie_quiet_data && (h->payload_len > 0 || (h->flags & SK_TCP_FIN))) {
                drop(l, SK_DROP_TCP_COOKIE_UNVERIFIED, frame, frame_len);
                return NULL;
            }
        }
        drop(l, SK_DROP_TCP_ACK_INVALID, frame, frame_len);
        sk_tcp_send_rst_for(st, ip, h);
        return NULL;
    }
    if (!(h->flags & SK_TCP_SYN)) {
        drop(l, SK_DROP_TCP_NO_ACK, frame, frame_len);
        return NULL;
    }
    listen_syn(l, ip, h, frame, frame_len);
    return NULL;
}
