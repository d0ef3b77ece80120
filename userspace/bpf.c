// SPDX-License-Identifier: GPL-2.0
/*
 * Loading, attaching and pinning husk's BPF objects; the BPF LSM probe and
 * the Landlock ABI (see bpf.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/landlock.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf.h"
#include "bpf_internal.h"
#include "bpf_policy.h"
#include "husk.skel.h"
#include "husk_lsm.skel.h"
#include "log.h"

#define BPFFS "/sys/fs/bpf"

static int set_err(char *err, size_t errlen, int ret, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int set_err(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return ret;
}

/* libbpf prints through here: its warnings are huskd's debug output. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[512];

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	pr_debug("libbpf: %s", line);
	return 0;
}

static int ensure_bpffs(struct husk_bpf *b, char *err, size_t errlen)
{
	struct statfs st;

	if (statfs(BPFFS, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", BPFFS, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700"))
		return set_err(err, errlen, -errno, "cannot mount bpffs at " BPFFS ": %s",
			       strerror(errno));
	b->mounted_bpffs = true;
	pr_info("bpf: mounted bpffs at " BPFFS);
	return 0;
}

static int unlink_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (ftw->level == 0)
		return 0;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) && errno != ENOENT)
		pr_warn("bpf: cannot remove %s: %s", path, strerror(errno));
	return 0;
}

/* Unpinning detaches pinned links once nothing else holds them. */
static void remove_pins(const char *dir)
{
	if (access(dir, F_OK))
		return;
	nftw(dir, unlink_one, 16, FTW_DEPTH | FTW_PHYS);
	if (rmdir(dir) && errno != ENOENT)
		pr_warn("bpf: cannot remove %s: %s", dir, strerror(errno));
}

static bool dir_empty(const char *path)
{
	struct dirent *de;
	bool empty = true;
	DIR *d = opendir(path);

	if (!d)
		return false;
	while (empty && (de = readdir(d)))
		empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
	closedir(d);
	return empty;
}

static int make_dirs(const char *base, char *err, size_t errlen)
{
	static const char *const sub[] = {"", "/maps", "/progs", "/links"};
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", base, sub[i]);
		if (mkdir(path, 0700) && errno != EEXIST)
			return set_err(err, errlen, -errno, "cannot create %s: %s", path,
				       strerror(errno));
	}
	return 0;
}

static int pin_maps(struct bpf_object *obj, const char *dir, char *err, size_t errlen)
{
	struct bpf_map *map;
	char path[PATH_MAX];
	int rc;

	bpf_object__for_each_map(map, obj)
	{
		if (bpf_map__is_internal(map))
			continue;
		snprintf(path, sizeof(path), "%s/maps/%s", dir, bpf_map__name(map));
		rc = bpf_map__pin(map, path);
		if (rc)
			return set_err(err, errlen, rc, "cannot pin %s: %s", path, strerror(-rc));
	}
	return 0;
}

/* Attach one program where its section says: a cgroup, or a tracepoint. */
static struct bpf_link *attach_prog(struct bpf_program *prog, int cgroup_fd)
{
	const char *sec = bpf_program__section_name(prog);

	if (!strncmp(sec, "cgroup", 6))
		return bpf_program__attach_cgroup(prog, cgroup_fd);
	return bpf_program__attach(prog);
}

/* Attach every program of obj, pin program and link; links land in b->links. */
static int attach_and_pin(struct husk_bpf *b, struct bpf_object *obj, const char *dir,
			  int cgroup_fd, char *err, size_t errlen)
{
	struct bpf_program *prog;
	struct bpf_link *link;
	char path[PATH_MAX];
	int rc;

	bpf_object__for_each_program(prog, obj)
	{
		if (b->n_links >= HUSK_BPF_MAX_LINKS)
			return set_err(err, errlen, -E2BIG, "too many BPF programs");
		link = attach_prog(prog, cgroup_fd);
		rc = libbpf_get_error(link);
		if (rc)
			return set_err(err, errlen, rc, "cannot attach %s (%s): %s",
				       bpf_program__name(prog), bpf_program__section_name(prog),
				       strerror(-rc));
		b->links[b->n_links++] = link;
		snprintf(path, sizeof(path), "%s/progs/%s", dir, bpf_program__name(prog));
		rc = bpf_program__pin(prog, path);
		if (!rc) {
			snprintf(path, sizeof(path), "%s/links/%s", dir, bpf_program__name(prog));
			rc = bpf_link__pin(link, path);
		}
		if (rc)
			return set_err(err, errlen, rc, "cannot pin %s: %s", path, strerror(-rc));
	}
	return 0;
}

static int load_main(struct husk_bpf *b, uint32_t events_bytes, char *err, size_t errlen)
{
	int rc;

	b->skel = husk__open();
	if (!b->skel)
		return set_err(err, errlen, -errno, "cannot open the BPF object: %s",
			       strerror(errno));
	if (events_bytes) {
		rc = bpf_map__set_max_entries(b->skel->maps.husk_events, events_bytes);
		if (rc)
			return set_err(err, errlen, rc, "bad ring buffer size %u", events_bytes);
	}
	rc = husk__load(b->skel);
	if (rc)
		return set_err(err, errlen, rc,
			       "cannot load the BPF programs: %s (run huskd with HUSK_DEBUG=1 "
			       "for the verifier's log)",
			       strerror(-rc));
	return 0;
}

static int map_counters(struct husk_bpf *b, char *err, size_t errlen)
{
	size_t len = (size_t)HUSK_BPF_MAX_ENVS * sizeof(struct husk_counters);
	void *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
		 bpf_map__fd(b->skel->maps.husk_counters), 0);
	if (p == MAP_FAILED)
		return set_err(err, errlen, -errno, "cannot mmap husk_counters: %s",
			       strerror(errno));
	b->counters = p;
	b->counters_len = len;
	return 0;
}

static int detect_landlock(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	return abi < 0 ? 0 : (int)abi;
}

static void say_engines(const struct husk_bpf *b)
{
	const struct husk_engines *e = &b->engines;

	pr_info("enforcement: network rules by cgroup BPF (connect4/6, sendmsg4/6, bind4/6, "
		"sock_create), devices by cgroup BPF (cgroup/dev), telemetry by ring buffer");
	if (e->lsm) {
		pr_info("enforcement: files, exec, sockets, signals and ptrace by BPF LSM "
			"(probe passed)");
		return;
	}
	pr_warn("enforcement: BPF LSM NOT available (%s)", e->lsm_reason);
	pr_warn("enforcement: files and exec by Landlock ABI %d%s; ptrace by seccomp; "
		"sockets by cgroup BPF",
		e->landlock_abi,
		e->landlock_abi >= 6 ? "; signals scoped by Landlock"
				     : "; signals by pid namespace");
}

int husk_bpf_init(const char *pin_dir, const char *cgroup_dir, uint32_t events_bytes,
		  struct husk_bpf **out, char *err, size_t errlen)
{
	struct husk_bpf *b;
	int rc;

	if (!cgroup_dir)
		return set_err(err, errlen, -EOPNOTSUPP,
			       "no cgroup v2 hierarchy to attach the BPF programs to");
	b = calloc(1, sizeof(*b));
	if (!b)
		return set_err(err, errlen, -ENOMEM, "out of memory");
	libbpf_set_print(libbpf_print);
	snprintf(b->pin_dir, sizeof(b->pin_dir), "%s", pin_dir);
	b->cgroup_fd = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b->cgroup_fd < 0) {
		rc =
		    set_err(err, errlen, -errno, "cannot open %s: %s", cgroup_dir, strerror(errno));
		goto fail;
	}
	rc = ensure_bpffs(b, err, errlen);
	if (rc)
		goto fail;
	if (!access(pin_dir, F_OK))
		pr_warn("bpf: removing the pins of an earlier run in %s", pin_dir);
	remove_pins(pin_dir);
	rc = make_dirs(pin_dir, err, errlen);
	if (!rc)
		rc = load_main(b, events_bytes, err, errlen);
	if (!rc)
		rc = pin_maps(b->skel->obj, pin_dir, err, errlen);
	if (!rc)
		rc = map_counters(b, err, errlen);
	if (!rc)
		rc = attach_and_pin(b, b->skel->obj, pin_dir, b->cgroup_fd, err, errlen);
	if (rc)
		goto fail;
	b->engines.landlock_abi = detect_landlock();
	b->engines.lsm = husk_bpf_lsm_probe(b) == 0;
	if (!b->engines.lsm && !b->engines.landlock_abi) {
		rc = set_err(err, errlen, -EOPNOTSUPP,
			     "neither BPF LSM (%s) nor Landlock can enforce the file rules",
			     b->engines.lsm_reason);
		goto fail;
	}
	say_engines(b);
	*out = b;
	return 0;
fail:
	husk_bpf_fini(b);
	return rc;
}

void husk_bpf_fini(struct husk_bpf *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < b->n_links; i++)
		bpf_link__destroy(b->links[i]);
	if (b->counters)
		munmap(b->counters, b->counters_len);
	husk_lsm__destroy(b->lsm);
	husk__destroy(b->skel);
	if (b->pin_dir[0])
		remove_pins(b->pin_dir);
	/* Leave bpffs mounted if anything else pinned into it meanwhile. */
	if (b->mounted_bpffs && dir_empty(BPFFS) && umount2(BPFFS, MNT_DETACH) == 0)
		pr_info("bpf: unmounted " BPFFS);
	if (b->cgroup_fd > 0)
		close(b->cgroup_fd);
	free(b);
}

const struct husk_engines *husk_bpf_engines(const struct husk_bpf *b)
{
	return &b->engines;
}

int husk_bpf_events_fd(const struct husk_bpf *b)
{
	return bpf_map__fd(b->skel->maps.husk_events);
}

const volatile struct husk_counters *husk_bpf_counters(const struct husk_bpf *b, unsigned slot)
{
	if (slot >= HUSK_BPF_MAX_ENVS)
		return NULL;
	return &b->counters[slot];
}

/* ---- the BPF LSM probe ---- */

static int lsm_fail(struct husk_bpf *b, int rc, const char *what)
{
	snprintf(b->engines.lsm_reason, sizeof(b->engines.lsm_reason), "%s: %s", what,
		 strerror(rc < 0 ? -rc : rc));
	husk_lsm__destroy(b->lsm);
	b->lsm = NULL;
	return rc < 0 ? rc : -rc;
}

/* The LSM object uses the main object's maps: one policy, one ring buffer. */
static int lsm_reuse_maps(struct husk_bpf *b)
{
	struct {
		struct bpf_map *lsm, *main;
	} pairs[] = {
	    {b->lsm->maps.husk_envs, b->skel->maps.husk_envs},
	    {b->lsm->maps.husk_net4, b->skel->maps.husk_net4},
	    {b->lsm->maps.husk_net6, b->skel->maps.husk_net6},
	    {b->lsm->maps.husk_fs, b->skel->maps.husk_fs},
	    {b->lsm->maps.husk_counters, b->skel->maps.husk_counters},
	    {b->lsm->maps.husk_events, b->skel->maps.husk_events},
	};
	size_t i;
	int rc;

	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		rc = bpf_map__reuse_fd(pairs[i].lsm, bpf_map__fd(pairs[i].main));
		if (rc)
			return rc;
	}
	return 0;
}

/* Open a file so that file_open must fire for huskd; see the count move. */
static int lsm_trigger(struct husk_bpf *b)
{
	uint64_t before = b->lsm->bss->probe_hits;
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return b->lsm->bss->probe_hits > before ? 0 : -ENOEXEC;
}

/* Undo lsm_pin: the LSM links and their pins. */
static void lsm_unpin(struct husk_bpf *b, size_t first_link)
{
	char dir[PATH_MAX + 8];

	while (b->n_links > first_link)
		bpf_link__destroy(b->links[--b->n_links]);
	snprintf(dir, sizeof(dir), "%s/lsm", b->pin_dir);
	remove_pins(dir);
}

static int lsm_pin(struct husk_bpf *b)
{
	char dir[PATH_MAX + 8], err[256];
	size_t first = b->n_links;
	int rc;

	snprintf(dir, sizeof(dir), "%s/lsm", b->pin_dir);
	rc = make_dirs(dir, err, sizeof(err));
	if (!rc)
		rc = attach_and_pin(b, b->lsm->obj, dir, -1, err, sizeof(err));
	if (rc) {
		lsm_unpin(b, first);
		pr_debug("bpf: %s", err);
	}
	return rc;
}

int husk_bpf_lsm_probe(struct husk_bpf *b)
{
	size_t first_link = b->n_links;
	int rc;

	b->lsm = husk_lsm__open();
	if (!b->lsm)
		return lsm_fail(b, -errno, "cannot open the LSM object");
	rc = lsm_reuse_maps(b);
	if (rc)
		return lsm_fail(b, rc, "cannot share the maps with the LSM object");
	b->lsm->rodata->probe_tgid = (uint32_t)getpid();
	rc = husk_lsm__load(b->lsm);
	if (rc)
		return lsm_fail(b, rc, "loading the LSM programs failed");
	rc = lsm_pin(b);
	if (rc)
		return lsm_fail(b, rc, "attaching the LSM programs failed");
	rc = lsm_trigger(b);
	if (rc) {
		lsm_unpin(b, first_link);
		return lsm_fail(b, rc, "the file_open hook did not fire");
	}
	return 0;
}

/* ---- environments ---- */

static struct husk_bpf_maps policy_maps(const struct husk_bpf *b)
{
	return (struct husk_bpf_maps){
	    .net4 = bpf_map__fd(b->skel->maps.husk_net4),
	    .net6 = bpf_map__fd(b->skel->maps.husk_net6),
	    .fs = b->engines.lsm ? bpf_map__fd(b->skel->maps.husk_fs) : -1,
	};
}

int husk_bpf_env_add(struct husk_bpf *b, uint64_t cgid, unsigned slot)
{
	struct husk_env_info info = {.slot = slot, .sys_errno = 1};

	if (slot >= HUSK_BPF_MAX_ENVS || !cgid)
		return -ERANGE;
	memset((void *)&b->counters[slot], 0, sizeof(b->counters[slot]));
	if (bpf_map_update_elem(bpf_map__fd(b->skel->maps.husk_envs), &cgid, &info, BPF_ANY))
		return -errno;
	return 0;
}

/* Rules first, then the environment's entry names them: never half a policy. */
int husk_bpf_env_policy(struct husk_bpf *b, uint64_t cgid, const struct husk_policy *p,
			const uint64_t sys_denied[HUSK_NR_SYSCALLS / 64], int sys_errno,
			const uint32_t *dns, size_t n_dns)
{
	struct husk_bpf_maps m = policy_maps(b);
	int fd = bpf_map__fd(b->skel->maps.husk_envs);
	struct husk_env_info info;
	int rc;

	if (bpf_map_lookup_elem(fd, &cgid, &info))
		return -errno;
	rc = husk_bpf_maps_policy(&m, cgid, p, dns, n_dns);
	if (rc)
		return rc;
	memcpy(info.sys_denied, sys_denied, sizeof(info.sys_denied));
	info.sys_errno = (uint32_t)sys_errno;
	info.flags = b->engines.lsm ? HUSK_ENV_F_LSM_FILES : 0;
	if (bpf_map_update_elem(fd, &cgid, &info, BPF_EXIST)) {
		rc = -errno;
		husk_bpf_maps_policy_del(&m, cgid, p, dns, n_dns);
	}
	return rc;
}

void husk_bpf_env_del(struct husk_bpf *b, uint64_t cgid, const struct husk_policy *p,
		      const uint32_t *dns, size_t n_dns)
{
	struct husk_bpf_maps m = policy_maps(b);
	int rc;

	if (bpf_map_delete_elem(bpf_map__fd(b->skel->maps.husk_envs), &cgid) && errno != ENOENT)
		pr_warn("bpf: cannot remove environment %llu: %s", (unsigned long long)cgid,
			strerror(errno));
	if (!p)
		return;
	rc = husk_bpf_maps_policy_del(&m, cgid, p, dns, n_dns);
	if (rc)
		pr_warn("bpf: cannot remove the policy of %llu: %s", (unsigned long long)cgid,
			strerror(-rc));
}
