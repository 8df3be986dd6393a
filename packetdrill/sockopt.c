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

/* The marks a socket was given, onto its connection or listener (the core passes a
 * listener's on to the connections it accepts). A mark that finds no memory stays the
 * stack's default (counted in alloc_failures). */
void pd_apply_marks(struct pd_sock *s)
{
    if (s->tcp == NULL)
        return;
    if (s->notsent_lowat)
        (void)sk_tcp_set_notsent_lowat(s->tcp, s->notsent_lowat);
    if (s->rcvlowat > 1)
        (void)sk_tcp_set_rcvlowat(s->tcp, s->rcvlowat);
}

/* TCP_CONGESTION: Linux copies min(len, TCP_CA_NAME_MAX) bytes of the NUL-padded name. */
static int get_congestion(struct pd *pd, struct pd_sock *s, void *val, socklen_t *len)
{
    if (len == NULL)
        return fail(EFAULT);
    if ((int)*len < 0)
        return fail(EINVAL);
    char name[16];
    memset(name, 0, sizeof(name));
    const char *cc = s->tcp ? sk_tcp_get_congestion(s->tcp)
                     : s->cc_name[0] ? s->cc_name
                     : pd->cfg.congestion_control ? pd->cfg.congestion_control : "cubic";
    size_t cl = strlen(cc);
    memcpy(name, cc, cl < sizeof(name) - 1 ? cl : sizeof(name) - 1);
    socklen_t n = *len < (socklen_t)sizeof(name) ? *len : (socklen_t)sizeof(name);
    if (n > 0 && val == NULL)
        return fail(EFAULT);
    memcpy(val, name, (size_t)n);
    *len = n;
    return 0;
}

/* Linux's tcp_set_congestion_control by name: ENOENT for a name it does not know. */
static int set_congestion(struct pd_sock *s, const void *val, socklen_t len)
{
    char name[16];
    if ((int)len < 1)
        return fail(EINVAL);
    if (val == NULL)
        return fail(EFAULT);
    size_t n = (size_t)len < sizeof(name) - 1 ? (size_t)len : sizeof(name) - 1;
    memcpy(name, val, n);
    name[n] = '\0';
    if (strcmp(name, "cubic") != 0 && strcmp(name, "reno") != 0)
        return fail(ENOENT);
    if (s->tcp && sk_tcp_set_congestion(s->tcp, name) != 0)
        return fail(ENOENT);
    memcpy(s->cc_name, name, sizeof(s->cc_name));
    return 0;
}

/* SOL_IP options scripts set, kept and read back: IP_TOS, IP_MTU_DISCOVER, IP_FREEBIND. As
 * Linux's do_ip_setsockopt, the value is an int or a single byte (optlen 1). The stack keeps
 * its own TOS (the ECN field) and sets DF always: nothing more is applied. */
static int set_ip_level(struct pd_sock *s, int name, const void *val, socklen_t len)
{
    int v;
    if (val == NULL)
        return fail(EFAULT);
    if ((int)len >= (int)sizeof(int))
        memcpy(&v, val, sizeof(int));
    else if ((int)len >= 1)
        v = *(const unsigned char *)val;
    else
        return fail(EINVAL);
    switch (name) {
    case IP_TOS:
        s->ip_tos = v & 0xfc; /* the ECN bits are TCP's (RFC 3168 §6.1.1; Linux masks them) */
        return 0;
    case IP_MTU_DISCOVER:
        if (v < IP_PMTUDISC_DONT || v > IP_PMTUDISC_OMIT)
            return fail(EINVAL);
        s->ip_pmtudisc = v;
        return 0;
    case IP_FREEBIND:
        s->freebind = v != 0;
        return 0;
    default:
        return fail(ENOPROTOOPT);
    }
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
        /* The connection's own: an accepted one takes its listener's TCP_MAXSEG. */
        if (in.ti.rcv_mss)
            in.advmss = in.ti.rcv_mss;
        in.fastopen = sk_tcp_fastopen_status(s->tcp);
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
        case SO_RCVLOWAT:
            v = s->rcvlowat ? (int)s->rcvlowat : 1;
            break;
        case SO_ZEROCOPY:
            v = s->zerocopy;
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
        case TCP_CORK:
            v = s->cork;
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
        case TCP_SYNCNT:
            v = s->syncnt ? s->syncnt : pd->cfg.syn_retries;
            break;
        case TCP_INFO:
            return unlock_ret(pd, pd_tcp_info(pd, s, val, len));
        case TCP_NOTSENT_LOWAT:
            v = (int)s->notsent_lowat;
            break;
        case TCP_INQ:
            v = s->inq;
            break;
        case TCP_CONGESTION:
            return unlock_ret(pd, get_congestion(pd, s, val, len));
        case TCP_CC_INFO:
            /* Linux's CUBIC and Reno have no get_info: the answer is empty (do_tcp_getsockopt). */
            if (len == NULL)
                return unlock_ret(pd, fail(EFAULT));
            *len = 0;
            return unlock_ret(pd, 0);
        default:
            return unlock_ret(pd, fail(ENOPROTOOPT));
        }
    } else if (level == IPPROTO_IP && (name == IP_TOS || name == IP_MTU_DISCOVER ||
                                       name == IP_FREEBIND)) {
        v = name == IP_TOS ? s->ip_tos : name == IP_MTU_DISCOVER ? s->ip_pmtudisc : s->freebind;
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
    if (level == IPPROTO_TCP && name == TCP_CONGESTION)
        return unlock_ret(pd, set_congestion(s, val, len));
    if (level == IPPROTO_IP)
        return unlock_ret(pd, set_ip_level(s, name, val, len));
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
        case SO_RCVLOWAT: {
            /* Linux's tcp_set_rcvlowat: negative is INT_MAX, capped at half the receive
             * buffer, 0 means 1. */
            uint32_t rcvbuf = (uint32_t)sockbuf_value(pd, s, true);
            uint32_t mark = v < 0 ? (uint32_t)INT32_MAX : (uint32_t)v;
            mark = mark > rcvbuf / 2 ? rcvbuf / 2 : mark;
            s->rcvlowat = mark ? mark : 1;
            pd_apply_marks(s);
            break;
        }
        case SO_ZEROCOPY:
            s->zerocopy = v != 0; /* MSG_ZEROCOPY then sends by copy: see do_send */
            break;
        case SO_RCVBUF:
        case SO_SNDBUF:
            /* Applied: at the handshake (sock_params), or to the connection now. */
            if (name == SO_RCVBUF)
                s->rcvbuf_set = v;
            else
                s->sndbuf_set = v;
            if (s->tcp && sk_tcp_set_buffers(s->tcp, sndbuf_bytes_for(pd, s->sndbuf_set),
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
        case TCP_CORK:
            s->cork = v != 0;
            if (s->tcp && !s->listening)
                sk_tcp_set_cork(s->tcp, s->cork);
            break;
        case TCP_NOTSENT_LOWAT:
            /* Any int, taken as unsigned, read back as set; 0: the sysctl's. */
            s->notsent_lowat = (uint32_t)v;
            if (s->tcp && sk_tcp_set_notsent_lowat(s->tcp, s->notsent_lowat) != 0)
                return unlock_ret(pd, fail(ENOMEM));
            break;
        case TCP_INQ:
            if (v < 0 || v > 1)
                return unlock_ret(pd, fail(EINVAL));
            s->inq = v != 0;
            break;
        case TCP_MAXSEG:
            if (v < 0)
                return unlock_ret(pd, fail(EINVAL));
            s->maxseg_set = v; /* announced in the next SYN (sock_params), as Linux */
            if (s->tcp && s->listening) /* and by a listener in its next SYN,ACK */
                sk_tcp_set_maxseg(s->tcp, (uint16_t)(v > 65535 ? 65535 : v));
            break;
        case TCP_SYNCNT:
            /* do_tcp_setsockopt: 1..MAX_TCP_SYNCNT (127); for the next connect. */
            if (v < 1 || v > 127)
                return unlock_ret(pd, fail(EINVAL));
            s->syncnt = v;
            if (s->tcp && !s->listening)
                sk_tcp_set_syn_retries(s->tcp, (uint8_t)v);
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
    case SIOCOUTQ:
    case SIOCOUTQNSD: {
        /* Linux's tcp_ioctl: EINVAL on a listener; empty queues before the handshake. */
        if (s->listening)
            return unlock_ret(pd, fail(EINVAL));
        size_t n = 0;
        if (s->tcp)
            n = req == SIOCINQ    ? sk_tcp_inq(s->tcp)
                : req == SIOCOUTQ ? sk_tcp_outq(s->tcp)
                                  : sk_tcp_outq_nsd(s->tcp);
        *arg = n > INT32_MAX ? INT32_MAX : (int)n;
        return unlock_ret(pd, 0);
    }
    default:
        return unlock_ret(pd, fail(ENOTTY));
    }
}

