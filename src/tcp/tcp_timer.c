/* TCP timers: retransmission (RFC 6298), persist (RFC 9293 §3.8.6.1), delayed ACK
 * (RFC 9293 §3.8.6.3, RFC 1122 §4.2.3.2), TIME-WAIT's 2*MSL (RFC 9293 §3.10.7.4), and the
 * user timeout (RFC 9293 §3.8.3, RFC 5482).
 *
 * Each TCB keeps one deadline per timer; the stack's heap orders TCBs by their earliest one.
 */
#include "tcp/tcp_int.h"

/* Linux's TCP_RESOURCE_PROBE_INTERVAL: the retry after the link refused a segment. */
#define RESOURCE_PROBE_US 500000u

void sk_tcp_timer_set(struct sk_tcp *c, enum sk_timer_kind k, uint64_t delay_us)
{
    /* sk_config.rto_slop_us: on every RTO but the initial one. */
    if (k == SK_TIMER_RETRANSMIT && (c->retries > 0 || c->srtt_us != 0))
        delay_us += c->st->cfg.rto_slop_us;
    c->timer[k] = c->st->now + delay_us;
    sk_timer_update(c);
}

void sk_tcp_timer_stop(struct sk_tcp *c, enum sk_timer_kind k)
{
    if (c->timer[k] == SK_TIME_NEVER)
        return;
    c->timer[k] = SK_TIME_NEVER;
    sk_timer_update(c);
}

static uint32_t clamp_rto(const struct sk_tcp *c, uint64_t rto)
{
    const struct sk_config *cfg = &c->st->cfg;
    if (rto < cfg->rto_min_us)
        rto = cfg->rto_min_us;
    if (rto > cfg->rto_max_us)
        rto = cfg->rto_max_us;
    return (uint32_t)rto;
}

/* RFC 6298 §2.2-2.3, alpha = 1/8, beta = 1/4, K = 4, clock granularity G = 1 ms. */
void sk_tcp_rtt_sample(struct sk_tcp *c, uint32_t rtt_us)
{
    static const uint32_t granularity_us = 1000;
    if (rtt_us == 0)
        rtt_us = 1;
    if (c->srtt_us == 0) {
        c->srtt_us = rtt_us;
        c->rttvar_us = rtt_us / 2;
    } else {
        uint32_t delta = c->srtt_us > rtt_us ? c->srtt_us - rtt_us : rtt_us - c->srtt_us;
        c->rttvar_us = c->rttvar_us - c->rttvar_us / 4 + delta / 4;
        c->srtt_us = c->srtt_us - c->srtt_us / 8 + rtt_us / 8;
    }
    sk_rack_rtt_sample(c, rtt_us); /* RFC 8985 §6.2 step 1 */
    uint64_t var = 4ull * c->rttvar_us;
    /* sk_config.rto_min_on_variance: Linux's floor is on the variance term (tcp_rtt_estimator
     * keeps rttvar_us at least tcp_rto_min, tcp_set_rto adds it to SRTT). */
    uint64_t floor = c->st->cfg.rto_min_on_variance ? c->st->cfg.rto_min_us : granularity_us;
    c->rto_us = clamp_rto(c, (uint64_t)c->srtt_us + (var > floor ? var : floor));
}

/* Retransmissions allowed in the current state before the connection gives up. */
static uint8_t retry_limit(const struct sk_tcp *c)
{
    const struct sk_config *cfg = &c->st->cfg;
    if (c->state == SK_TCP_SYN_SENT)
        return c->syn_retries ? c->syn_retries : cfg->syn_retries;
    if ((c->flags & TF_PASSIVE) && c->state == SK_TCP_SYN_RECEIVED)
        return cfg->synack_retries;
    return cfg->data_retries;
}

void sk_tcp_resend_synack(struct sk_tcp *c)
{
    if (c->retries >= retry_limit(c)) {
        /* No retry left: stay silent and let the running timer end it. Answering here let a
         * stream of such segments draw one SYN,ACK each, beyond synack_retries. */
        c->flags &= ~TF_ACK_NOW;
        return;
    }
    c->retries++;
    c->rto_us = clamp_rto(c, 2ull * c->rto_us);
    sk_tcp_count_retransmit(c);
    sk_tcp_retransmit(c);
}

/* RFC 6298 §5.4-5.6: retransmit the earliest unacknowledged segment, back the timer off.
 * RFC 5681 §3.1 (4): after a timeout cwnd is one segment, ssthresh half the flight. */
static void on_retransmit_timeout(struct sk_tcp *c)
{
    bool syn_phase = c->state == SK_TCP_SYN_SENT || c->state == SK_TCP_SYN_RECEIVED;
    uint8_t limit = retry_limit(c);
    if (c->snd_una == c->snd_max)
        return; /* everything was acknowledged meanwhile */
    if (!syn_phase && c->snd_wnd == 0) {
        /* Nothing is lost: the peer's window is shut. Probe it instead (RFC 9293 §3.8.6.1),
         * without spending retries: a peer that answers probes is alive. */
        sk_tcp_timer_set(c, SK_TIMER_PERSIST, c->rto_us);
        return;
    }
    /* With a user timeout, data and FIN retransmissions go on until its timer ends the
     * connection (SK_TIMER_USER_TIMEOUT), however many that takes: Linux's tcp_write_timeout
     * asks retransmits_timed_out with icsk_user_timeout in place of the retry limit. A
     * handshake keeps its retry limit as well (there Linux checks both). */
    bool user_decides = c->user_timeout_us != 0 && !syn_phase;
    if (c->retries >= limit && !user_decides) {
        sk_tcp_terminate(c, -ETIMEDOUT);
        return;
    }
    uint8_t retries_before = c->retries;
    uint32_t rto_before = c->rto_us;
    if (c->retries < UINT8_MAX)
        c->retries++;
    c->rto_us = clamp_rto(c, 2ull * c->rto_us);
    if (!syn_phase) {
        sk_plpmtu_on_rto(c); /* RFC 4821 §7.7: a black hole lowers the MSS first */
        sk_tcp_on_timeout_recovery(c);
    }
    sk_tcp_count_retransmit(c);
    uint64_t refused = c->st->ctr.tcp_tx_refused;
    sk_tcp_retransmit(c);
    if (!syn_phase && c->st->ctr.tcp_tx_refused != refused && c->state != SK_TCP_CLOSED) {
        /* The link refused the retransmission (sk_stack_output_refused): nothing went, so
         * no backoff and no retry spent; again in 500 ms (Linux's tcp_retransmit_timer, "let
         * senders fight for local resources conservatively"). */
        c->st->ctr.tcp_retransmits--;
        c->total_retransmits--;
        c->retries = retries_before;
        c->rto_us = rto_before;
        sk_tcp_timer_set(c, SK_TIMER_RETRANSMIT, RESOURCE_PROBE_US);
    }
}

/* The link refused what the persist timer tried to send (sk_stack_output_refused): Linux's
 * tcp_send_probe0 after a local drop counts a probe and tries again in 500 ms without backing
 * off; the user timeout runs from the first such probe (icsk_probes_tstamp). */
static void refused_retry(struct sk_tcp *c)
{
    c->tx_blocked = true;
    c->probes_out++;
    if (c->user_timeout_us && !sk_tcp_timer_on(c, SK_TIMER_USER_TIMEOUT))
        sk_tcp_timer_set(c, SK_TIMER_USER_TIMEOUT, c->user_timeout_us);
    sk_tcp_timer_set(c, SK_TIMER_PERSIST, RESOURCE_PROBE_US);
}

/* The probe of a zero window: the first unacknowledged byte (or the FIN). With
 * sk_config.window_probe_empty and nothing in flight, a segment without data from SND.UNA - 1
 * instead, which draws an ACK with the window but leaves no byte behind the window (Linux's
 * tcp_write_wakeup, tcp_xmit_probe_skb(sk, 0)). False if nothing went. */
static bool send_window_probe(struct sk_tcp *c)
{
    if (c->st->cfg.window_probe_empty && c->snd_una == c->snd_max) {
        sk_tcp_send_ctl(c, c->snd_una - 1, c->rcv_nxt, SK_TCP_ACK);
        return true;
    }
    uint32_t used = sk_tcp_send_at(c, c->snd_una, 1);
    if (used == 0)
        return false;
    c->flags |= TF_PROBING;
    if (seq_lt(c->snd_nxt, c->snd_una + used))
        c->snd_nxt = c->snd_una + used;
    return true;
}

/* RFC 9293 §3.8.6.1: probe a zero window with one byte, backing off like the RTO. */
static void on_persist(struct sk_tcp *c)
{
    uint64_t refused = c->st->ctr.tcp_tx_refused;
    if (c->tx_blocked) {
        /* Retrying after the link refused our data: the user timeout, then the probe count,
         * end it before another try (Linux's tcp_probe_timer). */
        if (sk_tcp_timer_on(c, SK_TIMER_USER_TIMEOUT) &&
            c->timer[SK_TIMER_USER_TIMEOUT] <= c->st->now) {
            sk_tcp_terminate(c, -ETIMEDOUT);
            return;
        }
        if (c->probes_out >= c->st->cfg.data_retries) {
            c->st->ctr.tcp_probe_timeouts++;
            sk_tcp_terminate(c, -ETIMEDOUT);
            return;
        }
    }
    if (c->snd_wnd != 0) {
        /* A window too small to be worth a segment and nothing in flight: send what fits
         * (RFC 9293 §3.8.6.2.1 override timeout). */
        if (c->snd_una != c->snd_max || !seq_lt(c->snd_nxt, c->sndbuf_seq + c->snd.len))
            return;
        c->persist_shift = 0;
        c->st->seg_cause = SK_SEG_WHY_UNKNOWN; /* new data, not a probe */
        /* Also a corked tail's way out, with PSH (Linux's tcp_write_wakeup sets it). */
        c->flags &= ~TF_NOPUSH;
        c->snd_nxt += sk_tcp_send_at(c, c->snd_nxt, c->snd_wnd);
        if (c->st->ctr.tcp_tx_refused != refused)
            refused_retry(c);
        return;
    }
    /* A zero window: the probe is the first unacknowledged byte (or the FIN), sent again each
     * time with backoff for as long as the peer keeps answering (RFC 9293 §3.8.6.1). A peer
     * that answers nothing is gone: after as many unanswered probes as data retransmissions
     * would be allowed (RFC 1122 §4.2.2.17 leaves the count to us) the connection ends.
     * Without this a peer that vanished behind a zero window held the connection for ever. The
     * user timeout, if set, runs from the first probe and is not restarted by answers: a window
     * shut that long ends the connection too (Linux's tcp_probe_timer, icsk_probes_tstamp). */
    if (c->probes_out >= c->st->cfg.data_retries) {
        c->st->ctr.tcp_probe_timeouts++;
        sk_tcp_terminate(c, -ETIMEDOUT);
        return;
    }
    /* An ACK we owe goes on its own first: the probe byte lies beyond the peer's window, and a
     * receiver may drop such a segment whole, the acknowledgment in it included (Linux does
     * when its receive queue is not empty), and then retransmit data we already hold. */
    if (c->flags & (TF_ACK_NOW | TF_ACK_DELAYED))
        sk_tcp_send_ack(c);
    bool probed = send_window_probe(c);
    if (c->st->ctr.tcp_tx_refused != refused) {
        refused_retry(c);
        return;
    }
    if (!probed)
        return;
    c->probes_out++;
    sk_tcp_timer_stop(c, SK_TIMER_RETRANSMIT);
    if (c->persist_shift < 16)
        c->persist_shift++;
    sk_tcp_timer_set(c, SK_TIMER_PERSIST, clamp_rto(c, (uint64_t)c->rto_us << c->persist_shift));
}

static bool keepalive_state(const struct sk_tcp *c)
{
    return c->state == SK_TCP_ESTABLISHED || c->state == SK_TCP_CLOSE_WAIT ||
           c->state == SK_TCP_FIN_WAIT_2;
}

void sk_tcp_keepalive_arm(struct sk_tcp *c)
{
    if (!c->keepalive || !keepalive_state(c)) {
        sk_tcp_timer_stop(c, SK_TIMER_KEEPALIVE);
        return;
    }
    sk_time_us due = c->last_rcv + c->ka_idle_us +
                     (uint64_t)c->ka_probes * c->ka_intvl_us;
    c->timer[SK_TIMER_KEEPALIVE] = due > c->st->now ? due : c->st->now;
    sk_timer_update(c);
}

/* RFC 9293 §3.8.4, RFC 1122 §4.2.3.6: an idle connection is probed with <SEQ=SND.UNA-1>,
 * which the peer must answer with an ACK; keepalive_cnt probes unanswered end it. */
static void on_keepalive(struct sk_tcp *c)
{
    if (!c->keepalive || !keepalive_state(c))
        return;
    sk_time_us idle_end = c->last_rcv + c->ka_idle_us;
    if (c->st->now < idle_end) {
        c->ka_probes = 0;
        sk_tcp_keepalive_arm(c);
        return;
    }
    /* With a user timeout it, not keepalive_cnt, decides: the connection ends at the first
     * probe time at least that long after the last segment received, once one probe has gone
     * unanswered (Linux's tcp_keepalive_timer). */
    bool give_up = c->user_timeout_us
                       ? c->ka_probes > 0 && c->st->now - c->last_rcv >= c->user_timeout_us
                       : c->ka_probes >= c->ka_cnt;
    if (give_up) {
        sk_tcp_terminate(c, -ETIMEDOUT);
        return;
    }
    c->ka_probes++;
    sk_tcp_send_ctl(c, c->snd_una - 1, c->rcv_nxt, SK_TCP_ACK);
    sk_tcp_keepalive_arm(c);
}

static void timer_run(struct sk_tcp *c, enum sk_timer_kind k);

void sk_tcp_timer_fire(struct sk_tcp *c, enum sk_timer_kind k)
{
    if (k == TCB_TIMER_RELEASE) { /* bookkeeping, not a TCP timer: not traced */
        sk_tcb_release_rings(c);
        return;
    }
    struct sk_trace_event ev = {.kind = SK_TRACE_TIMER, .conn = c, .conn_id = c->conn_id};
    ev.u.timer.timer = k;
    sk_trace_emit(c->st, &ev);
    static const enum sk_seg_why cause_of[SK_TIMER_COUNT] = {
        [SK_TIMER_RETRANSMIT] = SK_SEG_WHY_RTO, [SK_TIMER_PERSIST] = SK_SEG_WHY_WINDOW_PROBE,
        [SK_TIMER_DELACK] = SK_SEG_WHY_DELAYED_ACK, [SK_TIMER_KEEPALIVE] = SK_SEG_WHY_KEEPALIVE,
        [SK_TIMER_TLP] = SK_SEG_WHY_TLP, [SK_TIMER_RACK] = SK_SEG_WHY_RECOVERY,
    };
    struct sk_stack *st = c->st; /* c may be freed by the handler */
    enum sk_seg_why cause = sk_tcp_cause(st, (unsigned)k < SK_TIMER_COUNT ? cause_of[k] : 0);
    timer_run(c, k);
    st->seg_cause = cause;
}

static void timer_run(struct sk_tcp *c, enum sk_timer_kind k)
{
    switch (k) {
    case SK_TIMER_RETRANSMIT:
        on_retransmit_timeout(c);
        break;
    case SK_TIMER_PERSIST:
        on_persist(c);
        break;
    case SK_TIMER_DELACK:
        if (c->flags & TF_ACK_DELAYED) {
            sk_tcp_delack_fired(c);
            sk_tcp_send_ack(c);
        }
        break;
    case SK_TIMER_KEEPALIVE:
        on_keepalive(c);
        break;
    case SK_TIMER_TIME_WAIT:
        /* TIME-WAIT's 2*MSL ran out, or an orphaned FIN-WAIT-2 waited as long (a peer that never
         * sends its FIN must not hold the TCB forever, RFC 9293 §3.10.7.4 leaves this open). */
        sk_tcp_terminate(c, c->state == SK_TCP_TIME_WAIT ? 0 : -ETIMEDOUT);
        break;
    case SK_TIMER_USER_TIMEOUT:
        /* RFC 9293 §3.8.3: data unacknowledged for the user timeout ends the connection, or
         * data the link kept refusing (sk_stack_output_refused). */
        if (c->snd_una != c->snd_max || c->tx_blocked)
            sk_tcp_terminate(c, -ETIMEDOUT);
        break;
    case SK_TIMER_TLP:
        sk_tcp_tlp_fire(c);
        break;
    case SK_TIMER_RACK:
        sk_tcp_rack_timeout(c);
        break;
    case SK_TIMER_PACE:
        sk_tcp_send_due(c);
        break;
    case SK_TIMER_COUNT:
        break;
    }
}
