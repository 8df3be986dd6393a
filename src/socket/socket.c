/* The socket layer: BSD-style descriptors over one stack's TCP connections and UDP sockets.
 *
 * Each descriptor is a slot in the stack's table (struct sk_socktab), reused through a free
 * list. The socket keeps what POSIX makes visible before and around a connection: the bound
 * port, options set before connect/listen, shutdown flags, and whether the connection's
 * error has been reported (POSIX reports it once: SO_ERROR or the next call).
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "socket/sock_int.h"
#include "tcp/tcp_int.h"

#define UDP_MAX_PAYLOAD 65507
/* Linux refuses a longer address before looking at it (move_addr_to_kernel). */
#define SOCKADDR_MAX ((socklen_t)sizeof(struct sockaddr_storage))

/* ---- The table ---- */

static struct sk_socktab *tab(struct sk_stack *st)
{
    if (st->socks == NULL) {
        struct sk_socktab *t = sk_mem_alloc(st, sizeof(*t));
        if (t == NULL)
            return NULL;
        memset(t, 0, sizeof(*t));
        t->free_head = -1;
        st->socks = t;
    }
    return st->socks;
}

void sk_socket_free_all(struct sk_stack *st)
{
    struct sk_socktab *t = st->socks;
    if (t == NULL)
        return;
    /* The connections and UDP sockets belong to the stack's tables and go with them. */
    for (int i = 0; i < t->cap; i++)
        sk_mem_free(st, t->v[i].udp_ref, sizeof(*t->v[i].udp_ref));
    sk_mem_free(st, t->v, sizeof(*t->v) * (size_t)t->cap);
    sk_mem_free(st, t, sizeof(*t));
    st->socks = NULL;
}

struct sk_sock *sk_sock_get(struct sk_stack *st, int fd)
{
    struct sk_socktab *t = st->socks;
    if (t == NULL || fd < 0 || fd >= t->cap || t->v[fd].type == 0)
        return NULL;
    return &t->v[fd];
}

static int grow(struct sk_stack *st, struct sk_socktab *t)
{
    int ncap = t->cap ? t->cap * 2 : 16;
    struct sk_sock *v = sk_mem_alloc(st, sizeof(*v) * (size_t)ncap);
    if (v == NULL)
        return -ENOMEM;
    memset(v, 0, sizeof(*v) * (size_t)ncap);
    if (t->cap)
        memcpy(v, t->v, sizeof(*v) * (size_t)t->cap);
    /* New slots join the free list lowest first. */
    for (int i = ncap - 1; i >= t->cap; i--) {
        v[i].next_free = t->free_head;
        t->free_head = i;
    }
    sk_mem_free(st, t->v, sizeof(*t->v) * (size_t)t->cap);
    t->v = v;
    t->cap = ncap;
    return 0;
}

static int alloc_fd(struct sk_stack *st, int type, int family)
{
    struct sk_socktab *t = tab(st);
    if (t == NULL)
        return -ENOMEM;
    if ((uint32_t)t->open >= st->cfg.max_connections)
        return -EMFILE;
    if (t->free_head < 0 && grow(st, t) != 0)
        return -ENOMEM;
    int fd = t->free_head;
    struct sk_sock *s = &t->v[fd];
    t->free_head = s->next_free;
    memset(s, 0, sizeof(*s));
    s->type = (uint8_t)type;
    s->family = (uint8_t)family;
    s->laddr = family == AF_INET ? sk_addr_from_v4(0) : (struct sk_addr){{0}};
    s->raddr = s->laddr;
    s->state = SS_OPEN;
    t->open++;
    return fd;
}

static void free_fd(struct sk_stack *st, int fd)
{
    struct sk_socktab *t = st->socks;
    struct sk_sock *s = &t->v[fd];
    if (s->port_ref)
        sk_port_unref(st, s->lport);
    if (s->port_hold)
        sk_port_release(st, s->lport);
    memset(s, 0, sizeof(*s));
    s->next_free = t->free_head;
    t->free_head = fd;
    t->open--;
}

/* ---- Errors ---- */

int sk_sock_pending_error(const struct sk_sock *s)
{
    if (s->so_error)
        return s->so_error;
    if (s->tcp && !s->err_seen)
        return sk_tcp_error(s->tcp);
    return 0;
}

int sk_sock_take_error(struct sk_sock *s)
{
    int e = sk_sock_pending_error(s);
    if (s->so_error)
        s->so_error = 0;
    else if (e)
        s->err_seen = true;
    return e;
}

void sk_sock_udp_sync(struct sk_sock *s)
{
    if (s->udp == NULL)
        return;
    int e = sk_udp_error(s->udp);
    /* Linux and the BSDs report ICMP errors only on connected UDP sockets. */
    if (e && s->state == SS_CONNECTED)
        s->so_error = e;
}

/* ---- Addresses ---- */

/* An address handed in, checked in Linux's order: a length beyond sockaddr_storage -EINVAL
 * and a NULL address with a length -EFAULT (move_addr_to_kernel), then shorter than the
 * socket family's address -EINVAL (inet_bind, tcp_v4_connect, udp_sendmsg; for AF_INET6
 * inet6_bind, tcp_v6_connect: shorter than RFC 2133's 24-byte sockaddr_in6). An AF_INET6
 * UDP socket also reads an AF_INET address (its sendto and connect take one, as Linux's
 * udpv6_sendmsg and ip6_datagram_connect); ip comes back IPv4-mapped then, as it always does
 * for AF_INET. The family is left to the caller: which families each call takes differs. */
#define SIN6_LEN_RFC2133 24
static int addr_in(const struct sk_sock *s, const struct sockaddr *addr, socklen_t len,
                   struct sk_addr *ip, uint16_t *port, sa_family_t *family)
{
    bool v4_in_v6 = s->family == AF_INET6 && s->type == SK_SOCK_DGRAM && addr != NULL &&
                    len >= (socklen_t)sizeof(sa_family_t) && addr->sa_family == AF_INET;
    if (len > SOCKADDR_MAX)
        return -EINVAL;
    if (addr == NULL && len > 0)
        return -EFAULT;
    if (s->family == AF_INET6 && len >= (socklen_t)sizeof(sa_family_t) &&
        addr->sa_family == AF_INET6) {
        if (len < SIN6_LEN_RFC2133)
            return -EINVAL;
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)addr;
        *family = AF_INET6;
        memcpy(ip->b, sin6->sin6_addr.s6_addr, 16);
        *port = ntohs(sin6->sin6_port);
        return 0;
    }
    if (len < (socklen_t)(s->family == AF_INET6 && !v4_in_v6 ? SIN6_LEN_RFC2133
                                                             : sizeof(struct sockaddr_in)))
        return -EINVAL;
    const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;
    *family = sin->sin_family;
    *ip = sk_addr_from_v4(ntohl(sin->sin_addr.s_addr));
    *port = ntohs(sin->sin_port);
    return 0;
}

/* An address handed out, as Linux's move_addr_to_user: at most *len bytes of it (a short
 * buffer gets the start), *len set to its full size; -EFAULT for a NULL length (or a NULL
 * buffer with room), -EINVAL for a negative one. An AF_INET socket's is a sockaddr_in, an
 * AF_INET6 socket's a sockaddr_in6 (an IPv4 peer shown IPv4-mapped, RFC 4291 §2.5.5.2). */
static int addr_out(const struct sk_sock *s, struct sockaddr *addr, socklen_t *len,
                    const struct sk_addr *ip, uint16_t port)
{
    if (len == NULL)
        return -EFAULT;
    if ((int)*len < 0)
        return -EINVAL;
    union {
        struct sockaddr_in sin;
        struct sockaddr_in6 sin6;
    } u;
    size_t size;
    memset(&u, 0, sizeof(u));
    if (s->family == AF_INET6) {
        u.sin6.sin6_family = AF_INET6;
        memcpy(u.sin6.sin6_addr.s6_addr, ip->b, 16);
        u.sin6.sin6_port = htons(port);
        size = sizeof(u.sin6);
    } else {
        u.sin.sin_family = AF_INET;
        u.sin.sin_addr.s_addr = htonl(sk_addr_is_v4(ip) ? sk_addr_v4(ip) : 0);
        u.sin.sin_port = htons(port);
        size = sizeof(u.sin);
    }
    size_t n = (size_t)*len < size ? (size_t)*len : size;
    if (n > 0 && addr == NULL)
        return -EFAULT;
    if (n > 0)
        memcpy(addr, &u, n);
    *len = (socklen_t)size;
    return 0;
}

/* Which families the socket's listener or UDP port takes (sk_tcp_listen_family,
 * sk_udp_set_family): AF_INET's IPv4; AF_INET6's IPv6 with IPV6_V6ONLY, IPv4 only when bound
 * to an IPv4-mapped address, else both (a dual-stack socket, Linux's default). */
static int sock_families(const struct sk_sock *s)
{
    if (s->family == AF_INET)
        return 4;
    if (s->v6only)
        return 6;
    return sk_addr_is_v4(&s->laddr) ? 4 : 0;
}

/* ---- Ports ---- */

/* Is a TCP port taken for a socket binding it (reuse: SO_REUSEADDR set on it)? A listener
 * always conflicts, any other connection using the port (TIME-WAIT included) only without
 * SO_REUSEADDR. A port nobody uses is one lookup in the stack's count of endpoints per port
 * (bound sockets included, see sock_port_ref); only a port in use is looked at closely, by a
 * walk: that is an explicit bind to a busy port, rare and never the port picker's path. */
static bool tcp_port_busy(struct sk_stack *st, const struct sk_sock *self, uint16_t port,
                          bool reuse)
{
    st->ctr.port_lookups++;
    uint32_t refs = sk_port_refs(st, port);
    if (refs == 0 || (refs == 1 && self->port_ref && self->lport == port))
        return false;
    if (!reuse)
        return true;
    for (struct sk_list_node *n = sk_list_first(&st->all); n; n = sk_list_next(&st->all, n)) {
        const struct sk_tcp *c = sk_list_entry(n, struct sk_tcp, all_link);
        if (c->lport != port || (c->flags & TF_DEAD))
            continue;
        if (c->state == SK_TCP_LISTEN || !reuse)
            return true;
    }
    struct sk_socktab *t = st->socks;
    for (int i = 0; i < t->cap; i++) {
        const struct sk_sock *o = &t->v[i];
        if (o == self || o->type != SK_SOCK_STREAM || !o->bound || o->lport != port)
            continue;
        if (o->state == SS_LISTENING || !(reuse && o->reuseaddr))
            return true;
    }
    return false;
}

/* An ephemeral candidate for bind(0) or listen() is taken if any TCP endpoint or bound
 * socket uses it: one lookup in the counts (RFC 6056, ports.c). */
static bool sock_port_taken(struct sk_stack *st, uint16_t port, void *ctx)
{
    (void)ctx;
    st->ctr.port_lookups++;
    return sk_port_refs(st, port) != 0;
}

static uint16_t pick_port(struct sk_stack *st)
{
    struct sk_addr none = sk_addr_from_v4(0); /* no destination: a random port (ports.c) */
    return sk_port_pick(st, &none, 0, sock_port_taken, NULL);
}

/* A bound stream socket counts as a user of its port from bind until close, so that the
 * picker and other binds see it before it has a connection, and it holds the port: no
 * connect() of another socket picks it (ports.c). */
static int sock_port_ref(struct sk_stack *st, struct sk_sock *s, uint16_t port)
{
    if (sk_port_ref(st, port) != 0)
        return -ENOBUFS;
    if (sk_port_hold(st, port) != 0) {
        sk_port_unref(st, port);
        return -ENOBUFS;
    }
    s->port_ref = s->port_hold = true;
    return 0;
}

/* ---- Lifecycle ---- */

/* Linux's socket types run from 0 to SOCK_MAX - 1 (10), in the low four bits; above them only
 * the flags SOCK_NONBLOCK and SOCK_CLOEXEC; anything else is -EINVAL (__sys_socket,
 * __sock_create). */
#define SOCK_TYPE_MASK 0xf
#define SOCK_TYPE_MAX 10
#define SOCK_TYPE_RAW 3

int sk_socket(struct sk_stack *st, int type)
{
    return sk_socket_af(st, AF_INET, type);
}

int sk_socket_af(struct sk_stack *st, int family, int type)
{
    /* Linux __sock_create: a family it does not have is -EAFNOSUPPORT, before the type. */
    if (family != AF_INET && family != AF_INET6)
        return -EAFNOSUPPORT;
    /* Both flags mean nothing here: every socket is non-blocking, none survives an exec. */
    if ((type & ~SOCK_TYPE_MASK & ~(SK_SOCK_NONBLOCK | SK_SOCK_CLOEXEC)) != 0)
        return -EINVAL;
    type &= SOCK_TYPE_MASK;
    if (type == SK_SOCK_STREAM || type == SK_SOCK_DGRAM)
        return alloc_fd(st, type, family);
    if (type > SOCK_TYPE_MAX)
        return -EINVAL;
    /* Linux inet_create: a type with no protocol is -ESOCKTNOSUPPORT; SOCK_RAW has protocols,
     * none of them 0 (the only protocol this call asks for), -EPROTONOSUPPORT. */
    return type == SOCK_TYPE_RAW ? -EPROTONOSUPPORT : -ESOCKTNOSUPPORT;
}

static int udp_bind(struct sk_stack *st, int fd, struct sk_sock *s, uint16_t port)
{
    struct sk_udp *u;
    int r = sk_udp_bind_reuse(st, port, s->reuseaddr, &u);
    if (r != 0)
        return r == -ENOMEM ? -ENOBUFS : r;
    s->udp = u;
    s->bound = true;
    s->lport = sk_udp_port(u);
    sk_udp_set_family(u, sock_families(s));
    sk_udp_set_local(u, &s->laddr);
    sk_sock_hook(st, fd);
    return 0;
}

/* The address bind() may take for socket s: 0, -EAFNOSUPPORT or -EADDRNOTAVAIL (Linux's
 * __inet_bind and __inet6_bind, in their order). */
static int bind_address(struct sk_stack *st, const struct sk_sock *s, sa_family_t family,
                        const struct sk_addr *ip)
{
    if (s->family == AF_INET) {
        /* Linux __inet_bind: AF_UNSPEC passes as AF_INET for INADDR_ANY only (old programs). */
        if (family != AF_INET && !(family == AF_UNSPEC && sk_addr_v4(ip) == 0))
            return -EAFNOSUPPORT;
        /* Linux checks the address before the socket's state (__inet_bind). */
        if (sk_addr_v4(ip) != 0 && sk_addr_v4(ip) != st->cfg.addr)
            return -EADDRNOTAVAIL;
        return 0;
    }
    if (family != AF_INET6)
        return -EAFNOSUPPORT; /* Linux inet6_bind */
    if (sk_addr_is_v4(ip)) {
        /* __inet6_bind: an IPv4-mapped address on an IPv6-only socket is -EINVAL; otherwise it
         * must be one of our IPv4 addresses (or 0.0.0.0). */
        if (s->v6only)
            return -EINVAL;
        return sk_addr_v4(ip) == 0 || sk_addr_v4(ip) == st->cfg.addr ? 0 : -EADDRNOTAVAIL;
    }
    if (sk_addr_is_any(ip))
        return 0;
    return sk_ip6_is_local(st, ip) ? 0 : -EADDRNOTAVAIL;
}

int sk_bind(struct sk_stack *st, int fd, const struct sockaddr *addr, socklen_t addrlen)
{
    struct sk_sock *s = sk_sock_get(st, fd);
    if (s == NULL)
        return -EBADF;
    struct sk_addr ip;
    uint16_t port;
    sa_family_t family;
    int r = addr_in(s, addr, addrlen, &ip, &port, &family);
    if (r != 0)
        return r;
    if ((r = bind_address(st, s, family, &ip)) != 0)
        return r;
    if (s->bound || s->state != SS_OPEN)
        return -EINVAL;
    if (s->type == SK_SOCK_DGRAM) {
        struct sk_addr before = s->laddr;
        s->laddr = ip; /* decides the families the port takes (sock_families) */
        r = udp_bind(st, fd, s, port);
        s = sk_sock_get(st, fd);
        if (r == 0)
            s->bind_explicit = true;
        else
            s->laddr = before;
        return r;
    }
    if (port == 0)
        port = pick_port(st);
    if (port == 0)
        return -EADDRINUSE;
    if (tcp_port_busy(st, s, port, s->reuseaddr))
        return -EADDRINUSE;
    if ((r = sock_port_ref(st, s, port)) != 0)
        return r;
    s->bound = true;
    s->laddr = ip;
    s->lport = port;
    return 0;
}

int sk_listen(struct sk_stack *st, int fd, int backlog)
{
    struct sk_sock *s = sk_sock_get(st, fd);
    if (s == NULL)
        return -EBADF;
    if (s->type != SK_SOCK_STREAM)
        return -EOPNOTSUPP;
    /* As Linux's __sys_listen: the backlog is read as unsigned and capped (at somaxconn
     * there, at max_syn_backlog here), so a negative one means the cap; 0 lets one wait. */
    uint32_t cap = st->cfg.max_syn_backlog;
    int bl = (uint32_t)backlog > cap ? (int)cap : backlog;
    if (bl < 1)
        bl = 1;
    if (s->state == SS_LISTENING) {
        s->tcp->lsn->backlog = bl; /* listen again sets the new backlog (inet_listen) */
        return 0;
    }
    if (s->state != SS_OPEN)
        return -EINVAL;
    if (!s->bound) {
        uint16_t p = pick_port(st);
        if (p == 0)
            return -EADDRINUSE;
        int r = sock_port_ref(st, s, p);
        if (r != 0)
            return r;
        s->lport = p;
        s->bound = true;
    }
    /* Only one listener per port, whatever SO_REUSEADDR says or the families: sk_tcp_listen
     * refuses a second (-EADDRINUSE). */
    struct sk_tcp *l;
    int r = sk_tcp_listen_with(st, s->lport, bl, &s->params, &l);
    if (r != 0)
        return r == -ENOMEM ? -ENOBUFS : r;
    sk_tcp_listen_family(l, sock_families(s));
    sk_tcp_listen_addr(l, &s->laddr);
    sk_tcp_set_fastopen(l, s->fo_qlen); /* RFC 7413: SK_TCP_FASTOPEN set before listen */
    s->tcp = l;
    s->state = SS_LISTENING;
    sk_sock_hook(st, fd);
    return 0;
}

int sk_accept(struct sk_stack *st, int fd, struct sockaddr *addr, socklen_t *addrlen)
{
    struct sk_sock *s = sk_sock_get(st, fd);
    if (s == NULL)
        return -EBADF;
    if (s->type != SK_SOCK_STREAM)
        return -EOPNOTSUPP;
    if (s->state != SS_LISTENING)
        return -EINVAL;
    if (!(sk_tcp_events(s->tcp) & SK_EV_ACCEPTABLE))
        return -EAGAIN;
    int nfd = alloc_fd(st, SK_SOCK_STREAM, st->socks->v[fd].family);
    if (nfd < 0)
        return nfd;
    s = sk_sock_get(st, fd); /* the table may have moved */
    struct sk_tcp *c;
    int r = sk_tcp_accept(s->tcp, &c);
    if (r != 0) {
        free_fd(st, nfd);
        return r;
    }
    struct sk_sock *n = &st->socks->v[nfd];
    /* The connection inherits what the listener was given (POSIX leaves it open; Linux and
     * the BSDs pass these on). */
    n->reuseaddr = s->reuseaddr;
    n->v6only = s->v6only;
    n->keepalive = s->keepalive;
    n->nodelay = s->nodelay;
    n->linger_on = s->linger_on;
    n->linger_s = s->linger_s;
    n->params = s->params;
    n->ka_idle_s = s->ka_idle_s;
    n->ka_intvl_s = s->ka_intvl_s;
    n->ka_cnt = s->ka_cnt;
    n->user_timeout_ms = s->user_timeout_ms;
    n->notsent_lowat = s->notsent_lowat;
    n->rcvlowat = s->rcvlowat;
    n->inq = s->inq;
    n->tcp = c;
    n->bound = true;
    n->lport = s->lport;
    /* An accepted connection holds its listener's port too (Linux: it joins the listener's
     * bind bucket); the listener's hold means the count's page exists, so this cannot fail. */
    n->port_hold = sk_port_hold(st, n->lport) == 0;
    n->laddr = s->laddr;
    n->state = SS_CONNECTED;
    sk_sock_apply_conn_opts(n);
    sk_sock_hook(st, nfd);
    /* As Linux's do_accept (net/socket.c): the connection is taken first, then the address
     * is written; if it cannot be (no length, or one negative as an int) the new socket is
     * closed again and the call fails. */
    if (addr != NULL && (addrlen == NULL || (int)*addrlen < 0)) {
        sk_close(st, nfd);
        return addrlen == NULL ? -EFAULT : -EINVAL;
    }
    struct sk_tcp_info info;
    struct sk_addr peer;
    sk_tcp_get_info(c, &info);
    sk_tcp_get_addrs(c, NULL, &peer);
    addr_out(n, addr, addrlen, &peer, info.rport);
    return nfd;
}

void sk_sock_apply_conn_opts(struct sk_sock *s)
{
    if (s->tcp == NULL)
        return;
    if (s->nodelay)
        sk_tcp_set_nodelay(s->tcp, true);
    if (s->keepalive || s->ka_idle_s || s->ka_intvl_s || s->ka_cnt)
        sk_tcp_set_keepalive(s->tcp, s->keepalive, (uint64_t)s->ka_idle_s * 1000000u,
                             s->ka_intvl_s * 1000000u, (uint8_t)s->ka_cnt);
    if (s->user_timeout_ms)
        sk_tcp_set_user_timeout(s->tcp, (uint64_t)s->user_timeout_ms * 1000u);
    /* Marks that find no memory stay the stack's defaults (counted: alloc_failures). */
    if (s->notsent_lowat)
        (void)sk_tcp_set_notsent_lowat(s->tcp, s->notsent_lowat);
    if (s->rcvlowat > 1)
        (void)sk_tcp_set_rcvlowat(s->tcp, s->rcvlowat);
}

/* Notes a finished handshake: SS_CONNECTING becomes SS_CONNECTED once the TCB is
 * synchronized. Only connect() itself and shutdown() do this, as in Linux, where
 * sock->state changes in __inet_stream_connect and inet_shutdown but not in send, recv or
 * poll: so after any of those saw the completion, connect still returns 0 once. */
static void observe_connect(struct sk_sock *s)
{
    if (s->state != SS_CONNECTING || s->tcp == NULL)
        return;
    enum sk_tcp_state t = sk_tcp_get_state(s->tcp);
    if (t >= SK_TCP_ESTABLISHED)
        s->state = SS_CONNECTED;
}

/* connect() on a socket already connecting: the outcome, once (Linux __inet_stream_connect). */
static int tcp_connect_again(struct sk_sock *s)
{
    enum sk_tcp_state t = sk_tcp_get_state(s->tcp);
    if (t == SK_TCP_SYN_SENT || t == SK_TCP_SYN_RECEIVED)
        return -EALREADY;
    if (t != SK_TCP_CLOSED) {
        /* The first connect after completion returns 0, later ones -EISCONN. */
        s->state = SS_CONNECTED;
        return 0;
    }
    /* The attempt failed (refused, timed out, or reset after completing unobserved): its
     * error, or -ECONNABORTED if SO_ERROR or a call took it; then the socket may connect
     * again, as in Linux (sock_error: state back to SS_UNCONNECTED, tcp_disconnect). */
    int e = sk_sock_take_error(s);
    if (e == 0)
        e = -ECONNABORTED;
    sk_tcp_set_callback(s->tcp, NULL, NULL);
    sk_tcp_close(s->tcp);
    s->tcp = NULL;
    s->err_seen = false;
    s->state = SS_OPEN;
    return e;
}

/* connect(), or with data (non-NULL) sendto with SK_MSG_FASTOPEN (*queued: the bytes its SYN
 * carries). */
static int tcp_connect(struct sk_stack *st, int fd, struct sk_sock *s, const struct sk_addr *ip,
                       uint16_t port, const struct iovec *data, size_t *queued)
{
    if (port == 0)
        return -EINVAL;
    /* Linux tcp_v6_connect: a group is -ENETUNREACH; an IPv4-mapped peer on an IPv6-only
     * socket too. */
    if (sk_addr_is_multicast6(ip) || (s->v6only && sk_addr_is_v4(ip)))
        return -ENETUNREACH;
    bool own = sk_addr_is_v4(ip) ? sk_addr_v4(ip) == st->cfg.addr : sk_ip6_is_local(st, ip);
    if (sk_addr_is_any(ip) || own)
        return -EADDRNOTAVAIL; /* no loopback in this stack */
    struct sk_tcp *c;
    int r = data ? sk_tcp_connect_data(st, s->bound ? s->lport : 0, ip, port, &s->params,
                                       data->iov_base, data->iov_len, queued, &c)
                 : sk_tcp_connect_from(st, &s->laddr, s->bound ? s->lport : 0, ip, port,
                                       &s->params, &c);
    if (r != 0)
        return r == -ENOMEM ? -ENOBUFS : r;
    s = sk_sock_get(st, fd);
    s->tcp = c;
    s->state = SS_CONNECTING;
    s->so_error = 0; /* one left by connect(AF_UNSPEC) goes (Linux tcp_connect_init) */
    s->err_seen = false;
    s->so_error = 0; /* as Linux's tcp_connect_init: a new attempt starts without error */
    s->rd_shut = s->wr_shut = false;
    sk_sock_apply_conn_opts(s);
    sk_sock_hook(st, fd);
    /* TCP_FASTOPEN_CONNECT with a cookie: connect() returns 0, the SYN waits for data. */
    if (sk_tcp_fastopen_status(c) & SK_TCP_FO_DEFERRED)
        return 0;
    return -EINPROGRESS;
}

/* Linux tcp_need_reset: the states in which tcp_disconnect sends RST. */
static bool tcp_need_reset(enum sk_tcp_state t)
{
    return t == SK_TCP_SYN_RECEIVED || t == SK_TCP_ESTABLISHED || t == SK_TCP_CLOSE_WAIT ||
           t == SK_TCP_FIN_WAIT_1 || t == SK_TCP_FIN_WAIT_2;
}

/* connect(AF_UNSPEC) on TCP (Linux tcp_disconnect): a listener stops listening (its
 * unaccepted connections are reset); a connection is aborted, with RST where Linux sends
 * one, and SO_ERROR says -ECONNRESET; the socket is unconnected and may connect again. A
 * port taken by bind() stays taken. */
static int tcp_disconnect(struct sk_stack *st, int fd, struct sk_sock *s)
{
    if (s->tcp != NULL) {
        sk_tcp_set_callback(s->tcp, NULL, NULL);
        if (s->state == SS_LISTENING) {
            sk_tcp_close(s->tcp);
        } else {
            enum sk_tcp_state t = sk_tcp_get_state(s->tcp);
            if (tcp_need_reset(t) || t == SK_TCP_SYN_SENT)
                s->so_error = -ECONNRESET;
            if (t == SK_TCP_CLOSED)
                sk_tcp_close(s->tcp);
            else
                sk_tcp_abort(s->tcp);
        }
    }
    s->tcp = NULL;
    s->state = SS_OPEN;
    s->err_seen = false;
    s->rd_shut = s->wr_shut = false;
    sk_sock_notify(st, fd);
    return 0;
}

/* connect(AF_UNSPEC) on UDP (Linux udp_disconnect): no default peer any more; a port the
 * socket got implicitly (by connect or sendto) is given up, with any datagrams queued on it,
 * one taken by bind() is kept. */
static int udp_disconnect(struct sk_stack *st, int fd, struct sk_sock *s)
{
    s->raddr = s->family == AF_INET ? sk_addr_from_v4(0) : (struct sk_addr){{0}};
    s->rport = 0;
    s->state = SS_OPEN;
    if (s->udp != NULL)
        sk_udp_set_peer(s->udp, NULL, 0);
    if (s->udp != NULL && !s->bind_explicit) {
        sk_udp_close(s->udp);
        s->udp = NULL;
        s->bound = false;
        s->lport = 0;
    }
    sk_sock_notify(st, fd);
    return 0;
}

static int udp_connect(struct sk_stack *st, int fd, struct sk_sock *s, const struct sk_addr *ip,
                       uint16_t port)
{
    if (sk_addr_is_any(ip) || port == 0)
        return -EINVAL; /* Linux: 0.0.0.0 is loopback, port 0 a peer; see docs/api.md */
    if (s->v6only && sk_addr_is_v4(ip))
        return -ENETUNREACH; /* Linux ip6_datagram_connect */
    int r;
    if (s->udp == NULL && (r = udp_bind(st, fd, s, 0)) != 0)
        return r;
    s = sk_sock_get(st, fd);
    /* Linux __ip4_datagram_connect: a broadcast peer needs SO_BROADCAST (the port taken by
     * inet_dgram_connect's autobind before stays). */
    if (sk_addr_is_v4(ip) && sk_ip_is_broadcast(st, sk_addr_v4(ip)) && !s->broadcast)
        return -EACCES;
    s->raddr = *ip;
    s->rport = port;
    s->state = SS_CONNECTED;
    sk_udp_set_peer(s->udp, ip, port);
    return 0;
}

int sk_connect(struct sk_stack *st, int fd, const struct sockaddr *addr, socklen_t addrlen)
{
    struct sk_sock *s = sk_sock_get(st, fd);
    if (s == NULL)
        return -EBADF;
    if (addrlen > SOCKADDR_MAX)
        return -EINVAL;
    if (addr == NULL && addrlen > 0)
        return -EFAULT;
    /* Linux __inet_stream_connect / inet_dgram_connect: no room for the family -EINVAL
     * (also for NULL of length 0, in every state); AF_UNSPEC dissolves the association,
     * whatever the state. */
    if (addrlen < (socklen_t)sizeof(sa_family_t))
        return -EINVAL;
    if (addr->sa_family == AF_UNSPEC)
        return s->type == SK_SOCK_STREAM ? tcp_disconnect(st, fd, s) : udp_disconnect(st, fd, s);
    if (s->type == SK_SOCK_STREAM) {
        /* The state before the address (Linux): connected -EISCONN, listening -EISCONN
         * (sk_state is not CLOSE), connecting: the outcome, whatever the address says. */
        if (s->state == SS_CONNECTING)
            return tcp_connect_again(s);
        if (s->state == SS_CONNECTED || s->state == SS_LISTENING)
            return -EISCONN;
    }
    struct sk_addr ip;
    uint16_t port;
    sa_family_t family;
    int r = addr_in(s, addr, addrlen, &ip, &port, &family);
    if (r != 0)
        return r;
    /* An AF_INET6 socket's TCP takes sockaddr_in6 only (tcp_v6_connect); its UDP an AF_INET
     * address too, as IPv4, unless it is IPv6-only (ip6_datagram_connect). */
    if (s->family == AF_INET6 && family == AF_INET && s->v6only)
        return -EAFNOSUPPORT;
    bool ok = s->family == AF_INET ? family == AF_INET
                                   : family == AF_INET6 || (s->type == SK_SOCK_DGRAM &&
                                                            family == AF_INET);
    if (!ok)
        return -EAFNOSUPPORT;
    if (s->type == SK_SOCK_STREAM)
        return tcp_connect(st, fd, s, &ip, port, NULL, NULL);
    return udp_connect(st, fd, s, &ip, port);
}

int sk_close(struct sk_stack *st, int fd)
{
    struct sk_sock *s = sk_sock_get(st, fd);
    if (s == NULL)
        return -EBADF;
    struct sk_tcp *c = s->tcp;
    struct sk_udp *u = s->udp;
    sk_mem_free(st, s->udp_ref, sizeof(*s->udp_ref));
    /* SO_LINGER {1, 0} aborts, but not TIME-WAIT: Linux's socket is already TCP_CLOSE
     * there and its TIME-WAIT record lives on (RFC 1337's protection stays). */
    bool abort = s->linger_on && s->linger_s == 0 && s->state != SS_LISTENING &&
                 (c == NULL || sk_tcp_get_state(c) != SK_TCP_TIME_WAIT);
    free_fd(st, fd);
    if (c) {
        sk_tcp_set_callback(c, NULL, NULL);
        if (abort)
            sk_tcp_abort(c); /* SO_LINGER {1, 0}: RST, RFC 9293 §3.10.5 */
        else
            sk_tcp_close(c);
    }
    if (u)
        sk_udp_close(u);
    return 0;
}

int sk_shutdown(struct sk_stack *st, int fd, int how)
{
    struct sk_sock *s = sk_sock_get(st, fd);
    if (s == NULL)
        return -EBADF;
    if (how != SK_SHUT_RD && how != SK_SHUT_WR && how != SK_SHUT_RDWR)
        return -EINVAL;
    int r = 0;
    if (s->type == SK_SOCK_DGRAM) {
        /* Linux inet_shutdown: -ENOTCONN unless connected, but the shutdown is recorded
         * anyway ("to wake up other listeners", af_inet.c): sends then fail with -EPIPE. */
        if (s->state != SS_CONNECTED)
            r = -ENOTCONN;
    } else {
        /* Linux's inet_shutdown (net/ipv4/af_inet.c): on a listener SHUT_WR alone changes
         * nothing and SHUT_RD stops it (connections not yet accepted are reset); in SYN-SENT
         * any shutdown drops the attempt (no RST: nothing is synchronized) and leaves
         * ECONNRESET pending. Either way the socket may listen or connect again. */
        if (s->state == SS_LISTENING)
            return how == SK_SHUT_WR ? 0 : tcp_disconnect(st, fd, s);
        observe_connect(s);
        if (s->state == SS_CONNECTING && sk_tcp_get_state(s->tcp) == SK_TCP_SYN_SENT)
            return tcp_disconnect(st, fd, s); /* -ECONNRESET left */
        /* A connection in TIME-WAIT is over for Linux too (its socket is TCP_CLOSE). */
        enum sk_tcp_state t = s->tcp ? sk_tcp_get_state(s->tcp) : SK_TCP_CLOSED;
        if ((s->state != SS_CONNECTED && s->state != SS_CONNECTING) || t == SK_TCP_CLOSED ||
            t == SK_TCP_TIME_WAIT)
            return -ENOTCONN;
        if (how != SK_SHUT_RD && !s->wr_shut) {
            int r = sk_tcp_shutdown(s->tcp);
            if (r != 0)
                return r;
        }
    }
    if (how != SK_SHUT_WR) {
        s->rd_shut = true;
        /* The core resets data arriving once both sides are shut (FIN-WAIT), as after
         * close; the TCB is ours (sk_socket_tcp). */
        if (s->tcp)
            s->tcp->flags |= TF_RCV_SHUT;
    }
    if (how != SK_SHUT_RD)
        s->wr_shut = true;
    sk_sock_notify(st, fd);
    return r;
}

/* ---- Data ---- */

/* After the core's send/recv said `r` (<0), what the application sees: the connection's
 * error once, then end of stream / -EPIPE. */
static ssize_t conn_error(struct sk_sock *s, ssize_t r, bool sending)
{
    if (r == -EAGAIN || r == -ENOBUFS) /* no room, no memory: the connection is fine */
        return r;
    int e = sk_sock_take_error(s);
    if (e)
        return e;
    return sending ? -EPIPE : 0;
}

/* send and writev on a stream: the core takes the buffers as one gather write. */
/* What a stream's reader sees before the connection is asked: an error left by a disconnect
 * (shutdown in SYN-SENT), or no connection. 0 to go on. */
static int stream_recv_check(struct sk_sock *s)
{
    if (s->state == SS_OPEN && s->so_error)
        return sk_sock_take_error(s);
    if (s->state == SS_OPEN || s->state == SS_LISTENING)
        return -ENOTCONN;
    return 0;
}

/* The reader's checks, then a pending error, a shut write side, and a handshake not yet done
 * (not writable until it completes, as Linux). 0 to go on. */
static int stream_send_check(struct sk_sock *s)
{
    int e = stream_recv_check(s);
    if (e == 0)
        e = sk_sock_take_error(s);
    if (e)
        return e;
    if (s->wr_shut)
        return -EPIPE;
    enum sk_tcp_state t = sk_tcp_get_state(s->tcp);
    /* A Fast Open connection whose SYN waits for data takes this send in the SYN; a Fast
     * Open child may send before the handshake's last ACK (RFC 7413 §4.2.2). */
    if (sk_tcp_fastopen_status(s->tcp) & (SK_TCP_FO_DEFERRED | SK_TCP_FO_PASSIVE))
        return 0;
    return t == SK_TCP_SYN_SENT || t == SK_TCP_SYN_RECEIVED ? -EAGAIN : 0;
}

/* A read's result as the socket reports it. After SHUT_RD, as Linux's tcp_recvmsg: data
 * queued or still arriving is read as before (the window stays open), a pending error is
 * reported, and where recv would wait it returns 0 (end of stream). */
static ssize_t stream_recv_result(struct sk_sock *s, ssize_t r)
{
    if (s->rd_shut && (r == -EAGAIN || r == -ENOTCONN))
        r = 0;
    return r < 0 ? conn_error(s, r, false) : r;
}

static ssize_t tcp_send(struct sk_stack *st, int fd, struct sk_sock *s, const struct iovec *iov,
                        int n, int flags)
{
    int e = stream_send_check(s);
    if (e)
        return e;
    ssize_t r = sk_tcp_sendv_flags(s->tcp, iov, n, (flags & SK_MSG_EOR) ? SK_TCP_SEND_EOR : 0);
    if (r < 0)
        r = conn_error(s, r, true);
    sk_sock_notify(st, fd);
    return r;
}

/* recv and readv on a stream: one scatter read (MSG_PEEK only from sk_recv, one buffer). */
static ssize_t tcp_recv(struct sk_stack *st, int fd, struct sk_sock *s, const struct iovec *iov,
                        int n, int flags)
{
    int e = stream_recv_check(s);
    if (e)
        return e;
    ssize_t r;
    if (flags & SK_MSG_PEEK)
        r = sk_tcp_peek(s->tcp, iov[0].iov_base, iov[0].iov_len);
    else
        r = sk_tcp_recvv(s->tcp, iov, n);
    r = stream_recv_result(s, r);
    sk_sock_notify(st, fd);
    return r;
}

static ssize_t udp_recvfrom(struct sk_stack *st, int fd, struct sk_sock *s, void *buf,
                            size_t len, int flags, struct sk_addr *ip, uint16_t *port)
{
    sk_sock_udp_sync(s);
    if (s->so_error)
        return sk_sock_take_error(s);
    /* After SHUT_RD, datagrams already queued are still read (as Linux); then 0. */
    if (s->udp == NULL || sk_udp_pending(s->udp) == 0)
        return s->rd_shut ? 0 : -EAGAIN;
    /* Whatever is queued is delivered: a connected socket's source filter works when a
     * datagram arrives (udp.c, as Linux's __udp4_lib_lookup), so those that came before
     * connect() are still read, as on Linux (ip4_datagram_connect leaves the queue). */
    ssize_t r = (flags & SK_MSG_PEEK) ? sk_udp_peekfrom_addr(s->udp, buf, len, ip, port)
                                      : sk_udp_recvfrom_addr(s->udp, buf, len, ip, port);
    sk_sock_notify(st, fd);
    if (r >= 0 && !(flags & SK_MSG_TRUNC) && (size_t)r > len)
        r = (ssize_t)len;
    return r;
}

static ssize_t udp_sendto(struct sk_stack *st, int fd, struct sk_sock *s, const void *buf,
                          size_t len, struct sk_addr ip, uint16_t port, bool have_addr)
{
    sk_sock_udp_sync(s);
    if (s->so_error)
        return sk_sock_take_error(s);
    if (s->wr_shut)
        return -EPIPE;
    if (!have_addr) {
        if (s->state != SS_CONNECTED)
            return -EDESTADDRREQ;
        ip = s->raddr;
        port = s->rport;
    }
    if (len > UDP_MAX_PAYLOAD)
        return -EMSGSIZE;
    int r;
    if (s->udp == NULL && (r = udp_bind(st, fd, s, 0)) != 0)
        return r;
    s = sk_sock_get(st, fd);
    /* Linux udp_sendmsg: a broadcast destination needs SO_BROADCAST (-EACCES), checked when
     * the route is looked up: for an address given here; the connected peer was checked by
     * connect (its route is kept, so clearing SO_BROADCAST later does not stop it). */
    if (have_addr && s->v6only && sk_addr_is_v4(&ip))
        return -ENETUNREACH; /* Linux udpv6_sendmsg */
    if (have_addr && sk_addr_is_v4(&ip) && sk_ip_is_broadcast(st, sk_addr_v4(&ip)) &&
        !s->broadcast)
        return -EACCES;
    if (sk_addr_is_v4(&ip) && sk_addr_v4(&ip) == 0)
        return -EINVAL; /* as sk_udp_sendto's address 0 */
    return sk_udp_sendto_addr(s->udp, buf, len, &ip, port);
}

ssize_t sk_send(struct sk_stack *st, int fd, const void *buf, size_t len, int flags)
{
    return sk_sendto(st, fd, buf, len, flags, NULL, 0);
}

ssize_t sk_recv(struct sk_stack *st, int fd, void *buf, size_t len, int flags)
{
    return sk_recvfrom(st, fd, buf, len, flags, NULL, NULL);
}

/* sendto with SK_MSG_FASTOPEN on a socket without a connection (RFC 7413 §4.2.1): the
 * address checks of connect(), then the connection with the data its SYN can carry. */
static ssize_t tcp_fastopen_sendto(struct sk_stack *st, int fd, struct sk_sock *s,
                                   const struct iovec *v, const struct sockaddr *addr,
                                   socklen_t addrlen)
{
    if (s->state == SS_LISTENING)
        return -EISCONN;
    if (addr == NULL)
        return -EDESTADDRREQ;
    struct sk_addr ip;
    uint16_t port;
    sa_family_t family;
    int r = addr_in(s, addr, addrlen, &ip, &port, &family);
    if (r != 0)
        return r;
    if (family == AF_UNSPEC)
        return -EOPNOTSUPP; /* as Linux */
    if (family != s->family)
        return -EAFNOSUPPORT;
    size_t queued = 0;
    r = tcp_connect(st, fd, s, &ip, port, v, &queued);
    if (r != 0 && r != -EINPROGRESS)
        return r;
    return queued > 0 ? (ssize_t)queued : -EINPROGRESS;
}

ssize_t sk_sendto(struct sk_stack *st, int fd, const void *buf, size_t len, int flags,
                  const struct sockaddr *addr, socklen_t addrlen)
{
    struct sk_sock *s = sk_sock_get(st, fd);
    if (s == NULL)
        return -EBADF;
    /* No urgent data (RFC 9293 §3.8.5): refused rather than sent as ordinary bytes. Linux
     * refuses it on UDP too (udp_sendmsg). Other flags are ignored, as Linux ignores flags
     * it does not know. See docs/api.md, msg-oob. */
    if (flags & SK_MSG_OOB)
        return -EOPNOTSUPP;
    if (buf == NULL && len > 0)
        return -EFAULT; /* as Linux: no bytes at address 0 */
    if (s->type == SK_SOCK_STREAM) { /* the address is ignored, as Linux does */
        struct iovec v = {.iov_base = (void *)buf, .iov_len = len};
        if ((flags & SK_MSG_FASTOPEN) && s->tcp == NULL)
            return tcp_fastopen_sendto(st, fd, s, &v, addr, addrlen);
        if ((flags & SK_MSG_FASTOPEN) && s->state == SS_CONNECTING &&
            sk_tcp_get_state(s->tcp) == SK_TCP_SYN_SENT &&
            !(sk_tcp_fastopen_status(s->tcp) & SK_TCP_FO_DEFERRED))
            return -EALREADY; /* Linux tcp_sendmsg_fastopen: one is in progress */
        return tcp_send(st, fd, s, &v, 1, flags);
    }
    struct sk_addr ip = sk_addr_from_v4(0);
    uint16_t port = 0;
    if (addr != NULL) { /* Linux: a NULL address means the connected peer, whatever addrlen */
        sa_family_t family;
        int r = addr_in(s, addr, addrlen, &ip, &port, &family);
        if (r != 0)
            return r;
        /* udp_sendmsg takes AF_UNSPEC as AF_INET; udpv6_sendmsg takes AF_INET6 and AF_INET
         * (and AF_UNSPEC as "the connected peer", not done here), anything else -EINVAL. */
        if (s->family == AF_INET && family != AF_INET && family != AF_UNSPEC)
            return -EAFNOSUPPORT;
        if (s->family == AF_INET6 && family != AF_INET6 && family != AF_INET)
            return -EINVAL;
        if (port == 0)
            return -EINVAL;
    }
    return udp_sendto(st, fd, s, buf, len, ip, port, addr != NULL);
}

ssize_t sk_recvfrom(struct sk_stack *st, int fd, void *buf, size_t len, int flags,
                    struct sockaddr *addr, socklen_t *addrlen)
{
    struct sk_sock *s = sk_sock_get(st, fd);
    if (s == NULL)
        return -EBADF;
    if (buf == NULL && len > 0)
        return -EFAULT;
    /* An address buffer without a length: Linux takes the data and then fails with -EFAULT
     * (move_addr_to_user); refused here before anything is lost (docs/api.md). */
    if (addr != NULL && addrlen == NULL)
        return -EFAULT;
    if (addr != NULL && (int)*addrlen < 0)
        return -EINVAL;
    struct sk_addr ip = sk_addr_from_v4(0);
    uint16_t port = 0;
    ssize_t r;
    if (s->type == SK_SOCK_STREAM) {
        /* Linux: no urgent data is ever pending here (tcp_recv_urg: -EINVAL). */
        if (flags & SK_MSG_OOB)
            return -EINVAL;
        struct iovec v = {.iov_base = buf, .iov_len = len};
        r = tcp_recv(st, fd, s, &v, 1, flags);
        /* Linux gives no address for a stream: the length becomes 0 (tcp_recvmsg leaves
         * msg_namelen 0; POSIX leaves it unspecified). */
        if (r >= 0 && addr != NULL)
            *addrlen = 0;
        return r;
    }
    r = udp_recvfrom(st, fd, s, buf, len, flags, &ip, &port);
    if (r >= 0 && addr != NULL)
        addr_out(s, addr, addrlen, &ip, port);
    return r;
}

/* The sum of the lengths, saturated at SIZE_MAX (every length is at most SSIZE_MAX). */
static size_t iov_total(const struct iovec *iov, int n)
{
    size_t t = 0;
    for (int i = 0; i < n; i++)
        t = iov[i].iov_len > SIZE_MAX - t ? SIZE_MAX : t + iov[i].iov_len;
    return t;
}

/* A UDP datagram is one gather or one scatter: through a buffer of the stack's allocator.
 * A datagram longer than the buffers is cut short and the rest discarded, as readv (no
 * MSG_TRUNC flag can be reported without a msghdr). */
static ssize_t udp_vectored(struct sk_stack *st, int fd, const struct iovec *iov, int n,
                            bool sending)
{
    size_t total = iov_total(iov, n);
    size_t cap = sending ? total : UDP_MAX_PAYLOAD;
    if (sending && total > UDP_MAX_PAYLOAD)
        return -EMSGSIZE;
    uint8_t *tmp = sk_mem_alloc(st, cap ? cap : 1);
    if (tmp == NULL)
        return -ENOBUFS;
    ssize_t r;
    if (sending) {
        size_t off = 0;
        for (int i = 0; i < n; i++) {
            if (iov[i].iov_len)
                memcpy(tmp + off, iov[i].iov_base, iov[i].iov_len);
            off += iov[i].iov_len;
        }
        r = sk_send(st, fd, tmp, total, 0);
    } else {
        r = sk_recv(st, fd, tmp, cap, 0);
        size_t left = r > 0 ? ((size_t)r < total ? (size_t)r : total) : 0, off = 0;
        if (r > 0)
            r = (ssize_t)left;
        for (int i = 0; i < n && left; i++) {
            size_t k = iov[i].iov_len < left ? iov[i].iov_len : left;
            if (k)
                memcpy(iov[i].iov_base, tmp + off, k);
            off += k;
            left -= k;
        }
    }
    sk_mem_free(st, tmp, cap ? cap : 1);
    return r;
}

/* writev/readv: the array is checked first; a zero total moves nothing and returns 0 without
 * looking at the socket, not even at a pending error (Linux's vfs_writev and sock_read_iter
 * return before the protocol sees the call). */
static ssize_t vectored(struct sk_stack *st, int fd, const struct iovec *iov, int n,
                        bool sending)
{
    struct sk_sock *s = sk_sock_get(st, fd);
    if (s == NULL)
        return -EBADF;
    int e = sk_iov_check(iov, n);
    if (e)
        return e;
    if (iov_total(iov, n) == 0)
        return 0;
    if (s->type == SK_SOCK_DGRAM)
        return udp_vectored(st, fd, iov, n, sending);
    return sending ? tcp_send(st, fd, s, iov, n, 0) : tcp_recv(st, fd, s, iov, n, 0);
}

ssize_t sk_sendv(struct sk_stack *st, int fd, const struct iovec *iov, int iovcnt)
{
    return vectored(st, fd, iov, iovcnt, true);
}

ssize_t sk_recvv(struct sk_stack *st, int fd, const struct iovec *iov, int iovcnt)
{
    return vectored(st, fd, iov, iovcnt, false);
}

/* ---- Zero-copy (tcp.h's borrow/release and reserve/commit, with the socket's errors) ---- */

static struct sk_sock *stream_sock(struct sk_stack *st, int fd, int *err)
{
    struct sk_sock *s = sk_sock_get(st, fd);
    *err = s == NULL ? -EBADF : s->type != SK_SOCK_STREAM ? -EOPNOTSUPP : 0;
    return *err ? NULL : s;
}

ssize_t sk_recv_borrow(struct sk_stack *st, int fd, struct iovec span[2])
{
    int e;
    struct sk_sock *s = stream_sock(st, fd, &e);
    span[0] = span[1] = (struct iovec){0};
    if (s == NULL || (e = stream_recv_check(s)) != 0)
        return e;
    return stream_recv_result(s, sk_tcp_recv_borrow(s->tcp, span));
}

int sk_recv_release(struct sk_stack *st, int fd, size_t n)
{
    int e;
    struct sk_sock *s = stream_sock(st, fd, &e);
    if (s == NULL)
        return e;
    if (s->tcp == NULL || s->state == SS_LISTENING)
        return n ? -EINVAL : 0; /* nothing can be lent */
    e = sk_tcp_recv_release(s->tcp, n);
    sk_sock_notify(st, fd);
    return e;
}

ssize_t sk_send_reserve(struct sk_stack *st, int fd, size_t want, struct iovec span[2])
{
    int e;
    struct sk_sock *s = stream_sock(st, fd, &e);
    span[0] = span[1] = (struct iovec){0};
    if (s == NULL || (e = stream_send_check(s)) != 0)
        return e;
    ssize_t r = sk_tcp_send_reserve(s->tcp, want, span);
    if (r < 0)
        r = conn_error(s, r, true);
    return r;
}

ssize_t sk_send_commit(struct sk_stack *st, int fd, size_t n)
{
    int e;
    struct sk_sock *s = stream_sock(st, fd, &e);
    if (s == NULL)
        return e;
    if (s->tcp == NULL || s->state == SS_LISTENING)
        return n ? -EINVAL : 0; /* nothing can be reserved */
    ssize_t r = sk_tcp_send_commit(s->tcp, n);
    if (r < 0 && r != -EINVAL)
        r = conn_error(s, r, true);
    sk_sock_notify(st, fd);
    return r;
}

/* ---- Names ---- */

int sk_getsockname(struct sk_stack *st, int fd, struct sockaddr *addr, socklen_t *addrlen)
{
    struct sk_sock *s = sk_sock_get(st, fd);
    if (s == NULL)
        return -EBADF;
    struct sk_addr ip = s->laddr;
    uint16_t port = s->lport;
    /* A connected UDP socket has a source address, ours (Linux ip4_datagram_connect sets
     * it unless bind did; for IPv6 the one RFC 6724 picks); connect(AF_UNSPEC) takes it
     * away again. */
    if (s->type == SK_SOCK_DGRAM && s->state == SS_CONNECTED && sk_addr_is_any(&ip)) {
        if (sk_addr_is_v4(&s->raddr))
            ip = sk_addr_from_v4(st->cfg.addr);
        else
            sk_ip6_select_src(st, &s->raddr, &ip);
    }
    if (s->tcp && s->state != SS_LISTENING) {
        struct sk_tcp_info info;
        sk_tcp_get_info(s->tcp, &info);
        sk_tcp_get_addrs(s->tcp, &ip, NULL);
        port = info.lport;
    }
    return addr_out(s, addr, addrlen, &ip, port);
}

int sk_getpeername(struct sk_stack *st, int fd, struct sockaddr *addr, socklen_t *addrlen)
{
    struct sk_sock *s = sk_sock_get(st, fd);
    if (s == NULL)
        return -EBADF;
    /* Linux inet_getname: -ENOTCONN before the buffer is looked at. */
    if (s->type == SK_SOCK_DGRAM) {
        if (s->state != SS_CONNECTED)
            return -ENOTCONN;
        return addr_out(s, addr, addrlen, &s->raddr, s->rport);
    }
    if (s->tcp == NULL || s->state == SS_LISTENING)
        return -ENOTCONN;
    enum sk_tcp_state t = sk_tcp_get_state(s->tcp);
    if (t == SK_TCP_CLOSED || t == SK_TCP_SYN_SENT)
        return -ENOTCONN;
    struct sk_tcp_info info;
    struct sk_addr peer;
    sk_tcp_get_info(s->tcp, &info);
    sk_tcp_get_addrs(s->tcp, NULL, &peer);
    return addr_out(s, addr, addrlen, &peer, info.rport);
}

struct sk_tcp *sk_socket_tcp(struct sk_stack *st, int fd)
{
    struct sk_sock *s = sk_sock_get(st, fd);
    return s ? s->tcp : NULL;
}
