// SPDX-License-Identifier: GPL-2.0
/*
 * The control plane of the API: CreateFunction, GetFunction,
 * GetFunctionConfiguration, ListFunctions, DeleteFunction,
 * UpdateFunctionCode and UpdateFunctionConfiguration, as Lambda answers
 * them. Validation is fn_config.c's, storage and publication the registry's.
 */
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "codepkg.h"
#include "crypt.h"
#include "fn_config.h"
#include "log.h"
#include "registry.h"

#define LIST_MAX_ITEMS_DEFAULT 50
#define LIST_MAX_ITEMS_MAX 10000
/* An update retries this often when another update lands between its read and its write. */
#define UPDATE_ATTEMPTS 8

static enum MHD_Result answer_function(struct husk_api_call *call, unsigned status,
				       struct husk_function *fn)
{
	enum MHD_Result ret = husk_api_json(call, status, husk_fn_to_json(fn));

	husk_fn_put(fn);
	return ret;
}

static void server_error(struct husk_err *err, const char *what, int rc)
{
	husk_err_set(err, 500, HUSK_E_SERVICE, "%s: %s", what, strerror(-rc));
}

enum MHD_Result husk_api_create_function(struct husk_api_call *call)
{
	struct husk_function *fn = NULL, *out;
	struct json_object *req = NULL;
	struct husk_err err;
	void *zip = NULL;
	size_t len = 0;
	int rc;

	rc = husk_api_body_json(call, &req, &err);
	if (!rc)
		rc = husk_fn_from_create(&call->ctx->cfg, req, &fn, &zip, &len, &err);
	/* The request holds the base64 of the package: let it go before extracting. */
	json_object_put(req);
	if (!rc) {
		rc = husk_registry_create(call->ctx, fn, zip, len, &out, &err);
		if (rc)
			husk_fn_free(fn);
	}
	free(zip);
	if (rc)
		return husk_api_error(call, &err);
	pr_info("CreateFunction %s: revision %s, %llu bytes of code", out->name, out->revision_id,
		(unsigned long long)out->code_size);
	return answer_function(call, 201, out);
}

static int max_items(struct husk_api_call *call, size_t *out, struct husk_err *err)
{
	const char *s = MHD_lookup_connection_value(call->conn, MHD_GET_ARGUMENT_KIND, "MaxItems");
	char *end;
	long n;

	*out = LIST_MAX_ITEMS_DEFAULT;
	if (!s)
		return 0;
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || end == s || *end || n < 1 || n > LIST_MAX_ITEMS_MAX) {
		husk_err_set(err, 400, HUSK_E_INVALID_PARAM,
			     "MaxItems must be an integer between 1 and %d, got %.32s",
			     LIST_MAX_ITEMS_MAX, s);
		return -EINVAL;
	}
	*out = n;
	return 0;
}

/*
 * One page of functions in name order. The marker is the name of the last
 * function of the previous page, so pages stay right when functions come and
 * go between them.
 */
static struct json_object *list_page(struct husk_function **fns, size_t n, const char *marker,
				     size_t max)
{
	struct json_object *page = json_object_new_object(), *arr = json_object_new_array();
	size_t i = 0, taken = 0;
	int rc = page && arr ? 0 : -ENOMEM;

	while (marker && i < n && strcmp(fns[i]->name, marker) <= 0)
		i++;
	for (; !rc && i < n && taken < max; i++, taken++) {
		struct json_object *cfg = husk_fn_to_json(fns[i]);

		rc = cfg ? json_object_array_add(arr, cfg) : -ENOMEM;
		if (rc)
			json_object_put(cfg);
	}
	if (!rc) {
		rc = json_object_object_add(page, "Functions", arr);
		arr = NULL;
	}
	if (!rc && i < n)
		rc = json_object_object_add(page, "NextMarker",
					    json_object_new_string(fns[i - 1]->name));
	json_object_put(arr);
	if (rc) {
		json_object_put(page);
		return NULL;
	}
	return page;
}

enum MHD_Result husk_api_list_functions(struct husk_api_call *call)
{
	const char *marker =
	    MHD_lookup_connection_value(call->conn, MHD_GET_ARGUMENT_KIND, "Marker");
	struct husk_function **fns;
	struct json_object *page;
	struct husk_err err;
	size_t n, i, max;
	int rc;

	rc = max_items(call, &max, &err);
	if (rc)
		return husk_api_error(call, &err);
	rc = husk_registry_list(call->ctx, &fns, &n);
	if (rc) {
		server_error(&err, "cannot list the functions", rc);
		return husk_api_error(call, &err);
	}
	page = list_page(fns, n, marker && *marker ? marker : NULL, max);
	for (i = 0; i < n; i++)
		husk_fn_put(fns[i]);
	free(fns);
	return husk_api_json(call, 200, page);
}

/* Where GetFunction says the package can be downloaded: from huskd itself. */
static struct json_object *code_location(struct husk_api_call *call, const char *name)
{
	const char *host =
	    MHD_lookup_connection_value(call->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	struct json_object *code = json_object_new_object();
	char *url;

	if (!code)
		return NULL;
	if (asprintf(&url, "http://%s/2015-03-31/functions/%s/code-package",
		     host && *host ? host : "localhost", name) < 0) {
		json_object_put(code);
		return NULL;
	}
	if (json_object_object_add(code, "RepositoryType", json_object_new_string("S3")) ||
	    json_object_object_add(code, "Location", json_object_new_string(url))) {
		json_object_put(code);
		code = NULL;
	}
	free(url);
	return code;
}

enum MHD_Result husk_api_get_function(struct husk_api_call *call)
{
	struct json_object *obj, *cfg, *code;
	struct husk_function *fn;
	struct husk_err err;

	fn = husk_api_fn(call, &err);
	if (!fn)
		return husk_api_error(call, &err);
	cfg = husk_fn_to_json(fn);
	code = code_location(call, fn->name);
	husk_fn_put(fn);
	obj = json_object_new_object();
	if (!obj || !cfg || !code || json_object_object_add(obj, "Configuration", cfg))
		goto fail;
	cfg = NULL;
	if (json_object_object_add(obj, "Code", code))
		goto fail;
	return husk_api_json(call, 200, obj);
fail:
	json_object_put(obj);
	json_object_put(cfg);
	json_object_put(code);
	return husk_api_json(call, 200, NULL);
}

enum MHD_Result husk_api_get_code_package(struct husk_api_call *call)
{
	struct MHD_Response *resp;
	struct husk_function *fn;
	struct husk_err err;
	void *zip;
	size_t len;
	int rc;

	fn = husk_api_fn(call, &err);
	if (!fn)
		return husk_api_error(call, &err);
	rc = husk_registry_code(call->ctx, fn->name, &zip, &len);
	if (rc == -ENOENT)
		husk_fn_err_not_found(&call->ctx->cfg, fn->name, NULL, &err);
	else if (rc)
		server_error(&err, "cannot read the code package", rc);
	husk_fn_put(fn);
	if (rc)
		return husk_api_error(call, &err);
	resp = MHD_create_response_from_buffer(len, zip, MHD_RESPMEM_MUST_FREE);
	if (!resp)
		free(zip);
	return husk_api_queue(call, 200, resp, "application/zip", NULL);
}

enum MHD_Result husk_api_get_function_configuration(struct husk_api_call *call)
{
	struct husk_function *fn;
	struct husk_err err;

	fn = husk_api_fn(call, &err);
	if (!fn)
		return husk_api_error(call, &err);
	return answer_function(call, 200, fn);
}

enum MHD_Result husk_api_delete_function(struct husk_api_call *call)
{
	struct husk_fn_ref ref;
	struct husk_err err;

	if (husk_api_fn_ref(call, &ref, &err) || husk_registry_delete(call->ctx, ref.name, &err))
		return husk_api_error(call, &err);
	pr_info("DeleteFunction %s", ref.name);
	return husk_api_queue(
	    call, 204, MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT),
	    "application/json", NULL);
}

/* What an update changes: the configuration (req) or the code (zip). */
struct update_op {
	bool config;
	struct json_object *req; /* UpdateFunctionConfiguration's; NULL for JSON null */
	const void *zip;
	size_t zip_len;
	const char *revision_id; /* UpdateFunctionCode's precondition */
};

/* The new version made from cur, and the caller's RevisionId precondition. */
static int new_version(const struct update_op *op, const struct husk_function *cur,
		       struct husk_function **fn, const char **revision_id, struct husk_err *err)
{
	*revision_id = op->revision_id;
	if (op->config)
		return husk_fn_apply_update(cur, op->req, fn, revision_id, err);
	*fn = husk_fn_dup(cur);
	if (!*fn) {
		server_error(err, "cannot copy the function", -ENOMEM);
		return -ENOMEM;
	}
	return 0;
}

/*
 * Read the current version, derive the new one, and replace it only if it
 * is still the current one (its RevisionId as the precondition), so that two
 * concurrent updates never lose one another. When the caller gave no
 * RevisionId, a lost race is retried on the newer version.
 */
static int update_function(struct husk_api_call *call, const struct update_op *op,
			   struct husk_function **out, struct husk_err *err)
{
	struct husk_function *cur, *fn;
	const char *rev;
	int attempt, rc = -ESTALE;

	for (attempt = 0; rc == -ESTALE && attempt < UPDATE_ATTEMPTS; attempt++) {
		cur = husk_api_fn(call, err);
		if (!cur)
			return -ENOENT;
		rc = new_version(op, cur, &fn, &rev, err);
		if (!rc && rev && strcmp(rev, cur->revision_id)) {
			husk_fn_free(fn);
			rc = husk_fn_err_stale_revision(err);
		} else if (!rc) {
			rc = husk_registry_update(call->ctx, fn, op->zip, op->zip_len,
						  cur->revision_id, out, err);
			if (rc)
				husk_fn_free(fn);
		}
		husk_fn_put(cur);
		if (rev)
			break;
	}
	return rc;
}

enum MHD_Result husk_api_update_function_configuration(struct husk_api_call *call)
{
	struct update_op op = {.config = true};
	struct husk_function *out;
	struct husk_err err;
	int rc;

	rc = husk_api_body_json(call, &op.req, &err);
	if (!rc)
		rc = update_function(call, &op, &out, &err);
	json_object_put(op.req);
	if (rc)
		return husk_api_error(call, &err);
	pr_info("UpdateFunctionConfiguration %s: revision %s", out->name, out->revision_id);
	return answer_function(call, 200, out);
}

/* DryRun: the package is extracted to check it, then thrown away. */
static int check_package(struct husk_api_call *call, const struct husk_code_update *up,
			 struct husk_err *err)
{
	char dir[PATH_MAX], uuid[37], why[400];
	int rc;

	husk_uuid4(uuid);
	snprintf(dir, sizeof(dir), "%s/code/dryrun-%s", call->ctx->cfg.run_dir, uuid);
	rc = husk_code_extract(up->zip, up->zip_len, dir, why, sizeof(why));
	if (rc) {
		husk_err_set(err, 400, HUSK_E_INVALID_PARAM, "%s", why);
		return rc;
	}
	rc = husk_code_remove(dir);
	if (rc)
		pr_warn("cannot remove %s: %s", dir, strerror(-rc));
	return 0;
}

/* What UpdateFunctionCode would make of the current version, without making it. */
static int dry_run(struct husk_api_call *call, const struct husk_code_update *up,
		   struct husk_function **out, struct husk_err *err)
{
	struct husk_function *cur = husk_api_fn(call, err);
	int rc;

	if (!cur)
		return -ENOENT;
	rc = up->revision_id && strcmp(up->revision_id, cur->revision_id)
		 ? husk_fn_err_stale_revision(err)
		 : check_package(call, up, err);
	if (!rc) {
		*out = husk_fn_dup(cur);
		if (!*out) {
			server_error(err, "cannot copy the function", -ENOMEM);
			rc = -ENOMEM;
		}
	}
	husk_fn_put(cur);
	if (rc)
		return rc;
	husk_sha256_b64(up->zip, up->zip_len, (*out)->code_sha256);
	(*out)->code_size = up->zip_len;
	husk_fn_get(*out);
	return 0;
}

enum MHD_Result husk_api_update_function_code(struct husk_api_call *call)
{
	struct husk_code_update up = {0};
	struct json_object *req = NULL;
	struct husk_function *out;
	char rev[64] = "";
	struct husk_err err;
	struct update_op op;
	int rc;

	rc = husk_api_body_json(call, &req, &err);
	if (!rc)
		rc = husk_fn_parse_code_update(req, &up, &err);
	/* Keep the RevisionId, let the base64 of the package go before extracting. */
	if (!rc && up.revision_id)
		snprintf(rev, sizeof(rev), "%s", up.revision_id);
	json_object_put(req);
	up.revision_id = *rev ? rev : NULL;
	op =
	    (struct update_op){.zip = up.zip, .zip_len = up.zip_len, .revision_id = up.revision_id};
	if (!rc)
		rc = up.dry_run ? dry_run(call, &up, &out, &err)
				: update_function(call, &op, &out, &err);
	free(up.zip);
	if (rc)
		return husk_api_error(call, &err);
	if (!up.dry_run)
		pr_info("UpdateFunctionCode %s: revision %s, %llu bytes of code", out->name,
			out->revision_id, (unsigned long long)out->code_size);
	return answer_function(call, 200, out);
}
