/* SPDX-License-Identifier: GPL-2.0 */
/* What this kernel allows, and which backend `auto` picks. */
#ifndef TRACER_PROBE_H
#define TRACER_PROBE_H

#include <stdbool.h>

#include "tracer.h"

struct feature {
	bool ok;
	char why[160]; /* reason when !ok ("program load refused with EPERM") */
};

struct btf;

struct kernel_features {
	char release[65]; /* uname -r */
	struct feature btf; /* /sys/kernel/btf/vmlinux loads */
	int btf_errno; /* why it did not (ENOMEM: address space limit) */
	struct feature
		fentry; /* fentry+fexit program really loads and attaches */
	struct feature kprobe; /* kprobe+kretprobe really attach */
	struct feature tp_btf; /* tp_btf program loads and attaches */
	/*
	 * tracepoint: classic tracepoints (tracefs mounted, event id, program
	 * loads); uprobe: uprobe PMU, program loads. No backend needs them, and
	 * detaching a perf event costs RCU grace periods (40-150 ms), so only
	 * `tracer probe` also attaches them (uprobe: to our own code).
	 */
	struct feature tracepoint;
	struct feature uprobe;
	struct feature ringbuf; /* BPF_MAP_TYPE_RINGBUF */
	struct feature sock_send_length; /* sock:sock_send_length (6.3+) */
	struct feature sk_data_ready; /* sock:sk_data_ready (6.3+) */
	/* The vmlinux BTF probe_kernel() parsed (~9 ms, ~6 MiB on 6.18), for
	 * a session to take over; else freed by kernel_features_release(). */
	struct btf *vmlinux;
};

/* Fill @kf; each probe really loads a tiny program where that is the test. */
void probe_kernel(struct kernel_features *kf);
/* Free what @kf still owns (its vmlinux BTF, unless taken). */
void kernel_features_release(struct kernel_features *kf);

/*
 * Pick the backend for @requested (BACKEND_AUTO tries fentry, kprobe,
 * tracepoint in that order). On success returns 0, sets *chosen and writes
 * a human reason to @why ("fentry: program load refused with EPERM; kprobe:
 * ..."). If the requested backend (or every backend) is unavailable, returns
 * EXIT_NOSUPPORT with the reason in @why (EXIT_RUNTIME if the BTF parse ran
 * out of memory).
 */
int backend_select(const struct kernel_features *kf, enum backend requested,
		   enum backend *chosen, char *why, size_t why_len);

/*
 * Check that the process may load and attach BPF tracing programs:
 * (CAP_BPF or CAP_SYS_ADMIN) and (CAP_PERFMON or CAP_SYS_ADMIN). Returns 0, or
 * EXIT_NOSUPPORT after reporting a one-line error naming the missing capability.
 */
int require_bpf_caps(void);

/* `tracer probe`: print the features, the refusals and the auto choice. */
int cmd_probe(int argc, char **argv);
/*
 * Its options alone, without acting: 0, -1 after --help (printed), or
 * EXIT_USAGE after reporting the error. getopt_long() from optind.
 */
int probe_parse_args(int argc, char **argv);
/* Its getopt tables (main() picks the global options out of argv). */
extern const struct cmd_options probe_options;

#endif
