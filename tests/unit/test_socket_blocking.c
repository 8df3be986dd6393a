/* The blocking layer: two stacks on an in-memory link, driven by a runner thread on
 * CLOCK_MONOTONIC; application threads make blocking calls. Outcomes are deterministic (bytes
 * verified, errors returned); no assertion depends on how long anything took. */
#include <arpa/inet.h>
#include <pthread.h>
#include <string.h>

#include "harness.h"
#include "synack/blocking.h"

#define PORT 7
#define SECOND 1000000u

static struct sockaddr_in sa(uint32_t ip, uint16_t port)
{
    struct sockaddr_in s;
    memset(&s, 0, sizeof(s));
    s.sin_family = AF_INET;
    s.sin_addr.s_addr = htonl(ip);
    s.sin_port = htons(port);
    return s;
}

static uint8_t pattern(size_t i)
{
    return (uint8_t)(i * 7 + (i >> 9));
}

struct server {
    struct sk_runner_pair *p;
    int lfd;
    size_t echoed;
    int result;
};

/* Accepts one connection and echoes it to the end of stream. */
static void *echo_server(void *arg)
{
    struct server *s = arg;
    struct sk_runner *r = s->p->runner;
    struct sk_stack *st = s->p->stack[1];
    int fd = sk_baccept(r, st, s->lfd, NULL, NULL, 10 * SECOND);
    if (fd < 0) {
        s->result = fd;
        return NULL;
    }
    uint8_t buf[4096];
    ssize_t n;
    while ((n = sk_brecv(r, st, fd, buf, sizeof(buf), 10 * SECOND)) > 0) {
        if (sk_bsend(r, st, fd, buf, (size_t)n, 10 * SECOND) != n) {
            s->result = -EIO;
            break;
        }
        s->echoed += (size_t)n;
    }
    if (n < 0)
        s->result = (int)n;
    sk_bclose(r, st, fd);
    return NULL;
}

static void start_pair(struct sk_runner_pair *p)
{
    struct sk_config a, b;
    harness_config(&a, 0);
    harness_config(&b, 1);
    a.rto_min_us = b.rto_min_us = 200000;
    assert_int_equal(sk_runner_pair_start(p, &a, &b, NULL, 1), 0);
}

static int listen_on(struct sk_runner_pair *p, uint16_t port)
{
    struct sk_runner *r = p->runner;
    int l = sk_bsocket(r, p->stack[1], SK_SOCK_STREAM);
    struct sockaddr_in addr = sa(0, port);
    assert_int_equal(sk_bbind(r, p->stack[1], l, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(sk_blisten(r, p->stack[1], l, 4), 0);
    return l;
}

/* 256 KB through an echo server on another thread, every byte checked. */
static void test_blocking_echo_between_threads(void **state)
{
    (void)state;
    struct sk_runner_pair p;
    start_pair(&p);
    struct sk_runner *r = p.runner;
    struct server srv = {.p = &p, .lfd = listen_on(&p, PORT)};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, echo_server, &srv), 0);

    struct sk_stack *st = p.stack[0];
    int fd = sk_bsocket(r, st, SK_SOCK_STREAM);
    struct sockaddr_in to = sa(ADDR_B, PORT);
    assert_int_equal(sk_bconnect(r, st, fd, (struct sockaddr *)&to, sizeof(to), 10 * SECOND), 0);
    enum { TOTAL = 256 * 1024 };
    static uint8_t out[TOTAL], in[TOTAL];
    for (size_t i = 0; i < TOTAL; i++)
        out[i] = pattern(i);
    /* Send and receive by turns: the echo fills our receive buffer while we send. */
    size_t sent = 0, got = 0;
    while (got < TOTAL) {
        if (sent < TOTAL) {
            size_t n = TOTAL - sent < 16384 ? TOTAL - sent : 16384;
            assert_int_equal(sk_bsend(r, st, fd, out + sent, n, 10 * SECOND), n);
            sent += n;
            if (sent == TOTAL)
                assert_int_equal(sk_bshutdown(r, st, fd, SK_SHUT_WR), 0);
        }
        while (got < sent) {
            ssize_t n = sk_brecv(r, st, fd, in + got, TOTAL - got, 10 * SECOND);
            assert_true(n > 0);
            got += (size_t)n;
        }
    }
    assert_memory_equal(in, out, TOTAL);
    uint8_t x;
    assert_int_equal(sk_brecv(r, st, fd, &x, 1, 10 * SECOND), 0); /* the server closed */
    pthread_join(t, NULL);
    assert_int_equal(srv.result, 0);
    assert_int_equal(srv.echoed, TOTAL);
    assert_int_equal(sk_bclose(r, st, fd), 0);
    sk_runner_pair_stop(&p);
}

/* Timeouts give -EAGAIN (recv, accept, poll) and connect reports a refusal. */
static void test_blocking_timeouts_and_errors(void **state)
{
    (void)state;
    struct sk_runner_pair p;
    start_pair(&p);
    struct sk_runner *r = p.runner;
    struct sk_stack *st = p.stack[0];
    int l = listen_on(&p, PORT);
    assert_int_equal(sk_baccept(r, p.stack[1], l, NULL, NULL, 20000), -EAGAIN);
    assert_int_equal(sk_baccept(r, p.stack[1], l, NULL, NULL, 0), -EAGAIN);
    int fd = sk_bsocket(r, st, SK_SOCK_STREAM);
    struct sockaddr_in closed = sa(ADDR_B, 9);
    assert_int_equal(sk_bconnect(r, st, fd, (struct sockaddr *)&closed, sizeof(closed),
                                 10 * SECOND),
                     -ECONNREFUSED);
    /* Issue 11, item 4: a zero-length send on the failed connection reports an error, as
     * send(2) does on Linux; it returned 0. (Linux says EPIPE there; synack's sk_send says
     * ENOTCONN after a failed connect, a difference left to issue 11's differential test.) */
    assert_true(sk_bsend(r, st, fd, "", 0, SECOND) < 0);
    int c = sk_bsocket(r, st, SK_SOCK_STREAM);
    struct sockaddr_in to = sa(ADDR_B, PORT);
    assert_int_equal(sk_bconnect(r, st, c, (struct sockaddr *)&to, sizeof(to), 10 * SECOND), 0);
    uint8_t buf[8];
    assert_int_equal(sk_brecv(r, st, c, buf, sizeof(buf), 20000), -EAGAIN);
    struct sk_pollfd pf = {.fd = c, .events = SK_POLLIN};
    assert_int_equal(sk_bpoll(r, st, &pf, 1, 20000), 0);
    pf.events = SK_POLLOUT;
    assert_int_equal(sk_bpoll(r, st, &pf, 1, 10 * SECOND), 1);
    assert_int_equal(pf.revents, SK_POLLOUT);
    int opt = 1;
    assert_int_equal(sk_bsetsockopt(r, st, c, SK_IPPROTO_TCP, SK_TCP_NODELAY, &opt, sizeof(opt)),
                     0);
    socklen_t len = sizeof(opt);
    opt = 0;
    assert_int_equal(sk_bgetsockopt(r, st, c, SK_IPPROTO_TCP, SK_TCP_NODELAY, &opt, &len), 0);
    assert_int_equal(opt, 1);
    sk_runner_pair_stop(&p);
}

struct waiter {
    struct sk_runner_pair *p;
    int fd;
    ssize_t got;
    char buf[16];
};

static void *wait_forever(void *arg)
{
    struct waiter *w = arg;
    w->got = sk_brecv(w->p->runner, w->p->stack[1], w->fd, w->buf, sizeof(w->buf), SK_TIME_NEVER);
    return NULL;
}

static int accept_now(struct sk_stack *st, void *arg)
{
    return sk_accept(st, *(int *)arg, NULL, NULL);
}

/* A thread blocked without a timeout is woken by data another thread sends; UDP through the
 * blocking calls too. */
static void test_blocking_wakeup_from_another_thread_and_udp(void **state)
{
    (void)state;
    struct sk_runner_pair p;
    start_pair(&p);
    struct sk_runner *r = p.runner;
    int l = listen_on(&p, PORT);
    int c = sk_bsocket(r, p.stack[0], SK_SOCK_STREAM);
    struct sockaddr_in to = sa(ADDR_B, PORT);
    assert_int_equal(sk_bconnect(r, p.stack[0], c, (struct sockaddr *)&to, sizeof(to),
                                 10 * SECOND),
                     0);
    struct sk_pollfd pf = {.fd = l, .events = SK_POLLIN};
    assert_int_equal(sk_bpoll(r, p.stack[1], &pf, 1, 10 * SECOND), 1);
    int s = sk_runner_call(r, p.stack[1], accept_now, &l);
    assert_true(s >= 0);
    struct waiter w = {.p = &p, .fd = s};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, wait_forever, &w), 0);
    assert_int_equal(sk_bsend(r, p.stack[0], c, "wake up", 7, 10 * SECOND), 7);
    pthread_join(t, NULL);
    assert_int_equal(w.got, 7);
    assert_memory_equal(w.buf, "wake up", 7);

    int ua = sk_bsocket(r, p.stack[0], SK_SOCK_DGRAM), ub = sk_bsocket(r, p.stack[1], SK_SOCK_DGRAM);
    struct sockaddr_in b = sa(0, 5000), dst = sa(ADDR_B, 5000), from;
    assert_int_equal(sk_bbind(r, p.stack[1], ub, (struct sockaddr *)&b, sizeof(b)), 0);
    assert_int_equal(sk_bsendto(r, p.stack[0], ua, "dgram", 5, (struct sockaddr *)&dst,
                                sizeof(dst)),
                     5);
    char buf[16];
    socklen_t len = sizeof(from);
    assert_int_equal(sk_brecvfrom(r, p.stack[1], ub, buf, sizeof(buf), (struct sockaddr *)&from,
                                  &len, 10 * SECOND),
                     5);
    assert_int_equal(ntohl(from.sin_addr.s_addr), ADDR_A);
    sk_runner_pair_stop(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocking_echo_between_threads),
        cmocka_unit_test(test_blocking_timeouts_and_errors),
        cmocka_unit_test(test_blocking_wakeup_from_another_thread_and_udp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
