/* sk_addr_parse and sk_addr_format: the text forms of RFC 4291 §2.2 in, RFC 5952's canonical
 * form out, IPv4 as a dotted quad held IPv4-mapped. Every expectation is an RFC's own example
 * (RFC 4291 §2.2, RFC 5952 §4) or bytes written out here by hand. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "synack/addr.h"

static void expect_bytes(const char *text, const uint8_t want[16])
{
    struct sk_addr a;
    if (sk_addr_parse(text, &a) != 0)
        fail_msg("\"%s\" did not parse", text);
    assert_memory_equal(a.b, want, 16);
}

static void expect_canonical(const char *text, const char *want)
{
    struct sk_addr a;
    char buf[SK_ADDR_STRLEN];
    if (sk_addr_parse(text, &a) != 0)
        fail_msg("\"%s\" did not parse", text);
    assert_string_equal(sk_addr_format(&a, buf, sizeof(buf)), want);
}

/* RFC 4291 §2.2, the three conventional forms, with their examples. */
static void test_rfc4291_forms(void **state)
{
    (void)state;
    const uint8_t full[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0x08, 0x08, 0x00,
                              0x20, 0x0c, 0x41, 0x7a};
    expect_bytes("2001:DB8:0:0:8:800:200C:417A", full);   /* form 1 */
    expect_bytes("2001:DB8::8:800:200C:417A", full);      /* form 2 */
    const uint8_t mc[16] = {0xff, 0x01, [14] = 0x01, [15] = 0x01};
    expect_bytes("FF01:0:0:0:0:0:0:101", mc);
    expect_bytes("FF01::101", mc);
    const uint8_t loop[16] = {[15] = 1};
    expect_bytes("0:0:0:0:0:0:0:1", loop);
    expect_bytes("::1", loop);
    const uint8_t unspec[16] = {0};
    expect_bytes("0:0:0:0:0:0:0:0", unspec);
    expect_bytes("::", unspec);
    const uint8_t compat[16] = {[12] = 13, [13] = 1, [14] = 68, [15] = 3};
    expect_bytes("0:0:0:0:0:0:13.1.68.3", compat);         /* form 3 */
    expect_bytes("::13.1.68.3", compat);
    const uint8_t mapped[16] = {[10] = 0xff, [11] = 0xff, [12] = 129, [13] = 144, [14] = 52,
                                [15] = 38};
    expect_bytes("0:0:0:0:0:FFFF:129.144.52.38", mapped);
    expect_bytes("::FFFF:129.144.52.38", mapped);
    expect_bytes("129.144.52.38", mapped);                 /* IPv4 text: held IPv4-mapped */
    const uint8_t tail[16] = {0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0};
    expect_bytes("1:2:3:4:5:6:7::", tail);                 /* "::" for one group */
    const uint8_t head[16] = {0, 0, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8};
    expect_bytes("::2:3:4:5:6:7:8", head);
}

/* RFC 5952 §4: one canonical text per address. */
static void test_rfc5952_canonical(void **state)
{
    (void)state;
    /* §2.1-2.3's six texts of one address all come out as §4's choice. */
    const char *same[] = {"2001:db8:0:0:1:0:0:1", "2001:0db8:0:0:1:0:0:1", "2001:db8::1:0:0:1",
                          "2001:db8::0:1:0:0:1", "2001:0db8::1:0:0:1", "2001:db8:0:0:1::1",
                          "2001:db8:0000:0:1::1", "2001:DB8:0:0:1::1"};
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
        expect_canonical(same[i], "2001:db8::1:0:0:1"); /* §4.2.3: the first of equal runs */
    expect_canonical("2001:0db8::0001", "2001:db8::1");            /* §4.1 leading zeros */
    expect_canonical("2001:db8:0:0:0:0:2:1", "2001:db8::2:1");     /* §4.2.1 longest */
    expect_canonical("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"); /* §4.2.2 not one 0 */
    expect_canonical("2001:0:0:1:0:0:0:1", "2001:0:0:1::1");       /* §4.2.3 the longest */
    expect_canonical("2001:DB8::AbCd", "2001:db8::abcd");          /* §4.3 lower case */
    expect_canonical("0:0:0:0:0:0:0:0", "::");
    expect_canonical("0:0:0:0:0:0:0:1", "::1");
    expect_canonical("1:0:0:0:0:0:0:0", "1::");
    expect_canonical("fe80:0:0:0:0:0:0:1", "fe80::1");
    expect_canonical("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8");
    expect_canonical("1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7");
    expect_canonical("::13.1.68.3", "::d01:4403");
    /* IPv4-mapped: the dotted quad, which is how this stack holds IPv4. */
    expect_canonical("::ffff:192.0.2.1", "192.0.2.1");
    expect_canonical("192.0.2.1", "192.0.2.1");
    expect_canonical("0.0.0.0", "0.0.0.0");
    expect_canonical("255.255.255.255", "255.255.255.255");
}

static void test_malformed(void **state)
{
    (void)state;
    const char *bad[] = {
        "", ":", ":::", "::::", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", ":1::",
        "1::2:", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", "12345::", "g::", "1:2:3:4:5:6:7:8 ",
        "::1x", " ::1", "[::1]", "fe80::1%eth0", "2001:db8::/32", "1.2.3.256", "01.2.3.4",
        "1.2.3.04", "1.2.3", "1.2.3.4.5", "1.2.3.4 ", "1..2.3", ".1.2.3", "1.2.3.", "256.0.0.0",
        "1.2.3.4x", "0x1.2.3.4", "::1.2.3", "::1.2.3.256", "1:2:3:4:5:6:7:1.2.3.4",
        "::ffff:01.2.3.4", "1.2.3.4::", "::1.2.3.4:5", "1:2:3:4:5:6:7:8:1.2.3.4", "-1.2.3.4",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sk_addr a = {{0x5a}};
        if (sk_addr_parse(bad[i], &a) != -EINVAL)
            fail_msg("\"%s\" was accepted", bad[i]);
        assert_int_equal(a.b[0], 0x5a); /* out untouched on error */
    }
    struct sk_addr a;
    assert_int_equal(sk_addr_parse(NULL, &a), -EINVAL);
}

/* The longest text fits SK_ADDR_STRLEN; a buffer one byte short gets "". */
static void test_format_sizes(void **state)
{
    (void)state;
    struct sk_addr a;
    char buf[SK_ADDR_STRLEN];
    assert_int_equal(sk_addr_parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", &a), 0);
    assert_string_equal(sk_addr_format(&a, buf, sizeof(buf)),
                        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
    const size_t n = strlen("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
    char small[64];
    memset(small, 'x', sizeof(small));
    assert_string_equal(sk_addr_format(&a, small, n), "");
    assert_string_equal(sk_addr_format(&a, small, n + 1),
                        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
    assert_int_equal(sk_addr_parse("255.255.255.255", &a), 0);
    assert_string_equal(sk_addr_format(&a, small, 15), "");
    assert_string_equal(sk_addr_format(&a, small, 16), "255.255.255.255");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4291_forms),
        cmocka_unit_test(test_rfc5952_canonical),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_format_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
