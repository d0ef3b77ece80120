// SPDX-License-Identifier: GPL-2.0
/*
 * husk-init: PID 1 of an execution environment.
 *
 * huskd execs it as the first process of fresh pid, mount, net, ipc, uts,
 * cgroup and user namespaces, with the channel on HUSK_CHANNEL_FD and the
 * environment's log on fds 1 and 2. It starts the runtime when SPAWN comes,
 * serves it the Runtime API, relays invocations and results, reaps every
 * process of the namespace and reports the runtime's exit. One epoll loop,
 * signals through a signalfd, so nothing runs asynchronously.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest-init/init.h"

/* A handler's "leave the loop, all is well" (huskd closed the channel). */
#define HUSK_STOP 1

struct husk_init {
	int epfd;
	struct husk_watch channel;
	struct husk_watch signals;
	struct husk_api api;
	pid_t runtime; /* the bootstrap's pid while it runs */
	bool spawned;
};

void husk_init_log(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "husk-init: ");
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* One write, so lines from several writers of the log do not mix. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

uint64_t husk_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The network namespace is new: its loopback starts down. */
static int loopback_up(void)
{
	struct ifreq ifr = {.ifr_name = "lo"};
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr)) {
		err = -errno;
	} else if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr))
			err = -errno;
	}
	close(fd);
	return err;
}

/*
 * Make the environment usable from inside. In a jail huskd has built the
 * root, /proc and /dev before the exec (the function's /var/task and /tmp
 * come with SPAWN), so only what needs the new network namespace from
 * within is left; a microVM guest has to mount its file systems here first.
 */
static int prepare_environment(void)
{
	int err = loopback_up();

	if (err)
		pr_init_err("bringing up lo: %s", strerror(-err));
	return err;
}

static const char *const frame_names[] = {
    [HUSK_MSG_SPAWN] = "SPAWN", [HUSK_MSG_INVOKE] = "INVOKE",
    [HUSK_MSG_READY] = "READY", [HUSK_MSG_RESPONSE] = "RESPONSE",
    [HUSK_MSG_ERROR] = "ERROR", [HUSK_MSG_INIT_ERROR] = "INIT_ERROR",
    [HUSK_MSG_EXIT] = "EXIT",
};

int husk_channel_send(int fd, uint32_t type, const struct iovec *iov, int iovcnt)
{
	int err = husk_frame_send(fd, type, iov, iovcnt);

	/* -EPIPE: huskd closed the channel, and husk-init ends without a word. */
	if (err && err != -EPIPE)
		pr_init_err("sending %s to huskd: %s",
			    type < sizeof(frame_names) / sizeof(frame_names[0]) ? frame_names[type]
										: "a frame",
			    strerror(-err));
	return err;
}

static int watch(struct husk_init *h, struct husk_watch *w)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};

	return epoll_ctl(h->epfd, EPOLL_CTL_ADD, w->fd, &ev) ? -errno : 0;
}

/* Block the signals we act on and take them from a signalfd instead. */
static int open_signals(struct husk_init *h)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	/* A runtime that hangs up mid-response is an error return, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	h->signals = (struct husk_watch){.kind = HUSK_WATCH_SIGNAL, .fd = fd};
	return watch(h, &h->signals);
}

static int open_channel(struct husk_init *h)
{
	int fd = HUSK_CHANNEL_FD, flags = fcntl(fd, F_GETFD);

	if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC))
		return -errno;
	h->channel = (struct husk_watch){.kind = HUSK_WATCH_CHANNEL, .fd = fd};
	return watch(h, &h->channel);
}

static int init_open(struct husk_init *h)
{
	int err;

	*h = (struct husk_init){.epfd = -1};
	h->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (h->epfd < 0) {
		err = -errno;
		pr_init_err("epoll_create1: %s", strerror(-err));
		return err;
	}
	err = open_signals(h);
	if (err) {
		pr_init_err("setting up signals: %s", strerror(-err));
		return err;
	}
	err = open_channel(h);
	if (err) {
		pr_init_err("no channel from huskd on fd %d: %s", HUSK_CHANNEL_FD, strerror(-err));
		return err;
	}
	err = prepare_environment();
	if (err)
		return err;
	err = husk_api_open(&h->api, h->epfd, h->channel.fd);
	if (err)
		pr_init_err("serving the Runtime API on 127.0.0.1:9001: %s", strerror(-err));
	return err;
}

static int on_spawn(struct husk_init *h, char *payload, size_t len, int code_fd)
{
	struct husk_launch_error fail;
	struct husk_cursor c = {.p = payload, .left = len};
	struct husk_spawn sp;
	char body[512], msg[256];
	const char *type;
	int err, n;

	if (h->spawned) {
		pr_init_err("protocol error: a second SPAWN");
		return -EPROTO;
	}
	h->spawned = true;
	husk_api_spawned(&h->api, husk_now_ns());
	if (husk_cursor_take(&c, &sp, sizeof(sp)) ||
	    !(sp.flags & HUSK_SPAWN_CODE_FD) != (code_fd < 0)) {
		pr_init_err("protocol error: malformed SPAWN (%u bytes)", (unsigned int)len);
		return -EPROTO;
	}
	err = husk_mount_function(code_fd, sp.tmp_mb, &fail);
	if (!err)
		err = husk_runtime_launch(payload, len, &h->runtime, &fail);
	if (!err)
		return 0;
	if (fail.step == HUSK_LAUNCH_OK) {
		pr_init_err("protocol error: malformed SPAWN (%u bytes): %s", (unsigned int)len,
			    strerror(-err));
		return -EPROTO;
	}
	husk_launch_error_str(&fail, msg, sizeof(msg));
	pr_init_err("%s", msg);
	type = husk_launch_error_type(&fail);
	n = husk_launch_error_json(&fail, body, sizeof(body));
	return husk_send_result(h->channel.fd, HUSK_MSG_INIT_ERROR, "", 0, type, strlen(type), body,
				(size_t)n);
}

static int on_invoke(struct husk_init *h, char *payload, size_t len)
{
	int err = husk_api_invoke(&h->api, payload, len);

	if (err == -EBUSY) {
		pr_init_err("protocol error: INVOKE while another is outstanding");
		return -EPROTO;
	}
	if (err == -EBADMSG) {
		pr_init_err("protocol error: malformed INVOKE (%u bytes)", (unsigned int)len);
		return -EPROTO;
	}
	return err;
}

static int on_channel(struct husk_init *h)
{
	struct husk_frame_hdr hdr;
	char *payload;
	int err, fd;

	err = husk_frame_recv_fd(h->channel.fd, &hdr, &payload, &fd);
	if (err == -EPIPE)
		return HUSK_STOP;
	if (err) {
		pr_init_err("reading a frame from huskd: %s", strerror(-err));
		return err;
	}
	/* Only SPAWN carries a descriptor; anything else is dropped. */
	if (fd >= 0 && hdr.type != HUSK_MSG_SPAWN) {
		close(fd);
		fd = -1;
	}
	switch (hdr.type) {
	case HUSK_MSG_SPAWN:
		err = on_spawn(h, payload, hdr.len, fd);
		if (fd >= 0)
			close(fd);
		free(payload);
		return err;
	case HUSK_MSG_INVOKE:
		/* The API keeps the payload: it becomes the /next response body. */
		return on_invoke(h, payload, hdr.len);
	default:
		pr_init_err("protocol error: unexpected frame type %u from huskd", hdr.type);
		free(payload);
		return -EPROTO;
	}
}

static int send_exit(struct husk_init *h, int status)
{
	struct husk_exit ex = {.wait_status = status};
	struct iovec iov = {.iov_base = &ex, .iov_len = sizeof(ex)};

	return husk_channel_send(h->channel.fd, HUSK_MSG_EXIT, &iov, 1);
}

/* Reap every child of the namespace; report the runtime's own exit. */
static int reap_children(struct husk_init *h)
{
	int status, err;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid != h->runtime)
			continue;
		h->runtime = 0;
		err = send_exit(h, status);
		if (err)
			return err;
	}
	return 0;
}

static int on_signals(struct husk_init *h)
{
	struct signalfd_siginfo si[8];
	bool child = false;
	ssize_t n;
	size_t i;

	for (;;) {
		n = read(h->signals.fd, si, sizeof(si));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			pr_init_err("reading the signalfd: %s", strerror(errno));
			return -errno;
		}
		for (i = 0; i < (size_t)n / sizeof(si[0]); i++) {
			if (si[i].ssi_signo == SIGCHLD)
				child = true;
			else
				return HUSK_STOP; /* SIGTERM or SIGINT */
		}
	}
	return child ? reap_children(h) : 0;
}

static int dispatch(struct husk_init *h, struct husk_watch *w, uint32_t events)
{
	switch (w->kind) {
	case HUSK_WATCH_CHANNEL:
		return on_channel(h);
	case HUSK_WATCH_SIGNAL:
		return on_signals(h);
	default:
		return husk_api_event(&h->api, w, events);
	}
}

/* Returns HUSK_STOP or a negative errno. */
static int run(struct husk_init *h)
{
	struct epoll_event ev[32];
	int i, n, err;

	for (;;) {
		n = epoll_wait(h->epfd, ev, 32, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			pr_init_err("epoll_wait: %s", strerror(errno));
			return -errno;
		}
		for (i = 0; i < n; i++) {
			err = dispatch(h, ev[i].data.ptr, ev[i].events);
			if (err)
				return err;
		}
		husk_api_reap(&h->api);
	}
}

int main(void)
{
	struct husk_init h;
	int err;

	if (init_open(&h))
		return 1;
	/* Every failure was logged where it happened. */
	err = run(&h);
	return err == HUSK_STOP || err == -EPIPE ? 0 : 1;
}
