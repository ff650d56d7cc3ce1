// SPDX-License-Identifier: GPL-2.0
/*
 * udp_loop: the workload of the overhead benchmarks. N sendto() calls of a
 * 64-byte UDP datagram to a socket of its own on 127.0.0.1, timed around the
 * loop alone, so that a tracer's start and exit are not part of the figure.
 *
 * The receiving socket is never read: once its queue is full,
 * __udp_enqueue_schedule_skb() drops each datagram, and the sender's path
 * (the syscall, udp_sendmsg(), the loopback device, the receive softirq)
 * stays the same for every call.
 *
 * Usage: udp_loop [CALLS [RESULT_FILE]]. Writes one JSON line,
 * {"calls":N,"ns":T,"ns_per_call":T/N}, to RESULT_FILE or stdout (a tracer
 * running the loop as its COMMAND shares the loop's stdout and stderr).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define DEFAULT_CALLS 300000L

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int parse_calls(int argc, char **argv, long *calls)
{
	char *end;

	*calls = DEFAULT_CALLS;
	if (argc < 2)
		return 0;
	errno = 0;
	*calls = strtol(argv[1], &end, 10);
	if (argc > 3 || errno || *end || end == argv[1] || *calls <= 0) {
		fprintf(stderr, "usage: udp_loop [CALLS [RESULT_FILE]]\n");
		return 2;
	}
	return 0;
}

static int report(const char *path, long calls, long long ns)
{
	FILE *out = path ? fopen(path, "we") : stdout;

	if (!out) {
		fprintf(stderr, "udp_loop: %s: %s\n", path, strerror(errno));
		return 1;
	}
	fprintf(out, "{\"calls\":%ld,\"ns\":%lld,\"ns_per_call\":%.1f}\n",
		calls, ns, (double)ns / (double)calls);
	return fclose(out) ? 1 : 0;
}

/* A bound, never-read receiver on 127.0.0.1: its address in @to. */
static int open_receiver(struct sockaddr_in *to)
{
	socklen_t len = sizeof(*to);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	to->sin_family = AF_INET;
	to->sin_port = 0;
	to->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)to, sizeof(*to)) ||
	    getsockname(fd, (struct sockaddr *)to, &len))
		return -1;
	return fd;
}

int main(int argc, char **argv)
{
	static const char payload[64];
	struct sockaddr_in to;
	long long start, ns;
	long calls;
	int err, rx, tx;

	err = parse_calls(argc, argv, &calls);
	if (err)
		return err;
	rx = open_receiver(&to);
	tx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (rx < 0 || tx < 0) {
		fprintf(stderr, "udp_loop: socket: %s\n", strerror(errno));
		return 1;
	}
	start = now_ns();
	for (long i = 0; i < calls; i++) {
		if (sendto(tx, payload, sizeof(payload), 0,
			   (struct sockaddr *)&to, sizeof(to)) < 0) {
			fprintf(stderr, "udp_loop: sendto: %s\n",
				strerror(errno));
			return 1;
		}
	}
	ns = now_ns() - start;
	return report(argc > 2 ? argv[2] : NULL, calls, ns);
}
