/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The libc layer of `tracer tfo` in every process of the traced tree: libc's
 * send wrappers are probed with uprobes bound to each process (never
 * system-wide), attached while ptrace holds it at its creation and at each
 * execve(), and each send is told whether a wrapper made it.
 */
#ifndef TRACER_TFO_LIBC_H
#define TRACER_TFO_LIBC_H

#include <stdbool.h>
#include <sys/types.h>

#include "target.h"
#include "tfo_event.h"

struct tfo_session;

enum tfo_libc_status {
	TFO_LIBC_SEEN, /* a probed wrapper made the call: libc_flags set */
	TFO_LIBC_BYPASSED, /* libc was probed in the process, not called */
	TFO_LIBC_NOT_PROBED, /* see the reason */
};

/*
 * A spawned command, held before its exec: follow it and its descendants
 * with ptrace (PTRACE_O_EXITKILL) and probe libc in each (with the libc
 * layer off, followed all the same: the send-path hooks' stops need it). Returns 0 or an
 * exit code; a refused ptrace is not an error (said, and each send says
 * why libc was not probed).
 */
int tfo_libc_follow_spawned(struct tfo_session *s, struct target *t);
/* The same for running process @pid (every thread seized; detached at the
 * end); without ptrace, its own libc is still probed. */
int tfo_libc_follow_pid(struct tfo_session *s, pid_t pid);
/* The built-in runner (a fork of tracer): probe what it maps. */
int tfo_libc_probe_process(struct tfo_session *s, pid_t pid);
/* -1 when not following; else poll it, then tfo_libc_dispatch(). */
int tfo_libc_fd(const struct tfo_session *s);
/* The traced tree is under tracer's ptrace (tfo_libc_follow_*() succeeded). */
bool tfo_libc_following(const struct tfo_session *s);
void tfo_libc_dispatch(struct tfo_session *s);
/* Stop following: every process still followed goes on untraced. */
void tfo_libc_release(struct tfo_session *s);
void tfo_libc_free(struct tfo_session *s);

/* Status of send @e, and for not_probed why (static storage). */
enum tfo_libc_status tfo_libc_status(const struct tfo_session *s,
				     const struct tfo_event *e,
				     const char **why);
const char *tfo_libc_status_name(enum tfo_libc_status st);
/* How the libc layer is probed, for the start line and event. */
const char *tfo_libc_mode(const struct tfo_session *s);

#endif
