/* Byte rings for the send and receive buffers. One copy in, one copy out; out-of-order data
 * is written straight into its place in the receive ring, so reassembly needs no extra memory
 * beyond the window we advertised (RFC 9293 §3.8.6.2.2 never lets that exceed the free space).
 * A ring is allocated when first needed and grows with use (sk_ring_reserve, called through
 * sk_tcb_snd_ring and sk_tcb_rcv_ring), up to the connection's configured size; an empty one
 * is freed again (tcp_conn.c). Unallocated it is all zeros, holds nothing and every function
 * here leaves it alone. */
#include <string.h>

#include "tcp/tcp_int.h"

/* Growth doubles from SK_RING_MIN, so a bulk transfer reallocates a ring a handful of times
 * (4 KiB to 64 KiB: five), never per segment. */
int sk_ring_reserve(struct sk_stack *st, struct sk_ring *r, uint32_t need, uint32_t limit)
{
    if (need > limit)
        need = limit;
    if (need <= r->size)
        return 0;
    uint32_t size = r->size ? r->size : SK_RING_MIN;
    while (size < need && size < limit / 2)
        size *= 2;
    if (size < need || size > limit)
        size = limit;
    if (st->ctr.buffer_bytes + (size - r->size) > st->cfg.max_buffer_bytes) {
        st->ctr.limit_buffers++;
        return -ENOMEM;
    }
    uint8_t *buf = sk_mem_alloc(st, size);
    if (buf == NULL)
        return -ENOMEM;
    /* Every byte keeps its offset from head, the out-of-order ones beyond len included. */
    if (r->buf) {
        sk_ring_peek(r, 0, buf, r->size);
        sk_mem_free(st, r->buf, r->size);
    }
    st->ctr.buffer_bytes += size - r->size;
    r->buf = buf;
    r->size = size;
    r->head = 0;
    return 0;
}

void sk_ring_free(struct sk_stack *st, struct sk_ring *r)
{
    if (r->buf == NULL)
        return;
    sk_mem_free(st, r->buf, r->size);
    st->ctr.buffer_bytes -= r->size;
    memset(r, 0, sizeof(*r));
}

void sk_ring_write_at(struct sk_ring *r, uint32_t off, const uint8_t *p, uint32_t len)
{
    uint32_t pos = (r->head + off) % r->size;
    uint32_t first = r->size - pos < len ? r->size - pos : len;
    memcpy(r->buf + pos, p, first);
    memcpy(r->buf, p + first, len - first);
}

uint32_t sk_ring_append(struct sk_ring *r, const uint8_t *p, uint32_t len)
{
    uint32_t n = len < sk_ring_free_space(r) ? len : sk_ring_free_space(r);
    if (n == 0)
        return 0;
    sk_ring_write_at(r, r->len, p, n);
    r->len += n;
    return n;
}

void sk_ring_peek(const struct sk_ring *r, uint32_t off, uint8_t *dst, uint32_t len)
{
    if (len == 0)
        return;
    uint32_t pos = (r->head + off) % r->size;
    uint32_t first = r->size - pos < len ? r->size - pos : len;
    memcpy(dst, r->buf + pos, first);
    memcpy(dst + first, r->buf, len - first);
}

void sk_ring_consume(struct sk_ring *r, uint32_t len)
{
    if (len > r->len)
        len = r->len;
    if (len == 0)
        return; /* also a ring not allocated yet (size 0): nothing to take */
    r->head = (r->head + len) % r->size;
    r->len -= len;
}
