// SPDX-License-Identifier: GPL-2.0
/* huskd's embedded defaults and command-line options. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "husk.h"

void husk_config_defaults(struct husk_config *cfg)
{
	*cfg = (struct husk_config){
		.state_dir = "/var/lib/husk",
		.run_dir = "/run/husk",
		.socket_path = "/run/husk/huskd.sock",
		.listen_host = "127.0.0.1",
		.listen_port = 9000,
		.init_path = NULL,
		.cgroup_parent = "husk",
		.region = "us-east-1",
		.account_id = "000000000000",
		.idle_timeout_s = 600,
		.max_lifetime_s = 8 * 3600,
		.pids_max = 1024,
		.spares = 2,
		.cpu = -1,
		.freeze_idle = true,
		.bpf_dir = "/sys/fs/bpf/husk",
		.egress_pool = "100.72.0.0/16",
		.dns = NULL,
		.events_kb = 8192,
	};
}

static const char usage[] =
	"usage: huskd [OPTIONS]\n"
	"Run the husk supervisor in the foreground, as root.\n"
	"\n"
	"  --state-dir DIR       durable state (default /var/lib/husk)\n"
	"  --run-dir DIR         runtime state (default /run/husk)\n"
	"  --socket PATH         API Unix socket, \"\" to disable (default /run/husk/huskd.sock)\n"
	"  --listen HOST:PORT    API TCP address, \"none\" to disable (default 127.0.0.1:9000)\n"
	"  --init PATH           husk-init binary (default: next to huskd)\n"
	"  --cgroup-parent NAME  parent cgroup of environments below huskd's own (default husk)\n"
	"  --idle-timeout SEC    destroy environments idle this long (default 600)\n"
	"  --max-lifetime SEC    destroy environments this old (default 28800)\n"
	"  --pids-max N          pids limit of an environment (default 1024)\n"
	"  --spares N            environments kept ready for cold starts (default 2)\n"
	"  --cpu N               pin huskd and environments to CPU N (default: no pinning)\n"
	"  --no-freeze           keep idle environments running instead of frozen\n"
	"  --bpf-dir DIR         bpffs directory for husk's pins (default /sys/fs/bpf/husk)\n"
	"  --egress-pool CIDR    IPv4 pool of environment veths, a /30 each (default 100.72.0.0/16)\n"
	"  --dns ADDR[,ADDR]     DNS servers for policies with Dns (default: /etc/resolv.conf's)\n"
	"  --events-kb N         telemetry ring buffer in KiB, a power of two >= 4 (default 8192)\n"
	"  --region NAME         region in ARNs and AWS_REGION (default us-east-1)\n"
	"  --account-id ID       account in ARNs (default 000000000000)\n"
	"  -h, --help            this text\n"
	"  -V, --version         the version\n";

enum {
	OPT_STATE = 256,
	OPT_RUN,
	OPT_SOCKET,
	OPT_LISTEN,
	OPT_INIT,
	OPT_CGROUP,
	OPT_IDLE,
	OPT_LIFETIME,
	OPT_PIDS,
	OPT_SPARES,
	OPT_CPU,
	OPT_NO_FREEZE,
	OPT_REGION,
	OPT_ACCOUNT,
	OPT_BPF_DIR,
	OPT_EGRESS_POOL,
	OPT_DNS,
	OPT_EVENTS_KB,
};

static const struct option options[] = {
	{ "state-dir", required_argument, NULL, OPT_STATE },
	{ "run-dir", required_argument, NULL, OPT_RUN },
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "init", required_argument, NULL, OPT_INIT },
	{ "cgroup-parent", required_argument, NULL, OPT_CGROUP },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE },
	{ "max-lifetime", required_argument, NULL, OPT_LIFETIME },
	{ "pids-max", required_argument, NULL, OPT_PIDS },
	{ "spares", required_argument, NULL, OPT_SPARES },
	{ "cpu", required_argument, NULL, OPT_CPU },
	{ "no-freeze", no_argument, NULL, OPT_NO_FREEZE },
	{ "region", required_argument, NULL, OPT_REGION },
	{ "account-id", required_argument, NULL, OPT_ACCOUNT },
	{ "bpf-dir", required_argument, NULL, OPT_BPF_DIR },
	{ "egress-pool", required_argument, NULL, OPT_EGRESS_POOL },
	{ "dns", required_argument, NULL, OPT_DNS },
	{ "events-kb", required_argument, NULL, OPT_EVENTS_KB },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static int parse_uint(const char *opt, const char *s, unsigned long min, unsigned long max,
		      unsigned *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max || s[0] == '-') {
		fprintf(stderr, "huskd: --%s wants a number from %lu to %lu, got '%s'\n", opt, min,
			max, s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* Environments are built from these paths after chdir and pivot_root. */
static int absolute_path(const char *opt, const char *s, const char **out)
{
	if (s[0] != '/' || strlen(s) > 200) {
		fprintf(stderr, "huskd: --%s wants an absolute path of at most 200 bytes, got '%s'\n",
			opt, s);
		return -EINVAL;
	}
	*out = s;
	return 0;
}

/* "HOST:PORT", "PORT", or "none". */
static int parse_listen(struct husk_config *cfg, char *s)
{
	char *colon = strrchr(s, ':');
	unsigned port;

	if (!strcmp(s, "none")) {
		cfg->listen_port = 0;
		return 0;
	}
	if (colon) {
		*colon = '\0';
		cfg->listen_host = s;
		s = colon + 1;
	}
	if (parse_uint("listen", s, 1, 65535, &port))
		return -EINVAL;
	cfg->listen_port = port;
	return 0;
}

static int parse_one(struct husk_config *cfg, int opt, char *arg)
{
	unsigned v;

	switch (opt) {
	case OPT_STATE: return absolute_path("state-dir", arg, &cfg->state_dir);
	case OPT_RUN: return absolute_path("run-dir", arg, &cfg->run_dir);
	case OPT_SOCKET: cfg->socket_path = arg; return 0;
	case OPT_LISTEN: return parse_listen(cfg, arg);
	case OPT_INIT: cfg->init_path = arg; return 0;
	case OPT_CGROUP:
		if (!*arg || strchr(arg, '/') || arg[0] == '.') {
			fprintf(stderr, "huskd: --cgroup-parent wants a plain name, got '%s'\n", arg);
			return -EINVAL;
		}
		cfg->cgroup_parent = arg;
		return 0;
	case OPT_IDLE: return parse_uint("idle-timeout", arg, 1, 7 * 86400, &cfg->idle_timeout_s);
	case OPT_LIFETIME:
		return parse_uint("max-lifetime", arg, 1, 30 * 86400, &cfg->max_lifetime_s);
	case OPT_PIDS: return parse_uint("pids-max", arg, 8, 4194304, &cfg->pids_max);
	case OPT_SPARES: return parse_uint("spares", arg, 0, 64, &cfg->spares);
	case OPT_CPU:
		if (parse_uint("cpu", arg, 0, CPU_SETSIZE - 1, &v))
			return -EINVAL;
		cfg->cpu = v;
		return 0;
	case OPT_NO_FREEZE: cfg->freeze_idle = false; return 0;
	case OPT_REGION: cfg->region = arg; return 0;
	case OPT_ACCOUNT: cfg->account_id = arg; return 0;
	case OPT_BPF_DIR:
		if (strncmp(arg, "/sys/fs/bpf/", 12) || strstr(arg, "..") || strlen(arg) > 200) {
			fprintf(stderr, "huskd: --bpf-dir wants a directory below /sys/fs/bpf/, got '%s'\n",
				arg);
			return -EINVAL;
		}
		cfg->bpf_dir = arg;
		return 0;
	case OPT_EGRESS_POOL: cfg->egress_pool = arg; return 0;
	case OPT_DNS: cfg->dns = arg; return 0;
	case OPT_EVENTS_KB:
		if (parse_uint("events-kb", arg, 4, 1u << 20, &v))
			return -EINVAL;
		if (v & (v - 1)) {
			fprintf(stderr, "huskd: --events-kb wants a power of two, got '%s'\n", arg);
			return -EINVAL;
		}
		cfg->events_kb = v;
		return 0;
	}
	return -EINVAL;
}

int husk_config_parse_args(struct husk_config *cfg, int argc, char **argv)
{
	int opt;

	while ((opt = getopt_long(argc, argv, "hV", options, NULL)) != -1) {
		if (opt == 'h') {
			fputs(usage, stdout);
			return 1;
		}
		if (opt == 'V') {
			printf("huskd %s\n", HUSK_VERSION);
			return 1;
		}
		if (opt == '?') {
			fprintf(stderr, "huskd: see huskd --help\n");
			return -EINVAL;
		}
		if (parse_one(cfg, opt, optarg))
			return -EINVAL;
	}
	if (optind < argc) {
		fprintf(stderr, "huskd: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}
