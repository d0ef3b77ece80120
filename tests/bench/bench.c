// SPDX-License-Identifier: GPL-2.0
/*
 * husk-bench: the benchmark driver behind `make bench` (tests/bench/run.sh
 * starts the huskd instances and calls it once per measurement).
 *
 *   husk-bench warm       warm Invoke latency and rate over one connection
 *   husk-bench cold       cold Invoke latency: every sample a new function
 *   husk-bench idle       huskd and host memory with N idle environments
 *   husk-bench base-cold  bwrap + husk-init: spawn to first RESPONSE
 *   husk-bench base-warm  bwrap + husk-init: INVOKE to RESPONSE
 *   husk-bench base-idle  host memory with N idle bwrap sandboxes
 *   husk-bench free-port  a free loopback TCP port
 *   husk-bench report     the tables, from the results file
 *
 * Measuring commands append their figures to --out; see bench.h.
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/bench/bench.h"

#define IDLE_COUNTS_MAX 16

struct opts {
	const char *endpoint, *function, *prefix, *zip_file, *out, *key;
	const char *bwrap, *init, *code, *log, *cgroup_parent;
	unsigned count, warmup, parallel, settle_ms;
	unsigned counts[IDLE_COUNTS_MAX], n_counts;
	int cpu;
	pid_t pid;
	char *zip_b64; /* contents of zip_file */
};

static const char usage[] =
	"usage: husk-bench COMMAND [OPTIONS]\n"
	"  warm       --endpoint E --function NAME --zip-b64 FILE --count N [--warmup N]\n"
	"  cold       --endpoint E --prefix P --zip-b64 FILE --count N\n"
	"  idle       --endpoint E --prefix P --zip-b64 FILE --counts \"0 100 1000\" --pid PID\n"
	"             --cgroup-parent NAME [--settle-ms MS]\n"
	"  base-cold  --bwrap PATH --init PATH --code DIR --log FILE --count N\n"
	"  base-warm  --bwrap PATH --init PATH --code DIR --log FILE --count N [--warmup N]\n"
	"  base-idle  --bwrap PATH --init PATH --code DIR --log FILE --counts \"0 100\"\n"
	"  free-port\n"
	"  report     --out FILE --counts \"0 100 1000\"\n"
	"measuring commands take --out FILE --key PREFIX, and --cpu N to pin the client;\n"
	"E is tcp:127.0.0.1:PORT or unix:PATH; --parallel N connections create functions.\n";

enum {
	OPT_ENDPOINT = 256,
	OPT_FUNCTION,
	OPT_PREFIX,
	OPT_ZIP,
	OPT_OUT,
	OPT_KEY,
	OPT_BWRAP,
	OPT_INIT,
	OPT_CODE,
	OPT_LOG,
	OPT_CGROUP,
	OPT_COUNT,
	OPT_WARMUP,
	OPT_PARALLEL,
	OPT_SETTLE,
	OPT_COUNTS,
	OPT_CPU,
	OPT_PID,
};

static const struct option options[] = {
	{ "endpoint", required_argument, NULL, OPT_ENDPOINT },
	{ "function", required_argument, NULL, OPT_FUNCTION },
	{ "prefix", required_argument, NULL, OPT_PREFIX },
	{ "zip-b64", required_argument, NULL, OPT_ZIP },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "bwrap", required_argument, NULL, OPT_BWRAP },
	{ "init", required_argument, NULL, OPT_INIT },
	{ "code", required_argument, NULL, OPT_CODE },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "cgroup-parent", required_argument, NULL, OPT_CGROUP },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "warmup", required_argument, NULL, OPT_WARMUP },
	{ "parallel", required_argument, NULL, OPT_PARALLEL },
	{ "settle-ms", required_argument, NULL, OPT_SETTLE },
	{ "counts", required_argument, NULL, OPT_COUNTS },
	{ "cpu", required_argument, NULL, OPT_CPU },
	{ "pid", required_argument, NULL, OPT_PID },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int fail(const char *what, const char *why)
{
	fprintf(stderr, "husk-bench: %s: %s\n", what, why);
	return 1;
}

static int parse_num(const char *opt, const char *s, unsigned long max, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > max) {
		fprintf(stderr, "husk-bench: --%s wants a number up to %lu, got '%s'\n", opt, max, s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* "0 100 1000" into ascending counts. */
static int parse_counts(struct opts *o, const char *s)
{
	char buf[256], *tok, *save;
	unsigned v;

	snprintf(buf, sizeof(buf), "%s", s);
	o->n_counts = 0;
	for (tok = strtok_r(buf, " ,", &save); tok; tok = strtok_r(NULL, " ,", &save)) {
		if (o->n_counts == IDLE_COUNTS_MAX || parse_num("counts", tok, 100000, &v))
			return -EINVAL;
		if (o->n_counts && v <= o->counts[o->n_counts - 1]) {
			fprintf(stderr, "husk-bench: --counts must be ascending, got '%s'\n", s);
			return -EINVAL;
		}
		o->counts[o->n_counts++] = v;
	}
	return 0;
}

static int parse_opt(struct opts *o, int opt, const char *arg)
{
	unsigned v;

	switch (opt) {
	case OPT_ENDPOINT: o->endpoint = arg; return 0;
	case OPT_FUNCTION: o->function = arg; return 0;
	case OPT_PREFIX: o->prefix = arg; return 0;
	case OPT_ZIP: o->zip_file = arg; return 0;
	case OPT_OUT: o->out = arg; return 0;
	case OPT_KEY: o->key = arg; return 0;
	case OPT_BWRAP: o->bwrap = arg; return 0;
	case OPT_INIT: o->init = arg; return 0;
	case OPT_CODE: o->code = arg; return 0;
	case OPT_LOG: o->log = arg; return 0;
	case OPT_CGROUP: o->cgroup_parent = arg; return 0;
	case OPT_COUNT: return parse_num("count", arg, 10000000, &o->count);
	case OPT_WARMUP: return parse_num("warmup", arg, 10000000, &o->warmup);
	case OPT_PARALLEL: return parse_num("parallel", arg, 64, &o->parallel);
	case OPT_SETTLE: return parse_num("settle-ms", arg, 600000, &o->settle_ms);
	case OPT_COUNTS: return parse_counts(o, arg);
	case OPT_CPU:
		if (parse_num("cpu", arg, CPU_SETSIZE - 1, &v))
			return -EINVAL;
		o->cpu = v;
		return 0;
	case OPT_PID:
		if (parse_num("pid", arg, 1u << 30, &v))
			return -EINVAL;
		o->pid = v;
		return 0;
	}
	return -EINVAL;
}

static int parse_args(struct opts *o, int argc, char **argv)
{
	int opt;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (opt == 'h' || opt == '?') {
			fputs(usage, opt == 'h' ? stdout : stderr);
			return opt == 'h' ? 1 : -EINVAL;
		}
		if (parse_opt(o, opt, optarg))
			return -EINVAL;
	}
	if (optind < argc) {
		fprintf(stderr, "husk-bench: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* The options a command cannot do without, named in the error. */
static int require(const char *cmd, const char *name, const void *value)
{
	if (value)
		return 0;
	fprintf(stderr, "husk-bench %s: --%s is required\n", cmd, name);
	return -EINVAL;
}

static int load_zip(struct opts *o)
{
	FILE *f = fopen(o->zip_file, "r");
	long len;
	size_t got;

	if (!f) {
		fprintf(stderr, "husk-bench: cannot open %s: %s\n", o->zip_file, strerror(errno));
		return -errno;
	}
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	o->zip_b64 = len > 0 ? malloc(len + 1) : NULL;
	got = o->zip_b64 ? fread(o->zip_b64, 1, len, f) : 0;
	fclose(f);
	if (!o->zip_b64 || got != (size_t)len) {
		fprintf(stderr, "husk-bench: cannot read %s\n", o->zip_file);
		return -EIO;
	}
	while (got && (o->zip_b64[got - 1] == '\n' || o->zip_b64[got - 1] == '\r'))
		got--;
	o->zip_b64[got] = '\0';
	return 0;
}

static int start_measuring(const char *cmd, struct opts *o, struct bench_out *out, bool zip)
{
	int rc;

	rc = require(cmd, "out", o->out);
	if (!rc)
		rc = require(cmd, "key", o->key);
	if (!rc && zip)
		rc = require(cmd, "zip-b64", o->zip_file);
	if (!rc && zip)
		rc = load_zip(o);
	if (rc)
		return rc;
	rc = pin_cpu(o->cpu);
	if (rc) {
		fprintf(stderr, "husk-bench: cannot pin to CPU %d: %s\n", o->cpu, strerror(-rc));
		return rc;
	}
	rc = out_open(out, o->out, o->key);
	if (rc)
		fprintf(stderr, "husk-bench: cannot open %s: %s\n", o->out, strerror(-rc));
	return rc;
}

/* ---- against huskd ---- */

static int warm_loop(struct lambda_client *c, const struct opts *o, struct bench_samples *lat,
		     struct bench_samples *frz, double *rate, char *err)
{
	struct invoke_result res;
	double t0;
	unsigned i;
	int rc = 0;

	for (i = 0; i < o->warmup && !rc; i++)
		rc = client_invoke(c, o->function, &res, err, BENCH_ERR_MAX);
	t0 = now_us();
	for (i = 0; i < o->count && !rc; i++) {
		rc = client_invoke(c, o->function, &res, err, BENCH_ERR_MAX);
		if (!rc && !isnan(res.init_ms)) {
			snprintf(err, BENCH_ERR_MAX, "warm invocation %u was a cold start", i);
			rc = -EPROTO;
		}
		if (!rc)
			rc = samples_add(lat, res.latency_us);
		if (!rc && !isnan(res.freeze_us))
			rc = samples_add(frz, res.freeze_us);
	}
	*rate = o->count / ((now_us() - t0) / 1e6);
	return rc;
}

static int cmd_warm(struct opts *o)
{
	struct bench_samples lat = { 0 }, frz = { 0 };
	struct lambda_client *c = NULL;
	struct invoke_result res;
	struct bench_out out;
	char err[BENCH_ERR_MAX];
	double rate = 0;
	int rc;

	if (require("warm", "endpoint", o->endpoint) || require("warm", "function", o->function) ||
	    start_measuring("warm", o, &out, true))
		return 1;
	rc = client_open(o->endpoint, &c, err, sizeof(err));
	if (!rc)
		rc = client_create_function(c, o->function, o->zip_b64, err, sizeof(err));
	/* The first invocation creates the environment; it is not a warm sample. */
	if (!rc)
		rc = client_invoke(c, o->function, &res, err, sizeof(err));
	if (!rc)
		rc = warm_loop(c, o, &lat, &frz, &rate, err);
	if (!rc) {
		out_summary(&out, "latency_us", &lat);
		out_summary(&out, "freeze_us", &frz);
		out_put(&out, "rate", rate);
		out_put(&out, "connects", client_connects(c));
		fprintf(stderr, "  %-32s median %8.1f us  p99 %8.1f us  %8.0f/s  freeze %6.1f us\n",
			o->key, samples_pct(&lat, 50), samples_pct(&lat, 99), rate,
			samples_pct(&frz, 50));
		if (client_connects(c) > 1)
			fprintf(stderr, "husk-bench: warning: %s opened %lu connections, not one\n",
				o->key, client_connects(c));
	}
	client_close(c);
	samples_free(&lat);
	samples_free(&frz);
	if (out_close(&out) && !rc)
		return fail(o->out, "cannot write the results");
	return rc ? fail(o->key, err) : 0;
}

static int cold_loop(struct lambda_client *c, const struct opts *o, struct bench_samples *lat,
		     struct bench_samples *init, char *err)
{
	struct invoke_result res;
	char name[128];
	unsigned i;
	int rc = 0;

	for (i = 0; i < o->count && !rc; i++) {
		function_name(name, sizeof(name), o->prefix, i);
		rc = client_invoke(c, name, &res, err, BENCH_ERR_MAX);
		if (!rc && isnan(res.init_ms)) {
			snprintf(err, BENCH_ERR_MAX, "%s: first invocation reported no Init Duration",
				 name);
			rc = -EPROTO;
		}
		if (!rc)
			rc = samples_add(lat, res.latency_us);
		if (!rc)
			rc = samples_add(init, res.init_ms);
	}
	return rc;
}

static int cmd_cold(struct opts *o)
{
	struct bench_samples lat = { 0 }, init = { 0 };
	struct lambda_client *c = NULL;
	struct bench_out out;
	char err[BENCH_ERR_MAX];
	int rc;

	if (require("cold", "endpoint", o->endpoint) || require("cold", "prefix", o->prefix) ||
	    start_measuring("cold", o, &out, true))
		return 1;
	/* Creating the functions is not what is measured: do it first, in parallel. */
	rc = client_create_many(o->endpoint, o->prefix, 0, o->count, o->zip_b64, o->parallel, err,
				sizeof(err));
	if (!rc)
		rc = client_open(o->endpoint, &c, err, sizeof(err));
	if (!rc)
		rc = cold_loop(c, o, &lat, &init, err);
	if (!rc) {
		out_summary(&out, "latency_us", &lat);
		out_summary(&out, "init_ms", &init);
		fprintf(stderr, "  %-32s median %8.2f ms  p99 %8.2f ms  init %6.2f ms\n", o->key,
			samples_pct(&lat, 50) / 1e3, samples_pct(&lat, 99) / 1e3,
			samples_pct(&init, 50));
	}
	client_close(c);
	samples_free(&lat);
	samples_free(&init);
	if (out_close(&out) && !rc)
		return fail(o->out, "cannot write the results");
	return rc ? fail(o->key, err) : 0;
}

/*
 * The usage of huskd's own memory group (which holds the environments'
 * parent, cgdir): kernel memory allocated while a jail is cloned, before it
 * is moved into its own group, is charged there.
 */
static int huskd_group_kib(const char *cgdir, uint64_t *kib)
{
	char own[1024];
	char *slash;

	snprintf(own, sizeof(own), "%s", cgdir);
	slash = strrchr(own, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	return cgroup_mem_kib(own, kib);
}

/* VmRSS of huskd, system memory in use, and the environments' own groups. */
static int idle_snapshot(const struct opts *o, struct bench_out *out, const char *cgdir,
			 unsigned n)
{
	uint64_t rss = 0, used = 0, cg = 0, envs_kib = 0, own = 0;
	unsigned envs = 0;
	char key[64];
	int rc;

	sleep_ms(o->settle_ms);
	rc = proc_rss_kib(o->pid, &rss);
	if (rc) {
		fprintf(stderr, "husk-bench: cannot read VmRSS of huskd %d: %s\n", (int)o->pid,
			strerror(-rc));
		return rc;
	}
	rc = host_mem_used_kib(&used);
	if (rc)
		return fail("/proc/meminfo", strerror(-rc));
	snprintf(key, sizeof(key), "%u.rss_kib", n);
	out_put(out, key, rss);
	snprintf(key, sizeof(key), "%u.used_kib", n);
	out_put(out, key, used);
	if (cgdir && !cgroup_mem_kib(cgdir, &cg)) {
		snprintf(key, sizeof(key), "%u.cg_kib", n);
		out_put(out, key, cg);
	}
	if (cgdir && !huskd_group_kib(cgdir, &own)) {
		snprintf(key, sizeof(key), "%u.own_kib", n);
		out_put(out, key, own);
	}
	if (cgdir && !cgroup_sum_envs(cgdir, &envs, &envs_kib)) {
		snprintf(key, sizeof(key), "%u.envs", n);
		out_put(out, key, envs);
		snprintf(key, sizeof(key), "%u.envs_kib", n);
		out_put(out, key, envs_kib);
	}
	fprintf(stderr, "  %-32s %5u idle: huskd VmRSS %7.1f MiB, used %8.1f MiB, %u envs' "
		"groups %7.1f MiB (parent %.1f MiB)\n", o->key, n, rss / 1024.0, used / 1024.0,
		envs, envs_kib / 1024.0, cg / 1024.0);
	return 0;
}

static int cmd_idle(struct opts *o)
{
	char err[BENCH_ERR_MAX], cgdir[1024];
	unsigned i, done = 0, max;
	struct bench_out out;
	bool have_cg;
	int rc = 0;

	if (require("idle", "endpoint", o->endpoint) || require("idle", "prefix", o->prefix) ||
	    require("idle", "pid", o->pid ? o : NULL) ||
	    require("idle", "cgroup-parent", o->cgroup_parent) ||
	    require("idle", "counts", o->n_counts ? o : NULL) ||
	    start_measuring("idle", o, &out, true))
		return 1;
	max = o->counts[o->n_counts - 1];
	rc = client_create_many(o->endpoint, o->prefix, 0, max, o->zip_b64, o->parallel, err,
				sizeof(err));
	have_cg = !env_parent_cgroup(o->pid, o->cgroup_parent, cgdir, sizeof(cgdir));
	if (!rc && !have_cg)
		fprintf(stderr, "husk-bench: cannot find the memory cgroup %s of huskd %d; "
			"reporting without the environments' own memory\n", o->cgroup_parent,
			(int)o->pid);
	for (i = 0; i < o->n_counts && !rc; i++) {
		/*
		 * One connection, one cold start at a time: what is measured is
		 * the environments at rest, not concurrent creation.
		 */
		rc = client_invoke_many(o->endpoint, o->prefix, done, o->counts[i] - done, 1, err,
					sizeof(err));
		done = o->counts[i];
		if (!rc && idle_snapshot(o, &out, have_cg ? cgdir : NULL, done)) {
			snprintf(err, sizeof(err), "cannot take a memory snapshot");
			rc = -EIO;
		}
	}
	if (out_close(&out) && !rc)
		return fail(o->out, "cannot write the results");
	return rc ? fail(o->key, err) : 0;
}

/* ---- the bubblewrap baseline ---- */

static int start_baseline(const char *cmd, struct opts *o, struct baseline *b,
			  struct baseline_cfg *cfg, struct bench_out *out)
{
	char err[BENCH_ERR_MAX];

	if (require(cmd, "bwrap", o->bwrap) || require(cmd, "init", o->init) ||
	    require(cmd, "code", o->code) || require(cmd, "log", o->log))
		return -EINVAL;
	*cfg = (struct baseline_cfg){ .bwrap = o->bwrap, .init = o->init, .code = o->code,
				      .log = o->log };
	if (baseline_init(b, cfg, err, sizeof(err))) {
		fail(cmd, err);
		return -EINVAL;
	}
	if (start_measuring(cmd, o, out, false)) {
		baseline_fini(b);
		return -EINVAL;
	}
	return 0;
}

/* One cold sample: bwrap spawned, SPAWN, READY, INVOKE, RESPONSE. */
static int base_cold_one(const struct baseline *b, double *lat_us, double *init_ms, char *err)
{
	struct sandbox sb;
	uint64_t init_ns = 0;
	double t0 = now_us();
	int rc;

	rc = sandbox_start(b, &sb, err, BENCH_ERR_MAX);
	if (rc)
		return rc;
	rc = sandbox_ready(&sb, &init_ns, err, BENCH_ERR_MAX);
	if (!rc)
		rc = sandbox_invoke(&sb, err, BENCH_ERR_MAX);
	*lat_us = now_us() - t0;
	*init_ms = init_ns / 1e6;
	sandbox_stop(&sb);
	return rc;
}

static int cmd_base_cold(struct opts *o)
{
	struct bench_samples lat = { 0 }, init = { 0 };
	struct baseline_cfg cfg;
	struct bench_out out;
	struct baseline b;
	char err[BENCH_ERR_MAX];
	double l, im;
	unsigned i;
	int rc = 0;

	if (start_baseline("base-cold", o, &b, &cfg, &out))
		return 1;
	for (i = 0; i < o->count && !rc; i++) {
		rc = base_cold_one(&b, &l, &im, err);
		if (!rc)
			rc = samples_add(&lat, l);
		if (!rc)
			rc = samples_add(&init, im);
	}
	if (!rc) {
		out_summary(&out, "latency_us", &lat);
		out_summary(&out, "init_ms", &init);
		fprintf(stderr, "  %-32s median %8.2f ms  p99 %8.2f ms  init %6.2f ms\n", o->key,
			samples_pct(&lat, 50) / 1e3, samples_pct(&lat, 99) / 1e3,
			samples_pct(&init, 50));
	}
	baseline_fini(&b);
	samples_free(&lat);
	samples_free(&init);
	if (out_close(&out) && !rc)
		return fail(o->out, "cannot write the results");
	return rc ? fail(o->key, err) : 0;
}

static int base_warm_loop(struct sandbox *sb, const struct opts *o, struct bench_samples *lat,
			  double *rate, char *err)
{
	double t0, t;
	unsigned i;
	int rc = 0;

	for (i = 0; i < o->warmup && !rc; i++)
		rc = sandbox_invoke(sb, err, BENCH_ERR_MAX);
	t0 = now_us();
	for (i = 0; i < o->count && !rc; i++) {
		t = now_us();
		rc = sandbox_invoke(sb, err, BENCH_ERR_MAX);
		if (!rc)
			rc = samples_add(lat, now_us() - t);
	}
	*rate = o->count / ((now_us() - t0) / 1e6);
	return rc;
}

static int cmd_base_warm(struct opts *o)
{
	struct bench_samples lat = { 0 };
	struct baseline_cfg cfg;
	struct bench_out out;
	struct baseline b;
	struct sandbox sb;
	char err[BENCH_ERR_MAX];
	uint64_t init_ns;
	double rate = 0;
	int rc;

	if (start_baseline("base-warm", o, &b, &cfg, &out))
		return 1;
	rc = sandbox_start(&b, &sb, err, sizeof(err));
	if (!rc) {
		rc = sandbox_ready(&sb, &init_ns, err, sizeof(err));
		if (!rc)
			rc = sandbox_invoke(&sb, err, sizeof(err));
		if (!rc)
			rc = base_warm_loop(&sb, o, &lat, &rate, err);
		sandbox_stop(&sb);
	}
	if (!rc) {
		out_summary(&out, "latency_us", &lat);
		out_put(&out, "rate", rate);
		fprintf(stderr, "  %-32s median %8.1f us  p99 %8.1f us  %8.0f/s\n", o->key,
			samples_pct(&lat, 50), samples_pct(&lat, 99), rate);
	}
	baseline_fini(&b);
	samples_free(&lat);
	if (out_close(&out) && !rc)
		return fail(o->out, "cannot write the results");
	return rc ? fail(o->key, err) : 0;
}

/* Sandboxes from *n up to want, each past its first invocation: idle like a warm env. */
static int base_fill(const struct baseline *b, struct sandbox *sbs, unsigned *n, unsigned want,
		     char *err)
{
	uint64_t init_ns;
	int rc = 0;

	for (; *n < want && !rc; (*n)++) {
		rc = sandbox_start(b, &sbs[*n], err, BENCH_ERR_MAX);
		if (rc)
			break;
		rc = sandbox_ready(&sbs[*n], &init_ns, err, BENCH_ERR_MAX);
		if (!rc)
			rc = sandbox_invoke(&sbs[*n], err, BENCH_ERR_MAX);
		if (rc)
			sandbox_stop(&sbs[*n]);
	}
	return rc;
}

static int cmd_base_idle(struct opts *o)
{
	struct baseline_cfg cfg;
	struct sandbox *sbs;
	struct bench_out out;
	struct baseline b;
	char err[BENCH_ERR_MAX], key[64];
	unsigned i, n = 0;
	uint64_t used;
	int rc = 0;

	if (require("base-idle", "counts", o->n_counts ? o : NULL) ||
	    start_baseline("base-idle", o, &b, &cfg, &out))
		return 1;
	raise_nofile();
	sbs = calloc(o->counts[o->n_counts - 1] + 1, sizeof(*sbs));
	if (!sbs) {
		snprintf(err, sizeof(err), "out of memory");
		rc = -ENOMEM;
	}
	for (i = 0; i < o->n_counts && !rc; i++) {
		rc = base_fill(&b, sbs, &n, o->counts[i], err);
		if (rc)
			break;
		sleep_ms(o->settle_ms);
		rc = host_mem_used_kib(&used);
		if (rc) {
			snprintf(err, sizeof(err), "cannot read /proc/meminfo: %s", strerror(-rc));
			break;
		}
		snprintf(key, sizeof(key), "%u.used_kib", n);
		out_put(&out, key, used);
		fprintf(stderr, "  %-32s %5u idle: used %8.1f MiB\n", o->key, n, used / 1024.0);
	}
	/* Hang up on all first, so that they exit together, then reap. */
	for (i = 0; sbs && i < n; i++)
		sandbox_hangup(&sbs[i]);
	for (i = 0; sbs && i < n; i++)
		sandbox_stop(&sbs[i]);
	free(sbs);
	baseline_fini(&b);
	if (out_close(&out) && !rc)
		return fail(o->out, "cannot write the results");
	return rc ? fail(o->key, err) : 0;
}

/* ---- helpers for run.sh ---- */

static int cmd_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &len))
		return fail("free-port", strerror(errno));
	printf("%u\n", ntohs(a.sin_port));
	close(fd);
	return 0;
}

static int cmd_report(struct opts *o)
{
	if (require("report", "out", o->out))
		return 1;
	return bench_report(stdout, o->out, o->counts, o->n_counts) ? 1 : 0;
}

struct command {
	const char *name;
	int (*run)(struct opts *o);
};

static int run_free_port(struct opts *o)
{
	return cmd_free_port();
}

static const struct command commands[] = {
	{ "warm", cmd_warm },	      { "cold", cmd_cold },	      { "idle", cmd_idle },
	{ "base-cold", cmd_base_cold }, { "base-warm", cmd_base_warm }, { "base-idle", cmd_base_idle },
	{ "free-port", run_free_port }, { "report", cmd_report },
};

int main(int argc, char **argv)
{
	struct opts o = { .cpu = -1, .parallel = 2, .settle_ms = 2000, .warmup = 100 };
	unsigned i;
	int rc;

	if (argc < 2 || argv[1][0] == '-') {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	rc = parse_args(&o, argc - 1, argv + 1);
	if (rc)
		return rc > 0 ? 0 : 2;
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name))
			continue;
		if (curl_global_init(CURL_GLOBAL_DEFAULT))
			return fail("libcurl", "cannot initialise");
		rc = commands[i].run(&o);
		free(o.zip_b64);
		curl_global_cleanup();
		return rc;
	}
	fprintf(stderr, "husk-bench: unknown command '%s'; see husk-bench --help\n", argv[1]);
	return 2;
}
