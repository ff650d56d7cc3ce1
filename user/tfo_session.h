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

/* A send-path hook: its program and where its link is kept. */
struct send_hook {
	struct bpf_program **prog;
	struct bpf_link **link;
};

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
	/* fexit on the socket-giving functions asks for the send-path hooks */
	bool giver_fexit;
	bool libc_on; /* the libc wrapper programs are loaded */
	struct tfo_libc *lp; /* per-process libc probes (tfo_libc.c) */
	struct send_hook send_hooks[4];
	bool send_hooks_live; /* attached (tfo_session_attach_send_hooks) */
	bool function_hooks_tried; /* the fentry slots or kprobes, once */
};

struct tfo_session_opts {
	enum backend backend;
	struct kernel_features *kf; /* its vmlinux BTF may be taken */
	bool only_fastopen; /* false: every send (--all, built-in) */
	bool all_sends; /* --all: made for volume (see sock_at_entry) */
	bool trace_libc; /* probe the libc send wrappers */
	pid_t libc_pid; /* whose libc to probe; 0 = the tracer's */
	bool libc_self; /* the tracer itself sends (built-in cases) */
	unsigned long ring_bytes; /* the ring's size; 0: the default */
	/* attach the send-path hooks later (tfo_session_attach_send_hooks) */
	bool defer_send_hooks;
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
/* The tfo_totals map (verdict totals, tfo.bpf.c count_total()), or -1. */
int tfo_session_totals_fd(const struct tfo_session *s);
/* Records not in tfo_totals: their class found the map full. */
unsigned long long tfo_session_totals_full(const struct tfo_session *s);
/*
 * The send-path hooks (sock_send_length, inet_sock_set_state, net_dev_queue,
 * netif_receive_skb): attached at open unless defer_send_hooks; then when a
 * traced thread gets a socket (tfo.bpf.c stops it with SIGSTOP, the ptrace
 * loop calls tfo_session_take_stop()), or a process already holds one.
 * @why goes to -v. 0 or an exit code after reporting the error.
 */
int tfo_session_attach_send_hooks(struct tfo_session *s, const char *why);
/* A SIGSTOP of @tid: true if tfo.bpf.c asked for it (the hooks are then
 * attached). */
bool tfo_session_take_stop(struct tfo_session *s, pid_t tid);
/* tfo.bpf.c asked for a SIGSTOP of @tid that has not been taken yet. */
bool tfo_session_stop_pending(const struct tfo_session *s, pid_t tid);
/* Attach them if a request's stop never came (poll loop). */
void tfo_session_check_send_hooks(struct tfo_session *s);
/* Thread @tid is gone: a request of its that was never taken goes too. */
void tfo_session_forget_stop(struct tfo_session *s, pid_t tid);
/* No more stop requests (the ptrace of the traced processes ends). */
void tfo_session_stop_requests_end(struct tfo_session *s);
/* Every traced process is under tracer's ptrace from now on (until
 * tfo_session_stop_requests_end()): tfo.bpf.c filters on task->ptrace. */
void tfo_session_all_ptraced(struct tfo_session *s);
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
