/* synack CLI: parsing numbers from the command line, with full validation.
 *
 * Shared by every subcommand (`sim` today, `serve` and `connect` later). Each parser takes the
 * text of one argument and either fills *out and returns NULL, or leaves *out alone and returns
 * a short English reason ("not a number", "must be at most 1") for the caller to print after
 * the option's name. Nothing here prints or exits, so the parsers are easy to test.
 */
#ifndef SYNACK_TOOLS_ARGS_H
#define SYNACK_TOOLS_ARGS_H

#include <stdint.h>

struct sk_memlink_faults;

/* A whole number in [min, max]: decimal digits (or 0x and hex digits), optionally followed by one
 * multiplier: k, M, G, T (10^3, 10^6, 10^9, 10^12) or Ki, Mi, Gi, Ti (2^10, 2^20, 2^30, 2^40).
 * No sign, no spaces, nothing after it. */
const char *args_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out);

/* A finite real number in [min, max] (strtod syntax, no trailing text). */
const char *args_double(const char *text, double min, double max, double *out);

/* A probability: a real in [0, 1] ("0.05") or a percentage in [0%, 100%] ("5%"). */
const char *args_probability(const char *text, double *out);

/* The link faults that `sim`, `serve` and `connect` share: --dup, --reorder (frames held back
 * ARGS_REORDER_HOLD_US), --corrupt, --delay (ms) and --rate (Mbit/s). Loss is each command's
 * own (sim sets it per direction). */
#define ARGS_REORDER_HOLD_US 5000u
struct args_link {
    double dup, reorder, corrupt, delay_ms, rate_mbit;
};
/* Fills f's duplication, reordering, corruption, delay and rate from a; leaves the rest. */
void args_link_faults(const struct args_link *a, struct sk_memlink_faults *f);

/* Prints "synack CMD: <message> (see 'synack CMD --help')" on stderr and returns 2, the exit
 * status for bad arguments. The one exception to "nothing here prints". */
int args_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A bad value for an option, as "synack CMD: --port '0' is too small (see ...)": the option by
 * its long name from longopts (the entry whose val is ch; "-x" for a short option without one),
 * then the value as given, then why (a reason from the parsers above). Returns 2. */
struct option;
int args_bad_value(const char *cmd, const struct option *longopts, int ch, const char *value,
                   const char *why);

#endif
