/* SPDX-License-Identifier: BSD-3-Clause */
/* The Internet checksum (RFC 1071) and the pseudo-header sum. */
#ifndef FJ_WIRE_CHECKSUM_H
#define FJ_WIRE_CHECKSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One's-complement sum of @len bytes added to @sum (RFC 1071). */
uint32_t fj_csum_add(uint32_t sum, const void *data, size_t len);
/* Fold and complement: the value to put in a header. */
uint16_t fj_csum_fold(uint32_t sum);
/* Sum of the IPv4 pseudo-header (RFC 768, RFC 9293 §3.1). */
uint32_t fj_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);

#endif
