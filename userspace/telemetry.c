// SPDX-License-Identifier: GPL-2.0
/* The ring-buffer consumer and per-invocation stats (see telemetry.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "bpf.h"
#include "log.h"
#include "telemetry.h"

/* What the ring buffer filed under one slot since its last collection. */
struct slot_events {
	uint64_t cgid; /* 0: the slot is free */
	uint64_t denials;
	char denial[HUSK_TEL_DENIALS][HUSK_TEL_TEXT];
	unsigned n_denial;
	bool oom;
};

struct husk_telemetry {
	struct husk_bpf *bpf;
	struct ring_buffer *rb;
	pthread_t thread;
	int stop_fd;
	pthread_mutex_t lock;  /* the ring buffer and slots */
	uint64_t unattributed; /* events naming no open slot */
	struct slot_events slots[HUSK_BPF_MAX_ENVS];
};

void husk_tel_syscall_name(uint32_t nr, char *buf, size_t len)
{
	char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, (int)nr);

	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "syscall_%u", nr);
	free(name);
}

static const char *proto_name(uint32_t protocol)
{
	switch (protocol) {
	case 6:
		return "tcp";
	case 17:
		return "udp";
	}
	return "ip";
}

static void addr_str(const struct husk_ev_deny *ev, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(ev->family == AF_INET6 ? AF_INET6 : AF_INET, ev->addr, a, sizeof(a));
	snprintf(buf, len, ev->family == AF_INET6 ? "[%s]:%u/%s" : "%s:%u/%s", a, ev->port,
		 proto_name(ev->protocol));
}

static void describe_net(const struct husk_ev_deny *ev, char *buf, size_t len)
{
	char where[80];

	addr_str(ev, where, sizeof(where));
	if (ev->reason == HUSK_DENY_BIND)
		snprintf(buf, len, "bind %s denied: environments bind only on loopback", where);
	else if (ev->reason == HUSK_DENY_EGRESS_PORT && ev->rule >= 0)
		snprintf(buf, len,
			 "connect %s denied: Policy.Network.Egress[%d] covers the address but "
			 "not this port/protocol",
			 where, ev->rule);
	else
		snprintf(buf, len, "connect %s denied: no Policy.Network.Egress rule allows it",
			 where);
}

static const char *const file_rule[] = {
    [HUSK_DENY_FILE_READ] = "Policy.Files.Read",
    [HUSK_DENY_FILE_WRITE] = "Policy.Files.Write",
    [HUSK_DENY_FILE_EXEC] = "Policy.Files.Exec",
};

void husk_tel_describe_denial(const struct husk_ev_deny *ev, char *buf, size_t len)
{
	char name[64];

	switch (ev->reason) {
	case HUSK_DENY_EGRESS:
	case HUSK_DENY_EGRESS_PORT:
	case HUSK_DENY_BIND:
		describe_net(ev, buf, len);
		return;
	case HUSK_DENY_SOCKET:
		snprintf(buf, len,
			 "socket(family %u, type %u, protocol %u) denied: only TCP, UDP and Unix "
			 "sockets",
			 ev->family, ev->type & 0xf, ev->protocol);
		return;
	case HUSK_DENY_DEVICE:
		snprintf(buf, len, "device %c %u:%u denied: not in the environment's /dev",
			 ev->family == 1 ? 'b' : 'c', ev->type, ev->protocol);
		return;
	case HUSK_DENY_FILE_READ:
	case HUSK_DENY_FILE_WRITE:
	case HUSK_DENY_FILE_EXEC:
		snprintf(buf, len, "%.*s denied: outside %s", HUSK_FS_PATH_MAX, ev->path,
			 file_rule[ev->reason]);
		return;
	case HUSK_DENY_LANDLOCK:
		husk_tel_syscall_name(ev->nr, name, sizeof(name));
		snprintf(buf, len, "%s %.*s denied (EACCES): outside Policy.Files (Landlock)", name,
			 HUSK_FS_PATH_MAX, ev->path);
		return;
	case HUSK_DENY_SYSCALL:
		husk_tel_syscall_name(ev->nr, name, sizeof(name));
		snprintf(buf, len, "syscall %s denied by the seccomp profile", name);
		return;
	case HUSK_DENY_SIGNAL:
		snprintf(buf, len, "signal %u to pid %u denied: outside the environment", ev->nr,
			 ev->port);
		return;
	case HUSK_DENY_PTRACE:
		snprintf(buf, len, "ptrace of pid %u denied", ev->port);
		return;
	}
	snprintf(buf, len, "denial of kind %u", ev->reason);
}

static struct slot_events *slot_of(struct husk_telemetry *t, const struct husk_event_hdr *h)
{
	struct slot_events *s;

	if (h->slot >= HUSK_BPF_MAX_ENVS)
		return NULL;
	s = &t->slots[h->slot];
	return s->cgid == h->cgid ? s : NULL;
}

/* Called by libbpf for every record, with t->lock held. */
static int on_event(void *arg, void *data, size_t size)
{
	const struct husk_event_hdr *h = data;
	struct husk_telemetry *t = arg;
	struct slot_events *s;

	if (size < sizeof(*h))
		return 0;
	s = slot_of(t, h);
	if (!s) {
		t->unattributed++;
		return 0;
	}
	if (h->type == HUSK_EV_OOM) {
		s->oom = true;
	} else if (h->type == HUSK_EV_DENY && size >= sizeof(struct husk_ev_deny)) {
		s->denials++;
		if (s->n_denial < HUSK_TEL_DENIALS)
			husk_tel_describe_denial(data, s->denial[s->n_denial++], HUSK_TEL_TEXT);
	}
	return 0;
}

static void consume(struct husk_telemetry *t)
{
	int rc;

	pthread_mutex_lock(&t->lock);
	rc = ring_buffer__consume(t->rb);
	pthread_mutex_unlock(&t->lock);
	if (rc < 0)
		pr_warn("telemetry: consuming the ring buffer: %s", strerror(-rc));
}

static void *tel_thread(void *arg)
{
	struct husk_telemetry *t = arg;
	struct epoll_event ev[2];
	int ep, n, i;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		pr_err("telemetry: epoll: %s", strerror(errno));
		return NULL;
	}
	ev[0] = (struct epoll_event){.events = EPOLLIN, .data.u32 = 0};
	epoll_ctl(ep, EPOLL_CTL_ADD, ring_buffer__epoll_fd(t->rb), &ev[0]);
	ev[0] = (struct epoll_event){.events = EPOLLIN, .data.u32 = 1};
	epoll_ctl(ep, EPOLL_CTL_ADD, t->stop_fd, &ev[0]);
	for (;;) {
		n = epoll_wait(ep, ev, 2, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pr_err("telemetry: epoll_wait: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n && ev[i].data.u32 == 0; i++)
			;
		if (i < n)
			break; /* stop */
		consume(t);
	}
	close(ep);
	return NULL;
}

int husk_tel_start(struct husk_bpf *b, struct husk_telemetry **out)
{
	struct husk_telemetry *t = calloc(1, sizeof(*t));
	int rc;

	if (!t)
		return -ENOMEM;
	t->bpf = b;
	pthread_mutex_init(&t->lock, NULL);
	t->stop_fd = eventfd(0, EFD_CLOEXEC);
	t->rb = ring_buffer__new(husk_bpf_events_fd(b), on_event, t, NULL);
	if (t->stop_fd < 0 || !t->rb) {
		rc = t->rb ? -errno : -(errno ? errno : ENOMEM);
		goto fail;
	}
	rc = -pthread_create(&t->thread, NULL, tel_thread, t);
	if (rc)
		goto fail;
	*out = t;
	return 0;
fail:
	ring_buffer__free(t->rb);
	if (t->stop_fd >= 0)
		close(t->stop_fd);
	free(t);
	return rc;
}

void husk_tel_stop(struct husk_telemetry *t)
{
	uint64_t one = 1;

	if (!t)
		return;
	if (write(t->stop_fd, &one, sizeof(one)) != sizeof(one))
		pr_warn("telemetry: cannot stop the consumer: %s", strerror(errno));
	pthread_join(t->thread, NULL);
	if (t->unattributed)
		pr_info("telemetry: %llu events named no environment",
			(unsigned long long)t->unattributed);
	ring_buffer__free(t->rb);
	close(t->stop_fd);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

void husk_tel_env_open(struct husk_telemetry *t, unsigned slot, uint64_t cgid)
{
	if (slot >= HUSK_BPF_MAX_ENVS)
		return;
	pthread_mutex_lock(&t->lock);
	memset(&t->slots[slot], 0, sizeof(t->slots[slot]));
	t->slots[slot].cgid = cgid;
	pthread_mutex_unlock(&t->lock);
}

void husk_tel_env_close(struct husk_telemetry *t, unsigned slot)
{
	husk_tel_env_open(t, slot, 0);
}

/* Read and zero one counter that BPF adds to concurrently. */
static uint64_t take(volatile uint64_t *c)
{
	return *c ? __atomic_exchange_n(c, 0, __ATOMIC_RELAXED) : 0;
}

/* Keep the HUSK_TEL_TOP largest counts, largest first. */
static void add_top(struct husk_inv_stats *st, uint32_t nr, uint64_t n)
{
	unsigned i;

	if (st->n_top < HUSK_TEL_TOP)
		i = st->n_top++;
	else if (n > st->top[HUSK_TEL_TOP - 1].count)
		i = HUSK_TEL_TOP - 1;
	else
		return;
	for (; i > 0 && st->top[i - 1].count < n; i--)
		st->top[i] = st->top[i - 1];
	st->top[i] = (struct husk_syscall_count){nr, n};
}

static void take_counters(struct husk_telemetry *t, unsigned slot, struct husk_inv_stats *st)
{
	volatile struct husk_counters *c;
	uint32_t nr;
	uint64_t n;

	c = (volatile struct husk_counters *)husk_bpf_counters(t->bpf, slot);
	if (!c)
		return;
	for (nr = 0; nr < HUSK_NR_SYSCALLS; nr++) {
		n = take(&c->syscalls[nr]);
		if (!n)
			continue;
		st->syscalls += n;
		add_top(st, nr, n);
	}
	st->rx_bytes = take(&c->rx_bytes);
	take(&c->rx_packets);
	st->tx_bytes = take(&c->tx_bytes);
	take(&c->tx_packets);
	st->file_opens = take(&c->file_opens);
	st->execs = take(&c->execs);
	st->processes = take(&c->forks);
	st->denials = take(&c->denials);
	st->lost_events = take(&c->lost_events);
}

void husk_tel_collect(struct husk_telemetry *t, unsigned slot, struct husk_inv_stats *st)
{
	struct slot_events *s;
	unsigned i;

	memset(st, 0, sizeof(*st));
	if (!t || slot >= HUSK_BPF_MAX_ENVS)
		return;
	st->valid = true;
	pthread_mutex_lock(&t->lock);
	ring_buffer__consume(t->rb);
	s = &t->slots[slot];
	for (i = 0; i < s->n_denial; i++)
		memcpy(st->denial[i], s->denial[i], HUSK_TEL_TEXT);
	st->n_denial = s->n_denial;
	st->denials_received = s->denials;
	st->oom = s->oom;
	s->n_denial = 0;
	s->denials = 0;
	s->oom = false;
	pthread_mutex_unlock(&t->lock);
	take_counters(t, slot, st);
}
