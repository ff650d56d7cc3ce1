// SPDX-License-Identifier: GPL-2.0
/*
 * main()'s command line: global options before the command, the command,
 * and the global options taken out of its arguments (cli_parse()). Input:
 * argv[1..] of "tracer ...", NUL-separated. Besides the sanitizers, checks:
 * - the exit code is 0 or 2;
 * - the command's argv is a subsequence of the input strings, in order;
 * - a string that lost letters (global options pulled out of "-abc") is
 *   still one cluster of short options ("-ac", never "--..." or "-");
 * - parsing the command's argv again takes nothing more out of it and
 *   changes no global option: what the command sees has no global left.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tracer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* @s, shortened from @orig by taking letters out, is "-" + some of them. */
static void check_cluster(const char *s, const char *orig)
{
	const char *o = orig + 1;

	FUZZ_CHECK(s[0] == '-' && orig[0] == '-');
	FUZZ_CHECK(s[1] && s[1] != '-');
	for (s++; *s; s++) {
		o = strchr(o, *s);
		FUZZ_CHECK(o);
		o++;
	}
}

static void check_subsequence(const struct fuzz_args *a,
			      const struct cli_command *cmd)
{
	int j = 0;

	FUZZ_CHECK(cmd->argc >= 1 && !cmd->argv[cmd->argc]);
	for (int i = 0; i < cmd->argc; i++) {
		while (j < a->argc && a->strings[j] != cmd->argv[i])
			j++;
		FUZZ_CHECK(j < a->argc);
		if (strcmp(a->strings[j], a->orig[j]) != 0)
			check_cluster(a->strings[j], a->orig[j]);
		j++;
	}
}

/* "tracer COMMAND ARGS", ARGS what the first parse left: nothing to take. */
static void check_idempotent(const struct cli_command *cmd)
{
	const struct global_opts before = env;
	struct cli_command again;
	struct fuzz_args b;
	size_t len = 0;
	uint8_t *buf, *p;
	int err;

	for (int i = 0; i < cmd->argc; i++)
		len += strlen(cmd->argv[i]) + 1;
	p = buf = malloc(len ? len : 1);
	FUZZ_CHECK(buf);
	for (int i = 0; i < cmd->argc; i++) {
		size_t n = strlen(cmd->argv[i]) + 1;

		memcpy(p, cmd->argv[i], n);
		p += n;
	}
	fuzz_args_init(&b, (const char *[]){ "tracer" }, 1, buf, len);
	optind = 0;
	err = cli_parse(b.argc, b.argv, &again);
	FUZZ_CHECK(err == EXIT_OK && again.run == cmd->run);
	FUZZ_CHECK(again.argc == cmd->argc);
	for (int i = 0; i < again.argc; i++)
		FUZZ_CHECK(!strcmp(again.argv[i], cmd->argv[i]));
	FUZZ_CHECK(env.json == before.json && env.verbose == before.verbose &&
		   env.backend == before.backend &&
		   env.output == before.output);
	fuzz_args_free(&b);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cli_command cmd;
	struct fuzz_args a;
	int err;

	fuzz_args_init(&a, (const char *[]){ "tracer" }, 1, data, size);
	fuzz_reset();
	err = cli_parse(a.argc, a.argv, &cmd);
	FUZZ_CHECK(err == EXIT_OK || err == EXIT_USAGE);
	if (!err && cmd.run) {
		check_subsequence(&a, &cmd);
		check_idempotent(&cmd);
	}
	fuzz_args_free(&a);
	return 0;
}
