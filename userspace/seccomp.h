/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The runtime's seccomp profile, compiled with libseccomp in huskd once and
 * handed to husk-init as raw classic BPF, which installs it on the runtime
 * after no_new_privs and before exec. huskd compiles; husk-init (which must
 * also run in a microVM without libseccomp) only installs.
 *
 * The default profile allows what a function runtime needs and denies, with
 * EPERM, what functions never need: mount and the new mount API, pivot_root
 * and chroot, ptrace and process_vm_*, bpf, perf_event_open, kexec, module
 * and keyring calls, unshare and setns (and clone with namespace flags;
 * clone3 answers ENOSYS so libc falls back to clone, whose flags can be
 * checked), userfaultfd, open_by_handle_at, reboot, swap, clock setting,
 * quotactl, iopl/ioperm, acct, syslog, and the like. Other architectures'
 * syscall ABIs (x32, i386) kill the process.
 *
 * A function's policy adds its Syscalls rules on top (see policy.h). The
 * default profile's denials always stay, with EPERM: a policy rule naming a
 * syscall the profile denies outright is left out, and a rule naming clone
 * or personality covers only the calls the profile lets through (clone
 * without namespace flags, personality(PER_LINUX) and the query), so
 * namespace flags keep failing with EPERM whatever the policy says.
 */
#ifndef HUSK_SECCOMP_H
#define HUSK_SECCOMP_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

struct husk_policy;

/* Syscall numbers husk_seccomp_denied_set covers (HUSK_NR_SYSCALLS of husk_abi.h). */
#define HUSK_SECCOMP_NR_MAX 512

struct husk_filter {
	struct sock_filter *insns;
	unsigned int len;
};

/* Compile the default profile. */
int husk_seccomp_default(struct husk_filter *out);

/*
 * Compile the default profile plus the syscall rules of p (NULL: none).
 * Mode deny gives each named syscall p's action; Mode allow makes p's action
 * the default and allows the named syscalls.
 */
int husk_seccomp_compile(const struct husk_policy *p, struct husk_filter *out);

/*
 * The syscalls the filter of p (NULL: the default profile) fails with an
 * errno whatever their arguments, as a bitmap (bit n of bits[n / 64] is
 * syscall n), for telemetry to count them as denials; *err_no is p's errno
 * (the profile's own denials answer EPERM). clone3, answered ENOSYS so that
 * libc falls back to clone, is not a denial and never in the set.
 */
int husk_seccomp_denied_set(const struct husk_policy *p, uint64_t bits[HUSK_SECCOMP_NR_MAX / 64],
			    int *err_no);
void husk_filter_free(struct husk_filter *f);

/* The syscall names the default profile denies, NULL terminated (for docs and tests). */
extern const char *const husk_seccomp_denied[];

#endif
