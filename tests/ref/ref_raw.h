/* The raw peer of tests/support/harness.h with ISNs the test knows beforehand: the stack gets
 * a key the test chose (ref_isn.h), and every ISS the stack must send is computed from RFC
 * 6528 §3 here, never read back from the stack. */
#ifndef SK_TEST_REF_RAW_H
#define SK_TEST_REF_RAW_H

#include "harness.h"
#include "ref_isn.h"

/* raw_new_at with key (made from seed) on top of cfg (NULL: harness_config(side 0)). key must
 * outlive the stack. */
static inline struct raw *ref_raw_new_at(const struct sk_config *cfg, struct ref_key *key,
                                         uint8_t seed, sk_time_us start)
{
    struct sk_config c;
    if (cfg)
        c = *cfg;
    else
        harness_config(&c, 0);
    ref_isn_config(&c, key, seed);
    return raw_new_at(&c, start);
}

static inline struct raw *ref_raw_new(const struct sk_config *cfg, struct ref_key *key,
                                      uint8_t seed)
{
    return ref_raw_new_at(cfg, key, seed, T0);
}

/* The ISS the raw stack (ADDR_A, port lport) must choose at this moment for the peer ADDR_B
 * at port rport, actively or passively. */
static inline uint32_t ref_raw_iss(const struct raw *r, const struct ref_key *key, uint16_t lport,
                                   uint16_t rport)
{
    return ref_isn(key, ADDR_A, lport, ADDR_B, rport, r->now);
}

/* raw_connect with the expected ISS: connect from RAW_LOCAL_PORT, the SYN must carry the RFC
 * 6528 ISS, the peer answers SYN,ACK with its ISN irs, the stack ACKs. */
static inline struct sk_tcp *ref_raw_connect_(const char *f, int l, struct raw *r,
                                              const struct ref_key *key, uint32_t irs,
                                              uint32_t *iss)
{
    struct sk_tcp *c = NULL;
    uint32_t s = ref_raw_iss(r, key, RAW_LOCAL_PORT, RAW_PEER_PORT);
    assert_int_equal(sk_tcp_connect(r->st, RAW_LOCAL_PORT, ADDR_B, RAW_PEER_PORT, &c), 0);
    raw_expect_(f, l, r, SK_TCP_SYN, s, 0);
    raw_send(r, .flags = SK_TCP_SYN | SK_TCP_ACK, .seq = irs, .ack = s + 1, .opts = SK_OPT_MSS,
             .mss = 1460);
    raw_expect_(f, l, r, SK_TCP_ACK, s + 1, irs + 1);
    assert_int_equal(sk_tcp_get_state(c), SK_TCP_ESTABLISHED);
    if (iss)
        *iss = s;
    return c;
}
#define ref_raw_connect(r, key, irs, iss) ref_raw_connect_(HLOC, (r), (key), (irs), (iss))

#endif
