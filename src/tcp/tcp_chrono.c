/* Where a sender's time goes, as Linux's tcp_info reports it (net/ipv4/tcp_output.c:
 * tcp_chrono_start, tcp_chrono_stop; tcpi_busy_time, tcpi_rwnd_limited, tcpi_sndbuf_limited),
 * and when data last arrived (tcpi_last_data_recv). Observation only: nothing here changes
 * what is sent.
 *
 * A connection is busy while data is unacknowledged or waits to be sent. Of that time, it is
 * receive-window limited while the next new segment would fit cwnd but not the peer's window
 * (tcp_write_xmit's is_rwnd_limited), and send-buffer limited while the application waits for
 * room with nothing else holding data back: from an output that sent data, left cwnd room and
 * nothing unsent while a send had found no room (tcp_cwnd_validate: "the starvation is caused
 * by insufficient sender buffer", with SOCK_NOSPACE), until the buffer is writable again
 * (tcp_check_space when sk_stream_write_space clears SOCK_NOSPACE: a third of it free). A
 * writer held back while cwnd or the window still keeps data queued is not send-buffer
 * limited. One of the three runs at a time, the last two taking precedence, as Linux's
 * chrono_type. */
#include "tcp/tcp_int.h"

enum chrono { CHRONO_NONE, CHRONO_BUSY, CHRONO_RWND, CHRONO_SNDBUF };

void sk_tcp_chrono_update(struct sk_tcp *c, bool rwnd_limited, bool starved)
{
    struct sk_tcp_ext *x = c->x;
    if (x == NULL)
        return;
    if (x->sndbuf_limited && c->sndbuf_size - min_u32(c->snd.len, c->sndbuf_size) >=
                                 c->sndbuf_size / 3)
        x->sndbuf_limited = false;
    bool unsent = seq_lt(c->snd_max, c->sndbuf_seq + c->snd.len);
    bool open = c->state == SK_TCP_ESTABLISHED || c->state == SK_TCP_CLOSE_WAIT;
    uint8_t t = CHRONO_BUSY;
    if (c->snd.len == 0 && c->snd_una == c->snd_max)
        t = CHRONO_NONE;
    else if (x->sndbuf_limited &&
             (x->chrono_type == CHRONO_SNDBUF || (starved && !unsent && open)))
        t = CHRONO_SNDBUF;
    else if (rwnd_limited)
        t = CHRONO_RWND;
    if (t == x->chrono_type)
        return;
    if (x->chrono_type != CHRONO_NONE)
        x->chrono_us[x->chrono_type - 1] += c->st->now - x->chrono_start;
    x->chrono_type = t;
    x->chrono_start = c->st->now;
}

void sk_tcp_chrono_sndbuf_full(struct sk_tcp *c)
{
    if (c->x != NULL)
        c->x->sndbuf_limited = true; /* Linux's SOCK_NOSPACE */
}

void sk_tcp_chrono_info(const struct sk_tcp *c, struct sk_tcp_info *o)
{
    const struct sk_tcp_ext *x = c->x;
    if (x == NULL)
        return;
    uint64_t t[3] = {x->chrono_us[0], x->chrono_us[1], x->chrono_us[2]};
    if (x->chrono_type != CHRONO_NONE)
        t[x->chrono_type - 1] += c->st->now - x->chrono_start;
    o->busy_us = t[0] + t[1] + t[2];
    o->rwnd_limited_us = t[CHRONO_RWND - 1];
    o->sndbuf_limited_us = t[CHRONO_SNDBUF - 1];
    o->last_data_recv_us = c->st->now - x->last_data_rcv;
    o->rcv_mss_seen = x->ack_rcv_mss ? x->ack_rcv_mss : (uint16_t)min_u32(536, c->rcv_mss);
}
