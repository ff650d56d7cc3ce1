/* SPDX-License-Identifier: GPL-2.0 */
/* Kernel symbols from /proc/kallsyms: address -> function, name -> present. */
#ifndef TRACER_KSYMS_H
#define TRACER_KSYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ksyms;

struct ksyms *ksyms_load(void);
/* This process's copy, loaded on first use (parsing takes tens of ms);
 * NULL if /proc/kallsyms cannot be read. */
const struct ksyms *ksyms_get(void);
void ksyms_free(struct ksyms *ks);
/* Name of the function containing @addr, or NULL. */
const char *ksyms_name_of(const struct ksyms *ks, uint64_t addr);
/* Whether a text symbol @name exists (not inlined away). */
bool ksyms_has(const struct ksyms *ks, const char *name);
/*
 * Which of the @n functions @names ftrace's list says fentry and kprobes can
 * attach to (ok[i]), in one read of available_filter_functions. No readable
 * list (tracefs not mounted, or closed as on this machine): all of them, and
 * the attach decides.
 */
void ftrace_can_trace(const char *const *names, size_t n, bool *ok);

#endif
