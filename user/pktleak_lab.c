// SPDX-License-Identifier: GPL-2.0
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "netlink.h"
#include "pktleak_lab.h"
#include "runtime.h"

#define TICK_NS 1000000ULL /* the sender's pacing period: 1 ms */
#define SEND_BATCH 64 /* frames per sendmmsg() */

/* One veth pair: @name in the experiment namespace, @peer in the sender's. */
struct lab_pair {
	const char *name, *peer;
};

static const struct lab_pair target_pair = { "target", "target-peer" };
static const struct lab_pair noise_pair = { "noise", "noise-peer" };

/* The two namespaces while they are built, and a route socket in each. */
struct lab_ns {
	int exp_fd, snd_fd; /* /proc/thread-self/ns/net of E and S */
	struct nl_sock *exp_sk, *snd_sk;
};

enum { FLOW_NOISE, FLOW_TARGET, NR_FLOWS };

/* One paced stream of frames out of one peer. */
struct flow {
	const char *tag;
	unsigned char src_last; /* last byte of the source MAC */
	unsigned int rate; /* frames/s, 0: none */
	int ifindex; /* the peer, in S */
	_Atomic unsigned long long *sent;
	unsigned long long seq; /* frames consumed (sent or dropped) so far */
	unsigned long long forgiven; /* frames never sent, over the tick cap */
};

struct sender {
	int fd; /* AF_PACKET socket in S */
	struct lab_counters *c;
	struct flow flows[NR_FLOWS];
};

/* What the freshly forked sender starts from. */
struct sender_start {
	pid_t parent; /* the caller of lab_setup() */
	int netns_fd; /* S */
	int report_fd; /* write end of the pipe to wait_running() */
};

/* ---- namespaces and links (the caller) ---- */

/* Write "1" to the sysctl file at @path. */
static int sysctl_set_one(const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return errno;
	if (write(fd, "1", 1) != 1)
		err = errno;
	close(fd);
	return err;
}

/*
 * With IPv6 on, addrconf_dev_config() gives every link that comes up a
 * link-local address, and the kernel then sends DAD, MLD reports and router
 * solicitations on it. /proc/sys/net shows the namespace of the thread that
 * opens it. "default" covers links created later; ENOENT: no IPv6 at all.
 */
static int disable_ipv6(void)
{
	static const char *const paths[] = {
		"/proc/sys/net/ipv6/conf/all/disable_ipv6",
		"/proc/sys/net/ipv6/conf/default/disable_ipv6",
	};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		int err = sysctl_set_one(paths[i]);

		if (err && err != ENOENT)
			return err;
	}
	return 0;
}

/* Move into a new network namespace; return it as @fd plus a route @sk. */
static int enter_new_netns(int *fd, struct nl_sock **sk)
{
	int err;

	if (unshare(CLONE_NEWNET))
		return errno;
	err = disable_ipv6();
	if (err)
		return err;
	/* thread-self: unshare() moved this thread only. */
	*fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return errno;
	*sk = nl_route_open();
	return *sk ? 0 : errno;
}

/* Create E then S, ending in E; each keeps its socket and fd in @ns. */
static int enter_namespaces(struct lab_ns *ns)
{
	int err;

	err = enter_new_netns(&ns->exp_fd, &ns->exp_sk);
	if (!err)
		err = enter_new_netns(&ns->snd_fd, &ns->snd_sk);
	if (!err && setns(ns->exp_fd, CLONE_NEWNET))
		err = errno;
	return err;
}

static void close_sockets(struct lab_ns *ns)
{
	nl_route_close(ns->exp_sk);
	nl_route_close(ns->snd_sk);
	ns->exp_sk = ns->snd_sk = NULL;
}

static void close_namespaces(struct lab_ns *ns)
{
	close_sockets(ns);
	if (ns->exp_fd >= 0)
		close(ns->exp_fd);
	if (ns->snd_fd >= 0)
		close(ns->snd_fd);
	ns->exp_fd = ns->snd_fd = -1;
}

/*
 * Create @p with its peer in S and bring both ends up; return the ifindex of
 * each end in its own namespace.
 */
static int build_pair(const struct lab_ns *ns, const struct lab_pair *p,
		      int *ifindex, int *peer_ifindex)
{
	int err;

	err = nl_veth_create(ns->exp_sk, p->name, p->peer, ns->snd_fd);
	if (!err)
		err = nl_link_up(ns->snd_sk, p->peer);
	if (!err)
		err = nl_link_up(ns->exp_sk, p->name);
	if (!err)
		err = nl_link_ifindex(ns->exp_sk, p->name, ifindex);
	if (!err)
		err = nl_link_ifindex(ns->snd_sk, p->peer, peer_ifindex);
	return err;
}

static int build_links(struct lab *lab, const struct lab_ns *ns,
		       struct sender *s)
{
	int err;

	err = build_pair(ns, &noise_pair, &lab->noise_ifindex,
			 &s->flows[FLOW_NOISE].ifindex);
	if (!err)
		err = build_pair(ns, &target_pair, &lab->target_ifindex,
				 &s->flows[FLOW_TARGET].ifindex);
	if (err)
		return err;
	strcpy(lab->noise_ifname, noise_pair.name);
	strcpy(lab->target_ifname, target_pair.name);
	return 0;
}

/* ---- the sender (a child, in S) ---- */

/* floor(@rate * @ns / 1e9) without overflowing 64 bits. */
static unsigned long long frames_due(unsigned int rate, unsigned long long ns)
{
	return ns / NSEC_PER_SEC * rate +
	       ns % NSEC_PER_SEC * rate / NSEC_PER_SEC;
}

static void fill_frame(struct lab_frame *fr, const struct flow *f,
		       unsigned long long seq)
{
	static const unsigned char src[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0 };

	memset(fr, 0, sizeof(*fr));
	memset(fr->eth.ether_dhost, 0xff, ETH_ALEN);
	memcpy(fr->eth.ether_shost, src, ETH_ALEN);
	fr->eth.ether_shost[ETH_ALEN - 1] = f->src_last;
	fr->eth.ether_type = htobe16(LAB_ETHERTYPE);
	strncpy(fr->magic, LAB_MAGIC, sizeof(fr->magic));
	strncpy(fr->tag, f->tag, sizeof(fr->tag));
	fr->seq = htobe64(seq);
}

/*
 * Send up to @n frames of @f in one sendmmsg(). Returns how many frames it
 * consumed (sent, or refused and skipped), or -1 on a fatal error.
 */
static int send_batch(struct sender *s, struct flow *f, unsigned int n)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET,
				  .sll_protocol = htobe16(LAB_ETHERTYPE),
				  .sll_ifindex = f->ifindex,
				  .sll_halen = ETH_ALEN };
	struct lab_frame frames[SEND_BATCH];
	struct mmsghdr msgs[SEND_BATCH];
	struct iovec iov[SEND_BATCH];
	int r;

	memset(to.sll_addr, 0xff, ETH_ALEN);
	memset(msgs, 0, sizeof(msgs[0]) * n);
	for (unsigned int i = 0; i < n; i++) {
		fill_frame(&frames[i], f, f->seq + i);
		iov[i] = (struct iovec){ &frames[i], sizeof(frames[i]) };
		msgs[i].msg_hdr = (struct msghdr){ .msg_name = &to,
						   .msg_namelen = sizeof(to),
						   .msg_iov = &iov[i],
						   .msg_iovlen = 1 };
	}
	r = sendmmsg(s->fd, msgs, n, 0);
	if (r >= 0) {
		atomic_fetch_add_explicit(f->sent, (unsigned int)r,
					  memory_order_relaxed);
		return r;
	}
	if (errno == EINTR)
		return 0;
	/*
	 * veth_xmit() returns NET_XMIT_DROP when the receiving side's
	 * backlog is full, which packet_snd() turns into ENOBUFS.
	 */
	if (errno != ENOBUFS)
		return -1;
	atomic_fetch_add_explicit(&s->c->dropped, 1, memory_order_relaxed);
	return 1;
}

static void send_frames(struct sender *s, struct flow *f, unsigned long long n)
{
	while (n) {
		int r = send_batch(
			s, f, n < SEND_BATCH ? (unsigned int)n : SEND_BATCH);

		if (r < 0)
			_exit(1);
		f->seq += (unsigned int)r;
		n -= (unsigned int)r;
	}
}

/* Send what @f owes at @elapsed ns, at most 10 ms' worth (plus 64). */
static void pace_flow(struct sender *s, struct flow *f,
		      unsigned long long elapsed)
{
	unsigned long long due, cap = f->rate / 100 + 64;

	if (!f->rate)
		return;
	due = frames_due(f->rate, elapsed) - f->forgiven;
	if (due <= f->seq)
		return;
	if (due - f->seq > cap) {
		/* After a stall, forgive the backlog rather than burst it. */
		f->forgiven += due - f->seq - cap;
		due = f->seq + cap;
	}
	send_frames(s, f, due - f->seq);
}

static void __attribute__((noreturn)) sender_loop(struct sender *s)
{
	unsigned long long start = mono_ns(), next = start;

	for (;;) {
		unsigned long long now;

		next += TICK_NS;
		sleep_until(next);
		for (int i = 0; i < NR_FLOWS; i++)
			pace_flow(s, &s->flows[i], mono_ns() - start);
		/* Fell behind by a tick or more: skip the missed ticks. */
		now = mono_ns();
		if (now >= next + TICK_NS)
			next = now;
	}
}

/* Close every descriptor except @a and @b (the sender inherits them all). */
static void close_other_fds(int a, int b)
{
	unsigned int lo = (unsigned int)(a < b ? a : b);
	unsigned int hi = (unsigned int)(a < b ? b : a);

	if (lo > 0)
		close_range(0, lo - 1, 0);
	if (hi > lo + 1)
		close_range(lo + 1, hi - 1, 0);
	close_range(hi + 1, ~0U, 0);
}

static void __attribute__((noreturn)) sender_fail(int report_fd, int err)
{
	if (write(report_fd, &err, sizeof(err)) < 0)
		_exit(1);
	_exit(1);
}

/*
 * The sender's life: tied to the caller's, in S, with one packet socket of
 * protocol 0, which packet_create() hooks into no receive path, so it
 * receives nothing.
 */
static void __attribute__((noreturn))
sender_main(struct sender *s, struct sender_start st)
{
	int ok = 0;

	/*
	 * Sent by forget_original_parent() when the caller (the thread that
	 * forked us) exits; if it already has, we were reparented and no
	 * signal will come.
	 */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != st.parent)
		_exit(1);
	/*
	 * An inherited descriptor stays open as long as the sender lives:
	 * e.g. the end of a pipe whose EOF the tracer waits for.
	 */
	close_other_fds(st.netns_fd, st.report_fd);
	if (setns(st.netns_fd, CLONE_NEWNET))
		sender_fail(st.report_fd, errno);
	close(st.netns_fd);
	s->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		sender_fail(st.report_fd, errno);
	atomic_store(&s->c->running, 1);
	if (write(st.report_fd, &ok, sizeof(ok)) != sizeof(ok))
		_exit(1);
	close(st.report_fd);
	sender_loop(s);
}

/* The sender's report: 0 once it runs, an errno, or EOF if it died. */
static int wait_running(int report_fd)
{
	ssize_t n;
	int err;

	do
		n = read(report_fd, &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno;
	return n == sizeof(err) ? err : ECHILD;
}

static int start_sender(struct lab *lab, struct sender *s, int netns_fd)
{
	pid_t parent = getpid();
	int report[2], err;

	if (pipe2(report, O_CLOEXEC))
		return errno;
	lab->sender = tracer_fork();
	if (lab->sender == 0) {
		close(report[0]);
		sender_main(s, (struct sender_start){ .parent = parent,
						      .netns_fd = netns_fd,
						      .report_fd = report[1] });
	}
	err = lab->sender < 0 ? errno : 0;
	/* With our write end closed, a sender that dies reads as EOF. */
	close(report[1]);
	if (lab->sender < 0)
		lab->sender = 0;
	else
		err = wait_running(report[0]);
	close(report[0]);
	return err;
}

/* ---- API ---- */

static bool opts_valid(const struct lab_opts *o)
{
	return o->noise_rate >= 1 && o->noise_rate <= LAB_RATE_MAX &&
	       o->target_rate <= LAB_RATE_MAX;
}

int lab_setup(struct lab *lab, const struct lab_opts *o)
{
	struct lab_ns ns = { .exp_fd = -1, .snd_fd = -1 };
	struct sender s = {
		.flows[FLOW_NOISE] = { .tag = "noise",
				       .src_last = 1,
				       .rate = o->noise_rate },
		.flows[FLOW_TARGET] = { .tag = "target",
					.src_last = 2,
					.rate = o->target_rate },
	};
	void *c;
	int err;

	memset(lab, 0, sizeof(*lab));
	if (!opts_valid(o))
		return EINVAL;
	c = mmap(NULL, sizeof(*lab->counters), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED)
		return errno;
	lab->counters = s.c = c;
	s.flows[FLOW_NOISE].sent = &lab->counters->noise_sent;
	s.flows[FLOW_TARGET].sent = &lab->counters->target_sent;
	err = enter_namespaces(&ns);
	if (!err)
		err = build_links(lab, &ns, &s);
	/* Before fork(): the sender needs none of them but S's fd. */
	close_sockets(&ns);
	if (!err)
		err = start_sender(lab, &s, ns.snd_fd);
	close_namespaces(&ns);
	if (err)
		lab_teardown(lab);
	return err;
}

void lab_teardown(struct lab *lab)
{
	if (lab->sender > 0) {
		kill(lab->sender, SIGKILL);
		while (waitpid(lab->sender, NULL, 0) < 0 && errno == EINTR)
			;
		lab->sender = 0;
	}
	if (lab->counters) {
		munmap(lab->counters, sizeof(*lab->counters));
		lab->counters = NULL;
	}
}
