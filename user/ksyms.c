// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksyms.h"

struct ksym {
	uint64_t addr;
	char *name;
};

struct ksyms {
	struct ksym *syms;
	size_t len;
	size_t cap;
};

/* qsort() comparator: the signature is qsort's. */
// NOLINTNEXTLINE(bugprone-easily-swappable-parameters)
static int ksym_by_addr(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int ksyms_add(struct ksyms *ks, uint64_t addr, const char *name)
{
	if (ks->len == ks->cap) {
		size_t cap = ks->cap ? ks->cap * 2 : 65536;
		struct ksym *syms = realloc(ks->syms, cap * sizeof(*syms));

		if (!syms)
			return -1;
		ks->syms = syms;
		ks->cap = cap;
	}
	ks->syms[ks->len].name = strdup(name);
	if (!ks->syms[ks->len].name)
		return -1;
	ks->syms[ks->len++].addr = addr;
	return 0;
}

/* One kallsyms line, "ffffffff8200f980 T tcp_sendmsg_fastopen\t[mod]": a text
 * symbol's address and name, or false. */
static bool parse_text_symbol(char *line, uint64_t *addr, const char **name)
{
	char *p, *end;

	*addr = strtoull(line, &p, 16);
	/* addresses read as 0 without privilege */
	if (p == line || !*addr || p[0] != ' ' ||
	    (p[1] != 't' && p[1] != 'T') || p[2] != ' ')
		return false;
	*name = p + 3;
	end = p + 3 + strcspn(p + 3, "\t\n");
	*end = '\0';
	return true;
}

struct ksyms *ksyms_load(void)
{
	struct ksyms *ks = calloc(1, sizeof(*ks));
	FILE *f = fopen("/proc/kallsyms", "re");
	const char *name;
	char line[512];
	uint64_t addr;

	if (!ks || !f)
		goto err;
	while (fgets(line, sizeof(line), f)) {
		if (parse_text_symbol(line, &addr, &name) &&
		    ksyms_add(ks, addr, name))
			goto err;
	}
	fclose(f);
	qsort(ks->syms, ks->len, sizeof(*ks->syms), ksym_by_addr);
	return ks;
err:
	if (f)
		fclose(f);
	ksyms_free(ks);
	return NULL;
}

const struct ksyms *ksyms_get(void)
{
	static struct ksyms *cached;

	if (!cached)
		cached = ksyms_load();
	return cached;
}

void ksyms_free(struct ksyms *ks)
{
	if (!ks)
		return;
	for (size_t i = 0; i < ks->len; i++)
		free(ks->syms[i].name);
	free(ks->syms);
	free(ks);
}

const char *ksyms_name_of(const struct ksyms *ks, uint64_t addr)
{
	size_t lo = 0, hi = ks ? ks->len : 0;

	if (!hi || addr < ks->syms[0].addr)
		return NULL;
	while (hi - lo > 1) { /* last symbol with syms[lo].addr <= addr */
		size_t mid = lo + (hi - lo) / 2;

		if (ks->syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	return ks->syms[lo].name;
}

bool ksyms_has(const struct ksyms *ks, const char *name)
{
	for (size_t i = 0; ks && i < ks->len; i++)
		if (!strcmp(ks->syms[i].name, name))
			return true;
	return false;
}

/* The kernel formats the whole list (tens of thousands of functions) on each
 * read: one pass for every name. */
void ftrace_can_trace(const char *const *names, size_t n, bool *ok)
{
	static const char *const lists[] = {
		"/sys/kernel/tracing/available_filter_functions",
		"/sys/kernel/debug/tracing/available_filter_functions",
	};
	char line[256];

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		FILE *f = fopen(lists[i], "re");
		bool at_start = true;

		if (!f)
			continue;
		memset(ok, 0, n * sizeof(ok[0]));
		/* "name" or "name [module]", one per line */
		while (fgets(line, sizeof(line), f)) {
			bool whole = strchr(line, '\n') != NULL;

			line[strcspn(line, " \n")] = '\0';
			for (size_t j = 0; at_start && j < n; j++)
				ok[j] = ok[j] || !strcmp(line, names[j]);
			at_start = whole;
		}
		fclose(f);
		return;
	}
	for (size_t j = 0; j < n; j++)
		ok[j] = true;
}
