/* synack: TCP connections (RFC 9293), the low-level interface.
 *
 * A `struct sk_tcp` is either a listener or a connection. It belongs to the application from
 * the call that returns it until sk_tcp_close() or sk_tcp_abort(); after that the stack owns
 * the TCB (it may live on through FIN-WAIT and TIME-WAIT) and the handle must not be used.
 * A connection that fails or is reset stays valid, in CLOSED, with its error, until closed.
 *
 * Every call acts at the stack's current time (the last `now` handed to sk_stack_input or
 * sk_stack_poll) and may send segments through the output callback before returning.
 * Errors are negative errno values (<errno.h>).
 */
#ifndef SYNACK_TCP_H
#define SYNACK_TCP_H

#include <sys/types.h>
#include <sys/uio.h>
#include "synack/addr.h"
#include "synack/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sk_tcp;
struct sk_tcp_params;

/* RFC 9293 §3.3.2: the eleven states. */
enum sk_tcp_state {
    SK_TCP_CLOSED = 0,
    SK_TCP_LISTEN,
    SK_TCP_SYN_SENT,
    SK_TCP_SYN_RECEIVED,
    SK_TCP_ESTABLISHED,
    SK_TCP_FIN_WAIT_1,
    SK_TCP_FIN_WAIT_2,
    SK_TCP_CLOSE_WAIT,
    SK_TCP_CLOSING,
    SK_TCP_LAST_ACK,
    SK_TCP_TIME_WAIT,
};
#define SK_TCP_STATE_COUNT 11

/* "SYN-RECEIVED", "TIME-WAIT", ... as RFC 9293 spells them. */
SK_API const char *sk_tcp_state_name(enum sk_tcp_state s);

/* Readiness events, for sk_tcp_set_callback and sk_tcp_events. */
#define SK_EV_READABLE 0x01   /* data to read, or the peer's FIN (recv returns 0) */
#define SK_EV_WRITABLE 0x02   /* room in the send buffer */
#define SK_EV_CONNECTED 0x04  /* handshake complete (ESTABLISHED reached) */
#define SK_EV_ACCEPTABLE 0x08 /* a listener has a connection to accept */
#define SK_EV_ERROR 0x10      /* sk_tcp_error() is non-zero */
#define SK_EV_CLOSED 0x20     /* the connection reached CLOSED or TIME-WAIT */

typedef void (*sk_tcp_callback)(struct sk_tcp *c, unsigned events, void *ctx);

/* Active open (RFC 9293 §3.10.1): sends a SYN and enters SYN-SENT. local_port 0 picks an
 * ephemeral port. Errors: -EADDRINUSE (4-tuple taken), -ENOMEM (connection limit),
 * -EADDRNOTAVAIL (no ephemeral port free), -EINVAL (bad address or port). */
SK_API int sk_tcp_connect(struct sk_stack *st, uint16_t local_port, uint32_t raddr, uint16_t rport,
                          struct sk_tcp **out);

/* sk_tcp_connect for a destination of either family (synack/addr.h): an IPv4-mapped raddr
 * connects over IPv4 exactly as sk_tcp_connect, any other over IPv6 from the source address
 * RFC 6724 selects. p as for sk_tcp_connect_with (NULL: the defaults). Extra errors:
 * -EINVAL for raddr NULL, unspecified or ours; -ENETUNREACH for an IPv6 multicast destination
 * (no TCP to multicast) or when no IPv6 source address can reach raddr. */
SK_API int sk_tcp_connect_addr(struct sk_stack *st, uint16_t local_port,
                               const struct sk_addr *raddr, uint16_t rport,
                               const struct sk_tcp_params *p, struct sk_tcp **out);

/* Passive open: a listener on port with room for `backlog` half-open and as many accept-ready
 * connections (clamped to max_syn_backlog). SYNs beyond the half-open room get SYN cookies or
 * evict the oldest half-open connection (sk_config.syncookies). Errors: -EADDRINUSE, -ENOMEM,
 * -EINVAL. */
SK_API int sk_tcp_listen(struct sk_stack *st, uint16_t port, int backlog, struct sk_tcp **out);

/* Takes one established connection off a listener's accept queue. -EAGAIN if none,
 * -EINVAL if l is not a listener. A connection reset (or failed otherwise) while it waited
 * stays queued and is handed out CLOSED with its error, as Linux does; it holds a place in
 * the backlog until then. */
SK_API int sk_tcp_accept(struct sk_tcp *l, struct sk_tcp **out);

/* Queues data for sending. Returns the number of bytes taken (possibly fewer than len),
 * -EAGAIN when the send buffer is full, -ENOTCONN before the handshake has started
 * (data queued in SYN-SENT/SYN-RECEIVED is sent once ESTABLISHED), -EPIPE after
 * shutdown or once the connection can no longer send, or the connection's error. The send
 * buffer is allocated by the first call that queues a byte (an idle connection holds none):
 * -ENOBUFS if the stack's max_buffer_bytes has no room for it (counted in limit_buffers) or
 * the allocator refuses (alloc_failures); nothing is queued and the connection goes on. The
 * receive buffer likewise comes with the first byte of text received; text that finds no
 * memory for it is dropped (drop reason SK_DROP_TCP_NO_MEMORY) and not acknowledged, so the
 * peer sends it again. -EBUSY while send space is reserved (sk_tcp_send_reserve). */
SK_API ssize_t sk_tcp_send(struct sk_tcp *c, const void *buf, size_t len);
/* The most buffers a vectored call takes (Linux's UIO_MAXIOV). */
#define SK_IOV_MAX 1024
/* A gather write: the buffers in order, all queued before any segment is built, so that with
 * Nagle on a short header and its body leave together (RFC 9293 §3.7.4 judges the whole
 * write, as Linux's tcp_sendmsg). Returns the bytes queued, fewer than the total when the send
 * buffer fills; 0 if the total is 0; otherwise as sk_tcp_send. Checked first, nothing queued
 * on failure: -EINVAL for iovcnt < 0 or > SK_IOV_MAX or a length above SSIZE_MAX, -EFAULT
 * for a NULL iov (iovcnt > 0) or a NULL base with a length. */
SK_API ssize_t sk_tcp_sendv(struct sk_tcp *c, const struct iovec *iov, int iovcnt);

/* Reads received, in-order data. Returns bytes read, 0 at end of stream (the peer's FIN was
 * read), -EAGAIN if nothing yet, or the connection's error (-ECONNRESET, ...); -EBUSY while
 * received bytes are lent (sk_tcp_recv_borrow). */
SK_API ssize_t sk_tcp_recv(struct sk_tcp *c, void *buf, size_t len);
/* A scatter read: the buffers are filled in order in one pass over what is readable now,
 * and the reopened window announced once. Returns as sk_tcp_recv (0 for a zero total when
 * data is waiting), after the checks of sk_tcp_sendv (nothing consumed on failure). */
SK_API ssize_t sk_tcp_recvv(struct sk_tcp *c, const struct iovec *iov, int iovcnt);

/* ---- Zero-copy receive and send (docs/api.md "Zero-copy send and receive") ----
 *
 * The application works in the connection's own rings instead of copying through a buffer of
 * its own. A ring wraps, so the bytes come as up to two spans, in stream order: span[0] first,
 * then span[1] (span[1].iov_len is 0 when nothing wrapped; both are 0 when nothing is lent).
 *
 * Receive: sk_tcp_recv_borrow lends every byte readable now, starting with the oldest not yet
 * released; sk_tcp_recv_release(c, n) gives back the first n of them, consumed as if read with
 * sk_tcp_recv (the window reopens the same way). Borrowing again before releasing lends the
 * same first bytes again (at the same addresses) plus any that arrived since, and replaces the
 * earlier loan; bytes released are never lent again.
 *
 * Send: sk_tcp_send_reserve lends up to `want` bytes of free space after the data already
 * queued; the application writes its bytes there and sk_tcp_send_commit(c, n) queues the first
 * n of them, as if sent with sk_tcp_send (segments go out from inside the call). A commit ends
 * the reservation, whatever n; so does a new reserve call, which lends afresh from the same
 * place (bytes written and not committed are not kept). A reservation may be smaller than
 * `want` and smaller than sk_tcp_writable: never more than the free space in the ring.
 *
 * What stays valid until when: lent spans (either kind) stay valid, at the same addresses,
 * until they are released or committed, or until one of these calls on the same connection:
 * the next borrow / reserve (which returns the new spans), sk_tcp_close, sk_tcp_abort; for a
 * reservation also sk_tcp_shutdown (the reservation ends: nothing of it is sent). Every other
 * call, sk_stack_input and sk_stack_poll included, leaves lent bytes where they are: a ring
 * with bytes lent is never moved, grown or freed (it is pinned), so the application may hold
 * spans across stack calls, e.g. from one readiness event to the next. Rings grow with use and
 * are freed when empty (sk_config.sndbuf_bytes): so a borrow that starts a loan first grows
 * the receive ring to its configured size (if memory allows; otherwise text that does not fit
 * while bytes are lent is not acknowledged and comes again), and a reserve grows the send ring
 * to hold the reservation if it can (else the reservation is what fits). While bytes are lent,
 * sk_tcp_recv / sk_tcp_recvv (a loan) and sk_tcp_send / sk_tcp_sendv (a reservation) return
 * -EBUSY, and sk_tcp_set_buffers returns -EBUSY for either. A reset or timeout while bytes are
 * lent does not take them away: they stay valid until released or until close.
 *
 * Errors, as sk_tcp_recv and sk_tcp_send: borrow returns the bytes lent (> 0), 0 at the end of
 * the stream (the peer's FIN reached and everything before it released), -EAGAIN when nothing
 * is readable yet, -ENOTCONN on a listener or a connection that is closed without error, or
 * the connection's error (-ECONNRESET, ...). Reserve returns the bytes lent (> 0), 0 for want
 * 0 (no reservation: any earlier one ends), -EAGAIN when the send buffer is full, -ENOTCONN
 * on a listener or a closed connection without error, -EPIPE after sk_tcp_shutdown or once
 * the connection can no longer send, the connection's error, -ENOBUFS when the send buffer
 * cannot be allocated (counted as for sk_tcp_send). Release returns 0, or -EINVAL (nothing
 * released) for n larger than what is lent. Commit returns n, -EINVAL (the reservation kept)
 * for n larger than reserved, or, when the connection can no longer send (a reset arrived, say),
 * what sk_tcp_send would return then, with nothing queued and the reservation ended. */
SK_API ssize_t sk_tcp_recv_borrow(struct sk_tcp *c, struct iovec span[2]);
SK_API int sk_tcp_recv_release(struct sk_tcp *c, size_t n);
SK_API ssize_t sk_tcp_send_reserve(struct sk_tcp *c, size_t want, struct iovec span[2]);
SK_API ssize_t sk_tcp_send_commit(struct sk_tcp *c, size_t n);

/* Copies up to len bytes of received, in-order data without consuming them (MSG_PEEK):
 * the window and the stack's state do not change. Returns what sk_tcp_recv would, short of
 * reading. */
SK_API ssize_t sk_tcp_peek(const struct sk_tcp *c, void *buf, size_t len);

/* Bytes readable now / room in the send buffer now. */
SK_API size_t sk_tcp_readable(const struct sk_tcp *c);
SK_API size_t sk_tcp_writable(const struct sk_tcp *c);

/* Half-close (RFC 9293 §3.10.4 CLOSE, "no more sends"): a FIN follows the queued data.
 * The connection can still receive. -ENOTCONN in LISTEN/CLOSED. -ENOMEM in SYN-RECEIVED
 * when the sender's state (allocated at synchronization, see sk_config.max_connections)
 * cannot be allocated (counted: alloc_failures); nothing changed. Idempotent. If both FINs
 * cross while the handle is held, the connection stays in TIME-WAIT for 2*MSL (its buffers
 * released, unread data still readable), then goes CLOSED; close() in TIME-WAIT frees the
 * handle and TIME-WAIT runs on in a 64-byte record of the stack. */
SK_API int sk_tcp_shutdown(struct sk_tcp *c);

/* Releases the handle. A connection that can still send gets a FIN after its queued data;
 * one with unread received data is reset (RFC 2525 §2.17), and so is one in SYN-RECEIVED
 * whose sender's state cannot be allocated for the FIN (as sk_tcp_shutdown's -ENOMEM). A listener resets its half-open
 * connections and those never accepted. */
SK_API void sk_tcp_close(struct sk_tcp *c);

/* RFC 9293 §3.10.5 ABORT: sends RST in synchronized states, frees the TCB and the handle.
 * In TIME-WAIT no RST goes, and TIME-WAIT ends. */
SK_API void sk_tcp_abort(struct sk_tcp *c);

SK_API enum sk_tcp_state sk_tcp_get_state(const struct sk_tcp *c);

/* The connection's error, 0 if none: -ECONNREFUSED (RST in SYN-SENT), -ECONNRESET (RST in a
 * synchronized state), -EPIPE (RST in CLOSE-WAIT, as Linux), -ETIMEDOUT (retries or user
 * timeout exhausted), -ECONNABORTED. */
SK_API int sk_tcp_error(const struct sk_tcp *c);

/* Current readiness (SK_EV_* bits). */
SK_API unsigned sk_tcp_events(const struct sk_tcp *c);

/* Called on every change of readiness, from inside the stack's entry points. The callback may
 * call sk_tcp_recv/send/accept/shutdown on this connection but must not close or abort it
 * (do that after the stack call returns). A listener's callback is inherited by accepted
 * connections. */
SK_API void sk_tcp_set_callback(struct sk_tcp *c, sk_tcp_callback cb, void *ctx);
SK_API void *sk_tcp_get_context(const struct sk_tcp *c);

/* Turns Nagle's algorithm off (true) or on. Turning it off sends what is queued at once, a
 * corked short segment included (as Linux's TCP_NODELAY). */
SK_API void sk_tcp_set_nodelay(struct sk_tcp *c, bool nodelay);
/* Linux's TCP_CORK: while set, a last segment shorter than the MSS is not sent; it waits for
 * data that fills it, a FIN, the cork's removal (which sends it), or, with nothing in flight,
 * the persist timer (one RTO: Linux's tcp_probe_timer), which sends it with PSH. Full
 * segments go as the windows allow. */
SK_API void sk_tcp_set_cork(struct sk_tcp *c, bool cork);
/* The application is waiting to write until the connection is established (a blocking send
 * on a connection still in SYN-SENT; Linux's sk_write_pending): the SYN-ACK's ACK is then not
 * sent alone but rides on that data, and waits at most the delayed-ACK timeout for it
 * (delack_max_us under Linux's ACK policy, TCP_DELACK_MAX; else delack_us): Linux's
 * tcp_rcv_synsent_state_process "Save one ACK". Clear it when the wait ends. */
SK_API void sk_tcp_set_write_pending(struct sk_tcp *c, bool pending);
/* SYN retransmissions before a connect fails (Linux's TCP_SYNCNT), from the next timeout on;
 * 0: sk_config.syn_retries. Also a connect parameter (sk_tcp_params.syn_retries). */
SK_API void sk_tcp_set_syn_retries(struct sk_tcp *c, uint8_t retries);
/* Keep-alives for this connection (RFC 9293 §3.8.4): on/off, and idle time, interval and
 * count (0 keeps the stack's value for that parameter). */
SK_API void sk_tcp_set_keepalive(struct sk_tcp *c, bool on, uint64_t idle_us, uint32_t intvl_us,
                                 uint8_t cnt);
/* RFC 9293 §3.8.3 user timeout for this connection, what it decides as for
 * sk_config.user_timeout_us; 0 restores the stack's default. A user timer already running
 * keeps its deadline (the new value applies from the next time data becomes outstanding or
 * SND.UNA advances); if no user timeout is left it stops. */
SK_API void sk_tcp_set_user_timeout(struct sk_tcp *c, uint64_t timeout_us);

/* Settings a connection needs before its first segment: the receive buffer decides the window
 * in the SYN, the MSS is announced in it. Zero (NULL) fields keep the stack's value. */
struct sk_tcp_params {
    uint32_t sndbuf_bytes;          /* send buffer; 0: sk_config.sndbuf_bytes */
    uint32_t rcvbuf_bytes;          /* receive buffer; 0: sk_config.rcvbuf_bytes */
    uint16_t mss;                   /* cap on the MSS we announce (and so send); 0: the MTU's */
    const char *congestion_control; /* "cubic", "reno" (or "newreno"); NULL: sk_config's */
    bool no_options;                /* SYNs without any option, none taken from the peer's
                                     * (FreeBSD's TCP_NOOPT): the MSS is then 536 both ways */
    uint64_t user_timeout_us;       /* as sk_tcp_set_user_timeout, in force from the SYN on
                                     * (FreeBSD's TCP_KEEPINIT bounds the handshake so) */
    uint8_t fastopen;               /* connect only: SK_FASTOPEN_* (docs/fastopen.md) */
    uint8_t syn_retries;            /* connect only: SYN retransmissions before the connect
                                     * fails (Linux's TCP_SYNCNT); 0: sk_config.syn_retries */
};
/* sk_tcp_connect and sk_tcp_listen with params (NULL: the defaults). A listener's params pass
 * to every connection it accepts. Extra error: -ENOENT for an unknown congestion control. */
SK_API int sk_tcp_connect_with(struct sk_stack *st, uint16_t local_port, uint32_t raddr,
                               uint16_t rport, const struct sk_tcp_params *p,
                               struct sk_tcp **out);
SK_API int sk_tcp_listen_with(struct sk_stack *st, uint16_t port, int backlog,
                              const struct sk_tcp_params *p, struct sk_tcp **out);
/* Changes the buffer sizes (0 keeps one), taken as given: no per-socket maximum applies here
 * (the socket layer's SO_SNDBUF / SO_RCVBUF clamp, see stack.h max_sndbuf_bytes). On a
 * listener: for connections it accepts from now on. On a connection a buffer not yet allocated
 * only takes the new size; one in use is reallocated now, never below what it holds, and the
 * receive buffer never below the window already offered (RFC 9293 §3.8.6.2.1: the window does
 * not shrink). Returns 0, -ENOMEM (buffer limit, when reallocating; nothing changes), -EBUSY
 * while zero-copy spans are lent (nothing changes). */
SK_API int sk_tcp_set_buffers(struct sk_tcp *c, uint32_t sndbuf_bytes, uint32_t rcvbuf_bytes);
/* Switches this connection's (or listener's) congestion control module ("cubic", "reno" or
 * its old name "newreno"); cwnd and ssthresh are kept, the new module starts a new epoch.
 * -ENOENT for an unknown name. */
SK_API int sk_tcp_set_congestion(struct sk_tcp *c, const char *name);
/* TCP_MAXSEG on a listener: the MSS cap (RFC 9293 §3.7.1: announced, and the most sent) of
 * the connections it opens from now on, as Linux's listener passes its user_mss to each SYN
 * it answers; 0 removes it; values under 64 are taken as 64. -EINVAL if l is not a listener. */
SK_API int sk_tcp_set_maxseg(struct sk_tcp *l, uint16_t mss);
/* The name of the connection's congestion control module: "cubic" or "reno". */
SK_API const char *sk_tcp_get_congestion(const struct sk_tcp *c);
/* The buffer sizes in effect (or that a listener passes on). */
SK_API void sk_tcp_get_buffers(const struct sk_tcp *c, uint32_t *sndbuf_bytes,
                               uint32_t *rcvbuf_bytes);

/* ---- Socket-level limits: low-water marks, queue sizes, records ----
 * (docs/api.md "Low-water marks, queue sizes and records"; Linux's TCP_NOTSENT_LOWAT,
 * SO_RCVLOWAT, SIOCINQ/SIOCOUTQ/SIOCOUTQNSD, TCP_INQ and MSG_EOR) */

/* Flags of sk_tcp_send_flags / sk_tcp_sendv_flags. */
#define SK_TCP_SEND_EOR 0x1 /* end of record (MSG_EOR): if the call queues all its bytes, they
                             * end a record, and no segment ever carries bytes from both sides
                             * of its end, first transmission or retransmission; the segment
                             * that ends a record carries PSH. A call that queues only part
                             * marks nothing (as Linux). */
#define SK_TCP_SEND_MORE 0x2 /* Linux's MSG_MORE: the output this call starts holds a short
                              * last segment back (more data will follow), and the data ends
                              * without PSH; output started later (an ACK, a timer, a send
                              * without it) sends it as Nagle and the cork allow. */
/* sk_tcp_send / sk_tcp_sendv with flags; another flag bit is -EINVAL. Extra error: -ENOBUFS
 * when the record end finds no memory (nothing is queued). */
SK_API ssize_t sk_tcp_send_flags(struct sk_tcp *c, const void *buf, size_t len, unsigned flags);
SK_API ssize_t sk_tcp_sendv_flags(struct sk_tcp *c, const struct iovec *iov, int iovcnt,
                                  unsigned flags);
/* TCP_NOTSENT_LOWAT: the connection (or a listener, for the connections it accepts) takes data
 * to send only while fewer than `bytes` queued bytes are unsent (checked before each new chunk
 * of queued data: sk_config.notsent_lowat says how), and is SK_EV_WRITABLE only while twice
 * its unsent bytes are below it. 0 restores the stack's default (sk_config.notsent_lowat).
 * Returns 0 or -ENOMEM (nothing changed). Readiness is recomputed at once. */
SK_API int sk_tcp_set_notsent_lowat(struct sk_tcp *c, uint32_t bytes);
/* The value set, 0 if none (Linux's getsockopt reads 0 then too). */
SK_API uint32_t sk_tcp_get_notsent_lowat(const struct sk_tcp *c);
/* SO_RCVLOWAT: the connection is SK_EV_READABLE only once `bytes` are readable (or the peer's
 * FIN or an error came); 0 means 1. The mark in force never exceeds the receive buffer, so a
 * full buffer is always readable. sk_tcp_recv still returns whatever is there. 0 or -ENOMEM. */
SK_API int sk_tcp_set_rcvlowat(struct sk_tcp *c, uint32_t bytes);
/* The value set, 1 if none. */
SK_API uint32_t sk_tcp_get_rcvlowat(const struct sk_tcp *c);
/* SIOCINQ: bytes readable now (the FIN not counted); 0 while the handshake runs. */
SK_API size_t sk_tcp_inq(const struct sk_tcp *c);
/* TCP_INQ's hint (Linux's tcp_inq_hint, the TCP_CM_INQ control message): the bytes readable,
 * plus 1 once the peer's FIN is in (or the connection has ended), so that a reader that sees
 * 0 knows nothing more is readable, and one that sees 1 after the data reads end of stream. */
SK_API size_t sk_tcp_inq_hint(const struct sk_tcp *c);
/* SIOCOUTQ: bytes queued and not yet acknowledged (our FIN counts as one); SIOCOUTQNSD:
 * bytes queued and never sent. Both 0 while the handshake runs, as Linux. */
SK_API size_t sk_tcp_outq(const struct sk_tcp *c);
SK_API size_t sk_tcp_outq_nsd(const struct sk_tcp *c);

/* A snapshot of the TCB, for tests, tools and the curious. */
struct sk_tcp_info {
    enum sk_tcp_state state;
    uint32_t laddr, raddr;      /* IPv4 (host order); 0 on an IPv6 connection */
    uint16_t lport, rport;
    uint32_t iss, irs;
    uint32_t snd_una, snd_nxt, snd_wnd, snd_wl1, snd_wl2;
    uint32_t rcv_nxt, rcv_wnd;
    uint16_t snd_mss, rcv_mss;
    uint8_t snd_wscale, rcv_wscale;
    bool sack_ok, ts_ok;
    uint32_t rto_us, srtt_us, rttvar_us;
    uint32_t cwnd, ssthresh;
    uint32_t retransmits;       /* consecutive, for the current timer backoff */
    uint64_t total_retransmits;
    uint64_t bytes_sent, bytes_acked, bytes_received;
    uint32_t sndbuf_used, rcvbuf_used;
    int error;
    uint64_t conn_id;
    /* Ranges held: the SACK scoreboard (at most SK_SB_MAX, 32) and the out-of-order data
     * (at most 16); sack_work: scoreboard entries visited by every operation so far, the work
     * SACK processing has cost (tests bound it per ACK). */
    uint8_t sack_ranges, ooo_ranges;
    uint64_t sack_work;

    /* Loss detection and recovery (src/tcp/tcp_recovery.c, tcp_rack.c), in segments of
     * snd_mss as Linux's tcp_info counts them. ca_state: enum sk_ca_state. lost: segments now
     * marked lost and not yet retransmitted or acknowledged; sacked: segments SACKed above
     * SND.UNA; retrans_out: retransmitted segments still unacknowledged; unacked: segments in
     * SND.UNA..SND.NXT; delivered: segments delivered (cumulatively or by SACK) since the
     * start, our acknowledged SYN counted as one with any data it carried; reordering: the reordering degree RFC 6675's DupThresh uses (3, raised when
     * reordering is seen); reord_seen: reorderings detected; min_rtt_us: the least RTT sample
     * (RACK's RTT filter, RFC 8985 §6.2); rack_reo_wnd_us: RACK's reordering window now. */
    uint8_t ca_state;
    uint32_t lost, sacked, retrans_out, unacked, reordering, reord_seen;
    uint64_t delivered;
    uint32_t min_rtt_us, rack_reo_wnd_us;

    /* Where the sender's time went, in microseconds (src/tcp/tcp_chrono.c; Linux's
     * tcpi_busy_time, tcpi_rwnd_limited, tcpi_sndbuf_limited): busy_us, time with data
     * unacknowledged or waiting to be sent; of it, rwnd_limited_us while the next new segment
     * fitted cwnd but not the peer's window, and sndbuf_limited_us from a send that found the
     * buffer full until a third of it was free again. last_data_recv_us: since in-order data
     * last arrived (or the connection was synchronized; Linux's tcpi_last_data_recv).
     * probes: zero-window probes sent and not answered (tcpi_probes). rcv_mss_seen: the
     * largest in-order segment received, at most the MSS we announced; 536 (or the announced
     * MSS if smaller) before any (Linux's icsk_ack.rcv_mss, tcpi_rcv_mss). */
    uint64_t busy_us, rwnd_limited_us, sndbuf_limited_us, last_data_recv_us;
    uint32_t probes;
    uint16_t rcv_mss_seen;
    /* Packetization-layer path MTU discovery (src/tcp/tcp_plpmtu.c, RFC 4821, RFC 8899), in
     * packet sizes (IP and TCP headers, options, payload). plpmtu_state: enum sk_plpmtu_state;
     * plpmtu: the size in use (snd_mss plus headers); search_low / search_high: the range
     * still open (RFC 4821 §7.1); plpmtu_probe: the size of the probe in flight, 0 if none;
     * probes_sent / probes_lost: probes so far and those lost (not counted as congestion). */
    uint8_t plpmtu_state;
    uint16_t plpmtu, plpmtu_search_low, plpmtu_search_high, plpmtu_probe;
    uint32_t plpmtu_probes_sent, plpmtu_probes_lost;
};

/* RFC 8899 §5.2's states, as they apply to TCP (src/tcp/tcp_plpmtu.c). */
enum sk_plpmtu_state {
    SK_PLPMTU_DISABLED = 0,   /* not searching: sk_config.plpmtud off, or mode 1 before a
                               * black hole */
    SK_PLPMTU_BASE = 1,       /* a black hole took the size down to the base; confirming it */
    SK_PLPMTU_SEARCHING = 2,  /* probing sizes between search_low and search_high */
    SK_PLPMTU_SEARCH_COMPLETE = 3, /* done until plpmtu_probe_interval_us has passed */
    SK_PLPMTU_ERROR = 4,      /* even the base size was black-holed: below it */
};

/* The sender's congestion-avoidance state, named as Linux's tcp_info reports it. */
enum sk_ca_state {
    SK_CA_OPEN = 0,     /* nothing outstanding is in doubt */
    SK_CA_DISORDER = 1, /* SACKs or duplicate ACKs seen, not yet in recovery */
    SK_CA_CWR = 2,      /* cwnd reduced for ECN (RFC 3168 §6.1.2) */
    SK_CA_RECOVERY = 3, /* fast recovery (RFC 6675 / RACK), cwnd by PRR (RFC 6937) */
    SK_CA_LOSS = 4,     /* after a retransmission timeout */
};
SK_API void sk_tcp_get_info(const struct sk_tcp *c, struct sk_tcp_info *out);
/* The connection's addresses, of either family (an IPv4 connection's IPv4-mapped,
 * synack/addr.h); sk_tcp_info keeps its IPv4-only fields so that its size does not change.
 * Either pointer may be NULL. */
SK_API void sk_tcp_get_addrs(const struct sk_tcp *c, struct sk_addr *local, struct sk_addr *remote);

/* ---- TCP Fast Open (RFC 7413; docs/fastopen.md) ----
 *
 * Client: an active open with sk_tcp_params.fastopen set sends its first SYN with the Fast Open
 * option (sk_config.tfo must have SK_TFO_CLIENT): the server's cookie, cached from an earlier
 * connection, and as much queued data as fits (the MSS less 40 bytes of option room, the MSS
 * being the server's as cached, else ours); without a cookie, an empty option asks for one and
 * the data waits for the handshake (SK_TFO_CLIENT_NO_COOKIE: data without any option).
 * SK_FASTOPEN_DEFER (Linux's TCP_FASTOPEN_CONNECT): when a cookie is known, the SYN waits
 * for the first sk_tcp_send (or sk_tcp_shutdown / sk_tcp_close) so that it carries that data;
 * sk_tcp_connect* returns at once with the connection in SYN-SENT and nothing sent; that first
 * send takes only what the SYN carries (as Linux's), later ones queue for after the handshake.
 * A SYN-ACK
 * that acknowledges only the SYN has the data sent again right after the handshake (RFC 7413
 * §4.2.2); a SYN that times out goes again without data or option (§4.2.1 middleboxes), and
 * a server behind which that happened twice gets plain SYNs for a while
 * (sk_config.tfo_syn_loss_backoff_us).
 * Server: a listener with a Fast Open queue (sk_tcp_set_fastopen, or SK_TFO_SERVER_ALL) answers
 * a SYN carrying the option: a request (or a cookie that does not verify) gets the cookie in
 * the SYN-ACK and only the SYN acknowledged; a valid cookie has the SYN's data taken at once:
 * the child is acceptable and readable in SYN-RECEIVED, the SYN-ACK acknowledges the data, and
 * the child may send before the handshake's last ACK (§4.2.2). Cookie = SipHash-2-4 over the
 * client's then the server's IP address (4 + 4 or 16 + 16 bytes), 8 bytes, under
 * sk_config.tfo_key or the stack's own Fast Open key (the same value Linux computes from the
 * same key). */
#define SK_FASTOPEN_CONNECT 1 /* the SYN carries the option (and data, with a cookie) */
#define SK_FASTOPEN_DEFER 2   /* as CONNECT, and the SYN waits for the first data */

/* Active open with data in the SYN (Linux's sendto with MSG_FASTOPEN): sk_tcp_connect_addr with
 * p's fastopen forced to SK_FASTOPEN_DEFER, after queueing the part of buf the SYN can
 * carry (none without a usable cookie). *queued (may be NULL) gets the bytes taken; the rest
 * is the caller's to send with sk_tcp_send (which queues it for after the handshake). Errors
 * as sk_tcp_connect_addr; -EOPNOTSUPP when sk_config.tfo lacks SK_TFO_CLIENT. */
SK_API int sk_tcp_connect_data(struct sk_stack *st, uint16_t local_port,
                               const struct sk_addr *raddr, uint16_t rport,
                               const struct sk_tcp_params *p, const void *buf, size_t len,
                               size_t *queued, struct sk_tcp **out);

/* A listener's Fast Open queue (Linux's TCP_FASTOPEN qlen): the most children whose SYN data
 * was taken and that are not yet acknowledged nor accepted; beyond it a SYN's data is left for
 * the client to send again (only the SYN is acknowledged). 0 turns Fast Open off on l.
 * -EINVAL if l is not a listener or qlen < 0. */
SK_API int sk_tcp_set_fastopen(struct sk_tcp *l, int qlen);

/* A listener's own cookie key (Linux's TCP_FASTOPEN_KEY): its 16 bytes are the SipHash key
 * as given; key NULL goes back to sk_config's. -EINVAL if l is not a listener. */
SK_API int sk_tcp_set_fastopen_key(struct sk_tcp *l, const uint8_t key[16]);

/* Forgets what the client side cached about server (its cookie, MSS and SYN losses), or about
 * every server when server is NULL (Linux's `ip tcp_metrics flush`): the next Fast Open
 * connection there asks for a cookie again. */
SK_API void sk_tcp_fastopen_forget(struct sk_stack *st, const struct sk_addr *server);

/* What Fast Open did on a connection (SK_TCP_FO_* bits). */
#define SK_TCP_FO_SYN_DATA 0x1 /* client: our SYN's data was acknowledged by the SYN-ACK;
                                * server: the SYN's data was taken (Linux's tcpi_options
                                * TCPI_OPT_SYN_DATA) */
#define SK_TCP_FO_REQUESTED 0x2 /* client: our first SYN carried the option */
#define SK_TCP_FO_DEFERRED 0x4  /* client: the SYN waits for data (SK_FASTOPEN_DEFER) */
#define SK_TCP_FO_PASSIVE 0x8   /* server: the connection was opened by a Fast Open SYN whose
                                 * data was taken */
SK_API unsigned sk_tcp_fastopen_status(const struct sk_tcp *c);

#ifdef __cplusplus
}
#endif
#endif
