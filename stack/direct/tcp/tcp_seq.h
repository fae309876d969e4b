/* SPDX-License-Identifier: BSD-3-Clause */
/* Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4). */
#ifndef FJ_TCP_SEQ_H
#define FJ_TCP_SEQ_H

#include <stdbool.h>
#include <stdint.h>

static inline bool fj_seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool fj_seq_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline bool fj_seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline bool fj_seq_ge(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }
/* a <= x < b, the window test of RFC 9293 §3.10.7.4. */
static inline bool
fj_seq_in(uint32_t x, uint32_t a, uint32_t b)
{
	return fj_seq_le(a, x) && fj_seq_lt(x, b);
}
static inline uint32_t fj_seq_max(uint32_t a, uint32_t b) { return fj_seq_gt(a, b) ? a : b; }
static inline uint32_t fj_seq_min(uint32_t a, uint32_t b) { return fj_seq_lt(a, b) ? a : b; }

#endif
