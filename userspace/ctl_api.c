// SPDX-License-Identifier: GPL-2.0
/*
 * huskd's own operations for huskctl, on the Unix socket only (api.c
 * refuses them on TCP): GET /husk/v1/envs, /husk/v1/envs/{id},
 * /husk/v1/features, /husk/v1/invocations/{request id} and
 * /husk/v1/events (?follow=1: a stream of JSON lines).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "bpf.h"
#include "cgroup.h"
#include "env.h"
#include "pool.h"
#include "policy.h"
#include "reports.h"
#include "telemetry.h"

#define E_NOT_FOUND HUSK_E_NOT_FOUND

static const char *env_state(const struct husk_env *env)
{
	switch (env->state) {
	case HUSK_ENV_SPARE:
		return "spare";
	case HUSK_ENV_BUSY:
		return "busy";
	case HUSK_ENV_IDLE:
		return env->frozen ? "frozen" : "idle";
	}
	return "unknown";
}

static void add_u64(struct json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

static struct json_object *policy_summary(const struct husk_policy *p)
{
	char s[256];

	snprintf(s, sizeof(s),
		 "egress %zu rule(s)%s%s; files read %zu, write %zu, exec %zu prefix(es); "
		 "syscalls %s%zu extra",
		 p->n_egress, p->dns ? ", dns" : "", p->allow_host ? ", host" : "", p->read.n,
		 p->write.n, p->exec.n, p->sys_mode == HUSK_SYS_ALLOW ? "allow-only " : "",
		 p->n_syscalls);
	return json_object_new_string(s);
}

static void add_cgroup(struct json_object *o, struct husk_ctx *ctx, struct husk_env *env)
{
	const char *parent = husk_cgroups_v2_parent(ctx->cgroups);
	uint64_t v;
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", parent ? parent : "", env->name);
	json_object_object_add(o, "CgroupPath", json_object_new_string(path));
	add_u64(o, "CgroupId", env->cgid);
	if (!husk_cg_memory_current(env->cg, &v))
		add_u64(o, "MemoryBytes", v);
	if (!husk_cg_memory_peak(env->cg, &v))
		add_u64(o, "MemoryPeakBytes", v);
	if (!husk_cg_pids_current(env->cg, &v))
		add_u64(o, "Pids", v);
}

/* One environment; called with the pool's lock held. */
static struct json_object *env_json(struct husk_ctx *ctx, struct husk_env *env)
{
	struct json_object *o = json_object_new_object();
	struct timespec now;

	if (!o)
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &now);
	add_u64(o, "Id", env->id);
	json_object_object_add(o, "Name", json_object_new_string(env->name));
	json_object_object_add(o, "Function",
			       env->fn ? json_object_new_string(env->fn->name) : NULL);
	json_object_object_add(o, "RevisionId",
			       env->fn ? json_object_new_string(env->fn->revision_id) : NULL);
	json_object_object_add(o, "State", json_object_new_string(env_state(env)));
	json_object_object_add(o, "Frozen", json_object_new_boolean(env->frozen));
	json_object_object_add(o, "AgeSeconds",
			       json_object_new_double((now.tv_sec - env->created.tv_sec) +
						      (now.tv_nsec - env->created.tv_nsec) / 1e9));
	add_u64(o, "Invocations", env->invocations);
	add_u64(o, "Slot", env->uid_slot);
	add_u64(o, "Pid", (uint64_t)env->pid);
	add_cgroup(o, ctx, env);
	if (env->has_link) {
		struct json_object *eg = json_object_new_object();
		char a[INET_ADDRSTRLEN];

		json_object_object_add(eg, "HostInterface",
				       json_object_new_string(env->link.host_if));
		inet_ntop(AF_INET, &env->link.env_addr, a, sizeof(a));
		json_object_object_add(eg, "Address", json_object_new_string(a));
		json_object_object_add(o, "Egress", eg);
	} else {
		json_object_object_add(o, "Egress", NULL);
	}
	json_object_object_add(o, "Policy", env->fn ? policy_summary(env->fn->policy) : NULL);
	return o;
}

struct env_walk {
	struct husk_ctx *ctx;
	struct json_object *list;
	uint64_t want; /* 0: all */
	struct json_object *found;
};

static void collect_env(struct husk_env *env, void *arg)
{
	struct env_walk *w = arg;

	if (!w->want)
		json_object_array_add(w->list, env_json(w->ctx, env));
	else if (env->id == w->want && !w->found)
		w->found = env_json(w->ctx, env);
}

enum MHD_Result husk_ctl_envs(struct husk_api_call *call)
{
	struct env_walk w = {.ctx = call->ctx, .list = json_object_new_array()};
	struct json_object *doc = json_object_new_object();

	if (!w.list || !doc) {
		json_object_put(w.list);
		json_object_put(doc);
		return husk_api_json(call, 500, NULL);
	}
	husk_pool_foreach(call->ctx, collect_env, &w);
	json_object_object_add(doc, "Environments", w.list);
	return husk_api_json(call, 200, doc);
}

/* "3" or "env-3". */
static int parse_env_id(const char *s, uint64_t *id)
{
	char *end;

	if (!strncmp(s, "env-", 4))
		s += 4;
	errno = 0;
	*id = strtoull(s, &end, 10);
	return errno || end == s || *end || !*id ? -EINVAL : 0;
}

enum MHD_Result husk_ctl_env(struct husk_api_call *call)
{
	struct env_walk w = {.ctx = call->ctx};
	struct husk_err err;

	if (parse_env_id(call->fn_ref, &w.want)) {
		husk_err_set(&err, 400, HUSK_E_INVALID_PARAM,
			     "'%.64s' is not an environment id (N or env-N)", call->fn_ref);
		return husk_api_error(call, &err);
	}
	husk_pool_foreach(call->ctx, collect_env, &w);
	if (!w.found) {
		husk_err_set(&err, 404, E_NOT_FOUND, "Environment not found: env-%llu",
			     (unsigned long long)w.want);
		return husk_api_error(call, &err);
	}
	return husk_api_json(call, 200, w.found);
}

static struct json_object *engines_json(const struct husk_engines *e, bool egress)
{
	struct json_object *o = json_object_new_object();
	char files[64], signals[96];

	snprintf(files, sizeof(files), e->lsm ? "BPF LSM" : "Landlock ABI %d", e->landlock_abi);
	snprintf(signals, sizeof(signals), "%s",
		 e->lsm			? "BPF LSM (task_kill)"
		 : e->landlock_abi >= 6 ? "Landlock scoping and the pid namespace"
					: "the pid namespace and credentials");
	json_object_object_add(
	    o, "Network", json_object_new_string("cgroup BPF (connect4/6, sendmsg4/6, bind4/6)"));
	json_object_object_add(o, "Sockets",
			       json_object_new_string(e->lsm
							  ? "BPF LSM and cgroup BPF (sock_create)"
							  : "cgroup BPF (sock_create)"));
	json_object_object_add(o, "Devices", json_object_new_string("cgroup BPF (dev)"));
	json_object_object_add(o, "Files", json_object_new_string(files));
	json_object_object_add(o, "Exec", json_object_new_string(files));
	json_object_object_add(o, "Signals", json_object_new_string(signals));
	json_object_object_add(o, "Ptrace",
			       json_object_new_string(e->lsm ? "BPF LSM and seccomp" : "seccomp"));
	json_object_object_add(o, "Syscalls", json_object_new_string("seccomp"));
	json_object_object_add(
	    o, "Egress",
	    json_object_new_string(egress ? "veth and nftables (table ip husk)" : "not available"));
	return o;
}

enum MHD_Result husk_ctl_features(struct husk_api_call *call)
{
	const struct husk_engines *e = husk_bpf_engines(call->ctx->bpf);
	struct json_object *o = json_object_new_object(), *lsm = json_object_new_object();
	struct husk_ctx *ctx = call->ctx;

	json_object_object_add(lsm, "Enabled", json_object_new_boolean(e->lsm));
	json_object_object_add(lsm, "Reason",
			       e->lsm ? NULL : json_object_new_string(e->lsm_reason));
	json_object_object_add(o, "BpfLsm", lsm);
	json_object_object_add(o, "LandlockAbi", json_object_new_int(e->landlock_abi));
	json_object_object_add(
	    o, "CgroupMode",
	    json_object_new_string(husk_cg_mode_name(husk_cgroups_mode(ctx->cgroups))));
	json_object_object_add(o, "Controllers",
			       json_object_new_string(husk_cgroups_describe(ctx->cgroups)));
	json_object_object_add(o, "Egress", json_object_new_boolean(ctx->egress != NULL));
	json_object_object_add(o, "BpfDir", json_object_new_string(ctx->cfg.bpf_dir));
	add_u64(o, "EventsBytes", (uint64_t)ctx->cfg.events_kb << 10);
	json_object_object_add(o, "Engines", engines_json(e, ctx->egress != NULL));
	return husk_api_json(call, 200, o);
}

enum MHD_Result husk_ctl_invocation(struct husk_api_call *call)
{
	struct json_object *o = husk_reports_get(call->ctx->reports, call->fn_ref);
	struct husk_err err;

	if (!o) {
		husk_err_set(&err, 404, E_NOT_FOUND,
			     "Invocation not found: %.64s (huskd keeps the last %d reports)",
			     call->fn_ref, HUSK_REPORTS_KEPT);
		return husk_api_error(call, &err);
	}
	return husk_api_json(call, 200, o);
}

/* ---- events ---- */

struct follow {
	struct husk_ctx *ctx;
	int fd;
};

/*
 * libmicrohttpd calls this from the connection's own thread, which may
 * block: wait for lines, a little at a time, so that a stopping huskd is
 * noticed.
 */
static ssize_t follow_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct follow *f = cls;
	struct pollfd pfd = {.fd = f->fd, .events = POLLIN};
	ssize_t n;

	for (;;) {
		if (husk_api_stopping(f->ctx))
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (poll(&pfd, 1, 200) < 0 && errno != EINTR)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		n = read(f->fd, buf, max);
		if (n > 0)
			return n;
		if (n == 0)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (errno != EAGAIN && errno != EINTR)
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
}

static void follow_free(void *cls)
{
	struct follow *f = cls;

	husk_tel_unfollow(f->ctx->tel, f->fd);
	free(f);
}

static enum MHD_Result follow_events(struct husk_api_call *call)
{
	struct follow *f = calloc(1, sizeof(*f));
	struct MHD_Response *resp;
	struct husk_err err;
	int rc;

	if (!f)
		return husk_api_json(call, 500, NULL);
	f->ctx = call->ctx;
	rc = husk_tel_follow(call->ctx->tel, &f->fd);
	if (rc) {
		free(f);
		husk_err_set(&err, rc == -EBUSY ? 429 : 500,
			     rc == -EBUSY ? HUSK_E_TOO_MANY : HUSK_E_SERVICE,
			     "cannot follow the events: %s",
			     rc == -EBUSY ? "too many followers" : strerror(-rc));
		return husk_api_error(call, &err);
	}
	resp =
	    MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, follow_read, f, follow_free);
	if (!resp) {
		follow_free(f);
		return MHD_NO;
	}
	return husk_api_queue(call, 200, resp, "application/x-ndjson", NULL);
}

enum MHD_Result husk_ctl_events(struct husk_api_call *call)
{
	const char *follow =
	    MHD_lookup_connection_value(call->conn, MHD_GET_ARGUMENT_KIND, "follow");
	struct json_object *doc;

	if (follow && strcmp(follow, "0"))
		return follow_events(call);
	doc = json_object_new_object();
	if (doc)
		json_object_object_add(doc, "Events", husk_tel_recent_json(call->ctx->tel));
	return husk_api_json(call, 200, doc);
}
