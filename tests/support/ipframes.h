/* Test support for the IP layer: hand-built frames (Ethernet, ARP, IPv4 and its fragments,
 * ICMP, UDP) with correct checksums, and "ethstack", a stack on an Ethernet link whose output
 * frames are captured for the test to read. Two ethstacks can also be joined by the
 * in-memory link (ethpair) and run on a virtual clock.
 */
#ifndef SK_TEST_IPFRAMES_H
#define SK_TEST_IPFRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synack/memlink.h"
#include "synack/stack.h"

#define ETH_A_ADDR 0x0a4d0002u /* 10.77.0.2 */
#define ETH_B_ADDR 0x0a4d0001u /* 10.77.0.1 */
extern const uint8_t MAC_A[6], MAC_B[6], MAC_BCAST[6];

/* ---- frames ---- */
size_t fr_eth(uint8_t *p, const uint8_t dst[6], const uint8_t src[6], uint16_t type);
size_t fr_arp(uint8_t *p, uint16_t op, const uint8_t sha[6], uint32_t spa, const uint8_t tha[6],
              uint32_t tpa);
/* IPv4 header (20 bytes) + payload copied after it; frag_off in bytes; flags: 0x4000 DF,
 * 0x2000 MF. Returns the datagram's length. */
size_t fr_ip(uint8_t *p, uint32_t src, uint32_t dst, uint8_t proto, uint16_t id, uint16_t flags,
             uint16_t frag_off, const void *payload, size_t len);
/* UDP datagram (header + data) with the checksum for src/dst. */
size_t fr_udp(uint8_t *p, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
              const void *data, size_t len);
/* ICMP message (type, code, rest, data) with its checksum. */
size_t fr_icmp(uint8_t *p, uint8_t type, uint8_t code, uint32_t rest, const void *data,
               size_t len);

/* ---- a captured frame ---- */
struct cap_frame {
    size_t len;
    uint8_t data[2048];
};

/* ---- one Ethernet stack with its output captured ---- */
struct ethstack {
    struct sk_stack *st;
    struct cap_frame *out;
    size_t nout, cap;
    sk_time_us now;
    /* ethpair only: where output goes. */
    struct sk_memlink *link;
    int side;
};
/* cfg may be NULL (defaults: Ethernet, address a, MAC mac, /24). tweak runs on the config
 * before the stack is made, if not NULL. */
struct ethstack *ethstack_new(uint32_t addr, const uint8_t mac[6],
                              void (*tweak)(struct sk_config *));
void ethstack_free(struct ethstack *e);
/* A default stack at ETH_A_ADDR that already knows ETH_B_ADDR's MAC (it answered B's ARP
 * request), with that reply cleared from its output. */
struct ethstack *ethstack_knowing_b(void);
/* Hands the stack a frame made of an Ethernet header (to its MAC, from MAC_B, type) and the
 * payload. */
void ethstack_input(struct ethstack *e, uint16_t type, const void *payload, size_t len);
/* Advances time to t, running timers at their deadlines. */
void ethstack_run_until(struct ethstack *e, sk_time_us t);
uint64_t ethstack_drops(struct ethstack *e, int reason);
struct sk_stack_counters ethstack_counters(struct ethstack *e);

/* ---- two Ethernet stacks on an in-memory link (A = side 0, B = side 1) ---- */
struct ethpair {
    struct ethstack *a, *b;
    struct sk_memlink *link;
    sk_time_us now;
};
struct ethpair *ethpair_new(void (*tweak)(struct sk_config *));
void ethpair_free(struct ethpair *p);
/* Runs every arrival and timer up to t. */
void ethpair_run_until(struct ethpair *p, sk_time_us t);

#endif
