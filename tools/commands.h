/* synack CLI: the subcommands. Each takes the arguments after its name (argv[0] is the
 * subcommand's name) and returns the process exit status: 0 success, 1 failure, 2 usage. */
#ifndef SYNACK_TOOLS_COMMANDS_H
#define SYNACK_TOOLS_COMMANDS_H

#include <stdio.h>

#define EXIT_USAGE 2

int cmd_sim(int argc, char **argv);
void cmd_sim_usage(FILE *out);
int cmd_serve(int argc, char **argv);
void cmd_serve_usage(FILE *out);
int cmd_connect(int argc, char **argv);
void cmd_connect_usage(FILE *out);
int cmd_trace(int argc, char **argv);
void cmd_trace_usage(FILE *out);

#endif
