// SPDX-License-Identifier: GPL-2.0
/*
 * The function's own filesystem, mounted by husk-init when SPAWN names the
 * function: the code at /var/task and a /tmp of the function's size. The
 * rest of the root was built before the environment knew its function.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest-init/init.h"

#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif

static int failed(struct husk_launch_error *fail, enum husk_launch_step step)
{
	*fail = (struct husk_launch_error){ .step = step, .err = errno };
	return -fail->err;
}

int husk_mount_function(int code_fd, uint32_t tmp_mb, struct husk_launch_error *fail)
{
	char opts[64];

	/* huskd made code_fd with open_tree() and set it read-only, nosuid, nodev. */
	if (code_fd >= 0 &&
	    syscall(SYS_move_mount, code_fd, "", AT_FDCWD, "/var/task", MOVE_MOUNT_F_EMPTY_PATH))
		return failed(fail, HUSK_LAUNCH_MOUNT_CODE);
	if (tmp_mb) {
		snprintf(opts, sizeof(opts), "size=%um,mode=1777", tmp_mb);
		if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, opts))
			return failed(fail, HUSK_LAUNCH_MOUNT_TMP);
	}
	return 0;
}
