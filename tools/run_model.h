/* synack CLI: the trace model (trace_model.h) filled from synack's own trace events, for
 * `sim --html`, `serve --html` and `connect --html`.
 *
 * The segments go through a passive observer (synack/observe.h) as they go on the wire, so
 * relative sequence numbers, scaled windows, the inferred states and the notes are the same as
 * `synack trace` would show for a capture of the run; what only synack knows is added: the
 * real state changes (TM_STATE), timers, errors and application calls (TM_NOTE), the sender's
 * cwnd, ssthresh, SRTT, RTO and why each segment left (sk_tcp_get_info and
 * sk_trace_event.why at SK_TRACE_SEG_OUT), and in a simulation the segments that never
 * arrived (lost).
 */
#ifndef SYNACK_TOOLS_RUN_MODEL_H
#define SYNACK_TOOLS_RUN_MODEL_H

#include <stdbool.h>

#include "trace_model.h"

struct run_model_opts {
    const char *source;          /* "sim", "serve", "connect" */
    const char *title;
    enum lang lang;
    enum sk_link_type link_type; /* of the frames in the events */
    bool both_stacks;            /* both ends are synack stacks (sim): a segment is reported
                                  * by its sender (SEG_OUT) and its receiver (SEG_IN) */
    size_t max_conns;            /* connections recorded at most (0: 1000) */
    size_t max_segments;         /* segments per connection at most (0: HTML_MAX_SEGMENTS) */
};

struct run_model;

/* NULL when out of memory. */
struct run_model *run_model_new(const struct run_model_opts *o);
void run_model_free(struct run_model *m);

/* One trace event of stack `side` (0 or 1; always 0 with one stack). */
void run_model_event(struct run_model *m, int side, const struct sk_trace_event *ev);
/* Words on the column of stack `side`'s latest connection (an application call). */
void run_model_note(struct run_model *m, int side, sk_time_us t, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Ends the recording (settled: nothing was in flight, so a segment never received was lost)
 * and returns the model, owned by m. Connections past the limits are counted in *dropped. */
const struct tm_trace *run_model_finish(struct run_model *m, bool settled);
/* Segments and connections left out by the limits. */
void run_model_omitted(const struct run_model *m, size_t *segments, size_t *conns);

#endif
