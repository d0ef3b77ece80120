/* SPDX-License-Identifier: GPL-2.0 */
/*
 * huskd's BPF loader: loads bpf/husk.bpf.c through its skeleton, attaches
 * its cgroup programs to the v2 parent group of all environments and its
 * tracepoints system-wide, and pins maps, programs and links under
 * <pin dir> (/sys/fs/bpf/husk by default) so that bpftool and huskctl see
 * them by stable names:
 *
 *   <pin dir>/maps/<map>   <pin dir>/progs/<prog>   <pin dir>/links/<prog>
 *   <pin dir>/lsm/{progs,links}/<prog>        (when BPF LSM enforces)
 *
 * It then proves BPF LSM with a functional probe (load bpf/husk_lsm.bpf.c
 * on the same maps, attach, open a file, see the hook count it) and detects
 * the Landlock ABI, and says once which engine enforces what.
 *
 * Leftovers of a crashed run (the pin directory) are removed at start; a
 * clean stop removes every pin, so no program, link or map outlives huskd.
 */
#ifndef HUSK_BPF_H
#define HUSK_BPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/husk_abi.h"

#define HUSK_BPF_PIN_DIR_DEFAULT "/sys/fs/bpf/husk"

struct husk_bpf;
struct husk_policy;

/* Which engine enforces the file and exec rules, and why. */
struct husk_engines {
	bool lsm;	      /* BPF LSM programs loaded, attached and seen firing */
	int landlock_abi;     /* 0 when the kernel has no Landlock */
	char lsm_reason[200]; /* why BPF LSM is not used */
};

/*
 * Load, attach and pin everything. cgroup_dir is the v2 directory below
 * which environments live; pin_dir the bpffs directory to pin into (bpffs
 * is mounted at /sys/fs/bpf if nothing is). events_bytes sizes the ring
 * buffer (a power of two; 0: the default). On failure err says why.
 */
int husk_bpf_init(const char *pin_dir, const char *cgroup_dir, uint32_t events_bytes,
		  struct husk_bpf **out, char *err, size_t errlen);

/* Detach, unpin and free everything. */
void husk_bpf_fini(struct husk_bpf *b);

const struct husk_engines *husk_bpf_engines(const struct husk_bpf *b);

/* The ring buffer's map fd, for the telemetry consumer. */
int husk_bpf_events_fd(const struct husk_bpf *b);

/*
 * An environment's entry, before its first process runs: its slot (whose
 * counters are zeroed) and no network rules yet (loopback only).
 */
int husk_bpf_env_add(struct husk_bpf *b, uint64_t cgid, unsigned slot);

/*
 * The function's policy for the environment, before its runtime starts:
 * LPM entries of the egress rules (and DNS to dns[0..n_dns) when the
 * policy allows it), the file prefixes, and the syscalls seccomp denies
 * (for telemetry). Undone by husk_bpf_env_del.
 */
int husk_bpf_env_policy(struct husk_bpf *b, uint64_t cgid, const struct husk_policy *p,
			const uint64_t sys_denied[HUSK_NR_SYSCALLS / 64], int sys_errno,
			const uint32_t *dns, size_t n_dns);

/* Remove every entry of the environment (p: its policy, or NULL if it never got one). */
void husk_bpf_env_del(struct husk_bpf *b, uint64_t cgid, const struct husk_policy *p,
		      const uint32_t *dns, size_t n_dns);

/* The counters of a slot, read in place (an mmap of the array map). */
const volatile struct husk_counters *husk_bpf_counters(const struct husk_bpf *b, unsigned slot);

#endif
