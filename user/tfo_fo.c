// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "names.h"
#include "output.h"
#include "tfo_fo.h"

#define TFO_CLIENT_NO_COOKIE 0x4 /* net.ipv4.tcp_fastopen */
#define KERNEL_TCP_SYN_SENT 2
#define KERNEL_TCP_CLOSE 7

/* enum tcp_fastopen_client_fail (include/uapi/linux/tcp.h) */
static const char *const fail_reasons[] = {
	[1] = "cookie_unavailable",
	[2] = "data_not_acked",
	[3] = "syn_retransmitted",
};

bool tfo_outcome_rejected(const struct tfo_event *e)
{
	return !strcmp(tfo_outcome(e), "rejected");
}

/*
 * EINPROGRESS and EALREADY say a connection is on its way (the nonblocking
 * Fast Open send without a cookie returns EINPROGRESS from
 * __inet_stream_connect() after its SYN left); EAGAIN on a nonblocking
 * socket says "try later". None of them is a refusal.
 */
const char *tfo_outcome(const struct tfo_event *e)
{
	long err = errno_of(e->ret);

	if (e->ret >= 0)
		return "success";
	if (err == EINPROGRESS || err == EALREADY ||
	    (err == EAGAIN && e->nonblock))
		return "in_progress";
	return "rejected";
}

static const char *no_cookie_why(const struct tfo_event *e)
{
	if (e->fo.no_cookie_opt)
		return "TCP_FASTOPEN_NO_COOKIE on the socket";
	if (e->netns_tcp_fastopen & TFO_CLIENT_NO_COOKIE)
		return "TFO_CLIENT_NO_COOKIE (0x4) in net.ipv4.tcp_fastopen";
	return "the route's fastopen_no_cookie";
}

static const char *answer_from(__u8 settled_by)
{
	switch (settled_by) {
	case TFO_SETTLED_SYSCALL:
		return "syscall";
	case TFO_SETTLED_FRAME:
		return "next_frame";
	case TFO_SETTLED_STATE:
		return "state_change";
	default:
		return NULL;
	}
}

/*
 * The connection never got past SYN_SENT, so no SYN-ACK answered the Fast
 * Open option: closed, reset or timed out there (read at the state change),
 * or a call that waited and failed as only SYN_SENT fails: tcp_reset() gives
 * ECONNREFUSED in SYN_SENT alone, and tcp_write_timeout() ETIMEDOUT once the
 * SYN retries ran out (a connection past the handshake takes minutes to).
 * fastopen_client_fail 2 and 3 are set only while processing a SYN-ACK
 * (tcp_rcv_fastopen_synack()).
 */
static const char *no_answer(const struct tfo_event *e)
{
	const struct tfo_fastopen *fo = &e->fo;

	if (fo->syn_data_acked || fo->client_fail >= 2)
		return NULL;
	if (fo->settled_by == TFO_SETTLED_STATE)
		return fo->closed_from == KERNEL_TCP_SYN_SENT ? "closed" : NULL;
	if (fo->settled_by != TFO_SETTLED_SYSCALL)
		return NULL;
	switch (errno_of(e->ret)) {
	case ECONNREFUSED:
		return "refused";
	case ETIMEDOUT:
		return "timed_out";
	default:
		return NULL;
	}
}

void tfo_fo_decode(const struct tfo_event *e, const char *tfo_option,
		   struct fo_view *fv)
{
	const struct tfo_fastopen *fo = &e->fo;

	memset(fv, 0, sizeof(*fv));
	fv->data_acked = -1;
	if (!e->fo_attempt)
		return;
	fv->present = true;
	if (!tfo_option)
		fv->cookie = "none";
	else
		fv->cookie = strcmp(tfo_option, "cookie") ? "request" : "sent";
	fv->data_in_syn = e->syn.payload;
	if (fo->client_fail && fo->client_fail < 4)
		fv->fail_reason = fail_reasons[fo->client_fail];
	fv->no_cookie = fv->data_in_syn && !tfo_option;
	fv->no_cookie_why = fv->no_cookie ? no_cookie_why(e) : NULL;
	fv->active_disabled = fo->active_disabled;
	fv->answer_from = answer_from(fo->settled_by);
	fv->no_answer = fv->answer_from ? no_answer(e) : NULL;
	if (fv->answer_from && !fv->no_answer)
		fv->data_acked = fo->syn_data_acked;
}

/* What the SYN was: "SYN with cookie and 16 bytes of data", ... */
static void syn_text(const struct fo_view *fv, char *buf, size_t len)
{
	if (fv->active_disabled && !strcmp(fv->cookie, "none") &&
	    !fv->data_in_syn)
		snprintf(buf, len,
			 "plain SYN (active Fast Open disabled in this "
			 "namespace by blackhole detection)");
	else if (!strcmp(fv->cookie, "request"))
		snprintf(buf, len, "SYN with a cookie request%s",
			 fv->data_in_syn ? " and data" : ", no data");
	else if (!strcmp(fv->cookie, "sent"))
		snprintf(buf, len, "SYN with cookie and %u bytes of data",
			 fv->data_in_syn);
	else if (fv->no_cookie)
		snprintf(buf, len, "SYN with %u bytes of data, no cookie (%s)",
			 fv->data_in_syn, fv->no_cookie_why);
	else
		snprintf(buf, len, "SYN without Fast Open option or data");
}

void tfo_fo_answer_text(const struct fo_view *fv, bool nonblock, char *buf,
			size_t len)
{
	if (fv->no_answer && !strcmp(fv->no_answer, "refused"))
		snprintf(buf, len,
			 "no handshake: the SYN was refused (ECONNREFUSED: a "
			 "reset, or ICMP port unreachable)");
	else if (fv->no_answer && !strcmp(fv->no_answer, "timed_out"))
		snprintf(buf, len,
			 "no handshake: no SYN-ACK came before the SYN "
			 "retries ran out (ETIMEDOUT)");
	else if (fv->no_answer)
		snprintf(buf, len,
			 "the connection closed before any answer came");
	else if (fv->data_acked < 0)
		snprintf(buf, len, "answer not known yet%s",
			 nonblock ? " (nonblocking): reported when the SYN-ACK "
				    "has been processed" :
				    "");
	else if (fv->data_acked)
		snprintf(buf, len,
			 "data acked by the SYN-ACK: Fast Open worked");
	else if (fv->data_in_syn && fv->fail_reason &&
		 !strcmp(fv->fail_reason, "syn_retransmitted"))
		snprintf(buf, len,
			 "data not acked: the SYN was retransmitted and the "
			 "SYN-ACK acked only the SYN (syn_retransmitted); the "
			 "data went again after the handshake");
	else if (fv->data_in_syn)
		snprintf(buf, len,
			 "data not acked (%s): the server acked only the SYN; "
			 "the kernel sent the data again after the handshake",
			 fv->fail_reason ? fv->fail_reason : "no reason set");
	else if (fv->fail_reason &&
		 !strcmp(fv->fail_reason, "cookie_unavailable"))
		snprintf(
			buf, len,
			"no cookie cached for this server (cookie_unavailable):"
			" the data goes after the handshake");
	else
		snprintf(buf, len, "no data in the SYN: a regular handshake");
}

void tfo_fo_print(const struct fo_view *fv, bool nonblock)
{
	char syn[160], answer[200];

	if (!fv->present)
		return;
	syn_text(fv, syn, sizeof(syn));
	tfo_fo_answer_text(fv, nonblock, answer, sizeof(answer));
	printf("  fastopen %s; %s\n", syn, answer);
}

static const char *progress_syn(const struct tfo_event *e,
				const struct fo_view *fv, char *buf, size_t len)
{
	if (!e->syn.seen)
		return "nothing left the host during the call";
	if (fv->present && !strcmp(fv->cookie, "request"))
		snprintf(buf, len, "SYN with a cookie request");
	else if (fv->present)
		syn_text(fv, buf, len);
	else
		snprintf(buf, len, "a SYN");
	strncat(buf, " sent", len - strlen(buf) - 1);
	return buf;
}

/* Settled at the call's exit by its own state changes: closed already. */
static bool closed_at_exit(const struct tfo_event *e, const struct fo_view *fv)
{
	return e->kind == TFO_EV_SEND &&
	       e->fo.settled_by == TFO_SETTLED_STATE && fv->no_answer &&
	       !strcmp(fv->no_answer, "closed");
}

void tfo_outcome_detail(const struct tfo_event *e, const struct fo_view *fv,
			char *buf, size_t len)
{
	char syn[160];
	long err = errno_of(e->ret);

	buf[0] = '\0';
	if (err == EINPROGRESS && closed_at_exit(e, fv))
		snprintf(buf, len,
			 "%s; the connection closed during the call, before "
			 "any answer (its state changes): it will not complete",
			 progress_syn(e, fv, syn, sizeof(syn)));
	else if (err == EINPROGRESS && e->syscall == TFO_SYS_CONNECT)
		snprintf(buf, len,
			 "%s; the connection completes when the SYN-ACK "
			 "arrives, the first write then sends the data",
			 progress_syn(e, fv, syn, sizeof(syn)));
	else if (err == EINPROGRESS)
		snprintf(buf, len, "%s, data not sent yet",
			 progress_syn(e, fv, syn, sizeof(syn)));
	else if (err == EALREADY)
		snprintf(
			buf, len,
			"a connection attempt was already under way: this call "
			"sent nothing");
	else if (err == EAGAIN && e->nonblock)
		snprintf(buf, len, "it would have blocked: nothing sent");
	else if (e->ret == 0 && e->syscall == TFO_SYS_CONNECT &&
		 e->fastopen_connect && !e->syn.seen)
		snprintf(buf, len,
			 "connect deferred (TCP_FASTOPEN_CONNECT, a cookie is "
			 "cached): no SYN yet, the first write sends it with "
			 "its data");
	else if (e->ret >= 0 && e->first_write &&
		 e->state_at_entry != KERNEL_TCP_SYN_SENT &&
		 e->state_at_entry != KERNEL_TCP_CLOSE)
		snprintf(buf, len,
			 "first write after a TCP_FASTOPEN_CONNECT connect(): "
			 "the socket was already connected, the data went as "
			 "ordinary data");
	else if (e->ret >= 0 && e->fastopen_connect &&
		 e->syscall != TFO_SYS_CONNECT && e->syn.seen)
		snprintf(buf, len,
			 "first write after a TCP_FASTOPEN_CONNECT connect(): "
			 "it sent the SYN");
}

void tfo_fo_jw(struct jw *w, const char *key, const struct fo_view *fv)
{
	if (!fv->present) {
		jw_null(w, key);
		return;
	}
	jw_object(w, key);
	jw_str(w, "cookie", fv->cookie);
	jw_int(w, "data_in_syn", fv->data_in_syn);
	if (fv->data_acked < 0)
		jw_null(w, "data_acked");
	else
		jw_bool(w, "data_acked", fv->data_acked);
	jw_str(w, "fail_reason", fv->fail_reason);
	jw_bool(w, "no_cookie", fv->no_cookie);
	jw_str(w, "no_cookie_reason", fv->no_cookie_why);
	jw_bool(w, "active_disabled", fv->active_disabled);
	jw_str(w, "answer_from", fv->answer_from);
	jw_str(w, "no_answer", fv->no_answer);
	jw_close_object(w);
}

/* ------------------------------------------------------ server side */

#define TFO_SERVER_ENABLE 0x2 /* net.ipv4.tcp_fastopen */

/*
 * The cookie the SYN presented, judged by what the listener did with it:
 * tcp_try_fastopen() makes a Fast Open child (taking the SYN's data) only
 * for a valid cookie. A cookie whose data was not taken was invalid, or the
 * listener's Fast Open queue was full (TCPFastOpenListenOverflow): inferred.
 */
static const char *accept_cookie(const struct tfo_event *e, const char *opt,
				 bool *inferred)
{
	*inferred = false;
	if (!e->syn.seen)
		return NULL;
	if (!opt)
		return "none";
	if (strcmp(opt, "cookie") != 0)
		return "request";
	if (e->acc.data_acked || e->acc.tfo_child == 1)
		return "valid";
	*inferred = true;
	if (e->acc.tfo_child == 0 || e->syn.payload)
		return "invalid";
	return NULL;
}

static void print_accept_text(const struct tfo_event *e, const char *cookie,
			      bool inferred)
{
	printf("\naccept(fd %d) on listener fd %d by %s[%d]: ", e->fd,
	       e->acc.listen_fd, e->comm, e->tgid);
	if (!e->syn.seen)
		printf("SYN not seen (it came before tracer watched this "
		       "listener)");
	else
		printf("SYN with %s, %u bytes of data",
		       !strcmp(cookie ? cookie : "", "none") ?
			       "no Fast Open option" :
		       !strcmp(cookie ? cookie : "", "request") ?
			       "a cookie request" :
			       "a cookie",
		       e->syn.payload);
	if (cookie && strcmp(cookie, "none") != 0 &&
	    strcmp(cookie, "request") != 0)
		printf("; cookie %s%s", cookie,
		       inferred ? " (inferred: its data was not taken; a full "
				  "Fast Open queue does the same)" :
				  "");
	printf("; %s\n", e->acc.data_acked ?
				 "data taken from the SYN (Fast Open)" :
				 "no data taken from the SYN");
	printf("  listener TCP_FASTOPEN queue %d; net.ipv4.tcp_fastopen %#x: "
	       "server bit %#x %s\n",
	       e->acc.max_qlen, e->netns_tcp_fastopen, TFO_SERVER_ENABLE,
	       e->netns_tcp_fastopen & TFO_SERVER_ENABLE ? "set" : "clear");
}

static void print_accept_json(const struct tfo_event *e, const char *cookie,
			      bool inferred, const char *case_name)
{
	json_object *o = json_object_new_object();
	json_object *fo = json_object_new_object();
	json_object *l = json_object_new_object();

	json_add(o, "event", json_object_new_string("accept"));
	json_add(o, "case",
		 case_name ? json_object_new_string(case_name) : NULL);
	json_add(o, "pid", json_object_new_int((int)e->tgid));
	json_add(o, "tid", json_object_new_int((int)e->tid));
	json_add(o, "comm", json_object_new_string(e->comm));
	json_add(o, "fd", json_object_new_int(e->fd));
	json_add(o, "listener_fd", json_object_new_int(e->acc.listen_fd));
	json_add(fo, "data_in_syn",
		 e->syn.seen ? json_object_new_int64(e->syn.payload) : NULL);
	json_add(fo, "cookie", cookie ? json_object_new_string(cookie) : NULL);
	json_add(fo, "cookie_inferred", json_object_new_boolean(inferred));
	json_add(fo, "accepted", json_object_new_boolean(e->acc.data_acked));
	json_add(o, "fastopen", fo);
	json_add(l, "fastopen_queue", json_object_new_int(e->acc.max_qlen));
	json_add(l, "server_enabled",
		 json_object_new_boolean(e->netns_tcp_fastopen &
					 TFO_SERVER_ENABLE));
	json_add(l, "tcp_fastopen", json_object_new_int(e->netns_tcp_fastopen));
	json_add(o, "listener", l);
	json_print_line(o);
}

/* @n accepts like @e in the verdict's totals (records or BPF's counts). */
void tfo_fo_count_accept(struct tfo_report *r, const struct tfo_event *e,
			 long long n)
{
	struct tfo_netns *ns = tfo_netstat_seen(&r->netstat, e);
	const char *opt = e->syn.seen ? tfo_syn_option(&e->syn) : NULL;
	bool inferred;
	const char *cookie = accept_cookie(e, opt, &inferred);

	if (e->ret < 0)
		return; /* no connection: nothing to say about Fast Open */
	r->fo.accepts += n;
	r->fo.accepts_fastopen += e->acc.data_acked ? n : 0;
	if (!ns)
		return;
	ns->bpf.accepts += n;
	ns->bpf.requests_received += cookie && !strcmp(cookie, "request") ? n :
									    0;
	ns->bpf.accepted_fastopen += e->acc.data_acked ? n : 0;
}

void tfo_report_accept(struct tfo_report *r, const struct tfo_event *e,
		       const char *case_name)
{
	const char *opt = e->syn.seen ? tfo_syn_option(&e->syn) : NULL;
	bool inferred;
	const char *cookie = accept_cookie(e, opt, &inferred);

	tfo_fo_count_accept(r, e, 1);
	if (e->ret < 0)
		return;
	if (env.json)
		print_accept_json(e, cookie, inferred, case_name);
	else
		print_accept_text(e, cookie, inferred);
}

/* ---------------------------------------------------------- verdict */

static void count_answer(struct tfo_fo_stats *st, struct tfo_bpf_counts *bc,
			 const struct fo_view *fv, long long n)
{
	if (fv->no_answer) {
		st->no_answer += n;
		/* tcp_fastopen_active_detect_blackhole() counts these */
		if (bc && !strcmp(fv->no_answer, "timed_out") &&
		    (strcmp(fv->cookie, "none") != 0 || fv->data_in_syn))
			bc->syn_timeouts += n;
		return;
	}
	if (fv->data_acked < 0) {
		st->pending += n;
		return;
	}
	if (fv->data_acked) {
		st->data_acked += n;
		if (bc)
			bc->data_acked += n;
		return;
	}
	st->fell_back += n;
	if (bc && fv->data_in_syn && fv->fail_reason &&
	    strcmp(fv->fail_reason, "cookie_unavailable") != 0)
		bc->data_failed += n;
}

void tfo_fo_account(struct tfo_report *r, const struct tfo_event *e,
		    const struct fo_view *fv, bool later, long long n)
{
	struct tfo_fo_stats *st = &r->fo;
	struct tfo_netns *ns;
	struct tfo_bpf_counts *bc;

	ns = tfo_netstat_seen(&r->netstat, e);
	bc = ns ? &ns->bpf : NULL;
	if (!fv->present)
		return;
	if (later) {
		st->pending -= n;
		st->results_later += n;
		count_answer(st, bc, fv, n);
		return;
	}
	st->attempts += n;
	st->data_in_syn += fv->data_in_syn > 0 ? n : 0;
	st->cookie_requests += !strcmp(fv->cookie, "request") ? n : 0;
	st->no_cookie += fv->no_cookie ? n : 0;
	st->active_disabled += fv->active_disabled ? n : 0;
	if (bc) {
		bc->attempts += n;
		bc->cookie_requests += !strcmp(fv->cookie, "request") ? n : 0;
	}
	count_answer(st, bc, fv, n);
}

void tfo_progress_add(struct tfo_report *r, const struct tfo_progress *p)
{
	if (r->nprog < TFO_MAX_REJECTIONS)
		r->prog[r->nprog++] = *p;
}

/* One comparison of a counter with BPF's own count; false if it differs. */
struct crosscheck {
	enum tfo_counter ctr;
	long long bpf;
	const char *what; /* what BPF counted */
	const char *note; /* why the two may differ */
};

static int crosschecks(const struct tfo_netns *ns, struct crosscheck *c)
{
	c[0] = (struct crosscheck){ TFO_CTR_ACTIVE, ns->bpf.data_acked,
				    "SYNs whose data the SYN-ACK acked",
				    "untraced sockets of the namespace count "
				    "too" };
	c[1] = (struct crosscheck){
		TFO_CTR_ACTIVE_FAIL, ns->bpf.data_failed + ns->bpf.syn_timeouts,
		"SYNs whose data was not acked or that timed "
		"out",
		"a Fast Open connection's third timeout "
		"after the handshake, and untraced sockets, "
		"count too"
	};
	c[2] = (struct crosscheck){
		TFO_CTR_COOKIE_REQD, ns->bpf.cookie_requests,
		"cookie requests sent",
		"the listener's namespace counts the requests it received"
	};
	if (!ns->bpf.accepts)
		return 3;
	/* A traced listener: the requests it received, as CookieReqd. */
	c[2] = (struct crosscheck){ TFO_CTR_COOKIE_REQD,
				    ns->bpf.requests_received,
				    "cookie requests received by traced "
				    "listeners",
				    "untraced listeners, and connections not "
				    "accepted yet, count too" };
	/* Only where a traced process accepted: Passive counts every
	 * listener of the namespace. */
	c[3] = (struct crosscheck){ TFO_CTR_PASSIVE, ns->bpf.accepted_fastopen,
				    "accepted connections whose SYN data was "
				    "taken",
				    "untraced listeners, and connections not "
				    "accepted yet, count too" };
	return 4;
}

static const char *baseline_text(enum tfo_baseline b)
{
	switch (b) {
	case TFO_BASE_NEW:
		return "created after tracing began (counters from 0)";
	case TFO_BASE_LATE:
		return "first seen after tracing began (counted from then)";
	default:
		return "counted from the start of tracing";
	}
}

static void print_ns_text(const struct tfo_netns *ns, bool several)
{
	struct crosscheck c[5];
	long long d;
	int nc, printed = 0;

	printf("  netstat:%s", several ? "" : " ");
	if (several)
		printf(" [net:%u] ", ns->inum);
	if (!tfo_netstat_delta(ns, TFO_CTR_ACTIVE, &d)) {
		printf("unknown: %s\n", ns->why[0] ? ns->why : "not read");
		return;
	}
	for (int i = 0; i < TFO_NCOUNTERS; i++) {
		tfo_netstat_delta(ns, i, &d);
		printf("%s%s %+lld", i ? ", " : "", tfo_counter_names[i] + 11,
		       d);
	}
	printf("\n            (TcpExt TCPFastOpen*, namespace net:[%u], %s)\n",
	       ns->inum, baseline_text(ns->baseline));
	nc = crosschecks(ns, c);
	for (int i = 0; i < nc; i++) {
		tfo_netstat_delta(ns, c[i].ctr, &d);
		if (d == c[i].bpf)
			continue;
		printf("            disagrees: %s %+lld, BPF saw %lld %s (%s)\n",
		       tfo_counter_names[c[i].ctr], d, c[i].bpf, c[i].what,
		       c[i].note);
		printed++;
	}
	if (printed)
		return;
	printf("            agrees with BPF:");
	for (int i = 0; i < nc; i++)
		printf("%s %s = %lld %s", i ? "," : "",
		       tfo_counter_names[c[i].ctr] + 11, c[i].bpf, c[i].what);
	printf("\n");
}

static int traced_namespaces(const struct tfo_report *r)
{
	int n = 0;

	for (int i = 0; i < r->netstat.n; i++)
		n += r->netstat.ns[i].traced;
	return n;
}

void tfo_fo_verdict_text(struct tfo_report *r)
{
	const struct tfo_fo_stats *st = &r->fo;
	int nns = traced_namespaces(r);

	if (r->in_progress)
		printf("  in progress (not rejections): %lld send%s%s:\n",
		       r->in_progress, r->in_progress > 1 ? "s" : "",
		       r->totals.rec_in_progress != r->in_progress ?
			       "; listed from the records that arrived" :
			       "");
	for (int i = 0; i < r->nprog; i++) {
		const struct tfo_progress *p = &r->prog[i];
		char who[48];

		if (p->case_name[0])
			snprintf(who, sizeof(who), "%s", p->case_name);
		else
			snprintf(who, sizeof(who), "%s[%d]", p->comm, p->pid);
		printf("    %-20s %-8s %-11s %s\n", who, p->syscall, p->err,
		       p->what);
	}
	printf("  fastopen: %lld attempt%s", st->attempts,
	       st->attempts == 1 ? "" : "s");
	if (st->attempts)
		printf(": %lld with data in the SYN, %lld acked; %lld fell back "
		       "to a regular handshake (%lld cookie request%s); %lld got "
		       "no handshake (refused, timed out or closed first); %lld "
		       "not known",
		       st->data_in_syn, st->data_acked, st->fell_back,
		       st->cookie_requests, st->cookie_requests == 1 ? "" : "s",
		       st->no_answer, st->pending);
	if (st->no_cookie)
		printf("; %lld sent data without a cookie", st->no_cookie);
	if (st->active_disabled)
		printf("; %lld found active Fast Open disabled (blackhole)",
		       st->active_disabled);
	printf("\n");
	if (st->accepts)
		printf("  server:   %lld connection%s accepted, %lld with data "
		       "taken from the SYN\n",
		       st->accepts, st->accepts == 1 ? "" : "s",
		       st->accepts_fastopen);
	for (int i = 0; i < r->netstat.n; i++)
		if (r->netstat.ns[i].traced)
			print_ns_text(&r->netstat.ns[i], nns > 1);
}

static json_object *deltas_json(const struct tfo_netns *ns)
{
	json_object *o;
	long long d;

	if (!tfo_netstat_delta(ns, TFO_CTR_ACTIVE, &d))
		return NULL;
	o = json_object_new_object();
	for (int i = 0; i < TFO_NCOUNTERS; i++) {
		tfo_netstat_delta(ns, i, &d);
		json_add(o, tfo_counter_names[i], json_object_new_int64(d));
	}
	return o;
}

static void add_disagreements(const struct tfo_netns *ns, json_object *arr)
{
	struct crosscheck c[5];
	char text[256];
	long long d;
	int nc = crosschecks(ns, c);

	for (int i = 0; i < nc; i++) {
		if (!tfo_netstat_delta(ns, c[i].ctr, &d) || d == c[i].bpf)
			continue;
		snprintf(text, sizeof(text), "%s %+lld, BPF saw %lld %s (%s)",
			 tfo_counter_names[c[i].ctr], d, c[i].bpf, c[i].what,
			 c[i].note);
		json_object_array_add(arr, json_object_new_string(text));
	}
}

static const char *baseline_name(enum tfo_baseline b)
{
	return b == TFO_BASE_NEW  ? "new" :
	       b == TFO_BASE_LATE ? "late" :
				    "start";
}

/* netstat: the sum over the traced namespaces whose deltas are known. */
static void netstat_json(const struct tfo_report *r, json_object *o)
{
	json_object *sum = NULL, *list = json_object_new_array();
	json_object *dis = json_object_new_array();
	long long total[TFO_NCOUNTERS] = {};
	bool any = false;

	for (int i = 0; i < r->netstat.n; i++) {
		const struct tfo_netns *ns = &r->netstat.ns[i];
		json_object *n;
		long long d;

		if (!ns->traced)
			continue;
		n = json_object_new_object();
		json_add(n, "inum", json_object_new_int64(ns->inum));
		json_add(n, "baseline",
			 json_object_new_string(baseline_name(ns->baseline)));
		json_add(n, "deltas", deltas_json(ns));
		json_add(n, "error",
			 ns->why[0] ? json_object_new_string(ns->why) : NULL);
		json_object_array_add(list, n);
		if (!tfo_netstat_delta(ns, TFO_CTR_ACTIVE, &d))
			continue;
		any = true;
		for (int c = 0; c < TFO_NCOUNTERS; c++) {
			tfo_netstat_delta(ns, c, &d);
			total[c] += d;
		}
		add_disagreements(ns, dis);
	}
	if (any) {
		sum = json_object_new_object();
		for (int c = 0; c < TFO_NCOUNTERS; c++)
			json_add(sum, tfo_counter_names[c],
				 json_object_new_int64(total[c]));
	}
	json_add(o, "netstat", sum);
	json_add(o, "netstat_namespaces", list);
	json_add(o, "netstat_disagreements", dis);
}

void tfo_fo_verdict_json(struct tfo_report *r, json_object *o)
{
	const struct tfo_fo_stats *st = &r->fo;
	json_object *fo = json_object_new_object();
	json_object *prog = json_object_new_array();

	json_add(fo, "attempts", json_object_new_int64(st->attempts));
	json_add(fo, "data_in_syn", json_object_new_int64(st->data_in_syn));
	json_add(fo, "data_acked", json_object_new_int64(st->data_acked));
	json_add(fo, "fell_back", json_object_new_int64(st->fell_back));
	json_add(fo, "no_handshake", json_object_new_int64(st->no_answer));
	json_add(fo, "not_known", json_object_new_int64(st->pending));
	json_add(fo, "cookie_requests",
		 json_object_new_int64(st->cookie_requests));
	json_add(fo, "no_cookie", json_object_new_int64(st->no_cookie));
	json_add(fo, "active_disabled",
		 json_object_new_int64(st->active_disabled));
	json_add(fo, "answers_after_syscall",
		 json_object_new_int64(st->results_later));
	json_add(fo, "accepts", json_object_new_int64(st->accepts));
	json_add(fo, "accepts_with_syn_data",
		 json_object_new_int64(st->accepts_fastopen));
	json_add(o, "fastopen", fo);
	for (int i = 0; i < r->nprog; i++) {
		const struct tfo_progress *p = &r->prog[i];
		json_object *x = json_object_new_object();

		json_add(x, "case",
			 p->case_name[0] ?
				 json_object_new_string(p->case_name) :
				 NULL);
		json_add(x, "pid", json_object_new_int(p->pid));
		json_add(x, "comm", json_object_new_string(p->comm));
		json_add(x, "syscall", json_object_new_string(p->syscall));
		json_add(x, "errno", json_object_new_string(p->err));
		json_add(x, "what", json_object_new_string(p->what));
		json_object_array_add(prog, x);
	}
	json_add(o, "in_progress", prog);
	json_add(o, "in_progress_sends", json_object_new_int64(r->in_progress));
	netstat_json(r, o);
}
