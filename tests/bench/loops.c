// SPDX-License-Identifier: GPL-2.0
/*
 * husk-loops OP N [ARG]: run one operation N times and print
 * "OP NS_PER_OP ERRORS". The enforcement benchmark runs it inside an
 * environment under a full policy and outside any environment, so the
 * difference is what the BPF programs, Landlock and seccomp add.
 *
 *   getpid              the syscall itself (raw_tp sys_enter/sys_exit cost)
 *   openat PATH         open(PATH, O_RDONLY) + close (file rules)
 *   connect ADDR:PORT   connect() of one UDP socket (cgroup/connect4): no
 *                       packet is sent, UDP connect only sets the peer
 *
 * Static, so that it runs in any environment root.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static unsigned long loop_getpid(unsigned long n, const char *arg)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		syscall(SYS_getpid);
	return 0;
}

static unsigned long loop_openat(unsigned long n, const char *path)
{
	unsigned long i, errors = 0;
	int fd;

	for (i = 0; i < n; i++) {
		fd = openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			errors++;
		else
			close(fd);
	}
	return errors;
}

static unsigned long loop_connect(unsigned long n, const char *where)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	char host[64];
	unsigned port;
	unsigned long i, errors = 0;
	int fd;

	if (sscanf(where, "%63[^:]:%u", host, &port) != 2 ||
	    inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		fprintf(stderr, "husk-loops: connect wants ADDR:PORT\n");
		exit(2);
	}
	sin.sin_port = htons((uint16_t)port);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("husk-loops: socket");
		exit(2);
	}
	for (i = 0; i < n; i++)
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
			errors++;
	close(fd);
	return errors;
}

static const struct {
	const char *name;
	unsigned long (*fn)(unsigned long n, const char *arg);
	int needs_arg;
} ops[] = {
    {"getpid", loop_getpid, 0},
    {"openat", loop_openat, 1},
    {"connect", loop_connect, 1},
};

int main(int argc, char **argv)
{
	unsigned long n, errors;
	double t0, t1;
	size_t i;

	if (argc < 3 || !(n = strtoul(argv[2], NULL, 10))) {
		fprintf(stderr,
			"usage: husk-loops getpid N | openat N PATH | connect N ADDR:PORT\n");
		return 2;
	}
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strcmp(argv[1], ops[i].name))
			continue;
		if (ops[i].needs_arg && argc < 4) {
			fprintf(stderr, "husk-loops: %s needs an argument\n", ops[i].name);
			return 2;
		}
		ops[i].fn(n / 10 + 1, argv[3]); /* warm caches */
		t0 = now_ns();
		errors = ops[i].fn(n, argv[3]);
		t1 = now_ns();
		printf("%s %.1f %lu\n", ops[i].name, (t1 - t0) / n, errors);
		return 0;
	}
	fprintf(stderr, "husk-loops: unknown operation %s\n", argv[1]);
	return 2;
}
