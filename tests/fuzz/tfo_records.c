// SPDX-License-Identifier: GPL-2.0
/*
 * tracer tfo's ring records: the input is one byte of mode (bit 0: JSON,
 * else text; bit 1: inside a built-in case) and the record, copied to an
 * allocation of exactly its size, as handle_event() gets it from libbpf.
 * Checks: tfo_decode_record() accepts exactly a struct tfo_event of a known
 * kind, or the head of one (TFO_EVENT_HEAD_LEN bytes) for a send on a socket
 * that is not TCP, and nothing it or the printers do reads past the record
 * (ASan).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tfo_report.h"
#include "tracer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* no skeleton, no BTF, libc not probed: the tracepoint backend */
	static const struct tfo_session session = {
		.backend = BACKEND_TRACEPOINT
	};
	static struct tfo_report r;
	size_t n = size ? size - 1 : 0;
	unsigned char *rec;
	struct tfo_event head = { 0 };
	bool legal;
	int ret;

	if (!size)
		return 0;
	fuzz_reset();
	env.json = data[0] & 1;
	memset(&r, 0, sizeof(r));
	r.session = &session;
	/* no fork to read a namespace's counters before tracing */
	r.netstat.all_new = true;
	rec = malloc(n ? n : 1);
	FUZZ_CHECK(rec);
	memcpy(rec, data + 1, n);
	ret = tfo_decode_record(&r, rec, n, data[0] & 2 ? "fuzz_case" : NULL,
				(data[0] >> 2) & 3);
	/* legal: a whole event of a known kind, or the head of a send on a
	 * socket that is not TCP */
	memcpy(&head, data + 1,
	       n < TFO_EVENT_HEAD_LEN ? n : TFO_EVENT_HEAD_LEN);
	legal = (n == sizeof(struct tfo_event) && head.kind <= TFO_EV_ACCEPT) ||
		(n == TFO_EVENT_HEAD_LEN && head.kind == TFO_EV_SEND &&
		 head.sock_protocol != TFO_IPPROTO_TCP);
	FUZZ_CHECK(ret == 0 || ret == -EINVAL);
	FUZZ_CHECK((ret == 0) == legal);
	FUZZ_CHECK(r.malformed_records == (ret ? 1 : 0));
	tfo_report_close(&r);
	free(rec);
	return 0;
}
