/* The stack object and the TCB: private structures shared by src/, src/ip/ and src/tcp/.
 *
 * Nothing here is exported: every non-static symbol still starts with sk_ so that a static
 * link never collides with an application's names.
 */
#ifndef SK_INTERNAL_H
#define SK_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "synack/addr.h"
#include "synack/stack.h"
#include "synack/tcp.h"
#include "synack/trace.h"
#include "util/list.h"
#include "wire/wire.h"

/* ---- Sequence arithmetic (RFC 9293 §3.4): modulo 2^32, compare only through these. ---- */
static inline bool seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool seq_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline bool seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline bool seq_ge(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }
/* lo <= x <= hi */
static inline bool seq_between(uint32_t lo, uint32_t x, uint32_t hi)
{
    return seq_le(lo, x) && seq_le(x, hi);
}
static inline uint32_t seq_max(uint32_t a, uint32_t b) { return seq_gt(a, b) ? a : b; }
static inline uint32_t seq_min(uint32_t a, uint32_t b) { return seq_lt(a, b) ? a : b; }

static inline uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }
static inline uint32_t max_u32(uint32_t a, uint32_t b) { return a > b ? a : b; }

/* ---- Byte ring used for the send and receive buffers. ---- */
struct sk_ring {
    uint8_t *buf;
    uint32_t size;  /* capacity in bytes; 0 until allocated */
    uint32_t head;  /* offset of the first byte */
    uint32_t len;   /* bytes held from head */
};

/* ---- Sets of sequence ranges (tcp/tcp_ranges.h): sorted, disjoint, modulo 2^32. ---- */
struct sk_range {
    uint32_t left, right; /* [left, right) */
};
struct sk_ranges {
    struct sk_range *r; /* the owner's storage, cap entries; a TCB's is allocated with the
                         * first range and freed when the set empties (sk_tcb_ranges_*) */
    uint8_t n, cap;
    uint64_t *work;     /* entries visited by operations, or NULL */
};
/* Out-of-order ranges held in the receive ring (RFC 9293 §3.10.7.4 "text"). */
/* sk_config.max_sndbuf_bytes / max_rcvbuf_bytes when 0 (see stack.h). */
#define SK_MAX_SNDBUF_DEFAULT (4u * 1024 * 1024)
#define SK_MAX_RCVBUF_DEFAULT (6u * 1024 * 1024)
#define SK_OOO_MAX 16
/* SACK scoreboard of the sender (RFC 6675 §3): ranges the peer SACKed above SND.UNA. */
#define SK_SB_MAX 32

struct sk_cc_ops;

/* The timers of a TCB: the traced kinds of trace.h, then one internal kind, never traced:
 * TCB_TIMER_RELEASE frees rings left empty and unused for SK_RING_HOLD_US (tcp_conn.c). */
#define SK_TCB_TIMERS (SK_TIMER_COUNT + 1)
#define TCB_TIMER_RELEASE ((enum sk_timer_kind)SK_TIMER_COUNT)

enum tcb_flag {
    TF_USER = 1u << 0,        /* the application holds the handle */
    TF_FIN_QUEUED = 1u << 1,  /* CLOSE/shutdown: FIN follows the queued data */
    TF_ACK_NOW = 1u << 2,     /* send an ACK at the end of this input */
    TF_ACK_DELAYED = 1u << 3, /* an ACK is owed, the delayed-ACK timer runs */
    TF_NODELAY = 1u << 4,     /* Nagle off */
    TF_FIN_RCVD = 1u << 5,    /* the peer's FIN has been accepted (RCV.NXT is past it) */
    TF_OOO_FIN = 1u << 6,     /* a FIN arrived out of order: ooo_fin_seq */
    TF_RTT_TIMING = 1u << 7,  /* rtt_seq is being timed (Karn: not a retransmission) */
    TF_PASSIVE = 1u << 8,     /* opened from a listener (SYN-RECEIVED returns to LISTEN) */
    TF_WSCALE = 1u << 9,      /* window scaling agreed */
    TF_SACK = 1u << 10,       /* SACK permitted both ways */
    TF_TS = 1u << 11,         /* timestamps agreed */
    TF_RCV_SHUT = 1u << 12,   /* the application closed or shut its receiving side */
    TF_DEAD = 1u << 13,       /* on the reap list, to be freed */
    TF_IN_ACCEPTQ = 1u << 14, /* established, waiting in the listener's accept queue */
    TF_RECOVERY = 1u << 15,   /* fast recovery (RFC 6582) */
    TF_WRITE_PENDING = 1u << 16, /* the application waits to write (sk_tcp_set_write_pending) */
    TF_SYN_PLAIN = 1u << 17,  /* our SYN went out with MSS only (syn_rtx_plain_after) */
    TF_ECN = 1u << 18,        /* RFC 3168: ECN agreed on this connection */
    TF_ECN_REQ = 1u << 19,    /* our last SYN was an ECN-setup SYN */
    TF_ECN_ECE = 1u << 20,    /* a CE mark arrived: ACKs carry ECE until the peer's CWR */
    TF_ECN_CWR = 1u << 21,    /* we reacted to ECE: the next new data carries CWR */
    TF_NOOPT = 1u << 22,      /* no TCP options at all, sent or taken (sk_tcp_params) */
    TF_IN_SYNQ = 1u << 23,    /* half-open, on its listener's list of them */
    TF_SYN_ACKED = 1u << 24,  /* SND.UNA has passed ISS: our SYN is acknowledged. A flag, not
                               * seq_gt(SND.UNA, ISS), which turns false again after 2 GiB */
    TF_RCV_WND_ZERO = 1u << 25, /* the last window field we sent was 0 (tcp_input.c) */
    TF_PROBING = 1u << 26,    /* a zero-window probe was sent and the window has not opened
                               * since (tcp_timer.c on_persist, sk_tcp_send_ack) */
    /* Corking (sk_tcp_set_cork, sk_tcp_sendv_flags with SK_TCP_SEND_MORE; Linux's TCP_CORK and MSG_MORE): */
    TF_CORK = 1u << 27,       /* TCP_CORK: a short last segment waits */
    TF_MORE = 1u << 28,       /* inside a MSG_MORE send: its own output holds a short tail */
    TF_NOPUSH = 1u << 29,     /* the last data queued came with MSG_MORE: no PSH at its end */
    TF_PUSH_ONCE = 1u << 30,  /* this output sends a short tail whatever the cork (an enum
                               * constant must fit an int: bit 31 is not used) */
};

/* A list of TCBs, oldest first (util/list.h), with its length: the SYN queue's lengths are
 * limits, checked on every SYN, so they are kept rather than counted. */
struct sk_tcb_fifo {
    struct sk_list list;
    uint32_t len;
};

/* A listener's own state (tcp_listen.c), allocated by listen and freed with the listener:
 * connections do not carry it. */
struct sk_tcp_listen {
    int backlog;
    uint32_t accept_queued;
    struct sk_list acceptq;             /* established children not yet accepted, oldest first */
    /* Half-open children (tcp_listen.c): a child is on its listener's list (for close and
     * eviction) and on the stack's (for max_half_open), both oldest first. */
    struct sk_tcb_fifo synq;
    sk_time_us syncookie_until;         /* cookies sent are valid until then */
    bool v4only, v6only;                /* takes one family only (sk_tcp_listen_family) */
    bool bound;                         /* takes SYNs to `addr` only (sk_tcp_listen_addr) */
    struct sk_addr addr;
    /* TCP Fast Open (tcp/tcp_fastopen.c): the most children whose SYN data was taken that may
     * be pending (not yet acknowledged nor accepted) at once, 0: none (sk_tcp_set_fastopen),
     * and how many are. */
    uint32_t fo_qlen_max, fo_qlen;
    bool fo_key_set;                    /* fo_key is this listener's (sk_tcp_set_fastopen_key) */
    uint8_t fo_key[16];
};

/* The slow-start exit's state (cc_slowstart.c: RFC 9406 HyStart++ or Linux's HyStart) and the
 * send times it takes per-ACK RTT samples from, kept only by connections that use it. Times
 * are the clock's low 32 bits, µs. */
struct sk_hystart_state {
    uint8_t phase;                  /* enum in cc_slowstart.c: slow start, CSS, done */
    uint8_t samples;                /* rttSampleCount (Linux: sample_cnt) this round */
    uint8_t css_rounds;             /* RFC 9406: rounds spent in CSS */
    uint8_t n, head;                /* sent[]: entries, the oldest */
    uint32_t window_end;            /* windowEnd (Linux end_seq): the round's last byte */
    uint32_t cur_min, last_min;     /* currentRoundMinRTT, lastRoundMinRTT (Linux:
                                     * curr_rtt); UINT32_MAX: infinity */
    uint32_t css_baseline;          /* cssBaselineMinRtt */
    uint32_t delay_min;             /* Linux: the least RTT seen; 0: none yet */
    uint32_t round_start, last_ack; /* Linux's ACK train */
    uint32_t floor;                 /* no sample for data at or below this (resent) */
    uint32_t sample_us;             /* this ACK's RTT sample, 0: none */
    struct { uint32_t end, t; } sent[16]; /* new data: SND.MAX after a send, and when */
};

/* What a connection needs only once it is synchronized and moving data: congestion control
 * (RFC 5681, CUBIC's RFC 9438 state), loss recovery (RFC 6675, RFC 6582), the lost-
 * retransmission watch, tail loss probes (RFC 8985), the SACK scoreboard and reassembly ranges,
 * SACK and D-SACK reporting (RFC 2018, RFC 2883), byte counts. Allocated by sk_tcb_ext_attach
 * when the connection reaches ESTABLISHED (or FIN-WAIT-1 straight from SYN-RECEIVED) and freed
 * with the TCB: a half-open connection (SYN-SENT, SYN-RECEIVED: a SYN flood's victims) holds
 * only the core. c->x is NULL before that and never NULL after. */
struct sk_tcp_ext {
    struct {                            /* RFC 9438 §4.1.2, windows in segments */
        double w_max;                   /* W_max */
        double w_last_max;              /* cwnd_prior: cwnd before the last reduction */
        double w_est;                   /* W_est, the Reno-friendly estimate (§4.3) */
        double k;                       /* K, seconds (§4.2) */
        sk_time_us epoch_start;         /* t_epoch, SK_TIME_NEVER outside an epoch */
        sk_time_us last_ack;            /* last growth in this epoch (§5.8) */
    } cubic;
    /* The slow-start exit (cc_slowstart.c): NULL unless sk_config.hystart is on for CUBIC;
     * allocated by sk_cc_hystart_init, freed with x. */
    struct sk_hystart_state *hs;
    uint32_t cc_acked;                  /* bytes acked toward the next cwnd increase */
    bool cwnd_limited;                  /* RFC 7661: sending stopped at cwnd since the last ACK */
    bool cubic_after_rto;               /* RFC 9438 §4.8: the next epoch is the first after a
                                         * timeout (with cubic, out of it to fill a hole) */
    /* sk_config.pacing (tcp_pacing.c): data segments sent, up to 255 (the first ten go
     * unpaced, as Linux's tcp_update_skb_after_send lets them). */
    uint8_t pace_segs;
    /* congestion control (cc helper): cc_slowstart.c. cwv: Linux's cwnd validation
     * (tcp_cwnd_validate). */
    struct {
        bool win_cwnd_limited;          /* cwnd was filled in this window (is_cwnd_limited) */
        uint32_t max_flight;            /* most bytes in flight in it (max_packets_out) */
        uint32_t usage_seq;             /* the window ends when SND.UNA reaches this */
    } cwv;
    struct {                            /* CUBIC as Linux computes it (cc_cubic_linux.c):
                                         * struct bictcp, windows in packets, times in ms */
        uint32_t cnt, last_max_cwnd, last_cwnd, last_time, origin, k, epoch_start;
        uint32_t ack_cnt, tcp_cwnd, cwnd_cnt, lsnd;
    } lcubic;
    /* Lost-retransmission watch (tcp_recovery.c): the retransmission at rxt_first went out at
     * rxt_start, when SND.MAX was rxt_fence; data above the fence SACKed an RTT later says it
     * was lost again. */
    bool rxt_watch;
    bool tlp_out, tlp_rxt;              /* a probe is in flight; it was a retransmission */
    bool tlp_dsacked;                   /* a D-SACK showed that retransmission was needless */
    uint8_t sack_hist_n;
    /* sk_config.pacing (tcp_pacing.c): the earliest time the next data segment may leave
     * (Linux's tcp_wstamp_ns), 0: none sent yet. */
    sk_time_us pace_stamp;
    uint32_t dupacks;
    uint32_t recover;                   /* RecoveryPoint */
    uint32_t high_rxt;                  /* HighRxt */
    uint32_t rxt_first, rxt_fence;
    uint32_t ecn_recover;               /* RFC 3168 §6.1.2: one reduction per window */
    sk_time_us rxt_start;
    uint32_t tlp_end_seq;               /* RFC 8985 §7: TLP.end_seq of the probe in flight */
    uint32_t sack_hist[4];              /* RFC 2018 §4: edges of recently reported ranges */
    uint32_t dsack_left, dsack_right;   /* RFC 2883 duplicate to report, if left != right */
    uint32_t unacked_segs;              /* full segments received since our last ACK */
    uint32_t flow_label;                /* RFC 6437 §3: an IPv6 connection's label, hashed
                                         * at its first segment once synchronized; 0: not yet */
    /* Packetization-layer path MTU discovery (tcp_plpmtu.c, RFC 4821, RFC 8899 §5.2). Sizes
     * are packets: IP header, TCP header with the options of a full segment, payload. */
    struct {
        uint8_t state;                  /* enum sk_plpmtu_state */
        bool started;                   /* the search state below was set up */
        bool repairing;                 /* a lost probe's bytes went again at the MSS, ending
                                         * at probe_end; recovery waits until SND.UNA passes */
        uint8_t lost_here;              /* probes of the current size lost so far */
        uint16_t ceiling;               /* the largest size the search may reach: our link,
                                         * the peer's MSS option, TCP_MAXSEG, ICMP */
        uint16_t search_low, search_high; /* RFC 4821 §7.1 */
        uint16_t probe_mtu;             /* the probe in flight, 0 if none */
        uint32_t probe_seq, probe_end;  /* its sequence space (in BASE or ERROR, probe_seq is
                                         * SND.UNA when the size was lowered) */
        uint32_t search_done_ms;        /* when SEARCH_COMPLETE was reached (ms, wraps) */
        uint16_t probes_sent, probes_lost;
    } plp;
    struct sk_ranges sb;                /* storage allocated at the first range; sack_work
                                         * counts its operations */
    struct sk_ranges ooo;               /* storage allocated at the first range */
    uint64_t sack_work;
    uint64_t bytes_sent, bytes_acked, bytes_received;
    /* Linux's ACK policy (sk_config.quickack_max, delack_max_us; tcp_quickack.c): quick ACKs
     * left, the connection is interactive, the largest segment seen (icsk_ack.rcv_mss), the
     * ACK timeout (icsk_ack.ato; 0 until the first data) and when data last came. */
    uint8_t quick;
    bool pingpong;
    uint16_t ack_rcv_mss;
    uint32_t ato_us;
    sk_time_us lrcv_time;
    /* Where the sender's time went (tcp_chrono.c; Linux's tcp_info chrono): the running kind
     * and since when, the totals of busy, receive-window-limited and send-buffer-limited time;
     * a send found the buffer full and it is not writable since (Linux's SOCK_NOSPACE); when
     * in-order data (or the synchronization) last came. */
    uint8_t chrono_type;
    bool sndbuf_limited;
    /* sk_config.nagle_minshall: the end of the last short segment sent (Linux's snd_sml). */
    uint32_t snd_sml;
    sk_time_us chrono_start;
    uint64_t chrono_us[3];
    sk_time_us last_data_rcv;

    /* ---- Loss detection and recovery: RACK-TLP (RFC 8985, tcp_rack.c) and PRR (RFC 6937,
     * tcp_recovery.c). ---- */
    struct sk_rack_seg *segs;           /* transmit records over [SND.UNA, SND.MAX), by
                                         * sequence (tcp_rack.c): a ring, allocated while
                                         * data is out */
    uint32_t segs_n;                    /* records, from segs[segs_head] on */
    uint16_t segs_head;                 /* the oldest record's slot */
    uint16_t segs_mask;                 /* capacity - 1 (a power of two up to 65536); 0: none */
    bool rack_off;                      /* records could not be kept: RFC 6675 until all
                                         * that is out is acknowledged (tcp_rack.c) */
    bool rack_reord;                    /* RACK.reordering_seen (§6.2 step 3) */
    bool rack_dsack_round_on;           /* RACK.dsack_round is set (§6.2 step 4) */
    bool in_loss;                       /* after an RTO, until SND.UNA passes `recover` */
    bool in_cwr;                        /* ECN's reduction (RFC 3168 §6.1.2) runs by PRR */
    bool rack_rtx_acked;                /* this ACK acknowledged retransmitted data
                                         * cumulatively */
    uint8_t reo_wnd_mult, reo_wnd_persist; /* RACK.reo_wnd_mult, RACK.reo_wnd_persist */
    uint32_t rack_end_seq, rack_fack, rack_dsack_round;
    uint32_t rack_rtt_us;               /* RACK.rtt */
    sk_time_us rack_xmit_ts;            /* RACK.xmit_ts as a send stamp (tcp_rack.c), 0: no
                                         * segment delivered yet */
    uint32_t min_rtt_us;                /* RACK.min_RTT, 0: no sample yet */
    uint32_t reo_wnd_us;                /* RACK.reo_wnd, as last computed */
    uint32_t reordering, reord_seen;    /* Linux's tp->reordering (segments), reorderings seen */
    uint64_t delivered;                 /* bytes delivered, cumulatively or by SACK */
    uint32_t prr_delivered, prr_out;    /* RFC 6937 §3, bytes */
    uint32_t recover_fs;                /* RFC 6937 §3 RecoverFS */
    uint32_t rack_rtx_high;             /* no record at or above it was ever sent again
                                         * (bounds §6.2 step 5's walk, tcp_rack.c) */
};

/* The TCB (RFC 9293 §3.3.1) or a listener (state LISTEN, with its lsn): what every connection
 * holds in every state; the rest waits in struct sk_tcp_ext. */
struct sk_tcp {
    struct sk_stack *st;
    struct sk_tcp_ext *x;               /* NULL until synchronized (sk_tcb_ext_attach) */
    enum sk_tcp_state state;
    uint32_t flags;
    uint64_t conn_id;

    /* The 4-tuple. Addresses of either family: an IPv4 connection's are IPv4-mapped
     * (synack/addr.h), and that form alone decides which IP carries the connection. */
    struct sk_addr laddr, raddr;
    uint16_t lport, rport;

    /* Options (RFC 7323, RFC 2018, RFC 9293 §3.7.1). */
    uint16_t snd_mss;                   /* largest payload we send */
    uint16_t rcv_mss;                   /* MSS we announced */
    uint16_t peer_mss;                  /* PLPMTUD (tcp_plpmtu.c): the peer's MSS option (536
                                         * without one), the ceiling of the search */
    uint8_t snd_wscale, rcv_wscale;
    /* Karn's rule for timestamp echoes (tcp_recovery.c advance_una): the segment at SND.UNA was
     * retransmitted (una_rtx) with our TSval ts_una_rtx. */
    bool una_rtx;
    uint8_t retries;                    /* consecutive timeouts of the current timer */
    uint8_t persist_shift;              /* zero-window probe backoff */
    uint8_t probes_out;                 /* zero-window probes the peer has not answered */
    uint8_t syn_retries;                /* SYN retransmissions before giving up; 0: sk_config's
                                         * (sk_tcp_params.syn_retries, Linux's TCP_SYNCNT) */
    bool keepalive;
    uint8_t ka_cnt;
    /* The link refused our data (sk_stack_output_refused) with nothing in flight: the
     * persist timer retries every 500 ms (in a hole). */
    bool tx_blocked;
    uint16_t fo;                        /* TCP Fast Open (RFC 7413, tcp_fastopen.c):
                                         * enum sk_fo_flag bits (in a hole) */
    uint32_t ts_una_rtx;
    uint32_t ts_recent;
    uint32_t ts_offset;                 /* RFC 7323 §5.4: randomized per connection */
    uint32_t heap_idx;                  /* index in the stack's heap, UINT32_MAX if absent */
    /* When TS.Recent was last set (RFC 7323 §5.5), in seconds of the stack's clock: the
     * check is against 24 days, and Linux keeps its ts_recent_stamp in seconds too. */
    uint32_t ts_recent_age_s;
    /* RFC 5961 §7 (sk_config.invalid_ack_ratelimit_us): when the last ACK for an unacceptable
     * segment went, in ms of the stack's clock (wrapping; Linux's last_oow_ack_time is 32-bit
     * jiffies); 0: none yet. */
    uint32_t invalid_ack_ms;

    /* Send sequence space. */
    uint32_t iss;
    uint32_t snd_una, snd_nxt, snd_max; /* snd_max: highest sequence number sent + 1 */
    uint32_t snd_wnd;                   /* peer's window, scaled */
    uint32_t max_snd_wnd;               /* largest window seen (RFC 5961 §5.2) */
    uint32_t snd_wl1, snd_wl2;
    uint32_t sndbuf_seq;                /* sequence number of the send ring's first byte */

    /* Receive sequence space. */
    uint32_t irs;
    uint32_t rcv_nxt;
    uint32_t rcv_adv;                   /* right edge last advertised: never moves left */
    uint32_t last_ack_sent;
    uint32_t ooo_fin_seq;
    uint32_t sndbuf_size, rcvbuf_size;  /* configured sizes; rings are allocated lazily */
    uint32_t snd_resv;                  /* free bytes after snd's data lent by
                                         * sk_tcp_send_reserve (the ring is pinned) */
    uint32_t rcv_lent;                  /* bytes from rcv's head lent by sk_tcp_recv_borrow
                                         * (the ring is pinned) */
    struct sk_ring snd;
    struct sk_ring rcv;

    /* RFC 6298 retransmission timer state, microseconds. */
    uint32_t srtt_us, rttvar_us, rto_us;
    uint32_t rtt_seq;
    sk_time_us rtt_start;
    uint32_t ka_probes;                 /* unanswered keep-alive probes (a user timeout may
                                         * allow more than ka_cnt's 255) */
    uint32_t ka_intvl_us;
    uint64_t ka_idle_us;
    sk_time_us last_rcv;                /* when the peer last sent us a segment */
    uint64_t user_timeout_us;           /* 0: none (only the retry limits) */

    /* Congestion control (tcp_cc.h); the rest of its state is in x. */
    const struct sk_cc_ops *cc;
    uint32_t cwnd, ssthresh;
    sk_time_us last_send;               /* for restart after idle (RFC 5681 §4.1) */

    /* Timers: one deadline per kind; the earliest is this TCB's key in the stack's heap.
     * SK_TCB_TIMERS adds the internal ring-release timer (TCB_TIMER_RELEASE) to the kinds. */
    sk_time_us timer[SK_TCB_TIMERS];
    sk_time_us deadline;                /* the earliest of timer[]: the heap's key */

    /* Error the application will see (negative errno), 0 if none. */
    int error;
    /* RFC 1122 §4.2.3.9: the last soft ICMP error (negative errno), kept for diagnosis. */
    int soft_error;
    unsigned last_events;
    /* Stats (the byte counts are in x): 2^32 retransmitted segments are terabytes sent again
     * on one connection, so 32 bits here (sk_tcp_info's field stays 64). */
    uint32_t total_retransmits;

    /* Listener side. */
    struct sk_tcp_listen *lsn;          /* a listener's own part; NULL for a connection */
    struct sk_tcp *listener;            /* parent, for passive children */
    /* A TCB is on at most one of these at a time: a child leaves its listener's SYN queue
     * before it joins the accept queue (sk_tcp_child_established), and leaves both before it
     * is reaped (sk_tcp_terminate, close_listener). Its flags say which (TF_IN_SYNQ,
     * TF_IN_ACCEPTQ, TF_DEAD); sk_list_linked on any of them says nothing. */
    union {
        struct sk_list_node synq_link;    /* on lsn->synq (TF_IN_SYNQ) */
        struct sk_list_node acceptq_link; /* on lsn->acceptq (TF_IN_ACCEPTQ) */
        struct sk_list_node reap_link;    /* on the stack's reap list (TF_DEAD) */
    };
    struct sk_list_node halfopen_link;  /* on the stack's halfopen, beside synq_link */

    /* Socket-level marks (tcp_marks.c): low-water marks, record boundaries (MSG_EOR). NULL
     * until one is set or a record is marked: the stack's defaults apply. */
    struct sk_tcp_marks *marks;

    /* Application. */
    sk_tcp_callback cb;
    void *cb_ctx;

    /* Table links. */
    struct sk_tcp *hash_next;           /* a hash bucket's chain: part of the table, not a list */
    struct sk_list_node all_link;       /* on the stack's list of every TCB */
};

/* ---- Secrets: one independent 128-bit SipHash key per purpose (sk_key). ---- */
enum sk_key_purpose {
    SK_KEY_ISN,     /* RFC 6528 F(): initial sequence numbers */
    SK_KEY_HASH,    /* the connection and listener tables' bucket hash */
    SK_KEY_TS,      /* RFC 7323 §5.4: timestamp offset per address pair */
    SK_KEY_COOKIE,  /* RFC 4987 §3.6: SYN cookies */
    SK_KEY_PORT,    /* RFC 6056: ephemeral port selection */
    SK_KEY_RNG,     /* the keyed generator behind sk_random */
    SK_KEY_IID,     /* RFC 7217: stable-privacy IPv6 interface identifiers */
    SK_KEY_FLOW,    /* RFC 6437 §3: IPv6 flow labels from a keyed hash of the flow */
    SK_KEY_TFO,     /* RFC 7413 §4.1.2: TCP Fast Open cookies (unless sk_config.tfo_key) */
    SK_KEY_COUNT
};

/* ---- The stack ---- */
struct sk_stack {
    struct sk_config cfg;
    sk_time_us now;
    uint64_t rng_counter;              /* sk_random: SipHash-2-4 in counter mode (SK_KEY_RNG) */
    uint64_t keys[SK_KEY_COUNT][2];    /* derived at sk_stack_new; see sk_key */
    struct sk_ports *ports;            /* ephemeral-port picker and port use (ports.c) */
    uint64_t next_conn_id;
    /* RACK's send stamps (tcp_rack.c): the microsecond last stamped and the stamps given in
     * it, so that transmissions in one microsecond keep their order. */
    sk_time_us rack_stamp_us;
    uint32_t rack_stamp_n;
    enum sk_seg_why seg_cause;         /* the event now making TCP send (sk_tcp_cause) */

    /* Connections by 4-tuple and listeners by port: chained hash tables. */
    struct sk_tcp **conn_tab;
    uint32_t conn_tab_mask;
    struct sk_tcp **listen_tab;
    uint32_t listen_tab_mask;

    /* Timers: a binary min-heap of TCBs keyed by their earliest deadline. */
    struct sk_tcp **heap;
    uint32_t heap_len, heap_cap;

    struct sk_list all;                /* every TCB, newest first, for sk_stack_free */
    struct sk_tcb_fifo halfopen;       /* every listener's half-open children (tcp_listen.c) */
    struct sk_list reap;               /* TCBs to free when the current entry point returns,
                                        * last reaped first */
    uint32_t depth;                    /* entry-point nesting (callbacks may re-enter) */

    struct sk_stack_counters ctr;

    /* RFC 5961 §7 (sk_config.challenge_ack_limit): challenge ACKs left in the interval that
     * ends at challenge_end; the budget is drawn afresh at random for each interval. */
    sk_time_us challenge_end;
    uint32_t challenge_left;

    /* Scratch for building one outgoing frame: link header, IPv4 header, transport. tx_cap
     * holds the largest frame: the MTU, or caps.tso_max for a TSO super-segment. */
    uint8_t *tx;
    size_t tx_cap;
    /* sk_stack_output_refused: the driver refused the frame just output. */
    bool tx_refused;
    /* st->tx is the driver's buffer (sk_config.tx_buffer) while a frame is built in it, else
     * this, the stack's own, of tx_cap bytes (sk_tx_begin). */
    uint8_t *tx_own;
    /* The frame being handed in by sk_stack_input_meta: its sk_frame_meta flags that the
     * stack honours (SK_FRAME_CSUM_VALID / _PARTIAL, only from a link with caps.rx_csum);
     * 0 between calls and for every frame without them. */
    uint8_t rx_flags;

    /* ARP cache and queue, reassembly, ICMP rate limit, UDP sockets (src/ip/ip_int.h), and
     * the earliest deadline among them, folded into sk_stack_next_deadline. */
    struct sk_ipstate *ip;
    sk_time_us ip_deadline;

    /* TIME-WAIT records (tcp/tcp_timewait.c), created with the first one, and the deadline of
     * the oldest, folded into sk_stack_next_deadline. */
    struct sk_twtab *tw;
    sk_time_us tw_deadline;

    /* The socket layer's descriptor table (src/socket/), created by the first sk_socket. */
    struct sk_socktab *socks;

    /* TCP Fast Open's client cookie cache (tcp/tcp_fastopen.c), created with its first entry. */
    struct sk_tfo_cache *tfo;
};

/* stack.c */
void *sk_mem_alloc(struct sk_stack *st, size_t size);
void sk_mem_free(struct sk_stack *st, void *p, size_t size);
/* The keyed generator: SipHash-2-4 under SK_KEY_RNG over a counter, so that values seen on
 * the wire tell nothing about the next ones nor about any other key. */
uint64_t sk_random(struct sk_stack *st);
/* The key for one purpose: keys are independent, so learning one (a cookie forged by brute
 * force, say) tells nothing about another. */
static inline const uint64_t *sk_key(const struct sk_stack *st, enum sk_key_purpose p)
{
    return st->keys[p];
}
void sk_drop(struct sk_stack *st, enum sk_drop_reason r, const struct sk_tcp *c,
             const uint8_t *frame, size_t len);
void sk_trace_emit(struct sk_stack *st, struct sk_trace_event *ev);
void sk_enter(struct sk_stack *st);
void sk_leave(struct sk_stack *st);

/* ports.c: RFC 6056 ephemeral ports, one picker for TCP connect, bind/listen and UDP.
 * taken(st, port, ctx) says whether a candidate is unusable; it must be a table lookup. */
int sk_ports_init(struct sk_stack *st);
void sk_ports_free(struct sk_stack *st);
uint16_t sk_port_pick(struct sk_stack *st, const struct sk_addr *raddr, uint16_t rport,
                      bool (*taken)(struct sk_stack *st, uint16_t port, void *ctx), void *ctx);
/* How many TCP endpoints (listeners, connections in any state) use a local port: kept by the
 * connection tables, read in O(1) by bind and the picker. sk_port_ref fails only with -ENOMEM. */
int sk_port_ref(struct sk_stack *st, uint16_t port);
void sk_port_unref(struct sk_stack *st, uint16_t port);
uint32_t sk_port_refs(const struct sk_stack *st, uint16_t port);
/* Sockets that own a TCP port by bind() or listen() (and connections accepted on it), from
 * then until close: connect's picker skips a held port (see ports.c). -ENOMEM only. */
int sk_port_hold(struct sk_stack *st, uint16_t port);
void sk_port_release(struct sk_stack *st, uint16_t port);
bool sk_port_held(const struct sk_stack *st, uint16_t port);

/* ip/udp.c, for the socket layer: sk_udp_bind where `reuse` lets sockets that all set it
 * share the port (SO_REUSEADDR); and the connected peer (0, 0: none), which chooses among
 * them and keeps other senders' datagrams away (Linux __udp4_lib_lookup). */
struct sk_udp;
int sk_udp_bind_reuse(struct sk_stack *st, uint16_t port, bool reuse, struct sk_udp **out);
void sk_udp_set_peer(struct sk_udp *u, const struct sk_addr *addr, uint16_t port);
void sk_udp_set_reuse(struct sk_udp *u, bool reuse);
/* Makes u take IPv4 only (family 4), IPv6 only (6) or both (0, the default). */
void sk_udp_set_family(struct sk_udp *u, int family);
/* Binds u to our address a (Linux's inet_rcv_saddr): it takes datagrams to a only, none to a
 * multicast or broadcast address, and sends from a; the unspecified address: any, as before. */
void sk_udp_set_local(struct sk_udp *u, const struct sk_addr *a);

/* The keyed-hash input for an address pair followed by ntail host-order words (the ISN, the
 * timestamp offset, SYN cookies, the connection tables, the port picker). IPv4 (both addresses
 * IPv4-mapped): the uint32_t array {laddr, raddr, tail...}, addresses in host order, the array
 * in the host's byte order, as it was before IPv6 (tests/ref/ref_isn.h). IPv6: laddr's 16
 * bytes, raddr's 16 bytes in network order, then the tail words as for IPv4. Returns the
 * bytes written to out (at most SK_PAIR_KEY_MAX). */
#define SK_PAIR_KEY_MAX (32 + 4 * 6)
size_t sk_pair_key(const struct sk_addr *laddr, const struct sk_addr *raddr, const uint32_t *tail,
                   size_t ntail, uint8_t *out);

/* The IP datagram that carried a TCP segment or a UDP datagram, either family: what the
 * transports need of the IPv4 header (ip/ipv4.c) or of struct ip6_pkt (ip/deliver6.c). */
struct sk_l3 {
    struct sk_addr src, dst;
    bool v6;
    uint8_t ecn;                 /* the ECN field of the TOS / traffic class (RFC 3168 §5) */
    bool multicast;              /* sent to a multicast (or broadcast) address */
    const uint8_t *payload;      /* the transport header and what follows */
    size_t payload_len;
};

/* Does the link vouch for the transport checksum of the frame being handed in (see
 * rx_flags)? TCP and UDP then skip verifying it, for this frame only. */
static inline bool sk_rx_csum_trusted(const struct sk_stack *st)
{
    return st->rx_flags != 0;
}

/* ip/link.c: the link layer (bare IP or Ethernet) */
/* Points st->tx at the buffer the next frame, of at most `size` bytes (<= tx_cap), is built
 * in: one the driver lends (sk_config.tx_buffer), so that the frame is written once, in
 * place, or else the stack's own. Called before each frame is built; returns st->tx. */
uint8_t *sk_tx_begin(struct sk_stack *st, size_t size);
void sk_link_input(struct sk_stack *st, const uint8_t *frame, size_t len);
/* Bytes of link header before the IPv4 header in st->tx (0 or 14). */
size_t sk_link_hlen(const struct sk_stack *st);

/* ip/ipv4.c */
void sk_ip_input(struct sk_stack *st, const uint8_t *pkt, size_t len, const uint8_t *frame,
                 size_t frame_len);
/* Room before the transport header in st->tx for link and IP headers. */
size_t sk_ip_headroom(const struct sk_stack *st);
/* Is a the limited broadcast or the connected network's directed broadcast (RFC 1122
 * §3.2.1.3)? The socket layer asks before a UDP socket sends to it (SO_BROADCAST). */
bool sk_ip_is_broadcast(const struct sk_stack *st, uint32_t a);
/* Sends the transport segment of `len` bytes already written at st->tx + sk_ip_headroom().
 * meta (NULL: a complete frame) is handed to the link with the frame, its offsets counted
 * from st->tx; a TSO super-segment (gso_type SK_GSO_TCPV4) may be up to caps.tso_max bytes of
 * IP and takes one IP id for each segment the link will cut from it. */
void sk_ip_output(struct sk_stack *st, uint32_t dst, uint8_t proto, uint8_t tos, size_t len,
                  const struct sk_frame_meta *meta);
/* ---- IPv6 seams (issue 13). ip/ipv6.c and ip/nd.c own the IPv6 layer (RFC 8200, RFC 4861,
 * RFC 4862); ip/deliver6.c hands its datagrams to the transports, which own them from there.
 * Addresses are struct sk_addr (synack/addr.h), IPv6 here, never IPv4-mapped. */
struct sk_addr;
struct ip6_pkt {
    const struct sk_addr *src, *dst; /* from the IPv6 header */
    uint8_t proto;                   /* the upper-layer protocol after the extension headers */
    uint8_t tclass;                  /* traffic class: DSCP << 2 | ECN (RFC 3168 §5) */
    uint8_t hop_limit;
    uint32_t flow;                   /* the 20-bit flow label */
    const uint8_t *payload;          /* the upper-layer bytes (after every extension header) */
    size_t payload_len;
    const uint8_t *raw;              /* from the IPv6 header on: what an ICMPv6 error quotes */
    size_t raw_len;
    const uint8_t *frame;            /* the link frame, for traces */
    size_t frame_len;
    bool multicast;                  /* dst is a multicast address (no TCP, no errors back) */
    bool csum_ok;                    /* the link vouched for the transport checksum */
};
/* ip/ipv6.c: input of an IPv6 packet (bare IP, or after the Ethernet header). */
void sk_ip6_input(struct sk_stack *st, const uint8_t *pkt, size_t len, const uint8_t *frame,
                  size_t frame_len);
/* Room before the transport header in st->tx for the link and the fixed IPv6 header. */
size_t sk_ip6_headroom(const struct sk_stack *st);
/* Sends the transport segment of `len` bytes already written at st->tx + sk_ip6_headroom(),
 * as sk_ip_output does for IPv4: src must be one of ours (or :: for DAD's messages only), the
 * next hop resolved by neighbour discovery (the packet waits in its queue), meta as for IPv4
 * (gso_type SK_GSO_TCPV6). Never fragments: TCP sizes to the path MTU. */
void sk_ip6_output(struct sk_stack *st, const struct sk_addr *src, const struct sk_addr *dst,
                   uint8_t proto, uint8_t tclass, uint32_t flow, size_t len,
                   const struct sk_frame_meta *meta);
/* Sends head|body (hlen + blen bytes of transport) from src to dst, fragmenting at the path
 * MTU (RFC 8200 §4.5) when it does not fit; as sk_ip_send. -EMSGSIZE, -ENETUNREACH, or 0. */
int sk_ip6_send(struct sk_stack *st, const struct sk_addr *src, const struct sk_addr *dst,
                uint8_t proto, const uint8_t *head, size_t hlen, const uint8_t *body, size_t blen,
                const struct sk_frame_meta *meta);
/* RFC 6724 §5 source address selection: the address of ours to send to dst from; false if
 * there is none usable (no address of a fitting scope, or all tentative). */
bool sk_ip6_select_src(const struct sk_stack *st, const struct sk_addr *dst, struct sk_addr *src);
/* Is a one of our IPv6 unicast addresses, and usable (not tentative, not expired)? */
bool sk_ip6_is_local(const struct sk_stack *st, const struct sk_addr *a);
/* The path MTU toward dst as the IPv6 layer knows it (RFC 8201; the link MTU, or less after a
 * Packet Too Big), never below 1280 (RFC 8200 §5). */
uint32_t sk_ip6_path_mtu(const struct sk_stack *st, const struct sk_addr *dst);

/* RFC 6437 §3: the flow label of a flow (a keyed hash of the 5-tuple, 20 bits), for
 * sk_ip6_output's flow argument; sk_ip6_send computes it itself. */
uint32_t sk_ip6_flow_label(const struct sk_stack *st, const struct sk_addr *src,
                           const struct sk_addr *dst, uint8_t proto, uint16_t sport,
                           uint16_t dport);

/* ip/deliver6.c: a datagram for TCP or UDP (proto tells which); anything else is answered by
 * the IPv6 layer before it gets here. */
void sk_transport_input6(struct sk_stack *st, const struct ip6_pkt *p);
/* An ICMPv6 error (RFC 4443: type, code, and its 32-bit field: the MTU of a Packet Too Big,
 * the pointer of a Parameter Problem) quoting a packet we sent: quote is that packet from
 * its IPv6 header on, as much as came. The transports check it against their state (RFC
 * 5927) and act; false if nobody owned it (the IPv6 layer counts icmp-unmatched). */
bool sk_transport_icmp6_error(struct sk_stack *st, uint8_t type, uint8_t code, uint32_t info,
                              const uint8_t *quote, size_t quote_len);

/* ip/udp.c: a UDP datagram over IPv6 (false: no socket took a unicast one, the caller may
 * answer port unreachable), and an ICMPv6 error quoting one we sent to dst (l4: its first
 * bytes), as sk_udp_icmp_error. */
bool sk_udp_input6(struct sk_stack *st, const struct sk_l3 *p, const uint8_t *frame,
                   size_t frame_len);
bool sk_udp_icmp6_error(struct sk_stack *st, uint8_t type, uint8_t code,
                        const struct sk_addr *dst, const uint8_t *l4, size_t l4_len);

/* ip/ip_state.c: the IP layer's state in the stack, its timers. */
int sk_ip_init(struct sk_stack *st);
void sk_ip_free(struct sk_stack *st);
/* Runs ARP retries and reassembly expiry due at st->now; recomputes st->ip_deadline. */
void sk_ip_timer(struct sk_stack *st);
/* socket/socket.c: frees the descriptor table (the connections go with the stack). */
void sk_socket_free_all(struct sk_stack *st);

/* tcp/ */
/* Makes listener l take IPv4 only (family 4: an AF_INET socket's), IPv6 only (6: IPV6_V6ONLY)
 * or both (0, the default of sk_tcp_listen: a dual-stack listener). */
void sk_tcp_listen_family(struct sk_tcp *l, int family);
/* Makes listener l take SYNs to address a only (a socket bound to one of our addresses, as
 * Linux's inet_rcv_saddr match); the unspecified address (of either family) takes any. */
void sk_tcp_listen_addr(struct sk_tcp *l, const struct sk_addr *a);
/* sk_tcp_connect_addr from laddr (NULL or unspecified: chosen as there), for the socket layer
 * (a socket bound to one address). */
int sk_tcp_connect_from(struct sk_stack *st, const struct sk_addr *laddr, uint16_t local_port,
                        const struct sk_addr *raddr, uint16_t rport,
                        const struct sk_tcp_params *p, struct sk_tcp **out);
void sk_tcp_input(struct sk_stack *st, const struct sk_ipv4_hdr *ip, const uint8_t *frame,
                  size_t frame_len);
void sk_tcp_timer_fire(struct sk_tcp *c, enum sk_timer_kind k);
void sk_tcp_free_all(struct sk_stack *st);
void sk_tfo_cache_free(struct sk_stack *st); /* tcp/tcp_fastopen.c */
/* tcp/tcp_timewait.c: ends the TIME-WAIT records whose 2*MSL ran out by st->now. */
void sk_tw_timer(struct sk_stack *st);

#endif
