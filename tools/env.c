// SPDX-License-Identifier: GPL-2.0
/* huskctl env {list | show ID}: execution environments, from huskd. */
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "huskctl.h"

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return "-";
	return json_object_get_string(v);
}

static int64_t num(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && v ? json_object_get_int64(v) : -1;
}

static void print_row(struct json_object *e)
{
	printf("%-10s %-20s %-7s %8.1f %6" PRId64 " %10" PRId64 "  %s\n", str(e, "Name"),
	       str(e, "Function"), str(e, "State"),
	       json_object_get_double(json_object_object_get(e, "AgeSeconds")),
	       num(e, "Invocations"), num(e, "CgroupId"), str(e, "CgroupPath"));
}

static int env_list(struct hctl *h, int argc, char **argv)
{
	struct json_object *doc, *list;
	size_t i, n;

	if (argc)
		return hctl_err("env list takes no arguments");
	if (hctl_need_root() || hctl_api_get(h, "/husk/v1/envs", &doc))
		return 1;
	if (h->json) {
		list = json_object_get(json_object_object_get(doc, "Environments"));
		json_object_put(doc);
		return hctl_print_json(h, list);
	}
	list = json_object_object_get(doc, "Environments");
	n = json_object_array_length(list);
	printf("%-10s %-20s %-7s %8s %6s %10s  %s\n", "ENV", "FUNCTION", "STATE", "AGE(s)", "INVOC",
	       "CGROUP ID", "CGROUP");
	for (i = 0; i < n; i++)
		print_row(json_object_array_get_idx(list, i));
	json_object_put(doc);
	return 0;
}

static void print_mib(const char *what, int64_t bytes)
{
	if (bytes >= 0)
		printf("  %-13s %.1f MiB\n", what, bytes / 1048576.0);
}

static void print_env(struct json_object *e)
{
	struct json_object *eg = json_object_object_get(e, "Egress");

	printf("%s: function %s, revision %s\n", str(e, "Name"), str(e, "Function"),
	       str(e, "RevisionId"));
	printf("  %-13s %s\n", "state", str(e, "State"));
	printf("  %-13s %.1f s\n", "age",
	       json_object_get_double(json_object_object_get(e, "AgeSeconds")));
	printf("  %-13s %" PRId64 "\n", "invocations", num(e, "Invocations"));
	printf("  %-13s %s (id %" PRId64 ")\n", "cgroup", str(e, "CgroupPath"), num(e, "CgroupId"));
	print_mib("memory", num(e, "MemoryBytes"));
	print_mib("memory peak", num(e, "MemoryPeakBytes"));
	printf("  %-13s %" PRId64 "\n", "pids", num(e, "Pids"));
	printf("  %-13s %" PRId64 " (husk-init, host pid)\n", "pid", num(e, "Pid"));
	if (eg)
		printf("  %-13s %s via %s\n", "egress", str(eg, "Address"),
		       str(eg, "HostInterface"));
	else
		printf("  %-13s none (loopback only)\n", "egress");
	printf("  %-13s %s\n", "policy", str(e, "Policy"));
}

static int env_show(struct hctl *h, int argc, char **argv)
{
	struct json_object *e;
	char path[128];

	if (argc != 1)
		return hctl_err("env show wants one environment id (N or env-N)");
	if (strchr(argv[0], '/') || strlen(argv[0]) > 64)
		return hctl_err("'%s' is not an environment id (N or env-N)", argv[0]);
	snprintf(path, sizeof(path), "/husk/v1/envs/%s", argv[0]);
	if (hctl_need_root() || hctl_api_get(h, path, &e))
		return 1;
	if (h->json)
		return hctl_print_json(h, e);
	print_env(e);
	json_object_put(e);
	return 0;
}

static const struct hctl_cmd cmds[] = {
    {"list", env_list, "list"},
    {"show", env_show, "show ID"},
    {NULL, NULL, NULL},
};

int hctl_env(struct hctl *h, int argc, char **argv)
{
	return hctl_dispatch(h, "env", cmds, argc, argv);
}
