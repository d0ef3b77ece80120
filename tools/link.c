// SPDX-License-Identifier: GPL-2.0
/*
 * huskctl link: huskd's pinned links and where they attach. Also the pin
 * directory itself (opening pins), which prog, map and cgroup share: a link
 * is what ties a pinned program to its cgroup or tracepoint.
 */
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "huskctl.h"
#include "tools/hctl_bpf.h"

/* ---- pins ---- */

int hctl_pins_check(const struct hctl *h)
{
	char maps[PATH_MAX];
	struct stat st;

	if (hctl_need_root())
		return 1;
	snprintf(maps, sizeof(maps), "%s/maps", h->bpf_dir);
	if (stat(maps, &st) || !S_ISDIR(st.st_mode))
		return hctl_err("no husk pins in %s: is huskd running with --bpf-dir %s?",
				h->bpf_dir, h->bpf_dir);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	const struct hctl_pin *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static int pins_add(struct hctl_pins *p, const char *dir, const char *name)
{
	struct hctl_pin *grown = realloc(p->v, (p->n + 1) * sizeof(*p->v));
	struct hctl_pin *pin;

	if (!grown)
		return hctl_err("out of memory");
	p->v = grown;
	pin = &p->v[p->n];
	if (asprintf(&pin->path, "%s/%s", dir, name) < 0)
		return hctl_err("out of memory");
	pin->name = strrchr(pin->path, '/') + 1;
	pin->fd = bpf_obj_get(pin->path);
	if (pin->fd < 0) {
		int err = errno;

		free(pin->path);
		/* Unpinned since readdir (huskd stopping): not there any more. */
		if (err == ENOENT)
			return 0;
		return hctl_err("cannot open pin %s/%s: %s", dir, name, strerror(err));
	}
	p->n++;
	return 0;
}

static int pins_dir(struct hctl_pins *p, const char *dir)
{
	struct dirent *de;
	int rc = 0;
	DIR *d = opendir(dir);

	if (!d)
		return errno == ENOENT ? 0 : hctl_err("cannot read %s: %s", dir, strerror(errno));
	while (!rc && (de = readdir(d)))
		if (de->d_type == DT_REG)
			rc = pins_add(p, dir, de->d_name);
	closedir(d);
	return rc;
}

int hctl_pins_load(const struct hctl *h, const char *const *subdirs, struct hctl_pins *out)
{
	char dir[PATH_MAX];
	int rc = 0;

	*out = (struct hctl_pins){0};
	if (hctl_pins_check(h))
		return 1;
	for (; !rc && *subdirs; subdirs++) {
		snprintf(dir, sizeof(dir), "%s/%s", h->bpf_dir, *subdirs);
		rc = pins_dir(out, dir);
	}
	if (rc) {
		hctl_pins_free(out);
		return rc;
	}
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), by_name);
	return 0;
}

void hctl_pins_free(struct hctl_pins *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		close(p->v[i].fd);
		free(p->v[i].path);
	}
	free(p->v);
	*p = (struct hctl_pins){0};
}

int hctl_pinned_map(const struct hctl *h, const char *name)
{
	char path[PATH_MAX];
	int fd;

	if (hctl_pins_check(h))
		return -1;
	if (strchr(name, '/')) {
		hctl_err("bad map name '%s': a name of %s/maps", name, h->bpf_dir);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/maps/%s", h->bpf_dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		if (errno == ENOENT)
			hctl_err("no map %s pinned in %s/maps (see huskctl map show)", name,
				 h->bpf_dir);
		else
			hctl_err("cannot open %s: %s", path, strerror(errno));
	}
	return fd;
}

/* ---- links ---- */

/* The name of BTF type id in kernel BTF object obj (the LSM hook of a tracing link). */
static void btf_func_name(uint32_t obj, uint32_t id, char *buf, size_t len)
{
	struct btf *btf = btf__load_from_kernel_by_id(obj);
	const struct btf_type *t;

	buf[0] = '\0';
	if (!btf)
		return;
	t = btf__type_by_id(btf, id);
	if (t)
		snprintf(buf, len, "%s", btf__name_by_offset(btf, t->name_off));
	btf__free(btf);
}

int hctl_link_query(int fd, struct hctl_link *l)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	char tp[sizeof(l->tracepoint)] = "";

	memset(&info, 0, sizeof(info));
	memset(l, 0, sizeof(*l));
	/* Only raw_tp links read the buffer; the others overwrite the union. */
	info.raw_tracepoint.tp_name = (__u64)(unsigned long)tp;
	info.raw_tracepoint.tp_name_len = sizeof(tp);
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	l->id = info.id;
	l->type = info.type;
	l->prog_id = info.prog_id;
	switch (info.type) {
	case BPF_LINK_TYPE_CGROUP:
		l->has_attach_type = true;
		l->attach_type = info.cgroup.attach_type;
		l->cgroup_id = info.cgroup.cgroup_id;
		break;
	case BPF_LINK_TYPE_RAW_TRACEPOINT:
		snprintf(l->tracepoint, sizeof(l->tracepoint), "%s", tp);
		break;
	case BPF_LINK_TYPE_TRACING:
		l->has_attach_type = true;
		l->attach_type = info.tracing.attach_type;
		btf_func_name(info.tracing.target_obj_id, info.tracing.target_btf_id, l->btf_func,
			      sizeof(l->btf_func));
		break;
	default:
		break;
	}
	return 0;
}

static const char *attach_type_str(uint32_t t)
{
	const char *s = libbpf_bpf_attach_type_str((enum bpf_attach_type)t);

	return s ? s : "unknown";
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

struct json_object *hctl_link_target(const struct hctl_link *l, struct hctl_cgroups *cg)
{
	struct json_object *o = json_object_new_object();

	switch (l->type) {
	case BPF_LINK_TYPE_CGROUP:
		add_str(o, "kind", "cgroup");
		add_str(o, "attach_type", attach_type_str(l->attach_type));
		add_str(o, "cgroup", hctl_cgroup_path(cg, l->cgroup_id));
		json_object_object_add(o, "cgroup_id", json_object_new_uint64(l->cgroup_id));
		break;
	case BPF_LINK_TYPE_RAW_TRACEPOINT:
		add_str(o, "kind", "tracepoint");
		add_str(o, "tracepoint", l->tracepoint);
		break;
	case BPF_LINK_TYPE_TRACING:
		add_str(o, "kind", "tracing");
		add_str(o, "attach_type", attach_type_str(l->attach_type));
		add_str(o, "function", l->btf_func[0] ? l->btf_func : NULL);
		break;
	default:
		add_str(o, "kind", "other");
		break;
	}
	return o;
}

static const char *get_str(const struct json_object *o, const char *k)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !v)
		return NULL;
	return json_object_get_string(v);
}

const char *hctl_link_target_text(const struct json_object *t, char *buf, size_t len)
{
	const char *kind = get_str(t, "kind");

	if (!kind)
		snprintf(buf, len, "-");
	else if (!strcmp(kind, "cgroup"))
		snprintf(buf, len, "%s %s", get_str(t, "attach_type"),
			 get_str(t, "cgroup") ? get_str(t, "cgroup") : "(cgroup no longer exists)");
	else if (!strcmp(kind, "tracepoint"))
		snprintf(buf, len, "raw_tracepoint %s", get_str(t, "tracepoint"));
	else if (!strcmp(kind, "tracing"))
		snprintf(buf, len, "%s %s", get_str(t, "attach_type"),
			 get_str(t, "function") ? get_str(t, "function") : "?");
	else
		snprintf(buf, len, "-");
	return buf;
}

int hctl_links_load(const struct hctl *h, struct hctl_link **out, size_t *n, struct hctl_pins *pins)
{
	static const char *const dirs[] = {"links", "lsm/links", NULL};
	struct hctl_link *v;
	size_t i;
	int rc;

	*out = NULL;
	*n = 0;
	if (hctl_pins_load(h, dirs, pins))
		return 1;
	v = calloc(pins->n ? pins->n : 1, sizeof(*v));
	if (!v) {
		hctl_pins_free(pins);
		return hctl_err("out of memory");
	}
	for (i = 0; i < pins->n; i++) {
		rc = hctl_link_query(pins->v[i].fd, &v[i]);
		if (rc) {
			hctl_err("cannot query link %s: %s", pins->v[i].path, strerror(-rc));
			free(v);
			hctl_pins_free(pins);
			return 1;
		}
		v[i].pinned = pins->v[i].path;
	}
	*out = v;
	*n = pins->n;
	return 0;
}

/* ---- huskctl link show ---- */

static struct json_object *link_json(const struct hctl_link *l, struct hctl_cgroups *cg)
{
	const char *type = libbpf_bpf_link_type_str((enum bpf_link_type)l->type);
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(l->id));
	add_str(o, "type", type ? type : "unknown");
	json_object_object_add(o, "prog_id", json_object_new_int64(l->prog_id));
	json_object_object_add(o, "target", hctl_link_target(l, cg));
	add_str(o, "pinned", l->pinned);
	return o;
}

static void link_text(const struct json_object *o)
{
	struct json_object *v;
	char target[PATH_MAX + 64];

	json_object_object_get_ex(o, "target", &v);
	printf("%d: %s  prog %d\n", json_object_get_int(json_object_object_get(o, "id")),
	       get_str(o, "type"), json_object_get_int(json_object_object_get(o, "prog_id")));
	printf("\ttarget %s\n", hctl_link_target_text(v, target, sizeof(target)));
	printf("\tpinned %s\n", get_str(o, "pinned"));
}

static int link_show(struct hctl *h, int argc, char **argv)
{
	struct hctl_cgroups *cg;
	struct json_object *arr;
	struct hctl_pins pins;
	struct hctl_link *v;
	size_t n, i;

	if (argc > 0)
		return hctl_err("link show takes no arguments");
	if (hctl_links_load(h, &v, &n, &pins))
		return 1;
	cg = hctl_cgroups_new();
	arr = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(arr, link_json(&v[i], cg));
	hctl_cgroups_free(cg);
	free(v);
	hctl_pins_free(&pins);
	return hctl_print_array(h, arr, link_text);
}

static const struct hctl_cmd link_cmds[] = {
    {"show", link_show, "show"},
    {"list", link_show, "list"},
    {NULL, NULL, NULL},
};

int hctl_link(struct hctl *h, int argc, char **argv)
{
	return hctl_dispatch(h, "link", link_cmds, argc, argv);
}
