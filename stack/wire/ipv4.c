/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4 headers (RFC 791, RFC 1122). */
#include <string.h>

#include "bytes.h"
#include "ipv4.h"

#include "checksum.h"

enum fj_wire_err
fj_ipv4_parse(const uint8_t *p, size_t len, bool csum_ok, struct fj_ipv4 *out)
{
	if (len < FJ_IPV4_HDR_LEN)
		return FJ_WIRE_TRUNCATED;
	if (p[0] >> 4 != 4)
		return FJ_WIRE_IP_VERSION;
	out->hdr_len = (uint8_t)((p[0] & 0xf) * 4);
	if (out->hdr_len < FJ_IPV4_HDR_LEN || out->hdr_len > len)
		return FJ_WIRE_IP_HDR_LEN;
	out->total_len = rd16(p + 2);
	if (out->total_len < out->hdr_len || out->total_len > len)
		return FJ_WIRE_IP_TOTAL_LEN;
	if (!csum_ok && fj_csum_fold(fj_csum_add(0, p, out->hdr_len)) != 0)
		return FJ_WIRE_IP_CHECKSUM;
	out->tos = p[1];
	out->id = rd16(p + 4);
	out->ttl = p[8];
	out->proto = p[9];
	out->src = rd32(p + 12);
	out->dst = rd32(p + 16);
	/* RFC 1122 §3.2.1.3: a source that is broadcast, multicast, "this
	 * network" or loopback cannot be answered; drop silently. */
	uint8_t a = (uint8_t)(out->src >> 24);
	if (out->src == FJ_IPV4_BROADCAST || fj_ipv4_is_multicast(out->src) || a == 127 ||
	    a == 0 || (a >> 4) == 0xf)
		return FJ_WIRE_IP_SOURCE;
	/* MF set or a non-zero offset: a fragment (RFC 791 §3.2). */
	if (rd16(p + 6) & 0x3fff)
		return FJ_WIRE_IP_FRAGMENT;
	return FJ_OK;
}

void
fj_ipv4_build(uint8_t *p, uint32_t src, uint32_t dst, uint8_t proto, uint16_t payload_len,
	      uint16_t id, uint8_t ttl, bool csum_offload)
{
	p[0] = 0x45;
	p[1] = 0;
	wr16(p + 2, (uint16_t)(FJ_IPV4_HDR_LEN + payload_len));
	wr16(p + 4, id);
	wr16(p + 6, 0x4000); /* DF: we never fragment */
	p[8] = ttl;
	p[9] = proto;
	wr16(p + 10, 0);
	wr32(p + 12, src);
	wr32(p + 16, dst);
	if (!csum_offload)
		wr16(p + 10, fj_csum_fold(fj_csum_add(0, p, FJ_IPV4_HDR_LEN)));
}

