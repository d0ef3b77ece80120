// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of the policy model (policy.c): what a "Policy" member parses
 * into, what is refused and with which field named, the defaults, the JSON
 * form and its round trip, copies. Table-driven; one line per case; exit
 * status 1 when any case fails.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "report.h"
#include "userspace/husk.h"
#include "userspace/policy.h"

#define DEFAULT_NETWORK "{\"Egress\":[],\"Dns\":false,\"AllowHost\":false}"
#define DEFAULT_READ                                                                               \
	"[\"/usr\",\"/bin\",\"/sbin\",\"/lib\",\"/lib64\",\"/etc\",\"/var/task\",\"/opt\",\"/"     \
	"proc\","                                                                                  \
	"\"/dev\",\"/tmp\"]"
#define DEFAULT_WRITE "[\"/tmp\",\"/dev\"]"
#define DEFAULT_EXEC "[\"/usr\",\"/bin\",\"/sbin\",\"/lib\",\"/lib64\",\"/var/task\"]"
#define DEFAULT_FILES                                                                              \
	"{\"Read\":" DEFAULT_READ ",\"Write\":" DEFAULT_WRITE ",\"Exec\":" DEFAULT_EXEC "}"
#define DEFAULT_SYSCALLS "{\"Mode\":\"deny\",\"Action\":\"errno\",\"Errno\":1,\"Names\":[]}"
#define P16                                                                                        \
	"\"/a\",\"/b\",\"/c\",\"/d\",\"/e\",\"/f\",\"/g\",\"/h\",\"/i\",\"/j\",\"/k\",\"/l\","     \
	"\"/m\",\"/n\",\"/o\",\"/p\""
/* With a leading '/', 127 bytes: the longest path that fits. */
#define LONG126                                                                                    \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"                          \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"


static struct json_object *parse_json(const char *json)
{
	struct json_object *obj = json_tokener_parse(json);

	if (!obj && strcmp(json, "null")) {
		printf("not ok - test setup: cannot parse %s\n", json);
		exit(1);
	}
	return obj;
}

static const char *plain(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						     JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* A member of the policy's JSON form, as compact text ("" when missing). */
static const char *member_text(struct json_object *doc, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(doc, key, &v) ? plain(v) : "";
}

/* Valid policies and the JSON form of the members they set. */
static const struct good_case {
	const char *name, *json;
	const char *network, *files, *syscalls; /* NULL: the default */
} good_cases[] = {
    {"null policy", "null"},
    {"empty policy", "{}"},
    {"empty members", "{\"Network\":{},\"Files\":{},\"Syscalls\":{}}"},
    {"null members", "{\"Network\":null,\"Files\":{\"Read\":null},\"Syscalls\":{\"Names\":null}}"},
    {"IPv4 rule with defaults", "{\"Network\":{\"Egress\":[{\"Cidr\":\"192.0.2.0/24\"}]}}",
     "{\"Egress\":[{\"Cidr\":\"192.0.2.0/24\",\"Ports\":\"1-65535\",\"Protocol\":\"any\"}],"
     "\"Dns\":false,\"AllowHost\":false}"},
    {"rules, DNS, host",
     "{\"Network\":{\"Egress\":[{\"Cidr\":\"10.1.2.3/32\",\"Ports\":\"443\",\"Protocol\":\"tcp\"},"
     "{\"Cidr\":\"0.0.0.0/0\",\"Ports\":\"1000-2000\",\"Protocol\":\"udp\"}],"
     "\"Dns\":true,\"AllowHost\":true}}",
     "{\"Egress\":[{\"Cidr\":\"10.1.2.3/32\",\"Ports\":\"443\",\"Protocol\":\"tcp\"},"
     "{\"Cidr\":\"0.0.0.0/0\",\"Ports\":\"1000-2000\",\"Protocol\":\"udp\"}],"
     "\"Dns\":true,\"AllowHost\":true}"},
    {"IPv6 rules",
     "{\"Network\":{\"Egress\":[{\"Cidr\":\"2001:DB8:0:0::/32\",\"Ports\":\"1-65535\"},"
     "{\"Cidr\":\"::1/128\",\"Ports\":\"65535-65535\"},{\"Cidr\":\"::/0\",\"Ports\":\"1\"}]}}",
     "{\"Egress\":[{\"Cidr\":\"2001:db8::/32\",\"Ports\":\"1-65535\",\"Protocol\":\"any\"},"
     "{\"Cidr\":\"::1/128\",\"Ports\":\"65535\",\"Protocol\":\"any\"},"
     "{\"Cidr\":\"::/0\",\"Ports\":\"1\",\"Protocol\":\"any\"}],"
     "\"Dns\":false,\"AllowHost\":false}"},
    {"IPv6 /65 boundary", "{\"Network\":{\"Egress\":[{\"Cidr\":\"2001:db8:0:0:8000::/65\"}]}}",
     "{\"Egress\":[{\"Cidr\":\"2001:db8:0:0:8000::/65\",\"Ports\":\"1-65535\","
     "\"Protocol\":\"any\"}],\"Dns\":false,\"AllowHost\":false}"},
    {"IPv4 /31 boundary", "{\"Network\":{\"Egress\":[{\"Cidr\":\"10.0.0.254/31\"}]}}",
     "{\"Egress\":[{\"Cidr\":\"10.0.0.254/31\",\"Ports\":\"1-65535\",\"Protocol\":\"any\"}],"
     "\"Dns\":false,\"AllowHost\":false}"},
    {"DNS only", "{\"Network\":{\"Dns\":true}}",
     "{\"Egress\":[],\"Dns\":true,\"AllowHost\":false}"},
    {"file lists normalized",
     "{\"Files\":{\"Read\":[\"/\",\"//usr//lib/\",\"/var/task/\"],\"Write\":[],"
     "\"Exec\":[\"/opt/bin\"]}}",
     NULL,
     "{\"Read\":[\"/\",\"/usr/lib\",\"/var/task\"],\"Write\":[],"
     "\"Exec\":[\"/opt/bin\"]}"},
    {"only Write given: the others default", "{\"Files\":{\"Write\":[\"/tmp/x\"]}}", NULL,
     "{\"Read\":[\"/usr\",\"/bin\",\"/sbin\",\"/lib\",\"/lib64\",\"/etc\","
     "\"/var/task\",\"/opt\",\"/proc\",\"/dev\",\"/tmp\"],"
     "\"Write\":[\"/tmp/x\"],"
     "\"Exec\":[\"/usr\",\"/bin\",\"/sbin\",\"/lib\",\"/lib64\",\"/var/task\"]}"},
    {"16 paths", "{\"Files\":{\"Exec\":[" P16 "]}}", NULL,
     "{\"Read\":" DEFAULT_READ ",\"Write\":" DEFAULT_WRITE ",\"Exec\":[" P16 "]}"},
    {"path of 127 bytes", "{\"Files\":{\"Read\":[\"/" LONG126 "\"]}}", NULL,
     "{\"Read\":[\"/" LONG126 "\"],\"Write\":" DEFAULT_WRITE ",\"Exec\":" DEFAULT_EXEC "}"},
    {"path with dots inside names", "{\"Files\":{\"Read\":[\"/a.b/..c/...\"]}}", NULL,
     "{\"Read\":[\"/a.b/..c/...\"],"
     "\"Write\":[\"/tmp\",\"/dev\"],"
     "\"Exec\":[\"/usr\",\"/bin\",\"/sbin\",\"/lib\",\"/lib64\",\"/var/task\"]}"},
    {"deny syscalls with errno", "{\"Syscalls\":{\"Names\":[\"getppid\",\"socket\"],\"Errno\":13}}",
     NULL, NULL,
     "{\"Mode\":\"deny\",\"Action\":\"errno\",\"Errno\":13,\"Names\":[\"getppid\",\"socket\"]}"},
    {"deny syscalls, kill",
     "{\"Syscalls\":{\"Mode\":\"deny\",\"Action\":\"kill\","
     "\"Names\":[\"ptrace\"]}}",
     NULL, NULL, "{\"Mode\":\"deny\",\"Action\":\"kill\",\"Names\":[\"ptrace\"]}"},
    {"allow list, errno 4095",
     "{\"Syscalls\":{\"Mode\":\"allow\",\"Errno\":4095,\"Names\":[\"execve\",\"read\"]}}", NULL,
     NULL,
     "{\"Mode\":\"allow\",\"Action\":\"errno\",\"Errno\":4095,\"Names\":[\"execve\",\"read\"]}"},
    {"allow list, log, without execve",
     "{\"Syscalls\":{\"Mode\":\"allow\",\"Action\":\"log\",\"Names\":[\"read\"]}}", NULL, NULL,
     "{\"Mode\":\"allow\",\"Action\":\"log\",\"Names\":[\"read\"]}"},
    {"Action errno with Errno 1 written out", "{\"Syscalls\":{\"Action\":\"errno\",\"Errno\":1}}",
     NULL, NULL, NULL},
};

static void check_good(const struct good_case *c)
{
	struct json_object *in = parse_json(c->json), *doc = NULL;
	struct husk_policy *p = NULL;
	struct husk_err err = {0};
	bool ok;
	int rc = husk_policy_parse(in, &p, &err);

	json_object_put(in);
	if (rc) {
		report(c->name, false, "refused: %s", err.msg);
		return;
	}
	doc = husk_policy_to_json(p);
	ok = doc &&
	     !strcmp(member_text(doc, "Network"), c->network ? c->network : DEFAULT_NETWORK) &&
	     !strcmp(member_text(doc, "Files"), c->files ? c->files : DEFAULT_FILES) &&
	     !strcmp(member_text(doc, "Syscalls"), c->syscalls ? c->syscalls : DEFAULT_SYSCALLS);
	report(c->name, ok, "got %s", doc ? plain(doc) : "(no JSON)");
	json_object_put(doc);
	husk_policy_free(p);
}

/* Refused policies, and what the message must contain (the field). */
static const struct bad_case {
	const char *name, *json, *word;
} bad_cases[] = {
    {"policy an array", "[]", "Policy must be an object, got array"},
    {"policy a string", "\"x\"", "Policy must be an object"},
    {"unknown top-level field", "{\"Netwrk\":{}}", "Policy.Netwrk: unknown field"},
    {"unknown Network field", "{\"Network\":{\"Egres\":[]}}",
     "Policy.Network.Egres: unknown field"},
    {"unknown Files field", "{\"Files\":{\"Reads\":[]}}", "Policy.Files.Reads: unknown field"},
    {"unknown Syscalls field", "{\"Syscalls\":{\"Error\":1}}",
     "Policy.Syscalls.Error: unknown field"},
    {"unknown rule field", "{\"Network\":{\"Egress\":[{\"Cidr\":\"1.2.3.4/32\",\"Port\":\"1\"}]}}",
     "Policy.Network.Egress[0].Port: unknown field"},
    {"Network an array", "{\"Network\":[]}", "Policy.Network must be an object, got array"},
    {"Files a string", "{\"Files\":\"/\"}", "Policy.Files must be an object, got string"},
    {"Syscalls a number", "{\"Syscalls\":1}", "Policy.Syscalls must be an object, got int"},
    {"Egress an object", "{\"Network\":{\"Egress\":{}}}",
     "Policy.Network.Egress must be an array, got object"},
    {"Dns a string", "{\"Network\":{\"Dns\":\"yes\"}}",
     "Policy.Network.Dns must be a boolean, got string"},
    {"AllowHost a number", "{\"Network\":{\"AllowHost\":1}}",
     "Policy.Network.AllowHost must be a boolean"},
    {"rule not an object", "{\"Network\":{\"Egress\":[\"1.2.3.4/32\"]}}",
     "Policy.Network.Egress[0] must be an object, got string"},
    {"rule without Cidr", "{\"Network\":{\"Egress\":[{\"Ports\":\"1\"}]}}",
     "Policy.Network.Egress[0].Cidr is required"},
    {"Cidr a number", "{\"Network\":{\"Egress\":[{\"Cidr\":1}]}}",
     "Policy.Network.Egress[0].Cidr must be a string"},
    {"IPv4 /33",
     "{\"Network\":{\"Egress\":[{\"Cidr\":\"1.2.3.4/32\"},{\"Cidr\":\"1.2.3.4/32\"},"
     "{\"Cidr\":\"10.0.0.0/33\"}]}}",
     "Policy.Network.Egress[2].Cidr: 10.0.0.0/33 is not an IPv4 or IPv6 CIDR"},
    {"IPv6 /129", "{\"Network\":{\"Egress\":[{\"Cidr\":\"::/129\"}]}}",
     "Policy.Network.Egress[0].Cidr: ::/129 is not"},
    {"CIDR without prefix", "{\"Network\":{\"Egress\":[{\"Cidr\":\"10.0.0.1\"}]}}",
     "Policy.Network.Egress[0].Cidr: 10.0.0.1 is not"},
    {"CIDR empty prefix", "{\"Network\":{\"Egress\":[{\"Cidr\":\"10.0.0.1/\"}]}}",
     "Policy.Network.Egress[0].Cidr"},
    {"CIDR negative prefix", "{\"Network\":{\"Egress\":[{\"Cidr\":\"10.0.0.0/-8\"}]}}",
     "Policy.Network.Egress[0].Cidr"},
    {"CIDR prefix with space", "{\"Network\":{\"Egress\":[{\"Cidr\":\"10.0.0.0/ 8\"}]}}",
     "Policy.Network.Egress[0].Cidr"},
    {"CIDR a hostname", "{\"Network\":{\"Egress\":[{\"Cidr\":\"example.com/32\"}]}}",
     "Policy.Network.Egress[0].Cidr"},
    {"CIDR short IPv4", "{\"Network\":{\"Egress\":[{\"Cidr\":\"10.1/16\"}]}}",
     "Policy.Network.Egress[0].Cidr"},
    {"CIDR empty", "{\"Network\":{\"Egress\":[{\"Cidr\":\"\"}]}}", "Policy.Network.Egress[0].Cidr"},
    {"IPv4 host bits", "{\"Network\":{\"Egress\":[{\"Cidr\":\"10.1.2.3/8\"}]}}",
     "Policy.Network.Egress[0].Cidr: 10.1.2.3/8 has host bits set; the network is 10.0.0.0/8"},
    {"IPv4 host bit of a /31", "{\"Network\":{\"Egress\":[{\"Cidr\":\"10.0.0.255/31\"}]}}",
     "the network is 10.0.0.254/31"},
    {"IPv6 host bits", "{\"Network\":{\"Egress\":[{\"Cidr\":\"2001:db8::1/64\"}]}}",
     "has host bits set; the network is 2001:db8::/64"},
    {"IPv6 host bit below /65", "{\"Network\":{\"Egress\":[{\"Cidr\":\"::4000:0:0:0/65\"}]}}",
     "has host bits set"},
    {"Ports 0", "{\"Network\":{\"Egress\":[{\"Cidr\":\"::/0\",\"Ports\":\"0\"}]}}",
     "Policy.Network.Egress[0].Ports: 0 is not"},
    {"Ports 65536", "{\"Network\":{\"Egress\":[{\"Cidr\":\"::/0\",\"Ports\":\"65536\"}]}}",
     "Policy.Network.Egress[0].Ports: 65536 is not"},
    {"Ports reversed", "{\"Network\":{\"Egress\":[{\"Cidr\":\"::/0\",\"Ports\":\"2000-1000\"}]}}",
     "Policy.Network.Egress[0].Ports: 2000-1000 is an empty range"},
    {"Ports open range", "{\"Network\":{\"Egress\":[{\"Cidr\":\"::/0\",\"Ports\":\"1000-\"}]}}",
     "Policy.Network.Egress[0].Ports"},
    {"Ports list", "{\"Network\":{\"Egress\":[{\"Cidr\":\"::/0\",\"Ports\":\"80,443\"}]}}",
     "Policy.Network.Egress[0].Ports"},
    {"Ports a number", "{\"Network\":{\"Egress\":[{\"Cidr\":\"::/0\",\"Ports\":443}]}}",
     "Policy.Network.Egress[0].Ports must be a string, got int"},
    {"Protocol icmp", "{\"Network\":{\"Egress\":[{\"Cidr\":\"::/0\",\"Protocol\":\"icmp\"}]}}",
     "Policy.Network.Egress[0].Protocol: icmp is not tcp, udp or any"},
    {"Protocol TCP upper case",
     "{\"Network\":{\"Egress\":[{\"Cidr\":\"::/0\",\"Protocol\":\"TCP\"}]}}",
     "Policy.Network.Egress[0].Protocol"},
    {"Read not an array", "{\"Files\":{\"Read\":\"/usr\"}}",
     "Policy.Files.Read must be an array, got string"},
    {"path not a string", "{\"Files\":{\"Write\":[\"/tmp\",7]}}",
     "Policy.Files.Write[1] must be a string, got int"},
    {"relative path", "{\"Files\":{\"Read\":[\"usr\"]}}",
     "Policy.Files.Read[0]: usr is not an absolute path"},
    {"empty path", "{\"Files\":{\"Exec\":[\"\"]}}", "Policy.Files.Exec[0]"},
    {"dot-dot component", "{\"Files\":{\"Read\":[\"/usr/../etc\"]}}",
     "Policy.Files.Read[0]: /usr/../etc has a '.' or '..' component"},
    {"dot component", "{\"Files\":{\"Read\":[\"/usr/./lib\"]}}", "Policy.Files.Read[0]"},
    {"trailing dot-dot", "{\"Files\":{\"Read\":[\"/usr/..\"]}}", "Policy.Files.Read[0]"},
    {"path of 128 bytes", "{\"Files\":{\"Read\":[\"/" LONG126 "a\"]}}", "Policy.Files.Read[0]"},
    {"path with a NUL", "{\"Files\":{\"Read\":[\"/usr\\u0000/x\"]}}",
     "Policy.Files.Read[0] must not contain a NUL"},
    {"17 paths", "{\"Files\":{\"Read\":[" P16 ",\"/q\"]}}",
     "Policy.Files.Read has 17 paths, more than the 16 allowed"},
    {"duplicate path", "{\"Files\":{\"Exec\":[\"/usr\",\"/bin\",\"/usr/\"]}}",
     "Policy.Files.Exec[2]: /usr is listed twice"},
    {"Mode permit", "{\"Syscalls\":{\"Mode\":\"permit\",\"Names\":[\"read\"]}}",
     "Policy.Syscalls.Mode: permit is not deny or allow"},
    {"Mode a boolean", "{\"Syscalls\":{\"Mode\":true}}",
     "Policy.Syscalls.Mode must be a string, got boolean"},
    {"Action trap", "{\"Syscalls\":{\"Action\":\"trap\"}}",
     "Policy.Syscalls.Action: trap is not errno, kill or log"},
    {"Errno 0", "{\"Syscalls\":{\"Errno\":0}}", "Policy.Syscalls.Errno must be between 1 and 4095"},
    {"Errno 4096", "{\"Syscalls\":{\"Errno\":4096}}", "Policy.Syscalls.Errno"},
    {"Errno huge", "{\"Syscalls\":{\"Errno\":99999999999999}}", "Policy.Syscalls.Errno"},
    {"Errno a string", "{\"Syscalls\":{\"Errno\":\"EPERM\"}}",
     "Policy.Syscalls.Errno must be an integer, got string"},
    {"Errno a double", "{\"Syscalls\":{\"Errno\":1.5}}",
     "Policy.Syscalls.Errno must be an integer, got double"},
    {"Errno with kill", "{\"Syscalls\":{\"Action\":\"kill\",\"Errno\":13}}",
     "Policy.Syscalls.Errno is only valid with Action errno, not kill"},
    {"Errno with log, in any order", "{\"Syscalls\":{\"Errno\":13,\"Action\":\"log\"}}",
     "Policy.Syscalls.Errno is only valid with Action errno, not log"},
    {"Names not an array", "{\"Syscalls\":{\"Names\":\"read\"}}",
     "Policy.Syscalls.Names must be an array"},
    {"Name not a string", "{\"Syscalls\":{\"Names\":[\"read\",null]}}",
     "Policy.Syscalls.Names[1] must be a string, got null"},
    {"unknown syscall", "{\"Syscalls\":{\"Names\":[\"read\",\"frobnicate\"]}}",
     "Policy.Syscalls.Names[1]: frobnicate is not a syscall"},
    {"syscall of another ABI", "{\"Syscalls\":{\"Names\":[\"socketcall\"]}}",
     "Policy.Syscalls.Names[0]: socketcall is not a syscall"},
    {"syscall upper case", "{\"Syscalls\":{\"Names\":[\"READ\"]}}", "Policy.Syscalls.Names[0]"},
    {"duplicate syscall", "{\"Syscalls\":{\"Names\":[\"read\",\"write\",\"read\"]}}",
     "Policy.Syscalls.Names[2]: read is listed twice"},
    {"allow without Names", "{\"Syscalls\":{\"Mode\":\"allow\"}}",
     "Policy.Syscalls.Names is empty: Mode allow would deny every syscall"},
    {"allow with empty Names", "{\"Syscalls\":{\"Mode\":\"allow\",\"Names\":[]}}",
     "Policy.Syscalls.Names is empty"},
    {"allow without execve", "{\"Syscalls\":{\"Mode\":\"allow\",\"Names\":[\"read\"]}}",
     "Policy.Syscalls.Names must name execve"},
    {"allow, kill, without execve",
     "{\"Syscalls\":{\"Mode\":\"allow\",\"Action\":\"kill\",\"Names\":[\"read\"]}}",
     "Policy.Syscalls.Names must name execve"},
};

static void check_bad(const struct bad_case *c)
{
	struct json_object *in = parse_json(c->json);
	struct husk_policy *p = NULL;
	struct husk_err err = {0};
	int rc = husk_policy_parse(in, &p, &err);

	report(c->name,
	       rc == -EINVAL && !p && err.status == 400 &&
		   !strcmp(err.type, HUSK_E_INVALID_PARAM) && strstr(err.msg, c->word),
	       "rc=%d msg=%s", rc, err.msg);
	json_object_put(in);
	husk_policy_free(p);
}

static void build_json(char *buf, size_t len, const char *prefix, const char *elem, int n,
		       const char *suffix)
{
	size_t used = snprintf(buf, len, "%s", prefix);
	int i;

	for (i = 0; i < n && used < len; i++)
		used += snprintf(buf + used, len - used, i ? ",%s" : "%s", elem);
	if (used < len)
		snprintf(buf + used, len - used, "%s", suffix);
}

static bool parse_ok(const char *json, struct husk_err *err)
{
	struct json_object *in = parse_json(json);
	struct husk_policy *p = NULL;
	int rc = husk_policy_parse(in, &p, err);

	json_object_put(in);
	husk_policy_free(p);
	return rc == 0;
}

/* The count limits, at and beyond: 64 egress rules, 256 syscall names. */
static void check_limits(void)
{
	static char json[16384];
	struct husk_err err = {0};
	bool ok;

	build_json(json, sizeof(json), "{\"Network\":{\"Egress\":[", "{\"Cidr\":\"::/0\"}",
		   HUSK_POLICY_EGRESS_MAX, "]}}");
	report("64 egress rules", parse_ok(json, &err), "%s", err.msg);
	build_json(json, sizeof(json), "{\"Network\":{\"Egress\":[", "{\"Cidr\":\"::/0\"}",
		   HUSK_POLICY_EGRESS_MAX + 1, "]}}");
	ok = !parse_ok(json, &err) && strstr(err.msg, "Policy.Network.Egress has 65 rules");
	report("65 egress rules refused", ok, "%s", err.msg);
	/* 256 distinct names cannot be listed by hand: repeat one and expect "twice" at [1]. */
	build_json(json, sizeof(json), "{\"Syscalls\":{\"Names\":[", "\"read\"",
		   HUSK_POLICY_SYSCALLS_MAX, "]}}");
	ok = !parse_ok(json, &err) && strstr(err.msg, "Policy.Syscalls.Names[1]: read is listed");
	report("256 names are counted before duplicates", ok, "%s", err.msg);
	build_json(json, sizeof(json), "{\"Syscalls\":{\"Names\":[", "\"read\"",
		   HUSK_POLICY_SYSCALLS_MAX + 1, "]}}");
	ok = !parse_ok(json, &err) &&
	     strstr(err.msg, "Policy.Syscalls.Names has 257 syscalls, more than the 256 allowed");
	report("257 syscall names refused", ok, "%s", err.msg);
}

static bool same_list(const struct husk_path_list *a, const struct husk_path_list *b)
{
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->paths[i], b->paths[i]))
			return false;
	return true;
}

static bool same_rule(const struct husk_egress_rule *a, const struct husk_egress_rule *b)
{
	return a->family == b->family && !memcmp(a->addr, b->addr, sizeof(a->addr)) &&
	       a->prefix_len == b->prefix_len && a->protocols == b->protocols &&
	       a->port_lo == b->port_lo && a->port_hi == b->port_hi;
}

static bool same_policy(const struct husk_policy *a, const struct husk_policy *b)
{
	size_t i;

	if (a->n_egress != b->n_egress || a->dns != b->dns || a->allow_host != b->allow_host ||
	    !same_list(&a->read, &b->read) || !same_list(&a->write, &b->write) ||
	    !same_list(&a->exec, &b->exec) || a->sys_mode != b->sys_mode ||
	    a->sys_action != b->sys_action || a->sys_errno != b->sys_errno ||
	    a->n_syscalls != b->n_syscalls)
		return false;
	for (i = 0; i < a->n_egress; i++)
		if (!same_rule(&a->egress[i], &b->egress[i]))
			return false;
	for (i = 0; i < a->n_syscalls; i++)
		if (strcmp(a->syscalls[i], b->syscalls[i]))
			return false;
	return true;
}

/* parse(to_json(p)) == p, and to_json of that is the same text. */
static void check_round_trip(const struct good_case *c)
{
	struct json_object *in = parse_json(c->json), *doc = NULL, *doc2 = NULL, *back_in = NULL;
	struct husk_policy *p = NULL, *back = NULL;
	struct husk_err err = {0};
	char name[128];
	bool ok = false;

	snprintf(name, sizeof(name), "round trip: %s", c->name);
	if (husk_policy_parse(in, &p, &err) || !(doc = husk_policy_to_json(p)))
		goto out;
	back_in = parse_json(plain(doc));
	if (husk_policy_parse(back_in, &back, &err) || !(doc2 = husk_policy_to_json(back)))
		goto out;
	ok = same_policy(p, back) && !strcmp(plain(doc), plain(doc2));
out:
	report(name, ok, "%s: %s", err.msg, doc ? plain(doc) : "");
	json_object_put(in);
	json_object_put(back_in);
	json_object_put(doc);
	json_object_put(doc2);
	husk_policy_free(p);
	husk_policy_free(back);
}

static bool list_is(const struct husk_path_list *l, const char *const *want)
{
	size_t i;

	for (i = 0; i < l->n && want[i]; i++)
		if (strcmp(l->paths[i], want[i]))
			return false;
	return i == l->n && !want[i];
}

static void check_defaults(void)
{
	static const char *const read_list[] = {"/usr",	  "/bin", "/sbin",     "/lib",
						"/lib64", "/etc", "/var/task", "/opt",
						"/proc",  "/dev", "/tmp",      NULL};
	static const char *const write_list[] = {"/tmp", "/dev", NULL};
	static const char *const exec_list[] = {"/usr",	  "/bin",      "/sbin", "/lib",
						"/lib64", "/var/task", NULL};
	struct husk_policy *d = husk_policy_default(), *parsed = NULL;
	struct json_object *null_obj = NULL;
	struct husk_err err = {0};
	bool ok;

	ok = d && d->n_egress == 0 && !d->dns && !d->allow_host && d->sys_mode == HUSK_SYS_DENY &&
	     d->sys_action == HUSK_SYS_ERRNO && d->sys_errno == EPERM && d->n_syscalls == 0 &&
	     list_is(&d->read, read_list) && list_is(&d->write, write_list) &&
	     list_is(&d->exec, exec_list) && list_is(&d->read, husk_policy_default_read) &&
	     list_is(&d->write, husk_policy_default_write) &&
	     list_is(&d->exec, husk_policy_default_exec);
	report("husk_policy_default", ok, "%s", "defaults differ");
	ok = d && !husk_policy_wants_egress(d) && !husk_policy_has_syscall_rules(d);
	report("default: no egress, no syscall rules", ok, NULL);
	ok = !husk_policy_parse(null_obj, &parsed, &err) && d && same_policy(d, parsed);
	report("parse(NULL) is the default", ok, "%s", err.msg);
	husk_policy_free(parsed);
	husk_policy_free(d);
}

static struct husk_policy *must_parse(const char *json)
{
	struct json_object *in = parse_json(json);
	struct husk_policy *p = NULL;
	struct husk_err err = {0};

	if (husk_policy_parse(in, &p, &err)) {
		printf("not ok - test setup: %s: %s\n", json, err.msg);
		exit(1);
	}
	json_object_put(in);
	return p;
}

/* What the struct holds, byte by byte, for the consumers (BPF maps, nftables). */
static void check_struct(void)
{
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8};
	struct husk_policy *p = must_parse(
	    "{\"Network\":{\"Egress\":[{\"Cidr\":\"192.0.2.0/24\",\"Ports\":\"53\","
	    "\"Protocol\":\"udp\"},{\"Cidr\":\"2001:db8::/32\",\"Ports\":\"8000-8080\","
	    "\"Protocol\":\"tcp\"}]},\"Syscalls\":{\"Action\":\"kill\",\"Names\":[\"bind\"]}}");
	const struct husk_egress_rule *r4 = &p->egress[0], *r6 = &p->egress[1];
	bool ok;

	ok = p->n_egress == 2 && r4->family == AF_INET && r4->addr[0] == 192 && r4->addr[1] == 0 &&
	     r4->addr[2] == 2 && r4->addr[3] == 0 && r4->addr[4] == 0 && r4->prefix_len == 24 &&
	     r4->protocols == HUSK_PROTO_UDP && r4->port_lo == 53 && r4->port_hi == 53;
	report("IPv4 rule in the struct", ok, NULL);
	ok = r6->family == AF_INET6 && !memcmp(r6->addr, v6, 16) && r6->prefix_len == 32 &&
	     r6->protocols == HUSK_PROTO_TCP && r6->port_lo == 8000 && r6->port_hi == 8080;
	report("IPv6 rule in the struct", ok, NULL);
	ok = p->sys_action == HUSK_SYS_KILL && p->sys_errno == EPERM && p->n_syscalls == 1 &&
	     !strcmp(p->syscalls[0], "bind") && husk_policy_wants_egress(p) &&
	     husk_policy_has_syscall_rules(p);
	report("syscall rules in the struct", ok, NULL);
	husk_policy_free(p);
	p = must_parse("{\"Network\":{\"Dns\":true}}");
	report("Dns alone wants egress", husk_policy_wants_egress(p), NULL);
	husk_policy_free(p);
	p = must_parse("{\"Network\":{\"AllowHost\":true}}");
	report("AllowHost alone wants no egress", !husk_policy_wants_egress(p), NULL);
	husk_policy_free(p);
}

static void check_dup(void)
{
	struct husk_policy *p = must_parse(
	    "{\"Network\":{\"Egress\":[{\"Cidr\":\"10.0.0.0/8\",\"Ports\":\"443\"}],\"Dns\":true},"
	    "\"Files\":{\"Read\":[\"/a\"],\"Write\":[],\"Exec\":[\"/b\",\"/c\"]},"
	    "\"Syscalls\":{\"Mode\":\"allow\",\"Errno\":38,\"Names\":[\"execve\",\"exit_group\"]}"
	    "}");
	struct husk_policy *d = husk_policy_dup(p), *e;
	bool ok;

	ok = d && same_policy(p, d) && d->egress != p->egress && d->syscalls != p->syscalls &&
	     d->syscalls[0] != p->syscalls[0] && d->read.paths[0] != p->read.paths[0];
	report("dup is a deep, equal copy", ok, NULL);
	husk_policy_free(p);
	/* The copy outlives the original (a use after free shows under valgrind/ASan). */
	ok = d && d->n_egress == 1 && d->egress[0].port_lo == 443 &&
	     !strcmp(d->exec.paths[1], "/c") && !strcmp(d->syscalls[1], "exit_group");
	report("dup outlives its original", ok, NULL);
	e = d ? husk_policy_dup(d) : NULL;
	report("dup of a dup", e && same_policy(d, e), NULL);
	husk_policy_free(d);
	husk_policy_free(e);
	e = husk_policy_default();
	d = e ? husk_policy_dup(e) : NULL;
	report("dup of the default", d && same_policy(d, e), NULL);
	husk_policy_free(d);
	husk_policy_free(e);
	husk_policy_free(NULL);
}

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(good_cases) / sizeof(*good_cases); i++)
		check_good(&good_cases[i]);
	for (i = 0; i < sizeof(bad_cases) / sizeof(*bad_cases); i++)
		check_bad(&bad_cases[i]);
	check_limits();
	for (i = 0; i < sizeof(good_cases) / sizeof(*good_cases); i++)
		check_round_trip(&good_cases[i]);
	check_defaults();
	check_struct();
	check_dup();
	printf("%s\n", unit_failed ? "FAILED" : "all passed");
	return unit_failed ? 1 : 0;
}
