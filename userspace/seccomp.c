// SPDX-License-Identifier: GPL-2.0
/*
 * The runtime's seccomp profile: by default allow, and deny with EPERM what
 * a function never needs; a function's policy adds its own syscall rules.
 * Compiled with libseccomp and exported as the classic BPF program
 * husk-init installs.
 */
#include <errno.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "policy.h"
#include "seccomp.h"

/*
 * Denied outright. Names libseccomp does not know for the native ABI (vm86
 * and friends exist only on i386, whose ABI is killed anyway) are skipped.
 */
/* clang-format off */
const char *const husk_seccomp_denied[] = {
	/* mounts, the new mount API, changing root */
	"mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen",
	"fsconfig", "fsmount", "fspick", "mount_setattr",
	/* other processes' memory and files */
	"ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "process_madvise",
	"kcmp",
	/* kernel attack surface a function has no use for */
	"bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter",
	"io_uring_register", "fanotify_init", "lookup_dcookie",
	/* kernel images and modules */
	"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
	"create_module", "get_kernel_syms", "query_module",
	/* keyrings are not namespaced */
	"add_key", "request_key", "keyctl",
	/* namespaces: the jail's are fixed before the runtime starts */
	"unshare", "setns",
	/* file handles bypass the mount namespace */
	"open_by_handle_at", "name_to_handle_at",
	/* host-wide state */
	"reboot", "swapon", "swapoff", "settimeofday", "clock_settime", "clock_adjtime",
	"adjtimex", "quotactl", "quotactl_fd", "acct", "syslog", "vhangup", "nfsservctl",
	/* hardware and obsolete interfaces */
	"iopl", "ioperm", "uselib", "ustat", "sysfs", "_sysctl", "vm86", "vm86old",
	NULL,
};


/* Each flag gets its own rule: one masked compare per rule matches any call setting it. */
static const uint64_t clone_ns_flags[] = {
	CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER,
	CLONE_NEWPID, CLONE_NEWNET,
	/*
	 * In clone() bit 0x80 is part of the exit signal, so this only rejects
	 * exit signals above 127, which the kernel refuses anyway.
	 */
	CLONE_NEWTIME,
};
/* clang-format on */

/* A filter being built, and the action of calls no rule matches. */
struct builder {
	scmp_filter_ctx ctx;
	uint32_t def_action;
};

/* A rule that repeats the default action is redundant, and libseccomp refuses it. */
static int add_rule(const struct builder *b, uint32_t action, int nr, unsigned int n_cmp,
		    const struct scmp_arg_cmp *cmp)
{
	if (action == b->def_action)
		return 0;
	return seccomp_rule_add_array(b->ctx, action, nr, n_cmp, cmp);
}

static bool nr_in(const uint64_t *bits, int nr)
{
	return nr >= 0 && nr < HUSK_SECCOMP_NR_MAX && (bits[nr / 64] >> (nr % 64) & 1);
}

static void nr_set(uint64_t *bits, int nr)
{
	if (nr >= 0 && nr < HUSK_SECCOMP_NR_MAX)
		bits[nr / 64] |= 1ULL << (nr % 64);
}

/* Numbers of husk_seccomp_denied on the native ABI; unknown names are skipped. */
static void default_denied_bits(uint64_t bits[HUSK_SECCOMP_NR_MAX / 64])
{
	const char *const *name;

	memset(bits, 0, HUSK_SECCOMP_NR_MAX / 8);
	for (name = husk_seccomp_denied; *name; name++)
		nr_set(bits, seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, *name));
}

static int deny_names(const struct builder *b)
{
	const char *const *name;
	int nr, ret;

	for (name = husk_seccomp_denied; *name; name++) {
		nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, *name);
		/* Unknown names and pseudo-syscalls of other ABIs are negative. */
		if (nr < 0) {
			pr_debug("seccomp: %s does not exist on this architecture, skipped", *name);
			continue;
		}
		ret = add_rule(b, SCMP_ACT_ERRNO(EPERM), nr, 0, NULL);
		if (ret < 0) {
			pr_err("seccomp: cannot deny %s: %s", *name, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static uint64_t clone_ns_mask(void)
{
	uint64_t mask = 0;
	size_t i;

	for (i = 0; i < sizeof(clone_ns_flags) / sizeof(clone_ns_flags[0]); i++)
		mask |= clone_ns_flags[i];
	return mask;
}

static int deny_clone_namespaces(const struct builder *b)
{
	struct scmp_arg_cmp cmp;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(clone_ns_flags) / sizeof(clone_ns_flags[0]); i++) {
		cmp = SCMP_A0(SCMP_CMP_MASKED_EQ, clone_ns_flags[i], clone_ns_flags[i]);
		ret = add_rule(b, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1, &cmp);
		if (ret < 0) {
			pr_err("seccomp: cannot restrict clone flags 0x%llx: %s",
			       (unsigned long long)clone_ns_flags[i], strerror(-ret));
			return ret;
		}
	}
	/* clone3 passes its flags in memory a filter cannot read: make libc fall back. */
	ret = add_rule(b, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0, NULL);
	if (ret < 0)
		pr_err("seccomp: cannot answer ENOSYS to clone3: %s", strerror(-ret));
	return ret;
}

static int deny_personality_if(const struct builder *b, struct scmp_arg_cmp cmp)
{
	int ret = add_rule(b, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(personality), 1, &cmp);

	if (ret < 0)
		pr_err("seccomp: cannot restrict personality: %s", strerror(-ret));
	return ret;
}

/*
 * personality(): only PER_LINUX (0) and the 0xffffffff query. libseccomp
 * 2.5 compares an argument once per rule and ORs rules, so "neither 0 nor
 * 0xffffffff" is spelled as: above 32 bits, or, in the low 32 bits, some
 * bit i set while bit i+1 (mod 32) is clear, which holds exactly for the
 * values that are neither all zeros nor all ones.
 */
static int restrict_personality(const struct builder *b)
{
	uint64_t bit, next, i;
	int ret;

	ret = deny_personality_if(b, SCMP_A0(SCMP_CMP_GT, 0xffffffffULL));
	for (i = 0; !ret && i < 32; i++) {
		bit = 1ULL << i;
		next = 1ULL << ((i + 1) % 32);
		ret = deny_personality_if(b, SCMP_A0(SCMP_CMP_MASKED_EQ, bit | next, bit));
	}
	return ret;
}

static int add_default_rules(const struct builder *b)
{
	int ret = deny_names(b);

	if (!ret)
		ret = deny_clone_namespaces(b);
	if (!ret)
		ret = restrict_personality(b);
	return ret;
}

static uint32_t policy_action(const struct husk_policy *p)
{
	switch (p->sys_action) {
	case HUSK_SYS_KILL:
		return SCMP_ACT_KILL_PROCESS;
	case HUSK_SYS_LOG:
		return SCMP_ACT_LOG;
	case HUSK_SYS_ERRNO:
	default:
		return SCMP_ACT_ERRNO(p->sys_errno);
	}
}

static bool allow_mode(const struct husk_policy *p)
{
	return p && p->sys_mode == HUSK_SYS_ALLOW;
}

/*
 * Give nr the action where the default profile lets it through. An
 * unconditional rule would override the profile's argument checks (in
 * libseccomp the rule without conditions wins), so clone and personality get
 * the complement of those checks as their condition.
 */
static int add_where_permitted(const struct builder *b, uint32_t action, int nr)
{
	struct scmp_arg_cmp cmp;
	int ret;

	if (nr == SCMP_SYS(clone)) {
		cmp = SCMP_A0(SCMP_CMP_MASKED_EQ, clone_ns_mask(), 0);
		return add_rule(b, action, nr, 1, &cmp);
	}
	if (nr == SCMP_SYS(personality)) {
		cmp = SCMP_A0(SCMP_CMP_EQ, 0);
		ret = add_rule(b, action, nr, 1, &cmp);
		cmp = SCMP_A0(SCMP_CMP_EQ, 0xffffffffULL);
		return ret ? ret : add_rule(b, action, nr, 1, &cmp);
	}
	return add_rule(b, action, nr, 0, NULL);
}

static int add_policy_rules(const struct builder *b, const struct husk_policy *p)
{
	uint32_t action = allow_mode(p) ? SCMP_ACT_ALLOW : policy_action(p);
	uint64_t denied[HUSK_SECCOMP_NR_MAX / 64];
	size_t i;
	int nr, ret;

	default_denied_bits(denied);
	nr_set(denied, SCMP_SYS(clone3));
	for (i = 0; i < p->n_syscalls; i++) {
		nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, p->syscalls[i]);
		if (nr < 0) {
			pr_err("seccomp: policy names %s, which this architecture does not have",
			       p->syscalls[i]);
			return -EINVAL;
		}
		/* The default profile's own answer stays. */
		if (nr_in(denied, nr))
			continue;
		ret = add_where_permitted(b, action, nr);
		if (ret < 0) {
			pr_err("seccomp: cannot add the policy rule for %s: %s", p->syscalls[i],
			       strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static int set_attributes(scmp_filter_ctx ctx)
{
	int ret;

	/* i386 (int $0x80) and x32 calls would bypass the x86_64 rules: kill. */
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (ret < 0) {
		pr_err("seccomp: cannot set the bad-architecture action: %s", strerror(-ret));
		return ret;
	}
	/* husk-init sets no_new_privs itself, right before it installs the program. */
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (ret < 0) {
		pr_err("seccomp: cannot clear the no_new_privs attribute: %s", strerror(-ret));
		return ret;
	}
	/*
	 * Every syscall of the runtime runs the filter; a binary tree keeps an
	 * allowed call to a handful of compares instead of one per rule.
	 */
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (ret < 0)
		pr_warn("seccomp: binary-tree filter layout unavailable (%s), using a linear one",
			strerror(-ret));
	return 0;
}

/* libseccomp 2.5 exports only to a file descriptor: go through a memfd. */
static int export_filter(scmp_filter_ctx ctx, struct husk_filter *out)
{
	struct sock_filter *insns;
	struct stat st;
	ssize_t n;
	int fd, ret;

	fd = memfd_create("husk-seccomp", MFD_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_err("seccomp: memfd_create for the export failed: %s", strerror(errno));
		return ret;
	}
	ret = seccomp_export_bpf(ctx, fd);
	if (ret < 0) {
		pr_err("seccomp: exporting the BPF program failed: %s", strerror(-ret));
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		pr_err("seccomp: fstat of the exported program failed: %s", strerror(errno));
		goto out;
	}
	if (st.st_size == 0 || st.st_size % sizeof(*insns) ||
	    st.st_size / sizeof(*insns) > BPF_MAXINSNS) {
		ret = -E2BIG;
		pr_err("seccomp: exported program has a bad size of %lld bytes",
		       (long long)st.st_size);
		goto out;
	}
	insns = malloc(st.st_size);
	if (!insns) {
		ret = -ENOMEM;
		goto out;
	}
	n = pread(fd, insns, st.st_size, 0);
	if (n != st.st_size) {
		ret = n < 0 ? -errno : -EIO;
		pr_err("seccomp: reading back the exported program failed: %s", strerror(-ret));
		free(insns);
		goto out;
	}
	out->insns = insns;
	out->len = st.st_size / sizeof(*insns);
	ret = 0;
out:
	close(fd);
	return ret;
}

int husk_seccomp_compile(const struct husk_policy *p, struct husk_filter *out)
{
	struct builder b = {.def_action = allow_mode(p) ? policy_action(p) : SCMP_ACT_ALLOW};
	int ret;

	out->insns = NULL;
	out->len = 0;
	/* Only the native ABI is in the filter; every other one is a bad arch. */
	b.ctx = seccomp_init(b.def_action);
	if (!b.ctx) {
		pr_err("seccomp: seccomp_init failed (out of memory)");
		return -ENOMEM;
	}
	ret = set_attributes(b.ctx);
	if (!ret)
		ret = add_default_rules(&b);
	if (!ret && p)
		ret = add_policy_rules(&b, p);
	if (!ret)
		ret = export_filter(b.ctx, out);
	seccomp_release(b.ctx);
	return ret;
}

int husk_seccomp_default(struct husk_filter *out)
{
	return husk_seccomp_compile(NULL, out);
}

static bool is_syscall(int nr)
{
	char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

	free(name);
	return name != NULL;
}

/* The numbers of the syscalls p names. */
static int named_bits(const struct husk_policy *p, uint64_t bits[HUSK_SECCOMP_NR_MAX / 64])
{
	size_t i;
	int nr;

	memset(bits, 0, HUSK_SECCOMP_NR_MAX / 8);
	for (i = 0; i < p->n_syscalls; i++) {
		nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, p->syscalls[i]);
		if (nr < 0) {
			pr_err("seccomp: policy names %s, which this architecture does not have",
			       p->syscalls[i]);
			return -EINVAL;
		}
		nr_set(bits, nr);
	}
	return 0;
}

/*
 * With Action errno, Mode deny fails the named syscalls whatever their
 * arguments (clone and personality too: what the profile lets through gets
 * p's errno); Mode allow fails every syscall not named. clone3 keeps ENOSYS.
 */
int husk_seccomp_denied_set(const struct husk_policy *p, uint64_t bits[HUSK_SECCOMP_NR_MAX / 64],
			    int *err_no)
{
	uint64_t named[HUSK_SECCOMP_NR_MAX / 64];
	bool allow;
	int nr, ret;

	default_denied_bits(bits);
	*err_no = p ? p->sys_errno : EPERM;
	if (!p || p->sys_action != HUSK_SYS_ERRNO)
		return 0;
	ret = named_bits(p, named);
	if (ret)
		return ret;
	allow = allow_mode(p);
	for (nr = 0; nr < HUSK_SECCOMP_NR_MAX; nr++)
		if (nr != SCMP_SYS(clone3) && nr_in(named, nr) != allow && is_syscall(nr))
			nr_set(bits, nr);
	return 0;
}

void husk_filter_free(struct husk_filter *f)
{
	if (!f)
		return;
	free(f->insns);
	f->insns = NULL;
	f->len = 0;
}
