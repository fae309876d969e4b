/* SPDX-License-Identifier: BSD-3-Clause */
/* SYN cookies (syncookie.h). */
#include <string.h>

#include "isn.h"
#include "syncookie.h"

/* MSS values a cookie can carry; a client's is rounded down to one. */
static const uint16_t mss_table[8] = { 536, 1024, 1200, 1300, 1360, 1400, 1440, 1460 };

static uint32_t
cookie_hash(const uint8_t key[16], const struct fj_cookie_tuple *t, uint32_t period)
{
	uint8_t b[48];
	size_t n = 0;

	if (t->v6) {
		memcpy(b, t->laddr6, 16);
		memcpy(b + 16, t->raddr6, 16);
		n = 32;
	} else {
		memcpy(b, &t->laddr, 4);
		memcpy(b + 4, &t->raddr, 4);
		n = 8;
	}
	memcpy(b + n, &t->lport, 2);
	memcpy(b + n + 2, &t->rport, 2);
	memcpy(b + n + 4, &t->peer_isn, 4);
	memcpy(b + n + 8, &period, 4);
	return (uint32_t)fj_siphash24(key, b, n + 12) & 0xffffffu;
}

uint32_t
fj_syncookie_make(const uint8_t key[16], const struct fj_cookie_tuple *t, uint16_t mss,
		  uint64_t now_s)
{
	uint32_t period = (uint32_t)(now_s / FJ_COOKIE_PERIOD_S);
	uint32_t idx = 0;

	for (uint32_t i = 0; i < 8; i++)
		if (mss_table[i] <= mss)
			idx = i;
	return (period & 31u) << 27 | idx << 24 | cookie_hash(key, t, period);
}

uint16_t
fj_syncookie_check(const uint8_t key[16], const struct fj_cookie_tuple *t, uint32_t iss,
		   uint64_t now_s)
{
	uint32_t period = (uint32_t)(now_s / FJ_COOKIE_PERIOD_S);

	/* This period's or the one before: 64 to 128 seconds to answer. */
	for (uint32_t age = 0; age < 2 && age <= period; age++) {
		uint32_t p = period - age;
		if ((iss >> 27) == (p & 31u) && (iss & 0xffffffu) == cookie_hash(key, t, p))
			return mss_table[(iss >> 24) & 7u];
	}
	return 0;
}

uint32_t
fj_syncookie_ts_bits(bool has_ws, uint8_t ws, bool sack_perm)
{
	return (has_ws ? (ws > 14 ? 14u : ws) : 0xfu) | (sack_perm ? 0x10u : 0);
}

void
fj_syncookie_ts_opts(uint32_t tsecr, bool *has_ws, uint8_t *ws, bool *sack_perm)
{
	uint8_t w = tsecr & 0xfu;

	*has_ws = w != 0xf;
	*ws = *has_ws ? (w > 14 ? 14 : w) : 0;
	*sack_perm = tsecr & 0x10u;
}
