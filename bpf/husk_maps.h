/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The maps every husk BPF object declares. huskd pins the ones of husk.bpf.c
 * under /sys/fs/bpf/husk/ and makes the LSM object reuse them, so both see
 * the same policy and write the same ring buffer; the test object keeps its
 * own copies, which the tests fill.
 */
#ifndef HUSK_BPF_MAPS_H
#define HUSK_BPF_MAPS_H

#include "husk_abi.h"

/* LPM entries of all environments together (each rule is one entry). */
#define HUSK_NET_LPM_ENTRIES (HUSK_BPF_MAX_ENVS * 16)
/* Default ring buffer; huskd may size it before load (a power of two). */
#define HUSK_EVENTS_BYTES (8u << 20)

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HUSK_BPF_MAX_ENVS);
	__type(key, __u64);
	__type(value, struct husk_env_info);
} husk_envs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, HUSK_NET_LPM_ENTRIES);
	__type(key, struct husk_net4_key);
	__type(value, struct husk_net_rules);
} husk_net4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, HUSK_NET_LPM_ENTRIES);
	__type(key, struct husk_net6_key);
	__type(value, struct husk_net_rules);
} husk_net6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HUSK_BPF_MAX_ENVS);
	__type(key, __u64);
	__type(value, struct husk_fs_policy);
} husk_fs SEC(".maps");

/* Indexed by slot; huskd mmaps it and reads counters without a syscall. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, HUSK_BPF_MAX_ENVS);
	__type(key, __u32);
	__type(value, struct husk_counters);
} husk_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, HUSK_EVENTS_BYTES);
} husk_events SEC(".maps");

#endif
