/* The stack object: configuration, memory accounting, the timer heap, counters, tracing and
 * the two entry points that move time forward (sk_stack_input, sk_stack_poll).
 *
 * Sans-IO: nothing here reads a clock or touches the OS. Time comes in as an argument.
 */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "ip/ip_int.h"
#include "tcp/tcp_cc.h"
#include "tcp/tcp_int.h"
#include "util/rand.h"

static void *default_alloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
    (void)ctx;
    (void)old_size;
    if (new_size == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, new_size);
}

void sk_config_default(struct sk_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->link_type = SK_LINK_IP;
    cfg->prefix_len = 24;
    cfg->mtu = 1500;
    cfg->max_connections = 4096;
    cfg->max_syn_backlog = 256;
    cfg->max_half_open = 1024;
    cfg->syncookies = 1;
    cfg->sndbuf_bytes = 64 * 1024;
    cfg->rcvbuf_bytes = 64 * 1024;
    cfg->max_buffer_bytes = 256ull * 1024 * 1024;
    cfg->max_sndbuf_bytes = SK_MAX_SNDBUF_DEFAULT;
    cfg->max_rcvbuf_bytes = SK_MAX_RCVBUF_DEFAULT;
    cfg->max_time_wait = 65536;
    cfg->rto_initial_us = 1000000;  /* RFC 6298 §2.1 */
    cfg->rto_min_us = 1000000;      /* RFC 6298 §2.4 */
    cfg->rto_max_us = 60000000;     /* RFC 6298 §2.5 */
    cfg->syn_retries = 6;
    cfg->synack_retries = 5;
    cfg->data_retries = 15;
    cfg->msl_us = 30000000;         /* TIME-WAIT 60 s, as Linux; RFC 9293 suggests MSL = 2 min */
    cfg->delack_us = 40000;
    cfg->rcv_wnd_max = 65535;
    cfg->opt_wscale = true;
    cfg->opt_sack = true;
    cfg->opt_timestamps = true;
    cfg->wscale = 7;
    cfg->syn_opt_layout = SK_SYN_OPTS_LINUX;
    cfg->ephemeral_lo = 49152;      /* RFC 6335 §6 dynamic ports */
    cfg->ephemeral_hi = 65535;
    cfg->congestion_control = "cubic";
    cfg->keepalive_idle_us = 2ull * 3600 * 1000000; /* RFC 1122 §4.2.3.6: >= 2 hours */
    cfg->keepalive_intvl_us = 75000000;
    cfg->keepalive_cnt = 9;
    cfg->ecn = 2;
    cfg->ecn_syn_retries = 1;
    cfg->tlp = true;
    cfg->loss_detection = SK_LOSS_RACK; /* RFC 8985 */
    cfg->prr = true;                    /* RFC 6937 */
    cfg->sack_ranges_max = 32;  /* SK_SB_MAX */
    cfg->ooo_ranges_max = 16;   /* SK_OOO_MAX */
    cfg->ack_at_window_edge = true;
    cfg->challenge_ack_limit = 1000;       /* Linux 4.7 to 5.19 */
    cfg->invalid_ack_ratelimit_us = 500000; /* Linux's tcp_invalid_ratelimit */
    cfg->arp_timeout_us = 60000000;
    cfg->arp_retry_us = 1000000;
    cfg->arp_retries = 3;
    cfg->arp_queue_bytes = 64 * 1024;
    cfg->ipfrag_timeout_us = 30000000; /* RFC 1122 §3.3.2: 60 s to 120 s; Linux uses 30 s */
    cfg->ipfrag_max_datagrams = 64;
    cfg->ipfrag_max_bytes = 1024 * 1024;
    cfg->icmp_rate_per_s = 1000;
    cfg->icmp_burst = 50;
    cfg->udp_rcvq_datagrams = 64;
    cfg->ipfrag_max_fragments = 128; /* 65515 / 552 = 119 fragments at the 576-byte MTU */
    cfg->pmtu_min = 552;             /* Linux min_pmtu; RFC 1191 §3's floor is 68 */
    cfg->tcp_min_mss = 64;           /* payload; Linux tcp_min_snd_mss 48 counts options */
    cfg->arp_cache_entries = 64;
    cfg->arp_queue_per_entry = 16;   /* FreeBSD net.link.ether.inet.maxhold */
    cfg->tcp_fast_path = true;
    cfg->syncookie_quiet_data = true;
    cfg->ip6_accept_ra = true;
    cfg->ip6_dad_transmits = 1; /* RFC 4862 §5.1 */
    cfg->ip6_hop_limit = 64;
    /* TCP Fast Open (RFC 7413): allowed both ways, used only where the application asks. */
    cfg->tfo = SK_TFO_CLIENT | SK_TFO_SERVER;
    cfg->tfo_cache_entries = 64;
    cfg->tfo_syn_loss_backoff_us = 60000000; /* Linux 4.x: 60 s << syn_loss */
    /* Socket-level limits (tcp_marks.c). */
    cfg->notsent_lowat = UINT32_MAX; /* Linux's tcp_notsent_lowat default: no mark */
    /* congestion control (cc helper) */
    cfg->ss_abc_limit = 2;                /* RFC 3465 §2.3: L = 2*SMSS */
    cfg->slow_start_after_idle = true;  /* RFC 5681 §4.1 */
    cfg->cwnd_validation = SK_CWV_RFC7661;
    cfg->hystart = SK_HYSTART_OFF;        /* RFC 9438 §4.10's MAY; see sk_config.hystart */
    /* Packetization-layer path MTU discovery (tcp_plpmtu.c): off, as Linux and FreeBSD. */
    cfg->plpmtud = 0;
    cfg->plpmtu_base_mss = 1024;             /* Linux tcp_base_mss; RFC 4821 §7.2 */
    cfg->plpmtu_probe_threshold = 8;         /* Linux tcp_probe_threshold */
    cfg->plpmtu_probe_interval_us = 600000000; /* RFC 8899 PMTU_RAISE_TIMER, 600 s */
    cfg->plpmtu_max_probes = 3;              /* RFC 8899 MAX_PROBES */
    cfg->plpmtu_blackhole_rtos = 3;          /* Linux tcp_retries1 */
}

int sk_config_set_secret(struct sk_config *cfg, const void *secret, size_t len)
{
    if (cfg == NULL || secret == NULL || len != SK_SECRET_BYTES)
        return -EINVAL;
    memcpy(cfg->secret, secret, SK_SECRET_BYTES);
    cfg->secret_source = SK_SECRET_CALLER;
    return 0;
}

void sk_config_set_test_seed(struct sk_config *cfg, uint64_t seed)
{
    memset(cfg->secret, 0, sizeof(cfg->secret));
    for (int i = 0; i < 8; i++)
        cfg->secret[i] = (uint8_t)(seed >> (8 * i));
    cfg->secret_source = SK_SECRET_TEST_SEED;
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--)
        x = (x << 8) | p[i];
    return x;
}

/* One 128-bit key per purpose, from SipHash-2-4 used as a PRF (a KDF in the sense of RFC 5869's
 * "expand" step): word j of purpose p is the XOR of SipHash under each 16-byte half of the
 * secret over the 8 bytes "sk-kdf", p, j. The XOR of two PRFs under independent keys is a PRF
 * as long as either key is secret, so all 32 bytes count and a test seed (second half zero)
 * still yields keys only the seed predicts. Keys of different purposes are independent. */
static void derive_keys(struct sk_stack *st, const uint8_t secret[SK_SECRET_BYTES])
{
    uint64_t ka0 = le64(secret), ka1 = le64(secret + 8);
    uint64_t kb0 = le64(secret + 16), kb1 = le64(secret + 24);
    for (int p = 0; p < SK_KEY_COUNT; p++) {
        for (int j = 0; j < 2; j++) {
            const uint8_t label[8] = {'s', 'k', '-', 'k', 'd', 'f', (uint8_t)p, (uint8_t)j};
            st->keys[p][j] = sk_siphash(ka0, ka1, label, sizeof(label)) ^
                             sk_siphash(kb0, kb1, label, sizeof(label));
        }
    }
}

static uint32_t pow2_at_least(uint32_t n)
{
    uint32_t p = 16;
    while (p < n && p < (1u << 24))
        p <<= 1;
    return p;
}

static bool config_valid(const struct sk_config *c)
{
    if (c->link_type != SK_LINK_IP && c->link_type != SK_LINK_ETHERNET)
        return false;
    if (c->mtu < 68 || c->prefix_len > 32 || c->output == NULL || c->caps.tso_max > UINT16_MAX)
        return false;
    if (c->max_connections == 0 || c->sndbuf_bytes < 1024 || c->rcvbuf_bytes < 1024)
        return false;
    if (c->rto_min_us == 0 || c->rto_min_us > c->rto_max_us || c->rto_initial_us == 0)
        return false;
    if (c->syncookies > 2)
        return false;
    if (c->wscale > 14 || c->ephemeral_lo == 0 || c->ephemeral_lo > c->ephemeral_hi)
        return false;
    if (c->congestion_control && sk_cc_find(c->congestion_control) == NULL)
        return false;
    if (c->arp_cache_entries == 0 || c->arp_cache_entries > 4096)
        return false;
    /* RFC 8200 §5: every link that carries IPv6 has an MTU of at least 1280. */
    if (c->ip6 && c->mtu < 1280)
        return false;
    if (c->addr6_count > SK_IP6_ADDR_MAX || c->ip6_linklocal > SK_IP6_LL_OFF)
        return false;
    for (unsigned i = 0; i < c->addr6_count; i++)
        if (c->addr6[i].prefix_len == 0 || c->addr6[i].prefix_len > 128)
            return false;
    return true;
}

struct sk_stack *sk_stack_new(const struct sk_config *cfg, sk_time_us now, int *err)
{
    int e = 0;
    if (err == NULL)
        err = &e;
    if (cfg == NULL || !config_valid(cfg)) {
        *err = -EINVAL;
        return NULL;
    }
    /* sk_config_default leaves the address 0.0.0.0, which is nobody's (RFC 1122 §3.2.1.3:
     * "this host" only as a source while it learns its address): a stack without one would
     * answer nothing addressed to it. */
    if (cfg->addr == 0) {
        *err = -EADDRNOTAVAIL;
        return NULL;
    }
    /* No silent default key: a stack that every peer could predict is refused. */
    if (cfg->secret_source != SK_SECRET_CALLER && cfg->secret_source != SK_SECRET_TEST_SEED) {
        *err = -ENOKEY;
        return NULL;
    }
    void *(*alloc)(void *, void *, size_t, size_t) = cfg->alloc ? cfg->alloc : default_alloc;
    struct sk_stack *st = alloc(cfg->alloc_ctx, NULL, 0, sizeof(*st));
    if (st == NULL) {
        *err = -ENOMEM;
        return NULL;
    }
    memset(st, 0, sizeof(*st));
    /* Before any failure: sk_stack_free walks the lists. */
    sk_list_init(&st->all);
    sk_list_init(&st->reap);
    sk_list_init(&st->halfopen.list);
    st->cfg = *cfg;
    st->cfg.alloc = alloc;
    st->now = now;
    derive_keys(st, cfg->secret);
    /* Only the derived keys stay; a copy of sk_stack_config's answer carries no secret and so
     * cannot make a second stack with a zero key (sk_stack_new refuses it). */
    memset(st->cfg.secret, 0, sizeof(st->cfg.secret));
    st->cfg.secret_source = SK_SECRET_NONE;
    st->next_conn_id = 1;
    st->tw_deadline = SK_TIME_NEVER;

    st->conn_tab_mask = pow2_at_least(cfg->max_connections) - 1;
    st->listen_tab_mask = 63;
    /* The largest frame built: an MTU-sized datagram, or a TSO super-segment. */
    size_t ip_max = cfg->caps.tso_max > cfg->mtu ? cfg->caps.tso_max : cfg->mtu;
    st->tx_cap = (cfg->link_type == SK_LINK_ETHERNET ? SK_ETH_HLEN : 0) + ip_max + 64;
    st->conn_tab = sk_mem_alloc(st, sizeof(*st->conn_tab) * (st->conn_tab_mask + 1));
    st->listen_tab = sk_mem_alloc(st, sizeof(*st->listen_tab) * (st->listen_tab_mask + 1));
    st->tx = st->tx_own = sk_mem_alloc(st, st->tx_cap);
    if (!st->conn_tab || !st->listen_tab || !st->tx || sk_ip_init(st) != 0 ||
        sk_ports_init(st) != 0) {
        sk_stack_free(st);
        *err = -ENOMEM;
        return NULL;
    }
    memset(st->conn_tab, 0, sizeof(*st->conn_tab) * (st->conn_tab_mask + 1));
    memset(st->listen_tab, 0, sizeof(*st->listen_tab) * (st->listen_tab_mask + 1));
    *err = 0;
    return st;
}

void sk_stack_free(struct sk_stack *st)
{
    if (st == NULL)
        return;
    sk_socket_free_all(st);
    sk_tcp_free_all(st);
    sk_tfo_cache_free(st);
    sk_ip_free(st);
    sk_ports_free(st);
    if (st->conn_tab)
        sk_mem_free(st, st->conn_tab, sizeof(*st->conn_tab) * (st->conn_tab_mask + 1));
    if (st->listen_tab)
        sk_mem_free(st, st->listen_tab, sizeof(*st->listen_tab) * (st->listen_tab_mask + 1));
    sk_mem_free(st, st->tx_own, st->tx_cap);
    sk_mem_free(st, st->heap, sizeof(*st->heap) * st->heap_cap);
    st->cfg.alloc(st->cfg.alloc_ctx, st, sizeof(*st), 0);
}

void *sk_mem_alloc(struct sk_stack *st, size_t size)
{
    void *p = st->cfg.alloc(st->cfg.alloc_ctx, NULL, 0, size);
    if (p == NULL)
        st->ctr.alloc_failures++;
    return p;
}

void sk_mem_free(struct sk_stack *st, void *p, size_t size)
{
    if (p != NULL)
        st->cfg.alloc(st->cfg.alloc_ctx, p, size, 0);
}

uint64_t sk_random(struct sk_stack *st)
{
    const uint64_t *k = sk_key(st, SK_KEY_RNG);
    uint8_t ctr[8];
    for (int i = 0; i < 8; i++)
        ctr[i] = (uint8_t)(st->rng_counter >> (8 * i));
    st->rng_counter++;
    return sk_siphash(k[0], k[1], ctr, sizeof(ctr));
}

size_t sk_pair_key(const struct sk_addr *laddr, const struct sk_addr *raddr, const uint32_t *tail,
                   size_t ntail, uint8_t *out)
{
    size_t n = 0;
    if (sk_addr_is_v4(laddr) && sk_addr_is_v4(raddr)) {
        uint32_t w[2] = {sk_addr_v4(laddr), sk_addr_v4(raddr)};
        memcpy(out, w, sizeof(w));
        n = sizeof(w);
    } else {
        memcpy(out, laddr->b, 16);
        memcpy(out + 16, raddr->b, 16);
        n = 32;
    }
    if (ntail != 0) /* tail may be NULL then, which memcpy must not be handed (C11 7.24.1) */
        memcpy(out + n, tail, ntail * sizeof(*tail));
    return n + ntail * sizeof(*tail);
}

/* Entry points nest when an application callback calls back into the stack; TCBs that die
 * are freed only when the outermost call returns, so no caller holds a dangling pointer. */
void sk_enter(struct sk_stack *st)
{
    st->depth++;
}

void sk_leave(struct sk_stack *st)
{
    if (--st->depth > 0)
        return;
    while (!sk_list_empty(&st->reap)) {
        struct sk_tcp *c = sk_list_entry(sk_list_first(&st->reap), struct sk_tcp, reap_link);
        sk_list_remove(&c->reap_link);
        sk_tcb_destroy(c);
    }
}

void sk_trace_emit(struct sk_stack *st, struct sk_trace_event *ev)
{
    if (st->cfg.trace == NULL)
        return;
    ev->time = st->now;
    st->cfg.trace(st->cfg.trace_ctx, ev);
}

void sk_drop(struct sk_stack *st, enum sk_drop_reason r, const struct sk_tcp *c,
             const uint8_t *frame, size_t len)
{
    if ((unsigned)r < SK_DROP_REASON_MAX)
        st->ctr.drops[r]++;
    st->ctr.drops_total++;
    struct sk_trace_event ev = {.kind = SK_TRACE_DROP, .conn = c, .conn_id = c ? c->conn_id : 0};
    ev.u.drop.reason = r;
    ev.frame = frame;
    ev.frame_len = len;
    sk_trace_emit(st, &ev);
}

/* ---- Timer heap: O(log n) per change, never a scan of all connections. ---- */

static void heap_swap(struct sk_stack *st, uint32_t i, uint32_t j)
{
    struct sk_tcp *t = st->heap[i];
    st->heap[i] = st->heap[j];
    st->heap[j] = t;
    st->heap[i]->heap_idx = i;
    st->heap[j]->heap_idx = j;
}

static void heap_up(struct sk_stack *st, uint32_t i)
{
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (st->heap[p]->deadline <= st->heap[i]->deadline)
            break;
        heap_swap(st, i, p);
        i = p;
    }
}

static void heap_down(struct sk_stack *st, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < st->heap_len && st->heap[l]->deadline < st->heap[m]->deadline)
            m = l;
        if (r < st->heap_len && st->heap[r]->deadline < st->heap[m]->deadline)
            m = r;
        if (m == i)
            return;
        heap_swap(st, i, m);
        i = m;
    }
}

static void heap_remove(struct sk_stack *st, struct sk_tcp *c)
{
    uint32_t i = c->heap_idx;
    c->heap_idx = UINT32_MAX;
    st->heap_len--;
    if (i == st->heap_len)
        return;
    st->heap[i] = st->heap[st->heap_len];
    st->heap[i]->heap_idx = i;
    heap_up(st, i);
    heap_down(st, i);
}

/* Recomputes c's earliest deadline and its place in the heap. Returns -ENOMEM only if the heap
 * cannot grow; the heap never holds more than max_connections entries. */
int sk_timer_update(struct sk_tcp *c)
{
    struct sk_stack *st = c->st;
    sk_time_us d = SK_TIME_NEVER;
    for (int k = 0; k < SK_TCB_TIMERS; k++)
        if (c->timer[k] < d)
            d = c->timer[k];
    c->deadline = d;
    if (d == SK_TIME_NEVER) {
        if (c->heap_idx != UINT32_MAX)
            heap_remove(st, c);
        return 0;
    }
    if (c->heap_idx == UINT32_MAX) {
        if (st->heap_len == st->heap_cap) {
            uint32_t ncap = st->heap_cap ? st->heap_cap * 2 : 64;
            struct sk_tcp **nh = st->cfg.alloc(st->cfg.alloc_ctx, st->heap,
                                               sizeof(*nh) * st->heap_cap, sizeof(*nh) * ncap);
            if (nh == NULL) {
                st->ctr.alloc_failures++;
                return -ENOMEM;
            }
            st->heap = nh;
            st->heap_cap = ncap;
        }
        c->heap_idx = st->heap_len;
        st->heap[st->heap_len++] = c;
        heap_up(st, c->heap_idx);
        return 0;
    }
    heap_up(st, c->heap_idx);
    heap_down(st, c->heap_idx);
    return 0;
}

void sk_timer_remove(struct sk_tcp *c)
{
    for (int k = 0; k < SK_TCB_TIMERS; k++)
        c->timer[k] = SK_TIME_NEVER;
    sk_timer_update(c);
}

sk_time_us sk_stack_next_deadline(const struct sk_stack *st)
{
    sk_time_us d = st->heap_len ? st->heap[0]->deadline : SK_TIME_NEVER;
    if (st->tw_deadline < d)
        d = st->tw_deadline;
    return st->ip_deadline < d ? st->ip_deadline : d;
}

sk_time_us sk_stack_now(const struct sk_stack *st)
{
    return st->now;
}

const struct sk_config *sk_stack_config(const struct sk_stack *st)
{
    return &st->cfg;
}

int sk_stack_set_setting(struct sk_stack *st, enum sk_setting which, uint32_t value)
{
    struct sk_config *c = &st->cfg;
    bool *flag = NULL;
    switch (which) {
    case SK_SET_ECN:
        if (value > 2)
            return -EINVAL;
        c->ecn = (uint8_t)value;
        return 0;
    case SK_SET_TFO:
        c->tfo = value;
        return 0;
    case SK_SET_OPT_TIMESTAMPS:
        flag = &c->opt_timestamps;
        break;
    case SK_SET_OPT_SACK:
        flag = &c->opt_sack;
        break;
    case SK_SET_OPT_WSCALE:
        flag = &c->opt_wscale;
        break;
    case SK_SET_TSO_MIN_SEGS:
        if (value > UINT8_MAX)
            return -EINVAL;
        c->tso_min_segs = (uint8_t)value;
        return 0;
    case SK_SET_PACING:
        flag = &c->pacing;
        break;
    case SK_SET_PACING_SS_RATIO:
    case SK_SET_PACING_CA_RATIO:
        if (value > 1000) /* Linux's bound for both sysctls */
            return -EINVAL;
        *(which == SK_SET_PACING_SS_RATIO ? &c->pacing_ss_ratio : &c->pacing_ca_ratio) =
            (uint16_t)value;
        return 0;
    case SK_SET_SLOW_START_AFTER_IDLE:
        flag = &c->slow_start_after_idle;
        break;
    }
    if (flag == NULL || value > 1)
        return -EINVAL;
    *flag = value != 0;
    return 0;
}

static void advance(struct sk_stack *st, sk_time_us now)
{
    if (now > st->now)
        st->now = now;
}

void sk_stack_output_refused(struct sk_stack *st)
{
    st->tx_refused = true;
}

sk_time_us sk_stack_poll(struct sk_stack *st, sk_time_us now)
{
    sk_enter(st);
    advance(st, now);
    while (st->heap_len && st->heap[0]->deadline <= st->now) {
        struct sk_tcp *c = st->heap[0];
        enum sk_timer_kind k = SK_TIMER_RETRANSMIT;
        for (int i = 0; i < SK_TCB_TIMERS; i++)
            if (c->timer[i] == c->deadline) {
                k = (enum sk_timer_kind)i;
                break;
            }
        c->timer[k] = SK_TIME_NEVER;
        sk_timer_update(c);
        sk_tcp_timer_fire(c, k);
    }
    if (st->ip_deadline <= st->now)
        sk_ip_timer(st);
    if (st->tw_deadline <= st->now)
        sk_tw_timer(st);
    sk_leave(st);
    return sk_stack_next_deadline(st);
}

void sk_stack_input(struct sk_stack *st, const uint8_t *frame, size_t len, sk_time_us now)
{
    sk_stack_input_meta(st, frame, len, NULL, now);
}

void sk_stack_input_meta(struct sk_stack *st, const uint8_t *frame, size_t len,
                         const struct sk_frame_meta *meta, sk_time_us now)
{
    sk_enter(st);
    advance(st, now);
    st->ctr.frames_in++;
    st->ctr.bytes_in += len;
    /* Per frame: the link's word counts for this frame only, and only from a link that said
     * it would give it (caps.rx_csum). A frame without it is verified whatever the caps. */
    uint8_t trusted = SK_FRAME_CSUM_VALID | SK_FRAME_CSUM_PARTIAL;
    uint8_t outer = st->rx_flags; /* an application callback may hand in a frame */
    st->rx_flags = meta && st->cfg.caps.rx_csum ? (uint8_t)(meta->flags & trusted) : 0;
    sk_link_input(st, frame, len);
    st->rx_flags = outer;
    sk_leave(st);
}

void sk_stack_counters(const struct sk_stack *st, struct sk_stack_counters *out)
{
    *out = st->ctr;
}

int sk_stack_counters_format(const struct sk_stack *st, char *buf, size_t size)
{
    const struct sk_stack_counters *c = &st->ctr;
    static const char *const names[] = {
        "frames_in", "frames_out", "bytes_in", "bytes_out", "ip_in", "ip_out",
        "tcp_sack_sb_full", "tcp_dupack_limited",
        "tcp_segs_in", "tcp_segs_out", "tcp_retransmits", "tcp_rst_out", "tcp_challenge_acks",
        "tcp_active_opens", "tcp_passive_opens", "tcp_established", "tcp_conn_failed",
        "tcp_timewait_reused", "tcp_timewait_reclaimed", "tcp_timewait_records",
        "tcp_tail_loss_probes", "tcp_tlp_recoveries", "tcp_sack_reneging",
        "tcp_probe_timeouts", "tcp_lost_retransmits", "tcp_syncookies_sent",
        "tcp_syncookies_validated", "tcp_syncookies_failed", "tcp_halfopen_evicted",
        "alloc_failures",
        "limit_connections", "limit_backlog", "limit_buffers", "arp_in", "arp_out", "ip_frags_out", "ip_reassembled", "icmp_in",
        "icmp_out", "udp_in", "udp_out",
        "port_picks", "port_probes", "port_exhausted", "port_lookups",
        "ip_reasm_evicted", "ip_frag_too_many", "icmp_pmtu_floored", "tcp_mss_floored",
        "arp_cache_evicted", "ip_reasm_bytes",
        "tcp_challenge_acks_limited", "tcp_invalid_acks", "tcp_invalid_acks_limited",
        "tcp_fastpath_acks", "tcp_fastpath_data", "tcp_tso_segs",
        "ip6_in", "ip6_out", "ip6_frags_out", "icmp6_in", "icmp6_out", "nd_ns_in", "nd_ns_out",
        "nd_na_in", "nd_na_out", "nd_rs_out", "nd_ra_in", "ip6_dad_duplicates",
        "ip6_pmtu_lowered", "ip6_pmtu_floored", "tcp_rack_off", "tcp_rack_resumed",
        "tcp_halfopen_icmp_dropped", "tcp_tx_refused"};
    const uint64_t vals[] = {
        c->frames_in, c->frames_out, c->bytes_in, c->bytes_out, c->ip_in, c->ip_out,
        c->tcp_sack_sb_full, c->tcp_dupack_limited,
        c->tcp_segs_in, c->tcp_segs_out, c->tcp_retransmits, c->tcp_rst_out,
        c->tcp_challenge_acks, c->tcp_active_opens, c->tcp_passive_opens, c->tcp_established,
        c->tcp_conn_failed, c->tcp_timewait_reused, c->tcp_timewait_reclaimed,
        c->timewait_records, c->tcp_tail_loss_probes,
        c->tcp_tlp_recoveries, c->tcp_sack_reneging, c->tcp_probe_timeouts,
        c->tcp_lost_retransmits, c->tcp_syncookies_sent, c->tcp_syncookies_validated,
        c->tcp_syncookies_failed, c->tcp_halfopen_evicted, c->alloc_failures, c->limit_connections,
        c->limit_backlog, c->limit_buffers, c->arp_in, c->arp_out, c->ip_frags_out,
        c->ip_reassembled, c->icmp_in, c->icmp_out, c->udp_in, c->udp_out,
        c->port_picks, c->port_probes, c->port_exhausted, c->port_lookups,
        c->ip_reasm_evicted, c->ip_frag_too_many, c->icmp_pmtu_floored, c->tcp_mss_floored,
        c->arp_cache_evicted, c->ip_reasm_bytes,
        c->tcp_challenge_acks_limited, c->tcp_invalid_acks, c->tcp_invalid_acks_limited,
        c->tcp_fastpath_acks, c->tcp_fastpath_data, c->tcp_tso_segs,
        c->ip6_in, c->ip6_out, c->ip6_frags_out, c->icmp6_in, c->icmp6_out, c->nd_ns_in,
        c->nd_ns_out, c->nd_na_in, c->nd_na_out, c->nd_rs_out, c->nd_ra_in,
        c->ip6_dad_duplicates, c->ip6_pmtu_lowered, c->ip6_pmtu_floored, c->tcp_rack_off,
        c->tcp_rack_resumed, c->tcp_halfopen_icmp_dropped, c->tcp_tx_refused};
    size_t off = 0;
    int total = 0;
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        if (vals[i] == 0)
            continue;
        int n = snprintf(buf + off, off < size ? size - off : 0, "%s %llu\n", names[i],
                         (unsigned long long)vals[i]);
        total += n;
        off += (size_t)n;
    }
    for (int r = 1; r < SK_DROP_REASON_COUNT; r++) {
        if (c->drops[r] == 0)
            continue;
        int n = snprintf(buf + off, off < size ? size - off : 0, "drop.%s %llu\n",
                         sk_drop_reason_name((enum sk_drop_reason)r),
                         (unsigned long long)c->drops[r]);
        total += n;
        off += (size_t)n;
    }
    return total;
}

/* One line per limit: what it bounds, its value, the level now (UINT64_MAX: none), and the
 * counter of the times it held. */
struct limit_row {
    const char *name;
    uint64_t limit, in_use, held;
};

int sk_stack_limits_format(const struct sk_stack *st, char *buf, size_t size)
{
    const struct sk_config *g = &st->cfg;
    const struct sk_stack_counters *c = &st->ctr;
    const uint64_t none = UINT64_MAX;
    const struct limit_row rows[] = {
        {"connections", g->max_connections, c->connections, c->limit_connections},
        {"half_open", g->max_half_open, st->halfopen.len,
         c->tcp_syncookies_sent + c->tcp_halfopen_evicted},
        /* A listener's backlog (at most max_syn_backlog) bounds its SYN queue, counted under
         * half_open, and its accept queue. */
        {"accept_queue", g->max_syn_backlog, none,
         c->limit_backlog + c->drops[SK_DROP_TCP_ACCEPT_FULL]},
        {"buffer_bytes", g->max_buffer_bytes, c->buffer_bytes, c->limit_buffers},
        {"time_wait", g->max_time_wait, c->timewait_records, c->tcp_timewait_reclaimed},
        {"tcp_ooo_ranges", g->ooo_ranges_max, none, c->drops[SK_DROP_TCP_OUT_OF_ORDER]},
        {"sack_ranges", g->sack_ranges_max, none, c->tcp_sack_sb_full},
        {"challenge_acks_per_s", g->challenge_ack_limit, none, c->tcp_challenge_acks_limited},
        {"invalid_ack_interval_us", g->invalid_ack_ratelimit_us, none,
         c->tcp_invalid_acks_limited},
        {"tcp_min_mss", g->tcp_min_mss, none, c->tcp_mss_floored},
        {"pmtu_min", g->pmtu_min, none, c->icmp_pmtu_floored},
        {"ipfrag_bytes", g->ipfrag_max_bytes, st->ip ? st->ip->frag_bytes : 0,
         c->ip_reasm_evicted},
        {"ipfrag_datagrams", g->ipfrag_max_datagrams, st->ip ? st->ip->frag_count : 0,
         c->drops[SK_DROP_IP_REASM_LIMIT]},
        {"ipfrag_fragments", g->ipfrag_max_fragments, none, c->ip_frag_too_many},
        {"arp_cache", g->arp_cache_entries, none, c->arp_cache_evicted},
        {"arp_queue_bytes", g->arp_queue_bytes, st->ip ? st->ip->pend_bytes : 0,
         c->drops[SK_DROP_ARP_QUEUE_FULL]},
        {"arp_queue_per_entry", g->arp_queue_per_entry, none, c->drops[SK_DROP_ARP_QUEUE_FULL]},
        {"icmp_burst", g->icmp_burst, none, c->drops[SK_DROP_ICMP_RATELIMIT]},
        {"udp_rcvq_datagrams", g->udp_rcvq_datagrams, none, c->drops[SK_DROP_UDP_QUEUE_FULL]},
        /* RFC 8200 §5: a Packet Too Big never lowers a path MTU below 1280. */
        {"ip6_pmtu_min", 1280, none, c->ip6_pmtu_floored},
    };
    size_t off = 0;
    int total = 0;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char use[24] = "-";
        if (rows[i].in_use != none)
            snprintf(use, sizeof(use), "%llu", (unsigned long long)rows[i].in_use);
        int n = snprintf(buf + off, off < size ? size - off : 0, "limit.%s %llu in-use %s held %llu\n",
                         rows[i].name, (unsigned long long)rows[i].limit, use,
                         (unsigned long long)rows[i].held);
        total += n;
        off += (size_t)n;
    }
    return total;
}

_Static_assert(SK_DROP_REASON_COUNT <= SK_DROP_REASON_MAX, "a drop reason without a counter");

const char *sk_drop_reason_name(enum sk_drop_reason r)
{
    static const char *const names[SK_DROP_REASON_COUNT] = {
        [SK_DROP_NONE] = "none",
        [SK_DROP_LINK_TRUNCATED] = "link-truncated",
        [SK_DROP_LINK_NOT_FOR_US] = "link-not-for-us",
        [SK_DROP_LINK_ETHERTYPE] = "link-ethertype",
        [SK_DROP_IP_TRUNCATED] = "ip-truncated",
        [SK_DROP_IP_VERSION] = "ip-version",
        [SK_DROP_IP_HDRLEN] = "ip-header-length",
        [SK_DROP_IP_TOTLEN] = "ip-total-length",
        [SK_DROP_IP_CHECKSUM] = "ip-checksum",
        [SK_DROP_IP_NOT_FOR_US] = "ip-not-for-us",
        [SK_DROP_IP_FRAGMENT] = "ip-fragment",
        [SK_DROP_IP_PROTO] = "ip-protocol",
        [SK_DROP_IP_BAD_SRC] = "ip-bad-source",
        [SK_DROP_TCP_TRUNCATED] = "tcp-truncated",
        [SK_DROP_TCP_HDRLEN] = "tcp-header-length",
        [SK_DROP_TCP_CHECKSUM] = "tcp-checksum",
        [SK_DROP_TCP_OPTIONS] = "tcp-options",
        [SK_DROP_TCP_NO_SOCKET] = "tcp-no-socket",
        [SK_DROP_TCP_SEQ] = "tcp-unacceptable-seq",
        [SK_DROP_TCP_RST_INVALID] = "tcp-rst-not-exact",
        [SK_DROP_TCP_SYN_INVALID] = "tcp-syn-in-window",
        [SK_DROP_TCP_ACK_INVALID] = "tcp-unacceptable-ack",
        [SK_DROP_TCP_NO_ACK] = "tcp-no-ack",
        [SK_DROP_TCP_BACKLOG_FULL] = "tcp-backlog-full",
        [SK_DROP_TCP_ACCEPT_FULL] = "tcp-accept-queue-full",
        [SK_DROP_TCP_NO_MEMORY] = "tcp-no-memory",
        [SK_DROP_TCP_RCV_WINDOW] = "tcp-beyond-window",
        [SK_DROP_TCP_OUT_OF_ORDER] = "tcp-out-of-order-full",
        [SK_DROP_TCP_PAWS] = "tcp-paws",
        [SK_DROP_TCP_AFTER_CLOSE] = "tcp-data-after-close",
        [SK_DROP_ICMP_TRUNCATED] = "icmp-truncated",
        [SK_DROP_ICMP_CHECKSUM] = "icmp-checksum",
        [SK_DROP_ICMP_TYPE] = "icmp-type",
        [SK_DROP_UDP_TRUNCATED] = "udp-truncated",
        [SK_DROP_UDP_CHECKSUM] = "udp-checksum",
        [SK_DROP_UDP_NO_SOCKET] = "udp-no-socket",
        [SK_DROP_ARP_MALFORMED] = "arp-malformed",
        [SK_DROP_OUT_NO_ROUTE] = "out-no-route",
        [SK_DROP_LINK_OVERSIZE] = "link-oversize",
        [SK_DROP_IP_FRAG_OVERLAP] = "ip-fragment-overlap",
        [SK_DROP_IP_FRAG_DUP] = "ip-fragment-duplicate",
        [SK_DROP_IP_FRAG_INVALID] = "ip-fragment-invalid",
        [SK_DROP_IP_REASM_TIMEOUT] = "ip-reassembly-timeout",
        [SK_DROP_IP_REASM_LIMIT] = "ip-reassembly-limit",
        [SK_DROP_ARP_NOT_FOR_US] = "arp-not-for-us",
        [SK_DROP_ARP_QUEUE_FULL] = "arp-queue-full",
        [SK_DROP_ARP_UNRESOLVED] = "arp-unresolved",
        [SK_DROP_ICMP_UNMATCHED] = "icmp-unmatched",
        [SK_DROP_ICMP_RATELIMIT] = "icmp-rate-limited",
        [SK_DROP_UDP_QUEUE_FULL] = "udp-queue-full",
        [SK_DROP_IP_FRAG_TINY] = "ip-fragment-tiny",
        [SK_DROP_TCP_COOKIE_UNVERIFIED] = "tcp-cookie-unverified",
        [SK_DROP_IP6_TRUNCATED] = "ip6-truncated",
        [SK_DROP_IP6_BAD_EXT] = "ip6-bad-ext-header",
        [SK_DROP_IP6_EXT_LIMIT] = "ip6-ext-header-limit",
        [SK_DROP_IP6_CHAIN_INCOMPLETE] = "ip6-header-chain-incomplete",
        [SK_DROP_IP6_OPTION] = "ip6-unknown-option",
        [SK_DROP_IP6_ROUTING] = "ip6-routing-header",
        [SK_DROP_ICMP6_TRUNCATED] = "icmp6-truncated",
        [SK_DROP_ICMP6_CHECKSUM] = "icmp6-checksum",
        [SK_DROP_ND_MALFORMED] = "nd-malformed",
        [SK_DROP_ND_INVALID] = "nd-invalid",
    };
    if ((unsigned)r >= SK_DROP_REASON_COUNT || names[r] == NULL)
        return "unknown";
    return names[r];
}

const char *sk_timer_name(enum sk_timer_kind k)
{
    static const char *const names[SK_TIMER_COUNT] = {
        [SK_TIMER_RETRANSMIT] = "retransmit", [SK_TIMER_PERSIST] = "persist",
        [SK_TIMER_DELACK] = "delayed-ack",    [SK_TIMER_KEEPALIVE] = "keepalive",
        [SK_TIMER_TIME_WAIT] = "2msl",        [SK_TIMER_USER_TIMEOUT] = "user-timeout",
        [SK_TIMER_TLP] = "tail-loss-probe",   [SK_TIMER_RACK] = "rack-reorder",
        [SK_TIMER_PACE] = "pacing",
    };
    return (unsigned)k < SK_TIMER_COUNT ? names[k] : "unknown";
}

const char *sk_seg_why_name(enum sk_seg_why w)
{
    static const char *const names[SK_SEG_WHY_COUNT] = {
        [SK_SEG_WHY_UNKNOWN] = "unknown",
        [SK_SEG_WHY_SYN] = "syn",
        [SK_SEG_WHY_SYNACK] = "synack",
        [SK_SEG_WHY_NEW_DATA] = "new-data",
        [SK_SEG_WHY_FIN] = "fin",
        [SK_SEG_WHY_RTO] = "rto",
        [SK_SEG_WHY_FAST_RETRANSMIT] = "fast-retransmit",
        [SK_SEG_WHY_RECOVERY] = "recovery",
        [SK_SEG_WHY_RETRANSMIT] = "retransmit",
        [SK_SEG_WHY_TLP] = "tail-loss-probe",
        [SK_SEG_WHY_WINDOW_PROBE] = "window-probe",
        [SK_SEG_WHY_KEEPALIVE] = "keepalive",
        [SK_SEG_WHY_ACK] = "ack",
        [SK_SEG_WHY_DELAYED_ACK] = "delayed-ack",
        [SK_SEG_WHY_WINDOW_UPDATE] = "window-update",
        [SK_SEG_WHY_CHALLENGE_ACK] = "challenge-ack",
        [SK_SEG_WHY_RST_NO_CONNECTION] = "rst-no-connection",
        [SK_SEG_WHY_RST_BAD_ACK] = "rst-bad-ack",
        [SK_SEG_WHY_RST_ABORT] = "rst-abort",
        [SK_SEG_WHY_RST_AFTER_CLOSE] = "rst-after-close",
        [SK_SEG_WHY_RST_SYN] = "rst-syn",
        [SK_SEG_WHY_PMTU_PROBE] = "pmtu-probe",
    };
    return (unsigned)w < SK_SEG_WHY_COUNT && names[w] ? names[w] : "unknown";
}

const char *sk_tcp_flags_str(uint8_t flags, char *buf, size_t size)
{
    static const char *const names[8] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"};
    /* Print in the order people say them: SYN, FIN, RST, PSH, ACK, URG, ECE, CWR. */
    static const int order[8] = {1, 0, 2, 3, 4, 5, 6, 7};
    size_t off = 0;
    if (size == 0)
        return buf;
    buf[0] = '\0';
    for (int i = 0; i < 8; i++) {
        int b = order[i];
        if (!(flags & (1u << b)))
            continue;
        int n = snprintf(buf + off, size - off, "%s%s", off ? "|" : "", names[b]);
        if (n < 0 || (size_t)n >= size - off)
            break;
        off += (size_t)n;
    }
    if (off == 0)
        snprintf(buf, size, "none");
    return buf;
}
