// SPDX-License-Identifier: GPL-2.0
/* huskctl fn {list | show NAME}: functions, through huskd's Lambda API. */
#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "huskctl.h"

#define FN_API "/2015-03-31/functions"

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return "-";
	return json_object_get_string(v);
}

/* Every function, following NextMarker. */
static int all_functions(const struct hctl *h, struct json_object **out)
{
	struct json_object *list = json_object_new_array(), *page, *fns, *next;
	char path[256] = FN_API "/?MaxItems=50";
	size_t i;

	if (!list)
		return hctl_err("out of memory");
	for (;;) {
		if (hctl_api_get(h, path, &page)) {
			json_object_put(list);
			return 1;
		}
		fns = json_object_object_get(page, "Functions");
		for (i = 0; i < json_object_array_length(fns); i++)
			json_object_array_add(list,
					      json_object_get(json_object_array_get_idx(fns, i)));
		next = json_object_object_get(page, "NextMarker");
		if (!next || !json_object_get_string_len(next)) {
			json_object_put(page);
			break;
		}
		snprintf(path, sizeof(path), FN_API "/?MaxItems=50&Marker=%s",
			 json_object_get_string(next));
		json_object_put(page);
	}
	*out = list;
	return 0;
}

static int fn_list(struct hctl *h, int argc, char **argv)
{
	struct json_object *list, *f;
	size_t i;

	if (argc)
		return hctl_err("fn list takes no arguments");
	if (hctl_need_root() || all_functions(h, &list))
		return 1;
	if (h->json)
		return hctl_print_json(h, list);
	printf("%-32s %-16s %6s %7s %10s  %s\n", "FUNCTION", "RUNTIME", "MEMORY", "TIMEOUT",
	       "CODE SIZE", "LAST MODIFIED");
	for (i = 0; i < json_object_array_length(list); i++) {
		f = json_object_array_get_idx(list, i);
		printf("%-32s %-16s %6s %7s %10s  %s\n", str(f, "FunctionName"), str(f, "Runtime"),
		       str(f, "MemorySize"), str(f, "Timeout"), str(f, "CodeSize"),
		       str(f, "LastModified"));
	}
	json_object_put(list);
	return 0;
}

/* Function names are [A-Za-z0-9_-]; anything else would change the path. */
static bool valid_name(const char *s)
{
	size_t n = strlen(s), i;

	if (!n || n > 64)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return false;
	return true;
}

/* The environments serving name, as a JSON array of their names. */
static struct json_object *envs_of(const struct hctl *h, const char *name)
{
	struct json_object *doc, *list, *out = json_object_new_array(), *e, *fn;
	size_t i;

	if (!out || hctl_api_get(h, "/husk/v1/envs", &doc))
		return out;
	list = json_object_object_get(doc, "Environments");
	for (i = 0; i < json_object_array_length(list); i++) {
		e = json_object_array_get_idx(list, i);
		fn = json_object_object_get(e, "Function");
		if (fn && !strcmp(json_object_get_string(fn), name))
			json_object_array_add(out,
					      json_object_get(json_object_object_get(e, "Name")));
	}
	json_object_put(doc);
	return out;
}

static void print_fn(struct json_object *f)
{
	static const char *const keys[] = {
	    "FunctionArn", "Runtime",	 "Handler",    "Role",	       "MemorySize", "Timeout",
	    "CodeSize",	   "CodeSha256", "RevisionId", "LastModified", "Description"};
	struct json_object *envs = json_object_object_get(f, "Environments");
	size_t i;

	printf("%s\n", str(f, "FunctionName"));
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		printf("  %-13s %s\n", keys[i], str(f, keys[i]));
	printf("  %-13s", "Environments");
	for (i = 0; i < json_object_array_length(envs); i++)
		printf(" %s", json_object_get_string(json_object_array_get_idx(envs, i)));
	printf("%s\n", json_object_array_length(envs) ? "" : " none");
	printf("  %-13s %s\n", "Policy",
	       json_object_to_json_string_ext(json_object_object_get(f, "Policy"),
					      JSON_C_TO_STRING_PLAIN |
						  JSON_C_TO_STRING_NOSLASHESCAPE));
}

static int fn_show(struct hctl *h, int argc, char **argv)
{
	struct json_object *f;
	char path[160];

	if (argc != 1)
		return hctl_err("fn show wants one function name");
	if (!valid_name(argv[0]))
		return hctl_err("'%s' is not a function name (1-64 of A-Z a-z 0-9 _ -)", argv[0]);
	snprintf(path, sizeof(path), FN_API "/%s/configuration", argv[0]);
	if (hctl_need_root() || hctl_api_get(h, path, &f))
		return 1;
	json_object_object_add(f, "Environments", envs_of(h, argv[0]));
	if (h->json)
		return hctl_print_json(h, f);
	print_fn(f);
	json_object_put(f);
	return 0;
}

static const struct hctl_cmd cmds[] = {
    {"list", fn_list, "list"},
    {"show", fn_show, "show NAME"},
    {NULL, NULL, NULL},
};

int hctl_fn(struct hctl *h, int argc, char **argv)
{
	return hctl_dispatch(h, "fn", cmds, argc, argv);
}
