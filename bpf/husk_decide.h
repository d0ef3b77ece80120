/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The decisions of every husk hook, as inline functions of plain values.
 * The cgroup programs (husk.bpf.c), the LSM programs (husk_lsm.bpf.c) and
 * the SEC("syscall") test programs (husk_test.bpf.c) all call these, so the
 * verifier of a kernel that cannot load LSM programs still checks the logic
 * of the LSM path, and tests run it through BPF_PROG_TEST_RUN.
 *
 * Include after vmlinux.h, the libbpf headers and husk_maps.h.
 */
#ifndef HUSK_BPF_DECIDE_H
#define HUSK_BPF_DECIDE_H

#include "husk_maps.h"

#ifndef AF_UNIX
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#endif
#define HUSK_SOCK_STREAM 1
#define HUSK_SOCK_DGRAM 2
#define HUSK_IPPROTO_TCP 6
#define HUSK_IPPROTO_UDP 17
#define HUSK_DEVCG_DEV_BLOCK 1
#define HUSK_DEVCG_DEV_CHAR 2

struct husk_verdict {
	__u32 allow;
	__u32 reason; /* enum husk_deny_reason when !allow */
	__s32 rule;   /* closest rule, -1 for none */
};

static __always_inline __u32 husk_proto_bit(__u32 protocol)
{
	if (protocol == HUSK_IPPROTO_TCP)
		return HUSK_NET_TCP;
	if (protocol == HUSK_IPPROTO_UDP)
		return HUSK_NET_UDP;
	return 0;
}

/* The rules of the longest prefix that covers the address decide. */
static __always_inline void husk_net_match(const struct husk_net_rules *rules, __u32 port,
					   __u32 protocol, struct husk_verdict *v)
{
	__u32 bit = husk_proto_bit(protocol);
	__u32 i;

	v->allow = 0;
	v->reason = rules ? HUSK_DENY_EGRESS_PORT : HUSK_DENY_EGRESS;
	v->rule = -1;
	if (!rules)
		return;
	for (i = 0; i < HUSK_NET_RULES_MAX; i++) {
		const struct husk_net_rule *r = &rules->r[i];

		if (i >= rules->n)
			break;
		if (v->rule < 0)
			v->rule = r->rule == HUSK_RULE_DNS ? -1 : r->rule;
		if (!(r->protocols & bit) || port < r->port_lo || port > r->port_hi)
			continue;
		v->allow = 1;
		v->rule = r->rule == HUSK_RULE_DNS ? -1 : r->rule;
		return;
	}
}

static __always_inline bool husk_ip4_loopback(__u32 addr_be)
{
	return (bpf_ntohl(addr_be) >> 24) == 127;
}

/* connect4 / sendmsg4 (and the LSM socket_connect hook) */
static __always_inline void husk_decide_net4(__u64 cgid, __u32 addr_be, __u32 port, __u32 protocol,
					     struct husk_verdict *v)
{
	struct husk_net4_key key = {
	    .prefixlen = 64 + 32,
	    .cgid = {(__u32)(cgid >> 32), (__u32)cgid},
	    .addr = addr_be,
	};

	if (husk_ip4_loopback(addr_be)) {
		v->allow = 1;
		v->reason = 0;
		v->rule = -1;
		return;
	}
	husk_net_match(bpf_map_lookup_elem(&husk_net4, &key), port, protocol, v);
}

static __always_inline bool husk_ip6_loopback(const __u32 a[4])
{
	return !a[0] && !a[1] && !a[2] && a[3] == bpf_htonl(1);
}

static __always_inline bool husk_ip6_v4mapped(const __u32 a[4])
{
	return !a[0] && !a[1] && a[2] == bpf_htonl(0xffff);
}

static __always_inline void husk_decide_net6(__u64 cgid, const __u32 addr[4], __u32 port,
					     __u32 protocol, struct husk_verdict *v)
{
	struct husk_net6_key key = {
	    .prefixlen = 64 + 128,
	    .cgid = {(__u32)(cgid >> 32), (__u32)cgid},
	};

	if (husk_ip6_v4mapped(addr)) {
		husk_decide_net4(cgid, addr[3], port, protocol, v);
		return;
	}
	if (husk_ip6_loopback(addr)) {
		v->allow = 1;
		v->reason = 0;
		v->rule = -1;
		return;
	}
	key.addr[0] = addr[0];
	key.addr[1] = addr[1];
	key.addr[2] = addr[2];
	key.addr[3] = addr[3];
	husk_net_match(bpf_map_lookup_elem(&husk_net6, &key), port, protocol, v);
}

/* bind: loopback only, so nothing can listen where traffic could come in. */
static __always_inline bool husk_decide_bind4(__u32 addr_be)
{
	return husk_ip4_loopback(addr_be);
}

static __always_inline bool husk_decide_bind6(const __u32 addr[4])
{
	if (husk_ip6_v4mapped(addr))
		return husk_ip4_loopback(addr[3]);
	return husk_ip6_loopback(addr);
}

/*
 * socket(): Unix sockets, and TCP and UDP over IPv4 and IPv6. Raw inet
 * sockets (and ICMP datagram sockets) are refused. (Packet and netlink
 * sockets never reach the cgroup hook; seccomp and the missing
 * CAP_NET_RAW refuse them.)
 */
static __always_inline bool husk_decide_socket(__u32 family, __u32 type, __u32 protocol)
{
	type &= 0xf; /* SOCK_NONBLOCK / SOCK_CLOEXEC live above */
	if (family == AF_UNIX)
		return true;
	if (family != AF_INET && family != AF_INET6)
		return false;
	if (type == HUSK_SOCK_STREAM)
		return protocol == 0 || protocol == HUSK_IPPROTO_TCP;
	if (type == HUSK_SOCK_DGRAM)
		return protocol == 0 || protocol == HUSK_IPPROTO_UDP;
	return false;
}

/* The character devices of an environment's /dev: null, zero, full, random, urandom. */
static __always_inline bool husk_decide_dev(__u32 type, __u32 major, __u32 minor)
{
	if (type != HUSK_DEVCG_DEV_CHAR || major != 1)
		return false;
	return minor == 3 || minor == 5 || minor == 7 || minor == 8 || minor == 9;
}

/* Whether prefix p covers path: equal, or path continues with '/' after it. */
static __always_inline bool husk_prefix_covers(const struct husk_fs_prefix *p, const char *path)
{
	__u32 len = p->len, i;

	if (len == 0 || len >= HUSK_FS_PATH_MAX)
		return false;
	/* "/" covers every absolute path */
	if (len == 1 && p->path[0] == '/')
		return path[0] == '/';
	for (i = 0; i < HUSK_FS_PATH_MAX; i++) {
		if (i >= len)
			break;
		if (path[i] != p->path[i])
			return false;
	}
	if (len >= HUSK_FS_PATH_MAX)
		return false;
	return path[len & (HUSK_FS_PATH_MAX - 1)] == '/' || path[len & (HUSK_FS_PATH_MAX - 1)] == 0;
}

/*
 * Whether the path (NUL-terminated within HUSK_FS_PATH_MAX bytes, as seen
 * from the environment's root) is in the list of kind. A path longer than
 * that buffer is judged by its first bytes, so prefixes must be shorter.
 */
static __always_inline bool husk_decide_path(const struct husk_fs_policy *fp, __u32 kind,
					     const char *path)
{
	__u32 i;

	if (kind >= HUSK_FS_NR_KINDS)
		return false;
	for (i = 0; i < HUSK_FS_PATHS_MAX; i++) {
		if (i >= fp->n[kind])
			break;
		if (husk_prefix_covers(&fp->lists[kind][i], path))
			return true;
	}
	return false;
}

static __always_inline __u32 husk_fs_deny_reason(__u32 kind)
{
	if (kind == HUSK_FS_KIND_WRITE)
		return HUSK_DENY_FILE_WRITE;
	if (kind == HUSK_FS_KIND_EXEC)
		return HUSK_DENY_FILE_EXEC;
	return HUSK_DENY_FILE_READ;
}

/* A signal may go only to a task of the same environment. */
static __always_inline bool husk_decide_signal(__u64 src_cgid, __u64 dst_cgid)
{
	return src_cgid == dst_cgid;
}

/* Per-environment counters of the task's environment, or NULL. */
static __always_inline struct husk_counters *husk_counters_of(const struct husk_env_info *env)
{
	__u32 slot = env->slot;

	return bpf_map_lookup_elem(&husk_counters, &slot);
}

static __always_inline void husk_count(__u64 *c, __u64 n)
{
	__sync_fetch_and_add(c, n);
}

/* Reserve a ring-buffer record, or count it lost. */
static __always_inline void *husk_event_reserve(struct husk_counters *c, __u64 size, __u64 cgid,
						__u32 slot, __u32 type)
{
	struct husk_event_hdr *h = bpf_ringbuf_reserve(&husk_events, size, 0);

	if (!h) {
		if (c)
			husk_count(&c->lost_events, 1);
		return NULL;
	}
	h->cgid = cgid;
	h->slot = slot;
	h->ts_ns = bpf_ktime_get_ns();
	h->type = type;
	h->pid = bpf_get_current_pid_tgid() >> 32;
	return h;
}

static __always_inline struct husk_ev_deny *husk_deny_reserve(const struct husk_env_info *env,
							      __u64 cgid, __u32 reason)
{
	struct husk_counters *c = husk_counters_of(env);
	struct husk_ev_deny *ev;

	if (c)
		husk_count(&c->denials, 1);
	ev = husk_event_reserve(c, sizeof(*ev), cgid, env->slot, HUSK_EV_DENY);
	if (!ev)
		return NULL;
	__builtin_memset(&ev->reason, 0, sizeof(*ev) - sizeof(ev->hdr));
	ev->reason = reason;
	ev->rule = -1;
	return ev;
}

#endif
