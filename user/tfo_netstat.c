// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tfo_netstat.h"
#include "runtime.h"

const char *const tfo_counter_names[TFO_NCOUNTERS] = {
	[TFO_CTR_ACTIVE] = "TCPFastOpenActive",
	[TFO_CTR_ACTIVE_FAIL] = "TCPFastOpenActiveFail",
	[TFO_CTR_COOKIE_REQD] = "TCPFastOpenCookieReqd",
	[TFO_CTR_BLACKHOLE] = "TCPFastOpenBlackhole",
	[TFO_CTR_PASSIVE] = "TCPFastOpenPassive",
	[TFO_CTR_PASSIVE_FAIL] = "TCPFastOpenPassiveFail",
	[TFO_CTR_LISTEN_OVERFLOW] = "TCPFastOpenListenOverflow",
};

/* Inode number of a namespace file (/proc/PID/ns/net or a bind mount). */
static unsigned int ns_inum(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (unsigned int)st.st_ino;
}

/* qsort()/bsearch() comparator: the signature is libc's. */
// NOLINTNEXTLINE(bugprone-easily-swappable-parameters)
static int cmp_uint(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;

	return x < y ? -1 : x > y;
}

static void add_existing(struct tfo_netstat *s, size_t *cap, unsigned int inum)
{
	unsigned int *grown;

	if (!inum)
		return;
	if (s->nexisting == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		grown = realloc(s->existing, *cap * sizeof(*grown));
		if (!grown)
			return;
		s->existing = grown;
	}
	s->existing[s->nexisting++] = inum;
}

/* Every network namespace a process or `ip netns` holds now. */
static void scan_existing(struct tfo_netstat *s)
{
	const char *const dirs[] = { "/proc", "/run/netns" };
	char path[300];
	size_t cap = 0;

	for (size_t d = 0; d < 2; d++) {
		DIR *dir = opendir(dirs[d]);
		struct dirent *de;

		if (!dir)
			continue;
		while ((de = readdir(dir))) {
			if (d == 0 &&
			    (de->d_name[0] < '0' || de->d_name[0] > '9'))
				continue;
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s%s", dirs[d],
				 de->d_name, d == 0 ? "/ns/net" : "");
			add_existing(s, &cap, ns_inum(path));
		}
		closedir(dir);
	}
	qsort(s->existing, s->nexisting, sizeof(*s->existing), cmp_uint);
}

static bool existed_at_start(const struct tfo_netstat *s, unsigned int inum)
{
	return bsearch(&inum, s->existing, s->nexisting, sizeof(inum),
		       cmp_uint) != NULL;
}

/* The TcpExt values we want from a netstat file's header and value lines. */
static bool parse_netstat(FILE *f, long long out[TFO_NCOUNTERS])
{
	char *names = NULL, *values = NULL;
	size_t nl = 0, vl = 0;
	bool found = false;

	while (getline(&names, &nl, f) > 0 && getline(&values, &vl, f) > 0) {
		char *ns, *vs, *n, *v;

		if (strncmp(names, "TcpExt:", 7) != 0)
			continue;
		n = strtok_r(names + 7, " \n", &ns);
		v = strtok_r(values + 7, " \n", &vs);
		for (; n && v; n = strtok_r(NULL, " \n", &ns),
			       v = strtok_r(NULL, " \n", &vs)) {
			for (int c = 0; c < TFO_NCOUNTERS; c++)
				if (!strcmp(n, tfo_counter_names[c]))
					out[c] = strtoll(v, NULL, 10);
		}
		found = true;
		break;
	}
	free(names);
	free(values);
	return found;
}

/*
 * The counters of the namespace behind @nsfd: a short-lived child enters it
 * (setns) and reads /proc/thread-self/net/netstat, which shows the reading
 * thread's namespace; it works after every process of the namespace is gone.
 */
static int read_counters(int nsfd, long long out[TFO_NCOUNTERS])
{
	int p[2], status, err = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return errno;
	pid = tracer_fork();
	if (pid == 0) {
		long long v[TFO_NCOUNTERS + 1] = {};
		FILE *f = NULL;

		close(p[0]);
		if (!setns(nsfd, CLONE_NEWNET))
			f = fopen("/proc/thread-self/net/netstat", "re");
		if (!f)
			v[TFO_NCOUNTERS] = errno;
		else if (!parse_netstat(f, v))
			v[TFO_NCOUNTERS] = ENOENT;
		if (write(p[1], v, sizeof(v)) != sizeof(v))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return errno;
	}
	{
		long long v[TFO_NCOUNTERS + 1];

		if (read(p[0], v, sizeof(v)) != sizeof(v))
			err = EIO;
		else if (v[TFO_NCOUNTERS])
			err = (int)v[TFO_NCOUNTERS];
		else
			memcpy(out, v, sizeof(long long) * TFO_NCOUNTERS);
	}
	close(p[0]);
	waitpid(pid, &status, 0);
	return err;
}

static struct tfo_netns *find_ns(struct tfo_netstat *s, unsigned int inum)
{
	for (int i = 0; i < s->n; i++)
		if (s->ns[i].inum == inum)
			return &s->ns[i];
	return NULL;
}

/* Hold @pid's namespace, the one of inode s->want (any when 0). */
static struct tfo_netns *hold_ns(struct tfo_netstat *s, pid_t pid)
{
	unsigned int inum = s->want;
	struct tfo_netns *ns;
	char path[64];
	struct stat st;
	int fd;

	if (s->n == TFO_MAX_NETNS)
		return NULL;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ns = &s->ns[s->n++];
	memset(ns, 0, sizeof(*ns));
	ns->fd = -1;
	ns->inum = inum;
	if (fd < 0) {
		snprintf(ns->why, sizeof(ns->why),
			 "cannot open %s (%s): the namespace was gone before "
			 "tracer could hold it",
			 path, strerror(errno));
		return ns;
	}
	if (fstat(fd, &st) || (inum && st.st_ino != inum)) {
		snprintf(ns->why, sizeof(ns->why),
			 "process %d left the namespace before tracer could "
			 "hold it",
			 (int)pid);
		close(fd);
		return ns;
	}
	ns->inum = (unsigned int)st.st_ino;
	ns->fd = fd;
	return ns;
}

static void read_before(struct tfo_netns *ns)
{
	int err;

	if (ns->fd < 0)
		return;
	err = read_counters(ns->fd, ns->before);
	if (err)
		snprintf(ns->why, sizeof(ns->why),
			 "cannot read its counters: %s", strerror(err));
	ns->have_before = !err;
}

void tfo_netstat_start(struct tfo_netstat *s, pid_t pid, bool all_new)
{
	struct tfo_netns *ns;

	s->all_new = all_new;
	scan_existing(s);
	s->want = 0;
	ns = hold_ns(s, pid);
	if (ns) {
		ns->baseline = TFO_BASE_START;
		read_before(ns);
	}
}

struct tfo_netns *tfo_netstat_seen(struct tfo_netstat *s,
				   const struct tfo_event *e)
{
	unsigned int inum = e->netns;
	pid_t pid = (pid_t)e->tgid;
	struct tfo_netns *ns;

	ns = find_ns(s, inum);
	if (!ns && inum && !s->frozen) {
		s->want = inum;
		ns = hold_ns(s, pid);
		if (!ns)
			return NULL;
		if (!s->all_new && existed_at_start(s, inum)) {
			ns->baseline = TFO_BASE_LATE;
			read_before(ns);
		} else {
			/* Made after tracing began: every counter started at
			 * zero (setup_net() allocates them zeroed). */
			ns->baseline = TFO_BASE_NEW;
			ns->have_before = true;
		}
	}
	if (ns)
		ns->traced = true;
	return ns;
}

void tfo_netstat_finish(struct tfo_netstat *s)
{
	for (int i = 0; i < s->n; i++) {
		struct tfo_netns *ns = &s->ns[i];
		int err;

		if (ns->fd < 0 || !ns->have_before)
			continue;
		err = read_counters(ns->fd, ns->after);
		if (err)
			snprintf(ns->why, sizeof(ns->why),
				 "cannot read its counters: %s", strerror(err));
		ns->have_after = !err;
	}
}

bool tfo_netstat_delta(const struct tfo_netns *ns, enum tfo_counter c,
		       long long *delta)
{
	if (!ns->have_before || !ns->have_after)
		return false;
	*delta = ns->after[c] - ns->before[c];
	return true;
}

void tfo_netstat_close(struct tfo_netstat *s)
{
	for (int i = 0; i < s->n; i++)
		if (s->ns[i].fd >= 0)
			close(s->ns[i].fd);
	free(s->existing);
	memset(s, 0, sizeof(*s));
}
