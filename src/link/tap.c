/* synack: the Linux TAP driver (see synack/tap.h). Outside the core: system calls live here.
 *
 * TUNSETIFF with IFF_TAP | IFF_NO_PI attaches to an existing TAP interface of that name or
 * creates one (Documentation/networking/tuntap.rst); IFF_NO_PI leaves out the 4-byte packet
 * information header, so each read or write is exactly one Ethernet frame.
 */
#include "synack/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

struct sk_tap {
    int fd;
    char name[IFNAMSIZ];
};

int sk_tap_open(const char *name, struct sk_tap **out)
{
    if (out == NULL || (name && strlen(name) >= IFNAMSIZ))
        return -EINVAL;
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (name)
        memcpy(ifr.ifr_name, name, strlen(name));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    struct sk_tap *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        close(fd);
        return -ENOMEM;
    }
    t->fd = fd;
    memcpy(t->name, ifr.ifr_name, IFNAMSIZ);
    t->name[IFNAMSIZ - 1] = '\0';
    *out = t;
    return 0;
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

ssize_t sk_tap_read(struct sk_tap *t, uint8_t *buf, size_t cap)
{
    for (;;) {
        ssize_t n = read(t->fd, buf, cap);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
}

int sk_tap_write(struct sk_tap *t, const uint8_t *frame, size_t len)
{
    for (;;) {
        ssize_t n = write(t->fd, frame, len);
        if (n >= 0)
            return 0;
        if (errno == EINTR)
            continue;
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
}

void sk_tap_close(struct sk_tap *t)
{
    if (t == NULL)
        return;
    close(t->fd);
    free(t);
}
