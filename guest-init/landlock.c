// SPDX-License-Identifier: GPL-2.0
/*
 * The file rules of SPAWN as a Landlock domain. The ruleset handles every
 * filesystem right the running kernel knows, so whatever no rule grants is
 * denied, and from ABI 6 on it also scopes signals and abstract Unix
 * sockets: a function's processes can then neither signal husk-init nor
 * reach a socket of anything outside their domain.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest-init/landlock.h"
#include "guest-init/protocol.h"

/* Newer than the <linux/landlock.h> of Debian 12. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1) /* ABI 6 */
#endif

/*
 * struct landlock_ruleset_attr as of ABI 6, which the header above may not
 * have. A kernel of an older ABI accepts the larger struct as long as the
 * fields it does not know are zero.
 */
struct ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

#define FS_RIGHTS_ABI1                                                                             \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |                              \
	 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |                              \
	 LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |                          \
	 LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |                              \
	 LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |                              \
	 LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |                            \
	 LANDLOCK_ACCESS_FS_MAKE_SYM)

/* The rights that apply to a file; the kernel refuses others on one. */
#define FS_FILE_RIGHTS                                                                             \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |                              \
	 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |                              \
	 LANDLOCK_ACCESS_FS_IOCTL_DEV)

#define HUSK_FS_READ_RIGHTS (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define HUSK_FS_WRITE_RIGHTS                                                                       \
	(LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |                             \
	 LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |                          \
	 LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_SYM | \
	 LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_REFER |  \
	 LANDLOCK_ACCESS_FS_IOCTL_DEV)
/* execve() opens the file for reading too: running it takes HUSK_FS_READ as well. */
#define HUSK_FS_EXEC_RIGHTS LANDLOCK_ACCESS_FS_EXECUTE

/* A walk over the records of a rule block. */
struct rule_iter {
	const char *p;
	size_t left;
};

/*
 * The next rule and its path (not NUL terminated, r->path_len bytes).
 * Returns 1 for a rule, 0 at the end of the block, -EBADMSG when malformed.
 */
static int next_rule(struct rule_iter *it, struct husk_fs_rule *r, const char **path)
{
	size_t size, i;

	if (!it->left)
		return 0;
	if (it->left < sizeof(*r))
		return -EBADMSG;
	memcpy(r, it->p, sizeof(*r)); /* the block need not be aligned */
	if (!r->access || (r->access & ~HUSK_FS_ALL) || !r->path_len ||
	    r->path_len > HUSK_FS_RULE_PATH_MAX)
		return -EBADMSG;
	size = husk_fs_rule_size(r->path_len);
	if (size > it->left)
		return -EBADMSG;
	*path = it->p + sizeof(*r);
	if ((*path)[0] != '/' || memchr(*path, '\0', r->path_len))
		return -EBADMSG;
	for (i = r->path_len; i < size - sizeof(*r); i++) {
		if ((*path)[i])
			return -EBADMSG;
	}
	it->p += size;
	it->left -= size;
	return 1;
}

int husk_fs_rules_check(const void *rules, size_t len)
{
	struct rule_iter it = {.p = rules, .left = len};
	struct husk_fs_rule r;
	const char *path;
	int ret;

	while ((ret = next_rule(&it, &r, &path)) > 0)
		;
	return ret;
}

int husk_landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	return abi < 0 ? -errno : (int)abi;
}

static uint64_t handled_fs_rights(int abi)
{
	uint64_t rights = FS_RIGHTS_ABI1;

	if (abi >= 2)
		rights |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		rights |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		rights |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return rights;
}

/* What a rule grants, limited to what is handled and, on a file, to file rights. */
static uint64_t granted_rights(uint32_t access, uint64_t handled, bool is_dir)
{
	uint64_t rights = 0;

	if (access & HUSK_FS_READ)
		rights |= HUSK_FS_READ_RIGHTS;
	if (access & HUSK_FS_WRITE)
		rights |= HUSK_FS_WRITE_RIGHTS;
	if (access & HUSK_FS_EXEC)
		rights |= HUSK_FS_EXEC_RIGHTS;
	rights &= handled;
	return is_dir ? rights : rights & FS_FILE_RIGHTS;
}

/*
 * Add one rule. A path that does not exist (ENOENT, or ENOTDIR for a file
 * standing where a directory was named) grants nothing and is skipped.
 */
static int add_rule(int ruleset, const struct husk_fs_rule *r, const char *path, uint64_t handled,
		    struct husk_landlock_result *res)
{
	struct landlock_path_beneath_attr beneath;
	char name[HUSK_FS_RULE_PATH_MAX + 1];
	struct stat st;
	int fd, err = 0;

	memcpy(name, path, r->path_len);
	name[r->path_len] = '\0';
	fd = open(name, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			return -errno;
		res->skipped++;
		return 0;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	beneath.parent_fd = fd;
	beneath.allowed_access = granted_rights(r->access, handled, S_ISDIR(st.st_mode));
	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0)) {
		err = -errno;
		goto out;
	}
	res->added++;
out:
	close(fd);
	return err;
}

static int add_rules(int ruleset, const void *rules, size_t len, uint64_t handled,
		     struct husk_landlock_result *res)
{
	struct rule_iter it = {.p = rules, .left = len};
	struct husk_fs_rule r;
	const char *path;
	int ret, err;

	while ((ret = next_rule(&it, &r, &path)) > 0) {
		err = add_rule(ruleset, &r, path, handled, res);
		if (err) {
			res->fail_path = path;
			res->fail_path_len = r.path_len;
			return err;
		}
	}
	return ret;
}

int husk_landlock_apply(const void *rules, size_t len, struct husk_landlock_result *res)
{
	struct ruleset_attr attr = {0};
	int abi, ruleset, err;

	*res = (struct husk_landlock_result){0};
	abi = husk_landlock_abi();
	if (abi < 0)
		return abi;
	res->abi = abi;
	attr.handled_access_fs = handled_fs_rights(abi);
	if (abi >= 6)
		attr.scoped = LANDLOCK_SCOPE_SIGNAL | LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET;
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (ruleset < 0)
		return -errno;
	/* Nothing is enforced before restrict_self: a bad record leaves no half domain. */
	err = add_rules(ruleset, rules, len, attr.handled_access_fs, res);
	if (!err && syscall(SYS_landlock_restrict_self, ruleset, 0))
		err = -errno;
	close(ruleset);
	return err;
}
