// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

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

/*
 * Lines are handed to the file in batches of at most this much (see
 * output_line()). A pipe, socket or terminal that the traced program may
 * write to as well keeps a write of at most PIPE_BUF bytes together
 * (pipe(7)); a regular file is written at the file offset the two share
 * (one write at a time), so there a batch only has to end at a line's end.
 */
#define OUTPUT_FILE_BATCH (64U << 10)
static size_t batch_limit = PIPE_BUF;

/*
 * A pipe that stdout shares with the traced program: each write wakes its
 * reader, and a full pipe stops tracer while events wait in the BPF ring.
 * A deeper pipe (pipe_set_size(); 1 MiB is /proc/sys/fs/pipe-max-size's
 * default) takes a reader's pause instead of tracer.
 */
#define OUTPUT_PIPE_SIZE (1 << 20)

void output_setup_buffer(void)
{
	struct stat st;

	if (fstat(fileno(stdout), &st) || !S_ISREG(st.st_mode))
		return;
	/* Before any output on the stream (setvbuf(3)). */
	if (!setvbuf(stdout, NULL, _IOFBF, OUTPUT_FILE_BATCH))
		batch_limit = OUTPUT_FILE_BATCH;
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
	static bool resized;
	struct stat st;

	flush_deferred = defer;
	fflush(stdout);
	/* a stream of events begins: deepen a pipe once (best effort) */
	if (defer && !resized && !fstat(fileno(stdout), &st) &&
	    S_ISFIFO(st.st_mode)) {
		resized = true;
		if (fcntl(fileno(stdout), F_GETPIPE_SZ) < OUTPUT_PIPE_SIZE)
			fcntl(fileno(stdout), F_SETPIPE_SZ, OUTPUT_PIPE_SIZE);
	}
}

/*
 * A COMMAND run with `--` shares stdout. While flushing is deferred, whole
 * lines wait in stdio's buffer and are written together once the next line
 * would take them past batch_limit: stdio never flushes a full buffer in the
 * middle of a line, and the command's output never lands inside one.
 */
static void output_parts(const char *line, size_t len, const char *end,
			 size_t end_len)
{
	if (flush_deferred && __fpending(stdout) + len + end_len > batch_limit)
		fflush(stdout);
	fwrite_unlocked(line, 1, len, stdout);
	fwrite_unlocked(end, 1, end_len, stdout);
	if (!flush_deferred)
		fflush(stdout);
}

void output_line(const char *line, size_t len)
{
	output_parts(line, len, "", 0);
}

void json_print_line(json_object *obj)
{
	size_t len;
	const char *line = json_object_to_json_string_length(
		obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		&len);

	output_parts(line, len, "\n", 1);
	json_object_put(obj);
}

void json_add(json_object *obj, const char *const_key, json_object *val)
{
	json_object_object_add_ex(obj, const_key, val,
				  JSON_C_OBJECT_ADD_KEY_IS_NEW |
					  JSON_C_OBJECT_ADD_CONSTANT_KEY);
}
