// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>

#include "output.h"
#include "pktleak.skel.h"
#include "pktleak_decode.h"
#include "pktleak_session.h"
#include "runtime.h"

int pkt_backend_check(const struct kernel_features *kf, enum backend backend,
		      char *why, size_t why_len)
{
	if (backend != BACKEND_TRACEPOINT || kf->sk_data_ready.ok)
		return 0;
	snprintf(why, why_len,
		 "tracepoint backend cannot see frames being queued: %s; "
		 "fentry or kprobe on packet_rcv would",
		 kf->sk_data_ready.why);
	return EXIT_NOSUPPORT;
}

/* Behind socket(), bind(), setsockopt() and close() (bpf/pktleak.bpf.c). */
static const char *const sys_layer[] = {
	"__sys_socket",
	"__sys_bind",
	"__sys_setsockopt",
	"__x64_sys_close",
};

/*
 * BTF alone: a function in vmlinux BTF has an out-of-line copy (pahole
 * leaves out the ones inlined everywhere). ftrace's list, which tfo reads
 * for its send path, would add notrace functions, which these are not, for
 * a read that costs seconds in an emulated guest (the kernel formats every
 * traceable function); an attach that still fails is reported as such.
 */
bool pkt_sys_fentry_ok(const struct btf *vmlinux)
{
	if (!vmlinux)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(sys_layer); i++) {
		if (btf__find_by_name_kind(vmlinux, sys_layer[i],
					   BTF_KIND_FUNC) <= 0) {
			info("syscall layer: raw sys_enter/sys_exit "
			     "tracepoints (%s not traceable on this kernel)",
			     sys_layer[i]);
			return false;
		}
	}
	info("syscall layer: fentry/fexit on __sys_socket, __sys_bind, "
	     "__sys_setsockopt, __x64_sys_close (no raw sys_enter/sys_exit)");
	return true;
}

/* Switch on the frame programs of the chosen backend, and only those. */
static void choose_programs(struct pkt_session *s,
			    const struct pkt_session_opts *o)
{
	struct pktleak_bpf *skel = s->skel;
	struct bpf_program *const fentry[] = {
		skel->progs.pkt_fentry_rcv,
		skel->progs.pkt_fexit_rcv,
		skel->progs.pkt_fentry_tpacket_rcv,
		skel->progs.pkt_fexit_tpacket_rcv,
	};
	struct bpf_program *const kprobe[] = {
		skel->progs.pkt_kprobe_rcv,
		skel->progs.pkt_kprobe_tpacket_rcv,
		skel->progs.pkt_kretprobe_rcv,
	};
	struct bpf_program *const devices[] = {
		skel->progs.pkt_netif_receive_skb,
		skel->progs.pkt_net_dev_queue,
		skel->progs.pkt_sk_data_ready,
	};
	struct bpf_program *const children[] = {
		skel->progs.pkt_fork,
		skel->progs.pkt_exit,
	};
	struct bpf_program *const sys_fentry[] = {
		skel->progs.pkt_sys_socket,
		skel->progs.pkt_sys_socket_ret,
		skel->progs.pkt_sys_bind,
		skel->progs.pkt_sys_bind_ret,
		skel->progs.pkt_sys_setsockopt,
		skel->progs.pkt_sys_setsockopt_ret,
		skel->progs.pkt_sys_close,
	};
	struct bpf_program *const sys_tp[] = {
		skel->progs.pkt_sys_enter,
		skel->progs.pkt_sys_exit,
	};

	progs_set_autoload(fentry, ARRAY_SIZE(fentry),
			   s->backend == BACKEND_FENTRY);
	progs_set_autoload(kprobe, ARRAY_SIZE(kprobe),
			   s->backend == BACKEND_KPROBE);
	progs_set_autoload(devices, ARRAY_SIZE(devices),
			   s->backend == BACKEND_TRACEPOINT);
	/* --all watches every process: no traced set to follow */
	progs_set_autoload(children, ARRAY_SIZE(children),
			   o->follow_children && !o->trace_all);
	progs_set_autoload(sys_fentry, ARRAY_SIZE(sys_fentry), o->sys_fentry);
	progs_set_autoload(sys_tp, ARRAY_SIZE(sys_tp), !o->sys_fentry);
	if (s->backend == BACKEND_TRACEPOINT) {
		s->reached_source =
			"inferred: frames of netif_receive_skb and "
			"net_dev_queue that the socket's hook matches";
		s->queued_source = "sock:sk_data_ready";
	} else {
		s->reached_source = "packet_rcv/tpacket_rcv entry";
		s->queued_source = "packet_rcv/tpacket_rcv return";
	}
}

static int add_link(struct pkt_session *s, struct bpf_link *link)
{
	return keep_link(s->links, &s->nlinks, PKT_MAX_LINKS, link);
}

/* One kretprobe program serves both receive functions. */
static int attach_extra(struct pkt_session *s)
{
	struct bpf_link *l;

	if (s->backend != BACKEND_KPROBE)
		return 0;
	l = bpf_program__attach_kprobe(s->skel->progs.pkt_kretprobe_rcv, true,
				       "tpacket_rcv");
	if (add_link(s, l))
		return fail(attach_exit_code(errno),
			    "kretprobe on tpacket_rcv: %s", strerror(errno));
	return 0;
}

static void configure(struct pkt_session *s, const struct pkt_session_opts *o)
{
	struct pktleak_bpf *skel = s->skel;

	skel->rodata->nr_socket = SYS_socket;
	skel->rodata->nr_bind = SYS_bind;
	skel->rodata->nr_close = SYS_close;
	skel->rodata->nr_setsockopt = SYS_setsockopt;
	skel->rodata->trace_all = o->trace_all;
	skel->rodata->emit_frames = o->timeline;
	skel->rodata->reached_after_bind = o->reached_after_bind;
	skel->rodata->snaplen = o->snaplen;
	if (!o->snaplen) /* unused: the smallest ring the kernel takes */
		bpf_map__set_max_entries(skel->maps.frames, getpagesize());
	choose_programs(s, o);
}

int pkt_session_open(struct pkt_session *s, const struct pkt_session_opts *o)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->backend = o->backend;
	s->skel = pktleak_bpf__open();
	if (!s->skel)
		return fail(EXIT_RUNTIME,
			    "cannot open the pktleak BPF object: %s",
			    strerror(errno));
	configure(s, o);
	startup_lap("pktleak: open, configure");
	err = pktleak_bpf__load(s->skel);
	startup_lap("pktleak: load");
	if (err)
		return fail(
			err == -EPERM ? EXIT_NOSUPPORT : EXIT_RUNTIME,
			"cannot load the pktleak BPF programs (%s backend): %s",
			backend_name(s->backend), strerror(-err));
	err = pktleak_bpf__attach(s->skel);
	if (err)
		return fail(
			attach_exit_code(err),
			"cannot attach the pktleak BPF programs (%s backend): %s",
			backend_name(s->backend), strerror(-err));
	err = attach_extra(s);
	startup_lap("pktleak: attach");
	if (!err)
		err = open_ring_buffer(s->skel->maps.events, o->on_event,
				       o->ctx, &s->rb);
	if (err || !o->snaplen)
		return err;
	if (ring_buffer__add(s->rb, bpf_map__fd(s->skel->maps.frames),
			     o->on_frame, o->ctx))
		return fail(EXIT_RUNTIME,
			    "cannot open the frame ring buffer: %s",
			    strerror(errno));
	return 0;
}

int pkt_session_trace(struct pkt_session *s, pid_t tgid)
{
	return trace_tgid(s->skel->maps.traced_tgids, tgid);
}

struct find_fd {
	pid_t tgid;
	int fd;
	struct pkt_sock *out;
	bool found;
};

static void match_fd(const struct pkt_sock *ps, void *ctx)
{
	struct find_fd *f = ctx;

	if (!f->found && (pid_t)ps->tgid == f->tgid && ps->fd == f->fd) {
		*f->out = *ps;
		f->found = true;
	}
}

int pkt_session_socket(const struct pkt_session *s, pid_t tgid, int fd,
		       struct pkt_sock *out)
{
	struct find_fd f = { .tgid = tgid, .fd = fd, .out = out };

	pkt_session_for_each(s, match_fd, &f);
	return f.found ? 0 : -ENOENT;
}

void pkt_session_for_each(const struct pkt_session *s,
			  void (*fn)(const struct pkt_sock *, void *),
			  void *ctx)
{
	int map = bpf_map__fd(s->skel->maps.sockets);
	__u64 key, next;
	struct pkt_sock ps;
	void *prev = NULL;

	while (!bpf_map_get_next_key(map, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(map, &key, &ps))
			continue;
		pkt_sock_terminate(&ps);
		fn(&ps, ctx);
	}
}

unsigned long long pkt_session_lost(const struct pkt_session *s)
{
	return s->skel ? s->skel->bss->lost_events : 0;
}

unsigned long long pkt_session_frames_lost(const struct pkt_session *s)
{
	return s->skel ? s->skel->bss->frames_lost : 0;
}

void pkt_session_close(struct pkt_session *s)
{
	ring_buffer__free(s->rb);
	destroy_links(s->links, &s->nlinks);
	pktleak_bpf__destroy(s->skel);
	memset(s, 0, sizeof(*s));
}
