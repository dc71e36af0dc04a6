/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The seam between the C shim (daddr_shim.c) and the Rust part (daddr_main.rs) of xt_DADDR.
 * Keep in sync with the `extern "C"` items in daddr_main.rs.
 */
#ifndef _DADDR_SHIM_H
#define _DADDR_SHIM_H

#include <linux/types.h>

/* skb checksum state handed to Rust; csum is written back for CHECKSUM_COMPLETE. */
struct daddr_csum_state {
	u8 ip_summed;	/* CHECKSUM_NONE .. CHECKSUM_PARTIAL */
	u32 csum;	/* skb->csum, meaningful for CHECKSUM_COMPLETE */
};

enum daddr_verdict {
	DADDR_CONTINUE = 0,
	DADDR_DROP = 1,
};

enum daddr_check {
	DADDR_CHECK_OK = 0,
	DADDR_CHECK_TABLE = 1,
	DADDR_CHECK_UNSPECIFIED = 2,
	DADDR_CHECK_MULTICAST = 3,
};

/* Rust, called from C. */
extern const char daddr_default_tables[];	/* default of the `table` parameter */
extern const u32 daddr_l4_window;		/* transport header bytes Rust may touch */
u32 daddr_rust_rewrite(u8 family, u8 *hdr, u32 len, u32 thoff, u16 fragoff,
		       const u8 *daddr, struct daddr_csum_state *cs);
u32 daddr_rust_checkentry(u8 family, const u8 *daddr, const char *table);
const char *daddr_rust_allowed_tables(void);

/* C, called from Rust. */
int daddr_shim_register(void);
void daddr_shim_unregister(void);
const char *daddr_shim_table_param(void);

#endif /* _DADDR_SHIM_H */
