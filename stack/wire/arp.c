/* SPDX-License-Identifier: BSD-3-Clause */
/* ARP for IPv4 over Ethernet (RFC 826). */
#include <string.h>

#include "bytes.h"
#include "arp.h"

enum fj_wire_err
fj_arp_parse(const uint8_t *p, size_t len, struct fj_arp *out)
{
	if (len < FJ_ARP_LEN)
		return FJ_WIRE_TRUNCATED;
	/* hrd Ethernet (1), pro IPv4, hln 6, pln 4 (RFC 826 packet format). */
	if (rd16(p) != 1 || rd16(p + 2) != FJ_ETH_P_IPV4 || p[4] != 6 || p[5] != 4)
		return FJ_WIRE_ARP_FORMAT;
	out->op = rd16(p + 6);
	if (out->op != FJ_ARP_REQUEST && out->op != FJ_ARP_REPLY)
		return FJ_WIRE_ARP_FORMAT;
	memcpy(out->sha.b, p + 8, 6);
	out->spa = rd32(p + 14);
	memcpy(out->tha.b, p + 18, 6);
	out->tpa = rd32(p + 24);
	return FJ_OK;
}

void
fj_arp_build(uint8_t *p, const struct fj_arp *a)
{
	wr16(p, 1);
	wr16(p + 2, FJ_ETH_P_IPV4);
	p[4] = 6;
	p[5] = 4;
	wr16(p + 6, a->op);
	memcpy(p + 8, a->sha.b, 6);
	wr32(p + 14, a->spa);
	memcpy(p + 18, a->tha.b, 6);
	wr32(p + 24, a->tpa);
}
