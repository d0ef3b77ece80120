// SPDX-License-Identifier: GPL-2.0
/*
 * husk's always-on programs: the cgroup programs that enforce the network
 * and device rules of every environment, and the tracepoints that count and
 * report what happens inside. huskd attaches the cgroup programs once, to
 * the v2 parent group of all environments; each program finds the
 * environment by the cgroup id of the task (or socket) and lets everything
 * that is no environment's pass.
 */
#include "vmlinux.h"
#include <asm/unistd.h> /* syscall numbers: only #defines */
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "husk_decide.h"

char LICENSE[] SEC("license") = "GPL";

#define EACCES 13
#define LOOPBACK_IFINDEX 1 /* lo is always 1 in a network namespace */

static __always_inline struct husk_env_info *current_env(__u64 *cgid)
{
	*cgid = bpf_get_current_cgroup_id();
	return bpf_map_lookup_elem(&husk_envs, cgid);
}

static __always_inline void deny_net(struct husk_env_info *env, __u64 cgid,
				     const struct husk_verdict *v, __u32 family, const void *addr,
				     __u32 addr_len, __u32 port, __u32 protocol)
{
	struct husk_ev_deny *ev = husk_deny_reserve(env, cgid, v->reason);

	if (!ev)
		return;
	ev->rule = v->rule;
	ev->family = family;
	ev->port = port;
	ev->protocol = protocol;
	if (addr_len > sizeof(ev->addr))
		addr_len = sizeof(ev->addr);
	bpf_probe_read_kernel(ev->addr, addr_len & 31, addr);
	bpf_ringbuf_submit(ev, 0);
}

static __always_inline int check_connect4(struct bpf_sock_addr *ctx)
{
	struct husk_verdict v;
	struct husk_env_info *env;
	__u32 addr = ctx->user_ip4;
	__u32 port = bpf_ntohs(ctx->user_port);
	__u64 cgid;

	env = current_env(&cgid);
	if (!env)
		return 1;
	husk_decide_net4(cgid, addr, port, ctx->protocol, &v);
	if (v.allow)
		return 1;
	deny_net(env, cgid, &v, AF_INET, &addr, 4, port, ctx->protocol);
	return 0;
}

static __always_inline int check_connect6(struct bpf_sock_addr *ctx)
{
	struct husk_verdict v;
	struct husk_env_info *env;
	__u32 addr[4];
	__u32 port = bpf_ntohs(ctx->user_port);
	__u64 cgid;

	env = current_env(&cgid);
	if (!env)
		return 1;
	addr[0] = ctx->user_ip6[0];
	addr[1] = ctx->user_ip6[1];
	addr[2] = ctx->user_ip6[2];
	addr[3] = ctx->user_ip6[3];
	husk_decide_net6(cgid, addr, port, ctx->protocol, &v);
	if (v.allow)
		return 1;
	deny_net(env, cgid, &v, AF_INET6, addr, 16, port, ctx->protocol);
	return 0;
}

SEC("cgroup/connect4")
int husk_connect4(struct bpf_sock_addr *ctx)
{
	return check_connect4(ctx);
}

SEC("cgroup/sendmsg4")
int husk_sendmsg4(struct bpf_sock_addr *ctx)
{
	return check_connect4(ctx);
}

SEC("cgroup/connect6")
int husk_connect6(struct bpf_sock_addr *ctx)
{
	return check_connect6(ctx);
}

SEC("cgroup/sendmsg6")
int husk_sendmsg6(struct bpf_sock_addr *ctx)
{
	return check_connect6(ctx);
}

static __always_inline int deny_bind(struct husk_env_info *env, __u64 cgid, __u32 family,
				     const void *addr, __u32 len, __u32 port, __u32 protocol)
{
	struct husk_verdict v = {.allow = 0, .reason = HUSK_DENY_BIND, .rule = -1};

	deny_net(env, cgid, &v, family, addr, len, port, protocol);
	return 0;
}

SEC("cgroup/bind4")
int husk_bind4(struct bpf_sock_addr *ctx)
{
	struct husk_env_info *env;
	__u32 addr = ctx->user_ip4;
	__u64 cgid;

	env = current_env(&cgid);
	if (!env || husk_decide_bind4(addr))
		return 1;
	return deny_bind(env, cgid, AF_INET, &addr, 4, bpf_ntohs(ctx->user_port), ctx->protocol);
}

SEC("cgroup/bind6")
int husk_bind6(struct bpf_sock_addr *ctx)
{
	struct husk_env_info *env;
	__u32 addr[4];
	__u64 cgid;

	env = current_env(&cgid);
	if (!env)
		return 1;
	addr[0] = ctx->user_ip6[0];
	addr[1] = ctx->user_ip6[1];
	addr[2] = ctx->user_ip6[2];
	addr[3] = ctx->user_ip6[3];
	if (husk_decide_bind6(addr))
		return 1;
	return deny_bind(env, cgid, AF_INET6, addr, 16, bpf_ntohs(ctx->user_port), ctx->protocol);
}

SEC("cgroup/sock_create")
int husk_sock_create(struct bpf_sock *sk)
{
	struct husk_env_info *env;
	struct husk_ev_deny *ev;
	__u64 cgid;

	env = current_env(&cgid);
	if (!env || husk_decide_socket(sk->family, sk->type, sk->protocol))
		return 1;
	ev = husk_deny_reserve(env, cgid, HUSK_DENY_SOCKET);
	if (ev) {
		ev->family = sk->family;
		ev->type = sk->type;
		ev->protocol = sk->protocol;
		bpf_ringbuf_submit(ev, 0);
	}
	return 0;
}

/* Bytes and packets per environment, not counting its own loopback. */
static __always_inline void count_skb(struct __sk_buff *skb, bool ingress)
{
	__u64 cgid = bpf_skb_cgroup_id(skb);
	struct husk_env_info *env;
	struct husk_counters *c;

	if (skb->ifindex == LOOPBACK_IFINDEX)
		return;
	env = bpf_map_lookup_elem(&husk_envs, &cgid);
	if (!env)
		return;
	c = husk_counters_of(env);
	if (!c)
		return;
	if (ingress) {
		husk_count(&c->rx_bytes, skb->len);
		husk_count(&c->rx_packets, 1);
	} else {
		husk_count(&c->tx_bytes, skb->len);
		husk_count(&c->tx_packets, 1);
	}
}

SEC("cgroup_skb/ingress")
int husk_skb_ingress(struct __sk_buff *skb)
{
	count_skb(skb, true);
	return 1;
}

SEC("cgroup_skb/egress")
int husk_skb_egress(struct __sk_buff *skb)
{
	count_skb(skb, false);
	return 1;
}

SEC("cgroup/dev")
int husk_dev(struct bpf_cgroup_dev_ctx *ctx)
{
	__u32 type = ctx->access_type & 0xffff;
	struct husk_env_info *env;
	struct husk_ev_deny *ev;
	__u64 cgid;

	env = current_env(&cgid);
	if (!env || husk_decide_dev(type, ctx->major, ctx->minor))
		return 1;
	ev = husk_deny_reserve(env, cgid, HUSK_DENY_DEVICE);
	if (ev) {
		ev->family = type;
		ev->type = ctx->major;
		ev->protocol = ctx->minor;
		bpf_ringbuf_submit(ev, 0);
	}
	return 0;
}

SEC("raw_tp/sys_enter")
int husk_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 nr = ctx->args[1];
	struct husk_env_info *env;
	struct husk_counters *c;
	__u64 cgid;

	env = current_env(&cgid);
	if (!env)
		return 0;
	c = husk_counters_of(env);
	if (!c)
		return 0;
	husk_count(&c->syscalls[nr & (HUSK_NR_SYSCALLS - 1)], 1);
	if (nr == __NR_open || nr == __NR_openat || nr == __NR_openat2 || nr == __NR_creat)
		husk_count(&c->file_opens, 1);
	return 0;
}

static __always_inline bool sys_denied(const struct husk_env_info *env, __u64 nr)
{
	if (nr >= HUSK_NR_SYSCALLS)
		return false;
	return env->sys_denied[(nr / 64) & (HUSK_NR_SYSCALLS / 64 - 1)] & (1ull << (nr % 64));
}

/* The path argument of the file syscalls Landlock answers EACCES. */
static __always_inline const char *file_syscall_path(struct pt_regs *regs, __u64 nr)
{
	switch (nr) {
	case __NR_open:
	case __NR_creat:
	case __NR_execve:
	case __NR_mkdir:
	case __NR_unlink:
	case __NR_rmdir:
	case __NR_truncate:
	case __NR_rename:
	case __NR_link:
	case __NR_symlink:
	case __NR_mknod:
		return (const char *)PT_REGS_PARM1_CORE_SYSCALL(regs);
	case __NR_openat:
	case __NR_openat2:
	case __NR_execveat:
	case __NR_mkdirat:
	case __NR_unlinkat:
	case __NR_renameat:
	case __NR_renameat2:
	case __NR_mknodat:
		return (const char *)PT_REGS_PARM2_CORE_SYSCALL(regs);
	}
	return NULL;
}

/*
 * A denied syscall never reaches sys_enter (seccomp runs first), but it does
 * leave through sys_exit with the errno of the profile: that, for a syscall
 * the profile denies unconditionally, is a syscall denial. EACCES from a
 * file syscall is what Landlock answers, where Landlock enforces the file
 * rules.
 */
SEC("raw_tp/sys_exit")
int husk_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	long ret = (long)ctx->args[1];
	struct husk_env_info *env;
	struct husk_ev_deny *ev;
	const char *path;
	__u64 cgid, nr;

	if (ret >= 0 || ret < -4095)
		return 0;
	env = current_env(&cgid);
	if (!env)
		return 0;
	nr = BPF_CORE_READ(regs, orig_ax);
	if (ret == -(long)env->sys_errno && sys_denied(env, nr)) {
		ev = husk_deny_reserve(env, cgid, HUSK_DENY_SYSCALL);
		if (ev) {
			ev->nr = nr;
			bpf_ringbuf_submit(ev, 0);
		}
		return 0;
	}
	if (ret != -EACCES || (env->flags & HUSK_ENV_F_LSM_FILES))
		return 0;
	path = file_syscall_path(regs, nr);
	if (!path)
		return 0;
	ev = husk_deny_reserve(env, cgid, HUSK_DENY_LANDLOCK);
	if (ev) {
		ev->nr = nr;
		bpf_probe_read_user_str(ev->path, sizeof(ev->path), path);
		bpf_ringbuf_submit(ev, 0);
	}
	return 0;
}

/* Raw tracepoints need no tracefs: the BTF-typed arguments come straight in. */
SEC("raw_tp/sched_process_exec")
int BPF_PROG(husk_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct husk_env_info *env;
	struct husk_counters *c;
	struct husk_ev_exec *ev;
	__u64 cgid;

	env = current_env(&cgid);
	if (!env)
		return 0;
	c = husk_counters_of(env);
	if (c)
		husk_count(&c->execs, 1);
	ev = husk_event_reserve(c, sizeof(*ev), cgid, env->slot, HUSK_EV_EXEC);
	if (!ev)
		return 0;
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	bpf_probe_read_kernel_str(ev->filename, sizeof(ev->filename),
				  BPF_CORE_READ(bprm, filename));
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

/* Processes only: a new thread shares its parent's tgid. */
SEC("raw_tp/sched_process_fork")
int BPF_PROG(husk_fork, struct task_struct *parent, struct task_struct *child)
{
	struct husk_env_info *env;
	struct husk_counters *c;
	struct husk_ev_fork *ev;
	__u32 pid, tgid;
	__u64 cgid;

	pid = BPF_CORE_READ(child, pid);
	tgid = BPF_CORE_READ(child, tgid);
	if (pid != tgid)
		return 0;
	env = current_env(&cgid);
	if (!env)
		return 0;
	c = husk_counters_of(env);
	if (c)
		husk_count(&c->forks, 1);
	ev = husk_event_reserve(c, sizeof(*ev), cgid, env->slot, HUSK_EV_FORK);
	if (!ev)
		return 0;
	ev->child_pid = pid;
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

SEC("raw_tp/sched_process_exit")
int husk_exit(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct task_struct *task;
	struct husk_env_info *env;
	struct husk_ev_exit *ev;
	__u64 cgid;

	if ((__u32)id != (__u32)(id >> 32))
		return 0;
	env = current_env(&cgid);
	if (!env)
		return 0;
	ev = husk_event_reserve(husk_counters_of(env), sizeof(*ev), cgid, env->slot, HUSK_EV_EXIT);
	if (!ev)
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	ev->exit_code = BPF_CORE_READ(task, exit_code);
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

/* The OOM killer runs in the allocating task, which is in the victim's memcg. */
SEC("raw_tp/mark_victim")
int BPF_PROG(husk_oom, struct task_struct *victim)
{
	struct husk_env_info *env;
	struct husk_event_hdr *ev;
	__u64 cgid;

	env = current_env(&cgid);
	if (!env)
		return 0;
	ev = husk_event_reserve(husk_counters_of(env), sizeof(*ev), cgid, env->slot, HUSK_EV_OOM);
	if (!ev)
		return 0;
	ev->pid = BPF_CORE_READ(victim, tgid);
	bpf_ringbuf_submit(ev, 0);
	return 0;
}
