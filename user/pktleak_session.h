/* SPDX-License-Identifier: GPL-2.0 */
/* Loading and attaching the pktleak skeleton for one backend. */
#ifndef TRACER_PKTLEAK_SESSION_H
#define TRACER_PKTLEAK_SESSION_H

#include <stdbool.h>
#include <sys/types.h>

#include <bpf/libbpf.h>

#include "pktleak_event.h"
#include "probe.h"

#define PKT_MAX_LINKS 16

struct btf;

struct pkt_session {
	struct pktleak_bpf *skel;
	struct ring_buffer *rb;
	enum backend backend;
	struct bpf_link *links[PKT_MAX_LINKS];
	int nlinks;
	/* how "reached" is measured on this backend, for the report */
	const char *reached_source;
	const char *queued_source;
};

struct pkt_session_opts {
	enum backend backend;
	const struct kernel_features *kf;
	bool trace_all; /* every process's packet sockets (--all) */
	bool follow_children; /* trace the children of traced processes */
	bool sys_fentry; /* syscall layer: fentry (pkt_sys_fentry_ok()) */
	bool timeline; /* one event per frame (-v) */
	/* count frames reaching a socket after bind() too (the experiment) */
	bool reached_after_bind;
	unsigned int snaplen; /* -w: bytes per leaked frame, 0: none */
	ring_buffer_sample_fn on_event;
	ring_buffer_sample_fn on_frame; /* struct pkt_frame_data, with -w */
	void *ctx;
};

/*
 * Check that @backend can count what pktleak needs on this kernel. Returns 0,
 * or EXIT_NOSUPPORT with the reason in @why.
 */
int pkt_backend_check(const struct kernel_features *kf, enum backend backend,
		      char *why, size_t why_len);
/*
 * Whether the fentry backend can take the syscall layer from the functions
 * behind the syscalls (in @vmlinux BTF), said under -v;
 * else it takes raw sys_enter/sys_exit.
 */
bool pkt_sys_fentry_ok(const struct btf *vmlinux);
/* Returns 0 or an exit code after reporting the error. */
int pkt_session_open(struct pkt_session *s, const struct pkt_session_opts *o);
/* Add a thread group to the traced set. */
int pkt_session_trace(struct pkt_session *s, pid_t tgid);
/* The counts of socket @fd of @tgid so far: 0, or -ENOENT if not tracked. */
int pkt_session_socket(const struct pkt_session *s, pid_t tgid, int fd,
		       struct pkt_sock *out);
/* Call @fn for every socket still tracked (open when tracing ends). */
void pkt_session_for_each(const struct pkt_session *s,
			  void (*fn)(const struct pkt_sock *, void *),
			  void *ctx);
unsigned long long pkt_session_lost(const struct pkt_session *s);
/* -w: leaked frames BPF had no ring room for. */
unsigned long long pkt_session_frames_lost(const struct pkt_session *s);
void pkt_session_close(struct pkt_session *s);

#endif
