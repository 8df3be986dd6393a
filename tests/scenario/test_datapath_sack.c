/* Data path: the receiver's SACK blocks (RFC 2018 §4) and D-SACK (RFC 2883 §4).
 *
 * The scripted peer sends 100-byte segments out of order; every ACK they trigger is checked
 * for its exact blocks and their order: the block holding the segment that triggered the ACK
 * first, a duplicate (D-SACK) before everything. D = IRS + 1 is the first data byte. */
#include "test_datapath.h"

#define D (IRS + 1)

static struct sk_tcp *sack_conn(struct raw *r, uint32_t *iss)
{
    struct fx_peer po = {.sack = true};
    struct sk_tcp *c = dp_connect(r, MS(10), &po, iss);
    assert_true(info(c).sack_ok);
    return c;
}

/* The stack answers at once with ACK = D + ack; returns its index for fx_expect_sack. */
static size_t expect_ack(struct raw *r, uint32_t iss, uint32_t ack)
{
    raw_expect(r, ACK, iss + 1, D + ack);
    return r->cursor - 1;
}

static void test_sack_blocks_and_dsack(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    uint32_t iss;
    struct sk_tcp *c = sack_conn(r, &iss);
    /* A hole at [0, 100): the first out-of-order segment is reported alone. */
    dp_peer_data(r, iss, 100, 100);
    fx_expect_sack(r, expect_ack(r, iss, 0), {D + 100, D + 200});
    /* A second island: the newest block first. */
    dp_peer_data(r, iss, 400, 100);
    fx_expect_sack(r, expect_ack(r, iss, 0), {D + 400, D + 500}, {D + 100, D + 200});
    /* [200, 300) joins the first island: the merged block is the newest. */
    dp_peer_data(r, iss, 200, 100);
    fx_expect_sack(r, expect_ack(r, iss, 0), {D + 100, D + 300}, {D + 400, D + 500});
    /* RFC 2883 §4: [100, 200) again: the duplicate first, then the block that holds it
     * (§4.2 example), then the others. */
    dp_peer_data(r, iss, 100, 100);
    fx_expect_sack(r, expect_ack(r, iss, 0), {D + 100, D + 200}, {D + 100, D + 300},
                   {D + 400, D + 500});
    /* The D-SACK is reported once: the next ACK no longer carries it. After the newest block,
     * the others in the order they were last first (RFC 2018 §4): [100, 300) led the ACK for
     * [200, 300), after [400, 500) had led its own. */
    dp_peer_data(r, iss, 600, 100);
    fx_expect_sack(r, expect_ack(r, iss, 0), {D + 600, D + 700}, {D + 100, D + 300},
                   {D + 400, D + 500});
    /* The hole fills: the cumulative ACK moves to 300, the islands above stay. */
    dp_peer_data(r, iss, 0, 100);
    fx_expect_sack(r, expect_ack(r, iss, 300), {D + 600, D + 700}, {D + 400, D + 500});
    /* RFC 2883 §4.1: a duplicate below the cumulative ACK is reported as D-SACK alone in front
     * of the remaining blocks. */
    dp_peer_data(r, iss, 0, 100);
    fx_expect_sack(r, expect_ack(r, iss, 300), {D + 0, D + 100}, {D + 600, D + 700},
                   {D + 400, D + 500});
    /* Everything in order: no SACK blocks any more. */
    dp_peer_data(r, iss, 300, 100);
    fx_expect_sack(r, expect_ack(r, iss, 500), {D + 600, D + 700});
    dp_peer_data(r, iss, 500, 100);
    fx_expect_no_sack(r, expect_ack(r, iss, 700));
    /* The application reads exactly the stream. */
    uint8_t got[800], want[700];
    assert_int_equal(sk_tcp_recv(c, got, sizeof(got)), 700);
    fx_fill(want, 0, 700);
    assert_memory_equal(got, want, 700);
    raw_free(r);
}

/* RFC 2018 §4: after the first block (the newest), the SACK option SHOULD repeat the most
 * recently reported first blocks. Arrivals [500,600), [100,200), [300,400): the ACK of the last
 * carries [300,400), [100,200), [500,600). */
static void test_sack_blocks_in_recency_order(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    uint32_t iss;
    sack_conn(r, &iss);
    dp_peer_data(r, iss, 500, 100);
    fx_expect_sack(r, expect_ack(r, iss, 0), {D + 500, D + 600});
    dp_peer_data(r, iss, 100, 100);
    fx_expect_sack(r, expect_ack(r, iss, 0), {D + 100, D + 200}, {D + 500, D + 600});
    dp_peer_data(r, iss, 300, 100);
    fx_expect_sack(r, expect_ack(r, iss, 0), {D + 300, D + 400}, {D + 100, D + 200},
                   {D + 500, D + 600});
    raw_free(r);
}

/* Without SACK agreed, out-of-order data is still ACKed at once, with no SACK option. */
static void test_no_sack_blocks_without_sack_permitted(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    uint32_t iss;
    struct sk_tcp *c = dp_connect(r, MS(10), NULL, &iss);
    assert_false(info(c).sack_ok);
    dp_peer_data(r, iss, 100, 100);
    fx_expect_no_sack(r, expect_ack(r, iss, 0));
    raw_free(r);
}

/* RFC 2018 §4: while out-of-order data is held, every ACK carries SACK blocks, data segments
 * included. A full-sized payload leaves no room for them on a 1500-byte MTU, so it gives way:
 * one block is 2 + 8 bytes of option, padded to 12 (RFC 6691: the MSS counts no options), and
 * every datagram still fits the MTU. Without this the peer of a flow with data both ways saw no
 * SACK information and no duplicate ACKs (RFC 5681 §2 counts only segments without data). */
static void test_data_segments_carry_sack_blocks(void **state)
{
    (void)state;
    struct raw *r = raw_new(NULL);
    uint32_t iss;
    struct sk_tcp *c = sack_conn(r, &iss);
    dp_peer_data(r, iss, 1000, 1000); /* a hole at [0, 1000) */
    fx_expect_sack(r, expect_ack(r, iss, 0), {D + 1000, D + 2000});
    assert_int_equal(fx_send(c, 0, 3 * MSS), 3 * MSS);
    /* 3 * 1460 bytes as three segments of 1448, each with the block; the 36 left wait for
     * an ACK (RFC 896: one small segment at a time, and data is in flight). */
    uint32_t seq = iss + 1;
    for (int i = 0; i < 3; i++) {
        size_t k = r->cursor;
        raw_expect(r, ACK, seq, D);
        fx_expect_sack(r, k, {D + 1000, D + 2000});
        assert_int_equal(r->out[k].len, MSS - 12);
        seq += MSS - 12;
    }
    /* 20 (IPv4) + 20 (TCP) + 12 (SACK) + 1448: the MTU exactly. */
    assert_int_equal(20 + 20 + 12 + (MSS - 12), 1500);
    raw_expect_none(r);
    raw_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_sack_blocks_and_dsack),
        TEST(test_sack_blocks_in_recency_order),
        TEST(test_no_sack_blocks_without_sack_permitted),
        TEST(test_data_segments_carry_sack_blocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
