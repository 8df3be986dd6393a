/* Secrets nobody can guess (issue 10): the stack runs only on key material it is given, derives
 * one independent key per purpose, puts on the wire only values of a keyed generator, keeps its
 * timestamp clock per address pair (RFC 7323 §5.4) and picks ephemeral ports with one RFC 6056
 * picker whose every candidate costs a fixed number of table lookups.
 *
 * Expected values come from tests/ref/ref_isn.h: SipHash-2-4 from its paper and the key
 * derivation, ISN, timestamp offset and generator written again from their documentation. */
#include <arpa/inet.h>
#include <string.h>

#include "../ref/ref_raw.h"
#include "internal.h"
#include "synack/socket.h"
#include "synack/udp.h"

static void no_output(void *ctx, const uint8_t *frame, size_t len,
                       const struct sk_frame_meta *meta)
{
    (void)meta;
    (void)ctx;
    (void)frame;
    (void)len;
}

/* ---------------- no secret, no stack ---------------- */

/* sk_config_default sets no key; sk_stack_new refuses with -ENOKEY instead of running on a
 * key every such stack would share. A secret of the wrong size is refused where it is set. */
static void test_stack_new_refuses_without_secret(void **state)
{
    (void)state;
    struct sk_config cfg;
    sk_config_default(&cfg);
    cfg.addr = ADDR_A;
    cfg.prefix_len = 24;
    cfg.output = no_output;
    assert_int_equal(cfg.secret_source, SK_SECRET_NONE);
    int err = 0;
    assert_null(sk_stack_new(&cfg, T0, &err));
    assert_int_equal(err, -ENOKEY);
    uint8_t short_key[16] = {1};
    assert_int_equal(sk_config_set_secret(&cfg, short_key, sizeof(short_key)), -EINVAL);
    assert_null(sk_stack_new(&cfg, T0, &err));
    assert_int_equal(err, -ENOKEY);
    uint8_t key[SK_SECRET_BYTES] = {1};
    assert_int_equal(sk_config_set_secret(&cfg, key, sizeof(key)), 0);
    struct sk_stack *st = sk_stack_new(&cfg, T0, &err);
    assert_non_null(st);
    assert_int_equal(err, 0);
    /* The stack keeps only derived keys: its configuration, copied, makes no second stack
     * with an all-zero secret. */
    struct sk_config copy = *sk_stack_config(st);
    assert_int_equal(copy.secret_source, SK_SECRET_NONE);
    static const uint8_t zero[SK_SECRET_BYTES];
    assert_memory_equal(copy.secret, zero, sizeof(zero));
    assert_null(sk_stack_new(&copy, T0, &err));
    assert_int_equal(err, -ENOKEY);
    sk_stack_free(st);
}

/* ---------------- keys ---------------- */

static void expect_key(const struct sk_stack *st, const struct ref_key *key, int p)
{
    uint8_t want[16];
    ref_purpose_key(key, p, want);
    const uint64_t *k = sk_key(st, (enum sk_key_purpose)p);
    for (int j = 0; j < 2; j++) {
        uint64_t w = 0;
        for (int i = 7; i >= 0; i--)
            w = (w << 8) | want[8 * j + i];
        if (k[j] != w)
            fail_msg("purpose %d word %d: %016llx, derivation gives %016llx", p, j,
                     (unsigned long long)k[j], (unsigned long long)w);
    }
}

/* Every purpose has the key the documented derivation gives, and no two purposes share one:
 * a key learned for one purpose (a cookie forged by brute force, say) says nothing of another.
 * A test seed stands for its documented 32 bytes. */
static void test_keys_per_purpose_follow_derivation_and_differ(void **state)
{
    (void)state;
    struct ref_key key;
    struct raw *r = ref_raw_new(NULL, &key, 21);
    for (int p = 0; p < SK_KEY_COUNT; p++) {
        expect_key(r->st, &key, p);
        for (int q = 0; q < p; q++) {
            const uint64_t *a = sk_key(r->st, (enum sk_key_purpose)p);
            const uint64_t *b = sk_key(r->st, (enum sk_key_purpose)q);
            assert_false(a[0] == b[0] || a[1] == b[1]);
        }
    }
    raw_free(r);

    struct sk_config cfg;
    harness_config(&cfg, 0); /* sk_config_set_test_seed(0xa11ce) */
    struct ref_key seeded;
    ref_key_from_test_seed(&seeded, 0xa11ce);
    r = raw_new(&cfg);
    for (int p = 0; p < SK_KEY_COUNT; p++)
        expect_key(r->st, &seeded, p);
    raw_free(r);
}

/* sk_random is SipHash-2-4 in counter mode under the RNG key: its output is a PRF of a counter,
 * so the values on the wire (IP IDs, port steps) do not reveal the state, unlike splitmix64,
 * whose every output can be inverted to its state. */
static void test_random_is_keyed_counter_mode(void **state)
{
    (void)state;
    struct ref_key key;
    struct raw *r = ref_raw_new(NULL, &key, 22);
    for (int i = 0; i < 4; i++) {
        uint64_t n = r->st->rng_counter;
        assert_true(sk_random(r->st) == ref_random(&key, n));
    }
    raw_free(r);
}

/* ---------------- timestamps ---------------- */

/* RFC 7323 §5.4: TSval = our millisecond clock + a keyed hash of the address pair; the same for
 * two local ports towards one host, different under another secret. */
static void test_ts_offset_is_keyed_hash_of_address_pair(void **state)
{
    (void)state;
    struct ref_key k1, k2;
    struct raw *r1 = ref_raw_new(NULL, &k1, 23), *r2 = ref_raw_new(NULL, &k2, 24);
    struct sk_tcp *c;
    uint32_t want1 = (uint32_t)(r1->now / 1000) + ref_ts_offset(&k1, ADDR_A, ADDR_B);
    uint32_t want2 = (uint32_t)(r2->now / 1000) + ref_ts_offset(&k2, ADDR_A, ADDR_B);
    assert_true(want1 != want2);
    assert_int_equal(sk_tcp_connect(r1->st, 1111, ADDR_B, RAW_PEER_PORT, &c), 0);
    assert_int_equal(raw_expect(r1, SYN, ref_raw_iss(r1, &k1, 1111, RAW_PEER_PORT), 0)->ts_val,
                     want1);
    assert_int_equal(sk_tcp_connect(r1->st, 2222, ADDR_B, RAW_PEER_PORT, &c), 0);
    assert_int_equal(raw_expect(r1, SYN, ref_raw_iss(r1, &k1, 2222, RAW_PEER_PORT), 0)->ts_val,
                     want1);
    assert_int_equal(sk_tcp_connect(r2->st, 1111, ADDR_B, RAW_PEER_PORT, &c), 0);
    assert_int_equal(raw_expect(r2, SYN, ref_raw_iss(r2, &k2, 1111, RAW_PEER_PORT), 0)->ts_val,
                     want2);
    raw_free(r1);
    raw_free(r2);
}

/* RFC 6191 and PAWS rely on it: a new incarnation of a 4-tuple (here reopened from TIME-WAIT by
 * a SYN, RFC 6191 §2) sends TSvals above every TSval of the old one, from the same clock. */
static void test_tsval_monotonic_across_incarnations(void **state)
{
    (void)state;
    struct ref_key key;
    struct raw *r = ref_raw_new(NULL, &key, 25);
    uint32_t off = ref_ts_offset(&key, ADDR_A, ADDR_B);
    struct sk_tcp *l, *c;
    assert_int_equal(sk_tcp_listen(r->st, RAW_LOCAL_PORT, 4, &l), 0);
    uint8_t o = SK_OPT_MSS | SK_OPT_TIMESTAMP, ot = SK_OPT_TIMESTAMP;
    uint32_t iss = ref_raw_iss(r, &key, RAW_LOCAL_PORT, RAW_PEER_PORT);
    raw_send(r, .flags = SYN, .seq = 1000, .opts = o, .mss = 1460, .ts_val = 100);
    uint32_t tsv = raw_expect(r, SYN | ACK, iss, 1001)->ts_val;
    assert_int_equal(tsv, (uint32_t)(r->now / 1000) + off);
    raw_send(r, .flags = ACK, .seq = 1001, .ack = iss + 1, .opts = ot, .ts_val = 101,
             .ts_ecr = tsv);
    assert_int_equal(sk_tcp_accept(l, &c), 0);
    raw_run_for(r, MS(250));
    sk_tcp_close(c);
    uint32_t last = raw_expect(r, FIN | ACK, iss + 1, 1001)->ts_val;
    raw_send(r, .flags = FIN | ACK, .seq = 1001, .ack = iss + 2, .opts = ot, .ts_val = 102,
             .ts_ecr = last);
    last = raw_expect(r, ACK, iss + 2, 1002)->ts_val;
    assert_int_equal(last, (uint32_t)(r->now / 1000) + off);
    /* The second incarnation, a second later, from the same 4-tuple. */
    raw_run_for(r, SEC(1));
    uint32_t iss2 = ref_raw_iss(r, &key, RAW_LOCAL_PORT, RAW_PEER_PORT);
    raw_send(r, .flags = SYN, .seq = 500, .opts = o, .mss = 1460, .ts_val = 103);
    uint32_t tsv2 = raw_expect(r, SYN | ACK, iss2, 501)->ts_val;
    assert_int_equal(counters(r->st).tcp_timewait_reused, 1);
    assert_int_equal(tsv2, (uint32_t)(r->now / 1000) + off);
    assert_true((int32_t)(tsv2 - last) > 0);
    raw_free(r);
}

/* ---------------- ephemeral ports ---------------- */

static uint16_t connect_any(struct raw *r, uint32_t raddr, uint16_t rport)
{
    struct sk_tcp *c;
    assert_int_equal(sk_tcp_connect(r->st, 0, raddr, rport, &c), 0);
    return info(c).lport;
}

/* Different secrets choose different ports for the same destination (RFC 6056 §3.3.4's F is
 * keyed): a port seen from one host says nothing about another's. */
static void test_different_secrets_choose_different_ports(void **state)
{
    (void)state;
    struct ref_key k1, k2;
    struct raw *r1 = ref_raw_new(NULL, &k1, 26), *r2 = ref_raw_new(NULL, &k2, 27);
    int same = 0;
    for (uint16_t rport = 1; rport <= 8; rport++)
        same += connect_any(r1, ADDR_B, rport) == connect_any(r2, ADDR_B, rport);
    assert_int_equal(same, 0);
    raw_free(r1);
    raw_free(r2);
}

/* Pearson's chi-square of n ports over 16 equal bins of the range must stay under 37.70, the
 * 99.9 % point of chi-square with 15 degrees of freedom: uniform, not clustered. */
static void expect_spread(const uint16_t *ports, int n, uint32_t lo, uint32_t hi)
{
    int bins[16] = {0};
    uint32_t width = (hi - lo + 1) / 16;
    for (int i = 0; i < n; i++) {
        assert_true(ports[i] >= lo && ports[i] <= hi);
        bins[(ports[i] - lo) / width]++;
    }
    double expect = n / 16.0, chi2 = 0;
    for (int b = 0; b < 16; b++)
        chi2 += (bins[b] - expect) * (bins[b] - expect) / expect;
    if (chi2 >= 37.70)
        fail_msg("ports clustered: chi-square %.1f over 16 bins", chi2);
}

/* Without a destination (UDP bind(0)) each pick is uniform over the range (RFC 6056 §3.3.1):
 * 1600 of them pass the chi-square test. So do the first ports towards 1600 destinations. */
static void test_ephemeral_ports_spread_over_range(void **state)
{
    (void)state;
    struct ref_key key;
    struct raw *r = ref_raw_new(NULL, &key, 28);
    const struct sk_config *cfg = sk_stack_config(r->st);
    static uint16_t ports[1600];
    for (int i = 0; i < 1600; i++) {
        struct sk_udp *u;
        assert_int_equal(sk_udp_bind(r->st, 0, &u), 0);
        ports[i] = sk_udp_port(u);
    }
    expect_spread(ports, 1600, cfg->ephemeral_lo, cfg->ephemeral_hi);
    for (int i = 0; i < 1600; i++)
        ports[i] = connect_any(r, ADDR_B + 1 + (uint32_t)(i / 100), (uint16_t)(1000 + i));
    expect_spread(ports, 1600, cfg->ephemeral_lo, cfg->ephemeral_hi);
    raw_free(r);
}

/* In a range of 32 ports, 20 already hold connections to one destination: connect(0) to it
 * takes each of the 12 others once, never a live 4-tuple, then says -EADDRNOTAVAIL (counted).
 * Another destination may still use every port (RFC 6056 §2.2: the 4-tuple must be unique). */
static void test_ports_never_collide_with_live_tuple(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.ephemeral_lo = 50000;
    cfg.ephemeral_hi = 50031;
    struct ref_key key;
    struct raw *r = ref_raw_new(&cfg, &key, 29);
    bool used[32] = {false};
    struct sk_tcp *c;
    for (int i = 0; i < 20; i++) {
        uint16_t p = (uint16_t)(50000 + (i * 7) % 32);
        assert_int_equal(sk_tcp_connect(r->st, p, ADDR_B, 80, &c), 0);
        used[p - 50000] = true;
    }
    for (int i = 0; i < 12; i++) {
        uint16_t p = connect_any(r, ADDR_B, 80);
        assert_true(p >= 50000 && p <= 50031);
        assert_false(used[p - 50000]);
        used[p - 50000] = true;
    }
    assert_int_equal(sk_tcp_connect(r->st, 0, ADDR_B, 80, &c), -EADDRNOTAVAIL);
    assert_int_equal(counters(r->st).port_exhausted, 1);
    assert_int_equal(sk_tcp_connect(r->st, 0, ADDR_B, 81, &c), 0);
    raw_free(r);
}

static uint16_t bind_any(struct sk_stack *st)
{
    int fd = sk_socket(st, SK_SOCK_STREAM);
    assert_true(fd >= 0);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    assert_int_equal(sk_bind(st, fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    socklen_t len = sizeof(sin);
    assert_int_equal(sk_getsockname(st, fd, (struct sockaddr *)&sin, &len), 0);
    return ntohs(sin.sin_port);
}

/* With 3000 connections alive, bind(0) still judges each candidate with one lookup in the
 * per-port counts and connect(0) with three (held by bind, 4-tuple, listener): the cost of a
 * candidate does not grow with the connections (a walk would cost 3000 per candidate). And
 * bind(0) never takes a port a connection uses. */
static void test_port_candidates_cost_constant_lookups(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.sndbuf_bytes = cfg.rcvbuf_bytes = 1024; /* 3000 connections within the buffer budget */
    struct ref_key key;
    struct raw *r = ref_raw_new(&cfg, &key, 30);
    static bool busy[65536];
    memset(busy, 0, sizeof(busy));
    struct sk_stack_counters before = counters(r->st);
    for (int i = 0; i < 3000; i++)
        busy[connect_any(r, ADDR_B, 80)] = true;
    struct sk_stack_counters mid = counters(r->st);
    uint64_t probes = mid.port_probes - before.port_probes;
    assert_int_equal(mid.port_picks - before.port_picks, 3000);
    assert_int_equal(mid.port_lookups - before.port_lookups, 3 * probes);
    for (int i = 0; i < 200; i++) {
        uint16_t p = bind_any(r->st);
        assert_false(busy[p]);
        busy[p] = true;
    }
    struct sk_stack_counters after = counters(r->st);
    probes = after.port_probes - mid.port_probes;
    /* One lookup per candidate, plus the explicit check bind makes of the port it got. */
    assert_int_equal(after.port_lookups - mid.port_lookups, probes + 200);
    assert_true(probes < 2 * 200); /* about 3200 of 16384 ports busy: few retries */
    raw_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_stack_new_refuses_without_secret),
        TEST(test_keys_per_purpose_follow_derivation_and_differ),
        TEST(test_random_is_keyed_counter_mode),
        TEST(test_ts_offset_is_keyed_hash_of_address_pair),
        TEST(test_tsval_monotonic_across_incarnations),
        TEST(test_different_secrets_choose_different_ports),
        TEST(test_ephemeral_ports_spread_over_range),
        TEST(test_ports_never_collide_with_live_tuple),
        TEST(test_port_candidates_cost_constant_lookups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
