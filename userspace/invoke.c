// SPDX-License-Identifier: GPL-2.0
/*
 * The request-response invocation path (see invoke.h).
 *
 * The calling API thread drives its environment itself: it writes INVOKE to
 * the channel and polls the channel and the log pipe until the answer, the
 * deadline, or the environment's death. No other thread is woken on a warm
 * invocation, because a wake-up across CPUs is the most expensive thing on
 * this path.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "crypt.h"
#include "env.h"
#include "guest-init/protocol.h"
#include "invoke.h"
#include "log.h"
#include "pool.h"
#include "report.h"
#include "reports.h"

/* Lambda lets a runtime initialise for this long before it gives up. */
#define INIT_TIMEOUT_MS 10000
/* LogType Tail returns this much of the end of the invocation's log. */
#define LOG_TAIL_MAX 4096

/* The last LOG_TAIL_MAX bytes of an invocation's output. */
struct log_tail {
	char buf[2 * LOG_TAIL_MAX];
	size_t len;
};

struct invocation {
	struct husk_ctx *ctx;
	struct husk_env *env;
	const struct husk_invoke_req *req;
	struct husk_invoke_res *res;
	struct log_tail tail;
	struct timespec sent; /* INVOKE written */
	uint64_t oom_before;
	bool healthy, done;
};

/* An invocation result keeps its environment busy until it is freed. */
struct res_private {
	struct husk_ctx *ctx;
	struct husk_env *env;
	bool healthy;
};

static double ms_between(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1e3 + (b->tv_nsec - a->tv_nsec) / 1e6;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

static void tail_add(struct log_tail *t, const char *p, size_t n)
{
	if (n >= LOG_TAIL_MAX) {
		p += n - LOG_TAIL_MAX;
		n = LOG_TAIL_MAX;
	}
	if (t->len + n > sizeof(t->buf)) {
		size_t keep = LOG_TAIL_MAX - n;

		memmove(t->buf, t->buf + t->len - keep, keep);
		t->len = keep;
	}
	memcpy(t->buf + t->len, p, n);
	t->len += n;
}

/* Forward what the runtime wrote to huskd's log, line by line. */
static void log_lines(const struct husk_env *env, const char *req_id, const char *p, size_t n)
{
	const char *end = p + n, *nl;

	while (p < end) {
		nl = memchr(p, '\n', end - p);
		if (!nl)
			nl = end;
		if (nl > p)
			pr_info("%s %s %s: %.*s", env->fn->name, env->name, req_id, (int)(nl - p), p);
		p = nl + 1;
	}
}

/* Read whatever the runtime wrote; attributed to req_id, or to nobody. */
static void drain_log(struct husk_env *env, struct log_tail *tail, const char *req_id)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(env->log_fd, buf, sizeof(buf))) > 0) {
		if (tail)
			tail_add(tail, buf, n);
		log_lines(env, req_id, buf, n);
	}
}

static int set_error(struct husk_invoke_res *res, const char *type, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A Lambda error answer: {"errorMessage": ..., "errorType": ...}. */
static int set_error(struct husk_invoke_res *res, const char *type, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	free(res->body);
	res->body = husk_error_json(msg, type, &res->body_len);
	res->function_error = "Unhandled";
	return res->body ? 0 : -ENOMEM;
}

static int send_invoke(struct invocation *inv)
{
	const struct husk_invoke_req *req = inv->req;
	struct husk_function *fn = inv->env->fn;
	const char *id = inv->res->report.request_id;
	const char *trace = "Root=1-00000000-000000000000000000000000;Sampled=0";
	size_t cc_len = req->client_context ? strlen(req->client_context) : 0;
	struct husk_invoke hdr = {
		.deadline_ms = wall_ms() + fn->timeout_s * 1000ull,
		.request_id_len = strlen(id),
		.arn_len = strlen(fn->arn),
		.trace_id_len = strlen(trace),
		.client_context_len = cc_len,
		.payload_len = req->payload_len,
	};
	struct iovec iov[] = {
		{ &hdr, sizeof(hdr) },
		{ (void *)id, hdr.request_id_len },
		{ fn->arn, hdr.arn_len },
		{ (void *)trace, hdr.trace_id_len },
		{ (void *)req->client_context, cc_len },
		{ (void *)req->payload, req->payload_len },
	};

	clock_gettime(CLOCK_MONOTONIC, &inv->sent);
	return husk_frame_send(inv->env->chan_fd, HUSK_MSG_INVOKE, iov, 6);
}

/* RESPONSE, ERROR, INIT_ERROR: keep the body, drop the header in front. */
static int take_result(struct invocation *inv, char *payload, uint32_t len, bool check_id)
{
	struct husk_cursor c = { payload, len };
	struct husk_result r;
	const char *id, *type, *body;

	if (husk_cursor_take(&c, &r, sizeof(r)) || husk_cursor_span(&c, r.request_id_len, &id) ||
	    husk_cursor_span(&c, r.error_type_len, &type) ||
	    husk_cursor_span(&c, r.body_len, &body))
		return -EBADMSG;
	if (check_id && (r.request_id_len != strlen(inv->res->report.request_id) ||
			 memcmp(id, inv->res->report.request_id, r.request_id_len)))
		return -EBADMSG;
	memmove(payload, body, r.body_len);
	payload[r.body_len] = '\0';
	free(inv->res->body);
	inv->res->body = payload;
	inv->res->body_len = r.body_len;
	return 0;
}

static void runtime_exited(struct invocation *inv, int status)
{
	const char *id = inv->res->report.request_id;
	uint64_t oom = 0;
	char why[64];

	husk_cg_oom_kills(inv->env->cg, &oom);
	if (WIFSIGNALED(status)) {
		/* Lambda's wording: "signal: killed". */
		snprintf(why, sizeof(why), "signal: %s", sigdescr_np(WTERMSIG(status)) ?: "unknown");
		why[8] = tolower((unsigned char)why[8]);
	} else
		snprintf(why, sizeof(why), "exit status %d", WEXITSTATUS(status));
	if (oom > inv->oom_before)
		set_error(inv->res, "Runtime.OutOfMemory",
			  "RequestId: %s Error: Runtime exited with error: %s (out of memory: "
			  "%u MB limit)",
			  id, why, inv->env->fn->memory_mb);
	else
		set_error(inv->res, "Runtime.ExitError",
			  "RequestId: %s Error: Runtime exited with error: %s", id, why);
}

/* Handle one frame from husk-init; sets inv->done when the invocation ended. */
static int on_frame(struct invocation *inv, const struct husk_frame_hdr *hdr, char *payload)
{
	struct husk_ready ready;
	struct husk_exit ex;
	struct husk_cursor c = { payload, hdr->len };
	int rc = 0;

	switch (hdr->type) {
	case HUSK_MSG_READY:
		if (husk_cursor_take(&c, &ready, sizeof(ready)))
			return -EBADMSG;
		inv->env->ready = true;
		inv->env->init_ms = ready.init_ns / 1e6;
		free(payload);
		return send_invoke(inv);
	case HUSK_MSG_RESPONSE:
		rc = take_result(inv, payload, hdr->len, true);
		break;
	case HUSK_MSG_ERROR:
		rc = take_result(inv, payload, hdr->len, true);
		inv->res->function_error = "Unhandled";
		break;
	case HUSK_MSG_INIT_ERROR:
		rc = take_result(inv, payload, hdr->len, false);
		inv->res->function_error = "Unhandled";
		inv->healthy = false;
		break;
	case HUSK_MSG_EXIT:
		rc = husk_cursor_take(&c, &ex, sizeof(ex));
		free(payload);
		if (!rc)
			runtime_exited(inv, ex.wait_status);
		inv->healthy = false;
		break;
	default:
		free(payload);
		return -EBADMSG;
	}
	if (rc && hdr->type != HUSK_MSG_EXIT)
		free(payload);
	inv->done = true;
	return rc;
}

/* The environment went away without a word: setup failure or a crash. */
static int env_vanished(struct invocation *inv, struct husk_err *err)
{
	siginfo_t si = { 0 };
	char why[160];

	inv->healthy = false;
	husk_env_setup_error(inv->env, why, sizeof(why));
	if (why[0]) {
		husk_err_set(err, 500, HUSK_E_SERVICE, "environment setup failed: %s", why);
		return -EIO;
	}
	/*
	 * husk-init itself died (killed, or out of memory). Its channel closes
	 * as it exits, so its exit status follows at once; look without
	 * reaping (destroy reaps).
	 */
	struct pollfd pfd = { .fd = inv->env->pidfd, .events = POLLIN };

	poll(&pfd, 1, 1000);
	waitid(P_PIDFD, inv->env->pidfd, &si, WEXITED | WNOHANG | WNOWAIT);
	if (si.si_code == CLD_EXITED)
		runtime_exited(inv, si.si_status << 8);
	else
		runtime_exited(inv, si.si_pid ? si.si_status : SIGKILL);
	return 0;
}

static void timed_out(struct invocation *inv)
{
	inv->healthy = false;
	if (!inv->env->ready)
		set_error(inv->res, "Sandbox.Timedout",
			  "RequestId: %s Error: Runtime did not ask for an invocation within %u.00 "
			  "seconds of its start (init timeout)",
			  inv->res->report.request_id, INIT_TIMEOUT_MS / 1000);
	else
		set_error(inv->res, "Sandbox.Timedout",
			  "RequestId: %s Error: Task timed out after %u.00 seconds",
			  inv->res->report.request_id, inv->env->fn->timeout_s);
}

/* Wait for the answer; 0 with inv->done, or a negative errno with err set. */
static int wait_answer(struct invocation *inv, struct husk_err *err)
{
	struct husk_env *env = inv->env;
	struct pollfd pfd[2] = { { .fd = env->chan_fd, .events = POLLIN },
				 { .fd = env->log_fd, .events = POLLIN } };
	struct husk_frame_hdr hdr;
	struct timespec now;
	char *payload;
	double left;
	int rc;

	while (!inv->done) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = env->ready ? env->fn->timeout_s * 1e3 - ms_between(&inv->sent, &now)
				  : INIT_TIMEOUT_MS - ms_between(&env->bound, &now);
		if (left <= 0) {
			timed_out(inv);
			return 0;
		}
		rc = poll(pfd, 2, (int)ceil(left));
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (pfd[1].revents)
			drain_log(env, &inv->tail, inv->res->report.request_id);
		if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		rc = husk_frame_recv(env->chan_fd, &hdr, &payload);
		if (rc == -EPIPE || rc == -ECONNRESET)
			return env_vanished(inv, err);
		if (!rc)
			rc = on_frame(inv, &hdr, payload);
		if (rc) {
			inv->healthy = false;
			husk_err_set(err, 500, HUSK_E_SERVICE, "%s: bad message from husk-init: %s",
				     env->name, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* The first denials, in huskd's log and the invocation's own (before END). */
static void log_denials(struct invocation *inv)
{
	const struct husk_inv_stats *st = &inv->res->report.stats;
	const char *id = inv->res->report.request_id;
	char line[HUSK_TEL_TEXT + 64];
	unsigned i;

	for (i = 0; i < st->n_denial; i++) {
		pr_info("%s: DENIED %s", inv->env->name, st->denial[i]);
		snprintf(line, sizeof(line), "DENIED %s\n", st->denial[i]);
		tail_add(&inv->tail, line, strlen(line));
	}
	if (st->denials_received > st->n_denial) {
		snprintf(line, sizeof(line), "DENIED %llu more\n",
			 (unsigned long long)(st->denials_received - st->n_denial));
		tail_add(&inv->tail, line, strlen(line));
	}
	if (st->lost_events) {
		pr_warn("%s: %llu telemetry events lost (ring buffer full) for RequestId %s",
			inv->env->name, (unsigned long long)st->lost_events, id);
		snprintf(line, sizeof(line), "LOST %llu telemetry events (ring buffer full)\n",
			 (unsigned long long)st->lost_events);
		tail_add(&inv->tail, line, strlen(line));
	}
}

static void finish_report(struct invocation *inv, bool cold, double thaw_us)
{
	struct husk_invoke_res *res = inv->res;
	struct husk_report *rep = &res->report;
	struct husk_env *env = inv->env;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	rep->duration_ms = ms_between(&inv->sent, &now);
	rep->billed_ms = (uint64_t)ceil(rep->duration_ms);
	if (rep->billed_ms == 0)
		rep->billed_ms = 1;
	rep->cold = cold;
	rep->init_ms = cold ? env->init_ms : 0;
	rep->memory_mb = env->fn->memory_mb;
	if (husk_cg_memory_peak(env->cg, &rep->max_memory_bytes))
		rep->max_memory_bytes = 0;
	/* This invocation's thaw, and the freeze that followed the previous one. */
	rep->freeze_us = thaw_us + env->freeze_us;
	husk_tel_collect(inv->ctx->tel, env->uid_slot, &rep->stats);
	husk_report_format(rep, res->report_line, sizeof(res->report_line));
	log_denials(inv);
	pr_info("%s", res->report_line);
	husk_reports_add(inv->ctx->reports, rep, env->fn->name, env->name, res->report_line);
}

static int make_tail(struct invocation *inv)
{
	struct husk_invoke_res *res = inv->res;
	const char *id = res->report.request_id;
	char line[sizeof(res->report_line) + 64];
	struct log_tail full = { .len = 0 };

	snprintf(line, sizeof(line), "START RequestId: %s Version: $LATEST\n", id);
	tail_add(&full, line, strlen(line));
	tail_add(&full, inv->tail.buf, inv->tail.len);
	snprintf(line, sizeof(line), "END RequestId: %s\n%s\n", id, res->report_line);
	tail_add(&full, line, strlen(line));
	if (full.len > LOG_TAIL_MAX) {
		memmove(full.buf, full.buf + full.len - LOG_TAIL_MAX, LOG_TAIL_MAX);
		full.len = LOG_TAIL_MAX;
	}
	res->log_tail_b64 = husk_b64_encode(full.buf, full.len);
	return res->log_tail_b64 ? 0 : -ENOMEM;
}

static int acquire_env(struct husk_ctx *ctx, struct husk_function *fn, struct husk_env **out,
		       bool *cold, double *thaw_us, struct husk_err *err)
{
	struct timespec a, b;
	int rc;

	*out = husk_pool_take(ctx, fn);
	*cold = !*out;
	*thaw_us = 0;
	if (*cold)
		return husk_pool_create(ctx, fn, out, err);
	clock_gettime(CLOCK_MONOTONIC, &a);
	rc = husk_env_thaw(ctx, *out);
	clock_gettime(CLOCK_MONOTONIC, &b);
	*thaw_us = ms_between(&a, &b) * 1e3;
	if (rc) {
		husk_err_set(err, 500, HUSK_E_SERVICE, "cannot thaw %s: %s", (*out)->name,
			     strerror(-rc));
		husk_pool_release(ctx, *out, false);
	}
	return rc;
}

int husk_invoke(struct husk_ctx *ctx, struct husk_function *fn, const struct husk_invoke_req *req,
		struct husk_invoke_res *res, struct husk_err *err)
{
	struct invocation inv = { .ctx = ctx, .req = req, .res = res, .healthy = true };
	struct res_private *priv;
	double thaw_us;
	bool cold;
	int rc;

	memset(res, 0, sizeof(*res));
	priv = calloc(1, sizeof(*priv));
	if (!priv) {
		husk_err_set(err, 500, HUSK_E_SERVICE, "out of memory");
		return -ENOMEM;
	}
	rc = acquire_env(ctx, fn, &inv.env, &cold, &thaw_us, err);
	if (rc) {
		free(priv);
		return rc;
	}
	husk_uuid4(res->report.request_id);
	/* Duration counts from here until INVOKE is written (cold starts). */
	clock_gettime(CLOCK_MONOTONIC, &inv.sent);
	drain_log(inv.env, NULL, "-");
	husk_cg_oom_kills(inv.env->cg, &inv.oom_before);
	if (!cold)
		husk_cg_memory_peak_reset(inv.env->cg);
	/* A cold environment gets INVOKE once its runtime is READY. */
	rc = inv.env->ready ? send_invoke(&inv) : 0;
	if (!rc)
		rc = wait_answer(&inv, err);
	else
		husk_err_set(err, 500, HUSK_E_SERVICE, "cannot reach %s: %s", inv.env->name,
			     strerror(-rc));
	drain_log(inv.env, &inv.tail, res->report.request_id);
	inv.env->invocations++;

	priv->ctx = ctx;
	priv->env = inv.env;
	priv->healthy = inv.healthy && !rc;
	res->priv = priv;
	if (rc) {
		husk_invoke_res_free(res);
		return rc;
	}
	finish_report(&inv, cold, thaw_us);
	if (req->log_tail && make_tail(&inv)) {
		husk_err_set(err, 500, HUSK_E_SERVICE, "out of memory");
		husk_invoke_res_free(res);
		return -ENOMEM;
	}
	return 0;
}

/* Freeze the environment and hand it back: this runs after the caller got its answer. */
void husk_invoke_res_free(struct husk_invoke_res *res)
{
	struct res_private *priv = res->priv;
	struct timespec a, b;

	if (priv) {
		if (priv->healthy) {
			clock_gettime(CLOCK_MONOTONIC, &a);
			if (husk_env_freeze(priv->ctx, priv->env))
				priv->healthy = false;
			clock_gettime(CLOCK_MONOTONIC, &b);
			priv->env->freeze_us = ms_between(&a, &b) * 1e3;
		}
		husk_pool_release(priv->ctx, priv->env, priv->healthy);
		free(priv);
	}
	free(res->body);
	free(res->log_tail_b64);
	memset(res, 0, sizeof(*res));
}
