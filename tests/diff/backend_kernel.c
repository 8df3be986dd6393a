/* sockdiff: the kernel backend, the oracle. Host A is 127.0.0.1, host B 127.0.0.2, both on
 * loopback. As root every scenario runs in a network namespace of its own (unshare, `lo`
 * brought up here), so nothing else listens and `ephemeral` may set the port range; else on
 * the host's loopback. Sockets are non-blocking and sends carry MSG_NOSIGNAL, as synack's. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "sockdiff.h"

#define KE_ADDR_A 0x7f000001u /* 127.0.0.1 */
#define KE_ADDR_B 0x7f000002u

struct ke {
    bool netns;
    bool blocking; /* a [blocking] scenario: blocking sockets, SO_RCVTIMEO/SO_SNDTIMEO */
};

static struct ke ke;

/* Blocking scenarios: the call's timeout as SO_RCVTIMEO or SO_SNDTIMEO (no timeout: at most
 * SD_WAIT_CAP_MS; 0, which the kernel reads as "forever", becomes 1 µs, a jiffy). */
static void timeo(int fd, int opt, long ms)
{
    if (!ke.blocking)
        return;
    if (ms < 0)
        ms = SD_WAIT_CAP_MS;
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    if (ms == 0)
        tv.tv_usec = 1;
    setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

static int neg(long rc)
{
    return rc < 0 ? -errno : (int)rc;
}

static int lo_up(void)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -1;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
    int rc = ioctl(s, SIOCGIFFLAGS, &ifr);
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (rc == 0)
        rc = ioctl(s, SIOCSIFFLAGS, &ifr);
    close(s);
    return rc;
}

/* The hosts' IPv6 addresses on lo, /128 each (loopback runs no DAD): SIOCSIFADDR on an
 * AF_INET6 socket with Linux's struct in6_ifreq. */
struct ke_in6_ifreq {
    struct in6_addr addr;
    uint32_t prefixlen;
    int ifindex;
};
static int lo_add6(const uint8_t a[16])
{
    int s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -1;
    struct ke_in6_ifreq r;
    memset(&r, 0, sizeof(r));
    memcpy(r.addr.s6_addr, a, 16);
    r.prefixlen = 128;
    r.ifindex = (int)if_nametoindex("lo");
    int rc = ioctl(s, SIOCSIFADDR, &r);
    close(s);
    return rc;
}

/* Whether address a is usable yet: the kernel finishes setting up an address after the ioctl
 * returns (addrconf's work), so bind() may still refuse it for a moment. Up to a second. */
static int wait_addr6(const uint8_t a[16])
{
    for (int i = 0; i < 200; i++) {
        int s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0)
            return -1;
        struct sockaddr_in6 sin6;
        memset(&sin6, 0, sizeof(sin6));
        sin6.sin6_family = AF_INET6;
        memcpy(sin6.sin6_addr.s6_addr, a, 16);
        int rc = bind(s, (struct sockaddr *)&sin6, sizeof(sin6));
        close(s);
        if (rc == 0)
            return 0;
        usleep(5000);
    }
    return -1;
}

static int set_port_range(int lo, int hi)
{
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "w");
    if (f == NULL)
        return -1;
    int rc = fprintf(f, "%d %d\n", lo, hi) < 0;
    return (fclose(f) != 0 || rc) ? -1 : 0;
}

/* Runs in the scenario's own child process: the namespace dies with it. */
static int ke_begin(struct sd_backend *b, const struct sd_scenario *sc)
{
    struct ke *k = b->ctx;
    k->blocking = sc->blocking;
    if (!k->netns) {
        if (sc->eph_lo) {
            printf("sockdiff: %s: skipped (needs root for `ephemeral`)\n", sc->name);
            return 77;
        }
        return 0;
    }
    if (unshare(CLONE_NEWNET) != 0 || lo_up() != 0 || lo_add6(b->addr6[0]) != 0 ||
        lo_add6(b->addr6[1]) != 0 || wait_addr6(b->addr6[0]) != 0 ||
        wait_addr6(b->addr6[1]) != 0) {
        perror("sockdiff: network namespace");
        return -1;
    }
    if (sc->eph_lo && set_port_range(sc->eph_lo, sc->eph_hi) != 0) {
        perror("sockdiff: ip_local_port_range");
        return -1;
    }
    return 0;
}

static void ke_end(struct sd_backend *b)
{
    (void)b;
}

static int ke_socket(void *ctx, int host, int type)
{
    (void)ctx, (void)host;
    int family = (type & SD_INET6) ? AF_INET6 : AF_INET;
    type &= ~SD_INET6;
    return neg(socket(family, type | (ke.blocking ? 0 : SOCK_NONBLOCK), 0));
}
static int ke_bind(void *ctx, int host, int fd, const struct sockaddr *sa, socklen_t len)
{
    (void)ctx, (void)host;
    return neg(bind(fd, sa, len));
}
static int ke_listen(void *ctx, int host, int fd, int backlog)
{
    (void)ctx, (void)host;
    return neg(listen(fd, backlog));
}
static int ke_accept(void *ctx, int host, int fd, struct sockaddr *sa, socklen_t *len, long t)
{
    (void)ctx, (void)host;
    timeo(fd, SO_RCVTIMEO, t);
    return neg(accept4(fd, sa, len, ke.blocking ? 0 : SOCK_NONBLOCK));
}

/* Every 127/8 address is local and the route's source for all of them is 127.0.0.1, so an
 * unbound socket of host B that connects gets 127.0.0.2 as its source here: bound to the
 * address alone, the port still chosen at connect (IP_BIND_ADDRESS_NO_PORT); connect would
 * have set the local address anyway. (UDP sendto: sendto_from_b.) */
/* The hosts' IPv6 addresses (A6N, B6N), on lo (lo_add6). */
static const uint8_t KE_ADDR6[2][16] = {
    {0xfd, 0, 0, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
    {0xfd, 0, 0, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2},
};

/* Host h's address in the family of an AF_INET6 destination: its IPv4 address IPv4-mapped for
 * an IPv4-mapped one, else its own IPv6 address. */
static void own6(int host, const struct in6_addr *to, struct in6_addr *me)
{
    memset(me, 0, sizeof(*me));
    if (IN6_IS_ADDR_V4MAPPED(to)) {
        uint32_t a = htonl(host == SD_HOST_B ? KE_ADDR_B : KE_ADDR_A);
        me->s6_addr[10] = 0xff;
        me->s6_addr[11] = 0xff;
        memcpy(me->s6_addr + 12, &a, 4);
    } else {
        memcpy(me->s6_addr, KE_ADDR6[host], 16);
    }
}

/* An unbound AF_INET6 socket of either host: on lo the kernel's source for an address of lo
 * is that address itself, so the host's own is bound first (the port still chosen at connect),
 * as synack's host, which owns only its own, would send from it. */
static void source6(int host, int fd, const struct sockaddr *sa, socklen_t salen)
{
    struct sockaddr_in6 me;
    socklen_t len = sizeof(me);
    const struct sockaddr_in6 *to = (const struct sockaddr_in6 *)sa;
    if (salen < sizeof(*to) || getsockname(fd, (struct sockaddr *)&me, &len) != 0 ||
        me.sin6_family != AF_INET6 || me.sin6_port != 0 ||
        !IN6_IS_ADDR_UNSPECIFIED(&me.sin6_addr))
        return;
    int one = 1;
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    own6(host, &to->sin6_addr, &me.sin6_addr);
    bind(fd, (struct sockaddr *)&me, sizeof(me));
}

static void source_b(int host, int fd, const struct sockaddr *sa, socklen_t salen)
{
    struct sockaddr_in me;
    socklen_t len = sizeof(me);
    if (sa != NULL && sa->sa_family == AF_INET6) {
        source6(host, fd, sa, salen);
        return;
    }
    if (host != SD_HOST_B || sa == NULL || sa->sa_family != AF_INET ||
        getsockname(fd, (struct sockaddr *)&me, &len) != 0 || me.sin_port != 0 ||
        me.sin_addr.s_addr != 0)
        return;
    int one = 1;
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    me.sin_addr.s_addr = htonl(KE_ADDR_B);
    bind(fd, (struct sockaddr *)&me, sizeof(me));
}

static int ke_connect(void *ctx, int host, int fd, const struct sockaddr *sa, socklen_t len,
                      long t)
{
    (void)ctx;
    if (len >= sizeof(struct sockaddr_in))
        source_b(host, fd, sa, len);
    timeo(fd, SO_SNDTIMEO, t);
    return neg(connect(fd, sa, len));
}
static ssize_t ke_send(void *ctx, int host, int fd, const void *p, size_t n, int fl, long t)
{
    (void)ctx, (void)host;
    timeo(fd, SO_SNDTIMEO, t);
    return neg(send(fd, p, n, fl | MSG_NOSIGNAL));
}
static ssize_t ke_recv(void *ctx, int host, int fd, void *p, size_t n, int fl, long t)
{
    (void)ctx, (void)host;
    timeo(fd, SO_RCVTIMEO, t);
    return neg(recv(fd, p, n, fl));
}
/* An unbound UDP socket of host B sends from 127.0.0.2 through IP_PKTINFO, which leaves the
 * socket bound to 0.0.0.0 as sendto's autobind does. False if that does not apply. */
static bool sendto_from_b(int host, int fd, const void *p, size_t n, int fl,
                          const struct sockaddr *sa, socklen_t salen, ssize_t *rc)
{
    struct sockaddr_in me;
    socklen_t len = sizeof(me);
    int type = 0;
    socklen_t tl = sizeof(type);
    if (host != SD_HOST_B || sa == NULL || getsockname(fd, (struct sockaddr *)&me, &len) != 0 ||
        me.sin_addr.s_addr != 0 || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 ||
        type != SOCK_DGRAM)
        return false;
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(struct in_pktinfo))];
    } c;
    memset(&c, 0, sizeof(c));
    struct iovec iov = {.iov_base = (void *)p, .iov_len = n};
    struct msghdr m = {.msg_name = (void *)sa, .msg_namelen = salen, .msg_iov = &iov,
                       .msg_iovlen = 1, .msg_control = c.b, .msg_controllen = sizeof(c.b)};
    struct cmsghdr *h = CMSG_FIRSTHDR(&m);
    h->cmsg_level = IPPROTO_IP;
    h->cmsg_type = IP_PKTINFO;
    h->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
    struct in_pktinfo pi = {.ipi_spec_dst.s_addr = htonl(KE_ADDR_B)};
    memcpy(CMSG_DATA(h), &pi, sizeof(pi));
    *rc = neg(sendmsg(fd, &m, fl | MSG_NOSIGNAL));
    return true;
}

/* The same for an AF_INET6 datagram socket bound to :: sending to an IPv6 address: the
 * host's own IPv6 address as the source, through IPV6_PKTINFO. */
static bool sendto6_from_own(int host, int fd, const void *p, size_t n, int fl,
                             const struct sockaddr *sa, socklen_t salen, ssize_t *rc)
{
    struct sockaddr_in6 me;
    socklen_t len = sizeof(me);
    int type = 0;
    socklen_t tl = sizeof(type);
    const struct sockaddr_in6 *to = (const struct sockaddr_in6 *)sa;
    if (sa == NULL || sa->sa_family != AF_INET6 || salen < sizeof(*to) ||
        IN6_IS_ADDR_V4MAPPED(&to->sin6_addr) || getsockname(fd, (struct sockaddr *)&me, &len) != 0 ||
        me.sin6_family != AF_INET6 || !IN6_IS_ADDR_UNSPECIFIED(&me.sin6_addr) ||
        getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 || type != SOCK_DGRAM)
        return false;
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
    } c;
    memset(&c, 0, sizeof(c));
    struct iovec iov = {.iov_base = (void *)p, .iov_len = n};
    struct msghdr m = {.msg_name = (void *)sa, .msg_namelen = salen, .msg_iov = &iov,
                       .msg_iovlen = 1, .msg_control = c.b, .msg_controllen = sizeof(c.b)};
    struct cmsghdr *h = CMSG_FIRSTHDR(&m);
    h->cmsg_level = IPPROTO_IPV6;
    h->cmsg_type = IPV6_PKTINFO;
    h->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
    struct in6_pktinfo pi;
    memset(&pi, 0, sizeof(pi));
    memcpy(pi.ipi6_addr.s6_addr, KE_ADDR6[host], 16);
    memcpy(CMSG_DATA(h), &pi, sizeof(pi));
    *rc = neg(sendmsg(fd, &m, fl | MSG_NOSIGNAL));
    return true;
}

static ssize_t ke_sendto(void *ctx, int host, int fd, const void *p, size_t n, int fl,
                         const struct sockaddr *sa, socklen_t salen, long t)
{
    (void)ctx;
    timeo(fd, SO_SNDTIMEO, t);
    ssize_t rc;
    if (p != NULL && sendto6_from_own(host, fd, p, n, fl, sa, salen, &rc))
        return rc;
    if (p != NULL && salen >= sizeof(struct sockaddr_in) &&
        sendto_from_b(host, fd, p, n, fl, sa, salen, &rc))
        return rc;
    return neg(sendto(fd, p, n, fl | MSG_NOSIGNAL, sa, salen));
}
static ssize_t ke_recvfrom(void *ctx, int host, int fd, void *p, size_t n, int fl,
                           struct sockaddr *sa, socklen_t *salen, long t)
{
    (void)ctx, (void)host;
    timeo(fd, SO_RCVTIMEO, t);
    return neg(recvfrom(fd, p, n, fl, sa, salen));
}
static ssize_t ke_sendv(void *ctx, int host, int fd, const struct iovec *iov, int n)
{
    (void)ctx, (void)host;
    struct msghdr m = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)n};
    timeo(fd, SO_SNDTIMEO, -1);
    return neg(sendmsg(fd, &m, MSG_NOSIGNAL));
}
static ssize_t ke_recvv(void *ctx, int host, int fd, const struct iovec *iov, int n)
{
    (void)ctx, (void)host;
    struct msghdr m = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)n};
    timeo(fd, SO_RCVTIMEO, -1);
    return neg(recvmsg(fd, &m, 0));
}
static int ke_shutdown(void *ctx, int host, int fd, int how)
{
    (void)ctx, (void)host;
    return neg(shutdown(fd, how));
}
static int ke_close(void *ctx, int host, int fd)
{
    (void)ctx, (void)host;
    return neg(close(fd));
}
static int ke_setsockopt(void *ctx, int host, int fd, int level, int name, const void *v,
                         socklen_t len)
{
    (void)ctx, (void)host;
    return neg(setsockopt(fd, level, name, v, len));
}
static int ke_getsockopt(void *ctx, int host, int fd, int level, int name, void *v,
                         socklen_t *len)
{
    (void)ctx, (void)host;
    return neg(getsockopt(fd, level, name, v, len));
}
static int ke_getsockname(void *ctx, int host, int fd, struct sockaddr *sa, socklen_t *len)
{
    (void)ctx, (void)host;
    return neg(getsockname(fd, sa, len));
}
static int ke_getpeername(void *ctx, int host, int fd, struct sockaddr *sa, socklen_t *len)
{
    (void)ctx, (void)host;
    return neg(getpeername(fd, sa, len));
}
static int ke_poll(void *ctx, int host, int fd, short events, long t)
{
    (void)ctx, (void)host;
    struct pollfd p = {.fd = fd, .events = events};
    int rc = poll(&p, 1, ke.blocking && t > 0 ? (int)t : 0);
    return rc < 0 ? -errno : p.revents;
}
static void ke_settle(void *ctx, int ms)
{
    (void)ctx;
    sd_sleep_ms(ms);
}
static void ke_after_step(void *ctx)
{
    (void)ctx;
}

/* A descriptor number that is closed here (fcntl says EBADF), well above 0, 1 and 2. */
static int closed_fd(void)
{
    for (int fd = 900; fd > 3; fd--)
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF)
            return fd;
    return 999;
}

int sd_backend_kernel(struct sd_backend *b, bool use_netns)
{
    ke.netns = use_netns;
    memset(b, 0, sizeof(*b));
    b->name = "kernel";
    b->ctx = &ke;
    b->addr[0] = htonl(KE_ADDR_A);
    b->addr[1] = htonl(KE_ADDR_B);
    b->bcast = htonl(0x7fffffffu); /* 127.255.255.255, lo's broadcast route */
    static const uint8_t a6[16] = {0xfd, 0, 0, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    memcpy(b->addr6[0], a6, 16);
    memcpy(b->addr6[1], a6, 16);
    b->addr6[1][15] = 2;
    b->badfd = closed_fd();
    b->begin = ke_begin;
    b->end = ke_end;
    b->socket = ke_socket;
    b->bind = ke_bind;
    b->listen = ke_listen;
    b->accept = ke_accept;
    b->connect = ke_connect;
    b->send = ke_send;
    b->recv = ke_recv;
    b->sendto = ke_sendto;
    b->recvfrom = ke_recvfrom;
    b->sendv = ke_sendv;
    b->recvv = ke_recvv;
    b->shutdown = ke_shutdown;
    b->close = ke_close;
    b->setsockopt = ke_setsockopt;
    b->getsockopt = ke_getsockopt;
    b->getsockname = ke_getsockname;
    b->getpeername = ke_getpeername;
    b->poll = ke_poll;
    b->settle = ke_settle;
    b->after_step = ke_after_step;
    return 0;
}
