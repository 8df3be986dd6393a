/* synack CLI: the trace model filled from synack's own trace events (see run_model.h).
 *
 * Segments are handed to a passive observer as they go on the wire (SEG_OUT; with one stack
 * also SEG_IN, the peer's); its callback appends them to the connection it found, with the
 * sender's variables read at that moment. State changes, timers and application calls name a
 * stack's connection (conn_id), not the observer's: they wait until a segment of that
 * connection shows which observed connection and which side it is.
 */
#include "run_model.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "ladder.h"
#include "synack/observe.h"

#define MAX_PENDING 4096 /* state changes and notes waiting for their connection */

/* A stack's connection as the observer knows it. */
struct conn_map {
    int side;
    uint64_t conn_id;
    size_t conn;    /* index in t.conns */
    uint8_t obs_side;
};

struct pending {
    int side;
    uint64_t conn_id; /* 0: the stack's next connection (an application call before it) */
    struct tm_event e;
};

/* A segment sent by one simulated stack and not yet received by the other. */
struct flight {
    uint64_t hash;
    int side;
    size_t conn, ev;
};

struct run_model {
    struct run_model_opts o;
    struct tm_trace t;
    struct sk_observer *obs;
    size_t *segs, capsegs;       /* segments recorded per connection */
    struct conn_map *map;
    size_t nmap, capmap;
    struct pending *pend;
    size_t npend, cappend;
    struct flight *fl;
    size_t nfl, capfl;
    bool have_last[2];
    struct conn_map last[2];     /* each stack's latest connection */
    /* The segment being fed to the observer. */
    int cur_side;
    uint64_t cur_conn_id;
    bool cur_out;
    uint64_t cur_hash;
    struct tm_sender cur_sender;
    bool cur_mapped;
    struct conn_map cur_map;
};

static bool grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * size);
    if (!q)
        return false;
    *p = q;
    *cap = n;
    return true;
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static struct tm_event *conn_push(struct run_model *m, size_t ci)
{
    return tm_event_add(&m->t, &m->t.conns[ci]);
}

/* Moves the waiting events of (side, conn_id) into the connection of map; conn_id 0 ones
 * (application calls before any connection) go to the stack's first connection. */
static void flush_pending(struct run_model *m, const struct conn_map *map)
{
    size_t keep = 0;
    for (size_t i = 0; i < m->npend; i++) {
        struct pending *p = &m->pend[i];
        if (p->side == map->side && (p->conn_id == map->conn_id || p->conn_id == 0)) {
            struct tm_event *e = conn_push(m, map->conn);
            if (e) {
                *e = p->e;
                e->side = map->obs_side;
            } else {
                free(p->e.text);
            }
            continue;
        }
        m->pend[keep++] = *p;
    }
    m->npend = keep;
}

static void set_map(struct run_model *m, const struct conn_map *nm)
{
    m->last[nm->side] = *nm;
    m->have_last[nm->side] = true;
    for (size_t i = 0; i < m->nmap; i++)
        if (m->map[i].side == nm->side && m->map[i].conn_id == nm->conn_id) {
            m->map[i] = *nm; /* a listener's id maps to its latest connection */
            flush_pending(m, nm);
            return;
        }
    if (!grow((void **)&m->map, &m->capmap, m->nmap + 1, sizeof(*m->map))) {
        m->t.oom = true;
        return;
    }
    m->map[m->nmap++] = *nm;
    flush_pending(m, nm);
}

static const struct conn_map *find_map(const struct run_model *m, int side, uint64_t conn_id)
{
    for (size_t i = m->nmap; i-- > 0;)
        if (m->map[i].side == side && m->map[i].conn_id == conn_id)
            return &m->map[i];
    return NULL;
}

static bool ensure_conn(struct run_model *m, uint64_t id)
{
    size_t need = (size_t)id;
    if (need <= m->t.n)
        return true;
    if (need > m->o.max_conns) {
        m->t.conns_omitted++;
        return false;
    }
    if (!grow((void **)&m->segs, &m->capsegs, need, sizeof(*m->segs))) {
        m->t.oom = true;
        return false;
    }
    while (m->t.n < need) {
        m->segs[m->t.n] = 0;
        if (!tm_conn_add(&m->t))
            return false;
    }
    return true;
}

static void on_segment(void *user, const struct sk_obs_segment *s)
{
    struct run_model *m = user;
    if (!ensure_conn(m, s->conn))
        return;
    size_t ci = (size_t)s->conn - 1;
    /* The stack that reported it is the sender (SEG_OUT) or the receiver (SEG_IN). */
    struct conn_map nm = {.side = m->cur_side, .conn_id = m->cur_conn_id, .conn = ci,
                          .obs_side = (uint8_t)(m->cur_out ? s->from : 1 - s->from)};
    set_map(m, &nm);
    m->cur_mapped = true;
    m->cur_map = nm;
    if (m->segs[ci] >= m->o.max_segments) {
        m->t.conns[ci].omitted++;
        return;
    }
    struct tm_event *e = conn_push(m, ci);
    if (!e)
        return;
    m->segs[ci]++;
    e->kind = TM_SEG;
    e->side = s->from;
    e->t = s->time;
    e->seg = *s;
    if (m->cur_out)
        e->sender = m->cur_sender;
    if (m->o.both_stacks && m->cur_out &&
        grow((void **)&m->fl, &m->capfl, m->nfl + 1, sizeof(*m->fl)))
        m->fl[m->nfl++] = (struct flight){m->cur_hash, m->cur_side, ci,
                                          m->t.conns[ci].n - 1};
}

struct run_model *run_model_new(const struct run_model_opts *o)
{
    struct run_model *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->o = *o;
    if (!m->o.max_conns)
        m->o.max_conns = 1000;
    if (!m->o.max_segments)
        m->o.max_segments = HTML_MAX_SEGMENTS;
    m->t.source = o->source;
    m->t.title = o->title;
    m->t.lang = o->lang;
    struct sk_observer_config oc = {.on_segment = on_segment, .user = m,
                                    .max_conns = (uint32_t)m->o.max_conns};
    m->obs = sk_observer_new(&oc);
    if (!m->obs) {
        free(m);
        return NULL;
    }
    return m;
}

void run_model_free(struct run_model *m)
{
    if (!m)
        return;
    tm_trace_free(&m->t);
    for (size_t i = 0; i < m->npend; i++)
        free(m->pend[i].e.text);
    free(m->segs);
    free(m->map);
    free(m->pend);
    free(m->fl);
    sk_observer_free(m->obs);
    free(m);
}

/* The IP packet in a frame of the model's link type, or NULL. */
static const uint8_t *ip_of(const struct run_model *m, const struct sk_trace_event *ev,
                            size_t *len)
{
    if (!ev->frame)
        return NULL;
    if (m->o.link_type == SK_LINK_IP) {
        *len = ev->frame_len;
        return ev->frame;
    }
    /* The Ethernet header is not looked at: a segment waiting for ARP (the opening SYN) is
     * traced before its header is filled in. The observer checks the IP header itself. */
    if (ev->frame_len <= 14)
        return NULL;
    *len = ev->frame_len - 14;
    return ev->frame + 14;
}

static void sender_of(const struct sk_trace_event *ev, struct tm_sender *out)
{
    memset(out, 0, sizeof(*out));
    out->why = sk_seg_why_name(ev->why);
    if (!ev->conn)
        return; /* a RST for no connection: no sender variables */
    struct sk_tcp_info info;
    sk_tcp_get_info(ev->conn, &info);
    out->known = true;
    out->cwnd = info.cwnd;
    out->ssthresh = info.ssthresh;
    out->srtt_us = info.srtt_us;
    out->rto_us = info.rto_us;
    out->snd_una = info.snd_una;
    out->snd_nxt = info.snd_nxt;
    out->snd_wnd = info.snd_wnd;
}

static void segment(struct run_model *m, int side, const struct sk_trace_event *ev)
{
    size_t len;
    const uint8_t *ip = ip_of(m, ev, &len);
    if (!ip)
        return;
    bool out = ev->kind == SK_TRACE_SEG_OUT;
    uint64_t h = fnv1a(ip, len);
    if (m->o.both_stacks && !out) {
        /* Received: the other stack's segment arrived. */
        for (size_t i = 0; i < m->nfl; i++) {
            if (m->fl[i].side != 1 - side || m->fl[i].hash != h)
                continue;
            const struct tm_event *e = &m->t.conns[m->fl[i].conn].ev[m->fl[i].ev];
            struct conn_map nm = {.side = side, .conn_id = ev->conn_id, .conn = m->fl[i].conn,
                                  .obs_side = (uint8_t)(1 - e->seg.from)};
            set_map(m, &nm);
            m->fl[i] = m->fl[--m->nfl];
            return;
        }
        return;
    }
    m->cur_side = side;
    m->cur_conn_id = ev->conn_id;
    m->cur_out = out;
    m->cur_hash = h;
    m->cur_mapped = false;
    if (out)
        sender_of(ev, &m->cur_sender);
    sk_observer_input(m->obs, ev->time, ip, len, len);
}

static void add_event(struct run_model *m, int side, uint64_t conn_id, const struct tm_event *e)
{
    const struct conn_map *map = conn_id ? find_map(m, side, conn_id) : NULL;
    if (!map && conn_id == 0 && m->have_last[side])
        map = &m->last[side];
    if (map) {
        struct tm_event *d = conn_push(m, map->conn);
        if (d) {
            *d = *e;
            d->side = map->obs_side;
            return;
        }
    } else if (m->npend < MAX_PENDING &&
               grow((void **)&m->pend, &m->cappend, m->npend + 1, sizeof(*m->pend))) {
        m->pend[m->npend++] = (struct pending){side, conn_id, *e};
        return;
    }
    free(e->text);
}

static void add_note(struct run_model *m, int side, uint64_t conn_id, sk_time_us t,
                     const char *text)
{
    struct tm_event e = {.kind = TM_NOTE, .t = t, .text = strdup(text)};
    if (!e.text) {
        m->t.oom = true;
        return;
    }
    add_event(m, side, conn_id, &e);
}

void run_model_event(struct run_model *m, int side, const struct sk_trace_event *ev)
{
    if (!m || side < 0 || side > 1)
        return;
    bool zh = m->o.lang == LANG_ZH;
    char text[160];
    switch (ev->kind) {
    case SK_TRACE_SEG_OUT:
    case SK_TRACE_SEG_IN:
        segment(m, side, ev);
        break;
    case SK_TRACE_STATE: {
        struct tm_event e = {.kind = TM_STATE, .t = ev->time, .from = ev->u.state.from,
                             .to = ev->u.state.to};
        if (ev->conn_id)
            add_event(m, side, ev->conn_id, &e);
        break;
    }
    case SK_TRACE_TIMER:
        snprintf(text, sizeof(text), zh ? "到期：%s" : "expired: %s",
                 i18n_timer(m->o.lang, ev->u.timer.timer));
        add_note(m, side, ev->conn_id, ev->time, text);
        break;
    case SK_TRACE_ERROR:
        snprintf(text, sizeof(text), zh ? "连接出错：%s" : "connection error: %s",
                 ladder_errno_name(ev->u.error.err));
        add_note(m, side, ev->conn_id, ev->time, text);
        break;
    case SK_TRACE_DROP:
        if (ev->conn_id) {
            snprintf(text, sizeof(text), zh ? "丢弃：%s" : "dropped: %s",
                     sk_drop_reason_name(ev->u.drop.reason));
            add_note(m, side, ev->conn_id, ev->time, text);
        }
        break;
    }
}

void run_model_note(struct run_model *m, int side, sk_time_us t, const char *fmt, ...)
{
    if (!m || side < 0 || side > 1)
        return;
    char text[240];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    add_note(m, side, 0, t, text);
}

const struct tm_trace *run_model_finish(struct run_model *m, bool settled)
{
    if (settled)
        for (size_t i = 0; i < m->nfl; i++)
            m->t.conns[m->fl[i].conn].ev[m->fl[i].ev].lost = true;
    m->nfl = 0;
    for (size_t i = 0; i < m->t.n; i++) {
        struct tm_conn *c = &m->t.conns[i];
        /* Events that waited for their connection (a listen() before the first SYN) go back
         * to their time; a stable insertion: everything else is in order already. */
        for (size_t k = 1; k < c->n; k++) {
            struct tm_event e = c->ev[k];
            size_t j = k;
            for (; j > 0 && c->ev[j - 1].t > e.t; j--)
                c->ev[j] = c->ev[j - 1];
            c->ev[j] = e;
        }
        sk_observer_conn_info(m->obs, i + 1, &c->info);
        c->names[0] = i18n_word(m->o.lang, W_CLIENT);
        c->names[1] = i18n_word(m->o.lang, W_SERVER);
    }
    return &m->t;
}

void run_model_omitted(const struct run_model *m, size_t *segments, size_t *conns)
{
    size_t n = 0;
    for (size_t i = 0; i < m->t.n; i++)
        n += m->t.conns[i].omitted;
    *segments = n;
    *conns = m->t.conns_omitted;
}
