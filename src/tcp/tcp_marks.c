/* Socket-level marks: the low-water marks (TCP_NOTSENT_LOWAT, SO_RCVLOWAT), the queue sizes
 * behind SIOCINQ/SIOCOUTQ/SIOCOUTQNSD and TCP_INQ, and record boundaries (MSG_EOR).
 *
 * None of this is in RFC 9293, which leaves the user interface to the implementation
 * (§3.9.1); the semantics are Linux's, since that is what applications are written against:
 * tcp_stream_memory_free and tcp_poll (net/ipv4/tcp.c, include/net/tcp.h) for the notsent
 * mark, sock_rcvlowat and tcp_stream_is_readable for SO_RCVLOWAT, tcp_ioctl and
 * tcp_inq_hint for the queue sizes, and tcp_skb_can_collapse_to (the skb's eor bit) for
 * records. A record end is kept as a sequence number in a small sorted array; output never
 * lets a segment cross one (tcp_output.c), so segment boundaries on the wire respect records,
 * retransmissions included.
 */
#include <string.h>

#include "tcp/tcp_int.h"

/* ---- The marks' storage ---- */

int sk_tcp_marks_need(struct sk_tcp *c)
{
    if (c->marks)
        return 0;
    struct sk_tcp_marks *m = sk_mem_alloc(c->st, sizeof(*m));
    if (m == NULL)
        return -ENOMEM; /* counted: alloc_failures */
    memset(m, 0, sizeof(*m));
    c->marks = m;
    return 0;
}

void sk_tcp_marks_free(struct sk_tcp *c)
{
    struct sk_tcp_marks *m = c->marks;
    if (m == NULL)
        return;
    sk_mem_free(c->st, m->rec, (size_t)m->rec_cap * sizeof(*m->rec));
    sk_mem_free(c->st, m, sizeof(*m));
    c->marks = NULL;
}

void sk_tcp_marks_inherit(struct sk_tcp *c, const struct sk_tcp *l)
{
    if (l->marks == NULL || (l->marks->notsent_lowat == 0 && l->marks->rcvlowat == 0))
        return;
    if (sk_tcp_marks_need(c) != 0)
        return; /* counted; the child keeps the stack's defaults */
    c->marks->notsent_lowat = l->marks->notsent_lowat;
    c->marks->rcvlowat = l->marks->rcvlowat;
}

/* ---- Low-water marks ---- */

uint32_t sk_tcp_notsent_mark(const struct sk_tcp *c)
{
    uint32_t v = c->marks && c->marks->notsent_lowat ? c->marks->notsent_lowat
                                                     : c->st->cfg.notsent_lowat;
    return v == 0 ? UINT32_MAX : v;
}

uint32_t sk_tcp_rcvlowat_mark(const struct sk_tcp *c)
{
    uint32_t v = c->marks && c->marks->rcvlowat > 1 ? c->marks->rcvlowat : 1;
    /* Never above the buffer: data short of the mark that fills it would close the window
     * with nobody woken to read (Linux grows sk_rcvbuf to the mark instead). */
    if (v > c->rcvbuf_size)
        v = c->rcvbuf_size ? c->rcvbuf_size : 1;
    return v;
}

uint32_t sk_tcp_notsent(const struct sk_tcp *c)
{
    uint32_t data_end = c->sndbuf_seq + c->snd.len;
    return seq_lt(c->snd_max, data_end) ? data_end - c->snd_max : 0;
}

int sk_tcp_set_notsent_lowat(struct sk_tcp *c, uint32_t bytes)
{
    if (bytes == 0 && c->marks == NULL)
        return 0;
    int e = sk_tcp_marks_need(c);
    if (e)
        return e;
    c->marks->notsent_lowat = bytes;
    sk_tcp_notify(c);
    return 0;
}

uint32_t sk_tcp_get_notsent_lowat(const struct sk_tcp *c)
{
    return c->marks ? c->marks->notsent_lowat : 0;
}

int sk_tcp_set_rcvlowat(struct sk_tcp *c, uint32_t bytes)
{
    if (bytes <= 1 && c->marks == NULL)
        return 0;
    int e = sk_tcp_marks_need(c);
    if (e)
        return e;
    c->marks->rcvlowat = bytes ? bytes : 1;
    sk_tcp_notify(c);
    return 0;
}

uint32_t sk_tcp_get_rcvlowat(const struct sk_tcp *c)
{
    return c->marks && c->marks->rcvlowat ? c->marks->rcvlowat : 1;
}

/* ---- Queue sizes (Linux's tcp_ioctl, tcp_inq_hint) ---- */

static bool synchronizing(const struct sk_tcp *c)
{
    return c->state == SK_TCP_SYN_SENT || c->state == SK_TCP_SYN_RECEIVED ||
           c->state == SK_TCP_LISTEN;
}

size_t sk_tcp_inq(const struct sk_tcp *c)
{
    return synchronizing(c) ? 0 : c->rcv.len;
}

size_t sk_tcp_inq_hint(const struct sk_tcp *c)
{
    if (synchronizing(c))
        return 0;
    /* RCV.NXT - copied_seq in Linux: the peer's FIN counts once it is in (it takes a sequence
     * number); a connection that ended otherwise (SOCK_DONE) shows 1 when nothing is left. */
    size_t n = c->rcv.len + ((c->flags & TF_FIN_RCVD) ? 1 : 0);
    if (n == 0 && c->state == SK_TCP_CLOSED)
        n = 1;
    return n;
}

size_t sk_tcp_outq(const struct sk_tcp *c)
{
    if (synchronizing(c) || c->state == SK_TCP_CLOSED)
        return 0;
    /* write_seq - SND.UNA, with our FIN's sequence number once queued. */
    uint32_t end = c->sndbuf_seq + c->snd.len + ((c->flags & TF_FIN_QUEUED) ? 1 : 0);
    return seq_gt(end, c->snd_una) ? end - c->snd_una : 0;
}

size_t sk_tcp_outq_nsd(const struct sk_tcp *c)
{
    if (synchronizing(c) || c->state == SK_TCP_CLOSED)
        return 0;
    return sk_tcp_notsent(c);
}

/* ---- Sending under the notsent mark ---- */

/* Bytes the newest chunk can still take: none if there is no chunk or none of it is unsent
 * (Linux's write queue tail is then empty). A chunk that went out in part leaves its rest
 * as one with room for a whole chunk more (tso_fragment leaves the rest in an skb of its
 * own, which tcp_sendmsg fills up to size_goal). */
static uint32_t chunk_room(const struct sk_tcp *c, uint32_t goal)
{
    const struct sk_tcp_marks *m = c->marks;
    uint32_t data_end = c->sndbuf_seq + c->snd.len;
    if (m == NULL || !m->chunk_open)
        return 0;
    uint32_t start = seq_max(m->chunk_start, c->snd_max);
    if (seq_ge(start, data_end))
        return 0;
    uint32_t tail = data_end - start;
    return goal > tail ? goal - tail : 0;
}

/* Appends up to max bytes from the iov, from (*i, *off) on; returns the bytes taken. */
static uint32_t append_iov(struct sk_ring *r, const struct iovec *iov, int iovcnt, int *i,
                           size_t *off, uint32_t max)
{
    uint32_t done = 0;
    while (done < max && *i < iovcnt) {
        size_t left = iov[*i].iov_len - *off;
        uint32_t want = min_u32(max - done, left > UINT32_MAX ? UINT32_MAX : (uint32_t)left);
        uint32_t n = want ? sk_ring_append(r, (const uint8_t *)iov[*i].iov_base + *off, want)
                          : 0;
        done += n;
        *off += n;
        if (*off == iov[*i].iov_len) {
            (*i)++;
            *off = 0;
        }
        if (n < want)
            break; /* the ring is full */
    }
    return done;
}

/* sk_config.forced_push, Linux's forced_push and tcp_mark_push: a full chunk that brings
 * the data queued since the last push past half the peer's largest window is pushed, its end
 * a push point no segment crosses (kept with the record ends, which output treats the same). */
static void forced_push(struct sk_tcp *c)
{
    struct sk_tcp_marks *m = c->marks;
    uint32_t end = c->sndbuf_seq + c->snd.len;
    if (!c->st->cfg.forced_push || end - m->pushed_seq <= c->max_snd_wnd / 2)
        return;
    m->pushed_seq = end;
    if (sk_tcp_record_reserve(c) == 0) /* else counted: alloc_failures; no PSH there */
        sk_tcp_record_mark(c);
}

/* Where a write starts and ends, for PSH: Linux's tcp_sendmsg sends full chunks without PSH
 * (tcp_push_one) and marks the tail at the end of the call (tcp_push) unless MSG_MORE. */
static void push_begin(struct sk_tcp *c)
{
    struct sk_tcp_marks *m = c->marks;
    if (!c->st->cfg.forced_push)
        return;
    if (!m->pushed_known) { /* Linux's pushed_seq starts at write_seq (tcp_connect_init) */
        m->pushed_seq = c->sndbuf_seq + c->snd.len;
        m->pushed_known = true;
    }
    c->flags |= TF_NOPUSH;
}

static void push_end(struct sk_tcp *c)
{
    if (c->flags & TF_MORE) {
        c->flags |= TF_NOPUSH;
        return;
    }
    c->flags &= ~TF_NOPUSH;
    c->marks->pushed_seq = c->sndbuf_seq + c->snd.len;
}

ssize_t sk_tcp_send_chunked(struct sk_tcp *c, const struct iovec *iov, int iovcnt,
                            size_t want_all, bool eor)
{
    if (sk_tcp_marks_need(c) != 0)
        return -ENOBUFS;
    struct sk_tcp_marks *m = c->marks;
    uint32_t lowat = sk_tcp_notsent_mark(c);
    size_t total = 0;
    int i = 0;
    size_t off = 0;
    int err = -EAGAIN;
    sk_enter(c->st);
    push_begin(c);
    while (total < want_all) {
        uint32_t goal = sk_tcp_size_goal(c);
        uint32_t room = chunk_room(c, goal);
        if (room == 0) {
            /* Linux's tcp_sendmsg: a new skb only while sk_stream_memory_free (with
             * sndbuf_chunks, the queue below sk_sndbuf too). */
            if (sk_tcp_notsent(c) >= lowat ||
                (c->st->cfg.sndbuf_chunks && c->snd.len >= c->sndbuf_size))
                break;
            m->chunk_start = c->sndbuf_seq + c->snd.len;
            m->chunk_open = true;
            room = goal;
        }
        uint32_t limit = sk_tcp_snd_limit(c);
        uint32_t buf_room = limit > c->snd.len ? limit - c->snd.len : 0;
        uint32_t want = (uint32_t)min_u32(min_u32(room, buf_room),
                                          want_all - total > UINT32_MAX ? UINT32_MAX
                                                                        : (uint32_t)(want_all - total));
        if (want == 0)
            break;
        if (sk_tcb_snd_ring(c, c->snd.len + want) != 0) {
            err = -ENOBUFS; /* counted: limit_buffers or alloc_failures */
            break;
        }
        uint32_t n = append_iov(&c->snd, iov, iovcnt, &i, &off, want);
        total += n;
        if (n == 0)
            break;
        if (n == room) {
            forced_push(c);
            sk_tcp_output(c); /* a full chunk is pushed (tcp_push_one / forced_push) */
        }
    }
    if (total < want_all)
        sk_tcp_chrono_sndbuf_full(c); /* the writer waits for room (tcp_chrono.c) */
    if (total > 0 && total == want_all && eor)
        sk_tcp_record_mark(c);
    push_end(c);
    if (total > 0)
        sk_tcp_output(c);
    sk_tcp_notify(c);
    sk_leave(c->st);
    return total > 0 ? (ssize_t)total : err;
}

/* ---- Records (MSG_EOR) ---- */

int sk_tcp_record_reserve(struct sk_tcp *c)
{
    if (sk_tcp_marks_need(c) != 0)
        return -ENOBUFS;
    struct sk_tcp_marks *m = c->marks;
    sk_tcp_records_prune(c);
    if (m->rec_n < m->rec_cap)
        return 0;
    uint32_t cap = m->rec_cap ? m->rec_cap * 2 : 8;
    uint32_t *rec = sk_mem_alloc(c->st, (size_t)cap * sizeof(*rec));
    if (rec == NULL)
        return -ENOBUFS; /* counted: alloc_failures */
    if (m->rec_n)
        memcpy(rec, m->rec, (size_t)m->rec_n * sizeof(*rec));
    sk_mem_free(c->st, m->rec, (size_t)m->rec_cap * sizeof(*rec));
    m->rec = rec;
    m->rec_cap = cap;
    return 0;
}

void sk_tcp_record_mark(struct sk_tcp *c)
{
    struct sk_tcp_marks *m = c->marks;
    uint32_t end = c->sndbuf_seq + c->snd.len;
    /* Nothing may join the chunk that ends the record (tcp_skb_can_collapse_to). */
    m->chunk_open = false;
    if (m->rec_n > 0 && m->rec[m->rec_n - 1] == end)
        return;
    if (m->rec_n < m->rec_cap) /* reserved by sk_tcp_record_reserve */
        m->rec[m->rec_n++] = end;
}

void sk_tcp_records_prune(struct sk_tcp *c)
{
    struct sk_tcp_marks *m = c->marks;
    if (m == NULL || m->rec_n == 0)
        return;
    uint32_t k = 0;
    while (k < m->rec_n && seq_le(m->rec[k], c->snd_una))
        k++;
    if (k == 0)
        return;
    m->rec_n -= k;
    memmove(m->rec, m->rec + k, (size_t)m->rec_n * sizeof(*m->rec));
    if (m->rec_n == 0) {
        sk_mem_free(c->st, m->rec, (size_t)m->rec_cap * sizeof(*m->rec));
        m->rec = NULL;
        m->rec_cap = 0;
    }
}

uint32_t sk_tcp_record_end(const struct sk_tcp *c, uint32_t seq)
{
    uint32_t data_end = c->sndbuf_seq + c->snd.len;
    const struct sk_tcp_marks *m = c->marks;
    if (m == NULL || m->rec_n == 0)
        return data_end;
    /* Binary search for the first end above seq (the array ascends in sequence space). */
    uint32_t lo = 0, hi = m->rec_n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (seq_gt(m->rec[mid], seq))
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo < m->rec_n && seq_lt(m->rec[lo], data_end) ? m->rec[lo] : data_end;
}
