/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SYN cookies (RFC 4987 §3.6): when a listener's queue of half-open
 * connections is full, the SYN-ACK's sequence number carries what the
 * connection needs and nothing is kept; the client's ACK brings it back.
 *
 *   bits 31-27  a 64-second period counter, mod 32 (a cookie lives for at
 *               most two periods)
 *   bits 26-24  the client's MSS, as an index into a table of common sizes
 *   bits 23-0   SipHash-2-4 of the 4-tuple, the client's ISN and the period
 *
 * Window scaling and SACK-permitted only fit when the client uses
 * timestamps: they ride in the low bits of our TSval and come back in its
 * TSecr. Without timestamps the connection goes without them.
 */
#ifndef FJ_TCP_SYNCOOKIE_H
#define FJ_TCP_SYNCOOKIE_H

#include <stdbool.h>
#include <stdint.h>

struct fj_cookie_tuple {
	uint32_t laddr, raddr;
	uint16_t lport, rport;
	uint32_t peer_isn;
	bool v6;                      /* the addresses are these instead */
	uint8_t laddr6[16], raddr6[16];
};

#define FJ_COOKIE_PERIOD_S 64
#define FJ_COOKIE_TS_BITS 6 /* low bits of TSval: shift (0xf = none) and SACK */

/* Our ISN for a SYN with @mss from @t at @now_s (seconds). */
uint32_t fj_syncookie_make(const uint8_t key[16], const struct fj_cookie_tuple *t, uint16_t mss,
			   uint64_t now_s);
/* The MSS a returned cookie (@iss = SEG.ACK - 1) stands for, or 0 if it is
 * not one of ours, or too old. */
uint16_t fj_syncookie_check(const uint8_t key[16], const struct fj_cookie_tuple *t, uint32_t iss,
			    uint64_t now_s);
/* The options that ride in TSval's low bits, and back. */
uint32_t fj_syncookie_ts_bits(bool has_ws, uint8_t ws, bool sack_perm);
void fj_syncookie_ts_opts(uint32_t tsecr, bool *has_ws, uint8_t *ws, bool *sack_perm);

#endif
