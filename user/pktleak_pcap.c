// SPDX-License-Identifier: GPL-2.0
/*
 * The leaked frames in a pcap file, through libpcap's pcap_dump. Link type
 * LINUX_SLL2 keeps what a frame's own bytes do not: the interface index it
 * was seen on and its packet type (incoming, broadcast, outgoing, ...). Its
 * 20-byte header (all big-endian) replaces an Ethernet header:
 *   protocol (2), reserved (2), ifindex (4), ARPHRD type (2), packet type
 *   (1), address length (1), address (8: the source MAC, zero-padded)
 * followed by the frame from its network header on.
 */
#include <endian.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "output.h"
#include "pktleak_pcap.h"
#include "tracer.h"

#define SLL2_HDR_LEN 20
#define ETH_HDR_LEN 14
#define ETH_ADDR_LEN 6
#define ARPHRD_ETHER_ 1
#define ARPHRD_LOOPBACK_ 772

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int pkt_pcap_open(struct pkt_pcap *p, const char *path, unsigned int snaplen)
{
	memset(p, 0, sizeof(*p));
	p->path = path;
	p->pcap = pcap_open_dead_with_tstamp_precision(
		DLT_LINUX_SLL2, (int)snaplen + SLL2_HDR_LEN,
		PCAP_TSTAMP_PRECISION_NANO);
	if (!p->pcap)
		return fail(EXIT_RUNTIME, "pcap_open_dead failed");
	p->dumper = pcap_dump_open(p->pcap, path);
	/* the file is tracer's, not the traced command's */
	if (p->dumper)
		fcntl(fileno(pcap_dump_file(p->dumper)), F_SETFD, FD_CLOEXEC);
	if (!p->dumper) {
		fail(EXIT_USAGE, "cannot write '%s': %s", path,
		     pcap_geterr(p->pcap));
		pcap_close(p->pcap);
		p->pcap = NULL;
		return EXIT_USAGE;
	}
	p->realtime_offset_ns =
		clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
	return 0;
}

static void put_be16(unsigned char *at, uint16_t v)
{
	v = htobe16(v);
	memcpy(at, &v, sizeof(v));
}

static void put_be32(unsigned char *at, uint32_t v)
{
	v = htobe32(v);
	memcpy(at, &v, sizeof(v));
}

/* Ethernet-like devices: the link header becomes the SLL2 header. */
static bool has_eth_header(const struct pkt_frame_data *d)
{
	return (d->hatype == ARPHRD_ETHER_ || d->hatype == ARPHRD_LOOPBACK_) &&
	       d->caplen >= ETH_HDR_LEN;
}

static void note_seen(struct pkt_pcap *p, int ifindex)
{
	for (int i = 0; i < p->nseen; i++)
		if (p->seen[i] == (uint32_t)ifindex)
			return;
	if (p->nseen < (int)ARRAY_SIZE(p->seen))
		p->seen[p->nseen++] = (uint32_t)ifindex;
}

void pkt_pcap_write(struct pkt_pcap *p, const struct pkt_frame_data *d)
{
	static unsigned char buf[SLL2_HDR_LEN + PKT_SNAPLEN_MAX];
	uint32_t caplen = d->caplen, len = d->len, skip = 0;
	/* modulo 2^64: a wrong timestamp, never undefined behaviour */
	uint64_t ts = d->ts_ns + (uint64_t)p->realtime_offset_ns;
	struct pcap_pkthdr h;
	uint16_t proto;

	if (!p->dumper || caplen > PKT_SNAPLEN_MAX)
		return;
	memset(buf, 0, SLL2_HDR_LEN);
	memcpy(&proto, &d->protocol, sizeof(proto)); /* network order */
	if (has_eth_header(d)) {
		memcpy(&proto, d->data + (size_t)2 * ETH_ADDR_LEN,
		       sizeof(proto));
		buf[11] = ETH_ADDR_LEN;
		memcpy(buf + 12, d->data + ETH_ADDR_LEN, ETH_ADDR_LEN);
		skip = ETH_HDR_LEN;
	}
	memcpy(buf, &proto, sizeof(proto));
	put_be32(buf + 4, (uint32_t)d->ifindex);
	put_be16(buf + 8, d->hatype);
	buf[10] = d->pkttype;
	memcpy(buf + SLL2_HDR_LEN, d->data + skip, caplen - skip);
	h.ts.tv_sec = (time_t)(ts / 1000000000);
	/* nanosecond precision: libpcap keeps nanoseconds in tv_usec */
	h.ts.tv_usec = (suseconds_t)(ts % 1000000000);
	h.caplen = SLL2_HDR_LEN + caplen - skip;
	h.len = SLL2_HDR_LEN + (len > skip ? len - skip : 0);
	pcap_dump((unsigned char *)p->dumper, &h, buf);
	p->written++;
	note_seen(p, d->ifindex);
	if (d->why < ARRAY_SIZE(p->by_why))
		p->by_why[d->why]++;
}

void pkt_pcap_close(struct pkt_pcap *p)
{
	if (p->dumper)
		pcap_dump_close(p->dumper);
	if (p->pcap)
		pcap_close(p->pcap);
	p->dumper = NULL;
	p->pcap = NULL;
}

void pkt_pcap_note_names(struct pkt_pcap *p, const struct pkt_sock *s)
{
	for (int i = 0; i < PKT_MAX_IFACES; i++) {
		const struct pkt_iface *f = &s->ifs[i];

		if (!f->ifindex || !f->name[0] ||
		    pkt_pcap_ifname(p, f->ifindex))
			continue;
		if (p->nifs == (int)ARRAY_SIZE(p->ifs))
			return;
		p->ifs[p->nifs].ifindex = f->ifindex;
		memcpy(p->ifs[p->nifs].name, f->name, PKT_IFNAMSIZ);
		p->nifs++;
	}
}

const char *pkt_pcap_ifname(const struct pkt_pcap *p, int ifindex)
{
	for (int i = 0; i < p->nifs; i++)
		if (p->ifs[i].ifindex == ifindex)
			return p->ifs[i].name;
	return NULL;
}
