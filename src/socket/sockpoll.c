/* Readiness of sockets: sk_poll and the per-socket callbacks.
 *
 * The bits follow Linux's tcp_poll/udp_poll, which is what event loops are written against:
 * a socket never connected is writable and hung up; a connection being set up is nothing;
 * a failed or reset one is readable, writable, hung up and in error until SO_ERROR or a
 * call reports the error, then still readable (end of stream), writable (-EPIPE) and hung up.
 */
#include <stdint.h>

#include "socket/sock_int.h"

static unsigned tcp_revents(struct sk_sock *s)
{
    if (s->state == SS_OPEN || s->tcp == NULL) /* an error left by connect(AF_UNSPEC) shows */
        return SK_POLLOUT | SK_POLLHUP | (s->so_error ? SK_POLLERR : 0);
    if (s->state == SS_LISTENING)
        return (sk_tcp_events(s->tcp) & SK_EV_ACCEPTABLE) ? SK_POLLIN : 0;
    unsigned r = 0;
    if (sk_sock_pending_error(s))
        r |= SK_POLLERR;
    enum sk_tcp_state t = sk_tcp_get_state(s->tcp);
    switch (t) {
    case SK_TCP_CLOSED:
        return r | SK_POLLHUP | SK_POLLIN | SK_POLLRDHUP | SK_POLLOUT;
    case SK_TCP_SYN_SENT:
    case SK_TCP_SYN_RECEIVED:
        /* Writable only while a deferred Fast Open connect waits for the write that sends its
         * SYN (TCP_FASTOPEN_CONNECT; Linux's tcp_poll for DEFER_CONNECT). */
        return r | ((sk_tcp_events(s->tcp) & SK_EV_WRITABLE) ? SK_POLLOUT : 0u);
    default:
        break;
    }
    /* The peer's FIN has been received in these states. */
    bool fin = t == SK_TCP_CLOSE_WAIT || t == SK_TCP_LAST_ACK || t == SK_TCP_CLOSING ||
               t == SK_TCP_TIME_WAIT;
    /* Readable once SO_RCVLOWAT bytes are (sk_tcp_events), or at end of stream. */
    if ((sk_tcp_events(s->tcp) & SK_EV_READABLE) || fin || s->rd_shut)
        r |= SK_POLLIN;
    if (fin || s->rd_shut)
        r |= SK_POLLRDHUP;
    /* After shutdown(SHUT_WR) a send does not wait: it fails at once with -EPIPE. */
    bool wr_done = s->wr_shut || t == SK_TCP_FIN_WAIT_1 || t == SK_TCP_FIN_WAIT_2 ||
                   t == SK_TCP_CLOSING || t == SK_TCP_LAST_ACK || t == SK_TCP_TIME_WAIT;
    if (wr_done || (sk_tcp_events(s->tcp) & SK_EV_WRITABLE))
        r |= SK_POLLOUT;
    if (wr_done && (fin || s->rd_shut))
        r |= SK_POLLHUP;
    return r;
}

static unsigned udp_revents(struct sk_sock *s)
{
    sk_sock_udp_sync(s);
    unsigned r = SK_POLLOUT;
    if (s->so_error)
        r |= SK_POLLERR;
    if (s->udp && sk_udp_pending(s->udp) > 0)
        r |= SK_POLLIN;
    /* Linux datagram_poll: reading shut is readable and read-hung-up; both ways, hung up. */
    if (s->rd_shut)
        r |= SK_POLLIN | SK_POLLRDHUP;
    if (s->rd_shut && s->wr_shut)
        r |= SK_POLLHUP;
    return r;
}

unsigned sk_sock_revents(struct sk_sock *s)
{
    return s->type == SK_SOCK_STREAM ? tcp_revents(s) : udp_revents(s);
}

void sk_sock_notify(struct sk_stack *st, int fd)
{
    struct sk_sock *s = sk_sock_get(st, fd);
    if (s == NULL || s->cb == NULL)
        return;
    unsigned r = sk_sock_revents(s);
    if (r == s->last_revents)
        return;
    s->last_revents = r;
    s->cb(st, fd, r, s->cb_ctx);
}

static void on_tcp(struct sk_tcp *c, unsigned events, void *ctx)
{
    (void)events;
    struct sk_stack *st = c->st;
    int fd = (int)(intptr_t)ctx;
    struct sk_sock *s = sk_sock_get(st, fd);
    /* A listener's callback passes to connections not yet accepted: not theirs to report. */
    if (s == NULL || s->tcp != c)
        return;
    sk_sock_notify(st, fd);
}

static void on_udp(struct sk_udp *u, unsigned events, void *ctx)
{
    (void)events;
    const struct sk_sock_ref *ref = ctx;
    struct sk_sock *s = sk_sock_get(ref->st, ref->fd);
    if (s == NULL || s->udp != u)
        return;
    sk_sock_notify(ref->st, ref->fd);
}

void sk_sock_hook(struct sk_stack *st, int fd)
{
    struct sk_sock *s = sk_sock_get(st, fd);
    if (s->tcp)
        sk_tcp_set_callback(s->tcp, on_tcp, (void *)(intptr_t)fd);
    if (s->udp && s->udp_ref == NULL) {
        s->udp_ref = sk_mem_alloc(st, sizeof(*s->udp_ref));
        if (s->udp_ref) {
            s->udp_ref->st = st;
            s->udp_ref->fd = fd;
        }
    }
    /* Also a second UDP socket behind the same fd (after connect(AF_UNSPEC) gave the first up). */
    if (s->udp && s->udp_ref)
        sk_udp_set_callback(s->udp, on_udp, s->udp_ref);
    s->last_revents = sk_sock_revents(s);
}

int sk_socket_set_callback(struct sk_stack *st, int fd, sk_socket_callback cb, void *ctx)
{
    struct sk_sock *s = sk_sock_get(st, fd);
    if (s == NULL)
        return -EBADF;
    s->cb = cb;
    s->cb_ctx = ctx;
    s->last_revents = sk_sock_revents(s);
    return 0;
}

int sk_poll(struct sk_stack *st, struct sk_pollfd *fds, size_t nfds)
{
    int ready = 0;
    for (size_t i = 0; i < nfds; i++) {
        struct sk_sock *s = sk_sock_get(st, fds[i].fd);
        unsigned r;
        if (fds[i].fd < 0)
            r = 0; /* POSIX poll(): a negative fd is ignored, its revents 0 */
        else if (s == NULL)
            r = SK_POLLNVAL;
        else
            r = sk_sock_revents(s) &
                ((unsigned)(unsigned short)fds[i].events | SK_POLLERR | SK_POLLHUP);
        fds[i].revents = (short)r;
        if (r)
            ready++;
    }
    return ready;
}
