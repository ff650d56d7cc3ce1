/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The outcome of a send (success, in progress, rejected) and whether its
 * Fast Open attempt worked: decoding, text and JSON, and the verdict's
 * fastopen and netstat parts.
 */
#ifndef TRACER_TFO_FO_H
#define TRACER_TFO_FO_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "jsonw.h"
#include "tfo_event.h"
#include "tfo_report.h"

/* A send's Fast Open attempt, decoded. */
struct fo_view {
	bool present; /* the send made one */
	const char *cookie; /* "request", "sent" or "none" */
	unsigned int data_in_syn;
	int data_acked; /* 1, 0, or -1 while not known */
	const char *fail_reason; /* the kernel's fastopen_client_fail, or NULL */
	bool no_cookie;
	const char *no_cookie_why;
	bool active_disabled;
	const char *answer_from; /* where the answer was read, or NULL */
	/* No handshake: "refused" (RST), "timed_out" or "closed"; or NULL. */
	const char *no_answer;
};

/* "success", "in_progress" or "rejected". */
const char *tfo_outcome(const struct tfo_event *e);
bool tfo_outcome_rejected(const struct tfo_event *e);
/* @tfo_option: the SYN's option as the report decoded it ("cookie", ...). */
void tfo_fo_decode(const struct tfo_event *e, const char *tfo_option,
		   struct fo_view *fv);
/* What left the host and what did not, or "" when nothing needs saying. */
void tfo_outcome_detail(const struct tfo_event *e, const struct fo_view *fv,
			char *buf, size_t len);
/* The "fastopen" member of a send or fastopen_result line; null if absent. */
void tfo_fo_jw(struct jw *w, const char *key, const struct fo_view *fv);
/* The "  fastopen ..." line of a send. */
void tfo_fo_print(const struct fo_view *fv, bool nonblock);
/* The answer in words, e.g. "data acked by the SYN-ACK: Fast Open worked". */
void tfo_fo_answer_text(const struct fo_view *fv, bool nonblock, char *buf,
			size_t len);

/* Count a send (@later: an answer that came after its syscall). */
void tfo_fo_account(struct tfo_report *r, const struct tfo_event *e,
		    const struct fo_view *fv, bool later, long long n);
/* A send that is in progress, for the verdict's list. */
void tfo_progress_add(struct tfo_report *r, const struct tfo_progress *p);

/* Count @n accepts like @e (the verdict's totals), print nothing. */
void tfo_fo_count_accept(struct tfo_report *r, const struct tfo_event *e,
			 long long n);
/* accept() of a traced listener. */
void tfo_report_accept(struct tfo_report *r, const struct tfo_event *e,
		       const char *case_name);

void tfo_fo_verdict_text(struct tfo_report *r);
void tfo_fo_verdict_json(struct tfo_report *r, json_object *o);

#endif
