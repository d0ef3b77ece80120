/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The telemetry collector: one thread consumes the BPF ring buffer through
 * epoll and files every event under the environment it names (by slot,
 * checked against the cgroup id). When an invocation ends, its thread
 * drains the ring buffer itself, so that everything the environment did
 * until its answer is in that invocation's stats, then takes the
 * environment's counters (syscalls by number, bytes in and out, processes,
 * denials, lost events) by atomic exchange with zero, straight from the
 * mmap'd counter array. What happens after the answer (the runtime asking
 * for the next event) counts towards the next invocation.
 */
#ifndef HUSK_TELEMETRY_H
#define HUSK_TELEMETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/husk_abi.h"

#define HUSK_TEL_TOP 5	   /* syscalls named in a report */
#define HUSK_TEL_DENIALS 4 /* denials described in a report */
#define HUSK_TEL_TEXT 192
#define HUSK_TEL_NAME 72	   /* an environment's or function's name */
#define HUSK_TEL_RECENT 256   /* records kept for huskctl events */
#define HUSK_TEL_FOLLOWERS 8  /* live followers at once */

struct husk_bpf;
struct husk_telemetry;

struct husk_syscall_count {
	uint32_t nr;
	uint64_t count;
};

/* What one invocation did, for its report. */
struct husk_inv_stats {
	bool valid;	   /* telemetry ran for this invocation */
	uint64_t syscalls; /* total */
	struct husk_syscall_count top[HUSK_TEL_TOP];
	unsigned n_top;
	uint64_t denials;			      /* counted in the kernel */
	uint64_t denials_received;		      /* of them, records the collector got */
	char denial[HUSK_TEL_DENIALS][HUSK_TEL_TEXT]; /* the first few, described */
	unsigned n_denial;
	uint64_t rx_bytes, tx_bytes;
	uint64_t processes; /* forks of new processes (not threads) */
	uint64_t execs;
	uint64_t file_opens;
	uint64_t lost_events; /* events the ring buffer had no room for */
	bool oom;
};

/* Start the consumer thread on b's ring buffer. */
int husk_tel_start(struct husk_bpf *b, struct husk_telemetry **out);
void husk_tel_stop(struct husk_telemetry *t);

struct json_object;

/* An environment starts or stops using slot (clears what is filed there). */
void husk_tel_env_open(struct husk_telemetry *t, unsigned slot, uint64_t cgid, const char *env);
void husk_tel_env_close(struct husk_telemetry *t, unsigned slot, uint64_t cgid);
/* The environment in slot now serves fn (named in its events). */
void husk_tel_env_bind(struct husk_telemetry *t, unsigned slot, const char *fn);

/* The last HUSK_TEL_RECENT records, oldest first, as JSON objects (see event_json). */
struct json_object *husk_tel_recent_json(struct husk_telemetry *t);

/*
 * Follow the stream: *read_fd gets one JSON line per record from now on
 * (non-blocking pipe; lines the follower does not read in time are dropped
 * and counted). -EBUSY when HUSK_TEL_FOLLOWERS already follow. Closed by
 * husk_tel_unfollow, or at end of stream when huskd stops.
 */
int husk_tel_follow(struct husk_telemetry *t, int *read_fd);
void husk_tel_unfollow(struct husk_telemetry *t, int read_fd);

/* "denial", "exec", "fork", "exit", "oom". */
const char *husk_tel_event_type(unsigned type);

/* Drain, then move the slot's events and counters into st (see above). */
void husk_tel_collect(struct husk_telemetry *t, unsigned slot, struct husk_inv_stats *st);

/* One line describing a denial event, e.g. "connect 192.0.2.1:80/tcp: ...". */
void husk_tel_describe_denial(const struct husk_ev_deny *ev, char *buf, size_t len);

/* The name of a syscall number ("openat"), or "syscall_N". */
void husk_tel_syscall_name(uint32_t nr, char *buf, size_t len);

#endif
