// SPDX-License-Identifier: GPL-2.0
/*
 * The experiment child: for each strategy, open a packet socket the way the
 * strategy says, wait the gap, bind it to the target interface, apply the
 * strategy's after-bind step, and read for a window. Each step is announced
 * to the tracer, which acknowledges once it has snapshotted the BPF counts,
 * so the counts of every phase are exact.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pktleak_exp.h"
#include "pktleak_lab.h"

const struct strategy strategies[PKT_NSTRATEGIES] = {
	[STRAT_ALL_THEN_BIND] = { "eth_p_all_then_bind", "ETH_P_ALL, then bind",
				  "socket(ETH_P_ALL), bind (the report's template)" },
	[STRAT_DRAIN] = { "drain_after_bind", "ETH_P_ALL, bind, drain",
			  "as 1, then recv(MSG_DONTWAIT) up to SO_RCVBUF/2 bytes (the report's fix)" },
	[STRAT_PROTO0] = { "protocol_0_then_bind", "protocol 0, bind ETH_P_ALL",
			   "socket(0), bind with ETH_P_ALL (libpcap 1.10+)" },
	[STRAT_FILTER] = { "drop_filter_drain", "drop-all filter, drain",
			   "socket(ETH_P_ALL), drop-all filter, bind, drain, real filter (libpcap set_kernel_filter)" },
	[STRAT_RING] = { "rx_ring", "PACKET_RX_RING",
			 "socket(ETH_P_ALL), TPACKET_V2 ring, bind, read the ring (tpacket_rcv)" },
	[STRAT_LATE_FILTER] = { "filter_after_bind", "ETH_P_ALL, bind, filter",
				"socket(ETH_P_ALL), bind, the target-flow filter FILTER_GAP later (dhclient)" },
};

#define FRAME_BUF 2048
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
/* TPACKET_V2 ring: 4 blocks of 1 MiB, 2 KiB frames (2048 frames). */
#define RING_BLOCK_SIZE (1u << 20)
#define RING_BLOCKS 4u
#define RING_FRAME_SIZE 2048u

struct exp_socket {
	int fd;
	int ifindex; /* the interface it is bound to */
	void *ring; /* PACKET_RX_RING mapping, or NULL */
	size_t ring_len;
	unsigned int ring_pos;
};

struct exp_child {
	const struct exp_opts *o;
	int msg_fd, ack_fd;
	int ifindex; /* the interface every socket binds to */
	struct lab lab;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t deadline_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(deadline_ns / 1000000000ull),
		.tv_nsec = (long)(deadline_ns % 1000000000ull),
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

/* Tell the tracer, and wait until it has taken its snapshot. */
static int announce(struct exp_child *c, struct exp_msg *m)
{
	char ack;

	m->ts_ns = now_ns();
	if (c->lab.counters) {
		m->noise_sent = c->lab.counters->noise_sent;
		m->target_sent = c->lab.counters->target_sent;
	}
	if (write(c->msg_fd, m, sizeof(*m)) != (ssize_t)sizeof(*m))
		return EPIPE;
	return read(c->ack_fd, &ack, 1) == 1 ? 0 : EPIPE;
}

/* ------------------------------------------------------ socket set-up */

static int set_filter(int fd, struct sock_filter *insns, unsigned short len)
{
	struct sock_fprog prog = { .len = len, .filter = insns };

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
			  sizeof(prog)) ?
		       errno :
		       0;
}

static int attach_filter(int fd, bool accept)
{
	/* "ret #0" drops every frame; "ret #-1" keeps all of it. */
	struct sock_filter insn = BPF_STMT(BPF_RET | BPF_K, accept ? ~0u : 0);

	return set_filter(fd, &insn, 1);
}

/*
 * A program's own filter, as dhclient's selects DHCP: keep the lab's target
 * flow only (LAB_ETHERTYPE from source 02:00:00:00:00:02, see pktleak_lab.c).
 */
static int attach_target_filter(int fd)
{
	struct sock_filter insns[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12), /* ethertype */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, LAB_ETHERTYPE, 0, 5),
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6), /* source MAC */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x0200, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 8),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x00000002, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, ~0u),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};

	return set_filter(fd, insns, ARRAY_LEN(insns));
}

/* packet_set_ring(): a TPACKET_V2 receive ring, mapped. */
static int setup_ring(struct exp_socket *es)
{
	struct tpacket_req req = {
		.tp_block_size = RING_BLOCK_SIZE,
		.tp_block_nr = RING_BLOCKS,
		.tp_frame_size = RING_FRAME_SIZE,
		.tp_frame_nr =
			RING_BLOCKS * (RING_BLOCK_SIZE / RING_FRAME_SIZE),
	};
	int version = TPACKET_V2;

	if (setsockopt(es->fd, SOL_PACKET, PACKET_VERSION, &version,
		       sizeof(version)) ||
	    setsockopt(es->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)))
		return errno;
	es->ring_len = (size_t)RING_BLOCK_SIZE * RING_BLOCKS;
	es->ring = mmap(NULL, es->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED,
			es->fd, 0);
	if (es->ring == MAP_FAILED) {
		es->ring = NULL;
		return errno;
	}
	return 0;
}

static int open_socket(enum strategy_id id, struct exp_socket *es,
		       uint64_t *cost_ns)
{
	int proto = id == STRAT_PROTO0 ? 0 : htons(ETH_P_ALL);
	uint64_t t0;
	int err = 0;

	memset(es, 0, sizeof(*es));
	es->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, proto);
	if (es->fd < 0)
		return errno;
	t0 = now_ns();
	if (id == STRAT_FILTER)
		err = attach_filter(es->fd, false);
	else if (id == STRAT_RING)
		err = setup_ring(es);
	*cost_ns += now_ns() - t0;
	return err;
}

static int bind_socket(struct exp_socket *es, int ifindex)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = ifindex,
	};

	es->ifindex = ifindex;
	return bind(es->fd, (struct sockaddr *)&sll, sizeof(sll)) ? errno : 0;
}

static void close_socket(struct exp_socket *es)
{
	if (es->ring)
		munmap(es->ring, es->ring_len);
	if (es->fd >= 0)
		close(es->fd);
	es->fd = -1;
	es->ring = NULL;
}

/* ------------------------------------------------------------ reading */

/* One frame without waiting: 1, 0 when the queue is empty, or -errno. */
static int recv_one(int fd, int *ifindex, size_t *len)
{
	static char buf[FRAME_BUF];
	struct sockaddr_ll from;
	socklen_t fromlen = sizeof(from);
	ssize_t n;

	n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
		     (struct sockaddr *)&from, &fromlen);
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	*ifindex = from.sll_ifindex;
	*len = (size_t)n;
	return 1;
}

/*
 * The field report's drain: recv(MSG_DONTWAIT) until the queue is empty or
 * SO_RCVBUF/2 bytes were read. recvfrom() only adds the address, so the
 * frames the drain throws away can be told apart.
 */
static int drain(const struct exp_socket *es, size_t limit,
		 struct reader_counts *rc)
{
	size_t total = 0, len;
	int r, from;

	while (total < limit) {
		r = recv_one(es->fd, &from, &len);
		if (r <= 0)
			return -r;
		total += len;
		rc->drained++;
		rc->drained_target += from == es->ifindex;
	}
	return 0;
}

static size_t half_rcvbuf(int fd)
{
	int rcvbuf = 0;
	socklen_t len = sizeof(rcvbuf);

	getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len);
	return rcvbuf > 0 ? (size_t)rcvbuf / 2 : 0;
}

/* What each strategy does right after bind(). */
static int after_bind(enum strategy_id id, const struct exp_socket *es,
		      const struct exp_opts *o, struct exp_msg *m)
{
	uint64_t t0 = now_ns();
	int err = 0;

	if (id == STRAT_LATE_FILTER) {
		/* dhclient: the filter comes some ms after bind() */
		sleep_until(t0 + (uint64_t)o->filter_gap_ms * 1000000ull);
		t0 = now_ns();
		err = attach_target_filter(es->fd);
	}

	if (id == STRAT_DRAIN)
		err = drain(es, half_rcvbuf(es->fd), &m->reader);
	if (id == STRAT_FILTER) {
		/* set_kernel_filter(): drain under the drop-all filter */
		err = drain(es, SIZE_MAX, &m->reader);
		if (!err)
			err = attach_filter(es->fd, true);
	}
	m->cost_ns += now_ns() - t0;
	return err;
}

static void count_read(struct reader_counts *rc, int from, int ifindex)
{
	rc->read++;
	rc->leaked += from != ifindex;
}

static int read_queue(const struct exp_socket *es, struct reader_counts *rc)
{
	size_t len;
	int r, from;

	while ((r = recv_one(es->fd, &from, &len)) > 0)
		count_read(rc, from, es->ifindex);
	return -r;
}

/* Hand every frame the kernel has filled back to it, in ring order. */
static void read_ring(struct exp_socket *es, struct reader_counts *rc)
{
	const unsigned int frames =
		RING_BLOCKS * (RING_BLOCK_SIZE / RING_FRAME_SIZE);

	for (;;) {
		struct tpacket2_hdr *h =
			(void *)((char *)es->ring +
				 (size_t)es->ring_pos * RING_FRAME_SIZE);
		const struct sockaddr_ll *sll;

		if (!(__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) &
		      TP_STATUS_USER))
			return;
		sll = (const void *)((char *)h + TPACKET_ALIGN(sizeof(
							 struct tpacket2_hdr)));
		count_read(rc, sll->sll_ifindex, es->ifindex);
		__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL,
				 __ATOMIC_RELEASE);
		es->ring_pos = (es->ring_pos + 1) % frames;
	}
}

static int read_window(struct exp_socket *es, unsigned int window_ms,
		       struct reader_counts *rc)
{
	uint64_t end = now_ns() + (uint64_t)window_ms * 1000000ull;
	struct pollfd p = { .fd = es->fd, .events = POLLIN };
	int err = 0;

	for (;;) {
		uint64_t now = now_ns();

		if (es->ring)
			read_ring(es, rc);
		else
			err = read_queue(es, rc);
		if (err || now >= end)
			return err;
		poll(&p, 1, (int)((end - now + 999999) / 1000000));
	}
}

/* ----------------------------------------------------------- strategies */

static int run_strategy(struct exp_child *c, enum strategy_id id, int run)
{
	struct exp_msg m = { .strategy = id, .run = run };
	struct exp_socket es;
	uint64_t opened;
	int err;

	err = open_socket(id, &es, &m.cost_ns);
	opened = now_ns();
	m.fd = es.fd;
	m.phase = EXP_SOCKET;
	if (!err)
		err = announce(c, &m);
	if (!err) {
		sleep_until(opened + (uint64_t)c->o->gap_ms * 1000000ull);
		err = bind_socket(&es, c->ifindex);
	}
	m.phase = EXP_BOUND;
	if (!err)
		err = announce(c, &m);
	if (!err)
		err = after_bind(id, &es, c->o, &m);
	m.phase = EXP_DRAINED;
	if (!err)
		err = announce(c, &m);
	if (!err)
		err = read_window(&es, c->o->window_ms, &m.reader);
	m.phase = EXP_DONE;
	m.err = err;
	if (announce(c, &m) && !err)
		err = EPIPE;
	close_socket(&es);
	return err;
}

static int run_all(struct exp_child *c)
{
	for (unsigned int run = 0; run < c->o->repeat; run++)
		for (int id = 0; id < PKT_NSTRATEGIES; id++) {
			int err;

			if (!(c->o->strategy_mask & (1u << id)))
				continue;
			err = run_strategy(c, id, (int)run);
			if (err)
				return err;
		}
	return 0;
}

static int set_up_network(struct exp_child *c, struct exp_msg *m)
{
	struct lab_opts lo = { .noise_rate = c->o->rate,
			       .target_rate = c->o->target_rate };
	int err;

	if (c->o->ifname) {
		c->ifindex = (int)if_nametoindex(c->o->ifname);
		if (!c->ifindex)
			return errno;
		m->target_ifindex = c->ifindex;
		snprintf(m->target_ifname, sizeof(m->target_ifname), "%s",
			 c->o->ifname);
		return 0;
	}
	err = lab_setup(&c->lab, &lo);
	if (err)
		return err;
	c->ifindex = c->lab.target_ifindex;
	m->target_ifindex = c->lab.target_ifindex;
	m->noise_ifindex = c->lab.noise_ifindex;
	memcpy(m->target_ifname, c->lab.target_ifname, EXP_IFNAMSIZ);
	memcpy(m->noise_ifname, c->lab.noise_ifname, EXP_IFNAMSIZ);
	return 0;
}

int exp_child(void *arg, int err_fd)
{
	const struct exp_link *link = arg;
	struct exp_child c = { .o = link->opts,
			       .msg_fd = link->msg_fd,
			       .ack_fd = link->ack_fd };
	struct exp_msg m = { .phase = EXP_READY };
	int err = set_up_network(&c, &m);

	if (err) {
		if (write(err_fd, &err, sizeof(err)) < 0)
			return 1;
		return 1;
	}
	close(err_fd); /* tells target_release() that set-up worked */
	err = announce(&c, &m);
	if (!err)
		err = run_all(&c);
	lab_teardown(&c.lab);
	return err ? 1 : 0;
}
