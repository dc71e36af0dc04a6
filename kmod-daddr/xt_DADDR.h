/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * DADDR target ABI, unchanged from the original iptables-daddr: the rule's target data is the
 * new destination address, IPv4 in the first 4 bytes or IPv6 in all 16.
 */
#ifndef _XT_DADDR_H
#define _XT_DADDR_H

#include <linux/netfilter.h>

struct xt_daddr_tginfo {
	union nf_inet_addr daddr;
};

#endif /* _XT_DADDR_H */
