// SPDX-License-Identifier: GPL-2.0
/*
 * tracer tfo: follow each send of a traced process from the libc wrapper to
 * the syscall, the socket layer, the send-path kernel functions (fentry/fexit
 * or kprobe/kretprobe, when the kernel allows them), TCP state changes and the
 * SYN that leaves, and emit one event when the syscall returns.
 *
 * Every program type calls the same few functions below: on_syscall_enter(),
 * on_func_entry()/on_func_exit(), on_state_change(), on_frame_queued().
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "common.bpf.h"
#include "sock.bpf.h"
#include "tfo_event.h"

#define MAX_ERRNO 4095
#define TRACER_IPPROTO_TCP 6

/* Syscall numbers of this architecture, set by the loader from <sys/syscall.h>. */
const volatile long nr_sendto = -1;
const volatile long nr_sendmsg = -1;
const volatile long nr_sendmmsg = -1;
const volatile long nr_connect = -1;
const volatile long nr_write = -1;
/* Report only sends that ask for Fast Open (default), or every send (--all). */
const volatile bool only_fastopen = true;
/* The libc wrappers are probed (their programs loaded and attached). */
const volatile bool trace_libc = true;
/*
 * With --all the ring buffer can see hundreds of thousands of events a
 * second: a wakeup per event (an irq_work and a futex-like wakeup of the
 * reader, in bpf_ringbuf_commit()) would cost more than the event. Then the
 * reader is woken once this much is waiting, and polls on a timer for the
 * rest.
 */
const volatile __u32 wakeup_bytes = 0;
/*
 * Read the socket behind the fd at syscall entry (four probe reads and
 * four more for its fields). With --all, where the loader clears it when
 * sock:sock_send_length exists, the socket is instead taken from the first
 * hook that is handed it as a trusted pointer (a TCP state change, or
 * sock_send_length), where its fields are plain loads.
 */
const volatile bool sock_at_entry = true;

struct inflight {
	struct tfo_event ev;
	__u32 sp; /* depth of the traced function call stack */
	__u32 active; /* the thread is inside a send being traced */
	struct tfo_frame stack[TFO_MAX_DEPTH];
};

/*
 * The send each traced thread is inside of: tid -> inflight. An entry lives
 * as long as its thread (sys_exit only clears .active), so a send costs a
 * lookup, not an insert and a delete of 800 bytes.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct inflight);
} inflight SEC(".maps");

/* Socket -> the thread sending on it, for events raised in softirq context. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u32);
} sk_owner SEC(".maps");

/* What the libc wrapper was given, until the syscall it makes begins. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct tfo_libc_call);
} libc_calls SEC(".maps");

/*
 * Entries in inflight. The hooks every send on the machine passes through
 * (syscall exit, socket layer, device queue, TCP state) look at this first:
 * while no traced thread is inside a send, they return before any lookup.
 */
__u64 nr_inflight = 0;
/* Entries in sk_owner: gates the softirq-side hooks the same way. */
__u64 nr_owned_socks = 0;

/* Never written: the zeroed value new inflight entries start from. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct inflight);
} zero_inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

static __always_inline enum tfo_syscall syscall_kind(long nr)
{
	if (nr == nr_sendto)
		return TFO_SYS_SENDTO;
	if (nr == nr_sendmsg)
		return TFO_SYS_SENDMSG;
	if (nr == nr_sendmmsg)
		return TFO_SYS_SENDMMSG;
	if (nr == nr_connect)
		return TFO_SYS_CONNECT;
	if (nr == nr_write)
		return TFO_SYS_WRITE;
	return TFO_SYS_NONE;
}

static __always_inline __u32 current_tid(void)
{
	return (__u32)bpf_get_current_pid_tgid();
}

static __always_inline struct inflight *current_inflight(void)
{
	__u32 tid = current_tid();

	struct inflight *f;

	if (!nr_inflight)
		return NULL;
	f = bpf_map_lookup_elem(&inflight, &tid);
	return f && f->active ? f : NULL;
}

static __always_inline struct inflight *inflight_of_sock(const struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct inflight *f;
	__u32 *tid;

	if (!nr_owned_socks)
		return NULL;
	tid = bpf_map_lookup_elem(&sk_owner, &key);
	f = tid ? bpf_map_lookup_elem(&inflight, tid) : NULL;
	return f && f->active ? f : NULL;
}

static __always_inline __u16 user_sa_family(const void *uaddr, int addrlen)
{
	__u16 family = 0;

	if (uaddr && addrlen >= (int)sizeof(family))
		bpf_probe_read_user(&family, sizeof(family), uaddr);
	return family;
}

/* msg_name and msg_namelen of a user msghdr (sendmsg) */
static __always_inline void user_msg_name(const struct user_msghdr *msg,
					  const void **name, int *namelen)
{
	struct user_msghdr m = {};

	if (msg && !bpf_probe_read_user(&m, sizeof(m), msg)) {
		*name = m.msg_name;
		*namelen = m.msg_namelen;
	}
}

/* TCP_FASTOPEN_CONNECT: connect() is deferred to the first write. */
static __always_inline bool tcp_fastopen_connect(struct sock *sk)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;

	if (BPF_CORE_READ(sk, sk_protocol) != TRACER_IPPROTO_TCP)
		return false;
	return BPF_CORE_READ_BITFIELD_PROBED(tp, fastopen_connect);
}

/* ------------------------------------------------------------------ libc */

static __always_inline void stash_libc_call(enum tfo_libc_func func, int flags,
					    const void *uaddr, int addrlen)
{
	struct tfo_libc_call call = {
		.func = func,
		.flags = flags,
		.addrlen = addrlen,
		.family = user_sa_family(uaddr, addrlen),
	};
	__u32 tid = current_tid();
	struct tfo_libc_call *outer;

	if (!current_is_traced())
		return;
	/* musl's send() is sendto(fd, buf, len, flags, 0, 0): keep the
	 * wrapper the program called (src/network/send.c) */
	outer = bpf_map_lookup_elem(&libc_calls, &tid);
	if (outer && outer->func == TFO_LIBC_SEND && func == TFO_LIBC_SENDTO &&
	    !uaddr && outer->flags == (__u32)flags)
		return;
	bpf_map_update_elem(&libc_calls, &tid, &call, BPF_ANY);
}

SEC("uprobe")
int BPF_KPROBE(libc_send, int fd, const void *buf, size_t len, int flags)
{
	stash_libc_call(TFO_LIBC_SEND, flags, NULL, 0);
	return 0;
}

/* sendto(fd, buf, len, flags, addr, addrlen): six arguments, one more
 * than BPF_KPROBE() of libbpf 1.1 takes. */
SEC("uprobe")
int libc_sendto(struct pt_regs *ctx)
{
	stash_libc_call(TFO_LIBC_SENDTO, (int)PT_REGS_PARM4(ctx),
			(const void *)PT_REGS_PARM5(ctx), (int)ctx->r9);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(libc_sendmsg, int fd, const struct user_msghdr *msg, int flags)
{
	const void *name = NULL;
	int namelen = 0;

	if (!current_is_traced())
		return 0;
	user_msg_name(msg, &name, &namelen);
	stash_libc_call(TFO_LIBC_SENDMSG, flags, name, namelen);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(libc_sendmmsg, int fd, const struct mmsghdr *vec,
	       unsigned int vlen, int flags)
{
	const void *name = NULL;
	int namelen = 0;

	if (!current_is_traced())
		return 0;
	user_msg_name((const struct user_msghdr *)vec, &name, &namelen);
	stash_libc_call(TFO_LIBC_SENDMMSG, flags, name, namelen);
	return 0;
}

/* The libc wrapper that made syscall @sc, consumed so it cannot go stale. */
static __always_inline void take_libc_call(enum tfo_syscall sc,
					   struct tfo_libc_call *out)
{
	__u32 tid = current_tid();
	struct tfo_libc_call *call;
	bool match;

	if (!trace_libc)
		return;
	call = bpf_map_lookup_elem(&libc_calls, &tid);
	if (!call)
		return;
	match = (sc == TFO_SYS_SENDTO && (call->func == TFO_LIBC_SEND ||
					  call->func == TFO_LIBC_SENDTO)) ||
		(sc == TFO_SYS_SENDMSG && call->func == TFO_LIBC_SENDMSG) ||
		(sc == TFO_SYS_SENDMMSG && call->func == TFO_LIBC_SENDMMSG);
	if (match)
		*out = *call;
	bpf_map_delete_elem(&libc_calls, &tid);
}

/* --------------------------------------------------------------- syscall */

struct send_args {
	int fd;
	__u32 flags;
	const void *uaddr;
	int addrlen;
};

static __always_inline bool decode_send_args(enum tfo_syscall sc,
					     const unsigned long *a,
					     struct send_args *s)
{
	s->fd = (int)a[0];
	s->addrlen = -1;
	switch (sc) {
	case TFO_SYS_SENDTO: /* fd, buf, len, flags, addr, addrlen */
		s->flags = a[3];
		s->uaddr = (const void *)a[4];
		s->addrlen = (int)a[5];
		break;
	case TFO_SYS_SENDMSG: /* fd, msg, flags */
		s->flags = a[2];
		user_msg_name((const void *)a[1], &s->uaddr, &s->addrlen);
		break;
	case TFO_SYS_SENDMMSG: /* fd, vec, vlen, flags: first message */
		s->flags = a[3];
		user_msg_name((const void *)a[1], &s->uaddr, &s->addrlen);
		break;
	case TFO_SYS_CONNECT: /* fd, addr, addrlen */
		s->uaddr = (const void *)a[1];
		s->addrlen = (int)a[2];
		break;
	case TFO_SYS_WRITE:
		break;
	default:
		return false;
	}
	return true;
}

/*
 * connect() and write() matter only on TCP_FASTOPEN_CONNECT sockets, where
 * tcp_sendmsg_locked() turns the first write into the Fast Open connect.
 */
static __always_inline bool send_is_wanted(enum tfo_syscall sc,
					   const struct send_args *s,
					   struct sock *sk, bool foc)
{
	if (sc == TFO_SYS_CONNECT)
		return foc;
	if (sc == TFO_SYS_WRITE)
		return foc && (sock_state(sk) == TCP_CLOSE ||
			       sock_state(sk) == TCP_SYN_SENT);
	return !only_fastopen || (s->flags & TFO_MSG_FASTOPEN) || foc;
}

static __always_inline void fill_sock_info(struct tfo_event *ev,
					   struct sock *sk)
{
	ev->sk = (__u64)sk;
	if (!sk)
		return;
	ev->sock_family = BPF_CORE_READ(sk, __sk_common.skc_family);
	ev->sock_type = BPF_CORE_READ(sk, sk_type);
	ev->sock_protocol = BPF_CORE_READ(sk, sk_protocol);
	ev->state_at_entry = sock_state(sk);
	if (ev->sock_protocol != TRACER_IPPROTO_TCP)
		return;
	ev->fastopen_connect = tcp_fastopen_connect(sk);
	ev->netns_tcp_fastopen = BPF_CORE_READ(sk, __sk_common.skc_net.net,
					       ipv4.sysctl_tcp_fastopen);
}

/* The inflight entry of the current thread, made on its first send. */
static __always_inline struct inflight *thread_inflight(__u32 tid)
{
	struct inflight *f = bpf_map_lookup_elem(&inflight, &tid);
	__u32 zero = 0;

	if (f)
		return f;
	f = bpf_map_lookup_elem(&zero_inflight, &zero);
	if (!f || bpf_map_update_elem(&inflight, &tid, f, BPF_NOEXIST))
		return NULL;
	return bpf_map_lookup_elem(&inflight, &tid);
}

/* Softirq-side hooks (TCP states, the SYN) find the send by its socket. */
static __always_inline void own_socket(const struct tfo_event *ev, __u32 tid)
{
	__u64 key = ev->sk;

	if (!key || ev->sock_protocol != TRACER_IPPROTO_TCP)
		return;
	if (!bpf_map_update_elem(&sk_owner, &key, &tid, BPF_NOEXIST))
		__sync_fetch_and_add(&nr_owned_socks, 1);
	else
		bpf_map_update_elem(&sk_owner, &key, &tid, BPF_EXIST);
}

static __always_inline void disown_socket(const struct tfo_event *ev)
{
	__u64 key = ev->sk;

	if (key && ev->sock_protocol == TRACER_IPPROTO_TCP &&
	    !bpf_map_delete_elem(&sk_owner, &key))
		__sync_fetch_and_add(&nr_owned_socks, -1);
}

/*
 * The same from a trusted socket pointer: plain loads. @state_at_entry is
 * the state the send found.
 */
static __always_inline void adopt_socket(struct inflight *f, struct sock *sk,
					 __u8 state_at_entry)
{
	struct tfo_event *ev = &f->ev;

	ev->sk = (__u64)sk;
	ev->sock_family = sk->__sk_common.skc_family;
	ev->sock_type = sk->sk_type;
	ev->sock_protocol = sk->sk_protocol;
	ev->state_at_entry = ev->nstates ? ev->states[0] : state_at_entry;
	if (ev->sock_protocol == TRACER_IPPROTO_TCP) {
		ev->fastopen_connect = tcp_fastopen_connect(sk);
		ev->netns_tcp_fastopen = BPF_CORE_READ(
			sk, __sk_common.skc_net.net, ipv4.sysctl_tcp_fastopen);
	}
	own_socket(ev, ev->tid);
}

/* Is @sk the socket of the current task's @fd (not one a softirq that
 * borrowed the task's context is working on)? */
static __always_inline bool sock_is_fd(const struct sock *sk, int fd)
{
	return sk && sock_from_fd(fd) == sk;
}

static __always_inline int on_syscall_enter(enum tfo_syscall sc,
					    const unsigned long *args)
{
	struct tfo_libc_call libc = {};
	struct send_args s = {};
	__u32 tid = current_tid();
	struct inflight *f;
	struct sock *sk;
	bool foc;

	take_libc_call(sc, &libc);
	if (!decode_send_args(sc, args, &s))
		return 0;
	if (sock_at_entry || sc == TFO_SYS_CONNECT || sc == TFO_SYS_WRITE)
		sk = sock_from_fd(s.fd);
	else
		sk = NULL; /* see sock_at_entry */
	/* --all takes every send without looking at the socket here. */
	foc = sk &&
	      (only_fastopen || sc == TFO_SYS_CONNECT || sc == TFO_SYS_WRITE) &&
	      tcp_fastopen_connect(sk);
	if (!send_is_wanted(sc, &s, sk, foc))
		return 0;
	f = thread_inflight(tid);
	if (!f)
		return 0;
	if (f->active) /* the thread died inside a send: that one is gone */
		disown_socket(&f->ev);
	else
		__sync_fetch_and_add(&nr_inflight, 1);
	__builtin_memset(&f->ev, 0, sizeof(f->ev));
	f->sp = 0;
	f->active = 1;
	f->ev.ts_enter_ns = bpf_ktime_get_ns();
	f->ev.tgid = bpf_get_current_pid_tgid() >> 32;
	f->ev.tid = tid;
	f->ev.syscall = sc;
	f->ev.fd = s.fd;
	f->ev.flags = s.flags;
	f->ev.addrlen = s.addrlen;
	f->ev.family = user_sa_family(s.uaddr, s.addrlen);
	f->ev.libc = libc;
	bpf_get_current_comm(f->ev.comm, sizeof(f->ev.comm));
	fill_sock_info(&f->ev, sk);
	own_socket(&f->ev, tid);
	return 0;
}

/* Wake the reader only when this event takes the backlog past wakeup_bytes:
 * once awake it reads until the ring is empty. */
static __always_inline __u64 wakeup_flags(__u32 size)
{
	__u64 avail;

	if (!wakeup_bytes)
		return 0;
	avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	return avail < wakeup_bytes && avail + size >= wakeup_bytes ?
		       BPF_RB_FORCE_WAKEUP :
		       BPF_RB_NO_WAKEUP;
}

static __always_inline int on_syscall_exit(long ret)
{
	__u32 tid = current_tid();
	struct inflight *f = bpf_map_lookup_elem(&inflight, &tid);

	if (!f || !f->active)
		return 0;
	f->ev.ret = ret;
	f->ev.ts_exit_ns = bpf_ktime_get_ns();
	if (bpf_ringbuf_output(&events, &f->ev, sizeof(f->ev),
			       wakeup_flags(sizeof(f->ev) + 8)))
		__sync_fetch_and_add(&lost_events, 1);
	disown_socket(&f->ev);
	f->active = 0;
	__sync_fetch_and_add(&nr_inflight, -1);
	return 0;
}

/* A thread's entry goes with it (with its send, if it died inside one). */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(tfo_thread_exit, struct task_struct *task)
{
	__u32 tid = task->pid;
	struct inflight *f = bpf_map_lookup_elem(&inflight, &tid);

	if (!f)
		return 0;
	if (f->active) {
		disown_socket(&f->ev);
		__sync_fetch_and_add(&nr_inflight, -1);
	}
	bpf_map_delete_elem(&inflight, &tid);
	return 0;
}

/* Raw syscall tracepoints: no tracefs needed, and present on every backend. */
SEC("tp_btf/sys_enter")
int BPF_PROG(tfo_sys_enter, struct pt_regs *regs, long id)
{
	enum tfo_syscall sc = syscall_kind(id);
	unsigned long args[6];

	if (sc == TFO_SYS_NONE || !current_is_traced())
		return 0;
	/* The user's registers, a trusted pointer: plain loads (x86_64). */
	args[0] = regs->di;
	args[1] = regs->si;
	args[2] = regs->dx;
	args[3] = regs->r10;
	args[4] = regs->r8;
	args[5] = regs->r9;
	return on_syscall_enter(sc, args);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(tfo_sys_exit, struct pt_regs *regs, long ret)
{
	/* regs is a trusted BTF pointer here: a plain load, no helper. */
	if (!nr_inflight || syscall_kind(regs->orig_ax) == TFO_SYS_NONE)
		return 0;
	return on_syscall_exit(ret);
}

/* ---------------------------------------------------------- socket layer */

/*
 * sock_sendmsg_nosec() fires this after sock->ops->sendmsg returned, with its
 * return value (6.3+): the finest origin without fentry or kprobes.
 */
SEC("tp_btf/sock_send_length")
int BPF_PROG(tfo_sock_send_length, struct sock *sk, int ret, int flags)
{
	struct inflight *f = current_inflight();

	if (!f)
		return 0;
	if (!f->ev.sk) /* process context: this is the sender's socket */
		adopt_socket(f, sk, sk->__sk_common.skc_state);
	if (f->ev.sk != (__u64)sk)
		return 0;
	f->ev.sock_seen = 1;
	f->ev.sock_ret = ret;
	/* which proto sendmsg said no; probe reads (a plain load of a pointer
	 * field costs the verifier a scan of vmlinux BTF, at every start) */
	if (ret < 0)
		f->ev.proto_sendmsg =
			(__u64)BPF_CORE_READ(sk, sk_socket, ops, sendmsg);
	return 0;
}

/* ----------------------------------------------------------- TCP and SYN */

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tfo_set_state, const struct sock *sk, const int oldstate,
	     const int newstate)
{
	struct inflight *f = inflight_of_sock(sk);
	__u32 n;

	/* --all: the first change of a send's socket, before sock_send_length
	 * (tcp_v4_connect() going to SYN_SENT) */
	if (!f && !sock_at_entry) {
		f = current_inflight();
		if (!f || f->ev.sk || !sock_is_fd(sk, f->ev.fd))
			return 0;
		adopt_socket(f, (struct sock *)sk, oldstate);
	}
	if (!f)
		return 0;
	n = f->ev.nstates;
	if (n == 0) /* start the list with the state the change left */
		f->ev.states[n++] = oldstate;
	if (n < TFO_MAX_STATES)
		f->ev.states[n++ & (TFO_MAX_STATES - 1)] = newstate;
	f->ev.nstates = n;
	return 0;
}

static __always_inline void record_syn(struct sk_buff *skb, struct tfo_syn *syn)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	unsigned char *data = BPF_CORE_READ(skb, data);
	__u16 th_off = BPF_CORE_READ(skb, transport_header);
	__u32 len = BPF_CORE_READ(skb, len);
	__u32 before, hdr_len;
	struct tcphdr th;

	if (bpf_probe_read_kernel(&th, sizeof(th), head + th_off) || !th.syn)
		return;
	hdr_len = th.doff * 4;
	before = head + th_off - data; /* link and network headers */
	syn->seen = 1;
	syn->tcp_flags = ((__u8 *)&th)[13];
	syn->payload = len > before + hdr_len ? len - before - hdr_len : 0;
	syn->opts_len = hdr_len > sizeof(th) ? hdr_len - sizeof(th) : 0;
	if (syn->opts_len > TFO_TCP_OPTS_LEN)
		syn->opts_len = TFO_TCP_OPTS_LEN;
	bpf_probe_read_kernel(syn->opts, sizeof(syn->opts),
			      head + th_off + sizeof(th));
}

/* Each frame a traced socket hands to a device, e.g. the SYN on lo. */
SEC("tp_btf/net_dev_queue")
int BPF_PROG(tfo_dev_queue, struct sk_buff *skb)
{
	struct sock *sk = skb->sk;
	struct inflight *f;

	if (!sk)
		return 0;
	f = inflight_of_sock(sk);
	if (!f || f->ev.syn.seen || f->ev.sock_protocol != TRACER_IPPROTO_TCP)
		return 0;
	record_syn(skb, &f->ev.syn);
	return 0;
}

/* ------------------------------------------------ send-path functions */

/*
 * Error origin, as retsnoop finds it: while unwinding, the first function
 * that returns an error is the deepest one; a function that returns success
 * clears it (its caller went on), and a new call at the same or a lower depth
 * than the recorded origin means that origin belonged to a finished subtree.
 */
static __always_inline void on_func_entry(__u64 ip, const __u64 *args)
{
	struct inflight *f = current_inflight();
	struct tfo_frame *fr;
	__u32 sp;

	if (!f)
		return;
	sp = f->sp;
	f->ev.nfuncs++;
	if (f->ev.origin.valid && f->ev.origin.depth >= sp)
		f->ev.origin.valid = 0;
	f->sp = sp + 1;
	if (sp >= TFO_MAX_DEPTH) {
		f->ev.lost_frames++;
		return;
	}
	fr = &f->stack[sp];
	fr->ip = ip;
	for (int i = 0; i < TFO_MAX_ARGS; i++)
		fr->args[i] = args[i];
}

static __always_inline void on_func_exit(long ret)
{
	struct inflight *f = current_inflight();
	int err = (int)ret; /* every traced function returns int */
	struct tfo_frame *fr;
	__u32 sp;

	if (!f || !f->sp)
		return;
	sp = --f->sp;
	if (err >= 0 || err < -MAX_ERRNO) {
		f->ev.origin.valid = 0;
		return;
	}
	if (f->ev.origin.valid || sp >= TFO_MAX_DEPTH)
		return; /* a deeper function already said no */
	fr = &f->stack[sp];
	f->ev.origin.ip = fr->ip;
	for (int i = 0; i < TFO_MAX_ARGS; i++)
		f->ev.origin.args[i] = fr->args[i];
	f->ev.origin.ret = err;
	f->ev.origin.depth = sp;
	f->ev.origin.valid = 1;
}

static __always_inline void on_fentry(void *ctx)
{
	__u64 args[TFO_MAX_ARGS] = {};

	for (int i = 0; i < TFO_MAX_ARGS; i++)
		bpf_get_func_arg(ctx, i, &args[i]);
	on_func_entry(bpf_get_func_ip(ctx), args);
}

static __always_inline void on_fexit(void *ctx)
{
	__u64 ret = 0;

	bpf_get_func_ret(ctx, &ret);
	on_func_exit((long)ret);
}

/* fentry/fexit programs bind to one function each: the loader retargets
 * as many slots as it has send-path functions and disables the rest. */
#define FENTRY_SLOT(n)               \
	SEC("fentry")                \
	int BPF_PROG(tfo_fentry_##n) \
	{                            \
		on_fentry(ctx);      \
		return 0;            \
	}                            \
	SEC("fexit")                 \
	int BPF_PROG(tfo_fexit_##n)  \
	{                            \
		on_fexit(ctx);       \
		return 0;            \
	}

FENTRY_SLOT(0)
FENTRY_SLOT(1)
FENTRY_SLOT(2)
FENTRY_SLOT(3)
FENTRY_SLOT(4)
FENTRY_SLOT(5)
FENTRY_SLOT(6)
FENTRY_SLOT(7)
FENTRY_SLOT(8)
FENTRY_SLOT(9)
FENTRY_SLOT(10)
FENTRY_SLOT(11)
FENTRY_SLOT(12)
FENTRY_SLOT(13)
FENTRY_SLOT(14)
FENTRY_SLOT(15)
FENTRY_SLOT(16)
FENTRY_SLOT(17)
FENTRY_SLOT(18)
FENTRY_SLOT(19)
FENTRY_SLOT(20)
FENTRY_SLOT(21)
FENTRY_SLOT(22)
FENTRY_SLOT(23)

/* One kprobe and one kretprobe program, attached to every function. */
SEC("kprobe")
int tfo_kprobe(struct pt_regs *ctx)
{
	__u64 args[TFO_MAX_ARGS] = {
		PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx), PT_REGS_PARM3(ctx),
		PT_REGS_PARM4(ctx), PT_REGS_PARM5(ctx),
	};

	on_func_entry(bpf_get_func_ip(ctx), args);
	return 0;
}

SEC("kretprobe")
int tfo_kretprobe(struct pt_regs *ctx)
{
	on_func_exit(PT_REGS_RC(ctx));
	return 0;
}

TRACER_FOLLOW_CHILDREN(tfo)

char LICENSE[] SEC("license") = "GPL";
