// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <bpf/btf.h>

#include "names.h"
#include "output.h"
#include "tfo_fo.h"
#include "tfo_libc.h"
#include "tfo_report.h"
#include "tracer.h"

#define TCPOPT_FASTOPEN 34 /* RFC 7413 */
#define TCPOPT_EXP 254 /* experimental, with magic 0xF989 */
#define TFO_CLIENT_ENABLE 1 /* net.ipv4.tcp_fastopen client bit */
#define KERNEL_TCP_CLOSE 7
#define KERNEL_TCP_ESTABLISHED 1
#define KERNEL_TCP_SYN_SENT 2
#define SIN6_LEN_RFC2133 24

/* Everything a printer needs about one send, decoded once. */
struct send_view {
	const struct tfo_event *ev;
	const char *case_name;
	int attempt;
	const char *syscall;
	const char *libc_func; /* NULL: no probed libc wrapper made the call */
	const char *err; /* errno name, NULL on success */
	__u8 layer; /* TFO_LAYER_*: origin layer, TFO_LAYER_NONE on success */
	const char *function; /* origin function, may be NULL */
	char args[128]; /* "addr_len=0" for a function-layer origin */
	char condition[192];
	/* "function arguments" (read at the origin) or "syscall arguments
	 * and socket state" (inferred, when no function-level origin) */
	const char *condition_source;
	const char *tfo_option; /* "cookie request", "cookie" or NULL */
	const char *outcome; /* "success", "in_progress", "rejected" */
	char outcome_detail[200]; /* what left the host, what did not */
	struct fo_view fo;
	const char *libc_status; /* "seen", "bypassed", "not_probed" */
	const char *libc_why; /* not_probed: why */
};

const char *tfo_layer_name(__u8 layer)
{
	switch (layer) {
	case TFO_LAYER_FUNCTION:
		return "function";
	case TFO_LAYER_SOCKET:
		return "socket";
	case TFO_LAYER_SYSCALL:
		return "syscall";
	default:
		return NULL;
	}
}

const char *tfo_syscall_name(__u32 sc)
{
	static const char *const names[] = {
		[TFO_SYS_SENDTO] = "sendto",	 [TFO_SYS_SENDMSG] = "sendmsg",
		[TFO_SYS_SENDMMSG] = "sendmmsg", [TFO_SYS_CONNECT] = "connect",
		[TFO_SYS_WRITE] = "write",	 [TFO_SYS_ACCEPT] = "accept",
	};

	return sc < TFO_SYS_MAX && names[sc] ? names[sc] : "?";
}

static const char *libc_func_name(__u32 f)
{
	static const char *const names[] = {
		[TFO_LIBC_SEND] = "send",
		[TFO_LIBC_SENDTO] = "sendto",
		[TFO_LIBC_SENDMSG] = "sendmsg",
		[TFO_LIBC_SENDMMSG] = "sendmmsg",
	};

	return f && f <= TFO_LIBC_SENDMMSG ? names[f] : NULL;
}

/* The Fast Open option of the SYN, if any (tcp_options_write()). */
static const char *tfo_option(const struct tfo_syn *syn)
{
	int n = syn->opts_len < TFO_TCP_OPTS_LEN ? syn->opts_len :
						   TFO_TCP_OPTS_LEN;

	for (int i = 0; i < n;) {
		__u8 kind = syn->opts[i], len;

		if (kind == 0)
			break;
		if (kind == 1 || i + 1 >= n) {
			i++;
			continue;
		}
		len = syn->opts[i + 1];
		/* an option longer than what is left is cut: stop there */
		if (len < 2 || i + len > n)
			break;
		if (kind == TCPOPT_FASTOPEN)
			return len > 2 ? "cookie" : "cookie request";
		if (kind == TCPOPT_EXP && len >= 4 &&
		    syn->opts[i + 2] == 0xF9 && syn->opts[i + 3] == 0x89)
			return len > 4 ? "cookie" : "cookie request";
		i += len;
	}
	return NULL;
}

/* Value of parameter @param of the origin function, from its BTF name. */
static bool origin_arg(const struct tfo_report *r, const struct send_view *v,
		       const char *param, long *val)
{
	int i;

	if (!r->session->btf) /* tracepoint backend: no function origins */
		return false;
	i = btf_param_index(r->session->btf,
			    kfunc_proto(r->session->btf, v->function), param);
	if (i < 0 || i >= TFO_MAX_ARGS)
		return false;
	*val = (int)v->ev->origin.args[i];
	return true;
}

static void origin_int_args(const struct tfo_report *r, struct send_view *v)
{
	const struct btf *btf = r->session->btf;
	int id = btf ? btf__find_by_name_kind(btf, v->function, BTF_KIND_FUNC) :
		       -1;
	const struct btf_type *proto;
	const struct btf_param *p;
	size_t off = 0;

	if (id <= 0)
		return;
	proto = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
	p = btf_params(proto);
	for (int i = 0; i < btf_vlen(proto) && i < TFO_MAX_ARGS; i++) {
		const struct btf_type *t = btf__type_by_id(btf, p[i].type);

		while (t && (btf_is_typedef(t) || btf_is_mod(t)))
			t = btf__type_by_id(btf, t->type);
		if (!t || !btf_is_int(t) || off >= sizeof(v->args))
			continue;
		off += snprintf(v->args + off, sizeof(v->args) - off, "%s%s=%d",
				off ? " " : "",
				btf__name_by_offset(btf, p[i].name_off),
				(int)v->ev->origin.args[i]);
	}
}

static int struct_size(const struct tfo_report *r, const char *name)
{
	const struct btf *btf = r->session->btf;
	int id = btf ? btf__find_by_name_kind(btf, name, BTF_KIND_STRUCT) : -1;

	return id > 0 ? (int)btf__resolve_size(btf, id) : -1;
}

/*
 * Why the origin function said no, from the arguments it was called with.
 * Each condition is the test in that function's source.
 */
static void explain_function(const struct tfo_report *r, struct send_view *v)
{
	const struct tfo_event *e = v->ev;
	long err = errno_of(e->origin.ret);
	long addr_len;

	if (err == EINVAL && origin_arg(r, v, "addr_len", &addr_len)) {
		if (!strcmp(v->function, "tcp_v4_connect"))
			snprintf(
				v->condition, sizeof(v->condition),
				"addr_len %ld < sizeof(struct sockaddr_in) (%d)",
				addr_len, struct_size(r, "sockaddr_in"));
		else if (!strcmp(v->function, "tcp_v6_connect"))
			snprintf(v->condition, sizeof(v->condition),
				 "addr_len %ld < SIN6_LEN_RFC2133 (%d)",
				 addr_len, SIN6_LEN_RFC2133);
		else if (!strcmp(v->function, "__inet_stream_connect"))
			snprintf(v->condition, sizeof(v->condition),
				 "addr_len %ld < sizeof(uaddr->sa_family) (2)",
				 addr_len);
	}
}

/* The condition_source of a condition read from the call's state changes. */
static const char source_state_changes[] =
	"socket state changes during the call";

/* The states the call's socket entered (complete) end SYN_SENT -> CLOSE. */
static bool refused_during_call(const struct tfo_event *e)
{
	int n = e->nstates;

	return n >= 2 && n <= TFO_MAX_STATES &&
	       e->states[n - 2] == KERNEL_TCP_SYN_SENT &&
	       e->states[n - 1] == KERNEL_TCP_CLOSE;
}

/*
 * Why, from what the syscall was given and the socket's state at entry and
 * during the call: the finest answer the tracepoint backend has. Returns
 * where the condition comes from (condition_source).
 */
static const char *explain_from_state(struct send_view *v)
{
	const struct tfo_event *e = v->ev;
	long err = errno_of(e->ret);
	bool tcp = e->sock_type == SOCK_STREAM;

	if (err == EINVAL && tcp && e->addrlen <= 0 &&
	    e->state_at_entry == KERNEL_TCP_CLOSE)
		snprintf(
			v->condition, sizeof(v->condition),
			"no destination address (addrlen %d) on an unconnected TCP socket",
			e->addrlen);
	else if (err == EOPNOTSUPP && tcp &&
		 !(e->netns_tcp_fastopen & TFO_CLIENT_ENABLE))
		snprintf(v->condition, sizeof(v->condition),
			 "client bit %#x clear in net.ipv4.tcp_fastopen (%d)",
			 TFO_CLIENT_ENABLE, e->netns_tcp_fastopen);
	else if (err == EOPNOTSUPP && tcp && e->addrlen >= 2 &&
		 e->family == AF_UNSPEC)
		snprintf(v->condition, sizeof(v->condition),
			 "destination address family is AF_UNSPEC");
	else if (err == ECONNREFUSED && refused_during_call(e)) {
		/* tcp_reset() in SYN_SENT, or tcp_v4_err()/tcp_v6_err() on an
		 * ICMP port unreachable: both set ECONNREFUSED, then tcp_done() */
		snprintf(v->condition, sizeof(v->condition),
			 "the connection was refused: SYN_SENT -> CLOSE during "
			 "the call (a reset, or ICMP port unreachable)");
		return source_state_changes;
	} else if (err == ECONNREFUSED && e->syn.seen)
		snprintf(
			v->condition, sizeof(v->condition),
			"the SYN was answered with a reset (nothing listens there)");
	else if (err == EISCONN && e->state_at_entry == KERNEL_TCP_ESTABLISHED)
		snprintf(v->condition, sizeof(v->condition),
			 "socket already connected (ESTABLISHED at entry)");
	return "syscall arguments and socket state";
}

static void decode_origin(const struct tfo_report *r, struct send_view *v)
{
	const struct tfo_event *e = v->ev;
	const struct ksyms *ks = ksyms_get();
	const char *source;

	if (e->ret >= 0)
		return;
	if (e->origin.valid) {
		v->layer = TFO_LAYER_FUNCTION;
		v->function = ksyms_name_of(ks, e->origin.ip);
		if (v->function) {
			origin_int_args(r, v);
			explain_function(r, v);
		}
	} else if (e->sock_seen && e->sock_ret < 0) {
		v->layer = TFO_LAYER_SOCKET;
		v->function = ksyms_name_of(ks, e->proto_sendmsg);
	} else {
		v->layer = TFO_LAYER_SYSCALL;
	}
	if (v->condition[0]) {
		v->condition_source = "function arguments";
		return;
	}
	source = explain_from_state(v);
	if (v->condition[0])
		v->condition_source = source;
}

/* libc_status: whether a libc wrapper made the call (tfo_libc.c). */
static void decode_libc(const struct tfo_report *r, struct send_view *v)
{
	enum tfo_libc_status st =
		tfo_libc_status(r->session, v->ev, &v->libc_why);

	v->libc_status = tfo_libc_status_name(st);
}

static void decode(const struct tfo_report *r, const struct tfo_event *e,
		   const char *case_name, int attempt, struct send_view *v)
{
	memset(v, 0, sizeof(*v));
	v->ev = e;
	v->case_name = case_name;
	v->attempt = attempt;
	v->syscall = tfo_syscall_name(e->syscall);
	v->libc_func = libc_func_name(e->libc.func);
	v->err = e->ret < 0 ? errno_name(e->ret) : NULL;
	v->tfo_option = e->syn.seen ? tfo_option(&e->syn) : NULL;
	v->outcome = tfo_outcome(e);
	tfo_fo_decode(e, v->tfo_option, &v->fo);
	tfo_outcome_detail(e, &v->fo, v->outcome_detail,
			   sizeof(v->outcome_detail));
	/* An origin and a condition explain refusals only. */
	if (!strcmp(v->outcome, "rejected"))
		decode_origin(r, v);
	decode_libc(r, v);
}

/* ------------------------------------------------------------- JSON */

static json_object *json_str_or_null(const char *s)
{
	return s && s[0] ? json_object_new_string(s) : NULL;
}

static void origin_jw(struct jw *w, const struct send_view *v)
{
	if (!v->layer) {
		jw_null(w, "origin");
		return;
	}
	jw_object(w, "origin");
	jw_str_or_null(w, "function", v->function);
	jw_str(w, "layer", tfo_layer_name(v->layer));
	jw_str_or_null(w, "args", v->args);
	jw_str_or_null(w, "condition", v->condition);
	jw_str_or_null(w, "condition_source", v->condition_source);
	jw_close_object(w);
}

static void states_jw(struct jw *w, const struct tfo_event *e)
{
	jw_array(w, "tcp_states");
	for (int i = 0; i < e->nstates && i < TFO_MAX_STATES; i++)
		jw_str(w, NULL, tcp_state_name(e->states[i]));
	jw_close_array(w);
}

/* The per-send line: printed without json-c objects (see jsonw.h). */
static void print_send_json(const struct tfo_report *r,
			    const struct send_view *v)
{
	const struct tfo_event *e = v->ev;
	struct jw w;

	jw_begin(&w);
	jw_str(&w, "event", "send");
	jw_str_or_null(&w, "case", v->case_name);
	if (v->attempt)
		jw_int(&w, "attempt", v->attempt);
	jw_int(&w, "pid", (int)e->tgid);
	jw_int(&w, "tid", (int)e->tid);
	jw_str(&w, "comm", e->comm);
	jw_str(&w, "syscall", v->syscall);
	jw_int(&w, "fd", e->fd);
	jw_int(&w, "flags", (long long)e->flags);
	jw_str_or_null(&w, "libc_function", v->libc_func);
	if (v->libc_func) {
		jw_int(&w, "libc_flags", (long long)e->libc.flags);
		jw_int(&w, "libc_addrlen", e->libc.addrlen);
	} else {
		jw_null(&w, "libc_flags");
		jw_null(&w, "libc_addrlen");
	}
	jw_str(&w, "libc_status", v->libc_status);
	jw_str_or_null(&w, "libc_why", v->libc_why);
	jw_int(&w, "addrlen", e->addrlen);
	jw_str(&w, "family", e->addrlen >= 2 ? family_name(e->family) : NULL);
	jw_int(&w, "ret", (long long)e->ret);
	jw_str_or_null(&w, "errno", v->err);
	jw_str(&w, "outcome", v->outcome);
	jw_str_or_null(&w, "outcome_detail", v->outcome_detail);
	jw_bool(&w, "nonblocking", e->nonblock);
	jw_bool(&w, "fastopen_connect", e->fastopen_connect);
	jw_bool(&w, "first_write", e->first_write);
	tfo_fo_jw(&w, "fastopen", &v->fo);
	origin_jw(&w, v);
	states_jw(&w, e);
	jw_bool(&w, "syn", e->syn.seen);
	if (e->syn.seen)
		jw_bool(&w, "syn_data", e->syn.payload > 0);
	else
		jw_null(&w, "syn_data");
	jw_int(&w, "syn_payload", (long long)e->syn.payload);
	jw_str_or_null(&w, "tfo_option", v->tfo_option);
	jw_uint(&w, "duration_us", (e->ts_exit_ns - e->ts_enter_ns) / 1000);
	/* fentry/kprobe: send-path calls seen, and those past TFO_MAX_DEPTH */
	jw_int(&w, "function_calls", (long long)e->nfuncs);
	jw_int(&w, "function_calls_untracked", (long long)e->lost_frames);
	jw_str(&w, "backend", backend_name(r->session->backend));
	jw_end_line(&w);
}

/* ------------------------------------------------------------- text */

static void print_address(int addrlen, int family)
{
	if (addrlen > 0)
		printf("%s address (addrlen %d)\n",
		       addrlen >= 2 ? family_name(family) : "short", addrlen);
	else
		printf("no address (addrlen %d)\n", addrlen);
}

/* What libc (@at_libc) or the kernel was given, in one line. */
static void print_flags_line(bool at_libc, const char *func,
			     const struct tfo_libc_call *given)
{
	char fl[96];

	printf("  %-7s %-8s flags %s, ", at_libc ? "libc" : "kernel", func,
	       msg_flags_str(given->flags, fl, sizeof(fl)));
	print_address(given->addrlen, given->family);
}

/* The kernel's view: connect() and write() have no flags argument. */
static void print_kernel_line(const struct send_view *v)
{
	const struct tfo_event *e = v->ev;

	if (e->syscall == TFO_SYS_WRITE) {
		printf("  kernel  write    on a TCP_FASTOPEN_CONNECT socket\n");
	} else if (e->syscall == TFO_SYS_CONNECT) {
		printf("  kernel  connect  TCP_FASTOPEN_CONNECT set, ");
		print_address(e->addrlen, e->family);
	} else {
		struct tfo_libc_call given = { .flags = e->flags,
					       .addrlen = e->addrlen,
					       .family = e->family };

		print_flags_line(false, v->syscall, &given);
	}
}

/* What the text output adds to a condition from @source. */
static const char *condition_note(const char *source)
{
	if (!strcmp(source, "function arguments"))
		return "";
	if (!strcmp(source, source_state_changes))
		return " (observed: the socket's state changes)";
	return " (inferred from the syscall's arguments and the socket's "
	       "state)";
}

static void print_origin_text(const struct tfo_report *r,
			      const struct send_view *v)
{
	if (!v->layer)
		return;
	if (v->layer == TFO_LAYER_FUNCTION)
		printf("  origin  %s(%s) returned -%s\n",
		       v->function ? v->function : "?", v->args, v->err);
	else if (v->layer == TFO_LAYER_SOCKET)
		printf("  origin  %s returned -%s (socket layer; the function "
		       "inside it needs fentry or kprobes)\n",
		       v->function ? v->function : "sock->ops->sendmsg",
		       v->err);
	else if (r->session->sock_layer)
		printf("  origin  the syscall returned -%s before the socket's "
		       "sendmsg ran (sock:sock_send_length did not fire)\n",
		       v->err);
	else
		printf("  origin  the syscall returned -%s (syscall layer: this "
		       "kernel lacks sock:sock_send_length, 6.3+)\n",
		       v->err);
	if (v->condition[0])
		printf("  why     %s%s\n", v->condition,
		       condition_note(v->condition_source));
}

static void print_tcp_text(const struct send_view *v)
{
	const struct tfo_event *e = v->ev;

	if (e->sock_type != SOCK_STREAM)
		return;
	printf("  tcp     ");
	if (!e->nstates)
		printf("no state change");
	for (int i = 0; i < e->nstates && i < TFO_MAX_STATES; i++)
		printf("%s%s", i ? " -> " : "", tcp_state_name(e->states[i]));
	if (!e->syn.seen)
		printf("; no SYN sent\n");
	else if (e->syn.payload)
		printf("; SYN with %u bytes of data%s%s%s\n", e->syn.payload,
		       v->tfo_option ? " (Fast Open " : "",
		       v->tfo_option ? v->tfo_option : "",
		       v->tfo_option ? ")" : "");
	else
		printf("; SYN without data%s%s%s\n",
		       v->tfo_option ? " (Fast Open " : "",
		       v->tfo_option ? v->tfo_option : "",
		       v->tfo_option ? ")" : "");
}

static void print_outcome_text(const struct send_view *v)
{
	const char *name = !strcmp(v->outcome, "in_progress") ? "in progress" :
								v->outcome;

	printf("  outcome %s%s%s%s\n", name,
	       v->ev->nonblock ? " (nonblocking)" : "",
	       v->outcome_detail[0] ? ": " : "", v->outcome_detail);
}

/* The libc line of a send: what the wrapper was given, or why none. */
static void print_libc_text(const struct send_view *v)
{
	const struct tfo_event *e = v->ev;

	if (v->libc_func)
		print_flags_line(true, v->libc_func, &e->libc);
	else if (e->syscall == TFO_SYS_CONNECT || e->syscall == TFO_SYS_WRITE)
		return;
	else if (!strcmp(v->libc_status, "bypassed"))
		printf("  libc    bypassed (libc is probed in this process; no "
		       "send wrapper made this call)\n");
	else
		printf("  libc    not probed: %s\n", v->libc_why);
}

static void print_send_text(const struct tfo_report *r,
			    const struct send_view *v)
{
	const struct tfo_event *e = v->ev;

	/* Built-in cases have a title line already. */
	printf("%s%s(fd %d) by %s[%d]\n", v->case_name ? "" : "\n", v->syscall,
	       e->fd, e->comm, e->tgid);
	print_libc_text(v);
	print_kernel_line(v);
	if (e->ret >= 0)
		printf("  result  %lld\n", (long long)e->ret);
	else
		printf("  result  -1 %s\n", v->err);
	print_outcome_text(v);
	print_origin_text(r, v);
	print_tcp_text(v);
	tfo_fo_print(&v->fo, e->nonblock);
}

/* ---------------------------------------------------------- verdict */

static void add_progress(struct tfo_report *r, const struct send_view *v)
{
	struct tfo_progress p = { .pid = (int)v->ev->tgid,
				  .syscall = v->syscall,
				  .err = v->err };

	snprintf(p.case_name, sizeof(p.case_name), "%s",
		 v->case_name ? v->case_name : "");
	snprintf(p.comm, sizeof(p.comm), "%s", v->ev->comm);
	snprintf(p.what, sizeof(p.what), "%s", v->outcome_detail);
	tfo_progress_add(r, &p);
}

/* The libc split of sends no wrapper made: known from records only. */
static void account_libc(struct tfo_report *r, const struct send_view *v)
{
	const struct tfo_event *e = v->ev;

	if (v->libc_func || e->syscall == TFO_SYS_CONNECT ||
	    e->syscall == TFO_SYS_WRITE)
		return;
	if (!strcmp(v->libc_status, "bypassed"))
		r->libc_unseen++;
	else if (!r->libc_not_probed++)
		snprintf(r->libc_not_probed_why, sizeof(r->libc_not_probed_why),
			 "%s", v->libc_why);
}

/*
 * @n sends like @e in the verdict's totals: counted once per record, or
 * once per BPF class with its count (tfo_totals_apply()).
 */
static void count_send(struct tfo_report *r, const struct tfo_event *e,
		       const struct fo_view *fv, const char *outcome,
		       long long n)
{
	bool fastopen = e->flags & MSG_FASTOPEN;

	r->sends += n;
	if (e->libc.func) {
		r->libc_seen += n;
		r->libc_changed += e->libc.flags != e->flags ? n : 0;
	} else if (e->syscall != TFO_SYS_CONNECT &&
		   e->syscall != TFO_SYS_WRITE) {
		r->libc_none +=
			n; /* connect() and write() are not libc sends */
	}
	if (fastopen && e->ret >= 0 && e->addrlen > 0)
		r->fastopen_ok_with_addr += n;
	if (fastopen && e->ret == -EINVAL && e->addrlen <= 0)
		r->einval_without_addr += n;
	tfo_fo_account(r, e, fv, false, n);
	if (!strcmp(outcome, "in_progress"))
		r->in_progress += n;
	if (!strcmp(outcome, "rejected")) {
		r->rejected += n;
		r->rejected_fastopen += fastopen ? n : 0;
	}
}

void tfo_report_count(struct tfo_report *r, const struct tfo_event *e,
		      long long n)
{
	const char *opt = e->syn.seen ? tfo_option(&e->syn) : NULL;
	struct fo_view fv;

	if (e->kind == TFO_EV_ACCEPT) {
		tfo_fo_count_accept(r, e, n);
		return;
	}
	if (e->kind > TFO_EV_ACCEPT)
		return; /* not a kind tfo.bpf.c emits */
	tfo_fo_decode(e, opt, &fv);
	if (e->kind == TFO_EV_FO_RESULT)
		tfo_fo_account(r, e, &fv, true, n);
	else
		count_send(r, e, &fv, tfo_outcome(e), n);
}

/* A send's details for the verdict's lists (its totals: count_send()). */
static void account(struct tfo_report *r, const struct send_view *v)
{
	const struct tfo_event *e = v->ev;
	struct tfo_rejection *rej;

	count_send(r, e, &v->fo, v->outcome, 1);
	account_libc(r, v);
	if (!strcmp(v->outcome, "in_progress"))
		add_progress(r, v);
	if (strcmp(v->outcome, "rejected") != 0 ||
	    r->nrej == TFO_MAX_REJECTIONS)
		return;
	rej = &r->rej[r->nrej++];
	snprintf(rej->case_name, sizeof(rej->case_name), "%s",
		 v->case_name ? v->case_name : "");
	snprintf(rej->comm, sizeof(rej->comm), "%s", e->comm);
	rej->pid = (int)e->tgid;
	rej->syscall = v->syscall;
	rej->err = v->err;
	snprintf(rej->function, sizeof(rej->function), "%s",
		 v->function ? v->function : "");
	rej->layer = tfo_layer_name(v->layer);
	snprintf(rej->condition, sizeof(rej->condition), "%s", v->condition);
}

/* The answer to a send's Fast Open SYN, come after its syscall returned. */
static void report_fo_result(struct tfo_report *r, const struct tfo_event *e,
			     const char *case_name)
{
	const char *sc = tfo_syscall_name(e->syscall);
	const char *opt = e->syn.seen ? tfo_option(&e->syn) : NULL;
	struct fo_view fv;
	char answer[200];
	struct jw w;

	tfo_fo_decode(e, opt, &fv);
	tfo_fo_account(r, e, &fv, true, 1);
	if (!env.json) {
		tfo_fo_answer_text(&fv, e->nonblock, answer, sizeof(answer));
		printf("%sfastopen answer to %s(fd %d) by %s[%d]: %s (read at "
		       "the socket's %s)\n",
		       case_name ? "" : "\n", sc, e->fd, e->comm, e->tgid,
		       answer,
		       e->fo.settled_by == TFO_SETTLED_FRAME ? "next frame" :
							       "state change");
		return;
	}
	jw_begin(&w);
	jw_str(&w, "event", "fastopen_result");
	jw_str_or_null(&w, "case", case_name);
	jw_int(&w, "pid", (int)e->tgid);
	jw_int(&w, "tid", (int)e->tid);
	jw_str(&w, "comm", e->comm);
	jw_str(&w, "syscall", sc);
	jw_int(&w, "fd", e->fd);
	tfo_fo_jw(&w, "fastopen", &fv);
	jw_uint(&w, "after_us", (e->ts_exit_ns - e->ts_enter_ns) / 1000);
	jw_end_line(&w);
}

void tfo_report_send(struct tfo_report *r, const struct tfo_event *e,
		     const char *case_name, int attempt)
{
	struct send_view v;

	if (e->kind == TFO_EV_FO_RESULT) {
		report_fo_result(r, e, case_name);
		return;
	}
	if (e->kind == TFO_EV_ACCEPT) {
		tfo_report_accept(r, e, case_name);
		return;
	}
	decode(r, e, case_name, attempt, &v);
	account(r, &v);
	if (env.json)
		print_send_json(r, &v);
	else
		print_send_text(r, &v);
}

/*
 * A record is one struct tfo_event, or only its head (TFO_EVENT_HEAD_LEN
 * bytes) for a send on a socket that is not TCP, whose tail tfo.bpf.c
 * (record_len()) leaves out: read as zeros. Any other size, a short record
 * of another kind or of a TCP socket, or an unknown kind is malformed. The
 * copy is what the printers read: comm NUL-terminated, opts_len within
 * opts[].
 */
static bool record_size_ok(const struct tfo_event *e, size_t size)
{
	if (size == sizeof(*e))
		return true;
	return size == TFO_EVENT_HEAD_LEN && e->kind == TFO_EV_SEND &&
	       e->sock_protocol != TFO_IPPROTO_TCP;
}

int tfo_decode_record(struct tfo_report *r, const void *data, size_t size,
		      const char *case_name, int attempt)
{
	struct tfo_event e = { 0 };

	if (size != sizeof(e) && size != TFO_EVENT_HEAD_LEN) {
		r->malformed_records++;
		return -EINVAL;
	}
	memcpy(&e, data, size);
	if (e.kind > TFO_EV_ACCEPT || !record_size_ok(&e, size)) {
		r->malformed_records++;
		return -EINVAL;
	}
	e.comm[TFO_COMM_LEN - 1] = '\0';
	if (e.syn.opts_len > TFO_TCP_OPTS_LEN)
		e.syn.opts_len = TFO_TCP_OPTS_LEN;
	tfo_report_send(r, &e, case_name, attempt);
	return 0;
}

void tfo_report_start(struct tfo_report *r, const struct tfo_session *s,
		      const char *backend_why)
{
	memset(r, 0, sizeof(*r));
	r->session = s;
	if (env.json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "event",
				       json_object_new_string("start"));
		json_object_object_add(
			o, "backend",
			json_object_new_string(backend_name(s->backend)));
		json_object_object_add(o, "reason",
				       json_object_new_string(backend_why));
		json_object_object_add(o, "libc", json_str_or_null(s->libc));
		json_object_object_add(
			o, "libc_probing",
			json_object_new_string(tfo_libc_mode(s)));
		json_object_object_add(
			o, "send_path_functions",
			json_object_new_int(tfo_session_send_path_len(s)));
		json_print_line(o);
		return;
	}
	printf("tracer tfo: backend %s (%s)\n", backend_name(s->backend),
	       backend_why);
	printf("libc wrappers: %s; send-path functions traced: %d%s\n",
	       s->libc[0] ? s->libc :
	       s->libc_on ? tfo_libc_mode(s) :
			    s->libc_why,
	       tfo_session_send_path_len(s),
	       s->nfuncs     ? "" :
	       s->sock_layer ? " (origin at the socket layer at best)" :
			       " (origin at the syscall layer at best)");
	fflush(stdout);
}

static const char *libc_answer(const struct tfo_report *r)
{
	if (!r->session->libc_on || (!r->libc_seen && !r->libc_unseen))
		return "libc wrappers not probed";
	if (!r->libc_seen)
		return "no libc wrapper call was seen";
	if (r->libc_changed)
		return "libc changed the flags on their way to the kernel";
	return "libc passed the flags to the kernel unchanged";
}

static const char *who_rejects(const struct tfo_report *r)
{
	if (!r->rejected)
		return NULL;
	/* a syscall's error is the kernel's, whether libc was seen or not */
	return r->libc_changed ? "libc" : "kernel";
}

static json_object *rejection_json(const struct tfo_rejection *x)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "case", json_str_or_null(x->case_name));
	json_object_object_add(o, "pid", json_object_new_int(x->pid));
	json_object_object_add(o, "comm", json_object_new_string(x->comm));
	json_object_object_add(o, "syscall",
			       json_object_new_string(x->syscall));
	json_object_object_add(o, "errno", json_object_new_string(x->err));
	json_object_object_add(o, "function", json_str_or_null(x->function));
	json_object_object_add(o, "layer", json_object_new_string(x->layer));
	json_object_object_add(o, "condition", json_str_or_null(x->condition));
	return o;
}

static json_object *group_json(const struct tfo_total_group *g)
{
	json_object *o = json_object_new_object();

	json_add(o, "syscall", json_object_new_string(g->syscall));
	json_add(o, "errno", json_str_or_null(g->err));
	json_add(o, "layer", json_str_or_null(g->layer));
	json_add(o, "origin", json_str_or_null(g->origin));
	json_add(o, "sends", json_object_new_int64(g->sends));
	json_add(o, "example_pid", json_object_new_int(g->pid));
	json_add(o, "example_comm", json_object_new_string(g->comm));
	return o;
}

/*
 * "totals": where the figures come from, and what the records that arrived
 * add up to (the lists and the libc split are from them).
 */
static json_object *totals_json(const struct tfo_report *r)
{
	const struct tfo_totals_src *t = &r->totals;
	json_object *o = json_object_new_object();
	json_object *g = json_object_new_array();
	json_object *rec = json_object_new_object();

	for (int i = 0; i < t->ngroups; i++)
		json_object_array_add(g, group_json(&t->groups[i]));
	json_add(o, "source",
		 json_object_new_string(t->from_bpf ? "bpf" : "records"));
	json_add(o, "exact", json_object_new_boolean(t->exact));
	json_add(o, "uncounted_map_full", json_object_new_uint64(t->map_full));
	json_add(o, "by_syscall_errno_origin", g);
	json_add(o, "other_sends", json_object_new_int64(t->groups_other));
	json_add(rec, "sends", json_object_new_int64(t->rec_sends));
	json_add(rec, "libc_without_wrapper",
		 json_object_new_int64(t->rec_libc_none));
	json_add(rec, "rejected", json_object_new_int64(t->rec_rejected));
	json_add(rec, "in_progress", json_object_new_int64(t->rec_in_progress));
	json_add(o, "from_records", rec);
	return o;
}

static void print_verdict_json(struct tfo_report *r)
{
	json_object *o = json_object_new_object();
	json_object *rej = json_object_new_array();

	for (int i = 0; i < r->nrej; i++)
		json_object_array_add(rej, rejection_json(&r->rej[i]));
	json_object_object_add(o, "event", json_object_new_string("verdict"));
	json_object_object_add(
		o, "libc_changes_flags",
		r->libc_seen ? json_object_new_boolean(r->libc_changed > 0) :
			       NULL);
	json_object_object_add(o, "rejected_by",
			       json_str_or_null(who_rejects(r)));
	json_object_object_add(o, "sends", json_object_new_int64(r->sends));
	json_object_object_add(o, "libc_seen",
			       json_object_new_int64(r->libc_seen));
	json_object_object_add(o, "libc_changed",
			       json_object_new_int64(r->libc_changed));
	json_object_object_add(o, "libc_without_wrapper",
			       json_object_new_int64(r->libc_none));
	json_object_object_add(o, "libc_bypassed",
			       json_object_new_int64(r->libc_unseen));
	json_object_object_add(o, "libc_not_probed",
			       json_object_new_int64(r->libc_not_probed));
	json_object_object_add(o, "libc_not_probed_why",
			       json_str_or_null(r->libc_not_probed_why));
	json_object_object_add(o, "rejected",
			       json_object_new_int64(r->rejected));
	json_object_object_add(o, "rejections", rej);
	json_object_object_add(
		o, "lost_events",
		json_object_new_uint64(tfo_session_lost(r->session)));
	json_object_object_add(o, "malformed_records",
			       json_object_new_uint64(r->malformed_records));
	json_object_object_add(o, "totals", totals_json(r));
	json_object_object_add(o, "summary",
			       json_object_new_string(libc_answer(r)));
	tfo_fo_verdict_json(r, o);
	json_print_line(o);
}

/* Who said no; MSG_FASTOPEN is named only when a rejected send carried it. */
static void print_kernel_answer(const struct tfo_report *r)
{
	if (!who_rejects(r) || strcmp(who_rejects(r), "kernel") != 0)
		return;
	if (r->rejected_fastopen)
		printf("  answer: the kernel, not libc, rejects these sends: "
		       "MSG_FASTOPEN reaches the kernel unchanged.\n");
	else
		printf("  answer: the kernel, not libc, rejects these sends: "
		       "libc passed their flags unchanged.\n");
}

/* " (from N of M records)" when a figure's records are not all there. */
static const char *from_records(long long n, long long m, char *buf, size_t len)
{
	buf[0] = '\0';
	if (n != m)
		snprintf(buf, len, " (from %lld of %lld records)", n, m);
	return buf;
}

/* The verdict's libc sentence: the sends by libc_status. */
static void print_libc_verdict_text(const struct tfo_report *r)
{
	const struct tfo_totals_src *t = &r->totals;
	const char *sep = "";
	char from[64];

	printf("  libc:   ");
	if (!r->session->libc_on) {
		printf("not probed: %s\n", r->session->libc_why);
		return;
	}
	if (r->libc_seen) {
		printf("%s in %lld of %lld calls it wrapped", libc_answer(r),
		       r->libc_seen - r->libc_changed, r->libc_seen);
		sep = "; ";
	}
	/* bypassed or not probed: told apart in user space, per record */
	from_records(t->rec_libc_none, r->libc_none, from, sizeof(from));
	if (r->libc_unseen) {
		printf("%s%lld send%s bypassed libc (probed in %s process)%s",
		       sep, r->libc_unseen, r->libc_unseen > 1 ? "s" : "",
		       r->libc_unseen > 1 ? "their" : "its", from);
		sep = "; ";
	}
	if (r->libc_not_probed) {
		printf("%s%lld send%s where libc was not probed (%s)%s", sep,
		       r->libc_not_probed, r->libc_not_probed > 1 ? "s" : "",
		       r->libc_not_probed_why, from);
		sep = "; ";
	}
	printf("%s\n", sep[0] ? "" : "no send through a libc wrapper");
}

/* Where the totals come from, and the sends by syscall, errno and origin. */
static void print_totals_text(const struct tfo_report *r)
{
	const struct tfo_totals_src *t = &r->totals;
	unsigned long long lost = tfo_session_lost(r->session);

	if (!t->from_bpf)
		printf("  totals: from the %lld send records that arrived\n",
		       r->sends);
	else if (t->exact)
		printf("  totals: exact (BPF counters): %lld send%s; %llu "
		       "detailed record%s dropped (ring buffer full)\n",
		       r->sends, r->sends == 1 ? "" : "s", lost,
		       lost == 1 ? "" : "s");
	else
		printf("  totals: not exact: %llu records of classes that found "
		       "BPF's totals map full (%d classes) are not counted; "
		       "%llu detailed records dropped (ring buffer full)\n",
		       t->map_full, TFO_TOTALS_MAX, lost);
	for (int i = 0; i < t->ngroups; i++) {
		const struct tfo_total_group *g = &t->groups[i];
		char origin[96] = "";

		if (g->layer)
			snprintf(origin, sizeof(origin), "%s (%s layer)",
				 g->origin[0] ? g->origin : "-", g->layer);
		printf("    %-8s %-13s %-40s %10lld  e.g. %s[%d]\n", g->syscall,
		       g->err ? g->err : "ok", origin, g->sends, g->comm,
		       g->pid);
	}
	if (t->groups_other)
		printf("    %lld more sends of other classes\n",
		       t->groups_other);
}

static void print_rejections_text(const struct tfo_report *r)
{
	const struct tfo_totals_src *t = &r->totals;
	char from[64];

	if (!r->rejected) {
		printf("  kernel: rejected no send\n");
		return;
	}
	from_records(t->rec_rejected, r->rejected, from, sizeof(from));
	printf("  kernel: rejected %lld send%s%s%s:\n", r->rejected,
	       r->rejected > 1 ? "s" : "",
	       r->nrej < t->rec_rejected ? "; the first listed" : "", from);
	for (int i = 0; i < r->nrej; i++) {
		const struct tfo_rejection *x = &r->rej[i];

		char who[48];

		if (x->case_name[0])
			snprintf(who, sizeof(who), "%s", x->case_name);
		else
			snprintf(who, sizeof(who), "%s[%d]", x->comm, x->pid);
		printf("    %-20s %-8s %-11s %s %s%s%s\n", who, x->syscall,
		       x->err, x->function[0] ? x->function : "-",
		       !strcmp(x->layer, tfo_layer_name(TFO_LAYER_FUNCTION)) ?
			       "" :
			       "(socket layer)",
		       x->condition[0] ? ": " : "", x->condition);
	}
}

static void print_verdict_text(struct tfo_report *r)
{
	unsigned long long lost = tfo_session_lost(r->session);

	printf("\nVerdict\n");
	print_totals_text(r);
	print_libc_verdict_text(r);
	print_rejections_text(r);
	print_kernel_answer(r);
	if (r->fastopen_ok_with_addr && r->einval_without_addr)
		printf("          MSG_FASTOPEN with a destination address "
		       "succeeded (%lld); EINVAL came from sends without one "
		       "(%lld): a Fast Open send must carry the address it "
		       "connects to.\n",
		       r->fastopen_ok_with_addr, r->einval_without_addr);
	if (r->session->backend == BACKEND_TRACEPOINT && r->rejected)
		printf("  note:   the tracepoint backend sees the socket layer; "
		       "the function inside it that said no needs the fentry "
		       "or kprobe backend.\n");
	tfo_fo_verdict_text(r);
	if (lost)
		printf("  lost:   %llu events (ring buffer full)\n", lost);
}

const char *tfo_syn_option(const struct tfo_syn *syn)
{
	return tfo_option(syn);
}

void tfo_report_watch(struct tfo_report *r, pid_t pid, bool all_new)
{
	tfo_netstat_start(&r->netstat, pid, all_new);
}

void tfo_report_close(struct tfo_report *r)
{
	tfo_netstat_close(&r->netstat);
}

void tfo_report_verdict(struct tfo_report *r)
{
	tfo_totals_apply(r);
	info("ring records: %llu malformed (wrong size or kind), dropped",
	     r->malformed_records);
	tfo_netstat_finish(&r->netstat);
	if (env.json)
		print_verdict_json(r);
	else
		print_verdict_text(r);
}
