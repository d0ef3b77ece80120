// SPDX-License-Identifier: GPL-2.0
/*
 * The API server: listening sockets, libmicrohttpd daemons, routing, request
 * bodies and Lambda-style responses. The operations themselves are in
 * fn_api.c (control plane) and invoke_api.c (data plane).
 *
 * libmicrohttpd calls the access handler several times per request: once
 * when the headers are in, once per piece of body, and once more when the
 * body is complete, which is when the operation runs. SigV4 Authorization
 * headers are accepted and ignored: the API is reachable only through the
 * Unix socket (mode 0600) and the TCP address the operator chose.
 */
#include <errno.h>
#include <stdatomic.h>
#include <json-c/json.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api.h"
#include "crypt.h"
#include "guest-init/protocol.h"
#include "log.h"
#include "registry.h"

#define API_PREFIX "/2015-03-31/functions"
/*
 * Idle keep-alive connections each hold a thread; close them after this
 * long. Busy ones are not affected: the timeout counts inactivity, and a
 * connection waiting for its Invoke is inside the handler.
 */
#define API_IDLE_TIMEOUT_S 120
/* Not in husk.h: only the router answers it. */
#define E_UNKNOWN_OPERATION "UnknownOperationException"

struct husk_api {
	struct MHD_Daemon *unix_daemon;
	struct MHD_Daemon *tcp_daemon;
	atomic_bool stopping; /* long answers (event streams) end */
};

enum api_path {
	PATH_UNKNOWN,
	PATH_FUNCTIONS,	    /* /functions, /functions/ */
	PATH_FUNCTION,	    /* /functions/{name} */
	PATH_CONFIGURATION, /* /functions/{name}/configuration */
	PATH_CODE,	    /* /functions/{name}/code */
	PATH_CODE_PACKAGE,  /* /functions/{name}/code-package */
	PATH_INVOCATIONS,   /* /functions/{name}/invocations */
	/* huskd's own, for huskctl; Unix socket only */
	PATH_CTL_ENVS,	     /* /husk/v1/envs */
	PATH_CTL_ENV,	     /* /husk/v1/envs/{id} */
	PATH_CTL_FEATURES,   /* /husk/v1/features */
	PATH_CTL_INVOCATION, /* /husk/v1/invocations/{request id} */
	PATH_CTL_EVENTS,     /* /husk/v1/events */
};

struct route {
	enum api_path path;
	const char *method;
	const char *operation;
	size_t body_max;
	enum MHD_Result (*handler)(struct husk_api_call *call);
};

static const struct route routes[] = {
    {PATH_FUNCTIONS, "POST", "CreateFunction", HUSK_API_BODY_MAX, husk_api_create_function},
    {PATH_FUNCTIONS, "GET", "ListFunctions", HUSK_API_BODY_MAX, husk_api_list_functions},
    {PATH_FUNCTION, "GET", "GetFunction", HUSK_API_BODY_MAX, husk_api_get_function},
    {PATH_FUNCTION, "DELETE", "DeleteFunction", HUSK_API_BODY_MAX, husk_api_delete_function},
    {PATH_CONFIGURATION, "GET", "GetFunctionConfiguration", HUSK_API_BODY_MAX,
     husk_api_get_function_configuration},
    {PATH_CONFIGURATION, "PUT", "UpdateFunctionConfiguration", HUSK_API_BODY_MAX,
     husk_api_update_function_configuration},
    {PATH_CODE, "PUT", "UpdateFunctionCode", HUSK_API_BODY_MAX, husk_api_update_function_code},
    {PATH_CODE_PACKAGE, "GET", "GetFunctionCodePackage", HUSK_API_BODY_MAX,
     husk_api_get_code_package},
    {PATH_INVOCATIONS, "POST", "InvokeFunction", HUSK_PAYLOAD_MAX, husk_api_invoke},
    {PATH_CTL_ENVS, "GET", "ListEnvironments", 0, husk_ctl_envs},
    {PATH_CTL_ENV, "GET", "GetEnvironment", 0, husk_ctl_env},
    {PATH_CTL_FEATURES, "GET", "GetFeatures", 0, husk_ctl_features},
    {PATH_CTL_INVOCATION, "GET", "GetInvocation", 0, husk_ctl_invocation},
    {PATH_CTL_EVENTS, "GET", "GetEvents", 0, husk_ctl_events},
};

#define CTL_PREFIX "/husk/v1/"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* What one request has gathered between the calls of the access handler. */
struct api_request {
	enum api_path path;
	const struct route *route; /* NULL: no operation for this path and method */
	char *fn_ref;
	char *body;
	size_t len, cap, max;
	bool too_large;
	bool no_memory;
	bool answered;		 /* a response was queued before the body arrived */
	void (*done)(void *arg); /* the handler's, run by completed() */
	void *done_arg;
};

enum MHD_Result husk_api_queue(struct husk_api_call *call, unsigned status,
			       struct MHD_Response *resp, const char *content_type,
			       const char *request_id)
{
	char uuid[37];
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	if (!request_id || !*request_id) {
		husk_uuid4(uuid);
		request_id = uuid;
	}
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type) != MHD_YES ||
	    MHD_add_response_header(resp, "x-amzn-RequestId", request_id) != MHD_YES)
		ret = MHD_NO;
	else
		ret = MHD_queue_response(call->conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static struct MHD_Response *copy_response(const char *s, size_t len)
{
	return MHD_create_response_from_buffer(len, (void *)s, MHD_RESPMEM_MUST_COPY);
}

/* The last resort when even an error cannot be built. */
static enum MHD_Result out_of_memory(struct husk_api_call *call)
{
	static const char body[] = "{\"Type\":\"Service\",\"message\":\"huskd is out of memory\"}";
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);

	if (resp && MHD_add_response_header(resp, "X-Amzn-ErrorType", HUSK_E_SERVICE) != MHD_YES) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	return husk_api_queue(call, 500, resp, "application/json", NULL);
}

enum MHD_Result husk_api_error(struct husk_api_call *call, const struct husk_err *err)
{
	unsigned status = err->status >= 400 && err->status < 600 ? err->status : 500;
	const char *type = err->type ? err->type : HUSK_E_SERVICE;
	struct json_object *obj = json_object_new_object();
	struct MHD_Response *resp = NULL;
	const char *s;
	size_t len;

	if (obj &&
	    !json_object_object_add(obj, "Type",
				    json_object_new_string(status >= 500 ? "Service" : "User")) &&
	    !json_object_object_add(obj, "message", json_object_new_string(err->msg))) {
		s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN, &len);
		resp = s ? copy_response(s, len) : NULL;
	}
	json_object_put(obj);
	if (!resp)
		return out_of_memory(call);
	if (MHD_add_response_header(resp, "X-Amzn-ErrorType", type) != MHD_YES) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	return husk_api_queue(call, status, resp, "application/json", NULL);
}

enum MHD_Result husk_api_json(struct husk_api_call *call, unsigned status, struct json_object *obj)
{
	struct MHD_Response *resp = NULL;
	const char *s;
	size_t len;

	if (obj) {
		s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN, &len);
		resp = s ? copy_response(s, len) : NULL;
		json_object_put(obj);
	}
	if (!resp)
		return out_of_memory(call);
	return husk_api_queue(call, status, resp, "application/json", NULL);
}

int husk_api_body_json(struct husk_api_call *call, struct json_object **out, struct husk_err *err)
{
	return husk_json_parse(call->body, call->body_len, out, err);
}

int husk_api_fn_ref(struct husk_api_call *call, struct husk_fn_ref *ref, struct husk_err *err)
{
	const char *qualifier =
	    MHD_lookup_connection_value(call->conn, MHD_GET_ARGUMENT_KIND, "Qualifier");
	int rc;

	rc = husk_fn_parse_ref(&call->ctx->cfg, call->fn_ref, ref, err);
	if (!rc)
		rc = husk_fn_check_qualifier(&call->ctx->cfg, ref, qualifier, err);
	return rc;
}

struct husk_function *husk_api_fn(struct husk_api_call *call, struct husk_err *err)
{
	struct husk_function *fn;
	struct husk_fn_ref ref;

	if (husk_api_fn_ref(call, &ref, err))
		return NULL;
	fn = husk_registry_lookup(call->ctx, ref.name);
	if (!fn)
		husk_fn_err_not_found(&call->ctx->cfg, ref.name, NULL, err);
	return fn;
}

/* /husk/v1/...: huskd's own operations; {id} goes to fn_ref. */
static enum api_path parse_ctl_path(const char *rest, char **fn_ref)
{
	static const struct {
		const char *name;
		enum api_path whole, with_id;
	} ctl[] = {
	    {"envs", PATH_CTL_ENVS, PATH_CTL_ENV},
	    {"features", PATH_CTL_FEATURES, PATH_UNKNOWN},
	    {"invocations", PATH_UNKNOWN, PATH_CTL_INVOCATION},
	    {"events", PATH_CTL_EVENTS, PATH_UNKNOWN},
	};
	const char *slash = strchr(rest, '/');
	size_t len = slash ? (size_t)(slash - rest) : strlen(rest), i;

	for (i = 0; i < ARRAY_SIZE(ctl); i++) {
		if (strlen(ctl[i].name) != len || strncmp(rest, ctl[i].name, len))
			continue;
		if (!slash || !slash[1])
			return ctl[i].whole;
		if (ctl[i].with_id == PATH_UNKNOWN || strchr(slash + 1, '/'))
			return PATH_UNKNOWN;
		*fn_ref = strdup(slash + 1);
		return *fn_ref ? ctl[i].with_id : PATH_UNKNOWN;
	}
	return PATH_UNKNOWN;
}

static bool ctl_path(enum api_path path)
{
	return path >= PATH_CTL_ENVS;
}

/* Split the URL (already %-decoded by libmicrohttpd) into a path kind and {name}. */
static enum api_path parse_path(const char *url, char **fn_ref)
{
	static const struct {
		const char *suffix;
		enum api_path path;
	} subs[] = {
	    {"configuration", PATH_CONFIGURATION},
	    {"code", PATH_CODE},
	    {"code-package", PATH_CODE_PACKAGE},
	    {"invocations", PATH_INVOCATIONS},
	};
	const char *rest, *slash;
	enum api_path path = PATH_FUNCTION;
	size_t i;

	*fn_ref = NULL;
	if (!strncmp(url, CTL_PREFIX, strlen(CTL_PREFIX)))
		return parse_ctl_path(url + strlen(CTL_PREFIX), fn_ref);
	if (strncmp(url, API_PREFIX, strlen(API_PREFIX)))
		return PATH_UNKNOWN;
	rest = url + strlen(API_PREFIX);
	if (!strcmp(rest, "") || !strcmp(rest, "/"))
		return PATH_FUNCTIONS;
	if (rest[0] != '/' || rest[1] == '/' || !rest[1])
		return PATH_UNKNOWN;
	rest++;
	slash = strchr(rest, '/');
	if (slash) {
		path = PATH_UNKNOWN;
		for (i = 0; i < ARRAY_SIZE(subs); i++)
			if (!strcmp(slash + 1, subs[i].suffix))
				path = subs[i].path;
		if (path == PATH_UNKNOWN)
			return path;
	}
	*fn_ref = strndup(rest, slash ? (size_t)(slash - rest) : strlen(rest));
	return *fn_ref ? path : PATH_UNKNOWN;
}

static const struct route *find_route(enum api_path path, const char *method)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(routes); i++)
		if (routes[i].path == path && !strcmp(routes[i].method, method))
			return &routes[i];
	return NULL;
}

static enum MHD_Result too_large(struct husk_api_call *call, const struct api_request *req)
{
	struct husk_err err;
	bool invoke = req->route && req->route->path == PATH_INVOCATIONS;

	husk_err_set(&err, 413, invoke ? HUSK_E_TOO_LARGE : HUSK_E_ENTITY_TOO_LARGE,
		     "Request must be smaller than %zu bytes for the %s operation", req->max,
		     req->route ? req->route->operation : "requested");
	return husk_api_error(call, &err);
}

/*
 * Lambda answers an unknown path with 404 and a method the path does not
 * take with 400, both as UnknownOperationException.
 */
static enum MHD_Result unknown_operation(struct husk_api_call *call, const struct api_request *req,
					 const char *method, const char *url)
{
	struct husk_err err;

	if (req->path == PATH_UNKNOWN)
		husk_err_set(&err, 404, E_UNKNOWN_OPERATION, "Unknown operation %s %.200s", method,
			     url);
	else
		husk_err_set(&err, 400, E_UNKNOWN_OPERATION,
			     "Unknown operation: %s is not a method of %.200s", method, url);
	return husk_api_error(call, &err);
}

static int body_reserve(struct api_request *req, size_t need)
{
	size_t cap = req->cap ? req->cap : 4096;
	char *body;

	while (cap < need)
		cap *= 2;
	if (cap > req->max + 1)
		cap = req->max + 1;
	body = realloc(req->body, cap);
	if (!body)
		return -ENOMEM;
	req->body = body;
	req->cap = cap;
	return 0;
}

static bool on_unix_socket(struct husk_ctx *ctx, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_DAEMON);

	return ci && ci->daemon == ctx->api->unix_daemon;
}

bool husk_api_stopping(struct husk_ctx *ctx)
{
	return !ctx->api || atomic_load(&ctx->api->stopping);
}

/* Headers are in: route, and refuse a body announced too large before it comes. */
static enum MHD_Result begin(struct husk_ctx *ctx, struct MHD_Connection *conn, const char *url,
			     const char *method, void **con_cls)
{
	struct husk_api_call call = {.ctx = ctx, .conn = conn};
	struct api_request *req = calloc(1, sizeof(*req));
	const char *cl;
	unsigned long long announced = 0;

	if (!req)
		return MHD_NO;
	*con_cls = req;
	req->path = parse_path(url, &req->fn_ref);
	/* huskd's own operations only for root's 0600 socket, never on TCP. */
	if (ctl_path(req->path) && !on_unix_socket(ctx, conn))
		req->path = PATH_UNKNOWN;
	req->route = find_route(req->path, method);
	req->max = req->route ? req->route->body_max : HUSK_API_BODY_MAX;
	cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl)
		announced = strtoull(cl, NULL, 10);
	if (announced > req->max) {
		/* libmicrohttpd then discards the body and closes the connection. */
		req->answered = true;
		return too_large(&call, req);
	}
	/* One allocation of the right size when the length is known. */
	if (announced && body_reserve(req, announced + 1))
		return MHD_NO;
	return MHD_YES;
}

/* A piece of body: keep it, or past the limit stop keeping and answer 413 at the end. */
static void take_body(struct api_request *req, const char *data, size_t size)
{
	if (req->too_large || req->no_memory || req->answered)
		return;
	if (size > req->max - req->len) {
		req->too_large = true;
		free(req->body);
		req->body = NULL;
		req->len = req->cap = 0;
		return;
	}
	if (req->len + size + 1 > req->cap && body_reserve(req, req->len + size + 1)) {
		req->no_memory = true;
		return;
	}
	memcpy(req->body + req->len, data, size);
	req->len += size;
}

static enum MHD_Result dispatch(struct husk_ctx *ctx, struct MHD_Connection *conn,
				struct api_request *req, const char *url, const char *method)
{
	struct husk_api_call call = {
	    .ctx = ctx,
	    .conn = conn,
	    .fn_ref = req->fn_ref,
	    .body = req->body ? req->body : "",
	    .body_len = req->len,
	};
	enum MHD_Result ret;
	struct husk_err err;

	if (req->answered)
		return MHD_YES;
	if (req->body)
		req->body[req->len] = '\0';
	if (!req->route)
		return unknown_operation(&call, req, method, url);
	if (req->too_large)
		return too_large(&call, req);
	if (req->no_memory) {
		husk_err_set(&err, 500, HUSK_E_SERVICE,
			     "out of memory while reading the request body");
		return husk_api_error(&call, &err);
	}
	ret = req->route->handler(&call);
	req->done = call.done;
	req->done_arg = call.done_arg;
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct api_request *req = *con_cls;

	if (!req)
		return begin(cls, conn, url, method, con_cls);
	if (*upload_data_size) {
		take_body(req, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	return dispatch(cls, conn, req, url, method);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct api_request *req = *con_cls;

	if (!req)
		return;
	if (req->done)
		req->done(req->done_arg);
	free(req->fn_ref);
	free(req->body);
	free(req);
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	pr_warn("API: %s", line);
}

static struct MHD_Daemon *start_daemon(struct husk_ctx *ctx, int listen_fd)
{
	/* poll, not select: huskd's descriptors go far past FD_SETSIZE. */
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_POLL | MHD_USE_ERROR_LOG;

	/* The logger first, so that it gets the messages about the options too. */
	return MHD_start_daemon(
	    flags, 0, NULL, NULL, handle, ctx, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_LISTEN_SOCKET, listen_fd, MHD_OPTION_NOTIFY_COMPLETED, completed, ctx,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)API_IDLE_TIMEOUT_S, MHD_OPTION_END);
}

static int __attribute__((format(printf, 4, 5)))
fail(int rc, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/*
 * A socket file left by a huskd that did not stop cleanly is replaced; one
 * that somebody still serves, or a file that is not a socket, is not.
 */
static int remove_stale_socket(const struct sockaddr_un *sa, char *err, size_t errlen)
{
	const char *path = sa->sun_path;
	struct stat st;
	int fd = -1, rc;

	if (lstat(path, &st))
		return errno == ENOENT
			   ? 0
			   : fail(-errno, err, errlen, "cannot stat %s: %s", path, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return fail(-EEXIST, err, errlen, "%s exists and is not a socket", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(-errno, err, errlen, "socket: %s", strerror(errno));
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (!rc)
		return fail(-EADDRINUSE, err, errlen, "%s is served by another process", path);
	if (unlink(path) && errno != ENOENT)
		return fail(-errno, err, errlen, "cannot remove stale socket %s: %s", path,
			    strerror(errno));
	return 0;
}

static int unix_listener(const char *path, int *out, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = -1, rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return fail(-ENAMETOOLONG, err, errlen, "socket path %s is longer than %zu bytes",
			    path, sizeof(sa.sun_path) - 1);
	strcpy(sa.sun_path, path);
	rc = remove_stale_socket(&sa, err, errlen);
	if (rc)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(-errno, err, errlen, "socket: %s", strerror(errno));
	/* chmod before listen: nobody can connect while the mode is still open. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		rc = fail(-errno, err, errlen, "cannot bind %s: %s", path, strerror(errno));
	else if (chmod(path, 0600))
		rc = fail(-errno, err, errlen, "cannot chmod %s: %s", path, strerror(errno));
	else if (listen(fd, SOMAXCONN))
		rc = fail(-errno, err, errlen, "cannot listen on %s: %s", path, strerror(errno));
	if (rc) {
		close(fd);
		unlink(path);
		return rc;
	}
	*out = fd;
	return 0;
}

static int tcp_bind(const struct addrinfo *ai, int *out)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	int one = 1, rc = 0;

	if (fd < 0)
		return -errno;
	/* A restarted huskd must not wait for the old connections' TIME_WAIT. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, SOMAXCONN))
		rc = -errno;
	if (rc) {
		close(fd);
		return rc;
	}
	*out = fd;
	return 0;
}

/*
 * Bound here rather than by libmicrohttpd (MHD_OPTION_SOCK_ADDR) so that a
 * failure can say which address failed and why.
 */
static int tcp_listener(const char *host, int port, int *out, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *res, *ai;
	char service[16];
	int rc;

	snprintf(service, sizeof(service), "%d", port);
	rc = getaddrinfo(*host ? host : NULL, service, &hints, &res);
	if (rc)
		return fail(-EADDRNOTAVAIL, err, errlen, "cannot resolve %s: %s", host,
			    gai_strerror(rc));
	rc = -EADDRNOTAVAIL;
	for (ai = res; ai && rc; ai = ai->ai_next)
		rc = tcp_bind(ai, out);
	freeaddrinfo(res);
	if (rc)
		return fail(rc, err, errlen, "cannot listen on %s:%d: %s", host, port,
			    strerror(-rc));
	return 0;
}

/*
 * libmicrohttpd does not say whether it closes a listening socket it was
 * given when it fails to start; huskd exits on this error, so the socket
 * is left to the exit rather than risk closing it twice.
 */
static int serve(struct husk_ctx *ctx, int fd, const char *what, struct MHD_Daemon **out, char *err,
		 size_t errlen)
{
	*out = start_daemon(ctx, fd);
	if (!*out)
		return fail(-EIO, err, errlen, "cannot start the HTTP server on %s", what);
	return 0;
}

static int start_unix(struct husk_ctx *ctx, struct husk_api *api, char *err, size_t errlen)
{
	const char *path = ctx->cfg.socket_path;
	int fd = -1, rc;

	rc = unix_listener(path, &fd, err, errlen);
	if (!rc)
		rc = serve(ctx, fd, path, &api->unix_daemon, err, errlen);
	/* Not served: the file must not look like a live huskd. */
	if (rc)
		unlink(path);
	return rc;
}

static int start_tcp(struct husk_ctx *ctx, struct husk_api *api, char *err, size_t errlen)
{
	char what[300];
	int fd = -1, rc;

	rc = tcp_listener(ctx->cfg.listen_host, ctx->cfg.listen_port, &fd, err, errlen);
	if (rc)
		return rc;
	snprintf(what, sizeof(what), "%s:%d", ctx->cfg.listen_host, ctx->cfg.listen_port);
	return serve(ctx, fd, what, &api->tcp_daemon, err, errlen);
}

int husk_api_start(struct husk_ctx *ctx, char *err, size_t errlen)
{
	struct husk_api *api = calloc(1, sizeof(*api));
	int rc = 0;

	if (!api)
		return fail(-ENOMEM, err, errlen, "out of memory");
	ctx->api = api;
	if (ctx->cfg.socket_path && *ctx->cfg.socket_path)
		rc = start_unix(ctx, api, err, errlen);
	if (!rc && ctx->cfg.listen_port)
		rc = start_tcp(ctx, api, err, errlen);
	if (!rc && !api->unix_daemon && !api->tcp_daemon)
		rc = fail(-EINVAL, err, errlen, "neither a socket path nor a TCP port is set");
	if (rc)
		husk_api_stop(ctx);
	return rc;
}

void husk_api_stop(struct husk_ctx *ctx)
{
	struct husk_api *api = ctx->api;

	if (!api)
		return;
	atomic_store(&api->stopping, true);
	/* Each waits for its connection threads, so no handler runs after this. */
	if (api->tcp_daemon)
		MHD_stop_daemon(api->tcp_daemon);
	if (api->unix_daemon) {
		MHD_stop_daemon(api->unix_daemon);
		if (unlink(ctx->cfg.socket_path) && errno != ENOENT)
			pr_warn("cannot remove %s: %s", ctx->cfg.socket_path, strerror(errno));
	}
	free(api);
	ctx->api = NULL;
}
