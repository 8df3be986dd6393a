/* synack CLI: building the traced run's model (trace_model.h) and writing it as JSON.
 *
 * The JSON schema is documented in docs/trace.md; numbers are written as JSON integers (64-bit
 * values stay exact for readers that parse integers as such), names are the stable short
 * identifiers of the library (sk_obs_note_name, sk_obs_end_name, sk_tcp_state_name), and every
 * note also carries its text in the model's language.
 */
#include "trace_model.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ladder.h"

struct tm_conn *tm_conn_add(struct tm_trace *t) {
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        struct tm_conn *c = realloc(t->conns, cap * sizeof(*c));
        if (!c) {
            t->oom = true;
            return NULL;
        }
        t->conns = c;
        t->cap = cap;
    }
    struct tm_conn *c = &t->conns[t->n++];
    memset(c, 0, sizeof(*c));
    return c;
}

struct tm_event *tm_event_add(struct tm_trace *t, struct tm_conn *c) {
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        struct tm_event *e = realloc(c->ev, cap * sizeof(*e));
        if (!e) {
            t->oom = true;
            return NULL;
        }
        c->ev = e;
        c->cap = cap;
    }
    struct tm_event *e = &c->ev[c->n++];
    memset(e, 0, sizeof(*e));
    return e;
}

void tm_trace_free(struct tm_trace *t) {
    for (size_t i = 0; i < t->n; i++) {
        for (size_t k = 0; k < t->conns[i].n; k++)
            free(t->conns[i].ev[k].text);
        free(t->conns[i].ev);
    }
    free(t->conns);
    t->conns = NULL;
    t->n = t->cap = 0;
}

/* ---- JSON ---- */

/* A JSON string. '<', '>' and '&' are written as \u escapes too (the same string to any JSON
 * reader): then the document can sit inside an HTML <script> element (html.c) and no text of a
 * capture can close the element or open a comment. */
static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&')
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f); /* UTF-8 passes through: JSON is UTF-8 */
    }
    fputc('"', f);
}

static const char *state(enum sk_tcp_state s) {
    const char *n = sk_tcp_state_name(s);
    return n ? n : "?";
}

static void json_pair_u64(FILE *f, const char *key, uint64_t a, uint64_t b) {
    fprintf(f, ",\"%s\":[%" PRIu64 ",%" PRIu64 "]", key, a, b);
}

static void json_addr(FILE *f, const struct sk_addr *a) {
    char text[SK_ADDR_STRLEN];
    json_str(f, sk_addr_format(a, text, sizeof(text)));
}

static void json_info(FILE *f, const struct tm_conn *c) {
    const struct sk_obs_conn_info *i = &c->info;
    fprintf(f, "{\"id\":%" PRIu64 ",\"addr\":[", i->id);
    json_addr(f, &i->addr[0]);
    fputc(',', f);
    json_addr(f, &i->addr[1]);
    fprintf(f, "],\"port\":[%u,%u],\"mid_stream\":%s", i->port[0], i->port[1],
            i->mid_stream ? "true" : "false");
    fprintf(f, ",\"first_us\":%" PRIu64 ",\"last_us\":%" PRIu64, i->first, i->last);
    json_pair_u64(f, "segments", i->segments[0], i->segments[1]);
    json_pair_u64(f, "bytes", i->bytes[0], i->bytes[1]);
    json_pair_u64(f, "retransmits", i->retransmits[0], i->retransmits[1]);
    fputs(",\"isn\":[", f);
    for (int s = 0; s < 2; s++)
        i->isn_known[s] ? fprintf(f, "%s%" PRIu32, s ? "," : "", i->isn[s])
                        : fprintf(f, "%snull", s ? "," : "");
    fprintf(f, "],\"mss\":[%u,%u],\"wscale\":[%d,%d],\"sack_ok\":%s,\"ts_ok\":%s", i->mss[0],
            i->mss[1], i->wscale[0], i->wscale[1], i->sack_ok ? "true" : "false",
            i->ts_ok ? "true" : "false");
    fputs(",\"state\":[", f);
    json_str(f, state(i->state[0]));
    fputc(',', f);
    json_str(f, state(i->state[1]));
    fputs("],\"end\":", f);
    json_str(f, sk_obs_end_name(i->end));
    i->reset_by >= 0 ? fprintf(f, ",\"reset_by\":%d}", i->reset_by)
                     : fprintf(f, ",\"reset_by\":null}");
}

static void json_states(FILE *f, const char *key, const enum sk_tcp_state st[2]) {
    fprintf(f, ",\"%s\":[", key);
    json_str(f, state(st[0]));
    fputc(',', f);
    json_str(f, state(st[1]));
    fputc(']', f);
}

static void json_flags(FILE *f, uint8_t flags) {
    char buf[64];
    ladder_flags_label(flags, buf, sizeof(buf));
    json_str(f, buf);
    fprintf(f, ",\"flags_bits\":%u", flags);
}

static void json_notes(FILE *f, enum lang lang, const struct sk_obs_segment *s) {
    fputs(",\"notes\":[", f);
    for (int k = 0; k < s->nnotes && k < SK_OBS_MAX_NOTES; k++) {
        char text[512];
        i18n_note(lang, &s->notes[k], s, text, sizeof(text));
        fprintf(f, "%s{\"code\":", k ? "," : "");
        json_str(f, sk_obs_note_name(s->notes[k].kind));
        fprintf(f, ",\"a\":%" PRIu64 ",\"b\":%" PRIu64 ",\"text\":", s->notes[k].a,
                s->notes[k].b);
        json_str(f, text);
        fputc('}', f);
    }
    fputc(']', f);
}

static void json_segment(FILE *f, enum lang lang, const struct tm_event *e) {
    const struct sk_obs_segment *s = &e->seg;
    const struct sk_trace_segment *h = &s->seg;
    fprintf(f, ",\"from\":%u,\"index\":%" PRIu64 ",\"flags\":", s->from, s->index);
    json_flags(f, h->flags);
    fprintf(f, ",\"seq\":%" PRIu32 ",\"ack\":%" PRIu32, h->seq, h->ack);
    if (s->rel_known)
        fprintf(f, ",\"rel_seq\":%" PRIu32 ",\"rel_ack\":%" PRIu32, s->rel_seq, s->rel_ack);
    else
        fputs(",\"rel_seq\":null,\"rel_ack\":null", f);
    fprintf(f, ",\"win\":%u,\"win_bytes\":%" PRIu32 ",\"win_scale_known\":%s", h->wnd,
            s->wnd_bytes, s->wnd_scale_known ? "true" : "false");
    fprintf(f, ",\"len\":%" PRIu32 ",\"captured_len\":%" PRIu32, h->len, s->captured_len);
    char opts[320];
    uint32_t isn = s->rel_known ? h->ack - s->rel_ack : 0;
    ladder_options_text(h, s->rel_known, isn, opts, sizeof(opts));
    fputs(",\"opts\":", f);
    json_str(f, opts);
    fputs(",\"sack\":[", f);
    for (int k = 0; k < h->nsack && k < 4; k++)
        fprintf(f, "%s[%" PRIu32 ",%" PRIu32 "]", k ? "," : "", h->sack[k].left,
                h->sack[k].right);
    fputc(']', f);
    json_states(f, "states_before", s->state_before);
    json_states(f, "states_after", s->state_after);
    json_notes(f, lang, s);
    if (e->lost)
        fputs(",\"lost\":true", f);
    if (e->sender.known) {
        const struct tm_sender *x = &e->sender;
        fprintf(f, ",\"sender\":{\"cwnd\":%" PRIu32 ",\"ssthresh\":%" PRIu32
                   ",\"srtt_us\":%" PRIu32 ",\"rto_us\":%" PRIu32 ",\"snd_una\":%" PRIu32
                   ",\"snd_nxt\":%" PRIu32 ",\"snd_wnd\":%" PRIu32 ",\"why\":",
                x->cwnd, x->ssthresh, x->srtt_us, x->rto_us, x->snd_una, x->snd_nxt, x->snd_wnd);
        json_str(f, x->why);
        fputc('}', f);
    }
}

static void json_event(FILE *f, enum lang lang, const struct tm_event *e) {
    static const char *const kinds[] = {[TM_SEG] = "seg", [TM_STATE] = "state",
                                        [TM_NOTE] = "note"};
    fputs("{\"kind\":", f);
    json_str(f, e->kind >= TM_SEG && e->kind <= TM_NOTE ? kinds[e->kind] : "?");
    fprintf(f, ",\"t_us\":%" PRIu64, e->t);
    if (e->kind == TM_SEG) {
        json_segment(f, lang, e);
    } else if (e->kind == TM_STATE) {
        fprintf(f, ",\"side\":%u,\"state_from\":", e->side);
        json_str(f, state(e->from));
        fputs(",\"state_to\":", f);
        json_str(f, state(e->to));
    } else {
        fprintf(f, ",\"side\":%u,\"text\":", e->side);
        json_str(f, e->text);
    }
    fputc('}', f);
}

int tm_json_write(const struct tm_trace *t, FILE *f) {
    fputs("{\"format\":\"synack-trace\",\"version\":1,\"source\":", f);
    json_str(f, t->source);
    fputs(",\"title\":", f);
    json_str(f, t->title);
    fputs(",\"lang\":", f);
    json_str(f, i18n_code(t->lang));
    if (t->start_known)
        fprintf(f, ",\"start_unix_us\":%" PRId64, t->start_unix_us);
    else
        fputs(",\"start_unix_us\":null", f);
    fprintf(f, ",\"incomplete\":%s,\"connections\":[", t->oom ? "true" : "false");
    for (size_t i = 0; i < t->n; i++) {
        const struct tm_conn *c = &t->conns[i];
        fprintf(f, "%s\n{\"info\":", i ? "," : "");
        json_info(f, c);
        fputs(",\"end_text\":", f);
        json_str(f, i18n_end(t->lang, c->info.end));
        fputs(",\"names\":[", f);
        json_str(f, c->names[0]);
        fputc(',', f);
        json_str(f, c->names[1]);
        fputs("],\"events\":[", f);
        for (size_t k = 0; k < c->n; k++) {
            fputs(k ? ",\n" : "\n", f);
            json_event(f, t->lang, &c->ev[k]);
        }
        fputs("]}", f);
    }
    fputs("]}\n", f);
    fflush(f);
    return ferror(f) ? -1 : 0;
}
