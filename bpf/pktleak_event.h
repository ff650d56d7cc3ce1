/* SPDX-License-Identifier: GPL-2.0 */
/* Per-socket counts and events shared by bpf/pktleak.bpf.c and user/pktleak*.c. */
#ifndef TRACER_PKTLEAK_EVENT_H
#define TRACER_PKTLEAK_EVENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define PKT_MAX_IFACES 8
#define PKT_IFNAMSIZ 16
#define PKT_COMM_LEN 16

/* Frames of one interface, as seen by one packet socket. */
struct pkt_iface {
	__s32 ifindex; /* 0: free slot */
	__u32 pad;
	char name[PKT_IFNAMSIZ]; /* in the socket's namespace; may be "" */
	__u64 reached_unbound; /* reached the socket's hook before bind */
	__u64 queued_unbound; /* ... and were queued (passed filter, room) */
	__u64 reached_bound;
	__u64 queued_bound;
	__u64 read; /* copied to user space by recv*() after bind */
};

/* One AF_PACKET socket of a traced process: the value of map `sockets`. */
struct pkt_sock {
	__u64 sk;
	__u64 created_ns; /* bpf_ktime_get_ns() at socket(); 0: before tracing */
	__u64 bind_enter_ns; /* entry of the first successful bind() */
	__u64 bound_ns; /* its return, 0: never bound */
	__u64 filter_ns; /* first SO_ATTACH_FILTER/SO_ATTACH_BPF, 0: none */
	__u64 queued_at_bind; /* frames waiting in the queue when bind() began */
	__u64 last_tp_packets; /* packet_sock stats.tp_packets already counted */
	/* frames of interfaces beyond PKT_MAX_IFACES, or of none known */
	__u64 untracked;
	__u64 queued_after_bind; /* all frames queued after bind, any interface */
	/*
	 * The filter window: frames queued after bind while the socket had no
	 * filter, before its first one. Queue positions (FIFO, counted from
	 * tracking on) tell which reads took them: positions
	 * (unfiltered_first, unfiltered_last] of queued_total.
	 */
	__u64 queued_before_filter;
	__u64 unfiltered_read; /* ... of those, read once a filter was set */
	__u64 queued_total; /* frames put in sk_receive_queue, ever */
	__u64 reads_total; /* frames recv*() took from it, ever */
	__u64 unfiltered_first, unfiltered_last;
	__u32 tgid;
	__s32 fd;
	__u16 protocol; /* host order, as given to socket() */
	__u16 bound_protocol; /* host order, after bind() */
	__s32 bound_ifindex; /* 0: all interfaces */
	__u8 bound;
	__u8 ring; /* frames went to a PACKET_RX_RING (tpacket_rcv) */
	__u8 sock_type; /* SOCK_RAW, SOCK_DGRAM */
	/*
	 * TPACKET_V3 ring on the tracepoint backend: sk_data_ready fires when
	 * a block is retired, so frames are counted late (the filter window
	 * cannot be told)
	 */
	__u8 ring_late;
	__u32 unbound_counted; /* BPF only: 1 while counted in nr_unbound */
	char comm[PKT_COMM_LEN];
	char bound_ifname[PKT_IFNAMSIZ];
	struct pkt_iface ifs[PKT_MAX_IFACES];
};

enum pkt_event_kind {
	PKT_EV_SOCKET, /* socket() returned a packet socket */
	PKT_EV_BIND, /* bind() succeeded */
	PKT_EV_CLOSE, /* close() of the creating fd, or the process exited */
	PKT_EV_FRAME, /* one frame (timeline, only when asked for) */
	PKT_EV_FILTER, /* the first SO_ATTACH_FILTER/SO_ATTACH_BPF succeeded */
};

enum pkt_frame_kind {
	PKT_FRAME_REACHED, /* at the socket's hook, before its filter */
	PKT_FRAME_QUEUED, /* queued to the socket (or its ring) */
	PKT_FRAME_READ, /* copied to user space by recv*() */
};

enum pkt_close_reason {
	PKT_CLOSE_SYSCALL,
	PKT_CLOSE_EXIT,
};

struct pkt_sock_event {
	__u32 kind; /* PKT_EV_SOCKET, PKT_EV_BIND, PKT_EV_CLOSE */
	__u32 reason; /* enum pkt_close_reason for PKT_EV_CLOSE */
	__u64 ts_ns;
	struct pkt_sock s;
};

struct pkt_frame_event {
	__u32 kind; /* PKT_EV_FRAME */
	__u32 frame; /* enum pkt_frame_kind */
	__u64 ts_ns;
	__u64 sk;
	__s32 ifindex;
	__u8 bound;
	__u8 pad[3];
	char ifname[PKT_IFNAMSIZ];
};

/* -w FILE: the bytes of one leaked frame, on ring buffer `frames`. */
#define PKT_SNAPLEN_MAX 2048

enum pkt_leak_kind {
	PKT_LEAK_BEFORE_BIND, /* reached the socket before bind() */
	PKT_LEAK_OTHER_READ, /* read after bind from another interface */
	PKT_LEAK_UNFILTERED, /* queued before the filter, read after it */
};

struct pkt_frame_data {
	__u64 ts_ns;
	__u64 sk;
	__s32 ifindex;
	__u32 len; /* the frame's length from its link-layer header */
	__u32 caplen; /* bytes in data[] */
	__u16 hatype; /* ARPHRD_* of the device */
	__u16 protocol; /* skb->protocol, network order */
	__u8 pkttype; /* PACKET_HOST ... PACKET_OUTGOING */
	__u8 why; /* enum pkt_leak_kind */
	__u8 pad[6];
	__u8 data[PKT_SNAPLEN_MAX]; /* from the link-layer header */
};

#endif
