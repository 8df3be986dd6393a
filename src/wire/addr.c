/* Text forms of IP addresses: sk_addr_parse and sk_addr_format (include/synack/addr.h).
 *
 * In: dotted-quad IPv4 (held IPv4-mapped, RFC 4291 §2.5.5.2), or IPv6 in the three forms of
 * RFC 4291 §2.2: eight groups of one to four hex digits, "::" once for one or more groups of
 * zeros, and a dotted quad for the last 32 bits. Out: RFC 5952 §4 (lower case, no leading
 * zeros, "::" for the longest run of two or more zero groups, the first of equal runs), and the
 * dotted quad alone for an IPv4-mapped address, which is how this stack holds IPv4.
 *
 * Both are strict and never read past the terminating NUL: anything else is -EINVAL.
 */
#include <errno.h>
#include <stdio.h>

#include "synack/addr.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A dotted quad that runs to the end of s: four decimal parts 0..255, no leading zero. */
static int parse_v4(const char *s, uint8_t out[4])
{
    for (int part = 0; part < 4; part++) {
        if (part > 0 && *s++ != '.')
            return -EINVAL;
        if (*s < '0' || *s > '9')
            return -EINVAL;
        if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
            return -EINVAL; /* "01": octal in some parsers, so accepted by none here */
        unsigned v = 0;
        int digits = 0;
        while (*s >= '0' && *s <= '9' && digits < 4) {
            v = v * 10 + (unsigned)(*s++ - '0');
            digits++;
        }
        if (v > 255)
            return -EINVAL;
        out[part] = (uint8_t)v;
    }
    return *s == '\0' ? 0 : -EINVAL;
}

/* RFC 4291 §2.2. g collects the groups before and after "::" (at index gap). */
static int parse_v6(const char *s, uint8_t out[16])
{
    uint16_t g[8];
    int n = 0, gap = -1;
    if (s[0] == ':') {
        if (s[1] != ':')
            return -EINVAL; /* a lone leading colon */
        gap = 0;
        s += 2;
    }
    while (*s != '\0') {
        const char *start = s;
        unsigned v = 0;
        int digits = 0;
        for (int h; digits < 5 && (h = hexval(*s)) >= 0; s++, digits++)
            v = v << 4 | (unsigned)h;
        if (*s == '.') { /* the last 32 bits as a dotted quad (RFC 4291 §2.2, form 3) */
            uint8_t q[4];
            if (n > 6 || parse_v4(start, q) != 0)
                return -EINVAL;
            g[n++] = (uint16_t)(q[0] << 8 | q[1]);
            g[n++] = (uint16_t)(q[2] << 8 | q[3]);
            break;
        }
        if (digits == 0 || digits > 4 || n == 8)
            return -EINVAL;
        g[n++] = (uint16_t)v;
        if (*s == '\0')
            break;
        if (*s++ != ':')
            return -EINVAL;
        if (*s == ':') {
            if (gap >= 0)
                return -EINVAL; /* "::" at most once */
            gap = n;
            s++;
        } else if (*s == '\0') {
            return -EINVAL; /* a lone trailing colon */
        }
    }
    if (gap < 0 ? n != 8 : n > 7)
        return -EINVAL;
    int zeros = 8 - n;
    for (int i = 0, k = 0; i < 8; i++) {
        uint16_t v = (gap >= 0 && i >= gap && i < gap + zeros) ? 0 : g[k++];
        out[2 * i] = (uint8_t)(v >> 8);
        out[2 * i + 1] = (uint8_t)v;
    }
    return 0;
}

int sk_addr_parse(const char *text, struct sk_addr *out)
{
    if (text == NULL || out == NULL)
        return -EINVAL;
    struct sk_addr a;
    if (strchr(text, ':') != NULL) {
        if (parse_v6(text, a.b) != 0)
            return -EINVAL;
    } else {
        uint8_t q[4];
        if (parse_v4(text, q) != 0)
            return -EINVAL;
        a = sk_addr_from_v4((uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 |
                            q[3]);
    }
    *out = a;
    return 0;
}

/* RFC 5952 §4.2: the longest run of at least two zero groups, the first of equal ones;
 * *len 0 if none. */
static void longest_zero_run(const uint16_t g[8], int *start, int *len)
{
    *start = -1;
    *len = 0;
    for (int i = 0; i < 8;) {
        int j = i;
        while (j < 8 && g[j] == 0)
            j++;
        if (j - i >= 2 && j - i > *len) {
            *start = i;
            *len = j - i;
        }
        i = j > i ? j : i + 1;
    }
}

char *sk_addr_format(const struct sk_addr *a, char *buf, size_t size)
{
    char t[SK_ADDR_STRLEN];
    size_t n = 0;
    if (sk_addr_is_v4(a)) {
        n = (size_t)snprintf(t, sizeof(t), "%u.%u.%u.%u", a->b[12], a->b[13], a->b[14],
                             a->b[15]);
    } else {
        uint16_t g[8];
        for (int i = 0; i < 8; i++)
            g[i] = (uint16_t)(a->b[2 * i] << 8 | a->b[2 * i + 1]);
        int run, run_len;
        longest_zero_run(g, &run, &run_len);
        for (int i = 0; i < 8; i++) {
            if (i == run) {
                t[n++] = ':';
                t[n++] = ':';
                i += run_len - 1;
                continue;
            }
            if (i > 0 && i != run + run_len)
                t[n++] = ':';
            n += (size_t)snprintf(t + n, sizeof(t) - n, "%x", g[i]);
        }
        t[n] = '\0';
    }
    if (size == 0)
        return buf;
    if (n + 1 > size) {
        buf[0] = '\0';
        return buf;
    }
    memcpy(buf, t, n + 1);
    return buf;
}
