// SPDX-License-Identifier: GPL-2.0
/*
 * husk-bench-ringbuf [RATE [SECONDS]]: the telemetry ring buffer's
 * throughput. A producer thread runs bpf/husk_test.bpf.c's husk_bench_emit
 * (BPF_PROG_TEST_RUN, batches written in the kernel with the same reserve/
 * submit path as every husk event, same record header, husk_counters'
 * lost_events counting what found no room) while a consumer thread drains
 * it with libbpf's ring_buffer, as huskd's collector does (epoll, then
 * consume). Prints "key value" lines:
 *
 *   ringbuf_max_offered_per_s / _consumed_per_s / _lost   producer flat out
 *   ringbuf_paced_offered_per_s / _consumed_per_s / _lost  paced at RATE/s
 *
 * The ring buffer has huskd's default size (8 MiB).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/husk_abi.h"
#include "husk_test.skel.h"

#define BATCH_MAX 4096u

struct bench {
	struct husk_test *skel;
	struct ring_buffer *rb;
	atomic_bool stop;
	uint64_t consumed;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct bench *b = ctx;

	b->consumed++;
	return 0;
}

static void *consumer(void *arg)
{
	struct bench *b = arg;

	while (!atomic_load(&b->stop))
		ring_buffer__poll(b->rb, 50);
	ring_buffer__consume(b->rb);
	return NULL;
}

static uint64_t lost(struct bench *b)
{
	struct husk_counters c;
	uint32_t zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(b->skel->maps.husk_counters), &zero, &c))
		return 0;
	return c.lost_events;
}

static void reset(struct bench *b)
{
	struct husk_counters c;
	uint32_t zero = 0;

	memset(&c, 0, sizeof(c));
	bpf_map_update_elem(bpf_map__fd(b->skel->maps.husk_counters), &zero, &c, BPF_ANY);
	b->consumed = 0;
}

static uint64_t emit(struct bench *b, uint32_t count)
{
	struct husk_test_bench t = {.cgid = 1, .count = count};
	/* A syscall program's context is copied back into ctx_in. */
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &t, .ctx_size_in = sizeof(t));

	if (bpf_prog_test_run_opts(bpf_program__fd(b->skel->progs.husk_bench_emit), &opts)) {
		perror("husk-bench-ringbuf: test run");
		exit(1);
	}
	return t.written;
}

/*
 * Offer events for seconds: rate 0 flat out, else in 1 ms batches of
 * rate/1000; then print offered, consumed and lost per second.
 */
static int run(struct bench *b, const char *name, unsigned rate, double seconds)
{
	uint64_t written = 0, dropped;
	double t0, t1, next;
	pthread_t th;
	uint32_t batch = rate ? rate / 1000 : BATCH_MAX;

	if (batch == 0 || batch > BATCH_MAX)
		batch = BATCH_MAX;
	reset(b);
	atomic_store(&b->stop, false);
	if (pthread_create(&th, NULL, consumer, b))
		return -1;
	t0 = now_s();
	next = t0;
	while ((t1 = now_s()) - t0 < seconds) {
		written += emit(b, batch);
		if (!rate)
			continue;
		next += batch / (double)rate;
		while (now_s() < next)
			;
	}
	atomic_store(&b->stop, true);
	pthread_join(th, NULL);
	dropped = lost(b);
	printf("ringbuf_%s_offered_per_s %.0f\n", name, (written + dropped) / (t1 - t0));
	printf("ringbuf_%s_consumed_per_s %.0f\n", name, b->consumed / (t1 - t0));
	printf("ringbuf_%s_lost %llu\n", name, (unsigned long long)dropped);
	printf("ringbuf_%s_unconsumed %lld\n", name, (long long)(written - b->consumed));
	return 0;
}

int main(int argc, char **argv)
{
	unsigned rate = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 500000;
	double seconds = argc > 2 ? strtod(argv[2], NULL) : 2.0;
	struct bench b = {0};

	b.skel = husk_test__open_and_load();
	if (!b.skel) {
		fprintf(stderr, "husk-bench-ringbuf: cannot load the test object: %s\n",
			strerror(errno));
		return 1;
	}
	b.rb = ring_buffer__new(bpf_map__fd(b.skel->maps.husk_events), on_event, &b, NULL);
	if (!b.rb) {
		fprintf(stderr, "husk-bench-ringbuf: ring_buffer__new: %s\n", strerror(errno));
		return 1;
	}
	run(&b, "max", 0, seconds);
	run(&b, "paced", rate, seconds);
	ring_buffer__free(b.rb);
	husk_test__destroy(b.skel);
	return 0;
}
