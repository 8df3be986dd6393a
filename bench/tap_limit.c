/* tap_limit: the fastest a TCP endpoint on a TAP device can go on this machine.
 *
 * Not a TCP stack: just enough of one to measure the link. It opens the TAP with the
 * virtio-net header (IFF_VNET_HDR) and offers the kernel checksum and TCPv4 segmentation
 * offload (TUNSETOFFLOAD TUN_F_CSUM | TUN_F_TSO4), so the kernel hands it up to 64 KiB
 * coalesced segments with partial checksums and accepts 64 KiB TSO super-segments from it,
 * which it cuts itself. One connection at a time:
 *   --sink-port P   (default 9)  accepts, reads everything, acknowledges everything that
 *                   arrives in order (one cumulative ACK per batch of frames read) with a
 *                   64 MiB window; answers the peer's FIN with its own.
 *   --source-port P (default 19) accepts and sends 44 x MSS super-segments, as many as the
 *                   peer's window and a fixed 16 MiB in flight allow, clocked by the ACKs;
 *                   on three duplicate ACKs or 200 ms without progress it goes back to the
 *                   oldest unacknowledged byte (go-back-N). Stops at the peer's FIN or RST.
 * No checksums are verified (the kernel's frames are trusted), no SACK, no timestamps, no
 * ARP (the bench gives the kernel a static neighbour entry for --addr/--mac). Runs until
 * SIGTERM; prints "tap_limit: ready" once the device is open.
 *
 * Usage: tap_limit --tap NAME --addr A.B.C.D --mac MAC [--sink-port P] [--source-port P]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define VNET_HDR_LEN 10 /* struct virtio_net_hdr, the default TUNSETVNETHDRSZ */
#define ETH_HLEN 14
#define IP_HLEN 20
#define TCP_HLEN 20
#define HDRS (ETH_HLEN + IP_HLEN + TCP_HLEN)
#define SUPER_SEGS 44                 /* 44 x 1460 = 64,240 bytes: fits one IP datagram */
#define IN_FLIGHT_MAX (16u << 20)
#define RCV_WND (64u << 20)
#define OUR_WSCALE 14                 /* RFC 7323 §2.3: the largest shift */
#define RTX_AFTER_US 200000
#define FIN 0x01
#define SYN 0x02
#define RST 0x04
#define PSH 0x08
#define ACK 0x10

struct vnet_hdr { /* struct virtio_net_hdr, little-endian on this host */
    uint8_t flags, gso_type;
    uint16_t hdr_len, gso_size, csum_start, csum_offset;
} __attribute__((packed));

struct conn {
    bool active, source, fin_sent;
    uint8_t kmac[6];
    uint32_t kaddr;
    uint16_t kport, lport, mss;
    uint8_t snd_wscale; /* the peer's shift; 0 if it sent none (then we send none either) */
    bool wscale_ok;
    uint32_t rcv_nxt, snd_una, snd_nxt, snd_wnd;
    int dupacks;
    uint64_t progress_us;
};

static volatile sig_atomic_t stop;
static int tap_fd;
static uint32_t our_addr;
static uint8_t our_mac[6];
static uint16_t sink_port = 9, source_port = 19;
static struct conn c;
static uint8_t payload[SUPER_SEGS * 1460];

static void on_signal(int sig) { (void)sig; stop = 1; }

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void wr32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v; }
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static bool seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static bool seq_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }

/* RFC 1071: the one's complement sum, folded to 16 bits, not inverted. */
static uint32_t sum16(const uint8_t *p, size_t n, uint32_t acc)
{
    for (; n > 1; p += 2, n -= 2)
        acc += rd16(p);
    if (n)
        acc += (uint32_t)p[0] << 8;
    return acc;
}
static uint16_t fold(uint32_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)acc;
}

/* Builds Ethernet, IPv4 and TCP headers for len payload bytes into h (HDRS bytes). A frame
 * with payload carries a partial checksum (the pseudo-header sum, RFC 9293 §3.1) that the
 * kernel completes, as a virtio-net guest's would; a bare control segment a full one. */
static void build(uint8_t *h, uint8_t flags, uint32_t seq, size_t len, bool partial,
                  const uint8_t *opts, size_t optlen)
{
    size_t thl = TCP_HLEN + optlen;
    memcpy(h, c.kmac, 6);
    memcpy(h + 6, our_mac, 6);
    wr16(h + 12, 0x0800);
    uint8_t *ip = h + ETH_HLEN;
    memset(ip, 0, IP_HLEN);
    ip[0] = 0x45;
    wr16(ip + 2, (uint16_t)(IP_HLEN + thl + len));
    wr16(ip + 6, 0x4000); /* DF */
    ip[8] = 64;
    ip[9] = 6;
    wr32(ip + 12, our_addr);
    wr32(ip + 16, c.kaddr);
    wr16(ip + 10, (uint16_t)~fold(sum16(ip, IP_HLEN, 0)));
    uint8_t *t = ip + IP_HLEN;
    wr16(t, c.lport);
    wr16(t + 2, c.kport);
    wr32(t + 4, seq);
    wr32(t + 8, (flags & ACK) ? c.rcv_nxt : 0);
    t[12] = (uint8_t)(thl / 4 << 4);
    t[13] = flags;
    uint32_t wnd = (flags & SYN) ? 65535 : (c.wscale_ok ? RCV_WND >> OUR_WSCALE : 65535);
    wr16(t + 14, (uint16_t)wnd);
    wr16(t + 16, 0);
    wr16(t + 18, 0);
    if (optlen > 0)
        memcpy(t + TCP_HLEN, opts, optlen);
    uint32_t pseudo = (our_addr >> 16) + (our_addr & 0xffff) + (c.kaddr >> 16) +
                      (c.kaddr & 0xffff) + 6 + (uint32_t)(thl + len);
    if (partial)
        wr16(t + 16, fold(pseudo));
    else
        wr16(t + 16, (uint16_t)~fold(sum16(t, thl, pseudo)));
}

static void send_ctl(uint8_t flags, uint32_t seq, const uint8_t *opts, size_t optlen)
{
    uint8_t f[VNET_HDR_LEN + HDRS + 8] = {0};
    build(f + VNET_HDR_LEN, flags, seq, 0, false, opts, optlen);
    if (write(tap_fd, f, VNET_HDR_LEN + HDRS + optlen) < 0 && errno != EAGAIN)
        perror("tap_limit: write");
}

/* One TSO super-segment of len bytes at snd_nxt: the kernel cuts it into MSS segments. */
static bool send_super(size_t len)
{
    uint8_t h[VNET_HDR_LEN + HDRS];
    struct vnet_hdr v = {.flags = 1 /* NEEDS_CSUM */, .hdr_len = HDRS,
                         .csum_start = ETH_HLEN + IP_HLEN, .csum_offset = 16};
    if (len > c.mss) {
        v.gso_type = 1; /* VIRTIO_NET_HDR_GSO_TCPV4 */
        v.gso_size = c.mss;
    }
    memcpy(h, &v, sizeof(v));
    build(h + VNET_HDR_LEN, ACK | PSH, c.snd_nxt, len, true, NULL, 0);
    struct iovec iov[2] = {{h, sizeof(h)}, {payload, len}};
    if (writev(tap_fd, iov, 2) < 0)
        return false;
    c.snd_nxt += (uint32_t)len;
    return true;
}

static void source_pump(void)
{
    if (!c.active || !c.source || c.fin_sent)
        return;
    uint32_t limit = c.snd_wnd < IN_FLIGHT_MAX ? c.snd_wnd : IN_FLIGHT_MAX;
    for (;;) {
        uint32_t flight = c.snd_nxt - c.snd_una;
        if (flight >= limit)
            break;
        size_t len = limit - flight;
        if (len > (size_t)SUPER_SEGS * c.mss)
            len = (size_t)SUPER_SEGS * c.mss;
        if (len < c.mss && flight > 0)
            break; /* wait for the window to open by at least one segment */
        if (!send_super(len))
            break;
    }
}

static void on_syn(const uint8_t *eth, const uint8_t *ip, const uint8_t *t, size_t thl)
{
    memset(&c, 0, sizeof(c));
    c.active = true;
    memcpy(c.kmac, eth + 6, 6);
    c.kaddr = rd32(ip + 12);
    c.kport = rd16(t);
    c.lport = rd16(t + 2);
    c.source = c.lport == source_port;
    c.rcv_nxt = rd32(t + 4) + 1;
    c.mss = 536; /* RFC 9293 §3.7.1: the default without the option */
    for (size_t i = TCP_HLEN; i < thl;) {
        uint8_t kind = t[i];
        if (kind == 0)
            break;
        if (kind == 1) {
            i++;
            continue;
        }
        if (i + 1 >= thl || t[i + 1] < 2)
            break;
        if (kind == 2 && t[i + 1] == 4)
            c.mss = rd16(t + i + 2);
        if (kind == 3 && t[i + 1] == 3) {
            c.wscale_ok = true;
            c.snd_wscale = t[i + 2] > 14 ? 14 : t[i + 2];
        }
        i += t[i + 1];
    }
    if (c.mss > 1460)
        c.mss = 1460;
    uint32_t iss = (uint32_t)now_us() * 2654435761u;
    c.snd_una = iss;
    c.snd_nxt = iss + 1;
    c.snd_wnd = rd16(t + 14); /* RFC 7323 §2.2: a SYN's window is never scaled */
    c.progress_us = now_us();
    uint8_t opts[8] = {2, 4, 0x05, 0xb4 /* MSS 1460 */, 1, 3, 3, OUR_WSCALE};
    send_ctl(SYN | ACK, iss, opts, c.wscale_ok ? 8 : 4);
}

/* One frame from the kernel; returns true if it calls for an ACK. */
static bool on_frame(const uint8_t *f, size_t n)
{
    if (n < HDRS || rd16(f + 12) != 0x0800)
        return false;
    const uint8_t *ip = f + ETH_HLEN;
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    if (ip[9] != 6 || rd32(ip + 16) != our_addr || n < ETH_HLEN + ihl + TCP_HLEN)
        return false;
    const uint8_t *t = ip + ihl;
    size_t thl = (size_t)(t[12] >> 4) * 4;
    size_t iplen = rd16(ip + 2);
    if (iplen > n - ETH_HLEN || iplen < ihl + thl)
        return false;
    uint8_t flags = t[13];
    uint16_t lport = rd16(t + 2);
    if ((flags & (SYN | ACK)) == SYN && (lport == sink_port || lport == source_port)) {
        on_syn(f, ip, t, thl);
        return false;
    }
    if (!c.active || rd16(t) != c.kport || lport != c.lport || rd32(ip + 12) != c.kaddr)
        return false;
    if (flags & RST) {
        c.active = false;
        return false;
    }
    uint32_t seq = rd32(t + 4), ack = rd32(t + 8);
    size_t len = iplen - ihl - thl;
    if (flags & ACK) {
        if (seq_lt(c.snd_una, ack) && seq_le(ack, c.snd_nxt)) {
            c.snd_una = ack;
            c.dupacks = 0;
            c.progress_us = now_us();
        } else if (ack == c.snd_una && len == 0 && c.snd_nxt != c.snd_una &&
                   ++c.dupacks == 3) {
            c.snd_nxt = c.snd_una; /* go back N */
        }
        c.snd_wnd = (uint32_t)rd16(t + 14) << c.snd_wscale;
    }
    if (seq == c.rcv_nxt) {
        c.rcv_nxt += (uint32_t)len;
        if ((flags & FIN) && !c.fin_sent) {
            c.rcv_nxt++;
            c.fin_sent = true;
            send_ctl(FIN | ACK, c.snd_nxt, NULL, 0);
            c.active = false; /* the kernel's last ACK needs no answer */
            return false;
        }
    }
    return len > 0 || (flags & FIN);
}

static int open_tap(const char *name)
{
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
    if (fd < 0)
        return -1;
    struct ifreq ifr = {0};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) != 0 ||
        ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int main(int argc, char **argv)
{
    const char *tap = NULL;
    struct in_addr a = {0};
    unsigned m[6];
    bool have_mac = false;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--tap") == 0)
            tap = argv[i + 1];
        else if (strcmp(argv[i], "--addr") == 0)
            inet_pton(AF_INET, argv[i + 1], &a);
        else if (strcmp(argv[i], "--mac") == 0)
            have_mac = sscanf(argv[i + 1], "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3],
                              &m[4], &m[5]) == 6;
        else if (strcmp(argv[i], "--sink-port") == 0)
            sink_port = (uint16_t)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--source-port") == 0)
            source_port = (uint16_t)atoi(argv[i + 1]);
    }
    if (tap == NULL || a.s_addr == 0 || !have_mac) {
        fprintf(stderr, "usage: tap_limit --tap NAME --addr A.B.C.D --mac MAC "
                        "[--sink-port P] [--source-port P]\n");
        return 2;
    }
    our_addr = ntohl(a.s_addr);
    for (int i = 0; i < 6; i++)
        our_mac[i] = (uint8_t)m[i];
    tap_fd = open_tap(tap);
    if (tap_fd < 0) {
        perror("tap_limit: TAP with IFF_VNET_HDR and TUNSETOFFLOAD");
        return 1;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    memset(payload, 'x', sizeof(payload));
    printf("tap_limit: ready on %s\n", tap);
    fflush(stdout);
    static uint8_t frame[VNET_HDR_LEN + 65536 + 256];
    while (!stop) {
        struct pollfd p = {.fd = tap_fd, .events = POLLIN};
        poll(&p, 1, 50);
        bool need_ack = false;
        for (int k = 0; k < 256; k++) {
            ssize_t n = read(tap_fd, frame, sizeof(frame));
            if (n <= VNET_HDR_LEN)
                break;
            need_ack |= on_frame(frame + VNET_HDR_LEN, (size_t)n - VNET_HDR_LEN);
        }
        if (need_ack && c.active)
            send_ctl(ACK, c.snd_nxt, NULL, 0);
        if (c.active && c.source && c.snd_una != c.snd_nxt &&
            now_us() - c.progress_us > RTX_AFTER_US) {
            c.snd_nxt = c.snd_una;
            c.progress_us = now_us();
        }
        source_pump();
    }
    close(tap_fd);
    return 0;
}
