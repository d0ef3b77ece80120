// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"

static const char *const level_names[] = { "error", "warn", "info", "debug" };

/*
 * Debug lines are costly on the hot path, so they are printed only when
 * HUSK_DEBUG is set in huskd's environment; the environment is read-only
 * state of the process, not mutable global state.
 */
void husk_log(enum husk_log_level level, const char *fmt, ...)
{
	struct timespec ts;
	struct tm tm;
	char line[2048];
	va_list ap;
	int n;

	if (level == HUSK_LOG_DEBUG && !getenv("HUSK_DEBUG"))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s: ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		     tm.tm_sec, ts.tv_nsec / 1000000, level_names[level]);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	/* One fputs per line so that lines of different threads do not mix. */
	fprintf(stderr, "%s\n", line);
}
