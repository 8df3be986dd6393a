/* synack CLI: `synack trace FILE`, a capture explained as ladder diagrams.
 *
 * The capture (capture.h: pcap or pcapng through libpcap) is fed packet by packet to the
 * passive observer (synack/observe.h), which runs RFC 9293's state diagram for both ends of
 * every TCP connection and notes what is notable. Its segments fill the model of
 * trace_model.h, one tm_conn per connection chosen (--conn, --filter), from which the views are
 * drawn: the terminal ladder (ladder.c in captured mode), the list of connections (--list) and
 * JSON (--json). Words come from i18n.c in the language of --lang or the locale.
 *
 * A damaged capture (a truncated last record, say) is read as far as it goes: what was read
 * is shown, then the error, and the exit status is 1. Packets that cannot be read as IP and
 * TCP (garbage, or headers cut by the capture's snap length) are counted and reported the same
 * way; a payload cut short by the snap length is only noted on its segment.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "capture.h"
#include "commands.h"
#include "html.h"
#include "i18n.h"
#include "ladder.h"
#include "trace_model.h"

/* One end of --filter: an address, a port, or both (0 / unspecified: any). */
struct endpoint_spec {
    bool any_addr;
    struct sk_addr addr;
    uint16_t port;
};

struct trace_opts {
    const char *file;
    bool list, ascii, verbose, quiet;
    uint64_t conn;               /* --conn N, 0: all */
    int nfilter;                 /* --filter: 0, 1 or 2 ends */
    struct endpoint_spec filter[2];
    enum lang lang;
    const char *json;            /* --json FILE or "-" */
    const char *html;            /* --html FILE or "-": the page (html.h) */
};

struct run {
    const struct trace_opts *o;
    struct tm_trace model;
    size_t *index;               /* connection id - 1 -> index in model.conns + 1, 0: left out */
    size_t nindex;
    bool *decided;               /* per id: selection already made */
    bool keep_events;
    uint64_t snap_cut;           /* segments whose payload the snap length cut */
};

/* ---- options ---- */

enum { OPT_ASCII = 256, OPT_LANG, OPT_JSON, OPT_FILTER, OPT_HTML };

/* To add an option (the `html` helper's --html FILE): an entry here, a case in trace_option,
 * a line in cmd_trace_usage. */
static const struct option trace_longopts[] = {
    {"list", no_argument, NULL, 'l'},           {"conn", required_argument, NULL, 'c'},
    {"filter", required_argument, NULL, OPT_FILTER},
    {"lang", required_argument, NULL, OPT_LANG}, {"ascii", no_argument, NULL, OPT_ASCII},
    {"verbose", no_argument, NULL, 'v'},        {"quiet", no_argument, NULL, 'q'},
    {"json", required_argument, NULL, OPT_JSON}, {"help", no_argument, NULL, 'h'},
    {"html", required_argument, NULL, OPT_HTML},
    {NULL, 0, NULL, 0},
};

void cmd_trace_usage(FILE *out) {
    fprintf(out,
        "usage: synack trace [options] FILE\n"
        "\n"
        "Reads a capture (pcap or pcapng, from tcpdump, Wireshark, dumpcap or synack sim\n"
        "--pcap; Ethernet, Linux cooked SLL/SLL2, raw IP or BSD loopback) and draws every TCP\n"
        "connection in it as a ladder diagram: time, direction, flags, sequence and\n"
        "acknowledgement numbers (absolute and relative), the window in bytes, length,\n"
        "options, each side's RFC 9293 state as a passive observer infers it, and notes in\n"
        "words where something notable happens (handshake, retransmission, duplicate ACKs,\n"
        "SACK, zero window, keep-alive, RST and its likely reason, half-close, TIME-WAIT).\n"
        "\n"
        "options:\n"
        "  -l, --list          one line per connection: peers, bytes each way, segments,\n"
        "                      duration and how it ended\n"
        "  -c, --conn N        only connection N (numbered as --list shows them)\n"
        "  --filter A[,B]      only connections with an end A (and the other end B); each\n"
        "                      is ADDR:PORT, ADDR or :PORT, IPv6 in brackets: [2001:db8::1]:80\n"
        "  --lang en|zh        English or Chinese (中文); default from LC_ALL, LC_MESSAGES, LANG\n"
        "  --ascii             plain ASCII arrows instead of UTF-8\n"
        "  -v, --verbose       every segment; otherwise the middle of a long transfer is\n"
        "                      summed up\n"
        "  -q, --quiet         no ladder (with --json FILE: only the file)\n"
        "  --json FILE         write the connections and their segments as JSON (- for\n"
        "                      standard output, then no ladder); schema in docs/trace.md\n"
        "  --html FILE         write one self-contained HTML page (- for standard output,\n"
        "                      then no ladder): ladder and time-sequence graph as SVG, zoom,\n"
        "                      pan, step-through; see docs/trace-html.md\n"
        "  -h, --help          show this help\n"
        "\n"
        "Exit status: 0, 1 if the capture cannot be read, is damaged (what could be read is\n"
        "still shown) or holds packets that are not readable IP/TCP (headers cut by the snap\n"
        "length, garbage), 2 for a usage error.\n"
        "\n"
        "examples:\n"
        "  synack sim --scenario half-close --pcap run.pcap && synack trace run.pcap\n"
        "  synack trace --list capture.pcapng\n"
        "  synack trace --filter 192.0.2.1:443 --lang zh capture.pcap\n"
        "  synack trace --conn 2 --json conn2.json capture.pcap\n");
}

static int usage_error(const char *fmt, const char *arg) {
    return args_usage_error("trace", fmt, arg);
}

/* "ADDR:PORT", "ADDR", ":PORT", "[V6]:PORT", "[V6]", or a bare IPv6 address. */
static const char *parse_endpoint(const char *text, struct endpoint_spec *e) {
    char buf[128];
    if (strlen(text) >= sizeof(buf) || !*text)
        return "is not ADDR:PORT, ADDR or :PORT";
    strcpy(buf, text);
    char *addr = buf, *port = NULL;
    if (buf[0] == '[') {
        char *close = strchr(buf, ']');
        if (!close || (close[1] && close[1] != ':'))
            return "has an unclosed '[' (IPv6 goes in brackets: [2001:db8::1]:80)";
        *close = '\0';
        addr = buf + 1;
        port = close[1] ? close + 2 : NULL;
    } else {
        char *colon = strrchr(buf, ':');
        if (colon && strchr(buf, ':') == colon) { /* one colon: IPv4 or empty, and a port */
            *colon = '\0';
            port = colon + 1;
        }
    }
    memset(e, 0, sizeof(*e));
    e->any_addr = *addr == '\0';
    if (!e->any_addr && sk_addr_parse(addr, &e->addr) != 0)
        return "has an address that is neither IPv4 nor IPv6";
    if (port) {
        uint64_t p;
        if (args_u64(port, 1, 65535, &p))
            return "has a port that is not a number from 1 to 65535";
        e->port = (uint16_t)p;
    }
    if (e->any_addr && !e->port)
        return "names neither an address nor a port";
    return NULL;
}

static const char *parse_filter(const char *text, struct trace_opts *o) {
    char buf[300];
    if (strlen(text) >= sizeof(buf))
        return "is too long";
    strcpy(buf, text);
    char *comma = strchr(buf, ',');
    if (comma)
        *comma = '\0';
    const char *why = parse_endpoint(buf, &o->filter[0]);
    if (!why && comma)
        why = parse_endpoint(comma + 1, &o->filter[1]);
    o->nfilter = comma ? 2 : 1;
    return why;
}

static const char *trace_option(int ch, const char *arg, struct trace_opts *o) {
    switch (ch) {
    case 'c': return args_u64(arg, 1, UINT64_MAX, &o->conn);
    case OPT_FILTER: return parse_filter(arg, o);
    case OPT_LANG: return i18n_parse(arg, &o->lang) ? "is not a language: en or zh" : NULL;
    case OPT_JSON: o->json = arg; return *arg ? NULL : "is empty";
    case OPT_HTML: o->html = arg; return *arg ? NULL : "is empty";
    default: return "is not understood";
    }
}

/* Returns -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, struct trace_opts *o) {
    memset(o, 0, sizeof(*o));
    o->lang = i18n_from_env();
    opterr = 0;
    optind = 1;
    int ch, idx;
    while ((ch = getopt_long(argc, argv, ":lc:vqh", trace_longopts, &idx)) != -1) {
        switch (ch) {
        case 'l': o->list = true; break;
        case 'v': o->verbose = true; break;
        case 'q': o->quiet = true; break;
        case OPT_ASCII: o->ascii = true; break;
        case 'h': cmd_trace_usage(stdout); return 0;
        case ':': return usage_error("option '%s' needs a value", argv[optind - 1]);
        case '?': {
            const char *arg = argv[optind - 1];
            if (strncmp(arg, "--", 2) == 0 || !optopt)
                return usage_error("unknown option '%s'", arg);
            char opt[3] = {'-', (char)optopt, '\0'};
            return usage_error("unknown option '%s'", opt);
        }
        default: {
            const char *why = trace_option(ch, optarg, o);
            if (why)
                return args_bad_value("trace", trace_longopts, ch, optarg, why);
        }
        }
    }
    if (optind == argc)
        return usage_error("which capture? %s", "(synack trace [options] FILE)");
    if (argc - optind > 1)
        return usage_error("one capture at a time: unexpected argument '%s'", argv[optind + 1]);
    o->file = argv[optind];
    return -1;
}

/* ---- choosing connections and filling the model ---- */

static bool end_matches(const struct endpoint_spec *e, const struct sk_addr *a, uint16_t port) {
    return (e->any_addr || sk_addr_eq(&e->addr, a)) && (!e->port || e->port == port);
}

static bool wanted(const struct trace_opts *o, const struct sk_obs_segment *s) {
    if (o->conn && s->conn != o->conn)
        return false;
    if (o->nfilter == 0)
        return true;
    const struct sk_addr *a[2] = {&s->src, &s->dst};
    uint16_t p[2] = {s->seg.sport, s->seg.dport};
    for (int k = 0; k < 2; k++)
        if (end_matches(&o->filter[0], a[k], p[k]) &&
            (o->nfilter == 1 || end_matches(&o->filter[1], a[1 - k], p[1 - k])))
            return true;
    return false;
}

static bool grow_index(struct run *r, uint64_t id) {
    if (id <= r->nindex)
        return true;
    size_t n = r->nindex ? r->nindex * 2 : 64;
    while (n < id)
        n *= 2;
    size_t *ix = realloc(r->index, n * sizeof(*ix));
    if (!ix)
        return false;
    r->index = ix;
    bool *d = realloc(r->decided, n * sizeof(*d));
    if (!d)
        return false;
    r->decided = d;
    memset(r->index + r->nindex, 0, (n - r->nindex) * sizeof(*ix));
    memset(r->decided + r->nindex, 0, (n - r->nindex) * sizeof(*d));
    r->nindex = n;
    return true;
}

/* The observer's callback: a segment of a chosen connection becomes an event of the model. */
static void on_segment(void *user, const struct sk_obs_segment *s) {
    struct run *r = user;
    if (s->conn == 0 || !grow_index(r, s->conn)) {
        r->model.oom = true;
        return;
    }
    size_t id = (size_t)s->conn - 1;
    if (!r->decided[id]) {
        r->decided[id] = true;
        if (wanted(r->o, s)) {
            struct tm_conn *c = tm_conn_add(&r->model);
            if (c) {
                c->info.id = s->conn;
                c->names[0] = i18n_word(r->model.lang, W_CLIENT);
                c->names[1] = i18n_word(r->model.lang, W_SERVER);
                r->index[id] = r->model.n;
            }
        }
    }
    for (int k = 0; k < s->nnotes; k++)
        r->snap_cut += s->notes[k].kind == SK_OBS_SNAPLEN_CUT;
    if (!r->index[id] || !r->keep_events)
        return;
    struct tm_conn *c = &r->model.conns[r->index[id] - 1];
    struct tm_event *e = tm_event_add(&r->model, c);
    if (!e)
        return;
    e->kind = TM_SEG;
    e->side = s->from;
    e->t = s->time;
    e->seg = *s;
}

/* ---- the views ---- */

static void endpoint_text(const struct sk_addr *a, uint16_t port, char *buf, size_t size) {
    char text[SK_ADDR_STRLEN];
    sk_addr_format(a, text, sizeof(text));
    if (sk_addr_is_v4(a))
        snprintf(buf, size, "%s:%u", text, port);
    else
        snprintf(buf, size, "[%s]:%u", text, port);
}

static void human_bytes(char *buf, size_t size, uint64_t b) {
    if (b < 10000)
        snprintf(buf, size, "%" PRIu64, b);
    else if (b < 10000000)
        snprintf(buf, size, "%.1fk", (double)b / 1e3);
    else
        snprintf(buf, size, "%.1fM", (double)b / 1e6);
}

static void duration_text(char *buf, size_t size, sk_time_us us) {
    if (us < 10000000)
        snprintf(buf, size, "%.3f ms", (double)us / 1e3);
    else
        snprintf(buf, size, "%.3f s", (double)us / 1e6);
}

/* printf's %-*s counts bytes: this pads by display columns, for the Chinese words. */
static void put_padded(FILE *f, const char *s, int width) {
    fputs(s, f);
    for (int w = ladder_display_width(s); w < width; w++)
        fputc(' ', f);
}

static void print_list(const struct tm_trace *m, FILE *f) {
    enum lang l = m->lang;
    char head[64];
    snprintf(head, sizeof(head), "%s →", i18n_word(l, W_BYTES));
    fprintf(f, "%4s  ", "#");
    put_padded(f, i18n_word(l, W_CLIENT), 24);
    put_padded(f, i18n_word(l, W_SERVER), 24);
    for (int w = ladder_display_width(head); w < 9; w++)
        fputc(' ', f);
    fprintf(f, "%s         ← ", head);
    put_padded(f, i18n_word(l, W_SEGMENTS), 9);
    put_padded(f, i18n_word(l, W_DURATION), 14);
    fprintf(f, "%s\n", i18n_word(l, W_ENDED));
    for (size_t i = 0; i < m->n; i++) {
        const struct sk_obs_conn_info *c = &m->conns[i].info;
        char e0[64], e1[64], b0[16], b1[16], dur[32], segs[24];
        endpoint_text(&c->addr[0], c->port[0], e0, sizeof(e0));
        endpoint_text(&c->addr[1], c->port[1], e1, sizeof(e1));
        human_bytes(b0, sizeof(b0), c->bytes[0]);
        human_bytes(b1, sizeof(b1), c->bytes[1]);
        duration_text(dur, sizeof(dur), c->last - c->first);
        snprintf(segs, sizeof(segs), "%" PRIu64, c->segments[0] + c->segments[1]);
        fprintf(f, "%4" PRIu64 "  ", c->id);
        put_padded(f, e0, 24);
        put_padded(f, e1, 24);
        fprintf(f, "%9s %9s %-9s ", b0, b1, segs);
        put_padded(f, dur, 14);
        fprintf(f, "%s%s\n", i18n_end(l, c->end), c->mid_stream ? " *" : "");
    }
}

/* "connection 1: client 10.0.0.1:40000, server 10.0.0.2:7; 12 segments, ..." */
static void print_conn_header(const struct tm_trace *m, const struct tm_conn *c, FILE *f) {
    const struct sk_obs_conn_info *i = &c->info;
    enum lang l = m->lang;
    char e0[64], e1[64], dur[32];
    endpoint_text(&i->addr[0], i->port[0], e0, sizeof(e0));
    endpoint_text(&i->addr[1], i->port[1], e1, sizeof(e1));
    duration_text(dur, sizeof(dur), i->last - i->first);
    fprintf(f, "%s %" PRIu64 ": %s %s, %s %s%s%s\n", i18n_word(l, W_CONNECTION), i->id,
            c->names[0], e0, c->names[1], e1, i->mid_stream ? " " : "",
            i->mid_stream ? i18n_word(l, W_MID_STREAM) : "");
    fprintf(f, "  %s %" PRIu64 " + %" PRIu64 ", %s %" PRIu64 " + %" PRIu64 ", %s %s, %s: %s",
            i18n_word(l, W_SEGMENTS), i->segments[0], i->segments[1], i18n_word(l, W_BYTES),
            i->bytes[0], i->bytes[1], i18n_word(l, W_DURATION), dur, i18n_word(l, W_ENDED),
            i18n_end(l, i->end));
    if (i->end == SK_OBS_END_RESET && i->reset_by >= 0)
        fprintf(f, " (%s %s)", i18n_word(l, W_RESET_BY), c->names[i->reset_by]);
    fprintf(f, "; %s %s / %s\n\n", i18n_word(l, W_STATES), sk_tcp_state_name(i->state[0]),
            sk_tcp_state_name(i->state[1]));
}

/* Notes that happen all through a transfer: they do not keep a row from being summed up. */
static bool routine(enum sk_obs_note_kind k) {
    return k == SK_OBS_DUP_ACK || k == SK_OBS_SACK || k == SK_OBS_WINDOW_UPDATE ||
           k == SK_OBS_WINDOW_FULL || k == SK_OBS_KEEPALIVE_ACK;
}

static bool retransmission(enum sk_obs_note_kind k) {
    return k == SK_OBS_RETRANSMIT || k == SK_OBS_FAST_RETRANSMIT ||
           k == SK_OBS_SYN_RETRANSMIT || k == SK_OBS_FIN_RETRANSMIT;
}

static void ladder_add_segment(struct ladder *lad, enum lang l, const struct tm_event *e) {
    const struct sk_obs_segment *s = &e->seg;
    char text[SK_OBS_MAX_NOTES][512];
    const char *notes[SK_OBS_MAX_NOTES];
    bool notable = false, resent = false;
    int n = s->nnotes < SK_OBS_MAX_NOTES ? s->nnotes : SK_OBS_MAX_NOTES;
    for (int k = 0; k < n; k++) {
        i18n_note(l, &s->notes[k], s, text[k], sizeof(text[k]));
        notes[k] = text[k];
        notable |= !routine(s->notes[k].kind);
        resent |= retransmission(s->notes[k].kind);
    }
    struct ladder_seen v = {
        .side = s->from, .t = e->t, .seg = &s->seg, .src = s->src, .dst = s->dst,
        .wnd_bytes = s->wnd_bytes, .scaled = s->wnd_bytes != s->seg.wnd,
        .rel_known = s->rel_known, .rel_seq = s->rel_seq, .rel_ack = s->rel_ack,
        .notable = notable, .resent = resent, .notes = notes, .nnotes = n,
    };
    ladder_seen(lad, &v);
    /* Each side's state change, the sender's first (it changes as it sends). */
    for (int k = 0; k < 2; k++) {
        int side = k == 0 ? s->from : 1 - s->from;
        if (s->state_before[side] == s->state_after[side])
            continue;
        struct sk_trace_event ev = {.kind = SK_TRACE_STATE, .time = e->t};
        ev.u.state.from = s->state_before[side];
        ev.u.state.to = s->state_after[side];
        ladder_trace(lad, side, &ev);
    }
}

static int print_ladder(const struct trace_opts *o, const struct tm_trace *m,
                        const struct tm_conn *c, FILE *f) {
    enum lang l = m->lang;
    struct ladder_options lo = {
        .ascii = o->ascii, .verbose = o->verbose, .names = {c->names[0], c->names[1]},
        .captured = true,
        .header = {i18n_word(l, W_TIME_MS), i18n_word(l, W_SEQ_REL), i18n_word(l, W_ACK_REL),
                   l == LANG_EN ? NULL : i18n_word(l, W_WIN_LEN_OPTS)},
        .bytes = i18n_word(l, W_BYTES),
    };
    struct ladder *lad = ladder_new(&lo);
    if (!lad)
        return -1;
    for (size_t k = 0; k < c->n; k++)
        if (c->ev[k].kind == TM_SEG)
            ladder_add_segment(lad, l, &c->ev[k]);
    char t0[96], t1[96], e0[64], e1[64];
    endpoint_text(&c->info.addr[0], c->info.port[0], e0, sizeof(e0));
    endpoint_text(&c->info.addr[1], c->info.port[1], e1, sizeof(e1));
    snprintf(t0, sizeof(t0), "%s %s", c->names[0], e0);
    snprintf(t1, sizeof(t1), "%s %s", c->names[1], e1);
    const char *titles[2] = {t0, t1};
    print_conn_header(m, c, f);
    ladder_print(lad, f, titles, true);
    bool gaps = ladder_incomplete(lad);
    ladder_free(lad);
    return gaps ? -1 : 0;
}

static void print_capture_header(const struct capture *cap, const struct trace_opts *o,
                                 enum lang l, FILE *f) {
    int64_t us;
    fprintf(f, "%s %s (%s)", i18n_word(l, W_CAPTURE), o->file, capture_link_name(cap));
    if (capture_first_time(cap, &us)) {
        time_t sec = (time_t)(us / 1000000);
        struct tm tm;
        char when[64] = "?";
        if (gmtime_r(&sec, &tm))
            strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
        fprintf(f, ", %s %s.%06d UTC", i18n_word(l, W_FIRST_PACKET), when,
                (int)(us % 1000000));
    }
    fprintf(f, "\n\n");
}

/* ---- the command ---- */

/* Reads every packet into the observer; 0, or -1 when the capture is damaged (err set). */
static int read_all(struct capture *cap, struct sk_observer *obs, uint64_t *cut_headers,
                    uint64_t *unreadable) {
    struct capture_packet p;
    int r;
    while ((r = capture_next(cap, &p)) == 1) {
        enum sk_obs_result res = sk_observer_input(obs, p.t, p.ip, p.captured, p.wire_len);
        if (res == SK_OBS_MALFORMED)
            (*(p.captured < p.wire_len ? cut_headers : unreadable))++;
    }
    return r;
}

static void fill_infos(struct run *r, const struct sk_observer *obs) {
    for (size_t i = 0; i < r->model.n; i++)
        sk_observer_conn_info(obs, r->model.conns[i].info.id, &r->model.conns[i].info);
}

/* Problems with the capture's content, on stderr; true if any makes the exit status 1. */
static bool report_problems(const struct trace_opts *o, const struct run *r,
                            const struct sk_observer *obs, uint64_t cut, uint64_t bad) {
    struct sk_observer_stats st;
    sk_observer_get_stats(obs, &st);
    if (r->snap_cut)
        fprintf(stderr, "synack trace: %s: note: the snap length cut the payload of %" PRIu64
                        " segments (their headers are whole)\n", o->file, r->snap_cut);
    if (st.fragments)
        fprintf(stderr, "synack trace: %s: note: %" PRIu64 " IP fragments not reassembled\n",
                o->file, st.fragments);
    if (st.conn_limit || st.no_memory || r->model.oom)
        fprintf(stderr, "synack trace: %s: some connections or segments left out (memory or "
                        "connection limit)\n", o->file);
    if (cut)
        fprintf(stderr, "synack trace: %s: %" PRIu64 " packets cut by the capture's snap "
                        "length inside their IP or TCP headers: left out\n", o->file, cut);
    if (bad)
        fprintf(stderr, "synack trace: %s: %" PRIu64 " packets are not well-formed IPv4/IPv6 "
                        "with TCP: left out\n", o->file, bad);
    return cut || bad || st.conn_limit || st.no_memory || r->model.oom;
}

static int write_json(const struct trace_opts *o, const struct tm_trace *m) {
    bool std = strcmp(o->json, "-") == 0;
    FILE *f = std ? stdout : fopen(o->json, "w");
    if (!f) {
        fprintf(stderr, "synack trace: cannot write %s: %s\n", o->json, strerror(errno));
        return -1;
    }
    int rc = tm_json_write(m, f);
    if (!std && fclose(f) != 0)
        rc = -1;
    if (rc)
        fprintf(stderr, "synack trace: writing %s failed\n", o->json);
    return rc;
}

static int show(const struct trace_opts *o, struct run *r, const struct capture *cap) {
    int status = 0;
    bool to_stdout = (o->json && strcmp(o->json, "-") == 0) ||
                     (o->html && strcmp(o->html, "-") == 0);
    if (o->json && write_json(o, &r->model))
        status = 1;
    if (o->html && html_write_file(&r->model, o->html, "synack trace"))
        status = 1;
    if (o->quiet || to_stdout)
        return status;
    print_capture_header(cap, o, r->model.lang, stdout);
    if (o->list) {
        print_list(&r->model, stdout);
        return status;
    }
    if (r->model.n == 0)
        printf("%s\n", i18n_word(r->model.lang, W_NO_CONNECTIONS));
    for (size_t i = 0; i < r->model.n; i++) {
        if (i)
            printf("\n");
        if (print_ladder(o, &r->model, &r->model.conns[i], stdout))
            status = 1;
    }
    return status;
}

int cmd_trace(int argc, char **argv) {
    struct trace_opts o;
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0)
        return rc;
    char err[512];
    struct capture *cap = capture_open(o.file, err, sizeof(err));
    if (!cap) {
        fprintf(stderr, "synack trace: %s: %s\n", o.file, err);
        return 1;
    }
    struct run r = {.o = &o, .keep_events = !o.list || o.html};
    r.model.source = "capture";
    r.model.title = o.file;
    r.model.lang = o.lang;
    struct sk_observer_config cfg = {.on_segment = on_segment, .user = &r};
    struct sk_observer *obs = sk_observer_new(&cfg);
    if (!obs) {
        capture_close(cap);
        fprintf(stderr, "synack trace: out of memory\n");
        return 1;
    }
    uint64_t cut = 0, bad = 0;
    int damaged = read_all(cap, obs, &cut, &bad);
    fill_infos(&r, obs);
    r.model.start_known = capture_first_time(cap, &r.model.start_unix_us);
    int status = show(&o, &r, cap);
    fflush(stdout);
    if (report_problems(&o, &r, obs, cut, bad))
        status = 1;
    if (damaged < 0) {
        fprintf(stderr, "synack trace: %s: %s\n", o.file, capture_error(cap));
        status = 1;
    }
    if (o.conn && r.model.n == 0) {
        fprintf(stderr, "synack trace: %s: no connection %" PRIu64 " (there are %" PRIu64
                        ")\n", o.file, o.conn, sk_observer_conn_count(obs));
        status = 1;
    }
    sk_observer_free(obs);
    capture_close(cap);
    tm_trace_free(&r.model);
    free(r.index);
    free(r.decided);
    return status;
}
