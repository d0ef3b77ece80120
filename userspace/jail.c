// SPDX-License-Identifier: GPL-2.0
/*
 * The jail backend (see jail.h). The root of every environment is a small
 * tmpfs that holds mount points, a few generated files under /etc and
 * symbolic links, with the host's /usr bound read-only, /proc of its pid
 * namespace and a /dev with five character devices. Nothing in it belongs
 * to a function yet: environments are made ahead of demand, and husk-init
 * mounts the function's code (/var/task) and /tmp when SPAWN names it.
 * Everything is built in the environment's own mount namespace, so the
 * host's mount table never changes and nothing needs to be unmounted when
 * the environment goes away.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest-init/protocol.h"
#include "jail.h"
#include "log.h"

#define JAIL_ENTRIES_MAX 32

enum jail_entry_kind {
	JAIL_DIR,	/* mkdir */
	JAIL_LINK,	/* symlink to text */
	JAIL_FILE,	/* a file holding text */
	JAIL_BIND_DIR,	/* bind host directory src read-only */
	JAIL_BIND_FILE, /* bind host file src read-only */
};

struct jail_entry {
	enum jail_entry_kind kind;
	char path[PATH_MAX];	/* absolute, below the root mount point */
	char src[PATH_MAX];	/* host path of a bind, or a link's target */
	const char *text;	/* link target or file contents */
	unsigned long flags;	/* flags of a bind's read-only remount */
};

struct husk_jail {
	char root[256];		/* where the child mounts its new root */
	/* Built before /dev and /proc are mounted. */
	struct jail_entry root_entries[JAIL_ENTRIES_MAX];
	unsigned n_root;
	/* Built inside the /dev tmpfs. */
	struct jail_entry dev_entries[JAIL_ENTRIES_MAX];
	unsigned n_dev;
	char dev[300], proc[300];
	char resolv_conf[128]; /* huskd's DNS servers (reachable with Policy Dns) */
};

/*
 * A function sees itself as Lambda's sbx_user1051; root is husk-init.
 * nsswitch.conf keeps glibc from looking for NSS modules beyond files.
 */
static const char etc_passwd[] =
	"root:x:0:0:root:/root:/usr/sbin/nologin\n"
	"sbx_user1051:x:993:990::/tmp:/usr/sbin/nologin\n"
	"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
static const char etc_group[] = "root:x:0:\nsbx_user1051:x:990:\nnogroup:x:65534:\n";
static const char etc_hosts[] = "127.0.0.1\tlocalhost\n::1\tlocalhost\n";
static const char etc_nsswitch[] = "passwd: files\ngroup: files\nhosts: files dns\n";

static const char *const dev_nodes[] = { "null", "zero", "full", "random", "urandom" };

/* The mount flags a bind inside a user namespace must keep (they are locked). */
static unsigned long locked_flags(const char *path)
{
	struct statvfs sv;
	unsigned long f = 0;

	if (statvfs(path, &sv))
		return 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

/*
 * Binds below the root get nodev; the five device binds in /dev must not,
 * or opening them fails.
 */
static int add_entry(struct jail_entry *tab, unsigned *n, enum jail_entry_kind kind,
		     const char *base, const char *rel, const char *src, const char *text)
{
	bool dev = !strncmp(rel, "/dev/", 5) || (src && !strncmp(src, "/dev/", 5));
	struct jail_entry *e;

	if (*n >= JAIL_ENTRIES_MAX)
		return -ENOSPC;
	e = &tab[(*n)++];
	e->kind = kind;
	if (snprintf(e->path, sizeof(e->path), "%s/%s", base, rel) >= (int)sizeof(e->path))
		return -ENAMETOOLONG;
	if (src) {
		if (snprintf(e->src, sizeof(e->src), "%s", src) >= (int)sizeof(e->src))
			return -ENAMETOOLONG;
		e->flags = locked_flags(src) | MS_NOSUID | (dev ? 0 : MS_NODEV);
	}
	e->text = text;
	if (kind == JAIL_LINK) {
		/* Keep a copy: a target read from the host is on the caller's stack. */
		if (snprintf(e->src, sizeof(e->src), "%s", text) >= (int)sizeof(e->src))
			return -ENAMETOOLONG;
		e->text = e->src;
	}
	return 0;
}

/*
 * The top-level directories of the runtime: on a merged-/usr host (Debian
 * 12) /bin, /lib and friends are links into /usr and are recreated as such;
 * elsewhere they are bound read-only like /usr.
 */
static int add_toplevel(struct husk_jail *j, const char *name)
{
	char host[64], target[PATH_MAX];
	struct stat st;
	ssize_t n;

	snprintf(host, sizeof(host), "/%s", name);
	if (lstat(host, &st))
		return 0;
	if (S_ISLNK(st.st_mode)) {
		n = readlink(host, target, sizeof(target) - 1);
		if (n < 0)
			return -errno;
		target[n] = '\0';
		return add_entry(j->root_entries, &j->n_root, JAIL_LINK, j->root, name, NULL,
				 target);
	}
	if (S_ISDIR(st.st_mode))
		return add_entry(j->root_entries, &j->n_root, JAIL_BIND_DIR, j->root, name, host,
				 NULL);
	return 0;
}

static int add_host_etc(struct husk_jail *j, const char *rel)
{
	char host[PATH_MAX];
	struct stat st;

	snprintf(host, sizeof(host), "/%s", rel);
	if (stat(host, &st))
		return 0; /* optional: the runtime works without it */
	return add_entry(j->root_entries, &j->n_root,
			 S_ISDIR(st.st_mode) ? JAIL_BIND_DIR : JAIL_BIND_FILE, j->root, rel, host,
			 NULL);
}

static int build_root_entries(struct husk_jail *j)
{
	static const char *const dirs[] = { "etc", "var", "var/task", "var/runtime", "opt",
					     "tmp", "proc", "dev", "usr" };
	static const char *const toplevel[] = { "bin", "sbin", "lib", "lib32", "lib64",
						"libx32" };
	static const char *const host_etc[] = { "etc/ld.so.cache", "etc/ssl",
						"etc/alternatives", "etc/ca-certificates" };
	struct jail_entry *tab = j->root_entries;
	unsigned i;
	int err = 0;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && !err; i++)
		err = add_entry(tab, &j->n_root, JAIL_DIR, j->root, dirs[i], NULL, NULL);
	if (!err)
		err = add_entry(tab, &j->n_root, JAIL_BIND_DIR, j->root, "usr", "/usr", NULL);
	for (i = 0; i < sizeof(toplevel) / sizeof(toplevel[0]) && !err; i++)
		err = add_toplevel(j, toplevel[i]);
	if (!err)
		err = add_entry(tab, &j->n_root, JAIL_FILE, j->root, "etc/passwd", NULL,
				etc_passwd);
	if (!err)
		err = add_entry(tab, &j->n_root, JAIL_FILE, j->root, "etc/group", NULL, etc_group);
	if (!err)
		err = add_entry(tab, &j->n_root, JAIL_FILE, j->root, "etc/hosts", NULL, etc_hosts);
	if (!err)
		err = add_entry(tab, &j->n_root, JAIL_FILE, j->root, "etc/nsswitch.conf", NULL,
				etc_nsswitch);
	if (!err)
		err = add_entry(tab, &j->n_root, JAIL_FILE, j->root, "etc/resolv.conf", NULL,
				j->resolv_conf);
	for (i = 0; i < sizeof(host_etc) / sizeof(host_etc[0]) && !err; i++)
		err = add_host_etc(j, host_etc[i]);
	return err;
}

static int build_dev_entries(struct husk_jail *j)
{
	static const char *const links[][2] = { { "fd", "/proc/self/fd" },
						{ "stdin", "/proc/self/fd/0" },
						{ "stdout", "/proc/self/fd/1" },
						{ "stderr", "/proc/self/fd/2" } };
	char host[64];
	unsigned i;
	int err = 0;

	for (i = 0; i < sizeof(dev_nodes) / sizeof(dev_nodes[0]) && !err; i++) {
		snprintf(host, sizeof(host), "/dev/%s", dev_nodes[i]);
		err = add_entry(j->dev_entries, &j->n_dev, JAIL_BIND_FILE, j->dev, dev_nodes[i],
				host, NULL);
	}
	for (i = 0; i < sizeof(links) / sizeof(links[0]) && !err; i++)
		err = add_entry(j->dev_entries, &j->n_dev, JAIL_LINK, j->dev, links[i][0], NULL,
				links[i][1]);
	return err;
}

/*
 * The jail child builds its root as the unprivileged host uid of its user
 * namespace, so it must be able to walk to the run directory: every
 * directory on the way needs the execute bit for others.
 */
static int check_searchable(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	size_t i, n = strlen(dir);
	struct stat st;

	if (n >= sizeof(path))
		return -ENAMETOOLONG;
	for (i = 1; i <= n; i++) {
		if (dir[i] != '/' && dir[i] != '\0')
			continue;
		memcpy(path, dir, i);
		path[i] = '\0';
		if (stat(path, &st)) {
			snprintf(err, errlen, "cannot stat %s: %s", path, strerror(errno));
			return -errno;
		}
		if (!(st.st_mode & S_IXOTH)) {
			snprintf(err, errlen,
				 "%s (mode %04o) is not searchable by others: environments "
				 "cannot reach the run directory %s",
				 path, st.st_mode & 07777, dir);
			return -EACCES;
		}
	}
	return 0;
}

/* nameserver lines for huskd's DNS servers; reachable only where a policy has Dns. */
static void format_resolv_conf(const struct husk_ctx *ctx, struct husk_jail *j)
{
	char addr[INET_ADDRSTRLEN];
	size_t i, off = 0;

	for (i = 0; i < ctx->n_dns; i++) {
		inet_ntop(AF_INET, &ctx->dns[i], addr, sizeof(addr));
		off += snprintf(j->resolv_conf + off, sizeof(j->resolv_conf) - off,
				"nameserver %s\n", addr);
		if (off >= sizeof(j->resolv_conf))
			break;
	}
}

int husk_jail_init(struct husk_ctx *ctx, char *err, size_t errlen)
{
	struct husk_jail *j;
	int rc;

	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	if (snprintf(j->root, sizeof(j->root), "%s/root", ctx->cfg.run_dir) >= (int)sizeof(j->root)) {
		snprintf(err, errlen, "run directory path too long: %s", ctx->cfg.run_dir);
		free(j);
		return -ENAMETOOLONG;
	}
	if (mkdir(j->root, 0755) && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "cannot create %s: %s", j->root, strerror(errno));
		free(j);
		return rc;
	}
	rc = check_searchable(j->root, err, errlen);
	if (rc) {
		free(j);
		return rc;
	}
	rc = 0;
	if (snprintf(j->dev, sizeof(j->dev), "%s/dev", j->root) >= (int)sizeof(j->dev) ||
	    snprintf(j->proc, sizeof(j->proc), "%s/proc", j->root) >= (int)sizeof(j->proc))
		rc = -ENAMETOOLONG;
	if (!rc)
		format_resolv_conf(ctx, j);
	if (!rc)
		rc = build_root_entries(j);
	if (!rc)
		rc = build_dev_entries(j);
	if (rc) {
		snprintf(err, errlen, "cannot describe the jail root: %s", strerror(-rc));
		free(j);
		return rc;
	}
	ctx->jail = j;
	return 0;
}

/*
 * What the child needs beyond the shared host facts, formatted by the
 * parent because the child must not call into libc's allocator.
 */
struct jail_child_args {
	const struct husk_jail *jail;
	const struct husk_jail_args *args;
	int go_rd, err_wr, init_fd;
};

static void __attribute__((noreturn)) child_fail(const struct jail_child_args *c, const char *step,
						 const char *what)
{
	struct husk_jail_error rec = { .err = errno };
	size_t n = strlen(step), m = what ? strlen(what) : 0;

	if (n > sizeof(rec.step) - 1)
		n = sizeof(rec.step) - 1;
	memcpy(rec.step, step, n);
	if (m && n + 1 + m < sizeof(rec.step)) {
		rec.step[n] = ' ';
		memcpy(rec.step + n + 1, what, m);
	}
	if (write(c->err_wr, &rec, sizeof(rec)) < 0)
		_exit(126);
	_exit(125);
}

static void child_bind(const struct jail_child_args *c, const struct jail_entry *e)
{
	unsigned long ro = MS_REMOUNT | MS_BIND | MS_RDONLY | e->flags;
	int fd;

	if (e->kind == JAIL_BIND_FILE) {
		fd = open(e->path, O_CREAT | O_WRONLY | O_CLOEXEC, 0444);
		if (fd < 0)
			child_fail(c, "create mount point", e->path);
		close(fd);
	} else if (mkdir(e->path, 0755) && errno != EEXIST) {
		child_fail(c, "create mount point", e->path);
	}
	if (mount(e->src, e->path, NULL, MS_BIND | MS_REC, NULL))
		child_fail(c, "bind", e->src);
	if (mount(NULL, e->path, NULL, ro, NULL))
		child_fail(c, "remount read-only", e->src);
}

static void child_entries(const struct jail_child_args *c, const struct jail_entry *tab,
			  unsigned n)
{
	const struct jail_entry *e;
	size_t len;
	int fd;

	for (e = tab; e < tab + n; e++) {
		switch (e->kind) {
		case JAIL_DIR:
			if (mkdir(e->path, 0755) && errno != EEXIST)
				child_fail(c, "mkdir", e->path);
			break;
		case JAIL_LINK:
			if (symlink(e->text, e->path))
				child_fail(c, "symlink", e->path);
			break;
		case JAIL_FILE:
			fd = open(e->path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0444);
			len = strlen(e->text);
			if (fd < 0 || write(fd, e->text, len) != (ssize_t)len)
				child_fail(c, "write", e->path);
			close(fd);
			break;
		case JAIL_BIND_DIR:
		case JAIL_BIND_FILE:
			child_bind(c, e);
			break;
		}
	}
}

static void child_mount_root(const struct jail_child_args *c)
{
	const struct husk_jail *j = c->jail;

	/* Nothing done here may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		child_fail(c, "make mounts private", NULL);
	if (mount("tmpfs", j->root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755"))
		child_fail(c, "mount root tmpfs at", j->root);
	child_entries(c, j->root_entries, j->n_root);

	if (mount("tmpfs", j->dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,mode=0755"))
		child_fail(c, "mount /dev", NULL);
	child_entries(c, j->dev_entries, j->n_dev);
	if (mount(NULL, j->dev, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC,
		  "size=64k,mode=0755"))
		child_fail(c, "remount /dev read-only", NULL);

	/*
	 * proc must be mounted while the host's proc is still visible in this
	 * mount namespace (the kernel refuses a proc mount in a user namespace
	 * otherwise), and by the new pid namespace's init, which we are.
	 * hidepid hides husk-init from the runtime, which runs as another user.
	 */
	if (mount("proc", j->proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=invisible"))
		child_fail(c, "mount /proc", NULL);

	if (chdir(j->root))
		child_fail(c, "chdir to new root", NULL);
	/* pivot_root(".", ".") stacks the old root on the new one; detach it. */
	if (syscall(SYS_pivot_root, ".", "."))
		child_fail(c, "pivot_root", NULL);
	if (umount2(".", MNT_DETACH))
		child_fail(c, "detach old root", NULL);
	if (chdir("/"))
		child_fail(c, "chdir /", NULL);
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL))
		child_fail(c, "remount root read-only", NULL);
}

/* fd 0 /dev/null, 1 and 2 the log pipe, 3 the channel, nothing else. */
static int child_fds(struct jail_child_args *c)
{
	int chan, log, init, null, errw;

	chan = fcntl(c->args->chan_fd, F_DUPFD, 10);
	log = fcntl(c->args->log_fd, F_DUPFD, 10);
	init = fcntl(c->init_fd, F_DUPFD_CLOEXEC, 10);
	errw = fcntl(c->err_wr, F_DUPFD_CLOEXEC, 10);
	null = open("/dev/null", O_RDWR);
	if (chan < 0 || log < 0 || init < 0 || null < 0 || errw < 0)
		child_fail(c, "duplicate descriptors", NULL);
	c->err_wr = errw;
	if (dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0 ||
	    dup2(chan, HUSK_CHANNEL_FD) < 0 || dup2(init, 4) < 0)
		child_fail(c, "arrange descriptors", NULL);
	if (fcntl(4, F_SETFD, FD_CLOEXEC))
		child_fail(c, "arrange descriptors", NULL);
	/* The error pipe must survive until exec; it is close-on-exec. */
	if (dup2(errw, 5) < 0 || fcntl(5, F_SETFD, FD_CLOEXEC))
		child_fail(c, "arrange descriptors", NULL);
	c->err_wr = 5;
	/* Every other descriptor of huskd: listening sockets, other channels. */
	if (syscall(SYS_close_range, 6, ~0u, 0))
		child_fail(c, "close descriptors", NULL);
	return 4;
}

static void __attribute__((noreturn)) jail_child(struct jail_child_args *c)
{
	static char *const argv[] = { "husk-init", NULL };
	static char *const envp[] = { "PATH=/usr/bin:/bin", NULL };
	char go;
	int init;

	if (read(c->go_rd, &go, 1) != 1)
		child_fail(c, "wait for huskd", NULL);
	/* The maps are written: become root of the new user namespace. */
	if (syscall(SYS_setresgid, 0, 0, 0) || syscall(SYS_setresuid, 0, 0, 0))
		child_fail(c, "become namespace root", NULL);
	if (c->args->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(c->args->cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			child_fail(c, "pin CPU", NULL);
	}
	/* Now in every cgroup (huskd placed us): make them our root. */
	if (unshare(CLONE_NEWCGROUP))
		child_fail(c, "cgroup namespace", NULL);
	child_mount_root(c);
	if (sethostname("husk", 4))
		child_fail(c, "sethostname", NULL);
	init = child_fds(c);
	syscall(SYS_execveat, init, "", argv, envp, AT_EMPTY_PATH);
	child_fail(c, "exec husk-init", NULL);
}

static int write_map(pid_t pid, const char *file, const char *map)
{
	char path[64];
	ssize_t len = strlen(map);
	int fd, rc = 0;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, map, len) != len)
		rc = -errno;
	close(fd);
	return rc;
}

int husk_jail_spawn(struct husk_ctx *ctx, const struct husk_jail_args *args,
		    struct husk_jail_proc *proc)
{
	struct jail_child_args c = { .jail = ctx->jail, .args = args, .init_fd = ctx->init_fd };
	struct clone_args ca = { 0 };
	unsigned base = HUSK_UID_BASE + args->uid_slot * HUSK_UID_RANGE;
	int go[2], errp[2], pidfd = -1, rc;
	char map[64];
	pid_t pid;

	if (pipe2(go, O_CLOEXEC))
		return -errno;
	if (pipe2(errp, O_CLOEXEC)) {
		rc = -errno;
		goto close_go;
	}
	c.go_rd = go[0];
	c.err_wr = errp[1];

	ca.flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC |
		   CLONE_NEWUTS | CLONE_PIDFD;
	if (args->cgroup_fd >= 0) {
		ca.flags |= CLONE_INTO_CGROUP;
		ca.cgroup = args->cgroup_fd;
	}
	ca.pidfd = (uintptr_t)&pidfd;
	ca.exit_signal = SIGCHLD;
	pid = syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid < 0) {
		rc = -errno;
		goto close_err;
	}
	if (pid == 0)
		jail_child(&c);

	close(go[0]);
	close(errp[1]);
	proc->pid = pid;
	proc->pidfd = pidfd;
	proc->err_fd = errp[0];
	proc->go_fd = go[1];
	snprintf(map, sizeof(map), "0 %u %u\n", base, HUSK_UID_RANGE);
	rc = write_map(pid, "uid_map", map);
	if (!rc)
		rc = write_map(pid, "gid_map", map);
	return rc; /* on error the caller kills and reaps through proc */

close_err:
	close(errp[0]);
	close(errp[1]);
close_go:
	close(go[0]);
	close(go[1]);
	return rc;
}

int husk_jail_release(struct husk_jail_proc *proc)
{
	char go = 1;
	int rc = 0;

	if (write(proc->go_fd, &go, 1) != 1)
		rc = -errno;
	close(proc->go_fd);
	proc->go_fd = -1;
	return rc;
}
