// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the Landlock confinement (guest-init/landlock.c) against the
 * running kernel: each confined case forks a child that sets no_new_privs,
 * applies a rule block built with husk_fs_rule_append() and checks what it
 * may and may not do in a fixture under /tmp. The rule block's checker and
 * encoder are tested without forking. One line per case; exits 1 when any
 * case failed, 0 with a SKIP line when the kernel has no Landlock.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest-init/landlock.h"
#include "guest-init/protocol.h"

#define STR_(x) #x
#define STR(x) STR_(x)
/* A case returns NULL when it passes, or what failed. */
#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			return "line " STR(__LINE__) ": " #cond;                                   \
	} while (0)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NOBODY 65534

/*
 * A directory tree made for one run:
 *   ro/a.txt  rw/  out/b.txt out/c.txt out/d/  bin/true  nox/true  xo/true
 *   private/inner/ (mode 0700 under a root that only root may enter)
 */
struct fixture {
	char root[64];
	int abi;
};

/* A rule: access and a path, relative to the fixture root unless absolute. */
struct rule_spec {
	uint32_t access;
	const char *path;
};

struct confined {
	const struct rule_spec *rules;
	size_t nr_rules;
	const char *(*check)(const struct fixture *fx, const struct husk_landlock_result *res);
};

static int write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

static int copy_file(const char *from, const char *to, mode_t mode)
{
	int in = open(from, O_RDONLY | O_CLOEXEC), out, err = 0;
	char buf[65536];
	ssize_t n;

	if (in < 0)
		return -errno;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0) {
		err = -errno;
		close(in);
		return err;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(out, buf, (size_t)n) != n) {
			err = -EIO;
			break;
		}
	}
	if (n < 0)
		err = -errno;
	close(in);
	close(out);
	return err;
}

static int fixture_make(struct fixture *fx)
{
	static const char *const dirs[] = {"ro",  "rw", "out",	   "out/d",	   "bin",
					   "nox", "xo", "private", "private/inner"};
	char path[PATH_MAX];
	size_t i;
	int err;

	snprintf(fx->root, sizeof(fx->root), "/tmp/husk-landlock.XXXXXX");
	if (!mkdtemp(fx->root))
		return -errno;
	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(path, sizeof(path), "%s/%s", fx->root, dirs[i]);
		if (mkdir(path, 0755))
			return -errno;
	}
	snprintf(path, sizeof(path), "%s/private", fx->root);
	if (chmod(path, 0700))
		return -errno;
	snprintf(path, sizeof(path), "%s/ro/a.txt", fx->root);
	err = write_file(path, "a\n", 0644);
	snprintf(path, sizeof(path), "%s/out/b.txt", fx->root);
	err = err ?: write_file(path, "b\n", 0644);
	snprintf(path, sizeof(path), "%s/out/c.txt", fx->root);
	err = err ?: write_file(path, "c\n", 0644);
	snprintf(path, sizeof(path), "%s/bin/true", fx->root);
	err = err ?: copy_file("/bin/true", path, 0755);
	snprintf(path, sizeof(path), "%s/nox/true", fx->root);
	err = err ?: copy_file("/bin/true", path, 0755);
	snprintf(path, sizeof(path), "%s/xo/true", fx->root);
	return err ?: copy_file("/bin/true", path, 0755);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path) ? -1 : 0;
}

static void fixture_remove(const struct fixture *fx)
{
	if (fx->root[0] && nftw(fx->root, remove_entry, 16, FTW_DEPTH | FTW_PHYS))
		fprintf(stderr, "removing %s: %s\n", fx->root, strerror(errno));
}

/* The rule block of specs, paths resolved against the fixture. */
static int build_rules(const struct fixture *fx, const struct rule_spec *specs, size_t n, char *buf,
		       size_t size, size_t *len)
{
	char path[PATH_MAX];
	size_t i;
	int err;

	*len = 0;
	for (i = 0; i < n; i++) {
		if (specs[i].path[0] == '/')
			snprintf(path, sizeof(path), "%s", specs[i].path);
		else
			snprintf(path, sizeof(path), "%s/%s", fx->root, specs[i].path);
		err = husk_fs_rule_append(buf, size, len, specs[i].access, path);
		if (err)
			return err;
	}
	return 0;
}

/* What runs in a child: NULL when it passes, else what failed (maybe in why). */
typedef const char *child_fn(const struct fixture *fx, const void *arg, char *why, size_t size);

/*
 * Run fn in a child whose working directory is the fixture root; its
 * verdict comes back through a pipe into why.
 */
static const char *in_child(const struct fixture *fx, const void *arg, child_fn *fn, char *why,
			    size_t size)
{
	const char *verdict;
	size_t got = 0;
	int pipefd[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC))
		return "pipe2 failed";
	pid = fork();
	if (pid < 0)
		return "fork failed";
	if (pid == 0) {
		close(pipefd[0]);
		verdict = chdir(fx->root) ? "chdir to the fixture failed" : fn(fx, arg, why, size);
		if (verdict && write(pipefd[1], verdict, strlen(verdict)) < 0)
			_exit(2);
		_exit(verdict ? 1 : 0);
	}
	close(pipefd[1]);
	while (got < size - 1 && (n = read(pipefd[0], why + got, size - 1 - got)) > 0)
		got += (size_t)n;
	why[got] = '\0';
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) != pid)
		return "waitpid failed";
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return NULL;
	if (!got)
		snprintf(why, size, "child ended with status 0x%x", status);
	return why;
}

/* The child of a confined case: no_new_privs, the rules, then the checks. */
static const char *confined_main(const struct fixture *fx, const void *arg, char *why, size_t size)
{
	const struct confined *c = arg;
	struct husk_landlock_result res;
	char rules[8192];
	size_t len;
	int err;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return "PR_SET_NO_NEW_PRIVS failed";
	if (build_rules(fx, c->rules, c->nr_rules, rules, sizeof(rules), &len))
		return "building the rule block failed";
	err = husk_landlock_apply(rules, len, &res);
	if (err) {
		snprintf(why, size, "husk_landlock_apply: %s", strerror(-err));
		return why;
	}
	if (res.abi != fx->abi)
		return "the result does not carry the kernel's ABI";
	return c->check(fx, &res);
}

static const char *run_confined(const struct fixture *fx, const struct confined *c, char *why,
				size_t size)
{
	return in_child(fx, c, confined_main, why, size);
}

static bool opens(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0644);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Refused by Landlock: EACCES, not some other failure. */
static bool denied(int ret)
{
	return ret < 0 && errno == EACCES;
}

static int open_ret(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0644);

	if (fd >= 0)
		close(fd);
	return fd;
}

static bool lists(const char *path)
{
	DIR *d = opendir(path);

	if (!d)
		return false;
	closedir(d);
	return true;
}

static const char *check_read(const struct fixture *fx, const struct husk_landlock_result *res)
{
	CHECK(res->added == 1 && res->skipped == 0);
	CHECK(opens("ro/a.txt", O_RDONLY));
	CHECK(lists("ro"));
	CHECK(denied(open_ret("ro/a.txt", O_WRONLY)));
	CHECK(denied(open_ret("out/b.txt", O_RDONLY)));
	CHECK(denied(open_ret("out", O_RDONLY | O_DIRECTORY)));
	CHECK(denied(open_ret("/etc/passwd", O_RDONLY)));
	return NULL;
}

static const char *case_read(const struct fixture *fx, char *why, size_t size)
{
	static const struct rule_spec rules[] = {{HUSK_FS_READ, "ro"}};
	const struct confined c = {rules, ARRAY_SIZE(rules), check_read};

	return run_confined(fx, &c, why, size);
}

static const char *check_write(const struct fixture *fx, const struct husk_landlock_result *res)
{
	CHECK(opens("rw/new", O_WRONLY | O_CREAT));
	CHECK(opens("rw/new", O_WRONLY | O_TRUNC));
	CHECK(rename("rw/new", "rw/renamed") == 0);
	CHECK(symlink("renamed", "rw/link") == 0);
	CHECK(unlink("rw/link") == 0 && unlink("rw/renamed") == 0);
	CHECK(mkdir("rw/d", 0755) == 0 && rmdir("rw/d") == 0);
	CHECK(mkfifo("rw/fifo", 0600) == 0 && unlink("rw/fifo") == 0);
	CHECK(denied(open_ret("out/b.txt", O_WRONLY)));
	CHECK(denied(open_ret("out/new", O_WRONLY | O_CREAT)));
	CHECK(denied(unlink("out/b.txt")));
	CHECK(denied(mkdir("out/d2", 0755)));
	CHECK(denied(rmdir("out/d")));
	CHECK(denied(symlink("b.txt", "out/link")));
	if (fx->abi >= 3)
		CHECK(denied(truncate("out/b.txt", 0)));
	/* Write alone does not grant reading. */
	CHECK(denied(open_ret("out/c.txt", O_RDONLY)));
	return NULL;
}

static const char *case_write(const struct fixture *fx, char *why, size_t size)
{
	static const struct rule_spec rules[] = {{HUSK_FS_READ | HUSK_FS_WRITE, "rw"}};
	const struct confined c = {rules, ARRAY_SIZE(rules), check_write};

	return run_confined(fx, &c, why, size);
}

/* Exit status of running path in a grandchild, or -errno of its execve. */
static int run_program(const char *path)
{
	char *const argv[] = {(char *)path, NULL}, *const envp[] = {NULL};
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execve(path, argv, envp);
		_exit(100 + errno);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -ECHILD;
	return WEXITSTATUS(status) > 100 ? -(WEXITSTATUS(status) - 100) : WEXITSTATUS(status);
}

static const char *check_exec(const struct fixture *fx, const struct husk_landlock_result *res)
{
	CHECK(run_program("bin/true") == 0);
	CHECK(opens("nox/true", O_RDONLY));
	CHECK(run_program("nox/true") == -EACCES);
	/* /usr grants the dynamic loader and libc, not everything. */
	CHECK(run_program("/usr/bin/true") == 0);
	/* execve opens the file for reading too: exec alone is not enough. */
	CHECK(run_program("xo/true") == -EACCES);
	return NULL;
}

static const char *case_exec(const struct fixture *fx, char *why, size_t size)
{
	static const struct rule_spec rules[] = {
	    {HUSK_FS_READ | HUSK_FS_EXEC, "/usr"},
	    {HUSK_FS_READ | HUSK_FS_EXEC, "bin"},
	    {HUSK_FS_READ, "nox"},
	    {HUSK_FS_EXEC, "xo"},
	};
	const struct confined c = {rules, ARRAY_SIZE(rules), check_exec};

	return run_confined(fx, &c, why, size);
}

static const char *check_missing(const struct fixture *fx, const struct husk_landlock_result *res)
{
	CHECK(res->added == 1);
	CHECK(res->skipped == 2);
	CHECK(opens("ro/a.txt", O_RDONLY));
	CHECK(denied(open_ret("out/b.txt", O_RDONLY)));
	return NULL;
}

static const char *case_missing_path(const struct fixture *fx, char *why, size_t size)
{
	static const struct rule_spec rules[] = {
	    {HUSK_FS_READ | HUSK_FS_WRITE, "does-not-exist"},
	    {HUSK_FS_READ, "ro"},
	    {HUSK_FS_READ, "ro/a.txt/below-a-file"},
	};
	const struct confined c = {rules, ARRAY_SIZE(rules), check_missing};

	return run_confined(fx, &c, why, size);
}

/* Every HUSK_FS_* on a file: the directory rights must be masked off. */
static const char *check_file_rule(const struct fixture *fx, const struct husk_landlock_result *res)
{
	CHECK(res->added == 1);
	CHECK(opens("out/b.txt", O_RDWR));
	if (fx->abi >= 3)
		CHECK(truncate("out/b.txt", 0) == 0);
	CHECK(denied(open_ret("out/c.txt", O_RDONLY)));
	CHECK(!lists("out"));
	CHECK(denied(unlink("out/b.txt")));
	return NULL;
}

static const char *case_file_rule(const struct fixture *fx, char *why, size_t size)
{
	static const struct rule_spec rules[] = {{HUSK_FS_ALL, "out/b.txt"}};
	const struct confined c = {rules, ARRAY_SIZE(rules), check_file_rule};

	return run_confined(fx, &c, why, size);
}

static const char *check_nothing(const struct fixture *fx, const struct husk_landlock_result *res)
{
	CHECK(res->added == 0 && res->skipped == 0);
	CHECK(denied(open_ret("ro/a.txt", O_RDONLY)));
	CHECK(denied(open_ret("/", O_RDONLY | O_DIRECTORY)));
	CHECK(denied(open_ret("rw/new", O_WRONLY | O_CREAT)));
	CHECK(run_program("/usr/bin/true") == -EACCES);
	return NULL;
}

static const char *case_empty_grants_nothing(const struct fixture *fx, char *why, size_t size)
{
	const struct confined c = {NULL, 0, check_nothing};

	return run_confined(fx, &c, why, size);
}

/* The name of the abstract socket the parent of a child listens on. */
static socklen_t abstract_addr(struct sockaddr_un *sun, pid_t owner)
{
	int n;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	n = snprintf(sun->sun_path + 1, sizeof(sun->sun_path) - 1, "husk-landlock-%d", owner);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

static int connect_abstract(pid_t owner)
{
	struct sockaddr_un sun;
	socklen_t len = abstract_addr(&sun, owner);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), ret;

	if (fd < 0)
		return -errno;
	ret = connect(fd, (struct sockaddr *)&sun, len) ? -errno : 0;
	close(fd);
	return ret;
}

static const char *check_scopes(const struct fixture *fx, const struct husk_landlock_result *res)
{
	int status;
	pid_t inside;

	/* Outside the domain: the unconfined test process. */
	CHECK(kill(getppid(), 0) == -1 && errno == EPERM);
	CHECK(connect_abstract(getppid()) == -EPERM);
	/* Inside it: a child forked after the domain was made. */
	inside = fork();
	if (inside == 0) {
		pause();
		_exit(0);
	}
	CHECK(inside > 0);
	CHECK(kill(inside, SIGTERM) == 0);
	CHECK(waitpid(inside, &status, 0) == inside);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
	return NULL;
}

static const char *case_scopes(const struct fixture *fx, char *why, size_t size)
{
	static const struct rule_spec rules[] = {{HUSK_FS_READ, "ro"}};
	const struct confined c = {rules, ARRAY_SIZE(rules), check_scopes};
	struct sockaddr_un sun;
	socklen_t len = abstract_addr(&sun, getpid());
	const char *verdict;
	int fd;

	if (fx->abi < 6) {
		snprintf(why, size, "SKIP: Landlock ABI %d has no scopes (6 needed)", fx->abi);
		return NULL;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, len) || listen(fd, 4)) {
		if (fd >= 0)
			close(fd);
		return "listening on an abstract socket failed";
	}
	/* The same connection works unconfined, so EPERM below is Landlock's. */
	verdict = connect_abstract(getpid()) ? "connecting unconfined failed" : NULL;
	if (!verdict)
		verdict = run_confined(fx, &c, why, size);
	close(fd);
	return verdict;
}

/* A path that cannot be opened (not missing) fails the whole apply. */
static const char *as_nobody_main(const struct fixture *fx, const void *arg, char *why, size_t size)
{
	struct husk_landlock_result res;
	char rules[8192], path[PATH_MAX];
	size_t len = 0;
	int err;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		return "becoming nobody failed";
	snprintf(path, sizeof(path), "%s/private/inner", fx->root);
	CHECK(husk_fs_rule_append(rules, sizeof(rules), &len, HUSK_FS_READ, "/usr") == 0);
	CHECK(husk_fs_rule_append(rules, sizeof(rules), &len, HUSK_FS_READ, path) == 0);
	err = husk_landlock_apply(rules, len, &res);
	CHECK(err == -EACCES);
	CHECK(res.fail_path && res.fail_path_len == strlen(path));
	CHECK(memcmp(res.fail_path, path, strlen(path)) == 0);
	/* Nothing was enforced. */
	CHECK(opens("/etc/passwd", O_RDONLY));
	return NULL;
}

static const char *case_unreadable_path_fails(const struct fixture *fx, char *why, size_t size)
{
	return in_child(fx, NULL, as_nobody_main, why, size);
}

/* A malformed block: -EBADMSG from apply, and the caller stays free. */
static const char *bad_block_main(const struct fixture *fx, const void *arg, char *why, size_t size)
{
	struct husk_landlock_result res;
	char rules[64];
	size_t len = 0;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return "PR_SET_NO_NEW_PRIVS failed";
	CHECK(husk_fs_rule_append(rules, sizeof(rules), &len, HUSK_FS_READ, "/usr") == 0);
	memcpy(rules + len, "\x01\0\0\0\x04\0\0\0tmp/", 12); /* a relative path */
	CHECK(husk_landlock_apply(rules, len + 12, &res) == -EBADMSG);
	CHECK(opens("/etc/passwd", O_RDONLY));
	CHECK(opens("ro/a.txt", O_RDONLY));
	return NULL;
}

static const char *case_bad_block_applies_nothing(const struct fixture *fx, char *why, size_t size)
{
	return in_child(fx, NULL, bad_block_main, why, size);
}

/* One raw record: header, then exactly the bytes given (path and padding). */
static size_t raw_rule(char *buf, uint32_t access, uint32_t path_len, const char *bytes, size_t n)
{
	struct husk_fs_rule r = {.access = access, .path_len = path_len};

	memcpy(buf, &r, sizeof(r));
	memcpy(buf + sizeof(r), bytes, n);
	return sizeof(r) + n;
}

static const char *case_check_malformed(const struct fixture *fx, char *why, size_t size)
{
	char buf[64], big[sizeof(struct husk_fs_rule) + HUSK_FS_RULE_PATH_MAX + 1 + 4];
	size_t len;

	CHECK(husk_fs_rules_check(NULL, 0) == 0);
	len = raw_rule(buf, HUSK_FS_READ, 4, "/tmp", 4);
	CHECK(husk_fs_rules_check(buf, len) == 0);
	/* Valid, then the start of another header. */
	CHECK(husk_fs_rules_check(buf, len + 4) == -EBADMSG);
	CHECK(husk_fs_rules_check(buf, 4) == -EBADMSG);
	len = raw_rule(buf, HUSK_FS_READ, 3, "tmp\0", 4);
	CHECK(husk_fs_rules_check(buf, len) == -EBADMSG); /* relative */
	len = raw_rule(buf, HUSK_FS_READ, 0, "", 0);
	CHECK(husk_fs_rules_check(buf, len) == -EBADMSG); /* empty path */
	len = raw_rule(buf, HUSK_FS_READ, 4, "/a\0b", 4);
	CHECK(husk_fs_rules_check(buf, len) == -EBADMSG); /* NUL inside */
	len = raw_rule(buf, 0, 4, "/tmp", 4);
	CHECK(husk_fs_rules_check(buf, len) == -EBADMSG); /* no access */
	len = raw_rule(buf, HUSK_FS_READ | 0x8, 4, "/tmp", 4);
	CHECK(husk_fs_rules_check(buf, len) == -EBADMSG); /* unknown bit */
	len = raw_rule(buf, HUSK_FS_READ, 8, "/tmp", 4);
	CHECK(husk_fs_rules_check(buf, len) == -EBADMSG); /* path past the end */
	len = raw_rule(buf, HUSK_FS_READ, 3, "/ab", 3);
	CHECK(husk_fs_rules_check(buf, len) == -EBADMSG); /* padding missing */
	len = raw_rule(buf, HUSK_FS_READ, 3, "/abx", 4);
	CHECK(husk_fs_rules_check(buf, len) == -EBADMSG); /* padding not zero */
	len = raw_rule(buf, HUSK_FS_READ, 3, "/ab\0", 4);
	CHECK(husk_fs_rules_check(buf, len) == 0);
	/* The longest path, one byte of padding; one byte more leaves no room for a NUL. */
	memset(big, 'a', sizeof(big));
	big[8] = '/';
	big[8 + HUSK_FS_RULE_PATH_MAX] = '\0';
	raw_rule(big, HUSK_FS_READ, HUSK_FS_RULE_PATH_MAX, "", 0);
	CHECK(husk_fs_rules_check(big, 8 + HUSK_FS_RULE_PATH_MAX + 1) == 0);
	big[8 + HUSK_FS_RULE_PATH_MAX] = 'a';
	memset(big + 8 + HUSK_FS_RULE_PATH_MAX + 1, 0, 3);
	raw_rule(big, HUSK_FS_READ, HUSK_FS_RULE_PATH_MAX + 1, "", 0);
	CHECK(husk_fs_rules_check(big, 8 + HUSK_FS_RULE_PATH_MAX + 1 + 3) == -EBADMSG);
	return NULL;
}

static const char *case_encoder(const struct fixture *fx, char *why, size_t size)
{
	static const char expect[] = "\x03\0\0\0\x03\0\0\0/ab\0\x01\0\0\0\x04\0\0\0/usr";
	char buf[64];
	size_t off = 0;

	CHECK(husk_fs_rule_size(3) == 12 && husk_fs_rule_size(4) == 12);
	CHECK(husk_fs_rule_append(buf, sizeof(buf), &off, HUSK_FS_READ | HUSK_FS_WRITE, "/ab") ==
	      0);
	CHECK(husk_fs_rule_append(buf, sizeof(buf), &off, HUSK_FS_READ, "/usr") == 0);
	CHECK(off == 24 && memcmp(buf, expect, 24) == 0);
	CHECK(husk_fs_rules_check(buf, off) == 0);
	CHECK(husk_fs_rule_append(buf, sizeof(buf), &off, HUSK_FS_READ, "usr") == -EINVAL);
	CHECK(husk_fs_rule_append(buf, sizeof(buf), &off, 0, "/usr") == -EINVAL);
	CHECK(husk_fs_rule_append(buf, sizeof(buf), &off, 0x10, "/usr") == -EINVAL);
	CHECK(husk_fs_rule_append(buf, 30, &off, HUSK_FS_READ, "/usr") == -ENOSPC);
	CHECK(off == 24);
	return NULL;
}

static const struct {
	const char *name;
	const char *(*run)(const struct fixture *fx, char *why, size_t size);
} cases[] = {
    {"check_malformed", case_check_malformed},
    {"encoder", case_encoder},
    {"read", case_read},
    {"write", case_write},
    {"exec", case_exec},
    {"missing_path", case_missing_path},
    {"file_rule", case_file_rule},
    {"empty_grants_nothing", case_empty_grants_nothing},
    {"scopes", case_scopes},
    {"unreadable_path_fails", case_unreadable_path_fails},
    {"bad_block_applies_nothing", case_bad_block_applies_nothing},
};

int main(void)
{
	struct fixture fx = {0};
	size_t i, failed = 0;
	char why[256];
	int err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	fx.abi = husk_landlock_abi();
	if (fx.abi < 0) {
		printf("SKIP landlock_test: the kernel has no Landlock: %s\n", strerror(-fx.abi));
		return 0;
	}
	printf("Landlock ABI %d\n", fx.abi);
	err = fixture_make(&fx);
	if (err) {
		printf("FAIL making the fixture in %s: %s\n", fx.root, strerror(-err));
		fixture_remove(&fx);
		return 1;
	}
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *verdict;

		why[0] = '\0';
		verdict = cases[i].run(&fx, why, sizeof(why));
		if (verdict) {
			printf("FAIL %s: %s\n", cases[i].name, verdict);
			failed++;
		} else if (!strncmp(why, "SKIP", 4)) {
			printf("%s %s\n", cases[i].name, why);
		} else {
			printf("ok   %s\n", cases[i].name);
		}
	}
	fixture_remove(&fx);
	printf("%zu of %zu cases failed\n", failed, i);
	return failed ? 1 : 0;
}
