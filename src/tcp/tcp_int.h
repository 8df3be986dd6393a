/* Private interface between the TCP files: tcp_conn.c (TCBs, tables, user calls),
 * tcp_input.c (segment arrival), tcp_output.c (segment departure), tcp_timer.c (timers, RTO),
 * tcp_ring.c (buffers). */
#ifndef SK_TCP_INT_H
#define SK_TCP_INT_H

#include "internal.h"

/* tcp_conn.c */
struct sk_tcp *sk_tcb_new(struct sk_stack *st);
void sk_tcb_destroy(struct sk_tcp *c);
int sk_tcb_hash_insert(struct sk_tcp *c);
void sk_tcb_hash_remove(struct sk_tcp *c);
struct sk_tcp *sk_tcb_lookup(struct sk_stack *st, uint32_t laddr, uint16_t lport,
                             uint32_t raddr, uint16_t rport);
struct sk_tcp *sk_listener_lookup(struct sk_stack *st, uint16_t lport);
/* The one place a state changes (traced, counted, notified). */
void sk_tcp_set_state(struct sk_tcp *c, enum sk_tcp_state s);
/* The connection ends: error (negative errno or 0) recorded, CLOSED, off the tables; freed once
 * the application no longer holds it. */
void sk_tcp_terminate(struct sk_tcp *c, int err);
/* Tells the application what changed. */
void sk_tcp_notify(struct sk_tcp *c);
uint32_t sk_tcp_isn(struct sk_stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr,
                    uint16_t rport);
/* Bytes to allocate for the receive ring: the buffer plus room for the bytes a rounded-up
 * scaled window may promise beyond it (sk_tcp_rcv_window). */
static inline uint32_t sk_rcv_ring_bytes(const struct sk_tcp *c, uint32_t rcvbuf)
{
    return rcvbuf + (c->st->cfg.opt_wscale ? (1u << c->st->cfg.wscale) : 0);
}
/* Allocates the send and receive rings on first need. 0 or -ENOMEM. */
int sk_tcb_buffers(struct sk_tcp *c);
/* Sets ISS and the send sequence variables of a new TCB (RFC 9293 §3.4.1). */
void sk_tcp_init_send(struct sk_tcp *c, uint32_t iss);
/* RFC 7323 §5.4: the TSval offset for an address pair (the same for every connection). */
uint32_t sk_tcp_ts_offset(const struct sk_stack *st, uint32_t laddr, uint32_t raddr);
/* A passive child takes its listener's buffer sizes, congestion control and MSS cap. */
void sk_tcb_inherit(struct sk_tcp *c, const struct sk_tcp *l);
/* A new half-open child of listener l. */
void sk_tcp_synq_add(struct sk_tcp *l, struct sk_tcp *c);
/* A passive child reached ESTABLISHED: queue it for accept(). */
void sk_tcp_child_established(struct sk_tcp *c);

/* tcp_output.c */
void sk_tcp_output(struct sk_tcp *c);
void sk_tcp_send_ack(struct sk_tcp *c);
/* <SEQ=seq><CTL=flags> on this connection's 4-tuple, no data. */
void sk_tcp_send_ctl(struct sk_tcp *c, uint32_t seq, uint32_t ack, uint8_t flags);
/* RST for a segment that found no TCB (RFC 9293 §3.10.7.1). */
void sk_tcp_send_rst_for(struct sk_stack *st, const struct sk_ipv4_hdr *ip,
                         const struct sk_tcp_hdr *seg);
/* Retransmits from SND.UNA after a timeout or fast retransmit. */
void sk_tcp_retransmit(struct sk_tcp *c);
/* The receive window we can offer now, in bytes (unscaled). */
uint32_t sk_tcp_rcv_window(const struct sk_tcp *c);
uint32_t sk_tcp_ts_now(const struct sk_tcp *c);
/* Reports a segment sent or received to the trace callback. */
void sk_tcp_trace_seg(struct sk_stack *st, enum sk_trace_kind kind, const struct sk_tcp *c,
                      uint32_t saddr, uint32_t daddr, const struct sk_tcp_hdr *h,
                      const uint8_t *frame, size_t frame_len);

/* Sends one segment at seq: up to max_len bytes of queued data and, at the end of the
 * queue, the FIN. Returns the sequence space used (0: nothing to send there). */
uint32_t sk_tcp_send_at(struct sk_tcp *c, uint32_t seq, uint32_t max_len);

/* tcp_recovery.c */
void sk_tcp_ack_process(struct sk_tcp *c, const struct sk_tcp_hdr *h, bool pure, bool wnd_same);
void sk_tcp_on_timeout_recovery(struct sk_tcp *c);
void sk_tcp_count_retransmit(struct sk_tcp *c);
/* RFC 8985 §7: arm the probe timeout after sending, and send the probe when it fires. */
void sk_tcp_tlp_arm(struct sk_tcp *c);
void sk_tcp_tlp_fire(struct sk_tcp *c);
uint32_t sk_tcp_pipe(const struct sk_tcp *c);
/* The first sequence number at or above seq that the peer has not SACKed. */
uint32_t sk_tcp_sack_skip(const struct sk_tcp *c, uint32_t seq);

/* tcp_timer.c */
void sk_tcp_timer_set(struct sk_tcp *c, enum sk_timer_kind k, uint64_t delay_us);
void sk_tcp_timer_stop(struct sk_tcp *c, enum sk_timer_kind k);
static inline bool sk_tcp_timer_on(const struct sk_tcp *c, enum sk_timer_kind k)
{
    return c->timer[k] != SK_TIME_NEVER;
}
/* (Re)arms the keep-alive timer from the last segment received, if keep-alives are on. */
void sk_tcp_keepalive_arm(struct sk_tcp *c);
/* SYN-RECEIVED: the SYN,ACK goes again in answer to a segment (a repeated SYN), and counts as
 * one of its retransmissions, backing the timer off; without retries left it is sent without
 * touching the timer. Either way the half-open TCB ends within its retry limit. */
void sk_tcp_resend_synack(struct sk_tcp *c);
/* RFC 6298 §2: a new RTT measurement. */
void sk_tcp_rtt_sample(struct sk_tcp *c, uint32_t rtt_us);
int sk_timer_update(struct sk_tcp *c);
void sk_timer_remove(struct sk_tcp *c);

/* tcp_ring.c */
int sk_ring_alloc(struct sk_stack *st, struct sk_ring *r, uint32_t size);
void sk_ring_free(struct sk_stack *st, struct sk_ring *r);
/* Appends up to len bytes; returns bytes taken. */
uint32_t sk_ring_append(struct sk_ring *r, const uint8_t *p, uint32_t len);
/* Copies len bytes starting off bytes after head (off+len <= size) into dst. */
void sk_ring_peek(const struct sk_ring *r, uint32_t off, uint8_t *dst, uint32_t len);
/* Writes len bytes at off bytes after head without changing len (out-of-order data). */
void sk_ring_write_at(struct sk_ring *r, uint32_t off, const uint8_t *p, uint32_t len);
void sk_ring_consume(struct sk_ring *r, uint32_t len);
/* Moves the first `keep` bytes after from's head (held and out-of-order) into the empty ring
 * `to`, frees from's memory and makes `from` the new ring. */
void sk_ring_move(struct sk_stack *st, struct sk_ring *from, struct sk_ring *to, uint32_t keep);
static inline uint32_t sk_ring_free_space(const struct sk_ring *r) { return r->size - r->len; }

#endif
