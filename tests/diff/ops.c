/* sockdiff: one step against one backend, its result as a string both backends can be
 * compared by. Addresses print as symbols (A, B, ANY, Pn, eph), errors as errno names, poll
 * events as flag names, received bytes are checked against the sender's pattern. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sockdiff.h"

#define SD_CHUNK 65536
#define SD_SENDALL_CAP (256u << 20) /* sendall stops here: "no limit" */
#define SD_BUF_CAP (64u << 20)      /* largest buffer a data call allocates */

const char *sd_errname(int err)
{
    static __thread char num[16];
    const char *s = strerrorname_np(err);
    if (s != NULL)
        return s;
    snprintf(num, sizeof(num), "%d", err);
    return num;
}

void sd_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- words of a step ---- */

static bool has_word(const struct sd_step *st, const char *w)
{
    for (int i = 0; i < st->nargs; i++)
        if (strcmp(st->arg[i], w) == 0)
            return true;
    return false;
}

/* `key=VALUE`: the value, or NULL. */
static const char *kw(const struct sd_step *st, const char *key)
{
    size_t n = strlen(key);
    for (int i = 0; i < st->nargs; i++)
        if (strncmp(st->arg[i], key, n) == 0 && st->arg[i][n] == '=')
            return st->arg[i] + n + 1;
    return NULL;
}

static long timeout_of(const struct sd_step *st)
{
    const char *t = kw(st, "timeout");
    return t ? strtol(t, NULL, 0) : -1;
}

/* Integers: decimal, hex, -1, INT_MAX, INT_MIN, UINT_MAX (as an int: -1). */
static bool parse_int(const char *s, long long *v)
{
    if (strcmp(s, "INT_MAX") == 0)
        return *v = INT_MAX, true;
    if (strcmp(s, "INT_MIN") == 0)
        return *v = INT_MIN, true;
    if (strcmp(s, "UINT_MAX") == 0)
        return *v = UINT_MAX, true;
    if (strcmp(s, "SIZE_MAX") == 0)
        return *v = -1, true;
    char *end;
    *v = strtoll(s, &end, 0);
    return *s != '\0' && *end == '\0';
}

static int out_fmt(char *out, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, n, fmt, ap);
    va_end(ap);
    return 0;
}

static int scen_err(char *out, size_t n, const char *what, const char *word)
{
    return out_fmt(out, n, "scenario error: %s%s%s", what, word ? ": " : "", word ? word : ""),
           -1;
}

/* A count or an error, as a string. */
static void count_str(char *out, size_t n, long long v)
{
    if (v < 0)
        snprintf(out, n, "-%s", sd_errname((int)-v));
    else
        snprintf(out, n, "%lld", v);
}

/* ---- names ---- */

static struct sd_sock *find_sock(struct sd_run *r, const char *name)
{
    for (int i = 0; i < r->nsocks; i++)
        if (strcmp(r->socks[i].name, name) == 0)
            return &r->socks[i];
    return NULL;
}

/* `negfd`: descriptor -1 on both sides. */
static struct sd_sock *sock_negative(void)
{
    static __thread struct sd_sock neg;
    neg.host = SD_HOST_A;
    neg.fd = -1;
    return &neg;
}

static struct sd_sock *sock_of(struct sd_run *r, const char *name)
{
    static __thread struct sd_sock bad;
    if (strcmp(name, "badfd") == 0) {
        bad.host = SD_HOST_A;
        bad.fd = r->b->badfd;
        return &bad;
    }
    if (strcmp(name, "negfd") == 0)
        return sock_negative();
    pthread_mutex_lock(&r->lock);
    struct sd_sock *s = find_sock(r, name);
    pthread_mutex_unlock(&r->lock);
    return s;
}

/* Names a socket (again: a name may be reused for a new socket). */
static struct sd_sock *sock_new(struct sd_run *r, const char *name, int host, int fd)
{
    pthread_mutex_lock(&r->lock);
    struct sd_sock *s = find_sock(r, name);
    if (s == NULL && r->nsocks < SD_MAX_NAMES && strlen(name) < sizeof(s->name))
        s = &r->socks[r->nsocks++];
    if (s != NULL) {
        memset(s, 0, sizeof(*s));
        snprintf(s->name, sizeof(s->name), "%s", name);
        s->host = host;
        s->fd = fd;
    }
    pthread_mutex_unlock(&r->lock);
    return s;
}

/* ---- addresses ---- */

static int host_of(const char *s)
{
    if (strcmp(s, "A") == 0)
        return SD_HOST_A;
    if (strcmp(s, "B") == 0)
        return SD_HOST_B;
    return -1;
}

/* An IPv4 address (network order) as IPv4-mapped (RFC 4291 §2.5.5.2) into sin6. */
static void map4(struct sockaddr_in6 *sin6, uint32_t a)
{
    memset(sin6->sin6_addr.s6_addr, 0, 16);
    sin6->sin6_addr.s6_addr[10] = 0xff;
    sin6->sin6_addr.s6_addr[11] = 0xff;
    memcpy(sin6->sin6_addr.s6_addr + 12, &a, 4);
}

/* The IPv6 hosts: A6, B6 (A and B IPv4-mapped), ANY6 (::), MANY (::ffff:0.0.0.0), X6
 * (2001:db8::1, RFC 3849: nobody's). An AF_INET6 address; false for another name. */
static bool parse_host6(struct sd_run *r, const char *host, struct sockaddr_in6 *sin6)
{
    memset(sin6, 0, sizeof(*sin6));
    sin6->sin6_family = AF_INET6;
    if (strcmp(host, "A6N") == 0 || strcmp(host, "B6N") == 0)
        memcpy(sin6->sin6_addr.s6_addr, r->b->addr6[host[0] == 'A' ? SD_HOST_A : SD_HOST_B], 16);
    else if (strcmp(host, "A6") == 0 || strcmp(host, "B6") == 0)
        map4(sin6, r->b->addr[host[0] == 'A' ? SD_HOST_A : SD_HOST_B]);
    else if (strcmp(host, "MANY") == 0)
        map4(sin6, 0);
    else if (strcmp(host, "X6") == 0) {
        static const uint8_t x6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        memcpy(sin6->sin6_addr.s6_addr, x6, 16);
    } else if (strcmp(host, "ANY6") != 0)
        return false;
    return true;
}

/* HOST:PORT with HOST one of A, B, ANY, X, BCAST (a sockaddr_in) or A6, B6, ANY6, MANY, X6 (a
 * sockaddr_in6, parse_host6) and PORT Pn or a number; HOST alone is port 0. *len: the
 * address's size. */
static bool parse_addr(struct sd_run *r, const char *s, struct sockaddr_in *sin,
                       socklen_t *len)
{
    char host[16];
    const char *colon = strchr(s, ':');
    size_t hl = colon ? (size_t)(colon - s) : strlen(s);
    if (hl >= sizeof(host))
        return false;
    memcpy(host, s, hl);
    host[hl] = '\0';
    if (parse_host6(r, host, (struct sockaddr_in6 *)sin)) {
        *len = sizeof(struct sockaddr_in6);
    } else {
        *len = sizeof(*sin);
        memset(sin, 0, sizeof(*sin));
        sin->sin_family = AF_INET;
        if (strcmp(host, "ANY") == 0)
            sin->sin_addr.s_addr = htonl(INADDR_ANY);
        else if (host_of(host) >= 0)
            sin->sin_addr.s_addr = r->b->addr[host_of(host)];
        else if (strcmp(host, "X") == 0) /* RFC 5737 TEST-NET-1: nobody's, either side */
            sin->sin_addr.s_addr = htonl(0xc0000201u);
        else if (strcmp(host, "BCAST") == 0)
            sin->sin_addr.s_addr = r->b->bcast;
        else
            return false;
    }
    if (colon == NULL)
        return true;
    const char *p = colon + 1;
    long port;
    if (p[0] == 'P' && p[1] >= '1' && p[1] <= '9' && p[2] == '\0')
        port = r->sc->port_base + (p[1] - '0');
    else if (isdigit((unsigned char)p[0]))
        port = strtol(p, NULL, 10);
    else
        return false;
    if (port > 65535)
        return false;
    sin->sin_port = htons((uint16_t)port); /* sin6_port sits at the same offset */
    return true;
}

/* Pn; a number the scenario wrote or, with `ephemeral`, one of its range (the scenario chose
 * them); else `eph`. */
static bool port_is_literal(const struct sd_scenario *sc, unsigned port)
{
    if (sc->eph_lo && port >= (unsigned)sc->eph_lo && port <= (unsigned)sc->eph_hi)
        return true;
    for (int i = 0; i < sc->nliteral; i++)
        if ((unsigned)sc->literal_ports[i] == port)
            return true;
    return port == 0;
}

static void port_str(const struct sd_run *r, unsigned port, char *out, size_t n)
{
    unsigned base = (unsigned)r->sc->port_base;
    if (port > base && port <= base + 9)
        snprintf(out, n, "P%u", port - base);
    else if (port_is_literal(r->sc, port))
        snprintf(out, n, "%u", port);
    else
        snprintf(out, n, "eph");
}

static void addr_str(const struct sd_run *r, const struct sockaddr_in *sin, socklen_t len,
                     char *out, size_t n)
{
    char ps[16], hs[24];
    if (sin->sin_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sin;
        static const uint8_t zero[16];
        struct sockaddr_in6 m;
        const char *h = "other6";
        if (memcmp(sin6->sin6_addr.s6_addr, zero, 16) == 0)
            h = "ANY6";
        for (int k = 0; k < 2; k++)
            if (memcmp(sin6->sin6_addr.s6_addr, r->b->addr6[k], 16) == 0)
                h = k == 0 ? "A6N" : "B6N";
        for (int k = 0; k < 3; k++) {
            map4(&m, k == 2 ? 0 : r->b->addr[k == 0 ? SD_HOST_A : SD_HOST_B]);
            if (memcmp(sin6->sin6_addr.s6_addr, m.sin6_addr.s6_addr, 16) == 0)
                h = k == 0 ? "A6" : k == 1 ? "B6" : "MANY";
        }
        port_str(r, ntohs(sin6->sin6_port), ps, sizeof(ps));
        snprintf(out, n, "%s:%s%s", h, ps, len == sizeof(*sin6) ? "" : " len!=28");
        return;
    }
    if (sin->sin_family != AF_INET) {
        snprintf(out, n, "family=%d len=%u", sin->sin_family, (unsigned)len);
        return;
    }
    uint32_t a = sin->sin_addr.s_addr;
    if (a == htonl(INADDR_ANY))
        snprintf(hs, sizeof(hs), "ANY");
    else if (a == r->b->addr[SD_HOST_A])
        snprintf(hs, sizeof(hs), "A");
    else if (a == r->b->addr[SD_HOST_B])
        snprintf(hs, sizeof(hs), "B");
    else if (a == r->b->bcast)
        snprintf(hs, sizeof(hs), "BCAST");
    else
        snprintf(hs, sizeof(hs), "other");
    port_str(r, ntohs(sin->sin_port), ps, sizeof(ps));
    snprintf(out, n, "%s:%s%s", hs, ps, len == sizeof(*sin) ? "" : " len!=16");
}

/* The address argument at arg[i] plus `len=` and `family=`: *sap is NULL for `NULL`. */
static bool addr_arg(struct sd_run *r, const struct sd_step *st, int i,
                     struct sockaddr_in *sin, const struct sockaddr **sap, socklen_t *len)
{
    *sap = NULL;
    *len = sizeof(*sin);
    if (i >= st->nargs)
        return false;
    if (strcmp(st->arg[i], "NULL") != 0) {
        if (!parse_addr(r, st->arg[i], sin, len))
            return false;
        *sap = (const struct sockaddr *)sin;
    }
    const char *fam = kw(st, "family"), *l = kw(st, "len");
    if (fam != NULL)
        sin->sin_family = strcmp(fam, "unspec") == 0 ? AF_UNSPEC
                          : strcmp(fam, "inet6") == 0 ? AF_INET6
                                                      : (sa_family_t)atoi(fam);
    if (l != NULL)
        *len = (socklen_t)atoi(l);
    if (*sap != NULL && *len > sizeof(struct sockaddr_storage))
        return false; /* the buffer behind the address is a sockaddr_storage */
    return true;
}

/* ---- flags ---- */

static const struct {
    const char *name;
    int value;
} msg_flags[] = {
    {"oob", MSG_OOB}, {"peek", MSG_PEEK}, {"trunc", MSG_TRUNC}, {"dontwait", MSG_DONTWAIT},
    {"waitall", MSG_WAITALL}, {"nosignal", MSG_NOSIGNAL},
};

static int flags_of(const struct sd_step *st)
{
    int f = 0;
    for (size_t i = 0; i < sizeof(msg_flags) / sizeof(msg_flags[0]); i++)
        if (has_word(st, msg_flags[i].name))
            f |= msg_flags[i].value;
    const char *x = kw(st, "flags");
    return x ? f | (int)strtol(x, NULL, 0) : f;
}

static const struct {
    const char *name;
    short value;
} poll_bits[] = {
    {"IN", POLLIN}, {"PRI", POLLPRI}, {"OUT", POLLOUT}, {"ERR", POLLERR},
    {"HUP", POLLHUP}, {"NVAL", POLLNVAL}, {"RDHUP", POLLRDHUP},
};
#define POLL_BITS (sizeof(poll_bits) / sizeof(poll_bits[0]))

static bool parse_events(const char *s, short *ev)
{
    *ev = 0;
    if (strcmp(s, "-") == 0 || strcmp(s, "0") == 0)
        return true;
    char buf[64];
    snprintf(buf, sizeof(buf), "%s", s);
    /* strtok_r: two scenario threads (`T1: poll`, `T2: poll`) parse at once, and strtok's
     * hidden state made one of them fail now and then ("poll S in,out,rdhup,pri|-"). */
    char *save = NULL;
    for (char *t = strtok_r(buf, ",|", &save); t != NULL; t = strtok_r(NULL, ",|", &save)) {
        size_t i = 0;
        while (i < POLL_BITS && strcasecmp(t, poll_bits[i].name) != 0)
            i++;
        if (i == POLL_BITS)
            return false;
        *ev |= poll_bits[i].value;
    }
    return true;
}

static void events_str(int rev, char *out, size_t n)
{
    size_t k = (size_t)snprintf(out, n, "revents=");
    bool any = false;
    for (size_t i = 0; i < POLL_BITS && k < n; i++)
        if (rev & poll_bits[i].value) {
            k += (size_t)snprintf(out + k, n - k, "%s%s", any ? "|" : "", poll_bits[i].name);
            any = true;
        }
    if (!any && k < n)
        snprintf(out + k, n - k, "0");
}

/* ---- data: byte k of every stream is k % 251, so a reader can check what it got ---- */

static void fill(uint8_t *p, uint64_t off, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)((off + i) % 251);
}

/* Stream: the bytes must be the pattern from the reader's offset on. Datagram: the pattern
 * from wherever its first byte says. */
static bool check(const uint8_t *p, uint64_t off, size_t n, bool stream)
{
    if (n == 0)
        return true;
    if (!stream)
        off = p[0];
    for (size_t i = 0; i < n; i++)
        if (p[i] != (uint8_t)((off + i) % 251))
            return false;
    return true;
}

static bool is_stream(struct sd_run *r, struct sd_sock *s)
{
    int type = 0;
    socklen_t len = sizeof(type);
    if (r->b->getsockopt(r->b->ctx, s->host, s->fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
        return true;
    return type == SOCK_STREAM;
}

static uint8_t *data_buf(size_t n)
{
    return malloc(n ? n : 1);
}

/* After bytes were received into p: the count, and BADDATA if they are not the pattern. */
static void recv_result(struct sd_run *r, struct sd_sock *s, const uint8_t *p, ssize_t n,
                        int flags, char *out, size_t outlen)
{
    count_str(out, outlen, n);
    if (n <= 0 || p == NULL)
        return;
    bool stream = is_stream(r, s);
    size_t got = (size_t)n;
    if (!stream && (flags & MSG_TRUNC))
        return; /* the count is the datagram's length, not what was copied */
    if (stream && (flags & MSG_TRUNC))
        return; /* Linux's TCP discards instead of copying */
    if (!check(p, s->rcvd, got, stream))
        snprintf(out + strlen(out), outlen - strlen(out), " BADDATA");
    if (stream && !(flags & MSG_PEEK))
        s->rcvd += got;
}

static bool size_arg(const struct sd_step *st, int i, size_t *n)
{
    long long v;
    if (i >= st->nargs || !parse_int(st->arg[i], &v))
        return false;
    *n = (size_t)v;
    return true;
}

static int op_send(struct sd_run *r, struct sd_sock *s, const struct sd_step *st, char *out,
                   size_t outlen)
{
    size_t n;
    if (!size_arg(st, 1, &n))
        return scen_err(out, outlen, "send S LEN [flags] [NULL]", NULL);
    /* A huge LEN gets a buffer of SD_BUF_CAP bytes: safe while the call moves less. */
    bool null = has_word(st, "NULL");
    uint8_t *p = null ? NULL : data_buf(n > SD_BUF_CAP ? SD_BUF_CAP : n);
    if (p != NULL)
        fill(p, s->sent, n > SD_BUF_CAP ? SD_BUF_CAP : n);
    ssize_t rc = r->b->send(r->b->ctx, s->host, s->fd, p, n, flags_of(st), timeout_of(st));
    if (rc > 0)
        s->sent += (uint64_t)rc;
    free(p);
    count_str(out, outlen, rc);
    return 0;
}

static int op_recv(struct sd_run *r, struct sd_sock *s, const struct sd_step *st, char *out,
                   size_t outlen)
{
    size_t n;
    if (!size_arg(st, 1, &n))
        return scen_err(out, outlen, "recv S LEN [flags] [NULL]", NULL);
    bool null = has_word(st, "NULL");
    uint8_t *p = null ? NULL : data_buf(n > SD_BUF_CAP ? SD_BUF_CAP : n);
    int flags = flags_of(st);
    ssize_t rc = r->b->recv(r->b->ctx, s->host, s->fd, p, n, flags, timeout_of(st));
    recv_result(r, s, p, rc, flags, out, outlen);
    free(p);
    return 0;
}

static int op_sendto(struct sd_run *r, struct sd_sock *s, const struct sd_step *st, char *out,
                     size_t outlen)
{
    size_t n;
    struct sockaddr_storage ss; /* room for any len= the scenario passes */
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    const struct sockaddr *sa;
    socklen_t salen;
    memset(&ss, 0, sizeof(ss));
    if (!size_arg(st, 1, &n) || !addr_arg(r, st, 2, sin, &sa, &salen))
        return scen_err(out, outlen, "sendto S LEN ADDR|NULL [flags] [len=N]", NULL);
    uint8_t *p = has_word(st, "NULLBUF") ? NULL : data_buf(n > SD_BUF_CAP ? SD_BUF_CAP : n);
    if (p != NULL)
        fill(p, s->sent, n > SD_BUF_CAP ? SD_BUF_CAP : n);
    if (sa == NULL && kw(st, "len") == NULL)
        salen = 0;
    ssize_t rc = r->b->sendto(r->b->ctx, s->host, s->fd, p, n, flags_of(st), sa, salen,
                              timeout_of(st));
    if (rc > 0)
        s->sent += (uint64_t)rc;
    free(p);
    count_str(out, outlen, rc);
    return 0;
}

static int op_recvfrom(struct sd_run *r, struct sd_sock *s, const struct sd_step *st,
                       char *out, size_t outlen)
{
    size_t n;
    if (!size_arg(st, 1, &n))
        return scen_err(out, outlen, "recvfrom S LEN [flags] [noaddr] [NULLBUF]", NULL);
    uint8_t *p = has_word(st, "NULLBUF") ? NULL : data_buf(n > SD_BUF_CAP ? SD_BUF_CAP : n);
    struct sockaddr_in6 sin6; /* room for either family's */
    struct sockaddr_in *sinp = (struct sockaddr_in *)&sin6;
    memset(&sin6, 0, sizeof(sin6));
    socklen_t salen = s->inet6 ? sizeof(sin6) : sizeof(struct sockaddr_in);
    bool noaddr = has_word(st, "noaddr");
    int flags = flags_of(st);
    ssize_t rc = r->b->recvfrom(r->b->ctx, s->host, s->fd, p, n, flags,
                                noaddr ? NULL : (struct sockaddr *)sinp, noaddr ? NULL : &salen,
                                timeout_of(st));
    recv_result(r, s, p, rc, flags, out, outlen);
    free(p);
    if (rc >= 0 && !noaddr) {
        size_t k = strlen(out);
        char a[64];
        addr_str(r, sinp, salen, a, sizeof(a));
        snprintf(out + k, outlen - k, " from=%s", a);
    }
    return 0;
}

/* The iovec list of sendv/recvv: `-` for none (iovcnt 0), or comma-separated tokens, each a
 * length or `LEN*COUNT` (COUNT buffers of LEN bytes, up to SD_IOV_MAX in all: enough to pass
 * IOV_MAX). Returns the count, or -1 if the list is too long. */
#define SD_IOV_MAX 2048
static int iov_parse(const char *s, struct iovec *iov, size_t *total)
{
    int n = 0;
    *total = 0;
    if (strcmp(s, "-") == 0)
        return 0;
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", s);
    char *save = NULL; /* strtok_r: steps run on scenario threads at once (parse_events) */
    for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        char *x;
        size_t len = (size_t)strtoull(t, &x, 0);
        long count = *x == '*' ? strtol(x + 1, NULL, 0) : 1;
        for (long k = 0; k < count; k++, n++) {
            if (n >= SD_IOV_MAX)
                return -1;
            iov[n].iov_len = len;
            *total += len;
        }
    }
    return n;
}

/* sendv/recvv S IOVECS [partial]: with `partial`, a count short of the total prints as
 * `partial` (how much fits depends on buffer sizes). */
static int op_vec(struct sd_run *r, struct sd_sock *s, const struct sd_step *st, char *out,
                  size_t outlen, bool send)
{
    static __thread struct iovec iov[SD_IOV_MAX];
    size_t total;
    if (st->nargs < 2)
        return scen_err(out, outlen, "sendv/recvv S LEN,LEN*COUNT,...|-", NULL);
    int n = iov_parse(st->arg[1], iov, &total);
    if (n < 0 || total > SD_BUF_CAP)
        return scen_err(out, outlen, "iovecs too many or too large", st->arg[1]);
    uint8_t *p = data_buf(total), *q = p;
    for (int i = 0; i < n; q += iov[i].iov_len, i++)
        iov[i].iov_base = q;
    ssize_t rc;
    if (send) {
        fill(p, s->sent, total);
        rc = r->b->sendv(r->b->ctx, s->host, s->fd, iov, n);
        if (rc > 0)
            s->sent += (uint64_t)rc;
        count_str(out, outlen, rc);
    } else {
        rc = r->b->recvv(r->b->ctx, s->host, s->fd, iov, n);
        recv_result(r, s, p, rc, 0, out, outlen);
    }
    if (has_word(st, "partial") && rc > 0 && (size_t)rc < total)
        out_fmt(out, outlen, "partial%s", strstr(out, "BADDATA") ? " BADDATA" : "");
    free(p);
    return 0;
}

/* sendall: send until the buffers are full. Buffer sizes differ between the backends, so
 * the result is `full`, an error, or `data then -EPIPE`, never a count. */
static int op_sendall(struct sd_run *r, struct sd_sock *s, char *out, size_t outlen)
{
    uint8_t *p = data_buf(SD_CHUNK);
    uint64_t total = 0;
    ssize_t rc;
    for (;;) {
        fill(p, s->sent, SD_CHUNK);
        rc = r->b->send(r->b->ctx, s->host, s->fd, p, SD_CHUNK, MSG_DONTWAIT, 0);
        if (rc <= 0 || total >= SD_SENDALL_CAP)
            break;
        s->sent += (uint64_t)rc;
        total += (uint64_t)rc;
        r->b->after_step(r->b->ctx);
    }
    free(p);
    if (total >= SD_SENDALL_CAP)
        return out_fmt(out, outlen, "no limit");
    if (rc == -EAGAIN)
        return out_fmt(out, outlen, "full");
    char e[48];
    count_str(e, sizeof(e), rc);
    return out_fmt(out, outlen, total ? "data then %s" : "%s", e);
}

/* recvall: read until EAGAIN, end of stream or an error: `N then EOF` (`data then EOF` with
 * `nocount`, for streams whose length depends on buffer sizes). */
static int op_recvall(struct sd_run *r, struct sd_sock *s, const struct sd_step *st,
                      char *out, size_t outlen)
{
    uint8_t *p = data_buf(SD_CHUNK);
    uint64_t total = 0;
    bool bad = false, stream = is_stream(r, s);
    ssize_t rc;
    while ((rc = r->b->recv(r->b->ctx, s->host, s->fd, p, SD_CHUNK, MSG_DONTWAIT, 0)) > 0) {
        bad |= !check(p, s->rcvd, (size_t)rc, stream);
        if (stream)
            s->rcvd += (uint64_t)rc;
        total += (uint64_t)rc;
        r->b->after_step(r->b->ctx);
    }
    free(p);
    char e[48], n[32];
    if (rc == 0)
        snprintf(e, sizeof(e), "EOF");
    else if (rc == -EAGAIN)
        snprintf(e, sizeof(e), "EAGAIN");
    else
        count_str(e, sizeof(e), rc);
    if (has_word(st, "nocount"))
        snprintf(n, sizeof(n), "%s", total ? "data" : "nothing");
    else
        snprintf(n, sizeof(n), "%llu", (unsigned long long)total);
    return out_fmt(out, outlen, "%s then %s%s", n, e, bad ? " BADDATA" : "");
}

/* ---- options ---- */

enum opt_kind { OPT_INT, OPT_ERR, OPT_LINGER, OPT_STR };
static const struct {
    const char *name;
    int level, opt;
    enum opt_kind kind;
} options[] = {
    {"SO_REUSEADDR", SOL_SOCKET, 2, OPT_INT},    {"SO_TYPE", SOL_SOCKET, 3, OPT_INT},
    {"SO_ERROR", SOL_SOCKET, 4, OPT_ERR},        {"SO_BROADCAST", SOL_SOCKET, 6, OPT_INT},
    {"SO_SNDBUF", SOL_SOCKET, 7, OPT_INT},       {"SO_RCVBUF", SOL_SOCKET, 8, OPT_INT},
    {"SO_KEEPALIVE", SOL_SOCKET, 9, OPT_INT},    {"SO_OOBINLINE", SOL_SOCKET, 10, OPT_INT},
    {"SO_LINGER", SOL_SOCKET, 13, OPT_LINGER},   {"SO_REUSEPORT", SOL_SOCKET, 15, OPT_INT},
    {"SO_ACCEPTCONN", SOL_SOCKET, 30, OPT_INT},  {"TCP_NODELAY", IPPROTO_TCP, 1, OPT_INT},
    {"TCP_MAXSEG", IPPROTO_TCP, 2, OPT_INT},     {"TCP_KEEPIDLE", IPPROTO_TCP, 4, OPT_INT},
    {"TCP_KEEPINTVL", IPPROTO_TCP, 5, OPT_INT},  {"TCP_KEEPCNT", IPPROTO_TCP, 6, OPT_INT},
    {"TCP_CONGESTION", IPPROTO_TCP, 13, OPT_STR}, {"TCP_USER_TIMEOUT", IPPROTO_TCP, 18, OPT_INT},
    {"IPV6_V6ONLY", IPPROTO_IPV6, 26, OPT_INT},
    /* numbers no one defines, for "unknown option / level" steps */
    {"SO_999", SOL_SOCKET, 999, OPT_INT},         {"TCP_999", IPPROTO_TCP, 999, OPT_INT},
    {"LEVEL_999", 999, 1, OPT_INT},
};

static int opt_index(const char *name)
{
    for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
        if (strcmp(options[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* setsockopt S OPT VALUE [len=N]: VALUE an int, `ON,SECS` for SO_LINGER, a name for
 * TCP_CONGESTION, or NULL. */
static int op_setsockopt(struct sd_run *r, struct sd_sock *s, const struct sd_step *st,
                         char *out, size_t outlen)
{
    int k = st->nargs >= 3 ? opt_index(st->arg[1]) : -1;
    if (k < 0)
        return scen_err(out, outlen, "setsockopt S OPTION VALUE [len=N]", NULL);
    union {
        int i;
        struct linger l;
        char s[64];
    } v;
    memset(&v, 0, sizeof(v));
    const char *val = st->arg[2];
    socklen_t len = sizeof(int);
    long long x;
    if (options[k].kind == OPT_LINGER) {
        if (sscanf(val, "%d,%d", &v.l.l_onoff, &v.l.l_linger) != 2 && strcmp(val, "NULL"))
            return scen_err(out, outlen, "SO_LINGER takes ON,SECS", val);
        len = sizeof(v.l);
    } else if (options[k].kind == OPT_STR) {
        snprintf(v.s, sizeof(v.s), "%s", val);
        len = (socklen_t)strlen(v.s);
    } else if (parse_int(val, &x)) {
        v.i = (int)x;
    } else if (strcmp(val, "NULL") != 0) {
        return scen_err(out, outlen, "not an integer", val);
    }
    if (kw(st, "len") != NULL)
        len = (socklen_t)atoi(kw(st, "len"));
    if (len > sizeof(v))
        return scen_err(out, outlen, "len= larger than the value buffer (64)", NULL);
    const void *p = strcmp(val, "NULL") == 0 ? NULL : &v;
    count_str(out, outlen, r->b->setsockopt(r->b->ctx, s->host, s->fd, options[k].level,
                                            options[k].opt, p, len));
    return 0;
}

static void optval_str(int kind, const char *name, const void *v, socklen_t len, char *out,
                       size_t n)
{
    int i;
    memcpy(&i, v, sizeof(i));
    if (kind == OPT_ERR && len >= sizeof(int))
        snprintf(out, n, "%s=%s", name, i ? sd_errname(i) : "0");
    else if (kind == OPT_LINGER && len >= sizeof(struct linger)) {
        struct linger l;
        memcpy(&l, v, sizeof(l));
        snprintf(out, n, "%s={%d,%d}", name, l.l_onoff, l.l_linger);
    } else if (kind == OPT_STR)
        snprintf(out, n, "%s=%.*s", name, (int)strnlen(v, len), (const char *)v);
    else if (len >= sizeof(int))
        snprintf(out, n, "%s=%d", name, i);
    else /* a short optlen: show the bytes that came back */
        snprintf(out, n, "%s=bytes:%u:%02x", name, (unsigned)len, ((const uint8_t *)v)[0]);
}

static int op_getsockopt(struct sd_run *r, struct sd_sock *s, const struct sd_step *st,
                         char *out, size_t outlen)
{
    int k = st->nargs >= 2 ? opt_index(st->arg[1]) : -1;
    if (k < 0)
        return scen_err(out, outlen, "getsockopt S OPTION [len=N] [NULL]", NULL);
    uint8_t v[64];
    memset(v, 0, sizeof(v));
    socklen_t len = options[k].kind == OPT_LINGER ? sizeof(struct linger)
                    : options[k].kind == OPT_STR  ? 16
                                                  : sizeof(int);
    if (kw(st, "len") != NULL)
        len = (socklen_t)atoi(kw(st, "len"));
    if (len > sizeof(v))
        return scen_err(out, outlen, "len= larger than the value buffer (64)", NULL);
    socklen_t asked = len;
    bool null = has_word(st, "NULL");
    int rc = r->b->getsockopt(r->b->ctx, s->host, s->fd, options[k].level, options[k].opt,
                              null ? NULL : v, &len);
    if (rc < 0 || null) {
        count_str(out, outlen, rc);
        return 0;
    }
    optval_str(options[k].kind, options[k].name, v, len > sizeof(v) ? sizeof(v) : len, out,
               outlen);
    if (kw(st, "len") != NULL || len != asked) {
        size_t n = strlen(out);
        snprintf(out + n, outlen - n, " len=%u", (unsigned)len);
    }
    return 0;
}

/* ---- connection calls ---- */

static int op_socket(struct sd_run *r, const struct sd_step *st, char *out, size_t outlen)
{
    int host = st->nargs >= 2 ? host_of(st->arg[0]) : -1;
    if (host < 0 || st->assign == NULL)
        return scen_err(out, outlen, "NAME = socket|socket6 A|B stream|dgram|N", NULL);
    const char *t = st->arg[1];
    int type = strcmp(t, "stream") == 0 ? SOCK_STREAM : strcmp(t, "dgram") == 0 ? SOCK_DGRAM
                                                                                 : atoi(t);
    bool inet6 = strcmp(st->op, "socket6") == 0;
    int fd = r->b->socket(r->b->ctx, host, type | (inet6 ? SD_INET6 : 0));
    struct sd_sock *s = sock_new(r, st->assign, host, fd);
    if (s == NULL)
        return scen_err(out, outlen, "too many names", st->assign);
    s->inet6 = inet6;
    return fd >= 0 ? out_fmt(out, outlen, "fd") : (count_str(out, outlen, fd), 0);
}

static int op_bind_connect(struct sd_run *r, struct sd_sock *s, const struct sd_step *st,
                           char *out, size_t outlen, bool bind)
{
    struct sockaddr_storage ss; /* room for any len= the scenario passes */
    const struct sockaddr *sa;
    socklen_t len;
    memset(&ss, 0, sizeof(ss));
    if (!addr_arg(r, st, 1, (struct sockaddr_in *)&ss, &sa, &len))
        return scen_err(out, outlen, "bind/connect S HOST:PORT|NULL [len=N] [family=F]",
                        NULL);
    int rc = bind ? r->b->bind(r->b->ctx, s->host, s->fd, sa, len)
                  : r->b->connect(r->b->ctx, s->host, s->fd, sa, len, timeout_of(st));
    count_str(out, outlen, rc);
    return 0;
}

/* accept S [noaddr] [nulllen]: `fd addr=A:eph`; NAME = accept ... names the new socket. */
static int op_accept(struct sd_run *r, struct sd_sock *s, const struct sd_step *st, char *out,
                     size_t outlen)
{
    struct sockaddr_in6 sin6; /* room for either family's */
    struct sockaddr_in *sinp = (struct sockaddr_in *)&sin6;
    memset(&sin6, 0, sizeof(sin6));
    socklen_t len = s->inet6 ? sizeof(sin6) : sizeof(struct sockaddr_in);
    bool noaddr = has_word(st, "noaddr"), nulllen = has_word(st, "nulllen");
    if (kw(st, "len") != NULL) /* a short (or negative) address buffer */
        len = (socklen_t)atoi(kw(st, "len"));
    int host = s->host;
    int fd = r->b->accept(r->b->ctx, host, s->fd, noaddr ? NULL : (struct sockaddr *)sinp,
                          noaddr || nulllen ? NULL : &len, timeout_of(st));
    bool inet6 = s->inet6;
    struct sd_sock *ns = st->assign != NULL ? sock_new(r, st->assign, host, fd) : NULL;
    if (st->assign != NULL && ns == NULL)
        return scen_err(out, outlen, "too many names", st->assign);
    if (ns != NULL)
        ns->inet6 = inet6;
    if (fd < 0) {
        count_str(out, outlen, fd);
        return 0;
    }
    if (st->assign == NULL)
        r->b->close(r->b->ctx, host, fd);
    if (noaddr || nulllen)
        return out_fmt(out, outlen, "fd");
    char a[64];
    addr_str(r, sinp, len, a, sizeof(a));
    return out_fmt(out, outlen, "fd addr=%s", a);
}

static int op_name(struct sd_run *r, struct sd_sock *s, const struct sd_step *st, char *out,
                   size_t outlen, bool peer)
{
    struct sockaddr_in6 sin6; /* room for either family's */
    struct sockaddr_in *sinp = (struct sockaddr_in *)&sin6;
    memset(&sin6, 0, sizeof(sin6));
    socklen_t len = s->inet6 ? sizeof(sin6) : sizeof(struct sockaddr_in);
    if (kw(st, "len") != NULL)
        len = (socklen_t)atoi(kw(st, "len"));
    bool null = has_word(st, "NULL");
    int rc = (peer ? r->b->getpeername : r->b->getsockname)(
        r->b->ctx, s->host, s->fd, null ? NULL : (struct sockaddr *)sinp, null ? NULL : &len);
    if (rc < 0 || null)
        return count_str(out, outlen, rc), 0;
    char a[64];
    addr_str(r, sinp, len, a, sizeof(a));
    return out_fmt(out, outlen, "addr=%s", a);
}

static int op_shutdown(struct sd_run *r, struct sd_sock *s, const struct sd_step *st,
                       char *out, size_t outlen)
{
    if (st->nargs < 2)
        return scen_err(out, outlen, "shutdown S rd|wr|rdwr|N", NULL);
    const char *h = st->arg[1];
    int how = strcmp(h, "rd") == 0 ? SHUT_RD : strcmp(h, "wr") == 0 ? SHUT_WR
                                           : strcmp(h, "rdwr") == 0 ? SHUT_RDWR
                                                                    : atoi(h);
    count_str(out, outlen, r->b->shutdown(r->b->ctx, s->host, s->fd, how));
    return 0;
}

static int op_poll(struct sd_run *r, struct sd_sock *s, const struct sd_step *st, char *out,
                   size_t outlen)
{
    short ev;
    if (st->nargs < 2 || !parse_events(st->arg[1], &ev))
        return scen_err(out, outlen, "poll S in,out,rdhup,pri|-", NULL);
    int rev = r->b->poll(r->b->ctx, s->host, s->fd, ev, timeout_of(st));
    if (rev < 0)
        return count_str(out, outlen, rev), 0;
    events_str(rev, out, outlen);
    return 0;
}

/* Operations on a named socket (first argument). */
static int run_on_sock(struct sd_run *r, struct sd_sock *s, const struct sd_step *st,
                       char *out, size_t n)
{
    const char *op = st->op;
    if (strcmp(op, "bind") == 0 || strcmp(op, "connect") == 0)
        return op_bind_connect(r, s, st, out, n, op[0] == 'b');
    if (strcmp(op, "listen") == 0) {
        long long bl;
        if (st->nargs < 2 || !parse_int(st->arg[1], &bl))
            return scen_err(out, n, "listen S BACKLOG", NULL);
        return count_str(out, n, r->b->listen(r->b->ctx, s->host, s->fd, (int)bl)), 0;
    }
    if (strcmp(op, "accept") == 0)
        return op_accept(r, s, st, out, n);
    if (strcmp(op, "send") == 0)
        return op_send(r, s, st, out, n);
    if (strcmp(op, "recv") == 0)
        return op_recv(r, s, st, out, n);
    if (strcmp(op, "sendto") == 0)
        return op_sendto(r, s, st, out, n);
    if (strcmp(op, "recvfrom") == 0)
        return op_recvfrom(r, s, st, out, n);
    if (strcmp(op, "sendv") == 0 || strcmp(op, "recvv") == 0)
        return op_vec(r, s, st, out, n, op[0] == 's');
    if (strcmp(op, "sendall") == 0)
        return op_sendall(r, s, out, n);
    if (strcmp(op, "recvall") == 0)
        return op_recvall(r, s, st, out, n);
    if (strcmp(op, "shutdown") == 0)
        return op_shutdown(r, s, st, out, n);
    if (strcmp(op, "close") == 0)
        return count_str(out, n, r->b->close(r->b->ctx, s->host, s->fd)), 0;
    if (strcmp(op, "setsockopt") == 0)
        return op_setsockopt(r, s, st, out, n);
    if (strcmp(op, "getsockopt") == 0)
        return op_getsockopt(r, s, st, out, n);
    if (strcmp(op, "getsockname") == 0 || strcmp(op, "getpeername") == 0)
        return op_name(r, s, st, out, n, op[3] == 'p');
    if (strcmp(op, "poll") == 0)
        return op_poll(r, s, st, out, n);
    return scen_err(out, n, "unknown operation", op);
}

static int step_body(struct sd_run *r, const struct sd_step *st, char *out, size_t n)
{
    int rc;
    bool sock_op = strcmp(st->op, "socket") == 0 || strcmp(st->op, "socket6") == 0;
    if (st->assign != NULL && !sock_op && strcmp(st->op, "accept") != 0) {
        rc = scen_err(out, n, "only socket and accept name a socket", st->assign);
    } else if (sock_op) {
        rc = op_socket(r, st, out, n);
    } else if (strcmp(st->op, "settle") == 0) {
        r->b->settle(r->b->ctx, st->nargs ? atoi(st->arg[0]) : 50);
        rc = out_fmt(out, n, "-") + 1; /* nothing to compare */
    } else if (st->nargs == 0) {
        rc = scen_err(out, n, "no socket named", st->op);
    } else {
        struct sd_sock *s = sock_of(r, st->arg[0]);
        rc = s ? run_on_sock(r, s, st, out, n) : scen_err(out, n, "unknown name", st->arg[0]);
    }
    r->b->after_step(r->b->ctx);
    return rc;
}

/* ---- threads: `Tn: step` runs in the background, `join Tn` gives its result ---- */

struct sd_thread {
    pthread_t tid;
    struct sd_run *r;
    const struct sd_step *st;
    int rc;
    char out[SD_RESULT_LEN];
};

static void *thread_main(void *arg)
{
    struct sd_thread *t = arg;
    t->rc = step_body(t->r, t->st, t->out, sizeof(t->out));
    return NULL;
}

static int thread_start(struct sd_run *r, const struct sd_step *st, char *out, size_t n)
{
    if (r->threads[st->thread] != NULL)
        return scen_err(out, n, "thread already running; join it first", st->op);
    struct sd_thread *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return scen_err(out, n, "out of memory", NULL);
    t->r = r;
    t->st = st;
    if (pthread_create(&t->tid, NULL, thread_main, t) != 0) {
        free(t);
        return scen_err(out, n, "pthread_create failed", NULL);
    }
    r->threads[st->thread] = t;
    return out_fmt(out, n, "started") + 1; /* nothing to compare until the join */
}

static int thread_join(struct sd_run *r, int k, char *out, size_t n)
{
    struct sd_thread *t = r->threads[k];
    if (t == NULL)
        return scen_err(out, n, "no thread to join", NULL);
    pthread_join(t->tid, NULL);
    r->threads[k] = NULL;
    snprintf(out, n, "%s", t->out);
    int rc = t->rc;
    free(t);
    return rc;
}

int sd_step_run(struct sd_run *r, const struct sd_step *st, char *out, size_t n)
{
    if (st->thread > 0)
        return thread_start(r, st, out, n);
    if (strcmp(st->op, "join") == 0) {
        const char *a = st->nargs ? st->arg[0] : "";
        int k = a[0] == 'T' ? atoi(a + 1) : 0;
        if (k < 1 || k > SD_MAX_THREADS)
            return scen_err(out, n, "join T1..T8", a);
        return thread_join(r, k, out, n);
    }
    return step_body(r, st, out, n);
}

void sd_run_finish(struct sd_run *r)
{
    char out[SD_RESULT_LEN];
    for (int k = 1; k <= SD_MAX_THREADS; k++)
        if (r->threads[k] != NULL)
            thread_join(r, k, out, sizeof(out));
}
