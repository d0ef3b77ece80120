/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What huskctl's BPF objects share (prog.c, map.c, link.c, cgroup.c,
 * policy.c): huskd's pin directory, the targets of its links, cgroup ids
 * as paths, and husk's map records as JSON. Every command builds one JSON
 * value and prints it either as JSON or as text, so both forms say the same.
 *
 *   pins and links:    link.c
 *   program names:     prog.c
 *   cgroup id → path:  cgroup.c
 *   husk's records:    map.c
 */
#ifndef HUSK_HCTL_BPF_H
#define HUSK_HCTL_BPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/husk_abi.h"

struct hctl;
struct json_object;

/* ---- the pin directory (link.c) ---- */

struct hctl_pin {
	char *path;	  /* absolute */
	const char *name; /* its last component */
	int fd;		  /* bpf_obj_get() */
};

struct hctl_pins {
	struct hctl_pin *v;
	size_t n;
};

/*
 * Require root and huskd's pins in h->bpf_dir; prints the reason and
 * returns 1 if either is missing.
 */
int hctl_pins_check(const struct hctl *h);

/*
 * Open every pin of the sub-directories (NULL-terminated, e.g. "progs",
 * "lsm/progs"; a missing one is empty), sorted by name. Returns 0, or 1
 * after printing why.
 */
int hctl_pins_load(const struct hctl *h, const char *const *subdirs, struct hctl_pins *out);
void hctl_pins_free(struct hctl_pins *p);

/* The fd of pinned map NAME (h->bpf_dir/maps/NAME), or -1 after printing why. */
int hctl_pinned_map(const struct hctl *h, const char *name);

/* ---- links and their targets (link.c) ---- */

struct hctl_cgroups;

struct hctl_link {
	uint32_t id, type, prog_id;
	bool has_attach_type;
	uint32_t attach_type;
	uint64_t cgroup_id;   /* cgroup links */
	char tracepoint[128]; /* raw_tracepoint links */
	char btf_func[128];   /* tracing links (BPF LSM): the hook's BTF name */
	const char *pinned;   /* its pin, or NULL */
};

/* What the kernel says about link fd. Returns 0 or a negative errno. */
int hctl_link_query(int fd, struct hctl_link *l);

/*
 * Where a link attaches, as JSON: {"kind": "cgroup", "attach_type",
 * "cgroup", "cgroup_id"}, {"kind": "tracepoint", "tracepoint"} or
 * {"kind": "tracing", "attach_type", "function"}.
 */
struct json_object *hctl_link_target(const struct hctl_link *l, struct hctl_cgroups *cg);

/* The same in one line of text (buf), as "cgroup_inet4_connect /sys/fs/cgroup/...". */
const char *hctl_link_target_text(const struct json_object *target, char *buf, size_t len);

/* All pinned links of h (links/, lsm/links/). Returns 0, or 1 after printing why. */
int hctl_links_load(const struct hctl *h, struct hctl_link **out, size_t *n,
		    struct hctl_pins *pins);

/* ---- programs (prog.c) ---- */

/* A program's full name (from its BTF; the kernel keeps 15 bytes) into buf. */
const char *hctl_prog_name(int fd, char *buf, size_t len);

/* ---- cgroup ids as paths (cgroup.c) ---- */

/* Directories of the cgroup v2 hierarchies by id, read once on first use. */
struct hctl_cgroups *hctl_cgroups_new(void);
void hctl_cgroups_free(struct hctl_cgroups *cg);

/* The path of v2 cgroup id, or NULL when no such directory exists. */
const char *hctl_cgroup_path(struct hctl_cgroups *cg, uint64_t id);

/* ---- husk's map records as JSON (map.c) ---- */

/* {"cgroup_id", "cidr", "rules": [{"ports", "protocols", "rule"}]} of an LPM entry. */
struct json_object *hctl_net_entry(int family, const void *key, const struct husk_net_rules *v);

/* The cgroup id of an LPM key (both key structs start alike). */
uint64_t hctl_net_key_cgid(const void *key);

/* One line of text of hctl_net_entry()'s rules: "tcp 443 (rule 0); tcp,udp 53 (dns)". */
void hctl_net_rules_text(const struct json_object *rules, char *buf, size_t len);

/* Names of the syscalls whose bits are set (libseccomp, native arch). */
struct json_object *hctl_syscall_names(const uint64_t bits[HUSK_NR_SYSCALLS / 64]);

/* {"read": [...], "write": [...], "exec": [...]} of a husk_fs value. */
struct json_object *hctl_fs_lists(const struct husk_fs_policy *fp);

/* ---- text output ---- */

/* Print a JSON array of strings as "a, b, c" (or "-" when empty). */
void hctl_print_list(const struct json_object *arr);

#endif
