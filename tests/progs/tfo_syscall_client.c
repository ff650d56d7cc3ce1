// SPDX-License-Identifier: GPL-2.0
/*
 * tfo_syscall_client: MSG_FASTOPEN sends made with syscall(2), past libc's
 * send wrappers (as Go programs and raw-syscall code do).
 *
 *   tfo_syscall_client PORT
 *
 * 1. syscall(SYS_sendto, fd, buf, len, MSG_FASTOPEN, 127.0.0.1:PORT, 16)
 * 2. syscall(SYS_sendmsg, fd2, &msg, MSG_FASTOPEN) with msg_name NULL
 *
 * Prints "tfo_syscall_client pid=N", then one line per call as tfo_client
 * does. Exits 0 whatever the calls return, 2 on a bad command line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000
#endif

static const char payload[] = "tfo_syscall_client";

static void report(const char *call, long ret, int err)
{
	printf("%s sock=tcp flags=0x%x ret=%ld errno=%s\n", call, MSG_FASTOPEN,
	       ret, ret < 0 ? strerrorname_np(err) : "none");
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct iovec iov = { .iov_base = (void *)payload,
			     .iov_len = sizeof(payload) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	long port, ret;
	char *end;
	int fd;

	if (argc != 2)
		goto usage;
	port = strtol(argv[1], &end, 10);
	if (*end || port < 1 || port > 65535)
		goto usage;
	to.sin_port = htons(port);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("tfo_syscall_client pid=%d\n", getpid());

	fd = socket(AF_INET, SOCK_STREAM, 0);
	ret = syscall(SYS_sendto, fd, payload, sizeof(payload), MSG_FASTOPEN,
		      &to, sizeof(to));
	report("sendto", ret, errno);
	close(fd);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ret = syscall(SYS_sendmsg, fd, &msg, MSG_FASTOPEN);
	report("sendmsg", ret, errno);
	close(fd);
	return 0;

usage:
	fprintf(stderr, "usage: tfo_syscall_client PORT\n");
	return 2;
}
