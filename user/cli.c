// SPDX-License-Identifier: GPL-2.0
/*
 * The command line, bpftool-style: global options, then one command from the
 * dispatch table (unique prefixes work), then its arguments. Global options
 * may also follow the command, anywhere before `--` or the command's first
 * operand: they are taken out of the command's argv before the command
 * parses it, so no command knows about them.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "cli.h"
#include "output.h"
#include "pktleak.h"
#include "probe.h"
#include "tfo.h"
#include "tracer.h"

struct global_opts env = { .backend = BACKEND_AUTO };

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const struct cmd_options *opts;
	const char *summary;
};

static const struct command commands[] = {
	{ "tfo", cmd_tfo, &tfo_options,
	  "where the kernel rejects MSG_FASTOPEN sends" },
	{ "pktleak", cmd_pktleak, &pktleak_options,
	  "frames that reach a packet socket before bind, and each fix" },
	{ "probe", cmd_probe, &probe_options,
	  "what this kernel allows, which backend auto picks" },
};

enum { OPT_BACKEND = 256 };

/* The global options that may also follow the command. */
static const struct option global_longopts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "backend", required_argument, NULL, OPT_BACKEND },
	{ "output", required_argument, NULL, 'o' },
	{},
};
static const char global_shortopts[] = "jvo:";

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: tracer [global options] COMMAND [options] [global options]\n"
		"       tracer COMMAND --help\n"
		"       tracer --version\n\n"
		"Commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-8s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(out,
		"\nGlobal options (before or after COMMAND, never after --):\n"
		"  -j, --json           one JSON object per line on stdout\n"
		"  -v, --verbose        explain backend choices, show libbpf output\n"
		"      --backend NAME   auto (default: fentry, then kprobe, then\n"
		"                       tracepoint), fentry, kprobe or tracepoint\n"
		"  -o, --output FILE    write tracer's output to FILE, not stdout (a\n"
		"                       traced COMMAND keeps stdout)\n"
		"  -h, --help           this help\n"
		"  -V, --version        print the version\n\n"
		"Exit status: 0 success (with -- COMMAND: COMMAND's exit status),\n"
		"             1 runtime failure, 2 usage error,\n"
		"             3 missing privilege or kernel feature,\n"
		"             126 COMMAND cannot be executed, 127 COMMAND not found.\n");
}

static const struct command *find_command(const char *name)
{
	const struct command *match = NULL;
	size_t len = strlen(name);

	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
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

/* One global option @c with its value @arg (NULL if it takes none). */
static int apply_global(int c, const char *arg)
{
	switch (c) {
	case 'j':
		env.json = true;
		return 0;
	case 'v':
		env.verbose++;
		return 0;
	case 'o':
		env.output = arg;
		return 0;
	case OPT_BACKEND:
		if (backend_parse(arg, &env.backend))
			return fail(
				EXIT_USAGE,
				"unknown backend '%s' (auto, fentry, kprobe, tracepoint)",
				arg);
		return 0;
	default:
		return fail(EXIT_USAGE, "bad global option");
	}
}

/* ---------------------------------- global options after the command */

/*
 * getopt_long()'s lookup of "--NAME" (@len bytes, no "=value"): the exact
 * name, else the one option NAME is a prefix of; NULL when none or several.
 */
static const struct option *lookup_long(const struct option *opts,
					const char *name, size_t len,
					int *matches)
{
	const struct option *prefix = NULL;

	for (; opts && opts->name; opts++) {
		if (strncmp(opts->name, name, len) != 0)
			continue;
		if (strlen(opts->name) == len) {
			*matches = 1;
			return opts;
		}
		prefix = opts;
		(*matches)++;
	}
	return prefix;
}

/* Where "--NAME[=value]" belongs, the command's options winning a tie. */
static const struct option *which_long(const struct cmd_options *co,
				       const char *name, size_t len,
				       bool *global)
{
	int cmd_n = 0, glob_n = 0;
	const struct option *o = lookup_long(co->longopts, name, len, &cmd_n);
	const struct option *g =
		lookup_long(global_longopts, name, len, &glob_n);

	*global = false;
	if (o && cmd_n == 1 && strlen(o->name) == len)
		return o;
	if (g && glob_n == 1 && strlen(g->name) == len) {
		*global = true;
		return g;
	}
	if (cmd_n + glob_n != 1)
		return NULL; /* unknown or ambiguous: the command says so */
	*global = g != NULL;
	return o ? o : g;
}

/* getopt's shortopts: no_argument, required_argument, or -1 if unknown. */
static int short_has_arg(const char *shortopts, char c)
{
	const char *p;

	if (c == ':' || c == '+' || c == '-' || !c)
		return -1;
	p = strchr(shortopts, c);
	if (!p)
		return -1;
	return p[1] == ':' ? required_argument : no_argument;
}

/*
 * The command's arguments are compacted in place (argv's pointers and
 * strings are the program's to modify): @argv[@argc] is the next kept slot,
 * never past the one being read.
 */
struct argv_out {
	char **argv;
	int argc;
};

static void keep(struct argv_out *out, char *arg)
{
	out->argv[out->argc++] = arg;
}

/* "--NAME[=value]" at @args[*i]: keep it (and its value) or apply it. */
static int pull_long(const struct cmd_options *co, char **args, int n, int *i,
		     struct argv_out *out)
{
	const char *name = args[*i] + 2;
	const char *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct option *o;
	bool global;

	o = which_long(co, name, len, &global);
	if (!global) {
		keep(out, args[(*i)++]);
		/* Its value is the next argument: keep that too, unread. */
		if (o && o->has_arg == required_argument && !eq && *i < n)
			keep(out, args[(*i)++]);
		return 0;
	}
	(*i)++;
	if (o->has_arg == no_argument) {
		if (eq)
			return fail(EXIT_USAGE, "option '--%s' takes no value",
				    o->name);
		return apply_global(o->val, NULL);
	}
	if (eq)
		return apply_global(o->val, eq + 1);
	if (*i >= n)
		return fail(EXIT_USAGE, "option '--%s' needs an argument",
			    o->name);
	return apply_global(o->val, args[(*i)++]);
}

/*
 * "-abc" at @args[*i]: the global letters are applied and taken out, the
 * command's (and unknown ones, for the command to refuse) stay.
 */
static int pull_short(const struct cmd_options *co, char **args, int n, int *i,
		      struct argv_out *out)
{
	char *arg = args[(*i)++];
	size_t k = 1; /* arg[0..k) is what stays: "-" and the kept letters */
	int err = 0;

	for (char *p = arg + 1; *p && !err; p++) {
		int has = short_has_arg(co->shortopts, *p);
		int glob = short_has_arg(global_shortopts, *p);

		if (has == required_argument) {
			/* The rest is its value; else the next argument is.
			 * (Asked before the move: p[1] is not its letter
			 * after it.) */
			bool attached = p[1] != '\0';

			memmove(arg + k, p, strlen(p) + 1);
			k += strlen(arg + k);
			if (!attached && *i < n) {
				keep(out, arg);
				keep(out, args[(*i)++]);
				return 0;
			}
			break;
		}
		/* "-j-all" would become "--all": getopt refuses '-' as a
		 * letter, so does tracer, rather than read a long option. */
		if (*p == '-' && k == 1)
			return fail(EXIT_USAGE,
				    "unknown option '-' (see tracer --help)");
		if (has == no_argument || glob < 0) {
			arg[k++] = *p;
			continue;
		}
		if (glob == no_argument)
			err = apply_global(*p, NULL);
		else if (p[1])
			err = apply_global(*p, p + 1);
		else if (*i < n)
			err = apply_global(*p, args[(*i)++]);
		else
			err = fail(EXIT_USAGE, "option '-%c' needs an argument",
				   *p);
		if (glob == required_argument)
			break;
	}
	if (k > 1 && !err) {
		arg[k] = '\0';
		keep(out, arg);
	}
	return err;
}

/*
 * Take the global options out of @argv (the command's name, then its
 * arguments) up to "--" or the first operand, where getopt_long() in "+"
 * mode stops too: from there on, everything belongs to the command (and
 * after "--", to the program it runs). Updates *@argcp.
 */
static int pull_globals(const struct cmd_options *co, int *argcp, char **argv)
{
	struct argv_out out = { .argv = argv, .argc = 1 };
	int n = *argcp, i = 1, err = 0;

	while (i < n && !err) {
		const char *a = argv[i];

		if (a[0] != '-' || !a[1] || !strcmp(a, "--"))
			break; /* an operand, "-" or "--": the rest is not ours */
		if (a[1] == '-')
			err = pull_long(co, argv, n, &i, &out);
		else
			err = pull_short(co, argv, n, &i, &out);
	}
	while (i < n)
		keep(&out, argv[i++]);
	argv[out.argc] = NULL;
	*argcp = out.argc;
	return err;
}

/* ------------------------------------------------------------- parse */

/* Global options before the command: -h and -V are only valid here. */
static int parse_leading(int argc, char **argv, bool *done)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "backend", required_argument, NULL, OPT_BACKEND },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{},
	};
	int c, err;

	opterr = 0;
	/* '+': stop at the command name. */
	while ((c = getopt_long(argc, argv, "+:jvo:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			*done = true;
			return EXIT_OK;
		case 'V':
			printf("tracer %s (libbpf %s)\n", TRACER_VERSION,
			       libbpf_version_string());
			*done = true;
			return EXIT_OK;
		case ':':
			return fail(EXIT_USAGE, "option '%s' needs an argument",
				    argv[optind - 1]);
		case '?':
			return fail(EXIT_USAGE,
				    "unknown option '%s' (see tracer --help)",
				    argv[optind - 1]);
		default:
			err = apply_global(c, optarg);
			if (err)
				return err;
		}
	}
	return EXIT_OK;
}

int cli_parse(int argc, char **argv, struct cli_command *out)
{
	const struct command *cmd;
	bool done = false;
	int err;

	*out = (struct cli_command){};
	err = parse_leading(argc, argv, &done);
	if (err || done)
		return err;
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = find_command(argv[optind]);
	if (!cmd)
		return fail(EXIT_USAGE,
			    "unknown command '%s' (see tracer --help)",
			    argv[optind]);
	/* The command sees argv[0] == its own name and parses from optind 1. */
	out->argc = argc - optind;
	out->argv = argv + optind;
	err = pull_globals(cmd->opts, &out->argc, out->argv);
	if (err)
		return err;
	out->run = cmd->run;
	optind = 1;
	return 0;
}
