/* TCP Fast Open (RFC 7413): the cookie, data in the SYN both ways, and the fallbacks.
 *
 * Cookies expected here are computed by the test: SipHash-2-4 (the reference in
 * tests/ref/ref_isn.h) over the client's then the server's IPv4 address, under the server
 * stack's Fast Open key derived from the test's secret as ref_isn.h derives every purpose key
 * (REF_KEY_TFO), or under a key the test sets (sk_config.tfo_key). The reference itself is
 * first checked against a cookie Linux computed (a vector from Linux's packetdrill suite,
 * fastopen/server/simple1.pkt). Sequence numbers of the raw stack are RFC 6528's, computed by
 * ref_raw.h; data lengths follow §4.2.1's SYN room: the server's MSS (or ours) less the 40
 * bytes Linux reserves for options. */
#include <stdlib.h>

#include "harness.h"
#include "ipframes.h"
#include "wire/wire.h"
#include "../ref/ref_raw.h"

static struct ref_key key;

/* The cookie a server under key16 gives client (IPv4, host order) reaching server. */
static void ref_tfo_cookie(const uint8_t key16[16], uint32_t client, uint32_t server,
                           uint8_t out[8])
{
    uint8_t msg[8];
    for (int i = 0; i < 4; i++) {
        msg[i] = (uint8_t)(client >> (24 - 8 * i));
        msg[4 + i] = (uint8_t)(server >> (24 - 8 * i));
    }
    uint64_t m = ref_siphash24(key16, msg, sizeof(msg));
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(m >> (8 * i));
}

/* Linux's net.ipv4.tcp_fastopen_key text: four hex words, each little-endian. */
static void linux_key(const uint32_t w[4], uint8_t out[16])
{
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 4; b++)
            out[i * 4 + b] = (uint8_t)(w[i] >> (8 * b));
}

/* The reference agrees with Linux: key a0bf63f7-ed803d81-cd641d30-cebc4a90, client 10.248.0.2,
 * server 192.168.0.2 gives the cookie 00abaaabe8e954c2 (simple1.pkt's SYN-ACK). */
static void test_reference_cookie_matches_linux(void **state)
{
    (void)state;
    const uint32_t w[4] = {0xa0bf63f7, 0xed803d81, 0xcd641d30, 0xcebc4a90};
    const uint8_t want[8] = {0x00, 0xab, 0xaa, 0xab, 0xe8, 0xe9, 0x54, 0xc2};
    uint8_t k[16], got[8];
    linux_key(w, k);
    ref_tfo_cookie(k, 0x0af80002, 0xc0a80002, got);
    assert_memory_equal(got, want, 8);
}

static struct raw *tfo_raw(uint32_t tfo, const uint8_t *tfo_key)
{
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.tfo = tfo;
    if (tfo_key) {
        memcpy(cfg.tfo_key, tfo_key, 16);
        cfg.tfo_key_set = true;
    }
    return ref_raw_new(&cfg, &key, 41);
}

/* Fast Open option bytes as a peer sends them: kind 34, length, cookie, NOPs to the word. */
static size_t fo_opt(uint8_t *buf, const uint8_t *cookie, size_t n)
{
    size_t i = 0;
    buf[i++] = 34;
    buf[i++] = (uint8_t)(2 + n);
    if (n > 0) /* a cookie request carries none (RFC 7413 §4.1.1): no copy from NULL */
        memcpy(buf + i, cookie, n);
    i += n;
    while (i % 4)
        buf[i++] = 1;
    return i;
}

/* ---------------- server ---------------- */

/* A request gets the cookie (the SYN alone acknowledged); the cookie brings data in the SYN,
 * taken at once: the child is acceptable and readable in SYN-RECEIVED, the SYN-ACK
 * acknowledges the data, the server's answer follows the SYN-ACK before the third ACK; a wrong
 * cookie has its data left for later and the right cookie sent back. */
static void test_server_cookie_then_data_in_syn(void **state)
{
    (void)state;
    struct raw *r = tfo_raw(SK_TFO_SERVER, NULL);
    struct sk_tcp *l, *c;
    assert_int_equal(sk_tcp_listen(r->st, RAW_LOCAL_PORT, 8, &l), 0);
    assert_int_equal(sk_tcp_set_fastopen(l, 4), 0);
    uint8_t k[16], cookie[8], other[8], opt[20];
    ref_purpose_key(&key, REF_KEY_TFO, k);
    ref_tfo_cookie(k, ADDR_B, ADDR_A, cookie);
    ref_tfo_cookie(k, ADDR_B + 1, ADDR_A, other);
    assert_memory_not_equal(cookie, other, 8); /* the cookie is the client address's */

    /* 1. A cookie request (empty option). */
    uint32_t iss = ref_raw_iss(r, &key, RAW_LOCAL_PORT, RAW_PEER_PORT);
    size_t n = fo_opt(opt, NULL, 0);
    raw_send(r, .flags = SYN, .seq = 1000, .raw_opts = opt, .raw_opts_len = n);
    const struct raw_out *o = raw_expect(r, SYN | ACK, iss, 1001);
    assert_true(o->opts & SK_OPT_FASTOPEN);
    assert_int_equal(o->fo_len, 8);
    assert_false(o->fo_exp);
    assert_memory_equal(o->fo_cookie, cookie, 8);
    assert_int_equal(sk_tcp_accept(l, &c), -EAGAIN); /* an ordinary half-open child */
    raw_send(r, .flags = ACK, .seq = 1001, .ack = iss + 1);
    assert_int_equal(sk_tcp_accept(l, &c), 0);
    assert_int_equal(sk_tcp_fastopen_status(c) & SK_TCP_FO_SYN_DATA, 0);
    sk_tcp_abort(c);
    raw_run_for(r, MS(10));
    r->cursor = r->nout;

    /* 2. The cookie and 100 bytes in the SYN, from another port. */
    uint8_t data[100], got[100], reply[50];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 3 + 1);
    memset(reply, 0x5a, sizeof(reply));
    iss = ref_raw_iss(r, &key, RAW_LOCAL_PORT, RAW_PEER_PORT + 1);
    n = fo_opt(opt, cookie, 8);
    raw_send(r, .sport = RAW_PEER_PORT + 1, .flags = SYN, .seq = 5000, .raw_opts = opt,
             .raw_opts_len = n, .data = data, .len = sizeof(data));
    o = raw_expect(r, SYN | ACK, iss, 5001 + 100); /* §4.2.2: SYN and data acknowledged */
    assert_false(o->opts & SK_OPT_FASTOPEN);       /* a valid cookie is not sent again */
    assert_int_equal(sk_tcp_accept(l, &c), 0);     /* before the third ACK */
    expect_state(c, SK_TCP_SYN_RECEIVED);
    assert_int_equal(sk_tcp_fastopen_status(c), SK_TCP_FO_SYN_DATA | SK_TCP_FO_PASSIVE);
    assert_int_equal(sk_tcp_recv(c, got, sizeof(got)), 100);
    assert_memory_equal(got, data, 100);
    assert_int_equal(sk_tcp_send(c, reply, sizeof(reply)), 50);
    o = raw_expect(r, ACK | PSH, iss + 1, 5101); /* the answer before the handshake ends */
    assert_int_equal(o->len, 50);
    raw_send(r, .sport = RAW_PEER_PORT + 1, .flags = ACK, .seq = 5101, .ack = iss + 51);
    expect_state(c, SK_TCP_ESTABLISHED);
    sk_tcp_abort(c);
    raw_run_for(r, MS(10));
    r->cursor = r->nout;

    /* 3. A wrong cookie: the SYN alone is acknowledged, the right cookie goes back. */
    iss = ref_raw_iss(r, &key, RAW_LOCAL_PORT, RAW_PEER_PORT + 2);
    n = fo_opt(opt, other, 8);
    raw_send(r, .sport = RAW_PEER_PORT + 2, .flags = SYN, .seq = 9000, .raw_opts = opt,
             .raw_opts_len = n, .data = data, .len = sizeof(data));
    o = raw_expect(r, SYN | ACK, iss, 9001);
    assert_int_equal(o->fo_len, 8);
    assert_memory_equal(o->fo_cookie, cookie, 8);
    assert_int_equal(sk_tcp_accept(l, &c), -EAGAIN);
    raw_free(r);
}

/* A key set in sk_config (Linux's tcp_fastopen_key) makes Linux's cookie; the experimental
 * option form (kind 254, magic 0xF989) is answered in kind. A listener without a Fast Open
 * queue answers with no option. */
static void test_server_configured_key_and_experimental_option(void **state)
{
    (void)state;
    const uint32_t w[4] = {0xa1a1a1a1, 0xb2b2b2b2, 0xc3c3c3c3, 0xd4d4d4d4};
    uint8_t k[16], cookie[8];
    linux_key(w, k);
    ref_tfo_cookie(k, ADDR_B, ADDR_A, cookie);
    struct raw *r = tfo_raw(SK_TFO_SERVER, k);
    struct sk_tcp *l;
    assert_int_equal(sk_tcp_listen(r->st, RAW_LOCAL_PORT, 8, &l), 0);
    const uint8_t exp_req[4] = {254, 4, 0xf9, 0x89};
    uint32_t iss = ref_raw_iss(r, &key, RAW_LOCAL_PORT, RAW_PEER_PORT);
    raw_send(r, .flags = SYN, .seq = 1, .raw_opts = exp_req, .raw_opts_len = 4);
    const struct raw_out *o = raw_expect(r, SYN | ACK, iss, 2);
    assert_false(o->opts & SK_OPT_FASTOPEN); /* no queue on this listener yet */
    assert_int_equal(sk_tcp_set_fastopen(l, 1), 0);
    iss = ref_raw_iss(r, &key, RAW_LOCAL_PORT, RAW_PEER_PORT + 1);
    raw_send(r, .sport = RAW_PEER_PORT + 1, .flags = SYN, .seq = 1, .raw_opts = exp_req,
             .raw_opts_len = 4);
    o = raw_expect(r, SYN | ACK, iss, 2);
    assert_true(o->fo_exp);
    assert_int_equal(o->fo_len, 8);
    assert_memory_equal(o->fo_cookie, cookie, 8);
    raw_free(r);
}

/* An ICMP error from the peer quoting our segment at seq, from our port to the peer's. */
static void icmp_from_peer(struct raw *r, uint8_t code, uint32_t rest, uint16_t our_port,
                           uint16_t peer_port, uint32_t seq)
{
    uint8_t q[28] = {0}, m[64], p[128], tcp8[8];
    sk_put16(tcp8, our_port);
    sk_put16(tcp8 + 2, peer_port);
    sk_put32(tcp8 + 4, seq);
    fr_ip(q, ADDR_A, ADDR_B, SK_IPPROTO_TCP, 1, 0x4000, 0, tcp8, 8);
    size_t n = fr_icmp(m, SK_ICMP_DEST_UNREACH, code, rest, q, sizeof(q));
    n = fr_ip(p, ADDR_B, ADDR_A, SK_IPPROTO_ICMP, 9, 0, 0, m, n);
    sk_stack_input(r->st, p, n, r->now);
}

/* Host unreachable (code 1) quoting our segment at seq, RAW_LOCAL_PORT to sport. */
static void host_unreachable(struct raw *r, uint16_t sport, uint32_t seq)
{
    icmp_from_peer(r, 1, 0, RAW_LOCAL_PORT, sport, seq);
}

/* RFC 5461 §4 under icmp_abort_handshake (Linux's tcp_v4_err): a Fast Open child not yet
 * accepted is closed by host unreachable but stays in the accept queue: accept hands it out,
 * the SYN's data is read, then the error; writing fails; the peer's ACK draws a reset, the
 * connection being gone. A child already accepted counts as connected: the error is soft. */
static void test_server_icmp_closes_unaccepted_child(void **state)
{
    (void)state;
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.tfo = SK_TFO_SERVER;
    cfg.icmp_abort_handshake = true;
    struct raw *r = ref_raw_new(&cfg, &key, 41);
    struct sk_tcp *l, *c;
    assert_int_equal(sk_tcp_listen(r->st, RAW_LOCAL_PORT, 8, &l), 0);
    assert_int_equal(sk_tcp_set_fastopen(l, 4), 0);
    uint8_t k[16], cookie[8], opt[20], data[10] = "0123456789", got[16];
    ref_purpose_key(&key, REF_KEY_TFO, k);
    ref_tfo_cookie(k, ADDR_B, ADDR_A, cookie);
    size_t n = fo_opt(opt, cookie, 8);
    for (uint16_t sport = RAW_PEER_PORT; sport <= RAW_PEER_PORT + 1; sport++) {
        uint32_t iss = ref_raw_iss(r, &key, RAW_LOCAL_PORT, sport);
        bool accepted_first = sport != RAW_PEER_PORT;
        raw_send(r, .sport = sport, .flags = SYN, .seq = 0, .raw_opts = opt,
                 .raw_opts_len = n, .data = data, .len = sizeof(data));
        raw_expect(r, SYN | ACK, iss, 11);
        if (accepted_first)
            assert_int_equal(sk_tcp_accept(l, &c), 0);
        host_unreachable(r, sport, iss);
        if (!accepted_first)
            assert_int_equal(sk_tcp_accept(l, &c), 0);
        assert_int_equal(sk_tcp_recv(c, got, sizeof(got)), 10);
        if (accepted_first) {
            expect_state(c, SK_TCP_SYN_RECEIVED);
            assert_int_equal(sk_tcp_error(c), 0);
            raw_send(r, .sport = sport, .flags = ACK, .seq = 11, .ack = iss + 1);
            expect_state(c, SK_TCP_ESTABLISHED);
            sk_tcp_abort(c);
            break;
        }
        expect_state(c, SK_TCP_CLOSED);
        assert_int_equal(sk_tcp_recv(c, got, sizeof(got)), -EHOSTUNREACH);
        assert_true(sk_tcp_send(c, data, sizeof(data)) < 0);
        raw_send(r, .sport = sport, .flags = ACK, .seq = 11, .ack = iss + 1);
        raw_expect(r, RST, iss + 1, 0);
        sk_tcp_close(c);
        raw_run_for(r, MS(10));
        r->cursor = r->nout;
    }
    raw_free(r);
}

/* ---------------- client ---------------- */

/* The first connection asks for a cookie; the next carries it with as much data as the
 * server's MSS less 40 bytes allows (§4.2.1); a SYN-ACK that acknowledges only the SYN has
 * the data sent at once, carrying the handshake's ACK (§4.2.2). */
static void test_client_cookie_request_then_syn_data(void **state)
{
    (void)state;
    struct raw *r = tfo_raw(SK_TFO_CLIENT, NULL);
    struct sk_tcp_params prm = {.fastopen = SK_FASTOPEN_CONNECT};
    struct sk_addr peer = sk_addr_from_v4(ADDR_B);
    struct sk_tcp *c;
    uint32_t iss = ref_raw_iss(r, &key, RAW_LOCAL_PORT, RAW_PEER_PORT);
    assert_int_equal(sk_tcp_connect_addr(r->st, RAW_LOCAL_PORT, &peer, RAW_PEER_PORT, &prm, &c), 0);
    const struct raw_out *o = raw_expect(r, SYN, iss, 0);
    assert_true(o->opts & SK_OPT_FASTOPEN);
    assert_int_equal(o->fo_len, 0); /* a request */
    assert_int_equal(o->len, 0);
    const uint8_t cookie[6] = {0xab, 0xcd, 0x12, 0x34, 0x56, 0x78};
    uint8_t opt[12];
    size_t n = fo_opt(opt, cookie, sizeof(cookie));
    /* MSS 1000 first, then the option: raw bytes carry both. */
    uint8_t opts[16] = {2, 4, 1000 >> 8, 1000 & 0xff};
    memcpy(opts + 4, opt, n);
    raw_send(r, .flags = SYN | ACK, .seq = 700, .ack = iss + 1, .raw_opts = opts,
             .raw_opts_len = 4 + n);
    raw_expect(r, ACK, iss + 1, 701);
    assert_int_equal(sk_tcp_fastopen_status(c), SK_TCP_FO_REQUESTED);
    sk_tcp_abort(c);
    r->cursor = r->nout;

    /* The cookie and 1000 - 40 bytes of 2000 go in the SYN. */
    uint8_t data[2000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i ^ 0x33);
    iss = ref_raw_iss(r, &key, RAW_LOCAL_PORT + 1, RAW_PEER_PORT);
    size_t queued = 0;
    assert_int_equal(sk_tcp_connect_data(r->st, RAW_LOCAL_PORT + 1, &peer, RAW_PEER_PORT, NULL,
                                         data, sizeof(data), &queued, &c), 0);
    assert_int_equal(queued, 960);
    o = raw_expect(r, SYN, iss, 0);
    assert_int_equal(o->len, 960);
    assert_memory_equal(o->data, data, 960);
    assert_int_equal(o->fo_len, 6);
    assert_memory_equal(o->fo_cookie, cookie, 6);
    /* The server takes the SYN only (§4.2.2): the 960 bytes go again right away, with the
     * handshake's ACK, and no pure ACK before them. */
    raw_send(r, .dport = RAW_LOCAL_PORT + 1, .flags = SYN | ACK, .seq = 300, .ack = iss + 1,
             .opts = SK_OPT_MSS, .mss = 1000);
    o = raw_expect(r, ACK | PSH, iss + 1, 301);
    assert_int_equal(o->len, 960);
    assert_memory_equal(o->data, data, 960);
    assert_int_equal(sk_tcp_fastopen_status(c) & SK_TCP_FO_SYN_DATA, 0);
    raw_send(r, .dport = RAW_LOCAL_PORT + 1, .flags = ACK, .seq = 301, .ack = iss + 961);
    sk_tcp_abort(c);
    r->cursor = r->nout;

    /* A server that takes the data: acknowledged by the SYN-ACK, Linux's TCPI_OPT_SYN_DATA. */
    iss = ref_raw_iss(r, &key, RAW_LOCAL_PORT + 2, RAW_PEER_PORT);
    assert_int_equal(sk_tcp_connect_data(r->st, RAW_LOCAL_PORT + 2, &peer, RAW_PEER_PORT, NULL,
                                         data, 500, &queued, &c), 0);
    assert_int_equal(queued, 500);
    raw_expect(r, SYN, iss, 0);
    raw_send(r, .dport = RAW_LOCAL_PORT + 2, .flags = SYN | ACK, .seq = 400, .ack = iss + 501,
             .opts = SK_OPT_MSS, .mss = 1000);
    raw_expect(r, ACK, iss + 501, 401);
    assert_int_equal(sk_tcp_fastopen_status(c), SK_TCP_FO_SYN_DATA | SK_TCP_FO_REQUESTED);
    r->cursor = r->nout;

    /* SK_FASTOPEN_DEFER with the cookie known: no SYN until the first write, and an empty
     * write sends it, with the cookie and no data (Linux's tcp_sendmsg_fastopen with
     * TCP_FASTOPEN_CONNECT and a zero-length send). */
    struct sk_tcp_params defer = {.fastopen = SK_FASTOPEN_DEFER};
    iss = ref_raw_iss(r, &key, RAW_LOCAL_PORT + 3, RAW_PEER_PORT);
    assert_int_equal(
        sk_tcp_connect_addr(r->st, RAW_LOCAL_PORT + 3, &peer, RAW_PEER_PORT, &defer, &c), 0);
    raw_expect_none(r);
    assert_true(sk_tcp_fastopen_status(c) & SK_TCP_FO_DEFERRED);
    assert_int_equal(sk_tcp_send(c, data, 0), 0);
    o = raw_expect(r, SYN, iss, 0);
    assert_int_equal(o->len, 0);
    assert_int_equal(o->fo_len, 6);
    assert_memory_equal(o->fo_cookie, cookie, 6);
    assert_false(sk_tcp_fastopen_status(c) & SK_TCP_FO_DEFERRED);
    sk_tcp_abort(c);
    r->cursor = r->nout;

    /* Forgetting another server keeps this one's cookie; forgetting all (Linux's `ip
     * tcp_metrics flush`) makes the next SYN a cookie request again, its data waiting. */
    struct sk_addr other = sk_addr_from_v4(ADDR_B + 1);
    sk_tcp_fastopen_forget(r->st, &other);
    iss = ref_raw_iss(r, &key, RAW_LOCAL_PORT + 4, RAW_PEER_PORT);
    assert_int_equal(sk_tcp_connect_data(r->st, RAW_LOCAL_PORT + 4, &peer, RAW_PEER_PORT, NULL,
                                         data, 500, &queued, &c), 0);
    assert_int_equal(queued, 500);
    o = raw_expect(r, SYN, iss, 0);
    assert_int_equal(o->fo_len, 6);
    sk_tcp_abort(c);
    sk_tcp_fastopen_forget(r->st, NULL);
    iss = ref_raw_iss(r, &key, RAW_LOCAL_PORT + 5, RAW_PEER_PORT);
    assert_int_equal(sk_tcp_connect_data(r->st, RAW_LOCAL_PORT + 5, &peer, RAW_PEER_PORT, NULL,
                                         data, 500, &queued, &c), 0);
    assert_int_equal(queued, 0);
    o = raw_expect(r, SYN, iss, 0);
    assert_true(o->opts & SK_OPT_FASTOPEN);
    assert_int_equal(o->fo_len, 0);
    assert_int_equal(o->len, 0);
    sk_tcp_abort(c);

    raw_free(r);
}

/* §4.2.1 middleboxes: a SYN with data and cookie that goes unanswered is sent again after the
 * RTO without either; after two such losses in a row the server gets plain SYNs. */
static void test_client_syn_data_timeout_falls_back(void **state)
{
    (void)state;
    struct raw *r = tfo_raw(SK_TFO_CLIENT, NULL);
    struct sk_tcp_params prm = {.fastopen = SK_FASTOPEN_CONNECT};
    struct sk_addr peer = sk_addr_from_v4(ADDR_B);
    struct sk_tcp *c;
    uint8_t data[300];
    memset(data, 7, sizeof(data));
    const uint8_t cookie[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint8_t opt[12];
    size_t n = fo_opt(opt, cookie, sizeof(cookie));
    /* Learn the cookie. */
    uint32_t iss = ref_raw_iss(r, &key, RAW_LOCAL_PORT, RAW_PEER_PORT);
    assert_int_equal(sk_tcp_connect_addr(r->st, RAW_LOCAL_PORT, &peer, RAW_PEER_PORT, &prm, &c), 0);
    raw_expect(r, SYN, iss, 0);
    raw_send(r, .flags = SYN | ACK, .seq = 1, .ack = iss + 1, .raw_opts = opt, .raw_opts_len = n);
    raw_expect(r, ACK, iss + 1, 2);
    sk_tcp_abort(c);
    r->cursor = r->nout;

    for (uint16_t round = 1; round <= 3; round++) {
        uint16_t port = (uint16_t)(RAW_LOCAL_PORT + round);
        iss = ref_raw_iss(r, &key, port, RAW_PEER_PORT);
        size_t queued;
        assert_int_equal(sk_tcp_connect_data(r->st, port, &peer, RAW_PEER_PORT, NULL, data,
                                             sizeof(data), &queued, &c), 0);
        const struct raw_out *o = raw_expect(r, SYN, iss, 0);
        if (round <= 2) {
            assert_int_equal(o->len, 300);
            assert_int_equal(o->fo_len, 8);
            raw_run_for(r, SEC(1)); /* RFC 6298 §2.1: the initial RTO */
            o = raw_expect(r, SYN, iss, 0);
            assert_int_equal(o->len, 0);
            assert_false(o->opts & SK_OPT_FASTOPEN);
        } else {
            /* Two losses in a row: plain SYNs for a while (tfo_syn_loss_backoff_us). */
            assert_int_equal(queued, 0);
            assert_int_equal(o->len, 0);
            assert_false(o->opts & SK_OPT_FASTOPEN);
        }
        /* The SYN-ACK of the plain SYN: no cookie, the data not acknowledged; the data (queued
         * by the caller in round 3) follows the handshake. */
        if (round == 3)
            assert_int_equal(sk_tcp_send(c, data, sizeof(data)), 300);
        raw_send(r, .dport = port, .flags = SYN | ACK, .seq = 50, .ack = iss + 1);
        o = raw_expect(r, ACK | PSH, iss + 1, 51);
        assert_int_equal(o->len, 300);
        sk_tcp_abort(c);
        r->cursor = r->nout;
    }
    raw_free(r);
}

/* ---------------- two stacks: the whole exchange ---------------- */

/* The first connection gets a cookie; the second sends 300 bytes in its SYN; the server reads
 * them before the third ACK arrives and its 200-byte answer follows its SYN-ACK; the client
 * has the answer one round trip after its SYN. Then the SYN with data is lost on the link:
 * the retransmitted SYN is plain, and the data follows the handshake. */
static void test_pair_fast_open_both_ways_and_lost_syn(void **state)
{
    (void)state;
    struct sk_config ca, cb;
    harness_config(&ca, 0);
    harness_config(&cb, 1);
    struct pair *p = pair_new(&ca, &cb);
    struct sk_tcp *l, *c, *s;
    struct sk_addr b = sk_addr_from_v4(ADDR_B);
    struct sk_tcp_params prm = {.fastopen = SK_FASTOPEN_CONNECT};
    assert_int_equal(sk_tcp_listen(p->b, 80, 8, &l), 0);
    assert_int_equal(sk_tcp_set_fastopen(l, 8), 0);
    assert_int_equal(sk_tcp_connect_addr(p->a, 0, &b, 80, &prm, &c), 0);
    pair_run_for(p, 3 * LINK_DELAY);
    assert_int_equal(sk_tcp_accept(l, &s), 0);
    struct sk_tcp_info ia = info(c), ib = info(s);
    const struct rec_ev *e = expect_seg(p, A_TO_B, SYN, ia.iss, 0);
    assert_true(e->ev.u.seg.opts & SK_OPT_FASTOPEN);
    e = expect_seg(p, B_TO_A, SYN | ACK, ib.iss, ia.iss + 1);
    assert_true(e->ev.u.seg.opts & SK_OPT_FASTOPEN); /* the cookie */
    expect_seg(p, A_TO_B, ACK, ia.iss + 1, ib.iss + 1);
    sk_tcp_abort(c);
    sk_tcp_abort(s);
    pair_run_for(p, MS(100));
    skip_segs(p, A_TO_B);
    skip_segs(p, B_TO_A);

    uint8_t req[300], ans[200], got[400];
    memset(req, 'q', sizeof(req));
    memset(ans, 'a', sizeof(ans));
    sk_time_us t0 = pair_now(p);
    size_t queued;
    assert_int_equal(sk_tcp_connect_data(p->a, 0, &b, 80, NULL, req, sizeof(req), &queued, &c),
                     0);
    assert_int_equal(queued, 300);
    ia = info(c);
    expect_data(p, A_TO_B, SYN, ia.iss, 0, 300);
    pair_run_until(p, t0 + LINK_DELAY); /* the SYN and its data reach B */
    assert_int_equal(sk_tcp_accept(l, &s), 0);
    expect_state(s, SK_TCP_SYN_RECEIVED);
    assert_int_equal(sk_tcp_recv(s, got, sizeof(got)), 300); /* before the third ACK */
    assert_memory_equal(got, req, 300);
    assert_int_equal(sk_tcp_send(s, ans, sizeof(ans)), 200);
    ib = info(s);
    e = expect_seg(p, B_TO_A, SYN | ACK, ib.iss, ia.iss + 301);
    assert_int_equal(e->ev.time, t0 + LINK_DELAY);
    e = expect_data(p, B_TO_A, ACK | PSH, ib.iss + 1, ia.iss + 301, 200);
    assert_int_equal(e->ev.time, t0 + LINK_DELAY);
    pair_run_until(p, t0 + 2 * LINK_DELAY);
    expect_state(c, SK_TCP_ESTABLISHED);
    assert_int_equal(sk_tcp_fastopen_status(c) & SK_TCP_FO_SYN_DATA, SK_TCP_FO_SYN_DATA);
    assert_int_equal(sk_tcp_recv(c, got, sizeof(got)), 200); /* one round trip after the SYN */
    assert_memory_equal(got, ans, 200);
    pair_run_until(p, t0 + 3 * LINK_DELAY);
    expect_state(s, SK_TCP_ESTABLISHED);
    sk_tcp_abort(c);
    sk_tcp_abort(s);
    pair_run_for(p, MS(100));
    skip_segs(p, A_TO_B);
    skip_segs(p, B_TO_A);

    /* The SYN with data is lost: the retransmission after 1 s is plain, the data follows. */
    pair_drop(p, SIDE_A, SYN, SYN, 1);
    t0 = pair_now(p);
    assert_int_equal(sk_tcp_connect_data(p->a, 0, &b, 80, NULL, req, sizeof(req), &queued, &c),
                     0);
    ia = info(c);
    expect_data(p, A_TO_B, SYN, ia.iss, 0, 300);
    pair_run_until(p, t0 + SEC(1) + 3 * LINK_DELAY);
    e = expect_data(p, A_TO_B, SYN, ia.iss, 0, 0);
    assert_false(e->ev.u.seg.opts & SK_OPT_FASTOPEN);
    assert_int_equal(sk_tcp_accept(l, &s), 0);
    ib = info(s);
    expect_seg(p, B_TO_A, SYN | ACK, ib.iss, ia.iss + 1);
    expect_data(p, A_TO_B, ACK | PSH, ia.iss + 1, ib.iss + 1, 300);
    assert_int_equal(sk_tcp_recv(s, got, sizeof(got)), 300);
    pair_free(p);
}

/* ---------------- IPv6 ---------------- */

static const uint8_t A6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t B6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

/* The reference over IPv6 (16 + 16 bytes) agrees with Linux: run_all.py's TFO_COOKIE for
 * fd3d:fa7b:d17d::1 reaching fd3d:a0b:17d6::1 under defaults.sh's key is c1d1e9742a47a9bc. */
static void test_reference_cookie_ipv6_matches_linux(void **state)
{
    (void)state;
    const uint32_t w[4] = {0xa1a1a1a1, 0xb2b2b2b2, 0xc3c3c3c3, 0xd4d4d4d4};
    const uint8_t client[16] = {0xfd, 0x3d, 0xfa, 0x7b, 0xd1, 0x7d, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    const uint8_t server[16] = {0xfd, 0x3d, 0x0a, 0x0b, 0x17, 0xd6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    const uint8_t want[8] = {0xc1, 0xd1, 0xe9, 0x74, 0x2a, 0x47, 0xa9, 0xbc};
    uint8_t k[16], msg[32], got[8];
    linux_key(w, k);
    memcpy(msg, client, 16);
    memcpy(msg + 16, server, 16);
    uint64_t m = ref_siphash24(k, msg, sizeof(msg));
    for (int i = 0; i < 8; i++)
        got[i] = (uint8_t)(m >> (8 * i));
    assert_memory_equal(got, want, 8);
}

static void config6(struct sk_config *cfg, int side)
{
    harness_config(cfg, side);
    cfg->ip6 = true;
    memcpy(cfg->addr6[0].addr, side == 0 ? A6 : B6, 16);
    cfg->addr6[0].prefix_len = 64;
    cfg->addr6_count = 1;
    cfg->ip6_dad_transmits = 0;
    cfg->ip6_linklocal = SK_IP6_LL_OFF;
}

/* Over IPv6: the cookie comes with the first connection; the second's SYN carries 1400 of its
 * 3000 bytes (the server's MSS, 1500 - 40 - 20 = 1440, less 40), which the server reads before
 * the third ACK. */
static void test_pair_fast_open_ipv6(void **state)
{
    (void)state;
    struct sk_config ca, cb;
    config6(&ca, 0);
    config6(&cb, 1);
    struct pair *p = pair_new(&ca, &cb);
    struct sk_tcp *l, *c, *s;
    struct sk_addr b;
    memcpy(b.b, B6, 16);
    struct sk_tcp_params prm = {.fastopen = SK_FASTOPEN_CONNECT};
    assert_int_equal(sk_tcp_listen(p->b, 80, 8, &l), 0);
    assert_int_equal(sk_tcp_set_fastopen(l, 8), 0);
    assert_int_equal(sk_tcp_connect_addr(p->a, 0, &b, 80, &prm, &c), 0);
    pair_run_for(p, MS(100));
    assert_int_equal(sk_tcp_accept(l, &s), 0);
    sk_tcp_abort(c);
    sk_tcp_abort(s);
    pair_run_for(p, MS(100));
    skip_segs(p, A_TO_B);
    skip_segs(p, B_TO_A);

    uint8_t req[3000], got[3000];
    memset(req, 'r', sizeof(req));
    size_t queued;
    assert_int_equal(sk_tcp_connect_data(p->a, 0, &b, 80, NULL, req, sizeof(req), &queued, &c),
                     0);
    assert_int_equal(queued, 1440 - 40);
    struct sk_tcp_info ia = info(c);
    const struct rec_ev *e = expect_data(p, A_TO_B, SYN, ia.iss, 0, 1400);
    assert_true(e->ev.u.seg.opts & SK_OPT_FASTOPEN);
    pair_run_for(p, LINK_DELAY);
    assert_int_equal(sk_tcp_accept(l, &s), 0);
    expect_state(s, SK_TCP_SYN_RECEIVED);
    assert_int_equal(sk_tcp_recv(s, got, sizeof(got)), 1400);
    pair_free(p);
}

/* A first connection from RAW_LOCAL_PORT asks for a cookie; the server's SYN-ACK gives one
 * with MSS 1460, which the client caches; the connection is then aborted. */
static void cache_cookie(struct raw *r)
{
    struct sk_tcp_params prm = {.fastopen = SK_FASTOPEN_CONNECT};
    struct sk_addr peer = sk_addr_from_v4(ADDR_B);
    struct sk_tcp *c;
    uint32_t iss = ref_raw_iss(r, &key, RAW_LOCAL_PORT, RAW_PEER_PORT);
    assert_int_equal(sk_tcp_connect_addr(r->st, RAW_LOCAL_PORT, &peer, RAW_PEER_PORT, &prm, &c), 0);
    raw_expect(r, SYN, iss, 0);
    const uint8_t cookie[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint8_t opts[16] = {2, 4, 1460 >> 8, 1460 & 0xff};
    size_t n = fo_opt(opts + 4, cookie, sizeof(cookie));
    raw_send(r, .flags = SYN | ACK, .seq = 700, .ack = iss + 1, .raw_opts = opts,
             .raw_opts_len = 4 + n);
    raw_expect(r, ACK, iss + 1, 701);
    sk_tcp_abort(c);
    r->cursor = r->nout;
}

/* "Fragmentation needed" (MTU 800) for a SYN that carried data (RFC 1191 §6.1: the datagram
 * was dropped, send again at once): the SYN goes again at once, alone, without the option
 * (Linux's tcp_simple_retransmit). The path MTU holds past the handshake: with the server's
 * MSS 1040, the data goes in segments of 800 - 40 = 760 bytes. syn_mss_path (Linux's
 * tcp_advertise_mss) makes the SYN announce 760; without it, the interface's 1500 - 40. */
static void test_client_syn_data_frag_needed(void **state)
{
    (void)state;
    for (int knob = 0; knob <= 1; knob++) {
        struct sk_config cfg;
        harness_config(&cfg, 0);
        cfg.tfo = SK_TFO_CLIENT;
        cfg.syn_mss_path = knob;
        struct raw *r = ref_raw_new(&cfg, &key, 41);
        cache_cookie(r);
        struct sk_addr peer = sk_addr_from_v4(ADDR_B);
        struct sk_tcp *c;
        uint8_t data[2000] = {0};
        size_t queued = 0;
        uint16_t port = RAW_LOCAL_PORT + 1;
        uint32_t iss = ref_raw_iss(r, &key, port, RAW_PEER_PORT);
        assert_int_equal(sk_tcp_connect_data(r->st, port, &peer, RAW_PEER_PORT, NULL, data,
                                             sizeof(data), &queued, &c), 0);
        assert_int_equal(queued, 1460 - 40);
        const struct raw_out *o = raw_expect(r, SYN, iss, 0);
        assert_int_equal(o->len, 1420);
        icmp_from_peer(r, 4, 800, port, RAW_PEER_PORT, iss);
        o = raw_expect(r, SYN, iss, 0);
        assert_int_equal(o->len, 0);
        assert_false(o->opts & SK_OPT_FASTOPEN);
        assert_int_equal(o->mss, knob ? 800 - 40 : 1500 - 40);
        raw_send(r, .dport = port, .flags = SYN | ACK, .seq = 300, .ack = iss + 1,
                 .opts = SK_OPT_MSS, .mss = 1040);
        o = raw_expect(r, ACK, iss + 1, 301);
        assert_int_equal(o->len, 760);
        o = raw_expect(r, ACK | PSH, iss + 761, 301);
        assert_int_equal(o->len, 1420 - 760);
        sk_tcp_abort(c);
        raw_free(r);
    }
}

/* The data of a SYN that the SYN-ACK did not acknowledge goes again at once, then new data in
 * the same microsecond. The resent SYN data counts as a retransmission in flight (Linux's
 * tcpi_retrans 1: 1420 bytes at MSS 1460), and it went before the new data: when the peer
 * SACKs all the new data (three segments, so RACK's reo_wnd is 0, RFC 8985 §6.2 step 4) and
 * not it, 20 ms after both went on a 20 ms path, it is lost (xmit_ts + RACK.rtt <= now, step
 * 5) and goes again at once, with PSH as when it ended the SYN's push (RFC 9293 §3.9.1).
 * Before send stamps, the end_seq tie-break of a shared microsecond was set aside for a
 * retransmission, and this one waited for the RTO. */
static void test_client_syn_data_resent_then_lost(void **state)
{
    (void)state;
    /* With segmentation offload, as Linux (and the packetdrill script this comes from,
     * syn-data-only-syn-acked) sends: a retransmission stops at SND.MAX. */
    struct sk_config cfg;
    harness_config(&cfg, 0);
    cfg.tfo = SK_TFO_CLIENT;
    cfg.caps = (struct sk_link_caps){.tso_max = 65535, .tx_csum = true};
    struct raw *r = ref_raw_new(&cfg, &key, 41);
    cache_cookie(r);
    struct sk_addr peer = sk_addr_from_v4(ADDR_B);
    struct sk_tcp *c;
    static uint8_t data[6000];
    size_t queued = 0;
    uint16_t port = RAW_LOCAL_PORT + 1;
    uint32_t iss = ref_raw_iss(r, &key, port, RAW_PEER_PORT);
    assert_int_equal(sk_tcp_connect_data(r->st, port, &peer, RAW_PEER_PORT, NULL, data,
                                         sizeof(data), &queued, &c), 0);
    assert_int_equal(queued, 1420);
    raw_expect(r, SYN, iss, 0);
    assert_int_equal(sk_tcp_send(c, data + 1420, 3 * 1460 + 200), 3 * 1460 + 200);
    raw_run_for(r, MS(20));
    raw_send(r, .dport = port, .flags = SYN | ACK, .seq = 9999, .ack = iss + 1,
             .opts = SK_OPT_MSS | SK_OPT_SACK_PERM, .mss = 1460);
    const struct raw_out *o = raw_expect(r, ACK | PSH, iss + 1, 10000);
    assert_int_equal(o->len, 1420);
    /* Three whole segments of new data; Nagle holds the 200-byte tail (RFC 896). */
    for (uint32_t off = 1420; off < 1420 + 3 * 1460; off += 1460)
        assert_int_equal(raw_expect(r, ACK, iss + 1 + off, 10000)->len, 1460);
    raw_expect_none(r);
    struct sk_tcp_info i = info(c);
    assert_int_equal(i.retrans_out, 1);
    assert_int_equal(i.unacked, 4);
    raw_run_for(r, MS(20));
    uint8_t sack[12] = {1, 1, 5, 10};
    sk_put32(sack + 4, iss + 1 + 1420);
    sk_put32(sack + 8, iss + 1 + 1420 + 3 * 1460);
    raw_send(r, .dport = port, .flags = ACK, .seq = 10000, .ack = iss + 1, .raw_opts = sack,
             .raw_opts_len = sizeof(sack));
    o = raw_expect(r, ACK | PSH, iss + 1, 10000);
    assert_int_equal(o->len, 1420);
    assert_int_equal(o->time, r->now);
    sk_tcp_abort(c);
    raw_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_reference_cookie_matches_linux),
        TEST(test_server_cookie_then_data_in_syn),
        TEST(test_server_configured_key_and_experimental_option),
        TEST(test_server_icmp_closes_unaccepted_child),
        TEST(test_client_cookie_request_then_syn_data),
        TEST(test_client_syn_data_timeout_falls_back),
        TEST(test_client_syn_data_frag_needed),
        TEST(test_client_syn_data_resent_then_lost),
        TEST(test_pair_fast_open_both_ways_and_lost_syn),
        TEST(test_reference_cookie_ipv6_matches_linux),
        TEST(test_pair_fast_open_ipv6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
