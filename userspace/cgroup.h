/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Environment cgroups on cgroup v1, v2 and hybrid hosts.
 *
 * At start huskd finds its own cgroup in every mounted hierarchy and makes a
 * parent group below each one (parent_name, "husk" by default); every
 * environment gets a group below that ("<own>/husk/<name>"), never anywhere
 * else. Groups are created and their
 * limits set through libcgroup. Where a v1 controller is mounted it carries
 * that limit; on a pure v2 host the v2 group carries all of them. The v2
 * group always exists (on hybrid hosts it has no controllers) because BPF
 * programs attach there and its id keys every policy map.
 *
 * The per-invocation operations (freeze, thaw, peak memory) write and read
 * files through descriptors opened once at create time: they run on the hot
 * path, where libcgroup's open-write-close per call would cost more than the
 * work itself.
 */
#ifndef HUSK_CGROUP_H
#define HUSK_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct husk_cgroups;
struct husk_cg;

enum husk_cg_mode { HUSK_CG_V1, HUSK_CG_V2, HUSK_CG_HYBRID };

struct husk_cg_limits {
	uint64_t memory_bytes; /* memory (and memory+swap where there is swap) */
	uint32_t pids_max;
	uint32_t cpu_weight; /* 1..10000, v2 scale; v1 shares are derived */
};

/*
 * Detect the hierarchies, find huskd's own groups, create the "husk" parents
 * and remove what a previous run left in them (killing any process still
 * there). err gets a one-line reason.
 */
int husk_cgroups_init(const char *parent_name, struct husk_cgroups **out, char *err,
		      size_t errlen);
/* Remove the "husk" parents (they must be empty by then). */
void husk_cgroups_fini(struct husk_cgroups *cgs);

enum husk_cg_mode husk_cgroups_mode(const struct husk_cgroups *cgs);
const char *husk_cg_mode_name(enum husk_cg_mode mode);
/* "memory,pids,cpu,freezer" etc.: where each limit is enforced, for the log. */
/* The v2 directory of the parent of all environments (where BPF attaches); NULL without v2. */
const char *husk_cgroups_v2_parent(const struct husk_cgroups *cgs);
const char *husk_cgroups_describe(const struct husk_cgroups *cgs);

/* Create group name (e.g. "env-42") in every hierarchy with limits. */
int husk_cg_create(struct husk_cgroups *cgs, const char *name,
		   const struct husk_cg_limits *limits, struct husk_cg **out);

/*
 * Change the memory limit and CPU weight of a group made earlier (a
 * pre-made environment given to a function); pids stays as created.
 */
int husk_cg_set_limits(struct husk_cg *cg, uint64_t memory_bytes, uint32_t cpu_weight);

/* fd of the v2 directory, for clone3(CLONE_INTO_CGROUP); -1 if none. */
int husk_cg_v2_fd(const struct husk_cg *cg);
/* The v2 group's id (its inode number), the key of BPF maps. */
uint64_t husk_cg_id(const struct husk_cg *cg);
/* The group's path relative to the hierarchy root, e.g. "/husk/env-42". */
const char *husk_cg_path(const struct husk_cg *cg);

/*
 * Move pid into the group in every hierarchy it is not already in (the v1
 * ones after a CLONE_INTO_CGROUP into v2). Call before the process runs
 * anything it does not trust.
 */
int husk_cg_attach(struct husk_cg *cg, pid_t pid);

/* Freeze or thaw every process of the group; returns once it took effect. */
int husk_cg_freeze(struct husk_cg *cg);
int husk_cg_thaw(struct husk_cg *cg);
/*
 * Ask for a freeze and return at once: the tasks stop at their next return
 * to user mode. Between invocations nothing waits for the freeze to
 * complete (a v1 freeze takes a scheduling round trip per task), and a thaw
 * of a group still freezing is a thaw like any other.
 */
int husk_cg_freeze_start(struct husk_cg *cg);

/* Start a new peak-memory window, and read the peak since. */
int husk_cg_memory_peak_reset(struct husk_cg *cg);
int husk_cg_memory_peak(struct husk_cg *cg, uint64_t *bytes);
int husk_cg_memory_current(struct husk_cg *cg, uint64_t *bytes);
/* OOM kills in the group so far. */
int husk_cg_oom_kills(struct husk_cg *cg, uint64_t *count);
/* Processes in the group now. */
int husk_cg_pids_current(struct husk_cg *cg, uint64_t *count);

/*
 * Kill every process in the group (thawing it first: frozen v1 tasks do
 * not die), wait until the group is empty, remove its directory in every
 * hierarchy, check that each is gone, and free cg.
 */
int husk_cg_destroy(struct husk_cg *cg);

#endif
