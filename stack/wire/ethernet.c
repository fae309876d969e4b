/* SPDX-License-Identifier: BSD-3-Clause */
/* Ethernet II framing. */
#include <string.h>

#include "bytes.h"
#include "ethernet.h"

enum fj_wire_err
fj_eth_parse(const uint8_t *p, size_t len, struct fj_eth *out)
{
	if (len < FJ_ETH_HDR_LEN)
		return FJ_WIRE_TRUNCATED;
	memcpy(out->dst.b, p, 6);
	memcpy(out->src.b, p + 6, 6);
	out->type = rd16(p + 12);
	/* 802.3 length fields (< 0x600) and anything else: not ours. */
	if (out->type != FJ_ETH_P_IPV4 && out->type != FJ_ETH_P_ARP && out->type != FJ_ETH_P_IPV6)
		return FJ_WIRE_ETHERTYPE;
	return FJ_OK;
}

void
fj_eth_build(uint8_t *p, const struct fj_mac *dst, const struct fj_mac *src, uint16_t type)
{
	memcpy(p, dst->b, 6);
	memcpy(p + 6, src->b, 6);
	wr16(p + 12, type);
}

