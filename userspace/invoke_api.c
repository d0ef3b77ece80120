// SPDX-License-Identifier: GPL-2.0
/*
 * Invoke: POST /2015-03-31/functions/{name}/invocations. This is the warm
 * path, so it stays lean: the payload is checked once by the JSON tokener and
 * passed on from the one buffer the body was read into; the function's answer
 * goes to libmicrohttpd without a copy; the environment is handed back (and
 * frozen) only after the answer is sent.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "crypt.h"
#include "fn_config.h"
#include "invoke.h"

/* Lambda's limit on X-Amz-Client-Context, base64 as it arrives. */
#define CLIENT_CONTEXT_MAX 3583

enum invocation_type { INVOKE_REQUEST_RESPONSE, INVOKE_DRY_RUN };

static const char *header(struct husk_api_call *call, const char *name)
{
	return MHD_lookup_connection_value(call->conn, MHD_HEADER_KIND, name);
}

static int invocation_type(struct husk_api_call *call, enum invocation_type *type,
			   struct husk_err *err)
{
	const char *t = header(call, "X-Amz-Invocation-Type");

	*type = INVOKE_REQUEST_RESPONSE;
	if (!t || !strcmp(t, "RequestResponse"))
		return 0;
	if (!strcmp(t, "DryRun")) {
		*type = INVOKE_DRY_RUN;
		return 0;
	}
	/* Asynchronous invocation (the event queue) is a later piece of work. */
	if (!strcmp(t, "Event"))
		husk_err_set(err, 400, HUSK_E_INVALID_PARAM,
			     "Event invocations are not supported yet");
	else
		husk_err_set(err, 400, HUSK_E_INVALID_PARAM,
			     "X-Amz-Invocation-Type must be RequestResponse, Event or DryRun, "
			     "got %.64s",
			     t);
	return -EINVAL;
}

static int log_type(struct husk_api_call *call, bool *tail, struct husk_err *err)
{
	const char *t = header(call, "X-Amz-Log-Type");

	*tail = t && !strcmp(t, "Tail");
	if (!t || *tail || !strcmp(t, "None"))
		return 0;
	husk_err_set(err, 400, HUSK_E_INVALID_PARAM,
		     "X-Amz-Log-Type must be None or Tail, got %.64s", t);
	return -EINVAL;
}

/* X-Amz-Client-Context: base64 of a JSON object, passed on decoded. */
static int client_context(struct husk_api_call *call, char **out, struct husk_err *err)
{
	const char *b64 = header(call, "X-Amz-Client-Context");
	struct json_object *obj;
	size_t len, b64_len;
	char *json;
	void *raw;
	int rc;

	*out = NULL;
	if (!b64 || !*b64)
		return 0;
	b64_len = strlen(b64);
	if (b64_len > CLIENT_CONTEXT_MAX) {
		husk_err_set(err, 400, HUSK_E_INVALID_PARAM,
			     "X-Amz-Client-Context must be at most %d bytes, got %zu",
			     CLIENT_CONTEXT_MAX, b64_len);
		return -EINVAL;
	}
	rc = husk_b64_decode(b64, b64_len, &raw, &len);
	if (rc) {
		husk_err_set(err, 400, HUSK_E_INVALID_CONTENT,
			     "X-Amz-Client-Context is not valid base64");
		return rc;
	}
	json = realloc(raw, len + 1);
	if (!json) {
		free(raw);
		husk_err_set(err, 500, HUSK_E_SERVICE, "out of memory");
		return -ENOMEM;
	}
	json[len] = '\0';
	rc = husk_json_parse(json, len, &obj, err);
	if (!rc && !json_object_is_type(obj, json_type_object)) {
		husk_err_set(err, 400, HUSK_E_INVALID_CONTENT,
			     "X-Amz-Client-Context must be base64 of a JSON object");
		rc = -EINVAL;
	} else if (rc) {
		char why[sizeof(err->msg)];

		strcpy(why, err->msg);
		husk_err_set(err, 400, HUSK_E_INVALID_CONTENT,
			     "X-Amz-Client-Context is not base64 of JSON: %.400s", why);
	}
	json_object_put(obj);
	if (rc) {
		free(json);
		return rc;
	}
	*out = json;
	return 0;
}

/* The payload, if any, must be JSON; it is checked and passed on as it came. */
static int check_payload(struct husk_api_call *call, struct husk_err *err)
{
	struct json_object *obj;
	int rc;

	if (!call->body_len)
		return 0;
	rc = husk_json_parse(call->body, call->body_len, &obj, err);
	if (!rc)
		json_object_put(obj);
	return rc;
}

static int check_request(struct husk_api_call *call, enum invocation_type *type,
			 struct husk_invoke_req *req, char **cc, struct husk_err *err)
{
	int rc;

	rc = invocation_type(call, type, err);
	if (!rc)
		rc = log_type(call, &req->log_tail, err);
	if (!rc)
		rc = client_context(call, cc, err);
	if (!rc)
		rc = check_payload(call, err);
	return rc;
}

/* After the answer is sent: the environment goes back to the pool. */
static void invocation_done(void *arg)
{
	struct husk_invoke_res *res = arg;

	husk_invoke_res_free(res);
	free(res);
}

static bool add_headers(struct MHD_Response *resp, const struct husk_invoke_res *res)
{
	return MHD_add_response_header(resp, "X-Amz-Executed-Version", "$LATEST") == MHD_YES &&
	       (!res->function_error || MHD_add_response_header(resp, "X-Amz-Function-Error",
								res->function_error) == MHD_YES) &&
	       (!res->log_tail_b64 ||
		MHD_add_response_header(resp, "X-Amz-Log-Result", res->log_tail_b64) == MHD_YES) &&
	       MHD_add_response_header(resp, "X-Husk-Report", res->report_line) == MHD_YES;
}

static enum MHD_Result answer(struct husk_api_call *call, struct husk_invoke_res *res)
{
	struct MHD_Response *resp;

	/* libmicrohttpd frees the body once it is sent. */
	if (res->body)
		resp = MHD_create_response_from_buffer(res->body_len, res->body,
						       MHD_RESPMEM_MUST_FREE);
	else
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (resp)
		res->body = NULL;
	call->done = invocation_done;
	call->done_arg = res;
	if (resp && !add_headers(resp, res)) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	return husk_api_queue(call, 200, resp, "application/json", res->report.request_id);
}

enum MHD_Result husk_api_invoke(struct husk_api_call *call)
{
	struct husk_invoke_req req = {.payload = call->body, .payload_len = call->body_len};
	struct husk_invoke_res *res = NULL;
	enum invocation_type type;
	struct husk_function *fn;
	struct husk_err err;
	char *cc = NULL;
	int rc;

	fn = husk_api_fn(call, &err);
	if (!fn)
		return husk_api_error(call, &err);
	rc = check_request(call, &type, &req, &cc, &err);
	if (!rc && type == INVOKE_DRY_RUN) {
		husk_fn_put(fn);
		free(cc);
		return husk_api_queue(
		    call, 204,
		    MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT),
		    "application/json", NULL);
	}
	req.client_context = cc;
	if (!rc) {
		res = calloc(1, sizeof(*res));
		rc = res ? husk_invoke(call->ctx, fn, &req, res, &err) : -ENOMEM;
		if (!res)
			husk_err_set(&err, 500, HUSK_E_SERVICE, "out of memory");
	}
	husk_fn_put(fn);
	free(cc);
	if (rc) {
		free(res);
		return husk_api_error(call, &err);
	}
	return answer(call, res);
}
