// SPDX-License-Identifier: GPL-2.0
/*
 * Noise on the wire for `tracer pktleak` tests:
 *
 *   pkt_noise IFACE RATE [bind]
 *
 * Sends RATE broadcast frames a second (ethertype 0x88b5, source
 * 02:00:00:00:00:09) out of IFACE from a protocol-0 packet socket, which
 * receives nothing, until killed. With "bind", the socket is bound to IFACE
 * first (protocol 0: packet_do_bind() registers no hook, it still receives
 * nothing), as a sender that sets its interface once does.
 */
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "test_frame.h"

/* sll_protocol 0 keeps the socket's protocol (0): no hook, nothing received */
static int bind_to(int fd, int ifindex)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = ifindex,
	};

	return bind(fd, (struct sockaddr *)&sll, sizeof(sll));
}

int main(int argc, char **argv)
{
	struct sockaddr_ll to;
	unsigned char frame[ETH_ZLEN];
	struct timespec next;
	long rate, period_ns;
	bool bound;
	int fd;

	bound = argc == 4 && !strcmp(argv[3], "bind");
	if ((argc != 3 && !bound) || (rate = atol(argv[2])) < 1 ||
	    rate > 100000) {
		fprintf(stderr, "usage: %s IFACE RATE(1..100000) [bind]\n",
			argv[0]);
		return 2;
	}
	to = test_frame_to((int)if_nametoindex(argv[1]));
	test_frame(frame, 0x09);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0 || !to.sll_ifindex) {
		perror(argv[1]);
		return 1;
	}
	if (bound && bind_to(fd, to.sll_ifindex)) {
		perror("bind");
		return 1;
	}
	period_ns = 1000000000L / rate;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (unsigned int seq = 0;; seq++) {
		if (send_test_frame(fd, &to, frame, (unsigned char)seq) < 0 &&
		    errno != ENOBUFS) {
			perror("sendto");
			return 1;
		}
		next.tv_nsec += period_ns;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next,
				       NULL) == EINTR)
			;
	}
}
