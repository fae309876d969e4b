/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The software steering hash: which shard owns a TCP or UDP flow when the
 * device does not choose by RSS. Both directions of a flow must agree, so
 * the two ends enter symmetrically (XOR of the addresses, XOR of the
 * ports); the mix after it is shifts, multiplies and a modulo,
 * operations classic BPF also has, so the socket backend's SO_REUSEPORT
 * program (socket/reuseport.c) computes the very same owner in the kernel.
 */
#ifndef FJ_FLOW_HASH_H
#define FJ_FLOW_HASH_H

#include <stdint.h>

#define FJ_FLOW_HASH_PORTS 0x9e3779b1u /* spreads the ports over the word */
#define FJ_FLOW_HASH_M1 0x85ebca6bu    /* MurmurHash3's finaliser */
#define FJ_FLOW_HASH_M2 0xc2b2ae35u

/* Host-order addresses and ports of either end, in either order. */
static inline uint32_t
fj_flow_hash(uint32_t ip_a, uint32_t ip_b, uint16_t port_a, uint16_t port_b)
{
	uint32_t x = (ip_a ^ ip_b) + (uint32_t)(port_a ^ port_b) * FJ_FLOW_HASH_PORTS;

	x ^= x >> 16;
	x *= FJ_FLOW_HASH_M1;
	x ^= x >> 13;
	x *= FJ_FLOW_HASH_M2;
	x ^= x >> 16;
	return x;
}

/* An IPv6 address (16 bytes, network order) folded to 32 bits for the
 * hash: the XOR of its four words, host order. */
static inline uint32_t
fj_ip6_fold(const uint8_t *a)
{
	uint32_t x = 0;

	for (int w = 0; w < 16; w += 4)
		x ^= (uint32_t)a[w] << 24 | (uint32_t)a[w + 1] << 16 | (uint32_t)a[w + 2] << 8 |
		     a[w + 3];
	return x;
}

static inline unsigned
fj_flow_owner(uint32_t ip_a, uint32_t ip_b, uint16_t port_a, uint16_t port_b, unsigned n)
{
	return n <= 1 ? 0 : fj_flow_hash(ip_a, ip_b, port_a, port_b) % n;
}

/*
 * The shard of @nshards that owns a received Ethernet frame's flow, or -1
 * when any shard may take it (not IPv4 TCP or UDP nor IPv6 TCP, too short
 * to tell); a fragment's (IPv4, or IPv6 with its fragment header first)
 * is that of its addresses alone, where its datagram is reassembled; IPv6
 * addresses enter folded (fj_ip6_fold): bytes in, a number out.
 */
int fj_steer_owner(const uint8_t *frame, uint32_t len, unsigned nshards);

#endif
