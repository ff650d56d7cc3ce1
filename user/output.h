/* SPDX-License-Identifier: GPL-2.0 */
/* Errors, diagnostics and JSON lines: one place decides text vs --json. */
#ifndef TRACER_OUTPUT_H
#define TRACER_OUTPUT_H

#include <json-c/json.h>

/*
 * Report a fatal error and return @code so callers can write
 * `return fail(EXIT_USAGE, "unknown option %s", arg);`.
 * Text mode: "Error: ..." on stderr. JSON mode: {"error": "...", "exit": code}
 * on stdout, keeping stdout valid JSON lines.
 */
int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Warning on stderr in both modes (never pollutes JSON stdout). */
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Diagnostic on stderr, only with -v. */
void info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print @obj as one line on stdout, flush, and drop the reference. */
void json_print_line(json_object *obj);

#endif
