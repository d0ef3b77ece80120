// SPDX-License-Identifier: GPL-2.0
/*
 * Environment cgroups on v1, v2 and hybrid hosts.
 *
 * A hierarchy is one mounted cgroup tree: each v1 mount with real
 * controllers, and the v2 mount. An environment has one directory in each,
 * "<own>/<parent>/<name>", where <own> is huskd's group in that hierarchy
 * (they differ per hierarchy on hybrid hosts). Each limit lives in the one
 * hierarchy that carries its controller: v1 where it is mounted, else v2.
 *
 * What libcgroup 2.0.2 does here, and what this file does around it:
 *  - v1 groups and their limits: cgroup_create_cgroup() with one struct
 *    cgroup per hierarchy (the paths differ per hierarchy), removal with
 *    cgroup_delete_cgroup_ext(CGFLAG_DELETE_EMPTY_ONLY) so that it never
 *    migrates a live task up into the parent, where no limit holds it.
 *  - A v2 group without controllers (hybrid hosts): libcgroup has no name
 *    to address that hierarchy by, and cgroup_create_cgroup() on a group
 *    without controllers returns success without creating anything. It is
 *    a plain mkdir/rmdir here.
 *  - Attaching: cgroup_attach_task_pid() writes v1 "tasks", which moves a
 *    single thread; cgroup.procs is written directly to move the process.
 *  - v1 cpuset: a new group starts with empty cpus and mems and refuses
 *    tasks (ENOSPC); both are copied from the parent as creation values.
 *  - cgroup_create_cgroup() on an existing group succeeds (it reuses it),
 *    so a name in use is caught here first, with EEXIST.
 *  - Removal is verified with stat() in every hierarchy: libcgroup's
 *    delete of a group without controllers returns 0 and removes nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libcgroup.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "log.h"

#define HUSK_CG_MAX_HIER 16
#define FREEZE_TIMEOUT_MS 5000
/* Generous: a task in an uninterruptible sleep (I/O) dies only when it wakes. */
#define KILL_TIMEOUT_MS 10000
/* rmdir can see EBUSY for a moment while the last task finishes exiting. */
#define RMDIR_TIMEOUT_MS 2000
#define MAX_DEPTH 8
#define V2_SUPERVISOR_LEAF "supervisor"

enum cg_role { ROLE_MEMORY, ROLE_PIDS, ROLE_CPU, ROLE_FREEZER, ROLE_COUNT };

static const char *const role_names[ROLE_COUNT] = {"memory", "pids", "cpu", "freezer"};

struct cg_hier {
	bool v2;
	char mount[PATH_MAX]; /* mount point */
	char root[PATH_MAX];  /* the mount's root inside the hierarchy */
	char own[PATH_MAX];   /* huskd's group below the mount, "" or "/a/b" */
	char ctrls[256];      /* v1: its controllers; v2: those husk sets limits with */
};

struct husk_cgroups {
	enum husk_cg_mode mode;
	char parent[NAME_MAX + 1];
	struct cg_hier hier[HUSK_CG_MAX_HIER];
	int nhier;
	int v2;		      /* index of the v2 hierarchy, -1 without one */
	int role[ROLE_COUNT]; /* hierarchy carrying each limit, -1 if none */
	bool memsw;	      /* v1 memory.memsw.limit_in_bytes exists */
	bool swap_max;	      /* v2 memory.swap.max exists */
	char *parent_dir[HUSK_CG_MAX_HIER];
	char *parent_rel[HUSK_CG_MAX_HIER];
	char describe[128];
};

struct husk_cg {
	const struct husk_cgroups *cgs;
	char *dir[HUSK_CG_MAX_HIER]; /* absolute directory in each hierarchy */
	char *rel[HUSK_CG_MAX_HIER]; /* the same below the mount, "/own/parent/name" */
	int v2_fd;
	uint64_t id;
	int freeze_fd; /* v1 freezer.state or v2 cgroup.freeze */
	int events_fd; /* v2 cgroup.events, to see the freeze complete */
	int peak_fd;   /* v1 memory.max_usage_in_bytes, v2 memory.peak; -1: use current */
	int current_fd;
	int oom_fd;
	int pids_fd;
	uint64_t memory_limit; /* what memory.limit_in_bytes / memory.max holds */
};

/* ---- small helpers ---- */

static int set_err(char *err, size_t errlen, int ret, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int set_err(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Yield first (most waits end within microseconds), then sleep longer and longer. */
static void backoff(unsigned int attempt)
{
	struct timespec ts = {0};
	long us;

	if (attempt < 8) {
		sched_yield();
		return;
	}
	us = attempt - 8 < 8 ? 20L << (attempt - 8) : 5000;
	ts.tv_nsec = (us > 5000 ? 5000 : us) * 1000;
	nanosleep(&ts, NULL);
}

/* Is name one of the comma separated entries of list? */
static bool list_has(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while ((p = strstr(p, name))) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return true;
		p += n;
	}
	return false;
}

static void list_add(char *list, size_t size, const char *name)
{
	size_t len = strlen(list);

	snprintf(list + len, size - len, "%s%s", len ? "," : "", name);
}

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
}

static int read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	chomp(buf);
	return 0;
}

static int write_file(const char *path, const char *s)
{
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	if (n < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int pread_str(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	chomp(buf);
	return 0;
}

static int pwrite_str(int fd, const char *s)
{
	return pwrite(fd, s, strlen(s), 0) < 0 ? -errno : 0;
}

static int pread_u64(int fd, uint64_t *val)
{
	char buf[64], *end;
	int ret;

	if (fd < 0)
		return -EOPNOTSUPP;
	ret = pread_str(fd, buf, sizeof(buf));
	if (ret)
		return ret;
	errno = 0;
	*val = strtoull(buf, &end, 10);
	return errno || end == buf ? -EINVAL : 0;
}

/* A "key value" line of a flat keyed file (memory.events, memory.oom_control). */
static int pread_key(int fd, const char *key, uint64_t *val)
{
	size_t n = strlen(key);
	char buf[1024], *line;
	int ret;

	if (fd < 0)
		return -EOPNOTSUPP;
	ret = pread_str(fd, buf, sizeof(buf));
	if (ret)
		return ret;
	line = buf;
	while (line) {
		if (!strncmp(line, key, n) && line[n] == ' ') {
			*val = strtoull(line + n + 1, NULL, 10);
			return 0;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return -ENOENT;
}

/* libcgroup returns its own codes; the errno behind ECGOTHER is per thread. */
static int lib_errno(int ret)
{
	int e;

	switch (ret) {
	case 0:
		return 0;
	case ECGNONEMPTY:
		return -EBUSY;
	case ECGROUPSUBSYSNOTMOUNTED:
	case ECGROUPNOTMOUNTED:
		return -ENODEV;
	case ECGROUPNOTEXIST:
		return -ENOENT;
	default:
		e = cgroup_get_last_errno();
		return e > 0 ? -e : -EIO;
	}
}

/* ---- detection ---- */

/* The controllers the kernel has: the names v1 mount options may carry. */
static int read_known_controllers(char *list, size_t size)
{
	unsigned int hier, num, enabled;
	char line[256], name[64];
	FILE *f;

	f = fopen("/proc/cgroups", "re");
	if (!f)
		return -errno;
	list[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#')
			continue;
		if (sscanf(line, "%63s %u %u %u", name, &hier, &num, &enabled) == 4 && enabled)
			list_add(list, size, name);
	}
	fclose(f);
	return 0;
}

static struct cg_hier *find_v1(struct husk_cgroups *cgs, const char *ctrls)
{
	int i;

	for (i = 0; i < cgs->nhier; i++)
		if (!cgs->hier[i].v2 && !strcmp(cgs->hier[i].ctrls, ctrls))
			return &cgs->hier[i];
	return NULL;
}

/* One cgroup or cgroup2 line of mountinfo; the first mount of a hierarchy wins. */
static void add_mount(struct husk_cgroups *cgs, const char *root, const char *mnt, const char *type,
		      char *opts, const char *known)
{
	char ctrls[256] = "", *tok, *save;
	struct cg_hier *h;
	bool v2 = !strcmp(type, "cgroup2");

	if (!v2) {
		for (tok = strtok_r(opts, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			if (list_has(known, tok))
				list_add(ctrls, sizeof(ctrls), tok);
		/* Named hierarchies (name=systemd) carry no controller and are not ours. */
		if (!ctrls[0] || find_v1(cgs, ctrls))
			return;
	} else if (cgs->v2 >= 0) {
		return;
	}
	if (cgs->nhier == HUSK_CG_MAX_HIER) {
		pr_warn("cgroup: more than %d hierarchies, ignoring %s", HUSK_CG_MAX_HIER, mnt);
		return;
	}
	h = &cgs->hier[cgs->nhier];
	h->v2 = v2;
	snprintf(h->mount, sizeof(h->mount), "%s", mnt);
	snprintf(h->root, sizeof(h->root), "%s", root);
	snprintf(h->ctrls, sizeof(h->ctrls), "%s", ctrls);
	if (v2)
		cgs->v2 = cgs->nhier;
	cgs->nhier++;
}

static int parse_mountinfo(struct husk_cgroups *cgs, char *err, size_t errlen)
{
	char root[PATH_MAX], mnt[PATH_MAX], type[32], opts[512], known[512];
	char *line = NULL, *sep;
	size_t cap = 0;
	FILE *f;
	int ret;

	ret = read_known_controllers(known, sizeof(known));
	if (ret)
		return set_err(err, errlen, ret, "cannot read /proc/cgroups: %s", strerror(-ret));
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return set_err(err, errlen, -errno, "cannot read /proc/self/mountinfo: %s",
			       strerror(errno));
	while (getline(&line, &cap, f) > 0) {
		/* "id parent maj:min root mountpoint opts [optional...] - type source superopts" */
		sep = strstr(line, " - ");
		if (!sep)
			continue;
		if (sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2 ||
		    sscanf(sep + 3, "%31s %*s %511s", type, opts) != 2)
			continue;
		if (!strcmp(type, "cgroup") || !strcmp(type, "cgroup2"))
			add_mount(cgs, root, mnt, type, opts, known);
	}
	free(line);
	fclose(f);
	if (!cgs->nhier)
		return set_err(err, errlen, -ENODEV, "no cgroup hierarchy is mounted");
	return 0;
}

/* A path of /proc/self/cgroup, relative to the hierarchy, made relative to the mount. */
static int set_own(struct cg_hier *h, const char *path, char *err, size_t errlen)
{
	size_t n = strlen(h->root);
	const char *rel = path;

	if (strcmp(h->root, "/")) {
		if (strncmp(path, h->root, n) || (path[n] && path[n] != '/'))
			return set_err(err, errlen, -ENOENT,
				       "huskd's cgroup %s is outside the tree mounted at %s", path,
				       h->mount);
		rel = path + n;
	}
	snprintf(h->own, sizeof(h->own), "%s", strcmp(rel, "/") ? rel : "");
	return 0;
}

static int match_own_line(struct husk_cgroups *cgs, char *line, char *err, size_t errlen)
{
	char *ctrls, *path, first[64];
	struct cg_hier *h;
	int i;

	ctrls = strchr(line, ':');
	path = ctrls ? strchr(ctrls + 1, ':') : NULL;
	if (!path)
		return 0;
	*ctrls++ = '\0';
	*path++ = '\0';
	chomp(path);
	for (i = 0; i < cgs->nhier; i++) {
		h = &cgs->hier[i];
		if (h->v2 != !ctrls[0])
			continue;
		if (!h->v2) {
			sscanf(h->ctrls, "%63[^,]", first);
			if (!list_has(ctrls, first))
				continue;
		}
		return set_own(h, path, err, errlen);
	}
	return 0;
}

static int parse_proc_cgroup(struct husk_cgroups *cgs, char *err, size_t errlen)
{
	char *line = NULL;
	size_t cap = 0;
	int ret = 0, i;
	FILE *f;

	/* A hierarchy without a line keeps own as a marker and is refused below. */
	for (i = 0; i < cgs->nhier; i++)
		strcpy(cgs->hier[i].own, "\n");
	f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return set_err(err, errlen, -errno, "cannot read /proc/self/cgroup: %s",
			       strerror(errno));
	while (!ret && getline(&line, &cap, f) > 0)
		ret = match_own_line(cgs, line, err, errlen);
	free(line);
	fclose(f);
	for (i = 0; !ret && i < cgs->nhier; i++)
		if (!strcmp(cgs->hier[i].own, "\n"))
			ret = set_err(err, errlen, -ENOENT,
				      "huskd is in no group of the hierarchy at %s",
				      cgs->hier[i].mount);
	return ret;
}

/* Each limit goes to the v1 hierarchy of its controller, else to v2 if v2 has it. */
static void assign_roles(struct husk_cgroups *cgs)
{
	char path[PATH_MAX + 32], avail[256] = "";
	struct cg_hier *v2 = cgs->v2 >= 0 ? &cgs->hier[cgs->v2] : NULL;
	int r, i;

	if (v2) {
		snprintf(path, sizeof(path), "%s%s/cgroup.controllers", v2->mount, v2->own);
		if (read_file(path, avail, sizeof(avail)))
			avail[0] = '\0';
		for (i = 0; avail[i]; i++)
			if (avail[i] == ' ')
				avail[i] = ',';
	}
	for (r = 0; r < ROLE_COUNT; r++) {
		cgs->role[r] = -1;
		for (i = 0; i < cgs->nhier; i++)
			if (!cgs->hier[i].v2 && list_has(cgs->hier[i].ctrls, role_names[r]))
				cgs->role[r] = i;
		/* The v2 freezer is no controller: it is settled once the parent exists. */
		if (cgs->role[r] < 0 && v2 && r != ROLE_FREEZER && list_has(avail, role_names[r])) {
			cgs->role[r] = cgs->v2;
			list_add(v2->ctrls, sizeof(v2->ctrls), role_names[r]);
		}
	}
}

static void set_mode(struct husk_cgroups *cgs)
{
	bool v1 = cgs->nhier > (cgs->v2 >= 0);

	if (v1 && cgs->v2 >= 0)
		cgs->mode = HUSK_CG_HYBRID;
	else
		cgs->mode = v1 ? HUSK_CG_V1 : HUSK_CG_V2;
}

static const char *hier_version(const struct husk_cgroups *cgs, int h)
{
	if (h < 0)
		return "none";
	return cgs->hier[h].v2 ? "v2" : "v1";
}

static void build_describe(struct husk_cgroups *cgs)
{
	size_t len = 0;
	int r;

	for (r = 0; r < ROLE_COUNT; r++)
		len += snprintf(cgs->describe + len, sizeof(cgs->describe) - len, "%s:%s ",
				role_names[r], hier_version(cgs, cgs->role[r]));
	snprintf(cgs->describe + len, sizeof(cgs->describe) - len, "bpf:%s",
		 hier_version(cgs, cgs->v2));
}

/* ---- creating groups ---- */

/* libcgroup manages every v1 hierarchy, and v2 when it carries limits. */
static bool lib_managed(const struct cg_hier *h)
{
	return !h->v2 || h->ctrls[0];
}

static struct cgroup *lib_group(const struct cg_hier *h, const char *rel)
{
	char ctrls[256], *tok, *save;
	struct cgroup *lib;

	/* libcgroup names a group by its path below the mount, without the leading '/'. */
	lib = cgroup_new_cgroup(rel + 1);
	if (!lib)
		return NULL;
	snprintf(ctrls, sizeof(ctrls), "%s", h->ctrls);
	for (tok = strtok_r(ctrls, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!cgroup_add_controller(lib, tok)) {
			cgroup_free(&lib);
			return NULL;
		}
	}
	return lib;
}

static int add_value(struct cgroup *lib, const char *ctrl, const char *name, uint64_t val)
{
	struct cgroup_controller *c = cgroup_get_controller(lib, ctrl);

	if (!c)
		return -ENODEV;
	return lib_errno(cgroup_add_value_uint64(c, name, val));
}

/* v1 cpuset: tasks can join only once cpus and mems are set; inherit the parent's. */
static int add_cpuset_values(struct cgroup *lib, const char *parent_dir)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
	struct cgroup_controller *c = cgroup_get_controller(lib, "cpuset");
	char path[PATH_MAX + 32], val[256];
	int i, ret;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", parent_dir, files[i]);
		ret = read_file(path, val, sizeof(val));
		if (ret) {
			pr_err("cgroup: cannot read %s: %s", path, strerror(-ret));
			return ret;
		}
		ret = lib_errno(cgroup_add_value_string(c, files[i], val));
		if (ret)
			return ret;
	}
	return 0;
}

static uint64_t cpu_shares(uint32_t weight)
{
	uint64_t shares = (uint64_t)weight * 1024 / 100;

	return shares < 2 ? 2 : shares > 262144 ? 262144 : shares;
}

static int add_v1_limits(const struct husk_cgroups *cgs, int i, struct cgroup *lib,
			 const struct husk_cg_limits *lim)
{
	int ret = 0;

	if (cgs->role[ROLE_MEMORY] == i && lim->memory_bytes) {
		/* In this order: memsw may never be below the memory limit. */
		ret = add_value(lib, "memory", "memory.limit_in_bytes", lim->memory_bytes);
		if (!ret && cgs->memsw)
			ret = add_value(lib, "memory", "memory.memsw.limit_in_bytes",
					lim->memory_bytes);
	}
	if (!ret && cgs->role[ROLE_PIDS] == i && lim->pids_max)
		ret = add_value(lib, "pids", "pids.max", lim->pids_max);
	if (!ret && cgs->role[ROLE_CPU] == i && lim->cpu_weight)
		ret = add_value(lib, "cpu", "cpu.shares", cpu_shares(lim->cpu_weight));
	return ret;
}

static int add_v2_limits(const struct husk_cgroups *cgs, int i, struct cgroup *lib,
			 const struct husk_cg_limits *lim)
{
	uint32_t weight = lim->cpu_weight > 10000 ? 10000 : lim->cpu_weight;
	int ret = 0;

	if (cgs->role[ROLE_MEMORY] == i && lim->memory_bytes) {
		ret = add_value(lib, "memory", "memory.max", lim->memory_bytes);
		if (!ret && cgs->swap_max)
			ret = add_value(lib, "memory", "memory.swap.max", 0);
	}
	if (!ret && cgs->role[ROLE_PIDS] == i && lim->pids_max)
		ret = add_value(lib, "pids", "pids.max", lim->pids_max);
	if (!ret && cgs->role[ROLE_CPU] == i && weight)
		ret = add_value(lib, "cpu", "cpu.weight", weight);
	return ret;
}

static int lib_create(const struct husk_cgroups *cgs, int i, const char *rel,
		      const char *parent_dir, const struct husk_cg_limits *lim)
{
	const struct cg_hier *h = &cgs->hier[i];
	struct cgroup *lib;
	int ret = 0;

	lib = lib_group(h, rel);
	if (!lib)
		return -ENOMEM;
	if (!h->v2 && list_has(h->ctrls, "cpuset"))
		ret = add_cpuset_values(lib, parent_dir);
	if (!ret && lim)
		ret = h->v2 ? add_v2_limits(cgs, i, lib, lim) : add_v1_limits(cgs, i, lib, lim);
	if (!ret) {
		/* ignore_ownership: the groups stay root's, skip libcgroup's chown walk. */
		ret = cgroup_create_cgroup(lib, 1);
		if (ret)
			pr_err("cgroup: libcgroup cannot create %s%s: %s", h->mount, rel,
			       cgroup_strerror(ret));
		ret = lib_errno(ret);
	} else {
		pr_err("cgroup: cannot prepare %s%s: %s", h->mount, rel, strerror(-ret));
	}
	cgroup_free(&lib);
	return ret;
}

/*
 * Create rel in hierarchy i, below parent_dir; -EEXIST if it is there
 * already (libcgroup itself would silently reuse it).
 */
static int hier_create(const struct husk_cgroups *cgs, int i, const char *dir, const char *rel,
		       const char *parent_dir, const struct husk_cg_limits *lim)
{
	int ret;

	if (lib_managed(&cgs->hier[i]))
		return access(dir, F_OK) ? lib_create(cgs, i, rel, parent_dir, lim) : -EEXIST;
	ret = mkdir(dir, 0755) ? -errno : 0;

	if (ret && ret != -EEXIST)
		pr_err("cgroup: cannot create %s: %s", dir, strerror(-ret));
	return ret;
}

/* ---- killing and removing ---- */

/* SIGKILL every process listed in dir/cgroup.procs; returns how many were listed. */
static int kill_procs(const char *dir)
{
	char path[PATH_MAX + 32];
	int pid, n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	/*
	 * A listed pid is in the group or has just exited; another process
	 * gets it only after it was reaped and the pid counter wrapped around
	 * pid_max, far longer than this read-and-kill takes.
	 */
	while (fscanf(f, "%d", &pid) == 1) {
		if (pid > 0)
			kill(pid, SIGKILL);
		n++;
	}
	fclose(f);
	return n;
}

/*
 * Kill the processes of dir and of every group below it; in the v1 freezer
 * hierarchy thaw afterwards, since frozen v1 tasks die only once thawed
 * (with SIGKILL already pending they run no more user code).
 */
static int kill_tree(const char *dir, bool v1_freezer, int depth)
{
	char path[PATH_MAX + 32];
	struct dirent *de;
	int n, sub;
	DIR *d;

	n = kill_procs(dir);
	if (n < 0)
		return n;
	if (v1_freezer) {
		snprintf(path, sizeof(path), "%s/freezer.state", dir);
		write_file(path, "THAWED");
	}
	if (depth >= MAX_DEPTH)
		return n;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? n : -errno;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		sub = kill_tree(path, v1_freezer, depth + 1);
		if (sub > 0)
			n += sub;
	}
	closedir(d);
	return n;
}

/*
 * Kill until the group (dirs, one per hierarchy) and every group below it
 * are empty; returns how many processes the first pass found.
 */
static int kill_until_empty(const struct husk_cgroups *cgs, char *const *dirs)
{
	uint64_t deadline = now_ms() + KILL_TIMEOUT_MS;
	char path[PATH_MAX + 32];
	unsigned int attempt;
	int i, n, left, found = 0;

	/* Linux 5.14+: one write kills the whole v2 subtree, frozen or not. */
	if (cgs->v2 >= 0) {
		snprintf(path, sizeof(path), "%s/cgroup.kill", dirs[cgs->v2]);
		write_file(path, "1");
	}
	for (attempt = 0;; attempt++) {
		left = 0;
		for (i = 0; i < cgs->nhier; i++) {
			n = kill_tree(dirs[i], !cgs->hier[i].v2 && cgs->role[ROLE_FREEZER] == i, 0);
			if (n < 0) {
				pr_err("cgroup: cannot list the processes of %s: %s", dirs[i],
				       strerror(-n));
				return n;
			}
			/* A process is listed once in every hierarchy it is in. */
			if (n > left)
				left = n;
		}
		if (!attempt)
			found = left;
		if (!left)
			return found;
		if (now_ms() > deadline) {
			pr_err("cgroup: %d processes of %s survived SIGKILL for %d ms", left,
			       dirs[0], KILL_TIMEOUT_MS);
			return -EBUSY;
		}
		backoff(attempt);
	}
}

/* Groups below dir were not made by husk but may exist (a crash, a delegated runtime). */
static void remove_subdirs(const char *dir, int depth)
{
	char path[PATH_MAX + 32];
	struct dirent *de;
	DIR *d;

	if (depth >= MAX_DEPTH)
		return;
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		remove_subdirs(path, depth + 1);
		if (rmdir(path) && errno != ENOENT)
			pr_warn("cgroup: cannot remove %s: %s", path, strerror(errno));
	}
	closedir(d);
}

static int remove_once(const struct cg_hier *h, const char *dir, const char *rel)
{
	struct cgroup *lib;
	int ret;

	if (!lib_managed(h))
		return rmdir(dir) && errno != ENOENT ? -errno : 0;
	lib = lib_group(h, rel);
	if (!lib)
		return -ENOMEM;
	/* EMPTY_ONLY: never migrate a task to the parent, only rmdir. */
	ret = lib_errno(cgroup_delete_cgroup_ext(lib, CGFLAG_DELETE_EMPTY_ONLY));
	cgroup_free(&lib);
	return ret;
}

static int remove_dir(const struct cg_hier *h, const char *dir, const char *rel, bool subtree)
{
	uint64_t deadline = now_ms() + RMDIR_TIMEOUT_MS;
	unsigned int attempt;
	struct stat st;
	int ret;

	if (subtree)
		remove_subdirs(dir, 0);
	for (attempt = 0;; attempt++) {
		ret = remove_once(h, dir, rel);
		if (ret != -EBUSY || now_ms() > deadline)
			break;
		backoff(attempt);
	}
	if (!stat(dir, &st)) {
		pr_err("cgroup: %s still exists after removal: %s", dir,
		       strerror(ret ? -ret : EBUSY));
		return ret ? ret : -EBUSY;
	}
	return 0;
}

/* subtree: also the groups below, which only an environment may have. */
static int remove_groups(const struct husk_cgroups *cgs, char *const *dirs, char *const *rels,
			 bool subtree)
{
	int i, ret, first = 0;

	for (i = 0; i < cgs->nhier; i++) {
		ret = remove_dir(&cgs->hier[i], dirs[i], rels[i], subtree);
		if (ret && !first)
			first = ret;
	}
	return first;
}

/* ---- parents ---- */

static int make_paths(const struct husk_cgroups *cgs, const char *sub, char **dirs, char **rels)
{
	const struct cg_hier *h;
	int i;

	for (i = 0; i < cgs->nhier; i++) {
		h = &cgs->hier[i];
		if (asprintf(&rels[i], "%s/%s%s%s", h->own, cgs->parent, sub ? "/" : "",
			     sub ? sub : "") < 0) {
			rels[i] = NULL;
			return -ENOMEM;
		}
		if (asprintf(&dirs[i], "%s%s", h->mount, rels[i]) < 0) {
			dirs[i] = NULL;
			return -ENOMEM;
		}
	}
	return 0;
}

static void free_paths(char **dirs, char **rels)
{
	int i;

	for (i = 0; i < HUSK_CG_MAX_HIER; i++) {
		free(dirs[i]);
		free(rels[i]);
		dirs[i] = rels[i] = NULL;
	}
}

/*
 * cgroup v2 lets a group hand controllers to its children only while no
 * process lives in it, and huskd lives in its own group. As delegation
 * expects (cgroup-v2.rst, systemd's Delegate=), huskd moves itself into the
 * leaf "<own>/supervisor" and keeps making groups below <own>; started
 * again inside that leaf, it takes the leaf's parent as <own>.
 */
static int v2_leave_own_group(struct cg_hier *h, char *err, size_t errlen)
{
	char leaf[2 * PATH_MAX + 64], pid[16];
	char *base = strrchr(h->own, '/');
	int ret;

	if (!h->own[0] || !h->ctrls[0])
		return 0;
	if (base && !strcmp(base + 1, V2_SUPERVISOR_LEAF)) {
		*base = '\0';
		return 0;
	}
	snprintf(leaf, sizeof(leaf), "%s%s/" V2_SUPERVISOR_LEAF, h->mount, h->own);
	if (mkdir(leaf, 0755) && errno != EEXIST)
		return set_err(err, errlen, -errno, "cannot create %s: %s", leaf, strerror(errno));
	snprintf(pid, sizeof(pid), "%d", getpid());
	strcat(leaf, "/cgroup.procs");
	ret = write_file(leaf, pid);
	if (ret)
		return set_err(err, errlen, ret, "cannot move huskd into %s: %s", leaf,
			       strerror(-ret));
	pr_info("cgroup: huskd moved into %s%s/" V2_SUPERVISOR_LEAF
		" so that its group can delegate controllers",
		h->mount, h->own);
	return 0;
}

static int create_parents(struct husk_cgroups *cgs, char *err, size_t errlen)
{
	char own_dir[PATH_MAX + 1];
	int i, ret;

	for (i = 0; i < cgs->nhier; i++) {
		snprintf(own_dir, sizeof(own_dir), "%s%s", cgs->hier[i].mount, cgs->hier[i].own);
		ret = hier_create(cgs, i, cgs->parent_dir[i], cgs->parent_rel[i], own_dir, NULL);
		if (ret == -EBUSY && cgs->hier[i].v2)
			return set_err(err, errlen, ret,
				       "cannot enable %s below %s: other processes share huskd's "
				       "cgroup (run huskd as a service with Delegate=yes)",
				       cgs->hier[i].ctrls, own_dir);
		if (ret && ret != -EEXIST)
			return set_err(err, errlen, ret, "cannot create %s: %s", cgs->parent_dir[i],
				       strerror(-ret));
	}
	return 0;
}

/* Files that exist only on some kernels or configurations, and the v2 freezer. */
static void probe_features(struct husk_cgroups *cgs)
{
	char path[PATH_MAX + 64];
	int m = cgs->role[ROLE_MEMORY];

	if (m >= 0 && !cgs->hier[m].v2) {
		snprintf(path, sizeof(path), "%s/memory.memsw.limit_in_bytes", cgs->parent_dir[m]);
		cgs->memsw = !access(path, F_OK);
	} else if (m >= 0) {
		snprintf(path, sizeof(path), "%s/memory.swap.max", cgs->parent_dir[m]);
		cgs->swap_max = !access(path, F_OK);
	}
	if (cgs->role[ROLE_FREEZER] < 0 && cgs->v2 >= 0) {
		snprintf(path, sizeof(path), "%s/cgroup.freeze", cgs->parent_dir[cgs->v2]);
		if (!access(path, F_OK))
			cgs->role[ROLE_FREEZER] = cgs->v2;
	}
}

/* Names of the groups below the parent in any hierarchy. */
static int collect_children(const struct husk_cgroups *cgs, char ***names, int *count)
{
	struct dirent *de;
	char **list = NULL, **grown;
	int n = 0, i, j;
	DIR *d;

	for (i = 0; i < cgs->nhier; i++) {
		d = opendir(cgs->parent_dir[i]);
		if (!d)
			continue;
		while ((de = readdir(d))) {
			if (de->d_type != DT_DIR || de->d_name[0] == '.')
				continue;
			for (j = 0; j < n && strcmp(list[j], de->d_name); j++)
				;
			if (j < n)
				continue;
			grown = realloc(list, (n + 1) * sizeof(*list));
			if (!grown || !(grown[n] = strdup(de->d_name))) {
				list = grown ? grown : list;
				closedir(d);
				*names = list;
				*count = n;
				return -ENOMEM;
			}
			list = grown;
			n++;
		}
		closedir(d);
	}
	*names = list;
	*count = n;
	return 0;
}

static int remove_leftover(const struct husk_cgroups *cgs, const char *name)
{
	char *dirs[HUSK_CG_MAX_HIER] = {0}, *rels[HUSK_CG_MAX_HIER] = {0};
	int killed, ret;

	ret = make_paths(cgs, name, dirs, rels);
	killed = ret ? ret : kill_until_empty(cgs, dirs);
	ret = killed < 0 ? killed : remove_groups(cgs, dirs, rels, true);
	if (!ret)
		pr_warn("cgroup: removed %s/%s left by a previous run, %d processes killed",
			cgs->parent, name, killed);
	free_paths(dirs, rels);
	return ret;
}

static int clean_leftovers(struct husk_cgroups *cgs, char *err, size_t errlen)
{
	char **names = NULL;
	int n = 0, i, ret;

	ret = collect_children(cgs, &names, &n);
	for (i = 0; !ret && i < n; i++) {
		ret = remove_leftover(cgs, names[i]);
		if (ret)
			set_err(err, errlen, ret, "cannot remove leftover group %s/%s: %s",
				cgs->parent, names[i], strerror(-ret));
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (ret == -ENOMEM)
		return set_err(err, errlen, ret, "out of memory listing leftover groups");
	if (ret)
		return ret;
	/* Processes that ended up in the parent itself. */
	ret = kill_until_empty(cgs, cgs->parent_dir);
	if (ret < 0)
		return set_err(err, errlen, ret, "cannot empty %s: %s", cgs->parent_dir[0],
			       strerror(-ret));
	if (ret)
		pr_warn("cgroup: killed %d processes left in %s", ret, cgs->parent);
	return 0;
}

static bool valid_name(const char *name)
{
	size_t n = strlen(name);

	return n && n <= NAME_MAX && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..");
}

static int init_hierarchies(struct husk_cgroups *cgs, char *err, size_t errlen)
{
	char first[64], *mp;
	int ret, i;

	ret = parse_mountinfo(cgs, err, errlen);
	if (!ret)
		ret = parse_proc_cgroup(cgs, err, errlen);
	if (ret)
		return ret;
	/* libcgroup builds paths from its own mount table: it must agree with ours. */
	for (i = 0; i < cgs->nhier; i++) {
		if (cgs->hier[i].v2)
			continue;
		mp = NULL;
		sscanf(cgs->hier[i].ctrls, "%63[^,]", first);
		ret = cgroup_get_subsys_mount_point(first, &mp);
		if (ret || !mp || strcmp(mp, cgs->hier[i].mount)) {
			free(mp);
			return set_err(err, errlen, -ENOTSUP,
				       "libcgroup does not see the hierarchy at %s (%s)",
				       cgs->hier[i].mount,
				       ret ? cgroup_strerror(ret) : "mounted twice");
		}
		free(mp);
	}
	assign_roles(cgs);
	set_mode(cgs);
	if (cgs->v2 >= 0)
		ret = v2_leave_own_group(&cgs->hier[cgs->v2], err, errlen);
	return ret;
}

/*
 * The v1 freezer turns a static key on while any group is freezing and off
 * when the last one thaws, and flipping a static key patches kernel text on
 * every CPU: milliseconds here, on every freeze and thaw of a lone
 * environment. An empty group kept frozen for huskd's lifetime holds the key
 * on, so freezing and thawing environments stays a cheap state change.
 */
#define FREEZER_ANCHOR "freezer-anchor"

static void freezer_anchor(const struct husk_cgroups *cgs, bool hold)
{
	int f = cgs->role[ROLE_FREEZER];
	char dir[PATH_MAX + 32], state[PATH_MAX + 64];

	if (f < 0 || cgs->hier[f].v2)
		return;
	snprintf(dir, sizeof(dir), "%s/" FREEZER_ANCHOR, cgs->parent_dir[f]);
	snprintf(state, sizeof(state), "%s/freezer.state", dir);
	if (hold) {
		if ((mkdir(dir, 0755) && errno != EEXIST) || write_file(state, "FROZEN"))
			pr_warn("cgroup: cannot hold %s frozen (freezing will be slower): %s", dir,
				strerror(errno));
		return;
	}
	write_file(state, "THAWED");
	if (rmdir(dir) && errno != ENOENT)
		pr_warn("cgroup: cannot remove %s: %s", dir, strerror(errno));
}

int husk_cgroups_init(const char *parent_name, struct husk_cgroups **out, char *err, size_t errlen)
{
	struct husk_cgroups *cgs;
	int ret;

	*out = NULL;
	if (!valid_name(parent_name))
		return set_err(err, errlen, -EINVAL, "bad cgroup parent name \"%s\"", parent_name);
	ret = cgroup_init();
	if (ret)
		return set_err(err, errlen, lib_errno(ret), "libcgroup cannot initialize: %s",
			       cgroup_strerror(ret));
	cgs = calloc(1, sizeof(*cgs));
	if (!cgs)
		return set_err(err, errlen, -ENOMEM, "out of memory");
	cgs->v2 = -1;
	snprintf(cgs->parent, sizeof(cgs->parent), "%s", parent_name);
	ret = init_hierarchies(cgs, err, errlen);
	if (!ret) {
		ret = make_paths(cgs, NULL, cgs->parent_dir, cgs->parent_rel);
		if (ret)
			set_err(err, errlen, ret, "out of memory");
	}
	if (!ret)
		ret = create_parents(cgs, err, errlen);
	if (!ret)
		ret = clean_leftovers(cgs, err, errlen);
	if (ret) {
		free_paths(cgs->parent_dir, cgs->parent_rel);
		free(cgs);
		return ret;
	}
	probe_features(cgs);
	build_describe(cgs);
	freezer_anchor(cgs, true);
	pr_info("cgroup: %s hierarchy, %s, environments below %s", husk_cg_mode_name(cgs->mode),
		cgs->describe, cgs->parent_dir[cgs->v2 >= 0 ? cgs->v2 : 0]);
	*out = cgs;
	return 0;
}

void husk_cgroups_fini(struct husk_cgroups *cgs)
{
	if (!cgs)
		return;
	freezer_anchor(cgs, false);
	remove_groups(cgs, cgs->parent_dir, cgs->parent_rel, false);
	free_paths(cgs->parent_dir, cgs->parent_rel);
	free(cgs);
}

enum husk_cg_mode husk_cgroups_mode(const struct husk_cgroups *cgs)
{
	return cgs->mode;
}

const char *husk_cg_mode_name(enum husk_cg_mode mode)
{
	switch (mode) {
	case HUSK_CG_V1:
		return "v1";
	case HUSK_CG_V2:
		return "v2";
	case HUSK_CG_HYBRID:
		return "hybrid";
	}
	return "unknown";
}

const char *husk_cgroups_v2_parent(const struct husk_cgroups *cgs)
{
	return cgs->v2 >= 0 ? cgs->parent_dir[cgs->v2] : NULL;
}

const char *husk_cgroups_describe(const struct husk_cgroups *cgs)
{
	return cgs->describe;
}

/* ---- one environment ---- */

static int open_in(const char *dir, const char *file, int flags, int *fd)
{
	char path[PATH_MAX + 64];
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	*fd = open(path, flags | O_CLOEXEC);
	if (*fd < 0) {
		ret = -errno;
		pr_err("cgroup: cannot open %s: %s", path, strerror(-ret));
		return ret;
	}
	return 0;
}

static int open_memory_files(struct husk_cg *cg, const struct cg_hier *h, const char *dir)
{
	char path[PATH_MAX + 32];
	int ret;

	if (!h->v2) {
		ret = open_in(dir, "memory.max_usage_in_bytes", O_RDWR, &cg->peak_fd);
		if (!ret)
			ret = open_in(dir, "memory.usage_in_bytes", O_RDONLY, &cg->current_fd);
		return ret ? ret : open_in(dir, "memory.oom_control", O_RDONLY, &cg->oom_fd);
	}
	/*
	 * memory.peak is resettable per open file since 6.12; where it is
	 * missing or read-only a lifetime peak would span invocations, so the
	 * current usage stands in for it.
	 */
	snprintf(path, sizeof(path), "%s/memory.peak", dir);
	cg->peak_fd = open(path, O_RDWR | O_CLOEXEC);
	ret = open_in(dir, "memory.current", O_RDONLY, &cg->current_fd);
	return ret ? ret : open_in(dir, "memory.events", O_RDONLY, &cg->oom_fd);
}

/* The files of the per-invocation operations, opened once. */
static int open_hot_files(struct husk_cg *cg)
{
	const struct husk_cgroups *cgs = cg->cgs;
	int f = cgs->role[ROLE_FREEZER], m = cgs->role[ROLE_MEMORY], p = cgs->role[ROLE_PIDS];
	struct stat st;
	int ret = 0;

	if (cgs->v2 >= 0) {
		ret = open_in(cg->dir[cgs->v2], ".", O_RDONLY | O_DIRECTORY, &cg->v2_fd);
		if (ret)
			return ret;
		/* The v2 cgroup id is the directory's kernfs inode number. */
		if (fstat(cg->v2_fd, &st))
			return -errno;
		cg->id = st.st_ino;
	}
	if (f >= 0 && !cgs->hier[f].v2) {
		ret = open_in(cg->dir[f], "freezer.state", O_RDWR, &cg->freeze_fd);
	} else if (f >= 0) {
		ret = open_in(cg->dir[f], "cgroup.freeze", O_RDWR, &cg->freeze_fd);
		if (!ret)
			ret = open_in(cg->dir[f], "cgroup.events", O_RDONLY, &cg->events_fd);
	}
	if (!ret && m >= 0)
		ret = open_memory_files(cg, &cgs->hier[m], cg->dir[m]);
	if (!ret && p >= 0)
		ret = open_in(cg->dir[p], "pids.current", O_RDONLY, &cg->pids_fd);
	return ret;
}

static struct husk_cg *cg_alloc(const struct husk_cgroups *cgs, const char *name)
{
	struct husk_cg *cg = calloc(1, sizeof(*cg));

	if (!cg)
		return NULL;
	cg->cgs = cgs;
	cg->v2_fd = cg->freeze_fd = cg->events_fd = -1;
	cg->peak_fd = cg->current_fd = cg->oom_fd = cg->pids_fd = -1;
	if (make_paths(cgs, name, cg->dir, cg->rel)) {
		free_paths(cg->dir, cg->rel);
		free(cg);
		return NULL;
	}
	return cg;
}

static void cg_free(struct husk_cg *cg)
{
	int *fds[] = {&cg->v2_fd,      &cg->freeze_fd, &cg->events_fd, &cg->peak_fd,
		      &cg->current_fd, &cg->oom_fd,    &cg->pids_fd};
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
	free_paths(cg->dir, cg->rel);
	free(cg);
}

int husk_cg_create(struct husk_cgroups *cgs, const char *name, const struct husk_cg_limits *limits,
		   struct husk_cg **out)
{
	struct husk_cg *cg;
	int i, ret = 0;

	*out = NULL;
	if (!valid_name(name)) {
		pr_err("cgroup: bad environment group name \"%s\"", name);
		return -EINVAL;
	}
	cg = cg_alloc(cgs, name);
	if (!cg)
		return -ENOMEM;
	for (i = 0; !ret && i < cgs->nhier; i++) {
		ret = hier_create(cgs, i, cg->dir[i], cg->rel[i], cgs->parent_dir[i], limits);
		if (ret == -EEXIST) {
			/* Another environment owns that name: remove only what was made here. */
			pr_err("cgroup: %s exists already", cg->dir[i]);
			while (i--)
				remove_dir(&cgs->hier[i], cg->dir[i], cg->rel[i], false);
			cg_free(cg);
			return -EEXIST;
		}
	}
	if (!ret)
		ret = open_hot_files(cg);
	if (ret) {
		husk_cg_destroy(cg);
		return ret;
	}
	cg->memory_limit = limits ? limits->memory_bytes : 0;
	*out = cg;
	return 0;
}

/* Write one limit of the group's hierarchy for role; 0 where no hierarchy carries it. */
static int write_limit(struct husk_cg *cg, enum cg_role role, const char *file, uint64_t val)
{
	int h = cg->cgs->role[role];
	char path[PATH_MAX + 64], buf[32];

	if (h < 0)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", cg->dir[h], file);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)val);
	return write_file(path, buf);
}

/*
 * Direct writes, not libcgroup: this runs when a pre-made environment is
 * given to a function, on the cold-start path, where libcgroup's re-reading
 * of the mount table for every value would cost more than the writes.
 */
int husk_cg_set_limits(struct husk_cg *cg, uint64_t memory_bytes, uint32_t cpu_weight)
{
	const struct husk_cgroups *cgs = cg->cgs;
	bool v2_mem = cgs->role[ROLE_MEMORY] >= 0 && cgs->hier[cgs->role[ROLE_MEMORY]].v2;
	bool v2_cpu = cgs->role[ROLE_CPU] >= 0 && cgs->hier[cgs->role[ROLE_CPU]].v2;
	bool raise = memory_bytes > cg->memory_limit;
	int ret = 0;

	if (v2_mem) {
		ret = write_limit(cg, ROLE_MEMORY, "memory.max", memory_bytes);
	} else {
		/* memsw may never be below the memory limit: order by direction. */
		if (raise && cgs->memsw)
			ret = write_limit(cg, ROLE_MEMORY, "memory.memsw.limit_in_bytes",
					  memory_bytes);
		ret = ret ?: write_limit(cg, ROLE_MEMORY, "memory.limit_in_bytes", memory_bytes);
		if (!ret && !raise && cgs->memsw)
			ret = write_limit(cg, ROLE_MEMORY, "memory.memsw.limit_in_bytes",
					  memory_bytes);
	}
	if (!ret)
		cg->memory_limit = memory_bytes;
	if (!ret && cpu_weight)
		ret = v2_cpu ? write_limit(cg, ROLE_CPU, "cpu.weight",
					   cpu_weight > 10000 ? 10000 : cpu_weight)
			     : write_limit(cg, ROLE_CPU, "cpu.shares", cpu_shares(cpu_weight));
	if (ret)
		pr_err("cgroup: cannot set the limits of %s: %s", husk_cg_path(cg),
		       strerror(-ret));
	return ret;
}

int husk_cg_v2_fd(const struct husk_cg *cg)
{
	return cg->v2_fd;
}

uint64_t husk_cg_id(const struct husk_cg *cg)
{
	return cg->id;
}

const char *husk_cg_path(const struct husk_cg *cg)
{
	return cg->rel[cg->cgs->v2 >= 0 ? cg->cgs->v2 : 0];
}

/* Is pid already in the v2 group (after clone3 with CLONE_INTO_CGROUP)? */
static bool in_v2_group(const struct husk_cg *cg, pid_t pid)
{
	const struct cg_hier *h = &cg->cgs->hier[cg->cgs->v2];
	const char *root = strcmp(h->root, "/") ? h->root : "";
	char path[32], line[PATH_MAX + 8], want[2 * PATH_MAX + 8];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	snprintf(want, sizeof(want), "0::%s%s", root, cg->rel[cg->cgs->v2]);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		chomp(line);
		found = !strcmp(line, want);
	}
	fclose(f);
	return found;
}

int husk_cg_attach(struct husk_cg *cg, pid_t pid)
{
	const struct husk_cgroups *cgs = cg->cgs;
	char path[PATH_MAX + 32], val[16];
	int i, ret;

	snprintf(val, sizeof(val), "%d", pid);
	for (i = 0; i < cgs->nhier; i++) {
		if (i == cgs->v2 && in_v2_group(cg, pid))
			continue;
		snprintf(path, sizeof(path), "%s/cgroup.procs", cg->dir[i]);
		ret = write_file(path, val);
		if (ret) {
			pr_err("cgroup: cannot move pid %d into %s: %s", pid, cg->dir[i],
			       strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* v1 freezing is asynchronous: FREEZING until every task stopped. */
static int wait_v1_state(int fd, const char *want)
{
	uint64_t deadline = now_ms() + FREEZE_TIMEOUT_MS;
	unsigned int attempt;
	char buf[32];
	int ret;

	for (attempt = 0;; attempt++) {
		ret = pread_str(fd, buf, sizeof(buf));
		if (ret)
			return ret;
		if (!strcmp(buf, want))
			return 0;
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		backoff(attempt);
	}
}

/* v2: cgroup.events says "frozen 1" once done, and signals POLLPRI on change. */
static int wait_v2_frozen(int fd, uint64_t want)
{
	uint64_t deadline = now_ms() + FREEZE_TIMEOUT_MS, now, frozen;
	struct pollfd pfd = {.fd = fd, .events = POLLPRI};
	int ret;

	for (;;) {
		ret = pread_key(fd, "frozen", &frozen);
		if (ret)
			return ret;
		if (frozen == want)
			return 0;
		now = now_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, deadline - now) < 0 && errno != EINTR)
			return -errno;
	}
}

static int set_frozen(struct husk_cg *cg, bool frozen, bool wait)
{
	int f = cg->cgs->role[ROLE_FREEZER], ret;
	const char *state = frozen ? "FROZEN" : "THAWED";

	if (f < 0)
		return -EOPNOTSUPP;
	if (cg->cgs->hier[f].v2) {
		ret = pwrite_str(cg->freeze_fd, frozen ? "1" : "0");
		if (!ret && wait)
			ret = wait_v2_frozen(cg->events_fd, frozen);
	} else {
		ret = pwrite_str(cg->freeze_fd, state);
		if (!ret && wait)
			ret = wait_v1_state(cg->freeze_fd, state);
	}
	if (ret)
		pr_err("cgroup: %s %s failed: %s", frozen ? "freezing" : "thawing", cg->dir[f],
		       strerror(-ret));
	return ret;
}

int husk_cg_freeze(struct husk_cg *cg)
{
	return set_frozen(cg, true, true);
}

int husk_cg_freeze_start(struct husk_cg *cg)
{
	return set_frozen(cg, true, false);
}

int husk_cg_thaw(struct husk_cg *cg)
{
	return set_frozen(cg, false, true);
}

int husk_cg_memory_peak_reset(struct husk_cg *cg)
{
	/* v1: the peak restarts at the current usage; v2: any write, for this fd. */
	if (cg->peak_fd >= 0)
		return pwrite_str(cg->peak_fd, "0");
	return cg->current_fd >= 0 ? 0 : -EOPNOTSUPP;
}

int husk_cg_memory_peak(struct husk_cg *cg, uint64_t *bytes)
{
	return pread_u64(cg->peak_fd >= 0 ? cg->peak_fd : cg->current_fd, bytes);
}

int husk_cg_memory_current(struct husk_cg *cg, uint64_t *bytes)
{
	return pread_u64(cg->current_fd, bytes);
}

int husk_cg_oom_kills(struct husk_cg *cg, uint64_t *count)
{
	return pread_key(cg->oom_fd, "oom_kill", count);
}

int husk_cg_pids_current(struct husk_cg *cg, uint64_t *count)
{
	return pread_u64(cg->pids_fd, count);
}

int husk_cg_destroy(struct husk_cg *cg)
{
	int ret, ret2;

	if (!cg)
		return 0;
	ret = kill_until_empty(cg->cgs, cg->dir);
	ret2 = remove_groups(cg->cgs, cg->dir, cg->rel, true);
	cg_free(cg);
	return ret < 0 ? ret : ret2;
}
