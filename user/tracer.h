/* SPDX-License-Identifier: GPL-2.0 */
/* Global options, exit codes and the backend enum shared by every command. */
#ifndef TRACER_TRACER_H
#define TRACER_TRACER_H

#include <stdbool.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Exit codes, documented in README.md and `tracer --help`. */
enum tracer_exit {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1, /* something failed while running */
	EXIT_USAGE = 2, /* bad command line */
	EXIT_NOSUPPORT = 3, /* missing privilege or kernel feature */
	/* `-- COMMAND` could not run: the codes of env(1), timeout(1), nohup(1) */
	EXIT_CANNOT_EXEC = 126, /* found, but execve() failed */
	EXIT_NOT_FOUND = 127, /* execve() failed with ENOENT */
};

enum backend {
	BACKEND_AUTO,
	BACKEND_FENTRY,
	BACKEND_KPROBE,
	BACKEND_TRACEPOINT,
};

struct global_opts {
	bool json;
	int verbose;
	enum backend backend;
	const char *output; /* -o FILE: tracer's stdout goes there */
};

struct option;
/*
 * A command's getopt_long() tables, so that main() can tell the command's
 * options (and their values) from the global options mixed among them.
 */
struct cmd_options {
	const char *shortopts;
	const struct option *longopts;
};

extern struct global_opts env;

const char *backend_name(enum backend b);
int backend_parse(const char *s, enum backend *out);

#endif
