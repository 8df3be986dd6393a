/* synack CLI: the trace model (trace_model.h) as one self-contained HTML page.
 *
 * The page is a single file that fetches nothing (no CDN, no web fonts) and works opened from
 * file://: the model is embedded as JSON in a <script type="application/json"> element, and the
 * script and style sheet (tools/page/trace.js, trace.css, put into the binary at build time)
 * draw from it the ladder and the time-sequence graph as SVG, with zoom, pan, a step-through
 * mode and, for synack's own runs, the sender's cwnd, ssthresh, SRTT and RTO. The page's words
 * follow t->lang (English or Chinese).
 */
#ifndef SYNACK_TOOLS_HTML_H
#define SYNACK_TOOLS_HTML_H

#include <stdio.h>

#include "trace_model.h"

/* Segments written per connection at most: beyond it the page says how many were left out
 * (a browser draws a few tens of thousands of SVG elements comfortably, not millions). */
#define HTML_MAX_SEGMENTS 20000

/* Writes the page for t to out. 0, or -1 if writing failed (errno set by stdio). */
int html_write(const struct tm_trace *t, FILE *out);

/* Writes t as a page to the file at path ("-": standard output); prints a message naming
 * the command (`who`, e.g. "synack sim") on failure. 0 or -1. */
int html_write_file(const struct tm_trace *t, const char *path, const char *who);

#endif
