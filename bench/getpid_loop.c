// SPDX-License-Identifier: GPL-2.0
/*
 * getpid_loop: the workload of `make bench-vm`. N getpid() system calls
 * (syscall(2), so that no C library can answer from a cache), timed around
 * the loop alone. getpid() is none of the syscalls tracer follows: the loop
 * measures what a tracer's hooks cost every other syscall of an untraced
 * process (raw sys_enter/sys_exit fire for all of them; fentry programs on
 * __sys_sendto and the like never run).
 *
 * Usage: getpid_loop [CALLS]. Writes one JSON line,
 * {"calls":N,"ns":T,"ns_per_call":T/N}, to stdout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_CALLS 200000L

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long calls = DEFAULT_CALLS;
	long long start, ns;
	char *end;

	if (argc > 1) {
		errno = 0;
		calls = strtol(argv[1], &end, 10);
		if (argc > 2 || errno || *end || end == argv[1] || calls <= 0) {
			fprintf(stderr, "usage: getpid_loop [CALLS]\n");
			return 2;
		}
	}
	start = now_ns();
	for (long i = 0; i < calls; i++)
		syscall(SYS_getpid);
	ns = now_ns() - start;
	printf("{\"calls\":%ld,\"ns\":%lld,\"ns_per_call\":%.1f}\n", calls, ns,
	       (double)ns / (double)calls);
	return 0;
}
