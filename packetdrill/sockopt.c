/* getsockopt, setsockopt and ioctl: Linux's option numbers, values and errors over the
 * connection's knobs; what the stack has no knob for is remembered in the socket for
 * getsockopt. */
#include "adapter_int.h"
#include "tcp_info.h"

int get_int(const void *val, socklen_t len, int *out)
{
    if (val == NULL || len < (socklen_t)sizeof(int))
        return EINVAL;
    memcpy(out, val, sizeof(int));
    return 0;
}

int put_int(void *val, socklen_t *len, int v)
{
    if (val == NULL || len == NULL)
        return EFAULT;
    socklen_t n = *len < (socklen_t)sizeof(int) ? *len : (socklen_t)sizeof(int);
    memcpy(val, &v, (size_t)n);
    *len = n;
    return 0;
}

static uint32_t roundup_u32(uint32_t v, uint32_t m)
{
    return m ? (v + m - 1) / m * m : v;
}

static int sockbuf_value(struct pd *pd, struct pd_sock *s, bool rcv)
{
    int set = rcv ? s->rcvbuf_set : s->sndbuf_set;
    uint32_t v = set ? (uint32_t)set : (rcv ? pd->cfg.rcvbuf_bytes : pd->cfg.sndbuf_bytes);
    if (set && pd->linux_sockbuf)
        v *= 2; /* Linux doubles what was set, for bookkeeping overhead (socket(7)) */
    if (rcv && pd->freebsd_sockbuf && s->tcp && !s->listening) {
        /* FreeBSD's tcp_mss() rounds the receive buffer up to a multiple of the MSS once the
         * connection knows it. */
        struct sk_tcp_info info;
        sk_tcp_get_info(s->tcp, &info);
        if (info.state >= SK_TCP_ESTABLISHED || info.state == SK_TCP_CLOSED)
            v = roundup_u32(v, info.snd_mss);
    }
    return (int)v;
}

/* TCP_INFO (tcp_info.c fills Linux's struct). */
int pd_tcp_info(struct pd *pd, struct pd_sock *s, void *val, socklen_t *len)
{
    struct pd_info_in in = {.listening = s->listening};
    bool v6 = s->family == AF_INET6;
    uint16_t mtu = pd->cfg.mtu ? pd->cfg.mtu : 1500;
    in.advmss = pd->cfg.mss ? pd->cfg.mss : (uint16_t)(mtu - (v6 ? 60 : 40));
    if (s->maxseg_set > 0 && s->maxseg_set < in.advmss)
        in.advmss = (uint16_t)s->maxseg_set;
    if (s->tcp && !s->listening) {
        in.connection = true;
        sk_tcp_get_info(s->tcp, &in.ti);
    }
    int e = pd_linux_tcp_info(&in, val, len);
    return e ? fail(e) : 0;
}

/* SO_MEMINFO: Linux's sk_meminfo array (SK_MEMINFO_RMEM_ALLOC, RCVBUF, WMEM_ALLOC, SNDBUF,
 * FWD_ALLOC, WMEM_QUEUED, OPTMEM, BACKLOG, DROPS). packetdrill reads it before every Python
 * block; the buffers' use and sizes are what the stack can tell. */
static int meminfo(struct pd *pd, struct pd_sock *s, void *val, socklen_t *len)
{
    uint32_t m[9] = {0};
    m[1] = (uint32_t)sockbuf_value(pd, s, true);
    m[3] = (uint32_t)sockbuf_value(pd, s, false);
    if (s->tcp && !s->listening) {
        struct sk_tcp_info ti;
        sk_tcp_get_info(s->tcp, &ti);
        m[0] = ti.rcvbuf_used;
        m[2] = ti.sndbuf_used;
        m[5] = ti.sndbuf_used;
    }
    if (val == NULL || len == NULL)
        return fail(EFAULT);
    socklen_t n = *len < (socklen_t)sizeof(m) ? *len : (socklen_t)sizeof(m);
    memcpy(val, m, (size_t)n);
    *len = n;
    return 0;
}

int hook_getsockopt(void *u, int fd, int level, int name, void *val, socklen_t *len)
{
    LOCKED_SOCK(pd, fd, s);
    int r = pd_fastopen_getsockopt(pd, s, level, name, val, len);
    if (r != PD_NOT_MINE)
        return unlock_ret(pd, r);
    int v = 0;
    if (level == SOL_SOCKET) {
        switch (name) {
        case SO_ERROR:
            v = take_error(s);
            break;
        case SO_RCVBUF:
            v = sockbuf_value(pd, s, true);
            break;
        case SO_SNDBUF:
            v = sockbuf_value(pd, s, false);
            break;
        case SO_REUSEADDR:
            v = s->reuseaddr;
            break;
        case SO_KEEPALIVE:
            v = s->keepalive;
            break;
        case SO_MEMINFO:
            return unlock_ret(pd, meminfo(pd, s, val, len));
        case SO_TYPE:
            v = SOCK_STREAM;
            break;
        case SO_ACCEPTCONN:
            v = s->listening;
            break;
        case SO_LINGER: {
            if (val == NULL || len == NULL || *len < (socklen_t)sizeof(struct linger))
                return unlock_ret(pd, fail(EINVAL));
            struct linger l = {.l_onoff = s->linger_on, .l_linger = s->linger_secs};
            memcpy(val, &l, sizeof(l));
            *len = sizeof(l);
            return unlock_ret(pd, 0);
        }
        default:
            return unlock_ret(pd, fail(ENOPROTOOPT));
        }
    } else if (level == IPPROTO_TCP) {
        switch (name) {
        case TCP_NODELAY:
            v = s->nodelay;
            break;
        case TCP_MAXSEG: {
            struct sk_tcp_info info;
            if (s->tcp && !s->listening) {
                sk_tcp_get_info(s->tcp, &info);
                v = info.snd_mss;
            } else {
                v = s->maxseg_set ? s->maxseg_set : 536; /* Linux: TCP_MSS_DEFAULT */
            }
            break;
        }
        case TCP_USER_TIMEOUT:
            v = (int)s->user_timeout_ms;
            break;
        case TCP_INFO:
            return unlock_ret(pd, pd_tcp_info(pd, s, val, len));
        case TCP_CC_INFO:
            /* Linux's CUBIC and Reno have no get_info: the answer is empty (do_tcp_getsockopt). */
            if (len == NULL)
                return unlock_ret(pd, fail(EFAULT));
            *len = 0;
            return unlock_ret(pd, 0);
        default:
            return unlock_ret(pd, fail(ENOPROTOOPT));
        }
    } else {
        return unlock_ret(pd, fail(ENOPROTOOPT));
    }
    int e = put_int(val, len, v);
    return unlock_ret(pd, e ? fail(e) : 0);
}

int hook_setsockopt(void *u, int fd, int level, int name, const void *val, socklen_t len)
{
    LOCKED_SOCK(pd, fd, s);
    int r = pd_fastopen_setsockopt(pd, s, level, name, val, len);
    if (r != PD_NOT_MINE)
        return unlock_ret(pd, r);
    int v = 0;
    if (level == SOL_SOCKET && name == SO_LINGER) {
        if (val == NULL || len < (socklen_t)sizeof(struct linger))
            return unlock_ret(pd, fail(EINVAL));
        struct linger l;
        memcpy(&l, val, sizeof(l));
        s->linger_on = l.l_onoff != 0;
        s->linger_secs = l.l_linger;
        return unlock_ret(pd, 0);
    }
    int e = get_int(val, len, &v);
    if (e)
        return unlock_ret(pd, fail(e));
    if (level == SOL_SOCKET) {
        switch (name) {
        case SO_REUSEADDR:
        case SO_REUSEPORT:
            s->reuseaddr = v != 0;
            break;
        case SO_KEEPALIVE:
            s->keepalive = v != 0;
            apply_keepalive(s);
            break;
        case SO_RCVBUF:
        case SO_SNDBUF:
            /* Applied: at the handshake (sock_params), or to the connection now. */
            if (name == SO_RCVBUF)
                s->rcvbuf_set = v;
            else
                s->sndbuf_set = v;
            if (s->tcp && sk_tcp_set_buffers(s->tcp, sockbuf_bytes(s->sndbuf_set),
                                             sockbuf_bytes(s->rcvbuf_set)) != 0)
                return unlock_ret(pd, fail(ENOBUFS));
            break;
        default:
            return unlock_ret(pd, fail(ENOPROTOOPT));
        }
    } else if (level == IPPROTO_TCP) {
        switch (name) {
        case TCP_NODELAY:
            s->nodelay = v != 0;
            if (s->tcp && !s->listening)
                sk_tcp_set_nodelay(s->tcp, s->nodelay);
            break;
        case TCP_MAXSEG:
            if (v < 0)
                return unlock_ret(pd, fail(EINVAL));
            s->maxseg_set = v; /* announced in the next SYN (sock_params), as Linux */
            break;
        case TCP_USER_TIMEOUT:
            if (v < 0)
                return unlock_ret(pd, fail(EINVAL));
            s->user_timeout_ms = (unsigned)v;
            if (s->tcp && !s->listening)
                sk_tcp_set_user_timeout(s->tcp, (uint64_t)v * 1000u);
            break;
        case FREEBSD_TCP_NOOPT:
        case FREEBSD_TCP_KEEPINIT:
            if (!pd->freebsd_sockbuf)
                return unlock_ret(pd, fail(ENOPROTOOPT));
            if (name == FREEBSD_TCP_NOOPT)
                s->noopt = v != 0;
            else if (v < 0)
                return unlock_ret(pd, fail(EINVAL));
            else
                s->keepinit_s = v;
            break;
        case TCP_KEEPIDLE:
        case TCP_KEEPINTVL:
        case TCP_KEEPCNT:
            if (v < 1 || (name == TCP_KEEPCNT && v > 255))
                return unlock_ret(pd, fail(EINVAL));
            if (name == TCP_KEEPIDLE)
                s->ka_idle_s = v;
            else if (name == TCP_KEEPINTVL)
                s->ka_intvl_s = v;
            else
                s->ka_cnt = v;
            apply_keepalive(s);
            break;
        default:
            return unlock_ret(pd, fail(ENOPROTOOPT));
        }
    } else {
        return unlock_ret(pd, fail(ENOPROTOOPT));
    }
    return unlock_ret(pd, 0);
}

int hook_ioctl(void *u, int fd, unsigned long req, ...)
{
    va_list ap;
    va_start(ap, req);
    int *arg = va_arg(ap, int *);
    va_end(ap);
    LOCKED_SOCK(pd, fd, s);
    if (arg == NULL)
        return unlock_ret(pd, fail(EFAULT));
    switch (req) {
    case FIONBIO:
        s->nonblock = *arg != 0;
        return unlock_ret(pd, 0);
    case SIOCINQ:
        if (s->listening)
            return unlock_ret(pd, fail(EINVAL));
        *arg = s->tcp ? (int)sk_tcp_readable(s->tcp) : 0;
        return unlock_ret(pd, 0);
    case SIOCOUTQ: {
        if (s->listening)
            return unlock_ret(pd, fail(EINVAL));
        struct sk_tcp_info info = {0};
        if (s->tcp)
            sk_tcp_get_info(s->tcp, &info);
        *arg = (int)info.sndbuf_used;
        return unlock_ret(pd, 0);
    }
    default:
        return unlock_ret(pd, fail(ENOTTY));
    }
}

