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
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "common.bpf.h"
#include "sock.bpf.h"
#include "tfo_event.h"

#define MAX_ERRNO 4095
#define TRACER_IPPROTO_TCP 6
#define EINPROGRESS 115
#define TRACER_AF_INET6 10
#define TRACER_ETH_P_IP 0x0800
#define TRACER_ETH_P_IPV6 0x86DD
#define TRACER_SIGSTOP 19

/* Syscall numbers of this architecture, set by the loader from <sys/syscall.h>. */
const volatile long nr_sendto = -1;
const volatile long nr_sendmsg = -1;
const volatile long nr_sendmmsg = -1;
const volatile long nr_connect = -1;
const volatile long nr_write = -1;
const volatile long nr_accept = -1;
const volatile long nr_accept4 = -1;
const volatile long nr_listen = -1;
/* The syscalls that hand a process a socket (see request_send_hooks()). */
const volatile long nr_socket = -1;
const volatile long nr_socketpair = -1;
const volatile long nr_recvmsg = -1;
const volatile long nr_recvmmsg = -1;
const volatile long nr_pidfd_getfd = -1;
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

/*
 * Fast Open attempts whose answer (the SYN-ACK) had not been processed when
 * their syscall returned (nonblocking sends): socket -> the send's event,
 * emitted again as TFO_EV_FO_RESULT once settle_pending() finds it known.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct tfo_event);
} pending_fo SEC(".maps");

/*
 * TCP_FASTOPEN_CONNECT sockets whose connect() was traced: their first
 * write is traced too, even once the socket is connected.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u8);
} foc_first_write SEC(".maps");

/* A connection request as a traced listener's netns received it. */
struct syn_key {
	__u32 raddr[4]; /* remote address (IPv4 in raddr[0]) */
	__u16 rport; /* remote port, network order */
	__u16 lport; /* local port, host order */
	__u32 netns;
	/*
	 * The SYN's sequence number: a connection whose child still waits in
	 * the accept queue after a reset may share the rest with a newer one
	 * (its client port reused), each accept must find its own SYN.
	 */
	__u32 isn;
};

/* Ports traced processes listen on: (netns, port) -> 1. */
struct listen_key {
	__u32 netns;
	__u32 port;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct listen_key);
	__type(value, __u8);
} listen_ports SEC(".maps");

/* SYNs to those ports, until accept() takes their connection. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct syn_key);
	__type(value, struct tfo_syn);
} syn_rcv SEC(".maps");

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
/* Entries in pending_fo: the same for the hooks that settle them. */
__u64 nr_pending_fo = 0;
/* Entries in foc_first_write. */
__u64 nr_foc_socks = 0;
/* Entries in listen_ports: gates the receive hook (no listener: one load). */
__u64 nr_listen_ports = 0;

/*
 * The send-path hooks (sock_send_length, net_dev_queue, inet_sock_set_state,
 * netif_receive_skb) fire for every send and frame of the machine: tracer
 * attaches them only once a traced process holds a socket. 0 until then;
 * set to 1 by user space once they are attached (they stay attached), or
 * when its traced processes are no longer all under its ptrace: then no
 * more stop requests.
 */
__u32 send_hooks_live = 0;
/* A traced thread asked for them; user space attaches them late if its stop
 * never came (the signal could not be sent). */
__u32 send_hooks_wanted = 0;
/* bpf_send_signal_thread() refusals. */
__u64 send_hooks_signal_failed = 0;

/*
 * 1 while every traced process is under tracer's ptrace (user space clears
 * it before it lets them go): then a task nobody ptraces is not traced, as
 * one load of task->ptrace says, before any hash lookup.
 */
__u32 traced_are_ptraced = 0;

/*
 * Threads stopped by request_send_hooks(): tid -> 1 until tracer, at the
 * SIGSTOP's signal-delivery-stop, attached the hooks and suppressed it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} hook_requests SEC(".maps");

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

/*
 * The verdict's totals, exact whether or not the ring had room (see struct
 * tfo_total_key): count_total() adds each record here as it is emitted.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TFO_TOTALS_MAX);
	__type(key, struct tfo_total_key);
	__type(value, struct tfo_total_val);
} tfo_totals SEC(".maps");
/* Records of a class that found tfo_totals full: not in the totals. */
__u64 totals_full = 0;

/*
 * The Fast Open option of a SYN as tcp_options_write() wrote it: kind 34
 * (RFC 7413) or the experimental 254 with magic 0xF989; empty: a cookie
 * request. The same walk as the report's tfo_option().
 */
__noinline int syn_fo_option(const struct tfo_syn *syn)
{
	__u32 n, next = 0;

	if (!syn)
		return TFO_OPT_NONE;
	n = syn->opts_len;

	/*
	 * The offset j walks every byte and an option is read only where the
	 * previous one ended (next): j alone indexes opts[], so the verifier
	 * follows one path per offset instead of one per option layout.
	 */
	for (__u32 j = 0; j < TFO_TCP_OPTS_LEN - 1; j++) {
		__u8 kind, len;

		if (j != next)
			continue;
		if (j >= n)
			break;
		kind = syn->opts[j];
		if (kind == 0)
			break;
		if (kind == 1) {
			next = j + 1;
			continue;
		}
		len = syn->opts[j + 1];
		if (len < 2 || j + len > n)
			break;
		if (kind == 34)
			return len > 2 ? TFO_OPT_COOKIE : TFO_OPT_REQUEST;
		if (kind == 254 && len >= 4 && j + 3 < TFO_TCP_OPTS_LEN &&
		    syn->opts[j + 2] == 0xF9 && syn->opts[j + 3] == 0x89)
			return len > 4 ? TFO_OPT_COOKIE : TFO_OPT_REQUEST;
		next = j + len;
	}
	return TFO_OPT_NONE;
}

/*
 * Does @ev's record carry the tail of struct tfo_event? Only a TCP socket
 * fills it (tfo_event.h): a send of any other socket ends before it, and its
 * tail in the inflight entry is not even cleared (clear_tail()).
 */
static __always_inline bool has_tail(const struct tfo_event *ev)
{
	return ev->kind != TFO_EV_SEND ||
	       ev->sock_protocol == TRACER_IPPROTO_TCP;
}

static __always_inline __u32 record_len(const struct tfo_event *ev)
{
	return has_tail(ev) ? sizeof(*ev) : TFO_EVENT_HEAD_LEN;
}

/* The totals key's part that comes from the tail: the SYN and the answer. */
static __always_inline void count_tail(const struct tfo_event *ev,
				       struct tfo_total_key *k)
{
	__u16 b = 0;

	b |= ev->syn.seen ? TFO_TB_SYN : 0;
	b |= ev->syn.payload ? TFO_TB_SYN_DATA : 0;
	b |= ev->fo.active_disabled ? TFO_TB_ACTIVE_DISABLED : 0;
	if (ev->kind == TFO_EV_ACCEPT ? ev->acc.data_acked :
					ev->fo.syn_data_acked)
		b |= TFO_TB_ACKED;
	k->bits |= b;
	if (ev->syn.seen)
		k->syn_opt = syn_fo_option(&ev->syn);
	k->client_fail = ev->fo.client_fail;
	k->settled_by = ev->fo.settled_by;
	k->closed_from = ev->fo.closed_from;
	k->tfo_child = ev->acc.tfo_child;
}

/*
 * Count @ev in tfo_totals: called where a record is emitted. A global
 * function, verified once on its own (btf_prepare_func_args(): @ev is
 * memory of sizeof(*ev), maybe NULL) instead of at each call site, where
 * the option walk's paths multiplied with the caller's (8 s of loading).
 */
__noinline int count_total(const struct tfo_event *ev)
{
	struct tfo_total_key k = {};
	struct tfo_total_val *v, nv = {};
	__u16 b = 0;

	if (!ev)
		return 0;

	k.kind = ev->kind;
	k.syscall = ev->syscall;
	k.netns = ev->netns;
	k.err = ev->ret < 0 ? (__s32)ev->ret : 0;
	b |= ev->flags & TFO_MSG_FASTOPEN ? TFO_TB_FASTOPEN : 0;
	b |= ev->addrlen > 0 ? TFO_TB_ADDR : 0;
	b |= ev->nonblock ? TFO_TB_NONBLOCK : 0;
	b |= ev->libc.func ? TFO_TB_LIBC : 0;
	b |= ev->libc.func && ev->libc.flags != ev->flags ?
		     TFO_TB_LIBC_CHANGED :
		     0;
	b |= ev->fo_attempt ? TFO_TB_FO_ATTEMPT : 0;
	k.bits = b;
	if (ev->ret < 0 && ev->origin.valid) {
		k.layer = TFO_LAYER_FUNCTION;
		k.origin = ev->origin.ip;
	} else if (ev->ret < 0 && ev->sock_seen && ev->sock_ret < 0) {
		k.layer = TFO_LAYER_SOCKET;
		k.origin = ev->proto_sendmsg;
	} else if (ev->ret < 0) {
		k.layer = TFO_LAYER_SYSCALL;
	}
	if (has_tail(ev))
		count_tail(ev, &k);
	v = bpf_map_lookup_elem(&tfo_totals, &k);
	if (v) {
		__sync_fetch_and_add(&v->count, 1);
		return 0;
	}
	nv.count = 1;
	nv.tgid = ev->tgid;
	__builtin_memcpy(nv.comm, ev->comm, sizeof(nv.comm));
	if (!bpf_map_update_elem(&tfo_totals, &k, &nv, BPF_NOEXIST))
		return 0;
	/* Another CPU added the class first, or the map is full. */
	v = bpf_map_lookup_elem(&tfo_totals, &k);
	if (v)
		__sync_fetch_and_add(&v->count, 1);
	else
		__sync_fetch_and_add(&totals_full, 1);
	return 0;
}

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
	if (nr == nr_accept || nr == nr_accept4)
		return TFO_SYS_ACCEPT;
	return TFO_SYS_NONE;
}

/* false: the current task is certainly not traced (traced_are_ptraced). */
static __always_inline bool maybe_traced(void)
{
	return !traced_are_ptraced || bpf_get_current_task_btf()->ptrace;
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

/* ------------------------------------------------------ Fast Open facts */

/*
 * Active Fast Open switched off in the socket's namespace by blackhole
 * detection when this SYN was built: tcp_fastopen_active_should_disable()
 * says so while tfo_active_disable_times > 0 and the timeout has not run out,
 * and marks the socket syn_fastopen_ch once it has. Read at the send's exit,
 * before this very connection could move the counter.
 */
static __always_inline bool active_tfo_disabled(struct sock *sk)
{
	struct net *net = BPF_CORE_READ(sk, __sk_common.skc_net.net);
	struct tcp_sock *tp = (struct tcp_sock *)sk;

	if (!bpf_core_field_exists(net->ipv4.tfo_active_disable_times) ||
	    !bpf_core_field_exists(
		    net->ipv4.sysctl_tcp_fastopen_blackhole_timeout))
		return false;
	if (!BPF_CORE_READ(net, ipv4.sysctl_tcp_fastopen_blackhole_timeout) ||
	    !BPF_CORE_READ(net, ipv4.tfo_active_disable_times.counter))
		return false;
	return !BPF_CORE_READ_BITFIELD_PROBED(tp, syn_fastopen_ch);
}

/* The answer to the SYN, as tcp_rcv_fastopen_synack() leaves it. */
static __always_inline void read_fo_answer(struct sock *sk,
					   struct tfo_fastopen *fo)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;

	fo->syn_data_acked = BPF_CORE_READ_BITFIELD_PROBED(tp, syn_data_acked);
	fo->client_fail =
		BPF_CORE_READ_BITFIELD_PROBED(tp, fastopen_client_fail);
	fo->state = sock_state(sk);
}

/* What the SYN was, as tcp_send_syn_data() and tcp_syn_options() left it. */
static __always_inline void read_fo_syn(struct sock *sk,
					struct tfo_fastopen *fo)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;

	fo->read = 1;
	fo->syn_fastopen = BPF_CORE_READ_BITFIELD_PROBED(tp, syn_fastopen);
	fo->syn_data = BPF_CORE_READ_BITFIELD_PROBED(tp, syn_data);
	fo->no_cookie_opt =
		BPF_CORE_READ_BITFIELD_PROBED(tp, fastopen_no_cookie);
	/* a SYN with a Fast Open option was not disabled when it was built;
	 * its own timeout may have set the counter since (a blocking send) */
	fo->active_disabled = !fo->syn_fastopen && active_tfo_disabled(sk);
	read_fo_answer(sk, fo);
}

/*
 * Is the answer in @fo final? tcp_rcv_synsent_state_process() moves the
 * socket to ESTABLISHED (tcp_finish_connect()) before
 * tcp_rcv_fastopen_synack() sets syn_data_acked or fastopen_client_fail, so
 * a socket past SYN_SENT may still be in between: only those bits, or a
 * point known to come after that processing (@after: the socket's next
 * frame, or a blocking call that waited for the handshake and took the
 * socket lock back), settle it.
 */
static __always_inline bool fo_answer_known(const struct tfo_fastopen *fo,
					    bool after)
{
	if (fo->syn_data_acked || fo->client_fail >= TFO_DATA_NOT_ACKED)
		return true;
	if (fo->state == TCP_SYN_SENT)
		return false;
	return after;
}

/*
 * An attempt whose answer came later: emit the send's record again with
 * the answer (TFO_EV_FO_RESULT), once. @how is enum tfo_settled_by;
 * @closed_from the state a closing socket left (0 for a frame).
 */
static __always_inline void settle_pending(struct sock *sk, __u8 how,
					   __u8 closed_from)
{
	__u64 key = (__u64)sk;
	struct tfo_event *ev, *rec;

	if (!nr_pending_fo)
		return;
	ev = bpf_map_lookup_elem(&pending_fo, &key);
	if (!ev)
		return;
	read_fo_answer(sk, &ev->fo);
	if (how == TFO_SETTLED_FRAME && !fo_answer_known(&ev->fo, true))
		return; /* a SYN retransmission */
	ev->fo.settled_by = how;
	ev->fo.closed_from = closed_from;
	ev->kind = TFO_EV_FO_RESULT;
	ev->ts_exit_ns = bpf_ktime_get_ns();
	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		__sync_fetch_and_add(&lost_events, 1);
		return;
	}
	__builtin_memcpy(rec, ev, sizeof(*rec));
	/* Two hooks racing for one socket: only the one that deletes emits. */
	if (bpf_map_delete_elem(&pending_fo, &key)) {
		bpf_ringbuf_discard(rec, 0);
		return;
	}
	__sync_fetch_and_add(&nr_pending_fo, -1);
	/* rec, not ev: the deleted entry may be reused at once */
	count_total(rec);
	bpf_ringbuf_submit(rec, 0);
}

/*
 * At the send's exit: did it send a SYN asking for Fast Open (MSG_FASTOPEN,
 * or a TCP_FASTOPEN_CONNECT socket), and is the answer known yet?
 */
/* The call's state changes, all recorded, end in CLOSE. */
static __always_inline bool closed_in_call(const struct tfo_event *ev)
{
	__u8 n = ev->nstates;

	return n >= 2 && n <= TFO_MAX_STATES &&
	       ev->states[(n - 1) & (TFO_MAX_STATES - 1)] == TCP_CLOSE;
}

static __always_inline void finish_fastopen(struct tfo_event *ev)
{
	struct sock *sk = (struct sock *)ev->sk;

	if (!sk || ev->sock_protocol != TRACER_IPPROTO_TCP || !ev->syn.seen)
		return;
	if (!(ev->flags & TFO_MSG_FASTOPEN) && !ev->fastopen_connect)
		return;
	ev->fo_attempt = 1;
	read_fo_syn(sk, &ev->fo);
	/*
	 * A blocking call waited in inet_wait_for_connect() until
	 * sk_state_change(), which tcp_rcv_synsent_state_process() calls after
	 * tcp_rcv_fastopen_synack(), then took the socket lock back.
	 */
	if (fo_answer_known(&ev->fo, !ev->nonblock || ev->fo.post_syn_frame)) {
		ev->fo.settled_by = TFO_SETTLED_SYSCALL;
	} else if (ev->fo.state == TCP_CLOSE && closed_in_call(ev)) {
		/*
		 * Closed during the call (a nonblocking connect() reset on
		 * loopback): tfo_set_state() found nothing pending then, and
		 * no later change will come. The call's last change settles it.
		 */
		ev->fo.settled_by = TFO_SETTLED_STATE;
		ev->fo.closed_from =
			ev->states[(ev->nstates - 2) & (TFO_MAX_STATES - 1)];
	}
}

/* An attempt not settled at exit waits in pending_fo for its answer. */
static __always_inline void keep_pending(const struct tfo_event *ev)
{
	__u64 key = ev->sk;

	/* fo_attempt: a TCP send only (finish_fastopen()) */
	if (!ev->fo_attempt || ev->fo.settled_by != TFO_SETTLED_NOT)
		return;
	if (!bpf_map_update_elem(&pending_fo, &key, ev, BPF_NOEXIST))
		__sync_fetch_and_add(&nr_pending_fo, 1);
}

/* TCP_FASTOPEN_CONNECT: remember a connect()ed socket until its first write. */
static __always_inline void track_first_write(const struct tfo_event *ev)
{
	__u64 key = ev->sk;
	__u8 one = 1;

	if (!key || ev->sock_protocol != TRACER_IPPROTO_TCP)
		return;
	if (ev->syscall == TFO_SYS_CONNECT && ev->fastopen_connect &&
	    (ev->ret == 0 || ev->ret == -EINPROGRESS)) {
		if (!bpf_map_update_elem(&foc_first_write, &key, &one,
					 BPF_NOEXIST))
			__sync_fetch_and_add(&nr_foc_socks, 1);
	} else if (ev->first_write &&
		   !bpf_map_delete_elem(&foc_first_write, &key)) {
		__sync_fetch_and_add(&nr_foc_socks, -1);
	}
}

static __always_inline bool is_first_write(struct sock *sk)
{
	__u64 key = (__u64)sk;

	return nr_foc_socks && sk &&
	       bpf_map_lookup_elem(&foc_first_write, &key) != NULL;
}

/* A closed socket's entries go (its address may be reused). */
static __always_inline void forget_closed(const struct sock *sk)
{
	__u64 key = (__u64)sk;

	if (nr_foc_socks && !bpf_map_delete_elem(&foc_first_write, &key))
		__sync_fetch_and_add(&nr_foc_socks, -1);
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
static __always_inline void take_libc_call(enum tfo_syscall sc, __u32 tid,
					   struct tfo_libc_call *out)
{
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
	case TFO_SYS_ACCEPT: /* fd: the listener */
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
	bool unconnected;

	if (sc == TFO_SYS_ACCEPT)
		return sk &&
		       BPF_CORE_READ(sk, sk_protocol) == TRACER_IPPROTO_TCP;
	if (sc == TFO_SYS_CONNECT)
		return foc;
	unconnected = foc && (sock_state(sk) == TCP_CLOSE ||
			      sock_state(sk) == TCP_SYN_SENT);
	if (sc == TFO_SYS_WRITE)
		return unconnected || (foc && is_first_write(sk));
	return !only_fastopen || (s->flags & TFO_MSG_FASTOPEN) || unconnected ||
	       (foc && is_first_write(sk));
}

/* on_syscall_enter() clears the head of the event: a TCP socket's send, or
 * an accept(), clears the tail as well (see has_tail()). */
static __always_inline void clear_tail(struct tfo_event *ev)
{
	__builtin_memset(&ev->syn, 0, sizeof(*ev) - TFO_EVENT_HEAD_LEN);
}

static __always_inline __u32 sock_netns(const struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

/*
 * What every send records of a socket, however it got it: @netns, and the
 * file's @f_flags. Nonblocking: O_NONBLOCK on the file (which
 * __sys_sendto(), ____sys_sendmsg() and sock_write_iter() turn into
 * MSG_DONTWAIT), or MSG_DONTWAIT itself.
 */
static __always_inline void fill_tcp_info(struct tfo_event *ev, struct sock *sk,
					  __u32 netns, __u32 f_flags)
{
	ev->netns = netns;
	ev->nonblock = (ev->flags & TFO_MSG_DONTWAIT) ||
		       (f_flags & TFO_O_NONBLOCK);
	if (ev->sock_protocol != TRACER_IPPROTO_TCP)
		return;
	clear_tail(ev);
	ev->fastopen_connect = tcp_fastopen_connect(sk);
	ev->netns_tcp_fastopen = BPF_CORE_READ(sk, __sk_common.skc_net.net,
					       ipv4.sysctl_tcp_fastopen);
	ev->first_write = ev->syscall != TFO_SYS_CONNECT &&
			  ev->fastopen_connect && is_first_write(sk);
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
	fill_tcp_info(ev, sk, sock_netns(sk),
		      BPF_CORE_READ(sk, sk_socket, file, f_flags));
}

/* A new inflight entry for thread @tid, made on its first traced send. */
static __always_inline struct inflight *new_inflight(__u32 tid)
{
	struct inflight *f;
	__u32 zero = 0;

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
 * the state the send found; @netns and @f_flags as fill_tcp_info() takes
 * them.
 */
static __always_inline void adopt_socket(struct inflight *f, struct sock *sk,
					 __u8 state_at_entry, __u32 netns,
					 __u32 f_flags)
{
	struct tfo_event *ev = &f->ev;

	ev->sk = (__u64)sk;
	ev->sock_family = sk->__sk_common.skc_family;
	ev->sock_type = sk->sk_type;
	ev->sock_protocol = sk->sk_protocol;
	ev->state_at_entry = ev->nstates ? ev->states[0] : state_at_entry;
	fill_tcp_info(ev, sk, netns, f_flags);
	own_socket(ev, ev->tid);
}

/* Is @sk the socket of the current task's @fd (not one a softirq that
 * borrowed the task's context is working on)? */
static __always_inline bool sock_is_fd(const struct sock *sk, int fd)
{
	return sk && sock_from_fd(fd) == sk;
}

/* ------------------------------------------------------------ server side */

/* listen() or accept() of a traced process: watch SYNs to its port. */
static __always_inline void watch_listener(struct sock *sk)
{
	struct listen_key key = {};
	__u8 one = 1;

	if (!sk || BPF_CORE_READ(sk, sk_protocol) != TRACER_IPPROTO_TCP)
		return;
	key.netns = sock_netns(sk);
	key.port = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (!bpf_map_update_elem(&listen_ports, &key, &one, BPF_NOEXIST))
		__sync_fetch_and_add(&nr_listen_ports, 1);
}

/* The SYN's key as the accepted socket sees its connection. */
static __always_inline void child_syn_key(struct sock *sk, struct syn_key *k)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	if (family == TRACER_AF_INET6) {
		BPF_CORE_READ_INTO(&k->raddr, sk,
				   __sk_common.skc_v6_daddr.in6_u.u6_addr32);
		/* an IPv4 peer of a dual-stack listener: ::ffff:a.b.c.d */
		if (!k->raddr[0] && !k->raddr[1] &&
		    k->raddr[2] == (__u32)bpf_htonl(0xffff)) {
			k->raddr[0] = k->raddr[3];
			k->raddr[2] = k->raddr[3] = 0;
		}
	} else {
		k->raddr[0] = BPF_CORE_READ(sk, __sk_common.skc_daddr);
	}
	k->rport = BPF_CORE_READ(sk, __sk_common.skc_dport);
	k->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	k->netns = sock_netns(sk);
	/*
	 * tcp_create_openreq_child() starts copied_seq at the SYN's sequence
	 * + 1, and only reads move it: none before accept() returns.
	 */
	k->isn = BPF_CORE_READ((struct tcp_sock *)sk, copied_seq) - 1;
}

/*
 * accept() returned @fd: the connection, the SYN that opened it, and its
 * listener's Fast Open queue. syn_data_acked on the child is set by
 * tcp_fastopen_add_skb() when tcp_try_fastopen() took the SYN's data.
 */
static __always_inline void finish_accept(struct tfo_event *ev, long fd)
{
	struct sock *lsk = (struct sock *)ev->sk;
	struct sock *child = fd >= 0 ? sock_from_fd((int)fd) : NULL;
	struct tcp_sock *tp = (struct tcp_sock *)child;
	struct syn_key key = {};
	struct tfo_syn *syn;

	clear_tail(ev); /* the listener's is clear already: no harm */
	ev->kind = TFO_EV_ACCEPT;
	ev->acc.listen_fd = ev->fd;
	ev->fd = (int)fd;
	if (lsk)
		ev->acc.max_qlen =
			BPF_CORE_READ((struct inet_connection_sock *)lsk,
				      icsk_accept_queue.fastopenq.max_qlen);
	if (!child)
		return;
	ev->acc.child = (__u64)child;
	ev->acc.data_acked = BPF_CORE_READ_BITFIELD_PROBED(tp, syn_data_acked);
	ev->acc.tfo_child = 2;
	if (bpf_core_field_exists(tp->syn_fastopen_child))
		ev->acc.tfo_child =
			BPF_CORE_READ_BITFIELD_PROBED(tp, syn_fastopen_child);
	child_syn_key(child, &key);
	syn = bpf_map_lookup_elem(&syn_rcv, &key);
	if (!syn)
		return;
	ev->syn = *syn;
	bpf_map_delete_elem(&syn_rcv, &key);
}

/* @pid_tgid: bpf_get_current_pid_tgid() of the calling thread. */
static __always_inline int
on_syscall_enter(enum tfo_syscall sc, const unsigned long *args, __u64 pid_tgid)
{
	struct tfo_libc_call libc = {};
	struct send_args s = {};
	__u32 tid = (__u32)pid_tgid;
	struct inflight *f = bpf_map_lookup_elem(&inflight, &tid);
	struct sock *sk;
	bool foc;

	/*
	 * Only a traced thread gets an entry, and it goes with the thread
	 * (tfo_thread_exit); the tgid of its last send tells it from a tid
	 * that an exec in another thread left behind (de_thread() gives the
	 * leader's tid to the exec'ing thread). Then one lookup, not two.
	 */
	if ((!f || f->ev.tgid != pid_tgid >> 32) &&
	    !tgid_is_traced(pid_tgid >> 32))
		return 0;
	take_libc_call(sc, tid, &libc);
	if (!decode_send_args(sc, args, &s))
		return 0;
	if (sock_at_entry || sc == TFO_SYS_CONNECT || sc == TFO_SYS_WRITE ||
	    sc == TFO_SYS_ACCEPT)
		sk = sock_from_fd(s.fd);
	else
		sk = NULL; /* see sock_at_entry */
	/* --all takes every send without looking at the socket here. */
	foc = sk &&
	      (only_fastopen || sc == TFO_SYS_CONNECT || sc == TFO_SYS_WRITE) &&
	      tcp_fastopen_connect(sk);
	if (!send_is_wanted(sc, &s, sk, foc))
		return 0;
	if (!f)
		f = new_inflight(tid);
	if (!f)
		return 0;
	if (f->active) /* the thread died inside a send: that one is gone */
		disown_socket(&f->ev);
	else
		__sync_fetch_and_add(&nr_inflight, 1);
	__builtin_memset(&f->ev, 0, TFO_EVENT_HEAD_LEN); /* see clear_tail() */
	f->sp = 0;
	f->active = 1;
	f->ev.ts_enter_ns = bpf_ktime_get_ns();
	f->ev.tgid = pid_tgid >> 32;
	f->ev.tid = tid;
	f->ev.syscall = sc;
	f->ev.fd = s.fd;
	f->ev.flags = s.flags;
	f->ev.addrlen = s.addrlen;
	f->ev.family = user_sa_family(s.uaddr, s.addrlen);
	f->ev.libc = libc;
	bpf_get_current_comm(f->ev.comm, sizeof(f->ev.comm));
	if (s.flags & TFO_MSG_DONTWAIT)
		f->ev.nonblock = 1; /* the socket may come later (--all) */
	fill_sock_info(&f->ev, sk);
	if (sc == TFO_SYS_ACCEPT)
		watch_listener(sk); /* its later SYNs, for -p */
	else
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
	__u32 len;

	if (!f || !f->active)
		return 0;
	f->ev.ret = ret;
	f->ev.ts_exit_ns = bpf_ktime_get_ns();
	if (f->ev.syscall == TFO_SYS_ACCEPT)
		finish_accept(&f->ev, ret);
	else
		finish_fastopen(&f->ev);
	count_total(&f->ev);
	len = record_len(&f->ev);
	if (bpf_ringbuf_output(&events, &f->ev, len, wakeup_flags(len + 8)))
		__sync_fetch_and_add(&lost_events, 1);
	keep_pending(&f->ev);
	track_first_write(&f->ev);
	disown_socket(&f->ev);
	f->active = 0;
	__sync_fetch_and_add(&nr_inflight, -1);
	return 0;
}

/* listen() of a traced process returned 0 for socket @fd. */
static __always_inline int on_listen_exit(long fd)
{
	if (current_is_traced())
		watch_listener(sock_from_fd((int)fd));
	return 0;
}

static __always_inline bool gives_socket(long nr)
{
	return nr == nr_socket || nr == nr_socketpair || nr == nr_accept ||
	       nr == nr_accept4 || nr == nr_recvmsg || nr == nr_recvmmsg ||
	       nr == nr_pidfd_getfd;
}

/*
 * A traced thread got a socket (socket(), socketpair(), accept(); recvmsg()
 * may carry one in SCM_RIGHTS, pidfd_getfd() take one) while the send-path
 * hooks are not attached: stop it before it returns to user space, so that
 * tracer attaches them before its first send. Every traced process is under
 * tracer's ptrace here: the SIGSTOP ends in a signal-delivery-stop, where
 * tracer finds the tid in hook_requests and suppresses it. The helper sends
 * it as SEND_SIG_PRIV (group_send_sig_info() from bpf_send_signal_common()):
 * si_code SI_KERNEL, which kill() and tgkill() never give.
 */
static __always_inline void request_send_hooks(void)
{
	__u32 tid = current_tid();
	__u8 one = 1;

	if (!maybe_traced() || !current_is_traced())
		return;
	send_hooks_wanted = 1;
	if (bpf_map_update_elem(&hook_requests, &tid, &one, BPF_ANY))
		return;
	if (bpf_send_signal_thread(TRACER_SIGSTOP)) {
		bpf_map_delete_elem(&hook_requests, &tid);
		__sync_fetch_and_add(&send_hooks_signal_failed, 1);
	}
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

	if (sc == TFO_SYS_NONE || !maybe_traced())
		return 0;
	/* The user's registers, a trusted pointer: plain loads (x86_64). */
	args[0] = regs->di;
	args[1] = regs->si;
	args[2] = regs->dx;
	args[3] = regs->r10;
	args[4] = regs->r8;
	args[5] = regs->r9;
	return on_syscall_enter(sc, args, bpf_get_current_pid_tgid());
}

SEC("tp_btf/sys_exit")
int BPF_PROG(tfo_sys_exit, struct pt_regs *regs, long ret)
{
	/* regs is a trusted BTF pointer here: a plain load, no helper. */
	if (!send_hooks_live && ret >= 0 && gives_socket(regs->orig_ax))
		request_send_hooks();
	if ((long)regs->orig_ax == nr_listen && ret == 0)
		return on_listen_exit(regs->di); /* x86_64: di is preserved */
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
	/*
	 * Process context: this is the sender's socket. Every send of --all
	 * comes here: plain loads through the trusted pointer, where probe
	 * reads took five helper calls (a load through a NULL sk_socket or
	 * file reads 0). Each pointer they walk costs the verifier scans of
	 * vmlinux BTF (btf_nested_type_is_trusted()) at load: only here.
	 */
	if (!f->ev.sk)
		adopt_socket(f, sk, sk->__sk_common.skc_state,
			     sk->__sk_common.skc_net.net->ns.inum,
			     sk->sk_socket->file->f_flags);
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
	struct inflight *f;
	__u32 n;

	/* The connection got past the handshake or ended: settled answers. */
	if (newstate != TCP_ESTABLISHED && newstate != TCP_SYN_SENT)
		settle_pending((struct sock *)sk, TFO_SETTLED_STATE, oldstate);
	if (newstate == TCP_CLOSE)
		forget_closed(sk);
	f = inflight_of_sock(sk);
	/* --all: the first change of a send's socket, before sock_send_length
	 * (tcp_v4_connect() going to SYN_SENT) */
	if (!f && !sock_at_entry) {
		f = current_inflight();
		if (!f || f->ev.sk || !sock_is_fd(sk, f->ev.fd))
			return 0;
		adopt_socket(f, (struct sock *)sk, oldstate, sock_netns(sk),
			     BPF_CORE_READ(sk, sk_socket, file, f_flags));
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

/* The first SYN of the call; a later frame past SYN_SENT comes after the
 * SYN-ACK's processing (see fo_answer_known()). */
static __always_inline void on_send_frame(struct inflight *f, struct sock *sk,
					  struct sk_buff *skb)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	unsigned char *data = BPF_CORE_READ(skb, data);
	__u16 th_off = BPF_CORE_READ(skb, transport_header);
	__u32 len = BPF_CORE_READ(skb, len);
	struct tfo_syn *syn = &f->ev.syn;
	__u32 before, hdr_len;
	struct tcphdr th;

	if (bpf_probe_read_kernel(&th, sizeof(th), head + th_off))
		return;
	if (!th.syn) {
		if (sock_state(sk) != TCP_SYN_SENT)
			f->ev.fo.post_syn_frame = 1;
		return;
	}
	if (syn->seen)
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

	if (!sk || (!nr_owned_socks && !nr_pending_fo))
		return 0;
	f = inflight_of_sock(sk);
	if (f && f->ev.sock_protocol == TRACER_IPPROTO_TCP)
		on_send_frame(f, sk, skb);
	settle_pending(sk, TFO_SETTLED_FRAME, 0);
	return 0;
}

/* Read a received SYN's TCP header at @th (IP payload of @ip_payload bytes). */
static __always_inline void parse_rcv_syn(unsigned char *th_ptr,
					  __u32 ip_payload, struct tfo_syn *syn)
{
	struct tcphdr th;
	__u32 hdr_len;

	if (bpf_probe_read_kernel(&th, sizeof(th), th_ptr))
		return;
	hdr_len = th.doff * 4;
	syn->seen = 1;
	syn->tcp_flags = ((__u8 *)&th)[13];
	syn->payload = ip_payload > hdr_len ? ip_payload - hdr_len : 0;
	syn->opts_len = hdr_len > sizeof(th) ? hdr_len - sizeof(th) : 0;
	if (syn->opts_len > TFO_TCP_OPTS_LEN)
		syn->opts_len = TFO_TCP_OPTS_LEN;
	bpf_probe_read_kernel(syn->opts, sizeof(syn->opts),
			      th_ptr + sizeof(th));
}

/*
 * Frames coming in while a traced process listens: keep the SYNs to its
 * ports (their Fast Open option and data) until accept() takes the
 * connection. skb->data is the network header here (the tracepoint fires at
 * the top of __netif_receive_skb_core(), after eth_type_trans()).
 */
SEC("tp_btf/netif_receive_skb")
int BPF_PROG(tfo_rcv, struct sk_buff *skb)
{
	unsigned char *data;
	struct listen_key lk;
	struct syn_key key = {};
	struct tfo_syn syn = {};
	struct tcphdr th;
	__u32 ip_payload;
	__u16 proto;

	if (!nr_listen_ports)
		return 0;
	data = skb->data;
	proto = bpf_ntohs(skb->protocol);
	if (proto == TRACER_ETH_P_IP) {
		struct iphdr ip;

		if (bpf_probe_read_kernel(&ip, sizeof(ip), data) ||
		    ip.protocol != TRACER_IPPROTO_TCP)
			return 0;
		key.raddr[0] = ip.saddr;
		ip_payload = bpf_ntohs(ip.tot_len) - ip.ihl * 4;
		data += ip.ihl * 4;
	} else if (proto == TRACER_ETH_P_IPV6) {
		struct ipv6hdr ip6;

		if (bpf_probe_read_kernel(&ip6, sizeof(ip6), data) ||
		    ip6.nexthdr != TRACER_IPPROTO_TCP)
			return 0;
		__builtin_memcpy(key.raddr, &ip6.saddr, sizeof(key.raddr));
		ip_payload = bpf_ntohs(ip6.payload_len);
		data += sizeof(ip6);
	} else {
		return 0;
	}
	if (bpf_probe_read_kernel(&th, sizeof(th), data) || !th.syn || th.ack)
		return 0;
	lk.netns = BPF_CORE_READ(skb, dev, nd_net.net, ns.inum);
	lk.port = bpf_ntohs(th.dest);
	if (!bpf_map_lookup_elem(&listen_ports, &lk))
		return 0;
	key.rport = th.source;
	key.lport = lk.port;
	key.netns = lk.netns;
	key.isn = bpf_ntohl(th.seq);
	parse_rcv_syn(data, ip_payload, &syn);
	bpf_map_update_elem(&syn_rcv, &key, &syn, BPF_ANY);
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

/* ------------------------------------ syscall layer, fentry backend */

/*
 * Under the fentry backend the syscall layer comes from the functions behind
 * the syscalls tfo follows, not from raw sys_enter/sys_exit, which run for
 * every syscall of every process: then another process's syscalls pay
 * nothing. Their first arguments are the syscall's, in the same order, on
 * 6.1 to 6.18: __sys_sendto(fd, buff, len, flags, addr, addr_len),
 * __sys_sendmsg(fd, msg, flags, forbid_cmsg_compat), __sys_sendmmsg(fd, mmsg,
 * vlen, flags, ...), __sys_connect(fd, uservaddr, addrlen), ksys_write(fd,
 * buf, count), __sys_accept4(fd, ...) (accept(2) too), __sys_listen(fd,
 * backlog); 32-bit compat callers come through them as well. The loader
 * attaches these when all of them are traceable, else the raw tracepoints.
 *
 * The three send functions are also the outermost send-path frame: these
 * programs record it (on_func_entry()), and the loader leaves them out of
 * the fentry slots, which would run in no defined order with these.
 */
static __always_inline int on_sys_fentry(void *ctx, enum tfo_syscall sc,
					 bool frame)
{
	unsigned long args[6] = {};
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (!tgid_is_traced(pid_tgid >> 32))
		return 0;
	for (int i = 0; i < 6; i++) /* past the function's last: stays 0 */
		bpf_get_func_arg(ctx, i, (__u64 *)&args[i]);
	on_syscall_enter(sc, args, pid_tgid);
	if (frame)
		on_fentry(ctx);
	return 0;
}

/* @int_ret: the function returns int, whose upper half of the return
 * register is not a sign extension; else long (ksys_write's ssize_t). */
static __always_inline int on_sys_fexit(void *ctx, bool frame, bool int_ret)
{
	__u64 ret = 0;

	if (!nr_inflight)
		return 0;
	if (frame)
		on_fexit(ctx);
	bpf_get_func_ret(ctx, &ret);
	return on_syscall_exit(int_ret ? (long)(int)ret : (long)ret);
}

#define SYSCALL_FENTRY(name, func, sc, frame, int_ret)    \
	SEC("fentry/" #func)                              \
	int BPF_PROG(tfo_sys_##name)                      \
	{                                                 \
		return on_sys_fentry(ctx, sc, frame);     \
	}                                                 \
	SEC("fexit/" #func)                               \
	int BPF_PROG(tfo_sys_##name##_ret)                \
	{                                                 \
		return on_sys_fexit(ctx, frame, int_ret); \
	}

SYSCALL_FENTRY(sendto, __sys_sendto, TFO_SYS_SENDTO, true, true)
SYSCALL_FENTRY(sendmsg, __sys_sendmsg, TFO_SYS_SENDMSG, true, true)
SYSCALL_FENTRY(sendmmsg, __sys_sendmmsg, TFO_SYS_SENDMMSG, true, true)
SYSCALL_FENTRY(connect, __sys_connect, TFO_SYS_CONNECT, false, true)
SYSCALL_FENTRY(write, ksys_write, TFO_SYS_WRITE, false, false)
SYSCALL_FENTRY(accept, __sys_accept4, TFO_SYS_ACCEPT, false, true)

SEC("fexit/__sys_listen")
int BPF_PROG(tfo_sys_listen_ret, int fd, int backlog, int ret)
{
	return ret == 0 ? on_listen_exit(fd) : 0;
}

/*
 * Under the fentry syscall layer no sys_exit sees a traced thread get a
 * socket (tfo_sys_exit's gives_socket()): fexit on the functions behind
 * socket(), socketpair(), accept(), accept4(), recvmsg(), recvmmsg() and
 * pidfd_getfd() asks for the send-path hooks instead. @int_ret: the
 * function returns int, and the upper half of the register is not its sign.
 */
static __always_inline int on_socket_given(void *ctx, bool int_ret)
{
	__u64 ret = 0;

	if (send_hooks_live)
		return 0;
	bpf_get_func_ret(ctx, &ret);
	if ((int_ret ? (long)(int)ret : (long)ret) >= 0)
		request_send_hooks();
	return 0;
}

#define SOCKET_GIVER(name, func, int_ret)             \
	SEC("fexit/" #func)                           \
	int BPF_PROG(tfo_gives_##name)                \
	{                                             \
		return on_socket_given(ctx, int_ret); \
	}

SOCKET_GIVER(socket, __sys_socket, true)
SOCKET_GIVER(socketpair, __sys_socketpair, true)
SOCKET_GIVER(accept4, __sys_accept4, true)
SOCKET_GIVER(recvmsg, __sys_recvmsg, false)
SOCKET_GIVER(recvmmsg, __sys_recvmmsg, true)
/* pidfd_getfd() itself is static: the x86_64 syscall wrapper (long) */
SOCKET_GIVER(pidfd_getfd, __x64_sys_pidfd_getfd, false)

TRACER_FOLLOW_CHILDREN(tfo)

char LICENSE[] SEC("license") = "GPL";
