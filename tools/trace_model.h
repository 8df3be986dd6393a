/* synack CLI: a traced run held in memory, the one model behind every view of it.
 *
 * `synack trace` fills it from a capture through the passive observer (synack/observe.h);
 * `sim --html`, `serve --html` and `connect --html` fill it from synack's own trace events,
 * with what only the sender knows (cwnd, ssthresh, SRTT, RTO, why a segment left). The
 * terminal ladder, `--json` and the HTML page (html.c) are drawn from it.
 */
#ifndef SYNACK_TOOLS_TRACE_MODEL_H
#define SYNACK_TOOLS_TRACE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "i18n.h"
#include "synack/synack.h"

enum tm_kind {
    TM_SEG = 1, /* a segment, with the observer's view of it */
    TM_STATE,   /* a state change known for certain (synack's own trace), side `side` */
    TM_NOTE,    /* words on one side's column: an application call, a timer, a drop */
};

/* What only synack's own sender knows, at the moment a segment left. */
struct tm_sender {
    bool known;                 /* false for captures */
    uint32_t cwnd, ssthresh;    /* bytes */
    uint32_t srtt_us, rto_us;
    uint32_t snd_una, snd_nxt, snd_wnd;
    const char *why;            /* stable short id of why it left: "new-data", "rto", ... */
};

struct tm_event {
    enum tm_kind kind;
    uint8_t side;               /* TM_SEG: the sender; TM_STATE, TM_NOTE: whose column */
    sk_time_us t;
    struct sk_obs_segment seg;  /* TM_SEG */
    struct tm_sender sender;    /* TM_SEG */
    bool lost;                  /* TM_SEG in a simulation: it never arrived */
    enum sk_tcp_state from, to; /* TM_STATE */
    char *text;                 /* TM_NOTE: owned, already in the chosen language */
};

struct tm_conn {
    struct sk_obs_conn_info info;
    const char *names[2];       /* "client"/"server" or the like, in the chosen language */
    struct tm_event *ev;
    size_t n, cap;
};

struct tm_trace {
    const char *source;         /* "capture", "sim", "serve", "connect" */
    const char *title;          /* file name or scenario */
    enum lang lang;
    struct tm_conn *conns;
    size_t n, cap;
    bool oom;                   /* an allocation failed: the model has gaps */
    bool start_known;           /* captures: the absolute time of t = 0 is known */
    int64_t start_unix_us;      /* µs since 1970 of t = 0 */
};

/* Building and freeing the model (trace_model.c). Appending returns NULL and sets t->oom when
 * memory runs out; pointers into t->conns move when a connection is added. */
struct tm_conn *tm_conn_add(struct tm_trace *t);
struct tm_event *tm_event_add(struct tm_trace *t, struct tm_conn *c);
/* Frees every connection's events and their texts, and the connections; *t is left empty. */
void tm_trace_free(struct tm_trace *t);

/* Writes the model as JSON, the schema of docs/trace.md; 0, or -1 if writing failed. */
int tm_json_write(const struct tm_trace *t, FILE *out);

#endif
