// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <string.h>
#include <unistd.h>

#include "output.h"
#include "tracer.h"

/*
 * {"error": MSG, "exit": CODE} on stdout; -1 when json-c cannot allocate it
 * (it asserts on a NULL object: out of memory, e.g. under `ulimit -v`), and
 * the caller says it on stderr instead.
 */
static int json_error(const char *msg, int code)
{
	json_object *o = json_object_new_object();
	json_object *m = json_object_new_string(msg);
	json_object *c = json_object_new_int(code);
	const char *line;

	if (!o || !m || !c) {
		json_object_put(o);
		json_object_put(m);
		json_object_put(c);
		return -1;
	}
	json_object_object_add(o, "error", m);
	json_object_object_add(o, "exit", c);
	line = json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (line) {
		puts(line);
		fflush(stdout);
	}
	json_object_put(o);
	return line ? 0 : -1;
}

int fail(int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (!env.json || json_error(msg, code) || env.output)
		fprintf(stderr, "Error: %s\n", msg);
	return code;
}

static FILE *terminal; /* stdout before -o FILE */
static const char *created; /* -o FILE, if output_open() created it */

int output_open(const char *path)
{
	bool existed = access(path, F_OK) == 0;
	/* "e": O_CLOEXEC, the programs tracer starts do not inherit it. */
	FILE *f = fopen(path, "we");

	if (!f) {
		env.output = NULL; /* stdout stays tracer's output */
		return fail(EXIT_RUNTIME, "cannot open output file %s: %s",
			    path, strerror(errno));
	}
	/*
	 * glibc's stdout is an ordinary variable ("Standard Streams" in its
	 * manual): pointing it at FILE sends every print of every command
	 * there, and leaves fd 1 to the traced program, which inherits it.
	 */
	terminal = stdout;
	created = existed ? NULL : path;
	stdout = f;
	return 0;
}

FILE *output_for_help(void)
{
	if (!terminal)
		return stdout;
	if (created)
		unlink(created);
	fclose(stdout);
	stdout = terminal;
	terminal = NULL;
	created = NULL;
	return stdout;
}

void warn(const char *fmt, ...)
{
	va_list ap;

	fputs("Warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void info(const char *fmt, ...)
{
	va_list ap;

	if (!env.verbose)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static bool flush_deferred;

void output_defer_flush(bool defer)
{
	flush_deferred = defer;
	fflush(stdout);
}

/*
 * A COMMAND run with `--` shares stdout. A pipe keeps a write of at most
 * PIPE_BUF bytes together (pipe(7)); while flushing is deferred, stdout is
 * flushed at the end of a line once half of that waits, so that stdio's own
 * flush of a full buffer (4096 bytes for a pipe) never cuts a per-event line
 * (under 2 KiB) and the command's output never lands inside one.
 */
void output_line_done(void)
{
	if (!flush_deferred || __fpending(stdout) > PIPE_BUF / 2)
		fflush(stdout);
}

void json_print_line(json_object *obj)
{
	const char *line = json_object_to_json_string_ext(
		obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	/* Whole lines in one write where deferred (see output_line_done()). */
	if (flush_deferred && __fpending(stdout) + strlen(line) + 1 > PIPE_BUF)
		fflush(stdout);
	puts(line);
	output_line_done();
	json_object_put(obj);
}

void json_add(json_object *obj, const char *const_key, json_object *val)
{
	json_object_object_add_ex(obj, const_key, val,
				  JSON_C_OBJECT_ADD_KEY_IS_NEW |
					  JSON_C_OBJECT_ADD_CONSTANT_KEY);
}
