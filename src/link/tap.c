/* synack: the Linux TAP driver (see synack/tap.h). Outside the core: system calls live here.
 *
 * TUNSETIFF with IFF_TAP | IFF_NO_PI attaches to an existing TAP interface of that name or
 * creates one (Documentation/networking/tuntap.rst); IFF_NO_PI leaves out the 4-byte packet
 * information header, so each read or write is exactly one Ethernet frame.
 *
 * Offload (sk_tap_opts.offload): IFF_VNET_HDR puts a struct virtio_net_hdr (virtio spec
 * §5.1.6, 10 bytes: the legacy header without num_buffers, which mergeable receive buffers
 * would need and a TAP never uses) in front of every frame in both directions. 10 and not 12
 * so that, in a buffer aligned to 8, the Ethernet header ends and the IP header starts at
 * byte 24, 4-aligned, where the checksum and copy loops want it. Writing: the kernel accepts
 * NEEDS_CSUM frames and GSO super-frames from any descriptor with the header, whatever
 * TUNSETOFFLOAD said (tun_get_user); TUNSETOFFLOAD only says what the kernel may send us:
 * TUN_F_CSUM frames with a partial checksum (NEEDS_CSUM) instead of a complete one, TUN_F_TSO4/6
 * coalesced GSO frames up to 64 KiB instead of MTU-sized ones. The header's 16-bit fields are
 * little-endian (TUNSETVNETLE where the kernel knows it; a little-endian host otherwise).
 */
#include "synack/tap.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

struct sk_tap {
    int fd;
    char name[IFNAMSIZ];
    struct sk_tap_opts opts;    /* as asked (multi_queue: as the device is) */
    struct sk_link_caps caps;   /* as obtained */
    uint8_t vnet_len;           /* 0 or SK_TAP_VNET_HDR_LEN */
};

/* Asks the kernel for receive offloads, fewer at each EINVAL (an old kernel, or one that does
 * not know TSO6): CSUM|TSO4|TSO6, CSUM|TSO4, CSUM, none. Returns the flags granted. */
static unsigned negotiate_offload(int fd, bool rx_large)
{
    static const unsigned large[] = {TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6,
                                     TUN_F_CSUM | TUN_F_TSO4, TUN_F_CSUM, 0};
    for (size_t i = rx_large ? 0 : 2; i < sizeof(large) / sizeof(large[0]); i++)
        if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)large[i]) == 0)
            return large[i];
    return 0;
}

/* One TUNSETIFF attempt; the descriptor or -errno. */
static int attach(const char *name, short flags, char out_name[IFNAMSIZ])
{
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = flags;
    if (name)
        memcpy(ifr.ifr_name, name, strlen(name));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    memcpy(out_name, ifr.ifr_name, IFNAMSIZ);
    out_name[IFNAMSIZ - 1] = '\0';
    return fd;
}

/* Sets up the virtio-net header on fd; false if the kernel refuses any step. */
static bool vnet_setup(int fd)
{
    int sz = SK_TAP_VNET_HDR_LEN;
    if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0)
        return false;
#if __BYTE_ORDER == __BIG_ENDIAN
    int le = 1;
    if (ioctl(fd, TUNSETVNETLE, &le) < 0)
        return false; /* native order would be big-endian: not what we write */
#endif
    return true;
}

static int open_one(const char *name, const struct sk_tap_opts *o, struct sk_tap **out)
{
    struct sk_tap *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return -ENOMEM;
    t->opts = *o;
    short base = IFF_TAP | IFF_NO_PI | (o->multi_queue ? IFF_MULTI_QUEUE : 0);
    int fd = -EINVAL;
    if (o->offload) {
        fd = attach(name, base | IFF_VNET_HDR, t->name);
        if (fd >= 0 && !vnet_setup(fd)) {
            close(fd);
            fd = -EINVAL;
        }
    }
    if (fd < 0 && (!o->offload || fd == -EINVAL))
        fd = attach(name, base, t->name); /* no header at all: plain frames */
    else if (fd >= 0)
        t->vnet_len = SK_TAP_VNET_HDR_LEN;
    if (fd < 0) {
        free(t);
        return fd;
    }
    t->fd = fd;
    if (t->vnet_len) {
        unsigned got = negotiate_offload(fd, o->rx_large);
        /* Transmit: any descriptor with the header (see the top). */
        t->caps.tx_csum = true;
        t->caps.tso_max = 65535;
        t->caps.rx_csum = (got & TUN_F_CSUM) != 0;
        t->caps.rx_large = (got & TUN_F_TSO4) != 0;
    } else {
        /* The offloads are the device's and outlive the descriptor that asked for them: a
         * reader without the header must get complete frames, whoever opened it before. */
        (void)ioctl(fd, TUNSETOFFLOAD, 0ul);
    }
    *out = t;
    return 0;
}

int sk_tap_open_opts(const char *name, const struct sk_tap_opts *opts, struct sk_tap **out)
{
    if (out == NULL || (name && strlen(name) >= IFNAMSIZ))
        return -EINVAL;
    struct sk_tap_opts o = opts ? *opts : (struct sk_tap_opts){0};
    int r = open_one(name, &o, out);
    if (r == -EINVAL && name && *name && !o.multi_queue) {
        /* An existing device made with `multi_queue` refuses a single-queue attach. */
        o.multi_queue = true;
        r = open_one(name, &o, out);
    }
    return r;
}

int sk_tap_open(const char *name, struct sk_tap **out)
{
    return sk_tap_open_opts(name, NULL, out);
}

int sk_tap_open_queue(const struct sk_tap *first, struct sk_tap **out)
{
    if (first == NULL || out == NULL || !first->opts.multi_queue)
        return -EINVAL;
    struct sk_tap_opts o = first->opts;
    o.offload = first->vnet_len != 0;
    int r = open_one(first->name, &o, out);
    if (r == 0 && ((*out)->vnet_len != first->vnet_len)) {
        sk_tap_close(*out);
        *out = NULL;
        return -EINVAL;
    }
    return r;
}

int sk_tap_set_up(struct sk_tap *t)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, t->name, IFNAMSIZ);
    int r = 0;
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
        r = -errno;
    } else if (!(ifr.ifr_flags & IFF_UP)) {
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
            r = -errno;
    }
    close(s);
    return r;
}

const char *sk_tap_name(const struct sk_tap *t)
{
    return t->name;
}

int sk_tap_fd(const struct sk_tap *t)
{
    return t->fd;
}

void sk_tap_get_caps(const struct sk_tap *t, struct sk_link_caps *out)
{
    *out = t->caps;
}

size_t sk_tap_vnet_hdr_len(const struct sk_tap *t)
{
    return t->vnet_len;
}

static ssize_t read_retry(int fd, const struct iovec *iov, int n)
{
    for (;;) {
        ssize_t r = readv(fd, iov, n);
        if (r >= 0)
            return r;
        if (errno != EINTR)
            return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
}

static int write_retry(int fd, const struct iovec *iov, int n)
{
    for (;;) {
        ssize_t r = writev(fd, iov, n);
        if (r >= 0)
            return 0;
        if (errno != EINTR)
            return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
}

/* The virtio-net header's fields as sk_frame_meta (they mirror each other, stack.h). */
static void meta_from_vnet(const struct virtio_net_hdr *h, struct sk_frame_meta *m)
{
    m->flags = 0;
    if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
        m->flags |= SK_FRAME_CSUM_PARTIAL;
    if (h->flags & VIRTIO_NET_HDR_F_DATA_VALID)
        m->flags |= SK_FRAME_CSUM_VALID;
    m->gso_type = (uint8_t)(h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN);
    m->hdr_len = le16toh(h->hdr_len);
    m->gso_size = le16toh(h->gso_size);
    m->csum_start = le16toh(h->csum_start);
    m->csum_offset = le16toh(h->csum_offset);
}

void sk_tap_vnet_from_meta(const struct sk_frame_meta *m, uint8_t hdr[SK_TAP_VNET_HDR_LEN])
{
    struct virtio_net_hdr h;
    memset(&h, 0, sizeof(h));
    if (m) {
        if (m->flags & SK_FRAME_CSUM_PARTIAL)
            h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        h.gso_type = m->gso_type;
        h.hdr_len = htole16(m->hdr_len);
        h.gso_size = htole16(m->gso_size);
        h.csum_start = htole16(m->csum_start);
        h.csum_offset = htole16(m->csum_offset);
    }
    memcpy(hdr, &h, SK_TAP_VNET_HDR_LEN);
}

ssize_t sk_tap_read_meta(struct sk_tap *t, uint8_t *buf, size_t cap, struct sk_frame_meta *meta)
{
    struct virtio_net_hdr h;
    struct iovec iov[2] = {{&h, t->vnet_len}, {buf, cap}};
    ssize_t n = t->vnet_len ? read_retry(t->fd, iov, 2) : read_retry(t->fd, iov + 1, 1);
    if (meta)
        memset(meta, 0, sizeof(*meta));
    if (n < 0 || !t->vnet_len)
        return n;
    if ((size_t)n < t->vnet_len)
        return -EIO;
    if (meta)
        meta_from_vnet(&h, meta);
    return n - t->vnet_len;
}

ssize_t sk_tap_read(struct sk_tap *t, uint8_t *buf, size_t cap)
{
    return sk_tap_read_meta(t, buf, cap, NULL);
}

int sk_tap_write_meta(struct sk_tap *t, const uint8_t *frame, size_t len,
                      const struct sk_frame_meta *meta)
{
    uint8_t hdr[SK_TAP_VNET_HDR_LEN];
    struct iovec iov[2] = {{hdr, t->vnet_len}, {(void *)frame, len}};
    if (!t->vnet_len)
        return write_retry(t->fd, iov + 1, 1);
    sk_tap_vnet_from_meta(meta, hdr);
    return write_retry(t->fd, iov, 2);
}

int sk_tap_write(struct sk_tap *t, const uint8_t *frame, size_t len)
{
    return sk_tap_write_meta(t, frame, len, NULL);
}

int sk_tap_write_headroom(struct sk_tap *t, uint8_t *frame, size_t len,
                          const struct sk_frame_meta *meta)
{
    if (t->vnet_len)
        sk_tap_vnet_from_meta(meta, frame - t->vnet_len);
    struct iovec iov = {frame - t->vnet_len, len + t->vnet_len};
    return write_retry(t->fd, &iov, 1);
}

void sk_tap_close(struct sk_tap *t)
{
    if (t == NULL)
        return;
    close(t->fd);
    free(t);
}
