/* TCP Fast Open's socket calls (RFC 7413): TCP_FASTOPEN on listeners, TCP_FASTOPEN_CONNECT,
 * TCP_FASTOPEN_KEY, sendto/sendmsg with MSG_FASTOPEN, and the sysctls Linux's scripts set
 * (net.ipv4.tcp_fastopen, tcp_fastopen_key) as --so_flags tfo= and tfo_key=. Linux's
 * semantics (net/ipv4/tcp.c tcp_sendmsg_fastopen, tcp_fastopen.c): a Fast Open send takes only
 * what the SYN carries; without blocking it returns that count, or EINPROGRESS when it is 0;
 * blocking, it waits for the handshake (its error wins) and then sends the rest. */
#include "adapter_int.h"

/* tfo_key=a0bf63f7-ed803d81-cd641d30-cebc4a90: four hex words, each stored little-endian
 * (Linux's proc_tcp_fastopen_key), which makes the 16 bytes of the SipHash key. */
static bool parse_key(const char *v, uint8_t key[16])
{
    unsigned w[4];
    if (sscanf(v, "%x-%x-%x-%x", &w[0], &w[1], &w[2], &w[3]) != 4)
        return false;
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 4; b++)
            key[i * 4 + b] = (uint8_t)(w[i] >> (8 * b));
    return true;
}

bool pd_fastopen_option(struct pd *pd, const char *key, const char *val)
{
    if (strcmp(key, "tfo") == 0) {
        pd->cfg.tfo = (uint32_t)strtoul(val, NULL, 0);
        return true;
    }
    if (strcmp(key, "tfo_key") == 0) {
        if (parse_key(val, pd->cfg.tfo_key))
            pd->cfg.tfo_key_set = true;
        else
            fprintf(stderr, "synack-packetdrill: bad tfo_key '%s'\n", val);
        return true;
    }
    if (strcmp(key, "tfo_syn_loss_backoff_us") == 0) {
        pd->cfg.tfo_syn_loss_backoff_us = strtoull(val, NULL, 0);
        return true;
    }
    return false;
}

/* What setsockopt said before listen() reaches the listener. */
void pd_fastopen_listen(struct pd *pd, struct pd_sock *s)
{
    (void)pd;
    if (s->fo_qlen > 0)
        sk_tcp_set_fastopen(s->tcp, s->fo_qlen);
    if (s->fo_key_set)
        sk_tcp_set_fastopen_key(s->tcp, s->fo_key);
}

int pd_fastopen_getsockopt(struct pd *pd, struct pd_sock *s, int level, int name, void *val,
                           socklen_t *len)
{
    (void)pd;
    if (level != IPPROTO_TCP)
        return PD_NOT_MINE;
    int e;
    switch (name) {
    case TCP_FASTOPEN:
        e = put_int(val, len, s->fo_qlen);
        break;
    case TCP_FASTOPEN_CONNECT:
        e = put_int(val, len, s->fo_connect);
        break;
    default:
        return PD_NOT_MINE;
    }
    return e ? fail(e) : 0;
}

int pd_fastopen_setsockopt(struct pd *pd, struct pd_sock *s, int level, int name,
                           const void *val, socklen_t len)
{
    if (level != IPPROTO_TCP)
        return PD_NOT_MINE;
    int v = 0;
    switch (name) {
    case TCP_FASTOPEN:
        if (get_int(val, len, &v) || v < 0)
            return fail(EINVAL);
        s->fo_qlen = v;
        if (s->listening)
            sk_tcp_set_fastopen(s->tcp, v);
        return 0;
    case TCP_FASTOPEN_CONNECT:
        /* Linux's do_tcp_setsockopt: EOPNOTSUPP unless the client side is on; only before
         * connect(). */
        if (get_int(val, len, &v))
            return fail(EINVAL);
        if (!(pd->cfg.tfo & SK_TFO_CLIENT))
            return fail(EOPNOTSUPP);
        if (s->tcp)
            return fail(EINVAL);
        s->fo_connect = v != 0;
        return 0;
    case TCP_FASTOPEN_KEY:
        if (val == NULL || len != 16)
            return fail(EINVAL);
        memcpy(s->fo_key, val, 16);
        s->fo_key_set = true;
        if (s->listening)
            sk_tcp_set_fastopen_key(s->tcp, s->fo_key);
        return 0;
    default:
        return PD_NOT_MINE;
    }
}

/* A blocking Fast Open send waits for the handshake: 0 once connected, else its errno. With
 * data still to write (more) the connection knows a write is pending (Linux's
 * sk_write_pending: sk_stream_wait_connect, or inet_wait_for_connect while the Fast Open
 * request holds data the SYN did not take), so the SYN-ACK's ACK rides on that data. */
static int wait_connected(struct pd *pd, int fd, struct pd_sock **sp, bool more)
{
    struct pd_sock *s = *sp;
    struct sk_tcp *pending = more && s->tcp && is_connecting(s) ? s->tcp : NULL;
    if (pending)
        sk_tcp_set_write_pending(pending, true);
    while (s->tcp && is_connecting(s)) {
        wait_change(pd);
        s = sock_find(pd, fd);
        if (s == NULL)
            return EBADF;
        *sp = s;
    }
    if (pending && s->tcp == pending)
        sk_tcp_set_write_pending(pending, false);
    int e = take_error(s);
    return e;
}

ssize_t pd_fastopen_send(struct pd *pd, int fd, const void *buf, size_t len, int flags,
                         const struct sockaddr *addr, socklen_t alen, bool *mine)
{
    struct pd_sock *s = sock_find(pd, fd);
    *mine = false;
    if (s == NULL || s->listening)
        return 0;
    bool deferred = s->tcp && (sk_tcp_fastopen_status(s->tcp) & SK_TCP_FO_DEFERRED);
    bool nonblock = s->nonblock || (flags & MSG_DONTWAIT);
    if (!(flags & MSG_FASTOPEN) && !deferred) {
        /* After a Fast Open the socket writes as Linux's: not before the handshake ends. */
        if (!s->fo_used || s->tcp == NULL || !is_connecting(s))
            return 0;
        *mine = true;
        if (nonblock)
            return fail(EAGAIN);
        int e = wait_connected(pd, fd, &s, len > 0);
        if (e)
            return fail(e);
        *mine = false; /* connected: the caller's send goes on */
        return 0;
    }
    *mine = true;
    if (!(pd->cfg.tfo & SK_TFO_CLIENT) || (addr && alen >= (socklen_t)sizeof(sa_family_t) &&
                                          addr->sa_family == AF_UNSPEC))
        return fail(EOPNOTSUPP);
    if (s->tcp && !deferred) {
        if (is_connecting(s))
            return fail(EALREADY); /* another Fast Open is in progress */
        *mine = false; /* connected: an ordinary send */
        return 0;
    }
    s->fo_used = true;
    size_t taken = 0;
    if (deferred) {
        ssize_t n = sk_tcp_send(s->tcp, buf, len);
        taken = n > 0 ? (size_t)n : 0;
    } else {
        struct sk_addr ip;
        uint16_t port;
        int e = addr ? 0 : EDESTADDRREQ;
        if (e == 0)
            e = ensure_stack(pd);
        if (e == 0)
            e = read_sockaddr(s, addr, alen, &ip, &port);
        if (e)
            return fail(e);
        struct sk_tcp_params prm = sock_params(pd, s);
        int r = sk_tcp_connect_data(pd->st, s->bound ? s->lport : 0, &ip, port, &prm, buf, len,
                                    &taken, &s->tcp);
        if (r < 0) {
            s->tcp = NULL;
            return fail(r == -EINVAL ? EADDRNOTAVAIL : -r);
        }
        after_connect(s);
    }
    if (nonblock)
        return taken > 0 ? (ssize_t)taken : fail(EINPROGRESS);
    int e = wait_connected(pd, fd, &s, taken < len);
    if (e)
        return fail(e);
    if (taken == len)
        return (ssize_t)taken;
    ssize_t n = do_send(pd, fd, (const uint8_t *)buf + taken, len - taken,
                        flags & ~MSG_FASTOPEN);
    if (n < 0)
        return taken > 0 ? (ssize_t)taken : n;
    return (ssize_t)(taken + (size_t)n);
}
