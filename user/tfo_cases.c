// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tfo_cases.h"

#define PAYLOAD "tracer tfo probe"
#define PAYLOAD_LEN (sizeof(PAYLOAD) - 1)
/*
 * net.ipv4.tcp_fastopen bits: 1 client, 2 server, 0x4 client sends data
 * without a cookie (TFO_CLIENT_NO_COOKIE), 0x200 server takes data without
 * one (TFO_SERVER_COOKIE_NOT_REQD).
 */
#define TFO_CLIENT_AND_SERVER "3"
#define TFO_SERVER_ONLY "2"
#define TFO_NO_COOKIES "519" /* 0x207 */
/* Wait this long for a nonblocking connect to finish before closing. */
#define CONNECT_WAIT_MS 1000
#define LISTEN_QLEN 16 /* TCP_FASTOPEN queue of the investigation's listener */

struct case_ctx {
	struct sockaddr_in v4; /* the Fast Open listener (any 127.0.0.0/8) */
	struct sockaddr_in6 v6;
	struct sockaddr_in refuse; /* a listener without TCP_FASTOPEN */
	int listen_fd; /* the Fast Open listener on 127.0.0.0/8 */
};

struct call_result {
	long ret;
	int err;
};

static struct call_result result_of(long ret)
{
	return (struct call_result){ .ret = ret, .err = ret < 0 ? errno : 0 };
}

static int tcp_socket(int family)
{
	return socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

static struct msghdr payload_msg(struct iovec *iov, const void *name,
				 socklen_t namelen)
{
	iov->iov_base = (void *)PAYLOAD;
	iov->iov_len = PAYLOAD_LEN;
	return (struct msghdr){ .msg_name = (void *)name,
				.msg_namelen = namelen,
				.msg_iov = iov,
				.msg_iovlen = 1 };
}

/* One way of sending, on a fresh socket @fd; returns the call's result. */
typedef long (*send_fn)(int fd, const struct case_ctx *c);

/* Run @send on a fresh socket of @family and @type, then close it. */
static struct call_result on_fresh_socket(int family, int type, send_fn send,
					  const struct case_ctx *c)
{
	int fd = socket(family, type | SOCK_CLOEXEC, 0);
	struct call_result r;

	if (fd < 0)
		return result_of(-1);
	r = result_of(send(fd, c));
	close(fd);
	return r;
}

static long sendto_addr(int fd, const struct case_ctx *c)
{
	return sendto(fd, PAYLOAD, PAYLOAD_LEN, MSG_FASTOPEN,
		      (const struct sockaddr *)&c->v4, sizeof(c->v4));
}

static long sendmsg_noaddr(int fd, const struct case_ctx *c)
{
	struct iovec iov;
	struct msghdr m = payload_msg(&iov, NULL, 0);

	(void)c;
	return sendmsg(fd, &m, MSG_FASTOPEN);
}

static long sendmsg_addr(int fd, const struct case_ctx *c)
{
	struct iovec iov;
	struct msghdr m = payload_msg(&iov, &c->v4, sizeof(c->v4));

	return sendmsg(fd, &m, MSG_FASTOPEN);
}

static long send_noaddr(int fd, const struct case_ctx *c)
{
	(void)c;
	return send(fd, PAYLOAD, PAYLOAD_LEN, MSG_FASTOPEN);
}

static long connect_then_sendmsg(int fd, const struct case_ctx *c)
{
	struct iovec iov;
	struct msghdr m = payload_msg(&iov, NULL, 0);

	if (connect(fd, (const struct sockaddr *)&c->v4, sizeof(c->v4)))
		return -1;
	return sendmsg(fd, &m, 0);
}

static long raw_sendmsg_noaddr(int fd, const struct case_ctx *c)
{
	struct iovec iov;
	struct msghdr m = payload_msg(&iov, NULL, 0);

	(void)c;
	return syscall(SYS_sendmsg, fd, &m, MSG_FASTOPEN);
}

/* net.ipv4.tcp_fastopen of the namespace this process is in */
static int set_tcp_fastopen(const char *value)
{
	int fd = open("/proc/sys/net/ipv4/tcp_fastopen", O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, value, strlen(value));
	close(fd);
	return n < 0 ? -1 : 0;
}

static long connect_then_sendto(int fd, const struct case_ctx *c)
{
	if (connect(fd, (const struct sockaddr *)&c->v4, sizeof(c->v4)))
		return -1;
	return sendto_addr(fd, c);
}

/* Ruby's client passed a descriptor along: SCM_RIGHTS, no destination. */
static long sendmsg_with_rights(int fd, const struct case_ctx *c)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control = {};
	struct iovec iov;
	struct msghdr m = payload_msg(&iov, NULL, 0);
	struct cmsghdr *cm;

	(void)c;
	m.msg_control = control.buf;
	m.msg_controllen = sizeof(control.buf);
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(fd, &m, MSG_FASTOPEN);
}

/* TCP_FASTOPEN_CONNECT: connect() returns at once, write() sends the SYN. */
static long fastopen_connect_write(int fd, const struct case_ctx *c)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &one,
		       sizeof(one)))
		return -1;
	if (connect(fd, (const struct sockaddr *)&c->v4, sizeof(c->v4)))
		return -1;
	return write(fd, PAYLOAD, PAYLOAD_LEN);
}

/* The Fast Open listener's port on another loopback address: one this
 * namespace has no cookie for yet (tcp_metrics caches them per address). */
static struct sockaddr_in loopback_addr(const struct case_ctx *c, int last)
{
	struct sockaddr_in to = c->v4;

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK + (uint32_t)last - 1);
	return to;
}

/* A nonblocking send's connection is done (or given up) before close(). */
static void wait_connected(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int err = errno;

	poll(&p, 1, CONNECT_WAIT_MS);
	errno = err;
}

/*
 * MSG_DONTWAIT to 127.0.0.2: the 1st call has no cookie, so the kernel sends
 * a SYN with a cookie request and returns EINPROGRESS (tcp_sendmsg_fastopen()
 * -> __inet_stream_connect()); the 2nd puts the data in the SYN.
 */
static long nonblock_sendto(int fd, const struct case_ctx *c)
{
	struct sockaddr_in to = loopback_addr(c, 2);
	long ret = sendto(fd, PAYLOAD, PAYLOAD_LEN, MSG_FASTOPEN | MSG_DONTWAIT,
			  (const struct sockaddr *)&to, sizeof(to));

	wait_connected(fd);
	return ret;
}

/* With the cookie of 127.0.0.1 (case sendto) to a listener without
 * TCP_FASTOPEN: it acks only the SYN (tcp_fastopen_queue_check()). */
static long sendto_refusing(int fd, const struct case_ctx *c)
{
	return sendto(fd, PAYLOAD, PAYLOAD_LEN, MSG_FASTOPEN,
		      (const struct sockaddr *)&c->refuse, sizeof(c->refuse));
}

/* To 127.0.0.4, never contacted: no cookie, yet with TFO_CLIENT_NO_COOKIE
 * the data rides in the SYN (tcp_fastopen_no_cookie()). */
static long sendto_no_cookie(int fd, const struct case_ctx *c)
{
	struct sockaddr_in to = loopback_addr(c, 4);

	return sendto(fd, PAYLOAD, PAYLOAD_LEN, MSG_FASTOPEN,
		      (const struct sockaddr *)&to, sizeof(to));
}

/*
 * The investigation's own listener accepts every connection the cases left
 * in its queue (tracer reports each accept with its SYN); returns how many.
 */
static long accept_all(int fd, const struct case_ctx *c)
{
	long n = 0;
	int conn;

	(void)fd;
	while ((conn = accept4(c->listen_fd, NULL, NULL,
			       SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		close(conn);
		n++;
	}
	return n;
}

/*
 * How each case sends: on a fresh socket of @family and @type, with
 * net.ipv4.tcp_fastopen set to @sysctl for the duration (NULL: left at 3).
 * Indexed like tfo_cases[].
 */
struct case_run {
	int family;
	int type;
	send_fn send;
	const char *sysctl;
};

static const struct case_run case_runs[] = {
	{ AF_INET, SOCK_STREAM, sendto_addr, NULL },
	{ AF_INET, SOCK_STREAM, sendmsg_noaddr, NULL },
	{ AF_INET, SOCK_STREAM, sendmsg_addr, NULL },
	{ AF_INET, SOCK_STREAM, send_noaddr, NULL },
	{ AF_INET, SOCK_STREAM, connect_then_sendmsg, NULL },
	{ AF_INET, SOCK_STREAM, raw_sendmsg_noaddr, NULL },
	{ AF_INET, SOCK_STREAM, sendto_addr, TFO_SERVER_ONLY },
	{ AF_INET, SOCK_STREAM, connect_then_sendto, NULL },
	{ AF_INET, SOCK_DGRAM, sendto_addr, NULL },
	{ AF_INET6, SOCK_STREAM, sendmsg_noaddr, NULL },
	{ AF_INET, SOCK_STREAM, sendmsg_with_rights, NULL },
	{ AF_INET, SOCK_STREAM, fastopen_connect_write, NULL },
	{ AF_INET, SOCK_STREAM, nonblock_sendto, NULL },
	{ AF_INET, SOCK_STREAM, sendto_refusing, NULL },
	{ AF_INET, SOCK_STREAM, sendto_no_cookie, TFO_NO_COOKIES },
	{ AF_INET, SOCK_STREAM, accept_all, NULL },
};

static struct call_result run_case(const struct case_run *run,
				   const struct case_ctx *c)
{
	struct call_result r;

	if (run->sysctl && set_tcp_fastopen(run->sysctl))
		return result_of(-1);
	r = on_fresh_socket(run->family, run->type, run->send, c);
	if (run->sysctl)
		set_tcp_fastopen(TFO_CLIENT_AND_SERVER);
	return r;
}

const struct tfo_case tfo_cases[] = {
	{ "sendto",
	  "sendto() with a destination: 1st asks for a cookie, 2nd carries data",
	  2 },
	{ "sendmsg_noaddr",
	  "sendmsg() with msg_name NULL (the report's failing case)", 1 },
	{ "sendmsg_addr", "sendmsg() with msg_name set", 1 },
	{ "send", "send(), i.e. sendto() with a NULL address", 1 },
	{ "connect_sendmsg",
	  "connect(), then sendmsg() without MSG_FASTOPEN (the report's notfo case)",
	  1 },
	{ "raw_sendmsg_noaddr",
	  "sendmsg_noaddr through syscall(SYS_sendmsg), bypassing libc", 1 },
	{ "client_disabled",
	  "sendto() with the client bit cleared in net.ipv4.tcp_fastopen", 1 },
	{ "connected", "sendto() on an already connected socket", 1 },
	{ "udp", "sendto() on a UDP socket", 1 },
	{ "ipv6_sendmsg_noaddr", "sendmsg_noaddr over IPv6", 1 },
	{ "sendmsg_scm_rights",
	  "sendmsg_noaddr with an SCM_RIGHTS control message (the report's Ruby client)",
	  1 },
	{ "fastopen_connect", "TCP_FASTOPEN_CONNECT, connect(), write()", 1 },
	{ "nonblock_sendto",
	  "sendto(MSG_DONTWAIT) to 127.0.0.2: 1st without a cookie (EINPROGRESS), 2nd with one",
	  2 },
	{ "server_refuses",
	  "sendto() with a cookie to a listener without TCP_FASTOPEN", 1 },
	{ "client_no_cookie",
	  "sendto() to 127.0.0.4 (no cookie) with TFO_CLIENT_NO_COOKIE (net.ipv4.tcp_fastopen=0x207)",
	  1 },
	{ "server_accepts",
	  "the investigation's Fast Open listener accepts the connections above",
	  1 },
};
const int tfo_ncases = sizeof(tfo_cases) / sizeof(tfo_cases[0]);

_Static_assert(sizeof(case_runs) / sizeof(case_runs[0]) ==
		       sizeof(tfo_cases) / sizeof(tfo_cases[0]),
	       "one run per case");

/* Send @m and wait for the tracer to have consumed everything before it. */
static int tell_tracer(const struct cases_link *l, struct case_msg m)
{
	char ack;

	if (write(l->msg_fd, &m, sizeof(m)) != sizeof(m))
		return -1;
	return read(l->ack_fd, &ack, 1) == 1 ? 0 : -1;
}

static int loopback_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int err;

	if (fd < 0)
		return -1;
	err = ioctl(fd, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	err = err ?: ioctl(fd, SIOCSIFFLAGS, &ifr);
	close(fd);
	return err;
}

/* TCP_FASTOPEN with queue length @qlen; 0: leave Fast Open off. */
static int qlen_set(int fd, int qlen)
{
	return qlen ? setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN, &qlen,
				 sizeof(qlen)) :
		      0;
}

/* A listener on @sa (Fast Open queue @qlen); the kernel picks the port. */
static int listener(struct sockaddr *sa, socklen_t len, int qlen)
{
	int fd = tcp_socket(sa->sa_family), one = 1;

	if (fd < 0)
		return -1;
	if (sa->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (qlen_set(fd, qlen) || bind(fd, sa, len) || listen(fd, 128) ||
	    getsockname(fd, sa, &len))
		return -1;
	return fd;
}

/* Private network namespace with lo up, Fast Open on, two listeners. */
static int setup_namespace(struct case_ctx *c)
{
	c->v4 = (struct sockaddr_in){
		.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)
	};
	c->v6 = (struct sockaddr_in6){ .sin6_family = AF_INET6,
				       .sin6_addr = IN6ADDR_LOOPBACK_INIT };

	if (unshare(CLONE_NEWNET) || loopback_up() ||
	    set_tcp_fastopen(TFO_CLIENT_AND_SERVER))
		return -1;
	/* On every address of lo, 127.0.0.1 first (getsockname() below). */
	c->v4.sin_addr.s_addr = htonl(INADDR_ANY);
	c->listen_fd =
		listener((struct sockaddr *)&c->v4, sizeof(c->v4), LISTEN_QLEN);
	if (c->listen_fd < 0 || fcntl(c->listen_fd, F_SETFL, O_NONBLOCK))
		return -1;
	c->v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* Same port on ::1, so both families reach a listener. */
	c->v6.sin6_port = c->v4.sin_port;
	listener((struct sockaddr *)&c->v6, sizeof(c->v6), LISTEN_QLEN);
	c->refuse = (struct sockaddr_in){
		.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)
	};
	if (listener((struct sockaddr *)&c->refuse, sizeof(c->refuse), 0) < 0)
		return -1;
	return 0;
}

int tfo_cases_child(void *link, int err_fd)
{
	const struct cases_link *l = link;
	struct case_ctx c;
	int err;

	if (setup_namespace(&c)) {
		err = errno;
		if (write(err_fd, &err, sizeof(err)) < 0)
			return 1;
		return 1;
	}
	close(err_fd); /* tells target_release() that setup worked */
	if (tell_tracer(l, (struct case_msg){
				   .phase = CASE_SETUP,
				   .ret = ntohs(c.v4.sin_port),
				   .refuse_port = ntohs(c.refuse.sin_port) }))
		return 1;
	for (int i = 0; i < tfo_ncases; i++) {
		for (int a = 1; a <= tfo_cases[i].attempts; a++) {
			struct case_msg m = {
				.index = i,
				.attempt = tfo_cases[i].attempts > 1 ? a : 0
			};
			struct call_result r;

			m.phase = CASE_BEGIN;
			if (tell_tracer(l, m))
				return 1;
			r = run_case(&case_runs[i], &c);
			m.phase = CASE_END;
			m.ret = r.ret;
			m.err = r.err;
			if (tell_tracer(l, m))
				return 1;
		}
	}
	return 0;
}
