/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rtnetlink through libmnl: the link, address and route operations that
 * egress needs. A struct husk_rtnl is one NETLINK_ROUTE socket; it acts on
 * the network namespace it was opened in. Calls on one socket must not run
 * concurrently (the caller serialises them).
 *
 * Errors are logged here, one line each with the kernel's extended ack
 * message when it sends one, except the "not there" errors that callers
 * handle themselves (-ENODEV from husk_rtnl_link_del()).
 */
#ifndef HUSK_RTNL_H
#define HUSK_RTNL_H

#include <netinet/in.h>

struct husk_rtnl;

int husk_rtnl_open(struct husk_rtnl **out);
void husk_rtnl_close(struct husk_rtnl *rt);

/*
 * Create a veth pair: name here, peer inside the network namespace
 * peer_netns_fd (or here too when peer_netns_fd < 0). Both ends are down.
 */
int husk_rtnl_veth_add(struct husk_rtnl *rt, const char *name, const char *peer, int peer_netns_fd);

/* Delete a link (a veth takes its peer with it); -ENODEV when there is none, not logged. */
int husk_rtnl_link_del(struct husk_rtnl *rt, const char *name);

int husk_rtnl_link_up(struct husk_rtnl *rt, const char *name);

int husk_rtnl_addr_add(struct husk_rtnl *rt, const char *name, struct in_addr addr,
		       unsigned prefixlen);

/* Add "default via gw dev name" to the main table. */
int husk_rtnl_route_default(struct husk_rtnl *rt, const char *name, struct in_addr gw);

/*
 * Call fn for every link whose name starts with prefix, after the dump has
 * ended (so fn may use rt, e.g. to delete the link). A non-zero return of
 * fn stops the walk and is returned.
 */
int husk_rtnl_links_foreach(struct husk_rtnl *rt, const char *prefix,
			    int (*fn)(struct husk_rtnl *rt, const char *name, void *data),
			    void *data);

/*
 * Inside the network namespace netns_fd: bring lo up, give dev the address
 * addr/prefixlen, bring dev up and route everything via gw. It runs in a
 * short-lived thread that enters the namespace with setns() and opens its
 * own socket there, so the caller's thread never changes namespace.
 */
int husk_rtnl_configure_in_netns(int netns_fd, const char *dev, struct in_addr addr,
				 unsigned prefixlen, struct in_addr gw);

#endif
