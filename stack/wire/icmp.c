/* SPDX-License-Identifier: BSD-3-Clause */
/* ICMP messages (RFC 792). */
#include <errno.h>
#include <string.h>

#include "bytes.h"
#include "icmp.h"

#include "checksum.h"

enum fj_wire_err
fj_icmp_parse(const uint8_t *p, size_t len, bool csum_ok, struct fj_icmp *out)
{
	if (len < FJ_ICMP_HDR_LEN)
		return FJ_WIRE_TRUNCATED;
	if (!csum_ok && fj_csum_fold(fj_csum_add(0, p, len)) != 0)
		return FJ_WIRE_ICMP_CHECKSUM;
	out->type = p[0];
	out->code = p[1];
	return FJ_OK;
}

enum fj_wire_err
fj_icmp_error_parse(const uint8_t *p, size_t len, struct fj_icmp_error *out)
{
	if (len < FJ_ICMP_HDR_LEN + 20 + 8 || !fj_icmp_is_error(p[0]))
		return FJ_WIRE_ICMP_QUOTE;
	const uint8_t *q = p + FJ_ICMP_HDR_LEN;
	size_t ihl = (size_t)(q[0] & 0xf) * 4;
	if ((q[0] >> 4) != 4 || ihl < 20 || len < FJ_ICMP_HDR_LEN + ihl + 8)
		return FJ_WIRE_ICMP_QUOTE;
	out->type = p[0];
	out->code = p[1];
	/* RFC 1191 §4: the next-hop MTU in the low 16 bits of the word that
	 * RFC 792 left unused. */
	out->mtu = p[0] == FJ_ICMP_DEST_UNREACH && p[1] == FJ_ICMP_FRAG_NEEDED ? rd16(p + 6) : 0;
	out->total_len = rd16(q + 2);
	out->proto = q[9];
	out->src = rd32(q + 12);
	out->dst = rd32(q + 16);
	out->sport = rd16(q + ihl);
	out->dport = rd16(q + ihl + 2);
	out->seq = rd32(q + ihl + 4);
	return FJ_OK;
}

int
fj_icmp_errno(const struct fj_icmp_error *e)
{
	if (e->type == FJ_ICMP_PARAM_PROBLEM)
		return -EPROTO;
	if (e->type != FJ_ICMP_DEST_UNREACH)
		return -EHOSTUNREACH;
	switch (e->code) {
	case FJ_ICMP_PORT_UNREACH:
		return -ECONNREFUSED;
	case FJ_ICMP_PROTO_UNREACH:
		return -ENOPROTOOPT;
	case FJ_ICMP_NET_UNREACH:
	case FJ_ICMP_NET_UNKNOWN:
		return -ENETUNREACH;
	case FJ_ICMP_HOST_UNKNOWN:
		return -EHOSTDOWN;
	case FJ_ICMP_FRAG_NEEDED:
		return -EMSGSIZE;
	case FJ_ICMP_NET_PROHIBITED:
	case FJ_ICMP_HOST_PROHIBITED:
	case FJ_ICMP_ADMIN_PROHIBITED:
		return -EACCES;
	default:
		return -EHOSTUNREACH;
	}
}

void
fj_icmp_echo_to_reply(uint8_t *p)
{
	/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), the type and code word m
	 * going to m' = 0; the data behind (maybe a chain) is not read. */
	uint32_t sum = (uint32_t)(uint16_t)~rd16(p + 2) + (uint16_t)~rd16(p);

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	p[0] = FJ_ICMP_ECHO_REPLY;
	p[1] = 0;
	wr16(p + 2, (uint16_t)~sum);
}

size_t
fj_icmp_error_build(uint8_t *p, uint8_t type, uint8_t code, const uint8_t *quote,
		    size_t quote_len)
{
	p[0] = type;
	p[1] = code;
	memset(p + 2, 0, 6);
	memmove(p + FJ_ICMP_HDR_LEN, quote, quote_len);
	size_t len = FJ_ICMP_HDR_LEN + quote_len;
	wr16(p + 2, fj_csum_fold(fj_csum_add(0, p, len)));
	return len;
}

