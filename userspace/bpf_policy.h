/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A policy as BPF map entries (see bpf_policy.c): the LPM entries of its
 * egress rules and DNS servers, and its file prefixes. Works on map fds, so
 * that huskd's loader and the decision tests (on the test object's maps)
 * write the same entries.
 */
#ifndef HUSK_BPF_POLICY_H
#define HUSK_BPF_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "bpf/husk_abi.h"

struct husk_policy;

struct husk_bpf_maps {
	int net4, net6; /* LPM tries */
	int fs;		/* file prefixes, -1: not used (no BPF LSM) */
};

/* Write every entry of p for cgid; nothing is left on failure. */
int husk_bpf_maps_policy(const struct husk_bpf_maps *m, uint64_t cgid, const struct husk_policy *p,
			 const uint32_t *dns, size_t n_dns);

/* Remove them; the first error, entries already gone are no error. */
int husk_bpf_maps_policy_del(const struct husk_bpf_maps *m, uint64_t cgid,
			     const struct husk_policy *p, const uint32_t *dns, size_t n_dns);

#endif
