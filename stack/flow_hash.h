/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The software steering hash: which shard owns a TCP or UDP flow when the
 * device does not choose by RSS. Both directions of a flow must agree, so
 * the two ends enter symmetrically (XOR of the addresses, XOR of the
 * ports); the mix after it is a few shifts, one multiply and a modulo,
 * operations classic BPF also has, so the socket backend's SO_REUSEPORT
 * program (socket/reuseport.c) computes the very same owner in the kernel.
 */
#ifndef FJ_FLOW_HASH_H
#define FJ_FLOW_HASH_H

#include <stdint.h>

#define FJ_FLOW_HASH_MUL 0x45d9f3bu

/* Host-order addresses and ports of either end, in either order. */
static inline uint32_t
fj_flow_hash(uint32_t ip_a, uint32_t ip_b, uint16_t port_a, uint16_t port_b)
{
	uint32_t p = (uint32_t)(port_a ^ port_b);
	uint32_t x = ip_a ^ ip_b ^ (p << 16 | p);

	x ^= x >> 16;
	x *= FJ_FLOW_HASH_MUL;
	x ^= x >> 16;
	return x;
}

static inline unsigned
fj_flow_owner(uint32_t ip_a, uint32_t ip_b, uint16_t port_a, uint16_t port_b, unsigned n)
{
	return n <= 1 ? 0 : fj_flow_hash(ip_a, ip_b, port_a, port_b) % n;
}

#endif
