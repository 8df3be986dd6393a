/* Echo server and client on two stacks in one process, joined by the in-memory simulator
 * (synack/sim.h) on a virtual clock, written against the socket API and sk_poll: the shape of
 * any non-blocking program on synack. Usage: synack-echo [BYTES] [LOSS]
 *
 * The client sends BYTES pseudo-random bytes (default 1 MB) to 10.0.0.2:7, the server sends
 * back what it reads, the client checks every byte; exit status 0 only if all came back.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <synack/synack.h>

#define ECHO_PORT 7
#define MAX_CONNS 8

static uint8_t pattern(size_t i)
{
    return (uint8_t)((i * 2654435761u) >> 13);
}

struct echo_conn {
    int fd;
    uint8_t buf[16384];
    size_t len; /* bytes read, not yet echoed */
};

/* The server: accept, read, write back what was read; close at end of stream. */
static void serve(struct sk_stack *st, int lfd, struct echo_conn *conns)
{
    int fd;
    while ((fd = sk_accept(st, lfd, NULL, NULL)) >= 0) {
        for (int i = 0; i < MAX_CONNS; i++)
            if (conns[i].fd < 0) {
                conns[i].fd = fd;
                conns[i].len = 0;
                fd = -1;
                break;
            }
        if (fd >= 0)
            sk_close(st, fd); /* full */
    }
    for (int i = 0; i < MAX_CONNS; i++) {
        struct echo_conn *c = &conns[i];
        if (c->fd < 0)
            continue;
        for (;;) {
            if (c->len > 0) {
                ssize_t n = sk_send(st, c->fd, c->buf, c->len, 0);
                if (n < 0)
                    break; /* -EAGAIN: the send buffer is full; later */
                memmove(c->buf, c->buf + n, c->len - (size_t)n);
                c->len -= (size_t)n;
                if (c->len > 0)
                    break;
            }
            ssize_t n = sk_recv(st, c->fd, c->buf, sizeof(c->buf), 0);
            if (n == -EAGAIN)
                break;
            if (n <= 0) { /* end of stream or error: done with it */
                sk_close(st, c->fd);
                c->fd = -1;
                break;
            }
            c->len = (size_t)n;
        }
    }
}

int main(int argc, char **argv)
{
    size_t total = argc > 1 ? strtoul(argv[1], NULL, 0) : 1000000;
    double loss = argc > 2 ? atof(argv[2]) : 0.0;
    struct sk_config ca, cb;
    sk_config_default(&ca);
    sk_config_default(&cb);
    ca.addr = 0x0a000001; /* 10.0.0.1, host byte order */
    cb.addr = 0x0a000002; /* 10.0.0.2 */
    ca.prefix_len = cb.prefix_len = 24;
    /* In memory and simulated: fixed seeds replay the run (never on a real network). */
    sk_config_set_test_seed(&ca, 1);
    sk_config_set_test_seed(&cb, 2);
    struct sk_sim sim;
    if (sk_sim_init(&sim, &ca, &cb, 42, 0) != 0)
        return 1;
    struct sk_memlink_faults f = {.delay_us = 1000, .loss = loss};
    sk_memlink_set_faults(sim.link, 0, &f);
    sk_memlink_set_faults(sim.link, 1, &f);
    struct sk_stack *client = sim.stack[0], *server = sim.stack[1];

    int lfd = sk_socket(server, SK_SOCK_STREAM);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(ECHO_PORT)};
    if (lfd < 0 || sk_bind(server, lfd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        sk_listen(server, lfd, 16) != 0) {
        fprintf(stderr, "echo: server setup failed\n");
        return 1;
    }
    struct echo_conn conns[MAX_CONNS];
    for (int i = 0; i < MAX_CONNS; i++)
        conns[i].fd = -1;

    int cfd = sk_socket(client, SK_SOCK_STREAM);
    addr.sin_addr.s_addr = htonl(cb.addr);
    if (sk_connect(client, cfd, (struct sockaddr *)&addr, sizeof(addr)) != -EINPROGRESS) {
        fprintf(stderr, "echo: connect failed\n");
        return 1;
    }
    size_t sent = 0, received = 0;
    bool ok = true, shut = false;
    uint8_t buf[8192];
    while (received < total && ok && sim.now < 600ull * 1000000) {
        /* One event of the simulated network (a frame arriving, a timer), then everybody
         * looks at what is ready, as an epoll loop would. */
        sk_sim_step(&sim, sim.now + 1000000);
        serve(server, lfd, conns);
        struct sk_pollfd p = {.fd = cfd, .events = SK_POLLIN | SK_POLLOUT};
        sk_poll(client, &p, 1);
        if (p.revents & SK_POLLERR) {
            int err = 0;
            socklen_t len = sizeof(err);
            sk_getsockopt(client, cfd, SK_SOL_SOCKET, SK_SO_ERROR, &err, &len);
            fprintf(stderr, "echo: connection failed: %s\n", strerror(err));
            ok = false;
        }
        while ((p.revents & SK_POLLOUT) && sent < total) {
            size_t n = total - sent < sizeof(buf) ? total - sent : sizeof(buf);
            for (size_t i = 0; i < n; i++)
                buf[i] = pattern(sent + i);
            ssize_t r = sk_send(client, cfd, buf, n, 0);
            if (r < 0)
                break;
            sent += (size_t)r;
        }
        if (sent == total && !shut) {
            sk_shutdown(client, cfd, SK_SHUT_WR); /* the server sees end of stream */
            shut = true;
        }
        ssize_t r;
        while ((r = sk_recv(client, cfd, buf, sizeof(buf), 0)) > 0) {
            for (ssize_t i = 0; i < r; i++)
                if (buf[i] != pattern(received + (size_t)i))
                    ok = false;
            received += (size_t)r;
        }
    }
    sk_close(client, cfd);
    sk_sim_run(&sim, NULL, NULL, sim.now + 1000000);
    sk_close(server, lfd);
    printf("echo: %zu bytes sent, %zu echoed back, %s, %.3f s virtual time\n", sent, received,
           ok && received == total ? "verified" : "FAILED", (double)sim.now / 1e6);
    sk_sim_destroy(&sim);
    return ok && received == total ? 0 : 1;
}
