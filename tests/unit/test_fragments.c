/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 fragments both ways, frame by frame in virtual time through the
 * test port: reassembly (RFC 791 §3.2, RFC 815) in any order, exact
 * duplicates, overlaps (RFC 5722's policy), the timeout and its ICMP time
 * exceeded (RFC 1122 §3.3.2), the bounds; and fragmentation of UDP and
 * ICMP beyond the MTU, DF clear, one ID a datagram.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scripted.h"

#define BIG 65536

/* One fragment from @src: @plen bytes at @data, @off bytes into the
 * datagram, MF as @mf. */
static uint32_t
mk_frag(uint8_t *f, uint32_t src, uint8_t proto, uint16_t id, uint32_t off, bool mf,
	const uint8_t *data, uint32_t plen)
{
	fj_eth_build(f, &US, &PEER, FJ_ETH_P_IPV4);
	fj_ipv4_build(f + 14, src, US_IP, proto, (uint16_t)plen, id, 64, false);
	uint16_t ff = (uint16_t)((mf ? FJ_IPV4_MF : 0) | off / 8);
	f[14 + 6] = (uint8_t)(ff >> 8), f[14 + 7] = (uint8_t)ff;
	f[14 + 10] = f[14 + 11] = 0;
	uint16_t c = fj_csum_fold(fj_csum_add(0, f + 14, 20));
	f[14 + 10] = (uint8_t)(c >> 8), f[14 + 11] = (uint8_t)c;
	memcpy(f + 34, data, plen);
	uint32_t n = 34 + plen;
	if (n < 60) {
		memset(f + n, 0, 60 - n);
		n = 60;
	}
	return n;
}

/* Piece @i of @len bytes at @d cut every @piece bytes, from @src. */
static void
send_piece(struct fixture *fx, uint32_t src, uint8_t proto, uint16_t id, const uint8_t *d,
	   uint32_t len, uint32_t piece, uint32_t i)
{
	static uint8_t f[2048];
	uint32_t off = i * piece, n = len - off < piece ? len - off : piece;
	fj_stack_input(fx->stack, f, mk_frag(f, src, proto, id, off, off + n < len, d + off, n));
}

/* A UDP datagram from PEER:@sport to @dport with @plen bytes of a pattern;
 * its bytes in @d, their count returned. */
static uint32_t
mk_udp_dgram(uint8_t *d, uint16_t sport, uint16_t dport, uint32_t plen)
{
	for (uint32_t i = 0; i < plen; i++)
		d[8 + i] = (uint8_t)(i * 7 + 1);
	fj_udp_build(d, PEER_IP, US_IP, sport, dport, (uint16_t)plen, false);
	return 8 + plen;
}

static uint32_t
mk_echo_request(uint8_t *d, uint16_t seq, uint32_t plen)
{
	d[0] = FJ_ICMP_ECHO_REQUEST, d[1] = 0, d[2] = d[3] = 0;
	d[4] = 0x12, d[5] = 0x34, d[6] = (uint8_t)(seq >> 8), d[7] = (uint8_t)seq;
	for (uint32_t i = 0; i < plen; i++)
		d[8 + i] = (uint8_t)(i * 5 + 3);
	uint16_t c = fj_csum_fold(fj_csum_add(0, d, 8 + plen));
	d[2] = (uint8_t)(c >> 8), d[3] = (uint8_t)c;
	return 8 + plen;
}

/* Everything the stack sent since, taken as the fragments of one datagram
 * to PEER: each within the MTU, DF clear, one ID, MF on all but the last,
 * the offsets adjoining. Its payload goes to @out; its length returned. */
static uint32_t
collect_fragments(struct fixture *fx, uint8_t proto, uint8_t *out, int *nfrags)
{
	uint32_t have = 0, len;
	int n = 0, id = -1;
	bool last = false;

	while (fx->seen < fx->nout) {
		const uint8_t *f = next_frame(fx, &len);
		assert_true(len <= 1514);
		struct fj_ipv4 ip = expect_ipv4(f, len, &PEER, proto);
		assert_false(last);
		assert_int_equal(f[14 + 6] & 0x40, 0); /* DF clear */
		if (id < 0)
			id = ip.id;
		assert_int_equal(ip.id, id);
		assert_int_equal(ip.frag_off, have);
		uint32_t plen = ip.total_len - ip.hdr_len;
		memcpy(out + have, f + 14 + ip.hdr_len, plen);
		have += plen;
		last = !ip.mf;
		n++;
	}
	assert_true(last);
	*nfrags = n;
	return have;
}

/* ------------------------------------------------------ reassembly */

/* RFC 791 §3.2, RFC 815: a 3,000-byte UDP datagram in three fragments, the
 * last first, reaches the echo on port 7 whole; its echo goes back in
 * three fragments of at most the MTU that make the same datagram. */
static void
test_udp_datagram_in_fragments_any_order_is_echoed_in_fragments(void **state)
{
	struct fixture *fx = *state;
	static uint8_t d[BIG], back[BIG];
	start_and_learn_peer(fx);
	uint32_t len = mk_udp_dgram(d, 5000, 7, 3000);
	send_piece(fx, PEER_IP, FJ_IP_PROTO_UDP, 77, d, len, 1480, 2);
	send_piece(fx, PEER_IP, FJ_IP_PROTO_UDP, 77, d, len, 1480, 0);
	expect_nothing(fx);
	send_piece(fx, PEER_IP, FJ_IP_PROTO_UDP, 77, d, len, 1480, 1);
	int n;
	uint32_t got = collect_fragments(fx, FJ_IP_PROTO_UDP, back, &n);
	assert_int_equal(n, 3);
	assert_int_equal(got, len);
	struct fj_udp_hdr h;
	assert_int_equal(fj_udp_parse(back, got, US_IP, PEER_IP, false, &h), FJ_OK);
	assert_int_equal(h.sport, 7);
	assert_int_equal(h.dport, 5000);
	assert_memory_equal(back + 8, d + 8, 3000);
	assert_int_equal(fj_stack_counter(fx->stack, "ip_frags_rx"), 3);
	assert_int_equal(fj_stack_counter(fx->stack, "ip_reassembled"), 1);
	assert_int_equal(fj_stack_counter(fx->stack, "ip_fragmented"), 1);
	assert_int_equal(fj_stack_counter(fx->stack, "ip_frags_tx"), 3);
}

/* The largest datagrams both ways: a 65,507-byte UDP payload (IPv4's
 * 65,535 less the headers) and a ping of 65,000 bytes, in 45 fragments
 * each, are echoed whole; one byte more is refused on sending. */
static void
test_64k_datagrams_both_ways(void **state)
{
	struct fixture *fx = *state;
	static uint8_t d[BIG], back[BIG];
	start_and_learn_peer(fx);
	uint32_t len = mk_udp_dgram(d, 5001, 7, 65507);
	for (uint32_t i = 0; i * 1480 < len; i++)
		send_piece(fx, PEER_IP, FJ_IP_PROTO_UDP, 78, d, len, 1480, i);
	int n;
	uint32_t got = collect_fragments(fx, FJ_IP_PROTO_UDP, back, &n);
	assert_int_equal(n, 45);
	assert_int_equal(got, len);
	struct fj_udp_hdr h;
	assert_int_equal(fj_udp_parse(back, got, US_IP, PEER_IP, false, &h), FJ_OK);
	assert_memory_equal(back + 8, d + 8, 65507);

	len = mk_echo_request(d, 1, 65000);
	for (uint32_t i = 0; i * 1480 < len; i++)
		send_piece(fx, PEER_IP, FJ_IP_PROTO_ICMP, 79, d, len, 1480, i);
	got = collect_fragments(fx, FJ_IP_PROTO_ICMP, back, &n);
	assert_int_equal(got, len);
	assert_int_equal(back[0], FJ_ICMP_ECHO_REPLY);
	struct fj_icmp ic;
	assert_int_equal(fj_icmp_parse(back, got, false, &ic), FJ_OK);
	assert_memory_equal(back + 4, d + 4, got - 4);

	/* One byte past what IPv4 can carry. */
	struct fj_udp *u = fj_udp_bind(fx->stack, 99, echo, NULL);
	struct fj_addr to = { .ip = PEER_IP, .port = 1 };
	struct fj_buf *b = fj_buf_alloc(fx->stack, 65508);
	assert_non_null(b);
	assert_int_equal(fj_udp_send(u, b, &to), -EMSGSIZE);
	assert_int_equal(fj_stack_counter(fx->stack, "drop_oversize"), 1);
	expect_nothing(fx);
}

/* RFC 8200 §4.5 (the same for IPv4): an exact copy of a fragment is
 * dropped alone, and the datagram still completes. */
static void
test_duplicate_fragment_is_dropped_alone(void **state)
{
	struct fixture *fx = *state;
	static uint8_t d[BIG], back[BIG];
	start_and_learn_peer(fx);
	uint32_t len = mk_udp_dgram(d, 5002, 7, 2000);
	send_piece(fx, PEER_IP, FJ_IP_PROTO_UDP, 80, d, len, 1480, 0);
	send_piece(fx, PEER_IP, FJ_IP_PROTO_UDP, 80, d, len, 1480, 0);
	send_piece(fx, PEER_IP, FJ_IP_PROTO_UDP, 80, d, len, 1480, 1);
	int n;
	assert_int_equal(collect_fragments(fx, FJ_IP_PROTO_UDP, back, &n), len);
	assert_int_equal(fj_stack_counter(fx->stack, "drop_ip_frag_duplicate"), 1);
	/* The last piece again, after the datagram went up: a new datagram
	 * begins with it and waits. */
	send_piece(fx, PEER_IP, FJ_IP_PROTO_UDP, 80, d, len, 1480, 1);
	expect_nothing(fx);
}

/* RFC 5722's policy: a fragment overlapping another drops the datagram and
 * every fragment of it that comes until the timeout; then the same ID
 * makes a new datagram. */
static void
test_overlapping_fragment_drops_the_datagram_until_the_timeout(void **state)
{
	struct fixture *fx = *state;
	static uint8_t d[BIG], f[2048], back[BIG];
	start_and_learn_peer(fx);
	uint32_t len = mk_udp_dgram(d, 5003, 7, 3000);
	send_piece(fx, PEER_IP, FJ_IP_PROTO_UDP, 81, d, len, 1480, 0);
	/* 8 bytes before the second piece's place, into the first's. */
	fj_stack_input(fx->stack, f,
		       mk_frag(f, PEER_IP, FJ_IP_PROTO_UDP, 81, 1472, true, d + 1472, 1480));
	send_piece(fx, PEER_IP, FJ_IP_PROTO_UDP, 81, d, len, 1480, 1);
	send_piece(fx, PEER_IP, FJ_IP_PROTO_UDP, 81, d, len, 1480, 2);
	expect_nothing(fx);
	/* The held first, the overlapping one, and the two after it. */
	assert_int_equal(fj_stack_counter(fx->stack, "drop_ip_frag_overlap"), 4);
	assert_int_equal(fj_stack_counter(fx->stack, "ip_reassembled"), 0);
	advance(fx, 31 * SEC);
	expect_nothing(fx); /* no time exceeded for a datagram given up */
	for (uint32_t i = 0; i < 3; i++)
		send_piece(fx, PEER_IP, FJ_IP_PROTO_UDP, 81, d, len, 1480, i);
	int n;
	assert_int_equal(collect_fragments(fx, FJ_IP_PROTO_UDP, back, &n), len);
}

/* RFC 1122 §3.3.2: a datagram still incomplete after the timeout (30 s)
 * goes, with ICMP time exceeded (code 1) quoting its first fragment when
 * that came; none when it did not. */
static void
test_incomplete_datagram_times_out_with_time_exceeded(void **state)
{
	struct fixture *fx = *state;
	static uint8_t d[BIG], f[2048];
	start_and_learn_peer(fx);
	uint32_t len = mk_udp_dgram(d, 5004, 7, 3000);
	send_piece(fx, PEER_IP, FJ_IP_PROTO_UDP, 82, d, len, 1480, 0);
	send_piece(fx, PEER_IP, FJ_IP_PROTO_UDP, 82, d, len, 1480, 2);
	/* Another, missing its first fragment. */
	send_piece(fx, PEER_IP, FJ_IP_PROTO_UDP, 83, d, len, 1480, 1);
	advance(fx, 29 * SEC);
	expect_nothing(fx);
	advance(fx, 2 * SEC);
	uint32_t flen;
	const uint8_t *o = next_frame(fx, &flen);
	struct fj_ipv4 ip = expect_ipv4(o, flen, &PEER, FJ_IP_PROTO_ICMP);
	assert_int_equal(ip.dst, PEER_IP);
	const uint8_t *icmp = o + 14 + ip.hdr_len;
	struct fj_icmp ic;
	assert_int_equal(fj_icmp_parse(icmp, ip.total_len - ip.hdr_len, false, &ic), FJ_OK);
	assert_int_equal(ic.type, FJ_ICMP_TIME_EXCEEDED);
	assert_int_equal(ic.code, FJ_ICMP_REASM_TIME_EXCEEDED);
	/* The quote: the first fragment's header and 8 bytes (the UDP header). */
	mk_frag(f, PEER_IP, FJ_IP_PROTO_UDP, 82, 0, true, d, 1480);
	assert_int_equal(ip.total_len - ip.hdr_len, 8 + 20 + 8);
	assert_memory_equal(icmp + 8, f + 14, 28);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "ip_reasm_timeouts"), 2);
	assert_int_equal(fj_stack_counter(fx->stack, "drop_ip_reasm_timeout"), 3);
}

/* The bounds: 16 datagrams under way from one source, 64 in all; a
 * fragment beyond them is dropped and counted while the datagrams already
 * under way still complete. */
static void
test_reassembly_is_bounded_per_source_and_in_all(void **state)
{
	struct fixture *fx = *state;
	static uint8_t d[BIG], back[BIG];
	start_and_learn_peer(fx);
	uint32_t len = mk_udp_dgram(d, 5005, 7, 2000);
	for (uint16_t id = 1; id <= 17; id++)
		send_piece(fx, PEER_IP, FJ_IP_PROTO_UDP, id, d, len, 1480, 0);
	assert_int_equal(fj_stack_counter(fx->stack, "drop_ip_reasm_full"), 1);
	/* Others' fragments (sources on the link, their MACs unknown: only
	 * reassembly is looked at) fill the table to 64. */
	for (uint32_t src = 0; src < 3; src++)
		for (uint16_t id = 1; id <= 16; id++)
			send_piece(fx, IP(10, 0, 0, 10 + src), FJ_IP_PROTO_UDP, id, d, len, 1480, 0);
	assert_int_equal(fj_stack_counter(fx->stack, "drop_ip_reasm_full"), 1);
	send_piece(fx, IP(10, 0, 0, 20), FJ_IP_PROTO_UDP, 1, d, len, 1480, 0);
	assert_int_equal(fj_stack_counter(fx->stack, "drop_ip_reasm_full"), 2);
	expect_nothing(fx);
	/* One of PEER's completes. */
	send_piece(fx, PEER_IP, FJ_IP_PROTO_UDP, 5, d, len, 1480, 1);
	int n;
	assert_int_equal(collect_fragments(fx, FJ_IP_PROTO_UDP, back, &n), len);
	/* Everything else goes at the timeout; its buffers with it. */
	advance(fx, 31 * SEC);
	assert_int_equal(fj_stack_counter(fx->stack, "ip_reasm_timeouts"), 63);
}

/* RFC 791 §3.2: a fragment but the last carries whole 8-byte units, and
 * none reaches past 65,535 bytes (the "ping of death"): dropped as
 * malformed. */
static void
test_malformed_fragments_are_dropped(void **state)
{
	struct fixture *fx = *state;
	static uint8_t d[BIG], f[2048];
	start_and_learn_peer(fx);
	mk_udp_dgram(d, 5006, 7, 3000);
	fj_stack_input(fx->stack, f, mk_frag(f, PEER_IP, FJ_IP_PROTO_UDP, 84, 0, true, d, 1477));
	fj_stack_input(fx->stack, f,
		       mk_frag(f, PEER_IP, FJ_IP_PROTO_UDP, 84, 65528, false, d, 100));
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "drop_ip_fragment"), 2);
	assert_int_equal(fj_stack_counter(fx->stack, "ip_frags_rx"), 0);
}

/* A UDP datagram of the MTU's size goes whole, DF set (path MTU
 * discovery); one byte more goes in two fragments. */
static void
test_udp_send_at_and_past_the_mtu(void **state)
{
	struct fixture *fx = *state;
	static uint8_t back[BIG];
	start_and_learn_peer(fx);
	struct fj_udp *u = fj_udp_bind(fx->stack, 99, echo, NULL);
	struct fj_addr to = { .ip = PEER_IP, .port = 1 };
	struct fj_buf *b = fj_buf_alloc(fx->stack, 1472);
	memset(fj_buf_data(b), 0x5a, 1472);
	assert_int_equal(fj_udp_send(u, b, &to), 0);
	fj_stack_poll(fx->stack);
	uint32_t len;
	const uint8_t *o = next_frame(fx, &len);
	struct fj_ipv4 ip = expect_ipv4(o, len, &PEER, FJ_IP_PROTO_UDP);
	assert_int_equal(ip.total_len, 1500);
	assert_int_equal(o[14 + 6] & 0x40, 0x40);
	assert_false(fj_ipv4_is_fragment(&ip));
	b = fj_buf_alloc(fx->stack, 1473);
	memset(fj_buf_data(b), 0xa5, 1473);
	assert_int_equal(fj_udp_send(u, b, &to), 0);
	fj_stack_poll(fx->stack);
	int n;
	uint32_t got = collect_fragments(fx, FJ_IP_PROTO_UDP, back, &n);
	assert_int_equal(n, 2);
	assert_int_equal(got, 8 + 1473);
	struct fj_udp_hdr h;
	assert_int_equal(fj_udp_parse(back, got, US_IP, PEER_IP, false, &h), FJ_OK);
	assert_int_equal(fj_stack_counter(fx->stack, "drop_oversize"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_udp_datagram_in_fragments_any_order_is_echoed_in_fragments, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_64k_datagrams_both_ways, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_fragment_is_dropped_alone, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_overlapping_fragment_drops_the_datagram_until_the_timeout, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_incomplete_datagram_times_out_with_time_exceeded,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_reassembly_is_bounded_per_source_and_in_all,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_fragments_are_dropped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_udp_send_at_and_past_the_mtu, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
