/* Fuzz target for the whole stack: a hostile peer and a capricious application at once.
 *
 * The input is a script (format and structured mutator in fuzz_stack_script.h): segments from
 * a model peer that follows each connection's sequence numbers (it learns our ISS from our SYN
 * or SYN-ACK and aims SEQ and ACK at RCV.NXT, SND.UNA, SND.MAX and the window edges, with
 * mutated offsets, options, SACK blocks and timestamps), clock moves, application calls, and
 * raw datagrams or frames. The harness builds valid Ethernet, IPv4 and TCP (checksums
 * included) around the peer's fields, answers our ARP requests, and sometimes splits a segment
 * into IP fragments. Legacy scripts (setup bit 0) run the first format of this target on a
 * bare-IP link with TCP checksums off, so that inputs found with it keep their meaning.
 *
 * Properties, checked after every record: the stack never holds more connections or buffer
 * bytes than its limits; every segment it emits parses (and its checksum is right when it
 * computes one); a connection whose SYN is acknowledged has a congestion window of at least
 * one byte and at most SK_CWND_MAX (1 << 30), and a nonzero ssthresh. ASan and UBSan watch
 * memory and arithmetic; sk_stack_free at the end must leave nothing behind.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_stack_script.h"
#include "synack/synack.h"

#define OUR_ADDR 0x0a000001u
#define PEER_ADDR 0x0a000002u
#define MAX_CONNS 16
#define NFLOWS 8 /* peer ports 40000..40003 times our ports 80, 81 */

static const uint8_t our_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x02};

static uint16_t fuzz_u16(struct fuzz_reader *r)
{
    uint16_t hi = fuzz_u8(r);
    return (uint16_t)(hi << 8 | fuzz_u8(r));
}

static bool seq_lt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

/* What the peer knows of one connection, learnt from what we sent and what it sent. */
struct flow {
    uint32_t our_iss, our_max; /* our ISS; the end of the highest segment we sent */
    uint32_t our_last_seq;     /* where our last segment started */
    uint32_t our_ack;          /* RCV.NXT as our last ACK told it */
    uint32_t our_wnd;          /* our last window, scaled when both sides offered scaling */
    uint8_t our_wscale;
    bool our_ws, peer_ws;      /* window scale offered in our SYN / the peer's */
    uint32_t our_tsval;
    uint32_t peer_iss, peer_nxt; /* the peer's ISS and the end of its highest segment */
    uint32_t peer_una;           /* the highest ACK the peer sent */
};

struct fuzz_app {
    struct sk_stack *st;
    struct sk_tcp *listener;
    struct sk_tcp *conn[8];
    sk_time_us now;
    bool ethernet, csum, arp_reply, arp_wanted;
    uint64_t max_buf;
    struct flow flow[NFLOWS];
    /* What the stack last sent the peer (the first format's crafted segments follow it). */
    uint16_t last_sport, last_dport;
    uint32_t last_seq_end, last_ack;
    /* The model peer's byte at sequence number s is (uint8_t)s, so what the application reads
     * can be checked byte for byte; off once a raw or crafted record may have sent other bytes. */
    bool stream_check;
    size_t got[8]; /* bytes read on each connection slot */
};

/* Every stack of this target is made here, so a change in how stacks are made (key material,
 * new limits) is made once. */
static struct sk_stack *fuzz_stack_new(struct fuzz_app *a, struct sk_config *cfg);

/* ---------------- what the stack sends ---------------- */

static void learn(struct fuzz_app *a, const struct sk_tcp_hdr *h)
{
    if (h->sport < 80 || h->sport > 81 || h->dport < 40000 || h->dport > 40003)
        return;
    struct flow *f = &a->flow[(h->dport - 40000) * 2 + (h->sport - 80)];
    bool syn = h->flags & SK_TCP_SYN;
    uint32_t end = h->seq + (uint32_t)h->payload_len + (syn ? 1 : 0) +
                   ((h->flags & SK_TCP_FIN) ? 1 : 0);
    if (syn) {
        f->our_iss = h->seq;
        f->our_max = end;
        f->peer_una = h->seq; /* a new incarnation: the peer has acknowledged nothing */
        f->our_ws = h->opts.present & SK_OPT_WSCALE;
        f->our_wscale = h->opts.wscale;
    } else if (seq_lt(f->our_max, end)) {
        f->our_max = end;
    }
    f->our_last_seq = h->seq;
    if (h->flags & SK_TCP_ACK) {
        f->our_ack = h->ack;
        f->our_wnd = (uint32_t)h->wnd << (!syn && f->our_ws && f->peer_ws ? f->our_wscale : 0);
    }
    if (h->opts.present & SK_OPT_TIMESTAMP)
        f->our_tsval = h->opts.ts_val;
}

/* An IPv6 packet we sent parses, and an ICMPv6 message in it (no extension headers: we send
 * none but fragments) carries a right checksum. */
static void check_ipv6_output(const uint8_t *pkt, size_t len)
{
    struct sk_ipv6_hdr h;
    FUZZ_CHECK(sk_ipv6_parse(pkt, len, &h) == 0);
    struct sk_icmp6_hdr m;
    if (h.next == SK_IPPROTO_ICMPV6)
        FUZZ_CHECK(sk_icmp6_parse(h.payload, h.payload_len, &h.src, &h.dst, &m) == 0);
}

static void on_output(void *ctx, const uint8_t *frame, size_t len,
                       const struct sk_frame_meta *meta)
{
    (void)meta;
    struct fuzz_app *a = ctx;
    if (!a->ethernet && len > 0 && frame[0] >> 4 == 6) {
        check_ipv6_output(frame, len);
        return;
    }
    if (a->ethernet) {
        struct sk_eth_hdr e;
        FUZZ_CHECK(sk_eth_parse(frame, len, &e) == 0);
        frame += SK_ETH_HLEN;
        len -= SK_ETH_HLEN;
        if (e.ethertype == SK_ETHERTYPE_ARP) {
            struct sk_arp arp;
            FUZZ_CHECK(sk_arp_parse(frame, len, &arp) == 0);
            if (arp.op == SK_ARP_REQUEST && arp.tpa == PEER_ADDR)
                a->arp_wanted = true; /* answered after this record: no calls from here */
            return;
        }
        if (e.ethertype == SK_ETHERTYPE_IPV6) {
            check_ipv6_output(frame, len);
            return;
        }
        FUZZ_CHECK(e.ethertype == SK_ETHERTYPE_IPV4);
    }
    struct sk_ipv4_hdr ip;
    FUZZ_CHECK(sk_ipv4_parse(frame, len, &ip) == 0);
    if (ip.proto != SK_IPPROTO_TCP || ip.mf || ip.frag_off)
        return;
    struct sk_tcp_hdr h;
    FUZZ_CHECK(sk_tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, a->csum, &h) == 0);
    a->last_sport = h.sport;
    a->last_dport = h.dport;
    a->last_seq_end = h.seq + (uint32_t)h.payload_len + ((h.flags & (SK_TCP_SYN | SK_TCP_FIN)) ? 1 : 0);
    a->last_ack = h.ack;
    learn(a, &h);
}

/* ---------------- what the peer sends ---------------- */

/* A whole link frame, in an exact-size heap copy so that ASan sees any read past len. */
static void input_frame(struct fuzz_app *a, const uint8_t *frame, size_t len)
{
    uint8_t *copy = fuzz_dup(frame, len);
    /* Without checksums (the legacy format) the link vouches for every frame, per frame. */
    struct sk_frame_meta meta = {.flags = a->csum ? 0 : SK_FRAME_CSUM_VALID};
    sk_stack_input_meta(a->st, copy, len, &meta, a->now);
    free(copy);
}

/* An IP datagram, framed for the link. */
static void input(struct fuzz_app *a, const uint8_t *pkt, size_t len)
{
    if (!a->ethernet) {
        input_frame(a, pkt, len);
        return;
    }
    uint8_t frame[SK_ETH_HLEN + 1600];
    struct sk_eth_hdr e = {.ethertype = SK_ETHERTYPE_IPV4};
    memcpy(e.dst, our_mac, 6);
    memcpy(e.src, peer_mac, 6);
    sk_eth_emit(frame, sizeof(frame), &e);
    if (len > 1600)
        len = 1600;
    memcpy(frame + SK_ETH_HLEN, pkt, len);
    input_frame(a, frame, SK_ETH_HLEN + len);
}

static void arp_reply(struct fuzz_app *a)
{
    uint8_t frame[SK_ETH_HLEN + SK_ARP_LEN];
    struct sk_eth_hdr e = {.ethertype = SK_ETHERTYPE_ARP};
    memcpy(e.dst, our_mac, 6);
    memcpy(e.src, peer_mac, 6);
    sk_eth_emit(frame, sizeof(frame), &e);
    struct sk_arp arp = {.op = SK_ARP_REPLY, .spa = PEER_ADDR, .tpa = OUR_ADDR};
    memcpy(arp.sha, peer_mac, 6);
    memcpy(arp.tha, our_mac, 6);
    sk_arp_emit(frame + SK_ETH_HLEN, SK_ARP_LEN, &arp);
    a->arp_wanted = false;
    input_frame(a, frame, sizeof(frame));
}

/* The bytes read are the ones the peer sent at those sequence numbers. */
static void check_stream(struct fuzz_app *a, size_t slot, const uint8_t *buf, size_t n)
{
    struct sk_tcp_info in;
    sk_tcp_get_info(a->conn[slot], &in);
    uint32_t seq = in.irs + 1 + (uint32_t)a->got[slot];
    for (size_t k = 0; k < n; k++)
        FUZZ_CHECK(buf[k] == (uint8_t)(seq + k));
    a->got[slot] += n;
}

/* ---------------- the first format's records (also records of the second) ---------------- */

/* Raw bytes as an IP datagram to us: version, header length, total length, addresses and
 * header checksum patched (when there are 20 bytes), everything else as the fuzzer made it. */
static void raw_datagram(struct fuzz_app *a, struct fuzz_reader *r)
{
    uint8_t buf[1600];
    size_t len = (size_t)fuzz_u8(r) * 6;
    if (len > r->n)
        len = r->n;
    memcpy(buf, r->p, len);
    r->p += len;
    r->n -= len;
    if (len >= SK_IPV4_HLEN && (buf[0] & 1)) {
        size_t ihl = 20 + 4 * (size_t)(buf[0] >> 5 & 3);
        if (ihl > len)
            ihl = 20;
        buf[0] = (uint8_t)(0x40 | ihl / 4);
        sk_put16(buf + 2, (uint16_t)len);
        sk_put32(buf + 12, PEER_ADDR);
        sk_put32(buf + 16, OUR_ADDR);
        if (buf[1] & 1)
            buf[9] = SK_IPPROTO_TCP;
        sk_put16(buf + 6, 0x4000); /* DF, not a fragment */
        sk_put16(buf + 10, 0);
        sk_put16(buf + 10, sk_csum_fold(sk_csum_add(0, buf, ihl)));
    }
    input(a, buf, len);
}

/* A TCP segment from the peer, crafted from fuzz bytes. */
static void tcp_segment(struct fuzz_app *a, struct fuzz_reader *r)
{
    uint8_t mode = fuzz_u8(r);
    struct sk_tcp_hdr h = {0};
    bool follow = (mode & 1) && a->last_dport != 0;
    h.sport = follow ? a->last_dport : (uint16_t)(40000 + fuzz_u8(r) % 4);
    h.dport = follow ? a->last_sport : (uint16_t)(mode & 2 ? 80 : 81);
    h.flags = fuzz_u8(r);
    uint32_t jitter = (uint32_t)(int8_t)fuzz_u8(r);
    h.seq = follow ? a->last_ack + jitter : fuzz_u32(r);
    h.ack = follow ? a->last_seq_end + (mode & 4 ? jitter : 0) : fuzz_u32(r);
    h.wnd = fuzz_u16(r);
    h.urg = (mode & 8) ? fuzz_u16(r) : 0;
    if (mode & 16) {
        uint8_t olen = fuzz_u8(r) % 41;
        uint8_t opts[40];
        for (uint8_t i = 0; i < olen; i++)
            opts[i] = fuzz_u8(r);
        if (sk_tcp_opts_parse(opts, olen, &h.opts) != 0)
            memset(&h.opts, 0, sizeof(h.opts));
    }
    uint8_t data[1400];
    size_t dlen = (mode & 32) ? (size_t)fuzz_u8(r) * 5 : 0;
    for (size_t i = 0; i < dlen; i++)
        data[i] = (uint8_t)i;
    h.payload = data;
    h.payload_len = dlen;
    h.csum_partial = true; /* not a valid checksum: only a link that vouches passes it */
    uint8_t seg[1600];
    size_t n = sk_tcp_emit(seg + SK_IPV4_HLEN, sizeof(seg) - SK_IPV4_HLEN, PEER_ADDR, OUR_ADDR,
                           &h, (h.flags & SK_TCP_SYN) ? 0 : -1);
    if (n == 0)
        return;
    struct sk_ipv4_hdr ip = {.hdr_len = SK_IPV4_HLEN, .ttl = 64, .proto = SK_IPPROTO_TCP,
                             .src = PEER_ADDR, .dst = OUR_ADDR, .df = true};
    n += sk_ipv4_emit(seg, SK_IPV4_HLEN, &ip, n);
    input(a, seg, n);
}

static void app(struct fuzz_app *a, struct fuzz_reader *r)
{
    uint8_t what = fuzz_u8(r);
    size_t i = (what >> 4) % 8;
    struct sk_tcp **c = &a->conn[i];
    uint8_t buf[3000];
    switch (what % 10) {
    case 0:
        if (*c == NULL && a->listener) {
            sk_tcp_accept(a->listener, c);
            a->got[i] = 0;
        }
        break;
    case 1:
        if (*c) {
            size_t n = (size_t)fuzz_u8(r) * 11;
            memset(buf, 0x61, n);
            sk_tcp_send(*c, buf, n);
        }
        break;
    case 2:
        if (*c) {
            ssize_t n = sk_tcp_recv(*c, buf, (size_t)fuzz_u8(r) * 11 + 1);
            if (n > 0 && a->stream_check)
                check_stream(a, i, buf, (size_t)n);
        }
        break;
    case 3:
        if (*c)
            sk_tcp_shutdown(*c);
        break;
    case 4:
        if (*c) {
            sk_tcp_close(*c);
            *c = NULL;
        }
        break;
    case 5:
        if (*c) {
            sk_tcp_abort(*c);
            *c = NULL;
        }
        break;
    case 6:
        a->got[i] = *c ? a->got[i] : 0;
        if (*c == NULL)
            sk_tcp_connect(a->st, (uint16_t)(80 + fuzz_u8(r) % 2), PEER_ADDR,
                           (uint16_t)(40000 + fuzz_u8(r) % 4), c);
        break;
    case 7:
        if (a->listener) {
            sk_tcp_close(a->listener);
            a->listener = NULL;
        } else {
            sk_tcp_listen(a->st, 80, 1 + fuzz_u8(r) % 4, &a->listener);
        }
        break;
    case 8:
        if (*c)
            sk_tcp_set_keepalive(*c, true, 1000000, 500000, 2);
        break;
    default:
        if (*c)
            sk_tcp_set_nodelay(*c, fuzz_u8(r) & 1);
        break;
    }
}


/* ---------------- the model peer's segments ---------------- */

static uint32_t seq_anchor(const struct flow *f, uint8_t which, int16_t off)
{
    switch (which % 6) {
    case 0:
        return f->peer_nxt + (uint32_t)(int32_t)off;
    case 1:
        return f->our_ack + (uint32_t)(int32_t)off;
    case 2:
        return f->our_ack + f->our_wnd + (uint32_t)(int32_t)off;
    case 3:
        return f->peer_iss + (uint32_t)(int32_t)off;
    case 4:
        return f->our_ack + (uint32_t)((int32_t)off * 1024);
    default:
        return (uint32_t)(uint16_t)off << 16 | (uint16_t)off;
    }
}

static uint32_t ack_anchor(const struct flow *f, uint8_t which, int16_t off)
{
    switch (which % 6) {
    case 0:
        return f->our_max + (uint32_t)(int32_t)off;
    case 1:
        return f->peer_una + (uint32_t)(int32_t)off;
    case 2:
        return f->our_iss + 1 + (uint32_t)(int32_t)off;
    case 3:
        return f->our_last_seq + (uint32_t)(int32_t)off;
    case 4:
        return f->our_max + (uint32_t)((int32_t)off * 1024);
    default:
        return (uint32_t)(uint16_t)off << 16 | (uint16_t)off;
    }
}

/* The peer's options: what the record asks for, with values from its fields. */
static void seg_options(struct fuzz_app *a, const struct flow *f, const uint8_t *s,
                        struct sk_tcp_opts *o)
{
    o->present = s[SEG_OPTS] & 0x1f;
    o->mss = sk_get16(s + SEG_MSS);
    o->wscale = s[SEG_WSCALE];
    o->ts_val = (uint32_t)(a->now / 1000) + (uint32_t)(int32_t)(int16_t)sk_get16(s + SEG_TSVAL_OFF);
    o->ts_ecr = f->our_tsval + (uint32_t)(int32_t)(int16_t)sk_get16(s + SEG_TSECR_OFF);
    o->nsack = s[SEG_NSACK] % (SK_TCP_MAX_SACK + 1);
    for (int i = 0; i < o->nsack; i++) {
        const uint8_t *b = s + SEG_SACK + 4 * i;
        uint16_t len = sk_get16(b + 2);
        o->sack[i].left = f->peer_una + (uint32_t)(int32_t)(int16_t)sk_get16(b);
        o->sack[i].right = len ? o->sack[i].left + len : f->our_max;
    }
    if (o->nsack == 0)
        o->present &= (uint8_t)~SK_OPT_SACK;
}

/* A datagram in two fragments split at an 8-byte boundary of the payload, in order or not,
 * the first perhaps twice (RFC 791 reassembly; RFC 815 holes). */
static void input_fragments(struct fuzz_app *a, uint8_t *dgram, size_t len, const uint8_t *s)
{
    size_t payload = len - SK_IPV4_HLEN;
    size_t cut = 8 * (1 + (size_t)s[SEG_FRAG] % 32);
    if (payload <= 8 || cut >= payload) {
        input(a, dgram, len);
        return;
    }
    uint8_t one[1600], two[1600];
    uint16_t id = sk_get16(dgram + 4);
    memcpy(one, dgram, SK_IPV4_HLEN + cut);
    sk_put16(one + 2, (uint16_t)(SK_IPV4_HLEN + cut));
    sk_put16(one + 6, 0x2000); /* MF */
    memcpy(two, dgram, SK_IPV4_HLEN);
    memcpy(two + SK_IPV4_HLEN, dgram + SK_IPV4_HLEN + cut, payload - cut);
    sk_put16(two + 2, (uint16_t)(len - cut));
    sk_put16(two + 6, (uint16_t)(cut / 8));
    for (uint8_t *p = one; p; p = p == one ? two : NULL) {
        sk_put16(p + 4, id);
        sk_put16(p + 10, 0);
        sk_put16(p + 10, sk_csum_fold(sk_csum_add(0, p, SK_IPV4_HLEN)));
    }
    bool reverse = s[SEG_EXTRA] & SEGX_FRAG_REVERSE;
    if (!reverse)
        input(a, one, SK_IPV4_HLEN + cut);
    input(a, two, len - cut);
    if (reverse || (s[SEG_EXTRA] & SEGX_FRAG_DUP))
        input(a, one, SK_IPV4_HLEN + cut);
}

static void peer_segment(struct fuzz_app *a, struct fuzz_reader *r)
{
    uint8_t s[SEG_SIZE];
    for (size_t i = 0; i < SEG_SIZE; i++)
        s[i] = fuzz_u8(r);
    unsigned k = s[SEG_FLOW] % NFLOWS;
    struct flow *f = &a->flow[k];
    struct sk_tcp_hdr h = {0};
    h.sport = (uint16_t)(40000 + k / 2);
    h.dport = (uint16_t)(80 + k % 2);
    h.flags = s[SEG_FLAGS];
    h.seq = seq_anchor(f, s[SEG_SEQ_ANCHOR], (int16_t)sk_get16(s + SEG_SEQ_OFF));
    h.ack = ack_anchor(f, s[SEG_ACK_ANCHOR], (int16_t)sk_get16(s + SEG_ACK_OFF));
    h.wnd = sk_get16(s + SEG_WND);
    h.urg = sk_get16(s + SEG_URG);
    seg_options(a, f, s, &h.opts);
    uint8_t data[1460];
    h.payload_len = sk_get16(s + SEG_DLEN) % (sizeof(data) + 1);
    for (size_t i = 0; i < h.payload_len; i++)
        data[i] = (uint8_t)(h.seq + (h.flags & SK_TCP_SYN ? 1 : 0) + i);
    h.payload = data;
    h.csum_partial = !a->csum;
    bool syn = h.flags & SK_TCP_SYN;
    uint8_t dgram[1600];
    size_t n = sk_tcp_emit(dgram + SK_IPV4_HLEN, sizeof(dgram) - SK_IPV4_HLEN, PEER_ADDR,
                           OUR_ADDR, &h, syn ? 0 : -1);
    if (n == 0)
        return;
    if (s[SEG_EXTRA] & SEGX_BAD_CSUM)
        dgram[SK_IPV4_HLEN + 17] ^= 1;
    uint8_t tos = (s[SEG_EXTRA] & SEGX_CE) ? SK_IP_CE : (s[SEG_EXTRA] & SEGX_ECT) ? SK_IP_ECT0 : 0;
    struct sk_ipv4_hdr ip = {.hdr_len = SK_IPV4_HLEN, .ttl = 64, .proto = SK_IPPROTO_TCP,
                             .src = PEER_ADDR, .dst = OUR_ADDR, .tos = tos,
                             .id = (uint16_t)(h.seq ^ k), .df = !(s[SEG_EXTRA] & SEGX_NO_DF)};
    n += sk_ipv4_emit(dgram, SK_IPV4_HLEN, &ip, n);
    /* The peer remembers what it sent, whatever becomes of it. */
    if (syn && !(h.flags & SK_TCP_ACK)) {
        f->peer_iss = h.seq;
        f->peer_ws = h.opts.present & SK_OPT_WSCALE;
    }
    uint32_t end = h.seq + (uint32_t)h.payload_len + (syn ? 1 : 0) + ((h.flags & SK_TCP_FIN) ? 1 : 0);
    if (seq_lt(f->peer_nxt, end))
        f->peer_nxt = end;
    if ((h.flags & SK_TCP_ACK) && seq_lt(f->peer_una, h.ack))
        f->peer_una = h.ack;
    if ((s[SEG_EXTRA] & SEGX_FRAGMENT) && !ip.df)
        input_fragments(a, dgram, n, s);
    else
        input(a, dgram, n);
}

/* An ICMP error from a router on the way (RFC 792, RFC 1191, RFC 5927) about a segment of ours:
 * our IP header and the first 8 bytes of TCP, with a sequence number near what is in flight. */
static void icmp_error(struct fuzz_app *a, struct fuzz_reader *r)
{
    uint8_t s[ICMP_SIZE];
    for (size_t i = 0; i < ICMP_SIZE; i++)
        s[i] = fuzz_u8(r);
    static const uint8_t types[] = {SK_ICMP_DEST_UNREACH, SK_ICMP_TIME_EXCEEDED, 12, 4};
    unsigned k = s[ICMP_FLOW] % NFLOWS;
    const struct flow *f = &a->flow[k];
    int16_t off = (int16_t)sk_get16(s + ICMP_SEQ_OFF);
    uint32_t seq = s[ICMP_SEQ_ANCHOR] % 3 == 0   ? f->peer_una + (uint32_t)(int32_t)off
                   : s[ICMP_SEQ_ANCHOR] % 3 == 1 ? f->our_max + (uint32_t)(int32_t)off
                                                 : (uint32_t)(uint16_t)off << 16;
    uint8_t dgram[SK_IPV4_HLEN + SK_ICMP_HLEN + SK_IPV4_HLEN + 8];
    uint8_t *quoted = dgram + SK_IPV4_HLEN + SK_ICMP_HLEN;
    struct sk_ipv4_hdr in = {.hdr_len = SK_IPV4_HLEN, .ttl = 64, .proto = SK_IPPROTO_TCP,
                             .src = OUR_ADDR, .dst = PEER_ADDR, .df = true};
    sk_ipv4_emit(quoted, SK_IPV4_HLEN, &in, 1400);
    sk_put16(quoted + SK_IPV4_HLEN, (uint16_t)(80 + k % 2));
    sk_put16(quoted + SK_IPV4_HLEN + 2, (uint16_t)(40000 + k / 2));
    sk_put32(quoted + SK_IPV4_HLEN + 4, seq);
    struct sk_icmp_hdr h = {.type = types[s[ICMP_TYPE] % 4], .code = s[ICMP_CODE] % 16,
                            .rest = sk_get16(s + ICMP_MTU), .payload = quoted,
                            .payload_len = SK_IPV4_HLEN + 8};
    size_t n = sk_icmp_emit(dgram + SK_IPV4_HLEN, sizeof(dgram) - SK_IPV4_HLEN, &h);
    struct sk_ipv4_hdr ip = {.hdr_len = SK_IPV4_HLEN, .ttl = 64, .proto = SK_IPPROTO_ICMP,
                             .src = PEER_ADDR, .dst = OUR_ADDR};
    n += sk_ipv4_emit(dgram, SK_IPV4_HLEN, &ip, n);
    input(a, dgram, n);
}

/* The application calls the first format leaves out. */
static void app2(struct fuzz_app *a, struct fuzz_reader *r)
{
    uint8_t what = fuzz_u8(r);
    struct sk_tcp *c = a->conn[fuzz_u8(r) % 8];
    uint32_t x = fuzz_u16(r), y = fuzz_u16(r);
    if (c == NULL)
        return;
    uint8_t buf[512];
    switch (what % 6) {
    case 0:
        sk_tcp_set_buffers(c, x * 16, y * 16);
        break;
    case 1:
        sk_tcp_set_congestion(c, x % 3 == 0 ? "cubic" : x % 3 == 1 ? "reno" : "none");
        break;
    case 2:
        sk_tcp_set_user_timeout(c, x * 1000);
        break;
    case 3:
        sk_tcp_peek(c, buf, y % sizeof(buf));
        break;
    default:
        (void)sk_tcp_readable(c);
        (void)sk_tcp_writable(c);
        break;
    }
}

static void move_clock(struct fuzz_app *a, struct fuzz_reader *r)
{
    uint8_t mode = fuzz_u8(r);
    uint16_t amount = fuzz_u16(r);
    switch (mode % 4) {
    case 0:
        a->now += (sk_time_us)amount * 1000;
        break;
    case 1:
        a->now += amount;
        break;
    case 2:
        for (unsigned i = 0; i <= amount % 8u; i++) {
            sk_time_us d = sk_stack_next_deadline(a->st);
            if (d == SK_TIME_NEVER)
                break;
            a->now = d > a->now ? d : a->now;
            sk_stack_poll(a->st, a->now);
        }
        return;
    default:
        a->now += (sk_time_us)amount * 1000000;
        break;
    }
    sk_stack_poll(a->st, a->now);
}

/* ---------------- the scripts ---------------- */

/* Limits, and a sane congestion window on every connection whose SYN is acknowledged. */
static void check(struct fuzz_app *a)
{
    struct sk_stack_counters k;
    sk_stack_counters(a->st, &k);
    FUZZ_CHECK(k.connections <= MAX_CONNS);
    FUZZ_CHECK(k.buffer_bytes <= a->max_buf);
    for (int i = 0; i < 8; i++) {
        if (a->conn[i] == NULL)
            continue;
        struct sk_tcp_info in;
        sk_tcp_get_info(a->conn[i], &in);
        if (in.state < SK_TCP_ESTABLISHED || in.state == SK_TCP_TIME_WAIT ||
            in.snd_una == in.iss)
            continue;
        FUZZ_CHECK(in.cwnd > 0 && in.cwnd <= 1u << 30);
        FUZZ_CHECK(in.ssthresh > 0);
    }
}

static void finish(struct fuzz_app *a)
{
    /* Let every timer run out: TIME-WAIT, retransmissions, keep-alives. */
    for (int i = 0; i < 64; i++) {
        sk_time_us d = sk_stack_next_deadline(a->st);
        if (d == SK_TIME_NEVER)
            break;
        a->now = d > a->now ? d : a->now;
        sk_stack_poll(a->st, a->now);
    }
    sk_stack_free(a->st);
}

/* The first format: records chosen by a byte % 4, on a bare-IP link without TCP checksums. */
static void run_legacy(const uint8_t *data, size_t size)
{
    struct fuzz_app a = {.csum = false, .max_buf = 64u * 1024};
    struct sk_config cfg;
    sk_config_default(&cfg);
    cfg.caps.rx_csum = cfg.caps.tx_csum = true; /* checksums neither verified nor made */
    cfg.max_syn_backlog = 4;
    cfg.sndbuf_bytes = 4096;
    cfg.rcvbuf_bytes = 4096;
    cfg.max_buffer_bytes = a.max_buf;
    cfg.ecn = 1;
    cfg.msl_us = 2000000;
    sk_config_set_test_seed(&cfg, 1); /* an input replays exactly */
    a.now = 1000000;
    a.st = fuzz_stack_new(&a, &cfg);
    sk_tcp_listen(a.st, 80, 4, &a.listener);
    struct fuzz_reader r = {data, size};
    while (r.n > 0) {
        switch (fuzz_u8(&r) % 4) {
        case 0:
            raw_datagram(&a, &r);
            break;
        case 1:
            tcp_segment(&a, &r);
            break;
        case 2:
            a.now += (sk_time_us)fuzz_u8(&r) * 20000;
            sk_stack_poll(a.st, a.now);
            break;
        default:
            app(&a, &r);
            break;
        }
        check(&a);
    }
    finish(&a);
}

static void run_script(const uint8_t *data, size_t size)
{
    uint8_t setup = data[0];
    struct fuzz_app a = {.ethernet = setup & SETUP_ETHERNET, .csum = true,
                         .arp_reply = !(setup & SETUP_NO_ARP_REPLY), .stream_check = true};
    struct sk_config cfg;
    sk_config_default(&cfg);
    cfg.link_type = a.ethernet ? SK_LINK_ETHERNET : SK_LINK_IP;
    memcpy(cfg.mac, our_mac, 6);
    cfg.prefix_len = 24;
    cfg.max_syn_backlog = 4;
    cfg.sndbuf_bytes = cfg.rcvbuf_bytes = (setup & SETUP_BIG_BUFFERS) ? 65536 : 4096;
    a.max_buf = 4ull * cfg.sndbuf_bytes * 2;
    cfg.max_buffer_bytes = a.max_buf;
    cfg.congestion_control = (setup & SETUP_NEWRENO) ? "reno" : "cubic";
    if (setup & SETUP_NO_OPTIONS)
        cfg.opt_wscale = cfg.opt_sack = cfg.opt_timestamps = false;
    if (setup & SETUP_NO_DELACK)
        cfg.delack_us = 0;
    cfg.ecn = (setup & SETUP_ECN) ? 1 : 2;
    cfg.msl_us = 2000000;
    /* Dual stack (structured scripts only): a static IPv6 address usable at once, the
     * link-local one and router advertisements on Ethernet, so that raw IPv6, ICMPv6 and ND
     * frames reach every part of the IPv6 layer. */
    static const uint8_t our_addr6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
    cfg.ip6 = true;
    memcpy(cfg.addr6[0].addr, our_addr6, 16);
    cfg.addr6[0].prefix_len = 64;
    cfg.addr6_count = 1;
    cfg.ip6_dad_transmits = 0;
    a.now = 1000000;
    for (int k = 0; k < NFLOWS; k++)
        a.flow[k].peer_nxt = a.flow[k].peer_iss = 1000u * (uint32_t)(k + 1);
    a.st = fuzz_stack_new(&a, &cfg);
    sk_tcp_listen(a.st, 80, 4, &a.listener);
    struct op_span ops[SCRIPT_MAX_OPS];
    size_t nops = script_ops(data, size, ops);
    for (size_t i = 0; i < nops; i++) {
        const uint8_t *op = data + ops[i].off;
        struct fuzz_reader r = {op + 2, ops[i].len >= 2 ? ops[i].len - 2 : 0};
        switch (op[0] % OP_COUNT) {
        case OP_SEG:
            peer_segment(&a, &r);
            break;
        case OP_TIME:
            move_clock(&a, &r);
            break;
        case OP_APP:
            app(&a, &r);
            break;
        case OP_RAW:
            a.stream_check = false;
            if (fuzz_u8(&r) & 1)
                input_frame(&a, r.p, r.n);
            else
                raw_datagram(&a, &r);
            break;
        case OP_CRAFT:
            a.stream_check = false;
            tcp_segment(&a, &r);
            break;
        case OP_ICMP:
            icmp_error(&a, &r);
            break;
        default:
            app2(&a, &r);
            break;
        }
        if (a.arp_wanted && a.arp_reply)
            arp_reply(&a);
        check(&a);
    }
    finish(&a);
}

/* FUZZ_STACK_VERBOSE=1 when replaying an input: states, drops and segments on stderr. */
static void on_trace(void *ctx, const struct sk_trace_event *ev)
{
    (void)ctx;
    char f[64];
    switch (ev->kind) {
    case SK_TRACE_STATE:
        fprintf(stderr, "%llu conn %llu %s -> %s\n", (unsigned long long)ev->time,
                (unsigned long long)ev->conn_id, sk_tcp_state_name(ev->u.state.from),
                sk_tcp_state_name(ev->u.state.to));
        break;
    case SK_TRACE_DROP:
        fprintf(stderr, "%llu drop %s\n", (unsigned long long)ev->time,
                sk_drop_reason_name(ev->u.drop.reason));
        break;
    case SK_TRACE_SEG_IN:
    case SK_TRACE_SEG_OUT:
        fprintf(stderr, "%llu %s %u->%u %s seq %u ack %u len %u wnd %u\n",
                (unsigned long long)ev->time, ev->kind == SK_TRACE_SEG_IN ? "in " : "out",
                ev->u.seg.sport, ev->u.seg.dport, sk_tcp_flags_str(ev->u.seg.flags, f, sizeof(f)),
                ev->u.seg.seq, ev->u.seg.ack, ev->u.seg.len, ev->u.seg.wnd);
        break;
    default:
        break;
    }
}

static struct sk_stack *fuzz_stack_new(struct fuzz_app *a, struct sk_config *cfg)
{
    if (getenv("FUZZ_STACK_VERBOSE"))
        cfg->trace = on_trace;
    cfg->addr = OUR_ADDR;
    cfg->output = on_output;
    cfg->output_ctx = a;
    cfg->max_connections = MAX_CONNS;
    sk_config_set_test_seed(cfg, 1); /* replayable: the same input, the same run */
    struct sk_stack *st = sk_stack_new(cfg, a->now, NULL);
    FUZZ_CHECK(st != NULL);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] & SETUP_LEGACY)
        run_legacy(data, size);
    else
        run_script(data, size);
    return 0;
}
