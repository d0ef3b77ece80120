/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The function configuration model: validation of the requests that create
 * or change a function (CreateFunction, UpdateFunctionConfiguration,
 * UpdateFunctionCode), FunctionName/ARN references, and the conversion
 * between struct husk_function and Lambda's FunctionConfiguration JSON, which
 * is also the document the store keeps for every function.
 *
 * Validation errors are InvalidParameterValueException (400) with a message
 * that names the field; unknown fields are ignored, as Lambda does, except
 * inside husk's own "Policy" member (policy.h), where they are refused.
 */
#ifndef HUSK_FN_CONFIG_H
#define HUSK_FN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "function.h"
#include "husk.h"

struct json_object;

#define HUSK_QUALIFIER_MAX 128
/* Room for arn:aws:lambda:REGION:ACCOUNT:function:NAME:QUALIFIER. */
#define HUSK_ARN_MAX 320

/* A function as an API caller names it. */
struct husk_fn_ref {
	char name[HUSK_NAME_MAX + 1];
	char qualifier[HUSK_QUALIFIER_MAX + 1]; /* "" when none was given */
};

/* arn:aws:lambda:REGION:ACCOUNT:function:NAME into buf; -ENAMETOOLONG if it does not fit. */
int husk_fn_arn(const struct husk_config *cfg, const char *name, char *buf, size_t len);

/* 404 ResourceNotFoundException "Function not found: ARN[:QUALIFIER]". */
void husk_fn_err_not_found(const struct husk_config *cfg, const char *name, const char *qualifier,
			   struct husk_err *err);

/* 412 PreconditionFailedException, as Lambda answers a stale RevisionId; returns -ESTALE. */
int husk_fn_err_stale_revision(struct husk_err *err);

/*
 * Parse NAME, ACCOUNT:function:NAME or arn:aws:lambda:REGION:ACCOUNT:function:NAME,
 * each optionally followed by :QUALIFIER. An ARN must name this host's region
 * and account.
 */
int husk_fn_parse_ref(const struct husk_config *cfg, const char *in, struct husk_fn_ref *ref,
		      struct husk_err *err);

/*
 * Resolve the qualifier of ref and of a ?Qualifier= parameter (NULL or "" when
 * absent). Only $LATEST exists: anything else is ResourceNotFoundException.
 */
int husk_fn_check_qualifier(const struct husk_config *cfg, const struct husk_fn_ref *ref,
			    const char *query_qualifier, struct husk_err *err);

/*
 * Validate a CreateFunction request. On success *out is a new, unpublished
 * function (name, arn, runtime, handler, role, description, sizes,
 * environment, policy: the default when Policy is absent; refs 0) and *zip
 * the decoded Code.ZipFile, both the caller's.
 */
int husk_fn_from_create(const struct husk_config *cfg, struct json_object *req,
			struct husk_function **out, void **zip, size_t *zip_len,
			struct husk_err *err);

/*
 * Validate an UpdateFunctionConfiguration request and apply it on a copy of
 * cur; a Policy member replaces the whole policy, its absence keeps cur's.
 * *revision_id points into req (the RevisionId precondition) or is NULL.
 */
int husk_fn_apply_update(const struct husk_function *cur, struct json_object *req,
			 struct husk_function **out, const char **revision_id,
			 struct husk_err *err);

/* An UpdateFunctionCode request. */
struct husk_code_update {
	void *zip; /* decoded ZipFile, malloc'd */
	size_t zip_len;
	bool dry_run;
	const char *revision_id; /* points into the request, or NULL */
};

int husk_fn_parse_code_update(struct json_object *req, struct husk_code_update *up,
			      struct husk_err *err);

/* A deep copy of everything but code_dir, with refs 0; NULL when out of memory. */
struct husk_function *husk_fn_dup(const struct husk_function *fn);

/* The FunctionConfiguration of fn, with its Policy in full; NULL when out of memory. */
struct json_object *husk_fn_to_json(const struct husk_function *fn);

/*
 * The reverse, for documents read back from the store: a new function (refs
 * 0, no code_dir), or -EINVAL with the reason in err. A document without
 * Policy (stored by an older huskd) gets the default policy.
 */
int husk_fn_from_json(const char *json, struct husk_function **out, char *err, size_t errlen);

/* How deep JSON may nest (json-c's default, 32, is too shallow for events). */
#define HUSK_JSON_DEPTH 256

/*
 * Parse buf[0..len), which must be followed by a NUL, as exactly one JSON
 * value (*out is NULL for JSON null), or fail with 400
 * InvalidRequestContentException "Could not parse request body into json: REASON".
 */
int husk_json_parse(const char *buf, size_t len, struct json_object **out, struct husk_err *err);

/* Now, as Lambda's LastModified: 2024-01-02T03:04:05.678+0000. */
void husk_fn_timestamp(char out[40]);

#endif
