/* bench_out.h: how every bench program records a measurement, one JSON line each.
 *
 * Records go to $SK_BENCH_OUT/<file>.jsonl (appended; the directory must exist), or nowhere
 * when SK_BENCH_OUT is unset, so a program run by hand only prints. The format is the one
 * bench/report.py reads:
 *   {"metric":"bulk_in_gbps","subject":"synack-tap","value":2.1,"unit":"Gbit/s","round":1,
 *    "params":{...}}
 * params is a JSON object written by the caller (may be NULL for {}); the metric, subject and
 * unit strings must not need escaping (the bench's own names do not). Header-only, static.
 */
#ifndef SYNACK_BENCH_OUT_H
#define SYNACK_BENCH_OUT_H

#include <stdio.h>
#include <stdlib.h>

static inline void bench_record(const char *file, const char *metric, const char *subject,
                                double value, const char *unit, int round, const char *params)
{
    const char *dir = getenv("SK_BENCH_OUT");
    if (dir == NULL || *dir == '\0')
        return;
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s.jsonl", dir, file);
    FILE *f = fopen(path, "a");
    if (f == NULL) {
        perror(path);
        return;
    }
    fprintf(f,
            "{\"metric\":\"%s\",\"subject\":\"%s\",\"value\":%.6g,\"unit\":\"%s\","
            "\"round\":%d,\"params\":%s}\n",
            metric, subject, value, unit, round, params ? params : "{}");
    fclose(f);
}

/* The round number given to this run by the bench script ($SK_BENCH_ROUND, default 1). */
static inline int bench_round(void)
{
    const char *r = getenv("SK_BENCH_ROUND");
    return r ? atoi(r) : 1;
}

#endif
