/* Conformance profiles: other stacks' visible defaults, set through ordinary sk_config fields
 * (and the adapter's socket-layer flags) by `profile=NAME` in --so_flags. The project's own
 * defaults stay RFC 9293's; a profile only makes a suite's expectations reachable. */
#include "adapter_int.h"

/* FreeBSD's visible defaults (sys/netinet: tcp_timer.h, tcp_var.h, tcp_subr.c, 14.x). */
void pd_profile_freebsd(struct pd *pd)
{
    struct sk_config *c = &pd->cfg;
    c->syn_opt_layout = SK_SYN_OPTS_FREEBSD; /* mss, nop, wscale, sackOK, TS */
    c->wscale = 6;                /* smallest shift that covers sb_max (2 MB) */
    c->rcvbuf_bytes = 65536;      /* net.inet.tcp.recvspace */
    c->sndbuf_bytes = 32768;      /* net.inet.tcp.sendspace */
    c->rcv_wnd_max = 65535;
    c->delack_us = 40000;         /* TCPTV_DELACK, hz/25: 40 ms (the suite waits 0.04 s) */
    c->rto_initial_us = 1000000;  /* TCPTV_RTOBASE: 1 s */
    c->rto_min_us = 30000;        /* TCPTV_MIN (net.inet.tcp.rexmit_min): 30 ms */
    c->rto_max_us = 64000000;     /* TCPTV_REXMTMAX: 64 s */
    c->msl_us = 30000000;         /* net.inet.tcp.msl: 30 s, TIME-WAIT 60 s */
    c->syn_retries = 10;           /* SYNs until TCP_MAXRXTSHIFT ends the handshake (snd-syn-rtx-max-number) */
    c->data_retries = 12;         /* TCP_MAXRXTSHIFT */
    c->rcvbuf_round_to_mss = true; /* tcp_mss(): 65536 becomes 65700 for an MSS of 1460 */
    c->ack_repeats_fin = true;     /* tcp_output: ACKs repeat an unacknowledged FIN */
    c->rto_slop_us = 200000;       /* tcp_rexmit_slop: 200 ms on every computed RTO */
    c->bsd_receive_window = true;  /* tcp_output: free space as it is, 0 when small */
    c->syn_rtx_plain_after = 3;    /* tcp_timer_rexmt: no options from the 3rd SYN retry */
    c->bsd_time_wait = true;       /* tcp_twcheck's answers in TIME-WAIT */
    c->icmp_admin_refused = true;  /* inetctlerrmap: PRC_UNREACH_ADMIN_PROHIB → ECONNREFUSED */
    c->tlp = false;                /* the default FreeBSD stack has no tail loss probe */
    pd->freebsd_sockbuf = true;
    pd->linux_sockbuf = false;
}

/* Linux's visible defaults (net/ipv4/tcp*.c, include/net/tcp.h, v6.x). */
void pd_profile_linux(struct pd *pd)
{
    struct sk_config *c = &pd->cfg;
    c->syn_opt_layout = SK_SYN_OPTS_LINUX; /* tcp_options_write: mss, sackOK, TS, nop, wscale */
    c->wscale = 8;                /* tcp_select_initial_window: ilog2(tcp_rmem[2]) - 15 */
    c->rto_initial_us = 1000000;  /* TCP_TIMEOUT_INIT: 1 s */
    c->rto_min_us = 200000;       /* TCP_RTO_MIN: 200 ms */
    c->rto_max_us = 120000000;    /* TCP_RTO_MAX: 120 s */
    c->msl_us = 30000000;         /* TCP_TIMEWAIT_LEN: TIME-WAIT 60 s */
    c->delack_us = 40000;         /* TCP_DELACK_MIN (TCP_ATO_MIN): 40 ms */
    c->syn_retries = 5;           /* tcp_syn_retries as the suite's defaults.sh sets it */
    c->synack_retries = 5;        /* tcp_synack_retries */
    c->data_retries = 15;         /* tcp_retries2 */
    c->ecn = 0;                   /* tcp_ecn=0 in defaults.sh */
    /* Behaviour other stacks show (stack.h, that section): */
    c->quickack_max = 16;         /* TCP_MAX_QUICKACKS, tcp_incr_quickack */
    c->delack_max_us = 200000;    /* TCP_DELACK_MAX; the ATO starts at TCP_ATO_MIN */
    c->rto_min_on_variance = true; /* tcp_rtt_estimator: rttvar_us >= tcp_rto_min */
    c->fin_wait2_timeout_us = 60000000; /* TCP_FIN_TIMEOUT, net.ipv4.tcp_fin_timeout */
    c->ack_unsent_silent = true;  /* tcp_ack: SKB_DROP_REASON_TCP_ACK_UNSENT_DATA */
    c->rst_ack_on_abort = true;   /* tcp_send_active_reset: TCPHDR_ACK | TCPHDR_RST */
    c->nagle_minshall = true;     /* tcp_nagle_check, tcp_minshall_check */
    c->caps.rx_large = true;      /* tun takes datagrams over its MTU (scripts inject 2 MSS) */
    c->caps.tso_max = 65535;      /* packetdrill's tun: TUN_F_TSO4/6 (an IP datagram's most) */
    c->caps.tx_csum = true;       /* TUN_F_CSUM (TSO needs checksum offload) */
    c->psh_tso = true;            /* __tcp_transmit_skb: PSH on every GSO packet */
    c->forced_push = true;        /* tcp_sendmsg: skbs of size_goal, forced_push */
    c->tso_rtx = true;            /* __tcp_retransmit_skb: the skb as one GSO packet */
    c->tso_autosize = true;       /* tcp_tso_autosize, tcp_min_tso_segs = 2 */
    c->syn_mss_path = true;       /* tcp_advertise_mss: advmss clamped to the route's */
    c->synack_tsecr_check = true; /* tcp_rcv_synsent_state_process: PAWSACTIVEREJECTED */
    c->icmp_abort_handshake = true; /* tcp_v4_err/tcp_v6_err, tcp_req_err: RFC 5461 §4 */
    c->rtt_every_ack = true;      /* tcp_clean_rtx_queue: seq_rtt_us from every ACK */
    c->window_probe_empty = true; /* tcp_write_wakeup: tcp_xmit_probe_skb, SND.UNA - 1 */
    pd->linux_sockbuf = true;     /* sock_setsockopt: SO_RCVBUF/SO_SNDBUF store twice the value */
    c->sndbuf_chunks = true;      /* tcp_sendmsg_locked's skbs, sk_stream_is_writeable */
    /* congestion control (cc helper) */
    c->congestion_control = "cubic";        /* net.ipv4.tcp_congestion_control */
    c->ss_abc_limit = 0;                    /* tcp_cong.c tcp_slow_start: cwnd += acked */
    c->cwnd_validation = SK_CWV_LINUX;      /* tcp_is_cwnd_limited, tcp_cwnd_validate */
    c->hystart = SK_HYSTART_LINUX;          /* tcp_cubic.c hystart=1, hystart_detect=3 */
    c->cubic_linux = true;                  /* tcp_cubic.c bictcp_update's arithmetic */
    c->slow_start_after_idle = false;       /* 1 in Linux, 0 in the suite's defaults.sh */
    c->grow_by_delivered = true;            /* tcp_ack: acked_sacked to tcp_cong_control */
    /* Loss detection and recovery: RACK-TLP and PRR are the defaults already (tcp_recovery
     * sysctl = RACK, tcp_cwnd_reduction); PRR with Linux's RecoverFS and safe-ACK rule. */
    c->prr_linux = true;
    c->rack_timer_slop_us = 2000; /* TCP_TIMEOUT_MIN: 2 jiffies at HZ=1000 */
}
