/* libFuzzer target: the passive observer (sk_observer_input and everything behind it).
 *
 * Input: a header byte, then packets, each introduced by a kind byte:
 *  - kind bit 7 set, "raw": a 2-byte length, a cut byte, then that many bytes (fewer if the
 *    input ends), handed over as an IP packet with `cut` bytes of it missing from the capture;
 *  - otherwise "built": the packet is written here, IPv4 or IPv6 (kind bit 1) between two fixed
 *    hosts, direction kind bit 0, one of four client ports (kind bits 2-3), then the flags,
 *    seq and ack (4 bytes each), window (2), payload length (2, at most 1500), an options
 *    length (0-40) and the option bytes, a cut byte (payload bytes missing from the capture)
 *    and a time step (in ms). Built packets reach the state machine far more often than raw
 *    bytes would.
 * The header byte sets max_conns (1-4 connections, or the default) and, when its bit 7 is set,
 * an allocator that refuses every n-th request (n from bits 4-6).
 * Properties: the counters add up to the packets given; every reported segment is sane (its
 * side, states, notes, captured length, connection number); the allocator ends with nothing
 * outstanding after sk_observer_free; sk_observer_conn_info answers for every connection.
 */
#include "fuzz_common.h"
#include "synack/observe.h"

static uint16_t fuzz_u16(struct fuzz_reader *r)
{
    uint16_t hi = fuzz_u8(r);
    return (uint16_t)(hi << 8 | fuzz_u8(r));
}

struct fuzz_alloc {
    unsigned every, calls;
    long long live;
};

static void *fuzz_allocator(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
    struct fuzz_alloc *a = ctx;
    if (new_size == 0) {
        if (ptr)
            a->live -= (long long)old_size;
        free(ptr);
        return NULL;
    }
    if (a->every && ++a->calls % a->every == 0)
        return NULL;
    void *p = realloc(ptr, new_size);
    if (p)
        a->live += (long long)new_size - (ptr ? (long long)old_size : 0);
    return p;
}

struct seen {
    uint64_t segments;
    uint64_t last_index[8];
};

static void on_segment(void *user, const struct sk_obs_segment *s)
{
    struct seen *v = user;
    v->segments++;
    FUZZ_CHECK(s->conn >= 1);
    FUZZ_CHECK(s->from <= 1);
    FUZZ_CHECK(s->nnotes <= SK_OBS_MAX_NOTES);
    FUZZ_CHECK(s->captured_len <= s->seg.len);
    for (int i = 0; i < 2; i++) {
        FUZZ_CHECK((unsigned)s->state_before[i] < SK_TCP_STATE_COUNT);
        FUZZ_CHECK((unsigned)s->state_after[i] < SK_TCP_STATE_COUNT);
    }
    for (int i = 0; i < s->nnotes; i++) {
        FUZZ_CHECK(s->notes[i].kind > SK_OBS_NOTE_NONE && s->notes[i].kind < SK_OBS_NOTE_COUNT);
        FUZZ_CHECK(strcmp(sk_obs_note_name(s->notes[i].kind), "unknown") != 0);
    }
    if (!s->rel_known && !(s->seg.flags & SK_TCP_ACK))
        FUZZ_CHECK(s->rel_ack == 0);
    if (s->conn < 8) { /* segment numbers count up within a connection */
        FUZZ_CHECK(s->index == v->last_index[s->conn]);
        v->last_index[s->conn]++;
    }
}

static const uint8_t host[2][16] = {{0x20, 0x01, 0x0d, 0xb8, [15] = 1},
                                    {0x20, 0x01, 0x0d, 0xb8, [15] = 2}};

/* Writes the built packet described at r into p (room for 1600 + 100 bytes). */
static size_t build(struct fuzz_reader *r, uint8_t kind, uint8_t *p, size_t *captured)
{
    int dir = kind & 1, v6 = (kind >> 1) & 1;
    uint16_t client = (uint16_t)(40000 + ((kind >> 2) & 3));
    uint8_t flags = fuzz_u8(r);
    uint32_t seq = fuzz_u32(r), ack = fuzz_u32(r);
    uint16_t wnd = fuzz_u16(r), len = fuzz_u16(r) % 1501;
    uint8_t optlen = (uint8_t)(fuzz_u8(r) % 41 / 4 * 4);
    size_t ip = v6 ? 40 : 20;
    uint8_t *t = p + ip;
    memset(p, 0, ip + 20);
    sk_put16(t, dir ? 80 : client);
    sk_put16(t + 2, dir ? client : 80);
    sk_put32(t + 4, seq);
    sk_put32(t + 8, ack);
    t[12] = (uint8_t)((20 + optlen) / 4 << 4);
    t[13] = flags;
    sk_put16(t + 14, wnd);
    for (uint8_t i = 0; i < optlen; i++)
        t[20 + i] = fuzz_u8(r);
    memset(t + 20 + optlen, 'd', len);
    size_t tcp = 20u + optlen + len;
    if (v6) {
        p[0] = 0x60;
        sk_put16(p + 4, (uint16_t)tcp);
        p[6] = SK_IPPROTO_TCP;
        p[7] = 64;
        memcpy(p + 8, host[dir], 16);
        memcpy(p + 24, host[!dir], 16);
    } else {
        p[0] = 0x45;
        sk_put16(p + 2, (uint16_t)(20 + tcp));
        p[8] = 64;
        p[9] = SK_IPPROTO_TCP;
        sk_put32(p + 12, dir ? 0x0a000002 : 0x0a000001);
        sk_put32(p + 16, dir ? 0x0a000001 : 0x0a000002);
    }
    uint8_t cut = fuzz_u8(r);
    size_t n = ip + tcp;
    *captured = n - (cut < len ? cut : len);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_reader r = {data, size};
    uint8_t head = fuzz_u8(&r);
    struct fuzz_alloc fa = {.every = (head & 0x80) ? 2u + ((head >> 4) & 7) : 0};
    struct seen v = {0};
    struct sk_observer_config cfg = {.on_segment = on_segment, .user = &v,
                                     .alloc = fuzz_allocator, .alloc_ctx = &fa,
                                     .max_conns = head & 7};
    struct sk_observer *o = sk_observer_new(&cfg);
    if (!o) {
        FUZZ_CHECK(fa.live == 0);
        return 0;
    }
    uint64_t given = 0, tcp = 0;
    sk_time_us t = 0;
    static uint8_t pkt[1800];
    while (r.n > 0) {
        uint8_t kind = fuzz_u8(&r);
        size_t n, captured;
        if (kind & 0x80) {
            size_t want = fuzz_u16(&r), cut = fuzz_u8(&r);
            n = want < r.n ? want : r.n;
            n = n < sizeof(pkt) ? n : sizeof(pkt);
            memcpy(pkt, r.p, n);
            r.p += n;
            r.n -= n;
            captured = n - (cut < n ? cut : n);
        } else {
            n = build(&r, kind, pkt, &captured);
            t += (sk_time_us)fuzz_u8(&r) * 1000;
        }
        /* The captured bytes in an exact-size copy: ASan sees any read past them. */
        uint8_t *copy = malloc(captured ? captured : 1);
        FUZZ_CHECK(copy != NULL);
        memcpy(copy, pkt, captured);
        enum sk_obs_result res = sk_observer_input(o, t, copy, captured, n);
        free(copy);
        given++;
        tcp += res == SK_OBS_TCP;
    }
    struct sk_observer_stats st;
    sk_observer_get_stats(o, &st);
    FUZZ_CHECK(st.packets == given);
    FUZZ_CHECK(st.tcp == tcp && v.segments == tcp);
    FUZZ_CHECK(st.packets == st.tcp + st.not_tcp + st.fragments + st.malformed + st.no_memory +
                                 st.conn_limit);
    FUZZ_CHECK(st.conns == sk_observer_conn_count(o));
    for (uint64_t id = 1; id <= st.conns; id++) {
        struct sk_obs_conn_info ci;
        FUZZ_CHECK(sk_observer_conn_info(o, id, &ci) == 0);
        FUZZ_CHECK(ci.id == id);
        FUZZ_CHECK(ci.reset_by >= -1 && ci.reset_by <= 1);
        FUZZ_CHECK(strcmp(sk_obs_end_name(ci.end), "unknown") != 0);
    }
    sk_observer_free(o);
    FUZZ_CHECK(fa.live == 0);
    return 0;
}
