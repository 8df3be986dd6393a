/* Tests of the pcap writer: exact file bytes (classic format, little-endian, microsecond
 * timestamps), errors, and, when tshark is installed, that a real reader accepts the file.
 * Depends only on the pcap writer, not on the stack core.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "synack/pcap.h"

struct tmpfile {
    char path[64];
};

static void tmp_path(struct tmpfile *t) {
    snprintf(t->path, sizeof(t->path), "/tmp/synack_test_pcap_XXXXXX");
    int fd = mkstemp(t->path);
    assert_true(fd >= 0);
    close(fd);
}

/* Reads the whole file into a malloc'd buffer. */
static uint8_t *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    fclose(f);
    *len = n;
    return buf;
}

static const uint8_t header_raw[24] = {
    0xd4, 0xc3, 0xb2, 0xa1, /* magic 0xa1b2c3d4, little-endian */
    0x02, 0x00, 0x04, 0x00, /* version 2.4 */
    0x00, 0x00, 0x00, 0x00, /* thiszone */
    0x00, 0x00, 0x00, 0x00, /* sigfigs */
    0x00, 0x00, 0x04, 0x00, /* snaplen 262144 */
    0x65, 0x00, 0x00, 0x00, /* LINKTYPE_RAW 101 */
};

/* An empty capture is exactly the 24-byte header, with the link type from the framing. */
static void test_header_bytes(void **state) {
    (void)state;
    struct tmpfile t;
    tmp_path(&t);
    struct sk_pcap *p = sk_pcap_open(t.path, SK_LINK_IP);
    assert_non_null(p);
    assert_int_equal(sk_pcap_close(p), 0);
    size_t len;
    uint8_t *buf = slurp(t.path, &len);
    assert_int_equal(len, 24);
    assert_memory_equal(buf, header_raw, 24);
    free(buf);

    p = sk_pcap_open(t.path, SK_LINK_ETHERNET);
    assert_non_null(p);
    assert_int_equal(sk_pcap_close(p), 0);
    buf = slurp(t.path, &len);
    assert_int_equal(len, 24);
    assert_memory_equal(buf, header_raw, 20);
    static const uint8_t eth[4] = {0x01, 0x00, 0x00, 0x00};
    assert_memory_equal(buf + 20, eth, 4);
    free(buf);
    unlink(t.path);
}

/* Each record: seconds, microseconds, captured length, original length, then the bytes. */
static void test_record_bytes(void **state) {
    (void)state;
    struct tmpfile t;
    tmp_path(&t);
    struct sk_pcap *p = sk_pcap_open(t.path, SK_LINK_IP);
    assert_non_null(p);
    const uint8_t f1[3] = {0xaa, 0xbb, 0xcc};
    const uint8_t f2[1] = {0x11};
    assert_int_equal(sk_pcap_write(p, 1500042, f1, sizeof(f1)), 0); /* 1 s + 500042 us */
    assert_int_equal(sk_pcap_write(p, 0x123456789ull, f2, sizeof(f2)), 0);
    assert_int_equal(sk_pcap_write(p, 7, NULL, 0), 0); /* an empty frame is a valid record */
    assert_int_equal(sk_pcap_close(p), 0);

    static const uint8_t expect[] = {
        /* record 1 */
        0x01, 0x00, 0x00, 0x00, 0x4a, 0xa1, 0x07, 0x00, 0x03, 0x00, 0x00, 0x00, 0x03, 0x00,
        0x00, 0x00, 0xaa, 0xbb, 0xcc,
        /* record 2: 0x123456789 us = 4886 s + 718345 us */
        0x16, 0x13, 0x00, 0x00, 0x09, 0xf6, 0x0a, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00,
        0x00, 0x00, 0x11,
        /* record 3 */
        0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00,
    };
    size_t len;
    uint8_t *buf = slurp(t.path, &len);
    assert_int_equal(len, 24 + sizeof(expect));
    assert_memory_equal(buf, header_raw, 24);
    assert_memory_equal(buf + 24, expect, sizeof(expect));
    free(buf);
    unlink(t.path);
}

/* A frame longer than the 262144-byte snapshot is cut there; orig_len keeps its size. */
static void test_snaplen_truncates(void **state) {
    (void)state;
    struct tmpfile t;
    tmp_path(&t);
    struct sk_pcap *p = sk_pcap_open(t.path, SK_LINK_ETHERNET);
    assert_non_null(p);
    size_t big = 262144 + 100;
    uint8_t *frame = calloc(1, big);
    assert_non_null(frame);
    assert_int_equal(sk_pcap_write(p, 0, frame, big), 0);
    free(frame);
    assert_int_equal(sk_pcap_close(p), 0);
    size_t len;
    uint8_t *buf = slurp(t.path, &len);
    assert_int_equal(len, 24 + 16 + 262144);
    static const uint8_t lens[8] = {0x00, 0x00, 0x04, 0x00, 0x64, 0x00, 0x04, 0x00};
    assert_memory_equal(buf + 24 + 8, lens, 8);
    free(buf);
    unlink(t.path);
}

/* Failures: NULL with errno from open, negative errno from write. */
static void test_errors(void **state) {
    (void)state;
    errno = 0;
    assert_null(sk_pcap_open("/nonexistent-dir/x.pcap", SK_LINK_IP));
    assert_int_equal(errno, ENOENT);
    errno = 0;
    assert_null(sk_pcap_open("/tmp/synack_never_created.pcap", (enum sk_link_type)7));
    assert_int_equal(errno, EINVAL);
    assert_int_equal(sk_pcap_write(NULL, 0, NULL, 0), -EINVAL);
    assert_int_equal(sk_pcap_close(NULL), 0);

    /* /dev/full accepts the open and fails the writes with ENOSPC (at the latest on close). */
    if (access("/dev/full", W_OK) == 0) {
        struct sk_pcap *p = sk_pcap_open("/dev/full", SK_LINK_IP);
        if (p) { /* the header may still sit in stdio's buffer */
            uint8_t frame[1000] = {0};
            int err = 0;
            for (int i = 0; i < 100 && !err; i++)
                err = sk_pcap_write(p, 0, frame, sizeof(frame));
            int cerr = sk_pcap_close(p);
            assert_int_equal(err ? err : cerr, -ENOSPC);
        } else {
            assert_int_equal(errno, ENOSPC);
        }
    }
}

/* ---- a real reader ---- */

static uint16_t csum(const uint8_t *p, size_t len, uint32_t sum) {
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* A valid IPv4/UDP datagram 10.0.0.1:1234 -> 10.0.0.2:5678 carrying "hello", built by hand
 * with both checksums right. Returns its length. */
static size_t build_udp(uint8_t *d) {
    static const char payload[] = "hello";
    size_t plen = sizeof(payload) - 1, ulen = 8 + plen, tot = 20 + ulen;
    memset(d, 0, tot);
    d[0] = 0x45;
    d[2] = (uint8_t)(tot >> 8);
    d[3] = (uint8_t)tot;
    d[4] = 0x12; d[5] = 0x34; /* id */
    d[6] = 0x40;              /* DF */
    d[8] = 64;                /* TTL */
    d[9] = 17;                /* UDP */
    const uint8_t src[4] = {10, 0, 0, 1}, dst[4] = {10, 0, 0, 2};
    memcpy(d + 12, src, 4);
    memcpy(d + 16, dst, 4);
    uint16_t ic = csum(d, 20, 0);
    d[10] = (uint8_t)(ic >> 8);
    d[11] = (uint8_t)ic;
    uint8_t *u = d + 20;
    u[0] = 1234 >> 8; u[1] = 1234 & 0xff;
    u[2] = 5678 >> 8; u[3] = 5678 & 0xff;
    u[4] = (uint8_t)(ulen >> 8); u[5] = (uint8_t)ulen;
    memcpy(u + 8, payload, plen);
    /* Pseudo-header: source, destination, zero, protocol, UDP length. */
    uint8_t pseudo[12] = {10, 0, 0, 1, 10, 0, 0, 2, 0, 17, (uint8_t)(ulen >> 8), (uint8_t)ulen};
    uint32_t sum = 0;
    for (int i = 0; i < 12; i += 2)
        sum += (uint32_t)(pseudo[i] << 8 | pseudo[i + 1]);
    uint16_t uc = csum(u, ulen, sum);
    if (uc == 0)
        uc = 0xffff;
    u[6] = (uint8_t)(uc >> 8);
    u[7] = (uint8_t)uc;
    return tot;
}

static bool have_tshark(void) {
    return system("command -v tshark >/dev/null 2>&1") == 0;
}

/* tshark reads the file, finds the UDP datagram, and reports no error or malformed packet. */
static void test_tshark_reads_raw_ip(void **state) {
    (void)state;
    if (!have_tshark())
        skip();
    struct tmpfile t;
    tmp_path(&t);
    struct sk_pcap *p = sk_pcap_open(t.path, SK_LINK_IP);
    assert_non_null(p);
    uint8_t d[64];
    size_t n = build_udp(d);
    assert_int_equal(sk_pcap_write(p, 1000000, d, n), 0);
    assert_int_equal(sk_pcap_write(p, 1000250, d, n), 0);
    assert_int_equal(sk_pcap_close(p), 0);

    /* Checksum validation on, so a wrong byte in the record would show as a bad checksum. */
    char cmd[256];
    snprintf(cmd, sizeof(cmd),
             "tshark -r %s -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE "
             "-T fields -e frame.number -e udp.srcport -e udp.dstport -e _ws.expert 2>&1",
             t.path);
    FILE *out = popen(cmd, "r");
    assert_non_null(out);
    char line[512];
    int udp_lines = 0;
    while (fgets(line, sizeof(line), out)) {
        if (strncmp(line, "Running as user", 15) == 0)
            continue; /* tshark's warning when run as root */
        print_message("tshark: %s", line);
        assert_null(strstr(line, "rror"));
        assert_null(strstr(line, "alformed"));
        assert_null(strstr(line, "ncorrect"));
        if (strstr(line, "1234\t5678"))
            udp_lines++;
    }
    int status = pclose(out);
    assert_int_equal(status, 0);
    assert_int_equal(udp_lines, 2);
    unlink(t.path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_bytes),
        cmocka_unit_test(test_record_bytes),
        cmocka_unit_test(test_snaplen_truncates),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_tshark_reads_raw_ip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
