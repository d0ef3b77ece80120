/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A function's policy: what its environment may reach on the network, which
 * files it may read, write and execute, and which syscalls it gets beyond
 * the default seccomp profile. It is part of the function's configuration
 * ("Policy" in CreateFunction, UpdateFunctionConfiguration and
 * GetFunctionConfiguration), always returned in full with the defaults
 * filled in, and immutable once parsed (a function version owns one).
 *
 *   "Policy": {
 *     "Network": {
 *       "Egress": [{"Cidr": "192.0.2.0/24", "Ports": "443", "Protocol": "tcp"}],
 *       "Dns": false,
 *       "AllowHost": false
 *     },
 *     "Files": {"Read": [...], "Write": [...], "Exec": [...]},
 *     "Syscalls": {"Mode": "deny", "Action": "errno", "Errno": 1, "Names": [...]}
 *   }
 *
 * Every member is optional; an absent member takes its default. Egress
 * defaults to nothing (loopback only); Ports is "N" or "LO-HI" (1-65535,
 * default all), Protocol "tcp", "udp" or "any" (default). Files default to
 * HUSK_POLICY_DEFAULT_{READ,WRITE,EXEC}. Syscalls default to no extra rules;
 * Mode "deny" applies Action to the named syscalls, "allow" applies Action to
 * every syscall not named; either way the default profile's denials stay.
 */
#ifndef HUSK_POLICY_H
#define HUSK_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "husk.h"

struct json_object;

#define HUSK_POLICY_EGRESS_MAX 64
#define HUSK_POLICY_PATHS_MAX 16   /* per list */
#define HUSK_POLICY_PATH_MAX 128   /* bytes of one path prefix, with its NUL */
#define HUSK_POLICY_SYSCALLS_MAX 256

/* Protocol bits of an egress rule. */
#define HUSK_PROTO_TCP 0x1
#define HUSK_PROTO_UDP 0x2
#define HUSK_PROTO_ANY (HUSK_PROTO_TCP | HUSK_PROTO_UDP)

struct husk_egress_rule {
	int family;	  /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network byte order, host bits cleared; IPv4 in addr[0..3] */
	uint8_t prefix_len;
	uint8_t protocols; /* HUSK_PROTO_* */
	uint16_t port_lo;  /* host byte order, inclusive */
	uint16_t port_hi;
};

enum husk_sys_mode {
	HUSK_SYS_DENY,	/* Action for the named syscalls */
	HUSK_SYS_ALLOW, /* Action for every syscall not named */
};

enum husk_sys_action {
	HUSK_SYS_ERRNO, /* fail with Errno */
	HUSK_SYS_KILL,	/* kill the process */
	HUSK_SYS_LOG,	/* allow and log (audit) */
};

struct husk_path_list {
	char **paths; /* absolute, normalized (no trailing '/', no "." or ".." parts) */
	size_t n;
};

struct husk_policy {
	struct husk_egress_rule *egress;
	size_t n_egress;
	bool dns;	 /* port 53 to huskd's DNS servers */
	bool allow_host; /* the host's own addresses, as Egress allows them */
	struct husk_path_list read, write, exec;
	enum husk_sys_mode sys_mode;
	enum husk_sys_action sys_action;
	int sys_errno; /* 1..4095, for HUSK_SYS_ERRNO; default EPERM */
	char **syscalls; /* names as libseccomp knows them */
	size_t n_syscalls;
};

/* The defaults of the file lists, NULL terminated. */
extern const char *const husk_policy_default_read[];
extern const char *const husk_policy_default_write[];
extern const char *const husk_policy_default_exec[];

/*
 * Parse a "Policy" member (NULL or JSON null: the default policy). On error,
 * 400 InvalidParameterValueException whose message names the field, e.g.
 * "Policy.Network.Egress[2].Cidr: 10.0.0.0/33 is not an IPv4 or IPv6 CIDR".
 */
int husk_policy_parse(struct json_object *obj, struct husk_policy **out, struct husk_err *err);

/* The default policy; NULL when out of memory. */
struct husk_policy *husk_policy_default(void);

/* The policy as JSON, every member present (defaults filled in); NULL when out of memory. */
struct json_object *husk_policy_to_json(const struct husk_policy *p);

struct husk_policy *husk_policy_dup(const struct husk_policy *p);
void husk_policy_free(struct husk_policy *p);

/* Whether the environment needs a route out (a veth): any egress rule or DNS. */
bool husk_policy_wants_egress(const struct husk_policy *p);

/* Whether the syscall rules add anything to the default profile. */
bool husk_policy_has_syscall_rules(const struct husk_policy *p);

#endif
