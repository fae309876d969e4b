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
	/* RFC 791 §3.2: the offset counts 8-byte units; every fragment but
	 * the last carries whole units, at least one. */
	uint16_t ff = rd16(p + 6);
	uint32_t plen = (uint32_t)out->total_len - out->hdr_len;
	out->mf = (ff & FJ_IPV4_MF) != 0;
	out->frag_off = (uint16_t)((ff & 0x1fff) * 8);
	if (out->mf && (plen == 0 || plen % 8 != 0))
		return FJ_WIRE_IP_FRAGMENT;
	if ((uint32_t)out->frag_off + plen + out->hdr_len > UINT16_MAX)
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
	wr16(p + 6, FJ_IPV4_DF); /* fj_ipv4_output clears it where it fragments */
	p[8] = ttl;
	p[9] = proto;
	wr16(p + 10, 0);
	wr32(p + 12, src);
	wr32(p + 16, dst);
	if (!csum_offload)
		wr16(p + 10, fj_csum_fold(fj_csum_add(0, p, FJ_IPV4_HDR_LEN)));
}

