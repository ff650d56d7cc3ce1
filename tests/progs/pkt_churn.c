// SPDX-License-Identifier: GPL-2.0
/*
 * Packet-socket churn for the soak test of `tracer pktleak --all`:
 *
 *   pkt_churn BIND_IF NOISE_IF TOTAL CONCURRENT [NOISE_GAP_US]
 *
 * CONCURRENT threads open, bind and close TOTAL packet sockets between them,
 * so that at most CONCURRENT are open at a time: each socket() with ETH_P_ALL,
 * a wait of 0-999 us (frames reach it before bind), bind() to BIND_IF, a
 * nonblocking read of what is queued, close(). Meanwhile one more thread sends
 * raw Ethernet frames out of NOISE_IF (from a protocol-0 socket, which
 * receives nothing), one every NOISE_GAP_US (default 200) microseconds, until
 * the churn ends. Prints one line:
 *
 *   {"pid":N,"sockets":N,"noise_frames":N,"read":N,"fds":{"3":K,...}}
 *
 * sockets: the packet sockets created, TOTAL and the noise sender's; fds: how
 * many of them were created with each fd number. Exits 1 if a call fails, 2
 * on a bad command line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define EXPERIMENTAL_ETHERTYPE 0x88b5
#define MAX_CONCURRENT 256
#define MAX_FD 1024

static int bind_ifindex, noise_ifindex;
static long noise_gap_us = 200;
static long total;
static atomic_long next_socket;
static atomic_long fd_uses[MAX_FD];
static atomic_long frames_read;
static atomic_bool churn_done;
static atomic_bool failed;

static void fail(const char *what)
{
	fprintf(stderr, "pkt_churn: %s: %s\n", what, strerror(errno));
	atomic_store(&failed, true);
}

static void pause_us(long us)
{
	struct timespec ts = { .tv_nsec = us * 1000 };

	nanosleep(&ts, NULL);
}

/* One socket's life; false when a call failed. */
static bool churn_one(unsigned int *seed)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = bind_ifindex,
	};
	char buf[128];
	int fd;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0 || fd >= MAX_FD) {
		fail("socket");
		return false;
	}
	atomic_fetch_add(&fd_uses[fd], 1);
	pause_us(rand_r(seed) % 1000);
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		fail("bind");
		close(fd);
		return false;
	}
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		atomic_fetch_add(&frames_read, 1);
	if (close(fd)) {
		fail("close");
		return false;
	}
	return true;
}

static void *churn(void *arg)
{
	unsigned int seed = (unsigned int)(long)arg;

	while (atomic_fetch_add(&next_socket, 1) < total)
		if (!churn_one(&seed))
			break;
	return NULL;
}

static void *noise(void *arg)
{
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_ifindex = noise_ifindex,
		.sll_halen = ETH_ALEN,
		.sll_addr = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	};
	static const unsigned char src[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x02 };
	unsigned char frame[ETH_ZLEN] = { 0 };
	struct ethhdr *eth = (struct ethhdr *)frame;
	long *sent = arg;
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

	if (fd < 0 || fd >= MAX_FD) {
		fail("noise socket");
		return NULL;
	}
	atomic_fetch_add(&fd_uses[fd], 1);
	/* broadcast, from a locally administered address */
	memset(eth->h_dest, 0xff, ETH_ALEN);
	memcpy(eth->h_source, src, ETH_ALEN);
	eth->h_proto = htons(EXPERIMENTAL_ETHERTYPE);
	while (!atomic_load(&churn_done)) {
		if (sendto(fd, frame, sizeof(frame), 0, (struct sockaddr *)&to,
			   sizeof(to)) < 0) {
			fail("noise sendto");
			break;
		}
		++*sent;
		pause_us(noise_gap_us);
	}
	close(fd);
	return NULL;
}

static void print_result(long noise_frames)
{
	const char *sep = "";
	long sockets = 0;

	for (int fd = 0; fd < MAX_FD; fd++)
		sockets += atomic_load(&fd_uses[fd]);
	printf("{\"pid\":%d,\"sockets\":%ld,\"noise_frames\":%ld,"
	       "\"read\":%ld,\"fds\":{",
	       getpid(), sockets, noise_frames, atomic_load(&frames_read));
	for (int fd = 0; fd < MAX_FD; fd++) {
		if (!atomic_load(&fd_uses[fd]))
			continue;
		printf("%s\"%d\":%ld", sep, fd, atomic_load(&fd_uses[fd]));
		sep = ",";
	}
	printf("}}\n");
}

int main(int argc, char **argv)
{
	pthread_t threads[MAX_CONCURRENT], noise_thread;
	long concurrent, noise_frames = 0;

	if (argc != 5 && argc != 6) {
		fprintf(stderr,
			"usage: %s BIND_IF NOISE_IF TOTAL CONCURRENT "
			"[NOISE_GAP_US]\n",
			argv[0]);
		return 2;
	}
	bind_ifindex = (int)if_nametoindex(argv[1]);
	noise_ifindex = (int)if_nametoindex(argv[2]);
	total = atol(argv[3]);
	concurrent = atol(argv[4]);
	if (argc == 6)
		noise_gap_us = atol(argv[5]);
	if (!bind_ifindex || !noise_ifindex || total < 1 || concurrent < 1 ||
	    concurrent > MAX_CONCURRENT || noise_gap_us < 0 ||
	    noise_gap_us >= 1000000) {
		fprintf(stderr, "pkt_churn: bad interface or number\n");
		return 2;
	}
	if (pthread_create(&noise_thread, NULL, noise, &noise_frames))
		return 1;
	for (long i = 0; i < concurrent; i++)
		if (pthread_create(&threads[i], NULL, churn, (void *)(i + 1)))
			return 1;
	for (long i = 0; i < concurrent; i++)
		pthread_join(threads[i], NULL);
	atomic_store(&churn_done, true);
	pthread_join(noise_thread, NULL);
	if (atomic_load(&failed))
		return 1;
	if (atomic_load(&next_socket) < total)
		return 1;
	print_result(noise_frames);
	return 0;
}
