/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The environment pool: idle environments of every function version, a few
 * spare environments made ahead of demand (namespaces and cgroups are the
 * slow part of a cold start), the reaper that destroys those idle too long
 * or alive too long and keeps the spares topped up, and retirement of a
 * function's environments when it changes or goes away.
 */
#ifndef HUSK_POOL_H
#define HUSK_POOL_H

#include "env.h"
#include "function.h"
#include "husk.h"

int husk_pool_init(struct husk_ctx *ctx);
/*
 * Shutting down: create no more environments, destroy the idle ones and
 * kill the busy ones (their invokers see them die and release them).
 */
void husk_pool_stop(struct husk_ctx *ctx);
/* After the API is stopped: wait for busy environments to be released, free. */
void husk_pool_fini(struct husk_ctx *ctx);

/*
 * An idle environment of exactly this function version, now marked busy, or
 * NULL when there is none (the caller then creates one).
 */
struct husk_env *husk_pool_take(struct husk_ctx *ctx, struct husk_function *fn);

/*
 * An environment newly given to fn, busy: a spare made ahead of demand
 * when there is one (the reaper then makes the next), else a new one.
 */
int husk_pool_create(struct husk_ctx *ctx, struct husk_function *fn, struct husk_env **out,
		     struct husk_err *err);

/*
 * Hand a busy environment back after an invocation: idle again when it is
 * healthy and its version is still current, else destroyed.
 */
void husk_pool_release(struct husk_ctx *ctx, struct husk_env *env, bool healthy);

/*
 * Retire every environment of function name: idle ones are destroyed now,
 * busy ones when they are released.
 */
void husk_pool_retire(struct husk_ctx *ctx, const char *name);

/*
 * Call fn for every environment, with the pool's lock held (fn must not
 * block nor call back into the pool): for listings.
 */
void husk_pool_foreach(struct husk_ctx *ctx, void (*fn)(struct husk_env *env, void *arg),
		       void *arg);

struct husk_pool_stats {
	unsigned idle, busy, spare, created, destroyed;
};
void husk_pool_stats(struct husk_ctx *ctx, struct husk_pool_stats *st);

#endif
