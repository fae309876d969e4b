/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv6 headers and their extension headers (RFC 8200), addresses (RFC 4291). */
#include <arpa/inet.h>
#include <string.h>

#include "bytes.h"
#include "checksum.h"
#include "ipv6.h"

/* A refusal with an ICMPv6 parameter problem about byte @ptr. */
static enum fj_wire_err
param(struct fj_ipv6 *out, enum fj_wire_err e, uint8_t code, uint32_t ptr, bool to_mcast)
{
	out->param_code = code;
	out->param_ptr = ptr;
	out->param_to_mcast = to_mcast;
	return e;
}

/* Hop-by-hop or destination options (RFC 8200 §4.2) in [@i, @end). */
static enum fj_wire_err
walk_options(const uint8_t *p, size_t i, size_t end, struct fj_ipv6 *out)
{
	while (i < end) {
		uint8_t type = p[i];
		if (type == 0) { /* Pad1 */
			i++;
			continue;
		}
		if (i + 2 > end || i + 2 + p[i + 1] > end)
			return FJ_WIRE_IP6_EXT;
		if (type != 1) { /* not PadN: an option we do not know */
			switch (type >> 6) {
			case 0: /* skip it */
				break;
			case 1:
				return param(out, FJ_WIRE_IP6_OPTION, FJ_IPV6_NO_ICMP, 0, false);
			case 2:
				return param(out, FJ_WIRE_IP6_OPTION, 2, (uint32_t)i, true);
			default:
				return param(out, FJ_WIRE_IP6_OPTION, 2, (uint32_t)i, false);
			}
		}
		i += 2 + (size_t)p[i + 1];
	}
	return FJ_OK;
}

enum fj_wire_err
fj_ipv6_parse(const uint8_t *p, size_t len, struct fj_ipv6 *out)
{
	memset(out, 0, sizeof(*out));
	out->param_code = FJ_IPV6_NO_ICMP;
	if (len < FJ_IPV6_HDR_LEN)
		return FJ_WIRE_TRUNCATED;
	if (p[0] >> 4 != 6)
		return FJ_WIRE_IP_VERSION;
	out->tclass = (uint8_t)((p[0] & 0xf) << 4 | p[1] >> 4);
	out->flow = (uint32_t)(p[1] & 0xf) << 16 | (uint32_t)p[2] << 8 | p[3];
	out->payload_len = rd16(p + 4);
	out->hop_limit = p[7];
	memcpy(out->src.b, p + 8, 16);
	memcpy(out->dst.b, p + 24, 16);
	size_t end = FJ_IPV6_HDR_LEN + (size_t)out->payload_len;
	/* Length 0 behind hop-by-hop options is a jumbogram (RFC 2675):
	 * not taken, as nothing here sends them. */
	if (end > len || (out->payload_len == 0 && p[6] == FJ_IPV6_NH_HOPOPTS))
		return FJ_WIRE_IP6_PAYLOAD_LEN;
	/* RFC 4291 §2.7: multicast is never a source. */
	if (fj_ip6_is_multicast(&out->src))
		return FJ_WIRE_IP6_SOURCE;
	uint8_t nh = p[6];
	size_t nh_at = 6, off = FJ_IPV6_HDR_LEN;
	for (int n = 0; n <= FJ_IPV6_EXT_MAX; n++) {
		size_t hl;
		enum fj_wire_err r;
		switch (nh) {
		case FJ_IPV6_NH_HOPOPTS:
		case FJ_IPV6_NH_DSTOPTS:
			/* RFC 8200 §4.1: hop-by-hop only right after the header;
			 * elsewhere it is an unrecognised next header. */
			if (nh == FJ_IPV6_NH_HOPOPTS && n != 0)
				return param(out, FJ_WIRE_IP6_EXT, 1, (uint32_t)nh_at, false);
			if (off + 2 > end || off + (hl = ((size_t)p[off + 1] + 1) * 8) > end)
				return FJ_WIRE_IP6_EXT;
			if ((r = walk_options(p, off + 2, off + hl, out)) != FJ_OK)
				return r;
			break;
		case FJ_IPV6_NH_ROUTING:
			if (off + 4 > end || off + (hl = ((size_t)p[off + 1] + 1) * 8) > end)
				return FJ_WIRE_IP6_EXT;
			/* Segments left: we would have to forward it (§4.4);
			 * with none it is passed over. */
			if (p[off + 3] != 0)
				return param(out, FJ_WIRE_IP6_EXT, 0, (uint32_t)(off + 2), false);
			break;
		case FJ_IPV6_NH_FRAGMENT: {
			if (off + 8 > end)
				return FJ_WIRE_IP6_EXT;
			uint16_t fo = rd16(p + off + 2);
			size_t plen = end - (off + 8);
			hl = 8;
			if ((fo & 0xfff9) == 0) /* an atomic fragment: walk on */
				break;
			out->frag = true;
			out->mf = fo & 1;
			out->frag_off = fo & 0xfff8;
			out->frag_id = rd32(p + off + 4);
			out->frag_hdr_off = (uint16_t)off;
			out->frag_nh_at = (uint16_t)nh_at;
			out->proto = p[off];
			out->l4_off = (uint16_t)(off + 8);
			/* RFC 8200 §4.5: whole 8-byte units but for the last, and
			 * nothing past 65,535 bytes of reassembled payload. */
			if (out->mf && (plen == 0 || plen % 8 != 0))
				return param(out, FJ_WIRE_IP_FRAGMENT, 0, 4, false);
			if ((size_t)out->frag_off + plen > UINT16_MAX)
				return param(out, FJ_WIRE_IP_FRAGMENT, 0, (uint32_t)(off + 2), false);
			return FJ_OK;
		}
		default:
			/* The upper layer, no next header (59), or one the
			 * caller may not know (it answers code 1 at nh_at). */
			out->proto = nh;
			out->l4_off = (uint16_t)off;
			out->param_ptr = (uint32_t)nh_at;
			return FJ_OK;
		}
		nh_at = off;
		nh = p[off];
		off += hl;
	}
	return FJ_WIRE_IP6_EXT;
}

void
fj_ipv6_build(uint8_t *p, const struct fj_ip6 *src, const struct fj_ip6 *dst, uint8_t proto,
	      uint16_t payload_len, uint8_t hop_limit, uint32_t flow)
{
	p[0] = 0x60;
	p[1] = (uint8_t)((flow >> 16) & 0xf);
	p[2] = (uint8_t)(flow >> 8);
	p[3] = (uint8_t)flow;
	wr16(p + 4, payload_len);
	p[6] = proto;
	p[7] = hop_limit;
	memcpy(p + 8, src->b, 16);
	memcpy(p + 24, dst->b, 16);
}

uint32_t
fj_csum_pseudo6(const struct fj_ip6 *src, const struct fj_ip6 *dst, uint32_t len, uint8_t nh)
{
	uint64_t s = (len >> 16) + (len & 0xffff) + nh;

	for (int i = 0; i < 16; i += 2)
		s += rd16(src->b + i) + rd16(dst->b + i);
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

bool
fj_ip6_prefix_eq(const struct fj_ip6 *a, const struct fj_ip6 *b, unsigned plen)
{
	unsigned full = plen / 8, rest = plen % 8;

	if (plen > 128 || memcmp(a->b, b->b, full) != 0)
		return false;
	return rest == 0 || ((a->b[full] ^ b->b[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

struct fj_ip6
fj_ip6_link_local(const struct fj_mac *mac)
{
	struct fj_ip6 a = { { 0xfe, 0x80 } };

	a.b[8] = mac->b[0] ^ 0x02; /* the universal/local bit inverted */
	a.b[9] = mac->b[1];
	a.b[10] = mac->b[2];
	a.b[11] = 0xff;
	a.b[12] = 0xfe;
	a.b[13] = mac->b[3];
	a.b[14] = mac->b[4];
	a.b[15] = mac->b[5];
	return a;
}

struct fj_ip6
fj_ip6_solicited_node(const struct fj_ip6 *a)
{
	struct fj_ip6 m = { { 0xff, 0x02, [11] = 0x01, [12] = 0xff } };

	m.b[13] = a->b[13];
	m.b[14] = a->b[14];
	m.b[15] = a->b[15];
	return m;
}

struct fj_mac
fj_ip6_multicast_mac(const struct fj_ip6 *a)
{
	return (struct fj_mac){ { 0x33, 0x33, a->b[12], a->b[13], a->b[14], a->b[15] } };
}

bool
fj_ip6_parse_text(const char *s, struct fj_ip6 *out)
{
	return inet_pton(AF_INET6, s, out->b) == 1;
}

const char *
fj_ip6_text(const struct fj_ip6 *a, char *buf)
{
	return inet_ntop(AF_INET6, a->b, buf, 46);
}
