// SPDX-License-Identifier: GPL-2.0
/*
 * huskctl events [--follow] [--env ID] [--fn NAME] [--type TYPE]: huskd's
 * recent telemetry records, or the live stream; one line an event, JSON
 * lines with -j. Filters apply on this side.
 */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "huskctl.h"

struct filter {
	const struct hctl *h;
	const char *env; /* "env-3" */
	const char *fn;
	const char *type;
	unsigned long shown;
};

static const char *const types[] = {"denial", "exec", "fork", "exit", "oom"};

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return "-";
	return json_object_get_string(v);
}

static bool wanted(const struct filter *f, struct json_object *ev)
{
	if (f->env && strcmp(str(ev, "Environment"), f->env))
		return false;
	if (f->fn && strcmp(str(ev, "Function"), f->fn))
		return false;
	return !f->type || !strcmp(str(ev, "Type"), f->type);
}

/* The type's own fields, as text. */
static void print_detail(struct json_object *ev)
{
	const char *type = str(ev, "Type");

	if (!strcmp(type, "denial"))
		printf(" %s", str(ev, "Denial"));
	else if (!strcmp(type, "exec"))
		printf(" %s (%s)", str(ev, "Filename"), str(ev, "Comm"));
	else if (!strcmp(type, "fork"))
		printf(" child %s", str(ev, "ChildPid"));
	else if (!strcmp(type, "exit"))
		printf(" status %s", str(ev, "ExitCode"));
}

static void show(struct filter *f, struct json_object *ev)
{
	if (!wanted(f, ev))
		return;
	f->shown++;
	if (f->h->json) {
		puts(json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN |
							    JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		printf("%.6f %-6s %-8s %-20s pid %-7s",
		       json_object_get_int64(json_object_object_get(ev, "Time")) / 1e9,
		       str(ev, "Type"), str(ev, "Environment"), str(ev, "Function"),
		       str(ev, "Pid"));
		print_detail(ev);
		putchar('\n');
	}
	fflush(stdout);
}

static int on_line(const char *s, size_t len, void *arg)
{
	struct json_object *ev;
	struct json_tokener *tok = json_tokener_new();

	if (!tok)
		return 1;
	ev = json_tokener_parse_ex(tok, s, (int)len);
	json_tokener_free(tok);
	if (ev)
		show(arg, ev);
	json_object_put(ev);
	return 0;
}

static int recent(struct filter *f)
{
	struct json_object *doc, *list;
	size_t i;

	if (hctl_api_get(f->h, "/husk/v1/events", &doc))
		return 1;
	list = json_object_object_get(doc, "Events");
	if (f->h->json && !f->h->pretty) {
		for (i = 0; i < json_object_array_length(list); i++)
			show(f, json_object_array_get_idx(list, i));
	} else if (f->h->json) {
		struct json_object *out = json_object_new_array();

		for (i = 0; i < json_object_array_length(list); i++) {
			struct json_object *ev = json_object_array_get_idx(list, i);

			if (wanted(f, ev))
				json_object_array_add(out, json_object_get(ev));
		}
		json_object_put(doc);
		return hctl_print_json(f->h, out);
	} else {
		for (i = 0; i < json_object_array_length(list); i++)
			show(f, json_object_array_get_idx(list, i));
	}
	json_object_put(doc);
	return 0;
}

static int check_type(const char *t)
{
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(t, types[i]))
			return 0;
	return hctl_err("--type wants denial, exec, fork, exit or oom, not '%s'", t);
}

static const struct option options[] = {
    {"follow", no_argument, NULL, 'f'},
    {"env", required_argument, NULL, 'e'},
    {"fn", required_argument, NULL, 'F'},
    {"type", required_argument, NULL, 't'},
    {NULL, 0, NULL, 0},
};

int hctl_events(struct hctl *h, int argc, char **argv)
{
	struct filter f = {.h = h};
	char env[80];
	bool follow = false;
	int opt;

	if (argc && !strcmp(argv[0], "help")) {
		printf("Usage: huskctl events [--follow] [--env ID] [--fn NAME] [--type "
		       "denial|exec|fork|exit|oom]\n");
		return 0;
	}
	optind = 0; /* argv[0] is the first argument here: rescan from it */
	while ((opt = getopt_long(argc + 1, argv - 1, "", options, NULL)) != -1) {
		switch (opt) {
		case 'f':
			follow = true;
			break;
		case 'e':
			snprintf(env, sizeof(env), "%s%s", strncmp(optarg, "env-", 4) ? "env-" : "",
				 optarg);
			f.env = env;
			break;
		case 'F':
			f.fn = optarg;
			break;
		case 't':
			if (check_type(optarg))
				return 1;
			f.type = optarg;
			break;
		default:
			return hctl_err("see huskctl events help");
		}
	}
	if (optind < argc + 1)
		return hctl_err("unexpected argument '%s' (see huskctl events help)",
				argv[optind - 1]);
	if (hctl_need_root())
		return 1;
	if (!follow)
		return recent(&f);
	return hctl_api_stream(h, "/husk/v1/events?follow=1", on_line, &f);
}
