/* The blocking layer: two stacks on an in-memory link, driven by a runner thread on
 * CLOCK_MONOTONIC; application threads make blocking calls. Outcomes are deterministic (bytes
 * verified, errors returned); no assertion depends on how long anything took. */
#include <arpa/inet.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "sock_addr.h"
#include "synack/blocking.h"

#define PORT 7
#define SECOND 1000000u

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

/* ---- several threads on one socket; timeouts; close and shutdown from another thread ---- */

/* A connection from stack 0 to stack 1's port, accepted: *c on stack 0, *s on stack 1. */
static void connect_pair(struct sk_runner_pair *p, uint16_t port, int *c, int *s)
{
    struct sk_runner *r = p->runner;
    int l = listen_on(p, port);
    *c = sk_bsocket(r, p->stack[0], SK_SOCK_STREAM);
    struct sockaddr_in to = sa(ADDR_B, port);
    assert_int_equal(sk_bconnect(r, p->stack[0], *c, (struct sockaddr *)&to, sizeof(to),
                                 10 * SECOND),
                     0);
    *s = sk_baccept(r, p->stack[1], l, NULL, NULL, 10 * SECOND);
    assert_true(*s >= 0);
}

/* Threads in sk_brecv on one descriptor report their return through `done`. */
struct receivers {
    struct sk_runner_pair *p;
    int fd;
    sk_time_us timeout_us; /* 0: SK_TIME_NEVER */
    pthread_mutex_t m;
    pthread_cond_t cv;
    int done;
    ssize_t got[2];
    char buf[2][8];
};
struct receiver {
    struct receivers *rs;
    int i;
};

static void *receive_once(void *arg)
{
    struct receiver *me = arg;
    struct receivers *rs = me->rs;
    ssize_t n = sk_brecv(rs->p->runner, rs->p->stack[1], rs->fd, rs->buf[me->i],
                         sizeof(rs->buf[me->i]), rs->timeout_us ? rs->timeout_us : SK_TIME_NEVER);
    pthread_mutex_lock(&rs->m);
    rs->got[me->i] = n;
    rs->done++;
    pthread_cond_signal(&rs->cv);
    pthread_mutex_unlock(&rs->m);
    return NULL;
}

/* Until n threads wait on fd (no time limit: a hang is ctest's timeout). */
static void until_waiting(struct sk_runner_pair *p, int side, int fd, int n)
{
    while (sk_runner_waiting(p->runner, p->stack[side], fd) < n)
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
}

static void wait_done(struct receivers *rs, int n)
{
    pthread_mutex_lock(&rs->m);
    while (rs->done < n)
        pthread_cond_wait(&rs->cv, &rs->m);
    pthread_mutex_unlock(&rs->m);
}

/* Two threads wait to read one socket without a timeout: one byte arrives and exactly one of
 * them takes it, the other waits on. Then a third thread closes the socket and opens another,
 * which may get the same number: the waiter returns -EBADF (blocking.h; Linux would leave it
 * blocked, on a socket that outlives close: docs/api.md close-while-blocked), and never
 * waits on the new socket. */
static void test_blocking_two_receivers_one_byte_then_close(void **state)
{
    (void)state;
    struct sk_runner_pair p;
    start_pair(&p);
    struct sk_runner *r = p.runner;
    int c, s;
    connect_pair(&p, PORT, &c, &s);
    struct receivers rs = {.p = &p, .fd = s};
    pthread_mutex_init(&rs.m, NULL);
    pthread_cond_init(&rs.cv, NULL);
    struct receiver me[2] = {{&rs, 0}, {&rs, 1}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, receive_once, &me[i]), 0);
    until_waiting(&p, 1, s, 2);
    assert_int_equal(sk_bsend(r, p.stack[0], c, "x", 1, 10 * SECOND), 1);
    wait_done(&rs, 1);
    int first = rs.got[0] == 1 ? 0 : 1;
    assert_int_equal(rs.got[first], 1);
    assert_int_equal(rs.buf[first][0], 'x');
    until_waiting(&p, 1, s, 1); /* the other waits on */
    assert_int_equal(sk_bclose(r, p.stack[1], s), 0);
    int again = sk_bsocket(r, p.stack[1], SK_SOCK_STREAM); /* may reuse s's number */
    assert_true(again >= 0);
    wait_done(&rs, 2);
    assert_int_equal(rs.got[1 - first], -EBADF);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_cond_destroy(&rs.cv);
    pthread_mutex_destroy(&rs.m);
    sk_runner_pair_stop(&p);
}

/* shutdown(SHUT_RD) from another thread wakes a reader with 0, end of stream (Linux:
 * shutdown(SHUT_RDWR) woke a reader blocked with SO_RCVTIMEO 500 ms at once, recv 0). The
 * reader's timeout is one short of SK_TIME_NEVER: it must wait as long, not wrap into the
 * past (it returned -EAGAIN at once). */
static void test_blocking_shutdown_wakes_a_reader(void **state)
{
    (void)state;
    struct sk_runner_pair p;
    start_pair(&p);
    int c, s;
    connect_pair(&p, PORT, &c, &s);
    struct receivers rs = {.p = &p, .fd = s, .timeout_us = SK_TIME_NEVER - 1};
    pthread_mutex_init(&rs.m, NULL);
    pthread_cond_init(&rs.cv, NULL);
    struct receiver me = {&rs, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, receive_once, &me), 0);
    while (sk_runner_waiting(p.runner, p.stack[1], s) < 1) {
        pthread_mutex_lock(&rs.m);
        int done = rs.done;
        pthread_mutex_unlock(&rs.m);
        if (done)
            break; /* returned without waiting: the assertion below says what */
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
    assert_int_equal(sk_bshutdown(p.runner, p.stack[1], s, SK_SHUT_RD), 0);
    pthread_join(t, NULL);
    assert_int_equal(rs.got[0], 0);
    pthread_cond_destroy(&rs.cv);
    pthread_mutex_destroy(&rs.m);
    sk_runner_pair_stop(&p);
}

struct connector {
    struct sk_runner_pair *p;
    int fd;
    int rc;
};

static void *connect_forever(void *arg)
{
    struct connector *k = arg;
    struct sockaddr_in nobody = sa(ADDR_B + 1, PORT);
    k->rc = sk_bconnect(k->p->runner, k->p->stack[0], k->fd, (struct sockaddr *)&nobody,
                        sizeof(nobody), SK_TIME_NEVER);
    return NULL;
}

/* A handshake nobody answers (an address no stack holds: the SYNs are dropped). The call
 * that starts it and times out returns -EINPROGRESS, later ones -EALREADY, with a timeout or
 * without waiting (Linux, connect with SO_SNDTIMEO 100 ms to a listener whose accept queue
 * is full: EINPROGRESS, then EALREADY, EALREADY; __inet_stream_connect sets -EALREADY for
 * SS_CONNECTING before it waits). A close from another thread ends a waiting connect with
 * -EBADF. */
static void test_blocking_connect_timeout_then_again(void **state)
{
    (void)state;
    struct sk_runner_pair p;
    start_pair(&p);
    struct sk_runner *r = p.runner;
    struct sk_stack *st = p.stack[0];
    int fd = sk_bsocket(r, st, SK_SOCK_STREAM);
    struct sockaddr_in nobody = sa(ADDR_B + 1, PORT);
    assert_int_equal(sk_bconnect(r, st, fd, (struct sockaddr *)&nobody, sizeof(nobody), 20000),
                     -EINPROGRESS);
    assert_int_equal(sk_bconnect(r, st, fd, (struct sockaddr *)&nobody, sizeof(nobody), 20000),
                     -EALREADY);
    assert_int_equal(sk_bconnect(r, st, fd, (struct sockaddr *)&nobody, sizeof(nobody), 0),
                     -EALREADY);
    int fd0 = sk_bsocket(r, st, SK_SOCK_STREAM);
    assert_int_equal(sk_bconnect(r, st, fd0, (struct sockaddr *)&nobody, sizeof(nobody), 0),
                     -EINPROGRESS);
    struct connector k = {.p = &p, .fd = fd};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, connect_forever, &k), 0);
    until_waiting(&p, 0, fd, 1);
    assert_int_equal(sk_bclose(r, st, fd), 0);
    pthread_join(t, NULL);
    assert_int_equal(k.rc, -EBADF);
    sk_runner_pair_stop(&p);
}

struct acceptor {
    struct sk_runner_pair *p;
    int fd;
    int rc;
};

static void *accept_forever(void *arg)
{
    struct acceptor *a = arg;
    a->rc = sk_baccept(a->p->runner, a->p->stack[1], a->fd, NULL, NULL, SK_TIME_NEVER);
    return NULL;
}

/* A listener closed by another thread ends a waiting sk_baccept with -EBADF at once (Linux
 * left accept blocked until its SO_RCVTIMEO, EAGAIN: docs/api.md close-while-blocked); a new
 * listener that takes the number is not waited on. */
static void test_blocking_accept_ends_when_the_listener_closes(void **state)
{
    (void)state;
    struct sk_runner_pair p;
    start_pair(&p);
    struct acceptor a = {.p = &p, .fd = listen_on(&p, PORT)};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, accept_forever, &a), 0);
    until_waiting(&p, 1, a.fd, 1);
    assert_int_equal(sk_bclose(p.runner, p.stack[1], a.fd), 0);
    int again = listen_on(&p, PORT + 1); /* may reuse the number */
    pthread_join(t, NULL);
    assert_int_equal(a.rc, -EBADF);
    assert_int_equal(sk_bclose(p.runner, p.stack[1], again), 0);
    sk_runner_pair_stop(&p);
}

struct resetter {
    struct sk_runner_pair *p;
    int fd;
    size_t read;
};

/* Reads 100,000 bytes, then closes with SO_LINGER {1, 0}: a RST. */
static void *read_then_reset(void *arg)
{
    struct resetter *x = arg;
    struct sk_runner *r = x->p->runner;
    struct sk_stack *st = x->p->stack[1];
    uint8_t buf[4096];
    while (x->read < 100000) {
        ssize_t n = sk_brecv(r, st, x->fd, buf, sizeof(buf), 10 * SECOND);
        if (n <= 0)
            break;
        x->read += (size_t)n;
    }
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    sk_bsetsockopt(r, st, x->fd, SK_SOL_SOCKET, SK_SO_LINGER, &lg, sizeof(lg));
    sk_bclose(r, st, x->fd);
    return NULL;
}

/* sk_bsend's partial counts. At the timeout, with the peer not reading: the bytes that fit
 * (send buffer and the peer's window), fewer than asked; with no room, -EAGAIN. When the peer
 * resets in the middle: the count moved, and the reset reported by the next call, then
 * -EPIPE (Linux: send of 4 MB while the peer read 300 KB and reset returned 3919467, the next
 * send ECONNRESET, the one after EPIPE; tcp_sendmsg_locked returns what it copied and leaves
 * sk_err). */
static void test_blocking_send_partial_counts(void **state)
{
    (void)state;
    struct sk_runner_pair p;
    start_pair(&p);
    struct sk_runner *r = p.runner;
    struct sk_stack *st = p.stack[0];
    int c, s;
    connect_pair(&p, PORT, &c, &s);
    static uint8_t big[1 << 20];
    ssize_t n = sk_bsend(r, st, c, big, sizeof(big), 20000);
    assert_true(n > 0 && (size_t)n < sizeof(big));
    /* ACKs still on their way may free room after the timeout; the buffers are finite, so
     * the peer's window closes and a send finds no room within a few tries. */
    size_t moved = (size_t)n;
    for (;;) {
        n = sk_bsend(r, st, c, big, sizeof(big), 0); /* one try: a count or no room */
        if (n > 0) {
            moved += (size_t)n;
            continue;
        }
        assert_int_equal(n, -EAGAIN);
        n = sk_bsend(r, st, c, big, sizeof(big), 20000);
        if (n == -EAGAIN)
            break;
        assert_true(n > 0);
        moved += (size_t)n;
    }
    assert_true(moved < sizeof(big));
    assert_int_equal(sk_bclose(r, st, c), 0);

    connect_pair(&p, PORT + 1, &c, &s);
    struct resetter x = {.p = &p, .fd = s};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, read_then_reset, &x), 0);
    n = sk_bsend(r, st, c, big, sizeof(big), 10 * SECOND);
    pthread_join(t, NULL);
    assert_true(x.read >= 100000);
    assert_true(n >= (ssize_t)x.read && (size_t)n < sizeof(big));
    assert_int_equal(sk_bsend(r, st, c, big, 10, SECOND), -ECONNRESET);
    assert_int_equal(sk_bsend(r, st, c, big, 10, SECOND), -EPIPE);
    sk_runner_pair_stop(&p);
}

/* sk_bsendto on a stream waits for room and sends everything, as sk_bsend without a limit
 * (sendto on a blocking socket); addr is ignored on TCP. */
static void test_blocking_sendto_on_a_stream_sends_all(void **state)
{
    (void)state;
    struct sk_runner_pair p;
    start_pair(&p);
    int c, s;
    connect_pair(&p, PORT, &c, &s);
    struct resetter x = {.p = &p, .fd = s};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, read_then_reset, &x), 0);
    static uint8_t buf[100000];
    assert_int_equal(sk_bsendto(p.runner, p.stack[0], c, buf, sizeof(buf), NULL, 0),
                     (ssize_t)sizeof(buf));
    pthread_join(t, NULL);
    assert_int_equal(x.read, sizeof(buf));
    sk_runner_pair_stop(&p);
}

static enum sk_tcp_state state_of(struct sk_runner *r, struct sk_stack *st, int fd)
{
    sk_runner_lock(r);
    enum sk_tcp_state t = sk_tcp_get_state(sk_socket_tcp(st, fd));
    sk_runner_unlock(r);
    return t;
}

/* Issue 11, item 1: SO_LINGER {1, N} makes close wait, as Linux's tcp_close
 * (net/ipv4/tcp.c, sk_stream_wait_close): until the FIN is acknowledged, so the peer has
 * processed it (CLOSE-WAIT) by the time sk_bclose returns, even over a link with 200 ms of
 * delay each way; or, with the FIN stuck behind data the peer's zero window holds back, until
 * N seconds have passed. close returns 0 either way, as on Linux. Before: sk_bclose returned
 * at once and the peer was still ESTABLISHED. */
static void test_blocking_close_lingers(void **state)
{
    (void)state;
    struct sk_runner_pair p;
    struct sk_config a, b;
    harness_config(&a, 0);
    harness_config(&b, 1);
    struct sk_memlink_faults slow = {.delay_us = 200000};
    assert_int_equal(sk_runner_pair_start(&p, &a, &b, &slow, 1), 0);
    struct sk_runner *r = p.runner;
    int l = sk_bsocket(r, p.stack[1], SK_SOCK_STREAM);
    struct sockaddr_in addr = sa(0, PORT), to = sa(ADDR_B, PORT);
    int small = 4096;
    assert_int_equal(sk_bsetsockopt(r, p.stack[1], l, SK_SOL_SOCKET, SK_SO_RCVBUF, &small,
                                    sizeof(small)),
                     0);
    assert_int_equal(sk_bbind(r, p.stack[1], l, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(sk_blisten(r, p.stack[1], l, 4), 0);
    struct linger lg = {.l_onoff = 1, .l_linger = 30};
    for (int stuck = 0; stuck < 2; stuck++) {
        int c = sk_bsocket(r, p.stack[0], SK_SOCK_STREAM);
        assert_int_equal(sk_bconnect(r, p.stack[0], c, (struct sockaddr *)&to, sizeof(to),
                                     10 * SECOND),
                         0);
        int s = sk_baccept(r, p.stack[1], l, NULL, NULL, 10 * SECOND);
        assert_true(s >= 0);
        static uint8_t data[65536];
        size_t n = stuck ? sizeof(data) : 100;
        /* Stuck: more than the peer's 4 KiB window; what it takes is all that moves. */
        ssize_t sent = sk_bsend(r, p.stack[0], c, data, n, stuck ? SECOND / 2 : 10 * SECOND);
        assert_true(sent > 0);
        lg.l_linger = stuck ? 1 : 30;
        assert_int_equal(sk_bsetsockopt(r, p.stack[0], c, SK_SOL_SOCKET, SK_SO_LINGER, &lg,
                                        sizeof(lg)),
                         0);
        sk_time_us t0 = sk_runner_clock();
        assert_int_equal(sk_bclose(r, p.stack[0], c), 0);
        sk_time_us waited = sk_runner_clock() - t0;
        if (stuck) {
            assert_true(waited >= SECOND); /* the linger time, then it gave up waiting */
            assert_int_equal(state_of(r, p.stack[1], s), SK_TCP_ESTABLISHED);
        } else {
            assert_int_equal(state_of(r, p.stack[1], s), SK_TCP_CLOSE_WAIT);
        }
        assert_int_equal(sk_bclose(r, p.stack[1], s), 0);
    }
    sk_runner_pair_stop(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocking_echo_between_threads),
        cmocka_unit_test(test_blocking_timeouts_and_errors),
        cmocka_unit_test(test_blocking_wakeup_from_another_thread_and_udp),
        cmocka_unit_test(test_blocking_two_receivers_one_byte_then_close),
        cmocka_unit_test(test_blocking_shutdown_wakes_a_reader),
        cmocka_unit_test(test_blocking_connect_timeout_then_again),
        cmocka_unit_test(test_blocking_accept_ends_when_the_listener_closes),
        cmocka_unit_test(test_blocking_send_partial_counts),
        cmocka_unit_test(test_blocking_sendto_on_a_stream_sends_all),
        cmocka_unit_test(test_blocking_close_lingers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
