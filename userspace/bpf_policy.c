// SPDX-License-Identifier: GPL-2.0
/*
 * An environment's policy in the BPF maps. Order matters: the policy maps
 * are written before husk_envs names the environment's rules, and an
 * environment is in husk_envs (loopback only) before its first process
 * runs, so no process of an environment ever runs unconfined.
 *
 * Egress rules become LPM entries keyed by (cgroup id, prefix). An LPM trie
 * answers with the longest matching prefix only, so each entry carries every
 * rule whose CIDR covers its prefix: 10.0.0.0/8 port 443 and 10.1.0.0/16
 * port 80 give 10.1.2.3 both ports.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_policy.h"
#include "policy.h"

/* One egress rule (or the DNS pseudo-rule) with its place in the policy. */
struct net_rule {
	const struct husk_egress_rule *r;
	uint16_t index; /* in Policy.Network.Egress, or HUSK_RULE_DNS */
};

static bool covers(const struct husk_egress_rule *outer, const struct husk_egress_rule *inner)
{
	unsigned bits = outer->prefix_len, i;

	if (outer->family != inner->family || outer->prefix_len > inner->prefix_len)
		return false;
	for (i = 0; i < bits / 8; i++)
		if (outer->addr[i] != inner->addr[i])
			return false;
	if (bits % 8) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits % 8));

		if ((outer->addr[i] & mask) != (inner->addr[i] & mask))
			return false;
	}
	return true;
}

static int rules_for(const struct net_rule *all, size_t n, const struct husk_egress_rule *entry,
		     struct husk_net_rules *val)
{
	size_t i;

	memset(val, 0, sizeof(*val));
	for (i = 0; i < n; i++) {
		struct husk_net_rule *out;

		if (!covers(all[i].r, entry))
			continue;
		if (val->n >= HUSK_NET_RULES_MAX)
			return -E2BIG;
		out = &val->r[val->n++];
		out->port_lo = all[i].r->port_lo;
		out->port_hi = all[i].r->port_hi;
		out->protocols = all[i].r->protocols;
		out->rule = all[i].index;
	}
	return 0;
}

static void cgid_words(uint64_t cgid, uint32_t w[2])
{
	w[0] = (uint32_t)(cgid >> 32);
	w[1] = (uint32_t)cgid;
}

static int lpm_write(const struct husk_bpf_maps *m, uint64_t cgid, const struct husk_egress_rule *r,
		     const struct husk_net_rules *val, bool del)
{
	struct husk_net4_key k4 = {.prefixlen = 64u + r->prefix_len};
	struct husk_net6_key k6 = {.prefixlen = 64u + r->prefix_len};
	const void *key;
	int fd;

	if (r->family == AF_INET) {
		cgid_words(cgid, k4.cgid);
		memcpy(&k4.addr, r->addr, 4);
		fd = m->net4;
		key = &k4;
	} else {
		cgid_words(cgid, k6.cgid);
		memcpy(k6.addr, r->addr, 16);
		fd = m->net6;
		key = &k6;
	}
	if (del)
		return bpf_map_delete_elem(fd, key) && errno != ENOENT ? -errno : 0;
	return bpf_map_update_elem(fd, key, val, BPF_ANY) ? -errno : 0;
}

/* The policy's egress rules plus DNS (port 53 to each server), in dns_rules. */
static int collect_rules(const struct husk_policy *p, const uint32_t *dns, size_t n_dns,
			 struct husk_egress_rule *dns_rules, struct net_rule **out, size_t *n_out)
{
	size_t n = 0, i, want = p->n_egress + (p->dns ? n_dns : 0);
	struct net_rule *all = calloc(want ? want : 1, sizeof(*all));

	if (!all)
		return -ENOMEM;
	for (i = 0; i < p->n_egress; i++)
		all[n++] = (struct net_rule){&p->egress[i], (uint16_t)i};
	for (i = 0; p->dns && i < n_dns; i++) {
		dns_rules[i] = (struct husk_egress_rule){.family = AF_INET,
							 .prefix_len = 32,
							 .protocols = HUSK_PROTO_ANY,
							 .port_lo = 53,
							 .port_hi = 53};
		memcpy(dns_rules[i].addr, &dns[i], 4);
		all[n++] = (struct net_rule){&dns_rules[i], HUSK_RULE_DNS};
	}
	*out = all;
	*n_out = n;
	return 0;
}

static int net_entries(const struct husk_bpf_maps *m, uint64_t cgid, const struct husk_policy *p,
		       const uint32_t *dns, size_t n_dns, bool del)
{
	struct husk_egress_rule dns_rules[8];
	struct husk_net_rules val;
	struct net_rule *all;
	size_t n, i;
	int rc, first = 0;

	if (n_dns > 8)
		n_dns = 8;
	rc = collect_rules(p, dns, n_dns, dns_rules, &all, &n);
	if (rc)
		return rc;
	for (i = 0; i < n; i++) {
		rc = del ? 0 : rules_for(all, n, all[i].r, &val);
		if (!rc)
			rc = lpm_write(m, cgid, all[i].r, &val, del);
		if (rc && !first)
			first = rc;
		if (rc && !del)
			break;
	}
	free(all);
	return first;
}

static int fs_entry(const struct husk_bpf_maps *m, uint64_t cgid, const struct husk_policy *p)
{
	const struct husk_path_list *lists[HUSK_FS_NR_KINDS] = {&p->read, &p->write, &p->exec};
	struct husk_fs_policy *fp = calloc(1, sizeof(*fp));
	int rc = 0, k;
	size_t i;

	if (!fp)
		return -ENOMEM;
	for (k = 0; k < HUSK_FS_NR_KINDS; k++) {
		for (i = 0; i < lists[k]->n && i < HUSK_FS_PATHS_MAX; i++) {
			struct husk_fs_prefix *pre = &fp->lists[k][i];

			snprintf(pre->path, sizeof(pre->path), "%s", lists[k]->paths[i]);
			pre->len = (uint32_t)strlen(pre->path);
		}
		fp->n[k] = (uint32_t)i;
	}
	if (bpf_map_update_elem(m->fs, &cgid, fp, BPF_ANY))
		rc = -errno;
	free(fp);
	return rc;
}

int husk_bpf_maps_policy(const struct husk_bpf_maps *m, uint64_t cgid, const struct husk_policy *p,
			 const uint32_t *dns, size_t n_dns)
{
	int rc = net_entries(m, cgid, p, dns, n_dns, false);

	if (!rc && m->fs >= 0)
		rc = fs_entry(m, cgid, p);
	if (rc)
		husk_bpf_maps_policy_del(m, cgid, p, dns, n_dns);
	return rc;
}

int husk_bpf_maps_policy_del(const struct husk_bpf_maps *m, uint64_t cgid,
			     const struct husk_policy *p, const uint32_t *dns, size_t n_dns)
{
	if (m->fs >= 0)
		bpf_map_delete_elem(m->fs, &cgid);
	return net_entries(m, cgid, p, dns, n_dns, true);
}
