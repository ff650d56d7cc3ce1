/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A JSON line printer for the per-event path: writes straight to stdout,
 * with no object built, no allocation and no hashing (json-c's objects cost
 * tracer more CPU per send than the send itself; issue 12). The output is
 * the one json-c gives with JSON_C_TO_STRING_PLAIN | NOSLASHESCAPE. json-c
 * stays for everything that is not per event.
 */
#ifndef TRACER_JSONW_H
#define TRACER_JSONW_H

#include <stdbool.h>

#define JW_MAX_DEPTH 8

struct jw {
	int depth;
	bool more[JW_MAX_DEPTH]; /* a member was written at this depth */
};

void jw_begin(struct jw *w);
/* Close the line's object; flushed as json_print_line() does. */
void jw_end_line(struct jw *w);

/* @s NULL: null. */
void jw_str(struct jw *w, const char *key, const char *s);
/* @s NULL or "": null (json_str_or_null()). */
void jw_str_or_null(struct jw *w, const char *key, const char *s);
void jw_int(struct jw *w, const char *key, long long v);
void jw_uint(struct jw *w, const char *key, unsigned long long v);
void jw_bool(struct jw *w, const char *key, bool v);
void jw_null(struct jw *w, const char *key);

/* A member object or array; @key NULL for an array element. */
void jw_object(struct jw *w, const char *key);
void jw_array(struct jw *w, const char *key);
void jw_close_object(struct jw *w);
void jw_close_array(struct jw *w);

#endif
