// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "libc.h"

static int is_libc(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strncmp(base, "libc.so", 7) || !strncmp(base, "libc-", 5);
}

static int libc_from_maps(pid_t pid, char *path, size_t len)
{
	char maps[64], line[4096], file[4096];
	int found = -1;
	FILE *f;

	if (pid)
		snprintf(maps, sizeof(maps), "/proc/%d/maps", pid);
	else
		snprintf(maps, sizeof(maps), "/proc/self/maps");
	f = fopen(maps, "re");
	if (!f)
		return -1;
	while (found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %*s %*s %*s %*s %4095s", file) != 1)
			continue;
		if (file[0] != '/' || !is_libc(file))
			continue;
		/* Through /proc/PID/root: right even inside a container. */
		if (pid)
			snprintf(path, len, "/proc/%d/root%s", pid, file);
		else
			snprintf(path, len, "%s", file);
		found = 0;
	}
	fclose(f);
	return found;
}

int libc_path_of(pid_t pid, bool self, char *path, size_t len)
{
	static const char *const standard[] = {
		"/lib/x86_64-linux-gnu/libc.so.6",
		"/usr/lib/x86_64-linux-gnu/libc.so.6",
		"/lib64/libc.so.6",
		"/usr/lib/libc.so.6",
	};

	if (!libc_from_maps(pid, path, len))
		return 0;
	if (pid)
		return -1;
	/* A static tracer maps no libc: its own binary holds the wrappers. */
	if (self) {
		ssize_t n = readlink("/proc/self/exe", path, len - 1);

		if (n <= 0)
			return -1;
		path[n] = '\0';
		return 0;
	}
	/* The programs a static tracer starts still use the system's. */
	for (size_t i = 0; i < sizeof(standard) / sizeof(standard[0]); i++) {
		if (!access(standard[i], R_OK)) {
			snprintf(path, len, "%s", standard[i]);
			return 0;
		}
	}
	return -1;
}
