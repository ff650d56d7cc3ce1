// SPDX-License-Identifier: GPL-2.0
/*
 * tcg_setcc [--prefault]: store `x > 0` (x == 0) as the first write into
 * each of 64 fresh pages and count the stores that wrote 1. gcc compiles it
 * to `test; setg (mem)`: the store takes the page fault. A CPU writes 0
 * every time; QEMU 7.2's TCG has been seen to write 1 once or twice in 64
 * (the kernel-matrix guests). --prefault first faults every page in, as the
 * guests' tracer does (runtime.c: tcg_guest_prefault()), so no store
 * faults. Prints "WRONG of 64"; exits 0.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define NPAGES 64

int zero; /* not const: read at run time */

static struct {
	int pad;
	bool flag;
} __attribute__((aligned(4096))) pages[NPAGES];

int main(int argc, char **argv)
{
	int wrong = 0;

	if (argc > 1 && !strcmp(argv[1], "--prefault") &&
	    !mlockall(MCL_CURRENT))
		munlockall();
	for (int i = 0; i < NPAGES; i++) {
		__asm__ volatile("" ::: "memory"); /* one store per page */
		pages[i].flag = zero > 0;
	}
	for (int i = 0; i < NPAGES; i++)
		wrong += pages[i].flag;
	printf("%d of %d\n", wrong, NPAGES);
	return 0;
}
