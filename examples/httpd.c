/* A small HTTP/1.1 static file server on synack's socket API: GET and HEAD, keep-alive,
 * Content-Length, 404, any number of concurrent clients, one thread, non-blocking sockets.
 *
 *   synack-httpd --tap NAME --addr 10.0.0.2/24 [--port 80] DIR
 *       serves DIR on a TAP device (bring it up in a namespace, give the kernel side an
 *       address in the same network, then `curl http://10.0.0.2/file`).
 *   synack-httpd --selftest DIR [CLIENTS]
 *       two stacks over the simulator: CLIENTS concurrent clients (default 8) fetch every
 *       regular file in DIR with GET, HEAD and keep-alive, and a missing one for 404; every
 *       byte is checked against the file. Exit status 0 only if all went right.
 *
 * The server itself is httpd_core.c (`synack serve --app http:DIR` runs it too); this file
 * puts it on a TAP device or under test.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "httpd_core.h"

/* ---------------- --tap: serve on a TAP device ---------------- */

static int parse_cidr(const char *s, uint32_t *addr, uint8_t *plen)
{
    char ip[32];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (n >= sizeof(ip))
        return -1;
    memcpy(ip, s, n);
    ip[n] = '\0';
    struct in_addr a;
    if (inet_pton(AF_INET, ip, &a) != 1)
        return -1;
    *addr = ntohl(a.s_addr);
    *plen = slash ? (uint8_t)atoi(slash + 1) : 24;
    return 0;
}

static int serve_tap(const char *name, const char *cidr, uint16_t port, const char *root)
{
    struct sk_tap *tap;
    int err = sk_tap_open(name, &tap);
    if (err != 0 || (err = sk_tap_set_up(tap)) != 0) {
        fprintf(stderr, "httpd: tap %s: %s\n", name, strerror(-err));
        return 1;
    }
    struct sk_loop *loop = sk_loop_new(tap, &err);
    if (loop == NULL)
        return 1;
    struct sk_config cfg;
    sk_config_default(&cfg);
    cfg.link_type = SK_LINK_ETHERNET;
    uint8_t mac[6] = {0x02, 0x53, 0x4b, 0x00, 0x00, 0x02}; /* locally administered */
    memcpy(cfg.mac, mac, 6);
    if (parse_cidr(cidr, &cfg.addr, &cfg.prefix_len) != 0) {
        fprintf(stderr, "httpd: bad address %s\n", cidr);
        return 2;
    }
    cfg.max_connections = 4096;
    cfg.max_buffer_bytes = 1ull << 30;
    cfg.output = sk_loop_output;
    cfg.output_ctx = loop;
    /* A real network: key material from the OS (getrandom), never a fixed seed. */
    if ((err = sk_config_secret_from_os(&cfg)) != 0) {
        fprintf(stderr, "httpd: getrandom: %s\n", strerror(-err));
        return 1;
    }
    struct sk_stack *st = sk_stack_new(&cfg, sk_loop_clock(), &err);
    if (st == NULL)
        return 1;
    sk_loop_set_stack(loop, st);
    sk_stack_announce(st);
    struct httpd *h = httpd_new(st, port, root, &err);
    if (h == NULL) {
        fprintf(stderr, "httpd: listen: %s\n", strerror(-err));
        return 1;
    }
    fprintf(stderr, "httpd: serving %s on %s port %u (%s)\n", root, cidr, port, sk_tap_name(tap));
    for (;;) {
        if (sk_loop_run_once(loop, SK_TIME_NEVER) < 0)
            break;
        httpd_poll(h);
    }
    httpd_free(h);
    return 0;
}

/* ---------------- --selftest: clients over the simulator ---------------- */

struct client {
    int fd;
    int step;               /* request number on this connection */
    const char *path;
    size_t expect;          /* body bytes expected */
    char *resp;
    size_t resp_len, resp_cap;
    bool done;
};

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    *len = fread(b, 1, (size_t)n, f);
    fclose(f);
    return b;
}

/* Checks one response at the start of buf: status, Content-Length, body. Returns its length
 * or 0 if it is not complete yet; -1 if wrong. */
static long check_response(const char *buf, size_t len, int status, const char *body,
                           size_t body_len, bool head)
{
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    if (end == NULL)
        return 0;
    size_t hlen = (size_t)(end - buf) + 4;
    int st = 0;
    unsigned long long cl = 0;
    const char *clh = strcasestr(buf, "Content-Length:");
    if (sscanf(buf, "HTTP/1.1 %d", &st) != 1 || st != status || clh == NULL || clh > end ||
        sscanf(clh + 15, " %llu", &cl) != 1)
        return -1;
    if (status == 200 && cl != body_len)
        return -1;
    size_t blen = head ? 0 : (size_t)cl;
    if (len < hlen + blen)
        return 0;
    if (status == 200 && !head && memcmp(buf + hlen, body, body_len) != 0)
        return -1;
    return (long)(hlen + blen);
}

static int selftest(const char *root, int nclients)
{
    /* The files to fetch: every regular file in root. */
    DIR *d = opendir(root);
    if (d == NULL) {
        perror(root);
        return 2;
    }
    char *names[64], *bodies[64];
    size_t sizes[64];
    int nfiles = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && nfiles < 64) {
        char p[2048];
        struct stat sb;
        snprintf(p, sizeof(p), "%s/%s", root, e->d_name);
        if (stat(p, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        names[nfiles] = strdup(e->d_name);
        bodies[nfiles] = read_file(p, &sizes[nfiles]);
        nfiles++;
    }
    closedir(d);
    if (nfiles == 0) {
        fprintf(stderr, "httpd: no files in %s\n", root);
        return 2;
    }
    struct sk_config ca, cb;
    sk_config_default(&ca);
    sk_config_default(&cb);
    ca.addr = 0x0a000001;
    cb.addr = 0x0a000002;
    /* In memory and simulated: fixed seeds replay the run (never on a real network). */
    sk_config_set_test_seed(&ca, 3);
    sk_config_set_test_seed(&cb, 4);
    ca.max_buffer_bytes = cb.max_buffer_bytes = 256u << 20;
    struct sk_sim sim;
    if (sk_sim_init(&sim, &ca, &cb, 7, 0) != 0)
        return 1;
    struct sk_memlink_faults f = {.delay_us = 500};
    sk_memlink_set_faults(sim.link, 0, &f);
    sk_memlink_set_faults(sim.link, 1, &f);
    int err;
    struct httpd *h = httpd_new(sim.stack[1], 80, root, &err);
    if (h == NULL)
        return 1;
    struct sk_stack *cst = sim.stack[0];
    struct client *cl = calloc((size_t)nclients, sizeof(*cl));
    struct sockaddr_in srv = {.sin_family = AF_INET, .sin_port = htons(80),
                              .sin_addr.s_addr = htonl(cb.addr)};
    for (int i = 0; i < nclients; i++) {
        cl[i].fd = sk_socket(cst, SK_SOCK_STREAM);
        sk_connect(cst, cl[i].fd, (struct sockaddr *)&srv, sizeof(srv));
    }
    /* Each client, on one keep-alive connection: GET file i, HEAD file i, GET a missing
     * file (404), GET file i+1 with "Connection: close", then expects the server's FIN. */
    int done = 0, failed = 0;
    uint64_t bytes = 0;
    while (done < nclients && sim.now < 300ull * 1000000) {
        sk_sim_step(&sim, sim.now + 1000000);
        httpd_poll(h);
        for (int i = 0; i < nclients; i++) {
            struct client *c = &cl[i];
            if (c->done)
                continue;
            int fi = i % nfiles, fj = (i + 1) % nfiles;
            static const int status[4] = {200, 200, 404, 200};
            if (c->step == 0 && c->resp_len == 0 && c->resp == NULL) {
                struct sk_pollfd p = {.fd = c->fd, .events = SK_POLLOUT};
                if (sk_poll(cst, &p, 1) == 0)
                    continue;
                char req[2048];
                int n = snprintf(req, sizeof(req),
                                 "GET /%s HTTP/1.1\r\nHost: t\r\n\r\n"
                                 "HEAD /%s HTTP/1.1\r\nHost: t\r\n\r\n"
                                 "GET /no-such-file HTTP/1.1\r\nHost: t\r\n\r\n"
                                 "GET /%s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                                 names[fi], names[fi], names[fj]);
                if (sk_send(cst, c->fd, req, (size_t)n, 0) != n)
                    failed++;
                c->resp_cap = 1 << 16;
                c->resp = malloc(c->resp_cap);
            }
            for (;;) {
                if (c->resp_cap - c->resp_len < 65536) {
                    c->resp_cap *= 2;
                    c->resp = realloc(c->resp, c->resp_cap);
                }
                ssize_t n = sk_recv(cst, c->fd, c->resp + c->resp_len, c->resp_cap - c->resp_len,
                                    0);
                if (n == -EAGAIN)
                    break;
                if (n <= 0) { /* the server's FIN after "Connection: close" */
                    if (c->step != 4)
                        failed++;
                    c->done = true;
                    done++;
                    sk_close(cst, c->fd);
                    break;
                }
                c->resp_len += (size_t)n;
                bytes += (size_t)n;
                long used;
                while (c->step < 4) {
                    int f2 = c->step == 3 ? fj : fi;
                    used = check_response(c->resp, c->resp_len, status[c->step], bodies[f2],
                                          sizes[f2], c->step == 1);
                    if (used == 0)
                        break;
                    if (used < 0) {
                        fprintf(stderr, "httpd: client %d: bad response %d\n", i, c->step);
                        failed++;
                        c->step = 4;
                        break;
                    }
                    memmove(c->resp, c->resp + used, c->resp_len - (size_t)used);
                    c->resp_len -= (size_t)used;
                    c->step++;
                }
            }
        }
    }
    printf("httpd selftest: %d clients, %llu requests served (%llu not found), %llu bytes "
           "received, %d failures, %.3f s virtual time: %s\n",
           nclients, (unsigned long long)httpd_requests(h), (unsigned long long)httpd_not_found(h),
           (unsigned long long)bytes, failed + (nclients - done), (double)sim.now / 1e6,
           failed == 0 && done == nclients ? "PASS" : "FAIL");
    for (int i = 0; i < nclients; i++)
        free(cl[i].resp);
    free(cl);
    for (int i = 0; i < nfiles; i++) {
        free(names[i]);
        free(bodies[i]);
    }
    httpd_free(h);
    sk_sim_destroy(&sim);
    return failed == 0 && done == nclients ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "--selftest") == 0)
        return selftest(argv[2], argc > 3 ? atoi(argv[3]) : 8);
    const char *tap = NULL, *addr = "10.0.0.2/24", *root = NULL;
    uint16_t port = 80;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--tap") == 0 && i + 1 < argc)
            tap = argv[++i];
        else if (strcmp(argv[i], "--addr") == 0 && i + 1 < argc)
            addr = argv[++i];
        else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            port = (uint16_t)atoi(argv[++i]);
        else
            root = argv[i];
    }
    if (tap == NULL || root == NULL) {
        fprintf(stderr, "usage: synack-httpd --tap NAME [--addr A/N] [--port P] DIR\n"
                        "       synack-httpd --selftest DIR [CLIENTS]\n");
        return 2;
    }
    return serve_tap(tap, addr, port, root);
}
