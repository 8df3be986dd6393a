/* synack CLI: the words of `synack trace` and its page, in English and Chinese.
 *
 * Notes, connection endings and the page's labels are looked up here by code; RFC 9293's state
 * names (SYN-SENT, TIME-WAIT, ...) and flags stay as the RFC spells them in every language.
 */
#ifndef SYNACK_TOOLS_I18N_H
#define SYNACK_TOOLS_I18N_H

#include <stddef.h>

#include "synack/synack.h"

enum lang { LANG_EN = 0, LANG_ZH, LANG_COUNT };

/* Parses "en", "zh" (also "zh_CN.UTF-8", "en_US", "C"...): 0, or -1 if unknown. */
int i18n_parse(const char *s, enum lang *out);
/* The language of the environment: LC_ALL, then LC_MESSAGES, then LANG; English otherwise. */
enum lang i18n_from_env(void);
/* "en", "zh" */
const char *i18n_code(enum lang l);

/* A note on a segment in words, e.g. "retransmitted after 204.0 ms (1448 bytes)" or
 * "重传（204.0 毫秒后，1448 字节）"; s gives the context (the segment, its SACK blocks). */
void i18n_note(enum lang l, const struct sk_obs_note *n, const struct sk_obs_segment *s,
               char *buf, size_t size);
/* A timer in words: "retransmission timer (RTO)", "重传定时器（RTO）". */
const char *i18n_timer(enum lang l, enum sk_timer_kind k);
/* How a connection ended, in words: "closed by both sides (four-way close)". */
const char *i18n_end(enum lang l, enum sk_obs_end e);

/* The words of the views around the notes: column headers, labels, the summary lines. */
enum i18n_word {
    W_CLIENT,        /* side 0, the opener */
    W_SERVER,        /* side 1 */
    W_TIME_MS,       /* column headers of the ladder */
    W_SEQ_REL,
    W_ACK_REL,
    W_WIN_LEN_OPTS,
    W_CONNECTION,    /* "connection 3" */
    W_CAPTURE,       /* "capture" */
    W_FIRST_PACKET,  /* "first packet at" */
    W_SEGMENTS,
    W_BYTES,
    W_DURATION,
    W_ENDED,
    W_RESET_BY,      /* "reset by" */
    W_MID_STREAM,    /* "(opening not in the capture)" */
    W_NO_CONNECTIONS,
    W_STATES,        /* "states" */
    W_RETRANSMITS,
    W_COUNT
};
const char *i18n_word(enum lang l, enum i18n_word w);

#endif
