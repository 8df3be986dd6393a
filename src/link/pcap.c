/* synack: pcap capture file writer.
 *
 * Outside the core: uses stdio. Writes the classic libpcap format (magic 0xa1b2c3d4, version
 * 2.4, microsecond timestamps), the one every reader understands. All fields are written
 * little-endian byte by byte: readers recognise the byte order from the magic, and the file is
 * then the same on every host, which the tests rely on.
 *
 * Link types (tcpdump.org/linktypes.html): LINKTYPE_ETHERNET (1) for Ethernet II frames,
 * LINKTYPE_RAW (101) for bare IP datagrams, IPv4 or IPv6 (the version nibble tells them apart).
 *
 * Errors are sticky: the first failed write is kept, returned by every later write and by
 * sk_pcap_close, so a caller that ignores write results (the in-memory link) still learns of it.
 */
#include "synack/pcap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_VERSION_MAJOR 2
#define PCAP_VERSION_MINOR 4
#define PCAP_SNAPLEN 262144u
#define LINKTYPE_ETHERNET 1u
#define LINKTYPE_RAW 101u

struct sk_pcap {
    FILE *f;
    int err; /* first error (negative errno), 0 if none */
};

static void put_le16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Writes len bytes or records why not. stdio does not always set errno (e.g. a short write on
 * a full disk may leave it as it was), hence the EIO fallback. */
static int write_all(struct sk_pcap *p, const void *buf, size_t len) {
    if (p->err)
        return p->err;
    errno = 0;
    if (len > 0 && fwrite(buf, 1, len, p->f) != len)
        p->err = errno ? -errno : -EIO;
    return p->err;
}

struct sk_pcap *sk_pcap_open(const char *path, enum sk_link_type link) {
    uint32_t linktype;
    switch (link) {
    case SK_LINK_ETHERNET: linktype = LINKTYPE_ETHERNET; break;
    case SK_LINK_IP: linktype = LINKTYPE_RAW; break;
    default: errno = EINVAL; return NULL;
    }
    if (!path) {
        errno = EINVAL;
        return NULL;
    }
    struct sk_pcap *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL; /* errno = ENOMEM from calloc */
    p->f = fopen(path, "wb");
    if (!p->f) {
        int saved = errno;
        free(p);
        errno = saved;
        return NULL;
    }

    /* The global header: magic, version, thiszone (UTC), sigfigs, snaplen, link type. */
    uint8_t hdr[24];
    put_le32(hdr + 0, PCAP_MAGIC_US);
    put_le16(hdr + 4, PCAP_VERSION_MAJOR);
    put_le16(hdr + 6, PCAP_VERSION_MINOR);
    put_le32(hdr + 8, 0);
    put_le32(hdr + 12, 0);
    put_le32(hdr + 16, PCAP_SNAPLEN);
    put_le32(hdr + 20, linktype);
    int err = write_all(p, hdr, sizeof(hdr));
    if (err) {
        fclose(p->f);
        free(p);
        errno = -err;
        return NULL;
    }
    return p;
}

int sk_pcap_write(struct sk_pcap *p, sk_time_us time, const uint8_t *frame, size_t len) {
    if (!p || (!frame && len > 0))
        return -EINVAL;
    /* Frames longer than the snapshot length are cut; orig_len keeps the real size. */
    size_t incl = len > PCAP_SNAPLEN ? PCAP_SNAPLEN : len;
    uint32_t orig = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
    uint8_t rec[16];
    /* The seconds field is 32 bits: times past 2106 (from the caller's origin) wrap. */
    put_le32(rec + 0, (uint32_t)(time / 1000000u));
    put_le32(rec + 4, (uint32_t)(time % 1000000u));
    put_le32(rec + 8, (uint32_t)incl);
    put_le32(rec + 12, orig);
    int err = write_all(p, rec, sizeof(rec));
    if (!err)
        err = write_all(p, frame, incl);
    return err;
}

int sk_pcap_close(struct sk_pcap *p) {
    if (!p)
        return 0;
    int err = p->err;
    errno = 0;
    /* fclose flushes: a write the buffer hid until now fails here. */
    if (fclose(p->f) != 0 && !err)
        err = errno ? -errno : -EIO;
    free(p);
    return err;
}
