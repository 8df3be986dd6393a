/* Reference SYN cookie (RFC 4987 §3.6), computed without the library from the layout that
 * src/tcp/tcp_listen.c documents at its top:
 *
 *   t     the cookie clock: now_us / 64 s, modulo 2^32
 *   mssi  index of the largest entry of REF_COOKIE_MSS not above the peer's MSS (536 when the
 *         SYN has no MSS option; 0 below the table)
 *   opt   0 without timestamps; else 0x40 | ECN << 5 | SACK-permitted << 4 | the peer's window
 *         shift (15: no window scaling)
 *   F     SipHash-2-4 under the cookie key of the uint32_t array
 *         {laddr, raddr, lport << 16 | rport, IRS, t, mssi | opt << 3} (host order, 24 bytes)
 *   ISS   (t mod 4) << 30 | mssi << 27 | (F mod 2^27)
 *   TSval our timestamp clock (now_us / 1000 plus the RFC 7323 §5.4 offset of the address
 *         pair, ref_ts_offset) with its low 6 bits replaced by opt's, less 64 if that put it
 *         ahead of the clock
 *
 * IPv6: F is over the two 16-byte addresses (laddr then raddr, network order) followed by the
 * uint32_t array {lport << 16 | rport, IRS, t, mssi | opt << 3}: 48 bytes (ref_cookie_iss6).
 *
 * The cookie key is the stack's key for purpose SK_KEY_COOKIE, derived from the test's secret
 * as ref_isn.h says (ref_purpose_key). Header-only. */
#ifndef SK_TEST_REF_COOKIE_H
#define SK_TEST_REF_COOKIE_H

#include "ref_isn.h"

#define REF_COOKIE_PERIOD_US 64000000ull

/* The MSS values a cookie can carry, in the order of their index. */
static const uint16_t REF_COOKIE_MSS[8] = {64, 536, 1200, 1300, 1380, 1440, 1452, 1460};

/* mssi for a SYN that announced `mss` (0: no MSS option). */
static inline uint32_t ref_cookie_mssi(uint32_t mss)
{
    uint32_t peer = mss ? mss : 536;
    uint32_t best = 0;
    for (uint32_t i = 0; i < 8; i++)
        if (REF_COOKIE_MSS[i] <= peer)
            best = i;
    return best;
}

/* opt for a SYN whose options the stack takes: ts (timestamps both ways), wscale (the peer's
 * shift, or -1 for none), sack, ecn. */
static inline uint32_t ref_cookie_opt(bool ts, int wscale, bool sack, bool ecn)
{
    if (!ts)
        return 0;
    return 0x40u | (ecn ? 0x20u : 0) | (sack ? 0x10u : 0) |
           (wscale < 0 ? 15u : (uint32_t)(wscale > 14 ? 14 : wscale));
}

/* The TSval of the SYN,ACK answering with a cookie at now_us from laddr to raddr. */
static inline uint32_t ref_cookie_tsval(const struct ref_key *secret, uint32_t laddr,
                                        uint32_t raddr, uint64_t now_us, uint32_t opt)
{
    uint32_t clock = (uint32_t)(now_us / 1000) + ref_ts_offset(secret, laddr, raddr);
    uint32_t v = (clock & ~0x3fu) | (opt & 0x3fu);
    return (int32_t)(v - clock) > 0 ? v - 64 : v;
}

/* The ISS of the SYN,ACK a stack holding `secret` answers at now_us to a SYN from
 * raddr:rport to laddr:lport with ISN irs. */
static inline uint32_t ref_cookie_iss(const struct ref_key *secret, uint32_t laddr,
                                      uint16_t lport, uint32_t raddr, uint16_t rport,
                                      uint32_t irs, uint64_t now_us, uint32_t mssi, uint32_t opt)
{
    uint8_t key[16];
    ref_purpose_key(secret, REF_KEY_COOKIE, key);
    uint32_t t = (uint32_t)(now_us / REF_COOKIE_PERIOD_US);
    uint32_t words[6] = {laddr, raddr, ((uint32_t)lport << 16) | rport, irs, t, mssi | opt << 3};
    uint8_t msg[24];
    memcpy(msg, words, sizeof(msg));
    uint32_t f = (uint32_t)ref_siphash24(key, msg, sizeof(msg));
    return (t & 3u) << 30 | mssi << 27 | (f & 0x07ffffffu);
}

/* ref_cookie_iss over IPv6. */
static inline uint32_t ref_cookie_iss6(const struct ref_key *secret, const uint8_t laddr[16],
                                       uint16_t lport, const uint8_t raddr[16], uint16_t rport,
                                       uint32_t irs, uint64_t now_us, uint32_t mssi, uint32_t opt)
{
    uint8_t key[16], msg[48];
    ref_purpose_key(secret, REF_KEY_COOKIE, key);
    uint32_t t = (uint32_t)(now_us / REF_COOKIE_PERIOD_US);
    uint32_t words[4] = {((uint32_t)lport << 16) | rport, irs, t, mssi | opt << 3};
    memcpy(msg, laddr, 16);
    memcpy(msg + 16, raddr, 16);
    memcpy(msg + 32, words, 16);
    uint32_t f = (uint32_t)ref_siphash24(key, msg, sizeof(msg));
    return (t & 3u) << 30 | mssi << 27 | (f & 0x07ffffffu);
}

#endif
