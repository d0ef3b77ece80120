/* SPDX-License-Identifier: GPL-2.0 */
/*
 * husk-init's parts and what they share: the event loop (init.c), the
 * Lambda Runtime API server with the invocation it holds (runtime_api.c) and
 * the launch of the function's runtime process (runtime.c).
 */
#ifndef HUSK_GUEST_INIT_H
#define HUSK_GUEST_INIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "guest-init/protocol.h"

/* Every line husk-init writes to the environment's log. */
#define pr_init_err(fmt, ...) husk_init_log(fmt, ##__VA_ARGS__)
void husk_init_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * husk_frame_send() to huskd, logging a failure other than -EPIPE (huskd
 * closed the channel: husk-init then just ends).
 */
int husk_channel_send(int fd, uint32_t type, const struct iovec *iov, int iovcnt);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t husk_now_ns(void);

/* What an epoll event's data points at. */
enum husk_watch_kind {
	HUSK_WATCH_CHANNEL,
	HUSK_WATCH_SIGNAL,
	HUSK_WATCH_LISTEN,
	HUSK_WATCH_CONN,
};

struct husk_watch {
	enum husk_watch_kind kind;
	int fd;
};

/* Request ids are UUIDs; anything longer from huskd is a protocol error. */
#define HUSK_REQUEST_ID_MAX 128

enum husk_inv_state {
	HUSK_INV_EMPTY,	    /* no invocation outstanding */
	HUSK_INV_HELD,	    /* INVOKE received, no /next answered with it yet */
	HUSK_INV_DELIVERED, /* the runtime has it; waiting for its result */
};

/* The one invocation huskd may have outstanding. */
struct husk_invocation {
	enum husk_inv_state state;
	char *frame; /* INVOKE payload while held; a connection owns it after */
	struct husk_invoke hdr;
	char *arn, *trace_id, *client_context, *payload; /* into frame */
	char *request_id;				 /* into frame */
	char id[HUSK_REQUEST_ID_MAX];			 /* outlives frame */
	size_t id_len;
};

struct husk_conn;

/* The Runtime API server on 127.0.0.1:9001. */
struct husk_api {
	struct husk_watch listen;
	int epfd;
	int chan_fd;
	struct husk_conn *conns;  /* open connections */
	struct husk_conn *parked; /* /next requests waiting, oldest first */
	struct husk_conn *dead;	  /* closed during this batch, freed after it */
	unsigned int nconns;
	uint64_t spawn_ns; /* when SPAWN arrived; 0 before */
	bool ready_sent;
	int fatal; /* channel failure seen inside a parser callback */
	struct husk_invocation inv;
};

int husk_api_open(struct husk_api *api, int epfd, int chan_fd);
/* SPAWN arrived at spawn_ns: the next first /next sends READY. */
void husk_api_spawned(struct husk_api *api, uint64_t spawn_ns);
/*
 * An INVOKE frame's payload, owned by the API from now on. Returns 0,
 * -EBUSY when one is already outstanding, -EBADMSG when malformed, or a
 * channel error.
 */
int husk_api_invoke(struct husk_api *api, char *payload, size_t len);
/* One epoll event for the listening socket or a connection. */
int husk_api_event(struct husk_api *api, struct husk_watch *w, uint32_t events);
/* Free what was closed while handling the last batch of events. */
void husk_api_reap(struct husk_api *api);

/*
 * Send a RESPONSE, ERROR or INIT_ERROR frame: struct husk_result, the
 * request id, the error type, the body.
 */
int husk_send_result(int chan_fd, uint32_t type, const char *id, size_t id_len,
		     const char *error_type, size_t error_type_len, const char *body,
		     size_t body_len);

/* Which part of launching the runtime failed. */
enum husk_launch_step {
	HUSK_LAUNCH_OK,
	HUSK_LAUNCH_MOUNT_CODE, /* attaching the code at /var/task */
	HUSK_LAUNCH_MOUNT_TMP,	/* mounting /tmp */
	HUSK_LAUNCH_PIPE,
	HUSK_LAUNCH_FORK,
	HUSK_LAUNCH_SIGNALS,
	HUSK_LAUNCH_SETSID,
	HUSK_LAUNCH_PDEATHSIG,
	HUSK_LAUNCH_CAPBSET,
	HUSK_LAUNCH_SETGROUPS,
	HUSK_LAUNCH_SETRESGID,
	HUSK_LAUNCH_SETRESUID,
	HUSK_LAUNCH_AMBIENT,
	HUSK_LAUNCH_NO_NEW_PRIVS,
	HUSK_LAUNCH_LANDLOCK, /* confining the runtime to its file rules */
	HUSK_LAUNCH_NOFILE,
	HUSK_LAUNCH_NPROC,
	HUSK_LAUNCH_CHDIR,
	HUSK_LAUNCH_CLOSE_FDS,
	HUSK_LAUNCH_SECCOMP,
	HUSK_LAUNCH_EXEC,	  /* execve of the bootstrap in path failed */
	HUSK_LAUNCH_NO_BOOTSTRAP, /* neither bootstrap exists */
};

struct husk_launch_error {
	int32_t step; /* enum husk_launch_step */
	int32_t err;  /* errno */
	int32_t path; /* index of the bootstrap for HUSK_LAUNCH_EXEC */
};

/*
 * Fork and exec the runtime as SPAWN describes. Returns 0 with *pid set when
 * the bootstrap is running; -EBADMSG for a malformed SPAWN (nothing was
 * started); any other negative errno with *fail saying what failed (*pid is
 * set when a child was forked and still has to be reaped).
 */
int husk_runtime_launch(const char *spawn, size_t len, pid_t *pid, struct husk_launch_error *fail);

/*
 * Attach the code (a detached mount from huskd, or -1) at /var/task and
 * mount a tmpfs of tmp_mb MiB (0: none) at /tmp. On failure *fail says
 * which step, as for husk_runtime_launch().
 */
int husk_mount_function(int code_fd, uint32_t tmp_mb, struct husk_launch_error *fail);
/* Lambda's error type and JSON body for INIT_ERROR, and a log line. */
const char *husk_launch_error_type(const struct husk_launch_error *fail);
int husk_launch_error_json(const struct husk_launch_error *fail, char *buf, size_t size);
int husk_launch_error_str(const struct husk_launch_error *fail, char *buf, size_t size);

#endif /* HUSK_GUEST_INIT_H */
