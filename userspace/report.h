/* SPDX-License-Identifier: GPL-2.0 */
/* The Lambda-style REPORT line and error documents. */
#ifndef HUSK_REPORT_H
#define HUSK_REPORT_H

#include <stddef.h>

#include "invoke.h"

/*
 * "REPORT RequestId: ID\tDuration: 1.23 ms\tBilled Duration: 2 ms\t
 * Memory Size: 128 MB\tMax Memory Used: 5 MB[\tInit Duration: 3.45 ms]\t
 * Freeze Duration: 12 us", as Lambda writes it, plus husk's freeze cost.
 */
void husk_report_format(const struct husk_report *rep, char *buf, size_t len);

/* {"errorMessage": msg, "errorType": type}, malloc'd, its length in *len. */
char *husk_error_json(const char *msg, const char *type, size_t *len);

#endif
