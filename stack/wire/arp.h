/* SPDX-License-Identifier: BSD-3-Clause */
/* ARP for IPv4 over Ethernet (RFC 826). */
#ifndef FJ_WIRE_ARP_H
#define FJ_WIRE_ARP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ethernet.h"

#define FJ_ARP_LEN 28
#define FJ_ARP_REQUEST 1
#define FJ_ARP_REPLY 2

struct fj_arp {
	uint16_t op;
	struct fj_mac sha;
	uint32_t spa;
	struct fj_mac tha;
	uint32_t tpa;
};

enum fj_wire_err fj_arp_parse(const uint8_t *p, size_t len, struct fj_arp *out);
/* Writes 28 bytes (Ethernet/IPv4 hardware and protocol types). */
void fj_arp_build(uint8_t *p, const struct fj_arp *a);

#endif
