/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's own Fast Open counters (TcpExt TCPFastOpen* of
 * /proc/net/netstat), per traced network namespace, before and after.
 */
#ifndef TRACER_TFO_NETSTAT_H
#define TRACER_TFO_NETSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "tfo_event.h"

enum tfo_counter {
	TFO_CTR_ACTIVE,
	TFO_CTR_ACTIVE_FAIL,
	TFO_CTR_COOKIE_REQD,
	TFO_CTR_BLACKHOLE,
	TFO_CTR_PASSIVE,
	TFO_CTR_PASSIVE_FAIL,
	TFO_CTR_LISTEN_OVERFLOW,
	TFO_NCOUNTERS,
};

/* "TCPFastOpenActive", ... as /proc/net/netstat names them. */
extern const char *const tfo_counter_names[TFO_NCOUNTERS];

/* How the "before" values of a namespace were taken. */
enum tfo_baseline {
	TFO_BASE_START, /* read when tracing began */
	TFO_BASE_NEW, /* created after tracing began: zero */
	TFO_BASE_LATE, /* existed before, first seen later: read then */
};

/* What BPF saw in one namespace, to set against its counters. */
struct tfo_bpf_counts {
	long long attempts;
	long long data_acked; /* syn_data_acked: TCPFastOpenActive */
	long long data_failed; /* data_not_acked, syn_retransmitted: ActiveFail */
	long long syn_timeouts; /* Fast Open SYNs that timed out: ActiveFail too */
	long long cookie_requests; /* cookie request options sent */
	long long accepts; /* accept()s of traced listeners */
	long long requests_received; /* ...whose SYN asked for a cookie */
	long long accepted_fastopen; /* ...that took the SYN's data: Passive */
};

struct tfo_netns {
	unsigned int inum;
	int fd; /* /proc/PID/ns/net, held so that it outlives its processes */
	enum tfo_baseline baseline;
	bool have_before, have_after;
	bool traced; /* a traced socket lives in it */
	long long before[TFO_NCOUNTERS], after[TFO_NCOUNTERS];
	char why[160]; /* why a read failed, "" if none did */
	struct tfo_bpf_counts bpf;
};

#define TFO_MAX_NETNS 16

struct tfo_netstat {
	unsigned int *existing; /* namespaces that existed at start */
	size_t nexisting;
	bool all_new; /* every namespace seen after start is new (built-in) */
	unsigned int want; /* the namespace hold_ns() is asked to hold */
	/* only namespaces already seen (the verdict's totals are counted
	 * after tracing: too late to read a new one's counters before) */
	bool frozen;
	struct tfo_netns ns[TFO_MAX_NETNS];
	int n;
};

/*
 * Tracing begins for @pid: remember which namespaces exist and read the
 * counters of @pid's. With @all_new, namespaces first seen later are known
 * to be made afterwards (the built-in investigation's own).
 */
void tfo_netstat_start(struct tfo_netstat *s, pid_t pid, bool all_new);
/* A traced socket, in the namespace of @e's socket: hold that namespace. */
struct tfo_netns *tfo_netstat_seen(struct tfo_netstat *s,
				   const struct tfo_event *e);
/* Read every held namespace's counters again. */
void tfo_netstat_finish(struct tfo_netstat *s);
/* delta of counter @c in @ns; false if unknown */
bool tfo_netstat_delta(const struct tfo_netns *ns, enum tfo_counter c,
		       long long *delta);
void tfo_netstat_close(struct tfo_netstat *s);

#endif
