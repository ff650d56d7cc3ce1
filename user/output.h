/* SPDX-License-Identifier: GPL-2.0 */
/* Errors, diagnostics and JSON lines: one place decides text vs --json. */
#ifndef TRACER_OUTPUT_H
#define TRACER_OUTPUT_H

#include <stdbool.h>
#include <json-c/json.h>

/*
 * Report a fatal error and return @code so callers can write
 * `return fail(EXIT_USAGE, "unknown option %s", arg);`.
 * Text mode: "Error: ..." on stderr. JSON mode: {"error": "...", "exit": code}
 * on stdout, keeping stdout valid JSON lines; with -o FILE, that object goes
 * to FILE and the "Error: ..." line to stderr as well, since the terminal's
 * stdout is the traced program's.
 */
int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * -o FILE: from now on, tracer's stdout (every printf, puts and JSON line) is
 * FILE, while file descriptor 1 stays what tracer was given, for the programs
 * it runs. Returns 0 or an exit code after an error.
 */
int output_open(const char *path);
/*
 * --help: the terminal's stdout even under -o FILE, which is removed again if
 * output_open() created it (nothing was traced into it).
 */
FILE *output_for_help(void);

/* Warning on stderr in both modes (never pollutes JSON stdout). */
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Diagnostic on stderr, only with -v. */
void info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print @obj as one line on stdout, flush, and drop the reference. */
void json_print_line(json_object *obj);
/*
 * Add @val under @const_key, a string literal, to a new object that does not
 * have that key yet: no copy of the key, no lookup (the per-event path).
 */
void json_add(json_object *obj, const char *const_key, json_object *val);
/*
 * Stop (or go back to) flushing stdout after every JSON line: a reader of a
 * stream of events flushes once per batch it consumed instead.
 */
void output_defer_flush(bool defer);
/*
 * Write one whole line (@len bytes, with its newline) to stdout: flushed at
 * once, or, while flushing is deferred, batched with the lines before it.
 */
void output_line(const char *line, size_t len);
/* Before any output: a larger stdio buffer when stdout is a regular file. */
void output_setup_buffer(void);

#endif
