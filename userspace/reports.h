/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The reports of the last HUSK_REPORTS_KEPT invocations, by request id, for
 * huskctl invocation show. In memory only: a report is also in huskd's log.
 */
#ifndef HUSK_REPORTS_H
#define HUSK_REPORTS_H

#include "invoke.h"

#define HUSK_REPORTS_KEPT 1024

struct husk_reports;
struct json_object;

struct husk_reports *husk_reports_new(void);
void husk_reports_free(struct husk_reports *r);

/* Keep rep (with its function's and environment's names); the oldest goes. */
void husk_reports_add(struct husk_reports *r, const struct husk_report *rep, const char *fn,
		      const char *env, const char *line);

/* The report of request_id as JSON, or NULL when it is not (or no longer) kept. */
struct json_object *husk_reports_get(struct husk_reports *r, const char *request_id);

/* A report as JSON (also for the API's other uses). */
struct json_object *husk_report_json(const struct husk_report *rep, const char *fn, const char *env,
				     const char *line);

#endif
