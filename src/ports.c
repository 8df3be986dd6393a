/* Local ports: the one ephemeral-port picker (RFC 6056) for TCP connect, bind(0)/listen and
 * UDP, and the count of TCP endpoints per local port that makes checking a port one lookup.
 *
 * The picker is RFC 6056 §3.3.4 Algorithm 4 ("double-hash"): the walk through the ephemeral
 * range starts at F(local address, remote address, remote port) plus a per-bucket counter
 * table[G(...)], F and G keyed with SK_KEY_PORT. Connections to one destination therefore take
 * ports in sequence (few collisions with that destination's TIME-WAITs), while a port seen by
 * one destination says nothing about the ports used towards another. Each pick also adds a
 * random step to the bucket's counter (RFC 6056 §3.3.5, Algorithm 5's increments): small when
 * the remote end is known, so the sequence stays spread, and over the whole range when it is
 * not (bind(0), UDP), where nothing separates destinations and a uniformly random port
 * (§3.3.1) is what keeps an off-path attacker guessing. The steps come from the keyed
 * generator, so neither ports nor their order reveal any key. Destinations that share a bucket
 * still take nearby ports, which Klein and Pinkas (2022) used to track Linux hosts; the random
 * steps only blur that, and a larger table or a key that changes over time would go further.
 *
 * Candidates are judged by the caller's taken(), which must be table lookups: the counts here
 * for bind, the connection hash for a 4-tuple, the UDP table. Never a walk of all TCBs.
 *
 * Two counts per TCP port: endpoints (every listener, connection and TIME-WAIT record using
 * it) and holds (sockets that own the port by bind() or listen(), and connections accepted
 * on it). connect() never picks a held port, even for a destination no connection on it uses:
 * the port belongs to its binder, whose own connect would otherwise find its 4-tuple taken
 * (Linux: __inet_hash_connect skips a port whose bind bucket was made by bind, fastreuse >= 0).
 */
#include "internal.h"
#include "util/rand.h"

#define PORT_TABLE 1024   /* RFC 6056 §3.3.4 TABLE_LENGTH */
#define PORT_STEP_MAX 8   /* largest random step for a known destination */
#define PORT_PAGE 256     /* ports per page of the use counts */

struct port_use {
    uint32_t endpoints;  /* sk_port_ref */
    uint32_t holds;      /* sk_port_hold */
};

struct sk_ports {
    uint32_t table[PORT_TABLE];              /* Algorithm 4's table[] */
    struct port_use *use[65536 / PORT_PAGE]; /* per port; pages made on first use */
};

int sk_ports_init(struct sk_stack *st)
{
    struct sk_ports *p = sk_mem_alloc(st, sizeof(*p));
    if (p == NULL)
        return -ENOMEM;
    /* RFC 6056 §3.3.4 fills table[] with random values at start. Here the start of every walk
     * is already F's keyed, uniform offset plus a random step, so zeros hide as much and a
     * stack costs no thousand generator calls to make. */
    memset(p, 0, sizeof(*p));
    st->ports = p;
    return 0;
}

void sk_ports_free(struct sk_stack *st)
{
    struct sk_ports *p = st->ports;
    if (p == NULL)
        return;
    for (size_t i = 0; i < sizeof(p->use) / sizeof(p->use[0]); i++)
        sk_mem_free(st, p->use[i], sizeof(struct port_use) * PORT_PAGE);
    sk_mem_free(st, p, sizeof(*p));
    st->ports = NULL;
}

/* The port's counts, its page made if `make`; NULL if there is none (or no memory). */
static struct port_use *use_of(const struct sk_stack *st, uint16_t port, bool make)
{
    struct port_use **page = &st->ports->use[port / PORT_PAGE];
    if (*page == NULL && make) {
        *page = sk_mem_alloc((struct sk_stack *)st, sizeof(struct port_use) * PORT_PAGE);
        if (*page != NULL)
            memset(*page, 0, sizeof(struct port_use) * PORT_PAGE);
    }
    return *page ? &(*page)[port % PORT_PAGE] : NULL;
}

int sk_port_ref(struct sk_stack *st, uint16_t port)
{
    struct port_use *u = use_of(st, port, true);
    if (u == NULL)
        return -ENOMEM;
    u->endpoints++;
    return 0;
}

void sk_port_unref(struct sk_stack *st, uint16_t port)
{
    struct port_use *u = use_of(st, port, false);
    if (u != NULL && u->endpoints > 0)
        u->endpoints--;
}

uint32_t sk_port_refs(const struct sk_stack *st, uint16_t port)
{
    const struct port_use *u = use_of(st, port, false);
    return u ? u->endpoints : 0;
}

int sk_port_hold(struct sk_stack *st, uint16_t port)
{
    struct port_use *u = use_of(st, port, true);
    if (u == NULL)
        return -ENOMEM;
    u->holds++;
    return 0;
}

void sk_port_release(struct sk_stack *st, uint16_t port)
{
    struct port_use *u = use_of(st, port, false);
    if (u != NULL && u->holds > 0)
        u->holds--;
}

bool sk_port_held(const struct sk_stack *st, uint16_t port)
{
    const struct port_use *u = use_of(st, port, false);
    return u != NULL && u->holds > 0;
}

uint16_t sk_port_pick(struct sk_stack *st, const struct sk_addr *raddr, uint16_t rport,
                      bool (*taken)(struct sk_stack *st, uint16_t port, void *ctx), void *ctx)
{
    uint32_t lo = st->cfg.ephemeral_lo, n = (uint32_t)st->cfg.ephemeral_hi - lo + 1;
    /* F and G of §3.3.4 from one SipHash output: its halves are independent PRF outputs.
     * Their input: our IPv4 address, raddr and rport as the uint32_t array {local, remote,
     * rport} for an IPv4 (or unknown, 0.0.0.0) destination; for an IPv6 one the unspecified
     * address (the source is chosen later, RFC 6724), raddr's 16 bytes and rport (sk_pair_key). */
    const uint64_t *k = sk_key(st, SK_KEY_PORT);
    static const struct sk_addr unspec6;
    struct sk_addr v4any = sk_addr_from_v4(0), me = sk_addr_from_v4(st->cfg.addr);
    if (sk_addr_is_any(raddr))
        raddr = &v4any; /* unknown: as IPv4's 0.0.0.0 always was */
    uint32_t port_word = rport;
    uint8_t t[SK_PAIR_KEY_MAX];
    size_t tn = sk_pair_key(sk_addr_is_v4(raddr) ? &me : &unspec6, raddr, &port_word, 1, t);
    uint64_t h = sk_siphash(k[0], k[1], t, tn);
    uint32_t offset = (uint32_t)h;
    uint32_t *next = &st->ports->table[(h >> 32) % PORT_TABLE];
    uint32_t spread = !sk_addr_is_any(raddr) ? PORT_STEP_MAX : n;
    *next += 1 + (uint32_t)(sk_random(st) % spread);
    uint32_t base = (uint32_t)(((uint64_t)offset + *next) % n);
    st->ctr.port_picks++;
    for (uint32_t i = 0; i < n; i++) {
        uint16_t port = (uint16_t)(lo + (base + i) % n);
        st->ctr.port_probes++;
        if (!taken(st, port, ctx)) {
            *next += i;
            return port;
        }
    }
    st->ctr.port_exhausted++;
    return 0;
}
