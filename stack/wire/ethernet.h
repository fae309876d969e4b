/* SPDX-License-Identifier: BSD-3-Clause */
/* Ethernet II framing. */
#ifndef FJ_WIRE_ETHERNET_H
#define FJ_WIRE_ETHERNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "result.h"

#define FJ_ETH_HDR_LEN 14
#define FJ_ETH_P_IPV4 0x0800
#define FJ_ETH_P_ARP 0x0806
#define FJ_ETH_P_IPV6 0x86dd

struct fj_mac {
	uint8_t b[6];
};

struct fj_eth {
	struct fj_mac dst;
	struct fj_mac src;
	uint16_t type;
};

enum fj_wire_err fj_eth_parse(const uint8_t *p, size_t len, struct fj_eth *out);
/* Writes 14 bytes. */
void fj_eth_build(uint8_t *p, const struct fj_mac *dst, const struct fj_mac *src, uint16_t type);

static inline bool
fj_mac_is_broadcast(const struct fj_mac *m)
{
	return (m->b[0] & m->b[1] & m->b[2] & m->b[3] & m->b[4] & m->b[5]) == 0xff;
}

static inline bool
fj_mac_is_multicast(const struct fj_mac *m)
{
	return m->b[0] & 1;
}

static inline bool
fj_mac_eq(const struct fj_mac *a, const struct fj_mac *b)
{
	for (int i = 0; i < 6; i++)
		if (a->b[i] != b->b[i])
			return false;
	return true;
}

#endif
