// SPDX-License-Identifier: GPL-2.0
/*
 * The Lambda Runtime API that husk-init serves to the function's runtime on
 * 127.0.0.1:9001, and the one invocation it holds for it.
 *
 * HTTP/1.1 with keep-alive, parsed by http-parser, on non-blocking sockets in
 * husk-init's epoll loop. A GET .../invocation/next is parked until huskd's
 * INVOKE is there; the runtime's result goes to huskd as a frame before the
 * runtime gets its 202, because huskd's answer to its caller is the latency
 * that counts. On the warm path nothing is allocated but the INVOKE payload,
 * and a request costs one read, one frame and one write.
 */
#include <errno.h>
#include <http_parser.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "guest-init/init.h"

#define RUNTIME_API_ADDR 0x7f000001 /* 127.0.0.1 */
#define RUNTIME_API_PORT 9001
#define API_PREFIX "/2018-06-01/runtime/"

#define CONN_MAX 64
#define RBUF_SIZE (64u << 10)
#define URL_MAX 1024
#define FIELD_MAX 64
#define ERROR_TYPE_MAX 1024 /* a longer error type header is cut here */
#define EXPECT_MAX 32
#define OUT_IOV_MAX 16
/* A body buffer up to this size is kept for the connection's next request. */
#define BODY_KEEP_MAX (256u << 10)

#define ERROR_TYPE_HEADER "Lambda-Runtime-Function-Error-Type"
#define TOO_LARGE_TYPE "Function.ResponseSizeTooLarge"

/* What huskd gets for a result the runtime posted over the limit. */
static const char too_large_result[] =
    "{\"errorMessage\":\"Response payload size exceeded maximum allowed payload size "
    "(6291556 bytes).\",\"errorType\":\"" TOO_LARGE_TYPE "\"}";

static const char ok_body[] = "{\"status\":\"OK\"}";
static const char invalid_id_body[] =
    "{\"errorMessage\":\"Invalid request ID\",\"errorType\":\"InvalidRequestID\"}";
static const char not_found_body[] =
    "{\"errorMessage\":\"Unknown Runtime API endpoint\",\"errorType\":\"InvalidRequest\"}";
static const char too_large_body[] =
    "{\"errorMessage\":\"Exceeded maximum allowed payload size (6291556 bytes).\","
    "\"errorType\":\"RequestEntityTooLarge\"}";
static const char continue_line[] = "HTTP/1.1 100 Continue\r\n\r\n";

enum route { ROUTE_NONE, ROUTE_NEXT, ROUTE_RESPONSE, ROUTE_ERROR, ROUTE_INIT_ERROR };

enum header { HDR_OTHER, HDR_ERROR_TYPE, HDR_EXPECT };

/* The request being parsed; reset at the start of every message. */
struct request {
	size_t url_len;
	size_t field_len;
	size_t error_type_len;
	size_t expect_len;
	const char *id; /* into url */
	size_t id_len;
	enum route route;
	enum header header;
	bool in_value;
	bool too_long; /* URL longer than URL_MAX: no route matches */
	bool discard;  /* the body is not wanted */
	bool answered; /* a response was sent before the body was read */
	bool expect_continue;
};

struct husk_conn {
	struct husk_watch watch; /* what epoll hands back */
	struct husk_api *api;
	struct husk_conn *next;	       /* in api->conns, or api->dead once closed */
	struct husk_conn *next_parked; /* in api->parked */
	uint32_t events;	       /* registered with epoll */
	bool closed;
	bool parked;
	bool broken;	  /* unparseable: answered 400, closes when that is out */
	bool close_after; /* close once the output is written */

	http_parser parser;
	char *rbuf;
	size_t rpos, rlen; /* parsed up to rpos, read up to rlen */

	struct request req;
	char url[URL_MAX];
	char field[FIELD_MAX];
	char error_type[ERROR_TYPE_MAX];
	char expect[EXPECT_MAX];
	char *body;
	size_t body_len, body_cap;

	struct iovec out[OUT_IOV_MAX];
	int out_idx, out_cnt;
	char *out_owned; /* freed once the output is written */
	char head[2][160];
	char msg[160];
};

#define LIT_IOV(s) ((struct iovec){.iov_base = (void *)(s), .iov_len = sizeof(s) - 1})
#define MEM_IOV(p, n) ((struct iovec){.iov_base = (void *)(p), .iov_len = (n)})

static int conn_process(struct husk_conn *c);

static struct husk_conn *conn_of_watch(struct husk_watch *w)
{
	return (struct husk_conn *)((char *)w - offsetof(struct husk_conn, watch));
}

static bool conn_busy(const struct husk_conn *c)
{
	return c->closed || c->parked || c->broken || c->out_cnt;
}

/* Register what the connection waits for, with a syscall only on change. */
static void conn_watch(struct husk_conn *c)
{
	uint32_t want = EPOLLRDHUP;
	struct epoll_event ev;

	if (c->closed)
		return;
	if (c->rlen - c->rpos < RBUF_SIZE)
		want |= EPOLLIN;
	if (c->out_cnt)
		want |= EPOLLOUT;
	if (want == c->events)
		return;
	ev = (struct epoll_event){.events = want, .data.ptr = &c->watch};
	if (epoll_ctl(c->api->epfd, EPOLL_CTL_MOD, c->watch.fd, &ev) == 0)
		c->events = want;
	else
		pr_init_err("epoll_ctl on a Runtime API connection: %s", strerror(errno));
}

static void unpark(struct husk_conn *c)
{
	struct husk_conn **pp;

	for (pp = &c->api->parked; *pp; pp = &(*pp)->next_parked) {
		if (*pp == c) {
			*pp = c->next_parked;
			break;
		}
	}
	c->next_parked = NULL;
	c->parked = false;
}

static void park(struct husk_conn *c)
{
	struct husk_conn **pp = &c->api->parked;

	while (*pp)
		pp = &(*pp)->next_parked;
	*pp = c;
	c->parked = true;
}

/* Close now; the memory goes at the end of the event batch (husk_api_reap). */
static void conn_close(struct husk_conn *c)
{
	struct husk_api *api = c->api;
	struct husk_conn **pp;

	if (c->closed)
		return;
	if (c->parked)
		unpark(c);
	/* Explicitly: a forked child may still share the socket until its exec. */
	epoll_ctl(api->epfd, EPOLL_CTL_DEL, c->watch.fd, NULL);
	close(c->watch.fd);
	c->closed = true;
	for (pp = &api->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	c->next = api->dead;
	api->dead = c;
	api->nconns--;
}

static void output_done(struct husk_conn *c)
{
	c->out_idx = c->out_cnt = 0;
	free(c->out_owned);
	c->out_owned = NULL;
	if (c->close_after)
		conn_close(c);
}

/* Write what is queued; on EAGAIN, wait for EPOLLOUT. Closes on error. */
static int conn_flush(struct husk_conn *c)
{
	while (c->out_idx < c->out_cnt) {
		struct msghdr mh = {
		    .msg_iov = c->out + c->out_idx,
		    .msg_iovlen = (size_t)(c->out_cnt - c->out_idx),
		};
		ssize_t n = sendmsg(c->watch.fd, &mh, MSG_NOSIGNAL);
		int err = -errno;

		if (n < 0) {
			if (err == -EINTR)
				continue;
			if (err == -EAGAIN)
				break;
			conn_close(c);
			return err;
		}
		while (c->out_idx < c->out_cnt && (size_t)n >= c->out[c->out_idx].iov_len)
			n -= (ssize_t)c->out[c->out_idx++].iov_len;
		if (c->out_idx < c->out_cnt) {
			c->out[c->out_idx].iov_base = (char *)c->out[c->out_idx].iov_base + n;
			c->out[c->out_idx].iov_len -= (size_t)n;
		}
	}
	if (c->out_idx == c->out_cnt)
		output_done(c);
	conn_watch(c);
	return 0;
}

/*
 * Queue a response and write as much as the socket takes now. The iovec
 * bases must stay valid until it is written: literals, the connection's own
 * buffers, or out_owned.
 */
static int conn_send(struct husk_conn *c, const struct iovec *iov, int cnt)
{
	int queued = c->out_cnt - c->out_idx;

	if (c->closed)
		return -EPIPE;
	if (queued + cnt > OUT_IOV_MAX) {
		conn_close(c);
		return -ENOBUFS;
	}
	memmove(c->out, c->out + c->out_idx, (size_t)queued * sizeof(c->out[0]));
	memcpy(c->out + queued, iov, (size_t)cnt * sizeof(*iov));
	c->out_idx = 0;
	c->out_cnt = queued + cnt;
	return conn_flush(c);
}

static const char *status_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 202:
		return "Accepted";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 413:
		return "Payload Too Large";
	default:
		return "Internal Server Error";
	}
}

/* A JSON response; body must stay valid until written (literal or c->msg). */
static int conn_reply(struct husk_conn *c, int status, const char *body, size_t len)
{
	struct iovec iov[2];
	int n;

	n = snprintf(c->head[0], sizeof(c->head[0]),
		     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
		     "Content-Length: %zu\r\n%s\r\n",
		     status, status_reason(status), len,
		     c->close_after || c->req.answered ? "Connection: close\r\n" : "");
	iov[0] = MEM_IOV(c->head[0], (size_t)n);
	iov[1] = MEM_IOV(body, len);
	return conn_send(c, iov, 2);
}

#define conn_reply_lit(c, status, lit) conn_reply(c, status, lit, sizeof(lit) - 1)

/*
 * Answer before the body is in. The connection ends after this request: at
 * once when the client waits for 100 Continue (it sends no body), otherwise
 * once the body has been read away (handle_request), so that the client
 * gets to read the answer instead of a reset.
 */
static int conn_answer_early(struct husk_conn *c, int status, const char *body, size_t len)
{
	c->req.answered = true;
	c->req.discard = true;
	if (c->req.expect_continue)
		c->close_after = true;
	return conn_reply(c, status, body, len);
}

int husk_send_result(int chan_fd, uint32_t type, const char *id, size_t id_len,
		     const char *error_type, size_t error_type_len, const char *body,
		     size_t body_len)
{
	struct husk_result res = {
	    .request_id_len = (uint16_t)id_len,
	    .error_type_len = (uint16_t)error_type_len,
	    .body_len = (uint32_t)body_len,
	};
	struct iovec iov[4] = {
	    MEM_IOV(&res, sizeof(res)),
	    MEM_IOV(id, id_len),
	    MEM_IOV(error_type, error_type_len),
	    MEM_IOV(body, body_len),
	};

	if (id_len > UINT16_MAX || error_type_len > UINT16_MAX || body_len > UINT32_MAX)
		return -EMSGSIZE;
	return husk_channel_send(chan_fd, type, iov, 4);
}

/* The invocation is over (a result was sent): make room for the next. */
static void inv_finish(struct husk_api *api)
{
	struct husk_invocation *inv = &api->inv;

	free(inv->frame);
	*inv = (struct husk_invocation){.state = HUSK_INV_EMPTY};
}

static bool inv_matches(const struct husk_api *api, const char *id, size_t len)
{
	const struct husk_invocation *inv = &api->inv;

	return inv->state != HUSK_INV_EMPTY && len == inv->id_len && !memcmp(id, inv->id, len);
}

/* Header values go out verbatim: a CR, LF or NUL would end them early. */
static void sanitize_header_value(char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] == '\r' || p[i] == '\n' || p[i] == '\0')
			p[i] = ' ';
	}
}

static int take_string(struct husk_cursor *cur, size_t len, char **out)
{
	const char *p;
	int err;

	err = husk_cursor_span(cur, len, &p);
	if (err)
		return err;
	/* The cursor is over a buffer we own; a header value may be rewritten. */
	*out = (char *)p;
	sanitize_header_value(*out, len);
	return 0;
}

static int parse_invoke(struct husk_invocation *inv, char *frame, size_t len)
{
	struct husk_cursor cur = {.p = frame, .left = len};
	struct husk_invoke *h = &inv->hdr;
	int err;

	err = husk_cursor_take(&cur, h, sizeof(*h));
	if (!err)
		err = take_string(&cur, h->request_id_len, &inv->request_id);
	if (!err)
		err = take_string(&cur, h->arn_len, &inv->arn);
	if (!err)
		err = take_string(&cur, h->trace_id_len, &inv->trace_id);
	if (!err)
		err = take_string(&cur, h->client_context_len, &inv->client_context);
	if (!err)
		err = husk_cursor_span(&cur, h->payload_len, (const char **)&inv->payload);
	if (err || cur.left || !h->request_id_len || h->request_id_len > HUSK_REQUEST_ID_MAX)
		return -EBADMSG;
	memcpy(inv->id, inv->request_id, h->request_id_len);
	inv->id_len = h->request_id_len;
	inv->frame = frame;
	return 0;
}

/*
 * Answer a /next with the held invocation. The INVOKE payload goes out as
 * the body without a copy; the connection owns it until it is written.
 */
static int conn_deliver(struct husk_conn *c)
{
	struct husk_invocation *inv = &c->api->inv;
	const struct husk_invoke *h = &inv->hdr;
	struct iovec iov[10];
	char *frame = inv->frame;
	int n = 0, len, err;

	iov[n++] = LIT_IOV("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			   "Lambda-Runtime-Aws-Request-Id: ");
	iov[n++] = MEM_IOV(inv->request_id, h->request_id_len);
	len = snprintf(c->head[0], sizeof(c->head[0]),
		       "\r\nLambda-Runtime-Deadline-Ms: %" PRIu64
		       "\r\nLambda-Runtime-Invoked-Function-Arn: ",
		       h->deadline_ms);
	iov[n++] = MEM_IOV(c->head[0], (size_t)len);
	iov[n++] = MEM_IOV(inv->arn, h->arn_len);
	iov[n++] = LIT_IOV("\r\nLambda-Runtime-Trace-Id: ");
	iov[n++] = MEM_IOV(inv->trace_id, h->trace_id_len);
	if (h->client_context_len) {
		iov[n++] = LIT_IOV("\r\nLambda-Runtime-Client-Context: ");
		iov[n++] = MEM_IOV(inv->client_context, h->client_context_len);
	}
	len = snprintf(c->head[1], sizeof(c->head[1]), "\r\nContent-Length: %" PRIu32 "\r\n%s\r\n",
		       h->payload_len, c->close_after ? "Connection: close\r\n" : "");
	iov[n++] = MEM_IOV(c->head[1], (size_t)len);
	iov[n++] = MEM_IOV(inv->payload, h->payload_len);

	unpark(c);
	err = conn_send(c, iov, n);
	if (err)
		return err; /* still held: the next /next gets it */
	inv->state = HUSK_INV_DELIVERED;
	inv->frame = NULL;
	if (c->out_cnt && !c->closed)
		c->out_owned = frame;
	else
		free(frame);
	return 0;
}

/*
 * Hand the held invocation to the oldest parked /next that takes it; returns
 * that connection, or NULL.
 */
static struct husk_conn *deliver_held(struct husk_api *api)
{
	while (api->inv.state == HUSK_INV_HELD && api->parked) {
		struct husk_conn *c = api->parked;

		if (conn_deliver(c) == 0)
			return c;
	}
	return NULL;
}

int husk_api_invoke(struct husk_api *api, char *payload, size_t len)
{
	struct husk_conn *c;
	int err;

	if (api->inv.state != HUSK_INV_EMPTY) {
		free(payload);
		return -EBUSY;
	}
	err = parse_invoke(&api->inv, payload, len);
	if (err) {
		free(payload);
		api->inv = (struct husk_invocation){.state = HUSK_INV_EMPTY};
		return err;
	}
	api->inv.state = HUSK_INV_HELD;
	c = deliver_held(api);
	/* Written at once: go on with what the runtime sent meanwhile, if any. */
	if (c && !conn_busy(c))
		return conn_process(c);
	return 0;
}

void husk_api_spawned(struct husk_api *api, uint64_t spawn_ns)
{
	api->spawn_ns = spawn_ns;
	api->ready_sent = false;
}

/* GET /next: READY the first time, then the invocation or a wait for it. */
static int api_next(struct husk_conn *c)
{
	struct husk_api *api = c->api;

	if (api->spawn_ns && !api->ready_sent) {
		struct husk_ready ready = {.init_ns = husk_now_ns() - api->spawn_ns};
		struct iovec iov = MEM_IOV(&ready, sizeof(ready));
		int err = husk_channel_send(api->chan_fd, HUSK_MSG_READY, &iov, 1);

		if (err)
			return err;
		api->ready_sent = true;
	}
	park(c);
	/* When c takes it and is done writing, conn_process() goes on with it. */
	deliver_held(api);
	return 0;
}

static void body_release(struct husk_conn *c)
{
	c->body_len = 0;
	if (c->body_cap > BODY_KEEP_MAX) {
		free(c->body);
		c->body = NULL;
		c->body_cap = 0;
	}
}

static int body_reserve(struct husk_conn *c, size_t need)
{
	char *p;

	if (need <= c->body_cap)
		return 0;
	p = realloc(c->body, need);
	if (!p)
		return -ENOMEM;
	c->body = p;
	c->body_cap = need;
	return 0;
}

/* POST of a result: to huskd first, then 202 to the runtime. */
static int post_result(struct husk_conn *c, uint32_t type)
{
	struct husk_api *api = c->api;
	size_t etype_len = type == HUSK_MSG_RESPONSE ? 0 : c->req.error_type_len;
	int err;

	if (type != HUSK_MSG_INIT_ERROR && !inv_matches(api, c->req.id, c->req.id_len)) {
		body_release(c);
		conn_reply_lit(c, 400, invalid_id_body);
		return 0;
	}
	err = husk_send_result(api->chan_fd, type, c->req.id, c->req.id_len, c->error_type,
			       etype_len, c->body, c->body_len);
	if (err)
		return err;
	if (type != HUSK_MSG_INIT_ERROR)
		inv_finish(api);
	body_release(c);
	conn_reply_lit(c, 202, ok_body);
	return 0;
}

/*
 * A body over HUSK_PAYLOAD_MAX: huskd gets the error now, the runtime a 413,
 * and the rest of the body is read away without being kept.
 */
static int reject_too_large(struct husk_conn *c)
{
	struct husk_api *api = c->api;
	bool init = c->req.route == ROUTE_INIT_ERROR;
	int err;

	body_release(c);
	err = husk_send_result(api->chan_fd, init ? HUSK_MSG_INIT_ERROR : HUSK_MSG_ERROR, c->req.id,
			       c->req.id_len, TOO_LARGE_TYPE, sizeof(TOO_LARGE_TYPE) - 1,
			       too_large_result, sizeof(too_large_result) - 1);
	if (err) {
		api->fatal = err;
		return -1;
	}
	if (!init)
		inv_finish(api);
	conn_answer_early(c, 413, too_large_body, sizeof(too_large_body) - 1);
	return c->closed ? -1 : 0;
}

static void match_route(struct husk_conn *c, const char *path, size_t len)
{
	static const char next[] = "invocation/next", init_error[] = "init/error";
	static const char inv[] = "invocation/";
	const size_t plen = sizeof(API_PREFIX) - 1;
	const char *slash;
	unsigned int method = c->parser.method;

	if (len < plen || memcmp(path, API_PREFIX, plen))
		return;
	path += plen;
	len -= plen;
	if (method == HTTP_GET && len == sizeof(next) - 1 && !memcmp(path, next, len)) {
		c->req.route = ROUTE_NEXT;
		return;
	}
	if (method != HTTP_POST)
		return;
	if (len == sizeof(init_error) - 1 && !memcmp(path, init_error, len)) {
		c->req.route = ROUTE_INIT_ERROR;
		return;
	}
	if (len <= sizeof(inv) - 1 || memcmp(path, inv, sizeof(inv) - 1))
		return;
	path += sizeof(inv) - 1;
	len -= sizeof(inv) - 1;
	slash = memchr(path, '/', len);
	if (!slash || slash == path)
		return;
	c->req.id = path;
	c->req.id_len = (size_t)(slash - path);
	len -= c->req.id_len + 1;
	if (len == 8 && !memcmp(slash + 1, "response", 8))
		c->req.route = ROUTE_RESPONSE;
	else if (len == 5 && !memcmp(slash + 1, "error", 5))
		c->req.route = ROUTE_ERROR;
}

static void route_request(struct husk_conn *c)
{
	struct http_parser_url u;

	if (c->req.too_long)
		return;
	http_parser_url_init(&u);
	if (http_parser_parse_url(c->url, c->req.url_len, 0, &u) || !(u.field_set & (1 << UF_PATH)))
		return;
	match_route(c, c->url + u.field_data[UF_PATH].off, u.field_data[UF_PATH].len);
}

static bool wants_body(const struct husk_conn *c)
{
	switch (c->req.route) {
	case ROUTE_INIT_ERROR:
		return true;
	case ROUTE_RESPONSE:
	case ROUTE_ERROR:
		return inv_matches(c->api, c->req.id, c->req.id_len);
	default:
		return false;
	}
}

/* http-parser callbacks: collect the request, act once the headers are in. */

static int on_message_begin(http_parser *p)
{
	struct husk_conn *c = p->data;

	c->req = (struct request){.route = ROUTE_NONE};
	c->body_len = 0;
	return 0;
}

static void append(char *dst, size_t cap, size_t *len, const char *src, size_t n, bool *cut)
{
	if (n > cap - *len) {
		n = cap - *len;
		if (cut)
			*cut = true;
	}
	memcpy(dst + *len, src, n);
	*len += n;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
	struct husk_conn *c = p->data;

	append(c->url, sizeof(c->url), &c->req.url_len, at, n, &c->req.too_long);
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
	struct husk_conn *c = p->data;

	if (c->req.in_value) {
		c->req.in_value = false;
		c->req.field_len = 0;
	}
	append(c->field, sizeof(c->field), &c->req.field_len, at, n, NULL);
	return 0;
}

static bool field_is(const struct husk_conn *c, const char *name, size_t len)
{
	return c->req.field_len == len && !strncasecmp(c->field, name, len);
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
	struct husk_conn *c = p->data;

	if (!c->req.in_value) {
		/* The field name is complete: is it one we keep? The last one wins. */
		c->req.in_value = true;
		c->req.header = HDR_OTHER;
		if (field_is(c, ERROR_TYPE_HEADER, sizeof(ERROR_TYPE_HEADER) - 1)) {
			c->req.header = HDR_ERROR_TYPE;
			c->req.error_type_len = 0;
		} else if (field_is(c, "Expect", 6)) {
			c->req.header = HDR_EXPECT;
			c->req.expect_len = 0;
		}
	}
	if (c->req.header == HDR_ERROR_TYPE)
		append(c->error_type, sizeof(c->error_type), &c->req.error_type_len, at, n, NULL);
	else if (c->req.header == HDR_EXPECT)
		append(c->expect, sizeof(c->expect), &c->req.expect_len, at, n, NULL);
	return 0;
}

static int on_headers_complete(http_parser *p)
{
	struct husk_conn *c = p->data;
	bool sized = !(p->flags & F_CHUNKED) && p->content_length != ULLONG_MAX;

	route_request(c);
	c->req.expect_continue =
	    c->req.expect_len == 12 && !strncasecmp(c->expect, "100-continue", 12);
	if (!wants_body(c)) {
		c->req.discard = true;
		/* Answer now rather than make the client wait for 100 Continue. */
		if (c->req.expect_continue && c->req.route != ROUTE_NEXT) {
			if (c->req.route == ROUTE_NONE)
				conn_answer_early(c, 404, not_found_body,
						  sizeof(not_found_body) - 1);
			else
				conn_answer_early(c, 400, invalid_id_body,
						  sizeof(invalid_id_body) - 1);
		}
		return c->closed ? -1 : 0;
	}
	if (sized && p->content_length > HUSK_PAYLOAD_MAX)
		return reject_too_large(c);
	if (sized && body_reserve(c, (size_t)p->content_length)) {
		pr_init_err("no memory for a %" PRIu64 "-byte request body", p->content_length);
		conn_close(c);
		return -1;
	}
	if (c->req.expect_continue)
		conn_send(c, &LIT_IOV(continue_line), 1);
	return c->closed ? -1 : 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct husk_conn *c = p->data;
	size_t need = c->body_len + n;

	if (c->req.discard)
		return 0;
	if (need > HUSK_PAYLOAD_MAX)
		return reject_too_large(c);
	if (need > c->body_cap) {
		size_t cap = c->body_cap ? c->body_cap : 4096;

		while (cap < need)
			cap *= 2;
		if (body_reserve(c, cap < HUSK_PAYLOAD_MAX ? cap : HUSK_PAYLOAD_MAX)) {
			pr_init_err("no memory for a request body of %zu bytes", need);
			conn_close(c);
			return -1;
		}
	}
	memcpy(c->body + c->body_len, at, n);
	c->body_len = need;
	return 0;
}

/* Stop the parser here; the request is handled outside the callback. */
static int on_message_complete(http_parser *p)
{
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static int handle_request(struct husk_conn *c)
{
	if (!http_should_keep_alive(&c->parser))
		c->close_after = true;
	if (c->req.answered) {
		/* The early answer's body is read away now; the connection ends. */
		c->close_after = true;
		if (!c->out_cnt)
			conn_close(c);
		return 0;
	}
	switch (c->req.route) {
	case ROUTE_NEXT:
		return api_next(c);
	case ROUTE_RESPONSE:
		return post_result(c, HUSK_MSG_RESPONSE);
	case ROUTE_ERROR:
		return post_result(c, HUSK_MSG_ERROR);
	case ROUTE_INIT_ERROR:
		return post_result(c, HUSK_MSG_INIT_ERROR);
	default:
		conn_reply_lit(c, 404, not_found_body);
		return 0;
	}
}

static void reject_malformed(struct husk_conn *c, enum http_errno e)
{
	int n;

	c->broken = true;
	c->close_after = true;
	n = snprintf(
	    c->msg, sizeof(c->msg),
	    "{\"errorMessage\":\"Malformed HTTP request: %s\",\"errorType\":\"InvalidRequest\"}",
	    http_errno_description(e));
	conn_reply(c, 400, c->msg, (size_t)n);
}

/* Parse what was read, one request at a time; returns only channel errors. */
static int conn_process(struct husk_conn *c)
{
	while (!conn_busy(c) && c->rpos < c->rlen) {
		size_t n = http_parser_execute(&c->parser, &parser_settings, c->rbuf + c->rpos,
					       c->rlen - c->rpos);
		enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
		int err;

		c->rpos += n;
		if (c->api->fatal)
			return c->api->fatal;
		if (c->closed)
			return 0;
		if (e == HPE_PAUSED) {
			http_parser_pause(&c->parser, 0);
			err = handle_request(c);
			if (err)
				return err;
			continue;
		}
		if (e != HPE_OK)
			reject_malformed(c, e);
	}
	if (c->rpos == c->rlen)
		c->rpos = c->rlen = 0;
	return 0;
}

static int conn_read(struct husk_conn *c)
{
	ssize_t n;

	if (c->rlen == RBUF_SIZE && c->rpos) {
		memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
		c->rlen -= c->rpos;
		c->rpos = 0;
	}
	n = read(c->watch.fd, c->rbuf + c->rlen, RBUF_SIZE - c->rlen);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			conn_close(c);
		return 0;
	}
	if (n == 0) {
		conn_close(c);
		return 0;
	}
	c->rlen += (size_t)n;
	return conn_process(c);
}

static int conn_open(struct husk_api *api, int fd)
{
	struct epoll_event ev;
	struct husk_conn *c;
	int one = 1;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->rbuf = malloc(RBUF_SIZE);
	if (!c->rbuf) {
		free(c);
		return -ENOMEM;
	}
	c->watch = (struct husk_watch){.kind = HUSK_WATCH_CONN, .fd = fd};
	c->api = api;
	c->events = EPOLLIN | EPOLLRDHUP;
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ev = (struct epoll_event){.events = c->events, .data.ptr = &c->watch};
	if (epoll_ctl(api->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		int err = -errno;

		free(c->rbuf);
		free(c);
		return err;
	}
	c->next = api->conns;
	api->conns = c;
	api->nconns++;
	return 0;
}

static int api_accept(struct husk_api *api)
{
	for (;;) {
		int fd = accept4(api->listen.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		int err;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				pr_init_err("accept on the Runtime API socket: %s",
					    strerror(errno));
			return 0;
		}
		if (api->nconns >= CONN_MAX) {
			pr_init_err("Runtime API connection refused: %d already open", CONN_MAX);
			close(fd);
			continue;
		}
		err = conn_open(api, fd);
		if (err) {
			pr_init_err("Runtime API connection dropped: %s", strerror(-err));
			close(fd);
		}
	}
}

int husk_api_event(struct husk_api *api, struct husk_watch *w, uint32_t events)
{
	struct husk_conn *c;
	int err = 0;

	if (w->kind == HUSK_WATCH_LISTEN)
		return api_accept(api);
	c = conn_of_watch(w);
	if (c->closed)
		return 0;
	if (events & EPOLLOUT) {
		conn_flush(c);
		err = conn_process(c);
		if (err || c->closed)
			return err;
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		/* Gone while we hold more of its input than we can take: drop it. */
		if (!(events & EPOLLIN) && c->rlen - c->rpos == RBUF_SIZE) {
			conn_close(c);
			return 0;
		}
		err = conn_read(c);
	}
	conn_watch(c);
	return err;
}

void husk_api_reap(struct husk_api *api)
{
	while (api->dead) {
		struct husk_conn *c = api->dead;

		api->dead = c->next;
		free(c->out_owned);
		free(c->body);
		free(c->rbuf);
		free(c);
	}
}

int husk_api_open(struct husk_api *api, int epfd, int chan_fd)
{
	struct sockaddr_in addr = {
	    .sin_family = AF_INET,
	    .sin_port = htons(RUNTIME_API_PORT),
	    .sin_addr.s_addr = htonl(RUNTIME_API_ADDR),
	};
	struct epoll_event ev;
	int fd, one = 1, err;

	*api = (struct husk_api){.epfd = epfd, .chan_fd = chan_fd};
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Accepted sockets inherit TCP_NODELAY from here on Linux. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&addr, sizeof(addr)) || listen(fd, CONN_MAX))
		goto fail;
	api->listen = (struct husk_watch){.kind = HUSK_WATCH_LISTEN, .fd = fd};
	ev = (struct epoll_event){.events = EPOLLIN, .data.ptr = &api->listen};
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev))
		goto fail;
	return 0;
fail:
	err = -errno;
	close(fd);
	return err;
}
