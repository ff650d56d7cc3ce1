// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "output.h"
#include "tracer.h"

int fail(int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (env.json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "error", json_object_new_string(msg));
		json_object_object_add(o, "exit", json_object_new_int(code));
		json_print_line(o);
	}
	if (!env.json || env.output)
		fprintf(stderr, "Error: %s\n", msg);
	return code;
}

int output_open(const char *path)
{
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
	stdout = f;
	return 0;
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

void output_line_done(void)
{
	if (!flush_deferred)
		fflush(stdout);
}

void json_print_line(json_object *obj)
{
	puts(json_object_to_json_string_ext(
		obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	output_line_done();
	json_object_put(obj);
}

void json_add(json_object *obj, const char *const_key, json_object *val)
{
	json_object_object_add_ex(obj, const_key, val,
				  JSON_C_OBJECT_ADD_KEY_IS_NEW |
					  JSON_C_OBJECT_ADD_CONSTANT_KEY);
}
