/* SPDX-License-Identifier: GPL-2.0 */
#ifndef TRACER_LIBC_H
#define TRACER_LIBC_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Path (usable from this process) of the C library mapped by @pid, or by the
 * tracer itself for pid 0, or a standard location when the tracer is static.
 * Returns 0 or -1 when none is found.
 */
int libc_path_of(pid_t pid, char *path, size_t len);

#endif
