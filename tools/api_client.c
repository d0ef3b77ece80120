// SPDX-License-Identifier: GPL-2.0
/* huskctl's side of huskd's Unix socket: GET and stream, with libcurl. */
#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "huskctl.h"

struct body {
	char *buf;
	size_t len;
};

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	char *grown = realloc(b->buf, b->len + size * n + 1);

	if (!grown)
		return 0;
	memcpy(grown + b->len, p, size * n);
	b->buf = grown;
	b->len += size * n;
	b->buf[b->len] = '\0';
	return size * n;
}

static int check_socket(const struct hctl *h)
{
	struct stat st;

	if (stat(h->socket, &st))
		return hctl_err("huskd is not reachable: %s: %s (is huskd running? --socket)",
				h->socket, strerror(errno));
	if (access(h->socket, R_OK | W_OK))
		return hctl_err("%s: %s (run as root)", h->socket, strerror(errno));
	return 0;
}

static CURL *open_handle(const struct hctl *h, const char *path, char *url, size_t len)
{
	CURL *c = curl_easy_init();

	if (!c)
		return NULL;
	snprintf(url, len, "http://localhost%s", path);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, h->socket);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	return c;
}

/* The message of huskd's error document, or the body itself. */
static void api_error(long status, const char *path, const char *body)
{
	struct json_object *doc = body ? json_tokener_parse(body) : NULL, *msg;

	if (doc && json_object_object_get_ex(doc, "message", &msg))
		hctl_err("%s: %s", path, json_object_get_string(msg));
	else
		hctl_err("%s: huskd answered HTTP %ld", path, status);
	json_object_put(doc);
}

/*
 * GET path on huskd's socket, the body going to write(arg); *status gets
 * the HTTP status. 0, or 1 after saying why huskd could not be asked.
 */
static int perform(const struct hctl *h, const char *path, curl_write_callback write, void *arg,
		   bool stoppable, long *status)
{
	char url[1024];
	CURLcode rc;
	CURL *c;

	*status = 0;
	if (check_socket(h))
		return 1;
	c = open_handle(h, path, url, sizeof(url));
	if (!c)
		return hctl_err("out of memory");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, arg);
	/* A stream lasts until huskd ends it (or its reader stops it). */
	curl_easy_setopt(c, CURLOPT_TIMEOUT, stoppable ? 0L : 30L);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK && !(stoppable && rc == CURLE_WRITE_ERROR))
		return hctl_err("huskd is not reachable on %s: %s", h->socket,
				curl_easy_strerror(rc));
	return 0;
}

int hctl_api_get(const struct hctl *h, const char *path, struct json_object **out)
{
	struct body b = {0};
	long status;

	if (perform(h, path, collect, &b, false, &status)) {
		free(b.buf);
		return 1;
	}
	if (status < 200 || status > 299) {
		api_error(status, path, b.buf);
		free(b.buf);
		return 1;
	}
	*out = json_tokener_parse(b.buf ? b.buf : "null");
	free(b.buf);
	if (!*out)
		return hctl_err("%s: huskd's answer is not JSON", path);
	return 0;
}

struct stream {
	struct body line;
	int (*fn)(const char *s, size_t len, void *arg);
	void *arg;
	int stop;
};

/* Hand every complete line to the caller; keep the rest for the next chunk. */
static size_t on_chunk(char *p, size_t size, size_t n, void *arg)
{
	struct stream *s = arg;
	char *nl;

	if (!collect(p, size, n, &s->line))
		return 0;
	while (!s->stop && (nl = memchr(s->line.buf, '\n', s->line.len))) {
		size_t len = (size_t)(nl - s->line.buf);

		s->stop = s->fn(s->line.buf, len, s->arg);
		memmove(s->line.buf, nl + 1, s->line.len - len - 1);
		s->line.len -= len + 1;
	}
	return s->stop ? 0 : size * n;
}

int hctl_api_stream(const struct hctl *h, const char *path,
		    int (*line)(const char *s, size_t len, void *arg), void *arg)
{
	struct stream s = {.fn = line, .arg = arg};
	long status;
	int rc;

	rc = perform(h, path, on_chunk, &s, true, &status);
	free(s.line.buf);
	if (rc || s.stop)
		return rc;
	if (status < 200 || status > 299)
		return hctl_err("%s: huskd answered HTTP %ld", path, status);
	return 0;
}
