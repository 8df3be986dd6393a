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
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <synack/synack.h>

#define MAX_CONNS 1024
#define REQ_MAX 8192

struct conn {
    int fd;
    char req[REQ_MAX];
    size_t req_len;
    char head[512];         /* response header being sent */
    size_t head_len, head_off;
    FILE *body;             /* file being sent, NULL if none */
    uint64_t body_left;
    bool close_after;       /* Connection: close or HTTP/1.0 */
};

struct httpd {
    struct sk_stack *st;
    int lfd;
    const char *root;
    struct conn conns[MAX_CONNS];
    uint64_t requests, not_found;
};

static void conn_close(struct httpd *h, struct conn *c)
{
    if (c->body)
        fclose(c->body);
    sk_close(h->st, c->fd);
    memset(c, 0, sizeof(*c));
    c->fd = -1;
}

/* Maps a request path to a file under root; false for anything that could leave it. */
static bool file_path(const struct httpd *h, const char *path, char *out, size_t cap)
{
    if (path[0] != '/' || strstr(path, "..") || strchr(path, '\\'))
        return false;
    const char *q = strchr(path, '?');
    size_t n = q ? (size_t)(q - path) : strlen(path);
    int w = snprintf(out, cap, "%s%.*s%s", h->root, (int)n, path,
                     path[n - 1] == '/' ? "index.html" : "");
    return w > 0 && (size_t)w < cap;
}

/* Parses one complete request (header ending in CRLF CRLF) and sets up the response. */
static void start_response(struct httpd *h, struct conn *c, size_t req_end)
{
    char method[8] = "", path[1024] = "", version[16] = "";
    c->req[req_end - 1] = '\0';
    int k = sscanf(c->req, "%7s %1023s %15s", method, path, version);
    bool http11 = strcmp(version, "HTTP/1.1") == 0;
    c->close_after = !http11;
    for (char *line = strstr(c->req, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, "Connection:", 11) == 0) {
            const char *v = line + 13;
            while (*v == ' ')
                v++;
            if (strncasecmp(v, "close", 5) == 0)
                c->close_after = true;
            else if (strncasecmp(v, "keep-alive", 10) == 0)
                c->close_after = false;
        }
    }
    bool head_only = strcmp(method, "HEAD") == 0;
    char file[2048];
    struct stat sb;
    const char *status = "200 OK";
    uint64_t len = 0;
    h->requests++;
    if (k != 3 || (!head_only && strcmp(method, "GET") != 0)) {
        status = "405 Method Not Allowed";
        c->close_after = true;
    } else if (!file_path(h, path, file, sizeof(file)) || stat(file, &sb) != 0 ||
               !S_ISREG(sb.st_mode) || (c->body = fopen(file, "rb")) == NULL) {
        status = "404 Not Found";
        h->not_found++;
    } else {
        len = (uint64_t)sb.st_size;
    }
    const char *msg = status[0] == '2' ? "" : status;
    if (status[0] != '2')
        len = strlen(msg);
    c->head_len = (size_t)snprintf(c->head, sizeof(c->head),
                                   "HTTP/1.1 %s\r\nServer: synack-httpd\r\n"
                                   "Content-Length: %llu\r\nConnection: %s\r\n%s\r\n%s",
                                   status, (unsigned long long)len,
                                   c->close_after ? "close" : "keep-alive",
                                   status[0] == '2' ? "" : "Content-Type: text/plain\r\n",
                                   head_only ? "" : msg);
    c->head_off = 0;
    c->body_left = head_only || c->body == NULL ? 0 : len;
    if (head_only && c->body) {
        fclose(c->body);
        c->body = NULL;
    }
    /* Pipelined requests after this one stay in the buffer. */
    memmove(c->req, c->req + req_end, c->req_len - req_end);
    c->req_len -= req_end;
}

/* Sends what the socket takes; true while the response is not complete. */
static bool pump(struct httpd *h, struct conn *c)
{
    while (c->head_off < c->head_len) {
        ssize_t n = sk_send(h->st, c->fd, c->head + c->head_off, c->head_len - c->head_off, 0);
        if (n < 0)
            return n == -EAGAIN;
        c->head_off += (size_t)n;
    }
    char buf[16384];
    while (c->body_left > 0) {
        size_t room = sk_tcp_writable(sk_socket_tcp(h->st, c->fd));
        if (room == 0)
            return true;
        size_t want = room < sizeof(buf) ? room : sizeof(buf);
        if (want > c->body_left)
            want = (size_t)c->body_left;
        size_t got = fread(buf, 1, want, c->body);
        if (got == 0) {
            c->close_after = true; /* the file shrank: nothing honest left to send */
            c->body_left = 0;
            break;
        }
        ssize_t n = sk_send(h->st, c->fd, buf, got, 0);
        if (n < 0)
            return false;
        if ((size_t)n < got)
            fseek(c->body, (long)n - (long)got, SEEK_CUR);
        c->body_left -= (uint64_t)n;
    }
    if (c->body) {
        fclose(c->body);
        c->body = NULL;
    }
    c->head_len = c->head_off = 0;
    return false;
}

/* One pass over every socket: accept, read requests, write responses. */
static void httpd_poll(struct httpd *h)
{
    int fd;
    while ((fd = sk_accept(h->st, h->lfd, NULL, NULL)) >= 0) {
        int nodelay = 1;
        sk_setsockopt(h->st, fd, SK_IPPROTO_TCP, SK_TCP_NODELAY, &nodelay, sizeof(nodelay));
        struct conn *slot = NULL;
        for (int i = 0; i < MAX_CONNS && !slot; i++)
            if (h->conns[i].fd < 0)
                slot = &h->conns[i];
        if (slot == NULL) {
            sk_close(h->st, fd);
            continue;
        }
        memset(slot, 0, sizeof(*slot));
        slot->fd = fd;
    }
    for (int i = 0; i < MAX_CONNS; i++) {
        struct conn *c = &h->conns[i];
        if (c->fd < 0)
            continue;
        for (;;) {
            bool busy = c->head_len > 0;
            if (busy && pump(h, c))
                break; /* waits for room */
            if (busy && c->close_after) {
                sk_shutdown(h->st, c->fd, SK_SHUT_WR);
                c->close_after = false;
                c->req_len = 0;
            }
            char *end = c->req_len ? memmem(c->req, c->req_len, "\r\n\r\n", 4) : NULL;
            if (end) {
                start_response(h, c, (size_t)(end - c->req) + 4);
                continue;
            }
            if (c->req_len == sizeof(c->req)) { /* a header larger than we take */
                conn_close(h, c);
                break;
            }
            ssize_t n = sk_recv(h->st, c->fd, c->req + c->req_len, sizeof(c->req) - c->req_len, 0);
            if (n == -EAGAIN)
                break;
            if (n <= 0) {
                conn_close(h, c);
                break;
            }
            c->req_len += (size_t)n;
        }
    }
}

static int httpd_init(struct httpd *h, struct sk_stack *st, uint16_t port, const char *root)
{
    memset(h, 0, sizeof(*h));
    h->st = st;
    h->root = root;
    for (int i = 0; i < MAX_CONNS; i++)
        h->conns[i].fd = -1;
    h->lfd = sk_socket(st, SK_SOCK_STREAM);
    int one = 1;
    sk_setsockopt(st, h->lfd, SK_SOL_SOCKET, SK_SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    int r = sk_bind(st, h->lfd, (struct sockaddr *)&a, sizeof(a));
    if (r == 0)
        r = sk_listen(st, h->lfd, 128);
    return r;
}

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
    struct sk_stack *st = sk_stack_new(&cfg, sk_loop_clock(), &err);
    if (st == NULL)
        return 1;
    sk_loop_set_stack(loop, st);
    sk_stack_announce(st);
    static struct httpd h;
    if ((err = httpd_init(&h, st, port, root)) != 0) {
        fprintf(stderr, "httpd: listen: %s\n", strerror(-err));
        return 1;
    }
    fprintf(stderr, "httpd: serving %s on %s port %u (%s)\n", root, cidr, port, sk_tap_name(tap));
    for (;;) {
        if (sk_loop_run_once(loop, SK_TIME_NEVER) < 0)
            break;
        httpd_poll(&h);
    }
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
    ca.random_seed = 3;
    cb.random_seed = 4;
    ca.max_buffer_bytes = cb.max_buffer_bytes = 256u << 20;
    struct sk_sim sim;
    if (sk_sim_init(&sim, &ca, &cb, 7, 0) != 0)
        return 1;
    struct sk_memlink_faults f = {.delay_us = 500};
    sk_memlink_set_faults(sim.link, 0, &f);
    sk_memlink_set_faults(sim.link, 1, &f);
    static struct httpd h;
    if (httpd_init(&h, sim.stack[1], 80, root) != 0)
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
        httpd_poll(&h);
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
           nclients, (unsigned long long)h.requests, (unsigned long long)h.not_found,
           (unsigned long long)bytes, failed + (nclients - done), (double)sim.now / 1e6,
           failed == 0 && done == nclients ? "PASS" : "FAIL");
    for (int i = 0; i < nclients; i++)
        free(cl[i].resp);
    free(cl);
    for (int i = 0; i < nfiles; i++) {
        free(names[i]);
        free(bodies[i]);
    }
    for (int i = 0; i < MAX_CONNS; i++)
        if (h.conns[i].fd >= 0 && h.conns[i].body)
            fclose(h.conns[i].body);
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
