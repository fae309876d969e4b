/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv6 headers and their extension headers (RFC 8200), addresses (RFC 4291). */
#ifndef FJ_WIRE_IPV6_H
#define FJ_WIRE_IPV6_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ethernet.h"
#include "result.h"

#define FJ_IPV6_HDR_LEN 40
#define FJ_IPV6_NH_HOPOPTS 0
#define FJ_IPV6_NH_ROUTING 43
#define FJ_IPV6_NH_FRAGMENT 44
#define FJ_IPV6_NH_NONE 59
#define FJ_IPV6_NH_DSTOPTS 60
#define FJ_IP_PROTO_ICMPV6 58
/* Extension headers walked at most (RFC 8200 §4.1 names six kinds; more
 * is an attack on the walk, not a datagram). */
#define FJ_IPV6_EXT_MAX 8

/* An address, network order. */
struct fj_ip6 {
	uint8_t b[16];
};

/* What a parser found wrong where RFC 8200 wants an ICMPv6 parameter
 * problem (RFC 4443 §3.4): the code and the offset of the offending byte
 * from the IPv6 header; code FJ_IPV6_NO_ICMP when the datagram is dropped
 * silently. */
#define FJ_IPV6_NO_ICMP 0xff

struct fj_ipv6 {
	struct fj_ip6 src, dst;
	uint16_t payload_len; /* from the header: what follows its 40 bytes */
	uint8_t hop_limit;
	uint8_t tclass;
	uint32_t flow;        /* the flow label, 20 bits */
	uint8_t proto;        /* the header after the extension headers */
	uint16_t l4_off;      /* where it starts, from the IPv6 header */
	/* A fragment header (RFC 8200 §4.5): the walk stops there. */
	bool frag;
	bool mf;
	uint16_t frag_off;    /* bytes */
	uint32_t frag_id;
	uint16_t frag_hdr_off;
	uint16_t frag_nh_at;  /* the next-header field that names it */
	/* A refusal's ICMPv6 parameter problem (FJ_IPV6_NO_ICMP: none). */
	uint8_t param_code;
	bool param_to_mcast;  /* sent even when the destination was multicast */
	uint32_t param_ptr;
};

/*
 * Validate an IPv6 header at @p with @len bytes after the Ethernet header
 * and walk its extension headers (RFC 8200 §4): version, payload length
 * within what arrived (trailing Ethernet padding is allowed; jumbograms,
 * RFC 2675, are not taken), a multicast source refused; hop-by-hop options
 * only first, options per their type's two high bits (§4.2), a routing
 * header with segments left refused (we are no router), a fragment
 * header ending the walk (its fields in @out), no next header (59) and
 * anything else returned as @out->proto at @out->l4_off. An atomic fragment
 * (offset 0, no M, RFC 6946) is walked through as if it had none.
 */
enum fj_wire_err fj_ipv6_parse(const uint8_t *p, size_t len, struct fj_ipv6 *out);
/* Writes a 40-byte header. */
void fj_ipv6_build(uint8_t *p, const struct fj_ip6 *src, const struct fj_ip6 *dst, uint8_t proto,
		   uint16_t payload_len, uint8_t hop_limit, uint32_t flow);

/* The pseudo-header's sum (RFC 8200 §8.1). */
uint32_t fj_csum_pseudo6(const struct fj_ip6 *src, const struct fj_ip6 *dst, uint32_t len,
			 uint8_t nh);

static inline bool
fj_ip6_eq(const struct fj_ip6 *a, const struct fj_ip6 *b)
{
	return memcmp(a->b, b->b, 16) == 0;
}

static inline bool
fj_ip6_is_multicast(const struct fj_ip6 *a)
{
	return a->b[0] == 0xff;
}

static inline bool
fj_ip6_is_unspecified(const struct fj_ip6 *a)
{
	static const struct fj_ip6 zero;
	return fj_ip6_eq(a, &zero);
}

static inline bool
fj_ip6_is_link_local(const struct fj_ip6 *a)
{
	return a->b[0] == 0xfe && (a->b[1] & 0xc0) == 0x80;
}

/* ff02::1:ff00:0/104 (RFC 4291 §2.7.1). */
static inline bool
fj_ip6_is_solicited_node(const struct fj_ip6 *a)
{
	static const uint8_t pfx[13] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff };
	return memcmp(a->b, pfx, sizeof(pfx)) == 0;
}

/* Whether the first @plen bits of @a and @b agree. */
bool fj_ip6_prefix_eq(const struct fj_ip6 *a, const struct fj_ip6 *b, unsigned plen);

/* fe80::/64 with the interface identifier of @mac (RFC 4291 §2.5.1 and
 * appendix A: modified EUI-64). */
struct fj_ip6 fj_ip6_link_local(const struct fj_mac *mac);
/* ff02::1:ffXX:XXXX for @a (RFC 4291 §2.7.1). */
struct fj_ip6 fj_ip6_solicited_node(const struct fj_ip6 *a);
/* 33:33 and the address's last 32 bits (RFC 2464 §7). */
struct fj_mac fj_ip6_multicast_mac(const struct fj_ip6 *a);
/* "2001:db8::1" and the like (inet_pton); false if it is not one. */
bool fj_ip6_parse_text(const char *s, struct fj_ip6 *out);
/* The text form (inet_ntop) into @buf of at least 46 bytes. */
const char *fj_ip6_text(const struct fj_ip6 *a, char *buf);

#endif
