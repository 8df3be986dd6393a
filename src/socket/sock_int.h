/* Private interface of the socket layer: the descriptor table and one socket's state.
 *
 * socket.c: the table, bind/listen/accept/connect/close, data calls, names.
 * sockopt.c: setsockopt/getsockopt.
 * sockpoll.c: readiness (sk_poll, callbacks).
 */
#ifndef SK_SOCK_INT_H
#define SK_SOCK_INT_H

#include "internal.h"
#include "synack/socket.h"
#include "synack/udp.h"

/* Where a socket is in its life, as the application sees it. */
enum sock_state {
    SS_FREE = 0,      /* table slot unused */
    SS_OPEN,          /* created (maybe bound), never connected */
    SS_LISTENING,
    SS_CONNECTING,    /* TCP handshake under way (or finished, not yet observed) */
    SS_CONNECTED,     /* TCP: observed synchronized; UDP: has a default peer */
};

/* What a UDP socket's callback needs to find its descriptor (the UDP layer keeps one
 * pointer of context). */
struct sk_sock_ref {
    struct sk_stack *st;
    int fd;
};

struct sk_sock {
    uint8_t type;               /* SK_SOCK_STREAM, SK_SOCK_DGRAM; 0 when free */
    uint8_t state;              /* enum sock_state */
    bool bound;                 /* bind() or an implicit bind gave it a port */
    bool port_ref;              /* counted in the stack's per-port use (sk_port_ref) */
    bool port_hold;             /* holds lport against connect's picker (sk_port_hold) */
    bool bind_explicit;         /* UDP: the port came from bind(), not connect/sendto */
    bool reuseaddr, keepalive, nodelay, linger_on;
    bool broadcast;             /* SO_BROADCAST: UDP may send to a broadcast address */
    bool rd_shut, wr_shut;      /* sk_shutdown */
    bool err_seen;              /* the connection's error has been reported once */
    int linger_s;               /* SO_LINGER seconds; < 0: without end (as Linux) */
    uint8_t family;             /* AF_INET or AF_INET6 (sk_socket_af) */
    bool v6only;                /* IPV6_V6ONLY: an AF_INET6 socket that takes no IPv4 */
    struct sk_addr laddr;       /* bound address (unspecified: any; IPv4 held mapped) */
    uint16_t lport;             /* bound port, host order */
    struct sk_addr raddr;       /* UDP default peer */
    uint16_t rport;
    struct sk_tcp *tcp;         /* listener or connection, NULL before listen/connect */
    struct sk_udp *udp;         /* UDP once bound */
    struct sk_sock_ref *udp_ref;/* its callback's context (allocated once readiness matters) */
    int so_error;               /* pending error not from the TCB (negative errno) */
    struct sk_tcp_params params;/* buffer sizes, MSS cap, congestion control */
    uint32_t ka_idle_s, ka_intvl_s, ka_cnt; /* 0: the stack's */
    uint32_t user_timeout_ms;
    /* Low-water marks and TCP_INQ (sockopt.c): 0 means not set. */
    uint32_t notsent_lowat, rcvlowat;
    bool inq;
    sk_socket_callback cb;
    void *cb_ctx;
    unsigned last_revents;
    int fo_qlen;                /* TCP Fast Open: SK_TCP_FASTOPEN on a listener */
    int next_free;              /* free list, while SS_FREE */
};

struct sk_socktab {
    struct sk_sock *v;
    int cap;
    int free_head;              /* -1: none */
    int open;                   /* sockets in use */
};

/* The socket for fd, NULL if fd is not open. */
struct sk_sock *sk_sock_get(struct sk_stack *st, int fd);
/* The connection's error not yet reported, or so_error; 0 if none. */
int sk_sock_pending_error(const struct sk_sock *s);
/* As above, and marks it reported. */
int sk_sock_take_error(struct sk_sock *s);
/* Pulls an ICMP error of a UDP socket into so_error (only a connected one keeps it). */
void sk_sock_udp_sync(struct sk_sock *s);
/* Applies keep-alive, Nagle and the user timeout to the socket's connection. */
void sk_sock_apply_conn_opts(struct sk_sock *s);

/* sockpoll.c */
unsigned sk_sock_revents(struct sk_sock *s);
/* Hooks the socket's TCB or UDP socket to the readiness callback. */
void sk_sock_hook(struct sk_stack *st, int fd);
/* Calls the socket's callback if its readiness changed. */
void sk_sock_notify(struct sk_stack *st, int fd);

#endif
