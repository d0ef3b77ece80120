// SPDX-License-Identifier: GPL-2.0
/*
 * Launching the function's runtime: fork, shed every privilege husk-init has
 * in its user namespace, and exec the bootstrap with exactly the environment
 * huskd sent. The child reports a failure through a close-on-exec pipe, so
 * husk-init knows before it goes on whether the bootstrap is running.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "guest-init/init.h"
#include "guest-init/landlock.h"

#define TASK_ROOT "/var/task"

static const char *const bootstrap_paths[] = {TASK_ROOT "/bootstrap", "/opt/bootstrap"};
#define NR_BOOTSTRAPS (sizeof(bootstrap_paths) / sizeof(bootstrap_paths[0]))

/* What SPAWN asks for, pointing into its payload. */
struct spawn_req {
	struct husk_spawn hdr;
	struct sock_fprog filter;
	char **envp;	     /* malloc'd array, NULL terminated */
	const char *fsrules; /* hdr.fsrules_len bytes of file rules */
};

static const char *const step_names[] = {
    [HUSK_LAUNCH_OK] = "ok",
    [HUSK_LAUNCH_MOUNT_CODE] = "attaching the code at " TASK_ROOT,
    [HUSK_LAUNCH_MOUNT_TMP] = "mounting /tmp",
    [HUSK_LAUNCH_PIPE] = "pipe2",
    [HUSK_LAUNCH_FORK] = "fork",
    [HUSK_LAUNCH_SIGNALS] = "resetting signals",
    [HUSK_LAUNCH_SETSID] = "setsid",
    [HUSK_LAUNCH_PDEATHSIG] = "PR_SET_PDEATHSIG",
    [HUSK_LAUNCH_CAPBSET] = "PR_CAPBSET_DROP",
    [HUSK_LAUNCH_SETGROUPS] = "setgroups",
    [HUSK_LAUNCH_SETRESGID] = "setresgid",
    [HUSK_LAUNCH_SETRESUID] = "setresuid",
    [HUSK_LAUNCH_AMBIENT] = "PR_CAP_AMBIENT_CLEAR_ALL",
    [HUSK_LAUNCH_NO_NEW_PRIVS] = "PR_SET_NO_NEW_PRIVS",
    [HUSK_LAUNCH_LANDLOCK] = "applying the Landlock file rules",
    [HUSK_LAUNCH_NOFILE] = "setrlimit(RLIMIT_NOFILE)",
    [HUSK_LAUNCH_NPROC] = "setrlimit(RLIMIT_NPROC)",
    [HUSK_LAUNCH_CHDIR] = "chdir(" TASK_ROOT ")",
    [HUSK_LAUNCH_CLOSE_FDS] = "close_range",
    [HUSK_LAUNCH_SECCOMP] = "installing the seccomp filter",
    [HUSK_LAUNCH_EXEC] = "execve",
    [HUSK_LAUNCH_NO_BOOTSTRAP] = "finding the bootstrap",
};

static const char *step_name(int32_t step)
{
	if (step < 0 || (size_t)step >= sizeof(step_names) / sizeof(step_names[0]))
		return "launch";
	return step_names[step];
}

/* Split the env block into "KEY=VALUE" pointers; it must end with a NUL. */
static int parse_env(const char *env, size_t len, char ***envp)
{
	size_t n = 0, i, off;
	char **v;

	if (len && env[len - 1] != '\0')
		return -EBADMSG;
	for (i = 0; i < len; i++)
		n += env[i] == '\0';
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0, off = 0; i < n; i++) {
		v[i] = (char *)env + off;
		off += strlen(v[i]) + 1;
	}
	*envp = v;
	return 0;
}

static int parse_spawn(const char *payload, size_t len, struct spawn_req *req)
{
	struct husk_cursor c = {.p = payload, .left = len};
	const char *filter, *env;
	int err;

	err = husk_cursor_take(&c, &req->hdr, sizeof(req->hdr));
	if (err)
		return err;
	if (req->hdr.filter_len > BPF_MAXINSNS)
		return -EBADMSG;
	err =
	    husk_cursor_span(&c, (size_t)req->hdr.filter_len * sizeof(struct sock_filter), &filter);
	if (err)
		return err;
	err = husk_cursor_span(&c, req->hdr.env_len, &env);
	if (err)
		return err;
	err = husk_cursor_span(&c, req->hdr.fsrules_len, &req->fsrules);
	if (err)
		return err;
	if (c.left)
		return -EBADMSG;
	/* Checked even without HUSK_SPAWN_LANDLOCK: a bad block is a bad SPAWN. */
	err = husk_fs_rules_check(req->fsrules, req->hdr.fsrules_len);
	if (err)
		return err;
	/* The kernel copies the program in; it only needs to stay readable. */
	req->filter.len = (unsigned short)req->hdr.filter_len;
	req->filter.filter = (struct sock_filter *)filter;
	return parse_env(env, req->hdr.env_len, &req->envp);
}

/* Drop every capability from the bounding set: up to the first EINVAL. */
static int drop_bounding_set(void)
{
	unsigned long cap;

	for (cap = 0;; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
			continue;
		return errno == EINVAL && cap > 0 ? 0 : -errno;
	}
}

static int reset_signals(void)
{
	sigset_t none;
	int sig;

	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL))
		return -errno;
	for (sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		/* glibc refuses the two real-time signals it keeps for itself. */
		signal(sig, SIG_DFL);
	}
	return 0;
}

static int set_limit(int resource, uint32_t value)
{
	struct rlimit rl = {.rlim_cur = value, .rlim_max = value};

	return setrlimit(resource, &rl) ? -errno : 0;
}

/*
 * Landlock needs no_new_privs once the capabilities are gone. The rule paths
 * resolve as the runtime's user, with /var/task and /tmp already mounted.
 */
static int confine_files(const struct spawn_req *req)
{
	struct husk_landlock_result res;
	int err;

	err = husk_landlock_apply(req->fsrules, req->hdr.fsrules_len, &res);
	if (err && res.fail_path)
		pr_init_err("Landlock file rule %.*s: %s", (int)res.fail_path_len, res.fail_path,
			    strerror(-err));
	else if (!err && res.skipped)
		pr_init_err("Landlock: %u of %u file rules skipped: their paths do not exist",
			    res.skipped, res.added + res.skipped);
	return err;
}

/*
 * Everything between fork and exec, in the order that keeps it possible:
 * credentials while husk-init's capabilities still allow changing them,
 * no_new_privs before Landlock and seccomp (both need it without
 * capabilities), seccomp last so the filter need not allow the set-up itself.
 */
static int become_runtime(const struct spawn_req *req, struct husk_launch_error *fail)
{
	const struct husk_spawn *s = &req->hdr;

#define SYS(call) ((call) < 0 ? -errno : 0)
#define STEP(id, expr)                                                                             \
	do {                                                                                       \
		int err_ = (expr);                                                                 \
		if (err_) {                                                                        \
			fail->step = (id);                                                         \
			fail->err = -err_;                                                         \
			return err_;                                                               \
		}                                                                                  \
	} while (0)

	STEP(HUSK_LAUNCH_SIGNALS, reset_signals());
	STEP(HUSK_LAUNCH_SETSID, SYS(setsid()));
	STEP(HUSK_LAUNCH_PDEATHSIG, SYS(prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)));
	STEP(HUSK_LAUNCH_CAPBSET, drop_bounding_set());
	STEP(HUSK_LAUNCH_SETGROUPS, SYS(setgroups(0, NULL)));
	STEP(HUSK_LAUNCH_SETRESGID, SYS(setresgid(s->gid, s->gid, s->gid)));
	STEP(HUSK_LAUNCH_SETRESUID, SYS(setresuid(s->uid, s->uid, s->uid)));
	STEP(HUSK_LAUNCH_AMBIENT, SYS(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)));
	STEP(HUSK_LAUNCH_NO_NEW_PRIVS, SYS(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)));
	if (s->flags & HUSK_SPAWN_LANDLOCK)
		STEP(HUSK_LAUNCH_LANDLOCK, confine_files(req));
	/* 0 would leave the runtime unable to open anything: treat it as unset. */
	if (s->nofile)
		STEP(HUSK_LAUNCH_NOFILE, set_limit(RLIMIT_NOFILE, s->nofile));
	if (s->nproc)
		STEP(HUSK_LAUNCH_NPROC, set_limit(RLIMIT_NPROC, s->nproc));
	STEP(HUSK_LAUNCH_CHDIR, SYS(chdir(TASK_ROOT)));
	/* Close-on-exec rather than close: the report pipe must live until exec. */
	STEP(HUSK_LAUNCH_CLOSE_FDS, SYS(close_range(3, ~0U, CLOSE_RANGE_CLOEXEC)));
	if (s->filter_len)
		STEP(HUSK_LAUNCH_SECCOMP,
		     SYS(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &req->filter, 0, 0)));
#undef STEP
#undef SYS
	return 0;
}

/* exec the first bootstrap that exists; returns only on failure. */
static void exec_bootstrap(char **envp, struct husk_launch_error *fail)
{
	size_t i;

	for (i = 0; i < NR_BOOTSTRAPS; i++) {
		const char *path = bootstrap_paths[i];
		char *argv[] = {(char *)path, NULL};

		execve(path, argv, envp);
		fail->err = errno;
		/* ENOENT also means a missing ELF interpreter: only skip absent files. */
		if (fail->err != ENOENT || access(path, F_OK) == 0) {
			fail->step = HUSK_LAUNCH_EXEC;
			fail->path = (int32_t)i;
			return;
		}
	}
	fail->step = HUSK_LAUNCH_NO_BOOTSTRAP;
}

static void __attribute__((noreturn)) child_main(const struct spawn_req *req, int report_fd)
{
	struct husk_launch_error fail = {0};
	ssize_t n;

	if (become_runtime(req, &fail) == 0)
		exec_bootstrap(req->envp, &fail);
	do {
		n = write(report_fd, &fail, sizeof(fail));
	} while (n < 0 && errno == EINTR);
	_exit(127);
}

/* The child's report: nothing (EOF at exec) or one struct husk_launch_error. */
static int read_report(int fd, struct husk_launch_error *fail)
{
	ssize_t n;

	do {
		n = read(fd, fail, sizeof(*fail));
	} while (n < 0 && errno == EINTR);
	if (n == 0)
		return 0;
	if (n != (ssize_t)sizeof(*fail)) {
		fail->step = HUSK_LAUNCH_PIPE;
		fail->err = n < 0 ? errno : EPROTO;
	}
	return -(fail->err ? fail->err : EIO);
}

int husk_runtime_launch(const char *spawn, size_t len, pid_t *pid, struct husk_launch_error *fail)
{
	struct spawn_req req = {0};
	int report[2], err;
	pid_t child;

	*pid = 0;
	*fail = (struct husk_launch_error){0};
	err = parse_spawn(spawn, len, &req);
	if (err)
		return err;

	if (pipe2(report, O_CLOEXEC)) {
		err = -errno;
		fail->step = HUSK_LAUNCH_PIPE;
		goto out;
	}
	child = fork();
	if (child < 0) {
		err = -errno;
		fail->step = HUSK_LAUNCH_FORK;
		close(report[0]);
		close(report[1]);
		goto out;
	}
	if (child == 0) {
		close(report[0]);
		child_main(&req, report[1]);
	}
	*pid = child;
	close(report[1]);
	err = read_report(report[0], fail);
	close(report[0]);
out:
	if (err && !fail->err)
		fail->err = -err;
	free(req.envp);
	return err;
}

const char *husk_launch_error_type(const struct husk_launch_error *fail)
{
	if (fail->step == HUSK_LAUNCH_EXEC || fail->step == HUSK_LAUNCH_NO_BOOTSTRAP)
		return "Runtime.InvalidEntrypoint";
	return "Runtime.Unknown";
}

int husk_launch_error_str(const struct husk_launch_error *fail, char *buf, size_t size)
{
	if (fail->step == HUSK_LAUNCH_NO_BOOTSTRAP)
		return snprintf(buf, size, "Couldn't find valid bootstrap(s): [%s %s]",
				bootstrap_paths[0], bootstrap_paths[1]);
	if (fail->step == HUSK_LAUNCH_EXEC)
		return snprintf(buf, size, "exec %s: %s", bootstrap_paths[fail->path],
				strerror(fail->err));
	return snprintf(buf, size, "starting the runtime: %s: %s", step_name(fail->step),
			strerror(fail->err));
}

/*
 * The message holds only our paths, step names and strerror() text, none of
 * which contain a quote or a backslash, so it needs no JSON escaping.
 */
int husk_launch_error_json(const struct husk_launch_error *fail, char *buf, size_t size)
{
	char msg[256];

	husk_launch_error_str(fail, msg, sizeof(msg));
	return snprintf(buf, size, "{\"errorMessage\":\"%s\",\"errorType\":\"%s\"}", msg,
			husk_launch_error_type(fail));
}
