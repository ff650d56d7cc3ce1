/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where a process's C library send wrappers are: the shared libc it maps or
 * will map (glibc's libc.so.6, musl's loader), or its own executable when it
 * is statically linked.
 */
#ifndef TRACER_LIBC_H
#define TRACER_LIBC_H

#include <limits.h>
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

/* A file holding a process's libc send wrappers, open for probing. */
struct libc_file {
	int fd; /* /proc/self/fd/<fd> names it for libbpf and the kernel */
	char path[PATH_MAX]; /* as the process names it */
	const char *kind; /* "glibc", "musl", "static executable", "mapped" */
	dev_t dev;
	ino_t ino;
};

#define LIBC_WHY_LEN (3 * PATH_MAX)

/*
 * At an exec stop, before the dynamic loader ran: the file the new image of
 * @pid takes its send wrappers from, decided from its ELF headers (no
 * PT_INTERP: the executable; an ld-musl-* interpreter: the interpreter;
 * otherwise libc.so.6 found as ld.so would, in the process's root).
 * Returns 0, or -1 with @why.
 */
int libc_predict(pid_t pid, struct libc_file *f, char *why, size_t why_len);
/* The same for a running process, from what it maps now. */
int libc_mapped(pid_t pid, struct libc_file *f, char *why, size_t why_len);
/*
 * Does @pid map @f? 1 yes, 0 no (@other gets the C library it maps, or ""),
 * -1 when its maps cannot be read (it is gone).
 */
int libc_is_mapped(pid_t pid, const struct libc_file *f, char *other,
		   size_t other_len);
void libc_file_close(struct libc_file *f);

/*
 * File offsets of the functions @names[0..@n) defined in ELF file @fd
 * (.symtab, else .dynsym); 0 for one not found. Returns how many were found,
 * -1 if @fd is not a readable ELF file.
 */
int elf_func_offsets(int fd, const char *const *names, int n,
		     unsigned long *offs);

#endif
