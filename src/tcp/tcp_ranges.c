/* A sorted set of disjoint sequence ranges (tcp_ranges.h): the receiver's out-of-order data
 * and the sender's SACK scoreboard. Lookups are binary searches over the sorted array;
 * insertions and removals move the entries above the change, at most the capacity. */
#include "tcp/tcp_ranges.h"

static inline void count(const struct sk_ranges *s, uint32_t k)
{
    if (s->work)
        *s->work += k;
}

void sk_ranges_init(struct sk_ranges *s, struct sk_range *store, uint8_t cap, uint64_t *work)
{
    s->r = store;
    s->n = 0;
    s->cap = cap;
    s->work = work;
}

/* First index whose right edge is after seq (touch: at or after seq). The set is sorted, and
 * its right edges too, so the predicate is false up to some index and true from there. */
static uint8_t lower_bound(const struct sk_ranges *s, uint32_t seq, bool touch)
{
    uint8_t lo = 0, hi = s->n;
    while (lo < hi) {
        uint8_t mid = (uint8_t)((lo + hi) / 2);
        count(s, 1);
        bool after = touch ? seq_ge(s->r[mid].right, seq) : seq_gt(s->r[mid].right, seq);
        if (after)
            hi = mid;
        else
            lo = mid + 1;
    }
    count(s, 1);
    return lo;
}

uint8_t sk_ranges_find(const struct sk_ranges *s, uint32_t seq)
{
    return lower_bound(s, seq, false);
}

/* Replaces entries [i, j) by one (j == i: inserts one at i), shifting the tail. */
static void splice_one(struct sk_ranges *s, uint8_t i, uint8_t j, uint32_t left, uint32_t right)
{
    uint8_t tail = (uint8_t)(s->n - j);
    if (j != i + 1) {
        memmove(&s->r[i + 1], &s->r[j], (size_t)tail * sizeof(s->r[0]));
        count(s, tail);
    }
    s->n = (uint8_t)(s->n - (j - i) + 1);
    s->r[i].left = left;
    s->r[i].right = right;
}

int sk_ranges_add(struct sk_ranges *s, uint32_t left, uint32_t right, struct sk_range *merged)
{
    if (!seq_lt(left, right))
        return 0;
    /* Every range that overlaps or touches [left, right) lies in [i, j). */
    uint8_t i = lower_bound(s, left, true);
    uint8_t j = i;
    uint32_t l = left, r = right;
    while (j < s->n && seq_le(s->r[j].left, right)) {
        count(s, 1);
        l = seq_min(l, s->r[j].left);
        r = seq_max(r, s->r[j].right);
        j++;
    }
    if (merged) {
        merged->left = l;
        merged->right = r;
    }
    if (j == i + 1 && s->r[i].left == l && s->r[i].right == r)
        return 0; /* held already */
    if (j == i && s->n == s->cap)
        return -ENOSPC;
    splice_one(s, i, j, l, r);
    return 1;
}

uint32_t sk_ranges_covered(const struct sk_ranges *s, uint32_t from, uint32_t to)
{
    uint32_t bytes = 0;
    if (!seq_lt(from, to))
        return 0;
    for (uint8_t i = lower_bound(s, from, false); i < s->n && seq_lt(s->r[i].left, to); i++) {
        count(s, 1);
        uint32_t l = seq_max(s->r[i].left, from), r = seq_min(s->r[i].right, to);
        bytes += r - l;
    }
    return bytes;
}

bool sk_ranges_first_overlap(const struct sk_ranges *s, uint32_t from, uint32_t to,
                             struct sk_range *out)
{
    if (!seq_lt(from, to))
        return false;
    uint8_t i = lower_bound(s, from, false);
    if (i == s->n || !seq_lt(s->r[i].left, to))
        return false;
    out->left = seq_max(s->r[i].left, from);
    out->right = seq_min(s->r[i].right, to);
    return true;
}

uint32_t sk_ranges_skip(const struct sk_ranges *s, uint32_t seq)
{
    uint8_t i = lower_bound(s, seq, false);
    /* Ranges never touch: past the one holding seq comes a gap. */
    if (i < s->n && seq_le(s->r[i].left, seq))
        return s->r[i].right;
    return seq;
}

bool sk_ranges_next_gap(const struct sk_ranges *s, uint32_t seq, uint32_t limit,
                        uint32_t *gap_left, uint32_t *gap_right)
{
    uint8_t i = lower_bound(s, seq, false);
    if (i < s->n && seq_le(s->r[i].left, seq)) {
        seq = s->r[i].right;
        i++;
    }
    if (!seq_lt(seq, limit))
        return false;
    *gap_left = seq;
    *gap_right = i < s->n ? seq_min(s->r[i].left, limit) : limit;
    return true;
}

static void remove_first(struct sk_ranges *s, uint8_t k)
{
    if (k == 0)
        return;
    memmove(&s->r[0], &s->r[k], (size_t)(s->n - k) * sizeof(s->r[0]));
    count(s, (uint32_t)(s->n - k));
    s->n = (uint8_t)(s->n - k);
}

uint8_t sk_ranges_remove_below(struct sk_ranges *s, uint32_t seq)
{
    uint8_t k = lower_bound(s, seq, false);
    remove_first(s, k);
    return k;
}

uint32_t sk_ranges_pull(struct sk_ranges *s, uint32_t seq)
{
    /* Ranges starting at or before seq: those ending before it, and at most one reaching it
     * or beyond (the next one starts after a gap, so after seq). */
    uint8_t k = lower_bound(s, seq, true);
    if (k < s->n && seq_le(s->r[k].left, seq)) {
        seq = seq_max(seq, s->r[k].right);
        k++;
    }
    remove_first(s, k);
    return seq;
}
