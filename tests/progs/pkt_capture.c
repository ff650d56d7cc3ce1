// SPDX-License-Identifier: GPL-2.0
/*
 * A capture program with the field report's bug, for `tracer pktleak` tests:
 *
 *   pkt_capture BIND_IF NOISE_IF GAP_MS NFRAMES [EXIT_CODE]
 *
 * Opens socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)), sends NFRAMES raw
 * frames out of NOISE_IF (from a protocol-0 socket, which receives nothing),
 * sleeps GAP_MS, binds the capture socket to BIND_IF and reads what is
 * queued. Prints {"fd":..,"read_total":..,"read_other":..}, where read_other
 * counts frames whose sll_ifindex is not BIND_IF's, and exits with EXIT_CODE.
 * If PKT_CAPTURE_WAIT_FOR names a file, waits for it to exist first.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "test_frame.h"

static void wait_for_file(void)
{
	const char *path = getenv("PKT_CAPTURE_WAIT_FOR");

	while (path && access(path, F_OK))
		usleep(10000);
}

static int send_frames(const char *ifname, int n)
{
	int ifindex = (int)if_nametoindex(ifname);
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

	if (fd < 0 || !ifindex || send_test_frames(fd, ifindex, 0x01, n))
		return -1;
	return fd;
}

static int bind_to(int fd, const char *ifname)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = (int)if_nametoindex(ifname),
	};

	if (!sll.sll_ifindex)
		return -1;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		return -1;
	return sll.sll_ifindex;
}

int main(int argc, char **argv)
{
	unsigned long long total = 0, other = 0;
	struct sockaddr_ll from;
	socklen_t fromlen;
	int fd, sender, ifindex;
	char buf[2048];

	if (argc < 5) {
		fprintf(stderr,
			"usage: %s BIND_IF NOISE_IF GAP_MS NFRAMES "
			"[EXIT_CODE]\n",
			argv[0]);
		return 2;
	}
	wait_for_file();
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	sender = send_frames(argv[2], atoi(argv[3 + 1]));
	if (sender < 0) {
		perror("send");
		return 1;
	}
	usleep((useconds_t)atoi(argv[3]) * 1000);
	ifindex = bind_to(fd, argv[1]);
	if (ifindex < 0) {
		perror("bind");
		return 1;
	}
	for (;;) {
		fromlen = sizeof(from);
		if (recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
			     (struct sockaddr *)&from, &fromlen) < 0)
			break;
		total++;
		other += from.sll_ifindex != ifindex;
	}
	printf("{\"fd\":%d,\"read_total\":%llu,\"read_other\":%llu}\n", fd,
	       total, other);
	close(fd);
	close(sender);
	return argc > 5 ? atoi(argv[5]) : 0;
}
