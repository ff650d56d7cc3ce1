// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>

#include "pktleak_decode.h"

void pkt_sock_terminate(struct pkt_sock *s)
{
	s->comm[PKT_COMM_LEN - 1] = '\0';
	s->bound_ifname[PKT_IFNAMSIZ - 1] = '\0';
	for (int i = 0; i < PKT_MAX_IFACES; i++)
		s->ifs[i].name[PKT_IFNAMSIZ - 1] = '\0';
}

/* The size pktleak.bpf.c reserves for a record of @kind, 0 if unknown. */
static size_t record_size(__u32 kind)
{
	switch (kind) {
	case PKT_EV_SOCKET:
	case PKT_EV_BIND:
	case PKT_EV_CLOSE:
	case PKT_EV_FILTER:
		return sizeof(struct pkt_sock_event);
	case PKT_EV_FRAME:
		return sizeof(struct pkt_frame_event);
	default:
		return 0;
	}
}

int pktleak_decode_record(const void *data, size_t size, union pkt_record *out)
{
	__u32 kind;

	if (size < sizeof(kind))
		return -EINVAL;
	memcpy(&kind, data, sizeof(kind));
	if (!record_size(kind) || size != record_size(kind))
		return -EINVAL;
	memcpy(out, data, size);
	if (kind == PKT_EV_FRAME)
		out->frame.ifname[PKT_IFNAMSIZ - 1] = '\0';
	else
		pkt_sock_terminate(&out->sock.s);
	return 0;
}

int pktleak_decode_frame(const void *data, size_t size,
			 struct pkt_frame_data *out)
{
	const size_t hdr = offsetof(struct pkt_frame_data, data);
	__u32 caplen;

	if (size < hdr)
		return -EINVAL;
	memcpy(&caplen,
	       (const char *)data + offsetof(struct pkt_frame_data, caplen),
	       sizeof(caplen));
	/* bpf_ringbuf_output(&frames, d, hdr + cap, 0) in pktleak.bpf.c */
	if (caplen > PKT_SNAPLEN_MAX || size != hdr + caplen)
		return -EINVAL;
	memcpy(out, data, size);
	return 0;
}
