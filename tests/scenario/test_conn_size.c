/* Memory per connection (issue 12): the bytes the stack holds for one connection in each
 * state, weighed through sk_config.alloc (a hook that records every live allocation and its
 * size), never read from the stack's own counters. N connections are opened in a state and
 * the stack's bytes are compared with what it held before, so fixed costs (tables, the timer
 * heap's growth) spread over N. Prints one line per state, "conn_bytes STATE N", for the
 * bench, and asserts the goal an idle established connection under 1 KiB in all (and after a
 * 10 KB echo, read to the end: its rings released); the TCB's sizeof is printed beside lwIP's
 * 216-byte tcp_pcb (test_tcb_size).
 *
 * Also: the counter buffer_bytes equals the bytes the hook saw allocated for the rings it
 * names (each ring's pointer looked up in the hook's table), and a bulk transfer allocates a
 * bounded number of times per megabyte (rings grow and are released, but not per segment). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "internal.h"

#define N 1000
#define PORT 80

/* ---- The metering allocator: live allocations in an open-addressed table. ---- */
struct live {
    void *p;
    size_t size;
};
struct meter {
    struct live *tab;
    size_t cap;         /* power of two */
    int64_t bytes;      /* live bytes */
    uint64_t allocs;    /* calls that allocated (or grew) */
    size_t fail_size;   /* new allocations of exactly this size are refused (0: none) */
    uint64_t refused;
};

static size_t slot_of(const struct meter *m, const void *p)
{
    size_t h = ((uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ull;
    return (h >> 20) & (m->cap - 1);
}

static void meter_put(struct meter *m, void *p, size_t size)
{
    size_t i = slot_of(m, p);
    while (m->tab[i].p != NULL)
        i = (i + 1) & (m->cap - 1);
    m->tab[i].p = p;
    m->tab[i].size = size;
}

static size_t meter_take(struct meter *m, void *p)
{
    size_t i = slot_of(m, p);
    while (m->tab[i].p != p) {
        assert_non_null(m->tab[i].p); /* freed something never allocated */
        i = (i + 1) & (m->cap - 1);
    }
    size_t size = m->tab[i].size;
    m->tab[i].p = NULL;
    /* Backward-shift deletion keeps every probe chain unbroken. */
    size_t j = i;
    for (;;) {
        j = (j + 1) & (m->cap - 1);
        if (m->tab[j].p == NULL)
            break;
        size_t k = slot_of(m, m->tab[j].p);
        if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
            m->tab[i] = m->tab[j];
            m->tab[j].p = NULL;
            i = j;
        }
    }
    return size;
}

static size_t meter_size_of(const struct meter *m, const void *p)
{
    size_t i = slot_of(m, p);
    while (m->tab[i].p != p) {
        assert_non_null(m->tab[i].p);
        i = (i + 1) & (m->cap - 1);
    }
    return m->tab[i].size;
}

static void *meter_alloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
    struct meter *m = ctx;
    (void)old_size; /* the stack's word; the table's is the one believed */
    if (ptr == NULL && new_size != 0 && new_size == m->fail_size) {
        m->refused++;
        return NULL;
    }
    if (ptr) {
        m->bytes -= (int64_t)meter_take(m, ptr);
    }
    if (new_size == 0) {
        free(ptr);
        return NULL;
    }
    void *p = realloc(ptr, new_size);
    assert_non_null(p);
    meter_put(m, p, new_size);
    m->bytes += (int64_t)new_size;
    m->allocs++;
    return p;
}

static void meter_init(struct meter *m)
{
    memset(m, 0, sizeof(*m));
    m->cap = 1u << 18;
    m->tab = calloc(m->cap, sizeof(*m->tab));
    assert_non_null(m->tab);
}

/* ---- Pairs weighed on both sides. ---- */
struct weighed {
    struct meter ma, mb;
    struct pair *p;
};

static struct weighed *weighed_new(void)
{
    struct weighed *w = calloc(1, sizeof(*w));
    assert_non_null(w);
    meter_init(&w->ma);
    meter_init(&w->mb);
    struct sk_config a, b;
    harness_config(&a, 0);
    harness_config(&b, 1);
    a.alloc = meter_alloc;
    a.alloc_ctx = &w->ma;
    b.alloc = meter_alloc;
    b.alloc_ctx = &w->mb;
    a.max_connections = b.max_connections = 4 * N;
    b.max_syn_backlog = b.max_half_open = 2 * N;
    w->p = pair_new(&a, &b);
    return w;
}

static void weighed_free(struct weighed *w)
{
    pair_free(w->p);
    assert_int_equal(w->ma.bytes, 0); /* everything the stack took it gave back */
    assert_int_equal(w->mb.bytes, 0);
    free(w->ma.tab);
    free(w->mb.tab);
    free(w);
}

static uint64_t per_conn(int64_t now, int64_t base)
{
    assert_true(now >= base);
    return (uint64_t)((now - base + N / 2) / N);
}

static void report(const char *state, uint64_t bytes)
{
    printf("conn_bytes %s %llu\n", state, (unsigned long long)bytes);
}

/* The counter buffer_bytes is the sum of the ring sizes the hook recorded. */
static void expect_buffer_bytes_exact(struct sk_stack *st, struct meter *m, struct sk_tcp **c,
                                      size_t n)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (c[i] == NULL)
            continue;
        if (c[i]->snd.buf)
            sum += meter_size_of(m, c[i]->snd.buf);
        if (c[i]->rcv.buf)
            sum += meter_size_of(m, c[i]->rcv.buf);
    }
    assert_int_equal(counters(st).buffer_bytes, sum);
}

/* Issue 12's goal is a TCB under lwIP's 216-byte tcp_pcb. Not met: the core TCB that every
 * connection holds is about 500 bytes since the split into core and extension (struct
 * sk_tcp_ext, allocated at synchronization; docs/performance.md, "Memory per connection", says
 * where the rest goes and what stands before 216). Until then this holds the line where it
 * is, with room for a field or two, and prints the goal's status for the bench. */
#define LWIP_TCP_PCB 216
#define TCB_CEILING 512
static void test_tcb_size(void **state)
{
    (void)state;
    printf("conn_bytes TCB %zu\n", sizeof(struct sk_tcp));
    printf("conn_tcb_goal %s (%zu vs %d)\n", sizeof(struct sk_tcp) < LWIP_TCP_PCB ? "met" : "not-met",
           sizeof(struct sk_tcp), LWIP_TCP_PCB);
    assert_true(sizeof(struct sk_tcp) <= TCB_CEILING);
}

static void test_listen(void **state)
{
    (void)state;
    struct weighed *w = weighed_new();
    int64_t base = w->mb.bytes;
    static struct sk_tcp *l[N];
    for (int i = 0; i < N; i++)
        assert_int_equal(sk_tcp_listen(w->p->b, (uint16_t)(1000 + i), 16, &l[i]), 0);
    report("LISTEN", per_conn(w->mb.bytes, base));
    weighed_free(w);
}

static void test_syn_sent(void **state)
{
    (void)state;
    struct weighed *w = weighed_new();
    pair_drop(w->p, A_TO_B, SYN | ACK, SYN, 0); /* no SYN arrives: A stays in SYN-SENT */
    int64_t base = w->ma.bytes;
    static struct sk_tcp *c[N];
    for (int i = 0; i < N; i++)
        assert_int_equal(sk_tcp_connect(w->p->a, 0, ADDR_B, PORT, &c[i]), 0);
    pair_run_for(w->p, MS(1));
    for (int i = 0; i < N; i++)
        expect_state(c[i], SK_TCP_SYN_SENT);
    report("SYN-SENT", per_conn(w->ma.bytes, base));
    weighed_free(w);
}

static void test_syn_received(void **state)
{
    (void)state;
    struct weighed *w = weighed_new();
    struct sk_tcp *l;
    assert_int_equal(sk_tcp_listen(w->p->b, PORT, 2 * N, &l), 0);
    /* The handshake's last ACK is lost: B's children stay half-open. */
    pair_drop(w->p, A_TO_B, SYN | ACK | FIN | RST, ACK, 0);
    int64_t base = w->mb.bytes;
    static struct sk_tcp *c[N];
    for (int i = 0; i < N; i++)
        assert_int_equal(sk_tcp_connect(w->p->a, 0, ADDR_B, PORT, &c[i]), 0);
    pair_run_for(w->p, 3 * LINK_DELAY);
    assert_int_equal(counters(w->p->b).tcp_syncookies_sent, 0); /* real children, no cookies */
    assert_int_equal(counters(w->p->b).connections, N + 1);
    report("SYN-RECEIVED", per_conn(w->mb.bytes, base));
    weighed_free(w);
}

/* N connections from A to B's one listener, all accepted. */
static void open_n(struct weighed *w, struct sk_tcp **ca, struct sk_tcp **cb)
{
    struct sk_tcp *l;
    assert_int_equal(sk_tcp_listen(w->p->b, PORT, 2 * N, &l), 0);
    for (int i = 0; i < N; i++)
        assert_int_equal(sk_tcp_connect(w->p->a, 0, ADDR_B, PORT, &ca[i]), 0);
    pair_run_for(w->p, 4 * LINK_DELAY);
    for (int i = 0; i < N; i++) {
        assert_int_equal(sk_tcp_accept(l, &cb[i]), 0);
        expect_state(ca[i], SK_TCP_ESTABLISHED);
    }
}

static void read_all(struct sk_tcp *c, size_t want)
{
    static uint8_t buf[16384];
    size_t got = 0;
    ssize_t n;
    while ((n = sk_tcp_recv(c, buf, sizeof(buf))) > 0)
        got += (size_t)n;
    assert_int_equal(got, want);
}

/* Established, idle; after a 10 KB echo (the 10k-clients pattern, read to the end); then
 * each close path's states. */
static void test_established_and_closing(void **state)
{
    (void)state;
    struct weighed *w = weighed_new();
    int64_t base_a = w->ma.bytes, base_b = w->mb.bytes;
    static struct sk_tcp *ca[N], *cb[N];
    open_n(w, ca, cb);
    pair_run_for(w->p, SEC(1));
    uint64_t est_a = per_conn(w->ma.bytes, base_a), est_b = per_conn(w->mb.bytes, base_b);
    report("ESTABLISHED", est_a > est_b ? est_a : est_b);
    bool idle_small = est_a < 1024 && est_b < 1024; /* asserted at the end, after the table */

    /* 10 KB each way, every byte read. */
    static uint8_t msg[10000];
    memset(msg, 'x', sizeof(msg));
    for (int i = 0; i < N; i++)
        assert_int_equal(sk_tcp_send(ca[i], msg, sizeof(msg)), sizeof(msg));
    /* Sized to use (stack.h): 4 KiB doubled until 10,000 bytes fit, 16 KiB, not the 64 KiB
     * configured. */
    assert_int_equal(counters(w->p->a).buffer_bytes, (uint64_t)N * 16384);
    expect_buffer_bytes_exact(w->p->a, &w->ma, ca, N);
    pair_run_for(w->p, MS(500));
    for (int i = 0; i < N; i++) {
        read_all(cb[i], sizeof(msg));
        assert_int_equal(sk_tcp_send(cb[i], msg, sizeof(msg)), sizeof(msg));
    }
    pair_run_for(w->p, MS(500));
    for (int i = 0; i < N; i++)
        read_all(ca[i], sizeof(msg));
    expect_buffer_bytes_exact(w->p->a, &w->ma, ca, N);
    expect_buffer_bytes_exact(w->p->b, &w->mb, cb, N);
    pair_run_for(w->p, SEC(1));
    expect_buffer_bytes_exact(w->p->a, &w->ma, ca, N);
    expect_buffer_bytes_exact(w->p->b, &w->mb, cb, N);
    est_a = per_conn(w->ma.bytes, base_a);
    est_b = per_conn(w->mb.bytes, base_b);
    report("ESTABLISHED-after-transfer", est_a > est_b ? est_a : est_b);
    /* Rings released once read and acknowledged. */
    bool after_small = est_a < 1024 && est_b < 1024;

    /* A closes: A in FIN-WAIT-2, B in CLOSE-WAIT. */
    for (int i = 0; i < N; i++)
        sk_tcp_close(ca[i]);
    pair_run_for(w->p, 3 * LINK_DELAY);
    for (int i = 0; i < N; i++)
        expect_state(cb[i], SK_TCP_CLOSE_WAIT);
    report("FIN-WAIT-2", per_conn(w->ma.bytes, base_a));
    report("CLOSE-WAIT", per_conn(w->mb.bytes, base_b));

    /* B closes: A's connections become TIME-WAIT records, B's end. */
    for (int i = 0; i < N; i++)
        sk_tcp_close(cb[i]);
    pair_run_for(w->p, 3 * LINK_DELAY);
    assert_int_equal(counters(w->p->a).timewait_records, N);
    assert_int_equal(counters(w->p->a).connections, 0);
    report("TIME-WAIT", per_conn(w->ma.bytes, base_a));
    weighed_free(w);
    assert_true(idle_small);
    assert_true(after_small);
}

/* 16 MB one way, the reader reading whatever arrives at every step: the allocations it costs
 * per megabyte stay few (the rings are not allocated and freed per segment). */
static void test_bulk_allocations_bounded(void **state)
{
    (void)state;
    struct weighed *w = weighed_new();
    struct sk_tcp *ca, *lb, *cb;
    pair_establish(w->p, PORT, &ca, &lb, &cb);
    enum { TOTAL = 16 << 20 };
    static uint8_t chunk[32768], in[32768];
    memset(chunk, 'b', sizeof(chunk));
    uint64_t allocs0 = w->ma.allocs + w->mb.allocs;
    size_t sent = 0, got = 0;
    sk_time_us limit = pair_now(w->p) + SEC(600);
    while (got < TOTAL && pair_now(w->p) < limit) {
        while (sent < TOTAL) {
            size_t want = TOTAL - sent < sizeof(chunk) ? TOTAL - sent : sizeof(chunk);
            ssize_t n = sk_tcp_send(ca, chunk, want);
            if (n <= 0)
                break;
            sent += (size_t)n;
        }
        ssize_t n;
        while ((n = sk_tcp_recv(cb, in, sizeof(in))) > 0)
            got += (size_t)n;
        if (!pair_step(w->p, limit))
            break;
    }
    assert_int_equal(got, TOTAL);
    uint64_t allocs = w->ma.allocs + w->mb.allocs - allocs0;
    printf("conn_allocs_per_MB %.2f\n", (double)allocs / (TOTAL >> 20));
    assert_true(allocs <= 4 * (TOTAL >> 20));
    expect_buffer_bytes_exact(w->p->a, &w->ma, &ca, 1);
    expect_buffer_bytes_exact(w->p->b, &w->mb, &cb, 1);
    weighed_free(w);
}

/* 256 KB from A to B with the third data segment lost once; every byte checked. */
static void transfer_with_one_loss(struct weighed *w)
{
    struct sk_tcp *ca, *lb, *cb;
    pair_establish(w->p, PORT, &ca, &lb, &cb);
    pair_drop(w->p, A_TO_B, SYN | FIN | RST, 0, 3);
    enum { TOTAL = 256 * 1024 };
    static uint8_t out[TOTAL], in[8192];
    for (size_t i = 0; i < TOTAL; i++)
        out[i] = (uint8_t)(i * 7 + (i >> 9));
    size_t sent = 0, got = 0;
    sk_time_us limit = pair_now(w->p) + SEC(120);
    while (got < TOTAL && pair_now(w->p) < limit) {
        ssize_t n;
        if (sent < TOTAL && (n = sk_tcp_send(ca, out + sent, TOTAL - sent)) > 0)
            sent += (size_t)n;
        while ((n = sk_tcp_recv(cb, in, sizeof(in))) > 0) {
            assert_memory_equal(in, out + got, (size_t)n);
            got += (size_t)n;
        }
        if (!pair_step(w->p, limit))
            break;
    }
    assert_int_equal(got, TOTAL);
}

/* The out-of-order set's storage (16 ranges of two 32-bit edges, allocated at the first hole)
 * refused: the segments above the hole are dropped and counted as when the set is full
 * (tcp-out-of-order-full), and come again by retransmission; nothing is lost. */
static void test_ooo_storage_refused_is_a_counted_drop(void **state)
{
    (void)state;
    struct weighed *w = weighed_new();
    w->mb.fail_size = 16 * 8;
    transfer_with_one_loss(w);
    assert_true(w->mb.refused > 0);
    assert_true(drops(w->p->b, SK_DROP_TCP_OUT_OF_ORDER) > 0);
    assert_int_equal(counters(w->p->b).alloc_failures, w->mb.refused);
    weighed_free(w);
}

/* The SACK scoreboard's storage (32 ranges, allocated at the first SACK block) refused: the
 * blocks are not taken, counted in tcp_sack_sb_full as when it is full; nothing is lost. */
static void test_scoreboard_storage_refused_is_counted(void **state)
{
    (void)state;
    struct weighed *w = weighed_new();
    w->ma.fail_size = 32 * 8;
    transfer_with_one_loss(w);
    assert_true(w->ma.refused > 0);
    assert_true(counters(w->p->a).tcp_sack_sb_full > 0);
    assert_int_equal(counters(w->p->a).alloc_failures, w->ma.refused);
    assert_int_equal(drops(w->p->b, SK_DROP_TCP_OUT_OF_ORDER), 0);
    weighed_free(w);
}

/* The extension record (struct sk_tcp_ext, the sender's and receiver's state beyond the core
 * TCB) refused where the handshake completes on the passive side: the ACK is dropped and
 * counted (tcp-no-memory), the child stays SYN-RECEIVED, and the peer's next segment (its
 * first data, which carries the ACK again) completes it once memory is there; nothing is
 * lost. */
static void test_ext_refused_passive_is_a_counted_drop(void **state)
{
    (void)state;
    struct weighed *w = weighed_new();
    struct sk_tcp *l, *ca, *cb;
    assert_int_equal(sk_tcp_listen(w->p->b, PORT, 16, &l), 0);
    w->mb.fail_size = sizeof(struct sk_tcp_ext);
    assert_int_equal(sk_tcp_connect(w->p->a, 0, ADDR_B, PORT, &ca), 0);
    pair_run_for(w->p, 3 * LINK_DELAY);
    expect_state(ca, SK_TCP_ESTABLISHED);
    assert_true(w->mb.refused > 0);
    assert_true(drops(w->p->b, SK_DROP_TCP_NO_MEMORY) > 0);
    assert_int_equal(counters(w->p->b).alloc_failures, w->mb.refused);
    assert_int_equal(sk_tcp_accept(l, &cb), -EAGAIN); /* still half-open */
    w->mb.fail_size = 0;
    static const char msg[] = "after the refusal";
    assert_int_equal(sk_tcp_send(ca, msg, sizeof(msg)), sizeof(msg));
    pair_run_for(w->p, 3 * LINK_DELAY);
    assert_int_equal(sk_tcp_accept(l, &cb), 0);
    expect_state(cb, SK_TCP_ESTABLISHED);
    char in[64];
    assert_int_equal(sk_tcp_recv(cb, in, sizeof(in)), sizeof(msg));
    assert_memory_equal(in, msg, sizeof(msg));
    weighed_free(w);
}

/* The same on the active side: the SYN-ACK is dropped and counted, the connection stays in
 * SYN-SENT, and the peer's retransmitted SYN-ACK completes it once memory is there. */
static void test_ext_refused_active_is_a_counted_drop(void **state)
{
    (void)state;
    struct weighed *w = weighed_new();
    struct sk_tcp *l, *ca, *cb;
    assert_int_equal(sk_tcp_listen(w->p->b, PORT, 16, &l), 0);
    w->ma.fail_size = sizeof(struct sk_tcp_ext);
    assert_int_equal(sk_tcp_connect(w->p->a, 0, ADDR_B, PORT, &ca), 0);
    pair_run_for(w->p, 3 * LINK_DELAY);
    expect_state(ca, SK_TCP_SYN_SENT);
    assert_true(w->ma.refused > 0);
    assert_true(drops(w->p->a, SK_DROP_TCP_NO_MEMORY) > 0);
    assert_int_equal(counters(w->p->a).alloc_failures, w->ma.refused);
    w->ma.fail_size = 0;
    pair_run_for(w->p, SEC(5)); /* B's SYN-ACK again after its RTO (RFC 6298 §2.1: 1 s) */
    expect_state(ca, SK_TCP_ESTABLISHED);
    assert_int_equal(sk_tcp_accept(l, &cb), 0);
    static const char msg[] = "after the refusal";
    assert_int_equal(sk_tcp_send(ca, msg, sizeof(msg)), sizeof(msg));
    pair_run_for(w->p, 3 * LINK_DELAY);
    char in[64];
    assert_int_equal(sk_tcp_recv(cb, in, sizeof(in)), sizeof(msg));
    assert_memory_equal(in, msg, sizeof(msg));
    weighed_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcb_size),
        cmocka_unit_test(test_listen),
        cmocka_unit_test(test_syn_sent),
        cmocka_unit_test(test_syn_received),
        cmocka_unit_test(test_established_and_closing),
        cmocka_unit_test(test_bulk_allocations_bounded),
        cmocka_unit_test(test_ooo_storage_refused_is_a_counted_drop),
        cmocka_unit_test(test_scoreboard_storage_refused_is_counted),
        cmocka_unit_test(test_ext_refused_passive_is_a_counted_drop),
        cmocka_unit_test(test_ext_refused_active_is_a_counted_drop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
