// SPDX-License-Identifier: GPL-2.0-only
/*
 * xt_DADDR C shim: what Rust-for-Linux cannot express on its own (the kernel crate has no
 * netfilter bindings): the xt_target registrations, the `table` module parameter, the module
 * aliases, and thin trampolines that hand Rust the header bytes, the transport offset, the
 * fragment offset and the checksum state. Rust (daddr_main.rs) decides and returns the verdict.
 */
#include <linux/module.h>
#include <linux/skbuff.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netfilter.h>
#include <linux/netfilter/x_tables.h>
#include <net/ip.h>
#include <net/ipv6.h>

#include "xt_DADDR.h"
#include "daddr_shim.h"

/*
 * Same sysfs path as the original (/sys/module/xt_DADDR/parameters/table), and like the
 * original it holds one table name by default ("mangle"; the original's is "raw" since 0.9.0):
 * the upstream dsrctl passes its value to iptables -t. "raw,mangle" allows both (our extension).
 */
static char *table = (char *)daddr_default_tables;
module_param(table, charp, 0444);
MODULE_PARM_DESC(table, "Table the DADDR target may be used in: mangle (default), raw, or raw,mangle for both");

/* x_tables autoloads targets as {ip,ip6}t_<name>; nft_compat does the same. */
MODULE_ALIAS("ipt_DADDR");
MODULE_ALIAS("ip6t_DADDR");

const char *daddr_shim_table_param(void)
{
	return table;
}

/*
 * Make the network header and the first daddr_l4_window bytes of the transport header
 * writable (not the whole packet: GRO super-packets stay paged), then let Rust rewrite them.
 */
static unsigned int daddr_tg(struct sk_buff *skb, const struct xt_action_param *par,
			     u8 family, unsigned int nhlen, unsigned int thoff, u16 fragoff)
{
	const struct xt_daddr_tginfo *info = par->targinfo;
	struct daddr_csum_state cs;
	int noff = skb_network_offset(skb);
	unsigned int want;

	if (noff < 0)
		return NF_DROP;
	want = min_t(u64, skb->len, (u64)noff + max(thoff, nhlen) + daddr_l4_window);
	if (skb_ensure_writable(skb, want))
		return NF_DROP;

	cs.ip_summed = skb->ip_summed;
	cs.csum = (__force u32)skb->csum;
	if (daddr_rust_rewrite(family, skb->data + noff, want - noff, thoff, fragoff,
			       (const u8 *)&info->daddr, &cs) != DADDR_CONTINUE)
		return NF_DROP;
	if (skb->ip_summed == CHECKSUM_COMPLETE)
		skb->csum = (__force __wsum)cs.csum;
	return XT_CONTINUE;
}

static unsigned int daddr_tg4(struct sk_buff *skb, const struct xt_action_param *par)
{
	/* ip_tables always sets thoff; nft_compat leaves 0 for packets it could not parse. */
	unsigned int thoff = par->thoff ? par->thoff : ip_hdrlen(skb);

	return daddr_tg(skb, par, NFPROTO_IPV4, sizeof(struct iphdr), thoff, par->fragoff);
}

static unsigned int daddr_tg6(struct sk_buff *skb, const struct xt_action_param *par)
{
	unsigned int thoff = par->thoff;
	u16 fragoff = par->fragoff;

	/*
	 * ip6_tables finds the transport header only for rules with -p; find it here otherwise.
	 * Most packets have no extension header: the transport header follows the fixed one
	 * (which netfilter's IPv6 hooks always have linear), without ipv6_find_hdr()'s call and
	 * header copies on every rule. Otherwise walk the chain; a non-first fragment stops at
	 * the fragment header (thoff 0).
	 */
	if (thoff < sizeof(struct ipv6hdr)) {
		unsigned short frag = 0;

		if (!ipv6_ext_hdr(ipv6_hdr(skb)->nexthdr)) {
			thoff = skb_network_offset(skb) + sizeof(struct ipv6hdr);
		} else {
			thoff = 0;
			if (ipv6_find_hdr(skb, &thoff, -1, &frag, NULL) < 0)
				return NF_DROP;
		}
		fragoff = frag;
	}
	return daddr_tg(skb, par, NFPROTO_IPV6, sizeof(struct ipv6hdr), thoff, fragoff);
}

static int daddr_tg_check(const struct xt_tgchk_param *par)
{
	const struct xt_daddr_tginfo *info = par->targinfo;
	const char *prefix = par->family == NFPROTO_IPV6 ? "ip6" : "ip";

	switch (daddr_rust_checkentry(par->family, (const u8 *)&info->daddr, par->table)) {
	case DADDR_CHECK_OK:
		return 0;
	case DADDR_CHECK_TABLE:
		/* The wording of xt_check_target()'s own table message. */
		pr_info_ratelimited("%s_tables: DADDR target: only valid in %s table, not %s\n",
				    prefix, daddr_rust_allowed_tables(), par->table);
		break;
	case DADDR_CHECK_UNSPECIFIED:
		pr_info_ratelimited("%s_tables: DADDR target: --set-daddr must not be the unspecified address\n",
				    prefix);
		break;
	case DADDR_CHECK_MULTICAST:
		if (par->family == NFPROTO_IPV6)
			pr_info_ratelimited("%s_tables: DADDR target: --set-daddr %pI6c is multicast\n",
					    prefix, &info->daddr.in6);
		else
			pr_info_ratelimited("%s_tables: DADDR target: --set-daddr %pI4 is multicast\n",
					    prefix, &info->daddr.in);
		break;
	}
	return -EINVAL;
}

/* No .table: the allowed tables are checked in daddr_tg_check. No .hooks: as the original. */
static struct xt_target daddr_tg_reg[] __read_mostly = {
	{
		.name		= "DADDR",
		.revision	= 0,
		.family		= NFPROTO_IPV4,
		.target		= daddr_tg4,
		.checkentry	= daddr_tg_check,
		.targetsize	= sizeof(struct xt_daddr_tginfo),
		.me		= THIS_MODULE,
	},
	{
		.name		= "DADDR",
		.revision	= 0,
		.family		= NFPROTO_IPV6,
		.target		= daddr_tg6,
		.checkentry	= daddr_tg_check,
		.targetsize	= sizeof(struct xt_daddr_tginfo),
		.me		= THIS_MODULE,
	},
};

int daddr_shim_register(void)
{
	return xt_register_targets(daddr_tg_reg, ARRAY_SIZE(daddr_tg_reg));
}

void daddr_shim_unregister(void)
{
	xt_unregister_targets(daddr_tg_reg, ARRAY_SIZE(daddr_tg_reg));
}
