// SPDX-License-Identifier: GPL-2.0
/*
 * The seccomp profile, enforced for real: each case forks a child that
 * installs the exported program the way husk-init does (no_new_privs, then
 * SECCOMP_MODE_FILTER) and makes one call; the parent checks how the child
 * ended. First the default profile, then the profile with a policy's
 * syscall rules, and the denied set telemetry gets, checked against the
 * program itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/audit.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "userspace/husk.h"
#include "userspace/policy.h"
#include "userspace/seccomp.h"

/* How the child ends: exit 0 is "as expected", anything else a failure. */
enum expect { OK, DENIED, KILLED };

struct scase {
	const char *name;
	/* Returns the syscall's result; -1 with errno set on failure. */
	long (*call)(void);
	enum expect expect;
	int err;	 /* for DENIED */
	bool needs_i386; /* skipped where the kernel has no i386 entry */
};

static long do_getpid(void)
{
	return getpid() > 0 ? 0 : -1;
}

/* Raw: glibc could answer from a cache without entering the kernel. */
static long do_getppid(void)
{
	return syscall(SYS_getppid) > 0 ? 0 : -1;
}

static long do_open_read_write(void)
{
	char buf[64];
	int fd, null;
	ssize_t n;

	fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0)
		return -1;
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null < 0)
		return -1;
	n = write(null, buf, n);
	close(null);
	return n > 0 ? 0 : -1;
}

static long do_fork(void)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(7);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 7) {
		errno = ECHILD;
		return -1;
	}
	return 0;
}

static void *thread_fn(void *arg)
{
	return arg;
}

/* glibc tries clone3 first; ENOSYS must make it fall back to clone. */
static long do_thread(void)
{
	pthread_t t;
	void *res;
	int ret;

	ret = pthread_create(&t, NULL, thread_fn, (void *)42);
	if (ret) {
		errno = ret;
		return -1;
	}
	pthread_join(t, &res);
	return res == (void *)42 ? 0 : -1;
}

static long do_personality_query(void)
{
	return personality(0xffffffff) < 0 ? -1 : 0;
}

static long do_personality_linux(void)
{
	return personality(PER_LINUX) < 0 ? -1 : 0;
}

static long do_personality_other(void)
{
	return personality(ADDR_NO_RANDOMIZE) < 0 ? -1 : 0;
}

static long do_mount(void)
{
	return mount("none", "/tmp", "tmpfs", MS_RDONLY, NULL);
}

static long do_umount2(void)
{
	return umount2("/proc", MNT_DETACH);
}

static long do_pivot_root(void)
{
	return syscall(SYS_pivot_root, ".", ".");
}

static long do_ptrace(void)
{
	return ptrace(PTRACE_TRACEME, 0, NULL, NULL);
}

static long do_bpf(void)
{
	return syscall(SYS_bpf, 0, NULL, 0);
}

static long do_unshare_user(void)
{
	return unshare(CLONE_NEWUSER);
}

static long do_setns(void)
{
	return setns(0, 0);
}

static long do_perf_event_open(void)
{
	return syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0);
}

static long do_keyctl(void)
{
	return syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0);
}

static long do_init_module(void)
{
	return syscall(SYS_init_module, NULL, 0, "");
}

static long do_userfaultfd(void)
{
	return syscall(SYS_userfaultfd, O_CLOEXEC);
}

static long do_kexec_load(void)
{
	return syscall(SYS_kexec_load, 0, 0, NULL, 0);
}

/* Raw clone: glibc's clone() would hide the flags test behind a new stack. */
static long do_clone_newnet(void)
{
	long ret = syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, NULL, NULL, 0);

	if (ret == 0)
		_exit(0);
	if (ret > 0)
		waitpid(ret, NULL, 0);
	return ret > 0 ? 0 : ret;
}

static long do_clone3(void)
{
	struct clone_args args = {.exit_signal = SIGCHLD};
	long ret = syscall(SYS_clone3, &args, sizeof(args));

	if (ret == 0)
		_exit(0);
	if (ret > 0)
		waitpid(ret, NULL, 0);
	return ret > 0 ? 0 : ret;
}

/* getpid through the i386 entry point. */
static long do_int80(void)
{
	long ret;

	asm volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
	return ret < 0 ? (errno = -ret, -1) : 0;
}

/* getpid through the x32 numbering, which shares the x86_64 audit arch. */
static long do_x32(void)
{
	return syscall(0x40000000L | SYS_getpid);
}

static const struct scase cases[] = {
    {"getpid", do_getpid, OK},
    {"open/read/write", do_open_read_write, OK},
    {"fork (clone without namespace flags)", do_fork, OK},
    {"pthread_create (clone3 ENOSYS, clone fallback)", do_thread, OK},
    {"personality(0xffffffff) query", do_personality_query, OK},
    {"personality(PER_LINUX)", do_personality_linux, OK},
    {"personality(ADDR_NO_RANDOMIZE)", do_personality_other, DENIED, EPERM},
    {"mount", do_mount, DENIED, EPERM},
    {"umount2", do_umount2, DENIED, EPERM},
    {"pivot_root", do_pivot_root, DENIED, EPERM},
    {"ptrace(PTRACE_TRACEME)", do_ptrace, DENIED, EPERM},
    {"bpf", do_bpf, DENIED, EPERM},
    {"unshare(CLONE_NEWUSER)", do_unshare_user, DENIED, EPERM},
    {"setns", do_setns, DENIED, EPERM},
    {"perf_event_open", do_perf_event_open, DENIED, EPERM},
    {"keyctl", do_keyctl, DENIED, EPERM},
    {"init_module", do_init_module, DENIED, EPERM},
    {"userfaultfd", do_userfaultfd, DENIED, EPERM},
    {"kexec_load", do_kexec_load, DENIED, EPERM},
    {"clone(CLONE_NEWNET|SIGCHLD)", do_clone_newnet, DENIED, EPERM},
    {"clone3", do_clone3, DENIED, ENOSYS},
    {"i386 getpid via int $0x80", do_int80, KILLED, .needs_i386 = true},
    {"x32 getpid", do_x32, KILLED},
};

static int install(const struct husk_filter *f)
{
	struct sock_fprog prog = {.len = f->len, .filter = f->insns};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

/* Child side of one case: exit 0 when the call behaved as expected. */
static void run_child(const struct husk_filter *f, const struct scase *c)
{
	long ret;

	if (install(f) < 0) {
		fprintf(stderr, "    installing the filter failed: %s\n", strerror(errno));
		_exit(3);
	}
	errno = 0;
	ret = c->call();
	if (c->expect == OK)
		_exit(ret < 0 ? 1 : 0);
	if (c->expect == DENIED)
		_exit(ret < 0 && errno == c->err ? 0 : 1);
	_exit(2); /* KILLED: reaching here means the call returned */
}

static int check_status(const struct scase *c, int status, char *why, size_t len)
{
	if (c->expect == KILLED) {
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
			return 0;
		snprintf(why, len, "expected death by SIGSYS, got %s %d",
			 WIFSIGNALED(status) ? "signal" : "exit",
			 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		snprintf(why, len, "child killed by signal %d", WTERMSIG(status));
	else if (c->expect == OK)
		snprintf(why, len, "the call failed under the filter");
	else
		snprintf(why, len, "expected %s, the call got something else", strerror(c->err));
	return -1;
}

/*
 * Some kernels (ia32_emulation=0, some hypervisors) fault int $0x80 before
 * seccomp sees it: then the i386 case cannot say anything about the filter.
 */
static bool i386_entry_works(void)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0)
		_exit(do_int80() == 0 ? 0 : 1);
	return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int run_case(const struct husk_filter *f, const struct scase *c, bool have_i386)
{
	char why[128] = "";
	int status, ret;
	pid_t pid;

	if (c->needs_i386 && !have_i386) {
		printf("skip %s: int $0x80 faults here even without a filter (no i386 entry)\n",
		       c->name);
		return 0;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		printf("FAIL %s: fork: %s\n", c->name, strerror(errno));
		return -1;
	}
	if (pid == 0)
		run_child(f, c);
	if (waitpid(pid, &status, 0) != pid) {
		printf("FAIL %s: waitpid: %s\n", c->name, strerror(errno));
		return -1;
	}
	ret = check_status(c, status, why, sizeof(why));
	if (ret)
		printf("FAIL %s: %s\n", c->name, why);
	else
		printf("ok   %s\n", c->name);
	return ret;
}

/*
 * Every name of husk_seccomp_denied, called with zero arguments, must answer
 * EPERM. The child leaves its session first so that a vhangup that slipped
 * through could not hang up the terminal running the test.
 */
static void sweep_child(const struct husk_filter *f)
{
	const char *const *name;
	int failed = 0, nr;
	long ret;

	setsid();
	if (install(f) < 0)
		_exit(3);
	for (name = husk_seccomp_denied; *name; name++) {
		nr = seccomp_syscall_resolve_name(*name);
		if (nr < 0)
			continue;
		errno = 0;
		ret = syscall(nr, 0, 0, 0, 0, 0, 0);
		if (ret != -1 || errno != EPERM) {
			fprintf(stderr, "    %s returned %ld (%s), not EPERM\n", *name, ret,
				strerror(errno));
			failed = 1;
		}
	}
	_exit(failed);
}

static int run_sweep(const struct husk_filter *f)
{
	const char *const *name;
	int status, n = 0;
	pid_t pid;

	for (name = husk_seccomp_denied; *name; name++)
		n += seccomp_syscall_resolve_name(*name) >= 0;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		sweep_child(f);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		printf("FAIL every denied name (%d on this architecture) answers EPERM\n", n);
		return -1;
	}
	printf("ok   every denied name (%d on this architecture) answers EPERM\n", n);
	return 0;
}

/*
 * The exported program run in user space over a made-up seccomp_data, for
 * what the kernel here cannot produce (i386 calls). Only the instructions
 * libseccomp emits are known; any other fails the check.
 */
static int bpf_eval(const struct husk_filter *f, const struct seccomp_data *d, uint32_t *ret)
{
	const struct sock_filter *in;
	uint32_t a = 0, pc = 0, k;

	while (pc < f->len) {
		in = &f->insns[pc++];
		k = in->k;
		switch (in->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (k > sizeof(*d) - 4 || k % 4)
				return -1;
			memcpy(&a, (const char *)d + k, 4);
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= k;
			break;
		case BPF_JMP | BPF_JA:
			pc += k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == k ? in->jt : in->jf;
			break;
		case BPF_JMP | BPF_JGT | BPF_K:
			pc += a > k ? in->jt : in->jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += a >= k ? in->jt : in->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += a & k ? in->jt : in->jf;
			break;
		case BPF_RET | BPF_K:
			*ret = k;
			return 0;
		default:
			return -1;
		}
	}
	return -1;
}

struct ecase {
	const char *name;
	uint32_t arch;
	int nr;
	uint32_t want;
};

static const struct ecase evals[] = {
    {"evaluated: i386 getpid is killed", AUDIT_ARCH_I386, 20, SECCOMP_RET_KILL_PROCESS},
    {"evaluated: aarch64 getpid is killed", AUDIT_ARCH_AARCH64, 172, SECCOMP_RET_KILL_PROCESS},
    {"evaluated: x86_64 getpid is allowed", AUDIT_ARCH_X86_64, SYS_getpid, SECCOMP_RET_ALLOW},
    {"evaluated: x86_64 mount answers EPERM", AUDIT_ARCH_X86_64, SYS_mount,
     SECCOMP_RET_ERRNO | EPERM},
};

static int run_evals(const struct husk_filter *f)
{
	struct seccomp_data d;
	int failed = 0;
	uint32_t ret;
	size_t i;

	for (i = 0; i < sizeof(evals) / sizeof(evals[0]); i++) {
		memset(&d, 0, sizeof(d));
		d.arch = evals[i].arch;
		d.nr = evals[i].nr;
		if (bpf_eval(f, &d, &ret)) {
			printf("FAIL %s: the program did not evaluate\n", evals[i].name);
			failed = 1;
		} else if (ret != evals[i].want) {
			printf("FAIL %s: returned 0x%08x, want 0x%08x\n", evals[i].name, ret,
			       evals[i].want);
			failed = 1;
		} else {
			printf("ok   %s\n", evals[i].name);
		}
	}
	return failed ? -1 : 0;
}

/* A policy's rules on top of the default profile. */
struct pcase {
	const char *policy; /* the "Policy" member, JSON */
	struct scase c;
};

/* What the allow lists need for the child itself: the exec and the exit. */
#define ALLOW_BASE "\"Mode\":\"allow\",\"Names\":[\"execve\",\"exit_group\""

static const struct pcase pcases[] = {
    {"{\"Syscalls\":{\"Names\":[\"getppid\"],\"Errno\":13}}",
     {"deny getppid, errno 13: getppid fails EACCES", do_getppid, DENIED, EACCES}},
    {"{\"Syscalls\":{\"Names\":[\"getppid\"],\"Errno\":13}}",
     {"deny getppid, errno 13: getpid works", do_getpid, OK}},
    {"{\"Syscalls\":{\"Names\":[\"getppid\"],\"Errno\":13}}",
     {"deny getppid, errno 13: mount keeps EPERM", do_mount, DENIED, EPERM}},
    {"{\"Syscalls\":{\"Names\":[\"getppid\"],\"Action\":\"kill\"}}",
     {"deny getppid, kill: killed", do_getppid, KILLED}},
    {"{\"Syscalls\":{\"Names\":[\"getppid\"],\"Action\":\"log\"}}",
     {"deny getppid, log: getppid works", do_getppid, OK}},
    {"{\"Syscalls\":{\"Names\":[\"mount\"],\"Action\":\"kill\"}}",
     {"deny mount, kill: the default's EPERM stays", do_mount, DENIED, EPERM}},
    {"{\"Syscalls\":{\"Names\":[\"clone\"],\"Errno\":13}}",
     {"deny clone, errno 13: fork fails EACCES", do_fork, DENIED, EACCES}},
    {"{\"Syscalls\":{\"Names\":[\"clone\"],\"Errno\":13}}",
     {"deny clone, errno 13: CLONE_NEWNET keeps EPERM", do_clone_newnet, DENIED, EPERM}},
    {"{\"Syscalls\":{\"Names\":[\"clone\"],\"Action\":\"log\"}}",
     {"deny clone, log: fork works", do_fork, OK}},
    {"{\"Syscalls\":{\"Names\":[\"clone\"],\"Action\":\"log\"}}",
     {"deny clone, log: CLONE_NEWNET keeps EPERM", do_clone_newnet, DENIED, EPERM}},
    {"{\"Syscalls\":{\"Names\":[\"personality\"],\"Action\":\"kill\"}}",
     {"deny personality, kill: the query is killed", do_personality_query, KILLED}},
    {"{\"Syscalls\":{\"Names\":[\"personality\"],\"Action\":\"kill\"}}",
     {"deny personality, kill: ADDR_NO_RANDOMIZE keeps EPERM", do_personality_other, DENIED,
      EPERM}},
    {"{\"Syscalls\":{" ALLOW_BASE ",\"getpid\"],\"Errno\":13}}",
     {"allow list: a named syscall works", do_getpid, OK}},
    {"{\"Syscalls\":{" ALLOW_BASE ",\"getpid\"],\"Errno\":13}}",
     {"allow list: one not named fails EACCES", do_getppid, DENIED, EACCES}},
    {"{\"Syscalls\":{" ALLOW_BASE ",\"getpid\"],\"Errno\":13}}",
     {"allow list: mount keeps EPERM", do_mount, DENIED, EPERM}},
    {"{\"Syscalls\":{" ALLOW_BASE ",\"getpid\"]}}",
     {"allow list, default errno: one not named fails EPERM", do_getppid, DENIED, EPERM}},
    {"{\"Syscalls\":{" ALLOW_BASE ",\"mount\"],\"Errno\":13}}",
     {"allow list naming mount: the default's EPERM stays", do_mount, DENIED, EPERM}},
    {"{\"Syscalls\":{" ALLOW_BASE ",\"getpid\"],\"Action\":\"kill\"}}",
     {"allow list, kill: one not named is killed", do_getppid, KILLED}},
    {"{\"Syscalls\":{" ALLOW_BASE ",\"getpid\"],\"Action\":\"kill\"}}",
     {"allow list, kill: a named syscall works", do_getpid, OK}},
    {"{\"Syscalls\":{" ALLOW_BASE "],\"Action\":\"log\"}}",
     {"allow list, log: one not named works", do_getppid, OK}},
    {"{\"Syscalls\":{" ALLOW_BASE ",\"clone\",\"wait4\"],\"Errno\":13}}",
     {"allow list with clone: fork works", do_fork, OK}},
    {"{\"Syscalls\":{" ALLOW_BASE ",\"clone\",\"wait4\"],\"Errno\":13}}",
     {"allow list with clone: CLONE_NEWNET keeps EPERM", do_clone_newnet, DENIED, EPERM}},
    {"{\"Syscalls\":{" ALLOW_BASE ",\"wait4\"],\"Errno\":13}}",
     {"allow list without clone: fork fails EACCES", do_fork, DENIED, EACCES}},
    {"{\"Syscalls\":{" ALLOW_BASE ",\"personality\"],\"Action\":\"kill\"}}",
     {"allow list with personality: the query works", do_personality_query, OK}},
    {"{\"Syscalls\":{" ALLOW_BASE ",\"personality\"],\"Action\":\"kill\"}}",
     {"allow list with personality: ADDR_NO_RANDOMIZE keeps EPERM", do_personality_other, DENIED,
      EPERM}},
    {"{\"Syscalls\":{" ALLOW_BASE ",\"clone3\"],\"Errno\":13}}",
     {"allow list naming clone3: ENOSYS stays", do_clone3, DENIED, ENOSYS}},
};

static struct husk_policy *policy_of(const char *json)
{
	struct json_object *obj = json_tokener_parse(json);
	struct husk_policy *p = NULL;
	struct husk_err err = {0};

	if (!obj || husk_policy_parse(obj, &p, &err)) {
		printf("FAIL test setup: policy %s: %s\n", json, obj ? err.msg : "not JSON");
		p = NULL;
	}
	json_object_put(obj);
	return p;
}

static int run_policy_case(const struct pcase *pc, bool have_i386)
{
	struct husk_policy *p = policy_of(pc->policy);
	struct husk_filter f;
	int ret;

	if (!p)
		return -1;
	ret = husk_seccomp_compile(p, &f);
	husk_policy_free(p);
	if (ret) {
		printf("FAIL %s: compile: %s\n", pc->c.name, strerror(-ret));
		return -1;
	}
	ret = run_case(&f, &pc->c, have_i386);
	husk_filter_free(&f);
	return ret;
}

/* The default profile, however it is asked for, is one and the same program. */
static int check_same_default(const struct husk_filter *def)
{
	struct husk_policy *p = husk_policy_default();
	struct husk_filter a = {0}, b = {0};
	bool same;

	if (!p || husk_seccomp_compile(NULL, &a) || husk_seccomp_compile(p, &b)) {
		printf("FAIL compile the default profile through husk_seccomp_compile\n");
		husk_policy_free(p);
		husk_filter_free(&a);
		return -1;
	}
	same = a.len == def->len && b.len == def->len &&
	       !memcmp(a.insns, def->insns, def->len * sizeof(*def->insns)) &&
	       !memcmp(b.insns, def->insns, def->len * sizeof(*def->insns));
	printf("%s compile(NULL) and compile(default policy) are the default profile\n",
	       same ? "ok  " : "FAIL");
	husk_policy_free(p);
	husk_filter_free(&a);
	husk_filter_free(&b);
	return same ? 0 : -1;
}

/* A policy that must not compile: a Names entry this architecture lacks. */
static int check_unknown_name(void)
{
	struct husk_policy *p = policy_of("{\"Syscalls\":{\"Names\":[\"read\"]}}");
	uint64_t bits[HUSK_SECCOMP_NR_MAX / 64];
	struct husk_filter f = {0};
	char *saved;
	int a, b, err_no;

	if (!p)
		return -1;
	saved = p->syscalls[0];
	p->syscalls[0] = "no_such_syscall";
	a = husk_seccomp_compile(p, &f);
	b = husk_seccomp_denied_set(p, bits, &err_no);
	p->syscalls[0] = saved;
	husk_policy_free(p);
	husk_filter_free(&f);
	printf("%s a name the architecture lacks is refused (%d, %d)\n",
	       a == -EINVAL && b == -EINVAL ? "ok  " : "FAIL", a, b);
	return a == -EINVAL && b == -EINVAL ? 0 : -1;
}

/* The filter's answer to nr with every argument set to arg. */
static int eval_nr(const struct husk_filter *f, int nr, uint64_t arg, uint32_t *ret)
{
	struct seccomp_data d = {.nr = nr, .arch = AUDIT_ARCH_X86_64};
	size_t i;

	for (i = 0; i < 6; i++)
		d.args[i] = arg;
	return bpf_eval(f, &d, ret);
}

/*
 * A number in the denied set must get an errno (EPERM or the policy's)
 * with any arguments; one outside it must get something else for some
 * arguments (zeros or all ones cover the profile's argument checks).
 */
static int check_nr(const struct husk_filter *f, int nr, bool in_set, int err_no, char *why,
		    size_t len)
{
	static const uint64_t args[] = {0, ~0ULL, 0xffffffffULL};
	bool errno_always = true;
	uint32_t ret, data;
	size_t i;

	for (i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
		if (eval_nr(f, nr, args[i], &ret)) {
			snprintf(why, len, "syscall %d: the program did not evaluate", nr);
			return -1;
		}
		data = ret & SECCOMP_RET_DATA;
		if ((ret & SECCOMP_RET_ACTION_FULL) != SECCOMP_RET_ERRNO ||
		    (data != EPERM && data != (uint32_t)err_no))
			errno_always = false;
	}
	if (in_set == errno_always)
		return 0;
	snprintf(why, len, "syscall %d is %sin the set, but the program %s", nr,
		 in_set ? "" : "not ", in_set ? "lets it through" : "always fails it");
	return -1;
}

static int check_denied_set(const char *name, const struct husk_policy *p)
{
	uint64_t bits[HUSK_SECCOMP_NR_MAX / 64];
	struct husk_filter f;
	char why[160] = "";
	int err_no, nr, n = 0, ret;
	char *sys;

	ret = husk_seccomp_compile(p, &f);
	if (!ret)
		ret = husk_seccomp_denied_set(p, bits, &err_no);
	if (ret) {
		printf("FAIL denied set of %s: %s\n", name, strerror(-ret));
		return -1;
	}
	for (nr = 0; !ret && nr < HUSK_SECCOMP_NR_MAX; nr++) {
		sys = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		/* Numbers of no syscall are outside the set whatever the program says. */
		if (sys && nr != SYS_clone3)
			ret = check_nr(&f, nr, bits[nr / 64] >> (nr % 64) & 1, err_no, why,
				       sizeof(why));
		else if (bits[nr / 64] >> (nr % 64) & 1)
			ret = (snprintf(why, sizeof(why), "%d is in the set", nr), -1);
		n += bits[nr / 64] >> (nr % 64) & 1;
		free(sys);
	}
	husk_filter_free(&f);
	if (ret)
		printf("FAIL denied set of %s matches the program: %s\n", name, why);
	else
		printf("ok   denied set of %s matches the program (%d syscalls, errno %d)\n", name,
		       n, err_no);
	return ret;
}

static const struct dcase {
	const char *name, *policy;
	int n_min, n_max; /* how many syscalls the set holds */
	int err_no;
} dcases[] = {
    {"no extra rules", "{}", 40, 70, EPERM},
    {"deny getppid, clone, personality, errno 13",
     "{\"Syscalls\":{\"Names\":[\"getppid\",\"clone\",\"personality\",\"clone3\"],"
     "\"Errno\":13}}",
     43, 73, 13},
    {"deny getppid, kill", "{\"Syscalls\":{\"Names\":[\"getppid\"],\"Action\":\"kill\"}}", 40, 70,
     EPERM},
    {"allow list, errno 13",
     "{\"Syscalls\":{" ALLOW_BASE ",\"getpid\",\"clone\",\"personality\",\"mount\"],"
     "\"Errno\":13}}",
     300, 511, 13},
    {"allow list, default errno", "{\"Syscalls\":{" ALLOW_BASE ",\"read\"]}}", 300, 511, EPERM},
    {"allow list, kill", "{\"Syscalls\":{" ALLOW_BASE ",\"read\"],\"Action\":\"kill\"}}", 40, 70,
     EPERM},
};

static int popcount_set(const struct husk_policy *p, int *err_no)
{
	uint64_t bits[HUSK_SECCOMP_NR_MAX / 64];
	int i, n = 0;

	if (husk_seccomp_denied_set(p, bits, err_no))
		return -1;
	for (i = 0; i < HUSK_SECCOMP_NR_MAX / 64; i++)
		n += __builtin_popcountll(bits[i]);
	return n;
}

static int run_denied_sets(void)
{
	struct husk_policy *p;
	int failed = 0, n, err_no;
	size_t i;

	failed |= check_denied_set("the default profile", NULL) != 0;
	for (i = 0; i < sizeof(dcases) / sizeof(dcases[0]); i++) {
		p = policy_of(dcases[i].policy);
		if (!p) {
			failed = 1;
			continue;
		}
		failed |= check_denied_set(dcases[i].name, p) != 0;
		n = popcount_set(p, &err_no);
		if (n < dcases[i].n_min || n > dcases[i].n_max || err_no != dcases[i].err_no) {
			printf(
			    "FAIL denied set of %s: %d syscalls (want %d-%d), errno %d (want %d)\n",
			    dcases[i].name, n, dcases[i].n_min, dcases[i].n_max, err_no,
			    dcases[i].err_no);
			failed = 1;
		}
		husk_policy_free(p);
	}
	return failed ? -1 : 0;
}

/* The default's denials answer EPERM under an allow list with another errno, too. */
static int run_allow_sweep(void)
{
	struct husk_policy *p =
	    policy_of("{\"Syscalls\":{" ALLOW_BASE ",\"write\",\"setsid\"],\"Errno\":13}}");
	struct husk_filter f;
	int ret;

	if (!p)
		return -1;
	ret = husk_seccomp_compile(p, &f);
	husk_policy_free(p);
	if (ret) {
		printf("FAIL compile the allow list of the sweep: %s\n", strerror(-ret));
		return -1;
	}
	printf("     under an allow list with errno 13:\n");
	ret = run_sweep(&f);
	husk_filter_free(&f);
	return ret;
}

int main(void)
{
	bool have_i386 = i386_entry_works();
	struct husk_filter f;
	int failed = 0, ret;
	size_t i;

	ret = husk_seccomp_default(&f);
	if (ret) {
		printf("FAIL compile the default profile: %s\n", strerror(-ret));
		return 1;
	}
	printf("ok   compile the default profile (%u instructions)\n", f.len);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		failed |= run_case(&f, &cases[i], have_i386) != 0;
	failed |= run_sweep(&f) != 0;
	failed |= run_evals(&f) != 0;
	failed |= check_same_default(&f) != 0;
	husk_filter_free(&f);
	for (i = 0; i < sizeof(pcases) / sizeof(pcases[0]); i++)
		failed |= run_policy_case(&pcases[i], have_i386) != 0;
	failed |= run_allow_sweep() != 0;
	failed |= run_denied_sets() != 0;
	failed |= check_unknown_name() != 0;
	printf("%s\n", failed ? "seccomp_test: FAILED" : "seccomp_test: all passed");
	return failed;
}
