/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The built-in investigation of `tracer tfo`: a child in a private network
 * namespace makes each send with MSG_FASTOPEN, in lock step with the tracer
 * so that every event is tied to its case.
 */
#ifndef TRACER_TFO_CASES_H
#define TRACER_TFO_CASES_H

#include <stdbool.h>

enum case_phase {
	CASE_SETUP, /* namespace ready; ret = listener port */
	CASE_BEGIN,
	CASE_END, /* ret/err: what the child's own call returned */
};

struct case_msg {
	int index;
	int attempt; /* 1-based; 0 when the case runs once */
	int phase; /* enum case_phase */
	int err; /* errno seen by the child, 0 on success */
	long ret;
	long refuse_port; /* CASE_SETUP: the listener without Fast Open */
};

struct tfo_case {
	const char *name;
	const char *what;
	int attempts;
};

extern const struct tfo_case tfo_cases[];
extern const int tfo_ncases;

/* Pipes between the tracer and the child, in the child's view. */
struct cases_link {
	int msg_fd; /* child -> tracer: struct case_msg */
	int ack_fd; /* tracer -> child: one byte per message */
};

/* target_fn body of the child; reports setup failure through @err_fd. */
int tfo_cases_child(void *link, int err_fd);

#endif
