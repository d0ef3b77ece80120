/* SPDX-License-Identifier: GPL-2.0 */
/* Filling in a struct husk_err (husk.h): the errors API callers see. */
#ifndef HUSK_ERR_H
#define HUSK_ERR_H

#include "husk.h"

/* 400 InvalidParameterValueException with the message; returns -EINVAL. */
int husk_err_invalid(struct husk_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
