// SPDX-License-Identifier: GPL-2.0
/*
 * forkexec: fork and exec a program N times, one after the other, and print
 * the wall time: the cost of following a process tree.
 *
 *   forkexec N PROGRAM [ARGS...]
 *
 * Prints "forkexec n=N total_us=T per_us=P". Exits 1 if a child failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	double start;
	int n, status;

	if (argc < 3 || (n = atoi(argv[1])) <= 0) {
		fprintf(stderr, "usage: forkexec N PROGRAM [ARGS...]\n");
		return 2;
	}
	start = now_us();
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			execv(argv[2], &argv[2]);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid ||
		    !WIFEXITED(status) || WEXITSTATUS(status))
			return 1;
	}
	printf("forkexec n=%d total_us=%.0f per_us=%.1f\n", n, now_us() - start,
	       (now_us() - start) / n);
	return 0;
}
