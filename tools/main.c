// SPDX-License-Identifier: GPL-2.0
/*
 * huskctl's entry: options, the object table, and the prefix matching that
 * objects and commands share (see huskctl.h).
 */
#include <getopt.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "huskctl.h"

#ifndef HUSK_VERSION
#define HUSK_VERSION "0"
#endif

struct hctl_object {
	const char *name;
	int (*fn)(struct hctl *h, int argc, char **argv);
	const char *what;
};

static const struct hctl_object objects[] = {
    {"prog", hctl_prog, "husk's BPF programs (pinned)"},
    {"map", hctl_map, "husk's BPF maps, decoded through BTF"},
    {"link", hctl_link, "husk's BPF links"},
    {"cgroup", hctl_cgroup, "environment cgroups and the programs attached"},
    {"env", hctl_env, "execution environments (huskd)"},
    {"fn", hctl_fn, "functions (huskd)"},
    {"policy", hctl_policy, "effective policies, read back from the maps"},
    {"events", hctl_events, "the telemetry stream (huskd)"},
    {"invocation", hctl_invocation, "one invocation's report (huskd)"},
    {"feature", hctl_feature, "what this host supports and what husk uses"},
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

int hctl_err(const char *fmt, ...)
{
	va_list ap;

	fputs("huskctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int hctl_print_json(const struct hctl *h, struct json_object *obj)
{
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE |
		    (h->pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
			       : JSON_C_TO_STRING_PLAIN);

	if (!obj)
		return hctl_err("out of memory");
	puts(json_object_to_json_string_ext(obj, flags));
	json_object_put(obj);
	return 0;
}

int hctl_print_array(const struct hctl *h, struct json_object *arr,
		    void (*text)(const struct json_object *elem))
{
	size_t i;

	if (h->json)
		return hctl_print_json(h, arr);
	for (i = 0; i < json_object_array_length(arr); i++)
		text(json_object_array_get_idx(arr, i));
	json_object_put(arr);
	return 0;
}

int hctl_need_root(void)
{
	if (geteuid() == 0)
		return 0;
	return hctl_err("must run as root (husk's BPF objects and huskd's socket are root's)");
}

/*
 * The entry word names: an exact match, else the first entry it is a prefix
 * of, in table order, as bpftool does (so "p" is prog, the first of prog
 * and policy).
 */
static int lookup(const char *word, const char *const *names, size_t n, const char *what)
{
	size_t i, len = strlen(word);

	for (i = 0; i < n; i++)
		if (!strcmp(word, names[i]))
			return (int)i;
	for (i = 0; len && i < n; i++)
		if (!strncmp(word, names[i], len))
			return (int)i;
	hctl_err("unknown %s '%s' (see huskctl help)", what, word);
	return -1;
}

static void object_usage(const char *object, const struct hctl_cmd *cmds)
{
	size_t i;

	for (i = 0; cmds[i].name; i++)
		printf("%s huskctl %s %s\n", i ? "      " : "Usage:", object, cmds[i].usage);
	printf("       huskctl %s help\n", object);
}

int hctl_dispatch(struct hctl *h, const char *object, const struct hctl_cmd *cmds, int argc,
		  char **argv)
{
	const char *names[32];
	size_t n;
	int i;

	for (n = 0; cmds[n].name && n < ARRAY_SIZE(names); n++)
		names[n] = cmds[n].name;
	if (argc < 1 || !strcmp(argv[0], "help")) {
		object_usage(object, cmds);
		return 0;
	}
	i = lookup(argv[0], names, n, "command");
	if (i < 0)
		return 1;
	return cmds[i].fn(h, argc - 1, argv + 1);
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: huskctl [OPTIONS] OBJECT {COMMAND | help}\n"
		   "       huskctl help\n"
		   "OBJECT:\n");
	for (i = 0; i < ARRAY_SIZE(objects); i++)
		fprintf(f, "  %-11s %s\n", objects[i].name, objects[i].what);
	fprintf(f, "OPTIONS:\n"
		   "  -j, --json        JSON output\n"
		   "  -p, --pretty      indented JSON output (implies -j)\n"
		   "  -s, --socket PATH huskd's Unix socket (default " HUSKCTL_SOCKET_DEFAULT ")\n"
		   "  -d, --bpf-dir DIR huskd's bpffs pins (default " HUSKCTL_BPF_DIR_DEFAULT ")\n"
		   "  -h, --help        this text\n"
		   "  -V, --version     the version\n");
}

static const struct option options[] = {
    {"json", no_argument, NULL, 'j'},
    {"pretty", no_argument, NULL, 'p'},
    {"socket", required_argument, NULL, 's'},
    {"bpf-dir", required_argument, NULL, 'd'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

int main(int argc, char **argv)
{
	struct hctl h = {.socket = HUSKCTL_SOCKET_DEFAULT, .bpf_dir = HUSKCTL_BPF_DIR_DEFAULT};
	const char *names[ARRAY_SIZE(objects)];
	size_t i;
	int opt, o;

	/* "+": options end at the object, as bpftool's do. */
	while ((opt = getopt_long(argc, argv, "+jps:d:hV", options, NULL)) != -1) {
		switch (opt) {
		case 'j':
			h.json = true;
			break;
		case 'p':
			h.json = h.pretty = true;
			break;
		case 's':
			h.socket = optarg;
			break;
		case 'd':
			h.bpf_dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("huskctl %s\n", HUSK_VERSION);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind >= argc || !strcmp(argv[optind], "help")) {
		usage(optind >= argc ? stderr : stdout);
		return optind >= argc;
	}
	for (i = 0; i < ARRAY_SIZE(objects); i++)
		names[i] = objects[i].name;
	o = lookup(argv[optind], names, ARRAY_SIZE(objects), "object");
	if (o < 0)
		return 1;
	return objects[o].fn(&h, argc - optind - 1, argv + optind + 1);
}
