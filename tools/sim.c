/* synack CLI: `synack sim`, two stacks on a simulated link, drawn as a ladder diagram.
 *
 * A client stack (side 0, 10.0.0.1) and a server stack (side 1, 10.0.0.2) are joined by the
 * in-memory link of sk_sim on a virtual clock. Two small applications drive them, polled after
 * every simulator step: the client sends seeded pseudo-random bytes, the server echoes every
 * byte back, and both check each byte against the same generator. A scenario chooses how the
 * connection opens and closes (RFC 9293 §3.5 and §3.6: simultaneous open, simultaneous close,
 * half-close, reset) and states what must happen; the run is checked against that from the
 * trace and the applications' view, and the exit status says whether it happened.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "html.h"
#include "ladder.h"
#include "run_model.h"
#include "synack/synack.h"

#define ADDR_CLIENT 0x0a000001u /* 10.0.0.1 */
#define ADDR_SERVER 0x0a000002u /* 10.0.0.2 */
/* --ipv6: 2001:db8::1 and 2001:db8::2 (RFC 3849's documentation prefix), on one /64. */
static const uint8_t ADDR6_CLIENT[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                         0,    0,    0,    0,    0, 0, 0, 1};
static const uint8_t ADDR6_SERVER[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                         0,    0,    0,    0,    0, 0, 0, 2};
#define ECHO_PORT 7             /* the echo service (RFC 862) */
#define UNUSED_PORT 9           /* nobody listens here: the refused scenario */
#define SIMOPEN_PORT_CLIENT 40001
#define SIMOPEN_PORT_SERVER 40002
#define MAX_BYTES 1000000000000000ull  /* 1000T: counts are 64-bit, data is made as it goes */
#define LADDER_MAX_BYTES 1000000000ull  /* the ladder keeps a record per segment: 1G is ~300 MB */
#define IO_CHUNK 65536
#define ECHO_BACKLOG_BYTES (256u * 1024u) /* the echo server stops reading beyond this */
#define STALL_LIMIT_US (3600ull * 1000000) /* virtual time without progress before giving up */
#define MAX_PAUSES 8
/* The smallest MTU both stacks can use: an IPv4 and a TCP header (40 bytes), the timestamp
 * option (12) and the 64-byte floor the stack puts under the sending MSS (tcp_input.c), so that
 * a full segment still fits the link. */
#define MIN_MTU (20 + 20 + 12 + 64)
#define MAX_MTU 65535

#define STATE_BIT(s) (1u << (SK_TCP_##s))

/* ---- scenarios ---- */

enum open_kind {
    OPEN_ACTIVE,      /* client connects, server listens */
    OPEN_SIMULTANEOUS, /* both connect to each other at the same instant */
    OPEN_REFUSED,     /* client connects to a port nobody listens on */
};

enum close_kind {
    CLOSE_CLIENT_FIRST, /* client shuts down once it has its echo; server closes on EOF */
    CLOSE_HALF,         /* client shuts down after sending; server replies in CLOSE-WAIT */
    CLOSE_SIMULTANEOUS, /* both shut down at the same instant */
    CLOSE_ABORT,        /* client aborts (RST) once it has its echo */
    CLOSE_NONE,         /* nothing to close: the connection never opened */
};

struct scenario {
    const char *name;
    const char *what;   /* for --help */
    const char *expect; /* printed before the run */
    enum open_kind open;
    enum close_kind close;
    bool drop_first_syn;
    bool data;             /* bytes are sent, echoed and verified */
    unsigned need[2];      /* states each side must pass through (STATE_BIT) */
    bool end_closed[2];    /* the side's connection must end in CLOSED */
    int want_err[2];       /* error the application must see, 0: none */
};

#define HANDSHAKE_CLOSE_NEEDS                                                                \
    {STATE_BIT(SYN_SENT) | STATE_BIT(ESTABLISHED) | STATE_BIT(FIN_WAIT_1) |                  \
         STATE_BIT(TIME_WAIT),                                                               \
     STATE_BIT(SYN_RECEIVED) | STATE_BIT(ESTABLISHED) | STATE_BIT(CLOSE_WAIT) |              \
         STATE_BIT(LAST_ACK)}

static const struct scenario scenarios[] = {
    {
        .name = "handshake-close",
        .what = "three-way handshake, echo the data, the client closes first (default)",
        .expect = "the SYN-ACK acks the client's ISN+1 and the third segment the server's "
                  "ISN+1; every byte echoed and verified; client SYN-SENT, ESTABLISHED, "
                  "FIN-WAIT-1, TIME-WAIT, CLOSED; server SYN-RECEIVED, ESTABLISHED, "
                  "CLOSE-WAIT, LAST-ACK, CLOSED",
        .open = OPEN_ACTIVE, .close = CLOSE_CLIENT_FIRST, .data = true,
        .need = HANDSHAKE_CLOSE_NEEDS, .end_closed = {true, true},
    },
    {
        .name = "simultaneous-open",
        .what = "both sides connect to each other at the same instant: the SYNs cross",
        .expect = "both sides SYN-SENT, SYN-RECEIVED, ESTABLISHED (each SYN-ACK acks the "
                  "other's ISN+1); every byte echoed and verified; the client closes first, "
                  "both end CLOSED",
        .open = OPEN_SIMULTANEOUS, .close = CLOSE_CLIENT_FIRST, .data = true,
        .need = {STATE_BIT(SYN_SENT) | STATE_BIT(SYN_RECEIVED) | STATE_BIT(ESTABLISHED) |
                     STATE_BIT(FIN_WAIT_1) | STATE_BIT(TIME_WAIT),
                 STATE_BIT(SYN_SENT) | STATE_BIT(SYN_RECEIVED) | STATE_BIT(ESTABLISHED) |
                     STATE_BIT(CLOSE_WAIT) | STATE_BIT(LAST_ACK)},
        .end_closed = {true, true},
    },
    {
        .name = "simultaneous-close",
        .what = "after the echo both sides close at the same instant: the FINs cross",
        .expect = "every byte echoed and verified; both sides FIN-WAIT-1, CLOSING, "
                  "TIME-WAIT, CLOSED",
        .open = OPEN_ACTIVE, .close = CLOSE_SIMULTANEOUS, .data = true,
        .need = {STATE_BIT(SYN_SENT) | STATE_BIT(ESTABLISHED) | STATE_BIT(FIN_WAIT_1) |
                     STATE_BIT(CLOSING) | STATE_BIT(TIME_WAIT),
                 STATE_BIT(SYN_RECEIVED) | STATE_BIT(ESTABLISHED) | STATE_BIT(FIN_WAIT_1) |
                     STATE_BIT(CLOSING) | STATE_BIT(TIME_WAIT)},
        .end_closed = {true, true},
    },
    {
        .name = "half-close",
        .what = "the client sends and shuts down its side; the server reads to the FIN, then "
                "sends everything back from CLOSE-WAIT and closes",
        .expect = "every byte verified both ways; the server's data flows in CLOSE-WAIT while "
                  "the client waits in FIN-WAIT-2; client TIME-WAIT then CLOSED, server "
                  "LAST-ACK then CLOSED",
        .open = OPEN_ACTIVE, .close = CLOSE_HALF, .data = true,
        .need = {STATE_BIT(SYN_SENT) | STATE_BIT(ESTABLISHED) | STATE_BIT(FIN_WAIT_1) |
                     STATE_BIT(FIN_WAIT_2) | STATE_BIT(TIME_WAIT),
                 STATE_BIT(SYN_RECEIVED) | STATE_BIT(ESTABLISHED) | STATE_BIT(CLOSE_WAIT) |
                     STATE_BIT(LAST_ACK)},
        .end_closed = {true, true},
    },
    {
        .name = "refused",
        .what = "the client connects to port 9, where nobody listens",
        .expect = "the server answers the SYN with RST|ACK; the client goes SYN-SENT to "
                  "CLOSED and connect fails with ECONNREFUSED; no data",
        .open = OPEN_REFUSED, .close = CLOSE_NONE, .data = false,
        .need = {STATE_BIT(SYN_SENT), 0},
        .end_closed = {true, false},
        .want_err = {-ECONNREFUSED, 0},
    },
    {
        .name = "reset",
        .what = "after the echo the client aborts the connection (RST)",
        .expect = "every byte echoed and verified; the client aborts with RST; the server "
                  "sees ECONNRESET and its connection ends CLOSED",
        .open = OPEN_ACTIVE, .close = CLOSE_ABORT, .data = true,
        .need = {STATE_BIT(SYN_SENT) | STATE_BIT(ESTABLISHED),
                 STATE_BIT(SYN_RECEIVED) | STATE_BIT(ESTABLISHED)},
        .end_closed = {false, true},
        .want_err = {0, -ECONNRESET},
    },
    {
        .name = "syn-loss",
        .what = "the link drops the client's first SYN; it is sent again after the RTO",
        .expect = "the first SYN is lost, the client's retransmit timer fires and the SYN is "
                  "sent again; then as handshake-close: every byte verified, both end CLOSED",
        .open = OPEN_ACTIVE, .close = CLOSE_CLIENT_FIRST, .data = true, .drop_first_syn = true,
        .need = HANDSHAKE_CLOSE_NEEDS, .end_closed = {true, true},
    },
};
#define NSCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

static const struct scenario *find_scenario(const char *name) {
    for (size_t i = 0; i < NSCENARIOS; i++)
        if (strcmp(scenarios[i].name, name) == 0)
            return &scenarios[i];
    return NULL;
}

/* ---- options ---- */

/* Gilbert-Elliott burst loss (per frame: enter the lossy state, leave it, loss inside it). */
struct burst {
    double enter, exit, loss;
};

/* A slow application: it reads at most read_bytes every read_every_us (0: as fast as data
 * comes), and not at all from at_us for len_us in each pause. */
struct read_pause {
    uint64_t at_us, len_us;
};

#define SIDE_CLIENT 1u
#define SIDE_SERVER 2u

struct sim_opts {
    const struct scenario *sc;
    uint64_t bytes, seed, mtu;
    struct args_link link;      /* duplication, reordering, corruption, delay, rate */
    double loss[2];             /* per direction: [0] client to server, [1] server to client */
    struct burst burst[2];
    uint64_t read_bytes, read_every_us;
    struct read_pause pause[MAX_PAUSES];
    int npauses;
    unsigned read_sides;        /* SIDE_CLIENT | SIDE_SERVER: whose reading is slowed */
    const char *pcap;
    const char *html;           /* --html FILE: the run as a page (html.h) */
    enum lang lang;             /* --lang: the page's words */
    bool verbose, quiet, ascii;
    bool ipv6;                  /* the connection runs over IPv6 */
};

/* ---- the test data: byte i of a stream is a function of the seed and i ---- */

static uint64_t mix64(uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Word i of the stream (bytes 8i..8i+7, least significant first): splitmix64's i-th output
 * from the seed, one mix per 8 bytes, so that a 100G run spends its time in the stacks. */
static uint64_t data_word(uint64_t seed, uint64_t i) {
    return mix64(seed + i * 0x9e3779b97f4a7c15ull);
}

static void data_fill(uint64_t seed, uint64_t offset, uint8_t *buf, size_t len) {
    size_t i = 0;
    while (i < len && ((offset + i) & 7)) { /* up to a word boundary */
        buf[i] = (uint8_t)(data_word(seed, (offset + i) >> 3) >> (((offset + i) & 7) * 8));
        i++;
    }
    for (; i + 8 <= len; i += 8) {
        uint64_t w = data_word(seed, (offset + i) >> 3);
        for (unsigned k = 0; k < 8; k++) /* byte order written out: the same on every host */
            buf[i + k] = (uint8_t)(w >> (k * 8));
    }
    for (; i < len; i++)
        buf[i] = (uint8_t)(data_word(seed, (offset + i) >> 3) >> (((offset + i) & 7) * 8));
}

/* Offset of the first byte of buf that differs from the stream at offset, or -1. */
static int64_t data_check(uint64_t seed, uint64_t offset, const uint8_t *buf, size_t len) {
    uint8_t want[4096];
    for (size_t done = 0; done < len;) {
        size_t n = len - done < sizeof(want) ? len - done : sizeof(want);
        data_fill(seed, offset + done, want, n);
        if (memcmp(buf + done, want, n) != 0)
            for (size_t i = 0; i < n; i++)
                if (buf[done + i] != want[i])
                    return (int64_t)(offset + done + i);
        done += n;
    }
    return -1;
}

/* ---- what the trace shows of each side ---- */

struct observed {
    unsigned reached;      /* STATE_BIT of every state a connection of this side entered */
    bool have_conn;        /* the side's connection (not a listener) was seen */
    uint64_t conn_id;
    enum sk_tcp_state state; /* that connection's latest state */
    bool isn_known, ack_known;
    uint32_t isn;          /* sequence number of its first SYN */
    uint32_t first_ack;    /* ack of its first segment with ACK set */
    uint32_t syns, rsts;
    uint64_t segs;
    uint32_t rto_fired;
    uint64_t sent_in_close_wait; /* payload bytes sent while in CLOSE-WAIT */
    int err;               /* last SK_TRACE_ERROR */
    sk_time_us last_event;
};

/* ---- the applications ---- */

struct app {
    int side;
    const char *name;
    struct sk_stack *st;
    struct sk_tcp *conn, *listener;
    bool opened;           /* the connection reached ESTABLISHED (the app noticed) */
    bool shut, eof, done;
    bool announced_send;
    uint64_t sent, rcvd;
    bool bad;
    uint64_t bad_at;
    int err;               /* error the application saw */
    uint16_t lport;
    sk_time_us t_start, t_last_read;
    bool have_info;
    struct sk_tcp_info info; /* snapshot taken before the handle is given up */
    uint8_t *pend;         /* server: read but not yet echoed */
    size_t pend_off, pend_len, pend_cap;
    /* A slow reader (--read, --read-pause): bytes it may still read in the current period,
     * which period that is, and when it wants to read again (SK_TIME_NEVER: not waiting). */
    uint64_t read_budget, read_period;
    sk_time_us read_wake;
};

struct run {
    const struct sim_opts *o;
    const struct scenario *sc;
    uint64_t bytes;        /* what the client sends (0 when the scenario has no data) */
    uint64_t data_seed;
    struct sk_sim sim;
    struct ladder *lad;
    struct run_model *model;   /* --html: the run recorded for the page */
    struct app app[2];
    struct observed obs[2];
    uint8_t *buf;
    bool aborted_by_client;
    bool ladder_skipped;   /* too many bytes to draw: summary only */
    uint64_t seg_cap;      /* a run sending more segments than this is stuck in a loop */
    sk_time_us last_progress; /* a byte read or a state changed */
    uint64_t progress_mark;
    char stopped[160];     /* why the run was stopped before it settled, "" if it settled */
};

static void on_trace(void *ctx, int side, const struct sk_trace_event *ev) {
    struct run *r = ctx;
    struct observed *ob = &r->obs[side];
    ob->last_event = ev->time;
    switch (ev->kind) {
    case SK_TRACE_STATE:
        r->last_progress = ev->time;
        ob->reached |= 1u << ev->u.state.to;
        if (!ob->have_conn &&
            (ev->u.state.to == SK_TCP_SYN_SENT || ev->u.state.to == SK_TCP_SYN_RECEIVED)) {
            ob->have_conn = true;
            ob->conn_id = ev->conn_id;
        }
        if (ob->have_conn && ev->conn_id == ob->conn_id)
            ob->state = ev->u.state.to;
        break;
    case SK_TRACE_SEG_OUT: {
        const struct sk_trace_segment *s = &ev->u.seg;
        ob->segs++;
        if (s->flags & SK_TCP_SYN) {
            ob->syns++;
            if (!ob->isn_known) {
                ob->isn_known = true;
                ob->isn = s->seq;
            }
        }
        if (s->flags & SK_TCP_RST)
            ob->rsts++;
        if ((s->flags & SK_TCP_ACK) && !(s->flags & SK_TCP_RST) && !ob->ack_known) {
            ob->ack_known = true;
            ob->first_ack = s->ack;
        }
        if (s->len && ob->have_conn && ob->state == SK_TCP_CLOSE_WAIT)
            ob->sent_in_close_wait += s->len;
        break;
    }
    case SK_TRACE_TIMER:
        if (ev->u.timer.timer == SK_TIMER_RETRANSMIT)
            ob->rto_fired++;
        break;
    case SK_TRACE_ERROR:
        ob->err = ev->u.error.err;
        break;
    default:
        break;
    }
    ladder_trace(r->lad, side, ev);
    run_model_event(r->model, side, ev);
}

static sk_time_us now_of(const struct run *r) {
    return r->sim.now;
}

/* Words on one side's column of the ladder (and of the page): an application call. */
/* An application's call or what it saw, on one side's column: in English on the ladder, and
 * in the page's language (--lang) on the page. en and zh take the same arguments in the same
 * order (only en's are checked by the compiler: keep zh's conversions identical). */
static void sim_note(struct run *r, int side, const char *en, const char *zh, ...)
    __attribute__((format(printf, 3, 5)));
static void sim_note(struct run *r, int side, const char *en, const char *zh, ...) {
    char text[240];
    va_list ap, ap2;
    va_start(ap, zh);
    va_copy(ap2, ap);
    vsnprintf(text, sizeof(text), en, ap);
    ladder_note(r->lad, side, now_of(r), "%s", text);
    if (r->model) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        vsnprintf(text, sizeof(text), r->o->lang == LANG_ZH ? zh : en, ap2);
#pragma GCC diagnostic pop
        run_model_note(r->model, side, now_of(r), "%s", text);
    }
    va_end(ap2);
    va_end(ap);
}

static void snapshot(struct app *a) {
    if (a->conn) {
        sk_tcp_get_info(a->conn, &a->info);
        a->have_info = true;
    }
}

/* Gives the handle back to the stack (which may keep the TCB through TIME-WAIT). */
static void app_close(struct run *r, struct app *a, const char *why, const char *why_zh) {
    if (!a->conn)
        return;
    snapshot(a);
    sim_note(r, a->side, "close()%s%.0s", "close()%.0s%s", why, why_zh);
    sk_tcp_close(a->conn);
    a->conn = NULL;
    a->done = true;
}

static bool can_send(enum sk_tcp_state s) {
    return s == SK_TCP_ESTABLISHED || s == SK_TCP_CLOSE_WAIT;
}

/* How many bytes a slow reader may read now (UINT64_MAX: no limit). When none, a->read_wake is
 * when it will read again, so the run wakes it even if the stacks have nothing to do then. */
static uint64_t read_allowance(const struct run *r, struct app *a) {
    const struct sim_opts *o = r->o;
    sk_time_us now = now_of(r);
    if (!(o->read_sides & (a->side ? SIDE_SERVER : SIDE_CLIENT)))
        return UINT64_MAX;
    for (int i = 0; i < o->npauses; i++) {
        const struct read_pause *p = &o->pause[i];
        if (now >= p->at_us && now - p->at_us < p->len_us) {
            a->read_wake = p->at_us + p->len_us;
            return 0;
        }
    }
    if (o->read_bytes == 0)
        return UINT64_MAX;
    /* Periods are counted from time 0: at most read_bytes in each, unused bytes do not carry. */
    uint64_t period = now / o->read_every_us;
    if (period != a->read_period) {
        a->read_period = period;
        a->read_budget = o->read_bytes;
    }
    if (a->read_budget == 0)
        a->read_wake = (period + 1) * o->read_every_us;
    return a->read_budget;
}

/* The echo side keeps what it read to send back (in bounded chunks: it stops reading while
 * ECHO_BACKLOG_BYTES wait to be echoed). False if memory ran out. */
static bool echo_keep(struct app *a, const uint8_t *data, size_t n) {
    if (a->pend_len + n > a->pend_cap) {
        size_t cap = a->pend_cap ? a->pend_cap : 65536;
        while (cap < a->pend_len + n)
            cap *= 2;
        uint8_t *p = realloc(a->pend, cap);
        if (!p)
            return false;
        a->pend = p;
        a->pend_cap = cap;
    }
    memcpy(a->pend + a->pend_len, data, n);
    a->pend_len += n;
    return true;
}

/* Reads what is there (as fast as a slow reader may), checks it against the stream; the echo
 * side keeps it to send back. In the half-close scenario the server sends its echo only after
 * the client's FIN, so it would have to hold the whole transfer: it keeps a count instead and
 * sends the stream again from the generator (the same bytes, since it verified each one). */
static void app_read(struct run *r, struct app *a, bool keep) {
    bool hold = keep && r->sc->close != CLOSE_HALF;
    a->read_wake = SK_TIME_NEVER;
    for (;;) {
        if (hold && a->pend_len - a->pend_off >= ECHO_BACKLOG_BYTES)
            return; /* back-pressure: echo some before reading more */
        uint64_t allowed = read_allowance(r, a);
        if (allowed == 0)
            return;
        size_t want = allowed < IO_CHUNK ? (size_t)allowed : IO_CHUNK;
        ssize_t n = sk_tcp_recv(a->conn, r->buf, want);
        if (n > 0) {
            if (!a->bad) {
                int64_t at = data_check(r->data_seed, a->rcvd, r->buf, (size_t)n);
                if (at >= 0) {
                    a->bad = true;
                    a->bad_at = (uint64_t)at;
                }
            }
            a->rcvd += (uint64_t)n;
            if (a->read_budget >= (uint64_t)n)
                a->read_budget -= (uint64_t)n;
            a->t_last_read = now_of(r);
            r->last_progress = now_of(r);
            if (hold && !echo_keep(a, r->buf, (size_t)n)) {
                a->err = -ENOMEM;
                return;
            }
            continue;
        }
        if (n == 0) {
            if (!a->eof) {
                a->eof = true;
                sim_note(r, a->side, "recv() = 0: EOF after %" PRIu64 " bytes",
                         "recv() = 0：读到结尾（EOF），共 %" PRIu64 " 字节", a->rcvd);
            }
            return;
        }
        if (n != -EAGAIN && !a->err) {
            a->err = (int)n;
            sim_note(r, a->side, "recv() fails: %s", "recv() 失败：%s",
                        ladder_errno_name((int)n));
        }
        return;
    }
}

/* The connection failed under the application: note it and let the handle go. */
static bool app_check_error(struct run *r, struct app *a) {
    int err = sk_tcp_error(a->conn);
    if (!err && !a->err)
        return false;
    if (!a->err) {
        a->err = err;
        if (a->opened)
            sim_note(r, a->side, "the application sees %s", "应用程序收到错误 %s",
                     ladder_errno_name(err));
        else
            sim_note(r, a->side, "connect() fails: %s", "connect() 失败：%s",
                     ladder_errno_name(err));
    }
    app_close(r, a, "", "");
    return true;
}

static void client_drive(struct run *r) {
    struct app *c = &r->app[0];
    if (!c->conn)
        return;
    if (app_check_error(r, c))
        return;
    enum sk_tcp_state s = sk_tcp_get_state(c->conn);
    if (!c->opened && s >= SK_TCP_ESTABLISHED)
        c->opened = true;
    if (!c->opened)
        return;

    /* Send the test data as the send buffer takes it. */
    if (!c->shut && can_send(s) && c->sent < r->bytes) {
        if (!c->announced_send) {
            c->announced_send = true;
            sim_note(r, 0, "send() %" PRIu64 " bytes of test data",
                     "send() %" PRIu64 " 字节测试数据", r->bytes);
        }
        while (c->sent < r->bytes) {
            size_t room = sk_tcp_writable(c->conn);
            uint64_t left = r->bytes - c->sent;
            size_t n = room < IO_CHUNK ? room : IO_CHUNK;
            if (n > left)
                n = (size_t)left;
            if (n == 0)
                break;
            data_fill(r->data_seed, c->sent, r->buf, n);
            ssize_t w = sk_tcp_send(c->conn, r->buf, n);
            if (w <= 0)
                break;
            c->sent += (uint64_t)w;
        }
    }
    app_read(r, c, false);
    if (app_check_error(r, c))
        return;

    bool all_sent = c->sent == r->bytes;
    bool all_back = c->rcvd >= r->bytes;
    switch (r->sc->close) {
    case CLOSE_CLIENT_FIRST:
        if (!c->shut && all_sent && all_back) {
            sim_note(r, 0, "has its echo: shutdown(), FIN follows",
                     "回显已收齐：shutdown()，随后发出 FIN");
            c->shut = true;
            sk_tcp_shutdown(c->conn);
        }
        break;
    case CLOSE_HALF:
        if (!c->shut && all_sent) {
            sim_note(r, 0, "shutdown() after sending: FIN, keeps reading",
                     "发送完毕后 shutdown()：发出 FIN，继续接收（半关闭）");
            c->shut = true;
            sk_tcp_shutdown(c->conn);
        }
        break;
    case CLOSE_ABORT:
        if (all_sent && all_back) {
            snapshot(c);
            sim_note(r, 0, "has its echo: abort(), RST", "回显已收齐：abort()，发出 RST");
            r->aborted_by_client = true;
            sk_tcp_abort(c->conn);
            c->conn = NULL;
            c->done = true;
            return;
        }
        break;
    case CLOSE_SIMULTANEOUS: /* see simultaneous_close() */
    case CLOSE_NONE:
        break;
    }
    if (c->shut && c->eof)
        app_close(r, c, "", "");
}

/* Half-close: after the client's FIN the server sends back as many bytes as it received and
 * verified, made again from the stream's generator (see app_read). */
static void echo_after_fin(struct run *r, struct app *v) {
    if (!v->eof || v->sent == v->rcvd || !can_send(sk_tcp_get_state(v->conn)))
        return;
    if (v->sent == 0)
        sim_note(r, 1, "send() %" PRIu64 " bytes in CLOSE-WAIT",
                 "在 CLOSE-WAIT 中 send() %" PRIu64 " 字节", v->rcvd);
    while (v->sent < v->rcvd) {
        size_t room = sk_tcp_writable(v->conn);
        uint64_t left = v->rcvd - v->sent;
        size_t n = room < IO_CHUNK ? room : IO_CHUNK;
        if (n > left)
            n = (size_t)left;
        if (n == 0)
            break;
        data_fill(r->data_seed, v->sent, r->buf, n);
        ssize_t w = sk_tcp_send(v->conn, r->buf, n);
        if (w <= 0)
            break;
        v->sent += (uint64_t)w;
    }
}

/* A side's address in the run's family, and its text ("10.0.0.2" or "[2001:db8::2]"). */
static struct sk_addr side_addr(const struct run *r, int side, char *text, size_t size) {
    struct sk_addr a;
    if (r->o->ipv6)
        memcpy(a.b, side ? ADDR6_SERVER : ADDR6_CLIENT, 16);
    else
        a = sk_addr_from_v4(side ? ADDR_SERVER : ADDR_CLIENT);
    char t[SK_ADDR_STRLEN];
    sk_addr_format(&a, t, sizeof(t));
    snprintf(text, size, r->o->ipv6 ? "[%s]" : "%s", t);
    return a;
}

static void server_drive(struct run *r) {
    struct app *v = &r->app[1];
    if (v->listener && !v->conn && !v->done) {
        struct sk_tcp *c;
        if (sk_tcp_accept(v->listener, &c) == 0) {
            struct sk_tcp_info info;
            sk_tcp_get_info(c, &info);
            char ctext[SK_ADDR_STRLEN + 2];
            side_addr(r, 0, ctext, sizeof(ctext));
            sim_note(r, 1, "accept(): %s:%u", "accept()：%s:%u", ctext, info.rport);
            v->conn = c;
            v->t_start = now_of(r);
        }
    }
    if (!v->conn)
        return;
    if (app_check_error(r, v))
        return;
    enum sk_tcp_state s = sk_tcp_get_state(v->conn);
    if (!v->opened && s >= SK_TCP_ESTABLISHED)
        v->opened = true;
    if (!v->opened)
        return;

    app_read(r, v, true);
    if (app_check_error(r, v))
        return;
    /* Echo: at once, or in the half-close scenario only after the client's FIN. */
    if (r->sc->close == CLOSE_HALF)
        echo_after_fin(r, v);
    else if (v->pend_off < v->pend_len && can_send(sk_tcp_get_state(v->conn))) {
        while (v->pend_off < v->pend_len) {
            ssize_t w = sk_tcp_send(v->conn, v->pend + v->pend_off, v->pend_len - v->pend_off);
            if (w <= 0)
                break;
            v->pend_off += (size_t)w;
            v->sent += (uint64_t)w;
        }
        if (v->pend_off == v->pend_len)
            v->pend_off = v->pend_len = 0;
        else if (v->pend_off > v->pend_cap / 2) {
            memmove(v->pend, v->pend + v->pend_off, v->pend_len - v->pend_off);
            v->pend_len -= v->pend_off;
            v->pend_off = 0;
        }
    }
    bool drained = v->pend_off == v->pend_len && v->sent == v->rcvd;
    switch (r->sc->close) {
    case CLOSE_CLIENT_FIRST:
    case CLOSE_HALF:
        if (v->eof && drained)
            app_close(r, v, ": FIN follows the echo", "：回显之后发出 FIN");
        break;
    case CLOSE_SIMULTANEOUS:
        if (v->shut && v->eof)
            app_close(r, v, "", "");
        break;
    case CLOSE_ABORT:
    case CLOSE_NONE:
        break;
    }
}

/* Both sides have everything: both shut down now, so that their FINs cross. */
static void simultaneous_close(struct run *r) {
    struct app *c = &r->app[0], *v = &r->app[1];
    if (r->sc->close != CLOSE_SIMULTANEOUS || c->shut || v->shut || !c->conn || !v->conn)
        return;
    if (!c->opened || !v->opened || c->sent != r->bytes || c->rcvd < r->bytes ||
        v->rcvd < r->bytes || v->pend_off != v->pend_len)
        return;
    for (int side = 0; side < 2; side++)
        sim_note(r, side, "shutdown(), same instant as the %s", "shutdown()，与对方同一时刻%.0s",
                 side ? "client" : "server");
    c->shut = v->shut = true;
    sk_tcp_shutdown(c->conn);
    sk_tcp_shutdown(v->conn);
}

static void apps_drive(struct run *r) {
    client_drive(r);
    server_drive(r);
    simultaneous_close(r);
    /* A side that closed after the other moved: let the client see the server's EOF now. */
    client_drive(r);
    server_drive(r);
}

static int apps_start(struct run *r) {
    struct app *c = &r->app[0], *v = &r->app[1];
    int err;
    const char *what;
    char ctext[SK_ADDR_STRLEN + 2], stext[SK_ADDR_STRLEN + 2];
    struct sk_addr caddr = side_addr(r, 0, ctext, sizeof(ctext));
    struct sk_addr saddr = side_addr(r, 1, stext, sizeof(stext));
    switch (r->sc->open) {
    case OPEN_SIMULTANEOUS:
        sim_note(r, 0, "connect(%s:%u) from %u", "connect(%s:%u)，本地端口 %u", stext,
                 SIMOPEN_PORT_SERVER, SIMOPEN_PORT_CLIENT);
        err = sk_tcp_connect_addr(c->st, SIMOPEN_PORT_CLIENT, &saddr, SIMOPEN_PORT_SERVER, NULL,
                                  &c->conn);
        if (err) {
            what = "client connect";
            break;
        }
        sim_note(r, 1, "connect(%s:%u) from %u", "connect(%s:%u)，本地端口 %u", ctext,
                 SIMOPEN_PORT_CLIENT, SIMOPEN_PORT_SERVER);
        err = sk_tcp_connect_addr(v->st, SIMOPEN_PORT_SERVER, &caddr, SIMOPEN_PORT_CLIENT, NULL,
                                  &v->conn);
        what = "server connect";
        v->lport = SIMOPEN_PORT_SERVER;
        break;
    case OPEN_ACTIVE:
    case OPEN_REFUSED:
    default: {
        sim_note(r, 1, "listen(port %u)", "listen(端口 %u)", ECHO_PORT);
        err = sk_tcp_listen(v->st, ECHO_PORT, 16, &v->listener);
        if (err) {
            what = "listen";
            break;
        }
        v->lport = ECHO_PORT;
        uint16_t port = r->sc->open == OPEN_REFUSED ? UNUSED_PORT : ECHO_PORT;
        sim_note(r, 0, "connect(%s:%u)", "connect(%s:%u)", stext, port);
        err = sk_tcp_connect_addr(c->st, 0, &saddr, port, NULL, &c->conn);
        what = "connect";
        break;
    }
    }
    if (err) {
        fprintf(stderr, "synack sim: %s failed: %s (%s)\n", what, strerror(-err),
                ladder_errno_name(err));
        return err;
    }
    struct sk_tcp_info info;
    sk_tcp_get_info(c->conn, &info);
    c->lport = info.lport;
    c->t_start = v->t_start = now_of(r);
    return 0;
}

/* ---- checking the outcome ---- */

#define MAX_FAILS 8

struct verdict {
    int nfail;
    char why[MAX_FAILS][200]; /* the first MAX_FAILS failed expectations, most telling first */
};

static void fail(struct verdict *vd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct verdict *vd, const char *fmt, ...) {
    if (vd->nfail < MAX_FAILS) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(vd->why[vd->nfail], sizeof(vd->why[0]), fmt, ap);
        va_end(ap);
    }
    vd->nfail++;
}

static const char *state_str(enum sk_tcp_state s) {
    const char *n = sk_tcp_state_name(s);
    return n ? n : "?";
}

static void check_outcome(const struct run *r, bool finished, struct verdict *vd) {
    const struct scenario *sc = r->sc;
    const char *names[2] = {"client", "server"};
    if (!finished)
        fail(vd, "%s", r->stopped[0] ? r->stopped : "the run did not settle");
    else if (sc->data && !r->app[0].err && !r->app[1].err &&
             (r->app[0].sent != r->bytes || r->app[0].rcvd != r->bytes))
        fail(vd, "the transfer stalled: at %.3f s nothing was in flight and no timer was armed, "
             "with %" PRIu64 " of %" PRIu64 " bytes sent and no error",
             (r->obs[0].last_event > r->obs[1].last_event ? r->obs[0].last_event
                                                           : r->obs[1].last_event) / 1e6,
             r->app[0].sent, r->bytes);
    /* Most telling first: an error, then the data, then the states. */
    for (int side = 0; side < 2; side++) {
        const struct app *a = &r->app[side];
        if (a->err != sc->want_err[side]) {
            if (sc->want_err[side] && !a->err)
                fail(vd, "%s saw no error, expected %s", names[side],
                     ladder_errno_name(sc->want_err[side]));
            else
                fail(vd, "%s saw %s%s%s", names[side], ladder_errno_name(a->err),
                     sc->want_err[side] ? ", expected " : " (no error expected)",
                     sc->want_err[side] ? ladder_errno_name(sc->want_err[side]) : "");
        }
    }
    if (sc->data) {
        const struct app *c = &r->app[0], *v = &r->app[1];
        if (v->bad)
            fail(vd, "server received a wrong byte at offset %" PRIu64, v->bad_at);
        if (c->bad)
            fail(vd, "client received a wrong echo byte at offset %" PRIu64, c->bad_at);
        if (c->sent != r->bytes)
            fail(vd, "client sent %" PRIu64 " of %" PRIu64 " bytes", c->sent, r->bytes);
        if (v->rcvd != r->bytes)
            fail(vd, "server received %" PRIu64 " of %" PRIu64 " bytes", v->rcvd, r->bytes);
        if (c->rcvd != r->bytes)
            fail(vd, "client received %" PRIu64 " of %" PRIu64 " echoed bytes", c->rcvd,
                 r->bytes);
    }
    /* The handshake's acks: each side acknowledges the other's ISN + 1 (RFC 9293 §3.4). */
    if (sc->need[0] & STATE_BIT(ESTABLISHED)) {
        for (int side = 0; side < 2; side++) {
            const struct observed *me = &r->obs[side], *peer = &r->obs[1 - side];
            if (me->ack_known && peer->isn_known && me->first_ack != peer->isn + 1)
                fail(vd, "%s's first ACK acks %" PRIu32 ", not the %s's ISN+1 %" PRIu32,
                     names[side], me->first_ack, names[1 - side], peer->isn + 1);
        }
    }
    for (int side = 0; side < 2; side++) {
        const struct observed *ob = &r->obs[side];
        for (int s = 0; s < SK_TCP_STATE_COUNT; s++)
            if ((sc->need[side] & (1u << s)) && !(ob->reached & (1u << s)))
                fail(vd, "%s never reached %s", names[side], state_str((enum sk_tcp_state)s));
        if (sc->end_closed[side] && (!ob->have_conn || ob->state != SK_TCP_CLOSED))
            fail(vd, "%s's connection ended in %s, not CLOSED", names[side],
                 ob->have_conn ? state_str(ob->state) : "no state");
    }
    struct sk_memlink_stats ls;
    switch (sc->close) {
    case CLOSE_HALF:
        if (r->bytes > 0 && r->obs[1].sent_in_close_wait == 0)
            fail(vd, "the server sent no data while in CLOSE-WAIT");
        break;
    case CLOSE_ABORT:
        if (!r->aborted_by_client || r->obs[0].rsts == 0)
            fail(vd, "the client never sent its RST");
        break;
    default:
        break;
    }
    if (sc->open == OPEN_REFUSED) {
        if (r->obs[1].rsts == 0)
            fail(vd, "the server sent no RST");
        if (r->obs[1].have_conn)
            fail(vd, "the server created a connection for a port nobody listens on");
    }
    if (sc->drop_first_syn) {
        sk_memlink_get_stats(r->sim.link, 0, &ls);
        if (ls.rule_hits == 0)
            fail(vd, "the link's rule never dropped a SYN");
        if (r->obs[0].rto_fired == 0)
            fail(vd, "the client's retransmit timer never fired");
        if (r->obs[0].syns < 2)
            fail(vd, "the client sent its SYN only once");
    }
}

/* ---- output ---- */

static void human_rate(char *buf, size_t size, double bits_per_s) {
    if (bits_per_s >= 1e9)
        snprintf(buf, size, "%.2f Gbit/s", bits_per_s / 1e9);
    else if (bits_per_s >= 1e6)
        snprintf(buf, size, "%.2f Mbit/s", bits_per_s / 1e6);
    else if (bits_per_s >= 1e3)
        snprintf(buf, size, "%.2f kbit/s", bits_per_s / 1e3);
    else
        snprintf(buf, size, "%.0f bit/s", bits_per_s);
}

/* One direction's loss in words, "" if none. */
static void describe_loss(const struct sim_opts *o, int dir, char *buf, size_t size) {
    size_t n = 0;
    buf[0] = '\0';
#define ADD(...) (n += (size_t)snprintf(buf + n, n < size ? size - n : 0, __VA_ARGS__))
    if (o->loss[dir] > 0)
        ADD("loss %g%%", o->loss[dir] * 100);
    const struct burst *b = &o->burst[dir];
    if (b->enter > 0 && b->loss > 0)
        ADD("%sbursts (enter %g%%, leave %g%%, loss %g%% inside)", n ? ", " : "",
            b->enter * 100, b->exit * 100, b->loss * 100);
#undef ADD
}

static void describe_link(const struct sim_opts *o, char *buf, size_t size) {
    size_t n = (size_t)snprintf(buf, size, "%g ms one-way delay", o->link.delay_ms);
#define ADD(...) (n += (size_t)snprintf(buf + n, n < size ? size - n : 0, __VA_ARGS__))
    char loss[2][128];
    for (int dir = 0; dir < 2; dir++)
        describe_loss(o, dir, loss[dir], sizeof(loss[dir]));
    bool faults = loss[0][0] || loss[1][0] || o->link.dup > 0 || o->link.reorder > 0 ||
                  o->link.corrupt > 0;
    if (o->link.rate_mbit > 0)
        ADD(", %g Mbit/s", o->link.rate_mbit);
    if (o->mtu > 0)
        ADD(", MTU %" PRIu64 " (both stacks and the link)", o->mtu);
    if (strcmp(loss[0], loss[1]) == 0 && loss[0][0])
        ADD(", %s (both directions)", loss[0]);
    else
        for (int dir = 0; dir < 2; dir++)
            if (loss[dir][0])
                ADD(", %s %s only", loss[dir], dir ? "server to client" : "client to server");
    if (o->link.dup > 0)
        ADD(", duplication %g%%", o->link.dup * 100);
    if (o->link.reorder > 0)
        ADD(", reordering %g%%", o->link.reorder * 100);
    if (o->link.corrupt > 0)
        ADD(", corruption %g%%", o->link.corrupt * 100);
    if (!faults)
        ADD(", no faults");
#undef ADD
}

/* The slow reader, in words, "" if none. */
static void describe_reader(const struct sim_opts *o, char *buf, size_t size) {
    size_t n = 0;
    buf[0] = '\0';
    if (o->read_bytes == 0 && o->npauses == 0)
        return;
#define ADD(...) (n += (size_t)snprintf(buf + n, n < size ? size - n : 0, __VA_ARGS__))
    ADD("%s reads", o->read_sides == SIDE_CLIENT ? "the client"
                    : o->read_sides == SIDE_SERVER ? "the server" : "each side");
    if (o->read_bytes)
        ADD(" at most %" PRIu64 " bytes every %g ms", o->read_bytes, o->read_every_us / 1000.0);
    for (int i = 0; i < o->npauses; i++)
        ADD("%s stops reading at %g ms for %g ms", i == 0 ? (o->read_bytes ? "," : "") : ",",
            o->pause[i].at_us / 1000.0, o->pause[i].len_us / 1000.0);
#undef ADD
}

static void print_header(const struct run *r) {
    const struct sim_opts *o = r->o;
    char link[256];
    describe_link(o, link, sizeof(link));
    printf("synack sim: scenario %s, seed %" PRIu64 ", ", r->sc->name, o->seed);
    if (r->sc->data)
        printf("%" PRIu64 " bytes from client to server and echoed back\n", r->bytes);
    else
        printf("no data\n");
    printf("link: %s\n", link);
    char reader[512];
    describe_reader(o, reader, sizeof(reader));
    if (reader[0])
        printf("reader: %s\n", reader);
    printf("expect: %s\n\n", r->sc->expect);
}

/* Segments each stack dropped on input: the three that tell a receive-window bug from the rest
 * always (a lossless run must show 0), then every other reason that occurred. */
static void print_drops(const struct sk_stack_counters sc[2]) {
    static const enum sk_drop_reason always[] = {
        SK_DROP_TCP_OUT_OF_ORDER, SK_DROP_TCP_SEQ, SK_DROP_TCP_RCV_WINDOW,
    };
    const size_t nalways = sizeof(always) / sizeof(always[0]);
    for (int side = 0; side < 2; side++) {
        printf("  %-19s%s", side ? "" : "drops", side ? "server" : "client");
        for (size_t i = 0; i < nalways; i++)
            printf("%s%s %" PRIu64, i ? ", " : " ", sk_drop_reason_name(always[i]),
                   sc[side].drops[always[i]]);
        for (int d = 1; d < SK_DROP_REASON_COUNT && d < SK_DROP_REASON_MAX; d++) {
            bool shown = false;
            for (size_t i = 0; i < nalways; i++)
                shown |= (int)always[i] == d;
            if (!shown && sc[side].drops[d])
                printf(", %s %" PRIu64, sk_drop_reason_name((enum sk_drop_reason)d),
                       sc[side].drops[d]);
        }
        printf("\n");
    }
}

static void print_summary(const struct run *r, const struct verdict *vd, bool finished) {
    const struct ladder_glyphs *g = ladder_glyphs(r->o->ascii);
    const struct app *c = &r->app[0], *v = &r->app[1];
    const char *names[2] = {"client", "server"};
    const char *pad = r->o->ascii ? "   " : "    "; /* " -> " is one column wider than " → " */
    printf("summary\n");
    if (r->sc->data) {
        printf("  client%sserver%s%" PRIu64 " bytes sent, %" PRIu64 " received, %s\n", g->to,
               pad, c->sent, v->rcvd,
               v->bad ? "CORRUPTED" : v->rcvd == r->bytes ? "verified" : "incomplete");
        printf("  server%sclient%s%" PRIu64 " bytes echoed, %" PRIu64 " received, %s\n", g->to,
               pad, v->sent, c->rcvd,
               c->bad ? "CORRUPTED" : c->rcvd == r->bytes ? "verified" : "incomplete");
        char g0[32] = "-", g1[32] = "-";
        if (v->rcvd && v->t_last_read > c->t_start)
            human_rate(g0, sizeof(g0),
                       (double)v->rcvd * 8e6 / (double)(v->t_last_read - c->t_start));
        if (c->rcvd && c->t_last_read > c->t_start)
            human_rate(g1, sizeof(g1),
                       (double)c->rcvd * 8e6 / (double)(c->t_last_read - c->t_start));
        printf("  goodput            client%sserver %s, server%sclient %s (virtual time, "
               "from connect to the last byte read)\n", g->to, g0, g->to, g1);
    } else {
        printf("  data               none in this scenario\n");
    }
    struct sk_stack_counters sc[2];
    struct sk_memlink_stats ls[2];
    for (int side = 0; side < 2; side++) {
        sk_stack_counters(r->sim.stack[side], &sc[side]);
        sk_memlink_get_stats(r->sim.link, side, &ls[side]);
    }
    printf("  segments           client sent %" PRIu64 ", server sent %" PRIu64 "\n",
           sc[0].tcp_segs_out, sc[1].tcp_segs_out);
    for (int side = 0; side < 2; side++) {
        const struct sk_memlink_stats *l = &ls[side];
        printf("  %-19s%s%s%s frames %" PRIu64 ", lost %" PRIu64 ", dropped by rule %" PRIu64
               ", duplicated %" PRIu64 ", reordered %" PRIu64 ", corrupted %" PRIu64
               ", queue drops %" PRIu64 ", over MTU %" PRIu64 "\n",
               side ? "" : "link", names[side], g->to, names[1 - side], l->sent, l->lost,
               l->rule_hits, l->duplicated, l->reordered, l->corrupted, l->queue_drops,
               l->mtu_drops);
    }
    printf("  retransmissions    client %" PRIu64 ", server %" PRIu64
           " (tail loss probes: client %" PRIu64 ", server %" PRIu64 ")\n",
           sc[0].tcp_retransmits, sc[1].tcp_retransmits, sc[0].tcp_tail_loss_probes,
           sc[1].tcp_tail_loss_probes);
    print_drops(sc);
    printf("  srtt               ");
    for (int side = 0; side < 2; side++) {
        const struct app *a = &r->app[side];
        if (a->have_info && a->info.srtt_us)
            printf("%s %.3f ms (rto %.0f ms)", names[side], a->info.srtt_us / 1000.0,
                   a->info.rto_us / 1000.0);
        else
            printf("%s -", names[side]);
        printf(side ? "\n" : ", ");
    }
    printf("  final states       ");
    for (int side = 0; side < 2; side++) {
        const struct observed *ob = &r->obs[side];
        const struct app *a = &r->app[side];
        printf("%s %s", names[side],
               ob->have_conn ? state_str(ob->state)
               : side == 1 && r->app[1].listener ? "LISTEN (no connection)" : "-");
        if (a->err)
            printf(" (%s)", ladder_errno_name(a->err));
        printf(side ? "\n" : ", ");
    }
    sk_time_us last = r->obs[0].last_event > r->obs[1].last_event ? r->obs[0].last_event
                                                                   : r->obs[1].last_event;
    printf("  virtual time       %.3f ms to the last event%s%s\n", last / 1000.0,
           finished ? "" : "; ", finished ? "" : r->stopped);
    if (vd->nfail == 0)
        printf("  result             %sPASS: %s\n", g->yes, r->sc->expect);
    else {
        printf("  result             %sFAIL: %s\n", g->no, vd->why[0]);
        for (int i = 1; i < vd->nfail && i < MAX_FAILS; i++)
            printf("                     also: %s\n", vd->why[i]);
        if (vd->nfail > MAX_FAILS)
            printf("                     and %d more\n", vd->nfail - MAX_FAILS);
    }
}

/* ---- option parsing ---- */

void cmd_sim_usage(FILE *out) {
    fprintf(out,
        "usage: synack sim [options]\n"
        "\n"
        "Runs two synack stacks in one process: a client (10.0.0.1, or 2001:db8::1 with\n"
        "--ipv6) and an echo server (10.0.0.2 or 2001:db8::2, port 7), joined by a simulated\n"
        "link on a virtual clock; the addresses exist only inside the simulator. The client\n"
        "connects and sends seeded pseudo-random bytes, the server echoes them, both check\n"
        "every byte, and the connection closes.\n"
        "Every segment is drawn as a ladder diagram:\n"
        "\n"
        "  - one line per segment, at the time it was sent: an arrow from the client's column\n"
        "    to the server's or back, with its flags, then seq and ack (absolute, and in\n"
        "    parentheses relative to the sender's / receiver's ISN), the window as on the\n"
        "    wire, the payload length and the options (SACK blocks relative);\n"
        "  - a segment that never arrived ends in a cross (lost or corrupted on the link);\n"
        "  - state changes, timers, drops and the applications' calls on each side's column.\n"
        "\n"
        "scenarios (--scenario NAME):\n");
    for (size_t i = 0; i < NSCENARIOS; i++)
        fprintf(out, "  %-20s %s\n", scenarios[i].name, scenarios[i].what);
    fprintf(out,
        "\n"
        "options:\n"
        "  -s, --scenario NAME  the scenario to run (default handshake-close)\n"
        "  -b, --bytes N        bytes the client sends and gets back (default 1000). A suffix\n"
        "                       multiplies: k, M, G, T by 1e3, 1e6, 1e9, 1e12; Ki, Mi, Gi, Ti\n"
        "                       by 2^10, 2^20, 2^30, 2^40. Up to 1000T: the data is made and\n"
        "                       checked as it flows, never held whole. Beyond 1G the ladder\n"
        "                       is not drawn (only the summary), as with --quiet\n"
        "      --seed N         seeds the stacks, the link and the data (default 1); a run\n"
        "                       replays exactly from its seed\n"
        "  -p, --pcap FILE      write every frame on the wire to FILE (Wireshark, tshark); it is\n"
        "                       captured after loss at the sender, so lost frames are not in it\n"
        "  -v, --verbose        draw every segment (a long transfer is otherwise summed up\n"
        "                       between its first and last data segments)\n"
        "  -q, --quiet          print only the summary\n"
        "      --ascii          plain ASCII instead of UTF-8 arrows\n"
        "      --ipv6           the connection runs over IPv6, 2001:db8::1 to 2001:db8::2\n"
        "                       (MSS 60 bytes below the MTU; --mtu at least 1280)\n"
        "      --html FILE      also write the run as one self-contained HTML page: the\n"
        "                       ladder and the time-sequence graph (SVG, zoom and pan), a\n"
        "                       step-through of the segments with each side's state and why\n"
        "                       each one left, the sender's cwnd, ssthresh, SRTT and RTO\n"
        "      --lang en|zh     the page's language (default: from the locale)\n"
        "  -h, --help           show this help\n"
        "\n"
        "link (P is a probability 0..1 or a percentage such as 5%%):\n"
        "      --loss P         lose frames in both directions\n"
        "      --loss-c2s P     lose frames from the client to the server only\n"
        "      --loss-s2c P     lose frames from the server to the client only\n"
        "      --burst E,X,L    bursts of loss in both directions (Gilbert-Elliott): each frame\n"
        "                       enters the lossy state with probability E, leaves it with X,\n"
        "                       and is lost with L while in it (e.g. 1%%,30%%,50%%); on top of\n"
        "                       --loss\n"
        "      --burst-c2s E,X,L, --burst-s2c E,X,L\n"
        "                       the same in one direction only\n"
        "      --dup P          duplicate frames (both directions)\n"
        "      --reorder P      hold frames back %u ms so that later ones overtake them\n"
        "      --corrupt P      flip one bit (the receiver's checksum catches it)\n"
        "      --delay MS       one-way delay in milliseconds (default 10)\n"
        "      --rate MBIT      bandwidth in Mbit/s (default unlimited)\n"
        "      --mtu N          the MTU of the link and of both stacks, %u to %u (default\n"
        "                       1500): each announces an MSS of N-40 and sends no datagram\n"
        "                       over N; the link drops any frame that is larger\n"
        "\n"
        "slow applications (the server reading what it echoes, the client reading the echo):\n"
        "      --read N/MS      read at most N bytes every MS milliseconds of virtual time\n"
        "                       (N takes the suffixes of --bytes; e.g. 4k/10 is 400 kB/s)\n"
        "      --read-pause AT:FOR\n"
        "                       stop reading at AT ms (from the start of the run) for FOR ms;\n"
        "                       up to 8 times\n"
        "      --read-side SIDE which applications read slowly: client, server or both\n"
        "                       (default both)\n"
        "\n"
        "Each scenario states what must happen (states reached, errors seen, bytes verified)\n"
        "and the run is checked against it. The summary gives the bytes, the goodput in\n"
        "virtual time, each direction's link counters, the retransmissions and the segments\n"
        "each stack dropped on input (tcp-out-of-order-full, tcp-unacceptable-seq and\n"
        "tcp-beyond-window always, other reasons when they occur). A run is stopped after an\n"
        "hour of virtual time in which nothing is read and no state changes. Exit status:\n"
        "0 when it happened, 1 when not (the reason is printed), 2 for a bad option or value.\n"
        "\n"
        "examples:\n"
        "  synack sim\n"
        "  synack sim --scenario simultaneous-close\n"
        "  synack sim --scenario syn-loss --ascii\n"
        "  synack sim --bytes 100000 --loss 5%% --seed 7\n"
        "  synack sim --bytes 1M --rate 100 --quiet\n"
        "  synack sim --bytes 100G --quiet\n"
        "  synack sim --mtu 1400 --bytes 2M --pcap mtu.pcap --quiet\n"
        "  synack sim --bytes 10M --read 4k/10 --read-pause 500:2000 --quiet\n"
        "  synack sim --bytes 5M --loss-c2s 10%% --burst-s2c 1%%,30%%,50%% --seed 3 --quiet\n"
        "  synack sim --pcap handshake.pcap && tshark -r handshake.pcap\n",
        ARGS_REORDER_HOLD_US / 1000, MIN_MTU, MAX_MTU);
}

#define usage_error(...) args_usage_error("sim", __VA_ARGS__)

enum {
    OPT_SEED = 256, OPT_LOSS, OPT_LOSS_C2S, OPT_LOSS_S2C, OPT_BURST, OPT_BURST_C2S,
    OPT_BURST_S2C, OPT_DUP, OPT_REORDER, OPT_CORRUPT, OPT_DELAY, OPT_RATE, OPT_MTU, OPT_READ,
    OPT_READ_PAUSE, OPT_READ_SIDE, OPT_ASCII, OPT_IPV6, OPT_HTML, OPT_LANG,
};

/* Cuts text at the separator into exactly n parts written into buf (size bytes); the parts
 * point into buf. Returns false if there are not exactly n parts. */
static bool split(const char *text, char sep, char *buf, size_t size, const char **part, int n) {
    if (snprintf(buf, size, "%s", text) >= (int)size)
        return false;
    char *p = buf;
    for (int i = 0; i < n; i++) {
        part[i] = p;
        char *cut = strchr(p, sep);
        if (i == n - 1)
            return cut == NULL;
        if (!cut)
            return false;
        *cut = '\0';
        p = cut + 1;
    }
    return true;
}

/* Milliseconds as given (a real number), to whole microseconds. */
static const char *parse_ms(const char *text, double min_ms, uint64_t *us) {
    double ms;
    const char *why = args_double(text, min_ms, 1e9, &ms);
    if (!why)
        *us = (uint64_t)(ms * 1000.0 + 0.5);
    return why;
}

/* --read N/MS: at most N bytes every MS milliseconds. */
static const char *parse_read(const char *text, struct sim_opts *o) {
    char buf[128];
    const char *part[2];
    if (!split(text, '/', buf, sizeof(buf), part, 2))
        return "is not N/MS (bytes per period / period in ms, for example 4k/10)";
    uint64_t n, us;
    if (args_u64(part[0], 1, UINT32_MAX, &n))
        return "is not N/MS: N must be a whole number of bytes from 1 to 4Gi-1";
    if (parse_ms(part[1], 0.001, &us) || us == 0)
        return "is not N/MS: MS must be a number of milliseconds from 0.001 to 1e9";
    o->read_bytes = n;
    o->read_every_us = us;
    return NULL;
}

/* --read-pause AT:FOR: the reader stops at AT ms (virtual time from the start) for FOR ms. */
static const char *parse_pause(const char *text, struct sim_opts *o) {
    char buf[128];
    const char *part[2];
    struct read_pause p;
    if (o->npauses == MAX_PAUSES)
        return "is one pause too many (at most 8)";
    if (!split(text, ':', buf, sizeof(buf), part, 2))
        return "is not AT:FOR (milliseconds from the start : milliseconds stopped)";
    if (parse_ms(part[0], 0, &p.at_us) || parse_ms(part[1], 0.001, &p.len_us) || p.len_us == 0)
        return "is not AT:FOR: AT from 0 and FOR from 0.001 to 1e9 milliseconds";
    o->pause[o->npauses++] = p;
    return NULL;
}

/* --burst ENTER,EXIT,LOSS: three probabilities. */
static const char *parse_burst(const char *text, struct burst *b) {
    char buf[128];
    const char *part[3];
    double v[3];
    if (!split(text, ',', buf, sizeof(buf), part, 3))
        return "is not ENTER,EXIT,LOSS (three probabilities, for example 0.01,0.3,0.5)";
    for (int i = 0; i < 3; i++)
        if (args_probability(part[i], &v[i]))
            return "is not ENTER,EXIT,LOSS: each must be between 0 and 1 (or 0% to 100%)";
    if (v[0] > 0 && v[1] == 0)
        return "never leaves the lossy state: EXIT must be above 0";
    *b = (struct burst){.enter = v[0], .exit = v[1], .loss = v[2]};
    return NULL;
}

static const char *parse_side(const char *text, unsigned *sides) {
    if (strcmp(text, "client") == 0)
        *sides = SIDE_CLIENT;
    else if (strcmp(text, "server") == 0)
        *sides = SIDE_SERVER;
    else if (strcmp(text, "both") == 0)
        *sides = SIDE_CLIENT | SIDE_SERVER;
    else
        return "is not client, server or both";
    return NULL;
}

static const struct option sim_longopts[] = {
    {"scenario", required_argument, NULL, 's'}, {"bytes", required_argument, NULL, 'b'},
    {"seed", required_argument, NULL, OPT_SEED}, {"pcap", required_argument, NULL, 'p'},
    {"verbose", no_argument, NULL, 'v'},        {"quiet", no_argument, NULL, 'q'},
    {"ascii", no_argument, NULL, OPT_ASCII},     {"help", no_argument, NULL, 'h'},
    {"ipv6", no_argument, NULL, OPT_IPV6},
    {"loss", required_argument, NULL, OPT_LOSS},
    {"loss-c2s", required_argument, NULL, OPT_LOSS_C2S},
    {"loss-s2c", required_argument, NULL, OPT_LOSS_S2C},
    {"burst", required_argument, NULL, OPT_BURST},
    {"burst-c2s", required_argument, NULL, OPT_BURST_C2S},
    {"burst-s2c", required_argument, NULL, OPT_BURST_S2C},
    {"dup", required_argument, NULL, OPT_DUP},
    {"reorder", required_argument, NULL, OPT_REORDER},
    {"corrupt", required_argument, NULL, OPT_CORRUPT},
    {"delay", required_argument, NULL, OPT_DELAY}, {"rate", required_argument, NULL, OPT_RATE},
    {"mtu", required_argument, NULL, OPT_MTU},
    {"read", required_argument, NULL, OPT_READ},
    {"read-pause", required_argument, NULL, OPT_READ_PAUSE},
    {"read-side", required_argument, NULL, OPT_READ_SIDE},
    {"html", required_argument, NULL, OPT_HTML},
    {"lang", required_argument, NULL, OPT_LANG},
    {NULL, 0, NULL, 0},
};

/* One option with its value; returns NULL or why the value is bad. */
static const char *sim_option(int ch, const char *arg, struct sim_opts *o) {
    switch (ch) {
    case 'b': return args_u64(arg, 0, MAX_BYTES, &o->bytes);
    case OPT_SEED: return args_u64(arg, 0, UINT64_MAX, &o->seed);
    case 'p': o->pcap = arg; return *arg ? NULL : "is empty";
    case OPT_LOSS: {
        const char *why = args_probability(arg, &o->loss[0]);
        o->loss[1] = o->loss[0];
        return why;
    }
    case OPT_LOSS_C2S: return args_probability(arg, &o->loss[0]);
    case OPT_LOSS_S2C: return args_probability(arg, &o->loss[1]);
    case OPT_BURST: {
        const char *why = parse_burst(arg, &o->burst[0]);
        o->burst[1] = o->burst[0];
        return why;
    }
    case OPT_BURST_C2S: return parse_burst(arg, &o->burst[0]);
    case OPT_BURST_S2C: return parse_burst(arg, &o->burst[1]);
    case OPT_DUP: return args_probability(arg, &o->link.dup);
    case OPT_REORDER: return args_probability(arg, &o->link.reorder);
    case OPT_CORRUPT: return args_probability(arg, &o->link.corrupt);
    case OPT_DELAY: return args_double(arg, 0, 60000, &o->link.delay_ms);
    case OPT_RATE: return args_double(arg, 0.001, 1e6, &o->link.rate_mbit);
    case OPT_MTU: {
        const char *why = args_u64(arg, 0, UINT64_MAX, &o->mtu);
        if (!why && (o->mtu < MIN_MTU || o->mtu > MAX_MTU))
            why = o->mtu < MIN_MTU ? "is too small: the stacks need at least 116 (40 bytes of "
                                     "headers, 12 of timestamps and a 64-byte segment)"
                                   : "is too large: an IPv4 datagram is at most 65535 bytes";
        return why;
    }
    case OPT_READ: return parse_read(arg, o);
    case OPT_READ_PAUSE: return parse_pause(arg, o);
    case OPT_READ_SIDE: return parse_side(arg, &o->read_sides);
    case OPT_HTML: o->html = arg; return *arg ? NULL : "is empty";
    case OPT_LANG: return i18n_parse(arg, &o->lang) == 0 ? NULL : "is not en or zh";
    default: return "is not understood";
    }
}

/* Returns -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, struct sim_opts *o) {
    memset(o, 0, sizeof(*o));
    o->sc = &scenarios[0];
    o->bytes = 1000;
    o->seed = 1;
    o->link.delay_ms = 10;
    o->read_sides = SIDE_CLIENT | SIDE_SERVER;
    o->lang = i18n_from_env();

    opterr = 0;
    optind = 1;
    int ch, idx;
    while ((ch = getopt_long(argc, argv, ":s:b:p:vqh", sim_longopts, &idx)) != -1) {
        switch (ch) {
        case 's':
            o->sc = find_scenario(optarg);
            if (!o->sc) {
                fprintf(stderr, "synack sim: unknown scenario '%s'; the scenarios are:", optarg);
                for (size_t i = 0; i < NSCENARIOS; i++)
                    fprintf(stderr, " %s", scenarios[i].name);
                fprintf(stderr, "\n");
                return EXIT_USAGE;
            }
            break;
        case 'v': o->verbose = true; break;
        case 'q': o->quiet = true; break;
        case OPT_ASCII: o->ascii = true; break;
        case OPT_IPV6: o->ipv6 = true; break;
        case 'h': cmd_sim_usage(stdout); return 0;
        case ':':
            return usage_error("option '%s' needs a value", argv[optind - 1]);
        case '?': {
            const char *arg = argv[optind - 1];
            if (strncmp(arg, "--", 2) == 0 && strchr(arg, '=') && optopt)
                return usage_error("option '%.*s' takes no value", (int)(strchr(arg, '=') - arg),
                                   arg);
            if (strncmp(arg, "--", 2) == 0 || !optopt)
                return usage_error("unknown option '%s'", arg);
            return usage_error("unknown option '-%c'", optopt);
        }
        default: {
            const char *why = sim_option(ch, optarg, o);
            if (why)
                return args_bad_value("sim", sim_longopts, ch, optarg, why);
        }
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    if (o->ipv6 && o->mtu && o->mtu < 1280) /* RFC 8200 §5: every IPv6 link carries 1280 */
        return usage_error("--mtu %" PRIu64 " is below IPv6's minimum of 1280", o->mtu);
    return -1;
}

/* ---- the run ---- */

static uint64_t derive_seed(uint64_t seed, uint64_t what) {
    return mix64(seed ^ mix64(what));
}

static void config_side(struct sk_config *cfg, uint32_t addr, const uint8_t *addr6,
                        uint64_t seed, uint64_t mtu) {
    sk_config_default(cfg);
    cfg->addr = addr;
    cfg->prefix_len = 24;
    if (addr6) { /* a static address, usable at once: no DAD on a simulated link */
        cfg->ip6 = true;
        memcpy(cfg->addr6[0].addr, addr6, 16);
        cfg->addr6[0].prefix_len = 64;
        cfg->addr6_count = 1;
        cfg->ip6_dad_transmits = 0;
        cfg->ip6_linklocal = SK_IP6_LL_OFF;
    }
    sk_config_set_test_seed(cfg, seed); /* simulated: --seed replays the run exactly */
    /* The link's MTU is the stacks' too: the MSS each announces follows from it (RFC 9293
     * §3.7.1), so neither sends a datagram the link would drop. */
    if (mtu)
        cfg->mtu = (uint16_t)mtu;
}

static void set_link(struct run *r) {
    const struct sim_opts *o = r->o;
    struct sk_memlink_faults f = {0};
    args_link_faults(&o->link, &f);
    f.mtu = (uint16_t)o->mtu;
    for (int side = 0; side < 2; side++) {
        f.loss = o->loss[side];
        f.burst_enter = o->burst[side].enter;
        f.burst_exit = o->burst[side].exit;
        f.burst_loss = o->burst[side].loss;
        sk_memlink_set_faults(r->sim.link, side, &f);
    }
    if (r->sc->drop_first_syn) {
        struct sk_memlink_rule rule = {
            .from_side = 0, .tcp_flags_mask = SK_TCP_SYN | SK_TCP_ACK,
            .tcp_flags_value = SK_TCP_SYN, .nth = 1, .action = SK_MEMLINK_DROP,
        };
        sk_memlink_add_rule(r->sim.link, &rule);
    }
}

/* The earliest time a slow reader wants to read again, SK_TIME_NEVER if none waits. */
static sk_time_us apps_wake(const struct run *r) {
    sk_time_us t = SK_TIME_NEVER;
    for (int side = 0; side < 2; side++)
        if (r->app[side].conn && r->app[side].read_wake < t)
            t = r->app[side].read_wake;
    return t;
}

/* Steps the simulation until nothing is left to happen. False (with r->stopped set) if it
 * had to be stopped: an hour of virtual time (plus the longest reader pause) without a byte
 * read or a state changed, or far more segments than the data needs. A transfer may take as
 * long as it likes while it moves. */
static bool run_to_idle(struct run *r) {
    sk_time_us stall_us = STALL_LIMIT_US;
    for (int i = 0; i < r->o->npauses; i++)
        stall_us += r->o->pause[i].len_us;
    apps_drive(r);
    for (;;) {
        sk_time_us give_up = r->last_progress + stall_us, wake = apps_wake(r);
        sk_time_us limit = wake < give_up ? wake : give_up;
        if (!sk_sim_step(&r->sim, limit)) {
            if (r->sim.now == wake && wake < give_up) {
                apps_drive(r); /* a slow reader's turn to read */
                continue;
            }
            /* Nothing before the limit: settled if nothing is pending at all. */
            if (sk_memlink_next_deadline(r->sim.link) == SK_TIME_NEVER &&
                sk_stack_next_deadline(r->sim.stack[0]) == SK_TIME_NEVER &&
                sk_stack_next_deadline(r->sim.stack[1]) == SK_TIME_NEVER &&
                apps_wake(r) == SK_TIME_NEVER)
                return true;
            snprintf(r->stopped, sizeof(r->stopped),
                     "nothing read and no state changed for %llu s of virtual time "
                     "(stopped at %.3f s)", (unsigned long long)(stall_us / 1000000),
                     r->sim.now / 1e6);
            return false;
        }
        apps_drive(r);
        uint64_t segs = (uint64_t)r->obs[0].segs + r->obs[1].segs;
        if (segs > r->seg_cap) {
            snprintf(r->stopped, sizeof(r->stopped),
                     "stopped at %.3f ms after %" PRIu64 " segments without settling "
                     "(a loop? see the ladder)", r->sim.now / 1000.0, segs);
            return false;
        }
    }
}

int cmd_sim(int argc, char **argv) {
    struct sim_opts o;
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0)
        return rc;

    struct run *r = calloc(1, sizeof(*r));
    uint8_t *buf = malloc(IO_CHUNK);
    if (!r || !buf) {
        fprintf(stderr, "synack sim: out of memory\n");
        free(r);
        free(buf);
        return 1;
    }
    r->o = &o;
    r->sc = o.sc;
    r->bytes = o.sc->data ? o.bytes : 0;
    r->data_seed = derive_seed(o.seed, 4);
    /* Even at 1-byte segments with every one lost a few times, far fewer than this. */
    r->seg_cap = 20000 + 40 * (r->bytes / 500);
    r->buf = buf;
    for (int side = 0; side < 2; side++)
        r->app[side] = (struct app){.side = side, .name = side ? "server" : "client",
                                    .read_period = UINT64_MAX, .read_wake = SK_TIME_NEVER};

    struct sk_config ca, cb;
    config_side(&ca, ADDR_CLIENT, o.ipv6 ? ADDR6_CLIENT : NULL, derive_seed(o.seed, 1), o.mtu);
    config_side(&cb, ADDR_SERVER, o.ipv6 ? ADDR6_SERVER : NULL, derive_seed(o.seed, 2), o.mtu);
    int err = sk_sim_init(&r->sim, &ca, &cb, derive_seed(o.seed, 3), 0);
    if (err) {
        fprintf(stderr, "synack sim: cannot set up the simulation: %s\n", strerror(-err));
        free(buf);
        free(r);
        return 1;
    }
    struct sk_pcap *pcap = NULL;
    if (o.pcap) {
        pcap = sk_pcap_open(o.pcap, SK_LINK_IP);
        if (!pcap) {
            fprintf(stderr, "synack sim: cannot write %s: %s\n", o.pcap, strerror(errno));
            sk_sim_destroy(&r->sim);
            free(buf);
            free(r);
            return 1;
        }
        r->sim.pcap = pcap;
    }
    r->ladder_skipped = !o.quiet && r->bytes > LADDER_MAX_BYTES;
    if (!o.quiet && !r->ladder_skipped) {
        struct ladder_options lo = {.ascii = o.ascii, .verbose = o.verbose,
                                    .names = {"client", "server"}};
        r->lad = ladder_new(&lo);
    }
    if (o.html) {
        struct run_model_opts mo = {.source = "sim", .title = o.sc->name, .lang = o.lang,
                                    .link_type = SK_LINK_IP, .both_stacks = true};
        r->model = run_model_new(&mo);
        if (!r->model)
            fprintf(stderr, "synack sim: out of memory: no page\n");
    }
    r->sim.trace = on_trace;
    r->sim.trace_ctx = r;
    r->app[0].st = r->sim.stack[0];
    r->app[1].st = r->sim.stack[1];
    set_link(r);

    rc = 0;
    bool finished = false;
    if (apps_start(r) != 0)
        rc = 1;
    else
        finished = run_to_idle(r);
    for (int side = 0; side < 2; side++)
        if (!r->app[side].have_info)
            snapshot(&r->app[side]);

    if (rc == 0) {
        struct verdict vd = {0};
        check_outcome(r, finished, &vd);
        if (r->ladder_skipped) {
            print_header(r);
            printf("(no ladder for more than %llu bytes: it would hold every segment in memory)"
                   "\n\n", (unsigned long long)LADDER_MAX_BYTES);
        } else if (!o.quiet) {
            print_header(r);
            char t0[80], t1[80], a0[SK_ADDR_STRLEN + 2], a1[SK_ADDR_STRLEN + 2];
            side_addr(r, 0, a0, sizeof(a0));
            side_addr(r, 1, a1, sizeof(a1));
            snprintf(t0, sizeof(t0), "client %s:%u", a0, r->app[0].lport);
            snprintf(t1, sizeof(t1), "server %s:%u", a1, r->app[1].lport);
            const char *titles[2] = {t0, t1};
            ladder_print(r->lad, stdout, titles, finished);
            if (ladder_incomplete(r->lad))
                printf("(out of memory while recording: some rows are missing)\n");
            printf("\n");
        }
        print_summary(r, &vd, finished);
        fflush(stdout);
        if (r->model && html_write_file(run_model_finish(r->model, finished), o.html,
                                        "synack sim") != 0)
            rc = 1;
        if (vd.nfail) {
            fprintf(stderr, "synack sim: scenario %s failed: %s\n", r->sc->name, vd.why[0]);
            rc = 1;
        }
    }

    r->sim.trace = NULL;
    sk_sim_destroy(&r->sim);
    if (pcap) {
        int perr = sk_pcap_close(pcap);
        if (perr) {
            fprintf(stderr, "synack sim: writing %s failed: %s\n", o.pcap, strerror(-perr));
            rc = 1;
        }
    }
    ladder_free(r->lad);
    run_model_free(r->model);
    for (int side = 0; side < 2; side++)
        free(r->app[side].pend);
    free(buf);
    free(r);
    return rc;
}
