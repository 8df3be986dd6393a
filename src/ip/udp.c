/* UDP (RFC 768) with the host requirements of RFC 1122 §4.1.
 *
 * Input: the checksum is verified when present (§4.1.3.4; wire/udp.c), the datagram goes to
 * the socket bound to its destination port, into a bounded queue; no socket means ICMP port
 * unreachable (§4.1.3.1). Output: header, checksum over the pseudo-header (always sent,
 * §4.1.3.4), and IPv4 fragments the datagram if it exceeds the MTU. ICMP errors about a
 * datagram we sent are recorded on its socket (§4.1.3.3).
 *
 * Several sockets may share a port when every one of them asked for it (SO_REUSEADDR, as
 * Linux's udp_lib_get_port allows). A datagram for us then goes to one of them, chosen as
 * Linux's compute_score does: a socket connected to the sender first, else an unconnected
 * one, the last bound winning ties; a socket connected to someone else never gets it (and
 * with nobody left the sender hears port unreachable). A broadcast goes to each of them.
 *
 * Both families (RFC 8200 §8.1 for IPv6: the checksum is mandatory there): addresses are
 * struct sk_addr, an IPv4 sender IPv4-mapped. A socket takes both families unless the socket
 * layer makes it take one (AF_INET: IPv4 only; AF_INET6 with IPV6_V6ONLY: IPv6 only).
 */
#include "synack/udp.h"

#include "ip/ip_int.h"

struct udp_dgram {
    struct udp_dgram *next;
    struct sk_addr addr;
    uint16_t port;
    size_t len;
    uint8_t data[];
};

struct sk_udp {
    struct sk_stack *st;
    uint16_t port;
    bool reuse;                   /* shares the port with others that say so too */
    struct sk_addr raddr;         /* connected peer (rport 0: none), see sk_udp_set_peer */
    uint16_t rport;
    bool v4only, v6only;          /* takes one family only (sk_udp_set_family) */
    bool bound;                   /* bound to laddr, one of ours (sk_udp_set_local) */
    struct sk_addr laddr;
    struct sk_udp *next;          /* hash chain */
    struct udp_dgram *head, *tail;
    uint32_t queued;
    int error;
    sk_udp_callback cb;
    void *cb_ctx;
};

static struct sk_udp **slot(struct sk_stack *st, uint16_t port)
{
    return &st->ip->udp_tab[port % SK_UDP_TAB];
}

static struct sk_udp *lookup(struct sk_stack *st, uint16_t port)
{
    for (struct sk_udp *u = *slot(st, port); u; u = u->next)
        if (u->port == port)
            return u;
    return NULL;
}

/* The socket for a datagram from src:sport to port (Linux __udp4_lib_lookup's choice, see
 * the top). New sockets go first in the chain, so the first match is the last bound. */
static bool takes_family(const struct sk_udp *u, const struct sk_addr *src)
{
    return sk_addr_is_v4(src) ? !u->v6only : !u->v4only;
}

/* A socket bound to one of our addresses takes what is sent to that address only (dst NULL:
 * not known, as for an ICMP error's quote, which the sender's port decides). */
static bool takes_dst(const struct sk_udp *u, const struct sk_addr *dst)
{
    return !u->bound || dst == NULL || sk_addr_eq(&u->laddr, dst);
}

static struct sk_udp *lookup_for(struct sk_stack *st, uint16_t port, const struct sk_addr *src,
                                 uint16_t sport, const struct sk_addr *dst)
{
    struct sk_udp *any = NULL;
    for (struct sk_udp *u = *slot(st, port); u; u = u->next) {
        if (u->port != port || !takes_family(u, src) || !takes_dst(u, dst))
            continue;
        if (u->rport == 0) {
            if (any == NULL)
                any = u;
        } else if (sk_addr_eq(&u->raddr, src) && u->rport == sport) {
            return u;
        }
    }
    return any;
}

/* An ephemeral candidate is taken if a UDP socket holds it: one lookup (RFC 6056, ports.c). */
static bool udp_port_taken(struct sk_stack *st, uint16_t port, void *ctx)
{
    (void)ctx;
    st->ctr.port_lookups++;
    return lookup(st, port) != NULL;
}

static uint16_t pick_port(struct sk_stack *st)
{
    struct sk_addr none = sk_addr_from_v4(0); /* no destination known: a random port */
    return sk_port_pick(st, &none, 0, udp_port_taken, NULL);
}

int sk_udp_bind(struct sk_stack *st, uint16_t port, struct sk_udp **out)
{
    return sk_udp_bind_reuse(st, port, false, out);
}

int sk_udp_bind_reuse(struct sk_stack *st, uint16_t port, bool reuse, struct sk_udp **out)
{
    if (out == NULL)
        return -EINVAL;
    if (port == 0 && (port = pick_port(st)) == 0)
        return -EADDRINUSE;
    for (struct sk_udp *o = *slot(st, port); o; o = o->next)
        if (o->port == port && !(reuse && o->reuse))
            return -EADDRINUSE;
    struct sk_udp *u = sk_mem_alloc(st, sizeof(*u));
    if (u == NULL)
        return -ENOMEM;
    memset(u, 0, sizeof(*u));
    u->st = st;
    u->port = port;
    u->reuse = reuse;
    u->next = *slot(st, port);
    *slot(st, port) = u;
    *out = u;
    return 0;
}

static void notify(struct sk_udp *u, unsigned ev)
{
    if (u->cb)
        u->cb(u, ev, u->cb_ctx);
}

/* RFC 768 / RFC 8200 §8.1: checksum over pseudo-header, header and data; a result of 0 is
 * sent as all ones (0 means "no checksum", which IPv6 does not allow). A link with
 * caps.tx_csum sums the datagram itself (SK_FRAME_CSUM_PARTIAL: the field holds the
 * pseudo-header sum), unless it must be fragmented: fragments cannot carry a partial
 * checksum. */
static void udp_checksum(struct sk_stack *st, uint8_t h[SK_UDP_HLEN], uint32_t sum,
                         const void *buf, size_t len, size_t iphlen, size_t room,
                         struct sk_frame_meta *meta)
{
    if (st->cfg.caps.tx_csum && iphlen + SK_UDP_HLEN + len <= st->cfg.mtu) {
        sk_put16(h + 6, (uint16_t)~sk_csum_fold(sum));
        meta->flags = SK_FRAME_CSUM_PARTIAL;
        meta->csum_start = (uint16_t)room;
        meta->csum_offset = 6; /* RFC 768: the checksum field */
    } else {
        sum = sk_csum_add(sk_csum_add(sum, h, SK_UDP_HLEN), buf, len);
        uint16_t c = sk_csum_fold(sum);
        sk_put16(h + 6, c ? c : 0xffff);
    }
}

ssize_t sk_udp_sendto_addr(struct sk_udp *u, const void *buf, size_t len,
                           const struct sk_addr *addr, uint16_t port)
{
    struct sk_stack *st = u->st;
    if (addr == NULL || sk_addr_is_any(addr) || port == 0 || (buf == NULL && len > 0))
        return -EINVAL;
    bool v6 = !sk_addr_is_v4(addr);
    size_t iphlen = v6 ? SK_IPV6_HLEN : SK_IPV4_HLEN;
    if (len > UINT16_MAX - iphlen - SK_UDP_HLEN)
        return -EMSGSIZE;
    /* The source: the bound address, if the socket is bound to one of ours (it must still be
     * usable: an address may lapse), else RFC 6724's choice. */
    struct sk_addr src;
    if (v6 && u->bound && !sk_addr_is_v4(&u->laddr)) {
        if (!sk_ip6_is_local(st, &u->laddr))
            return -EADDRNOTAVAIL;
        src = u->laddr;
    } else if (v6 && !sk_ip6_select_src(st, addr, &src)) {
        return -ENETUNREACH;
    }
    uint8_t h[SK_UDP_HLEN];
    uint16_t ulen = (uint16_t)(SK_UDP_HLEN + len);
    sk_put16(h, u->port);
    sk_put16(h + 2, port);
    sk_put16(h + 4, ulen);
    sk_put16(h + 6, 0);
    uint32_t sum = v6 ? sk_csum_pseudo6(src.b, addr->b, SK_IPPROTO_UDP, ulen)
                      : sk_csum_pseudo(st->cfg.addr, sk_addr_v4(addr), SK_IPPROTO_UDP, ulen);
    struct sk_frame_meta meta = {0};
    udp_checksum(st, h, sum, buf, len, iphlen, v6 ? sk_ip6_headroom(st) : sk_ip_headroom(st),
                 &meta);
    sk_enter(st);
    int r = v6 ? sk_ip6_send(st, &src, addr, SK_IPPROTO_UDP, h, sizeof(h), buf, len, &meta)
               : sk_ip_send(st, sk_addr_v4(addr), SK_IPPROTO_UDP, h, sizeof(h), buf, len, &meta);
    if (r == 0)
        st->ctr.udp_out++;
    sk_leave(st);
    return r < 0 ? r : (ssize_t)len;
}

ssize_t sk_udp_sendto(struct sk_udp *u, const void *buf, size_t len, uint32_t addr,
                      uint16_t port)
{
    if (addr == 0)
        return -EINVAL;
    struct sk_addr a = sk_addr_from_v4(addr);
    return sk_udp_sendto_addr(u, buf, len, &a, port);
}

ssize_t sk_udp_peekfrom_addr(const struct sk_udp *u, void *buf, size_t len,
                             struct sk_addr *addr, uint16_t *port)
{
    const struct udp_dgram *d = u->head;
    if (d == NULL)
        return -EAGAIN;
    /* len 0 with a NULL buffer is how an application asks a datagram's length (MSG_TRUNC):
     * memcpy with a NULL pointer is undefined even for 0 bytes. */
    size_t n = d->len < len ? d->len : len;
    if (n > 0)
        memcpy(buf, d->data, n);
    if (addr)
        *addr = d->addr;
    if (port)
        *port = d->port;
    return (ssize_t)d->len;
}

ssize_t sk_udp_peekfrom(const struct sk_udp *u, void *buf, size_t len, uint32_t *addr,
                        uint16_t *port)
{
    struct sk_addr a;
    ssize_t n = sk_udp_peekfrom_addr(u, buf, len, &a, port);
    if (n >= 0 && addr)
        *addr = sk_addr_is_v4(&a) ? sk_addr_v4(&a) : 0;
    return n;
}

ssize_t sk_udp_recvfrom_addr(struct sk_udp *u, void *buf, size_t len, struct sk_addr *addr,
                             uint16_t *port)
{
    ssize_t n = sk_udp_peekfrom_addr(u, buf, len, addr, port);
    if (n < 0)
        return n;
    struct udp_dgram *d = u->head;
    u->head = d->next;
    if (u->head == NULL)
        u->tail = NULL;
    u->queued--;
    sk_mem_free(u->st, d, sizeof(*d) + d->len);
    return n;
}

ssize_t sk_udp_recvfrom(struct sk_udp *u, void *buf, size_t len, uint32_t *addr, uint16_t *port)
{
    struct sk_addr a;
    ssize_t n = sk_udp_recvfrom_addr(u, buf, len, &a, port);
    if (n >= 0 && addr)
        *addr = sk_addr_is_v4(&a) ? sk_addr_v4(&a) : 0;
    return n;
}

size_t sk_udp_pending(const struct sk_udp *u)
{
    return u->queued;
}

uint16_t sk_udp_port(const struct sk_udp *u)
{
    return u->port;
}

int sk_udp_error(struct sk_udp *u)
{
    int e = u->error;
    u->error = 0;
    return e;
}

void sk_udp_set_reuse(struct sk_udp *u, bool reuse)
{
    u->reuse = reuse;
}

void sk_udp_set_peer(struct sk_udp *u, const struct sk_addr *addr, uint16_t port)
{
    static const struct sk_addr none;
    u->raddr = addr ? *addr : none;
    u->rport = port;
}

void sk_udp_set_local(struct sk_udp *u, const struct sk_addr *a)
{
    u->bound = !sk_addr_is_any(a);
    u->laddr = *a;
}

void sk_udp_set_family(struct sk_udp *u, int family)
{
    u->v4only = family == 4;
    u->v6only = family == 6;
}

void sk_udp_set_callback(struct sk_udp *u, sk_udp_callback cb, void *ctx)
{
    u->cb = cb;
    u->cb_ctx = ctx;
}

void *sk_udp_get_context(const struct sk_udp *u)
{
    return u->cb_ctx;
}

static void free_socket(struct sk_udp *u)
{
    while (u->head) {
        struct udp_dgram *d = u->head;
        u->head = d->next;
        sk_mem_free(u->st, d, sizeof(*d) + d->len);
    }
    sk_mem_free(u->st, u, sizeof(*u));
}

void sk_udp_close(struct sk_udp *u)
{
    if (u == NULL)
        return;
    struct sk_udp **pp = slot(u->st, u->port);
    while (*pp && *pp != u)
        pp = &(*pp)->next;
    if (*pp)
        *pp = u->next;
    free_socket(u);
}

void sk_udp_free_all(struct sk_stack *st)
{
    for (int i = 0; i < SK_UDP_TAB; i++) {
        while (st->ip->udp_tab[i]) {
            struct sk_udp *u = st->ip->udp_tab[i];
            st->ip->udp_tab[i] = u->next;
            free_socket(u);
        }
    }
}

static void enqueue(struct sk_stack *st, struct sk_udp *u, const struct sk_l3 *p,
                    const struct sk_udp_hdr *h, const uint8_t *frame, size_t frame_len)
{
    if (u->queued >= st->cfg.udp_rcvq_datagrams) {
        sk_drop(st, SK_DROP_UDP_QUEUE_FULL, NULL, frame, frame_len);
        return;
    }
    struct udp_dgram *d = sk_mem_alloc(st, sizeof(*d) + h->payload_len);
    if (d == NULL) {
        sk_drop(st, SK_DROP_UDP_QUEUE_FULL, NULL, frame, frame_len);
        return;
    }
    d->next = NULL;
    d->addr = p->src;
    d->port = h->sport;
    d->len = h->payload_len;
    memcpy(d->data, h->payload, h->payload_len);
    if (u->tail)
        u->tail->next = d;
    else
        u->head = d;
    u->tail = d;
    u->queued++;
    notify(u, SK_EV_READABLE | SK_EV_WRITABLE);
}

/* A datagram h in p, either family. A multicast (or broadcast) goes to every socket on the
 * port that would take it from this sender. False if no socket took a unicast one (the
 * caller answers port unreachable, RFC 1122 §4.1.3.1, RFC 4443 §3.1). */
static bool deliver(struct sk_stack *st, const struct sk_l3 *p, const struct sk_udp_hdr *h,
                    const uint8_t *frame, size_t frame_len)
{
    if (p->multicast) {
        bool any = false;
        for (struct sk_udp *u = *slot(st, h->dport); u; u = u->next) {
            if (u->port != h->dport || !takes_family(u, &p->src) || u->bound ||
                (u->rport != 0 && (!sk_addr_eq(&u->raddr, &p->src) || u->rport != h->sport)))
                continue;
            any = true;
            enqueue(st, u, p, h, frame, frame_len);
        }
        if (!any)
            sk_drop(st, SK_DROP_UDP_NO_SOCKET, NULL, frame, frame_len);
        return true;
    }
    struct sk_udp *u = lookup_for(st, h->dport, &p->src, h->sport, &p->dst);
    if (u == NULL)
        return false;
    enqueue(st, u, p, h, frame, frame_len);
    return true;
}

void sk_udp_input(struct sk_stack *st, const struct ip_pkt *p)
{
    struct sk_udp_hdr h;
    int r = sk_udp_parse_verify(p->h.payload, p->h.payload_len, p->h.src, p->h.dst,
                                !sk_rx_csum_trusted(st), &h);
    if (r != 0) {
        sk_drop(st, (enum sk_drop_reason)r, NULL, p->frame, p->frame_len);
        return;
    }
    st->ctr.udp_in++;
    struct sk_l3 l3 = {.src = sk_addr_from_v4(p->h.src), .dst = sk_addr_from_v4(p->h.dst),
                       .multicast = p->broadcast || p->h.dst != st->cfg.addr};
    if (!deliver(st, &l3, &h, p->frame, p->frame_len)) {
        /* RFC 1122 §4.1.3.1: SHOULD send ICMP Port Unreachable. */
        sk_icmp_send_unreach(st, p, 3);
        sk_drop(st, SK_DROP_UDP_NO_SOCKET, NULL, p->frame, p->frame_len);
    }
}

bool sk_udp_input6(struct sk_stack *st, const struct sk_l3 *p, const uint8_t *frame,
                   size_t frame_len)
{
    struct sk_udp_hdr h;
    /* RFC 8200 §8.1: the checksum is mandatory (a zero one is a drop, wire/udp.c). */
    int r = sk_udp_parse6(p->payload, p->payload_len, &p->src, &p->dst, !sk_rx_csum_trusted(st),
                          &h);
    if (r != 0) {
        sk_drop(st, (enum sk_drop_reason)r, NULL, frame, frame_len);
        return true;
    }
    st->ctr.udp_in++;
    if (deliver(st, p, &h, frame, frame_len))
        return true;
    sk_drop(st, SK_DROP_UDP_NO_SOCKET, NULL, frame, frame_len);
    return false;
}

bool sk_udp_icmp_error(struct sk_stack *st, uint8_t type, uint8_t code,
                       const struct sk_ipv4_hdr *quoted)
{
    /* The quoted datagram went from our port to quoted->dst:port: the socket that sent it. */
    struct sk_addr dst = sk_addr_from_v4(quoted->dst);
    struct sk_udp *u = lookup_for(st, sk_get16(quoted->payload), &dst,
                                  sk_get16(quoted->payload + 2), NULL);
    if (u == NULL)
        return false;
    if (type == SK_ICMP_DEST_UNREACH && (code == 2 || code == 3))
        u->error = -ECONNREFUSED;
    else if (type == SK_ICMP_DEST_UNREACH && code == 4)
        u->error = -EMSGSIZE;
    else
        u->error = -EHOSTUNREACH;
    notify(u, SK_EV_ERROR | SK_EV_WRITABLE | (u->queued ? SK_EV_READABLE : 0));
    return true;
}

bool sk_udp_icmp6_error(struct sk_stack *st, uint8_t type, uint8_t code,
                        const struct sk_addr *dst, const uint8_t *l4, size_t l4_len)
{
    if (l4_len < 4)
        return false;
    struct sk_udp *u = lookup_for(st, sk_get16(l4), dst, sk_get16(l4 + 2), NULL);
    if (u == NULL)
        return false;
    /* As Linux's icmpv6_err_convert: port unreachable refuses, Packet Too Big is EMSGSIZE. */
    if (type == SK_ICMP6_DEST_UNREACH && code == 4)
        u->error = -ECONNREFUSED;
    else if (type == SK_ICMP6_DEST_UNREACH && (code == 1 || code == 5 || code == 6))
        u->error = -EACCES;
    else if (type == SK_ICMP6_PACKET_TOO_BIG)
        u->error = -EMSGSIZE;
    else if (type == SK_ICMP6_PARAM_PROBLEM)
        u->error = -EPROTO;
    else
        u->error = type == SK_ICMP6_DEST_UNREACH && code == 0 ? -ENETUNREACH : -EHOSTUNREACH;
    notify(u, SK_EV_ERROR | SK_EV_WRITABLE | (u->queued ? SK_EV_READABLE : 0));
    return true;
}
