/* SPDX-License-Identifier: GPL-2.0 */
/* Events shared by bpf/tfo.bpf.c and the loader (user/tfo*.c). */
#ifndef TRACER_TFO_EVENT_H
#define TRACER_TFO_EVENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define TFO_COMM_LEN 16
#define TFO_MAX_STATES 8
#define TFO_MAX_ARGS 5
#define TFO_MAX_DEPTH 12
#define TFO_TCP_OPTS_LEN 40
/* fentry/fexit programs are bound to one function each: this many slots. */
#define TFO_FENTRY_SLOTS 24

#define TFO_MSG_FASTOPEN 0x20000000
#define TFO_MSG_DONTWAIT 0x40
#define TFO_O_NONBLOCK 04000

/* What a record on the ring is. */
enum tfo_event_kind {
	TFO_EV_SEND, /* a traced send, at syscall exit */
	TFO_EV_FO_RESULT, /* the answer to an earlier send's Fast Open SYN */
	TFO_EV_ACCEPT, /* a traced listener's accept() */
};

/* Where a Fast Open attempt's answer was read (see on_syscall_exit()). */
enum tfo_settled_by {
	TFO_SETTLED_NOT, /* not known yet */
	TFO_SETTLED_SYSCALL, /* the send's own syscall (it waited, or saw it) */
	TFO_SETTLED_FRAME, /* a later frame of the socket: ACK or resent data */
	TFO_SETTLED_STATE, /* the socket closed or was reset first */
	TFO_SETTLED_END, /* tracing ended before the answer */
};

enum tfo_syscall {
	TFO_SYS_NONE,
	TFO_SYS_SENDTO,
	TFO_SYS_SENDMSG,
	TFO_SYS_SENDMMSG,
	TFO_SYS_CONNECT,
	TFO_SYS_WRITE,
	TFO_SYS_ACCEPT, /* accept() and accept4() */
	TFO_SYS_MAX,
};

enum tfo_libc_func {
	TFO_LIBC_NONE, /* no libc wrapper seen before the syscall */
	TFO_LIBC_SEND,
	TFO_LIBC_SENDTO,
	TFO_LIBC_SENDMSG,
	TFO_LIBC_SENDMMSG,
};

/* What the libc wrapper was handed, stashed per thread until sys_enter. */
struct tfo_libc_call {
	__u32 func; /* enum tfo_libc_func */
	__u32 flags;
	__s32 addrlen;
	__u16 family;
	__u16 pad;
};

/* One traced kernel function call on the send path (fentry/kprobe only). */
struct tfo_frame {
	__u64 ip;
	__u64 args[TFO_MAX_ARGS];
};

/* The deepest function that returned the error the syscall returned. */
struct tfo_origin {
	__u64 ip;
	__u64 args[TFO_MAX_ARGS];
	__s32 ret;
	__u32 depth; /* 0 = outermost traced function */
	__u8 valid;
	__u8 pad[7];
};

/* The first SYN this socket sent during the call, as it reached the device. */
struct tfo_syn {
	__u8 seen;
	__u8 tcp_flags;
	__u8 opts_len;
	__u8 pad;
	__u32 payload; /* bytes of data carried by the SYN */
	__u8 opts[TFO_TCP_OPTS_LEN];
};

/*
 * tcp_sock facts of a Fast Open attempt: set when the SYN is built
 * (tcp_send_syn_data(), tcp_syn_options(), tcp_fastopen_cookie_check()) and
 * when the SYN-ACK is processed (tcp_rcv_fastopen_synack()).
 */
struct tfo_fastopen {
	__u8 read; /* read from the socket */
	__u8 syn_fastopen; /* the SYN carried a Fast Open option */
	__u8 syn_data; /* the SYN carried data */
	__u8 syn_data_acked; /* the SYN-ACK acked that data */
	__u8 client_fail; /* fastopen_client_fail: enum tcp_fastopen_client_fail */
	__u8 no_cookie_opt; /* TCP_FASTOPEN_NO_COOKIE set on the socket */
	__u8 active_disabled; /* blackhole detection: active TFO off in the netns */
	__u8 settled_by; /* enum tfo_settled_by */
	__u8 state; /* TCP state when read */
	__u8 post_syn_frame; /* a frame after the handshake left during the call */
	__u8 closed_from; /* TFO_SETTLED_STATE: the state the socket left */
	__u8 pad[5];
};

/*
 * accept() on a traced listener (TFO_EV_ACCEPT): fd is the new descriptor,
 * syn the SYN as it was received (netif_receive_skb), if it was seen.
 */
struct tfo_accept {
	__u64 child; /* the accepted socket */
	__s32 listen_fd;
	__s32 max_qlen; /* the listener's TCP_FASTOPEN queue length */
	__u8 data_acked; /* the child's syn_data_acked: SYN data taken */
	__u8 tfo_child; /* syn_fastopen_child: 1, 0, or 2 if not in this kernel */
	__u8 pad[6];
};

struct tfo_event {
	__u32 kind; /* enum tfo_event_kind */
	__u32 netns; /* inode number of the socket's network namespace */
	__u8 nonblock; /* O_NONBLOCK on the file, or MSG_DONTWAIT */
	__u8 fo_attempt; /* the call sent a SYN asking for Fast Open */
	__u8 first_write; /* first write after a TCP_FASTOPEN_CONNECT connect() */
	__u8 pad0[5];
	__u64 ts_enter_ns;
	__u64 ts_exit_ns;
	__u64 sk; /* kernel socket, to correlate; 0 if fd is not a socket */
	__u64 proto_sendmsg; /* sk->sk_socket->ops->sendmsg at the socket layer */
	__s64 ret;
	__u32 tgid;
	__u32 tid;
	__u32 syscall; /* enum tfo_syscall */
	__s32 fd;
	__u32 flags; /* flags argument at syscall entry */
	__s32 addrlen; /* address length at syscall entry */
	__u16 family; /* sa_family of that address, 0 if none */
	__u16 sock_family;
	__u16 sock_type;
	__u16 sock_protocol;
	__u8 state_at_entry; /* TCP state when the call began */
	__u8 fastopen_connect; /* TCP_FASTOPEN_CONNECT set on the socket */
	__u8 sock_seen; /* sock:sock_send_length fired for this call */
	__u8 nstates;
	__s32 sock_ret; /* its ret */
	__s32 netns_tcp_fastopen; /* net.ipv4.tcp_fastopen of the socket's netns */
	__u8 states[TFO_MAX_STATES]; /* TCP states entered during the call */
	struct tfo_libc_call libc;
	__u32 nfuncs; /* send-path functions traced during the call */
	__u32 lost_frames; /* frames deeper than TFO_MAX_DEPTH */
	struct tfo_origin origin;
	char comm[TFO_COMM_LEN];
	/*
	 * The tail: what only a TCP socket fills (the SYN and the Fast Open
	 * facts of a send, an accept()). A send record of any other socket
	 * (sock_protocol != IPPROTO_TCP, or no socket) ends before it:
	 * TFO_EVENT_HEAD_LEN bytes, the tail read as zeros.
	 */
	struct tfo_syn syn;
	struct tfo_fastopen fo;
	struct tfo_accept acc;
};

#define TFO_EVENT_HEAD_LEN __builtin_offsetof(struct tfo_event, syn)
#define TFO_IPPROTO_TCP 6

/*
 * The verdict's totals, counted in BPF where a record is emitted, whether or
 * not the ring had room for it (tfo.bpf.c count_total()): one entry of the
 * tfo_totals map per class of record. The key holds what the verdict's
 * figures are computed from, and nothing per send (no pid, fd or time).
 */
#define TFO_TOTALS_MAX 4096

enum tfo_total_bit {
	TFO_TB_FASTOPEN = 1 << 0, /* MSG_FASTOPEN in the syscall's flags */
	TFO_TB_ADDR = 1 << 1, /* an address was given (addrlen > 0) */
	TFO_TB_NONBLOCK = 1 << 2,
	TFO_TB_LIBC = 1 << 3, /* a probed libc wrapper made the call */
	TFO_TB_LIBC_CHANGED = 1 << 4, /* ...and handed other flags on */
	TFO_TB_FO_ATTEMPT = 1 << 5, /* fo_attempt */
	TFO_TB_SYN = 1 << 6, /* syn.seen */
	TFO_TB_SYN_DATA = 1 << 7, /* the SYN carried data */
	TFO_TB_ACTIVE_DISABLED = 1 << 8, /* fo.active_disabled */
	TFO_TB_ACKED = 1 << 9, /* fo.syn_data_acked, or acc.data_acked */
};

/* Where a refused send's error came from (the report's "layer"). */
enum tfo_total_layer {
	TFO_LAYER_NONE, /* not a refusal (ret >= 0) */
	TFO_LAYER_FUNCTION, /* origin.valid: origin is origin.ip */
	TFO_LAYER_SOCKET, /* sock_send_length saw it: origin is proto_sendmsg */
	TFO_LAYER_SYSCALL,
};

/* The Fast Open option of a SYN (user/tfo_report.c tfo_option()). */
enum tfo_syn_opt {
	TFO_OPT_NONE,
	TFO_OPT_REQUEST, /* an empty option: a cookie request */
	TFO_OPT_COOKIE, /* a cookie */
};

struct tfo_total_key {
	__u64 origin; /* function or protocol sendmsg address, per layer */
	__u32 netns;
	__s32 err; /* ret when negative (-errno), else 0 */
	__u16 bits; /* enum tfo_total_bit */
	__u8 kind; /* enum tfo_event_kind */
	__u8 syscall;
	__u8 layer; /* enum tfo_total_layer */
	__u8 syn_opt; /* enum tfo_syn_opt */
	__u8 client_fail;
	__u8 settled_by;
	__u8 closed_from;
	__u8 tfo_child; /* acc.tfo_child */
	__u8 pad[6];
};

struct tfo_total_val {
	__u64 count;
	__u32 tgid; /* the first process counted, as an example */
	__u32 pad;
	char comm[TFO_COMM_LEN];
};

#endif
