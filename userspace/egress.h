/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Egress networking for environments whose policy allows it: a veth pair
 * per environment (host side "hsk<slot>", environment side "eth0"), an
 * IPv4 /30 per slot from a private pool, routed through the host and
 * masqueraded out. One nftables table ("ip husk", made through
 * libnftnl/libmnl) holds the host-wide rules:
 *
 *   - postrouting: traffic from the pool leaving through a non-husk
 *     interface is masqueraded;
 *   - forward: husk veth to husk veth is dropped (environments cannot reach
 *     each other); towards a husk veth only established/related passes
 *     (nothing inbound);
 *   - input: from a husk veth only established/related passes, unless the
 *     veth is in the set "allow_host" (policy AllowHost), so the host's own
 *     services are unreachable by default.
 *
 * What an environment may reach beyond that (addresses, ports, protocols)
 * is decided per socket by the cgroup BPF programs; nftables is the second
 * wall. Environments without egress keep their loopback-only namespace and
 * never touch this module.
 *
 * All of it is IPv4: environments get no IPv6 route out.
 */
#ifndef HUSK_EGRESS_H
#define HUSK_EGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

#define HUSK_EGRESS_POOL_DEFAULT "100.72.0.0/16"

struct husk_egress;

struct husk_egress_link {
	unsigned slot;
	char host_if[16];	 /* "hsk<slot>" */
	struct in_addr host_addr; /* host end of the /30 */
	struct in_addr env_addr;  /* eth0 inside the environment, default route via host_addr */
};

/*
 * Set up the host side: remove leftovers of an earlier run (the nftables
 * table "husk" and links named hsk*), make the table, and turn on IPv4
 * forwarding (remembering the old value). pool is "A.B.C.D/N" with
 * N <= 28; every slot below pool_slots(pool) gets its own /30. On failure
 * err gets a one-line reason.
 */
int husk_egress_init(const char *pool, struct husk_egress **out, char *err, size_t errlen);

/* Remove the table and every link still attached; restore IPv4 forwarding. */
void husk_egress_fini(struct husk_egress *eg);

/*
 * Give the network namespace netns_fd (an environment's) a route out:
 * create the veth pair with the peer inside netns_fd, address both ends,
 * bring up eth0 (and lo) and add the default route inside, and add the
 * host side to "allow_host" when allow_host. -ERANGE when slot is beyond
 * the pool. Nothing is left behind on failure.
 */
int husk_egress_attach(struct husk_egress *eg, unsigned slot, int netns_fd, bool allow_host,
		       struct husk_egress_link *out);

/* Remove the veth pair of link (deleting the host side removes both) and its set entry. */
int husk_egress_detach(struct husk_egress *eg, const struct husk_egress_link *link);

/* How many slots a pool has room for: 2^(30-N). */
unsigned husk_egress_pool_slots(const struct husk_egress *eg);

#endif
