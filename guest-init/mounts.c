// SPDX-License-Identifier: GPL-2.0
/*
 * The function's own filesystem, mounted by husk-init when SPAWN names the
 * function: the code at /var/task and a /tmp of the function's size. The
 * rest of the root was built before the environment knew its function.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest-init/init.h"

#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif

int husk_mount_function(int code_fd, uint32_t tmp_mb, char *why, size_t len)
{
	char opts[64];

	/* huskd made code_fd with open_tree() and set it read-only, nosuid, nodev. */
	if (code_fd >= 0 &&
	    syscall(SYS_move_mount, code_fd, "", AT_FDCWD, "/var/task", MOVE_MOUNT_F_EMPTY_PATH)) {
		snprintf(why, len, "attaching the code at /var/task: %s", strerror(errno));
		return -errno;
	}
	if (tmp_mb) {
		snprintf(opts, sizeof(opts), "size=%um,mode=1777", tmp_mb);
		if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, opts)) {
			snprintf(why, len, "mounting /tmp (%u MiB): %s", tmp_mb, strerror(errno));
			return -errno;
		}
	}
	return 0;
}
