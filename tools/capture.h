/* synack CLI: reading captures (pcap and pcapng, through libpcap) down to their IP packets.
 *
 * libpcap reads the file (pcap_open_offline takes both formats, any byte order, micro- or
 * nanosecond timestamps); this module takes each frame's link header off and hands on the IP
 * packet inside, with the times relative to the capture's first packet. Link types: Ethernet
 * (with 802.1Q / 802.1ad VLAN tags), Linux cooked SLL and SLL2, raw IP (DLT_RAW, LINKTYPE_IPV4,
 * LINKTYPE_IPV6), and the BSD loopback headers DLT_NULL and DLT_LOOP (the family word in either
 * byte order, AF_INET6 as each system numbers it). Frames that carry no IP (ARP, ...) are
 * skipped and counted.
 *
 * The CLI links libpcap; the library (src/) never does.
 */
#ifndef SYNACK_TOOLS_CAPTURE_H
#define SYNACK_TOOLS_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "synack/synack.h"

/* One IP packet of the capture. */
struct capture_packet {
    sk_time_us t;          /* since the capture's first packet */
    const uint8_t *ip;     /* the IPv4 or IPv6 header; valid until the next capture_next */
    size_t captured;       /* bytes of it in the capture */
    size_t wire_len;       /* its length on the wire: the frame's original length less the
                            * link header */
};

/* What capture_decap made of one frame. */
enum capture_decap_result {
    CAPTURE_IP = 0,        /* an IP packet: p->ip, captured, wire_len set */
    CAPTURE_NOT_IP,        /* a frame of another protocol (ARP, LLDP, ...) */
    CAPTURE_SHORT,         /* too short for its own link header */
};

/* Takes the link header of type `dlt` (libpcap's DLT_ value) off one frame: caplen bytes
 * captured of orig_len on the wire. Sets p->ip, p->captured, p->wire_len (not p->t). Pure. */
enum capture_decap_result capture_decap(int dlt, const uint8_t *frame, size_t caplen,
                                        size_t orig_len, struct capture_packet *p);
/* Whether capture_decap knows the link type. */
bool capture_dlt_supported(int dlt);

struct capture;

/* Opens a capture file ("-" is standard input). NULL on failure, with a one-line reason in err
 * ("no such file", "not a pcap or pcapng capture", "link type 147 (USER0) is not supported"). */
struct capture *capture_open(const char *path, char *err, size_t errsize);
/* The same over an open stream (fuzzing reads from memory with fmemopen). Takes f over: it is
 * closed by capture_close, or here on failure. */
struct capture *capture_fopen(FILE *f, char *err, size_t errsize);
void capture_close(struct capture *c);

/* The next IP packet: 1, or 0 at the end, or -1 when the file is damaged (a truncated last
 * record, a record longer than the snap length ...): capture_error says what. */
int capture_next(struct capture *c, struct capture_packet *p);
const char *capture_error(const struct capture *c);

struct capture_stats {
    uint64_t frames;       /* records read */
    uint64_t ip;           /* handed on as IP packets */
    uint64_t not_ip;       /* frames of other protocols, skipped */
    uint64_t short_frames; /* shorter than their link header, skipped */
};
void capture_get_stats(const struct capture *c, struct capture_stats *out);
/* The link type's name ("EN10MB") and the first packet's absolute time (µs since 1970). */
const char *capture_link_name(const struct capture *c);
bool capture_first_time(const struct capture *c, int64_t *unix_us);

#endif
