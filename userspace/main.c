// SPDX-License-Identifier: GPL-2.0
/*
 * huskd: the supervisor. Brings the parts up in dependency order, waits for
 * SIGTERM or SIGINT, and takes them down in reverse so that nothing is left
 * behind: environments (processes, cgroups) first, then the API, then the
 * cgroup parents and the store.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "cgroup.h"
#include "crypt.h"
#include "husk.h"
#include "jail.h"
#include "enforce.h"
#include "log.h"
#include "pool.h"
#include "registry.h"
#include "seccomp.h"
#include "store.h"

static int make_dir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) && errno != EEXIST) {
		pr_err("cannot create %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

/* husk-init lives next to huskd in the build tree, or in libexec when installed. */
static int open_init(struct husk_ctx *ctx)
{
	char self[PATH_MAX], path[PATH_MAX + 32];
	ssize_t n;

	if (!ctx->cfg.init_path) {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n < 0)
			return -errno;
		self[n] = '\0';
		snprintf(path, sizeof(path), "%s/husk-init", dirname(self));
		if (access(path, X_OK))
			snprintf(path, sizeof(path), "%s/../libexec/husk/husk-init", self);
		ctx->cfg.init_path = strdup(path);
	}
	ctx->init_fd = open(ctx->cfg.init_path, O_PATH | O_CLOEXEC);
	if (ctx->init_fd < 0) {
		pr_err("cannot open husk-init at %s: %s (use --init)", ctx->cfg.init_path,
		       strerror(errno));
		return -errno;
	}
	return 0;
}

/* Every environment holds a handful of descriptors in huskd. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int pin_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		pr_err("cannot pin to CPU %d: %s", cpu, strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * One huskd per run directory: a second one would take the first's
 * environments for leftovers of a crash and kill them. The lock dies with
 * the process, so a crash never leaves a stale lock.
 */
static int lock_run_dir(struct husk_ctx *ctx)
{
	char path[PATH_MAX], pid[32];
	int fd, n;

	snprintf(path, sizeof(path), "%s/huskd.pid", ctx->cfg.run_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		pr_err("cannot open %s: %s", path, strerror(errno));
		return -errno;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pr_err("another huskd (pid %s) runs with %s", strtok(pid, "\n") ?: "?",
		       ctx->cfg.run_dir);
		close(fd);
		return -EBUSY;
	}
	n = snprintf(pid, sizeof(pid), "%d\n", getpid());
	if (ftruncate(fd, 0) || pwrite(fd, pid, n, 0) != n)
		pr_warn("cannot write %s: %s", path, strerror(errno));
	ctx->lock_fd = fd;
	return 0;
}

static int open_state(struct husk_ctx *ctx)
{
	char path[PATH_MAX];
	int rc;

	rc = make_dir(ctx->cfg.state_dir, 0700);
	if (!rc)
		rc = make_dir(ctx->cfg.run_dir, 0755);
	if (!rc)
		rc = lock_run_dir(ctx);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "%s/code", ctx->cfg.run_dir);
	rc = make_dir(path, 0755);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "%s/code.key", ctx->cfg.state_dir);
	rc = husk_key_load(path, ctx->code_key);
	if (rc) {
		pr_err("cannot load the code key %s: %s", path, strerror(-rc));
		return rc;
	}
	rc = husk_store_open(ctx->cfg.state_dir, ctx->code_key, &ctx->store);
	if (rc)
		pr_err("cannot open the store in %s: %s", ctx->cfg.state_dir, strerror(-rc));
	return rc;
}

static int start_isolation(struct husk_ctx *ctx)
{
	char err[256];
	int rc;

	rc = husk_cgroups_init(ctx->cfg.cgroup_parent, &ctx->cgroups, err, sizeof(err));
	if (rc) {
		pr_err("cgroups: %s", err);
		return rc;
	}
	pr_info("cgroups: %s mode; %s", husk_cg_mode_name(husk_cgroups_mode(ctx->cgroups)),
		husk_cgroups_describe(ctx->cgroups));
	ctx->seccomp = calloc(1, sizeof(*ctx->seccomp));
	if (!ctx->seccomp)
		return -ENOMEM;
	rc = husk_seccomp_default(ctx->seccomp);
	if (rc) {
		pr_err("cannot compile the seccomp profile: %s", strerror(-rc));
		return rc;
	}
	rc = husk_enforce_load_dns(ctx);
	if (rc)
		return rc;
	rc = husk_jail_init(ctx, err, sizeof(err));
	if (rc) {
		pr_err("jail: %s", err);
		return rc;
	}
	return husk_enforce_start(ctx);
}

static void stop_isolation(struct husk_ctx *ctx)
{
	husk_enforce_stop(ctx);
	if (ctx->seccomp) {
		husk_filter_free(ctx->seccomp);
		free(ctx->seccomp);
	}
	if (ctx->cgroups)
		husk_cgroups_fini(ctx->cgroups);
	free(ctx->jail);
}

static int wait_for_signal(const sigset_t *set)
{
	struct signalfd_siginfo si;
	int fd = signalfd(-1, set, SFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (read(fd, &si, sizeof(si)) != sizeof(si) && errno == EINTR)
		;
	pr_info("%s: shutting down", strsignal(si.ssi_signo));
	close(fd);
	return 0;
}

static int run(struct husk_ctx *ctx)
{
	char err[256];
	sigset_t set;
	int rc;

	/* Block before any thread starts, so that every thread inherits it. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();

	rc = pin_cpu(ctx->cfg.cpu);
	if (!rc)
		rc = open_init(ctx);
	if (!rc)
		rc = open_state(ctx);
	if (!rc)
		rc = start_isolation(ctx);
	if (!rc)
		rc = husk_registry_open(ctx);
	if (!rc)
		rc = husk_pool_init(ctx);
	if (rc)
		goto out;
	rc = husk_api_start(ctx, err, sizeof(err));
	if (rc) {
		pr_err("API: %s", err);
		goto out;
	}
	pr_info("huskd %s ready: API on %s%s%s:%d", HUSK_VERSION,
		*ctx->cfg.socket_path ? ctx->cfg.socket_path : "", *ctx->cfg.socket_path ? " and " : "",
		ctx->cfg.listen_port ? ctx->cfg.listen_host : "(no TCP)", ctx->cfg.listen_port);
	rc = wait_for_signal(&set);
out:
	/*
	 * Environments first: no new ones, the busy ones are killed so that
	 * in-flight invocations end; then the API threads finish.
	 */
	husk_pool_stop(ctx);
	husk_api_stop(ctx);
	husk_pool_fini(ctx);
	if (ctx->registry)
		husk_registry_close(ctx);
	stop_isolation(ctx);
	if (ctx->store)
		husk_store_close(ctx->store);
	if (ctx->init_fd >= 0)
		close(ctx->init_fd);
	if (ctx->lock_fd >= 0)
		close(ctx->lock_fd);
	return rc;
}

int main(int argc, char **argv)
{
	struct husk_ctx ctx = { .init_fd = -1, .lock_fd = -1 };
	int rc;

	husk_config_defaults(&ctx.cfg);
	rc = husk_config_parse_args(&ctx.cfg, argc, argv);
	if (rc)
		return rc > 0 ? 0 : 2;
	if (geteuid() != 0) {
		fprintf(stderr, "huskd: must run as root (it creates namespaces and cgroups)\n");
		return 1;
	}
	rc = run(&ctx);
	pr_info("huskd stopped");
	return rc ? 1 : 0;
}
