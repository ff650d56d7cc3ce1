// SPDX-License-Identifier: GPL-2.0
/*
 * floor: the hooks of a running tracer, with empty BPF programs on them.
 *
 * The floor of a benchmark figure is the same workload with programs that
 * do nothing (r0 = 0; exit) attached to the same hooks: what the kernel
 * charges for the hooks alone (__bpf_trace_* -> bpf_trace_run*()) before
 * any program does work.
 *
 *   floor --list PID      print the hooks of the BPF links process PID
 *                         holds, one "KIND:NAME" a line (KIND tp_btf or
 *                         raw_tp); a link of another type is printed as
 *                         "other:TYPE" (the floor cannot copy it)
 *   floor [--ready-file F] HOOK...
 *                         attach an empty program to each HOOK, write F
 *                         (empty) once all are attached, wait for SIGINT
 *                         or SIGTERM, remove F, exit
 *
 * bench.py reads the hook list from the tracer it measures (--list while
 * that tracer runs), so the floor cannot drift from tracer's hook set.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_HOOKS 64

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The link id in /proc/PID/fdinfo/FD, 0 if FD is not a BPF link. */
static unsigned int fdinfo_link_id(int dirfd, const char *name)
{
	unsigned int id = 0;
	char line[256];
	FILE *f;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return 0;
	}
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "link_id: %u", &id) == 1)
			break;
	fclose(f);
	return id;
}

/* Print the hook of link @id: "tp_btf:NAME", "raw_tp:NAME" or "other:T". */
static int print_link(unsigned int id)
{
	struct bpf_prog_info pinfo = {};
	struct bpf_link_info info = {};
	__u32 len = sizeof(info), plen = sizeof(pinfo);
	char tp[128] = "";
	int fd, pfd, err;

	fd = bpf_link_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	info.raw_tracepoint.tp_name = (__u64)(unsigned long)tp;
	info.raw_tracepoint.tp_name_len = sizeof(tp);
	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	close(fd);
	if (err)
		return err;
	if (info.type != BPF_LINK_TYPE_RAW_TRACEPOINT) {
		printf("other:%s\n", libbpf_bpf_link_type_str(info.type));
		return 0;
	}
	pfd = bpf_prog_get_fd_by_id(info.prog_id);
	if (pfd < 0)
		return -errno;
	err = bpf_obj_get_info_by_fd(pfd, &pinfo, &plen);
	close(pfd);
	if (err)
		return err;
	printf("%s:%s\n",
	       pinfo.type == BPF_PROG_TYPE_TRACING ? "tp_btf" : "raw_tp", tp);
	return 0;
}

static int list_hooks(const char *pid)
{
	char path[64];
	struct dirent *de;
	DIR *dir;
	int err = 0;

	snprintf(path, sizeof(path), "/proc/%s/fdinfo", pid);
	dir = opendir(path);
	if (!dir) {
		fprintf(stderr, "floor: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while ((de = readdir(dir)) && !err) {
		unsigned int id;

		if (de->d_name[0] == '.')
			continue;
		id = fdinfo_link_id(dirfd(dir), de->d_name);
		if (id)
			err = print_link(id);
	}
	closedir(dir);
	if (err)
		fprintf(stderr, "floor: link info: %s\n", strerror(-err));
	return err ? 1 : 0;
}

/* An empty program on tracepoint @tp: tp_btf (BTF-typed) or raw_tp. */
static int attach_empty(const char *hook)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts);
	const char *tp = strchr(hook, ':');
	enum bpf_prog_type type;
	int fd, link;

	if (!tp)
		return -EINVAL;
	tp++;
	if (!strncmp(hook, "tp_btf:", 7)) {
		type = BPF_PROG_TYPE_TRACING;
		opts.expected_attach_type = BPF_TRACE_RAW_TP;
		fd = libbpf_find_vmlinux_btf_id(tp, BPF_TRACE_RAW_TP);
		if (fd < 0)
			return fd;
		opts.attach_btf_id = fd;
	} else if (!strncmp(hook, "raw_tp:", 7)) {
		type = BPF_PROG_TYPE_RAW_TRACEPOINT;
	} else {
		return -EINVAL;
	}
	fd = bpf_prog_load(type, "floor", "GPL", insns, 2, &opts);
	if (fd < 0)
		return fd;
	link = bpf_raw_tracepoint_open(
		type == BPF_PROG_TYPE_TRACING ? NULL : tp, fd);
	return link < 0 ? link : 0;
}

static int write_ready(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int run_floor(const char *ready, int nhooks, char **hooks)
{
	int i, err;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (i = 0; i < nhooks; i++) {
		err = attach_empty(hooks[i]);
		if (err) {
			fprintf(stderr, "floor: %s: %s\n", hooks[i],
				strerror(-err));
			return 1;
		}
	}
	if (ready && write_ready(ready)) {
		fprintf(stderr, "floor: %s: %s\n", ready, strerror(errno));
		return 1;
	}
	while (!stop)
		pause();
	if (ready)
		unlink(ready);
	return 0;
}

int main(int argc, char **argv)
{
	const char *ready = NULL;

	if (argc == 3 && !strcmp(argv[1], "--list"))
		return list_hooks(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "--ready-file")) {
		ready = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc < 2 || argc - 1 > MAX_HOOKS || argv[1][0] == '-') {
		fprintf(stderr, "usage: floor --list PID | floor "
				"[--ready-file FILE] KIND:TRACEPOINT...\n");
		return 2;
	}
	return run_floor(ready, argc - 1, argv + 1);
}
