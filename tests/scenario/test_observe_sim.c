/* The passive observer (synack/observe.h) against an oracle: two synack stacks in the simulator.
 *
 * Every frame that reaches a stack (its SEG_IN trace event: the bare IP packet of the
 * simulator's link) goes to an observer, as a capture taken at the receiver would. After every
 * simulator step the observer's inferred state of each side is compared with the state that
 * side's stack reported itself (SK_TRACE_STATE), wherever the observer can know it:
 *
 *  - not while a SYN, FIN or RST the side sent is still on the wire or lost: the observer
 *    learns of a state change a segment announces only when that segment arrives;
 *  - not after a side went CLOSED on a timer (retries exhausted): nothing on the wire says so;
 *  - TIME-WAIT ending after 2 MSL is silent too: the stack's CLOSED matches the observer's
 *    TIME-WAIT.
 *
 * A second observer is fed every frame the stacks send (SEG_OUT: a capture at the senders, where
 * nothing is lost yet); its count of retransmitted segments is compared with the stacks' own
 * counters (sk_stack_counters tcp_retransmits): equal where the losses are single segments;
 * with random loss at least as many, because a go-back-N after a timeout resends segments
 * the stack counts once per timeout.
 *
 * Runs: handshake + echo + close under loss, duplication and reordering (several seeds, IPv4
 * and IPv6); an
 * abort; a refused connection; a slow reader behind a zero window; a targeted single loss; a
 * simultaneous close; keep-alives on an idle connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "synack/observe.h"

#define PORT 7
#define STEP_LIMIT SEC(300)

struct run {
    struct sk_sim sim;
    struct sk_observer *obs_in, *obs_out;
    struct sk_tcp *listener, *conn[2];
    uint16_t port_a;
    enum sk_tcp_state stack_state[2];
    bool stack_known[2];
    enum sk_tcp_state obs_state[2];
    bool obs_known[2];
    uint8_t pending[2];   /* SYN/FIN/RST sent by the side, not yet arrived */
    bool silent[2];       /* went CLOSED on a timer */
    bool timer_step;      /* the current step ran a timer */
    bool closed_out[2];   /* a RST sent in this step */
    uint64_t checks, mismatches, second_conn;
    uint64_t notes[SK_OBS_NOTE_COUNT]; /* of connection 1, as seen at the receivers */
};

static void on_obs(void *user, const struct sk_obs_segment *s)
{
    struct run *r = user;
    if (s->conn != 1) {
        r->second_conn++;
        return;
    }
    /* Observer side `from` sent it: which simulator side is that? */
    int sim_from = s->seg.sport == r->port_a ? 0 : 1;
    for (int i = 0; i < s->nnotes; i++)
        r->notes[s->notes[i].kind]++;
    for (int os = 0; os < 2; os++) {
        int side = os == s->from ? sim_from : !sim_from;
        r->obs_state[side] = s->state_after[os];
        r->obs_known[side] = true;
    }
}

/* OBS_DEBUG=1: the sending-side observer's view of every segment. */
static void print_seg(void *user, const struct sk_obs_segment *s)
{
    (void)user;
    char f[40];
    printf("%10llu %d %-12s rel %u/%u len %u wnd %u %s/%s", (unsigned long long)s->time, s->from,
           sk_tcp_flags_str(s->seg.flags, f, sizeof(f)), s->rel_seq, s->rel_ack, s->seg.len,
           s->wnd_bytes, sk_tcp_state_name(s->state_after[0]),
           sk_tcp_state_name(s->state_after[1]));
    for (int i = 0; i < s->nnotes; i++)
        printf(" %s(%llu,%llu)", sk_obs_note_name(s->notes[i].kind),
               (unsigned long long)s->notes[i].a, (unsigned long long)s->notes[i].b);
    printf("\n");
}

static void on_trace(void *ctx, int side, const struct sk_trace_event *ev)
{
    struct run *r = ctx;
    const uint8_t ctl = SK_TCP_SYN | SK_TCP_FIN | SK_TCP_RST;
    switch (ev->kind) {
    case SK_TRACE_SEG_OUT:
        r->pending[side] |= ev->u.seg.flags & ctl;
        if (ev->u.seg.flags & SK_TCP_RST)
            r->closed_out[side] = true;
        if (ev->frame && ev->frame_len)
            sk_observer_input(r->obs_out, ev->time, ev->frame, ev->frame_len, ev->frame_len);
        break;
    case SK_TRACE_SEG_IN:
        /* A segment of the peer arrived: what it announced is now visible. */
        r->pending[!side] &= (uint8_t)~(ev->u.seg.flags & ctl);
        if (ev->frame && ev->frame_len)
            sk_observer_input(r->obs_in, ev->time, ev->frame, ev->frame_len, ev->frame_len);
        break;
    case SK_TRACE_STATE:
        if ((r->listener && ev->conn == r->listener) || ev->u.state.to == SK_TCP_LISTEN)
            break;
        r->stack_state[side] = ev->u.state.to;
        /* CLOSE (RFC 9293 §3.10.4) moves the state at once; the FIN may wait behind data. */
        if (ev->u.state.to == SK_TCP_FIN_WAIT_1 || ev->u.state.to == SK_TCP_LAST_ACK)
            r->pending[side] |= SK_TCP_FIN;
        r->stack_known[side] = true;
        if (ev->u.state.to == SK_TCP_CLOSED && r->timer_step && !r->closed_out[side] &&
            ev->u.state.from != SK_TCP_TIME_WAIT)
            r->silent[side] = true;
        break;
    case SK_TRACE_TIMER:
        r->timer_step = true;
        break;
    default:
        break;
    }
}

static void check_states(struct run *r)
{
    if (r->second_conn)
        return;
    for (int side = 0; side < 2; side++) {
        if (r->pending[side] || r->silent[side] || !r->stack_known[side] || !r->obs_known[side])
            continue;
        enum sk_tcp_state st = r->stack_state[side], ob = r->obs_state[side];
        r->checks++;
        if (st == ob || (st == SK_TCP_CLOSED && ob == SK_TCP_TIME_WAIT))
            continue;
        r->mismatches++;
        print_message("t=%llu side %d: stack %s, observer %s\n",
                      (unsigned long long)r->sim.now, side, sk_tcp_state_name(st),
                      sk_tcp_state_name(ob));
    }
}

/* 2001:db8::1 and 2001:db8::2 (RFC 3849) for the IPv6 runs. */
static const uint8_t host6[2][16] = {{0x20, 0x01, 0x0d, 0xb8, [15] = 1},
                                     {0x20, 0x01, 0x0d, 0xb8, [15] = 2}};
static bool use_v6;

/* An IPv6 address of its own, ready at once (no DAD, no link-local). */
static void config6(struct sk_config *cfg, int side)
{
    cfg->ip6 = true;
    memcpy(cfg->addr6[0].addr, host6[side], 16);
    cfg->addr6[0].prefix_len = 64;
    cfg->addr6_count = 1;
    cfg->ip6_dad_transmits = 0;
    cfg->ip6_linklocal = SK_IP6_LL_OFF;
}

static void run_init_buf(struct run *r, uint64_t seed, const struct sk_memlink_faults *f,
                         uint32_t rcvbuf_b)
{
    memset(r, 0, sizeof(*r));
    struct sk_config ca, cb;
    harness_config(&ca, 0);
    harness_config(&cb, 1);
    if (use_v6) {
        config6(&ca, 0);
        config6(&cb, 1);
    }
    if (rcvbuf_b)
        cb.rcvbuf_bytes = rcvbuf_b;
    assert_int_equal(sk_sim_init(&r->sim, &ca, &cb, seed, T0), 0);
    r->sim.trace = on_trace;
    r->sim.trace_ctx = r;
    struct sk_observer_config oc = {.on_segment = on_obs, .user = r};
    r->obs_in = sk_observer_new(&oc);
    struct sk_observer_config oo = {.on_segment = getenv("OBS_DEBUG") ? print_seg : NULL};
    r->obs_out = sk_observer_new(&oo);
    assert_non_null(r->obs_in);
    assert_non_null(r->obs_out);
    for (int side = 0; side < 2; side++) {
        struct sk_memlink_faults g = f ? *f : (struct sk_memlink_faults){0};
        g.delay_us = LINK_DELAY;
        sk_memlink_set_faults(r->sim.link, side, &g);
    }
}

static void run_init(struct run *r, uint64_t seed, const struct sk_memlink_faults *f)
{
    run_init_buf(r, seed, f, 0);
}

static void run_free(struct run *r)
{
    sk_observer_free(r->obs_in);
    sk_observer_free(r->obs_out);
    sk_sim_destroy(&r->sim);
}

/* One simulator step and the comparison after it. */
static bool step(struct run *r, sk_time_us limit)
{
    r->timer_step = false;
    r->closed_out[0] = r->closed_out[1] = false;
    bool more = sk_sim_step(&r->sim, limit);
    check_states(r);
    return more;
}

static void connect_a(struct run *r, bool listen)
{
    if (listen)
        assert_int_equal(sk_tcp_listen(r->sim.stack[1], PORT, 16, &r->listener), 0);
    if (use_v6) {
        struct sk_addr b;
        memcpy(b.b, host6[1], 16);
        assert_int_equal(sk_tcp_connect_addr(r->sim.stack[0], 0, &b, PORT, NULL, &r->conn[0]),
                         0);
    } else {
        assert_int_equal(sk_tcp_connect(r->sim.stack[0], 0, ADDR_B, PORT, &r->conn[0]), 0);
    }
    r->port_a = info(r->conn[0]).lport;
    check_states(r);
}

static uint64_t retransmits(struct sk_stack *st)
{
    struct sk_stack_counters c;
    sk_stack_counters(st, &c);
    return c.tcp_retransmits;
}

/* The stacks' retransmissions against the sending-side observer's. */
static void check_retransmits(struct run *r, bool exact)
{
    struct sk_obs_conn_info ci;
    assert_int_equal(sk_observer_conn_info(r->obs_out, 1, &ci), 0);
    int a = ci.port[0] == r->port_a ? 0 : 1;
    for (int side = 0; side < 2; side++) {
        uint64_t seen = ci.retransmits[side == 0 ? a : !a];
        uint64_t own = retransmits(r->sim.stack[side]);
        if (seen != own)
            print_message("side %d: observer %llu retransmissions, stack %llu\n", side,
                          (unsigned long long)seen, (unsigned long long)own);
        if (exact)
            assert_int_equal(seen, own);
        else
            assert_true(seen >= own);
    }
}

/* ---- Echo: A sends n bytes, B echoes them, A closes after reading them all, B follows ---- */

struct echo {
    size_t n, sent, echoed_in, got_back;
    bool a_shut, b_closed, a_closed;
};

static void echo_app(struct run *r, struct echo *e)
{
    static uint8_t buf[65536];
    struct sk_tcp *a = r->conn[0];
    if (!r->conn[1] && r->listener)
        sk_tcp_accept(r->listener, &r->conn[1]);
    while (e->sent < e->n) {
        size_t k = e->n - e->sent < sizeof(buf) ? e->n - e->sent : sizeof(buf);
        memset(buf, (int)(e->sent & 0xff), k);
        ssize_t w = sk_tcp_send(a, buf, k);
        if (w <= 0)
            break;
        e->sent += (size_t)w;
    }
    struct sk_tcp *b = r->conn[1];
    if (b && !e->b_closed) {
        ssize_t got;
        while ((got = sk_tcp_recv(b, buf, sizeof(buf))) > 0) {
            e->echoed_in += (size_t)got;
            assert_int_equal(sk_tcp_send(b, buf, (size_t)got), got);
        }
        if (got == 0) {
            sk_tcp_close(b);
            e->b_closed = true;
        }
    }
    ssize_t got;
    while (!e->a_closed && (got = sk_tcp_recv(a, buf, sizeof(buf))) > 0)
        e->got_back += (size_t)got;
    if (e->got_back == e->n && !e->a_shut) {
        assert_int_equal(sk_tcp_shutdown(a), 0);
        e->a_shut = true;
    }
}

static void run_echo(uint64_t seed, const struct sk_memlink_faults *f, size_t n)
{
    struct run r;
    struct echo e = {.n = n};
    run_init(&r, seed, f);
    /* B's socket buffer: room for the whole echo, so that a slow drain never stalls it. */
    connect_a(&r, true);
    sk_time_us end = T0 + STEP_LIMIT;
    while (r.sim.now < end) {
        echo_app(&r, &e);
        if (!step(&r, end))
            break;
    }
    assert_int_equal(e.got_back, n);
    assert_true(r.checks > 20);
    assert_int_equal(r.mismatches, 0);
    struct sk_obs_conn_info ci;
    assert_int_equal(sk_observer_conn_info(r.obs_in, 1, &ci), 0);
    assert_int_equal(ci.end, SK_OBS_END_CLOSED);
    assert_int_equal(sk_addr_is_v4(&ci.addr[0]), !use_v6);
    assert_int_equal(ci.bytes[0], n);
    assert_int_equal(ci.bytes[1], n);
    check_retransmits(&r, f == NULL || f->loss == 0);
    sk_tcp_close(r.conn[0]);
    sk_tcp_close(r.listener);
    run_free(&r);
}

static void test_echo_clean(void **state)
{
    (void)state;
    run_echo(1, NULL, 100000);
}

static void test_echo_faults(void **state)
{
    (void)state;
    struct sk_memlink_faults f = {.loss = 0.03, .dup = 0.02, .reorder = 0.03,
                                  .reorder_us = 3000};
    uint64_t only = getenv("OBS_SEED") ? strtoull(getenv("OBS_SEED"), NULL, 0) : 0;
    for (uint64_t seed = 1; seed <= 8; seed++) {
        if (only && seed != only)
            continue;
        print_message("seed %llu\n", (unsigned long long)seed);
        run_echo(seed, &f, 60000);
    }
}

/* The same over IPv6: the observer walks the real frames' IPv6 headers. */
static void test_echo_faults_ipv6(void **state)
{
    (void)state;
    struct sk_memlink_faults f = {.loss = 0.03, .dup = 0.02, .reorder = 0.03,
                                  .reorder_us = 3000};
    use_v6 = true;
    for (uint64_t seed = 11; seed <= 13; seed++)
        run_echo(seed, &f, 60000);
    use_v6 = false;
}

/* One data segment of A's lost (the third frame A sends with ACK alone): exactly one retransmission
 * on each count. */
static void test_single_loss(void **state)
{
    (void)state;
    struct run r;
    struct echo e = {.n = 30000};
    run_init(&r, 7, NULL);
    struct sk_memlink_rule rule = {.from_side = 0, .tcp_flags_mask = 0xff,
                                   .tcp_flags_value = SK_TCP_ACK, .nth = 3,
                                   .action = SK_MEMLINK_DROP};
    assert_int_equal(sk_memlink_add_rule(r.sim.link, &rule), 0);
    connect_a(&r, true);
    sk_time_us end = T0 + STEP_LIMIT;
    while (r.sim.now < end) {
        echo_app(&r, &e);
        if (!step(&r, end))
            break;
    }
    assert_int_equal(e.got_back, e.n);
    assert_int_equal(r.mismatches, 0);
    assert_true(retransmits(r.sim.stack[0]) >= 1);
    check_retransmits(&r, true);
    sk_tcp_close(r.conn[0]);
    sk_tcp_close(r.listener);
    run_free(&r);
}

/* A aborts after some data: RST, both CLOSED, reset by A (side 0). */
static void test_abort(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        struct run r;
        struct sk_memlink_faults f = {.dup = 0.05, .reorder = 0.05, .reorder_us = 2000};
        run_init(&r, seed, &f);
        connect_a(&r, true);
        struct echo e = {.n = 5000};
        sk_time_us end = T0 + SEC(5);
        while (r.sim.now < end && e.got_back < e.n) {
            echo_app(&r, &e);
            if (!step(&r, end))
                break;
        }
        assert_int_equal(e.got_back, e.n);
        sk_tcp_abort(r.conn[0]);
        check_states(&r);
        while (step(&r, end))
            ;
        assert_int_equal(r.mismatches, 0);
        assert_int_equal(r.stack_state[1], SK_TCP_CLOSED);
        assert_int_equal(r.obs_state[1], SK_TCP_CLOSED);
        struct sk_obs_conn_info ci;
        assert_int_equal(sk_observer_conn_info(r.obs_in, 1, &ci), 0);
        assert_int_equal(ci.end, SK_OBS_END_RESET);
        assert_int_equal(ci.reset_by, 0);
        if (r.conn[1])
            sk_tcp_close(r.conn[1]);
        sk_tcp_close(r.listener);
        run_free(&r);
    }
}

/* Nobody listens: the SYN is answered by a RST (RFC 9293 §3.10.7.1). */
static void test_refused(void **state)
{
    (void)state;
    struct run r;
    run_init(&r, 3, NULL);
    connect_a(&r, false);
    while (step(&r, T0 + SEC(5)))
        ;
    assert_int_equal(r.mismatches, 0);
    assert_true(r.checks >= 2);
    assert_int_equal(r.stack_state[0], SK_TCP_CLOSED);
    struct sk_obs_conn_info ci;
    assert_int_equal(sk_observer_conn_info(r.obs_in, 1, &ci), 0);
    assert_int_equal(ci.end, SK_OBS_END_REFUSED);
    assert_int_equal(ci.state[0], SK_TCP_CLOSED);
    assert_int_equal(ci.state[1], SK_TCP_CLOSED);
    sk_tcp_close(r.conn[0]);
    run_free(&r);
}

/* B reads nothing for 3 s with a small receive buffer: its window closes, A probes it, then B
 * drains everything and the transfer ends. */
static void test_slow_reader(void **state)
{
    (void)state;
    struct run r;
    run_init_buf(&r, 5, NULL, 4096);
    connect_a(&r, true);
    static uint8_t buf[8192];
    size_t n = 40000, sent = 0, got = 0;
    bool shut = false, b_closed = false;
    sk_time_us end = T0 + SEC(60), read_from = T0 + SEC(3);
    while (r.sim.now < end) {
        if (!r.conn[1])
            sk_tcp_accept(r.listener, &r.conn[1]);
        while (sent < n) {
            ssize_t w = sk_tcp_send(r.conn[0], buf, n - sent < sizeof(buf) ? n - sent
                                                                           : sizeof(buf));
            if (w <= 0)
                break;
            sent += (size_t)w;
        }
        if (sent == n && !shut) {
            sk_tcp_shutdown(r.conn[0]);
            shut = true;
        }
        if (r.conn[1] && r.sim.now >= read_from && !b_closed) {
            ssize_t k;
            while ((k = sk_tcp_recv(r.conn[1], buf, sizeof(buf))) > 0)
                got += (size_t)k;
            if (k == 0) {
                sk_tcp_close(r.conn[1]);
                b_closed = true;
            }
        }
        if (!step(&r, r.sim.now < read_from ? read_from : end))
            if (r.sim.now >= end)
                break;
    }
    assert_int_equal(got, n);
    assert_int_equal(r.mismatches, 0);
    struct sk_obs_conn_info ci;
    assert_int_equal(sk_observer_conn_info(r.obs_in, 1, &ci), 0);
    assert_int_equal(ci.bytes[0], n);
    assert_int_equal(ci.end, SK_OBS_END_CLOSED);
    /* B's 4096-byte buffer filled and stayed full for 3 s: its window closed, A probed it (RFC
     * 9293 §3.8.6.1), and it opened again when B read. */
    assert_true(r.notes[SK_OBS_ZERO_WINDOW] >= 1);
    assert_true(r.notes[SK_OBS_WINDOW_PROBE] >= 1);
    assert_true(r.notes[SK_OBS_WINDOW_OPEN] >= 1);
    sk_tcp_close(r.conn[0]);
    sk_tcp_close(r.listener);
    run_free(&r);
}

/* Runs until the handshake is done on both sides (A ESTABLISHED, B's child accepted). */
static void establish(struct run *r, sk_time_us end)
{
    while (r->sim.now < end) {
        if (!r->conn[1])
            sk_tcp_accept(r->listener, &r->conn[1]);
        if (r->conn[1] && sk_tcp_get_state(r->conn[0]) == SK_TCP_ESTABLISHED)
            return;
        if (!step(r, end))
            break;
    }
    fail_msg("no handshake");
}

/* Both close at the same moment: the FINs cross, each side goes FIN-WAIT-1 -> CLOSING ->
 * TIME-WAIT (RFC 9293 §3.6 Figure 13), and the observer infers the same at every step. */
static void test_simultaneous_close(void **state)
{
    (void)state;
    struct run r;
    run_init(&r, 9, NULL);
    connect_a(&r, true);
    establish(&r, T0 + SEC(5));
    while (step(&r, r.sim.now + MS(100)))
        ;
    assert_int_equal(sk_tcp_shutdown(r.conn[0]), 0);
    assert_int_equal(sk_tcp_shutdown(r.conn[1]), 0);
    check_states(&r);
    sk_time_us end = r.sim.now + SEC(1);
    while (step(&r, end))
        ;
    assert_int_equal(r.mismatches, 0);
    assert_int_equal(r.notes[SK_OBS_SIMULTANEOUS_CLOSE], 1);
    assert_int_equal(r.stack_state[0], SK_TCP_TIME_WAIT);
    assert_int_equal(r.stack_state[1], SK_TCP_TIME_WAIT);
    assert_int_equal(r.obs_state[0], SK_TCP_TIME_WAIT);
    assert_int_equal(r.obs_state[1], SK_TCP_TIME_WAIT);
    sk_tcp_close(r.conn[0]);
    sk_tcp_close(r.conn[1]);
    sk_tcp_close(r.listener);
    run_free(&r);
}

/* An idle connection with keep-alive on A (RFC 9293 §3.8.4): probes and their answers are
 * noted, no retransmission is counted on either side, the states stay ESTABLISHED. */
static void test_keepalive(void **state)
{
    (void)state;
    struct run r;
    run_init(&r, 4, NULL);
    connect_a(&r, true);
    establish(&r, T0 + SEC(5));
    sk_tcp_set_keepalive(r.conn[0], true, SEC(10), 1000000, 5);
    sk_time_us end = r.sim.now + SEC(35);
    while (step(&r, end))
        ;
    assert_int_equal(r.mismatches, 0);
    assert_true(r.notes[SK_OBS_KEEPALIVE] >= 2);
    assert_int_equal(r.notes[SK_OBS_KEEPALIVE_ACK], r.notes[SK_OBS_KEEPALIVE]);
    assert_int_equal(r.notes[SK_OBS_DUP_ACK], 0);
    assert_int_equal(r.obs_state[0], SK_TCP_ESTABLISHED);
    assert_int_equal(r.obs_state[1], SK_TCP_ESTABLISHED);
    check_retransmits(&r, true);
    sk_tcp_close(r.conn[0]);
    sk_tcp_close(r.conn[1]);
    sk_tcp_close(r.listener);
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_echo_clean),  cmocka_unit_test(test_echo_faults),
        cmocka_unit_test(test_echo_faults_ipv6),
        cmocka_unit_test(test_single_loss), cmocka_unit_test(test_abort),
        cmocka_unit_test(test_refused),     cmocka_unit_test(test_slow_reader),
        cmocka_unit_test(test_simultaneous_close), cmocka_unit_test(test_keepalive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
