// SPDX-License-Identifier: GPL-2.0
/*
 * tracer pktleak's ring records: the input is one byte of mode (bit 0:
 * JSON, else text; bit 1: ring `frames` (-w), else ring `events`; bit 2:
 * the socket's origin known) and the record, copied to an allocation of
 * exactly its size, as libbpf hands it over. Every accepted record goes to
 * the printers pktleak.c calls: the -v timeline, the socket report, the
 * pcap writer (to /dev/null). Checks: only records of their kind's exact
 * size are accepted, and nothing reads past the record (ASan).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pktleak_decode.h"
#include "pktleak_pcap.h"
#include "pktleak_report.h"
#include "tracer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void events_record(const unsigned char *rec, size_t n,
			  struct pkt_pcap *pcap, const struct pkt_origin *o)
{
	static union pkt_record r;
	__u32 kind = 0;
	size_t want = 0;
	int ret;

	ret = pktleak_decode_record(rec, n, &r);
	if (n >= sizeof(kind))
		memcpy(&kind, rec, sizeof(kind));
	if (kind == PKT_EV_FRAME)
		want = sizeof(struct pkt_frame_event);
	else if (kind <= PKT_EV_FILTER)
		want = sizeof(struct pkt_sock_event);
	FUZZ_CHECK(ret == 0 || ret == -EINVAL);
	FUZZ_CHECK((ret == 0) == (n >= sizeof(kind) && want && n == want));
	if (ret)
		return;
	if (r.kind == PKT_EV_FRAME) {
		pkt_report_frame(&r.frame, o);
		return;
	}
	pkt_pcap_note_names(pcap, &r.sock.s);
	pkt_report_sock_event(&r.sock, o);
	pkt_report_socket(&r.sock.s,
			  r.sock.reason == PKT_CLOSE_EXIT ? "exit" : "close",
			  r.sock.ts_ns / 2);
}

static void frames_record(const unsigned char *rec, size_t n,
			  struct pkt_pcap *pcap)
{
	static struct pkt_frame_data d;
	const size_t hdr = offsetof(struct pkt_frame_data, data);
	__u32 caplen = 0;
	int ret;

	ret = pktleak_decode_frame(rec, n, &d);
	if (n >= hdr)
		memcpy(&caplen, rec + offsetof(struct pkt_frame_data, caplen),
		       sizeof(caplen));
	FUZZ_CHECK((ret == 0) == (n >= hdr && caplen <= PKT_SNAPLEN_MAX &&
				  n == hdr + caplen));
	if (!ret)
		pkt_pcap_write(pcap, &d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pkt_pcap pcap;
	static bool opened;
	const struct pkt_origin origin = { .sk = 0xffff888001234000,
					   .origin_ns = 1000,
					   .tgid = 42,
					   .fd = 3,
					   .at_socket = true };
	size_t n = size ? size - 1 : 0;
	unsigned char *rec;

	if (!size)
		return 0;
	if (!opened) {
		FUZZ_CHECK(!pkt_pcap_open(&pcap, "/dev/null", PKT_SNAPLEN_MAX));
		opened = true;
	}
	fuzz_reset();
	env.json = data[0] & 1;
	rec = malloc(n ? n : 1);
	FUZZ_CHECK(rec);
	memcpy(rec, data + 1, n);
	if (data[0] & 2)
		frames_record(rec, n, &pcap);
	else
		events_record(rec, n, &pcap, data[0] & 4 ? &origin : NULL);
	free(rec);
	return 0;
}
