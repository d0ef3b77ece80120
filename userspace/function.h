/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A function version as huskd runs it. A struct husk_function is immutable
 * once published in the registry: an update publishes a new one with a new
 * revision_id, so an environment that holds a reference to its version can
 * never serve another. References are counted; the last put frees it and
 * removes its extracted code.
 */
#ifndef HUSK_FUNCTION_H
#define HUSK_FUNCTION_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define HUSK_MEMORY_MIN 128
#define HUSK_MEMORY_MAX 10240
#define HUSK_TIMEOUT_MIN 1
#define HUSK_TIMEOUT_MAX 900
#define HUSK_EPHEMERAL_MIN 512
#define HUSK_EPHEMERAL_MAX 10240
#define HUSK_NAME_MAX 64
/* Lambda's limit on the environment variables of one function. */
#define HUSK_ENV_VARS_MAX_BYTES 4096

struct husk_policy;

struct husk_env_var {
	char *key;
	char *value;
};

struct husk_function {
	atomic_int refs;
	char *name;
	char *arn;	   /* arn:aws:lambda:REGION:ACCOUNT:function:NAME */
	char *runtime;	   /* provided.al2023 or provided */
	char *handler;	   /* passed to the runtime as _HANDLER */
	char *role;
	char *description;
	unsigned memory_mb;    /* MemorySize */
	unsigned timeout_s;    /* Timeout */
	unsigned ephemeral_mb; /* EphemeralStorage.Size: size of /tmp */
	struct husk_env_var *env;
	size_t n_env;
	char code_sha256[48]; /* base64 of the SHA-256 of the zip, as Lambda */
	uint64_t code_size;   /* bytes of the zip */
	char revision_id[40]; /* a UUID, new for every change */
	char last_modified[40]; /* 2024-01-02T03:04:05.678+0000 */
	char *code_dir;	      /* extracted code, mounted at /var/task */
	/* Never NULL once published; the default policy when none was given. */
	struct husk_policy *policy;
};

static inline struct husk_function *husk_fn_get(struct husk_function *fn)
{
	atomic_fetch_add(&fn->refs, 1);
	return fn;
}

/* Drop a reference; the last one frees fn and removes fn->code_dir. */
void husk_fn_put(struct husk_function *fn);

/* Free the fields of a function that was never published (no code_dir removal). */
void husk_fn_free(struct husk_function *fn);

#endif
