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
#include <sys/stat.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "bpf.h"
#include "log.h"
#include "telemetry.h"

/* What the ring buffer filed under one slot since its last collection. */
struct slot_events {
	uint64_t cgid; /* 0: the slot is free */
	char env[HUSK_TEL_NAME];
	char fn[HUSK_TEL_NAME];
	uint64_t denials;
	char denial[HUSK_TEL_DENIALS][HUSK_TEL_TEXT];
	unsigned n_denial;
	bool oom;
};

/* A record as it came, with the names of its environment then. */
struct recent_event {
	char env[HUSK_TEL_NAME];
	char fn[HUSK_TEL_NAME];
	size_t size;
	union {
		struct husk_event_hdr hdr;
		struct husk_ev_deny deny;
		struct husk_ev_exec exec;
		struct husk_ev_fork fork;
		struct husk_ev_exit exit;
	} u;
};

/* A live follower (huskctl events --follow): the write end of its pipe. */
struct follower {
	int fd;
	uint64_t dropped; /* lines its pipe had no room for */
};

struct husk_telemetry {
	struct husk_bpf *bpf;
	struct ring_buffer *rb;
	pthread_t thread;
	int stop_fd;
	pthread_mutex_t lock;  /* the ring buffer, slots, recent events, followers */
	uint64_t unattributed; /* events naming no open slot */
	struct slot_events slots[HUSK_BPF_MAX_ENVS];
	struct recent_event recent[HUSK_TEL_RECENT];
	uint64_t n_recent; /* records ever kept; recent[n % HUSK_TEL_RECENT] is next */
	struct follower followers[HUSK_TEL_FOLLOWERS];
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

static const char *const event_types[] = {
    [HUSK_EV_DENY] = "denial", [HUSK_EV_EXEC] = "exec", [HUSK_EV_FORK] = "fork",
    [HUSK_EV_EXIT] = "exit",   [HUSK_EV_OOM] = "oom",	[HUSK_EV_BENCH] = "bench",
};

const char *husk_tel_event_type(unsigned type)
{
	if (type < sizeof(event_types) / sizeof(event_types[0]) && event_types[type])
		return event_types[type];
	return "unknown";
}

static struct json_object *event_json(const struct recent_event *r)
{
	const struct husk_event_hdr *h = &r->u.hdr;
	struct json_object *o = json_object_new_object();
	char text[HUSK_TEL_TEXT];

	if (!o)
		return NULL;
	json_object_object_add(o, "Time", json_object_new_int64((int64_t)h->ts_ns));
	json_object_object_add(o, "Type", json_object_new_string(husk_tel_event_type(h->type)));
	json_object_object_add(o, "Environment", json_object_new_string(r->env));
	json_object_object_add(o, "Function", r->fn[0] ? json_object_new_string(r->fn) : NULL);
	json_object_object_add(o, "CgroupId", json_object_new_int64((int64_t)h->cgid));
	json_object_object_add(o, "Pid", json_object_new_int64(h->pid));
	if (h->type == HUSK_EV_DENY && r->size >= sizeof(r->u.deny)) {
		husk_tel_describe_denial(&r->u.deny, text, sizeof(text));
		json_object_object_add(o, "Denial", json_object_new_string(text));
	} else if (h->type == HUSK_EV_EXEC && r->size >= sizeof(r->u.exec)) {
		json_object_object_add(
		    o, "Comm",
		    json_object_new_string_len(r->u.exec.comm,
					       strnlen(r->u.exec.comm, sizeof(r->u.exec.comm))));
		json_object_object_add(
		    o, "Filename",
		    json_object_new_string_len(
			r->u.exec.filename,
			strnlen(r->u.exec.filename, sizeof(r->u.exec.filename))));
	} else if (h->type == HUSK_EV_FORK && r->size >= sizeof(r->u.fork)) {
		json_object_object_add(o, "ChildPid", json_object_new_int64(r->u.fork.child_pid));
	} else if (h->type == HUSK_EV_EXIT && r->size >= sizeof(r->u.exit)) {
		json_object_object_add(o, "ExitCode", json_object_new_int64(r->u.exit.exit_code));
	}
	return o;
}

/* One JSON line per follower; a follower that cannot keep up loses lines, counted. */
static void feed_followers(struct husk_telemetry *t, const struct recent_event *r)
{
	struct json_object *o = NULL;
	const char *line = NULL;
	size_t len = 0;
	unsigned i;

	for (i = 0; i < HUSK_TEL_FOLLOWERS; i++) {
		struct follower *f = &t->followers[i];

		if (f->fd < 0)
			continue;
		if (!line) {
			o = event_json(r);
			line = o ? json_object_to_json_string_ext(
				       o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
				 : NULL;
			if (!line)
				return;
			len = strlen(line);
		}
		/* A line is far below PIPE_BUF, so it is written whole or not at all. */
		if (write(f->fd, line, len) != (ssize_t)len || write(f->fd, "\n", 1) != 1)
			f->dropped++;
	}
	json_object_put(o);
}

static void keep_recent(struct husk_telemetry *t, const struct slot_events *s, const void *data,
			size_t size)
{
	struct recent_event *r = &t->recent[t->n_recent++ % HUSK_TEL_RECENT];

	memcpy(r->env, s->env, sizeof(r->env));
	memcpy(r->fn, s->fn, sizeof(r->fn));
	r->size = size < sizeof(r->u) ? size : sizeof(r->u);
	memcpy(&r->u, data, r->size);
	feed_followers(t, r);
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
	keep_recent(t, s, data, size);
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

	unsigned i;

	if (!t)
		return -ENOMEM;
	t->bpf = b;
	for (i = 0; i < HUSK_TEL_FOLLOWERS; i++)
		t->followers[i].fd = -1;
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
	unsigned i;

	if (!t)
		return;
	if (write(t->stop_fd, &one, sizeof(one)) != sizeof(one))
		pr_warn("telemetry: cannot stop the consumer: %s", strerror(errno));
	pthread_join(t->thread, NULL);
	/* The API is down by now: no reader is left on these pipes. */
	for (i = 0; i < HUSK_TEL_FOLLOWERS; i++)
		if (t->followers[i].fd >= 0)
			close(t->followers[i].fd);
	if (t->unattributed)
		pr_info("telemetry: %llu events named no environment",
			(unsigned long long)t->unattributed);
	ring_buffer__free(t->rb);
	close(t->stop_fd);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

void husk_tel_env_open(struct husk_telemetry *t, unsigned slot, uint64_t cgid, const char *env)
{
	if (slot >= HUSK_BPF_MAX_ENVS)
		return;
	pthread_mutex_lock(&t->lock);
	memset(&t->slots[slot], 0, sizeof(t->slots[slot]));
	t->slots[slot].cgid = cgid;
	snprintf(t->slots[slot].env, sizeof(t->slots[slot].env), "%s", env ? env : "");
	pthread_mutex_unlock(&t->lock);
}

void husk_tel_env_bind(struct husk_telemetry *t, unsigned slot, const char *fn)
{
	if (slot >= HUSK_BPF_MAX_ENVS)
		return;
	pthread_mutex_lock(&t->lock);
	snprintf(t->slots[slot].fn, sizeof(t->slots[slot].fn), "%s", fn);
	pthread_mutex_unlock(&t->lock);
}

void husk_tel_env_close(struct husk_telemetry *t, unsigned slot, uint64_t cgid)
{
	if (slot >= HUSK_BPF_MAX_ENVS)
		return;
	pthread_mutex_lock(&t->lock);
	/* The pool may have given the slot to a new environment already. */
	if (t->slots[slot].cgid == cgid)
		memset(&t->slots[slot], 0, sizeof(t->slots[slot]));
	pthread_mutex_unlock(&t->lock);
}

struct json_object *husk_tel_recent_json(struct husk_telemetry *t)
{
	struct json_object *list = json_object_new_array();
	uint64_t i, first;

	if (!list)
		return NULL;
	pthread_mutex_lock(&t->lock);
	ring_buffer__consume(t->rb);
	first = t->n_recent > HUSK_TEL_RECENT ? t->n_recent - HUSK_TEL_RECENT : 0;
	for (i = first; i < t->n_recent; i++)
		json_object_array_add(list, event_json(&t->recent[i % HUSK_TEL_RECENT]));
	pthread_mutex_unlock(&t->lock);
	return list;
}

int husk_tel_follow(struct husk_telemetry *t, int *read_fd)
{
	int p[2], rc = -EBUSY;
	unsigned i;

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK))
		return -errno;
	pthread_mutex_lock(&t->lock);
	for (i = 0; i < HUSK_TEL_FOLLOWERS; i++) {
		if (t->followers[i].fd >= 0)
			continue;
		t->followers[i] = (struct follower){.fd = p[1]};
		rc = 0;
		break;
	}
	pthread_mutex_unlock(&t->lock);
	if (rc) {
		close(p[0]);
		close(p[1]);
		return rc;
	}
	*read_fd = p[0];
	return 0;
}

void husk_tel_unfollow(struct husk_telemetry *t, int read_fd)
{
	struct stat a, b;
	unsigned i;

	/* The follower whose pipe read_fd reads: same pipe inode. */
	if (fstat(read_fd, &a))
		return;
	pthread_mutex_lock(&t->lock);
	for (i = 0; i < HUSK_TEL_FOLLOWERS; i++) {
		struct follower *f = &t->followers[i];

		if (f->fd < 0 || fstat(f->fd, &b) || a.st_ino != b.st_ino)
			continue;
		if (f->dropped)
			pr_info("telemetry: a follower missed %llu events (it read too slowly)",
				(unsigned long long)f->dropped);
		close(f->fd);
		f->fd = -1;
	}
	pthread_mutex_unlock(&t->lock);
	close(read_fd);
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
