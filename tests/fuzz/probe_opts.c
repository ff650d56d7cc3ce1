// SPDX-License-Identifier: GPL-2.0
/* tracer probe's options, after main()'s: argv "tracer probe <input>". */
#include "harness.h"
#include "probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_cmd cmd = { "probe", cmd_probe,
					     probe_parse_args };

	return fuzz_command(data, size, &cmd);
}
