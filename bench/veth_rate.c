// SPDX-License-Identifier: GPL-2.0
/*
 * veth_rate: how many frames per second cross a veth pair.
 *
 *   veth_rate [-d SECONDS] [-w WARMUP_SECONDS]
 *
 * Prints {"frames": N, "seconds": S, "frames_per_s": R, "sent": M}: N frames
 * arrived on the receiving end during the S-second window that follows the
 * warmup, M frames were accepted by sendmmsg() meanwhile.
 *
 * Run it with and without a BPF tracer attached: the difference in rate is
 * what the tracer's hooks on the netif_receive_skb and net_dev_queue
 * tracepoints cost each frame. Every frame passes both: the packet socket
 * sends through dev_queue_xmit() (no PACKET_QDISC_BYPASS), which fires
 * net_dev_queue, and veth_xmit() hands it to the peer, where
 * netif_receive_skb fires. The whole path runs in the sender's syscall on one CPU
 * (netif_rx() queues each frame to that CPU's backlog, process_backlog() runs
 * on local_bh_enable()), so nothing but the hooks changes between runs.
 *
 * Process tree: the main process forks the experiment E, which moves into a
 * new network namespace and forks the sender, which moves into another one
 * (S). E creates the pair "vrate-rx" (in E) <-> "vrate-tx" (in S); the sender
 * floods "vrate-tx" from a packet socket; E reads the rx_packets counter of
 * "vrate-rx" before and after the window. Both namespaces are anonymous:
 * they vanish with the processes. PR_SET_PDEATHSIG takes each child down
 * with its parent; the main process, a subreaper, reaps both and turns
 * SIGHUP/SIGINT/SIGTERM into killing E.
 */
/* unshare(), pipe2(), sendmmsg(); also when built without -D_GNU_SOURCE. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* NOLINT(bugprone-reserved-identifier) */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "netlink.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_SECONDS 3600.0
#define RX_LINK "vrate-rx" /* in E */
#define TX_LINK "vrate-tx" /* in S */
#define ETHERTYPE 0x88B6 /* IEEE 802 local experimental ethertype 2 */
#define FRAME_LEN 60 /* the Ethernet minimum, without the FCS */
#define SEND_BATCH 64 /* frames per sendmmsg() */

struct opts {
	double duration; /* of the measured window, in seconds */
	double warmup; /* sending time before the window, in seconds */
};

/* What failed, and why: the one line the program prints on stderr. */
struct failure {
	int err; /* 0: nothing failed */
	int sig; /* the signal that killed the process @what, or 0 */
	char what[64];
};

/* Shared (MAP_SHARED | MAP_ANONYMOUS) between E and the sender. */
struct shared {
	_Atomic unsigned long long sent; /* frames sendmmsg() accepted */
};

/* E's view of the sender. */
struct sender {
	pid_t pid; /* 0: not forked (or reaped) */
	int go_fd; /* E -> sender: one byte once the link exists */
	int report_fd; /* sender -> E: a struct failure per step */
	struct shared *shared;
};

/* What the freshly forked sender starts from. */
struct sender_start {
	pid_t parent; /* E */
	int go_fd, report_fd; /* the sender's ends of struct sender's pipes */
	struct shared *shared;
};

/* One reading of the counters, and when it was taken. */
struct sample {
	unsigned long long ns, rx, sent;
};

static int fail(struct failure *f, const char *what, int err)
{
	f->err = err;
	f->sig = 0;
	snprintf(f->what, sizeof(f->what), "%s", what);
	return err;
}

static void print_failure(const struct failure *f)
{
	fprintf(stderr, "veth_rate: %s: %s\n", f->what,
		f->sig ? strsignal(f->sig) : strerror(f->err));
}

static unsigned long long seconds_to_ns(double s)
{
	return (unsigned long long)(s * (double)NSEC_PER_SEC);
}

/* ---- namespaces ---- */

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
 * Move into a new network namespace with IPv6 off: otherwise
 * addrconf_dev_config() gives each link that comes up a link-local address
 * and the kernel sends DAD, MLD and router solicitations on it. /proc/sys/net
 * shows the namespace of the opener; "default" covers links created later;
 * ENOENT: no IPv6 at all.
 */
static int enter_quiet_netns(struct failure *f)
{
	static const char *const paths[] = {
		"/proc/sys/net/ipv6/conf/all/disable_ipv6",
		"/proc/sys/net/ipv6/conf/default/disable_ipv6",
	};

	if (unshare(CLONE_NEWNET))
		return fail(f, "unshare(CLONE_NEWNET)", errno);
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		int err = sysctl_set_one(paths[i]);

		if (err && err != ENOENT)
			return fail(f, paths[i], err);
	}
	return 0;
}

/* Die with the parent @parent; if it is already gone, die now. */
static void tie_to_parent(pid_t parent)
{
	/* Sent by forget_original_parent() when the parent thread exits. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
}

/* ---- the sender (in S) ---- */

static void __attribute__((noreturn))
sender_exit(int report_fd, const struct failure *f)
{
	ssize_t n = write(report_fd, f, sizeof(*f));

	_exit(n == sizeof(*f) && !f->err ? 0 : 1);
}

/* Tell E that the last step went well. */
static void sender_report_ok(int report_fd)
{
	const struct failure ok = { 0 };

	if (write(report_fd, &ok, sizeof(ok)) != sizeof(ok))
		_exit(1);
}

/*
 * Bring TX_LINK up and open the sending socket on it. Protocol 0: no
 * receive hook is registered (packet_do_bind() skips it), so the socket
 * receives nothing. Frames take the dev_queue_xmit() path, as an
 * application's would.
 */
static int sender_socket(struct failure *f, int *fd)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct nl_sock *sk;
	int err;

	sk = nl_route_open();
	if (!sk)
		return fail(f, "netlink socket in S", errno);
	err = nl_link_up(sk, TX_LINK);
	if (err)
		fail(f, "set " TX_LINK " up", err);
	else if ((err = nl_link_ifindex(sk, TX_LINK, &sll.sll_ifindex)))
		fail(f, "ifindex of " TX_LINK, err);
	nl_route_close(sk);
	if (err)
		return err;
	*fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (*fd < 0)
		return fail(f, "packet socket", errno);
	if (bind(*fd, (struct sockaddr *)&sll, sizeof(sll)))
		return fail(f, "bind to " TX_LINK, errno);
	return 0;
}

/* Broadcast, from a locally administered address, of type ETHERTYPE. */
static void fill_frame(unsigned char *frame)
{
	static const unsigned char src[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 1 };
	struct ethhdr *eth = (struct ethhdr *)frame;

	memset(frame, 0, FRAME_LEN);
	memset(eth->h_dest, 0xff, ETH_ALEN);
	memcpy(eth->h_source, src, ETH_ALEN);
	eth->h_proto = htons(ETHERTYPE);
}

/* Send the same frame in batches until killed; return only on a failure. */
static void send_loop(struct failure *f, int fd, struct shared *shared)
{
	unsigned char frame[FRAME_LEN];
	struct iovec iov = { frame, sizeof(frame) };
	struct mmsghdr msgs[SEND_BATCH];
	unsigned long long sent = 0;

	fill_frame(frame);
	memset(msgs, 0, sizeof(msgs));
	/* No address: the socket is bound, packet_snd() uses its ifindex. */
	for (int i = 0; i < SEND_BATCH; i++)
		msgs[i].msg_hdr =
			(struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1 };
	for (;;) {
		int n = sendmmsg(fd, msgs, SEND_BATCH, 0);

		if (n > 0) {
			sent += (unsigned int)n;
			/* Only we write it: a plain store is enough. */
			atomic_store_explicit(&shared->sent, sent,
					      memory_order_relaxed);
			continue;
		}
		/*
		 * veth_xmit() returns NET_XMIT_DROP when the receiving
		 * backlog is full, which packet_snd() turns into ENOBUFS.
		 */
		if (n < 0 && (errno == ENOBUFS || errno == EINTR))
			continue;
		fail(f, "sendmmsg", n < 0 ? errno : EIO);
		return;
	}
}

/*
 * The sender's life: in S, report; wait for E to create the link; open the
 * socket, report; send until killed. Every report is a struct failure on
 * @report_fd, err 0 for success; EOF on @go_fd means E gave up.
 */
static void __attribute__((noreturn)) sender_main(struct sender_start st)
{
	struct failure f = { 0 };
	char go;
	int fd = -1;

	tie_to_parent(st.parent);
	if (enter_quiet_netns(&f))
		sender_exit(st.report_fd, &f);
	sender_report_ok(st.report_fd);
	if (read(st.go_fd, &go, 1) != 1)
		_exit(0);
	close(st.go_fd);
	if (sender_socket(&f, &fd))
		sender_exit(st.report_fd, &f);
	sender_report_ok(st.report_fd);
	send_loop(&f, fd, st.shared);
	sender_exit(st.report_fd, &f);
}

/* ---- the experiment (in E) ---- */

/* The sender ended with @status without a report: say how in @f. */
static int sender_died(struct failure *f, int status)
{
	fail(f, "sender", ECHILD);
	if (WIFSIGNALED(status))
		f->sig = WTERMSIG(status);
	return f->err;
}

/* The sender's next report into @f: 0 when it reads success. */
static int sender_wait(struct sender *s, struct failure *f)
{
	int status;
	ssize_t n;

	do
		n = read(s->report_fd, f, sizeof(*f));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return fail(f, "read the sender's report", errno);
	if (n == sizeof(*f))
		return f->err;
	/* EOF: it exited without a word. */
	while (waitpid(s->pid, &status, 0) < 0)
		if (errno != EINTR)
			return fail(f, "waitpid", errno);
	s->pid = 0;
	return sender_died(f, status);
}

static int sender_fork(struct sender *s, struct failure *f)
{
	pid_t parent = getpid();
	int go[2], report[2];

	s->shared = mmap(NULL, sizeof(*s->shared), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s->shared == MAP_FAILED) {
		s->shared = NULL;
		return fail(f, "mmap", errno);
	}
	if (pipe2(go, O_CLOEXEC))
		return fail(f, "pipe", errno);
	if (pipe2(report, O_CLOEXEC)) {
		close(go[0]);
		close(go[1]);
		return fail(f, "pipe", errno);
	}
	s->pid = fork();
	if (s->pid == 0) {
		close(go[1]);
		close(report[0]);
		sender_main((struct sender_start){ .parent = parent,
						   .go_fd = go[0],
						   .report_fd = report[1],
						   .shared = s->shared });
	}
	/* With our ends closed, a sender that dies reads as EOF. */
	close(go[0]);
	close(report[1]);
	s->go_fd = go[1];
	s->report_fd = report[0];
	if (s->pid < 0) {
		s->pid = 0;
		return fail(f, "fork", errno);
	}
	return 0;
}

/* Kill and reap the sender, if any. */
static void sender_stop(struct sender *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
			;
		s->pid = 0;
	}
	if (s->go_fd >= 0)
		close(s->go_fd);
	if (s->report_fd >= 0)
		close(s->report_fd);
	s->go_fd = s->report_fd = -1;
	if (s->shared) {
		munmap(s->shared, sizeof(*s->shared));
		s->shared = NULL;
	}
}

/*
 * Create RX_LINK <-> TX_LINK with TX_LINK in the sender's namespace (through
 * /proc/PID/ns/net, closed at once: nothing keeps S alive but the sender)
 * and bring RX_LINK up.
 */
static int create_pair(const struct sender *s, struct failure *f)
{
	char path[32];
	struct nl_sock *sk;
	int nsfd, err;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)s->pid);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return fail(f, path, errno);
	sk = nl_route_open();
	if (!sk) {
		err = fail(f, "netlink socket in E", errno);
	} else {
		err = nl_veth_create(sk, RX_LINK, TX_LINK, nsfd);
		if (err)
			fail(f, "create veth " RX_LINK, err);
		else if ((err = nl_link_up(sk, RX_LINK)))
			fail(f, "set " RX_LINK " up", err);
		nl_route_close(sk);
	}
	close(nsfd);
	return err;
}

/* Set the sender up in S, link it to E and return once it sends. */
static int sender_start(struct sender *s, struct failure *f)
{
	int err;

	err = sender_fork(s, f);
	if (!err)
		err = sender_wait(s, f);
	if (!err)
		err = create_pair(s, f);
	/* EPIPE: it died meanwhile, and sender_wait() says how. */
	if (!err && write(s->go_fd, "g", 1) != 1 && errno != EPIPE)
		err = fail(f, "start the sender", errno);
	if (!err)
		err = sender_wait(s, f);
	return err;
}

/*
 * rx_packets of @ifname in our namespace, as dev_seq_printf_stats() prints
 * it: "name: rx_bytes rx_packets ...". For a veth it counts the frames the
 * peer's veth_xmit() got accepted by netif_rx() (veth_get_stats64()).
 */
static int read_rx_packets(const char *ifname, unsigned long long *rx)
{
	FILE *file = fopen("/proc/net/dev", "re");
	char line[512];
	int err = ENODEV;

	if (!file)
		return errno;
	while (err && fgets(line, sizeof(line), file)) {
		char *colon = strchr(line, ':'), *name = line;

		if (!colon)
			continue;
		*colon = '\0';
		name += strspn(name, " ");
		if (strcmp(name, ifname) != 0)
			continue;
		err = sscanf(colon + 1, "%*u %llu", rx) == 1 ? 0 : EPROTO;
	}
	fclose(file);
	return err;
}

static int take_sample(const struct sender *s, struct sample *sm,
		       struct failure *f)
{
	int err = read_rx_packets(RX_LINK, &sm->rx);

	if (err)
		return fail(f, "rx_packets of " RX_LINK, err);
	sm->sent = atomic_load_explicit(&s->shared->sent, memory_order_relaxed);
	sm->ns = mono_ns();
	return 0;
}

/* Whether the sender is still running; if not, why it stopped, in @f. */
static int sender_check(struct sender *s, struct failure *f)
{
	int status;
	pid_t r = waitpid(s->pid, &status, WNOHANG);

	if (r == 0)
		return 0;
	if (r < 0)
		return fail(f, "waitpid", errno);
	s->pid = 0;
	/* Its last report, if any, says why it stopped. */
	if (read(s->report_fd, f, sizeof(*f)) == sizeof(*f) && f->err)
		return f->err;
	return sender_died(f, status);
}

static int measure(const struct sender *s, const struct opts *o,
		   struct sample *a, struct sample *b, struct failure *f)
{
	int err;

	sleep_until(mono_ns() + seconds_to_ns(o->warmup));
	err = take_sample(s, a, f);
	if (err)
		return err;
	sleep_until(a->ns + seconds_to_ns(o->duration));
	return take_sample(s, b, f);
}

static int print_result(const struct sample *a, const struct sample *b,
			struct failure *f)
{
	unsigned long long frames = b->rx - a->rx;
	double seconds = (double)(b->ns - a->ns) / (double)NSEC_PER_SEC;

	printf("{\"frames\": %llu, \"seconds\": %.6f, \"frames_per_s\": %.1f, \"sent\": %llu}\n",
	       frames, seconds, (double)frames / seconds, b->sent - a->sent);
	if (fflush(stdout) || ferror(stdout))
		return fail(f, "write to stdout", errno ? errno : EIO);
	return 0;
}

/* E: returns the exit code of the whole program. */
static int experiment_main(pid_t parent, const struct opts *o)
{
	struct sender s = { .go_fd = -1, .report_fd = -1 };
	struct failure f = { 0 };
	struct sample a, b;
	int err;

	tie_to_parent(parent);
	/* Writes to a dead sender's pipe fail with EPIPE instead. */
	signal(SIGPIPE, SIG_IGN);
	err = enter_quiet_netns(&f);
	if (!err)
		err = sender_start(&s, &f);
	if (!err) {
		err = measure(&s, o, &a, &b, &f);
		/*
		 * A dead sender explains a failed reading too: its namespace
		 * goes with it, and default_device_exit_batch() then deletes
		 * the pair, our end included (veth_dellink()).
		 */
		if (sender_check(&s, &f))
			err = f.err;
	}
	sender_stop(&s);
	if (!err)
		err = print_result(&a, &b, &f);
	if (err) {
		print_failure(&f);
		return 1;
	}
	return 0;
}

/* ---- the main process ---- */

static void usage(void)
{
	printf("usage: veth_rate [-d SECONDS] [-w WARMUP_SECONDS]\n"
	       "  -d  length of the measured window (default 1.0)\n"
	       "  -w  sending time before the window (default 0.2)\n");
}

/* A number of seconds in [@min, MAX_SECONDS]; @min itself only if @min_ok. */
static int parse_seconds(const char *arg, double min, int min_ok, double *s)
{
	char *end;

	errno = 0;
	*s = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(*s))
		return -1;
	if (*s < min || (*s == min && !min_ok) || *s > MAX_SECONDS)
		return -1;
	return 0;
}

static pid_t experiment; /* E, for on_stop_signal() */
static volatile sig_atomic_t stop_signal;
static const int stop_signals[] = { SIGHUP, SIGINT, SIGTERM };

/*
 * End E at once; the sender follows it (PR_SET_PDEATHSIG), main() reaps both
 * and then dies of the same signal.
 */
static void on_stop_signal(int sig)
{
	stop_signal = sig;
	kill(experiment, SIGKILL);
}

static void stop_signal_set(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < ARRAY_SIZE(stop_signals); i++)
		sigaddset(set, stop_signals[i]);
}

static void catch_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal }, old;

	for (size_t i = 0; i < ARRAY_SIZE(stop_signals); i++) {
		/* One ignored by whoever started us stays ignored. */
		if (!sigaction(stop_signals[i], NULL, &old) &&
		    old.sa_handler != SIG_IGN)
			sigaction(stop_signals[i], &sa, NULL);
	}
}

/*
 * Reap E and, as its subreaper, the sender if E died first; return E's exit
 * code, or 1 if it was killed.
 */
static int reap_experiment(void)
{
	int status, code = 1;
	pid_t r;

	while ((r = waitpid(-1, &status, 0)) > 0 || errno == EINTR) {
		if (r != experiment)
			continue;
		if (WIFEXITED(status))
			code = WEXITSTATUS(status);
		else if (!stop_signal)
			fprintf(stderr, "veth_rate: experiment process: %s\n",
				strsignal(WTERMSIG(status)));
	}
	return code;
}

/* Run E to its end: the program's exit code. */
static int run_experiment(const struct opts *o)
{
	pid_t parent = getpid();
	sigset_t stops, mask;
	int code;

	/* PR_SET_CHILD_SUBREAPER: orphans of E are reparented to us. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	fflush(stdout);
	/* Blocked until on_stop_signal() knows whom to kill. */
	stop_signal_set(&stops);
	sigprocmask(SIG_BLOCK, &stops, &mask);
	experiment = fork();
	if (experiment == 0) {
		sigprocmask(SIG_SETMASK, &mask, NULL);
		exit(experiment_main(parent, o));
	}
	if (experiment < 0) {
		fprintf(stderr, "veth_rate: fork: %s\n", strerror(errno));
		return 1;
	}
	catch_stop_signals();
	sigprocmask(SIG_SETMASK, &mask, NULL);
	code = reap_experiment();
	if (stop_signal) {
		signal(stop_signal, SIG_DFL);
		raise(stop_signal);
	}
	return code;
}

int main(int argc, char **argv)
{
	struct opts o = { .duration = 1.0, .warmup = 0.2 };
	int opt;

	while ((opt = getopt(argc, argv, "d:w:h")) != -1) {
		switch (opt) {
		case 'd':
			if (parse_seconds(optarg, 0.0, 0, &o.duration))
				goto bad_value;
			break;
		case 'w':
			if (parse_seconds(optarg, 0.0, 1, &o.warmup))
				goto bad_value;
			break;
		case 'h':
			usage();
			return 0;
		default:
			goto bad_args; /* getopt() said why */
		}
	}
	if (optind != argc) {
		fprintf(stderr, "veth_rate: unexpected argument: %s\n",
			argv[optind]);
		goto bad_args;
	}
	return run_experiment(&o);

bad_value:
	fprintf(stderr,
		"veth_rate: -%c: not a number of seconds in range: %s\n", opt,
		optarg);
bad_args:
	fprintf(stderr, "usage: veth_rate [-d SECONDS] [-w WARMUP_SECONDS]\n");
	return 2;
}
