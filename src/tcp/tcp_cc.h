/* Congestion control modules (RFC 5681 NewReno, RFC 9438 CUBIC).
 *
 * A module decides how cwnd grows on new acknowledgments and where ssthresh falls on a
 * congestion event. Loss detection and recovery (RFC 6675, RFC 6582) are not its business:
 * tcp_recovery.c calls these hooks at the right moments. */
#ifndef SK_TCP_CC_H
#define SK_TCP_CC_H

#include "internal.h"

struct sk_cc_ops {
    const char *name;
    /* The connection became ESTABLISHED: cwnd is the initial window. */
    void (*init)(struct sk_tcp *c);
    /* `acked` bytes of new data were acknowledged outside loss recovery. */
    void (*on_ack)(struct sk_tcp *c, uint32_t acked);
    /* Fast retransmit: set ssthresh (cwnd follows from the recovery algorithm). */
    void (*on_loss)(struct sk_tcp *c);
    /* Retransmission timeout: set ssthresh; cwnd becomes one segment. */
    void (*on_rto)(struct sk_tcp *c);
    /* Recovery ended with everything up to the recovery point acknowledged. */
    void (*on_recovery_end)(struct sk_tcp *c);
};

extern const struct sk_cc_ops sk_cc_newreno;
extern const struct sk_cc_ops sk_cc_cubic;

/* The module for a name ("newreno", "cubic"), NULL if unknown. */
const struct sk_cc_ops *sk_cc_find(const char *name);

/* RFC 6928 §2 initial window, RFC 5681 slow start with RFC 3465 ABC (L = 2*SMSS): shared by
 * every module. */
uint32_t sk_cc_iw(const struct sk_tcp *c);
void sk_cc_initial_window(struct sk_tcp *c);
void sk_cc_slow_start(struct sk_tcp *c, uint32_t acked);
/* RFC 5681 §3.1 equation (4): ssthresh = max(FlightSize / 2, 2*SMSS). */
uint32_t sk_cc_half_flight(const struct sk_tcp *c);

#endif
