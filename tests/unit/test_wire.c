/* SPDX-License-Identifier: BSD-3-Clause */
/* Header parsing and building (stack/wire) against valid and malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "counters.h"
#include "wire/wire.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static const struct fj_mac MAC_A = { { 0x02, 0, 0, 0, 0, 0xa } };
static const struct fj_mac MAC_B = { { 0x02, 0, 0, 0, 0, 0xb } };

static void
test_checksum_matches_rfc1071_example(void **state)
{
	(void)state;
	/* RFC 1071 §3: these bytes sum to ddf2 (one's complement). */
	const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	assert_int_equal(fj_csum_fold(fj_csum_add(0, b, sizeof(b))), (uint16_t)~0xddf2);
	/* An odd length pads with a zero byte. */
	const uint8_t o[] = { 0x01, 0x02, 0x03 };
	assert_int_equal(fj_csum_fold(fj_csum_add(0, o, 3)), (uint16_t)~(0x0102 + 0x0300));
	/* Adding in pieces of even length is the same as at once. */
	uint8_t big[1001];
	for (unsigned i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 31 + 7);
	uint32_t s = fj_csum_add(fj_csum_add(0, big, 500), big + 500, 501);
	assert_int_equal(fj_csum_fold(s), fj_csum_fold(fj_csum_add(0, big, sizeof(big))));
	/* Word at a time or not, aligned or not, any length, any starting
	 * sum: the same as RFC 1071's definition one 16-bit word at a time. */
	for (unsigned off = 0; off < 8; off++)
		for (unsigned len = 0; len <= 300; len++) {
			uint64_t ref = 0xfffe;
			for (unsigned i = 0; i + 1 < len; i += 2)
				ref += (uint32_t)(big[off + i] << 8 | big[off + i + 1]);
			if (len & 1)
				ref += (uint32_t)(big[off + len - 1] << 8);
			assert_int_equal(fj_csum_fold(fj_csum_add(0xfffe, big + off, len)),
					 fj_csum_fold((uint32_t)ref));
		}
}

static void
test_ethernet_parse_and_build(void **state)
{
	(void)state;
	uint8_t f[64] = { 0 };
	struct fj_eth e;

	fj_eth_build(f, &MAC_B, &MAC_A, FJ_ETH_P_IPV4);
	assert_int_equal(fj_eth_parse(f, 60, &e), FJ_OK);
	assert_true(fj_mac_eq(&e.dst, &MAC_B));
	assert_true(fj_mac_eq(&e.src, &MAC_A));
	assert_int_equal(e.type, FJ_ETH_P_IPV4);
	assert_int_equal(fj_eth_parse(f, 13, &e), FJ_WIRE_TRUNCATED);
	/* IPv6 is ours; VLAN-tagged and 802.3 length frames are not. */
	f[12] = 0x86, f[13] = 0xdd;
	assert_int_equal(fj_eth_parse(f, 60, &e), FJ_OK);
	assert_int_equal(e.type, FJ_ETH_P_IPV6);
	f[12] = 0x81, f[13] = 0x00;
	assert_int_equal(fj_eth_parse(f, 60, &e), FJ_WIRE_ETHERTYPE);
	f[12] = 0x00, f[13] = 0x40;
	assert_int_equal(fj_eth_parse(f, 60, &e), FJ_WIRE_ETHERTYPE);
	struct fj_mac bc = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	assert_true(fj_mac_is_broadcast(&bc));
	assert_true(fj_mac_is_multicast(&bc));
	assert_false(fj_mac_is_broadcast(&MAC_A));
}

static void
test_arp_round_trip_and_malformed(void **state)
{
	(void)state;
	uint8_t p[FJ_ARP_LEN];
	struct fj_arp a = { FJ_ARP_REQUEST, MAC_A, IP(10, 0, 0, 1), { { 0 } }, IP(10, 0, 0, 2) }, b;

	fj_arp_build(p, &a);
	assert_int_equal(fj_arp_parse(p, sizeof(p), &b), FJ_OK);
	assert_int_equal(b.op, FJ_ARP_REQUEST);
	assert_true(fj_mac_eq(&b.sha, &MAC_A));
	assert_int_equal(b.spa, IP(10, 0, 0, 1));
	assert_int_equal(b.tpa, IP(10, 0, 0, 2));
	assert_int_equal(fj_arp_parse(p, 27, &b), FJ_WIRE_TRUNCATED);
	p[1] = 6; /* hardware type IEEE 802 */
	assert_int_equal(fj_arp_parse(p, sizeof(p), &b), FJ_WIRE_ARP_FORMAT);
	fj_arp_build(p, &a);
	p[4] = 8; /* hardware length */
	assert_int_equal(fj_arp_parse(p, sizeof(p), &b), FJ_WIRE_ARP_FORMAT);
	fj_arp_build(p, &a);
	p[7] = 3; /* RARP request */
	assert_int_equal(fj_arp_parse(p, sizeof(p), &b), FJ_WIRE_ARP_FORMAT);
}

static void
ip_frame(uint8_t *p, uint16_t payload)
{
	fj_ipv4_build(p, IP(10, 0, 0, 1), IP(10, 0, 0, 2), FJ_IP_PROTO_UDP, payload, 77, 64, false);
}

static void
test_ipv4_valid_header_parses(void **state)
{
	(void)state;
	uint8_t p[100] = { 0 };
	struct fj_ipv4 h;

	ip_frame(p, 40);
	assert_int_equal(fj_ipv4_parse(p, 60, false, &h), FJ_OK);
	assert_int_equal(h.hdr_len, 20);
	assert_int_equal(h.total_len, 60);
	assert_int_equal(h.proto, FJ_IP_PROTO_UDP);
	assert_int_equal(h.ttl, 64);
	assert_int_equal(h.id, 77);
	assert_int_equal(h.src, IP(10, 0, 0, 1));
	assert_int_equal(h.dst, IP(10, 0, 0, 2));
	/* Ethernet padding after the datagram is fine. */
	assert_int_equal(fj_ipv4_parse(p, 100, false, &h), FJ_OK);
	assert_int_equal(h.total_len, 60);
	/* DF is set on what we build. */
	assert_int_equal(p[6], 0x40);
}

static void
test_ipv4_malformed_headers_are_refused(void **state)
{
	(void)state;
	uint8_t p[100] = { 0 };
	struct fj_ipv4 h;

	ip_frame(p, 40);
	assert_int_equal(fj_ipv4_parse(p, 19, false, &h), FJ_WIRE_TRUNCATED);
	/* total length beyond what arrived */
	assert_int_equal(fj_ipv4_parse(p, 59, false, &h), FJ_WIRE_IP_TOTAL_LEN);
	p[0] = 0x65;
	assert_int_equal(fj_ipv4_parse(p, 60, false, &h), FJ_WIRE_IP_VERSION);
	p[0] = 0x44; /* IHL 4 */
	assert_int_equal(fj_ipv4_parse(p, 60, false, &h), FJ_WIRE_IP_HDR_LEN);
	p[0] = 0x4f; /* IHL 15: 60 bytes, beyond a 40-byte frame */
	assert_int_equal(fj_ipv4_parse(p, 40, false, &h), FJ_WIRE_IP_HDR_LEN);
	ip_frame(p, 40);
	p[3] = 10; /* total length 10 < header */
	assert_int_equal(fj_ipv4_parse(p, 60, true, &h), FJ_WIRE_IP_TOTAL_LEN);
	ip_frame(p, 40);
	p[10] ^= 1;
	assert_int_equal(fj_ipv4_parse(p, 60, false, &h), FJ_WIRE_IP_CHECKSUM);
	/* ...unless the port already checked it */
	assert_int_equal(fj_ipv4_parse(p, 60, true, &h), FJ_OK);
}

static void
test_ipv4_options_are_skipped_by_header_length(void **state)
{
	(void)state;
	uint8_t p[100] = { 0 };
	struct fj_ipv4 h;

	ip_frame(p, 36);
	/* Grow the header by one option word (NOP NOP NOP EOL), keep the total. */
	memmove(p + 24, p + 20, 36);
	p[0] = 0x46;
	p[20] = 1, p[21] = 1, p[22] = 1, p[23] = 0;
	p[10] = p[11] = 0;
	uint16_t c = fj_csum_fold(fj_csum_add(0, p, 24));
	p[10] = (uint8_t)(c >> 8), p[11] = (uint8_t)c;
	assert_int_equal(fj_ipv4_parse(p, 60, false, &h), FJ_OK);
	assert_int_equal(h.hdr_len, 24);
}

static void
test_ipv4_fragments_and_bad_sources_are_dropped(void **state)
{
	(void)state;
	uint8_t p[60] = { 0 };
	struct fj_ipv4 h;
	const uint32_t bad[] = { IP(255, 255, 255, 255), IP(224, 0, 0, 1), IP(127, 0, 0, 1),
				 IP(0, 0, 0, 0), IP(240, 0, 0, 1) };

	ip_frame(p, 40);
	assert_int_equal(fj_ipv4_parse(p, 60, true, &h), FJ_OK);
	assert_false(fj_ipv4_is_fragment(&h));
	/* RFC 791 §3.2: a fragment is taken (for reassembly) when all but the
	 * last carry whole 8-byte units and none ends past 65,535 bytes. */
	p[6] = 0x20; /* MF, 40 bytes of payload */
	assert_int_equal(fj_ipv4_parse(p, 60, true, &h), FJ_OK);
	assert_true(h.mf && h.frag_off == 0 && fj_ipv4_is_fragment(&h));
	p[6] = 0x00, p[7] = 0x10; /* the last, 128 bytes in */
	assert_int_equal(fj_ipv4_parse(p, 60, true, &h), FJ_OK);
	assert_true(!h.mf && h.frag_off == 128 && fj_ipv4_is_fragment(&h));
	p[6] = 0x1f, p[7] = 0xff; /* 65,528 + 40 + 20 > 65,535 */
	assert_int_equal(fj_ipv4_parse(p, 60, true, &h), FJ_WIRE_IP_FRAGMENT);
	p[6] = 0x20, p[7] = 0, p[3] = 56; /* MF with 36 bytes */
	assert_int_equal(fj_ipv4_parse(p, 60, true, &h), FJ_WIRE_IP_FRAGMENT);
	p[3] = 60, p[6] = 0;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fj_ipv4_build(p, bad[i], IP(10, 0, 0, 2), FJ_IP_PROTO_UDP, 40, 1, 64, false);
		assert_int_equal(fj_ipv4_parse(p, 60, false, &h), FJ_WIRE_IP_SOURCE);
	}
	/* TTL 0 or 1 addressed to us is still taken (RFC 1122 §3.2.1.7). */
	fj_ipv4_build(p, IP(10, 0, 0, 1), IP(10, 0, 0, 2), FJ_IP_PROTO_UDP, 40, 1, 0, false);
	assert_int_equal(fj_ipv4_parse(p, 60, false, &h), FJ_OK);
}

static void
test_icmp_echo_reply_and_checksum(void **state)
{
	(void)state;
	uint8_t p[64];
	struct fj_icmp ic;

	memset(p, 0xab, sizeof(p));
	p[0] = FJ_ICMP_ECHO_REQUEST, p[1] = 0, p[2] = p[3] = 0;
	uint16_t c = fj_csum_fold(fj_csum_add(0, p, sizeof(p)));
	p[2] = (uint8_t)(c >> 8), p[3] = (uint8_t)c;
	assert_int_equal(fj_icmp_parse(p, sizeof(p), false, &ic), FJ_OK);
	assert_int_equal(ic.type, FJ_ICMP_ECHO_REQUEST);
	fj_icmp_echo_to_reply(p);
	assert_int_equal(fj_icmp_parse(p, sizeof(p), false, &ic), FJ_OK);
	assert_int_equal(ic.type, FJ_ICMP_ECHO_REPLY);
	assert_int_equal(p[40], 0xab); /* payload untouched */
	p[40] ^= 0xff;
	assert_int_equal(fj_icmp_parse(p, sizeof(p), false, &ic), FJ_WIRE_ICMP_CHECKSUM);
	assert_int_equal(fj_icmp_parse(p, 7, false, &ic), FJ_WIRE_TRUNCATED);
}

static void
test_icmp_port_unreachable_quotes_the_datagram(void **state)
{
	(void)state;
	uint8_t orig[48], msg[128];
	struct fj_icmp ic;

	ip_frame(orig, 28);
	memset(orig + 20, 0x11, 28);
	size_t n = fj_icmp_error_build(msg, FJ_ICMP_DEST_UNREACH, FJ_ICMP_PORT_UNREACH, orig, 28);
	assert_int_equal(n, 8 + 28);
	assert_int_equal(fj_icmp_parse(msg, n, false, &ic), FJ_OK);
	assert_int_equal(ic.type, FJ_ICMP_DEST_UNREACH);
	assert_int_equal(ic.code, FJ_ICMP_PORT_UNREACH);
	assert_memory_equal(msg + 8, orig, 28);
}

static void
test_udp_checksum_length_and_zero(void **state)
{
	(void)state;
	uint8_t p[64];
	struct fj_udp_hdr u;
	uint32_t s = IP(10, 0, 0, 1), d = IP(10, 0, 0, 2);

	memset(p + 8, 0x5c, 20);
	fj_udp_build(p, s, d, 5000, 7, 20, false);
	assert_int_equal(fj_udp_parse(p, 28, s, d, false, &u), FJ_OK);
	assert_int_equal(u.sport, 5000);
	assert_int_equal(u.dport, 7);
	assert_int_equal(u.len, 28);
	/* The pseudo-header is covered: another destination fails. */
	assert_int_equal(fj_udp_parse(p, 28, s, d + 1, false, &u), FJ_WIRE_UDP_CHECKSUM);
	p[20] ^= 1;
	assert_int_equal(fj_udp_parse(p, 28, s, d, false, &u), FJ_WIRE_UDP_CHECKSUM);
	/* RFC 768: checksum 0 means the sender computed none. */
	p[6] = p[7] = 0;
	assert_int_equal(fj_udp_parse(p, 28, s, d, false, &u), FJ_OK);
	/* Length field: below 8, or beyond the IP payload. */
	p[4] = 0, p[5] = 7;
	assert_int_equal(fj_udp_parse(p, 28, s, d, false, &u), FJ_WIRE_UDP_LEN);
	p[5] = 29;
	assert_int_equal(fj_udp_parse(p, 28, s, d, false, &u), FJ_WIRE_UDP_LEN);
	assert_int_equal(fj_udp_parse(p, 7, s, d, false, &u), FJ_WIRE_TRUNCATED);
	/* A shorter length than the IP payload is allowed (the rest is padding). */
	fj_udp_build(p, s, d, 5000, 7, 10, false);
	assert_int_equal(fj_udp_parse(p, 28, s, d, false, &u), FJ_OK);
	assert_int_equal(u.len, 18);
}

static void
test_udp_computed_zero_checksum_is_sent_as_ffff(void **state)
{
	(void)state;
	/* Search for a payload whose checksum computes to zero. */
	uint8_t p[10];
	uint32_t s = IP(10, 0, 0, 1), d = IP(10, 0, 0, 2);
	for (unsigned v = 0; v < 0x10000; v++) {
		p[8] = (uint8_t)(v >> 8), p[9] = (uint8_t)v;
		fj_udp_build(p, s, d, 1, 2, 2, false);
		if (p[6] == 0xff && p[7] == 0xff) {
			struct fj_udp_hdr u;
			assert_int_equal(fj_udp_parse(p, 10, s, d, false, &u), FJ_OK);
			return;
		}
	}
	fail_msg("no payload gave a zero checksum");
}

static const uint32_t TS_SRC = IP(10, 0, 0, 1), TS_DST = IP(10, 0, 0, 2);

static size_t
tcp_seg(uint8_t *p, const struct fj_tcp_hdr *h, const char *payload)
{
	size_t plen = strlen(payload);
	size_t hl = FJ_TCP_HDR_LEN + fj_tcp_opts_len(&h->o);
	memcpy(p + hl, payload, plen);
	assert_int_equal(fj_tcp_build(p, h, TS_SRC, TS_DST, (uint32_t)plen, false), hl);
	return hl + plen;
}

static void
test_tcp_syn_options_round_trip(void **state)
{
	(void)state;
	uint8_t p[128];
	struct fj_tcp_hdr h = { .sport = 40000, .dport = 7, .seq = 0xfffffff0u, .ack = 0,
				.flags = FJ_TCP_SYN, .wnd = 65535 };
	h.o = (struct fj_tcp_opts){ .has_mss = true, .mss = 1460, .has_ws = true, .ws = 7,
				    .sack_perm = true, .has_ts = true, .tsval = 123456,
				    .tsecr = 0 };
	size_t n = tcp_seg(p, &h, "");
	assert_int_equal(n, 20 + 20); /* MSS 4, SACK_PERM+TS 12, NOP+WS 4 */
	struct fj_tcp_hdr g;
	assert_int_equal(fj_tcp_parse(p, n, TS_SRC, TS_DST, false, &g), FJ_OK);
	assert_int_equal(g.hdr_len, 40);
	assert_int_equal(g.sport, 40000);
	assert_int_equal(g.dport, 7);
	assert_int_equal(g.seq, 0xfffffff0u);
	assert_int_equal(g.flags, FJ_TCP_SYN);
	assert_int_equal(g.wnd, 65535);
	assert_true(g.o.has_mss && g.o.mss == 1460);
	assert_true(g.o.has_ws && g.o.ws == 7);
	assert_true(g.o.sack_perm);
	assert_true(g.o.has_ts && g.o.tsval == 123456 && g.o.tsecr == 0);
	assert_int_equal(g.o.nsack, 0);
}

static void
test_tcp_data_with_sack_blocks_and_payload(void **state)
{
	(void)state;
	uint8_t p[256];
	struct fj_tcp_hdr h = { .sport = 7, .dport = 40000, .seq = 1000, .ack = 2000,
				.flags = FJ_TCP_ACK | FJ_TCP_PSH, .wnd = 512 };
	h.o.has_ts = true;
	h.o.tsval = 5, h.o.tsecr = 6;
	h.o.nsack = 4;
	for (int b = 0; b < 4; b++)
		h.o.sack[b] = (struct fj_sack_block){ 3000u + 100u * (unsigned)b,
						      3050u + 100u * (unsigned)b };
	/* With timestamps (12 bytes) only three blocks fit in 40. */
	assert_int_equal(fj_tcp_opts_len(&h.o), 12 + 4 + 24);
	size_t n = tcp_seg(p, &h, "payload!");
	struct fj_tcp_hdr g;
	assert_int_equal(fj_tcp_parse(p, n, TS_SRC, TS_DST, false, &g), FJ_OK);
	assert_int_equal(g.o.nsack, 3);
	assert_int_equal(g.o.sack[0].left, 3000);
	assert_int_equal(g.o.sack[2].right, 3250);
	assert_memory_equal(p + g.hdr_len, "payload!", 8);
	assert_int_equal(n - g.hdr_len, 8);
	/* Without timestamps all four fit. */
	h.o.has_ts = false;
	assert_int_equal(fj_tcp_opts_len(&h.o), 4 + 32);
	n = tcp_seg(p, &h, "");
	assert_int_equal(fj_tcp_parse(p, n, TS_SRC, TS_DST, false, &g), FJ_OK);
	assert_int_equal(g.o.nsack, 4);
}

static void
test_tcp_checksum_and_data_offset(void **state)
{
	(void)state;
	uint8_t p[128];
	struct fj_tcp_hdr h = { .sport = 1, .dport = 2, .seq = 3, .ack = 4, .flags = FJ_TCP_ACK,
				.wnd = 5 };
	size_t n = tcp_seg(p, &h, "abc");
	struct fj_tcp_hdr g;
	assert_int_equal(fj_tcp_parse(p, n, TS_SRC, TS_DST + 1, false, &g), FJ_WIRE_TCP_CHECKSUM);
	p[n - 1] ^= 1;
	assert_int_equal(fj_tcp_parse(p, n, TS_SRC, TS_DST, false, &g), FJ_WIRE_TCP_CHECKSUM);
	assert_int_equal(fj_tcp_parse(p, n, TS_SRC, TS_DST, true, &g), FJ_OK);
	assert_int_equal(fj_tcp_parse(p, 19, TS_SRC, TS_DST, true, &g), FJ_WIRE_TRUNCATED);
	p[12] = 4 << 4;
	assert_int_equal(fj_tcp_parse(p, n, TS_SRC, TS_DST, true, &g), FJ_WIRE_TCP_HDR_LEN);
	p[12] = 15 << 4; /* 60 bytes of header in a 23-byte segment */
	assert_int_equal(fj_tcp_parse(p, n, TS_SRC, TS_DST, true, &g), FJ_WIRE_TCP_HDR_LEN);
}

/* A 20-byte header followed by raw option bytes, checksum not checked. */
static enum fj_wire_err
parse_raw_opts(const uint8_t *opts, size_t olen, struct fj_tcp_hdr *g)
{
	uint8_t p[60] = { 0 };
	memcpy(p + 20, opts, olen);
	p[12] = (uint8_t)(((20 + olen) / 4) << 4);
	return fj_tcp_parse(p, 20 + olen, TS_SRC, TS_DST, true, g);
}

static void
test_tcp_malformed_options_are_refused(void **state)
{
	(void)state;
	struct fj_tcp_hdr g;
	const uint8_t zero_len[] = { 2, 0, 0, 0 };
	const uint8_t one_len[] = { 1, 1, 3, 1 };
	const uint8_t past_end[] = { 1, 1, 8, 10 };
	const uint8_t bad_mss[] = { 2, 3, 5, 0 };
	const uint8_t bad_sack[] = { 1, 1, 5, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	const uint8_t kind_at_end[] = { 1, 1, 1, 2 };
	assert_int_equal(parse_raw_opts(zero_len, 4, &g), FJ_WIRE_TCP_OPTIONS);
	assert_int_equal(parse_raw_opts(one_len, 4, &g), FJ_WIRE_TCP_OPTIONS);
	assert_int_equal(parse_raw_opts(past_end, 4, &g), FJ_WIRE_TCP_OPTIONS);
	assert_int_equal(parse_raw_opts(bad_mss, 4, &g), FJ_WIRE_TCP_OPTIONS);
	assert_int_equal(parse_raw_opts(bad_sack, 16, &g), FJ_WIRE_TCP_OPTIONS);
	assert_int_equal(parse_raw_opts(kind_at_end, 4, &g), FJ_WIRE_TCP_OPTIONS);
}

static void
test_tcp_unknown_options_skipped_and_eol_ends(void **state)
{
	(void)state;
	struct fj_tcp_hdr g;
	/* kind 30 (MPTCP) of length 6 skipped; window shift 15 read as 14. */
	const uint8_t unknown[] = { 30, 6, 1, 2, 3, 4, 3, 3, 15, 1, 1, 1 };
	assert_int_equal(parse_raw_opts(unknown, 12, &g), FJ_OK);
	assert_true(g.o.has_ws);
	assert_int_equal(g.o.ws, 14);
	/* Garbage after EOL is not options. */
	const uint8_t eol[] = { 0, 2, 0, 0 };
	assert_int_equal(parse_raw_opts(eol, 4, &g), FJ_OK);
	assert_false(g.o.has_mss);
}

static void
test_drop_names_are_all_set(void **state)
{
	(void)state;
	for (int d = 0; d < FJ_DROP__COUNT; d++)
		assert_string_not_equal(fj_drop_name((enum fj_drop)d), "unknown");
	assert_string_equal(fj_drop_name(FJ_DROP__COUNT), "unknown");
}


/* ------------------------------------------------------ IPv6, ICMPv6, ND */

static const struct fj_ip6 A6 = { { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } };
static const struct fj_ip6 B6 = { { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 } };

/* A header at @p, then @ext (its first byte the next header's field is
 * taken from @nh0 onwards), then @plen bytes; the frame's length. */
static size_t
ip6_frame(uint8_t *p, uint8_t nh, const uint8_t *ext, size_t elen, size_t plen)
{
	fj_ipv6_build(p, &A6, &B6, nh, (uint16_t)(elen + plen), 64, 0x12345);
	if (elen > 0)
		memcpy(p + 40, ext, elen);
	memset(p + 40 + elen, 0xab, plen);
	return 40 + elen + plen;
}

/* RFC 8200 §3: the fields, the flow label; the payload length against the
 * frame (padding allowed), version, a multicast source. */
static void
test_ipv6_header_parses(void **state)
{
	(void)state;
	uint8_t p[200];
	struct fj_ipv6 h;
	size_t n = ip6_frame(p, 17, NULL, 0, 20);
	assert_int_equal(fj_ipv6_parse(p, n + 6, &h), FJ_OK);
	assert_int_equal(h.proto, 17);
	assert_int_equal(h.l4_off, 40);
	assert_int_equal(h.payload_len, 20);
	assert_int_equal(h.hop_limit, 64);
	assert_int_equal(h.flow, 0x12345);
	assert_true(fj_ip6_eq(&h.src, &A6) && fj_ip6_eq(&h.dst, &B6));
	assert_false(h.frag);
	assert_int_equal(fj_ipv6_parse(p, n - 1, &h), FJ_WIRE_IP6_PAYLOAD_LEN);
	assert_int_equal(fj_ipv6_parse(p, 39, &h), FJ_WIRE_TRUNCATED);
	p[0] = 0x40;
	assert_int_equal(fj_ipv6_parse(p, n, &h), FJ_WIRE_IP_VERSION);
	p[0] = 0x60;
	p[8] = 0xff;
	assert_int_equal(fj_ipv6_parse(p, n, &h), FJ_WIRE_IP6_SOURCE);
}

/* RFC 8200 §4: extension headers walked to the upper layer; options per
 * their type's two high bits (§4.2); hop-by-hop only first; a routing
 * header with segments left refused; a bounded walk. */
static void
test_ipv6_extension_headers_are_walked(void **state)
{
	(void)state;
	uint8_t p[400];
	struct fj_ipv6 h;
	/* hop-by-hop (PadN), routing (0 segments left), destination options
	 * (Pad1 x 6), then UDP */
	const uint8_t ext[] = { 43, 0, 1, 4, 0, 0, 0, 0,   60, 0, 0, 0, 0, 0, 0, 0,
				17, 0, 0, 0, 0, 0, 0, 0 };
	size_t n = ip6_frame(p, FJ_IPV6_NH_HOPOPTS, ext, sizeof(ext), 8);
	assert_int_equal(fj_ipv6_parse(p, n, &h), FJ_OK);
	assert_int_equal(h.proto, 17);
	assert_int_equal(h.l4_off, 40 + 24);
	/* An unknown option, skippable (00), then one to discard (01),
	 * (10) and (11): silently, ICMP even to multicast, ICMP if not. */
	uint8_t opt[] = { 17, 0, 0x3e, 4, 0, 0, 0, 0 };
	n = ip6_frame(p, FJ_IPV6_NH_DSTOPTS, opt, sizeof(opt), 8);
	assert_int_equal(fj_ipv6_parse(p, n, &h), FJ_OK);
	opt[2] = 0x7e;
	n = ip6_frame(p, FJ_IPV6_NH_DSTOPTS, opt, sizeof(opt), 8);
	assert_int_equal(fj_ipv6_parse(p, n, &h), FJ_WIRE_IP6_OPTION);
	assert_int_equal(h.param_code, FJ_IPV6_NO_ICMP);
	opt[2] = 0xbe;
	n = ip6_frame(p, FJ_IPV6_NH_DSTOPTS, opt, sizeof(opt), 8);
	assert_int_equal(fj_ipv6_parse(p, n, &h), FJ_WIRE_IP6_OPTION);
	assert_int_equal(h.param_code, 2);
	assert_int_equal(h.param_ptr, 42);
	assert_true(h.param_to_mcast);
	opt[2] = 0xfe;
	n = ip6_frame(p, FJ_IPV6_NH_DSTOPTS, opt, sizeof(opt), 8);
	assert_int_equal(fj_ipv6_parse(p, n, &h), FJ_WIRE_IP6_OPTION);
	assert_false(h.param_to_mcast);
	/* an option longer than its header */
	opt[2] = 0x3e, opt[3] = 5;
	n = ip6_frame(p, FJ_IPV6_NH_DSTOPTS, opt, sizeof(opt), 8);
	assert_int_equal(fj_ipv6_parse(p, n, &h), FJ_WIRE_IP6_EXT);
	/* hop-by-hop after another header: code 1 at the naming field */
	const uint8_t late[] = { 0, 0, 1, 4, 0, 0, 0, 0,   17, 0, 1, 4, 0, 0, 0, 0 };
	n = ip6_frame(p, FJ_IPV6_NH_DSTOPTS, late, sizeof(late), 8);
	assert_int_equal(fj_ipv6_parse(p, n, &h), FJ_WIRE_IP6_EXT);
	assert_int_equal(h.param_code, 1);
	assert_int_equal(h.param_ptr, 40);
	/* routing with a segment left: code 0 at the routing type */
	const uint8_t rt[] = { 17, 0, 4, 1, 0, 0, 0, 0 };
	n = ip6_frame(p, FJ_IPV6_NH_ROUTING, rt, sizeof(rt), 8);
	assert_int_equal(fj_ipv6_parse(p, n, &h), FJ_WIRE_IP6_EXT);
	assert_int_equal(h.param_code, 0);
	assert_int_equal(h.param_ptr, 42);
	/* a chain of destination options past the bound */
	uint8_t many[8 * 10];
	for (int i = 0; i < 10; i++)
		memcpy(many + 8 * i, (uint8_t[]){ i < 9 ? 60 : 17, 0, 1, 4, 0, 0, 0, 0 }, 8);
	n = ip6_frame(p, FJ_IPV6_NH_DSTOPTS, many, sizeof(many), 8);
	assert_int_equal(fj_ipv6_parse(p, n, &h), FJ_WIRE_IP6_EXT);
	/* truncated: a header claiming more than the payload */
	const uint8_t big[] = { 17, 2, 1, 4, 0, 0, 0, 0 };
	n = ip6_frame(p, FJ_IPV6_NH_DSTOPTS, big, sizeof(big), 8);
	assert_int_equal(fj_ipv6_parse(p, n, &h), FJ_WIRE_IP6_EXT);
}

/* RFC 8200 §4.5: the fragment header ends the walk; whole 8-byte units but
 * for the last; nothing past 65,535 bytes; an atomic fragment (RFC 6946)
 * is read through. */
static void
test_ipv6_fragment_header(void **state)
{
	(void)state;
	uint8_t p[200];
	struct fj_ipv6 h;
	uint8_t fh[] = { 17, 0, 0x00, 0xa1, 0xde, 0xad, 0xbe, 0xef }; /* offset 160, M */
	size_t n = ip6_frame(p, FJ_IPV6_NH_FRAGMENT, fh, sizeof(fh), 16);
	assert_int_equal(fj_ipv6_parse(p, n, &h), FJ_OK);
	assert_true(h.frag && h.mf);
	assert_int_equal(h.frag_off, 160);
	assert_int_equal(h.frag_id, 0xdeadbeef);
	assert_int_equal(h.frag_hdr_off, 40);
	assert_int_equal(h.proto, 17);
	assert_int_equal(h.l4_off, 48);
	n = ip6_frame(p, FJ_IPV6_NH_FRAGMENT, fh, sizeof(fh), 15);
	assert_int_equal(fj_ipv6_parse(p, n, &h), FJ_WIRE_IP_FRAGMENT);
	assert_int_equal(h.param_code, 0);
	assert_int_equal(h.param_ptr, 4);
	fh[2] = 0xff, fh[3] = 0xf8; /* 65,528 + 16 */
	n = ip6_frame(p, FJ_IPV6_NH_FRAGMENT, fh, sizeof(fh), 16);
	assert_int_equal(fj_ipv6_parse(p, n, &h), FJ_WIRE_IP_FRAGMENT);
	assert_int_equal(h.param_ptr, 42);
	fh[2] = 0, fh[3] = 0; /* atomic */
	n = ip6_frame(p, FJ_IPV6_NH_FRAGMENT, fh, sizeof(fh), 16);
	assert_int_equal(fj_ipv6_parse(p, n, &h), FJ_OK);
	assert_false(h.frag);
	assert_int_equal(h.proto, 17);
	assert_int_equal(h.l4_off, 48);
}

/* RFC 4291: the link-local address from a MAC (modified EUI-64), the
 * solicited-node group and its MAC (RFC 2464 §7), prefixes, text. */
static void
test_ipv6_addresses(void **state)
{
	(void)state;
	struct fj_mac mac = { { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 } };
	struct fj_ip6 ll = fj_ip6_link_local(&mac), want, sn;
	char buf[46];
	assert_true(fj_ip6_parse_text("fe80::5054:ff:fe12:3456", &want));
	assert_true(fj_ip6_eq(&ll, &want));
	assert_true(fj_ip6_is_link_local(&ll));
	sn = fj_ip6_solicited_node(&ll);
	assert_string_equal(fj_ip6_text(&sn, buf), "ff02::1:ff12:3456");
	assert_true(fj_ip6_is_solicited_node(&sn));
	assert_false(fj_ip6_is_solicited_node(&ll));
	struct fj_mac m = fj_ip6_multicast_mac(&sn);
	assert_memory_equal(m.b, ((uint8_t[]){ 0x33, 0x33, 0xff, 0x12, 0x34, 0x56 }), 6);
	assert_true(fj_ip6_prefix_eq(&A6, &B6, 64));
	assert_true(fj_ip6_prefix_eq(&A6, &B6, 126));
	assert_false(fj_ip6_prefix_eq(&A6, &B6, 127));
	assert_false(fj_ip6_prefix_eq(&A6, &B6, 129));
	assert_false(fj_ip6_parse_text("10.0.0.1", &want));
}

/* RFC 4443 §2.3: the checksum over the pseudo-header. */
static void
test_icmp6_checksum(void **state)
{
	(void)state;
	uint8_t p[64] = { FJ_ICMP6_ECHO_REQUEST, 0, 0, 0, 0, 1, 0, 2, 'h', 'i' };
	struct fj_icmp6 ic;
	fj_icmp6_set_csum(p, 10, &A6, &B6);
	assert_int_equal(fj_icmp6_parse(p, 10, &A6, &B6, false, &ic), FJ_OK);
	assert_int_equal(ic.type, FJ_ICMP6_ECHO_REQUEST);
	assert_int_equal(fj_icmp6_parse(p, 10, &B6, &B6, false, &ic), FJ_WIRE_ICMP6_CHECKSUM);
	assert_int_equal(fj_icmp6_parse(p, 3, &A6, &B6, true, &ic), FJ_WIRE_TRUNCATED);
}

/* RFC 4861 §7.1: NS and NA built and parsed, and what a host refuses:
 * hop limit below 255, a multicast target, a zero-length option, a
 * solicited NA to multicast, DAD's NS with a link-layer option. */
static void
test_nd_messages(void **state)
{
	(void)state;
	uint8_t p[128];
	struct fj_mac mac = { { 2, 0, 0, 0, 0, 7 } };
	struct fj_ipv6 ip = { .src = A6, .dst = B6, .hop_limit = 255 };
	struct fj_nd nd;
	size_t n = fj_nd_build_ns(p, &B6, &mac);
	assert_int_equal(n, 32);
	assert_int_equal(fj_nd_parse(p, n, &ip, &nd), FJ_OK);
	assert_int_equal(nd.type, FJ_ND_NEIGHBOR_SOLICIT);
	assert_true(fj_ip6_eq(&nd.target, &B6) && nd.has_sll && fj_mac_eq(&nd.sll, &mac));
	ip.hop_limit = 254;
	assert_int_equal(fj_nd_parse(p, n, &ip, &nd), FJ_WIRE_ND_FORMAT);
	ip.hop_limit = 255;
	p[25] = 0; /* option length 0 */
	assert_int_equal(fj_nd_parse(p, n, &ip, &nd), FJ_WIRE_ND_FORMAT);
	p[25] = 1;
	/* DAD: from ::, to the solicited-node group, no SLL option */
	ip.src = (struct fj_ip6){ { 0 } };
	ip.dst = fj_ip6_solicited_node(&B6);
	assert_int_equal(fj_nd_parse(p, n, &ip, &nd), FJ_WIRE_ND_FORMAT);
	assert_int_equal(fj_nd_parse(p, fj_nd_build_ns(p, &B6, NULL), &ip, &nd), FJ_OK);
	ip.dst = B6;
	assert_int_equal(fj_nd_parse(p, 24, &ip, &nd), FJ_WIRE_ND_FORMAT);
	ip.src = A6;
	n = fj_nd_build_na(p, &A6, FJ_ND_NA_SOLICITED | FJ_ND_NA_OVERRIDE, &mac);
	assert_int_equal(fj_nd_parse(p, n, &ip, &nd), FJ_OK);
	assert_int_equal(nd.flags, FJ_ND_NA_SOLICITED | FJ_ND_NA_OVERRIDE);
	assert_true(nd.has_tll && fj_mac_eq(&nd.tll, &mac));
	ip.dst = fj_ip6_solicited_node(&A6);
	assert_int_equal(fj_nd_parse(p, n, &ip, &nd), FJ_WIRE_ND_FORMAT);
	ip.dst = B6;
	p[8] = 0xff; /* a multicast target */
	assert_int_equal(fj_nd_parse(p, n, &ip, &nd), FJ_WIRE_ND_FORMAT);
	assert_int_equal(fj_nd_parse(p, 20, &ip, &nd), FJ_WIRE_ND_FORMAT);
}

/* RFC 4861 §4.2, §6.1.2: a router advertisement's fields and prefix and
 * MTU options, from a link-local source only. */
static void
test_nd_router_advertisement(void **state)
{
	(void)state;
	struct fj_ip6 ll;
	fj_ip6_parse_text("fe80::1", &ll);
	uint8_t p[16 + 32 + 8 + 8] = { FJ_ND_ROUTER_ADVERT, 0, 0, 0, 64, 0x40, 0x07, 0x08,
				      0, 0, 0x75, 0x30, 0, 0, 0x03, 0xe8 };
	uint8_t *o = p + 16;
	o[0] = 3, o[1] = 4, o[2] = 64, o[3] = 0xc0;
	o[4] = 0, o[5] = 0, o[6] = 0x0e, o[7] = 0x10; /* valid 3600 */
	o[8] = 0, o[9] = 0, o[10] = 0x07, o[11] = 0x08; /* preferred 1800 */
	memcpy(o + 16, A6.b, 8);
	o = p + 48;
	o[0] = 5, o[1] = 1, o[6] = 0x05, o[7] = 0xdc; /* MTU 1500 */
	o = p + 56;
	o[0] = 99, o[1] = 1; /* unknown: skipped */
	struct fj_ipv6 ip = { .src = ll, .dst = B6, .hop_limit = 255 };
	struct fj_nd nd;
	assert_int_equal(fj_nd_parse(p, sizeof(p), &ip, &nd), FJ_OK);
	assert_int_equal(nd.cur_hop_limit, 64);
	assert_int_equal(nd.flags, FJ_ND_RA_OTHER);
	assert_int_equal(nd.router_lifetime, 1800);
	assert_int_equal(nd.reachable_ms, 30000);
	assert_int_equal(nd.retrans_ms, 1000);
	assert_int_equal(nd.mtu, 1500);
	assert_int_equal(nd.nprefix, 1);
	assert_int_equal(nd.prefix[0].len, 64);
	assert_int_equal(nd.prefix[0].flags, FJ_ND_PREFIX_ONLINK | FJ_ND_PREFIX_AUTO);
	assert_int_equal(nd.prefix[0].valid, 3600);
	assert_int_equal(nd.prefix[0].preferred, 1800);
	assert_true(fj_ip6_prefix_eq(&nd.prefix[0].prefix, &A6, 64));
	ip.src = A6;
	assert_int_equal(fj_nd_parse(p, sizeof(p), &ip, &nd), FJ_WIRE_ND_FORMAT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksum_matches_rfc1071_example),
		cmocka_unit_test(test_ethernet_parse_and_build),
		cmocka_unit_test(test_arp_round_trip_and_malformed),
		cmocka_unit_test(test_ipv4_valid_header_parses),
		cmocka_unit_test(test_ipv4_malformed_headers_are_refused),
		cmocka_unit_test(test_ipv4_options_are_skipped_by_header_length),
		cmocka_unit_test(test_ipv4_fragments_and_bad_sources_are_dropped),
		cmocka_unit_test(test_icmp_echo_reply_and_checksum),
		cmocka_unit_test(test_ipv6_header_parses),
		cmocka_unit_test(test_ipv6_extension_headers_are_walked),
		cmocka_unit_test(test_ipv6_fragment_header),
		cmocka_unit_test(test_ipv6_addresses),
		cmocka_unit_test(test_icmp6_checksum),
		cmocka_unit_test(test_nd_messages),
		cmocka_unit_test(test_nd_router_advertisement),
		cmocka_unit_test(test_icmp_port_unreachable_quotes_the_datagram),
		cmocka_unit_test(test_udp_checksum_length_and_zero),
		cmocka_unit_test(test_udp_computed_zero_checksum_is_sent_as_ffff),
		cmocka_unit_test(test_tcp_syn_options_round_trip),
		cmocka_unit_test(test_tcp_data_with_sack_blocks_and_payload),
		cmocka_unit_test(test_tcp_checksum_and_data_offset),
		cmocka_unit_test(test_tcp_malformed_options_are_refused),
		cmocka_unit_test(test_tcp_unknown_options_skipped_and_eol_ends),
		cmocka_unit_test(test_drop_names_are_all_set),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
