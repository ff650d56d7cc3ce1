/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The private test network of `tracer pktleak`'s built-in experiment: two
 * veth pairs between the experiment's network namespace and the sender's,
 * with a traffic generator feeding both at fixed rates. Nothing is named or
 * pinned: it all vanishes with the processes.
 */
#ifndef TRACER_PKTLEAK_LAB_H
#define TRACER_PKTLEAK_LAB_H

#include <net/ethernet.h>
#include <stdint.h>
#include <sys/types.h>

#define LAB_ETHERTYPE 0x88B5 /* IEEE 802 local experimental ethertype 1 */
#define LAB_RATE_MAX 1000000U /* frames/s, per flow */
#define LAB_MAGIC "pktleak" /* first bytes of every payload */

/*
 * Every frame the sender sends: broadcast destination, a locally
 * administered source address, LAB_ETHERTYPE, and this payload (the 46-byte
 * Ethernet minimum).
 */
struct lab_frame {
	struct ether_header eth;
	char magic[8]; /* LAB_MAGIC, NUL-padded */
	char tag[8]; /* "noise" or "target", NUL-padded */
	uint64_t seq; /* big-endian; per flow, from 0; a gap is a dropped frame */
	uint8_t pad[22];
} __attribute__((packed));

/* Shared (MAP_SHARED | MAP_ANONYMOUS) between the caller and the sender. */
struct lab_counters {
	/* Frames the kernel accepted so far, per flow. */
	_Atomic unsigned long long noise_sent, target_sent;
	/* Frames refused with ENOBUFS (not retried: their seq is skipped). */
	_Atomic unsigned long long dropped;
	_Atomic int running; /* 1 once the sender's loop runs */
};

struct lab_opts {
	unsigned int noise_rate; /* frames/s on the noise pair, 1..LAB_RATE_MAX */
	unsigned int
		target_rate; /* frames/s on the target pair, 0..LAB_RATE_MAX */
};

struct lab {
	/* The ends in the experiment namespace, where the caller stays. */
	char target_ifname[16], noise_ifname[16];
	int target_ifindex, noise_ifindex;
	pid_t sender; /* traffic generator, or 0 */
	struct lab_counters *counters;
};

/*
 * In the calling (single-threaded) process: move into a new network
 * namespace E and stay there; create a second, anonymous namespace S; create
 * the veth pairs "target" <-> "target-peer" and "noise" <-> "noise-peer" with
 * the peers in S, all up and with IPv6 off in both namespaces (so the kernel
 * sends nothing of its own on them); fork the sender into S and return once it
 * runs. The sender dies with the caller.
 *
 * Returns 0 or a positive errno (EPERM when namespaces are not allowed,
 * EINVAL for a rate out of range). On failure nothing is left running, but
 * the caller may already be in a new, partly built namespace.
 */
int lab_setup(struct lab *lab, const struct lab_opts *o);
/*
 * Kill and reap the sender, unmap the counters. Safe to call twice and after
 * a failed lab_setup().
 */
void lab_teardown(struct lab *lab);

#endif
