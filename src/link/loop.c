/* synack: the TAP event loop (see synack/loop.h). Outside the core.
 *
 * One iteration: compute the earliest of the stack's deadline and the fault link's next
 * arrival, ppoll() the TAP descriptor and two eventfds (sk_loop_wake, and frames steered here
 * by the other loops of a group) until then, read every waiting frame
 * (up to a batch, so timers are not starved) into the stack, take what other loops steered
 * here, deliver what the fault link has due, and run the stack's timers. Without faults,
 * frames go straight between the TAP and the stack; with them, through an sk_memlink whose
 * side 0 is the kernel and side 1 the stack, which applies exactly the faults asked for in
 * each direction (loss, duplication, reordering, corruption, a one-way delay, a rate limit)
 * and nothing else.
 *
 * The capture point is each sender's side of that fault link: a frame from the kernel is
 * recorded when it is read from the TAP, a frame from the stack when the stack hands it over,
 * both before the faults act. So a lossy run's capture shows every frame once, as sent, with
 * its sender's timestamp, including the frames the link then drops (Wireshark marks their
 * retransmissions); duplicates the link makes and the delay it adds do not appear in it. A
 * frame with a partial checksum is captured with the checksum completed (what the wire would
 * carry); a TSO/GSO super-segment is captured whole, as tcpdump on Linux shows them.
 *
 * Offload: frames come with the virtio-net header's metadata (synack/tap.h). A frame with a
 * partial checksum goes to the stack as such only if the stack's sk_config.caps.rx_csum says
 * it takes them; otherwise the loop completes the checksum itself (counted: csum_completed).
 * A coalesced frame reaches a stack without caps.rx_large never: the driver is not asked for
 * TSO on receive then; should one come, it is dropped (gso_dropped). A frame beyond the MTU
 * that is not marked as coalesced is dropped (oversize_dropped): rx_large is for GRO frames.
 * Frames from the stack keep their metadata to a TAP with the header; to one without, the
 * loop finishes them (sk_csum_complete, sk_gso_segment). The fault link carries the metadata
 * (sk_memlink_set_caps): the kernel's partial checksums and super-segments reach the stack as
 * its caps allow, and the stack's super-segments are cut into wire frames before the faults
 * act, so a loss is one wire frame's.
 *
 * Groups (sk_loop_group, multi-queue TAP): one loop per thread, each with its own queue, stack
 * and memory. The kernel picks the queue of each frame it sends by its own flow hash, which
 * is not ours and changes (a retransmission timeout rehashes the socket), so every frame read
 * is steered to the loop that owns its flow: the owner is a keyed, symmetric hash of the
 * 4-tuple (the same for both directions, so an ICMP error's embedded datagram, which went out
 * from us, finds the same owner), modulo the group's size. A frame for another loop is
 * copied into a single-producer single-consumer ring for that (reader, owner) pair; the owner
 * is woken by an eventfd only if it sleeps. ARP goes to every loop (each stack has its own
 * cache, with the same address and MAC). Non-first IP fragments carry no ports: fragments are
 * steered by the address pair alone, so a fragmented TCP segment (Linux sets DF on TCP) could
 * reach the wrong stack; a fragmented UDP datagram reaches one stack whole.
 */
#include "synack/loop.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "synack/gso.h"
#include "synack/pcap.h"
#include "synack/tap.h"
#include "util/rand.h"
#include "wire/wire.h"

/* The largest frame: a 64 KiB IP datagram (a GSO frame), Ethernet and a VLAN tag. */
#define LOOP_FRAME_MAX (65535 + 18)
/* Frames land at this offset in a buffer aligned to 16, so the IP header is 4-aligned. */
#define RX_OFFSET 2
#define TX_OFFSET 18
/* A frame buffer: the offset, the frame, slack; a multiple of 64, as aligned_alloc wants. */
#define LOOP_BUF_BYTES ((LOOP_FRAME_MAX + 32 + 63) & ~63)
#define LOOP_READ_BATCH 256
#define SIDE_KERNEL 0
#define SIDE_STACK 1
#define STEER_RING_BYTES (1u << 20)

struct steer_ring;

struct sk_loop {
    struct sk_tap *tap;
    struct sk_stack *st;
    struct sk_memlink *ml;
    struct sk_pcap *pcap;
    int efd;       /* sk_loop_wake */
    int steer_efd; /* frames steered to this loop by another */
    uint8_t *rbuf, *tbuf, *cbuf;
    struct sk_loop_group *group;
    unsigned index;
    atomic_int sleeping; /* in ppoll: the steering producers must write steer_efd */
    struct sk_loop_stats stats;
};

/* ---- single-producer single-consumer byte ring ---- */

/* A record: its length (or RING_PAD: skip to the ring's end), the metadata, the frame, padded
 * to 8 bytes. head and tail only grow; each on its own cache line. */
#define RING_PAD UINT32_MAX
struct ring_rec {
    uint32_t len;
    uint16_t pad;
    struct sk_frame_meta meta;
};
#define REC_HDR ((sizeof(struct ring_rec) + 7) & ~(size_t)7)

struct steer_ring {
    _Alignas(64) atomic_size_t head;
    _Alignas(64) atomic_size_t tail;
    _Alignas(64) size_t tail_cache; /* the producer's last look at tail */
    uint8_t *data;
};

struct sk_loop_group {
    unsigned n;
    struct sk_loop **loops;
    struct steer_ring *rings; /* rings[reader * n + owner] */
    uint64_t k0, k1;
    pthread_mutex_t pcap_lock;
};

static bool ring_push(struct steer_ring *r, const uint8_t *frame, size_t len,
                      const struct sk_frame_meta *meta)
{
    size_t need = REC_HDR + ((len + 7) & ~(size_t)7);
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t pos = head & (STEER_RING_BYTES - 1), contig = STEER_RING_BYTES - pos;
    size_t want = need + (contig < need ? contig : 0);
    if (head + want - r->tail_cache > STEER_RING_BYTES) {
        r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (head + want - r->tail_cache > STEER_RING_BYTES)
            return false;
    }
    if (contig < need) {
        struct ring_rec pad = {.len = RING_PAD};
        memcpy(r->data + pos, &pad, sizeof(pad.len));
        head += contig;
        pos = 0;
    }
    struct ring_rec rec = {.len = (uint32_t)len, .meta = *meta};
    memcpy(r->data + pos, &rec, sizeof(rec));
    memcpy(r->data + pos + REC_HDR, frame, len);
    atomic_store_explicit(&r->head, head + need, memory_order_release);
    return true;
}

static void to_stack(struct sk_loop *l, uint8_t *frame, size_t len, struct sk_frame_meta *meta,
                     sk_time_us now);
static void ml_set_caps(struct sk_loop *l);

/* Feeds the stack every frame in r; the frames are read in place. */
static void ring_drain(struct sk_loop *l, struct steer_ring *r, sk_time_us now)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    while (tail != head) {
        size_t pos = tail & (STEER_RING_BYTES - 1);
        struct ring_rec rec;
        memcpy(&rec, r->data + pos, sizeof(rec.len));
        if (rec.len == RING_PAD) {
            tail += STEER_RING_BYTES - pos;
            continue;
        }
        memcpy(&rec, r->data + pos, sizeof(rec));
        to_stack(l, r->data + pos + REC_HDR, rec.len, &rec.meta, now);
        l->stats.steered_in++;
        tail += REC_HDR + ((rec.len + 7) & ~(size_t)7);
        atomic_store_explicit(&r->tail, tail, memory_order_release);
    }
}

/* ---- the loop ---- */

sk_time_us sk_loop_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (sk_time_us)ts.tv_sec * 1000000u + (sk_time_us)ts.tv_nsec / 1000u;
}

struct sk_loop *sk_loop_new(struct sk_tap *tap, int *err)
{
    int e = 0;
    if (err == NULL)
        err = &e;
    struct sk_loop *l = calloc(1, sizeof(*l));
    if (l == NULL) {
        *err = -ENOMEM;
        return NULL;
    }
    l->efd = l->steer_efd = -1;
    l->rbuf = aligned_alloc(64, LOOP_BUF_BYTES);
    l->tbuf = aligned_alloc(64, LOOP_BUF_BYTES);
    l->cbuf = aligned_alloc(64, LOOP_BUF_BYTES);
    if (!l->rbuf || !l->tbuf || !l->cbuf) {
        sk_loop_free(l);
        *err = -ENOMEM;
        return NULL;
    }
    l->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    l->steer_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->efd < 0 || l->steer_efd < 0) {
        *err = -errno;
        sk_loop_free(l);
        return NULL;
    }
    l->tap = tap;
    *err = 0;
    return l;
}

void sk_loop_free(struct sk_loop *l)
{
    if (l == NULL)
        return;
    sk_memlink_free(l->ml);
    if (l->efd >= 0)
        close(l->efd);
    if (l->steer_efd >= 0)
        close(l->steer_efd);
    free(l->rbuf);
    free(l->tbuf);
    free(l->cbuf);
    free(l);
}

void sk_loop_set_stack(struct sk_loop *l, struct sk_stack *st)
{
    l->st = st;
    ml_set_caps(l);
}

void sk_loop_set_pcap(struct sk_loop *l, struct sk_pcap *pcap)
{
    l->pcap = pcap;
}

int sk_loop_set_faults(struct sk_loop *l, const struct sk_memlink_faults *to_stack,
                       const struct sk_memlink_faults *from_stack, uint64_t seed)
{
    sk_memlink_free(l->ml);
    l->ml = NULL;
    if (to_stack == NULL && from_stack == NULL)
        return 0;
    l->ml = sk_memlink_new(seed);
    if (l->ml == NULL)
        return -ENOMEM;
    struct sk_memlink_faults none = {0};
    sk_memlink_set_faults(l->ml, SIDE_KERNEL, to_stack ? to_stack : &none);
    sk_memlink_set_faults(l->ml, SIDE_STACK, from_stack ? from_stack : &none);
    ml_set_caps(l);
    return 0;
}

/* sk_csum_complete (synack/gso.h), and the flag cleared: the frame is finished. */
static bool csum_complete(uint8_t *frame, size_t len, struct sk_frame_meta *meta)
{
    if (sk_csum_complete(frame, len, meta) != 0)
        return false;
    meta->flags = (uint8_t)(meta->flags & ~SK_FRAME_CSUM_PARTIAL);
    return true;
}

static void capture(struct sk_loop *l, sk_time_us now, const uint8_t *frame, size_t len,
                    const struct sk_frame_meta *meta)
{
    if (meta->flags & SK_FRAME_CSUM_PARTIAL) {
        struct sk_frame_meta m = *meta;
        memcpy(l->cbuf, frame, len);
        if (csum_complete(l->cbuf, len, &m))
            frame = l->cbuf;
    }
    if (l->group)
        pthread_mutex_lock(&l->group->pcap_lock);
    sk_pcap_write(l->pcap, now, frame, len);
    if (l->group)
        pthread_mutex_unlock(&l->group->pcap_lock);
}

static int tap_write(struct sk_loop *l, const uint8_t *frame, size_t len,
                     const struct sk_frame_meta *meta)
{
    int r;
    if (frame == l->tbuf + TX_OFFSET)
        r = sk_tap_write_headroom(l->tap, l->tbuf + TX_OFFSET, len, meta);
    else
        r = sk_tap_write_meta(l->tap, frame, len, meta);
    if (r == 0)
        l->stats.frames_written++;
    else
        l->stats.write_errors++;
    return r;
}

/* A frame from the kernel (read here or steered here), for this loop's stack. */
static void to_stack(struct sk_loop *l, uint8_t *frame, size_t len, struct sk_frame_meta *meta,
                     sk_time_us now)
{
    const struct sk_config *cfg = l->st ? sk_stack_config(l->st) : NULL;
    if (cfg && meta->gso_type == SK_GSO_NONE && len > (size_t)cfg->mtu + 18) {
        /* Beyond the MTU, only a frame the kernel marked as coalesced is let through: the
         * stack's rx_large admits large frames, and this one is not one of them. */
        l->stats.oversize_dropped++;
        return;
    }
    if (l->ml) {
        /* The fault link finishes what the stack does not take (sk_memlink_set_caps). */
        sk_memlink_send_meta(l->ml, SIDE_KERNEL, frame, len, meta, now);
        return;
    }
    if (meta->gso_type != SK_GSO_NONE && (!cfg || !cfg->caps.rx_large)) {
        l->stats.gso_dropped++; /* never asked for: rx_large is asked only for such a stack */
        return;
    }
    if ((meta->flags & SK_FRAME_CSUM_PARTIAL) && (!cfg || !cfg->caps.rx_csum)) {
        if (!csum_complete(frame, len, meta)) {
            l->stats.gso_dropped++;
            return;
        }
        l->stats.csum_completed++;
    }
    if (l->st)
        sk_stack_input_meta(l->st, frame, len, meta, now);
}

static void deliver(void *ctx, int side, const uint8_t *frame, size_t len,
                    const struct sk_frame_meta *meta, sk_time_us now)
{
    struct sk_loop *l = ctx;
    if (side == SIDE_STACK) {
        if (l->st)
            sk_stack_input_meta(l->st, frame, len, meta, now);
    } else {
        (void)tap_write(l, frame, len, meta);
    }
}

/* The fault link's offloads: the stack's own caps on its side; on the kernel's side what the
 * TAP's header lets the kernel send (partial checksums, super-segments), and nothing it
 * receives, so that the stack's super-segments are cut into wire frames before the faults
 * act on them and every frame reaches the kernel finished. */
static void ml_set_caps(struct sk_loop *l)
{
    if (!l->ml)
        return;
    struct sk_link_caps kernel = {0};
    if (sk_tap_vnet_hdr_len(l->tap)) {
        kernel.tx_csum = true;
        kernel.tso_max = 65535;
    }
    sk_memlink_set_caps(l->ml, SIDE_KERNEL, &kernel, SK_ETH_HLEN);
    sk_memlink_set_caps(l->ml, SIDE_STACK, l->st ? &sk_stack_config(l->st)->caps : NULL,
                        SK_ETH_HLEN);
}

/* Cut pieces of a super-segment for a TAP without the header. */
static void emit_piece(void *ctx, const uint8_t *frame, size_t len)
{
    static const struct sk_frame_meta none;
    (void)tap_write(ctx, frame, len, &none);
}

uint8_t *sk_loop_tx_buffer(void *ctx, size_t size)
{
    struct sk_loop *l = ctx;
    return size <= LOOP_FRAME_MAX ? l->tbuf + TX_OFFSET : NULL;
}

void sk_loop_output(void *ctx, const uint8_t *frame, size_t len, const struct sk_frame_meta *meta)
{
    struct sk_loop *l = ctx;
    static const struct sk_frame_meta none;
    if (meta == NULL)
        meta = &none;
    sk_time_us now = l->st ? sk_stack_now(l->st) : sk_loop_clock();
    if (l->pcap)
        capture(l, now, frame, len, meta); /* the sender's side (see the top) */
    if (l->ml) {
        sk_memlink_send_meta(l->ml, SIDE_STACK, frame, len, meta, now);
    } else if (sk_tap_vnet_hdr_len(l->tap) || (meta->flags == 0 && meta->gso_type == 0)) {
        /* The TAP's queue is full: the stack hears the frame did not go, as Linux's TCP hears
         * of a qdisc's drop, instead of taking it for a loss in the network. */
        int r = tap_write(l, frame, len, meta);
        if ((r == -EAGAIN || r == -ENOBUFS) && l->st)
            sk_stack_output_refused(l->st);
    } else if (meta->gso_type != SK_GSO_NONE) {
        /* A bare TAP: the pieces, finished (a stack given no tso_max never sends these). */
        if (sk_gso_segment(frame, len, meta, SK_ETH_HLEN, l->cbuf, LOOP_FRAME_MAX, emit_piece,
                           l) < 0)
            l->stats.gso_dropped++;
    } else {
        struct sk_frame_meta m = *meta;
        memcpy(l->cbuf, frame, len);
        if (csum_complete(l->cbuf, len, &m)) {
            l->stats.csum_completed++;
            (void)tap_write(l, l->cbuf, len, &m);
        } else {
            l->stats.gso_dropped++;
        }
    }
}

void sk_loop_wake(struct sk_loop *l)
{
    uint64_t one = 1;
    ssize_t r = write(l->efd, &one, sizeof(one));
    (void)r; /* a full counter already means "wake up" */
}

void sk_loop_get_stats(const struct sk_loop *l, struct sk_loop_stats *out)
{
    *out = l->stats;
    struct sk_memlink_stats to = {0}, from = {0};
    if (l->ml) {
        sk_memlink_get_stats(l->ml, SIDE_KERNEL, &to);
        sk_memlink_get_stats(l->ml, SIDE_STACK, &from);
    }
    out->lost_to_stack = to.lost + to.queue_drops + to.mtu_drops;
    out->lost_from_stack = from.lost + from.queue_drops + from.mtu_drops;
}

static sk_time_us next_deadline(const struct sk_loop *l)
{
    sk_time_us d = l->st ? sk_stack_next_deadline(l->st) : SK_TIME_NEVER;
    if (l->ml) {
        sk_time_us m = sk_memlink_next_deadline(l->ml);
        if (m < d)
            d = m;
    }
    return d;
}

/* ---- steering (groups) ---- */

#define STEER_ALL UINT32_MAX

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* The keyed hash of a flow, the same whichever way the datagram goes: the two endpoints
 * (address, port) in a fixed order, then SipHash with the group's key, so that a peer cannot
 * aim many flows at one stack without knowing the key. */
static uint32_t flow_hash(const struct sk_loop_group *g, const uint8_t *a, const uint8_t *b,
                          uint16_t pa, uint16_t pb, uint8_t proto)
{
    uint8_t t[13];
    uint64_t ea = (uint64_t)rd16(a) << 32 | (uint64_t)rd16(a + 2) << 16 | pa;
    uint64_t eb = (uint64_t)rd16(b) << 32 | (uint64_t)rd16(b + 2) << 16 | pb;
    const uint8_t *lo = ea <= eb ? a : b, *hi = ea <= eb ? b : a;
    uint16_t plo = ea <= eb ? pa : pb, phi = ea <= eb ? pb : pa;
    memcpy(t, lo, 4);
    memcpy(t + 4, hi, 4);
    t[8] = (uint8_t)(plo >> 8), t[9] = (uint8_t)plo;
    t[10] = (uint8_t)(phi >> 8), t[11] = (uint8_t)phi;
    t[12] = proto;
    return (uint32_t)sk_siphash(g->k0, g->k1, t, sizeof(t));
}

/* The flow of the IPv4 datagram at ip (len bytes): its hash. ICMP errors (RFC 792: types 3,
 * 4, 5, 11, 12) by the datagram they carry, fragments by the addresses alone. */
static uint32_t ip_flow(const struct sk_loop_group *g, const uint8_t *ip, size_t len, int depth)
{
    if (len < 20 || (ip[0] >> 4) != 4)
        return 0;
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    uint8_t proto = ip[9];
    bool fragment = (rd16(ip + 6) & 0x3fff) != 0;
    if (ihl < 20 || ihl > len || fragment)
        return flow_hash(g, ip + 12, ip + 16, 0, 0, fragment ? 0 : proto);
    const uint8_t *l4 = ip + ihl;
    size_t l4len = len - ihl;
    if ((proto == 6 || proto == 17) && l4len >= 4)
        return flow_hash(g, ip + 12, ip + 16, rd16(l4), rd16(l4 + 2), proto);
    if (proto == 1 && l4len >= 8 + 20 && depth == 0) {
        uint8_t type = l4[0];
        if (type == 3 || type == 4 || type == 5 || type == 11 || type == 12)
            return ip_flow(g, l4 + 8, l4len - 8, 1);
    }
    return flow_hash(g, ip + 12, ip + 16, 0, 0, proto);
}

/* The loop that owns this Ethernet frame, or STEER_ALL. */
static uint32_t steer_owner(const struct sk_loop_group *g, const uint8_t *frame, size_t len)
{
    if (len < 14)
        return 0;
    uint16_t type = rd16(frame + 12);
    if (type == 0x0806)
        return STEER_ALL; /* ARP: every stack keeps its own cache */
    if (type != 0x0800)
        return 0;
    return ip_flow(g, frame + 14, len - 14, 0) % g->n;
}

static void steer_push(struct sk_loop *l, unsigned owner, const uint8_t *frame, size_t len,
                       const struct sk_frame_meta *meta, uint64_t *woken)
{
    struct sk_loop_group *g = l->group;
    if (!ring_push(&g->rings[l->index * g->n + owner], frame, len, meta)) {
        l->stats.steer_drops++;
        return;
    }
    l->stats.steered_out++;
    *woken |= 1ull << (owner % 64);
}

/* Wakes the owners that got frames in this batch and sleep (a Dekker pair with the fence
 * before the owner's last look at its rings in run_once). */
static void steer_wake(struct sk_loop *l, uint64_t woken)
{
    if (!woken)
        return;
    atomic_thread_fence(memory_order_seq_cst);
    struct sk_loop_group *g = l->group;
    for (unsigned o = 0; o < g->n; o++) {
        struct sk_loop *ol = g->loops[o];
        if (!(woken & (1ull << (o % 64))) || !atomic_load_explicit(&ol->sleeping,
                                                                     memory_order_relaxed))
            continue;
        uint64_t one = 1;
        ssize_t r = write(ol->steer_efd, &one, sizeof(one));
        (void)r;
        l->stats.steer_wakeups++;
    }
}

/* A frame read from this loop's queue: to its owner. */
static void dispatch(struct sk_loop *l, uint8_t *frame, size_t len, struct sk_frame_meta *meta,
                     sk_time_us now, uint64_t *woken)
{
    struct sk_loop_group *g = l->group;
    uint32_t owner = g ? steer_owner(g, frame, len) : l->index;
    if (owner == STEER_ALL) {
        for (unsigned o = 0; o < g->n; o++)
            if (o != l->index)
                steer_push(l, o, frame, len, meta, woken);
        owner = l->index;
    }
    if (owner == l->index)
        to_stack(l, frame, len, meta, now);
    else
        steer_push(l, owner, frame, len, meta, woken);
}

static bool rings_pending(const struct sk_loop *l)
{
    const struct sk_loop_group *g = l->group;
    for (unsigned r = 0; g && r < g->n; r++) {
        struct steer_ring *ring = &g->rings[r * g->n + l->index];
        if (atomic_load_explicit(&ring->head, memory_order_relaxed) !=
            atomic_load_explicit(&ring->tail, memory_order_relaxed))
            return true;
    }
    return false;
}

static void rings_drain(struct sk_loop *l, sk_time_us now)
{
    struct sk_loop_group *g = l->group;
    for (unsigned r = 0; g && r < g->n; r++)
        if (r != l->index)
            ring_drain(l, &g->rings[r * g->n + l->index], now);
}

/* Every waiting frame of this loop's queue, up to a batch. 0 or a negative errno. */
static int read_batch(struct sk_loop *l, sk_time_us now)
{
    uint64_t woken = 0;
    int rc = 0;
    for (int i = 0; i < LOOP_READ_BATCH; i++) {
        struct sk_frame_meta meta;
        uint8_t *frame = l->rbuf + RX_OFFSET;
        ssize_t len = sk_tap_read_meta(l->tap, frame, LOOP_FRAME_MAX, &meta);
        l->stats.read_calls++;
        if (len == -EAGAIN)
            break;
        if (len < 0) {
            rc = (int)len;
            break;
        }
        l->stats.frames_read++;
        /* Each frame stamped when it is read (a vDSO call, no system call): with one reading
         * for a whole batch, the stack's clock lagged by the batch's processing time and its
         * tail-loss probes fired on a lossless link (test_slow_reader, 6 runs of 6). */
        now = sk_loop_clock();
        if (l->pcap)
            capture(l, now, frame, (size_t)len, &meta);
        dispatch(l, frame, (size_t)len, &meta, now, &woken);
    }
    if (l->group)
        steer_wake(l, woken);
    return rc;
}

int sk_loop_run_once(struct sk_loop *l, sk_time_us max_wait_us)
{
    sk_time_us now = sk_loop_clock();
    sk_time_us d = next_deadline(l);
    sk_time_us wait = max_wait_us;
    if (d != SK_TIME_NEVER)
        wait = d <= now ? 0 : (d - now < wait ? d - now : wait);
    struct pollfd fds[3] = {
        {.fd = sk_tap_fd(l->tap), .events = POLLIN},
        {.fd = l->efd, .events = POLLIN},
        {.fd = l->steer_efd, .events = POLLIN},
    };
    if (l->group) {
        atomic_store_explicit(&l->sleeping, 1, memory_order_relaxed);
        atomic_thread_fence(memory_order_seq_cst);
        if (rings_pending(l))
            wait = 0;
    }
    struct timespec ts, *tsp = NULL;
    if (wait != SK_TIME_NEVER) {
        ts.tv_sec = (time_t)(wait / 1000000u);
        ts.tv_nsec = (long)(wait % 1000000u) * 1000;
        tsp = &ts;
    }
    int n = ppoll(fds, l->group ? 3 : 2, tsp, NULL);
    atomic_store_explicit(&l->sleeping, 0, memory_order_relaxed);
    l->stats.polls++;
    if (n < 0 && errno != EINTR)
        return -errno;
    int woken = 0;
    uint64_t v;
    if (n > 0 && (fds[1].revents & POLLIN)) {
        if (read(l->efd, &v, sizeof(v)) == sizeof(v))
            l->stats.wakeups++;
        woken = 1;
    }
    if (n > 0 && (fds[2].revents & POLLIN))
        (void)!read(l->steer_efd, &v, sizeof(v));
    if (n < 0)
        woken = 1; /* a signal: let the caller look at its flags */
    if (n > 0 && (fds[0].revents & (POLLIN | POLLERR | POLLHUP))) {
        int r = read_batch(l, sk_loop_clock());
        if (r < 0)
            return r;
    }
    now = sk_loop_clock(); /* after the batch: the steered frames and the timers are due now */
    rings_drain(l, now);
    if (l->ml)
        sk_memlink_deliver_meta(l->ml, now, deliver, l);
    if (l->st)
        sk_stack_poll(l->st, now);
    if (l->ml)
        sk_memlink_deliver_meta(l->ml, now, deliver, l);
    return woken;
}

struct sk_loop_group *sk_loop_group_new(struct sk_loop *const *loops, unsigned n, int *err)
{
    int e = 0;
    if (err == NULL)
        err = &e;
    *err = -EINVAL;
    if (n == 0 || n > 64)
        return NULL;
    for (unsigned i = 0; i < n; i++)
        if (loops[i] == NULL || loops[i]->group)
            return NULL;
    struct sk_loop_group *g = calloc(1, sizeof(*g));
    *err = -ENOMEM;
    if (g == NULL)
        return NULL;
    g->n = n;
    g->loops = calloc(n, sizeof(*g->loops));
    g->rings = aligned_alloc(64, sizeof(*g->rings) * n * n);
    if (!g->loops || !g->rings) {
        free(g->loops);
        free(g->rings);
        free(g);
        return NULL;
    }
    memset(g->rings, 0, sizeof(*g->rings) * n * n);
    for (unsigned i = 0; i < n * n; i++) {
        if (i / n == i % n)
            continue; /* a loop's frames for itself go straight to its stack */
        g->rings[i].data = malloc(STEER_RING_BYTES);
        if (!g->rings[i].data) {
            for (unsigned k = 0; k < i; k++)
                free(g->rings[k].data);
            free(g->loops);
            free(g->rings);
            free(g);
            return NULL;
        }
    }
    uint64_t key[2];
    if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key)) {
        *err = errno ? -errno : -EIO;
        for (unsigned k = 0; k < n * n; k++)
            free(g->rings[k].data);
        free(g->loops);
        free(g->rings);
        free(g);
        return NULL;
    }
    g->k0 = key[0];
    g->k1 = key[1];
    pthread_mutex_init(&g->pcap_lock, NULL);
    for (unsigned i = 0; i < n; i++) {
        g->loops[i] = loops[i];
        loops[i]->group = g;
        loops[i]->index = i;
    }
    *err = 0;
    return g;
}

void sk_loop_group_free(struct sk_loop_group *g)
{
    if (g == NULL)
        return;
    for (unsigned i = 0; i < g->n; i++) {
        g->loops[i]->group = NULL;
        g->loops[i]->index = 0;
    }
    for (unsigned k = 0; k < g->n * g->n; k++)
        free(g->rings[k].data);
    pthread_mutex_destroy(&g->pcap_lock);
    free(g->loops);
    free(g->rings);
    free(g);
}
