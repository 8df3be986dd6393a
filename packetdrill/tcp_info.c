/* TCP_INFO: Linux's struct tcp_info (include/uapi/linux/tcp.h), filled the way Linux's
 * tcp_get_info() (net/ipv4/tcp.c) fills it, from sk_tcp_get_info. Linux's scripts read it in
 * their Python blocks (`%{ assert tcpi_snd_cwnd == 10 }%`): packetdrill calls the host's
 * getsockopt(TCP_INFO) on the socket's descriptor, which the preloaded shim (pdhost.c) hands to
 * the adapter. Counts are in segments of the sender's MSS, times in microseconds, as Linux's. */
#include <linux/tcp.h>
#include <string.h>

#include "tcp_info.h"

/* Linux's TCP_* state numbers (include/net/tcp_states.h). */
static uint8_t linux_state(enum sk_tcp_state s)
{
    static const uint8_t map[SK_TCP_STATE_COUNT] = {
        [SK_TCP_CLOSED] = 7,      [SK_TCP_LISTEN] = 10,     [SK_TCP_SYN_SENT] = 2,
        [SK_TCP_SYN_RECEIVED] = 3, [SK_TCP_ESTABLISHED] = 1, [SK_TCP_FIN_WAIT_1] = 4,
        [SK_TCP_FIN_WAIT_2] = 5,  [SK_TCP_CLOSE_WAIT] = 8,  [SK_TCP_CLOSING] = 11,
        [SK_TCP_LAST_ACK] = 9,    [SK_TCP_TIME_WAIT] = 6,
    };
    return (unsigned)s < SK_TCP_STATE_COUNT ? map[s] : 7;
}

/* Bytes to whole segments, as Linux counts cwnd and ssthresh. An ssthresh never set is
 * Linux's TCP_INFINITE_SSTHRESH. */
static uint32_t segs(uint32_t bytes, uint16_t mss)
{
    return mss ? bytes / mss : 0;
}

static void fill_connection(const struct pd_info_in *in, struct tcp_info *o)
{
    const struct sk_tcp_info *t = &in->ti;
    uint16_t mss = t->snd_mss;
    o->tcpi_state = linux_state(t->state);
    o->tcpi_ca_state = t->ca_state;
    o->tcpi_retransmits = (uint8_t)t->retransmits;
    o->tcpi_backoff = (uint8_t)t->retransmits;
    if (t->ts_ok)
        o->tcpi_options |= TCPI_OPT_TIMESTAMPS;
    if (t->sack_ok)
        o->tcpi_options |= TCPI_OPT_SACK;
    if (t->snd_wscale || t->rcv_wscale) {
        o->tcpi_options |= TCPI_OPT_WSCALE;
        o->tcpi_snd_wscale = t->snd_wscale & 15;
        o->tcpi_rcv_wscale = t->rcv_wscale & 15;
    }
    o->tcpi_rto = t->rto_us;
    o->tcpi_snd_mss = mss;
    o->tcpi_rcv_mss = t->rcv_mss;
    o->tcpi_unacked = t->unacked;
    o->tcpi_sacked = t->sacked;
    o->tcpi_lost = t->lost;
    o->tcpi_retrans = t->retrans_out;
    o->tcpi_rtt = t->srtt_us;
    o->tcpi_rttvar = t->rttvar_us;
    /* synack's "arbitrarily high" ssthresh is its largest window, 2^30 (src/tcp/tcp_cc.h
     * SK_CWND_MAX), never set otherwise: Linux's TCP_INFINITE_SSTHRESH. */
    o->tcpi_snd_ssthresh = t->ssthresh >= (1u << 30) ? 0x7fffffffu : segs(t->ssthresh, mss);
    o->tcpi_snd_cwnd = segs(t->cwnd, mss);
    o->tcpi_advmss = in->advmss;
    o->tcpi_reordering = t->reordering;
    o->tcpi_total_retrans = (uint32_t)t->total_retransmits;
    o->tcpi_bytes_acked = t->bytes_acked;
    o->tcpi_bytes_received = t->bytes_received;
    o->tcpi_bytes_sent = t->bytes_sent;
    o->tcpi_min_rtt = t->min_rtt_us;
    o->tcpi_delivered = (uint32_t)t->delivered;
    o->tcpi_reord_seen = t->reord_seen;
    uint32_t in_flight = t->snd_nxt - t->snd_una;
    o->tcpi_notsent_bytes = t->sndbuf_used > in_flight ? t->sndbuf_used - in_flight : 0;
    o->tcpi_snd_wnd = t->snd_wnd;
}

int pd_linux_tcp_info(const struct pd_info_in *in, void *val, socklen_t *len)
{
    if (val == NULL || len == NULL)
        return 14; /* EFAULT */
    struct tcp_info o;
    memset(&o, 0, sizeof(o));
    if (in->connection)
        fill_connection(in, &o);
    else
        o.tcpi_state = in->listening ? 10 : 7;
    /* Linux copies min(len, sizeof(struct tcp_info)). packetdrill asks for its own copy of the
     * struct, which may be newer than the headers this is built with: the fields beyond ours are
     * given as zero, as an older kernel's caller would see them missing. */
    if (*len > 512)
        *len = 512; /* far beyond any kernel's struct so far */
    socklen_t n = *len < (socklen_t)sizeof(o) ? *len : (socklen_t)sizeof(o);
    memset(val, 0, (size_t)*len);
    memcpy(val, &o, (size_t)n);
    return 0;
}
