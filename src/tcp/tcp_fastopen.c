/* TCP Fast Open (RFC 7413): data in the SYN, for connections to a server seen before.
 *
 * Server (§4.1.2, §4.2.2): a listener with a Fast Open queue (sk_tcp_set_fastopen, or every
 * listener with SK_TFO_SERVER_ALL) answers a SYN carrying the option. The cookie is
 *   SipHash-2-4(key, client address || server address)   (4 + 4 or 16 + 16 bytes, network order)
 * taken as its 8 bytes little-endian, the key being sk_config.tfo_key (Linux's
 * net.ipv4.tcp_fastopen_key, so the value is Linux's for the same key) or the stack's own
 * Fast Open key (SK_KEY_TFO, from sk_config.secret). A request (empty option) or a cookie that
 * does not verify gets the cookie in the SYN-ACK, which acknowledges the SYN only (§4.2.1: the
 * client sends its data again). A valid cookie opens a Fast Open child: the SYN's data is
 * queued for the application at once, the child joins the accept queue while still in
 * SYN-RECEIVED, its SYN-ACK acknowledges the data, and it may send before the handshake's last
 * ACK. At most the listener's queue length of such children wait unacknowledged and
 * unaccepted (§5.1: a bound on the resources a spoofed valid cookie can take); beyond it a SYN
 * is an ordinary one.
 *
 * Client (§4.1.3, §4.2.1): a cache of servers (bounded, least recently used out) holds each
 * one's cookie, its MSS, whether it answered the experimental option form only, and its recent
 * losses of SYNs with data. A connection that asks for Fast Open sends in its first SYN the
 * cached cookie and as much queued data as the cached MSS less 40 bytes allows (Linux reserves
 * the full option space, tcp_send_syn_data), or an empty option to request a cookie. Only
 * the first SYN carries them: a retransmitted SYN is plain (middleboxes that drop SYNs with
 * unknown options or data, §4.2.1); if its SYN-ACK then brings no cookie and leaves the data
 * unacknowledged, the loss is counted, and from the second such loss in a row the server gets
 * plain SYNs for tfo_syn_loss_backoff_us << losses. A SYN-ACK that acknowledges part of the data
 * or none has the rest sent at once after the handshake. A server that answers a request
 * with no option is asked next time in the experimental form, and back (Linux's try_exp).
 */
#include "tcp/tcp_cc.h"
#include "tcp/tcp_int.h"
#include "util/rand.h"

#define FO_COOKIE_BYTES 8     /* as Linux's TCP_FASTOPEN_COOKIE_SIZE */
#define FO_SYN_OPT_ROOM 40    /* option bytes the SYN's data leaves room for */

struct tfo_entry {
    struct sk_addr server;
    uint64_t used;            /* LRU clock value of the last use */
    sk_time_us last_loss;     /* when the last SYN with data went unanswered */
    uint16_t mss;             /* the server's MSS option, 0: none seen */
    uint8_t cookie_len;       /* 0: no cookie */
    bool exp;                 /* the cookie came in the experimental form */
    uint8_t try_exp;          /* 1: ask in the experimental form; 2: back to kind 34 */
    uint8_t syn_loss;         /* SYNs with data lost in a row */
    uint8_t cookie[SK_TCP_FO_COOKIE_MAX];
};

struct sk_tfo_cache {
    uint32_t n, cap;
    uint64_t clock;
    struct tfo_entry e[];
};

/* ---- Cookies (§4.1.2) ---- */

static uint64_t le64(const uint8_t *p)
{
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--)
        x = (x << 8) | p[i];
    return x;
}

/* The cookie listener l (NULL: none any more) of stack st gives `client` reaching it at
 * `server`: under l's own key, else sk_config's, else the stack's Fast Open key. */
static void cookie_for(const struct sk_stack *st, const struct sk_tcp *l,
                       const struct sk_addr *client, const struct sk_addr *server,
                       uint8_t out[FO_COOKIE_BYTES])
{
    uint8_t in[32];
    size_t n;
    if (sk_addr_is_v4(client)) {
        memcpy(in, client->b + 12, 4);
        memcpy(in + 4, server->b + 12, 4);
        n = 8;
    } else {
        memcpy(in, client->b, 16);
        memcpy(in + 16, server->b, 16);
        n = 32;
    }
    uint64_t k0, k1;
    if (l && l->lsn && l->lsn->fo_key_set) {
        k0 = le64(l->lsn->fo_key);
        k1 = le64(l->lsn->fo_key + 8);
    } else if (st->cfg.tfo_key_set) {
        k0 = le64(st->cfg.tfo_key);
        k1 = le64(st->cfg.tfo_key + 8);
    } else {
        k0 = sk_key(st, SK_KEY_TFO)[0];
        k1 = sk_key(st, SK_KEY_TFO)[1];
    }
    uint64_t m = sk_siphash(k0, k1, in, n);
    for (int i = 0; i < FO_COOKIE_BYTES; i++)
        out[i] = (uint8_t)(m >> (8 * i));
}

/* ---- Server ---- */

static uint32_t queue_max(const struct sk_tcp *l)
{
    if (l->lsn->fo_qlen_max)
        return l->lsn->fo_qlen_max;
    return (l->st->cfg.tfo & SK_TFO_SERVER_ALL) ? (uint32_t)l->lsn->backlog : 0;
}

/* The SYN's data into the child's receive ring (its window caps it: the SYN's window offer
 * is the ring's size); false if no memory, then the SYN is answered as an ordinary one. */
static bool take_data(struct sk_tcp *c, const struct sk_tcp_hdr *h)
{
    uint32_t n = (uint32_t)h->payload_len;
    if (n == 0)
        return true;
    n = min_u32(n, c->rcvbuf_size);
    if (sk_tcb_rcv_ring(c, n) != 0)
        return false;
    n = sk_ring_append(&c->rcv, h->payload, n);
    c->rcv_nxt += n;
    c->rcv_adv = c->rcv_nxt;
    c->fo |= FO_DATA_OK;
    if (c->x)
        c->x->bytes_received += n;
    return true;
}

bool sk_tfo_server_syn(struct sk_tcp *l, struct sk_tcp *c, const struct sk_l3 *ip,
                       const struct sk_tcp_hdr *h)
{
    const struct sk_config *cfg = &l->st->cfg;
    uint32_t qmax = queue_max(l);
    bool opt = (h->opts.present & SK_OPT_FASTOPEN) && !(c->flags & TF_NOOPT);
    if (!(cfg->tfo & SK_TFO_SERVER) || qmax == 0 || (!opt && h->payload_len == 0))
        return false;
    /* Linux's tcp_fastopen_queue_check: a full queue makes this SYN an ordinary one, with
     * no cookie either. */
    if (l->lsn->fo_qlen >= qmax)
        return false;
    if (opt && h->opts.fo_exp)
        c->fo |= FO_EXP;
    bool valid = cfg->tfo & SK_TFO_SERVER_NO_COOKIE;
    if (!valid && opt && h->opts.fo_valid && h->opts.fo_len == FO_COOKIE_BYTES) {
        uint8_t want[FO_COOKIE_BYTES];
        cookie_for(l->st, l, &ip->src, &ip->dst, want);
        valid = memcmp(want, h->opts.fo_cookie, FO_COOKIE_BYTES) == 0;
    }
    if (!valid) {
        /* A request, or a cookie that does not verify: the SYN alone is acknowledged and the
         * right cookie goes back (§4.2.2). A SYN with data and no option is ordinary. */
        if (opt)
            c->fo |= FO_SEND_COOKIE;
        return false;
    }
    /* The sender's state now: the child may send before the handshake ends. */
    if (sk_tcb_ext_attach(c) != 0 || !take_data(c, h))
        return false;
    c->cc->init(c);
    c->fo |= FO_CHILD | FO_PASSIVE;
    l->lsn->fo_qlen++;
    return true;
}

void sk_tfo_child_done(struct sk_tcp *c)
{
    if (!(c->fo & FO_CHILD))
        return;
    c->fo &= (uint16_t)~FO_CHILD;
    if (c->listener && c->listener->lsn->fo_qlen > 0)
        c->listener->lsn->fo_qlen--;
}

int sk_tcp_set_fastopen(struct sk_tcp *l, int qlen)
{
    if (l == NULL || l->lsn == NULL || qlen < 0)
        return -EINVAL;
    l->lsn->fo_qlen_max = (uint32_t)qlen;
    return 0;
}

int sk_tcp_set_fastopen_key(struct sk_tcp *l, const uint8_t key[16])
{
    if (l == NULL || l->lsn == NULL)
        return -EINVAL;
    l->lsn->fo_key_set = key != NULL;
    if (key)
        memcpy(l->lsn->fo_key, key, 16);
    return 0;
}

/* ---- Client: the cookie cache ---- */

static struct tfo_entry *cache_find(struct sk_stack *st, const struct sk_addr *server)
{
    struct sk_tfo_cache *t = st->tfo;
    if (t == NULL)
        return NULL;
    for (uint32_t i = 0; i < t->n; i++) {
        if (sk_addr_eq(&t->e[i].server, server)) {
            t->e[i].used = ++t->clock;
            return &t->e[i];
        }
    }
    return NULL;
}

/* The entry for server, made if absent (the least recently used gives way); NULL if the
 * cache cannot be allocated or holds no entry (tfo_cache_entries 0). */
static struct tfo_entry *cache_get(struct sk_stack *st, const struct sk_addr *server)
{
    struct tfo_entry *e = cache_find(st, server);
    if (e)
        return e;
    uint32_t cap = st->cfg.tfo_cache_entries;
    if (cap == 0)
        return NULL;
    if (st->tfo == NULL) {
        st->tfo = sk_mem_alloc(st, sizeof(*st->tfo) + cap * sizeof(struct tfo_entry));
        if (st->tfo == NULL)
            return NULL;
        memset(st->tfo, 0, sizeof(*st->tfo));
        st->tfo->cap = cap;
    }
    struct sk_tfo_cache *t = st->tfo;
    if (t->n < t->cap) {
        e = &t->e[t->n++];
    } else {
        e = &t->e[0];
        for (uint32_t i = 1; i < t->n; i++)
            if (t->e[i].used < e->used)
                e = &t->e[i];
    }
    memset(e, 0, sizeof(*e));
    e->server = *server;
    e->used = ++t->clock;
    return e;
}

void sk_tcp_fastopen_forget(struct sk_stack *st, const struct sk_addr *server)
{
    struct sk_tfo_cache *t = st->tfo;
    if (t == NULL)
        return;
    for (uint32_t i = t->n; i-- > 0;)
        if (server == NULL || sk_addr_eq(&t->e[i].server, server))
            t->e[i] = t->e[--t->n]; /* the last takes its place: order means nothing */
}

void sk_tfo_cache_free(struct sk_stack *st)
{
    if (st->tfo)
        sk_mem_free(st, st->tfo, sizeof(*st->tfo) + st->tfo->cap * sizeof(struct tfo_entry));
    st->tfo = NULL;
}

/* Linux 4.x's tcp_fastopen_cookie_check: after two SYNs with data lost in a row, none for
 * backoff << losses. */
static bool backing_off(const struct sk_stack *st, const struct tfo_entry *e)
{
    uint64_t base = st->cfg.tfo_syn_loss_backoff_us;
    if (e == NULL || base == 0 || e->syn_loss <= 1)
        return false;
    unsigned shift = e->syn_loss > 20 ? 20 : e->syn_loss;
    return st->now < e->last_loss + (base << shift);
}

/* Whether client c's first SYN carries the option, data, or neither. */
enum syn_kind { SYN_PLAIN, SYN_REQUEST, SYN_COOKIE, SYN_DATA_NO_COOKIE };

static enum syn_kind syn_kind(struct sk_tcp *c, struct tfo_entry **out)
{
    struct sk_stack *st = c->st;
    *out = NULL;
    if (!(c->fo & FO_WANT) || !(st->cfg.tfo & SK_TFO_CLIENT) || (c->flags & TF_NOOPT))
        return SYN_PLAIN;
    struct tfo_entry *e = cache_find(st, &c->raddr);
    *out = e;
    if (backing_off(st, e))
        return SYN_PLAIN;
    if (st->cfg.tfo & SK_TFO_CLIENT_NO_COOKIE)
        return SYN_DATA_NO_COOKIE;
    return e && e->cookie_len ? SYN_COOKIE : SYN_REQUEST;
}

/* Data bytes a first SYN may carry: the server's MSS as cached (else ours), less the option
 * room Linux's tcp_send_syn_data reserves. */
static uint32_t syn_room(const struct sk_tcp *c, const struct tfo_entry *e)
{
    uint32_t mss = c->rcv_mss;
    if (e && e->mss && e->mss < mss)
        mss = e->mss;
    return mss > FO_SYN_OPT_ROOM ? mss - FO_SYN_OPT_ROOM : 0;
}

/* The first SYN, not yet sent: a SYN sent again (a timeout, or at once after "fragmentation
 * needed", tcp_icmp.c) carries neither data nor the option, as Linux's. */
static bool first_syn(const struct sk_tcp *c)
{
    return c->state == SK_TCP_SYN_SENT && c->retries == 0 && c->snd_max == c->iss &&
           !(c->flags & TF_SYN_PLAIN);
}

void sk_tfo_syn_options(struct sk_tcp *c, struct sk_tcp_opts *o)
{
    if (c->state == SK_TCP_SYN_RECEIVED) {
        if (!(c->fo & FO_SEND_COOKIE))
            return;
        o->present |= SK_OPT_FASTOPEN;
        o->fo_exp = (c->fo & FO_EXP) != 0;
        o->fo_len = FO_COOKIE_BYTES;
        cookie_for(c->st, c->listener, &c->raddr, &c->laddr, o->fo_cookie);
        return;
    }
    if (!first_syn(c))
        return;
    struct tfo_entry *e;
    enum syn_kind k = syn_kind(c, &e);
    if (k == SYN_PLAIN || k == SYN_DATA_NO_COOKIE)
        return;
    o->present |= SK_OPT_FASTOPEN;
    o->fo_len = k == SYN_COOKIE ? e->cookie_len : 0;
    o->fo_exp = k == SYN_COOKIE ? e->exp : (e && e->try_exp == 1);
    if (o->fo_len)
        memcpy(o->fo_cookie, e->cookie, o->fo_len);
    c->fo |= FO_SYN_OPT;
    if (o->fo_exp)
        c->fo |= FO_EXP;
}

uint32_t sk_tfo_syn_data(struct sk_tcp *c)
{
    if (!first_syn(c))
        return 0;
    struct tfo_entry *e;
    enum syn_kind k = syn_kind(c, &e);
    if (k != SYN_COOKIE && k != SYN_DATA_NO_COOKIE)
        return 0;
    uint32_t n = min_u32(c->snd.len, syn_room(c, e));
    if (n)
        c->fo |= FO_SYN_DATA;
    return n;
}

/* Linux's tcp_rcv_fastopen_synack and tcp_fastopen_cache_set. */
static void cache_update(struct sk_tcp *c, const struct sk_tcp_hdr *h, bool data_lost)
{
    const struct sk_tcp_opts *o = &h->opts;
    bool cookie = (c->fo & FO_SYN_OPT) && (o->present & SK_OPT_FASTOPEN) && o->fo_valid &&
                  o->fo_len >= SK_TCP_FO_COOKIE_MIN;
    bool no_option = !(o->present & SK_OPT_FASTOPEN) || !o->fo_valid;
    bool syn_drop = false;
    uint8_t try_exp = 0;
    if (c->total_retransmits)
        syn_drop = !cookie && data_lost; /* only the plain SYN got through, or its answer */
    else if ((c->fo & FO_SYN_OPT) && no_option && !(c->fo & FO_SYN_DATA))
        try_exp = (c->fo & FO_EXP) ? 2 : 1; /* asked and got nothing: try the other form */
    struct tfo_entry *e = cache_get(c->st, &c->raddr);
    if (e == NULL)
        return;
    if (o->present & SK_OPT_MSS)
        e->mss = o->mss;
    if (cookie) {
        e->cookie_len = o->fo_len;
        e->exp = o->fo_exp;
        memcpy(e->cookie, o->fo_cookie, o->fo_len);
    } else if (try_exp > e->try_exp && e->cookie_len == 0 && !e->exp) {
        e->try_exp = try_exp;
    }
    if (syn_drop) {
        if (e->syn_loss < UINT8_MAX)
            e->syn_loss++;
        e->last_loss = c->st->now;
    } else {
        e->syn_loss = 0;
    }
}

void sk_tfo_synack(struct sk_tcp *c, const struct sk_tcp_hdr *h)
{
    if (!(c->fo & (FO_SYN_OPT | FO_SYN_DATA)))
        return;
    /* The data our SYN carried that the SYN-ACK acknowledges leaves the send ring. */
    if (seq_gt(c->snd_una, c->sndbuf_seq)) {
        uint32_t acked = min_u32(c->snd_una - c->sndbuf_seq, c->snd.len);
        sk_ring_consume(&c->snd, acked);
        c->sndbuf_seq += acked;
        c->x->bytes_acked += acked;
    }
    bool data_lost = (c->fo & FO_SYN_DATA) && seq_lt(c->snd_una, c->snd_max);
    cache_update(c, h, data_lost);
    if (seq_lt(c->snd_nxt, c->snd_una))
        c->snd_nxt = c->snd_una;
    if (data_lost) {
        /* §4.2.2: the server took the SYN only; what it did not acknowledge goes at once, and
         * that segment carries the handshake's ACK. */
        c->snd_nxt = c->snd_una;
        sk_rack_syn_data(c);
        return;
    }
    if (c->fo & FO_SYN_DATA)
        c->fo |= FO_DATA_OK;
}

/* ---- The application's calls ---- */

int sk_tcp_connect_data(struct sk_stack *st, uint16_t local_port, const struct sk_addr *raddr,
                        uint16_t rport, const struct sk_tcp_params *p, const void *buf,
                        size_t len, size_t *queued, struct sk_tcp **out)
{
    if (queued)
        *queued = 0;
    if (!(st->cfg.tfo & SK_TFO_CLIENT))
        return -EOPNOTSUPP;
    if (len > 0 && buf == NULL)
        return -EFAULT;
    struct sk_tcp_params prm = p ? *p : (struct sk_tcp_params){0};
    prm.fastopen = SK_FASTOPEN_DEFER;
    int err = sk_tcp_connect_addr(st, local_port, raddr, rport, &prm, out);
    if (err != 0)
        return err;
    struct sk_tcp *c = *out;
    c->fo |= FO_DEFER; /* the SYN goes below, whether or not a cookie is known */
    struct tfo_entry *e;
    enum syn_kind k = syn_kind(c, &e);
    size_t n = 0;
    if (len > 0 && (k == SYN_COOKIE || k == SYN_DATA_NO_COOKIE)) {
        ssize_t r = sk_tcp_send(c, buf, min_u32((uint32_t)(len > UINT32_MAX ? UINT32_MAX : len),
                                                syn_room(c, e)));
        n = r > 0 ? (size_t)r : 0;
    }
    if (c->fo & FO_DEFER) { /* sk_tcp_send did not send the SYN (nothing was queued) */
        c->fo &= (uint16_t)~FO_DEFER;
        sk_enter(st);
        sk_tcp_output(c);
        sk_leave(st);
    }
    if (queued)
        *queued = n;
    return 0;
}

uint32_t sk_tfo_defer_room(struct sk_tcp *c)
{
    if (!(c->fo & FO_DEFER))
        return UINT32_MAX;
    struct tfo_entry *e;
    enum syn_kind k = syn_kind(c, &e);
    return k == SYN_COOKIE || k == SYN_DATA_NO_COOKIE ? syn_room(c, e) : UINT32_MAX;
}

/* TCP_FASTOPEN_CONNECT: whether connect() may leave the SYN for the first data. */
bool sk_tfo_defer_connect(struct sk_tcp *c)
{
    struct tfo_entry *e;
    enum syn_kind k = syn_kind(c, &e);
    return k == SYN_COOKIE || k == SYN_DATA_NO_COOKIE;
}

unsigned sk_tcp_fastopen_status(const struct sk_tcp *c)
{
    unsigned s = 0;
    if (c->fo & FO_DATA_OK)
        s |= SK_TCP_FO_SYN_DATA;
    if (c->fo & FO_SYN_OPT)
        s |= SK_TCP_FO_REQUESTED;
    if (c->fo & FO_DEFER)
        s |= SK_TCP_FO_DEFERRED;
    if (c->fo & FO_PASSIVE)
        s |= SK_TCP_FO_PASSIVE;
    return s;
}
