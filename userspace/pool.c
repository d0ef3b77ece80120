// SPDX-License-Identifier: GPL-2.0
/*
 * The environment pool (see pool.h). One mutex guards the lists; creating
 * and destroying environments (the slow parts) happen outside it.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "env.h"
#include "jail.h"
#include "log.h"
#include "pool.h"
#include "bpf/husk_abi.h"

/* Slots index the host uid ranges and the BPF counter array: the smaller. */
#define POOL_SLOTS (HUSK_UID_SLOTS < HUSK_BPF_MAX_ENVS ? HUSK_UID_SLOTS : HUSK_BPF_MAX_ENVS)

struct husk_pool {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* reaper wake-ups, busy environments drained */
	struct husk_env *idle; /* most recently used first: warmest caches */
	struct husk_env *spares; /* made ahead of demand, serving no function */
	struct husk_env *all;
	unsigned n_idle, n_busy, n_spare;
	uint64_t next_id, created, destroyed;
	uint8_t slots[HUSK_UID_SLOTS / 8];
	bool stopping;
	pthread_t reaper;
};

static double elapsed_s(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) + (b->tv_nsec - a->tv_nsec) / 1e9;
}

static int slot_alloc(struct husk_pool *p, unsigned *slot)
{
	unsigned i;

	for (i = 0; i < POOL_SLOTS; i++) {
		if (!(p->slots[i / 8] & (1u << (i % 8)))) {
			p->slots[i / 8] |= 1u << (i % 8);
			*slot = i;
			return 0;
		}
	}
	return -EAGAIN;
}

static void slot_free(struct husk_pool *p, unsigned slot)
{
	p->slots[slot / 8] &= ~(1u << (slot % 8));
}

static void all_link(struct husk_pool *p, struct husk_env *env)
{
	env->all_prev = NULL;
	env->all_next = p->all;
	if (p->all)
		p->all->all_prev = env;
	p->all = env;
}

static void all_unlink(struct husk_pool *p, struct husk_env *env)
{
	if (env->all_prev)
		env->all_prev->all_next = env->all_next;
	else
		p->all = env->all_next;
	if (env->all_next)
		env->all_next->all_prev = env->all_prev;
}

static void idle_unlink(struct husk_pool *p, struct husk_env *env)
{
	struct husk_env **pp;

	for (pp = &p->idle; *pp; pp = &(*pp)->next) {
		if (*pp == env) {
			*pp = env->next;
			env->next = NULL;
			p->n_idle--;
			return;
		}
	}
}

/*
 * Unlink env from the pool (lock held); the caller destroys it after
 * unlocking, with destroy_list, which frees its slot only then.
 */
static void forget(struct husk_pool *p, struct husk_env *env)
{
	all_unlink(p, env);
	p->destroyed++;
}

/*
 * The slot (host uid range, BPF counters, telemetry) is reused only once
 * the environment is gone: until then its dying processes still hold the
 * uids and still count into the slot.
 */
static void destroy_list(struct husk_ctx *ctx, struct husk_env *list)
{
	struct husk_pool *p = ctx->pool;
	struct husk_env *next;
	unsigned slot;

	for (; list; list = next) {
		next = list->next;
		slot = list->uid_slot;
		pr_info("%s: destroyed (function %s, %llu invocations)", list->name,
			list->fn ? list->fn->name : "none, spare",
			(unsigned long long)list->invocations);
		husk_env_destroy(ctx, list);
		pthread_mutex_lock(&p->lock);
		slot_free(p, slot);
		pthread_mutex_unlock(&p->lock);
	}
}

/* An idle environment must have nothing to say: data or hang-up means it died. */
static bool idle_env_alive(const struct husk_env *env)
{
	struct pollfd pfd = { .fd = env->chan_fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 0;
}

struct husk_env *husk_pool_take(struct husk_ctx *ctx, struct husk_function *fn)
{
	struct husk_pool *p = ctx->pool;
	struct husk_env *env, *dead = NULL;

	pthread_mutex_lock(&p->lock);
	for (env = NULL; !p->stopping;) {
		for (env = p->idle; env && env->fn != fn; env = env->next)
			;
		if (!env)
			break;
		idle_unlink(p, env);
		if (idle_env_alive(env)) {
			env->state = HUSK_ENV_BUSY;
			p->n_busy++;
			break;
		}
		forget(p, env);
		env->next = dead;
		dead = env;
	}
	pthread_mutex_unlock(&p->lock);
	destroy_list(ctx, dead);
	return env;
}

/* A uid slot and an id for a new environment; -ESHUTDOWN or -EAGAIN (lock held). */
static int reserve(struct husk_pool *p, unsigned *slot, uint64_t *id)
{
	int rc = p->stopping ? -ESHUTDOWN : slot_alloc(p, slot);

	if (!rc)
		*id = ++p->next_id;
	return rc;
}

/* Make a new environment serving no function, accounted but on no list. */
static int make_env(struct husk_ctx *ctx, struct husk_env **out, struct husk_err *err)
{
	struct husk_pool *p = ctx->pool;
	unsigned slot;
	uint64_t id;
	int rc;

	pthread_mutex_lock(&p->lock);
	rc = reserve(p, &slot, &id);
	pthread_mutex_unlock(&p->lock);
	if (rc) {
		if (rc == -ESHUTDOWN)
			husk_err_set(err, 503, HUSK_E_SERVICE, "huskd is shutting down");
		else
			husk_err_set(err, 429, HUSK_E_TOO_MANY,
				     "no free execution environment slot (%u in use)",
				     POOL_SLOTS);
		return rc;
	}
	rc = husk_env_create(ctx, slot, id, out, err);
	pthread_mutex_lock(&p->lock);
	if (rc) {
		slot_free(p, slot);
	} else {
		all_link(p, *out);
		p->created++;
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

/* A spare, now busy, or NULL; wakes the reaper to make another. */
static struct husk_env *take_spare(struct husk_pool *p)
{
	struct husk_env *env;

	pthread_mutex_lock(&p->lock);
	env = p->stopping ? NULL : p->spares;
	if (env) {
		p->spares = env->next;
		env->next = NULL;
		p->n_spare--;
		p->n_busy++;
		pthread_cond_signal(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);
	return env;
}

int husk_pool_create(struct husk_ctx *ctx, struct husk_function *fn, struct husk_env **out,
		     struct husk_err *err)
{
	struct husk_pool *p = ctx->pool;
	struct husk_env *env;
	int rc;

	env = take_spare(p);
	if (!env) {
		rc = make_env(ctx, &env, err);
		if (rc)
			return rc;
		pthread_mutex_lock(&p->lock);
		p->n_busy++;
		pthread_mutex_unlock(&p->lock);
	}
	rc = husk_env_bind(ctx, env, fn, err);
	if (rc) {
		husk_pool_release(ctx, env, false);
		return rc;
	}
	pr_info("%s: serves %s", env->name, fn->name);
	*out = env;
	return 0;
}

/* The reaper keeps cfg.spares environments ready (lock held; drops it to create). */
static void refill_spares(struct husk_ctx *ctx)
{
	struct husk_pool *p = ctx->pool;
	struct husk_env *env;
	struct husk_err err;

	while (!p->stopping && p->n_spare < ctx->cfg.spares) {
		pthread_mutex_unlock(&p->lock);
		if (make_env(ctx, &env, &err)) {
			pr_warn("cannot make a spare environment: %s", err.msg);
			pthread_mutex_lock(&p->lock);
			return;
		}
		pthread_mutex_lock(&p->lock);
		env->next = p->spares;
		p->spares = env;
		p->n_spare++;
	}
}

void husk_pool_release(struct husk_ctx *ctx, struct husk_env *env, bool healthy)
{
	struct husk_pool *p = ctx->pool;
	bool keep;

	clock_gettime(CLOCK_MONOTONIC, &env->last_used);
	pthread_mutex_lock(&p->lock);
	p->n_busy--;
	keep = healthy && !env->retired && !p->stopping;
	if (keep) {
		env->state = HUSK_ENV_IDLE;
		env->next = p->idle;
		p->idle = env;
		p->n_idle++;
	} else {
		forget(p, env);
		env->next = NULL;
	}
	/* Only husk_pool_fini waits for releases; waking the reaper costs a CPU hop. */
	if (p->stopping)
		pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	if (!keep)
		destroy_list(ctx, env);
}

void husk_pool_retire(struct husk_ctx *ctx, const char *name)
{
	struct husk_pool *p = ctx->pool;
	struct husk_env *env, *dead = NULL;

	pthread_mutex_lock(&p->lock);
	for (env = p->all; env; env = env->all_next) {
		if (!env->fn || strcmp(env->fn->name, name))
			continue;
		env->retired = true;
		if (env->state == HUSK_ENV_IDLE) {
			idle_unlink(p, env);
			forget(p, env);
			env->next = dead;
			dead = env;
		}
	}
	pthread_mutex_unlock(&p->lock);
	destroy_list(ctx, dead);
}

void husk_pool_stats(struct husk_ctx *ctx, struct husk_pool_stats *st)
{
	struct husk_pool *p = ctx->pool;

	pthread_mutex_lock(&p->lock);
	st->idle = p->n_idle;
	st->busy = p->n_busy;
	st->spare = p->n_spare;
	st->created = p->created;
	st->destroyed = p->destroyed;
	pthread_mutex_unlock(&p->lock);
}

/*
 * Take the environments of list past their lifetime, dead, or (idle ones)
 * unused too long off it and onto *dead (lock held).
 */
static void collect_expired(struct husk_ctx *ctx, struct husk_env **list, unsigned *count,
			    bool idle_timeout, struct husk_env **dead)
{
	struct husk_pool *p = ctx->pool;
	struct husk_env **pp = list, *env;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	while ((env = *pp)) {
		bool old = elapsed_s(&env->created, &now) >= ctx->cfg.max_lifetime_s;
		bool unused = idle_timeout &&
			      elapsed_s(&env->last_used, &now) >= ctx->cfg.idle_timeout_s;

		if (!old && !unused && idle_env_alive(env)) {
			pp = &env->next;
			continue;
		}
		*pp = env->next;
		(*count)--;
		forget(p, env);
		env->next = *dead;
		*dead = env;
	}
}

static void *reaper_main(void *arg)
{
	struct husk_ctx *ctx = arg;
	struct husk_pool *p = ctx->pool;
	struct husk_env *dead;
	struct timespec until;

	pthread_mutex_lock(&p->lock);
	while (!p->stopping) {
		dead = NULL;
		collect_expired(ctx, &p->idle, &p->n_idle, true, &dead);
		collect_expired(ctx, &p->spares, &p->n_spare, false, &dead);
		if (dead) {
			pthread_mutex_unlock(&p->lock);
			destroy_list(ctx, dead);
			pthread_mutex_lock(&p->lock);
			continue;
		}
		refill_spares(ctx);
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += 1;
		pthread_cond_timedwait(&p->cond, &p->lock, &until);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int husk_pool_init(struct husk_ctx *ctx)
{
	struct husk_pool *p;
	pthread_condattr_t ca;
	int rc;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);
	ctx->pool = p;
	rc = pthread_create(&p->reaper, NULL, reaper_main, ctx);
	if (rc) {
		ctx->pool = NULL;
		free(p);
		return -rc;
	}
	return 0;
}

void husk_pool_stop(struct husk_ctx *ctx)
{
	struct husk_pool *p = ctx->pool;
	struct husk_env *env, *dead;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->reaper, NULL);

	pthread_mutex_lock(&p->lock);
	dead = p->idle;
	p->idle = NULL;
	p->n_idle = 0;
	for (env = dead; env; env = env->next)
		forget(p, env);
	for (env = p->spares; env; env = p->spares) {
		p->spares = env->next;
		forget(p, env);
		env->next = dead;
		dead = env;
	}
	p->n_spare = 0;
	for (env = p->all; env; env = env->all_next)
		syscall(SYS_pidfd_send_signal, env->pidfd, SIGKILL, NULL, 0);
	pthread_mutex_unlock(&p->lock);
	destroy_list(ctx, dead);
}

void husk_pool_fini(struct husk_ctx *ctx)
{
	struct husk_pool *p = ctx->pool;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	while (p->n_busy)
		pthread_cond_wait(&p->cond, &p->lock);
	pthread_mutex_unlock(&p->lock);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p);
	ctx->pool = NULL;
}

void husk_pool_foreach(struct husk_ctx *ctx, void (*fn)(struct husk_env *env, void *arg),
		       void *arg)
{
	struct husk_pool *p = ctx->pool;
	struct husk_env *env;

	pthread_mutex_lock(&p->lock);
	for (env = p->all; env; env = env->all_next)
		fn(env, arg);
	pthread_mutex_unlock(&p->lock);
}
