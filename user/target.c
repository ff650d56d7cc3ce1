// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "output.h"
#include "runtime.h"
#include "target.h"
#include "tracer.h"

static int pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

int target_parse_pid(const char *arg, pid_t *pid)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || end == arg || v <= 0 || v > INT_MAX)
		return fail(EXIT_USAGE, "invalid pid '%s'", arg);
	if (kill((pid_t)v, 0) && errno == ESRCH)
		return fail(EXIT_USAGE, "no process with pid %ld", v);
	*pid = (pid_t)v;
	return 0;
}

void target_init(struct target *t)
{
	memset(t, 0, sizeof(*t));
	t->pidfd = t->release_fd = t->exec_err_fd = -1;
}

int target_attach(struct target *t, pid_t pid)
{
	target_init(t);
	t->pid = pid;
	t->pidfd = pidfd_open(pid);
	if (t->pidfd < 0)
		return fail(errno == ESRCH ? EXIT_USAGE : EXIT_RUNTIME,
			    "cannot watch pid %d: %s", pid, strerror(errno));
	return 0;
}

int target_exec_fn(void *arg, int err_wr)
{
	char **argv = arg;
	int err;

	execvp(argv[0], argv);
	err = errno;
	if (write(err_wr, &err, sizeof(err)) < 0)
		return 127;
	return 127;
}

/* The child's ends of the two pipes to the tracer. */
struct child_pipes {
	int release_rd;
	int err_wr;
};

static void __attribute__((noreturn))
spawned_child(target_fn fn, void *arg, struct child_pipes p)
{
	char c;

	/* Do not outlive the tracer, which could otherwise not reap us. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Block until the tracer has attached (or died: read returns 0). */
	if (read(p.release_rd, &c, 1) != 1)
		_exit(127);
	close(p.release_rd);
	_exit(fn(arg, p.err_wr));
}

int target_spawn(struct target *t, char **argv)
{
	return target_spawn_fn(t, target_exec_fn, argv);
}

int target_spawn_fn(struct target *t, target_fn fn, void *arg)
{
	int release[2], exec_err[2];
	sigset_t mask;

	target_init(t);
	if (pipe2(release, O_CLOEXEC))
		return fail(EXIT_RUNTIME, "pipe: %s", strerror(errno));
	if (pipe2(exec_err, O_CLOEXEC)) {
		close(release[0]);
		close(release[1]);
		return fail(EXIT_RUNTIME, "pipe: %s", strerror(errno));
	}
	fflush(stdout);
	block_stop_signals(&mask);
	t->pid = tracer_fork();
	if (t->pid == 0) {
		restore_inherited_signals(&mask);
		close(release[1]);
		close(exec_err[0]);
		spawned_child(fn, arg,
			      (struct child_pipes){ .release_rd = release[0],
						    .err_wr = exec_err[1] });
	}
	sigprocmask(SIG_SETMASK, &mask, NULL);
	if (t->pid < 0)
		return fail(EXIT_RUNTIME, "fork: %s", strerror(errno));
	close(release[0]);
	close(exec_err[1]);
	t->spawned = true;
	t->release_fd = release[1];
	t->exec_err_fd = exec_err[0];
	t->pidfd = pidfd_open(t->pid);
	return 0;
}

/*
 * Reap the spawned child. Under ptrace it may first stop (at its exit,
 * PTRACE_O_TRACEEXIT, or for a signal): let it go on until it is gone.
 */
static void wait_exit(struct target *t)
{
	int status;

	while (waitpid(t->pid, &status, __WALL) == t->pid) {
		if (!WIFSTOPPED(status)) {
			t->status = status;
			return;
		}
		ptrace(PTRACE_CONT, t->pid, 0,
		       (unsigned int)status >> 16 ? 0 : WSTOPSIG(status));
	}
}

int target_release(struct target *t)
{
	ssize_t n;
	int err;

	if (write(t->release_fd, "g", 1) != 1) {
		fail(EXIT_RUNTIME, "cannot release the child: %s",
		     strerror(errno));
		return -1;
	}
	close(t->release_fd);
	t->release_fd = -1;
	/* EOF: exec succeeded (the pipe is close-on-exec) or the child closed it. */
	n = read(t->exec_err_fd, &err, sizeof(err));
	close(t->exec_err_fd);
	t->exec_err_fd = -1;
	if (n != sizeof(err))
		return 0;
	wait_exit(t);
	t->pid = 0;
	return err > 0 ? err : EIO;
}

/*
 * -p: the pidfd polls readable once the process has exited, zombie included,
 * and stays so when its PID is reused (pidfd_poll(): task->exit_state, or
 * no task left for the struct pid). kill(pid, 0) succeeds on a zombie and on
 * whatever process reuses the PID.
 */
static bool attached_exited(const struct target *t)
{
	struct pollfd p = { .fd = t->pidfd, .events = POLLIN };

	if (t->pidfd < 0)
		return kill(t->pid, 0) && errno == ESRCH;
	return poll(&p, 1, 0) == 1;
}

bool target_exited(struct target *t)
{
	if (t->spawned) {
		if (!t->pid)
			return true;
		/* its stops and exit are the ptrace loop's to wait for */
		if (t->ptraced)
			return false;
		if (waitpid(t->pid, &t->status, WNOHANG) == t->pid) {
			t->pid = 0;
			return true;
		}
		return false;
	}
	return attached_exited(t);
}

int target_exit_code(const struct target *t)
{
	if (WIFEXITED(t->status))
		return WEXITSTATUS(t->status);
	if (WIFSIGNALED(t->status))
		return 128 + WTERMSIG(t->status);
	return EXIT_RUNTIME;
}

void target_kill(struct target *t, int sig)
{
	if (t->spawned && t->pid > 0)
		kill(t->pid, sig);
}

void target_reaped(struct target *t, int status)
{
	t->status = status;
	t->pid = 0;
}

void target_close(struct target *t)
{
	if (t->spawned && t->pid > 0) {
		kill(t->pid, SIGKILL);
		wait_exit(t);
		t->pid = 0;
	}
	if (t->pidfd >= 0)
		close(t->pidfd);
	if (t->release_fd >= 0)
		close(t->release_fd);
	if (t->exec_err_fd >= 0)
		close(t->exec_err_fd);
	t->pidfd = t->release_fd = t->exec_err_fd = -1;
}
