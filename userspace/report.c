// SPDX-License-Identifier: GPL-2.0
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "telemetry.h"

/*
 * "Syscalls: 120 (read 40, write 30, ...)\tDenials: 1\tBytes In: 0\t
 * Bytes Out: 0\tProcesses: 1\tLost Events: 0"
 */
static void format_stats(const struct husk_inv_stats *st, char *buf, size_t len)
{
	char name[48];
	unsigned i;
	int n;

	n = snprintf(buf, len, "\tSyscalls: %llu", (unsigned long long)st->syscalls);
	for (i = 0; i < st->n_top && n > 0 && (size_t)n < len; i++) {
		husk_tel_syscall_name(st->top[i].nr, name, sizeof(name));
		n += snprintf(buf + n, len - n, "%s%s %llu%s", i ? ", " : " (", name,
			      (unsigned long long)st->top[i].count, i + 1 == st->n_top ? ")" : "");
	}
	if (n > 0 && (size_t)n < len)
		snprintf(buf + n, len - n,
			 "\tDenials: %llu\tBytes In: %llu\tBytes Out: %llu\tProcesses: %llu\t"
			 "Lost Events: %llu",
			 (unsigned long long)st->denials, (unsigned long long)st->rx_bytes,
			 (unsigned long long)st->tx_bytes, (unsigned long long)st->processes,
			 (unsigned long long)st->lost_events);
}

void husk_report_format(const struct husk_report *rep, char *buf, size_t len)
{
	int n;

	n = snprintf(buf, len,
		     "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %llu ms\t"
		     "Memory Size: %u MB\tMax Memory Used: %llu MB",
		     rep->request_id, rep->duration_ms, (unsigned long long)rep->billed_ms,
		     rep->memory_mb,
		     (unsigned long long)((rep->max_memory_bytes + (1 << 20) - 1) >> 20));
	if (n > 0 && (size_t)n < len && rep->cold)
		n += snprintf(buf + n, len - n, "\tInit Duration: %.2f ms", rep->init_ms);
	if (n > 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, "\tFreeze Duration: %.0f us", rep->freeze_us);
	if (n > 0 && (size_t)n < len && rep->stats.valid)
		format_stats(&rep->stats, buf + n, len - n);
}

char *husk_error_json(const char *msg, const char *type, size_t *len)
{
	json_object *o = json_object_new_object();
	const char *s;
	char *out = NULL;

	if (!o)
		return NULL;
	json_object_object_add(o, "errorMessage", json_object_new_string(msg));
	json_object_object_add(o, "errorType", json_object_new_string(type));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s) {
		out = strdup(s);
		*len = strlen(s);
	}
	json_object_put(o);
	return out;
}
