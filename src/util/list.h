/* One intrusive list for the whole stack: doubly linked, circular, with a sentinel head.
 *
 * The node lives inside the element (a TCB, an ARP-pending frame, a reassembly datagram), so
 * putting an element on a list allocates nothing and can never fail, and taking it off is O(1)
 * from the element alone, without a walk from the head. The head is a node of its own that
 * points at the first and last elements: the list is never a NULL-ended chain, so appending,
 * inserting and removing have no special case for the ends.
 *
 * A list head must be initialised (sk_list_init) before use and must not be copied or moved
 * afterwards, since its neighbours point at it. A node off every list has NULL links (zeroed
 * memory is a node off every list); sk_list_remove puts them back to NULL.
 *
 * Hash-table chains are not lists of this kind: a bucket is one pointer, and its chain is part
 * of the table (see sk_tcb_hash_*).
 */
#ifndef SK_UTIL_LIST_H
#define SK_UTIL_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct sk_list_node {
    struct sk_list_node *prev, *next;
};

struct sk_list {
    struct sk_list_node head; /* sentinel: head.next is the first element, head.prev the last */
};

/* The element that holds `node` as its `member`; NULL for a NULL node, so that
 * sk_list_entry(sk_list_first(l), ...) is NULL on an empty list. */
#define sk_list_entry(node, type, member) \
    ((type *)sk_list_container((node), offsetof(type, member)))

static inline void *sk_list_container(struct sk_list_node *n, size_t offset)
{
    return n ? (void *)((char *)n - offset) : NULL;
}

static inline void sk_list_init(struct sk_list *l)
{
    l->head.prev = l->head.next = &l->head;
}

static inline bool sk_list_empty(const struct sk_list *l)
{
    return l->head.next == &l->head;
}

/* True while `n` is on some list. */
static inline bool sk_list_linked(const struct sk_list_node *n)
{
    return n->next != NULL;
}

/* Puts `n` (on no list) just before `pos`, which is an element on a list or a list's head
 * (before the head is the end of the list). */
static inline void sk_list_insert_before(struct sk_list_node *pos, struct sk_list_node *n)
{
    n->prev = pos->prev;
    n->next = pos;
    pos->prev->next = n;
    pos->prev = n;
}

static inline void sk_list_append(struct sk_list *l, struct sk_list_node *n)
{
    sk_list_insert_before(&l->head, n);
}

static inline void sk_list_prepend(struct sk_list *l, struct sk_list_node *n)
{
    sk_list_insert_before(l->head.next, n);
}

/* Takes `n` off the list it is on. */
static inline void sk_list_remove(struct sk_list_node *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = NULL;
}

/* The first element's node, NULL if the list is empty. */
static inline struct sk_list_node *sk_list_first(const struct sk_list *l)
{
    return sk_list_empty(l) ? NULL : l->head.next;
}

/* The node after `n` on `l`, NULL after the last. */
static inline struct sk_list_node *sk_list_next(const struct sk_list *l,
                                                const struct sk_list_node *n)
{
    return n->next == &l->head ? NULL : n->next;
}

/* Number of elements: a walk, O(n). Lists whose length is a limit keep their own count. */
static inline size_t sk_list_count(const struct sk_list *l)
{
    size_t n = 0;
    for (const struct sk_list_node *p = l->head.next; p != &l->head; p = p->next)
        n++;
    return n;
}

#endif
