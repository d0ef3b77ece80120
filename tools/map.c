// SPDX-License-Identifier: GPL-2.0
/*
 * huskctl map: huskd's pinned maps (show) and their entries (dump), decoded
 * through the maps' BTF: generically by field name, and for husk's own maps
 * as what they mean (an allow-list as CIDRs and ports, syscalls by name),
 * from the layouts of bpf/husk_abi.h once the map's sizes match them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "huskctl.h"
#include "tools/hctl_bpf.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* Nesting depth the generic decoder follows (husk's types need 4). */
#define BTF_MAX_DEPTH 16

static const char *str(const struct json_object *o, const char *k)
{
	return json_object_get_string(json_object_object_get(o, k));
}

void hctl_print_list(const struct json_object *arr)
{
	size_t i, n = json_object_array_length(arr);

	if (!n)
		fputs("-", stdout);
	for (i = 0; i < n; i++)
		printf("%s%s", i ? ", " : "",
		       json_object_get_string(json_object_array_get_idx(arr, i)));
}

/* ---- generic: BTF ---- */

static struct json_object *hex_bytes(const void *data, size_t size)
{
	const unsigned char *p = data;
	char *s = malloc(size * 3 + 1);
	struct json_object *o;
	size_t i, used = 0;

	if (!s)
		return NULL;
	s[0] = '\0';
	for (i = 0; i < size; i++)
		used +=
		    (size_t)snprintf(s + used, size * 3 + 1 - used, "%s%02x", i ? " " : "", p[i]);
	o = json_object_new_string(s);
	free(s);
	return o;
}

static const struct btf_type *skip_mods(const struct btf *btf, __u32 *id)
{
	const struct btf_type *t = btf__type_by_id(btf, *id);

	while (t && (btf_is_mod(t) || btf_is_typedef(t))) {
		*id = t->type;
		t = btf__type_by_id(btf, *id);
	}
	return t;
}

static bool is_char(const struct btf *btf, const struct btf_type *t)
{
	const char *name = btf__name_by_offset(btf, t->name_off);

	return btf_is_int(t) && t->size == 1 &&
	       ((btf_int_encoding(t) & BTF_INT_CHAR) || (name && strstr(name, "char")));
}

static uint64_t read_uint(const void *data, size_t size)
{
	uint64_t v = 0;

	memcpy(&v, data, size < sizeof(v) ? size : sizeof(v)); /* little-endian hosts */
	return v;
}

static struct json_object *btf_int(const struct btf_type *t, const void *data)
{
	__u8 enc = btf_int_encoding(t);
	uint64_t v;

	if (t->size > 8)
		return hex_bytes(data, t->size);
	v = read_uint(data, t->size);
	if (enc & BTF_INT_BOOL)
		return json_object_new_boolean(v != 0);
	if (enc & BTF_INT_SIGNED) {
		unsigned shift = 64 - 8 * t->size;

		return json_object_new_int64((int64_t)(v << shift) >> shift);
	}
	return json_object_new_uint64(v);
}

static struct json_object *btf_enum_value(const struct btf *btf, const struct btf_type *t,
					  const void *data)
{
	uint64_t v = read_uint(data, t->size);
	__u16 i, n = btf_vlen(t);

	for (i = 0; i < n; i++) {
		uint64_t ev = btf_is_enum64(t) ? btf_enum64_value(&btf_enum64(t)[i])
					       : (uint32_t)btf_enum(t)[i].val;
		__u32 off = btf_is_enum64(t) ? btf_enum64(t)[i].name_off : btf_enum(t)[i].name_off;

		if (ev == v)
			return json_object_new_string(btf__name_by_offset(btf, off));
	}
	return json_object_new_uint64(v);
}

static struct json_object *btf_value(const struct btf *btf, __u32 id, const void *data, size_t size,
				     int depth);

static struct json_object *btf_array_value(const struct btf *btf, const struct btf_type *t,
					   const void *data, int depth)
{
	const struct btf_array *a = btf_array(t);
	__u32 elem_id = a->type;
	const struct btf_type *et = skip_mods(btf, &elem_id);
	__s64 esize = btf__resolve_size(btf, a->type);
	struct json_object *arr;
	__u32 i;

	if (!et || esize <= 0)
		return NULL;
	if (is_char(btf, et))
		return json_object_new_string_len(data, (int)strnlen(data, a->nelems));
	arr = json_object_new_array();
	for (i = 0; i < a->nelems; i++)
		json_object_array_add(arr, btf_value(btf, a->type, (const char *)data + i * esize,
						     (size_t)esize, depth + 1));
	return arr;
}

/* A bitfield member: bits [off, off + bits) of data. */
static struct json_object *btf_bitfield(const void *data, __u32 off, __u32 bits)
{
	uint64_t v = 0;
	__u32 i;

	for (i = 0; i < bits && i < 64; i++) {
		__u32 b = off + i;

		if (((const unsigned char *)data)[b / 8] & (1u << (b % 8)))
			v |= 1ull << i;
	}
	return json_object_new_uint64(v);
}

static struct json_object *btf_struct(const struct btf *btf, const struct btf_type *t,
				      const void *data, int depth)
{
	struct json_object *o = json_object_new_object(), *m;
	const struct btf_member *mem = btf_members(t);
	__u16 i, n = btf_vlen(t);

	for (i = 0; i < n; i++) {
		const char *name = btf__name_by_offset(btf, mem[i].name_off);
		__u32 off = btf_member_bit_offset(t, i), bits = btf_member_bitfield_size(t, i);
		__s64 msize = btf__resolve_size(btf, mem[i].type);

		if (bits)
			m = btf_bitfield(data, off, bits);
		else
			m = btf_value(btf, mem[i].type, (const char *)data + off / 8,
				      msize > 0 ? (size_t)msize : 0, depth + 1);
		if (name && *name) {
			json_object_object_add(o, name, m);
		} else if (json_object_is_type(m, json_type_object)) {
			/* An anonymous struct or union: its members are ours. */
			json_object_object_foreach(m, k, v)
			    json_object_object_add(o, k, json_object_get(v));
			json_object_put(m);
		} else {
			json_object_put(m);
		}
	}
	return o;
}

static struct json_object *btf_float(const struct btf_type *t, const void *data, size_t size)
{
	double d;
	float f;

	if (t->size == sizeof(d)) {
		memcpy(&d, data, sizeof(d));
		return json_object_new_double(d);
	}
	if (t->size == sizeof(f)) {
		memcpy(&f, data, sizeof(f));
		return json_object_new_double(f);
	}
	return hex_bytes(data, size);
}

static struct json_object *btf_value(const struct btf *btf, __u32 id, const void *data, size_t size,
				     int depth)
{
	const struct btf_type *t = skip_mods(btf, &id);
	char buf[32];

	if (!t || depth > BTF_MAX_DEPTH)
		return hex_bytes(data, size);
	switch (btf_kind(t)) {
	case BTF_KIND_INT:
		return btf_int(t, data);
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		return btf_enum_value(btf, t, data);
	case BTF_KIND_ARRAY:
		return btf_array_value(btf, t, data, depth);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return btf_struct(btf, t, data, depth);
	case BTF_KIND_PTR:
		snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)read_uint(data, 8));
		return json_object_new_string(buf);
	case BTF_KIND_FLOAT:
		return btf_float(t, data, size);
	default:
		return hex_bytes(data, size);
	}
}

/* ---- husk's records ---- */

static struct json_object *ports(const struct husk_net_rule *r)
{
	char buf[16];

	if (r->port_lo == r->port_hi)
		snprintf(buf, sizeof(buf), "%u", r->port_lo);
	else
		snprintf(buf, sizeof(buf), "%u-%u", r->port_lo, r->port_hi);
	return json_object_new_string(buf);
}

static const char *protocols(unsigned bits)
{
	switch (bits & (HUSK_NET_TCP | HUSK_NET_UDP)) {
	case HUSK_NET_TCP:
		return "tcp";
	case HUSK_NET_UDP:
		return "udp";
	case HUSK_NET_TCP | HUSK_NET_UDP:
		return "tcp,udp";
	default:
		return "none";
	}
}

uint64_t hctl_net_key_cgid(const void *key)
{
	const struct husk_net4_key *k = key;

	return (uint64_t)k->cgid[0] << 32 | k->cgid[1];
}

struct json_object *hctl_net_entry(int family, const void *key, const struct husk_net_rules *v)
{
	const struct husk_net4_key *k4 = key;
	const struct husk_net6_key *k6 = key;
	struct json_object *o = json_object_new_object(), *rules = json_object_new_array();
	char addr[INET6_ADDRSTRLEN], cidr[INET6_ADDRSTRLEN + 32];
	uint32_t i;

	inet_ntop(family, family == AF_INET ? (const void *)&k4->addr : (const void *)k6->addr,
		  addr, sizeof(addr));
	/* prefixlen counts the cgroup id's 64 bits too. */
	if (k4->prefixlen >= 64)
		snprintf(cidr, sizeof(cidr), "%s/%u", addr, k4->prefixlen - 64);
	else
		snprintf(cidr, sizeof(cidr), "%s (prefixlen %u)", addr, k4->prefixlen);
	json_object_object_add(o, "cgroup_id", json_object_new_uint64(hctl_net_key_cgid(key)));
	json_object_object_add(o, "cidr", json_object_new_string(cidr));
	for (i = 0; i < v->n && i < HUSK_NET_RULES_MAX; i++) {
		const struct husk_net_rule *r = &v->r[i];
		struct json_object *ro = json_object_new_object();

		json_object_object_add(ro, "ports", ports(r));
		json_object_object_add(ro, "protocols",
				       json_object_new_string(protocols(r->protocols)));
		json_object_object_add(ro, "rule",
				       r->rule == HUSK_RULE_DNS ? json_object_new_string("dns")
								: json_object_new_int(r->rule));
		json_object_array_add(rules, ro);
	}
	json_object_object_add(o, "rules", rules);
	return o;
}

void hctl_net_rules_text(const struct json_object *rules, char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < json_object_array_length(rules) && used < len; i++) {
		struct json_object *r = json_object_array_get_idx(rules, i);
		struct json_object *rule = json_object_object_get(r, "rule");
		bool dns = json_object_is_type(rule, json_type_string);
		int n = snprintf(buf + used, len - used, "%s%s %s (%s%s)", i ? "; " : "",
				 str(r, "protocols"), str(r, "ports"), dns ? "" : "rule ",
				 json_object_get_string(rule));

		if (n < 0)
			break;
		used += (size_t)n;
	}
	if (!json_object_array_length(rules))
		snprintf(buf, len, "no rules");
}

static char *syscall_name(unsigned nr)
{
	char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, (int)nr);

	if (!name && asprintf(&name, "syscall_%u", nr) < 0)
		name = NULL;
	return name;
}

struct json_object *hctl_syscall_names(const uint64_t bits[HUSK_NR_SYSCALLS / 64])
{
	struct json_object *arr = json_object_new_array();
	unsigned nr;
	char *name;

	for (nr = 0; nr < HUSK_NR_SYSCALLS; nr++) {
		if (!(bits[nr / 64] & (1ull << (nr % 64))))
			continue;
		name = syscall_name(nr);
		if (name)
			json_object_array_add(arr, json_object_new_string(name));
		free(name);
	}
	return arr;
}

struct json_object *hctl_fs_lists(const struct husk_fs_policy *fp)
{
	static const char *const kinds[HUSK_FS_NR_KINDS] = {"read", "write", "exec"};
	struct json_object *o = json_object_new_object(), *arr;
	uint32_t i;
	int k;

	for (k = 0; k < HUSK_FS_NR_KINDS; k++) {
		arr = json_object_new_array();
		for (i = 0; i < fp->n[k] && i < HUSK_FS_PATHS_MAX; i++)
			json_object_array_add(
			    arr, json_object_new_string_len(
				     fp->lists[k][i].path,
				     (int)strnlen(fp->lists[k][i].path, HUSK_FS_PATH_MAX)));
		json_object_object_add(o, kinds[k], arr);
	}
	return o;
}

/* ---- dump ---- */

struct dump {
	const struct hctl *h;
	int fd;
	struct bpf_map_info info;
	struct btf *btf;
	void *key, *next, *value;
	struct json_object *out; /* array of entries */
	struct hctl_cgroups *cg;
};

/* Call fn for every entry; entries removed meanwhile are skipped. */
static int dump_each(struct dump *d, int (*fn)(struct dump *d))
{
	void *prev = NULL;
	int rc;

	for (;;) {
		if (bpf_map_get_next_key(d->fd, prev, d->next)) {
			if (errno == ENOENT)
				return 0;
			return hctl_err("cannot iterate map %s: %s", d->info.name, strerror(errno));
		}
		memcpy(d->key, d->next, d->info.key_size);
		prev = d->key;
		if (bpf_map_lookup_elem(d->fd, d->key, d->value)) {
			if (errno == ENOENT)
				continue;
			return hctl_err("cannot read map %s: %s", d->info.name, strerror(errno));
		}
		rc = fn(d);
		if (rc)
			return rc;
	}
}

static int generic_entry(struct dump *d)
{
	struct json_object *o = json_object_new_object();
	__u32 kid = d->info.btf_key_type_id, vid = d->info.btf_value_type_id;

	json_object_object_add(o, "key",
			       d->btf && kid ? btf_value(d->btf, kid, d->key, d->info.key_size, 0)
					     : hex_bytes(d->key, d->info.key_size));
	json_object_object_add(o, "value",
			       d->btf && vid
				   ? btf_value(d->btf, vid, d->value, d->info.value_size, 0)
				   : hex_bytes(d->value, d->info.value_size));
	json_object_array_add(d->out, o);
	return 0;
}

static void generic_text(const struct json_object *e)
{
	printf(
	    "key: %s  value: %s\n",
	    json_object_to_json_string_ext(json_object_object_get(e, "key"),
					   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
	    json_object_to_json_string_ext(json_object_object_get(e, "value"),
					   JSON_C_TO_STRING_PLAIN |
					       JSON_C_TO_STRING_NOSLASHESCAPE));
}

static void add_cgroup(struct json_object *o, struct hctl_cgroups *cg, uint64_t id)
{
	const char *path = hctl_cgroup_path(cg, id);

	json_object_object_add(o, "cgroup_id", json_object_new_uint64(id));
	json_object_object_add(o, "cgroup", path ? json_object_new_string(path) : NULL);
}

static int envs_entry(struct dump *d)
{
	const struct husk_env_info *v = d->value;
	struct json_object *o = json_object_new_object();

	add_cgroup(o, d->cg, *(const uint64_t *)d->key);
	json_object_object_add(o, "slot", json_object_new_int64(v->slot));
	json_object_object_add(o, "flags", json_object_new_int64(v->flags));
	json_object_object_add(o, "sys_errno", json_object_new_int64(v->sys_errno));
	json_object_object_add(o, "denied_syscalls", hctl_syscall_names(v->sys_denied));
	json_object_array_add(d->out, o);
	return 0;
}

static const char *cgroup_text(const struct json_object *e, char *buf, size_t len)
{
	const char *path = str(e, "cgroup");

	snprintf(buf, len, "cgroup %s (%s)", str(e, "cgroup_id"), path ? path : "gone");
	return buf;
}

static void envs_text(const struct json_object *e)
{
	char cg[PATH_MAX + 64];
	int flags = json_object_get_int(json_object_object_get(e, "flags"));

	printf("%s  slot %s  flags 0x%x%s  sys_errno %s\n", cgroup_text(e, cg, sizeof(cg)),
	       str(e, "slot"), flags, flags & HUSK_ENV_F_LSM_FILES ? " (lsm_files)" : "",
	       str(e, "sys_errno"));
	printf("\tdenied syscalls: ");
	hctl_print_list(json_object_object_get(e, "denied_syscalls"));
	printf("\n");
}

static int net4_entry(struct dump *d)
{
	json_object_array_add(d->out, hctl_net_entry(AF_INET, d->key, d->value));
	return 0;
}

static int net6_entry(struct dump *d)
{
	json_object_array_add(d->out, hctl_net_entry(AF_INET6, d->key, d->value));
	return 0;
}

static void net_text(const struct json_object *e)
{
	char rules[1024];

	hctl_net_rules_text(json_object_object_get(e, "rules"), rules, sizeof(rules));
	printf("cgroup %s  %-20s %s\n", str(e, "cgroup_id"), str(e, "cidr"), rules);
}

static int fs_entry(struct dump *d)
{
	struct json_object *o = json_object_new_object();

	add_cgroup(o, d->cg, *(const uint64_t *)d->key);
	json_object_object_add(o, "files", hctl_fs_lists(d->value));
	json_object_array_add(d->out, o);
	return 0;
}

static void fs_text(const struct json_object *e)
{
	struct json_object *files = json_object_object_get(e, "files");
	char cg[PATH_MAX + 64];

	printf("%s\n", cgroup_text(e, cg, sizeof(cg)));
	json_object_object_foreach(files, kind, list)
	{
		printf("\t%-6s ", kind);
		hctl_print_list(list);
		printf("\n");
	}
}

/* The cgroup id of the environment holding slot, from husk_envs (0: none). */
static uint64_t slot_owner(const struct hctl *h, uint32_t slot)
{
	struct husk_env_info info;
	char path[PATH_MAX];
	uint64_t key, next, found = 0;
	void *prev = NULL;
	int fd;

	snprintf(path, sizeof(path), "%s/maps/husk_envs", h->bpf_dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	while (!found && !bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(fd, &key, &info) && info.slot == slot)
			found = key;
	}
	close(fd);
	return found;
}

static bool counters_zero(const struct husk_counters *c)
{
	static const struct husk_counters zero;

	return !memcmp(c, &zero, sizeof(zero));
}

static int counters_entry(struct dump *d)
{
	static const char *const names[] = {"rx_bytes",	  "rx_packets", "tx_bytes",
					    "tx_packets", "file_opens", "execs",
					    "forks",	  "denials",	"lost_events"};
	const struct husk_counters *c = d->value;
	const husk_u64 *fields = &c->rx_bytes;
	struct json_object *o, *sys;
	uint32_t slot = *(const uint32_t *)d->key;
	uint64_t owner;
	unsigned nr;
	size_t i;
	char *name;

	if (counters_zero(c))
		return 0;
	o = json_object_new_object();
	json_object_object_add(o, "slot", json_object_new_int64(slot));
	owner = slot_owner(d->h, slot);
	json_object_object_add(o, "cgroup_id", owner ? json_object_new_uint64(owner) : NULL);
	for (i = 0; i < ARRAY_SIZE(names); i++)
		json_object_object_add(o, names[i], json_object_new_uint64(fields[i]));
	sys = json_object_new_object();
	for (nr = 0; nr < HUSK_NR_SYSCALLS; nr++) {
		if (!c->syscalls[nr])
			continue;
		name = syscall_name(nr);
		if (name)
			json_object_object_add(sys, name, json_object_new_uint64(c->syscalls[nr]));
		free(name);
	}
	json_object_object_add(o, "syscalls", sys);
	json_object_array_add(d->out, o);
	return 0;
}

static void counters_text(const struct json_object *e)
{
	struct json_object *sys = json_object_object_get(e, "syscalls");
	const char *cgid = str(e, "cgroup_id");
	bool first = true;

	printf("slot %s (cgroup %s)\n", str(e, "slot"), cgid ? cgid : "none");
	printf("\trx %s bytes %s packets  tx %s bytes %s packets\n", str(e, "rx_bytes"),
	       str(e, "rx_packets"), str(e, "tx_bytes"), str(e, "tx_packets"));
	printf("\tfile_opens %s  execs %s  forks %s  denials %s  lost_events %s\n",
	       str(e, "file_opens"), str(e, "execs"), str(e, "forks"), str(e, "denials"),
	       str(e, "lost_events"));
	printf("\tsyscalls:");
	json_object_object_foreach(sys, name, count)
	{
		printf("%s %s %s", first ? "" : ",", name, json_object_get_string(count));
		first = false;
	}
	printf("%s\n", first ? " none" : "");
}

/* How a map of husk's is read, once its sizes are those of bpf/husk_abi.h. */
struct husk_map {
	const char *name;
	__u32 key_size, value_size;
	int (*entry)(struct dump *d);
	void (*text)(const struct json_object *e);
};

static const struct husk_map husk_maps[] = {
    {"husk_envs", sizeof(uint64_t), sizeof(struct husk_env_info), envs_entry, envs_text},
    {"husk_net4", sizeof(struct husk_net4_key), sizeof(struct husk_net_rules), net4_entry,
     net_text},
    {"husk_net6", sizeof(struct husk_net6_key), sizeof(struct husk_net_rules), net6_entry,
     net_text},
    {"husk_fs", sizeof(uint64_t), sizeof(struct husk_fs_policy), fs_entry, fs_text},
    {"husk_counters", sizeof(uint32_t), sizeof(struct husk_counters), counters_entry,
     counters_text},
};

static const struct husk_map *husk_map_of(const struct bpf_map_info *info)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(husk_maps); i++)
		if (!strcmp(info->name, husk_maps[i].name) &&
		    info->key_size == husk_maps[i].key_size &&
		    info->value_size == husk_maps[i].value_size)
			return &husk_maps[i];
	return NULL;
}

static int map_info(int fd, const char *name, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	if (bpf_obj_get_info_by_fd(fd, info, &len))
		return hctl_err("cannot query map %s: %s", name, strerror(errno));
	return 0;
}

static int dump_check(const char *name, const struct bpf_map_info *info)
{
	switch (info->type) {
	case BPF_MAP_TYPE_RINGBUF:
	case BPF_MAP_TYPE_USER_RINGBUF:
		return hctl_err("%s is a ring buffer: its records are consumed, not stored, and "
				"cannot be dumped (huskctl events shows them)",
				name);
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
	case BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE:
		return hctl_err("%s is a per-CPU map: huskctl does not decode those", name);
	default:
		return 0;
	}
}

static int dump_run(struct dump *d, const struct husk_map *hm)
{
	int rc;

	d->key = calloc(1, d->info.key_size);
	d->next = calloc(1, d->info.key_size);
	d->value = calloc(1, d->info.value_size);
	if (!d->key || !d->next || !d->value)
		return hctl_err("out of memory");
	if (!hm && d->info.btf_id) {
		d->btf = btf__load_from_kernel_by_id(d->info.btf_id);
		if (!d->btf)
			return hctl_err("cannot load the BTF of map %s: %s", d->info.name,
					strerror(errno));
	}
	rc = dump_each(d, hm ? hm->entry : generic_entry);
	btf__free(d->btf);
	return rc;
}

static int map_dump(struct hctl *h, int argc, char **argv)
{
	struct dump d = {.h = h};
	const struct husk_map *hm;
	bool raw;
	size_t i;
	int rc;

	if (argc < 1 || argc > 2 || (argc == 2 && strcmp(argv[1], "raw")))
		return hctl_err("usage: huskctl map dump NAME [raw]");
	raw = argc == 2;
	d.fd = hctl_pinned_map(h, argv[0]);
	if (d.fd < 0)
		return 1;
	rc = map_info(d.fd, argv[0], &d.info);
	if (!rc)
		rc = dump_check(argv[0], &d.info);
	hm = raw ? NULL : husk_map_of(&d.info);
	d.out = json_object_new_array();
	d.cg = hctl_cgroups_new();
	if (!rc)
		rc = dump_run(&d, hm);
	close(d.fd);
	free(d.key);
	free(d.next);
	free(d.value);
	hctl_cgroups_free(d.cg);
	if (rc) {
		json_object_put(d.out);
		return rc;
	}
	if (h->json)
		return hctl_print_json(h, d.out);
	for (i = 0; i < json_object_array_length(d.out); i++)
		(hm ? hm->text : generic_text)(json_object_array_get_idx(d.out, i));
	if (!json_object_array_length(d.out))
		printf("%s: no entries\n", argv[0]);
	json_object_put(d.out);
	return 0;
}

/* ---- show ---- */

/* bpftool's source too: the kernel says a map's memlock in its fdinfo. */
static struct json_object *memlock(int fd)
{
	char path[64], line[128];
	unsigned long long v;
	struct json_object *o = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	while (!o && fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			o = json_object_new_uint64(v);
	fclose(f);
	return o;
}

static struct json_object *map_json(const struct hctl_pin *pin)
{
	struct bpf_map_info info;
	struct json_object *o;
	const char *type;

	if (map_info(pin->fd, pin->path, &info))
		return NULL;
	type = libbpf_bpf_map_type_str((enum bpf_map_type)info.type);
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(info.id));
	json_object_object_add(o, "type", json_object_new_string(type ? type : "unknown"));
	json_object_object_add(o, "name", json_object_new_string(info.name));
	json_object_object_add(o, "key_size", json_object_new_int64(info.key_size));
	json_object_object_add(o, "value_size", json_object_new_int64(info.value_size));
	json_object_object_add(o, "max_entries", json_object_new_int64(info.max_entries));
	json_object_object_add(o, "flags", json_object_new_int64(info.map_flags));
	json_object_object_add(o, "memlock", memlock(pin->fd));
	json_object_object_add(o, "btf_id", json_object_new_int64(info.btf_id));
	json_object_object_add(o, "pinned", json_object_new_string(pin->path));
	return o;
}

static void map_text(const struct json_object *o)
{
	printf("%s: %s  name %s  flags 0x%x\n", str(o, "id"), str(o, "type"), str(o, "name"),
	       json_object_get_int(json_object_object_get(o, "flags")));
	printf("\tkey %sB  value %sB  max_entries %s  memlock %sB\n", str(o, "key_size"),
	       str(o, "value_size"), str(o, "max_entries"),
	       str(o, "memlock") ? str(o, "memlock") : "?");
	printf("\tbtf_id %s\n", str(o, "btf_id"));
	printf("\tpinned %s\n", str(o, "pinned"));
}

static int map_show(struct hctl *h, int argc, char **argv)
{
	static const char *const dirs[] = {"maps", NULL};
	struct json_object *arr, *o;
	struct hctl_pins pins;
	size_t i;
	int rc = 0;

	if (argc > 1)
		return hctl_err("usage: huskctl map show [NAME]");
	if (hctl_pins_load(h, dirs, &pins))
		return 1;
	arr = json_object_new_array();
	for (i = 0; i < pins.n && !rc; i++) {
		if (argc && strcmp(pins.v[i].name, argv[0]))
			continue;
		o = map_json(&pins.v[i]);
		if (o)
			json_object_array_add(arr, o);
		else
			rc = 1;
	}
	hctl_pins_free(&pins);
	if (!rc && argc && !json_object_array_length(arr))
		rc = hctl_err("no map %s pinned in %s/maps (see huskctl map show)", argv[0],
			      h->bpf_dir);
	if (rc) {
		json_object_put(arr);
		return rc;
	}
	return hctl_print_array(h, arr, map_text);
}

static const struct hctl_cmd map_cmds[] = {
    {"show", map_show, "show [NAME]"},
    {"list", map_show, "list [NAME]"},
    {"dump", map_dump, "dump NAME [raw]   (raw: BTF fields, not husk's meaning)"},
    {NULL, NULL, NULL},
};

int hctl_map(struct hctl *h, int argc, char **argv)
{
	return hctl_dispatch(h, "map", map_cmds, argc, argv);
}
