// SPDX-License-Identifier: GPL-2.0
/* Recent invocation reports (see reports.h). */
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports.h"
#include "telemetry.h"

struct kept_report {
	struct husk_report rep;
	char fn[HUSK_TEL_NAME];
	char env[HUSK_TEL_NAME];
	char line[sizeof(((struct husk_invoke_res *)0)->report_line)];
};

struct husk_reports {
	pthread_mutex_t lock;
	uint64_t n; /* ever added; kept[n % HUSK_REPORTS_KEPT] is next */
	struct kept_report kept[HUSK_REPORTS_KEPT];
};

struct husk_reports *husk_reports_new(void)
{
	struct husk_reports *r = calloc(1, sizeof(*r));

	if (r)
		pthread_mutex_init(&r->lock, NULL);
	return r;
}

void husk_reports_free(struct husk_reports *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r);
}

void husk_reports_add(struct husk_reports *r, const struct husk_report *rep, const char *fn,
		      const char *env, const char *line)
{
	struct kept_report *k;

	pthread_mutex_lock(&r->lock);
	k = &r->kept[r->n++ % HUSK_REPORTS_KEPT];
	k->rep = *rep;
	snprintf(k->fn, sizeof(k->fn), "%s", fn);
	snprintf(k->env, sizeof(k->env), "%s", env);
	snprintf(k->line, sizeof(k->line), "%s", line);
	pthread_mutex_unlock(&r->lock);
}

static struct json_object *telemetry_json(const struct husk_inv_stats *st)
{
	struct json_object *o = json_object_new_object(), *top = json_object_new_array();
	struct json_object *den = json_object_new_array();
	char name[64];
	unsigned i;

	for (i = 0; i < st->n_top; i++) {
		struct json_object *e = json_object_new_object();

		husk_tel_syscall_name(st->top[i].nr, name, sizeof(name));
		json_object_object_add(e, "Name", json_object_new_string(name));
		json_object_object_add(e, "Count",
				       json_object_new_int64((int64_t)st->top[i].count));
		json_object_array_add(top, e);
	}
	for (i = 0; i < st->n_denial; i++)
		json_object_array_add(den, json_object_new_string(st->denial[i]));
	json_object_object_add(o, "Syscalls", json_object_new_int64((int64_t)st->syscalls));
	json_object_object_add(o, "TopSyscalls", top);
	json_object_object_add(o, "Denials", json_object_new_int64((int64_t)st->denials));
	json_object_object_add(o, "FirstDenials", den);
	json_object_object_add(o, "BytesIn", json_object_new_int64((int64_t)st->rx_bytes));
	json_object_object_add(o, "BytesOut", json_object_new_int64((int64_t)st->tx_bytes));
	json_object_object_add(o, "Processes", json_object_new_int64((int64_t)st->processes));
	json_object_object_add(o, "Execs", json_object_new_int64((int64_t)st->execs));
	json_object_object_add(o, "FileOpens", json_object_new_int64((int64_t)st->file_opens));
	json_object_object_add(o, "LostEvents", json_object_new_int64((int64_t)st->lost_events));
	json_object_object_add(o, "OutOfMemory", json_object_new_boolean(st->oom));
	return o;
}

struct json_object *husk_report_json(const struct husk_report *rep, const char *fn, const char *env,
				     const char *line)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "RequestId", json_object_new_string(rep->request_id));
	json_object_object_add(o, "Function", json_object_new_string(fn));
	json_object_object_add(o, "Environment", json_object_new_string(env));
	json_object_object_add(o, "ColdStart", json_object_new_boolean(rep->cold));
	json_object_object_add(o, "DurationMs", json_object_new_double(rep->duration_ms));
	json_object_object_add(o, "BilledDurationMs",
			       json_object_new_int64((int64_t)rep->billed_ms));
	json_object_object_add(o, "InitDurationMs", json_object_new_double(rep->init_ms));
	json_object_object_add(o, "MemorySizeMB", json_object_new_int64(rep->memory_mb));
	json_object_object_add(o, "MaxMemoryUsedBytes",
			       json_object_new_int64((int64_t)rep->max_memory_bytes));
	json_object_object_add(o, "FreezeDurationUs", json_object_new_double(rep->freeze_us));
	json_object_object_add(o, "Report", json_object_new_string(line));
	if (rep->stats.valid)
		json_object_object_add(o, "Telemetry", telemetry_json(&rep->stats));
	return o;
}

struct json_object *husk_reports_get(struct husk_reports *r, const char *request_id)
{
	struct json_object *o = NULL;
	uint64_t i, first;

	pthread_mutex_lock(&r->lock);
	first = r->n > HUSK_REPORTS_KEPT ? r->n - HUSK_REPORTS_KEPT : 0;
	for (i = r->n; i > first && !o; i--) {
		const struct kept_report *k = &r->kept[(i - 1) % HUSK_REPORTS_KEPT];

		if (!strcmp(k->rep.request_id, request_id))
			o = husk_report_json(&k->rep, k->fn, k->env, k->line);
	}
	pthread_mutex_unlock(&r->lock);
	return o;
}
