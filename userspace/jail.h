/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The jail backend: clone3 into new user, pid, mount, network, ipc, uts and
 * cgroup namespaces, build a fresh root (pivot_root) and exec husk-init as
 * PID 1.
 *
 * The child of clone3 is a copy of a multi-threaded process, so between
 * clone3 and exec it may only make system calls: everything it needs (paths,
 * mount options, file contents) is prepared by the parent in a struct
 * husk_jail_spec first, and it reports a failure as a fixed-size record on a
 * pipe instead of logging.
 */
#ifndef HUSK_JAIL_H
#define HUSK_JAIL_H

#include <stdint.h>
#include <sys/types.h>

#include "husk.h"

/* In-namespace credentials of the runtime: Lambda's sbx_user1051. */
#define HUSK_RUNTIME_UID 993
#define HUSK_RUNTIME_GID 990
/* Each environment maps its 65536 ids onto its own host range from here. */
#define HUSK_UID_BASE 0x10000000u
#define HUSK_UID_RANGE 65536u
#define HUSK_UID_SLOTS 16384u

/* Host facts probed once at start: which top-level directories are links. */
int husk_jail_init(struct husk_ctx *ctx, char *err, size_t errlen);

struct husk_jail_args {
	unsigned uid_slot;
	int cgroup_fd;		/* v2 group for CLONE_INTO_CGROUP, or -1 */
	int chan_fd;		/* becomes fd 3 of husk-init */
	int log_fd;		/* becomes fds 1 and 2 */
	int cpu;		/* pin to this CPU, or -1 */
};

struct husk_jail_proc {
	pid_t pid;
	int pidfd;
	int err_fd; /* read end: a struct husk_jail_error when setup failed */
	int go_fd;  /* write end: one byte lets the child go on */
};

/* The record a failed child writes before it exits. */
struct husk_jail_error {
	int err;	/* errno */
	char step[116]; /* what it was doing, e.g. "mount /usr" */
};

/*
 * Start the child; it waits for husk_jail_release(). In between the caller
 * places it in its cgroups; the uid and gid maps are written here.
 */
int husk_jail_spawn(struct husk_ctx *ctx, const struct husk_jail_args *args,
		    struct husk_jail_proc *proc);
/* Let the child build its root and exec husk-init. */
int husk_jail_release(struct husk_jail_proc *proc);

#endif
