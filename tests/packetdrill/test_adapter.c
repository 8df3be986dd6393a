/* The packetdrill adapter's contract, checked without packetdrill: load libsynack-packetdrill.so
 * the way packetdrill does (dlopen + packetdrill_interface_init), then drive its hooks as a
 * script would: socket/bind/listen, a SYN in through netdev_send, the SYN-ACK out through
 * netdev_receive, the handshake's ACK, accept, data, errno conventions, virtual time, a blocking
 * accept on a second thread, and the give-up when the stack stays silent. Over IPv6 (issue 13):
 * an IPv6 local_ip, IPv6 datagrams both ways (header fields and the checksum over RFC 8200
 * §8.1's pseudo-header checked here), the SYN-ACK's MSS 1500 - 40 - 20 = 1440, sockaddr_in6
 * from accept, and an AF_INET6 socket taking an IPv4 peer as ::ffff:192.0.2.1 (RFC 3493 §3.7).
 *
 * Usage: test_packetdrill_adapter PATH/libsynack-packetdrill.so
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/sockios.h>
#include <unistd.h>

#include <cmocka.h>

#include "synack/packetdrill.h"

#define LOCAL_IP 0xc0a80002u  /* 192.168.0.2 */
#define REMOTE_IP 0xc0000201u /* 192.0.2.1 */
#define LOCAL_PORT 8080
#define REMOTE_PORT 40000
#define PEER_ISN 1000u
/* fd3d:fa7b:d17d::2 (in packetdrill's local /48) and 2001:db8::1 (its remote default). */
static const uint8_t LOCAL6[16] = {0xfd, 0x3d, 0xfa, 0x7b, 0xd1, 0x7d, 0, 0,
                                   0,    0,    0,    0,    0,    0,    0, 2};
static const uint8_t REMOTE6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

static const char *so_path;
static const char *pdhost_path; /* libsynack-pdhost.so, the host shim run-packetdrill.sh preloads */

struct fixture {
    void *handle;
    struct packetdrill_interface ifc;
};

/* ---- Building and reading datagrams ---- */

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t acc)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        acc += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        acc += (uint32_t)p[n - 1] << 8;
    return acc;
}

static uint16_t fold(uint32_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)~acc;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }

/* An IPv4 datagram from the remote peer carrying one TCP segment with these option bytes
 * (optlen a multiple of 4); returns its length. */
static size_t build_segment_opts(uint8_t *buf, uint32_t seq, uint32_t ack, uint8_t flags,
                                 const uint8_t *opts, size_t optlen, const char *payload)
{
    size_t plen = payload ? strlen(payload) : 0;
    size_t tcplen = 20 + optlen + plen;
    size_t total = 20 + tcplen;
    memset(buf, 0, total);
    uint8_t *ip = buf, *tcp = buf + 20;
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)total);
    ip[8] = 64;
    ip[9] = IPPROTO_TCP;
    put32(ip + 12, REMOTE_IP);
    put32(ip + 16, LOCAL_IP);
    put16(ip + 10, fold(sum16(ip, 20, 0)));
    put16(tcp, REMOTE_PORT);
    put16(tcp + 2, LOCAL_PORT);
    put32(tcp + 4, seq);
    put32(tcp + 8, ack);
    tcp[12] = (uint8_t)(((20 + optlen) / 4) << 4);
    tcp[13] = flags;
    put16(tcp + 14, 65535);
    if (optlen)
        memcpy(tcp + 20, opts, optlen);
    if (plen)
        memcpy(tcp + 20 + optlen, payload, plen);
    uint8_t pseudo[12];
    put32(pseudo, REMOTE_IP);
    put32(pseudo + 4, LOCAL_IP);
    pseudo[8] = 0;
    pseudo[9] = IPPROTO_TCP;
    put16(pseudo + 10, (uint16_t)tcplen);
    put16(tcp + 16, fold(sum16(tcp, tcplen, sum16(pseudo, 12, 0))));
    return total;
}

/* The same with the MSS option (1460) alone on a SYN. */
static size_t build_segment(uint8_t *buf, uint32_t seq, uint32_t ack, uint8_t flags,
                            const char *payload)
{
    static const uint8_t mss[4] = {2, 4, 1460 >> 8, 1460 & 0xff};
    return build_segment_opts(buf, seq, ack, flags, mss, (flags & TH_SYN) ? 4 : 0, payload);
}

struct seg {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t win;
    size_t payload_len;
    long long time;
    uint8_t opts[40];
    size_t optlen;
};

/* Pops the next datagram the stack sent and checks it is a well-formed TCP segment to the
 * peer, checksums included (packetdrill does not verify outbound TCP checksums). */
static struct seg receive_segment(struct fixture *f)
{
    uint8_t buf[2048];
    size_t n = sizeof(buf);
    long long t = -1;
    assert_int_equal(f->ifc.netdev_receive(f->ifc.userdata, buf, &n, &t), 0);
    assert_true(n >= 40);
    assert_int_equal(buf[0] >> 4, 4);
    size_t ihl = (size_t)(buf[0] & 15) * 4;
    assert_int_equal(get16(buf + 2), n);
    assert_int_equal(buf[9], IPPROTO_TCP);
    assert_int_equal(get32(buf + 12), LOCAL_IP);
    assert_int_equal(get32(buf + 16), REMOTE_IP);
    assert_int_equal(fold(sum16(buf, ihl, 0)), 0);
    const uint8_t *tcp = buf + ihl;
    size_t tcplen = n - ihl;
    uint8_t pseudo[12];
    memcpy(pseudo, buf + 12, 8);
    pseudo[8] = 0;
    pseudo[9] = IPPROTO_TCP;
    put16(pseudo + 10, (uint16_t)tcplen);
    assert_int_equal(fold(sum16(tcp, tcplen, sum16(pseudo, 12, 0))), 0);
    struct seg s = {
        .sport = get16(tcp), .dport = get16(tcp + 2), .seq = get32(tcp + 4),
        .ack = get32(tcp + 8), .flags = tcp[13],
        .payload_len = tcplen - (size_t)(tcp[12] >> 4) * 4, .time = t,
        .win = get16(tcp + 14), .optlen = (size_t)(tcp[12] >> 4) * 4 - 20,
    };
    memcpy(s.opts, tcp + 20, s.optlen);
    return s;
}

static void inject(struct fixture *f, uint32_t seq, uint32_t ack, uint8_t flags, const char *data)
{
    uint8_t buf[256];
    size_t n = build_segment(buf, seq, ack, flags, data);
    assert_int_equal(f->ifc.netdev_send(f->ifc.userdata, buf, n), 0);
}

static long long now_us(struct fixture *f)
{
    struct timeval tv;
    assert_int_equal(f->ifc.gettimeofday(f->ifc.userdata, &tv, NULL), 0);
    return (long long)tv.tv_sec * 1000000 + tv.tv_usec;
}

static struct sockaddr_in sin_of(uint32_t ip, uint16_t port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(ip);
    a.sin_port = htons(port);
    return a;
}

/* socket + bind(192.168.0.2:8080) + listen, as packetdrill passes them. */
static int listener(struct fixture *f)
{
    void *u = f->ifc.userdata;
    int fd = f->ifc.socket(u, AF_INET, SOCK_STREAM, IPPROTO_TCP);
    assert_true(fd >= 0);
    assert_true(fcntl(fd, F_GETFD) >= 0); /* a real host descriptor */
    int one = 1;
    assert_int_equal(f->ifc.setsockopt(u, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
    struct sockaddr_in a = sin_of(LOCAL_IP, LOCAL_PORT);
    assert_int_equal(f->ifc.bind(u, fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(f->ifc.listen(u, fd, 1), 0);
    return fd;
}

/* SYN in, SYN-ACK out; returns the stack's ISS. */
static uint32_t syn_synack(struct fixture *f)
{
    inject(f, PEER_ISN, 0, TH_SYN, NULL);
    struct seg s = receive_segment(f);
    assert_int_equal(s.flags, TH_SYN | TH_ACK);
    assert_int_equal(s.ack, PEER_ISN + 1);
    assert_int_equal(s.sport, LOCAL_PORT);
    assert_int_equal(s.dport, REMOTE_PORT);
    return s.seq;
}

/* Loads the adapter and initializes it with FLAGS, as packetdrill does. */
static int setup_with(struct fixture *f, const char *flags)
{
    memset(f, 0, sizeof(*f));
    f->handle = dlopen(so_path, RTLD_NOW | RTLD_LOCAL);
    if (f->handle == NULL) {
        fprintf(stderr, "%s\n", dlerror());
        return -1;
    }
    packetdrill_interface_init_t init =
        (packetdrill_interface_init_t)dlsym(f->handle, "packetdrill_interface_init");
    if (init == NULL)
        return -1;
    init(flags, &f->ifc);
    return 0;
}

static int setup(void **state)
{
    static struct fixture f;
    if (setup_with(&f, "local_ip=192.168.0.2,giveup=30") != 0)
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    f->ifc.free(f->ifc.userdata);
    dlclose(f->handle);
    return 0;
}

/* Every member is filled: packetdrill calls them without checking. */
static void test_interface_complete(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(sizeof(struct packetdrill_interface), 33 * sizeof(void *));
    void *members[33];
    memcpy(members, &f->ifc, sizeof(members));
    for (int i = 0; i < 33; i++)
        assert_non_null(members[i]);
}

/* Only the init function is exported. */
static void test_exports_only_init(void **state)
{
    struct fixture *f = *state;
    assert_non_null(dlsym(f->handle, "packetdrill_interface_init"));
    assert_null(dlsym(f->handle, "sk_stack_new"));
    assert_null(dlsym(f->handle, "sk_tcp_connect"));
}

/* The passive handshake through the device hooks, then accept, data and errno conventions. */
static void test_handshake_accept_data(void **state)
{
    struct fixture *f = *state;
    void *u = f->ifc.userdata;
    int lfd = listener(f);
    uint32_t iss = syn_synack(f);
    inject(f, PEER_ISN + 1, iss + 1, TH_ACK, NULL);

    struct sockaddr_in peer;
    socklen_t plen = sizeof(peer);
    int cfd = f->ifc.accept(u, lfd, (struct sockaddr *)&peer, &plen);
    assert_true(cfd >= 0);
    assert_int_equal(plen, sizeof(peer));
    assert_int_equal(ntohl(peer.sin_addr.s_addr), REMOTE_IP);
    assert_int_equal(ntohs(peer.sin_port), REMOTE_PORT);

    /* accept() on a socket that is not listening: EINVAL (Linux). */
    errno = 0;
    assert_int_equal(f->ifc.accept(u, cfd, NULL, NULL), -1);
    assert_int_equal(errno, EINVAL);
    /* A descriptor that is no socket of ours: EBADF. */
    errno = 0;
    assert_int_equal(f->ifc.close(u, 100000), -1);
    assert_int_equal(errno, EBADF);

    /* Non-blocking read with nothing to read: EAGAIN. */
    assert_int_equal(f->ifc.fcntl(u, cfd, F_GETFL), O_RDWR);
    assert_int_equal(f->ifc.fcntl(u, cfd, F_SETFL, O_RDWR | O_NONBLOCK), 0);
    assert_int_equal(f->ifc.fcntl(u, cfd, F_GETFL), O_RDWR | O_NONBLOCK);
    char buf[64];
    errno = 0;
    assert_int_equal(f->ifc.read(u, cfd, buf, sizeof(buf)), -1);
    assert_int_equal(errno, EAGAIN);

    /* Data in, read out; the ACK for it comes out at the latest after the delayed-ACK time. */
    inject(f, PEER_ISN + 1, iss + 1, TH_ACK | TH_PSH, "hello");
    assert_int_equal(f->ifc.recv(u, cfd, buf, sizeof(buf), 0), 5);
    assert_memory_equal(buf, "hello", 5);
    struct seg a = receive_segment(f);
    assert_true(a.flags & TH_ACK);
    assert_int_equal(a.ack, PEER_ISN + 6);

    /* Data out. */
    assert_int_equal(f->ifc.write(u, cfd, "world!", 6), 6);
    struct seg d = receive_segment(f);
    assert_int_equal(d.seq, iss + 1);
    assert_int_equal(d.payload_len, 6);

    int v = -1;
    socklen_t vl = sizeof(v);
    assert_int_equal(f->ifc.getsockopt(u, cfd, SOL_SOCKET, SO_ERROR, &v, &vl), 0);
    assert_int_equal(v, 0);
    assert_int_equal(f->ifc.getsockopt(u, cfd, IPPROTO_TCP, TCP_MAXSEG, &v, &vl), 0);
    assert_int_equal(v, 1460);

    /* The peer resets: read reports ECONNRESET once, SO_ERROR has been consumed by it. */
    inject(f, PEER_ISN + 6, iss + 7, TH_RST, NULL);
    errno = 0;
    assert_int_equal(f->ifc.read(u, cfd, buf, sizeof(buf)), -1);
    assert_int_equal(errno, ECONNRESET);
    assert_int_equal(f->ifc.getsockopt(u, cfd, SOL_SOCKET, SO_ERROR, &v, &vl), 0);
    assert_int_equal(v, 0);

    assert_int_equal(f->ifc.close(u, cfd), 0);
    assert_int_equal(f->ifc.close(u, lfd), 0);
}

/* Virtual time: every clock read moves it on; usleep moves it by the amount asked. */
static void test_virtual_clock(void **state)
{
    struct fixture *f = *state;
    long long t0 = now_us(f);
    long long t1 = now_us(f);
    assert_true(t1 > t0);
    assert_int_equal(f->ifc.usleep(f->ifc.userdata, 65 * 1000000), 0);
    long long t2 = now_us(f);
    assert_true(t2 - t1 >= 65 * 1000000LL);
    assert_true(t2 - t1 < 65 * 1000000LL + 1000);
}

/* With nothing queued, netdev_receive runs the clock to the next timer: an unanswered SYN-ACK
 * is retransmitted one initial RTO (1 s) later, stamped with that virtual time. */
static void test_retransmission_at_virtual_time(void **state)
{
    struct fixture *f = *state;
    int lfd = listener(f);
    inject(f, PEER_ISN, 0, TH_SYN, NULL);
    struct seg s1 = receive_segment(f);
    struct seg s2 = receive_segment(f);
    assert_int_equal(s2.flags, TH_SYN | TH_ACK);
    assert_int_equal(s2.seq, s1.seq);
    assert_int_equal(s2.time - s1.time, 1000000);
    assert_int_equal(f->ifc.close(f->ifc.userdata, lfd), 0);
}

/* A stack with nothing to say: netdev_receive gives up with an empty packet, not a hang. */
static void test_gives_up_when_silent(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[2048];
    size_t n = sizeof(buf);
    long long t = 0;
    assert_int_equal(f->ifc.netdev_receive(f->ifc.userdata, buf, &n, &t), 0);
    assert_int_equal(n, 0);
}

struct accept_call {
    struct fixture *f;
    int fd;
    int result;
};

static void *blocking_accept(void *arg)
{
    struct accept_call *c = arg;
    c->result = c->f->ifc.accept(c->f->ifc.userdata, c->fd, NULL, NULL);
    return NULL;
}

/* A blocking accept() on a second thread really waits, and the handshake's ACK, arriving
 * through netdev_send on the main thread, wakes it. */
static void test_blocking_accept_woken_by_netdev_send(void **state)
{
    struct fixture *f = *state;
    int lfd = listener(f);
    struct accept_call call = {.f = f, .fd = lfd, .result = -2};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, blocking_accept, &call), 0);
    uint32_t iss = syn_synack(f);
    inject(f, PEER_ISN + 1, iss + 1, TH_ACK, NULL);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_true(call.result >= 0);
    assert_int_equal(f->ifc.close(f->ifc.userdata, call.result), 0);
    assert_int_equal(f->ifc.close(f->ifc.userdata, lfd), 0);
}

/* packetdrill's hand-off after a blocking call: its syscall thread reads the clock
 * (end_syscall), then takes packetdrill's run lock to record the result (an accepted socket's
 * descriptor); the main thread waits for the next event in usleep without that lock. The
 * adapter's usleep lets the syscall thread record before virtual time moves on, so an event 5
 * ms after the accept (a TCP_INFO read) finds the descriptor. */
struct handoff_call {
    struct fixture *f;
    pthread_mutex_t *run;
    int fd, recorded;
    volatile pid_t tid;
};

static void *blocking_accept_then_record(void *arg)
{
    struct handoff_call *c = arg;
    c->tid = (pid_t)syscall(SYS_gettid);
    int r = c->f->ifc.accept(c->f->ifc.userdata, c->fd, NULL, NULL);
    struct timeval tv;
    c->f->ifc.gettimeofday(c->f->ifc.userdata, &tv, NULL);
    pthread_mutex_lock(c->run);
    c->recorded = r;
    pthread_mutex_unlock(c->run);
    return NULL;
}

/* True once thread *tid is asleep (state S in /proc, as packetdrill decides a call blocked);
 * false after 10 s. */
static bool thread_sleeps(volatile pid_t *tid)
{
    for (int i = 0; i < 10000; i++) {
        char path[64], buf[256];
        if (*tid != 0) {
            snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)*tid);
            FILE *fp = fopen(path, "r");
            size_t n = fp ? fread(buf, 1, sizeof(buf) - 1, fp) : 0;
            if (fp)
                fclose(fp);
            buf[n] = '\0';
            const char *p = strrchr(buf, ')');
            if (p && p[1] == ' ' && p[2] == 'S')
                return true;
        }
        usleep(1000);
    }
    return false;
}

static void test_blocking_accept_recorded_before_next_event(void **state)
{
    struct fixture *f = *state;
    int lfd = listener(f);
    pthread_mutex_t run = PTHREAD_MUTEX_INITIALIZER;
    struct handoff_call call = {.f = f, .run = &run, .fd = lfd, .recorded = -2};
    pthread_mutex_lock(&run);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, blocking_accept_then_record, &call), 0);
    assert_true(thread_sleeps(&call.tid)); /* as packetdrill's is_thread_sleeping */
    uint32_t iss = syn_synack(f);
    inject(f, PEER_ISN + 1, iss + 1, TH_ACK, NULL);
    struct timeval tv;
    f->ifc.gettimeofday(f->ifc.userdata, &tv, NULL); /* wait_for_event: now, then sleep */
    pthread_mutex_unlock(&run);
    f->ifc.usleep(f->ifc.userdata, 5000);
    pthread_mutex_lock(&run);
    assert_true(call.recorded >= 0);
    pthread_mutex_unlock(&run);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(f->ifc.close(f->ifc.userdata, call.recorded), 0);
    assert_int_equal(f->ifc.close(f->ifc.userdata, lfd), 0);
}

/* An active open: connect() on a non-blocking socket is EINPROGRESS, the SYN goes out. */
static void test_nonblocking_connect(void **state)
{
    struct fixture *f = *state;
    void *u = f->ifc.userdata;
    int fd = f->ifc.socket(u, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TCP);
    assert_true(fd >= 0);
    struct sockaddr_in a = sin_of(REMOTE_IP, 8080);
    errno = 0;
    assert_int_equal(f->ifc.connect(u, fd, (struct sockaddr *)&a, sizeof(a)), -1);
    assert_int_equal(errno, EINPROGRESS);
    uint8_t buf[2048];
    size_t n = sizeof(buf);
    long long t;
    assert_int_equal(f->ifc.netdev_receive(u, buf, &n, &t), 0);
    assert_true(n >= 40);
    assert_int_equal(buf[20 + 13], TH_SYN);
    errno = 0;
    assert_int_equal(f->ifc.connect(u, fd, (struct sockaddr *)&a, sizeof(a)), -1);
    assert_int_equal(errno, EALREADY);
    assert_int_equal(f->ifc.close(u, fd), 0);
}

/* ---- IPv6 ---- */

/* An IPv6 datagram from REMOTE6 to LOCAL6 carrying one TCP segment (a SYN with MSS 1440);
 * the TCP checksum over RFC 8200 §8.1's pseudo-header. Returns its length. */
static size_t build_segment6(uint8_t *buf, uint32_t seq, uint32_t ack, uint8_t flags,
                             const char *payload)
{
    size_t plen = payload ? strlen(payload) : 0;
    size_t optlen = (flags & TH_SYN) ? 4 : 0;
    size_t tcplen = 20 + optlen + plen;
    memset(buf, 0, 40 + tcplen);
    uint8_t *ip = buf, *tcp = buf + 40;
    ip[0] = 0x60;
    put16(ip + 4, (uint16_t)tcplen);
    ip[6] = IPPROTO_TCP;
    ip[7] = 64;
    memcpy(ip + 8, REMOTE6, 16);
    memcpy(ip + 24, LOCAL6, 16);
    put16(tcp, REMOTE_PORT);
    put16(tcp + 2, LOCAL_PORT);
    put32(tcp + 4, seq);
    put32(tcp + 8, ack);
    tcp[12] = (uint8_t)(((20 + optlen) / 4) << 4);
    tcp[13] = flags;
    put16(tcp + 14, 65535);
    if (optlen) {
        tcp[20] = 2;
        tcp[21] = 4;
        put16(tcp + 22, 1440);
    }
    if (plen)
        memcpy(tcp + 20 + optlen, payload, plen);
    uint8_t pseudo[40];
    memcpy(pseudo, REMOTE6, 16);
    memcpy(pseudo + 16, LOCAL6, 16);
    put32(pseudo + 32, (uint32_t)tcplen);
    put32(pseudo + 36, IPPROTO_TCP);
    put16(tcp + 16, fold(sum16(tcp, tcplen, sum16(pseudo, 40, 0))));
    return 40 + tcplen;
}

/* Pops the next datagram: an IPv6 one from LOCAL6 to REMOTE6 with next header TCP, its
 * payload length right and its TCP checksum good; mss gets the MSS option if there is one. */
static struct seg receive_segment6(struct fixture *f, uint16_t *mss)
{
    uint8_t buf[2048];
    size_t n = sizeof(buf);
    long long t = -1;
    assert_int_equal(f->ifc.netdev_receive(f->ifc.userdata, buf, &n, &t), 0);
    assert_true(n >= 60);
    assert_int_equal(buf[0] >> 4, 6);
    assert_int_equal(get16(buf + 4), n - 40);
    assert_int_equal(buf[6], IPPROTO_TCP);
    assert_memory_equal(buf + 8, LOCAL6, 16);
    assert_memory_equal(buf + 24, REMOTE6, 16);
    const uint8_t *tcp = buf + 40;
    size_t tcplen = n - 40;
    uint8_t pseudo[40];
    memcpy(pseudo, buf + 8, 32);
    put32(pseudo + 32, (uint32_t)tcplen);
    put32(pseudo + 36, IPPROTO_TCP);
    assert_int_equal(fold(sum16(tcp, tcplen, sum16(pseudo, 40, 0))), 0);
    size_t hl = (size_t)(tcp[12] >> 4) * 4;
    for (size_t i = 20; mss && i + 1 < hl;) {
        if (tcp[i] == 0)
            break;
        if (tcp[i] == 1) {
            i++;
            continue;
        }
        if (tcp[i] == 2 && tcp[i + 1] == 4)
            *mss = get16(tcp + i + 2);
        i += tcp[i + 1] ? tcp[i + 1] : 1;
    }
    struct seg s = {
        .sport = get16(tcp), .dport = get16(tcp + 2), .seq = get32(tcp + 4),
        .ack = get32(tcp + 8), .flags = tcp[13], .payload_len = tcplen - hl, .time = t,
    };
    return s;
}

static void inject6(struct fixture *f, uint32_t seq, uint32_t ack, uint8_t flags,
                    const char *data)
{
    uint8_t buf[256];
    size_t n = build_segment6(buf, seq, ack, flags, data);
    assert_int_equal(f->ifc.netdev_send(f->ifc.userdata, buf, n), 0);
}

static struct sockaddr_in6 sin6_of(const uint8_t ip[16], uint16_t port)
{
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof(a));
    a.sin6_family = AF_INET6;
    memcpy(a.sin6_addr.s6_addr, ip, 16);
    a.sin6_port = htons(port);
    return a;
}

static int setup6(void **state)
{
    int r = setup(state);
    if (r == 0) {
        struct fixture *f = *state;
        f->ifc.free(f->ifc.userdata);
        packetdrill_interface_init_t init =
            (packetdrill_interface_init_t)dlsym(f->handle, "packetdrill_interface_init");
        init("local_ip=fd3d:fa7b:d17d::2/48,giveup=30", &f->ifc);
    }
    return r;
}

/* The passive handshake over IPv6: the SYN-ACK from our IPv6 address with MSS 1440 (RFC 8200
 * §3 and RFC 9293 §3.7.1: 1500 - 40 - 20), accept's sockaddr_in6, data both ways. */
static void test_ipv6_handshake_accept_data(void **state)
{
    struct fixture *f = *state;
    void *u = f->ifc.userdata;
    int lfd = f->ifc.socket(u, AF_INET6, SOCK_STREAM, IPPROTO_TCP);
    assert_true(lfd >= 0);
    struct sockaddr_in6 a = sin6_of(LOCAL6, LOCAL_PORT);
    assert_int_equal(f->ifc.bind(u, lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(f->ifc.listen(u, lfd, 1), 0);
    inject6(f, PEER_ISN, 0, TH_SYN, NULL);
    uint16_t mss = 0;
    struct seg sa = receive_segment6(f, &mss);
    assert_int_equal(sa.flags, TH_SYN | TH_ACK);
    assert_int_equal(sa.ack, PEER_ISN + 1);
    assert_int_equal(sa.sport, LOCAL_PORT);
    assert_int_equal(sa.dport, REMOTE_PORT);
    assert_int_equal(mss, 1500 - 40 - 20);
    inject6(f, PEER_ISN + 1, sa.seq + 1, TH_ACK, NULL);

    struct sockaddr_in6 peer;
    memset(&peer, 0xaa, sizeof(peer));
    socklen_t plen = sizeof(peer);
    int cfd = f->ifc.accept(u, lfd, (struct sockaddr *)&peer, &plen);
    assert_true(cfd >= 0);
    assert_int_equal(plen, sizeof(struct sockaddr_in6));
    assert_int_equal(peer.sin6_family, AF_INET6);
    assert_memory_equal(peer.sin6_addr.s6_addr, REMOTE6, 16);
    assert_int_equal(ntohs(peer.sin6_port), REMOTE_PORT);
    assert_int_equal(peer.sin6_flowinfo, 0);
    assert_int_equal(peer.sin6_scope_id, 0);

    inject6(f, PEER_ISN + 1, sa.seq + 1, TH_ACK | TH_PSH, "hello");
    char buf[16];
    assert_int_equal(f->ifc.recv(u, cfd, buf, sizeof(buf), 0), 5);
    assert_memory_equal(buf, "hello", 5);
    struct seg ack = receive_segment6(f, NULL);
    assert_int_equal(ack.ack, PEER_ISN + 6);
    assert_int_equal(f->ifc.write(u, cfd, "world!", 6), 6);
    struct seg d = receive_segment6(f, NULL);
    assert_int_equal(d.seq, sa.seq + 1);
    assert_int_equal(d.payload_len, 6);
    int v = 0;
    socklen_t vl = sizeof(v);
    assert_int_equal(f->ifc.getsockopt(u, cfd, IPPROTO_TCP, TCP_MAXSEG, &v, &vl), 0);
    assert_int_equal(v, 1440);
    /* A sockaddr_in given to an AF_INET6 socket: EAFNOSUPPORT; another IPv6 address than
     * ours: EADDRNOTAVAIL (as Linux). */
    int fd2 = f->ifc.socket(u, AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in a4 = sin_of(LOCAL_IP, 9000);
    errno = 0;
    assert_int_equal(f->ifc.bind(u, fd2, (struct sockaddr *)&a4, sizeof(a4)), -1);
    assert_int_equal(errno, EAFNOSUPPORT);
    struct sockaddr_in6 other = sin6_of(REMOTE6, 9000);
    errno = 0;
    assert_int_equal(f->ifc.bind(u, fd2, (struct sockaddr *)&other, sizeof(other)), -1);
    assert_int_equal(errno, EADDRNOTAVAIL);
    assert_int_equal(f->ifc.close(u, fd2), 0);
    assert_int_equal(f->ifc.close(u, cfd), 0);
    assert_int_equal(f->ifc.close(u, lfd), 0);
}

/* An active open over IPv6: the SYN leaves from our IPv6 address to the peer's. */
static void test_ipv6_nonblocking_connect(void **state)
{
    struct fixture *f = *state;
    void *u = f->ifc.userdata;
    int fd = f->ifc.socket(u, AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TCP);
    assert_true(fd >= 0);
    struct sockaddr_in6 a = sin6_of(REMOTE6, REMOTE_PORT);
    errno = 0;
    assert_int_equal(f->ifc.connect(u, fd, (struct sockaddr *)&a, sizeof(a)), -1);
    assert_int_equal(errno, EINPROGRESS);
    uint16_t mss = 0;
    struct seg s = receive_segment6(f, &mss);
    assert_int_equal(s.flags, TH_SYN);
    assert_int_equal(s.dport, REMOTE_PORT);
    assert_int_equal(mss, 1440);
    assert_int_equal(f->ifc.close(u, fd), 0);
}

/* packetdrill's ipv4-mapped-ipv6 mode: an AF_INET6 listener on :: takes an IPv4 SYN (the wire
 * stays IPv4) and accept reports the peer as ::ffff:192.0.2.1 in a sockaddr_in6. */
static void test_mapped_accept(void **state)
{
    struct fixture *f = *state;
    void *u = f->ifc.userdata;
    int lfd = f->ifc.socket(u, AF_INET6, SOCK_STREAM, IPPROTO_TCP);
    assert_true(lfd >= 0);
    static const uint8_t any[16];
    struct sockaddr_in6 a = sin6_of(any, LOCAL_PORT);
    assert_int_equal(f->ifc.bind(u, lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(f->ifc.listen(u, lfd, 1), 0);
    uint32_t iss = syn_synack(f); /* checks an IPv4 SYN-ACK */
    inject(f, PEER_ISN + 1, iss + 1, TH_ACK, NULL);
    struct sockaddr_in6 peer;
    socklen_t plen = sizeof(peer);
    int cfd = f->ifc.accept(u, lfd, (struct sockaddr *)&peer, &plen);
    assert_true(cfd >= 0);
    assert_int_equal(plen, sizeof(struct sockaddr_in6));
    assert_int_equal(peer.sin6_family, AF_INET6);
    static const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    assert_memory_equal(peer.sin6_addr.s6_addr, mapped, 16);
    assert_int_equal(ntohs(peer.sin6_port), REMOTE_PORT);
    assert_int_equal(f->ifc.close(u, cfd), 0);
    assert_int_equal(f->ifc.close(u, lfd), 0);
}

/* ---- profile=linux: Linux's visible defaults (packetdrill/profile.c) ---- */

static int setup_linux(void **state)
{
    static struct fixture f;
    if (setup_with(&f, "local_ip=192.168.0.2,giveup=30,profile=linux") != 0)
        return -1;
    *state = &f;
    return 0;
}

/* A SYN with these option bytes in, the SYN-ACK out: flags, ACK and window 65535 (Linux's
 * tcp_select_initial_window: min(space, U16_MAX) in a SYN, never scaled). */
static struct seg synack_to(struct fixture *f, const uint8_t *opts, size_t optlen)
{
    uint8_t buf[256];
    size_t n = build_segment_opts(buf, PEER_ISN, 0, TH_SYN, opts, optlen, NULL);
    assert_int_equal(f->ifc.netdev_send(f->ifc.userdata, buf, n), 0);
    struct seg s = receive_segment(f);
    assert_int_equal(s.flags, TH_SYN | TH_ACK);
    assert_int_equal(s.ack, PEER_ISN + 1);
    assert_int_equal(s.win, 65535);
    return s;
}

/* The peer offers timestamps: Linux's SYN-ACK is <mss 1460,sackOK,TS val .. ecr 100,nop,
 * wscale 8> (tcp_options_write: MSS, then SACK-permitted folded into the timestamp word, then
 * NOP and window scale; wscale 8 = ilog2(tcp_rmem[2] 15 MiB) - 15). */
static void test_linux_synack_with_timestamps(void **state)
{
    struct fixture *f = *state;
    int lfd = listener(f);
    static const uint8_t syn[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 100,
                                    0, 0, 0, 0, 1, 3, 3, 7};
    struct seg s = synack_to(f, syn, sizeof(syn));
    static const uint8_t want[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 0,
                                     0, 0, 0, 100, 1, 3, 3, 8};
    assert_int_equal(s.optlen, sizeof(want));
    memset(s.opts + 8, 0, 4); /* our TSval: any */
    assert_memory_equal(s.opts, want, sizeof(want));
    assert_int_equal(f->ifc.close(f->ifc.userdata, lfd), 0);
}

/* Without timestamps: <mss 1460,nop,nop,sackOK,nop,wscale 8>. */
static void test_linux_synack_without_timestamps(void **state)
{
    struct fixture *f = *state;
    int lfd = listener(f);
    static const uint8_t syn[12] = {2, 4, 0x05, 0xb4, 4, 2, 1, 1, 1, 3, 3, 7};
    struct seg s = synack_to(f, syn, sizeof(syn));
    static const uint8_t want[12] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 8};
    assert_int_equal(s.optlen, sizeof(want));
    assert_memory_equal(s.opts, want, sizeof(want));
    assert_int_equal(f->ifc.close(f->ifc.userdata, lfd), 0);
}

/* connect(): the SYN is <mss 1460,sackOK,TS val .. ecr 0,nop,wscale 8>, window 65535. */
static void test_linux_syn(void **state)
{
    struct fixture *f = *state;
    void *u = f->ifc.userdata;
    int fd = f->ifc.socket(u, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TCP);
    assert_true(fd >= 0);
    struct sockaddr_in a = sin_of(REMOTE_IP, REMOTE_PORT);
    assert_int_equal(f->ifc.connect(u, fd, (struct sockaddr *)&a, sizeof(a)), -1);
    assert_int_equal(errno, EINPROGRESS);
    struct seg s = receive_segment(f);
    assert_int_equal(s.flags, TH_SYN);
    assert_int_equal(s.win, 65535);
    static const uint8_t want[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 0,
                                     0, 0, 0, 0, 1, 3, 3, 8};
    assert_int_equal(s.optlen, sizeof(want));
    memset(s.opts + 8, 0, 4);
    assert_memory_equal(s.opts, want, sizeof(want));
    assert_int_equal(f->ifc.close(u, fd), 0);
}

/* A sysctl changed mid-script (sysctl_file=, written by the runner's host-commands.pl): the
 * first SYN carries timestamps (Linux's layout, as test_linux_syn); after the line
 * "net.ipv4.tcp_timestamps=0" is appended, the next socket call applies it and the next SYN is
 * Linux's layout without them: mss, nop, nop, sackOK, nop, wscale 8. */
static void test_linux_sysctl_mid_script(void **state)
{
    (void)state;
    char path[] = "/tmp/synack-sysctl-XXXXXX";
    int tmp = mkstemp(path);
    assert_true(tmp >= 0);
    close(tmp);
    char flags[128];
    snprintf(flags, sizeof(flags), "local_ip=192.168.0.2,giveup=30,profile=linux,sysctl_file=%s",
             path);
    struct fixture fx;
    assert_int_equal(setup_with(&fx, flags), 0);
    struct fixture *f = &fx;
    void *u = f->ifc.userdata;
    struct sockaddr_in a = sin_of(REMOTE_IP, REMOTE_PORT);
    int fd = f->ifc.socket(u, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TCP);
    assert_int_equal(f->ifc.connect(u, fd, (struct sockaddr *)&a, sizeof(a)), -1);
    struct seg s = receive_segment(f);
    assert_int_equal(s.optlen, 20);
    assert_int_equal(f->ifc.close(u, fd), 0);
    FILE *w = fopen(path, "a");
    assert_non_null(w);
    fputs("net.ipv4.tcp_timestamps=0\n", w);
    fclose(w);
    fd = f->ifc.socket(u, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TCP);
    assert_int_equal(f->ifc.connect(u, fd, (struct sockaddr *)&a, sizeof(a)), -1);
    s = receive_segment(f);
    while (s.flags != TH_SYN)
        s = receive_segment(f); /* the first connection's RST */
    static const uint8_t want[12] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 8};
    assert_int_equal(s.optlen, sizeof(want));
    assert_memory_equal(s.opts, want, sizeof(want));
    assert_int_equal(f->ifc.close(u, fd), 0);
    f->ifc.free(f->ifc.userdata);
    dlclose(f->handle);
    unlink(path);
}

/* Quick-ACK mode: the first data of a connection is acknowledged at once (tcp_incr_quickack),
 * not after the 40 ms delayed-ACK timer; SO_SNDBUF reads back twice the value set. */
static void test_linux_quickack_and_sockbuf(void **state)
{
    struct fixture *f = *state;
    void *u = f->ifc.userdata;
    int lfd = listener(f);
    static const uint8_t syn[12] = {2, 4, 0x05, 0xb4, 4, 2, 1, 1, 1, 3, 3, 7};
    uint32_t iss = synack_to(f, syn, sizeof(syn)).seq;
    inject(f, PEER_ISN + 1, iss + 1, TH_ACK, NULL);
    int cfd = f->ifc.accept(u, lfd, NULL, NULL);
    assert_true(cfd >= 0);
    int v = 21000, got = 0;
    socklen_t len = sizeof(got);
    assert_int_equal(f->ifc.setsockopt(u, cfd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)), 0);
    assert_int_equal(f->ifc.getsockopt(u, cfd, SOL_SOCKET, SO_SNDBUF, &got, &len), 0);
    assert_int_equal(got, 42000);
    long long t = now_us(f);
    inject(f, PEER_ISN + 1, iss + 1, TH_ACK | TH_PSH, "hello");
    struct seg s = receive_segment(f);
    assert_int_equal(s.flags, TH_ACK);
    assert_int_equal(s.ack, PEER_ISN + 6);
    assert_true(s.time - t < 1000);
    assert_int_equal(f->ifc.close(u, cfd), 0);
    assert_int_equal(f->ifc.close(u, lfd), 0);
}

/* ---- Socket-level features (issue 15): epoll, ioctl, TCP_INQ, marks, EFAULT ---- */

/* An accepted, non-blocking connection; *iss the stack's ISS. */
static int accepted(struct fixture *f, int *lfd, uint32_t *iss)
{
    void *u = f->ifc.userdata;
    *lfd = listener(f);
    *iss = syn_synack(f);
    inject(f, PEER_ISN + 1, *iss + 1, TH_ACK, NULL);
    int cfd = f->ifc.accept(u, *lfd, NULL, NULL);
    assert_true(cfd >= 0);
    assert_int_equal(f->ifc.fcntl(u, cfd, F_SETFL, O_RDWR | O_NONBLOCK), 0);
    return cfd;
}

static int ep_wait0(struct fixture *f, int epfd, struct epoll_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    return f->ifc.epoll_wait(f->ifc.userdata, epfd, ev, 1, 0);
}

/* epoll as Linux's eventpoll behaves for a TCP socket: an edge-triggered item reports the
 * whole current mask after each wakeup (new data wakes it even if earlier data is unread),
 * nothing in between; a level-triggered one reports every time; EPOLLONESHOT once until
 * EPOLL_CTL_MOD; and the calls' errors. */
static void test_epoll_edge_level_oneshot(void **state)
{
    struct fixture *f = *state;
    void *u = f->ifc.userdata;
    int lfd;
    uint32_t iss;
    int cfd = accepted(f, &lfd, &iss);
    errno = 0;
    assert_int_equal(f->ifc.epoll_create(u, 0), -1);
    assert_int_equal(errno, EINVAL);
    int et = f->ifc.epoll_create(u, 1), lt = f->ifc.epoll_create(u, 1);
    int os = f->ifc.epoll_create(u, 1);
    assert_true(et >= 0 && lt >= 0 && os >= 0);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.fd = cfd};
    assert_int_equal(f->ifc.epoll_ctl(u, et, EPOLL_CTL_ADD, cfd, &ev), 0);
    errno = 0;
    assert_int_equal(f->ifc.epoll_ctl(u, et, EPOLL_CTL_ADD, cfd, &ev), -1);
    assert_int_equal(errno, EEXIST);
    ev.events = EPOLLIN | EPOLLOUT;
    assert_int_equal(f->ifc.epoll_ctl(u, lt, EPOLL_CTL_ADD, cfd, &ev), 0);
    ev.events = EPOLLIN | EPOLLONESHOT;
    assert_int_equal(f->ifc.epoll_ctl(u, os, EPOLL_CTL_ADD, cfd, &ev), 0);

    struct epoll_event out;
    assert_int_equal(ep_wait0(f, et, &out), 1); /* ready when added */
    assert_int_equal(out.events, EPOLLOUT);
    assert_int_equal(out.data.fd, cfd);
    assert_int_equal(ep_wait0(f, et, &out), 0); /* no new wakeup */
    assert_int_equal(ep_wait0(f, os, &out), 0); /* not readable yet */

    inject(f, PEER_ISN + 1, iss + 1, TH_ACK | TH_PSH, "first");
    assert_int_equal(ep_wait0(f, et, &out), 1);
    assert_int_equal(out.events, EPOLLIN | EPOLLOUT);
    assert_int_equal(ep_wait0(f, et, &out), 0);
    assert_int_equal(ep_wait0(f, lt, &out), 1);
    assert_int_equal(out.events, EPOLLIN | EPOLLOUT);
    assert_int_equal(ep_wait0(f, lt, &out), 1); /* level: again */
    assert_int_equal(ep_wait0(f, os, &out), 1);
    assert_int_equal(out.events, EPOLLIN);
    assert_int_equal(ep_wait0(f, os, &out), 0); /* one shot */

    char buf[8];
    assert_int_equal(f->ifc.read(u, cfd, buf, 2), 2); /* not drained: no wakeup */
    assert_int_equal(ep_wait0(f, et, &out), 0);
    inject(f, PEER_ISN + 6, iss + 1, TH_ACK | TH_PSH, "second");
    assert_int_equal(ep_wait0(f, et, &out), 1); /* new data wakes it again */
    assert_int_equal(out.events, EPOLLIN | EPOLLOUT);
    assert_int_equal(ep_wait0(f, os, &out), 0); /* still disabled */
    ev.events = EPOLLIN | EPOLLONESHOT;
    assert_int_equal(f->ifc.epoll_ctl(u, os, EPOLL_CTL_MOD, cfd, &ev), 0);
    assert_int_equal(ep_wait0(f, os, &out), 1); /* re-armed, and readable */

    /* The errors, as Linux's epoll_ctl and epoll_wait. */
    errno = 0;
    assert_int_equal(f->ifc.epoll_ctl(u, et, EPOLL_CTL_MOD, lfd, &ev), -1);
    assert_int_equal(errno, ENOENT);
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    errno = 0;
    assert_int_equal(f->ifc.epoll_ctl(u, et, EPOLL_CTL_MOD, cfd, &ev), -1);
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_int_equal(f->ifc.epoll_ctl(u, et, EPOLL_CTL_ADD, et, &ev), -1);
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_int_equal(f->ifc.epoll_ctl(u, cfd, EPOLL_CTL_ADD, lfd, &ev), -1);
    assert_int_equal(errno, EINVAL); /* not an epoll */
    errno = 0;
    assert_int_equal(f->ifc.epoll_ctl(u, 100000, EPOLL_CTL_ADD, cfd, &ev), -1);
    assert_int_equal(errno, EBADF);
    errno = 0;
    assert_int_equal(f->ifc.epoll_wait(u, et, &out, 0, 0), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(f->ifc.epoll_ctl(u, et, EPOLL_CTL_DEL, cfd, NULL), 0);
    errno = 0;
    assert_int_equal(f->ifc.epoll_ctl(u, et, EPOLL_CTL_DEL, cfd, NULL), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(f->ifc.close(u, et), 0);
    assert_int_equal(f->ifc.close(u, lt), 0);
    assert_int_equal(f->ifc.close(u, os), 0);
    assert_int_equal(f->ifc.close(u, cfd), 0);
    assert_int_equal(f->ifc.close(u, lfd), 0);
}

/* ioctl SIOCINQ/SIOCOUTQ/SIOCOUTQNSD (Linux's tcp_ioctl), recvmsg's TCP_CM_INQ under TCP_INQ
 * (Linux's tcp_inq_hint: the FIN counts one), the marks' options, MSG_EOR, and EFAULT for
 * NULL buffers (syscall_bad_arg). */
static void test_ioctl_inq_and_options(void **state)
{
    struct fixture *f = *state;
    void *u = f->ifc.userdata;
    int lfd;
    uint32_t iss;
    int cfd = accepted(f, &lfd, &iss);
    int v = -1;
    errno = 0;
    assert_int_equal(f->ifc.ioctl(u, lfd, SIOCINQ, &v), -1);
    assert_int_equal(errno, EINVAL);
    inject(f, PEER_ISN + 1, iss + 1, TH_ACK | TH_PSH, "0123456789");
    assert_int_equal(f->ifc.ioctl(u, cfd, SIOCINQ, &v), 0);
    assert_int_equal(v, 10);
    int one = 1;
    assert_int_equal(f->ifc.setsockopt(u, cfd, SOL_TCP, TCP_INQ, &one, sizeof(one)), 0);
    char buf[16];
    union {
        char b[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = {.iov_base = buf, .iov_len = 4};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
                         .msg_controllen = sizeof(ctl.b)};
    assert_int_equal(f->ifc.recvmsg(u, cfd, &msg, 0), 4);
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    assert_non_null(cm);
    assert_int_equal(cm->cmsg_level, SOL_TCP);
    assert_int_equal(cm->cmsg_type, TCP_CM_INQ);
    memcpy(&v, CMSG_DATA(cm), sizeof(v));
    assert_int_equal(v, 6);
    inject(f, PEER_ISN + 11, iss + 1, TH_ACK | TH_FIN, NULL);
    iov.iov_len = sizeof(buf);
    msg.msg_controllen = sizeof(ctl.b);
    assert_int_equal(f->ifc.recvmsg(u, cfd, &msg, 0), 6);
    memcpy(&v, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof(v));
    assert_int_equal(v, 1); /* the FIN: read on, end of stream follows */
    assert_int_equal(f->ifc.read(u, cfd, buf, sizeof(buf)), 0);

    /* Sending: SIOCOUTQ counts what is unacknowledged, SIOCOUTQNSD what is unsent. */
    assert_int_equal(f->ifc.send(u, cfd, "abc", 3, MSG_EOR), 3);
    assert_int_equal(f->ifc.ioctl(u, cfd, SIOCOUTQ, &v), 0);
    assert_int_equal(v, 3);
    assert_int_equal(f->ifc.ioctl(u, cfd, SIOCOUTQNSD, &v), 0);
    assert_int_equal(v, 0);
    errno = 0;
    assert_int_equal(f->ifc.ioctl(u, cfd, 0x12345, &v), -1);
    assert_int_equal(errno, ENOTTY);

    /* TCP_NOTSENT_LOWAT reads back as set; TCP_CONGESTION by name, ENOENT for others. */
    int lw = -1;
    assert_int_equal(f->ifc.setsockopt(u, cfd, SOL_TCP, TCP_NOTSENT_LOWAT, &lw, sizeof(lw)), 0);
    socklen_t vl = sizeof(v);
    assert_int_equal(f->ifc.getsockopt(u, cfd, SOL_TCP, TCP_NOTSENT_LOWAT, &v, &vl), 0);
    assert_int_equal(v, -1);
    assert_int_equal(f->ifc.setsockopt(u, cfd, SOL_TCP, TCP_CONGESTION, "reno", 4), 0);
    errno = 0;
    assert_int_equal(f->ifc.setsockopt(u, cfd, SOL_TCP, TCP_CONGESTION, "bbr9", 4), -1);
    assert_int_equal(errno, ENOENT);
    char cc[16];
    socklen_t cl = sizeof(cc);
    assert_int_equal(f->ifc.getsockopt(u, cfd, SOL_TCP, TCP_CONGESTION, cc, &cl), 0);
    assert_string_equal(cc, "reno");

    /* SOL_IP options take an int or one byte (Linux's do_ip_setsockopt) and read back; the
     * ECN bits of IP_TOS are TCP's and are masked off. */
    unsigned char tos = 0x4b;
    assert_int_equal(f->ifc.setsockopt(u, cfd, SOL_IP, IP_TOS, &tos, 1), 0);
    vl = sizeof(v);
    assert_int_equal(f->ifc.getsockopt(u, cfd, SOL_IP, IP_TOS, &v, &vl), 0);
    assert_int_equal(v, 0x48);
    unsigned char dont = IP_PMTUDISC_DONT;
    assert_int_equal(f->ifc.setsockopt(u, cfd, SOL_IP, IP_MTU_DISCOVER, &dont, 1), 0);

    /* NULL buffers with a length: EFAULT, and nothing else happens. */
    errno = 0;
    assert_int_equal(f->ifc.write(u, cfd, NULL, 100), -1);
    assert_int_equal(errno, EFAULT);
    errno = 0;
    assert_int_equal(f->ifc.read(u, cfd, NULL, 100), -1);
    assert_int_equal(errno, EFAULT);
    assert_int_equal(f->ifc.getsockopt(u, cfd, SOL_SOCKET, SO_ERROR, &v, &vl), 0);
    assert_int_equal(v, 0);
    assert_int_equal(f->ifc.close(u, cfd), 0);
    assert_int_equal(f->ifc.close(u, lfd), 0);
}

/* The host shim (libsynack-pdhost.so), loaded before the adapter as LD_PRELOAD loads it: the
 * host getsockopt that packetdrill runs for a script's Python blocks reaches the adapter for its
 * descriptors and the C library for every other; TCP_INFO comes in Linux's layout (the field
 * offsets and state numbers of glibc's <netinet/tcp.h>, not the adapter's own header). */
static void test_tcp_info_through_host_shim(void **state)
{
    (void)state;
    void *shim = dlopen(pdhost_path, RTLD_NOW | RTLD_GLOBAL);
    assert_non_null(shim);
    typedef int (*gso_fn)(int, int, int, void *, socklen_t *);
    gso_fn host_getsockopt = (gso_fn)dlsym(shim, "getsockopt");
    assert_non_null(host_getsockopt);
    struct fixture f = {0};
    assert_int_equal(setup_with(&f, "local_ip=192.168.0.2,giveup=30"), 0);
    void *u = f.ifc.userdata;
    int lfd = listener(&f);

    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    assert_int_equal(host_getsockopt(lfd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
    assert_int_equal(ti.tcpi_state, TCP_LISTEN);

    uint32_t iss = syn_synack(&f);
    inject(&f, PEER_ISN + 1, iss + 1, TH_ACK, NULL);
    int cfd = f.ifc.accept(u, lfd, NULL, NULL);
    assert_true(cfd >= 0);
    inject(&f, PEER_ISN + 1, iss + 1, TH_ACK | TH_PSH, "hello");
    memset(&ti, 0xa5, sizeof(ti));
    len = sizeof(ti);
    assert_int_equal(host_getsockopt(cfd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
    assert_int_equal(len, sizeof(ti));
    assert_int_equal(ti.tcpi_state, TCP_ESTABLISHED);
    assert_int_equal(ti.tcpi_snd_mss, 1460);      /* the SYN's MSS option, no timestamps */
    assert_int_equal(ti.tcpi_options, 0);         /* the SYN offered no SACK, TS or scaling */
    assert_int_equal(ti.tcpi_total_retrans, 0);

    /* TCP_CC_INFO is empty for CUBIC, as on Linux; SO_MEMINFO has the nine sk_meminfo words. */
    uint8_t cc[64];
    len = sizeof(cc);
    assert_int_equal(host_getsockopt(cfd, IPPROTO_TCP, TCP_CC_INFO, cc, &len), 0);
    assert_int_equal(len, 0);
    uint32_t mem[9];
    len = sizeof(mem);
    assert_int_equal(host_getsockopt(cfd, SOL_SOCKET, SO_MEMINFO, mem, &len), 0);
    assert_int_equal(len, sizeof(mem));
    assert_true(mem[1] > 0); /* SK_MEMINFO_RCVBUF */

    /* A descriptor the adapter does not know goes to the C library. */
    int real = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(real >= 0);
    int type = 0;
    len = sizeof(type);
    assert_int_equal(host_getsockopt(real, SOL_SOCKET, SO_TYPE, &type, &len), 0);
    assert_int_equal(type, SOCK_STREAM);
    close(real);

    /* After free the shim forwards nothing: the eventfd is closed, the C library says EBADF. */
    f.ifc.free(u);
    errno = 0;
    len = sizeof(ti);
    assert_int_equal(host_getsockopt(cfd, IPPROTO_TCP, TCP_INFO, &ti, &len), -1);
    assert_int_equal(errno, EBADF);
    dlclose(f.handle);
    dlclose(shim);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s libsynack-packetdrill.so [libsynack-pdhost.so]\n", argv[0]);
        return 2;
    }
    so_path = argv[1];
    pdhost_path = argc > 2 ? argv[2] : NULL;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_interface_complete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exports_only_init, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handshake_accept_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_virtual_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retransmission_at_virtual_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gives_up_when_silent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blocking_accept_woken_by_netdev_send, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blocking_accept_recorded_before_next_event, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_nonblocking_connect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv6_handshake_accept_data, setup6, teardown),
        cmocka_unit_test_setup_teardown(test_ipv6_nonblocking_connect, setup6, teardown),
        cmocka_unit_test_setup_teardown(test_mapped_accept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_linux_synack_with_timestamps, setup_linux, teardown),
        cmocka_unit_test_setup_teardown(test_linux_synack_without_timestamps, setup_linux,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_linux_syn, setup_linux, teardown),
        cmocka_unit_test(test_linux_sysctl_mid_script),
        cmocka_unit_test_setup_teardown(test_linux_quickack_and_sockbuf, setup_linux, teardown),
        cmocka_unit_test_setup_teardown(test_epoll_edge_level_oneshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ioctl_inq_and_options, setup, teardown),
        cmocka_unit_test(test_tcp_info_through_host_shim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
