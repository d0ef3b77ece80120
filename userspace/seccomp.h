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
 */
#ifndef HUSK_SECCOMP_H
#define HUSK_SECCOMP_H

#include <linux/filter.h>
#include <stddef.h>

struct husk_filter {
	struct sock_filter *insns;
	unsigned int len;
};

/* Compile the default profile. */
int husk_seccomp_default(struct husk_filter *out);
void husk_filter_free(struct husk_filter *f);

/* The syscall names the default profile denies, NULL terminated (for docs and tests). */
extern const char *const husk_seccomp_denied[];

#endif
