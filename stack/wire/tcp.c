/* SPDX-License-Identifier: BSD-3-Clause */
/* The TCP header and its options (RFC 9293 §3.1, RFC 7323, RFC 2018). */
#include <string.h>

#include "bytes.h"
#include "checksum.h"
#include "ipv4.h"
#include "tcp.h"

#define OPT_EOL 0
#define OPT_NOP 1
#define OPT_MSS 2
#define OPT_WS 3
#define OPT_SACK_PERM 4
#define OPT_SACK 5
#define OPT_TS 8


static enum fj_wire_err
parse_opts(const uint8_t *p, size_t len, struct fj_tcp_opts *o)
{
	size_t i = 0;

	memset(o, 0, sizeof(*o));
	while (i < len) {
		uint8_t kind = p[i];
		if (kind == OPT_EOL)
			break;
		if (kind == OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len || p[i + 1] < 2 || i + p[i + 1] > len)
			return FJ_WIRE_TCP_OPTIONS;
		uint8_t olen = p[i + 1];
		const uint8_t *v = p + i + 2;
		switch (kind) {
		case OPT_MSS:
			if (olen != 4)
				return FJ_WIRE_TCP_OPTIONS;
			o->has_mss = true;
			o->mss = rd16(v);
			break;
		case OPT_WS:
			if (olen != 3)
				return FJ_WIRE_TCP_OPTIONS;
			o->has_ws = true;
			/* RFC 7323 §2.3: a shift above 14 is used as 14. */
			o->ws = v[0] > 14 ? 14 : v[0];
			break;
		case OPT_SACK_PERM:
			if (olen != 2)
				return FJ_WIRE_TCP_OPTIONS;
			o->sack_perm = true;
			break;
		case OPT_SACK:
			if ((olen - 2) % 8 != 0 || olen < 10 || (olen - 2) / 8 > FJ_TCP_MAX_SACK)
				return FJ_WIRE_TCP_OPTIONS;
			o->nsack = (uint8_t)((olen - 2) / 8);
			for (int b = 0; b < o->nsack; b++) {
				o->sack[b].left = rd32(v + 8 * b);
				o->sack[b].right = rd32(v + 8 * b + 4);
			}
			break;
		case OPT_TS:
			if (olen != 10)
				return FJ_WIRE_TCP_OPTIONS;
			o->has_ts = true;
			o->tsval = rd32(v);
			o->tsecr = rd32(v + 4);
			break;
		default:
			break; /* unknown: skipped by its length */
		}
		i += olen;
	}
	return FJ_OK;
}

enum fj_wire_err
fj_tcp_parse_ph(const uint8_t *p, size_t len, uint32_t ph, bool csum_ok, struct fj_tcp_hdr *out)
{
	if (len < FJ_TCP_HDR_LEN)
		return FJ_WIRE_TRUNCATED;
	out->hdr_len = (uint8_t)((p[12] >> 4) * 4);
	if (out->hdr_len < FJ_TCP_HDR_LEN || out->hdr_len > len)
		return FJ_WIRE_TCP_HDR_LEN;
	if (!csum_ok && (len > UINT16_MAX ||
			 fj_csum_fold(fj_csum_add(ph + (uint32_t)len, p, len)) != 0))
		return FJ_WIRE_TCP_CHECKSUM;
	out->sport = rd16(p);
	out->dport = rd16(p + 2);
	out->seq = rd32(p + 4);
	out->ack = rd32(p + 8);
	out->flags = p[13];
	out->wnd = rd16(p + 14);
	out->urg = rd16(p + 18);
	return parse_opts(p + FJ_TCP_HDR_LEN, out->hdr_len - FJ_TCP_HDR_LEN, &out->o);
}

enum fj_wire_err
fj_tcp_parse(const uint8_t *p, size_t len, uint32_t src, uint32_t dst, bool csum_ok,
	     struct fj_tcp_hdr *out)
{
	return fj_tcp_parse_ph(p, len, fj_csum_pseudo(src, dst, FJ_IP_PROTO_TCP, 0), csum_ok, out);
}

/* SACK blocks that fit beside the other options. */
static unsigned
sack_fit(const struct fj_tcp_opts *o, size_t other)
{
	unsigned n = o->nsack > FJ_TCP_MAX_SACK ? FJ_TCP_MAX_SACK : o->nsack;

	while (n > 0 && other + 4 + 8 * n > FJ_TCP_MAX_OPT_LEN)
		n--;
	return n;
}

static size_t
opts_other_len(const struct fj_tcp_opts *o)
{
	return (o->has_mss ? 4 : 0) + (o->has_ts || o->sack_perm ? (o->has_ts ? 12 : 4) : 0) +
	       (o->has_ws ? 4 : 0);
}

size_t
fj_tcp_opts_len(const struct fj_tcp_opts *o)
{
	size_t other = opts_other_len(o);
	unsigned n = sack_fit(o, other);

	return other + (n ? 4 + 8 * n : 0);
}

size_t
fj_tcp_build_ph(uint8_t *p, const struct fj_tcp_hdr *h, uint32_t ph, uint32_t payload_len,
		bool csum_offload)
{
	const struct fj_tcp_opts *o = &h->o;
	uint8_t *q = p + FJ_TCP_HDR_LEN;
	size_t other = opts_other_len(o);
	unsigned nsack = sack_fit(o, other);

	/* Layouts that keep every option 32-bit aligned (RFC 7323 App. A). */
	if (o->has_mss) {
		q[0] = OPT_MSS, q[1] = 4;
		wr16(q + 2, o->mss);
		q += 4;
	}
	if (o->has_ts) {
		if (o->sack_perm)
			q[0] = OPT_SACK_PERM, q[1] = 2;
		else
			q[0] = OPT_NOP, q[1] = OPT_NOP;
		q[2] = OPT_TS, q[3] = 10;
		wr32(q + 4, o->tsval);
		wr32(q + 8, o->tsecr);
		q += 12;
	} else if (o->sack_perm) {
		q[0] = OPT_NOP, q[1] = OPT_NOP, q[2] = OPT_SACK_PERM, q[3] = 2;
		q += 4;
	}
	if (o->has_ws) {
		q[0] = OPT_NOP, q[1] = OPT_WS, q[2] = 3, q[3] = o->ws;
		q += 4;
	}
	if (nsack) {
		q[0] = OPT_NOP, q[1] = OPT_NOP, q[2] = OPT_SACK, q[3] = (uint8_t)(2 + 8 * nsack);
		for (unsigned b = 0; b < nsack; b++) {
			wr32(q + 4 + 8 * b, o->sack[b].left);
			wr32(q + 8 + 8 * b, o->sack[b].right);
		}
		q += 4 + 8 * nsack;
	}
	size_t hl = (size_t)(q - p);
	wr16(p, h->sport);
	wr16(p + 2, h->dport);
	wr32(p + 4, h->seq);
	wr32(p + 8, h->ack);
	p[12] = (uint8_t)((hl / 4) << 4);
	p[13] = h->flags;
	wr16(p + 14, h->wnd);
	wr16(p + 16, 0);
	wr16(p + 18, 0);
	uint16_t seglen = (uint16_t)(hl + payload_len);
	uint32_t s = ph + seglen;
	if (csum_offload)
		wr16(p + 16, (uint16_t)~fj_csum_fold(s));
	else
		wr16(p + 16, fj_csum_fold(fj_csum_add(s, p, seglen)));
	return hl;
}

size_t
fj_tcp_build(uint8_t *p, const struct fj_tcp_hdr *h, uint32_t src, uint32_t dst,
	     uint32_t payload_len, bool csum_offload)
{
	return fj_tcp_build_ph(p, h, fj_csum_pseudo(src, dst, FJ_IP_PROTO_TCP, 0), payload_len,
			       csum_offload);
}
