// SPDX-License-Identifier: GPL-2.0
/* huskctl invocation show REQUEST_ID: one invocation's report, telemetry included. */
#include <ctype.h>
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

static void print_telemetry(struct json_object *t)
{
	struct json_object *top = json_object_object_get(t, "TopSyscalls");
	struct json_object *den = json_object_object_get(t, "FirstDenials");
	size_t i;

	printf("  %-14s %s", "syscalls", str(t, "Syscalls"));
	for (i = 0; i < json_object_array_length(top); i++) {
		struct json_object *e = json_object_array_get_idx(top, i);

		printf("%s%s %s", i ? ", " : " (", str(e, "Name"), str(e, "Count"));
	}
	printf("%s\n", json_object_array_length(top) ? ")" : "");
	printf("  %-14s %s\n", "denials", str(t, "Denials"));
	for (i = 0; i < json_object_array_length(den); i++)
		printf("  %-14s %s\n", "",
		       json_object_get_string(json_object_array_get_idx(den, i)));
	printf("  %-14s %s in, %s out\n", "bytes", str(t, "BytesIn"), str(t, "BytesOut"));
	printf("  %-14s %s (%s exec)\n", "processes", str(t, "Processes"), str(t, "Execs"));
	printf("  %-14s %s\n", "file opens", str(t, "FileOpens"));
	printf("  %-14s %s\n", "lost events", str(t, "LostEvents"));
}

static void print_invocation(struct json_object *o)
{
	struct json_object *t = json_object_object_get(o, "Telemetry");

	printf("%s: function %s in %s (%s start)\n", str(o, "RequestId"), str(o, "Function"),
	       str(o, "Environment"),
	       json_object_get_boolean(json_object_object_get(o, "ColdStart")) ? "cold" : "warm");
	printf("  %-14s %.2f ms (billed %s ms)\n", "duration",
	       json_object_get_double(json_object_object_get(o, "DurationMs")),
	       str(o, "BilledDurationMs"));
	if (json_object_get_boolean(json_object_object_get(o, "ColdStart")))
		printf("  %-14s %.2f ms\n", "init duration",
		       json_object_get_double(json_object_object_get(o, "InitDurationMs")));
	printf("  %-14s %s MB, max used %.1f MiB\n", "memory", str(o, "MemorySizeMB"),
	       json_object_get_int64(json_object_object_get(o, "MaxMemoryUsedBytes")) / 1048576.0);
	printf("  %-14s %.0f us\n", "freeze",
	       json_object_get_double(json_object_object_get(o, "FreezeDurationUs")));
	if (t)
		print_telemetry(t);
	printf("  %s\n", str(o, "Report"));
}

/* Request ids are UUIDs: hex and dashes. */
static bool valid_id(const char *s)
{
	size_t n = strlen(s), i;

	if (!n || n > 64)
		return false;
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) && s[i] != '-')
			return false;
	return true;
}

static int invocation_show(struct hctl *h, int argc, char **argv)
{
	struct json_object *o;
	char path[128];

	if (argc != 1)
		return hctl_err("invocation show wants one request id");
	if (!valid_id(argv[0]))
		return hctl_err("'%s' is not a request id", argv[0]);
	snprintf(path, sizeof(path), "/husk/v1/invocations/%s", argv[0]);
	if (hctl_need_root() || hctl_api_get(h, path, &o))
		return 1;
	if (h->json)
		return hctl_print_json(h, o);
	print_invocation(o);
	json_object_put(o);
	return 0;
}

static const struct hctl_cmd cmds[] = {
    {"show", invocation_show, "show REQUEST_ID"},
    {NULL, NULL, NULL},
};

int hctl_invocation(struct hctl *h, int argc, char **argv)
{
	return hctl_dispatch(h, "invocation", cmds, argc, argv);
}
