/* The software segmenter on a TCP/IPv6 super-segment (SK_GSO_TCPV6, issue 13), checked
 * against the RFCs by arithmetic written here: each piece's IPv6 Payload Length (RFC 8200 §3)
 * is its TCP header and payload, SEG.SEQ advances by the bytes before it (RFC 9293 §3.4), FIN
 * and PSH stay on the last piece and CWR on the first (as Linux's tcp_gso_segment), and each
 * piece's checksum sums right over RFC 8200 §8.1's pseudo-header (RFC 1071 §1). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "synack/gso.h"
#include "synack/trace.h"
#include "fixture.h"
#include "ref_csum.h"

#define IP6 40
#define THL 32

static const uint8_t SRC[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t DST[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

/* RFC 8200 §8.1's pseudo-header for an upper-layer packet of len bytes. */
static uint32_t pseudo6(size_t len)
{
    uint8_t ph[40] = {0};
    memcpy(ph, SRC, 16);
    memcpy(ph + 16, DST, 16);
    ph[34] = (uint8_t)(len >> 8);
    ph[35] = (uint8_t)len;
    ph[39] = 6;
    return ref_sum(0, ph, sizeof(ph));
}

struct pieces {
    uint8_t buf[16][1600];
    size_t len[16];
    int n;
};
static void keep(void *ctx, const uint8_t *frame, size_t len)
{
    struct pieces *p = ctx;
    assert_true(p->n < 16 && len <= sizeof(p->buf[0]));
    memcpy(p->buf[p->n], frame, len);
    p->len[p->n++] = len;
}

static void test_tcpv6_super_segment_cut_by_the_rfcs(void **state)
{
    (void)state;
    static uint8_t f[16384];
    static struct pieces got;
    uint8_t scratch[1600];
    const size_t gso = 1428, payload = 5 * 1428 + 100;
    const uint32_t seq0 = 0xfffffa00u; /* wraps inside the train */
    memset(f, 0, IP6 + THL);
    f[0] = 0x60, f[1] = 0x01, f[2] = 0x23, f[3] = 0x45; /* version 6, a flow label */
    f[4] = (uint8_t)((THL + payload) >> 8), f[5] = (uint8_t)(THL + payload);
    f[6] = 6, f[7] = 64;
    memcpy(f + 8, SRC, 16);
    memcpy(f + 24, DST, 16);
    uint8_t *t = f + IP6;
    t[0] = 0x9c, t[1] = 0x40, t[2] = 0, t[3] = 80;
    t[4] = (uint8_t)(seq0 >> 24), t[5] = (uint8_t)(seq0 >> 16), t[6] = (uint8_t)(seq0 >> 8);
    t[7] = (uint8_t)seq0;
    t[12] = THL / 4 << 4;
    t[13] = SK_TCP_CWR | SK_TCP_ACK | SK_TCP_PSH | SK_TCP_FIN;
    t[14] = 0xff, t[15] = 0xff;
    static const uint8_t opt[12] = {1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9};
    memcpy(t + 20, opt, 12);
    for (size_t k = 0; k < payload; k++)
        t[THL + k] = fx_byte(k);
    uint16_t ps = (uint16_t)pseudo6(THL + payload); /* NEEDS_CSUM: the pseudo-header sum */
    t[16] = (uint8_t)(ps >> 8), t[17] = (uint8_t)ps;
    size_t len = IP6 + THL + payload;
    struct sk_frame_meta m = {.flags = SK_FRAME_CSUM_PARTIAL, .gso_type = SK_GSO_TCPV6,
                              .hdr_len = IP6 + THL, .gso_size = (uint16_t)gso,
                              .csum_start = IP6, .csum_offset = 16};
    got.n = 0;
    assert_int_equal(sk_gso_segment(f, len, &m, 0, scratch, sizeof(scratch), keep, &got), 6);
    for (int i = 0; i < got.n; i++) {
        const uint8_t *ip = got.buf[i], *th = ip + IP6;
        size_t plen = i < 5 ? gso : 100;
        assert_int_equal(got.len[i], IP6 + THL + plen);
        assert_int_equal((size_t)ip[4] << 8 | ip[5], THL + plen); /* Payload Length */
        assert_memory_equal(ip, f, 4);                              /* version, class, label */
        assert_memory_equal(ip + 6, f + 6, 34);                     /* next header .. dst */
        uint32_t seq = (uint32_t)th[4] << 24 | (uint32_t)th[5] << 16 | (uint32_t)th[6] << 8 |
                       th[7];
        assert_int_equal(seq, (uint32_t)(seq0 + (uint32_t)(i * gso)));
        uint8_t want = SK_TCP_ACK | (i == 0 ? SK_TCP_CWR : 0) |
                       (i == 5 ? SK_TCP_PSH | SK_TCP_FIN : 0);
        assert_int_equal(th[13], want);
        assert_int_equal(ref_sum(pseudo6(THL + plen), th, THL + plen), 0xffff);
        for (size_t k = 0; k < plen; k++)
            assert_int_equal(th[THL + k], fx_byte(i * gso + k));
    }
    /* Not IPv6 where SK_GSO_TCPV6 says so: refused. */
    f[0] = 0x45;
    assert_int_equal(sk_gso_segment(f, len, &m, 0, scratch, sizeof(scratch), keep, &got),
                     -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcpv6_super_segment_cut_by_the_rfcs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
