// SPDX-License-Identifier: GPL-2.0
/*
 * Egress for real (as root): the nftables table, veth pairs into network
 * namespaces, masquerading, and the walls between environments, towards
 * them, and towards the host.
 *
 * Everything the traffic reaches is made here: a "test host" namespace
 * joined to the root namespace by the test's own veth (198.18.0.1/30 here,
 * .2 inside) with a TCP listener, environment namespaces with listeners,
 * and root-namespace listeners bound only to the husk host-end addresses.
 * Every listener answers a connection with the address it came from, so
 * the masquerade is visible. Namespaces are held by forked children that
 * die with the test (PR_SET_PDEATHSIG); the table and links are checked
 * through rtnetlink and `nft list`, not through the code under test.
 */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "report.h"
#include "userspace/egress.h"
#include "userspace/nft.h"
#include "userspace/rtnl.h"

/* Neither clashes with this host (checked at start): CGNAT and benchmark space. */
#define POOL "100.72.0.0/24"
#define POOL_SLOTS 64
#define TH_LINK "egtest0" /* root side of the test host's veth; not hsk*, on purpose */
#define TH_ROOT_ADDR "198.18.0.1"
#define TH_ADDR "198.18.0.2"
#define TH_NET "198.18.0.0"
#define TH_PREFIXLEN 30
#define ENV_PORT 8080
#define HOST_PORT 8081
#define BLOCKED_TIMEOUT_MS 700
#define MAX_CHILDREN 16
#define TIMING_ROUNDS 20
#define TEST_TIMEOUT_S 120

struct netns {
	pid_t pid;
	int fd;
};

struct test {
	int failed;
	int forward_before;
	struct husk_rtnl *rt;
	struct husk_nft *nft; /* the test's own, for lookups */
	struct husk_egress *eg;
	pid_t children[MAX_CHILDREN];
	int nchildren;
	bool th_link;
	struct netns th, env_a, env_b;
	struct husk_egress_link link_a, link_b;
	bool a_attached, b_attached;
};

static void check(struct test *t, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void check(struct test *t, bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (!unit_vcheck(ok, fmt, ap))
		t->failed = 1;
	va_end(ap);
}

static struct in_addr addr_of(const char *text)
{
	struct in_addr a = {0};

	inet_pton(AF_INET, text, &a);
	return a;
}

static const char *ntop(struct in_addr a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int read_int(const char *path, int *value)
{
	FILE *f = fopen(path, "re");
	int ret = 0;

	if (!f)
		return -errno;
	if (fscanf(f, "%d", value) != 1)
		ret = -EINVAL;
	fclose(f);
	return ret;
}

/* Output of an nft command, or -ENOENT without the nft tool. */
static int nft_output(const char *args, char *buf, size_t len)
{
	char cmd[256];
	size_t n = 0, r;
	FILE *p;

	if (access("/usr/sbin/nft", X_OK) && access("/sbin/nft", X_OK))
		return -ENOENT;
	snprintf(cmd, sizeof(cmd), "nft %s 2>&1", args);
	p = popen(cmd, "re");
	if (!p)
		return -errno;
	while (n < len - 1 && (r = fread(buf + n, 1, len - 1 - n, p)) > 0)
		n += r;
	buf[n] = '\0';
	pclose(p);
	return 0;
}

static bool nft_has_table(void)
{
	char out[4096];

	if (nft_output("list tables", out, sizeof(out)))
		return false;
	return strstr(out, "table ip " HUSK_NFT_TABLE "\n") != NULL;
}

struct link_list {
	char names[256];
	int count;
};

static int collect_link(struct husk_rtnl *rt, const char *name, void *data)
{
	struct link_list *l = data;
	size_t used = strlen(l->names);

	snprintf(l->names + used, sizeof(l->names) - used, "%s%s", used ? " " : "", name);
	l->count++;
	return 0;
}

/* Links named hsk* in the root namespace; -1 when the dump failed. */
static int husk_links(struct test *t, struct link_list *l)
{
	memset(l, 0, sizeof(*l));
	if (husk_rtnl_links_foreach(t->rt, HUSK_NFT_IF_PREFIX, collect_link, l))
		return -1;
	return l->count;
}

static bool link_exists(struct test *t, const char *name)
{
	struct link_list l;
	char *tok, *save;

	husk_links(t, &l);
	for (tok = strtok_r(l.names, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		if (!strcmp(tok, name))
			return true;
	return false;
}

/* ---- children: namespaces, listeners, probes ---- */

static int listen_on(const char *addr, int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd, on = 1;

	sa.sin_addr = addr ? addr_of(addr) : (struct in_addr){htonl(INADDR_ANY)};
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* Answer every connection with the peer's address, then close it. */
static void serve(int lfd)
{
	struct sockaddr_in peer;
	socklen_t len;
	char line[INET_ADDRSTRLEN + 1];
	int c;

	for (;;) {
		len = sizeof(peer);
		c = accept(lfd, (struct sockaddr *)&peer, &len);
		if (c < 0)
			continue;
		ntop(peer.sin_addr, line);
		strcat(line, "\n");
		if (write(c, line, strlen(line)) < 0)
			perror("egress_test: listener write");
		close(c);
	}
}

static void child_setup(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
}

/*
 * A child that holds a listener on addr:port (any address when NULL; none
 * when port is 0), in a new network namespace when ns is given.
 */
static int spawn(struct test *t, bool new_netns, const char *addr, int port, struct netns *ns)
{
	pid_t parent = getpid(), pid;
	char path[64];
	int pfd[2], err = 0, lfd = -1;

	if (t->nchildren == MAX_CHILDREN || pipe2(pfd, O_CLOEXEC) < 0)
		return -EMFILE;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		child_setup(parent);
		close(pfd[0]);
		if (new_netns && unshare(CLONE_NEWNET) < 0)
			err = -errno;
		if (!err && port) {
			lfd = listen_on(addr, port);
			err = lfd < 0 ? lfd : 0;
		}
		if (write(pfd[1], &err, sizeof(err)) != sizeof(err) || err)
			_exit(1);
		close(pfd[1]);
		if (lfd >= 0)
			serve(lfd);
		for (;;)
			pause();
	}
	t->children[t->nchildren++] = pid;
	close(pfd[1]);
	if (read(pfd[0], &err, sizeof(err)) != sizeof(err))
		err = -EIO;
	close(pfd[0]);
	if (err)
		return err;
	if (ns) {
		ns->pid = pid;
		snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
		ns->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (ns->fd < 0)
			return -errno;
	}
	return 0;
}

static void kill_child(struct test *t, pid_t pid)
{
	int i;

	for (i = 0; i < t->nchildren; i++) {
		if (t->children[i] != pid)
			continue;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		t->children[i] = t->children[--t->nchildren];
		return;
	}
}

static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = events};
	int n = poll(&p, 1, timeout_ms);

	return n < 0 ? -errno : n == 0 ? -ETIMEDOUT : 0;
}

static int connect_and_read(const char *dst, int port, char *reply, size_t len)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	socklen_t elen = sizeof(int);
	int fd, ret, soerr = 0;
	ssize_t n;

	sa.sin_addr = addr_of(dst);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (ret < 0 && errno != EINPROGRESS) {
		ret = -errno;
		goto out;
	}
	ret = wait_fd(fd, POLLOUT, BLOCKED_TIMEOUT_MS);
	if (ret)
		goto out;
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &elen);
	ret = -soerr;
	if (ret)
		goto out;
	ret = wait_fd(fd, POLLIN, BLOCKED_TIMEOUT_MS);
	if (ret)
		goto out;
	n = read(fd, reply, len - 1);
	ret = n < 0 ? -errno : 0;
	reply[n > 0 ? n : 0] = '\0';
	reply[strcspn(reply, "\n")] = '\0';
out:
	close(fd);
	return ret;
}

struct probe_result {
	int err;
	char reply[64];
};

/* Connect from inside netns_fd (the root namespace when < 0) in a forked child. */
static int probe(int netns_fd, const char *dst, int port, char *reply, size_t len)
{
	struct probe_result res = {.err = -EIO};
	pid_t parent = getpid(), pid;
	int pfd[2];

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		child_setup(parent);
		close(pfd[0]);
		if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) < 0)
			res.err = -errno;
		else
			res.err = connect_and_read(dst, port, res.reply, sizeof(res.reply));
		_exit(write(pfd[1], &res, sizeof(res)) == sizeof(res) ? 0 : 1);
	}
	close(pfd[1]);
	if (read(pfd[0], &res, sizeof(res)) != sizeof(res))
		res.err = -EIO;
	close(pfd[0]);
	waitpid(pid, NULL, 0);
	snprintf(reply, len, "%s", res.reply);
	return res.err;
}

/* want_source NULL: any source address will do. */
static void expect_reach(struct test *t, const char *from, int netns_fd, const char *dst, int port,
			 const char *want_source)
{
	char reply[64] = "";
	int ret = probe(netns_fd, dst, port, reply, sizeof(reply));

	check(t, !ret && reply[0] && (!want_source || !strcmp(reply, want_source)),
	      "%s reaches %s:%d, seen from %s (got %s%s)", from, dst, port,
	      want_source ? want_source : "anywhere", ret ? "error: " : "",
	      ret ? strerror(-ret) : reply);
}

/* Blocked means dropped: a refusal would mean the packet got through the wall. */
static void expect_blocked(struct test *t, const char *from, int netns_fd, const char *dst,
			   int port)
{
	char reply[64] = "";
	int ret = probe(netns_fd, dst, port, reply, sizeof(reply));

	check(t, ret == -ETIMEDOUT, "%s cannot reach %s:%d (got %s%s)", from, dst, port,
	      ret ? "error: " : "a connection from ", ret ? strerror(-ret) : reply);
}

/* ---- preconditions ---- */

static bool in_net(struct in_addr a, const char *net, unsigned prefixlen)
{
	uint32_t mask = ~0U << (32 - prefixlen);

	return (ntohl(a.s_addr) & mask) == (ntohl(addr_of(net).s_addr) & mask);
}

/* Why the test must not run on this host, or NULL. */
static const char *unsafe_host(struct test *t, char *why, size_t len)
{
	struct ifaddrs *ifa, *i;
	struct link_list l;
	struct in_addr a;
	int n;

	n = husk_links(t, &l);
	if (n != 0) {
		if (n < 0)
			snprintf(why, len, "cannot list links through rtnetlink");
		else
			snprintf(why, len, "links %s exist (a running huskd's?); not touching them",
				 l.names);
		return why;
	}
	if (nft_has_table()) {
		snprintf(why, len, "table ip %s exists (a running huskd's?); not touching it",
			 HUSK_NFT_TABLE);
		return why;
	}
	if (getifaddrs(&ifa) < 0) {
		snprintf(why, len, "getifaddrs: %s", strerror(errno));
		return why;
	}
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
			continue;
		a = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
		if (in_net(a, "100.72.0.0", 24) || in_net(a, TH_NET, TH_PREFIXLEN)) {
			snprintf(why, len, "%s has an address in %s or %s/%d", i->ifa_name, POOL,
				 TH_NET, TH_PREFIXLEN);
			freeifaddrs(ifa);
			return why;
		}
	}
	freeifaddrs(ifa);
	return NULL;
}

/* ---- the test steps ---- */

static void make_leftovers(struct test *t, struct netns *holder)
{
	char out[1024];
	int ret;

	ret = spawn(t, true, NULL, 0, holder);
	check(t, !ret, "a namespace for a leftover link (%s)", strerror(-ret));
	if (ret)
		return;
	ret = husk_rtnl_veth_add(t->rt, HUSK_NFT_IF_PREFIX "63", "eth0", holder->fd);
	check(t, !ret, "leftover link " HUSK_NFT_IF_PREFIX "63 made (%s)", strerror(-ret));
	if (!nft_output("add table ip " HUSK_NFT_TABLE, out, sizeof(out)))
		check(t, nft_has_table(), "leftover table ip %s made (%s)", HUSK_NFT_TABLE, out);
}

static void test_init(struct test *t)
{
	static const char *const rules[] = {
	    "type ifname",
	    "ip saddr 100.72.0.0/24 oifname != \"hsk*\" masquerade",
	    "iifname \"hsk*\" oifname \"hsk*\" drop",
	    "oifname \"hsk*\" ct state established,related accept",
	    "oifname \"hsk*\" drop",
	    "iifname \"hsk*\" ct state established,related accept",
	    "iifname @allow_host accept",
	    "iifname \"hsk*\" drop",
	    "type nat hook postrouting priority srcnat; policy accept;",
	    "type filter hook forward priority filter; policy accept;",
	    "type filter hook input priority filter; policy accept;",
	};
	struct husk_egress *bad = NULL;
	struct netns holder = {-1, -1};
	char err[256] = "", out[8192];
	struct link_list l;
	int ret, fwd = -1;
	size_t i;

	ret = husk_egress_init("100.72.0.1/24", &bad, err, sizeof(err));
	check(t, ret == -EINVAL && !bad && err[0], "a pool with host bits is refused (%s)", err);
	ret = husk_egress_init("100.72.0.0/29", &bad, err, sizeof(err));
	check(t, ret == -EINVAL && !bad, "a pool smaller than /28 is refused (%s)", err);

	make_leftovers(t, &holder);
	err[0] = '\0';
	ret = husk_egress_init(POOL, &t->eg, err, sizeof(err));
	check(t, !ret, "init with pool %s (%s)", POOL, ret ? err : "ok");
	if (holder.pid > 0) {
		close(holder.fd);
		kill_child(t, holder.pid);
	}
	if (ret)
		return;
	check(t, husk_links(t, &l) == 0, "leftover links removed (left: %s)", l.names);
	check(t, husk_egress_pool_slots(t->eg) == POOL_SLOTS, "%u slots in %s",
	      husk_egress_pool_slots(t->eg), POOL);
	read_int("/proc/sys/net/ipv4/ip_forward", &fwd);
	check(t, fwd == 1, "IPv4 forwarding on (ip_forward = %d)", fwd);
	ret = husk_nft_table_exists(t->nft);
	check(t, ret == 1, "table ip %s exists (libnftnl lookup: %d)", HUSK_NFT_TABLE, ret);
	if (nft_output("list table ip " HUSK_NFT_TABLE, out, sizeof(out))) {
		printf("skip the rule listing: no nft tool\n");
		return;
	}
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		check(t, strstr(out, rules[i]) != NULL, "table has '%s'", rules[i]);
	if (t->failed)
		printf("%s", out);
}

static void make_test_host(struct test *t)
{
	int ret;

	ret = spawn(t, true, NULL, ENV_PORT, &t->th);
	check(t, !ret, "test host namespace with a listener on :%d (%s)", ENV_PORT, strerror(-ret));
	if (ret)
		return;
	ret = husk_rtnl_veth_add(t->rt, TH_LINK, "eth0", t->th.fd);
	t->th_link = !ret;
	if (!ret)
		ret = husk_rtnl_addr_add(t->rt, TH_LINK, addr_of(TH_ROOT_ADDR), TH_PREFIXLEN);
	if (!ret)
		ret = husk_rtnl_link_up(t->rt, TH_LINK);
	if (!ret)
		ret = husk_rtnl_configure_in_netns(t->th.fd, "eth0", addr_of(TH_ADDR), TH_PREFIXLEN,
						   addr_of(TH_ROOT_ADDR));
	check(t, !ret, "test host at %s behind %s (%s)", TH_ADDR, TH_LINK, strerror(-ret));
}

static bool same_netns_as_before(dev_t dev, ino_t ino)
{
	struct stat st;

	return !stat("/proc/thread-self/ns/net", &st) && st.st_dev == dev && st.st_ino == ino;
}

static void test_attach(struct test *t)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	struct husk_egress_link *la = &t->link_a, *lb = &t->link_b;
	struct stat st;
	double t0, t1;
	int ret;

	ret = spawn(t, true, NULL, ENV_PORT, &t->env_a);
	if (!ret)
		ret = spawn(t, true, NULL, ENV_PORT, &t->env_b);
	check(t, !ret, "two environment namespaces with listeners on :%d (%s)", ENV_PORT,
	      strerror(-ret));
	if (ret)
		return;
	stat("/proc/thread-self/ns/net", &st);
	t0 = now_us();
	ret = husk_egress_attach(t->eg, 0, t->env_a.fd, false, la);
	t1 = now_us();
	t->a_attached = !ret;
	check(t, !ret, "attach env A to slot 0 in %.0f us (%s)", t1 - t0, strerror(-ret));
	ret = husk_egress_attach(t->eg, 1, t->env_b.fd, true, lb);
	t->b_attached = !ret;
	check(t, !ret, "attach env B to slot 1 with allow_host (%s)", strerror(-ret));
	check(t, same_netns_as_before(st.st_dev, st.st_ino),
	      "the calling thread stayed in its network namespace");
	if (!t->a_attached || !t->b_attached)
		return;
	check(t,
	      la->slot == 0 && !strcmp(la->host_if, "hsk0") &&
		  !strcmp(ntop(la->host_addr, a), "100.72.0.1") &&
		  !strcmp(ntop(la->env_addr, b), "100.72.0.2"),
	      "slot 0 is hsk0 100.72.0.1 <-> 100.72.0.2 (got %s %s <-> %s)", la->host_if,
	      ntop(la->host_addr, a), ntop(la->env_addr, b));
	check(t,
	      lb->slot == 1 && !strcmp(lb->host_if, "hsk1") &&
		  !strcmp(ntop(lb->host_addr, a), "100.72.0.5") &&
		  !strcmp(ntop(lb->env_addr, b), "100.72.0.6"),
	      "slot 1 is hsk1 100.72.0.5 <-> 100.72.0.6 (got %s %s <-> %s)", lb->host_if,
	      ntop(lb->host_addr, a), ntop(lb->env_addr, b));
}

static void test_walls(struct test *t)
{
	char out[4096];
	int ret, v6 = -1;

	expect_reach(t, "env A", t->env_a.fd, TH_ADDR, ENV_PORT, TH_ROOT_ADDR);
	expect_reach(t, "env B", t->env_b.fd, TH_ADDR, ENV_PORT, TH_ROOT_ADDR);
	expect_blocked(t, "env A", t->env_a.fd, "100.72.0.6", ENV_PORT);
	expect_blocked(t, "env B", t->env_b.fd, "100.72.0.2", ENV_PORT);
	expect_blocked(t, "the test host", t->th.fd, "100.72.0.2", ENV_PORT);

	/* The host's own services, bound to the host ends only. */
	ret = spawn(t, false, "100.72.0.1", HOST_PORT, NULL);
	if (!ret)
		ret = spawn(t, false, "100.72.0.5", HOST_PORT, NULL);
	check(t, !ret, "host listeners on the host ends :%d (%s)", HOST_PORT, strerror(-ret));
	if (!ret) {
		expect_blocked(t, "env A (no allow_host)", t->env_a.fd, "100.72.0.1", HOST_PORT);
		expect_reach(t, "env B (allow_host)", t->env_b.fd, "100.72.0.5", HOST_PORT,
			     "100.72.0.6");
		/* The listener itself works: the wall above is the table's doing. */
		expect_reach(t, "the root namespace", -1, "100.72.0.1", HOST_PORT, NULL);
	}
	if (!nft_output("list set ip " HUSK_NFT_TABLE " " HUSK_NFT_ALLOW_HOST_SET, out,
			sizeof(out)))
		check(t, strstr(out, "\"hsk1\"") && !strstr(out, "\"hsk0\""),
		      "allow_host holds hsk1, not hsk0:\n%s", out);
	if (!access("/proc/sys/net/ipv6", F_OK)) {
		read_int("/proc/sys/net/ipv6/conf/hsk0/disable_ipv6", &v6);
		check(t, v6 == 1, "IPv6 off on hsk0 (disable_ipv6 = %d)", v6);
	}
}

static void test_attach_errors(struct test *t)
{
	struct husk_egress_link l;
	int ret;

	ret = husk_egress_attach(t->eg, POOL_SLOTS, t->env_a.fd, false, &l);
	check(t, ret == -ERANGE, "slot %d is beyond the pool: -ERANGE (got %d)", POOL_SLOTS, ret);
	ret = husk_egress_attach(t->eg, 0, t->env_b.fd, false, &l);
	check(t, ret == -EBUSY, "slot 0 twice: -EBUSY (got %d)", ret);
	/* env A has an eth0 already: creating the pair fails, nothing may stay. */
	ret = husk_egress_attach(t->eg, 2, t->env_a.fd, false, &l);
	check(t, ret < 0 && !link_exists(t, "hsk2"),
	      "a failed attach leaves no hsk2 behind (got %s)", strerror(-ret));
	ret = husk_egress_attach(t->eg, 3, 999, false, &l);
	check(t, ret < 0 && !link_exists(t, "hsk3"), "a bad netns fd fails, no hsk3 (got %s)",
	      strerror(-ret));
}

static void test_detach(struct test *t)
{
	struct husk_egress_link lc;
	struct netns env_c = {-1, -1};
	char out[4096];
	int ret;

	ret = husk_egress_detach(t->eg, &t->link_b);
	t->b_attached = ret != 0;
	check(t, !ret && !link_exists(t, "hsk1"), "detach env B removes hsk1 (%s)", strerror(-ret));
	ret = husk_egress_detach(t->eg, &t->link_b);
	check(t, ret == -ENOENT, "detach twice: -ENOENT (got %d)", ret);
	if (!nft_output("list set ip " HUSK_NFT_TABLE " " HUSK_NFT_ALLOW_HOST_SET, out,
			sizeof(out)))
		check(t, !strstr(out, "hsk"), "allow_host is empty:\n%s", out);

	/* Slot 1 again, without allow_host: the host must be closed to it now. */
	ret = spawn(t, true, NULL, 0, &env_c);
	if (!ret)
		ret = husk_egress_attach(t->eg, 1, env_c.fd, false, &lc);
	check(t, !ret, "attach env C to slot 1 without allow_host (%s)", strerror(-ret));
	if (!ret) {
		expect_blocked(t, "env C on reused slot 1", env_c.fd, "100.72.0.5", HOST_PORT);
		expect_reach(t, "env C", env_c.fd, TH_ADDR, ENV_PORT, TH_ROOT_ADDR);
		ret = husk_egress_detach(t->eg, &lc);
		check(t, !ret, "detach env C (%s)", strerror(-ret));
	}
	if (env_c.pid > 0) {
		close(env_c.fd);
		kill_child(t, env_c.pid);
	}

	/* The environment's namespace dies first: the pair goes with it. */
	close(t->env_a.fd);
	t->env_a.fd = -1;
	kill_child(t, t->env_a.pid);
	ret = husk_egress_detach(t->eg, &t->link_a);
	t->a_attached = ret != 0;
	check(t, !ret && !link_exists(t, "hsk0"), "detach after the netns is gone (%s)",
	      strerror(-ret));
}

static void test_timing(struct test *t)
{
	double attach = 0, detach = 0, t0;
	struct netns env_d = {-1, -1};
	struct husk_egress_link l;
	int i, ret;

	ret = spawn(t, true, NULL, 0, &env_d);
	check(t, !ret, "a namespace for timing (%s)", strerror(-ret));
	for (i = 0; !ret && i < TIMING_ROUNDS; i++) {
		t0 = now_us();
		ret = husk_egress_attach(t->eg, 5, env_d.fd, true, &l);
		attach += now_us() - t0;
		if (ret)
			break;
		t0 = now_us();
		ret = husk_egress_detach(t->eg, &l);
		detach += now_us() - t0;
	}
	check(t, !ret, "%d attach/detach rounds with allow_host (%s)", TIMING_ROUNDS,
	      strerror(-ret));
	if (!ret)
		printf("     attach %.0f us, detach %.0f us (mean of %d)\n", attach / TIMING_ROUNDS,
		       detach / TIMING_ROUNDS, TIMING_ROUNDS);
	if (env_d.pid > 0) {
		close(env_d.fd);
		kill_child(t, env_d.pid);
	}
}

static void test_fini(struct test *t)
{
	struct link_list l;
	int fwd = -1;

	husk_egress_fini(t->eg);
	t->eg = NULL;
	t->a_attached = t->b_attached = false;
	check(t, husk_links(t, &l) == 0, "no hsk* link after fini (left: %s)", l.names);
	check(t, !nft_has_table(), "no table ip %s after fini (nft list tables)", HUSK_NFT_TABLE);
	fwd = husk_nft_table_exists(t->nft);
	check(t, fwd == 0, "no table ip %s after fini (libnftnl lookup: %d)", HUSK_NFT_TABLE, fwd);
	fwd = -1;
	read_int("/proc/sys/net/ipv4/ip_forward", &fwd);
	check(t, fwd == t->forward_before, "ip_forward restored to %d (is %d)", t->forward_before,
	      fwd);
}

static void cleanup(struct test *t)
{
	if (t->eg)
		husk_egress_fini(t->eg);
	if (t->th_link && husk_rtnl_link_del(t->rt, TH_LINK) && link_exists(t, TH_LINK))
		printf("FAIL could not remove %s\n", TH_LINK);
	if (t->th.fd >= 0)
		close(t->th.fd);
	if (t->env_a.fd >= 0)
		close(t->env_a.fd);
	if (t->env_b.fd >= 0)
		close(t->env_b.fd);
	while (t->nchildren)
		kill_child(t, t->children[0]);
	husk_nft_close(t->nft);
	husk_rtnl_close(t->rt);
}

/* The test proper, in the runner process; tells the supervisor when it may touch state. */
static int run(int ready_fd)
{
	struct test t = {
	    .th = {-1, -1},
	    .env_a = {-1, -1},
	    .env_b = {-1, -1},
	};
	char why[512];

	if (husk_rtnl_open(&t.rt) || husk_nft_open(&t.nft)) {
		printf("FAIL egress_test: cannot open rtnetlink or nfnetlink\n");
		return 1;
	}
	if (unsafe_host(&t, why, sizeof(why))) {
		printf("SKIP egress_test: %s\n", why);
		cleanup(&t);
		return 0;
	}
	if (read_int("/proc/sys/net/ipv4/ip_forward", &t.forward_before)) {
		printf("FAIL egress_test: cannot read ip_forward\n");
		cleanup(&t);
		return 1;
	}
	/* Closed right away, so that the children forked later do not hold it. */
	if (write(ready_fd, "y", 1) != 1) {
		cleanup(&t);
		return 1;
	}
	close(ready_fd);
	test_init(&t);
	if (t.eg) {
		make_test_host(&t);
		test_attach(&t);
		if (t.a_attached && t.b_attached && t.th_link) {
			test_walls(&t);
			test_attach_errors(&t);
			test_detach(&t);
			test_timing(&t);
		}
		test_fini(&t);
	}
	cleanup(&t);
	return t.failed;
}

static int remove_link(struct husk_rtnl *rt, const char *name, void *data)
{
	printf("FAIL %s was left behind; removed\n", name);
	*(bool *)data = true;
	husk_rtnl_link_del(rt, name);
	return 0;
}

/*
 * After the runner, whatever its fate: nothing of the test may remain.
 * Only called when the runner found no hsk* link and no table at start,
 * so everything of that name is the test's.
 */
static bool sweep(int forward_before)
{
	struct husk_rtnl *rt = NULL;
	struct husk_nft *nft = NULL;
	bool residue = false;
	int fwd = -1;

	if (husk_rtnl_open(&rt) || husk_nft_open(&nft)) {
		printf("FAIL cannot open netlink to check for leftovers\n");
		husk_rtnl_close(rt);
		return true;
	}
	husk_rtnl_links_foreach(rt, HUSK_NFT_IF_PREFIX, remove_link, &residue);
	husk_rtnl_links_foreach(rt, TH_LINK, remove_link, &residue);
	if (husk_nft_table_exists(nft) == 1) {
		printf("FAIL table ip %s was left behind; removed\n", HUSK_NFT_TABLE);
		husk_nft_table_delete(nft);
		residue = true;
	}
	if (!read_int("/proc/sys/net/ipv4/ip_forward", &fwd) && fwd != forward_before) {
		FILE *f = fopen("/proc/sys/net/ipv4/ip_forward", "we");

		printf("FAIL ip_forward left at %d; restored to %d\n", fwd, forward_before);
		if (f) {
			fprintf(f, "%d\n", forward_before);
			fclose(f);
		}
		residue = true;
	}
	husk_nft_close(nft);
	husk_rtnl_close(rt);
	return residue;
}

/* They were sent SIGKILL by PR_SET_PDEATHSIG when the runner ended. */
static void reap_orphans(void)
{
	pid_t pid;
	int i;

	for (i = 0; i < 50; i++) {
		while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
			;
		if (pid < 0 && errno == ECHILD)
			return;
		usleep(20 * 1000);
	}
}

/*
 * A supervisor around the runner, so that a hang or a crash still ends in
 * a failure and a clean host: the runner's children die with it
 * (PR_SET_PDEATHSIG), and sweep() removes what it made.
 */
int main(void)
{
	int status = 0, forward_before, pfd[2], waited_ms = 0;
	bool ready = false, done = false;
	pid_t pid;
	char c;

	if (geteuid()) {
		printf("SKIP egress_test: needs root for namespaces, links and nftables\n");
		return 0;
	}
	if (read_int("/proc/sys/net/ipv4/ip_forward", &forward_before) || pipe2(pfd, O_CLOEXEC)) {
		printf("FAIL egress_test: cannot read ip_forward or make a pipe\n");
		return 1;
	}
	/* Orphans of a runner that died come back here to be reaped. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		printf("FAIL egress_test: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		close(pfd[0]);
		child_setup(getppid());
		exit(run(pfd[1]));
	}
	close(pfd[1]);
	while (!done && waited_ms < TEST_TIMEOUT_S * 1000) {
		struct pollfd p = {.fd = pfd[0], .events = POLLIN};

		if (pfd[0] >= 0 && poll(&p, 1, 100) > 0) {
			ready = read(pfd[0], &c, 1) == 1;
			close(pfd[0]);
			pfd[0] = -1;
		} else if (pfd[0] < 0) {
			usleep(100 * 1000);
		}
		waited_ms += 100;
		done = waitpid(pid, &status, WNOHANG) == pid;
	}
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (!done) {
		printf("FAIL egress_test: no result after %d s; killed\n", TEST_TIMEOUT_S);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		status = 1 << 8;
	} else if (WIFSIGNALED(status)) {
		printf("FAIL egress_test: the runner died of signal %d\n", WTERMSIG(status));
		status = 1 << 8;
	}
	reap_orphans();
	if (ready && sweep(forward_before))
		status = 1 << 8;
	status = WEXITSTATUS(status);
	printf("%s\n", status ? "egress_test: FAILED" : "egress_test: all passed");
	return status;
}
