// SPDX-License-Identifier: GPL-2.0
/*
 * send_count N: N sends of three kinds in turn, and its own count of them
 * by syscall and result, for tests that compare a tracer's totals with it:
 * - sendto() of a UDP datagram to a socket of its own on 127.0.0.1;
 * - sendmsg() of the same;
 * - sendto(MSG_FASTOPEN) with no address on an unconnected TCP socket, which
 *   the kernel refuses with EINVAL (tcp_v4_connect()'s address length check;
 *   KERNEL-NOTES.md).
 * Prints one JSON line: {"sendto":{"ok":A,"EINVAL":B},"sendmsg":{"ok":C},
 * "other":D}, D counting any other result (none expected).
 * Needs a loopback that is up (run it in a new network namespace).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000
#endif

struct counts {
	long sendto_ok, sendto_einval, sendmsg_ok, other;
};

static int udp_pair(struct sockaddr_in *to)
{
	socklen_t len = sizeof(*to);
	int rx = socket(AF_INET, SOCK_DGRAM, 0);
	int tx = socket(AF_INET, SOCK_DGRAM, 0);

	memset(to, 0, sizeof(*to));
	to->sin_family = AF_INET;
	to->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (rx < 0 || tx < 0 || bind(rx, (struct sockaddr *)to, sizeof(*to)) ||
	    getsockname(rx, (struct sockaddr *)to, &len)) {
		perror("send_count: udp socket");
		exit(1);
	}
	return tx; /* rx stays open, never read: datagrams are dropped */
}

static void one_round(int udp, int tcp, const struct sockaddr_in *to, long i,
		      struct counts *c)
{
	char buf[32] = "send_count";
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = { .msg_name = (void *)to,
			     .msg_namelen = sizeof(*to),
			     .msg_iov = &iov,
			     .msg_iovlen = 1 };
	ssize_t n;

	switch (i % 3) {
	case 0:
		n = sendto(udp, buf, sizeof(buf), 0,
			   (const struct sockaddr *)to, sizeof(*to));
		c->sendto_ok += n >= 0;
		c->other += n < 0;
		break;
	case 1:
		n = sendmsg(udp, &mh, 0);
		c->sendmsg_ok += n >= 0;
		c->other += n < 0;
		break;
	default:
		n = sendto(tcp, buf, sizeof(buf), MSG_FASTOPEN, NULL, 0);
		c->sendto_einval += n < 0 && errno == EINVAL;
		c->other += n >= 0 || errno != EINVAL;
	}
}

int main(int argc, char **argv)
{
	struct counts c = {};
	struct sockaddr_in to;
	char line[160];
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
	int udp, tcp, len;

	if (argc != 2 || n <= 0) {
		fprintf(stderr, "usage: send_count N\n");
		return 2;
	}
	udp = udp_pair(&to);
	tcp = socket(AF_INET, SOCK_STREAM, 0);
	if (tcp < 0) {
		perror("send_count: tcp socket");
		return 1;
	}
	for (long i = 0; i < n; i++)
		one_round(udp, tcp, &to, i, &c);
	len = snprintf(line, sizeof(line),
		       "{\"sendto\":{\"ok\":%ld,\"EINVAL\":%ld},"
		       "\"sendmsg\":{\"ok\":%ld},\"other\":%ld}\n",
		       c.sendto_ok, c.sendto_einval, c.sendmsg_ok, c.other);
	/* one write(2): tracer's JSON lines share this stdout */
	return write(1, line, (size_t)len) == len ? 0 : 1;
}
