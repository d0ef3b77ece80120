// SPDX-License-Identifier: GPL-2.0
/*
 * A Lambda API client for the benchmark, on libcurl. One easy handle per
 * client and it is reused for every request, so that a warm run goes over
 * one keep-alive connection (TCP or the Unix socket), as an SDK would.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tests/bench/bench.h"

#define API "/2015-03-31/functions"
/* An answer bigger than this is not the minimal function's. */
#define BODY_MAX (8u << 20)
#define REPORT_HEADER "X-Husk-Report:"
#define FN_ERROR_HEADER "X-Amz-Function-Error:"

struct lambda_client {
	CURL *curl;
	struct curl_slist *headers;
	char base[320];
	char *body;
	size_t body_len, body_cap;
	char report[512];
	bool function_error;
	unsigned long connects; /* connections libcurl opened so far */
	char curl_err[CURL_ERROR_SIZE];
};

void function_name(char *buf, size_t len, const char *prefix, unsigned i)
{
	snprintf(buf, len, "%s-%05u", prefix, i);
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct lambda_client *c = arg;
	size_t len = size * n;
	char *nb;

	if (c->body_len + len + 1 > c->body_cap) {
		size_t cap = (c->body_len + len + 1) * 2;

		if (cap > BODY_MAX)
			return 0; /* curl fails the transfer: CURLE_WRITE_ERROR */
		nb = realloc(c->body, cap);
		if (!nb)
			return 0;
		c->body = nb;
		c->body_cap = cap;
	}
	memcpy(c->body + c->body_len, p, len);
	c->body_len += len;
	c->body[c->body_len] = '\0';
	return len;
}

/* Copy the value of a header line without its name, leading blanks and CRLF. */
static void header_value(const char *line, size_t len, size_t name_len, char *out, size_t outlen)
{
	size_t i = name_len, end = len;

	while (i < end && (line[i] == ' ' || line[i] == '\t'))
		i++;
	while (end > i && (line[end - 1] == '\r' || line[end - 1] == '\n'))
		end--;
	snprintf(out, outlen, "%.*s", (int)(end - i), line + i);
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct lambda_client *c = arg;
	size_t len = size * n;

	if (len > strlen(REPORT_HEADER) && !strncasecmp(p, REPORT_HEADER, strlen(REPORT_HEADER)))
		header_value(p, len, strlen(REPORT_HEADER), c->report, sizeof(c->report));
	else if (len > strlen(FN_ERROR_HEADER) &&
		 !strncasecmp(p, FN_ERROR_HEADER, strlen(FN_ERROR_HEADER)))
		c->function_error = true;
	return len;
}

static bool is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

/* "tcp:HOST:PORT" or "unix:PATH" into the base URL and the socket option. */
static int set_endpoint(struct lambda_client *c, const char *endpoint, char *err, size_t errlen)
{
	char host[64];
	const char *colon;
	unsigned port;

	if (!strncmp(endpoint, "unix:", 5) && endpoint[5]) {
		snprintf(c->base, sizeof(c->base), "http://localhost");
		curl_easy_setopt(c->curl, CURLOPT_UNIX_SOCKET_PATH, endpoint + 5);
		return 0;
	}
	colon = strncmp(endpoint, "tcp:", 4) ? NULL : strrchr(endpoint + 4, ':');
	if (!colon || colon - (endpoint + 4) >= (int)sizeof(host) ||
	    sscanf(colon + 1, "%u", &port) != 1 || !port || port > 65535) {
		snprintf(err, errlen, "endpoint '%s' is neither tcp:HOST:PORT nor unix:PATH",
			 endpoint);
		return -EINVAL;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - (endpoint + 4)), endpoint + 4);
	if (!is_loopback(host)) {
		snprintf(err, errlen, "endpoint host %s is not a loopback address", host);
		return -EINVAL;
	}
	snprintf(c->base, sizeof(c->base), strchr(host, ':') ? "http://[%s]:%u" : "http://%s:%u",
		 host, port);
	return 0;
}

int client_open(const char *endpoint, struct lambda_client **out, char *err, size_t errlen)
{
	struct lambda_client *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return -ENOMEM;
	c->curl = curl_easy_init();
	c->headers = curl_slist_append(NULL, "Content-Type: application/json");
	/* No 100-continue round trip before a big CreateFunction body. */
	c->headers = c->headers ? curl_slist_append(c->headers, "Expect:") : NULL;
	if (!c->curl || !c->headers) {
		snprintf(err, errlen, "cannot set up libcurl: out of memory");
		client_close(c);
		return -ENOMEM;
	}
	rc = set_endpoint(c, endpoint, err, errlen);
	if (rc) {
		client_close(c);
		return rc;
	}
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_PROXY, ""); /* never through an http_proxy */
	curl_easy_setopt(c->curl, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->curl_err);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, 60L);
	*out = c;
	return 0;
}

void client_close(struct lambda_client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	curl_slist_free_all(c->headers);
	free(c->body);
	free(c);
}

/* POST body to path; *status is the HTTP status. */
static int post(struct lambda_client *c, const char *path, const char *body, size_t len,
		long *status, char *err, size_t errlen)
{
	char url[512];
	long connects;
	CURLcode cc;

	snprintf(url, sizeof(url), "%s%s", c->base, path);
	c->body_len = 0;
	c->report[0] = '\0';
	c->function_error = false;
	c->curl_err[0] = '\0';
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	cc = curl_easy_perform(c->curl);
	if (cc != CURLE_OK) {
		snprintf(err, errlen, "POST %s: %s", url,
			 c->curl_err[0] ? c->curl_err : curl_easy_strerror(cc));
		return -EIO;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
	if (curl_easy_getinfo(c->curl, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK)
		c->connects += connects;
	return 0;
}

unsigned long client_connects(const struct lambda_client *c)
{
	return c->connects;
}

static void answer_error(struct lambda_client *c, const char *what, long status, char *err,
			 size_t errlen)
{
	snprintf(err, errlen, "%s: HTTP %ld: %.200s", what, status, c->body ? c->body : "");
}

int client_create_function(struct lambda_client *c, const char *name, const char *zip_b64,
			   char *err, size_t errlen)
{
	static const char fmt[] = "{\"FunctionName\":\"%s\",\"Runtime\":\"provided.al2023\","
				  "\"Role\":\"arn:aws:iam::000000000000:role/husk-bench\","
				  "\"Handler\":\"bootstrap\",\"MemorySize\":128,\"Timeout\":30,"
				  "\"Code\":{\"ZipFile\":\"%s\"}}";
	size_t len = sizeof(fmt) + strlen(name) + strlen(zip_b64);
	char *body = malloc(len);
	char what[128];
	long status = 0;
	int rc;

	if (!body)
		return -ENOMEM;
	len = snprintf(body, len, fmt, name, zip_b64);
	rc = post(c, API, body, len, &status, err, errlen);
	free(body);
	if (!rc && status != 201 && status != 200) {
		snprintf(what, sizeof(what), "CreateFunction %s", name);
		answer_error(c, what, status, err, errlen);
		rc = -EIO;
	}
	return rc;
}

/* The number after "label" in the report, or NAN when it is not there. */
static double report_field(const char *report, const char *label)
{
	const char *p = strstr(report, label);

	return p ? strtod(p + strlen(label), NULL) : NAN;
}

int client_invoke(struct lambda_client *c, const char *name, struct invoke_result *res,
		  char *err, size_t errlen)
{
	char path[256], what[128];
	long status = 0;
	double t0;
	int rc;

	snprintf(path, sizeof(path), API "/%s/invocations", name);
	snprintf(what, sizeof(what), "Invoke %s", name);
	t0 = now_us();
	rc = post(c, path, BENCH_EVENT, strlen(BENCH_EVENT), &status, err, errlen);
	res->latency_us = now_us() - t0;
	if (rc)
		return rc;
	if (status != 200 || c->function_error) {
		answer_error(c, what, status, err, errlen);
		return -EIO;
	}
	if (c->body_len != strlen(BENCH_EVENT) || memcmp(c->body, BENCH_EVENT, c->body_len)) {
		snprintf(err, errlen, "%s: answer is not the event echoed: %.200s", what, c->body);
		return -EBADMSG;
	}
	if (!c->report[0]) {
		snprintf(err, errlen, "%s: the answer has no %s header", what, REPORT_HEADER);
		return -EBADMSG;
	}
	/* The tab keeps "Billed Duration: " and the others from matching. */
	res->duration_ms = report_field(c->report, "\tDuration: ");
	res->init_ms = report_field(c->report, "Init Duration: ");
	res->freeze_us = report_field(c->report, "Freeze Duration: ");
	return 0;
}

/* Filling huskd up with many functions or environments, several connections at once. */
struct many_job {
	const char *endpoint, *prefix, *zip_b64;
	unsigned first, n, parallel;
	atomic_uint next;
	atomic_int failed;
	pthread_mutex_t lock;
	char err[BENCH_ERR_MAX];
};

static void job_fail(struct many_job *job, const char *msg)
{
	pthread_mutex_lock(&job->lock);
	if (!atomic_exchange(&job->failed, 1))
		snprintf(job->err, sizeof(job->err), "%s", msg);
	pthread_mutex_unlock(&job->lock);
}

static void *many_worker(void *arg)
{
	struct many_job *job = arg;
	struct lambda_client *c;
	struct invoke_result res;
	char err[BENCH_ERR_MAX], name[128];
	unsigned i;
	int rc;

	if (client_open(job->endpoint, &c, err, sizeof(err))) {
		job_fail(job, err);
		return NULL;
	}
	while (!atomic_load(&job->failed) && (i = atomic_fetch_add(&job->next, 1)) < job->n) {
		function_name(name, sizeof(name), job->prefix, job->first + i);
		if (job->zip_b64)
			rc = client_create_function(c, name, job->zip_b64, err, sizeof(err));
		else
			rc = client_invoke(c, name, &res, err, sizeof(err));
		if (rc)
			job_fail(job, err);
	}
	client_close(c);
	return NULL;
}

static int run_many(struct many_job *job, char *err, size_t errlen)
{
	pthread_t *tids = calloc(job->parallel, sizeof(*tids));
	unsigned i, started = 0;
	int rc = 0;

	if (!tids)
		return -ENOMEM;
	pthread_mutex_init(&job->lock, NULL);
	for (i = 0; i < job->parallel; i++) {
		rc = -pthread_create(&tids[i], NULL, many_worker, job);
		if (rc)
			break;
		started++;
	}
	if (rc)
		job_fail(job, "cannot start a client thread");
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	pthread_mutex_destroy(&job->lock);
	free(tids);
	if (atomic_load(&job->failed)) {
		snprintf(err, errlen, "%s", job->err);
		return -EIO;
	}
	return 0;
}

int client_create_many(const char *endpoint, const char *prefix, unsigned first, unsigned n,
		       const char *zip_b64, unsigned parallel, char *err, size_t errlen)
{
	struct many_job job = { .endpoint = endpoint, .prefix = prefix, .zip_b64 = zip_b64,
				.first = first, .n = n, .parallel = parallel ? parallel : 1 };

	return run_many(&job, err, errlen);
}

int client_invoke_many(const char *endpoint, const char *prefix, unsigned first, unsigned n,
		       unsigned parallel, char *err, size_t errlen)
{
	struct many_job job = { .endpoint = endpoint, .prefix = prefix, .first = first, .n = n,
				.parallel = parallel ? parallel : 1 };

	return run_many(&job, err, errlen);
}
