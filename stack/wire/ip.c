/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4 (RFC 791, RFC 1122), ICMP (RFC 792) and UDP (RFC 768) headers. */
#include <string.h>

#include "bytes.h"
#include "wire.h"


enum fj_drop
fj_ipv4_parse(const uint8_t *p, size_t len, bool csum_ok, struct fj_ipv4 *out)
{
	if (len < FJ_IPV4_HDR_LEN)
		return FJ_DROP_TRUNCATED;
	if (p[0] >> 4 != 4)
		return FJ_DROP_IP_VERSION;
	out->hdr_len = (uint8_t)((p[0] & 0xf) * 4);
	if (out->hdr_len < FJ_IPV4_HDR_LEN || out->hdr_len > len)
		return FJ_DROP_IP_HDR_LEN;
	out->total_len = rd16(p + 2);
	if (out->total_len < out->hdr_len || out->total_len > len)
		return FJ_DROP_IP_TOTAL_LEN;
	if (!csum_ok && fj_csum_fold(fj_csum_add(0, p, out->hdr_len)) != 0)
		return FJ_DROP_IP_CHECKSUM;
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
		return FJ_DROP_IP_SOURCE;
	/* MF set or a non-zero offset: a fragment (RFC 791 §3.2). */
	if (rd16(p + 6) & 0x3fff)
		return FJ_DROP_IP_FRAGMENT;
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

enum fj_drop
fj_icmp_parse(const uint8_t *p, size_t len, struct fj_icmp *out)
{
	if (len < FJ_ICMP_HDR_LEN)
		return FJ_DROP_TRUNCATED;
	if (fj_csum_fold(fj_csum_add(0, p, len)) != 0)
		return FJ_DROP_ICMP_CHECKSUM;
	out->type = p[0];
	out->code = p[1];
	return FJ_OK;
}

void
fj_icmp_echo_to_reply(uint8_t *p, size_t len)
{
	p[0] = FJ_ICMP_ECHO_REPLY;
	p[1] = 0;
	wr16(p + 2, 0);
	wr16(p + 2, fj_csum_fold(fj_csum_add(0, p, len)));
}

size_t
fj_icmp_unreach_build(uint8_t *p, uint8_t code, const uint8_t *quote, size_t quote_len)
{
	p[0] = FJ_ICMP_DEST_UNREACH;
	p[1] = code;
	memset(p + 2, 0, 6);
	memmove(p + FJ_ICMP_HDR_LEN, quote, quote_len);
	size_t len = FJ_ICMP_HDR_LEN + quote_len;
	wr16(p + 2, fj_csum_fold(fj_csum_add(0, p, len)));
	return len;
}

enum fj_drop
fj_udp_parse(const uint8_t *p, size_t len, uint32_t src, uint32_t dst, bool csum_ok,
	     struct fj_udp_hdr *out)
{
	if (len < FJ_UDP_HDR_LEN)
		return FJ_DROP_TRUNCATED;
	out->sport = rd16(p);
	out->dport = rd16(p + 2);
	out->len = rd16(p + 4);
	if (out->len < FJ_UDP_HDR_LEN || out->len > len)
		return FJ_DROP_UDP_LEN;
	if (!csum_ok && rd16(p + 6) != 0) {
		uint32_t s = fj_csum_pseudo(src, dst, FJ_IP_PROTO_UDP, out->len);
		if (fj_csum_fold(fj_csum_add(s, p, out->len)) != 0)
			return FJ_DROP_UDP_CHECKSUM;
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
