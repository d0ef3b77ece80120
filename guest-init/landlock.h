/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Landlock confinement of the function's runtime: the file rules of SPAWN
 * (guest-init/protocol.h) turned into a Landlock domain, for kernels where
 * BPF LSM cannot enforce them. Raw system calls only: husk-init is static.
 */
#ifndef HUSK_GUEST_LANDLOCK_H
#define HUSK_GUEST_LANDLOCK_H

#include <stddef.h>

/* What husk_landlock_apply() did. */
struct husk_landlock_result {
	int abi;	      /* Landlock ABI version of the running kernel */
	unsigned int added;   /* rules given to the kernel */
	unsigned int skipped; /* rules whose path does not exist */
	/* On failure, the path of the rule it failed on (into rules, no NUL), or NULL. */
	const char *fail_path;
	unsigned int fail_path_len;
};

/*
 * The Landlock ABI version of the running kernel (1, 2, ...), or -ENOSYS /
 * -EOPNOTSUPP when Landlock is not built in or not enabled.
 */
int husk_landlock_abi(void);

/*
 * Check a SPAWN rule block: whole records, absolute paths without NUL,
 * zero padding, only HUSK_FS_* access bits and at least one. 0 or -EBADMSG.
 */
int husk_fs_rules_check(const void *rules, size_t len);

/*
 * Confine the calling thread (and what it forks and execs) to the rules:
 * every filesystem access right the kernel's ABI knows is handled, and only
 * what a rule grants below its path stays allowed; from ABI 6 on, signals
 * and abstract Unix sockets are also scoped to the domain. A rule whose path
 * does not exist is skipped and counted in res. The caller must have set
 * no_new_privs (or hold CAP_SYS_ADMIN). Returns 0, -EBADMSG for a malformed
 * block, -ENOSYS / -EOPNOTSUPP without Landlock (never a silent success),
 * or the errno of the open or Landlock call that failed.
 */
int husk_landlock_apply(const void *rules, size_t len, struct husk_landlock_result *res);

#endif /* HUSK_GUEST_LANDLOCK_H */
