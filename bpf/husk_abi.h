/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one header shared by the BPF programs and userspace: map keys and
 * values, and the records of the telemetry ring buffer. Everything is keyed
 * by an environment's cgroup v2 id (the inode number of its v2 directory);
 * per-environment arrays are indexed by its slot (huskd's uid slot, unique
 * among live environments).
 *
 * Fixed-width types only, no pointers: BPF and userspace must agree on the
 * layout. Included by BPF C (after vmlinux.h) and by userspace (after
 * <stdint.h>); HUSK_ABI_U64 etc. hide the spelling difference.
 */
#ifndef HUSK_BPF_ABI_H
#define HUSK_BPF_ABI_H

#ifdef __bpf__
typedef __u8 husk_u8;
typedef __u16 husk_u16;
typedef __u32 husk_u32;
typedef __s32 husk_s32;
typedef __u64 husk_u64;
#else
#include <stdint.h>
typedef uint8_t husk_u8;
typedef uint16_t husk_u16;
typedef uint32_t husk_u32;
typedef int32_t husk_s32;
typedef uint64_t husk_u64;
#endif

/* Environments huskd can run at once (entries of the per-slot arrays). */
#define HUSK_BPF_MAX_ENVS 1024
/* Syscall numbers counted per environment (x86-64 has about 460). */
#define HUSK_NR_SYSCALLS 512
/* Egress rules one LPM entry carries (rules covering the same prefix). */
#define HUSK_NET_RULES_MAX 16
/* Path prefixes per list and bytes of one, with its NUL. */
#define HUSK_FS_PATHS_MAX 16
#define HUSK_FS_PATH_MAX 128

/* struct husk_env_info.flags */
#define HUSK_ENV_F_LSM_FILES 0x1 /* BPF LSM enforces the file rules */

/* Value of map husk_envs, keyed by cgroup id. */
struct husk_env_info {
	husk_u32 slot;
	husk_u32 flags;
	husk_u32 sys_errno; /* errno the seccomp rules answer with */
	husk_u32 pad;
	/* Syscalls the seccomp profile fails with -sys_errno: a bit per number. */
	husk_u64 sys_denied[HUSK_NR_SYSCALLS / 64];
};

/*
 * Keys of the LPM tries husk_net4 and husk_net6: the cgroup id is part of
 * the prefix (its 64 bits always match), then the address.
 * prefixlen = 64 + CIDR prefix length.
 */
struct husk_net4_key {
	husk_u32 prefixlen;
	husk_u32 cgid[2];
	husk_u32 addr; /* network byte order */
};

struct husk_net6_key {
	husk_u32 prefixlen;
	husk_u32 cgid[2];
	husk_u32 addr[4];
};

/* Protocol bits, as in userspace/policy.h. */
#define HUSK_NET_TCP 0x1
#define HUSK_NET_UDP 0x2

struct husk_net_rule {
	husk_u16 port_lo; /* host byte order, inclusive */
	husk_u16 port_hi;
	husk_u8 protocols; /* HUSK_NET_* */
	husk_u8 pad;
	husk_u16 rule; /* index in Policy.Network.Egress; HUSK_RULE_DNS for DNS */
};

#define HUSK_RULE_DNS 0xffff

/* Value of the LPM tries: every rule whose CIDR covers the entry's prefix. */
struct husk_net_rules {
	husk_u32 n;
	husk_u32 pad;
	struct husk_net_rule r[HUSK_NET_RULES_MAX];
};

/* File rule kinds, the index into struct husk_fs_policy.lists. */
enum husk_fs_kind {
	HUSK_FS_KIND_READ,
	HUSK_FS_KIND_WRITE,
	HUSK_FS_KIND_EXEC,
	HUSK_FS_NR_KINDS,
};

struct husk_fs_prefix {
	husk_u32 len; /* bytes, without the NUL; a prefix matches itself and below '/' */
	char path[HUSK_FS_PATH_MAX];
};

/* Value of map husk_fs, keyed by cgroup id (read by the LSM programs). */
struct husk_fs_policy {
	husk_u32 n[HUSK_FS_NR_KINDS];
	husk_u32 pad;
	struct husk_fs_prefix lists[HUSK_FS_NR_KINDS][HUSK_FS_PATHS_MAX];
};

/*
 * Per-environment counters, element `slot` of the mmap'able array
 * husk_counters: huskd reads them without a syscall. Monotonic while the
 * slot is held; huskd zeroes an element before giving it to an environment.
 */
struct husk_counters {
	husk_u64 syscalls[HUSK_NR_SYSCALLS];
	husk_u64 rx_bytes, rx_packets; /* not counting loopback */
	husk_u64 tx_bytes, tx_packets;
	husk_u64 file_opens;
	husk_u64 execs;
	husk_u64 forks;
	husk_u64 denials;
	husk_u64 lost_events; /* ring buffer full: events not written */
	husk_u64 pad[7];
};

/* Ring buffer records: a header, then the type's payload. */
enum husk_event_type {
	HUSK_EV_DENY = 1,
	HUSK_EV_EXEC,
	HUSK_EV_FORK,
	HUSK_EV_EXIT,
	HUSK_EV_OOM,
	HUSK_EV_BENCH, /* written by the benchmark's generator only */
};

struct husk_event_hdr {
	husk_u64 cgid;
	husk_u64 ts_ns; /* bpf_ktime_get_ns() */
	husk_u16 type;	/* enum husk_event_type */
	husk_u16 slot;	/* the environment's slot */
	husk_u32 pid;	/* tgid, in the host's pid namespace */
};

/* Why something was denied: the rule it broke. */
enum husk_deny_reason {
	HUSK_DENY_EGRESS = 1,  /* connect/sendmsg: no Egress rule covers the address */
	HUSK_DENY_EGRESS_PORT, /* a rule covers the address, none the port/protocol */
	HUSK_DENY_BIND,	       /* bind on a non-loopback address */
	HUSK_DENY_SOCKET,      /* socket family/type (raw, packet, ...) */
	HUSK_DENY_DEVICE,      /* device outside the environment's /dev */
	HUSK_DENY_FILE_READ,   /* Files.Read */
	HUSK_DENY_FILE_WRITE,  /* Files.Write */
	HUSK_DENY_FILE_EXEC,   /* Files.Exec */
	HUSK_DENY_SYSCALL,     /* the seccomp profile answered -errno */
	HUSK_DENY_SIGNAL,      /* a signal to a task outside the environment */
	HUSK_DENY_PTRACE,
	HUSK_DENY_LANDLOCK, /* a file syscall failed EACCES under Landlock */
};

struct husk_ev_deny {
	struct husk_event_hdr hdr;
	husk_u32 reason;   /* enum husk_deny_reason */
	husk_s32 rule;	   /* closest rule index, -1 for none */
	husk_u32 family;   /* AF_INET/AF_INET6 for network denials; socket family */
	husk_u32 type;	   /* socket type, or device major */
	husk_u32 protocol; /* IPPROTO_*, or device minor */
	husk_u32 port;	   /* host byte order */
	husk_u32 nr;	   /* syscall number */
	husk_u32 pad;
	husk_u8 addr[16]; /* network byte order */
	char path[HUSK_FS_PATH_MAX];
};

struct husk_ev_exec {
	struct husk_event_hdr hdr;
	char comm[16];
	char filename[HUSK_FS_PATH_MAX];
};

struct husk_ev_fork {
	struct husk_event_hdr hdr;
	husk_u32 child_pid;
	husk_u32 pad;
};

struct husk_ev_exit {
	struct husk_event_hdr hdr;
	husk_u32 exit_code; /* task->exit_code: status << 8 | signal */
	husk_u32 pad;
};

struct husk_ev_bench {
	struct husk_event_hdr hdr;
	husk_u64 seq;
};

/* Context of the SEC("syscall") decision tests (BPF_PROG_TEST_RUN ctx_in). */
struct husk_test_net {
	husk_u64 cgid;
	husk_u32 family;
	husk_u32 protocol; /* IPPROTO_TCP / IPPROTO_UDP */
	husk_u32 port;	   /* host byte order */
	husk_u32 verdict;  /* out: 1 allow, 0 deny */
	husk_u32 reason;   /* out: enum husk_deny_reason when denied */
	husk_s32 rule;	   /* out */
	husk_u8 addr[16];
};

struct husk_test_path {
	husk_u64 cgid;
	husk_u32 kind;	  /* enum husk_fs_kind */
	husk_u32 verdict; /* out: 1 allow, 0 deny */
	char path[HUSK_FS_PATH_MAX];
};

struct husk_test_sock {
	husk_u32 family, type, protocol;
	husk_u32 verdict; /* out */
};

struct husk_test_dev {
	husk_u32 type; /* BPF_DEVCG_DEV_CHAR / BLOCK */
	husk_u32 major, minor, access;
	husk_u32 verdict; /* out */
};

struct husk_test_bench {
	husk_u64 cgid;
	husk_u32 count;	  /* events to write per run */
	husk_u32 written; /* out */
};

#endif
