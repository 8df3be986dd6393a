/* synack CLI: the `synack` program, dispatching to its subcommands.
 *
 *   synack sim [options]     two stacks on a simulated link, drawn as a ladder diagram
 *   synack serve [options]   serve TCP/UDP on a TAP interface (echo, discard, chargen, http)
 *   synack connect [options] one TCP connection over a TAP interface: send, half-close, receive
 *   synack trace [options] FILE  a capture's TCP connections as explained ladder diagrams
 *
 * Exit status: 0 success, 1 failure, 2 usage error (unknown command, option or bad value).
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

#ifndef SYNACK_VERSION
#define SYNACK_VERSION "0.1.0"
#endif

static void usage(FILE *out) {
    fprintf(out,
        "usage: synack <command> [options]\n"
        "\n"
        "synack is a user-space TCP/IP stack (IPv4 and IPv6). This program puts it to work.\n"
        "\n"
        "commands:\n"
        "  sim        run a client and a server stack over a simulated link on a virtual\n"
        "             clock and draw every segment as a ladder diagram; scenarios show the\n"
        "             handshake, simultaneous open and close, half-close, refused and reset\n"
        "             connections and a lost SYN\n"
        "  serve      put synack on a TAP interface: answer ARP and ping, serve TCP and UDP\n"
        "             (echo, discard, chargen) or static files over HTTP/1.1 (http:DIR) to\n"
        "             the Linux kernel or anyone on the link\n"
        "  connect    put synack on a TAP interface and open one TCP connection: send a\n"
        "             file, half-close, write what comes back\n"
        "  trace      read a capture (pcap or pcapng, from tcpdump, Wireshark or sim --pcap)\n"
        "             and draw each TCP connection as a ladder diagram with both sides'\n"
        "             RFC 9293 states and notes in words (English or Chinese)\n"
        "  help       show this help, or a command's: synack help sim\n"
        "\n"
        "options:\n"
        "  -h, --help     show this help\n"
        "  --version      print the version\n"
        "\n"
        "Every command explains itself with --help (synack sim --help).\n"
        "\n"
        "examples:\n"
        "  synack sim\n"
        "  synack sim --scenario simultaneous-open --ascii\n"
        "  synack sim --bytes 100000 --loss 5%% --seed 7 --pcap run.pcap\n"
        "  synack sim --bytes 10M --mtu 1400 --read 4k/10 --loss-s2c 1%% --quiet\n"
        "  synack trace --list capture.pcapng\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("synack %s\n", SYNACK_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0) {
        if (argc < 3) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[2], "sim") == 0) {
            cmd_sim_usage(stdout);
            return 0;
        }
        if (strcmp(argv[2], "serve") == 0) {
            cmd_serve_usage(stdout);
            return 0;
        }
        if (strcmp(argv[2], "connect") == 0) {
            cmd_connect_usage(stdout);
            return 0;
        }
        if (strcmp(argv[2], "trace") == 0) {
            cmd_trace_usage(stdout);
            return 0;
        }
        fprintf(stderr, "synack: no help for unknown command '%s' (see 'synack --help')\n",
                argv[2]);
        return EXIT_USAGE;
    }
    if (strcmp(cmd, "sim") == 0)
        return cmd_sim(argc - 1, argv + 1);
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "connect") == 0)
        return cmd_connect(argc - 1, argv + 1);
    if (strcmp(cmd, "trace") == 0)
        return cmd_trace(argc - 1, argv + 1);
    if (cmd[0] == '-')
        fprintf(stderr, "synack: unknown option '%s' (see 'synack --help')\n", cmd);
    else
        fprintf(stderr, "synack: unknown command '%s' (see 'synack --help')\n", cmd);
    return EXIT_USAGE;
}
