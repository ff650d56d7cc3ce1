// SPDX-License-Identifier: GPL-2.0
/*
 * tracer: eBPF-assisted kernel behaviour tracer.
 *
 * main() parses the global options and hands the rest of the command line to
 * one command from the dispatch table, bpftool-style (unique prefixes work).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "output.h"
#include "pktleak.h"
#include "probe.h"
#include "tfo.h"
#include "tracer.h"

struct global_opts env = { .backend = BACKEND_AUTO };

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "tfo", cmd_tfo, "where the kernel rejects MSG_FASTOPEN sends" },
	{ "pktleak", cmd_pktleak,
	  "frames that reach a packet socket before bind, and each fix" },
	{ "probe", cmd_probe,
	  "what this kernel allows, which backend auto picks" },
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: tracer [-j|--json] [-v] [--backend auto|fentry|kprobe|tracepoint]\n"
		"              COMMAND [options]\n"
		"       tracer COMMAND --help\n"
		"       tracer --version\n\n"
		"Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-8s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(out,
		"\nGlobal options:\n"
		"  -j, --json           one JSON object per line on stdout\n"
		"  -v, --verbose        explain backend choices, show libbpf output\n"
		"      --backend NAME   auto (default: fentry, then kprobe, then tracepoint)\n"
		"  -h, --help           this help\n"
		"  -V, --version        print the version\n\n"
		"Exit status: 0 success, 1 runtime failure, 2 usage error,\n"
		"             3 missing privilege or kernel feature.\n");
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG && env.verbose < 2)
		return 0;
	if (!env.verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static const struct command *find_command(const char *name)
{
	const struct command *match = NULL;
	size_t len = strlen(name);

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(commands[i].name, name))
			return &commands[i];
		if (!strncmp(commands[i].name, name, len)) {
			if (match)
				return NULL; /* ambiguous prefix */
			match = &commands[i];
		}
	}
	return match;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "backend", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{},
	};
	const struct command *cmd;
	int c;

	opterr = 0;
	/* '+': stop at the command name; its options are its own. */
	while ((c = getopt_long(argc, argv, "+jvhV", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			env.json = true;
			break;
		case 'v':
			env.verbose++;
			break;
		case 'b':
			if (backend_parse(optarg, &env.backend))
				return fail(
					EXIT_USAGE,
					"unknown backend '%s' (auto, fentry, kprobe, tracepoint)",
					optarg);
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("tracer %s (libbpf %s)\n", TRACER_VERSION,
			       libbpf_version_string());
			return EXIT_OK;
		default:
			return fail(EXIT_USAGE,
				    "unknown option '%s' (see tracer --help)",
				    argv[optind - 1]);
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = find_command(argv[optind]);
	if (!cmd)
		return fail(EXIT_USAGE,
			    "unknown command '%s' (see tracer --help)",
			    argv[optind]);

	libbpf_set_print(libbpf_print);
	/* Each command sees argv[0] == its own name and parses from optind 1. */
	argc -= optind;
	argv += optind;
	optind = 1;
	return cmd->run(argc, argv);
}
