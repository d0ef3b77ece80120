// SPDX-License-Identifier: GPL-2.0
/* The errors API callers see (husk.h, err.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "err.h"

static void err_vset(struct husk_err *e, int status, const char *type, const char *fmt, va_list ap)
{
	e->status = status;
	e->type = type;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

void husk_err_set(struct husk_err *e, int status, const char *type, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(e, status, type, fmt, ap);
	va_end(ap);
}

int husk_err_invalid(struct husk_err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(e, 400, HUSK_E_INVALID_PARAM, fmt, ap);
	va_end(ap);
	return -EINVAL;
}
