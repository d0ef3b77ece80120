// SPDX-License-Identifier: GPL-2.0
/*
 * husk's BPF LSM programs: file, exec, socket, signal and ptrace rules of
 * every environment, where the kernel runs BPF LSM programs. huskd loads
 * this object after husk.bpf.c, reusing its maps, and proves at start-up
 * that the hooks fire (probe_file_open counts opens of huskd's own probe
 * file). Where loading or the probe fails, Landlock enforces the file rules
 * and this object is not used.
 *
 * Every decision is a husk_decide.h function that the SEC("syscall") tests
 * also run.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "husk_decide.h"

char LICENSE[] SEC("license") = "GPL";

#define EPERM 1
#define EACCES 13
#define HUSK_FMODE_READ 0x1
#define HUSK_FMODE_WRITE 0x2
#define HUSK_FMODE_EXEC 0x20

/* Set by huskd before load: the process whose opens the probe counts. */
const volatile __u32 probe_tgid;
__u64 probe_hits;

/* Paths are built here: PATH_MAX bytes do not fit the stack. */
struct path_buf {
	char path[4096];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct path_buf);
} husk_lsm_scratch SEC(".maps");

extern int bpf_path_d_path(struct path *path, char *buf, size_t buf__sz) __ksym __weak;

static __always_inline struct husk_env_info *current_env(__u64 *cgid)
{
	*cgid = bpf_get_current_cgroup_id();
	return bpf_map_lookup_elem(&husk_envs, cgid);
}

static __always_inline int deny_path(struct husk_env_info *env, __u64 cgid, __u32 kind,
				     const char *path)
{
	struct husk_ev_deny *ev = husk_deny_reserve(env, cgid, husk_fs_deny_reason(kind));

	if (ev) {
		bpf_probe_read_kernel_str(ev->path, sizeof(ev->path), path);
		bpf_ringbuf_submit(ev, 0);
	}
	return -EACCES;
}

/* 0 or -EACCES for an access of kind to the path in buf. */
static __always_inline int check_path(struct husk_env_info *env, __u64 cgid, __u32 kind,
				      const char *buf)
{
	struct husk_fs_policy *fp;

	if (!(env->flags & HUSK_ENV_F_LSM_FILES))
		return 0;
	fp = bpf_map_lookup_elem(&husk_fs, &cgid);
	if (!fp)
		return -EACCES; /* an environment without file rules gets nothing */
	if (husk_decide_path(fp, kind, buf))
		return 0;
	return deny_path(env, cgid, kind, buf);
}

SEC("lsm/file_open")
int BPF_PROG(husk_file_open, struct file *file)
{
	struct husk_env_info *env;
	struct path_buf *b;
	__u32 zero = 0;
	__u64 cgid;
	int mode, rc;

	if (probe_tgid && (bpf_get_current_pid_tgid() >> 32) == probe_tgid)
		__sync_fetch_and_add(&probe_hits, 1);
	env = current_env(&cgid);
	if (!env)
		return 0;
	b = bpf_map_lookup_elem(&husk_lsm_scratch, &zero);
	if (!b)
		return -EACCES;
	if (bpf_d_path((struct path *)&file->f_path, b->path, sizeof(b->path)) < 0)
		return -EACCES;
	mode = file->f_mode;
	if (mode & HUSK_FMODE_EXEC) /* the kernel opening an executable or interpreter */
		return check_path(env, cgid, HUSK_FS_KIND_EXEC, b->path);
	if (mode & HUSK_FMODE_WRITE) {
		rc = check_path(env, cgid, HUSK_FS_KIND_WRITE, b->path);
		if (rc)
			return rc;
	}
	if (mode & HUSK_FMODE_READ)
		return check_path(env, cgid, HUSK_FS_KIND_READ, b->path);
	return 0;
}

/* The name execve was given, when absolute: a second look at exec. */
SEC("lsm/bprm_check_security")
int BPF_PROG(husk_bprm_check, struct linux_binprm *bprm)
{
	struct husk_env_info *env;
	struct path_buf *b;
	__u32 zero = 0;
	__u64 cgid;

	env = current_env(&cgid);
	if (!env)
		return 0;
	b = bpf_map_lookup_elem(&husk_lsm_scratch, &zero);
	if (!b)
		return -EACCES;
	if (bpf_probe_read_kernel_str(b->path, HUSK_FS_PATH_MAX, bprm->filename) < 0)
		return -EACCES;
	if (b->path[0] != '/')
		return 0; /* relative: file_open judged the file it resolved to */
	return check_path(env, cgid, HUSK_FS_KIND_EXEC, b->path);
}

/* dir/name of a path_* hook into the scratch buffer. */
static __always_inline int build_child_path(struct path_buf *b, const struct path *dir,
					    struct dentry *dentry)
{
	const unsigned char *name = BPF_CORE_READ(dentry, d_name.name);
	long n;

	if (!bpf_path_d_path)
		return -EACCES; /* no kfunc: fail closed */
	n = bpf_path_d_path((struct path *)dir, b->path, HUSK_FS_PATH_MAX);
	if (n <= 0 || n >= HUSK_FS_PATH_MAX)
		return -EACCES;
	n--; /* the length includes the NUL */
	if (n > 1)
		b->path[n++ & (HUSK_FS_PATH_MAX - 1)] = '/';
	n = n & (HUSK_FS_PATH_MAX - 1);
	if (bpf_probe_read_kernel_str(b->path + n, HUSK_FS_PATH_MAX - n, name) < 0)
		return -EACCES;
	return 0;
}

static __always_inline int check_write(const struct path *dir, struct dentry *dentry)
{
	struct husk_env_info *env;
	struct path_buf *b;
	__u32 zero = 0;
	__u64 cgid;

	env = current_env(&cgid);
	if (!env || !(env->flags & HUSK_ENV_F_LSM_FILES))
		return 0;
	b = bpf_map_lookup_elem(&husk_lsm_scratch, &zero);
	if (!b || build_child_path(b, dir, dentry))
		return -EACCES;
	return check_path(env, cgid, HUSK_FS_KIND_WRITE, b->path);
}

SEC("lsm/path_mkdir")
int BPF_PROG(husk_path_mkdir, const struct path *dir, struct dentry *dentry)
{
	return check_write(dir, dentry);
}

SEC("lsm/path_mknod")
int BPF_PROG(husk_path_mknod, const struct path *dir, struct dentry *dentry)
{
	return check_write(dir, dentry);
}

SEC("lsm/path_symlink")
int BPF_PROG(husk_path_symlink, const struct path *dir, struct dentry *dentry)
{
	return check_write(dir, dentry);
}

SEC("lsm/path_unlink")
int BPF_PROG(husk_path_unlink, const struct path *dir, struct dentry *dentry)
{
	return check_write(dir, dentry);
}

SEC("lsm/path_rmdir")
int BPF_PROG(husk_path_rmdir, const struct path *dir, struct dentry *dentry)
{
	return check_write(dir, dentry);
}

SEC("lsm/path_link")
int BPF_PROG(husk_path_link, struct dentry *old, const struct path *dir, struct dentry *dentry)
{
	return check_write(dir, dentry);
}

SEC("lsm/path_rename")
int BPF_PROG(husk_path_rename, const struct path *old_dir, struct dentry *old,
	     const struct path *new_dir, struct dentry *new_dentry)
{
	int rc = check_write(old_dir, old);

	return rc ? rc : check_write(new_dir, new_dentry);
}

SEC("lsm/path_truncate")
int BPF_PROG(husk_path_truncate, const struct path *path)
{
	struct husk_env_info *env;
	struct path_buf *b;
	__u32 zero = 0;
	__u64 cgid;

	env = current_env(&cgid);
	if (!env || !(env->flags & HUSK_ENV_F_LSM_FILES))
		return 0;
	b = bpf_map_lookup_elem(&husk_lsm_scratch, &zero);
	if (!b || bpf_d_path((struct path *)path, b->path, sizeof(b->path)) < 0)
		return -EACCES;
	return check_path(env, cgid, HUSK_FS_KIND_WRITE, b->path);
}

SEC("lsm/socket_create")
int BPF_PROG(husk_socket_create, int family, int type, int protocol, int kern)
{
	struct husk_env_info *env;
	struct husk_ev_deny *ev;
	__u64 cgid;

	if (kern)
		return 0;
	env = current_env(&cgid);
	if (!env || husk_decide_socket(family, type, protocol))
		return 0;
	ev = husk_deny_reserve(env, cgid, HUSK_DENY_SOCKET);
	if (ev) {
		ev->family = family;
		ev->type = type;
		ev->protocol = protocol;
		bpf_ringbuf_submit(ev, 0);
	}
	return -EPERM;
}

SEC("lsm/socket_connect")
int BPF_PROG(husk_socket_connect, struct socket *sock, struct sockaddr *address, int addrlen)
{
	__u32 protocol = BPF_CORE_READ(sock, sk, sk_protocol);
	struct husk_env_info *env;
	struct husk_verdict v;
	__u16 family;
	__u64 cgid;

	env = current_env(&cgid);
	if (!env)
		return 0;
	family = BPF_CORE_READ(address, sa_family);
	if (family == AF_INET && addrlen >= (int)sizeof(struct sockaddr_in)) {
		struct sockaddr_in *sin = (struct sockaddr_in *)address;

		husk_decide_net4(cgid, BPF_CORE_READ(sin, sin_addr.s_addr),
				 bpf_ntohs(BPF_CORE_READ(sin, sin_port)), protocol, &v);
	} else if (family == AF_INET6 && addrlen >= (int)sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)address;
		__u32 a[4];

		bpf_probe_read_kernel(a, sizeof(a), &sin6->sin6_addr);
		husk_decide_net6(cgid, a, bpf_ntohs(BPF_CORE_READ(sin6, sin6_port)), protocol, &v);
	} else {
		return 0; /* Unix sockets: the mount namespace confines them */
	}
	/* cgroup/connect* reports the denial; this is the second wall. */
	return v.allow ? 0 : -EPERM;
}

static __always_inline __u64 task_cgroup_id(struct task_struct *t)
{
	return BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id);
}

SEC("lsm/task_kill")
int BPF_PROG(husk_task_kill, struct task_struct *p, struct kernel_siginfo *info, int sig,
	     const struct cred *cred)
{
	struct husk_env_info *env;
	struct husk_ev_deny *ev;
	__u64 cgid;

	env = current_env(&cgid);
	if (!env || !sig || husk_decide_signal(cgid, task_cgroup_id(p)))
		return 0;
	ev = husk_deny_reserve(env, cgid, HUSK_DENY_SIGNAL);
	if (ev) {
		ev->nr = sig;
		ev->port = BPF_CORE_READ(p, tgid);
		bpf_ringbuf_submit(ev, 0);
	}
	return -EPERM;
}

SEC("lsm/ptrace_access_check")
int BPF_PROG(husk_ptrace_check, struct task_struct *child, unsigned int mode)
{
	struct husk_env_info *env;
	struct husk_ev_deny *ev;
	__u64 cgid;

	env = current_env(&cgid);
	if (!env)
		return 0;
	ev = husk_deny_reserve(env, cgid, HUSK_DENY_PTRACE);
	if (ev) {
		ev->port = BPF_CORE_READ(child, tgid);
		bpf_ringbuf_submit(ev, 0);
	}
	return -EPERM;
}
