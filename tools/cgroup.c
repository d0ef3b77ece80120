// SPDX-License-Identifier: GPL-2.0
/*
 * huskctl cgroup: the environments' cgroups and the programs attached to
 * them, like `bpftool cgroup tree`. Also cgroup ids as paths, which link
 * and prog show too: a v2 cgroup's id is the inode number of its directory,
 * so the cgroup v2 mounts are walked once and every directory remembered.
 */
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <json-c/json.h>
#include <limits.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "huskctl.h"
#include "tools/hctl_bpf.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* The kernel's limit of programs per cgroup and attach type. */
#define CGROUP_MAX_PROGS 64

/* ---- cgroup ids as paths ---- */

struct cg_dir {
	uint64_t id;
	char *path;
};

struct hctl_cgroups {
	bool walked;
	struct cg_dir *v;
	size_t n;
};

struct hctl_cgroups *hctl_cgroups_new(void)
{
	return calloc(1, sizeof(struct hctl_cgroups));
}

void hctl_cgroups_free(struct hctl_cgroups *cg)
{
	size_t i;

	if (!cg)
		return;
	for (i = 0; i < cg->n; i++)
		free(cg->v[i].path);
	free(cg->v);
	free(cg);
}

static int cg_add(struct hctl_cgroups *cg, uint64_t id, const char *path)
{
	struct cg_dir *grown = realloc(cg->v, (cg->n + 1) * sizeof(*cg->v));

	if (!grown)
		return -ENOMEM;
	cg->v = grown;
	cg->v[cg->n].id = id;
	cg->v[cg->n].path = strdup(path);
	if (!cg->v[cg->n].path)
		return -ENOMEM;
	cg->n++;
	return 0;
}

/* Every directory of one cgroup v2 mount (its own file system only). */
static int cg_walk(struct hctl_cgroups *cg, const char *mnt)
{
	char *const roots[] = {(char *)mnt, NULL};
	FTS *fts = fts_open(roots, FTS_PHYSICAL | FTS_XDEV, NULL);
	FTSENT *e;
	int rc = 0;

	if (!fts)
		return -errno;
	while (!rc && (e = fts_read(fts)))
		if (e->fts_info == FTS_D)
			rc = cg_add(cg, e->fts_statp->st_ino, e->fts_path);
	fts_close(fts);
	return rc;
}

static void cg_walk_all(struct hctl_cgroups *cg)
{
	FILE *f = setmntent("/proc/self/mounts", "r");
	struct mntent *m;

	cg->walked = true;
	if (!f)
		return;
	while ((m = getmntent(f)))
		if (!strcmp(m->mnt_type, "cgroup2"))
			cg_walk(cg, m->mnt_dir);
	endmntent(f);
}

const char *hctl_cgroup_path(struct hctl_cgroups *cg, uint64_t id)
{
	size_t i;

	if (!cg)
		return NULL;
	if (!cg->walked)
		cg_walk_all(cg);
	for (i = 0; i < cg->n; i++)
		if (cg->v[i].id == id)
			return cg->v[i].path;
	return NULL;
}

/* ---- huskctl cgroup tree ---- */

static const enum bpf_attach_type cgroup_types[] = {
    BPF_CGROUP_INET_INGRESS,
    BPF_CGROUP_INET_EGRESS,
    BPF_CGROUP_INET_SOCK_CREATE,
    BPF_CGROUP_SOCK_OPS,
    BPF_CGROUP_DEVICE,
    BPF_CGROUP_INET4_BIND,
    BPF_CGROUP_INET6_BIND,
    BPF_CGROUP_INET4_CONNECT,
    BPF_CGROUP_INET6_CONNECT,
    BPF_CGROUP_INET4_POST_BIND,
    BPF_CGROUP_INET6_POST_BIND,
    BPF_CGROUP_UDP4_SENDMSG,
    BPF_CGROUP_UDP6_SENDMSG,
    BPF_CGROUP_SYSCTL,
    BPF_CGROUP_UDP4_RECVMSG,
    BPF_CGROUP_UDP6_RECVMSG,
    BPF_CGROUP_GETSOCKOPT,
    BPF_CGROUP_SETSOCKOPT,
    BPF_CGROUP_INET4_GETPEERNAME,
    BPF_CGROUP_INET6_GETPEERNAME,
    BPF_CGROUP_INET4_GETSOCKNAME,
    BPF_CGROUP_INET6_GETSOCKNAME,
    BPF_CGROUP_INET_SOCK_RELEASE,
    BPF_LSM_CGROUP,
};

static const char *prog_name(uint32_t id, char *buf, size_t len)
{
	int fd = bpf_prog_get_fd_by_id(id);

	snprintf(buf, len, "?");
	if (fd < 0)
		return buf;
	hctl_prog_name(fd, buf, len);
	close(fd);
	return buf;
}

static const char *attach_flags_str(uint32_t flags)
{
	if (flags & BPF_F_ALLOW_MULTI)
		return "multi";
	if (flags & BPF_F_ALLOW_OVERRIDE)
		return "override";
	return "";
}

static struct json_object *prog_entry(uint32_t id, enum bpf_attach_type t, const char *flags)
{
	struct json_object *o = json_object_new_object();
	const char *type = libbpf_bpf_attach_type_str(t);
	char name[128];

	json_object_object_add(o, "id", json_object_new_int64(id));
	json_object_object_add(o, "attach_type", json_object_new_string(type ? type : "unknown"));
	if (flags)
		json_object_object_add(o, "attach_flags", json_object_new_string(flags));
	json_object_object_add(o, "name",
			       json_object_new_string(prog_name(id, name, sizeof(name))));
	return o;
}

static bool has_id(const uint32_t *ids, uint32_t n, uint32_t id)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* The programs of one attach type: own ones to own, the ancestors' to inherited. */
static void query_type(int fd, enum bpf_attach_type t, struct json_object *own,
		       struct json_object *inherited)
{
	uint32_t direct[CGROUP_MAX_PROGS], eff[CGROUP_MAX_PROGS];
	uint32_t n_direct = CGROUP_MAX_PROGS, n_eff = CGROUP_MAX_PROGS, flags = 0, i;

	if (bpf_prog_query(fd, t, 0, &flags, direct, &n_direct))
		n_direct = 0;
	if (bpf_prog_query(fd, t, BPF_F_QUERY_EFFECTIVE, NULL, eff, &n_eff))
		n_eff = 0;
	for (i = 0; i < n_direct; i++)
		json_object_array_add(own, prog_entry(direct[i], t, attach_flags_str(flags)));
	for (i = 0; i < n_eff; i++)
		if (!has_id(direct, n_direct, eff[i]))
			json_object_array_add(inherited, prog_entry(eff[i], t, NULL));
}

static bool is_env(const char *name)
{
	return !strncmp(name, "env-", 4);
}

/* One cgroup's entry, or NULL when nothing is attached and it is no environment. */
static struct json_object *cgroup_entry(const FTSENT *e)
{
	struct json_object *o, *own = json_object_new_array(), *inh = json_object_new_array();
	int fd = open(e->fts_accpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t i;

	if (fd >= 0) {
		for (i = 0; i < ARRAY_SIZE(cgroup_types); i++)
			query_type(fd, cgroup_types[i], own, inh);
		close(fd);
	}
	if (!json_object_array_length(own) && !json_object_array_length(inh) &&
	    !is_env(e->fts_name)) {
		json_object_put(own);
		json_object_put(inh);
		return NULL;
	}
	o = json_object_new_object();
	json_object_object_add(o, "cgroup", json_object_new_string(e->fts_path));
	json_object_object_add(o, "cgroup_id", json_object_new_uint64(e->fts_statp->st_ino));
	json_object_object_add(o, "env", json_object_new_boolean(is_env(e->fts_name)));
	json_object_object_add(o, "programs", own);
	json_object_object_add(o, "inherited", inh);
	return o;
}

static int tree_walk(const char *root, struct json_object *arr)
{
	char *const roots[] = {(char *)root, NULL};
	struct json_object *o;
	FTS *fts = fts_open(roots, FTS_PHYSICAL | FTS_XDEV, NULL);
	FTSENT *e;

	if (!fts)
		return hctl_err("cannot walk %s: %s", root, strerror(errno));
	while ((e = fts_read(fts))) {
		if (e->fts_info == FTS_DNR || e->fts_info == FTS_ERR)
			continue;
		if (e->fts_info != FTS_D)
			continue;
		o = cgroup_entry(e);
		if (o)
			json_object_array_add(arr, o);
	}
	fts_close(fts);
	return 0;
}

/* The environments' parent: where huskd's pinned cgroup links attach. */
static int parent_from_links(const struct hctl *h, char *buf, size_t len)
{
	struct hctl_cgroups *cg = hctl_cgroups_new();
	const char *path = NULL;
	struct hctl_pins pins;
	struct hctl_link *v;
	size_t n, i;

	if (hctl_links_load(h, &v, &n, &pins)) {
		hctl_cgroups_free(cg);
		return 1;
	}
	for (i = 0; i < n && !path; i++)
		if (v[i].type == BPF_LINK_TYPE_CGROUP)
			path = hctl_cgroup_path(cg, v[i].cgroup_id);
	if (path)
		snprintf(buf, len, "%s", path);
	free(v);
	hctl_pins_free(&pins);
	hctl_cgroups_free(cg);
	if (!path)
		return hctl_err("no pinned cgroup link in %s/links attaches to an existing cgroup: "
				"give the ROOT cgroup",
				h->bpf_dir);
	return 0;
}

static void tree_text(const struct json_object *arr)
{
	size_t i, j;

	printf("CgroupPath\n");
	printf("    %-8s %-30s %-12s %s\n", "ID", "AttachType", "AttachFlags", "Name");
	for (i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *c = json_object_array_get_idx(arr, i);
		struct json_object *own = json_object_object_get(c, "programs");
		struct json_object *inh = json_object_object_get(c, "inherited");
		size_t n_own = json_object_array_length(own), n_inh = json_object_array_length(inh);

		printf("%s  (cgroup id %s)\n",
		       json_object_get_string(json_object_object_get(c, "cgroup")),
		       json_object_get_string(json_object_object_get(c, "cgroup_id")));
		for (j = 0; j < n_own; j++) {
			struct json_object *p = json_object_array_get_idx(own, j);

			printf("    %-8d %-30s %-12s %s\n",
			       json_object_get_int(json_object_object_get(p, "id")),
			       json_object_get_string(json_object_object_get(p, "attach_type")),
			       json_object_get_string(json_object_object_get(p, "attach_flags")),
			       json_object_get_string(json_object_object_get(p, "name")));
		}
		if (n_inh)
			printf("    %s%zu program%s inherited from parent\n",
			       n_own ? "and " : "no programs of its own: ", n_inh,
			       n_inh == 1 ? "" : "s");
		else if (!n_own)
			printf("    no programs attached or inherited\n");
	}
}

static int cgroup_tree(struct hctl *h, int argc, char **argv)
{
	char root[PATH_MAX];
	struct json_object *arr;
	struct statfs fs;

	if (argc > 1)
		return hctl_err("usage: huskctl cgroup tree [ROOT]");
	if (hctl_need_root())
		return 1;
	if (argc == 1)
		snprintf(root, sizeof(root), "%s", argv[0]);
	else if (parent_from_links(h, root, sizeof(root)))
		return 1;
	if (statfs(root, &fs))
		return hctl_err("cannot open cgroup %s: %s", root, strerror(errno));
	if (fs.f_type != CGROUP2_SUPER_MAGIC)
		return hctl_err(
		    "%s is not a cgroup v2 directory (BPF programs attach to v2 groups)", root);
	arr = json_object_new_array();
	if (tree_walk(root, arr)) {
		json_object_put(arr);
		return 1;
	}
	if (h->json)
		return hctl_print_json(h, arr);
	tree_text(arr);
	json_object_put(arr);
	return 0;
}

static const struct hctl_cmd cgroup_cmds[] = {
    {"tree", cgroup_tree, "tree [ROOT]"},
    {NULL, NULL, NULL},
};

int hctl_cgroup(struct hctl *h, int argc, char **argv)
{
	return hctl_dispatch(h, "cgroup", cgroup_cmds, argc, argv);
}
