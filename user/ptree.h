/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Following a process tree with ptrace event stops only: each process is
 * held at its creation (fork, vfork, clone), at each execve() and at its
 * exit while the caller does what must happen before it runs on (attach
 * uprobes bound to it, read its maps), then resumed. No syscall stops; every
 * signal is delivered unchanged (but a SIGSTOP the caller had the kernel send,
 * see ptree_ops.own_stop) and group-stops stay job-control stops.
 */
#ifndef TRACER_PTREE_H
#define TRACER_PTREE_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

struct ptree_ops {
	/* @child (a new process) was created by @parent; @same_mm: it shares
	 * its parent's memory (vfork, CLONE_VM) until it execs. */
	void (*fork)(void *ctx, pid_t parent, pid_t child, bool same_mm);
	/* @tgid runs a new program (held at the exec stop); @new_leader: a
	 * thread other than the leader exec'd and took over its pid. */
	void (*exec)(void *ctx, pid_t tgid, bool new_leader);
	/* Thread @tid of @tgid is exiting, its memory still there. */
	void (*exit)(void *ctx, pid_t tid, pid_t tgid);
	/* Thread @tid is gone, with wait status @status. */
	void (*reaped)(void *ctx, pid_t tid, int status);
	/*
	 * Optional. @tid is in a signal-delivery-stop for SIGSTOP, sent as
	 * @si says: true if the caller asked for it (then it is suppressed,
	 * not delivered).
	 */
	bool (*own_stop)(void *ctx, pid_t tid, const siginfo_t *si);
	/* Optional. A SIGSTOP the caller asked for is on its way to @tid. */
	bool (*stop_pending)(void *ctx, pid_t tid);
};

struct ptree_task;

struct ptree {
	const struct ptree_ops *ops;
	void *ctx;
	int sigfd; /* readable on SIGCHLD: something to dispatch */
	bool kill_on_exit; /* spawned tree: PTRACE_O_EXITKILL */
	struct ptree_task *tasks;
	int ntasks, cap;
	/* figures: how many stops, and how long children were held */
	unsigned long stops;
	unsigned long long held_ns, held_max_ns;
	unsigned long held_count;
};

/*
 * Start following (SIGCHLD is blocked from now on and read from a signalfd).
 * @kill_on_exit: the tree dies with the tracer (spawned commands only).
 * Returns 0 or -errno.
 */
int ptree_init(struct ptree *t, const struct ptree_ops *ops, void *ctx,
	       bool kill_on_exit);
/* Seize @pid (a child blocked before its exec): 0 or -errno. */
int ptree_seize(struct ptree *t, pid_t pid);
/* Seize every thread of running process @pid: 0 or -errno. */
int ptree_seize_process(struct ptree *t, pid_t pid);
/* Poll for this fd; then call ptree_dispatch(). */
int ptree_fd(const struct ptree *t);
/* Handle every stop and exit waiting; never blocks. */
void ptree_dispatch(struct ptree *t);
/* Is @pid followed (seized, not yet reaped)? */
bool ptree_follows(const struct ptree *t, pid_t pid);
/*
 * Detach from every process still followed, leaving it running (or in its
 * group-stop) untraced, signals pending as they were; then free.
 */
void ptree_release(struct ptree *t);

#endif
