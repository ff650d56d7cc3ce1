/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Records from pktleak's ring buffers, checked before anything reads them:
 * the exact size their kind needs, a known kind, strings NUL-terminated.
 */
#ifndef TRACER_PKTLEAK_DECODE_H
#define TRACER_PKTLEAK_DECODE_H

#include <stddef.h>

#include "pktleak_event.h"

/* A record of ring `events`: its kind says which member is valid. */
union pkt_record {
	__u32 kind; /* enum pkt_event_kind */
	struct pkt_sock_event sock;
	struct pkt_frame_event frame;
};

/*
 * Copy @data (@size bytes) into @out: 0, or -EINVAL for a record of an
 * unknown kind or of another size than its kind's struct.
 */
int pktleak_decode_record(const void *data, size_t size, union pkt_record *out);
/*
 * A record of ring `frames` (-w): the header and caplen bytes of data,
 * caplen at most PKT_SNAPLEN_MAX; 0 or -EINVAL.
 */
int pktleak_decode_frame(const void *data, size_t size,
			 struct pkt_frame_data *out);
/* NUL-terminate the names of a socket read from BPF (ring or map). */
void pkt_sock_terminate(struct pkt_sock *s);

#endif
