/* SPDX-License-Identifier: GPL-2.0 */
/*
 * huskd's one context struct and its configuration. Every piece of mutable
 * state of the supervisor hangs off struct husk_ctx; modules get the context
 * (or the part they own) as an argument.
 */
#ifndef HUSK_HUSK_H
#define HUSK_HUSK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct husk_config {
	const char *state_dir;	 /* durable state: /var/lib/husk */
	const char *run_dir;	 /* rebuildable state: /run/husk */
	const char *socket_path; /* API on a Unix socket; "" disables */
	const char *listen_host; /* API on TCP; loopback by default */
	int listen_port;	 /* 0 disables TCP */
	const char *init_path;	 /* husk-init; default: next to huskd */
	const char *cgroup_parent; /* name of the parent group of environments */
	const char *region;	 /* for ARNs and AWS_REGION */
	const char *account_id;	 /* for ARNs */
	unsigned idle_timeout_s; /* destroy an environment idle this long */
	unsigned max_lifetime_s; /* destroy an environment this old */
	unsigned pids_max;	 /* pids limit of an environment */
	unsigned spares;	 /* environments kept ready for cold starts */
	int cpu;		 /* pin huskd and environments to this CPU, -1 no */
	bool freeze_idle;	 /* freeze environments between invocations */
	const char *bpf_dir;	 /* where BPF objects are pinned */
	const char *egress_pool; /* IPv4 CIDR of environment veths */
	const char *dns;	 /* "A,B": DNS servers, NULL: from /etc/resolv.conf */
	unsigned events_kb;	 /* telemetry ring buffer, KiB */
};

/* Fill in the embedded defaults. */
void husk_config_defaults(struct husk_config *cfg);
/*
 * Apply command-line options (see huskd --help). Returns 0, 1 when the
 * program should exit successfully (--help, --version), or -EINVAL after
 * printing a one-line reason.
 */
int husk_config_parse_args(struct husk_config *cfg, int argc, char **argv);

/*
 * An error that reaches an API caller: HTTP status, Lambda error type
 * (X-Amzn-ErrorType) and a one-line message.
 */
struct husk_err {
	int status;
	const char *type;
	char msg[512];
};

void husk_err_set(struct husk_err *e, int status, const char *type, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define HUSK_E_INVALID_PARAM "InvalidParameterValueException"
#define HUSK_E_INVALID_CONTENT "InvalidRequestContentException"
#define HUSK_E_NOT_FOUND "ResourceNotFoundException"
#define HUSK_E_CONFLICT "ResourceConflictException"
#define HUSK_E_PRECONDITION "PreconditionFailedException"
#define HUSK_E_TOO_LARGE "RequestTooLargeException"
#define HUSK_E_ENTITY_TOO_LARGE "RequestEntityTooLargeException"
#define HUSK_E_SERVICE "ServiceException"
#define HUSK_E_TOO_MANY "TooManyRequestsException"
#define HUSK_E_UNSUPPORTED "UnsupportedMediaTypeException"

struct husk_store;
struct husk_registry;
struct husk_cgroups;
struct husk_pool;
struct husk_api;
struct husk_jail;
struct husk_filter;
struct husk_bpf;
struct husk_telemetry;
struct husk_egress;
struct husk_reports;

#define HUSK_DNS_MAX 3

struct husk_ctx {
	struct husk_config cfg;
	struct husk_store *store;
	struct husk_registry *registry;
	struct husk_cgroups *cgroups;
	struct husk_pool *pool;
	struct husk_api *api;
	struct husk_jail *jail;	     /* host facts for building jail roots */
	struct husk_filter *seccomp; /* the runtime's compiled profile */
	uint64_t seccomp_denied[8];  /* syscalls it answers with an errno, by number */
	struct husk_bpf *bpf;	     /* programs, maps, pins */
	struct husk_telemetry *tel;  /* ring-buffer consumer */
	struct husk_egress *egress;  /* veths and nftables, for policies with egress */
	struct husk_reports *reports; /* the last invocations' reports, for huskctl */
	uint32_t dns[HUSK_DNS_MAX];  /* IPv4 DNS servers, network byte order */
	size_t n_dns;
	int init_fd;	     /* O_PATH fd of husk-init, exec'd in every jail */
	int lock_fd;	     /* flock'd <run_dir>/huskd.pid */
	uint8_t code_key[32]; /* AES-256-GCM key for code at rest */
};

#endif
