/* Byte rings for the send and receive buffers. One copy in, one copy out; out-of-order data
 * is written straight into its place in the receive ring, so reassembly needs no extra memory
 * beyond the window we advertised (RFC 9293 §3.8.6.2.2 never lets that exceed the free space).
 * A ring is allocated when first needed (sk_tcb_snd_ring, sk_tcb_rcv_ring); until then it is
 * all zeros, holds nothing and every function here leaves it alone. */
#include <string.h>

#include "tcp/tcp_int.h"

int sk_ring_alloc(struct sk_stack *st, struct sk_ring *r, uint32_t size)
{
    if (r->buf)
        return 0;
    if (st->ctr.buffer_bytes + size > st->cfg.max_buffer_bytes) {
        st->ctr.limit_buffers++;
        return -ENOMEM;
    }
    r->buf = sk_mem_alloc(st, size);
    if (r->buf == NULL)
        return -ENOMEM;
    r->size = size;
    r->head = 0;
    r->len = 0;
    st->ctr.buffer_bytes += size;
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

void sk_ring_move(struct sk_stack *st, struct sk_ring *from, struct sk_ring *to, uint32_t keep)
{
    if (keep > to->size)
        keep = to->size;
    if (keep)
        sk_ring_peek(from, 0, to->buf, keep);
    to->len = from->len < to->size ? from->len : to->size;
    sk_ring_free(st, from);
    *from = *to;
    memset(to, 0, sizeof(*to));
}
