// SPDX-License-Identifier: GPL-2.0
/*
 * huskctl feature probe: what this host offers husk, probed here (Landlock,
 * cgroups, KVM, ring buffers, BTF, bpffs, user namespaces), and what huskd
 * found and uses (its BPF LSM probe and engines) when it runs. BPF LSM can
 * only be proven by loading and attaching programs, which is huskd's job,
 * so without huskd it stays unknown. Exits 1 when a requirement is missing.
 */
#include <errno.h>
#include <json-c/json.h>
#include <linux/landlock.h>
#include <linux/magic.h>
#include <mntent.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "huskctl.h"

#define BTF_VMLINUX "/sys/kernel/btf/vmlinux"
#define BPFFS "/sys/fs/bpf"

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* The first line of a small file, without its newline; false if unreadable. */
static bool read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	bool ok;

	if (!f)
		return false;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

static int landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	return abi < 0 ? 0 : (int)abi;
}

/* A child that makes a user namespace says whether this host allows it. */
static bool user_namespaces(void)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return false;
	if (pid == 0)
		_exit(unshare(CLONE_NEWUSER) ? 1 : 0);
	if (waitpid(pid, &status, 0) != pid)
		return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* true or false, or null when the kernel would not say (creating maps needs root). */
static struct json_object *ringbuf(void)
{
	int rc;

	if (geteuid() != 0)
		return NULL;
	rc = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL);
	return rc < 0 ? NULL : json_object_new_boolean(rc == 1);
}

static bool bpffs_mounted(void)
{
	struct statfs st;

	return statfs(BPFFS, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

/* ---- cgroups ---- */

struct cg_probe {
	char v2[256]; /* mount point of the v2 hierarchy, "" if none */
	bool v1;      /* a v1 hierarchy with a controller is mounted */
	char controllers[512];
};

/* Is controller name an option of a mounted v1 hierarchy? */
static bool on_v1(const char *name)
{
	FILE *f = setmntent("/proc/self/mounts", "r");
	struct mntent *m;
	bool found = false;

	if (!f)
		return false;
	while (!found && (m = getmntent(f)))
		found = !strcmp(m->mnt_type, "cgroup") && hasmntopt(m, name);
	endmntent(f);
	return found;
}

static bool on_v2(const struct cg_probe *c, const char *name)
{
	char path[300], line[512], *tok, *save;

	if (!c->v2[0])
		return false;
	snprintf(path, sizeof(path), "%s/cgroup.controllers", c->v2);
	if (!read_line(path, line, sizeof(line)))
		return false;
	for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		if (!strcmp(tok, name))
			return true;
	return false;
}

/* "memory:v1 pids:v2 ...": where each enabled controller of /proc/cgroups is. */
static void controllers(struct cg_probe *c)
{
	char line[256], name[64];
	int hier, num, enabled;
	size_t used = 0;
	FILE *f = fopen("/proc/cgroups", "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && used < sizeof(c->controllers)) {
		if (line[0] == '#' ||
		    sscanf(line, "%63s %d %d %d", name, &hier, &num, &enabled) != 4 || !enabled)
			continue;
		if (hier && on_v1(name)) {
			c->v1 = true;
			used +=
			    (size_t)snprintf(c->controllers + used, sizeof(c->controllers) - used,
					     "%s%s:v1", used ? " " : "", name);
		} else if (on_v2(c, name)) {
			used +=
			    (size_t)snprintf(c->controllers + used, sizeof(c->controllers) - used,
					     "%s%s:v2", used ? " " : "", name);
		}
	}
	fclose(f);
}

static void cgroups(struct cg_probe *c)
{
	FILE *f = setmntent("/proc/self/mounts", "r");
	struct mntent *m;

	memset(c, 0, sizeof(*c));
	if (f) {
		while ((m = getmntent(f)))
			if (!strcmp(m->mnt_type, "cgroup2") && !c->v2[0])
				snprintf(c->v2, sizeof(c->v2), "%s", m->mnt_dir);
		endmntent(f);
	}
	controllers(c);
}

static const char *cgroup_mode(const struct cg_probe *c)
{
	if (c->v2[0] && c->v1)
		return "hybrid";
	if (c->v2[0])
		return "v2";
	return c->v1 ? "v1" : "none";
}

static struct json_object *cgroup_json(void)
{
	struct json_object *o = json_object_new_object();
	struct cg_probe c;

	cgroups(&c);
	json_object_object_add(o, "mode", json_object_new_string(cgroup_mode(&c)));
	json_object_object_add(o, "v2", c.v2[0] ? json_object_new_string(c.v2) : NULL);
	json_object_object_add(o, "controllers", json_object_new_string(c.controllers));
	return o;
}

/* ---- KVM ---- */

static bool cpu_has_flag(const char *flag)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[4096], *tok, *save;
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		for (tok = strtok_r(strchr(line, ':'), " \n", &save); tok && !found;
		     tok = strtok_r(NULL, " \n", &save))
			found = !strcmp(tok, flag);
		break;
	}
	fclose(f);
	return found;
}

static struct json_object *kvm_json(void)
{
	struct json_object *o = json_object_new_object();
	char nested[16] = "";
	bool present = exists("/dev/kvm");

	if (!read_line("/sys/module/kvm_intel/parameters/nested", nested, sizeof(nested)))
		read_line("/sys/module/kvm_amd/parameters/nested", nested, sizeof(nested));
	json_object_object_add(o, "present", json_object_new_boolean(present));
	/* A CPU that says it runs under a hypervisor gives KVM nested virtualization. */
	json_object_object_add(o, "kind",
			       present ? json_object_new_string(cpu_has_flag("hypervisor")
								    ? "nested/emulated"
								    : "hardware")
				       : NULL);
	json_object_object_add(o, "nested_param",
			       nested[0] ? json_object_new_string(nested) : NULL);
	return o;
}

/* ---- huskd ---- */

/* Does anything accept on huskd's socket? 0 or a negative errno (a killed huskd leaves the file).
 */
static int huskd_listening(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	close(fd);
	return rc;
}

/* huskd's features, or NULL with why in *why. */
static struct json_object *huskd_features(const struct hctl *h, const char **why)
{
	struct json_object *o = NULL;
	int rc = huskd_listening(h->socket);

	*why = rc == -EACCES ? "unknown: huskd's socket is root's (the probe is huskd's)"
			     : "unknown: huskd not running (the probe is huskd's)";
	if (rc)
		return NULL;
	if (hctl_api_get(h, "/husk/v1/features", &o)) {
		*why = "unknown: huskd did not answer (the probe is huskd's)";
		return NULL;
	}
	return o;
}

static struct json_object *get(const struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	if (o)
		json_object_object_get_ex(o, k, &v);
	return v;
}

static struct json_object *bpf_lsm_json(const struct json_object *huskd, const char *why)
{
	struct json_object *o = json_object_new_object(), *lsm = get(huskd, "BpfLsm");
	char list[256];

	if (lsm) {
		json_object_object_add(
		    o, "enabled",
		    json_object_new_boolean(json_object_get_boolean(get(lsm, "Enabled"))));
		json_object_object_add(o, "reason", json_object_get(get(lsm, "Reason")));
	} else {
		json_object_object_add(o, "enabled", NULL);
		json_object_object_add(o, "reason", json_object_new_string(why));
	}
	json_object_object_add(o, "lsm_list",
			       read_line("/sys/kernel/security/lsm", list, sizeof(list))
				   ? json_object_new_string(list)
				   : NULL);
	return o;
}

/* ---- requirements ---- */

static bool jbool(const struct json_object *o, const char *k)
{
	return json_object_get_boolean(get(o, k));
}

static struct json_object *missing(const struct json_object *f)
{
	struct json_object *m = json_object_new_array(), *lsm = get(f, "bpf_lsm");
	bool lsm_on = json_object_get_boolean(get(lsm, "enabled"));

	if (!jbool(f, "root"))
		json_object_array_add(m, json_object_new_string("root"));
	if (!jbool(f, "btf"))
		json_object_array_add(m, json_object_new_string("BTF (" BTF_VMLINUX ")"));
	if (get(f, "ringbuf") && !jbool(f, "ringbuf"))
		json_object_array_add(m, json_object_new_string("BPF ring buffer maps"));
	if (!get(get(f, "cgroup"), "v2"))
		json_object_array_add(m, json_object_new_string("a cgroup v2 hierarchy"));
	if (!jbool(f, "user_namespaces"))
		json_object_array_add(m, json_object_new_string("user namespaces"));
	if (!json_object_get_int(get(f, "landlock_abi")) && !lsm_on)
		json_object_array_add(m, json_object_new_string("Landlock or BPF LSM"));
	return m;
}

static struct json_object *probe_all(const struct hctl *h)
{
	const char *why;
	struct json_object *f = json_object_new_object(), *huskd = huskd_features(h, &why), *m;

	json_object_object_add(f, "root", json_object_new_boolean(geteuid() == 0));
	json_object_object_add(f, "btf", json_object_new_boolean(exists(BTF_VMLINUX)));
	json_object_object_add(f, "ringbuf", ringbuf());
	json_object_object_add(f, "bpffs", json_object_new_boolean(bpffs_mounted()));
	json_object_object_add(f, "user_namespaces", json_object_new_boolean(user_namespaces()));
	json_object_object_add(f, "landlock_abi", json_object_new_int(landlock_abi()));
	json_object_object_add(f, "bpf_lsm", bpf_lsm_json(huskd, why));
	json_object_object_add(f, "cgroup", cgroup_json());
	json_object_object_add(f, "kvm", kvm_json());
	json_object_object_add(f, "huskd", huskd);
	m = missing(f);
	json_object_object_add(f, "requirements_met",
			       json_object_new_boolean(!json_object_array_length(m)));
	json_object_object_add(f, "missing", m);
	return f;
}

/* ---- text ---- */

static const char *s(const struct json_object *o, const char *k)
{
	const char *v = json_object_get_string(get(o, k));

	return v ? v : "";
}

static const char *yes(const struct json_object *o, const char *k)
{
	return jbool(o, k) ? "yes" : "no";
}

static void host_text(const struct json_object *f)
{
	struct json_object *lsm = get(f, "bpf_lsm"), *cg = get(f, "cgroup"), *kvm = get(f, "kvm");
	int abi = json_object_get_int(get(f, "landlock_abi"));

	printf("Host\n");
	printf("  %-18s %s\n", "root", yes(f, "root"));
	printf("  %-18s %s (" BTF_VMLINUX ")\n", "BTF", yes(f, "btf"));
	printf("  %-18s %s\n", "ring buffer maps",
	       get(f, "ringbuf") ? yes(f, "ringbuf") : "unknown (probing needs root)");
	printf("  %-18s %s\n", "bpffs", jbool(f, "bpffs") ? "mounted at " BPFFS : "not mounted");
	printf("  %-18s %s\n", "user namespaces", yes(f, "user_namespaces"));
	if (abi)
		printf("  %-18s ABI %d\n", "Landlock", abi);
	else
		printf("  %-18s no\n", "Landlock");
	if (!get(lsm, "enabled"))
		printf("  %-18s %s", "BPF LSM", s(lsm, "reason"));
	else if (json_object_get_boolean(get(lsm, "enabled")))
		printf("  %-18s yes (huskd's probe passed)", "BPF LSM");
	else
		printf("  %-18s no: %s (huskd's probe)", "BPF LSM", s(lsm, "reason"));
	printf("; LSM list: %s\n",
	       get(lsm, "lsm_list") ? s(lsm, "lsm_list") : "unknown (securityfs not mounted)");
	printf("  %-18s %s", "cgroups", s(cg, "mode"));
	if (get(cg, "v2"))
		printf(", v2 at %s", s(cg, "v2"));
	printf("; controllers: %s\n", s(cg, "controllers"));
	if (!jbool(kvm, "present"))
		printf("  %-18s absent (no /dev/kvm)\n", "KVM");
	else
		printf("  %-18s %s (/dev/kvm%s%s)\n", "KVM", s(kvm, "kind"),
		       get(kvm, "nested_param") ? "; module parameter nested=" : "",
		       s(kvm, "nested_param"));
}

static void huskd_text(const struct json_object *hd)
{
	struct json_object *eng = get(hd, "Engines");

	if (!hd) {
		printf("husk (huskd)\n  not reachable: what it uses is unknown\n");
		return;
	}
	printf("husk (huskd)\n");
	printf("  %-18s %s; %s\n", "cgroups", s(hd, "CgroupMode"), s(hd, "Controllers"));
	printf("  %-18s %s\n", "egress", jbool(hd, "Egress") ? "yes" : "no");
	printf("  %-18s %s\n", "Landlock ABI", s(hd, "LandlockAbi"));
	if (!eng)
		return;
	printf("  engines\n");
	json_object_object_foreach(eng, part, engine)
	    printf("    %-16s %s\n", part, json_object_get_string(engine));
}

static void list_missing(const struct json_object *m, char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < json_object_array_length(m) && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
					 json_object_get_string(json_object_array_get_idx(m, i)));
}

static int feature_probe(struct hctl *h, int argc, char **argv)
{
	struct json_object *f;
	char miss[512];
	bool met;

	if (argc > 0)
		return hctl_err("feature probe takes no arguments");
	f = probe_all(h);
	met = jbool(f, "requirements_met");
	list_missing(get(f, "missing"), miss, sizeof(miss));
	if (h->json) {
		hctl_print_json(h, f);
	} else {
		host_text(f);
		huskd_text(get(f, "huskd"));
		printf("Requirements: %s%s\n", met ? "met" : "NOT met; missing: ", miss);
		json_object_put(f);
	}
	fflush(stdout); /* the report first, then why it failed */
	if (!met)
		return hctl_err("this host does not meet husk's requirements: missing %s", miss);
	return 0;
}

static const struct hctl_cmd feature_cmds[] = {
    {"probe", feature_probe, "probe"},
    {NULL, NULL, NULL},
};

int hctl_feature(struct hctl *h, int argc, char **argv)
{
	return hctl_dispatch(h, "feature", feature_cmds, argc, argv);
}
