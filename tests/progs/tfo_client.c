// SPDX-License-Identifier: GPL-2.0
/*
 * tfo_client: the field report's failing client, as a test program.
 *
 *   tfo_client PORT [--plain] [--send]
 *
 * 1. sendmsg(fd, &msg, MSG_FASTOPEN) on a fresh TCP socket with msg_name NULL:
 *    the kernel has no address to connect to (EINVAL from tcp_v4_connect).
 * 2. sendto(fd2, buf, len, MSG_FASTOPEN, 127.0.0.1:PORT) on another fresh TCP
 *    socket: ECONNREFUSED on a closed port, the byte count with a listener.
 * 3. With --plain: sendto(fd3, buf, len, 0, 127.0.0.1:PORT) on a UDP socket, a
 *    send without MSG_FASTOPEN (only `tracer tfo --all` reports it).
 * 4. With --send: send(fd4, buf, len, MSG_FASTOPEN) on a fresh TCP socket (no
 *    address: EINVAL), reported as "send".
 *
 * Each call is printed on stdout, one line each, so a test knows exactly what
 * was called and what it returned:
 *
 *   tfo_client pid=1234
 *   sendmsg sock=tcp flags=0x20000000 addrlen=0 ret=-1 errno=EINVAL
 *   sendto sock=tcp flags=0x20000000 addrlen=16 ret=-1 errno=ECONNREFUSED
 *
 * Exits 0 whatever the calls return; 2 on a bad command line or when a socket
 * cannot be created.
 *
 * `make test-progs` also builds it statically (tfo_client_static), with musl
 * (tfo_client_musl, interpreter /lib/ld-musl-x86_64.so.1) and statically with
 * musl (tfo_client_musl_static): the same calls through other C libraries.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000
#endif

static const char payload[] = "tfo_client";

/* glibc has strerrorname_np(); musl (tfo_client_musl*) does not. */
static const char *errno_name(int err)
{
#ifdef __GLIBC__
	return strerrorname_np(err);
#else
	static char other[16];

	switch (err) {
	case EINVAL:
		return "EINVAL";
	case ECONNREFUSED:
		return "ECONNREFUSED";
	case EINPROGRESS:
		return "EINPROGRESS";
	case EOPNOTSUPP:
		return "EOPNOTSUPP";
	case EISCONN:
		return "EISCONN";
	default:
		snprintf(other, sizeof(other), "E%d", err);
		return other;
	}
#endif
}

static void report(const char *call, const char *sock, int flags,
		   socklen_t addrlen, ssize_t ret, int err)
{
	printf("%s sock=%s flags=0x%x addrlen=%u ret=%zd errno=%s\n", call,
	       sock, flags, (unsigned int)addrlen, ret,
	       ret < 0 ? errno_name(err) : "none");
}

static int new_socket(int type)
{
	int fd = socket(AF_INET, type, 0);

	if (fd < 0) {
		fprintf(stderr, "tfo_client: socket: %s\n", strerror(errno));
		exit(2);
	}
	return fd;
}

/* The report's call: MSG_FASTOPEN, but msg_name NULL and msg_namelen 0. */
static void sendmsg_without_address(void)
{
	struct iovec iov = {
		.iov_base = (void *)payload,
		.iov_len = sizeof(payload),
	};
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	int fd = new_socket(SOCK_STREAM);
	ssize_t ret;

	ret = sendmsg(fd, &msg, MSG_FASTOPEN);
	report("sendmsg", "tcp", MSG_FASTOPEN, msg.msg_namelen, ret, errno);
	close(fd);
}

/* send(): no address at all, so EINVAL on an unconnected TCP socket. */
static void send_without_address(void)
{
	int fd = new_socket(SOCK_STREAM);
	ssize_t ret;

	ret = send(fd, payload, sizeof(payload), MSG_FASTOPEN);
	report("send", "tcp", MSG_FASTOPEN, 0, ret, errno);
	close(fd);
}

static void sendto_address(int type, int flags, const struct sockaddr_in *to)
{
	int fd = new_socket(type);
	ssize_t ret;

	ret = sendto(fd, payload, sizeof(payload), flags,
		     (const struct sockaddr *)to, sizeof(*to));
	report("sendto", type == SOCK_STREAM ? "tcp" : "udp", flags,
	       sizeof(*to), ret, errno);
	close(fd);
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	bool plain = false, with_send = false;
	char *end;
	long port;

	if (argc < 2 || argc > 4)
		goto usage;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--plain"))
			plain = true;
		else if (!strcmp(argv[i], "--send"))
			with_send = true;
		else
			goto usage;
	}
	port = strtol(argv[1], &end, 10);
	if (*end || port < 1 || port > 65535)
		goto usage;
	to.sin_port = htons(port);

	/* Line-buffered: each report is one write(), whole even on a pipe. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("tfo_client pid=%d\n", getpid());

	sendmsg_without_address();
	sendto_address(SOCK_STREAM, MSG_FASTOPEN, &to);
	if (plain)
		sendto_address(SOCK_DGRAM, 0, &to);
	if (with_send)
		send_without_address();
	return 0;

usage:
	fprintf(stderr, "usage: tfo_client PORT [--plain] [--send]\n");
	return 2;
}
