/* synack: IP addresses of either family.
 *
 * One type for both families, so that a connection, a socket, a trace event or a table key
 * holds an address the same way whatever it is. An IPv4 address is held IPv4-mapped
 * (::ffff:a.b.c.d, RFC 4291 §2.5.5.2): 16 bytes in network order, compared and hashed as
 * bytes. Whether a connection runs over IPv4 or IPv6 is decided by that form alone, so an
 * AF_INET6 socket connected to ::ffff:192.0.2.1 talks IPv4 on the wire (RFC 4038 §4.2).
 */
#ifndef SYNACK_ADDR_H
#define SYNACK_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "synack/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sk_addr {
    uint8_t b[16]; /* network byte order */
};

/* The longest text sk_addr_format writes, with its terminating NUL (as INET6_ADDRSTRLEN). */
#define SK_ADDR_STRLEN 46

/* The IPv4 address v (host byte order) as an IPv4-mapped address. */
static inline struct sk_addr sk_addr_from_v4(uint32_t v)
{
    struct sk_addr a = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, (uint8_t)(v >> 24),
                         (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v}};
    return a;
}

/* Is a IPv4-mapped, that is an IPv4 address? */
static inline bool sk_addr_is_v4(const struct sk_addr *a)
{
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(a->b, prefix, sizeof(prefix)) == 0;
}

/* The IPv4 address (host byte order) of an IPv4-mapped address; meaningless otherwise. */
static inline uint32_t sk_addr_v4(const struct sk_addr *a)
{
    return (uint32_t)a->b[12] << 24 | (uint32_t)a->b[13] << 16 | (uint32_t)a->b[14] << 8 |
           a->b[15];
}

static inline bool sk_addr_eq(const struct sk_addr *a, const struct sk_addr *b)
{
    return memcmp(a->b, b->b, 16) == 0;
}

/* The unspecified address of its family: :: for IPv6, ::ffff:0.0.0.0 for IPv4. */
static inline bool sk_addr_is_any(const struct sk_addr *a)
{
    static const uint8_t zero[16];
    return memcmp(a->b, zero, 16) == 0 || (sk_addr_is_v4(a) && sk_addr_v4(a) == 0);
}

/* IPv6 multicast (ff00::/8, RFC 4291 §2.7). */
static inline bool sk_addr_is_multicast6(const struct sk_addr *a)
{
    return a->b[0] == 0xff;
}

/* IPv6 link-local unicast (fe80::/10, RFC 4291 §2.5.6). */
static inline bool sk_addr_is_linklocal6(const struct sk_addr *a)
{
    return a->b[0] == 0xfe && (a->b[1] & 0xc0) == 0x80;
}

/* Parses text as an address: dotted-quad IPv4 (four decimal parts, 0-255 each, no leading
 * zeros beyond one digit: "192.0.2.1" gives ::ffff:192.0.2.1), or IPv6 in any text form of
 * RFC 4291 §2.2 (with "::" and an embedded dotted quad at the end). No zone, no prefix, no
 * brackets. 0 or -EINVAL. */
SK_API int sk_addr_parse(const char *text, struct sk_addr *out);
/* Writes a's text to buf (size bytes, SK_ADDR_STRLEN is always enough): dotted quad for an
 * IPv4-mapped address, else RFC 5952's canonical form (lower case, the longest run of two or
 * more zero groups, the first of equal runs, shortened to "::"). Returns buf; "" if size is too
 * small. */
SK_API char *sk_addr_format(const struct sk_addr *a, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif
