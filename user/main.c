// SPDX-License-Identifier: GPL-2.0
/*
 * tracer: eBPF-assisted kernel behaviour tracer.
 *
 * main() parses the command line (cli.c), opens -o FILE and runs the
 * command.
 */
#include <stdio.h>

#include <bpf/libbpf.h>

#include "cli.h"
#include "output.h"
#include "runtime.h"
#include "tracer.h"

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG && env.verbose < 2)
		return 0;
	if (!env.verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int main(int argc, char **argv)
{
	struct cli_command cmd;
	int err;

	startup_lap("main");
	tcg_guest_prefault();
	err = cli_parse(argc, argv, &cmd);
	if (!err && cmd.run && env.output)
		err = output_open(env.output);
	if (err || !cmd.run)
		return err;
	output_setup_buffer();

	libbpf_set_print(libbpf_print);
	return cmd.run(cmd.argc, cmd.argv);
}
