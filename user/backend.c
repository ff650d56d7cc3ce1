// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "tracer.h"

static const char *const backend_names[] = {
	[BACKEND_AUTO] = "auto",
	[BACKEND_FENTRY] = "fentry",
	[BACKEND_KPROBE] = "kprobe",
	[BACKEND_TRACEPOINT] = "tracepoint",
};

const char *backend_name(enum backend b)
{
	return b <= BACKEND_TRACEPOINT ? backend_names[b] : "?";
}

int backend_parse(const char *s, enum backend *out)
{
	for (size_t i = 0; i < sizeof(backend_names) / sizeof(backend_names[0]);
	     i++) {
		if (!strcmp(s, backend_names[i])) {
			*out = (enum backend)i;
			return 0;
		}
	}
	return -1;
}
