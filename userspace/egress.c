// SPDX-License-Identifier: GPL-2.0
/*
 * Egress networking: the address pool and its slots, the veth pairs (in
 * rtnl.c), the nftables table (in nft.c) and IPv4 forwarding.
 *
 * Slot N owns the /30 at pool + 4 * N: .1 is the host end (hsk<N>), .2 the
 * environment's eth0. One mutex serialises the netlink sockets and the slot
 * bitmaps, so that huskd may attach and detach from several threads.
 *
 * The host end gets IPv6 disabled: the table is IPv4 only, and with IPv6 on
 * hsk<N> an environment could reach the host's IPv6 services through the
 * link-local addresses that the kernel would add.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "egress.h"
#include "log.h"
#include "nft.h"
#include "rtnl.h"

#define SLOT_PREFIXLEN 30
#define POOL_MIN_PREFIXLEN 8 /* 2^22 slots: 512 KiB per bitmap */
#define POOL_MAX_PREFIXLEN 28
#define ENV_IFNAME "eth0"
#define IP_FORWARD_PATH "/proc/sys/net/ipv4/ip_forward"
#define BITS_PER_WORD (8 * sizeof(unsigned long))

struct husk_egress {
	pthread_mutex_t lock;
	struct husk_rtnl *rtnl;
	struct husk_nft *nft;
	struct in_addr pool; /* network address */
	unsigned prefixlen;
	unsigned slots;
	int saved_forward; /* ip_forward before init, -1 while untouched */
	unsigned long *attached;
	unsigned long *allowed; /* slots whose link is in allow_host */
};

static bool test_slot(const unsigned long *map, unsigned slot)
{
	return map[slot / BITS_PER_WORD] & (1UL << (slot % BITS_PER_WORD));
}

static void set_slot(unsigned long *map, unsigned slot, bool on)
{
	if (on)
		map[slot / BITS_PER_WORD] |= 1UL << (slot % BITS_PER_WORD);
	else
		map[slot / BITS_PER_WORD] &= ~(1UL << (slot % BITS_PER_WORD));
}

/* "A.B.C.D/N" with the host bits zero and N within the bounds above. */
static int parse_pool(const char *pool, struct in_addr *addr, unsigned *prefixlen, char *err,
		      size_t errlen)
{
	char text[INET_ADDRSTRLEN];
	const char *slash = strchr(pool, '/');
	unsigned long n;
	uint32_t mask;
	char *end;

	if (!slash || (size_t)(slash - pool) >= sizeof(text)) {
		snprintf(err, errlen, "egress pool \"%s\" is not A.B.C.D/N", pool);
		return -EINVAL;
	}
	memcpy(text, pool, slash - pool);
	text[slash - pool] = '\0';
	errno = 0;
	n = strtoul(slash + 1, &end, 10);
	if (inet_pton(AF_INET, text, addr) != 1 || errno || end == slash + 1 || *end) {
		snprintf(err, errlen, "egress pool \"%s\" is not A.B.C.D/N", pool);
		return -EINVAL;
	}
	if (n < POOL_MIN_PREFIXLEN || n > POOL_MAX_PREFIXLEN) {
		snprintf(err, errlen, "egress pool %s: the prefix length must be %d to %d", pool,
			 POOL_MIN_PREFIXLEN, POOL_MAX_PREFIXLEN);
		return -EINVAL;
	}
	mask = ~0U << (32 - n);
	if (ntohl(addr->s_addr) & ~mask) {
		snprintf(err, errlen, "egress pool %s: host bits are set (not a network address)",
			 pool);
		return -EINVAL;
	}
	*prefixlen = n;
	return 0;
}

static int read_sysctl(const char *path, int *value)
{
	char buf[32];
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		ret = -errno;
	} else {
		buf[n] = '\0';
		if (sscanf(buf, "%d", value) != 1)
			ret = -EINVAL;
	}
	close(fd);
	return ret;
}

static int write_sysctl(const char *path, int value)
{
	char buf[16];
	int fd, len, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%d\n", value);
	if (write(fd, buf, len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

static int forwarding_enable(struct husk_egress *eg, char *err, size_t errlen)
{
	int old, ret;

	ret = read_sysctl(IP_FORWARD_PATH, &old);
	if (!ret && old != 1)
		ret = write_sysctl(IP_FORWARD_PATH, 1);
	if (ret) {
		snprintf(err, errlen, "turn on IPv4 forwarding (%s): %s", IP_FORWARD_PATH,
			 strerror(-ret));
		return ret;
	}
	eg->saved_forward = old;
	return 0;
}

static void forwarding_restore(struct husk_egress *eg)
{
	int ret;

	if (eg->saved_forward < 0 || eg->saved_forward == 1)
		return;
	ret = write_sysctl(IP_FORWARD_PATH, eg->saved_forward);
	if (ret)
		pr_err("egress: restore %s to %d: %s", IP_FORWARD_PATH, eg->saved_forward,
		       strerror(-ret));
}

/* Without IPv6 in the kernel there is no such file, and nothing to disable. */
static int disable_ipv6(const char *ifname)
{
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	ret = write_sysctl(path, 1);
	if (ret == -ENOENT && access("/proc/sys/net/ipv6", F_OK) < 0)
		return 0;
	if (ret)
		pr_err("egress: disable IPv6 on %s (%s): %s", ifname, path, strerror(-ret));
	return ret;
}

static int remove_leftover_link(struct husk_rtnl *rt, const char *name, void *data)
{
	int ret = husk_rtnl_link_del(rt, name);

	if (ret == -ENODEV)
		return 0;
	if (!ret)
		pr_warn("egress: removed link %s left over by an earlier run", name);
	return ret;
}

static int remove_leftovers(struct husk_egress *eg, char *err, size_t errlen)
{
	int ret;

	ret = husk_nft_table_delete(eg->nft);
	if (!ret)
		pr_warn("egress: removed nftables table ip %s left over by an earlier run",
			HUSK_NFT_TABLE);
	else if (ret != -ENOENT) {
		snprintf(err, errlen, "remove the leftover nftables table ip %s: %s",
			 HUSK_NFT_TABLE, strerror(-ret));
		return ret;
	}
	ret = husk_rtnl_links_foreach(eg->rtnl, HUSK_NFT_IF_PREFIX, remove_leftover_link, NULL);
	if (ret)
		snprintf(err, errlen, "remove leftover links %s*: %s", HUSK_NFT_IF_PREFIX,
			 strerror(-ret));
	return ret;
}

static void egress_free(struct husk_egress *eg)
{
	husk_nft_close(eg->nft);
	husk_rtnl_close(eg->rtnl);
	free(eg->attached);
	free(eg->allowed);
	pthread_mutex_destroy(&eg->lock);
	free(eg);
}

static int egress_alloc(const char *pool, struct husk_egress **out, char *err, size_t errlen)
{
	struct husk_egress *eg;
	size_t words;
	int ret;

	eg = calloc(1, sizeof(*eg));
	if (!eg) {
		snprintf(err, errlen, "egress: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	pthread_mutex_init(&eg->lock, NULL);
	eg->saved_forward = -1;
	ret = parse_pool(pool, &eg->pool, &eg->prefixlen, err, errlen);
	if (ret)
		goto fail;
	eg->slots = 1U << (SLOT_PREFIXLEN - eg->prefixlen);
	words = (eg->slots + BITS_PER_WORD - 1) / BITS_PER_WORD;
	eg->attached = calloc(words, sizeof(unsigned long));
	eg->allowed = calloc(words, sizeof(unsigned long));
	if (!eg->attached || !eg->allowed) {
		ret = -ENOMEM;
		snprintf(err, errlen, "egress: slot maps for %u slots: %s", eg->slots,
			 strerror(ENOMEM));
		goto fail;
	}
	ret = husk_rtnl_open(&eg->rtnl);
	if (!ret)
		ret = husk_nft_open(&eg->nft);
	if (ret) {
		snprintf(err, errlen, "egress: open netlink sockets: %s", strerror(-ret));
		goto fail;
	}
	*out = eg;
	return 0;
fail:
	egress_free(eg);
	return ret;
}

int husk_egress_init(const char *pool, struct husk_egress **out, char *err, size_t errlen)
{
	struct husk_egress *eg;
	int ret;

	ret = egress_alloc(pool, &eg, err, errlen);
	if (ret)
		return ret;
	ret = remove_leftovers(eg, err, errlen);
	if (ret)
		goto fail;
	ret = husk_nft_table_create(eg->nft, eg->pool, eg->prefixlen);
	if (ret) {
		snprintf(err, errlen, "create the nftables table ip %s: %s", HUSK_NFT_TABLE,
			 strerror(-ret));
		goto fail;
	}
	ret = forwarding_enable(eg, err, errlen);
	if (ret) {
		husk_nft_table_delete(eg->nft);
		goto fail;
	}
	pr_info("egress: pool %s, %u slots, nftables table ip %s", pool, eg->slots, HUSK_NFT_TABLE);
	*out = eg;
	return 0;
fail:
	egress_free(eg);
	return ret;
}

void husk_egress_fini(struct husk_egress *eg)
{
	char name[IFNAMSIZ];
	unsigned slot;
	int ret;

	if (!eg)
		return;
	pthread_mutex_lock(&eg->lock);
	for (slot = 0; slot < eg->slots; slot++) {
		if (!test_slot(eg->attached, slot))
			continue;
		snprintf(name, sizeof(name), HUSK_NFT_IF_PREFIX "%u", slot);
		husk_rtnl_link_del(eg->rtnl, name);
	}
	/* The set's elements go with the table. */
	ret = husk_nft_table_delete(eg->nft);
	if (ret && ret != -ENOENT)
		pr_err("egress: nftables table ip %s may be left behind", HUSK_NFT_TABLE);
	forwarding_restore(eg);
	pthread_mutex_unlock(&eg->lock);
	egress_free(eg);
}

unsigned husk_egress_pool_slots(const struct husk_egress *eg)
{
	return eg->slots;
}

static void slot_link(const struct husk_egress *eg, unsigned slot, struct husk_egress_link *link)
{
	uint32_t base = ntohl(eg->pool.s_addr) + 4 * slot;

	memset(link, 0, sizeof(*link));
	link->slot = slot;
	snprintf(link->host_if, sizeof(link->host_if), HUSK_NFT_IF_PREFIX "%u", slot);
	link->host_addr.s_addr = htonl(base + 1);
	link->env_addr.s_addr = htonl(base + 2);
}

/* Bring a freshly made pair into service; the caller removes it on failure. */
static int link_configure(struct husk_egress *eg, const struct husk_egress_link *link, int netns_fd,
			  bool allow_host)
{
	int ret;

	ret = disable_ipv6(link->host_if);
	if (!ret)
		ret = husk_rtnl_addr_add(eg->rtnl, link->host_if, link->host_addr, SLOT_PREFIXLEN);
	if (!ret)
		ret = husk_rtnl_link_up(eg->rtnl, link->host_if);
	if (!ret)
		ret = husk_rtnl_configure_in_netns(netns_fd, ENV_IFNAME, link->env_addr,
						   SLOT_PREFIXLEN, link->host_addr);
	if (!ret && allow_host)
		ret = husk_nft_allow_host_add(eg->nft, link->host_if);
	return ret;
}

/*
 * A name can stay in allow_host when removing it failed at detach; it must
 * be gone before the slot's new link comes up without AllowHost.
 */
static int slot_sync_allow_host(struct husk_egress *eg, const struct husk_egress_link *link)
{
	int ret;

	if (!test_slot(eg->allowed, link->slot))
		return 0;
	ret = husk_nft_allow_host_del(eg->nft, link->host_if);
	if (!ret)
		set_slot(eg->allowed, link->slot, false);
	return ret;
}

int husk_egress_attach(struct husk_egress *eg, unsigned slot, int netns_fd, bool allow_host,
		       struct husk_egress_link *out)
{
	struct husk_egress_link link;
	int ret;

	if (slot >= eg->slots) {
		pr_err("egress: attach slot %u: the pool has %u slots", slot, eg->slots);
		return -ERANGE;
	}
	slot_link(eg, slot, &link);
	pthread_mutex_lock(&eg->lock);
	if (test_slot(eg->attached, slot)) {
		pr_err("egress: attach slot %u: it is in use", slot);
		ret = -EBUSY;
		goto out;
	}
	ret = allow_host ? 0 : slot_sync_allow_host(eg, &link);
	if (ret)
		goto out;
	ret = husk_rtnl_veth_add(eg->rtnl, link.host_if, ENV_IFNAME, netns_fd);
	if (ret)
		goto out;
	ret = link_configure(eg, &link, netns_fd, allow_host);
	if (ret) {
		husk_rtnl_link_del(eg->rtnl, link.host_if);
		goto out;
	}
	set_slot(eg->attached, slot, true);
	set_slot(eg->allowed, slot, allow_host);
	*out = link;
out:
	pthread_mutex_unlock(&eg->lock);
	return ret;
}

int husk_egress_detach(struct husk_egress *eg, const struct husk_egress_link *link)
{
	struct husk_egress_link expect;
	int ret;

	if (link->slot >= eg->slots) {
		pr_err("egress: detach slot %u: the pool has %u slots", link->slot, eg->slots);
		return -ERANGE;
	}
	slot_link(eg, link->slot, &expect);
	if (strcmp(link->host_if, expect.host_if)) {
		pr_err("egress: detach slot %u: link %.16s is not %s", link->slot, link->host_if,
		       expect.host_if);
		return -EINVAL;
	}
	pthread_mutex_lock(&eg->lock);
	if (!test_slot(eg->attached, link->slot)) {
		ret = -ENOENT;
		goto out;
	}
	/*
	 * The link goes first, which cuts the environment off. It may be gone
	 * already: destroying the environment's netns takes the pair with it.
	 */
	ret = husk_rtnl_link_del(eg->rtnl, link->host_if);
	if (ret && ret != -ENODEV)
		goto out;
	set_slot(eg->attached, link->slot, false);
	ret = slot_sync_allow_host(eg, link);
out:
	pthread_mutex_unlock(&eg->lock);
	return ret;
}
