/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4 headers (RFC 791, RFC 1122). */
#ifndef FJ_WIRE_IPV4_H
#define FJ_WIRE_IPV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "result.h"

#define FJ_IPV4_HDR_LEN 20
#define FJ_IP_PROTO_ICMP 1
#define FJ_IP_PROTO_TCP 6
#define FJ_IP_PROTO_UDP 17
#define FJ_IPV4_BROADCAST 0xffffffffu

struct fj_ipv4 {
	uint8_t hdr_len;    /* bytes, 20-60 */
	uint8_t tos;
	uint8_t ttl;
	uint8_t proto;
	uint16_t total_len; /* header + payload, <= the frame's bytes */
	uint16_t id;
	uint16_t frag_off;  /* a fragment's place in its datagram, bytes */
	bool mf;            /* more fragments follow */
	uint32_t src;
	uint32_t dst;
};

/*
 * Validate an IPv4 header at @p with @len bytes after the Ethernet header:
 * version, IHL, total length against what arrived (trailing Ethernet
 * padding is allowed), header checksum unless @csum_ok (the port verified
 * it), source address, and a fragment's place (fj_ipv4_is_fragment): all
 * but the last carry a non-zero multiple of 8 bytes, and none reaches past
 * 65,535 bytes of datagram (RFC 791 §3.2). TTL is not a reason to drop a
 * datagram addressed to us (RFC 1122 §3.2.1.7).
 */
enum fj_wire_err fj_ipv4_parse(const uint8_t *p, size_t len, bool csum_ok,
			       struct fj_ipv4 *out);
/* Part of a larger datagram (RFC 791 §3.2): MF set or an offset. */
static inline bool
fj_ipv4_is_fragment(const struct fj_ipv4 *ip)
{
	return ip->mf || ip->frag_off != 0;
}

#define FJ_IPV4_DF 0x4000
#define FJ_IPV4_MF 0x2000

/*
 * Writes a 20-byte header, DF set, no options. The checksum is filled
 * unless @csum_offload (the port fills it; the field is left 0).
 */
void fj_ipv4_build(uint8_t *p, uint32_t src, uint32_t dst, uint8_t proto, uint16_t payload_len,
		   uint16_t id, uint8_t ttl, bool csum_offload);

static inline bool
fj_ipv4_is_multicast(uint32_t a)
{
	return (a >> 28) == 0xe;
}

#endif
