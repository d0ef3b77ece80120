// SPDX-License-Identifier: GPL-2.0
/*
 * What husk-bench reads from the host: clocks, CPU affinity, /proc/meminfo,
 * a process's resident set, memory cgroups, and the machine description.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "tests/bench/bench.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int pin_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

/* The number after "key:" in a /proc file of "key: value kB" lines. */
static int proc_field_kib(const char *path, const char *key, uint64_t *kib)
{
	size_t klen = strlen(key);
	char line[256];
	FILE *f = fopen(path, "r");
	int rc = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			*kib = strtoull(line + klen + 1, NULL, 10);
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

int host_mem_used_kib(uint64_t *kib)
{
	uint64_t total, avail;
	int rc;

	rc = proc_field_kib("/proc/meminfo", "MemTotal", &total);
	if (!rc)
		rc = proc_field_kib("/proc/meminfo", "MemAvailable", &avail);
	if (!rc)
		*kib = total - avail;
	return rc;
}

int proc_rss_kib(pid_t pid, uint64_t *kib)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	return proc_field_kib(path, "VmRSS", kib);
}

/*
 * The path of pid's group in the hierarchy whose /proc/PID/cgroup line has
 * this controller list ("memory" for v1, "" for the v2 line "0::").
 */
static int own_cgroup(pid_t pid, const char *controllers, char *buf, size_t len)
{
	char path[64], line[1024], *ctl, *grp;
	FILE *f;
	int rc = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		ctl = strchr(line, ':');
		grp = ctl ? strchr(ctl + 1, ':') : NULL;
		if (!grp)
			continue;
		*grp++ = '\0';
		ctl++;
		if (strcmp(ctl, controllers))
			continue;
		snprintf(buf, len, "%s", strcmp(grp, "/") ? grp : "");
		rc = 0;
		break;
	}
	fclose(f);
	return rc;
}

int env_parent_cgroup(pid_t pid, const char *parent, char *buf, size_t len)
{
	char own[768], file[1200];

	if (!own_cgroup(pid, "memory", own, sizeof(own))) {
		snprintf(buf, len, CGROUP_ROOT "/memory%s/%s", own, parent);
		snprintf(file, sizeof(file), "%s/memory.usage_in_bytes", buf);
		if (!access(file, R_OK))
			return 0;
	}
	if (!own_cgroup(pid, "", own, sizeof(own))) {
		snprintf(buf, len, CGROUP_ROOT "%s/%s", own, parent);
		snprintf(file, sizeof(file), "%s/memory.current", buf);
		if (!access(file, R_OK))
			return 0;
	}
	return -ENOENT;
}

static int read_u64(const char *path, uint64_t *v)
{
	FILE *f = fopen(path, "r");
	int rc;

	if (!f)
		return -errno;
	rc = fscanf(f, "%" SCNu64, v) == 1 ? 0 : -EINVAL;
	fclose(f);
	return rc;
}

int cgroup_mem_kib(const char *dir, uint64_t *kib)
{
	char path[1200];
	uint64_t bytes;
	int rc;

	snprintf(path, sizeof(path), "%s/memory.usage_in_bytes", dir);
	rc = read_u64(path, &bytes);
	if (rc) {
		snprintf(path, sizeof(path), "%s/memory.current", dir);
		rc = read_u64(path, &bytes);
	}
	if (!rc)
		*kib = bytes >> 10;
	return rc;
}

int cgroup_sum_envs(const char *dir, unsigned *n, uint64_t *kib)
{
	char sub[1200];
	struct dirent *de;
	uint64_t one;
	DIR *d = opendir(dir);

	if (!d)
		return -errno;
	*n = 0;
	*kib = 0;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || strncmp(de->d_name, "env-", 4))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		/* An environment going away between readdir and read is not counted. */
		if (cgroup_mem_kib(sub, &one))
			continue;
		(*n)++;
		*kib += one;
	}
	closedir(d);
	return 0;
}

void raise_nofile(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void cpu_model(char *buf, size_t len)
{
	char line[256], *colon;
	FILE *f = fopen("/proc/cpuinfo", "r");

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		colon = strchr(line, ':');
		if (colon && !strncmp(line, "model name", 10)) {
			colon += 1 + strspn(colon + 1, " \t");
			colon[strcspn(colon, "\n")] = '\0';
			snprintf(buf, len, "%s", colon);
			break;
		}
	}
	fclose(f);
}

void print_machine(FILE *f)
{
	struct utsname u;
	uint64_t total = 0;
	char model[128];

	uname(&u);
	cpu_model(model, sizeof(model));
	proc_field_kib("/proc/meminfo", "MemTotal", &total);
	fprintf(f, "machine: nproc %ld, kernel %s %s (%s), CPU %s, memory %.1f GiB\n",
		sysconf(_SC_NPROCESSORS_ONLN), u.sysname, u.release, u.machine, model,
		total / 1048576.0);
}
