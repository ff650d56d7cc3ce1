/* SPDX-License-Identifier: GPL-2.0 */
/* What `tracer pktleak` prints: strategy rows, summaries, sockets, timeline. */
#ifndef TRACER_PKTLEAK_REPORT_H
#define TRACER_PKTLEAK_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "pktleak_event.h"
#include "pktleak_exp.h"

#define PKT_MAX_RUNS 100

/* One strategy, one run: counts from BPF and from the reader. */
struct strategy_result {
	int strategy;
	int run;
	uint64_t gap_ns; /* socket()'s return to bind()'s entry (BPF) */
	uint64_t bind_duration_ns; /* bind()'s entry to its return (BPF) */
	uint64_t filter_attached_ns; /* first filter after socket(); 0: none */
	uint64_t queued_before_filter; /* after bind, before the filter */
	uint64_t unfiltered_read; /* ... and read once it was in place */
	uint64_t reached_before_bind;
	uint64_t queued_before_bind;
	uint64_t leaked_read; /* BPF */
	uint64_t reader_leaked; /* the reader's sll_ifindex */
	uint64_t target_lost;
	uint64_t target_read; /* BPF: bound-interface frames the reader got */
	uint64_t reader_read;
	uint64_t drained; /* frames the mitigation threw away */
	uint64_t cost_ns; /* the mitigation's own steps */
	uint64_t noise_sent; /* noise frames the lab sent during the gap */
	uint64_t untracked; /* frames of interfaces beyond PKT_MAX_IFACES */
	int nifs;
	struct {
		char name[PKT_IFNAMSIZ];
		int ifindex;
		uint64_t reached;
		uint64_t queued;
	} ifs[PKT_MAX_IFACES];
};

struct pkt_report {
	const char *backend;
	const char *backend_why;
	const char *reached_source;
	const char *queued_source;
	const struct exp_opts *opts;
	const struct exp_msg *ready; /* interfaces of the experiment */
	int nresults;
	struct strategy_result results[PKT_MAX_RUNS * PKT_NSTRATEGIES];
};

void pkt_report_setup(const struct pkt_report *r);
void pkt_report_strategy(const struct pkt_report *r,
			 const struct strategy_result *res);
/* After every run: the table (text), summaries and the recommendation. */
void pkt_report_finish(const struct pkt_report *r);

/* Watch mode: one socket, when it is closed or tracing ends. */
void pkt_report_socket(const struct pkt_sock *s, const char *closed_by,
		       uint64_t start_ns);
/*
 * Where a socket's timeline starts: its socket() call, or, for a socket made
 * before tracing began, when tracer first saw it.
 */
struct pkt_origin {
	uint64_t sk;
	uint64_t origin_ns;
	uint32_t tgid;
	int fd;
	bool at_socket; /* origin_ns is socket()'s return */
};

/* -v: one line of the timeline; @o NULL: a socket tracer never saw open. */
void pkt_report_frame(const struct pkt_frame_event *e,
		      const struct pkt_origin *o);
void pkt_report_sock_event(const struct pkt_sock_event *e,
			   const struct pkt_origin *o);

#endif
