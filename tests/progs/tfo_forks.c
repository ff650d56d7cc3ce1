// SPDX-License-Identifier: GPL-2.0
/*
 * Many short-lived children that each send once with MSG_FASTOPEN, for the
 * test that `tracer tfo -- CMD` follows every child:
 *
 *   tfo_forks PORT CHILDREN PARALLEL
 *
 * Forks CHILDREN children, at most PARALLEL alive at a time. Each makes one
 * sendto(MSG_FASTOPEN) to 127.0.0.1:PORT on a fresh TCP socket and exits with
 * the errno it got (0: the call succeeded). Odd-numbered children first exec
 * this program again (`tfo_forks --child PORT`), so both forked and exec'd
 * children send. Writes, once all are reaped, to the file named by
 * TFO_FORKS_OUT, or else to stdout:
 *
 *   {"pid":N,"children":[{"pid":P,"errno":E},...]}
 *
 * (a file: the line is longer than a pipe keeps together, and a tracer shares
 * stdout with this program)
 *
 * Exits 0, or 1 when fork/exec/wait fails, 2 on a bad command line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000
#endif

#define MAX_CHILDREN 10000

struct child {
	pid_t pid;
	int status;
};

static struct child children[MAX_CHILDREN];

static int send_once(int port)
{
	struct sockaddr_in to = {
		.sin_family = AF_INET,
		.sin_port = htons((unsigned short)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return 100;
	if (sendto(fd, "x", 1, MSG_FASTOPEN, (struct sockaddr *)&to,
		   sizeof(to)) >= 0)
		return 0;
	return errno;
}

/* Wait for any child; keep its status with its entry among the first @n. */
static int reap_one(int n)
{
	int status;
	pid_t pid = wait(&status);

	if (pid < 0)
		return -1;
	for (int i = 0; i < n; i++)
		if (children[i].pid == pid)
			children[i].status = status;
	return 0;
}

static pid_t start_child(const char *self, const char *port, int i)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	if (i % 2) {
		execl(self, self, "--child", port, (char *)NULL);
		_exit(101);
	}
	_exit(send_once(atoi(port)));
}

static int print_children(int n)
{
	const char *path = getenv("TFO_FORKS_OUT");
	FILE *out = path ? fopen(path, "w") : stdout;

	if (!out)
		return -1;
	fprintf(out, "{\"pid\":%d,\"children\":[", getpid());
	for (int i = 0; i < n; i++) {
		int st = children[i].status;

		fprintf(out, "%s{\"pid\":%d,\"errno\":%d}", i ? "," : "",
			children[i].pid, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	}
	fprintf(out, "]}\n");
	return fclose(out) ? -1 : 0;
}

int main(int argc, char **argv)
{
	int n, parallel, alive = 0;
	char self[4096];
	ssize_t len;

	if (argc == 3 && !strcmp(argv[1], "--child"))
		return send_once(atoi(argv[2]));
	if (argc != 4) {
		fprintf(stderr, "usage: %s PORT CHILDREN PARALLEL\n", argv[0]);
		return 2;
	}
	n = atoi(argv[2]);
	parallel = atoi(argv[3]);
	if (n < 1 || n > MAX_CHILDREN || parallel < 1)
		return 2;
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len < 0)
		return 1;
	self[len] = '\0';
	for (int i = 0; i < n; i++) {
		if (alive == parallel) {
			if (reap_one(i))
				return 1;
			alive--;
		}
		children[i].pid = start_child(self, argv[1], i);
		if (children[i].pid < 0)
			return 1;
		alive++;
	}
	while (alive--)
		if (reap_one(n))
			return 1;
	return print_children(n) ? 1 : 0;
}
