/* SPDX-License-Identifier: BSD-3-Clause */
/* ICMPv6 (RFC 4443) and Neighbor Discovery's messages (RFC 4861). */
#include <errno.h>
#include <string.h>

#include "bytes.h"
#include "checksum.h"
#include "icmp6.h"

#define ND_OPT_SLL 1
#define ND_OPT_TLL 2
#define ND_OPT_PREFIX 3
#define ND_OPT_MTU 5

enum fj_wire_err
fj_icmp6_parse(const uint8_t *p, size_t len, const struct fj_ip6 *src, const struct fj_ip6 *dst,
	       bool csum_ok, struct fj_icmp6 *out)
{
	if (len < 4)
		return FJ_WIRE_TRUNCATED;
	if (!csum_ok &&
	    fj_csum_fold(fj_csum_add(fj_csum_pseudo6(src, dst, (uint32_t)len, FJ_IP_PROTO_ICMPV6),
				     p, len)) != 0)
		return FJ_WIRE_ICMP6_CHECKSUM;
	out->type = p[0];
	out->code = p[1];
	return FJ_OK;
}

enum fj_wire_err
fj_icmp6_error_parse(const uint8_t *p, size_t len, struct fj_icmp6_error *out)
{
	struct fj_ipv6 q;

	memset(out, 0, sizeof(*out));
	if (len < 8 + FJ_IPV6_HDR_LEN || !fj_icmp6_is_error(p[0]))
		return FJ_WIRE_ICMP_QUOTE;
	out->type = p[0];
	out->code = p[1];
	out->mtu = p[0] == FJ_ICMP6_PKT_TOO_BIG ? rd32(p + 4) : 0;
	/* The quote is cut short (RFC 4443 §2.4 (c)): its header is read as
	 * if its payload were all there, the walk kept within what came. */
	const uint8_t *h = p + 8;
	size_t qlen = len - 8;
	if ((h[0] >> 4) != 6)
		return FJ_WIRE_ICMP_QUOTE;
	memcpy(out->src.b, h + 8, 16);
	memcpy(out->dst.b, h + 24, 16);
	/* Walk with the payload length what the quote holds. */
	uint8_t tmp[FJ_IPV6_HDR_LEN + 256];
	size_t n = qlen < sizeof(tmp) ? qlen : sizeof(tmp);
	memcpy(tmp, h, n);
	tmp[4] = (uint8_t)((n - FJ_IPV6_HDR_LEN) >> 8);
	tmp[5] = (uint8_t)(n - FJ_IPV6_HDR_LEN);
	if (fj_ipv6_parse(tmp, n, &q) != FJ_OK && !q.frag)
		return FJ_OK; /* addresses only */
	out->proto = q.proto;
	if ((!q.frag || q.frag_off == 0) && q.l4_off + 4u <= n) {
		out->has_ports = true;
		out->sport = rd16(tmp + q.l4_off);
		out->dport = rd16(tmp + q.l4_off + 2);
	}
	if ((!q.frag || q.frag_off == 0) && q.l4_off + 8u <= n) {
		out->has_seq = true;
		out->seq = rd32(tmp + q.l4_off + 4);
	}
	return FJ_OK;
}

int
fj_icmp6_errno(const struct fj_icmp6_error *e)
{
	switch (e->type) {
	case FJ_ICMP6_PKT_TOO_BIG:
		return -EMSGSIZE;
	case FJ_ICMP6_PARAM_PROBLEM:
		return -EPROTO;
	case FJ_ICMP6_DEST_UNREACH:
		return e->code == FJ_ICMP6_PORT_UNREACH ? -ECONNREFUSED :
		       e->code == 1 || e->code == 5 || e->code == 6 ? -EACCES :
		       e->code == 0 ? -ENETUNREACH : -EHOSTUNREACH;
	default:
		return -EHOSTUNREACH;
	}
}

void
fj_icmp6_set_csum(uint8_t *p, size_t len, const struct fj_ip6 *src, const struct fj_ip6 *dst)
{
	wr16(p + 2, 0);
	wr16(p + 2, fj_csum_fold(fj_csum_add(
			    fj_csum_pseudo6(src, dst, (uint32_t)len, FJ_IP_PROTO_ICMPV6), p, len)));
}

enum fj_wire_err
fj_nd_parse(const uint8_t *p, size_t len, const struct fj_ipv6 *ip, struct fj_nd *out)
{
	size_t fixed;

	memset(out, 0, sizeof(*out));
	if (len < 4)
		return FJ_WIRE_TRUNCATED;
	out->type = p[0];
	switch (p[0]) {
	case FJ_ND_ROUTER_SOLICIT:
		fixed = 8;
		break;
	case FJ_ND_ROUTER_ADVERT:
		fixed = 16;
		break;
	case FJ_ND_NEIGHBOR_SOLICIT:
	case FJ_ND_NEIGHBOR_ADVERT:
		fixed = 24;
		break;
	default:
		return FJ_WIRE_ND_FORMAT;
	}
	if (ip->hop_limit != 255 || p[1] != 0 || len < fixed)
		return FJ_WIRE_ND_FORMAT;
	if (fixed == 24) {
		memcpy(out->target.b, p + 8, 16);
		if (fj_ip6_is_multicast(&out->target))
			return FJ_WIRE_ND_FORMAT;
		if (p[0] == FJ_ND_NEIGHBOR_ADVERT) {
			out->flags = p[4] & 0xe0;
			if (fj_ip6_is_multicast(&ip->dst) && (out->flags & FJ_ND_NA_SOLICITED))
				return FJ_WIRE_ND_FORMAT;
		}
	} else if (p[0] == FJ_ND_ROUTER_ADVERT) {
		if (!fj_ip6_is_link_local(&ip->src))
			return FJ_WIRE_ND_FORMAT;
		out->cur_hop_limit = p[4];
		out->flags = p[5] & 0xc0;
		out->router_lifetime = rd16(p + 6);
		out->reachable_ms = rd32(p + 8);
		out->retrans_ms = rd32(p + 12);
	}
	/* RFC 4861 §4.6: type, length in 8-byte units (0 is invalid). */
	for (size_t i = fixed; i < len;) {
		if (i + 2 > len || p[i + 1] == 0 || i + (size_t)p[i + 1] * 8 > len)
			return FJ_WIRE_ND_FORMAT;
		size_t ol = (size_t)p[i + 1] * 8;
		switch (p[i]) {
		case ND_OPT_SLL:
			out->has_sll = true;
			memcpy(out->sll.b, p + i + 2, 6);
			break;
		case ND_OPT_TLL:
			out->has_tll = true;
			memcpy(out->tll.b, p + i + 2, 6);
			break;
		case ND_OPT_PREFIX:
			if (ol != 32)
				return FJ_WIRE_ND_FORMAT;
			if (p[0] == FJ_ND_ROUTER_ADVERT && out->nprefix < FJ_ND_PREFIXES_MAX) {
				struct fj_nd_prefix *x = &out->prefix[out->nprefix++];
				x->len = p[i + 2];
				x->flags = p[i + 3] & 0xc0;
				x->valid = rd32(p + i + 4);
				x->preferred = rd32(p + i + 8);
				memcpy(x->prefix.b, p + i + 16, 16);
				if (x->len > 128)
					out->nprefix--; /* ignored (RFC 4861 §6.3.4) */
			}
			break;
		case ND_OPT_MTU:
			if (ol != 8)
				return FJ_WIRE_ND_FORMAT;
			out->mtu = rd32(p + i + 4);
			break;
		default:
			break; /* unknown: skipped */
		}
		i += ol;
	}
	/* §7.1.1: DAD's solicitation (from ::) carries no address to learn. */
	if (p[0] == FJ_ND_NEIGHBOR_SOLICIT && fj_ip6_is_unspecified(&ip->src) &&
	    (out->has_sll || !fj_ip6_is_solicited_node(&ip->dst)))
		return FJ_WIRE_ND_FORMAT;
	return FJ_OK;
}

static size_t
lla_option(uint8_t *p, uint8_t type, const struct fj_mac *mac)
{
	p[0] = type;
	p[1] = 1;
	memcpy(p + 2, mac->b, 6);
	return 8;
}

size_t
fj_nd_build_ns(uint8_t *p, const struct fj_ip6 *target, const struct fj_mac *sll)
{
	memset(p, 0, 24);
	p[0] = FJ_ND_NEIGHBOR_SOLICIT;
	memcpy(p + 8, target->b, 16);
	return 24 + (sll != NULL ? lla_option(p + 24, ND_OPT_SLL, sll) : 0);
}

size_t
fj_nd_build_na(uint8_t *p, const struct fj_ip6 *target, uint8_t flags, const struct fj_mac *tll)
{
	memset(p, 0, 24);
	p[0] = FJ_ND_NEIGHBOR_ADVERT;
	p[4] = flags;
	memcpy(p + 8, target->b, 16);
	return 24 + lla_option(p + 24, ND_OPT_TLL, tll);
}

size_t
fj_nd_build_rs(uint8_t *p, const struct fj_mac *sll)
{
	memset(p, 0, 8);
	p[0] = FJ_ND_ROUTER_SOLICIT;
	return 8 + lla_option(p + 8, ND_OPT_SLL, sll);
}
