/* SPDX-License-Identifier: GPL-2.0 */
#ifndef TRACER_LIBC_H
#define TRACER_LIBC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Path (usable from this process) of the C library mapped by @pid, or for
 * pid 0 the one the tracer maps. A static tracer maps none: then @self picks
 * the tracer's own binary (its sends go through the libc linked into it),
 * otherwise the system's libc at a standard location.
 * Returns 0 or -1 when none is found.
 */
int libc_path_of(pid_t pid, bool self, char *path, size_t len);

#endif
