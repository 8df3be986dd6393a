/* Socket options: SOL_SOCKET (buffers, SO_REUSEADDR, SO_LINGER, SO_KEEPALIVE, SO_BROADCAST,
 * SO_ERROR, SO_RCVLOWAT) and IPPROTO_TCP (TCP_NODELAY, TCP_MAXSEG, keep-alive timing,
 * TCP_USER_TIMEOUT, TCP_CONGESTION, TCP_NOTSENT_LOWAT, TCP_INQ); and ioctl (SIOCINQ,
 * SIOCOUTQ, SIOCOUTQNSD).
 *
 * An option is kept in the socket and applied to its connection when there is one, so what is
 * set before connect/listen takes effect at the handshake and passes from a listener to the
 * connections it accepts.
 */
#include <string.h>

#include "socket/sock_int.h"
#include "tcp/tcp_cc.h"

#define SOCK_BUF_MIN 2048u
#define TCP_MIN_MSS 88       /* Linux's bounds for TCP_MAXSEG (do_tcp_setsockopt): */
#define TCP_MAX_MSS 32767    /* TCP_MIN_MSS and MAX_TCP_WINDOW */
#define TCP_DEFAULT_MSS 536  /* RFC 9293 §3.7.1: before the peer's MSS is known */
#define CC_NAME_MAX 16

/* setsockopt's value, as Linux sk_setsockopt / do_tcp_setsockopt: shorter than an int
 * -EINVAL (negative lengths included), then a NULL value -EFAULT; longer is fine. */
static int get_int(const void *val, socklen_t len, int *out)
{
    if ((int)len < (int)sizeof(int))
        return -EINVAL;
    if (val == NULL)
        return -EFAULT;
    memcpy(out, val, sizeof(int));
    return 0;
}

/* getsockopt's answer, as Linux sk_getsockopt / do_tcp_getsockopt: the first
 * min(*len, size) bytes, *len set to that; a negative *len -EINVAL, a NULL length (or a NULL
 * value with room) -EFAULT. A short buffer truncates, it is not an error. */
static int put_bytes(void *val, socklen_t *len, const void *v, size_t size)
{
    if (len == NULL)
        return -EFAULT;
    if ((int)*len < 0)
        return -EINVAL;
    size_t n = (size_t)*len < size ? (size_t)*len : size;
    if (n > 0 && val == NULL)
        return -EFAULT;
    if (n > 0)
        memcpy(val, v, n);
    *len = (socklen_t)n;
    return 0;
}

static int put_int(void *val, socklen_t *len, int v)
{
    return put_bytes(val, len, &v, sizeof(v));
}

static void apply_keepalive(struct sk_sock *s)
{
    if (s->tcp && s->state != SS_LISTENING)
        sk_tcp_set_keepalive(s->tcp, s->keepalive, (uint64_t)s->ka_idle_s * 1000000u,
                             s->ka_intvl_s * 1000000u, (uint8_t)s->ka_cnt);
}

/* The most SO_SNDBUF / SO_RCVBUF may give one socket: the per-socket maximum (never below
 * the stack's default size), and never more than the whole stack's budget. */
static uint32_t buffer_max(const struct sk_config *cfg, int name)
{
    bool snd = name == SK_SO_SNDBUF;
    uint32_t max = snd ? cfg->max_sndbuf_bytes : cfg->max_rcvbuf_bytes;
    if (max == 0)
        max = snd ? SK_MAX_SNDBUF_DEFAULT : SK_MAX_RCVBUF_DEFAULT;
    uint32_t dflt = snd ? cfg->sndbuf_bytes : cfg->rcvbuf_bytes;
    if (max < dflt)
        max = dflt;
    if (max > cfg->max_buffer_bytes)
        max = (uint32_t)cfg->max_buffer_bytes;
    return max < SOCK_BUF_MIN ? SOCK_BUF_MIN : max;
}

/* Linux's sock_setsockopt: the int is taken as unsigned and lowered to wmem_max / rmem_max
 * (so a negative value means the maximum), then raised to a floor (SOCK_MIN_SNDBUF /
 * SOCK_MIN_RCVBUF there, SOCK_BUF_MIN here); never an error. Nothing is allocated: a
 * connection's rings appear with its first byte each way (tcp_conn.c), so only resizing a ring
 * that holds data can fail (-ENOBUFS, nothing changed). */
static int set_buffer(struct sk_stack *st, struct sk_sock *s, int name, int v)
{
    uint32_t max = buffer_max(&st->cfg, name);
    uint32_t bytes = (uint32_t)v > max ? max : (uint32_t)v;
    if (bytes < SOCK_BUF_MIN)
        bytes = SOCK_BUF_MIN;
    uint32_t snd = name == SK_SO_SNDBUF ? bytes : 0, rcv = name == SK_SO_RCVBUF ? bytes : 0;
    if (s->tcp && sk_tcp_set_buffers(s->tcp, snd, rcv) != 0)
        return -ENOBUFS;
    if (snd)
        s->params.sndbuf_bytes = snd;
    if (rcv)
        s->params.rcvbuf_bytes = rcv;
    return 0;
}

/* Linux's sock_setsockopt and tcp_set_rcvlowat: a negative value is INT_MAX, the mark is
 * capped at half the receive buffer, and 0 means 1. */
static int set_rcvlowat(struct sk_stack *st, struct sk_sock *s, int v)
{
    uint32_t mark = v < 0 ? (uint32_t)INT32_MAX : (uint32_t)v;
    uint32_t rcvbuf = s->params.rcvbuf_bytes ? s->params.rcvbuf_bytes : st->cfg.rcvbuf_bytes;
    if (s->tcp)
        sk_tcp_get_buffers(s->tcp, NULL, &rcvbuf);
    if (mark > rcvbuf / 2)
        mark = rcvbuf / 2;
    if (mark == 0)
        mark = 1;
    if (s->tcp && s->state != SS_LISTENING && sk_tcp_set_rcvlowat(s->tcp, mark) != 0)
        return -ENOMEM;
    s->rcvlowat = mark;
    return 0;
}

static int set_socket_level(struct sk_stack *st, struct sk_sock *s, int name, const void *val,
                            socklen_t len)
{
    int v, r;
    if (name == SK_SO_LINGER) {
        struct linger lg;
        if ((int)len < (int)sizeof(lg))
            return -EINVAL;
        if (val == NULL)
            return -EFAULT;
        memcpy(&lg, val, sizeof(lg));
        /* As Linux's sock_setsockopt (net/core/sock.c): {0, x} only turns lingering off and
         * keeps the time set before; a negative l_linger, widened to unsigned long, is past
         * every limit and means linger without end (a graceful close), never an abort. */
        s->linger_on = lg.l_onoff != 0;
        if (s->linger_on)
            s->linger_s = lg.l_linger;
        return 0;
    }
    switch (name) {
    case SK_SO_SNDBUF:
    case SK_SO_RCVBUF:
    case SK_SO_REUSEADDR:
    case SK_SO_KEEPALIVE:
    case SK_SO_BROADCAST:
    case SK_SO_RCVLOWAT:
        if ((r = get_int(val, len, &v)) != 0)
            return r;
        break;
    default:
        return -ENOPROTOOPT; /* SO_ERROR, SO_TYPE, SO_ACCEPTCONN are read-only */
    }
    switch (name) {
    case SK_SO_SNDBUF:
    case SK_SO_RCVBUF:
        return set_buffer(st, s, name, v);
    case SK_SO_RCVLOWAT:
        return set_rcvlowat(st, s, v);
    case SK_SO_REUSEADDR:
        s->reuseaddr = v != 0;
        /* Linux reads sk_reuse when a later bind looks for conflicts: set after bind, it
         * still lets others share a UDP port. */
        if (s->udp)
            sk_udp_set_reuse(s->udp, s->reuseaddr);
        return 0;
    case SK_SO_BROADCAST: /* kept on any socket, as Linux; only UDP sends look at it */
        s->broadcast = v != 0;
        return 0;
    default: /* SK_SO_KEEPALIVE */
        s->keepalive = v != 0;
        if (s->type == SK_SOCK_STREAM)
            apply_keepalive(s);
        return 0;
    }
}

static int set_congestion(struct sk_sock *s, const void *val, socklen_t len)
{
    char name[CC_NAME_MAX];
    if ((int)len < 1)
        return -EINVAL;
    if (val == NULL)
        return -EFAULT;
    size_t n = (size_t)len < sizeof(name) - 1 ? (size_t)len : sizeof(name) - 1;
    memcpy(name, val, n);
    name[n] = '\0';
    /* Only Linux's names (tcp_ca_find): not the old alias sk_cc_find also knows. */
    const struct sk_cc_ops *cc = sk_cc_find(name);
    if (cc == NULL || strcmp(cc->name, name) != 0)
        return -ENOENT;
    if (s->tcp) {
        int r = sk_tcp_set_congestion(s->tcp, cc->name);
        if (r != 0)
            return r;
    }
    s->params.congestion_control = cc->name; /* a static string */
    return 0;
}

static int set_tcp_level(struct sk_sock *s, int name, const void *val, socklen_t len)
{
    if (name == SK_TCP_CONGESTION)
        return set_congestion(s, val, len);
    int v, r;
    if ((r = get_int(val, len, &v)) != 0)
        return r;
    switch (name) {
    case SK_TCP_NODELAY:
        s->nodelay = v != 0;
        if (s->tcp && s->state != SS_LISTENING)
            sk_tcp_set_nodelay(s->tcp, s->nodelay);
        return 0;
    case SK_TCP_FASTOPEN: /* RFC 7413: the listener's queue of Fast Open requests */
        if (v < 0)
            return -EINVAL;
        s->fo_qlen = v;
        if (s->tcp && s->state == SS_LISTENING)
            sk_tcp_set_fastopen(s->tcp, v);
        return 0;
    case SK_TCP_FASTOPEN_CONNECT: /* only before connect, as Linux */
        if (s->tcp != NULL)
            return -EISCONN;
        s->params.fastopen = v ? SK_FASTOPEN_DEFER : 0;
        return 0;
    case SK_TCP_MAXSEG:
        /* Announced in the SYN: takes effect at the next connect/listen, and on a listener
         * for the SYNs it answers from now on (as Linux). */
        if (v != 0 && (v < TCP_MIN_MSS || v > TCP_MAX_MSS))
            return -EINVAL;
        s->params.mss = (uint16_t)v;
        if (s->tcp && s->state == SS_LISTENING)
            sk_tcp_set_maxseg(s->tcp, (uint16_t)v);
        return 0;
    case SK_TCP_KEEPIDLE:
    case SK_TCP_KEEPINTVL:
        if (v < 1 || v > 32767)
            return -EINVAL;
        if (name == SK_TCP_KEEPIDLE)
            s->ka_idle_s = (uint32_t)v;
        else
            s->ka_intvl_s = (uint32_t)v;
        apply_keepalive(s);
        return 0;
    case SK_TCP_KEEPCNT:
        if (v < 1 || v > 127)
            return -EINVAL;
        s->ka_cnt = (uint32_t)v;
        apply_keepalive(s);
        return 0;
    case SK_TCP_USER_TIMEOUT:
        if (v < 0)
            return -EINVAL;
        /* Any non-negative int, kept and read back as set (Linux's do_tcp_setsockopt). */
        s->user_timeout_ms = (uint32_t)v;
        if (s->tcp && s->state != SS_LISTENING)
            sk_tcp_set_user_timeout(s->tcp, (uint64_t)s->user_timeout_ms * 1000u);
        return 0;
    case SK_TCP_NOTSENT_LOWAT:
        /* Any int, taken as unsigned and read back as set (do_tcp_setsockopt). */
        if (s->tcp && s->state != SS_LISTENING &&
            sk_tcp_set_notsent_lowat(s->tcp, (uint32_t)v) != 0)
            return -ENOMEM;
        s->notsent_lowat = (uint32_t)v;
        return 0;
    case SK_TCP_INQ:
        if (v < 0 || v > 1)
            return -EINVAL;
        s->inq = v != 0;
        return 0;
    default:
        return -ENOPROTOOPT;
    }
}

/* IPPROTO_IPV6 on an AF_INET6 socket: IPV6_V6ONLY only (Linux do_ipv6_setsockopt: -EINVAL
 * once bound, the value an int). */
static int set_ipv6_level(struct sk_sock *s, int name, const void *val, socklen_t len)
{
    if (name != SK_IPV6_V6ONLY)
        return -ENOPROTOOPT;
    int v, r;
    if ((r = get_int(val, len, &v)) != 0)
        return r;
    if (s->bound)
        return -EINVAL;
    s->v6only = v != 0;
    return 0;
}

int sk_setsockopt(struct sk_stack *st, int fd, int level, int name, const void *val,
                  socklen_t len)
{
    struct sk_sock *s = sk_sock_get(st, fd);
    if (s == NULL)
        return -EBADF;
    if (level == SK_SOL_SOCKET)
        return set_socket_level(st, s, name, val, len);
    if (level == SK_IPPROTO_TCP && s->type == SK_SOCK_STREAM)
        return set_tcp_level(s, name, val, len);
    if (level == SK_IPPROTO_IPV6 && s->family == AF_INET6)
        return set_ipv6_level(s, name, val, len);
    return -ENOPROTOOPT;
}

static int get_buffer(struct sk_stack *st, const struct sk_sock *s, int name)
{
    uint32_t snd, rcv;
    if (s->tcp) {
        sk_tcp_get_buffers(s->tcp, &snd, &rcv);
    } else {
        snd = s->params.sndbuf_bytes ? s->params.sndbuf_bytes : st->cfg.sndbuf_bytes;
        rcv = s->params.rcvbuf_bytes ? s->params.rcvbuf_bytes : st->cfg.rcvbuf_bytes;
    }
    uint32_t v = name == SK_SO_SNDBUF ? snd : rcv;
    return v > INT32_MAX ? INT32_MAX : (int)v;
}

static int get_maxseg(const struct sk_sock *s)
{
    if (s->tcp && s->state != SS_LISTENING) {
        struct sk_tcp_info info;
        sk_tcp_get_info(s->tcp, &info);
        if (info.state >= SK_TCP_ESTABLISHED || info.state == SK_TCP_CLOSED)
            return info.snd_mss;
    }
    return s->params.mss ? s->params.mss : TCP_DEFAULT_MSS;
}

static int get_socket_level(struct sk_stack *st, struct sk_sock *s, int name, void *val,
                            socklen_t *len)
{
    switch (name) {
    case SK_SO_LINGER: {
        /* A negative time (an endless linger) reads back as set: Linux reports its jiffies
         * cut to an int, a number that depends on the kernel's HZ (docs/api.md,
         * linger-readback-hz). */
        struct linger lg = {.l_onoff = s->linger_on, .l_linger = s->linger_s};
        return put_bytes(val, len, &lg, sizeof(lg));
    }
    case SK_SO_ERROR: {
        if (s->type == SK_SOCK_DGRAM)
            sk_sock_udp_sync(s);
        /* POSIX: the pending error as a positive errno value, and it is cleared (by Linux
         * also when the buffer is too short to hold it). */
        if (len == NULL)
            return -EFAULT;
        if ((int)*len < 0)
            return -EINVAL;
        return put_int(val, len, -sk_sock_take_error(s));
    }
    case SK_SO_TYPE:
        return put_int(val, len, s->type);
    case SK_SO_ACCEPTCONN:
        return put_int(val, len, s->state == SS_LISTENING);
    case SK_SO_SNDBUF:
    case SK_SO_RCVBUF:
        return put_int(val, len, get_buffer(st, s, name));
    case SK_SO_REUSEADDR:
        return put_int(val, len, s->reuseaddr);
    case SK_SO_KEEPALIVE:
        return put_int(val, len, s->keepalive);
    case SK_SO_BROADCAST:
        return put_int(val, len, s->broadcast);
    case SK_SO_RCVLOWAT:
        return put_int(val, len, s->rcvlowat ? (int)s->rcvlowat : 1);
    default:
        return -ENOPROTOOPT;
    }
}

static int get_tcp_level(struct sk_stack *st, struct sk_sock *s, int name, void *val,
                         socklen_t *len)
{
    const struct sk_config *cfg = &st->cfg;
    switch (name) {
    case SK_TCP_CONGESTION: {
        const char *cc = s->tcp ? sk_tcp_get_congestion(s->tcp) : s->params.congestion_control;
        if (cc == NULL) /* the stack's (its name, not an alias; sk_stack_new checked it) */
            cc = cfg->congestion_control ? sk_cc_find(cfg->congestion_control)->name : "cubic";
        /* Linux copies min(len, TCP_CA_NAME_MAX) bytes of the NUL-padded name. */
        char name[CC_NAME_MAX];
        memset(name, 0, sizeof(name));
        strncpy(name, cc, sizeof(name) - 1);
        return put_bytes(val, len, name, sizeof(name));
    }
    case SK_TCP_NODELAY:
        return put_int(val, len, s->nodelay);
    case SK_TCP_MAXSEG:
        return put_int(val, len, get_maxseg(s));
    case SK_TCP_KEEPIDLE:
        return put_int(val, len,
                       (int)(s->ka_idle_s ? s->ka_idle_s : cfg->keepalive_idle_us / 1000000u));
    case SK_TCP_KEEPINTVL:
        return put_int(val, len,
                       (int)(s->ka_intvl_s ? s->ka_intvl_s : cfg->keepalive_intvl_us / 1000000u));
    case SK_TCP_KEEPCNT:
        return put_int(val, len, (int)(s->ka_cnt ? s->ka_cnt : cfg->keepalive_cnt));
    case SK_TCP_USER_TIMEOUT:
        return put_int(val, len, (int)s->user_timeout_ms);
    case SK_TCP_FASTOPEN:
        return put_int(val, len, s->fo_qlen);
    case SK_TCP_FASTOPEN_CONNECT:
        return put_int(val, len, s->params.fastopen != 0);
    case SK_TCP_NOTSENT_LOWAT:
        return put_int(val, len, (int)s->notsent_lowat);
    case SK_TCP_INQ:
        return put_int(val, len, s->inq);
    default:
        return -ENOPROTOOPT;
    }
}

int sk_getsockopt(struct sk_stack *st, int fd, int level, int name, void *val, socklen_t *len)
{
    struct sk_sock *s = sk_sock_get(st, fd);
    if (s == NULL)
        return -EBADF;
    if (level == SK_SOL_SOCKET)
        return get_socket_level(st, s, name, val, len);
    if (level == SK_IPPROTO_TCP && s->type == SK_SOCK_STREAM)
        return get_tcp_level(st, s, name, val, len);
    if (level == SK_IPPROTO_IPV6 && s->family == AF_INET6) {
        if (name != SK_IPV6_V6ONLY)
            return -ENOPROTOOPT;
        return put_int(val, len, s->v6only ? 1 : 0);
    }
    /* Linux: another level falls to ip_getsockopt, which answers -EOPNOTSUPP (its setsockopt
     * counterpart -ENOPROTOOPT). */
    return -EOPNOTSUPP;
}

/* ---- ioctl ---- */

/* Linux's tcp_ioctl: a listener has no queues (-EINVAL); a socket never connected, or still
 * connecting, has empty ones. */
static int tcp_ioctl(const struct sk_sock *s, unsigned long request, int *arg)
{
    if (s->state == SS_LISTENING)
        return -EINVAL;
    size_t n = 0;
    if (s->tcp != NULL) {
        if (request == SK_SIOCINQ)
            n = sk_tcp_inq(s->tcp);
        else if (request == SK_SIOCOUTQ)
            n = sk_tcp_outq(s->tcp);
        else
            n = sk_tcp_outq_nsd(s->tcp);
    }
    *arg = n > INT32_MAX ? INT32_MAX : (int)n;
    return 0;
}

int sk_ioctl(struct sk_stack *st, int fd, unsigned long request, int *arg)
{
    struct sk_sock *s = sk_sock_get(st, fd);
    if (s == NULL)
        return -EBADF;
    bool stream = s->type == SK_SOCK_STREAM;
    if (request != SK_SIOCINQ && request != SK_SIOCOUTQ &&
        (request != SK_SIOCOUTQNSD || !stream))
        return -ENOTTY;
    if (arg == NULL)
        return -EFAULT;
    if (stream)
        return tcp_ioctl(s, request, arg);
    /* Linux's udp_ioctl: the next datagram's length; nothing waits to be sent. */
    ssize_t r = request == SK_SIOCINQ ? sk_recv(st, fd, NULL, 0, SK_MSG_PEEK | SK_MSG_TRUNC) : 0;
    *arg = r > 0 ? (int)r : 0;
    return 0;
}
