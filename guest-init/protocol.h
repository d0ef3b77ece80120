/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The channel between huskd and husk-init.
 *
 * husk-init inherits one end of a SOCK_STREAM socket as HUSK_CHANNEL_FD: a
 * socketpair for a jail, a vsock connection for a microVM. Both sides write
 * frames: a struct husk_frame_hdr followed by hdr.len payload bytes. Integers
 * are in host byte order (both ends run on the same machine, or in a guest of
 * the same architecture). A stream socket is used rather than SEQPACKET
 * because AF_UNIX datagrams of several megabytes need a high-order kernel
 * allocation and fail under fragmentation.
 *
 * The conversation:
 *
 *   huskd                              husk-init
 *   SPAWN  (credentials, rlimits,  ->  forks the runtime, /var/task/bootstrap
 *           seccomp filter, env)
 *                                  <-  READY  when the runtime first asks for
 *                                             an invocation (init duration)
 *   INVOKE (request id, deadline,  ->  answers the runtime's pending
 *           arn, trace, payload)          GET /runtime/invocation/next
 *                                  <-  RESPONSE or ERROR for that request id
 *                                  <-  INIT_ERROR if the runtime posted
 *                                             /runtime/init/error
 *                                  <-  EXIT   when the runtime process exited
 *
 * INVOKE may be sent before READY (a cold start pipelines SPAWN and INVOKE);
 * husk-init holds it until the runtime asks. There is at most one INVOKE
 * outstanding: huskd sends the next one only after RESPONSE or ERROR.
 * husk-init never blocks on huskd for anything but writing a frame.
 */
#ifndef HUSK_PROTOCOL_H
#define HUSK_PROTOCOL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#define HUSK_CHANNEL_FD 3
/* Largest frame either side accepts: a 6 MB payload plus its headers. */
#define HUSK_FRAME_MAX (7u << 20)
/* Lambda's limit on request and response payloads. */
#define HUSK_PAYLOAD_MAX 6291456u

enum husk_msg_type {
	HUSK_MSG_SPAWN = 1,
	HUSK_MSG_INVOKE = 2,
	HUSK_MSG_READY = 3,
	HUSK_MSG_RESPONSE = 4,
	HUSK_MSG_ERROR = 5,
	HUSK_MSG_INIT_ERROR = 6,
	HUSK_MSG_EXIT = 7,
};

struct husk_frame_hdr {
	uint32_t type;
	uint32_t len; /* payload bytes after this header */
};

/*
 * SPAWN payload: this struct, then filter_len struct sock_filter
 * instructions (the runtime's seccomp filter, installed after no_new_privs;
 * 0 means none), then env_len bytes of "KEY=VALUE\0" strings: the runtime's
 * whole environment, then fsrules_len bytes of file rules (below).
 *
 * With HUSK_SPAWN_LANDLOCK husk-init confines the runtime with Landlock
 * before exec: everything the runtime may do to files is what the file
 * rules grant, nothing else (an empty rule list grants nothing). Each rule
 * is a struct husk_fs_rule followed by path_len bytes of an absolute path
 * (no NUL), padded with zeros to a multiple of 4 bytes. huskd sets the flag
 * when BPF LSM does not enforce the file rules itself.
 *
 * An environment is made before it is known which function it will serve
 * (huskd keeps a few ready), so the function's own filesystem comes with
 * SPAWN: with HUSK_SPAWN_CODE_FD the frame carries one descriptor
 * (SCM_RIGHTS): a detached, read-only mount of the code (open_tree) that
 * husk-init attaches at /var/task; with tmp_mb it mounts a tmpfs of that
 * many MiB at /tmp. Both happen before the runtime starts.
 */
#define HUSK_SPAWN_CODE_FD 0x1
#define HUSK_SPAWN_LANDLOCK 0x2

/* What a file rule grants below its path. */
#define HUSK_FS_READ 0x1  /* read files, list directories */
#define HUSK_FS_WRITE 0x2 /* write, truncate, create, remove, rename */
#define HUSK_FS_EXEC 0x4  /* execute files */

#define HUSK_FS_ALL (HUSK_FS_READ | HUSK_FS_WRITE | HUSK_FS_EXEC)
/* Longest path of a file rule: PATH_MAX less its NUL. */
#define HUSK_FS_RULE_PATH_MAX 4095u

struct husk_fs_rule {
	uint32_t access; /* HUSK_FS_* */
	uint32_t path_len;
};

/* Bytes that a rule with a path of path_len bytes takes in the rule block. */
static inline size_t husk_fs_rule_size(size_t path_len)
{
	return sizeof(struct husk_fs_rule) + ((path_len + 3) & ~(size_t)3);
}

/*
 * Append one file rule at buf + *off (buf holds size bytes) and advance *off.
 * Size buf with husk_fs_rule_size(strlen(path)) per rule. Returns 0, -EINVAL
 * for a path that is not absolute or longer than HUSK_FS_RULE_PATH_MAX, or for
 * access that is empty or not HUSK_FS_*, -ENOSPC when the rule does not fit.
 * Inline, so huskd, husk-init and the tests share it without linking.
 */
static inline int husk_fs_rule_append(void *buf, size_t size, size_t *off, uint32_t access,
				      const char *path)
{
	size_t len = strlen(path), need = husk_fs_rule_size(len);
	struct husk_fs_rule r = {.access = access, .path_len = (uint32_t)len};
	char *p;

	if (path[0] != '/' || len > HUSK_FS_RULE_PATH_MAX || !access || (access & ~HUSK_FS_ALL))
		return -EINVAL;
	if (*off > size || need > size - *off)
		return -ENOSPC;
	p = (char *)buf + *off;
	memcpy(p, &r, sizeof(r));
	memcpy(p + sizeof(r), path, len);
	memset(p + sizeof(r) + len, 0, need - sizeof(r) - len);
	*off += need;
	return 0;
}

struct husk_spawn {
	uint32_t uid;
	uint32_t gid;
	uint32_t nofile; /* RLIMIT_NOFILE, soft and hard */
	uint32_t nproc;	 /* RLIMIT_NPROC, soft and hard; 0 leaves it */
	uint32_t filter_len;
	uint32_t env_len;
	uint32_t tmp_mb; /* size of /tmp; 0: leave /tmp as it is */
	uint32_t flags;	 /* HUSK_SPAWN_* */
	uint32_t fsrules_len;
	uint32_t reserved;
};

/*
 * INVOKE payload: this struct, then the strings in field order (not NUL
 * terminated), then payload_len bytes of the event.
 */
struct husk_invoke {
	uint64_t deadline_ms; /* wall clock, ms since the epoch */
	uint16_t request_id_len;
	uint16_t arn_len;
	uint16_t trace_id_len;
	uint16_t client_context_len; /* decoded JSON, or 0 */
	uint32_t payload_len;
	uint32_t reserved;
};

/*
 * RESPONSE, ERROR and INIT_ERROR payload: this struct, then the request id
 * (empty for INIT_ERROR), the error type (the runtime's
 * Lambda-Runtime-Function-Error-Type header, empty for RESPONSE), then the
 * body the runtime posted.
 */
struct husk_result {
	uint16_t request_id_len;
	uint16_t error_type_len;
	uint32_t body_len;
};

/* READY payload. */
struct husk_ready {
	uint64_t init_ns; /* from SPAWN received to the first /next */
};

/* EXIT payload. */
struct husk_exit {
	int32_t wait_status; /* as from waitpid() */
	uint32_t reserved;
};

/*
 * Write one frame whose payload is the concatenation of iov[0..iovcnt).
 * Blocks until all is written. Returns 0 or a negative errno.
 */
int husk_frame_send(int fd, uint32_t type, const struct iovec *iov, int iovcnt);

/* The same, passing pass_fd (SCM_RIGHTS) with the frame's first byte. */
int husk_frame_send_fd(int fd, uint32_t type, const struct iovec *iov, int iovcnt, int pass_fd);

/*
 * Read one whole frame. On success *payload is a malloc'd buffer of hdr->len
 * bytes (plus a NUL byte, not counted) that the caller frees. Returns 0,
 * -EPIPE on a clean end of stream, -EMSGSIZE for a frame over
 * HUSK_FRAME_MAX, or another negative errno. A descriptor passed with the
 * frame is closed.
 */
int husk_frame_recv(int fd, struct husk_frame_hdr *hdr, char **payload);

/*
 * The same, keeping a descriptor passed with the frame in *passed_fd
 * (close-on-exec; -1 when none came). Extra descriptors are closed.
 */
int husk_frame_recv_fd(int fd, struct husk_frame_hdr *hdr, char **payload, int *passed_fd);

/*
 * A cursor over a received payload, for taking fixed structs and
 * length-prefixed strings out of it without reading past its end.
 */
struct husk_cursor {
	const char *p;
	size_t left;
};

/* Copy n bytes out; -EBADMSG when fewer are left. */
int husk_cursor_take(struct husk_cursor *c, void *dst, size_t n);
/* Point *out at the next n bytes; -EBADMSG when fewer are left. */
int husk_cursor_span(struct husk_cursor *c, size_t n, const char **out);

#endif /* HUSK_PROTOCOL_H */
