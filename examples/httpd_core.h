/* The HTTP/1.1 static file server of examples/httpd.c, on synack's socket API: GET and HEAD,
 * keep-alive, Content-Length, 404, up to HTTPD_MAX_CONNS concurrent clients, one thread,
 * non-blocking sockets (RFC 9112 message framing, the subset a static server needs).
 *
 * Shared by the example program (synack-httpd) and `synack serve --app http:DIR`.
 *
 * Lifetime: httpd_new listens on the stack and returns a server the caller owns; call
 * httpd_poll after every turn of the event loop (or step of the simulator); httpd_free closes
 * every connection's socket and file and must run before the stack is freed.
 */
#ifndef SYNACK_EXAMPLES_HTTPD_CORE_H
#define SYNACK_EXAMPLES_HTTPD_CORE_H

#include <stdint.h>

#include <synack/synack.h>

#define HTTPD_MAX_CONNS 1024

/* One connection as it ends (the server closes its socket). */
struct httpd_conn_end {
    struct sk_addr raddr; /* peer address, either family (IPv4 IPv4-mapped) */
    uint16_t rport;   /* peer port, host order */
    uint64_t in, out; /* bytes received (requests) and sent (headers and bodies) */
    int err;          /* 0: the peer closed; else the negative errno that ended it */
};

typedef void (*httpd_end_fn)(const struct httpd_conn_end *end, void *ctx);

struct httpd;

/* Serves the files under root (not copied: it must outlive the server) on TCP port. Returns
 * NULL with *err set to a negative errno (-ENOMEM, or what bind/listen said). */
struct httpd *httpd_new(struct sk_stack *st, uint16_t port, const char *root, int *err);
/* Called (from httpd_poll) for each connection that ends; NULL for none. */
void httpd_set_end_callback(struct httpd *h, httpd_end_fn fn, void *ctx);
/* One pass over every socket: accept, read requests, write responses. */
void httpd_poll(struct httpd *h);
/* Requests answered so far, and how many of them were 404. */
uint64_t httpd_requests(const struct httpd *h);
uint64_t httpd_not_found(const struct httpd *h);
/* Closes the listener and every connection (their files too) and frees h. NULL is a no-op. */
void httpd_free(struct httpd *h);

#endif
