/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The command line: global options (before or after the command), which
 * command runs, and its arguments.
 */
#ifndef TRACER_CLI_H
#define TRACER_CLI_H

typedef int (*command_fn)(int argc, char **argv);

struct cli_command {
	command_fn run; /* NULL when --help or --version was handled */
	int argc;
	char **argv; /* argv[0] is the command's name, argv[argc] is NULL */
};

/*
 * Parse @argv: set env from the global options, print --help or --version,
 * find the command and take the global options out of its arguments (in
 * place). Parsing only: nothing is opened or started (main() opens -o FILE),
 * so tests/fuzz can call it over and over (after resetting getopt with
 * optind = 0, and env). Leaves optind at 1 for the command's getopt_long().
 * Returns 0, or EXIT_USAGE after reporting the error.
 */
int cli_parse(int argc, char **argv, struct cli_command *out);

#endif
