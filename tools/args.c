/* synack CLI: number parsing for the command line (see args.h). */
#include "args.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synack/synack.h"

/* strtoull and strtod skip leading spaces and accept a sign; the command line should not. */
static const char *reject_prefix(const char *text) {
    if (text == NULL || *text == '\0')
        return "is empty";
    if (isspace((unsigned char)*text))
        return "starts with a space";
    if (*text == '-')
        return "must not be negative";
    if (*text == '+')
        return "must be written without a sign";
    return NULL;
}

const char *args_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out) {
    const char *why = reject_prefix(text);
    if (why)
        return why;
    if (!isdigit((unsigned char)*text))
        return "is not a whole number";
    /* Base 10, or 16 after 0x; never base 8 (strtoull's base 0 would read "010" as 8). */
    int base = 10;
    const char *digits = text;
    if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        digits = text + 2;
        if (!isxdigit((unsigned char)*digits))
            return "is not a whole number";
    }
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(digits, &end, base);
    if (end == digits)
        return "is not a whole number";
    if (errno == ERANGE)
        return "is too large";
    /* Decimal multipliers as disk and link makers use them, binary ones (IEC 60027-2) as
     * memory sizes do: 1G is 10^9, 1Gi is 2^30. */
    static const struct { const char *suffix; uint64_t mult; } units[] = {
        {"", 1}, {"k", 1000u}, {"M", 1000000u}, {"G", 1000000000u}, {"T", 1000000000000u},
        {"Ki", 1ull << 10}, {"Mi", 1ull << 20}, {"Gi", 1ull << 30}, {"Ti", 1ull << 40},
    };
    uint64_t mult = 0;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcmp(end, units[i].suffix) == 0)
            mult = units[i].mult;
    if (mult == 0)
        return "is not a whole number (digits, optionally followed by k, M, G, T, Ki, Mi, Gi "
               "or Ti)";
    if (v > UINT64_MAX / mult)
        return "is too large";
    uint64_t value = (uint64_t)v * mult;
    if (value < min)
        return "is too small";
    if (value > max)
        return "is too large";
    *out = value;
    return NULL;
}

/* Parses a finite double with nothing after it except, if percent is non-NULL, one '%'. */
static const char *parse_real(const char *text, double *out, int *percent) {
    const char *why = reject_prefix(text);
    if (why)
        return why;
    if (!isdigit((unsigned char)*text) && *text != '.')
        return "is not a number";
    errno = 0;
    char *end = NULL;
    double v = strtod(text, &end);
    if (end == text)
        return "is not a number";
    if (errno == ERANGE || !isfinite(v))
        return "is out of range";
    if (percent) {
        *percent = 0;
        if (*end == '%') {
            *percent = 1;
            end++;
        }
    }
    if (*end != '\0')
        return "is not a number";
    *out = v;
    return NULL;
}

const char *args_double(const char *text, double min, double max, double *out) {
    double v;
    const char *why = parse_real(text, &v, NULL);
    if (why)
        return why;
    if (v < min)
        return "is too small";
    if (v > max)
        return "is too large";
    *out = v;
    return NULL;
}

const char *args_probability(const char *text, double *out) {
    double v;
    int percent;
    const char *why = parse_real(text, &v, &percent);
    if (why)
        return why;
    if (percent) {
        if (v > 100.0)
            return "must be at most 100%";
        v /= 100.0;
    } else if (v > 1.0) {
        return "must be between 0 and 1 (or a percentage like 5%)";
    }
    *out = v;
    return NULL;
}

int args_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "synack %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'synack %s --help')\n", cmd);
    return 2;
}

/* The option as its table names it: "--bytes" for -b as well, so that every message reads the
 * same whichever spelling (short, long, abbreviated, with '=') the user chose. */
static void option_name(const struct option *longopts, int ch, char *buf, size_t size)
{
    for (const struct option *lo = longopts; lo && lo->name; lo++)
        if (lo->flag == NULL && lo->val == ch) {
            snprintf(buf, size, "--%s", lo->name);
            return;
        }
    if (ch > 0 && ch < 128 && isgraph(ch))
        snprintf(buf, size, "-%c", ch);
    else
        snprintf(buf, size, "an option");
}

int args_bad_value(const char *cmd, const struct option *longopts, int ch, const char *value,
                   const char *why)
{
    char name[64];
    option_name(longopts, ch, name, sizeof(name));
    return args_usage_error(cmd, "%s '%s' %s", name, value ? value : "", why);
}

void args_link_faults(const struct args_link *a, struct sk_memlink_faults *f)
{
    f->dup = a->dup;
    f->reorder = a->reorder;
    f->reorder_us = ARGS_REORDER_HOLD_US;
    f->corrupt = a->corrupt;
    f->delay_us = (uint32_t)(a->delay_ms * 1000.0 + 0.5);
    f->rate_bps = (uint64_t)(a->rate_mbit * 1e6 + 0.5);
}
