/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The built-in experiment's child: it builds the private test network, opens
 * a packet socket per strategy and reads from it, in lock step with the
 * tracer, which snapshots the BPF counts at each step.
 */
#ifndef TRACER_PKTLEAK_EXP_H
#define TRACER_PKTLEAK_EXP_H

#include <stdbool.h>
#include <stdint.h>

#define PKT_NSTRATEGIES 6
#define EXP_IFNAMSIZ 16

enum strategy_id {
	STRAT_ALL_THEN_BIND,
	STRAT_DRAIN,
	STRAT_PROTO0,
	STRAT_FILTER,
	STRAT_RING,
	STRAT_LATE_FILTER,
};

struct strategy {
	const char *name; /* JSON name */
	const char *title; /* table label */
	const char *how; /* one line for --help and -v */
};

extern const struct strategy strategies[PKT_NSTRATEGIES];

struct exp_opts {
	unsigned int rate; /* noise frames/s */
	unsigned int target_rate; /* target flow frames/s */
	unsigned int gap_ms; /* socket() to bind() */
	unsigned int window_ms; /* reading after bind */
	unsigned int filter_gap_ms; /* strategy 6: bind() to the filter */
	unsigned int repeat;
	const char *ifname; /* -i: an existing interface, no lab */
	unsigned int strategy_mask; /* bit per enum strategy_id */
};

enum exp_phase {
	EXP_READY, /* network up: names and ifindexes */
	EXP_SOCKET, /* socket open (and set up), gap starts */
	EXP_BOUND, /* bind() returned */
	EXP_DRAINED, /* mitigation after bind done, reading starts */
	EXP_DONE, /* read window over: the reader's counts */
};

/* What the reader itself saw, from each frame's sockaddr_ll.sll_ifindex. */
struct reader_counts {
	uint64_t read; /* frames read in the window */
	uint64_t leaked; /* ... from another interface than the bound one */
	uint64_t drained; /* frames the mitigation read and threw away */
	uint64_t drained_target; /* ... of those, from the bound interface */
};

struct exp_msg {
	int phase;
	int strategy;
	int run; /* repetition, 0-based */
	int fd;
	int err; /* errno of a failed step, then the child exits */
	uint64_t ts_ns; /* CLOCK_MONOTONIC, as bpf_ktime_get_ns() */
	uint64_t cost_ns; /* time spent in the mitigation's own steps */
	struct reader_counts reader;
	/* EXP_READY */
	int target_ifindex;
	int noise_ifindex;
	char target_ifname[EXP_IFNAMSIZ];
	char noise_ifname[EXP_IFNAMSIZ];
	/* noise and target frames sent so far by the lab (0 with -i) */
	uint64_t noise_sent;
	uint64_t target_sent;
};

struct exp_link {
	int msg_fd; /* child -> tracer */
	int ack_fd; /* tracer -> child */
	const struct exp_opts *opts;
};

/* target_fn: run in the spawned child once the tracer is attached. */
int exp_child(void *arg, int err_fd);

#endif
