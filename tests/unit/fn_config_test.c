// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of the function configuration model (fn_config.c): validation of
 * CreateFunction, UpdateFunctionConfiguration and UpdateFunctionCode input,
 * FunctionConfiguration round trips, FunctionName/ARN/qualifier parsing,
 * the function's Policy member and the reference counting of function.c. Table-driven; one line per
 * case; exit status 1 when any case fails.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "userspace/fn_config.h"
#include "userspace/function.h"
#include "report.h"
#include "userspace/husk.h"
#include "userspace/policy.h"

/* An empty zip archive: the end-of-central-directory record alone (22 bytes). */
#define ZIP_B64 "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="
#define ZIP_LEN 22
#define CODE "\"Code\":{\"ZipFile\":\"" ZIP_B64 "\"}"
#define ROLE "\"Role\":\"arn:aws:iam::123456789012:role/r\""
#define RT "\"Runtime\":\"provided.al2023\""
#define BASE "\"FunctionName\":\"f\"," RT "," ROLE "," CODE
#define NAME64 "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234"
#define NAME65 NAME64 "5"

static const struct husk_config cfg = {
    .region = "us-east-1",
    .account_id = "123456789012",
    .run_dir = "/tmp",
};


static struct json_object *parse(const char *json)
{
	struct json_object *obj = json_tokener_parse(json);

	if (!obj) {
		printf("not ok - test setup: cannot parse %s\n", json);
		exit(1);
	}
	return obj;
}

/* Valid CreateFunction requests and the function they make. */
static const struct valid_case {
	const char *name, *json;
	const char *fn_name, *runtime, *handler, *description;
	unsigned memory, timeout, ephemeral;
	size_t n_env;
	const char *env0_key, *env0_value;
} valid_cases[] = {
    {"defaults", "{" BASE "}", "f", "provided.al2023", "", "", 128, 3, 512, 0},
    {"everything",
     "{" BASE ",\"Handler\":\"my.handler\",\"Description\":\"d\","
     "\"MemorySize\":10240,\"Timeout\":900,\"EphemeralStorage\":{\"Size\":10240},"
     "\"Environment\":{\"Variables\":{\"A_1\":\"x\",\"bb\":\"\"}},"
     "\"Architectures\":[\"x86_64\"],\"PackageType\":\"Zip\",\"Publish\":false}",
     "f", "provided.al2023", "my.handler", "d", 10240, 900, 10240, 2, "A_1", "x"},
    {"lower bounds",
     "{" BASE ",\"MemorySize\":128,\"Timeout\":1,\"EphemeralStorage\":{\"Size\":512}}", "f",
     "provided.al2023", "", "", 128, 1, 512, 0},
    {"runtime provided", "{\"FunctionName\":\"f\",\"Runtime\":\"provided\"," ROLE "," CODE "}", "f",
     "provided", "", "", 128, 3, 512, 0},
    {"name of 64 characters", "{\"FunctionName\":\"" NAME64 "\"," RT "," ROLE "," CODE "}", NAME64,
     "provided.al2023", "", "", 128, 3, 512, 0},
    {"name as full ARN",
     "{\"FunctionName\":\"arn:aws:lambda:us-east-1:123456789012:function:g\"," RT "," ROLE "," CODE
     "}",
     "g", "provided.al2023", "", "", 128, 3, 512, 0},
    {"name as partial ARN",
     "{\"FunctionName\":\"123456789012:function:h-_1\"," RT "," ROLE "," CODE "}", "h-_1",
     "provided.al2023", "", "", 128, 3, 512, 0},
    {"null counts as absent", "{" BASE ",\"MemorySize\":null,\"Environment\":null}", "f",
     "provided.al2023", "", "", 128, 3, 512, 0},
    {"unknown fields ignored", "{" BASE ",\"VpcConfig\":{},\"Tags\":{\"a\":\"b\"},\"X\":[1]}", "f",
     "provided.al2023", "", "", 128, 3, 512, 0},
    {"empty Environment", "{" BASE ",\"Environment\":{}}", "f", "provided.al2023", "", "", 128, 3,
     512, 0},
};

static void check_valid(const struct valid_case *c)
{
	struct json_object *req = parse(c->json);
	struct husk_function *fn = NULL;
	struct husk_err err = {0};
	void *zip = NULL;
	size_t len = 0;
	int rc;

	rc = husk_fn_from_create(&cfg, req, &fn, &zip, &len, &err);
	json_object_put(req);
	if (rc) {
		report(c->name, false, "refused: %s: %s", err.type, err.msg);
		return;
	}
	char arn[HUSK_ARN_MAX];

	snprintf(arn, sizeof(arn), "arn:aws:lambda:us-east-1:123456789012:function:%s", c->fn_name);
	bool ok = !strcmp(fn->name, c->fn_name) && !strcmp(fn->arn, arn) &&
		  !strcmp(fn->runtime, c->runtime) && !strcmp(fn->handler, c->handler) &&
		  !strcmp(fn->description, c->description) &&
		  !strcmp(fn->role, "arn:aws:iam::123456789012:role/r") &&
		  fn->memory_mb == c->memory && fn->timeout_s == c->timeout &&
		  fn->ephemeral_mb == c->ephemeral && fn->n_env == c->n_env && len == ZIP_LEN &&
		  zip && !memcmp(zip, "PK\5\6", 4) && atomic_load(&fn->refs) == 0 && !fn->code_dir;

	if (ok && c->n_env)
		ok = !strcmp(fn->env[0].key, c->env0_key) &&
		     !strcmp(fn->env[0].value, c->env0_value);
	report(c->name, ok,
	       "got name=%s arn=%s runtime=%s handler=%s memory=%u timeout=%u ephemeral=%u "
	       "n_env=%zu zip=%zu",
	       fn->name, fn->arn, fn->runtime, fn->handler, fn->memory_mb, fn->timeout_s,
	       fn->ephemeral_mb, fn->n_env, len);
	husk_fn_free(fn);
	free(zip);
}

/* Invalid requests: the error type, status and a word the message must hold. */
static const struct invalid_case {
	const char *name, *json, *type, *word;
	int status;
} invalid_cases[] = {
    {"missing FunctionName", "{" RT "," ROLE "," CODE "}", HUSK_E_INVALID_PARAM, "FunctionName",
     400},
    {"missing Role", "{\"FunctionName\":\"f\"," RT "," CODE "}", HUSK_E_INVALID_PARAM, "Role", 400},
    {"missing Runtime", "{\"FunctionName\":\"f\"," ROLE "," CODE "}", HUSK_E_INVALID_PARAM,
     "Runtime", 400},
    {"missing Code", "{\"FunctionName\":\"f\"," RT "," ROLE "}", HUSK_E_INVALID_PARAM, "Code", 400},
    {"missing Code.ZipFile", "{\"FunctionName\":\"f\"," RT "," ROLE ",\"Code\":{}}",
     HUSK_E_INVALID_PARAM, "ZipFile", 400},
    {"bad name characters", "{\"FunctionName\":\"f!x\"," RT "," ROLE "," CODE "}",
     HUSK_E_INVALID_PARAM, "FunctionName", 400},
    {"name with a dot", "{\"FunctionName\":\"f.x\"," RT "," ROLE "," CODE "}", HUSK_E_INVALID_PARAM,
     "FunctionName", 400},
    {"empty name", "{\"FunctionName\":\"\"," RT "," ROLE "," CODE "}", HUSK_E_INVALID_PARAM,
     "FunctionName", 400},
    {"name of 65 characters", "{\"FunctionName\":\"" NAME65 "\"," RT "," ROLE "," CODE "}",
     HUSK_E_INVALID_PARAM, "FunctionName", 400},
    {"name with a qualifier", "{\"FunctionName\":\"f:1\"," RT "," ROLE "," CODE "}",
     HUSK_E_INVALID_PARAM, "FunctionName", 400},
    {"ARN of another region",
     "{\"FunctionName\":\"arn:aws:lambda:eu-west-1:123456789012:function:f\"," RT "," ROLE "," CODE
     "}",
     HUSK_E_INVALID_PARAM, "FunctionName", 400},
    {"MemorySize 127", "{" BASE ",\"MemorySize\":127}", HUSK_E_INVALID_PARAM,
     "MemorySize must be between 128 and 10240 MB, got 127", 400},
    {"MemorySize 10241", "{" BASE ",\"MemorySize\":10241}", HUSK_E_INVALID_PARAM, "MemorySize",
     400},
    {"MemorySize huge", "{" BASE ",\"MemorySize\":99999999999999999}", HUSK_E_INVALID_PARAM,
     "MemorySize", 400},
    {"MemorySize negative", "{" BASE ",\"MemorySize\":-128}", HUSK_E_INVALID_PARAM, "MemorySize",
     400},
    {"Timeout 0", "{" BASE ",\"Timeout\":0}", HUSK_E_INVALID_PARAM, "Timeout", 400},
    {"Timeout 901", "{" BASE ",\"Timeout\":901}", HUSK_E_INVALID_PARAM, "Timeout", 400},
    {"EphemeralStorage 511", "{" BASE ",\"EphemeralStorage\":{\"Size\":511}}", HUSK_E_INVALID_PARAM,
     "EphemeralStorage", 400},
    {"EphemeralStorage 10241", "{" BASE ",\"EphemeralStorage\":{\"Size\":10241}}",
     HUSK_E_INVALID_PARAM, "EphemeralStorage", 400},
    {"EphemeralStorage without Size", "{" BASE ",\"EphemeralStorage\":{}}", HUSK_E_INVALID_PARAM,
     "EphemeralStorage", 400},
    {"reserved env var AWS_REGION",
     "{" BASE ",\"Environment\":{\"Variables\":{\"AWS_REGION\":\"x\"}}}", HUSK_E_INVALID_PARAM,
     "Environment", 400},
    {"reserved env var _HANDLER", "{" BASE ",\"Environment\":{\"Variables\":{\"_HANDLER\":\"x\"}}}",
     HUSK_E_INVALID_PARAM, "Environment", 400},
    {"env var name with a digit first", "{" BASE ",\"Environment\":{\"Variables\":{\"1A\":\"x\"}}}",
     HUSK_E_INVALID_PARAM, "Environment", 400},
    {"env var name of one letter", "{" BASE ",\"Environment\":{\"Variables\":{\"A\":\"x\"}}}",
     HUSK_E_INVALID_PARAM, "Environment", 400},
    {"env var name with a dash", "{" BASE ",\"Environment\":{\"Variables\":{\"A-B\":\"x\"}}}",
     HUSK_E_INVALID_PARAM, "Environment", 400},
    {"non-string env value", "{" BASE ",\"Environment\":{\"Variables\":{\"AB\":5}}}",
     HUSK_E_INVALID_PARAM, "Environment", 400},
    {"env value with NUL", "{" BASE ",\"Environment\":{\"Variables\":{\"AB\":\"a\\u0000b\"}}}",
     HUSK_E_INVALID_PARAM, "Environment", 400},
    {"Variables not an object", "{" BASE ",\"Environment\":{\"Variables\":[]}}",
     HUSK_E_INVALID_PARAM, "Environment.Variables", 400},
    {"FunctionName a number", "{\"FunctionName\":5," RT "," ROLE "," CODE "}", HUSK_E_INVALID_PARAM,
     "FunctionName", 400},
    {"Role a number", "{\"FunctionName\":\"f\"," RT ",\"Role\":1," CODE "}", HUSK_E_INVALID_PARAM,
     "Role", 400},
    {"empty Role", "{\"FunctionName\":\"f\"," RT ",\"Role\":\"\"," CODE "}", HUSK_E_INVALID_PARAM,
     "Role", 400},
    {"MemorySize a string", "{" BASE ",\"MemorySize\":\"128\"}", HUSK_E_INVALID_PARAM, "MemorySize",
     400},
    {"MemorySize a double", "{" BASE ",\"MemorySize\":128.5}", HUSK_E_INVALID_PARAM, "MemorySize",
     400},
    {"Timeout a boolean", "{" BASE ",\"Timeout\":true}", HUSK_E_INVALID_PARAM, "Timeout", 400},
    {"Environment an array", "{" BASE ",\"Environment\":[]}", HUSK_E_INVALID_PARAM, "Environment",
     400},
    {"Code a string", "{\"FunctionName\":\"f\"," RT "," ROLE ",\"Code\":\"x\"}",
     HUSK_E_INVALID_PARAM, "Code", 400},
    {"Handler a number", "{" BASE ",\"Handler\":1}", HUSK_E_INVALID_PARAM, "Handler", 400},
    {"Description of 257", "{" BASE ",\"Description\":\"" NAME64 NAME64 NAME64 NAME64 "x\"}",
     HUSK_E_INVALID_PARAM, "Description", 400},
    {"unsupported Runtime", "{\"FunctionName\":\"f\",\"Runtime\":\"python3.12\"," ROLE "," CODE "}",
     HUSK_E_INVALID_PARAM, "runtime parameter of python3.12", 400},
    {"PackageType Image", "{" BASE ",\"PackageType\":\"Image\"}", HUSK_E_INVALID_PARAM,
     "PackageType", 400},
    {"arm64", "{" BASE ",\"Architectures\":[\"arm64\"]}", HUSK_E_INVALID_PARAM, "Architectures",
     400},
    {"two architectures", "{" BASE ",\"Architectures\":[\"x86_64\",\"x86_64\"]}",
     HUSK_E_INVALID_PARAM, "Architectures", 400},
    {"Publish true", "{" BASE ",\"Publish\":true}", HUSK_E_INVALID_PARAM, "Publish", 400},
    {"code from S3",
     "{\"FunctionName\":\"f\"," RT "," ROLE ",\"Code\":{\"S3Bucket\":\"b\",\"S3Key\":\"k\"}}",
     HUSK_E_INVALID_PARAM, "ZipFile", 400},
    {"ZipFile not base64",
     "{\"FunctionName\":\"f\"," RT "," ROLE ",\"Code\":{\"ZipFile\":\"!!!!\"}}",
     HUSK_E_INVALID_PARAM, "ZipFile", 400},
    {"ZipFile empty", "{\"FunctionName\":\"f\"," RT "," ROLE ",\"Code\":{\"ZipFile\":\"\"}}",
     HUSK_E_INVALID_PARAM, "ZipFile", 400},
    {"body an array", "[1]", HUSK_E_INVALID_CONTENT, "JSON object", 400},
};

static void check_invalid(const char *name, const char *json, const char *type, const char *word,
			  int status)
{
	struct json_object *req = parse(json);
	struct husk_function *fn = NULL;
	struct husk_err err = {0};
	void *zip = NULL;
	size_t len = 0;
	int rc;

	rc = husk_fn_from_create(&cfg, req, &fn, &zip, &len, &err);
	json_object_put(req);
	if (!rc) {
		report(name, false, "accepted");
		husk_fn_free(fn);
		free(zip);
		return;
	}
	report(name,
	       rc < 0 && err.status == status && err.type && !strcmp(err.type, type) &&
		   strstr(err.msg, word) && !fn && !zip && !strchr(err.msg, '\n'),
	       "rc=%d status=%d type=%s msg=%s (wanted %s naming '%s')", rc, err.status,
	       err.type ? err.type : "(null)", err.msg, type, word);
}

/* Cases whose input is too long to write out. */
static void check_generated(void)
{
	char *json = malloc(8192);
	char value[4200];

	memset(value, 'v', 4094);
	value[4094] = '\0';
	/* "AB" + 4094 bytes: exactly the 4096 Lambda allows. */
	snprintf(json, 8192, "{" BASE ",\"Environment\":{\"Variables\":{\"AB\":\"%s\"}}}", value);
	{
		struct json_object *req = parse(json);
		struct husk_function *fn = NULL;
		struct husk_err err = {0};
		void *zip = NULL;
		size_t len;
		int rc = husk_fn_from_create(&cfg, req, &fn, &zip, &len, &err);

		report("env of exactly 4096 bytes", !rc && fn->n_env == 1, "%s", err.msg);
		husk_fn_free(fn);
		free(zip);
		json_object_put(req);
	}
	value[4094] = 'v';
	value[4095] = '\0';
	snprintf(json, 8192, "{" BASE ",\"Environment\":{\"Variables\":{\"AB\":\"%s\"}}}", value);
	check_invalid("oversize env (4097 bytes)", json, HUSK_E_INVALID_PARAM, "Environment", 400);
	free(json);
}

/* The policy's JSON form, compact, malloc'd; NULL without a policy. */
static char *policy_text(const struct husk_policy *p)
{
	struct json_object *o = p ? husk_policy_to_json(p) : NULL;
	char *s = o ? strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE))
		    : NULL;

	json_object_put(o);
	return s;
}

static bool same_policy(const struct husk_policy *a, const struct husk_policy *b)
{
	char *sa = policy_text(a), *sb = policy_text(b);
	bool same = sa && sb && !strcmp(sa, sb);

	free(sa);
	free(sb);
	return same;
}

static bool is_default_policy(const struct husk_policy *p)
{
	struct husk_policy *def = husk_policy_default();
	bool same = same_policy(p, def);

	husk_policy_free(def);
	return same;
}

static bool same_fn(const struct husk_function *a, const struct husk_function *b)
{
	size_t i;

	if (strcmp(a->name, b->name) || strcmp(a->arn, b->arn) || strcmp(a->runtime, b->runtime) ||
	    strcmp(a->handler, b->handler) || strcmp(a->role, b->role) ||
	    strcmp(a->description, b->description) || a->memory_mb != b->memory_mb ||
	    a->timeout_s != b->timeout_s || a->ephemeral_mb != b->ephemeral_mb ||
	    a->n_env != b->n_env || strcmp(a->code_sha256, b->code_sha256) ||
	    a->code_size != b->code_size || strcmp(a->revision_id, b->revision_id) ||
	    strcmp(a->last_modified, b->last_modified) || !same_policy(a->policy, b->policy))
		return false;
	for (i = 0; i < a->n_env; i++)
		if (strcmp(a->env[i].key, b->env[i].key) ||
		    strcmp(a->env[i].value, b->env[i].value))
			return false;
	return true;
}

static struct husk_function *make_fn(const char *json)
{
	struct json_object *req = parse(json);
	struct husk_function *fn = NULL;
	struct husk_err err;
	void *zip = NULL;
	size_t len;

	if (husk_fn_from_create(&cfg, req, &fn, &zip, &len, &err)) {
		printf("not ok - test setup: %s: %s\n", json, err.msg);
		exit(1);
	}
	free(zip);
	json_object_put(req);
	strcpy(fn->code_sha256, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
	fn->code_size = 123456789012ull;
	strcpy(fn->revision_id, "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9");
	strcpy(fn->last_modified, "2024-01-02T03:04:05.678+0000");
	return fn;
}

static void check_round_trip(const char *name, const char *json)
{
	struct husk_function *fn = make_fn(json), *back = NULL;
	struct json_object *doc = husk_fn_to_json(fn);
	const char *s = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
	char why[256] = "";
	int rc = husk_fn_from_json(s, &back, why, sizeof(why));

	report(name, !rc && same_fn(fn, back), "rc=%d %s: %s", rc, why, s);
	husk_fn_free(back);
	husk_fn_free(fn);
	json_object_put(doc);
}

static const char *str_member(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

/* The FunctionConfiguration fields Lambda always sends, with husk's fixed values. */
static void check_output_shape(void)
{
	struct husk_function *fn = make_fn("{" BASE "}");
	struct json_object *doc = husk_fn_to_json(fn), *v;
	const char *s = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
	bool ok;

	ok = !strcmp(str_member(doc, "Version"), "$LATEST") &&
	     !strcmp(str_member(doc, "State"), "Active") &&
	     !strcmp(str_member(doc, "LastUpdateStatus"), "Successful") &&
	     !strcmp(str_member(doc, "PackageType"), "Zip") &&
	     !strcmp(str_member(doc, "LastModified"), "2024-01-02T03:04:05.678+0000") &&
	     !strcmp(str_member(doc, "FunctionArn"),
		     "arn:aws:lambda:us-east-1:123456789012:function:f") &&
	     strstr(s, "\"TracingConfig\":{\"Mode\":\"PassThrough\"}") &&
	     strstr(s, "\"Architectures\":[\"x86_64\"]") &&
	     strstr(s, "\"EphemeralStorage\":{\"Size\":512}") &&
	     strstr(s, "\"CodeSize\":123456789012") && strstr(s, "\"MemorySize\":128") &&
	     strstr(s, "\"Timeout\":3") && !json_object_object_get_ex(doc, "Environment", &v);
	report("FunctionConfiguration shape", ok, "%s", s);
	ok = json_object_object_get_ex(doc, "Policy", &v) &&
	     json_object_is_type(v, json_type_object) &&
	     strstr(s, "\"Policy\":{\"Network\":{\"Egress\":[],\"Dns\":false,\"AllowHost\":false},"
		       "\"Files\":{\"Read\":[\"\\/usr\",") &&
	     strstr(s, "\"Syscalls\":{\"Mode\":\"deny\",\"Action\":\"errno\",\"Errno\":1,"
		       "\"Names\":[]}");
	report("FunctionConfiguration has the Policy in full", ok, "%s", s);
	json_object_put(doc);
	husk_fn_free(fn);
}

static const struct bad_doc {
	const char *name, *json, *word;
} bad_docs[] = {
    {"stored doc not JSON", "{", "json"},
    {"stored doc an array", "[]", "object"},
    {"stored doc without FunctionName", "{\"FunctionArn\":\"a\"}", "FunctionName"},
    {"stored doc with a path as RevisionId",
     "{\"FunctionName\":\"f\",\"FunctionArn\":\"a\",\"Runtime\":\"provided\",\"Role\":\"r\","
     "\"Handler\":\"\",\"Description\":\"\",\"CodeSha256\":\"x\",\"RevisionId\":\"../../etc\","
     "\"LastModified\":\"t\",\"CodeSize\":1,\"Timeout\":3,\"MemorySize\":128}",
     "RevisionId"},
    {"stored doc with MemorySize 1",
     "{\"FunctionName\":\"f\",\"FunctionArn\":\"a\",\"Runtime\":\"provided\",\"Role\":\"r\","
     "\"Handler\":\"\",\"Description\":\"\",\"CodeSha256\":\"x\","
     "\"RevisionId\":\"0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9\",\"LastModified\":\"t\","
     "\"CodeSize\":1,\"Timeout\":3,\"MemorySize\":1}",
     "MemorySize"},
    {"stored doc with a bad Policy",
     "{\"FunctionName\":\"f\",\"FunctionArn\":\"a\",\"Runtime\":\"provided\",\"Role\":\"r\","
     "\"Handler\":\"\",\"Description\":\"\",\"CodeSha256\":\"x\","
     "\"RevisionId\":\"0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9\",\"LastModified\":\"t\","
     "\"CodeSize\":1,\"Timeout\":3,\"MemorySize\":128,\"Policy\":{\"Files\":{\"Read\":[\"x\"]}}}",
     "Policy.Files.Read[0]"},
};

static void check_bad_doc(const struct bad_doc *c)
{
	struct husk_function *fn = NULL;
	char why[256] = "";
	int rc = husk_fn_from_json(c->json, &fn, why, sizeof(why));

	report(c->name, rc == -EINVAL && !fn && strstr(why, c->word), "rc=%d why=%s", rc, why);
	husk_fn_free(fn);
}

/* FunctionName references: what they name, or the error they are. */
static const struct ref_case {
	const char *in, *name, *qualifier; /* name NULL: refused */
} ref_cases[] = {
    {"f", "f", ""},
    {"f:$LATEST", "f", "$LATEST"},
    {"f:1", "f", "1"},
    {"f:prod-2_x", "f", "prod-2_x"},
    {"123456789012:function:f", "f", ""},
    {"123456789012:function:f:$LATEST", "f", "$LATEST"},
    {"arn:aws:lambda:us-east-1:123456789012:function:f", "f", ""},
    {"arn:aws:lambda:us-east-1:123456789012:function:f:7", "f", "7"},
    {NAME64, NAME64, ""},
    {NAME65, NULL, NULL},
    {"", NULL, NULL},
    {"f:", NULL, NULL},
    {"f:a!b", NULL, NULL},
    {"f::1", NULL, NULL},
    {"f/g", NULL, NULL},
    {"a:b:c", NULL, NULL},
    {"123456789012:func:f", NULL, NULL},
    {"999999999999:function:f", NULL, NULL},
    {"arn:aws:lambda:eu-west-1:123456789012:function:f", NULL, NULL},
    {"arn:aws:lambda:us-east-1:999999999999:function:f", NULL, NULL},
    {"arn:aws:s3:us-east-1:123456789012:function:f", NULL, NULL},
    {"arn:aws:lambda:us-east-1:123456789012:layer:f", NULL, NULL},
    {"arn:aws:lambda:us-east-1:123456789012:function:f:1:2", NULL, NULL},
    {"arn:aws:lambda:us-east-1:123456789012:function:f:1:2:3:4", NULL, NULL},
};

static void check_ref(const struct ref_case *c)
{
	struct husk_fn_ref ref;
	struct husk_err err = {0};
	char name[96];
	int rc = husk_fn_parse_ref(&cfg, c->in, &ref, &err);

	snprintf(name, sizeof(name), "ref '%.60s'%s", c->in, c->name ? "" : " refused");
	if (c->name)
		report(name,
		       !rc && !strcmp(ref.name, c->name) && !strcmp(ref.qualifier, c->qualifier),
		       "rc=%d name=%s qualifier=%s err=%s", rc, rc ? "" : ref.name,
		       rc ? "" : ref.qualifier, err.msg);
	else
		report(name,
		       rc == -EINVAL && err.status == 400 &&
			   !strcmp(err.type, HUSK_E_INVALID_PARAM) &&
			   strstr(err.msg, "FunctionName"),
		       "rc=%d msg=%s", rc, err.msg);
}

static const struct qualifier_case {
	const char *name, *ref_qualifier, *query;
	int rc, status;
	const char *msg;
} qualifier_cases[] = {
    {"no qualifier", "", NULL, 0, 0, NULL},
    {"qualifier $LATEST", "$LATEST", NULL, 0, 0, NULL},
    {"?Qualifier=$LATEST", "", "$LATEST", 0, 0, NULL},
    {"same qualifier twice", "$LATEST", "$LATEST", 0, 0, NULL},
    {"qualifier 1", "1", NULL, -ENOENT, 404,
     "Function not found: arn:aws:lambda:us-east-1:123456789012:function:f:1"},
    {"?Qualifier=prod", "", "prod", -ENOENT, 404,
     "Function not found: arn:aws:lambda:us-east-1:123456789012:function:f:prod"},
    {"qualifiers that differ", "$LATEST", "prod", -EINVAL, 400, "qualifier"},
    {"?Qualifier= invalid", "", "a b", -EINVAL, 400, "Qualifier"},
};

static void check_qualifier(const struct qualifier_case *c)
{
	struct husk_fn_ref ref = {.name = "f"};
	struct husk_err err = {0};
	int rc;

	strcpy(ref.qualifier, c->ref_qualifier);
	rc = husk_fn_check_qualifier(&cfg, &ref, c->query, &err);
	report(c->name,
	       rc == c->rc && (!rc || (err.status == c->status && strstr(err.msg, c->msg))),
	       "rc=%d status=%d msg=%s", rc, err.status, err.msg);
}

/* UpdateFunctionConfiguration on a function with env var K1=v1 and 256 MB. */
static const struct update_case {
	const char *name, *json;
	int rc;
	unsigned memory, timeout;
	size_t n_env;
	const char *runtime, *revision_id, *word;
} update_cases[] = {
    {"update nothing", "{}", 0, 256, 3, 1, "provided.al2023", NULL, NULL},
    {"update MemorySize", "{\"MemorySize\":512}", 0, 512, 3, 1, "provided.al2023", NULL, NULL},
    {"update Timeout and Runtime", "{\"Timeout\":60,\"Runtime\":\"provided\"}", 0, 256, 60, 1,
     "provided", NULL, NULL},
    {"update Environment replaces it",
     "{\"Environment\":{\"Variables\":{\"K2\":\"a\",\"K3\":\"b\"}}}", 0, 256, 3, 2,
     "provided.al2023", NULL, NULL},
    {"update Environment {} clears it", "{\"Environment\":{}}", 0, 256, 3, 0, "provided.al2023",
     NULL, NULL},
    {"update with RevisionId", "{\"RevisionId\":\"abc\"}", 0, 256, 3, 1, "provided.al2023", "abc",
     NULL},
    {"update bad Runtime", "{\"Runtime\":\"nodejs20.x\"}", -EINVAL, 0, 0, 0, NULL, NULL, "runtime"},
    {"update Timeout 901", "{\"Timeout\":901}", -EINVAL, 0, 0, 0, NULL, NULL, "Timeout"},
    {"update reserved env", "{\"Environment\":{\"Variables\":{\"AWS_SESSION_TOKEN\":\"x\"}}}",
     -EINVAL, 0, 0, 0, NULL, NULL, "Environment"},
    {"update RevisionId a number", "{\"RevisionId\":1}", -EINVAL, 0, 0, 0, NULL, NULL,
     "RevisionId"},
};

static void check_update(const struct update_case *c, const struct husk_function *cur)
{
	struct json_object *req = parse(c->json);
	struct husk_function *fn = NULL;
	struct husk_err err = {0};
	const char *rev = NULL;
	bool ok;
	int rc = husk_fn_apply_update(cur, req, &fn, &rev, &err);

	if (c->rc)
		ok = rc == c->rc && !fn && err.status == 400 && strstr(err.msg, c->word);
	else
		ok = !rc && fn->memory_mb == c->memory && fn->timeout_s == c->timeout &&
		     fn->n_env == c->n_env && !strcmp(fn->runtime, c->runtime) &&
		     !strcmp(fn->name, cur->name) && !strcmp(fn->code_sha256, cur->code_sha256) &&
		     !strcmp(fn->revision_id, cur->revision_id) && !fn->code_dir &&
		     (c->revision_id ? rev && !strcmp(rev, c->revision_id) : !rev);
	report(c->name, ok, "rc=%d msg=%s memory=%u timeout=%u n_env=%zu", rc, err.msg,
	       fn ? fn->memory_mb : 0, fn ? fn->timeout_s : 0, fn ? fn->n_env : 0);
	husk_fn_free(fn);
	json_object_put(req);
}

static const struct code_case {
	const char *name, *json;
	int rc;
	bool dry_run;
	const char *revision_id, *word;
} code_cases[] = {
    {"code update", "{\"ZipFile\":\"" ZIP_B64 "\"}", 0, false, NULL, NULL},
    {"code update DryRun with RevisionId",
     "{\"ZipFile\":\"" ZIP_B64 "\",\"DryRun\":true,\"RevisionId\":\"r\",\"Publish\":false}", 0,
     true, "r", NULL},
    {"code update without ZipFile", "{}", -EINVAL, false, NULL, "ZipFile"},
    {"code update Publish true", "{\"ZipFile\":\"" ZIP_B64 "\",\"Publish\":true}", -EINVAL, false,
     NULL, "Publish is not supported: only $LATEST exists"},
    {"code update from S3", "{\"S3Bucket\":\"b\",\"S3Key\":\"k\"}", -EINVAL, false, NULL,
     "ZipFile"},
    {"code update arm64", "{\"ZipFile\":\"" ZIP_B64 "\",\"Architectures\":[\"arm64\"]}", -EINVAL,
     false, NULL, "Architectures"},
    {"code update DryRun a string", "{\"ZipFile\":\"" ZIP_B64 "\",\"DryRun\":\"yes\"}", -EINVAL,
     false, NULL, "DryRun"},
};

static void check_code_update(const struct code_case *c)
{
	struct json_object *req = parse(c->json);
	struct husk_code_update up;
	struct husk_err err = {0};
	bool ok;
	int rc = husk_fn_parse_code_update(req, &up, &err);

	if (c->rc)
		ok = rc == c->rc && !up.zip && strstr(err.msg, c->word);
	else
		ok = !rc && up.zip_len == ZIP_LEN && up.dry_run == c->dry_run &&
		     (c->revision_id ? up.revision_id && !strcmp(up.revision_id, c->revision_id)
				     : !up.revision_id);
	report(c->name, ok, "rc=%d msg=%s", rc, err.msg);
	free(up.zip);
	json_object_put(req);
}

static const struct json_case {
	const char *name, *in;
	bool ok;
} json_cases[] = {
    {"JSON object", "{\"a\":[1,2]}", true},
    {"JSON number", "42", true},
    {"JSON null", "null", true},
    {"JSON with trailing space", "{} \n", true},
    {"JSON with trailing garbage", "{} x", false},
    {"two JSON values", "{}{}", false},
    {"empty input", "", false},
    {"truncated JSON", "{\"a\":", false},
};

static void check_json(const struct json_case *c)
{
	struct json_object *obj = NULL;
	struct husk_err err = {0};
	int rc = husk_json_parse(c->in, strlen(c->in), &obj, &err);

	report(c->name,
	       c->ok ? !rc
		     : rc == -EINVAL && err.status == 400 &&
			   !strcmp(err.type, HUSK_E_INVALID_CONTENT) &&
			   !strncmp(err.msg, "Could not parse request body into json: ", 40),
	       "rc=%d msg=%s", rc, err.msg);
	json_object_put(obj);
}

static void check_embedded_nul(void)
{
	static const char in[] = "{}\0{}";
	struct json_object *obj = NULL;
	struct husk_err err = {0};
	int rc = husk_json_parse(in, sizeof(in) - 1, &obj, &err);

	report("JSON with an embedded NUL", rc == -EINVAL, "rc=%d", rc);
	json_object_put(obj);
}

#define POLICY_443                                                                                 \
	"\"Policy\":{\"Network\":{\"Egress\":[{\"Cidr\":\"10.0.0.0/8\",\"Ports\":\"443\","         \
	"\"Protocol\":\"tcp\"}]}}"
#define EGRESS_443 "\"Egress\":[{\"Cidr\":\"10.0.0.0/8\",\"Ports\":\"443\",\"Protocol\":\"tcp\"}]"

/* CreateFunction's Policy: what the function gets, or the message (NULL want: the default). */
static const struct policy_case {
	const char *name, *json, *want, *word;
} policy_cases[] = {
    {"create without Policy: the default", "{" BASE "}", NULL, NULL},
    {"create with Policy null: the default", "{" BASE ",\"Policy\":null}", NULL, NULL},
    {"create with Policy {}: the default", "{" BASE ",\"Policy\":{}}", NULL, NULL},
    {"create with an egress rule", "{" BASE "," POLICY_443 "}", EGRESS_443, NULL},
    {"create with syscall rules", "{" BASE ",\"Policy\":{\"Syscalls\":{\"Names\":[\"ptrace\"]}}}",
     "\"Names\":[\"ptrace\"]", NULL},
    {"create with Policy an array", "{" BASE ",\"Policy\":[]}", NULL,
     "Policy must be an object, got array"},
    {"create with a misspelt Policy field", "{" BASE ",\"Policy\":{\"Network\":{\"Egres\":[]}}}",
     NULL, "Policy.Network.Egres: unknown field"},
    {"create with a bad CIDR",
     "{" BASE ",\"Policy\":{\"Network\":{\"Egress\":[{\"Cidr\":\"10.0.0.0/33\"}]}}}", NULL,
     "Policy.Network.Egress[0].Cidr: 10.0.0.0/33 is not an IPv4 or IPv6 CIDR"},
};

static bool policy_has(const struct husk_policy *p, const char *want)
{
	char *s = policy_text(p);
	bool ok = s && (want ? strstr(s, want) != NULL : is_default_policy(p));

	free(s);
	return ok;
}

static void check_create_policy(const struct policy_case *c)
{
	struct json_object *req = parse(c->json);
	struct husk_function *fn = NULL;
	struct husk_err err = {0};
	void *zip = NULL;
	size_t len = 0;
	int rc = husk_fn_from_create(&cfg, req, &fn, &zip, &len, &err);
	char *got = fn ? policy_text(fn->policy) : NULL;

	if (c->word)
		report(c->name,
		       rc == -EINVAL && !fn && err.status == 400 &&
			   !strcmp(err.type, HUSK_E_INVALID_PARAM) && strstr(err.msg, c->word),
		       "rc=%d msg=%s", rc, err.msg);
	else
		report(c->name, !rc && fn->policy && policy_has(fn->policy, c->want),
		       "rc=%d msg=%s policy=%s", rc, err.msg, got ? got : "(none)");
	free(got);
	free(zip);
	husk_fn_free(fn);
	json_object_put(req);
}

/* UpdateFunctionConfiguration on a function whose policy has the 443 rule. */
static const struct policy_case policy_update_cases[] = {
    {"update without Policy keeps it", "{\"MemorySize\":512}", EGRESS_443, NULL},
    {"update with Policy null keeps it", "{\"Policy\":null}", EGRESS_443, NULL},
    {"update with Policy {} resets it to the default", "{\"Policy\":{}}", NULL, NULL},
    {"update with a new Policy replaces it",
     "{\"Policy\":{\"Network\":{\"Dns\":true},\"Files\":{\"Write\":[]}}}",
     "\"Egress\":[],\"Dns\":true", NULL},
    {"update with a bad Policy", "{\"Policy\":{\"Syscalls\":{\"Mode\":\"allow\"}}}", NULL,
     "Policy.Syscalls.Names is empty"},
};

static void check_update_policy(const struct policy_case *c, const struct husk_function *cur)
{
	struct json_object *req = parse(c->json);
	struct husk_function *fn = NULL;
	struct husk_err err = {0};
	const char *rev = NULL;
	int rc = husk_fn_apply_update(cur, req, &fn, &rev, &err);
	char *got = fn ? policy_text(fn->policy) : NULL;

	if (c->word)
		report(c->name,
		       rc == -EINVAL && !fn && err.status == 400 && strstr(err.msg, c->word),
		       "rc=%d msg=%s", rc, err.msg);
	else
		report(c->name,
		       !rc && fn->policy && fn->policy != cur->policy &&
			   policy_has(fn->policy, c->want) && policy_has(cur->policy, EGRESS_443),
		       "rc=%d msg=%s policy=%s", rc, err.msg, got ? got : "(none)");
	free(got);
	husk_fn_free(fn);
	json_object_put(req);
}

/* A stored document of an older huskd has no Policy: it loads with the default. */
static void check_doc_without_policy(void)
{
	struct husk_function *fn = make_fn("{" BASE "," POLICY_443 "}"), *back = NULL;
	struct json_object *doc = husk_fn_to_json(fn);
	char why[256] = "";
	int rc;

	json_object_object_del(doc, "Policy");
	rc = husk_fn_from_json(json_object_to_json_string(doc), &back, why, sizeof(why));
	report("stored doc without Policy gets the default", !rc && is_default_policy(back->policy),
	       "rc=%d %s", rc, why);
	husk_fn_free(back);
	husk_fn_free(fn);
	json_object_put(doc);
}

static void check_dup_policy(void)
{
	struct husk_function *fn = make_fn("{" BASE "," POLICY_443 "}"), *copy = husk_fn_dup(fn);
	bool ok = copy && copy->policy && copy->policy != fn->policy &&
		  copy->policy->egress != fn->policy->egress &&
		  same_policy(copy->policy, fn->policy);

	husk_fn_free(fn);
	/* The copy stands alone: its policy is intact after the original is gone. */
	ok = ok && policy_has(copy->policy, EGRESS_443);
	report("husk_fn_dup copies the policy", ok, NULL);
	husk_fn_free(copy);
}

/* The last husk_fn_put frees the function and removes its code directory. */
static void check_refcount(void)
{
	struct husk_function *fn = make_fn("{" BASE "}");
	char dir[] = "/tmp/fn_config_test.XXXXXX", file[64];
	struct stat st;
	FILE *f;

	if (!mkdtemp(dir)) {
		report("husk_fn_put", false, "mkdtemp: %s", strerror(errno));
		husk_fn_free(fn);
		return;
	}
	snprintf(file, sizeof(file), "%s/bootstrap", dir);
	f = fopen(file, "w");
	if (f)
		fclose(f);
	fn->code_dir = strdup(dir);
	atomic_store(&fn->refs, 1);
	husk_fn_get(fn);
	husk_fn_put(fn);
	report("husk_fn_put keeps code while referenced", !stat(file, &st), "%s gone", file);
	husk_fn_put(fn);
	report("last husk_fn_put removes code_dir", stat(dir, &st) && errno == ENOENT,
	       "%s still there", dir);
}

static void check_timestamp(void)
{
	char ts[40];

	husk_fn_timestamp(ts);
	report("LastModified format",
	       strlen(ts) == 28 && ts[4] == '-' && ts[10] == 'T' && ts[19] == '.' &&
		   !strcmp(ts + 23, "+0000"),
	       "%s", ts);
}

int main(void)
{
	struct husk_function *cur;
	size_t i;

	for (i = 0; i < sizeof(valid_cases) / sizeof(*valid_cases); i++)
		check_valid(&valid_cases[i]);
	for (i = 0; i < sizeof(invalid_cases) / sizeof(*invalid_cases); i++)
		check_invalid(invalid_cases[i].name, invalid_cases[i].json, invalid_cases[i].type,
			      invalid_cases[i].word, invalid_cases[i].status);
	check_generated();
	check_round_trip("round trip, defaults", "{" BASE "}");
	check_round_trip(
	    "round trip, everything",
	    "{" BASE ",\"Handler\":\"h\",\"Description\":\"d \\\"q\\\" \\u00e9\","
	    "\"MemorySize\":3008,\"Timeout\":77,\"EphemeralStorage\":{\"Size\":2048},"
	    "\"Environment\":{\"Variables\":{\"Z1\":\"last\",\"A1\":\"=x\\n\",\"M_m\":\"\"}}}");
	check_round_trip(
	    "round trip, policy",
	    "{" BASE ",\"Policy\":{\"Network\":{\"Egress\":[{\"Cidr\":\"2001:db8::/32\","
	    "\"Ports\":\"1000-2000\",\"Protocol\":\"udp\"},{\"Cidr\":\"192.0.2.1/32\"}],"
	    "\"Dns\":true,\"AllowHost\":true},\"Files\":{\"Read\":[\"/\"],\"Write\":[],"
	    "\"Exec\":[\"/var/task/bin/\"]},\"Syscalls\":{\"Mode\":\"allow\",\"Action\":\"kill\","
	    "\"Names\":[\"execve\",\"read\",\"write\"]}}}");
	check_output_shape();
	for (i = 0; i < sizeof(bad_docs) / sizeof(*bad_docs); i++)
		check_bad_doc(&bad_docs[i]);
	for (i = 0; i < sizeof(ref_cases) / sizeof(*ref_cases); i++)
		check_ref(&ref_cases[i]);
	for (i = 0; i < sizeof(qualifier_cases) / sizeof(*qualifier_cases); i++)
		check_qualifier(&qualifier_cases[i]);
	cur = make_fn("{" BASE
		      ",\"MemorySize\":256,\"Environment\":{\"Variables\":{\"K1\":\"v1\"}}}");
	for (i = 0; i < sizeof(update_cases) / sizeof(*update_cases); i++)
		check_update(&update_cases[i], cur);
	husk_fn_free(cur);
	for (i = 0; i < sizeof(code_cases) / sizeof(*code_cases); i++)
		check_code_update(&code_cases[i]);
	for (i = 0; i < sizeof(json_cases) / sizeof(*json_cases); i++)
		check_json(&json_cases[i]);
	check_embedded_nul();
	for (i = 0; i < sizeof(policy_cases) / sizeof(*policy_cases); i++)
		check_create_policy(&policy_cases[i]);
	cur = make_fn("{" BASE "," POLICY_443 "}");
	for (i = 0; i < sizeof(policy_update_cases) / sizeof(*policy_update_cases); i++)
		check_update_policy(&policy_update_cases[i], cur);
	husk_fn_free(cur);
	check_doc_without_policy();
	check_dup_policy();
	check_refcount();
	check_timestamp();
	printf("%s\n", unit_failed ? "FAILED" : "all passed");
	return unit_failed ? 1 : 0;
}
