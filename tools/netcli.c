/* synack CLI: the TAP set-up shared by `serve` and `connect` (see netcli.h). */
#include "netcli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "html.h"
#include "run_model.h"

volatile sig_atomic_t net_stop_signal, net_dump_request;
/* The loops the signal handlers wake (serve --threads: one per thread). */
#define NET_MAX_LOOPS 64
static struct sk_loop *signal_loops[NET_MAX_LOOPS];


void net_opts_init(struct net_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->seed = 1;
    o->offload = true;
    o->threads = 1;
    o->lang = i18n_from_env();
}

static const char *parse_ipv4(const char *text, uint32_t *out)
{
    struct in_addr a;
    if (inet_pton(AF_INET, text, &a) != 1)
        return "is not an IPv4 address (A.B.C.D)";
    *out = ntohl(a.s_addr);
    return NULL;
}

static const char *parse_cidr(const char *text, uint32_t *addr, uint8_t *len)
{
    char buf[64];
    const char *slash = strchr(text, '/');
    if (slash == NULL || (size_t)(slash - text) >= sizeof(buf))
        return "is not ADDRESS/PREFIX (for example 10.77.0.2/24)";
    memcpy(buf, text, (size_t)(slash - text));
    buf[slash - text] = '\0';
    if (parse_ipv4(buf, addr))
        return "is not ADDRESS/PREFIX (for example 10.77.0.2/24)";
    uint64_t p;
    if (args_u64(slash + 1, 0, 32, &p))
        return "has a prefix length that is not 0..32";
    *len = (uint8_t)p;
    return NULL;
}

static const char *parse_cidr6(const char *text, struct sk_ip6_prefix *out)
{
    char buf[64];
    const char *slash = strchr(text, '/');
    struct sk_addr a;
    if (slash == NULL || (size_t)(slash - text) >= sizeof(buf))
        return "is not ADDRESS/PREFIX (for example fd00:77::2/64)";
    memcpy(buf, text, (size_t)(slash - text));
    buf[slash - text] = '\0';
    if (sk_addr_parse(buf, &a) != 0 || sk_addr_is_v4(&a) || sk_addr_is_multicast6(&a))
        return "is not an IPv6 unicast ADDRESS/PREFIX (for example fd00:77::2/64)";
    uint64_t p;
    if (args_u64(slash + 1, 1, 128, &p))
        return "has a prefix length that is not 1..128";
    memcpy(out->addr, a.b, 16);
    out->prefix_len = (uint8_t)p;
    return NULL;
}

static const char *parse_mac(const char *text, uint8_t mac[6])
{
    unsigned v[6];
    char end;
    if (sscanf(text, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &end) != 6)
        return "is not a MAC address (xx:xx:xx:xx:xx:xx)";
    for (int i = 0; i < 6; i++) {
        if (v[i] > 255)
            return "is not a MAC address (xx:xx:xx:xx:xx:xx)";
        mac[i] = (uint8_t)v[i];
    }
    if (mac[0] & 1)
        return "is a group (multicast) address";
    return NULL;
}

bool net_opt(struct net_opts *o, int ch, const char *arg, const char **why)
{
    *why = NULL;
    switch (ch) {
    case NET_OPT_TAP:
        if (!*arg || strlen(arg) > 15)
            *why = "must be 1 to 15 characters";
        o->tap = arg;
        return true;
    case NET_OPT_ADDR:
        /* Once per family: an IPv6 prefix (it has a colon) is --addr6's. */
        if (strchr(arg, ':') != NULL)
            return net_opt(o, NET_OPT_ADDR6, arg, why);
        if (o->have_addr) {
            *why = "is a second IPv4 address (--addr takes one per family)";
            return true;
        }
        *why = parse_cidr(arg, &o->addr, &o->prefix_len);
        o->have_addr = *why == NULL;
        return true;
    case NET_OPT_GATEWAY: *why = parse_ipv4(arg, &o->gateway); return true;
    case NET_OPT_ADDR6:
        if (o->have_addr6) {
            *why = "is a second IPv6 address (--addr takes one per family)";
            return true;
        }
        *why = parse_cidr6(arg, &o->addr6);
        o->have_addr6 = *why == NULL;
        return true;
    case NET_OPT_MAC:
        *why = parse_mac(arg, o->mac);
        o->have_mac = *why == NULL;
        return true;
    case NET_OPT_PCAP:
        if (!*arg)
            *why = "is empty";
        o->pcap = arg;
        return true;
    case NET_OPT_STATS: o->stats = true; return true;
    case NET_OPT_HTML:
        if (!*arg)
            *why = "is empty";
        o->html = arg;
        return true;
    case NET_OPT_LANG:
        if (i18n_parse(arg, &o->lang) != 0)
            *why = "is not en or zh";
        return true;
    case NET_OPT_LOSS: *why = args_probability(arg, &o->loss); return true;
    case NET_OPT_DUP: *why = args_probability(arg, &o->link.dup); return true;
    case NET_OPT_REORDER: *why = args_probability(arg, &o->link.reorder); return true;
    case NET_OPT_CORRUPT: *why = args_probability(arg, &o->link.corrupt); return true;
    case NET_OPT_DELAY: *why = args_double(arg, 0, 60000, &o->link.delay_ms); return true;
    case NET_OPT_RATE: *why = args_double(arg, 0.001, 1e6, &o->link.rate_mbit); return true;
    case NET_OPT_SEED: *why = args_u64(arg, 0, UINT64_MAX, &o->seed); return true;
    case NET_OPT_OFFLOAD:
        if (strcmp(arg, "on") == 0 || strcmp(arg, "off") == 0)
            o->offload = arg[1] == 'n';
        else
            *why = "must be on or off";
        return true;
    default: return false;
    }
}

const char *net_parse_endpoint(const char *text, struct sk_addr *addr, uint16_t *port)
{
    static const char bad[] = "is not IP:PORT or [IPV6]:PORT (for example 10.77.0.1:7, "
                              "[2001:db8::1]:7)";
    char buf[64];
    const char *colon = strrchr(text, ':');
    const char *start = text, *end = colon;
    if (colon == NULL)
        return bad;
    if (text[0] == '[') { /* RFC 3986 §3.2.2: an IPv6 literal in brackets */
        const char *close = strchr(text, ']');
        if (close == NULL || close + 1 != colon)
            return bad;
        start = text + 1;
        end = close;
    }
    if ((size_t)(end - start) >= sizeof(buf))
        return bad;
    memcpy(buf, start, (size_t)(end - start));
    buf[end - start] = '\0';
    uint64_t p;
    if (sk_addr_parse(buf, addr) != 0 || args_u64(colon + 1, 1, 65535, &p))
        return bad;
    /* Without brackets only IPv4 (the last colon of an IPv6 literal is ambiguous). */
    if (text[0] != '[' && !sk_addr_is_v4(addr))
        return bad;
    *port = (uint16_t)p;
    return NULL;
}

void net_addr_str(uint32_t a, char *buf, size_t size)
{
    snprintf(buf, size, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

void net_endpoint_str(const struct sk_addr *a, uint16_t port, char *buf, size_t size)
{
    char t[SK_ADDR_STRLEN];
    sk_addr_format(a, t, sizeof(t));
    snprintf(buf, size, sk_addr_is_v4(a) ? "%s:%u" : "[%s]:%u", t, port);
}

static void wake_all(void)
{
    for (int i = 0; i < NET_MAX_LOOPS; i++)
        if (signal_loops[i])
            sk_loop_wake(signal_loops[i]);
}

static void on_stop(int sig)
{
    (void)sig;
    net_stop_signal = 1;
    wake_all();
}

static void on_dump(int sig)
{
    (void)sig;
    net_dump_request = 1;
    wake_all();
}

static void install_signals(struct sk_loop *l)
{
    signal_loops[0] = l;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_dump;
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static bool faults_on(const struct net_opts *o)
{
    const struct args_link *k = &o->link;
    return o->loss > 0 || k->dup > 0 || k->reorder > 0 || k->corrupt > 0 || k->delay_ms > 0 ||
           k->rate_mbit > 0;
}

/* What the stack takes of the link's receive offloads (both, since the core acts on caps):
 * set one false and the loop completes partial checksums itself (sk_config.caps.rx_csum
 * false), or the kernel is not asked for TSO on receive (rx_large). */
#define STACK_TAKES_RX_CSUM true
#define STACK_TAKES_RX_LARGE true

/* env->tap is open: the loop, its faults, the stack with the TAP's offloads. 0 or 1. */
static int loop_and_stack(const char *cmd, const struct net_opts *o, struct sk_config *cfg,
                          struct net_env *env, uint64_t seed)
{
    int err;
    env->loop = sk_loop_new(env->tap, &err);
    if (!env->loop) {
        fprintf(stderr, "synack %s: cannot set up the event loop: %s\n", cmd, strerror(-err));
        net_teardown(cmd, env);
        return 1;
    }
    if (faults_on(o)) {
        env->faults = true;
        struct sk_memlink_faults f = {0};
        f.loss = o->loss;
        args_link_faults(&o->link, &f);
        if (sk_loop_set_faults(env->loop, &f, &f, seed) != 0) {
            fprintf(stderr, "synack %s: out of memory\n", cmd);
            net_teardown(cmd, env);
            return 1;
        }
    }
    sk_tap_get_caps(env->tap, &cfg->caps);
    cfg->caps.rx_csum = cfg->caps.rx_csum && STACK_TAKES_RX_CSUM;
    cfg->caps.rx_large = cfg->caps.rx_large && STACK_TAKES_RX_LARGE;
    cfg->output = sk_loop_output;
    cfg->tx_buffer = sk_loop_tx_buffer;
    cfg->output_ctx = env->loop;
    env->st = sk_stack_new(cfg, sk_loop_clock(), &err);
    if (!env->st) {
        fprintf(stderr, "synack %s: cannot create the stack: %s\n", cmd, strerror(-err));
        net_teardown(cmd, env);
        return 1;
    }
    sk_loop_set_stack(env->loop, env->st);
    return 0;
}

int net_setup(const char *cmd, const struct net_opts *o, struct sk_config *cfg,
              struct net_env *env)
{
    memset(env, 0, sizeof(*env));
    env->started = sk_loop_clock();
    if (!o->tap) {
        fprintf(stderr, "synack %s: --tap IFNAME is required (see 'synack %s --help')\n", cmd, cmd);
        return EXIT_USAGE;
    }
    if (!o->have_addr) {
        fprintf(stderr, "synack %s: --addr A.B.C.D/PREFIX is required (see 'synack %s --help')\n",
                cmd, cmd);
        return EXIT_USAGE;
    }
    cfg->link_type = SK_LINK_ETHERNET;
    cfg->addr = o->addr;
    cfg->prefix_len = o->prefix_len;
    cfg->gateway = o->gateway;
    if (o->have_addr6) {
        cfg->ip6 = true;
        cfg->addr6[0] = o->addr6;
        cfg->addr6_count = 1;
    }
    if (o->have_mac) {
        memcpy(cfg->mac, o->mac, 6);
    } else {
        /* A random unicast, locally administered address (IEEE 802: bit 1 set, bit 0 clear). */
        if (getrandom(cfg->mac, 6, 0) != 6)
            memcpy(cfg->mac, "\x02\x00\x5e\x10\x00\x02", 6);
        cfg->mac[0] = (uint8_t)((cfg->mac[0] & 0xfc) | 0x02);
    }
    /* A real network: the stack's keys come from the OS, never from a seed (RFC 6528 §3). */
    int kerr = sk_config_secret_from_os(cfg);
    if (kerr != 0) {
        fprintf(stderr, "synack %s: cannot read key material from getrandom: %s\n", cmd,
                strerror(-kerr));
        return 1;
    }

    struct sk_tap_opts topts = {.offload = o->offload, .rx_large = STACK_TAKES_RX_LARGE,
                                .multi_queue = o->threads > 1};
    int err = sk_tap_open_opts(o->tap, &topts, &env->tap);
    if (err) {
        fprintf(stderr, "synack %s: cannot open TAP interface %s: %s%s\n", cmd, o->tap,
                strerror(-err), err == -EPERM ? " (needs root or CAP_NET_ADMIN)" : "");
        return 1;
    }
    if ((err = sk_tap_set_up(env->tap)) != 0)
        fprintf(stderr, "synack %s: warning: cannot bring %s up: %s\n", cmd, o->tap,
                strerror(-err));
    if ((err = loop_and_stack(cmd, o, cfg, env, o->seed)) != 0)
        return err;
    if (o->pcap) {
        env->pcap = sk_pcap_open(o->pcap, SK_LINK_ETHERNET);
        if (!env->pcap) {
            fprintf(stderr, "synack %s: cannot write %s: %s\n", cmd, o->pcap, strerror(errno));
            net_teardown(cmd, env);
            return 1;
        }
        env->own_pcap = true;
        sk_loop_set_pcap(env->loop, env->pcap);
    }
    install_signals(env->loop);
    sk_stack_announce(env->st);
    return 0;
}

int net_setup_queue(const char *cmd, const struct net_opts *o, struct sk_config *cfg,
                    const struct net_env *env0, unsigned index, struct net_env *env)
{
    memset(env, 0, sizeof(*env));
    env->started = env0->started;
    if (index >= NET_MAX_LOOPS) {
        fprintf(stderr, "synack %s: at most %d threads\n", cmd, NET_MAX_LOOPS);
        return 1;
    }
    int err = sk_config_secret_from_os(cfg); /* each stack its own keys */
    if (err == 0)
        err = sk_tap_open_queue(env0->tap, &env->tap);
    if (err) {
        fprintf(stderr, "synack %s: cannot open queue %u of %s: %s\n", cmd, index,
                sk_tap_name(env0->tap), strerror(-err));
        return 1;
    }
    if (loop_and_stack(cmd, o, cfg, env, o->seed + index) != 0)
        return 1;
    env->pcap = env0->pcap;
    if (env->pcap)
        sk_loop_set_pcap(env->loop, env->pcap);
    signal_loops[index] = env->loop;
    return 0;
}

void net_teardown(const char *cmd, struct net_env *env)
{
    for (int i = 0; i < NET_MAX_LOOPS; i++)
        if (signal_loops[i] == env->loop)
            signal_loops[i] = NULL;
    if (env->loop)
        sk_loop_set_stack(env->loop, NULL);
    sk_stack_free(env->st);
    sk_loop_free(env->loop);
    sk_tap_close(env->tap);
    if (env->pcap && env->own_pcap) {
        int e = sk_pcap_close(env->pcap);
        if (e)
            fprintf(stderr, "synack %s: writing the capture failed: %s\n", cmd, strerror(-e));
    }
    memset(env, 0, sizeof(*env));
}

/* snprintf into buf at *at, never past size. */
static void appendf(char *buf, size_t size, size_t *at, const char *fmt, ...)
{
    if (*at >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *at, size - *at, fmt, ap);
    va_end(ap);
    if (n > 0)
        *at = *at + (size_t)n < size ? *at + (size_t)n : size - 1;
}

int net_format_stats(const struct net_env *env, char *buf, size_t size)
{
    if (size == 0)
        return 0;
    buf[0] = '\0';
    size_t at = 0;
    int n = sk_stack_counters_format(env->st, buf, size);
    at = n > 0 ? ((size_t)n < size ? (size_t)n : size - 1) : 0;
    n = sk_stack_limits_format(env->st, buf + at, size - at);
    at = n > 0 ? (at + (size_t)n < size ? at + (size_t)n : size - 1) : at;
    struct sk_loop_stats ls;
    sk_loop_get_stats(env->loop, &ls);
    struct sk_link_caps caps = sk_stack_config(env->st)->caps;
    appendf(buf, size, &at,
            "tap.frames_read %llu\ntap.frames_written %llu\ntap.write_errors %llu\n"
            "tap.polls %llu\ntap.read_calls %llu\ntap.vnet_hdr %zu\n"
            "tap.caps_tso_max %u\ntap.caps_tx_csum %d\ntap.caps_rx_csum %d\ntap.caps_rx_large %d\n",
            (unsigned long long)ls.frames_read, (unsigned long long)ls.frames_written,
            (unsigned long long)ls.write_errors, (unsigned long long)ls.polls,
            (unsigned long long)ls.read_calls, sk_tap_vnet_hdr_len(env->tap),
            (unsigned)caps.tso_max, caps.tx_csum, caps.rx_csum, caps.rx_large);
    const struct { const char *name; uint64_t v; } opt[] = {
        {"tap.csum_completed", ls.csum_completed}, {"tap.gso_dropped", ls.gso_dropped},
        {"tap.oversize_dropped", ls.oversize_dropped},
        {"tap.steered_out", ls.steered_out}, {"tap.steered_in", ls.steered_in},
        {"tap.steer_drops", ls.steer_drops}, {"tap.steer_wakeups", ls.steer_wakeups},
    };
    for (size_t k = 0; k < sizeof(opt) / sizeof(opt[0]); k++)
        if (opt[k].v)
            appendf(buf, size, &at, "%s %llu\n", opt[k].name, (unsigned long long)opt[k].v);
    if (env->faults)
        appendf(buf, size, &at, "faults.lost_to_stack %llu\nfaults.lost_from_stack %llu\n",
                (unsigned long long)ls.lost_to_stack, (unsigned long long)ls.lost_from_stack);
    return (int)at;
}

/* Adds the "name value" lines of text into the running totals (names kept in first-seen
 * order); lines with more fields (the limits) and settings are not summed. */
#define SUM_MAX 512
struct sum { char name[64]; unsigned long long v; };
static void sum_text(struct sum *sums, unsigned *nsums, const char *text)
{
    char name[64], rest[2];
    unsigned long long v;
    for (const char *line = text; *line; ) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        char l[256];
        if (len < sizeof(l)) {
            memcpy(l, line, len);
            l[len] = '\0';
            /* Settings, not counts: the caps and the header length are per stack only. */
            if (sscanf(l, "%63s %llu %1s", name, &v, rest) == 2 && !strstr(name, "caps_") &&
                !strstr(name, "vnet_hdr")) {
                unsigned k = 0;
                while (k < *nsums && strcmp(sums[k].name, name) != 0)
                    k++;
                if (k == *nsums && *nsums < SUM_MAX) {
                    snprintf(sums[k].name, sizeof(sums[k].name), "%s", name);
                    sums[k].v = 0;
                    (*nsums)++;
                }
                if (k < *nsums)
                    sums[k].v += v;
            }
        }
        line += len + (eol != NULL);
    }
}

void net_print_stats_texts(FILE *out, sk_time_us started, char *const *texts, unsigned n)
{
    /* One block with a header and a footer, written at once, so that it stands apart from
     * the per-connection lines and a reader (or a script) finds where it starts and ends. */
    double secs = (double)(sk_loop_clock() - started) / 1e6;
    fprintf(out, "--- synack counters at %.3f s ---\n", secs);
    if (n == 1) {
        fputs(texts[0], out);
    } else {
        static struct sum sums[SUM_MAX];
        unsigned nsums = 0;
        for (unsigned i = 0; i < n; i++)
            sum_text(sums, &nsums, texts[i]);
        for (unsigned k = 0; k < nsums; k++)
            fprintf(out, "%s %llu\n", sums[k].name, sums[k].v);
        for (unsigned i = 0; i < n; i++)
            for (const char *line = texts[i]; *line; ) {
                const char *eol = strchr(line, '\n');
                size_t len = eol ? (size_t)(eol - line) : strlen(line);
                fprintf(out, "t%u.%.*s\n", i, (int)len, line);
                line += len + (eol != NULL);
            }
    }
    fprintf(out, "--- end of counters ---\n");
    fflush(out);
}

void net_print_stats(FILE *out, const struct net_env *env)
{
    static char buf[16384];
    char *texts[1] = {buf};
    net_format_stats(env, buf, sizeof(buf));
    net_print_stats_texts(out, env->started, texts, 1);
}

/* ---- --html ---- */

static void html_trace(void *ctx, const struct sk_trace_event *ev)
{
    run_model_event(ctx, 0, ev);
}

struct run_model *net_html_begin(const char *cmd, const struct net_opts *o,
                                 struct sk_config *cfg)
{
    if (!o->html)
        return NULL;
    /* One stack reports both directions (the peer is the kernel or another host); a server
     * may see connections without end: the model keeps the first ones (run_model.h). */
    struct run_model_opts mo = {.source = cmd, .title = cmd, .lang = o->lang,
                                .link_type = SK_LINK_ETHERNET, .max_conns = 1000};
    struct run_model *m = run_model_new(&mo);
    if (!m) {
        fprintf(stderr, "synack %s: out of memory: no page\n", cmd);
        return NULL;
    }
    cfg->trace = html_trace;
    cfg->trace_ctx = m;
    return m;
}

int net_html_end(const char *cmd, const struct net_opts *o, struct run_model *m)
{
    if (!m)
        return 0;
    char who[32];
    snprintf(who, sizeof(who), "synack %s", cmd);
    const struct tm_trace *t = run_model_finish(m, false);
    size_t segs, conns;
    run_model_omitted(m, &segs, &conns);
    int rc = html_write_file(t, o->html, who) == 0 ? 0 : 1;
    if (rc == 0)
        fprintf(stderr, "%s: %zu connection%s written to %s", who, t->n, t->n == 1 ? "" : "s",
                o->html);
    if (rc == 0 && (segs || conns))
        fprintf(stderr, " (left out by the limits: %zu segments, %zu connections)", segs, conns);
    if (rc == 0)
        fputc('\n', stderr);
    run_model_free(m);
    return rc;
}
