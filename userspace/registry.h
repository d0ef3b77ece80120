/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The function registry: the current version of every function, in memory,
 * backed by the store. Changes are written to the store (durably) first and
 * published in memory after, so a crash never leaves a function that the
 * store does not have.
 */
#ifndef HUSK_REGISTRY_H
#define HUSK_REGISTRY_H

#include <stddef.h>

#include "function.h"
#include "husk.h"

/* Load every stored function and extract its code below run_dir. */
int husk_registry_open(struct husk_ctx *ctx);
void husk_registry_close(struct husk_ctx *ctx);

/* The current version of name, with a reference the caller puts; NULL if none. */
struct husk_function *husk_registry_lookup(struct husk_ctx *ctx, const char *name);

/*
 * Create a function. fn is filled in from the request (name, arn, runtime,
 * handler, role, description, sizes, env); the registry sets code_sha256,
 * code_size, revision_id, last_modified and code_dir from zip, stores it and
 * publishes it. On success the registry owns fn and *out is a new reference
 * to it. On failure fn is still the caller's and err says why
 * (ResourceConflictException when the name exists, InvalidParameterValue
 * for a bad zip).
 */
int husk_registry_create(struct husk_ctx *ctx, struct husk_function *fn, const void *zip,
			 size_t zip_len, struct husk_function **out, struct husk_err *err);

/*
 * Replace the current version of fn->name with fn: the new configuration,
 * and new code when zip is not NULL (else the code of the version it
 * replaces). Environments of the old version are retired. Same ownership
 * rules as husk_registry_create; ResourceNotFoundException when the function
 * does not exist, PreconditionFailedException (412) when if_revision_id is set and
 * does not match the current RevisionId.
 */
int husk_registry_update(struct husk_ctx *ctx, struct husk_function *fn, const void *zip,
			 size_t zip_len, const char *if_revision_id,
			 struct husk_function **out, struct husk_err *err);

/* Delete a function and retire its environments. -ENOENT if none. */
int husk_registry_delete(struct husk_ctx *ctx, const char *name, struct husk_err *err);

/*
 * The functions sorted by name, each with a reference; the caller puts each
 * and frees the array.
 */
int husk_registry_list(struct husk_ctx *ctx, struct husk_function ***out, size_t *n);

/* The code package of a function, decrypted; the caller frees *zip. */
int husk_registry_code(struct husk_ctx *ctx, const char *name, void **zip, size_t *len);

#endif
