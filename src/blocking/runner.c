/* The blocking layer: a thread that drives stacks in real time, and socket calls that wait.
 *
 * Outside the sans-IO core (it reads CLOCK_MONOTONIC and starts a thread), but shipped in the
 * library. One mutex guards every stack of a runner. The runner's thread holds it only while
 * it feeds frames and runs timers (driver->run), then broadcasts `changed` so that waiting
 * callers look again, and sleeps without it. A caller takes the mutex, brings the stacks up to
 * the present (driver->run), tries the non-blocking call, and waits on `changed` while it
 * would have to wait; after a call it wakes the runner, whose deadlines may have moved.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "synack/blocking.h"

/* A thread waiting on one descriptor (on that thread's stack, listed while it waits), so that
 * sk_bclose from another thread can tell it the descriptor is gone: the number may be handed
 * to a new socket before the waiter looks again, and it must not wait on that one. */
struct waiter {
    struct waiter *next;
    struct sk_stack *st;
    int fd;
    bool closed;
};

struct sk_runner {
    struct sk_runner_driver drv;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;   /* broadcast after every run of the driver */
    bool stop;
    struct waiter *waiters;   /* threads waiting on a descriptor, guarded by lock */
    /* The sleep of drivers without wait/wake. */
    pthread_mutex_t sleep_lock;
    pthread_cond_t sleep_cv;
    bool woken;
};

sk_time_us sk_runner_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (sk_time_us)ts.tv_sec * 1000000u + (sk_time_us)ts.tv_nsec / 1000u;
}

static void abs_timespec(sk_time_us t, struct timespec *ts)
{
    ts->tv_sec = (time_t)(t / 1000000u);
    ts->tv_nsec = (long)(t % 1000000u) * 1000;
}

static void cond_init_monotonic(pthread_cond_t *cv)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
}

/* Waits on cv (holding m) until t; false if t has passed. */
static bool cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *m, sk_time_us t)
{
    if (t == SK_TIME_NEVER) {
        pthread_cond_wait(cv, m);
        return true;
    }
    if (sk_runner_clock() >= t)
        return false;
    struct timespec ts;
    abs_timespec(t, &ts);
    pthread_cond_timedwait(cv, m, &ts);
    return true;
}

static void default_wait(struct sk_runner *r, sk_time_us deadline)
{
    pthread_mutex_lock(&r->sleep_lock);
    while (!r->woken && cond_wait_until(&r->sleep_cv, &r->sleep_lock, deadline))
        ;
    r->woken = false;
    pthread_mutex_unlock(&r->sleep_lock);
}

void sk_runner_wake(struct sk_runner *r)
{
    if (r->drv.wake) {
        r->drv.wake(r->drv.ctx);
        return;
    }
    pthread_mutex_lock(&r->sleep_lock);
    r->woken = true;
    pthread_cond_signal(&r->sleep_cv);
    pthread_mutex_unlock(&r->sleep_lock);
}

static void *runner_main(void *arg)
{
    struct sk_runner *r = arg;
    pthread_mutex_lock(&r->lock);
    while (!r->stop) {
        sk_time_us next = r->drv.run(r->drv.ctx, sk_runner_clock());
        pthread_cond_broadcast(&r->changed);
        pthread_mutex_unlock(&r->lock);
        if (r->drv.wait)
            r->drv.wait(r->drv.ctx, next);
        else
            default_wait(r, next);
        pthread_mutex_lock(&r->lock);
    }
    pthread_cond_broadcast(&r->changed);
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

int sk_runner_start(const struct sk_runner_driver *d, struct sk_runner **out)
{
    if (d == NULL || d->run == NULL || out == NULL || (d->wait == NULL) != (d->wake == NULL))
        return -EINVAL;
    struct sk_runner *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return -ENOMEM;
    r->drv = *d;
    pthread_mutex_init(&r->lock, NULL);
    pthread_mutex_init(&r->sleep_lock, NULL);
    cond_init_monotonic(&r->changed);
    cond_init_monotonic(&r->sleep_cv);
    int e = pthread_create(&r->thread, NULL, runner_main, r);
    if (e != 0) {
        free(r);
        return -e;
    }
    *out = r;
    return 0;
}

void sk_runner_stop(struct sk_runner *r)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->lock);
    r->stop = true;
    pthread_mutex_unlock(&r->lock);
    sk_runner_wake(r);
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->changed);
    pthread_cond_destroy(&r->sleep_cv);
    pthread_mutex_destroy(&r->lock);
    pthread_mutex_destroy(&r->sleep_lock);
    free(r);
}

void sk_runner_lock(struct sk_runner *r)
{
    pthread_mutex_lock(&r->lock);
}

void sk_runner_unlock(struct sk_runner *r)
{
    pthread_mutex_unlock(&r->lock);
}

/* ---- The blocking calls ---- */

/* Takes the lock and brings the stacks to the present, so the call acts at the right time. */
static void begin(struct sk_runner *r)
{
    pthread_mutex_lock(&r->lock);
    r->drv.run(r->drv.ctx, sk_runner_clock());
}

static void end(struct sk_runner *r)
{
    pthread_mutex_unlock(&r->lock);
    sk_runner_wake(r);
}

/* A timeout so long that now + it would wrap is SK_TIME_NEVER, not a deadline in the past. */
static sk_time_us deadline_of(sk_time_us timeout_us)
{
    sk_time_us now = sk_runner_clock();
    if (timeout_us >= SK_TIME_NEVER - now)
        return SK_TIME_NEVER;
    return now + timeout_us;
}

static void waiter_add(struct sk_runner *r, struct waiter *w, struct sk_stack *st, int fd)
{
    *w = (struct waiter){.next = r->waiters, .st = st, .fd = fd};
    r->waiters = w;
}

static void waiter_remove(struct sk_runner *r, struct waiter *w)
{
    struct waiter **pp = &r->waiters;
    while (*pp != w)
        pp = &(*pp)->next;
    *pp = w->next;
}

int sk_runner_waiting(struct sk_runner *r, struct sk_stack *st, int fd)
{
    pthread_mutex_lock(&r->lock);
    int n = 0;
    for (const struct waiter *w = r->waiters; w; w = w->next)
        n += w->st == st && w->fd == fd;
    pthread_mutex_unlock(&r->lock);
    return n;
}

/* Waits (lock held) for the runner's next round; false once the deadline has passed, the
 * runner stops, or another thread closed the descriptor. With kick the runner is woken
 * first: what the caller just did (frames sent, timers armed) needs it; a call that only found
 * nothing to do (-EAGAIN) does not, and must not wake it, or the two threads would spin. */
static bool await_kick(struct sk_runner *r, struct waiter *w, sk_time_us deadline, bool kick)
{
    if (deadline != SK_TIME_NEVER && sk_runner_clock() >= deadline)
        return false;
    if (kick)
        sk_runner_wake(r);
    cond_wait_until(&r->changed, &r->lock, deadline);
    return !r->stop && !w->closed;
}

/* The first wait of a call follows its first attempt, which may have sent something. */
#define await(r, w, dl) await_kick((r), (w), (dl), first_ ? (first_ = false, true) : false)
#define AWAIT_STATE bool first_ = true

int sk_runner_call(struct sk_runner *r, struct sk_stack *st,
                   int (*fn)(struct sk_stack *st, void *arg), void *arg)
{
    begin(r);
    int rc = fn(st, arg);
    end(r);
    return rc;
}

int sk_bsocket(struct sk_runner *r, struct sk_stack *st, int type)
{
    return sk_bsocket_af(r, st, AF_INET, type);
}

int sk_bsocket_af(struct sk_runner *r, struct sk_stack *st, int family, int type)
{
    begin(r);
    int rc = sk_socket_af(st, family, type);
    end(r);
    return rc;
}

int sk_bbind(struct sk_runner *r, struct sk_stack *st, int fd, const struct sockaddr *addr,
             socklen_t addrlen)
{
    begin(r);
    int rc = sk_bind(st, fd, addr, addrlen);
    end(r);
    return rc;
}

int sk_blisten(struct sk_runner *r, struct sk_stack *st, int fd, int backlog)
{
    begin(r);
    int rc = sk_listen(st, fd, backlog);
    end(r);
    return rc;
}

int sk_baccept(struct sk_runner *r, struct sk_stack *st, int fd, struct sockaddr *addr,
               socklen_t *addrlen, sk_time_us timeout_us)
{
    AWAIT_STATE;
    struct waiter w;
    sk_time_us dl = deadline_of(timeout_us);
    begin(r);
    waiter_add(r, &w, st, fd);
    int rc;
    while ((rc = sk_accept(st, fd, addr, addrlen)) == -EAGAIN && await(r, &w, dl))
        ;
    if (w.closed)
        rc = -EBADF;
    waiter_remove(r, &w);
    end(r);
    return rc;
}

/* Linux's __inet_stream_connect: the call that starts the handshake and times out says
 * -EINPROGRESS; a later call waits again and, timing out too, says -EALREADY. */
int sk_bconnect(struct sk_runner *r, struct sk_stack *st, int fd, const struct sockaddr *addr,
                socklen_t addrlen, sk_time_us timeout_us)
{
    AWAIT_STATE;
    struct waiter w;
    sk_time_us dl = deadline_of(timeout_us);
    begin(r);
    waiter_add(r, &w, st, fd);
    int rc = sk_connect(st, fd, addr, addrlen);
    int timed_out = rc;
    while (rc == -EINPROGRESS || rc == -EALREADY) {
        if (!await(r, &w, dl)) {
            rc = w.closed ? -EBADF : timed_out;
            break;
        }
        /* Again on a connecting socket: -EALREADY, 0 once done, or the failure. */
        rc = sk_connect(st, fd, addr, addrlen);
    }
    waiter_remove(r, &w);
    end(r);
    return rc;
}

/* An error is waiting for the socket's next call (POLLERR). */
static bool error_pending(struct sk_stack *st, int fd)
{
    struct sk_pollfd pf = {.fd = fd};
    return sk_poll(st, &pf, 1) == 1 && (pf.revents & SK_POLLERR);
}

/* Sends all len bytes, to addr if not NULL, waiting for room. Once bytes have moved, an error
 * stops the call without being taken: it stays for the next call, as Linux's
 * tcp_sendmsg_locked returns what it copied and leaves sk_err. */
static ssize_t send_all(struct sk_runner *r, struct sk_stack *st, int fd, const void *buf,
                        size_t len, const struct sockaddr *addr, socklen_t addrlen,
                        sk_time_us timeout_us)
{
    struct waiter w;
    sk_time_us dl = deadline_of(timeout_us);
    const uint8_t *p = buf;
    size_t done = 0;
    ssize_t err = 0;
    begin(r);
    waiter_add(r, &w, st, fd);
    bool progress;
    do {
        if (done > 0 && error_pending(st, fd))
            break;
        ssize_t n = sk_sendto(st, fd, done < len ? p + done : p, len - done, 0, addr, addrlen);
        progress = n > 0;
        if (n >= 0) {
            done += (size_t)n;
        } else if (n != -EAGAIN) {
            err = n;
            break;
        }
        if (done == len)
            break;
        err = -EAGAIN;
    } while (await_kick(r, &w, dl, progress));
    if (w.closed)
        err = -EBADF;
    waiter_remove(r, &w);
    end(r);
    /* Nothing moved: the error, or 0 for a zero-length send that met none (err stays 0 then:
     * done == len ends the loop before err is set to -EAGAIN). */
    return done > 0 ? (ssize_t)done : err;
}

ssize_t sk_bsend(struct sk_runner *r, struct sk_stack *st, int fd, const void *buf, size_t len,
                 sk_time_us timeout_us)
{
    return send_all(r, st, fd, buf, len, NULL, 0, timeout_us);
}

ssize_t sk_brecv(struct sk_runner *r, struct sk_stack *st, int fd, void *buf, size_t len,
                 sk_time_us timeout_us)
{
    return sk_brecvfrom(r, st, fd, buf, len, NULL, NULL, timeout_us);
}

ssize_t sk_bsendto(struct sk_runner *r, struct sk_stack *st, int fd, const void *buf, size_t len,
                   const struct sockaddr *addr, socklen_t addrlen)
{
    return send_all(r, st, fd, buf, len, addr, addrlen, SK_TIME_NEVER);
}

ssize_t sk_brecvfrom(struct sk_runner *r, struct sk_stack *st, int fd, void *buf, size_t len,
                     struct sockaddr *addr, socklen_t *addrlen, sk_time_us timeout_us)
{
    AWAIT_STATE;
    struct waiter w;
    sk_time_us dl = deadline_of(timeout_us);
    begin(r);
    waiter_add(r, &w, st, fd);
    ssize_t rc;
    while ((rc = sk_recvfrom(st, fd, buf, len, 0, addr, addrlen)) == -EAGAIN &&
           await(r, &w, dl))
        ;
    if (w.closed)
        rc = -EBADF;
    waiter_remove(r, &w);
    end(r);
    return rc;
}

int sk_bshutdown(struct sk_runner *r, struct sk_stack *st, int fd, int how)
{
    begin(r);
    int rc = sk_shutdown(st, fd, how);
    end(r);
    return rc;
}

/* How long a close lingers (SK_TIME_NEVER: without end), 0 if it does not: SO_LINGER {1, N}
 * with N != 0 (a negative N reads back negative: without end, as Linux), on a connection
 * that is synchronized and has no unread data (with unread data sk_close resets it at once,
 * and Linux's tcp_close does not wait then either). */
static sk_time_us linger_us(struct sk_stack *st, int fd)
{
    struct linger lg;
    socklen_t len = sizeof(lg);
    struct sk_tcp *c = sk_socket_tcp(st, fd);
    if (c == NULL || sk_getsockopt(st, fd, SK_SOL_SOCKET, SK_SO_LINGER, &lg, &len) != 0 ||
        !lg.l_onoff || lg.l_linger == 0 || sk_tcp_readable(c) > 0)
        return 0;
    switch (sk_tcp_get_state(c)) {
    case SK_TCP_ESTABLISHED:
    case SK_TCP_CLOSE_WAIT:
    case SK_TCP_FIN_WAIT_1:
    case SK_TCP_CLOSING:
    case SK_TCP_LAST_ACK:
        break;
    default:
        return 0;
    }
    return lg.l_linger < 0 ? SK_TIME_NEVER : (sk_time_us)lg.l_linger * 1000000u;
}

/* Our FIN is sent and not yet acknowledged: Linux's closing() test in net/ipv4/tcp.c. */
static bool fin_unacked(struct sk_stack *st, int fd)
{
    struct sk_tcp *c = sk_socket_tcp(st, fd);
    if (c == NULL)
        return false;
    enum sk_tcp_state t = sk_tcp_get_state(c);
    return t == SK_TCP_FIN_WAIT_1 || t == SK_TCP_CLOSING || t == SK_TCP_LAST_ACK;
}

/* Threads waiting on fd return -EBADF at once: the socket is gone (Linux's close leaves them
 * waiting on the file until their timeout, which we cannot: the socket is freed here). */
int sk_bclose(struct sk_runner *r, struct sk_stack *st, int fd)
{
    AWAIT_STATE;
    begin(r);
    /* SO_LINGER {1, N}: as Linux's tcp_close -> sk_stream_wait_close, the FIN goes out after
     * the queued data and the call waits until it is acknowledged or N seconds pass; either
     * way the close then goes on as without linger, and returns 0. */
    sk_time_us wait = linger_us(st, fd);
    if (wait != 0 && sk_shutdown(st, fd, SK_SHUT_WR) == 0) {
        struct waiter w;
        sk_time_us dl = deadline_of(wait);
        waiter_add(r, &w, st, fd);
        while (fin_unacked(st, fd) && await(r, &w, dl))
            ;
        waiter_remove(r, &w);
        if (w.closed) { /* another thread closed it meanwhile (the number may be reused) */
            end(r);
            return -EBADF;
        }
    }
    int rc = sk_close(st, fd);
    if (rc == 0) {
        for (struct waiter *w = r->waiters; w; w = w->next)
            if (w->st == st && w->fd == fd)
                w->closed = true;
        pthread_cond_broadcast(&r->changed);
    }
    end(r);
    return rc;
}

int sk_bsetsockopt(struct sk_runner *r, struct sk_stack *st, int fd, int level, int name,
                   const void *val, socklen_t len)
{
    begin(r);
    int rc = sk_setsockopt(st, fd, level, name, val, len);
    end(r);
    return rc;
}

int sk_bgetsockopt(struct sk_runner *r, struct sk_stack *st, int fd, int level, int name,
                   void *val, socklen_t *len)
{
    begin(r);
    int rc = sk_getsockopt(st, fd, level, name, val, len);
    end(r);
    return rc;
}

int sk_bpoll(struct sk_runner *r, struct sk_stack *st, struct sk_pollfd *fds, size_t n,
             sk_time_us timeout_us)
{
    AWAIT_STATE;
    sk_time_us dl = deadline_of(timeout_us);
    begin(r);
    int rc;
    struct waiter w = {.fd = -1}; /* poll watches no single descriptor (POLLNVAL if closed) */
    while ((rc = sk_poll(st, fds, n)) == 0 && await(r, &w, dl))
        ;
    end(r);
    return rc;
}
