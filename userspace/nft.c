// SPDX-License-Identifier: GPL-2.0
/*
 * The nftables table of egress, through libnftnl and libmnl.
 *
 * Every change is one nfnetlink batch (NFNL_MSG_BATCH_BEGIN, the messages,
 * NFNL_MSG_BATCH_END), which nf_tables commits or aborts as a whole. Each
 * message in it asks for an ack; a transaction succeeded only when every
 * one of them came back as 0, and the first error is reported with the
 * message that caused it.
 */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "log.h"
#include "nft.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The largest transaction (the table) is about 2 KiB in 14 messages. */
#define NFT_TXN_LIMIT 16384
#define NFT_TXN_MAX_MSGS 32
#define NFT_RECV_SIZE 8192
/*
 * nft's number for its "ifname" datatype (enum datatypes in nftables) and
 * its byte order (enum byteorder: host endian), which nft keeps in the
 * set's user data; without it `nft list` shows the names as "".
 */
#define NFT_TYPE_IFNAME 41
#define NFT_BYTEORDER_HOST_ENDIAN 1
#define NFT_PRIO_SRCNAT 100
#define NFT_PRIO_FILTER 0
/* Lets the rules of the same transaction refer to the set being created. */
#define NFT_ALLOW_HOST_SET_ID 1

/* One transaction being built and then sent. */
struct nft_txn {
	struct mnl_nlmsg_batch *batch;
	uint32_t begin_seq, end_seq, first_seq;
	unsigned int count;   /* messages between begin and end */
	unsigned int pending; /* of those, not acked yet */
	int build_err;	      /* building a message failed (-ENOMEM, -E2BIG) */
	int batch_err;	      /* the kernel refused the batch itself */
	bool failed;	      /* some message was answered with an error */
	char what[NFT_TXN_MAX_MSGS][96];
	int err[NFT_TXN_MAX_MSGS];
	bool acked[NFT_TXN_MAX_MSGS];
	/* mnl_nlmsg_batch needs room for one message beyond its limit. */
	char buf[2 * NFT_TXN_LIMIT];
};

struct husk_nft {
	struct mnl_socket *nl;
	unsigned int portid;
	uint32_t seq;
	struct nft_txn txn;
	char recv_buf[NFT_RECV_SIZE];
};

int husk_nft_open(struct husk_nft **out)
{
	struct husk_nft *nft;
	int on = 1;
	int ret;

	nft = calloc(1, sizeof(*nft));
	if (!nft)
		return -ENOMEM;
	nft->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nft->nl) {
		ret = -errno;
		pr_err("nftables: open a NETLINK_NETFILTER socket: %s", strerror(errno));
		free(nft);
		return ret;
	}
	if (mnl_socket_bind(nft->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		pr_err("nftables: bind the NETLINK_NETFILTER socket: %s", strerror(errno));
		husk_nft_close(nft);
		return ret;
	}
	/* Errors need not carry a copy of the request back; keeps acks small. */
	mnl_socket_setsockopt(nft->nl, NETLINK_CAP_ACK, &on, sizeof(on));
	nft->portid = mnl_socket_get_portid(nft->nl);
	nft->seq = time(NULL);
	*out = nft;
	return 0;
}

void husk_nft_close(struct husk_nft *nft)
{
	if (!nft)
		return;
	mnl_socket_close(nft->nl);
	free(nft);
}

static void txn_next(struct nft_txn *t)
{
	if (!mnl_nlmsg_batch_next(t->batch) && !t->build_err)
		t->build_err = -E2BIG;
}

/* Start a transaction; NULL when out of memory. */
static struct nft_txn *txn_begin(struct husk_nft *nft)
{
	struct nft_txn *t = &nft->txn;

	/* All of it: attribute padding must not be garbage from the last one. */
	memset(t, 0, sizeof(*t));
	t->batch = mnl_nlmsg_batch_start(t->buf, NFT_TXN_LIMIT);
	if (!t->batch)
		return NULL;
	t->begin_seq = nft->seq++;
	nftnl_batch_begin(mnl_nlmsg_batch_current(t->batch), t->begin_seq);
	txn_next(t);
	t->first_seq = nft->seq;
	return t;
}

/* Start the next message of t; the caller adds its payload and calls txn_next(). */
static struct nlmsghdr *txn_msg(struct husk_nft *nft, struct nft_txn *t, uint16_t type,
				uint16_t flags, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static struct nlmsghdr *txn_msg(struct husk_nft *nft, struct nft_txn *t, uint16_t type,
				uint16_t flags, const char *fmt, ...)
{
	va_list ap;

	if (t->count == NFT_TXN_MAX_MSGS) {
		/* Still built (in the batch's overflow room), never sent. */
		t->build_err = -E2BIG;
	} else {
		va_start(ap, fmt);
		vsnprintf(t->what[t->count], sizeof(t->what[0]), fmt, ap);
		va_end(ap);
		t->count++;
	}
	return nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(t->batch), type, NFPROTO_IPV4,
				     flags | NLM_F_ACK, nft->seq++);
}

static int txn_ack_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	struct nft_txn *t = data;
	uint32_t i;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e))
		return MNL_CB_OK;
	if ((nlh->nlmsg_seq == t->begin_seq || nlh->nlmsg_seq == t->end_seq) && e->error) {
		t->batch_err = e->error;
		t->failed = true;
		return MNL_CB_OK;
	}
	i = nlh->nlmsg_seq - t->first_seq;
	if (i >= t->count || t->acked[i])
		return MNL_CB_OK; /* left over from an earlier transaction */
	t->acked[i] = true;
	t->err[i] = e->error;
	t->pending--;
	if (e->error)
		t->failed = true;
	return MNL_CB_OK;
}

static int txn_recv(struct husk_nft *nft, struct nft_txn *t)
{
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = {[NLMSG_ERROR] = txn_ack_cb};
	ssize_t n;

	n = mnl_socket_recvfrom(nft->nl, nft->recv_buf, sizeof(nft->recv_buf));
	if (n < 0) {
		pr_err("nftables: read the answer to a transaction: %s", strerror(errno));
		return -errno;
	}
	/* Sequence numbers are matched by txn_ack_cb, not by libmnl (seq 0). */
	mnl_cb_run2(nft->recv_buf, n, 0, nft->portid, NULL, t, ctl, MNL_ARRAY_SIZE(ctl));
	return 0;
}

/*
 * Wait until every message is acked or one failed. nfnetlink processes a
 * batch inside sendmsg(), so once one error is in, whatever else it has to
 * say about this batch is queued already; that is drained without waiting
 * so that the next transaction starts on a clean socket.
 */
static int txn_read_acks(struct husk_nft *nft, struct nft_txn *t)
{
	struct pollfd pfd = {.fd = mnl_socket_get_fd(nft->nl), .events = POLLIN};
	int ret;

	while (t->pending && !t->failed) {
		ret = txn_recv(nft, t);
		if (ret)
			return ret;
	}
	while (poll(&pfd, 1, 0) > 0) {
		ret = txn_recv(nft, t);
		if (ret)
			return ret;
	}
	return 0;
}

/* The first error, in message order; every message must have been acked. */
static int txn_result(const struct nft_txn *t, int quiet_err)
{
	unsigned int i;

	if (t->batch_err) {
		pr_err("nftables: the kernel refused the transaction: %s", strerror(-t->batch_err));
		return t->batch_err;
	}
	for (i = 0; i < t->count; i++) {
		if (!t->err[i])
			continue;
		if (t->err[i] != quiet_err)
			pr_err("nftables: %s: %s", t->what[i], strerror(-t->err[i]));
		return t->err[i];
	}
	for (i = 0; i < t->count; i++) {
		if (!t->acked[i]) {
			pr_err("nftables: %s: no acknowledgement from the kernel", t->what[i]);
			return -EPROTO;
		}
	}
	return 0;
}

static int txn_commit(struct husk_nft *nft, struct nft_txn *t, int quiet_err)
{
	int ret;

	t->end_seq = nft->seq++;
	nftnl_batch_end(mnl_nlmsg_batch_current(t->batch), t->end_seq);
	txn_next(t);
	if (t->build_err) {
		ret = t->build_err;
		pr_err("nftables: build a transaction of %u messages: %s", t->count,
		       strerror(-ret));
		goto out;
	}
	t->pending = t->count;
	if (mnl_socket_sendto(nft->nl, mnl_nlmsg_batch_head(t->batch),
			      mnl_nlmsg_batch_size(t->batch)) < 0) {
		ret = -errno;
		pr_err("nftables: send a transaction: %s", strerror(errno));
		goto out;
	}
	ret = txn_read_acks(nft, t);
	if (!ret)
		ret = txn_result(t, quiet_err);
out:
	mnl_nlmsg_batch_stop(t->batch);
	return ret;
}

static void txn_add_table(struct husk_nft *nft, struct nft_txn *t, uint16_t type, uint16_t flags)
{
	struct nftnl_table *tbl = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!tbl) {
		t->build_err = -ENOMEM;
		return;
	}
	nftnl_table_set_str(tbl, NFTNL_TABLE_NAME, HUSK_NFT_TABLE);
	nlh = txn_msg(nft, t, type, flags, "%s table ip %s",
		      type == NFT_MSG_NEWTABLE ? "add" : "delete", HUSK_NFT_TABLE);
	nftnl_table_nlmsg_build_payload(nlh, tbl);
	txn_next(t);
	nftnl_table_free(tbl);
}

static void txn_add_set(struct husk_nft *nft, struct nft_txn *t)
{
	struct nftnl_udata_buf *udata = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;

	if (!s || !udata ||
	    !nftnl_udata_put_u32(udata, NFTNL_UDATA_SET_KEYBYTEORDER, NFT_BYTEORDER_HOST_ENDIAN)) {
		t->build_err = -ENOMEM;
		goto out;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, HUSK_NFT_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, HUSK_NFT_ALLOW_HOST_SET);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, NFT_TYPE_IFNAME);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, IFNAMSIZ);
	nftnl_set_set_u32(s, NFTNL_SET_ID, NFT_ALLOW_HOST_SET_ID);
	nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(udata),
			   nftnl_udata_buf_len(udata));
	nlh = txn_msg(nft, t, NFT_MSG_NEWSET, NLM_F_CREATE | NLM_F_EXCL, "add set %s",
		      HUSK_NFT_ALLOW_HOST_SET);
	nftnl_set_nlmsg_build_payload(nlh, s);
	txn_next(t);
out:
	if (s)
		nftnl_set_free(s);
	if (udata)
		nftnl_udata_buf_free(udata);
}

struct chain_spec {
	const char *name;
	const char *type;
	uint32_t hook;
	int32_t prio;
};

static const struct chain_spec chain_specs[] = {
    {"postrouting", "nat", NF_INET_POST_ROUTING, NFT_PRIO_SRCNAT},
    {"forward", "filter", NF_INET_FORWARD, NFT_PRIO_FILTER},
    {"input", "filter", NF_INET_LOCAL_IN, NFT_PRIO_FILTER},
};

static void txn_add_chain(struct husk_nft *nft, struct nft_txn *t, const struct chain_spec *spec)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	if (!c) {
		t->build_err = -ENOMEM;
		return;
	}
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, HUSK_NFT_TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, spec->name);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, spec->type);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, spec->hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, spec->prio);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nlh = txn_msg(nft, t, NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL, "add chain %s",
		      spec->name);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	txn_next(t);
	nftnl_chain_free(c);
}

/* What a rule matches on, and what it does. */
enum rule_match {
	MATCH_END,
	MATCH_IIF_HUSK,
	MATCH_OIF_HUSK,
	MATCH_OIF_NOT_HUSK,
	MATCH_IIF_ALLOW_HOST,
	MATCH_CT_ESTABLISHED,
	MATCH_SADDR_POOL,
};

enum rule_action { ACTION_ACCEPT, ACTION_DROP, ACTION_MASQUERADE };

struct rule_spec {
	const char *chain;
	const char *text; /* in nft syntax, for error messages */
	enum rule_match match[3];
	enum rule_action action;
};

static const struct rule_spec rule_specs[] = {
    {"postrouting",
     "ip saddr POOL oifname != \"" HUSK_NFT_IF_PREFIX "*\" masquerade",
     {MATCH_SADDR_POOL, MATCH_OIF_NOT_HUSK},
     ACTION_MASQUERADE},
    {"forward",
     "iifname \"" HUSK_NFT_IF_PREFIX "*\" oifname \"" HUSK_NFT_IF_PREFIX "*\" drop",
     {MATCH_IIF_HUSK, MATCH_OIF_HUSK},
     ACTION_DROP},
    {"forward",
     "oifname \"" HUSK_NFT_IF_PREFIX "*\" ct state established,related accept",
     {MATCH_OIF_HUSK, MATCH_CT_ESTABLISHED},
     ACTION_ACCEPT},
    {"forward", "oifname \"" HUSK_NFT_IF_PREFIX "*\" drop", {MATCH_OIF_HUSK}, ACTION_DROP},
    {"input",
     "iifname \"" HUSK_NFT_IF_PREFIX "*\" ct state established,related accept",
     {MATCH_IIF_HUSK, MATCH_CT_ESTABLISHED},
     ACTION_ACCEPT},
    {"input", "iifname @allow_host accept", {MATCH_IIF_ALLOW_HOST}, ACTION_ACCEPT},
    {"input", "iifname \"" HUSK_NFT_IF_PREFIX "*\" drop", {MATCH_IIF_HUSK}, ACTION_DROP},
};

/* The pool the rules are about. */
struct rule_ctx {
	uint32_t pool;	  /* network byte order */
	uint32_t netmask; /* network byte order */
};

static struct nftnl_expr *rule_expr(struct nftnl_rule *r, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	if (e)
		nftnl_rule_add_expr(r, e);
	return e;
}

static int expr_meta(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = rule_expr(r, "meta");

	if (!e)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	return 0;
}

static int expr_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = rule_expr(r, "cmp");

	if (!e)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	return 0;
}

/* reg1 = reg1 & mask (len bytes). */
static int expr_mask(struct nftnl_rule *r, const void *mask, uint32_t len)
{
	static const uint8_t zero[16];
	struct nftnl_expr *e = rule_expr(r, "bitwise");

	if (!e)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	return 0;
}

/*
 * An ifname with a trailing "*" in nft is a prefix match: cmp over the
 * prefix's bytes only, without the terminating NUL.
 */
static int match_ifname_prefix(struct nftnl_rule *r, uint32_t key, uint32_t op, const char *prefix)
{
	int ret = expr_meta(r, key);

	return ret ? ret : expr_cmp(r, op, prefix, strlen(prefix));
}

static int match_allow_host(struct nftnl_rule *r)
{
	struct nftnl_expr *e;
	int ret;

	ret = expr_meta(r, NFT_META_IIFNAME);
	if (ret)
		return ret;
	e = rule_expr(r, "lookup");
	if (!e)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, HUSK_NFT_ALLOW_HOST_SET);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, NFT_ALLOW_HOST_SET_ID);
	return 0;
}

/* ct state established,related: (state & (EST|REL)) != 0 */
static int match_ct_established(struct nftnl_rule *r)
{
	uint32_t mask = NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED);
	uint32_t zero = 0;
	struct nftnl_expr *e;
	int ret;

	e = rule_expr(r, "ct");
	if (!e)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	ret = expr_mask(r, &mask, sizeof(mask));
	return ret ? ret : expr_cmp(r, NFT_CMP_NEQ, &zero, sizeof(zero));
}

/* ip saddr POOL: the source address (offset 12 of the IPv4 header) masked. */
static int match_saddr(struct nftnl_rule *r, const struct rule_ctx *ctx)
{
	struct nftnl_expr *e;
	int ret;

	e = rule_expr(r, "payload");
	if (!e)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, 12);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, sizeof(uint32_t));
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	ret = expr_mask(r, &ctx->netmask, sizeof(ctx->netmask));
	return ret ? ret : expr_cmp(r, NFT_CMP_EQ, &ctx->pool, sizeof(ctx->pool));
}

static int rule_add_match(struct nftnl_rule *r, enum rule_match m, const struct rule_ctx *ctx)
{
	switch (m) {
	case MATCH_IIF_HUSK:
		return match_ifname_prefix(r, NFT_META_IIFNAME, NFT_CMP_EQ, HUSK_NFT_IF_PREFIX);
	case MATCH_OIF_HUSK:
		return match_ifname_prefix(r, NFT_META_OIFNAME, NFT_CMP_EQ, HUSK_NFT_IF_PREFIX);
	case MATCH_OIF_NOT_HUSK:
		return match_ifname_prefix(r, NFT_META_OIFNAME, NFT_CMP_NEQ, HUSK_NFT_IF_PREFIX);
	case MATCH_IIF_ALLOW_HOST:
		return match_allow_host(r);
	case MATCH_CT_ESTABLISHED:
		return match_ct_established(r);
	case MATCH_SADDR_POOL:
		return match_saddr(r, ctx);
	case MATCH_END:
		break;
	}
	return 0;
}

static int rule_add_action(struct nftnl_rule *r, enum rule_action action)
{
	struct nftnl_expr *e;

	if (action == ACTION_MASQUERADE)
		return rule_expr(r, "masq") ? 0 : -ENOMEM;
	e = rule_expr(r, "immediate");
	if (!e)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT,
			   action == ACTION_ACCEPT ? NF_ACCEPT : NF_DROP);
	return 0;
}

static int rule_build(struct nftnl_rule *r, const struct rule_spec *spec,
		      const struct rule_ctx *ctx)
{
	unsigned int i;
	int ret;

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, HUSK_NFT_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, spec->chain);
	for (i = 0; i < ARRAY_SIZE(spec->match) && spec->match[i] != MATCH_END; i++) {
		ret = rule_add_match(r, spec->match[i], ctx);
		if (ret)
			return ret;
	}
	return rule_add_action(r, spec->action);
}

static void txn_add_rule(struct husk_nft *nft, struct nft_txn *t, const struct rule_spec *spec,
			 const struct rule_ctx *ctx)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh;
	int ret;

	ret = r ? rule_build(r, spec, ctx) : -ENOMEM;
	if (ret) {
		t->build_err = ret;
	} else {
		nlh = txn_msg(nft, t, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND,
			      "add rule '%s' to chain %s", spec->text, spec->chain);
		nftnl_rule_nlmsg_build_payload(nlh, r);
		txn_next(t);
	}
	nftnl_rule_free(r);
}

int husk_nft_table_create(struct husk_nft *nft, struct in_addr pool, unsigned prefixlen)
{
	struct rule_ctx ctx = {
	    .pool = pool.s_addr,
	    .netmask = htonl(prefixlen ? ~0U << (32 - prefixlen) : 0),
	};
	struct nft_txn *t = txn_begin(nft);
	unsigned int i;

	if (!t)
		return -ENOMEM;
	txn_add_table(nft, t, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL);
	txn_add_set(nft, t);
	for (i = 0; i < ARRAY_SIZE(chain_specs); i++)
		txn_add_chain(nft, t, &chain_specs[i]);
	for (i = 0; i < ARRAY_SIZE(rule_specs); i++)
		txn_add_rule(nft, t, &rule_specs[i], &ctx);
	return txn_commit(nft, t, 0);
}

int husk_nft_table_delete(struct husk_nft *nft)
{
	struct nft_txn *t = txn_begin(nft);

	if (!t)
		return -ENOMEM;
	txn_add_table(nft, t, NFT_MSG_DELTABLE, 0);
	return txn_commit(nft, t, -ENOENT);
}

int husk_nft_table_exists(struct husk_nft *nft)
{
	struct nftnl_table *tbl = nftnl_table_alloc();
	char req[512] = "";
	struct nlmsghdr *nlh;
	uint32_t seq;
	ssize_t n;
	int ret;

	if (!tbl)
		return -ENOMEM;
	nftnl_table_set_str(tbl, NFTNL_TABLE_NAME, HUSK_NFT_TABLE);
	seq = nft->seq++;
	nlh = nftnl_nlmsg_build_hdr(req, NFT_MSG_GETTABLE, NFPROTO_IPV4, NLM_F_ACK, seq);
	nftnl_table_nlmsg_build_payload(nlh, tbl);
	nftnl_table_free(tbl);
	if (mnl_socket_sendto(nft->nl, nlh, nlh->nlmsg_len) < 0)
		goto fail;
	/* The table comes back first (ignored), then the ack, or just an error. */
	do {
		n = mnl_socket_recvfrom(nft->nl, nft->recv_buf, sizeof(nft->recv_buf));
		if (n < 0)
			goto fail;
		ret = mnl_cb_run(nft->recv_buf, n, seq, nft->portid, NULL, NULL);
	} while (ret == MNL_CB_OK || (ret < 0 && errno == EPROTO));
	if (ret == MNL_CB_STOP)
		return 1;
	if (errno == ENOENT)
		return 0;
fail:
	ret = -errno;
	pr_err("nftables: look up table ip %s: %s", HUSK_NFT_TABLE, strerror(errno));
	return ret;
}

static int allow_host_change(struct husk_nft *nft, uint16_t type, const char *ifname)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	struct nftnl_set *s = nftnl_set_alloc();
	char key[IFNAMSIZ] = "";
	bool add = type == NFT_MSG_NEWSETELEM;
	struct nft_txn *t;
	struct nlmsghdr *nlh;
	int ret;

	if (!s || !e) {
		if (e)
			nftnl_set_elem_free(e);
		if (s)
			nftnl_set_free(s);
		return -ENOMEM;
	}
	/* The key is the whole 16-byte name, zero padded, as meta iifname loads it. */
	snprintf(key, sizeof(key), "%s", ifname);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, HUSK_NFT_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, HUSK_NFT_ALLOW_HOST_SET);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, sizeof(key));
	nftnl_set_elem_add(s, e);

	t = txn_begin(nft);
	if (!t) {
		nftnl_set_free(s);
		return -ENOMEM;
	}
	nlh = txn_msg(nft, t, type, add ? NLM_F_CREATE : 0, "%s %s %s set %s",
		      add ? "add" : "remove", key, add ? "to" : "from", HUSK_NFT_ALLOW_HOST_SET);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	txn_next(t);
	nftnl_set_free(s);
	/* Removing a name that is not there is what the caller wanted anyway. */
	ret = txn_commit(nft, t, add ? 0 : -ENOENT);
	return ret == -ENOENT && !add ? 0 : ret;
}

int husk_nft_allow_host_add(struct husk_nft *nft, const char *ifname)
{
	return allow_host_change(nft, NFT_MSG_NEWSETELEM, ifname);
}

int husk_nft_allow_host_del(struct husk_nft *nft, const char *ifname)
{
	return allow_host_change(nft, NFT_MSG_DELSETELEM, ifname);
}
