/* Internal to the packetdrill adapter (packetdrill/): the state behind packetdrill's userdata,
 * the socket table and the helpers every hook file uses. Nothing here is exported: the object's
 * only symbol is packetdrill_interface_init (exports.map). The files:
 *   adapter.c      the interface, the stack, the virtual clock, the socket calls
 *   sockopt.c      getsockopt/setsockopt/ioctl of what the socket layer holds
 *   tcp_info.c     Linux's struct tcp_info from sk_tcp_get_info (TCP_INFO)
 *   profile.c      profile=freebsd and profile=linux: other stacks' visible defaults
 *   fastopen.c     TCP Fast Open's socket calls (RFC 7413)
 *   epoll.c        epoll_create/epoll_ctl/epoll_wait over the sockets' readiness
 */
#ifndef SYNACK_PD_ADAPTER_INT_H
#define SYNACK_PD_ADAPTER_INT_H

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <arpa/inet.h>
#include <linux/sockios.h>

#include "synack/addr.h"
#include "synack/packetdrill.h"
#include "synack/stack.h"
#include "synack/tcp.h"
#include "synack/trace.h"

#define PD_EXPORT __attribute__((visibility("default")))

/* Virtual time starts here (any origin works; a round one reads well in traces). */
#define PD_TIME_ORIGIN_US 1000000000000ull
#define PD_EPHEMERAL_BIND_LO 33000

struct pd_frame {
    struct pd_frame *next;
    sk_time_us time;
    size_t len;
    uint8_t data[];
};

struct pd_sock {
    struct pd_sock *next;
    int fd;                 /* the host eventfd standing for this socket */
    int family;             /* AF_INET or AF_INET6: the sockaddrs it takes and reports */
    bool nonblock;
    bool bound;
    uint16_t lport;         /* host order */
    struct sk_tcp *tcp;     /* listener or connection, NULL before listen/connect */
    bool listening;
    bool err_reported;      /* the connection's error was returned once (Linux clears sk_err) */
    bool shut_rd, shut_wr;
    /* Socket options: applied to the stack where it has a knob, else remembered for getsockopt. */
    bool reuseaddr, keepalive, nodelay;
    bool cork;                         /* TCP_CORK (sk_tcp_set_cork) */
    bool linger_on;
    int linger_secs;
    int rcvbuf_set, sndbuf_set; /* 0: never set */
    int maxseg_set;
    unsigned user_timeout_ms;
    int ka_idle_s, ka_intvl_s, ka_cnt; /* TCP_KEEPIDLE/INTVL/CNT; 0: the stack's default */
    bool noopt;                        /* FreeBSD TCP_NOOPT */
    int keepinit_s;                    /* FreeBSD TCP_KEEPINIT; 0: none */
    int syncnt;                        /* Linux TCP_SYNCNT; 0: the stack's */
    /* TCP Fast Open (fastopen.c): TCP_FASTOPEN's queue length, TCP_FASTOPEN_CONNECT,
     * TCP_FASTOPEN_KEY, and whether a Fast Open send opened the connection. */
    int fo_qlen;
    bool fo_connect, fo_key_set, fo_used;
    uint8_t fo_key[16];
    /* Socket-level limits (sockopt.c, epoll.c): marks as set (0: none), TCP_INQ, the
     * congestion control asked by name, SO_ZEROCOPY (sends copy; no completions). */
    uint32_t notsent_lowat, rcvlowat;
    bool inq, zerocopy;
    char cc_name[16];
    int ip_tos, ip_pmtudisc;           /* SOL_IP options, kept for getsockopt */
    bool freebind;
    /* Wakeups as Linux's socket callbacks raise them (epoll.c): data or FIN arrived (wake_in),
     * an ACK made room for a writer that had found none (wake_out), the state changed
     * (wake_any). nospace: Linux's SOCK_NOSPACE, a send or a poll found no room. */
    uint64_t wake_in, wake_out, wake_any;
    bool nospace;
    uint64_t seen_rcv;                 /* bytes received + FIN, at the last look */
    uint32_t seen_una;                 /* SND.UNA at the last look */
    int seen_state, seen_err;
};

/* An epoll instance (epoll.c): a host eventfd for its number, and its items. */
struct pd_epoll_item {
    struct pd_epoll_item *next;
    int fd;
    uint32_t events;                   /* interest, EPOLLET/EPOLLONESHOT/EPOLLEXCLUSIVE */
    uint64_t data;
    bool ready;                        /* on the ready list */
    bool disabled;                     /* EPOLLONESHOT fired: nothing until EPOLL_CTL_MOD */
    uint64_t seen_in, seen_out, seen_any;
};
struct pd_epoll {
    struct pd_epoll *next;
    int fd;
    struct pd_epoll_item *items;
};

/* FreeBSD's numbers for its TCP-level options that Linux lacks. packetdrill built on Linux does
 * not know their names; run-packetdrill.sh writes the numbers into a copy of such scripts, and
 * with profile=freebsd they mean what they mean on FreeBSD (on Linux 8 is TCP_WINDOW_CLAMP,
 * which no FreeBSD script sets). */
#define FREEBSD_TCP_NOOPT 8
#define FREEBSD_TCP_KEEPINIT 128

struct pd {
    pthread_mutex_t mu;
    pthread_cond_t cv;       /* broadcast whenever the stack may have changed */
    /* Blocked callers must see a change before virtual time moves on: packetdrill's main
     * thread spins on gettimeofday, and without this could run the clock (and the script)
     * past the moment a blocked call was due to return. */
    pthread_cond_t settle;   /* broadcast when every waiter has looked at the last change */
    uint64_t gen;            /* bumped by every change */
    unsigned waiters;        /* callers in wait_change */
    unsigned stale;          /* waiters that have not woken since the last change */
    /* A call that blocked is done only once packetdrill's thread has read the clock after it
     * returned (that reading is the call's end time): until then time does not move on. */
    bool returning;
    pthread_t returning_thread;
    /* That thread has read the clock on its way out (packetdrill's end_syscall) and is about
     * to take packetdrill's run lock for its bookkeeping (an accepted socket's descriptor):
     * the main thread's next usleep lets it (hook_usleep). */
    bool handoff;
    struct sk_config cfg;
    struct sk_stack *st;     /* created on first need, once the local address is known */
    bool addr_known;         /* cfg.addr is the script's IPv4 address */
    bool addr6_known;        /* cfg.addr6[0] is the script's IPv6 address (cfg.ip6 on) */
    sk_time_us now;
    sk_time_us giveup_us;
    bool freebsd_sockbuf;    /* FreeBSD socket layer: SO_RCVBUF rounded up to the MSS */
    bool qdisc_drop;         /* a host qdisc that drops every packet (`pfifo limit 0`): each
                              * frame is refused (sk_stack_output_refused) */
    bool linux_sockbuf;      /* Linux socket layer: SO_RCVBUF/SO_SNDBUF report twice the set value */
    bool trace;
    uint16_t next_bind_port;
    struct pd_frame *q_head, *q_tail;
    struct pd_sock *socks;
    struct pd_epoll *epolls;           /* epoll.c */
    char *sysctl_path;                 /* sysctl.c: mid-script sysctls */
    long sysctl_off;
};

/* Every hook starts here: the lock, and the socket behind fd (EBADF if none). */
#define LOCKED_SOCK(pd, fd, s)                                                                   \
    struct pd *pd = u;                                                                           \
    pthread_mutex_lock(&pd->mu);                                                                 \
    pd_sysctl_poll(pd);                                                                          \
    struct pd_sock *s = sock_find(pd, fd);                                                       \
    if (s == NULL) {                                                                             \
        pthread_mutex_unlock(&pd->mu);                                                           \
        return fail(EBADF);                                                                      \
    }

/* Extension points. Each returns PD_NOT_MINE for an option it does not handle, else 0 or -1
 * with errno set, as the hook returns it (called with the lock held; the caller unlocks). */
#define PD_NOT_MINE 1
int pd_tcp_info(struct pd *pd, struct pd_sock *s, void *val, socklen_t *len); /* tcp_info.c */
int pd_fastopen_getsockopt(struct pd *pd, struct pd_sock *s, int level, int name, void *val,
                           socklen_t *len);                                  /* fastopen.c */
int pd_fastopen_setsockopt(struct pd *pd, struct pd_sock *s, int level, int name,
                           const void *val, socklen_t len);                  /* fastopen.c */
/* fastopen.c: the tfo= and tfo_key= flags (true if key was one), a listener's options from
 * before listen(), and a send that is Fast Open's (MSG_FASTOPEN, TCP_FASTOPEN_CONNECT, or a
 * write on a socket a Fast Open is connecting): *mine false leaves the send to the caller. */
bool pd_fastopen_option(struct pd *pd, const char *key, const char *val);
/* sysctl.c: the sysctl_file= flag, and applying what the runner appended to it. */
bool pd_sysctl_option(struct pd *pd, const char *key, const char *val);
void pd_sysctl_poll(struct pd *pd);
void pd_fastopen_listen(struct pd *pd, struct pd_sock *s);
ssize_t pd_fastopen_send(struct pd *pd, int fd, const void *buf, size_t len, int flags,
                         const struct sockaddr *addr, socklen_t alen, bool *mine);
void pd_profile_freebsd(struct pd *pd);                                      /* profile.c */
void pd_profile_linux(struct pd *pd);                                        /* profile.c */

int hook_getsockopt(void *u, int fd, int level, int name, void *val, socklen_t *len);
int hook_setsockopt(void *u, int fd, int level, int name, const void *val, socklen_t len);
int hook_ioctl(void *u, int fd, unsigned long req, ...);
/* epoll.c */
int hook_epoll_create(void *u, int size);
int hook_epoll_ctl(void *u, int epfd, int op, int fd, struct epoll_event *ev);
int hook_epoll_wait(void *u, int epfd, struct epoll_event *evs, int max, int timeout);
/* Notes the wakeups the stack's last step raised (called after input and timers). */
void pd_epoll_scan(struct pd *pd);
/* close() of an epoll descriptor: true if fd was one (freed). */
bool pd_epoll_close(struct pd *pd, int fd);
void pd_epoll_free_all(struct pd *pd);
/* A socket closes: it leaves every epoll (Linux's eventpoll_release). */
void pd_epoll_forget(struct pd *pd, int fd);
/* sockopt.c: a socket's options onto its new connection (connect, accept). */
void pd_apply_marks(struct pd_sock *s);
/* adapter.c: a socket's poll(2) revents for the events asked. */
short sock_revents(struct pd_sock *s, short events);

int fail(int err);
void notify(struct pd *pd);
void settle(struct pd *pd);
struct pd_sock *wait_writable(struct pd *pd, int fd);
void wait_change(struct pd *pd);
int ensure_stack(struct pd *pd);
struct pd_sock *sock_find(struct pd *pd, int fd);
int unlock_ret(struct pd *pd, int r);
ssize_t unlock_ret_sz(struct pd *pd, ssize_t r);
int take_error(struct pd_sock *s);
bool is_connecting(const struct pd_sock *s);
int get_int(const void *val, socklen_t len, int *out);
int put_int(void *val, socklen_t *len, int v);
uint32_t sockbuf_bytes(int set);
uint32_t sndbuf_bytes_for(const struct pd *pd, int set);
struct sk_tcp_params sock_params(const struct pd *pd, const struct pd_sock *s);
void apply_keepalive(struct pd_sock *s);
int read_sockaddr(const struct pd_sock *s, const struct sockaddr *addr, socklen_t len,
                  struct sk_addr *ip, uint16_t *port);
void after_connect(struct pd_sock *s);
ssize_t do_send(struct pd *pd, int fd, const void *buf, size_t len, int flags);

#endif
