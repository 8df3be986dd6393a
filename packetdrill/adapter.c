/* The packetdrill adapter: one synack stack per script behind packetdrill's shared-object
 * interface (include/synack/packetdrill.h).
 *
 * - Packets: netdev_send hands the stack a raw IPv4 or IPv6 datagram (SK_LINK_IP: the version
 *   nibble tells the family); every datagram the stack sends is copied, stamped with the virtual
 *   time, into a queue that netdev_receive pops. An IPv6 local address (local_ip=, an AF_INET6
 *   bind, or the destination of the first IPv6 datagram) turns the stack's IPv6 on with that one
 *   static address and no duplicate address detection: nobody on packetdrill's link answers.
 * - Time: a virtual clock. gettimeofday advances it by 1 µs, usleep by the amount asked, and
 *   netdev_receive, when nothing is queued, jumps it to the stack's next deadline so that
 *   retransmissions and other timers appear at their exact virtual time. A stack that stays
 *   silent for `giveup` virtual seconds makes netdev_receive return an empty packet, which fails
 *   the script instead of hanging packetdrill.
 * - Sockets: each is backed by a host eventfd so its number is a real descriptor (packetdrill
 *   closes every one with the host's close() at the end). Calls map to sk_tcp_*; errno values,
 *   constants and sockaddrs are Linux's (the adapter is built on Linux). An AF_INET6 socket
 *   takes and reports sockaddr_in6, an IPv4 peer as ::ffff:a.b.c.d (packetdrill's
 *   ipv4-mapped-ipv6 mode), as Linux's dual-stack sockets do.
 * - Threads: packetdrill runs blocking calls on a second thread and decides they are blocked
 *   from /proc, so they wait on a condition variable, woken whenever the stack may have changed
 *   (netdev_send, time passing, other socket calls). One mutex guards everything.
 * - All state hangs off the userdata: packetdrill dlopens the object once per script and its
 *   globals survive between scripts.
 *
 * Options (--so_flags, see docs/conformance.md) are key=value pairs separated by commas or
 * spaces; `profile=freebsd` presets FreeBSD's visible defaults through ordinary sk_config fields.
 */
#include <dlfcn.h>

#include "adapter_int.h"
#include "synack/gso.h"

/* A buffer size asked with SO_SNDBUF / SO_RCVBUF as the connection gets it: the value set
 * (Linux's window comes from about that much; it reports twice it, sockbuf_value), at least
 * 2048 bytes and at most 4 MiB (the socket layer's per-socket maximum, stack.h), 0 if unset. */
uint32_t sockbuf_bytes(int set)
{
    if (set == 0)
        return 0;
    uint32_t v = (uint32_t)set; /* a negative value is the maximum, as Linux */
    return v < 2048u ? 2048u : v > (4u << 20) ? (4u << 20) : v;
}

/* The send buffer's size for SO_SNDBUF's value: with sk_config.sndbuf_chunks the stack's
 * size is Linux's sk_sndbuf, which is what it reads back (twice the value set); else the
 * value set, as sockbuf_bytes. */
uint32_t sndbuf_bytes_for(const struct pd *pd, int set)
{
    uint32_t v = sockbuf_bytes(set);
    return pd->cfg.sndbuf_chunks && pd->linux_sockbuf ? 2 * v : v;
}

/* What a socket's options ask of the connection it becomes, fixed before the SYN: buffer
 * sizes (the SYN's window), the MSS cap of TCP_MAXSEG, FreeBSD's TCP_NOOPT and TCP_KEEPINIT. */
struct sk_tcp_params sock_params(const struct pd *pd, const struct pd_sock *s)
{
    struct sk_tcp_params p = {.no_options = s->noopt,
                              .user_timeout_us = (uint64_t)s->keepinit_s * 1000000u,
                              .sndbuf_bytes = sndbuf_bytes_for(pd, s->sndbuf_set),
                              .rcvbuf_bytes = sockbuf_bytes(s->rcvbuf_set),
                              .mss = (uint16_t)(s->maxseg_set > 65535 ? 65535 : s->maxseg_set),
                              .congestion_control = s->cc_name[0] ? s->cc_name : NULL,
                              .syn_retries = (uint8_t)s->syncnt};
    return p;
}

/* SO_KEEPALIVE and TCP_KEEP* onto the connection (sk_tcp_set_keepalive). */
void apply_keepalive(struct pd_sock *s)
{
    if (s->tcp && !s->listening)
        sk_tcp_set_keepalive(s->tcp, s->keepalive, (uint64_t)s->ka_idle_s * 1000000u,
                             (uint32_t)s->ka_intvl_s * 1000000u, (uint8_t)s->ka_cnt);
}


/* ---- Errors ---- */

int fail(int err)
{
    errno = err;
    return -1;
}

/* ---- The stack, its output and the virtual clock ---- */

static void queue_frame(void *ctx, const uint8_t *frame, size_t len)
{
    struct pd *pd = ctx;
    struct pd_frame *f = malloc(sizeof(*f) + len);
    if (f == NULL)
        return; /* lost, as on a real link */
    f->next = NULL;
    f->time = pd->now;
    f->len = len;
    memcpy(f->data, frame, len);
    if (pd->q_tail)
        pd->q_tail->next = f;
    else
        pd->q_head = f;
    pd->q_tail = f;
}

/* With the tso= flag the stack leaves checksums, and the cutting of super-segments, to the
 * link: finished here as Linux's GSO would (synack/gso.h), so packetdrill sees MSS-sized
 * segments with correct checksums (it puts them back together to match a script's line). */
static void on_output(void *ctx, const uint8_t *frame, size_t len,
                      const struct sk_frame_meta *meta)
{
    static __thread uint8_t piece[65536 + 64];
    struct pd *pd = ctx;
    if (pd->qdisc_drop) { /* the host's qdisc refuses it: a local drop, as Linux's NET_XMIT_DROP */
        sk_stack_output_refused(pd->st);
        return;
    }
    if (meta == NULL || (meta->flags == 0 && meta->gso_type == SK_GSO_NONE) ||
        sk_gso_segment(frame, len, meta, 0, piece, sizeof(piece), queue_frame, ctx) < 0)
        queue_frame(ctx, frame, len);
}

static void on_trace(void *ctx, const struct sk_trace_event *ev)
{
    struct pd *pd = ctx;
    double t = (double)(ev->time - PD_TIME_ORIGIN_US) / 1e6;
    char fl[40];
    switch (ev->kind) {
    case SK_TRACE_SEG_OUT:
    case SK_TRACE_SEG_IN: {
        const struct sk_trace_segment *s = &ev->u.seg;
        fprintf(stderr, "synack %.6f %s %u>%u %s seq %u ack %u win %u len %u\n", t,
                ev->kind == SK_TRACE_SEG_OUT ? "out" : "in ", s->sport, s->dport,
                sk_tcp_flags_str(s->flags, fl, sizeof(fl)), s->seq, s->ack, s->wnd, s->len);
        break;
    }
    case SK_TRACE_STATE:
        fprintf(stderr, "synack %.6f conn %llu %s -> %s\n", t, (unsigned long long)ev->conn_id,
                sk_tcp_state_name(ev->u.state.from), sk_tcp_state_name(ev->u.state.to));
        break;
    case SK_TRACE_TIMER:
        fprintf(stderr, "synack %.6f conn %llu timer %s\n", t, (unsigned long long)ev->conn_id,
                sk_timer_name(ev->u.timer.timer));
        break;
    case SK_TRACE_DROP:
        fprintf(stderr, "synack %.6f drop %s\n", t, sk_drop_reason_name(ev->u.drop.reason));
        break;
    case SK_TRACE_ERROR:
        fprintf(stderr, "synack %.6f conn %llu error %d\n", t, (unsigned long long)ev->conn_id,
                ev->u.error.err);
        break;
    }
    (void)pd;
}

/* The stack exists from the first call that needs it; its address is the --so_flags local_ip,
 * else the first bound address, else the destination of the first datagram injected. */
int ensure_stack(struct pd *pd)
{
    if (pd->st)
        return 0;
    int err = 0;
    pd->st = sk_stack_new(&pd->cfg, pd->now, &err);
    return pd->st ? 0 : (err ? -err : ENOMEM);
}


/* Something may have changed: wake every blocked caller. */
void notify(struct pd *pd)
{
    pd_epoll_scan(pd); /* the wakeups this change raised (epoll.c) */
    pd->gen++;
    pd->stale = pd->waiters;
    pthread_cond_broadcast(&pd->cv);
}

/* Runs every timer due up to time t, each at its own deadline so that what it sends carries
 * that time, then leaves the clock at t. Wakes blocked callers, after letting those woken by the
 * last change act at the time it happened. */
static void advance_to(struct pd *pd, sk_time_us t)
{
    settle(pd);
    if (pd->st) {
        for (int guard = 0; guard < 1000000; guard++) {
            sk_time_us d = sk_stack_next_deadline(pd->st);
            if (d == SK_TIME_NEVER || d > t || d <= pd->now)
                break;
            pd->now = d;
            sk_stack_poll(pd->st, pd->now);
            /* A timer may have ended a blocked call (a connect timing out): it returns at d. */
            notify(pd);
            settle(pd);
        }
    }
    if (t > pd->now)
        pd->now = t;
    if (pd->st)
        sk_stack_poll(pd->st, pd->now);
    notify(pd);
}

/* A writer that found no room sleeps until the connection is writable (SK_EV_WRITABLE: with
 * sk_config.sndbuf_chunks a third of the buffer free, as Linux's sk_stream_wait_memory is
 * woken by sk_stream_write_space), in error or closed, or while connecting until it is
 * connected. The socket again, or NULL if the descriptor went. */
struct pd_sock *wait_writable(struct pd *pd, int fd)
{
    for (;;) {
        wait_change(pd);
        struct pd_sock *s = sock_find(pd, fd);
        if (s == NULL || s->tcp == NULL || s->shut_wr)
            return s;
        unsigned ev = sk_tcp_events(s->tcp);
        if (ev & (SK_EV_WRITABLE | SK_EV_ERROR | SK_EV_CLOSED) || !(ev & SK_EV_CONNECTED))
            return s;
    }
}

/* A blocked caller waits here until something may have changed. */
void wait_change(struct pd *pd)
{
    if (pd->returning && pthread_equal(pd->returning_thread, pthread_self()))
        pd->returning = false;
    uint64_t g = pd->gen;
    pd->waiters++;
    while (pd->gen == g)
        pthread_cond_wait(&pd->cv, &pd->mu);
    pd->waiters--;
    if (pd->stale > 0 && --pd->stale == 0)
        pthread_cond_broadcast(&pd->settle);
    pd->returning = true; /* cleared by this thread's next clock reading, or a new wait */
    pd->returning_thread = pthread_self();
}

/* Waits (a bounded real time, in case packetdrill never reads the clock) until blocked callers
 * have seen the last change and a call that blocked has been timed by its own thread. */
void settle(struct pd *pd)
{
    for (int i = 0; i < 100; i++) {
        bool other_returning = pd->returning && !pthread_equal(pd->returning_thread, pthread_self());
        if (pd->stale == 0 && !other_returning)
            return;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10000000; /* 10 ms */
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&pd->settle, &pd->mu, &ts);
    }
}

/* ---- Options ---- */

static bool parse_ip(const char *s, uint32_t *out)
{
    struct in_addr a;
    char buf[64];
    size_t n = strcspn(s, "/");
    if (n >= sizeof(buf))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (inet_pton(AF_INET, buf, &a) != 1)
        return false;
    *out = ntohl(a.s_addr);
    return true;
}

/* The stack's one IPv6 address: static, preferred at once (no duplicate address detection, as
 * no neighbour on packetdrill's bare-IP link would answer a solicitation), no link-local
 * address and no router advertisements, so that the stack sends nothing a script did not ask
 * for. */
static void set_addr6(struct pd *pd, const struct sk_addr *a, uint8_t prefix_len)
{
    struct sk_config *c = &pd->cfg;
    c->ip6 = true;
    c->addr6_count = 1;
    memcpy(c->addr6[0].addr, a->b, sizeof(a->b));
    c->addr6[0].prefix_len = prefix_len;
    c->ip6_dad_transmits = 0;
    c->ip6_linklocal = SK_IP6_LL_OFF;
    c->ip6_accept_ra = false;
    pd->addr6_known = true;
}

/* local_ip=: an IPv4 address, or an IPv6 one with an optional /prefix (default 48, packetdrill's
 * DEFAULT_V6_LIVE_PREFIX_LEN). An IPv4-mapped IPv6 address is its IPv4 address. */
static bool parse_local_ip(struct pd *pd, const char *s)
{
    if (parse_ip(s, &pd->cfg.addr)) {
        pd->addr_known = true;
        return true;
    }
    char buf[64];
    size_t n = strcspn(s, "/");
    if (n >= sizeof(buf))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    struct sk_addr a;
    if (inet_pton(AF_INET6, buf, a.b) != 1)
        return false;
    if (sk_addr_is_v4(&a)) {
        pd->cfg.addr = sk_addr_v4(&a);
        pd->addr_known = true;
        return true;
    }
    long plen = s[n] == '/' ? strtol(s + n + 1, NULL, 10) : 48;
    if (plen < 1 || plen > 128)
        return false;
    set_addr6(pd, &a, (uint8_t)plen);
    return true;
}

static void apply_option(struct pd *pd, const char *key, const char *val, bool profile_pass)
{
    struct sk_config *c = &pd->cfg;
    long v = strtol(val, NULL, 0);
    if (profile_pass) {
        if (strcmp(key, "profile") == 0) {
            if (strcmp(val, "freebsd") == 0)
                pd_profile_freebsd(pd);
            else if (strcmp(val, "linux") == 0)
                pd_profile_linux(pd);
            else if (strcmp(val, "default") != 0)
                fprintf(stderr, "synack-packetdrill: unknown profile '%s'\n", val);
        }
        return;
    }
    if (strcmp(key, "profile") == 0) {
        /* done in the first pass */
    } else if (strcmp(key, "local_ip") == 0) {
        if (!parse_local_ip(pd, val))
            fprintf(stderr, "synack-packetdrill: bad local_ip '%s'\n", val);
    } else if (strcmp(key, "remote_ip") == 0 || strcmp(key, "gateway_ip") == 0) {
        uint32_t a;
        if (strcmp(key, "gateway_ip") == 0 && parse_ip(val, &a))
            c->gateway = a;
    } else if (strcmp(key, "prefix_len") == 0) {
        c->prefix_len = (uint8_t)v;
    } else if (strcmp(key, "mtu") == 0) {
        c->mtu = (uint16_t)(v > 65535 ? 65535 : v);
    } else if (strcmp(key, "mss") == 0) {
        c->mss = (uint16_t)v;
    } else if (strcmp(key, "wscale") == 0) {
        c->wscale = (uint8_t)v;
    } else if (strcmp(key, "sack") == 0) {
        c->opt_sack = v != 0;
    } else if (strcmp(key, "ts") == 0) {
        c->opt_timestamps = v != 0;
    } else if (strcmp(key, "ws") == 0) {
        c->opt_wscale = v != 0;
    } else if (strcmp(key, "rcvbuf") == 0) {
        c->rcvbuf_bytes = (uint32_t)v;
    } else if (strcmp(key, "sndbuf") == 0) {
        c->sndbuf_bytes = (uint32_t)v;
    } else if (strcmp(key, "rcv_wnd_max") == 0) {
        c->rcv_wnd_max = (uint16_t)v;
    } else if (strcmp(key, "delack_ms") == 0) {
        c->delack_us = (uint32_t)v * 1000;
    } else if (strcmp(key, "rto_initial_ms") == 0) {
        c->rto_initial_us = (uint32_t)v * 1000;
    } else if (strcmp(key, "rto_min_ms") == 0) {
        c->rto_min_us = (uint32_t)v * 1000;
    } else if (strcmp(key, "rto_max_ms") == 0) {
        c->rto_max_us = (uint32_t)v * 1000;
    } else if (strcmp(key, "msl_ms") == 0) {
        c->msl_us = (uint32_t)v * 1000;
    } else if (strcmp(key, "syn_retries") == 0) {
        c->syn_retries = (uint8_t)v;
    } else if (strcmp(key, "synack_retries") == 0) {
        c->synack_retries = (uint8_t)v;
    } else if (strcmp(key, "syncookies") == 0) {
        c->syncookies = (uint8_t)v;
    } else if (strcmp(key, "max_half_open") == 0) {
        c->max_half_open = (uint32_t)v;
    } else if (strcmp(key, "data_retries") == 0) {
        c->data_retries = (uint8_t)v;
    } else if (strcmp(key, "ecn") == 0) {
        c->ecn = (uint8_t)v;
    } else if (strcmp(key, "ecn_syn_retries") == 0) {
        c->ecn_syn_retries = (uint8_t)v;
    } else if (strcmp(key, "tlp") == 0) {
        c->tlp = v != 0;
    } else if (strcmp(key, "loss_detection") == 0) { /* rack (default) or rfc6675 */
        c->loss_detection = strcmp(val, "rfc6675") == 0 ? SK_LOSS_RFC6675 : SK_LOSS_RACK;
    } else if (strcmp(key, "prr") == 0) {
        c->prr = v != 0;
    } else if (strcmp(key, "rfc793_syn") == 0) {
        c->rfc793_syn = v != 0;
    } else if (strcmp(key, "bsd_time_wait") == 0) {
        c->bsd_time_wait = v != 0;
    } else if (strcmp(key, "ack_at_window_edge") == 0) {
        c->ack_at_window_edge = v != 0;
    } else if (strcmp(key, "challenge_ack_limit") == 0) {
        c->challenge_ack_limit = (uint32_t)v;
    } else if (strcmp(key, "invalid_ack_ratelimit_us") == 0) {
        c->invalid_ack_ratelimit_us = (uint32_t)v;
    } else if (strcmp(key, "quickack_max") == 0) { /* Linux-profile knobs (stack.h) */
        c->quickack_max = (uint8_t)v;
    } else if (strcmp(key, "delack_max_ms") == 0) {
        c->delack_max_us = (uint32_t)v * 1000;
    } else if (strcmp(key, "rto_min_on_variance") == 0) {
        c->rto_min_on_variance = v != 0;
    } else if (strcmp(key, "fin_wait2_timeout_ms") == 0) {
        c->fin_wait2_timeout_us = (uint32_t)v * 1000;
    } else if (strcmp(key, "ack_unsent_silent") == 0) {
        c->ack_unsent_silent = v != 0;
    } else if (strcmp(key, "rst_ack_on_abort") == 0) {
        c->rst_ack_on_abort = v != 0;
    } else if (strcmp(key, "nagle_minshall") == 0) {
        c->nagle_minshall = v != 0;
    } else if (strcmp(key, "psh_tso") == 0) {
        c->psh_tso = v != 0;
    } else if (strcmp(key, "forced_push") == 0) {
        c->forced_push = v != 0;
    } else if (strcmp(key, "tso_rtx") == 0) {
        c->tso_rtx = v != 0;
    } else if (strcmp(key, "sndbuf_chunks") == 0) {
        c->sndbuf_chunks = v != 0;
    } else if (strcmp(key, "tso_autosize") == 0) {
        c->tso_autosize = v != 0;
    } else if (strcmp(key, "rtt_every_ack") == 0) {
        c->rtt_every_ack = v != 0;
    } else if (strcmp(key, "pacing") == 0) {
        c->pacing = v != 0;                         /* an fq qdisc on the interface */
    } else if (strcmp(key, "pacing_ss_ratio") == 0) {
        c->pacing_ss_ratio = (uint16_t)v;           /* net.ipv4.tcp_pacing_ss_ratio */
    } else if (strcmp(key, "pacing_ca_ratio") == 0) {
        c->pacing_ca_ratio = (uint16_t)v;           /* net.ipv4.tcp_pacing_ca_ratio */
    } else if (strcmp(key, "tso_min_segs") == 0) {
        c->tso_min_segs = (uint8_t)v;               /* net.ipv4.tcp_min_tso_segs */
    } else if (strcmp(key, "synack_tsecr_check") == 0) {
        c->synack_tsecr_check = v != 0;
    } else if (strcmp(key, "syn_mss_path") == 0) {
        c->syn_mss_path = v != 0;
    } else if (strcmp(key, "icmp_abort_handshake") == 0) {
        c->icmp_abort_handshake = v != 0;
    } else if (strcmp(key, "window_probe_empty") == 0) {
        c->window_probe_empty = v != 0;
    } else if (strcmp(key, "notsent_lowat") == 0) {
        c->notsent_lowat = (uint32_t)strtoul(val, NULL, 0); /* net.ipv4.tcp_notsent_lowat */
    } else if (strcmp(key, "tso") == 0) {
        /* Segmentation offload as on packetdrill's tun device (Linux): super-segments of up
         * to this many bytes, checksums left to the "link" (the adapter hands frames over as
         * they are: packetdrill's checksum check accepts the partial sum, see on_output). */
        c->caps.tso_max = (uint32_t)v;
        c->caps.tx_csum = v != 0;
    } else if (strcmp(key, "gro") == 0) {
        /* Coalesced segments in, as packetdrill's tun device (Linux, GRO) takes a script's
         * segments longer than the MTU. */
        c->caps.rx_large = v != 0;
    } else if (strcmp(key, "ss_abc_limit") == 0) { /* congestion control (cc helper) */
        c->ss_abc_limit = (uint8_t)v;
    } else if (strcmp(key, "cwnd_validation") == 0) {
        c->cwnd_validation = strcmp(val, "linux") == 0 ? SK_CWV_LINUX : SK_CWV_RFC7661;
    } else if (strcmp(key, "hystart") == 0) {
        c->hystart = strcmp(val, "linux") == 0 ? SK_HYSTART_LINUX
                     : strcmp(val, "pp") == 0  ? SK_HYSTART_PP
                                               : SK_HYSTART_OFF;
    } else if (strcmp(key, "slow_start_after_idle") == 0) {
        c->slow_start_after_idle = v != 0;
    } else if (strcmp(key, "grow_by_delivered") == 0) {
        c->grow_by_delivered = v != 0;
    } else if (strcmp(key, "cubic_linux") == 0) {
        c->cubic_linux = v != 0;
    /* Packetization-layer path MTU discovery (sk_config.plpmtud ...), under the names of the
     * Linux sysctls the scripts set (net.ipv4.tcp_mtu_probing, tcp_base_mss, ...). */
    } else if (strcmp(key, "tcp_mtu_probing") == 0) {
        c->plpmtud = (uint8_t)v;
    } else if (strcmp(key, "tcp_base_mss") == 0) {
        c->plpmtu_base_mss = (uint16_t)v;
    } else if (strcmp(key, "tcp_probe_threshold") == 0) {
        c->plpmtu_probe_threshold = (uint16_t)v;
    } else if (strcmp(key, "tcp_probe_interval") == 0) { /* seconds, as the sysctl */
        c->plpmtu_probe_interval_us = (uint32_t)v * 1000000u;
    } else if (strcmp(key, "plpmtu_max_probes") == 0) {
        c->plpmtu_max_probes = (uint8_t)v;
    } else if (strcmp(key, "plpmtu_blackhole_rtos") == 0) {
        c->plpmtu_blackhole_rtos = (uint8_t)v;
    } else if (strcmp(key, "seed") == 0) {
        sk_config_set_test_seed(c, (uint64_t)strtoull(val, NULL, 0));
    } else if (strcmp(key, "giveup") == 0) {
        pd->giveup_us = (sk_time_us)(strtod(val, NULL) * 1e6);
    } else if (strcmp(key, "trace") == 0) {
        pd->trace = v != 0;
    } else if (pd_fastopen_option(pd, key, val)) {
        /* fastopen.c */
    } else if (pd_sysctl_option(pd, key, val)) {
        /* sysctl.c */
    } else {
        fprintf(stderr, "synack-packetdrill: unknown option '%s'\n", key);
    }
}

static void parse_flags(struct pd *pd, const char *flags)
{
    if (flags == NULL)
        return;
    for (int pass = 0; pass < 2; pass++) {
        const char *p = flags;
        while (*p) {
            p += strspn(p, ", \t");
            size_t n = strcspn(p, ", \t");
            if (n == 0)
                break;
            char item[256];
            size_t m = n < sizeof(item) - 1 ? n : sizeof(item) - 1;
            memcpy(item, p, m);
            item[m] = '\0';
            char *eq = strchr(item, '=');
            const char *val = "1";
            if (eq) {
                *eq = '\0';
                val = eq + 1;
            }
            apply_option(pd, item, val, pass == 0);
            p += n;
        }
    }
}

/* ---- Sockets ---- */

struct pd_sock *sock_find(struct pd *pd, int fd)
{
    for (struct pd_sock *s = pd->socks; s; s = s->next)
        if (s->fd == fd)
            return s;
    return NULL;
}

static struct pd_sock *sock_new(struct pd *pd)
{
    struct pd_sock *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->fd = eventfd(0, EFD_CLOEXEC);
    if (s->fd < 0) {
        free(s);
        return NULL;
    }
    s->next = pd->socks;
    pd->socks = s;
    return s;
}

static void sock_unlink(struct pd *pd, struct pd_sock *s)
{
    for (struct pd_sock **pp = &pd->socks; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            return;
        }
    }
}

int unlock_ret(struct pd *pd, int r)
{
    int e = errno;
    notify(pd);
    pthread_mutex_unlock(&pd->mu);
    errno = e;
    return r;
}

ssize_t unlock_ret_sz(struct pd *pd, ssize_t r)
{
    int e = errno;
    notify(pd);
    pthread_mutex_unlock(&pd->mu);
    errno = e;
    return r;
}

/* The connection's error, reported once, as Linux clears sk_err when it is returned. */
int take_error(struct pd_sock *s)
{
    if (s->tcp == NULL || s->listening || s->err_reported)
        return 0;
    int e = sk_tcp_error(s->tcp);
    if (e == 0)
        return 0;
    s->err_reported = true;
    return -e;
}

bool is_connecting(const struct pd_sock *s)
{
    enum sk_tcp_state st = sk_tcp_get_state(s->tcp);
    return st == SK_TCP_SYN_SENT || st == SK_TCP_SYN_RECEIVED;
}

static int hook_socket(void *u, int domain, int type, int protocol)
{
    struct pd *pd = u;
    int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (domain != AF_INET && domain != AF_INET6)
        return fail(EAFNOSUPPORT);
    if (base != SOCK_STREAM)
        return fail(ESOCKTNOSUPPORT);
    if (protocol != 0 && protocol != IPPROTO_TCP)
        return fail(EPROTONOSUPPORT);
    pthread_mutex_lock(&pd->mu);
    pd_sysctl_poll(pd);
    struct pd_sock *s = sock_new(pd);
    if (s == NULL) {
        pthread_mutex_unlock(&pd->mu);
        return fail(EMFILE);
    }
    s->nonblock = (type & SOCK_NONBLOCK) != 0;
    s->family = domain;
    return unlock_ret(pd, s->fd);
}

/* A sockaddr as an address of either family (an IPv4 one IPv4-mapped) and a port. As Linux:
 * a sockaddr of the other family than the socket's is EAFNOSUPPORT, a short one EINVAL. */
int read_sockaddr(const struct pd_sock *s, const struct sockaddr *addr, socklen_t len,
                  struct sk_addr *ip, uint16_t *port)
{
    if (addr == NULL || len < (socklen_t)sizeof(sa_family_t))
        return EINVAL;
    if (addr->sa_family != s->family)
        return EAFNOSUPPORT;
    if (s->family == AF_INET) {
        struct sockaddr_in sin;
        if (len < (socklen_t)sizeof(sin))
            return EINVAL;
        memcpy(&sin, addr, sizeof(sin));
        *ip = sk_addr_from_v4(ntohl(sin.sin_addr.s_addr));
        *port = ntohs(sin.sin_port);
        return 0;
    }
    struct sockaddr_in6 sin6;
    if (len < (socklen_t)sizeof(sin6))
        return EINVAL;
    memcpy(&sin6, addr, sizeof(sin6));
    memcpy(ip->b, sin6.sin6_addr.s6_addr, sizeof(ip->b));
    *port = ntohs(sin6.sin6_port);
    return 0;
}

/* The peer's address as the socket's family reports it: sockaddr_in, or sockaddr_in6 (an IPv4
 * peer of an AF_INET6 socket as ::ffff:a.b.c.d, RFC 3493 §3.7), flow info and scope 0. */
static void write_sockaddr(const struct pd_sock *s, struct sockaddr *addr, socklen_t *len,
                           const struct sk_addr *ip, uint16_t port)
{
    if (addr == NULL || len == NULL)
        return;
    union {
        struct sockaddr_in v4;
        struct sockaddr_in6 v6;
    } u;
    size_t size;
    memset(&u, 0, sizeof(u));
    if (s->family == AF_INET) {
        u.v4.sin_family = AF_INET;
        u.v4.sin_addr.s_addr = htonl(sk_addr_v4(ip));
        u.v4.sin_port = htons(port);
        size = sizeof(u.v4);
    } else {
        u.v6.sin6_family = AF_INET6;
        memcpy(u.v6.sin6_addr.s6_addr, ip->b, sizeof(ip->b));
        u.v6.sin6_port = htons(port);
        size = sizeof(u.v6);
    }
    size_t n = *len < size ? *len : size;
    memcpy(addr, &u, n);
    *len = (socklen_t)size;
}

/* The connection's peer into addr (accept, recvfrom). */
static void write_peer(const struct pd_sock *s, const struct sk_tcp *c, struct sockaddr *addr,
                       socklen_t *len)
{
    struct sk_addr raddr;
    struct sk_tcp_info info;
    sk_tcp_get_addrs(c, NULL, &raddr);
    sk_tcp_get_info(c, &info);
    write_sockaddr(s, addr, len, &raddr, info.rport);
}

/* Is ip one of ours (or the unspecified address)? Before the stack exists, the first address a
 * bind() names becomes ours if no local_ip= said which. */
static bool bind_addr_ok(struct pd *pd, const struct sk_addr *ip)
{
    if (sk_addr_is_any(ip))
        return true;
    if (sk_addr_is_v4(ip)) {
        if (pd->st == NULL && !pd->addr_known) {
            pd->cfg.addr = sk_addr_v4(ip);
            pd->addr_known = true;
        }
        return sk_addr_v4(ip) == pd->cfg.addr;
    }
    if (pd->st == NULL && !pd->addr6_known)
        set_addr6(pd, ip, 48);
    return pd->addr6_known && memcmp(ip->b, pd->cfg.addr6[0].addr, 16) == 0;
}

static bool port_bound(struct pd *pd, uint16_t port, const struct pd_sock *except)
{
    for (struct pd_sock *s = pd->socks; s; s = s->next)
        if (s != except && s->bound && s->lport == port)
            return true;
    return false;
}

static uint16_t pick_bind_port(struct pd *pd)
{
    for (int i = 0; i < 20000; i++) {
        uint16_t p = pd->next_bind_port++;
        if (pd->next_bind_port < PD_EPHEMERAL_BIND_LO || pd->next_bind_port >= 49152)
            pd->next_bind_port = PD_EPHEMERAL_BIND_LO;
        if (!port_bound(pd, p, NULL))
            return p;
    }
    return 0;
}

static int hook_bind(void *u, int fd, const struct sockaddr *addr, socklen_t len)
{
    LOCKED_SOCK(pd, fd, s);
    struct sk_addr ip;
    uint16_t port;
    int e = read_sockaddr(s, addr, len, &ip, &port);
    if (e)
        return unlock_ret(pd, fail(e));
    if (s->bound || s->tcp)
        return unlock_ret(pd, fail(EINVAL));
    if (!bind_addr_ok(pd, &ip))
        return unlock_ret(pd, fail(EADDRNOTAVAIL));
    if (port == 0)
        port = pick_bind_port(pd);
    else if (port_bound(pd, port, s) && !s->reuseaddr)
        return unlock_ret(pd, fail(EADDRINUSE));
    s->bound = true;
    s->lport = port;
    return unlock_ret(pd, 0);
}

static int hook_listen(void *u, int fd, int backlog)
{
    LOCKED_SOCK(pd, fd, s);
    if (s->listening)
        return unlock_ret(pd, 0);
    if (s->tcp)
        return unlock_ret(pd, fail(EINVAL));
    int e = ensure_stack(pd);
    if (e)
        return unlock_ret(pd, fail(e));
    if (!s->bound) {
        s->lport = pick_bind_port(pd);
        s->bound = true;
    }
    struct sk_tcp_params prm = sock_params(pd, s);
    int r = sk_tcp_listen_with(pd->st, s->lport, backlog < 1 ? 1 : backlog, &prm, &s->tcp);
    if (r < 0)
        return unlock_ret(pd, fail(-r));
    s->listening = true;
    pd_fastopen_listen(pd, s);
    return unlock_ret(pd, 0);
}

static int hook_accept(void *u, int fd, struct sockaddr *addr, socklen_t *len)
{
    LOCKED_SOCK(pd, fd, s);
    if (!s->listening)
        return unlock_ret(pd, fail(EINVAL));
    struct sk_tcp *c = NULL;
    for (;;) {
        int r = sk_tcp_accept(s->tcp, &c);
        if (r == 0)
            break;
        if (r != -EAGAIN)
            return unlock_ret(pd, fail(-r));
        if (s->nonblock)
            return unlock_ret(pd, fail(EAGAIN));
        wait_change(pd);
        s = sock_find(pd, fd);
        if (s == NULL || !s->listening)
            return unlock_ret(pd, fail(EBADF));
    }
    struct pd_sock *n = sock_new(pd);
    if (n == NULL) {
        sk_tcp_abort(c);
        return unlock_ret(pd, fail(EMFILE));
    }
    n->tcp = c;
    n->bound = true;
    n->lport = s->lport;
    n->nodelay = s->nodelay;
    n->keepalive = s->keepalive;
    n->linger_on = s->linger_on;
    n->linger_secs = s->linger_secs;
    n->rcvbuf_set = s->rcvbuf_set;
    n->sndbuf_set = s->sndbuf_set;
    n->ka_idle_s = s->ka_idle_s;
    n->ka_intvl_s = s->ka_intvl_s;
    n->ka_cnt = s->ka_cnt;
    n->cork = s->cork;
    n->notsent_lowat = s->notsent_lowat;
    n->rcvlowat = s->rcvlowat;
    n->inq = s->inq;
    n->zerocopy = s->zerocopy;
    memcpy(n->cc_name, s->cc_name, sizeof(n->cc_name));
    pd_apply_marks(n);
    if (n->nodelay)
        sk_tcp_set_nodelay(c, true);
    if (n->cork)
        sk_tcp_set_cork(c, true);
    if (n->keepalive)
        apply_keepalive(n);
    n->family = s->family;
    write_peer(n, c, addr, len);
    return unlock_ret(pd, n->fd);
}

/* What a socket's options ask of its connection once connect() made it. */
void after_connect(struct pd_sock *s)
{
    if (s->nodelay)
        sk_tcp_set_nodelay(s->tcp, true);
    if (s->cork)
        sk_tcp_set_cork(s->tcp, true);
    if (s->user_timeout_ms)
        sk_tcp_set_user_timeout(s->tcp, (uint64_t)s->user_timeout_ms * 1000u);
    if (s->keepalive)
        apply_keepalive(s);
    if (!s->bound) {
        struct sk_tcp_info info;
        sk_tcp_get_info(s->tcp, &info);
        s->lport = info.lport;
        s->bound = true;
    }
}

static int errno_of_connect(int r)
{
    /* -EINVAL from the stack means a bad peer address (0, our own). */
    return r == -EINVAL ? EADDRNOTAVAIL : -r;
}

static int hook_connect(void *u, int fd, const struct sockaddr *addr, socklen_t len)
{
    LOCKED_SOCK(pd, fd, s);
    if (s->listening)
        return unlock_ret(pd, fail(EISCONN));
    if (s->tcp) {
        /* A second connect(): Linux reports progress, the pending error, or EISCONN; a
         * TCP_FASTOPEN_CONNECT socket whose SYN waits for its first write counts as connected
         * (inet_stream_connect after tcp_fastopen_defer_connect). */
        if (sk_tcp_fastopen_status(s->tcp) & SK_TCP_FO_DEFERRED)
            return unlock_ret(pd, fail(EISCONN));
        if (is_connecting(s))
            return unlock_ret(pd, fail(EALREADY));
        int e = take_error(s);
        if (e)
            return unlock_ret(pd, fail(e));
        return unlock_ret(pd, fail(EISCONN));
    }
    struct sk_addr ip;
    uint16_t port;
    int e = read_sockaddr(s, addr, len, &ip, &port);
    if (e)
        return unlock_ret(pd, fail(e));
    e = ensure_stack(pd);
    if (e)
        return unlock_ret(pd, fail(e));
    struct sk_tcp_params prm = sock_params(pd, s);
    if (s->fo_connect) /* TCP_FASTOPEN_CONNECT: the SYN may wait for the first write */
        prm.fastopen = SK_FASTOPEN_DEFER;
    int r = sk_tcp_connect_addr(pd->st, s->bound ? s->lport : 0, &ip, port, &prm, &s->tcp);
    if (r < 0) {
        s->tcp = NULL;
        return unlock_ret(pd, fail(errno_of_connect(r)));
    }
    after_connect(s);
    pd_apply_marks(s);
    if (s->fo_connect) {
        s->fo_used = true;
        if (sk_tcp_fastopen_status(s->tcp) & SK_TCP_FO_DEFERRED)
            return unlock_ret(pd, 0); /* Linux: connect() returns 0, nothing sent yet */
    }
    if (s->nonblock)
        return unlock_ret(pd, fail(EINPROGRESS));
    while (is_connecting(s)) {
        wait_change(pd);
        s = sock_find(pd, fd);
        if (s == NULL)
            return unlock_ret(pd, fail(EBADF));
    }
    e = take_error(s);
    if (e)
        return unlock_ret(pd, fail(e));
    return unlock_ret(pd, 0);
}

/* recv() on socket s into one buffer. */
static ssize_t do_recv(struct pd *pd, int fd, void *buf, size_t len, int flags)
{
    struct pd_sock *s = sock_find(pd, fd);
    if (s == NULL)
        return fail(EBADF);
    if (s->listening || s->tcp == NULL)
        return fail(ENOTCONN);
    if (buf == NULL && len > 0)
        return fail(EFAULT); /* Linux faults on the copy; nothing is consumed */
    if (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL | MSG_WAITALL | MSG_PEEK))
        return fail(EOPNOTSUPP); /* MSG_OOB, MSG_TRUNC, ...: not offered */
    for (;;) {
        if (s->shut_rd && sk_tcp_readable(s->tcp) == 0)
            return 0;
        ssize_t n = (flags & MSG_PEEK) ? sk_tcp_peek(s->tcp, buf, len)
                                       : sk_tcp_recv(s->tcp, buf, len);
        if (n >= 0)
            return n;
        if (n == -EAGAIN) {
            if (s->nonblock || (flags & MSG_DONTWAIT))
                return fail(EAGAIN);
            wait_change(pd);
            s = sock_find(pd, fd);
            if (s == NULL)
                return fail(EBADF);
            continue;
        }
        if (n == -ENOTCONN)
            return fail(ENOTCONN);
        /* The connection's error: once, then end of stream, as Linux does. */
        if (s->err_reported)
            return 0;
        s->err_reported = true;
        return fail((int)-n);
    }
}

ssize_t do_send(struct pd *pd, int fd, const void *buf, size_t len, int flags)
{
    bool fo;
    ssize_t fr = pd_fastopen_send(pd, fd, buf, len, flags, NULL, 0, &fo);
    if (fo)
        return fr;
    struct pd_sock *s = sock_find(pd, fd);
    if (s == NULL)
        return fail(EBADF);
    /* Never connected (or listening): FreeBSD's sosend says ENOTCONN; Linux's tcp_sendmsg
     * waits for a connection that is not coming (sk_stream_wait_connect) and says EPIPE. */
    if (s->listening || s->tcp == NULL)
        return fail(pd->freebsd_sockbuf ? ENOTCONN : EPIPE);
    if (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE | MSG_EOR | MSG_ZEROCOPY))
        return fail(EOPNOTSUPP);
    if (s->shut_wr)
        return fail(EPIPE);
    if (buf == NULL && len > 0)
        return fail(EFAULT); /* Linux faults on the copy; nothing is queued */
    /* MSG_EOR: the bytes end a record (the core's SK_TCP_SEND_EOR; a call that takes all that
     * is left marks it). MSG_ZEROCOPY sends by copy, and no completion is ever queued. */
    unsigned sflags = ((flags & MSG_EOR) ? SK_TCP_SEND_EOR : 0u) |
                      ((flags & MSG_MORE) ? SK_TCP_SEND_MORE : 0u);
    size_t done = 0;
    for (;;) {
        int e = take_error(s);
        if (e)
            return fail(e);
        ssize_t n = sk_tcp_send_flags(s->tcp, (const uint8_t *)buf + done, len - done, sflags);
        if (n > 0) {
            done += (size_t)n;
            s->nospace = done < len; /* Linux's SOCK_NOSPACE: the writer found no room */
            if (done == len || s->nonblock || (flags & MSG_DONTWAIT))
                return (ssize_t)done;
            continue;
        }
        if (n == 0)
            return (ssize_t)done;
        if (n == -EAGAIN || (n == -ENOTCONN && is_connecting(s))) {
            s->nospace = true;
            if (done > 0 && (s->nonblock || (flags & MSG_DONTWAIT)))
                return (ssize_t)done;
            if (s->nonblock || (flags & MSG_DONTWAIT))
                return fail(EAGAIN);
            s = wait_writable(pd, fd);
            if (s == NULL)
                return fail(EBADF);
            continue;
        }
        if (done > 0)
            return (ssize_t)done;
        if (n == -EPIPE || n == -ENOTCONN)
            return fail((int)-n);
        if (s->err_reported)
            return fail(EPIPE);
        s->err_reported = true;
        return fail((int)-n);
    }
}

static ssize_t hook_recv(void *u, int fd, void *buf, size_t len, int flags)
{
    struct pd *pd = u;
    pthread_mutex_lock(&pd->mu);
    pd_sysctl_poll(pd);
    return unlock_ret_sz(pd, do_recv(pd, fd, buf, len, flags));
}

static ssize_t hook_read(void *u, int fd, void *buf, size_t len)
{
    return hook_recv(u, fd, buf, len, 0);
}

static ssize_t hook_recvfrom(void *u, int fd, void *buf, size_t len, int flags,
                             struct sockaddr *addr, socklen_t *alen)
{
    struct pd *pd = u;
    pthread_mutex_lock(&pd->mu);
    pd_sysctl_poll(pd);
    ssize_t n = do_recv(pd, fd, buf, len, flags);
    if (n >= 0 && addr && alen) {
        struct pd_sock *s = sock_find(pd, fd);
        write_peer(s, s->tcp, addr, alen);
    }
    return unlock_ret_sz(pd, n);
}

static size_t iov_total(const struct iovec *iov, int cnt)
{
    size_t t = 0;
    for (int i = 0; i < cnt; i++)
        t += iov[i].iov_len;
    return t;
}

static ssize_t recv_iov(void *u, int fd, const struct iovec *iov, int cnt, int flags)
{
    struct pd *pd = u;
    if (cnt < 0)
        return fail(EINVAL);
    size_t total = iov_total(iov, cnt);
    uint8_t *tmp = malloc(total ? total : 1);
    if (tmp == NULL)
        return fail(ENOMEM);
    pthread_mutex_lock(&pd->mu);
    pd_sysctl_poll(pd);
    ssize_t n = do_recv(pd, fd, tmp, total, flags);
    int e = errno;
    pthread_mutex_unlock(&pd->mu);
    size_t off = 0;
    for (int i = 0; n > 0 && i < cnt && off < (size_t)n; i++) {
        size_t k = iov[i].iov_len < (size_t)n - off ? iov[i].iov_len : (size_t)n - off;
        memcpy(iov[i].iov_base, tmp + off, k);
        off += k;
    }
    free(tmp);
    errno = e;
    return n;
}

static ssize_t send_iov(void *u, int fd, const struct iovec *iov, int cnt, int flags,
                        const struct sockaddr *addr, socklen_t alen)
{
    struct pd *pd = u;
    if (cnt < 0)
        return fail(EINVAL);
    size_t total = iov_total(iov, cnt);
    uint8_t *tmp = malloc(total ? total : 1);
    if (tmp == NULL)
        return fail(ENOMEM);
    size_t off = 0;
    for (int i = 0; i < cnt; i++) {
        if (iov[i].iov_base)
            memcpy(tmp + off, iov[i].iov_base, iov[i].iov_len);
        else
            memset(tmp + off, 0, iov[i].iov_len);
        off += iov[i].iov_len;
    }
    pthread_mutex_lock(&pd->mu);
    pd_sysctl_poll(pd);
    bool fo;
    ssize_t n = pd_fastopen_send(pd, fd, tmp, total, flags, addr, alen, &fo);
    if (!fo)
        n = do_send(pd, fd, tmp, total, flags & ~MSG_FASTOPEN);
    free(tmp);
    return unlock_ret_sz(pd, n);
}

static ssize_t hook_readv(void *u, int fd, const struct iovec *iov, int cnt)
{
    return recv_iov(u, fd, iov, cnt, 0);
}

/* TCP_INQ (Linux's tcp_recvmsg): after the read, a TCP_CM_INQ control message with the
 * bytes left to read (sk_tcp_inq_hint), if the caller gave room for it. */
static void put_inq_cmsg(struct pd *pd, int fd, struct msghdr *msg)
{
    size_t room = msg->msg_controllen;
    msg->msg_controllen = 0;
    pthread_mutex_lock(&pd->mu);
    struct pd_sock *s = sock_find(pd, fd);
    bool want = s && s->inq && s->tcp && !s->listening;
    int inq = want ? (int)sk_tcp_inq_hint(s->tcp) : 0;
    pthread_mutex_unlock(&pd->mu);
    if (!want || msg->msg_control == NULL)
        return;
    if (room < CMSG_SPACE(sizeof(int))) {
        msg->msg_flags |= MSG_CTRUNC; /* put_cmsg: no room */
        return;
    }
    struct cmsghdr *cm = (struct cmsghdr *)msg->msg_control;
    cm->cmsg_level = SOL_TCP;
    cm->cmsg_type = TCP_CM_INQ;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &inq, sizeof(inq));
    msg->msg_controllen = CMSG_SPACE(sizeof(int));
}

static ssize_t hook_recvmsg(void *u, int fd, struct msghdr *msg, int flags)
{
    if (msg == NULL)
        return fail(EFAULT);
    msg->msg_flags = 0;
    ssize_t n = recv_iov(u, fd, msg->msg_iov, (int)msg->msg_iovlen, flags);
    int e = errno;
    if (n >= 0)
        put_inq_cmsg(u, fd, msg);
    else
        msg->msg_controllen = 0;
    errno = e;
    return n;
}

static ssize_t hook_send(void *u, int fd, const void *buf, size_t len, int flags)
{
    struct pd *pd = u;
    pthread_mutex_lock(&pd->mu);
    pd_sysctl_poll(pd);
    return unlock_ret_sz(pd, do_send(pd, fd, buf, len, flags));
}

static ssize_t hook_write(void *u, int fd, const void *buf, size_t len)
{
    return hook_send(u, fd, buf, len, 0);
}

static ssize_t hook_sendto(void *u, int fd, const void *buf, size_t len, int flags,
                           const struct sockaddr *addr, socklen_t alen)
{
    struct pd *pd = u;
    pthread_mutex_lock(&pd->mu);
    pd_sysctl_poll(pd);
    bool fo;
    ssize_t n = pd_fastopen_send(pd, fd, buf, len, flags, addr, alen, &fo);
    if (fo)
        return unlock_ret_sz(pd, n);
    /* MSG_FASTOPEN on a connected socket is an ordinary send; its address is not looked at.
     * Otherwise FreeBSD refuses an address on a connected stream; Linux's tcp_sendmsg ignores
     * it. */
    if (addr != NULL && !(flags & MSG_FASTOPEN) && pd->freebsd_sockbuf) {
        pthread_mutex_unlock(&pd->mu);
        return fail(EISCONN);
    }
    return unlock_ret_sz(pd, do_send(pd, fd, buf, len, flags & ~MSG_FASTOPEN));
}

static ssize_t hook_writev(void *u, int fd, const struct iovec *iov, int cnt)
{
    return send_iov(u, fd, iov, cnt, 0, NULL, 0);
}

static ssize_t hook_sendmsg(void *u, int fd, const struct msghdr *msg, int flags)
{
    if (msg == NULL)
        return fail(EFAULT);
    return send_iov(u, fd, msg->msg_iov, (int)msg->msg_iovlen, flags, msg->msg_name,
                    msg->msg_namelen);
}

static int hook_fcntl(void *u, int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    long arg = va_arg(ap, long);
    va_end(ap);
    LOCKED_SOCK(pd, fd, s);
    switch (cmd) {
    case F_GETFL:
        return unlock_ret(pd, O_RDWR | (s->nonblock ? O_NONBLOCK : 0));
    case F_SETFL:
        s->nonblock = (arg & O_NONBLOCK) != 0;
        return unlock_ret(pd, 0);
    case F_GETFD:
        return unlock_ret(pd, FD_CLOEXEC);
    case F_SETFD:
        return unlock_ret(pd, 0);
    default:
        return unlock_ret(pd, fail(EINVAL));
    }
}

static void sock_release(struct pd *pd, struct pd_sock *s, bool host_close)
{
    if (s->tcp) {
        if (s->linger_on && s->linger_secs == 0 && !s->listening)
            sk_tcp_abort(s->tcp); /* SO_LINGER 0: RFC 9293 §3.10.5 ABORT, a RST */
        else
            sk_tcp_close(s->tcp);
        s->tcp = NULL;
    }
    if (host_close)
        close(s->fd);
    pd_epoll_forget(pd, s->fd);
    sock_unlink(pd, s);
    free(s);
}

static int hook_close(void *u, int fd)
{
    struct pd *epd = u;
    pthread_mutex_lock(&epd->mu);
    if (pd_epoll_close(epd, fd))
        return unlock_ret(epd, 0);
    pthread_mutex_unlock(&epd->mu);
    LOCKED_SOCK(pd, fd, s);
    sock_release(pd, s, true);
    return unlock_ret(pd, 0);
}

static int hook_shutdown(void *u, int fd, int how)
{
    LOCKED_SOCK(pd, fd, s);
    if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
        return unlock_ret(pd, fail(EINVAL));
    if (s->tcp == NULL || s->listening)
        return unlock_ret(pd, fail(ENOTCONN));
    enum sk_tcp_state st = sk_tcp_get_state(s->tcp);
    if (st == SK_TCP_CLOSED || st == SK_TCP_SYN_SENT)
        return unlock_ret(pd, fail(ENOTCONN));
    if (how != SHUT_WR)
        s->shut_rd = true;
    if (how != SHUT_RD) {
        s->shut_wr = true;
        int r = sk_tcp_shutdown(s->tcp);
        if (r < 0 && r != -ENOTCONN)
            return unlock_ret(pd, fail(-r));
    }
    return unlock_ret(pd, 0);
}

/* ---- Socket options ---- */

/* ---- poll ---- */

short sock_revents(struct pd_sock *s, short events)
{
    short r = 0;
    if (s->tcp == NULL)
        return POLLOUT & events ? (short)(POLLOUT | POLLHUP) : POLLHUP;
    unsigned ev = sk_tcp_events(s->tcp);
    if (s->listening) {
        if (ev & SK_EV_ACCEPTABLE)
            r |= POLLIN;
        return (short)(r & (events | POLLERR | POLLHUP));
    }
    enum sk_tcp_state st = sk_tcp_get_state(s->tcp);
    if (ev & (SK_EV_READABLE))
        r |= POLLIN | POLLRDNORM;
    bool deferred = sk_tcp_fastopen_status(s->tcp) & SK_TCP_FO_DEFERRED;
    if ((!is_connecting(s) || deferred) && st != SK_TCP_CLOSED && (ev & SK_EV_WRITABLE))
        r |= POLLOUT | POLLWRNORM;
    if (sk_tcp_error(s->tcp) && !s->err_reported)
        r |= POLLERR;
    if (st == SK_TCP_CLOSED || st == SK_TCP_TIME_WAIT) {
        r |= POLLHUP | POLLIN | POLLRDHUP;
        if (st == SK_TCP_CLOSED && sk_tcp_error(s->tcp))
            r |= POLLOUT;
    } else if ((ev & SK_EV_READABLE && sk_tcp_readable(s->tcp) == 0) ||
               st == SK_TCP_CLOSE_WAIT || st == SK_TCP_CLOSING || st == SK_TCP_LAST_ACK) {
        /* The peer's FIN is in (tcp_poll: RCV_SHUTDOWN), data still unread or not. */
        r |= POLLRDHUP | POLLIN | POLLRDNORM;
    }
    return (short)(r & (events | POLLERR | POLLHUP));
}

static int hook_poll(void *u, struct pollfd *fds, nfds_t nfds, int timeout)
{
    struct pd *pd = u;
    pthread_mutex_lock(&pd->mu);
    sk_time_us deadline = timeout < 0 ? SK_TIME_NEVER : pd->now + (sk_time_us)timeout * 1000;
    for (;;) {
        int ready = 0;
        for (nfds_t i = 0; i < nfds; i++) {
            fds[i].revents = 0;
            if (fds[i].fd < 0)
                continue;
            struct pd_sock *s = sock_find(pd, fds[i].fd);
            fds[i].revents = s ? sock_revents(s, fds[i].events) : POLLNVAL;
            if (fds[i].revents)
                ready++;
        }
        if (ready || pd->now >= deadline)
            return unlock_ret(pd, ready);
        wait_change(pd);
    }
}

/* ---- pipe, splice: not offered (epoll: epoll.c) ---- */

static int hook_pipe(void *u, int fds[2])
{
    (void)u, (void)fds;
    return fail(ENOSYS);
}

static int hook_splice(void *u, int in, loff_t *offin, int out, loff_t *offout, size_t len,
                       unsigned int flags)
{
    (void)u, (void)in, (void)offin, (void)out, (void)offout, (void)len, (void)flags;
    return fail(ENOSYS);
}

/* ---- The device and the clock ---- */

/* Before the stack exists, an injected datagram's destination is our address if no local_ip=
 * or bind() said so (IPv4 bytes 16-19, IPv6 bytes 24-39). */
static void learn_addr(struct pd *pd, const uint8_t *p, size_t count)
{
    if (pd->st != NULL || count < 20)
        return;
    if (p[0] >> 4 == 4 && !pd->addr_known) {
        pd->cfg.addr = (uint32_t)p[16] << 24 | (uint32_t)p[17] << 16 | (uint32_t)p[18] << 8 | p[19];
        pd->addr_known = true;
    } else if (p[0] >> 4 == 6 && count >= 40 && !pd->addr6_known) {
        struct sk_addr a;
        memcpy(a.b, p + 24, sizeof(a.b));
        set_addr6(pd, &a, 48);
    }
}

static void trace_datagram(const uint8_t *p, size_t count)
{
    char src[INET6_ADDRSTRLEN] = "?", dst[INET6_ADDRSTRLEN] = "?";
    if (count >= 20 && p[0] >> 4 == 4) {
        inet_ntop(AF_INET, p + 12, src, sizeof(src));
        inet_ntop(AF_INET, p + 16, dst, sizeof(dst));
    } else if (count >= 40 && p[0] >> 4 == 6) {
        inet_ntop(AF_INET6, p + 8, src, sizeof(src));
        inet_ntop(AF_INET6, p + 24, dst, sizeof(dst));
    }
    fprintf(stderr, "synack netdev_send %zu bytes %s > %s\n", count, src, dst);
}

static int hook_netdev_send(void *u, const void *buf, size_t count)
{
    struct pd *pd = u;
    pthread_mutex_lock(&pd->mu);
    learn_addr(pd, buf, count);
    int e = ensure_stack(pd);
    if (e)
        return unlock_ret(pd, fail(e));
    if (pd->trace)
        trace_datagram(buf, count);
    sk_stack_input(pd->st, buf, count, pd->now);
    return unlock_ret(pd, 0);
}

static int hook_netdev_receive(void *u, void *buf, size_t *count, long long *time_usecs)
{
    struct pd *pd = u;
    pthread_mutex_lock(&pd->mu);
    sk_time_us start = pd->now;
    while (pd->q_head == NULL) {
        sk_time_us d = pd->st ? sk_stack_next_deadline(pd->st) : SK_TIME_NEVER;
        if (d == SK_TIME_NEVER || d - start > pd->giveup_us) {
            /* Silent past the give-up time: an empty packet fails the script. */
            *count = 0;
            *time_usecs = (long long)pd->now;
            return unlock_ret(pd, 0);
        }
        advance_to(pd, d > pd->now ? d : pd->now + 1);
    }
    struct pd_frame *f = pd->q_head;
    pd->q_head = f->next;
    if (pd->q_head == NULL)
        pd->q_tail = NULL;
    size_t n = f->len < *count ? f->len : *count;
    memcpy(buf, f->data, n);
    *count = n;
    *time_usecs = (long long)f->time;
    free(f);
    return unlock_ret(pd, 0);
}

static int hook_usleep(void *u, useconds_t usec)
{
    struct pd *pd = u;
    pthread_mutex_lock(&pd->mu);
    settle(pd); /* a call woken by the last change reads the clock first */
    if (pd->handoff && !pthread_equal(pd->returning_thread, pthread_self())) {
        /* packetdrill's main thread sleeps without its run lock: a blocking call that just
         * returned gets that lock now and records its result (an accepted descriptor) before
         * virtual time moves on; without this a script's next event (a TCP_INFO read 5 ms
         * later) found the accepted socket without its descriptor. A bounded real wait: the
         * syscall thread has nothing left to wait for. */
        pd->handoff = false;
        pthread_mutex_unlock(&pd->mu);
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&pd->mu);
    }
    advance_to(pd, pd->now + usec);
    return unlock_ret(pd, 0);
}

static int hook_gettimeofday(void *u, struct timeval *tv, struct timezone *tz)
{
    struct pd *pd = u;
    (void)tz;
    pthread_mutex_lock(&pd->mu);
    if (pd->returning && pthread_equal(pd->returning_thread, pthread_self())) {
        pd->returning = false;
        pd->handoff = true;
        pthread_cond_broadcast(&pd->settle);
    }
    advance_to(pd, pd->now + 1);
    if (tv) {
        tv->tv_sec = (time_t)(pd->now / 1000000);
        tv->tv_usec = (suseconds_t)(pd->now % 1000000);
    }
    return unlock_ret(pd, 0);
}

/* The host shim (pdhost.c), when packetdrill runs with it preloaded, sends the host
 * getsockopt calls of the scripts' Python blocks to hook_getsockopt. */
typedef void (*pdhost_register_fn)(int (*fn)(void *, int, int, int, void *, socklen_t *),
                                   void *userdata);

static void pdhost_register(struct pd *pd)
{
    pdhost_register_fn reg = (pdhost_register_fn)dlsym(RTLD_DEFAULT, "synack_pdhost_register");
    if (reg)
        reg(pd ? hook_getsockopt : NULL, pd);
}

static void hook_free(void *u)
{
    struct pd *pd = u;
    if (pd == NULL)
        return;
    pdhost_register(NULL);
    pthread_mutex_lock(&pd->mu);
    while (pd->socks)
        sock_release(pd, pd->socks, true);
    pd_epoll_free_all(pd);
    sk_stack_free(pd->st);
    while (pd->q_head) {
        struct pd_frame *f = pd->q_head;
        pd->q_head = f->next;
        free(f);
    }
    pthread_mutex_unlock(&pd->mu);
    pthread_cond_destroy(&pd->cv);
    pthread_cond_destroy(&pd->settle);
    pthread_mutex_destroy(&pd->mu);
    free(pd->sysctl_path);
    free(pd);
}

PD_EXPORT void packetdrill_interface_init(const char *flags, struct packetdrill_interface *ifc)
{
    struct pd *pd = calloc(1, sizeof(*pd));
    memset(ifc, 0, sizeof(*ifc));
    if (pd == NULL)
        return;
    pthread_mutex_init(&pd->mu, NULL);
    pthread_cond_init(&pd->cv, NULL);
    pthread_cond_init(&pd->settle, NULL);
    sk_config_default(&pd->cfg);
    pd->cfg.link_type = SK_LINK_IP;
    pd->cfg.prefix_len = 16;
    pd->cfg.addr = 0xc0a80002; /* 192.168.0.2 until local_ip=, bind() or a datagram says */
    pdhost_register(pd);
    pd->linux_sockbuf = true;
    pd->giveup_us = 600ull * 1000000; /* longer than any RTO backoff or 2*MSL a script awaits */
    pd->next_bind_port = PD_EPHEMERAL_BIND_LO;
    pd->now = PD_TIME_ORIGIN_US;
    /* packetdrill's packets never leave its process, and scripts need repeatable ISNs and
     * ports: a fixed test seed (the "seed" flag changes it), never OS key material. */
    sk_config_set_test_seed(&pd->cfg, 1);
    parse_flags(pd, flags);
    pd->cfg.output = on_output;
    pd->cfg.output_ctx = pd;
    if (pd->trace) {
        pd->cfg.trace = on_trace;
        pd->cfg.trace_ctx = pd;
    }

    ifc->userdata = pd;
    ifc->free = hook_free;
    ifc->socket = hook_socket;
    ifc->bind = hook_bind;
    ifc->listen = hook_listen;
    ifc->accept = hook_accept;
    ifc->connect = hook_connect;
    ifc->read = hook_read;
    ifc->readv = hook_readv;
    ifc->recv = hook_recv;
    ifc->recvfrom = hook_recvfrom;
    ifc->recvmsg = hook_recvmsg;
    ifc->write = hook_write;
    ifc->writev = hook_writev;
    ifc->send = hook_send;
    ifc->sendto = hook_sendto;
    ifc->sendmsg = hook_sendmsg;
    ifc->fcntl = hook_fcntl;
    ifc->ioctl = hook_ioctl;
    ifc->close = hook_close;
    ifc->shutdown = hook_shutdown;
    ifc->getsockopt = hook_getsockopt;
    ifc->setsockopt = hook_setsockopt;
    ifc->poll = hook_poll;
    ifc->netdev_send = hook_netdev_send;
    ifc->netdev_receive = hook_netdev_receive;
    ifc->usleep = hook_usleep;
    ifc->gettimeofday = hook_gettimeofday;
    ifc->epoll_create = hook_epoll_create;
    ifc->epoll_ctl = hook_epoll_ctl;
    ifc->epoll_wait = hook_epoll_wait;
    ifc->pipe = hook_pipe;
    ifc->splice = hook_splice;
}
