/* SPDX-License-Identifier: GPL-2.0 */
/* Turning tfo events into text or JSON lines, and the closing verdict. */
#ifndef TRACER_TFO_REPORT_H
#define TRACER_TFO_REPORT_H

#include "tfo_event.h"
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

struct tfo_report {
	const struct tfo_session *session;
	int sends;
	int libc_seen; /* sends whose libc wrapper was seen */
	int libc_changed; /* ...and handed the kernel other flags */
	int libc_unseen; /* libc_status "bypassed": probed, not called */
	int libc_not_probed; /* libc_status "not_probed" */
	char libc_not_probed_why[256]; /* the first reason */
	int fastopen_ok_with_addr; /* sendmsg/sendto + MSG_FASTOPEN + address */
	int einval_without_addr;
	int nrej;
	struct tfo_rejection rej[TFO_MAX_REJECTIONS];
};

/* First line: the backend and why; then the setup, in text mode. */
void tfo_report_start(struct tfo_report *r, const struct tfo_session *s,
		      const char *backend_why);
/* One send; @case_name is NULL outside the built-in investigation. */
void tfo_report_send(struct tfo_report *r, const struct tfo_event *e,
		     const char *case_name, int attempt);
void tfo_report_verdict(struct tfo_report *r);

#endif
