/* SPDX-License-Identifier: BSD-3-Clause */
/* ICMPv6 (RFC 4443) and Neighbor Discovery's messages (RFC 4861). */
#ifndef FJ_WIRE_ICMP6_H
#define FJ_WIRE_ICMP6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ethernet.h"
#include "ipv6.h"
#include "result.h"

#define FJ_ICMP6_DEST_UNREACH 1
#define FJ_ICMP6_PKT_TOO_BIG 2
#define FJ_ICMP6_TIME_EXCEEDED 3
#define FJ_ICMP6_PARAM_PROBLEM 4
#define FJ_ICMP6_ECHO_REQUEST 128
#define FJ_ICMP6_ECHO_REPLY 129
#define FJ_ND_ROUTER_SOLICIT 133
#define FJ_ND_ROUTER_ADVERT 134
#define FJ_ND_NEIGHBOR_SOLICIT 135
#define FJ_ND_NEIGHBOR_ADVERT 136

#define FJ_ICMP6_PORT_UNREACH 4       /* destination unreachable: port */
#define FJ_ICMP6_REASM_TIME_EXCEEDED 1 /* time exceeded: reassembly */

#define FJ_ND_NA_ROUTER 0x80
#define FJ_ND_NA_SOLICITED 0x40
#define FJ_ND_NA_OVERRIDE 0x20
#define FJ_ND_RA_MANAGED 0x80
#define FJ_ND_RA_OTHER 0x40
#define FJ_ND_PREFIX_ONLINK 0x80
#define FJ_ND_PREFIX_AUTO 0x40
#define FJ_ND_PREFIXES_MAX 4 /* prefix information options of an RA kept */

/* Errors and informational messages: everything is an error below 128. */
static inline bool
fj_icmp6_is_error(uint8_t type)
{
	return type < 128;
}

struct fj_icmp6 {
	uint8_t type, code;
};

/*
 * The ICMPv6 message of @len bytes at @p from @src to @dst: at least its
 * 4-byte header, the checksum over the pseudo-header (RFC 4443 §2.3)
 * unless @csum_ok.
 */
enum fj_wire_err fj_icmp6_parse(const uint8_t *p, size_t len, const struct fj_ip6 *src,
				const struct fj_ip6 *dst, bool csum_ok, struct fj_icmp6 *out);
/* Fill the checksum of the message of @len bytes at @p. */
void fj_icmp6_set_csum(uint8_t *p, size_t len, const struct fj_ip6 *src, const struct fj_ip6 *dst);

/* An ICMPv6 error (RFC 4443 §3) and what it quotes of our datagram: its
 * addresses, the upper layer behind its extension headers, the ports. */
struct fj_icmp6_error {
	uint8_t type, code;
	uint32_t mtu;          /* packet too big: the next hop's MTU */
	struct fj_ip6 src, dst;
	uint8_t proto;
	bool has_ports;        /* the quote reaches the ports (not behind a later fragment) */
	uint16_t sport, dport;
	bool has_seq;          /* ...and the 4 bytes after them (TCP's sequence number) */
	uint32_t seq;
};

/* The error message of @len bytes at @p (its checksum checked):
 * FJ_WIRE_ICMP_QUOTE unless it is an error quoting an IPv6 header. */
enum fj_wire_err fj_icmp6_error_parse(const uint8_t *p, size_t len, struct fj_icmp6_error *out);
/* What it says as a negative errno, as fj_icmp_errno does for ICMP:
 * port unreachable -ECONNREFUSED, prohibited or policy -EACCES, no route
 * -ENETUNREACH, packet too big -EMSGSIZE, parameter problem -EPROTO, else
 * -EHOSTUNREACH. */
int fj_icmp6_errno(const struct fj_icmp6_error *e);

struct fj_nd_prefix {
	struct fj_ip6 prefix;
	uint8_t len;
	uint8_t flags; /* FJ_ND_PREFIX_ONLINK, FJ_ND_PREFIX_AUTO */
	uint32_t valid, preferred; /* seconds, 0xffffffff: infinity */
};

/* A Neighbor Discovery message, its options parsed. */
struct fj_nd {
	uint8_t type;
	uint8_t flags;        /* NA: R, S, O; RA: M, O */
	struct fj_ip6 target; /* NS, NA */
	bool has_sll, has_tll;
	struct fj_mac sll, tll; /* source / target link-layer address options */
	/* RA (RFC 4861 §4.2) */
	uint8_t cur_hop_limit;
	uint16_t router_lifetime; /* seconds */
	uint32_t reachable_ms, retrans_ms;
	uint32_t mtu;         /* the MTU option, 0 if none */
	uint8_t nprefix;
	struct fj_nd_prefix prefix[FJ_ND_PREFIXES_MAX];
};

/*
 * Validate an NS, NA, RS or RA of @len bytes at @p (its ICMPv6 checksum
 * checked) as RFC 4861 §6.1 and §7.1 require of a host: hop limit 255 (no
 * router passed it on), code 0, the type's minimum length, options of
 * non-zero length within the message, a target that is not multicast, no
 * source link-layer option from the unspecified address, an NA to a
 * multicast address not marked solicited, an RA from a link-local source.
 * Unknown options are skipped (§4.6); FJ_WIRE_ND_FORMAT for the rest.
 */
enum fj_wire_err fj_nd_parse(const uint8_t *p, size_t len, const struct fj_ipv6 *ip,
			     struct fj_nd *out);
/* An NS for @target at @p, with our @sll unless NULL (DAD); its length.
 * The checksum is for the caller (fj_icmp6_set_csum). */
size_t fj_nd_build_ns(uint8_t *p, const struct fj_ip6 *target, const struct fj_mac *sll);
/* An NA for @target with @flags and our @tll; its length. */
size_t fj_nd_build_na(uint8_t *p, const struct fj_ip6 *target, uint8_t flags,
		      const struct fj_mac *tll);
/* An RS with our @sll; its length. */
size_t fj_nd_build_rs(uint8_t *p, const struct fj_mac *sll);

#endif
