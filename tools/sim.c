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
#include "ladder.h"
#include "synack/synack.h"

#define ADDR_CLIENT 0x0a000001u /* 10.0.0.1 */
#define ADDR_SERVER 0x0a000002u /* 10.0.0.2 */
#define ECHO_PORT 7             /* the echo service (RFC 862) */
#define UNUSED_PORT 9           /* nobody listens here: the refused scenario */
#define SIMOPEN_PORT_CLIENT 40001
#define SIMOPEN_PORT_SERVER 40002
#define MAX_BYTES 1000000000ull
#define IO_CHUNK 65536
#define ECHO_BACKLOG_BYTES (256u * 1024u) /* the echo server stops reading beyond this */
#define REORDER_HOLD_US 5000u
#define RUN_LIMIT_US (4ull * 3600 * 1000000) /* virtual time */
#define MAX_STEPS 200000000ull

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

struct sim_opts {
    const struct scenario *sc;
    uint64_t bytes, seed, mtu;
    double loss, dup, reorder, corrupt, delay_ms, rate_mbit;
    const char *pcap;
    bool verbose, quiet, ascii;
};

/* ---- the test data: byte i of a stream is a function of the seed and i ---- */

static uint64_t mix64(uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void data_fill(uint64_t seed, uint64_t offset, uint8_t *buf, size_t len) {
    for (size_t i = 0; i < len;) {
        uint64_t pos = offset + i;
        uint64_t word = mix64(seed ^ mix64(pos >> 3)); /* bytes 8k..8k+7 of the stream */
        for (unsigned k = pos & 7; k < 8 && i < len; k++, i++)
            buf[i] = (uint8_t)(word >> (k * 8));
    }
}

/* Offset of the first byte of buf that differs from the stream at offset, or -1. */
static int64_t data_check(uint64_t seed, uint64_t offset, const uint8_t *buf, size_t len) {
    uint8_t want[4096];
    for (size_t done = 0; done < len;) {
        size_t n = len - done < sizeof(want) ? len - done : sizeof(want);
        data_fill(seed, offset + done, want, n);
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
    uint32_t syns, rsts, segs;
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
};

struct run {
    const struct sim_opts *o;
    const struct scenario *sc;
    uint64_t bytes;        /* what the client sends (0 when the scenario has no data) */
    uint64_t data_seed;
    struct sk_sim sim;
    struct ladder *lad;
    struct app app[2];
    struct observed obs[2];
    uint8_t *buf;
    bool aborted_by_client;
    uint64_t seg_cap;      /* a run sending more segments than this is stuck in a loop */
    char stopped[160];     /* why the run was stopped before it settled, "" if it settled */
};

static void on_trace(void *ctx, int side, const struct sk_trace_event *ev) {
    struct run *r = ctx;
    struct observed *ob = &r->obs[side];
    ob->last_event = ev->time;
    switch (ev->kind) {
    case SK_TRACE_STATE:
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
}

static sk_time_us now_of(const struct run *r) {
    return r->sim.now;
}

static void snapshot(struct app *a) {
    if (a->conn) {
        sk_tcp_get_info(a->conn, &a->info);
        a->have_info = true;
    }
}

/* Gives the handle back to the stack (which may keep the TCB through TIME-WAIT). */
static void app_close(struct run *r, struct app *a, const char *why) {
    if (!a->conn)
        return;
    snapshot(a);
    ladder_note(r->lad, a->side, now_of(r), "close()%s", why);
    sk_tcp_close(a->conn);
    a->conn = NULL;
    a->done = true;
}

static bool can_send(enum sk_tcp_state s) {
    return s == SK_TCP_ESTABLISHED || s == SK_TCP_CLOSE_WAIT;
}

/* Reads what is there, checks it against the stream; the echo side keeps it to send back. */
static void app_read(struct run *r, struct app *a, bool keep) {
    for (;;) {
        if (keep && a->pend_len - a->pend_off >= ECHO_BACKLOG_BYTES && r->sc->close != CLOSE_HALF)
            return; /* back-pressure: echo some before reading more */
        ssize_t n = sk_tcp_recv(a->conn, r->buf, IO_CHUNK);
        if (n > 0) {
            if (!a->bad) {
                int64_t at = data_check(r->data_seed, a->rcvd, r->buf, (size_t)n);
                if (at >= 0) {
                    a->bad = true;
                    a->bad_at = (uint64_t)at;
                }
            }
            a->rcvd += (uint64_t)n;
            a->t_last_read = now_of(r);
            if (keep) {
                if (a->pend_len + (size_t)n > a->pend_cap) {
                    size_t cap = a->pend_cap ? a->pend_cap : 65536;
                    while (cap < a->pend_len + (size_t)n)
                        cap *= 2;
                    uint8_t *p = realloc(a->pend, cap);
                    if (!p) {
                        a->err = -ENOMEM;
                        return;
                    }
                    a->pend = p;
                    a->pend_cap = cap;
                }
                memcpy(a->pend + a->pend_len, r->buf, (size_t)n);
                a->pend_len += (size_t)n;
            }
            continue;
        }
        if (n == 0) {
            if (!a->eof) {
                a->eof = true;
                ladder_note(r->lad, a->side, now_of(r),
                            "recv() = 0: EOF after %" PRIu64 " bytes", a->rcvd);
            }
            return;
        }
        if (n != -EAGAIN && !a->err) {
            a->err = (int)n;
            ladder_note(r->lad, a->side, now_of(r), "recv() fails: %s",
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
        ladder_note(r->lad, a->side, now_of(r), "%s %s", a->opened ? "the application sees"
                    : "connect() fails:", ladder_errno_name(err));
    }
    app_close(r, a, "");
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
            ladder_note(r->lad, 0, now_of(r), "send() %" PRIu64 " bytes of test data",
                        r->bytes);
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
            ladder_note(r->lad, 0, now_of(r), "has its echo: shutdown(), FIN follows");
            c->shut = true;
            sk_tcp_shutdown(c->conn);
        }
        break;
    case CLOSE_HALF:
        if (!c->shut && all_sent) {
            ladder_note(r->lad, 0, now_of(r), "shutdown() after sending: FIN, keeps reading");
            c->shut = true;
            sk_tcp_shutdown(c->conn);
        }
        break;
    case CLOSE_ABORT:
        if (all_sent && all_back) {
            snapshot(c);
            ladder_note(r->lad, 0, now_of(r), "has its echo: abort(), RST");
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
        app_close(r, c, "");
}

static void server_drive(struct run *r) {
    struct app *v = &r->app[1];
    if (v->listener && !v->conn && !v->done) {
        struct sk_tcp *c;
        if (sk_tcp_accept(v->listener, &c) == 0) {
            struct sk_tcp_info info;
            sk_tcp_get_info(c, &info);
            ladder_note(r->lad, 1, now_of(r), "accept(): 10.0.0.1:%u",
                        info.rport);
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
    bool may_send = r->sc->close != CLOSE_HALF || v->eof;
    if (may_send && v->pend_off < v->pend_len && can_send(sk_tcp_get_state(v->conn))) {
        if (r->sc->close == CLOSE_HALF && v->sent == 0)
            ladder_note(r->lad, 1, now_of(r), "send() %zu bytes in CLOSE-WAIT",
                        v->pend_len - v->pend_off);
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
    bool drained = v->pend_off == v->pend_len;
    switch (r->sc->close) {
    case CLOSE_CLIENT_FIRST:
    case CLOSE_HALF:
        if (v->eof && drained)
            app_close(r, v, ": FIN follows the echo");
        break;
    case CLOSE_SIMULTANEOUS:
        if (v->shut && v->eof)
            app_close(r, v, "");
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
        ladder_note(r->lad, side, now_of(r), "shutdown(), same instant as the %s",
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
    switch (r->sc->open) {
    case OPEN_SIMULTANEOUS:
        ladder_note(r->lad, 0, now_of(r), "connect(10.0.0.2:%u) from %u",
                    SIMOPEN_PORT_SERVER, SIMOPEN_PORT_CLIENT);
        err = sk_tcp_connect(c->st, SIMOPEN_PORT_CLIENT, ADDR_SERVER, SIMOPEN_PORT_SERVER,
                             &c->conn);
        if (err) {
            what = "client connect";
            break;
        }
        ladder_note(r->lad, 1, now_of(r), "connect(10.0.0.1:%u) from %u",
                    SIMOPEN_PORT_CLIENT, SIMOPEN_PORT_SERVER);
        err = sk_tcp_connect(v->st, SIMOPEN_PORT_SERVER, ADDR_CLIENT, SIMOPEN_PORT_CLIENT,
                             &v->conn);
        what = "server connect";
        v->lport = SIMOPEN_PORT_SERVER;
        break;
    case OPEN_ACTIVE:
    case OPEN_REFUSED:
    default: {
        ladder_note(r->lad, 1, now_of(r), "listen(port %u)", ECHO_PORT);
        err = sk_tcp_listen(v->st, ECHO_PORT, 16, &v->listener);
        if (err) {
            what = "listen";
            break;
        }
        v->lport = ECHO_PORT;
        uint16_t port = r->sc->open == OPEN_REFUSED ? UNUSED_PORT : ECHO_PORT;
        ladder_note(r->lad, 0, now_of(r), "connect(10.0.0.2:%u)", port);
        err = sk_tcp_connect(c->st, 0, ADDR_SERVER, port, &c->conn);
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

static void describe_link(const struct sim_opts *o, char *buf, size_t size) {
    size_t n = (size_t)snprintf(buf, size, "%g ms one-way delay", o->delay_ms);
#define ADD(...) (n += (size_t)snprintf(buf + n, n < size ? size - n : 0, __VA_ARGS__))
    if (o->rate_mbit > 0)
        ADD(", %g Mbit/s", o->rate_mbit);
    if (o->loss > 0)
        ADD(", loss %g%%", o->loss * 100);
    if (o->dup > 0)
        ADD(", duplication %g%%", o->dup * 100);
    if (o->reorder > 0)
        ADD(", reordering %g%%", o->reorder * 100);
    if (o->corrupt > 0)
        ADD(", corruption %g%%", o->corrupt * 100);
    if (o->mtu > 0)
        ADD(", frames over %" PRIu64 " bytes dropped", o->mtu);
    if (!(o->loss > 0 || o->dup > 0 || o->reorder > 0 || o->corrupt > 0 || o->mtu > 0))
        ADD(", no faults");
    else
        ADD(" (both directions)");
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
    printf("expect: %s\n\n", r->sc->expect);
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
    printf("  link               lost %" PRIu64 ", dropped by rule %" PRIu64
           ", duplicated %" PRIu64 ", reordered %" PRIu64 ", corrupted %" PRIu64
           ", queue drops %" PRIu64 ", over MTU %" PRIu64 "\n",
           ls[0].lost + ls[1].lost, r->sc->drop_first_syn ? ls[0].rule_hits : 0,
           ls[0].duplicated + ls[1].duplicated, ls[0].reordered + ls[1].reordered,
           ls[0].corrupted + ls[1].corrupted, ls[0].queue_drops + ls[1].queue_drops,
           ls[0].mtu_drops + ls[1].mtu_drops);
    printf("  retransmissions    client %" PRIu64 ", server %" PRIu64 "\n",
           sc[0].tcp_retransmits, sc[1].tcp_retransmits);
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
        "Runs two synack stacks in one process: a client (10.0.0.1) and an echo server\n"
        "(10.0.0.2, port 7), joined by a simulated link on a virtual clock; the addresses\n"
        "exist only inside the simulator. The client connects and sends seeded pseudo-random\n"
        "bytes, the server echoes them, both check every byte, and the connection closes.\n"
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
        "  -b, --bytes N        bytes the client sends and gets back (default 1000; a k, M or\n"
        "                       G suffix multiplies by 1e3, 1e6, 1e9; at most 1G)\n"
        "      --seed N         seeds the stacks, the link and the data (default 1); a run\n"
        "                       replays exactly from its seed\n"
        "  -p, --pcap FILE      write every frame on the wire to FILE (Wireshark, tshark)\n"
        "  -v, --verbose        draw every segment (a long transfer is otherwise summed up\n"
        "                       between its first and last data segments)\n"
        "  -q, --quiet          print only the summary\n"
        "      --ascii          plain ASCII instead of UTF-8 arrows\n"
        "  -h, --help           show this help\n"
        "\n"
        "link (both directions; P is a probability 0..1 or a percentage such as 5%%):\n"
        "      --loss P         lose frames\n"
        "      --dup P          duplicate frames\n"
        "      --reorder P      hold frames back %u ms so that later ones overtake them\n"
        "      --corrupt P      flip one bit (the receiver's checksum catches it)\n"
        "      --delay MS       one-way delay in milliseconds (default 10)\n"
        "      --rate MBIT      bandwidth in Mbit/s (default unlimited)\n"
        "      --mtu N          drop frames larger than N bytes (the stacks still use 1500)\n"
        "\n"
        "Each scenario states what must happen (states reached, errors seen, bytes verified)\n"
        "and the run is checked against it. Exit status: 0 when it happened, 1 when not (the\n"
        "reason is printed), 2 for a bad option or value.\n"
        "\n"
        "examples:\n"
        "  synack sim\n"
        "  synack sim --scenario simultaneous-close\n"
        "  synack sim --scenario syn-loss --ascii\n"
        "  synack sim --bytes 100000 --loss 5%% --seed 7\n"
        "  synack sim --bytes 1M --rate 100 --quiet\n"
        "  synack sim --pcap handshake.pcap && tshark -r handshake.pcap\n",
        REORDER_HOLD_US / 1000);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "synack sim: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'synack sim --help')\n");
    return EXIT_USAGE;
}

enum {
    OPT_SEED = 256, OPT_LOSS, OPT_DUP, OPT_REORDER, OPT_CORRUPT, OPT_DELAY, OPT_RATE, OPT_MTU,
    OPT_ASCII,
};

/* Returns -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, struct sim_opts *o) {
    static const struct option longopts[] = {
        {"scenario", required_argument, NULL, 's'}, {"bytes", required_argument, NULL, 'b'},
        {"seed", required_argument, NULL, OPT_SEED}, {"pcap", required_argument, NULL, 'p'},
        {"verbose", no_argument, NULL, 'v'},        {"quiet", no_argument, NULL, 'q'},
        {"ascii", no_argument, NULL, OPT_ASCII},     {"help", no_argument, NULL, 'h'},
        {"loss", required_argument, NULL, OPT_LOSS}, {"dup", required_argument, NULL, OPT_DUP},
        {"reorder", required_argument, NULL, OPT_REORDER},
        {"corrupt", required_argument, NULL, OPT_CORRUPT},
        {"delay", required_argument, NULL, OPT_DELAY}, {"rate", required_argument, NULL, OPT_RATE},
        {"mtu", required_argument, NULL, OPT_MTU},   {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof(*o));
    o->sc = &scenarios[0];
    o->bytes = 1000;
    o->seed = 1;
    o->delay_ms = 10;

    opterr = 0;
    optind = 1;
    int ch, idx;
    while ((ch = getopt_long(argc, argv, ":s:b:p:vqh", longopts, &idx)) != -1) {
        const char *why = NULL, *name = NULL;
        /* The option as the user wrote it, for messages. */
        char optname[64];
        if (ch != '?' && ch != ':') {
            for (const struct option *lo = longopts; lo->name; lo++)
                if (lo->val == ch)
                    name = lo->name;
            snprintf(optname, sizeof(optname), "--%s", name ? name : "?");
        }
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
        case 'b': why = args_u64(optarg, 0, MAX_BYTES, &o->bytes); break;
        case OPT_SEED: why = args_u64(optarg, 0, UINT64_MAX, &o->seed); break;
        case 'p':
            if (!*optarg)
                why = "is empty";
            o->pcap = optarg;
            break;
        case 'v': o->verbose = true; break;
        case 'q': o->quiet = true; break;
        case OPT_ASCII: o->ascii = true; break;
        case 'h': cmd_sim_usage(stdout); return 0;
        case OPT_LOSS: why = args_probability(optarg, &o->loss); break;
        case OPT_DUP: why = args_probability(optarg, &o->dup); break;
        case OPT_REORDER: why = args_probability(optarg, &o->reorder); break;
        case OPT_CORRUPT: why = args_probability(optarg, &o->corrupt); break;
        case OPT_DELAY: why = args_double(optarg, 0, 60000, &o->delay_ms); break;
        case OPT_RATE: why = args_double(optarg, 0.001, 1e6, &o->rate_mbit); break;
        case OPT_MTU: why = args_u64(optarg, 68, 65535, &o->mtu); break;
        case ':':
            return usage_error("option '%s' needs a value", argv[optind - 1]);
        case '?':
        default: {
            const char *arg = argv[optind - 1];
            if (strncmp(arg, "--", 2) == 0 && strchr(arg, '=') && optopt)
                return usage_error("option '%.*s' takes no value", (int)(strchr(arg, '=') - arg),
                                   arg);
            if (strncmp(arg, "--", 2) == 0 || !optopt)
                return usage_error("unknown option '%s'", arg);
            return usage_error("unknown option '-%c'", optopt);
        }
        }
        if (why)
            return usage_error("%s '%s' %s", optname, optarg, why);
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    return -1;
}

/* ---- the run ---- */

static uint64_t derive_seed(uint64_t seed, uint64_t what) {
    return mix64(seed ^ mix64(what));
}

static void config_side(struct sk_config *cfg, uint32_t addr, uint64_t seed) {
    sk_config_default(cfg);
    cfg->addr = addr;
    cfg->prefix_len = 24;
    cfg->random_seed = seed;
}

static void set_link(struct run *r) {
    const struct sim_opts *o = r->o;
    struct sk_memlink_faults f = {0};
    f.loss = o->loss;
    f.dup = o->dup;
    f.reorder = o->reorder;
    f.reorder_us = REORDER_HOLD_US;
    f.corrupt = o->corrupt;
    f.delay_us = (uint32_t)(o->delay_ms * 1000.0 + 0.5);
    f.rate_bps = (uint64_t)(o->rate_mbit * 1e6 + 0.5);
    f.mtu = (uint16_t)o->mtu;
    sk_memlink_set_faults(r->sim.link, 0, &f);
    sk_memlink_set_faults(r->sim.link, 1, &f);
    if (r->sc->drop_first_syn) {
        struct sk_memlink_rule rule = {
            .from_side = 0, .tcp_flags_mask = SK_TCP_SYN | SK_TCP_ACK,
            .tcp_flags_value = SK_TCP_SYN, .nth = 1, .action = SK_MEMLINK_DROP,
        };
        sk_memlink_add_rule(r->sim.link, &rule);
    }
}

/* Steps the simulation until nothing is left to happen. False (with r->stopped set) if it
 * had to be stopped: the virtual time limit, or far more segments than the data needs. */
static bool run_to_idle(struct run *r) {
    apps_drive(r);
    for (uint64_t steps = 0; steps < MAX_STEPS; steps++) {
        if (!sk_sim_step(&r->sim, RUN_LIMIT_US)) {
            /* Nothing before the limit: settled if nothing is pending at all. */
            if (sk_memlink_next_deadline(r->sim.link) == SK_TIME_NEVER &&
                sk_stack_next_deadline(r->sim.stack[0]) == SK_TIME_NEVER &&
                sk_stack_next_deadline(r->sim.stack[1]) == SK_TIME_NEVER)
                return true;
            snprintf(r->stopped, sizeof(r->stopped),
                     "still busy after %llu s of virtual time",
                     (unsigned long long)(RUN_LIMIT_US / 1000000));
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
    snprintf(r->stopped, sizeof(r->stopped), "stopped after %llu simulation steps",
             (unsigned long long)MAX_STEPS);
    return false;
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
    r->app[0] = (struct app){.side = 0, .name = "client"};
    r->app[1] = (struct app){.side = 1, .name = "server"};

    struct sk_config ca, cb;
    config_side(&ca, ADDR_CLIENT, derive_seed(o.seed, 1));
    config_side(&cb, ADDR_SERVER, derive_seed(o.seed, 2));
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
    if (!o.quiet) {
        struct ladder_options lo = {.ascii = o.ascii, .verbose = o.verbose,
                                    .names = {"client", "server"}};
        r->lad = ladder_new(&lo);
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
        if (!o.quiet) {
            print_header(r);
            char t0[64], t1[64];
            snprintf(t0, sizeof(t0), "client 10.0.0.1:%u", r->app[0].lport);
            snprintf(t1, sizeof(t1), "server 10.0.0.2:%u", r->app[1].lport);
            const char *titles[2] = {t0, t1};
            ladder_print(r->lad, stdout, titles, finished);
            if (ladder_incomplete(r->lad))
                printf("(out of memory while recording: some rows are missing)\n");
            printf("\n");
        }
        print_summary(r, &vd, finished);
        fflush(stdout);
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
    for (int side = 0; side < 2; side++)
        free(r->app[side].pend);
    free(buf);
    free(r);
    return rc;
}
