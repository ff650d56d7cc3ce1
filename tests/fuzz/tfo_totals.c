// SPDX-License-Identifier: GPL-2.0
/*
 * tracer tfo's verdict totals from BPF: the input is a list of tfo_totals
 * entries, each a struct tfo_total_key and a 4-byte count (a last partial
 * entry is ignored), as tfo_totals_apply() reads them from the map.
 * Checks: tfo_total_event() turns any key into an event the counting and
 * the verdict's printers take (ASan, UBSan), and the totals add up: the
 * verdict's sends are the counts of the send keys, of which the rejected,
 * the in-progress and the libc classes are parts.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tfo_report.h"
#include "tracer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ENTRY_LEN (sizeof(struct tfo_total_key) + sizeof(uint32_t))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct tfo_session session = {
		.backend = BACKEND_TRACEPOINT
	};
	static struct tfo_report r;
	long long sends = 0;
	struct tfo_event e;

	fuzz_reset();
	memset(&r, 0, sizeof(r));
	r.session = &session;
	r.netstat.all_new = true;
	r.netstat.frozen = true; /* as in tfo_totals_apply() */
	for (size_t off = 0; off + ENTRY_LEN <= size; off += ENTRY_LEN) {
		struct tfo_total_key k;
		uint32_t n;

		memcpy(&k, data + off, sizeof(k));
		memcpy(&n, data + off + sizeof(k), sizeof(n));
		n &= 0xffffff; /* keep the sums far from overflow */
		tfo_total_event(&k, &e);
		FUZZ_CHECK(e.kind == k.kind && e.syscall == k.syscall);
		FUZZ_CHECK(e.ret <= 0 && e.syn.opts_len <= TFO_TCP_OPTS_LEN);
		tfo_report_count(&r, &e, n);
		if (k.kind == TFO_EV_SEND)
			sends += n;
	}
	FUZZ_CHECK(r.sends == sends);
	FUZZ_CHECK(r.rejected >= 0 && r.in_progress >= 0 &&
		   r.rejected + r.in_progress <= r.sends);
	FUZZ_CHECK(r.libc_changed <= r.libc_seen &&
		   r.libc_seen + r.libc_none <= r.sends);
	FUZZ_CHECK(r.rejected_fastopen <= r.rejected);
	env.json = size & 1;
	tfo_report_verdict(&r);
	tfo_report_close(&r);
	return 0;
}
