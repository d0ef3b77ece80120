// SPDX-License-Identifier: GPL-2.0
/*
 * huskctl policy show ENV|FN: an environment's policy as the kernel
 * enforces it, read back from husk's maps (husk_envs, husk_net4/6,
 * husk_fs), not from the configuration: what a function's environments are
 * held to right now. Only what the maps cannot tell (the Landlock ruleset
 * husk-init applied inside the environment) comes from the configuration,
 * and says so.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "huskctl.h"
#include "tools/hctl_bpf.h"

#define LANDLOCK_NOTE                                                                              \
	"enforced by Landlock in the environment; the ruleset cannot be read back: the "           \
	"function's configured Files"

static struct json_object *get(const struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	if (o)
		json_object_object_get_ex(o, k, &v);
	return v;
}

static const char *gets_or(const struct json_object *o, const char *k, const char *dflt)
{
	struct json_object *v = get(o, k);

	return v ? json_object_get_string(v) : dflt;
}

static struct json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* ---- what huskd says ---- */

struct ctx {
	const struct hctl *h;
	struct json_object *envs;     /* huskd's Environments */
	struct json_object *features; /* huskd's features, NULL if unavailable */
	struct hctl_cgroups *cg;
};

static struct json_object *engine(const struct ctx *c, const char *part)
{
	return json_object_get(get(get(c->features, "Engines"), part));
}

/* N of "env-N" or "N", or -1. */
static long env_number(const char *arg)
{
	const char *p = !strncmp(arg, "env-", 4) ? arg + 4 : arg;
	char *end;
	long n;

	if (!isdigit((unsigned char)*p))
		return -1;
	errno = 0;
	n = strtol(p, &end, 10);
	return *end || errno ? -1 : n;
}

static struct json_object *find_env(const struct ctx *c, long id)
{
	size_t i;

	for (i = 0; i < json_object_array_length(c->envs); i++) {
		struct json_object *e = json_object_array_get_idx(c->envs, i);

		if (json_object_get_int64(get(e, "Id")) == id)
			return e;
	}
	return NULL;
}

/* The function's configured Policy (a new reference), or NULL after printing why. */
static struct json_object *configured_policy(const struct ctx *c, const char *fn)
{
	struct json_object *conf = NULL, *policy;
	char path[512];

	snprintf(path, sizeof(path), "/2015-03-31/functions/%s/configuration", fn);
	if (hctl_api_get(c->h, path, &conf))
		return NULL;
	policy = json_object_get(get(conf, "Policy"));
	json_object_put(conf);
	if (!policy)
		hctl_err("%s: the configuration has no Policy", fn);
	return policy;
}

/* ---- what the maps say ---- */

static int read_env_info(const struct ctx *c, uint64_t cgid, struct husk_env_info *info)
{
	int fd = hctl_pinned_map(c->h, "husk_envs");
	int rc = 0;

	if (fd < 0)
		return 1;
	if (bpf_map_lookup_elem(fd, &cgid, info))
		rc = errno == ENOENT ? -ENOENT
				     : hctl_err("cannot read husk_envs: %s", strerror(errno));
	close(fd);
	return rc;
}

/* Every LPM entry of map name whose cgroup id words are cgid's. */
static int net_entries(const struct ctx *c, const char *name, int family, uint64_t cgid,
		       struct json_object *out)
{
	union {
		struct husk_net4_key k4;
		struct husk_net6_key k6;
	} key, next;
	struct husk_net_rules val;
	void *prev = NULL;
	int fd = hctl_pinned_map(c->h, name), rc = 0;

	if (fd < 0)
		return 1;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (hctl_net_key_cgid(&key) != cgid)
			continue;
		if (bpf_map_lookup_elem(fd, &key, &val))
			continue; /* removed meanwhile */
		json_object_array_add(out, hctl_net_entry(family, &key, &val));
	}
	if (errno != ENOENT)
		rc = hctl_err("cannot iterate %s: %s", name, strerror(errno));
	close(fd);
	return rc;
}

static struct json_object *network(const struct ctx *c, uint64_t cgid)
{
	struct json_object *o = json_object_new_object(), *egress = json_object_new_array();
	struct json_object *sockets = json_object_new_array();

	if (net_entries(c, "husk_net4", AF_INET, cgid, egress) ||
	    net_entries(c, "husk_net6", AF_INET6, cgid, egress)) {
		json_object_put(o);
		json_object_put(egress);
		json_object_put(sockets);
		return NULL;
	}
	json_object_object_add(o, "engine", engine(c, "Network"));
	json_object_object_add(o, "egress", egress);
	json_object_object_add(o, "egress_path", engine(c, "Egress"));
	json_object_object_add(o, "loopback", json_object_new_string("always allowed"));
	json_object_object_add(o, "bind", json_object_new_string("loopback addresses only"));
	json_object_array_add(sockets, json_object_new_string("tcp"));
	json_object_array_add(sockets, json_object_new_string("udp"));
	json_object_array_add(sockets, json_object_new_string("unix"));
	json_object_object_add(o, "sockets", sockets);
	json_object_object_add(o, "sockets_engine", engine(c, "Sockets"));
	return o;
}

static void copy_lists(struct json_object *to, const struct json_object *from,
		       const char *const names[3][2])
{
	int i;

	for (i = 0; i < 3; i++) {
		struct json_object *v = get(from, names[i][1]);

		json_object_object_add(to, names[i][0],
				       v ? json_object_get(v) : json_object_new_array());
	}
}

/* husk_fs[cgid] as lists, or NULL after printing why. */
static struct json_object *fs_from_map(const struct ctx *c, uint64_t cgid)
{
	struct husk_fs_policy *fp = calloc(1, sizeof(*fp));
	struct json_object *lists = NULL;
	int fd = fp ? hctl_pinned_map(c->h, "husk_fs") : -1;

	if (!fp) {
		hctl_err("out of memory");
		return NULL;
	}
	if (fd >= 0 && bpf_map_lookup_elem(fd, &cgid, fp))
		hctl_err("cannot read husk_fs of cgroup %llu: %s", (unsigned long long)cgid,
			 strerror(errno));
	else if (fd >= 0)
		lists = hctl_fs_lists(fp);
	if (fd >= 0)
		close(fd);
	free(fp);
	return lists;
}

/* From husk_fs when BPF LSM enforces; else the configuration, marked as such. */
static struct json_object *files(const struct ctx *c, uint64_t cgid,
				 const struct husk_env_info *info, const struct json_object *conf)
{
	static const char *const from_fs[3][2] = {
	    {"read", "read"}, {"write", "write"}, {"exec", "exec"}};
	static const char *const from_conf[3][2] = {
	    {"read", "Read"}, {"write", "Write"}, {"exec", "Exec"}};
	struct json_object *o = json_object_new_object(), *lists;

	json_object_object_add(o, "engine", engine(c, "Files"));
	if (info->flags & HUSK_ENV_F_LSM_FILES) {
		lists = fs_from_map(c, cgid);
		if (!lists) {
			json_object_put(o);
			return NULL;
		}
		json_object_object_add(o, "source", json_object_new_string("husk_fs"));
		json_object_object_add(o, "note", NULL);
		copy_lists(o, lists, from_fs);
		json_object_put(lists);
		return o;
	}
	json_object_object_add(o, "source", json_object_new_string("configuration"));
	json_object_object_add(
	    o, "note",
	    json_object_new_string(conf ? LANDLOCK_NOTE
					: "spare environment: no function, no runtime, "
					  "no Landlock ruleset yet"));
	copy_lists(o, get(conf, "Files"), from_conf);
	return o;
}

static struct json_object *syscalls(const struct ctx *c, const struct husk_env_info *info)
{
	struct json_object *o = json_object_new_object();
	const char *name = strerrorname_np((int)info->sys_errno);

	json_object_object_add(o, "engine", engine(c, "Syscalls"));
	json_object_object_add(o, "errno", json_object_new_int64(info->sys_errno));
	json_object_object_add(o, "errno_name", jstr(name));
	json_object_object_add(o, "denied", hctl_syscall_names(info->sys_denied));
	return o;
}

/* One environment's policy as enforced, or NULL after printing why. */
static struct json_object *env_policy(const struct ctx *c, const struct json_object *env)
{
	uint64_t cgid = (uint64_t)json_object_get_int64(get(env, "CgroupId"));
	const char *fn = gets_or(env, "Function", NULL), *path;
	struct json_object *o, *net, *fs, *conf = NULL;
	struct husk_env_info info;
	int rc = read_env_info(c, cgid, &info);

	if (rc == -ENOENT) {
		hctl_err("%s (cgroup id %llu) has no entry in husk_envs: husk's maps do not "
			 "confine it",
			 gets_or(env, "Name", "?"), (unsigned long long)cgid);
		return NULL;
	}
	if (rc)
		return NULL;
	/* Under Landlock the Files part can only come from the configuration. */
	if (fn && !(info.flags & HUSK_ENV_F_LSM_FILES)) {
		conf = configured_policy(c, fn);
		if (!conf)
			return NULL;
	}
	net = network(c, cgid);
	fs = net ? files(c, cgid, &info, conf) : NULL;
	json_object_put(conf);
	if (!net || !fs) {
		json_object_put(net);
		return NULL;
	}
	o = json_object_new_object();
	path = hctl_cgroup_path(c->cg, cgid);
	json_object_object_add(o, "env", jstr(gets_or(env, "Name", NULL)));
	json_object_object_add(o, "id", json_object_get(get(env, "Id")));
	json_object_object_add(o, "function", jstr(fn));
	json_object_object_add(o, "cgroup_id", json_object_new_uint64(cgid));
	json_object_object_add(o, "cgroup", jstr(path));
	json_object_object_add(o, "slot", json_object_new_int64(info.slot));
	json_object_object_add(o, "source", json_object_new_string("maps"));
	json_object_object_add(o, "network", net);
	json_object_object_add(o, "files", fs);
	json_object_object_add(o, "syscalls", syscalls(c, &info));
	return o;
}

/* ---- text ---- */

static const char *eng_text(const struct json_object *part, char *buf, size_t len)
{
	const char *e = gets_or(part, "engine", NULL);

	snprintf(buf, len, "%s", e ? e : "engine unknown");
	return buf;
}

static void list_line(const char *label, const struct json_object *arr)
{
	printf("  %-7s ", label);
	hctl_print_list(arr);
	printf("\n");
}

static void env_text(const struct json_object *o)
{
	struct json_object *net = get(o, "network"), *fs = get(o, "files");
	struct json_object *sys = get(o, "syscalls"), *egress = get(net, "egress");
	char eng[256], rules[1024];
	size_t i;

	printf("%s (function %s, cgroup id %s, slot %s): read back from husk's maps\n",
	       gets_or(o, "env", "?"), gets_or(o, "function", "none: spare"),
	       gets_or(o, "cgroup_id", "?"), gets_or(o, "slot", "?"));
	printf("Network (%s)\n", eng_text(net, eng, sizeof(eng)));
	printf("  egress allow-list%s\n", json_object_array_length(egress) ? ":" : ": none");
	for (i = 0; i < json_object_array_length(egress); i++) {
		struct json_object *e = json_object_array_get_idx(egress, i);

		hctl_net_rules_text(get(e, "rules"), rules, sizeof(rules));
		printf("    %-24s %s\n", gets_or(e, "cidr", "?"), rules);
	}
	printf("  loopback: %s\n", gets_or(net, "loopback", ""));
	printf("  bind:     %s\n", gets_or(net, "bind", ""));
	printf("  sockets:  ");
	hctl_print_list(get(net, "sockets"));
	printf("\n");
	printf("Files (%s)\n", eng_text(fs, eng, sizeof(eng)));
	if (get(fs, "note"))
		printf("  %s\n", gets_or(fs, "note", ""));
	list_line("read", get(fs, "read"));
	list_line("write", get(fs, "write"));
	list_line("exec", get(fs, "exec"));
	printf("Syscalls (%s)\n", eng_text(sys, eng, sizeof(eng)));
	printf("  denied with errno %s (%s): ", gets_or(sys, "errno", "?"),
	       gets_or(sys, "errno_name", "?"));
	hctl_print_list(get(sys, "denied"));
	printf("\n");
}

static void configured_text(const char *fn, const struct json_object *p)
{
	struct json_object *net = get(p, "Network"), *fs = get(p, "Files"),
			   *sys = get(p, "Syscalls");
	struct json_object *egress = get(net, "Egress");
	size_t i;

	printf("no environment of %s is running: nothing is loaded\n", fn);
	printf("Configured policy of %s (configured, not enforced)\n", fn);
	printf("Network\n  egress allow-list%s\n",
	       json_object_array_length(egress) ? ":" : ": none");
	for (i = 0; i < json_object_array_length(egress); i++) {
		struct json_object *r = json_object_array_get_idx(egress, i);

		printf("    %-24s %s %s (rule %zu)\n", gets_or(r, "Cidr", "?"),
		       gets_or(r, "Protocol", "any"), gets_or(r, "Ports", "1-65535"), i);
	}
	printf("  dns: %s  allow host: %s\n", gets_or(net, "Dns", "false"),
	       gets_or(net, "AllowHost", "false"));
	printf("Files\n");
	list_line("read", get(fs, "Read"));
	list_line("write", get(fs, "Write"));
	list_line("exec", get(fs, "Exec"));
	printf("Syscalls\n  mode %s, action %s, errno %s: ", gets_or(sys, "Mode", "?"),
	       gets_or(sys, "Action", "?"), gets_or(sys, "Errno", "?"));
	hctl_print_list(get(sys, "Names"));
	printf("\n");
}

/* ---- the command ---- */

static int show_env(struct ctx *c, const struct json_object *env)
{
	struct json_object *o = env_policy(c, env);

	if (!o)
		return 1;
	if (c->h->json)
		return hctl_print_json(c->h, o);
	env_text(o);
	json_object_put(o);
	return 0;
}

static int show_unloaded_fn(struct ctx *c, const char *fn)
{
	struct json_object *p = configured_policy(c, fn), *o;

	if (!p)
		return 1;
	if (!c->h->json) {
		configured_text(fn, p);
		json_object_put(p);
		return 0;
	}
	o = json_object_new_object();
	json_object_object_add(o, "function", json_object_new_string(fn));
	json_object_object_add(o, "enforced", json_object_new_boolean(false));
	json_object_object_add(o, "note",
			       json_object_new_string("no environment of the function is running: "
						      "nothing is loaded"));
	json_object_object_add(o, "environments", json_object_new_array());
	json_object_object_add(o, "configured", p);
	return hctl_print_json(c->h, o);
}

static int show_fn(struct ctx *c, const char *fn)
{
	struct json_object *arr = json_object_new_array(), *o;
	size_t i;

	for (i = 0; i < json_object_array_length(c->envs); i++) {
		struct json_object *e = json_object_array_get_idx(c->envs, i);
		const char *f = gets_or(e, "Function", NULL);

		if (!f || strcmp(f, fn))
			continue;
		o = env_policy(c, e);
		if (!o) {
			json_object_put(arr);
			return 1;
		}
		json_object_array_add(arr, o);
	}
	if (!json_object_array_length(arr)) {
		json_object_put(arr);
		return show_unloaded_fn(c, fn);
	}
	if (!c->h->json) {
		for (i = 0; i < json_object_array_length(arr); i++) {
			printf("%s", i ? "\n" : "");
			env_text(json_object_array_get_idx(arr, i));
		}
		json_object_put(arr);
		return 0;
	}
	o = json_object_new_object();
	json_object_object_add(o, "function", json_object_new_string(fn));
	json_object_object_add(o, "enforced", json_object_new_boolean(true));
	json_object_object_add(o, "note", NULL);
	json_object_object_add(o, "environments", arr);
	json_object_object_add(o, "configured", NULL);
	return hctl_print_json(c->h, o);
}

/* What Lambda allows in a function name or ARN; it becomes part of an API path. */
static bool valid_fn_name(const char *name)
{
	static const char allowed[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				      "0123456789-_:";

	return *name && strlen(name) <= 170 && name[strspn(name, allowed)] == '\0';
}

static int policy_show(struct hctl *h, int argc, char **argv)
{
	struct json_object *doc = NULL, *env;
	struct ctx c = {.h = h};
	long id;
	int rc;

	if (argc != 1)
		return hctl_err("usage: huskctl policy show ENV|FUNCTION");
	if (hctl_pins_check(h) || hctl_api_get(h, "/husk/v1/envs", &doc))
		return 1;
	c.envs = get(doc, "Environments");
	if (!json_object_is_type(c.envs, json_type_array)) {
		json_object_put(doc);
		return hctl_err("/husk/v1/envs: huskd's answer has no Environments list");
	}
	if (hctl_api_get(h, "/husk/v1/features", &c.features))
		c.features = NULL;
	c.cg = hctl_cgroups_new();
	id = env_number(argv[0]);
	env = id >= 0 ? find_env(&c, id) : NULL;
	if (env)
		rc = show_env(&c, env);
	else if (!strncmp(argv[0], "env-", 4))
		rc = hctl_err("unknown environment %s (huskctl env list lists them)", argv[0]);
	else if (!valid_fn_name(argv[0]))
		rc = hctl_err("bad function name '%s': letters, digits, '-', '_' and ':' only",
			      argv[0]);
	else
		rc = show_fn(&c, argv[0]);
	hctl_cgroups_free(c.cg);
	json_object_put(c.features);
	json_object_put(doc);
	return rc;
}

static const struct hctl_cmd policy_cmds[] = {
    {"show", policy_show, "show ENV|FUNCTION   (ENV: env-3 or 3)"},
    {NULL, NULL, NULL},
};

int hctl_policy(struct hctl *h, int argc, char **argv)
{
	return hctl_dispatch(h, "policy", policy_cmds, argc, argv);
}
