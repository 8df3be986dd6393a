/* The data-path scenarios' names for the scenario fixture (tests/support/fixture.h), kept for
 * the files written against them: an active open with a chosen RTT and SYN,ACK options, the
 * stream, the peer's SACK blocks and the stack's. New tests use fixture.h directly. */
#ifndef SK_TEST_DATAPATH_H
#define SK_TEST_DATAPATH_H

#include "fixture.h"

#define IRS FX_IRS /* the scripted peer's ISN */
#define MSS FX_MSS /* the peer's MSS, and ours on a 1500-byte MTU */

/* Options the scripted peer puts in its SYN,ACK (isn, mss and rtt_us are set here). */
#define peer_opts fx_peer

/* Active open from the raw stack: SYN at the current time, the peer's SYN,ACK (ISN IRS, MSS
 * MSS) rtt_us later, then the stack's ACK. The RTT sample of the handshake is exactly rtt_us. */
static inline struct sk_tcp *dp_connect(struct raw *r, sk_time_us rtt_us,
                                        const struct fx_peer *po, uint32_t *iss)
{
    struct fx_peer p = po ? *po : (struct fx_peer){0};
    p.isn = IRS;
    p.mss = MSS;
    p.rtt_us = rtt_us;
    struct fx f = fx_connect_on(r, &p);
    if (iss)
        *iss = f.iss;
    return f.c;
}

/* The peer acknowledges `ack` with SACK blocks (no timestamps). */
static inline void dp_sack(struct raw *r, uint32_t ack, const uint32_t (*blocks)[2],
                           size_t nblocks)
{
    uint8_t o[40];
    size_t n = fx_opts(o, false, 0, 0, blocks, nblocks);
    raw_send(r, .flags = ACK, .seq = IRS + 1, .ack = ack, .raw_opts = n ? o : NULL,
             .raw_opts_len = n);
}

/* The peer sends its stream bytes [off, off + len) (from IRS + 1), acknowledging iss + 1. */
static inline void dp_peer_data(struct raw *r, uint32_t iss, uint32_t off, uint32_t len)
{
    uint8_t buf[1500];
    fx_fill(buf, off, len);
    raw_send(r, .flags = ACK | PSH, .seq = IRS + 1 + off, .ack = iss + 1, .data = buf,
             .len = len);
}

#define dp_opts fx_opts
#define dp_out_seg fx_out_seg
#define dp_expect_sack fx_expect_sack
#define dp_expect_no_sack fx_expect_no_sack
#define dp_expect_data fx_expect_data
#define dp_expect_data_ fx_expect_data_
#define dp_byte fx_byte
#define dp_fill fx_fill
#define dp_send fx_send

#endif
