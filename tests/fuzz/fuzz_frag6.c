/* libFuzzer target: IPv6 reassembly (sk_ip6frag_input in src/ip/ip_frag.c) under small limits.
 * Input: a script of fragments for a few identifications, each record
 *   id (2 bits), M, unfragmentable part (none, Hop-by-Hop, Destination Options + Routing, a
 *   16-byte Hop-by-Hop), Fragment header's Next Header (UDP, TCP, Destination Options, 253),
 *   offset (8-byte units), length, time step, then the data bytes;
 * each built as an IPv6 packet, walked by sk_ip6_ext_walk and, when the walk accepts it, handed
 * to sk_ip6frag_input as the IPv6 layer will.
 * Properties: the memory the stack reports never passes ipfrag_max_bytes and the allocator
 * agrees; an atomic fragment comes back as itself; a reassembled packet's Payload Length counts
 * exactly its bytes, it carries no Fragment header in its unfragmentable part and parses; after
 * 60 s every byte is back. */
#include "fuzz_common.h"
#include "ip/ip_int.h"
#include "synack/synack.h"

#define LIMIT (16u * 1024u)

static size_t mem_now;

static void *counting_alloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
    (void)ctx;
    mem_now = mem_now - old_size + new_size;
    if (new_size == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, new_size);
}

static void discard_output(void *ctx, const uint8_t *frame, size_t len,
                           const struct sk_frame_meta *meta)
{
    (void)meta, (void)ctx, (void)frame, (void)len;
}

/* The unfragmentable part's extension headers after the fixed header; returns their length
 * and sets *first to the fixed header's Next Header. Each ends naming the Fragment header. */
static size_t unfragmentable(uint8_t *p, unsigned variant, uint8_t *first)
{
    *first = SK_IPPROTO_FRAGMENT;
    if (variant == 0)
        return 0;
    if (variant == 2) {
        *first = SK_IPPROTO_DSTOPTS;
        memset(p, 0, 16);
        p[0] = SK_IPPROTO_ROUTING;
        p[2] = 1, p[3] = 4;                          /* PadN */
        p[8] = SK_IPPROTO_FRAGMENT;
        p[10] = 4;                                   /* routing type 4, segments left 0 */
        return 16;
    }
    size_t n = variant == 1 ? 8 : 16;
    *first = SK_IPPROTO_HOPOPTS;
    memset(p, 0, n);
    p[0] = SK_IPPROTO_FRAGMENT;
    p[1] = (uint8_t)(n / 8 - 1);
    p[2] = 1, p[3] = (uint8_t)(n - 4);               /* PadN over the rest */
    return n;
}

static void check_whole(const uint8_t *out, size_t out_len)
{
    FUZZ_CHECK(out_len >= SK_IPV6_HLEN && out_len <= SK_IPV6_HLEN + UINT16_MAX);
    FUZZ_CHECK(sk_get16(out + 4) + (size_t)SK_IPV6_HLEN == out_len);
    struct sk_ipv6_hdr h;
    FUZZ_CHECK(sk_ipv6_parse(out, out_len, &h) == SK_DROP_NONE);
    struct sk_ip6_ext e;
    int err = sk_ip6_ext_walk(out, out_len, &e);
    /* The fragmentable part may itself hold anything, even another Fragment header, but not
     * in the unfragmentable part that reassembly rebuilt. */
    if (err == SK_DROP_NONE && e.has_frag)
        FUZZ_CHECK(e.frag_hdr_off >= SK_IPV6_HLEN);
}

/* One fragment from the reader; false when the input is used up. */
static bool fragment(struct fuzz_reader *r, struct sk_stack *st, sk_time_us *now)
{
    if (r->n < 5)
        return false;
    uint8_t a = fuzz_u8(r), b = fuzz_u8(r), c = fuzz_u8(r), d = fuzz_u8(r), step = fuzz_u8(r);
    static const uint8_t protos[4] = {SK_IPPROTO_UDP, SK_IPPROTO_TCP, SK_IPPROTO_DSTOPTS, 253};
    static uint8_t pkt[40 + 16 + 8 + 1500];
    uint8_t first;
    size_t ulen = unfragmentable(pkt + 40, (a >> 3) & 3, &first);
    size_t hlen = 40 + ulen + 8;
    uint16_t off8 = (uint16_t)(((a >> 5) << 8 | b) % 8192);
    size_t len = (size_t)(c % 180) * 8 + (d & 7);
    if (len > sizeof(pkt) - hlen)
        len = sizeof(pkt) - hlen;
    memset(pkt, 0, 40);
    pkt[0] = 0x60;
    sk_put16(pkt + 4, (uint16_t)(hlen - 40 + len));
    pkt[6] = first;
    pkt[7] = 64;
    pkt[8] = 0x20, pkt[9] = 0x01, pkt[23] = 2;
    pkt[24] = 0x20, pkt[25] = 0x01, pkt[39] = 1;
    uint8_t *f = pkt + 40 + ulen;
    f[0] = protos[(d >> 3) & 3];
    f[1] = 0;
    sk_put16(f + 2, (uint16_t)(off8 << 3 | ((a & 0x04) ? 1 : 0)));
    sk_put32(f + 4, 0x1000u + (a & 3));
    for (size_t i = 0; i < len; i++)
        pkt[hlen + i] = fuzz_u8(r);
    *now += (sk_time_us)step * 250000u; /* up to 63.75 s: some datagrams expire */
    sk_stack_poll(st, *now);

    struct sk_ip6_ext e;
    if (sk_ip6_ext_walk(pkt, hlen + len, &e) != SK_DROP_NONE || !e.has_frag)
        return true;
    const uint8_t *out = NULL;
    size_t out_len = 0;
    struct frag_dgram *done = NULL;
    if (sk_ip6frag_input(st, pkt, hlen + len, &e, pkt, hlen + len, &out, &out_len, &done)) {
        if (done == NULL) {
            FUZZ_CHECK(e.frag_offset == 0 && !e.frag_more && out == pkt);
        } else {
            check_whole(out, out_len);
            sk_ipfrag_release(st, done);
        }
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sk_config cfg;
    sk_config_default(&cfg);
    sk_config_set_test_seed(&cfg, 1);
    cfg.addr = 0x0a000001u;
    cfg.output = discard_output;
    cfg.alloc = counting_alloc;
    cfg.ipfrag_max_bytes = LIMIT;
    cfg.ipfrag_max_datagrams = 3;
    cfg.ipfrag_max_fragments = 12;
    mem_now = 0;
    sk_time_us now = 1000000;
    struct sk_stack *st = sk_stack_new(&cfg, now, NULL);
    FUZZ_CHECK(st != NULL);
    size_t idle = mem_now;
    struct fuzz_reader r = {data, size};
    while (fragment(&r, st, &now)) {
        struct sk_stack_counters c;
        sk_stack_counters(st, &c);
        FUZZ_CHECK(c.ip_reasm_bytes <= LIMIT);
        FUZZ_CHECK(mem_now - idle <= LIMIT);
    }
    sk_stack_poll(st, now + SK_IP6FRAG_TIMEOUT_US);
    struct sk_stack_counters c;
    sk_stack_counters(st, &c);
    FUZZ_CHECK(c.ip_reasm_bytes == 0);
    FUZZ_CHECK(mem_now == idle);
    sk_stack_free(st);
    FUZZ_CHECK(mem_now == 0);
    return 0;
}
