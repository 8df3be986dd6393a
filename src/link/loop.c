/* synack: the TAP event loop (see synack/loop.h). Outside the core.
 *
 * One iteration: compute the earliest of the stack's deadline and the fault link's next
 * arrival, ppoll() the TAP descriptor and an eventfd until then, read every waiting frame
 * (up to a batch, so timers are not starved) into the stack, deliver what the fault link
 * has due, and run the stack's timers. Without faults, frames go straight between the TAP
 * and the stack; with them, through an sk_memlink whose side 0 is the kernel and side 1 the
 * stack, which applies exactly the faults asked for in each direction (loss, duplication,
 * reordering, corruption, a one-way delay, a rate limit) and nothing else.
 *
 * The capture point is each sender's side of that fault link: a frame from the kernel is
 * recorded when it is read from the TAP, a frame from the stack when the stack hands it over,
 * both before the faults act. So a lossy run's capture shows every frame once, as sent, with
 * its sender's timestamp, including the frames the link then drops (Wireshark marks their
 * retransmissions); duplicates the link makes and the delay it adds do not appear in it.
 */
#include "synack/loop.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "synack/pcap.h"
#include "synack/tap.h"

#define LOOP_FRAME_MAX 65536
#define LOOP_READ_BATCH 256
#define SIDE_KERNEL 0
#define SIDE_STACK 1

struct sk_loop {
    struct sk_tap *tap;
    struct sk_stack *st;
    struct sk_memlink *ml;
    struct sk_pcap *pcap;
    int efd;
    uint8_t *rbuf;
    struct sk_loop_stats stats;
};

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
    if (l == NULL || (l->rbuf = malloc(LOOP_FRAME_MAX)) == NULL) {
        free(l);
        *err = -ENOMEM;
        return NULL;
    }
    l->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->efd < 0) {
        *err = -errno;
        free(l->rbuf);
        free(l);
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
    close(l->efd);
    free(l->rbuf);
    free(l);
}

void sk_loop_set_stack(struct sk_loop *l, struct sk_stack *st)
{
    l->st = st;
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
    return 0;
}

static void to_kernel(struct sk_loop *l, const uint8_t *frame, size_t len)
{
    if (sk_tap_write(l->tap, frame, len) == 0)
        l->stats.frames_written++;
    else
        l->stats.write_errors++;
}

static void deliver(void *ctx, int side, const uint8_t *frame, size_t len, sk_time_us now)
{
    struct sk_loop *l = ctx;
    if (side == SIDE_STACK) {
        if (l->st)
            sk_stack_input(l->st, frame, len, now);
    } else {
        to_kernel(l, frame, len);
    }
}

void sk_loop_output(void *ctx, const uint8_t *frame, size_t len, const struct sk_frame_meta *meta)
{
    (void)meta; /* complete frames only: the plain TAP offers no offloads */
    struct sk_loop *l = ctx;
    sk_time_us now = l->st ? sk_stack_now(l->st) : sk_loop_clock();
    if (l->pcap)
        sk_pcap_write(l->pcap, now, frame, len); /* the sender's side (see the top) */
    if (l->ml)
        sk_memlink_send(l->ml, SIDE_STACK, frame, len, now);
    else
        to_kernel(l, frame, len);
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

int sk_loop_run_once(struct sk_loop *l, sk_time_us max_wait_us)
{
    sk_time_us now = sk_loop_clock();
    sk_time_us d = next_deadline(l);
    sk_time_us wait = max_wait_us;
    if (d != SK_TIME_NEVER)
        wait = d <= now ? 0 : (d - now < wait ? d - now : wait);
    struct pollfd fds[2] = {
        {.fd = sk_tap_fd(l->tap), .events = POLLIN},
        {.fd = l->efd, .events = POLLIN},
    };
    struct timespec ts, *tsp = NULL;
    if (wait != SK_TIME_NEVER) {
        ts.tv_sec = (time_t)(wait / 1000000u);
        ts.tv_nsec = (long)(wait % 1000000u) * 1000;
        tsp = &ts;
    }
    int n = ppoll(fds, 2, tsp, NULL);
    if (n < 0 && errno != EINTR)
        return -errno;
    int woken = 0;
    if (n > 0 && (fds[1].revents & POLLIN)) {
        uint64_t v;
        if (read(l->efd, &v, sizeof(v)) == sizeof(v))
            l->stats.wakeups++;
        woken = 1;
    }
    if (n < 0)
        woken = 1; /* a signal: let the caller look at its flags */
    if (n > 0 && (fds[0].revents & (POLLIN | POLLERR | POLLHUP))) {
        for (int i = 0; i < LOOP_READ_BATCH; i++) {
            ssize_t len = sk_tap_read(l->tap, l->rbuf, LOOP_FRAME_MAX);
            if (len == -EAGAIN)
                break;
            if (len < 0)
                return (int)len;
            now = sk_loop_clock();
            l->stats.frames_read++;
            if (l->pcap)
                sk_pcap_write(l->pcap, now, l->rbuf, (size_t)len);
            if (l->ml)
                sk_memlink_send(l->ml, SIDE_KERNEL, l->rbuf, (size_t)len, now);
            else if (l->st)
                sk_stack_input(l->st, l->rbuf, (size_t)len, now);
        }
    }
    now = sk_loop_clock();
    if (l->ml)
        sk_memlink_deliver(l->ml, now, deliver, l);
    if (l->st)
        sk_stack_poll(l->st, now);
    if (l->ml)
        sk_memlink_deliver(l->ml, now, deliver, l);
    return woken;
}
