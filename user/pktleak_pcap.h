/* SPDX-License-Identifier: GPL-2.0 */
/* -w FILE: the leaked frames, written with libpcap (link type LINUX_SLL2). */
#ifndef TRACER_PKTLEAK_PCAP_H
#define TRACER_PKTLEAK_PCAP_H

#include <stdint.h>

#include "pktleak_event.h"

struct pkt_pcap {
	struct pcap *pcap;
	struct pcap_dumper *dumper;
	const char *path;
	int64_t realtime_offset_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC */
	uint64_t written;
	uint64_t by_why[3]; /* enum pkt_leak_kind */
	/* names of the ifindexes in the file, from the traced sockets */
	int nifs;
	struct {
		int ifindex;
		char name[PKT_IFNAMSIZ];
	} ifs[32];
	uint32_t seen[32]; /* ifindexes written, for the report */
	int nseen;
};

/* Returns 0, or EXIT_USAGE after reporting why @path cannot be written. */
int pkt_pcap_open(struct pkt_pcap *p, const char *path, unsigned int snaplen);
/* One leaked frame from BPF. */
void pkt_pcap_write(struct pkt_pcap *p, const struct pkt_frame_data *d);
void pkt_pcap_close(struct pkt_pcap *p);
/* Learn interface names from a socket's counters. */
void pkt_pcap_note_names(struct pkt_pcap *p, const struct pkt_sock *s);
/* The name of an ifindex in the file, or NULL. */
const char *pkt_pcap_ifname(const struct pkt_pcap *p, int ifindex);

#endif
