/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The frame the packet-socket test programs send: a broadcast Ethernet frame
 * of ETH_ZLEN bytes with EtherType 0x88b5 (IEEE 802 local experimental, which
 * no protocol of the host takes), from 02:00:00:00:00:xx (locally
 * administered); byte ETH_HLEN carries a sequence number.
 */
#ifndef TRACER_TEST_FRAME_H
#define TRACER_TEST_FRAME_H

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#define EXPERIMENTAL_ETHERTYPE 0x88b5

/* Fill @frame; @src_last tells the programs' frames apart. */
static inline void test_frame(unsigned char frame[ETH_ZLEN],
			      unsigned char src_last)
{
	memset(frame, 0, ETH_ZLEN);
	memset(frame, 0xff, ETH_ALEN); /* broadcast */
	frame[ETH_ALEN] = 0x02;
	frame[2 * ETH_ALEN - 1] = src_last;
	frame[2 * ETH_ALEN] = EXPERIMENTAL_ETHERTYPE >> 8;
	frame[2 * ETH_ALEN + 1] = EXPERIMENTAL_ETHERTYPE & 0xff;
}

/* Where sendto() on a packet socket puts it: broadcast on @ifindex. */
static inline struct sockaddr_ll test_frame_to(int ifindex)
{
	return (struct sockaddr_ll){
		.sll_family = AF_PACKET,
		.sll_ifindex = ifindex,
		.sll_halen = ETH_ALEN,
		.sll_addr = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	};
}

/* Send @frame with sequence number @seq; sendto()'s return. */
static inline ssize_t send_test_frame(int fd, const struct sockaddr_ll *to,
				      unsigned char frame[ETH_ZLEN],
				      unsigned char seq)
{
	frame[ETH_HLEN] = seq;
	return sendto(fd, frame, ETH_ZLEN, 0, (const struct sockaddr *)to,
		      sizeof(*to));
}

/* @n frames from 02:00:00:00:00:@src_last on @ifindex; 0 or -1. */
static inline int send_test_frames(int fd, int ifindex, unsigned char src_last,
				   int n)
{
	struct sockaddr_ll to = test_frame_to(ifindex);
	unsigned char frame[ETH_ZLEN];

	test_frame(frame, src_last);
	for (int i = 0; i < n; i++)
		if (send_test_frame(fd, &to, frame, (unsigned char)i) < 0)
			return -1;
	return 0;
}

#endif
