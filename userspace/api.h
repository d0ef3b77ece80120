/* SPDX-License-Identifier: GPL-2.0 */
/*
 * huskd's Lambda-compatible REST API (the 2015-03-31 function routes), served
 * by libmicrohttpd on a Unix socket and on TCP, so that the aws CLI and the
 * AWS SDKs work against it with --endpoint-url.
 *
 * Every connection has its own thread: an Invoke blocks in husk_invoke until
 * the function answers, and the answer goes out from the thread that read the
 * request, with no hand-off on the warm path.
 */
#ifndef HUSK_API_H
#define HUSK_API_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#include "fn_config.h"
#include "function.h"
#include "husk.h"

/*
 * Serve the API on the Unix socket cfg.socket_path (mode 0600, a stale
 * socket file is replaced) and on TCP cfg.listen_host:cfg.listen_port;
 * either may be disabled ("" / 0). On failure err says why.
 */
int husk_api_start(struct husk_ctx *ctx, char *err, size_t errlen);
/* Stop accepting, finish the requests in flight, remove the socket file. */
void husk_api_stop(struct husk_ctx *ctx);

/* The rest is shared by the API's own files: api.c, fn_api.c, invoke_api.c. */

struct json_object;

/* Lambda's limit on a control-plane request body (a 50 MB zip, base64, in JSON). */
#define HUSK_API_BODY_MAX 70167211u

/* One request whose body has been read. */
struct husk_api_call {
	struct husk_ctx *ctx;
	struct MHD_Connection *conn;
	const char *fn_ref; /* the URL-decoded {name} of the path, or NULL */
	const char *body;   /* NUL-terminated */
	size_t body_len;
	/*
	 * Set by a handler to run once the answer has been sent, or the
	 * connection is gone: what must not delay the answer.
	 */
	void (*done)(void *arg);
	void *done_arg;
};

/*
 * Queue resp with the headers every answer has (Content-Type, and
 * x-amzn-RequestId: request_id, or a new UUID when NULL); resp is released.
 */
enum MHD_Result husk_api_queue(struct husk_api_call *call, unsigned status,
			       struct MHD_Response *resp, const char *content_type,
			       const char *request_id);

/* A Lambda error: status, X-Amzn-ErrorType and {"Type":"User","message":...}. */
enum MHD_Result husk_api_error(struct husk_api_call *call, const struct husk_err *err);

/* obj, serialized, with status; the reference to obj is dropped. NULL answers 500. */
enum MHD_Result husk_api_json(struct husk_api_call *call, unsigned status, struct json_object *obj);

/* The body as a JSON document (NULL for JSON null). */
int husk_api_body_json(struct husk_api_call *call, struct json_object **out, struct husk_err *err);

/* The {name} of the path and ?Qualifier=, checked: only $LATEST exists. */
int husk_api_fn_ref(struct husk_api_call *call, struct husk_fn_ref *ref, struct husk_err *err);

/* The current version of the function the path names, with a reference. */
struct husk_function *husk_api_fn(struct husk_api_call *call, struct husk_err *err);

/* Whether huskd is stopping: long answers (event streams) end. */
bool husk_api_stopping(struct husk_ctx *ctx);

/* huskd's own operations for huskctl (ctl_api.c), on the Unix socket only. */
enum MHD_Result husk_ctl_envs(struct husk_api_call *call);
enum MHD_Result husk_ctl_env(struct husk_api_call *call);
enum MHD_Result husk_ctl_features(struct husk_api_call *call);
enum MHD_Result husk_ctl_invocation(struct husk_api_call *call);
enum MHD_Result husk_ctl_events(struct husk_api_call *call);

/* Control plane (fn_api.c). */
enum MHD_Result husk_api_create_function(struct husk_api_call *call);
enum MHD_Result husk_api_list_functions(struct husk_api_call *call);
enum MHD_Result husk_api_get_function(struct husk_api_call *call);
enum MHD_Result husk_api_get_code_package(struct husk_api_call *call);
enum MHD_Result husk_api_get_function_configuration(struct husk_api_call *call);
enum MHD_Result husk_api_delete_function(struct husk_api_call *call);
enum MHD_Result husk_api_update_function_code(struct husk_api_call *call);
enum MHD_Result husk_api_update_function_configuration(struct husk_api_call *call);

/* Data plane (invoke_api.c). */
enum MHD_Result husk_api_invoke(struct husk_api_call *call);

#endif
