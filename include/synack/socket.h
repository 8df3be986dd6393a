/* synack: BSD-style sockets over one stack.
 *
 * Descriptors are small integers local to one sk_stack (they are not kernel descriptors and
 * mean nothing to another stack). Every socket is non-blocking: a call that would have to
 * wait returns -EAGAIN (-EINPROGRESS for connect) and readiness is learnt from sk_poll or a
 * per-socket callback. For calls that block, see synack/blocking.h.
 *
 * Return convention: like the rest of synack, every call returns 0 (or a count, or a
 * descriptor) on success and a negative errno value (<errno.h>) on failure; errno is never
 * touched. The errno values and the moment they appear follow POSIX (and Linux where POSIX
 * leaves a choice):
 *   - a connection's failure (-ECONNREFUSED, -ECONNRESET, -ETIMEDOUT) is reported once: by
 *     SO_ERROR (read-and-clear) or by the next sk_connect/sk_send/sk_recv, whichever comes
 *     first; afterwards sk_recv returns 0 (end of stream) and sk_send -EPIPE;
 *   - a non-blocking connect returns -EINPROGRESS; completion shows as SK_POLLOUT (failure
 *     also as SK_POLLERR) and is read with SO_ERROR; a second sk_connect returns -EALREADY
 *     while the handshake runs, 0 once when it has completed (whether or not sk_send,
 *     sk_recv, sk_poll or SO_ERROR saw it first; sk_shutdown counts as seeing it, as in
 *     Linux), then -EISCONN; after a failure, the error once (-ECONNABORTED if already
 *     reported) and the socket may connect again.
 * Addresses are struct sockaddr_in (AF_INET sockets) or struct sockaddr_in6 (AF_INET6, see
 * sk_socket_af), address and port in network byte order, as POSIX.
 *
 * Ownership: a descriptor belongs to the application from sk_socket/sk_accept until
 * sk_close; the connection behind it may live on in the stack (FIN-WAIT, TIME-WAIT) after
 * that. sk_stack_free frees every socket still open.
 *
 * Thread-safety: as for the stack (synack/stack.h): one thread at a time per stack, and
 * callbacks run on that thread, inside the stack's entry points.
 */
#ifndef SYNACK_SOCKET_H
#define SYNACK_SOCKET_H

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "synack/stack.h"
#include "synack/tcp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Socket types. */
#define SK_SOCK_STREAM 1 /* TCP */
#define SK_SOCK_DGRAM 2  /* UDP */
/* Flags sk_socket accepts or'ed into the type, with Linux's values; they change nothing:
 * every socket is non-blocking, and there is no exec to close it on. */
#define SK_SOCK_NONBLOCK 04000
#define SK_SOCK_CLOEXEC 02000000

/* Option levels and names. The values are Linux's, so code written for Linux sockets reads
 * the same; only these are understood (others: -ENOPROTOOPT). */
#define SK_SOL_SOCKET 1
#define SK_IPPROTO_TCP 6
#define SK_SO_REUSEADDR 2   /* int: bind while connections (TIME-WAIT) still use the port */
#define SK_SO_TYPE 3        /* int, get only: SK_SOCK_STREAM or SK_SOCK_DGRAM */
#define SK_SO_ERROR 4       /* int, get only: the pending error as a positive errno, cleared */
/* SO_BROADCAST: any socket keeps it (read back 0 or 1); a UDP socket without it gets -EACCES
 * from sk_connect to a broadcast address (255.255.255.255 or the connected network's directed
 * broadcast, stack.h addr/prefix_len) and from sk_sendto to one, as Linux. A datagram to one
 * goes to the link's broadcast address (Ethernet ff:ff:ff:ff:ff:ff) without ARP. */
#define SK_SO_BROADCAST 6
/* SO_SNDBUF / SO_RCVBUF: bytes, never an error for the value. As Linux, the int is taken as
 * unsigned and lowered to the stack's max_sndbuf_bytes / max_rcvbuf_bytes (defaults 4 MiB /
 * 6 MiB, see stack.h; and never above max_buffer_bytes), so INT_MAX and negatives give the
 * maximum, then raised to 2048; getsockopt reads back that value (Linux reads back twice it:
 * docs/api.md, Differences from Linux). Setting allocates nothing: a connection's send buffer
 * appears with its first byte sent, its receive buffer with the first byte received (an
 * established, idle connection holds neither). The receive size is the window the SYN offers.
 * On a connection whose buffer already holds data it is reallocated now (-ENOBUFS if the
 * stack's budget has no room; nothing changes). */
#define SK_SO_SNDBUF 7      /* int: send buffer bytes */
#define SK_SO_RCVBUF 8      /* int: receive buffer bytes (the window the SYN offers) */
#define SK_SO_KEEPALIVE 9   /* int: keep-alive probes on/off (RFC 9293 §3.8.4) */
#define SK_SO_LINGER 13     /* struct linger: {1, 0} makes sk_close send RST; {1, N}: see
                             * sk_close and sk_bclose; {0, x} keeps the time set before; a
                             * negative N lingers without end and reads back as set */
#define SK_SO_ACCEPTCONN 30 /* int, get only: 1 on a listening socket */
#define SK_TCP_NODELAY 1       /* int: Nagle's algorithm off */
#define SK_TCP_MAXSEG 2        /* int: cap on the MSS (88..32767, 0: none, as Linux), announced
                                * in the next SYN; get: the MSS in use once connected */
#define SK_TCP_KEEPIDLE 4      /* int seconds before the first probe (1..32767) */
#define SK_TCP_KEEPINTVL 5     /* int seconds between probes (1..32767) */
#define SK_TCP_KEEPCNT 6       /* int unanswered probes before -ETIMEDOUT (1..127) */
#define SK_TCP_CONGESTION 13   /* char[]: "cubic" or "reno" (NewReno), Linux's names;
                                * another name -ENOENT */
#define SK_TCP_FASTOPEN 23      /* int >= 0: a listener's Fast Open queue (RFC 7413; Linux's
                                * qlen; sk_tcp_set_fastopen), before or after listen; 0 off */
#define SK_TCP_FASTOPEN_CONNECT 30 /* int: connect() with a known cookie returns 0 at once and
                                * the first send goes in the SYN (SK_FASTOPEN_DEFER) */
#define SK_TCP_USER_TIMEOUT 18 /* int milliseconds (RFC 9293 §3.8.3), any value >= 0, read
                                * back as set; 0: the stack's. When set it alone ends a
                                * retransmitting connection (stack.h user_timeout_us) */
/* Low-water marks and queue sizes (docs/api.md "Low-water marks, queue sizes and records";
 * tcp.h sk_tcp_set_notsent_lowat and its neighbours say what they do). */
#define SK_SO_RCVLOWAT 18       /* int: readable (SK_POLLIN) once this many bytes are; default
                                 * 1, 0 means 1, a negative value INT_MAX, and no more than
                                 * half the receive buffer (Linux's tcp_set_rcvlowat) */
#define SK_TCP_NOTSENT_LOWAT 25 /* int, taken as unsigned: takes data and polls writable only
                                 * while fewer unsent bytes are queued; 0: the stack's default
                                 * (stack.h notsent_lowat); read back as set (0 if never) */
#define SK_TCP_INQ 36           /* int 0 or 1 (else -EINVAL): kept and read back; the hint it
                                 * asks for is sk_tcp_inq_hint (no recvmsg here to carry it) */

/* IPPROTO_IPV6 level, AF_INET6 sockets only (another socket: -ENOPROTOOPT, and
 * -EOPNOTSUPP from getsockopt, as Linux). */
#define SK_IPPROTO_IPV6 41
#define SK_IPV6_V6ONLY 26      /* int: IPv6 only, no IPv4-mapped peers (RFC 3493 §5.3);
                                * default 0; -EINVAL once the socket is bound (as Linux) */

/* sk_shutdown's `how`. */
#define SK_SHUT_RD 0
#define SK_SHUT_WR 1
#define SK_SHUT_RDWR 2

/* Flags of sk_send/sk_recv/sk_sendto/sk_recvfrom. Every call is non-blocking. */
#define SK_MSG_OOB 0x01      /* urgent data: not supported; send -EOPNOTSUPP, TCP recv -EINVAL */
#define SK_MSG_PEEK 0x02     /* recv: read without consuming */
#define SK_MSG_TRUNC 0x20    /* recv on UDP: return the datagram's full length */
#define SK_MSG_EOR 0x80      /* send on TCP: the bytes end a record (tcp.h SK_TCP_SEND_EOR);
                              * ignored on UDP, where every datagram is one */
#define SK_MSG_DONTWAIT 0x40 /* accepted and ignored: every call is non-blocking */
#define SK_MSG_NOSIGNAL 0x4000 /* accepted and ignored: there are no signals */
/* sk_sendto on an unconnected TCP socket: connect to addr with the data in the SYN (RFC 7413,
 * sk_tcp_connect_data): returns the bytes the SYN carries, or -EINPROGRESS when none (no
 * cookie yet: the SYN asks for one); -EALREADY while connecting; on a connected socket an
 * ordinary send (as Linux's MSG_FASTOPEN). */
#define SK_MSG_FASTOPEN 0x20000000

/* sk_poll events (the values of <poll.h> on Linux). */
#define SK_POLLIN 0x001
#define SK_POLLOUT 0x004
#define SK_POLLERR 0x008   /* always reported: an error is pending (see SO_ERROR) */
#define SK_POLLHUP 0x010   /* always reported: no more data either way, or never connected */
#define SK_POLLNVAL 0x020  /* always reported: fd (>= 0) is not an open socket */
#define SK_POLLRDHUP 0x2000 /* the peer sent FIN (or we shut reading) */

struct sk_pollfd {
    int fd;
    short events;  /* what the caller asks for */
    short revents; /* what is ready; filled by sk_poll */
};

/* Creates a socket: type SK_SOCK_STREAM or SK_SOCK_DGRAM, maybe or'ed with SK_SOCK_NONBLOCK
 * and SK_SOCK_CLOEXEC. Returns a descriptor >= 0, -EMFILE when sk_config.max_connections
 * sockets are open, -ENOMEM. Another type fails as on Linux (AF_INET, protocol 0): another of
 * Linux's types (0..10) -ESOCKTNOSUPPORT, but 3 (SOCK_RAW) -EPROTONOSUPPORT; a value outside
 * 0..10 or another flag -EINVAL. */
SK_API int sk_socket(struct sk_stack *st, int type);
/* sk_socket for a family: AF_INET (what sk_socket makes) or AF_INET6; another family
 * -EAFNOSUPPORT. An AF_INET6 socket takes and gives struct sockaddr_in6 (RFC 3493 §3.3) and
 * is dual-stack unless IPV6_V6ONLY is set (Linux's default, off): it binds to :: for both
 * families, a listener on it accepts IPv4 clients too, and an IPv4 peer (in accept,
 * getpeername, recvfrom) is shown IPv4-mapped, ::ffff:a.b.c.d (RFC 4291 §2.5.5.2); connect or
 * sendto to such an address goes over IPv4 (RFC 4038 §4.2). */
SK_API int sk_socket_af(struct sk_stack *st, int family, int type);

/* Binds the local address (0.0.0.0 or the stack's address) and port (0: an ephemeral one).
 * A TCP port bound (or listened on) is the socket's until it is closed: no other socket's
 * connect picks it. Errors in Linux's order: -EINVAL addrlen short or above
 * sizeof(struct sockaddr_storage), -EFAULT addr NULL, -EAFNOSUPPORT not AF_INET (AF_UNSPEC
 * passes with address 0.0.0.0, as in Linux), -EADDRNOTAVAIL another address, -EINVAL already
 * bound (or connected/listening), -EADDRINUSE the port is taken (a listener, a socket bound
 * to it, or without SO_REUSEADDR any connection using it), -EBADF. */
SK_API int sk_bind(struct sk_stack *st, int fd, const struct sockaddr *addr, socklen_t addrlen);

/* Listens (an unbound socket gets an ephemeral port). backlog bounds the half-open and the
 * accept queues: read as unsigned and capped at sk_config.max_syn_backlog as Linux caps it at
 * somaxconn (so a negative backlog is the cap), at least 1. On a socket already listening:
 * 0, and the new backlog applies. -EOPNOTSUPP on UDP, -EINVAL when connected or connecting,
 * -EADDRINUSE, -ENOBUFS. */
SK_API int sk_listen(struct sk_stack *st, int fd, int backlog);

/* Takes one established connection: a new descriptor, the peer's address in addr (may be
 * NULL; *addrlen in: room, the address cut to it; out: sizeof(struct sockaddr_in)). The new
 * socket inherits the listener's options. A connection reset (or failed) while it waited is
 * handed out all the same, as Linux does: its first call reports the error. -EAGAIN none
 * waiting, -EINVAL not listening, -EOPNOTSUPP on UDP, -EMFILE, -ENOMEM; with a connection
 * waiting, -EFAULT for addr without addrlen and -EINVAL for *addrlen negative as an int
 * (as Linux: that connection is taken and closed). */
SK_API int sk_accept(struct sk_stack *st, int fd, struct sockaddr *addr, socklen_t *addrlen);

/* TCP: starts the handshake and returns -EINPROGRESS (see the top of this file for what
 * follows). On a socket connecting, the address is not looked at: -EALREADY while the
 * handshake is under way; once it completed, 0 the first time (even if send, recv, poll or
 * SO_ERROR saw it first; not after shutdown, as Linux) and -EISCONN after; once it failed,
 * its error (-ECONNABORTED if already reported), and the socket may connect again.
 * -EISCONN connected or listening, -EADDRNOTAVAIL (0.0.0.0, our own address, or no
 * ephemeral port free: ports held by bind() are skipped), -EADDRINUSE (4-tuple taken),
 * -EINVAL (port 0, addrlen short or above sizeof(struct sockaddr_storage)), -EFAULT (addr
 * NULL with a length), -EAFNOSUPPORT, -ENOBUFS (limits).
 * UDP: sets the default destination and the only source accepted from now on (datagrams
 * queued before are still read, as Linux); returns 0; -EINVAL for address or port 0, -EACCES
 * for a broadcast address without SO_BROADCAST (the socket keeps the port it was given).
 * AF_UNSPEC (only sa_family is read) dissolves the association and returns 0: UDP forgets
 * its peer and gives up a port it did not get from bind (with datagrams queued on it); TCP
 * stops listening, or aborts the connection (RST in the states Linux's tcp_disconnect
 * sends one, SO_ERROR then -ECONNRESET); the socket may connect or listen again. */
SK_API int sk_connect(struct sk_stack *st, int fd, const struct sockaddr *addr,
                      socklen_t addrlen);

/* Sends up to len bytes: returns how many were queued (maybe fewer), -EAGAIN when the send
 * buffer is full or the handshake has not completed, -ENOTCONN never connected (or
 * listening), -EPIPE after sk_shutdown(SK_SHUT_WR) or once the connection is gone, or its
 * pending error; -ENOBUFS when the first byte finds no memory for the send buffer, which is
 * allocated then, not at connect (sk_tcp_send; the connection is unharmed). UDP: one datagram to the connected peer (-EDESTADDRREQ if none),
 * -EMSGSIZE above 65507 bytes. Both directions: -EFAULT for a NULL buf with len > 0. */
SK_API ssize_t sk_send(struct sk_stack *st, int fd, const void *buf, size_t len, int flags);
/* Reads up to len bytes: the count, 0 at end of stream (TCP after sk_shutdown(SK_SHUT_RD):
 * whenever nothing is queued; data queued or arriving later is still read, as Linux),
 * -EAGAIN nothing yet (also while connecting), -ENOTCONN never connected, or the pending
 * error. UDP: one datagram, cut to len unless SK_MSG_TRUNC; SK_MSG_PEEK leaves it queued, and
 * sk_recv(st, fd, NULL, 0, SK_MSG_PEEK | SK_MSG_TRUNC) asks the next datagram's length. */
SK_API ssize_t sk_recv(struct sk_stack *st, int fd, void *buf, size_t len, int flags);
/* Vectored forms, as writev/readv. sk_sendv is one gather write: on TCP every buffer is
 * queued before any segment is built (Nagle sees the whole write, so a header and its body
 * leave together), and the count queued is returned, fewer than the total when the send
 * buffer fills. sk_recvv fills the buffers in order in one pass over the data readable now;
 * data read before an error leaves the error for the next call. UDP: one datagram, gathered
 * from the buffers (-EMSGSIZE above 65507 bytes), or scattered into them and cut to their
 * total with the rest discarded (no truncation flag; sk_recv with SK_MSG_TRUNC tells the
 * length). Checked first, before the socket is looked at, nothing moved on failure: iovcnt
 * negative or above 1024, or a length above SSIZE_MAX, -EINVAL; iov NULL with iovcnt > 0, or
 * a NULL base with a non-zero length, -EFAULT. A zero total (iovcnt 0, zero lengths) returns
 * 0 and sends no datagram; a pending error stays for the next call (Linux's vfs_writev and
 * sock_read_iter return before the protocol). Otherwise the errors of sk_send/sk_recv. */
SK_API ssize_t sk_sendv(struct sk_stack *st, int fd, const struct iovec *iov, int iovcnt);
SK_API ssize_t sk_recvv(struct sk_stack *st, int fd, const struct iovec *iov, int iovcnt);
/* Zero-copy on a stream socket: sk_tcp_recv_borrow / sk_tcp_recv_release and
 * sk_tcp_send_reserve / sk_tcp_send_commit (tcp.h states what stays valid until when) on the
 * socket's connection, with the errors of sk_recv and sk_send: a pending error is reported
 * (and cleared) as they report it, borrow returns 0 where sk_recv would (end of stream, after
 * SK_SHUT_RD), reserve -EAGAIN while connecting and -EPIPE after SK_SHUT_WR. -EBADF for a
 * descriptor that is not open, -EOPNOTSUPP for a datagram socket; release or commit of n > 0
 * on a socket that has no connection is -EINVAL. */
SK_API ssize_t sk_recv_borrow(struct sk_stack *st, int fd, struct iovec span[2]);
SK_API int sk_recv_release(struct sk_stack *st, int fd, size_t n);
SK_API ssize_t sk_send_reserve(struct sk_stack *st, int fd, size_t want, struct iovec span[2]);
SK_API ssize_t sk_send_commit(struct sk_stack *st, int fd, size_t n);
/* UDP: one datagram to addr (NULL: the connected peer, whatever addrlen); an unbound socket
 * is bound to an ephemeral port first. On TCP addr is ignored and this is sk_send.
 * -EHOSTUNREACH without a route, -EINVAL (port or address 0, addrlen short), -EACCES a
 * broadcast addr without SO_BROADCAST (the connected peer was checked by sk_connect),
 * -EAFNOSUPPORT (a family other than AF_INET or AF_UNSPEC). Any call: SK_MSG_OOB
 * -EOPNOTSUPP (no urgent data); unknown flags are ignored, as Linux does. */
SK_API ssize_t sk_sendto(struct sk_stack *st, int fd, const void *buf, size_t len, int flags,
                         const struct sockaddr *addr, socklen_t addrlen);
/* UDP: one datagram and its sender in addr (may be NULL; *addrlen in: room, out:
 * sizeof(struct sockaddr_in)). On TCP this is sk_recv and gives no address: *addrlen is set
 * to 0 (as Linux); SK_MSG_OOB is -EINVAL. An addr with a NULL addrlen is -EFAULT before
 * anything is read. */
SK_API ssize_t sk_recvfrom(struct sk_stack *st, int fd, void *buf, size_t len, int flags,
                           struct sockaddr *addr, socklen_t *addrlen);

/* SK_SHUT_RD: sk_recv returns 0 once nothing is queued (TCP data still arriving is read
 * and acknowledged as before; poll says POLLIN | POLLRDHUP). SK_SHUT_WR: a FIN follows the
 * queued data; sk_send returns -EPIPE. SK_SHUT_RDWR: both. As Linux's inet_shutdown, on a
 * listener SK_SHUT_WR does nothing and SK_SHUT_RD (or RDWR) stops it (connections not yet
 * accepted are reset; the socket stays bound and may listen again); while the SYN is
 * unanswered (SYN-SENT) any shutdown drops the attempt: 0, -ECONNRESET left pending, and
 * the socket may connect again. -EINVAL bad how, -ENOTCONN not connected (never, or the
 * connection is gone: CLOSED or TIME-WAIT).
 * UDP: datagrams queued before SK_SHUT_RD are still read, then 0; poll shows SK_POLLIN and
 * SK_POLLRDHUP after SK_SHUT_RD, SK_POLLHUP after both. An unconnected UDP socket returns
 * -ENOTCONN but the shutdown still takes effect, as in Linux (inet_shutdown). */
SK_API int sk_shutdown(struct sk_stack *st, int fd, int how);

/* Releases the descriptor. A TCP connection closes gracefully in the background (FIN after
 * the queued data; RST instead if received data was left unread, RFC 2525 §2.17) unless
 * SO_LINGER is {1, 0}: then RST at once (RFC 9293 §3.10.5 ABORT). SO_LINGER {1, N != 0}
 * closes gracefully too and does not wait (Linux's close would; sk_bclose does). A listener resets the
 * connections never accepted. Must not be called from a callback of the same stack.
 * 0 or -EBADF. */
SK_API int sk_close(struct sk_stack *st, int fd);

/* Options, see SK_SO_* and SK_TCP_* above. Options set before sk_connect/sk_listen take
 * effect at the handshake (buffer sizes set the SYN's window; TCP_MAXSEG the announced MSS);
 * a listener passes its options to the connections it accepts. -ENOPROTOOPT unknown option,
 * -EINVAL bad value, -ENOENT unknown congestion control, -ENOBUFS buffer limit.
 * Lengths as Linux: setsockopt -EINVAL if len is shorter than the option (an int, a struct
 * linger; negative included), a longer one is fine, -EFAULT val NULL; -ENOPROTOOPT another
 * level (TCP options on UDP). getsockopt copies min(*len, the option's size) bytes (a short
 * buffer gets the start, not an error; SO_ERROR is cleared all the same; TCP_CONGESTION is
 * 16 bytes, NUL-padded) and sets *len to that; -EINVAL *len negative, -EFAULT len NULL (or
 * val NULL with room); -EOPNOTSUPP another level (TCP options on UDP). */
SK_API int sk_setsockopt(struct sk_stack *st, int fd, int level, int name, const void *val,
                         socklen_t len);
SK_API int sk_getsockopt(struct sk_stack *st, int fd, int level, int name, void *val,
                         socklen_t *len);

/* ioctl(2) requests on sockets (Linux's values, <linux/sockios.h>), *arg an int:
 * SK_SIOCINQ (FIONREAD) TCP: bytes readable now (sk_tcp_inq), UDP: the next datagram's
 * length (0 if none); SK_SIOCOUTQ TCP: bytes not yet acknowledged (sk_tcp_outq), UDP: 0
 * (datagrams leave at once); SK_SIOCOUTQNSD TCP only: bytes never sent (sk_tcp_outq_nsd).
 * As Linux's tcp_ioctl: -EINVAL on a listener, 0 on a socket never connected or still
 * connecting. -EFAULT arg NULL, -ENOTTY another request (or SK_SIOCOUTQNSD on UDP), -EBADF. */
#define SK_SIOCINQ 0x541B
#define SK_SIOCOUTQ 0x5411
#define SK_SIOCOUTQNSD 0x894B
SK_API int sk_ioctl(struct sk_stack *st, int fd, unsigned long request, int *arg);

/* Local / peer address: min(*addrlen, sizeof(struct sockaddr_in)) bytes, *addrlen set to
 * the full size; -EFAULT addrlen NULL (or addr NULL with room), -EINVAL *addrlen negative.
 * Never bound: 0.0.0.0:0; a connected UDP socket bound to 0.0.0.0 shows the stack's
 * address (until connect(AF_UNSPEC)), as Linux. sk_getpeername: -ENOTCONN (checked first) unless connected (not
 * while SYN-SENT, not once CLOSED; UDP: a default peer). */
SK_API int sk_getsockname(struct sk_stack *st, int fd, struct sockaddr *addr,
                          socklen_t *addrlen);
SK_API int sk_getpeername(struct sk_stack *st, int fd, struct sockaddr *addr,
                          socklen_t *addrlen);

/* Readiness now, without waiting: fills revents of each entry (SK_POLLERR, SK_POLLHUP and
 * SK_POLLNVAL whether asked or not; an entry whose fd is negative is ignored, revents 0, as
 * POSIX poll()) and returns how many have revents != 0. To wait, sleep
 * in your own loop until a frame arrives or sk_stack_next_deadline, feed the stack, poll
 * again. */
SK_API int sk_poll(struct sk_stack *st, struct sk_pollfd *fds, size_t nfds);

/* Called when a socket's readiness (its sk_poll revents) changes, on the stack's thread from
 * inside sk_stack_input/sk_stack_poll and the socket calls. It may call any socket function
 * except sk_close of a socket of this stack (close after the stack call returns). NULL
 * removes it. -EBADF. */
typedef void (*sk_socket_callback)(struct sk_stack *st, int fd, unsigned revents, void *ctx);
SK_API int sk_socket_set_callback(struct sk_stack *st, int fd, sk_socket_callback cb,
                                  void *ctx);

/* The low-level connection behind a TCP socket (for sk_tcp_get_info, sk_tcp_get_state), NULL
 * if none (UDP, not yet connected or listening). Valid until the next call on fd. */
SK_API struct sk_tcp *sk_socket_tcp(struct sk_stack *st, int fd);

#ifdef __cplusplus
}
#endif
#endif
