/* synack CLI: the ladder diagram, drawn from trace events.
 *
 * One line per segment, at the time it was sent, with an arrow between a left column (side 0,
 * "client") and a right column (side 1, "server"); each side's state changes, timers, errors,
 * drops and application calls are written on that side. The ladder records everything while
 * the simulation runs and draws after it, because only then is it known which segments never
 * arrived: a segment sent by one side and never seen by the other (SEG_OUT without a matching
 * SEG_IN) was lost on the link and ends in a cross, one the receiver dropped with a checksum
 * error a bit away from what was sent was corrupted on the link.
 *
 * In captured mode (`synack trace`) the rows come from a capture instead: each segment is
 * recorded once, as seen at the capture point, with what the passive observer made of it (the
 * window in bytes, relative numbers, notes in words drawn under the row); nothing is inferred
 * from matching departures with arrivals.
 */
#ifndef SYNACK_TOOLS_LADDER_H
#define SYNACK_TOOLS_LADDER_H

#include <stdbool.h>
#include <stdio.h>

#include "synack/synack.h"

/* The characters the diagram and the summary are drawn with: UTF-8 or plain ASCII. */
struct ladder_glyphs {
    const char *line;   /* shaft of an arrow, and horizontal rules */
    const char *right;  /* arrow head pointing right */
    const char *left;   /* arrow head pointing left */
    const char *lost;   /* where a lost segment ends */
    const char *to;     /* between two states: "SYN-SENT → ESTABLISHED" */
    const char *vdots;  /* rows left out */
    const char *yes, *no; /* before PASS / FAIL: a mark and a space, or nothing */
    const char *bullet;   /* before a note under a captured segment's row */
};
const struct ladder_glyphs *ladder_glyphs(bool ascii);

struct ladder_options {
    bool ascii;           /* plain ASCII instead of UTF-8 arrows */
    bool verbose;         /* every segment; otherwise the middle of a long transfer is summed up */
    const char *names[2]; /* "client", "server" */
    bool captured;        /* rows come from ladder_seen (a capture), not from SEG_OUT/SEG_IN */
    /* Column headers ("time ms", "seq (relative)", "ack (relative)", the window, length and
     * options columns' heading); any NULL takes the English default. */
    const char *header[4];
    const char *bytes;    /* the word after a data segment's length: NULL is "bytes" */
};

struct ladder;

/* One segment of a capture, seen once (captured mode). */
struct ladder_seen {
    int side;                        /* its sender */
    sk_time_us t;
    const struct sk_trace_segment *seg;
    struct sk_addr src, dst;
    uint32_t wnd_bytes;              /* the window in bytes */
    bool scaled;                     /* wnd_bytes is seg->wnd shifted by a window scale */
    bool rel_known;                  /* rel_seq and rel_ack are relative to the ISNs */
    uint32_t rel_seq, rel_ack;
    bool notable;                    /* never summed up with the rows of a long transfer */
    bool resent;                     /* the observer calls it a retransmission */
    const char *const *notes;        /* nnotes lines of words, drawn under the row */
    int nnotes;
};
/* Records one captured segment. Each side's state changes are recorded after it with
 * ladder_trace (SK_TRACE_STATE events). */
void ladder_seen(struct ladder *l, const struct ladder_seen *s);


/* NULL when out of memory. */
struct ladder *ladder_new(const struct ladder_options *opt);
void ladder_free(struct ladder *l);

/* Records one trace event of side 0 or 1 (an sk_sim trace callback can forward here). */
void ladder_trace(struct ladder *l, int side, const struct sk_trace_event *ev);

/* Records a note on one side at time t, e.g. an application call: "close(): FIN follows". */
void ladder_note(struct ladder *l, int side, sk_time_us t, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* True if some allocation failed while recording (the diagram then has gaps). */
bool ladder_incomplete(const struct ladder *l);

/* Draws the column header and every recorded line. titles[side] heads each column. settled:
 * the run ended with nothing in flight, so a segment that never arrived was lost (if the run
 * was stopped, it may just have been on its way). */
void ladder_print(const struct ladder *l, FILE *out, const char *titles[2], bool settled);

/* A segment's options as the ladder writes them ("mss 1460, sackOK, TS val 1 ecr 0, wscale
 * 7, sack 1001-2449"), SACK blocks relative to isn when rel. Returns the length written. */
size_t ladder_options_text(const struct sk_trace_segment *s, bool rel, uint32_t isn, char *buf,
                           size_t size);
/* "SYN|ACK": the flags in the order people say them ("none" if none). */
void ladder_flags_label(uint8_t flags, char *buf, size_t size);
/* Display columns of a UTF-8 string (CJK characters take two). */
int ladder_display_width(const char *s);

/* "ECONNREFUSED" for -ECONNREFUSED (and other errors a connection reports). */
const char *ladder_errno_name(int err);

#endif
