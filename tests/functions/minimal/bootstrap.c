// SPDX-License-Identifier: GPL-2.0
/*
 * The minimal custom runtime the tests and the benchmark use: it echoes
 * every event back as its response. One keep-alive connection to the
 * Runtime API (a new one only when the server closes it), responses parsed
 * with http-parser, nothing printed per invocation.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <http_parser.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define RBUF_SIZE (64u << 10)
#define ID_MAX 128
#define FIELD_MAX 64
#define REQUEST_ID_HEADER "Lambda-Runtime-Aws-Request-Id"
#define NEXT_PATH "/2018-06-01/runtime/invocation/next"

struct client {
	int fd;
	struct sockaddr_in addr;
	char host[64]; /* host:port, for the Host header */

	http_parser parser;
	char rbuf[RBUF_SIZE];
	size_t rpos, rlen;

	/* The response being parsed. */
	char field[FIELD_MAX];
	size_t field_len;
	bool in_value, value_is_id, keep_body, done;
	char id[ID_MAX];
	size_t id_len;
	char *body;
	size_t body_len, body_cap;
};

static void __attribute__((format(printf, 1, 2))) log_err(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "bootstrap: ");
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

/* AWS_LAMBDA_RUNTIME_API is "ipv4:port", as Lambda sets it. */
static int parse_api_address(struct client *c, const char *api)
{
	const char *colon = strrchr(api, ':');
	char ip[INET_ADDRSTRLEN];
	unsigned long port;
	char *end;

	if (!colon || (size_t)(colon - api) >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, api, (size_t)(colon - api));
	ip[colon - api] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || !port || port > 65535)
		return -EINVAL;
	c->addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, ip, &c->addr.sin_addr) != 1)
		return -EINVAL;
	snprintf(c->host, sizeof(c->host), "%s", api);
	return 0;
}

static void client_disconnect(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->rpos = c->rlen = 0;
}

static int client_connect(struct client *c)
{
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&c->addr, sizeof(c->addr))) {
		int err = -errno;

		client_disconnect(c);
		return err;
	}
	http_parser_init(&c->parser, HTTP_RESPONSE);
	c->parser.data = c;
	return 0;
}

static int send_all(int fd, struct iovec *iov, int cnt)
{
	while (cnt > 0) {
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)cnt};
		ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		while (cnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt > 0) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

static int on_message_begin(http_parser *p)
{
	struct client *c = p->data;

	c->field_len = c->id_len = c->body_len = 0;
	c->in_value = c->value_is_id = false;
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
	struct client *c = p->data;

	if (c->in_value) {
		c->in_value = false;
		c->field_len = 0;
	}
	if (n > sizeof(c->field) - c->field_len)
		n = sizeof(c->field) - c->field_len;
	memcpy(c->field + c->field_len, at, n);
	c->field_len += n;
	return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
	struct client *c = p->data;

	if (!c->in_value) {
		c->in_value = true;
		c->value_is_id = c->field_len == sizeof(REQUEST_ID_HEADER) - 1 &&
				 !strncasecmp(c->field, REQUEST_ID_HEADER, c->field_len);
		if (c->value_is_id)
			c->id_len = 0;
	}
	if (!c->value_is_id)
		return 0;
	if (n > sizeof(c->id) - c->id_len)
		return -1; /* not a request id we could send back */
	memcpy(c->id + c->id_len, at, n);
	c->id_len += n;
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct client *c = p->data;

	if (!c->keep_body)
		return 0;
	if (c->body_len + n > c->body_cap) {
		size_t cap = c->body_cap ? c->body_cap : 4096;
		char *b;

		while (cap < c->body_len + n)
			cap *= 2;
		b = realloc(c->body, cap);
		if (!b)
			return -1;
		c->body = b;
		c->body_cap = cap;
	}
	memcpy(c->body + c->body_len, at, n);
	c->body_len += n;
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct client *c = p->data;

	c->done = true;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/*
 * Read one response; returns its status code, or a negative errno
 * (-ECONNRESET when the server closed the connection first).
 */
static int read_response(struct client *c, bool keep_body)
{
	c->keep_body = keep_body;
	c->done = false;
	for (;;) {
		size_t n;
		ssize_t got;
		enum http_errno e;

		if (c->rpos == c->rlen) {
			c->rpos = c->rlen = 0;
			got = read(c->fd, c->rbuf, sizeof(c->rbuf));
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0)
				return -errno;
			if (got == 0)
				return -ECONNRESET;
			c->rlen = (size_t)got;
		}
		n = http_parser_execute(&c->parser, &parser_settings, c->rbuf + c->rpos,
					c->rlen - c->rpos);
		e = HTTP_PARSER_ERRNO(&c->parser);
		c->rpos += n;
		if (c->done) {
			http_parser_pause(&c->parser, 0);
			return c->parser.status_code;
		}
		if (e != HPE_OK) {
			log_err("bad response from the Runtime API: %s", http_errno_description(e));
			return -EPROTO;
		}
	}
}

/* One request and its response. Returns the status or a negative errno. */
static int exchange(struct client *c, struct iovec *iov, int cnt, bool keep_body)
{
	int ret;

	if (c->fd < 0) {
		ret = client_connect(c);
		if (ret)
			return ret;
	}
	ret = send_all(c->fd, iov, cnt);
	if (!ret)
		ret = read_response(c, keep_body);
	if (ret < 0 || !http_should_keep_alive(&c->parser))
		client_disconnect(c);
	return ret;
}

static int get_next(struct client *c)
{
	char head[160];
	struct iovec iov;
	int n;

	n = snprintf(head, sizeof(head), "GET " NEXT_PATH " HTTP/1.1\r\nHost: %s\r\n\r\n", c->host);
	iov = (struct iovec){.iov_base = head, .iov_len = (size_t)n};
	return exchange(c, &iov, 1, true);
}

static int post_response(struct client *c)
{
	char head[320];
	struct iovec iov[2];
	int n;

	n = snprintf(head, sizeof(head),
		     "POST /2018-06-01/runtime/invocation/%.*s/response HTTP/1.1\r\n"
		     "Host: %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
		     (int)c->id_len, c->id, c->host, c->body_len);
	iov[0] = (struct iovec){.iov_base = head, .iov_len = (size_t)n};
	iov[1] = (struct iovec){.iov_base = c->body, .iov_len = c->body_len};
	return exchange(c, iov, 2, false);
}

/* A lost connection is retried once with a new one. */
static int with_retry(struct client *c, int (*fn)(struct client *))
{
	int ret = fn(c);

	if (ret == -ECONNRESET || ret == -EPIPE)
		ret = fn(c);
	return ret;
}

static int fail(const char *what, int ret)
{
	if (ret < 0)
		log_err("%s: %s", what, strerror(-ret));
	else
		log_err("%s: answered HTTP %d", what, ret);
	return 1;
}

int main(void)
{
	const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
	struct client *c = calloc(1, sizeof(*c));
	int ret;

	if (!c) {
		log_err("out of memory");
		return 1;
	}
	c->fd = -1;
	if (!api || parse_api_address(c, api)) {
		log_err("AWS_LAMBDA_RUNTIME_API is %s%s%s, not ipv4:port", api ? "\"" : "unset",
			api ? api : "", api ? "\"" : "");
		return 1;
	}
	for (;;) {
		ret = with_retry(c, get_next);
		if (ret != 200)
			return fail("GET " NEXT_PATH, ret);
		if (!c->id_len) {
			log_err("GET " NEXT_PATH ": no " REQUEST_ID_HEADER " header");
			return 1;
		}
		ret = with_retry(c, post_response);
		if (ret != 202)
			return fail("POST of the response", ret);
	}
}
