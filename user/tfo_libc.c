// SPDX-License-Identifier: GPL-2.0
/*
 * libc send wrappers probed in every process of the traced tree.
 *
 * A uprobe bound to a process (perf_event_open with its pid) traps only in
 * that process's memory (uprobe_perf_filter() compares the mm), so untraced
 * processes pay nothing; but it covers neither the children the process
 * forks (another mm) nor, with attr.inherit, their BPF runs (measured: 0
 * hits). So each process gets its own uprobes, attached while ptrace holds
 * it: at the fork/vfork/clone event of its creator (the child is held in
 * its first stop until then) and at each exec stop. At the exec stop the new
 * image's libc is not mapped yet (ld.so maps it later): a uprobe registered
 * for an inode is installed when a mapping of it appears (uprobe_mmap()), so
 * the libc the image WILL load is probed, chosen from its ELF headers
 * (libc_predict()), and checked against /proc/PID/maps when the process's
 * first send is reported. To make that check always possible the process is
 * also held at its exit (PTRACE_O_TRACEEXIT) while the ring buffer is read.
 * A vfork/CLONE_VM child shares its parent's memory, and so its uprobes,
 * until it execs.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "libc.h"
#include "output.h"
#include "ptree.h"
#include "runtime.h"
#include "tfo.skel.h"
#include "tfo_libc.h"
#include "tfo_session.h"
#include "tracer.h"

#define NWRAPPERS 4
static const char *const wrapper_names[NWRAPPERS] = { "send", "sendto",
						      "sendmsg", "sendmmsg" };

/* A file holding send wrappers, open for the whole run. */
struct wrapper_file {
	struct libc_file f;
	unsigned long offs[NWRAPPERS]; /* 0: not in this file */
	int found;
	/* tracefs uprobe events (see shared_events): id, 0 if none */
	int tp_id[NWRAPPERS];
	struct bpf_link *anchor[NWRAPPERS];
	bool events_tried;
};

/* What a process had probed from @since on (until its next span). */
struct libc_span {
	unsigned long long since; /* CLOCK_MONOTONIC ns, as ts_enter_ns */
	int file; /* index in files[], -1: not probed */
	bool verified; /* the process was seen mapping it */
	bool mismatch; /* ...or seen not mapping it */
	char *why; /* not probed, or the mismatch */
};

struct libc_proc {
	pid_t tgid;
	struct bpf_link *links[NWRAPPERS]; /* uprobe PMU (no tracefs) */
	int nlinks;
	int event_fds[NWRAPPERS]; /* on the tracefs events, or -1 */
	struct libc_span *spans;
	int nspans;
};

struct tfo_libc {
	struct tfo_session *s;
	struct target *target; /* spawned command: its exit status */
	struct ptree tree;
	bool following;
	struct wrapper_file *files;
	int nfiles;
	struct libc_proc *procs;
	int nprocs;
	char default_why[LIBC_WHY_LEN]; /* for a process never seen */
	const char *tracefs; /* where the shared uprobe events are */
	bool no_tracefs;
};

static struct tfo_libc *state(struct tfo_session *s)
{
	if (!s->lp) {
		s->lp = calloc(1, sizeof(*s->lp));
		if (!s->lp)
			return NULL;
		s->lp->s = s;
		s->lp->tree.sigfd = -1;
		snprintf(s->lp->default_why, sizeof(s->lp->default_why),
			 "process not followed (created outside the traced "
			 "tree's ptrace)");
	}
	return s->lp;
}

/* ------------------------------------------------------------ files */

static int file_index(struct tfo_libc *lp, struct libc_file *f, char *why,
		      size_t why_len)
{
	struct wrapper_file *n, *w;

	for (int i = 0; i < lp->nfiles; i++)
		if (lp->files[i].f.dev == f->dev &&
		    lp->files[i].f.ino == f->ino) {
			libc_file_close(f);
			return i;
		}
	n = realloc(lp->files, (size_t)(lp->nfiles + 1) * sizeof(*n));
	if (!n) {
		libc_file_close(f);
		snprintf(why, why_len, "out of memory");
		return -1;
	}
	lp->files = n;
	w = &n[lp->nfiles];
	memset(w, 0, sizeof(*w));
	w->f = *f;
	w->found = elf_func_offsets(f->fd, wrapper_names, NWRAPPERS, w->offs);
	return lp->nfiles++;
}

static const char *file_path(const struct tfo_libc *lp, int file)
{
	return file >= 0 ? lp->files[file].f.path : "";
}

/* ------------------------------------------------------------ processes */

static struct libc_proc *proc_of(struct tfo_libc *lp, pid_t tgid, bool make)
{
	struct libc_proc *n;

	for (int i = lp->nprocs - 1; i >= 0; i--)
		if (lp->procs[i].tgid == tgid)
			return &lp->procs[i];
	if (!make)
		return NULL;
	n = realloc(lp->procs, (size_t)(lp->nprocs + 1) * sizeof(*n));
	if (!n)
		return NULL;
	lp->procs = n;
	n = &lp->procs[lp->nprocs++];
	memset(n, 0, sizeof(*n));
	n->tgid = tgid;
	for (int i = 0; i < NWRAPPERS; i++)
		n->event_fds[i] = -1;
	return n;
}

static struct libc_span *current_span(struct libc_proc *p)
{
	return p->nspans ? &p->spans[p->nspans - 1] : NULL;
}

static void add_span(struct libc_proc *p, int file, bool verified,
		     const char *why)
{
	struct libc_span *n =
		realloc(p->spans, (size_t)(p->nspans + 1) * sizeof(*n));

	if (!n)
		return;
	p->spans = n;
	n[p->nspans++] = (struct libc_span){
		.since = now_ns(),
		.file = file,
		.verified = verified,
		.why = why ? strdup(why) : NULL,
	};
}

/* ------------------------------------------------------ link reaper */

/*
 * Closing a uprobe's perf event waits for an RCU tasks-trace grace period
 * on 6.12+ (uprobe_unregister_sync()): measured here 140 ms a link, 0.55 s
 * for a process's four. Done inline it would hold every followed process
 * that long. Links are handed to short-lived threads instead: concurrent
 * closes share grace periods, and the main loop never waits.
 */
#define REAPER_MAX_THREADS 64

static struct {
	pthread_mutex_t mu;
	pthread_cond_t idle;
	struct bpf_link **q;
	int n, cap;
	int threads;
} reaper = { .mu = PTHREAD_MUTEX_INITIALIZER,
	     .idle = PTHREAD_COND_INITIALIZER };

static void *reaper_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&reaper.mu);
	while (reaper.n) {
		struct bpf_link *l = reaper.q[--reaper.n];

		pthread_mutex_unlock(&reaper.mu);
		bpf_link__destroy(l);
		pthread_mutex_lock(&reaper.mu);
	}
	reaper.threads--;
	pthread_cond_broadcast(&reaper.idle);
	pthread_mutex_unlock(&reaper.mu);
	return NULL;
}

/* Under reaper.mu: one more thread while there is a backlog. */
static void reaper_spawn(void)
{
	pthread_attr_t attr;
	pthread_t th;

	if (reaper.threads >= REAPER_MAX_THREADS || reaper.threads >= reaper.n)
		return;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 << 10);
	if (!pthread_create(&th, &attr, reaper_thread, NULL))
		reaper.threads++;
	pthread_attr_destroy(&attr);
}

static void reap_link(struct bpf_link *l)
{
	struct bpf_link **q;

	pthread_mutex_lock(&reaper.mu);
	if (reaper.n == reaper.cap) {
		int cap = reaper.cap ? reaper.cap * 2 : 64;

		q = realloc(reaper.q, (size_t)cap * sizeof(struct bpf_link *));
		if (!q) {
			pthread_mutex_unlock(&reaper.mu);
			bpf_link__destroy(l);
			return;
		}
		reaper.q = q;
		reaper.cap = cap;
	}
	reaper.q[reaper.n++] = l;
	reaper_spawn();
	/* nothing could start: close it here */
	if (!reaper.threads && reaper.n) {
		l = reaper.q[--reaper.n];
		pthread_mutex_unlock(&reaper.mu);
		bpf_link__destroy(l);
		return;
	}
	pthread_mutex_unlock(&reaper.mu);
}

/* Wait until every handed-over link is closed. */
static void reaper_drain(void)
{
	pthread_mutex_lock(&reaper.mu);
	while (reaper.threads || reaper.n) {
		if (!reaper.threads) { /* (only if thread creation failed) */
			struct bpf_link *l = reaper.q[--reaper.n];

			pthread_mutex_unlock(&reaper.mu);
			bpf_link__destroy(l);
			pthread_mutex_lock(&reaper.mu);
			continue;
		}
		pthread_cond_wait(&reaper.idle, &reaper.mu);
	}
	free(reaper.q);
	reaper.q = NULL;
	reaper.cap = 0;
	pthread_mutex_unlock(&reaper.mu);
}

static int probes_of(const struct libc_proc *p)
{
	int n = p->nlinks;

	for (int i = 0; i < NWRAPPERS; i++)
		n += p->event_fds[i] >= 0;
	return n;
}

static void drop_links(struct libc_proc *p)
{
	for (int i = 0; i < p->nlinks; i++)
		reap_link(p->links[i]);
	p->nlinks = 0;
	for (int i = 0; i < NWRAPPERS; i++) {
		if (p->event_fds[i] >= 0)
			close(p->event_fds[i]);
		p->event_fds[i] = -1;
	}
}

/* ------------------------------------------------ shared uprobe events */

/*
 * Closing a uprobe made through the uprobe PMU (what libbpf does) is dear:
 * perf_uprobe_destroy() unregisters its private trace_uprobe under
 * event_mutex and waits for a grace period (tracepoint_synchronize_
 * unregister(), uprobe_unregister_sync()): 120 ms a uprobe here, one after
 * the other, four per process. So, where tracefs can be used, tracer makes
 * one uprobe event per wrapper and file (uprobe_events), runs its BPF
 * program from one perf event bound to tracer itself (the program array is
 * the event's, not the perf event's), and gives each process a plain perf
 * event of its own on it: that only adds the process's mm to the event's
 * filter (uprobe_perf_open(), __uprobe_perf_filter()), and closing it only
 * removes it (uprobe_perf_close()); the program returns 0, so no sample is
 * ever written. The unregistration and its grace period happen once per
 * event, when tracer ends.
 */
static const char *tracefs_dir(void)
{
	static const char *const dirs[] = { "/sys/kernel/tracing",
					    "/sys/kernel/debug/tracing" };
	char f[64];

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(f, sizeof(f), "%s/uprobe_events", dirs[i]);
		if (!access(f, W_OK))
			return dirs[i];
	}
	if (!mount("nodev", dirs[0], "tracefs", 0, NULL))
		return dirs[0];
	return NULL;
}

// NOLINTNEXTLINE(bugprone-easily-swappable-parameters): (what, where)
static int write_uprobe_events(const char *line, const char *dir)
{
	char f[64];
	ssize_t n;
	int fd;

	snprintf(f, sizeof(f), "%s/uprobe_events", dir);
	fd = open(f, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, line, strlen(line));
	n = n < 0 ? -errno : 0;
	close(fd);
	return (int)n;
}

static int read_event_id(const char *dir, int file, int w)
{
	char f[128], buf[32] = "";
	int fd, id = 0;

	snprintf(f, sizeof(f), "%s/events/tracer_%d/f%d_%s/id", dir,
		 (int)getpid(), file, wrapper_names[w]);
	fd = open(f, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (read(fd, buf, sizeof(buf) - 1) > 0)
		id = atoi(buf);
	close(fd);
	return id;
}

static int open_event(int id, pid_t pid)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_TRACEPOINT,
		.size = sizeof(attr),
		.config = (unsigned long long)id,
		.sample_period = 1,
	};

	return (int)syscall(SYS_perf_event_open, &attr, pid, -1, -1,
			    PERF_FLAG_FD_CLOEXEC);
}

static struct bpf_program *wrapper_prog(const struct tfo_libc *lp, int w)
{
	struct bpf_program *progs[NWRAPPERS] = {
		lp->s->skel->progs.libc_send,
		lp->s->skel->progs.libc_sendto,
		lp->s->skel->progs.libc_sendmsg,
		lp->s->skel->progs.libc_sendmmsg,
	};

	return progs[w];
}

static void remove_event(struct tfo_libc *lp, int file, int w)
{
	struct wrapper_file *wf = &lp->files[file];
	char line[128];

	bpf_link__destroy(wf->anchor[w]);
	wf->anchor[w] = NULL;
	wf->tp_id[w] = 0;
	snprintf(line, sizeof(line), "-:tracer_%d/f%d_%s\n", (int)getpid(),
		 file, wrapper_names[w]);
	if (lp->tracefs)
		write_uprobe_events(line, lp->tracefs);
}

/* One tracefs uprobe event with the program on it, for wrapper @w. */
static void make_event(struct tfo_libc *lp, int file, int w, const char *dir)
{
	struct wrapper_file *wf = &lp->files[file];
	char line[256];
	int id, pfd;

	snprintf(line, sizeof(line),
		 "p:tracer_%d/f%d_%s /proc/self/fd/%d:0x%lx\n", (int)getpid(),
		 file, wrapper_names[w], wf->f.fd, wf->offs[w]);
	if (write_uprobe_events(line, dir))
		return;
	id = read_event_id(dir, file, w);
	pfd = id > 0 ? open_event(id, getpid()) : -1;
	if (pfd >= 0) {
		wf->anchor[w] = bpf_program__attach_perf_event(
			wrapper_prog(lp, w), pfd);
		if (!wf->anchor[w])
			close(pfd);
	}
	if (wf->anchor[w])
		wf->tp_id[w] = id;
	else
		remove_event(lp, file, w);
}

/*
 * A tracer killed with SIGKILL could not remove its events: remove those
 * of groups tracer_PID whose process is gone (they have no perf event, so
 * no breakpoint, but they litter uprobe_events).
 */
static void remove_stale_events(const char *dir)
{
	char f[64], line[512], name[128], rm[160];
	FILE *in;
	int pid;

	snprintf(f, sizeof(f), "%s/uprobe_events", dir);
	in = fopen(f, "re");
	if (!in)
		return;
	while (fgets(line, sizeof(line), in)) {
		if (sscanf(line, "%*c:tracer_%d/%127s", &pid, name) != 2 ||
		    pid <= 0 || !kill(pid, 0) || errno != ESRCH)
			continue;
		snprintf(rm, sizeof(rm), "-:tracer_%d/%s\n", pid, name);
		write_uprobe_events(rm, dir);
	}
	fclose(in);
}

static void make_events(struct tfo_libc *lp, int file)
{
	struct wrapper_file *wf = &lp->files[file];
	const char *dir;

	if (wf->events_tried)
		return;
	wf->events_tried = true;
	dir = lp->no_tracefs ? NULL : tracefs_dir();
	if (!dir) {
		lp->no_tracefs = true;
		return;
	}
	if (!lp->tracefs)
		remove_stale_events(dir);
	lp->tracefs = dir;
	for (int w = 0; w < NWRAPPERS; w++)
		if (wf->offs[w])
			make_event(lp, file, w, dir);
}

/* Per-process perf events on the shared events: how many opened. */
static int open_events(struct tfo_libc *lp, struct libc_proc *p, int file,
		       int *err, pid_t pid)
{
	const struct wrapper_file *wf = &lp->files[file];
	int n = 0;

	for (int w = 0; w < NWRAPPERS; w++) {
		if (!wf->tp_id[w])
			continue;
		p->event_fds[w] = open_event(wf->tp_id[w], pid);
		if (p->event_fds[w] < 0)
			*err = errno;
		else
			n++;
	}
	return n;
}

/*
 * Uprobes on the wrappers of @file bound to @pid. A static executable holds
 * only the wrappers it calls: those are enough. Returns how many.
 */
static int attach_wrappers(struct tfo_libc *lp, struct libc_proc *p, int file,
			   pid_t pid, char *why, size_t why_len)
{
	const struct wrapper_file *w = &lp->files[file];
	char path[64];
	int err = 0;

	make_events(lp, file);
	if (open_events(lp, p, file, &err, pid))
		return probes_of(p);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", w->f.fd);
	for (int i = 0; i < NWRAPPERS; i++) {
		struct bpf_link *l;

		if (!w->offs[i])
			continue;
		l = bpf_program__attach_uprobe_opts(wrapper_prog(lp, i), pid,
						    path, w->offs[i], NULL);
		if (!l)
			err = errno;
		else
			keep_link(p->links, &p->nlinks, NWRAPPERS, l);
	}
	if (!p->nlinks && w->found <= 0)
		snprintf(why, why_len, "no send wrapper in %s (%s)", w->f.path,
			 w->found < 0 ? "not ELF" :
					"none linked in, or stripped");
	else if (!p->nlinks)
		snprintf(why, why_len, "uprobes on %s refused: %s", w->f.path,
			 strerror(err));
	return p->nlinks;
}

/* Probe @file in process @tgid from now on (@verified: it maps it now). */
static void probe_file(struct tfo_libc *lp, pid_t tgid, int file, bool verified,
		       const char *why_not)
{
	struct libc_proc *p = proc_of(lp, tgid, true);
	struct libc_span *cur;
	char why[LIBC_WHY_LEN];

	if (!p)
		return;
	cur = current_span(p);
	if (file >= 0 && cur && cur->file == file && probes_of(p)) {
		/* Same file, links bound to this task: they follow exec. */
		add_span(p, file, verified, NULL);
		return;
	}
	drop_links(p);
	if (file < 0) {
		add_span(p, -1, false, why_not);
		return;
	}
	if (!attach_wrappers(lp, p, file, tgid, why, sizeof(why))) {
		info("libc of pid %d not probed: %s", tgid, why);
		add_span(p, -1, false, why);
		return;
	}
	info("libc of pid %d: %s (%s, %d uprobes)", tgid, file_path(lp, file),
	     lp->files[file].f.kind, probes_of(p));
	add_span(p, file, verified, NULL);
}

/* A process just seen: what it maps now. */
static void probe_mapped(struct tfo_libc *lp, pid_t tgid)
{
	char why[LIBC_WHY_LEN];
	struct libc_file f;
	int file = -1;

	if (!libc_mapped(tgid, &f, why, sizeof(why)))
		file = file_index(lp, &f, why, sizeof(why));
	probe_file(lp, tgid, file, true, why);
}

/* ------------------------------------------------------ ptrace events */

static void on_fork(void *ctx, pid_t parent, pid_t child, bool same_mm)
{
	struct tfo_libc *lp = ctx;
	struct libc_proc *p = proc_of(lp, parent, false);
	struct libc_span *cur = p ? current_span(p) : NULL;
	struct libc_proc *c;
	struct libc_span span;

	if (!lp->s->libc_on) /* followed for the send-path hooks only */
		return;
	if (!cur) {
		probe_mapped(lp, child);
		return;
	}
	span = *cur;
	if (!same_mm) {
		probe_file(lp, child, span.file, span.verified, span.why);
		return;
	}
	/* vfork, CLONE_VM: the parent's uprobes are in the shared memory. */
	c = proc_of(lp, child, true);
	if (c)
		add_span(c, span.file, span.verified, span.why);
}

static void on_exec(void *ctx, pid_t tgid, bool new_leader)
{
	struct tfo_libc *lp = ctx;
	struct libc_proc *p = proc_of(lp, tgid, false);
	char why[LIBC_WHY_LEN];
	struct libc_file f;
	int file = -1;

	if (new_leader) {
		/* Its perf events were bound to the old leader, gone with it. */
		if (p)
			drop_links(p);
		/* forget_exit() (common.bpf.h) keeps the process traced
		 * through its leader's exit; putting it back costs nothing
		 * and covers a kernel where that check would not hold. */
		tfo_session_trace(lp->s, tgid);
	}
	if (!lp->s->libc_on)
		return;
	if (!libc_predict(tgid, &f, why, sizeof(why)))
		file = file_index(lp, &f, why, sizeof(why));
	probe_file(lp, tgid, file, false, why);
}

/*
 * Held at its exit, memory still mapped: report what the ring holds (its
 * sends are there already), so that their check against /proc/PID/maps
 * (tfo_libc_status()) can still read the maps.
 */
// NOLINTNEXTLINE(bugprone-easily-swappable-parameters): ptree_ops's
static void on_exit_stop(void *ctx, pid_t tid, pid_t tgid)
{
	struct tfo_libc *lp = ctx;

	(void)tid;
	(void)tgid;
	ring_buffer__consume(lp->s->rb);
}

// NOLINTNEXTLINE(bugprone-easily-swappable-parameters): ptree_ops's
static void on_reaped(void *ctx, pid_t tid, int status)
{
	struct tfo_libc *lp = ctx;
	struct libc_proc *p = proc_of(lp, tid, false);

	if (lp->target && lp->target->pid == tid)
		target_reaped(lp->target, status);
	tfo_session_forget_stop(lp->s, tid);
	if (p)
		drop_links(p);
}

/* The SIGSTOP tfo.bpf.c sends when a traced thread gets a socket (see
 * request_send_hooks()): the hooks are attached now, the stop suppressed. */
static bool on_own_stop(void *ctx, pid_t tid, const siginfo_t *si)
{
	struct tfo_libc *lp = ctx;

	/* A request of ours, but a user's SIGSTOP came first: deliver it. */
	return tfo_session_take_stop(lp->s, tid) && si->si_code == SI_KERNEL;
}

static bool on_stop_pending(void *ctx, pid_t tid)
{
	struct tfo_libc *lp = ctx;

	return tfo_session_stop_pending(lp->s, tid);
}

static const struct ptree_ops ops = {
	.fork = on_fork,
	.exec = on_exec,
	.exit = on_exit_stop,
	.reaped = on_reaped,
	.own_stop = on_own_stop,
	.stop_pending = on_stop_pending,
};

/* ------------------------------------------------------------ following */

/* Each followed process holds four perf events: allow many processes. */
static void raise_fd_limit(void)
{
	struct rlimit r;

	if (!getrlimit(RLIMIT_NOFILE, &r) && r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

int tfo_libc_follow_spawned(struct tfo_session *s, struct target *t)
{
	struct tfo_libc *lp = state(s);
	int err;

	if (!lp)
		return fail(EXIT_RUNTIME, "out of memory");
	raise_fd_limit();
	err = ptree_init(&lp->tree, &ops, lp, true);
	if (!err)
		err = ptree_seize(&lp->tree, t->pid);
	if (err) {
		warn("%s: cannot ptrace the command: %s",
		     s->libc_on ? "libc wrappers not probed" :
				  "send-path hooks attached at start",
		     strerror(-err));
		snprintf(lp->default_why, sizeof(lp->default_why),
			 "tracer could not ptrace the command (%s)",
			 strerror(-err));
		ptree_release(&lp->tree);
		return 0;
	}
	lp->following = true;
	tfo_session_all_ptraced(s);
	lp->target = t;
	t->ptraced = true;
	return 0;
}

int tfo_libc_follow_pid(struct tfo_session *s, pid_t pid)
{
	struct tfo_libc *lp = state(s);
	int err;

	if (!lp)
		return fail(EXIT_RUNTIME, "out of memory");
	raise_fd_limit();
	err = ptree_init(&lp->tree, &ops, lp, false);
	if (!err)
		err = ptree_seize_process(&lp->tree, pid);
	if (err < 0) {
		/* Already traced (a debugger), or a Yama/LSM refusal. */
		if (s->libc_on)
			warn("cannot ptrace pid %d (%s): its libc is probed, "
			     "its new children's is not",
			     pid, strerror(-err));
		else
			warn("cannot ptrace pid %d (%s): send-path hooks "
			     "attached at start",
			     pid, strerror(-err));
		snprintf(lp->default_why, sizeof(lp->default_why),
			 "ptrace of pid %d refused (%s): its children are not "
			 "followed",
			 pid, strerror(-err));
		ptree_release(&lp->tree);
	} else {
		lp->following = true;
		tfo_session_all_ptraced(s);
	}
	if (s->libc_on)
		probe_mapped(lp, pid);
	return 0;
}

bool tfo_libc_following(const struct tfo_session *s)
{
	return s->lp && s->lp->following;
}

int tfo_libc_probe_process(struct tfo_session *s, pid_t pid)
{
	struct tfo_libc *lp = state(s);

	if (!lp)
		return fail(EXIT_RUNTIME, "out of memory");
	if (s->libc_on)
		probe_mapped(lp, pid);
	return 0;
}

int tfo_libc_fd(const struct tfo_session *s)
{
	return s->lp && s->lp->following ? ptree_fd(&s->lp->tree) : -1;
}

void tfo_libc_dispatch(struct tfo_session *s)
{
	if (s->lp && s->lp->following)
		ptree_dispatch(&s->lp->tree);
}

void tfo_libc_release(struct tfo_session *s)
{
	struct ptree *t;

	if (!s->lp || !s->lp->following)
		return;
	t = &s->lp->tree;
	/* Untraced from here on: a stop request would stop them for good. */
	tfo_session_stop_requests_end(s);
	if (t->held_count)
		info("ptrace: %lu stops, held %.1f us on average, %.1f us at "
		     "most",
		     t->stops, (double)t->held_ns / (double)t->held_count / 1e3,
		     (double)t->held_max_ns / 1e3);
	ptree_release(t);
	s->lp->following = false;
	if (s->lp->target)
		s->lp->target->ptraced = false;
}

void tfo_libc_free(struct tfo_session *s)
{
	struct tfo_libc *lp = s->lp;

	if (!lp)
		return;
	tfo_libc_release(s);
	for (int i = 0; i < lp->nprocs; i++) {
		drop_links(&lp->procs[i]);
		for (int j = 0; j < lp->procs[i].nspans; j++)
			free(lp->procs[i].spans[j].why);
		free(lp->procs[i].spans);
	}
	reaper_drain();
	for (int i = 0; i < lp->nfiles; i++) {
		for (int w = 0; w < NWRAPPERS; w++)
			if (lp->files[i].anchor[w])
				remove_event(lp, i, w);
		libc_file_close(&lp->files[i].f);
	}
	free(lp->procs);
	free(lp->files);
	free(lp);
	s->lp = NULL;
}

/* ------------------------------------------------------------ status */

const char *tfo_libc_status_name(enum tfo_libc_status st)
{
	switch (st) {
	case TFO_LIBC_SEEN:
		return "seen";
	case TFO_LIBC_BYPASSED:
		return "bypassed";
	default:
		return "not_probed";
	}
}

const char *tfo_libc_mode(const struct tfo_session *s)
{
	if (!s->libc_on)
		return "off";
	if (s->lp && !s->lp->following && s->lp->nprocs)
		return "the traced process only (ptrace refused)";
	return "in each process of the traced tree, found at its exec "
	       "(ptrace event stops)";
}

/* The span of @p in effect at @ts: index, or -1 (before the first). */
static int span_at(const struct libc_proc *p, unsigned long long ts)
{
	for (int i = p->nspans - 1; i >= 0; i--)
		if (p->spans[i].since <= ts)
			return i;
	return -1;
}

/*
 * Does the process map the file its uprobes are on? Checked once per span,
 * at its first send; a wrong guess is said, and what it maps is probed.
 */
static void verify_span(struct tfo_libc *lp, const struct tfo_event *e,
			struct libc_proc *p, int i)
{
	struct libc_span *sp = &p->spans[i];
	const struct wrapper_file *w;
	char other[PATH_MAX], why[LIBC_WHY_LEN];
	pid_t tgid = p->tgid;
	int r;

	if (sp->file < 0 || sp->verified || sp->mismatch)
		return;
	w = &lp->files[sp->file];
	r = libc_is_mapped((pid_t)e->tgid, &w->f, other, sizeof(other));
	if (r < 0 && e->tid != e->tgid)
		r = libc_is_mapped((pid_t)e->tid, &w->f, other, sizeof(other));
	if (r < 0)
		return;
	if (r) {
		sp->verified = true;
		return;
	}
	snprintf(why, sizeof(why), "probed %s (%s), but the process maps %s",
		 w->f.path, w->f.kind, other[0] ? other : "no C library");
	sp->mismatch = true;
	sp->why = strdup(why);
	warn("pid %d: libc guessed wrong: %s; probing what it maps", tgid, why);
	if (i == p->nspans - 1)
		probe_mapped(lp, tgid); /* may move p->spans */
}

static enum tfo_libc_status not_probed(const char *reason, const char **why)
{
	*why = reason && reason[0] ? reason : "libc not probed";
	return TFO_LIBC_NOT_PROBED;
}

enum tfo_libc_status tfo_libc_status(const struct tfo_session *s,
				     const struct tfo_event *e,
				     const char **why)
{
	static char buf[LIBC_WHY_LEN + 2 * PATH_MAX];
	struct tfo_libc *lp = s->lp;
	struct libc_proc *p;
	struct libc_span *sp;
	int i;

	*why = NULL;
	if (e->libc.func)
		return TFO_LIBC_SEEN;
	if (e->syscall == TFO_SYS_CONNECT || e->syscall == TFO_SYS_WRITE)
		return not_probed("tracer probes libc's send wrappers, not "
				  "connect() or write()",
				  why);
	if (!s->libc_on || !lp)
		return not_probed(s->libc_why, why);
	p = proc_of(lp, (pid_t)e->tgid, false);
	if (!p)
		return not_probed(lp->default_why, why);
	i = span_at(p, e->ts_enter_ns);
	if (i < 0)
		return not_probed("sent before its libc was probed", why);
	verify_span(lp, e, p, i);
	p = proc_of(lp, (pid_t)e->tgid, false);
	sp = &p->spans[i];
	if (sp->file < 0 || sp->mismatch)
		return not_probed(sp->why, why);
	if (!sp->verified) {
		snprintf(buf, sizeof(buf),
			 "probed %s, but the process was gone before tracer "
			 "could check that it mapped it",
			 file_path(lp, sp->file));
		return not_probed(buf, why);
	}
	return TFO_LIBC_BYPASSED;
}
