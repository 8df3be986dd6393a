/* synack CLI: `synack connect`, a client on a real wire.
 *
 * The stack sits on a TAP interface (netcli.c), opens one TCP connection, sends a file (or
 * standard input), closes its sending side (half-close, RFC 9293 §3.6), and writes what comes
 * back to a file (or standard output) until the peer closes too. Exit status 0 after a clean
 * close; 1 with a message when the connection is refused, reset, or times out.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "netcli.h"

#define IO_CHUNK 65536

struct client {
    struct net_env env;
    struct sk_tcp *c;
    int in_fd, out_fd;       /* -1: nothing to send / discard what comes back */
    bool in_eof, shut, peer_eof, connected;
    int io_err;              /* errno of a failed read or write of the files */
    size_t spos, slen;
    uint64_t sent, rcvd;
    uint8_t sbuf[IO_CHUNK], rbuf[IO_CHUNK];
};

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void pump(struct client *cl)
{
    struct sk_tcp *c = cl->c;
    if (cl->io_err)
        return;
    for (;;) {
        ssize_t n = sk_tcp_recv(c, cl->rbuf, sizeof(cl->rbuf));
        if (n == 0)
            cl->peer_eof = true;
        if (n <= 0)
            break;
        cl->rcvd += (uint64_t)n;
        if (cl->out_fd >= 0) {
            int e = write_all(cl->out_fd, cl->rbuf, (size_t)n);
            if (e) {
                cl->io_err = -e;
                return;
            }
        }
    }
    while (!cl->shut) {
        if (cl->spos == cl->slen) {
            if (cl->in_eof || cl->in_fd < 0) {
                /* Everything is queued: the FIN follows it (half-close). */
                cl->shut = true;
                sk_tcp_shutdown(c);
                break;
            }
            ssize_t r = read(cl->in_fd, cl->sbuf, sizeof(cl->sbuf));
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                cl->io_err = errno;
                return;
            }
            if (r == 0)
                cl->in_eof = true;
            cl->spos = 0;
            cl->slen = (size_t)r;
            continue;
        }
        ssize_t w = sk_tcp_send(c, cl->sbuf + cl->spos, cl->slen - cl->spos);
        if (w <= 0)
            break;
        cl->spos += (size_t)w;
        cl->sent += (uint64_t)w;
    }
}

static void on_conn(struct sk_tcp *c, unsigned ev, void *ctx)
{
    struct client *cl = ctx;
    (void)c;
    if (ev & SK_EV_CONNECTED)
        cl->connected = true;
    pump(cl);
}

void cmd_connect_usage(FILE *out)
{
    fprintf(out,
        "usage: synack connect --tap IFNAME --addr A.B.C.D/PREFIX --to IP:PORT [options]\n"
        "\n"
        "Puts synack on a TAP interface and opens one TCP connection to IP:PORT: sends FILE\n"
        "(or standard input), closes its sending side, and writes what comes back until the\n"
        "peer closes too. Exit status 0 after a clean close, 1 with a message when the\n"
        "connection is refused, reset or times out, or there is no route to IP; 2 for a usage\n"
        "error (a bad option, or a --send FILE that cannot be read).\n"
        "\n"
        "options:\n"
        "  --to IP:PORT         where to connect; an IPv6 address in brackets:\n"
        "                       --to [2001:db8::1]:5000\n"
        "  --send FILE|-        what to send (- is standard input; default nothing)\n"
        "  --recv FILE|-        where to write what comes back (default - , standard output)\n"
        "  --timeout SEC        give up connecting after SEC seconds (default 10); an\n"
        "                       established connection gives up after 30 s without progress\n"
        NET_OPTIONS_HELP
        "  -h, --help           show this help\n"
        "\n"
        "example (as root):\n"
        "  synack connect --tap tap0 --addr 10.77.0.2/24 --to 10.77.0.1:5000 --send big.bin\n");
}

#define usage_error(...) args_usage_error("connect", __VA_ARGS__)

static const char *error_text(int err)
{
    switch (err) {
    case -ECONNREFUSED: return "connection refused";
    case -ECONNRESET: return "connection reset by peer";
    case -ETIMEDOUT: return "connection timed out";
    case -EHOSTUNREACH: return "host unreachable";
    case -ENETUNREACH: return "network unreachable";
    default: return strerror(-err);
    }
}

enum { OPT_TO = 2000, OPT_SEND, OPT_RECV, OPT_TIMEOUT };

int cmd_connect(int argc, char **argv)
{
    static const struct option longopts[] = {
        NET_LONGOPTS, {"to", required_argument, NULL, OPT_TO},
        {"send", required_argument, NULL, OPT_SEND}, {"recv", required_argument, NULL, OPT_RECV},
        {"timeout", required_argument, NULL, OPT_TIMEOUT}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct net_opts no;
    net_opts_init(&no);
    const char *to = NULL, *send_path = NULL, *recv_path = "-";
    struct sk_addr raddr = sk_addr_from_v4(0);
    uint16_t rport = 0;
    double timeout_s = 10;
    opterr = 0;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        const char *why = NULL;
        if (net_opt(&no, ch, optarg, &why)) {
        } else if (ch == OPT_TO) {
            to = optarg;
            why = net_parse_endpoint(optarg, &raddr, &rport);
        } else if (ch == OPT_SEND) {
            send_path = optarg;
        } else if (ch == OPT_RECV) {
            recv_path = optarg;
        } else if (ch == OPT_TIMEOUT) {
            why = args_double(optarg, 0.001, 3600, &timeout_s);
        } else if (ch == 'h') {
            cmd_connect_usage(stdout);
            return 0;
        } else if (ch == ':') {
            return usage_error("option '%s' needs a value", argv[optind - 1]);
        } else {
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
        if (why)
            return args_bad_value("connect", longopts, ch, optarg, why);
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    if (!to)
        return usage_error("--to IP:PORT or --to [IPV6]:PORT is required");

    struct client *cl = calloc(1, sizeof(*cl));
    if (!cl) {
        fprintf(stderr, "synack connect: out of memory\n");
        return 1;
    }
    cl->in_fd = -1;
    cl->out_fd = -1;
    if (send_path) {
        cl->in_fd = strcmp(send_path, "-") == 0 ? 0 : open(send_path, O_RDONLY | O_CLOEXEC);
        if (cl->in_fd < 0) {
            /* A file named on the command line that is not there is a bad argument: the
             * usage status, like any other value the command cannot take. */
            int e = errno;
            free(cl);
            return usage_error("--send '%s': cannot read it: %s", send_path, strerror(e));
        }
    }
    cl->out_fd = strcmp(recv_path, "-") == 0
                     ? 1
                     : open(recv_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (cl->out_fd < 0) {
        int e = errno;
        if (cl->in_fd > 0)
            close(cl->in_fd);
        free(cl);
        return usage_error("--recv '%s': cannot write it: %s", recv_path, strerror(e));
    }

    struct sk_config cfg;
    sk_config_default(&cfg);
    cfg.sndbuf_bytes = 256 * 1024;
    cfg.rcvbuf_bytes = 256 * 1024;
    cfg.rto_min_us = 200000;
    cfg.user_timeout_us = 30000000; /* RFC 9293 §3.8.3: 30 s without progress ends it */
    struct run_model *model = net_html_begin("connect", &no, &cfg);
    int rc = net_setup("connect", &no, &cfg, &cl->env);
    char dst[SK_ADDR_STRLEN + 8];
    net_endpoint_str(&raddr, rport, dst, sizeof(dst));
    int err = 0;
    sk_time_us start = sk_loop_clock(), established = 0;
    sk_time_us give_up = start + (sk_time_us)(timeout_s * 1e6);
    /* An IPv6 address is tentative until duplicate address detection ends (RFC 4862 §5.4):
     * until then there is no source for the destination (-ENETUNREACH); the loop runs on,
     * within the timeout, and connect is tried again. */
    while (rc == 0 &&
           (err = sk_tcp_connect_addr(cl->env.st, 0, &raddr, rport, NULL, &cl->c)) ==
               -ENETUNREACH &&
           !sk_addr_is_v4(&raddr) && sk_loop_clock() < give_up && !net_stop_signal)
        sk_loop_run_once(cl->env.loop, 100000);
    if (rc == 0 && err != 0) {
        fprintf(stderr, "synack connect: cannot connect to %s: %s\n", to, strerror(-err));
        rc = 1;
    }
    if (rc == 0) {
        sk_tcp_set_callback(cl->c, on_conn, cl);
        pump(cl);
        for (;;) {
            sk_time_us now = sk_loop_clock();
            if (!cl->connected && now >= give_up) {
                fprintf(stderr, "synack connect: %s: timed out after %g s without an answer\n",
                        to, timeout_s);
                rc = 1;
                break;
            }
            int r = sk_loop_run_once(cl->env.loop, cl->connected ? SK_TIME_NEVER : give_up - now);
            if (r < 0) {
                fprintf(stderr, "synack connect: %s: %s\n", sk_tap_name(cl->env.tap),
                        strerror(-r));
                rc = 1;
                break;
            }
            if (cl->connected && !established)
                established = sk_loop_clock();
            pump(cl);
            if (net_dump_request) {
                net_dump_request = 0;
                net_print_stats(stderr, &cl->env);
            }
            if (net_stop_signal) {
                fprintf(stderr, "synack connect: interrupted\n");
                rc = 1;
                break;
            }
            if (cl->io_err) {
                fprintf(stderr, "synack connect: %s\n", strerror(cl->io_err));
                rc = 1;
                break;
            }
            if ((err = sk_tcp_error(cl->c)) != 0) {
                fprintf(stderr, "synack connect: %s: %s\n", to, error_text(err));
                rc = 1;
                break;
            }
            enum sk_tcp_state s = sk_tcp_get_state(cl->c);
            if (cl->peer_eof && cl->shut && (s == SK_TCP_TIME_WAIT || s == SK_TCP_CLOSED))
                break;
        }
    }
    if (rc == 0) {
        double secs = (double)(sk_loop_clock() - (established ? established : start)) / 1e6;
        fprintf(stderr,
                "synack connect: %s: sent %" PRIu64 ", received %" PRIu64
                " bytes in %.3f s (%.1f Mbit/s), closed\n",
                to, cl->sent, cl->rcvd, secs,
                secs > 0 ? (double)(cl->sent + cl->rcvd) * 8 / secs / 1e6 : 0.0);
    }
    if (cl->env.st && no.stats)
        net_print_stats(stderr, &cl->env);
    if (cl->c)
        sk_tcp_close(cl->c);
    if (cl->env.st)
        net_teardown("connect", &cl->env);
    if (net_html_end("connect", &no, model) != 0)
        rc = 1;
    if (cl->in_fd > 0)
        close(cl->in_fd);
    if (cl->out_fd > 1)
        close(cl->out_fd);
    free(cl);
    return rc;
}
