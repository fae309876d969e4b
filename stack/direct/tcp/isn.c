/* SPDX-License-Identifier: BSD-3-Clause */
/* SipHash-2-4 (Aumasson and Bernstein, 2012) and RFC 6528 ISNs. */
#include <string.h>

#include "isn.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static uint64_t
le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

#define SIPROUND                                                                 \
	do {                                                                     \
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);        \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                           \
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                           \
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);        \
	} while (0)

uint64_t
fj_siphash24(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	uint64_t v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
	uint64_t m;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		m = le64(p + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	uint8_t last[8] = { 0 };
	memcpy(last, p + i, len - i);
	last[7] = (uint8_t)len;
	m = le64(last);
	v3 ^= m;
	SIPROUND;
	SIPROUND;
	v0 ^= m;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

uint32_t
fj_tcp_isn(const uint8_t key[16], uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport,
	   uint64_t now_us)
{
	uint8_t t[12];

	memcpy(t, &laddr, 4);
	memcpy(t + 4, &raddr, 4);
	memcpy(t + 8, &lport, 2);
	memcpy(t + 10, &rport, 2);
	return (uint32_t)(now_us / 4) + (uint32_t)fj_siphash24(key, t, sizeof(t));
}

uint32_t
fj_tcp_isn6(const uint8_t key[16], const uint8_t laddr[16], uint16_t lport,
	    const uint8_t raddr[16], uint16_t rport, uint64_t now_us)
{
	uint8_t t[36];

	memcpy(t, laddr, 16);
	memcpy(t + 16, raddr, 16);
	memcpy(t + 32, &lport, 2);
	memcpy(t + 34, &rport, 2);
	return (uint32_t)(now_us / 4) + (uint32_t)fj_siphash24(key, t, sizeof(t));
}
