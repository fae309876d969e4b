/* SPDX-License-Identifier: BSD-3-Clause */
/* The owner of a received frame's flow (flow_hash.h): a pure parse. */
#include "flow_hash.h"

#define ETH_HDR_LEN 14

int
fj_steer_owner(const uint8_t *p, uint32_t len, unsigned n)
{
	if (n <= 1 || len < ETH_HDR_LEN + 20)
		return -1;
	/* IPv6: TCP to the shard of its folded addresses and its ports;
	 * a fragment (its fragment header first) to that of its addresses
	 * alone, where its datagram is reassembled. Hop-by-hop, routing and
	 * destination options before them are walked over (a few, within
	 * the frame); other IPv6 is the receiving shard's. */
	if (p[12] == 0x86 && p[13] == 0xdd) {
		const uint8_t *ip6 = p + ETH_HDR_LEN;
		if (len < ETH_HDR_LEN + 40 + 8 || (ip6[0] >> 4) != 6)
			return -1;
		uint32_t a = fj_ip6_fold(ip6 + 8), b = fj_ip6_fold(ip6 + 24);
		uint8_t nh = ip6[6];
		uint32_t off = ETH_HDR_LEN + 40;
		for (int k = 0; k < 4 && (nh == 0 || nh == 43 || nh == 60); k++) {
			if (off + 8 > len)
				return -1;
			nh = p[off];
			off += ((uint32_t)p[off + 1] + 1) * 8;
		}
		if (nh == 44)
			return (int)fj_flow_owner(a, b, 0, 0, n);
		if (nh != 6 || off + 4 > len)
			return -1;
		uint16_t sport = (uint16_t)(p[off] << 8 | p[off + 1]);
		uint16_t dport = (uint16_t)(p[off + 2] << 8 | p[off + 3]);
		return (int)fj_flow_owner(a, b, sport, dport, n);
	}
	if (p[12] != 0x08 || p[13] != 0x00)
		return -1;
	const uint8_t *ip = p + ETH_HDR_LEN;
	uint32_t ihl = (uint32_t)(ip[0] & 0xf) * 4;
	if ((ip[0] >> 4) != 4 || ihl < 20 || len < ETH_HDR_LEN + ihl)
		return -1;
	uint32_t src = (uint32_t)ip[12] << 24 | (uint32_t)ip[13] << 16 | (uint32_t)ip[14] << 8 | ip[15];
	uint32_t dst = (uint32_t)ip[16] << 24 | (uint32_t)ip[17] << 16 | (uint32_t)ip[18] << 8 | ip[19];
	/* A fragment, of any protocol: every piece of a datagram to the one
	 * shard its addresses choose (no fragment but the first has the
	 * ports), which reassembles it and passes it on to its flow's. */
	if ((((uint32_t)ip[6] << 8 | ip[7]) & 0x3fff) != 0)
		return (int)fj_flow_owner(src, dst, 0, 0, n);
	/* A whole TCP or UDP datagram; anything else is the receiving
	 * shard's to take or drop. */
	if (len < ETH_HDR_LEN + ihl + 4 || (ip[9] != 6 && ip[9] != 17))
		return -1;
	const uint8_t *l4 = ip + ihl;
	uint16_t sport = (uint16_t)(l4[0] << 8 | l4[1]), dport = (uint16_t)(l4[2] << 8 | l4[3]);
	return (int)fj_flow_owner(src, dst, sport, dport, n);
}

