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
#define FJ_ICMP_SOURCE_QUENCH 4
#define FJ_ICMP_ECHO_REQUEST 8
#define FJ_ICMP_TIME_EXCEEDED 11
#define FJ_ICMP_PARAM_PROBLEM 12
/* Destination unreachable's codes (RFC 792, RFC 1122 §3.2.2.1, RFC 1812 §5.2.7.1). */
#define FJ_ICMP_NET_UNREACH 0
#define FJ_ICMP_HOST_UNREACH 1
#define FJ_ICMP_PROTO_UNREACH 2
#define FJ_ICMP_PORT_UNREACH 3
#define FJ_ICMP_FRAG_NEEDED 4 /* and DF set: the next hop's MTU (RFC 1191) */
#define FJ_ICMP_NET_UNKNOWN 6
#define FJ_ICMP_HOST_UNKNOWN 7
#define FJ_ICMP_NET_PROHIBITED 9
#define FJ_ICMP_HOST_PROHIBITED 10
#define FJ_ICMP_ADMIN_PROHIBITED 13

struct fj_icmp {
	uint8_t type;
	uint8_t code;
};

/*
 * An ICMP error message (destination unreachable, source quench, time
 * exceeded, parameter problem) and what it quotes of the datagram that
 * caused it: its IP header and at least the first 8 bytes behind it
 * (RFC 792; RFC 1122 §3.2.2), the ports and, for TCP, the sequence number.
 */
struct fj_icmp_error {
	uint8_t type, code;
	uint16_t mtu;        /* fragmentation needed: the next hop's MTU (RFC 1191 §4), or 0 */
	uint32_t src, dst;   /* the quoted datagram's addresses */
	uint8_t proto;
	uint16_t total_len;  /* the quoted datagram's total length field */
	uint16_t sport, dport;
	uint32_t seq;        /* the 4 bytes after the ports (TCP's sequence number) */
};

/* Whether @type is an ICMP error message. */
static inline bool
fj_icmp_is_error(uint8_t type)
{
	return type == FJ_ICMP_DEST_UNREACH || type == FJ_ICMP_SOURCE_QUENCH ||
	       type == FJ_ICMP_TIME_EXCEEDED || type == FJ_ICMP_PARAM_PROBLEM;
}

/* The error message of @len bytes at @p (its checksum checked by
 * fj_icmp_parse): FJ_WIRE_ICMP_QUOTE unless it quotes an IPv4 header
 * (version 4, IHL 5 to 15) and 8 bytes behind it. */
enum fj_wire_err fj_icmp_error_parse(const uint8_t *p, size_t len, struct fj_icmp_error *out);

/* What an error says, as a negative errno (Linux's mapping): port
 * unreachable -ECONNREFUSED, protocol -ENOPROTOOPT, network unreachable or
 * unknown -ENETUNREACH, host unknown -EHOSTDOWN, prohibited -EACCES,
 * fragmentation needed -EMSGSIZE, parameter problem -EPROTO, anything
 * else (host unreachable, time exceeded, ...) -EHOSTUNREACH. */
int fj_icmp_errno(const struct fj_icmp_error *e);

/* Checks the checksum over the whole message of @len bytes, unless
 * @csum_ok (the caller checked it, as over a chain). */
enum fj_wire_err fj_icmp_parse(const uint8_t *p, size_t len, bool csum_ok, struct fj_icmp *out);
/* Turn an echo request into its reply, in place (RFC 792): only its
 * 8-byte header is written, the checksum updated for it. */
void fj_icmp_echo_to_reply(uint8_t *p);
#define FJ_ICMP_TTL_EXCEEDED 0        /* time exceeded: in transit */
#define FJ_ICMP_REASM_TIME_EXCEEDED 1 /* ...reassembly (RFC 792) */
/*
 * Build an error message (@type, @code) at @p: 8 bytes of ICMP header,
 * then the offending datagram's IP header and the first 8 bytes of its
 * payload (RFC 792; RFC 1812 §4.3.2.3 allows more, we quote what fits in
 * @quote_len). Returns the message length.
 */
size_t fj_icmp_error_build(uint8_t *p, uint8_t type, uint8_t code, const uint8_t *quote,
			   size_t quote_len);

#endif
