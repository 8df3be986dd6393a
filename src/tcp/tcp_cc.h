/* Congestion control modules (RFC 5681 NewReno, RFC 9438 CUBIC).
 *
 * A module decides how cwnd grows on new acknowledgments and where ssthresh falls on a
 * congestion event. Loss detection and recovery (RFC 6675, RFC 6582) are not its business:
 * tcp_recovery.c calls these hooks at the right moments. */
#ifndef SK_TCP_CC_H
#define SK_TCP_CC_H

#include "internal.h"

/* The largest cwnd (and ssthresh) in bytes. No peer can offer a larger window (RFC 7323 §2.3:
 * 65535 << 14 < 2^30), so a larger cwnd could never be used; every cwnd a module writes is
 * clamped here, which also keeps SND.UNA + cwnd meaningful in the 2^31 sequence-space
 * comparisons and far from uint32_t overflow. */
#define SK_CWND_MAX (1u << 30)

struct sk_cc_ops {
    const char *name;
    /* The connection became ESTABLISHED: cwnd is the initial window. */
    void (*init)(struct sk_tcp *c);
    /* `acked` bytes of new data were acknowledged outside loss recovery, and the flow was
     * cwnd-limited (RFC 7661 §4.3: the caller does not grow a window the flow does not use). */
    void (*on_ack)(struct sk_tcp *c, uint32_t acked);
    /* A congestion event (fast retransmit, ECN-Echo, a TLP-repaired loss): set ssthresh
     * (cwnd follows from the recovery algorithm). */
    void (*on_loss)(struct sk_tcp *c);
    /* Every retransmission timeout, c->retries counting this one (1 on the first): set
     * ssthresh on the first only (RFC 5681 §3.1: held while the same segment is retransmitted
     * again); the caller then sets cwnd to one segment. */
    void (*on_rto)(struct sk_tcp *c);
    /* Recovery ended with everything up to the recovery point acknowledged. */
    void (*on_recovery_end)(struct sk_tcp *c);
};

extern const struct sk_cc_ops sk_cc_newreno;
extern const struct sk_cc_ops sk_cc_cubic;

/* The module for a name ("reno", "cubic"; "newreno" is an old name of "reno"), NULL if
 * unknown. */
const struct sk_cc_ops *sk_cc_find(const char *name);

/* RFC 6928 §2 initial window: shared by every module (cc_newreno.c). */
uint32_t sk_cc_iw(const struct sk_tcp *c);
void sk_cc_initial_window(struct sk_tcp *c);

/* cc_slowstart.c (congestion control, cc helper): RFC 5681 slow start with RFC 3465 byte
 * counting (L = sk_config.ss_abc_limit), cwnd validation (RFC 7661 or Linux's), and CUBIC's
 * slow-start exit (RFC 9406 HyStart++ or Linux's HyStart; sk_config.hystart). */
void sk_cc_slow_start(struct sk_tcp *c, uint32_t acked);
/* Every ACK of `acked` new bytes outside loss recovery (`flight`: FlightSize before it; ece:
 * it carried ECN-Echo): RTT sample and slow-start exit, then c->cc->on_ack if the flow uses
 * its cwnd. */
void sk_cc_ack(struct sk_tcp *c, uint32_t flight, uint32_t acked, bool ece);
/* After each sk_tcp_output pass: SND.MAX before it, and whether data was waiting. */
void sk_cc_on_output(struct sk_tcp *c, uint32_t snd_max_before, bool had_unsent);
/* The slow-start exit's state at the start of a connection (from sk_cc_initial_window), and
 * after a congestion event (timeout: a retransmission timeout). */
void sk_cc_hystart_init(struct sk_tcp *c);
void sk_cc_hystart_release(struct sk_tcp *c); /* frees x->hs (at the TCB's end) */
void sk_cc_hystart_event(struct sk_tcp *c, bool timeout);

/* cc_cubic_linux.c: CUBIC's congestion avoidance with Linux's arithmetic
 * (sk_config.cubic_linux), called by cc_cubic.c in place of RFC 9438's equations; tx_start
 * on every send of new data (idle: nothing was in flight). */
void sk_cc_lcubic_reset(struct sk_tcp *c);
void sk_cc_lcubic_on_ack(struct sk_tcp *c, uint32_t acked_bytes);
void sk_cc_lcubic_on_loss(struct sk_tcp *c);
void sk_cc_lcubic_on_rto(struct sk_tcp *c);
void sk_cc_lcubic_tx_start(struct sk_tcp *c, bool idle);
/* RFC 5681 §3.1 equation (4): ssthresh = max(FlightSize / 2, 2*SMSS). */
uint32_t sk_cc_half_flight(const struct sk_tcp *c);
/* A window in bytes, computed wider, brought into [0, SK_CWND_MAX]. */
static inline uint32_t sk_cc_clamp(uint64_t bytes)
{
    return bytes < SK_CWND_MAX ? (uint32_t)bytes : SK_CWND_MAX;
}

#endif
