/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The process a command traces: one it starts (`-- CMD`), held before exec
 * until tracing is live, or one that already runs (`-p PID`).
 */
#ifndef TRACER_TARGET_H
#define TRACER_TARGET_H

#include <stdbool.h>
#include <sys/types.h>

struct target {
	pid_t pid;
	bool spawned; /* we started it and reap it */
	int pidfd; /* readable once the process has exited */
	int release_fd; /* spawned: closing it lets the child exec */
	int exec_err_fd; /* spawned: errno from a failed exec, or EOF */
	int status; /* spawned: wait status once reaped */
	bool ptraced; /* spawned: reaped by the ptrace loop (ptree.c) */
};

/* Parse and check a -p argument. Returns 0 or EXIT_USAGE after an error. */
int target_parse_pid(const char *arg, pid_t *pid);
/* No process yet: every descriptor closed, as target_close() expects. */
void target_init(struct target *t);
int target_attach(struct target *t, pid_t pid);
/* Fork @argv, stopped before exec until target_release(). */
int target_spawn(struct target *t, char **argv);
/*
 * Fork a child that runs @fn(@arg, err_fd) once released and exits with its
 * return value; writing an errno to err_fd makes target_release() fail.
 */
typedef int (*target_fn)(void *arg, int err_fd);
int target_spawn_fn(struct target *t, target_fn fn, void *arg);
/* target_fn that execs the NULL-terminated argv @arg (target_spawn's). */
int target_exec_fn(void *arg, int err_wr);
/*
 * Let the spawned child go on. Returns 0, the errno the child reported
 * (exec failed, or @fn's setup failed; the child is reaped), or -1 after
 * reporting an error.
 */
int target_release(struct target *t);
/* Non-blocking: true once the target has exited (reaps a spawned one). */
bool target_exited(struct target *t);
/* Exit code to propagate: the command's, or 128+signal. */
int target_exit_code(const struct target *t);
void target_kill(struct target *t, int sig);
/* A spawned target under ptrace was reaped by the ptrace loop. */
void target_reaped(struct target *t, int status);
void target_close(struct target *t);

#endif
