// SPDX-License-Identifier: GPL-2.0
/*
 * tracer tfo: where does a MSG_FASTOPEN send fail, in libc or in the kernel,
 * and in which kernel function?
 *
 *   tracer tfo                 the built-in investigation (16 cases)
 *   tracer tfo -- CMD [ARGS]   trace a program and its children
 *   tracer tfo -p PID          trace a running process and its new children
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output.h"
#include "probe.h"
#include "runtime.h"
#include "target.h"
#include "tfo.h"
#include "tfo_cases.h"
#include "tfo_libc.h"
#include "tfo_report.h"
#include "tfo_session.h"
#include "tracer.h"

#define CASE_STEP_TIMEOUT_MS 5000
#define POLL_INTERVAL_MS 100

struct tfo_opts {
	bool all;
	bool libc; /* --libc: probe the libc wrappers even with --all */
	pid_t pid;
	const char *ready_file;
	unsigned long ring_bytes; /* --ring-size; 0: the default */
	char **command; /* NULL: built-in investigation */
};

/* Per-run state the ring buffer callback sees. */
struct tfo_run {
	struct tfo_session session;
	struct tfo_report report;
	struct target target;
	int current_case; /* built-in: the case in progress, or -1 */
	int attempt;
	int case_events; /* events seen for the current case */
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: tracer [global options] tfo [--all [--libc]] [--ready-file PATH]\n"
		"       tracer [global options] tfo [--all [--libc]] [--ready-file PATH] -- COMMAND [ARGS...]\n"
		"       tracer [global options] tfo [--all [--libc]] [--ready-file PATH] -p PID\n"
		"       (each also takes --ring-size BYTES)\n\n"
		"Without COMMAND or PID, run the built-in investigation: 15 ways of\n"
		"sending with MSG_FASTOPEN, made in a private network namespace, and\n"
		"for each what libc was given, what the kernel got, what came back,\n"
		"which kernel function rejected it and whether Fast Open worked;\n"
		"then its listener accepts the connections, and a verdict.\n\n"
		"Options:\n"
		"  -p, --pid PID          trace a running process (and its new children)\n"
		"  -a, --all              show every sendto/sendmsg/sendmmsg, not only\n"
		"                         MSG_FASTOPEN ones; the libc wrappers are then\n"
		"                         not probed (a uprobe traps on every call)\n"
		"      --libc             with --all, probe the libc wrappers anyway\n"
		"      --ready-file PATH  create PATH once tracing is live\n"
		"      --ring-size BYTES  the BPF ring buffer of event records: a\n"
		"                         power of two, 4096 to 1073741824 (default\n"
		"                         262144, 2097152 with --all); records that\n"
		"                         find it full are dropped and counted, the\n"
		"                         verdict's totals stay exact\n"
		"  -h, --help             this help\n\n"
		"With -- COMMAND, tracing is live before COMMAND starts and tracer exits\n"
		"with COMMAND's exit status.\n");
}

static const struct option longopts[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "all", no_argument, NULL, 'a' },
	{ "ready-file", required_argument, NULL, 'r' },
	{ "libc", no_argument, NULL, 'l' },
	{ "ring-size", required_argument, NULL, 's' },
	{ "help", no_argument, NULL, 'h' },
	{},
};
const struct cmd_options tfo_options = { "+p:ah", longopts };

/*
 * A BPF ring buffer's size is a power of two and a multiple of the page size
 * (ringbuf_map_alloc() checks both).
 */
#define TFO_RING_MIN 4096UL
#define TFO_RING_MAX (1UL << 30)

static int parse_ring_size(const char *arg, unsigned long *bytes)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v < TFO_RING_MIN ||
	    v > TFO_RING_MAX || (v & (v - 1)))
		return fail(EXIT_USAGE,
			    "--ring-size %s: give a power of two from %lu to "
			    "%lu bytes",
			    arg, TFO_RING_MIN, TFO_RING_MAX);
	*bytes = v;
	return 0;
}

static int parse_opts(int argc, char **argv, struct tfo_opts *o)
{
	int c, err;

	while ((c = getopt_long(argc, argv, tfo_options.shortopts, longopts,
				NULL)) != -1) {
		switch (c) {
		case 'p':
			err = target_parse_pid(optarg, &o->pid);
			if (err)
				return err;
			break;
		case 'a':
			o->all = true;
			break;
		case 'r':
			o->ready_file = optarg;
			break;
		case 'l':
			o->libc = true;
			break;
		case 's':
			err = parse_ring_size(optarg, &o->ring_bytes);
			if (err)
				return err;
			break;
		case 'h':
			usage(output_for_help());
			return -1;
		case ':':
			return fail(EXIT_USAGE, "option '%s' needs an argument",
				    argv[optind - 1]);
		default:
			return fail(EXIT_USAGE, "unknown option '%s' for tfo",
				    argv[optind - 1]);
		}
	}
	if (optind < argc)
		o->command = &argv[optind];
	if (o->command && o->pid)
		return fail(EXIT_USAGE, "give -p PID or a COMMAND, not both");
	if (o->libc && !o->all)
		return fail(EXIT_USAGE, "--libc goes with --all (without --all "
					"the libc wrappers are always probed)");
	return 0;
}

/* parse_opts() alone, without acting (tfo.h). */
int tfo_parse_args(int argc, char **argv)
{
	struct tfo_opts o = {};

	return parse_opts(argc, argv, &o);
}

/* ring_buffer_sample_fn: the signature is libbpf's. */
// NOLINTNEXTLINE(bugprone-easily-swappable-parameters)
static int handle_event(void *ctx, void *data, size_t size)
{
	struct tfo_run *run = ctx;
	const char *name = NULL;

	dump_record("tfo", data, size);
	if (run->current_case >= 0)
		name = tfo_cases[run->current_case].name;
	if (!tfo_decode_record(&run->report, data, size, name, run->attempt) &&
	    run->current_case >= 0)
		run->case_events++;
	return 0;
}

/* ------------------------------------------------ built-in investigation */

static void print_case_title(const struct case_msg *m)
{
	const struct tfo_case *tc = &tfo_cases[m->index];

	if (env.json)
		return;
	if (m->attempt)
		printf("\n[%d] %s #%d: %s\n", m->index + 1, tc->name,
		       m->attempt, tc->what);
	else
		printf("\n[%d] %s: %s\n", m->index + 1, tc->name, tc->what);
}

/* An END without any event: say so rather than print nothing. */
static void check_case_seen(const struct tfo_run *run, const struct case_msg *m)
{
	if (run->case_events)
		return;
	if (m->ret < 0 && m->err)
		warn("case %s: no send traced (the case failed before sending: %s)",
		     tfo_cases[m->index].name, strerror(m->err));
	else
		warn("case %s: no send traced", tfo_cases[m->index].name);
}

static int on_case_msg(struct tfo_run *run, const struct case_msg *m)
{
	switch (m->phase) {
	case CASE_SETUP:
		if (!env.json)
			printf("private network namespace: lo up, "
			       "net.ipv4.tcp_fastopen=3, Fast Open listeners on "
			       "127.0.0.0/8 and [::1] port %ld, a listener "
			       "without Fast Open on 127.0.0.1:%ld\n",
			       m->ret, m->refuse_port);
		break;
	case CASE_BEGIN:
		run->current_case = m->index;
		run->attempt = m->attempt;
		run->case_events = 0;
		print_case_title(m);
		break;
	case CASE_END:
		/* The syscall exit handler ran before the call returned. */
		ring_buffer__consume(run->session.rb);
		check_case_seen(run, m);
		run->current_case = -1;
		break;
	default:
		return fail(EXIT_RUNTIME, "bad message from the case runner");
	}
	fflush(stdout);
	return 0;
}

static int read_case_msg(int fd, struct case_msg *m)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = poll(&p, 1, CASE_STEP_TIMEOUT_MS);

	if (n == 0)
		return fail(EXIT_RUNTIME, "case runner stuck for %d ms",
			    CASE_STEP_TIMEOUT_MS);
	if (n < 0)
		return fail(EXIT_RUNTIME, "poll: %s", strerror(errno));
	/* short read: the runner is done */
	return read(fd, m, sizeof(*m)) == (ssize_t)sizeof(*m) ? 0 : -1;
}

/* The tracer's ends of the pipes to the case runner. */
struct runner_pipes {
	int msg_rd;
	int ack_wr;
};

static int drive_cases(struct tfo_run *run, struct runner_pipes p)
{
	struct case_msg m;
	int err;

	while (!stop_signal) {
		err = read_case_msg(p.msg_rd, &m);
		if (err)
			return err < 0 ? 0 : err;
		if (m.index < 0 || m.index >= tfo_ncases)
			return fail(EXIT_RUNTIME, "bad case index %d", m.index);
		err = on_case_msg(run, &m);
		if (err)
			return err;
		if (write(p.ack_wr, "k", 1) != 1)
			return fail(EXIT_RUNTIME, "case runner went away");
	}
	return fail(EXIT_RUNTIME, "interrupted by signal %d", (int)stop_signal);
}

static int run_builtin(struct tfo_run *run)
{
	int to_tracer[2], to_child[2], err;
	struct cases_link link;

	if (pipe2(to_tracer, O_CLOEXEC) || pipe2(to_child, O_CLOEXEC))
		return fail(EXIT_RUNTIME, "pipe: %s", strerror(errno));
	link = (struct cases_link){ .msg_fd = to_tracer[1],
				    .ack_fd = to_child[0] };
	err = target_spawn_fn(&run->target, tfo_cases_child, &link);
	close(to_tracer[1]);
	close(to_child[0]);
	if (!err) /* the runner makes its own namespace once released */
		tfo_report_watch(&run->report, run->target.pid, true);
	if (!err)
		err = tfo_session_attach_libc(&run->session, run->target.pid);
	if (!err)
		err = tfo_session_trace(&run->session, run->target.pid);
	if (!err) {
		err = target_release(&run->target);
		if (err > 0)
			err = fail(
				err == EPERM ? EXIT_NOSUPPORT : EXIT_RUNTIME,
				"cannot set up a private network namespace: %s",
				strerror(err));
	}
	if (!err)
		err = drive_cases(
			run, (struct runner_pipes){ .msg_rd = to_tracer[0],
						    .ack_wr = to_child[1] });
	close(to_tracer[0]);
	close(to_child[1]);
	if (err)
		return err;
	while (!target_exited(&run->target))
		usleep(1000);
	if (target_exit_code(&run->target))
		return fail(EXIT_RUNTIME, "case runner failed (exit %d)",
			    target_exit_code(&run->target));
	tfo_report_verdict(&run->report);
	return EXIT_OK;
}

/* ------------------------------------------------ COMMAND and -p PID */

/* Does fd directory @dir hold a socket ("socket:[inode]")? */
static bool fds_hold_socket(const char *dir)
{
	char path[640], link[64];
	bool found = false;
	struct dirent *d;
	DIR *fds = opendir(dir);

	if (!fds)
		return true; /* unknown: as if it did */
	while (!found && (d = readdir(fds))) {
		ssize_t n;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			found = !strncmp(link, "socket:", 7);
		}
	}
	closedir(fds);
	return found;
}

/* A socket in any thread's file table of @pid (inherited, or -p's own). */
static bool holds_socket(pid_t pid)
{
	char dir[64], fd_dir[352];
	bool found = false;
	struct dirent *d;
	DIR *tasks;

	snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
	tasks = opendir(dir);
	if (!tasks)
		return true;
	while (!found && (d = readdir(tasks))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(fd_dir, sizeof(fd_dir), "%s/%s/fd", dir, d->d_name);
		found = fds_hold_socket(fd_dir);
	}
	closedir(tasks);
	return found;
}

/*
 * After @pid joined the traced set: the send-path hooks wait for its first
 * socket (tfo.bpf.c's request_send_hooks()) only while the tree is under
 * tracer's ptrace and holds no socket yet; else they go on now.
 */
static int send_hooks_for(struct tfo_run *run, pid_t pid)
{
	struct tfo_session *s = &run->session;

	if (!tfo_libc_following(s))
		return tfo_session_attach_send_hooks(
			s,
			"the traced processes are not under tracer's ptrace");
	if (holds_socket(pid))
		return tfo_session_attach_send_hooks(
			s, "the traced process holds a socket already");
	return 0;
}

static int poll_until_exit(struct tfo_run *run)
{
	struct pollfd p[] = {
		{ .fd = ring_buffer__epoll_fd(run->session.rb),
		  .events = POLLIN },
		{ .fd = run->target.pidfd, .events = POLLIN },
		{ .fd = tfo_libc_fd(&run->session), .events = POLLIN },
	};
	int forwarded = 0;

	output_defer_flush(true);
	/* Stops first: a process held by ptrace waits for them. */
	while (tfo_libc_dispatch(&run->session), !target_exited(&run->target)) {
		tfo_session_check_send_hooks(&run->session);
		if (stop_signal && run->target.spawned && !forwarded++)
			target_kill(&run->target, stop_signal);
		else if (stop_signal && !run->target.spawned)
			break;
		/* Woken by the ring (see wakeup_bytes), the target's exit or
		 * the timer; then read whatever is waiting. */
		poll(p, ARRAY_SIZE(p), POLL_INTERVAL_MS);
		ring_buffer__consume(run->session.rb);
		fflush(stdout);
	}
	ring_buffer__consume(run->session.rb);
	tfo_libc_release(&run->session);
	ring_buffer__consume(run->session.rb);
	output_defer_flush(false);
	tfo_report_verdict(&run->report);
	return run->target.spawned ? target_exit_code(&run->target) : EXIT_OK;
}

static int run_command(struct tfo_run *run, char **argv)
{
	int err = target_spawn(&run->target, argv);

	if (!err)
		tfo_report_watch(&run->report, run->target.pid, false);
	if (!err)
		err = tfo_libc_follow_spawned(&run->session, &run->target);
	if (!err)
		err = tfo_session_trace(&run->session, run->target.pid);
	if (!err)
		err = send_hooks_for(run, run->target.pid);
	if (err)
		return err;
	err = target_release(&run->target);
	if (err > 0)
		return fail_exec(argv[0], err);
	if (err)
		return err;
	return poll_until_exit(run);
}

/* Tracing is live for PID once it is in the traced set: then @ready_file. */
static int run_pid(struct tfo_run *run, pid_t pid, const char *ready_file)
{
	int err = target_attach(&run->target, pid);

	if (!err)
		tfo_report_watch(&run->report, pid, false);
	if (!err)
		err = tfo_libc_follow_pid(&run->session, pid);
	if (!err)
		err = tfo_session_trace(&run->session, pid);
	if (!err)
		err = send_hooks_for(run, pid);
	if (!err)
		err = write_ready_file(ready_file);
	return err ? err : poll_until_exit(run);
}

/* ------------------------------------------------------------- main */

static int open_session(struct tfo_run *run, const struct tfo_opts *o,
			char *why, size_t why_len)
{
	struct kernel_features kf;
	struct tfo_session_opts so = {
		.kf = &kf,
		.only_fastopen = !o->all && o->command,
		.trace_libc = !o->all || o->libc,
		.all_sends = o->all,
		.libc_pid = o->pid,
		.libc_self = !o->pid && !o->command,
		.ring_bytes = o->ring_bytes,
		/* see send_hooks_for(); the built-in runner sends at once */
		.defer_send_hooks = o->pid || o->command,
		.on_event = handle_event,
		.ctx = run,
	};
	int err;

	/* -p: only MSG_FASTOPEN sends unless --all, as for a COMMAND. */
	if (o->pid)
		so.only_fastopen = !o->all;
	probe_kernel(&kf);
	err = backend_select(&kf, env.backend, &so.backend, why, why_len);
	if (err) {
		kernel_features_release(&kf);
		return fail(err, "%s", why);
	}
	info("backend %s: %s", backend_name(so.backend), why);
	err = tfo_session_open(&run->session, &so);
	kernel_features_release(&kf);
	return err;
}

int cmd_tfo(int argc, char **argv)
{
	static struct tfo_run run = { .current_case = -1 };
	struct tfo_opts o = {};
	char why[512];
	int err;

	err = parse_opts(argc, argv, &o);
	if (err)
		return err < 0 ? EXIT_OK : err;
	err = require_bpf_caps();
	if (err)
		return err;
	install_stop_signals();
	target_init(&run.target);
	err = open_session(&run, &o, why, sizeof(why));
	if (!err) {
		tfo_report_start(&run.report, &run.session, why);
		if (!o.pid) /* -p: see run_pid() */
			err = write_ready_file(o.ready_file);
		startup_lap("ready");
	}
	if (!err) {
		if (o.command)
			err = run_command(&run, o.command);
		else if (o.pid)
			err = run_pid(&run, o.pid, o.ready_file);
		else
			err = run_builtin(&run);
	}
	tfo_libc_release(&run.session);
	target_close(&run.target);
	tfo_report_close(&run.report);
	tfo_session_close(&run.session);
	if (o.ready_file)
		unlink(o.ready_file);
	return err;
}
