/* SPDX-License-Identifier: GPL-2.0 */
/* Finding a task's socket from a file descriptor, and reading its state. */
#ifndef TRACER_SOCK_BPF_H
#define TRACER_SOCK_BPF_H

#define TRACER_S_IFMT 0170000
#define TRACER_S_IFSOCK 0140000

/* current->files->fdt->fd[fd]->private_data->sk, if fd is a socket. */
static __always_inline struct sock *sock_from_fd(int fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct socket *sock;
	struct file *file;
	umode_t mode;

	if (fd < 0 || fd >= (int)BPF_CORE_READ(fdt, max_fds))
		return NULL;
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	mode = BPF_CORE_READ(file, f_inode, i_mode);
	if ((mode & TRACER_S_IFMT) != TRACER_S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	return BPF_CORE_READ(sock, sk);
}

static __always_inline __u8 sock_state(const struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_state);
}

#endif
