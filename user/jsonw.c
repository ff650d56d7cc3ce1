// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>

#include "jsonw.h"
#include "output.h"

/* JSON string escaping as json-c's json_escape_str() with NOSLASHESCAPE. */
static void put_escaped(const char *s)
{
	static const char hex[] = "0123456789abcdef";

	putc_unlocked('"', stdout);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs_unlocked("\\\"", stdout);
			break;
		case '\\':
			fputs_unlocked("\\\\", stdout);
			break;
		case '\b':
			fputs_unlocked("\\b", stdout);
			break;
		case '\f':
			fputs_unlocked("\\f", stdout);
			break;
		case '\n':
			fputs_unlocked("\\n", stdout);
			break;
		case '\r':
			fputs_unlocked("\\r", stdout);
			break;
		case '\t':
			fputs_unlocked("\\t", stdout);
			break;
		default:
			if (*p < ' ') {
				fputs_unlocked("\\u00", stdout);
				putc_unlocked(hex[*p >> 4], stdout);
				putc_unlocked(hex[*p & 0xf], stdout);
			} else {
				putc_unlocked(*p, stdout);
			}
		}
	}
	putc_unlocked('"', stdout);
}

/* The separator before a member, and its key (none for array elements). */
static void member(struct jw *w, const char *key)
{
	if (w->more[w->depth])
		putc_unlocked(',', stdout);
	w->more[w->depth] = true;
	if (key) {
		put_escaped(key);
		putc_unlocked(':', stdout);
	}
}

static void open_level(struct jw *w, char c)
{
	putc_unlocked(c, stdout);
	if (w->depth < JW_MAX_DEPTH - 1)
		w->depth++;
	w->more[w->depth] = false;
}

static void close_level(struct jw *w, char c)
{
	putc_unlocked(c, stdout);
	if (w->depth > 0)
		w->depth--;
}

void jw_begin(struct jw *w)
{
	w->depth = 0;
	w->more[0] = false;
	putc_unlocked('{', stdout);
}

void jw_end_line(struct jw *w)
{
	putc_unlocked('}', stdout);
	putc_unlocked('\n', stdout);
	w->depth = 0;
	output_line_done();
}

// NOLINTNEXTLINE(bugprone-easily-swappable-parameters): key, then value
void jw_str(struct jw *w, const char *key, const char *s)
{
	member(w, key);
	if (s)
		put_escaped(s);
	else
		fputs_unlocked("null", stdout);
}

void jw_str_or_null(struct jw *w, const char *key, const char *s)
{
	jw_str(w, key, s && s[0] ? s : NULL);
}

void jw_int(struct jw *w, const char *key, long long v)
{
	member(w, key);
	printf("%lld", v);
}

void jw_uint(struct jw *w, const char *key, unsigned long long v)
{
	member(w, key);
	printf("%llu", v);
}

void jw_bool(struct jw *w, const char *key, bool v)
{
	member(w, key);
	fputs_unlocked(v ? "true" : "false", stdout);
}

void jw_null(struct jw *w, const char *key)
{
	member(w, key);
	fputs_unlocked("null", stdout);
}

void jw_object(struct jw *w, const char *key)
{
	member(w, key);
	open_level(w, '{');
}

void jw_array(struct jw *w, const char *key)
{
	member(w, key);
	open_level(w, '[');
}

void jw_close_object(struct jw *w)
{
	close_level(w, '}');
}

void jw_close_array(struct jw *w)
{
	close_level(w, ']');
}
