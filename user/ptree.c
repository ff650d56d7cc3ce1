// SPDX-License-Identifier: GPL-2.0
/*
 * Event-stop-only ptrace of a process tree (see ptree.h).
 *
 * Each stop is a context switch to the tracer and back. Measured on the
 * development machine (6.18, 2 cores, tracepoint backend; `tests/progs/
 * forkexec 1000` timed by tests/test_tfo_libc.py's cost test): see the
 * figures in README.md ("libc in every process").
 */
#include <errno.h>
#include <linux/kcmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include "output.h"
#include "ptree.h"
#include "runtime.h"

#define RELEASE_TIMEOUT_NS (2ULL * 1000000000ULL)

struct ptree_task {
	pid_t tid;
	pid_t tgid;
	bool ready; /* its creator's event was handled, or seized by us */
	bool parked; /* in its first stop, waiting for ready */
};

static unsigned long options(const struct ptree *t)
{
	return PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
	       PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT |
	       (t->kill_on_exit ? PTRACE_O_EXITKILL : 0);
}

static int find(const struct ptree *t, pid_t tid)
{
	for (int i = 0; i < t->ntasks; i++)
		if (t->tasks[i].tid == tid)
			return i;
	return -1;
}

/* The entry of @tid, made if new; NULL only when out of memory. */
static struct ptree_task *task(struct ptree *t, pid_t tid)
{
	int i = find(t, tid);

	if (i >= 0)
		return &t->tasks[i];
	if (t->ntasks == t->cap) {
		int cap = t->cap ? t->cap * 2 : 16;
		struct ptree_task *n =
			realloc(t->tasks, (size_t)cap * sizeof(*n));

		if (!n)
			return NULL;
		t->tasks = n;
		t->cap = cap;
	}
	t->tasks[t->ntasks] = (struct ptree_task){ .tid = tid, .tgid = tid };
	return &t->tasks[t->ntasks++];
}

static void forget(struct ptree *t, pid_t tid)
{
	int i = find(t, tid);

	if (i >= 0)
		t->tasks[i] = t->tasks[--t->ntasks];
}

bool ptree_follows(const struct ptree *t, pid_t pid)
{
	return t->sigfd >= 0 && find(t, pid) >= 0;
}

int ptree_fd(const struct ptree *t)
{
	return t->sigfd;
}

int ptree_init(struct ptree *t, const struct ptree_ops *ops, void *ctx,
	       bool kill_on_exit)
{
	sigset_t chld;

	memset(t, 0, sizeof(*t));
	t->ops = ops;
	t->ctx = ctx;
	t->kill_on_exit = kill_on_exit;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	/* A SIGCHLD already pending stays pending: the signalfd sees it. */
	sigprocmask(SIG_BLOCK, &chld, NULL);
	t->sigfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
	return t->sigfd < 0 ? -errno : 0;
}

int ptree_seize(struct ptree *t, pid_t pid)
{
	struct ptree_task *k;

	if (ptrace(PTRACE_SEIZE, pid, 0, options(t)))
		return -errno;
	k = task(t, pid);
	if (!k)
		return -ENOMEM;
	k->ready = true;
	return 0;
}

/* Seize the threads of @pid not yet seized; how many, or -errno. */
static int seize_new_threads(struct ptree *t, pid_t pid)
{
	char dir[64];
	struct dirent *d;
	int seized = 0, err = 0;
	DIR *tasks;

	snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
	tasks = opendir(dir);
	if (!tasks)
		return -errno;
	while ((d = readdir(tasks)) && !err) {
		pid_t tid = (pid_t)atoi(d->d_name);

		if (tid <= 0 || find(t, tid) >= 0)
			continue;
		err = ptree_seize(t, tid);
		if (err == -ESRCH && tid != pid)
			err = 0; /* the thread has just exited */
		if (!err && find(t, tid) >= 0) {
			t->tasks[find(t, tid)].tgid = pid;
			seized++;
		}
	}
	closedir(tasks);
	return err ? err : seized;
}

/*
 * PTRACE_O_TRACECLONE follows only the threads a seized thread creates:
 * seize every thread, again until a pass finds no new one.
 */
int ptree_seize_process(struct ptree *t, pid_t pid)
{
	int n;

	while ((n = seize_new_threads(t, pid)) > 0)
		;
	return n;
}

/* Thread group of @tid from /proc (valid at a stop: it cannot go away). */
static pid_t tgid_of(pid_t tid)
{
	char file[64], line[128];
	pid_t tgid = tid;
	FILE *f;

	snprintf(file, sizeof(file), "/proc/%d/status", tid);
	f = fopen(file, "re");
	if (!f)
		return tid;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &tgid) == 1)
			break;
	fclose(f);
	return tgid;
}

static void resume(pid_t tid, int sig)
{
	/* ESRCH: killed meanwhile (SIGKILL ends any ptrace stop) */
	ptrace(PTRACE_CONT, tid, 0, sig);
}

/* A fork, vfork or clone event of @tid: the new task may run once known. */
// NOLINTNEXTLINE(bugprone-easily-swappable-parameters): (task, event), named
static void on_new_task(struct ptree *t, pid_t tid, int event)
{
	unsigned long msg = 0;
	struct ptree_task *c;
	pid_t child, tgid;
	bool thread;

	if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg))
		return;
	child = (pid_t)msg;
	tgid = t->tasks[find(t, tid)].tgid;
	thread = event == PTRACE_EVENT_CLONE && tgid_of(child) == tgid;
	if (!thread)
		t->ops->fork(t->ctx, tgid, child,
			     !syscall(SYS_kcmp, tid, child, KCMP_VM, 0, 0));
	c = task(t, child);
	if (!c)
		return;
	c->tgid = thread ? tgid : child;
	c->ready = true;
	if (c->parked) {
		c->parked = false;
		resume(child, 0);
	}
}

static void on_exec(struct ptree *t, pid_t pid)
{
	unsigned long former = 0;
	bool new_leader;

	/* A thread other than the leader exec'd: it now has the leader's id. */
	new_leader = !ptrace(PTRACE_GETEVENTMSG, pid, 0, &former) &&
		     (pid_t)former != pid;
	if (new_leader)
		forget(t, (pid_t)former);
	t->tasks[find(t, pid)].tgid = pid;
	t->ops->exec(t->ctx, pid, new_leader);
}

/* A SIGSTOP the caller asked for (ptree_ops.own_stop): not delivered. */
static bool own_stop(const struct ptree *t, pid_t tid, int sig)
{
	siginfo_t si;

	if (sig != SIGSTOP || !t->ops->own_stop ||
	    ptrace(PTRACE_GETSIGINFO, tid, 0, &si))
		return false;
	return t->ops->own_stop(t->ctx, tid, &si);
}

static bool is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
	       sig == SIGTTOU;
}

// NOLINTNEXTLINE(bugprone-easily-swappable-parameters): waitpid()'s pair
static void on_stop(struct ptree *t, pid_t tid, int status)
{
	int sig = WSTOPSIG(status), event = (int)((unsigned int)status >> 16);
	struct ptree_task *k = task(t, tid);

	t->stops++;
	if (!k) {
		resume(tid, 0);
		return;
	}
	switch (event) {
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
	case PTRACE_EVENT_CLONE:
		on_new_task(t, tid, event);
		resume(tid, 0);
		break;
	case PTRACE_EVENT_EXEC:
		on_exec(t, tid);
		resume(tid, 0);
		break;
	case PTRACE_EVENT_EXIT:
		t->ops->exit(t->ctx, tid, k->tgid);
		resume(tid, 0);
		break;
	case PTRACE_EVENT_STOP:
		/* A group-stop (SIGSTOP, SIGTSTP...): stay stopped for job
		 * control, SIGCONT still resumes it (ptrace(2), PTRACE_LISTEN). */
		if (is_stop_signal(sig))
			ptrace(PTRACE_LISTEN, tid, 0, 0);
		else if (!k->ready) /* new, before its creator's event */
			k->parked = true;
		else
			resume(tid, 0);
		break;
	default: /* signal-delivery-stop: deliver the signal unchanged */
		resume(tid, own_stop(t, tid, sig) ? 0 : sig);
	}
}

static void account_hold(struct ptree *t, uint64_t start)
{
	uint64_t held = now_ns() - start;

	t->held_ns += held;
	t->held_count++;
	if (held > t->held_max_ns)
		t->held_max_ns = held;
}

static void handle(struct ptree *t, pid_t tid, int status)
{
	uint64_t start = now_ns();

	if (WIFSTOPPED(status)) {
		on_stop(t, tid, status);
		account_hold(t, start);
		return;
	}
	if (!WIFEXITED(status) && !WIFSIGNALED(status))
		return;
	forget(t, tid);
	t->ops->reaped(t->ctx, tid, status);
}

void ptree_dispatch(struct ptree *t)
{
	struct signalfd_siginfo si;
	int status;
	pid_t tid;

	if (t->sigfd < 0)
		return;
	while (read(t->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		;
	while ((tid = waitpid(-1, &status, __WALL | WNOHANG)) > 0)
		handle(t, tid, status);
}

/* ------------------------------------------------------------ release */

/* One stop while releasing: detach, passing a pending signal on. */
// NOLINTNEXTLINE(bugprone-easily-swappable-parameters): waitpid()'s pair
static void detach_at_stop(struct ptree *t, pid_t tid, int status)
{
	int sig = WSTOPSIG(status), event = (int)((unsigned int)status >> 16);
	unsigned long msg = 0;

	/* Its new child was attached too: detach it at its first stop. */
	if ((event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK ||
	     event == PTRACE_EVENT_CLONE) &&
	    !ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg) && task(t, (pid_t)msg))
		t->tasks[find(t, (pid_t)msg)].parked = false;
	/*
	 * The SIGSTOP the caller asked for is still queued: resume to its
	 * delivery-stop (get_signal() reports the trap stop first), then
	 * detach without it, or it would stop the process untraced.
	 */
	if (event == PTRACE_EVENT_STOP && t->ops->stop_pending &&
	    t->ops->stop_pending(t->ctx, tid)) {
		resume(tid, 0);
		return;
	}
	if (!event && own_stop(t, tid, sig))
		sig = 0;
	/* A group-stop detached goes on as one (__ptrace_unlink()). */
	ptrace(PTRACE_DETACH, tid, 0, event ? 0 : sig);
	forget(t, tid);
}

static void interrupt_all(struct ptree *t)
{
	for (int i = 0; i < t->ntasks; i++) {
		struct ptree_task *k = &t->tasks[i];

		if (k->parked) { /* already stopped: no new report comes */
			ptrace(PTRACE_DETACH, k->tid, 0, 0);
			t->tasks[i--] = t->tasks[--t->ntasks];
			continue;
		}
		ptrace(PTRACE_INTERRUPT, k->tid, 0, 0);
	}
}

void ptree_release(struct ptree *t)
{
	uint64_t deadline = now_ns() + RELEASE_TIMEOUT_NS;
	int status;
	pid_t tid;

	if (t->sigfd < 0)
		return;
	interrupt_all(t);
	while (t->ntasks && now_ns() < deadline) {
		tid = waitpid(-1, &status, __WALL | WNOHANG);
		if (tid < 0)
			break;
		if (tid == 0) {
			usleep(1000);
			continue;
		}
		if (WIFSTOPPED(status)) {
			bool known = find(t, tid) >= 0;

			if (!known) /* a child created while we let go */
				task(t, tid);
			detach_at_stop(t, tid, status);
		} else if (WIFEXITED(status) || WIFSIGNALED(status)) {
			forget(t, tid);
			t->ops->reaped(t->ctx, tid, status);
		}
	}
	if (t->ntasks)
		info("ptrace: %d task(s) did not stop within 2 s; the kernel "
		     "detaches them when tracer exits",
		     t->ntasks);
	close(t->sigfd);
	t->sigfd = -1;
	free(t->tasks);
	t->tasks = NULL;
	t->ntasks = t->cap = 0;
}
