/* SPDX-License-Identifier: GPL-2.0 */
/* Turning tfo events into text or JSON lines, and the closing verdict. */
#ifndef TRACER_TFO_REPORT_H
#define TRACER_TFO_REPORT_H

#include "tfo_event.h"
#include "tfo_netstat.h"
#include "tfo_session.h"

#define TFO_MAX_REJECTIONS 64

struct tfo_rejection {
	char case_name[32]; /* "" outside the built-in investigation */
	char comm[16];
	int pid;
	const char *syscall;
	const char *err;
	char function[64];
	const char *layer;
	char condition[192];
};

/* Sends that did not fail: in progress (EINPROGRESS, EALREADY, EAGAIN). */
struct tfo_progress {
	char case_name[32];
	char comm[16];
	int pid;
	const char *syscall;
	const char *err;
	char what[200]; /* what left the host, what did not */
};

/* Fast Open attempts and their answers (see tfo_report_fastopen_*). */
struct tfo_fo_stats {
	long long attempts;
	long long data_in_syn; /* the SYN carried data */
	long long data_acked; /* ...and the SYN-ACK acked it */
	long long fell_back; /* answered: data not in the SYN, or not acked */
	long long pending; /* answer not known (yet) */
	long long no_answer; /* no handshake: the SYN refused or timed out */
	long long cookie_requests;
	long long no_cookie;
	long long active_disabled;
	long long results_later; /* answers that came after the syscall returned */
	long long accepts; /* accept()s of traced listeners */
	long long accepts_fastopen; /* ...of connections whose SYN data was taken */
};

/* Sends of one syscall, errno and origin: a row of the verdict's totals. */
struct tfo_total_group {
	const char *syscall;
	const char *err; /* NULL: success */
	const char *layer; /* NULL: not refused */
	char origin[64]; /* "" if none */
	long long sends;
	int pid; /* the first process counted */
	char comm[16];
};

#define TFO_MAX_GROUPS 32

/*
 * Where the verdict's totals come from: BPF's tfo_totals map, counted as
 * each record was emitted (exact, whether or not the ring had room), or the
 * records that arrived (no map: the fuzzers).
 */
struct tfo_totals_src {
	bool from_bpf;
	bool exact; /* from_bpf, and no class found the map full */
	unsigned long long map_full; /* records not counted: map full */
	/* the same figures from the records that arrived */
	long long rec_sends;
	long long rec_libc_none;
	long long rec_rejected;
	long long rec_in_progress;
	int ngroups;
	long long groups_other; /* sends of classes past TFO_MAX_GROUPS */
	struct tfo_total_group groups[TFO_MAX_GROUPS];
};

struct tfo_report {
	const struct tfo_session *session;
	long long sends;
	/* ring records of a wrong size or unknown kind, dropped */
	unsigned long long malformed_records;
	long long libc_seen; /* sends whose libc wrapper was seen */
	long long libc_changed; /* ...and handed the kernel other flags */
	long long libc_none; /* sends no libc wrapper made (the next two) */
	long long libc_unseen; /* libc_status "bypassed": probed, not called */
	long long libc_not_probed; /* libc_status "not_probed" */
	char libc_not_probed_why[256]; /* the first reason */
	long long fastopen_ok_with_addr; /* sendmsg/sendto + MSG_FASTOPEN + address */
	long long einval_without_addr;
	long long rejected; /* rejected sends; rej[] lists the first ones */
	long long in_progress; /* sends in progress; prog[] lists the first */
	int nrej;
	struct tfo_rejection rej[TFO_MAX_REJECTIONS];
	long long rejected_fastopen; /* rejected sends that carried MSG_FASTOPEN */
	int nprog;
	struct tfo_progress prog[TFO_MAX_REJECTIONS];
	struct tfo_fo_stats fo;
	struct tfo_netstat netstat;
	struct tfo_totals_src totals;
};

/* First line: the backend and why; then the setup, in text mode. */
void tfo_report_start(struct tfo_report *r, const struct tfo_session *s,
		      const char *backend_why);
/* One send; @case_name is NULL outside the built-in investigation. */
void tfo_report_send(struct tfo_report *r, const struct tfo_event *e,
		     const char *case_name, int attempt);
/*
 * Tracing begins for @pid: note the network namespaces and the Fast Open
 * counters (@all_new: namespaces seen later are made after this point).
 */
void tfo_report_watch(struct tfo_report *r, pid_t pid, bool all_new);
void tfo_report_verdict(struct tfo_report *r);
void tfo_report_close(struct tfo_report *r);
/*
 * One record from the ring, as handle_event() got it: checked (size, kind),
 * copied, and reported with tfo_report_send(); 0, or -EINVAL when it is
 * malformed (counted in malformed_records, nothing printed).
 */
int tfo_decode_record(struct tfo_report *r, const void *data, size_t size,
		      const char *case_name, int attempt);
/*
 * Add @n records like @e to the verdict's totals (what a record counts for,
 * without printing it); the same for records and for BPF's counts.
 */
void tfo_report_count(struct tfo_report *r, const struct tfo_event *e,
		      long long n);
/*
 * Replace the totals counted from records with BPF's exact ones
 * (tfo_totals.c); a no-op without a loaded skeleton.
 */
void tfo_totals_apply(struct tfo_report *r);
/* The event a tfo_totals key stands for: what the totals are computed from. */
void tfo_total_event(const struct tfo_total_key *k, struct tfo_event *e);
/* The Fast Open option of a SYN: "cookie", "cookie request" or NULL. */
const char *tfo_syn_option(const struct tfo_syn *syn);

/* "sendto", "sendmsg", ... for a TFO_SYS_* value; "?" for another. */
const char *tfo_syscall_name(__u32 sc);
/*
 * "function", "socket" or "syscall" for a TFO_LAYER_* value, NULL for
 * TFO_LAYER_NONE.
 */
const char *tfo_layer_name(__u8 layer);

#endif
