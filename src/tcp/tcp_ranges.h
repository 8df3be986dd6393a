/* A set of byte ranges in sequence space: sorted, disjoint and never touching (two ranges
 * that meet are one). One mechanism for the two places TCP keeps such a set: the receiver's
 * out-of-order data (RFC 9293 §3.10.7.4 "text", reported as SACK blocks, RFC 2018 §4) and the
 * sender's SACK scoreboard (RFC 6675 §3).
 *
 * Sequence numbers wrap at 2^32 (RFC 9293 §3.4): every comparison is modular, so a set must
 * span less than 2^31 bytes, which a TCP window always does (RFC 7323 §2.3: < 2^30).
 *
 * The storage is the caller's (a fixed array: the set never allocates) and so is the capacity:
 * a range that would need one more entry than the capacity is refused, never half taken.
 * Every operation adds the entries it looked at or moved to *work, so that tests can bound
 * the work a peer can make us do per segment (the SACK Panic lesson, CVE-2019-11477/78/79):
 * lookups are binary searches, nothing scans the whole set in a loop over the set.
 */
#ifndef SK_TCP_RANGES_H
#define SK_TCP_RANGES_H

#include "internal.h"

/* struct sk_range and struct sk_ranges are declared in internal.h (the TCB holds two). */

/* An empty set over cap entries of store; work (may be NULL) counts entries visited. */
void sk_ranges_init(struct sk_ranges *s, struct sk_range *store, uint8_t cap, uint64_t *work);
static inline void sk_ranges_clear(struct sk_ranges *s) { s->n = 0; }

/* Index of the first range whose right edge is after seq (n if none): the range holding seq,
 * if any, or the first above it. */
uint8_t sk_ranges_find(const struct sk_ranges *s, uint32_t seq);

/* Adds [left, right), merged with every range it overlaps or touches; the merged range is
 * written to *merged (may be NULL). Returns 1 if bytes were added, 0 if all were already
 * held (nothing changes), -ENOSPC if the range needs a new entry and the set is full
 * (nothing changes). An empty or reversed range is never added: 0. */
int sk_ranges_add(struct sk_ranges *s, uint32_t left, uint32_t right, struct sk_range *merged);

/* Bytes of [from, to) the set holds. */
uint32_t sk_ranges_covered(const struct sk_ranges *s, uint32_t from, uint32_t to);

/* The first part of [from, to) the set holds, in *out; false if none. */
bool sk_ranges_first_overlap(const struct sk_ranges *s, uint32_t from, uint32_t to,
                             struct sk_range *out);

/* The first sequence number at or after seq that the set does not hold. */
uint32_t sk_ranges_skip(const struct sk_ranges *s, uint32_t seq);

/* The first gap at or after seq, [*gap_left, *gap_right), the right edge being the start of
 * the next range, or `limit` when no range follows (or the next starts beyond it). False when
 * no gap starts before limit. */
bool sk_ranges_next_gap(const struct sk_ranges *s, uint32_t seq, uint32_t limit,
                        uint32_t *gap_left, uint32_t *gap_right);

/* Removes the ranges that end at or before seq; returns how many went. */
uint8_t sk_ranges_remove_below(struct sk_ranges *s, uint32_t seq);

/* Contiguous data up to seq: removes every range that starts at or before seq and returns
 * the sequence number after them (seq, or the right edge of the last one reached). */
uint32_t sk_ranges_pull(struct sk_ranges *s, uint32_t seq);

#endif
