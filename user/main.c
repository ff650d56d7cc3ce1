// SPDX-License-Identifier: GPL-2.0
/*
 * tracer: eBPF-assisted kernel behaviour tracer.
 *
 * main() parses the command line (cli.c), opens -o FILE and runs the
 * command.
 */
#include <stdio.h>
#include <sys/mman.h>

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

#ifdef TRACER_TCG_GUEST
/*
 * The kernel-matrix guests' build only (make TCG_GUEST=1). QEMU 7.2's x86
 * translator (TCG) can store the wrong value when a SETcc to memory takes a
 * page fault: the flags it computed are lost while the fault is handled, and
 * the retried instruction reads others. tests/progs/tcg_setcc.c shows it (1
 * or 2 of 64 first stores into fresh pages); in tracer it turned
 * `run.timeline = env.verbose > 0` true without -v. Faulting every page in
 * now, by locking and unlocking them, keeps the first store to each off
 * that path. Best effort: without CAP_IPC_LOCK the lock may be refused.
 */
static void prefault_for_tcg(void)
{
	if (!mlockall(MCL_CURRENT))
		munlockall();
}
#else
static void prefault_for_tcg(void)
{
}
#endif

int main(int argc, char **argv)
{
	struct cli_command cmd;
	int err;

	startup_lap("main");
	prefault_for_tcg();
	err = cli_parse(argc, argv, &cmd);
	if (!err && cmd.run && env.output)
		err = output_open(env.output);
	if (err || !cmd.run)
		return err;
	output_setup_buffer();

	libbpf_set_print(libbpf_print);
	return cmd.run(cmd.argc, cmd.argv);
}
