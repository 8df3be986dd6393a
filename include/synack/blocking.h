/* synack: blocking calls, with the stack on its own thread.
 *
 * A runner owns one thread that drives one or more stacks: it feeds them the frames that
 * arrive, runs their timers on CLOCK_MONOTONIC (microseconds), and sleeps until the next
 * deadline, a frame, or a wake-up. Application threads call the sk_b* functions below, which
 * take the runner's lock, make the non-blocking socket call, and wait on a condition variable
 * (releasing the lock) until the call can complete or the timeout passes.
 *
 * Thread-safety:
 *   - sk_b* calls, sk_runner_lock/unlock and sk_runner_wake: from any thread, concurrently.
 *   - any other sk_* function of a stack the runner drives: only between sk_runner_lock and
 *     sk_runner_unlock (sk_runner_call does it for you), or from callbacks (socket readiness,
 *     trace, output), which run on the runner's thread with the lock held. Callbacks must not
 *     call sk_b* functions or sk_runner_lock (the lock is not recursive).
 *   - sk_runner_stop: from an application thread, once; no call may be in progress.
 *
 * Timeouts are in microseconds: 0 does not wait, SK_TIME_NEVER waits without limit. As with
 * SO_RCVTIMEO/SO_SNDTIMEO, a timed-out recv/send/accept/poll returns -EAGAIN (a send that moved
 * some bytes returns their count) and a timed-out connect -EINPROGRESS (the handshake goes on).
 * Errors are negative errno values, as in synack/socket.h.
 */
#ifndef SYNACK_BLOCKING_H
#define SYNACK_BLOCKING_H

#include "synack/memlink.h"
#include "synack/socket.h"
#include "synack/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sk_runner;

/* How the runner's thread moves frames. run() is called with the lock held: it hands the
 * stacks every frame that has arrived and runs their timers at `now`, and returns the next
 * deadline (SK_TIME_NEVER: none). wait() is called without the lock: it sleeps until the
 * deadline, until a frame may be there, or until wake() is called (from any thread). wait and
 * wake may both be NULL: the runner then sleeps on a condition variable (for drivers without a
 * descriptor, such as the in-memory link). */
struct sk_runner_driver {
    sk_time_us (*run)(void *ctx, sk_time_us now);
    void (*wait)(void *ctx, sk_time_us deadline);
    void (*wake)(void *ctx);
    void *ctx;
};

/* CLOCK_MONOTONIC in microseconds: the runner's clock. */
SK_API sk_time_us sk_runner_clock(void);

/* Starts the thread. The driver (and what its ctx points to) must outlive the runner.
 * 0, -ENOMEM, or the error of pthread_create. */
SK_API int sk_runner_start(const struct sk_runner_driver *d, struct sk_runner **out);
/* Stops and joins the thread and frees the runner (not the stacks or the driver). */
SK_API void sk_runner_stop(struct sk_runner *r);
/* Takes / releases the lock that guards every stack of the runner. */
SK_API void sk_runner_lock(struct sk_runner *r);
SK_API void sk_runner_unlock(struct sk_runner *r);
/* Makes the runner's thread look again (after calls that may have moved a deadline earlier;
 * the sk_b* calls and sk_runner_call do it themselves). */
SK_API void sk_runner_wake(struct sk_runner *r);
/* Runs fn(st, arg) with the lock held, after bringing the stack's time up to now; returns
 * what fn returned. For any non-blocking call (sk_socket, sk_bind, sk_setsockopt, ...). */
SK_API int sk_runner_call(struct sk_runner *r, struct sk_stack *st,
                          int (*fn)(struct sk_stack *st, void *arg), void *arg);

/* The blocking calls: the socket call of the same name, waiting while it would return -EAGAIN
 * (-EINPROGRESS/-EALREADY for connect). */
SK_API int sk_bsocket(struct sk_runner *r, struct sk_stack *st, int type);
SK_API int sk_bbind(struct sk_runner *r, struct sk_stack *st, int fd, const struct sockaddr *addr,
                    socklen_t addrlen);
SK_API int sk_blisten(struct sk_runner *r, struct sk_stack *st, int fd, int backlog);
SK_API int sk_baccept(struct sk_runner *r, struct sk_stack *st, int fd, struct sockaddr *addr,
                      socklen_t *addrlen, sk_time_us timeout_us);
/* Waits for the handshake: 0 when connected, the failure (-ECONNREFUSED, -ETIMEDOUT, ...),
 * or -EINPROGRESS at the timeout. */
SK_API int sk_bconnect(struct sk_runner *r, struct sk_stack *st, int fd,
                       const struct sockaddr *addr, socklen_t addrlen, sk_time_us timeout_us);
/* Sends all len bytes (waiting for room as needed): len, or the bytes moved before an error
 * or the timeout, or the error if none moved. */
SK_API ssize_t sk_bsend(struct sk_runner *r, struct sk_stack *st, int fd, const void *buf,
                        size_t len, sk_time_us timeout_us);
/* Waits for at least one byte: the count, 0 at end of stream, or an error. */
SK_API ssize_t sk_brecv(struct sk_runner *r, struct sk_stack *st, int fd, void *buf, size_t len,
                        sk_time_us timeout_us);
SK_API ssize_t sk_bsendto(struct sk_runner *r, struct sk_stack *st, int fd, const void *buf,
                          size_t len, const struct sockaddr *addr, socklen_t addrlen);
SK_API ssize_t sk_brecvfrom(struct sk_runner *r, struct sk_stack *st, int fd, void *buf,
                            size_t len, struct sockaddr *addr, socklen_t *addrlen,
                            sk_time_us timeout_us);
SK_API int sk_bshutdown(struct sk_runner *r, struct sk_stack *st, int fd, int how);
SK_API int sk_bclose(struct sk_runner *r, struct sk_stack *st, int fd);
SK_API int sk_bsetsockopt(struct sk_runner *r, struct sk_stack *st, int fd, int level, int name,
                          const void *val, socklen_t len);
SK_API int sk_bgetsockopt(struct sk_runner *r, struct sk_stack *st, int fd, int level, int name,
                          void *val, socklen_t *len);
/* sk_poll that waits until at least one entry is ready or the timeout: the count (0 at the
 * timeout). */
SK_API int sk_bpoll(struct sk_runner *r, struct sk_stack *st, struct sk_pollfd *fds, size_t n,
                    sk_time_us timeout_us);

/* A ready-made driver: two stacks joined by an in-memory link (synack/memlink.h), run in
 * real time by one runner. For tests and examples of threaded programs without a network.
 * The configurations' output and link_type are taken over (bare IP frames). */
struct sk_runner_pair {
    struct sk_runner *runner;
    struct sk_stack *stack[2];
    struct sk_memlink *link;
    /* private */
    struct sk_runner_driver drv_;
    struct sk_runner_pair_port { struct sk_runner_pair *pair; int side; } port_[2];
};
/* 0 or a negative errno. faults may be NULL (a clean link with 100 µs of delay). A
 * configuration without a secret (sk_config.secret) gets one from getrandom(2). */
SK_API int sk_runner_pair_start(struct sk_runner_pair *p, const struct sk_config *a,
                                const struct sk_config *b, const struct sk_memlink_faults *faults,
                                uint64_t seed);
/* Stops the runner, then frees both stacks and the link. */
SK_API void sk_runner_pair_stop(struct sk_runner_pair *p);

#ifdef __cplusplus
}
#endif
#endif
