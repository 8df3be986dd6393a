/* synack: a pcap file writer (classic libpcap format, microsecond timestamps).
 *
 * Outside the core: it uses stdio. Captures open in Wireshark and tshark.
 */
#ifndef SYNACK_PCAP_H
#define SYNACK_PCAP_H

#include "synack/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sk_pcap;

/* Opens (truncates) path and writes the file header. The link type follows the stack's
 * framing: Ethernet (LINKTYPE_ETHERNET, 1) or bare IP, v4 or v6 (LINKTYPE_RAW, 101).
 * Returns NULL and sets errno on failure. */
SK_API struct sk_pcap *sk_pcap_open(const char *path, enum sk_link_type link);

/* Appends one frame captured at `time`. Returns 0 or a negative errno. */
SK_API int sk_pcap_write(struct sk_pcap *p, sk_time_us time, const uint8_t *frame, size_t len);

/* Flushes and closes. Returns 0 or a negative errno (a failed final write is reported here). */
SK_API int sk_pcap_close(struct sk_pcap *p);

#ifdef __cplusplus
}
#endif
#endif
