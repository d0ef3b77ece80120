// SPDX-License-Identifier: GPL-2.0
/*
 * Execution environments: the cgroup, the jail, the channel and the log
 * pipe of one husk-init, and the SPAWN message that starts its runtime.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bpf.h"
#include "cgroup.h"
#include "egress.h"
#include "env.h"
#include "guest-init/protocol.h"
#include "jail.h"
#include "log.h"
#include "policy.h"
#include "seccomp.h"
#include "telemetry.h"

/* Lambda gives a function one vCPU at 1769 MB; weight follows memory. */
static uint32_t cpu_weight_for(unsigned memory_mb)
{
	uint32_t w = memory_mb * 100 / 1769;

	return w < 1 ? 1 : (w > 10000 ? 10000 : w);
}

struct env_block {
	char *buf;
	size_t len, cap;
	int err;
};

static void env_add(struct env_block *b, const char *key, const char *value)
{
	size_t need = strlen(key) + strlen(value) + 2;
	char *p;

	if (b->err)
		return;
	if (b->len + need > b->cap) {
		size_t cap = (b->cap + need) * 2;

		p = realloc(b->buf, cap);
		if (!p) {
			b->err = -ENOMEM;
			return;
		}
		b->buf = p;
		b->cap = cap;
	}
	b->len += sprintf(b->buf + b->len, "%s=%s", key, value) + 1;
}

/* The runtime's environment, as Lambda sets it for a custom runtime. */
static int build_env(struct husk_ctx *ctx, struct husk_env *env, struct env_block *b)
{
	const struct husk_function *fn = env->fn;
	char mem[16], group[96], stream[96], day[16];
	struct tm tm;
	time_t now = time(NULL);
	size_t i;

	gmtime_r(&now, &tm);
	strftime(day, sizeof(day), "%Y/%m/%d", &tm);
	snprintf(mem, sizeof(mem), "%u", fn->memory_mb);
	snprintf(group, sizeof(group), "/aws/lambda/%s", fn->name);
	snprintf(stream, sizeof(stream), "%s/[$LATEST]%016llx", day,
		 (unsigned long long)env->id);

	env_add(b, "AWS_LAMBDA_FUNCTION_NAME", fn->name);
	env_add(b, "AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
	env_add(b, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", mem);
	env_add(b, "AWS_LAMBDA_LOG_GROUP_NAME", group);
	env_add(b, "AWS_LAMBDA_LOG_STREAM_NAME", stream);
	env_add(b, "AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
	env_add(b, "AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001");
	env_add(b, "AWS_REGION", ctx->cfg.region);
	env_add(b, "AWS_DEFAULT_REGION", ctx->cfg.region);
	env_add(b, "_HANDLER", fn->handler ? fn->handler : "");
	env_add(b, "LAMBDA_TASK_ROOT", "/var/task");
	env_add(b, "LAMBDA_RUNTIME_DIR", "/var/runtime");
	env_add(b, "PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin");
	env_add(b, "LD_LIBRARY_PATH",
		"/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib");
	env_add(b, "LANG", "en_US.UTF-8");
	env_add(b, "TZ", ":UTC");
	for (i = 0; i < fn->n_env; i++)
		env_add(b, fn->env[i].key, fn->env[i].value);
	return b->err;
}

/* What a path is granted by the file lists; exec needs read (the kernel reads what it runs). */
static uint32_t fs_access(const struct husk_policy *p, const char *path)
{
	const struct husk_path_list *lists[] = {&p->read, &p->write, &p->exec};
	static const uint32_t bits[] = {HUSK_FS_READ, HUSK_FS_WRITE, HUSK_FS_READ | HUSK_FS_EXEC};
	uint32_t access = 0;
	size_t k, i;

	for (k = 0; k < 3; k++)
		for (i = 0; i < lists[k]->n; i++)
			if (!strcmp(lists[k]->paths[i], path))
				access |= bits[k];
	return access;
}

static bool seen_before(const struct husk_policy *p, size_t k, size_t i)
{
	const struct husk_path_list *lists[] = {&p->read, &p->write, &p->exec};
	const char *path = lists[k]->paths[i];
	size_t kk, ii;

	for (kk = 0; kk <= k; kk++)
		for (ii = 0; ii < (kk == k ? i : lists[kk]->n); ii++)
			if (!strcmp(lists[kk]->paths[ii], path))
				return true;
	return false;
}

/* The SPAWN file rules: one record per distinct path of the policy's lists. */
static int build_fsrules(const struct husk_policy *p, char **out, size_t *len)
{
	const struct husk_path_list *lists[] = {&p->read, &p->write, &p->exec};
	size_t size = 0, off = 0, k, i;
	char *buf;
	int rc = 0;

	for (k = 0; k < 3; k++)
		for (i = 0; i < lists[k]->n; i++)
			size += husk_fs_rule_size(strlen(lists[k]->paths[i]));
	buf = malloc(size ? size : 1);
	if (!buf)
		return -ENOMEM;
	for (k = 0; k < 3 && !rc; k++)
		for (i = 0; i < lists[k]->n && !rc; i++)
			if (!seen_before(p, k, i))
				rc = husk_fs_rule_append(buf, size, &off,
							 fs_access(p, lists[k]->paths[i]),
							 lists[k]->paths[i]);
	if (rc) {
		free(buf);
		return rc;
	}
	*out = buf;
	*len = off;
	return 0;
}

static int send_spawn(struct husk_ctx *ctx, struct husk_env *env, int code_fd,
		      const struct husk_filter *filter)
{
	struct husk_spawn sp = {
		.uid = HUSK_RUNTIME_UID,
		.gid = HUSK_RUNTIME_GID,
		.nofile = 1024,
		.nproc = 0, /* the pids cgroup limits processes */
		.tmp_mb = env->fn->ephemeral_mb,
		.flags = HUSK_SPAWN_CODE_FD,
	};
	struct env_block b = { 0 };
	struct iovec iov[4];
	char *fsrules = NULL;
	size_t fsrules_len = 0;
	int rc;

	rc = build_env(ctx, env, &b);
	/* Where BPF LSM does not enforce the file rules, Landlock does, in the jail. */
	if (!rc && !husk_bpf_engines(ctx->bpf)->lsm) {
		sp.flags |= HUSK_SPAWN_LANDLOCK;
		rc = build_fsrules(env->fn->policy, &fsrules, &fsrules_len);
	}
	if (rc)
		goto out;
	sp.filter_len = filter->len;
	sp.env_len = b.len;
	sp.fsrules_len = (uint32_t)fsrules_len;
	iov[0] = (struct iovec){ &sp, sizeof(sp) };
	iov[1] = (struct iovec){ filter->insns, sp.filter_len * sizeof(struct sock_filter) };
	iov[2] = (struct iovec){ b.buf, b.len };
	iov[3] = (struct iovec){ fsrules, fsrules_len };
	rc = husk_frame_send_fd(env->chan_fd, HUSK_MSG_SPAWN, iov, 4, code_fd);
out:
	free(fsrules);
	free(b.buf);
	return rc;
}

static int start_jail(struct husk_ctx *ctx, struct husk_env *env, int chan_child, int log_child,
		      struct husk_err *err)
{
	struct husk_jail_args ja = {
		.uid_slot = env->uid_slot,
		.cgroup_fd = husk_cg_v2_fd(env->cg),
		.chan_fd = chan_child,
		.log_fd = log_child,
		.cpu = ctx->cfg.cpu,
	};
	struct husk_jail_proc jp = { .pid = -1, .pidfd = -1, .err_fd = -1, .go_fd = -1 };
	int rc;

	rc = husk_jail_spawn(ctx, &ja, &jp);
	if (jp.pid > 0) {
		env->pid = jp.pid;
		env->pidfd = jp.pidfd;
		env->err_fd = jp.err_fd;
	}
	if (!rc)
		rc = husk_cg_attach(env->cg, jp.pid);
	if (!rc)
		rc = husk_jail_release(&jp);
	else if (jp.go_fd >= 0)
		close(jp.go_fd); /* the child reads EOF and exits */
	if (rc)
		husk_err_set(err, 500, HUSK_E_SERVICE, "cannot start the environment's jail: %s",
			     strerror(-rc));
	return rc;
}

int husk_env_create(struct husk_ctx *ctx, unsigned uid_slot, uint64_t id, struct husk_env **out,
		    struct husk_err *err)
{
	/* The smallest function's limits until husk_env_bind() sets its own. */
	struct husk_cg_limits lim = {
		.memory_bytes = (uint64_t)HUSK_MEMORY_MIN << 20,
		.pids_max = ctx->cfg.pids_max,
		.cpu_weight = cpu_weight_for(HUSK_MEMORY_MIN),
	};
	struct husk_env *env;
	int sv[2] = { -1, -1 }, logp[2] = { -1, -1 };
	int rc;

	env = calloc(1, sizeof(*env));
	if (!env)
		return -ENOMEM;
	env->id = id;
	env->uid_slot = uid_slot;
	env->pid = -1;
	env->pidfd = env->chan_fd = env->log_fd = env->err_fd = -1;
	env->state = HUSK_ENV_SPARE;
	snprintf(env->name, sizeof(env->name), "env-%llu", (unsigned long long)id);
	clock_gettime(CLOCK_MONOTONIC, &env->created);
	env->last_used = env->created;

	rc = husk_cg_create(ctx->cgroups, env->name, &lim, &env->cg);
	if (rc) {
		husk_err_set(err, 500, HUSK_E_SERVICE, "cannot create the cgroup of %s: %s",
			     env->name, strerror(-rc));
		goto fail;
	}
	/* In the maps (loopback only) before husk-init, its first process, runs. */
	env->cgid = husk_cg_id(env->cg);
	rc = husk_bpf_env_add(ctx->bpf, env->cgid, uid_slot);
	if (rc) {
		husk_err_set(err, 500, HUSK_E_SERVICE, "cannot add %s to the BPF maps: %s",
			     env->name, strerror(-rc));
		goto fail;
	}
	env->in_bpf = true;
	husk_tel_env_open(ctx->tel, uid_slot, env->cgid, env->name);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) ||
	    pipe2(logp, O_CLOEXEC)) {
		rc = -errno;
		husk_err_set(err, 500, HUSK_E_SERVICE, "cannot create the channel of %s: %s",
			     env->name, strerror(errno));
		goto fail;
	}
	env->chan_fd = sv[0];
	env->log_fd = logp[0];
	fcntl(env->log_fd, F_SETFL, O_NONBLOCK);

	rc = start_jail(ctx, env, sv[1], logp[1], err);
	close(sv[1]);
	close(logp[1]);
	if (rc)
		goto fail;
	*out = env;
	return 0;
fail:
	husk_env_destroy(ctx, env);
	return rc;
}

/*
 * A detached copy of the function's code tree, read-only, for husk-init to
 * attach at /var/task (the environment's root is not ours to mount in).
 */
static int open_code(const struct husk_function *fn)
{
	struct mount_attr attr = {
		.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
	};
	int fd, rc;

	fd = syscall(SYS_open_tree, AT_FDCWD, fn->code_dir,
		     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (fd < 0)
		return -errno;
	if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr))) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/* A veth out of the environment's network namespace. */
static int attach_egress(struct husk_ctx *ctx, struct husk_env *env, struct husk_err *err)
{
	char ns[64];
	int fd, rc;

	if (!ctx->egress) {
		husk_err_set(err, 500, HUSK_E_SERVICE,
			     "%s allows egress, but egress networking is not available on this "
			     "host (see huskd's start-up log)",
			     env->fn->name);
		return -EOPNOTSUPP;
	}
	snprintf(ns, sizeof(ns), "/proc/%d/ns/net", env->pid);
	fd = open(ns, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		husk_err_set(err, 500, HUSK_E_SERVICE, "cannot open %s: %s", ns, strerror(errno));
		return rc;
	}
	rc = husk_egress_attach(ctx->egress, env->uid_slot, fd, env->fn->policy->allow_host,
				&env->link);
	close(fd);
	if (rc) {
		husk_err_set(err, 500, HUSK_E_SERVICE, "cannot give %s a route out: %s", env->name,
			     strerror(-rc));
		return rc;
	}
	env->has_link = true;
	return 0;
}

/*
 * The function's policy, before its runtime starts: the seccomp filter (the
 * default one unless the policy adds rules), the BPF map entries, and a
 * veth when the policy allows egress.
 */
static int apply_policy(struct husk_ctx *ctx, struct husk_env *env, struct husk_filter *filter,
			struct husk_err *err)
{
	const struct husk_policy *p = env->fn->policy;
	uint64_t denied[HUSK_NR_SYSCALLS / 64];
	int rc, err_no = 1;

	memcpy(denied, ctx->seccomp_denied, sizeof(denied));
	if (husk_policy_has_syscall_rules(p)) {
		rc = husk_seccomp_compile(p, filter);
		if (!rc)
			rc = husk_seccomp_denied_set(p, denied, &err_no);
		if (rc) {
			husk_err_set(err, 500, HUSK_E_SERVICE,
				     "cannot compile the seccomp rules of %s: %s", env->fn->name,
				     strerror(-rc));
			return rc;
		}
	}
	rc = husk_bpf_env_policy(ctx->bpf, env->cgid, p, denied, err_no, ctx->dns, ctx->n_dns);
	if (rc) {
		husk_err_set(err, 500, HUSK_E_SERVICE, "cannot write the policy of %s: %s",
			     env->name, strerror(-rc));
		return rc;
	}
	env->policy_set = true;
	return husk_policy_wants_egress(p) ? attach_egress(ctx, env, err) : 0;
}

int husk_env_bind(struct husk_ctx *ctx, struct husk_env *env, struct husk_function *fn,
		  struct husk_err *err)
{
	struct husk_filter filter = { 0 };
	int rc, code_fd;

	env->fn = husk_fn_get(fn);
	env->state = HUSK_ENV_BUSY;
	husk_tel_env_bind(ctx->tel, env->uid_slot, fn->name);
	clock_gettime(CLOCK_MONOTONIC, &env->bound);
	rc = husk_cg_set_limits(env->cg, (uint64_t)fn->memory_mb << 20,
				cpu_weight_for(fn->memory_mb));
	if (rc) {
		husk_err_set(err, 500, HUSK_E_SERVICE, "cannot set the limits of %s: %s",
			     env->name, strerror(-rc));
		return rc;
	}
	rc = apply_policy(ctx, env, &filter, err);
	if (rc)
		return rc;
	code_fd = open_code(fn);
	if (code_fd < 0) {
		husk_err_set(err, 500, HUSK_E_SERVICE, "cannot open the code of %s: %s", fn->name,
			     strerror(-code_fd));
		rc = code_fd;
		goto out;
	}
	rc = send_spawn(ctx, env, code_fd, filter.insns ? &filter : ctx->seccomp);
	close(code_fd);
	if (rc)
		husk_err_set(err, 500, HUSK_E_SERVICE, "cannot start the runtime of %s: %s",
			     env->name, strerror(-rc));
out:
	husk_filter_free(&filter);
	return rc;
}

void husk_env_setup_error(struct husk_env *env, char *buf, size_t len)
{
	struct husk_jail_error rec;
	ssize_t n;

	buf[0] = '\0';
	if (env->err_fd < 0)
		return;
	n = read(env->err_fd, &rec, sizeof(rec));
	if (n == (ssize_t)sizeof(rec)) {
		rec.step[sizeof(rec.step) - 1] = '\0';
		snprintf(buf, len, "%s: %s", rec.step, strerror(rec.err));
	}
}

int husk_env_freeze(struct husk_ctx *ctx, struct husk_env *env)
{
	int rc;

	if (!ctx->cfg.freeze_idle || env->frozen)
		return 0;
	rc = husk_cg_freeze_start(env->cg);
	if (!rc)
		env->frozen = true;
	return rc;
}

int husk_env_thaw(struct husk_ctx *ctx, struct husk_env *env)
{
	int rc;

	if (!env->frozen)
		return 0;
	rc = husk_cg_thaw(env->cg);
	if (!rc)
		env->frozen = false;
	return rc;
}

/* Undo apply_policy and husk_bpf_env_add, once no process of env is left. */
static void release_policy(struct husk_ctx *ctx, struct husk_env *env)
{
	int rc;

	if (env->has_link) {
		rc = husk_egress_detach(ctx->egress, &env->link);
		if (rc)
			pr_err("%s: veth %s not removed: %s", env->name, env->link.host_if,
			       strerror(-rc));
	}
	if (env->in_bpf) {
		husk_bpf_env_del(ctx->bpf, env->cgid, env->policy_set ? env->fn->policy : NULL,
				 ctx->dns, ctx->n_dns);
		husk_tel_env_close(ctx->tel, env->uid_slot, env->cgid);
	}
}

void husk_env_destroy(struct husk_ctx *ctx, struct husk_env *env)
{
	char why[160];
	siginfo_t si;
	int rc;

	/* husk-init exits on end of channel; SIGKILL covers a stuck one. */
	if (env->chan_fd >= 0)
		close(env->chan_fd);
	if (env->pidfd >= 0)
		syscall(SYS_pidfd_send_signal, env->pidfd, SIGKILL, NULL, 0);
	/* Thaws first: frozen v1 tasks do not die. */
	if (env->cg) {
		rc = husk_cg_destroy(env->cg);
		if (rc)
			pr_err("%s: cgroup not removed: %s", env->name, strerror(-rc));
	}
	if (env->pidfd >= 0) {
		while (waitid(P_PIDFD, env->pidfd, &si, WEXITED) && errno == EINTR)
			;
		close(env->pidfd);
	}
	if (env->log_fd >= 0)
		close(env->log_fd);
	release_policy(ctx, env);
	if (env->err_fd >= 0) {
		/* Dead by now, so this does not block: say why a jail never came up. */
		husk_env_setup_error(env, why, sizeof(why));
		if (why[0])
			pr_err("%s: jail setup failed: %s", env->name, why);
		close(env->err_fd);
	}
	if (env->fn)
		husk_fn_put(env->fn);
	free(env);
}
