/* synack: finishing in software what a link offered to do in hardware.
 *
 * Outside the core. The stack hands a link that offered checksum or segmentation offload
 * (sk_link_caps) frames that are not finished: a partial checksum (SK_FRAME_CSUM_PARTIAL) or a
 * TSO super-segment (SK_GSO_TCPV4). A driver that cannot pass them on as they are (a TAP
 * without IFF_VNET_HDR, a peer that takes no large frames; the in-memory link) finishes them
 * with these two functions, by the rules a virtio-net device and Linux's GSO follow (virtio
 * spec §5.1.6.2, Linux's tcp_gso_segment). Pure functions: no allocation, no state.
 */
#ifndef SYNACK_GSO_H
#define SYNACK_GSO_H

#include "synack/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Completes in place the transport checksum of a frame marked SK_FRAME_CSUM_PARTIAL: the
 * field at csum_start + csum_offset holds the pseudo-header sum (RFC 9293 §3.1, RFC 768),
 * so the one's complement of the sum of the bytes from csum_start to the end (RFC 1071) is
 * the checksum. A super-segment's field holds the pseudo-header sum of its whole length, so it
 * is completed the same way. Returns 0, or -EINVAL when the offsets do not fit in the frame
 * (nothing written). A frame without the flag is left as it is (0). */
SK_API int sk_csum_complete(uint8_t *frame, size_t len, const struct sk_frame_meta *meta);

/* Receives one finished frame cut by sk_gso_segment; valid only during the call. */
typedef void (*sk_gso_emit_fn)(void *ctx, const uint8_t *frame, size_t len);

/* Cuts a TCP super-segment (meta->gso_type SK_GSO_TCPV4, or SK_GSO_TCPV6 with a 40-byte IPv6
 * header and no extension headers: payload length per piece, no id; SK_FRAME_CSUM_PARTIAL,
 * csum_start at the TCP header, hdr_len the bytes of link, IP and TCP headers) into frames of
 * hdr_len + gso_size bytes (the last one shorter), each handed to emit in order, finished:
 *  - the headers (options included) copied into each;
 *  - IPv4: total length of that piece, the id of the first piece plus its index (as Linux
 *    and virtio devices count for DF datagrams), the header checksum recomputed;
 *  - TCP: SEG.SEQ advanced by gso_size per piece; FIN and PSH only on the last piece, CWR
 *    only on the first (RFC 3168 §6.1.2: CWR once per window reduction); the checksum
 *    completed, from the pseudo-header sum of the whole moved to the piece's length.
 * ip_off is where the IPv4 header starts (0 for bare IP, 14 for Ethernet II); everything
 * before it is copied as it is. buf (cap bytes, at least hdr_len + gso_size) is where each
 * piece is built. A frame that is not a super-segment (gso_type SK_GSO_NONE) is handed to
 * emit once, its checksum completed if partial. Returns the number of frames emitted, or
 * -EINVAL (a malformed frame or metadata: IP header not at ip_off, not TCP, offsets outside
 * the frame, gso_size 0, no CSUM_PARTIAL) or -ENOSPC (buf too small); nothing is emitted
 * then. */
SK_API int sk_gso_segment(const uint8_t *frame, size_t len, const struct sk_frame_meta *meta,
                          size_t ip_off, uint8_t *buf, size_t cap, sk_gso_emit_fn emit,
                          void *ctx);

#ifdef __cplusplus
}
#endif
#endif
