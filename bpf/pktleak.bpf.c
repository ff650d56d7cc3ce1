// SPDX-License-Identifier: GPL-2.0
/*
 * tracer pktleak: for each AF_PACKET socket of a traced process, count the
 * frames that reach it, are queued to it and are read from it, per interface,
 * before and after bind().
 *
 * Frames are counted by whichever hooks the backend has, all calling the same
 * few functions (count_reached(), count_queued(), count_read()):
 *   fentry/fexit or kprobe/kretprobe on packet_rcv() and tpacket_rcv(): the
 *     frame at the socket's hook, before its filter, and whether it was queued;
 *   tracepoint backend: netif_receive_skb and net_dev_queue for every
 *     frame a device receives or sends (matched against each socket's hook as
 *     __netif_receive_skb_core() and dev_queue_xmit_nit() would), and
 *     sk_data_ready (6.3+), fired once per frame queued;
 *   every backend: skb_copy_datagram_iovec for the frames recv*() copies out,
 *     and the raw syscall tracepoints for socket(), bind(), close() and
 *     setsockopt(SO_ATTACH_FILTER/SO_ATTACH_BPF).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "common.bpf.h"
#include "pktleak_event.h"
#include "sock.bpf.h"

#define TRACER_AF_PACKET 17
#define TRACER_ETH_P_ALL 0x0003
#define TRACER_PACKET_OUTGOING 4
#define TRACER_PACKET_LOOPBACK 5
#define TRACER_SOCK_TYPE_MASK 0xf
/* TPACKET_ALIGN(sizeof(struct tpacket{,2}_hdr)): where tpacket_rcv() puts the sockaddr_ll */
#define TRACER_TPACKET_SLL_OFF 32
#define TRACER_TPACKET_V2 1
/* struct sockaddr_ll: sll_family, sll_protocol, then sll_ifindex */
#define TRACER_SLL_IFINDEX_OFF 4
#define TRACER_SOL_SOCKET 1
#define TRACER_SO_ATTACH_FILTER 26
#define TRACER_SO_ATTACH_BPF 50

/* Syscall numbers of this architecture, set by the loader from <sys/syscall.h>. */
const volatile long nr_socket = -1;
const volatile long nr_bind = -1;
const volatile long nr_close = -1;
const volatile long nr_setsockopt = -1;
/* --all: the packet sockets of every process, not only traced ones. */
const volatile bool trace_all = false;
/* -v timeline: one event per frame counted. */
const volatile bool emit_frames = false;
/*
 * Count the frames that reach a socket's hook after bind() too (the built-in
 * experiment's frames refused after bind; the timeline shows them). Without
 * it "reached" is only needed before bind: after it, the socket's frames are
 * counted where they are queued and read.
 */
const volatile bool reached_after_bind = false;

/* -w: bytes copied per leaked frame (0: none are). */
const volatile __u32 snaplen = 0;
/* Leaked frames not written for want of room in `frames`. */
__u64 frames_lost = 0;

/* Entries in `sockets`: every frame hook returns at once while it is 0. */
__s64 nr_sockets = 0;
/*
 * Entries not yet bound (struct pkt_sock.unbound_counted): unless
 * reached_after_bind, the device hooks, which fire for every frame of every
 * device, return at once while it is 0.
 */
__s64 nr_unbound = 0;
/* Packet sockets not tracked because `sockets` was full. */
__u64 untracked_sockets = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64); /* struct sock * */
	__type(value, struct pkt_sock);
} sockets SEC(".maps");

/*
 * The tracked sockets again, as a short array the frame hooks walk up to
 * hook_slots_used: iterating `sockets` itself (bpf_for_each_map_elem) visits
 * every bucket under its own RCU lock, ~30 us a frame for 1024 buckets.
 */
#define PKT_HOOK_SLOTS 32

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PKT_HOOK_SLOTS);
	__type(key, __u32);
	__type(value, __u64); /* struct sock *, 0: free */
} hook_slots SEC(".maps");

/* High-water mark of used slots; slots are freed, never compacted. */
__u32 hook_slots_used = 0;
/* Sockets beyond PKT_HOOK_SLOTS: their frames before bind go unseen. */
__u64 unmatched_sockets = 0;

/* A socket(), bind() or filter setsockopt() between sys_enter and sys_exit. */
struct pending_call {
	long nr;
	__u64 sk;
	__u64 enter_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32); /* tid */
	__type(value, struct pending_call);
} pending SEC(".maps");

/* Never written: the zeroed value new `sockets` entries start from. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pkt_sock);
} zero_sock SEC(".maps");

/* kprobe backend: packet_rcv()'s arguments, kept for its kretprobe. */
struct rcv_args {
	__u64 dev;
	__u64 pt;
	bool ring; /* tpacket_rcv() */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rcv_args);
} kprobe_args SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1024 * 1024);
} events SEC(".maps");

/* -w: leaked frames' bytes, apart from the events so neither starves. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);
} frames SEC(".maps");

/* A frame record is too big for the stack: built here, then copied. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pkt_frame_data);
} frame_scratch SEC(".maps");

/* Before 6.3 (and its stable backports) packet_sock had `running` as a field. */
struct packet_sock___running {
	unsigned int running;
} __attribute__((preserve_access_index));

static __always_inline struct packet_sock *pkt_sk(const struct sock *sk)
{
	return (struct packet_sock *)sk;
}

static __always_inline bool hook_running(const struct packet_sock *po)
{
	const struct packet_sock___running *old = (const void *)po;
	unsigned long flags;

	if (bpf_core_field_exists(old->running))
		return BPF_CORE_READ(old, running);
	flags = BPF_CORE_READ(po, flags);
	return flags & (1UL << bpf_core_enum_value(enum packet_sock_flags,
						   PACKET_SOCK_RUNNING));
}

static __always_inline bool is_bound(const struct pkt_sock *s,
				     const struct packet_sock *po)
{
	/* packet_do_bind() sets po->ifindex before the new hook goes live. */
	return s->bound || BPF_CORE_READ(po, ifindex);
}

/* Are frames reaching a socket's hook counted at all right now? */
static __always_inline bool reached_wanted(void)
{
	if (reached_after_bind || emit_frames)
		return nr_sockets;
	return nr_unbound;
}

/* @s counts in nr_unbound from now on (once, whichever CPU gets here first). */
static __always_inline void count_unbound(struct pkt_sock *s)
{
	if (!__sync_val_compare_and_swap(&s->unbound_counted, 0, 1))
		__sync_fetch_and_add(&nr_unbound, 1);
}

/* ... and no longer: bound, or forgotten. */
static __always_inline void uncount_unbound(struct pkt_sock *s)
{
	if (__sync_val_compare_and_swap(&s->unbound_counted, 1, 0) == 1)
		__sync_fetch_and_add(&nr_unbound, -1);
}

/*
 * Can frames reach @po's hook while is_bound() does not hold? Not with
 * protocol 0: packet_create() registers no hook then, and only
 * packet_do_bind() gives it a protocol (on_bind_enter() counts the socket
 * for the time of the call). Met already bound to an interface (found at
 * bind(), close() or a filter): is_bound() holds. Bound to all interfaces
 * looks unbound, and is counted so: more work, nothing missed.
 */
static __always_inline bool may_be_reached_unbound(const struct packet_sock *po)
{
	return BPF_CORE_READ(po, num) && !BPF_CORE_READ(po, ifindex);
}

/*
 * A socket's entry is visible in `sockets` before track_socket() has filled
 * it; its hooks wait for s->sk, which track_socket() writes last. (A frame
 * queued meanwhile is counted from the queue, by count_waiting().)
 */
static __always_inline struct pkt_sock *published(struct pkt_sock *s)
{
	return s && *(volatile __u64 *)&s->sk ? s : NULL;
}

static __always_inline struct pkt_sock *lookup_socket(const void *sk)
{
	__u64 key = (__u64)sk;

	if (!nr_sockets)
		return NULL;
	return published(bpf_map_lookup_elem(&sockets, &key));
}

/* ------------------------------------------------------------ events */

static __always_inline void emit_sock(struct pkt_sock *s, __u32 kind,
				      __u32 reason)
{
	struct pkt_sock_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&lost_events, 1);
		return;
	}
	e->kind = kind;
	e->reason = reason;
	e->ts_ns = bpf_ktime_get_ns();
	__builtin_memcpy(&e->s, s, sizeof(*s));
	bpf_ringbuf_submit(e, 0);
}

static __always_inline void emit_frame(const struct pkt_sock *s,
				       const struct pkt_iface *f, __u32 kind,
				       bool bound)
{
	struct pkt_frame_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&lost_events, 1);
		return;
	}
	e->kind = PKT_EV_FRAME;
	e->frame = kind;
	e->ts_ns = bpf_ktime_get_ns();
	e->sk = s->sk;
	e->ifindex = f->ifindex;
	e->bound = bound;
	__builtin_memcpy(e->ifname, f->name, sizeof(e->ifname));
	bpf_ringbuf_submit(e, 0);
}

/* ------------------------------------------------------------ frame bytes */

/* Where a captured frame was seen: its device's, or its sockaddr_ll's. */
struct frame_where {
	int ifindex;
	__u16 hatype;
	__u8 pkttype;
};

/*
 * Copy up to snaplen bytes of @skb from its link-layer header: at
 * skb->head + skb->mac_header, which __netif_receive_skb_core() (via
 * eth_type_trans()), __dev_queue_xmit() and dev_queue_xmit_nit() have all
 * set, and which packet_rcv() leaves in place when it pushes the header back
 * for a SOCK_RAW reader. Only the linear part is read.
 */

static __always_inline void capture_frame(const struct pkt_sock *s,
					  const struct sk_buff *skb,
					  const struct frame_where *w, __u8 why)
{
	const __u32 hdr = __builtin_offsetof(struct pkt_frame_data, data);
	unsigned char *head, *mac, *data;
	struct pkt_frame_data *d;
	__u32 len, linear, cap;
	__u32 zero = 0;

	if (!snaplen)
		return;
	d = bpf_map_lookup_elem(&frame_scratch, &zero);
	if (!d)
		return;
	head = BPF_CORE_READ(skb, head);
	data = BPF_CORE_READ(skb, data);
	mac = head + BPF_CORE_READ(skb, mac_header);
	if (mac > data)
		return; /* no link-layer header to start from */
	len = BPF_CORE_READ(skb, len) + (__u32)(data - mac);
	linear = len - BPF_CORE_READ(skb, data_len);
	cap = linear < snaplen ? linear : snaplen;
	if (cap > PKT_SNAPLEN_MAX)
		cap = PKT_SNAPLEN_MAX;
	d->ts_ns = bpf_ktime_get_ns();
	d->sk = s->sk;
	d->ifindex = w->ifindex;
	d->len = len;
	d->hatype = w->hatype;
	d->protocol = BPF_CORE_READ(skb, protocol);
	d->pkttype = w->pkttype;
	d->why = why;
	if (bpf_probe_read_kernel(d->data, cap, mac))
		return;
	d->caplen = cap;
	if (bpf_ringbuf_output(&frames, d, hdr + cap, 0))
		__sync_fetch_and_add(&frames_lost, 1);
}

/* ------------------------------------------------------------ counting */

/* NETDEV_HASHENTRIES: the buckets of net->dev_index_head */
#define TRACER_NETDEV_HASHENTRIES 256
/* devices looked at in one bucket (ifindexes 256 apart) */
#define TRACER_IFINDEX_CHAIN 8

/* A device name, as name_of_ifindex() fills it. */
struct pkt_ifname_buf {
	char name[PKT_IFNAMSIZ];
};

/*
 * The name of device @ifindex in the namespace of socket @sk (the only one
 * whose frames packet_rcv() queues to it), looked up as dev_get_by_index()
 * does: in bucket dev_index_hash() of net->dev_index_head. For the hooks with
 * no device at hand (frames queued or read), once per interface and socket.
 * Global, so the verifier checks it once per program, not at each of the
 * unrolled iface_slot() calls.
 */
__noinline int name_of_ifindex(__u64 sk, int ifindex,
			       struct pkt_ifname_buf *out)
{
	const struct sock *s = (const struct sock *)sk;
	const struct net *net = BPF_CORE_READ(s, __sk_common.skc_net.net);
	struct hlist_head *heads = BPF_CORE_READ(net, dev_index_head);
	const struct hlist_node *node;
	const struct net_device *dev;

	if (!out || !heads)
		return 0;
	node = BPF_CORE_READ(
		heads + (ifindex & (TRACER_NETDEV_HASHENTRIES - 1)), first);
	for (int i = 0; i < TRACER_IFINDEX_CHAIN && node; i++) {
		dev = (const void *)node -
		      bpf_core_field_offset(struct net_device, index_hlist);
		if (BPF_CORE_READ(dev, ifindex) == ifindex)
			return bpf_probe_read_kernel_str(
				out->name, sizeof(out->name), dev->name);
		node = BPF_CORE_READ(node, next);
	}
	return 0;
}

/* The socket's counters for interface @ifindex, claiming a free slot. */
static __always_inline struct pkt_iface *
iface_slot(struct pkt_sock *s, int ifindex, const struct net_device *dev)
{
	for (int i = 0; i < PKT_MAX_IFACES; i++) {
		struct pkt_iface *f = &s->ifs[i];

		if (f->ifindex == ifindex) {
			/* claimed by a hook that had no device at hand */
			if (dev && !f->name[0])
				bpf_probe_read_kernel_str(
					f->name, sizeof(f->name), dev->name);
			return f;
		}
		if (f->ifindex)
			continue;
		if (__sync_val_compare_and_swap(&f->ifindex, 0, ifindex) == 0) {
			if (dev)
				bpf_probe_read_kernel_str(
					f->name, sizeof(f->name), dev->name);
			else
				name_of_ifindex(
					s->sk, ifindex,
					(struct pkt_ifname_buf *)f->name);
			return f;
		}
		if (f->ifindex == ifindex) /* another CPU claimed it for us */
			return f;
	}
	return NULL;
}

static __always_inline void count(struct pkt_sock *s, int ifindex,
				  const struct net_device *dev, __u32 kind,
				  bool bound, __u64 n)
{
	/* ifindex 0: not known (TPACKET_V3 ring, queue emptied meanwhile) */
	struct pkt_iface *f = ifindex ? iface_slot(s, ifindex, dev) : NULL;
	__u64 *c;

	if (!f) {
		__sync_fetch_and_add(&s->untracked, n);
		return;
	}
	if (kind == PKT_FRAME_READ)
		c = &f->read;
	else if (kind == PKT_FRAME_REACHED)
		c = bound ? &f->reached_bound : &f->reached_unbound;
	else
		c = bound ? &f->queued_bound : &f->queued_unbound;
	__sync_fetch_and_add(c, n);
	if (emit_frames)
		emit_frame(s, f, kind, bound);
}

static __always_inline void count_reached(struct pkt_sock *s,
					  const struct packet_sock *po,
					  const struct sk_buff *skb,
					  const struct net_device *dev,
					  bool outgoing)
{
	bool bound = is_bound(s, po);
	struct frame_where w;

	if (bound && !reached_after_bind && !emit_frames)
		return;
	count(s, BPF_CORE_READ(dev, ifindex), dev, PKT_FRAME_REACHED, bound, 1);
	if (bound || !snaplen)
		return;
	w.ifindex = BPF_CORE_READ(dev, ifindex);
	w.hatype = BPF_CORE_READ(dev, type);
	w.pkttype = outgoing ? TRACER_PACKET_OUTGOING :
			       BPF_CORE_READ_BITFIELD_PROBED(skb, pkt_type);
	capture_frame(s, skb, &w, PKT_LEAK_BEFORE_BIND);
}

/*
 * The filter window. run_filter() in packet_rcv()/tpacket_rcv() runs
 * sk->sk_filter, which sk_attach_filter()/sk_attach_bpf() set: a frame queued
 * after bind while it is still NULL, before the first filter setsockopt(),
 * never went through a filter. They sit at queue positions (pos, pos + n]:
 * frames after bind and before the filter are contiguous in the FIFO.
 */
static __always_inline void count_unfiltered(struct pkt_sock *s,
					     const struct packet_sock *po,
					     __u64 pos, __u64 n, bool ring)
{
	if (s->filter_ns || BPF_CORE_READ(po, sk.sk_filter))
		return;
	__sync_fetch_and_add(&s->queued_before_filter, n);
	if (ring) /* in user space at once; when it is read is unknown */
		return;
	if (!s->unfiltered_last)
		s->unfiltered_first = pos;
	s->unfiltered_last = pos + n;
}

/*
 * packet_rcv() and tpacket_rcv() bump stats.tp_packets for each frame they
 * queue (under the queue lock), and only then; so a frame was queued iff the
 * counter moved since we last looked. The compare-and-swap makes sure that
 * two CPUs never count the same increase. A frame written to a mapped ring
 * is in user space at once: it counts as read too.
 */
static __always_inline void
count_queued(struct pkt_sock *s, const struct packet_sock *po, int ifindex,
	     const struct net_device *dev, bool ring)
{
	__u64 now = BPF_CORE_READ(po, stats.stats1.tp_packets);
	__u64 last = s->last_tp_packets;
	bool bound = is_bound(s, po);
	__u64 n, pos = 0;

	if (now == last)
		return;
	if (__sync_val_compare_and_swap(&s->last_tp_packets, last, now) != last)
		return;
	/* PACKET_STATISTICS resets the counter: count from zero. */
	n = now > last ? now - last : now;
	if (!ring)
		pos = __sync_fetch_and_add(&s->queued_total, n);
	if (bound) {
		__sync_fetch_and_add(&s->queued_after_bind, n);
		count_unfiltered(s, po, pos, n, ring);
	}
	count(s, ifindex, dev, PKT_FRAME_QUEUED, bound, n);
	if (ring)
		count(s, ifindex, dev, PKT_FRAME_READ, bound, n);
}

/* A looped-back copy of a sent multicast frame: packet_rcv() drops it. */
static __always_inline bool frame_is_loopback(const struct sk_buff *skb)
{
	return BPF_CORE_READ_BITFIELD_PROBED(skb, pkt_type) ==
	       TRACER_PACKET_LOOPBACK;
}

/* Same early drops as packet_rcv(): loopback copies, other namespaces. */
static __always_inline bool rcv_would_drop(const struct sk_buff *skb,
					   const struct net_device *dev,
					   const struct sock *sk)
{
	if (frame_is_loopback(skb))
		return true;
	return BPF_CORE_READ(dev, nd_net.net) !=
	       BPF_CORE_READ(sk, __sk_common.skc_net.net);
}

/* ------------------------------------------- fentry / kprobe: packet_rcv */

static __always_inline void on_rcv_entry(const struct sk_buff *skb,
					 const struct net_device *dev,
					 const struct packet_type *pt,
					 bool ring)
{
	struct sock *sk;
	struct pkt_sock *s;

	if (!reached_wanted())
		return;
	sk = BPF_CORE_READ(pt, af_packet_priv);
	s = lookup_socket(sk);
	if (!s || rcv_would_drop(skb, dev, sk))
		return;
	/* dev_queue_xmit_nit() marks its copies PACKET_OUTGOING */
	count_reached(s, pkt_sk(sk), skb, dev,
		      BPF_CORE_READ_BITFIELD_PROBED(skb, pkt_type) ==
			      TRACER_PACKET_OUTGOING);
}

static __always_inline void on_rcv_exit(const struct net_device *dev,
					const struct packet_type *pt, bool ring)
{
	struct sock *sk = BPF_CORE_READ(pt, af_packet_priv);
	struct pkt_sock *s = lookup_socket(sk);

	if (!s)
		return;
	if (ring)
		s->ring = 1;
	count_queued(s, pkt_sk(sk), BPF_CORE_READ(dev, ifindex), dev, ring);
}

SEC("fentry/packet_rcv")
int BPF_PROG(pkt_fentry_rcv, struct sk_buff *skb, struct net_device *dev,
	     struct packet_type *pt)
{
	on_rcv_entry(skb, dev, pt, false);
	return 0;
}

SEC("fexit/packet_rcv")
int BPF_PROG(pkt_fexit_rcv, struct sk_buff *skb, struct net_device *dev,
	     struct packet_type *pt)
{
	on_rcv_exit(dev, pt, false);
	return 0;
}

SEC("fentry/tpacket_rcv")
int BPF_PROG(pkt_fentry_tpacket_rcv, struct sk_buff *skb,
	     struct net_device *dev, struct packet_type *pt)
{
	on_rcv_entry(skb, dev, pt, true);
	return 0;
}

SEC("fexit/tpacket_rcv")
int BPF_PROG(pkt_fexit_tpacket_rcv, struct sk_buff *skb, struct net_device *dev,
	     struct packet_type *pt)
{
	on_rcv_exit(dev, pt, true);
	return 0;
}

/*
 * packet_rcv() runs with bottom halves off (softirq, or dev_queue_xmit_nit()
 * under rcu_read_lock_bh()), so its kretprobe fires on the same CPU before
 * any other packet_rcv() there: one slot per CPU carries the arguments.
 */
static __always_inline void kprobe_entry(struct pt_regs *ctx, bool ring)
{
	struct rcv_args *a;
	__u32 zero = 0;

	a = bpf_map_lookup_elem(&kprobe_args, &zero);
	if (!a)
		return;
	a->dev = PT_REGS_PARM2(ctx);
	a->pt = PT_REGS_PARM3(ctx);
	a->ring = ring;
	on_rcv_entry((void *)PT_REGS_PARM1(ctx), (void *)a->dev, (void *)a->pt,
		     ring);
}

SEC("kprobe/packet_rcv")
int pkt_kprobe_rcv(struct pt_regs *ctx)
{
	kprobe_entry(ctx, false);
	return 0;
}

SEC("kprobe/tpacket_rcv")
int pkt_kprobe_tpacket_rcv(struct pt_regs *ctx)
{
	kprobe_entry(ctx, true);
	return 0;
}

SEC("kretprobe/packet_rcv")
int pkt_kretprobe_rcv(struct pt_regs *ctx)
{
	struct rcv_args *a;
	__u32 zero = 0;

	a = bpf_map_lookup_elem(&kprobe_args, &zero);
	if (a && a->pt)
		on_rcv_exit((void *)a->dev, (void *)a->pt, a->ring);
	return 0;
}

/* ----------------------------------------- tracepoint backend: devices */

struct device_frame {
	const struct sk_buff *skb;
	const struct net_device *dev;
	const void *net;
	int ifindex;
	__be16 protocol;
	bool outgoing;
};

/*
 * Would the socket's hook get this frame? ETH_P_ALL hooks sit on ptype_all
 * and see every frame a device receives (__netif_receive_skb_core()) or
 * sends (dev_queue_xmit_nit()); other protocols see received frames of their
 * type. A bound hook only sees its device.
 */
static __always_inline bool hook_gets(const struct packet_sock *po,
				      const struct device_frame *fr)
{
	int bound_ifindex = BPF_CORE_READ(po, ifindex);
	__be16 num = BPF_CORE_READ(po, num);

	if (!hook_running(po))
		return false;
	if (bound_ifindex && bound_ifindex != fr->ifindex)
		return false;
	if (BPF_CORE_READ(po, sk.__sk_common.skc_net.net) != fr->net)
		return false;
	if (num == bpf_htons(TRACER_ETH_P_ALL))
		return true;
	return !fr->outgoing && num == fr->protocol;
}

static __always_inline void match_device_frame(__u64 sk,
					       const struct device_frame *fr)
{
	const struct packet_sock *po = (const void *)sk;
	struct pkt_sock *s;

	if (!hook_gets(po, fr))
		return;
	s = published(bpf_map_lookup_elem(&sockets, &sk));
	if (s)
		count_reached(s, po, fr->skb, fr->dev, fr->outgoing);
}

static long match_slot(__u32 index, void *ctx)
{
	__u32 k = index;
	__u64 *slot = bpf_map_lookup_elem(&hook_slots, &k);

	if (slot && *slot)
		match_device_frame(*slot, ctx);
	return 0;
}

static __always_inline void on_device_frame(const struct sk_buff *skb,
					    bool outgoing)
{
	const struct net_device *dev;
	struct device_frame fr;

	/* every frame of every device: one load while no socket needs them */
	if (!reached_wanted() || frame_is_loopback(skb))
		return;
	dev = BPF_CORE_READ(skb, dev);
	fr.skb = skb;
	fr.dev = dev;
	fr.net = BPF_CORE_READ(dev, nd_net.net);
	fr.ifindex = BPF_CORE_READ(dev, ifindex);
	fr.protocol = BPF_CORE_READ(skb, protocol);
	fr.outgoing = outgoing;
	/* bpf_loop(): verified once, not unrolled PKT_HOOK_SLOTS times */
	bpf_loop(hook_slots_used < PKT_HOOK_SLOTS ? hook_slots_used :
						    PKT_HOOK_SLOTS,
		 match_slot, &fr, 0);
}

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(pkt_netif_receive_skb, struct sk_buff *skb)
{
	on_device_frame(skb, false);
	return 0;
}

/*
 * net_dev_queue, in __dev_queue_xmit(), fires before the frame reaches
 * dev_queue_xmit_nit() (from xmit_one(), after the qdisc), so a frame is
 * "reached" before it is "queued". net_dev_start_xmit fires after the nit
 * delivery, and also for packet_direct_xmit() frames no tap ever sees.
 */
SEC("tp_btf/net_dev_queue")
int BPF_PROG(pkt_net_dev_queue, struct sk_buff *skb)
{
	on_device_frame(skb, true);
	return 0;
}

/* The interface of the frame tpacket_rcv() just wrote (TPACKET_V1/V2). */
static __always_inline int ring_frame_ifindex(const struct packet_sock *po)
{
	unsigned int head, fpb, pos;
	struct pgv *pg_vec;
	char *buffer;
	int ifindex = 0;

	if (BPF_CORE_READ(po, tp_version) > TRACER_TPACKET_V2)
		return 0; /* TPACKET_V3 signals per block, not per frame */
	pg_vec = BPF_CORE_READ(po, rx_ring.pg_vec);
	fpb = BPF_CORE_READ(po, rx_ring.frames_per_block);
	if (!fpb || !pg_vec)
		return 0;
	/* packet_increment_rx_head() already moved past the frame */
	head = BPF_CORE_READ(po, rx_ring.head);
	pos = head ? head - 1 : BPF_CORE_READ(po, rx_ring.frame_max);
	buffer = BPF_CORE_READ(pg_vec + pos / fpb, buffer);
	if (!buffer)
		return 0;
	bpf_probe_read_kernel(
		&ifindex, sizeof(ifindex),
		buffer + (pos % fpb) * BPF_CORE_READ(po, rx_ring.frame_size) +
			TRACER_TPACKET_SLL_OFF + TRACER_SLL_IFINDEX_OFF);
	return ifindex;
}

/*
 * packet_rcv() keeps the frame's sockaddr_ll in skb->cb (and sets skb->dev
 * to NULL before queueing it): where a queued frame came from.
 */
static __always_inline void skb_sll_where(const struct sk_buff *skb,
					  struct frame_where *w)
{
	struct {
		__u16 family, protocol;
		__s32 ifindex;
		__u16 hatype;
		__u8 pkttype, halen;
	} sll = {};

	bpf_probe_read_kernel(&sll, sizeof(sll), skb->cb);
	w->ifindex = sll.ifindex;
	w->hatype = sll.hatype;
	w->pkttype = sll.pkttype;
}

/* packet_rcv() keeps the frame's sockaddr_ll in skb->cb. */
static __always_inline int skb_sll_ifindex(const struct sk_buff *skb)
{
	int ifindex = 0;

	bpf_probe_read_kernel(&ifindex, sizeof(ifindex),
			      &skb->cb[TRACER_SLL_IFINDEX_OFF]);
	return ifindex;
}

/* The interface of the frame packet_rcv() just put at the queue's tail. */
static __always_inline int queued_frame_ifindex(const struct sock *sk)
{
	const struct sk_buff *tail = BPF_CORE_READ(sk, sk_receive_queue.prev);

	if ((const void *)tail == (const void *)&sk->sk_receive_queue)
		return 0; /* a reader emptied it meanwhile */
	return skb_sll_ifindex(tail);
}

/*
 * sock_def_readable() fires this for every frame packet_rcv() queues, and for
 * every frame tpacket_rcv() writes to a V1/V2 ring or drops for want of room.
 */
SEC("tp_btf/sk_data_ready")
int BPF_PROG(pkt_sk_data_ready, struct sock *sk)
{
	const struct packet_sock *po = pkt_sk(sk);
	struct pkt_sock *s;
	bool ring;
	int ifindex;

	/* every socket's data_ready fires it: a load before any read */
	if (!nr_sockets ||
	    BPF_CORE_READ(sk, __sk_common.skc_family) != TRACER_AF_PACKET)
		return 0;
	s = lookup_socket(sk);
	if (!s)
		return 0;
	ring = BPF_CORE_READ(po, rx_ring.pg_vec);
	if (ring) {
		s->ring = 1;
		if (BPF_CORE_READ(po, tp_version) > TRACER_TPACKET_V2)
			s->ring_late = 1;
		ifindex = ring_frame_ifindex(po);
	} else {
		ifindex = queued_frame_ifindex(sk);
	}
	count_queued(s, po, ifindex, NULL, ring);
	return 0;
}

/* ------------------------------------------------------- reads, any backend */

/* skb_copy_datagram_iter(): packet_recvmsg() copying a frame out. */
SEC("tp_btf/skb_copy_datagram_iovec")
int BPF_PROG(pkt_copy_datagram, struct sk_buff *skb, int len)
{
	struct frame_where w;
	struct sock *sk;
	struct pkt_sock *s;
	__u64 pos;

	if (!nr_sockets)
		return 0;
	sk = BPF_CORE_READ(skb, sk); /* skb_set_owner_r() in packet_rcv() */
	s = lookup_socket(sk);
	if (!s)
		return 0;
	/* packet_recvmsg() takes the queue's head: this is frame number pos */
	pos = __sync_fetch_and_add(&s->reads_total, 1) + 1;
	skb_sll_where(skb, &w);
	if (s->filter_ns && pos > s->unfiltered_first &&
	    pos <= s->unfiltered_last) {
		__sync_fetch_and_add(&s->unfiltered_read, 1);
		capture_frame(s, skb, &w, PKT_LEAK_UNFILTERED);
	}
	if (!is_bound(s, pkt_sk(sk)))
		return 0;
	count(s, w.ifindex, NULL, PKT_FRAME_READ, true, 1);
	/*
	 * A frame of another interface read after bind reached the socket
	 * before bind: written then, unless the socket predates tracing.
	 */
	if (!s->created_ns && s->bound_ifindex && w.ifindex != s->bound_ifindex)
		capture_frame(s, skb, &w, PKT_LEAK_OTHER_READ);
	return 0;
}

/* ------------------------------------------------------- socket life */

static __always_inline __u32 current_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

static __always_inline __u32 current_tid(void)
{
	return (__u32)bpf_get_current_pid_tgid();
}

static __always_inline bool current_is_watched(void)
{
	return trace_all || current_is_traced();
}

/* Give @sk a slot in hook_slots, for the frame hooks to find it. */
static __always_inline void claim_hook_slot(__u64 sk)
{
	for (__u32 i = 0; i < PKT_HOOK_SLOTS; i++) {
		__u32 k = i, used;
		__u64 *slot = bpf_map_lookup_elem(&hook_slots, &k);

		if (!slot || __sync_val_compare_and_swap(slot, 0, sk))
			continue;
		/* raise the mark; a few tries: the slots are claimed rarely */
		for (int tries = 0; tries < 8; tries++) {
			used = hook_slots_used;
			if (used >= i + 1 ||
			    __sync_bool_compare_and_swap(&hook_slots_used, used,
							 i + 1))
				break;
		}
		return;
	}
	__sync_fetch_and_add(&unmatched_sockets, 1);
}

static __always_inline void release_hook_slot(__u64 sk)
{
	for (__u32 i = 0; i < PKT_HOOK_SLOTS && i < hook_slots_used; i++) {
		__u32 k = i;
		__u64 *slot = bpf_map_lookup_elem(&hook_slots, &k);

		if (slot && *slot == sk) {
			__sync_val_compare_and_swap(slot, sk, 0);
			return;
		}
	}
}

/* Frames counted one by one from a new socket's queue (count_waiting()). */
#define PKT_WAITING_MAX 4

/*
 * packet_create() registers the socket's hook before socket() returns and
 * tracking begins: frames queued in between went past every hook of ours
 * unseen. Each reached the unbound socket and waits in its receive queue, in
 * order: count it by the interface of its sockaddr_ll (skb->cb), and with
 * -w write its bytes, the first PKT_WAITING_MAX of them; more, as untracked. (A frame that races the
 * tracking itself may still be counted twice or not at all.)
 */
static __always_inline void count_waiting(struct pkt_sock *s,
					  const struct sock *sk, __u32 n)
{
	const void *head = &sk->sk_receive_queue;
	const struct sk_buff *skb = BPF_CORE_READ(sk, sk_receive_queue.next);
	struct frame_where w;
	struct pkt_iface *f;
	__u32 i;

	for (i = 0; i < PKT_WAITING_MAX && i < n; i++) {
		if ((const void *)skb == head || !skb)
			break;
		/* packet_rcv() cleared skb->dev: the name comes by ifindex */
		skb_sll_where(skb, &w);
		capture_frame(s, skb, &w, PKT_LEAK_BEFORE_BIND);
		f = iface_slot(s, w.ifindex, NULL);
		if (f) {
			__sync_fetch_and_add(&f->reached_unbound, 1);
			__sync_fetch_and_add(&f->queued_unbound, 1);
		} else {
			__sync_fetch_and_add(&s->untracked, 1);
		}
		skb = BPF_CORE_READ(skb, next);
	}
	if (n > i)
		__sync_fetch_and_add(&s->untracked, n - i);
}

/* Start counting for @sk; @created: at socket(), not found later. */
static __always_inline struct pkt_sock *track_socket(struct sock *sk, int fd,
						     bool created)
{
	const struct packet_sock *po = pkt_sk(sk);
	__u64 key = (__u64)sk;
	struct pkt_sock *s, *zero;
	__u32 zkey = 0;

	zero = bpf_map_lookup_elem(&zero_sock, &zkey);
	if (!zero)
		return NULL;
	s = bpf_map_lookup_elem(&sockets, &key);
	if (s) {
		/* a socket we never saw close (dup()ed fd): start over */
		uncount_unbound(s);
		bpf_map_update_elem(&sockets, &key, zero, BPF_EXIST);
	} else if (bpf_map_update_elem(&sockets, &key, zero, BPF_NOEXIST)) {
		__sync_fetch_and_add(&untracked_sockets, 1);
		return NULL;
	} else {
		__sync_fetch_and_add(&nr_sockets, 1);
		claim_hook_slot(key);
	}
	s = bpf_map_lookup_elem(&sockets, &key);
	if (!s)
		return NULL;
	if (may_be_reached_unbound(po))
		count_unbound(s);
	s->created_ns = created ? bpf_ktime_get_ns() : 0;
	s->tgid = current_tgid();
	s->fd = fd;
	s->protocol = bpf_ntohs(BPF_CORE_READ(po, num));
	s->sock_type = BPF_CORE_READ(sk, sk_type);
	bpf_get_current_comm(s->comm, sizeof(s->comm));
	s->last_tp_packets = BPF_CORE_READ(po, stats.stats1.tp_packets);
	/* frames already waiting take the first queue positions */
	s->queued_total = BPF_CORE_READ(sk, sk_receive_queue.qlen);
	/* the hooks' go (published()); xchg orders the stores above before it */
	__sync_lock_test_and_set(&s->sk, key);
	if (created && s->queued_total)
		count_waiting(s, sk, s->queued_total);
	emit_sock(s, PKT_EV_SOCKET, 0);
	return s;
}

static __always_inline void forget_socket(struct pkt_sock *s, __u32 reason)
{
	__u64 key = s->sk;

	emit_sock(s, PKT_EV_CLOSE, reason);
	uncount_unbound(s);
	release_hook_slot(key);
	if (!bpf_map_delete_elem(&sockets, &key))
		__sync_fetch_and_add(&nr_sockets, -1);
}

/* The tracked socket behind @fd, adopting one made before tracing began. */
static __always_inline struct pkt_sock *socket_of_fd(int fd)
{
	struct sock *sk = sock_from_fd(fd);
	struct pkt_sock *s;
	__u64 key = (__u64)sk;

	if (!sk)
		return NULL;
	s = bpf_map_lookup_elem(&sockets, &key);
	if (s)
		return s;
	if (BPF_CORE_READ(sk, __sk_common.skc_family) != TRACER_AF_PACKET)
		return NULL;
	return track_socket(sk, fd, false);
}

/* Frames waiting to be read as bind() begins. */
static __always_inline __u64 queued_waiting(const struct pkt_sock *s,
					    const struct sock *sk)
{
	__u64 n = 0;

	if (!s->ring)
		return BPF_CORE_READ(sk, sk_receive_queue.qlen);
	for (int i = 0; i < PKT_MAX_IFACES; i++)
		n += s->ifs[i].queued_unbound;
	return n;
}

static __always_inline void on_bind_enter(int fd)
{
	struct pkt_sock *s = socket_of_fd(fd);
	struct pending_call c = { .nr = nr_bind };
	__u32 tid = current_tid();
	struct sock *sk;

	if (!s)
		return;
	sk = (struct sock *)s->sk;
	if (!s->bound) {
		/* packet_do_bind() may register a hook before it returns */
		count_unbound(s);
		s->queued_at_bind = queued_waiting(s, sk);
	}
	c.sk = s->sk;
	c.enter_ns = bpf_ktime_get_ns();
	bpf_map_update_elem(&pending, &tid, &c, BPF_ANY);
}

static __always_inline void on_bind_exit(const struct pending_call *c, long ret)
{
	struct pkt_sock *s = lookup_socket((void *)c->sk);
	const struct packet_sock *po = (const void *)c->sk;

	if (!s)
		return;
	if (ret) { /* failed: the protocol is what it was */
		if (!s->bound && !may_be_reached_unbound(po))
			uncount_unbound(s);
		return;
	}
	if (!s->bound) {
		s->bind_enter_ns = c->enter_ns;
		s->bound_ns = bpf_ktime_get_ns();
	}
	s->bound_ifindex = BPF_CORE_READ(po, ifindex);
	s->bound_protocol = bpf_ntohs(BPF_CORE_READ(po, num));
	/* packet_do_bind() caches the device it bound to */
	if (s->bound_ifindex)
		bpf_probe_read_kernel_str(s->bound_ifname,
					  sizeof(s->bound_ifname),
					  BPF_CORE_READ(po, cached_dev, name));
	s->bound = 1;
	uncount_unbound(s);
	emit_sock(s, PKT_EV_BIND, 0);
}

/* setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER or SO_ATTACH_BPF, ...) */
static __always_inline void on_setsockopt_enter(const unsigned long *args)
{
	int fd = (int)args[0];
	struct pending_call c = { .nr = nr_setsockopt };
	int level = (int)args[1];
	int optname = (int)args[2];
	__u32 tid = current_tid();
	struct pkt_sock *s;

	if (level != TRACER_SOL_SOCKET || (optname != TRACER_SO_ATTACH_FILTER &&
					   optname != TRACER_SO_ATTACH_BPF))
		return;
	s = socket_of_fd(fd);
	if (!s || s->filter_ns)
		return;
	c.sk = s->sk;
	bpf_map_update_elem(&pending, &tid, &c, BPF_ANY);
}

static __always_inline void on_setsockopt_exit(const struct pending_call *c,
					       long ret)
{
	struct pkt_sock *s = lookup_socket((void *)c->sk);

	if (!s || ret || s->filter_ns)
		return;
	s->filter_ns = bpf_ktime_get_ns();
	emit_sock(s, PKT_EV_FILTER, 0);
}

static __always_inline void on_close_enter(int fd)
{
	struct sock *sk;
	struct pkt_sock *s;

	if (!nr_sockets)
		return;
	sk = sock_from_fd(fd);
	s = lookup_socket(sk);
	/* only the fd socket() returned: a dup()ed copy keeps it open */
	if (s && s->fd == fd && s->tgid == current_tgid())
		forget_socket(s, PKT_CLOSE_SYSCALL);
}

/* The first three arguments of syscall @id: the syscall layer's one body. */
static __always_inline int on_syscall_enter(long id, const unsigned long *args)
{
	struct pending_call c = { .nr = id };
	__u32 tid;

	if (id != nr_socket && id != nr_bind && id != nr_close &&
	    id != nr_setsockopt)
		return 0;
	if (!current_is_watched())
		return 0;
	if (id == nr_setsockopt) {
		on_setsockopt_enter(args);
	} else if (id == nr_close) {
		on_close_enter((int)args[0]);
	} else if (id == nr_bind) {
		on_bind_enter((int)args[0]);
	} else if ((int)args[0] == TRACER_AF_PACKET) {
		tid = current_tid();
		bpf_map_update_elem(&pending, &tid, &c, BPF_ANY);
	}
	return 0;
}

static __always_inline int on_syscall_exit(long id, long ret)
{
	struct pending_call *c;
	struct sock *sk;
	__u32 tid;

	if (id != nr_socket && id != nr_bind && id != nr_setsockopt)
		return 0;
	tid = current_tid();
	c = bpf_map_lookup_elem(&pending, &tid);
	if (!c)
		return 0;
	if (c->nr == nr_bind) {
		on_bind_exit(c, ret);
	} else if (c->nr == nr_setsockopt) {
		on_setsockopt_exit(c, ret);
	} else if (c->nr == nr_socket && ret >= 0) {
		sk = sock_from_fd(ret);
		if (sk)
			track_socket(sk, ret, true);
	}
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(pkt_sys_enter, struct pt_regs *regs, long id)
{
	unsigned long args[3];

	if (id != nr_socket && id != nr_bind && id != nr_close &&
	    id != nr_setsockopt)
		return 0;
	args[0] = PT_REGS_PARM1_CORE_SYSCALL(regs);
	args[1] = PT_REGS_PARM2_CORE_SYSCALL(regs);
	args[2] = PT_REGS_PARM3_CORE_SYSCALL(regs);
	return on_syscall_enter(id, args);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(pkt_sys_exit, struct pt_regs *regs, long ret)
{
	return on_syscall_exit(BPF_CORE_READ(regs, orig_ax), ret);
}

static long close_if_owner(struct bpf_map *map, __u64 *key, struct pkt_sock *s,
			   __u32 *tgid)
{
	if (s->tgid == *tgid)
		forget_socket(s, PKT_CLOSE_EXIT);
	return 0;
}

/* A process exit closes its sockets without close(): report them then. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(pkt_process_exit, struct task_struct *task)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);

	if (!nr_sockets || (__u32)BPF_CORE_READ(task, pid) != tgid)
		return 0;
	bpf_for_each_map_elem(&sockets, close_if_owner, &tgid, 0);
	return 0;
}

/* ------------------------------------ syscall layer, fentry backend */

/*
 * Under the fentry backend the syscall layer comes from the functions behind
 * socket(), bind() and setsockopt(), not from raw sys_enter/sys_exit, which
 * run for every syscall of every process. Their first arguments are the
 * syscall's on 6.1 to 6.18: __sys_socket(family, type, protocol),
 * __sys_bind(fd, umyaddr, addrlen), __sys_setsockopt(fd, level, optname, ...).
 * close(2)'s function changed name (__close_fd, close_fd, file_close_fd in
 * 6.8): its x86_64 syscall wrapper, called from the syscall table, is the
 * stable one. The loader attaches these when all are traceable, else the
 * raw tracepoints.
 */
static __always_inline int on_sys_fentry(void *ctx, long id)
{
	unsigned long args[3] = {};

	for (int i = 0; i < 3; i++)
		bpf_get_func_arg(ctx, i, (__u64 *)&args[i]);
	return on_syscall_enter(id, args);
}

/* All three return int: the upper half of the register is not its sign. */
static __always_inline int on_sys_fexit(void *ctx, long id)
{
	__u64 ret = 0;

	bpf_get_func_ret(ctx, &ret);
	return on_syscall_exit(id, (long)(int)ret);
}

/* fentry and fexit on @func, the function behind syscall number @nr. */
#define SYSCALL_FENTRY(name, func, nr)         \
	SEC("fentry/" #func)                   \
	int BPF_PROG(pkt_sys_##name)           \
	{                                      \
		return on_sys_fentry(ctx, nr); \
	}                                      \
	SEC("fexit/" #func)                    \
	int BPF_PROG(pkt_sys_##name##_ret)     \
	{                                      \
		return on_sys_fexit(ctx, nr);  \
	}

SYSCALL_FENTRY(socket, __sys_socket, nr_socket)
SYSCALL_FENTRY(bind, __sys_bind, nr_bind)
SYSCALL_FENTRY(setsockopt, __sys_setsockopt, nr_setsockopt)

SEC("fentry/__x64_sys_close")
int BPF_PROG(pkt_sys_close, const struct pt_regs *regs)
{
	unsigned long args[3] = { PT_REGS_PARM1_CORE_SYSCALL(regs) };

	return on_syscall_enter(nr_close, args);
}

TRACER_FOLLOW_CHILDREN(pkt)

char LICENSE[] SEC("license") = "GPL";
