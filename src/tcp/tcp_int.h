/* Private interface between the TCP files: tcp_conn.c (TCBs, tables, user calls),
 * tcp_input.c (segment arrival), tcp_output.c (segment departure), tcp_timer.c (timers, RTO),
 * tcp_ring.c (buffers). */
#ifndef SK_TCP_INT_H
#define SK_TCP_INT_H

#include "internal.h"

/* tcp_conn.c */
struct sk_tcp *sk_tcb_new(struct sk_stack *st);
/* Fills c with a new TCB's defaults without allocating or counting it (sk_tcb_new does both;
 * tcp_listen.c builds a SYN cookie's SYN,ACK in a TCB on the C stack that lives one call). */
void sk_tcb_init(struct sk_stack *st, struct sk_tcp *c);
void sk_tcb_destroy(struct sk_tcp *c);
/* Allocates c->x (struct sk_tcp_ext) if absent: called before the congestion window is first
 * set, when the connection is synchronized. 0, or -ENOMEM (counted: alloc_failures) with the
 * TCB unchanged. */
int sk_tcb_ext_attach(struct sk_tcp *c);
int sk_tcb_hash_insert(struct sk_tcp *c);
void sk_tcb_hash_remove(struct sk_tcp *c);
struct sk_tcp *sk_tcb_lookup(struct sk_stack *st, const struct sk_addr *laddr, uint16_t lport,
                             const struct sk_addr *raddr, uint16_t rport);
/* The listener on lport that takes segments of this family to dst (v6: IPv6, else IPv4; a
 * listener made IPv6-only or IPv4-only by its socket takes one family, see
 * sk_tcp_listen_family; one bound to an address takes segments to it only, sk_tcp_listen_addr). */
struct sk_tcp *sk_listener_lookup(struct sk_stack *st, uint16_t lport, bool v6,
                                  const struct sk_addr *dst);
/* Bytes of IP header before TCP on connection c: 20 for IPv4, 40 for IPv6 (RFC 8200 §3). */
static inline uint32_t sk_tcp_ip_hlen(const struct sk_tcp *c)
{
    return sk_addr_is_v4(&c->raddr) ? SK_IPV4_HLEN : SK_IPV6_HLEN;
}
/* TCP's entry from either IP (tcp_input.c; sk_tcp_input is its IPv4 door, deliver6.c its
 * IPv6 one): a segment in the datagram ip. */
void sk_tcp_input_l3(struct sk_stack *st, const struct sk_l3 *ip, const uint8_t *frame,
                     size_t frame_len);
/* The one place a state changes (traced, counted, notified). */
void sk_tcp_set_state(struct sk_tcp *c, enum sk_tcp_state s);
/* The connection ends: error (negative errno or 0) recorded, CLOSED, off the tables; freed once
 * the application no longer holds it. */
void sk_tcp_terminate(struct sk_tcp *c, int err);
/* Tells the application what changed. */
void sk_tcp_notify(struct sk_tcp *c);
uint32_t sk_tcp_isn(struct sk_stack *st, const struct sk_addr *laddr, uint16_t lport,
                    const struct sk_addr *raddr, uint16_t rport);
/* Bytes to allocate for the receive ring: the buffer plus room for the bytes a rounded-up
 * scaled window may promise beyond it (sk_tcp_rcv_window). */
static inline uint32_t sk_rcv_ring_bytes(const struct sk_tcp *c, uint32_t rcvbuf)
{
    return rcvbuf + (c->st->cfg.opt_wscale ? (1u << c->st->cfg.wscale) : 0);
}
/* Make the send ring (at sk_tcp_send) or the receive ring (at text received) hold `need`
 * bytes from its head, allocating or growing it up to the configured size (sndbuf_size, or
 * sk_rcv_ring_bytes of rcvbuf_size). 0, or -ENOMEM (counted: limit_buffers when the stack's
 * max_buffer_bytes would be passed, alloc_failures when the allocator refused). */
int sk_tcb_snd_ring(struct sk_tcp *c, uint32_t need);
int sk_tcb_rcv_ring(struct sk_tcp *c, uint32_t need);
/* The most the send ring may hold: sndbuf_size, or with sk_config.sndbuf_chunks that plus
 * two chunks (sk_tcp_size_goal), what Linux's skb filling can queue past sk_sndbuf. */
uint32_t sk_tcp_snd_limit(const struct sk_tcp *c);
/* Room enough to wake a writer: any free byte, or with sndbuf_chunks Linux's
 * sk_stream_is_writeable (free >= queued / 2, and queued below the size). */
bool sk_tcp_snd_room(const struct sk_tcp *c);
/* A ring may have just become empty (all sent data acknowledged, all received data read):
 * free it now if no more can come that way, else arm TCB_TIMER_RELEASE, which frees rings
 * that stay empty and unused for SK_RING_HOLD_US (sk_tcb_release_rings). */
void sk_tcb_rings_check(struct sk_tcp *c);
/* The storage of c's range set s (ooo or sb): allocated before a range is added (0, or
 * -ENOMEM, counted in alloc_failures: the caller counts what it could not keep), released
 * when the set is emptied or the TCB ends. */
int sk_tcb_ranges_need(struct sk_tcp *c, struct sk_ranges *s);
void sk_tcb_ranges_release(struct sk_tcp *c, struct sk_ranges *s);
void sk_tcb_release_rings(struct sk_tcp *c);
/* How long an empty ring is kept for reuse: a stream that pauses less keeps its rings. */
#define SK_RING_HOLD_US 100000u
/* Sets ISS and the send sequence variables of a new TCB (RFC 9293 §3.4.1). */
void sk_tcp_init_send(struct sk_tcp *c, uint32_t iss);
/* RFC 7323 §5.4: the TSval offset for an address pair (the same for every connection). */
uint32_t sk_tcp_ts_offset(const struct sk_stack *st, const struct sk_addr *laddr,
                          const struct sk_addr *raddr);
/* A passive child takes its listener's buffer sizes, congestion control and MSS cap. */
void sk_tcb_inherit(struct sk_tcp *c, const struct sk_tcp *l);
/* A passive child reached ESTABLISHED: queue it for accept(). */
void sk_tcp_child_established(struct sk_tcp *c);

/* tcp_listen.c: LISTEN (RFC 9293 §3.10.7.2), the SYN queue and SYN cookies (RFC 4987). */
/* A segment for listener l that found no connection. Returns the connection it continues on
 * (one a SYN cookie ACK just opened, in SYN-RECEIVED), or NULL when it was consumed here. */
struct sk_tcp *sk_tcp_listen_input(struct sk_tcp *l, const struct sk_l3 *ip,
                                   const struct sk_tcp_hdr *h, const uint8_t *frame,
                                   size_t frame_len);
/* A half-open child leaves the SYN queue (established or gone); no-op if it is not on it. */
void sk_tcp_synq_remove(struct sk_tcp *c);

/* tcp_fastopen.c: TCP Fast Open (RFC 7413). Bits of sk_tcp.fo: */
enum sk_fo_flag {
    FO_WANT = 1u << 0,       /* client: the application asked for Fast Open */
    FO_DEFER = 1u << 1,      /* client: the SYN waits for the first data (TCP_FASTOPEN_CONNECT) */
    FO_SYN_OPT = 1u << 2,    /* client: our first SYN carried the option */
    FO_SYN_DATA = 1u << 3,   /* client: our first SYN carried data */
    FO_DATA_OK = 1u << 4,    /* SYN data acknowledged (client) or taken (server) */
    FO_CHILD = 1u << 5,      /* server: counted in its listener's fo_qlen */
    FO_SEND_COOKIE = 1u << 6, /* server: the SYN-ACK carries our cookie */
    FO_EXP = 1u << 7,        /* the option goes in its experimental form (kind 254) */
    FO_PASSIVE = 1u << 8,    /* server: opened by a Fast Open SYN (a valid cookie) */
};
/* TCP_FASTOPEN_CONNECT: may connect() leave the SYN for the first data (a cookie known)? */
bool sk_tfo_defer_connect(struct sk_tcp *c);
/* While the SYN waits for data, the bytes the first send may take: what the SYN carries (as
 * Linux's tcp_sendmsg_fastopen); UINT32_MAX otherwise. */
uint32_t sk_tfo_defer_room(struct sk_tcp *c);
/* A SYN for listener l opened child c (set up, not yet in a table): takes the SYN's data if
 * its cookie is valid, notes what the SYN-ACK must carry. True if data was taken. */
bool sk_tfo_server_syn(struct sk_tcp *l, struct sk_tcp *c, const struct sk_l3 *ip,
                       const struct sk_tcp_hdr *h);
/* tcp_conn.c: a child goes from the SYN queue to the accept queue (once): at the end of its
 * handshake, or at once when its SYN data was taken (Fast Open). */
void sk_tcp_acceptq_add(struct sk_tcp *c);
/* c stops counting in its listener's Fast Open queue (acknowledged, accepted or gone). */
void sk_tfo_child_done(struct sk_tcp *c);
/* The Fast Open option of the SYN or SYN-ACK now being built, if any. */
void sk_tfo_syn_options(struct sk_tcp *c, struct sk_tcp_opts *o);
/* Bytes of data our SYN carries now (0 but on the first SYN of a client with a cookie). */
uint32_t sk_tfo_syn_data(struct sk_tcp *c);
/* A SYN-ACK for client c, after SND.UNA took its ACK: the cookie cache, and the SYN's data
 * acknowledged (off the send ring) or to be sent again (SND.NXT back to SND.UNA). */
void sk_tfo_synack(struct sk_tcp *c, const struct sk_tcp_hdr *h);

/* tcp_input.c */
/* What a SYN's options and ECN flags agree for passive connection c (RFC 9293 §3.7.1,
 * RFC 7323 §2.2 and §3.2, RFC 2018 §2, RFC 3168 §6.1.1). */
void sk_tcp_passive_syn_options(struct sk_tcp *c, const struct sk_tcp_hdr *h);
/* tcp_input.c: RFC 5961 §7, may one more challenge ACK go from this stack in this second?
 * (sk_config.challenge_ack_limit; a refusal is counted in tcp_challenge_acks_limited.) */
bool sk_tcp_challenge_budget(struct sk_stack *st);

/* tcp_output.c */
/* The SYN,ACK of a passive open, <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>, without touching timers. */
void sk_tcp_send_synack(struct sk_tcp *c);
void sk_tcp_output(struct sk_tcp *c);
void sk_tcp_send_ack(struct sk_tcp *c);
/* tcp_quickack.c: when received data is acknowledged (RFC 5681 §4.2, or Linux's quick ACKs
 * and ACK timeout under sk_config.quickack_max / delack_max_us). ack_in_order: in-order
 * text of len bytes in segs segments was taken; quickack_enter: a retransmission of data we
 * hold came (Linux's tcp_enter_quickack_mode); delack_fired: the delayed-ACK timer fired with
 * an ACK owed; ack_leaving / data_leaving: a segment carrying an ACK / data is being sent. */
void sk_tcp_ack_in_order(struct sk_tcp *c, uint32_t len, uint32_t segs);
void sk_tcp_quickack_enter(struct sk_tcp *c);
/* tcp_quickack.c: a SYN-ACK established an active open; save_ack: the ACK waits for data
 * the application is about to write (sk_tcp_set_write_pending). */
void sk_tcp_established_ack(struct sk_tcp *c, bool save_ack);
void sk_tcp_delack_fired(struct sk_tcp *c);
void sk_tcp_ack_leaving(struct sk_tcp *c);
void sk_tcp_data_leaving(struct sk_tcp *c);
/* tcp_chrono.c: busy, receive-window-limited and send-buffer-limited time (Linux's tcp_info
 * chrono). update: at the end of each output, rwnd_limited as output found it, starved: it
 * sent data and left cwnd room (tcp_cwnd_validate's "network starves"); sndbuf_full: a send
 * found no room for all it was given; info: fills sk_tcp_info's time fields. */
void sk_tcp_chrono_update(struct sk_tcp *c, bool rwnd_limited, bool starved);
void sk_tcp_chrono_sndbuf_full(struct sk_tcp *c);
void sk_tcp_chrono_info(const struct sk_tcp *c, struct sk_tcp_info *o);
/* How long an orphan waits in FIN-WAIT-2 for the peer's FIN: 2*MSL, or
 * sk_config.fin_wait2_timeout_us but at least 3.5 RTO (Linux's tcp_fin_time). */
static inline uint64_t sk_tcp_fin_wait2_us(const struct sk_tcp *c)
{
    const struct sk_config *cfg = &c->st->cfg;
    if (cfg->fin_wait2_timeout_us == 0)
        return 2ull * cfg->msl_us;
    uint64_t floor = 7ull * c->rto_us / 2;
    return cfg->fin_wait2_timeout_us > floor ? cfg->fin_wait2_timeout_us : floor;
}
/* <SEQ=seq><CTL=flags> on this connection's 4-tuple, no data. */
void sk_tcp_send_ctl(struct sk_tcp *c, uint32_t seq, uint32_t ack, uint8_t flags);
/* RST for a segment that found no TCB (RFC 9293 §3.10.7.1). */
void sk_tcp_send_rst_for(struct sk_stack *st, const struct sk_l3 *ip,
                         const struct sk_tcp_hdr *seg);
/* sk_tcp_send_ctl for the reason `why` (a RST's kind, a challenge ACK, a keep-alive). */
void sk_tcp_send_ctl_why(struct sk_tcp *c, uint32_t seq, uint32_t ack, uint8_t flags,
                         enum sk_seg_why why);
/* The event about to make this stack send, for the trace's sk_trace_event.why: set for the
 * span of a timer, a recovery step or a window update; returns the cause it replaces, which
 * the caller puts back (st->seg_cause = old) when the span ends. */
static inline enum sk_seg_why sk_tcp_cause(struct sk_stack *st, enum sk_seg_why why)
{
    enum sk_seg_why old = st->seg_cause;
    st->seg_cause = why;
    return old;
}
/* Retransmits from SND.UNA after a timeout or fast retransmit. */
void sk_tcp_retransmit(struct sk_tcp *c);
/* tcp_icmp.c: an ICMPv6 error (RFC 4443 type and code, its 32-bit field) quoting a segment
 * from src to dst whose first l4_len bytes are l4. True if a connection owned it. */
bool sk_tcp_icmp6_error(struct sk_stack *st, uint8_t type, uint8_t code, uint32_t info,
                        const struct sk_addr *src, const struct sk_addr *dst, const uint8_t *l4,
                        size_t l4_len);
/* tcp_icmp.c: mss (payload bytes per segment) raised to cfg.tcp_min_mss, or to what our own
 * link carries if that is less; a raise is counted (tcp_mss_floored). */
uint32_t sk_tcp_mss_floor(struct sk_tcp *c, uint32_t mss);
/* The receive window we can offer now, in bytes (unscaled). */
uint32_t sk_tcp_rcv_window(const struct sk_tcp *c);
uint32_t sk_tcp_ts_now(const struct sk_tcp *c);
/* Reports a segment sent or received to the trace callback. */
void sk_tcp_trace_seg(struct sk_stack *st, enum sk_trace_kind kind, const struct sk_tcp *c,
                      const struct sk_addr *saddr, const struct sk_addr *daddr,
                      const struct sk_tcp_hdr *h, const uint8_t *frame, size_t frame_len);
/* The same for a segment of connection conn_id with no TCB (a TIME-WAIT record's). */
void sk_tcp_trace_seg_as(struct sk_stack *st, enum sk_trace_kind kind, const struct sk_tcp *c,
                         uint64_t conn_id, const struct sk_addr *saddr,
                         const struct sk_addr *daddr,
                         const struct sk_tcp_hdr *h, const uint8_t *frame, size_t frame_len);

/* Sends one segment at seq: up to max_len bytes of queued data and, at the end of the
 * queue, the FIN. Returns the sequence space used (0: nothing to send there). */
uint32_t sk_tcp_send_at(struct sk_tcp *c, uint32_t seq, uint32_t max_len);
/* A retransmission of [seq, seq + len) with `room` bytes of cwnd free: one segment, or with
 * sk_config.tso_rtx one super-segment of as many whole segments as room allows. */
uint32_t sk_tcp_send_rtx(struct sk_tcp *c, uint32_t seq, uint32_t len, uint32_t room);

/* Sends a segment built elsewhere (a TIME-WAIT record's ACK), traced as connection conn_id. */
void sk_tcp_emit_bare(struct sk_stack *st, uint64_t conn_id, const struct sk_addr *laddr,
                      const struct sk_addr *raddr, struct sk_tcp_hdr *h);

/* tcp_timewait.c: TIME-WAIT as a record of its own (see the file's header comment). */
enum sk_tw_flag {
    TW_TS = 1u << 0,    /* timestamps were agreed (TF_TS) */
    TW_OWNED = 1u << 1, /* the application still holds the TCB, which stays in TIME-WAIT */
    TW_V6 = 1u << 2,    /* IPv6: the addresses are in the table's side store (tcp_timewait.c),
                         * laddr and raddr are 0 */
};

/* One connection in TIME-WAIT: a record of at most 64 bytes, in place of its TCB. Declared
 * here so that tests can weigh it. */
struct sk_tw {
    uint32_t hash_next;        /* next in the bucket; next free record while free */
    uint32_t older, newer;     /* FIFO neighbours: towards the head (oldest), the tail */
    uint32_t laddr, raddr;     /* IPv4, host order (an IPv6 record's are aside: TW_V6) */
    uint16_t lport, rport;
    uint32_t snd_nxt;          /* SND.NXT, past our FIN (= SND.UNA: the FIN is acknowledged) */
    uint32_t rcv_nxt;          /* RCV.NXT, past the peer's FIN */
    uint32_t ts_recent;        /* TS.Recent (RFC 7323 §4.3), if TW_TS */
    uint32_t ts_offset;        /* our timestamp clock's offset: our TSvals go on as before */
    uint16_t wnd;              /* the window field of our last ACK, scaled by rcv_wscale */
    uint8_t rcv_wscale;
    uint8_t flags;
    uint64_t conn_id;          /* the connection's id, for the trace */
    sk_time_us deadline;       /* when 2*MSL ends */
};
_Static_assert(sizeof(struct sk_tw) <= 64, "a TIME-WAIT record fits in 64 bytes");

/* The connection c has just entered TIME-WAIT and sent what it owed: its TIME-WAIT goes on in
 * a record. An orphan TCB is freed; one the application holds stays, in TIME-WAIT, without
 * timers or send buffer (its unread data kept), until close or the record's end. */
void sk_tw_enter(struct sk_tcp *c);
/* A segment for no connection, or for one in TIME-WAIT: true if a record took it; false if
 * there is none or a SYN reopened the 4-tuple (RFC 6191) and goes on to the listener. */
bool sk_tw_input(struct sk_stack *st, const struct sk_l3 *ip, const struct sk_tcp_hdr *h,
                 const uint8_t *frame, size_t frame_len);
/* The ISS for a connection a listener opens: isn, or above the SND.NXT of the TIME-WAIT the
 * SYN just reopened. */
uint32_t sk_tw_reopen_iss(struct sk_stack *st, const struct sk_tcp *c, uint32_t isn);
/* The application closes (sk_tw_release) or aborts (sk_tw_forget) a TCB in TIME-WAIT. */
void sk_tw_release(struct sk_tcp *c);
void sk_tw_forget(struct sk_tcp *c);
/* Is the 4-tuple held by a TIME-WAIT record? (Its port is counted in sk_port_refs.) */
bool sk_tw_in_use(struct sk_stack *st, const struct sk_addr *laddr, uint16_t lport,
                  const struct sk_addr *raddr, uint16_t rport);
void sk_tw_free_all(struct sk_stack *st);

/* tcp_recovery.c */
void sk_tcp_ack_process(struct sk_tcp *c, const struct sk_tcp_hdr *h, bool pure, bool wnd_same);
/* sk_tcp_ack_process for the fast path's pure ACK of new data (see its conditions there). */
void sk_tcp_ack_fast(struct sk_tcp *c, const struct sk_tcp_hdr *h);
void sk_tcp_on_timeout_recovery(struct sk_tcp *c);
void sk_tcp_count_retransmit(struct sk_tcp *c);
/* RFC 8985 §7: arm the probe timeout after sending, and send the probe when it fires. */
void sk_tcp_tlp_arm(struct sk_tcp *c);
void sk_tcp_tlp_fire(struct sk_tcp *c);
uint32_t sk_tcp_pipe(const struct sk_tcp *c);
/* The first sequence number at or above seq that the peer has not SACKed. */
uint32_t sk_tcp_sack_skip(const struct sk_tcp *c, uint32_t seq);

/* tcp_plpmtu.c: packetization-layer path MTU discovery (RFC 4821, RFC 8899). */
/* sk_tcp_output, before new data at SND.NXT (avail bytes queued from there, room the windows
 * leave): sends a probe if one is due. Returns the sequence space it used (0: none). */
uint32_t sk_plpmtu_probe(struct sk_tcp *c, uint32_t avail, uint32_t room);
/* An acceptable ACK, before it is processed: a probe it covers (cumulatively or by SACK)
 * succeeded; new data acknowledged confirms a size lowered by a black hole. */
void sk_plpmtu_on_ack(struct sk_tcp *c, const struct sk_tcp_hdr *h);
/* Loss recovery is about to begin: true if the loss is a probe's, whose bytes were sent
 * again at the MSS with cwnd untouched (RFC 4821 §7.6.2); the caller then stays out of
 * recovery. */
bool sk_plpmtu_probe_lost(struct sk_tcp *c);
/* A retransmission timeout of data (c->retries counts it), before cwnd and the MSS are used
 * for the retransmission: probe outcome and black-hole detection (RFC 4821 §7.7). */
void sk_plpmtu_on_rto(struct sk_tcp *c);
/* tcp_icmp.c: an ICMP message reported the path MTU mtu (already floored). */
void sk_plpmtu_on_icmp(struct sk_tcp *c, uint32_t mtu);
void sk_plpmtu_info(const struct sk_tcp *c, struct sk_tcp_info *o);
/* tcp_output.c: one segment of up to len bytes of data at seq, larger than the MSS (a probe,
 * traced as SK_SEG_WHY_PMTU_PROBE). Returns the sequence space used. */
uint32_t sk_tcp_send_probe(struct sk_tcp *c, uint32_t seq, uint32_t len);
/* tcp_conn.c: the MSS this stack announces on c's link (sk_config.mss or the MTU's). */
uint16_t sk_tcp_our_mss(const struct sk_tcp *c);
/* ---- Loss detection and recovery: RACK-TLP (RFC 8985, tcp_rack.c), PRR (RFC 6937,
 * tcp_recovery.c). ---- */
/* Every transmission of [seq, seq + used) (new data, a retransmission, a probe), before
 * SND.MAX moves: RACK's transmit records and PRR's prr_out (tcp_recovery.c). */
void sk_tcp_on_send(struct sk_tcp *c, uint32_t seq, uint32_t used, bool psh);
/* RACK's reordering timer fired (tcp_recovery.c: detection, then recovery). */
void sk_tcp_rack_timeout(struct sk_tcp *c);
/* RACK decides losses on this connection: SACK agreed, sk_config.loss_detection is
 * SK_LOSS_RACK and the transmit records are kept. */
bool sk_rack_active(const struct sk_tcp *c);
void sk_rack_on_send(struct sk_tcp *c, uint32_t seq, uint32_t used, bool psh);
/* A transmission that ended at `end` carried PSH (the end of a push, RFC 9293 §3.9.1): a
 * retransmission ending there carries it again. */
bool sk_rack_pushed_at(const struct sk_tcp *c, uint32_t end);
/* The data of a Fast Open SYN that the SYN-ACK left unacknowledged was sent before the
 * records existed: its record, one push (Linux's tcp_send_syn_data marks it PSH), so that
 * sending it again counts as a retransmission (Linux's retrans_out) and keeps its PSH. */
void sk_rack_syn_data(struct sk_tcp *c);
/* RFC 8985 §6.2 steps 1-5 on an ACK, after the scoreboard took its SACK blocks and SND.UNA
 * moved from old_una: true if a segment was newly marked lost. dsack: the ACK carries a
 * D-SACK block (RFC 2883). Arms or stops SK_TIMER_RACK. */
bool sk_rack_on_ack(struct sk_tcp *c, const struct sk_tcp_hdr *h, uint32_t old_una, bool dsack);
/* §6.2 step 5 again when the reordering timer fires: true if a segment was marked lost. */
bool sk_rack_detect(struct sk_tcp *c);
/* §6.3: what an RTO marks lost. */
void sk_rack_on_rto(struct sk_tcp *c);
/* §6.2 step 4: fast or RTO recovery ended (reo_wnd_persist counts down). */
void sk_rack_recovery_end(struct sk_tcp *c);
/* Bytes in flight as RACK sees them (Linux's tcp_packets_in_flight in bytes): sent, not
 * SACKed, not marked lost, plus retransmissions in flight. */
uint32_t sk_rack_pipe(const struct sk_tcp *c);
/* The first record marked lost and not retransmitted since: *seq, *len (the whole record: a
 * transmission, or what SACKs and retransmissions left of it). */
bool sk_rack_next_lost(const struct sk_tcp *c, uint32_t *seq, uint32_t *len);
/* Segments (of snd_mss) outstanding, SACKed, marked lost, retransmitted in flight. */
void sk_rack_counts(const struct sk_tcp *c, uint32_t *unacked, uint32_t *sacked, uint32_t *lost,
                    uint32_t *retrans);
/* An RTT sample (RFC 8985 §6.2 step 1: RACK.min_RTT). */
void sk_rack_rtt_sample(struct sk_tcp *c, uint32_t rtt_us);
/* sk_config.rtt_every_ack: for an ACK of everything below `ack`, the time since the oldest
 * newly acknowledged segment (not SACKed before) was sent; false when none was, or when any
 * of them was ever sent again (Karn), or without RACK's records. */
bool sk_rack_ack_rtt(const struct sk_tcp *c, uint32_t ack, uint32_t *rtt_us);
/* Where the newest transmit record starts (the last segment sent); SND.UNA without records. */
uint32_t sk_rack_last_start(const struct sk_tcp *c);
void sk_rack_release(struct sk_tcp *c);
/* The receiver reneged (RFC 2018 §8): nothing counts as SACKed any more. */
void sk_rack_renege(struct sk_tcp *c);

/* tcp_timer.c */
void sk_tcp_timer_set(struct sk_tcp *c, enum sk_timer_kind k, uint64_t delay_us);
void sk_tcp_timer_stop(struct sk_tcp *c, enum sk_timer_kind k);
static inline bool sk_tcp_timer_on(const struct sk_tcp *c, enum sk_timer_kind k)
{
    return c->timer[k] != SK_TIME_NEVER;
}
/* (Re)arms the keep-alive timer from the last segment received, if keep-alives are on. */
void sk_tcp_keepalive_arm(struct sk_tcp *c);
/* SYN-RECEIVED: the SYN,ACK goes again in answer to a segment (a repeated SYN), and counts as
 * one of its retransmissions, backing the timer off; without retries left nothing is sent and
 * the timer runs on. So a half-open TCB sends at most 1 + synack_retries SYN,ACKs and ends
 * within its retry limit, whatever arrives. */
void sk_tcp_resend_synack(struct sk_tcp *c);
/* RFC 6298 §2: a new RTT measurement. */
void sk_tcp_rtt_sample(struct sk_tcp *c, uint32_t rtt_us);
int sk_timer_update(struct sk_tcp *c);

/* ---- tcp_pacing.c: sk_config.pacing ---- */
/* Linux's pacing rate (tcp_update_pacing_rate), bytes a second; UINT64_MAX before any RTT
 * sample. sk_config.tso_autosize sizes transmissions by it too. */
uint64_t sk_tcp_pacing_rate(const struct sk_tcp *c);
/* With pacing on, true while the next data segment must wait: SK_TIMER_PACE is armed for
 * its departure time. */
bool sk_tcp_pace_hold(struct sk_tcp *c);
/* A data transmission of len bytes in segs segments left now: the next departure time. */
void sk_tcp_pace_sent(struct sk_tcp *c, uint32_t len, uint32_t segs);
/* tcp_recovery.c: sends what the windows allow now: SACK recovery's retransmissions first,
 * then new data (the pacing timer's work). */
void sk_tcp_send_due(struct sk_tcp *c);
void sk_timer_remove(struct sk_tcp *c);

/* tcp_conn.c: the argument checks of a vectored call (sk_tcp_sendv, sk_sendv, ...): 0,
 * -EINVAL (count negative or above SK_IOV_MAX, a length above SSIZE_MAX) or -EFAULT (NULL
 * array, NULL base with a length). */
int sk_iov_check(const struct iovec *iov, int n);

/* ---- tcp_marks.c: socket-level marks (TCP_NOTSENT_LOWAT, SO_RCVLOWAT, MSG_EOR) ---- */
/* Allocated with the first mark set on a connection or listener (or the first record), freed
 * with the TCB. */
struct sk_tcp_marks {
    uint32_t notsent_lowat;   /* as set; 0: the stack's (cfg.notsent_lowat) */
    uint32_t rcvlowat;        /* as set; 0 or 1: any byte is readable */
    /* The newest chunk of queued data (see sk_config.notsent_lowat): data joins it while it
     * has room, and the mark is checked only before a new one starts. */
    uint32_t chunk_start;
    bool chunk_open;
    bool pushed_known;        /* pushed_seq is set (sk_config.forced_push) */
    /* Linux's tp->pushed_seq: the end of the data queued when a push was last marked. */
    uint32_t pushed_seq;
    /* Record ends (MSG_EOR): the sequence number after each record's last byte, ascending,
     * all above SND.UNA (older ones are pruned); no segment spans one. */
    uint32_t rec_n, rec_cap;
    uint32_t *rec;
};
/* c->marks, allocated if absent: 0 or -ENOMEM (counted: alloc_failures). */
int sk_tcp_marks_need(struct sk_tcp *c);
void sk_tcp_marks_free(struct sk_tcp *c);
/* A passive child takes its listener's marks (not its records). */
void sk_tcp_marks_inherit(struct sk_tcp *c, const struct sk_tcp *l);
/* The low-water marks in force: UINT32_MAX for no TCP_NOTSENT_LOWAT; at least 1 for
 * SO_RCVLOWAT. */
uint32_t sk_tcp_notsent_mark(const struct sk_tcp *c);
uint32_t sk_tcp_rcvlowat_mark(const struct sk_tcp *c);
/* Queued bytes not yet sent: from SND.MAX to the end of the send queue. */
uint32_t sk_tcp_notsent(const struct sk_tcp *c);
/* The first record end after seq, or the end of the queued data if none. */
uint32_t sk_tcp_record_end(const struct sk_tcp *c, uint32_t seq);
/* Drops record ends at or below SND.UNA. */
void sk_tcp_records_prune(struct sk_tcp *c);
/* A send under a notsent mark or with sk_config.sndbuf_chunks: the iov queued chunk by chunk
 * (a new chunk only below both), each full chunk pushed out as the windows allow. Returns bytes queued, -EAGAIN if none could be,
 * -ENOBUFS if the ring could not grow for the first. eor: the whole iov is one record. */
ssize_t sk_tcp_send_chunked(struct sk_tcp *c, const struct iovec *iov, int iovcnt,
                            size_t want_all, bool eor);
/* Room for one more record end (0 or -ENOBUFS), and the mark at the end of the queue. */
int sk_tcp_record_reserve(struct sk_tcp *c);
void sk_tcp_record_mark(struct sk_tcp *c);
/* tcp_output.c: Linux's size_goal, the payload of one chunk of queued data: a segment, or with
 * segmentation offload as many whole segments as fit the link's limit and half the largest
 * window the peer offered (tcp_xmit_size_goal, tcp_bound_to_half_wnd). */
uint32_t sk_tcp_size_goal(const struct sk_tcp *c);

/* tcp_ring.c */
/* The first allocation's size: a small exchange never takes more. */
#define SK_RING_MIN 4096u
/* Makes the ring hold at least min(need, limit) bytes from its head: allocates or grows it
 * (doubling, capped at limit), keeping its contents and their offsets. 0, or -ENOMEM
 * (counted: limit_buffers when max_buffer_bytes would be passed, alloc_failures when the
 * allocator refused; the ring is then as it was). */
int sk_ring_reserve(struct sk_stack *st, struct sk_ring *r, uint32_t need, uint32_t limit);
void sk_ring_free(struct sk_stack *st, struct sk_ring *r);
/* Appends up to len bytes within the allocated size; returns bytes taken. */
uint32_t sk_ring_append(struct sk_ring *r, const uint8_t *p, uint32_t len);
/* Copies len bytes starting off bytes after head (off+len <= size) into dst. */
void sk_ring_peek(const struct sk_ring *r, uint32_t off, uint8_t *dst, uint32_t len);
/* Writes len bytes at off bytes after head without changing len (out-of-order data). */
void sk_ring_write_at(struct sk_ring *r, uint32_t off, const uint8_t *p, uint32_t len);
void sk_ring_consume(struct sk_ring *r, uint32_t len);
static inline uint32_t sk_ring_free_space(const struct sk_ring *r) { return r->size - r->len; }

#endif
