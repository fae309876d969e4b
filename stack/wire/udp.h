/* SPDX-License-Identifier: BSD-3-Clause */
/* UDP headers (RFC 768). */
#ifndef FJ_WIRE_UDP_H
#define FJ_WIRE_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "result.h"

#define FJ_UDP_HDR_LEN 8

struct fj_udp_hdr {
	uint16_t sport;
	uint16_t dport;
	uint16_t len; /* header + payload, from the header */
};

/*
 * Validate a UDP datagram of @len bytes (the IP payload): the length field
 * within what arrived and at least 8; the checksum, when the sender set one
 * (RFC 768: 0 means none) and @csum_ok is false.
 */
enum fj_wire_err fj_udp_parse(const uint8_t *p, size_t len, uint32_t src, uint32_t dst,
			      bool csum_ok, struct fj_udp_hdr *out);
/*
 * Writes the 8-byte header in front of @payload_len bytes of payload that
 * follow it. With @csum_offload, only the pseudo-header sum is stored (the
 * port completes it); else the full checksum over the payload.
 */
void fj_udp_build(uint8_t *p, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
		  uint16_t payload_len, bool csum_offload);

#endif
