// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel feature probes, backend choice and `tracer probe`.
 *
 * Nothing is inferred from the kernel version: each probe loads and attaches
 * an empty program of the kind a backend would use and tears it down again,
 * so the answer reflects what this kernel, its config and its security policy
 * really allow. On failure the feature records the step that failed and the
 * errno the kernel returned.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "names.h"
#include "output.h"
#include "probe.h"
#include "probe.skel.h"
#include "runtime.h"
#include "tracer.h"

/* Older libcap headers predate these (added in Linux 5.8). */
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

/*
 * Attach point for fentry/fexit and kprobes: a global, non-inlined function
 * present since 4.17, listed in vmlinux BTF and in kallsyms, and not on the
 * BPF trampoline deny list.
 */
#define PROBE_KFUNC "__sys_sendto"

/*
 * Tracepoint for tp_btf and tracefs: exists since 4.16 and fires only on TCP
 * state changes, so attaching it for a moment costs nothing.
 */
#define PROBE_TP_SYSTEM "sock"
#define PROBE_TP_NAME "inet_sock_set_state"

#define PMU_DIR "/sys/bus/event_source/devices"
#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"
#define TRACEFS_EVENTS "/sys/kernel/tracing/events"
#define DEBUGFS_TRACING_EVENTS "/sys/kernel/debug/tracing/events"

static void set_ok(struct feature *f)
{
	f->ok = true;
	f->why[0] = '\0';
}

static __attribute__((format(printf, 2, 3))) void
set_missing(struct feature *f, const char *fmt, ...)
{
	va_list ap;

	f->ok = false;
	va_start(ap, fmt);
	vsnprintf(f->why, sizeof(f->why), fmt, ap);
	va_end(ap);
}

/* Record "<step> with <ERRNO>"; @err may be an errno or a negative errno. */
static __attribute__((format(printf, 3, 4))) void
set_failed(struct feature *f, int err, const char *fmt, ...)
{
	size_t used;
	va_list ap;

	f->ok = false;
	va_start(ap, fmt);
	vsnprintf(f->why, sizeof(f->why), fmt, ap);
	va_end(ap);
	used = strlen(f->why);
	snprintf(f->why + used, sizeof(f->why) - used, " with %s",
		 errno_name(err));
}

static struct btf *probe_btf(struct feature *f, int *btf_errno)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	int err = errno;

	if (vmlinux) {
		set_ok(f);
		return vmlinux;
	}
	if (access(VMLINUX_BTF, F_OK)) {
		*btf_errno = err;
		set_missing(f, VMLINUX_BTF
			    " missing (CONFIG_DEBUG_INFO_BTF off?)");
		return NULL;
	}
	/* libbpf tries its other paths after this one and reports ESRCH for
	 * them all: parse the file alone for the real reason (e.g. ENOMEM). */
	vmlinux = btf__parse_raw(VMLINUX_BTF);
	if (vmlinux) {
		btf__free(vmlinux);
	} else if (errno) {
		err = errno;
	}
	*btf_errno = err;
	set_failed(f, err, "loading " VMLINUX_BTF " failed");
	return NULL;
}

/* r0 = 0; exit: accepted by every tracing attach type, fexit included. */
static const struct bpf_insn return_zero[] = {
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
	{ .code = BPF_JMP | BPF_EXIT },
};

/*
 * Load return_zero as a BTF-attached tracing program (fentry, fexit or
 * tp_btf) on the vmlinux BTF object @btf_id, named @target, and attach it.
 * The BPF_RAW_TRACEPOINT_OPEN command attaches all of these (5.5+) and
 * returns a link fd that keeps the program alive, so the program fd is
 * closed here. Returns the link fd, or -1 after recording in @f which step
 * failed, prefixed with @kind ("fexit ") when that helps.
 */
static int attach_btf_prog(struct feature *f, const char *kind,
			   enum bpf_attach_type type, int btf_id,
			   const char *target)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = type,
		    .attach_btf_id = (__u32)btf_id);
	int prog_fd, link_fd;

	prog_fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "tracer_probe", "GPL",
				return_zero, ARRAY_SIZE(return_zero), &opts);
	if (prog_fd < 0) {
		set_failed(f, prog_fd, "%sprogram load refused", kind);
		return -1;
	}
	link_fd = bpf_raw_tracepoint_open(NULL, prog_fd);
	close(prog_fd);
	if (link_fd < 0) {
		set_failed(f, link_fd, "%sattach to %s failed", kind, target);
		return -1;
	}
	return link_fd;
}

/* fentry and fexit (BPF trampoline) on PROBE_KFUNC must load and attach. */
static void probe_fentry(struct feature *f, const struct btf *vmlinux)
{
	int id, entry_link, exit_link;

	if (!vmlinux) {
		set_missing(f, "needs vmlinux BTF");
		return;
	}
	id = btf__find_by_name_kind(vmlinux, PROBE_KFUNC, BTF_KIND_FUNC);
	if (id < 0) {
		set_missing(f, PROBE_KFUNC " not in vmlinux BTF");
		return;
	}
	entry_link = attach_btf_prog(f, "", BPF_TRACE_FENTRY, id, PROBE_KFUNC);
	if (entry_link < 0)
		return;
	exit_link =
		attach_btf_prog(f, "fexit ", BPF_TRACE_FEXIT, id, PROBE_KFUNC);
	close(entry_link);
	if (exit_link < 0)
		return;
	close(exit_link);
	set_ok(f);
}

/*
 * tp_btf: a raw tracepoint typed by its btf_trace_<name> typedef. The load
 * checks the typedef and the tracepoint (bpf_check_attach_target()); the
 * attach, only tried when @attach is set (see probe_kernel()), adds nothing
 * tracer's backends depend on, and attaching and detaching a tracepoint
 * rewrites its static call on every CPU (text poke, IPIs): several ms.
 */
static void probe_tp_btf(struct feature *f, const struct btf *vmlinux,
			 bool attach)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		    .expected_attach_type = BPF_TRACE_RAW_TP);
	int id, link, prog_fd;

	if (!vmlinux) {
		set_missing(f, "needs vmlinux BTF");
		return;
	}
	id = btf__find_by_name_kind(vmlinux, "btf_trace_" PROBE_TP_NAME,
				    BTF_KIND_TYPEDEF);
	if (id < 0) {
		set_missing(f,
			    "tracepoint " PROBE_TP_NAME " not in vmlinux BTF");
		return;
	}
	if (attach) {
		link = attach_btf_prog(f, "", BPF_TRACE_RAW_TP, id,
				       PROBE_TP_NAME);
		if (link < 0)
			return;
		close(link);
		set_ok(f);
		return;
	}
	opts.attach_btf_id = (__u32)id;
	prog_fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "tracer_probe", "GPL",
				return_zero, ARRAY_SIZE(return_zero), &opts);
	if (prog_fd < 0) {
		set_failed(f, prog_fd, "program load refused");
		return;
	}
	close(prog_fd);
	set_ok(f);
}

/*
 * Open the probe object with only the programs named @first and @second
 * (may be NULL) set to load, and load it. Returns NULL after recording the
 * failure in @f.
 */
static struct probe_bpf *load_only(struct feature *f, const char *first,
				   const char *second)
{
	struct bpf_program *prog;
	struct probe_bpf *skel;
	int err;

	skel = probe_bpf__open();
	if (!skel) {
		set_failed(f, errno, "opening the probe BPF object failed");
		return NULL;
	}
	bpf_object__for_each_program(prog, skel->obj) {
		const char *name = bpf_program__name(prog);
		bool wanted = !strcmp(name, first) ||
			      (second && !strcmp(name, second));

		bpf_program__set_autoload(prog, wanted);
	}
	err = probe_bpf__load(skel);
	if (err) {
		set_failed(f, err, "program load refused");
		probe_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static bool pmu_exists(const char *pmu)
{
	char path[128];

	snprintf(path, sizeof(path), PMU_DIR "/%s/type", pmu);
	return access(path, F_OK) == 0;
}

/*
 * kprobe and kretprobe on PROBE_KFUNC through the kprobe PMU (4.17+). Without
 * the PMU libbpf would fall back to tracefs kprobe_events, which needs
 * CONFIG_KPROBES just the same, so a missing PMU means no kprobes at all.
 * Multi-kprobes (kprobe.multi, 5.18+) are not tested: no backend needs them.
 */
static void probe_kprobe(struct feature *f)
{
	LIBBPF_OPTS(bpf_kprobe_opts, ret_opts, .retprobe = true);
	struct bpf_link *entry = NULL, *ret = NULL;
	struct probe_bpf *skel;

	if (!pmu_exists("kprobe")) {
		set_missing(f, "no kprobe PMU (" PMU_DIR
			       "/kprobe missing; CONFIG_KPROBES off?)");
		return;
	}
	skel = load_only(f, "probe_kprobe", "probe_kretprobe");
	if (!skel)
		return;
	entry = bpf_program__attach_kprobe_opts(skel->progs.probe_kprobe,
						PROBE_KFUNC, NULL);
	if (!entry) {
		set_failed(f, errno, "attach to " PROBE_KFUNC " failed");
		goto out;
	}
	ret = bpf_program__attach_kprobe_opts(skel->progs.probe_kretprobe,
					      PROBE_KFUNC, &ret_opts);
	if (!ret) {
		set_failed(f, errno,
			   "kretprobe attach to " PROBE_KFUNC " failed");
		goto out;
	}
	set_ok(f);
out:
	bpf_link__destroy(ret);
	bpf_link__destroy(entry);
	probe_bpf__destroy(skel);
}

/* The events directory of tracefs, or NULL when it is not mounted. */
static const char *tracefs_events(void)
{
	/* libbpf uses debugfs's tracing directory (automounted) if present. */
	if (!access(DEBUGFS_TRACING_EVENTS, F_OK))
		return DEBUGFS_TRACING_EVENTS;
	if (!access(TRACEFS_EVENTS, F_OK))
		return TRACEFS_EVENTS;
	return NULL;
}

/*
 * Classic tracepoints are attached by the id tracefs lists in
 * events/<system>/<name>/id, so they need tracefs mounted. The attach itself
 * is only tried when @attach is set (see probe_kernel()).
 */
static void probe_tracepoint(struct feature *f, bool attach)
{
	const char *events = tracefs_events();
	struct bpf_link *link;
	struct probe_bpf *skel;
	char id[160];

	if (!events) {
		set_missing(f, "tracefs not mounted at /sys/kernel/tracing");
		return;
	}
	snprintf(id, sizeof(id), "%s/" PROBE_TP_SYSTEM "/" PROBE_TP_NAME "/id",
		 events);
	if (access(id, R_OK)) {
		set_failed(f, errno, "reading %s failed", id);
		return;
	}
	skel = load_only(f, "probe_tracepoint", NULL);
	if (!skel)
		return;
	if (attach) {
		link = bpf_program__attach_tracepoint(
			skel->progs.probe_tracepoint, PROBE_TP_SYSTEM,
			PROBE_TP_NAME);
		if (!link) {
			set_failed(f, errno,
				   "attach to " PROBE_TP_SYSTEM
				   ":" PROBE_TP_NAME " failed");
			goto out;
		}
		bpf_link__destroy(link);
	}
	set_ok(f);
out:
	probe_bpf__destroy(skel);
}

/* The uprobe target: never inlined and never called, only probed. */
static __attribute__((noinline)) void uprobe_target(void)
{
	__asm__ volatile("" ::: "memory");
}

/*
 * File offset of @addr in the file mapped there, from /proc/self/maps
 * ("start-end perms offset ..."). Unlike a symbol lookup this also works on
 * stripped binaries. Returns -1 if @addr is not in a mapping.
 */
static long mapped_file_offset(uintptr_t addr)
{
	unsigned long start, end, pgoff;
	FILE *maps = fopen("/proc/self/maps", "re");
	char *line = NULL;
	size_t cap = 0;
	long off = -1;

	if (!maps)
		return -1;
	while (getline(&line, &cap, maps) > 0) {
		if (sscanf(line, "%lx-%lx %*s %lx", &start, &end, &pgoff) != 3)
			continue;
		if (addr >= start && addr < end) {
			off = (long)(addr - start + pgoff);
			break;
		}
	}
	free(line);
	fclose(maps);
	return off;
}

/*
 * A uprobe on uprobe_target() in our own executable, via the uprobe PMU. The
 * attach itself is only tried when @attach is set (see probe_kernel()).
 */
static void probe_uprobe(struct feature *f, bool attach)
{
	long off = mapped_file_offset((uintptr_t)&uprobe_target);
	struct bpf_link *link;
	struct probe_bpf *skel;

	if (!pmu_exists("uprobe")) {
		set_missing(f, "no uprobe PMU (" PMU_DIR
			       "/uprobe missing; CONFIG_UPROBE_EVENTS off?)");
		return;
	}
	if (off < 0) {
		set_missing(f, "own code not found in /proc/self/maps");
		return;
	}
	skel = load_only(f, "probe_uprobe", NULL);
	if (!skel)
		return;
	if (attach) {
		/* pid 0: this process only; the kernel resolves the path. */
		link = bpf_program__attach_uprobe_opts(skel->progs.probe_uprobe,
						       0, "/proc/self/exe",
						       (size_t)off, NULL);
		if (!link) {
			set_failed(f, errno, "attach to own code failed");
			goto out;
		}
		bpf_link__destroy(link);
	}
	set_ok(f);
out:
	probe_bpf__destroy(skel);
}

/*
 * Create one page of ring buffer ourselves: libbpf's probe says "unsupported"
 * for any failure, also the EPERM of a user namespace (bpf_capable() asks
 * for CAP_BPF in the initial one).
 */
static void probe_ringbuf(struct feature *f)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, NULL, 0, 0,
				(__u32)sysconf(_SC_PAGESIZE), NULL);

	if (fd >= 0) {
		close(fd);
		set_ok(f);
	} else if (errno == EINVAL) {
		/* map_create() -> find_and_alloc_map(): unknown map type */
		set_missing(
			f,
			"BPF_MAP_TYPE_RINGBUF unsupported (needs Linux 5.8+)");
	} else {
		set_failed(f, -errno, "ring buffer map creation refused");
	}
}

/* A tp_btf-able tracepoint exists iff vmlinux BTF has btf_trace_<name>. */
static void probe_btf_tracepoint(struct feature *f, const struct btf *vmlinux,
				 const char *name)
{
	char type[64];

	if (!vmlinux) {
		set_missing(f, "needs vmlinux BTF");
		return;
	}
	snprintf(type, sizeof(type), "btf_trace_%s", name);
	if (btf__find_by_name_kind(vmlinux, type, BTF_KIND_TYPEDEF) < 0)
		set_missing(f, "tracepoint %s not in vmlinux BTF (Linux 6.3+)",
			    name);
	else
		set_ok(f);
}

static double monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* With -vv, say how long the probe that just ended took (from *@mark). */
static void log_lap(const char *what, double *mark)
{
	double now = monotonic_ms();

	startup_lap(what);
	if (env.verbose > 1)
		info("probe: %-16s %6.1f ms", what, now - *mark);
	*mark = now;
}

/*
 * Parsing vmlinux BTF takes about 10 ms and most probes well under one. What
 * costs is tearing down a perf-event based attachment (kprobe, uprobe,
 * classic tracepoint): the kernel waits for RCU grace periods, Tasks Trace ones
 * included, in tracepoint_synchronize_unregister() and (since the fix for
 * CVE-2024-56675, also in 6.1.y and 6.12.y) perf_event_detach_bpf_prog(),
 * serialised under event_mutex: 40 to 150 ms per attachment here. kprobes
 * decide the backend, so they are attached; uprobes and tracefs tracepoints
 * do not, so only cmd_probe() attaches them, and probe_kernel() checks all
 * but that last step. So for tp_btf, whose load already checks what its
 * attach would (see probe_tp_btf()).
 */
void probe_kernel(struct kernel_features *kf)
{
	double mark = monotonic_ms();
	struct utsname uts;
	struct btf *vmlinux;

	memset(kf, 0, sizeof(*kf));
	if (uname(&uts) == 0)
		snprintf(kf->release, sizeof(kf->release), "%s", uts.release);

	vmlinux = probe_btf(&kf->btf, &kf->btf_errno);
	log_lap("btf", &mark);
	probe_fentry(&kf->fentry, vmlinux);
	log_lap("fentry/fexit", &mark);
	probe_kprobe(&kf->kprobe);
	log_lap("kprobe/kretprobe", &mark);
	probe_tp_btf(&kf->tp_btf, vmlinux, false);
	log_lap("tp_btf", &mark);
	probe_tracepoint(&kf->tracepoint, false);
	log_lap("tracepoint", &mark);
	probe_uprobe(&kf->uprobe, false);
	log_lap("uprobe", &mark);
	probe_ringbuf(&kf->ringbuf);
	probe_btf_tracepoint(&kf->sock_send_length, vmlinux,
			     "sock_send_length");
	probe_btf_tracepoint(&kf->sk_data_ready, vmlinux, "sk_data_ready");
	kf->vmlinux = vmlinux;
	log_lap("ringbuf, sock_*", &mark);
}

void kernel_features_release(struct kernel_features *kf)
{
	btf__free(kf->vmlinux);
	kf->vmlinux = NULL;
}

/* Append to the string in @buf, silently truncating at @len. */
static __attribute__((format(printf, 3, 4))) void append(char *buf, size_t len,
							 const char *fmt, ...)
{
	size_t used = strnlen(buf, len);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

struct need {
	const char *label; /* NULL for the backend's own feature */
	const struct feature *f;
};

/*
 * Why backend @b cannot run here, written to @buf; NULL if it can. Every
 * backend needs CO-RE (vmlinux BTF) and a ring buffer. The tracepoint backend
 * uses tp_btf, not tracefs.
 */
static const char *backend_gap(const struct kernel_features *kf, enum backend b,
			       char *buf, size_t len)
{
	struct need needs[] = {
		{ NULL, NULL },
		{ "vmlinux BTF", &kf->btf },
		{ "ring buffer", &kf->ringbuf },
	};

	switch (b) {
	case BACKEND_FENTRY:
		needs[0].f = &kf->fentry;
		break;
	case BACKEND_KPROBE:
		needs[0].f = &kf->kprobe;
		break;
	case BACKEND_TRACEPOINT:
		needs[0] = (struct need){ "tp_btf", &kf->tp_btf };
		break;
	default:
		snprintf(buf, len, "not a backend");
		return buf;
	}
	for (size_t i = 0; i < ARRAY_SIZE(needs); i++) {
		if (needs[i].f->ok)
			continue;
		if (needs[i].label)
			snprintf(buf, len, "%s: %s", needs[i].label,
				 needs[i].f->why);
		else
			snprintf(buf, len, "%s", needs[i].f->why);
		return buf;
	}
	return NULL;
}

int backend_select(const struct kernel_features *kf, enum backend requested,
		   enum backend *chosen, char *why, size_t why_len)
{
	static const enum backend order[] = {
		BACKEND_FENTRY,
		BACKEND_KPROBE,
		BACKEND_TRACEPOINT,
	};
	char gap[256];
	char skipped[768] = "";

	/* Every backend needs the kernel's BTF (CO-RE): a parse that ran out
	 * of memory is a limit of this process, not of the kernel. */
	if (kf->btf_errno == ENOMEM) {
		snprintf(why, why_len,
			 "out of memory parsing the kernel's BTF (" VMLINUX_BTF
			 "): is the address space limited (ulimit -v)?");
		return EXIT_RUNTIME;
	}
	if (requested != BACKEND_AUTO) {
		if (backend_gap(kf, requested, gap, sizeof(gap))) {
			snprintf(why, why_len, "%s backend unavailable: %s",
				 backend_name(requested), gap);
			return EXIT_NOSUPPORT;
		}
		*chosen = requested;
		snprintf(why, why_len, "requested with --backend");
		return 0;
	}

	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		if (!backend_gap(kf, order[i], gap, sizeof(gap))) {
			*chosen = order[i];
			snprintf(why, why_len, "%s",
				 i ? skipped :
				     "first choice, all it needs works");
			return 0;
		}
		append(skipped, sizeof(skipped), "%s%s: %s", i ? "; " : "",
		       backend_name(order[i]), gap);
	}
	*chosen = BACKEND_AUTO;
	snprintf(why, why_len, "no backend works: %s", skipped);
	return EXIT_NOSUPPORT;
}

static bool has_cap(cap_t caps, cap_value_t cap)
{
	cap_flag_value_t value = CAP_CLEAR;

	return cap_get_flag(caps, cap, CAP_EFFECTIVE, &value) == 0 &&
	       value == CAP_SET;
}

/*
 * Since 5.8, CAP_BPF loads programs and CAP_PERFMON allows tracing program
 * types and perf events; CAP_SYS_ADMIN still implies both (and is the only
 * way on older kernels).
 */
/*
 * The initial user namespace's inode number (PROC_USER_INIT_INO in the
 * kernel's include/linux/proc_ns.h): any other is a user namespace, where
 * capabilities do not reach bpf(), whose checks (bpf_capable(),
 * perfmon_capable()) ask for them in the initial one.
 */
#define PROC_USER_INIT_INO 0xEFFFFFFDU

static bool in_user_namespace(void)
{
	struct stat st;

	return !stat("/proc/self/ns/user", &st) &&
	       st.st_ino != PROC_USER_INIT_INO;
}

int require_bpf_caps(void)
{
	const char *missing = NULL;
	bool admin, bpf, perfmon;
	cap_t caps;

	if (in_user_namespace())
		return fail(EXIT_NOSUPPORT,
			    "running in a user namespace (a container?): BPF "
			    "needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN) "
			    "in the initial user namespace: run tracer on the "
			    "host");

	caps = cap_get_proc();
	if (!caps)
		return fail(EXIT_NOSUPPORT,
			    "cannot read process capabilities: %s",
			    strerror(errno));
	admin = has_cap(caps, CAP_SYS_ADMIN);
	bpf = admin || has_cap(caps, CAP_BPF);
	perfmon = admin || has_cap(caps, CAP_PERFMON);
	cap_free(caps);

	if (!bpf && !perfmon)
		missing = "capabilities CAP_BPF and CAP_PERFMON";
	else if (!bpf)
		missing = "capability CAP_BPF";
	else if (!perfmon)
		missing = "capability CAP_PERFMON";
	if (missing)
		return fail(EXIT_NOSUPPORT,
			    "missing %s (or CAP_SYS_ADMIN): run as root",
			    missing);
	return 0;
}

struct feature_row {
	const char *key; /* JSON */
	const char *label; /* text */
	const struct feature *f;
};

#define FEATURE_ROWS 9

static void feature_rows(const struct kernel_features *kf,
			 struct feature_row rows[FEATURE_ROWS])
{
	const struct feature_row all[FEATURE_ROWS] = {
		{ "btf", "btf", &kf->btf },
		{ "fentry", "fentry/fexit", &kf->fentry },
		{ "kprobe", "kprobe/kretprobe", &kf->kprobe },
		{ "tp_btf", "tp_btf", &kf->tp_btf },
		{ "tracepoint", "tracepoint", &kf->tracepoint },
		{ "uprobe", "uprobe", &kf->uprobe },
		{ "ringbuf", "ringbuf", &kf->ringbuf },
		{ "sock_send_length", "sock_send_length",
		  &kf->sock_send_length },
		{ "sk_data_ready", "sk_data_ready", &kf->sk_data_ready },
	};

	memcpy(rows, all, sizeof(all));
}

static void print_probe_text(const struct kernel_features *kf,
			     const char *backend, const char *why)
{
	struct feature_row rows[FEATURE_ROWS];

	feature_rows(kf, rows);
	printf("kernel %s\n", kf->release);
	for (size_t i = 0; i < FEATURE_ROWS; i++) {
		if (rows[i].f->ok)
			printf("  %-17s yes\n", rows[i].label);
		else
			printf("  %-17s no   %s\n", rows[i].label,
			       rows[i].f->why);
	}
	printf("auto backend: %s (%s)\n", backend, why);
}

static void print_probe_json(const struct kernel_features *kf,
			     const char *backend, const char *why)
{
	json_object *obj = json_object_new_object();
	json_object *features = json_object_new_object();
	struct feature_row rows[FEATURE_ROWS];

	feature_rows(kf, rows);
	for (size_t i = 0; i < FEATURE_ROWS; i++) {
		json_object *one = json_object_new_object();

		json_object_object_add(one, "ok",
				       json_object_new_boolean(rows[i].f->ok));
		if (!rows[i].f->ok)
			json_object_object_add(
				one, "reason",
				json_object_new_string(rows[i].f->why));
		json_object_object_add(features, rows[i].key, one);
	}
	json_object_object_add(obj, "event", json_object_new_string("probe"));
	json_object_object_add(obj, "kernel",
			       json_object_new_string(kf->release));
	json_object_object_add(obj, "features", features);
	json_object_object_add(obj, "auto_backend",
			       backend ? json_object_new_string(backend) :
					 NULL);
	json_object_object_add(obj, "reason", json_object_new_string(why));
	json_print_line(obj);
}

static void probe_usage(FILE *out)
{
	fprintf(out,
		"Usage: tracer [-j] [-v] probe\n\n"
		"Load and attach an empty BPF program of each kind the backends use,\n"
		"report what this kernel allows (and, if not, the step and errno that\n"
		"failed) and which backend --backend auto picks.\n"
		"Needs CAP_BPF and CAP_PERFMON (or root).\n\n"
		"Options:\n"
		"  -h, --help   this help\n");
}

static const struct option probe_longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{},
};
/* '+': operands end the options, as for every command (see cli.c). */
const struct cmd_options probe_options = { "+h", probe_longopts };

int probe_parse_args(int argc, char **argv)
{
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, probe_options.shortopts,
				probe_longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			probe_usage(output_for_help());
			return -1;
		default:
			if (optopt)
				return fail(
					EXIT_USAGE,
					"unknown option '-%c' (see tracer probe --help)",
					optopt);
			return fail(
				EXIT_USAGE,
				"unknown option '%s' (see tracer probe --help)",
				argv[optind - 1]);
		}
	}
	if (optind < argc)
		return fail(
			EXIT_USAGE,
			"unexpected argument '%s' (see tracer probe --help)",
			argv[optind]);
	return 0;
}

int cmd_probe(int argc, char **argv)
{
	enum backend chosen = BACKEND_AUTO;
	struct kernel_features kf;
	const char *backend;
	char why[1024];
	double start;
	int err;

	err = probe_parse_args(argc, argv);
	if (err)
		return err < 0 ? EXIT_OK : err;
	err = require_bpf_caps();
	if (err)
		return err;

	start = monotonic_ms();
	probe_kernel(&kf);
	info("probe: probe_kernel() took %.1f ms", monotonic_ms() - start);
	/* The attach tests probe_kernel() leaves out as too slow. */
	start = monotonic_ms();
	probe_tp_btf(&kf.tp_btf, kf.vmlinux, true);
	probe_tracepoint(&kf.tracepoint, true);
	probe_uprobe(&kf.uprobe, true);
	kernel_features_release(&kf);
	info("probe: tp_btf, tracepoint and uprobe attach tests took %.1f ms",
	     monotonic_ms() - start);

	err = backend_select(&kf, BACKEND_AUTO, &chosen, why, sizeof(why));
	backend = err ? NULL : backend_name(chosen);
	if (env.json)
		print_probe_json(&kf, backend, why);
	else
		print_probe_text(&kf, backend ? backend : "none", why);
	return EXIT_OK;
}
