/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers every tracer BPF object shares: the traced-process filter. */
#ifndef TRACER_COMMON_BPF_H
#define TRACER_COMMON_BPF_H

/*
 * Thread groups being traced. The loader seeds it with the command it starts
 * or the -p PID; follow_fork() adds their children. Every program looks here
 * first, so untraced processes pay one hash lookup.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, __u8);
} traced_tgids SEC(".maps");

/* Events the ring buffer had no room for; reported by the loader. */
__u64 lost_events = 0;

static __always_inline bool tgid_is_traced(__u32 tgid)
{
	return bpf_map_lookup_elem(&traced_tgids, &tgid) != NULL;
}

static __always_inline bool current_is_traced(void)
{
	return tgid_is_traced(bpf_get_current_pid_tgid() >> 32);
}

static __always_inline void follow_fork(struct task_struct *parent,
					struct task_struct *child)
{
	__u32 parent_tgid = BPF_CORE_READ(parent, tgid);
	__u32 child_tgid = BPF_CORE_READ(child, tgid);
	__u8 one = 1;

	if (parent_tgid == child_tgid) /* a new thread, already covered */
		return;
	if (!bpf_map_lookup_elem(&traced_tgids, &parent_tgid))
		return;
	bpf_map_update_elem(&traced_tgids, &child_tgid, &one, BPF_ANY);
}

/*
 * The process ends with its last thread, not with its leader: the leader may
 * call pthread_exit() first, and de_thread() kills it when another thread
 * execs. do_exit() takes the thread off signal->live before it fires
 * sched_process_exit, so live is 0 here for the last one.
 */
static __always_inline void forget_exit(struct task_struct *task)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);

	if (BPF_CORE_READ(task, signal, live.counter) == 0)
		bpf_map_delete_elem(&traced_tgids, &tgid);
}

#define TRACER_FOLLOW_CHILDREN(prefix)                          \
	SEC("tp_btf/sched_process_fork")                        \
	int BPF_PROG(prefix##_fork, struct task_struct *parent, \
		     struct task_struct *child)                 \
	{                                                       \
		follow_fork(parent, child);                     \
		return 0;                                       \
	}                                                       \
	SEC("tp_btf/sched_process_exit")                        \
	int BPF_PROG(prefix##_exit, struct task_struct *task)   \
	{                                                       \
		forget_exit(task);                              \
		return 0;                                       \
	}

#endif
