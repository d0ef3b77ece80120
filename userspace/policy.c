// SPDX-License-Identifier: GPL-2.0
/*
 * A function's policy: validation of the "Policy" member API callers send,
 * its defaults, and the JSON huskd answers and stores. Unlike the rest of
 * FunctionConfiguration, unknown members are refused: a misspelt rule that
 * were silently ignored would leave a function less confined than its
 * author believes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "err.h"
#include "json_util.h"
#include "policy.h"

/* clang-format off */
const char *const husk_policy_default_read[] = {
	"/usr", "/bin", "/sbin", "/lib", "/lib64", "/etc", "/var/task", "/opt", "/proc", "/dev",
	"/tmp", NULL,
};
const char *const husk_policy_default_write[] = {"/tmp", "/dev", NULL};
const char *const husk_policy_default_exec[] = {
	"/usr", "/bin", "/sbin", "/lib", "/lib64", "/var/task", NULL,
};

static const char *const policy_keys[] = {"Network", "Files", "Syscalls", NULL};
static const char *const network_keys[] = {"Egress", "Dns", "AllowHost", NULL};
static const char *const rule_keys[] = {"Cidr", "Ports", "Protocol", NULL};
static const char *const files_keys[] = {"Read", "Write", "Exec", NULL};
static const char *const syscalls_keys[] = {"Mode", "Action", "Errno", "Names", NULL};

/* Indexed by the enums and the protocol bits. */
static const char *const mode_names[] = {[HUSK_SYS_DENY] = "deny", [HUSK_SYS_ALLOW] = "allow"};
static const char *const action_names[] = {
	[HUSK_SYS_ERRNO] = "errno", [HUSK_SYS_KILL] = "kill", [HUSK_SYS_LOG] = "log",
};
static const char *const proto_names[] = {
	[HUSK_PROTO_TCP] = "tcp", [HUSK_PROTO_UDP] = "udp", [HUSK_PROTO_ANY] = "any",
};
/* clang-format on */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* Room for a field name in messages: "Policy.Network.Egress[63].Protocol". */
#define FIELD_MAX 64
#define ERRNO_MAX 4095
/* "ffff:...:ffff/128" and a NUL. */
#define CIDR_TEXT_MAX (INET6_ADDRSTRLEN + 4)

static int no_memory(struct husk_err *err)
{
	husk_err_set(err, 500, HUSK_E_SERVICE, "out of memory while reading the Policy");
	return -ENOMEM;
}

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return true;
	return false;
}

static int unknown_field(const char *field, const char *key, const char *const *keys,
			 struct husk_err *err)
{
	char known[64] = "";
	size_t i;

	for (i = 0; keys[i]; i++) {
		strcat(known, i ? ", " : "");
		strcat(known, keys[i]);
	}
	return husk_err_invalid(err, "%s.%.64s: unknown field (known: %s)", field, key, known);
}

/* obj must be an object with no members but keys. */
static int check_object(struct json_object *obj, const char *field, const char *const *keys,
			struct husk_err *err)
{
	if (!json_object_is_type(obj, json_type_object))
		return husk_err_invalid(err, "%s must be an object, got %s", field, husk_json_type(obj));
	json_object_object_foreach(obj, key, val)
	{
		(void)val;
		if (!in_list(key, keys))
			return unknown_field(field, key, keys, err);
	}
	return 0;
}

static const char *type_phrase(enum json_type type)
{
	switch (type) {
	case json_type_array:
		return "an array";
	case json_type_int:
		return "an integer";
	case json_type_boolean:
		return "a boolean";
	default:
		return "a string";
	}
}

/* The typed getters leave *out as it is when the member is absent. */
static int get_typed(struct json_object *obj, const char *field, const char *key,
		     enum json_type type, struct json_object **out, struct husk_err *err)
{
	struct json_object *v = husk_json_member(obj, key);

	if (!v)
		return 0;
	if (!json_object_is_type(v, type))
		return husk_err_invalid(err, "%s.%s must be %s, got %s", field, key, type_phrase(type),
			       husk_json_type(v));
	*out = v;
	return 0;
}

static int get_bool(struct json_object *obj, const char *field, const char *key, bool *out,
		    struct husk_err *err)
{
	struct json_object *v = NULL;
	int rc = get_typed(obj, field, key, json_type_boolean, &v, err);

	if (!rc && v)
		*out = json_object_get_boolean(v);
	return rc;
}

static int check_no_nul(struct json_object *s, const char *field, struct husk_err *err)
{
	if (strlen(json_object_get_string(s)) != (size_t)json_object_get_string_len(s))
		return husk_err_invalid(err, "%s must not contain a NUL character", field);
	return 0;
}

static int get_string(struct json_object *obj, const char *field, const char *key, const char **out,
		      struct husk_err *err)
{
	struct json_object *v = NULL;
	char name[FIELD_MAX];
	int rc = get_typed(obj, field, key, json_type_string, &v, err);

	if (rc || !v)
		return rc;
	snprintf(name, sizeof(name), "%s.%s", field, key);
	rc = check_no_nul(v, name, err);
	if (!rc)
		*out = json_object_get_string(v);
	return rc;
}

/* The spellings of an enum-like member, indexed by value (NULL: no spelling). */
struct choice {
	const char *const *names;
	size_t n;
	const char *expected; /* for messages */
};

static const struct choice mode_choice = {mode_names, ARRAY_SIZE(mode_names), "deny or allow"};
static const struct choice action_choice = {action_names, ARRAY_SIZE(action_names),
					    "errno, kill or log"};
static const struct choice proto_choice = {proto_names, ARRAY_SIZE(proto_names), "tcp, udp or any"};

/* *out stays as it is when the member is absent. */
static int get_choice(struct json_object *obj, const char *field, const char *key,
		      const struct choice *c, int *out, struct husk_err *err)
{
	const char *s = NULL;
	size_t i;
	int rc = get_string(obj, field, key, &s, err);

	if (rc || !s)
		return rc;
	for (i = 0; i < c->n; i++) {
		if (c->names[i] && !strcmp(s, c->names[i])) {
			*out = i;
			return 0;
		}
	}
	return husk_err_invalid(err, "%s.%s: %.32s is not %s", field, key, s, c->expected);
}

static void strv_free(char **v, size_t n)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* A copy of src[0..n); NULL when out of memory. */
static char **strv_dup(const char *const *src, size_t n)
{
	char **v = calloc(n + 1, sizeof(*v));
	size_t i;

	if (!v)
		return NULL;
	for (i = 0; i < n; i++) {
		v[i] = strdup(src[i]);
		if (!v[i]) {
			strv_free(v, i);
			return NULL;
		}
	}
	return v;
}

static size_t strv_len(const char *const *v)
{
	size_t n = 0;

	while (v[n])
		n++;
	return n;
}

static int list_set(struct husk_path_list *l, const char *const *src, size_t n)
{
	char **v = strv_dup(src, n);

	if (!v)
		return -ENOMEM;
	strv_free(l->paths, l->n);
	l->paths = v;
	l->n = n;
	return 0;
}

void husk_policy_free(struct husk_policy *p)
{
	if (!p)
		return;
	free(p->egress);
	strv_free(p->read.paths, p->read.n);
	strv_free(p->write.paths, p->write.n);
	strv_free(p->exec.paths, p->exec.n);
	strv_free(p->syscalls, p->n_syscalls);
	free(p);
}

struct husk_policy *husk_policy_default(void)
{
	struct husk_policy *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->sys_mode = HUSK_SYS_DENY;
	p->sys_action = HUSK_SYS_ERRNO;
	p->sys_errno = EPERM;
	if (list_set(&p->read, husk_policy_default_read, strv_len(husk_policy_default_read)) ||
	    list_set(&p->write, husk_policy_default_write, strv_len(husk_policy_default_write)) ||
	    list_set(&p->exec, husk_policy_default_exec, strv_len(husk_policy_default_exec))) {
		husk_policy_free(p);
		return NULL;
	}
	return p;
}

struct husk_policy *husk_policy_dup(const struct husk_policy *src)
{
	struct husk_policy *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	*p = (struct husk_policy){
	    .n_egress = src->n_egress,
	    .dns = src->dns,
	    .allow_host = src->allow_host,
	    .sys_mode = src->sys_mode,
	    .sys_action = src->sys_action,
	    .sys_errno = src->sys_errno,
	};
	p->egress = calloc(src->n_egress + 1, sizeof(*p->egress));
	if (p->egress && src->n_egress)
		memcpy(p->egress, src->egress, src->n_egress * sizeof(*p->egress));
	p->syscalls = strv_dup((const char *const *)src->syscalls, src->n_syscalls);
	if (p->syscalls)
		p->n_syscalls = src->n_syscalls;
	if (!p->egress || !p->syscalls ||
	    list_set(&p->read, (const char *const *)src->read.paths, src->read.n) ||
	    list_set(&p->write, (const char *const *)src->write.paths, src->write.n) ||
	    list_set(&p->exec, (const char *const *)src->exec.paths, src->exec.n)) {
		husk_policy_free(p);
		return NULL;
	}
	return p;
}

bool husk_policy_wants_egress(const struct husk_policy *p)
{
	return p->n_egress > 0 || p->dns;
}

bool husk_policy_has_syscall_rules(const struct husk_policy *p)
{
	return p->n_syscalls > 0;
}

/* s[0..len) as a decimal number of at most max, digits only (no sign, no space). */
static bool parse_decimal(const char *s, size_t len, unsigned max, unsigned *out)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 5)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/* Whether addr (of bytes bytes) has a bit set below its first prefix_len bits. */
static bool host_bits_set(const uint8_t *addr, unsigned prefix_len, unsigned bytes)
{
	unsigned i;

	for (i = prefix_len / 8; i < bytes; i++) {
		uint8_t host = i == prefix_len / 8 ? 0xff >> (prefix_len % 8) : 0xff;

		if (addr[i] & host)
			return true;
	}
	return false;
}

static void clear_host_bits(uint8_t *addr, unsigned prefix_len, unsigned bytes)
{
	unsigned i;

	for (i = prefix_len / 8; i < bytes; i++)
		addr[i] &= i == prefix_len / 8 ? ~(0xff >> (prefix_len % 8)) : 0;
}

static void format_cidr(int family, const uint8_t *addr, unsigned prefix_len, char *buf, size_t len)
{
	char text[INET6_ADDRSTRLEN];

	if (!inet_ntop(family, addr, text, sizeof(text)))
		strcpy(text, "?");
	snprintf(buf, len, "%s/%u", text, prefix_len);
}

static int parse_cidr(const char *s, const char *field, struct husk_egress_rule *r,
		      struct husk_err *err)
{
	const char *slash = strchr(s, '/');
	char addr[INET6_ADDRSTRLEN], net[CIDR_TEXT_MAX];
	unsigned prefix_len, bits;
	int family;

	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		goto bad;
	memcpy(addr, s, slash - s);
	addr[slash - s] = '\0';
	family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	bits = family == AF_INET ? 32 : 128;
	if (inet_pton(family, addr, r->addr) != 1 ||
	    !parse_decimal(slash + 1, strlen(slash + 1), bits, &prefix_len))
		goto bad;
	if (host_bits_set(r->addr, prefix_len, bits / 8)) {
		clear_host_bits(r->addr, prefix_len, bits / 8);
		format_cidr(family, r->addr, prefix_len, net, sizeof(net));
		return husk_err_invalid(err, "%s.Cidr: %s has host bits set; the network is %s", field, s,
			       net);
	}
	r->family = family;
	r->prefix_len = prefix_len;
	return 0;
bad:
	return husk_err_invalid(err, "%s.Cidr: %.64s is not an IPv4 or IPv6 CIDR (ADDRESS/PREFIX)", field,
		       s);
}

static int parse_ports(const char *s, const char *field, struct husk_egress_rule *r,
		       struct husk_err *err)
{
	const char *dash = strchr(s, '-');
	size_t lo_len = dash ? (size_t)(dash - s) : strlen(s);
	unsigned lo, hi;

	if (!parse_decimal(s, lo_len, 65535, &lo) || lo == 0)
		goto bad;
	hi = lo;
	if (dash && (!parse_decimal(dash + 1, strlen(dash + 1), 65535, &hi) || hi == 0))
		goto bad;
	if (lo > hi)
		return husk_err_invalid(err, "%s.Ports: %.32s is an empty range: LO must not be above HI",
			       field, s);
	r->port_lo = lo;
	r->port_hi = hi;
	return 0;
bad:
	return husk_err_invalid(err, "%s.Ports: %.32s is not a port N or a range LO-HI of ports 1-65535",
		       field, s);
}

static int parse_rule(struct json_object *obj, const char *field, struct husk_egress_rule *r,
		      struct husk_err *err)
{
	const char *cidr = NULL, *ports = NULL;
	int proto = HUSK_PROTO_ANY, rc;

	r->port_lo = 1;
	r->port_hi = 65535;
	rc = check_object(obj, field, rule_keys, err);
	if (!rc)
		rc = get_string(obj, field, "Cidr", &cidr, err);
	if (!rc && !cidr)
		rc = husk_err_invalid(err, "%s.Cidr is required", field);
	if (!rc)
		rc = parse_cidr(cidr, field, r, err);
	if (!rc)
		rc = get_string(obj, field, "Ports", &ports, err);
	if (!rc && ports)
		rc = parse_ports(ports, field, r, err);
	if (!rc)
		rc = get_choice(obj, field, "Protocol", &proto_choice, &proto, err);
	r->protocols = proto;
	return rc;
}

static int parse_egress(struct json_object *net, struct husk_policy *p, struct husk_err *err)
{
	struct json_object *arr = NULL;
	char field[FIELD_MAX];
	size_t i, n;
	int rc;

	rc = get_typed(net, "Policy.Network", "Egress", json_type_array, &arr, err);
	if (rc || !arr)
		return rc;
	n = json_object_array_length(arr);
	if (n > HUSK_POLICY_EGRESS_MAX)
		return husk_err_invalid(err, "Policy.Network.Egress has %zu rules, more than the %d allowed",
			       n, HUSK_POLICY_EGRESS_MAX);
	p->egress = calloc(n + 1, sizeof(*p->egress));
	if (!p->egress)
		return no_memory(err);
	for (i = 0; i < n; i++) {
		snprintf(field, sizeof(field), "Policy.Network.Egress[%zu]", i);
		rc = parse_rule(json_object_array_get_idx(arr, i), field, &p->egress[i], err);
		if (rc)
			return rc;
	}
	p->n_egress = n;
	return 0;
}

static int parse_network(struct json_object *policy, struct husk_policy *p, struct husk_err *err)
{
	struct json_object *net = husk_json_member(policy, "Network");
	int rc;

	if (!net)
		return 0;
	rc = check_object(net, "Policy.Network", network_keys, err);
	if (!rc)
		rc = parse_egress(net, p, err);
	if (!rc)
		rc = get_bool(net, "Policy.Network", "Dns", &p->dns, err);
	if (!rc)
		rc = get_bool(net, "Policy.Network", "AllowHost", &p->allow_host, err);
	return rc;
}

static bool dot_component(const char *c, size_t len)
{
	return (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.');
}

/*
 * in as an absolute path without repeated or trailing '/' into
 * out[HUSK_POLICY_PATH_MAX]; "." and ".." components are refused, not
 * resolved, since the rules are matched against paths the kernel resolved.
 */
static int normalize_path(const char *in, const char *field, char *out, struct husk_err *err)
{
	const char *c = in, *end;
	size_t n = 0, len;

	if (*in != '/')
		return husk_err_invalid(err, "%s: %.64s is not an absolute path", field, in);
	for (;;) {
		while (*c == '/')
			c++;
		if (!*c)
			break;
		end = strchrnul(c, '/');
		len = end - c;
		if (dot_component(c, len))
			return husk_err_invalid(err, "%s: %.64s has a '.' or '..' component", field, in);
		if (n + 1 + len >= HUSK_POLICY_PATH_MAX)
			return husk_err_invalid(err, "%s: %.64s... is longer than %d bytes", field, in,
				       HUSK_POLICY_PATH_MAX - 1);
		out[n++] = '/';
		memcpy(out + n, c, len);
		n += len;
		c = end;
	}
	if (!n)
		out[n++] = '/';
	out[n] = '\0';
	return 0;
}

static int parse_path(struct json_object *v, const char *field, char **paths, size_t n,
		      struct husk_err *err)
{
	char norm[HUSK_POLICY_PATH_MAX];
	size_t i;
	int rc;

	if (!json_object_is_type(v, json_type_string))
		return husk_err_invalid(err, "%s must be a string, got %s", field, husk_json_type(v));
	rc = check_no_nul(v, field, err);
	if (!rc)
		rc = normalize_path(json_object_get_string(v), field, norm, err);
	if (rc)
		return rc;
	for (i = 0; i < n; i++)
		if (!strcmp(paths[i], norm))
			return husk_err_invalid(err, "%s: %s is listed twice", field, norm);
	paths[n] = strdup(norm);
	return paths[n] ? 0 : no_memory(err);
}

/* Replace *l with the list Policy.Files.<key> when the member is there. */
static int parse_paths(struct json_object *files, const char *key, struct husk_path_list *l,
		       struct husk_err *err)
{
	struct json_object *arr = NULL;
	char field[FIELD_MAX], **paths;
	size_t i, n;
	int rc;

	rc = get_typed(files, "Policy.Files", key, json_type_array, &arr, err);
	if (rc || !arr)
		return rc;
	n = json_object_array_length(arr);
	if (n > HUSK_POLICY_PATHS_MAX)
		return husk_err_invalid(err, "Policy.Files.%s has %zu paths, more than the %d allowed", key,
			       n, HUSK_POLICY_PATHS_MAX);
	paths = calloc(n + 1, sizeof(*paths));
	if (!paths)
		return no_memory(err);
	for (i = 0; i < n; i++) {
		snprintf(field, sizeof(field), "Policy.Files.%s[%zu]", key, i);
		rc = parse_path(json_object_array_get_idx(arr, i), field, paths, i, err);
		if (rc) {
			strv_free(paths, i);
			return rc;
		}
	}
	strv_free(l->paths, l->n);
	l->paths = paths;
	l->n = n;
	return 0;
}

static int parse_files(struct json_object *policy, struct husk_policy *p, struct husk_err *err)
{
	struct json_object *files = husk_json_member(policy, "Files");
	int rc;

	if (!files)
		return 0;
	rc = check_object(files, "Policy.Files", files_keys, err);
	if (!rc)
		rc = parse_paths(files, "Read", &p->read, err);
	if (!rc)
		rc = parse_paths(files, "Write", &p->write, err);
	if (!rc)
		rc = parse_paths(files, "Exec", &p->exec, err);
	return rc;
}

static int parse_syscall_name(struct json_object *v, const char *field, char **names, size_t n,
			      struct husk_err *err)
{
	const char *name;
	size_t i;
	int rc;

	if (!json_object_is_type(v, json_type_string))
		return husk_err_invalid(err, "%s must be a string, got %s", field, husk_json_type(v));
	rc = check_no_nul(v, field, err);
	if (rc)
		return rc;
	name = json_object_get_string(v);
	/* Negative: unknown, or a pseudo-syscall of another ABI (socketcall on x86-64). */
	if (seccomp_syscall_resolve_name(name) < 0)
		return husk_err_invalid(err, "%s: %.64s is not a syscall of this host's architecture", field,
			       name);
	for (i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return husk_err_invalid(err, "%s: %s is listed twice", field, name);
	names[n] = strdup(name);
	return names[n] ? 0 : no_memory(err);
}

static int parse_names(struct json_object *sys, struct husk_policy *p, struct husk_err *err)
{
	struct json_object *arr = NULL;
	char field[FIELD_MAX];
	size_t i, n;
	int rc;

	rc = get_typed(sys, "Policy.Syscalls", "Names", json_type_array, &arr, err);
	if (rc || !arr)
		return rc;
	n = json_object_array_length(arr);
	if (n > HUSK_POLICY_SYSCALLS_MAX)
		return husk_err_invalid(err,
			       "Policy.Syscalls.Names has %zu syscalls, more than the %d allowed",
			       n, HUSK_POLICY_SYSCALLS_MAX);
	p->syscalls = calloc(n + 1, sizeof(*p->syscalls));
	if (!p->syscalls)
		return no_memory(err);
	for (i = 0; i < n; i++, p->n_syscalls++) {
		snprintf(field, sizeof(field), "Policy.Syscalls.Names[%zu]", i);
		rc = parse_syscall_name(json_object_array_get_idx(arr, i), field, p->syscalls, i,
					err);
		if (rc)
			return rc;
	}
	return 0;
}

static int parse_errno(struct json_object *sys, struct husk_policy *p, struct husk_err *err)
{
	struct json_object *v = NULL;
	int64_t n;
	int rc;

	rc = get_typed(sys, "Policy.Syscalls", "Errno", json_type_int, &v, err);
	if (rc || !v)
		return rc;
	if (p->sys_action != HUSK_SYS_ERRNO)
		return husk_err_invalid(err, "Policy.Syscalls.Errno is only valid with Action errno, not %s",
			       action_names[p->sys_action]);
	n = json_object_get_int64(v);
	if (n < 1 || n > ERRNO_MAX)
		return husk_err_invalid(err, "Policy.Syscalls.Errno must be between 1 and %d, got %lld",
			       ERRNO_MAX, (long long)n);
	p->sys_errno = n;
	return 0;
}

static bool names_syscall(const struct husk_policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n_syscalls; i++)
		if (!strcmp(p->syscalls[i], name))
			return true;
	return false;
}

/* An allow list that cannot even start the runtime is a mistake: say so now. */
static int check_allow_list(const struct husk_policy *p, struct husk_err *err)
{
	if (p->sys_mode != HUSK_SYS_ALLOW)
		return 0;
	if (!p->n_syscalls)
		return husk_err_invalid(err, "Policy.Syscalls.Names is empty: Mode allow would deny every "
				    "syscall; name the syscalls the function may make");
	if (p->sys_action != HUSK_SYS_LOG && !names_syscall(p, "execve"))
		return husk_err_invalid(err, "Policy.Syscalls.Names must name execve with Mode allow: the "
				    "filter is in force when the runtime is executed");
	return 0;
}

static int parse_syscalls(struct json_object *policy, struct husk_policy *p, struct husk_err *err)
{
	struct json_object *sys = husk_json_member(policy, "Syscalls");
	int mode = p->sys_mode, action = p->sys_action, rc;

	if (!sys)
		return 0;
	rc = check_object(sys, "Policy.Syscalls", syscalls_keys, err);
	if (!rc)
		rc = get_choice(sys, "Policy.Syscalls", "Mode", &mode_choice, &mode, err);
	if (!rc)
		rc = get_choice(sys, "Policy.Syscalls", "Action", &action_choice, &action, err);
	p->sys_mode = mode;
	p->sys_action = action;
	if (!rc)
		rc = parse_errno(sys, p, err);
	if (!rc)
		rc = parse_names(sys, p, err);
	if (!rc)
		rc = check_allow_list(p, err);
	return rc;
}

int husk_policy_parse(struct json_object *obj, struct husk_policy **out, struct husk_err *err)
{
	struct husk_policy *p = husk_policy_default();
	int rc;

	if (!p)
		return no_memory(err);
	rc = obj ? check_object(obj, "Policy", policy_keys, err) : 0;
	if (!rc && obj)
		rc = parse_network(obj, p, err);
	if (!rc && obj)
		rc = parse_files(obj, p, err);
	if (!rc && obj)
		rc = parse_syscalls(obj, p, err);
	if (rc) {
		husk_policy_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

/* json-c reports allocation failures by return values; collect them. */
static int add(struct json_object *o, const char *key, struct json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_object_add(o, key, v)) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static int add_str(struct json_object *o, const char *key, const char *s)
{
	return add(o, key, json_object_new_string(s));
}

static int append(struct json_object *arr, struct json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_array_add(arr, v)) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

/* o itself, or NULL (and o freed) when building it failed. */
static struct json_object *built(struct json_object *o, int rc)
{
	if (rc) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *strv_json(char *const *v, size_t n)
{
	struct json_object *arr = json_object_new_array();
	int rc = arr ? 0 : -ENOMEM;
	size_t i;

	for (i = 0; !rc && i < n; i++)
		rc = append(arr, json_object_new_string(v[i]));
	return built(arr, rc);
}

static struct json_object *rule_json(const struct husk_egress_rule *r)
{
	struct json_object *o = json_object_new_object();
	char cidr[CIDR_TEXT_MAX], ports[16];
	int rc;

	if (!o)
		return NULL;
	format_cidr(r->family, r->addr, r->prefix_len, cidr, sizeof(cidr));
	if (r->port_lo == r->port_hi)
		snprintf(ports, sizeof(ports), "%u", r->port_lo);
	else
		snprintf(ports, sizeof(ports), "%u-%u", r->port_lo, r->port_hi);
	rc = add_str(o, "Cidr", cidr);
	rc |= add_str(o, "Ports", ports);
	rc |= add_str(o, "Protocol", proto_names[r->protocols & HUSK_PROTO_ANY]);
	return built(o, rc);
}

static struct json_object *network_json(const struct husk_policy *p)
{
	struct json_object *o = json_object_new_object(), *egress = json_object_new_array();
	int rc = o && egress ? 0 : -ENOMEM;
	size_t i;

	for (i = 0; !rc && i < p->n_egress; i++)
		rc = append(egress, rule_json(&p->egress[i]));
	if (!rc) {
		rc = add(o, "Egress", egress);
		egress = NULL;
	}
	json_object_put(egress);
	if (!rc)
		rc = add(o, "Dns", json_object_new_boolean(p->dns));
	if (!rc)
		rc = add(o, "AllowHost", json_object_new_boolean(p->allow_host));
	return built(o, rc);
}

static struct json_object *files_json(const struct husk_policy *p)
{
	struct json_object *o = json_object_new_object();
	int rc;

	if (!o)
		return NULL;
	rc = add(o, "Read", strv_json(p->read.paths, p->read.n));
	rc |= add(o, "Write", strv_json(p->write.paths, p->write.n));
	rc |= add(o, "Exec", strv_json(p->exec.paths, p->exec.n));
	return built(o, rc);
}

static struct json_object *syscalls_json(const struct husk_policy *p)
{
	struct json_object *o = json_object_new_object();
	int rc;

	if (!o)
		return NULL;
	rc = add_str(o, "Mode", mode_names[p->sys_mode]);
	rc |= add_str(o, "Action", action_names[p->sys_action]);
	if (p->sys_action == HUSK_SYS_ERRNO)
		rc |= add(o, "Errno", json_object_new_int(p->sys_errno));
	rc |= add(o, "Names", strv_json(p->syscalls, p->n_syscalls));
	return built(o, rc);
}

struct json_object *husk_policy_to_json(const struct husk_policy *p)
{
	struct json_object *o = json_object_new_object();
	int rc;

	if (!o)
		return NULL;
	rc = add(o, "Network", network_json(p));
	rc |= add(o, "Files", files_json(p));
	rc |= add(o, "Syscalls", syscalls_json(p));
	return built(o, rc);
}
