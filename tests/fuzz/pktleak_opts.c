// SPDX-License-Identifier: GPL-2.0
/* tracer pktleak's options, after main()'s: argv "tracer pktleak <input>". */
#include "harness.h"
#include "pktleak.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_cmd cmd = { "pktleak", cmd_pktleak,
					     pktleak_parse_args };

	return fuzz_command(data, size, &cmd);
}
