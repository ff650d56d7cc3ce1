// SPDX-License-Identifier: GPL-2.0
/*
 * Empty programs that `tracer probe` loads and attaches to learn whether this
 * kernel supports kprobes, uprobes and classic tracepoints. The attach points
 * are chosen at run time; user/probe.c loads only the programs it is testing.
 * fentry/fexit and tp_btf need no object: probe.c loads them from raw
 * instructions so that the vmlinux BTF is parsed only once.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("kprobe")
int probe_kprobe(void *ctx)
{
	return 0;
}

SEC("kretprobe")
int probe_kretprobe(void *ctx)
{
	return 0;
}

SEC("uprobe")
int probe_uprobe(void *ctx)
{
	return 0;
}

SEC("tracepoint")
int probe_tracepoint(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
