// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "names.h"

/*
 * The kernel's internal ENOTSUPP (include/linux/errno.h) leaks to user space,
 * e.g. from BPF trampolines on architectures without them.
 */
#define KERNEL_ENOTSUPP 524

/* Errors are -1 ... -MAX_ERRNO (include/linux/err.h). */
#define KERNEL_MAX_ERRNO 4095

const char *errno_name(long err)
{
	static char unknown[32]; /* single-threaded tool */
	/* unsigned: the magnitude of LONG_MIN too */
	unsigned long v = err < 0 ? 0UL - (unsigned long)err :
				    (unsigned long)err;
	const char *name = NULL;

	if (!v)
		return NULL;
	if (v == KERNEL_ENOTSUPP)
		return "ENOTSUPP";
	if (v <= KERNEL_MAX_ERRNO)
		name = strerrorname_np((int)v);
	if (name)
		return name;
	snprintf(unknown, sizeof(unknown), "errno %lu", v);
	return unknown;
}

long errno_of(long long ret)
{
	return ret < 0 && ret >= -KERNEL_MAX_ERRNO ? (long)-ret : 0;
}

/* Numbering of include/net/tcp_states.h */
const char *tcp_state_name(int state)
{
	static const char *const names[] = {
		"?",
		"ESTABLISHED",
		"SYN_SENT",
		"SYN_RECV",
		"FIN_WAIT1",
		"FIN_WAIT2",
		"TIME_WAIT",
		"CLOSE",
		"CLOSE_WAIT",
		"LAST_ACK",
		"LISTEN",
		"CLOSING",
		"NEW_SYN_RECV",
	};

	if (state < 0 || (size_t)state >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[state];
}

const char *family_name(int family)
{
	switch (family) {
	case AF_UNSPEC:
		return "AF_UNSPEC";
	case AF_UNIX:
		return "AF_UNIX";
	case AF_INET:
		return "AF_INET";
	case AF_INET6:
		return "AF_INET6";
	case AF_PACKET:
		return "AF_PACKET";
	case AF_NETLINK:
		return "AF_NETLINK";
	default:
		return "AF_?";
	}
}

const char *msg_flags_str(unsigned int flags, char *buf, size_t len)
{
	static const struct {
		unsigned int bit;
		const char *name;
	} known[] = {
		{ MSG_OOB, "MSG_OOB" },
		{ MSG_DONTROUTE, "MSG_DONTROUTE" },
		{ MSG_DONTWAIT, "MSG_DONTWAIT" },
		{ MSG_EOR, "MSG_EOR" },
		{ MSG_CONFIRM, "MSG_CONFIRM" },
		{ MSG_NOSIGNAL, "MSG_NOSIGNAL" },
		{ MSG_MORE, "MSG_MORE" },
		{ MSG_ZEROCOPY, "MSG_ZEROCOPY" },
		{ MSG_FASTOPEN, "MSG_FASTOPEN" },
	};
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (!(flags & known[i].bit))
			continue;
		off += snprintf(buf + off, off < len ? len - off : 0, "%s%s",
				off ? "|" : "", known[i].name);
		flags &= ~known[i].bit;
	}
	if (flags || !off)
		snprintf(buf + off, off < len ? len - off : 0, "%s%#x",
			 off ? "|" : "", flags);
	return buf;
}
