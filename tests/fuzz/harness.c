// SPDX-License-Identifier: GPL-2.0
#include <getopt.h>
#include <sanitizer/common_interface_defs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tracer.h"

static char *dup_bytes(const uint8_t *p, size_t len)
{
	char *s = malloc(len + 1);

	if (!s)
		abort();
	memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

static void add(struct fuzz_args *a, char *s)
{
	a->strings[a->argc] = s;
	a->orig[a->argc] = strdup(s);
	if (!a->orig[a->argc])
		abort();
	a->argv[a->argc] = s;
	a->argc++;
}

void fuzz_args_init(struct fuzz_args *a, const char *const *fixed, int nfixed,
		    const uint8_t *data, size_t size)
{
	size_t max = (size_t)nfixed + FUZZ_MAX_ARGS + 1;
	const uint8_t *end = data + size;

	a->argc = 0;
	a->argv = calloc(max, sizeof(*a->argv));
	a->strings = calloc(max, sizeof(*a->strings));
	a->orig = calloc(max, sizeof(*a->orig));
	if (!a->argv || !a->strings || !a->orig)
		abort();
	for (int i = 0; i < nfixed; i++)
		add(a, dup_bytes((const uint8_t *)fixed[i], strlen(fixed[i])));
	while (data < end && a->argc < nfixed + FUZZ_MAX_ARGS) {
		const uint8_t *nul = memchr(data, '\0', (size_t)(end - data));
		size_t len = nul ? (size_t)(nul - data) : (size_t)(end - data);

		add(a, dup_bytes(data, len));
		data += len + 1;
	}
	a->argv[a->argc] = NULL;
}

void fuzz_args_free(struct fuzz_args *a)
{
	for (int i = 0; i < a->argc; i++) {
		free(a->strings[i]);
		free(a->orig[i]);
	}
	free(a->strings);
	free(a->orig);
	free(a->argv);
}

void fuzz_reset(void)
{
	/* glibc: optind 0 starts getopt afresh (no pointer into old argv). */
	optind = 0;
	opterr = 1;
	optopt = '?';
	optarg = NULL;
	env = (struct global_opts){ .backend = BACKEND_AUTO };
}

void fuzz_fail(const char *file, int line, const char *cond)
{
	char msg[512];

	/* To the sanitizers' report fd: libFuzzer keeps it when it closes
	 * stderr (-close_fd_mask=2). */
	snprintf(msg, sizeof(msg), "check failed at %s:%d: %s", file, line,
		 cond);
	__sanitizer_report_error_summary(msg);
	abort();
}

int fuzz_command(const uint8_t *data, size_t size, const struct fuzz_cmd *c)
{
	const char *fixed[] = { "tracer", c->name };
	struct cli_command cmd;
	struct fuzz_args a;
	int err;

	fuzz_args_init(&a, fixed, 2, data, size);
	fuzz_reset();
	err = cli_parse(a.argc, a.argv, &cmd);
	FUZZ_CHECK(err == EXIT_OK || err == EXIT_USAGE);
	if (!err) {
		FUZZ_CHECK(cmd.run == c->run);
		err = c->parse(cmd.argc, cmd.argv);
		/* -1: --help was printed */
		FUZZ_CHECK(err == EXIT_OK || err == -1 || err == EXIT_USAGE);
	}
	fuzz_args_free(&a);
	return 0;
}
