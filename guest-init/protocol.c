// SPDX-License-Identifier: GPL-2.0
/*
 * Frames on the huskd <-> husk-init channel: a header and its payload, moved
 * whole over a stream socket. Both ends block until a frame is complete; the
 * channel may still be a non-blocking descriptor (huskd polls it), so EAGAIN
 * waits in poll() rather than failing.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "guest-init/protocol.h"

/* Header plus the few pieces a sender passes (a struct, strings, a body). */
#define FRAME_IOV_MAX 16

static int wait_ready(int fd, short events)
{
	struct pollfd pfd = {.fd = fd, .events = events};

	while (poll(&pfd, 1, -1) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

/* Drop the first n bytes of the vector, for a resumed partial write. */
static void iov_advance(struct iovec **iov, int *iovcnt, size_t n)
{
	while (*iovcnt > 0 && n >= (*iov)->iov_len) {
		n -= (*iov)->iov_len;
		(*iov)++;
		(*iovcnt)--;
	}
	if (*iovcnt > 0) {
		(*iov)->iov_base = (char *)(*iov)->iov_base + n;
		(*iov)->iov_len -= n;
	}
}

/*
 * sendmsg() with MSG_NOSIGNAL so a peer that went away is -EPIPE, not a
 * SIGPIPE; plain writev() when the channel is not a socket (a pipe in tests).
 */
static ssize_t write_vec(int fd, struct iovec *iov, int iovcnt, int *not_socket, int *pass_fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = iovcnt};
	struct cmsghdr *cm;
	ssize_t n;

	if (*pass_fd >= 0) {
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), pass_fd, sizeof(int));
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
		if (n > 0)
			*pass_fd = -1; /* it went with the first bytes */
		return n;
	}
	if (!*not_socket) {
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
		if (n >= 0 || errno != ENOTSOCK)
			return n;
		*not_socket = 1;
	}
	return writev(fd, iov, iovcnt);
}

int husk_frame_send(int fd, uint32_t type, const struct iovec *iov, int iovcnt)
{
	return husk_frame_send_fd(fd, type, iov, iovcnt, -1);
}

int husk_frame_send_fd(int fd, uint32_t type, const struct iovec *iov, int iovcnt, int pass_fd)
{
	struct iovec vec[FRAME_IOV_MAX + 1], *v = vec;
	struct husk_frame_hdr hdr = {.type = type};
	int cnt = iovcnt + 1, not_socket = 0;
	size_t total = 0;
	int i, err;

	if (iovcnt < 0 || iovcnt > FRAME_IOV_MAX)
		return -EINVAL;
	for (i = 0; i < iovcnt; i++) {
		total += iov[i].iov_len;
		if (total > HUSK_FRAME_MAX)
			return -EMSGSIZE;
		vec[i + 1] = iov[i];
	}
	hdr.len = (uint32_t)total;
	vec[0] = (struct iovec){.iov_base = &hdr, .iov_len = sizeof(hdr)};

	while (cnt > 0) {
		ssize_t n = write_vec(fd, v, cnt, &not_socket, &pass_fd);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			err = wait_ready(fd, POLLOUT);
			if (err)
				return err;
			continue;
		}
		iov_advance(&v, &cnt, (size_t)n);
	}
	return 0;
}

/*
 * Read exactly len bytes. Returns 0, -EPIPE when the stream ends before the
 * first byte, -EBADMSG when it ends in the middle, or another negative errno.
 */
static void take_fds(struct msghdr *msg, int *passed_fd)
{
	struct cmsghdr *cm;
	size_t i, n;
	int fd;

	for (cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (passed_fd && *passed_fd < 0)
				*passed_fd = fd;
			else
				close(fd);
		}
	}
}

/*
 * read() with room for passed descriptors: a descriptor sent with a frame
 * arrives with its first byte, and a plain read() of it would drop it.
 */
static ssize_t read_some(int fd, void *buf, size_t len, int *passed_fd, int *not_socket)
{
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	if (*not_socket)
		return read(fd, buf, len);
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	if (n < 0 && errno == ENOTSOCK) {
		*not_socket = 1;
		return read(fd, buf, len);
	}
	if (n > 0)
		take_fds(&msg, passed_fd);
	return n;
}

static int read_full(int fd, void *buf, size_t len, int *passed_fd)
{
	int err, not_socket = 0;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read_some(fd, (char *)buf + got, len - got, passed_fd, &not_socket);

		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == 0)
			return got ? -EBADMSG : -EPIPE;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		err = wait_ready(fd, POLLIN);
		if (err)
			return err;
	}
	return 0;
}

int husk_frame_recv(int fd, struct husk_frame_hdr *hdr, char **payload)
{
	return husk_frame_recv_fd(fd, hdr, payload, NULL);
}

static int recv_frame(int fd, struct husk_frame_hdr *hdr, char **payload, int *passed_fd)
{
	char *buf;
	int err;

	err = read_full(fd, hdr, sizeof(*hdr), passed_fd);
	if (err)
		return err;
	if (hdr->len > HUSK_FRAME_MAX)
		return -EMSGSIZE;

	buf = malloc((size_t)hdr->len + 1);
	if (!buf)
		return -ENOMEM;
	err = read_full(fd, buf, hdr->len, passed_fd);
	if (err) {
		free(buf);
		/* The header was there, so any end of stream now is a truncation. */
		return err == -EPIPE ? -EBADMSG : err;
	}
	buf[hdr->len] = '\0';
	*payload = buf;
	return 0;
}

int husk_frame_recv_fd(int fd, struct husk_frame_hdr *hdr, char **payload, int *passed_fd)
{
	int err;

	*payload = NULL;
	if (passed_fd)
		*passed_fd = -1;
	err = recv_frame(fd, hdr, payload, passed_fd);
	if (err && passed_fd && *passed_fd >= 0) {
		close(*passed_fd);
		*passed_fd = -1;
	}
	return err;
}

int husk_cursor_take(struct husk_cursor *c, void *dst, size_t n)
{
	const char *src;
	int err;

	err = husk_cursor_span(c, n, &src);
	if (err)
		return err;
	memcpy(dst, src, n);
	return 0;
}

int husk_cursor_span(struct husk_cursor *c, size_t n, const char **out)
{
	if (n > c->left)
		return -EBADMSG;
	*out = c->p;
	c->p += n;
	c->left -= n;
	return 0;
}
