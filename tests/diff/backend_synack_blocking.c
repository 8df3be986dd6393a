/* sockdiff: synack in a [blocking] scenario. Two stacks joined by an in-memory link, run in
 * real time by one runner thread (synack/blocking.h: sk_runner_pair); calls are the sk_b*
 * ones, and sk_runner_call for those without a blocking form. A call without `timeout=`
 * waits at most SD_WAIT_CAP_MS (so that a bug shows as a difference, not a hang). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sockdiff.h"
#include "synack/blocking.h"

struct syb {
    struct sk_runner_pair pair;
    bool live;
};

static struct syb syb;

static struct sk_stack *st_of(int host)
{
    return syb.pair.stack[host];
}
static struct sk_runner *run(void)
{
    return syb.pair.runner;
}

static sk_time_us us(long ms)
{
    return (sk_time_us)(ms < 0 ? SD_WAIT_CAP_MS : ms) * 1000u;
}

/* A call without a blocking form, made under the runner's lock. */
struct nb_call {
    int op, fd, flags;
    void *buf;
    size_t len;
    const struct iovec *iov;
    struct sockaddr *sa;
    const struct sockaddr *csa;
    socklen_t *salen, csalen;
    long rc;
};
enum { NB_SEND, NB_RECV, NB_SENDTO, NB_RECVFROM, NB_SENDV, NB_RECVV, NB_SOCKNAME, NB_PEERNAME };

static int nb_fn(struct sk_stack *st, void *arg)
{
    struct nb_call *c = arg;
    switch (c->op) {
    case NB_SEND: c->rc = sk_send(st, c->fd, c->buf, c->len, c->flags); break;
    case NB_RECV: c->rc = sk_recv(st, c->fd, c->buf, c->len, c->flags); break;
    case NB_SENDTO:
        c->rc = sk_sendto(st, c->fd, c->buf, c->len, c->flags, c->csa, c->csalen);
        break;
    case NB_RECVFROM:
        c->rc = sk_recvfrom(st, c->fd, c->buf, c->len, c->flags, c->sa, c->salen);
        break;
    case NB_SENDV: c->rc = sk_sendv(st, c->fd, c->iov, (int)c->len); break;
    case NB_RECVV: c->rc = sk_recvv(st, c->fd, c->iov, (int)c->len); break;
    case NB_SOCKNAME: c->rc = sk_getsockname(st, c->fd, c->sa, c->salen); break;
    case NB_PEERNAME: c->rc = sk_getpeername(st, c->fd, c->sa, c->salen); break;
    }
    return 0;
}

static long nb(int host, struct nb_call *c)
{
    sk_runner_call(run(), st_of(host), nb_fn, c);
    return c->rc;
}

/* Waits for `events` on fd (at most timeout), for calls whose blocking form takes no flags. */
static void wait_for(int host, int fd, short events, long ms)
{
    struct sk_pollfd p = {.fd = fd, .events = events};
    sk_bpoll(run(), st_of(host), &p, 1, us(ms));
}

static int sb_socket(void *ctx, int host, int type)
{
    (void)ctx;
    return sk_bsocket_af(run(), st_of(host), (type & SD_INET6) ? AF_INET6 : AF_INET,
                         type & ~SD_INET6);
}
static int sb_bind(void *ctx, int host, int fd, const struct sockaddr *sa, socklen_t len)
{
    (void)ctx;
    return sk_bbind(run(), st_of(host), fd, sa, len);
}
static int sb_listen(void *ctx, int host, int fd, int backlog)
{
    (void)ctx;
    return sk_blisten(run(), st_of(host), fd, backlog);
}
static int sb_accept(void *ctx, int host, int fd, struct sockaddr *sa, socklen_t *len, long t)
{
    (void)ctx;
    return sk_baccept(run(), st_of(host), fd, sa, len, us(t));
}
static int sb_connect(void *ctx, int host, int fd, const struct sockaddr *sa, socklen_t len,
                      long t)
{
    (void)ctx;
    return sk_bconnect(run(), st_of(host), fd, sa, len, us(t));
}
static ssize_t sb_send(void *ctx, int host, int fd, const void *p, size_t n, int fl, long t)
{
    (void)ctx;
    if (fl == 0 || fl == MSG_NOSIGNAL)
        return sk_bsend(run(), st_of(host), fd, p, n, us(t));
    if (!(fl & MSG_DONTWAIT))
        wait_for(host, fd, POLLOUT, t);
    struct nb_call c = {.op = NB_SEND, .fd = fd, .flags = fl, .buf = (void *)p, .len = n};
    return nb(host, &c);
}
static ssize_t sb_recv(void *ctx, int host, int fd, void *p, size_t n, int fl, long t)
{
    (void)ctx;
    if (fl == 0)
        return sk_brecv(run(), st_of(host), fd, p, n, us(t));
    if (!(fl & MSG_DONTWAIT))
        wait_for(host, fd, POLLIN, t);
    struct nb_call c = {.op = NB_RECV, .fd = fd, .flags = fl, .buf = p, .len = n};
    return nb(host, &c);
}
static ssize_t sb_sendto(void *ctx, int host, int fd, const void *p, size_t n, int fl,
                         const struct sockaddr *sa, socklen_t salen, long t)
{
    (void)ctx, (void)t;
    if (fl == 0)
        return sk_bsendto(run(), st_of(host), fd, p, n, sa, salen);
    struct nb_call c = {.op = NB_SENDTO, .fd = fd, .flags = fl, .buf = (void *)p, .len = n,
                        .csa = sa, .csalen = salen};
    return nb(host, &c);
}
static ssize_t sb_recvfrom(void *ctx, int host, int fd, void *p, size_t n, int fl,
                           struct sockaddr *sa, socklen_t *salen, long t)
{
    (void)ctx;
    if (fl == 0)
        return sk_brecvfrom(run(), st_of(host), fd, p, n, sa, salen, us(t));
    if (!(fl & MSG_DONTWAIT))
        wait_for(host, fd, POLLIN, t);
    struct nb_call c = {.op = NB_RECVFROM, .fd = fd, .flags = fl, .buf = p, .len = n,
                        .sa = sa, .salen = salen};
    return nb(host, &c);
}
static ssize_t sb_sendv(void *ctx, int host, int fd, const struct iovec *iov, int n)
{
    (void)ctx;
    struct nb_call c = {.op = NB_SENDV, .fd = fd, .iov = iov, .len = (size_t)n};
    return nb(host, &c);
}
static ssize_t sb_recvv(void *ctx, int host, int fd, const struct iovec *iov, int n)
{
    (void)ctx;
    wait_for(host, fd, POLLIN, -1);
    struct nb_call c = {.op = NB_RECVV, .fd = fd, .iov = iov, .len = (size_t)n};
    return nb(host, &c);
}
static int sb_shutdown(void *ctx, int host, int fd, int how)
{
    (void)ctx;
    return sk_bshutdown(run(), st_of(host), fd, how);
}
static int sb_close(void *ctx, int host, int fd)
{
    (void)ctx;
    return sk_bclose(run(), st_of(host), fd);
}
static int sb_setsockopt(void *ctx, int host, int fd, int level, int name, const void *v,
                         socklen_t len)
{
    (void)ctx;
    return sk_bsetsockopt(run(), st_of(host), fd, level, name, v, len);
}
static int sb_getsockopt(void *ctx, int host, int fd, int level, int name, void *v,
                         socklen_t *len)
{
    (void)ctx;
    return sk_bgetsockopt(run(), st_of(host), fd, level, name, v, len);
}
static int sb_getsockname(void *ctx, int host, int fd, struct sockaddr *sa, socklen_t *len)
{
    (void)ctx;
    struct nb_call c = {.op = NB_SOCKNAME, .fd = fd, .sa = sa, .salen = len};
    return (int)nb(host, &c);
}
static int sb_getpeername(void *ctx, int host, int fd, struct sockaddr *sa, socklen_t *len)
{
    (void)ctx;
    struct nb_call c = {.op = NB_PEERNAME, .fd = fd, .sa = sa, .salen = len};
    return (int)nb(host, &c);
}
static int sb_poll(void *ctx, int host, int fd, short events, long t)
{
    (void)ctx;
    struct sk_pollfd p = {.fd = fd, .events = events};
    int rc = sk_bpoll(run(), st_of(host), &p, 1, t < 0 ? 0 : us(t));
    return rc < 0 ? rc : p.revents;
}
static void sb_settle(void *ctx, int ms)
{
    (void)ctx;
    sd_sleep_ms(ms);
}
static void sb_after_step(void *ctx)
{
    (void)ctx;
}

static void sb_end(struct sd_backend *b)
{
    (void)b;
    if (syb.live)
        sk_runner_pair_stop(&syb.pair);
    syb.live = false;
}

/* Called by the synack backend's begin() for a [blocking] scenario. */
int sd_synack_blocking_begin(struct sd_backend *b, const struct sk_config *ca,
                             const struct sk_config *cb)
{
    int rc = sk_runner_pair_start(&syb.pair, ca, cb, NULL, 42);
    if (rc != 0) {
        fprintf(stderr, "sockdiff: sk_runner_pair_start: %s\n", sd_errname(-rc));
        return -1;
    }
    syb.live = true;
    b->ctx = &syb;
    b->end = sb_end;
    b->socket = sb_socket;
    b->bind = sb_bind;
    b->listen = sb_listen;
    b->accept = sb_accept;
    b->connect = sb_connect;
    b->send = sb_send;
    b->recv = sb_recv;
    b->sendto = sb_sendto;
    b->recvfrom = sb_recvfrom;
    b->sendv = sb_sendv;
    b->recvv = sb_recvv;
    b->shutdown = sb_shutdown;
    b->close = sb_close;
    b->setsockopt = sb_setsockopt;
    b->getsockopt = sb_getsockopt;
    b->getsockname = sb_getsockname;
    b->getpeername = sb_getpeername;
    b->poll = sb_poll;
    b->settle = sb_settle;
    b->after_step = sb_after_step;
    return 0;
}
