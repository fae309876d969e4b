/* SPDX-License-Identifier: BSD-3-Clause */
/* The Internet checksum (RFC 1071) and the names of drop reasons. */
#include <string.h>

#include "wire.h"

uint32_t
fj_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t s = 0;

	/*
	 * RFC 1071 §2: the one's complement sum does not depend on byte
	 * order, so native words are added eight bytes at a time and the
	 * result swapped to network order once at the end. An odd last byte
	 * is padded with zero.
	 */
	while (len >= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		s += (v & 0xffffffffu) + (v >> 32);
		p += 8;
		len -= 8;
	}
	while (len >= 2) {
		uint16_t w;
		memcpy(&w, p, 2);
		s += w;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint16_t w = 0;
		memcpy(&w, p, 1);
		s += w;
	}
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	s = ((s >> 8) | (s << 8)) & 0xffff;
#endif
	s += sum;
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

uint16_t
fj_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint32_t
fj_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	uint64_t s = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + len;

	return (uint32_t)((s & 0xffffffffu) + (s >> 32));
}

const char *
fj_drop_name(enum fj_drop d)
{
	static const char *const names[FJ_DROP__COUNT] = {
		[FJ_OK] = "ok",
		[FJ_DROP_TRUNCATED] = "truncated",
		[FJ_DROP_NOT_FOR_US] = "not_for_us",
		[FJ_DROP_ETHERTYPE] = "ethertype",
		[FJ_DROP_ARP_FORMAT] = "arp_format",
		[FJ_DROP_IP_VERSION] = "ip_version",
		[FJ_DROP_IP_HDR_LEN] = "ip_header_length",
		[FJ_DROP_IP_TOTAL_LEN] = "ip_total_length",
		[FJ_DROP_IP_CHECKSUM] = "ip_checksum",
		[FJ_DROP_IP_SOURCE] = "ip_source",
		[FJ_DROP_IP_FRAGMENT] = "ip_fragment",
		[FJ_DROP_IP_PROTO] = "ip_protocol",
		[FJ_DROP_ICMP_CHECKSUM] = "icmp_checksum",
		[FJ_DROP_ICMP_TYPE] = "icmp_type",
		[FJ_DROP_UDP_LEN] = "udp_length",
		[FJ_DROP_UDP_CHECKSUM] = "udp_checksum",
		[FJ_DROP_UDP_PORT] = "udp_port_closed",
		[FJ_DROP_ARP_PENDING_FULL] = "arp_pending_full",
		[FJ_DROP_NO_ROUTE] = "no_route",
		[FJ_DROP_NO_MBUF] = "no_mbuf",
		[FJ_DROP_TX_FULL] = "tx_full",
		[FJ_DROP_ARP_TIMEOUT] = "arp_timeout",
		[FJ_DROP_ICMP_RATE] = "icmp_rate_limited",
		[FJ_DROP_OVERSIZE] = "oversize",
		[FJ_DROP_TCP_HDR_LEN] = "tcp_header_length",
		[FJ_DROP_TCP_CHECKSUM] = "tcp_checksum",
		[FJ_DROP_TCP_OPTIONS] = "tcp_options",
	};
	return (unsigned)d < FJ_DROP__COUNT && names[d] ? names[d] : "unknown";
}
