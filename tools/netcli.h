/* synack CLI: what `serve` and `connect` share: the options that put a stack on a TAP device
 * (--tap, --addr, --gateway, --mac, --pcap, --stats and the fault options of `sim`), setting
 * up the device, the event loop and the stack, and the signals (SIGINT/SIGTERM stop, SIGUSR1
 * prints the counters).
 */
#ifndef SYNACK_TOOLS_NETCLI_H
#define SYNACK_TOOLS_NETCLI_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "args.h"
#include "i18n.h"
#include "synack/synack.h"

enum {
    NET_OPT_TAP = 1000, NET_OPT_ADDR, NET_OPT_GATEWAY, NET_OPT_MAC, NET_OPT_PCAP, NET_OPT_STATS,
    NET_OPT_LOSS, NET_OPT_DUP, NET_OPT_REORDER, NET_OPT_CORRUPT, NET_OPT_DELAY, NET_OPT_RATE,
    NET_OPT_SEED, NET_OPT_OFFLOAD, NET_OPT_ADDR6, NET_OPT_HTML, NET_OPT_LANG,
};

#define NET_LONGOPTS                                                                         \
    {"tap", required_argument, NULL, NET_OPT_TAP},                                           \
        {"addr", required_argument, NULL, NET_OPT_ADDR},                                     \
        {"gateway", required_argument, NULL, NET_OPT_GATEWAY},                               \
        {"mac", required_argument, NULL, NET_OPT_MAC},                                       \
        {"pcap", required_argument, NULL, NET_OPT_PCAP},                                     \
        {"stats", no_argument, NULL, NET_OPT_STATS},                                         \
        {"loss", required_argument, NULL, NET_OPT_LOSS},                                     \
        {"dup", required_argument, NULL, NET_OPT_DUP},                                       \
        {"reorder", required_argument, NULL, NET_OPT_REORDER},                               \
        {"corrupt", required_argument, NULL, NET_OPT_CORRUPT},                               \
        {"delay", required_argument, NULL, NET_OPT_DELAY},                                   \
        {"rate", required_argument, NULL, NET_OPT_RATE},                                     \
        {"seed", required_argument, NULL, NET_OPT_SEED},                                     \
        {"offload", required_argument, NULL, NET_OPT_OFFLOAD},                               \
        {"addr6", required_argument, NULL, NET_OPT_ADDR6},                                   \
        {"html", required_argument, NULL, NET_OPT_HTML},                                     \
        {"lang", required_argument, NULL, NET_OPT_LANG}

/* Help text for the shared options. */
#define NET_OPTIONS_HELP                                                                     \
    "  --tap IFNAME         the TAP interface (attached if it exists, else created)\n"      \
    "  --addr A.B.C.D/LEN   synack's address and the connected network's prefix length;\n" \
    "                       once per family: --addr ADDR6/LEN as --addr6\n"                  \
    "  --gateway A.B.C.D    default gateway (default: none, only the connected network)\n"  \
    "  --addr6 ADDR6/LEN    turns IPv6 on: this static address and its on-link prefix, a\n"  \
    "                       link-local address, router advertisements (SLAAC)\n"          \
    "  --mac MAC            synack's Ethernet address (default: random, locally administered)\n" \
    "  --pcap FILE          capture every frame as its sender sent it, before the faults\n" \
    "                       below (so lost frames are in it; Wireshark, tshark)\n"          \
    "  --stats              the stack's counters and limits at exit (SIGUSR1: any time)\n"     \
    "  --html FILE          at exit, the connections as one self-contained HTML page (ladder,\n" \
    "                       time-sequence graph, step-through, cwnd/ssthresh/SRTT/RTO); only\n" \
    "                       the first 1000 connections and 20000 segments of each are kept\n" \
    "  --lang en|zh         the page's language (default: from the locale)\n"                 \
    "  --offload on|off     the virtio-net header: checksum and segmentation offload with the\n" \
    "                       kernel, as far as it grants them (default on)\n"              \
    "\n"                                                                                     \
    "faults on the wire (both directions, seeded, as in `synack sim`):\n"                    \
    "  --loss P  --dup P  --reorder P  --corrupt P   probabilities (0.01 or 1%%)\n"           \
    "  --delay MS  --rate MBIT                       one-way delay (the RTT grows by 2 x MS)\n" \
    "                                                and a rate limit, each direction\n"    \
    "  --seed N                                      the fault schedule's seed (default 1)\n"

struct net_opts {
    const char *tap;
    bool have_addr, have_mac, stats;
    uint32_t addr, gateway;
    uint8_t prefix_len;
    bool have_addr6;  /* --addr6: IPv6 on, with this static address */
    struct sk_ip6_prefix addr6;
    uint8_t mac[6];
    const char *pcap;
    double loss;
    struct args_link link; /* the other faults, as `sim` takes them */
    uint64_t seed;
    bool offload;     /* --offload (default on) */
    unsigned threads; /* serve --threads: queues of a multi-queue TAP, one stack each */
    const char *html; /* --html FILE: the run as a page (html.h) */
    enum lang lang;   /* --lang */
};

struct net_env {
    struct sk_tap *tap;
    struct sk_loop *loop;
    struct sk_stack *st;
    struct sk_pcap *pcap;
    sk_time_us started; /* when net_setup ran: the counters' dump says the time since */
    bool faults;        /* the fault options put a fault link between TAP and stack */
    bool own_pcap;      /* env->pcap is this env's to close */
};

/* A further queue of env0's multi-queue TAP with its own loop and stack, from cfg as
 * net_setup left it (the fault schedule's seed is o->seed + index); the pcap is env0's. Its
 * loop is woken by the signals too. 0 or 1 (printed). */
int net_setup_queue(const char *cmd, const struct net_opts *o, struct sk_config *cfg,
                    const struct net_env *env0, unsigned index, struct net_env *env);
/* Formats env's counters as "name value" lines (the stack's counters and limits, the loop's
 * tap.* and faults.*) into buf (snprintf rules). */
int net_format_stats(const struct net_env *env, char *buf, size_t size);
/* Prints the counter texts of n stacks (net_format_stats) as one block, as net_print_stats:
 * for n > 1, first the "name value" lines summed over the stacks, then each stack's lines
 * with the prefix "tI." (I its index). */
void net_print_stats_texts(FILE *out, sk_time_us started, char *const *texts, unsigned n);

/* Signals: set by the handlers, read by the loops. */
extern volatile sig_atomic_t net_stop_signal, net_dump_request;

void net_opts_init(struct net_opts *o);
/* Handles a shared option (ch); returns true if ch was one, with *why set on a bad value. */
bool net_opt(struct net_opts *o, int ch, const char *arg, const char **why);
/* "10.0.0.1:80" or "[2001:db8::1]:80" (RFC 3986 §3.2.2 brackets; an IPv6 address needs them)
 * into an address of either family (IPv4 IPv4-mapped) and a port; NULL or a reason. */
const char *net_parse_endpoint(const char *text, struct sk_addr *addr, uint16_t *port);
/* "10.0.0.1:80" or "[2001:db8::1]:80" (RFC 5952 §6). */
void net_endpoint_str(const struct sk_addr *a, uint16_t port, char *buf, size_t size);
/* "10.0.0.1" as text (static buffer per call site is the caller's). */
void net_addr_str(uint32_t a, char *buf, size_t size);
/* Checks --tap/--addr, opens the TAP, the loop, the pcap and the stack from cfg (link,
 * addresses and output are filled in here), installs the signal handlers and announces the
 * address (gratuitous ARP). Prints what failed, prefixed by cmd; returns 0, 1 or EXIT_USAGE. */
int net_setup(const char *cmd, const struct net_opts *o, struct sk_config *cfg,
              struct net_env *env);
void net_teardown(const char *cmd, struct net_env *env);
/* Prints the counters (the stack's, the loop's, the fault link's) to out as one block
 * between "--- synack counters at T s ---" and "--- end of counters ---". */
void net_print_stats(FILE *out, const struct net_env *env);

struct run_model;
/* --html: a recorder of cfg's stack (its trace goes to it), or NULL without --html or when
 * out of memory (said). Call before net_setup; cmd is "serve" or "connect". */
struct run_model *net_html_begin(const char *cmd, const struct net_opts *o,
                                 struct sk_config *cfg);
/* Writes the page (after net_teardown: nothing is recorded any more) and frees m. 0, or 1
 * with a message. */
int net_html_end(const char *cmd, const struct net_opts *o, struct run_model *m);

#endif
