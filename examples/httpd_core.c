/* The HTTP/1.1 static file server of examples/httpd.c and `synack serve --app http:DIR`
 * (interface and lifetimes in httpd_core.h): GET and HEAD, keep-alive (RFC 9112 §9.3),
 * Content-Length framing (RFC 9112 §6.3), Content-Type from the file's extension (RFC 9110
 * §8.3), pipelined requests, 404 and 405, on synack's non-blocking socket API; one pass of
 * httpd_poll serves every connection as far as the sockets allow.
 *
 * A response is handed to the stack whole: headers and the start of the body in one write,
 * then writes of whole segments. The sockets have Nagle off (TCP_NODELAY), so every write
 * leaves at once as its own segments; headers written alone would be a small segment of their
 * own, and the body behind it would leave as a second flight (with Nagle on, it would wait for
 * the ACK of the headers, which a client delays by up to 40 ms or more, RFC 9293 §3.8.6.3).
 * A response that fits in one segment therefore leaves as one segment.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "httpd_core.h"

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
    struct sk_addr raddr;   /* peer, either family */
    uint16_t rport;
    uint64_t in, out;       /* bytes received and sent */
};

struct httpd {
    struct sk_stack *st;
    int lfd;
    const char *root;
    struct conn conns[HTTPD_MAX_CONNS];
    uint64_t requests, not_found;
    httpd_end_fn on_end;
    void *on_end_ctx;
    char out[65536]; /* the write being made: one connection at a time, in httpd_poll */
};

/* err: 0 when the peer closed, else why the connection ends (a negative errno). */
static void conn_close(struct httpd *h, struct conn *c, int err)
{
    if (h->on_end) {
        struct httpd_conn_end e = {.raddr = c->raddr, .rport = c->rport, .in = c->in,
                                   .out = c->out, .err = err};
        h->on_end(&e, h->on_end_ctx);
    }
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

/* RFC 9110 §8.3: the media type of a file, by its extension (case-insensitive). */
static const char *content_type(const char *file)
{
    static const char *const types[][2] = {
        {"html", "text/html; charset=utf-8"}, {"htm", "text/html; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},   {"js", "text/javascript; charset=utf-8"},
        {"json", "application/json"},         {"txt", "text/plain; charset=utf-8"},
        {"png", "image/png"},                 {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},               {"gif", "image/gif"},
        {"svg", "image/svg+xml"},             {"ico", "image/vnd.microsoft.icon"},
        {"pdf", "application/pdf"},           {"wasm", "application/wasm"},
    };
    const char *slash = strrchr(file, '/');
    const char *dot = strrchr(slash ? slash : file, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcasecmp(dot + 1, types[i][0]) == 0)
            return types[i][1];
    return "application/octet-stream";
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
    const char *type = "text/plain; charset=utf-8"; /* of the error messages */
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
        type = content_type(file);
    }
    const char *msg = status[0] == '2' ? "" : status;
    if (status[0] != '2')
        len = strlen(msg);
    c->head_len = (size_t)snprintf(c->head, sizeof(c->head),
                                   "HTTP/1.1 %s\r\nServer: synack-httpd\r\n"
                                   "Content-Type: %s\r\nContent-Length: %llu\r\n"
                                   "Connection: %s\r\n\r\n%s",
                                   status, type, (unsigned long long)len,
                                   c->close_after ? "close" : "keep-alive",
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

/* How much of an n-byte write to make now, out of `room` free in the send buffer, when `last`
 * says whether it ends the response: all of a last write; else whole segments only, so that
 * no small segment goes out in the middle of a response. 0: wait for the send buffer to
 * drain (it can: something is queued), unless nothing is, when a small buffer has to do. */
static size_t write_size(const struct sk_tcp_info *ti, size_t n, bool last)
{
    size_t mss = ti->snd_mss ? ti->snd_mss : 536;
    if (last || n % mss == 0)
        return n;
    if (n > mss)
        return n - n % mss;
    return ti->sndbuf_used == 0 ? n : 0;
}

/* Fills buf with the rest of the header and as much of the body as fits in cap; *hn is the
 * header's share. A file that shrank since stat() ends the response early (and then the
 * connection: nothing honest is left to send). */
static size_t fill(struct conn *c, char *buf, size_t cap, size_t *hn)
{
    size_t n = c->head_len - c->head_off;
    if (n > cap)
        n = cap;
    memcpy(buf, c->head + c->head_off, n);
    *hn = n;
    size_t want = cap - n;
    if (want > c->body_left)
        want = (size_t)c->body_left;
    size_t got = want ? fread(buf + n, 1, want, c->body) : 0;
    if (got < want) {
        c->close_after = true;
        c->body_left = got;
    }
    return n + got;
}

/* Sends what the socket takes; true while the response is not complete. */
static bool pump(struct httpd *h, struct conn *c)
{
    char *buf = h->out;
    struct sk_tcp *t = sk_socket_tcp(h->st, c->fd);
    while (c->head_off < c->head_len || c->body_left > 0) {
        size_t room = t ? sk_tcp_writable(t) : 0;
        if (room == 0)
            return t != NULL;
        struct sk_tcp_info ti;
        sk_tcp_get_info(t, &ti);
        size_t hn;
        size_t n = fill(c, buf, room < sizeof(h->out) ? room : sizeof(h->out), &hn);
        size_t body = n - hn;
        bool last = c->head_off + hn == c->head_len && body == c->body_left;
        size_t w = write_size(&ti, n, last);
        ssize_t sent = w ? sk_send(h->st, c->fd, buf, w, 0) : 0;
        if (sent < 0 && sent != -EAGAIN)
            return false;
        size_t s = sent > 0 ? (size_t)sent : 0;
        size_t sh = s < hn ? s : hn; /* the header's part of what went */
        c->head_off += sh;
        c->body_left -= (uint64_t)(s - sh);
        c->out += (uint64_t)s;
        if (body > s - sh) /* the body bytes read but not taken are read again next time */
            fseek(c->body, -(long)(body - (s - sh)), SEEK_CUR);
        if (s < n)
            return true; /* waits for room */
    }
    if (c->body) {
        fclose(c->body);
        c->body = NULL;
    }
    c->head_len = c->head_off = 0;
    return false;
}

void httpd_poll(struct httpd *h)
{
    int fd;
    struct sockaddr_in6 peer; /* the listener is AF_INET6: IPv4 peers come IPv4-mapped */
    socklen_t plen = sizeof(peer);
    while ((fd = sk_accept(h->st, h->lfd, (struct sockaddr *)&peer, &plen)) >= 0) {
        int nodelay = 1;
        sk_setsockopt(h->st, fd, SK_IPPROTO_TCP, SK_TCP_NODELAY, &nodelay, sizeof(nodelay));
        struct conn *slot = NULL;
        for (int i = 0; i < HTTPD_MAX_CONNS && !slot; i++)
            if (h->conns[i].fd < 0)
                slot = &h->conns[i];
        if (slot == NULL) {
            sk_close(h->st, fd);
            continue;
        }
        memset(slot, 0, sizeof(*slot));
        slot->fd = fd;
        memcpy(slot->raddr.b, peer.sin6_addr.s6_addr, 16);
        slot->rport = ntohs(peer.sin6_port);
        plen = sizeof(peer);
    }
    for (int i = 0; i < HTTPD_MAX_CONNS; i++) {
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
                conn_close(h, c, -EMSGSIZE);
                break;
            }
            ssize_t n = sk_recv(h->st, c->fd, c->req + c->req_len, sizeof(c->req) - c->req_len, 0);
            if (n == -EAGAIN)
                break;
            if (n <= 0) {
                conn_close(h, c, (int)n);
                break;
            }
            c->req_len += (size_t)n;
            c->in += (uint64_t)n;
        }
    }
}

struct httpd *httpd_new(struct sk_stack *st, uint16_t port, const char *root, int *err)
{
    struct httpd *h = calloc(1, sizeof(*h));
    if (h == NULL) {
        *err = -ENOMEM;
        return NULL;
    }
    h->st = st;
    h->root = root;
    for (int i = 0; i < HTTPD_MAX_CONNS; i++)
        h->conns[i].fd = -1;
    /* Dual-stack (RFC 3493 §3.7): one AF_INET6 listener on [::]:port takes IPv4 clients
     * too, and IPv6 ones when the stack has IPv6. */
    h->lfd = sk_socket_af(st, AF_INET6, SK_SOCK_STREAM);
    int r = h->lfd < 0 ? h->lfd : 0;
    if (r == 0) {
        int one = 1;
        sk_setsockopt(st, h->lfd, SK_SOL_SOCKET, SK_SO_REUSEADDR, &one, sizeof(one));
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
        r = sk_bind(st, h->lfd, (struct sockaddr *)&a, sizeof(a));
    }
    if (r == 0)
        r = sk_listen(st, h->lfd, 128);
    if (r != 0) {
        if (h->lfd >= 0)
            sk_close(st, h->lfd);
        free(h);
        *err = r;
        return NULL;
    }
    return h;
}

void httpd_set_end_callback(struct httpd *h, httpd_end_fn fn, void *ctx)
{
    h->on_end = fn;
    h->on_end_ctx = ctx;
}

uint64_t httpd_requests(const struct httpd *h)
{
    return h->requests;
}

uint64_t httpd_not_found(const struct httpd *h)
{
    return h->not_found;
}

void httpd_free(struct httpd *h)
{
    if (h == NULL)
        return;
    h->on_end = NULL; /* connections cut short by the server's end are not reported */
    for (int i = 0; i < HTTPD_MAX_CONNS; i++)
        if (h->conns[i].fd >= 0)
            conn_close(h, &h->conns[i], 0);
    sk_close(h->st, h->lfd);
    free(h);
}
