/* lwip_serve: lwIP 2.1 (Debian's liblwip-dev, as packaged) on a TAP device, for `make bench`.
 *
 * The subject "lwip-tap": lwIP's raw API on one thread, no tcpip thread, driven the way
 * synack's sk_loop drives synack: poll the TAP, hand every waiting frame to the stack, run its
 * timers. It serves three ports at once:
 *   --discard-port (default 9)  reads and forgets; closes when the peer has closed
 *   --source-port  (default 19) sends until the peer goes (copied into lwIP's buffers, as an
 *                               application would, so lwIP's fused copy-and-checksum applies)
 *   --echo-port    (default 7)  every byte back, Nagle off
 * Received frames go into PBUF_RAM buffers, not PBUF_POOL, as issue 12 advises (it reports a
 * bug in the packaged library's pool buffers on this path; not investigated here). The TAP is
 * opened as synack's is (IFF_TAP | IFF_NO_PI, no offload): one frame per read and write.
 * lwIP's settings are the package's lwipopts.h (65535-byte windows, MSS 1460, no SACK, no
 * timestamps). Prints "lwip_serve: ready" when up, and with $SK_BENCH_OUT set records
 * sizeof(struct tcp_pcb) for the memory table. Runs until SIGTERM.
 *
 * Usage: lwip_serve --tap NAME --addr A.B.C.D --mac MAC [--discard-port P] [--source-port P]
 *                   [--echo-port P]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"
#include "lwip/etharp.h"

#include "../bench_out.h"

#define FRAME_MAX 1514
#define SOURCE_CHUNK 16384

enum app { APP_DISCARD, APP_SOURCE, APP_ECHO };

static volatile sig_atomic_t stop;
static int tap_fd;
static uint8_t our_mac[6];
static uint8_t txbuf[FRAME_MAX + 64];
static uint8_t source_data[SOURCE_CHUNK];

static void on_signal(int sig) { (void)sig; stop = 1; }

static err_t link_output(struct netif *nif, struct pbuf *p)
{
    (void)nif;
    const void *data = p->payload;
    size_t len = p->tot_len;
    if (p->next != NULL) {
        if (len > sizeof(txbuf))
            return ERR_BUF;
        pbuf_copy_partial(p, txbuf, (u16_t)len, 0);
        data = txbuf;
    }
    return write(tap_fd, data, len) == (ssize_t)len ? ERR_OK : ERR_IF;
}

static err_t netif_setup(struct netif *nif)
{
    nif->name[0] = 't';
    nif->name[1] = 'p';
    nif->mtu = 1500;
    nif->hwaddr_len = 6;
    memcpy(nif->hwaddr, our_mac, 6);
    nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET |
                 NETIF_FLAG_LINK_UP;
    nif->output = etharp_output;
    nif->linkoutput = link_output;
    return ERR_OK;
}

static void source_fill(struct tcp_pcb *pcb)
{
    for (;;) {
        u16_t room = tcp_sndbuf(pcb);
        if (room < 1460)
            break;
        if (room > SOURCE_CHUNK)
            room = SOURCE_CHUNK;
        if (tcp_write(pcb, source_data, room, TCP_WRITE_FLAG_COPY) != ERR_OK)
            break;
    }
    tcp_output(pcb);
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    (void)arg;
    (void)len;
    source_fill(pcb);
    return ERR_OK;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    enum app app = (enum app)(intptr_t)arg;
    (void)err;
    if (p == NULL) { /* the peer's FIN */
        tcp_sent(pcb, NULL);
        if (tcp_close(pcb) != ERR_OK)
            tcp_abort(pcb), err = ERR_ABRT;
        return err == ERR_ABRT ? ERR_ABRT : ERR_OK;
    }
    if (app == APP_ECHO) {
        for (struct pbuf *q = p; q != NULL; q = q->next)
            tcp_write(pcb, q->payload, q->len, TCP_WRITE_FLAG_COPY);
        tcp_output(pcb);
    }
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
    (void)arg;
    (void)err; /* the pcb is already freed */
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    if (err != ERR_OK || pcb == NULL)
        return ERR_VAL;
    enum app app = (enum app)(intptr_t)arg;
    tcp_arg(pcb, arg);
    tcp_recv(pcb, on_recv);
    tcp_err(pcb, on_err);
    if (app == APP_ECHO)
        tcp_nagle_disable(pcb);
    if (app == APP_SOURCE) {
        tcp_sent(pcb, on_sent);
        source_fill(pcb);
    }
    return ERR_OK;
}

static int listen_on(uint16_t port, enum app app)
{
    struct tcp_pcb *pcb = tcp_new();
    if (pcb == NULL || tcp_bind(pcb, IP_ADDR_ANY, port) != ERR_OK)
        return -1;
    pcb = tcp_listen_with_backlog(pcb, 128);
    if (pcb == NULL)
        return -1;
    tcp_arg(pcb, (void *)(intptr_t)app);
    tcp_accept(pcb, on_accept);
    return 0;
}

static int open_tap(const char *name)
{
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
    if (fd < 0)
        return -1;
    struct ifreq ifr = {0};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
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
    int have_mac = 0;
    uint16_t ports[3] = {9, 19, 7};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--tap") == 0)
            tap = argv[i + 1];
        else if (strcmp(argv[i], "--addr") == 0)
            inet_pton(AF_INET, argv[i + 1], &a);
        else if (strcmp(argv[i], "--mac") == 0)
            have_mac = sscanf(argv[i + 1], "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3],
                              &m[4], &m[5]) == 6;
        else if (strcmp(argv[i], "--discard-port") == 0)
            ports[APP_DISCARD] = (uint16_t)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--source-port") == 0)
            ports[APP_SOURCE] = (uint16_t)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--echo-port") == 0)
            ports[APP_ECHO] = (uint16_t)atoi(argv[i + 1]);
    }
    if (tap == NULL || a.s_addr == 0 || !have_mac) {
        fprintf(stderr, "usage: lwip_serve --tap NAME --addr A.B.C.D --mac MAC "
                        "[--discard-port P] [--source-port P] [--echo-port P]\n");
        return 2;
    }
    for (int i = 0; i < 6; i++)
        our_mac[i] = (uint8_t)m[i];
    memset(source_data, 'l', sizeof(source_data));
    tap_fd = open_tap(tap);
    if (tap_fd < 0) {
        perror("lwip_serve: open TAP");
        return 1;
    }
    lwip_init();
    static struct netif nif;
    ip4_addr_t addr, mask, gw;
    addr.addr = a.s_addr;
    IP4_ADDR(&mask, 255, 255, 255, 0);
    ip4_addr_set_zero(&gw);
    if (netif_add(&nif, &addr, &mask, &gw, NULL, netif_setup, ethernet_input) == NULL) {
        fprintf(stderr, "lwip_serve: netif_add failed\n");
        return 1;
    }
    netif_set_default(&nif);
    netif_set_up(&nif);
    for (int i = 0; i < 3; i++)
        if (listen_on(ports[i], (enum app)i) != 0) {
            fprintf(stderr, "lwip_serve: cannot listen on %u\n", ports[i]);
            return 1;
        }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    char params[64];
    snprintf(params, sizeof(params), "{\"lwip\":\"%s\"}", LWIP_VERSION_STRING);
    bench_record("memory", "tcb_bytes", "lwip", (double)sizeof(struct tcp_pcb), "bytes", 1,
                 params);
    printf("lwip_serve: ready on %s (lwIP %s, sizeof(struct tcp_pcb) %zu)\n", tap,
           LWIP_VERSION_STRING, sizeof(struct tcp_pcb));
    fflush(stdout);
    while (!stop) {
        u32_t sleep_ms = sys_timeouts_sleeptime();
        struct pollfd p = {.fd = tap_fd, .events = POLLIN};
        poll(&p, 1, sleep_ms > 100 ? 100 : (int)sleep_ms);
        for (int k = 0; k < 256; k++) {
            uint8_t frame[FRAME_MAX + 64];
            ssize_t n = read(tap_fd, frame, sizeof(frame));
            if (n <= 0)
                break;
            struct pbuf *pb = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_RAM);
            if (pb == NULL)
                break;
            pbuf_take(pb, frame, (u16_t)n);
            if (nif.input(pb, &nif) != ERR_OK)
                pbuf_free(pb);
        }
        sys_check_timeouts();
    }
    close(tap_fd);
    return 0;
}
