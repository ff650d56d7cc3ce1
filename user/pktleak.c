// SPDX-License-Identifier: GPL-2.0
/*
 * tracer pktleak: how many frames reach an AF_PACKET socket before bind(),
 * from which interfaces, how many are read after it, and what each way of
 * opening the socket costs.
 *
 *   tracer pktleak                  the built-in experiment (5 strategies)
 *   tracer pktleak -- CMD [ARGS]    watch a program's packet sockets
 *   tracer pktleak -p PID           watch a running process
 *   tracer pktleak --all            watch every process
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "output.h"
#include "pktleak.h"
#include "pktleak.skel.h"
#include "pktleak_decode.h"
#include "pktleak_exp.h"
#include "pktleak_pcap.h"
#include "pktleak_report.h"
#include "pktleak_session.h"
#include "probe.h"
#include "runtime.h"
#include "target.h"

#define STEP_TIMEOUT_MS 5000
#define PKT_ORIGINS 64 /* sockets whose timeline origin is remembered */
#define POLL_INTERVAL_MS 100

struct pktleak_opts {
	struct exp_opts exp;
	bool exp_option; /* an option only the experiment takes was given */
	bool all;
	unsigned int duration_s; /* --all: 0 = until Ctrl-C */
	pid_t pid;
	const char *ready_file;
	const char *pcap_path; /* -w FILE */
	unsigned int snaplen; /* --snaplen */
	bool snaplen_given;
	char **command;
};

/* The snapshots of one strategy run, taken at each of its steps. */
struct run_steps {
	struct exp_msg socket_msg;
	struct exp_msg bound_msg;
	struct pkt_sock bound;
	struct pkt_sock drained;
};

struct pkt_run {
	struct pkt_session session;
	struct pkt_report report;
	struct target target;
	struct exp_msg ready;
	struct run_steps steps;
	struct pkt_pcap pcap;
	const struct pktleak_opts *opts;
	uint64_t start_ns;
	/* -v timeline: where each socket's times start (a ring of them) */
	struct pkt_origin origins[PKT_ORIGINS];
	unsigned int next_origin;
	bool timeline;
	/* ring records of a wrong size or unknown kind, dropped */
	unsigned long long malformed_records;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: tracer [global options] pktleak [-w FILE] [experiment options]\n"
		"       tracer [global options] pktleak [-w FILE] [--ready-file PATH] -- COMMAND [ARGS...]\n"
		"       tracer [global options] pktleak [-w FILE] [--ready-file PATH] -p PID\n"
		"       tracer [global options] pktleak [-w FILE] [--ready-file PATH] --all [--duration S]\n\n"
		"Without COMMAND, PID or --all, run the built-in experiment: in a private\n"
		"network namespace with a target and a noise veth pair, open a packet\n"
		"socket in each of 6 ways, wait GAP, bind it to the target interface and\n"
		"read; count in BPF the frames that reached it before bind (by interface),\n"
		"were queued, and were read from other interfaces after bind, and those\n"
		"queued after bind before its filter and read unfiltered.\n\n"
		"Strategies:\n");
	for (int i = 0; i < PKT_NSTRATEGIES; i++)
		fprintf(out, "  %d  %s\n", i + 1, strategies[i].how);
	fprintf(out,
		"\nExperiment options:\n"
		"  -r, --rate N           noise frames/s (1..1000000, default 2000)\n"
		"      --target-rate N    target flow frames/s (0..1000000, default 100)\n"
		"  -g, --gap MS           socket() to bind() (0..60000, default 100)\n"
		"  -W, --window MS        reading after bind (1..10000, default 50)\n"
		"      --filter-gap MS    strategy 6: bind() to the filter (0..10000,\n"
		"                         default 10, as dhclient)\n"
		"  -n, --repeat N         run each strategy N times (1..100) and print\n"
		"                         min/median/max\n"
		"  -s, --strategy LIST    only these strategies, e.g. 1,3\n"
		"  -i, --interface IFACE  bind to IFACE in this namespace instead, with the\n"
		"                         traffic it has (none is generated)\n\n"
		"Options of every mode:\n"
		"  -w, --write FILE       write the leaked frames (reached before bind,\n"
		"                         read after bind from another interface, read\n"
		"                         unfiltered) to FILE, pcap, link type LINUX_SLL2\n"
		"      --snaplen N        bytes kept per frame (1..%d, default 128)\n\n"
		"Watch options:\n"
		"  -p, --pid PID          watch a running process (sockets opened before\n"
		"                         are picked up at their bind, filter or close)\n"
		"  -a, --all              watch every process's packet sockets\n"
		"  -d, --duration S       with --all: stop after S seconds\n"
		"      --ready-file PATH  create PATH once tracing is live\n"
		"  -h, --help             this help\n\n"
		"Each watched socket is reported when it is closed, its process exits or\n"
		"tracing ends. With -- COMMAND, tracer exits with COMMAND's exit status.\n"
		"-v adds the timeline: socket(), each frame, bind() and its duration, the\n"
		"filter, reads; in ms from each socket's socket().\n",
		PKT_SNAPLEN_MAX);
}

/* ------------------------------------------------------------ options */

static int parse_uint(const char *arg, const char *what, long min, long max,
		      unsigned int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || end == arg || v < min || v > max)
		return fail(EXIT_USAGE, "invalid %s '%s': must be %ld..%ld",
			    what, arg, min, max);
	*out = (unsigned int)v;
	return 0;
}

static int parse_strategies(const char *arg, unsigned int *mask)
{
	const char *p = arg;
	char *end;
	long v;

	*mask = 0;
	do {
		errno = 0;
		v = strtol(p, &end, 10);
		if (errno || end == p || v < 1 || v > PKT_NSTRATEGIES ||
		    (*end && *end != ','))
			return fail(EXIT_USAGE,
				    "invalid strategy list '%s': numbers 1..%d "
				    "separated by commas",
				    arg, PKT_NSTRATEGIES);
		*mask |= 1u << (v - 1);
		p = end + 1;
	} while (*end);
	return 0;
}

static int check_interface(const char *name)
{
	if (strlen(name) >= IFNAMSIZ || !if_nametoindex(name))
		return fail(EXIT_USAGE,
			    "no interface '%s' in this network namespace",
			    name);
	return 0;
}

enum {
	OPT_TARGET_RATE = 256,
	OPT_READY_FILE,
	OPT_FILTER_GAP,
	OPT_SNAPLEN,
};

static int parse_one(int c, const char *arg, struct pktleak_opts *o)
{
	struct exp_opts *e = &o->exp;

	o->exp_option |= c == OPT_TARGET_RATE || c == OPT_FILTER_GAP ||
			 (c < 128 && strchr("rgWnsi", c));
	switch (c) {
	case 'r':
		return parse_uint(arg, "rate", 1, 1000000, &e->rate);
	case OPT_TARGET_RATE:
		return parse_uint(arg, "target rate", 0, 1000000,
				  &e->target_rate);
	case 'g':
		return parse_uint(arg, "gap", 0, 60000, &e->gap_ms);
	case OPT_FILTER_GAP:
		return parse_uint(arg, "filter gap", 0, 10000,
				  &e->filter_gap_ms);
	case 'W':
		return parse_uint(arg, "window", 1, 10000, &e->window_ms);
	case 'w':
		o->pcap_path = arg;
		return 0;
	case OPT_SNAPLEN:
		o->snaplen_given = true;
		return parse_uint(arg, "snaplen", 1, PKT_SNAPLEN_MAX,
				  &o->snaplen);
	case 'n':
		return parse_uint(arg, "repeat count", 1, PKT_MAX_RUNS,
				  &e->repeat);
	case 's':
		return parse_strategies(arg, &e->strategy_mask);
	case 'i':
		e->ifname = arg;
		return check_interface(arg);
	case 'p':
		return target_parse_pid(arg, &o->pid);
	case 'a':
		o->all = true;
		return 0;
	case 'd':
		return parse_uint(arg, "duration", 1, INT_MAX / 1000,
				  &o->duration_s);
	case OPT_READY_FILE:
		o->ready_file = arg;
		return 0;
	default:
		return -1;
	}
}

static int check_modes(const struct pktleak_opts *o)
{
	int modes = !!o->command + !!o->pid + o->all;

	if (modes > 1)
		return fail(EXIT_USAGE,
			    "give one of -- COMMAND, -p PID and --all");
	if (modes && o->exp_option)
		return fail(EXIT_USAGE,
			    "experiment options (-r, -g, -W, -n, -s, -i, "
			    "--target-rate, --filter-gap) do not apply when "
			    "watching");
	if (o->duration_s && !o->all)
		return fail(EXIT_USAGE, "--duration goes with --all");
	if (o->snaplen_given && !o->pcap_path)
		return fail(EXIT_USAGE, "--snaplen goes with -w FILE");
	return 0;
}

static const struct option longopts[] = {
	{ "rate", required_argument, NULL, 'r' },
	{ "target-rate", required_argument, NULL, OPT_TARGET_RATE },
	{ "gap", required_argument, NULL, 'g' },
	{ "window", required_argument, NULL, 'W' },
	{ "write", required_argument, NULL, 'w' },
	{ "snaplen", required_argument, NULL, OPT_SNAPLEN },
	{ "filter-gap", required_argument, NULL, OPT_FILTER_GAP },
	{ "repeat", required_argument, NULL, 'n' },
	{ "strategy", required_argument, NULL, 's' },
	{ "interface", required_argument, NULL, 'i' },
	{ "pid", required_argument, NULL, 'p' },
	{ "all", no_argument, NULL, 'a' },
	{ "duration", required_argument, NULL, 'd' },
	{ "ready-file", required_argument, NULL, OPT_READY_FILE },
	{ "help", no_argument, NULL, 'h' },
	{},
};
const struct cmd_options pktleak_options = { "+:r:g:W:w:n:s:i:p:ad:h",
					     longopts };

static int parse_opts(int argc, char **argv, struct pktleak_opts *o)
{
	int c, err;

	while ((c = getopt_long(argc, argv, pktleak_options.shortopts, longopts,
				NULL)) != -1) {
		if (c == 'h') {
			usage(output_for_help());
			return -1;
		}
		if (c == ':')
			return fail(EXIT_USAGE, "option '%s' needs an argument",
				    argv[optind - 1]);
		if (c == '?')
			return fail(EXIT_USAGE,
				    "unknown option '%s' for pktleak",
				    argv[optind - 1]);
		err = parse_one(c, optarg, o);
		if (err)
			return err;
	}
	if (optind < argc)
		o->command = &argv[optind];
	return check_modes(o);
}

/* parse_opts() alone, without acting (pktleak.h). */
int pktleak_parse_args(int argc, char **argv)
{
	struct pktleak_opts o = {};

	return parse_opts(argc, argv, &o);
}

/* ------------------------------------------------------------ events */

static bool is_experiment(const struct pkt_run *run)
{
	return !run->opts->command && !run->opts->pid && !run->opts->all;
}

/* The slot of socket @sk in run->origins, or -1. */
static int origin_slot(const struct pkt_run *run, uint64_t sk)
{
	for (int i = 0; i < PKT_ORIGINS; i++)
		if (run->origins[i].sk == sk)
			return i;
	return -1;
}

static const struct pkt_origin *origin_of(const struct pkt_run *run,
					  uint64_t sk)
{
	int i = origin_slot(run, sk);

	return i < 0 ? NULL : &run->origins[i];
}

/* A socket's times count from its socket(), or from when it was first seen. */
static void remember_origin(struct pkt_run *run, const struct pkt_sock_event *e)
{
	int i = origin_slot(run, e->s.sk);

	if (i < 0)
		i = (int)(run->next_origin++ % PKT_ORIGINS);
	run->origins[i] = (struct pkt_origin){
		.sk = e->s.sk,
		.origin_ns = e->s.created_ns ? e->s.created_ns : e->ts_ns,
		.tgid = e->s.tgid,
		.fd = e->s.fd,
		.at_socket = e->s.created_ns != 0,
	};
}

static void on_sock_event(struct pkt_run *run, const struct pkt_sock_event *e)
{
	if (e->kind == PKT_EV_SOCKET)
		remember_origin(run, e);
	if (run->opts->pcap_path)
		pkt_pcap_note_names(&run->pcap, &e->s);
	if (run->timeline)
		pkt_report_sock_event(e, origin_of(run, e->s.sk));
	if (e->kind == PKT_EV_CLOSE && !is_experiment(run))
		pkt_report_socket(
			&e->s, e->reason == PKT_CLOSE_EXIT ? "exit" : "close",
			run->start_ns);
}

static void on_frame_event(const struct pkt_run *run,
			   const struct pkt_frame_event *e)
{
	pkt_report_frame(e, origin_of(run, e->sk));
}

/* ring_buffer_sample_fn: the signature is libbpf's. */
// NOLINTNEXTLINE(bugprone-easily-swappable-parameters)
static int handle_event(void *ctx, void *data, size_t size)
{
	struct pkt_run *run = ctx;
	union pkt_record rec;

	dump_record("pktleak", data, size);
	if (pktleak_decode_record(data, size, &rec)) {
		run->malformed_records++;
		return 0;
	}
	if (rec.kind == PKT_EV_FRAME) {
		if (run->timeline)
			on_frame_event(run, &rec.frame);
	} else {
		on_sock_event(run, &rec.sock);
	}
	return 0;
}

/* ring_buffer_sample_fn for the frame ring: one leaked frame's bytes. */
// NOLINTNEXTLINE(bugprone-easily-swappable-parameters)
static int handle_frame(void *ctx, void *data, size_t size)
{
	struct pkt_run *run = ctx;
	static struct pkt_frame_data d; /* 2 KB: not on the stack */

	dump_record("pktleak-frame", data, size);
	if (pktleak_decode_frame(data, size, &d))
		run->malformed_records++;
	else
		pkt_pcap_write(&run->pcap, &d);
	return 0;
}

/*
 * The interfaces of the file's ifindexes, in the traced sockets' namespaces
 * (tcpdump -r names an ifindex after the reader's own interfaces).
 */
static void print_pcap_names(const struct pkt_pcap *p)
{
	const char *name;

	if (!p->nseen)
		return;
	printf("interfaces in the file (ifindex in the traced namespace):");
	for (int i = 0; i < p->nseen; i++) {
		name = pkt_pcap_ifname(p, (int)p->seen[i]);
		printf(" %u %s", p->seen[i], name ? name : "?");
	}
	printf("\n");
}

static json_object *pcap_names_json(const struct pkt_pcap *p)
{
	json_object *o = json_object_new_object();
	const char *name;
	char key[16];

	for (int i = 0; i < p->nseen; i++) {
		name = pkt_pcap_ifname(p, (int)p->seen[i]);
		snprintf(key, sizeof(key), "%u", p->seen[i]);
		json_object_object_add(
			o, key, name ? json_object_new_string(name) : NULL);
	}
	return o;
}

/* Records dropped by pktleak_decode_*(): always with -v, else if any. */
static void report_malformed(const struct pkt_run *run)
{
	if (run->malformed_records)
		warn("%llu malformed ring records (wrong size or kind) dropped",
		     run->malformed_records);
	else
		info("ring records: 0 malformed");
}

/* -w: what went to the file, and what BPF could not hand over. */
static void report_pcap(struct pkt_run *run)
{
	const struct pkt_pcap *p = &run->pcap;
	unsigned long long lost = pkt_session_frames_lost(&run->session);
	json_object *j;

	if (!run->opts->pcap_path)
		return;
	if (!env.json) {
		printf("\n%llu leaked frames written to %s (%llu reached before "
		       "bind, %llu read after bind from other interfaces of "
		       "sockets opened before tracing, %llu read unfiltered); "
		       "%llu not written for want of ring room\n",
		       (unsigned long long)p->written, p->path,
		       (unsigned long long)p->by_why[PKT_LEAK_BEFORE_BIND],
		       (unsigned long long)p->by_why[PKT_LEAK_OTHER_READ],
		       (unsigned long long)p->by_why[PKT_LEAK_UNFILTERED],
		       lost);
		print_pcap_names(p);
		return;
	}
	j = json_object_new_object();
	json_object_object_add(j, "event", json_object_new_string("pcap"));
	json_object_object_add(j, "file", json_object_new_string(p->path));
	json_object_object_add(j, "snaplen",
			       json_object_new_int((int)run->opts->snaplen));
	json_object_object_add(j, "frames",
			       json_object_new_int64((int64_t)p->written));
	json_object_object_add(
		j, "before_bind",
		json_object_new_int64(
			(int64_t)p->by_why[PKT_LEAK_BEFORE_BIND]));
	json_object_object_add(
		j, "other_read",
		json_object_new_int64((int64_t)p->by_why[PKT_LEAK_OTHER_READ]));
	json_object_object_add(
		j, "unfiltered",
		json_object_new_int64((int64_t)p->by_why[PKT_LEAK_UNFILTERED]));
	json_object_object_add(j, "malformed_records",
			       json_object_new_uint64(run->malformed_records));
	json_object_object_add(j, "frames_lost",
			       json_object_new_int64((int64_t)lost));
	json_object_object_add(j, "interfaces", pcap_names_json(p));
	json_print_line(j);
}

/* ------------------------------------------------- built-in experiment */

static const struct pkt_iface *slot_of(const struct pkt_sock *s, int ifindex)
{
	for (int i = 0; i < PKT_MAX_IFACES; i++)
		if (s->ifs[i].ifindex == ifindex)
			return &s->ifs[i];
	return NULL;
}

static uint64_t reads_of(const struct pkt_sock *s, int ifindex)
{
	const struct pkt_iface *f = slot_of(s, ifindex);

	return f ? f->read : 0;
}

/* The frames of one interface, in the finished socket @done. */
static void add_iface(struct strategy_result *res, const struct run_steps *st,
		      const struct pkt_iface *f, int target)
{
	bool ring = res->strategy == STRAT_RING;
	uint64_t read_in_window = f->read - reads_of(&st->drained, f->ifindex);

	memcpy(res->ifs[res->nifs].name, f->name, PKT_IFNAMSIZ);
	res->ifs[res->nifs].ifindex = f->ifindex;
	res->ifs[res->nifs].reached = f->reached_unbound;
	res->ifs[res->nifs].queued = f->queued_unbound;
	res->nifs++;
	res->reached_before_bind += f->reached_unbound;
	res->queued_before_bind += f->queued_unbound;
	/* BPF counts a frame written to a mapped ring as read at once */
	if (ring)
		read_in_window = f->read;
	if (f->ifindex != target) {
		res->leaked_read += read_in_window;
		return;
	}
	res->target_read = read_in_window;
	/* thrown away: drained after bind, or refused (filter, no room) */
	res->target_lost = reads_of(&st->drained, target) -
			   reads_of(&st->bound, target) + f->reached_bound -
			   f->queued_bound;
}

static void compute_result(struct pkt_run *run, const struct pkt_sock *done,
			   const struct exp_msg *m, struct strategy_result *res)
{
	const struct run_steps *st = &run->steps;

	memset(res, 0, sizeof(*res));
	res->strategy = m->strategy;
	res->run = m->run;
	/* from BPF: socket()'s return to bind()'s entry, and bind() itself */
	res->gap_ns = done->bind_enter_ns - done->created_ns;
	res->bind_duration_ns = done->bound_ns - done->bind_enter_ns;
	/* no filter, no filter window: the columns say "-" and null */
	res->queued_before_filter =
		done->filter_ns ? done->queued_before_filter : 0;
	res->unfiltered_read = done->filter_ns ? done->unfiltered_read : 0;
	res->filter_attached_ns =
		done->filter_ns ? done->filter_ns - done->created_ns : 0;
	res->noise_sent = st->bound_msg.noise_sent - st->socket_msg.noise_sent;
	res->reader_leaked = m->reader.leaked;
	res->reader_read = m->reader.read;
	res->drained = m->reader.drained;
	res->cost_ns = m->cost_ns;
	res->untracked = done->untracked;
	for (int i = 0; i < PKT_MAX_IFACES; i++)
		if (done->ifs[i].ifindex)
			add_iface(res, st, &done->ifs[i],
				  run->ready.target_ifindex);
}

static int snapshot(struct pkt_run *run, const struct exp_msg *m,
		    struct pkt_sock *out)
{
	ring_buffer__consume(run->session.rb);
	if (pkt_session_socket(&run->session, run->target.pid, m->fd, out))
		return fail(EXIT_RUNTIME,
			    "BPF did not see the packet socket of strategy %d "
			    "(fd %d)",
			    m->strategy + 1, m->fd);
	return 0;
}

static void print_strategy_title(const struct pkt_run *run,
				 const struct exp_msg *m)
{
	if (!run->timeline || env.json)
		return;
	printf("strategy %d, run %d: %s\n", m->strategy + 1, m->run + 1,
	       strategies[m->strategy].how);
}

static int finish_strategy(struct pkt_run *run, const struct exp_msg *m)
{
	struct pkt_report *r = &run->report;
	struct strategy_result *res;
	struct pkt_sock done;
	int err;

	if (m->err)
		return fail(EXIT_RUNTIME, "strategy %d failed: %s",
			    m->strategy + 1, strerror(m->err));
	err = snapshot(run, m, &done);
	if (err)
		return err;
	if (r->nresults == ARRAY_SIZE(r->results))
		return fail(EXIT_RUNTIME, "too many runs");
	res = &r->results[r->nresults++];
	compute_result(run, &done, m, res);
	pkt_report_strategy(r, res);
	return 0;
}

static int on_exp_msg(struct pkt_run *run, const struct exp_msg *m)
{
	switch (m->phase) {
	case EXP_READY:
		run->ready = *m;
		pkt_report_setup(&run->report);
		return 0;
	case EXP_SOCKET:
		run->steps.socket_msg = *m;
		print_strategy_title(run, m);
		ring_buffer__consume(run->session.rb);
		return 0;
	case EXP_BOUND:
		run->steps.bound_msg = *m;
		return snapshot(run, m, &run->steps.bound);
	case EXP_DRAINED:
		return snapshot(run, m, &run->steps.drained);
	case EXP_DONE:
		return finish_strategy(run, m);
	default:
		return fail(EXIT_RUNTIME, "bad message from the experiment");
	}
}

/* 0 with a message in @m, 1 when the child is gone, or an exit code. */
static int read_exp_msg(struct pkt_run *run, int fd, struct exp_msg *m)
{
	struct pollfd p[2] = {
		{ .fd = fd, .events = POLLIN },
		{ .fd = run->target.pidfd, .events = POLLIN },
	};
	int timeout = STEP_TIMEOUT_MS + (int)run->opts->exp.gap_ms +
		      (int)run->opts->exp.filter_gap_ms +
		      (int)run->opts->exp.window_ms;
	int n = poll(p, 2, timeout);

	if (n < 0 && errno == EINTR)
		return fail(EXIT_RUNTIME, "interrupted by signal %d",
			    (int)stop_signal);
	if (n < 0)
		return fail(EXIT_RUNTIME, "poll: %s", strerror(errno));
	if (n == 0)
		return fail(EXIT_RUNTIME, "experiment stuck for %d ms",
			    timeout);
	if (!(p[0].revents & POLLIN))
		return 1;
	return read(fd, m, sizeof(*m)) == (ssize_t)sizeof(*m) ? 0 : 1;
}

struct exp_pipes {
	int msg_rd;
	int ack_wr;
};

static int drive_experiment(struct pkt_run *run, struct exp_pipes p)
{
	unsigned int mask = run->opts->exp.strategy_mask;
	int expected = __builtin_popcount(mask) * (int)run->opts->exp.repeat;
	int done = 0, err;
	struct exp_msg m;

	while (done < expected && !stop_signal) {
		err = read_exp_msg(run, p.msg_rd, &m);
		if (err)
			return err > 0 && !stop_signal ?
				       fail(EXIT_RUNTIME,
					    "the experiment ended early") :
				       err;
		if (m.strategy < 0 || m.strategy >= PKT_NSTRATEGIES)
			return fail(EXIT_RUNTIME, "bad strategy %d",
				    m.strategy);
		err = on_exp_msg(run, &m);
		if (err)
			return err;
		done += m.phase == EXP_DONE;
		if (write(p.ack_wr, "k", 1) != 1)
			return fail(EXIT_RUNTIME, "the experiment went away");
	}
	if (stop_signal)
		return fail(EXIT_RUNTIME, "interrupted by signal %d",
			    (int)stop_signal);
	pkt_report_finish(&run->report);
	return EXIT_OK;
}

/*
 * Start @fn (the experiment, or exec of a command) in a child that waits
 * until it is traced. Returns 0, the errno the child failed with (> 0), or
 * an exit code (< 0 after negation, reported).
 */
static int spawn_traced(struct pkt_run *run, target_fn fn, void *arg)
{
	int err = target_spawn_fn(&run->target, fn, arg);

	if (!err)
		err = pkt_session_trace(&run->session, run->target.pid);
	if (err)
		return -err;
	return target_release(&run->target);
}

static int start_experiment(struct pkt_run *run, struct exp_link *link)
{
	int err = spawn_traced(run, exp_child, link);

	if (err > 0)
		return fail(err == EPERM ? EXIT_NOSUPPORT : EXIT_RUNTIME,
			    "cannot set up the test network: %s",
			    strerror(err));
	return err < 0 ? -err : 0;
}

/*
 * The lab's traffic generator is the experiment child's child. Whichever way
 * the child ends, the generator dies with it (PR_SET_PDEATHSIG): as our
 * subreaper orphan we reap it, instead of leaving a zombie to init.
 */
static void reap_orphans(void)
{
	uint64_t deadline = now_ns() + 2000000000ull;

	while (now_ns() < deadline) {
		pid_t pid = waitpid(-1, NULL, WNOHANG);

		if (pid < 0)
			return; /* ECHILD: none left */
		if (!pid)
			usleep(1000);
	}
}

static int run_experiment(struct pkt_run *run)
{
	struct exp_link link = { .opts = &run->opts->exp };
	int to_tracer[2], to_child[2], err;

	prctl(PR_SET_CHILD_SUBREAPER, 1);

	if (pipe2(to_tracer, O_CLOEXEC) || pipe2(to_child, O_CLOEXEC))
		return fail(EXIT_RUNTIME, "pipe: %s", strerror(errno));
	link.msg_fd = to_tracer[1];
	link.ack_fd = to_child[0];
	err = start_experiment(run, &link);
	close(to_tracer[1]);
	close(to_child[0]);
	if (!err)
		err = drive_experiment(
			run, (struct exp_pipes){ .msg_rd = to_tracer[0],
						 .ack_wr = to_child[1] });
	close(to_tracer[0]);
	close(to_child[1]);
	return err;
}

/* ------------------------------------------------------------ watching */

static void report_open_socket(const struct pkt_sock *s, void *ctx)
{
	const struct pkt_run *run = ctx;

	pkt_report_socket(s, "tracing ended", run->start_ns);
}

/*
 * -v: the live entries of the per-socket maps when watching ends, counted by
 * walking each map (an array counts its non-zero slots), with the BPF
 * program's own counters: sockets still open are the only entries left.
 */
static void report_map_stats(const struct pkt_run *run)
{
	const struct pktleak_bpf *skel = run->session.skel;
	const struct bpf_map *maps[] = { skel->maps.sockets, skel->maps.pending,
					 skel->maps.hook_slots,
					 skel->maps.traced_tgids };
	static const char zero[64];
	json_object *j = json_object_new_object(), *live;
	char key[8], next[8], value[sizeof(zero)];

	live = json_object_new_object();
	for (size_t i = 0; i < ARRAY_SIZE(maps); i++) {
		int fd = bpf_map__fd(maps[i]), n = 0;
		bool array = bpf_map__type(maps[i]) == BPF_MAP_TYPE_ARRAY;
		size_t vsize = bpf_map__value_size(maps[i]);
		void *prev = NULL;

		if (bpf_map__key_size(maps[i]) > sizeof(key) ||
		    (array && vsize > sizeof(value)))
			continue;
		while (!bpf_map_get_next_key(fd, prev, next)) {
			memcpy(key, next, sizeof(key));
			prev = key;
			n += !array || (!bpf_map_lookup_elem(fd, key, value) &&
					memcmp(value, zero, vsize) != 0);
		}
		json_object_object_add(live, bpf_map__name(maps[i]),
				       json_object_new_int(n));
		info("stats: %s: %d live entries", bpf_map__name(maps[i]), n);
	}
	json_add(j, "event", json_object_new_string("stats"));
	json_add(j, "live_entries", live);
	json_add(j, "nr_sockets", json_object_new_int64(skel->bss->nr_sockets));
	json_add(j, "nr_unbound", json_object_new_int64(skel->bss->nr_unbound));
	json_add(j, "untracked_sockets",
		 json_object_new_uint64(skel->bss->untracked_sockets));
	json_add(j, "unmatched_sockets",
		 json_object_new_uint64(skel->bss->unmatched_sockets));
	json_add(j, "lost_events",
		 json_object_new_uint64(skel->bss->lost_events));
	if (env.json)
		json_print_line(j);
	else
		json_object_put(j);
}

static bool watch_over(struct pkt_run *run, uint64_t deadline)
{
	if (run->opts->all)
		return deadline && now_ns() >= deadline;
	return target_exited(&run->target);
}

static int watch(struct pkt_run *run)
{
	uint64_t deadline = 0;
	int forwarded = 0;

	if (run->opts->duration_s)
		deadline = now_ns() + run->opts->duration_s * 1000000000ull;
	while (!watch_over(run, deadline)) {
		if (stop_signal && run->target.spawned && !forwarded++)
			target_kill(&run->target, stop_signal);
		else if (stop_signal && !run->target.spawned)
			break;
		ring_buffer__poll(run->session.rb, POLL_INTERVAL_MS);
	}
	ring_buffer__consume(run->session.rb);
	pkt_session_for_each(&run->session, report_open_socket, run);
	if (run->timeline)
		report_map_stats(run);
	return run->target.spawned ? target_exit_code(&run->target) : EXIT_OK;
}

static int run_command(struct pkt_run *run, char **argv)
{
	int err = spawn_traced(run, target_exec_fn, argv);

	if (err > 0)
		return fail_exec(argv[0], err);
	return err < 0 ? -err : watch(run);
}

/* Tracing is live for PID once it is in the traced set: then --ready-file. */
static int run_pid(struct pkt_run *run, pid_t pid)
{
	int err = target_attach(&run->target, pid);

	if (!err)
		err = pkt_session_trace(&run->session, pid);
	if (!err)
		err = write_ready_file(run->opts->ready_file);
	return err ? err : watch(run);
}

/* ------------------------------------------------------------ main */

static int open_session(struct pkt_run *run, char *why, size_t why_len)
{
	const struct pktleak_opts *o = run->opts;
	struct kernel_features kf;
	struct pkt_session_opts so = {
		.kf = &kf,
		.trace_all = o->all,
		/* --all watches every process: no tree to follow */
		.follow_children = !is_experiment(run) && !o->all,
		.timeline = run->timeline,
		/* target_lost: frames of the target refused after bind */
		.reached_after_bind = is_experiment(run),
		.snaplen = o->pcap_path ? o->snaplen : 0,
		.on_event = handle_event,
		.on_frame = handle_frame,
		.ctx = run,
	};
	int err;

	probe_kernel(&kf);
	err = backend_select(&kf, env.backend, &so.backend, why, why_len);
	if (!err)
		err = pkt_backend_check(&kf, so.backend, why, why_len);
	if (err) {
		kernel_features_release(&kf);
		return fail(err, "%s", why);
	}
	info("backend %s: %s", backend_name(so.backend), why);
	so.sys_fentry = so.backend == BACKEND_FENTRY &&
			pkt_sys_fentry_ok(kf.vmlinux);
	/* before the skeleton loads: libbpf parses its own copy */
	kernel_features_release(&kf);
	err = pkt_session_open(&run->session, &so);
	if (err)
		return err;
	run->report = (struct pkt_report){
		.backend = backend_name(so.backend),
		.backend_why = why,
		.reached_source = run->session.reached_source,
		.queued_source = run->session.queued_source,
		.opts = &o->exp,
		.ready = &run->ready,
	};
	return 0;
}

static int run_mode(struct pkt_run *run)
{
	const struct pktleak_opts *o = run->opts;

	if (o->command)
		return run_command(run, o->command);
	if (o->pid)
		return run_pid(run, o->pid);
	if (o->all)
		return watch(run);
	return run_experiment(run);
}

int cmd_pktleak(int argc, char **argv)
{
	static struct pkt_run run;
	static struct pktleak_opts o = {
		.snaplen = 128,
		.exp = { .rate = 2000,
			 .target_rate = 100,
			 .gap_ms = 100,
			 .window_ms = 50,
			 .filter_gap_ms = 10,
			 .repeat = 1,
			 .strategy_mask = (1u << PKT_NSTRATEGIES) - 1 },
	};
	static char why[512];
	int err;

	err = parse_opts(argc, argv, &o);
	if (err)
		return err < 0 ? EXIT_OK : err;
	err = require_bpf_caps();
	if (!err && o.pcap_path)
		err = pkt_pcap_open(&run.pcap, o.pcap_path, o.snaplen);
	if (err)
		return err;
	install_stop_signals();
	run.opts = &o;
	run.timeline = env.verbose > 0;
	run.start_ns = now_ns();
	target_init(&run.target);
	err = open_session(&run, why, sizeof(why));
	if (!err && !o.pid) /* -p: see run_pid() */
		err = write_ready_file(o.ready_file);
	startup_lap("ready");
	if (!err)
		err = run_mode(&run);
	if (run.session.rb)
		ring_buffer__consume(run.session.rb);
	pkt_pcap_close(&run.pcap);
	if (!err || run.target.spawned)
		report_pcap(&run);
	if (pkt_session_lost(&run.session))
		warn("%llu events lost (ring buffer full); counts are complete, "
		     "the timeline and socket reports are not",
		     pkt_session_lost(&run.session));
	report_malformed(&run);
	target_close(&run.target);
	if (is_experiment(&run))
		reap_orphans();
	pkt_session_close(&run.session);
	if (o.ready_file)
		unlink(o.ready_file);
	return err;
}
