/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An execution environment: one husk-init (PID 1 of its own namespaces, in
 * its own cgroup) serving one function version, one invocation at a time.
 * The pool owns idle environments; an invocation owns a busy one.
 */
#ifndef HUSK_ENV_H
#define HUSK_ENV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "egress.h"
#include "function.h"
#include "husk.h"

/* SPARE: made ahead of demand, serving no function yet. */
enum husk_env_state { HUSK_ENV_SPARE, HUSK_ENV_BUSY, HUSK_ENV_IDLE };

struct husk_env {
	struct husk_env *next;		     /* idle list */
	struct husk_env *all_prev, *all_next; /* every environment */
	uint64_t id;
	char name[32]; /* "env-<id>": cgroup and log name */
	struct husk_function *fn; /* the version it serves, referenced; NULL if spare */
	enum husk_env_state state;
	bool retired;		  /* destroy instead of going idle */
	bool ready;		  /* the runtime asked for its first invocation */
	bool frozen;
	pid_t pid;		  /* husk-init, in huskd's pid namespace */
	int pidfd;
	int chan_fd;		  /* huskd's end of the channel */
	int log_fd;		  /* read end of the runtime's stdout/stderr */
	int err_fd;		  /* read end of the jail setup error pipe */
	unsigned uid_slot;	  /* which host uid range it maps */
	struct husk_cg *cg;
	uint64_t cgid;		  /* its v2 id: the key of its BPF map entries */
	bool in_bpf;		  /* husk_envs has it */
	bool policy_set;	  /* the function's policy is in the maps */
	bool has_link;		  /* a veth for egress */
	struct husk_egress_link link;
	struct timespec created;  /* CLOCK_MONOTONIC */
	struct timespec last_used;
	struct timespec bound;	  /* SPAWN sent: the runtime's init starts */
	uint64_t invocations;
	double init_ms;		  /* reported with the first invocation */
	double freeze_us;	  /* cost of the last freeze */
};

/*
 * Create an environment that serves no function yet: cgroup, namespaces,
 * root, husk-init waiting for SPAWN. This is the slow part of a cold start,
 * so the pool does it ahead of demand.
 */
int husk_env_create(struct husk_ctx *ctx, unsigned uid_slot, uint64_t id, struct husk_env **out,
		    struct husk_err *err);

/*
 * Give a spare environment to fn: its memory and CPU limits, and the SPAWN
 * message (with the code, as a detached mount, and the size of /tmp) that
 * starts its runtime. Does not wait for the runtime. The environment is
 * busy; on failure the caller destroys it.
 */
int husk_env_bind(struct husk_ctx *ctx, struct husk_env *env, struct husk_function *fn,
		  struct husk_err *err);

/* Kill, reap and remove everything of env, and free it. */
void husk_env_destroy(struct husk_ctx *ctx, struct husk_env *env);

/*
 * Why the jail's setup failed, read from its error pipe once the environment
 * died; "" when setup succeeded (husk-init was exec'd).
 */
void husk_env_setup_error(struct husk_env *env, char *buf, size_t len);

int husk_env_freeze(struct husk_ctx *ctx, struct husk_env *env);
int husk_env_thaw(struct husk_ctx *ctx, struct husk_env *env);

#endif
