/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One invocation, request-response: pick or create an environment of the
 * function's version, run the event through it, and build the Lambda-style
 * result and report.
 */
#ifndef HUSK_INVOKE_H
#define HUSK_INVOKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "function.h"
#include "husk.h"
#include "telemetry.h"

struct husk_invoke_req {
	const char *payload; /* the event, JSON (already checked) */
	size_t payload_len;
	bool log_tail;		    /* X-Amz-Log-Type: Tail */
	const char *client_context; /* X-Amz-Client-Context, decoded JSON, or NULL */
};

/* What REPORT says about one invocation. */
struct husk_report {
	char request_id[37];
	double duration_ms;
	uint64_t billed_ms;
	double init_ms; /* 0 on a warm start */
	unsigned memory_mb;
	uint64_t max_memory_bytes; /* peak of the environment's memory cgroup */
	double freeze_us;	   /* thaw before + freeze after, on its own */
	bool cold;
	struct husk_inv_stats stats; /* what the environment did (BPF telemetry) */
};

struct husk_invoke_res {
	char *body; /* malloc'd; the function's result or Lambda's error JSON */
	size_t body_len;
	/* NULL, or "Unhandled" for the X-Amz-Function-Error header */
	const char *function_error;
	char *log_tail_b64; /* malloc'd, when log_tail was asked */
	struct husk_report report;
	char report_line[1024]; /* "REPORT RequestId: ... " without the newline */
	void *priv;	       /* the environment, busy until the result is freed */
};

/*
 * Run one invocation. Returns 0 when there is an answer for the caller in
 * res (which includes function errors, timeouts and crashes, reported as
 * Lambda reports them: HTTP 200 with X-Amz-Function-Error), or a negative
 * errno with err set when there is none (the environment could not be
 * created: ServiceException and the like).
 */
int husk_invoke(struct husk_ctx *ctx, struct husk_function *fn, const struct husk_invoke_req *req,
		struct husk_invoke_res *res, struct husk_err *err);

/*
 * Free a result and hand its environment back: freeze it and return it to
 * the pool (or destroy it after a failure). Call it once the caller has its
 * answer (from the HTTP server's request-completed callback), so that the
 * freeze is not on the caller's latency.
 */
void husk_invoke_res_free(struct husk_invoke_res *res);

#endif
