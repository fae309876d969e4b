/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Initial sequence numbers per RFC 6528: ISN = M + F(localip, localport,
 * remoteip, remoteport, secretkey), M a clock ticking every 4 us, F a
 * keyed pseudorandom function: SipHash-2-4 here, keyed once per stack.
 */
#ifndef FJ_TCP_ISN_H
#define FJ_TCP_ISN_H

#include <stddef.h>
#include <stdint.h>

/* SipHash-2-4 of @len bytes with the 128-bit @key. */
uint64_t fj_siphash24(const uint8_t key[16], const void *data, size_t len);
/* @now_us: a microsecond clock. */
uint32_t fj_tcp_isn(const uint8_t key[16], uint32_t laddr, uint16_t lport, uint32_t raddr,
		    uint16_t rport, uint64_t now_us);
/* The same over IPv6 addresses, all 128 bits of each. */
uint32_t fj_tcp_isn6(const uint8_t key[16], const uint8_t laddr[16], uint16_t lport,
		     const uint8_t raddr[16], uint16_t rport, uint64_t now_us);

#endif
