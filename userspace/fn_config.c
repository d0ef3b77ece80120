// SPDX-License-Identifier: GPL-2.0
/*
 * FunctionConfiguration: validation of what API callers send, and the JSON
 * huskd answers and stores. Field names, defaults and limits are Lambda's.
 */
#include <errno.h>
#include <stdarg.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codepkg.h"
#include "crypt.h"
#include "err.h"
#include "json_util.h"
#include "fn_config.h"
#include "policy.h"

#define HUSK_DESCRIPTION_MAX 256
#define HUSK_HANDLER_MAX 128
#define HUSK_ROLE_MAX 2048
#define HUSK_REF_MAX 256 /* longest FunctionName reference we parse */
#define HUSK_TIMEOUT_DEFAULT 3

static const char *const supported_runtimes[] = {"provided.al2023", "provided"};

/* Set by Lambda itself in every execution environment. */
static const char *const reserved_env_keys[] = {
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "_HANDLER",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
    "_X_AMZN_TRACE_ID",
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static int no_memory(struct husk_err *err)
{
	husk_err_set(err, 500, HUSK_E_SERVICE, "out of memory while reading the request");
	return -ENOMEM;
}

/* *out stays as it is when the member is absent and not required. */
static int get_string(struct json_object *obj, const char *key, bool required, const char **out,
		      struct husk_err *err)
{
	struct json_object *v = husk_json_member(obj, key);

	if (!v) {
		if (required)
			return husk_err_invalid(err, "%s is required", key);
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return husk_err_invalid(err, "%s must be a string, got %s", key, husk_json_type(v));
	*out = json_object_get_string(v);
	return 0;
}

static int get_bool(struct json_object *obj, const char *key, bool *out, struct husk_err *err)
{
	struct json_object *v = husk_json_member(obj, key);

	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return husk_err_invalid(err, "%s must be a boolean, got %s", key, husk_json_type(v));
	*out = json_object_get_boolean(v);
	return 0;
}

struct uint_field {
	const char *name; /* as it appears in messages */
	unsigned min, max;
	const char *unit;
};

static const struct uint_field timeout_field = {"Timeout", HUSK_TIMEOUT_MIN, HUSK_TIMEOUT_MAX,
						"seconds"};
static const struct uint_field memory_field = {"MemorySize", HUSK_MEMORY_MIN, HUSK_MEMORY_MAX,
					       "MB"};
static const struct uint_field ephemeral_field = {"EphemeralStorage.Size", HUSK_EPHEMERAL_MIN,
						  HUSK_EPHEMERAL_MAX, "MB"};

static int check_uint(struct json_object *v, const struct uint_field *f, unsigned *out,
		      struct husk_err *err)
{
	int64_t n;

	if (!json_object_is_type(v, json_type_int))
		return husk_err_invalid(err, "%s must be an integer, got %s", f->name, husk_json_type(v));
	n = json_object_get_int64(v);
	if (n < f->min || n > f->max) {
		husk_err_set(err, 400, HUSK_E_INVALID_PARAM,
			     "%s must be between %u and %u %s, got %lld", f->name, f->min, f->max,
			     f->unit, (long long)n);
		return -EINVAL;
	}
	*out = n;
	return 0;
}

static int get_uint(struct json_object *obj, const char *key, const struct uint_field *f,
		    unsigned *out, struct husk_err *err)
{
	struct json_object *v = husk_json_member(obj, key);

	return v ? check_uint(v, f, out, err) : 0;
}

static int get_ephemeral(struct json_object *obj, unsigned *out, struct husk_err *err)
{
	struct json_object *v = husk_json_member(obj, "EphemeralStorage"), *size;

	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_object))
		return husk_err_invalid(err, "%s must be an object, got %s", "EphemeralStorage", husk_json_type(v));
	size = husk_json_member(v, "Size");
	if (!size)
		return husk_err_invalid(err, "%s is required", "EphemeralStorage.Size");
	return check_uint(size, &ephemeral_field, out, err);
}

/* Replace *dst with a copy of src. */
static int set_str(char **dst, const char *src, struct husk_err *err)
{
	char *s = strdup(src);

	if (!s)
		return no_memory(err);
	free(*dst);
	*dst = s;
	return 0;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

static bool valid_word(const char *s, size_t max)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!name_char(s[n]))
			return false;
	return n >= 1 && n <= max;
}

static bool valid_qualifier(const char *q)
{
	return !strcmp(q, "$LATEST") || valid_word(q, HUSK_QUALIFIER_MAX);
}

int husk_fn_arn(const struct husk_config *cfg, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "arn:aws:lambda:%s:%s:function:%s", cfg->region, cfg->account_id,
			 name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

void husk_fn_err_not_found(const struct husk_config *cfg, const char *name, const char *qualifier,
			   struct husk_err *err)
{
	char arn[HUSK_ARN_MAX];

	husk_fn_arn(cfg, name, arn, sizeof(arn));
	husk_err_set(err, 404, HUSK_E_NOT_FOUND, "Function not found: %s%s%s", arn,
		     qualifier && *qualifier ? ":" : "", qualifier ? qualifier : "");
}

int husk_fn_err_stale_revision(struct husk_err *err)
{
	husk_err_set(err, 412, HUSK_E_PRECONDITION,
		     "The Revision Id provided does not match the latest Revision Id. Call the "
		     "GetFunction API to retrieve the latest Revision Id");
	return -ESTALE;
}

static int bad_ref(const char *in, struct husk_err *err)
{
	return husk_err_invalid(err,
		       "FunctionName %.128s is invalid: expected NAME, ACCOUNT:function:NAME or "
		       "arn:aws:lambda:REGION:ACCOUNT:function:NAME, optionally with :QUALIFIER",
		       in);
}

/*
 * The forms, by number of ':'-separated parts: 1 NAME, 2 NAME:Q,
 * 3 ACCOUNT:function:NAME, 4 with :Q, 7 the full ARN, 8 with :Q.
 */
static int split_ref(const struct husk_config *cfg, const char *in, char **part, int n,
		     struct husk_err *err)
{
	const char *region = NULL, *account = NULL;

	if (n == 3 || n == 4) {
		if (strcmp(part[1], "function"))
			return bad_ref(in, err);
		account = part[0];
	} else if (n == 7 || n == 8) {
		if (strcmp(part[0], "arn") || strncmp(part[1], "aws", 3) ||
		    strcmp(part[2], "lambda") || strcmp(part[5], "function"))
			return bad_ref(in, err);
		region = part[3];
		account = part[4];
	} else if (n != 1 && n != 2) {
		return bad_ref(in, err);
	}
	if (region && strcmp(region, cfg->region))
		return husk_err_invalid(err, "FunctionName %.128s names region %s, not this host's", in,
			       region);
	if (account && strcmp(account, cfg->account_id))
		return husk_err_invalid(err, "FunctionName %.128s names account %s, not this host's", in,
			       account);
	return 0;
}

int husk_fn_parse_ref(const struct husk_config *cfg, const char *in, struct husk_fn_ref *ref,
		      struct husk_err *err)
{
	char buf[HUSK_REF_MAX + 1], *part[9], *p = buf;
	const char *name, *qualifier;
	bool has_qualifier;
	int n = 0, rc;

	if (strlen(in) > HUSK_REF_MAX)
		return husk_err_invalid(err, "FunctionName must be at most 256 characters, got %.64s...",
			       in);
	strcpy(buf, in);
	while (n < 9) {
		part[n++] = p;
		p = strchr(p, ':');
		if (!p)
			break;
		*p++ = '\0';
	}
	if (p)
		return bad_ref(in, err);
	rc = split_ref(cfg, in, part, n, err);
	if (rc)
		return rc;
	/* The name is the last part, or the one before the qualifier. */
	has_qualifier = n == 2 || n == 4 || n == 8;
	name = part[has_qualifier ? n - 2 : n - 1];
	qualifier = has_qualifier ? part[n - 1] : "";
	if (!valid_word(name, HUSK_NAME_MAX)) {
		husk_err_set(err, 400, HUSK_E_INVALID_PARAM,
			     "FunctionName %.80s is invalid: a name is 1 to %d letters, digits, "
			     "'-' or '_' (got %zu characters)",
			     name, HUSK_NAME_MAX, strlen(name));
		return -EINVAL;
	}
	if (has_qualifier && !valid_qualifier(qualifier))
		return husk_err_invalid(err, "FunctionName %.128s has an invalid qualifier %.130s", in,
			       qualifier);
	strcpy(ref->name, name);
	strcpy(ref->qualifier, qualifier);
	return 0;
}

int husk_fn_check_qualifier(const struct husk_config *cfg, const struct husk_fn_ref *ref,
			    const char *query_qualifier, struct husk_err *err)
{
	const char *q = ref->qualifier;

	if (query_qualifier && *query_qualifier) {
		if (!valid_qualifier(query_qualifier))
			return husk_err_invalid(err,
				       "Qualifier %.130s is invalid: it must be $LATEST or "
				       "1 to 128 letters, digits, '-' or '_'",
				       query_qualifier);
		if (*q && strcmp(q, query_qualifier))
			return husk_err_invalid(err,
				       "The derived qualifier from the function name (%s) does "
				       "not match the specified qualifier (%.130s)",
				       q, query_qualifier);
		q = query_qualifier;
	}
	/* husk keeps no published versions or aliases: only $LATEST exists. */
	if (*q && strcmp(q, "$LATEST")) {
		husk_fn_err_not_found(cfg, ref->name, q, err);
		return -ENOENT;
	}
	return 0;
}

static bool valid_env_key(const char *k)
{
	size_t i;

	if (!((k[0] >= 'a' && k[0] <= 'z') || (k[0] >= 'A' && k[0] <= 'Z')) || !k[1])
		return false;
	for (i = 1; k[i]; i++)
		if (!name_char(k[i]) || k[i] == '-')
			return false;
	return true;
}

static bool reserved_env_key(const char *k)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(reserved_env_keys); i++)
		if (!strcmp(k, reserved_env_keys[i]))
			return true;
	return false;
}

static void free_env(struct husk_env_var *env, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(env[i].key);
		free(env[i].value);
	}
	free(env);
}

static int check_env_var(const char *key, struct json_object *val, size_t *total,
			 struct husk_err *err)
{
	if (!valid_env_key(key))
		return husk_err_invalid(err,
			       "Environment variable name %.64s is invalid: it must match "
			       "[a-zA-Z][a-zA-Z0-9_]+",
			       key);
	if (reserved_env_key(key))
		return husk_err_invalid(err,
			       "Environment variable %s is reserved by Lambda and cannot be "
			       "set",
			       key);
	if (!json_object_is_type(val, json_type_string))
		return husk_err_invalid(err, "Environment variable %.64s must have a string value, got %s",
			       key, husk_json_type(val));
	if (strlen(json_object_get_string(val)) != (size_t)json_object_get_string_len(val))
		return husk_err_invalid(err, "Environment variable %.64s must not contain a NUL character",
			       key);
	*total += strlen(key) + json_object_get_string_len(val);
	if (*total > HUSK_ENV_VARS_MAX_BYTES) {
		husk_err_set(err, 400, HUSK_E_INVALID_PARAM,
			     "Environment variables exceed the %d bytes Lambda allows (keys plus "
			     "values)",
			     HUSK_ENV_VARS_MAX_BYTES);
		return -EINVAL;
	}
	return 0;
}

/* Environment {"Variables": {...}}: a whole new set of variables. */
static int parse_env(struct json_object *envobj, struct husk_env_var **out, size_t *out_n,
		     struct husk_err *err)
{
	struct json_object *vars;
	struct husk_env_var *env;
	size_t n = 0, total = 0;
	int rc;

	if (!json_object_is_type(envobj, json_type_object))
		return husk_err_invalid(err, "%s must be an object, got %s", "Environment", husk_json_type(envobj));
	vars = husk_json_member(envobj, "Variables");
	if (vars && !json_object_is_type(vars, json_type_object))
		return husk_err_invalid(err, "%s must be an object, got %s", "Environment.Variables",
			       husk_json_type(vars));
	env = calloc(vars ? json_object_object_length(vars) + 1 : 1, sizeof(*env));
	if (!env)
		return no_memory(err);
	if (vars) {
		json_object_object_foreach(vars, key, val)
		{
			rc = check_env_var(key, val, &total, err);
			if (rc)
				goto fail;
			env[n].key = strdup(key);
			env[n].value = strdup(json_object_get_string(val));
			n++;
			if (!env[n - 1].key || !env[n - 1].value) {
				rc = no_memory(err);
				goto fail;
			}
		}
	}
	*out = env;
	*out_n = n;
	return 0;
fail:
	free_env(env, n);
	return rc;
}

static int replace_env(struct husk_function *fn, struct json_object *envobj, struct husk_err *err)
{
	struct husk_env_var *env;
	size_t n;
	int rc = parse_env(envobj, &env, &n, err);

	if (rc)
		return rc;
	free_env(fn->env, fn->n_env);
	fn->env = env;
	fn->n_env = n;
	return 0;
}

/* Policy: a whole new policy when the member is there (null counts as absent). */
static int replace_policy(struct husk_function *fn, struct json_object *req, struct husk_err *err)
{
	struct json_object *v = husk_json_member(req, "Policy");
	struct husk_policy *p;
	int rc;

	if (!v)
		return 0;
	rc = husk_policy_parse(v, &p, err);
	if (rc)
		return rc;
	husk_policy_free(fn->policy);
	fn->policy = p;
	return 0;
}

static int check_runtime(const char *runtime, struct husk_err *err)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(supported_runtimes); i++)
		if (!strcmp(runtime, supported_runtimes[i]))
			return 0;
	return husk_err_invalid(err,
		       "The runtime parameter of %.64s is not supported by husk; use %s or "
		       "provided",
		       runtime, supported_runtimes[0]);
}

static int check_length(const char *key, const char *s, size_t max, struct husk_err *err)
{
	if (strlen(s) <= max)
		return 0;
	husk_err_set(err, 400, HUSK_E_INVALID_PARAM, "%s must be at most %zu characters, got %zu",
		     key, max, strlen(s));
	return -EINVAL;
}

/* Runtime, Role, Handler and Description, as both create and update take them. */
static int apply_strings(struct husk_function *fn, struct json_object *req, bool create,
			 struct husk_err *err)
{
	const char *runtime = NULL, *role = NULL, *handler = NULL, *desc = NULL;
	int rc;

	rc = get_string(req, "Runtime", false, &runtime, err);
	if (!rc && create && !runtime)
		rc = husk_err_invalid(err, "Runtime is required for a Zip package: use %s or %s",
			     supported_runtimes[0], supported_runtimes[1]);
	if (!rc && runtime)
		rc = check_runtime(runtime, err);
	if (!rc)
		rc = get_string(req, "Role", create, &role, err);
	if (!rc && role && (!*role || strlen(role) > HUSK_ROLE_MAX))
		rc = husk_err_invalid(err, "Role must be 1 to 2048 characters");
	if (!rc)
		rc = get_string(req, "Handler", false, &handler, err);
	if (!rc && handler)
		rc = check_length("Handler", handler, HUSK_HANDLER_MAX, err);
	if (!rc)
		rc = get_string(req, "Description", false, &desc, err);
	if (!rc && desc)
		rc = check_length("Description", desc, HUSK_DESCRIPTION_MAX, err);
	if (!rc && runtime)
		rc = set_str(&fn->runtime, runtime, err);
	if (!rc && role)
		rc = set_str(&fn->role, role, err);
	if (!rc && handler)
		rc = set_str(&fn->handler, handler, err);
	if (!rc && desc)
		rc = set_str(&fn->description, desc, err);
	return rc;
}

/* Timeout, MemorySize, EphemeralStorage and Environment. */
static int apply_limits(struct husk_function *fn, struct json_object *req, struct husk_err *err)
{
	struct json_object *env = husk_json_member(req, "Environment");
	int rc;

	rc = get_uint(req, "Timeout", &timeout_field, &fn->timeout_s, err);
	if (!rc)
		rc = get_uint(req, "MemorySize", &memory_field, &fn->memory_mb, err);
	if (!rc)
		rc = get_ephemeral(req, &fn->ephemeral_mb, err);
	if (!rc && env)
		rc = replace_env(fn, env, err);
	return rc;
}

/* Only $LATEST exists, so nothing can be published as a version. */
static int check_publish(struct json_object *req, struct husk_err *err)
{
	bool publish = false;
	int rc = get_bool(req, "Publish", &publish, err);

	if (!rc && publish)
		rc = husk_err_invalid(err, "Publish is not supported: only $LATEST exists");
	return rc;
}

static int check_architectures(struct json_object *req, struct husk_err *err)
{
	struct json_object *v = husk_json_member(req, "Architectures"), *a;

	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_array))
		return husk_err_invalid(err, "%s must be an array, got %s", "Architectures", husk_json_type(v));
	if (json_object_array_length(v) != 1)
		return husk_err_invalid(err, "Architectures must hold exactly one architecture: x86_64");
	a = json_object_array_get_idx(v, 0);
	if (!json_object_is_type(a, json_type_string) ||
	    strcmp(json_object_get_string(a), "x86_64"))
		return husk_err_invalid(err, "Architectures: only x86_64 is supported, got %.32s",
			       a ? json_object_get_string(a) : "null");
	return 0;
}

static int check_package_type(struct json_object *req, struct husk_err *err)
{
	const char *type = "Zip";
	int rc = get_string(req, "PackageType", false, &type, err);

	if (!rc && strcmp(type, "Zip"))
		rc = husk_err_invalid(err, "PackageType %.32s is not supported by husk; only Zip is", type);
	return rc;
}

/* Decode a ZipFile member (base64, as the API carries blobs). */
static int decode_zip(const char *field, const char *b64, void **zip, size_t *len,
		      struct husk_err *err)
{
	int rc = husk_b64_decode(b64, strlen(b64), zip, len);

	if (rc == -ENOMEM)
		return no_memory(err);
	if (rc)
		return husk_err_invalid(err, "Could not decode %s: it is not valid base64", field);
	if (!*len)
		rc = husk_err_invalid(err, "%s is empty: it must be a zip archive", field);
	else if (*len > HUSK_CODE_ZIP_MAX) {
		husk_err_set(err, 413, HUSK_E_ENTITY_TOO_LARGE,
			     "%s is %zu bytes, more than the %llu bytes of a direct upload", field,
			     *len, HUSK_CODE_ZIP_MAX);
		rc = -EFBIG;
	}
	if (rc) {
		free(*zip);
		*zip = NULL;
	}
	return rc;
}

static const char *const other_code_sources[] = {"S3Bucket", "S3Key", "S3ObjectVersion",
						 "ImageUri"};

static int only_zipfile(struct json_object *obj, const char *what, struct husk_err *err)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(other_code_sources); i++)
		if (husk_json_member(obj, other_code_sources[i]))
			return husk_err_invalid(err, "%s: only ZipFile is supported by husk, not %s", what,
				       other_code_sources[i]);
	return 0;
}

static int parse_code(struct json_object *req, void **zip, size_t *len, struct husk_err *err)
{
	struct json_object *code = husk_json_member(req, "Code");
	const char *b64 = NULL;
	int rc;

	if (!code)
		return husk_err_invalid(err, "Code is required: give the package as Code.ZipFile");
	if (!json_object_is_type(code, json_type_object))
		return husk_err_invalid(err, "%s must be an object, got %s", "Code", husk_json_type(code));
	rc = only_zipfile(code, "Code", err);
	if (!rc)
		rc = get_string(code, "ZipFile", false, &b64, err);
	if (!rc && !b64)
		rc = husk_err_invalid(err, "Code.ZipFile is required");
	if (!rc)
		rc = decode_zip("Code.ZipFile", b64, zip, len, err);
	return rc;
}

static struct husk_function *fn_alloc(void)
{
	struct husk_function *fn = calloc(1, sizeof(*fn));

	if (!fn)
		return NULL;
	atomic_init(&fn->refs, 0);
	fn->memory_mb = HUSK_MEMORY_MIN;
	fn->timeout_s = HUSK_TIMEOUT_DEFAULT;
	fn->ephemeral_mb = HUSK_EPHEMERAL_MIN;
	fn->handler = strdup("");
	fn->description = strdup("");
	fn->env = calloc(1, sizeof(*fn->env));
	fn->policy = husk_policy_default();
	if (!fn->handler || !fn->description || !fn->env || !fn->policy) {
		husk_fn_free(fn);
		return NULL;
	}
	return fn;
}

static int not_an_object(struct json_object *req, struct husk_err *err)
{
	husk_err_set(err, 400, HUSK_E_INVALID_CONTENT,
		     "The request body must be a JSON object, got %s", husk_json_type(req));
	return -EINVAL;
}

static int create_fields(const struct husk_config *cfg, struct json_object *req,
			 struct husk_function *fn, struct husk_err *err)
{
	struct husk_fn_ref ref;
	const char *name;
	char arn[HUSK_ARN_MAX];
	int rc;

	rc = get_string(req, "FunctionName", true, &name, err);
	if (!rc)
		rc = husk_fn_parse_ref(cfg, name, &ref, err);
	if (!rc && *ref.qualifier)
		rc = husk_err_invalid(err, "FunctionName %.128s must not have a qualifier", name);
	if (!rc && husk_fn_arn(cfg, ref.name, arn, sizeof(arn)))
		rc = husk_err_invalid(err, "FunctionName %s makes an ARN that is too long", ref.name);
	if (!rc)
		rc = set_str(&fn->name, ref.name, err);
	if (!rc)
		rc = set_str(&fn->arn, arn, err);
	if (!rc)
		rc = check_package_type(req, err);
	if (!rc)
		rc = apply_strings(fn, req, true, err);
	if (!rc)
		rc = apply_limits(fn, req, err);
	if (!rc)
		rc = replace_policy(fn, req, err);
	if (!rc)
		rc = check_architectures(req, err);
	if (!rc)
		rc = check_publish(req, err);
	return rc;
}

int husk_fn_from_create(const struct husk_config *cfg, struct json_object *req,
			struct husk_function **out, void **zip, size_t *zip_len,
			struct husk_err *err)
{
	struct husk_function *fn;
	int rc;

	if (!json_object_is_type(req, json_type_object))
		return not_an_object(req, err);
	fn = fn_alloc();
	if (!fn)
		return no_memory(err);
	rc = create_fields(cfg, req, fn, err);
	/* Decoded last: it is the costly part. */
	if (!rc)
		rc = parse_code(req, zip, zip_len, err);
	if (rc) {
		husk_fn_free(fn);
		return rc;
	}
	*out = fn;
	return 0;
}

int husk_fn_apply_update(const struct husk_function *cur, struct json_object *req,
			 struct husk_function **out, const char **revision_id, struct husk_err *err)
{
	struct husk_function *fn;
	const char *rev = NULL;
	int rc;

	if (!json_object_is_type(req, json_type_object))
		return not_an_object(req, err);
	fn = husk_fn_dup(cur);
	if (!fn)
		return no_memory(err);
	rc = apply_strings(fn, req, false, err);
	if (!rc)
		rc = apply_limits(fn, req, err);
	if (!rc)
		rc = replace_policy(fn, req, err);
	if (!rc)
		rc = get_string(req, "RevisionId", false, &rev, err);
	if (rc) {
		husk_fn_free(fn);
		return rc;
	}
	*out = fn;
	*revision_id = rev;
	return 0;
}

int husk_fn_parse_code_update(struct json_object *req, struct husk_code_update *up,
			      struct husk_err *err)
{
	const char *b64 = NULL;
	int rc;

	memset(up, 0, sizeof(*up));
	if (!json_object_is_type(req, json_type_object))
		return not_an_object(req, err);
	rc = only_zipfile(req, "UpdateFunctionCode", err);
	if (!rc)
		rc = get_string(req, "ZipFile", false, &b64, err);
	if (!rc && !b64)
		rc = husk_err_invalid(err, "ZipFile is required: husk takes code only as a zip upload");
	if (!rc)
		rc = get_string(req, "RevisionId", false, &up->revision_id, err);
	if (!rc)
		rc = get_bool(req, "DryRun", &up->dry_run, err);
	if (!rc)
		rc = check_publish(req, err);
	if (!rc)
		rc = check_architectures(req, err);
	if (!rc)
		rc = decode_zip("ZipFile", b64, &up->zip, &up->zip_len, err);
	return rc;
}

static char *dup_or_null(const char *s, bool *failed)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*failed = true;
	return d;
}

struct husk_function *husk_fn_dup(const struct husk_function *src)
{
	struct husk_function *fn = calloc(1, sizeof(*fn));
	bool failed = false;
	size_t i;

	if (!fn)
		return NULL;
	*fn = (struct husk_function){
	    .memory_mb = src->memory_mb,
	    .timeout_s = src->timeout_s,
	    .ephemeral_mb = src->ephemeral_mb,
	    .code_size = src->code_size,
	};
	atomic_init(&fn->refs, 0);
	memcpy(fn->code_sha256, src->code_sha256, sizeof(fn->code_sha256));
	memcpy(fn->revision_id, src->revision_id, sizeof(fn->revision_id));
	memcpy(fn->last_modified, src->last_modified, sizeof(fn->last_modified));
	fn->name = dup_or_null(src->name, &failed);
	fn->arn = dup_or_null(src->arn, &failed);
	fn->runtime = dup_or_null(src->runtime, &failed);
	fn->handler = dup_or_null(src->handler, &failed);
	fn->role = dup_or_null(src->role, &failed);
	fn->description = dup_or_null(src->description, &failed);
	fn->env = calloc(src->n_env + 1, sizeof(*fn->env));
	if (!fn->env)
		failed = true;
	for (i = 0; fn->env && i < src->n_env; i++, fn->n_env++) {
		fn->env[i].key = dup_or_null(src->env[i].key, &failed);
		fn->env[i].value = dup_or_null(src->env[i].value, &failed);
	}
	fn->policy = src->policy ? husk_policy_dup(src->policy) : husk_policy_default();
	if (!fn->policy)
		failed = true;
	if (failed) {
		husk_fn_free(fn);
		return NULL;
	}
	return fn;
}

/* json-c reports allocation failures by return values; collect them. */
static int add(struct json_object *o, const char *key, struct json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_object_add(o, key, v)) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static int add_str(struct json_object *o, const char *key, const char *s)
{
	return add(o, key, json_object_new_string(s ? s : ""));
}

static struct json_object *env_json(const struct husk_function *fn)
{
	struct json_object *vars = json_object_new_object(), *env = json_object_new_object();
	int rc = vars && env ? 0 : -ENOMEM;
	size_t i;

	for (i = 0; !rc && i < fn->n_env; i++)
		rc = add_str(vars, fn->env[i].key, fn->env[i].value);
	if (!rc) {
		rc = add(env, "Variables", vars);
		vars = NULL;
	}
	json_object_put(vars);
	if (rc) {
		json_object_put(env);
		return NULL;
	}
	return env;
}

static struct json_object *one_member(const char *key, struct json_object *v)
{
	struct json_object *o = json_object_new_object();

	if (o && add(o, key, v)) {
		json_object_put(o);
		return NULL;
	}
	if (!o)
		json_object_put(v);
	return o;
}

static struct json_object *architectures_json(void)
{
	struct json_object *a = json_object_new_array(), *s = json_object_new_string("x86_64");

	if (!a || !s || json_object_array_add(a, s)) {
		json_object_put(a);
		json_object_put(s);
		return NULL;
	}
	return a;
}

/* The policy in full; a function built without one has the default. */
static struct json_object *policy_json(const struct husk_function *fn)
{
	struct husk_policy *def;
	struct json_object *o;

	if (fn->policy)
		return husk_policy_to_json(fn->policy);
	def = husk_policy_default();
	o = def ? husk_policy_to_json(def) : NULL;
	husk_policy_free(def);
	return o;
}

struct json_object *husk_fn_to_json(const struct husk_function *fn)
{
	struct json_object *o = json_object_new_object();
	int rc;

	if (!o)
		return NULL;
	rc = add_str(o, "FunctionName", fn->name);
	rc |= add_str(o, "FunctionArn", fn->arn);
	rc |= add_str(o, "Runtime", fn->runtime);
	rc |= add_str(o, "Role", fn->role);
	rc |= add_str(o, "Handler", fn->handler);
	rc |= add(o, "CodeSize", json_object_new_int64(fn->code_size));
	rc |= add_str(o, "Description", fn->description);
	rc |= add(o, "Timeout", json_object_new_int64(fn->timeout_s));
	rc |= add(o, "MemorySize", json_object_new_int64(fn->memory_mb));
	rc |= add_str(o, "LastModified", fn->last_modified);
	rc |= add_str(o, "CodeSha256", fn->code_sha256);
	rc |= add_str(o, "Version", "$LATEST");
	if (fn->n_env)
		rc |= add(o, "Environment", env_json(fn));
	rc |= add(o, "TracingConfig", one_member("Mode", json_object_new_string("PassThrough")));
	rc |= add_str(o, "RevisionId", fn->revision_id);
	rc |= add_str(o, "State", "Active");
	rc |= add_str(o, "LastUpdateStatus", "Successful");
	rc |= add_str(o, "PackageType", "Zip");
	rc |= add(o, "Architectures", architectures_json());
	rc |=
	    add(o, "EphemeralStorage", one_member("Size", json_object_new_int64(fn->ephemeral_mb)));
	rc |= add(o, "Policy", policy_json(fn));
	if (rc) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int copy_fixed(struct json_object *doc, const char *key, char *dst, size_t size,
		      struct husk_err *err)
{
	const char *s;
	int rc = get_string(doc, key, true, &s, err);

	if (rc)
		return rc;
	if (strlen(s) >= size)
		return husk_err_invalid(err, "%s is too long: %.64s", key, s);
	strcpy(dst, s);
	return 0;
}

/* The revision id names a directory below run_dir: only a UUID's characters. */
static int check_revision_id(const char *rev, struct husk_err *err)
{
	size_t n = strspn(rev, "0123456789abcdef-");

	if (n != 36 || rev[n])
		return husk_err_invalid(err, "RevisionId %.40s is not a UUID", rev);
	return 0;
}

static int doc_strings(struct json_object *doc, struct husk_function *fn, struct husk_err *err)
{
	static const char *const keys[] = {"FunctionName", "FunctionArn", "Runtime",
					   "Role",	   "Handler",	  "Description"};
	char **dst[] = {&fn->name, &fn->arn,	 &fn->runtime,
			&fn->role, &fn->handler, &fn->description};
	const char *s;
	size_t i;
	int rc = 0;

	for (i = 0; !rc && i < ARRAY_SIZE(keys); i++) {
		rc = get_string(doc, keys[i], true, &s, err);
		if (!rc)
			rc = set_str(dst[i], s, err);
	}
	if (!rc && !valid_word(fn->name, HUSK_NAME_MAX))
		rc = husk_err_invalid(err, "FunctionName %.80s is invalid", fn->name);
	return rc;
}

static int doc_fields(struct json_object *doc, struct husk_function *fn, struct husk_err *err)
{
	struct json_object *size = husk_json_member(doc, "CodeSize"), *env = husk_json_member(doc, "Environment");
	int rc;

	rc = doc_strings(doc, fn, err);
	if (!rc)
		rc = copy_fixed(doc, "CodeSha256", fn->code_sha256, sizeof(fn->code_sha256), err);
	if (!rc)
		rc = copy_fixed(doc, "RevisionId", fn->revision_id, sizeof(fn->revision_id), err);
	if (!rc)
		rc = check_revision_id(fn->revision_id, err);
	if (!rc)
		rc = copy_fixed(doc, "LastModified", fn->last_modified, sizeof(fn->last_modified),
				err);
	if (!rc &&
	    (!size || !json_object_is_type(size, json_type_int) || json_object_get_int64(size) < 0))
		rc = husk_err_invalid(err, "CodeSize must be a non-negative integer");
	if (!rc)
		fn->code_size = json_object_get_int64(size);
	if (!rc && !husk_json_member(doc, "Timeout"))
		rc = husk_err_invalid(err, "%s is required", "Timeout");
	if (!rc && !husk_json_member(doc, "MemorySize"))
		rc = husk_err_invalid(err, "%s is required", "MemorySize");
	if (!rc)
		rc = get_uint(doc, "Timeout", &timeout_field, &fn->timeout_s, err);
	if (!rc)
		rc = get_uint(doc, "MemorySize", &memory_field, &fn->memory_mb, err);
	if (!rc)
		rc = get_ephemeral(doc, &fn->ephemeral_mb, err);
	if (!rc && env)
		rc = replace_env(fn, env, err);
	/* Documents stored before policies existed have none: they get the default. */
	if (!rc)
		rc = replace_policy(fn, doc, err);
	return rc;
}

int husk_json_parse(const char *buf, size_t len, struct json_object **out, struct husk_err *err)
{
	enum json_tokener_error jerr;
	struct json_tokener *tok;
	struct json_object *obj;

	/* json-c takes an int length. */
	if (len >= INT32_MAX) {
		husk_err_set(err, 413, HUSK_E_ENTITY_TOO_LARGE, "JSON of %zu bytes is too large",
			     len);
		return -EFBIG;
	}
	tok = json_tokener_new_ex(HUSK_JSON_DEPTH);
	if (!tok) {
		husk_err_set(err, 500, HUSK_E_SERVICE, "out of memory while parsing JSON");
		return -ENOMEM;
	}
	/* Strict: what Lambda takes is RFC 8259 JSON, nothing after it. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	/* Including the NUL tells the tokener that the input ends there. */
	obj = json_tokener_parse_ex(tok, buf, len + 1);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_success && json_tokener_get_parse_end(tok) != len)
		jerr = json_tokener_error_parse_unexpected;
	json_tokener_free(tok);
	if (jerr != json_tokener_success) {
		json_object_put(obj);
		husk_err_set(err, 400, HUSK_E_INVALID_CONTENT,
			     "Could not parse request body into json: %s",
			     json_tokener_error_desc(jerr));
		return -EINVAL;
	}
	*out = obj; /* NULL for a JSON null */
	return 0;
}

int husk_fn_from_json(const char *json, struct husk_function **out, char *errbuf, size_t errlen)
{
	struct husk_function *fn = NULL;
	struct husk_err err = {0};
	struct json_object *doc;
	int rc;

	rc = husk_json_parse(json, strlen(json), &doc, &err);
	if (rc) {
		snprintf(errbuf, errlen, "%s", err.msg);
		return rc;
	}
	if (!json_object_is_type(doc, json_type_object))
		rc = not_an_object(doc, &err);
	else if (!(fn = fn_alloc()))
		rc = no_memory(&err);
	else
		rc = doc_fields(doc, fn, &err);
	json_object_put(doc);
	if (rc) {
		snprintf(errbuf, errlen, "%s", err.msg);
		husk_fn_free(fn);
		return rc;
	}
	*out = fn;
	return 0;
}

void husk_fn_timestamp(char out[40])
{
	struct timespec ts;
	char date[32];
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 40, "%.19s.%03d+0000", date, (int)(ts.tv_nsec / 1000000));
}
