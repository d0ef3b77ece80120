// SPDX-License-Identifier: GPL-2.0
/*
 * The decisions of husk's BPF hooks (bpf/husk_decide.h), table by table,
 * run in the kernel through BPF_PROG_TEST_RUN on the SEC("syscall")
 * programs of bpf/husk_test.bpf.c. Policies are parsed from JSON and written
 * into the test object's maps by the same code huskd uses (bpf_policy.c),
 * so a case checks the whole path from a Policy document to a verdict,
 * including the LSM path's file decisions on a kernel without BPF LSM.
 * Needs root (loading BPF). Exit status 1 when any case fails.
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

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "husk_test.skel.h"
#include "userspace/bpf_policy.h"
#include "userspace/policy.h"

#define CGID_A 0x100000001ull
#define CGID_B 0x200000002ull

static int failed, passed;

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", ok ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (ok)
		passed++;
	else
		failed++;
}

static int run(struct bpf_program *prog, void *ctx, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = ctx, .ctx_size_in = len);
	int rc = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);

	if (rc) {
		fprintf(stderr, "bpf_test: running %s: %s\n", bpf_program__name(prog),
			strerror(-rc));
		exit(1);
	}
	return (int)opts.retval;
}

/* A raw_tp test program: its case by address in args[0]. */
static int run_case(struct bpf_program *prog, struct husk_test_net *t)
{
	uint64_t args[1] = {(uintptr_t)t};

	return run(prog, args, sizeof(args));
}

static struct husk_policy *policy(const char *json)
{
	struct json_object *o = json ? json_tokener_parse(json) : NULL;
	struct husk_policy *p = NULL;
	struct husk_err err = {0};

	if (husk_policy_parse(o, &p, &err)) {
		fprintf(stderr, "bpf_test: bad test policy: %s\n", err.msg);
		exit(1);
	}
	json_object_put(o);
	return p;
}

/* ---- network ---- */

struct net_case {
	uint64_t cgid;
	const char *addr;
	unsigned port;
	const char *proto;
	int allow;
	unsigned reason; /* when denied */
	int rule;
};

static const char net_policy[] =
    "{\"Network\": {\"Dns\": true, \"Egress\": ["
    "{\"Cidr\": \"198.51.100.0/24\", \"Ports\": \"443\", \"Protocol\": \"tcp\"},"
    "{\"Cidr\": \"198.51.100.128/25\", \"Ports\": \"80\"},"
    "{\"Cidr\": \"2001:db8::/32\", \"Ports\": \"5000-5100\", \"Protocol\": \"udp\"},"
    "{\"Cidr\": \"0.0.0.0/0\", \"Ports\": \"8443\", \"Protocol\": \"tcp\"}]}}";

static const struct net_case net_cases[] = {
    {CGID_A, "198.51.100.7", 443, "tcp", 1, 0, 0},
    {CGID_A, "198.51.100.7", 443, "udp", 0, HUSK_DENY_EGRESS_PORT, 0},
    {CGID_A, "198.51.100.7", 80, "tcp", 0, HUSK_DENY_EGRESS_PORT, 0},
    {CGID_A, "198.51.100.200", 443, "tcp", 1, 0, 0}, /* the /24 covers the /25 */
    {CGID_A, "198.51.100.200", 80, "udp", 1, 0, 1},
    {CGID_A, "198.51.100.200", 81, "tcp", 0, HUSK_DENY_EGRESS_PORT, 0},
    {CGID_A, "203.0.113.9", 443, "tcp", 0, HUSK_DENY_EGRESS_PORT, 3}, /* only 0/0's 8443 */
    {CGID_A, "203.0.113.9", 8443, "tcp", 1, 0, 3},
    {CGID_A, "198.51.100.7", 8443, "tcp", 1, 0, 3},
    {CGID_A, "127.0.0.1", 9001, "tcp", 1, 0, -1},
    {CGID_A, "127.5.6.7", 1, "udp", 1, 0, -1},
    {CGID_A, "192.0.2.53", 53, "udp", 1, 0, -1}, /* DNS */
    {CGID_A, "192.0.2.53", 53, "tcp", 1, 0, -1},
    {CGID_A, "192.0.2.53", 54, "udp", 0, HUSK_DENY_EGRESS_PORT, 3},
    {CGID_A, "2001:db8::1", 5000, "udp", 1, 0, 2},
    {CGID_A, "2001:db8:ffff::1", 5100, "udp", 1, 0, 2},
    {CGID_A, "2001:db8::1", 5101, "udp", 0, HUSK_DENY_EGRESS_PORT, 2},
    {CGID_A, "2001:db8::1", 5000, "tcp", 0, HUSK_DENY_EGRESS_PORT, 2},
    {CGID_A, "2001:db9::1", 5000, "udp", 0, HUSK_DENY_EGRESS, -1},
    {CGID_A, "::1", 80, "tcp", 1, 0, -1},
    {CGID_A, "::ffff:198.51.100.7", 443, "tcp", 1, 0, 0}, /* v4-mapped: the v4 rules */
    {CGID_A, "::ffff:203.0.113.9", 443, "tcp", 0, HUSK_DENY_EGRESS_PORT, 3},
    /* Another environment has none of A's rules. */
    {CGID_B, "198.51.100.7", 443, "tcp", 0, HUSK_DENY_EGRESS, -1},
    {CGID_B, "2001:db8::1", 5000, "udp", 0, HUSK_DENY_EGRESS, -1},
    {CGID_B, "127.0.0.1", 9001, "tcp", 1, 0, -1},
};

static void fill_addr(struct husk_test_net *t, const char *addr)
{
	memset(t->addr, 0, sizeof(t->addr));
	if (inet_pton(AF_INET, addr, t->addr) == 1) {
		t->family = AF_INET;
		return;
	}
	t->family = AF_INET6;
	if (inet_pton(AF_INET6, addr, t->addr) != 1) {
		fprintf(stderr, "bpf_test: bad address %s\n", addr);
		exit(1);
	}
}

static void test_net(struct husk_test *skel)
{
	struct husk_bpf_maps m = {bpf_map__fd(skel->maps.husk_net4),
				  bpf_map__fd(skel->maps.husk_net6), -1};
	struct husk_policy *p = policy(net_policy);
	uint32_t dns;
	size_t i;
	int rc;

	inet_pton(AF_INET, "192.0.2.53", &dns);
	rc = husk_bpf_maps_policy(&m, CGID_A, p, &dns, 1);
	check(rc == 0, "net: policy written to the LPM tries (%s)", strerror(-rc));
	for (i = 0; i < sizeof(net_cases) / sizeof(net_cases[0]); i++) {
		const struct net_case *c = &net_cases[i];
		struct husk_test_net t = {.cgid = c->cgid, .port = c->port};

		fill_addr(&t, c->addr);
		t.protocol = !strcmp(c->proto, "tcp") ? IPPROTO_TCP : IPPROTO_UDP;
		rc = run_case(skel->progs.husk_test_net, &t);
		t.verdict = rc & 0xff;
		t.reason = (rc >> 8) & 0xff;
		t.rule = (rc >> 16) - 1;
		check(rc >= 0 && t.verdict == (unsigned)c->allow &&
			  (c->allow || t.reason == c->reason) && t.rule == c->rule,
		      "net: %s %s:%u/%s -> %s (got verdict %u reason %u rule %d)",
		      c->cgid == CGID_A ? "A" : "B", c->addr, c->port, c->proto,
		      c->allow ? "allow" : "deny", t.verdict, t.reason, t.rule);
	}
	rc = husk_bpf_maps_policy_del(&m, CGID_A, p, &dns, 1);
	check(rc == 0, "net: policy removed (%s)", strerror(-rc));
	{
		struct husk_test_net t = {.cgid = CGID_A, .port = 443, .protocol = IPPROTO_TCP};
		struct husk_net4_key k;
		int err = bpf_map_get_next_key(m.net4, NULL, &k);

		fill_addr(&t, "198.51.100.7");
		rc = run_case(skel->progs.husk_test_net, &t);
		check(rc == HUSK_DENY_EGRESS << 8, "net: after removal A is back to loopback only");
		check(err && errno == ENOENT, "net: no LPM entry is left");
	}
	husk_policy_free(p);
}

/* ---- bind ---- */

static void test_bind(struct husk_test *skel)
{
	static const struct {
		const char *addr;
		int allow;
	} cases[] = {
	    {"127.0.0.1", 1}, {"127.0.0.53", 1}, {"0.0.0.0", 0},	  {"10.0.0.1", 0},
	    {"::1", 1},	      {"::", 0},	 {"::ffff:127.0.0.1", 1}, {"::ffff:0.0.0.0", 0},
	    {"fe80::1", 0},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct husk_test_net t = {.cgid = CGID_A};

		fill_addr(&t, cases[i].addr);
		check(run_case(skel->progs.husk_test_bind, &t) == cases[i].allow, "bind: %s -> %s",
		      cases[i].addr, cases[i].allow ? "allow" : "deny");
	}
}

/* ---- sockets and devices ---- */

static void test_sock(struct husk_test *skel)
{
	static const struct {
		unsigned family, type, protocol;
		int allow;
		const char *what;
	} cases[] = {
	    {AF_UNIX, SOCK_STREAM, 0, 1, "unix stream"},
	    {AF_UNIX, SOCK_DGRAM, 0, 1, "unix dgram"},
	    {AF_INET, SOCK_STREAM, 0, 1, "tcp"},
	    {AF_INET, SOCK_STREAM, IPPROTO_TCP, 1, "tcp, explicit"},
	    {AF_INET6, SOCK_DGRAM, IPPROTO_UDP, 1, "udp6"},
	    {AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, 1, "tcp, flags"},
	    {AF_INET, SOCK_RAW, IPPROTO_ICMP, 0, "raw icmp"},
	    {AF_INET6, SOCK_RAW, IPPROTO_RAW, 0, "raw6"},
	    {AF_INET, SOCK_DGRAM, IPPROTO_ICMP, 0, "icmp datagram (ping)"},
	    {AF_INET, SOCK_STREAM, IPPROTO_SCTP, 0, "sctp"},
	    {AF_PACKET, SOCK_RAW, 0, 0, "packet"},
	    {AF_NETLINK, SOCK_RAW, 0, 0, "netlink"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct husk_test_sock t = {cases[i].family, cases[i].type, cases[i].protocol, 0};

		run(skel->progs.husk_test_sock, &t, sizeof(t));
		check(t.verdict == (unsigned)cases[i].allow, "socket: %s -> %s", cases[i].what,
		      cases[i].allow ? "allow" : "deny");
	}
}

static void test_dev(struct husk_test *skel)
{
	static const struct {
		unsigned type, major, minor;
		int allow;
	} cases[] = {
	    {2, 1, 3, 1}, {2, 1, 5, 1}, {2, 1, 7, 1},
	    {2, 1, 8, 1}, {2, 1, 9, 1}, {2, 1, 1, 0}, /* /dev/mem */
	    {2, 1, 2, 0}, {2, 5, 1, 0},		      /* console */
	    {2, 4, 0, 0}, {1, 8, 0, 0},		      /* sda */
	    {1, 1, 3, 0},			      /* a block device with null's numbers */
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct husk_test_dev t = {cases[i].type, cases[i].major, cases[i].minor, 0, 0};

		run(skel->progs.husk_test_dev, &t, sizeof(t));
		check(t.verdict == (unsigned)cases[i].allow, "dev: %c %u:%u -> %s",
		      cases[i].type == 1 ? 'b' : 'c', cases[i].major, cases[i].minor,
		      cases[i].allow ? "allow" : "deny");
	}
}

/* ---- files (the LSM path's decisions) ---- */

struct path_case {
	uint64_t cgid;
	unsigned kind;
	const char *path;
	int allow;
};

static const struct path_case path_cases[] = {
    /* A: the default lists */
    {CGID_A, HUSK_FS_KIND_READ, "/usr/lib/x86_64-linux-gnu/libc.so.6", 1},
    {CGID_A, HUSK_FS_KIND_READ, "/usr", 1},
    {CGID_A, HUSK_FS_KIND_READ, "/usrx/a", 0},
    {CGID_A, HUSK_FS_KIND_READ, "/var/task/bootstrap", 1},
    {CGID_A, HUSK_FS_KIND_READ, "/var/taskforce", 0},
    {CGID_A, HUSK_FS_KIND_READ, "/root/.ssh/id_rsa", 0},
    {CGID_A, HUSK_FS_KIND_READ, "/", 0},
    {CGID_A, HUSK_FS_KIND_WRITE, "/tmp/a", 1},
    {CGID_A, HUSK_FS_KIND_WRITE, "/tmp", 1},
    {CGID_A, HUSK_FS_KIND_WRITE, "/var/task/bootstrap", 0},
    {CGID_A, HUSK_FS_KIND_WRITE, "/etc/passwd", 0},
    {CGID_A, HUSK_FS_KIND_EXEC, "/var/task/bootstrap", 1},
    {CGID_A, HUSK_FS_KIND_EXEC, "/usr/bin/python3", 1},
    {CGID_A, HUSK_FS_KIND_EXEC, "/tmp/payload", 0},
    {CGID_A, HUSK_FS_KIND_EXEC, "/dev/shm/x", 0},
    /* B: its own lists */
    {CGID_B, HUSK_FS_KIND_READ, "/anything/at/all", 1},
    {CGID_B, HUSK_FS_KIND_WRITE, "/tmp/a", 0},
    {CGID_B, HUSK_FS_KIND_WRITE, "/data/out/x", 1},
    {CGID_B, HUSK_FS_KIND_WRITE, "/data/outside", 0},
    {CGID_B, HUSK_FS_KIND_EXEC, "/var/task/bootstrap", 0},
    /* An environment without file rules gets nothing. */
    {0x300000003ull, HUSK_FS_KIND_READ, "/usr/lib/libc.so", 0},
};

static void test_path(struct husk_test *skel)
{
	struct husk_bpf_maps m = {bpf_map__fd(skel->maps.husk_net4),
				  bpf_map__fd(skel->maps.husk_net6),
				  bpf_map__fd(skel->maps.husk_fs)};
	struct husk_policy *a = policy(NULL);
	struct husk_policy *b =
	    policy("{\"Files\": {\"Read\": [\"/\"], \"Write\": [\"/data/out\"], "
		   "\"Exec\": []}}");
	size_t i;

	check(husk_bpf_maps_policy(&m, CGID_A, a, NULL, 0) == 0, "files: default policy written");
	check(husk_bpf_maps_policy(&m, CGID_B, b, NULL, 0) == 0, "files: custom policy written");
	for (i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
		const struct path_case *c = &path_cases[i];
		static const char *const kinds[] = {"read", "write", "exec"};
		struct husk_test_path t = {.cgid = c->cgid, .kind = c->kind};

		snprintf(t.path, sizeof(t.path), "%s", c->path);
		run(skel->progs.husk_test_path, &t, sizeof(t));
		check(t.verdict == (unsigned)c->allow, "files: %s %s -> %s", kinds[c->kind],
		      c->path, c->allow ? "allow" : "deny");
	}
	husk_bpf_maps_policy_del(&m, CGID_A, a, NULL, 0);
	husk_bpf_maps_policy_del(&m, CGID_B, b, NULL, 0);
	{
		uint64_t k;

		check(bpf_map_get_next_key(m.fs, NULL, &k) && errno == ENOENT,
		      "files: no entry is left");
	}
	husk_policy_free(a);
	husk_policy_free(b);
}

static void test_signal(struct husk_test *skel)
{
	struct husk_test_net same = {.cgid = CGID_A, .port = 0};
	struct husk_test_net other = {.cgid = CGID_A, .port = 1};

	run(skel->progs.husk_test_signal, &same, sizeof(same));
	run(skel->progs.husk_test_signal, &other, sizeof(other));
	check(same.verdict == 1, "signal: within the environment -> allow");
	check(other.verdict == 0, "signal: to another cgroup -> deny");
}

/* The bench generator writes what it says, and counts what did not fit. */
static int count_event(void *ctx, void *data, size_t size)
{
	const struct husk_ev_bench *ev = data;
	uint64_t *n = ctx;

	if (size >= sizeof(*ev) && ev->hdr.type == HUSK_EV_BENCH)
		(*n)++;
	return 0;
}

static void test_ringbuf(struct husk_test *skel)
{
	struct husk_test_bench t = {.cgid = CGID_A, .count = 1000};
	struct ring_buffer *rb;
	uint64_t seen = 0;
	const struct husk_counters *c;
	uint32_t zero = 0;
	struct husk_counters val;

	rb = ring_buffer__new(bpf_map__fd(skel->maps.husk_events), count_event, &seen, NULL);
	check(rb != NULL, "ringbuf: consumer created");
	if (!rb)
		return;
	run(skel->progs.husk_bench_emit, &t, sizeof(t));
	ring_buffer__consume(rb);
	check(t.written == 1000 && seen == 1000, "ringbuf: 1000 written, 1000 consumed (%u, %llu)",
	      t.written, (unsigned long long)seen);
	/* Far more than the ring holds, without consuming: the rest is counted lost. */
	t.count = 1u << 20;
	run(skel->progs.husk_bench_emit, &t, sizeof(t));
	bpf_map_lookup_elem(bpf_map__fd(skel->maps.husk_counters), &zero, &val);
	c = &val;
	check(t.written < t.count && c->lost_events == t.count - t.written,
	      "ringbuf: overflow counted as lost (%u written, %llu lost)", t.written,
	      (unsigned long long)c->lost_events);
	ring_buffer__free(rb);
}

int main(void)
{
	struct husk_test *skel = husk_test__open_and_load();

	if (!skel) {
		fprintf(stderr, "bpf_test: cannot load bpf/husk_test.bpf.o: %s\n", strerror(errno));
		return 1;
	}
	test_net(skel);
	test_bind(skel);
	test_sock(skel);
	test_dev(skel);
	test_path(skel);
	test_signal(skel);
	test_ringbuf(skel);
	husk_test__destroy(skel);
	printf("bpf_test: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
