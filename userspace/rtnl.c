// SPDX-License-Identifier: GPL-2.0
/*
 * rtnetlink through libmnl: veth pairs, IPv4 addresses, links up, default
 * routes, and walking links by name prefix.
 *
 * Every request asks for an ack (dumps end with NLMSG_DONE instead) and
 * the socket has NETLINK_EXT_ACK on, so a failure is reported with the
 * kernel's own explanation ("Unknown device type", ...) where it has one.
 */
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "log.h"
#include "rtnl.h"

/* Requests here are a few attributes each. */
#define RTNL_REQ_SIZE 1024
/* Large enough for any dump message the kernel builds (it caps them at 32 KiB). */
#define RTNL_RECV_SIZE 32768
#define RTNL_DUMP_TRIES 5

struct husk_rtnl {
	struct mnl_socket *nl;
	unsigned int portid;
	unsigned int seq;
	char buf[RTNL_RECV_SIZE];
};

/* What came back for one request. */
struct rtnl_reply {
	mnl_cb_t cb; /* for the request's data messages, may be NULL */
	void *data;
	bool dump;     /* ends with NLMSG_DONE, not with an ack */
	int err;       /* from NLMSG_ERROR: 0 (ack) or a negative errno */
	char ext[128]; /* the extended ack's message, "" without one */
};

int husk_rtnl_open(struct husk_rtnl **out)
{
	struct husk_rtnl *rt;
	int on = 1;
	int ret;

	rt = calloc(1, sizeof(*rt));
	if (!rt)
		return -ENOMEM;
	rt->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!rt->nl) {
		ret = -errno;
		pr_err("rtnl: open a NETLINK_ROUTE socket: %s", strerror(errno));
		free(rt);
		return ret;
	}
	if (mnl_socket_bind(rt->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		pr_err("rtnl: bind the NETLINK_ROUTE socket: %s", strerror(errno));
		husk_rtnl_close(rt);
		return ret;
	}
	/* Best effort: without them errors are plain errnos, which still work. */
	mnl_socket_setsockopt(rt->nl, NETLINK_EXT_ACK, &on, sizeof(on));
	mnl_socket_setsockopt(rt->nl, NETLINK_CAP_ACK, &on, sizeof(on));
	rt->portid = mnl_socket_get_portid(rt->nl);
	rt->seq = time(NULL);
	*out = rt;
	return 0;
}

void husk_rtnl_close(struct husk_rtnl *rt)
{
	if (!rt)
		return;
	mnl_socket_close(rt->nl);
	free(rt);
}

static int rtnl_ext_attr_cb(const struct nlattr *attr, void *data)
{
	struct rtnl_reply *r = data;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		snprintf(r->ext, sizeof(r->ext), "%s", mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

static int rtnl_error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	struct rtnl_reply *r = data;
	size_t off = sizeof(*e);

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
		r->err = -EBADMSG;
		return MNL_CB_STOP;
	}
	r->err = e->error;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		/* Without NLM_F_CAPPED the request itself comes back before the TLVs. */
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += mnl_nlmsg_get_payload_len(&e->msg);
		mnl_attr_parse(nlh, off, rtnl_ext_attr_cb, r);
	}
	return MNL_CB_STOP;
}

/* A dump ends with NLMSG_DONE, which carries the dump's error code. */
static int rtnl_done_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rtnl_reply *r = data;
	int err;

	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(err)) {
		memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
		r->err = err;
	}
	return MNL_CB_STOP;
}

static int rtnl_data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rtnl_reply *r = data;

	return r->cb ? r->cb(nlh, r->data) : MNL_CB_OK;
}

/*
 * Send one request and read until its ack, error or NLMSG_DONE. Replies
 * with another sequence number are left over from an earlier request that
 * failed half-way; they are skipped.
 */
static int rtnl_talk(struct husk_rtnl *rt, struct nlmsghdr *nlh, struct rtnl_reply *r)
{
	/* libmnl calls nothing for a control type whose entry here is NULL. */
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
	    [NLMSG_ERROR] = rtnl_error_cb,
	    [NLMSG_DONE] = rtnl_done_cb,
	};
	unsigned int seq = ++rt->seq;
	ssize_t n;
	int ret;

	nlh->nlmsg_seq = seq;
	/* Not told by the flags: NLM_F_EXCL and NLM_F_MATCH are the same bit. */
	if (!r->dump)
		nlh->nlmsg_flags |= NLM_F_ACK;
	r->err = 0;
	r->ext[0] = '\0';
	if (mnl_socket_sendto(rt->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(rt->nl, rt->buf, sizeof(rt->buf));
		if (n < 0)
			return -errno;
		ret = mnl_cb_run2(rt->buf, n, seq, rt->portid, rtnl_data_cb, r, ctl,
				  MNL_ARRAY_SIZE(ctl));
	} while (ret == MNL_CB_OK || (ret < 0 && errno == EPROTO));
	if (ret < 0)
		return r->err ? r->err : -errno;
	return r->err;
}

static void rtnl_report(int err, const struct rtnl_reply *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void rtnl_report(int err, const struct rtnl_reply *r, const char *fmt, ...)
{
	char what[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	pr_err("rtnl: %s: %s%s%s", what, strerror(-err), r->ext[0] ? ": " : "", r->ext);
}

/* buf has RTNL_REQ_SIZE bytes; zeroed, so that attribute padding is not stack garbage. */
static struct nlmsghdr *rtnl_request(char *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;

	memset(buf, 0, RTNL_REQ_SIZE);
	nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	return nlh;
}

static struct ifinfomsg *rtnl_put_ifinfomsg(struct nlmsghdr *nlh)
{
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));

	ifm->ifi_family = AF_UNSPEC;
	return ifm;
}

int husk_rtnl_veth_add(struct husk_rtnl *rt, const char *name, const char *peer, int peer_netns_fd)
{
	struct nlattr *linkinfo, *info_data, *peer_info;
	struct rtnl_reply r = {};
	char buf[RTNL_REQ_SIZE];
	struct nlmsghdr *nlh;
	int ret;

	nlh = rtnl_request(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_put_ifinfomsg(nlh);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	info_data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	/* The peer is described by an ifinfomsg of its own and its attributes. */
	peer_info = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	rtnl_put_ifinfomsg(nlh);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	if (peer_netns_fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, peer_netns_fd);
	mnl_attr_nest_end(nlh, peer_info);
	mnl_attr_nest_end(nlh, info_data);
	mnl_attr_nest_end(nlh, linkinfo);

	ret = rtnl_talk(rt, nlh, &r);
	if (ret)
		rtnl_report(ret, &r, "create veth %s (peer %s)", name, peer);
	return ret;
}

int husk_rtnl_link_del(struct husk_rtnl *rt, const char *name)
{
	struct rtnl_reply r = {};
	char buf[RTNL_REQ_SIZE];
	struct nlmsghdr *nlh;
	int ret;

	nlh = rtnl_request(buf, RTM_DELLINK, 0);
	rtnl_put_ifinfomsg(nlh);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	ret = rtnl_talk(rt, nlh, &r);
	if (ret && ret != -ENODEV)
		rtnl_report(ret, &r, "delete link %s", name);
	return ret;
}

int husk_rtnl_link_up(struct husk_rtnl *rt, const char *name)
{
	struct rtnl_reply r = {};
	char buf[RTNL_REQ_SIZE];
	struct ifinfomsg *ifm;
	struct nlmsghdr *nlh;
	int ret;

	nlh = rtnl_request(buf, RTM_NEWLINK, 0);
	ifm = rtnl_put_ifinfomsg(nlh);
	ifm->ifi_flags = IFF_UP;
	ifm->ifi_change = IFF_UP;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	ret = rtnl_talk(rt, nlh, &r);
	if (ret)
		rtnl_report(ret, &r, "bring up %s", name);
	return ret;
}

static int rtnl_ifindex_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type == RTM_NEWLINK && mnl_nlmsg_get_payload_len(nlh) >= sizeof(*ifm))
		*(int *)data = ifm->ifi_index;
	return MNL_CB_OK;
}

/* The index of a link in the socket's namespace (not the calling thread's). */
static int rtnl_ifindex(struct husk_rtnl *rt, const char *name, int *index)
{
	struct rtnl_reply r = {.cb = rtnl_ifindex_cb, .data = index};
	char buf[RTNL_REQ_SIZE];
	struct nlmsghdr *nlh;
	int ret;

	*index = 0;
	nlh = rtnl_request(buf, RTM_GETLINK, 0);
	rtnl_put_ifinfomsg(nlh);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	ret = rtnl_talk(rt, nlh, &r);
	if (!ret && *index <= 0)
		ret = -ENODEV;
	if (ret)
		rtnl_report(ret, &r, "look up link %s", name);
	return ret;
}

int husk_rtnl_addr_add(struct husk_rtnl *rt, const char *name, struct in_addr addr,
		       unsigned prefixlen)
{
	char buf[RTNL_REQ_SIZE], text[INET_ADDRSTRLEN];
	struct rtnl_reply r = {};
	struct ifaddrmsg *ifa;
	struct nlmsghdr *nlh;
	int index, ret;

	ret = rtnl_ifindex(rt, name, &index);
	if (ret)
		return ret;
	nlh = rtnl_request(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = prefixlen;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = index;
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(addr), &addr);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(addr), &addr);
	ret = rtnl_talk(rt, nlh, &r);
	if (ret)
		rtnl_report(ret, &r, "add address %s/%u to %s",
			    inet_ntop(AF_INET, &addr, text, sizeof(text)), prefixlen, name);
	return ret;
}

int husk_rtnl_route_default(struct husk_rtnl *rt, const char *name, struct in_addr gw)
{
	char buf[RTNL_REQ_SIZE], text[INET_ADDRSTRLEN];
	struct rtnl_reply r = {};
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int index, ret;

	ret = rtnl_ifindex(rt, name, &index);
	if (ret)
		return ret;
	nlh = rtnl_request(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_GATEWAY, sizeof(gw), &gw);
	mnl_attr_put_u32(nlh, RTA_OIF, index);
	ret = rtnl_talk(rt, nlh, &r);
	if (ret)
		rtnl_report(ret, &r, "add default route via %s dev %s",
			    inet_ntop(AF_INET, &gw, text, sizeof(text)), name);
	return ret;
}

/* Names seen in a link dump that start with a prefix. */
struct link_names {
	const char *prefix;
	size_t prefix_len;
	char (*names)[IFNAMSIZ];
	size_t count, cap;
};

static int link_name_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **name = data;

	if (mnl_attr_get_type(attr) == IFLA_IFNAME &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		*name = attr;
	return MNL_CB_OK;
}

static int link_names_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *attr = NULL;
	struct link_names *ln = data;
	const char *name;
	void *grown;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(struct ifinfomsg), link_name_attr_cb, &attr) < 0)
		return MNL_CB_ERROR;
	if (!attr)
		return MNL_CB_OK;
	name = mnl_attr_get_str(attr);
	if (strncmp(name, ln->prefix, ln->prefix_len) || strlen(name) >= IFNAMSIZ)
		return MNL_CB_OK;
	if (ln->count == ln->cap) {
		ln->cap = ln->cap ? 2 * ln->cap : 16;
		grown = realloc(ln->names, ln->cap * sizeof(*ln->names));
		if (!grown) {
			errno = ENOMEM;
			return MNL_CB_ERROR;
		}
		ln->names = grown;
	}
	snprintf(ln->names[ln->count++], IFNAMSIZ, "%s", name);
	return MNL_CB_OK;
}

/* Dump all links; the kernel flags a dump that raced with a change, which is retried. */
static int rtnl_link_names(struct husk_rtnl *rt, struct link_names *ln)
{
	struct rtnl_reply r = {.cb = link_names_cb, .data = ln, .dump = true};
	char buf[RTNL_REQ_SIZE];
	struct nlmsghdr *nlh;
	int tries, ret = 0;

	for (tries = 0; tries < RTNL_DUMP_TRIES; tries++) {
		ln->count = 0;
		nlh = rtnl_request(buf, RTM_GETLINK, NLM_F_DUMP);
		rtnl_put_ifinfomsg(nlh);
		mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
		ret = rtnl_talk(rt, nlh, &r);
		if (ret != -EINTR)
			break;
	}
	if (ret)
		rtnl_report(ret, &r, "list links");
	return ret;
}

int husk_rtnl_links_foreach(struct husk_rtnl *rt, const char *prefix,
			    int (*fn)(struct husk_rtnl *rt, const char *name, void *data),
			    void *data)
{
	struct link_names ln = {.prefix = prefix, .prefix_len = strlen(prefix)};
	size_t i;
	int ret;

	ret = rtnl_link_names(rt, &ln);
	for (i = 0; !ret && i < ln.count; i++)
		ret = fn(rt, ln.names[i], data);
	free(ln.names);
	return ret;
}

struct netns_config {
	int netns_fd;
	const char *dev;
	struct in_addr addr, gw;
	unsigned prefixlen;
	int err;
};

static int netns_configure(struct husk_rtnl *rt, const struct netns_config *c)
{
	int ret;

	ret = husk_rtnl_link_up(rt, "lo");
	if (!ret)
		ret = husk_rtnl_addr_add(rt, c->dev, c->addr, c->prefixlen);
	/* The link must be up before a route can use it (else -ENETDOWN). */
	if (!ret)
		ret = husk_rtnl_link_up(rt, c->dev);
	if (!ret)
		ret = husk_rtnl_route_default(rt, c->dev, c->gw);
	return ret;
}

/*
 * The namespace is per thread: setns() here changes only this thread, which
 * ends right after, so no other thread ever runs in the environment's netns.
 */
static void *netns_config_thread(void *arg)
{
	struct netns_config *c = arg;
	struct husk_rtnl *rt;

	if (setns(c->netns_fd, CLONE_NEWNET) < 0) {
		c->err = -errno;
		pr_err("rtnl: enter network namespace (fd %d): %s", c->netns_fd, strerror(errno));
		return NULL;
	}
	c->err = husk_rtnl_open(&rt);
	if (c->err)
		return NULL;
	c->err = netns_configure(rt, c);
	husk_rtnl_close(rt);
	return NULL;
}

int husk_rtnl_configure_in_netns(int netns_fd, const char *dev, struct in_addr addr,
				 unsigned prefixlen, struct in_addr gw)
{
	struct netns_config c = {
	    .netns_fd = netns_fd,
	    .dev = dev,
	    .addr = addr,
	    .gw = gw,
	    .prefixlen = prefixlen,
	};
	pthread_t thread;
	int ret;

	ret = pthread_create(&thread, NULL, netns_config_thread, &c);
	if (ret) {
		pr_err("rtnl: start a thread to configure %s in its namespace: %s", dev,
		       strerror(ret));
		return -ret;
	}
	pthread_join(thread, NULL);
	return c.err;
}
