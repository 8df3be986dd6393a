/* sockdiff: the synack backend. Two stacks joined by an in-memory link on the virtual-clock
 * simulator (synack/sim.h): host A is 10.0.0.1, host B 10.0.0.2. A fresh pair per scenario.
 * Frames due at the current instant are delivered after every step (loopback in the kernel
 * delivers during the system call); `settle` advances virtual time. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sockdiff.h"
#include "synack/sim.h"
#include "synack/socket.h"

#define SY_ADDR_A 0x0a000001u /* 10.0.0.1 */
#define SY_ADDR_B 0x0a000002u
#define SY_T0 1000000u        /* virtual start time, µs */

struct sy {
    struct sk_sim sim;
    bool live;
};

static struct sk_stack *st_of(void *ctx, int host)
{
    return ((struct sy *)ctx)->sim.stack[host];
}

static void sy_config(struct sk_config *c, int host, const struct sd_scenario *sc)
{
    sk_config_default(c);
    c->addr = host ? SY_ADDR_B : SY_ADDR_A;
    c->prefix_len = 24;
    sk_config_set_test_seed(c, host ? 0xb0b : 0xa11ce);
    /* IPv6 beside IPv4: fd00:77::1 and ::2, usable at once (no DAD on the simulated link). */
    static const uint8_t a6[16] = {0xfd, 0, 0, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    c->ip6 = true;
    memcpy(c->addr6[0].addr, a6, 16);
    c->addr6[0].addr[15] = (uint8_t)(host + 1);
    c->addr6[0].prefix_len = 64;
    c->addr6_count = 1;
    c->ip6_dad_transmits = 0;
    c->ip6_linklocal = SK_IP6_LL_OFF;
    if (sc->eph_lo) {
        c->ephemeral_lo = (uint16_t)sc->eph_lo;
        c->ephemeral_hi = (uint16_t)sc->eph_hi;
    }
}

static int sy_begin(struct sd_backend *b, const struct sd_scenario *sc)
{
    struct sy *s = b->ctx;
    struct sk_config ca, cb;
    sy_config(&ca, 0, sc);
    sy_config(&cb, 1, sc);
    if (sc->blocking)
        return sd_synack_blocking_begin(b, &ca, &cb);
    int rc = sk_sim_init(&s->sim, &ca, &cb, 42, SY_T0);
    if (rc != 0) {
        fprintf(stderr, "sockdiff: sk_sim_init: %s\n", sd_errname(-rc));
        return -1;
    }
    s->live = true;
    return 0;
}

static void sy_end(struct sd_backend *b)
{
    struct sy *s = b->ctx;
    if (s->live)
        sk_sim_destroy(&s->sim);
    s->live = false;
}

static int sy_socket(void *ctx, int host, int type)
{
    return sk_socket_af(st_of(ctx, host), (type & SD_INET6) ? AF_INET6 : AF_INET,
                        type & ~SD_INET6);
}
static int sy_bind(void *ctx, int host, int fd, const struct sockaddr *sa, socklen_t len)
{
    return sk_bind(st_of(ctx, host), fd, sa, len);
}
static int sy_listen(void *ctx, int host, int fd, int backlog)
{
    return sk_listen(st_of(ctx, host), fd, backlog);
}
static int sy_accept(void *ctx, int host, int fd, struct sockaddr *sa, socklen_t *len, long t)
{
    (void)t;
    return sk_accept(st_of(ctx, host), fd, sa, len);
}
static int sy_connect(void *ctx, int host, int fd, const struct sockaddr *sa, socklen_t len,
                      long t)
{
    (void)t;
    return sk_connect(st_of(ctx, host), fd, sa, len);
}
static ssize_t sy_send(void *ctx, int host, int fd, const void *p, size_t n, int fl, long t)
{
    (void)t;
    return sk_send(st_of(ctx, host), fd, p, n, fl);
}
static ssize_t sy_recv(void *ctx, int host, int fd, void *p, size_t n, int fl, long t)
{
    (void)t;
    return sk_recv(st_of(ctx, host), fd, p, n, fl);
}
static ssize_t sy_sendto(void *ctx, int host, int fd, const void *p, size_t n, int fl,
                         const struct sockaddr *sa, socklen_t salen, long t)
{
    (void)t;
    return sk_sendto(st_of(ctx, host), fd, p, n, fl, sa, salen);
}
static ssize_t sy_recvfrom(void *ctx, int host, int fd, void *p, size_t n, int fl,
                           struct sockaddr *sa, socklen_t *salen, long t)
{
    (void)t;
    return sk_recvfrom(st_of(ctx, host), fd, p, n, fl, sa, salen);
}
static ssize_t sy_sendv(void *ctx, int host, int fd, const struct iovec *iov, int n)
{
    return sk_sendv(st_of(ctx, host), fd, iov, n);
}
static ssize_t sy_recvv(void *ctx, int host, int fd, const struct iovec *iov, int n)
{
    return sk_recvv(st_of(ctx, host), fd, iov, n);
}
static int sy_shutdown(void *ctx, int host, int fd, int how)
{
    return sk_shutdown(st_of(ctx, host), fd, how);
}
static int sy_close(void *ctx, int host, int fd)
{
    return sk_close(st_of(ctx, host), fd);
}
static int sy_setsockopt(void *ctx, int host, int fd, int level, int name, const void *v,
                         socklen_t len)
{
    return sk_setsockopt(st_of(ctx, host), fd, level, name, v, len);
}
static int sy_getsockopt(void *ctx, int host, int fd, int level, int name, void *v,
                         socklen_t *len)
{
    return sk_getsockopt(st_of(ctx, host), fd, level, name, v, len);
}
static int sy_getsockname(void *ctx, int host, int fd, struct sockaddr *sa, socklen_t *len)
{
    return sk_getsockname(st_of(ctx, host), fd, sa, len);
}
static int sy_getpeername(void *ctx, int host, int fd, struct sockaddr *sa, socklen_t *len)
{
    return sk_getpeername(st_of(ctx, host), fd, sa, len);
}
static int sy_poll(void *ctx, int host, int fd, short events, long t)
{
    (void)t;
    struct sk_pollfd p = {.fd = fd, .events = events};
    int rc = sk_poll(st_of(ctx, host), &p, 1);
    return rc < 0 ? rc : p.revents;
}
static void sy_settle(void *ctx, int ms)
{
    struct sy *s = ctx;
    sk_sim_run(&s->sim, NULL, NULL, s->sim.now + (sk_time_us)ms * 1000u);
}
static void sy_after_step(void *ctx)
{
    struct sy *s = ctx;
    sk_sim_run(&s->sim, NULL, NULL, s->sim.now);
}

int sd_backend_synack(struct sd_backend *b)
{
    static struct sy sy;
    memset(b, 0, sizeof(*b));
    b->name = "synack";
    b->ctx = &sy;
    b->addr[0] = htonl(SY_ADDR_A);
    b->addr[1] = htonl(SY_ADDR_B);
    b->bcast = htonl(0x0a0000ffu); /* 10.0.0.255: prefix_len 24 */
    static const uint8_t a6[16] = {0xfd, 0, 0, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    memcpy(b->addr6[0], a6, 16);
    memcpy(b->addr6[1], a6, 16);
    b->addr6[1][15] = 2;
    b->badfd = 999;
    b->begin = sy_begin;
    b->end = sy_end;
    b->socket = sy_socket;
    b->bind = sy_bind;
    b->listen = sy_listen;
    b->accept = sy_accept;
    b->connect = sy_connect;
    b->send = sy_send;
    b->recv = sy_recv;
    b->sendto = sy_sendto;
    b->recvfrom = sy_recvfrom;
    b->sendv = sy_sendv;
    b->recvv = sy_recvv;
    b->shutdown = sy_shutdown;
    b->close = sy_close;
    b->setsockopt = sy_setsockopt;
    b->getsockopt = sy_getsockopt;
    b->getsockname = sy_getsockname;
    b->getpeername = sy_getpeername;
    b->poll = sy_poll;
    b->settle = sy_settle;
    b->after_step = sy_after_step;
    return 0;
}
