/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How the C unit tests say what they checked, one line a case:
 *   report(): "ok - NAME" / "not ok - NAME: WHY", counted in unit_failed;
 *   unit_check(): "ok   WHAT" / "FAIL WHAT", for tests that keep their own flag.
 */
#ifndef HUSK_TESTS_UNIT_REPORT_H
#define HUSK_TESTS_UNIT_REPORT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int unit_failed;

static void __attribute__((format(printf, 3, 4), unused))
report(const char *name, bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s - %s", ok ? "ok" : "not ok", name);
	if (fmt && !ok) {
		printf(": ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	printf("\n");
	if (!ok)
		unit_failed++;
}

/* Print one "ok"/"FAIL" line; returns ok. */
static bool __attribute__((format(printf, 2, 0), unused))
unit_vcheck(bool ok, const char *fmt, va_list ap)
{
	printf("%s ", ok ? "ok  " : "FAIL");
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	return ok;
}

#endif
