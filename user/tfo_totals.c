// SPDX-License-Identifier: GPL-2.0
/*
 * The verdict's totals from BPF: tfo.bpf.c's count_total() counts every
 * record as it is emitted, in the tfo_totals map, whether or not the ring
 * had room. At the verdict each class is turned back into the event it
 * stands for and counted with tfo_report_count(), the function that counts
 * the records: one logic for both, exact figures from BPF.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <bpf/bpf.h>

#include "ksyms.h"
#include "names.h"
#include "tfo_fo.h"
#include "tfo_report.h"

/* A SYN's options that read as @opt in the report's tfo_option(). */
static void synth_syn_option(__u8 opt, struct tfo_syn *syn)
{
	if (opt == TFO_OPT_NONE || opt > TFO_OPT_COOKIE)
		return;
	syn->opts[0] = 34; /* TCPOPT_FASTOPEN, RFC 7413 */
	/* an empty option asks for a cookie; 8 bytes of cookie follow one */
	syn->opts[1] = opt == TFO_OPT_REQUEST ? 2 : 10;
	syn->opts_len = syn->opts[1];
}

void tfo_total_event(const struct tfo_total_key *k, struct tfo_event *e)
{
	__u16 b = k->bits;

	memset(e, 0, sizeof(*e));
	e->kind = k->kind;
	e->syscall = k->syscall;
	e->netns = k->netns;
	e->ret = k->err < 0 ? k->err : 0;
	e->flags = b & TFO_TB_FASTOPEN ? MSG_FASTOPEN : 0;
	e->addrlen = b & TFO_TB_ADDR ? 1 : 0; /* only > 0 or not is kept */
	e->nonblock = !!(b & TFO_TB_NONBLOCK);
	if (b & TFO_TB_LIBC) {
		e->libc.func = TFO_LIBC_SEND;
		e->libc.flags = e->flags ^ (b & TFO_TB_LIBC_CHANGED ? 1 : 0);
	}
	e->fo_attempt = !!(b & TFO_TB_FO_ATTEMPT);
	e->syn.seen = !!(b & TFO_TB_SYN);
	e->syn.payload = b & TFO_TB_SYN_DATA ? 1 : 0;
	if (e->syn.seen)
		synth_syn_option(k->syn_opt, &e->syn);
	e->fo.active_disabled = !!(b & TFO_TB_ACTIVE_DISABLED);
	if (k->kind == TFO_EV_ACCEPT)
		e->acc.data_acked = !!(b & TFO_TB_ACKED);
	else
		e->fo.syn_data_acked = !!(b & TFO_TB_ACKED);
	e->fo.client_fail = k->client_fail;
	e->fo.settled_by = k->settled_by;
	e->fo.closed_from = k->closed_from;
	e->acc.tfo_child = k->tfo_child;
	if (k->layer == TFO_LAYER_FUNCTION) {
		e->origin.valid = 1;
		e->origin.ip = k->origin;
	} else if (k->layer == TFO_LAYER_SOCKET) {
		e->sock_seen = 1;
		e->sock_ret = e->ret < 0 ? (__s32)e->ret : -1;
		e->proto_sendmsg = k->origin;
	}
}

/*
 * Add a send class to the verdict's rows: syscall, errno, and for a
 * rejection its origin (an EINPROGRESS or EAGAIN is no refusal: no origin).
 */
static void add_group(struct tfo_totals_src *t, const struct tfo_total_key *k,
		      const struct tfo_total_val *v, bool rejected)
{
	const char *origin = NULL;
	struct tfo_total_group g = {
		.syscall = tfo_syscall_name(k->syscall),
		.err = k->err < 0 ? errno_name(k->err) : NULL,
		.layer = rejected ? tfo_layer_name(k->layer) : NULL,
		.sends = (long long)v->count,
		.pid = (int)v->tgid,
	};

	if (rejected && k->origin)
		origin = ksyms_name_of(ksyms_get(), k->origin);
	snprintf(g.origin, sizeof(g.origin), "%s", origin ? origin : "");
	snprintf(g.comm, sizeof(g.comm), "%.*s", TFO_COMM_LEN, v->comm);
	for (int i = 0; i < t->ngroups; i++) {
		struct tfo_total_group *x = &t->groups[i];

		if (!strcmp(x->syscall, g.syscall) && x->err == g.err &&
		    x->layer == g.layer && !strcmp(x->origin, g.origin)) {
			x->sends += g.sends;
			return;
		}
	}
	if (t->ngroups == TFO_MAX_GROUPS) {
		t->groups_other += g.sends;
		return;
	}
	t->groups[t->ngroups++] = g;
}

/* What the verdict counted from records, kept before BPF's replace it. */
static void forget_record_totals(struct tfo_report *r)
{
	struct tfo_totals_src *t = &r->totals;

	t->rec_sends = r->sends;
	t->rec_libc_none = r->libc_none;
	t->rec_rejected = r->rejected;
	t->rec_in_progress = r->in_progress;
	r->sends = r->libc_seen = r->libc_changed = r->libc_none = 0;
	r->fastopen_ok_with_addr = r->einval_without_addr = 0;
	r->rejected = r->rejected_fastopen = r->in_progress = 0;
	memset(&r->fo, 0, sizeof(r->fo));
	for (int i = 0; i < r->netstat.n; i++)
		memset(&r->netstat.ns[i].bpf, 0, sizeof(r->netstat.ns[i].bpf));
}

/* Rows of the largest classes first. */
// NOLINTNEXTLINE(bugprone-easily-swappable-parameters): qsort's signature
static int by_sends(const void *a, const void *b)
{
	const struct tfo_total_group *x = a, *y = b;

	return (x->sends < y->sends) - (x->sends > y->sends);
}

void tfo_totals_apply(struct tfo_report *r)
{
	struct tfo_totals_src *t = &r->totals;
	int fd = r->session ? tfo_session_totals_fd(r->session) : -1;
	struct tfo_total_key k, next, *prev = NULL;
	struct tfo_total_val v;
	struct tfo_event e;

	if (fd < 0) {
		t->rec_sends = r->sends;
		t->rec_libc_none = r->libc_none;
		t->rec_rejected = r->rejected;
		t->rec_in_progress = r->in_progress;
		return;
	}
	forget_record_totals(r);
	t->from_bpf = true;
	/* namespaces are those the records showed (tfo_netstat_seen()) */
	r->netstat.frozen = true;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &v) || !v.count)
			continue;
		tfo_total_event(&k, &e);
		tfo_report_count(r, &e, (long long)v.count);
		if (k.kind == TFO_EV_SEND)
			add_group(t, &k, &v, tfo_outcome_rejected(&e));
	}
	r->netstat.frozen = false;
	qsort(t->groups, t->ngroups, sizeof(t->groups[0]), by_sends);
	t->map_full = tfo_session_totals_full(r->session);
	t->exact = !t->map_full;
}
