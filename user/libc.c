// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
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

/* ------------------------------------------------ per-process libc files */

void libc_file_close(struct libc_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

static int keep_open_file(struct libc_file *f, const char *path, int fd,
			  const char *kind)
{
	struct stat st;

	if (fstat(fd, &st)) {
		close(fd);
		return -1;
	}
	f->fd = fd;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->kind = kind;
	snprintf(f->path, sizeof(f->path), "%s", path);
	return 0;
}

/*
 * Open @path as process @pid sees it: inside its root (a container's own
 * /lib), absolute symbolic links resolved there too (RESOLVE_IN_ROOT).
 */
static int open_in_root(pid_t pid, const char *path)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT,
	};
	char root[64];
	int dir, fd;

	snprintf(root, sizeof(root), "/proc/%d/root", pid);
	dir = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -1;
	fd = (int)syscall(SYS_openat2, dir, path, &how, sizeof(how));
	close(dir);
	return fd;
}

static bool regular_file(int fd)
{
	struct stat st;

	return !fstat(fd, &st) && S_ISREG(st.st_mode);
}

/* What an ELF executable asks of the dynamic loader. */
struct elf_needs {
	bool elf;
	char interp[PATH_MAX]; /* "" when statically linked */
	char runpath[PATH_MAX]; /* DT_RUNPATH, else DT_RPATH */
};

static void read_interp(Elf *e, int fd, struct elf_needs *n)
{
	size_t phnum;
	GElf_Phdr ph;

	if (elf_getphdrnum(e, &phnum))
		return;
	for (size_t i = 0; i < phnum; i++) {
		size_t len;
		ssize_t got;

		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_INTERP)
			continue;
		len = ph.p_filesz < sizeof(n->interp) - 1 ?
			      ph.p_filesz :
			      sizeof(n->interp) - 1;
		got = pread(fd, n->interp, len, (off_t)ph.p_offset);
		n->interp[got > 0 ? got : 0] = '\0';
		return;
	}
}

static void read_runpath(Elf *e, struct elf_needs *n)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(e, scn))) {
		Elf_Data *d;
		GElf_Dyn dyn;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC)
			continue;
		d = elf_getdata(scn, NULL);
		for (int i = 0; d && gelf_getdyn(d, i, &dyn); i++) {
			const char *s;

			if (dyn.d_tag != DT_RUNPATH &&
			    (dyn.d_tag != DT_RPATH || n->runpath[0]))
				continue;
			s = elf_strptr(e, sh.sh_link, dyn.d_un.d_val);
			if (s)
				snprintf(n->runpath, sizeof(n->runpath), "%s",
					 s);
		}
		return;
	}
}

static void read_elf_needs(int fd, struct elf_needs *n)
{
	Elf *e;

	memset(n, 0, sizeof(*n));
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e)
		return;
	if (elf_kind(e) == ELF_K_ELF) {
		n->elf = true;
		read_interp(e, fd, n);
		read_runpath(e, n);
	}
	elf_end(e);
}

/* First "libc.so.6" in the ':'-separated directories of @dirs. */
static int find_in_dirs(pid_t pid, const char *dirs, char *found, size_t len,
			const char *origin)
{
	char list[PATH_MAX], *save = NULL;

	snprintf(list, sizeof(list), "%s", dirs);
	for (char *d = strtok_r(list, ":;", &save); d;
	     d = strtok_r(NULL, ":;", &save)) {
		char path[PATH_MAX];
		int fd;

		if (!strncmp(d, "$ORIGIN", 7))
			snprintf(path, sizeof(path), "%s%s/libc.so.6", origin,
				 d + 7);
		else if (!strncmp(d, "${ORIGIN}", 9))
			snprintf(path, sizeof(path), "%s%s/libc.so.6", origin,
				 d + 9);
		else
			snprintf(path, sizeof(path), "%s/libc.so.6", d);
		fd = open_in_root(pid, path);
		if (fd < 0)
			continue;
		if (regular_file(fd)) {
			snprintf(found, len, "%s", path);
			return fd;
		}
		close(fd);
	}
	return -1;
}

/* LD_LIBRARY_PATH of @pid's new image (its environment is in place). */
static void read_ld_library_path(pid_t pid, char *out, size_t len)
{
	char file[64], buf[65536];
	ssize_t n;
	int fd;

	out[0] = '\0';
	snprintf(file, sizeof(file), "/proc/%d/environ", pid);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (char *p = buf; p < buf + n; p += strlen(p) + 1)
		if (!strncmp(p, "LD_LIBRARY_PATH=", 16)) {
			snprintf(out, len, "%s", p + 16);
			return;
		}
}

/*
 * libc.so.6 as glibc's ld.so (elf/dl-load.c, _dl_map_object) looks for it:
 * LD_LIBRARY_PATH, DT_RUNPATH (DT_RPATH), then ld.so.cache and the default
 * directories. The cache is not read: on the distributions tracer knows it
 * points at the multiarch or lib64 directory tried here in its place. A
 * loader outside the standard places (Nix, a bundled glibc) has its own
 * libc beside it: that directory comes before the defaults.
 */
static int find_glibc(pid_t pid, const struct elf_needs *n, const char *exe,
		      char *found, size_t len)
{
	static const char defaults[] =
		"/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:"
		"/lib64:/usr/lib64:/lib:/usr/lib";
	char origin[PATH_MAX], env_path[PATH_MAX], interp_dir[PATH_MAX];
	char *slash;
	int fd;

	snprintf(origin, sizeof(origin), "%s", exe);
	slash = strrchr(origin, '/');
	if (slash)
		*slash = '\0';
	read_ld_library_path(pid, env_path, sizeof(env_path));
	if (env_path[0] &&
	    (fd = find_in_dirs(pid, env_path, found, len, origin)) >= 0)
		return fd;
	if (n->runpath[0] &&
	    (fd = find_in_dirs(pid, n->runpath, found, len, origin)) >= 0)
		return fd;
	snprintf(interp_dir, sizeof(interp_dir), "%s", n->interp);
	slash = strrchr(interp_dir, '/');
	if (slash && strncmp(interp_dir, "/lib", 4) != 0 &&
	    strncmp(interp_dir, "/usr/lib", 8) != 0) {
		*slash = '\0';
		fd = find_in_dirs(pid, interp_dir, found, len, origin);
		if (fd >= 0)
			return fd;
	}
	return find_in_dirs(pid, defaults, found, len, origin);
}

static void exe_path(pid_t pid, char *path, size_t len)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	n = readlink(link, path, len - 1);
	path[n > 0 ? n : 0] = '\0';
}

static int open_exe(pid_t pid)
{
	char link[64];

	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	return open(link, O_RDONLY | O_CLOEXEC);
}

int libc_predict(pid_t pid, struct libc_file *f, char *why, size_t why_len)
{
	char exe[PATH_MAX], found[PATH_MAX];
	const char *base;
	struct elf_needs n;
	int fd = open_exe(pid);

	f->fd = -1;
	exe_path(pid, exe, sizeof(exe));
	if (fd < 0) {
		snprintf(why, why_len, "cannot open /proc/%d/exe: %s", pid,
			 strerror(errno));
		return -1;
	}
	read_elf_needs(fd, &n);
	if (!n.elf) {
		close(fd);
		snprintf(why, why_len, "%s is not an ELF file", exe);
		return -1;
	}
	if (!n.interp[0]) /* statically linked: its own wrappers */
		return keep_open_file(f, exe, fd, "static executable");
	close(fd);
	base = strrchr(n.interp, '/');
	base = base ? base + 1 : n.interp;
	if (!strncmp(base, "ld-musl-", 8)) {
		/* musl's dynamic loader is its libc (libc.so). */
		fd = open_in_root(pid, n.interp);
		if (fd >= 0)
			return keep_open_file(f, n.interp, fd, "musl");
		snprintf(why, why_len, "cannot open %s's interpreter %s: %s",
			 exe, n.interp, strerror(errno));
		return -1;
	}
	fd = find_glibc(pid, &n, exe, found, sizeof(found));
	if (fd >= 0)
		return keep_open_file(f, found, fd, "glibc");
	snprintf(why, why_len, "no libc.so.6 found for %s (interpreter %s)",
		 exe, n.interp);
	return -1;
}

/* "maj:min" of a maps line as a dev_t */
static dev_t maps_dev(const char *s)
{
	unsigned int maj = 0, min = 0;

	sscanf(s, "%x:%x", &maj, &min);
	return makedev(maj, min);
}

/* One file-backed line of /proc/PID/maps. */
struct maps_file {
	dev_t dev;
	ino_t ino;
	char path[PATH_MAX];
};

static bool next_maps_file(FILE *maps, struct maps_file *m)
{
	char line[PATH_MAX + 128], dev[32];
	unsigned long ino;

	while (fgets(line, sizeof(line), maps)) {
		m->path[0] = '\0';
		if (sscanf(line, "%*s %*s %*s %31s %lu %4095s", dev, &ino,
			   m->path) < 3 ||
		    m->path[0] != '/')
			continue;
		m->dev = maps_dev(dev);
		m->ino = (ino_t)ino;
		return true;
	}
	return false;
}

static FILE *open_maps(pid_t pid)
{
	char file[64];

	snprintf(file, sizeof(file), "/proc/%d/maps", pid);
	return fopen(file, "re");
}

int libc_mapped(pid_t pid, struct libc_file *f, char *why, size_t why_len)
{
	FILE *maps = open_maps(pid);
	struct maps_file m;
	struct elf_needs n;
	char exe[PATH_MAX];
	int fd;

	f->fd = -1;
	if (!maps) {
		snprintf(why, why_len, "cannot read /proc/%d/maps: %s", pid,
			 strerror(errno));
		return -1;
	}
	while (next_maps_file(maps, &m)) {
		if (!is_libc(m.path) &&
		    strncmp(strrchr(m.path, '/') + 1, "ld-musl-", 8) != 0)
			continue;
		fclose(maps);
		fd = open_in_root(pid, m.path);
		if (fd < 0) {
			snprintf(why, why_len, "cannot open %s: %s", m.path,
				 strerror(errno));
			return -1;
		}
		return keep_open_file(f, m.path, fd, "mapped");
	}
	fclose(maps);
	/* No shared libc: a static executable holds its own wrappers. */
	fd = open_exe(pid);
	exe_path(pid, exe, sizeof(exe));
	if (fd >= 0) {
		read_elf_needs(fd, &n);
		if (n.elf && !n.interp[0])
			return keep_open_file(f, exe, fd, "static executable");
		close(fd);
	}
	snprintf(why, why_len, "%s maps no C library", exe);
	return -1;
}

int libc_is_mapped(pid_t pid, const struct libc_file *f, char *other,
		   size_t other_len)
{
	FILE *maps = open_maps(pid);
	struct maps_file m;
	bool any = false;

	other[0] = '\0';
	if (!maps)
		return -1;
	while (next_maps_file(maps, &m)) {
		any = true;
		/* overlayfs shows the overlay's path, not the real inode */
		if ((m.dev == f->dev && m.ino == f->ino) ||
		    !strcmp(m.path, f->path)) {
			fclose(maps);
			return 1;
		}
		if (!other[0] && (is_libc(m.path) || strstr(m.path, "ld-musl")))
			snprintf(other, other_len, "%s", m.path);
	}
	fclose(maps);
	return any ? 0 : -1; /* a zombie maps nothing */
}

/* ------------------------------------------------------- ELF symbols */

static bool wanted_func(const GElf_Sym *s)
{
	int type = GELF_ST_TYPE(s->st_info), bind = GELF_ST_BIND(s->st_info);

	return (type == STT_FUNC || type == STT_GNU_IFUNC) &&
	       s->st_shndx != SHN_UNDEF && s->st_shndx < SHN_LORESERVE &&
	       (bind == STB_GLOBAL || bind == STB_WEAK);
}

/* Symbol value to file offset through its section (what uprobes take). */
static unsigned long sym_file_offset(Elf *e, const GElf_Sym *s)
{
	Elf_Scn *scn = elf_getscn(e, s->st_shndx);
	GElf_Shdr sh;

	if (!scn || !gelf_getshdr(scn, &sh))
		return 0;
	return s->st_value - sh.sh_addr + sh.sh_offset;
}

static int scan_symbols(Elf *e, Elf_Scn *scn, const GElf_Shdr *sh,
			const char *const *names, int n, unsigned long *offs)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t count = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;
	int found = 0;
	GElf_Sym s;

	for (size_t i = 0; d && i < count; i++) {
		const char *name;

		if (!gelf_getsym(d, (int)i, &s) || !wanted_func(&s))
			continue;
		name = elf_strptr(e, sh->sh_link, s.st_name);
		for (int j = 0; name && j < n; j++) {
			if (offs[j] || strcmp(name, names[j]) != 0)
				continue;
			offs[j] = sym_file_offset(e, &s);
			found += offs[j] != 0;
		}
	}
	return found;
}

static int symbols_of_type(Elf *e, Elf64_Word type, const char *const *names,
			   int n, unsigned long *offs)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int found = 0;

	while ((scn = elf_nextscn(e, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == type)
			found += scan_symbols(e, scn, &sh, names, n, offs);
	return found;
}

int elf_func_offsets(int fd, const char *const *names, int n,
		     unsigned long *offs)
{
	int found;
	Elf *e;

	memset(offs, 0, (size_t)n * sizeof(offs[0]));
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF) {
		elf_end(e);
		return -1;
	}
	found = symbols_of_type(e, SHT_SYMTAB, names, n, offs);
	if (found < n)
		found += symbols_of_type(e, SHT_DYNSYM, names, n, offs);
	elf_end(e);
	return found;
}
