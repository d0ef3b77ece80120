// SPDX-License-Identifier: GPL-2.0
/*
 * huskctl prog: the programs huskd pinned (progs/, lsm/progs/), with where
 * their links attach them and, when the kernel counts them, how often they
 * ran and for how long.
 */
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "huskctl.h"
#include "tools/hctl_bpf.h"

#define STATS_SYSCTL "/proc/sys/kernel/bpf_stats_enabled"
#define STATS_OFF "run stats off (sysctl kernel.bpf_stats_enabled=1)"

/* run_cnt and run_time_ns count only while the sysctl is on. */
static bool stats_enabled(void)
{
	FILE *f = fopen(STATS_SYSCTL, "r");
	int v = 0;

	if (!f)
		return false;
	if (fscanf(f, "%d", &v) != 1)
		v = 0;
	fclose(f);
	return v == 1;
}

/*
 * The kernel keeps 15 bytes of a program's name; its BTF has all of it
 * (the function of its first func_info record), as bpftool shows.
 */
const char *hctl_prog_name(int fd, char *buf, size_t len)
{
	struct bpf_func_info finfo = {0};
	struct bpf_prog_info info;
	__u32 ilen = sizeof(info);
	const struct btf_type *t;
	struct btf *btf;

	memset(&info, 0, sizeof(info));
	snprintf(buf, len, "?");
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		return buf;
	snprintf(buf, len, "%s", info.name);
	if (!info.btf_id || !info.nr_func_info)
		return buf;
	memset(&info, 0, sizeof(info));
	ilen = sizeof(info);
	info.nr_func_info = 1;
	info.func_info_rec_size = sizeof(finfo);
	info.func_info = (__u64)(unsigned long)&finfo;
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		return buf;
	btf = btf__load_from_kernel_by_id(info.btf_id);
	if (!btf)
		return buf;
	t = btf__type_by_id(btf, finfo.type_id);
	if (t && btf_is_func(t))
		snprintf(buf, len, "%s", btf__name_by_offset(btf, t->name_off));
	btf__free(btf);
	return buf;
}

struct prog_ctx {
	struct hctl_link *links;
	size_t n_links;
	struct hctl_cgroups *cg;
	bool stats;
};

/* Where the program's link attaches it; null when no pinned link runs it. */
static struct json_object *prog_attach(const struct prog_ctx *c, uint32_t id)
{
	struct json_object *t;
	size_t i;

	for (i = 0; i < c->n_links; i++) {
		if (c->links[i].prog_id != id)
			continue;
		t = hctl_link_target(&c->links[i], c->cg);
		json_object_object_add(t, "link_id", json_object_new_int64(c->links[i].id));
		return t;
	}
	return NULL;
}

static struct json_object *prog_json(const struct prog_ctx *c, const struct hctl_pin *pin)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	struct json_object *o;
	const char *type;
	char tag[BPF_TAG_SIZE * 2 + 1], name[128];
	int i;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(pin->fd, &info, &len)) {
		hctl_err("cannot query program %s: %s", pin->path, strerror(errno));
		return NULL;
	}
	type = libbpf_bpf_prog_type_str((enum bpf_prog_type)info.type);
	for (i = 0; i < BPF_TAG_SIZE; i++)
		snprintf(tag + 2 * i, 3, "%02x", info.tag[i]);
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(info.id));
	json_object_object_add(o, "type", json_object_new_string(type ? type : "unknown"));
	json_object_object_add(o, "name",
			       json_object_new_string(hctl_prog_name(pin->fd, name, sizeof(name))));
	json_object_object_add(o, "tag", json_object_new_string(tag));
	json_object_object_add(o, "attach", prog_attach(c, info.id));
	json_object_object_add(o, "run_cnt",
			       c->stats ? json_object_new_uint64(info.run_cnt) : NULL);
	json_object_object_add(o, "run_time_ns",
			       c->stats ? json_object_new_uint64(info.run_time_ns) : NULL);
	json_object_object_add(o, "pinned", json_object_new_string(pin->path));
	return o;
}

static const char *str(const struct json_object *o, const char *k)
{
	return json_object_get_string(json_object_object_get(o, k));
}

static void prog_text(const struct json_object *o)
{
	struct json_object *attach = json_object_object_get(o, "attach");
	char where[PATH_MAX + 64];

	printf("%s: %s  name %s  tag %s\n", str(o, "id"), str(o, "type"), str(o, "name"),
	       str(o, "tag"));
	if (attach)
		printf("\tattach %s (link %s)\n",
		       hctl_link_target_text(attach, where, sizeof(where)), str(attach, "link_id"));
	else
		printf("\tattach none (no pinned link)\n");
	if (json_object_object_get(o, "run_cnt"))
		printf("\trun_cnt %s  run_time_ns %s\n", str(o, "run_cnt"), str(o, "run_time_ns"));
	else
		printf("\t" STATS_OFF "\n");
	printf("\tpinned %s\n", str(o, "pinned"));
}

static bool wanted(const struct hctl_pin *pin, const char *only)
{
	return !only || !strcmp(pin->name, only);
}

static int prog_show(struct hctl *h, int argc, char **argv)
{
	static const char *const dirs[] = {"progs", "lsm/progs", NULL};
	struct prog_ctx c = {.stats = stats_enabled()};
	const char *only = argc > 0 ? argv[0] : NULL;
	struct hctl_pins pins, link_pins;
	struct json_object *arr, *o;
	size_t i;
	int rc = 0;

	if (argc > 1)
		return hctl_err("usage: huskctl prog show [NAME]");
	if (hctl_pins_load(h, dirs, &pins))
		return 1;
	if (hctl_links_load(h, &c.links, &c.n_links, &link_pins)) {
		hctl_pins_free(&pins);
		return 1;
	}
	c.cg = hctl_cgroups_new();
	arr = json_object_new_array();
	for (i = 0; i < pins.n && !rc; i++) {
		if (!wanted(&pins.v[i], only))
			continue;
		o = prog_json(&c, &pins.v[i]);
		if (o)
			json_object_array_add(arr, o);
		else
			rc = 1;
	}
	hctl_cgroups_free(c.cg);
	free(c.links);
	hctl_pins_free(&link_pins);
	hctl_pins_free(&pins);
	if (!rc && only && !json_object_array_length(arr))
		rc = hctl_err("no program %s pinned in %s/progs (see huskctl prog show)", only,
			      h->bpf_dir);
	if (rc) {
		json_object_put(arr);
		return rc;
	}
	return hctl_print_array(h, arr, prog_text);
}

static const struct hctl_cmd prog_cmds[] = {
    {"show", prog_show, "show [NAME]"},
    {"list", prog_show, "list [NAME]"},
    {NULL, NULL, NULL},
};

int hctl_prog(struct hctl *h, int argc, char **argv)
{
	return hctl_dispatch(h, "prog", prog_cmds, argc, argv);
}
