// SPDX-License-Identifier: GPL-2.0
/*
 * Run a command under a given PID, for the test of `tracer -p PID` when the
 * PID is reused:
 *
 *   pid_reuse PID COMMAND [ARGS...]
 *
 * clone3() with set_tid = PID (Linux 5.5+, CAP_SYS_ADMIN over the PID
 * namespace) creates a child with exactly that PID, which execs COMMAND.
 * Retries for up to a second while the PID is still taken (EEXIST: its last
 * holder is not reaped yet). Prints "pid=PID" once the child runs, then waits
 * for it and exits with its exit status; 3 if the PID could not be had.
 */
#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t clone_with_pid(pid_t want)
{
	struct clone_args args = {
		.exit_signal = SIGCHLD,
		.set_tid = (uint64_t)(uintptr_t)&want,
		.set_tid_size = 1,
	};

	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

int main(int argc, char **argv)
{
	struct timespec pause = { .tv_nsec = 1000000 };
	pid_t want, pid = -1;
	int status;

	if (argc < 3) {
		fprintf(stderr, "usage: %s PID COMMAND [ARGS...]\n", argv[0]);
		return 2;
	}
	want = (pid_t)atoi(argv[1]);
	for (int i = 0; i < 1000; i++) {
		pid = clone_with_pid(want);
		if (pid >= 0 || errno != EEXIST)
			break;
		nanosleep(&pause, NULL);
	}
	if (pid < 0) {
		fprintf(stderr, "pid_reuse: clone3 with pid %d: %s\n", want,
			strerror(errno));
		return 3;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	printf("pid=%d\n", pid);
	fflush(stdout);
	if (waitpid(pid, &status, 0) != pid)
		return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
