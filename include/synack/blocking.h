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
 * Timeouts are in microseconds, measured from the call: 0 makes one attempt and does not wait,
 * SK_TIME_NEVER waits without limit, anything else waits at most that long (the runner's clock;
 * a wait may end a little late, never early). As with SO_RCVTIMEO/SO_SNDTIMEO on Linux, a
 * timed-out recv/accept/poll returns -EAGAIN (poll: 0), a send that moved some bytes returns
 * their count, and connect -EINPROGRESS (the handshake goes on; see sk_bconnect).
 * Errors are negative errno values, as in synack/socket.h.
 *
 * Several threads may wait on the same socket. Each looks again after every round of the
 * runner, in no fixed order: when data arrives, whichever looks first takes it (all of it, up
 * to its length) and the others wait on. sk_bshutdown wakes them as sk_shutdown's effects say
 * (SHUT_RD: recv returns 0; SHUT_WR: send returns -EPIPE, or the count moved before).
 * sk_bclose from another thread makes every sk_baccept, sk_bconnect, sk_brecv(from) and
 * sk_bsend(to) waiting on that descriptor return -EBADF (a send: the count, if it moved
 * bytes) at once, also if the number is reused by a new socket before they wake; the kernel
 * instead leaves them blocked until their timeout, as the socket outlives close() while a call
 * holds it (docs/api.md, Differences from Linux, close-while-blocked). A sk_bpoll waiting on
 * it sees SK_POLLNVAL at its next look, unless the number was reused by then. Closing with sk_close through sk_runner_call does not tell waiters:
 * they see -EBADF at their next look, unless the number was reused in between. No memory of
 * a waiting call is freed by another thread: each waiter's record lives in its own frame.
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
/* How many sk_baccept, sk_bconnect, sk_brecv(from) and sk_bsend(to) calls are waiting on fd
 * now (for tests and diagnostics: a thread that counts on another being blocked). */
SK_API int sk_runner_waiting(struct sk_runner *r, struct sk_stack *st, int fd);
/* Runs fn(st, arg) with the lock held, after bringing the stack's time up to now; returns
 * what fn returned. For any non-blocking call (sk_socket, sk_bind, sk_setsockopt, ...). */
SK_API int sk_runner_call(struct sk_runner *r, struct sk_stack *st,
                          int (*fn)(struct sk_stack *st, void *arg), void *arg);

/* The blocking calls: the socket call of the same name, made with the lock held after the
 * stacks are brought up to the present, waiting while it would return -EAGAIN. These never
 * wait and return what the socket call does: */
SK_API int sk_bsocket(struct sk_runner *r, struct sk_stack *st, int type);
SK_API int sk_bsocket_af(struct sk_runner *r, struct sk_stack *st, int family, int type);
SK_API int sk_bbind(struct sk_runner *r, struct sk_stack *st, int fd, const struct sockaddr *addr,
                    socklen_t addrlen);
SK_API int sk_blisten(struct sk_runner *r, struct sk_stack *st, int fd, int backlog);
/* Waits for a connection to accept: the new descriptor, -EAGAIN at the timeout, -EBADF if
 * another thread closes the listener, or sk_accept's error. */
SK_API int sk_baccept(struct sk_runner *r, struct sk_stack *st, int fd, struct sockaddr *addr,
                      socklen_t *addrlen, sk_time_us timeout_us);
/* Starts the handshake if none is under way, and waits for it: 0 when connected (also when a
 * handshake started earlier has completed since), the failure (-ECONNREFUSED, -ETIMEDOUT,
 * ...), sk_connect's error (-EISCONN, ...), -EBADF if another thread closes the socket. At the
 * timeout the handshake goes on and the call returns -EINPROGRESS if it started it, -EALREADY
 * if it found it under way (Linux's __inet_stream_connect: a blocking connect that times out
 * says EINPROGRESS, and the next ones EALREADY); calling again waits again. */
SK_API int sk_bconnect(struct sk_runner *r, struct sk_stack *st, int fd,
                       const struct sockaddr *addr, socklen_t addrlen, sk_time_us timeout_us);
/* Sends all len bytes, waiting for room as needed: len; or, if the timeout passes, an error
 * comes (a reset, SHUT_WR) or another thread closes the socket, the count moved before it,
 * the error left pending for the next call (as Linux's tcp_sendmsg returns what it copied
 * and keeps sk_err); or, if nothing moved, -EAGAIN at the timeout, -EBADF after a close, or
 * the error. len 0 returns 0, or the error sk_send would report. UDP: one datagram, as
 * sk_send. */
SK_API ssize_t sk_bsend(struct sk_runner *r, struct sk_stack *st, int fd, const void *buf,
                        size_t len, sk_time_us timeout_us);
/* Waits for at least one byte: the count (at most len), 0 at end of stream (at once, also
 * after SHUT_RD), -EAGAIN at the timeout, -EBADF if another thread closes the socket, or the
 * error. With len 0: 0 once data is there, -EAGAIN at the timeout (Linux returns 0 there). */
SK_API ssize_t sk_brecv(struct sk_runner *r, struct sk_stack *st, int fd, void *buf, size_t len,
                        sk_time_us timeout_us);
/* sk_sendto that waits without limit as sk_bsend does (a blocking socket without
 * SO_SNDTIMEO): UDP sends one datagram or fails at once; TCP ignores addr and sends all. */
SK_API ssize_t sk_bsendto(struct sk_runner *r, struct sk_stack *st, int fd, const void *buf,
                          size_t len, const struct sockaddr *addr, socklen_t addrlen);
/* sk_brecv with the sender's address (sk_recvfrom). */
SK_API ssize_t sk_brecvfrom(struct sk_runner *r, struct sk_stack *st, int fd, void *buf,
                            size_t len, struct sockaddr *addr, socklen_t *addrlen,
                            sk_time_us timeout_us);
SK_API int sk_bshutdown(struct sk_runner *r, struct sk_stack *st, int fd, int how);
/* sk_close; with SO_LINGER {1, N}, N != 0, on a synchronized connection without unread data
 * it first sends the FIN (after the queued data) and waits until the FIN is acknowledged or N
 * seconds pass (a negative N: without end), as Linux's close does; the connection then goes
 * on closing in the background. Returns 0 either way (as Linux), or -EBADF. Threads waiting on fd
 * return -EBADF (see above). */
SK_API int sk_bclose(struct sk_runner *r, struct sk_stack *st, int fd);
SK_API int sk_bsetsockopt(struct sk_runner *r, struct sk_stack *st, int fd, int level, int name,
                          const void *val, socklen_t len);
SK_API int sk_bgetsockopt(struct sk_runner *r, struct sk_stack *st, int fd, int level, int name,
                          void *val, socklen_t *len);
/* sk_poll that waits until at least one entry is ready or the timeout: the count (0 at the
 * timeout; n 0 just waits), or sk_poll's error. A closed or bad descriptor is ready at once
 * (SK_POLLNVAL); an entry with a negative fd is ignored, as in sk_poll. */
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
