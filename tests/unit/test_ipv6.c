/* IPv6 (RFC 8200), ICMPv6 (RFC 4443), neighbour discovery (RFC 4861) and address
 * autoconfiguration (RFC 4862, RFC 7217) on one stack and on two stacks joined by a link on a
 * virtual clock. Packets handed in come from python3-scapy (ipv6_vectors.h); expected values
 * from the RFCs' arithmetic done here, the reference SipHash (ref_isn.h), or counters that must
 * stay zero. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"
#include "ip/ip_int.h"
#include "ipv6_vectors.h"
#include "../ref/ref_isn.h"
#include "synack/memlink.h"
#include "synack/synack.h"

static const uint8_t MAC1[6] = {0x02, 0, 0, 0x66, 0, 0x0a};
static const uint8_t MAC2[6] = {0x02, 0, 0, 0x66, 0, 0x0b};
static const struct sk_addr ADDR_A = {{0x20, 0x01, 0x0d, 0xb8, [15] = 0x0a}};
static const struct sk_addr ADDR_B = {{0x20, 0x01, 0x0d, 0xb8, [15] = 0x0b}};

/* ---- a node: a stack, the frames it sent, and (in a pair) its peer ---- */
#define MAXF 256
struct frame {
    size_t len;
    uint8_t d[1600];
    sk_time_us at;
};
struct node {
    struct sk_stack *st;
    struct frame out[MAXF];
    size_t nout;
    struct node *peer;
    struct sk_memlink *link; /* a pair: the in-memory link, 1 ms each way; side 0 is a */
    int side;
    bool ether;
};
static sk_time_us now_us = 1000000;

static void output(void *ctx, const uint8_t *f, size_t len, const struct sk_frame_meta *meta)
{
    (void)meta;
    struct node *n = ctx;
    assert_true(len <= sizeof(n->out[0].d) && n->nout < MAXF);
    struct frame *fr = &n->out[n->nout++];
    fr->len = len;
    fr->at = now_us;
    memcpy(fr->d, f, len);
    if (n->link)
        sk_memlink_send_meta(n->link, n->side, f, len, meta, now_us);
}

static void deliver(void *ctx, int side, const uint8_t *f, size_t len,
                    const struct sk_frame_meta *meta, sk_time_us now)
{
    struct node **ns = ctx;
    sk_stack_input_meta(ns[side]->st, f, len, meta, now);
}

static struct sk_config base_config(bool ether, const uint8_t mac[6], uint64_t seed)
{
    struct sk_config c;
    sk_config_default(&c);
    c.link_type = ether ? SK_LINK_ETHERNET : SK_LINK_IP;
    memcpy(c.mac, mac, 6);
    c.addr = 0x0a000001u + (uint32_t)seed;
    c.ip6 = true;
    sk_config_set_test_seed(&c, seed);
    return c;
}

static struct node *node_new(struct sk_config *c, const struct sk_addr *a6)
{
    struct node *n = calloc(1, sizeof(*n));
    n->ether = c->link_type == SK_LINK_ETHERNET;
    if (a6) {
        memcpy(c->addr6[0].addr, a6->b, 16);
        c->addr6[0].prefix_len = 64;
        c->addr6_count = 1;
    }
    c->output = output;
    c->output_ctx = n;
    int err;
    n->st = sk_stack_new(c, now_us, &err);
    assert_non_null(n->st);
    return n;
}

static void node_free(struct node *n)
{
    sk_stack_free(n->st);
    if (n->link && n->side == 0)
        sk_memlink_free(n->link);
    free(n);
}

/* Joins a (side 0) and b by an in-memory link with 1 ms of delay each way. */
static void join(struct node *a, struct node *b)
{
    struct sk_memlink *l = sk_memlink_new(5);
    struct sk_memlink_faults f = {.delay_us = 1000};
    sk_memlink_set_faults(l, 0, &f);
    sk_memlink_set_faults(l, 1, &f);
    a->link = b->link = l;
    a->side = 0;
    b->side = 1;
    a->peer = b;
    b->peer = a;
}

/* Hands n an IPv6 packet (from the IPv6 header on), framed from src_mac. */
static void give(struct node *n, const uint8_t *pkt, size_t len, const uint8_t src_mac[6])
{
    uint8_t f[1600];
    size_t off = 0;
    if (n->ether) {
        memcpy(f, sk_stack_config(n->st)->mac, 6);
        memcpy(f + 6, src_mac, 6);
        f[12] = 0x86, f[13] = 0xdd;
        off = 14;
    }
    memcpy(f + off, pkt, len);
    sk_stack_input(n->st, f, off + len, now_us);
}

/* Runs nodes (one or a pair) until t: arrivals and timers in time order. */
static void run_until(struct node *a, struct node *b, sk_time_us t)
{
    struct node *ns[2] = {a, b};
    for (;;) {
        sk_time_us d = sk_stack_next_deadline(a->st);
        if (b && sk_stack_next_deadline(b->st) < d)
            d = sk_stack_next_deadline(b->st);
        if (a->link && sk_memlink_next_deadline(a->link) < d)
            d = sk_memlink_next_deadline(a->link);
        if (d > t)
            break;
        if (d > now_us)
            now_us = d;
        if (a->link)
            sk_memlink_deliver_meta(a->link, now_us, deliver, ns);
        sk_stack_poll(a->st, now_us);
        if (b)
            sk_stack_poll(b->st, now_us);
    }
    now_us = t;
    sk_stack_poll(a->st, t);
    if (b)
        sk_stack_poll(b->st, t);
}

static struct sk_stack_counters ctr(struct node *n)
{
    struct sk_stack_counters c;
    sk_stack_counters(n->st, &c);
    return c;
}

/* The IPv6 packet of a frame n sent. */
static const uint8_t *ip6_of(const struct node *n, const struct frame *f, size_t *len)
{
    size_t off = n->ether ? 14 : 0;
    if (n->ether)
        assert_int_equal(f->d[12] << 8 | f->d[13], 0x86dd);
    *len = f->len - off;
    assert_int_equal(f->d[off] >> 4, 6);
    return f->d + off;
}

/* RFC 1071 over the RFC 8200 §8.1 pseudo-header, written here: the ICMPv6 checksum of an
 * IPv6 packet without extension headers must verify (sum to 0xffff). */
static void assert_icmp6_checksum(const uint8_t *p, size_t len)
{
    uint32_t plen = (uint32_t)(p[4] << 8 | p[5]);
    assert_true(40 + plen <= len);
    uint64_t sum = 0;
    for (int i = 8; i < 40; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    sum += plen + 58;
    for (uint32_t i = 0; i < plen; i += 2)
        sum += (uint32_t)(p[40 + i] << 8 | (i + 1 < plen ? p[40 + i + 1] : 0));
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    assert_int_equal(sum, 0xffff);
}

/* RFC 7217 §5 as the stack documents it (addr6.c): SipHash-2-4 under the IID key (purpose 6)
 * over the prefix's 8 bytes, the MAC and the DAD counter; the identifier is the hash's 64 bits
 * big-endian. Computed with the reference SipHash. */
static void ref_iid_counter(uint64_t seed, const uint8_t prefix[8], const uint8_t mac[6],
                            uint8_t counter, uint8_t out[8])
{
    struct ref_key key;
    ref_key_from_test_seed(&key, seed);
    uint8_t k[16];
    ref_purpose_key(&key, 6, k);
    uint8_t msg[15];
    memcpy(msg, prefix, 8);
    memcpy(msg + 8, mac, 6);
    msg[14] = counter;
    uint64_t h = ref_siphash24(k, msg, sizeof(msg));
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(h >> (56 - 8 * i));
}

static void ref_iid(uint64_t seed, const uint8_t prefix[8], const uint8_t mac[6], uint8_t out[8])
{
    ref_iid_counter(seed, prefix, mac, 0, out);
}

/* A link-local address fe80::/64 with RFC 7217's identifier, tentative until DAD's one
 * solicitation (from ::, to the solicited-node group ff02::1:ffXX:XXXX at 33:33:ff:XX:XX:XX,
 * hop limit 255, no link address option: RFC 4862 §5.4.2) has waited RetransTimer (1 s). */
static void test_linklocal_dad(void **state)
{
    (void)state;
    now_us = 1000000;
    struct sk_config c = base_config(true, MAC1, 11);
    struct node *n = node_new(&c, NULL);
    struct sk_addr ll = {{0xfe, 0x80}};
    ref_iid(11, ll.b, MAC1, ll.b + 8);
    run_until(n, NULL, now_us);
    assert_false(sk_ip6_is_local(n->st, &ll)); /* tentative */
    assert_int_equal(n->nout, 1);
    size_t len;
    const uint8_t *p = ip6_of(n, &n->out[0], &len);
    const uint8_t mac[6] = {0x33, 0x33, 0xff, ll.b[13], ll.b[14], ll.b[15]};
    assert_memory_equal(n->out[0].d, mac, 6);
    assert_int_equal(p[7], 255);
    assert_int_equal(p[6], 58);
    static const uint8_t zero[16];
    assert_memory_equal(p + 8, zero, 16);
    const uint8_t group[16] = {0xff, 0x02, [11] = 1, 0xff, ll.b[13], ll.b[14], ll.b[15]};
    assert_memory_equal(p + 24, group, 16);
    assert_int_equal(p[4] << 8 | p[5], 24); /* NS: 8 + target, no option */
    assert_int_equal(p[40], 135);
    assert_memory_equal(p + 48, ll.b, 16);
    assert_icmp6_checksum(p, len);
    run_until(n, NULL, 1999999);
    assert_false(sk_ip6_is_local(n->st, &ll));
    run_until(n, NULL, 2000000);
    assert_true(sk_ip6_is_local(n->st, &ll));
    /* RFC 4861 §6.3.7: then a router solicitation from it, to ff02::2, 4 s apart, 3 in all. */
    run_until(n, NULL, 20000000);
    assert_int_equal(ctr(n).nd_rs_out, 3);
    assert_int_equal(n->nout, 4);
    assert_int_equal(n->out[2].at - n->out[1].at, 4000000);
    p = ip6_of(n, &n->out[1], &len);
    assert_memory_equal(p + 8, ll.b, 16);
    assert_int_equal(p[39], 2);
    assert_int_equal(p[40], 133);
    node_free(n);
}

/* Echo (RFC 4443 §4.2) on a bare-IP link: the reply carries the request's identifier, sequence
 * number and data, from the address asked, as scapy builds it (flow label aside). */
static void test_echo_bare_ip(void **state)
{
    (void)state;
    now_us = 1000000;
    struct sk_config c = base_config(false, MAC1, 12);
    struct node *n = node_new(&c, &ADDR_A);
    assert_true(sk_ip6_is_local(n->st, &ADDR_A)); /* no DAD without neighbour discovery */
    give(n, V6_ECHO_B_TO_A, sizeof(V6_ECHO_B_TO_A), MAC2);
    assert_int_equal(n->nout, 1);
    size_t len;
    const uint8_t *p = ip6_of(n, &n->out[0], &len);
    assert_int_equal(len, sizeof(V6_ECHO_REPLY_A_TO_B));
    assert_memory_equal(p + 4, V6_ECHO_REPLY_A_TO_B + 4, len - 4);
    assert_int_equal(p[1] >> 4, 0); /* traffic class 0 */
    assert_int_equal(ctr(n).icmp6_out, 1);
    node_free(n);
}

static void pair_new(struct node **a, struct node **b, bool ether, const struct sk_addr *addr_b)
{
    now_us = 1000000;
    struct sk_config ca = base_config(ether, MAC1, 21), cb = base_config(ether, MAC2, 22);
    *a = node_new(&ca, &ADDR_A);
    *b = node_new(&cb, addr_b);
    join(*a, *b);
}

/* Two stacks on Ethernet: A answers an echo request that B's address sent (handed in with
 * B's MAC), which needs B's link address: A solicits it (INCOMPLETE), B answers, A's entry is
 * REACHABLE for ReachableTime, 0.5..1.5 x 30 s (RFC 4861 §6.3.2), then STALE. B learned A
 * from the solicitation (STALE, §7.2.3), sent its advertisement (DELAY, §7.3.3), and after
 * DELAY_FIRST_PROBE_TIME (5 s) probes A by unicast (PROBE), whose answer makes it REACHABLE. */
static void test_nd_pair_states(void **state)
{
    (void)state;
    struct node *a, *b;
    pair_new(&a, &b, true, &ADDR_B);
    run_until(a, b, 3000000); /* DAD of both done */
    assert_true(sk_ip6_is_local(a->st, &ADDR_A));
    assert_true(sk_ip6_is_local(b->st, &ADDR_B));
    size_t a_out = a->nout, b_icmp = ctr(b).icmp6_in;
    give(a, V6_ECHO_B_TO_A, sizeof(V6_ECHO_B_TO_A), MAC2);
    sk_time_us t0 = now_us;
    struct neigh *e = sk_neigh_find(a->st, &ADDR_B);
    assert_non_null(e);
    assert_int_equal(e->state, NUD_INCOMPLETE);
    assert_int_equal(a->nout, a_out + 1); /* the solicitation; the reply waits */
    size_t len;
    const uint8_t *p = ip6_of(a, &a->out[a_out], &len);
    assert_int_equal(p[40], 135);
    assert_int_equal(p[7], 255);
    assert_memory_equal(p + 8, ADDR_A.b, 16);
    run_until(a, b, t0 + 10000);
    e = sk_neigh_find(a->st, &ADDR_B);
    assert_int_equal(e->state, NUD_REACHABLE);
    assert_memory_equal(e->mac, MAC2, 6);
    assert_int_equal(ctr(b).icmp6_in, b_icmp + 2); /* the solicitation, then the echo reply */
    struct neigh *eb = sk_neigh_find(b->st, &ADDR_A);
    assert_non_null(eb);
    assert_int_equal(eb->state, NUD_DELAY);
    uint64_t ns_b = ctr(b).nd_ns_out;
    run_until(a, b, t0 + 1000 + 5000000 - 1);
    assert_int_equal(sk_neigh_find(b->st, &ADDR_A)->state, NUD_DELAY);
    run_until(a, b, t0 + 1000 + 5000000 + 10000);
    assert_int_equal(ctr(b).nd_ns_out, ns_b + 1);
    assert_int_equal(sk_neigh_find(b->st, &ADDR_A)->state, NUD_REACHABLE);
    /* A's entry: REACHABLE for ReachableTime from the advertisement (at t0 + 2 ms). */
    e = sk_neigh_find(a->st, &ADDR_B);
    sk_time_us reach = e->expires - (t0 + 2000);
    assert_true(reach >= 15000000 && reach <= 45000000);
    /* Unused entries are left alone (§7.3.3); a use after ReachableTime finds it STALE and
     * starts DELAY. */
    run_until(a, b, t0 + 46000000);
    assert_int_equal(sk_neigh_find(a->st, &ADDR_B)->state, NUD_REACHABLE);
    uint8_t mac[6];
    assert_true(sk_neigh_lookup(a->st, &ADDR_B, mac));
    assert_int_equal(sk_neigh_find(a->st, &ADDR_B)->state, NUD_DELAY);
    assert_int_equal(ctr(a).drops[SK_DROP_ND_INVALID] + ctr(b).drops[SK_DROP_ND_INVALID], 0);
    node_free(a);
    node_free(b);
}

/* Both ways on both link types: an echo request handed to one stack as if from the other's
 * address draws a reply that crosses the link to the other, which takes it (icmp6_in; an
 * unasked-for reply is then dropped as icmp-type), with nothing else dropped but that. */
static void ping_both_ways(bool ether)
{
    struct node *a, *b;
    pair_new(&a, &b, ether, &ADDR_B);
    run_until(a, b, 3000000);
    give(a, V6_ECHO_B_TO_A, sizeof(V6_ECHO_B_TO_A), MAC2);
    run_until(a, b, now_us + 20000);
    assert_int_equal(ctr(a).icmp6_out, 1);
    assert_int_equal(ctr(b).drops[SK_DROP_ICMP_TYPE], 1);
    give(b, V6_ECHO_A_TO_B, sizeof(V6_ECHO_A_TO_B), MAC1);
    run_until(a, b, now_us + 20000);
    assert_int_equal(ctr(b).icmp6_out, 1);
    assert_int_equal(ctr(a).drops[SK_DROP_ICMP_TYPE], 1);
    assert_int_equal(ctr(a).drops_total + ctr(b).drops_total - 2,
                     ctr(a).drops[SK_DROP_LINK_NOT_FOR_US] + ctr(b).drops[SK_DROP_LINK_NOT_FOR_US]);
    node_free(a);
    node_free(b);
}

static void test_ping_pair_ethernet(void **state)
{
    (void)state;
    ping_both_ways(true);
}

static void test_ping_pair_bare_ip(void **state)
{
    (void)state;
    ping_both_ways(false);
}

static void give_multicast(struct node *n, const uint8_t *pkt, size_t len)
{
    uint8_t f[1600] = {0x33, 0x33, pkt[36], pkt[37], pkt[38], pkt[39]};
    memcpy(f + 6, MAC2, 6);
    f[12] = 0x86, f[13] = 0xdd;
    memcpy(f + 14, pkt, len);
    sk_stack_input(n->st, f, 14 + len, now_us);
}

/* RFC 4861 §7.2.5 on scapy's advertisements: a solicited one completes an INCOMPLETE entry
 * (REACHABLE); an unsolicited one without O and another link address only makes a REACHABLE
 * entry STALE, keeping the address; with O it replaces the address (STALE); a solicited one
 * then confirms it (REACHABLE). §7.1.2: hop limit not 255 is refused; §7.1.1: a DAD
 * solicitation (from ::) to a unicast address is refused. */
static void test_na_processing(void **state)
{
    (void)state;
    static const uint8_t MAC3[6] = {0x02, 0, 0, 0x66, 0, 0x0c};
    now_us = 1000000;
    struct sk_config c = base_config(true, MAC1, 20);
    c.ip6_linklocal = SK_IP6_LL_OFF;
    c.ip6_accept_ra = false;
    struct node *n = node_new(&c, &ADDR_A);
    run_until(n, NULL, 3000000);
    give(n, V6_ECHO_B_TO_A, sizeof(V6_ECHO_B_TO_A), MAC2);
    assert_int_equal(sk_neigh_find(n->st, &ADDR_B)->state, NUD_INCOMPLETE);
    give(n, V6_NA_S_MAC2, sizeof(V6_NA_S_MAC2), MAC2);
    struct neigh *e = sk_neigh_find(n->st, &ADDR_B);
    assert_int_equal(e->state, NUD_REACHABLE);
    assert_memory_equal(e->mac, MAC2, 6);
    give_multicast(n, V6_NA_UNSOL_MAC3, sizeof(V6_NA_UNSOL_MAC3));
    assert_int_equal(e->state, NUD_STALE);
    assert_memory_equal(e->mac, MAC2, 6);
    give_multicast(n, V6_NA_OVERRIDE_MAC3, sizeof(V6_NA_OVERRIDE_MAC3));
    assert_int_equal(e->state, NUD_STALE);
    assert_memory_equal(e->mac, MAC3, 6);
    give(n, V6_NA_S_MAC3, sizeof(V6_NA_S_MAC3), MAC3);
    assert_int_equal(e->state, NUD_REACHABLE);
    assert_int_equal(ctr(n).nd_na_in, 4);
    give(n, V6_NA_HLIM64, sizeof(V6_NA_HLIM64), MAC2);
    give(n, V6_NS_DAD_TO_UNICAST, sizeof(V6_NS_DAD_TO_UNICAST), MAC2);
    assert_int_equal(ctr(n).drops[SK_DROP_ND_INVALID], 2);
    assert_memory_equal(e->mac, MAC3, 6);
    node_free(n);
}

/* RFC 4861 §7.3.3 and §10: a STALE entry used starts DELAY; DELAY_FIRST_PROBE_TIME (5 s)
 * later PROBE sends MAX_UNICAST_SOLICIT (3) solicitations to the cached link address,
 * RetransTimer (1 s) apart; unanswered, the entry is forgotten RetransTimer after the last. */
static void test_nd_probe_unanswered(void **state)
{
    (void)state;
    now_us = 1000000;
    struct sk_config c = base_config(true, MAC1, 24);
    c.ip6_linklocal = SK_IP6_LL_OFF;
    c.ip6_accept_ra = false;
    struct node *n = node_new(&c, &ADDR_A);
    run_until(n, NULL, 3000000);
    give(n, V6_ECHO_B_TO_A, sizeof(V6_ECHO_B_TO_A), MAC2);
    give(n, V6_NA_S_MAC2, sizeof(V6_NA_S_MAC2), MAC2);
    assert_int_equal(sk_neigh_find(n->st, &ADDR_B)->state, NUD_REACHABLE);
    run_until(n, NULL, now_us + 46000000); /* past 1.5 x 30 s: surely no longer REACHABLE */
    uint8_t mac[6];
    assert_true(sk_neigh_lookup(n->st, &ADDR_B, mac));
    assert_memory_equal(mac, MAC2, 6);
    sk_time_us t0 = now_us;
    assert_int_equal(sk_neigh_find(n->st, &ADDR_B)->state, NUD_DELAY);
    size_t before = n->nout;
    run_until(n, NULL, t0 + 5000000 - 1);
    assert_int_equal(n->nout, before);
    run_until(n, NULL, t0 + 5000000);
    assert_int_equal(sk_neigh_find(n->st, &ADDR_B)->state, NUD_PROBE);
    run_until(n, NULL, t0 + 7000000);
    assert_int_equal(n->nout - before, 3);
    for (size_t i = before; i < n->nout; i++) {
        size_t len;
        const uint8_t *p = ip6_of(n, &n->out[i], &len);
        assert_memory_equal(n->out[i].d, MAC2, 6);   /* unicast to the cached address */
        assert_memory_equal(p + 24, ADDR_B.b, 16);
        assert_int_equal(p[40], 135);
        assert_int_equal(n->out[i].at, t0 + 5000000 + (i - before) * 1000000);
    }
    assert_non_null(sk_neigh_find(n->st, &ADDR_B));
    run_until(n, NULL, t0 + 8000000);
    assert_null(sk_neigh_find(n->st, &ADDR_B));
    node_free(n);
}

/* RFC 4861 §7.3.3: an INCOMPLETE entry sends MAX_MULTICAST_SOLICIT (3) solicitations
 * RetransTimer (1 s) apart, then is forgotten and what waited is dropped (counted). */
static void test_nd_unresolved(void **state)
{
    (void)state;
    now_us = 1000000;
    struct sk_config c = base_config(true, MAC1, 13);
    c.ip6_accept_ra = false;
    c.ip6_linklocal = SK_IP6_LL_OFF;
    struct node *n = node_new(&c, &ADDR_A);
    run_until(n, NULL, 3000000);
    size_t before = n->nout;
    give(n, V6_ECHO_B_TO_A, sizeof(V6_ECHO_B_TO_A), MAC2);
    sk_time_us t0 = now_us;
    run_until(n, NULL, t0 + 10000000);
    assert_int_equal(n->nout - before, 3);
    assert_int_equal(n->out[before + 1].at - n->out[before].at, 1000000);
    assert_int_equal(n->out[before + 2].at - n->out[before + 1].at, 1000000);
    assert_int_equal(ctr(n).drops[SK_DROP_ARP_UNRESOLVED], 1);
    assert_null(sk_neigh_find(n->st, &ADDR_B));
    node_free(n);
}

/* RFC 4862 §5.4.3: two stacks starting with the same address both see the other's DAD
 * solicitation: each marks it duplicated (counted) and never uses it. */
static void test_dad_conflict(void **state)
{
    (void)state;
    struct node *a, *b;
    pair_new(&a, &b, true, &ADDR_A);
    run_until(a, b, 5000000);
    assert_int_equal(ctr(a).ip6_dad_duplicates, 1);
    assert_int_equal(ctr(b).ip6_dad_duplicates, 1);
    assert_false(sk_ip6_is_local(a->st, &ADDR_A));
    assert_false(sk_ip6_is_local(b->st, &ADDR_A));
    node_free(a);
    node_free(b);
}

/* RFC 4862 §5.4.4: an address in use answers a later node's DAD with an advertisement to
 * all-nodes, and the newcomer gives the address up. */
static void test_dad_conflict_late(void **state)
{
    (void)state;
    now_us = 1000000;
    struct sk_config ca = base_config(true, MAC1, 31);
    struct node *a = node_new(&ca, &ADDR_A);
    run_until(a, NULL, 3000000);
    assert_true(sk_ip6_is_local(a->st, &ADDR_A));
    struct sk_config cb = base_config(true, MAC2, 32);
    struct node *b = node_new(&cb, &ADDR_A);
    join(a, b);
    run_until(a, b, 6000000);
    assert_int_equal(ctr(a).ip6_dad_duplicates, 0);
    assert_int_equal(ctr(b).ip6_dad_duplicates, 1);
    assert_true(sk_ip6_is_local(a->st, &ADDR_A));
    assert_false(sk_ip6_is_local(b->st, &ADDR_A));
    node_free(a);
    node_free(b);
}

/* RFC 7217 §6: when another node already holds the link-local address A would form, A marks
 * it duplicated and forms the next one (DAD_Counter 1), which passes DAD and is used. */
static void test_linklocal_dad_retry(void **state)
{
    (void)state;
    now_us = 1000000;
    struct sk_addr ll0 = {{0xfe, 0x80}}, ll1 = {{0xfe, 0x80}};
    ref_iid(41, ll0.b, MAC1, ll0.b + 8);
    ref_iid_counter(41, ll1.b, MAC1, 1, ll1.b + 8);
    struct sk_config cb = base_config(true, MAC2, 42);
    struct node *b = node_new(&cb, &ll0);
    run_until(b, NULL, 3000000);
    assert_true(sk_ip6_is_local(b->st, &ll0));
    struct sk_config ca = base_config(true, MAC1, 41);
    struct node *a = node_new(&ca, NULL);
    join(a, b);
    run_until(a, b, 8000000);
    assert_int_equal(ctr(a).ip6_dad_duplicates, 1);
    assert_false(sk_ip6_is_local(a->st, &ll0));
    assert_true(sk_ip6_is_local(a->st, &ll1));
    assert_true(sk_ip6_is_local(b->st, &ll0));
    node_free(a);
    node_free(b);
}

/* A router advertisement (scapy's) gives: the default router fe80::1, the IPv6 link MTU 1400,
 * and after DAD a SLAAC address 2001:db8:1::/64 + the RFC 7217 identifier of that prefix,
 * preferred for 14400 s and valid for 86400 s (RFC 4862 §5.5.3). */
static void test_ra_slaac(void **state)
{
    (void)state;
    now_us = 1000000;
    struct sk_config c = base_config(true, MAC1, 14);
    struct node *n = node_new(&c, NULL);
    run_until(n, NULL, 2500000);
    static const uint8_t rmac[6] = {0x02, 0, 0, 0, 0, 1};
    uint8_t f[200];
    memcpy(f, (const uint8_t[6]){0x33, 0x33, 0, 0, 0, 1}, 6);
    memcpy(f + 6, rmac, 6);
    f[12] = 0x86, f[13] = 0xdd;
    memcpy(f + 14, V6_RA, sizeof(V6_RA));
    sk_stack_input(n->st, f, 14 + sizeof(V6_RA), now_us);
    sk_time_us t0 = now_us;
    assert_int_equal(ctr(n).nd_ra_in, 1);
    struct sk_addr slaac = {{0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01}};
    ref_iid(14, slaac.b, MAC1, slaac.b + 8);
    assert_false(sk_ip6_is_local(n->st, &slaac));
    run_until(n, NULL, t0 + 1000000);
    assert_true(sk_ip6_is_local(n->st, &slaac));
    struct sk_addr far = {{0x20, 0x01, 0x0d, 0xb8, 0x00, 0x99, [15] = 1}}, src;
    assert_true(sk_ip6_select_src(n->st, &far, &src));
    assert_memory_equal(src.b, slaac.b, 16); /* RFC 6724 rule 2: global scope for global */
    assert_int_equal(sk_ip6_path_mtu(n->st, &far), 1400);
    const struct sk_addr router = {{0xfe, 0x80, [15] = 1}};
    assert_memory_equal(n->st->ip->ip6.routers[0].a.b, router.b, 16);
    assert_int_equal(n->st->ip->ip6.routers[0].until, t0 + 1800ull * 1000000);
    struct neigh *e = sk_neigh_find(n->st, &router);
    assert_non_null(e);
    assert_int_equal(e->state, NUD_STALE); /* §6.3.4: learned from the option */
    assert_memory_equal(e->mac, rmac, 6);
    /* Preferred lifetime over: deprecated but still ours; valid lifetime over: gone. */
    run_until(n, NULL, t0 + 14400ull * 1000000 + 1);
    assert_int_equal(sk_ip6_addr_find(n->st, &slaac)->state, IP6A_DEPRECATED);
    assert_true(sk_ip6_is_local(n->st, &slaac));
    run_until(n, NULL, t0 + 86400ull * 1000000 + 1);
    assert_false(sk_ip6_is_local(n->st, &slaac));
    node_free(n);
}

/* One Parameter Problem: its code and pointer, and that it quotes the packet. */
static void expect_pp(struct node *n, size_t at, uint8_t code, uint32_t pointer,
                      const uint8_t *quoted, size_t qlen)
{
    assert_true(n->nout > at);
    size_t len;
    const uint8_t *p = ip6_of(n, &n->out[at], &len);
    assert_int_equal(p[40], 4);
    assert_int_equal(p[41], code);
    assert_int_equal((uint32_t)p[44] << 24 | p[45] << 16 | p[46] << 8 | p[47], pointer);
    assert_int_equal(len, 48 + qlen);
    assert_memory_equal(p + 48, quoted, qlen);
    assert_icmp6_checksum(p, len);
}

/* RFC 8200 §4.2, §4, §4.4 and RFC 5095: Parameter Problems for bad extension headers, each
 * pointer counted from the IPv6 header as RFC 4443 §3.4 says. */
static void test_param_problem_pointers(void **state)
{
    (void)state;
    now_us = 1000000;
    struct sk_config c = base_config(false, MAC1, 15);
    struct node *n = node_new(&c, &ADDR_A);
    /* Destination Options (after the 40-byte header): Next Header, Hdr Ext Len, then the
     * option: its type byte at 40 + 2. Type 0x80: action 10, code 2. */
    give(n, V6_DSTOPT_UNKNOWN_10, sizeof(V6_DSTOPT_UNKNOWN_10), MAC2);
    expect_pp(n, 0, 2, 40 + 2, V6_DSTOPT_UNKNOWN_10, sizeof(V6_DSTOPT_UNKNOWN_10));
    /* Type 0 routing header with one segment left: code 0 at its Routing Type, the third
     * byte of the header (Next Header, Hdr Ext Len, Routing Type): 40 + 2. */
    give(n, V6_RH0, sizeof(V6_RH0), MAC2);
    expect_pp(n, 1, 0, 40 + 2, V6_RH0, sizeof(V6_RH0));
    assert_int_equal(ctr(n).drops[SK_DROP_IP6_ROUTING], 1);
    /* Hop-by-Hop after Destination Options: code 1 at the Next Header naming it, the first
     * byte of the Destination Options header: 40. */
    give(n, V6_HBH_NOT_FIRST, sizeof(V6_HBH_NOT_FIRST), MAC2);
    expect_pp(n, 2, 1, 40, V6_HBH_NOT_FIRST, sizeof(V6_HBH_NOT_FIRST));
    /* An unrecognized Next Header in the fixed header: code 1 at its field, byte 6 (RFC 8200
     * §4); No Next Header (59) ends the packet quietly (§4.7). */
    give(n, V6_UNKNOWN_NH, sizeof(V6_UNKNOWN_NH), MAC2);
    expect_pp(n, 3, 1, 6, V6_UNKNOWN_NH, sizeof(V6_UNKNOWN_NH));
    give(n, V6_NO_NEXT, sizeof(V6_NO_NEXT), MAC2);
    assert_int_equal(n->nout, 4);
    assert_int_equal(ctr(n).icmp6_out, 4);
    node_free(n);
}

static void tight_bucket(struct sk_config *c)
{
    c->icmp_burst = 2;
    c->icmp_rate_per_s = 1;
}

/* RFC 4443 §2.4 (f): errors share ICMPv4's token bucket: with a burst of 2, five bad
 * packets at once draw two errors and three counted icmp-rate-limited drops. */
static void test_error_rate_limited(void **state)
{
    (void)state;
    now_us = 1000000;
    struct sk_config c = base_config(false, MAC1, 16);
    tight_bucket(&c);
    struct node *n = node_new(&c, &ADDR_A);
    for (int i = 0; i < 5; i++)
        give(n, V6_RH0, sizeof(V6_RH0), MAC2);
    assert_int_equal(n->nout, 2);
    assert_int_equal(ctr(n).drops[SK_DROP_ICMP_RATELIMIT], 3);
    node_free(n);
}

/* RFC 8201: a Packet Too Big lowers the path MTU toward the quoted destination, never below
 * 1280 (RFC 8200 §5), and only for that destination. */
static void test_packet_too_big(void **state)
{
    (void)state;
    now_us = 1000000;
    struct sk_config c = base_config(false, MAC1, 17);
    struct node *n = node_new(&c, &ADDR_A);
    const struct sk_addr d1 = {{0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 0x99}};
    const struct sk_addr d2 = {{0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 0x98}};
    assert_int_equal(sk_ip6_path_mtu(n->st, &d1), 1500);
    give(n, V6_PTB_1300, sizeof(V6_PTB_1300), MAC2);
    assert_int_equal(sk_ip6_path_mtu(n->st, &d1), 1300);
    assert_int_equal(sk_ip6_path_mtu(n->st, &d2), 1500);
    give(n, V6_PTB_1000, sizeof(V6_PTB_1000), MAC2);
    assert_int_equal(sk_ip6_path_mtu(n->st, &d2), 1280);
    assert_int_equal(ctr(n).ip6_pmtu_lowered, 2);
    assert_int_equal(ctr(n).ip6_pmtu_floored, 1);
    char buf[4096];
    sk_stack_limits_format(n->st, buf, sizeof(buf));
    assert_non_null(strstr(buf, "limit.ip6_pmtu_min 1280 in-use - held 1\n"));
    /* RFC 8201 §4: the learned value ages out (10 minutes here). */
    run_until(n, NULL, now_us + 600000001);
    assert_int_equal(sk_ip6_path_mtu(n->st, &d1), 1500);
    node_free(n);
}

/* RFC 6724 §5 between two global addresses and a link-local one: rule 1 (the destination
 * itself), rule 2 (link-local for link-local, global for global), rule 3 (avoid deprecated),
 * rule 8 (longest matching prefix). */
static void test_select_src(void **state)
{
    (void)state;
    now_us = 1000000;
    struct sk_config c = base_config(false, MAC1, 19);
    c.ip6_linklocal = SK_IP6_LL_ON; /* bare IP: no DAD, usable at once */
    const struct sk_addr g2 = {{0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x0a}};
    struct node *n = node_new(&c, &ADDR_A);
    assert_non_null(sk_ip6_addr_add(n->st, &g2, 64, IP6A_STATIC));
    struct sk_addr ll = {{0xfe, 0x80}}, src;
    ref_iid(19, ll.b, MAC1, ll.b + 8);
    const struct sk_addr d_g2net = {{0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x99}};
    const struct sk_addr d_ll = {{0xfe, 0x80, [15] = 5}};
    assert_true(sk_ip6_select_src(n->st, &g2, &src)); /* rule 1 */
    assert_memory_equal(src.b, g2.b, 16);
    assert_true(sk_ip6_select_src(n->st, &d_ll, &src)); /* rule 2 */
    assert_memory_equal(src.b, ll.b, 16);
    assert_true(sk_ip6_select_src(n->st, &d_g2net, &src)); /* rule 8: 64 bits against 47 */
    assert_memory_equal(src.b, g2.b, 16);
    sk_ip6_addr_find(n->st, &g2)->state = IP6A_DEPRECATED; /* rule 3 before rule 8 */
    assert_true(sk_ip6_select_src(n->st, &d_g2net, &src));
    assert_memory_equal(src.b, ADDR_A.b, 16);
    node_free(n);
}

/* RFC 8200 §4.5: a reply larger than the path MTU (1300, from a Packet Too Big) leaves in
 * fragments: each at most the path MTU, all but the last a multiple of 8 bytes of data, one
 * identification, Next Header 44 then 58; put together (the first's header with the Payload
 * Length of the whole) they are the reply: the request's data with a right checksum. */
static void test_fragments_out(void **state)
{
    (void)state;
    now_us = 1000000;
    struct sk_config c = base_config(false, MAC1, 23);
    struct node *n = node_new(&c, &ADDR_A);
    give(n, V6_PTB_1300_TO_B, sizeof(V6_PTB_1300_TO_B), MAC2);
    give(n, V6_ECHO_BIG_B_TO_A, sizeof(V6_ECHO_BIG_B_TO_A), MAC2);
    assert_int_equal(n->nout, 2);
    size_t total = sizeof(V6_ECHO_BIG_B_TO_A) - 40; /* 8 + 1400 bytes of ICMPv6 */
    size_t per = (1300 - 40 - 8) / 8 * 8;           /* 1248 */
    uint8_t whole[1600];
    size_t l0, l1;
    const uint8_t *f0 = ip6_of(n, &n->out[0], &l0), *f1 = ip6_of(n, &n->out[1], &l1);
    assert_int_equal(l0, 40 + 8 + per);
    assert_int_equal(l1, 40 + 8 + total - per);
    assert_int_equal(f0[6], 44);
    assert_int_equal(f1[6], 44);
    assert_int_equal(f0[40], 58);
    assert_int_equal(f0[42] << 8 | f0[43], 0 | 1);   /* offset 0, M */
    assert_int_equal(f1[42] << 8 | f1[43], per | 0); /* offset 1248 (156 x 8), last */
    assert_memory_equal(f0 + 44, f1 + 44, 4);        /* one identification */
    assert_int_equal(ctr(n).ip6_frags_out, 2);
    memcpy(whole, f0, 40);
    whole[4] = (uint8_t)(total >> 8), whole[5] = (uint8_t)total, whole[6] = 58;
    memcpy(whole + 40, f0 + 48, per);
    memcpy(whole + 40 + per, f1 + 48, total - per);
    assert_int_equal(whole[40], 129);
    assert_memory_equal(whole + 44, V6_ECHO_BIG_B_TO_A + 44, total - 4);
    assert_icmp6_checksum(whole, 40 + total);
    node_free(n);
}

/* Fragments in (RFC 8200 §4.5): the scapy echo request cut here by the RFC's layout into two
 * fragments (1248 and 160 bytes of the 1408 after the fixed header, Next Header 58 in the
 * Fragment header, one identification), the second first: the stack puts them together and
 * answers the whole request; the reply (1448 bytes, within the MTU) carries the request's
 * identifier, sequence and data. A lone fragment is held, not answered. */
static void test_fragments_in(void **state)
{
    (void)state;
    now_us = 1000000;
    struct sk_config c = base_config(false, MAC1, 23);
    struct node *n = node_new(&c, &ADDR_A);
    const uint8_t *req = V6_ECHO_BIG_B_TO_A;
    size_t total = sizeof(V6_ECHO_BIG_B_TO_A) - 40, per = 1248;
    uint8_t f[2][1400];
    size_t flen[2];
    for (int k = 0; k < 2; k++) {
        size_t off = k ? per : 0, n_ = k ? total - per : per;
        memcpy(f[k], req, 40);
        f[k][4] = (uint8_t)((8 + n_) >> 8), f[k][5] = (uint8_t)(8 + n_);
        f[k][6] = 44; /* Fragment */
        uint8_t *fh = f[k] + 40;
        fh[0] = 58, fh[1] = 0;
        fh[2] = (uint8_t)(off >> 8), fh[3] = (uint8_t)((off & 0xf8) | (k ? 0 : 1));
        fh[4] = 0x12, fh[5] = 0x34, fh[6] = 0x56, fh[7] = 0x78;
        memcpy(fh + 8, req + 40 + off, n_);
        flen[k] = 48 + n_;
    }
    give(n, f[1], flen[1], MAC2);
    assert_int_equal(n->nout, 0);
    give(n, f[0], flen[0], MAC2);
    assert_int_equal(n->nout, 1);
    size_t l;
    const uint8_t *r = ip6_of(n, &n->out[0], &l);
    assert_int_equal(l, 40 + total);
    assert_int_equal(r[6], 58);
    assert_int_equal(r[40], 129); /* echo reply */
    assert_memory_equal(r + 44, req + 44, total - 4);
    assert_icmp6_checksum(r, l);
    assert_int_equal(ctr(n).ip_reassembled, 1);
    assert_int_equal(ctr(n).drops_total, 0);
    node_free(n);
}

/* TCP over this layer on Ethernet (the transports are deliver6.c's): A connects to B's
 * address, neighbour discovery resolves both ways, and 1 MB goes through a link that loses
 * 1% of the frames (memlink's seeded faults), arriving byte-exact. */
static void tcp_over_ethernet(double loss)
{
    struct node *a, *b;
    pair_new(&a, &b, true, &ADDR_B);
    struct sk_memlink_faults f = {.delay_us = 1000, .loss = loss};
    sk_memlink_set_faults(a->link, 0, &f);
    sk_memlink_set_faults(a->link, 1, &f);
    a->nout = b->nout = 0;
    run_until(a, b, 3000000);
    struct sk_tcp *l, *c, *s = NULL;
    assert_int_equal(sk_tcp_listen(b->st, 80, 8, &l), 0);
    assert_int_equal(sk_tcp_connect_addr(a->st, 0, &ADDR_B, 80, NULL, &c), 0);
    enum { TOTAL = 1 << 20 };
    static uint8_t buf[TOTAL], got[TOTAL];
    for (size_t i = 0; i < TOTAL; i++)
        buf[i] = (uint8_t)(i * 7 + (i >> 11));
    size_t sent = 0, recvd = 0;
    for (int step = 0; step < 200000 && recvd < TOTAL; step++) {
        if (a->nout > MAXF / 2)
            a->nout = 0; /* the log is for the other tests: keep room */
        if (b->nout > MAXF / 2)
            b->nout = 0;
        run_until(a, b, now_us + 1000);
        if (s == NULL && sk_tcp_accept(l, &s) != 0)
            s = NULL;
        if (sent < TOTAL) {
            ssize_t n = sk_tcp_send(c, buf + sent, TOTAL - sent);
            if (n > 0)
                sent += (size_t)n;
        }
        if (s) {
            ssize_t n = sk_tcp_recv(s, got + recvd, TOTAL - recvd);
            if (n > 0)
                recvd += (size_t)n;
        }
    }
    assert_int_equal(recvd, TOTAL);
    assert_memory_equal(got, buf, TOTAL);
    assert_true(ctr(a).nd_na_in >= 1 && ctr(b).nd_ns_in >= 1);
    assert_int_equal(ctr(a).drops[SK_DROP_ARP_QUEUE_FULL] + ctr(b).drops[SK_DROP_ARP_QUEUE_FULL],
                     0);
    assert_int_equal(ctr(a).drops[SK_DROP_OUT_NO_ROUTE] + ctr(b).drops[SK_DROP_OUT_NO_ROUTE], 0);
    node_free(a);
    node_free(b);
}

static void test_tcp_over_ethernet(void **state)
{
    (void)state;
    tcp_over_ethernet(0);
}

static void test_tcp_over_ethernet_lossy(void **state)
{
    (void)state;
    tcp_over_ethernet(0.01);
}

/* ARP keeps working beside IPv6 on the same stack: IPv4-only stacks are unchanged (test_arp),
 * and ip6 off drops IPv6 as before (ip-version). */
static void test_ip6_off_drops(void **state)
{
    (void)state;
    now_us = 1000000;
    struct sk_config c = base_config(false, MAC1, 18);
    c.ip6 = false;
    struct node *n = node_new(&c, NULL);
    give(n, V6_ECHO_B_TO_A, sizeof(V6_ECHO_B_TO_A), MAC2);
    assert_int_equal(n->nout, 0);
    assert_int_equal(ctr(n).drops[SK_DROP_IP_VERSION], 1);
    node_free(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linklocal_dad),
        cmocka_unit_test(test_echo_bare_ip),
        cmocka_unit_test(test_nd_pair_states),
        cmocka_unit_test(test_ping_pair_ethernet),
        cmocka_unit_test(test_ping_pair_bare_ip),
        cmocka_unit_test(test_nd_unresolved),
        cmocka_unit_test(test_na_processing),
        cmocka_unit_test(test_nd_probe_unanswered),
        cmocka_unit_test(test_dad_conflict),
        cmocka_unit_test(test_dad_conflict_late),
        cmocka_unit_test(test_linklocal_dad_retry),
        cmocka_unit_test(test_ra_slaac),
        cmocka_unit_test(test_param_problem_pointers),
        cmocka_unit_test(test_error_rate_limited),
        cmocka_unit_test(test_packet_too_big),
        cmocka_unit_test(test_select_src),
        cmocka_unit_test(test_fragments_out),
        cmocka_unit_test(test_fragments_in),
        cmocka_unit_test(test_tcp_over_ethernet),
        cmocka_unit_test(test_tcp_over_ethernet_lossy),
        cmocka_unit_test(test_ip6_off_drops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
