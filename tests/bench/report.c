// SPDX-License-Identifier: GPL-2.0
/*
 * The report of `make bench`: aligned tables of metric | husk | baseline |
 * ratio | target, from the figures the measuring commands wrote. Targets are
 * printed next to the figures with whether they were met; a benchmark
 * reports, it does not assert.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tests/bench/bench.h"

#define ROWS_MAX 48
#define COLS 5
#define CELL_MAX 112

enum unit { U_US, U_MS, U_RATE, U_MIB, U_KIB, U_COUNT };
enum goal { G_NONE, G_LE, G_GE, G_LT };

struct target {
	enum goal goal;
	double limit; /* in the row's unit */
	const char *text;
};

static const struct target no_target = { G_NONE, 0, "-" };
static const struct target cold_median = { G_LE, 3, "<= 3 ms" };
static const struct target warm_median = { G_LE, 100, "<= 100 us" };
static const struct target warm_p99 = { G_LE, 1000, "<= 1 ms" };
static const struct target warm_rate = { G_GE, 10000, ">= 10000/s" };
static const struct target idle_per_env = { G_LT, 1024, "< 1 MiB/env" };

struct table {
	const char *head[COLS];
	char cell[ROWS_MAX][COLS][CELL_MAX];
	unsigned n;
};

/* The two placements every latency is measured in. */
static const char *const pins[] = { "unpinned", "pinned" };
static const char *const pin_words[] = { "unpinned", "pinned to CPU 0" };
#define NR_PINS 2

static void fmt_value(char *buf, double v, enum unit u)
{
	if (isnan(v)) {
		snprintf(buf, CELL_MAX, "-");
		return;
	}
	switch (u) {
	case U_US: snprintf(buf, CELL_MAX, "%.1f us", v); break;
	case U_MS: snprintf(buf, CELL_MAX, "%.2f ms", v); break;
	case U_RATE: snprintf(buf, CELL_MAX, "%.0f/s", v); break;
	case U_MIB: snprintf(buf, CELL_MAX, "%.1f MiB", v); break;
	case U_KIB: snprintf(buf, CELL_MAX, "%.0f KiB", v); break;
	case U_COUNT: snprintf(buf, CELL_MAX, "%.0f", v); break;
	}
}

static const char *verdict(double v, const struct target *t)
{
	if (t->goal == G_NONE || isnan(v))
		return "";
	if (t->goal == G_LE)
		return v <= t->limit ? " (met)" : " (missed)";
	if (t->goal == G_GE)
		return v >= t->limit ? " (met)" : " (missed)";
	return v < t->limit ? " (met)" : " (missed)";
}

static void table_init(struct table *t, const char *c0, const char *c1, const char *c2,
		       const char *c3, const char *c4)
{
	t->head[0] = c0;
	t->head[1] = c1;
	t->head[2] = c2;
	t->head[3] = c3;
	t->head[4] = c4;
	t->n = 0;
}

/* One row; skipped when neither side was measured. */
static void row(struct table *t, const char *label, double a, double b, enum unit u,
		const struct target *tg)
{
	char (*c)[CELL_MAX];

	if ((isnan(a) && isnan(b)) || t->n == ROWS_MAX)
		return;
	c = t->cell[t->n++];
	snprintf(c[0], CELL_MAX, "%s", label);
	fmt_value(c[1], a, u);
	fmt_value(c[2], b, u);
	if (!isnan(a) && !isnan(b) && b != 0)
		snprintf(c[3], CELL_MAX, "%.2fx", a / b);
	else
		snprintf(c[3], CELL_MAX, "-");
	snprintf(c[4], CELL_MAX, "%s%s", tg->text, verdict(a, tg));
}

static void print_rule(FILE *f, const size_t *w)
{
	unsigned i;
	size_t j;

	for (i = 0; i < COLS; i++) {
		for (j = 0; j < w[i] + 2; j++)
			fputc('-', f);
		fputc(i + 1 < COLS ? '+' : '\n', f);
	}
}

static void print_line(FILE *f, const size_t *w, const char *const *cells)
{
	unsigned i;

	for (i = 0; i < COLS; i++) {
		/* The label and the target read left to right; figures line up right. */
		if (i == 0 || i == COLS - 1)
			fprintf(f, " %-*s ", (int)w[i], cells[i]);
		else
			fprintf(f, " %*s ", (int)w[i], cells[i]);
		fputs(i + 1 < COLS ? "|" : "\n", f);
	}
}

static void table_print(FILE *f, const char *title, const struct table *t)
{
	size_t w[COLS];
	const char *cells[COLS];
	unsigned r, i;

	if (!t->n)
		return;
	for (i = 0; i < COLS; i++)
		w[i] = strlen(t->head[i]);
	for (r = 0; r < t->n; r++)
		for (i = 0; i < COLS; i++)
			if (strlen(t->cell[r][i]) > w[i])
				w[i] = strlen(t->cell[r][i]);
	fprintf(f, "\n%s\n", title);
	print_line(f, w, t->head);
	print_rule(f, w);
	for (r = 0; r < t->n; r++) {
		for (i = 0; i < COLS; i++)
			cells[i] = t->cell[r][i];
		print_line(f, w, cells);
	}
}

static void husk_table(struct table *t)
{
	table_init(t, "metric", "husk", "baseline", "ratio", "target");
}

/* ---- sections ---- */

static void section_cold(FILE *f, const struct bench_results *r)
{
	struct table t;
	char label[CELL_MAX];
	unsigned p;

	husk_table(&t);
	for (p = 0; p < NR_PINS; p++) {
		const char *k = pins[p];

		snprintf(label, sizeof(label), "cold invoke->response median, %s", k);
		row(&t, label, results_get(r, "husk.cold.%s.latency_us.median", k) / 1e3,
		    results_get(r, "base.cold.%s.latency_us.median", k) / 1e3, U_MS, &cold_median);
		snprintf(label, sizeof(label), "cold invoke->response p99, %s", k);
		row(&t, label, results_get(r, "husk.cold.%s.latency_us.p99", k) / 1e3,
		    results_get(r, "base.cold.%s.latency_us.p99", k) / 1e3, U_MS, &no_target);
		snprintf(label, sizeof(label), "Init Duration median, %s", k);
		row(&t, label, results_get(r, "husk.cold.%s.init_ms.median", k),
		    results_get(r, "base.cold.%s.init_ms.median", k), U_MS, &no_target);
		snprintf(label, sizeof(label), "Init Duration p99, %s", k);
		row(&t, label, results_get(r, "husk.cold.%s.init_ms.p99", k),
		    results_get(r, "base.cold.%s.init_ms.p99", k), U_MS, &no_target);
		snprintf(label, sizeof(label), "samples (each a new environment), %s", k);
		row(&t, label, results_get(r, "husk.cold.%s.latency_us.n", k),
		    results_get(r, "base.cold.%s.latency_us.n", k), U_COUNT, &no_target);
	}
	table_print(f, "Cold start: Invoke of a function with no environment, to its answer.\n"
		    "husk: HTTP Invoke to huskd (new cgroup, jail, husk-init, bootstrap); Init "
		    "Duration from X-Husk-Report.\n"
		    "baseline: spawn bwrap running husk-init -> SPAWN -> READY -> INVOKE -> "
		    "RESPONSE; Init Duration from READY.", &t);
}

static void warm_rows(struct table *t, const struct bench_results *r, const char *pin,
		      const char *mode, const char *tr, const char *what)
{
	char label[CELL_MAX];
	double base_med = results_get(r, "base.warm.%s.latency_us.median", pin);
	double base_p99 = results_get(r, "base.warm.%s.latency_us.p99", pin);
	double base_rate = results_get(r, "base.warm.%s.rate", pin);

	snprintf(label, sizeof(label), "warm median, %s", what);
	row(t, label, results_get(r, "husk.warm.%s.%s.%s.latency_us.median", pin, mode, tr),
	    base_med, U_US, &warm_median);
	snprintf(label, sizeof(label), "warm p99, %s", what);
	row(t, label, results_get(r, "husk.warm.%s.%s.%s.latency_us.p99", pin, mode, tr),
	    base_p99, U_US, &warm_p99);
	snprintf(label, sizeof(label), "warm invocations/s, %s", what);
	row(t, label, results_get(r, "husk.warm.%s.%s.%s.rate", pin, mode, tr), base_rate,
	    U_RATE, &warm_rate);
}

static void section_warm(FILE *f, const struct bench_results *r)
{
	static const char *const modes[][2] = { { "freeze", "frozen between" },
						{ "nofreeze", "--no-freeze" } };
	static const char *const trs[][2] = { { "tcp", "TCP" }, { "unix", "Unix socket" } };
	char what[64], title[400];
	struct table t;
	unsigned p, m, i;

	for (p = 0; p < NR_PINS; p++) {
		husk_table(&t);
		for (m = 0; m < 2; m++)
			for (i = 0; i < 2; i++) {
				snprintf(what, sizeof(what), "%s, %s", trs[i][1], modes[m][1]);
				warm_rows(&t, r, pins[p], modes[m][0], trs[i][0], what);
			}
		snprintf(title, sizeof(title),
			 "Warm invoke, %s: the minimal function, one keep-alive connection "
			 "(one libcurl handle), sequential.\n"
			 "husk: HTTP Invoke, thaw before and freeze after each one unless "
			 "--no-freeze.\n"
			 "baseline: INVOKE -> RESPONSE on the channel to husk-init under bwrap (no "
			 "HTTP API, no freezer).",
			 pin_words[p]);
		table_print(f, title, &t);
	}
}

static void section_freeze(FILE *f, const struct bench_results *r)
{
	static const char *const trs[][2] = { { "tcp", "TCP" }, { "unix", "Unix" } };
	char label[CELL_MAX];
	struct table t;
	unsigned p, i;

	husk_table(&t);
	for (p = 0; p < NR_PINS; p++)
		for (i = 0; i < 2; i++) {
			const char *k = pins[p], *tr = trs[i][0];
			double with = results_get(r, "husk.warm.%s.freeze.%s.latency_us.median", k, tr);
			double without =
				results_get(r, "husk.warm.%s.nofreeze.%s.latency_us.median", k, tr);

			snprintf(label, sizeof(label), "Freeze Duration median, %s, %s", trs[i][1], k);
			row(&t, label, results_get(r, "husk.warm.%s.freeze.%s.freeze_us.median", k, tr),
			    NAN, U_US, &no_target);
			snprintf(label, sizeof(label), "Freeze Duration p99, %s, %s", trs[i][1], k);
			row(&t, label, results_get(r, "husk.warm.%s.freeze.%s.freeze_us.p99", k, tr),
			    NAN, U_US, &no_target);
			snprintf(label, sizeof(label), "client-seen freeze cost, %s, %s", trs[i][1], k);
			row(&t, label, with - without, NAN, U_US, &no_target);
			snprintf(label, sizeof(label), "Freeze Duration with --no-freeze, %s, %s",
				 trs[i][1], k);
			row(&t, label,
			    results_get(r, "husk.warm.%s.nofreeze.%s.freeze_us.median", k, tr), NAN,
			    U_US, &no_target);
		}
	table_print(f, "Freeze and thaw on their own: Freeze Duration of X-Husk-Report (the thaw "
		    "before an invocation + the freeze after the previous one);\n"
		    "client-seen cost = warm median with freezing - warm median with --no-freeze.",
		    &t);
}

static void pin_row(struct table *t, const char *label, double unpinned, double pinned,
		    enum unit u, bool higher_better)
{
	const char *better = "-";

	/* Within 5% of each other is within the noise of this machine. */
	if (!isnan(unpinned) && !isnan(pinned) && fabs(pinned - unpinned) > 0.05 * unpinned)
		better = (pinned > unpinned) == higher_better ? "pinned" : "unpinned";
	else if (!isnan(unpinned) && !isnan(pinned))
		better = "same (within 5%)";
	row(t, label, unpinned, pinned, u, &no_target);
	if (t->n && !strcmp(t->cell[t->n - 1][0], label))
		snprintf(t->cell[t->n - 1][4], CELL_MAX, "%s", better);
}

static void section_pinning(FILE *f, const struct bench_results *r)
{
	/* Keys are "PREFIX.<pin>.SUFFIX". */
	static const char *const keys[][3] = {
		{ "husk warm median, TCP, frozen", "husk.warm", "freeze.tcp.latency_us.median" },
		{ "husk warm median, Unix, frozen", "husk.warm", "freeze.unix.latency_us.median" },
		{ "husk warm median, TCP, --no-freeze", "husk.warm",
		  "nofreeze.tcp.latency_us.median" },
		{ "husk warm median, Unix, --no-freeze", "husk.warm",
		  "nofreeze.unix.latency_us.median" },
		{ "husk warm p99, TCP, frozen", "husk.warm", "freeze.tcp.latency_us.p99" },
		{ "husk Freeze Duration median, TCP", "husk.warm", "freeze.tcp.freeze_us.median" },
		{ "baseline warm median", "base.warm", "latency_us.median" },
		{ "baseline warm p99", "base.warm", "latency_us.p99" },
	};
	struct table t;
	unsigned i;

	table_init(&t, "metric", "unpinned", "pinned", "pinned/unpinned", "better");
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		pin_row(&t, keys[i][0], results_get(r, "%s.unpinned.%s", keys[i][1], keys[i][2]),
			results_get(r, "%s.pinned.%s", keys[i][1], keys[i][2]), U_US, false);
	pin_row(&t, "husk warm invocations/s, TCP, frozen",
		results_get(r, "husk.warm.unpinned.freeze.tcp.rate"),
		results_get(r, "husk.warm.pinned.freeze.tcp.rate"), U_RATE, true);
	pin_row(&t, "baseline warm invocations/s", results_get(r, "base.warm.unpinned.rate"),
		results_get(r, "base.warm.pinned.rate"), U_RATE, true);
	pin_row(&t, "husk cold median", results_get(r, "husk.cold.unpinned.latency_us.median") / 1e3,
		results_get(r, "husk.cold.pinned.latency_us.median") / 1e3, U_MS, false);
	pin_row(&t, "baseline cold median",
		results_get(r, "base.cold.unpinned.latency_us.median") / 1e3,
		results_get(r, "base.cold.pinned.latency_us.median") / 1e3, U_MS, false);
	table_print(f, "CPU placement: pinned = huskd --cpu 0 (huskd, jails, husk-init, runtime) "
		    "and the client on CPU 0 (the baseline: the bench, bwrap and all below it);\n"
		    "unpinned = the scheduler decides. A wake-up across CPUs costs ~100 us here, a "
		    "same-CPU socketpair round trip ~13 us.", &t);
}

static void memory_rows(struct table *t, const struct bench_results *r, unsigned n)
{
	double rss0 = results_get(r, "husk.idle.0.rss_kib");
	double used0 = results_get(r, "husk.idle.0.used_kib");
	double cg0 = results_get(r, "husk.idle.0.envs_kib");
	double parent0 = results_get(r, "husk.idle.0.cg_kib");
	double own0 = results_get(r, "husk.idle.0.own_kib") - parent0;
	double bused0 = results_get(r, "base.idle.0.used_kib");
	double rss = results_get(r, "husk.idle.%u.rss_kib", n);
	double used = results_get(r, "husk.idle.%u.used_kib", n) - used0;
	double cg = results_get(r, "husk.idle.%u.envs_kib", n) - cg0;
	double parent = results_get(r, "husk.idle.%u.cg_kib", n) - parent0;
	/* huskd's own group without the environments' parent below it. */
	double own = results_get(r, "husk.idle.%u.own_kib", n) -
		     results_get(r, "husk.idle.%u.cg_kib", n) - own0;
	double bused = results_get(r, "base.idle.%u.used_kib", n) - bused0;
	char label[CELL_MAX];

	snprintf(label, sizeof(label), "huskd VmRSS, %u idle", n);
	row(t, label, rss / 1024, NAN, U_MIB, &no_target);
	if (!n)
		return;
	snprintf(label, sizeof(label), "environments alive (cgroups), %u idle", n);
	row(t, label, results_get(r, "husk.idle.%u.envs", n), NAN, U_COUNT, &no_target);
	snprintf(label, sizeof(label), "system memory used, delta, %u idle", n);
	row(t, label, used / 1024, bused / 1024, U_MIB, &no_target);
	snprintf(label, sizeof(label), "  of it the envs' own cgroups, %u idle", n);
	row(t, label, cg / 1024, NAN, U_MIB, &no_target);
	snprintf(label, sizeof(label), "  their parent cgroup, %u idle", n);
	row(t, label, parent / 1024, NAN, U_MIB, &no_target);
	snprintf(label, sizeof(label), "  of it beyond the envs' own, %u idle", n);
	row(t, label, (used - cg) / 1024, NAN, U_MIB, &no_target);
	snprintf(label, sizeof(label), "  charged to huskd's own cgroup, %u idle", n);
	row(t, label, own / 1024, NAN, U_MIB, &no_target);
	snprintf(label, sizeof(label), "system memory per env, total, %u idle", n);
	row(t, label, used / n, bused / n, U_KIB, &no_target);
	snprintf(label, sizeof(label), "host memory per env beyond its own, %u idle", n);
	row(t, label, (used - cg) / n, NAN, U_KIB, &idle_per_env);
	snprintf(label, sizeof(label), "huskd VmRSS per env, %u idle", n);
	row(t, label, (rss - rss0) / n, NAN, U_KIB, &no_target);
}

static void section_memory(FILE *f, const struct bench_results *r, const unsigned *counts,
			   unsigned n_counts)
{
	struct table t;
	unsigned i;

	husk_table(&t);
	for (i = 0; i < n_counts; i++)
		memory_rows(&t, r, counts[i]);
	table_print(f, "Idle environments: N distinct functions, each invoked once and left idle "
		    "(frozen).\n"
		    "system memory = MemTotal - MemAvailable, as a delta from 0 idle; the envs' "
		    "own = the sum of their memory cgroups' usage;\n"
		    "the parent cgroup adds what is charged to it, such as the envs' memory "
		    "cgroup structures; huskd's own cgroup (without the parent)\n"
		    "is charged what the kernel allocates while a jail is cloned, before it "
		    "joins its memory cgroup. MemAvailable counts reclaimable slab\n"
		    "as available while a cgroup is charged for it, so 'beyond' can come out "
		    "below zero when it is within that noise.\n"
		    "baseline: N bwrap sandboxes running husk-init + bootstrap after one "
		    "invocation each (all of their memory).", &t);
}

int bench_report(FILE *f, const char *results, const unsigned *counts, unsigned n_counts)
{
	struct bench_results *r;
	char err[BENCH_ERR_MAX];
	int rc;

	rc = results_load(results, &r, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "husk-bench report: %s\n", err);
		return rc;
	}
	print_machine(f);
	fprintf(f, "baseline: bubblewrap (--unshare-all, /usr read-only, code at /var/task, "
		"tmpfs /tmp, /proc, /dev) running the same husk-init and bootstrap;\n"
		"ratio = husk / baseline; targets are printed with whether they were met, not "
		"asserted.\n");
	section_cold(f, r);
	section_warm(f, r);
	section_freeze(f, r);
	section_pinning(f, r);
	section_memory(f, r, counts, n_counts);
	results_free(r);
	return 0;
}
