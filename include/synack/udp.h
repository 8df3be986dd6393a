/* synack: UDP datagram sockets (RFC 768), minimal.
 *
 * A socket is bound to one local port and receives every datagram to that port (on our
 * address or a broadcast address). sk_udp_bind never shares a port; the socket layer's
 * SO_REUSEADDR lets its sockets share one (then a datagram goes to the one connected to its
 * sender, else the last bound; a broadcast to each, as Linux). Received datagrams wait in a per-socket queue of at most
 * sk_config.udp_rcvq_datagrams; more are dropped and counted (udp-queue-full). A datagram to a
 * port with no socket is answered with ICMP port unreachable (RFC 1122 §4.1.3.1).
 *
 * The socket belongs to the application from sk_udp_bind until sk_udp_close; sk_stack_free
 * frees any still open. Like everything in the stack it belongs to the stack's thread. Errors
 * are negative errno values.
 */
#ifndef SYNACK_UDP_H
#define SYNACK_UDP_H

#include <sys/types.h>
#include "synack/stack.h"
#include "synack/tcp.h" /* SK_EV_READABLE, SK_EV_WRITABLE, SK_EV_ERROR */

#ifdef __cplusplus
extern "C" {
#endif

struct sk_udp;

/* Called from inside the stack's entry points when a datagram arrives (SK_EV_READABLE) or an
 * ICMP error about one we sent is received (SK_EV_ERROR). The callback may receive and send,
 * but must not close the socket. */
typedef void (*sk_udp_callback)(struct sk_udp *u, unsigned events, void *ctx);

/* Binds a socket to port (0: an ephemeral port). -EADDRINUSE (any socket on the port),
 * -ENOMEM. */
SK_API int sk_udp_bind(struct sk_stack *st, uint16_t port, struct sk_udp **out);

/* Sends one datagram to addr:port (host byte order). Larger than the MTU it is fragmented.
 * Returns len, -EMSGSIZE above 65507 bytes, -EHOSTUNREACH without a route, -EINVAL for a
 * zero port or address. A datagram waiting for ARP counts as sent. A broadcast address needs
 * no permission here (SO_BROADCAST is the socket layer's, synack/socket.h). */
SK_API ssize_t sk_udp_sendto(struct sk_udp *u, const void *buf, size_t len, uint32_t addr,
                             uint16_t port);

/* Takes the oldest datagram: copies up to len bytes (the rest of a longer one is lost, as
 * with recvfrom) and returns the datagram's full length; the sender in *addr and *port if not
 * NULL. -EAGAIN if none is waiting. */
SK_API ssize_t sk_udp_recvfrom(struct sk_udp *u, void *buf, size_t len, uint32_t *addr,
                               uint16_t *port);
/* Like sk_udp_recvfrom, but leaves the datagram queued (MSG_PEEK). */
SK_API ssize_t sk_udp_peekfrom(const struct sk_udp *u, void *buf, size_t len, uint32_t *addr,
                               uint16_t *port);

/* The same for addresses of either family (synack/addr.h): an IPv4-mapped address sends
 * over IPv4 exactly as sk_udp_sendto, any other over IPv6 from the source RFC 6724 selects
 * (-ENETUNREACH when there is none); the sender comes back IPv4-mapped for IPv4. The
 * uint32_t forms above report an IPv6 sender as address 0. A socket from sk_udp_bind takes
 * datagrams of both families on its port. */
SK_API ssize_t sk_udp_sendto_addr(struct sk_udp *u, const void *buf, size_t len,
                                  const struct sk_addr *addr, uint16_t port);
SK_API ssize_t sk_udp_recvfrom_addr(struct sk_udp *u, void *buf, size_t len,
                                    struct sk_addr *addr, uint16_t *port);
SK_API ssize_t sk_udp_peekfrom_addr(const struct sk_udp *u, void *buf, size_t len,
                                    struct sk_addr *addr, uint16_t *port);

/* Datagrams waiting. */
SK_API size_t sk_udp_pending(const struct sk_udp *u);
/* The socket's local port. */
SK_API uint16_t sk_udp_port(const struct sk_udp *u);
/* The last ICMP error about a datagram sent (-ECONNREFUSED, -EHOSTUNREACH, ...), then 0. */
SK_API int sk_udp_error(struct sk_udp *u);

SK_API void sk_udp_set_callback(struct sk_udp *u, sk_udp_callback cb, void *ctx);
SK_API void *sk_udp_get_context(const struct sk_udp *u);

/* Frees the socket and every datagram still queued. */
SK_API void sk_udp_close(struct sk_udp *u);

#ifdef __cplusplus
}
#endif
#endif
