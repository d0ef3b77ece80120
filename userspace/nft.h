/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The nftables table of egress ("ip husk"), built with libnftnl and sent
 * over libmnl in nfnetlink batches, so that each change is one atomic
 * transaction whose every message is acked:
 *
 *   table ip husk {
 *     set allow_host { type ifname; }
 *     chain postrouting { type nat hook postrouting priority srcnat;
 *       ip saddr POOL oifname != "hsk*" masquerade }
 *     chain forward { type filter hook forward priority filter;
 *       iifname "hsk*" oifname "hsk*" drop
 *       oifname "hsk*" ct state established,related accept
 *       oifname "hsk*" drop }
 *     chain input { type filter hook input priority filter;
 *       iifname "hsk*" ct state established,related accept
 *       iifname @allow_host accept
 *       iifname "hsk*" drop }
 *   }
 *
 * One struct husk_nft is one NETLINK_NETFILTER socket in the namespace it
 * was opened in; calls on it must not run concurrently. Errors are logged
 * here, one line each, except -ENOENT of husk_nft_table_delete().
 *
 * The set's key type is nft's "ifname" datatype (16 bytes, zero padded), so
 * that `nft list table ip husk` shows it as the rules above.
 */
#ifndef HUSK_NFT_H
#define HUSK_NFT_H

#include <netinet/in.h>

#define HUSK_NFT_TABLE "husk"
/* Every environment's host-side link is named HUSK_NFT_IF_PREFIX<slot>. */
#define HUSK_NFT_IF_PREFIX "hsk"
#define HUSK_NFT_ALLOW_HOST_SET "allow_host"

struct husk_nft;

int husk_nft_open(struct husk_nft **out);
void husk_nft_close(struct husk_nft *nft);

/*
 * Create the table, its set, chains and rules in one transaction. pool is
 * the network address of pool/prefixlen.
 */
int husk_nft_table_create(struct husk_nft *nft, struct in_addr pool, unsigned prefixlen);

/* Delete the table with everything in it; -ENOENT when there is none, not logged. */
int husk_nft_table_delete(struct husk_nft *nft);

/* 1 when the table exists, 0 when not, or a negative errno. */
int husk_nft_table_exists(struct husk_nft *nft);

/* Add or remove a link name in the set allow_host; either succeeds if it is already so. */
int husk_nft_allow_host_add(struct husk_nft *nft, const char *ifname);
int husk_nft_allow_host_del(struct husk_nft *nft, const char *ifname);

#endif
