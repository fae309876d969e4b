/* SPDX-License-Identifier: BSD-3-Clause */
/* ICMP for IPv4 (RFC 792). */
#ifndef FJ_WIRE_ICMP_H
#define FJ_WIRE_ICMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "result.h"

#define FJ_ICMP_HDR_LEN 8
#define FJ_ICMP_ECHO_REPLY 0
#define FJ_ICMP_DEST_UNREACH 3
#define FJ_ICMP_ECHO_REQUEST 8
#define FJ_ICMP_PORT_UNREACH 3 /* code */

struct fj_icmp {
	uint8_t type;
	uint8_t code;
};

/* Checks the checksum over the whole message of @len bytes. */
enum fj_wire_err fj_icmp_parse(const uint8_t *p, size_t len, struct fj_icmp *out);
/* Turn an echo request of @len bytes into its reply, in place (RFC 792). */
void fj_icmp_echo_to_reply(uint8_t *p, size_t len);
/*
 * Build a destination-unreachable message at @p: 8 bytes of ICMP header,
 * then the offending datagram's IP header and the first 8 bytes of its
 * payload (RFC 792; RFC 1812 §4.3.2.3 allows more, we quote what fits in
 * @quote_len). Returns the message length.
 */
size_t fj_icmp_unreach_build(uint8_t *p, uint8_t code, const uint8_t *quote, size_t quote_len);

#endif
