/* SPDX-License-Identifier: GPL-2.0 */
/*
 * huskctl: what the objects (prog.c, map.c, link.c, cgroup.c, env.c, fn.c,
 * policy.c, events.c, invocation.c, feature.c) share. The shape is
 * bpftool's: huskctl [OPTIONS] OBJECT {COMMAND | help}, unique prefixes of
 * objects and commands accepted, -j/--json and -p/--pretty everywhere.
 *
 * Every command returns 0 on success, or 1 after printing one line
 * "huskctl: REASON" to stderr (hctl_err). With -j, a command prints exactly
 * one JSON value on stdout (events --follow: one JSON object per line).
 */
#ifndef HUSK_HUSKCTL_H
#define HUSK_HUSKCTL_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;

#define HUSKCTL_SOCKET_DEFAULT "/run/husk/huskd.sock"
#define HUSKCTL_BPF_DIR_DEFAULT "/sys/fs/bpf/husk"

struct hctl {
	bool json;	     /* -j */
	bool pretty;	     /* -p (implies -j) */
	const char *socket;  /* --socket: huskd's Unix socket */
	const char *bpf_dir; /* --bpf-dir: huskd's pins */
};

/* One command of an object: name, handler, and the line help prints. */
struct hctl_cmd {
	const char *name;
	int (*fn)(struct hctl *h, int argc, char **argv);
	const char *usage; /* "show [ID]" */
};

/*
 * Run the command argv[0] names (a unique prefix is enough; none or "help"
 * prints the object's usage) with the arguments after it.
 */
int hctl_dispatch(struct hctl *h, const char *object, const struct hctl_cmd *cmds, int argc,
		  char **argv);

/* Print "huskctl: ..." to stderr; returns 1. */
int hctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print obj as JSON (pretty with -p) and drop the reference; returns 0 (1 if obj is NULL). */
int hctl_print_json(const struct hctl *h, struct json_object *obj);

/* An array: as JSON with -j, else text() for each element; drops the reference; returns 0. */
int hctl_print_array(const struct hctl *h, struct json_object *arr,
		    void (*text)(const struct json_object *elem));

/*
 * GET path on huskd's Unix socket and parse the JSON answer into *out.
 * A non-2xx answer or no huskd is an error printed with hctl_err (returns
 * 1); *status gets the HTTP status when non-NULL.
 */
int hctl_api_get(const struct hctl *h, const char *path, struct json_object **out);

/*
 * Stream path (chunked JSON lines) from huskd; each complete line goes to
 * line(). Returns when huskd ends the stream or line() returns non-zero.
 */
int hctl_api_stream(const struct hctl *h, const char *path,
		    int (*line)(const char *s, size_t len, void *arg), void *arg);

/* Require root (BPF objects and huskd's socket are root's); returns 1 with a reason if not. */
int hctl_need_root(void);

/* The objects. */
int hctl_prog(struct hctl *h, int argc, char **argv);
int hctl_map(struct hctl *h, int argc, char **argv);
int hctl_link(struct hctl *h, int argc, char **argv);
int hctl_cgroup(struct hctl *h, int argc, char **argv);
int hctl_env(struct hctl *h, int argc, char **argv);
int hctl_fn(struct hctl *h, int argc, char **argv);
int hctl_policy(struct hctl *h, int argc, char **argv);
int hctl_events(struct hctl *h, int argc, char **argv);
int hctl_invocation(struct hctl *h, int argc, char **argv);
int hctl_feature(struct hctl *h, int argc, char **argv);

#endif
