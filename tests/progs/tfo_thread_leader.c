// SPDX-License-Identifier: GPL-2.0
/*
 * A process whose sends come after its first thread (the thread group
 * leader) is gone, for the test that tracer keeps tracing the process:
 *
 *   tfo_thread_leader exit PORT   the leader starts a thread and exits
 *                                 alone (SYS_exit); once the leader is a
 *                                 zombie, the thread sends
 *   tfo_thread_leader exec PORT   a second thread execs this program
 *                                 (`send PORT`): de_thread() kills the
 *                                 leader and the exec'd image, with the
 *                                 same pid, sends
 *   tfo_thread_leader send PORT   (what the exec runs)
 *
 * Each send is sendto(MSG_FASTOPEN) of 8 bytes to 127.0.0.1:PORT on a fresh
 * TCP socket; SENDS of them. Prints {"pid":N,"sends":S,"errno":E} (E: the
 * last send's errno, 0 if it succeeded) and exits 0; 1 if a step failed, 2
 * on a bad command line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000
#endif

#define SENDS 3
#define LEADER_WAIT_MS 5000

static const char *self;
static const char *port_arg;

static int send_all(void)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port =
					  htons((unsigned short)atoi(port_arg)),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char line[128];
	int last = 0;

	for (int i = 0; i < SENDS; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0)
			return 1;
		last = sendto(fd, "thread!\n", 8, MSG_FASTOPEN,
			      (struct sockaddr *)&to, sizeof(to)) < 0 ?
			       errno :
			       0;
		close(fd);
	}
	/* one write(2): a tracer shares this stdout */
	snprintf(line, sizeof(line), "{\"pid\":%d,\"sends\":%d,\"errno\":%d}\n",
		 (int)getpid(), SENDS, last);
	return write(STDOUT_FILENO, line, strlen(line)) < 0;
}

/* Whether the thread group leader has exited (state Z in its stat). */
static int leader_is_zombie(void)
{
	char path[64], buf[256], *state;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)getpid());
	f = fopen(path, "re");
	if (!f)
		return 1; /* gone altogether */
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	state = strrchr(buf, ')'); /* comm may hold anything */
	return state && state[1] == ' ' && state[2] == 'Z';
}

static void *after_leader(void *arg)
{
	struct timespec ms = { .tv_nsec = 1000000 };

	(void)arg;
	for (int i = 0; i < LEADER_WAIT_MS && !leader_is_zombie(); i++)
		nanosleep(&ms, NULL);
	if (!leader_is_zombie())
		exit(1);
	exit(send_all());
}

static void *exec_self(void *arg)
{
	(void)arg;
	execl(self, self, "send", port_arg, (char *)NULL);
	exit(1);
}

int main(int argc, char **argv)
{
	pthread_t t;

	if (argc != 3)
		return 2;
	self = argv[0];
	port_arg = argv[2];
	if (!strcmp(argv[1], "send"))
		return send_all();
	if (!strcmp(argv[1], "exit")) {
		if (pthread_create(&t, NULL, after_leader, NULL))
			return 1;
		/* the thread alone, as pthread_exit() would end it, without
		 * its unwinding (which needs libgcc_s, missing in the guests) */
		syscall(SYS_exit, 0);
	}
	if (!strcmp(argv[1], "exec")) {
		if (pthread_create(&t, NULL, exec_self, NULL))
			return 1;
		for (;;)
			pause();
	}
	return 2;
}
