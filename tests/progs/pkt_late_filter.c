// SPDX-License-Identifier: GPL-2.0
/*
 * A capture program that attaches its filter after bind(), as dhclient does,
 * for `tracer pktleak` tests:
 *
 *   pkt_late_filter BIND_IF PEER_IF GAP_MS FILTER_GAP_MS NUNWANTED NWANTED
 *
 * Opens socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)), sleeps GAP_MS, binds
 * it to BIND_IF, sends NUNWANTED frames its filter rejects out of PEER_IF
 * (BIND_IF's veth peer: they arrive on BIND_IF), sleeps FILTER_GAP_MS,
 * attaches its filter (ethertype 0x88b5 from 02:00:00:00:00:02 only), sends
 * NWANTED frames the filter accepts, then reads what is queued. Prints
 * {"fd":..,"read_total":..,"read_other":..,"read_rejected":..,"read_wanted":..}:
 * read_other counts frames of other interfaces (sll_ifindex), read_rejected
 * frames of BIND_IF its filter would have rejected.
 */
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test_frame.h"

#define WANTED_SRC_LAST 0x02
#define UNWANTED_SRC_LAST 0x03

/* The filter, in C: what the classic BPF below keeps. */
static bool filter_keeps(const unsigned char *f, size_t len)
{
	static const unsigned char src[ETH_ALEN] = { 0x02, 0, 0,
						     0,	   0, WANTED_SRC_LAST };

	return len >= ETH_HLEN && !memcmp(f + ETH_ALEN, src, ETH_ALEN) &&
	       f[12] == EXPERIMENTAL_ETHERTYPE >> 8 &&
	       f[13] == (EXPERIMENTAL_ETHERTYPE & 0xff);
}

static int attach_filter(int fd)
{
	struct sock_filter insns[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, EXPERIMENTAL_ETHERTYPE, 0,
			 5),
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x0200, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 8),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, WANTED_SRC_LAST, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, ~0u),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { .len = sizeof(insns) / sizeof(insns[0]),
				   .filter = insns };

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
			  sizeof(prog));
}

int main(int argc, char **argv)
{
	unsigned long long total = 0, other = 0, rejected = 0, wanted = 0;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL) };
	int fd, sender, peer;
	unsigned char buf[2048];
	socklen_t fromlen;
	ssize_t n;

	if (argc != 7) {
		fprintf(stderr,
			"usage: %s BIND_IF PEER_IF GAP_MS FILTER_GAP_MS "
			"NUNWANTED NWANTED\n",
			argv[0]);
		return 2;
	}
	sll.sll_ifindex = (int)if_nametoindex(argv[1]);
	peer = (int)if_nametoindex(argv[2]);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	sender = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0 || sender < 0 || !sll.sll_ifindex || !peer) {
		perror("socket");
		return 1;
	}
	usleep((useconds_t)atoi(argv[3]) * 1000);
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) ||
	    send_test_frames(sender, peer, UNWANTED_SRC_LAST, atoi(argv[5]))) {
		perror("bind/send");
		return 1;
	}
	usleep((useconds_t)atoi(argv[4]) * 1000);
	if (attach_filter(fd) ||
	    send_test_frames(sender, peer, WANTED_SRC_LAST, atoi(argv[6]))) {
		perror("filter/send");
		return 1;
	}
	for (;;) {
		struct sockaddr_ll from;

		fromlen = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
			     (struct sockaddr *)&from, &fromlen);
		if (n < 0)
			break;
		total++;
		if (from.sll_ifindex != sll.sll_ifindex)
			other++;
		else if (filter_keeps(buf, (size_t)n))
			wanted++;
		else
			rejected++;
	}
	printf("{\"fd\":%d,\"read_total\":%llu,\"read_other\":%llu,"
	       "\"read_rejected\":%llu,\"read_wanted\":%llu}\n",
	       fd, total, other, rejected, wanted);
	close(fd);
	close(sender);
	return 0;
}
