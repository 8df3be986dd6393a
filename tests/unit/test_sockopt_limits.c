/* Socket options at their limits, against the Linux kernel's behaviour (issue 11 items 6 and 7):
 * SO_SNDBUF / SO_RCVBUF clamp to a per-socket maximum and allocate nothing, a connection's
 * rings appear with its first byte each way, and TCP_USER_TIMEOUT takes any non-negative int
 * and, once set, alone decides when a black-holed connection gives up. Two stacks on the
 * virtual clock; every expected value is worked out here from Linux's code or RFC 6298. */
#include <arpa/inet.h>
#include <limits.h>
#include <string.h>

#include "harness.h"
#include "sock_addr.h"
#include "synack/socket.h"

#define PORT 80
/* Linux's autotuning maxima, net.ipv4.tcp_wmem[2] and tcp_rmem[2] (4 MiB and 6 MiB), which the
 * stack's max_sndbuf_bytes / max_rcvbuf_bytes take as defaults (stack.h). */
#define LINUX_WMEM_MAX_AUTO (4 * 1024 * 1024)
#define LINUX_RMEM_MAX_AUTO (6 * 1024 * 1024)
#define SOCK_BUF_FLOOR 2048 /* the floor socket.h documents for both buffers */

static int getint(struct sk_stack *st, int fd, int level, int name)
{
    int v = -1;
    socklen_t len = sizeof(v);
    assert_int_equal(sk_getsockopt(st, fd, level, name, &v, &len), 0);
    return v;
}

static int setint(struct sk_stack *st, int fd, int level, int name, int v)
{
    return sk_setsockopt(st, fd, level, name, &v, sizeof(v));
}

static int so_error(struct sk_stack *st, int fd)
{
    return getint(st, fd, SK_SOL_SOCKET, SK_SO_ERROR);
}

static int listen_on(struct sk_stack *st, uint16_t port, int backlog)
{
    int l = sk_socket(st, SK_SOCK_STREAM);
    struct sockaddr_in s = sa(0, port);
    assert_int_equal(sk_bind(st, l, (struct sockaddr *)&s, sizeof(s)), 0);
    assert_int_equal(sk_listen(st, l, backlog), 0);
    return l;
}

/* A connected pair of sockets, *ca on a and *cb on b, with the given configs. */
static struct pair *connected_cfg(const struct sk_config *ca_cfg, const struct sk_config *cb_cfg,
                                  int *ca, int *cb)
{
    struct pair *p = pair_new(ca_cfg, cb_cfg);
    int l = listen_on(p->b, PORT, 8);
    *ca = sk_socket(p->a, SK_SOCK_STREAM);
    assert_int_equal(connect_to(p->a, *ca, ADDR_B, PORT), -EINPROGRESS);
    pair_run_for(p, MS(50));
    *cb = sk_accept(p->b, l, NULL, NULL);
    assert_true(*cb >= 0);
    assert_int_equal(connect_to(p->a, *ca, ADDR_B, PORT), 0);
    return p;
}

/* The receive ring's size for a buffer: the buffer plus 2^wscale bytes for a rounded-up
 * scaled window (tcp_int.h sk_rcv_ring_bytes; harness_config offers wscale 7). */
static uint64_t rcv_ring(uint32_t rcvbuf)
{
    return (uint64_t)rcvbuf + (1u << 7);
}

/* Linux's sock_setsockopt SO_SNDBUF / SO_RCVBUF: min_t(u32, val, wmem_max) then a floor, never
 * an error; so INT_MAX and negatives give the maximum, 0 the floor. synack reads back the value
 * kept (Linux reads back twice that: docs/api.md "Differences from Linux"). Then connect works:
 * nothing was allocated for the size asked. */
static void test_buffer_sizes_clamp_as_linux_and_connect_works(void **state)
{
    (void)state;
    struct pair *p = pair_new(NULL, NULL);
    int l = listen_on(p->b, PORT, 8);
    int c = sk_socket(p->a, SK_SOCK_STREAM);
    assert_int_equal(setint(p->a, c, SK_SOL_SOCKET, SK_SO_SNDBUF, INT_MAX), 0);
    assert_int_equal(setint(p->a, c, SK_SOL_SOCKET, SK_SO_RCVBUF, INT_MAX), 0);
    assert_int_equal(getint(p->a, c, SK_SOL_SOCKET, SK_SO_SNDBUF), LINUX_WMEM_MAX_AUTO);
    assert_int_equal(getint(p->a, c, SK_SOL_SOCKET, SK_SO_RCVBUF), LINUX_RMEM_MAX_AUTO);
    assert_int_equal(connect_to(p->a, c, ADDR_B, PORT), -EINPROGRESS);
    pair_run_for(p, MS(50));
    assert_int_equal(connect_to(p->a, c, ADDR_B, PORT), 0);
    assert_true(sk_accept(p->b, l, NULL, NULL) >= 0);
    assert_int_equal(getint(p->a, c, SK_SOL_SOCKET, SK_SO_SNDBUF), LINUX_WMEM_MAX_AUTO);
    assert_int_equal(getint(p->a, c, SK_SOL_SOCKET, SK_SO_RCVBUF), LINUX_RMEM_MAX_AUTO);
    assert_int_equal(counters(p->a).buffer_bytes, 0); /* established, idle: no ring yet */
    /* Negative: taken as unsigned, so the maximum; 0 and 1: the floor. */
    int d = sk_socket(p->a, SK_SOCK_STREAM);
    assert_int_equal(setint(p->a, d, SK_SOL_SOCKET, SK_SO_SNDBUF, -1), 0);
    assert_int_equal(getint(p->a, d, SK_SOL_SOCKET, SK_SO_SNDBUF), LINUX_WMEM_MAX_AUTO);
    assert_int_equal(setint(p->a, d, SK_SOL_SOCKET, SK_SO_RCVBUF, INT_MIN), 0);
    assert_int_equal(getint(p->a, d, SK_SOL_SOCKET, SK_SO_RCVBUF), LINUX_RMEM_MAX_AUTO);
    assert_int_equal(setint(p->a, d, SK_SOL_SOCKET, SK_SO_SNDBUF, 0), 0);
    assert_int_equal(getint(p->a, d, SK_SOL_SOCKET, SK_SO_SNDBUF), SOCK_BUF_FLOOR);
    assert_int_equal(setint(p->a, d, SK_SOL_SOCKET, SK_SO_RCVBUF, 1), 0);
    assert_int_equal(getint(p->a, d, SK_SOL_SOCKET, SK_SO_RCVBUF), SOCK_BUF_FLOOR);
    pair_free(p);
}

/* The per-socket maxima are knobs; a stack's budget smaller than them caps them too. */
static void test_buffer_maxima_are_config_knobs(void **state)
{
    (void)state;
    struct sk_config ca;
    harness_config(&ca, SIDE_A);
    ca.max_sndbuf_bytes = 300000;
    ca.max_rcvbuf_bytes = 200000;
    struct pair *p = pair_new(&ca, NULL);
    int c = sk_socket(p->a, SK_SOCK_STREAM);
    assert_int_equal(setint(p->a, c, SK_SOL_SOCKET, SK_SO_SNDBUF, 1 << 30), 0);
    assert_int_equal(setint(p->a, c, SK_SOL_SOCKET, SK_SO_RCVBUF, 1 << 30), 0);
    assert_int_equal(getint(p->a, c, SK_SOL_SOCKET, SK_SO_SNDBUF), 300000);
    assert_int_equal(getint(p->a, c, SK_SOL_SOCKET, SK_SO_RCVBUF), 200000);
    assert_int_equal(setint(p->a, c, SK_SOL_SOCKET, SK_SO_RCVBUF, 150000), 0); /* under: as is */
    assert_int_equal(getint(p->a, c, SK_SOL_SOCKET, SK_SO_RCVBUF), 150000);
    pair_free(p);
    harness_config(&ca, SIDE_A);
    ca.max_buffer_bytes = 1000000; /* the whole stack's budget, under 4 MiB */
    p = pair_new(&ca, NULL);
    c = sk_socket(p->a, SK_SOCK_STREAM);
    assert_int_equal(setint(p->a, c, SK_SOL_SOCKET, SK_SO_SNDBUF, INT_MAX), 0);
    assert_int_equal(getint(p->a, c, SK_SOL_SOCKET, SK_SO_SNDBUF), 1000000);
    pair_free(p);
}

/* Three sockets asking for 100 MiB each way (the issue: they exhausted the 256 MiB stack) get
 * the per-socket maxima, and moving data through all three holds at most three times that. */
static void test_three_huge_buffers_do_not_exhaust_the_stack(void **state)
{
    (void)state;
    struct pair *p = pair_new(NULL, NULL);
    int l = listen_on(p->b, PORT, 8);
    int c[3], s[3];
    const int huge = 100 * 1024 * 1024;
    for (int i = 0; i < 3; i++) {
        c[i] = sk_socket(p->a, SK_SOCK_STREAM);
        assert_int_equal(setint(p->a, c[i], SK_SOL_SOCKET, SK_SO_SNDBUF, huge), 0);
        assert_int_equal(setint(p->a, c[i], SK_SOL_SOCKET, SK_SO_RCVBUF, huge), 0);
        assert_int_equal(connect_to(p->a, c[i], ADDR_B, PORT), -EINPROGRESS);
    }
    pair_run_for(p, MS(50));
    static char chunk[200000];
    memset(chunk, 'x', sizeof(chunk));
    for (int i = 0; i < 3; i++) {
        s[i] = sk_accept(p->b, l, NULL, NULL);
        assert_true(s[i] >= 0);
        assert_int_equal(sk_send(p->a, c[i], chunk, sizeof(chunk), 0), (int)sizeof(chunk));
        assert_int_equal(sk_send(p->b, s[i], chunk, 1000, 0), 1000);
    }
    pair_run_for(p, MS(100));
    struct sk_stack_counters k = counters(p->a);
    assert_true(k.buffer_bytes > 0);
    assert_true(k.buffer_bytes <= 3 * (LINUX_WMEM_MAX_AUTO + rcv_ring(LINUX_RMEM_MAX_AUTO)));
    assert_int_equal(k.limit_buffers, 0);
    assert_int_equal(counters(p->b).limit_buffers, 0);
    char buf[4096];
    for (int i = 0; i < 3; i++)
        assert_true(sk_recv(p->b, s[i], buf, sizeof(buf), 0) > 0);
    pair_free(p);
}

/* A ring's first allocation (stack.h: 4 KiB, doubling with use up to the configured size). */
#define FIRST_RING 4096u

/* A connection pays for what it uses: none of its rings while idle, the send ring with the
 * first byte sent, the receive ring with the first byte received, each at its first size;
 * the SYN still offers the whole configured window before the ring exists; and once the
 * exchange is over (read, acknowledged, then quiet for 100 ms) both rings go again. */
static void test_rings_appear_with_the_first_byte(void **state)
{
    (void)state;
    struct pair *p = pair_new(NULL, NULL);
    int l = listen_on(p->b, PORT, 8);
    int ca = sk_socket(p->a, SK_SOCK_STREAM);
    assert_int_equal(setint(p->a, ca, SK_SOL_SOCKET, SK_SO_RCVBUF, 4096), 0);
    assert_int_equal(connect_to(p->a, ca, ADDR_B, PORT), -EINPROGRESS);
    const struct rec_ev *syn = expect_seg(p, A_TO_B, SYN, info(sk_socket_tcp(p->a, ca)).iss, 0);
    assert_int_equal(syn->ev.u.seg.wnd, 4096); /* RFC 7323 §2.2: a SYN's window is unscaled */
    assert_int_equal(counters(p->a).buffer_bytes, 0);
    pair_run_for(p, MS(50));
    int cb = sk_accept(p->b, l, NULL, NULL);
    assert_true(cb >= 0);
    assert_int_equal(connect_to(p->a, ca, ADDR_B, PORT), 0);
    assert_int_equal(counters(p->a).buffer_bytes, 0);
    assert_int_equal(counters(p->b).buffer_bytes, 0);
    assert_true(sk_poll(p->a, &(struct sk_pollfd){.fd = ca, .events = SK_POLLOUT}, 1) == 1);
    assert_int_equal(sk_send(p->a, ca, "hello", 5, 0), 5);
    assert_int_equal(counters(p->a).buffer_bytes, FIRST_RING);
    pair_run_for(p, MS(50));
    assert_int_equal(counters(p->b).buffer_bytes, FIRST_RING);
    char buf[8];
    assert_int_equal(sk_recv(p->b, cb, buf, sizeof(buf), 0), 5);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(sk_send(p->b, cb, "ok", 2, 0), 2);
    pair_run_for(p, MS(50));
    assert_int_equal(sk_recv(p->a, ca, buf, sizeof(buf), 0), 2);
    assert_int_equal(counters(p->a).buffer_bytes, 2 * FIRST_RING);
    pair_run_for(p, MS(200));
    assert_int_equal(counters(p->a).buffer_bytes, 0);
    assert_int_equal(counters(p->b).buffer_bytes, 0);
    pair_free(p);
}

/* Out of buffer memory after connect: a send that finds no memory for its ring is -ENOBUFS
 * (counted in limit_buffers); text that finds none is dropped, counted and not acknowledged,
 * so the peer sends it again and it arrives once memory is free. */
static void test_buffer_memory_running_out_later(void **state)
{
    (void)state;
    struct sk_config ca, cb;
    harness_config(&ca, SIDE_A);
    harness_config(&cb, SIDE_B);
    ca.max_buffer_bytes = 2 * FIRST_RING + FIRST_RING / 2; /* two send rings */
    cb.max_buffer_bytes = FIRST_RING + 1000;               /* one receive ring */
    struct pair *p = pair_new(&ca, &cb);
    int l = listen_on(p->b, PORT, 8);
    int c[3];
    for (int i = 0; i < 3; i++) {
        c[i] = sk_socket(p->a, SK_SOCK_STREAM);
        assert_int_equal(connect_to(p->a, c[i], ADDR_B, PORT), -EINPROGRESS);
    }
    pair_run_for(p, MS(50));
    int s1 = sk_accept(p->b, l, NULL, NULL), s2 = sk_accept(p->b, l, NULL, NULL);
    assert_true(s1 >= 0 && s2 >= 0);
    assert_int_equal(sk_send(p->a, c[0], "first", 5, 0), 5);
    assert_int_equal(sk_send(p->a, c[1], "second", 6, 0), 6);
    assert_int_equal(sk_send(p->a, c[2], "third", 5, 0), -ENOBUFS);
    assert_int_equal(counters(p->a).limit_buffers, 1);
    pair_run_for(p, MS(50));
    /* b had room for one receive ring: the first text took it, the second was dropped. */
    char buf[8];
    assert_int_equal(sk_recv(p->b, s1, buf, sizeof(buf), 0), 5);
    assert_int_equal(drops(p->b, SK_DROP_TCP_NO_MEMORY), 1);
    assert_int_equal(counters(p->b).limit_buffers, 1);
    assert_int_equal(sk_recv(p->b, s2, buf, sizeof(buf), 0), -EAGAIN);
    struct sk_tcp_info i2 = info(sk_socket_tcp(p->a, c[1]));
    assert_int_equal(i2.snd_nxt - i2.snd_una, 6); /* not acknowledged */
    /* The first connection closes both ways: its rings go with it (TIME-WAIT keeps none). */
    assert_int_equal(sk_close(p->b, s1), 0);
    assert_int_equal(sk_close(p->a, c[0]), 0);
    pair_run_for(p, SEC(5)); /* the second's RTO sends its text again */
    assert_int_equal(sk_recv(p->b, s2, buf, sizeof(buf), 0), 6);
    assert_memory_equal(buf, "second", 6);
    assert_int_equal(sk_send(p->a, c[2], "third", 5, 0), 5); /* a's first ring is free too */
    pair_free(p);
}

/* The time the first n retransmission timeouts take, RFC 6298 §5.5 (the timer doubles) and
 * §2.5 (up to rto_max), starting from rto0. */
static sk_time_us backoff_total(sk_time_us rto0, sk_time_us rto_max, unsigned n)
{
    sk_time_us t = 0, rto = rto0;
    for (unsigned i = 0; i < n; i++) {
        t += rto;
        rto = 2 * rto < rto_max ? 2 * rto : rto_max;
    }
    return t;
}

/* Linux's do_tcp_setsockopt takes any non-negative int as TCP_USER_TIMEOUT and getsockopt
 * returns it as set (a kernel socket reads back 5400000 and INT_MAX); negatives are EINVAL. */
static void test_user_timeout_reads_back_as_set(void **state)
{
    (void)state;
    struct pair *p = pair_new(NULL, NULL);
    int t = sk_socket(p->a, SK_SOCK_STREAM);
    assert_int_equal(setint(p->a, t, SK_IPPROTO_TCP, SK_TCP_USER_TIMEOUT, -1), -EINVAL);
    assert_int_equal(setint(p->a, t, SK_IPPROTO_TCP, SK_TCP_USER_TIMEOUT, 4294968), 0);
    assert_int_equal(getint(p->a, t, SK_IPPROTO_TCP, SK_TCP_USER_TIMEOUT), 4294968);
    assert_int_equal(setint(p->a, t, SK_IPPROTO_TCP, SK_TCP_USER_TIMEOUT, INT_MAX), 0);
    assert_int_equal(getint(p->a, t, SK_IPPROTO_TCP, SK_TCP_USER_TIMEOUT), INT_MAX);
    assert_int_equal(setint(p->a, t, SK_IPPROTO_TCP, SK_TCP_USER_TIMEOUT, 0), 0);
    assert_int_equal(getint(p->a, t, SK_IPPROTO_TCP, SK_TCP_USER_TIMEOUT), 0);
    pair_free(p);
}

/* A 90-minute user timeout and a peer that vanished: Linux's tcp_write_timeout asks
 * retransmits_timed_out with icsk_user_timeout instead of tcp_retries2, so retransmission goes
 * on past where data_retries would have ended it (663 s with the defaults) and ends at the user
 * timeout, no earlier and at most one RTO later, with ETIMEDOUT. */
static void test_long_user_timeout_replaces_the_retry_limit(void **state)
{
    (void)state;
    int ca, cb;
    struct pair *p = connected_cfg(NULL, NULL, &ca, &cb);
    struct sk_config cfg;
    harness_config(&cfg, SIDE_A);
    const int timeout_ms = 90 * 60 * 1000;
    assert_int_equal(setint(p->a, ca, SK_IPPROTO_TCP, SK_TCP_USER_TIMEOUT, timeout_ms), 0);
    assert_int_equal(getint(p->a, ca, SK_IPPROTO_TCP, SK_TCP_USER_TIMEOUT), timeout_ms);
    pair_drop(p, SIDE_B, 0, 0, 0); /* b goes silent */
    sk_time_us t0 = pair_now(p);
    assert_int_equal(sk_send(p->a, ca, "data", 4, 0), 4); /* first sent at t0 */
    /* The handshake's 20 ms RTT sample gives RTO = rto_min (RFC 6298 §2.4). */
    sk_time_us rto0 = cfg.rto_min_us, rto_max = cfg.rto_max_us;
    sk_time_us retry_end = t0 + backoff_total(rto0, rto_max, cfg.data_retries + 1u);
    assert_int_equal(retry_end - t0, SEC(663)); /* the number, from the arithmetic */
    pair_run_until(p, retry_end + SEC(1));
    assert_int_equal(so_error(p->a, ca), 0);
    sk_time_us deadline = t0 + MS(timeout_ms);
    pair_run_until(p, deadline - 1);
    assert_int_equal(so_error(p->a, ca), 0);
    assert_true(counters(p->a).tcp_retransmits > cfg.data_retries);
    pair_run_until(p, deadline + rto_max); /* the RTO by then is rto_max */
    assert_int_equal(so_error(p->a, ca), ETIMEDOUT);
    pair_free(p);
}

/* A short user timeout ends the connection at the timeout though retries remain: Linux clamps
 * the RTO to what is left of it (tcp_clamp_rto_to_user_timeout), so the end comes at the user
 * timeout itself. */
static void test_short_user_timeout_ends_before_the_retries(void **state)
{
    (void)state;
    int ca, cb;
    struct pair *p = connected_cfg(NULL, NULL, &ca, &cb);
    assert_int_equal(setint(p->a, ca, SK_IPPROTO_TCP, SK_TCP_USER_TIMEOUT, 2000), 0);
    pair_drop(p, SIDE_B, 0, 0, 0);
    sk_time_us t0 = pair_now(p);
    assert_int_equal(sk_send(p->a, ca, "data", 4, 0), 4);
    pair_run_until(p, t0 + SEC(2) - 1);
    assert_int_equal(so_error(p->a, ca), 0);
    assert_true(info(sk_socket_tcp(p->a, ca)).retransmits < 15);
    pair_run_until(p, t0 + SEC(2) + MS(1));
    assert_int_equal(so_error(p->a, ca), ETIMEDOUT);
    pair_free(p);
}

/* With a user timeout, keep-alive gives up when the peer has been silent that long and a probe
 * went unanswered, not after TCP_KEEPCNT probes (Linux's tcp_keepalive_timer). Idle 10 s,
 * probes every 2 s, count 3 (which alone would end it at 10 + 3 * 2 = 16 s), user timeout 30 s:
 * the probe due at 10 + 10 * 2 = 30 s after the last segment ends it instead. */
static void test_user_timeout_decides_keepalive(void **state)
{
    (void)state;
    int ca, cb;
    struct pair *p = connected_cfg(NULL, NULL, &ca, &cb);
    assert_int_equal(setint(p->a, ca, SK_IPPROTO_TCP, SK_TCP_KEEPIDLE, 10), 0);
    assert_int_equal(setint(p->a, ca, SK_IPPROTO_TCP, SK_TCP_KEEPINTVL, 2), 0);
    assert_int_equal(setint(p->a, ca, SK_IPPROTO_TCP, SK_TCP_KEEPCNT, 3), 0);
    assert_int_equal(setint(p->a, ca, SK_IPPROTO_TCP, SK_TCP_USER_TIMEOUT, 30000), 0);
    assert_int_equal(setint(p->a, ca, SK_SOL_SOCKET, SK_SO_KEEPALIVE, 1), 0);
    pair_drop(p, SIDE_B, 0, 0, 0);
    sk_time_us last_rcv = T0 + 2 * LINK_DELAY; /* the SYN,ACK: b sent nothing after it */
    pair_run_until(p, last_rcv + SEC(30) - 1);
    assert_int_equal(so_error(p->a, ca), 0);
    pair_run_until(p, last_rcv + SEC(30));
    assert_int_equal(so_error(p->a, ca), ETIMEDOUT);
    pair_free(p);
}

/* Behind a zero window the user timeout runs from the first probe and the peer's answers do
 * not restart it: a window shut that long ends the connection (Linux's tcp_probe_timer, with
 * icsk_probes_tstamp reset only when the window opens). b answers every probe but never
 * reads its 4 KiB buffer; a's 30 s user timeout ends it 30 s after the first probe, which
 * comes one RTO after the window shut (RFC 9293 §3.8.6.1). */
static void test_user_timeout_bounds_zero_window_probing(void **state)
{
    (void)state;
    struct sk_config cb_cfg;
    harness_config(&cb_cfg, SIDE_B);
    cb_cfg.rcvbuf_bytes = 4096;
    int ca, cb;
    struct pair *p = connected_cfg(NULL, &cb_cfg, &ca, &cb);
    assert_int_equal(setint(p->a, ca, SK_IPPROTO_TCP, SK_TCP_USER_TIMEOUT, 30000), 0);
    static char data[20000];
    assert_int_equal(sk_send(p->a, ca, data, sizeof(data), 0), (int)sizeof(data));
    struct sk_tcp *c = sk_socket_tcp(p->a, ca);
    while (info(c).snd_wnd != 0) /* the window shuts once b's 4 KiB are full */
        pair_run_for(p, MS(1));
    sk_time_us shut = pair_now(p), rto = info(c).rto_us;
    pair_run_until(p, shut + SEC(30) - 1);
    assert_int_equal(so_error(p->a, ca), 0);
    pair_run_until(p, shut + rto + SEC(30) + MS(1));
    assert_int_equal(so_error(p->a, ca), ETIMEDOUT);
    pair_free(p);
}

/* Linux's do_tcp_setsockopt: TCP_MAXSEG 88..32767 (TCP_MIN_MSS..MAX_TCP_WINDOW), 0 for the
 * default; keep-alive times 1..32767 s (MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL), count 1..127
 * (MAX_TCP_KEEPCNT). A kernel socket gives EINVAL just outside each range. */
static void test_tcp_option_ranges_as_linux(void **state)
{
    (void)state;
    struct pair *p = pair_new(NULL, NULL);
    int t = sk_socket(p->a, SK_SOCK_STREAM);
    static const struct {
        int name, lo, hi;
    } r[] = {
        {SK_TCP_MAXSEG, 88, 32767},
        {SK_TCP_KEEPIDLE, 1, 32767},
        {SK_TCP_KEEPINTVL, 1, 32767},
        {SK_TCP_KEEPCNT, 1, 127},
    };
    for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
        assert_int_equal(setint(p->a, t, SK_IPPROTO_TCP, r[i].name, r[i].lo - 1), -EINVAL);
        assert_int_equal(setint(p->a, t, SK_IPPROTO_TCP, r[i].name, r[i].hi + 1), -EINVAL);
        assert_int_equal(setint(p->a, t, SK_IPPROTO_TCP, r[i].name, r[i].lo), 0);
        assert_int_equal(getint(p->a, t, SK_IPPROTO_TCP, r[i].name), r[i].lo);
        assert_int_equal(setint(p->a, t, SK_IPPROTO_TCP, r[i].name, r[i].hi), 0);
        assert_int_equal(getint(p->a, t, SK_IPPROTO_TCP, r[i].name), r[i].hi);
    }
    assert_int_equal(setint(p->a, t, SK_IPPROTO_TCP, SK_TCP_MAXSEG, 65535), -EINVAL);
    assert_int_equal(setint(p->a, t, SK_IPPROTO_TCP, SK_TCP_MAXSEG, 0), 0);
    pair_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buffer_sizes_clamp_as_linux_and_connect_works),
        cmocka_unit_test(test_buffer_maxima_are_config_knobs),
        cmocka_unit_test(test_three_huge_buffers_do_not_exhaust_the_stack),
        cmocka_unit_test(test_rings_appear_with_the_first_byte),
        cmocka_unit_test(test_buffer_memory_running_out_later),
        cmocka_unit_test(test_user_timeout_reads_back_as_set),
        cmocka_unit_test(test_long_user_timeout_replaces_the_retry_limit),
        cmocka_unit_test(test_short_user_timeout_ends_before_the_retries),
        cmocka_unit_test(test_user_timeout_decides_keepalive),
        cmocka_unit_test(test_user_timeout_bounds_zero_window_probing),
        cmocka_unit_test(test_tcp_option_ranges_as_linux),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
