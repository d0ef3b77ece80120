// SPDX-License-Identifier: GPL-2.0
/*
 * Environment cgroups on the real hierarchies of this host (as root):
 * limits in the files, attach, freeze and thaw, peak memory, OOM kills,
 * the pids limit, destroy, leftovers of a crashed run, concurrent use.
 *
 * The test finds the directories on its own (libcgroup's mount table and
 * /proc/self/cgroup), not through the code under test, and cleans up every
 * group and process even when a check fails.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libcgroup.h>
#include <limits.h>
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "report.h"
#include "userspace/cgroup.h"

#define MB (1024ULL * 1024)

/* One hierarchy as the test sees it: where huskd's (the test's) own group is. */
struct thier {
	char ctrl[16]; /* "memory", ..., "" for v2 */
	char own[PATH_MAX];
	bool v2;
};

struct test {
	char parent[64];
	struct thier h[16];
	int nh;
	struct husk_cgroups *cgs;
	struct husk_cg *g1, *g2;
	volatile unsigned long *counter; /* shared with the spinning child */
	pid_t spinner, oom_child, forker;
	int failed;
};

static void check(struct test *t, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void check(struct test *t, bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (!unit_vcheck(ok, fmt, ap))
		t->failed = 1;
	va_end(ap);
}

static void msleep(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

static int read_str(const char *path, char *buf, size_t len)
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
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return 0;
}

static int write_str(const char *path, const char *s)
{
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* ---- the hierarchies, found independently of the code under test ---- */

static int find_v2_mount(char *mnt, size_t len)
{
	char line[1024], m[PATH_MAX], type[64];
	char *sep;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		sep = strstr(line, " - ");
		if (sep && sscanf(line, "%*s %*s %*s %*s %4095s", m) == 1 &&
		    sscanf(sep + 3, "%63s", type) == 1 && !strcmp(type, "cgroup2")) {
			snprintf(mnt, len, "%s", m);
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return -ENOENT;
}

static int v2_own_path(char *path, size_t len)
{
	char line[PATH_MAX + 8];
	FILE *f = fopen("/proc/self/cgroup", "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(path, len, "%s", strcmp(line + 3, "/") ? line + 3 : "");
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return -ENOENT;
}

static void find_hierarchies(struct test *t)
{
	static const char *const ctrls[] = {"memory",  "pids",	  "cpu",   "cpuacct",
					    "freezer", "devices", "blkio", "cpuset"};
	char v2mnt[PATH_MAX] = "", own[PATH_MAX], *mp, *cur;
	struct thier *h;
	size_t i;
	int j;

	find_v2_mount(v2mnt, sizeof(v2mnt));
	for (i = 0; i < sizeof(ctrls) / sizeof(ctrls[0]); i++) {
		mp = cur = NULL;
		if (cgroup_get_subsys_mount_point(ctrls[i], &mp) || !strcmp(mp, v2mnt) ||
		    cgroup_get_current_controller_path(getpid(), ctrls[i], &cur)) {
			free(mp);
			free(cur);
			continue;
		}
		snprintf(own, sizeof(own), "%s%s", mp, strcmp(cur, "/") ? cur : "");
		for (j = 0; j < t->nh && strcmp(t->h[j].own, own); j++)
			;
		if (j == t->nh) {
			h = &t->h[t->nh++];
			snprintf(h->ctrl, sizeof(h->ctrl), "%s", ctrls[i]);
			snprintf(h->own, sizeof(h->own), "%s", own);
		}
		free(mp);
		free(cur);
	}
	if (v2mnt[0] && !v2_own_path(own, sizeof(own))) {
		h = &t->h[t->nh++];
		h->v2 = true;
		snprintf(h->own, sizeof(h->own), "%s%s", v2mnt, own);
	}
}

/* Directory of parent/sub in the hierarchy of ctrl ("" for v2), NULL if none. */
static const char *gdir(struct test *t, const char *ctrl, const char *sub, char *buf, size_t len)
{
	int i;

	for (i = 0; i < t->nh; i++) {
		if (*ctrl ? !strcmp(t->h[i].ctrl, ctrl) : t->h[i].v2) {
			snprintf(buf, len, "%s/%s%s%s", t->h[i].own, t->parent, sub ? "/" : "",
				 sub ? sub : "");
			return buf;
		}
	}
	return NULL;
}

/* Directory of parent/sub in hierarchy i. */
static const char *hdir(struct test *t, int i, const char *sub, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s%s%s", t->h[i].own, t->parent, sub ? "/" : "", sub ? sub : "");
	return buf;
}

static int count_existing(struct test *t, const char *sub)
{
	char dir[PATH_MAX + 128];
	struct stat st;
	int i, n = 0;

	for (i = 0; i < t->nh; i++)
		n += !stat(hdir(t, i, sub, dir, sizeof(dir)), &st);
	return n;
}

/* The value of file in group sub of the hierarchy carrying ctrl. */
static int group_value(struct test *t, const char *ctrl, const char *sub, const char *file,
		       char *val, size_t len)
{
	char dir[PATH_MAX + 128], path[PATH_MAX + 256];

	if (!gdir(t, ctrl, sub, dir, sizeof(dir)))
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return read_str(path, val, len);
}

static bool pid_in_group(struct test *t, int i, const char *sub, pid_t pid)
{
	char dir[PATH_MAX + 128], path[PATH_MAX + 256];
	bool found = false;
	FILE *f;
	int p;

	snprintf(path, sizeof(path), "%s/cgroup.procs", hdir(t, i, sub, dir, sizeof(dir)));
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fscanf(f, "%d", &p) == 1)
		found = p == pid;
	fclose(f);
	return found;
}

/* ---- children ---- */

/* Fork a child that waits until it is in cg, then runs fn. */
static pid_t spawn_in(struct test *t, struct husk_cg *cg, void (*fn)(struct test *, int), int arg)
{
	int go[2];
	char c = 0;
	pid_t pid;

	if (pipe2(go, O_CLOEXEC))
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(99);
		fn(t, arg);
		_exit(0);
	}
	close(go[0]);
	if (pid > 0 && husk_cg_attach(cg, pid)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	if (pid > 0 && write(go[1], &c, 1) != 1)
		pid = -1;
	close(go[1]);
	return pid;
}

static void spin(struct test *t, int arg)
{
	for (;;)
		(*t->counter)++;
}

/* Touch arg MB, report on fd 'report' (in the shared page), then wait. */
static void touch_memory(struct test *t, int mb)
{
	char *p = malloc(mb * MB);
	size_t i;

	if (!p)
		_exit(2);
	for (i = 0; i < mb * MB; i += 4096)
		p[i] = 1;
	t->counter[1] = 1;
	for (;;)
		pause();
}

/* Allocate far beyond the limit: the OOM killer must stop this. */
static void exhaust_memory(struct test *t, int mb)
{
	size_t i;
	char *p;
	int n;

	for (n = 0; n < mb; n++) {
		p = malloc(MB);
		if (!p)
			_exit(2);
		for (i = 0; i < MB; i += 4096)
			p[i] = 1;
	}
	_exit(0);
}

/* Fork until the pids limit says no; report successes and errno, then wait. */
static void fork_until_refused(struct test *t, int max)
{
	pid_t pid = 0;
	int n;

	for (n = 0; n < max; n++) {
		pid = fork();
		if (pid == 0) {
			for (;;)
				pause();
		}
		if (pid < 0)
			break;
	}
	t->counter[2] = n;
	t->counter[3] = pid < 0 ? errno : 0;
	t->counter[1] = 2;
	for (;;)
		pause();
}

static bool wait_flag(struct test *t, unsigned long want, int ms)
{
	for (; ms > 0 && t->counter[1] != want; ms -= 10)
		msleep(10);
	return t->counter[1] == want;
}

/* Bounded: a child that survives (frozen, say) must not hang the test. */
static bool reaped_by_sigkill(pid_t pid)
{
	int status, ms;
	pid_t ret = 0;

	for (ms = 0; ms < 5000 && !ret; ms += 10) {
		ret = waitpid(pid, &status, WNOHANG);
		if (!ret)
			msleep(10);
	}
	return ret == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

/* ---- the cases ---- */

static const struct husk_cg_limits g1_limits = {64 * MB, 16, 100};
static const struct husk_cg_limits g2_limits = {32 * MB, 8, 50};

static void test_init(struct test *t)
{
	char err[256] = "", dir[PATH_MAX + 128];
	int ret;

	ret = husk_cgroups_init(t->parent, &t->cgs, err, sizeof(err));
	check(t, !ret, "init %s: %s", t->parent, ret ? err : husk_cgroups_describe(t->cgs));
	if (ret)
		return;
	printf("     mode %s\n", husk_cg_mode_name(husk_cgroups_mode(t->cgs)));
	check(t, count_existing(t, NULL) == t->nh, "the parent exists in all %d hierarchies",
	      t->nh);
	check(t,
	      !gdir(t, "", NULL, dir, sizeof(dir)) ||
		  strstr(husk_cgroups_describe(t->cgs), "bpf:v2"),
	      "describe names the v2 hierarchy for BPF");
}

static void check_u64(struct test *t, const char *ctrl, const char *file, const char *sub,
		      uint64_t want)
{
	char val[64] = "";
	int ret = group_value(t, ctrl, sub, file, val, sizeof(val));

	check(t, !ret && strtoull(val, NULL, 10) == want, "%s/%s is %llu (read \"%s\")", sub, file,
	      (unsigned long long)want, ret ? strerror(-ret) : val);
}

static void test_limits(struct test *t, const char *sub, const struct husk_cg_limits *lim)
{
	char dir[PATH_MAX + 128], path[PATH_MAX + 256], a[256] = "", b[256] = "";
	struct stat st;
	bool v1mem = gdir(t, "memory", NULL, dir, sizeof(dir));

	if (v1mem) {
		check_u64(t, "memory", "memory.limit_in_bytes", sub, lim->memory_bytes);
		snprintf(path, sizeof(path), "%s/memory.memsw.limit_in_bytes", dir);
		if (!stat(path, &st))
			check_u64(t, "memory", "memory.memsw.limit_in_bytes", sub,
				  lim->memory_bytes);
	} else {
		check_u64(t, "", "memory.max", sub, lim->memory_bytes);
	}
	check_u64(t, gdir(t, "pids", NULL, dir, sizeof(dir)) ? "pids" : "", "pids.max", sub,
		  lim->pids_max);
	if (gdir(t, "cpu", NULL, dir, sizeof(dir)))
		check_u64(t, "cpu", "cpu.shares", sub, lim->cpu_weight * 1024 / 100);
	else
		check_u64(t, "", "cpu.weight", sub, lim->cpu_weight);
	if (gdir(t, "cpuset", NULL, dir, sizeof(dir))) {
		group_value(t, "cpuset", NULL, "cpuset.cpus", a, sizeof(a));
		group_value(t, "cpuset", sub, "cpuset.cpus", b, sizeof(b));
		check(t, a[0] && !strcmp(a, b), "%s/cpuset.cpus \"%s\" copied from the parent", sub,
		      b);
	}
}

static void test_create(struct test *t)
{
	char dir[PATH_MAX + 128], want[PATH_MAX + 128];
	struct stat st;
	int ret;

	ret = husk_cg_create(t->cgs, "g1", &g1_limits, &t->g1);
	check(t, !ret, "create g1: %s", strerror(-ret));
	ret = husk_cg_create(t->cgs, "g2", &g2_limits, &t->g2);
	check(t, !ret, "create g2: %s", strerror(-ret));
	if (!t->g1 || !t->g2)
		return;
	check(t, husk_cg_create(t->cgs, "g1", &g1_limits, &(struct husk_cg *){NULL}) == -EEXIST,
	      "a second g1 is refused with EEXIST");
	check(t, count_existing(t, "g1") == t->nh && count_existing(t, "g2") == t->nh,
	      "g1 and g2 exist in all %d hierarchies", t->nh);
	test_limits(t, "g1", &g1_limits);
	test_limits(t, "g2", &g2_limits);
	if (!gdir(t, "", "g1", dir, sizeof(dir)))
		return;
	check(t, !stat(dir, &st) && st.st_ino == husk_cg_id(t->g1) && husk_cg_v2_fd(t->g1) >= 0,
	      "g1's id %llu is the inode of %s", (unsigned long long)husk_cg_id(t->g1), dir);
	v2_own_path(want, sizeof(want));
	strcat(want, "/");
	strcat(want, t->parent);
	strcat(want, "/g1");
	check(t, !strcmp(husk_cg_path(t->g1), want), "g1's path is %s", husk_cg_path(t->g1));
}

static void test_attach_freeze(struct test *t)
{
	unsigned long c1, c2, c3;
	bool everywhere = true;
	char val[32] = "";
	int i, ret;

	t->spinner = spawn_in(t, t->g1, spin, 0);
	check(t, t->spinner > 0, "attach a spinning child to g1");
	if (t->spinner <= 0)
		return;
	for (i = 0; i < t->nh; i++)
		everywhere &= pid_in_group(t, i, "g1", t->spinner);
	check(t, everywhere, "the child is in g1 in every hierarchy");
	msleep(20);
	ret = husk_cg_freeze(t->g1);
	c1 = *t->counter;
	msleep(150);
	c2 = *t->counter;
	check(t, !ret && c1 == c2 && c1 > 0, "frozen: the counter stays at %lu (%lu)", c1, c2);
	if (!group_value(t, "freezer", "g1", "freezer.state", val, sizeof(val)))
		check(t, !strcmp(val, "FROZEN"), "freezer.state reads %s", val);
	ret = husk_cg_thaw(t->g1);
	msleep(150);
	c3 = *t->counter;
	check(t, !ret && c3 > c2, "thawed: the counter moved from %lu to %lu", c2, c3);
}

/* clone3 straight into the v2 group; attach then adds only the v1 ones. */
static void test_clone_into(struct test *t)
{
	struct clone_args args = {.flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD};
	bool everywhere = true, in_v2 = false;
	int i, ret;
	pid_t pid;

	if (husk_cg_v2_fd(t->g1) < 0) {
		printf("skip clone3 into the v2 group: no v2 hierarchy\n");
		return;
	}
	args.cgroup = husk_cg_v2_fd(t->g1);
	fflush(stdout);
	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0) {
		for (;;)
			pause();
	}
	if (pid < 0) {
		check(t, false, "clone3 with CLONE_INTO_CGROUP: %s", strerror(errno));
		return;
	}
	for (i = 0; i < t->nh; i++)
		in_v2 |= t->h[i].v2 && pid_in_group(t, i, "g1", pid);
	check(t, in_v2, "clone3(CLONE_INTO_CGROUP) with husk_cg_v2_fd starts the child in g1");
	ret = husk_cg_attach(t->g1, pid);
	for (i = 0; i < t->nh; i++)
		everywhere &= pid_in_group(t, i, "g1", pid);
	check(t, !ret && everywhere, "attach adds it to g1 in the other hierarchies");
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void test_peak(struct test *t)
{
	uint64_t peak = 0, cur = 0, after = 0;
	const int mb = 24;
	pid_t pid;
	int ret;

	ret = husk_cg_memory_peak_reset(t->g1);
	t->counter[1] = 0;
	pid = spawn_in(t, t->g1, touch_memory, mb);
	if (pid < 0 || !wait_flag(t, 1, 5000)) {
		check(t, false, "a child of g1 touches %d MB", mb);
		if (pid > 0)
			kill(pid, SIGKILL), waitpid(pid, NULL, 0);
		return;
	}
	ret = ret ?: husk_cg_memory_peak(t->g1, &peak);
	ret = ret ?: husk_cg_memory_current(t->g1, &cur);
	check(t, !ret && peak >= mb * MB && cur >= mb * MB,
	      "after touching %d MB: peak %llu MB, current %llu MB", mb,
	      (unsigned long long)(peak / MB), (unsigned long long)(cur / MB));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	ret = husk_cg_memory_peak_reset(t->g1);
	ret = ret ?: husk_cg_memory_peak(t->g1, &after);
	check(t, !ret && after < mb * MB, "after reset the peak is %llu KB",
	      (unsigned long long)(after / 1024));
}

static void test_oom(struct test *t)
{
	uint64_t before = 0, after = 0;
	int ret;

	ret = husk_cg_oom_kills(t->g2, &before);
	t->oom_child = spawn_in(t, t->g2, exhaust_memory, 96);
	check(t, t->oom_child > 0 && reaped_by_sigkill(t->oom_child),
	      "a child allocating 96 MB under a 32 MB limit is killed");
	t->oom_child = 0;
	ret = ret ?: husk_cg_oom_kills(t->g2, &after);
	check(t, !ret && after >= before + 1, "oom_kills went from %llu to %llu",
	      (unsigned long long)before, (unsigned long long)after);
}

static void test_pids(struct test *t)
{
	uint64_t cur = 0;
	int ret;

	t->counter[1] = 0;
	t->forker = spawn_in(t, t->g2, fork_until_refused, 4 * g2_limits.pids_max);
	if (t->forker < 0 || !wait_flag(t, 2, 5000)) {
		check(t, false, "a child of g2 forks until refused");
		return;
	}
	check(t, t->counter[2] == g2_limits.pids_max - 1 && t->counter[3] == EAGAIN,
	      "fork refused with %s after %lu children (pids.max %u)", strerror((int)t->counter[3]),
	      t->counter[2], g2_limits.pids_max);
	ret = husk_cg_pids_current(t->g2, &cur);
	check(t, !ret && cur == g2_limits.pids_max, "pids_current is %llu",
	      (unsigned long long)cur);
}

static void test_destroy(struct test *t)
{
	int ret;

	/* Destroyed frozen, as an idle environment would be. */
	ret = husk_cg_freeze(t->g1);
	ret = ret ?: husk_cg_destroy(t->g1);
	t->g1 = NULL;
	check(t, !ret, "destroy frozen g1: %s", strerror(-ret));
	if (t->spinner > 0)
		check(t, reaped_by_sigkill(t->spinner), "g1's child was killed");
	t->spinner = 0;
	check(t, !count_existing(t, "g1"), "g1 is gone from every hierarchy");
	ret = husk_cg_destroy(t->g2);
	t->g2 = NULL;
	check(t, !ret, "destroy g2: %s", strerror(-ret));
	if (t->forker > 0)
		check(t, reaped_by_sigkill(t->forker), "g2's forking child was killed");
	t->forker = 0;
	check(t, !count_existing(t, "g2"), "g2 is gone from every hierarchy");
}

struct worker {
	struct husk_cgroups *cgs;
	int id, errors;
};

static void *create_destroy_loop(void *arg)
{
	struct worker *w = arg;
	struct husk_cg *cg;
	char name[32];
	int i;

	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "w%d-%d", w->id, i);
		if (husk_cg_create(w->cgs, name, &g2_limits, &cg)) {
			w->errors++;
			continue;
		}
		w->errors += husk_cg_destroy(cg) != 0;
	}
	return NULL;
}

static void test_threads(struct test *t)
{
	struct worker w[4];
	pthread_t th[4];
	int i, errors = 0;

	for (i = 0; i < 4; i++) {
		w[i] = (struct worker){t->cgs, i, 0};
		pthread_create(&th[i], NULL, create_destroy_loop, &w[i]);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		errors += w[i].errors;
	}
	check(t, !errors, "4 threads create and destroy 40 groups: %d errors", errors);
}

/* Sleep in a group made by hand, as a crashed huskd would leave it. */
static pid_t make_leftover(struct test *t)
{
	char dir[PATH_MAX + 128], path[PATH_MAX + 256], val[256], pid_s[16];
	pid_t pid;
	int i;

	for (i = 0; i < t->nh; i++) {
		hdir(t, i, "leftover", dir, sizeof(dir));
		if (mkdir(dir, 0755))
			return -1;
		if (!strcmp(t->h[i].ctrl, "cpuset")) {
			group_value(t, "cpuset", NULL, "cpuset.cpus", val, sizeof(val));
			snprintf(path, sizeof(path), "%s/cpuset.cpus", dir);
			write_str(path, val);
			group_value(t, "cpuset", NULL, "cpuset.mems", val, sizeof(val));
			snprintf(path, sizeof(path), "%s/cpuset.mems", dir);
			write_str(path, val);
		}
	}
	pid = fork();
	if (pid == 0) {
		for (;;)
			pause();
	}
	snprintf(pid_s, sizeof(pid_s), "%d", pid);
	for (i = 0; pid > 0 && i < t->nh; i++) {
		snprintf(path, sizeof(path), "%s/cgroup.procs",
			 hdir(t, i, "leftover", dir, sizeof(dir)));
		if (write_str(path, pid_s))
			printf("     cannot move %d into %s\n", pid, dir);
		/* A nested group, as a runtime with a delegated subtree could make. */
		if (!strcmp(t->h[i].ctrl, "memory")) {
			snprintf(path, sizeof(path), "%s/inner", dir);
			mkdir(path, 0755);
		}
	}
	/* Leftover environments of a crashed run are frozen ones, mostly. */
	if (gdir(t, "freezer", "leftover", dir, sizeof(dir))) {
		snprintf(path, sizeof(path), "%s/freezer.state", dir);
		write_str(path, "FROZEN");
	}
	return pid;
}

static void test_leftover(struct test *t)
{
	struct husk_cgroups *again = NULL;
	char err[256] = "";
	pid_t pid;
	int ret;

	pid = make_leftover(t);
	check(t, pid > 0 && count_existing(t, "leftover") == t->nh,
	      "a frozen leftover group with a sleeping process in every hierarchy");
	ret = husk_cgroups_init(t->parent, &again, err, sizeof(err));
	check(t, !ret, "init again with the same parent: %s", ret ? err : "ok");
	if (pid > 0)
		check(t, reaped_by_sigkill(pid), "the leftover's process was killed");
	check(t, !count_existing(t, "leftover"), "the leftover is gone from every hierarchy");
	husk_cgroups_fini(again);
	check(t, !count_existing(t, NULL), "fini removed the parent from every hierarchy");
	/* The first instance's parents are gone already; fini must cope. */
	husk_cgroups_fini(t->cgs);
	t->cgs = NULL;
}

/*
 * Kill and thaw everything below dir, without the code under test; remove
 * the groups too once a first pass over every hierarchy let the tasks die.
 */
static void sweep_tree(const char *dir, bool remove)
{
	char path[PATH_MAX + 256];
	struct dirent *de;
	DIR *d;
	FILE *f;
	int pid;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	while (f && fscanf(f, "%d", &pid) == 1)
		kill(pid, SIGKILL);
	if (f)
		fclose(f);
	snprintf(path, sizeof(path), "%s/freezer.state", dir);
	write_str(path, "THAWED");
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		if (de->d_type == DT_DIR && de->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			sweep_tree(path, remove);
		}
	}
	if (d)
		closedir(d);
	if (remove)
		rmdir(dir);
}

/* Runs whatever the checks did: no process, group or parent may stay. */
static void cleanup(struct test *t)
{
	struct husk_cgroups *c = NULL;
	pid_t pids[] = {t->spinner, t->oom_child, t->forker};
	char err[256], dir[PATH_MAX + 128];
	size_t i;
	int pass;

	for (i = 0; i < sizeof(pids) / sizeof(pids[0]); i++)
		if (pids[i] > 0)
			kill(pids[i], SIGKILL);
	husk_cg_destroy(t->g1);
	husk_cg_destroy(t->g2);
	husk_cgroups_fini(t->cgs);
	/* init removes what is left below the parent, fini the parent itself. */
	if (count_existing(t, NULL) && !husk_cgroups_init(t->parent, &c, err, sizeof(err)))
		husk_cgroups_fini(c);
	check(t, !count_existing(t, NULL), "nothing of %s is left", t->parent);
	/* Last resort when the code under test could not clean up. */
	for (pass = 0; count_existing(t, NULL) && pass < 4; pass++) {
		for (i = 0; i < (size_t)t->nh; i++)
			sweep_tree(hdir(t, i, NULL, dir, sizeof(dir)), pass > 0);
		msleep(100);
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

int main(void)
{
	struct test t = {0};

	if (geteuid()) {
		printf("skip cgroup_test: needs root to create cgroups\n");
		return 0;
	}
	t.counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t.counter == MAP_FAILED || cgroup_init()) {
		printf("FAIL setup: shared page or libcgroup\n");
		return 1;
	}
	/* Orphans of the forking child come back here to be reaped. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	snprintf(t.parent, sizeof(t.parent), "husk-unit-%d", getpid());
	find_hierarchies(&t);
	check(&t, t.nh > 0, "%d hierarchies found", t.nh);
	test_init(&t);
	if (t.cgs)
		test_create(&t);
	if (t.g1 && t.g2) {
		test_attach_freeze(&t);
		test_clone_into(&t);
		test_peak(&t);
		test_oom(&t);
		test_pids(&t);
		test_destroy(&t);
		test_threads(&t);
		test_leftover(&t);
	}
	cleanup(&t);
	printf("%s\n", t.failed ? "cgroup_test: FAILED" : "cgroup_test: all passed");
	return t.failed;
}
