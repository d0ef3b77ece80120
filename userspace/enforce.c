// SPDX-License-Identifier: GPL-2.0
/*
 * Bringing up (and down) what enforces policies host-wide: the BPF
 * programs and their pins, the telemetry consumer, the egress table and
 * the DNS servers that policies with Dns may reach.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf.h"
#include "cgroup.h"
#include "egress.h"
#include "enforce.h"
#include "log.h"
#include "policy.h"
#include "reports.h"
#include "seccomp.h"
#include "telemetry.h"

static int add_dns(struct husk_ctx *ctx, const char *s)
{
	struct in_addr a;

	if (ctx->n_dns >= HUSK_DNS_MAX || inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	/* A resolver on the host's loopback is not reachable from a namespace. */
	if ((ntohl(a.s_addr) >> 24) == 127)
		return -EADDRNOTAVAIL;
	ctx->dns[ctx->n_dns++] = a.s_addr;
	return 0;
}

/* --dns A,B,C, else the IPv4 nameservers of the host's /etc/resolv.conf. */
int husk_enforce_load_dns(struct husk_ctx *ctx)
{
	char line[256], addr[64], *list, *tok, *save;
	FILE *f;
	int rc = 0;

	if (ctx->cfg.dns) {
		list = strdup(ctx->cfg.dns);
		if (!list)
			return -ENOMEM;
		for (tok = strtok_r(list, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save))
			rc = add_dns(ctx, tok);
		if (rc)
			pr_err("--dns: '%s' is not a non-loopback IPv4 address (at most %d)",
			       tok ? tok : "", HUSK_DNS_MAX);
		free(list);
		return rc;
	}
	f = fopen("/etc/resolv.conf", "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " nameserver %63s", addr) == 1)
			add_dns(ctx, addr);
	fclose(f);
	return 0;
}

static int default_denied_set(struct husk_ctx *ctx)
{
	struct husk_policy *p = husk_policy_default();
	int rc, err_no;

	if (!p)
		return -ENOMEM;
	rc = husk_seccomp_denied_set(p, ctx->seccomp_denied, &err_no);
	husk_policy_free(p);
	return rc;
}

int husk_enforce_start(struct husk_ctx *ctx)
{
	char err[256];
	int rc;

	rc = default_denied_set(ctx);
	if (rc)
		return rc;
	rc = husk_bpf_init(ctx->cfg.bpf_dir, husk_cgroups_v2_parent(ctx->cgroups),
			   ctx->cfg.events_kb << 10, &ctx->bpf, err, sizeof(err));
	if (rc) {
		pr_err("bpf: %s", err);
		return rc;
	}
	ctx->reports = husk_reports_new();
	if (!ctx->reports)
		return -ENOMEM;
	rc = husk_tel_start(ctx->bpf, &ctx->tel);
	if (rc) {
		pr_err("telemetry: cannot start: %s", strerror(-rc));
		return rc;
	}
	/* Without egress, functions whose policy asks for it fail to start, loudly. */
	rc = husk_egress_init(ctx->cfg.egress_pool, &ctx->egress, err, sizeof(err));
	if (rc)
		pr_warn("egress: NOT available, functions whose policy allows egress cannot "
			"run: %s",
			err);
	else
		pr_info("egress: %zu DNS server(s) for policies with Dns", ctx->n_dns);
	return 0;
}

void husk_enforce_stop(struct husk_ctx *ctx)
{
	husk_egress_fini(ctx->egress);
	ctx->egress = NULL;
	husk_tel_stop(ctx->tel);
	ctx->tel = NULL;
	husk_reports_free(ctx->reports);
	ctx->reports = NULL;
	husk_bpf_fini(ctx->bpf);
	ctx->bpf = NULL;
}
