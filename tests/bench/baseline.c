// SPDX-License-Identifier: GPL-2.0
/*
 * The baseline: the same husk-init and the same bootstrap under bubblewrap,
 * with namespaces equivalent to a husk jail, and the bench speaking the
 * channel protocol (guest-init/protocol.h) on fd 3 itself, the way huskd
 * does. What is left out compared with huskd is exactly what husk adds: the
 * HTTP API, the registry, cgroups, the seccomp filter and freezing.
 *
 * bwrap creates the user namespace (--unshare-all) but, as huskd does for a
 * jail, the bench writes its uid and gid maps from outside (--info-fd and
 * --userns-block-fd): a map bwrap writes itself comes with "deny" in
 * /proc/PID/setgroups, and husk-init's setgroups(0, NULL) before it drops to
 * the runtime's 993/990 would then fail.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest-init/protocol.h"
#include "tests/bench/bench.h"

/* As huskd allows: a runtime that takes longer than this to start failed. */
#define READY_TIMEOUT_MS 10000
#define ANSWER_TIMEOUT_MS 30000
/* How long husk-init may take to exit once its channel closed. */
#define EXIT_TIMEOUT_MS 5000

/* The sandbox's 65536 ids map onto host ids from here (huskd's jails use lower ones). */
#define BASELINE_UID_BASE 0x60000000u
#define BASELINE_UID_RANGE 65536u
/* Where bwrap finds the info and user-namespace block pipes. */
#define INFO_FD 4
#define BLOCK_FD 5
#define INFO_FD_STR "4"
#define BLOCK_FD_STR "5"
#define INFO_MAX 512

#define BASELINE_ARN "arn:aws:lambda:us-east-1:000000000000:function:baseline"
#define BASELINE_TRACE "Root=1-00000000-000000000000000000000000;Sampled=0"

/* The runtime's environment: what huskd sends for a 128 MB function. */
static const char *const runtime_env[] = {
	"AWS_LAMBDA_FUNCTION_NAME=baseline",
	"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
	"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
	"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/baseline",
	"AWS_LAMBDA_LOG_STREAM_NAME=2024/01/01/[$LATEST]0000000000000001",
	"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
	"AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001",
	"AWS_REGION=us-east-1",
	"AWS_DEFAULT_REGION=us-east-1",
	"_HANDLER=bootstrap",
	"LAMBDA_TASK_ROOT=/var/task",
	"LAMBDA_RUNTIME_DIR=/var/runtime",
	"PATH=/usr/local/bin:/usr/bin/:/bin:/opt/bin",
	"LD_LIBRARY_PATH=/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:"
	"/opt/lib",
	"LANG=en_US.UTF-8",
	"TZ=:UTC",
};

static int build_spawn(struct baseline *b)
{
	struct husk_spawn sp = { .uid = 993, .gid = 990, .nofile = 1024, .nproc = 0, .filter_len = 0 };
	size_t i, off;

	for (i = 0; i < sizeof(runtime_env) / sizeof(runtime_env[0]); i++)
		sp.env_len += strlen(runtime_env[i]) + 1;
	b->spawn_len = sizeof(sp) + sp.env_len;
	b->spawn = malloc(b->spawn_len);
	if (!b->spawn)
		return -ENOMEM;
	memcpy(b->spawn, &sp, sizeof(sp));
	off = sizeof(sp);
	for (i = 0; i < sizeof(runtime_env) / sizeof(runtime_env[0]); i++) {
		memcpy(b->spawn + off, runtime_env[i], strlen(runtime_env[i]) + 1);
		off += strlen(runtime_env[i]) + 1;
	}
	return 0;
}

static int add_arg(struct baseline *b, unsigned *n, const char *arg)
{
	if (*n >= BASELINE_ARGS_MAX - 1)
		return -E2BIG;
	b->argv[(*n)++] = (char *)arg;
	b->argv[*n] = NULL;
	return 0;
}

static int add_args(struct baseline *b, unsigned *n, const char *a, const char *c, const char *d)
{
	int rc = add_arg(b, n, a);

	if (!rc && c)
		rc = add_arg(b, n, c);
	if (!rc && d)
		rc = add_arg(b, n, d);
	return rc;
}

/*
 * The host's top-level directories as a husk jail has them: merged-/usr
 * links recreated as links, real directories bound read-only.
 */
static int add_toplevel(struct baseline *b, unsigned *n)
{
	static const char *const names[] = { "/bin", "/sbin", "/lib", "/lib32", "/lib64",
					     "/libx32" };
	char target[256];
	struct stat st;
	unsigned i, nl = 0;
	ssize_t len;
	int rc = 0;

	for (i = 0; i < sizeof(names) / sizeof(names[0]) && !rc; i++) {
		if (lstat(names[i], &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			rc = add_args(b, n, "--ro-bind", names[i], names[i]);
			continue;
		}
		len = S_ISLNK(st.st_mode) ? readlink(names[i], target, sizeof(target) - 1) : -1;
		if (len < 0)
			continue;
		target[len] = '\0';
		b->links[nl] = strdup(target);
		if (!b->links[nl])
			return -ENOMEM;
		rc = add_args(b, n, "--symlink", b->links[nl++], names[i]);
	}
	return rc;
}

static int build_argv(struct baseline *b)
{
	const struct baseline_cfg *cfg = b->cfg;
	unsigned n = 0;
	int rc;

	/* husk-init is PID 1 of its pid namespace, as in a husk jail. */
	/* --unshare-user on top: --userns-block-fd wants it said, not just tried. */
	rc = add_args(b, &n, cfg->bwrap, "--unshare-all", "--unshare-user");
	if (!rc)
		rc = add_arg(b, &n, "--die-with-parent");
	if (!rc)
		rc = add_args(b, &n, "--as-pid-1", "--hostname", "husk");
	if (!rc)
		rc = add_args(b, &n, "--info-fd", INFO_FD_STR, NULL);
	if (!rc)
		rc = add_args(b, &n, "--userns-block-fd", BLOCK_FD_STR, NULL);
	if (!rc)
		rc = add_args(b, &n, "--ro-bind", "/usr", "/usr");
	if (!rc)
		rc = add_toplevel(b, &n);
	/* Made explicitly: a parent bwrap creates for a bind is 0700, closed to 993. */
	if (!rc)
		rc = add_args(b, &n, "--dir", "/var", NULL);
	if (!rc)
		rc = add_args(b, &n, "--ro-bind", cfg->code, "/var/task");
	if (!rc)
		rc = add_args(b, &n, "--ro-bind", cfg->init, "/husk-init");
	if (!rc)
		rc = add_args(b, &n, "--tmpfs", "/tmp", NULL);
	if (!rc)
		rc = add_args(b, &n, "--proc", "/proc", NULL);
	if (!rc)
		rc = add_args(b, &n, "--dev", "/dev", NULL);
	if (!rc)
		rc = add_args(b, &n, "--chdir", "/", "/husk-init");
	return rc;
}

int baseline_init(struct baseline *b, const struct baseline_cfg *cfg, char *err, size_t errlen)
{
	int null_fd, log_fd, rc;

	*b = (struct baseline){ .cfg = cfg, .null_fd = -1, .log_fd = -1 };
	if (access(cfg->bwrap, X_OK) || access(cfg->init, R_OK)) {
		snprintf(err, errlen, "cannot use %s and %s: %s", cfg->bwrap, cfg->init,
			 strerror(errno));
		return -ENOENT;
	}
	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	log_fd = open(cfg->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	/* Above 3, so that no dup2 onto 0..3 in the child clobbers a source. */
	b->null_fd = null_fd < 0 ? -1 : fcntl(null_fd, F_DUPFD_CLOEXEC, 10);
	b->log_fd = log_fd < 0 ? -1 : fcntl(log_fd, F_DUPFD_CLOEXEC, 10);
	if (null_fd >= 0)
		close(null_fd);
	if (log_fd >= 0)
		close(log_fd);
	if (b->null_fd < 0 || b->log_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open /dev/null and the log %s: %s", cfg->log,
			 strerror(errno));
		baseline_fini(b);
		return rc;
	}
	rc = build_spawn(b);
	if (!rc)
		rc = build_argv(b);
	if (rc) {
		snprintf(err, errlen, "cannot prepare the bwrap command: %s", strerror(-rc));
		baseline_fini(b);
	}
	return rc;
}

void baseline_fini(struct baseline *b)
{
	unsigned i;

	for (i = 0; i < sizeof(b->links) / sizeof(b->links[0]); i++)
		free(b->links[i]);
	free(b->spawn);
	if (b->null_fd >= 0)
		close(b->null_fd);
	if (b->log_fd >= 0)
		close(b->log_fd);
	*b = (struct baseline){ .null_fd = -1, .log_fd = -1 };
}

/* The fds bwrap gets besides 0, 1 and 2, on the bench's side of each. */
struct sandbox_fds {
	int chan_child, info_rd, info_wr, block_rd, block_wr;
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void close_fds(struct sandbox_fds *f)
{
	close_fd(&f->chan_child);
	close_fd(&f->info_rd);
	close_fd(&f->info_wr);
	close_fd(&f->block_rd);
	close_fd(&f->block_wr);
}

/*
 * A close-on-exec copy at 10 or above, so that dup2 onto 0..5 in the child
 * neither clobbers another source nor leaves close-on-exec set (which it
 * would when source and target are the same).
 */
static int high_fd(int fd)
{
	int hi = fcntl(fd, F_DUPFD_CLOEXEC, 10);

	close(fd);
	return hi;
}

static int make_fds(struct sandbox *sb, struct sandbox_fds *f)
{
	int sv[2], info[2], block[2];

	*f = (struct sandbox_fds){ -1, -1, -1, -1, -1 };
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	sb->chan = sv[0];
	f->chan_child = high_fd(sv[1]);
	if (pipe2(info, O_CLOEXEC))
		return -errno;
	f->info_rd = info[0];
	f->info_wr = high_fd(info[1]);
	if (pipe2(block, O_CLOEXEC))
		return -errno;
	f->block_rd = high_fd(block[0]);
	f->block_wr = block[1];
	if (f->chan_child < 0 || f->info_wr < 0 || f->block_rd < 0)
		return -EMFILE;
	return 0;
}

/* bwrap with fd 0 /dev/null, 1 and 2 the log, 3 the channel, 4 info, 5 block. */
static int spawn_bwrap(const struct baseline *b, const struct sandbox_fds *f, pid_t *pid)
{
	static char *const envp[] = { "PATH=/usr/bin:/bin", NULL };
	const int dups[][2] = { { b->null_fd, 0 },
				{ b->log_fd, 1 },
				{ b->log_fd, 2 },
				{ f->chan_child, HUSK_CHANNEL_FD },
				{ f->info_wr, INFO_FD },
				{ f->block_rd, BLOCK_FD } };
	posix_spawn_file_actions_t fa;
	unsigned i;
	int rc;

	rc = posix_spawn_file_actions_init(&fa);
	if (rc)
		return -rc;
	for (i = 0; i < sizeof(dups) / sizeof(dups[0]) && !rc; i++)
		rc = posix_spawn_file_actions_adddup2(&fa, dups[i][0], dups[i][1]);
	if (!rc)
		rc = posix_spawn(pid, b->cfg->bwrap, &fa, NULL, b->argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	return -rc;
}

/* bwrap's --info-fd document, to its end; it holds the sandbox's pid. */
static int read_child_pid(int fd, pid_t *pid)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct json_object *doc, *v;
	char buf[INFO_MAX];
	size_t len = 0;
	ssize_t n;
	int rc;

	for (;;) {
		rc = poll(&pfd, 1, READY_TIMEOUT_MS);
		if (rc <= 0) {
			if (rc < 0 && errno == EINTR)
				continue;
			return rc ? -errno : -ETIMEDOUT;
		}
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0 || (len += n) == sizeof(buf) - 1)
			break;
	}
	buf[len] = '\0';
	doc = json_tokener_parse(buf);
	rc = doc && json_object_object_get_ex(doc, "child-pid", &v) ? 0 : -EBADMSG;
	if (!rc)
		*pid = json_object_get_int(v);
	json_object_put(doc);
	return rc;
}

static int write_map(pid_t pid, const char *file)
{
	char path[64], map[64];
	int fd, len, rc = 0;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	/*
	 * bwrap keeps running as the uid it was started with (0), which must
	 * be mapped; the rest, with the runtime's 993/990, goes to spare ids.
	 */
	len = snprintf(map, sizeof(map), "0 0 1\n1 %u %u\n", BASELINE_UID_BASE + 1,
		       BASELINE_UID_RANGE - 1);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, map, len) != len)
		rc = -errno;
	close(fd);
	return rc;
}

/* What huskd does for a jail: map the new user namespace, then let it go on. */
static int map_userns(struct sandbox_fds *f, char *err, size_t errlen)
{
	pid_t child = -1;
	char go = 1;
	int rc;

	rc = read_child_pid(f->info_rd, &child);
	if (rc) {
		snprintf(err, errlen, "bwrap --info-fd gave no child-pid: %s", strerror(-rc));
		return rc;
	}
	rc = write_map(child, "uid_map");
	if (!rc)
		rc = write_map(child, "gid_map");
	if (rc) {
		snprintf(err, errlen, "cannot write the id maps of bwrap's child %d: %s",
			 (int)child, strerror(-rc));
		return rc;
	}
	if (write(f->block_wr, &go, 1) != 1) {
		rc = -errno;
		snprintf(err, errlen, "cannot release bwrap's child: %s", strerror(errno));
	}
	return rc;
}

int sandbox_start(const struct baseline *b, struct sandbox *sb, char *err, size_t errlen)
{
	struct iovec iov = { b->spawn, b->spawn_len };
	struct sandbox_fds f;
	int rc;

	*sb = (struct sandbox){ .pid = -1, .chan = -1 };
	rc = make_fds(sb, &f);
	if (rc) {
		snprintf(err, errlen, "cannot create the channel and pipes: %s", strerror(-rc));
		goto fail;
	}
	rc = spawn_bwrap(b, &f, &sb->pid);
	if (rc) {
		snprintf(err, errlen, "cannot start %s: %s", b->cfg->bwrap, strerror(-rc));
		goto fail;
	}
	close_fd(&f.chan_child);
	close_fd(&f.info_wr);
	close_fd(&f.block_rd);
	rc = map_userns(&f, err, errlen);
	if (rc)
		goto fail;
	close_fds(&f);
	rc = husk_frame_send(sb->chan, HUSK_MSG_SPAWN, &iov, 1);
	if (rc) {
		snprintf(err, errlen, "cannot send SPAWN to husk-init under bwrap: %s (see %s)",
			 strerror(-rc), b->cfg->log);
		sandbox_stop(sb);
	}
	return rc;
fail:
	close_fds(&f);
	sandbox_stop(sb);
	return rc;
}

/* One frame, or an error once timeout_ms passed without one. */
static int recv_frame(struct sandbox *sb, int timeout_ms, struct husk_frame_hdr *hdr,
		      char **payload, char *err, size_t errlen)
{
	struct pollfd pfd = { .fd = sb->chan, .events = POLLIN };
	int rc;

	do
		rc = poll(&pfd, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	if (rc == 0) {
		snprintf(err, errlen, "husk-init under bwrap said nothing for %d ms", timeout_ms);
		return -ETIMEDOUT;
	}
	rc = rc < 0 ? -errno : husk_frame_recv(sb->chan, hdr, payload);
	if (rc == -EPIPE)
		snprintf(err, errlen, "husk-init under bwrap closed its channel (bwrap log has why)");
	else if (rc)
		snprintf(err, errlen, "cannot read from husk-init under bwrap: %s", strerror(-rc));
	return rc;
}

/* A frame that ends the conversation where an answer was due, as a message. */
static int unexpected(const struct husk_frame_hdr *hdr, const char *payload, const char *want,
		      char *err, size_t errlen)
{
	struct husk_cursor c = { payload, hdr->len };
	const char *id, *type, *body;
	struct husk_result r;
	struct husk_exit ex;

	if (hdr->type == HUSK_MSG_EXIT && hdr->len >= sizeof(ex)) {
		memcpy(&ex, payload, sizeof(ex));
		snprintf(err, errlen, "the runtime exited (wait status 0x%x) instead of %s",
			 (unsigned)ex.wait_status, want);
	} else if ((hdr->type == HUSK_MSG_INIT_ERROR || hdr->type == HUSK_MSG_ERROR) &&
		   !husk_cursor_take(&c, &r, sizeof(r)) &&
		   !husk_cursor_span(&c, r.request_id_len, &id) &&
		   !husk_cursor_span(&c, r.error_type_len, &type) &&
		   !husk_cursor_span(&c, r.body_len, &body)) {
		snprintf(err, errlen, "husk-init sent %.*s instead of %s: %.*s",
			 (int)r.error_type_len, type, want,
			 (int)(r.body_len > 200 ? 200 : r.body_len), body);
	} else {
		snprintf(err, errlen, "husk-init sent frame type %u instead of %s", hdr->type,
			 want);
	}
	return -EBADMSG;
}

int sandbox_ready(struct sandbox *sb, uint64_t *init_ns, char *err, size_t errlen)
{
	struct husk_frame_hdr hdr;
	struct husk_ready ready;
	char *payload;
	int rc;

	rc = recv_frame(sb, READY_TIMEOUT_MS, &hdr, &payload, err, errlen);
	if (rc)
		return rc;
	if (hdr.type != HUSK_MSG_READY || hdr.len < sizeof(ready)) {
		rc = unexpected(&hdr, payload, "READY", err, errlen);
	} else {
		memcpy(&ready, payload, sizeof(ready));
		*init_ns = ready.init_ns;
	}
	free(payload);
	return rc;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

static int send_invoke(struct sandbox *sb, const char *id)
{
	struct husk_invoke hdr = {
		.deadline_ms = wall_ms() + ANSWER_TIMEOUT_MS,
		.request_id_len = strlen(id),
		.arn_len = strlen(BASELINE_ARN),
		.trace_id_len = strlen(BASELINE_TRACE),
		.payload_len = strlen(BENCH_EVENT),
	};
	struct iovec iov[] = {
		{ &hdr, sizeof(hdr) },
		{ (void *)id, hdr.request_id_len },
		{ BASELINE_ARN, hdr.arn_len },
		{ BASELINE_TRACE, hdr.trace_id_len },
		{ BENCH_EVENT, hdr.payload_len },
	};

	return husk_frame_send(sb->chan, HUSK_MSG_INVOKE, iov, 5);
}

/* A RESPONSE for request id whose body is the event. */
static int check_response(const struct husk_frame_hdr *hdr, char *payload, const char *id,
			  char *err, size_t errlen)
{
	struct husk_cursor c = { payload, hdr->len };
	const char *rid, *type, *body;
	struct husk_result r;

	if (hdr->type != HUSK_MSG_RESPONSE)
		return unexpected(hdr, payload, "RESPONSE", err, errlen);
	if (husk_cursor_take(&c, &r, sizeof(r)) || husk_cursor_span(&c, r.request_id_len, &rid) ||
	    husk_cursor_span(&c, r.error_type_len, &type) ||
	    husk_cursor_span(&c, r.body_len, &body)) {
		snprintf(err, errlen, "husk-init sent a truncated RESPONSE");
		return -EBADMSG;
	}
	if (r.request_id_len != strlen(id) || memcmp(rid, id, r.request_id_len)) {
		snprintf(err, errlen, "RESPONSE for request %.*s, expected %s",
			 (int)r.request_id_len, rid, id);
		return -EBADMSG;
	}
	if (r.body_len != strlen(BENCH_EVENT) || memcmp(body, BENCH_EVENT, r.body_len)) {
		snprintf(err, errlen, "answer is not the event echoed: %.*s",
			 (int)(r.body_len > 200 ? 200 : r.body_len), body);
		return -EBADMSG;
	}
	return 0;
}

int sandbox_invoke(struct sandbox *sb, char *err, size_t errlen)
{
	struct husk_frame_hdr hdr;
	char id[40], *payload;
	int rc;

	snprintf(id, sizeof(id), "00000000-0000-4000-8000-%012llx",
		 (unsigned long long)++sb->seq);
	rc = send_invoke(sb, id);
	if (rc) {
		snprintf(err, errlen, "cannot send INVOKE to husk-init under bwrap: %s",
			 strerror(-rc));
		return rc;
	}
	rc = recv_frame(sb, ANSWER_TIMEOUT_MS, &hdr, &payload, err, errlen);
	if (rc)
		return rc;
	rc = check_response(&hdr, payload, id, err, errlen);
	free(payload);
	return rc;
}

void sandbox_hangup(struct sandbox *sb)
{
	if (sb->chan >= 0)
		close(sb->chan);
	sb->chan = -1;
}

void sandbox_stop(struct sandbox *sb)
{
	int status, waited = 0;
	pid_t r;

	sandbox_hangup(sb);
	if (sb->pid <= 0)
		return;
	while ((r = waitpid(sb->pid, &status, WNOHANG)) == 0 && waited < EXIT_TIMEOUT_MS) {
		sleep_ms(1);
		waited++;
	}
	if (r == 0) {
		/* bwrap --die-with-parent: the sandbox goes with it. */
		kill(sb->pid, SIGKILL);
		waitpid(sb->pid, &status, 0);
	}
	sb->pid = -1;
}
