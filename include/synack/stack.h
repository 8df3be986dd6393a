/* synack: the stack object.
 *
 * A sans-IO TCP/IP stack (IPv4 and IPv6): the caller hands it frames and the current time, it
 * hands frames back through a callback and tells when it next wants to be called. It never reads a clock,
 * sleeps, starts threads or makes system calls. Memory comes only from the allocator in the
 * configuration and is bounded by the limits there.
 *
 * Thread-safety: a stack and everything hanging off it (connections, listeners) belong to one
 * thread at a time. Several stacks in one process are independent.
 */
#ifndef SYNACK_STACK_H
#define SYNACK_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SK_API __attribute__((visibility("default")))
#else
#define SK_API
#endif

/* Monotonic time in microseconds. The origin is the caller's; only differences matter. */
typedef uint64_t sk_time_us;
#define SK_TIME_NEVER UINT64_MAX

struct sk_stack;
struct sk_trace_event;

/* How frames are framed on the link the stack is attached to. */
enum sk_link_type {
    SK_LINK_IP = 0,       /* bare IPv4 datagrams (TUN, packetdrill, the simulator) */
    SK_LINK_ETHERNET = 1, /* Ethernet II frames (TAP) */
};

/* Order of the options in a SYN. Visible to peers and to conformance scripts. */
/* sk_config.loss_detection: RACK-TLP (RFC 8985, the default) or RFC 6675's DupThresh. */
enum sk_loss_detection {
    SK_LOSS_RACK = 0,
    SK_LOSS_RFC6675 = 1,
};

enum sk_syn_opt_layout {
    SK_SYN_OPTS_LINUX = 0,   /* mss, sackOK, TS, nop, wscale */
    SK_SYN_OPTS_FREEBSD = 1, /* mss, nop, wscale, sackOK, TS */
};

/* sk_config.tfo bits: Linux's net.ipv4.tcp_fastopen values (Documentation/networking/
 * ip-sysctl.rst), RFC 7413 behaviour each. */
#define SK_TFO_CLIENT 0x1              /* active opens may use Fast Open */
#define SK_TFO_SERVER 0x2              /* listeners may accept data in SYNs */
#define SK_TFO_CLIENT_NO_COOKIE 0x4    /* send data in the SYN without a cookie */
#define SK_TFO_SERVER_NO_COOKIE 0x200  /* accept SYN data without a valid cookie */
#define SK_TFO_SERVER_ALL 0x400        /* every listener has Fast Open, queue = its backlog */

/* Congestion control (cc helper): how a sender judges that its cwnd is in use before growing
 * it (sk_config.cwnd_validation), and how CUBIC leaves slow start (sk_config.hystart). */
enum sk_cwnd_validation {
    SK_CWV_RFC7661 = 0, /* RFC 7661 §4.1: grow while at least half of cwnd was in flight */
    SK_CWV_LINUX = 1,   /* Linux tcp_is_cwnd_limited: cwnd filled in this window, or in slow
                         * start cwnd < 2 * the most in flight in this window */
};
enum sk_hystart {
    SK_HYSTART_OFF = 0,   /* RFC 5681 slow start until ssthresh or a loss */
    SK_HYSTART_PP = 1,    /* RFC 9406 HyStart++: delay increase, Conservative Slow Start */
    SK_HYSTART_LINUX = 2, /* Linux tcp_cubic.c HyStart: ACK train and delay, straight to CA */
};

/* Where sk_config.secret came from (see there). */
enum sk_secret_source {
    SK_SECRET_NONE = 0,      /* not set: sk_stack_new refuses with -ENOKEY */
    SK_SECRET_CALLER = 1,    /* sk_config_set_secret: the caller's random bytes */
    SK_SECRET_TEST_SEED = 2, /* sk_config_set_test_seed: public, replayable, never for a network */
};
#define SK_SECRET_BYTES 32

/* Per-frame offload metadata: what the link did, or is to do, to one frame. It mirrors the
 * virtio-net header (struct virtio_net_hdr, virtio spec §5.1.6) that a TAP opened with
 * IFF_VNET_HDR carries before each frame, so a driver converts field for field.
 *
 * Out (the output callback): flags 0 and gso_type SK_GSO_NONE is a complete frame. With
 * SK_FRAME_CSUM_PARTIAL, the transport checksum at csum_start + csum_offset holds only the
 * folded pseudo-header sum, and the link must sum the bytes from csum_start to the end into it
 * (only when the link offered tx_csum). With gso_type SK_GSO_TCPV4, the frame is one TCP
 * super-segment whose payload the link must cut into gso_size-byte segments, each with the
 * headers (hdr_len bytes) copied, sequence numbers, IP ids and lengths advanced and FIN/PSH
 * only on the last (only when the link offered tso_max).
 * In (sk_stack_input_meta): SK_FRAME_CSUM_VALID says the link verified the transport checksum
 * of this frame; SK_FRAME_CSUM_PARTIAL says the checksum field is a partial sum and the frame
 * was never on a wire (a local sender's frame), which the stack treats as verified. gso_size
 * and gso_type on input describe a coalesced (GRO/LRO) segment and are informational. Without
 * either flag the stack verifies every checksum itself, whatever the link's capabilities. */
enum sk_frame_flags {
    SK_FRAME_CSUM_PARTIAL = 1u << 0, /* VIRTIO_NET_HDR_F_NEEDS_CSUM */
    SK_FRAME_CSUM_VALID = 1u << 1,   /* VIRTIO_NET_HDR_F_DATA_VALID */
};
enum sk_gso_type {
    SK_GSO_NONE = 0,  /* VIRTIO_NET_HDR_GSO_NONE */
    SK_GSO_TCPV4 = 1, /* VIRTIO_NET_HDR_GSO_TCPV4 */
    SK_GSO_TCPV6 = 4, /* VIRTIO_NET_HDR_GSO_TCPV6 */
};
struct sk_frame_meta {
    uint8_t flags;        /* enum sk_frame_flags */
    uint8_t gso_type;     /* enum sk_gso_type */
    uint16_t hdr_len;     /* link + IP + TCP header bytes of a super-segment */
    uint16_t gso_size;    /* payload bytes per segment the link cuts */
    uint16_t csum_start;  /* offset from the frame's first byte where summing starts */
    uint16_t csum_offset; /* offset of the checksum field from csum_start */
};

/* What the link does for the stack (DESIGN.md "Performance"; docs/performance.md "Link
 * capabilities and offloads"). All zero (the default) is a plain wire: the stack computes and
 * verifies every checksum and sends segments of at most one MSS. Capabilities only permit:
 * the stack still decides per frame, and input is verified unless that frame's metadata
 * vouches for it. */
struct sk_link_caps {
    /* Segmentation offload: the link accepts TCP super-segments (SK_GSO_TCPV4) of up to this
     * many bytes of IP datagram and cuts them; 0: none. At most 65535 (else sk_stack_new
     * fails with -EINVAL); used only together with tx_csum (a super-segment's checksums are
     * the link's), as Linux needs checksum offload for TSO. TCP output then sends, in one
     * frame, the run of MSS-sized segments it would have sent back to back (the windows,
     * Nagle and SWS avoidance applied as to those segments; each ends where it would have):
     * gso_size is the payload per segment, every segment carries the same options
     * (timestamps, SACK blocks), FIN and PSH belong to the last, CWR to the first. New data
     * and go-back-N retransmission after a timeout are sent so; a retransmission while a SACK
     * scoreboard is held, fast retransmit, TLP and probes stay one MSS. Such a frame takes
     * one IP id per segment. Counted: tcp_tso_segs; tcp_segs_out counts the segments. The
     * stack's frame buffer (and a lent tx_buffer) is sized for tso_max. */
    uint32_t tso_max;
    /* The link completes transport checksums of frames marked SK_FRAME_CSUM_PARTIAL: every
     * TCP segment then goes out so (the field holds the pseudo-header sum, csum_start is the
     * TCP header, csum_offset 16), and so does every UDP datagram that fits the MTU
     * (csum_offset 6; a fragmented one cannot). ICMP and the IPv4 header checksum are always
     * finished by the stack. */
    bool tx_csum;
    /* The link may mark received frames SK_FRAME_CSUM_VALID / _PARTIAL; without rx_csum the
     * marks are ignored. A marked frame skips the TCP or UDP checksum check, that frame only
     * (not a datagram reassembled from fragments); the IPv4 header checksum is always
     * verified (20 bytes: a link that coalesces rewrites it anyway). */
    bool rx_csum;
    /* The link may hand in coalesced segments (GRO/LRO) of up to 65535 bytes of IP datagram,
     * longer than the MTU: accepted only from a link that says so (else counted drops,
     * link-oversize). Such a segment counts as ceil(len / (MSS - options)) segments for the
     * delayed-ACK rule (RFC 5681 §4.2: an ACK for at least every second full segment). */
    bool rx_large;
};

/* An IPv6 address with the length of its on-link prefix (sk_config.addr6). */
#define SK_IP6_ADDR_MAX 4
struct sk_ip6_prefix {
    uint8_t addr[16];   /* network byte order */
    uint8_t prefix_len; /* 1..128; 64 for SLAAC-style prefixes */
};
/* Whether the stack forms a link-local address (sk_config.ip6_linklocal). */
enum sk_ip6_linklocal {
    SK_IP6_LL_AUTO = 0, /* on Ethernet links, not on bare-IP links (the default) */
    SK_IP6_LL_ON = 1,
    SK_IP6_LL_OFF = 2,
};

struct sk_config {
    /* Link and addressing. Addresses are in host byte order. */
    enum sk_link_type link_type;
    uint8_t mac[6];
    uint32_t addr;       /* our IPv4 address; required (sk_config_default leaves 0.0.0.0) */
    uint8_t prefix_len;  /* length of the connected network's prefix */
    uint32_t gateway;    /* 0: none */
    uint16_t mtu;        /* link MTU in bytes (IP datagram size); default 1500 */
    struct sk_link_caps caps; /* offloads the link offers; default none */

    /* Memory limits, all enforced. Running out is counted (see sk_stack_counters). */
    /* TCBs of every state, listeners included. A TCB is allocated at connect, at a SYN to a
     * listener (or a returning SYN cookie) and at listen: a core record every connection
     * holds (identity, sequence variables, RTT, timers, links; sizeof(struct sk_tcp), about
     * 460 bytes). At synchronization (the SYN-ACK taken in SYN-SENT, the ACK taken in
     * SYN-RECEIVED, or close/shutdown in SYN-RECEIVED) a second record is allocated for
     * congestion control, loss recovery, tail loss probes, SACK and reassembly state and
     * byte counts (about 220 bytes), and freed with the TCB; so half-open connections hold
     * only the core. If it cannot be allocated the segment is dropped (drop
     * SK_DROP_TCP_NO_MEMORY, counted in alloc_failures) and the peer's retransmission tries
     * again; shutdown returns -ENOMEM and close resets. A listener's own record is
     * allocated at listen. */
    uint32_t max_connections;
    uint32_t max_syn_backlog;  /* half-open connections per listener, upper bound for listen() */
    uint32_t max_half_open;    /* half-open connections in the whole stack (all listeners) */
    /* Default buffers per connection: limits, not allocations. Each buffer is allocated when
     * first needed, not at connect or accept: the send buffer by the first send that queues a
     * byte, the receive buffer by the first byte of text received. It starts at 4 KiB (or the
     * size, if smaller) and doubles as it must hold more, up to the size (the receive buffer's
     * plus 2^wscale bytes for rounding scaled windows); so a 10 KB exchange takes 16 KiB, not
     * 64. It is freed again once empty (the send buffer: everything acknowledged, nothing
     * queued; the receive buffer: everything read, nothing held out of order) and unused for
     * 100 ms, or at once when no more can come that way (our FIN queued, the peer's received).
     * The windows are computed from the sizes alone, so what the peer sees does not depend on
     * the allocation. A buffer that cannot grow is the max_buffer_bytes case below. */
    uint32_t sndbuf_bytes;
    uint32_t rcvbuf_bytes;
    /* Sum of all connection buffers (counter buffer_bytes, the bytes allocated now). A buffer
     * that would pass it is not allocated or grown (limit_buffers): the send is -ENOBUFS,
     * received text is dropped unacknowledged (drop SK_DROP_TCP_NO_MEMORY) and comes again by
     * the peer's retransmission. */
    uint64_t max_buffer_bytes;
    /* The most one socket may ask for with SO_SNDBUF / SO_RCVBUF (Linux's wmem_max and
     * rmem_max): a larger value, INT_MAX or a negative one is silently lowered to it, as Linux
     * does; so is a value above max_buffer_bytes. Defaults 4 MiB / 6 MiB, the sizes Linux's own
     * autotuning grows a connection to (tcp_wmem[2], tcp_rmem[2]): synack does not autotune,
     * so the option is the only way to a large window, and 6 MiB is a bandwidth-delay product
     * of 1 Gbit/s at 48 ms. (Linux's wmem_max/rmem_max, 212992, cap only explicit settings
     * there, at 425984 bytes once doubled.) 0 means the default; the stack's own sndbuf_bytes /
     * rcvbuf_bytes are always allowed, even if larger. Only the socket layer clamps:
     * sk_tcp_set_buffers and sk_tcp_params take sizes as given. */
    uint32_t max_sndbuf_bytes;
    uint32_t max_rcvbuf_bytes;
    /* TIME-WAIT records (src/tcp/tcp_timewait.c): a connection in TIME-WAIT is a 64-byte record,
     * not a TCB, and counts against neither max_connections nor max_buffer_bytes. At most
     * max_time_wait of them (default 65536, 4 MiB); when full, the oldest is ended early to make
     * room (counted: tcp_timewait_reclaimed). 0 means the default. */
    uint32_t max_time_wait;

    /* TCP behaviour. */
    uint32_t rto_initial_us;   /* RFC 6298 §2.1: 1 s */
    uint32_t rto_min_us;       /* RFC 6298 §2.4: 1 s; many stacks use 200 ms */
    uint32_t rto_max_us;       /* RFC 6298 §2.5: at least 60 s */
    uint8_t syn_retries;       /* SYN retransmissions before ETIMEDOUT */
    uint8_t synack_retries;    /* SYN-ACK retransmissions before the half-open TCB is dropped */
    uint8_t data_retries;      /* retransmissions of data/FIN before ETIMEDOUT */
    uint32_t msl_us;           /* maximum segment lifetime; TIME-WAIT lasts 2*MSL */
    /* RFC 9293 §3.8.3 USER TIMEOUT (RFC 5482), the default for TCP_USER_TIMEOUT; 0: none.
     * When set, it alone decides when retransmitting data or a FIN gives up: ETIMEDOUT once
     * data has gone unacknowledged that long (the clock restarts whenever SND.UNA advances),
     * however many retransmissions that takes; data_retries no longer applies (Linux's
     * tcp_write_timeout). A handshake ends at the user timeout or after syn_retries /
     * synack_retries, whichever comes first. Zero-window probing ends when the window has
     * stayed shut that long since the first probe, answered or not, or after data_retries
     * unanswered probes (Linux's tcp_probe_timer); keep-alive ends at the first probe time at
     * least this long after the last segment received, instead of after keepalive_cnt probes
     * (Linux's tcp_keepalive_timer). Microseconds in 64 bits: no upper limit. */
    uint64_t user_timeout_us;
    uint32_t delack_us;        /* delayed-ACK timer; 0: ACK every segment at once */
    uint16_t mss;              /* MSS to announce; 0: from the MTU */
    uint16_t rcv_wnd_max;      /* cap on the unscaled advertised window (65535 max) */
    bool opt_wscale;           /* offer window scaling (RFC 7323) */
    bool opt_sack;             /* offer SACK-permitted (RFC 2018) */
    bool opt_timestamps;       /* offer timestamps (RFC 7323) */
    uint8_t wscale;            /* shift we announce; 0..14 */
    enum sk_syn_opt_layout syn_opt_layout;
    uint16_t ephemeral_lo, ephemeral_hi; /* local port range for connect() */

    /* Key material. Everything a blind attacker must not guess comes from these 32 bytes:
     * one independent key per purpose is derived from them (ISNs, RFC 6528 §3; timestamp
     * offsets, RFC 7323 §5.4; ephemeral ports, RFC 6056; SYN cookies, RFC 4987 §3.6; the
     * connection table's hash; the keyed generator behind every other random value the stack
     * puts on the wire). There is no default: set it with sk_config_set_secret (from the OS,
     * e.g. getrandom(2) or sk_config_secret_from_os in synack/loop.h) or, for simulations and
     * tests only, sk_config_set_test_seed; otherwise sk_stack_new fails with -ENOKEY. The stack
     * keeps only the derived keys: sk_stack_config shows neither the secret nor its source. */
    uint8_t secret[SK_SECRET_BYTES];
    enum sk_secret_source secret_source;

    /* Frames out. Called from inside sk_stack_input, sk_stack_poll and the connection calls.
     * The frame and meta (never NULL; all zero for a complete frame) are valid only during the
     * call. Must not call back into the stack. */
    void (*output)(void *ctx, const uint8_t *frame, size_t len, const struct sk_frame_meta *meta);
    void *output_ctx;
    /* (A driver that cannot queue a frame, its device's queue being full, says so from inside
     * output with sk_stack_output_refused.) */
    /* Optional: the driver lends the buffer the next frame is built in, so that a segment is
     * written once, straight into the driver's frame (a TAP driver leaves room for its
     * virtio-net header in front): TCP payload goes from the send ring into it in one copy.
     * Called with output_ctx before each frame (TCP segments, UDP datagrams and each of
     * their fragments, ICMP, packets leaving the ARP queue; not ARP requests) is built, with
     * the most bytes the frame may need (at most the MTU or caps.tso_max, plus the link
     * header and 64); returns a buffer of at least that many bytes, or NULL for the stack's
     * own. The buffer must stay valid until the next tx_buffer call (a frame may be built and
     * then not sent, e.g. queued for ARP, copied); the stack reads it (its trace) after the
     * output call returns, never writes it then. */
    uint8_t *(*tx_buffer)(void *ctx, size_t size);

    /* Optional trace of every segment, state change, timer and drop. Same rules as output. */
    void (*trace)(void *ctx, const struct sk_trace_event *ev);
    void *trace_ctx;

    /* Optional allocator (default: malloc/realloc/free). All core memory goes through it. */
    void *(*alloc)(void *ctx, void *ptr, size_t old_size, size_t new_size);
    void *alloc_ctx;

    /* Congestion control for new connections: "cubic" (RFC 9438, the default) or "reno"
     * (Linux's name; "newreno", its old name here, is still understood)
     * (RFC 5681 + RFC 6582). */
    const char *congestion_control;

    /* Round each connection's receive buffer up to a whole number of segments once the MSS is
     * known, as FreeBSD's tcp_mss() does (65536 becomes 65700 for an MSS of 1460); visible in
     * the advertised window. Default false: the buffer is rcvbuf_bytes exactly. */
    bool rcvbuf_round_to_mss;

    /* Visible quirks of other stacks, for conformance profiles (packetdrill's freebsd profile).
     * Both default off/0, which is RFC 9293's behaviour.
     * ack_repeats_fin: while our FIN is unacknowledged, every ACK we send repeats it, with
     *   <SEQ=the FIN's number> (FreeBSD's tcp_output: tcp_outflags[] of FIN-WAIT-1, CLOSING and
     *   LAST-ACK carry FIN, and "if resending a FIN, be sure not to use a new sequence number").
     * rto_slop_us: added to every retransmission timeout computed from an RTT sample or a
     *   back-off, not to the initial one (FreeBSD's TCPT_RANGESET adds tcp_rexmit_slop, 200 ms),
     *   so that SYN retransmissions come 1 s, then 2.2 s, then 4.2 s apart. */
    bool ack_repeats_fin;
    uint32_t rto_slop_us;
    /* Receiver silly-window avoidance. false (default): RFC 9293 §3.8.6.2.2, the offered right
     * edge stays put until it can move by min(MSS, half the buffer). true: FreeBSD's
     * tcp_output, every ACK offers the free space as it is (never shrinking the window), and
     * 0 when that is under min(MSS, a quarter of the buffer). */
    bool bsd_receive_window;
    /* After this many SYN retransmissions, SYNs carry the MSS option only (FreeBSD does so
     * from the third, for middleboxes that drop SYNs with unknown options). 0: never. */
    uint8_t syn_rtx_plain_after;
    /* rfc793_syn: a SYN inside the window of a synchronized connection resets it
     *   (<SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>, ECONNRESET) as RFC 793 said, instead of the
     *   RFC 5961 §4 challenge ACK (FreeBSD's net.inet.tcp.insecure_syn).
     * bsd_time_wait: in TIME-WAIT, a segment without ACK is dropped silently and every other
     *   segment that is not an in-sequence bare ACK is answered with an ACK (FreeBSD's
     *   tcp_twcheck), instead of RFC 9293's "ACK what is unacceptable". */
    bool rfc793_syn;
    bool bsd_time_wait;

    /* Explicit Congestion Notification (RFC 3168). ecn: 0 off; 1 request it in our SYNs and
     * accept it; 2 (default, as Linux and FreeBSD) accept it when the peer asks. ecn_syn_retries:
     * SYN retransmissions that still ask for ECN before falling back (§6.1.1.1; default 1). */
    uint8_t ecn;
    uint8_t ecn_syn_retries;
    /* A connection in SYN-SENT ended by an ICMP "administratively prohibited" (codes 9, 10, 13)
     * reports ECONNREFUSED (FreeBSD) instead of EHOSTUNREACH (Linux, the default); over IPv6,
     * ICMPv6 "administratively prohibited" (1) and Parameter Problem "unrecognized Next
     * Header" (1) report ECONNREFUSED instead of EACCES and EPROTO (Linux). */
    bool icmp_admin_refused;
    /* RFC 5461 §4, the "non-standard but widely implemented" reaction (Linux's tcp_v4_err and
     * tcp_v6_err): an ICMP error for a connection being opened ends it. In SYN-SENT, every
     * error (not only the hard ones); a half-open connection on a listener's SYN queue is
     * dropped without a reset on net or host unreachable, time exceeded or parameter problem
     * (IPv6: on the hard errors, icmpv6_err_convert's "fatal"); a Fast Open child not yet
     * accepted is closed with the error and stays in the accept queue, its data still
     * readable. Off by default: RFC 1122 §4.2.3.9 makes net and host unreachable soft errors
     * that "MUST NOT abort the connection". */
    bool icmp_abort_handshake;
    /* Tail loss probe (RFC 8985 §7) on connections with SACK: on by default. */
    bool tlp;
    /* Ranges a connection keeps, each an array allocated at its first range and freed when
     * the set empties (refused: as a full set, below): the SACK scoreboard
     * (sack_ranges_max, at most 32, the default) and the out-of-order data it holds for the
     * peer (ooo_ranges_max, at most 16, the default). 0 or more than the maximum: the maximum.
     * A SACK block that would need one more range is not taken (counted: tcp_sack_sb_full; the
     * cumulative ACK or a later block covers it); an out-of-order segment that would is dropped
     * (drop reason tcp-out-of-order-full) and sent again by the peer. */
    uint8_t sack_ranges_max;
    uint8_t ooo_ranges_max;
    /* RFC 1337 §3: a RST in TIME-WAIT is ignored instead of ending TIME-WAIT early (which RFC
     * 9293 and Linux's default allow; an old duplicate RST could then let an old segment
     * through). Off by default. */
    bool rfc1337;
    /* A segment without data whose SEG.SEQ is exactly RCV.NXT+RCV.WND (the right edge) is
     * acceptable. RFC 9293 §3.10.7.4's table wants SEG.SEQ < RCV.NXT+RCV.WND, but a peer that
     * filled our window while one of its segments is missing sends its pure ACKs from exactly
     * there, and dropping them throws away its acknowledgments of our data for as long as the
     * hole lasts (Linux's tcp_sequence and FreeBSD's window trimming accept them). On by
     * default; false is the RFC's strict test. */
    bool ack_at_window_edge;

    /* Blind injection (RFC 5961 §7, docs/security.md). challenge_ack_limit: challenge ACKs the
     * stack sends in one second, all connections together (default 1000; 0: no per-stack
     * limit). The budget of each second is drawn at random from [ceil(L/2), ceil(L/2) + L - 1]
     * for L = challenge_ack_limit, as Linux does since CVE-2016-5696: a fixed, shared budget
     * let an off-path attacker count the challenge ACKs his own connection got and learn
     * whether his guesses at another connection's sequence numbers were in its window.
     * invalid_ack_ratelimit_us: on one connection, at most one ACK per interval (default
     * 500 ms, Linux's tcp_invalid_ratelimit; 0: no limit) in answer to unacceptable segments
     * (out of window, PAWS) and as challenge ACKs: each such ACK reaches the real peer as a
     * duplicate ACK, and a stream of forged segments must not become a stream of them. Only a
     * retransmission of data the connection holds (ending at or before RCV.NXT, starting no
     * further back than the receive buffer) is answered every time, for its D-SACK. Both
     * limits are counted (tcp_challenge_acks_limited, tcp_invalid_acks_limited). */
    uint32_t challenge_ack_limit;
    uint32_t invalid_ack_ratelimit_us;

    /* Keep-alives (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6): off unless `keepalive` is set here or
     * per connection. After keepalive_idle_us without a segment from the peer (default 2 h),
     * a probe every keepalive_intvl_us (75 s); keepalive_cnt (9) unanswered probes end the
     * connection with -ETIMEDOUT. */
    bool keepalive;
    uint64_t keepalive_idle_us;
    uint32_t keepalive_intvl_us;
    uint8_t keepalive_cnt;

    /* The real wire (src/ip/). ARP (RFC 826, Ethernet links only): an answer is trusted for
     * arp_timeout_us (default 60 s, then re-probed while in use); a request is repeated every
     * arp_retry_us (1 s) up to arp_retries times (3); packets waiting for an answer are copied
     * into a per-stack queue of at most arp_queue_bytes (64 KiB). */
    uint32_t arp_timeout_us;
    uint32_t arp_retry_us;
    uint8_t arp_retries;
    uint32_t arp_queue_bytes;
    /* IPv4 reassembly (RFC 791, RFC 815): an incomplete datagram lives ipfrag_timeout_us
     * (30 s); at most ipfrag_max_datagrams (64) at once holding ipfrag_max_bytes (1 MiB) in
     * all, descriptors, fragment data and buffers counted; when full the oldest datagram is
     * reclaimed (ip_reasm_evicted). ipfrag_max_bytes = 0 turns reassembly off (fragments are
     * dropped). */
    uint32_t ipfrag_timeout_us;
    uint32_t ipfrag_max_datagrams;
    uint32_t ipfrag_max_bytes;
    /* ICMP errors we send (RFC 1812 §4.3.2.8): a token bucket of icmp_burst (50) refilled at
     * icmp_rate_per_s (1000) tokens a second. Echo replies are not limited. */
    uint32_t icmp_rate_per_s;
    uint32_t icmp_burst;
    /* UDP: datagrams held per socket until read (64); more are dropped and counted. */
    uint32_t udp_rcvq_datagrams;

    /* Limits against fragment, ICMP and ARP attacks (docs/security.md "Fragments and ICMP").
     * ipfrag_max_fragments: fragments one datagram may arrive in (128: a 64 KiB datagram cut
     *   for the 576-byte MTU every host accepts, RFC 791 §3.1, takes 119); more discard it
     *   (counted in ip_frag_too_many).
     * pmtu_min: an ICMP "fragmentation needed" never lowers a path MTU below this (552, Linux's
     *   min_pmtu; RFC 1191 §3 allows down to 68, RFC 791's minimum, which values under 68
     *   mean). A lower report is raised to it and counted (icmp_pmtu_floored).
     * tcp_min_mss: the least payload per segment we send, whatever the peer's MSS option or an
     *   ICMP message says (64 bytes; Linux's tcp_min_snd_mss is 48 with options counted, the
     *   SACK Panic fix, CVE-2019-11479: a tiny MSS cuts the send queue into many pieces).
     *   Counted in tcp_mss_floored.
     * arp_cache_entries: neighbours remembered (64; 1 to 4096, else sk_stack_new fails with
     *   -EINVAL: a lookup scans them); a new one replaces the least recently
     *   used (counted in arp_cache_evicted; an unresolved victim's waiting packets are dropped).
     * arp_queue_per_entry: packets waiting for one neighbour's answer (16, FreeBSD's
     *   net.link.ether.inet.maxhold), within arp_queue_bytes for all; more are dropped
     *   (drop arp-queue-full). */
    uint32_t ipfrag_max_fragments;
    uint16_t pmtu_min;
    uint16_t tcp_min_mss;
    uint32_t arp_cache_entries;
    uint32_t arp_queue_per_entry;

    /* SYN floods (RFC 4987; src/tcp/tcp_listen.c, docs/security.md). A SYN finds the SYN queue
     * full when its listener holds `backlog` half-open children or the stack holds
     * max_half_open (default 1024). syncookies: 0 off, then a full queue makes room by dropping
     * its oldest half-open child (tcp_halfopen_evicted); 1 (default) a full queue answers with
     * a SYN cookie (RFC 4987 §3.6) and keeps no state for the SYN (tcp_syncookies_sent); 2
     * every SYN is answered with a cookie. A cookie carries the peer's MSS rounded down to a
     * table entry, and, when both sides use timestamps, window scale, SACK-permitted and ECN in
     * the low 6 bits of our TSval; without timestamps a cookie connection has none of the
     * three. A cookie is valid for 64 to 128 s. */
    uint8_t syncookies;
    /* syncookie_quiet_data (default true), a deliberate deviation from RFC 9293 §3.10.7.2:
     * while the listener's cookies are alive, an ACK carrying data or FIN that fails the
     * cookie check is dropped (drop tcp-cookie-unverified) instead of answered with a RST.
     * The cookie is checked against SEG.SEQ - 1, so when a real client's handshake ACK and
     * first segments are lost (an overflowing link queue during the very flood that made us
     * send cookies), its later segments fail the check; a RST would reset a connection the
     * client believes open, while silence lets its retransmission from IRS + 1 bring the
     * cookie back. A pure ACK that fails is still answered with a RST. */
    bool syncookie_quiet_data;

    /* IPv6 (RFC 8200; src/ip/ipv6.c, src/ip/nd.c, src/ip/addr6.c). Off by default (ip6 false):
     * an IPv4-only stack sends and accepts nothing IPv6 (counted drops, ip-version). With ip6:
     * addr6: up to SK_IP6_ADDR_MAX static addresses, addr6_count of them used, each with the
     *   length of its on-link prefix (RFC 4861 §5.2: addresses under it are neighbours).
     * ip6_linklocal: form a link-local address at start (RFC 4291 §2.5.6) whose interface
     *   identifier is RFC 7217's stable-privacy hash (as RFC 8064 recommends, never EUI-64):
     *   SK_IP6_LL_AUTO (default) does so on Ethernet links only.
     * ip6_accept_ra: take router advertisements (RFC 4861 §6.3.4): default routers, on-link
     *   prefixes, SLAAC addresses (RFC 4862 §5.5.3), MTU; on by default (Ethernet only).
     * ip6_dad_transmits: RFC 4862 §5.1 DupAddrDetectTransmits (1); 0 skips duplicate address
     *   detection and makes addresses preferred at once. Every address stays tentative (unused)
     *   until detection ends; the neighbour cache's retransmission interval (1 s, or the RA's)
     *   separates the solicitations.
     * ip6_hop_limit: RFC 8200 §3 Hop Limit of what we send (64, RFC 4861 §6.3.2's
     *   CurHopLimit until a router gives another); neighbour discovery always sends 255.
     * The neighbour cache (RFC 4861 §7.3) is the ARP cache: the same entries, limits, queue
     *   and drop reasons (arp_cache_entries, arp_queue_bytes, arp_queue_per_entry) serve both
     *   families; RFC 4861 §10's timers apply to IPv6 neighbours (ReachableTime drawn from
     *   0.5..1.5 x 30 s, RetransTimer 1 s, 3 multicast and 3 unicast solicitations, 5 s
     *   DELAY_FIRST_PROBE_TIME), arp_* timers to IPv4 ones.
     * Fixed bounds (src/ip/ip_int.h): 9 addresses (the statics, the link-local one, SLAAC
     *   ones beyond: a prefix that finds the table full gives none), 4 default routers and 4
     *   on-link prefixes from advertisements (more are ignored), 16 path MTUs learned from
     *   Packet Too Big (the one expiring first makes room; each ages out after 10 minutes,
     *   RFC 8201 §4, and none goes below 1280: counted ip6_pmtu_floored). */
    bool ip6;
    struct sk_ip6_prefix addr6[SK_IP6_ADDR_MAX];
    uint8_t addr6_count;
    enum sk_ip6_linklocal ip6_linklocal;
    bool ip6_accept_ra;
    uint8_t ip6_dad_transmits;
    uint8_t ip6_hop_limit;

    /* Header prediction (src/tcp/tcp_input.c, docs/performance.md): in ESTABLISHED, a bare ACK
     * of new data and in-order data that acknowledges nothing new skip the full RFC 9293
     * §3.10.7.4 path when nothing else about them needs it. Same behaviour either way, only
     * fewer instructions (counted: tcp_fastpath_acks, tcp_fastpath_data). Default on; false
     * sends every segment through the full path. */
    bool tcp_fast_path;

    /* ---- Loss detection and recovery: RACK-TLP (RFC 8985), PRR (RFC 6937). ----
     * (fields of src/tcp/tcp_rack.c and tcp_recovery.c) */
    /* loss_detection: how a connection with SACK decides that a segment is lost.
     *   SK_LOSS_RACK (default; Linux since 4.18, FreeBSD's RACK stack): RACK (RFC 8985 §6),
     *   by time: lost once a segment sent after it was delivered and an RTT plus a reordering
     *   window (min_RTT/4, 0 until reordering is seen, grown by D-SACKs) has passed since it
     *   went out; a timer catches what no later ACK would.
     *   SK_LOSS_RFC6675: RFC 6675 §4's IsLost, by counts (DupThresh = 3 SACKed segments above).
     *   Connections without SACK use RFC 5681 / RFC 6582 duplicate ACKs either way (RFC 8985
     *   §3 needs SACK to know which segments were delivered).
     * prr: cwnd during fast recovery by Proportional Rate Reduction (RFC 6937 §3, with the
     *   slow-start reduction bound PRR-SSRB, Linux's choice; default true) instead of RFC 6675
     *   §5's cwnd = ssthresh at once. On connections with SACK. */
    /* prr_linux: PRR as Linux's tcp_cwnd_reduction does it (profile=linux; default false, RFC
     *   6937 as written): RecoverFS is cwnd before recovery (tp->prior_cwnd) rather than the
     *   FlightSize, and PRR-SSRB's extra SMSS is allowed only on an ACK that advances SND.UNA
     *   and marks no new loss (the "safe ACK" of RFC 6937's revision, draft-ietf-tcpm-prr-rfc6937bis). */
    /* rack_timer_slop_us: added to RACK's reordering timer (default 0). Linux arms it
     *   TCP_TIMEOUT_MIN (2 jiffies) late (tcp_rack_mark_lost): 2 ms at HZ=1000, which
     *   profile=linux sets. */
    enum sk_loss_detection loss_detection;
    bool prr;
    bool prr_linux;
    uint32_t rack_timer_slop_us;

    /* ---- TCP Fast Open (RFC 7413). ----
     * (fields of src/tcp/tcp_fastopen.c; docs/fastopen.md)
     * tfo: what Fast Open may do, Linux's net.ipv4.tcp_fastopen bits (SK_TFO_*). Default
     *   SK_TFO_CLIENT | SK_TFO_SERVER: either side still needs the application to ask (a
     *   connection's sk_tcp_params.fastopen, a listener's sk_tcp_set_fastopen), so nothing
     *   changes on the wire for an application that does not. 0 turns Fast Open off.
     * tfo_key / tfo_key_set: the server's cookie key (Linux's net.ipv4.tcp_fastopen_key, its
     *   four hex words as little-endian 32-bit words). Unset (default), the key is the stack's
     *   own for this purpose, derived from sk_config.secret like every other key.
     * tfo_cache_entries: servers whose cookie (and MSS) the client remembers (default 64;
     *   Linux keeps them in tcp_metrics). Allocated at the first cookie through the config
     *   allocator; the least recently used entry makes room.
     * tfo_syn_loss_backoff_us: a server behind which SYNs with data or a cookie went
     *   unanswered twice in a row gets plain SYNs for this long, doubled per further loss
     *   (Linux 4.x's 60 s << syn_loss in tcp_fastopen_cookie_check); 0: never. */
    uint32_t tfo;
    uint8_t tfo_key[16];
    bool tfo_key_set;
    uint16_t tfo_cache_entries;
    uint64_t tfo_syn_loss_backoff_us;

    /* ---- Packetization-layer path MTU discovery (RFC 4821, RFC 8899). ----
     * (fields of src/tcp/tcp_plpmtu.c; docs/data-path.md "Path MTU") Sizes are packet sizes
     * (IP header + TCP header and options + payload) unless named _mss (payload, as snd_mss).
     * plpmtud: 0 (default, as Linux's tcp_mtu_probing and FreeBSD) off: only ICMP lowers the
     *   MSS (tcp_icmp.c). 1: off until a black hole is suspected (Linux's tcp_mtu_probing=1):
     *   plpmtu_blackhole_rtos consecutive retransmission timeouts with a full-size segment
     *   outstanding (RFC 4821 §7.7's full-stop timeout) drop the MSS to plpmtu_base_mss and
     *   start the search upward. 2: every connection searches from its start (Linux's
     *   tcp_mtu_probing=2): sending starts at the handshake's MSS, probes look above it up to
     *   what the peer's MSS option and our link allow, and the black-hole rule holds too.
     * plpmtu_base_mss: the search's floor, a size assumed to pass every path (RFC 4821 §7.2
     *   recommends a 1024-byte MTU; Linux's tcp_base_mss 1024, the default); a black hole
     *   drops an IPv6 connection to no less than a 1280-byte packet (RFC 8899 §5.1.2's
     *   BASE_PLPMTU). A black hole at
     *   or below it halves the size, never below pmtu_min (IPv4) or 1280 (IPv6).
     * plpmtu_probe_threshold: the search ends when search_high - search_low is smaller (8
     *   bytes, Linux's tcp_probe_threshold; RFC 4821 §7.3).
     * plpmtu_probe_interval_us: a completed search starts again after this long, for a path
     *   that may have grown (600 s: RFC 8899 §5.1.1's PMTU_RAISE_TIMER, Linux's
     *   tcp_probe_interval).
     * plpmtu_max_probes: losses of probes of one size before the size is taken as too large
     *   (3: RFC 8899 §5.1.2's MAX_PROBES; Linux gives up after 1). 0 means 1.
     * plpmtu_blackhole_rtos: consecutive timeouts that mean a black hole (3: Linux's
     *   tcp_retries1, when it calls tcp_mtu_probing). 0 means 1. */
    uint8_t plpmtud;
    uint16_t plpmtu_base_mss;
    uint16_t plpmtu_probe_threshold;
    uint32_t plpmtu_probe_interval_us;
    uint8_t plpmtu_max_probes;
    uint8_t plpmtu_blackhole_rtos;

    /* ---- Behaviour other stacks show, for profiles (packetdrill's profile=linux). ----
     * Each defaults to the RFC's behaviour (0 or false); docs/conformance.md "profile=linux"
     * lists what the Linux profile sets and the Linux source of each.
     * quickack_max: Linux's quick-ACK mode (net/ipv4/tcp_input.c: tcp_incr_quickack,
     *   tcp_enter_quickack_mode, __tcp_ack_snd_check; TCP_MAX_QUICKACKS = 16 in
     *   include/net/tcp.h). 0 (default): RFC 5681 §4.2's delayed ACK, at least every second
     *   segment. N: at a connection's first data, after a silence longer than the RTO and
     *   after out-of-order data, the next min(N, max(2, window / (2 * largest segment seen)))
     *   ACKs of new data go out at once, one per segment, except on an interactive
     *   connection (we sent data less than the ACK timeout after data came: Linux's
     *   "pingpong" mode, tcp_event_data_sent). Outside quick-ACK mode an ACK goes at once when
     *   more than the largest segment seen is unacknowledged (Linux's "more than one full
     *   frame"), else after the ACK timeout below.
     * delack_max_us: Linux's adaptive ACK timeout (icsk_ack.ato: tcp_event_data_recv,
     *   tcp_send_delayed_ack, tcp_delack_timer_handler in net/ipv4/tcp_timer.c). 0 (default):
     *   the delayed-ACK timer is always delack_us. Else the timeout starts at delack_us
     *   (TCP_ATO_MIN, 40 ms), follows half the gaps between arriving segments, doubles (up to
     *   the RTO) each time the timer fires on a bulk connection, falls back to delack_us when
     *   it fires on an interactive one (which stops being interactive), and is capped by the
     *   smoothed RTT (at least delack_us) and by delack_max_us (TCP_DELACK_MAX, 200 ms) on an
     *   interactive connection, 500 ms (HZ/2) on another. Works with quickack_max.
     * rto_min_on_variance: the RTO is SRTT + max(4 * RTTVAR, rto_min_us) (Linux's
     *   tcp_rtt_estimator and tcp_set_rto: the floor is on the variance term, mdev_max, "make
     *   sure rto = 3*rtt" on the first sample) instead of RFC 6298 §2.4's max(SRTT + 4 *
     *   RTTVAR, rto_min_us). Default false.
     * fin_wait2_timeout_us: how long an orphaned connection (closed by the application) waits
     *   in FIN-WAIT-2 for the peer's FIN before it is dropped silently. 0 (default): 2 * MSL.
     *   Linux: net.ipv4.tcp_fin_timeout, TCP_FIN_TIMEOUT = 60 s (tcp_fin_time in
     *   include/net/tcp.h, at least 3.5 RTO).
     * ack_unsent_silent: a segment whose ACK acknowledges something not yet sent (SEG.ACK >
     *   SND.NXT) in a synchronized state is dropped without the ACK RFC 9293 §3.10.7.4 asks
     *   for (Linux's tcp_ack: "If the ack includes data we haven't sent yet, discard this
     *   segment", SKB_DROP_REASON_TCP_ACK_UNSENT_DATA). Default false.
     * rst_ack_on_abort: the RST that aborts a synchronized connection (close with unread data,
     *   SO_LINGER zero, a listener's unaccepted children) carries ACK with RCV.NXT and, where
     *   agreed, a timestamp (Linux's tcp_send_active_reset: TCPHDR_ACK | TCPHDR_RST), instead
     *   of RFC 9293 §3.10.4's bare <SEQ=SND.NXT><CTL=RST>. Default false.
     * nagle_minshall: Nagle's algorithm in Minshall's form (Linux's tcp_nagle_check and
     *   tcp_minshall_check): a short segment waits only while an earlier short segment is
     *   unacknowledged, not while any data is (RFC 896, RFC 9293 §3.7.4, the default: false);
     *   so the short tail of a write goes at once behind full-sized segments.
     * psh_tso: a super-segment of more than one segment (segmentation offload, caps.tso_max)
     *   carries PSH wherever it ends, as Linux's __tcp_transmit_skb forces PSH on every GSO
     *   packet (tcp_skb_pcount(skb) > 1) "to expedite GRO flush at receiver"; the link's
     *   segmentation keeps it on the last segment only. Default false: PSH marks the end of
     *   what the application handed over (RFC 9293 §3.9.1), nothing else.
     * forced_push: a write is queued in chunks of the size goal (Linux's skbs: tcp_sendmsg
     *   fills each to tcp_xmit_size_goal), every full chunk pushed out as the windows allow
     *   (tcp_push_one) without PSH; a chunk that completes more than half the peer's largest
     *   window of data since the last push ends in PSH, and no segment crosses its end
     *   (forced_push, tcp_mark_push: the skb keeps TCPHDR_PSH until it goes, tcp_fragment
     *   leaves it on the part that ends there). Default false: PSH marks the end of what the
     *   application handed over only (RFC 9293 §3.9.1), a write is queued whole.
     * tso_rtx: with segmentation offload (caps.tso_max), a lost transmission (a RACK record:
     *   a super-segment as sent, less what SACKs and ACKs took from it) is sent again as one
     *   super-segment of as many whole segments as cwnd - pipe allows, as Linux's
     *   tcp_xmit_retransmit_queue hands __tcp_retransmit_skb the skb and cwnd - in_flight
     *   segments; with psh_tso it carries PSH when it is more than one segment. Default
     *   false: a retransmission is one segment.
     * synack_tsecr_check: in SYN-SENT, a SYN-ACK whose TSecr is not zero and not one of our
     *   TSvals since the first SYN (first SYN's TSval <= TSecr <= now) is answered with a
     *   reset <SEQ=SEG.ACK><CTL=RST> and dropped, the connection left in SYN-SENT (Linux's
     *   tcp_rcv_synsent_state_process, LINUX_MIB_PAWSACTIVEREJECTED). RFC 7323 asks nothing of
     *   a SYN-ACK's TSecr, and RFC 9293 §3.10.7.3 takes any SYN-ACK whose ACK is acceptable.
     *   Default false.
     * syn_mss_path: a SYN sent after ICMP "fragmentation needed" or Packet Too Big lowered the
     *   path MTU announces an MSS that fits the path (Linux's tcp_advertise_mss, which clamps
     *   advmss to the route's), instead of the interface's (RFC 9293 §3.7.1, RFC 1122
     *   §4.2.2.6: what we can receive). Default false.
     * tso_autosize: with segmentation offload (caps.tso_max), a super-segment carries about a
     *   millisecond's worth of Linux's pacing rate, at least tso_min_segs segments (0: 2), as
     *   Linux's tcp_tso_autosize sizes what one transmission hands the device (tcp_min_tso_segs,
     *   tcp_tso_rtt_log), and no more than half of cwnd (tcp_cwnd_test); without it, as much
     *   as the window and half the peer's largest window allow. Default false.
     * pacing: data segments leave no faster than the pacing rate (src/tcp/tcp_pacing.c), as
     *   Linux paces a socket (tcp_update_skb_after_send, tcp_pacing_check; with the fq qdisc,
     *   fq holds each packet to the same departure time): after the first ten segments, each
     *   transmission of L bytes moves the next departure L / rate later, less up to half of
     *   that for time the sender lost. The rate, also what tso_autosize sizes by, is Linux's
     *   tcp_update_pacing_rate: pacing_ss_ratio percent of cwnd * MSS / SRTT while cwnd is
     *   below half ssthresh, pacing_ca_ratio percent after (0: 200 and 120, Linux's
     *   tcp_pacing_ss_ratio and tcp_pacing_ca_ratio). RFC 9002 §7.7 (QUIC) recommends pacing
     *   at N * cwnd / smoothed_rtt; RFC 9293 says nothing of it. Default false: segments go
     *   as the windows allow.
     * rtt_every_ack: every ACK that newly acknowledges data gives an RTT sample, the time
     *   since the oldest segment it covers was sent, unless one of them was ever sent again
     *   (Karn) (Linux's tcp_clean_rtx_queue seq_rtt_us, which it prefers to the timestamp
     *   echo; it needs RACK's per-segment records, so SACK). Default false: RFC 6298's one
     *   timed segment per RTT, or the echo of every ACK with timestamps (RFC 7323 §4.1).
     * window_probe_empty: a zero window with nothing in flight is probed by a segment without
     *   data, SEQ = SND.UNA - 1, which the peer answers with an ACK carrying its window (Linux's
     *   tcp_write_wakeup: tcp_xmit_probe_skb(sk, 0), "use a previous sequence"), instead of RFC
     *   9293 §3.8.6.1's one byte of data beyond the window (the default: false). Timing,
     *   backoff and the count of unanswered probes are the same.
     * sndbuf_chunks: the send buffer's size (sndbuf_bytes, or the connection's) stands for
     *   Linux's sk_sndbuf, what SO_SNDBUF reads back there (twice the value set: packetdrill's
     *   adapter passes that), and data joins it as tcp_sendmsg_locked queues skbs: a write
     *   fills the newest unsent chunk up to the size goal (sk_tcp_size_goal, Linux's
     *   tcp_xmit_size_goal) whatever the buffer holds, and starts a new chunk only while the
     *   queued bytes are below the size (sk_stream_memory_free); a full chunk is pushed at once
     *   (tcp_push_one, forced_push), and the rest of one that went out in part is a chunk of
     *   its own that fills again (tso_fragment). So a queue may pass the size by about a chunk
     *   or two: 6.18 queued 60000 bytes at once for sk_sndbuf 42000 with a 25000-byte goal
     *   (blocking-write.pkt), 95000 for 20000 with a 65000-byte goal
     *   (tcp-info-sndbuf-limited.pkt). The connection is writable (poll, a blocked writer
     *   woken) only once free >= queued / 2, a third of the size (sk_stream_is_writeable,
     *   sk_stream_write_space from tcp_check_space). Linux counts bytes in skb truesize, each
     *   skb's data plus about 832 bytes of its own; this counts the data only, so it queues
     *   an skb's worth more in a few places than the kernel. The ring may hold the size plus
     *   two chunks of the largest goal. Default false: the size is the most the ring holds,
     *   and any free byte makes the connection writable. */
    uint8_t quickack_max;
    uint32_t delack_max_us;
    bool rto_min_on_variance;
    uint32_t fin_wait2_timeout_us;
    bool ack_unsent_silent;
    bool rst_ack_on_abort;
    bool nagle_minshall;
    bool psh_tso;
    bool forced_push;
    bool tso_rtx;
    bool synack_tsecr_check;
    bool syn_mss_path;
    bool tso_autosize;
    uint8_t tso_min_segs;
    bool pacing;
    uint16_t pacing_ss_ratio, pacing_ca_ratio;
    bool rtt_every_ack;
    bool window_probe_empty;
    bool sndbuf_chunks;

    /* congestion control (cc helper): src/tcp/cc_slowstart.c, cc_cubic.c.
     * ss_abc_limit: RFC 3465 §2.2's L, the most a slow-start ACK grows cwnd, in SMSS (default
     *   2, §2.3's recommendation and RFC 5681 §3.1's "MAY ... min(N, SMSS)" widened by byte
     *   counting); 0: no limit, cwnd grows by every byte acknowledged (Linux tcp_slow_start).
     *   HyStart++ brings its own L (RFC 9406 §4.3: 8, none when paced) while it runs.
     * cwnd_validation: when an ACK may grow cwnd (enum sk_cwnd_validation; default RFC 7661;
     *   Linux: include/net/tcp.h tcp_is_cwnd_limited with tcp_output.c tcp_cwnd_validate).
     * hystart: CUBIC's slow-start exit (enum sk_hystart; NewReno always keeps RFC 5681's).
     *   Default SK_HYSTART_OFF, RFC 5681 slow start, which RFC 9438 §4.10 allows (MAY) beside
     *   its SHOULD for HyStart++ (RFC 9406): with HyStart++ on, sockdiff's blocking-send
     *   scenarios (tests/diff, real time, two stacks) drained the send buffer more slowly
     *   than the kernel and differed; until that is understood the data path keeps the slow
     *   start every other test measured. SK_HYSTART_PP is RFC 9406 as written. Linux:
     *   net/ipv4/tcp_cubic.c hystart=1, hystart_detect=3 (both ACK train and delay).
     * slow_start_after_idle: RFC 5681 §4.1's restart, cwnd back to min(IW, cwnd) after an
     *   idle period longer than the RTO (default on: the RFC's SHOULD; Linux's sysctl
     *   tcp_slow_start_after_idle, 1 by default, 0 in packetdrill's defaults.sh).
     * grow_by_delivered: an ACK that advances SND.UNA grows cwnd by the data it delivered (RFC
     *   6937 §3's DeliveredData: bytes SACKed by earlier ACKs were delivered then; without SACK
     *   each earlier duplicate ACK stood for one segment, at least one segment left to this
     *   ACK), not by all the bytes it acknowledges (RFC 5681 §3.1's N, the default: false).
     *   What duplicate ACKs announced never grows cwnd: after two duplicate ACKs and limited
     *   transmit, the ACK of three segments grows it by one. Linux: tcp_ack hands
     *   tcp_cong_control acked_sacked (tp->delivered - prior_delivered: tcp_sacktag_write_queue,
     *   tcp_add_reno_sack, tcp_remove_reno_sacks' max(acked - sacked_out, 1)), which grows cwnd
     *   only on FLAG_DATA_ACKED, or, once the path reordered more than 3 segments (RACK's
     *   reordering, Linux's tp->reordering above tcp_reordering), on a SACK too
     *   (tcp_may_raise_cwnd: FLAG_FORWARD_PROGRESS).
     * cubic_linux: CUBIC's congestion avoidance computed as Linux's tcp_cubic.c does
     *   (bictcp_update: integer packets and a 1/1024 s clock, t offset by the least RTT, growth
     *   capped at 5% per RTT before any loss, its own Reno estimate, at most 1 packet per 2
     *   ACKed) instead of RFC 9438's equations; default off. */
    uint8_t ss_abc_limit;
    bool slow_start_after_idle;
    bool grow_by_delivered;
    bool cubic_linux;
    enum sk_cwnd_validation cwnd_validation;
    enum sk_hystart hystart;

    /* ---- Socket-level limits: low-water marks, record boundaries. ----
     * (src/tcp/tcp_marks.c; docs/api.md "Low-water marks and records")
     * notsent_lowat: the default TCP_NOTSENT_LOWAT (sk_tcp_set_notsent_lowat), Linux's
     *   net.ipv4.tcp_notsent_lowat: a connection takes more data to send only while fewer than
     *   this many queued bytes are unsent (SND.MAX to the end of the queue), checked, as Linux's
     *   tcp_sendmsg checks it per skb, before each new chunk of queued data (one segment, or one
     *   super-segment with segmentation offload), so a send may leave up to a chunk more; and it
     *   shows SK_EV_WRITABLE only while twice the unsent bytes are below it (Linux's tcp_poll,
     *   sk_stream_is_writeable). UINT32_MAX (the default, as Linux's) or 0: no mark, the send
     *   buffer alone limits. */
    uint32_t notsent_lowat;
};

/* Fills cfg with the defaults: RFC values, Linux-like SYN options, 64 KiB buffers. It sets no
 * secret: the caller must (sk_config_set_secret or sk_config_set_test_seed). */
SK_API void sk_config_default(struct sk_config *cfg);

/* Installs len == SK_SECRET_BYTES bytes of key material that nobody else can know (read them
 * from the OS's generator: getrandom(2)). 0, or -EINVAL for another length. */
SK_API int sk_config_set_secret(struct sk_config *cfg, const void *secret, size_t len);

/* FOR SIMULATIONS AND TESTS ONLY: derives the secret from a public 64-bit seed, so that a run
 * can be replayed exactly (the seed's 8 bytes little-endian, then 24 zero bytes). Anyone who
 * knows or guesses the seed predicts every ISN, port and timestamp: never on a real network. */
SK_API void sk_config_set_test_seed(struct sk_config *cfg, uint64_t seed);

/* Creates a stack; `now` is its starting time. Returns NULL if the configuration is invalid
 * (*err = -EINVAL), has no address (sk_config.addr 0.0.0.0, as sk_config_default leaves it:
 * *err = -EADDRNOTAVAIL), carries no secret (*err = -ENOKEY: see sk_config.secret) or memory
 * is short (*err = -ENOMEM). err may be NULL. */
SK_API struct sk_stack *sk_stack_new(const struct sk_config *cfg, sk_time_us now, int *err);

/* Frees the stack and every connection and listener still in it, without sending anything.
 * Handles into it become invalid. */
SK_API void sk_stack_free(struct sk_stack *st);

/* Hands the stack one frame received at time `now` (which must not go backwards). Malformed
 * frames are dropped and counted. The frame is not kept after the call. */
SK_API void sk_stack_input(struct sk_stack *st, const uint8_t *frame, size_t len, sk_time_us now);
/* The same, with what the link says about this frame (see struct sk_frame_meta); meta NULL is
 * sk_stack_input. */
SK_API void sk_stack_input_meta(struct sk_stack *st, const uint8_t *frame, size_t len,
                                const struct sk_frame_meta *meta, sk_time_us now);

/* Called by the driver from inside sk_config.output: the frame just handed could not be
 * queued (a full transmit queue: a TAP write's EAGAIN or ENOBUFS, a local qdisc's drop), and
 * is dropped. TCP treats the segment as not sent, as Linux treats a local drop
 * (NET_XMIT_DROP): new data stays queued and a retransmission is not counted; the
 * retransmission timer, or with nothing in flight the persist timer, tries again every
 * 500 ms without backing off (Linux's TCP_RESOURCE_PROBE_INTERVAL), the user timeout running
 * from the first retry. Counted: tcp_tx_refused. Other frames (ACKs, UDP) are simply lost. */
SK_API void sk_stack_output_refused(struct sk_stack *st);

/* Advances the stack's time to `now`, runs every timer due and returns the next deadline
 * (SK_TIME_NEVER if none). Call it at or after the returned deadline. */
SK_API sk_time_us sk_stack_poll(struct sk_stack *st, sk_time_us now);

/* Gratuitous ARP (RFC 5227 §3 announcement: a request with our address as sender and
 * target) so that neighbours learn our link address at start. Ethernet links only; a no-op
 * on SK_LINK_IP. Drivers call it once the link is up. */
SK_API void sk_stack_announce(struct sk_stack *st);

/* The earliest pending deadline, without running anything. */
SK_API sk_time_us sk_stack_next_deadline(const struct sk_stack *st);

/* The time the stack last saw (connection calls act at this time). */
SK_API sk_time_us sk_stack_now(const struct sk_stack *st);

SK_API const struct sk_config *sk_stack_config(const struct sk_stack *st);

/* Settings a running stack may change, as an administrator changes Linux's sysctls
 * (net.ipv4.tcp_ecn, tcp_fastopen, tcp_timestamps, tcp_sack, tcp_window_scaling,
 * tcp_min_tso_segs, tcp_slow_start_after_idle). Each is
 * the sk_config field of that name; it is read when a connection opens (the options of its
 * SYN or SYN-ACK, whether it asks for ECN or Fast Open), so a change reaches the connections
 * opened after it and leaves the others as they agreed. */
enum sk_setting {
    SK_SET_ECN,            /* sk_config.ecn: 0, 1 or 2 */
    SK_SET_TFO,            /* sk_config.tfo: SK_TFO_* bits */
    SK_SET_OPT_TIMESTAMPS, /* sk_config.opt_timestamps: 0 or 1 */
    SK_SET_OPT_SACK,       /* sk_config.opt_sack: 0 or 1 */
    SK_SET_OPT_WSCALE,     /* sk_config.opt_wscale: 0 or 1 */
    SK_SET_TSO_MIN_SEGS,   /* sk_config.tso_min_segs (net.ipv4.tcp_min_tso_segs): 0-255, read
                            * at every transmission */
    SK_SET_PACING,         /* sk_config.pacing: 0 or 1 (an fq qdisc on Linux's interface) */
    SK_SET_PACING_SS_RATIO, /* sk_config.pacing_ss_ratio (net.ipv4.tcp_pacing_ss_ratio): 0-1000 */
    SK_SET_PACING_CA_RATIO, /* sk_config.pacing_ca_ratio (net.ipv4.tcp_pacing_ca_ratio): 0-1000 */
    SK_SET_SLOW_START_AFTER_IDLE, /* sk_config.slow_start_after_idle
                                   * (net.ipv4.tcp_slow_start_after_idle): 0 or 1, read
                                   * whenever data is sent */
};
/* Returns 0, or -EINVAL for an unknown setting or a value outside its range (nothing
 * changes then). */
SK_API int sk_stack_set_setting(struct sk_stack *st, enum sk_setting which, uint32_t value);

/* Counters. Each drop reason has its own counter (see enum sk_drop_reason in trace.h). */
/* Room above SK_DROP_REASON_COUNT, so that reasons added at the enum's end keep the ABI. */
#define SK_DROP_REASON_MAX 96
struct sk_stack_counters {
    uint64_t frames_in, frames_out, bytes_in, bytes_out;
    uint64_t ip_in, ip_out;
    uint64_t tcp_segs_in, tcp_segs_out, tcp_retransmits, tcp_rst_out, tcp_challenge_acks;
    uint64_t tcp_active_opens, tcp_passive_opens, tcp_established, tcp_conn_failed;
    uint64_t tcp_timewait_reused;     /* RFC 6191: a SYN reopened a 4-tuple in TIME-WAIT */
    uint64_t tcp_timewait_reclaimed;  /* TIME-WAIT records ended early: max_time_wait reached */
    uint64_t tcp_tail_loss_probes, tcp_tlp_recoveries;
    uint64_t tcp_sack_sb_full;    /* SACK blocks not taken: the scoreboard was full
                                   * (sk_config.sack_ranges_max) */
    uint64_t tcp_dupack_limited;  /* duplicate ACKs beyond the segments outstanding, which did
                                   * not inflate cwnd (RFC 5681 §3.2, note to step 4) */
    uint64_t tcp_sack_reneging;   /* a receiver took back data it had SACKed (RFC 2018 §8) */
    uint64_t tcp_probe_timeouts;  /* connections ended by unanswered zero-window probes */
    uint64_t tcp_lost_retransmits; /* retransmissions found lost again, sent once more */
    /* RFC 5961 §7 (sk_config.challenge_ack_limit, invalid_ack_ratelimit_us): challenge ACKs
     * not sent because the stack's budget for this second was spent; ACKs for unacceptable
     * segments sent (challenge ACKs not included) and those not sent (challenge ACKs included)
     * because the connection's interval had not passed. */
    uint64_t tcp_challenge_acks_limited, tcp_invalid_acks, tcp_invalid_acks_limited;
    /* SYN floods (sk_config.syncookies): cookies sent in SYN,ACKs, cookie ACKs that opened a
     * connection, ACKs that carried no valid cookie while cookies were in use (answered with
     * RST), and half-open children dropped to make room for a new SYN. */
    uint64_t tcp_syncookies_sent, tcp_syncookies_validated, tcp_syncookies_failed;
    uint64_t tcp_halfopen_evicted;
    /* Segments that took the header-predicted fast path (sk_config.tcp_fast_path): pure ACKs
     * of new data, and in-order data. */
    uint64_t tcp_fastpath_acks, tcp_fastpath_data;
    /* TSO super-segments sent (sk_link_caps.tso_max): one frame each; tcp_segs_out counts
     * the segments the link cuts from them, as if each had been sent alone. */
    uint64_t tcp_tso_segs;
    uint64_t arp_in, arp_out, ip_frags_out, ip_reassembled, icmp_in, icmp_out, udp_in, udp_out;
    /* Fragment, ICMP and ARP limits (sk_config): datagrams reclaimed to make room for newer
     * ones, datagrams in too many fragments, ICMP path MTUs and peer MSS values raised to the
     * floors, ARP entries replaced while the cache was full. ip_reasm_bytes: held now. */
    uint64_t ip_reasm_evicted, ip_frag_too_many, icmp_pmtu_floored, tcp_mss_floored;
    uint64_t arp_cache_evicted;
    uint64_t ip_reasm_bytes;
    /* IPv6 (sk_config.ip6): datagrams in and out, fragments sent, ICMPv6 messages in and
     * out, neighbour discovery messages (RFC 4861: solicitations and advertisements of
     * neighbours, router solicitations sent, router advertisements taken), addresses found
     * duplicated by DAD (RFC 4862 §5.4.5), path MTUs lowered by a Packet Too Big (RFC 8201)
     * and reports raised to the 1280-byte floor. */
    uint64_t ip6_in, ip6_out, ip6_frags_out, icmp6_in, icmp6_out;
    uint64_t nd_ns_in, nd_ns_out, nd_na_in, nd_na_out, nd_rs_out, nd_ra_in;
    uint64_t ip6_dad_duplicates, ip6_pmtu_lowered, ip6_pmtu_floored;
    uint64_t alloc_failures, limit_connections, limit_backlog, limit_buffers;
    /* Ephemeral ports (RFC 6056): picks, candidates examined, picks that found the range full,
     * and the table lookups spent judging candidates (a constant few per candidate). */
    uint64_t port_picks, port_probes, port_exhausted, port_lookups;
    uint64_t drops_total;
    uint64_t drops[SK_DROP_REASON_MAX];
    uint32_t connections;     /* TCBs alive now */
    uint64_t buffer_bytes;    /* connection buffer bytes in use now */
    uint32_t timewait_records; /* TIME-WAIT records held now (not counted in connections) */
    /* RACK (RFC 8985) left for RFC 6675 because its transmit records found no memory, and
     * back once everything sent was acknowledged and the memory was found. */
    uint64_t tcp_rack_off, tcp_rack_resumed;
    /* Half-open connections dropped by an ICMP error (icmp_abort_handshake, RFC 5461 §4). */
    uint64_t tcp_halfopen_icmp_dropped;
    /* TCP segments the driver could not queue (sk_stack_output_refused). */
    uint64_t tcp_tx_refused;
};
SK_API void sk_stack_counters(const struct sk_stack *st, struct sk_stack_counters *out);

/* Writes the non-zero counters, one "name value" pair per line, into buf (snprintf rules). */
SK_API int sk_stack_counters_format(const struct sk_stack *st, char *buf, size_t size);

/* Writes every per-stack limit on what a peer can make the stack hold (docs/security.md), one
 * line each: "limit.<name> <limit> in-use <n> held <count>", where held counts the times the
 * limit refused, evicted, floored or rate-limited something. "in-use -" where the resource is
 * per connection or a rate and has no single level. snprintf rules. */
SK_API int sk_stack_limits_format(const struct sk_stack *st, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
