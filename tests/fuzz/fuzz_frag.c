/* libFuzzer target: IPv4 reassembly (src/ip/ip_frag.c) under small limits.
 * Input: a script of fragments for a few datagram IDs, each record
 *   id (2 bits), MF, protocol (TCP/UDP/other), options (0 or 40 bytes), offset (in 8-byte
 *   units), length, time step, then the data bytes;
 * fed as well-formed IPv4 packets (checksums right) to a stack on a bare-IP link.
 * Properties: the reassembly memory the stack reports never passes ipfrag_max_bytes, and the
 * allocator agrees (what the stack holds above its idle size stays under the limit plus the
 * one datagram being delivered); after the timeout every byte is back. */
#include "fuzz_common.h"
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
    (void)meta;
    (void)ctx;
    (void)frame;
    (void)len;
}

/* One fragment from the reader; false when the input is used up. */
static bool fragment(struct fuzz_reader *r, struct sk_stack *st, sk_time_us *now)
{
    if (r->n < 5)
        return false;
    uint8_t a = fuzz_u8(r), b = fuzz_u8(r), c = fuzz_u8(r), d = fuzz_u8(r), step = fuzz_u8(r);
    static const uint8_t protos[4] = {SK_IPPROTO_TCP, SK_IPPROTO_UDP, 253, SK_IPPROTO_TCP};
    size_t optlen = (a & 0x10) ? 40 : 0, hlen = 20 + optlen;
    uint16_t off8 = (uint16_t)(((a >> 5) << 8 | b) % 8192);
    size_t len = (size_t)(c % 180) * 8 + (d & 7) * ((a & 0x08) ? 0 : 1);
    static uint8_t pkt[20 + 40 + 1500];
    if (len > 1500 - hlen)
        len = 1500 - hlen;
    memset(pkt, 0, hlen);
    pkt[0] = (uint8_t)(0x40 | hlen / 4);
    sk_put16(pkt + 2, (uint16_t)(hlen + len));
    sk_put16(pkt + 4, (uint16_t)(a & 3));
    sk_put16(pkt + 6, (uint16_t)(((a & 0x04) ? 0x2000 : 0) | off8));
    pkt[8] = 64;
    pkt[9] = protos[(d >> 3) & 3];
    sk_put32(pkt + 12, 0x0a000002u);
    sk_put32(pkt + 16, 0x0a000001u);
    memset(pkt + 20, 1, optlen);
    for (size_t i = 0; i < len; i++)
        pkt[hlen + i] = fuzz_u8(r);
    sk_put16(pkt + 10, sk_csum_fold(sk_csum_add(0, pkt, hlen)));
    *now += (sk_time_us)step * 100000u; /* up to 25.5 s: some datagrams expire */
    sk_stack_poll(st, *now);
    sk_stack_input(st, pkt, hlen + len, *now);
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
    sk_stack_poll(st, now + cfg.ipfrag_timeout_us);
    struct sk_stack_counters c;
    sk_stack_counters(st, &c);
    FUZZ_CHECK(c.ip_reasm_bytes == 0);
    FUZZ_CHECK(mem_now == idle);
    sk_stack_free(st);
    FUZZ_CHECK(mem_now == 0);
    return 0;
}
