// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>

#include "libc.h"
#include "tfo_libc.h"
#include "output.h"
#include "runtime.h"
#include "tfo.skel.h"
#include "tfo_session.h"
#include "tracer.h"

/*
 * Kernel functions on the MSG_FASTOPEN send path (see KERNEL-NOTES: from
 * __sys_sendmsg/__sys_sendto down to tcp_v4_connect), outermost first. Which
 * of them exist out of line differs per kernel (tcp_sendmsg_fastopen was
 * static before 6.1, __sock_sendmsg is inlined on 6.12+): only those in BTF
 * with an int return and in kallsyms are traced. Error-path helpers such as
 * sk_stream_error() are left out: called after the failure, they would hide
 * the origin.
 */
static const char *const send_path[] = {
	"__sys_sendto",
	"__sys_sendmsg",
	"___sys_sendmsg",
	"____sys_sendmsg",
	"__sys_sendmmsg",
	"__sock_sendmsg",
	"sock_sendmsg",
	"security_socket_sendmsg",
	"inet_sendmsg",
	"inet6_sendmsg",
	"tcp_sendmsg",
	"tcp_sendmsg_locked",
	"tcp_sendmsg_fastopen",
	"__inet_stream_connect",
	"tcp_v4_connect",
	"tcp_v6_connect",
	"sk_stream_wait_connect",
	"udp_sendmsg",
	"udpv6_sendmsg",
};

const struct btf_type *kfunc_proto(const struct btf *btf, const char *func)
{
	int id = btf__find_by_name_kind(btf, func, BTF_KIND_FUNC);
	const struct btf_type *t;

	if (id <= 0)
		return NULL;
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
	return t && btf_is_func_proto(t) ? t : NULL;
}

int btf_param_index(const struct btf *btf, const struct btf_type *proto,
		    const char *param)
{
	const struct btf_param *p;

	if (!proto)
		return -1;
	p = btf_params(proto);
	for (int i = 0; i < btf_vlen(proto); i++)
		if (!strcmp(btf__name_by_offset(btf, p[i].name_off), param))
			return i;
	return -1;
}

static bool returns_int(const struct btf *btf, const struct btf_type *proto)
{
	const struct btf_type *t = btf__type_by_id(btf, proto->type);

	while (t && (btf_is_typedef(t) || btf_is_mod(t)))
		t = btf__type_by_id(btf, t->type);
	return t && btf_is_int(t);
}

#define SEND_PATH_LEN (sizeof(send_path) / sizeof(send_path[0]))

/*
 * The syscall layer under the fentry backend (bpf/tfo.bpf.c, "syscall layer,
 * fentry backend"): the function behind each syscall tfo follows, and its
 * fentry/fexit programs. The first three are also send-path frames.
 */
struct sys_func {
	const char *func;
	bool send_frame;
};

static const struct sys_func sys_layer[] = {
	{ "__sys_sendto", true },   { "__sys_sendmsg", true },
	{ "__sys_sendmmsg", true }, { "__sys_connect", false },
	{ "ksys_write", false },    { "__sys_accept4", false },
	{ "__sys_listen", false },
};

#define SYS_LAYER_LEN (sizeof(sys_layer) / sizeof(sys_layer[0]))

/* Under fentry, what tfo_sys_exit's gives_socket() sees (tfo.bpf.c). */
static const char *const socket_givers[] = {
	"__sys_socket",	 "__sys_socketpair", "__sys_accept4",
	"__sys_recvmsg", "__sys_recvmmsg",   "__x64_sys_pidfd_getfd",
};

#define GIVERS_LEN (sizeof(socket_givers) / sizeof(socket_givers[0]))

static bool kfunc_traceable(const struct btf *btf, const char *name,
			    bool in_ftrace)
{
	return kfunc_proto(btf, name) && ksyms_has(ksyms_get(), name) &&
	       in_ftrace;
}

/* fentry: whether every syscall-layer function can be traced; else why not. */
static void choose_sys_layer(struct tfo_session *s, const bool *traceable)
{
	for (size_t i = 0; i < SYS_LAYER_LEN; i++) {
		if (!kfunc_traceable(s->btf, sys_layer[i].func, traceable[i])) {
			info("syscall layer: raw sys_enter/sys_exit "
			     "tracepoints (%s not traceable on this kernel)",
			     sys_layer[i].func);
			return;
		}
	}
	s->sys_fentry = true;
	info("syscall layer: fentry/fexit on __sys_sendto, __sys_sendmsg, "
	     "__sys_sendmmsg, __sys_connect, ksys_write, __sys_accept4, "
	     "__sys_listen (no raw sys_enter/sys_exit)");
}

/*
 * fentry syscall layer: send-path hooks deferred to a traced thread's first
 * socket need fexit on every function behind a socket-giving syscall.
 */
static void choose_givers(struct tfo_session *s, const bool *traceable)
{
	for (size_t i = 0; i < GIVERS_LEN; i++) {
		if (!kfunc_traceable(s->btf, socket_givers[i], traceable[i])) {
			info("send-path hooks: attached at start (%s not "
			     "traceable on this kernel)",
			     socket_givers[i]);
			return;
		}
	}
	s->giver_fexit = true;
}

static bool is_sys_frame(const struct tfo_session *s, const char *name)
{
	for (size_t i = 0; s->sys_fentry && i < SYS_LAYER_LEN; i++)
		if (sys_layer[i].send_frame && !strcmp(name, sys_layer[i].func))
			return true;
	return false;
}

static void find_send_path(struct tfo_session *s)
{
	const char *names[SYS_LAYER_LEN + SEND_PATH_LEN + GIVERS_LEN];
	bool traceable[SYS_LAYER_LEN + SEND_PATH_LEN + GIVERS_LEN];
	const bool *send_ok = traceable + SYS_LAYER_LEN;
	const bool *giver_ok = send_ok + SEND_PATH_LEN;

	for (size_t i = 0; i < SYS_LAYER_LEN; i++)
		names[i] = sys_layer[i].func;
	for (size_t i = 0; i < SEND_PATH_LEN; i++)
		names[SYS_LAYER_LEN + i] = send_path[i];
	for (size_t i = 0; i < GIVERS_LEN; i++)
		names[SYS_LAYER_LEN + SEND_PATH_LEN + i] = socket_givers[i];
	ftrace_can_trace(names, ARRAY_SIZE(names), traceable);
	if (s->backend == BACKEND_FENTRY)
		choose_sys_layer(s, traceable);
	if (s->sys_fentry)
		choose_givers(s, giver_ok);
	for (size_t i = 0; i < SEND_PATH_LEN; i++) {
		const char *name = send_path[i];
		const struct btf_type *proto = kfunc_proto(s->btf, name);

		if (!proto || !returns_int(s->btf, proto) ||
		    !kfunc_traceable(s->btf, name, send_ok[i])) {
			info("send path: %s not traceable on this kernel",
			     name);
			continue;
		}
		if (is_sys_frame(s, name)) {
			s->nsys_frames++; /* its syscall-layer program records it */
			continue;
		}
		if (s->nfuncs == TFO_FENTRY_SLOTS)
			break;
		s->funcs[s->nfuncs++] = name;
	}
}

static struct bpf_program *slot_prog(struct tfo_bpf *skel, bool exit, int i)
{
	char name[32];

	snprintf(name, sizeof(name), "tfo_%s_%d", exit ? "fexit" : "fentry", i);
	return bpf_object__find_program_by_name(skel->obj, name);
}

/* fentry: retarget one slot pair per function, switch the rest off. */
static int setup_fentry_slots(struct tfo_session *s)
{
	bool on = s->backend == BACKEND_FENTRY;

	for (int i = 0; i < TFO_FENTRY_SLOTS; i++) {
		for (int exit = 0; exit < 2; exit++) {
			struct bpf_program *p = slot_prog(s->skel, exit, i);
			int err;

			if (!p)
				return -ENOENT;
			if (!on || i >= s->nfuncs) {
				bpf_program__set_autoload(p, false);
				continue;
			}
			err = bpf_program__set_attach_target(p, 0, s->funcs[i]);
			if (err)
				return err;
		}
	}
	return 0;
}

/*
 * The syscall layer's programs: the fentry ones or the raw tracepoints; and
 * under fentry, when the send-path hooks wait for a first socket (@defer),
 * the socket givers' fexit programs.
 */
static void choose_sys_programs(struct tfo_session *s, bool defer)
{
	struct tfo_bpf *skel = s->skel;
	struct bpf_program *const givers[] = {
		skel->progs.tfo_gives_socket,
		skel->progs.tfo_gives_socketpair,
		skel->progs.tfo_gives_accept4,
		skel->progs.tfo_gives_recvmsg,
		skel->progs.tfo_gives_recvmmsg,
		skel->progs.tfo_gives_pidfd_getfd,
	};
	struct bpf_program *const fentry[] = {
		skel->progs.tfo_sys_sendto,
		skel->progs.tfo_sys_sendto_ret,
		skel->progs.tfo_sys_sendmsg,
		skel->progs.tfo_sys_sendmsg_ret,
		skel->progs.tfo_sys_sendmmsg,
		skel->progs.tfo_sys_sendmmsg_ret,
		skel->progs.tfo_sys_connect,
		skel->progs.tfo_sys_connect_ret,
		skel->progs.tfo_sys_write,
		skel->progs.tfo_sys_write_ret,
		skel->progs.tfo_sys_accept,
		skel->progs.tfo_sys_accept_ret,
		skel->progs.tfo_sys_listen_ret,
	};

	progs_set_autoload(fentry, ARRAY_SIZE(fentry), s->sys_fentry);
	bpf_program__set_autoload(skel->progs.tfo_sys_enter, !s->sys_fentry);
	bpf_program__set_autoload(skel->progs.tfo_sys_exit, !s->sys_fentry);
	s->giver_fexit = s->giver_fexit && defer;
	progs_set_autoload(givers, ARRAY_SIZE(givers), s->giver_fexit);
}

#define TFO_RING_ALL_BYTES (2U << 20)
#define TFO_WAKEUP_BYTES (64U << 10)

static void configure(struct tfo_session *s, const struct tfo_session_opts *o)
{
	struct tfo_bpf *skel = s->skel;

	skel->rodata->nr_sendto = SYS_sendto;
	skel->rodata->nr_sendmsg = SYS_sendmsg;
	skel->rodata->nr_sendmmsg = SYS_sendmmsg;
	skel->rodata->nr_connect = SYS_connect;
	skel->rodata->nr_write = SYS_write;
	skel->rodata->nr_accept = SYS_accept;
	skel->rodata->nr_accept4 = SYS_accept4;
	skel->rodata->nr_listen = SYS_listen;
	skel->rodata->nr_socket = SYS_socket;
	skel->rodata->nr_socketpair = SYS_socketpair;
	skel->rodata->nr_recvmsg = SYS_recvmsg;
	skel->rodata->nr_recvmmsg = SYS_recvmmsg;
	skel->rodata->nr_pidfd_getfd = SYS_pidfd_getfd;
	skel->rodata->only_fastopen = o->only_fastopen;
	skel->rodata->trace_libc = o->trace_libc;
	/* --all: a deeper ring, and batched wakeups (see wakeup_bytes). */
	if (!o->only_fastopen) {
		bpf_map__set_max_entries(skel->maps.events, TFO_RING_ALL_BYTES);
		skel->rodata->wakeup_bytes = TFO_WAKEUP_BYTES;
	}
	/* --ring-size; a ring smaller than the wakeup mark wakes at half */
	if (o->ring_bytes) {
		bpf_map__set_max_entries(skel->maps.events, o->ring_bytes);
		if (skel->rodata->wakeup_bytes > o->ring_bytes / 2)
			skel->rodata->wakeup_bytes = o->ring_bytes / 2;
	}

	choose_sys_programs(s, o->defer_send_hooks);
	if (s->backend != BACKEND_KPROBE) {
		bpf_program__set_autoload(skel->progs.tfo_kprobe, false);
		bpf_program__set_autoload(skel->progs.tfo_kretprobe, false);
	}
	s->sock_layer = o->kf->sock_send_length.ok;
	if (!s->sock_layer)
		bpf_program__set_autoload(skel->progs.tfo_sock_send_length,
					  false);
	/* Without sock_send_length a send might never meet its socket. */
	skel->rodata->sock_at_entry = !o->all_sends || !s->sock_layer;
	/* tfo_session_attach_send_hooks() attaches these, and the slots */
	for (size_t i = 0; i < ARRAY_SIZE(s->send_hooks); i++)
		bpf_program__set_autoattach(*s->send_hooks[i].prog, false);
	for (int i = 0; i < TFO_FENTRY_SLOTS; i++) {
		bpf_program__set_autoattach(slot_prog(skel, false, i), false);
		bpf_program__set_autoattach(slot_prog(skel, true, i), false);
	}
}

static void list_send_hooks(struct tfo_session *s)
{
	struct tfo_bpf *skel = s->skel;
	struct send_hook hooks[] = {
		{ &skel->progs.tfo_sock_send_length,
		  &skel->links.tfo_sock_send_length },
		{ &skel->progs.tfo_set_state, &skel->links.tfo_set_state },
		{ &skel->progs.tfo_dev_queue, &skel->links.tfo_dev_queue },
		{ &skel->progs.tfo_rcv, &skel->links.tfo_rcv },
	};

	memcpy(s->send_hooks, hooks, sizeof(hooks));
}

static int add_link(struct tfo_session *s, struct bpf_link *link)
{
	return keep_link(s->links, &s->nlinks, TFO_MAX_LINKS, link);
}

static int attach_kprobes(struct tfo_session *s)
{
	for (int i = 0; i < s->nfuncs; i++) {
		struct bpf_link *entry, *ret;

		entry = bpf_program__attach_kprobe(s->skel->progs.tfo_kprobe,
						   false, s->funcs[i]);
		if (add_link(s, entry))
			return fail(attach_exit_code(errno), "kprobe on %s: %s",
				    s->funcs[i], strerror(errno));
		ret = bpf_program__attach_kprobe(s->skel->progs.tfo_kretprobe,
						 true, s->funcs[i]);
		if (add_link(s, ret))
			return fail(attach_exit_code(errno),
				    "kretprobe on %s: %s", s->funcs[i],
				    strerror(errno));
	}
	return 0;
}

/* The fentry slot pairs that setup_fentry_slots() aimed at s->funcs. */
static int attach_fentry_slots(struct tfo_session *s)
{
	for (int i = 0; i < s->nfuncs; i++) {
		for (int exit = 0; exit < 2; exit++) {
			struct bpf_program *p = slot_prog(s->skel, exit, i);

			if (add_link(s, bpf_program__attach(p)))
				return fail(attach_exit_code(errno),
					    "%s on %s: %s",
					    exit ? "fexit" : "fentry",
					    s->funcs[i], strerror(errno));
		}
	}
	return 0;
}

/* Where a refusal comes from: the send-path functions' own hooks. */
static int attach_function_hooks(struct tfo_session *s)
{
	int err = 0;

	if (s->function_hooks_tried) /* never twice: two links, two events */
		return 0;
	s->function_hooks_tried = true;
	if (s->backend == BACKEND_FENTRY)
		err = attach_fentry_slots(s);
	else if (s->backend == BACKEND_KPROBE)
		err = attach_kprobes(s);
	return err;
}

/*
 * The hooks every send and frame of the machine passes through: the
 * send-path tracepoints and functions. Once attached they stay attached
 * until tracer ends: a process that held a socket may send again at any
 * time, and detaching would cost the next one's SYN.
 */
int tfo_session_attach_send_hooks(struct tfo_session *s, const char *why)
{
	int err;

	if (s->send_hooks_live)
		return 0;
	err = attach_function_hooks(s);
	if (err)
		return err;
	for (size_t i = 0; i < ARRAY_SIZE(s->send_hooks); i++) {
		struct bpf_program *prog = *s->send_hooks[i].prog;

		if (!bpf_program__autoload(prog) || *s->send_hooks[i].link)
			continue;
		*s->send_hooks[i].link = bpf_program__attach(prog);
		if (!*s->send_hooks[i].link)
			return fail(EXIT_NOSUPPORT, "cannot attach %s: %s",
				    bpf_program__name(prog), strerror(errno));
	}
	s->send_hooks_live = true;
	s->skel->bss->send_hooks_live = 1;
	info("send-path hooks attached: %s", why);
	return 0;
}

bool tfo_session_take_stop(struct tfo_session *s, pid_t tid)
{
	__u32 key = (__u32)tid;
	int err;

	if (bpf_map__delete_elem(s->skel->maps.hook_requests, &key, sizeof(key),
				 0))
		return false;
	err = tfo_session_attach_send_hooks(s, "a traced thread got a socket");
	if (err)
		warn("sends of pid %d may miss their SYN", (int)tid);
	return true;
}

bool tfo_session_stop_pending(const struct tfo_session *s, pid_t tid)
{
	__u32 key = (__u32)tid;
	__u8 v;

	return !bpf_map__lookup_elem(s->skel->maps.hook_requests, &key,
				     sizeof(key), &v, sizeof(v), 0);
}

void tfo_session_check_send_hooks(struct tfo_session *s)
{
	if (s->send_hooks_live || !s->skel->bss->send_hooks_wanted ||
	    !s->skel->bss->send_hooks_signal_failed)
		return;
	/* A request whose stop never came: bpf_send_signal_thread() failed. */
	tfo_session_attach_send_hooks(
		s, "late: a traced thread got a socket, its stop was refused");
}

void tfo_session_forget_stop(struct tfo_session *s, pid_t tid)
{
	__u32 key = (__u32)tid;

	if (s->skel)
		bpf_map__delete_elem(s->skel->maps.hook_requests, &key,
				     sizeof(key), 0);
}

void tfo_session_stop_requests_end(struct tfo_session *s)
{
	if (s->skel && s->skel->bss) {
		s->skel->bss->send_hooks_live = 1;
		s->skel->bss->traced_are_ptraced = 0;
	}
}

void tfo_session_all_ptraced(struct tfo_session *s)
{
	s->skel->bss->traced_are_ptraced = 1;
}

/*
 * The C library whose send wrappers will be probed: @pid's, or for pid 0
 * the tracer's (or, with @self, the tracer's own binary when it is static).
 */
static void find_libc(struct tfo_session *s, pid_t pid, bool self)
{
	if (libc_path_of(pid, self, s->libc, sizeof(s->libc))) {
		snprintf(s->libc_why, sizeof(s->libc_why),
			 "no C library found%s", pid ? " in the process" : "");
		s->libc[0] = '\0';
	}
}

/*
 * The libc wrappers of process @pid, as it maps them now (the built-in
 * runner). Commands and -p follow their whole tree: see tfo_libc.c.
 */
int tfo_session_attach_libc(struct tfo_session *s, pid_t pid)
{
	return tfo_libc_probe_process(s, pid);
}

/* Without the libc layer its programs are not even loaded. */
static void skip_libc(struct tfo_session *s, const char *why)
{
	struct bpf_program *progs[] = {
		s->skel->progs.libc_send,
		s->skel->progs.libc_sendto,
		s->skel->progs.libc_sendmsg,
		s->skel->progs.libc_sendmmsg,
	};

	for (size_t i = 0; i < ARRAY_SIZE(progs); i++)
		bpf_program__set_autoload(progs[i], false);
	snprintf(s->libc_why, sizeof(s->libc_why), "%s", why);
	s->libc[0] = '\0';
}

static int load_and_attach(struct tfo_session *s,
			   const struct tfo_session_opts *o)
{
	int err = setup_fentry_slots(s);

	list_send_hooks(s);
	if (err)
		return fail(EXIT_RUNTIME, "cannot set fentry targets: %s",
			    strerror(-err));
	configure(s, o);
	s->libc_on = o->trace_libc;
	/* The built-in runner is a fork of tracer: its libc is tracer's. */
	if (o->trace_libc && o->libc_self)
		find_libc(s, 0, true);
	else if (!o->trace_libc)
		skip_libc(s,
			  "not probed with --all (add --libc: each call of a "
			  "probed wrapper costs a breakpoint trap)");
	if (!s->libc[0] && o->libc_self && o->trace_libc)
		warn("libc wrappers not traced: %s", s->libc_why);
	startup_lap("tfo: open, configure");
	err = tfo_bpf__load(s->skel);
	startup_lap("tfo: load");
	if (err)
		return fail(err == -EPERM ? EXIT_NOSUPPORT : EXIT_RUNTIME,
			    "cannot load the tfo BPF programs (%s backend): %s",
			    backend_name(s->backend), strerror(-err));
	err = tfo_bpf__attach(s->skel);
	if (err)
		return fail(
			attach_exit_code(err),
			"cannot attach the tfo BPF programs (%s backend): %s",
			backend_name(s->backend), strerror(-err));
	startup_lap("tfo: attach");
	/*
	 * The stop requests come from tfo_sys_exit or, under the fentry
	 * syscall layer, the socket givers' fexit (request_send_hooks()).
	 */
	if (!o->defer_send_hooks ||
	    !(bpf_program__autoload(s->skel->progs.tfo_sys_exit) ||
	      s->giver_fexit))
		return tfo_session_attach_send_hooks(s, "at start");
	return 0;
}

int tfo_session_open(struct tfo_session *s, const struct tfo_session_opts *o)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->backend = o->backend;
	/*
	 * Only the function backends look up send-path functions and their
	 * parameters: they take probe_kernel()'s BTF. The tracepoint backend
	 * leaves it to be freed before the skeleton loads, where libbpf
	 * parses its own copy: two copies would double the peak memory.
	 */
	if (s->backend == BACKEND_FENTRY || s->backend == BACKEND_KPROBE) {
		s->btf = o->kf->vmlinux;
		o->kf->vmlinux = NULL;
		if (!s->btf)
			return fail(EXIT_NOSUPPORT,
				    "cannot read the kernel's BTF: %s",
				    strerror(errno));
		find_send_path(s);
	} else {
		kernel_features_release(o->kf);
	}
	s->skel = tfo_bpf__open();
	if (!s->skel)
		return fail(EXIT_RUNTIME, "cannot open the tfo BPF object: %s",
			    strerror(errno));
	err = load_and_attach(s, o);
	if (err)
		return err;
	return open_ring_buffer(s->skel->maps.events, o->on_event, o->ctx,
				&s->rb);
}

int tfo_session_trace(struct tfo_session *s, pid_t tgid)
{
	return trace_tgid(s->skel->maps.traced_tgids, tgid);
}

unsigned long long tfo_session_lost(const struct tfo_session *s)
{
	return s->skel ? s->skel->bss->lost_events : 0;
}

int tfo_session_totals_fd(const struct tfo_session *s)
{
	return s->skel ? bpf_map__fd(s->skel->maps.tfo_totals) : -1;
}

unsigned long long tfo_session_totals_full(const struct tfo_session *s)
{
	return s->skel ? s->skel->bss->totals_full : 0;
}

void tfo_session_close(struct tfo_session *s)
{
	tfo_libc_free(s);
	ring_buffer__free(s->rb);
	destroy_links(s->links, &s->nlinks);
	tfo_bpf__destroy(s->skel);
	btf__free(s->btf);
	memset(s, 0, sizeof(*s));
}
