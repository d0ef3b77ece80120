// SPDX-License-Identifier: GPL-2.0
/*
 * The default seccomp profile, enforced for real: each case forks a child
 * that installs the exported program the way husk-init does (no_new_privs,
 * then SECCOMP_MODE_FILTER) and makes one call; the parent checks how the
 * child ended.
 */
#include <errno.h>
#include <fcntl.h>
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
	husk_filter_free(&f);
	printf("%s\n", failed ? "seccomp_test: FAILED" : "seccomp_test: all passed");
	return failed;
}
