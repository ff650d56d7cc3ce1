// SPDX-License-Identifier: GPL-2.0
/* tracer tfo's options, after main()'s: argv "tracer tfo <input>". */
#include "harness.h"
#include "tfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_cmd cmd = { "tfo", cmd_tfo, tfo_parse_args };

	return fuzz_command(data, size, &cmd);
}
