/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every command's run shares: stop signals, the ready file, the clock,
 * and the BPF pieces common to all skeletons (traced set, links).
 */
#ifndef TRACER_RUNTIME_H
#define TRACER_RUNTIME_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <bpf/libbpf.h>

/* The SIGINT or SIGTERM received, 0 while none. */
extern volatile sig_atomic_t stop_signal;

/* SIGINT and SIGTERM set stop_signal (and interrupt poll()); no SIGPIPE. */
void install_stop_signals(void);
/*
 * Around fork(): block the stop signals in the parent (*@old: the mask to
 * go back to); in a child that will run a program, give back the
 * dispositions the tracer inherited (a SIGTERM the tracer passes on must
 * not land in a copy of its handler) and unblock.
 */
void block_stop_signals(sigset_t *old);
void restore_inherited_signals(const sigset_t *old);
/* Create @path (if not NULL) holding our pid: tracing is live. */
int write_ready_file(const char *path);
/*
 * `-- COMMAND` did not start: execvp() failed with @err. Reports it and
 * returns 127 for ENOENT, else 126, as env(1) and timeout(1) do.
 */
int fail_exec(const char *cmd, int err);
/* CLOCK_MONOTONIC in ns, the clock of bpf_ktime_get_ns(). */
uint64_t now_ns(void);
/* TRACER_STARTUP_TIMES=1: print how long since the last lap @what took. */
void startup_lap(const char *what);
/* The kernel-matrix guests' build: fault every page in (runtime.c). */
void tcg_guest_prefault(void);
/* fork(), and in the parent tcg_guest_prefault(): every fork of tracer's. */
pid_t tracer_fork(void);

/* Add @tgid to a skeleton's traced_tgids map; 0 or an exit code. */
int trace_tgid(struct bpf_map *traced_tgids, pid_t tgid);
/* Keep @link in @links (capacity @max); -errno if NULL or full. */
int keep_link(struct bpf_link **links, int *nlinks, int max,
	      struct bpf_link *link);
void destroy_links(struct bpf_link **links, int *nlinks);
/* bpf_program__set_autoload(@on) for each of @n programs. */
void progs_set_autoload(struct bpf_program *const *progs, size_t n, bool on);
/*
 * The exit code for a failed BPF attach with errno @err (either sign): a
 * resource running out (fd table, memory) is a runtime failure, anything
 * else a kernel that refuses the hook (missing privilege or feature).
 */
int attach_exit_code(int err);
/* A ring buffer on @events calling @fn(@ctx, ...); 0 or an exit code. */
int open_ring_buffer(struct bpf_map *events, ring_buffer_sample_fn fn,
		     void *ctx, struct ring_buffer **rb);
/*
 * Testing aid: with TRACER_DUMP_RECORDS=DIR in the environment, write the
 * record (@size bytes) to DIR/@ring-N (N counts from 0 per process), as it
 * came from the ring; the fuzz targets' seeds (tests/fuzz/) are made so.
 */
void dump_record(const char *ring, const void *data, size_t size);

#endif
