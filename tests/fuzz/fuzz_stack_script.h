/* The script format of fuzz_stack and its structured mutator (LLVMFuzzerCustomMutator,
 * LLVMFuzzerCustomCrossOver).
 *
 * A script is a setup byte, then records [kind][len][len bytes]. Setup bit 0 set means a
 * legacy script instead: the whole input, setup byte included, read as the first fuzz_stack
 * format (records chosen by a byte % 4), kept so that inputs found with it stay meaningful.
 * Other setup bits choose the stack's configuration (SETUP_*). Record kinds:
 *   OP_SEG    a segment from the model peer: fields (SEG_*) chosen relative to the
 *             connection's sequence numbers as the peer has seen them (anchors), so that most
 *             segments are acceptable and the connection goes deep; the harness builds valid
 *             IPv4 (and Ethernet) around it, sometimes as fragments, with the CE mark, or with a
 *             bad checksum;
 *   OP_TIME   the clock moves (milliseconds, microseconds, seconds, or to the next deadline);
 *   OP_APP    an application call (accept, send, recv, shutdown, close, abort, connect,
 *             listen, keep-alive, nodelay);
 *   OP_RAW    raw bytes: an IP datagram with its header patched, or a whole link frame;
 *   OP_CRAFT  the first format's TCP segment, fields straight from the bytes;
 *   OP_ICMP   an ICMP error about one of our segments (ICMP_*): fragmentation needed with a
 *             mutated MTU, unreachable, time exceeded, ..., quoting a sequence number near
 *             SND.UNA or SND.MAX;
 *   OP_APP2   the other application calls (APP2_*): buffer sizes, congestion control, user
 *             timeout, peek, readable/writable.
 * A short record reads zeros past its end, so every byte string is a valid script.
 *
 * The mutator works on records: insert a fresh one (a segment with sensible flags and anchors,
 * or a short scene such as a peer's handshake), delete, duplicate, swap, change one field of a
 * segment to a value near the interesting ones (0, +-1, +-MSS, the window), or hand a record's
 * bytes to libFuzzer's own mutator. Now and then the whole input goes to libFuzzer's mutator:
 * raw mutation of everything, legacy scripts included. */
#ifndef SK_FUZZ_STACK_SCRIPT_H
#define SK_FUZZ_STACK_SCRIPT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wire/wire.h"

/* Setup byte. */
#define SETUP_LEGACY 0x01
#define SETUP_ETHERNET 0x02
#define SETUP_NEWRENO 0x04
#define SETUP_NO_OPTIONS 0x08  /* we offer no window scale, SACK or timestamps */
#define SETUP_NO_DELACK 0x10
#define SETUP_BIG_BUFFERS 0x20 /* 64 KiB buffers instead of 4 KiB */
#define SETUP_ECN 0x40
#define SETUP_NO_ARP_REPLY 0x80 /* on Ethernet: the peer does not answer our ARP requests */

enum op_kind { OP_SEG, OP_TIME, OP_APP, OP_RAW, OP_CRAFT, OP_ICMP, OP_APP2, OP_COUNT };

/* OP_SEG fields: offsets into the record; 16-bit fields big-endian. */
enum seg_field {
    SEG_FLOW = 0,        /* which of the 8 (peer port, our port) pairs */
    SEG_FLAGS = 1,
    SEG_SEQ_ANCHOR = 2,  /* % 6: peer's SND.NXT, our RCV.NXT, its right edge, peer's ISS,
                          * RCV.NXT + off*1024, anywhere */
    SEG_SEQ_OFF = 3,     /* int16 */
    SEG_ACK_ANCHOR = 5,  /* % 6: our SND.MAX, what the peer acknowledged, our ISS + 1, the start
                          * of our last segment, SND.MAX + off*1024, anywhere */
    SEG_ACK_OFF = 6,     /* int16 */
    SEG_WND = 8,
    SEG_OPTS = 10,       /* SK_OPT_* bits */
    SEG_MSS = 11,
    SEG_WSCALE = 13,
    SEG_TSVAL_OFF = 14,  /* int16, from the peer's clock */
    SEG_TSECR_OFF = 16,  /* int16, from our last TSval */
    SEG_NSACK = 18,
    SEG_SACK = 19,       /* 4 blocks of (int16 left from what the peer acknowledged, uint16 length) */
    SEG_DLEN = 35,       /* payload bytes, % 1461 */
    SEG_EXTRA = 37,      /* SEGX_* */
    SEG_FRAG = 38,       /* where the fragments split, in 8-byte units */
    SEG_URG = 39,
    SEG_SIZE = 41,
};
#define SEGX_CE 0x01        /* IP ECN field: CE (else ECT(0) with SEGX_ECT) */
#define SEGX_ECT 0x02
#define SEGX_FRAGMENT 0x04  /* send as two IP fragments */
#define SEGX_FRAG_REVERSE 0x08
#define SEGX_FRAG_DUP 0x10  /* the first fragment twice */
#define SEGX_BAD_CSUM 0x20
#define SEGX_NO_DF 0x40

#define TIME_SIZE 3 /* mode % 4 (ms, us, to the next deadline, s), amount uint16 */
#define APP_SIZE 4  /* the first format's application record */

/* OP_ICMP fields. */
enum icmp_field {
    ICMP_FLOW = 0,
    ICMP_TYPE = 1,       /* % 4: destination unreachable, time exceeded, parameter problem,
                          * source quench */
    ICMP_CODE = 2,
    ICMP_MTU = 3,        /* uint16: the next-hop MTU of fragmentation needed */
    ICMP_SEQ_ANCHOR = 5, /* % 3: what the peer acknowledged, our SND.MAX, anywhere */
    ICMP_SEQ_OFF = 6,    /* int16 */
    ICMP_SIZE = 8,
};

/* OP_APP2: call % 6, connection slot, two 16-bit arguments. */
#define APP2_SIZE 6

#define SCRIPT_MAX_OPS 512

/* ---------------- the mutator ---------------- */

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

struct mrng {
    uint64_t s;
};

static uint32_t mr_next(struct mrng *g)
{
    g->s ^= g->s << 13;
    g->s ^= g->s >> 7;
    g->s ^= g->s << 17;
    return (uint32_t)(g->s >> 16);
}

static uint32_t mr_below(struct mrng *g, uint32_t n)
{
    return n ? mr_next(g) % n : 0;
}

struct op_span {
    size_t off, len; /* the whole record, kind and length bytes included */
};

/* Record boundaries of a structured script (data[0] is the setup byte). */
static size_t script_ops(const uint8_t *data, size_t size, struct op_span *ops)
{
    size_t n = 0, p = 1;
    while (p < size && n < SCRIPT_MAX_OPS) {
        size_t len = p + 1 < size ? data[p + 1] : 0;
        size_t end = p + 2 + len;
        if (end > size)
            end = size;
        ops[n].off = p;
        ops[n].len = end - p;
        n++;
        p = end;
    }
    return n;
}

/* A 16-bit value near the interesting ones. */
static uint16_t interesting16(struct mrng *g)
{
    static const int32_t small[] = {0, 1, -1, 2, -2, 536, 1460, -1460, 2920, 1024, 65535,
                                    32767, -32768, 4096, -4096, 8192};
    switch (mr_below(g, 3)) {
    case 0:
        return (uint16_t)small[mr_below(g, sizeof(small) / sizeof(small[0]))];
    case 1:
        return (uint16_t)((int32_t)mr_below(g, 64) - 32);
    default:
        return (uint16_t)mr_next(g);
    }
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* A segment with flags and anchors that make sense at some point of a connection. */
static size_t gen_seg(uint8_t *p, struct mrng *g)
{
    static const uint8_t flags[] = {
        SK_TCP_SYN, SK_TCP_SYN | SK_TCP_ACK, SK_TCP_ACK, SK_TCP_ACK | SK_TCP_PSH,
        SK_TCP_ACK, SK_TCP_FIN | SK_TCP_ACK, SK_TCP_RST, SK_TCP_RST | SK_TCP_ACK,
        SK_TCP_ACK | SK_TCP_ECE, SK_TCP_ACK | SK_TCP_CWR, SK_TCP_SYN | SK_TCP_ECE | SK_TCP_CWR,
        SK_TCP_ACK | SK_TCP_URG};
    uint8_t *s = p + 2;
    memset(s, 0, SEG_SIZE);
    p[0] = OP_SEG;
    p[1] = SEG_SIZE;
    s[SEG_FLOW] = (uint8_t)(mr_below(g, 4) ? 0 : mr_next(g));
    uint8_t f = mr_below(g, 8) ? flags[mr_below(g, sizeof(flags))] : (uint8_t)mr_next(g);
    s[SEG_FLAGS] = f;
    s[SEG_SEQ_ANCHOR] = (uint8_t)(mr_below(g, 3) ? mr_below(g, 2) : mr_below(g, 6));
    s[SEG_ACK_ANCHOR] = (uint8_t)(mr_below(g, 3) ? mr_below(g, 2) : mr_below(g, 6));
    if (mr_below(g, 4) == 0)
        put16(s + SEG_SEQ_OFF, interesting16(g));
    if (mr_below(g, 4) == 0)
        put16(s + SEG_ACK_OFF, interesting16(g));
    put16(s + SEG_WND, mr_below(g, 4) ? 65535 : interesting16(g));
    if (f & SK_TCP_SYN) {
        s[SEG_OPTS] = (uint8_t)(mr_below(g, 3) ? 0x0f : mr_next(g) & 0x0f);
        put16(s + SEG_MSS, mr_below(g, 3) ? 1460 : interesting16(g));
        s[SEG_WSCALE] = (uint8_t)(mr_below(g, 3) ? 7 : mr_below(g, 16));
    } else {
        s[SEG_OPTS] = (uint8_t)(mr_below(g, 2) ? SK_OPT_TIMESTAMP : 0);
        if (mr_below(g, 4) == 0) {
            s[SEG_OPTS] |= SK_OPT_SACK;
            s[SEG_NSACK] = (uint8_t)(1 + mr_below(g, 4));
            for (int i = 0; i < 4; i++) {
                put16(s + SEG_SACK + 4 * i, (uint16_t)(mr_below(g, 16) * 536));
                put16(s + SEG_SACK + 4 * i + 2, (uint16_t)((1 + mr_below(g, 4)) * 536));
            }
        }
        if ((f & SK_TCP_PSH) || mr_below(g, 4) == 0)
            put16(s + SEG_DLEN, (uint16_t)(mr_below(g, 2) ? 1 + mr_below(g, 1460) : 1460));
    }
    if (mr_below(g, 8) == 0)
        s[SEG_EXTRA] = (uint8_t)mr_next(g);
    s[SEG_FRAG] = (uint8_t)mr_next(g);
    return 2 + SEG_SIZE;
}

static size_t gen_time(uint8_t *p, struct mrng *g)
{
    p[0] = OP_TIME;
    p[1] = TIME_SIZE;
    p[2] = (uint8_t)mr_below(g, 4);
    put16(p + 3, (uint16_t)(mr_below(g, 2) ? mr_below(g, 300) : mr_next(g)));
    return 2 + TIME_SIZE;
}

/* The first format's app record: call % 10 with the connection slot in the high nibble. */
static size_t gen_app(uint8_t *p, struct mrng *g, int call)
{
    p[0] = OP_APP;
    p[1] = APP_SIZE;
    p[2] = (uint8_t)((call < 0 ? mr_below(g, 10) : (uint32_t)call) | mr_below(g, 2) << 4);
    p[3] = (uint8_t)mr_next(g);
    p[4] = (uint8_t)mr_next(g);
    p[5] = (uint8_t)mr_next(g);
    return 2 + APP_SIZE;
}

/* A scene: a few records that take a connection somewhere (the mutator then varies them). */
static size_t gen_scene(uint8_t *p, size_t cap, struct mrng *g)
{
    uint8_t buf[512];
    size_t n = 0;
    uint8_t *s;
    switch (mr_below(g, 4)) {
    case 0: /* a peer connects: SYN, then the ACK of our SYN-ACK, and we accept */
        n += gen_seg(buf + n, g);
        s = buf + n - SEG_SIZE;
        s[SEG_FLAGS] = SK_TCP_SYN;
        s[SEG_SEQ_ANCHOR] = 0;
        put16(s + SEG_SEQ_OFF, 0);
        n += gen_seg(buf + n, g);
        s = buf + n - SEG_SIZE;
        s[SEG_FLAGS] = SK_TCP_ACK;
        s[SEG_SEQ_ANCHOR] = 0;
        s[SEG_ACK_ANCHOR] = 0;
        put16(s + SEG_SEQ_OFF, 0);
        put16(s + SEG_ACK_OFF, 0);
        s[SEG_FLOW] = buf[2 + SEG_FLOW];
        n += gen_app(buf + n, g, 0);
        break;
    case 1: /* we connect; the peer answers SYN-ACK */
        n += gen_app(buf + n, g, 6);
        n += gen_seg(buf + n, g);
        s = buf + n - SEG_SIZE;
        s[SEG_FLAGS] = SK_TCP_SYN | SK_TCP_ACK;
        s[SEG_SEQ_ANCHOR] = 0;
        s[SEG_ACK_ANCHOR] = 0;
        put16(s + SEG_SEQ_OFF, 0);
        put16(s + SEG_ACK_OFF, 0);
        break;
    case 2: /* we send; the peer acknowledges part, with SACK blocks */
        n += gen_app(buf + n, g, 1);
        n += gen_time(buf + n, g);
        for (uint32_t k = 1 + mr_below(g, 4); k > 0; k--) {
            n += gen_seg(buf + n, g);
            s = buf + n - SEG_SIZE;
            s[SEG_FLAGS] = SK_TCP_ACK;
            s[SEG_ACK_ANCHOR] = 1;
            s[SEG_OPTS] |= SK_OPT_SACK;
            s[SEG_NSACK] = (uint8_t)(1 + mr_below(g, 3));
        }
        break;
    default: /* the peer sends data in order, then FIN */
        for (uint32_t k = 1 + mr_below(g, 3); k > 0; k--) {
            n += gen_seg(buf + n, g);
            s = buf + n - SEG_SIZE;
            s[SEG_FLAGS] = (uint8_t)(SK_TCP_ACK | (k == 1 ? SK_TCP_FIN : SK_TCP_PSH));
            s[SEG_SEQ_ANCHOR] = 0;
            put16(s + SEG_SEQ_OFF, 0);
            put16(s + SEG_DLEN, (uint16_t)(1 + mr_below(g, 1460)));
        }
        n += gen_app(buf + n, g, 2);
        break;
    }
    if (n > cap)
        return 0;
    memcpy(p, buf, n);
    return n;
}

static size_t gen_icmp(uint8_t *p, struct mrng *g)
{
    p[0] = OP_ICMP;
    p[1] = ICMP_SIZE;
    uint8_t *s = p + 2;
    s[ICMP_FLOW] = (uint8_t)(mr_below(g, 4) ? 0 : mr_next(g));
    s[ICMP_TYPE] = (uint8_t)(mr_below(g, 2) ? 0 : mr_next(g));
    s[ICMP_CODE] = (uint8_t)(mr_below(g, 2) ? 4 : mr_below(g, 16));
    put16(s + ICMP_MTU, (uint16_t)(mr_below(g, 2) ? 68 + mr_below(g, 1500) : interesting16(g)));
    s[ICMP_SEQ_ANCHOR] = (uint8_t)mr_below(g, 3);
    put16(s + ICMP_SEQ_OFF, mr_below(g, 2) ? 0 : interesting16(g));
    return 2 + ICMP_SIZE;
}

static size_t gen_app2(uint8_t *p, struct mrng *g)
{
    p[0] = OP_APP2;
    p[1] = APP2_SIZE;
    p[2] = (uint8_t)mr_below(g, 6);
    p[3] = (uint8_t)mr_below(g, 2);
    put16(p + 4, interesting16(g));
    put16(p + 6, interesting16(g));
    return 2 + APP2_SIZE;
}

static size_t gen_record(uint8_t *p, size_t cap, struct mrng *g)
{
    uint8_t buf[512];
    size_t n;
    switch (mr_below(g, 10)) {
    case 8:
        n = gen_icmp(buf, g);
        break;
    case 9:
        n = gen_app2(buf, g);
        break;
    case 0:
    case 1:
    case 2:
        n = gen_seg(buf, g);
        break;
    case 3:
        n = gen_time(buf, g);
        break;
    case 4:
        n = gen_app(buf, g, -1);
        break;
    case 5:
        n = gen_scene(buf, sizeof(buf), g);
        break;
    default: { /* raw: a datagram with patched header, or a whole frame */
        size_t len = 1 + mr_below(g, 80);
        buf[0] = mr_below(g, 2) ? OP_RAW : OP_CRAFT;
        buf[1] = (uint8_t)len;
        for (size_t i = 0; i < len; i++)
            buf[2 + i] = (uint8_t)mr_next(g);
        n = 2 + len;
        break;
    }
    }
    if (n > cap)
        return 0;
    memcpy(p, buf, n);
    return n;
}

/* One field of a segment record, set near an interesting value or bit-flipped. */
static void mutate_seg_field(uint8_t *s, size_t len, struct mrng *g)
{
    static const uint8_t wide[] = {SEG_SEQ_OFF, SEG_ACK_OFF, SEG_WND, SEG_MSS, SEG_TSVAL_OFF,
                                   SEG_TSECR_OFF, SEG_DLEN, SEG_URG, SEG_SACK, SEG_SACK + 2,
                                   SEG_SACK + 4, SEG_SACK + 6, SEG_SACK + 8, SEG_SACK + 10};
    static const uint8_t narrow[] = {SEG_FLOW, SEG_FLAGS, SEG_SEQ_ANCHOR, SEG_ACK_ANCHOR,
                                     SEG_OPTS, SEG_WSCALE, SEG_NSACK, SEG_EXTRA, SEG_FRAG};
    if (mr_below(g, 2)) {
        size_t f = wide[mr_below(g, sizeof(wide))];
        if (f + 2 > len)
            return;
        uint16_t v = mr_below(g, 2) ? interesting16(g)
                                    : (uint16_t)(sk_get16(s + f) + (int)mr_below(g, 17) - 8);
        put16(s + f, v);
    } else {
        size_t f = narrow[mr_below(g, sizeof(narrow))];
        if (f >= len)
            return;
        if (f == SEG_FLAGS && mr_below(g, 2))
            s[f] ^= (uint8_t)(1u << mr_below(g, 8));
        else if (f == SEG_SEQ_ANCHOR || f == SEG_ACK_ANCHOR)
            s[f] = (uint8_t)mr_below(g, 6);
        else
            s[f] = (uint8_t)(mr_below(g, 2) ? mr_next(g) : s[f] ^ (1u << mr_below(g, 8)));
    }
}

/* A fresh script: setup byte and a few records. */
static size_t script_generate(uint8_t *data, size_t max, struct mrng *g)
{
    if (max < 1)
        return 0;
    data[0] = (uint8_t)(mr_next(g) & ~SETUP_LEGACY);
    size_t n = 1;
    for (uint32_t k = 2 + mr_below(g, 6); k > 0; k--) {
        size_t m = gen_record(data + n, max - n, g);
        if (m == 0)
            break;
        n += m;
    }
    return n;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    struct mrng g = {((uint64_t)seed << 32 | seed) ^ 0x9e3779b97f4a7c15ull};
    if (size == 0 || (data[0] & SETUP_LEGACY)) {
        /* A legacy script stays mostly legacy; sometimes it is replaced by a fresh one. */
        if (size > 0 && mr_below(&g, 4))
            return LLVMFuzzerMutate(data, size, max_size);
        return script_generate(data, max_size, &g);
    }
    if (mr_below(&g, 16) == 0)
        return LLVMFuzzerMutate(data, size, max_size);
    static struct op_span ops[SCRIPT_MAX_OPS];
    static uint8_t out[1 << 16];
    size_t nops = script_ops(data, size, ops);
    size_t cap = max_size < sizeof(out) ? max_size : sizeof(out);
    size_t n = 1, at = mr_below(&g, (uint32_t)nops + 1);
    uint32_t what = nops ? mr_below(&g, 8) : 0;
    out[0] = data[0];
    if (what == 7) {
        out[0] ^= (uint8_t)(2u << mr_below(&g, 7)); /* another configuration, still structured */
        what = 3;
    }
    for (size_t i = 0; i <= nops; i++) {
        if (i == at && what <= 1) { /* insert a record or a scene */
            n += gen_record(out + n, cap - n, &g);
        }
        if (i == nops)
            break;
        const uint8_t *op = data + ops[i].off;
        size_t len = ops[i].len;
        if (n + len > cap)
            break;
        if (i == at && what == 2) /* delete */
            continue;
        memcpy(out + n, op, len);
        uint8_t *rec = out + n;
        n += len;
        if (i != at)
            continue;
        if (what == 3 && len > 2) {
            if (rec[0] % OP_COUNT == OP_SEG && mr_below(&g, 4))
                mutate_seg_field(rec + 2, len - 2, &g);
            else
                rec[2 + mr_below(&g, (uint32_t)len - 2)] ^= (uint8_t)(1u << mr_below(&g, 8));
        } else if (what == 4 && n + len <= cap) { /* duplicate */
            memcpy(out + n, op, len);
            n += len;
        } else if (what == 5 && i + 1 < nops && n + ops[i + 1].len <= cap) { /* swap */
            n -= len;
            memcpy(out + n, data + ops[i + 1].off, ops[i + 1].len);
            n += ops[i + 1].len;
            memcpy(out + n, op, len);
            n += len;
            i++;
        } else if (what == 6 && len > 2) { /* libFuzzer's mutator on this record's bytes */
            uint8_t tmp[258];
            memcpy(tmp, rec + 2, len - 2);
            size_t m = LLVMFuzzerMutate(tmp, len - 2, 255);
            if (n - len + 2 + m <= cap) {
                n -= len;
                out[n + 1] = (uint8_t)m;
                memcpy(out + n + 2, tmp, m);
                n += 2 + m;
            }
        }
    }
    if (n > max_size)
        n = max_size;
    memcpy(data, out, n);
    return n;
}

/* Records from the front of one script, then from the back of another. */
size_t LLVMFuzzerCustomCrossOver(const uint8_t *d1, size_t s1, const uint8_t *d2, size_t s2,
                                 uint8_t *out, size_t max_out, unsigned int seed)
{
    struct mrng g = {((uint64_t)seed << 32 | ~seed) ^ 0x2545f4914f6cdd1dull};
    if (s1 == 0 || max_out == 0)
        return 0;
    if ((d1[0] & SETUP_LEGACY) || s2 == 0 || (d2[0] & SETUP_LEGACY)) {
        size_t a = mr_below(&g, (uint32_t)s1 + 1), b = mr_below(&g, (uint32_t)s2 + 1);
        size_t n = a < max_out ? a : max_out;
        memcpy(out, d1, n);
        size_t m = s2 - b < max_out - n ? s2 - b : max_out - n;
        memcpy(out + n, d2 + b, m);
        return n + m;
    }
    static struct op_span o1[SCRIPT_MAX_OPS], o2[SCRIPT_MAX_OPS];
    size_t n1 = script_ops(d1, s1, o1), n2 = script_ops(d2, s2, o2);
    size_t a = mr_below(&g, (uint32_t)n1 + 1), b = mr_below(&g, (uint32_t)n2 + 1);
    size_t n = 1;
    out[0] = d1[0];
    for (size_t i = 0; i < a && n + o1[i].len <= max_out; i++) {
        memcpy(out + n, d1 + o1[i].off, o1[i].len);
        n += o1[i].len;
    }
    for (size_t i = b; i < n2 && n + o2[i].len <= max_out; i++) {
        memcpy(out + n, d2 + o2[i].off, o2[i].len);
        n += o2[i].len;
    }
    return n;
}

#endif
