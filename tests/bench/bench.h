/* SPDX-License-Identifier: GPL-2.0 */
/*
 * husk-bench: the parts of the benchmark driver and what they share.
 *
 * Every measuring command appends "key value" lines to a results file; the
 * report command reads the file back and prints the tables, so figures of
 * several huskd configurations and of the bubblewrap baseline, all measured
 * in the same run, end up side by side with their ratios.
 */
#ifndef HUSK_BENCH_H
#define HUSK_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define BENCH_ERR_MAX 512

/* The event every benchmark invocation sends; the minimal function echoes it. */
#define BENCH_EVENT "{\"bench\":\"husk\",\"payload\":\"minimal\"}"

/* ---- samples and results (stats.c) ---- */

struct bench_samples {
	double *v;
	size_t n, cap;
};

int samples_add(struct bench_samples *s, double v);
/* Nearest-rank percentile (0 < pct <= 100); sorts the samples; NAN if empty. */
double samples_pct(struct bench_samples *s, double pct);
void samples_free(struct bench_samples *s);

/* Appends "PREFIX.METRIC value" lines to the results file. */
struct bench_out {
	FILE *f;
	const char *prefix;
};

int out_open(struct bench_out *o, const char *path, const char *prefix);
void out_put(struct bench_out *o, const char *metric, double v);
/* METRIC.median, METRIC.p99 and METRIC.n of the samples. */
void out_summary(struct bench_out *o, const char *metric, struct bench_samples *s);
int out_close(struct bench_out *o);

struct bench_results;
int results_load(const char *path, struct bench_results **out, char *err, size_t errlen);
/* The value of a key built like printf; NAN when the run did not measure it. */
double results_get(const struct bench_results *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void results_free(struct bench_results *r);

/* ---- the host (host.c) ---- */

/* CLOCK_MONOTONIC in microseconds. */
double now_us(void);
void sleep_ms(unsigned ms);
/* Pin the calling thread (and what it spawns later) to cpu; -1 leaves it. */
int pin_cpu(int cpu);
/* MemTotal - MemAvailable, the memory the system cannot hand out now. */
int host_mem_used_kib(uint64_t *kib);
int proc_rss_kib(pid_t pid, uint64_t *kib);
/*
 * The memory cgroup directory of the environments of the huskd with this
 * pid: its own memory group (v1 controller, else v2) plus "/parent".
 */
int env_parent_cgroup(pid_t pid, const char *parent, char *buf, size_t len);
/* Usage of a memory cgroup directory (v1 usage_in_bytes or v2 current). */
int cgroup_mem_kib(const char *dir, uint64_t *kib);
/*
 * The "env-*" groups in the directory and the sum of their usage: what the
 * environments themselves are charged, without what is charged to the
 * parent group itself (such as the memory cgroups' own structures).
 */
int cgroup_sum_envs(const char *dir, unsigned *n, uint64_t *kib);
/* Raise RLIMIT_NOFILE to its hard limit: idle runs hold many descriptors. */
void raise_nofile(void);
/* nproc, kernel, CPU model, memory: the first lines of the report. */
void print_machine(FILE *f);

/* ---- the Lambda API client (client.c) ---- */

struct lambda_client;

/* What one Invoke returned, taken from its X-Husk-Report header. */
struct invoke_result {
	double latency_us;  /* request written to response read, on the client */
	double duration_ms; /* Duration */
	double init_ms;	    /* Init Duration, NAN on a warm start */
	double freeze_us;   /* Freeze Duration: thaw before + freeze after the previous */
};

/*
 * endpoint is "tcp:HOST:PORT" or "unix:PATH". HOST must be a loopback
 * address: the benchmark sends nothing off the machine.
 */
int client_open(const char *endpoint, struct lambda_client **out, char *err, size_t errlen);
void client_close(struct lambda_client *c);
int client_create_function(struct lambda_client *c, const char *name, const char *zip_b64,
			   char *err, size_t errlen);
/* How many connections the client opened: 1 for a run that kept its connection. */
unsigned long client_connects(const struct lambda_client *c);
/* Invoke with BENCH_EVENT; fails unless the function answered with it, echoed. */
int client_invoke(struct lambda_client *c, const char *name, struct invoke_result *res,
		  char *err, size_t errlen);

/*
 * Create or invoke functions prefix-0 .. prefix-(n-1) with that many
 * concurrent connections; not timed, for filling huskd up.
 */
int client_create_many(const char *endpoint, const char *prefix, unsigned first, unsigned n,
		       const char *zip_b64, unsigned parallel, char *err, size_t errlen);
int client_invoke_many(const char *endpoint, const char *prefix, unsigned first, unsigned n,
		       unsigned parallel, char *err, size_t errlen);
/* "prefix-00042" */
void function_name(char *buf, size_t len, const char *prefix, unsigned i);

/* ---- the bubblewrap baseline (baseline.c) ---- */

struct baseline_cfg {
	const char *bwrap; /* /usr/bin/bwrap */
	const char *init;  /* husk-init, bound at /husk-init */
	const char *code;  /* a directory holding bootstrap, bound at /var/task */
	const char *log;   /* stdout and stderr of bwrap and the sandbox */
};

#define BASELINE_ARGS_MAX 64

/* What every sandbox start shares, prepared once so that it is not timed. */
struct baseline {
	const struct baseline_cfg *cfg;
	char *argv[BASELINE_ARGS_MAX];
	char *links[8]; /* targets of the host's merged-/usr links */
	int null_fd, log_fd;
	char *spawn;	/* the SPAWN payload */
	size_t spawn_len;
};

int baseline_init(struct baseline *b, const struct baseline_cfg *cfg, char *err, size_t errlen);
void baseline_fini(struct baseline *b);

/* One bwrap running husk-init, with the bench on the other end of fd 3. */
struct sandbox {
	pid_t pid;
	int chan;
	uint64_t seq; /* invocations sent, for request ids */
};

/* Start bwrap and send SPAWN; READY follows when the runtime asks for work. */
int sandbox_start(const struct baseline *b, struct sandbox *sb, char *err, size_t errlen);
/* Wait for READY; *init_ns is husk-init's SPAWN-to-first-/next time. */
int sandbox_ready(struct sandbox *sb, uint64_t *init_ns, char *err, size_t errlen);
/* INVOKE with BENCH_EVENT and wait for its RESPONSE, which must echo it. */
int sandbox_invoke(struct sandbox *sb, char *err, size_t errlen);
/* Close the channel: husk-init exits at its end. */
void sandbox_hangup(struct sandbox *sb);
/* Hang up if not yet, and reap bwrap (killing it if it lingers). */
void sandbox_stop(struct sandbox *sb);

/* ---- the tables (report.c) ---- */

/* Print every section the results file has figures for; idle counts as measured. */
int bench_report(FILE *f, const char *results, const unsigned *counts, unsigned n_counts);

#endif /* HUSK_BENCH_H */
