/* SPDX-License-Identifier: BSD-3-Clause */
/* UDP headers (RFC 768). */
#include <string.h>

#include "bytes.h"
#include "udp.h"

#include "checksum.h"
#include "ipv4.h"

enum fj_wire_err
fj_udp_parse(const uint8_t *p, size_t len, uint32_t src, uint32_t dst, bool csum_ok,
	     struct fj_udp_hdr *out)
{
	if (len < FJ_UDP_HDR_LEN)
		return FJ_WIRE_TRUNCATED;
	out->sport = rd16(p);
	out->dport = rd16(p + 2);
	out->len = rd16(p + 4);
	if (out->len < FJ_UDP_HDR_LEN || out->len > len)
		return FJ_WIRE_UDP_LEN;
	if (!csum_ok && rd16(p + 6) != 0) {
		uint32_t s = fj_csum_pseudo(src, dst, FJ_IP_PROTO_UDP, out->len);
		if (fj_csum_fold(fj_csum_add(s, p, out->len)) != 0)
			return FJ_WIRE_UDP_CHECKSUM;
	}
	return FJ_OK;
}

void
fj_udp_build(uint8_t *p, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
	     uint16_t payload_len, bool csum_offload)
{
	uint16_t len = (uint16_t)(FJ_UDP_HDR_LEN + payload_len);
	uint32_t s = fj_csum_pseudo(src, dst, FJ_IP_PROTO_UDP, len);

	wr16(p, sport);
	wr16(p + 2, dport);
	wr16(p + 4, len);
	if (csum_offload) {
		/* The port wants the pseudo-header sum, not complemented. */
		uint16_t f = (uint16_t)~fj_csum_fold(s);
		wr16(p + 6, f);
		return;
	}
	wr16(p + 6, 0);
	uint16_t c = fj_csum_fold(fj_csum_add(s, p, len));
	/* RFC 768: a computed zero is sent as all ones. */
	wr16(p + 6, c == 0 ? 0xffff : c);
}
