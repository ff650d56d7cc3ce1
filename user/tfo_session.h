/* SPDX-License-Identifier: GPL-2.0 */
/* Loading and attaching the tfo skeleton for one backend. */
#ifndef TRACER_TFO_SESSION_H
#define TRACER_TFO_SESSION_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include <bpf/libbpf.h>

#include "ksyms.h"
#include "probe.h"
#include "tfo_event.h"

#define TFO_MAX_LINKS (TFO_FENTRY_SLOTS * 2 + 8)

struct tfo_session {
	struct tfo_bpf *skel;
	struct ring_buffer *rb;
	enum backend backend;
	struct btf *btf; /* vmlinux */
	/* send-path functions traced with fentry/fexit or kprobes */
	const char *funcs[TFO_FENTRY_SLOTS];
	int nfuncs;
	/* more send-path functions, traced by the syscall layer's programs */
	int nsys_frames;
	struct bpf_link *links[TFO_MAX_LINKS];
	int nlinks;
	char libc[PATH_MAX]; /* libc whose wrappers are probed, "" if none */
	char libc_why[PATH_MAX + 128]; /* why not, when libc[0] == 0 */
	bool sock_layer; /* sock:sock_send_length is traced */
	bool sys_fentry; /* syscall layer: fentry, not raw sys_enter/exit */
	bool libc_on; /* the libc wrapper programs are loaded */
	struct tfo_libc *lp; /* per-process libc probes (tfo_libc.c) */
};

struct tfo_session_opts {
	enum backend backend;
	struct kernel_features *kf; /* its vmlinux BTF may be taken */
	bool only_fastopen; /* false: every send (--all, built-in) */
	bool all_sends; /* --all: made for volume (see sock_at_entry) */
	bool trace_libc; /* probe the libc send wrappers */
	pid_t libc_pid; /* whose libc to probe; 0 = the tracer's */
	bool libc_self; /* the tracer itself sends (built-in cases) */
	ring_buffer_sample_fn on_event;
	void *ctx;
};

/* Returns 0 or an exit code after reporting the error. */
int tfo_session_open(struct tfo_session *s, const struct tfo_session_opts *o);
/* Probe the libc send wrappers in process @pid (0 or an error code). */
int tfo_session_attach_libc(struct tfo_session *s, pid_t pid);
/* Add a thread group (and, from now on, its children) to the traced set. */
int tfo_session_trace(struct tfo_session *s, pid_t tgid);
unsigned long long tfo_session_lost(const struct tfo_session *s);
void tfo_session_close(struct tfo_session *s);

/* Send-path functions traced, by either kind of program. */
static inline int tfo_session_send_path_len(const struct tfo_session *s)
{
	return s->nfuncs + s->nsys_frames;
}

/* BTF prototype of kernel function @func, or NULL. */
const struct btf_type *kfunc_proto(const struct btf *btf, const char *func);
/* Index of the parameter named @param in @proto, or -1. */
int btf_param_index(const struct btf *btf, const struct btf_type *proto,
		    const char *param);

#endif
