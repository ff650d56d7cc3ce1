// SPDX-License-Identifier: GPL-2.0
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "pktleak_report.h"
#include "tracer.h"

#define ETH_P_ALL_HOST 0x0003

/* The numeric columns of a strategy row, by JSON name. */
static const struct {
	const char *name;
	size_t off;
} fields[] = {
	{ "reached_before_bind",
	  offsetof(struct strategy_result, reached_before_bind) },
	{ "queued_before_bind",
	  offsetof(struct strategy_result, queued_before_bind) },
	{ "leaked_read", offsetof(struct strategy_result, leaked_read) },
	{ "reader_leaked", offsetof(struct strategy_result, reader_leaked) },
	{ "target_lost", offsetof(struct strategy_result, target_lost) },
	{ "target_read", offsetof(struct strategy_result, target_read) },
	{ "reader_read", offsetof(struct strategy_result, reader_read) },
	{ "drained", offsetof(struct strategy_result, drained) },
	{ "cost_ns", offsetof(struct strategy_result, cost_ns) },
	{ "queued_before_filter",
	  offsetof(struct strategy_result, queued_before_filter) },
	{ "unfiltered_read",
	  offsetof(struct strategy_result, unfiltered_read) },
	{ "gap_ns", offsetof(struct strategy_result, gap_ns) },
	{ "bind_duration_ns",
	  offsetof(struct strategy_result, bind_duration_ns) },
	{ "noise_sent", offsetof(struct strategy_result, noise_sent) },
};

enum field_id {
	F_REACHED,
	F_QUEUED,
	F_LEAKED,
	F_READER_LEAKED,
	F_TARGET_LOST,
	F_TARGET_READ,
	F_READER_READ,
	F_DRAINED,
	F_COST,
	F_QUEUED_BEFORE_FILTER,
	F_UNFILTERED_READ,
};

struct stats {
	uint64_t min, median, max;
	int n;
};

static uint64_t field_of(const struct strategy_result *res, size_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)res + off, sizeof(v));
	return v;
}

// NOLINTNEXTLINE(bugprone-easily-swappable-parameters): qsort's signature
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* min/median/max of every field over the runs of one strategy */
struct strategy_stats {
	int runs;
	bool filtered; /* a filter was attached in some run */
	struct stats f[ARRAY_SIZE(fields)];
};

static struct stats
field_stats(size_t off, const struct strategy_result *const *runs, int n)
{
	static uint64_t v[PKT_MAX_RUNS];
	struct stats st = { .n = n };

	for (int i = 0; i < n; i++)
		v[i] = field_of(runs[i], off);
	qsort(v, (size_t)n, sizeof(v[0]), cmp_u64);
	st.min = v[0];
	st.median = v[n / 2];
	st.max = v[n - 1];
	return st;
}

static void strategy_stats(const struct pkt_report *r, int strategy,
			   struct strategy_stats *ss)
{
	const struct strategy_result *runs[PKT_MAX_RUNS];

	memset(ss, 0, sizeof(*ss));
	for (int i = 0; i < r->nresults && ss->runs < PKT_MAX_RUNS; i++) {
		if (r->results[i].strategy != strategy)
			continue;
		ss->filtered |= r->results[i].filter_attached_ns != 0;
		runs[ss->runs++] = &r->results[i];
	}
	if (!ss->runs)
		return;
	for (size_t f = 0; f < ARRAY_SIZE(fields); f++)
		ss->f[f] = field_stats(fields[f].off, runs, ss->runs);
}

static const char *protocol_name(unsigned int proto, char *buf, size_t len)
{
	if (proto == ETH_P_ALL_HOST)
		return "ETH_P_ALL";
	if (!proto)
		return "0";
	snprintf(buf, len, "0x%04x", proto);
	return buf;
}

/* milliseconds with 3 decimals, printed as such */
static json_object *json_ms(double ms)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.3f", ms);
	return json_object_new_double_s(ms, buf);
}

/* ------------------------------------------------------------ set-up */

void pkt_report_setup(const struct pkt_report *r)
{
	const struct exp_opts *o = r->opts;
	json_object *j;

	if (!env.json) {
		printf("backend %s (%s)\n", r->backend, r->backend_why);
		if (o->ifname)
			printf("interface %s in this network namespace, with "
			       "the traffic it has; ",
			       o->ifname);
		else
			printf("private network namespace: %s (%u frames/s "
			       "in) and %s (%u frames/s of noise in); ",
			       r->ready->target_ifname, o->target_rate,
			       r->ready->noise_ifname, o->rate);
		printf("gap %u ms, filter gap (6) %u ms, read window %u ms%s\n",
		       o->gap_ms, o->filter_gap_ms, o->window_ms,
		       o->repeat > 1 ? ", median of the runs" : "");
		printf("reached: %s; queued: %s\n\n", r->reached_source,
		       r->queued_source);
		fflush(stdout);
		return;
	}
	j = json_object_new_object();
	json_object_object_add(j, "event", json_object_new_string("setup"));
	json_object_object_add(j, "backend",
			       json_object_new_string(r->backend));
	json_object_object_add(j, "backend_why",
			       json_object_new_string(r->backend_why));
	json_object_object_add(j, "reached_source",
			       json_object_new_string(r->reached_source));
	json_object_object_add(j, "queued_source",
			       json_object_new_string(r->queued_source));
	json_object_object_add(j, "target_ifname",
			       json_object_new_string(r->ready->target_ifname));
	json_object_object_add(
		j, "noise_ifname",
		o->ifname ? NULL :
			    json_object_new_string(r->ready->noise_ifname));
	json_object_object_add(j, "rate", json_object_new_int64(o->rate));
	json_object_object_add(j, "target_rate",
			       json_object_new_int64(o->target_rate));
	json_object_object_add(j, "gap_ms", json_object_new_int64(o->gap_ms));
	json_object_object_add(j, "window_ms",
			       json_object_new_int64(o->window_ms));
	json_object_object_add(j, "filter_gap_ms",
			       json_object_new_int64(o->filter_gap_ms));
	json_object_object_add(j, "repeat", json_object_new_int64(o->repeat));
	json_print_line(j);
}

/* ------------------------------------------------------------ strategies */

static json_object *by_ifname(const struct strategy_result *res, bool queued)
{
	json_object *o = json_object_new_object();
	char name[PKT_IFNAMSIZ + 16];

	for (int i = 0; i < res->nifs; i++) {
		const char *n = res->ifs[i].name;

		if (!n[0]) {
			snprintf(name, sizeof(name), "ifindex %d",
				 res->ifs[i].ifindex);
			n = name;
		}
		json_object_object_add(
			o, n,
			json_object_new_int64(
				(int64_t)(queued ? res->ifs[i].queued :
						   res->ifs[i].reached)));
	}
	return o;
}

void pkt_report_strategy(const struct pkt_report *r,
			 const struct strategy_result *res)
{
	const struct strategy *st = &strategies[res->strategy];
	json_object *j;

	if (!env.json)
		return;
	j = json_object_new_object();
	json_object_object_add(j, "event", json_object_new_string("strategy"));
	json_object_object_add(j, "index",
			       json_object_new_int(res->strategy + 1));
	json_object_object_add(j, "name", json_object_new_string(st->name));
	json_object_object_add(j, "run", json_object_new_int(res->run + 1));
	json_object_object_add(j, "gap_ms",
			       json_object_new_int64(r->opts->gap_ms));
	json_object_object_add(
		j, "filter_attached_ms",
		res->filter_attached_ns ?
			json_ms((double)res->filter_attached_ns / 1e6) :
			NULL);
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		json_object_object_add(j, fields[i].name,
				       json_object_new_int64((int64_t)field_of(
					       res, fields[i].off)));
	if (!res->filter_attached_ns) {
		json_object_object_add(j, "queued_before_filter", NULL);
		json_object_object_add(j, "unfiltered_read", NULL);
	}
	json_object_object_add(j, "reached_by_ifname", by_ifname(res, false));
	json_object_object_add(j, "queued_by_ifname", by_ifname(res, true));
	json_object_object_add(j, "untracked_frames",
			       json_object_new_int64((int64_t)res->untracked));
	json_object_object_add(
		j, "leaked_read_source",
		json_object_new_string(
			res->strategy == STRAT_RING ?
				"frames tpacket_rcv wrote to the ring" :
				"recv copies (skb_copy_datagram_iovec)"));
	json_print_line(j);
}

/* ------------------------------------------------------------ runs */

static void print_summary_json(int strategy, const struct strategy_stats *ss)
{
	json_object *j = json_object_new_object();

	json_object_object_add(j, "event",
			       json_object_new_string("strategy_summary"));
	json_object_object_add(j, "index", json_object_new_int(strategy + 1));
	json_object_object_add(
		j, "name", json_object_new_string(strategies[strategy].name));
	json_object_object_add(j, "runs", json_object_new_int(ss->runs));
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		const struct stats *st = &ss->f[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "min",
				       json_object_new_int64((int64_t)st->min));
		json_object_object_add(
			o, "median",
			json_object_new_int64((int64_t)st->median));
		json_object_object_add(o, "max",
				       json_object_new_int64((int64_t)st->max));
		json_object_object_add(j, fields[i].name, o);
	}
	json_print_line(j);
}

/* ------------------------------------------------------------ the table */

struct column {
	enum field_id f;
	unsigned int scale; /* F_COST: ns shown as us */
};

static const struct column table_cols[] = {
	{ F_REACHED, 1 },
	{ F_QUEUED, 1 },
	{ F_LEAKED, 1 },
	{ F_READER_LEAKED, 1 },
	{ F_QUEUED_BEFORE_FILTER, 1 },
	{ F_UNFILTERED_READ, 1 },
	{ F_TARGET_LOST, 1 },
	{ F_COST, 1000 },
};

static void print_cell(const struct strategy_stats *ss,
		       const struct column *col, bool range)
{
	const struct stats *st = &ss->f[col->f];
	char buf[48];

	if (!ss->filtered &&
	    (col->f == F_QUEUED_BEFORE_FILTER || col->f == F_UNFILTERED_READ))
		snprintf(buf, sizeof(buf), "-");
	else if (range)
		snprintf(buf, sizeof(buf), "%llu-%llu",
			 (unsigned long long)(st->min / col->scale),
			 (unsigned long long)(st->max / col->scale));
	else
		snprintf(buf, sizeof(buf), "%llu",
			 (unsigned long long)(st->median / col->scale));
	printf(" %8s", buf);
}

/* "noise 200, target 12" from the last run of @strategy */
static void print_ifaces(const struct pkt_report *r, int strategy)
{
	const struct strategy_result *res = NULL;
	const char *sep = "";

	for (int i = 0; i < r->nresults; i++)
		if (r->results[i].strategy == strategy)
			res = &r->results[i];
	if (!res)
		return;
	printf("  ");
	for (int i = 0; i < res->nifs; i++) {
		if (!res->ifs[i].reached)
			continue;
		if (res->ifs[i].name[0])
			printf("%s%s %llu", sep, res->ifs[i].name,
			       (unsigned long long)res->ifs[i].reached);
		else
			printf("%sifindex %d %llu", sep, res->ifs[i].ifindex,
			       (unsigned long long)res->ifs[i].reached);
		sep = ", ";
	}
	if (!*sep)
		printf("-");
}

static void print_table(const struct pkt_report *r,
			const struct strategy_stats *all)
{
	printf("%-32s %8s %8s %8s %8s %8s %8s %8s %8s  %s\n", "", "reached",
	       "queued", "leaked", "leaked", "queued", "unfilt.", "target",
	       "cost", "reached before bind");
	printf("%-32s %8s %8s %8s %8s %8s %8s %8s %8s  %s\n", "strategy",
	       "pre-bind", "pre-bind", "(BPF)", "(reader)", "pre-filt", "read",
	       "lost", "(us)", "by interface (last run)");
	for (int s = 0; s < PKT_NSTRATEGIES; s++) {
		if (!all[s].runs)
			continue;
		printf("%d %-30s", s + 1, strategies[s].title);
		for (size_t c = 0; c < ARRAY_SIZE(table_cols); c++)
			print_cell(&all[s], &table_cols[c], false);
		print_ifaces(r, s);
		printf("\n");
		if (all[s].runs < 2)
			continue;
		printf("  %-30s", "min-max");
		for (size_t c = 0; c < ARRAY_SIZE(table_cols); c++)
			print_cell(&all[s], &table_cols[c], true);
		printf("\n");
	}
}

/* ------------------------------------------------------ recommendation */

static uint64_t median(const struct strategy_stats *ss, enum field_id f)
{
	return ss->f[f].median;
}

static bool leak_free(const struct strategy_stats *ss)
{
	return ss->runs && !ss->f[F_LEAKED].max &&
	       !ss->f[F_READER_LEAKED].max && !ss->f[F_UNFILTERED_READ].max;
}

/* The leak-free strategy losing fewest target frames, then cheapest. */
static int best_strategy(const struct strategy_stats *all)
{
	int best = -1;

	for (int s = 0; s < PKT_NSTRATEGIES; s++) {
		const struct strategy_stats *b = best < 0 ? NULL : &all[best];

		if (!leak_free(&all[s]))
			continue;
		if (!b ||
		    median(&all[s], F_TARGET_LOST) < median(b, F_TARGET_LOST) ||
		    (median(&all[s], F_TARGET_LOST) ==
			     median(b, F_TARGET_LOST) &&
		     median(&all[s], F_COST) < median(b, F_COST)))
			best = s;
	}
	return best;
}

static void describe(char *buf, size_t len, int s,
		     const struct strategy_stats *ss)
{
	snprintf(buf, len,
		 "%s (%d): %llu frames reached the socket before bind, %llu "
		 "read from other interfaces, %llu read unfiltered, %llu "
		 "target frames lost, %llu us of extra work",
		 strategies[s].title, s + 1,
		 (unsigned long long)median(ss, F_REACHED),
		 (unsigned long long)median(ss, F_LEAKED),
		 (unsigned long long)median(ss, F_UNFILTERED_READ),
		 (unsigned long long)median(ss, F_TARGET_LOST),
		 (unsigned long long)median(ss, F_COST) / 1000);
}

static void print_recommendation(const struct strategy_stats *all)
{
	int best = best_strategy(all);
	char text[512], what[256];
	json_object *j;

	if (best < 0)
		snprintf(text, sizeof(text),
			 "no strategy kept frames of other interfaces out");
	else
		describe(what, sizeof(what), best, &all[best]);
	if (best >= 0)
		snprintf(text, sizeof(text), "use %s", what);
	if (env.json) {
		j = json_object_new_object();
		json_object_object_add(
			j, "event", json_object_new_string("recommendation"));
		json_object_object_add(
			j, "strategy",
			best < 0 ?
				NULL :
				json_object_new_string(strategies[best].name));
		json_object_object_add(j, "text", json_object_new_string(text));
		json_print_line(j);
		return;
	}
	printf("\nRecommendation: %s.\n", text);
	for (int s = 0; s < PKT_NSTRATEGIES; s++) {
		if (s == best || !all[s].runs)
			continue;
		describe(what, sizeof(what), s, &all[s]);
		printf("  vs %s%s\n", what,
		       leak_free(&all[s]) ? "" : " (leaks)");
	}
}

void pkt_report_finish(const struct pkt_report *r)
{
	struct strategy_stats all[PKT_NSTRATEGIES];

	for (int s = 0; s < PKT_NSTRATEGIES; s++)
		strategy_stats(r, s, &all[s]);
	if (!env.json)
		print_table(r, all);
	for (int s = 0; env.json && s < PKT_NSTRATEGIES; s++)
		if (all[s].runs > 1)
			print_summary_json(s, &all[s]);
	print_recommendation(all);
}

/* ------------------------------------------------------------ watch mode */

static uint64_t sum_ifs(const struct pkt_sock *s, bool queued)
{
	uint64_t n = 0;

	for (int i = 0; i < PKT_MAX_IFACES; i++)
		if (s->ifs[i].ifindex)
			n += queued ? s->ifs[i].queued_unbound :
				      s->ifs[i].reached_unbound;
	return n;
}

/* frames read after bind from interfaces other than the bound one */
static uint64_t leaked_reads(const struct pkt_sock *s)
{
	uint64_t n = 0;

	for (int i = 0; i < PKT_MAX_IFACES; i++)
		if (s->ifs[i].ifindex && s->bound_ifindex &&
		    s->ifs[i].ifindex != s->bound_ifindex)
			n += s->ifs[i].read;
	return n;
}

static void iface_label(const struct pkt_iface *f, char *buf, size_t len)
{
	if (f->name[0])
		snprintf(buf, len, "%s", f->name);
	else
		snprintf(buf, len, "ifindex %d", f->ifindex);
}

static json_object *socket_ifaces_json(const struct pkt_sock *s)
{
	json_object *o = json_object_new_object();
	char name[PKT_IFNAMSIZ + 16];

	for (int i = 0; i < PKT_MAX_IFACES; i++) {
		const struct pkt_iface *f = &s->ifs[i];

		if (!f->ifindex || !f->reached_unbound)
			continue;
		iface_label(f, name, sizeof(name));
		json_object_object_add(
			o, name,
			json_object_new_int64((int64_t)f->reached_unbound));
	}
	return o;
}

static double ms_between(uint64_t from, uint64_t to)
{
	return from && to >= from ? (double)(to - from) / 1e6 : -1.0;
}

/* ms since socket() (or since first seen), null when unknown */
static json_object *since_socket_json(const struct pkt_sock *s, uint64_t ns)
{
	return s->created_ns && ns ? json_ms(ms_between(s->created_ns, ns)) :
				     NULL;
}

/*
 * The filter window: frames queued after bind while no filter was attached,
 * and of those, the ones read once it was. Null without a filter; reads are
 * unknown for a mapped ring (user space sees its frames at once).
 */
static void add_filter_json(json_object *j, const struct pkt_sock *s)
{
	bool filtered = s->filter_ns;

	json_object_object_add(j, "filter_attached_ms",
			       since_socket_json(s, s->filter_ns));
	json_object_object_add(
		j, "queued_before_filter",
		filtered && !s->ring_late ?
			json_object_new_int64(
				(int64_t)s->queued_before_filter) :
			NULL);
	json_object_object_add(
		j, "unfiltered_read",
		filtered && !s->ring ?
			json_object_new_int64((int64_t)s->unfiltered_read) :
			NULL);
}

static void print_socket_json(const struct pkt_sock *s, const char *closed_by,
			      uint64_t start_ns)
{
	json_object *j = json_object_new_object();
	char buf[16];

	json_object_object_add(j, "event",
			       json_object_new_string("packet_socket"));
	json_object_object_add(j, "pid", json_object_new_int((int)s->tgid));
	json_object_object_add(j, "comm", json_object_new_string(s->comm));
	json_object_object_add(j, "fd", json_object_new_int(s->fd));
	json_object_object_add(j, "protocol", json_object_new_int(s->protocol));
	json_object_object_add(j, "protocol_name",
			       json_object_new_string(protocol_name(
				       s->protocol, buf, sizeof(buf))));
	json_object_object_add(
		j, "created_ms",
		s->created_ns ? json_ms(ms_between(start_ns, s->created_ns)) :
				NULL);
	json_object_object_add(j, "bound_ifname",
			       s->bound && s->bound_ifindex ?
				       json_object_new_string(s->bound_ifname) :
				       NULL);
	json_object_object_add(j, "bound_ifindex",
			       json_object_new_int(s->bound_ifindex));
	json_object_object_add(
		j, "gap_ms",
		s->bound && s->created_ns ?
			json_ms(ms_between(s->created_ns, s->bind_enter_ns)) :
			NULL);
	json_object_object_add(
		j, "bind_duration_ms",
		s->bound ? json_ms(ms_between(s->bind_enter_ns, s->bound_ns)) :
			   NULL);
	json_object_object_add(
		j, "reached_before_bind",
		json_object_new_int64((int64_t)sum_ifs(s, false)));
	json_object_object_add(j, "reached_by_ifname", socket_ifaces_json(s));
	json_object_object_add(
		j, "queued_before_bind",
		json_object_new_int64((int64_t)sum_ifs(s, true)));
	json_object_object_add(
		j, "queued_at_bind",
		s->bound ? json_object_new_int64((int64_t)s->queued_at_bind) :
			   NULL);
	json_object_object_add(j, "leaked_read",
			       json_object_new_int64((int64_t)leaked_reads(s)));
	json_object_object_add(
		j, "queued_after_bind",
		json_object_new_int64((int64_t)s->queued_after_bind));
	add_filter_json(j, s);
	json_object_object_add(j, "ring", json_object_new_boolean(s->ring));
	json_object_object_add(j, "untracked_frames",
			       json_object_new_int64((int64_t)s->untracked));
	json_object_object_add(j, "closed_by",
			       json_object_new_string(closed_by));
	json_print_line(j);
}

static void print_filter_text(const struct pkt_sock *s)
{
	if (!s->filter_ns) {
		printf("; no filter attached");
		return;
	}
	if (s->created_ns)
		printf("; filter attached %.1f ms after socket()",
		       ms_between(s->created_ns, s->filter_ns));
	else
		printf("; filter attached");
	if (s->ring_late) {
		printf(" (TPACKET_V3 ring on this backend: frames queued "
		       "before it unknown)");
		return;
	}
	printf(", %llu frames queued after bind before it",
	       (unsigned long long)s->queued_before_filter);
	if (s->ring)
		printf(" (ring: when they were read is unknown)");
	else
		printf(", %llu of them read unfiltered",
		       (unsigned long long)s->unfiltered_read);
}

static void print_socket_text(const struct pkt_sock *s, const char *closed_by)
{
	const char *sep = " (";
	char buf[16], name[PKT_IFNAMSIZ + 16];

	printf("pid %u (%s) fd %d, protocol %s: ", s->tgid, s->comm, s->fd,
	       protocol_name(s->protocol, buf, sizeof(buf)));
	if (!s->bound)
		printf("never bound");
	else
		printf("bound to %s",
		       s->bound_ifindex ? s->bound_ifname : "all interfaces");
	if (s->bound && s->created_ns)
		printf(" after a %.1f ms gap",
		       ms_between(s->created_ns, s->bind_enter_ns));
	if (s->bound)
		printf(" (bind() took %.1f ms)",
		       ms_between(s->bind_enter_ns, s->bound_ns));
	printf("; %llu frames reached it before bind",
	       (unsigned long long)sum_ifs(s, false));
	for (int i = 0; i < PKT_MAX_IFACES; i++) {
		if (!s->ifs[i].ifindex || !s->ifs[i].reached_unbound)
			continue;
		iface_label(&s->ifs[i], name, sizeof(name));
		printf("%s%s %llu", sep, name,
		       (unsigned long long)s->ifs[i].reached_unbound);
		sep = ", ";
	}
	printf("%s, %llu queued", *sep == ',' ? ")" : "",
	       (unsigned long long)sum_ifs(s, true));
	if (s->bound)
		printf(", %llu waiting at bind, %llu read after bind from "
		       "other interfaces",
		       (unsigned long long)s->queued_at_bind,
		       (unsigned long long)leaked_reads(s));
	print_filter_text(s);
	printf(" [%s]\n", closed_by);
}

void pkt_report_socket(const struct pkt_sock *s, const char *closed_by,
		       uint64_t start_ns)
{
	if (env.json)
		print_socket_json(s, closed_by, start_ns);
	else
		print_socket_text(s, closed_by);
	fflush(stdout);
}

/* ------------------------------------------------------------ timeline */

static const char *const frame_kinds[] = {
	[PKT_FRAME_REACHED] = "reached",
	[PKT_FRAME_QUEUED] = "queued",
	[PKT_FRAME_READ] = "read",
};

static double since_origin(uint64_t ts_ns, const struct pkt_origin *o)
{
	return (double)((int64_t)(ts_ns - o->origin_ns)) / 1e6;
}

void pkt_report_frame(const struct pkt_frame_event *e,
		      const struct pkt_origin *o)
{
	const char *kind = e->frame < ARRAY_SIZE(frame_kinds) ?
				   frame_kinds[e->frame] :
				   "?";
	json_object *j;

	if (!env.json) {
		if (o)
			printf("  %+10.3f ms", since_origin(e->ts_ns, o));
		else
			printf("  %13s", "?");
		printf("  frame %-8s %-16s %-12s", kind,
		       e->ifname[0] ? e->ifname : "?",
		       e->bound ? "after bind" : "before bind");
		if (o)
			printf(" pid %u fd %d", o->tgid, o->fd);
		printf("\n");
		return;
	}
	j = json_object_new_object();
	json_object_object_add(j, "event", json_object_new_string("frame"));
	json_object_object_add(j, "what", json_object_new_string(kind));
	json_object_object_add(j, "pid",
			       o ? json_object_new_int((int)o->tgid) : NULL);
	json_object_object_add(j, "fd", o ? json_object_new_int(o->fd) : NULL);
	json_object_object_add(j, "t_ms",
			       o ? json_ms(since_origin(e->ts_ns, o)) : NULL);
	json_object_object_add(
		j, "t_from",
		o ? json_object_new_string(o->at_socket ? "socket" :
							  "first seen") :
		    NULL);
	json_object_object_add(j, "ifname", json_object_new_string(e->ifname));
	json_object_object_add(j, "ifindex", json_object_new_int(e->ifindex));
	json_object_object_add(j, "bound", json_object_new_boolean(e->bound));
	json_print_line(j);
}

static void print_sock_event_detail(const struct pkt_sock_event *e)
{
	const struct pkt_sock *s = &e->s;

	if (e->kind == PKT_EV_SOCKET && !s->created_ns)
		printf(" (opened before tracing: times from here)");
	if (e->kind == PKT_EV_BIND)
		printf(" to %s, took %.3f ms, %llu frames waiting",
		       s->bound_ifindex ? s->bound_ifname : "all interfaces",
		       ms_between(s->bind_enter_ns, s->bound_ns),
		       (unsigned long long)s->queued_at_bind);
	if (e->kind == PKT_EV_FILTER)
		printf(", %llu frames queued after bind before it",
		       (unsigned long long)s->queued_before_filter);
}

void pkt_report_sock_event(const struct pkt_sock_event *e,
			   const struct pkt_origin *o)
{
	static const char *const kinds[] = {
		[PKT_EV_SOCKET] = "socket()",
		[PKT_EV_BIND] = "bind()",
		[PKT_EV_CLOSE] = "close()",
		[PKT_EV_FILTER] = "filter set",
	};
	/* bind() is shown where it began; it returns bind_duration later */
	uint64_t ts = e->kind == PKT_EV_BIND ? e->s.bind_enter_ns : e->ts_ns;
	char buf[16];

	if (env.json || e->kind >= ARRAY_SIZE(kinds) || !kinds[e->kind])
		return;
	if (o)
		printf("  %+10.3f ms", since_origin(ts, o));
	else
		printf("  %13s", "?");
	printf("  %-14s pid %u fd %d protocol %s", kinds[e->kind], e->s.tgid,
	       e->s.fd,
	       protocol_name(e->kind == PKT_EV_BIND ? e->s.bound_protocol :
						      e->s.protocol,
			     buf, sizeof(buf)));
	print_sock_event_detail(e);
	printf("\n");
}
