/* synack CLI: reading captures through libpcap (see capture.h).
 *
 * Link headers, by their specifications at tcpdump.org/linktypes.html: Ethernet (IEEE 802.3,
 * with IEEE 802.1Q tags 0x8100 and 802.1ad 0x88a8 stacked any number of times), Linux SLL
 * (16 bytes, protocol at offset 14) and SLL2 (20 bytes, protocol first), raw IP (the version
 * nibble decides), and the BSD loopback header (a 4-byte address family, in the capturing
 * host's byte order for DLT_NULL and big-endian for DLT_LOOP; both orders are accepted for
 * both, since files travel between machines).
 */
#include "capture.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100 /* IEEE 802.1Q */
#define ETHERTYPE_QINQ 0x88a8 /* IEEE 802.1ad */
#define ETHERTYPE_QINQ_OLD 0x9100
#define ETH_HLEN 14
#define SLL_HLEN 16
#define SLL2_HLEN 20
#define LOOP_HLEN 4

struct capture {
    pcap_t *p;
    int dlt;
    bool have_first;
    int64_t first_us;      /* the first packet's absolute time */
    sk_time_us last_t;     /* times never go backwards: see capture_next */
    struct capture_stats st;
    char err[PCAP_ERRBUF_SIZE + 128];
};

static uint16_t be16(const uint8_t *b) {
    return (uint16_t)(b[0] << 8 | b[1]);
}

bool capture_dlt_supported(int dlt) {
    switch (dlt) {
    case DLT_EN10MB: case DLT_LINUX_SLL: case DLT_LINUX_SLL2: case DLT_RAW: case DLT_IPV4:
    case DLT_IPV6: case DLT_NULL: case DLT_LOOP:
        return true;
    default:
        return false;
    }
}

/* Is an EtherType (or SLL protocol) IP? */
static bool ethertype_ip(uint16_t type) {
    return type == ETHERTYPE_IPV4 || type == ETHERTYPE_IPV6;
}

/* The BSD loopback family word, read in either byte order: AF_INET is 2 everywhere, AF_INET6
 * is 10 (Linux), 24 (NetBSD, OpenBSD), 28 (FreeBSD, DragonFly) or 30 (macOS). */
static bool loop_family_ip(const uint8_t *b) {
    uint32_t le = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                  (uint32_t)b[3] << 24;
    uint32_t be = (uint32_t)b[3] | (uint32_t)b[2] << 8 | (uint32_t)b[1] << 16 |
                  (uint32_t)b[0] << 24;
    uint32_t fam = le < 256 ? le : be;
    return fam == 2 || fam == 10 || fam == 24 || fam == 28 || fam == 30;
}

/* How long the link header of one frame is, or -1 if the frame carries no IP, -2 if it is
 * shorter than its own header. */
static long link_header(int dlt, const uint8_t *f, size_t caplen) {
    switch (dlt) {
    case DLT_EN10MB: {
        if (caplen < ETH_HLEN)
            return -2;
        size_t off = 12;
        uint16_t type = be16(f + off);
        while (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_OLD) {
            off += 4; /* the tag: 2 bytes TPID (read), 2 bytes TCI */
            if (caplen < off + 2)
                return -2;
            type = be16(f + off);
        }
        return ethertype_ip(type) ? (long)off + 2 : -1;
    }
    case DLT_LINUX_SLL:
        if (caplen < SLL_HLEN)
            return -2;
        return ethertype_ip(be16(f + 14)) ? SLL_HLEN : -1;
    case DLT_LINUX_SLL2:
        if (caplen < SLL2_HLEN)
            return -2;
        return ethertype_ip(be16(f)) ? SLL2_HLEN : -1;
    case DLT_NULL:
    case DLT_LOOP:
        if (caplen < LOOP_HLEN)
            return -2;
        return loop_family_ip(f) ? LOOP_HLEN : -1;
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
        if (caplen < 1)
            return -2;
        return (f[0] >> 4 == 4 || f[0] >> 4 == 6) ? 0 : -1;
    default:
        return -1;
    }
}

enum capture_decap_result capture_decap(int dlt, const uint8_t *frame, size_t caplen,
                                        size_t orig_len, struct capture_packet *p) {
    long h = link_header(dlt, frame, caplen);
    if (h == -2)
        return CAPTURE_SHORT;
    if (h < 0)
        return CAPTURE_NOT_IP;
    p->ip = frame + h;
    p->captured = caplen - (size_t)h;
    /* A record claiming fewer bytes on the wire than it holds is damaged: trust what is
     * there. */
    p->wire_len = orig_len > (size_t)h ? orig_len - (size_t)h : 0;
    if (p->wire_len < p->captured)
        p->wire_len = p->captured;
    return CAPTURE_IP;
}

static struct capture *fail(char *err, size_t errsize, const char *fmt, const char *a,
                            const char *b) {
    snprintf(err, errsize, fmt, a, b);
    return NULL;
}

struct capture *capture_fopen(FILE *f, char *err, size_t errsize) {
    char pe[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, pe);
    if (!p) {
        fclose(f);
        /* libpcap says "unknown file format" for anything that is no capture, and
         * "truncated dump file" for a header cut short. */
        if (strstr(pe, "unknown file format"))
            return fail(err, errsize, "not a pcap or pcapng capture%s%s", "", "");
        return fail(err, errsize, "not a readable capture (libpcap: %s)%s", pe, "");
    }
    int dlt = pcap_datalink(p);
    if (!capture_dlt_supported(dlt)) {
        const char *name = pcap_datalink_val_to_name(dlt);
        char num[64];
        snprintf(num, sizeof(num), "%d", dlt);
        pcap_close(p);
        return fail(err, errsize,
                    "link type %s (%s) is not supported: synack trace reads Ethernet, Linux "
                    "cooked (SLL, SLL2), raw IP and BSD loopback captures",
                    num, name ? name : "unknown");
    }
    struct capture *c = calloc(1, sizeof(*c));
    if (!c) {
        pcap_close(p);
        return fail(err, errsize, "out of memory%s%s", "", "");
    }
    c->p = p;
    c->dlt = dlt;
    return c;
}

struct capture *capture_open(const char *path, char *err, size_t errsize) {
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return fail(err, errsize, "%s%s", strerror(errno), "");
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return fail(err, errsize, "is a directory%s%s", "", "");
    }
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0) {
        fclose(f);
        return fail(err, errsize, "empty file, not a capture%s%s", "", "");
    }
    return capture_fopen(f, err, errsize);
}

void capture_close(struct capture *c) {
    if (!c)
        return;
    pcap_close(c->p);
    free(c);
}

/* A record's time in µs since 1970, clamped to [0, about 292,000 years]: pcapng stores 64-bit
 * timestamps, and any value must neither overflow here nor in the differences taken later. */
static int64_t timestamp_us(const struct timeval *tv) {
    const int64_t max_s = INT64_MAX / 1000000 - 1;
    int64_t s = (int64_t)tv->tv_sec;
    if (s < 0)
        return 0;
    if (s > max_s)
        s = max_s;
    int64_t frac = tv->tv_usec >= 0 && tv->tv_usec < 1000000 ? (int64_t)tv->tv_usec : 0;
    return s * 1000000 + frac;
}

int capture_next(struct capture *c, struct capture_packet *p) {
    for (;;) {
        struct pcap_pkthdr *h;
        const u_char *data;
        int r = pcap_next_ex(c->p, &h, &data);
        if (r == PCAP_ERROR_BREAK)
            return 0;
        if (r != 1) {
            snprintf(c->err, sizeof(c->err), "damaged after %llu packets: %s",
                     (unsigned long long)c->st.frames, pcap_geterr(c->p));
            return -1;
        }
        c->st.frames++;
        int64_t us = timestamp_us(&h->ts);
        if (!c->have_first) {
            c->have_first = true;
            c->first_us = us;
        }
        /* Merged or badly clocked captures can step back in time: the observer's times must
         * not, so a step back is taken as no time passing. */
        sk_time_us t = us > c->first_us ? (sk_time_us)(us - c->first_us) : 0;
        if (t < c->last_t)
            t = c->last_t;
        c->last_t = t;
        switch (capture_decap(c->dlt, data, h->caplen, h->len, p)) {
        case CAPTURE_IP:
            c->st.ip++;
            p->t = t;
            return 1;
        case CAPTURE_NOT_IP:
            c->st.not_ip++;
            break;
        case CAPTURE_SHORT:
            c->st.short_frames++;
            break;
        }
    }
}

const char *capture_error(const struct capture *c) {
    return c->err;
}

void capture_get_stats(const struct capture *c, struct capture_stats *out) {
    *out = c->st;
}

const char *capture_link_name(const struct capture *c) {
    const char *n = pcap_datalink_val_to_name(c->dlt);
    return n ? n : "?";
}

bool capture_first_time(const struct capture *c, int64_t *unix_us) {
    *unix_us = c->first_us;
    return c->have_first;
}
