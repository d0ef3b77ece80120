/* SPDX-License-Identifier: GPL-2.0 */
/* What bpf.c and bpf_policy.c share: the loader's state. */
#ifndef HUSK_BPF_INTERNAL_H
#define HUSK_BPF_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "bpf.h"

#define HUSK_BPF_MAX_LINKS 40

struct husk;
struct husk_lsm;
struct bpf_link;

struct husk_bpf {
	struct husk *skel;    /* bpf/husk.bpf.c */
	struct husk_lsm *lsm; /* bpf/husk_lsm.bpf.c, NULL unless BPF LSM enforces */
	struct bpf_link *links[HUSK_BPF_MAX_LINKS];
	size_t n_links;
	struct husk_counters *counters; /* mmap of husk_counters */
	size_t counters_len;
	int cgroup_fd; /* v2 parent of the environments */
	bool mounted_bpffs;
	char pin_dir[PATH_MAX];
	struct husk_engines engines;
};

/* Load and attach the LSM object on the main object's maps, and see it fire. */
int husk_bpf_lsm_probe(struct husk_bpf *b);

#endif
