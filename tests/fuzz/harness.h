/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the libFuzzer targets in tests/fuzz/ share: an argv decoded from the
 * fuzz input, the reset of the global state parsing leaves behind, and
 * checks that abort (a crash to libFuzzer) when a property does not hold.
 */
#ifndef TRACER_FUZZ_HARNESS_H
#define TRACER_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"

/* At most this many strings are taken from one input. */
#define FUZZ_MAX_ARGS 64

/*
 * An argv: @fixed strings, then the input split at NUL bytes (a last string
 * without a NUL counts too). Each string is a separate allocation, so ASan
 * sees a read past its end; the parser may rewrite argv and the strings in
 * place, @strings keeps them for the checks and for free().
 */
struct fuzz_args {
	int argc;
	char **argv; /* given to the parser: argv[argc] is NULL */
	char **strings; /* the same strings, in the original order */
	char **orig; /* their content before parsing */
};

void fuzz_args_init(struct fuzz_args *a, const char *const *fixed, int nfixed,
		    const uint8_t *data, size_t size);
void fuzz_args_free(struct fuzz_args *a);

/* What one run of the program starts with: getopt, env. */
void fuzz_reset(void);

/* Abort, the failed condition in the report (SUMMARY: check failed ...). */
#define FUZZ_CHECK(cond)                                      \
	do {                                                  \
		if (!(cond))                                  \
			fuzz_fail(__FILE__, __LINE__, #cond); \
	} while (0)
__attribute__((noreturn)) void fuzz_fail(const char *file, int line,
					 const char *cond);

/* A command: its name, what cli_parse() dispatches to, its own parser. */
struct fuzz_cmd {
	const char *name;
	command_fn run;
	int (*parse)(int argc, char **argv);
};

/*
 * The target of one command: argv "tracer NAME <input>", parsed as main()
 * does (cli_parse()), then by the command's own parser, checking the exit
 * codes they may return.
 */
int fuzz_command(const uint8_t *data, size_t size, const struct fuzz_cmd *c);

#endif
