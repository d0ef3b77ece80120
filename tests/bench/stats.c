// SPDX-License-Identifier: GPL-2.0
/*
 * Samples, percentiles and the results file of husk-bench. The file is
 * plain "key value" lines so that several runs of the driver (one per huskd
 * configuration) add up to one report.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/bench/bench.h"

int samples_add(struct bench_samples *s, double v)
{
	double *p;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;

		p = realloc(s->v, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		s->v = p;
		s->cap = cap;
	}
	s->v[s->n++] = v;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double samples_pct(struct bench_samples *s, double pct)
{
	size_t rank;

	if (!s->n)
		return NAN;
	qsort(s->v, s->n, sizeof(*s->v), cmp_double);
	rank = (size_t)ceil(pct / 100.0 * s->n);
	if (rank < 1)
		rank = 1;
	return s->v[rank - 1];
}

void samples_free(struct bench_samples *s)
{
	free(s->v);
	*s = (struct bench_samples){ 0 };
}

int out_open(struct bench_out *o, const char *path, const char *prefix)
{
	o->prefix = prefix;
	o->f = fopen(path, "a");
	return o->f ? 0 : -errno;
}

void out_put(struct bench_out *o, const char *metric, double v)
{
	fprintf(o->f, "%s.%s %.6f\n", o->prefix, metric, v);
}

void out_summary(struct bench_out *o, const char *metric, struct bench_samples *s)
{
	fprintf(o->f, "%s.%s.median %.6f\n", o->prefix, metric, samples_pct(s, 50));
	fprintf(o->f, "%s.%s.p99 %.6f\n", o->prefix, metric, samples_pct(s, 99));
	fprintf(o->f, "%s.%s.n %zu\n", o->prefix, metric, s->n);
}

int out_close(struct bench_out *o)
{
	int rc = fclose(o->f) ? -errno : 0;

	o->f = NULL;
	return rc;
}

struct result_entry {
	char *key;
	double value;
};

struct bench_results {
	struct result_entry *e;
	size_t n;
};

static int results_add(struct bench_results *r, const char *key, double value)
{
	struct result_entry *p = realloc(r->e, (r->n + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	r->e = p;
	p[r->n].key = strdup(key);
	if (!p[r->n].key)
		return -ENOMEM;
	p[r->n++].value = value;
	return 0;
}

int results_load(const char *path, struct bench_results **out, char *err, size_t errlen)
{
	struct bench_results *r = calloc(1, sizeof(*r));
	char line[512], key[400];
	unsigned lineno = 0;
	double value;
	FILE *f;
	int rc = 0;

	if (!r)
		return -ENOMEM;
	f = fopen(path, "r");
	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "cannot open results %s: %s", path, strerror(errno));
		free(r);
		return rc;
	}
	while (!rc && fgets(line, sizeof(line), f)) {
		lineno++;
		if (sscanf(line, "%399s %lf", key, &value) != 2) {
			snprintf(err, errlen, "%s:%u: not a 'key value' line", path, lineno);
			rc = -EINVAL;
			break;
		}
		rc = results_add(r, key, value);
	}
	fclose(f);
	if (rc) {
		results_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* The last value written for a key wins: a rerun of one step replaces it. */
double results_get(const struct bench_results *r, const char *fmt, ...)
{
	char key[400];
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(key, sizeof(key), fmt, ap);
	va_end(ap);
	for (i = r->n; i-- > 0;) {
		if (!strcmp(r->e[i].key, key))
			return r->e[i].value;
	}
	return NAN;
}

void results_free(struct bench_results *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++)
		free(r->e[i].key);
	free(r->e);
	free(r);
}
