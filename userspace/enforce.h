/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host-wide enforcement: BPF programs (bpf.h), telemetry (telemetry.h),
 * egress (egress.h) and DNS servers. Started after the cgroups (BPF
 * attaches to their v2 parent) and before any environment exists; stopped
 * after the last environment is gone.
 */
#ifndef HUSK_ENFORCE_H
#define HUSK_ENFORCE_H

#include "husk.h"

/* DNS servers into ctx->dns, before the jail root (its resolv.conf) is described. */
int husk_enforce_load_dns(struct husk_ctx *ctx);
int husk_enforce_start(struct husk_ctx *ctx);
void husk_enforce_stop(struct husk_ctx *ctx);

#endif
