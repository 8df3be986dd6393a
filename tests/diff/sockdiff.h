/* sockdiff: the same socket calls on Linux kernel sockets and on synack sockets, compared step
 * by step (issue 11). The kernel is the oracle; see tests/diff/README.md for the scenario
 * grammar.
 *
 * Layout: parse.c reads scenario files into steps; ops.c runs one step against a backend and
 * turns its result into a string; backend_kernel.c and backend_synack.c are the two backends,
 * each a table of socket primitives that return a count or a negative errno; sockdiff.c runs
 * every scenario in a child process (a crash is caught and reported), compares and reports.
 */
#ifndef SOCKDIFF_H
#define SOCKDIFF_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#define SD_MAX_ARGS 12
#define SD_MAX_STEPS 512
#define SD_MAX_NAMES 32
#define SD_MAX_THREADS 8
#define SD_HOST_A 0
#define SD_HOST_B 1
#define SD_PORT_BASE 5000 /* Pn is port port_base + n: 5000 + n in a namespace of its own */
#define SD_RESULT_LEN 256
#define SD_WAIT_CAP_MS 3000 /* blocking calls without `timeout=` wait at most this */

/* One line of a scenario: `[name =] [Tn:] op args... [!diff-id]`. */
struct sd_step {
    int line;
    char *text;                 /* the line as written, without comment and annotation */
    char *assign;               /* "c" in `c = socket A stream`, or NULL */
    int thread;                 /* n of a `Tn:` prefix, or 0: the main thread */
    char *op;
    char *arg[SD_MAX_ARGS];
    int nargs;
    char *diff_id;              /* the `!id` annotation, or NULL */
};

struct sd_scenario {
    char *name;
    char *desc;
    const char *file;
    int line;
    bool blocking;
    int eph_lo, eph_hi;         /* `ephemeral LO HI`, 0 if not set */
    int port_base;              /* Pn is port_base + n (on the host's loopback, a base of its
                                 * own per scenario keeps clear of the last one's TIME-WAIT) */
    struct sd_step *steps;
    int nsteps;
    int literal_ports[16];      /* numeric ports written in the scenario (printed as numbers) */
    int nliteral;
};

/* Parses a file; appends its scenarios to *v (count *n). path is the name messages and results
 * show (it must outlive the scenarios). Returns 0, or -1 after printing path:line and the
 * problem. */
int sd_parse_file(const char *file, const char *path, struct sd_scenario **v, int *n);
void sd_scenarios_free(struct sd_scenario *v, int n);

/* Or'ed into the type handed to a backend's socket(): make an AF_INET6 socket (socket6). */
#define SD_INET6 0x40000000

/* A backend: socket primitives on one "world" of two hosts. Every call returns what the
 * synack call of the same name returns: a count, a descriptor, or a negative errno. host is
 * SD_HOST_A or SD_HOST_B, the host the socket was made on. timeout_ms applies only in a
 * blocking scenario (-1: wait without limit). */
struct sd_backend {
    const char *name;
    void *ctx;
    uint32_t addr[2];           /* A's and B's IPv4 address, network byte order */
    uint32_t bcast;             /* their network's directed broadcast address, the same */
    uint8_t addr6[2][16];       /* A's and B's IPv6 address (A6N, B6N): fd00:77::1, ::2 */
    int badfd;                  /* a descriptor open on neither host */
    /* A fresh world for one scenario (namespace, stacks); 0, 77 (skip: say why) or -1. */
    int (*begin)(struct sd_backend *b, const struct sd_scenario *sc);
    void (*end)(struct sd_backend *b);
    int (*socket)(void *ctx, int host, int type); /* type | SD_INET6: an AF_INET6 socket */
    int (*bind)(void *ctx, int host, int fd, const struct sockaddr *sa, socklen_t len);
    int (*listen)(void *ctx, int host, int fd, int backlog);
    int (*accept)(void *ctx, int host, int fd, struct sockaddr *sa, socklen_t *len,
                  long timeout_ms);
    int (*connect)(void *ctx, int host, int fd, const struct sockaddr *sa, socklen_t len,
                   long timeout_ms);
    ssize_t (*send)(void *ctx, int host, int fd, const void *buf, size_t len, int flags,
                    long timeout_ms);
    ssize_t (*recv)(void *ctx, int host, int fd, void *buf, size_t len, int flags,
                    long timeout_ms);
    ssize_t (*sendto)(void *ctx, int host, int fd, const void *buf, size_t len, int flags,
                      const struct sockaddr *sa, socklen_t salen, long timeout_ms);
    ssize_t (*recvfrom)(void *ctx, int host, int fd, void *buf, size_t len, int flags,
                        struct sockaddr *sa, socklen_t *salen, long timeout_ms);
    ssize_t (*sendv)(void *ctx, int host, int fd, const struct iovec *iov, int n);
    ssize_t (*recvv)(void *ctx, int host, int fd, const struct iovec *iov, int n);
    int (*shutdown)(void *ctx, int host, int fd, int how);
    int (*close)(void *ctx, int host, int fd);
    int (*setsockopt)(void *ctx, int host, int fd, int level, int name, const void *val,
                      socklen_t len);
    int (*getsockopt)(void *ctx, int host, int fd, int level, int name, void *val,
                      socklen_t *len);
    int (*getsockname)(void *ctx, int host, int fd, struct sockaddr *sa, socklen_t *len);
    int (*getpeername)(void *ctx, int host, int fd, struct sockaddr *sa, socklen_t *len);
    /* revents of one descriptor (0 if none), waiting up to timeout_ms in blocking mode. */
    int (*poll)(void *ctx, int host, int fd, short events, long timeout_ms);
    /* Lets ms milliseconds pass (synack: virtual time; kernel: real time). */
    void (*settle)(void *ctx, int ms);
    /* After each step: deliver what is in flight now (synack: frames due at this instant). */
    void (*after_step)(void *ctx);
};

int sd_backend_kernel(struct sd_backend *b, bool use_netns);
int sd_backend_synack(struct sd_backend *b);
struct sk_config;
/* Switches a synack backend to the blocking layer for a [blocking] scenario. */
int sd_synack_blocking_begin(struct sd_backend *b, const struct sk_config *ca,
                             const struct sk_config *cb);

/* A named socket of a scenario, the same on both backends. */
struct sd_sock {
    char name[32];
    int host;
    int fd;
    bool inet6;                 /* made by socket6: AF_INET6 */
    uint64_t sent, rcvd;        /* stream offsets of the byte pattern */
};

/* One backend's state while it runs a scenario. */
struct sd_run {
    struct sd_backend *b;
    const struct sd_scenario *sc;
    struct sd_sock socks[SD_MAX_NAMES];
    int nsocks;
    pthread_mutex_t lock;       /* guards the names: threads may accept */
    /* Blocking scenarios: the steps running in background threads T1..T8. */
    struct sd_thread *threads[SD_MAX_THREADS + 1];
};

/* Runs one step, writes its normalised result to out. Returns 0; 1 when there is nothing to
 * compare (settle, a step started in a thread); -1 for a step the runner cannot run (unknown
 * name or op: a scenario error, message in out). */
int sd_step_run(struct sd_run *r, const struct sd_step *st, char *out, size_t outlen);
/* Joins what is left of background threads (end of a scenario). */
void sd_run_finish(struct sd_run *r);

/* Real time passing, for `settle` where time is real. */
void sd_sleep_ms(int ms);

/* "ECONNREFUSED" for 111 (a number if unknown). */
const char *sd_errname(int err);

#endif
