// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the channel framing (guest-init/protocol.c) over real
 * socketpairs: every message type round trip, a 6 MB frame through a writer
 * thread (blocking, non-blocking and interrupted by signals), truncation,
 * oversize frames, end of stream and a dead peer. One line per case; exits 1
 * when any case failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "guest-init/protocol.h"

#define STR_(x) #x
#define STR(x) STR_(x)
/* A case returns NULL when it passes, or what failed. */
#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			return "line " STR(__LINE__) ": " #cond;                                   \
	} while (0)
#define IOV(p, n) ((struct iovec){.iov_base = (void *)(p), .iov_len = (n)})
#define SIX_MB (6u << 20)

struct pair {
	int a, b;
};

static int pair_open(struct pair *p)
{
	int sv[2];

	p->a = p->b = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	p->a = sv[0];
	p->b = sv[1];
	return 0;
}

static void pair_close(struct pair *p)
{
	if (p->a >= 0)
		close(p->a);
	if (p->b >= 0)
		close(p->b);
	p->a = p->b = -1;
}

/* Send a frame on one end, receive it on the other, compare the bytes. */
static const char *round_trip(uint32_t type, const struct iovec *iov, int cnt, char **payload,
			      struct husk_frame_hdr *hdr)
{
	struct pair p;
	size_t total = 0, off = 0;
	int i, err;

	CHECK(pair_open(&p) == 0);
	err = husk_frame_send(p.a, type, iov, cnt);
	if (!err)
		err = husk_frame_recv(p.b, hdr, payload);
	pair_close(&p);
	CHECK(err == 0);
	CHECK(hdr->type == type);
	for (i = 0; i < cnt; i++)
		total += iov[i].iov_len;
	CHECK(hdr->len == total);
	for (i = 0; i < cnt; i++) {
		CHECK(memcmp(*payload + off, iov[i].iov_base, iov[i].iov_len) == 0);
		off += iov[i].iov_len;
	}
	CHECK((*payload)[hdr->len] == '\0');
	return NULL;
}

static const char *test_spawn(void)
{
	static const char env[] = "AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001\0HOME=/tmp\0";
	struct sock_filter filter[2] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
					BPF_STMT(BPF_RET | BPF_K, 0x7fff0000)};
	struct husk_spawn s = {.uid = 65534,
			       .gid = 65534,
			       .nofile = 1024,
			       .filter_len = 2,
			       .env_len = sizeof(env) - 1};
	struct iovec iov[] = {IOV(&s, sizeof(s)), IOV(filter, sizeof(filter)),
			      IOV(env, sizeof(env) - 1)};
	struct husk_spawn got;
	struct husk_frame_hdr hdr;
	struct husk_cursor c;
	struct sock_filter f[2];
	const char *e, *why;
	char *payload = NULL;

	why = round_trip(HUSK_MSG_SPAWN, iov, 3, &payload, &hdr);
	if (!why) {
		c = (struct husk_cursor){.p = payload, .left = hdr.len};
		if (husk_cursor_take(&c, &got, sizeof(got)) ||
		    husk_cursor_take(&c, f, got.filter_len * sizeof(f[0])) ||
		    husk_cursor_span(&c, got.env_len, &e) || c.left)
			why = "SPAWN payload does not parse back";
		else if (got.uid != 65534 || got.nofile != 1024 || f[1].k != 0x7fff0000 ||
			 memcmp(e, env, got.env_len))
			why = "SPAWN fields differ";
	}
	free(payload);
	return why;
}

static const char *test_invoke(void)
{
	static const char id[] = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";
	static const char arn[] = "arn:aws:lambda:us-east-1:123456789012:function:echo";
	static const char trace[] = "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700";
	static const char event[] = "{\"key\":\"value\"}";
	struct husk_invoke inv = {.deadline_ms = 1700000000123ull,
				  .request_id_len = sizeof(id) - 1,
				  .arn_len = sizeof(arn) - 1,
				  .trace_id_len = sizeof(trace) - 1,
				  .payload_len = sizeof(event) - 1};
	struct iovec iov[] = {IOV(&inv, sizeof(inv)), IOV(id, sizeof(id) - 1),
			      IOV(arn, sizeof(arn) - 1), IOV(trace, sizeof(trace) - 1),
			      IOV(event, sizeof(event) - 1)};
	struct husk_invoke got;
	struct husk_frame_hdr hdr;
	struct husk_cursor c;
	const char *s[5], *why;
	char *payload = NULL;

	why = round_trip(HUSK_MSG_INVOKE, iov, 5, &payload, &hdr);
	if (!why) {
		c = (struct husk_cursor){.p = payload, .left = hdr.len};
		if (husk_cursor_take(&c, &got, sizeof(got)) ||
		    husk_cursor_span(&c, got.request_id_len, &s[0]) ||
		    husk_cursor_span(&c, got.arn_len, &s[1]) ||
		    husk_cursor_span(&c, got.trace_id_len, &s[2]) ||
		    husk_cursor_span(&c, got.client_context_len, &s[3]) ||
		    husk_cursor_span(&c, got.payload_len, &s[4]) || c.left)
			why = "INVOKE payload does not parse back";
		else if (got.deadline_ms != inv.deadline_ms || memcmp(s[0], id, sizeof(id) - 1) ||
			 memcmp(s[4], event, sizeof(event) - 1))
			why = "INVOKE fields differ";
	}
	free(payload);
	return why;
}

static const char *test_ready(void)
{
	struct husk_ready r = {.init_ns = 123456789}, got;
	struct iovec iov = IOV(&r, sizeof(r));
	struct husk_frame_hdr hdr;
	char *payload = NULL;
	const char *why;

	why = round_trip(HUSK_MSG_READY, &iov, 1, &payload, &hdr);
	if (!why) {
		memcpy(&got, payload, sizeof(got));
		if (got.init_ns != r.init_ns)
			why = "init_ns differs";
	}
	free(payload);
	return why;
}

static const char *result_case(uint32_t type, const char *id, const char *etype, const char *body)
{
	struct husk_result r = {.request_id_len = (uint16_t)strlen(id),
				.error_type_len = (uint16_t)strlen(etype),
				.body_len = (uint32_t)strlen(body)};
	struct iovec iov[] = {IOV(&r, sizeof(r)), IOV(id, strlen(id)), IOV(etype, strlen(etype)),
			      IOV(body, strlen(body))};
	struct husk_result got;
	struct husk_frame_hdr hdr;
	struct husk_cursor c;
	const char *s[3], *why;
	char *payload = NULL;

	why = round_trip(type, iov, 4, &payload, &hdr);
	if (!why) {
		c = (struct husk_cursor){.p = payload, .left = hdr.len};
		if (husk_cursor_take(&c, &got, sizeof(got)) ||
		    husk_cursor_span(&c, got.request_id_len, &s[0]) ||
		    husk_cursor_span(&c, got.error_type_len, &s[1]) ||
		    husk_cursor_span(&c, got.body_len, &s[2]) || c.left)
			why = "result payload does not parse back";
		else if (memcmp(s[1], etype, strlen(etype)) || memcmp(s[2], body, strlen(body)))
			why = "result fields differ";
	}
	free(payload);
	return why;
}

static const char *test_response(void)
{
	return result_case(HUSK_MSG_RESPONSE, "id-1", "", "{\"ok\":true}");
}

static const char *test_error(void)
{
	return result_case(HUSK_MSG_ERROR, "id-2", "Unhandled",
			   "{\"errorMessage\":\"boom\",\"errorType\":\"Error\"}");
}

static const char *test_init_error(void)
{
	return result_case(HUSK_MSG_INIT_ERROR, "", "Runtime.InvalidEntrypoint",
			   "{\"errorMessage\":\"no bootstrap\"}");
}

static const char *test_exit(void)
{
	struct husk_exit ex = {.wait_status = 0x100}, got;
	struct iovec iov = IOV(&ex, sizeof(ex));
	struct husk_frame_hdr hdr;
	char *payload = NULL;
	const char *why;

	why = round_trip(HUSK_MSG_EXIT, &iov, 1, &payload, &hdr);
	if (!why) {
		memcpy(&got, payload, sizeof(got));
		if (got.wait_status != 0x100)
			why = "wait_status differs";
	}
	free(payload);
	return why;
}

static const char *test_empty_payload(void)
{
	struct husk_frame_hdr hdr;
	char *payload = NULL;
	const char *why = round_trip(HUSK_MSG_READY, NULL, 0, &payload, &hdr);

	free(payload);
	return why;
}

/* A pipe is not a socket: the frame still goes through (writev fallback). */
static const char *test_pipe(void)
{
	struct husk_exit ex = {.wait_status = 9};
	struct iovec iov = IOV(&ex, sizeof(ex));
	struct husk_frame_hdr hdr;
	char *payload = NULL;
	int fds[2], err;

	CHECK(pipe(fds) == 0);
	err = husk_frame_send(fds[1], HUSK_MSG_EXIT, &iov, 1);
	if (!err)
		err = husk_frame_recv(fds[0], &hdr, &payload);
	close(fds[0]);
	close(fds[1]);
	free(payload);
	CHECK(err == 0);
	CHECK(hdr.type == HUSK_MSG_EXIT && hdr.len == sizeof(ex));
	return NULL;
}

/* The big-frame writer: a result header, an id and a 6 MB body. */
struct writer {
	int fd;
	const char *body;
	size_t len;
	useconds_t pause_us; /* sleep between pieces, for the EINTR case */
	int err;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct husk_result r = {.request_id_len = 4, .body_len = (uint32_t)w->len};
	struct iovec iov[] = {IOV(&r, sizeof(r)), IOV("big1", 4), IOV(w->body, w->len)};
	struct husk_frame_hdr hdr = {.type = HUSK_MSG_RESPONSE,
				     .len = (uint32_t)(sizeof(r) + 4 + w->len)};
	size_t off, piece = 256u << 10;

	if (!w->pause_us) {
		w->err = husk_frame_send(w->fd, HUSK_MSG_RESPONSE, iov, 3);
		return NULL;
	}
	/* By hand, in pieces with pauses, so the reader blocks in between. */
	if (send(w->fd, &hdr, sizeof(hdr), MSG_NOSIGNAL) != sizeof(hdr) ||
	    send(w->fd, &r, sizeof(r), MSG_NOSIGNAL) != sizeof(r) ||
	    send(w->fd, "big1", 4, MSG_NOSIGNAL) != 4) {
		w->err = -EIO;
		return NULL;
	}
	for (off = 0; off < w->len; off += piece) {
		size_t n = w->len - off < piece ? w->len - off : piece;
		struct iovec v = IOV(w->body + off, n);

		usleep(w->pause_us);
		while (v.iov_len) {
			ssize_t k = send(w->fd, v.iov_base, v.iov_len, MSG_NOSIGNAL);

			if (k < 0) {
				w->err = -errno;
				return NULL;
			}
			v.iov_base = (char *)v.iov_base + k;
			v.iov_len -= (size_t)k;
		}
	}
	return NULL;
}

static char *pattern(size_t len)
{
	char *b = malloc(len);
	size_t i;

	for (i = 0; b && i < len; i++)
		b[i] = (char)(i * 31 + (i >> 13));
	return b;
}

static const char *big_frame(bool nonblocking, useconds_t pause_us)
{
	struct writer w = {.len = SIX_MB, .pause_us = pause_us};
	struct husk_frame_hdr hdr;
	char *body = pattern(SIX_MB), *payload = NULL;
	const size_t head = sizeof(struct husk_result) + 4;
	struct pair p;
	pthread_t t;
	int err, ok;

	CHECK(body);
	if (pair_open(&p)) {
		free(body);
		return "socketpair failed";
	}
	if (nonblocking) {
		fcntl(p.a, F_SETFL, O_NONBLOCK);
		fcntl(p.b, F_SETFL, O_NONBLOCK);
	}
	w.fd = p.a;
	w.body = body;
	pthread_create(&t, NULL, writer_main, &w);
	err = husk_frame_recv(p.b, &hdr, &payload);
	/* A reader that gave up must not leave the writer blocked. */
	close(p.b);
	p.b = -1;
	pthread_join(t, NULL);
	pair_close(&p);
	ok = !err && !w.err && hdr.type == HUSK_MSG_RESPONSE && hdr.len == head + SIX_MB &&
	     !memcmp(payload + head, body, SIX_MB);
	free(body);
	free(payload);
	CHECK(err == 0);
	CHECK(w.err == 0);
	CHECK(ok);
	return NULL;
}

static const char *test_big_frame(void)
{
	return big_frame(false, 0);
}

static const char *test_big_frame_nonblocking(void)
{
	return big_frame(true, 0);
}

static void on_usr1(int sig)
{
}

struct nagger {
	pthread_t target;
	volatile int stop;
	int sent;
};

static void *nagger_main(void *arg)
{
	struct nagger *n = arg;

	while (!n->stop) {
		pthread_kill(n->target, SIGUSR1);
		n->sent++;
		usleep(500);
	}
	return NULL;
}

/* Signals without SA_RESTART land while the reader blocks: EINTR is retried. */
static const char *test_eintr(void)
{
	struct sigaction sa = {.sa_handler = on_usr1}, old;
	struct nagger n = {.target = pthread_self()};
	pthread_t t;
	const char *why;

	sigaction(SIGUSR1, &sa, &old);
	pthread_create(&t, NULL, nagger_main, &n);
	why = big_frame(false, 2000);
	n.stop = 1;
	pthread_join(t, NULL);
	sigaction(SIGUSR1, &old, NULL);
	if (!why && n.sent < 10)
		why = "too few signals were sent to exercise EINTR";
	return why;
}

/* Write raw bytes, hang up, and see what the reader makes of them. */
static int recv_after(const void *bytes, size_t len, char **payload)
{
	struct husk_frame_hdr hdr;
	struct pair p;
	int err;

	if (pair_open(&p))
		return -999;
	if (len && write(p.a, bytes, len) != (ssize_t)len)
		err = -998;
	else {
		close(p.a);
		p.a = -1;
		err = husk_frame_recv(p.b, &hdr, payload);
	}
	pair_close(&p);
	return err;
}

static const char *test_truncated_payload(void)
{
	char buf[sizeof(struct husk_frame_hdr) + 10] = {0};
	struct husk_frame_hdr hdr = {.type = HUSK_MSG_INVOKE, .len = 100};
	char *payload = (char *)1;

	memcpy(buf, &hdr, sizeof(hdr));
	CHECK(recv_after(buf, sizeof(buf), &payload) == -EBADMSG);
	CHECK(payload == NULL);
	return NULL;
}

static const char *test_truncated_header(void)
{
	char *payload = NULL;

	CHECK(recv_after("\x02\x00\x00", 3, &payload) == -EBADMSG);
	return NULL;
}

static const char *test_oversize_recv(void)
{
	struct husk_frame_hdr hdr = {.type = HUSK_MSG_INVOKE, .len = HUSK_FRAME_MAX + 1};
	char *payload = NULL;

	CHECK(recv_after(&hdr, sizeof(hdr), &payload) == -EMSGSIZE);
	CHECK(payload == NULL);
	return NULL;
}

/* Over the limit nothing goes out, so the stream stays in step. */
static const char *test_oversize_send(void)
{
	static const char one = 'x';
	struct iovec iov[2] = {IOV(&one, HUSK_FRAME_MAX), IOV(&one, 1)};
	struct pair p;
	char b;
	int err;
	ssize_t n;

	CHECK(pair_open(&p) == 0);
	err = husk_frame_send(p.a, HUSK_MSG_RESPONSE, iov, 2);
	n = recv(p.b, &b, 1, MSG_DONTWAIT);
	pair_close(&p);
	CHECK(err == -EMSGSIZE);
	CHECK(n < 0);
	return NULL;
}

static const char *test_too_many_pieces(void)
{
	struct iovec iov[17] = {{0}};
	struct pair p;
	int err;

	CHECK(pair_open(&p) == 0);
	err = husk_frame_send(p.a, HUSK_MSG_RESPONSE, iov, 17);
	pair_close(&p);
	CHECK(err == -EINVAL);
	return NULL;
}

static const char *test_eof(void)
{
	char *payload = (char *)1;

	CHECK(recv_after(NULL, 0, &payload) == -EPIPE);
	CHECK(payload == NULL);
	return NULL;
}

/* SIGPIPE stays at its default (death): the send must get -EPIPE instead. */
static const char *test_dead_peer(void)
{
	struct husk_ready r = {0};
	struct iovec iov = IOV(&r, sizeof(r));
	struct pair p;
	int err;

	signal(SIGPIPE, SIG_DFL);
	CHECK(pair_open(&p) == 0);
	close(p.b);
	p.b = -1;
	err = husk_frame_send(p.a, HUSK_MSG_READY, &iov, 1);
	pair_close(&p);
	CHECK(err == -EPIPE);
	return NULL;
}

static const char *test_cursor(void)
{
	static const char data[] = "abcdef";
	struct husk_cursor c = {.p = data, .left = 6};
	const char *s;
	char two[2];

	CHECK(husk_cursor_take(&c, two, 2) == 0 && two[0] == 'a' && two[1] == 'b');
	CHECK(husk_cursor_span(&c, 3, &s) == 0 && s == data + 2 && c.left == 1);
	CHECK(husk_cursor_span(&c, 2, &s) == -EBADMSG);
	CHECK(husk_cursor_take(&c, two, 2) == -EBADMSG);
	CHECK(c.left == 1 && c.p == data + 5);
	CHECK(husk_cursor_span(&c, 1, &s) == 0 && *s == 'f' && c.left == 0);
	CHECK(husk_cursor_span(&c, 0, &s) == 0);
	return NULL;
}

/* SPAWN carries the code mount as SCM_RIGHTS; the receiver gets a working descriptor. */
static const char *test_passed_fd(void)
{
	struct husk_spawn s = {.tmp_mb = 512, .flags = HUSK_SPAWN_CODE_FD};
	struct iovec iov[] = {IOV(&s, sizeof(s))};
	struct husk_frame_hdr hdr;
	const char *why = NULL;
	char *payload = NULL, c = 0;
	struct pair p;
	int pipefd[2], got = -1;

	if (pair_open(&p) || pipe2(pipefd, O_CLOEXEC))
		return "socketpair or pipe failed";
	if (husk_frame_send_fd(p.a, HUSK_MSG_SPAWN, iov, 1, pipefd[1]))
		why = "send with a descriptor failed";
	else if (husk_frame_recv_fd(p.b, &hdr, &payload, &got) || hdr.len != sizeof(s))
		why = "receive with a descriptor failed";
	else if (got < 0 || got == pipefd[1])
		why = "no new descriptor arrived";
	else if (write(got, "x", 1) != 1 || read(pipefd[0], &c, 1) != 1 || c != 'x')
		why = "the passed descriptor is not the pipe";
	else if (!(fcntl(got, F_GETFD) & FD_CLOEXEC))
		why = "the passed descriptor is not close-on-exec";
	free(payload);
	payload = NULL;
	if (got >= 0)
		close(got);
	/* A receiver that wants none must not leak the descriptor: EOF then shows. */
	if (!why && husk_frame_send_fd(p.a, HUSK_MSG_SPAWN, iov, 1, pipefd[1]))
		why = "second send failed";
	close(pipefd[1]);
	if (!why && husk_frame_recv(p.b, &hdr, &payload))
		why = "receive without a descriptor failed";
	else if (!why && read(pipefd[0], &c, 1) != 0)
		why = "a descriptor nobody asked for stayed open";
	free(payload);
	close(pipefd[0]);
	pair_close(&p);
	return why;
}

static const struct {
	const char *name;
	const char *(*run)(void);
} cases[] = {
    {"descriptor passed with SPAWN", test_passed_fd},
    {"round trip SPAWN", test_spawn},
    {"round trip INVOKE", test_invoke},
    {"round trip READY", test_ready},
    {"round trip RESPONSE", test_response},
    {"round trip ERROR", test_error},
    {"round trip INIT_ERROR", test_init_error},
    {"round trip EXIT", test_exit},
    {"empty payload", test_empty_payload},
    {"frame over a pipe", test_pipe},
    {"6 MB frame, writer thread", test_big_frame},
    {"6 MB frame, non-blocking ends", test_big_frame_nonblocking},
    {"6 MB frame, reader interrupted by signals", test_eintr},
    {"truncated payload", test_truncated_payload},
    {"truncated header", test_truncated_header},
    {"oversize frame received", test_oversize_recv},
    {"oversize frame refused on send", test_oversize_send},
    {"too many pieces refused", test_too_many_pieces},
    {"clean end of stream", test_eof},
    {"send to a dead peer", test_dead_peer},
    {"cursor bounds", test_cursor},
};

int main(void)
{
	size_t i, failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = cases[i].run();

		if (why) {
			printf("FAIL %s: %s\n", cases[i].name, why);
			failed++;
		} else {
			printf("ok   %s\n", cases[i].name);
		}
	}
	printf("%zu of %zu cases failed\n", failed, i);
	return failed ? 1 : 0;
}
