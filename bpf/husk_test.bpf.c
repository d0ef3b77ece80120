// SPDX-License-Identifier: GPL-2.0
/*
 * Programs that run husk's hook decisions (husk_decide.h) on values from
 * userspace, through BPF_PROG_TEST_RUN: the unit tests fill this object's
 * own maps and check verdicts table by table, on any kernel, LSM or not.
 *
 * SEC("syscall") where the decision allows: syscall programs are sleepable,
 * and sleepable programs may not use LPM tries, so the network decisions
 * run as SEC("raw_tp") programs instead (also test-runnable, never
 * attached), which read their case from the address in args[0] and answer
 * in the return value: verdict | reason << 8 | (rule + 1) << 16.
 * husk_bench_emit feeds the ring buffer for the telemetry benchmark.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "husk_decide.h"

char LICENSE[] SEC("license") = "GPL";

static __always_inline int read_case(struct husk_test_net *t, __u64 *args)
{
	return bpf_probe_read_user(t, sizeof(*t), (const void *)args[0]);
}

SEC("raw_tp")
int husk_test_net(struct bpf_raw_tracepoint_args *ctx)
{
	struct husk_verdict v = {};
	struct husk_test_net t;
	__u32 a[4];

	if (read_case(&t, ctx->args))
		return -1;
	if (t.family == AF_INET) {
		__u32 a4;

		__builtin_memcpy(&a4, t.addr, 4);
		husk_decide_net4(t.cgid, a4, t.port, t.protocol, &v);
	} else {
		__builtin_memcpy(a, t.addr, 16);
		husk_decide_net6(t.cgid, a, t.port, t.protocol, &v);
	}
	return v.allow | (v.allow ? 0 : v.reason) << 8 | (__u32)(v.rule + 1) << 16;
}

SEC("raw_tp")
int husk_test_bind(struct bpf_raw_tracepoint_args *ctx)
{
	struct husk_test_net t;
	__u32 a4, a[4];

	if (read_case(&t, ctx->args))
		return -1;
	if (t.family == AF_INET) {
		__builtin_memcpy(&a4, t.addr, 4);
		return husk_decide_bind4(a4);
	}
	__builtin_memcpy(a, t.addr, 16);
	return husk_decide_bind6(a);
}

/* The path under test, where the decision may index it. */
char test_path[HUSK_FS_PATH_MAX];

SEC("syscall")
int husk_test_path(struct husk_test_path *t)
{
	__u64 cgid = t->cgid; /* map keys: the stack; indexed reads: not ctx */
	struct husk_fs_policy *fp = bpf_map_lookup_elem(&husk_fs, &cgid);

	__builtin_memcpy(test_path, t->path, sizeof(test_path));
	test_path[HUSK_FS_PATH_MAX - 1] = 0;
	t->verdict = fp ? husk_decide_path(fp, t->kind, test_path) : 0;
	return 0;
}

SEC("syscall")
int husk_test_sock(struct husk_test_sock *t)
{
	t->verdict = husk_decide_socket(t->family, t->type, t->protocol);
	return 0;
}

SEC("syscall")
int husk_test_dev(struct husk_test_dev *t)
{
	t->verdict = husk_decide_dev(t->type, t->major, t->minor);
	return 0;
}

SEC("syscall")
int husk_test_signal(struct husk_test_net *t)
{
	/* cgid: the sender's environment; port reused as the target's low word */
	t->verdict = husk_decide_signal(t->cgid, t->cgid + t->port);
	return 0;
}

struct bench_loop {
	__u64 cgid;
	__u32 written;
};

static long emit_one(__u64 i, void *arg)
{
	struct bench_loop *l = arg;
	struct husk_ev_bench *ev;
	__u32 zero = 0;

	ev = husk_event_reserve(bpf_map_lookup_elem(&husk_counters, &zero), sizeof(*ev), l->cgid, 0,
				HUSK_EV_BENCH);
	if (!ev)
		return 0;
	ev->seq = i;
	bpf_ringbuf_submit(ev, 0);
	l->written++;
	return 0;
}

SEC("syscall")
int husk_bench_emit(struct husk_test_bench *t)
{
	struct bench_loop l = {.cgid = t->cgid};

	bpf_loop(t->count, emit_one, &l, 0);
	t->written = l.written;
	return 0;
}
