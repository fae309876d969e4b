/* SPDX-License-Identifier: BSD-3-Clause */
/* The Internet checksum (RFC 1071). */
#include <string.h>

#include "checksum.h"

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
