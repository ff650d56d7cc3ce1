// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "output.h"
#include "runtime.h"
#include "tracer.h"

volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* What the tracer was started with, for the programs it starts. */
static struct sigaction inherited[3];
static const int stop_signals[] = { SIGINT, SIGTERM, SIGPIPE };

void install_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct sigaction ign = { .sa_handler = SIG_IGN };

	sigaction(SIGINT, &sa, &inherited[0]);
	sigaction(SIGTERM, &sa, &inherited[1]);
	sigaction(SIGPIPE, &ign, &inherited[2]);
}

void block_stop_signals(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < ARRAY_SIZE(stop_signals); i++)
		sigaddset(&set, stop_signals[i]);
	sigprocmask(SIG_BLOCK, &set, old);
}

void restore_inherited_signals(const sigset_t *old)
{
	/* (zeroed, as before install_stop_signals(): SIG_DFL) */
	for (size_t i = 0; i < ARRAY_SIZE(stop_signals); i++)
		sigaction(stop_signals[i], &inherited[i], NULL);
	sigprocmask(SIG_SETMASK, old, NULL);
}

int write_ready_file(const char *path)
{
	FILE *f;

	if (!path)
		return 0;
	f = fopen(path, "we");
	if (!f)
		return fail(EXIT_RUNTIME, "cannot create ready file %s: %s",
			    path, strerror(errno));
	fprintf(f, "%d\n", getpid());
	fclose(f);
	return 0;
}

int fail_exec(const char *cmd, int err)
{
	return fail(err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC,
		    "cannot execute '%s': %s", cmd, strerror(err));
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Profiling aid for the startup (exec to --ready-file): with
 * TRACER_STARTUP_TIMES=1 in the environment, each step's wall time, CPU time
 * in user space and in the kernel (which other load on the machine inflates
 * less than the wall time) and minor page faults, and the wall time since
 * the first lap (main()), on stderr.
 */
static uint64_t tv_ns(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000000ull +
	       (uint64_t)tv->tv_usec * 1000ull;
}

void startup_lap(const char *what)
{
	static int on = -1;
	static uint64_t first, last, last_user, last_sys;
	static long last_faults;
	struct rusage ru;
	uint64_t now;

	if (on < 0)
		on = getenv("TRACER_STARTUP_TIMES") != NULL;
	if (!on)
		return;
	now = now_ns();
	getrusage(RUSAGE_SELF, &ru);
	if (!first) {
		first = last = now;
		last_user = tv_ns(&ru.ru_utime);
		last_sys = tv_ns(&ru.ru_stime);
		last_faults = ru.ru_minflt;
	}
	fprintf(stderr,
		"startup: %-24s %6.1f ms wall %5.1f user %5.1f sys %5ld "
		"faults (at %6.1f ms)\n",
		what, (double)(now - last) / 1e6,
		(double)(tv_ns(&ru.ru_utime) - last_user) / 1e6,
		(double)(tv_ns(&ru.ru_stime) - last_sys) / 1e6,
		ru.ru_minflt - last_faults, (double)(now - first) / 1e6);
	last = now;
	last_user = tv_ns(&ru.ru_utime);
	last_sys = tv_ns(&ru.ru_stime);
	last_faults = ru.ru_minflt;
}

int trace_tgid(struct bpf_map *traced_tgids, pid_t tgid)
{
	__u32 key = tgid;
	__u8 one = 1;

	if (bpf_map__update_elem(traced_tgids, &key, sizeof(key), &one,
				 sizeof(one), BPF_ANY))
		return fail(EXIT_RUNTIME, "cannot trace pid %d: %s", tgid,
			    strerror(errno));
	return 0;
}

int keep_link(struct bpf_link **links, int *nlinks, int max,
	      struct bpf_link *link)
{
	if (!link)
		return -errno;
	if (*nlinks == max) {
		bpf_link__destroy(link);
		return -E2BIG;
	}
	links[(*nlinks)++] = link;
	return 0;
}

void destroy_links(struct bpf_link **links, int *nlinks)
{
	for (int i = 0; i < *nlinks; i++)
		bpf_link__destroy(links[i]);
	*nlinks = 0;
}

int attach_exit_code(int err)
{
	switch (err < 0 ? -err : err) {
	case EMFILE:
	case ENFILE:
	case ENOMEM:
	case ENOSPC:
		return EXIT_RUNTIME;
	default:
		return EXIT_NOSUPPORT;
	}
}

int open_ring_buffer(struct bpf_map *events, ring_buffer_sample_fn fn,
		     void *ctx, struct ring_buffer **rb)
{
	*rb = ring_buffer__new(bpf_map__fd(events), fn, ctx, NULL);
	if (!*rb)
		return fail(EXIT_RUNTIME, "cannot open the ring buffer: %s",
			    strerror(errno));
	return 0;
}

void dump_record(const char *ring, const void *data, size_t size)
{
	static const char *dir;
	static bool checked;
	static unsigned int n;
	char path[PATH_MAX];
	FILE *f;

	if (!checked) {
		dir = getenv("TRACER_DUMP_RECORDS");
		checked = true;
	}
	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s-%u", dir, ring, n++);
	f = fopen(path, "we");
	if (!f)
		return;
	fwrite(data, 1, size, f);
	fclose(f);
}

/*
 * TRACER_TCG_GUEST (make TCG_GUEST=1: the kernel-matrix guests' build only).
 * QEMU 7.2's x86 translator (TCG) can store a wrong SETcc result when the
 * store takes a page fault: the flags it computed are lost while the fault
 * is handled, and the retried instruction reads others. tests/progs/
 * tcg_setcc.c shows it (a few of 64 first stores into fresh pages); in
 * tracer it turned `run.timeline = env.verbose > 0` true without -v. Fault
 * every page in now: mlockall() populates the writable ones for writing,
 * which also breaks their copy-on-write sharing after a fork(), and the
 * unlock leaves them in place. Called at start and, by tracer_fork(), in the
 * parent after each fork(). Best effort: without CAP_IPC_LOCK the lock may be
 * refused.
 */
void tcg_guest_prefault(void)
{
#ifdef TRACER_TCG_GUEST
	if (!mlockall(MCL_CURRENT))
		munlockall();
#endif
}

pid_t tracer_fork(void)
{
	pid_t pid = fork();

	if (pid > 0)
		tcg_guest_prefault();
	return pid;
}

void progs_set_autoload(struct bpf_program *const *progs, size_t n, bool on)
{
	for (size_t i = 0; i < n; i++)
		bpf_program__set_autoload(progs[i], on);
}
