/* synack CLI: `synack serve`, a server on a real wire.
 *
 * The stack sits on a TAP interface (netcli.c), answers ARP and ping, and serves one TCP port
 * with a small application, many connections at once, until SIGINT or SIGTERM:
 *   echo     every byte back (RFC 862), then closes when the client has closed its side;
 *   discard  reads and forgets (RFC 863);
 *   chargen  sends the rotating 72-character lines of RFC 864 until the client closes;
 *   http:DIR the HTTP/1.1 static file server of examples/httpd_core.c over DIR.
 * UDP on the same port: echo answers each datagram with itself, discard drops it, chargen
 * answers with one line (http serves TCP only: UDP to its port is a closed port). When a
 * connection ends, one line says who it was, the bytes each way and how it ended. The stack
 * allocates through a counting allocator: after each counters dump, one line gives its bytes
 * now and at the peak, per open connection (tests/interop/test_many_clients.sh reads it).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "args.h"
#include "commands.h"
#include "httpd_core.h"
#include "netcli.h"

#define IO_CHUNK 65536
#define CHARGEN_LINE 74 /* 72 printable characters, CR, LF */

enum app { APP_ECHO, APP_DISCARD, APP_CHARGEN, APP_HTTP };
static const char *const app_names[] = {"echo", "discard", "chargen", "http"};

/* The stacks' memory, counted by their allocator (sk_config.alloc): bytes held now, the peak,
 * and the connections open at the peak. One for the whole process, shared by every stack
 * (`serve --threads` runs several on this allocator, hence atomics). open: connections
 * accepted and not yet reaped. */
struct serve_mem {
    _Atomic uint64_t alloc_bytes, alloc_peak, open_at_peak;
    _Atomic uint64_t open;
};

struct serve;
struct conn {
    struct serve *s;
    struct sk_tcp *c;
    struct sk_addr raddr;       /* either family */
    uint16_t rport;
    uint64_t in, out;
    uint64_t chargen_pos;
    bool eof, shut, done;
    /* echo: the stack had no room for the send buffer (sk_tcp_send -ENOBUFS); the bytes wait
     * unread in the receive buffer and the connection is tried again after the next events. */
    bool waiting;
    struct conn *next_waiting;
    struct conn *next_done;
    struct conn *prev, *next; /* every connection not yet reaped */
};

struct serve {
    unsigned index;            /* its thread: 0 is the main thread */
    pthread_t thread;
    char *stats_text;          /* its counters, formatted on its own thread (--threads) */
    atomic_uint dump_seen;     /* the dump request it last answered */
    enum app app;
    struct net_env env;
    struct sk_tcp *listener;   /* echo, discard, chargen */
    struct sk_udp *udp;
    struct httpd *httpd;       /* http: its own listener and connections */
    struct conn *done;
    struct conn *all;
    struct conn *waiting; /* echo connections whose send the stack refused for now */
    uint64_t served;
    struct serve_mem *mem;
    uint8_t buf[IO_CHUNK];
};

/* RFC 864: line i is the 72 characters starting at printable character i mod 95. */
static uint8_t chargen_byte(uint64_t pos)
{
    uint64_t line = pos / CHARGEN_LINE, col = pos % CHARGEN_LINE;
    if (col == 72)
        return '\r';
    if (col == 73)
        return '\n';
    return (uint8_t)(' ' + (line + col) % 95);
}

/* The stream repeats every 95 lines: one period followed by IO_CHUNK bytes more, so that any
 * chunk is one copy from the table (two divisions a byte would cap the stream near 1 Gbit/s). */
#define CHARGEN_PERIOD (95 * CHARGEN_LINE)
static uint8_t chargen_table[CHARGEN_PERIOD + IO_CHUNK];
static pthread_once_t chargen_once = PTHREAD_ONCE_INIT;

static void chargen_init(void)
{
    for (size_t k = 0; k < sizeof(chargen_table); k++)
        chargen_table[k] = chargen_byte(k);
}

static void chargen_fill(uint64_t pos, uint8_t *buf, size_t len)
{
    pthread_once(&chargen_once, chargen_init);
    while (len > 0) {
        size_t n = len < IO_CHUNK ? len : IO_CHUNK;
        memcpy(buf, chargen_table + pos % CHARGEN_PERIOD, n);
        buf += n;
        pos += n;
        len -= n;
    }
}

/* echo: every byte back. Only what can be sent back is read: the rest waits in the receive
 * buffer and the window closes, so a client that does not read slows down instead of filling
 * us. The bytes are looked at first (sk_tcp_peek) and consumed only once sk_tcp_send took
 * them: when the stack has no room for the send buffer (-ENOBUFS, the stack's
 * max_buffer_bytes reached), nothing is lost; the connection waits on serve's list and is
 * tried again after the next events, when other connections may have freed theirs. */
static void echo_pump(struct conn *k)
{
    struct serve *s = k->s;
    struct sk_tcp *c = k->c;
    for (;;) {
        size_t room = sk_tcp_writable(c);
        if (room > sizeof(s->buf))
            room = sizeof(s->buf);
        if (room == 0)
            break;
        ssize_t n = sk_tcp_peek(c, s->buf, room);
        if (n == 0) {
            k->eof = true;
            break;
        }
        if (n < 0)
            break;
        ssize_t w = sk_tcp_send(c, s->buf, (size_t)n);
        if (w == -ENOBUFS && !k->waiting) {
            k->waiting = true;
            k->next_waiting = s->waiting;
            s->waiting = k;
        }
        if (w <= 0)
            break;
        sk_tcp_recv(c, s->buf, (size_t)w); /* the same bytes, now queued to go back */
        k->in += (uint64_t)w;
        k->out += (uint64_t)w;
    }
}

static void conn_pump(struct conn *k)
{
    struct serve *s = k->s;
    struct sk_tcp *c = k->c;
    while (s->app != APP_ECHO) {
        ssize_t n = sk_tcp_recv(c, s->buf, sizeof(s->buf));
        if (n == 0) {
            k->eof = true;
            break;
        }
        if (n < 0)
            break;
        k->in += (uint64_t)n;
    }
    if (s->app == APP_ECHO)
        echo_pump(k);
    if (s->app == APP_CHARGEN && !k->eof) {
        size_t room;
        while ((room = sk_tcp_writable(c)) > 0) {
            if (room > sizeof(s->buf))
                room = sizeof(s->buf);
            chargen_fill(k->chargen_pos, s->buf, room);
            ssize_t w = sk_tcp_send(c, s->buf, room);
            if (w <= 0)
                break;
            k->chargen_pos += (uint64_t)w;
            k->out += (uint64_t)w;
        }
    }
    /* The client closed its side and everything owed is queued: our FIN follows it. */
    if (k->eof && !k->shut) {
        k->shut = true;
        sk_tcp_shutdown(c);
    }
}

static void on_conn(struct sk_tcp *c, unsigned ev, void *ctx)
{
    struct conn *k = ctx;
    (void)ev;
    if (!k->done)
        conn_pump(k);
    enum sk_tcp_state state = sk_tcp_get_state(c);
    if (!k->done && (state == SK_TCP_CLOSED || state == SK_TCP_TIME_WAIT)) {
        k->done = true;
        k->next_done = k->s->done;
        k->s->done = k;
    }
}

static void on_listen(struct sk_tcp *l, unsigned ev, void *ctx)
{
    struct serve *s = ctx;
    if (!(ev & SK_EV_ACCEPTABLE))
        return;
    struct sk_tcp *c;
    while (sk_tcp_accept(l, &c) == 0) {
        struct conn *k = calloc(1, sizeof(*k));
        if (!k) {
            sk_tcp_abort(c);
            continue;
        }
        struct sk_tcp_info info;
        sk_tcp_get_info(c, &info);
        k->s = s;
        k->c = c;
        sk_tcp_get_addrs(c, NULL, &k->raddr);
        k->rport = info.rport;
        atomic_fetch_add(&s->mem->open, 1);
        k->next = s->all;
        if (s->all)
            s->all->prev = k;
        s->all = k;
        sk_tcp_set_callback(c, on_conn, k);
        on_conn(c, sk_tcp_events(c), k);
    }
}

static void on_udp(struct sk_udp *u, unsigned ev, void *ctx)
{
    struct serve *s = ctx;
    if (!(ev & SK_EV_READABLE))
        return;
    struct sk_addr addr;
    uint16_t port;
    ssize_t n;
    while ((n = sk_udp_recvfrom_addr(u, s->buf, sizeof(s->buf), &addr, &port)) >= 0) {
        if (s->app == APP_ECHO) {
            sk_udp_sendto_addr(u, s->buf, (size_t)n, &addr, port);
        } else if (s->app == APP_CHARGEN) {
            chargen_fill(0, s->buf, CHARGEN_LINE);
            sk_udp_sendto_addr(u, s->buf, CHARGEN_LINE, &addr, port);
        }
    }
}

static const char *how_it_ended(int err)
{
    switch (err) {
    case 0: return "closed";
    case -ECONNRESET: return "reset by peer";
    case -ETIMEDOUT: return "timed out";
    case -ECONNABORTED: return "aborted";
    default: return strerror(-err);
    }
}

/* The line a connection leaves when it ends. */
static void report_conn(struct serve *s, const struct sk_addr *raddr, uint16_t rport,
                        uint64_t in, uint64_t out, int err)
{
    char a[SK_ADDR_STRLEN + 8];
    net_endpoint_str(raddr, rport, a, sizeof(a));
    printf("%s in %" PRIu64 " out %" PRIu64 " bytes, %s\n", a, in, out, how_it_ended(err));
    fflush(stdout);
    s->served++;
}

static void on_http_end(const struct httpd_conn_end *e, void *ctx)
{
    report_conn(ctx, &e->raddr, e->rport, e->in, e->out, e->err);
}

/* The echo connections the stack refused a send buffer: tried again (on_conn), and off the
 * list unless refused again. */
static void retry_waiting(struct serve *s)
{
    struct conn *k = s->waiting;
    s->waiting = NULL;
    while (k) {
        struct conn *next = k->next_waiting;
        k->waiting = false;
        on_conn(k->c, sk_tcp_events(k->c), k);
        k = next;
    }
}

static void reap_done(struct serve *s)
{
    while (s->done) {
        struct conn *k = s->done;
        s->done = k->next_done;
        for (struct conn **p = &s->waiting; k->waiting && *p; p = &(*p)->next_waiting)
            if (*p == k) {
                *p = k->next_waiting;
                k->waiting = false;
                break;
            }
        atomic_fetch_sub(&s->mem->open, 1);
        report_conn(s, &k->raddr, k->rport, k->in, k->out, sk_tcp_error(k->c));
        sk_tcp_close(k->c);
        if (k->prev)
            k->prev->next = k->next;
        else
            s->all = k->next;
        if (k->next)
            k->next->prev = k->prev;
        free(k);
    }
}

/* Frees the servers (each HTTP server before the stack that holds its sockets, the stacks
 * with their connections' TCBs), the group, and the first queue's TAP and capture last. */
static void serve_free_all(struct serve **all, unsigned n, struct sk_loop_group *group)
{
    sk_loop_group_free(group);
    for (unsigned k = n; k-- > 0;) {
        struct serve *s = all[k];
        if (!s)
            continue;
        httpd_free(s->httpd);
        if (s->env.loop || s->env.tap)
            net_teardown("serve", &s->env);
        while (s->all) {
            struct conn *c = s->all;
            s->all = c->next;
            free(c);
        }
        free(s->stats_text);
        free(s);
    }
}

/* sk_config.alloc: malloc, realloc and free, counting the bytes the stack holds (it passes
 * each block's size when it frees or resizes one) and their peak, with the connections open
 * at that peak. */
static void *counting_alloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
    struct serve_mem *m = ctx;
    void *p = NULL;
    if (new_size == 0)
        free(ptr);
    else if ((p = realloc(ptr, new_size)) == NULL)
        return NULL;
    uint64_t now = atomic_fetch_add(&m->alloc_bytes, (uint64_t)new_size - old_size) +
                   new_size - old_size;
    uint64_t peak = atomic_load(&m->alloc_peak);
    while (now > peak && !atomic_compare_exchange_weak(&m->alloc_peak, &peak, now))
        ;
    if (now > peak)
        atomic_store(&m->open_at_peak, atomic_load(&m->open));
    return p;
}

/* One line after the counters: the stack's memory now and at its peak, per connection. */
static void print_memory(struct serve_mem *m)
{
    uint64_t now = atomic_load(&m->alloc_bytes), peak = atomic_load(&m->alloc_peak);
    uint64_t open = atomic_load(&m->open), open_peak = atomic_load(&m->open_at_peak);
    fprintf(stderr,
            "synack serve: memory: the stack holds %" PRIu64 " bytes with %" PRIu64
            " connections open (%" PRIu64 " per connection); peak %" PRIu64 " bytes with %" PRIu64
            " open (%" PRIu64 " per connection)\n",
            now, open, open ? now / open : 0, peak, open_peak, open_peak ? peak / open_peak : 0);
    fflush(stderr);
}

void cmd_serve_usage(FILE *out)
{
    fprintf(out,
        "usage: synack serve --tap IFNAME --addr A.B.C.D/PREFIX --port N [--app APP] [options]\n"
        "\n"
        "Puts synack on a TAP interface and serves until SIGINT or SIGTERM: it answers ARP and\n"
        "ping, serves TCP on port N with APP (many connections at once) and UDP on the same\n"
        "port. Each connection that ends prints one line: the peer, the bytes each way and how\n"
        "it ended (closed, reset by peer, timed out). After the counters (--stats, SIGUSR1)\n"
        "one line gives the stack's memory: bytes now and at the peak, per open connection.\n"
        "Up to 65536 connections at once (the stack's default is 4096).\n"
        "\n"
        "apps (--app):\n"
        "  echo      send every byte back (RFC 862); UDP: each datagram back\n"
        "  discard   read and forget (RFC 863)\n"
        "  chargen   send RFC 864 character lines until the client closes\n"
        "  http:DIR  HTTP/1.1 static files from directory DIR: GET and HEAD, keep-alive,\n"
        "            Content-Length, 404 (TCP only; the request count is printed at exit)\n"
        "\n"
        "options:\n"
        "  --port N             the TCP and UDP port (1-65535)\n"
        "  --app APP            echo, discard, chargen or http:DIR (default echo)\n"
        "  --threads N          N threads, each with its own stack on its own queue of a\n"
        "                       multi-queue TAP; frames are steered to the stack owning\n"
        "                       their connection (default 1; 1 to 64)\n"
        NET_OPTIONS_HELP
        "  -h, --help           show this help\n"
        "\n"
        "example (as root; see README for the whole walkthrough):\n"
        "  ip tuntap add dev tap0 mode tap && ip addr add 10.77.0.1/24 dev tap0 && ip link set tap0 up\n"
        "  synack serve --tap tap0 --addr 10.77.0.2/24 --port 7 --app echo\n"
        "  ping 10.77.0.2;  echo hello | nc -N 10.77.0.2 7\n"
        "  synack serve --tap tap0 --addr 10.77.0.2/24 --port 80 --app http:/var/www\n"
        "  curl http://10.77.0.2/index.html\n");
}

#define usage_error(...) args_usage_error("serve", __VA_ARGS__)

enum { OPT_PORT = 2000, OPT_APP, OPT_THREADS };

#define STATS_TEXT_BYTES 16384
static atomic_uint dump_gen; /* bumped by thread 0 to ask every thread for its counters */

/* Listens on port (TCP and UDP, or the HTTP server) in s's stack. 0 or a negative errno. */
static int serve_listen(struct serve *s, uint16_t port, const char *http_root)
{
    struct sk_stack *st = s->env.st;
    int err = 0;
    if (s->app == APP_HTTP) {
        s->httpd = httpd_new(st, port, http_root, &err);
        if (s->httpd)
            httpd_set_end_callback(s->httpd, on_http_end, s);
        return err;
    }
    err = sk_tcp_listen(st, port, 128, &s->listener);
    if (!err)
        err = sk_udp_bind(st, port, &s->udp);
    if (!err) {
        sk_tcp_set_callback(s->listener, on_listen, s);
        sk_udp_set_callback(s->udp, on_udp, s);
    }
    return err;
}

/* Thread 0 answers SIGUSR1: with one thread it prints; with more it asks each thread for its
 * counters (they format their own stack's, which no other thread may read) and prints the
 * sums and each thread's. */
static void dump_all(struct serve **all, unsigned n)
{
    char *texts[64];
    if (n == 1) {
        net_print_stats(stderr, &all[0]->env);
        print_memory(all[0]->mem);
        return;
    }
    unsigned gen = atomic_fetch_add(&dump_gen, 1) + 1;
    for (unsigned i = 1; i < n; i++)
        sk_loop_wake(all[i]->env.loop);
    net_format_stats(&all[0]->env, all[0]->stats_text, STATS_TEXT_BYTES);
    for (unsigned i = 1; i < n; i++)
        for (int t = 0; t < 2000 && atomic_load(&all[i]->dump_seen) != gen; t++)
            nanosleep(&(struct timespec){0, 1000000}, NULL);
    for (unsigned i = 0; i < n; i++)
        texts[i] = all[i]->stats_text;
    net_print_stats_texts(stderr, all[0]->env.started, texts, n);
    print_memory(all[0]->mem);
}

struct serve_run {
    struct serve **all;
    unsigned n;
    struct serve *s;
    int rc;
};

static void *serve_run(void *arg)
{
    struct serve_run *run = arg;
    struct serve *s = run->s;
    while (!net_stop_signal) {
        int r = sk_loop_run_once(s->env.loop, SK_TIME_NEVER);
        if (r < 0) {
            fprintf(stderr, "synack serve: %s: %s\n", sk_tap_name(s->env.tap), strerror(-r));
            run->rc = 1;
            net_stop_signal = 1;
            break;
        }
        if (s->httpd)
            httpd_poll(s->httpd);
        retry_waiting(s);
        reap_done(s);
        if (s->index == 0 && net_dump_request) {
            net_dump_request = 0;
            dump_all(run->all, run->n);
        }
        unsigned gen = atomic_load(&dump_gen);
        if (s->index != 0 && atomic_load(&s->dump_seen) != gen) {
            net_format_stats(&s->env, s->stats_text, STATS_TEXT_BYTES);
            atomic_store(&s->dump_seen, gen);
        }
    }
    return NULL;
}

int cmd_serve(int argc, char **argv)
{
    static const struct option longopts[] = {
        NET_LONGOPTS, {"port", required_argument, NULL, OPT_PORT},
        {"app", required_argument, NULL, OPT_APP}, {"threads", required_argument, NULL, OPT_THREADS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct net_opts no;
    net_opts_init(&no);
    uint64_t port = 0;
    enum app app = APP_ECHO;
    const char *http_root = NULL;
    opterr = 0;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        const char *why = NULL;
        if (net_opt(&no, ch, optarg, &why)) {
        } else if (ch == OPT_PORT) {
            why = args_u64(optarg, 1, 65535, &port);
        } else if (ch == OPT_THREADS) {
            uint64_t t;
            why = args_u64(optarg, 1, 64, &t);
            no.threads = (unsigned)t;
        } else if (ch == OPT_APP) {
            bool found = false;
            http_root = NULL;
            for (int i = 0; i < APP_HTTP; i++)
                if (strcmp(optarg, app_names[i]) == 0) {
                    app = (enum app)i;
                    found = true;
                }
            if (strncmp(optarg, "http:", 5) == 0) {
                struct stat sb;
                http_root = optarg + 5;
                if (*http_root == '\0')
                    return usage_error("--app http:DIR needs a directory");
                if (stat(http_root, &sb) != 0)
                    return usage_error("--app http: '%s': %s", http_root, strerror(errno));
                if (!S_ISDIR(sb.st_mode))
                    return usage_error("--app http: '%s' is not a directory", http_root);
                app = APP_HTTP;
                found = true;
            }
            if (!found)
                return usage_error("unknown app '%s': echo, discard, chargen or http:DIR",
                                   optarg);
        } else if (ch == 'h') {
            cmd_serve_usage(stdout);
            return 0;
        } else if (ch == ':') {
            return usage_error("option '%s' needs a value", argv[optind - 1]);
        } else {
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
        if (why)
            return args_bad_value("serve", longopts, ch, optarg, why);
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    if (port == 0)
        return usage_error("--port N is required");

    unsigned n = no.threads;
    /* --html records one stack's trace: one thread, so that nothing else writes the model. */
    if (no.html && n > 1)
        return usage_error("--html takes one thread (--threads 1)");
    struct serve *all[64] = {0};
    struct serve_run runs[64];
    for (unsigned i = 0; i < n; i++) {
        all[i] = calloc(1, sizeof(*all[i]));
        if (all[i])
            all[i]->stats_text = calloc(1, STATS_TEXT_BYTES);
        if (!all[i] || !all[i]->stats_text) {
            fprintf(stderr, "synack serve: out of memory\n");
            serve_free_all(all, n, NULL);
            return 1;
        }
        all[i]->index = i;
        all[i]->app = app;
    }
    struct serve_mem mem = {0}; /* outlives the stacks: they are freed before we return */
    for (unsigned i = 0; i < n; i++)
        all[i]->mem = &mem;
    struct sk_config cfg;
    sk_config_default(&cfg);
    cfg.alloc = counting_alloc;
    cfg.alloc_ctx = &mem;
    cfg.sndbuf_bytes = 1024 * 1024;
    cfg.rcvbuf_bytes = 1024 * 1024;
    cfg.rto_min_us = 200000; /* as Linux: recovers from loss on a LAN in good time */
    /* A server: as many connections as one client address has ports toward our port (the
     * stack's 4096 would refuse the 4,097th of 10,000 clients at once, issue 12). Each costs
     * its TCB; the table of connections, 8 bytes a slot, is 512 KiB from the start. */
    cfg.max_connections = 65536;
    struct run_model *model = net_html_begin("serve", &no, &cfg);
    int rc = net_setup("serve", &no, &cfg, &all[0]->env);
    for (unsigned i = 1; rc == 0 && i < n; i++)
        rc = net_setup_queue("serve", &no, &cfg, &all[0]->env, i, &all[i]->env);
    struct sk_loop_group *group = NULL;
    if (rc == 0 && n > 1) {
        struct sk_loop *loops[64];
        int err = 0;
        for (unsigned i = 0; i < n; i++)
            loops[i] = all[i]->env.loop;
        group = sk_loop_group_new(loops, n, &err);
        if (!group) {
            fprintf(stderr, "synack serve: cannot steer between threads: %s\n", strerror(-err));
            rc = 1;
        }
    }
    for (unsigned i = 0; rc == 0 && i < n; i++) {
        int err = serve_listen(all[i], (uint16_t)port, http_root);
        if (err) {
            fprintf(stderr, "synack serve: cannot listen on port %u: %s\n", (unsigned)port,
                    strerror(-err));
            rc = 1;
        }
    }
    if (rc) {
        serve_free_all(all, n, group);
        net_html_end("serve", &no, model);
        return rc;
    }
    struct serve *s = all[0];
    char a[32];
    net_addr_str(no.addr, a, sizeof(a));
    const uint8_t *m = sk_stack_config(s->env.st)->mac;
    printf("synack serve: %s%s%s on %s:%u (%s), interface %s, mac "
           "%02x:%02x:%02x:%02x:%02x:%02x\n",
           app_names[app], http_root ? " " : "", http_root ? http_root : "", a, (unsigned)port,
           s->udp ? "tcp and udp" : "tcp", sk_tap_name(s->env.tap), m[0], m[1], m[2], m[3],
           m[4], m[5]);
    fflush(stdout);

    for (unsigned i = 0; i < n; i++)
        runs[i] = (struct serve_run){.all = all, .n = n, .s = all[i]};
    unsigned started = 1;
    for (; started < n; started++)
        if (pthread_create(&all[started]->thread, NULL, serve_run, &runs[started]) != 0) {
            fprintf(stderr, "synack serve: cannot start thread %u\n", started);
            net_stop_signal = 1;
            rc = 1;
            break;
        }
    if (rc == 0)
        serve_run(&runs[0]);
    net_stop_signal = 1;
    for (unsigned i = 1; i < started; i++) {
        sk_loop_wake(all[i]->env.loop);
        pthread_join(all[i]->thread, NULL);
    }
    uint64_t served = 0, requests = 0, not_found = 0;
    for (unsigned i = 0; i < n; i++) {
        rc |= runs[i].rc;
        served += all[i]->served;
        if (all[i]->httpd) {
            requests += httpd_requests(all[i]->httpd);
            not_found += httpd_not_found(all[i]->httpd);
        }
    }
    fprintf(stderr, "synack serve: stopping after %" PRIu64 " connection%s", served,
            served == 1 ? "" : "s");
    if (s->httpd)
        fprintf(stderr, ", %" PRIu64 " HTTP request%s (%" PRIu64 " not found)", requests,
                requests == 1 ? "" : "s", not_found);
    fputc('\n', stderr);
    if (no.stats) {
        char *texts[64];
        for (unsigned i = 0; i < n; i++) {
            net_format_stats(&all[i]->env, all[i]->stats_text, STATS_TEXT_BYTES);
            texts[i] = all[i]->stats_text;
        }
        net_print_stats_texts(stderr, s->env.started, texts, n);
        print_memory(s->mem);
    }
    serve_free_all(all, n, group);
    if (net_html_end("serve", &no, model) != 0)
        rc = 1;
    return rc;
}
