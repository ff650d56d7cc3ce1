// SPDX-License-Identifier: GPL-2.0
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "jsonw.h"
#include "output.h"

/*
 * The line being built. One line at a time (tracer has one thread); a line
 * longer than this is handed to stdio in pieces (see reserve()).
 */
#define JW_BUF_LEN 8192

static char buf[JW_BUF_LEN];
static size_t pos;

/* Hand what is built so far to stdio: the line is longer than buf. */
static void spill(void)
{
	fwrite_unlocked(buf, 1, pos, stdout);
	pos = 0;
}

/* Room for @n more bytes (n <= JW_BUF_LEN). */
static inline char *reserve(size_t n)
{
	if (pos + n > sizeof(buf))
		spill();
	return buf + pos;
}

static inline void put_char(char c)
{
	*reserve(1) = c;
	pos++;
}

static inline void put_mem(const char *s, size_t n)
{
	while (n > sizeof(buf) / 2) { /* long text: in pieces */
		put_mem(s, sizeof(buf) / 2);
		s += sizeof(buf) / 2;
		n -= sizeof(buf) / 2;
	}
	memcpy(reserve(n), s, n);
	pos += n;
}

/* Bytes json-c's json_escape_str() (with NOSLASHESCAPE) escapes. */
static inline int needs_escape(unsigned char c)
{
	return c < ' ' || c == '"' || c == '\\';
}

static void put_escape(unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf] };

	switch (c) {
	case '"':
	case '\\':
		e[1] = (char)c;
		break;
	case '\b':
		e[1] = 'b';
		break;
	case '\f':
		e[1] = 'f';
		break;
	case '\n':
		e[1] = 'n';
		break;
	case '\r':
		e[1] = 'r';
		break;
	case '\t':
		e[1] = 't';
		break;
	default:
		put_mem(e, sizeof(e));
		return;
	}
	put_mem(e, 2);
}

/*
 * A JSON string, escaped as json-c's json_escape_str() with NOSLASHESCAPE:
 * runs of bytes that need nothing are copied at once.
 */
static void put_escaped(const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *run = p;

	put_char('"');
	for (; *p; p++) {
		if (!needs_escape(*p))
			continue;
		put_mem((const char *)run, (size_t)(p - run));
		put_escape(*p);
		run = p + 1;
	}
	put_mem((const char *)run, (size_t)(p - run));
	put_char('"');
}

/* Decimal digits of @v, written backwards from @end; returns the start. */
static char *utoa_back(unsigned long long v, char *end)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

static void put_uint(unsigned long long v)
{
	char tmp[24], *s = utoa_back(v, tmp + sizeof(tmp));

	put_mem(s, (size_t)(tmp + sizeof(tmp) - s));
}

static void put_int(long long v)
{
	if (v < 0) {
		put_char('-');
		/* -(v + 1) + 1: no overflow for LLONG_MIN */
		put_uint((unsigned long long)(-(v + 1)) + 1);
		return;
	}
	put_uint((unsigned long long)v);
}

/*
 * The separator before a member, and its key (none for array elements).
 * Keys are the program's own string literals: plain ASCII, never escaped.
 */
static void member(struct jw *w, const char *key)
{
	if (w->more[w->depth])
		put_char(',');
	w->more[w->depth] = true;
	if (key) {
		put_char('"');
		put_mem(key, strlen(key));
		put_mem("\":", 2);
	}
}

static void open_level(struct jw *w, char c)
{
	put_char(c);
	if (w->depth < JW_MAX_DEPTH - 1)
		w->depth++;
	w->more[w->depth] = false;
}

static void close_level(struct jw *w, char c)
{
	put_char(c);
	if (w->depth > 0)
		w->depth--;
}

void jw_begin(struct jw *w)
{
	w->depth = 0;
	w->more[0] = false;
	pos = 0;
	put_char('{');
}

void jw_end_line(struct jw *w)
{
	put_mem("}\n", 2);
	w->depth = 0;
	output_line(buf, pos);
	pos = 0;
}

// NOLINTNEXTLINE(bugprone-easily-swappable-parameters): key, then value
void jw_str(struct jw *w, const char *key, const char *s)
{
	member(w, key);
	if (s)
		put_escaped(s);
	else
		put_mem("null", 4);
}

void jw_str_or_null(struct jw *w, const char *key, const char *s)
{
	jw_str(w, key, s && s[0] ? s : NULL);
}

void jw_int(struct jw *w, const char *key, long long v)
{
	member(w, key);
	put_int(v);
}

void jw_uint(struct jw *w, const char *key, unsigned long long v)
{
	member(w, key);
	put_uint(v);
}

void jw_bool(struct jw *w, const char *key, bool v)
{
	member(w, key);
	if (v)
		put_mem("true", 4);
	else
		put_mem("false", 5);
}

void jw_null(struct jw *w, const char *key)
{
	member(w, key);
	put_mem("null", 4);
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
