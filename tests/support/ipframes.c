/* Test support for the IP layer (see ipframes.h). */
#include "ipframes.h"

#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

const uint8_t MAC_A[6] = {0x02, 0, 0, 0x77, 0, 0x02};
const uint8_t MAC_B[6] = {0x02, 0, 0, 0x77, 0, 0x01};
const uint8_t MAC_BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

size_t fr_eth(uint8_t *p, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
    struct sk_eth_hdr h = {.ethertype = type};
    memcpy(h.dst, dst, 6);
    memcpy(h.src, src, 6);
    return sk_eth_emit(p, SK_ETH_HLEN, &h);
}

size_t fr_arp(uint8_t *p, uint16_t op, const uint8_t sha[6], uint32_t spa, const uint8_t tha[6],
              uint32_t tpa)
{
    struct sk_arp a = {.op = op, .spa = spa, .tpa = tpa};
    memcpy(a.sha, sha, 6);
    memcpy(a.tha, tha, 6);
    return sk_arp_emit(p, SK_ARP_LEN, &a);
}

size_t fr_ip(uint8_t *p, uint32_t src, uint32_t dst, uint8_t proto, uint16_t id, uint16_t flags,
             uint16_t frag_off, const void *payload, size_t len)
{
    struct sk_ipv4_hdr h = {.hdr_len = 20, .id = id, .df = (flags & 0x4000) != 0,
                            .mf = (flags & 0x2000) != 0, .frag_off = frag_off, .ttl = 64,
                            .proto = proto, .src = src, .dst = dst};
    memmove(p + 20, payload, len);
    sk_ipv4_emit(p, 20, &h, len);
    return 20 + len;
}

size_t fr_udp(uint8_t *p, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
              const void *data, size_t len)
{
    struct sk_udp_hdr h = {.sport = sport, .dport = dport, .payload = data, .payload_len = len};
    return sk_udp_emit(p, 8 + len, src, dst, &h);
}

size_t fr_icmp(uint8_t *p, uint8_t type, uint8_t code, uint32_t rest, const void *data,
               size_t len)
{
    struct sk_icmp_hdr h = {.type = type, .code = code, .rest = rest, .payload = data,
                            .payload_len = len};
    return sk_icmp_emit(p, 8 + len, &h);
}

static void capture(void *ctx, const uint8_t *frame, size_t len,
                       const struct sk_frame_meta *meta)
{
    struct ethstack *e = ctx;
    if (e->link) {
        sk_memlink_send_meta(e->link, e->side, frame, len, meta, sk_stack_now(e->st));
        return;
    }
    if (e->nout == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 64;
        e->out = realloc(e->out, e->cap * sizeof(*e->out));
    }
    struct cap_frame *f = &e->out[e->nout++];
    f->len = len < sizeof(f->data) ? len : sizeof(f->data);
    memcpy(f->data, frame, f->len);
}

struct ethstack *ethstack_new(uint32_t addr, const uint8_t mac[6],
                              void (*tweak)(struct sk_config *))
{
    struct ethstack *e = calloc(1, sizeof(*e));
    struct sk_config cfg;
    sk_config_default(&cfg);
    cfg.link_type = SK_LINK_ETHERNET;
    memcpy(cfg.mac, mac, 6);
    cfg.addr = addr;
    cfg.prefix_len = 24;
    sk_config_set_test_seed(&cfg, addr);
    cfg.output = capture;
    cfg.output_ctx = e;
    if (tweak)
        tweak(&cfg);
    e->now = 1000000;
    e->st = sk_stack_new(&cfg, e->now, NULL);
    return e;
}

void ethstack_free(struct ethstack *e)
{
    sk_stack_free(e->st);
    free(e->out);
    free(e);
}

struct ethstack *ethstack_knowing_b(void)
{
    struct ethstack *e = ethstack_new(ETH_A_ADDR, MAC_A, NULL);
    uint8_t p[64];
    size_t n = fr_arp(p, 1 /* request */, MAC_B, ETH_B_ADDR, (const uint8_t[6]){0}, ETH_A_ADDR);
    ethstack_input(e, 0x0806 /* ARP */, p, n);
    e->nout = 0;
    return e;
}

void ethstack_input(struct ethstack *e, uint16_t type, const void *payload, size_t len)
{
    uint8_t f[70000];
    fr_eth(f, sk_stack_config(e->st)->mac, MAC_B, type);
    memcpy(f + 14, payload, len);
    sk_stack_input(e->st, f, 14 + len, e->now);
}

void ethstack_run_until(struct ethstack *e, sk_time_us t)
{
    for (;;) {
        sk_time_us d = sk_stack_next_deadline(e->st);
        if (d > t)
            break;
        if (d > e->now)
            e->now = d;
        sk_stack_poll(e->st, e->now);
    }
    e->now = t;
    sk_stack_poll(e->st, t);
}

uint64_t ethstack_drops(struct ethstack *e, int reason)
{
    struct sk_stack_counters c;
    sk_stack_counters(e->st, &c);
    return c.drops[reason];
}

struct sk_stack_counters ethstack_counters(struct ethstack *e)
{
    struct sk_stack_counters c;
    sk_stack_counters(e->st, &c);
    return c;
}

static void pair_deliver(void *ctx, int side, const uint8_t *frame, size_t len,
                         const struct sk_frame_meta *meta, sk_time_us now)
{
    struct ethpair *p = ctx;
    sk_stack_input_meta(side == 0 ? p->a->st : p->b->st, frame, len, meta, now);
}

struct ethpair *ethpair_new(void (*tweak)(struct sk_config *))
{
    struct ethpair *p = calloc(1, sizeof(*p));
    p->link = sk_memlink_new(7);
    struct sk_memlink_faults f = {.delay_us = 1000};
    sk_memlink_set_faults(p->link, 0, &f);
    sk_memlink_set_faults(p->link, 1, &f);
    p->a = ethstack_new(ETH_A_ADDR, MAC_A, tweak);
    p->b = ethstack_new(ETH_B_ADDR, MAC_B, tweak);
    p->a->link = p->b->link = p->link;
    p->a->side = 0;
    p->b->side = 1;
    /* The link offers each stack the offloads its configuration asks for (Ethernet framing:
     * the IPv4 header at 14). */
    sk_memlink_set_caps(p->link, 0, &sk_stack_config(p->a->st)->caps, SK_ETH_HLEN);
    sk_memlink_set_caps(p->link, 1, &sk_stack_config(p->b->st)->caps, SK_ETH_HLEN);
    p->now = 1000000;
    return p;
}

void ethpair_free(struct ethpair *p)
{
    ethstack_free(p->a);
    ethstack_free(p->b);
    sk_memlink_free(p->link);
    free(p);
}

void ethpair_run_until(struct ethpair *p, sk_time_us t)
{
    for (;;) {
        sk_time_us d = sk_memlink_next_deadline(p->link);
        sk_time_us da = sk_stack_next_deadline(p->a->st), db = sk_stack_next_deadline(p->b->st);
        if (da < d)
            d = da;
        if (db < d)
            d = db;
        if (d > t)
            break;
        if (d > p->now)
            p->now = d;
        sk_memlink_deliver_meta(p->link, p->now, pair_deliver, p);
        sk_stack_poll(p->a->st, p->now);
        sk_stack_poll(p->b->st, p->now);
    }
    p->now = t;
    p->a->now = p->b->now = t;
    sk_stack_poll(p->a->st, t);
    sk_stack_poll(p->b->st, t);
}
