/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer: every header parser of stack/wire on arbitrary bytes (IPv6
 * and its extension headers, ICMPv6 and Neighbor Discovery among them); what a
 * parser accepts is built again and must parse to the same fields (TCP
 * options included), so parse and build agree.
 */
#include <stdlib.h>
#include <string.h>

#include "flow_hash.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
tcp_round_trip(const uint8_t *data, size_t size)
{
	struct fj_tcp_hdr h, g;
	uint8_t out[60 + 64];

	if (fj_tcp_parse(data, size, 1, 2, true, &h) != FJ_OK)
		return;
	size_t plen = size - h.hdr_len > 64 ? 64 : size - h.hdr_len;
	size_t hl = FJ_TCP_HDR_LEN + fj_tcp_opts_len(&h.o);
	if (hl > 60)
		abort();
	memcpy(out + hl, data + h.hdr_len, plen);
	if (fj_tcp_build(out, &h, 1, 2, (uint32_t)plen, false) != hl)
		abort();
	if (fj_tcp_parse(out, hl + plen, 1, 2, false, &g) != FJ_OK)
		abort();
	if (g.seq != h.seq || g.ack != h.ack || g.flags != h.flags || g.wnd != h.wnd ||
	    g.o.has_mss != h.o.has_mss || g.o.mss != h.o.mss || g.o.has_ws != h.o.has_ws ||
	    g.o.ws != h.o.ws || g.o.sack_perm != h.o.sack_perm || g.o.has_ts != h.o.has_ts ||
	    g.o.tsval != h.o.tsval || g.o.tsecr != h.o.tsecr || g.o.nsack > h.o.nsack)
		abort();
	for (int b = 0; b < g.o.nsack; b++)
		if (g.o.sack[b].left != h.o.sack[b].left || g.o.sack[b].right != h.o.sack[b].right)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fj_eth e;
	struct fj_arp a;
	struct fj_ipv4 ip;
	struct fj_icmp ic;
	struct fj_udp_hdr u;

	if (size < 1)
		return 0;
	switch (data[0] % 11) {
	case 0:
		fj_eth_parse(data + 1, size - 1, &e);
		break;
	case 1:
		fj_arp_parse(data + 1, size - 1, &a);
		break;
	case 2:
		if (fj_ipv4_parse(data + 1, size - 1, false, &ip) == FJ_OK &&
		    (ip.hdr_len > ip.total_len || ip.total_len > size - 1))
			abort();
		break;
	case 3:
		fj_icmp_parse(data + 1, size - 1, false, &ic);
		break;
	case 6: {
		/* An error's quote: what it reports comes from inside it. */
		struct fj_icmp_error ie;
		if (fj_icmp_error_parse(data + 1, size - 1, &ie) == FJ_OK &&
		    (size - 1 < 8u + 20u + 8u || (data[1 + 8] >> 4) != 4))
			abort();
		break;
	}
	case 4:
		if (fj_udp_parse(data + 1, size - 1, 1, 2, data[0] & 8, &u) == FJ_OK &&
		    u.len > size - 1)
			abort();
		break;
	case 5: {
		/* The steering parse: an owner among the shards, or -1. */
		unsigned n = 1 + (data[0] >> 3) % 16;
		int o = fj_steer_owner(data + 1, (uint32_t)(size - 1), n);
		if (o < -1 || o >= (int)n || (n == 1 && o != -1))
			abort();
		break;
	}
	case 8: {
		/* IPv6 and its extension headers: what it returns lies
		 * inside the payload, a fragment's fields with it. */
		struct fj_ipv6 h;
		enum fj_wire_err r = fj_ipv6_parse(data + 1, size - 1, &h);
		if (r == FJ_OK && (h.l4_off < FJ_IPV6_HDR_LEN ||
				   h.l4_off > FJ_IPV6_HDR_LEN + (size_t)h.payload_len ||
				   FJ_IPV6_HDR_LEN + (size_t)h.payload_len > size - 1 ||
				   (h.frag && h.frag_hdr_off + 8u != h.l4_off)))
			abort();
		if (r != FJ_OK && h.param_code != FJ_IPV6_NO_ICMP &&
		    (h.param_code > 2 || h.param_ptr >= size - 1))
			abort();
		break;
	}
	case 9: {
		/* ICMPv6 and Neighbor Discovery, as if from a link-local
		 * neighbour at hop limit 255 (the second byte picks the
		 * destination: unicast or multicast). */
		struct fj_ipv6 ip = { .hop_limit = 255 };
		struct fj_icmp6 ic;
		struct fj_nd nd;
		fj_ip6_parse_text("fe80::1", &ip.src);
		fj_ip6_parse_text(size > 1 && data[1] & 1 ? "ff02::1" : "fe80::2", &ip.dst);
		fj_icmp6_parse(data + 1, size - 1, &ip.src, &ip.dst, false, &ic);
		struct fj_icmp6_error ie;
		if (fj_icmp6_error_parse(data + 1, size - 1, &ie) == FJ_OK &&
		    (size - 1 < 8u + 40u || !fj_icmp6_is_error(ie.type)))
			abort();
		if (fj_nd_parse(data + 1, size - 1, &ip, &nd) == FJ_OK &&
		    (nd.nprefix > FJ_ND_PREFIXES_MAX || fj_ip6_is_multicast(&nd.target)))
			abort();
		break;
	}
	case 10: {
		/* What ND builds, it parses back. */
		uint8_t out[64];
		struct fj_ip6 t;
		struct fj_mac mac;
		struct fj_nd nd;
		struct fj_ipv6 ip = { .hop_limit = 255 };
		if (size < 1 + 16 + 6)
			break;
		memcpy(t.b, data + 1, 16);
		memcpy(mac.b, data + 17, 6);
		t.b[0] &= 0xfe; /* not multicast */
		fj_ip6_parse_text("fe80::1", &ip.src);
		ip.dst = t;
		size_t n = fj_nd_build_na(out, &t, FJ_ND_NA_OVERRIDE, &mac);
		if (fj_nd_parse(out, n, &ip, &nd) != FJ_OK || !fj_ip6_eq(&nd.target, &t) ||
		    !nd.has_tll || !fj_mac_eq(&nd.tll, &mac))
			abort();
		n = fj_nd_build_ns(out, &t, &mac);
		if (fj_nd_parse(out, n, &ip, &nd) != FJ_OK || !nd.has_sll || !fj_mac_eq(&nd.sll, &mac))
			abort();
		break;
	}
	default:
		tcp_round_trip(data + 1, size - 1);
	}
	return 0;
}
