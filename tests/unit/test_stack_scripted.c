/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stack as a whole, frame by frame in virtual time, through its test
 * port (fjord_testport.h): a scripted peer sends frames, the clock is
 * advanced by hand, and the frames the stack emits are checked exactly.
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

/* ------------------------------------------------------ tests */

static void
test_gratuitous_arp_then_reply_to_requests(void **state)
{
	(void)state;
	start_and_learn_peer();
	/* A request for another address is not answered but still teaches
	 * nothing new (RFC 826: no entry is created for it). */
	uint8_t q[60];
	struct fj_mac other = { { 2, 0, 0, 0, 0, 9 } };
	fj_stack_input(S, q, mk_arp(q, FJ_ARP_REQUEST, &BCAST, &other, IP(10, 0, 0, 9), &BCAST,
				    IP(10, 0, 0, 3)));
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "arp_replies_tx"), 1);
}

static void
test_arp_reply_to_a_padded_request_is_a_minimum_frame(void **state)
{
	(void)state;
	uint32_t len;
	next_frame(&len);
	uint8_t q[1000];
	memset(q, 0xee, sizeof(q));
	mk_arp(q, FJ_ARP_REQUEST, &BCAST, &PEER, PEER_IP, &BCAST, US_IP);
	memset(q + 42, 0xee, sizeof(q) - 42);
	fj_stack_input(S, q, sizeof(q));
	const uint8_t *f = next_frame(&len);
	assert_int_equal(len, 60);
	expect_arp(f, len, &PEER, FJ_ARP_REPLY);
	for (uint32_t i = 42; i < 60; i++)
		assert_int_equal(f[i], 0);
}

static void
test_udp_echo_to_a_known_peer(void **state)
{
	(void)state;
	start_and_learn_peer();
	uint8_t f[128];
	uint32_t len;
	fj_stack_input(S, f, mk_udp(f, PEER_IP, 5000, 7, "hello", &PEER));
	const uint8_t *o = next_frame(&len);
	struct fj_ipv4 ip = expect_ipv4(o, len, &PEER, FJ_IP_PROTO_UDP);
	assert_int_equal(ip.dst, PEER_IP);
	struct fj_udp_hdr u;
	assert_int_equal(fj_udp_parse(o + 34, len - 34, US_IP, PEER_IP, false, &u), FJ_OK);
	assert_int_equal(u.sport, 7);
	assert_int_equal(u.dport, 5000);
	assert_int_equal(u.len, 8 + 5);
	assert_memory_equal(o + 42, "hello", 5);
	expect_nothing();
}

static void
test_reply_waits_for_arp_then_leaves(void **state)
{
	(void)state;
	uint32_t len;
	next_frame(&len); /* the announcement */
	struct fj_mac m3 = { { 2, 0, 0, 0, 0, 3 } };
	uint8_t f[128];
	fj_stack_input(S, f, mk_udp(f, IP(10, 0, 0, 3), 6000, 7, "queued", &m3));
	/* Unknown sender: the echo waits while its address is asked for. */
	const uint8_t *nf83 = next_frame(&len);
	struct fj_arp a = expect_arp(nf83, len, &BCAST, FJ_ARP_REQUEST);
	assert_int_equal(a.tpa, IP(10, 0, 0, 3));
	expect_nothing();
	peer_arp_reply(&m3, IP(10, 0, 0, 3));
	const uint8_t *nf88 = next_frame(&len);
	struct fj_ipv4 ip = expect_ipv4(nf88, len, &m3, FJ_IP_PROTO_UDP);
	assert_int_equal(ip.dst, IP(10, 0, 0, 3));
	expect_nothing();
}

static void
test_unanswered_arp_retries_each_second_then_drops(void **state)
{
	(void)state;
	uint32_t len;
	next_frame(&len);
	struct fj_mac m4 = { { 2, 0, 0, 0, 0, 4 } };
	uint8_t f[128];
	fj_stack_input(S, f, mk_udp(f, IP(10, 0, 0, 4), 6000, 7, "x", &m4));
	const uint8_t *nf103 = next_frame(&len);
	expect_arp(nf103, len, &BCAST, FJ_ARP_REQUEST);
	advance(SEC / 2);
	expect_nothing();
	advance(SEC / 2);
	const uint8_t *nf108 = next_frame(&len);
	expect_arp(nf108, len, &BCAST, FJ_ARP_REQUEST);
	advance(SEC);
	const uint8_t *nf111 = next_frame(&len);
	expect_arp(nf111, len, &BCAST, FJ_ARP_REQUEST);
	advance(SEC);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "drop_arp_timeout"), 1);
}

static void
test_neighbour_is_refreshed_by_unicast_and_expires(void **state)
{
	(void)state;
	start_and_learn_peer();
	uint32_t len;
	advance(89 * SEC);
	expect_nothing();
	advance(1 * SEC);
	/* RFC 1122 §2.3.2.1: re-asked for, unicast, before it lapses. */
	const uint8_t *nf128 = next_frame(&len);
	struct fj_arp a = expect_arp(nf128, len, &PEER, FJ_ARP_REQUEST);
	assert_int_equal(a.tpa, PEER_IP);
	advance(SEC);
	const uint8_t *nf132 = next_frame(&len);
	expect_arp(nf132, len, &PEER, FJ_ARP_REQUEST);
	advance(SEC);
	const uint8_t *nf135 = next_frame(&len);
	expect_arp(nf135, len, &PEER, FJ_ARP_REQUEST);
	advance(30 * SEC);
	expect_nothing();
	/* Expired: an echo to PEER now needs a broadcast request again. */
	uint8_t f[128];
	fj_stack_input(S, f, mk_udp(f, PEER_IP, 5000, 7, "again", &PEER));
	const uint8_t *nf142 = next_frame(&len);
	expect_arp(nf142, len, &BCAST, FJ_ARP_REQUEST);
}

static void
test_ping_of_any_size_is_answered(void **state)
{
	(void)state;
	start_and_learn_peer();
	uint8_t f[1600];
	uint32_t len;
	const uint16_t sizes[] = { 0, 1, 56, 1000, 1472 };
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint32_t n = mk_ping(f, PEER_IP, 77, (uint16_t)i, sizes[i]);
		fj_stack_input(S, f, n < 60 ? 60 : n);
		const uint8_t *o = next_frame(&len);
		struct fj_ipv4 ip = expect_ipv4(o, len, &PEER, FJ_IP_PROTO_ICMP);
		assert_int_equal(ip.total_len, 20 + 8 + sizes[i]);
		struct fj_icmp ic;
		assert_int_equal(fj_icmp_parse(o + 34, ip.total_len - 20u, &ic), FJ_OK);
		assert_int_equal(ic.type, FJ_ICMP_ECHO_REPLY);
		/* Identifier, sequence and data come back unchanged. */
		assert_memory_equal(o + 34 + 4, f + 34 + 4, 4u + sizes[i]);
	}
	expect_nothing();
}

static void
test_closed_port_unreachable_is_rate_limited(void **state)
{
	(void)state;
	start_and_learn_peer();
	uint8_t f[128];
	uint32_t len;
	for (int i = 0; i < 60; i++)
		fj_stack_input(S, f, mk_udp(f, PEER_IP, 5000, 9, "closed?", &PEER));
	/* A burst of 50, then the rest suppressed. */
	for (int i = 0; i < 50; i++) {
		const uint8_t *o = next_frame(&len);
		struct fj_ipv4 ip = expect_ipv4(o, len, &PEER, FJ_IP_PROTO_ICMP);
		struct fj_icmp ic;
		assert_int_equal(fj_icmp_parse(o + 34, ip.total_len - 20u, &ic), FJ_OK);
		assert_int_equal(ic.type, FJ_ICMP_DEST_UNREACH);
		assert_int_equal(ic.code, FJ_ICMP_PORT_UNREACH);
		/* RFC 792: the offending IP header and 8 bytes follow. */
		assert_int_equal(ip.total_len, 20 + 8 + 20 + 8);
		assert_memory_equal(o + 34 + 8, f + 14, 28);
	}
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "drop_icmp_rate_limited"), 10);
	/* 100 a second come back. */
	now_us += SEC / 10;
	for (int i = 0; i < 12; i++)
		fj_stack_input(S, f, mk_udp(f, PEER_IP, 5000, 9, "closed?", &PEER));
	assert_int_equal(nout - seen, 10);
}

static void
test_off_link_goes_through_the_gateway(void **state)
{
	(void)state;
	start_and_learn_peer();
	uint32_t len;
	uint8_t f[128];
	/* A datagram from far away arrives through the gateway's MAC. */
	fj_stack_input(S, f, mk_udp(f, IP(192, 0, 2, 7), 5000, 7, "far", &GW));
	const uint8_t *nf208 = next_frame(&len);
	struct fj_arp a = expect_arp(nf208, len, &BCAST, FJ_ARP_REQUEST);
	assert_int_equal(a.tpa, GW_IP);
	peer_arp_reply(&GW, GW_IP);
	const uint8_t *nf212 = next_frame(&len);
	struct fj_ipv4 ip = expect_ipv4(nf212, len, &GW, FJ_IP_PROTO_UDP);
	assert_int_equal(ip.dst, IP(192, 0, 2, 7));
}

static void
test_frames_for_others_are_dropped_and_counted(void **state)
{
	(void)state;
	start_and_learn_peer();
	uint8_t f[128];
	uint32_t n = mk_udp(f, PEER_IP, 5000, 7, "not you", &PEER);
	f[5] = 0x77; /* another unicast MAC */
	fj_stack_input(S, f, n);
	n = mk_udp(f, PEER_IP, 5000, 7, "not you", &PEER);
	fj_ipv4_build(f + 14, PEER_IP, IP(10, 0, 0, 99), FJ_IP_PROTO_UDP, 8 + 7, 1, 64, false);
	fj_stack_input(S, f, n);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "drop_not_for_us"), 2);
}

static void
test_oversize_send_is_refused(void **state)
{
	(void)state;
	start_and_learn_peer();
	struct fj_udp *u = fj_udp_bind(S, 99, echo, NULL);
	struct fj_buf *b = fj_buf_alloc(S, 1473);
	assert_non_null(b);
	struct fj_addr to = { PEER_IP, 1 };
	assert_int_equal(fj_udp_send(u, b, &to), -EMSGSIZE);
	b = fj_buf_alloc(S, 1472);
	assert_int_equal(fj_udp_send(u, b, &to), 0);
	/* Sends made outside a callback leave with the loop's next turn. */
	expect_nothing();
	fj_stack_poll(S);
	uint32_t len;
	const uint8_t *nf249 = next_frame(&len);
	struct fj_ipv4 ip = expect_ipv4(nf249, len, &PEER, FJ_IP_PROTO_UDP);
	assert_int_equal(ip.total_len, 1500);
	assert_int_equal(fj_stack_counter(S, "drop_oversize"), 1);
	/* A port bound twice is refused. */
	assert_null(fj_udp_bind(S, 99, echo, NULL));
}

static void
test_tcp_syn_ack_carries_mss_and_window_scale(void **state)
{
	(void)state;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1200, .has_ws = true, .ws = 3 };
	peer_tcp(7, peer_iss, 0, FJ_TCP_SYN, 65535, &o, NULL);
	struct fj_tcp_hdr sa = expect_tcp(FJ_TCP_SYN | FJ_TCP_ACK, NULL, NULL);
	assert_int_equal(sa.ack, peer_iss + 1);
	assert_true(sa.o.has_mss);
	assert_int_equal(sa.o.mss, 1460);
	assert_true(sa.o.has_ws);
	assert_int_equal(sa.o.ws, 7);
	/* Without the peer's window scale option, we send none (RFC 7323 §2.2). */
	peer_tcp(7, peer_iss, 0, FJ_TCP_SYN, 65535, NULL, NULL);
	(void)next_frame(&(uint32_t){ 0 }); /* a SYN again: the SYN-ACK again */
}

static void
test_tcp_syn_to_a_closed_port_gets_rst(void **state)
{
	(void)state;
	peer_tcp(99, peer_iss, 0, FJ_TCP_SYN, 65535, NULL, NULL);
	struct fj_tcp_hdr r = expect_tcp(FJ_TCP_RST | FJ_TCP_ACK, NULL, NULL);
	assert_int_equal(r.seq, 0);
	assert_int_equal(r.ack, peer_iss + 1);
	/* An ACK to nobody: RST with SEQ = SEG.ACK (RFC 9293 §3.10.7.1). */
	peer_tcp(99, peer_iss, 777, FJ_TCP_ACK, 65535, NULL, NULL);
	r = expect_tcp(FJ_TCP_RST, NULL, NULL);
	assert_int_equal(r.seq, 777);
	/* A RST to nobody: silence. */
	peer_tcp(99, peer_iss, 777, FJ_TCP_RST, 65535, NULL, NULL);
	expect_nothing();
}

static void
test_tcp_echo_data_and_ack(void **state)
{
	(void)state;
	uint32_t iss1 = open_flow(7, 65535, true);
	peer_tcp(7, peer_iss + 1, iss1, FJ_TCP_ACK | FJ_TCP_PSH, 65535, NULL, "hello");
	uint32_t plen;
	const uint8_t *pl;
	struct fj_tcp_hdr d = expect_tcp(FJ_TCP_ACK | FJ_TCP_PSH, &plen, &pl);
	assert_int_equal(plen, 5);
	assert_memory_equal(pl, "hello", 5);
	assert_int_equal(d.seq, iss1);
	assert_int_equal(d.ack, peer_iss + 1 + 5); /* the echo carries the ACK */
	expect_nothing();
}

static void
test_tcp_out_of_window_segment_gets_an_ack(void **state)
{
	(void)state;
	uint32_t iss1 = open_flow(7, 65535, true);
	peer_tcp(7, peer_iss + 1 + 10000000, iss1, FJ_TCP_ACK, 65535, NULL, "far");
	struct fj_tcp_hdr a = expect_tcp(FJ_TCP_ACK, NULL, NULL);
	assert_int_equal(a.ack, peer_iss + 1);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_out_of_window"), 1);
}

static void
test_tcp_rst_with_wrong_sequence_gets_challenge_ack(void **state)
{
	(void)state;
	uint32_t iss1 = open_flow(7, 65535, true);
	/* RFC 5961 §3.2: in the window but not RCV.NXT: a challenge ACK. */
	peer_tcp(7, peer_iss + 100, iss1, FJ_TCP_RST, 65535, NULL, NULL);
	struct fj_tcp_hdr a = expect_tcp(FJ_TCP_ACK, NULL, NULL);
	assert_int_equal(a.ack, peer_iss + 1);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 1);
	/* Exactly RCV.NXT: the connection is reset and freed. */
	peer_tcp(7, peer_iss + 1, iss1, FJ_TCP_RST, 65535, NULL, NULL);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 0);
	assert_int_equal(fj_stack_counter(S, "tcp_rst_rx"), 1);
}

static void
test_tcp_syn_on_an_established_flow_gets_challenge_ack(void **state)
{
	(void)state;
	uint32_t iss1 = open_flow(7, 65535, true);
	(void)iss1;
	peer_tcp(7, peer_iss + 1, 0, FJ_TCP_SYN, 65535, NULL, NULL);
	struct fj_tcp_hdr a = expect_tcp(FJ_TCP_ACK, NULL, NULL);
	assert_int_equal(a.ack, peer_iss + 1);
	assert_int_equal(fj_stack_counter(S, "tcp_challenge_acks"), 1);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 1);
}

static void
test_tcp_peer_closes_first_close_wait_last_ack(void **state)
{
	(void)state;
	uint32_t iss1 = open_flow(7, 65535, true);
	/* FIN from the peer: ACKed; the echo app closes on EOF, so our FIN
	 * follows (CLOSE_WAIT -> LAST_ACK). */
	peer_tcp(7, peer_iss + 1, iss1, FJ_TCP_FIN | FJ_TCP_ACK, 65535, NULL, NULL);
	struct fj_tcp_hdr a = expect_tcp(FJ_TCP_ACK, NULL, NULL);
	assert_int_equal(a.ack, peer_iss + 2);
	struct fj_tcp_hdr fin = expect_tcp(FJ_TCP_FIN | FJ_TCP_ACK, NULL, NULL);
	assert_int_equal(fin.seq, iss1);
	expect_nothing();
	peer_tcp(7, peer_iss + 2, iss1 + 1, FJ_TCP_ACK, 65535, NULL, NULL);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 0);
}

static void
test_tcp_we_close_first_fin_wait_then_time_wait(void **state)
{
	(void)state;
	uint32_t iss1 = open_flow(8, 65535, true); /* the app closes on accept */
	struct fj_tcp_hdr fin = expect_tcp(FJ_TCP_FIN | FJ_TCP_ACK, NULL, NULL);
	assert_int_equal(fin.seq, iss1);
	peer_tcp(8, peer_iss + 1, iss1 + 1, FJ_TCP_ACK, 65535, NULL, NULL); /* FIN_WAIT_2 */
	expect_nothing();
	peer_tcp(8, peer_iss + 1, iss1 + 1, FJ_TCP_FIN | FJ_TCP_ACK, 65535, NULL, NULL);
	struct fj_tcp_hdr a = expect_tcp(FJ_TCP_ACK, NULL, NULL);
	assert_int_equal(a.ack, peer_iss + 2);
	/* TIME_WAIT: a retransmitted FIN is ACKed again... */
	peer_tcp(8, peer_iss + 1, iss1 + 1, FJ_TCP_FIN | FJ_TCP_ACK, 65535, NULL, NULL);
	expect_tcp(FJ_TCP_ACK, NULL, NULL);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 1);
	/* ...and after 2 MSL (60 s) the flow is gone. */
	advance(59 * SEC);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 1);
	advance(2 * SEC);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 0);
	expect_nothing();
}

static void
test_tcp_lost_data_is_retransmitted_with_backoff(void **state)
{
	(void)state;
	uint32_t iss1 = open_flow(7, 65535, true);
	peer_tcp(7, peer_iss + 1, iss1, FJ_TCP_ACK, 65535, NULL, "data");
	uint32_t plen;
	struct fj_tcp_hdr d = expect_tcp(FJ_TCP_ACK | FJ_TCP_PSH, &plen, NULL);
	assert_int_equal(d.seq, iss1);
	/* No ACK comes: after RTO (1 s before any sample, RFC 6298 §2.1) the
	 * segment goes again, then after 2 s, then 4 s. */
	advance(SEC - 1000);
	expect_nothing();
	advance(2000);
	d = expect_tcp(FJ_TCP_ACK | FJ_TCP_PSH, &plen, NULL);
	assert_int_equal(d.seq, iss1);
	assert_int_equal(plen, 4);
	advance(2 * SEC - 1000);
	expect_nothing();
	advance(2000);
	expect_tcp(FJ_TCP_ACK | FJ_TCP_PSH, NULL, NULL);
	advance(4 * SEC + 1000);
	expect_tcp(FJ_TCP_ACK | FJ_TCP_PSH, NULL, NULL);
	assert_int_equal(fj_stack_counter(S, "tcp_retransmits"), 3);
	/* The ACK ends it. */
	peer_tcp(7, peer_iss + 5, iss1 + 4, FJ_TCP_ACK, 65535, NULL, NULL);
	advance(30 * SEC);
	expect_nothing();
}

static void
test_tcp_three_duplicate_acks_trigger_fast_retransmit(void **state)
{
	(void)state;
	uint32_t iss1 = open_flow(7, 65535, true);
	/* Four segments echoed back: 4 x 5 bytes in flight. */
	const char *msgs[] = { "aaaaa", "bbbbb", "ccccc", "ddddd" };
	uint32_t seq = peer_iss + 1;
	for (int i = 0; i < 4; i++) {
		peer_tcp(7, seq, iss1, FJ_TCP_ACK | FJ_TCP_PSH, 65535, NULL, msgs[i]);
		seq += 5;
		expect_tcp(FJ_TCP_ACK | FJ_TCP_PSH, NULL, NULL);
	}
	/* The peer got the first, lost the second: its ACK, then three
	 * duplicates of it (RFC 5681 §3.2). */
	for (int i = 0; i < 4; i++) {
		peer_tcp(7, seq, iss1 + 5, FJ_TCP_ACK, 65535, NULL, NULL);
		if (i < 3)
			expect_nothing();
	}
	uint32_t plen;
	const uint8_t *pl;
	/* The hole goes again at once (repacketized with what follows it). */
	struct fj_tcp_hdr r = expect_tcp(FJ_TCP_ACK, &plen, &pl);
	assert_int_equal(r.seq, iss1 + 5);
	assert_int_equal(plen, 15);
	assert_memory_equal(pl, "bbbbbcccccddddd", 15);
	assert_int_equal(fj_stack_counter(S, "tcp_fast_retransmits"), 1);
	/* A partial ACK (RFC 6582): the next hole goes at once too. */
	peer_tcp(7, seq, iss1 + 10, FJ_TCP_ACK, 65535, NULL, NULL);
	r = expect_tcp(FJ_TCP_ACK, &plen, &pl);
	assert_int_equal(r.seq, iss1 + 10);
	assert_memory_equal(pl, "cccccddddd", 10);
	/* The full ACK ends recovery; nothing is outstanding. */
	peer_tcp(7, seq, iss1 + 20, FJ_TCP_ACK, 65535, NULL, NULL);
	expect_nothing();
	advance(10 * SEC);
	expect_nothing();
}

static void
test_tcp_peer_window_scale_is_applied(void **state)
{
	(void)state;
	/* The peer's shift is 2: a window field of 2 means 8 bytes. */
	uint32_t iss1 = open_flow(7, 2, true);
	peer_tcp(7, peer_iss + 1, iss1, FJ_TCP_ACK, 2, NULL, "0123456789abcdef");
	uint32_t plen;
	expect_tcp(FJ_TCP_ACK, &plen, NULL);
	assert_int_equal(plen, 8);
	expect_nothing();
}

static void
test_tcp_zero_window_is_probed(void **state)
{
	(void)state;
	uint32_t iss1 = open_flow(7, 0, false);
	peer_tcp(7, peer_iss + 1, iss1, FJ_TCP_ACK, 0, NULL, "stuck");
	/* Nothing may go, only an ACK for the data (delayed). */
	advance(50000);
	struct fj_tcp_hdr a = expect_tcp(FJ_TCP_ACK, NULL, NULL);
	assert_int_equal(a.ack, peer_iss + 6);
	expect_nothing();
	/* The persist timer sends one byte past the closed window. */
	advance(SEC);
	uint32_t plen;
	struct fj_tcp_hdr p = expect_tcp(FJ_TCP_ACK, &plen, NULL);
	assert_int_equal(plen, 1);
	assert_int_equal(p.seq, iss1);
	assert_int_equal(fj_stack_counter(S, "tcp_window_probes"), 1);
	/* The window opens: the data flows. */
	peer_tcp(7, peer_iss + 6, iss1, FJ_TCP_ACK, 1000, NULL, NULL);
	expect_tcp(FJ_TCP_ACK | FJ_TCP_PSH, &plen, NULL);
	assert_int_equal(plen, 5);
}

static void
test_tcp_receive_window_closes_when_the_app_does_not_read(void **state)
{
	(void)state;
	uint32_t iss1 = open_flow(10, 65535, true);
	char chunk[1001];
	memset(chunk, 'z', 1000);
	chunk[1000] = 0;
	uint32_t seq = peer_iss + 1;
	uint16_t last_wnd = 0xffff;
	/* 256 KiB of buffer: keep sending until the advertised window is 0. */
	for (int i = 0; i < 400 && last_wnd != 0; i++) {
		peer_tcp(10, seq, iss1, FJ_TCP_ACK, 65535, NULL, chunk);
		seq += 1000;
		if (i % 2 == 1) {
			struct fj_tcp_hdr a = expect_tcp(FJ_TCP_ACK, NULL, NULL);
			last_wnd = a.wnd;
		}
	}
	assert_int_equal(last_wnd, 0);
	assert_true(events_seen > 0);
}

/* A SYN flood from @n ports of PEER; what the stack answers is discarded. */
static void
syn_flood(int n)
{
	uint8_t f[128];
	discard_tx = true;
	for (int i = 0; i < n; i++) {
		uint32_t len = mk_tcp(f, 7, peer_iss, 0, FJ_TCP_SYN, 65535, NULL, NULL);
		f[34] = (uint8_t)((1000 + i) >> 8);
		f[35] = (uint8_t)(1000 + i);
		f[34 + 16] = f[34 + 17] = 0;
		uint16_t c = fj_csum_fold(fj_csum_add(
			fj_csum_pseudo(PEER_IP, US_IP, FJ_IP_PROTO_TCP, 20), f + 34, 20));
		f[34 + 16] = (uint8_t)(c >> 8);
		f[34 + 17] = (uint8_t)c;
		fj_stack_input(S, f, len);
	}
	discard_tx = false;
}

static void
test_tcp_half_open_connections_are_bounded(void **state)
{
	(void)state;
	/* At most the backlog is kept; SYNs past it get cookies, no state. */
	syn_flood(1100);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 1024);
	assert_int_equal(fj_stack_counter(S, "tcp_syncookies_sent"), 1100 - 1024);
	/* Unanswered SYN-ACKs are retried, then the half-open flows go. */
	discard_tx = true;
	for (int i = 0; i < 70; i++)
		advance(SEC);
	discard_tx = false;
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 0);
	/* A client gets in the usual way afterwards. */
	open_flow(7, 65535, true);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 1);
	assert_int_equal(fj_stack_counter(S, "tcp_syncookies_ok"), 0);
}

/* RFC 4987 §3.6: during a flood a client still gets in, with its options
 * carried in the cookie and our TSval. */
static void
test_tcp_syn_cookie_lets_a_client_in_during_a_flood(void **state)
{
	(void)state;
	syn_flood(1024);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 1024);
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000, .has_ws = true, .ws = 2,
				 .sack_perm = true, .has_ts = true, .tsval = 777 };
	peer_tcp(7, peer_iss, 0, FJ_TCP_SYN, 65535, &o, NULL);
	struct fj_tcp_hdr sa = expect_tcp(FJ_TCP_SYN | FJ_TCP_ACK, NULL, NULL);
	assert_int_equal(sa.ack, peer_iss + 1);
	assert_true(sa.o.has_mss && sa.o.has_ws && sa.o.sack_perm && sa.o.has_ts);
	assert_int_equal(sa.o.tsecr, 777);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 1024); /* nothing kept */
	assert_int_equal(fj_stack_counter(S, "tcp_syncookies_sent"), 1);
	/* The ACK brings the cookie back: the flow exists and echoes, with
	 * the client's window shift and MSS (1000 rounds down to 536). */
	struct fj_tcp_opts a = { .has_ts = true, .tsval = 778, .tsecr = sa.o.tsval };
	peer_tcp(7, peer_iss + 1, sa.seq + 1, FJ_TCP_ACK, 100, &a, NULL);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_syncookies_ok"), 1);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 1025);
	char big[1001];
	memset(big, 'x', 1000);
	big[1000] = 0;
	a.tsval = 779;
	peer_tcp(7, peer_iss + 1, sa.seq + 1, FJ_TCP_ACK | FJ_TCP_PSH, 100, &a, big);
	uint32_t plen;
	struct fj_tcp_hdr d = expect_tcp(FJ_TCP_ACK, &plen, NULL);
	assert_int_equal(plen, 400); /* the window, 100 << 2 */
	assert_int_equal(d.seq, sa.seq + 1);
	assert_int_equal(d.ack, peer_iss + 1 + 1000);
	/* Our timestamps never go back from the SYN-ACK's (the client's PAWS). */
	assert_true((int32_t)(d.o.tsval - sa.o.tsval) > 0);
	assert_int_equal(d.o.tsecr, 779);
	expect_nothing();
	/* A wider window: segments of the cookie's MSS, less the timestamps. */
	a.tsval = 780;
	peer_tcp(7, peer_iss + 1001, sa.seq + 401, FJ_TCP_ACK, 1000, &a, NULL);
	d = expect_tcp(FJ_TCP_ACK, &plen, NULL);
	assert_int_equal(plen, 536 - 12);
	d = expect_tcp(FJ_TCP_ACK | FJ_TCP_PSH, &plen, NULL);
	assert_int_equal(plen, 1000 - 400 - 524);
	expect_nothing();
}

static void
test_tcp_syn_cookie_forged_or_stale_gets_rst(void **state)
{
	(void)state;
	syn_flood(1024);
	peer_tcp(7, peer_iss, 0, FJ_TCP_SYN, 65535, NULL, NULL);
	struct fj_tcp_hdr sa = expect_tcp(FJ_TCP_SYN | FJ_TCP_ACK, NULL, NULL);
	/* Without the client's timestamps: no window scaling, no SACK. */
	assert_true(sa.o.has_mss);
	assert_false(sa.o.has_ws || sa.o.sack_perm || sa.o.has_ts);
	/* A guessed cookie is refused with a RST, and counted. */
	peer_tcp(7, peer_iss + 1, sa.seq + 2, FJ_TCP_ACK, 100, NULL, NULL);
	struct fj_tcp_hdr r = expect_tcp(FJ_TCP_RST, NULL, NULL);
	assert_int_equal(r.seq, sa.seq + 2);
	assert_int_equal(fj_stack_counter(S, "tcp_syncookies_failed"), 1);
	/* The right cookie for another client ISN too. */
	peer_tcp(7, peer_iss + 2, sa.seq + 1, FJ_TCP_ACK, 100, NULL, NULL);
	expect_tcp(FJ_TCP_RST, NULL, NULL);
	/* Two periods later the real one has expired as well. */
	discard_tx = true;
	advance(140 * SEC);
	peer_arp_reply(&PEER, PEER_IP); /* known again after so long */
	discard_tx = false;
	seen = nout;
	/* (The flood's flows are still there: a new SYN gets a cookie.) */
	peer_tcp(7, peer_iss + 100, 0, FJ_TCP_SYN, 65535, NULL, NULL);
	expect_tcp(FJ_TCP_SYN | FJ_TCP_ACK, NULL, NULL);
	peer_tcp(7, peer_iss + 1, sa.seq + 1, FJ_TCP_ACK, 100, NULL, NULL);
	expect_tcp(FJ_TCP_RST, NULL, NULL);
	assert_int_equal(fj_stack_counter(S, "tcp_syncookies_failed"), 3);
	/* In time, the real one works. */
	peer_tcp(7, peer_iss, 0, FJ_TCP_SYN, 65535, NULL, NULL);
	sa = expect_tcp(FJ_TCP_SYN | FJ_TCP_ACK, NULL, NULL);
	discard_tx = true; /* the half-open flows' SYN-ACKs again */
	advance(60 * SEC);
	discard_tx = false;
	peer_tcp(7, peer_iss + 1, sa.seq + 1, FJ_TCP_ACK, 100, NULL, "late");
	struct fj_tcp_hdr d = expect_tcp(FJ_TCP_ACK | FJ_TCP_PSH, NULL, NULL);
	assert_int_equal(d.ack, peer_iss + 5);
	assert_int_equal(fj_stack_counter(S, "tcp_syncookies_ok"), 1);
}

static void
test_tcp_half_close_keeps_receiving(void **state)
{
	(void)state;
	uint32_t iss1 = open_flow(11, 65535, true);
	struct fj_tcp_hdr fin = expect_tcp(FJ_TCP_FIN | FJ_TCP_ACK, NULL, NULL);
	assert_int_equal(fin.seq, iss1);
	peer_tcp(11, peer_iss + 1, iss1 + 1, FJ_TCP_ACK | FJ_TCP_PSH, 65535, NULL, "still here");
	assert_int_equal(half_closed_bytes, 10);
	/* FIN_WAIT_2 and the peer's FIN: TIME_WAIT. */
	peer_tcp(11, peer_iss + 11, iss1 + 1, FJ_TCP_ACK | FJ_TCP_FIN, 65535, NULL, NULL);
	struct fj_tcp_hdr a = expect_tcp(FJ_TCP_ACK, NULL, NULL);
	assert_int_equal(a.ack, peer_iss + 12);
}

static void
test_tcp_nagle_holds_small_segments_while_unacked(void **state)
{
	(void)state;
	uint32_t iss1 = open_flow(12, 65535, true);
	peer_tcp(12, peer_iss + 1, iss1, FJ_TCP_ACK | FJ_TCP_PSH, 65535, NULL, "a");
	uint32_t plen;
	expect_tcp(FJ_TCP_ACK | FJ_TCP_PSH, &plen, NULL);
	/* The echo of "b" waits: "a" is not acknowledged yet. Only the
	 * delayed ACK for "b" goes, 40 ms later. */
	peer_tcp(12, peer_iss + 2, iss1, FJ_TCP_ACK | FJ_TCP_PSH, 65535, NULL, "b");
	expect_nothing();
	advance(50000);
	struct fj_tcp_hdr a = expect_tcp(FJ_TCP_ACK, &plen, NULL);
	assert_int_equal(plen, 0); /* only an ACK for "b" */
	assert_int_equal(a.ack, peer_iss + 3);
	peer_tcp(12, peer_iss + 3, iss1 + 1, FJ_TCP_ACK, 65535, NULL, NULL);
	struct fj_tcp_hdr d = expect_tcp(FJ_TCP_ACK | FJ_TCP_PSH, &plen, NULL);
	assert_int_equal(plen, 1);
	assert_int_equal(d.seq, iss1 + 1);
}

static void
test_tcp_out_of_order_data_is_sacked(void **state)
{
	(void)state;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000, .sack_perm = true };
	peer_tcp(10, peer_iss, 0, FJ_TCP_SYN, 65535, &o, NULL);
	struct fj_tcp_hdr sa = expect_tcp(FJ_TCP_SYN | FJ_TCP_ACK, NULL, NULL);
	assert_true(sa.o.sack_perm); /* RFC 2018 §2: answered */
	uint32_t iss1 = sa.seq + 1;
	peer_tcp(10, peer_iss + 1, iss1, FJ_TCP_ACK, 65535, NULL, NULL);
	/* Bytes 10-14 arrive before 0-9: a duplicate ACK with one block. */
	peer_tcp(10, peer_iss + 11, iss1, FJ_TCP_ACK, 65535, NULL, "later");
	struct fj_tcp_hdr a = expect_tcp(FJ_TCP_ACK, NULL, NULL);
	assert_int_equal(a.ack, peer_iss + 1);
	assert_int_equal(a.o.nsack, 1);
	assert_int_equal(a.o.sack[0].left, peer_iss + 11);
	assert_int_equal(a.o.sack[0].right, peer_iss + 16);
	/* Then 30-34: two blocks, the newest first (RFC 2018 §4). */
	peer_tcp(10, peer_iss + 31, iss1, FJ_TCP_ACK, 65535, NULL, "again");
	a = expect_tcp(FJ_TCP_ACK, NULL, NULL);
	assert_int_equal(a.o.nsack, 2);
	assert_int_equal(a.o.sack[0].left, peer_iss + 31);
	assert_int_equal(a.o.sack[1].left, peer_iss + 11);
	/* 15-29 joins them into one block. */
	peer_tcp(10, peer_iss + 16, iss1, FJ_TCP_ACK, 65535, NULL, "fifteen bytes!!");
	a = expect_tcp(FJ_TCP_ACK, NULL, NULL);
	assert_int_equal(a.o.nsack, 1);
	assert_int_equal(a.o.sack[0].left, peer_iss + 11);
	assert_int_equal(a.o.sack[0].right, peer_iss + 36);
	/* The hole filled: everything acknowledged, no blocks left. */
	peer_tcp(10, peer_iss + 1, iss1, FJ_TCP_ACK, 65535, NULL, "0123456789");
	a = expect_tcp(FJ_TCP_ACK, NULL, NULL);
	assert_int_equal(a.ack, peer_iss + 36);
	assert_int_equal(a.o.nsack, 0);
}

/* The same with timestamps: their 12 bytes count in the room for blocks
 * (a reordering link once made full segments 12 bytes too long). */
static void
test_tcp_sack_blocks_and_timestamps_fit_the_mtu(void **state)
{
	(void)state;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1460, .sack_perm = true, .has_ts = true,
				 .tsval = 50 };
	peer_tcp(7, peer_iss, 0, FJ_TCP_SYN, 65535, &o, NULL);
	struct fj_tcp_hdr sa = expect_tcp(FJ_TCP_SYN | FJ_TCP_ACK, NULL, NULL);
	uint32_t iss1 = sa.seq + 1;
	struct fj_tcp_opts t = { .has_ts = true, .tsval = 51, .tsecr = sa.o.tsval };
	peer_tcp(7, peer_iss + 1, iss1, FJ_TCP_ACK, 65535, &t, NULL);
	t.tsval = 52;
	peer_tcp(7, peer_iss + 1 + 5000, iss1, FJ_TCP_ACK, 65535, &t, "held");
	struct fj_tcp_hdr a = expect_tcp(FJ_TCP_ACK, NULL, NULL);
	assert_int_equal(a.o.nsack, 1);
	assert_true(a.o.has_ts);
	char big[1449];
	memset(big, 'q', 1448);
	big[1448] = 0;
	t.tsval = 53;
	peer_tcp(7, peer_iss + 1, iss1, FJ_TCP_ACK, 65535, &t, big);
	uint32_t plen;
	a = expect_tcp(FJ_TCP_ACK, &plen, NULL);
	assert_int_equal(plen, 0);
	struct fj_tcp_hdr d = expect_tcp(FJ_TCP_ACK | FJ_TCP_PSH, &plen, NULL);
	assert_int_equal(plen, 1448);
	assert_true(d.o.has_ts);
	assert_int_equal(d.o.nsack, 0);
	assert_int_equal(fj_stack_counter(S, "drop_oversize"), 0);
}

static void
test_tcp_sack_blocks_never_push_a_segment_past_the_mtu(void **state)
{
	(void)state;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1460, .sack_perm = true };
	peer_tcp(7, peer_iss, 0, FJ_TCP_SYN, 65535, &o, NULL);
	struct fj_tcp_hdr sa = expect_tcp(FJ_TCP_SYN | FJ_TCP_ACK, NULL, NULL);
	uint32_t iss1 = sa.seq + 1;
	peer_tcp(7, peer_iss + 1, iss1, FJ_TCP_ACK, 65535, NULL, NULL);
	/* Something out of order is held... */
	peer_tcp(7, peer_iss + 1 + 5000, iss1, FJ_TCP_ACK, 65535, NULL, "held");
	expect_tcp(FJ_TCP_ACK, NULL, NULL);
	/* ...when a full-sized segment arrives in order and is echoed. */
	char big[1461];
	memset(big, 'q', 1460);
	big[1460] = 0;
	peer_tcp(7, peer_iss + 1, iss1, FJ_TCP_ACK, 65535, NULL, big);
	/* First the ACK for the filled gap (with its block), then the echo. */
	uint32_t len, plen;
	struct fj_tcp_hdr a = expect_tcp(FJ_TCP_ACK, &plen, NULL);
	assert_int_equal(plen, 0);
	assert_int_equal(a.o.nsack, 1);
	const uint8_t *f = next_frame(&len);
	assert_true(len <= 1514);
	struct fj_ipv4 ip = expect_ipv4(f, len, &PEER, FJ_IP_PROTO_TCP);
	struct fj_tcp_hdr d;
	assert_int_equal(fj_tcp_parse(f + 34, ip.total_len - 20u, US_IP, PEER_IP, false, &d), FJ_OK);
	assert_int_equal(ip.total_len - 20u - d.hdr_len, 1460);
	assert_int_equal(d.o.nsack, 0);
	assert_int_equal(fj_stack_counter(S, "drop_oversize"), 0);
}

/* Handshake with timestamps; returns our ISS + 1, *ts our first TSval. */
static uint32_t
open_flow_ts(uint32_t tsval, uint32_t *ts)
{
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1460, .has_ts = true, .tsval = tsval };
	peer_tcp(7, peer_iss, 0, FJ_TCP_SYN, 65535, &o, NULL);
	struct fj_tcp_hdr sa = expect_tcp(FJ_TCP_SYN | FJ_TCP_ACK, NULL, NULL);
	assert_true(sa.o.has_ts);
	assert_int_equal(sa.o.tsecr, tsval); /* RFC 7323 §3.2: echoed */
	*ts = sa.o.tsval;
	struct fj_tcp_opts a = { .has_ts = true, .tsval = tsval + 1, .tsecr = sa.o.tsval };
	peer_tcp(7, peer_iss + 1, sa.seq + 1, FJ_TCP_ACK, 65535, &a, NULL);
	expect_nothing();
	return sa.seq + 1;
}

static void
test_tcp_timestamps_are_echoed_and_paws_drops_old_segments(void **state)
{
	(void)state;
	uint32_t ts;
	uint32_t iss1 = open_flow_ts(1000, &ts);
	struct fj_tcp_opts o = { .has_ts = true, .tsval = 1005, .tsecr = ts };
	peer_tcp(7, peer_iss + 1, iss1, FJ_TCP_ACK | FJ_TCP_PSH, 65535, &o, "new");
	uint32_t plen;
	struct fj_tcp_hdr d = expect_tcp(FJ_TCP_ACK | FJ_TCP_PSH, &plen, NULL);
	assert_int_equal(plen, 3);
	assert_true(d.o.has_ts);
	assert_int_equal(d.o.tsecr, 1005);
	/* An older timestamp (RFC 7323 §5.3): an ACK, the data not taken. */
	o.tsval = 900;
	peer_tcp(7, peer_iss + 4, iss1 + 3, FJ_TCP_ACK | FJ_TCP_PSH, 65535, &o, "old");
	struct fj_tcp_hdr a = expect_tcp(FJ_TCP_ACK, &plen, NULL);
	assert_int_equal(plen, 0);
	assert_int_equal(a.ack, peer_iss + 4);
	assert_int_equal(fj_stack_counter(S, "tcp_paws_rejected"), 1);
	/* A segment without the option once negotiated: dropped (§3.2). */
	peer_tcp(7, peer_iss + 4, iss1 + 3, FJ_TCP_ACK | FJ_TCP_PSH, 65535, NULL, "bare");
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_paws_rejected"), 2);
}

static void
test_tcp_timestamps_time_the_round_trip(void **state)
{
	(void)state;
	uint32_t ts;
	uint32_t iss1 = open_flow_ts(1000, &ts);
	struct fj_tcp_opts o = { .has_ts = true, .tsval = 1005, .tsecr = ts };
	peer_tcp(7, peer_iss + 1, iss1, FJ_TCP_ACK | FJ_TCP_PSH, 65535, &o, "ping");
	struct fj_tcp_hdr d = expect_tcp(FJ_TCP_ACK | FJ_TCP_PSH, NULL, NULL);
	/* The echo is acknowledged 100 ms later, its TSval echoed: SRTT 100 ms,
	 * RTO = 100 + 4 * 50 = 300 ms (RFC 6298 §2.2). */
	advance(100000);
	o.tsval = 1105;
	o.tsecr = d.o.tsval;
	peer_tcp(7, peer_iss + 5, iss1 + 4, FJ_TCP_ACK | FJ_TCP_PSH, 65535, &o, "pong");
	d = expect_tcp(FJ_TCP_ACK | FJ_TCP_PSH, NULL, NULL);
	/* This one is lost: it goes again after 300 ms, not 1 s. */
	advance(280000);
	expect_nothing();
	advance(30000);
	struct fj_tcp_hdr r = expect_tcp(FJ_TCP_ACK | FJ_TCP_PSH, NULL, NULL);
	assert_int_equal(r.seq, d.seq);
}

static void
test_tcp_sack_scoreboard_retransmits_only_the_holes(void **state)
{
	(void)state;
	struct fj_tcp_opts so = { .has_mss = true, .mss = 1460, .sack_perm = true };
	peer_tcp(7, peer_iss, 0, FJ_TCP_SYN, 65535, &so, NULL);
	struct fj_tcp_hdr sa = expect_tcp(FJ_TCP_SYN | FJ_TCP_ACK, NULL, NULL);
	uint32_t iss1 = sa.seq + 1;
	peer_tcp(7, peer_iss + 1, iss1, FJ_TCP_ACK, 65535, NULL, NULL);
	const char *msgs[] = { "aaaaa", "bbbbb", "ccccc", "ddddd", "eeeee" };
	uint32_t seq = peer_iss + 1;
	for (int i = 0; i < 5; i++) {
		peer_tcp(7, seq, iss1, FJ_TCP_ACK | FJ_TCP_PSH, 65535, NULL, msgs[i]);
		seq += 5;
		expect_tcp(FJ_TCP_ACK | FJ_TCP_PSH, NULL, NULL);
	}
	/* The peer has a, c and e: b and d are holes. */
	peer_tcp(7, seq, iss1 + 5, FJ_TCP_ACK, 65535, NULL, NULL);
	struct fj_tcp_opts o = { .nsack = 1, .sack = { { iss1 + 10, iss1 + 15 } } };
	peer_tcp(7, seq, iss1 + 5, FJ_TCP_ACK, 65535, &o, NULL);
	o.nsack = 2;
	o.sack[0] = (struct fj_sack_block){ iss1 + 20, iss1 + 25 };
	o.sack[1] = (struct fj_sack_block){ iss1 + 10, iss1 + 15 };
	peer_tcp(7, seq, iss1 + 5, FJ_TCP_ACK, 65535, &o, NULL);
	expect_nothing();
	peer_tcp(7, seq, iss1 + 5, FJ_TCP_ACK, 65535, &o, NULL); /* third duplicate */
	uint32_t plen;
	const uint8_t *pl;
	struct fj_tcp_hdr r = expect_tcp(FJ_TCP_ACK, &plen, &pl);
	assert_int_equal(r.seq, iss1 + 5);
	assert_int_equal(plen, 5); /* only the hole, not what the peer has */
	assert_memory_equal(pl, "bbbbb", 5);
	/* The partial ACK up to c: the next hole, d, alone. */
	o.nsack = 1;
	peer_tcp(7, seq, iss1 + 15, FJ_TCP_ACK, 65535, &o, NULL);
	r = expect_tcp(FJ_TCP_ACK, &plen, &pl);
	assert_int_equal(r.seq, iss1 + 15);
	assert_int_equal(plen, 5);
	assert_memory_equal(pl, "ddddd", 5);
	peer_tcp(7, seq, iss1 + 25, FJ_TCP_ACK, 65535, NULL, NULL);
	expect_nothing();
	/* A block outside what was sent is ignored (RFC 6675 §5). */
	o.sack[0] = (struct fj_sack_block){ iss1 + 100, iss1 + 200 };
	peer_tcp(7, seq, iss1 + 25, FJ_TCP_ACK, 65535, &o, NULL);
	expect_nothing();
}

static void
test_tcp_simultaneous_close_goes_through_closing(void **state)
{
	(void)state;
	uint32_t iss1 = open_flow(8, 65535, true); /* we send FIN at once */
	expect_tcp(FJ_TCP_FIN | FJ_TCP_ACK, NULL, NULL);
	/* The peer's FIN crosses ours (it has not seen ours): CLOSING. */
	peer_tcp(8, peer_iss + 1, iss1, FJ_TCP_FIN | FJ_TCP_ACK, 65535, NULL, NULL);
	struct fj_tcp_hdr a = expect_tcp(FJ_TCP_ACK, NULL, NULL);
	assert_int_equal(a.ack, peer_iss + 2);
	/* Its ACK of our FIN: TIME_WAIT, the flow stays for 2 MSL. */
	peer_tcp(8, peer_iss + 2, iss1 + 1, FJ_TCP_ACK, 65535, NULL, NULL);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 1);
	advance(61 * SEC);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 0);
}

static void
test_tcp_unacknowledged_fin_is_retransmitted(void **state)
{
	(void)state;
	uint32_t iss1 = open_flow(8, 65535, true);
	struct fj_tcp_hdr fin = expect_tcp(FJ_TCP_FIN | FJ_TCP_ACK, NULL, NULL);
	advance(SEC + 1000);
	struct fj_tcp_hdr again = expect_tcp(FJ_TCP_FIN | FJ_TCP_ACK, NULL, NULL);
	assert_int_equal(again.seq, fin.seq);
	peer_tcp(8, peer_iss + 1, iss1 + 1, FJ_TCP_ACK, 65535, NULL, NULL);
	advance(10 * SEC);
	expect_nothing(); /* FIN_WAIT_2: nothing more to send */
}

static void
test_tcp_last_ack_fin_is_retransmitted_then_acked(void **state)
{
	(void)state;
	uint32_t iss1 = open_flow(7, 65535, true);
	peer_tcp(7, peer_iss + 1, iss1, FJ_TCP_FIN | FJ_TCP_ACK, 65535, NULL, NULL);
	expect_tcp(FJ_TCP_ACK, NULL, NULL);
	expect_tcp(FJ_TCP_FIN | FJ_TCP_ACK, NULL, NULL); /* LAST_ACK */
	advance(SEC + 1000);
	expect_tcp(FJ_TCP_FIN | FJ_TCP_ACK, NULL, NULL);
	peer_tcp(7, peer_iss + 2, iss1 + 1, FJ_TCP_ACK, 65535, NULL, NULL);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 0);
}

static void
test_tcp_data_and_fin_in_one_segment(void **state)
{
	(void)state;
	uint32_t iss1 = open_flow(7, 65535, true);
	peer_tcp(7, peer_iss + 1, iss1, FJ_TCP_FIN | FJ_TCP_ACK | FJ_TCP_PSH, 65535, NULL, "bye");
	/* The data is echoed, the FIN acknowledged, then our own FIN. */
	uint32_t plen;
	struct fj_tcp_hdr a = expect_tcp(FJ_TCP_ACK, NULL, NULL);
	assert_int_equal(a.ack, peer_iss + 5);
	struct fj_tcp_hdr d = expect_tcp(FJ_TCP_ACK | FJ_TCP_PSH, &plen, NULL);
	assert_int_equal(plen, 3);
	struct fj_tcp_hdr fin = expect_tcp(FJ_TCP_FIN | FJ_TCP_ACK, NULL, NULL);
	assert_int_equal(fin.seq, d.seq + 3);
}

static void
test_tcp_old_duplicate_data_is_trimmed(void **state)
{
	(void)state;
	uint32_t iss1 = open_flow(7, 65535, true);
	peer_tcp(7, peer_iss + 1, iss1, FJ_TCP_ACK | FJ_TCP_PSH, 65535, NULL, "abcdef");
	uint32_t plen;
	const uint8_t *pl;
	expect_tcp(FJ_TCP_ACK | FJ_TCP_PSH, &plen, &pl);
	/* A retransmission overlapping what we have: only "ghi" is new. */
	peer_tcp(7, peer_iss + 4, iss1 + 6, FJ_TCP_ACK | FJ_TCP_PSH, 65535, NULL, "defghi");
	expect_tcp(FJ_TCP_ACK | FJ_TCP_PSH, &plen, &pl);
	assert_int_equal(plen, 3);
	assert_memory_equal(pl, "ghi", 3);
	/* A whole old duplicate: only an ACK (RFC 9293 §3.10.7.4). */
	peer_tcp(7, peer_iss + 1, iss1 + 9, FJ_TCP_ACK | FJ_TCP_PSH, 65535, NULL, "abc");
	struct fj_tcp_hdr a = expect_tcp(FJ_TCP_ACK, &plen, NULL);
	assert_int_equal(plen, 0);
	assert_int_equal(a.ack, peer_iss + 10);
}

static void
test_tcp_ack_of_unsent_data_is_answered_and_ignored(void **state)
{
	(void)state;
	uint32_t iss1 = open_flow(7, 65535, true);
	peer_tcp(7, peer_iss + 1, iss1 + 1000, FJ_TCP_ACK | FJ_TCP_PSH, 65535, NULL, "x");
	struct fj_tcp_hdr a = expect_tcp(FJ_TCP_ACK, NULL, NULL);
	assert_int_equal(a.seq, iss1);
	assert_int_equal(a.ack, peer_iss + 1); /* the data was not taken */
	expect_nothing();
}

static void
test_tcp_rst_in_syn_rcvd_with_exact_sequence_frees_the_flow(void **state)
{
	(void)state;
	peer_tcp(7, peer_iss, 0, FJ_TCP_SYN, 65535, NULL, NULL);
	expect_tcp(FJ_TCP_SYN | FJ_TCP_ACK, NULL, NULL);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 1);
	peer_tcp(7, peer_iss + 1, 0, FJ_TCP_RST, 65535, NULL, NULL);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 0);
}

static void
test_tcp_bad_ack_in_syn_rcvd_gets_rst(void **state)
{
	(void)state;
	peer_tcp(7, peer_iss, 0, FJ_TCP_SYN, 65535, NULL, NULL);
	struct fj_tcp_hdr sa = expect_tcp(FJ_TCP_SYN | FJ_TCP_ACK, NULL, NULL);
	/* RFC 9293 §3.10.7.4: an unacceptable ACK in SYN-RECEIVED: reset. */
	peer_tcp(7, peer_iss + 1, sa.seq + 77, FJ_TCP_ACK, 65535, NULL, NULL);
	struct fj_tcp_hdr r = expect_tcp(FJ_TCP_RST, NULL, NULL);
	assert_int_equal(r.seq, sa.seq + 77);
	/* The half-open flow remains for the right ACK. */
	peer_tcp(7, peer_iss + 1, sa.seq + 1, FJ_TCP_ACK, 65535, NULL, NULL);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_established"), 1);
}

static void
test_tcp_syn_ack_is_retransmitted_then_given_up(void **state)
{
	(void)state;
	peer_tcp(7, peer_iss, 0, FJ_TCP_SYN, 65535, NULL, NULL);
	struct fj_tcp_hdr sa = expect_tcp(FJ_TCP_SYN | FJ_TCP_ACK, NULL, NULL);
	uint64_t wait = SEC;
	for (int i = 0; i < 5; i++) {
		advance(wait + 1000);
		struct fj_tcp_hdr r = expect_tcp(FJ_TCP_SYN | FJ_TCP_ACK, NULL, NULL);
		assert_int_equal(r.seq, sa.seq);
		wait *= 2;
	}
	advance(wait + 1000);
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 0);
}

static void
test_tcp_window_update_after_the_app_reads(void **state)
{
	(void)state;
	/* Port 7 echoes and so reads at once: a full-sized burst keeps the
	 * window open; the advertised window never shrinks below the edge. */
	uint32_t iss1 = open_flow(7, 65535, true);
	char chunk[1001];
	memset(chunk, 'w', 1000);
	chunk[1000] = 0;
	uint32_t seq = peer_iss + 1;
	uint32_t edge = 0;
	for (int i = 0; i < 20; i++) {
		peer_tcp(7, seq, iss1, FJ_TCP_ACK, 65535, NULL, chunk);
		seq += 1000;
	}
	while (seen < nout) {
		uint32_t len;
		const uint8_t *f = next_frame(&len);
		struct fj_tcp_hdr h;
		assert_int_equal(fj_tcp_parse(f + 34, len - 34, US_IP, PEER_IP, false, &h), FJ_OK);
		uint32_t e = h.ack + ((uint32_t)h.wnd << 7);
		assert_true(edge == 0 || (int32_t)(e - edge) >= 0);
		edge = e;
	}
}
static void
test_tcp_connect_handshake_and_data(void **state)
{
	(void)state;
	client_events = 0;
	struct fj_addr to = { PEER_IP, 80 };
	assert_non_null(fj_connect_tcp(S, &to, client_cb, NULL));
	fj_stack_poll(S); /* the SYN leaves with the loop's turn */
	uint16_t sport;
	struct fj_tcp_hdr syn = expect_syn(&sport);
	assert_true(sport >= 49152);
	assert_true(syn.o.has_mss && syn.o.has_ws);
	/* The peer's SYN-ACK without window scaling: none either way. */
	struct fj_tcp_opts o = { .has_mss = true, .mss = 536 };
	peer_to(sport, 9000, syn.seq + 1, FJ_TCP_SYN | FJ_TCP_ACK, &o, NULL);
	uint32_t len;
	const uint8_t *f = next_frame(&len);
	struct fj_tcp_hdr a;
	assert_int_equal(fj_tcp_parse(f + 34, len - 34, US_IP, PEER_IP, false, &a), FJ_OK);
	assert_int_equal(a.flags, FJ_TCP_ACK);
	assert_int_equal(a.ack, 9001);
	assert_int_equal(client_events, 1);
	assert_int_equal(client_last, FJ_AGAIN);
	/* Data and the peer's FIN reach the client. */
	peer_to(sport, 9001, syn.seq + 1, FJ_TCP_ACK | FJ_TCP_FIN, NULL, "page");
	assert_true(client_events >= 2);
	assert_int_equal(client_last, FJ_DATA);
	enum fj_read r;
	struct fj_buf *b = NULL;
	r = fj_flow_read(client, &b);
	assert_int_equal(r, FJ_EOF);
	fj_flow_close(client);
}

static void
test_tcp_connect_refused_by_rst(void **state)
{
	(void)state;
	client_events = 0;
	struct fj_addr to = { PEER_IP, 80 };
	struct fj_flow *c = fj_connect_tcp(S, &to, client_cb, NULL);
	fj_stack_poll(S);
	uint16_t sport;
	struct fj_tcp_hdr syn = expect_syn(&sport);
	peer_to(sport, 0, syn.seq + 1, FJ_TCP_RST | FJ_TCP_ACK, NULL, NULL);
	assert_int_equal(client_events, 1);
	assert_int_equal(client_last, FJ_ERROR);
	assert_int_equal(fj_flow_error(c), -ECONNREFUSED);
	fj_flow_close(c);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 0);
}

static void
test_tcp_connect_times_out_after_syn_retries(void **state)
{
	(void)state;
	client_events = 0;
	struct fj_addr to = { PEER_IP, 80 };
	struct fj_flow *c = fj_connect_tcp(S, &to, client_cb, NULL);
	fj_stack_poll(S);
	uint16_t sport;
	expect_syn(&sport);
	/* SYNs again after 1, 2, 4, 8, 16, 32 s; then the attempt fails. */
	uint64_t wait = SEC;
	for (int i = 0; i < 6; i++) {
		advance(wait + 1000);
		expect_syn(&sport);
		wait *= 2;
	}
	advance(wait + 1000);
	assert_int_equal(client_last, FJ_ERROR);
	assert_int_equal(fj_flow_error(c), -ETIMEDOUT);
	fj_flow_close(c);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 0);
}

/* RFC 9293 §3.5 figure 8: our SYN and the peer's cross. */
static void
test_tcp_simultaneous_open(void **state)
{
	(void)state;
	client_events = 0;
	struct fj_addr to = { PEER_IP, 80 };
	struct fj_flow *c = fj_connect_tcp(S, &to, client_cb, NULL);
	assert_non_null(c);
	fj_stack_poll(S);
	uint16_t sport;
	struct fj_tcp_hdr syn = expect_syn(&sport);
	/* The peer's own SYN: SYN_RCVD, our SYN again with an ACK. */
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000, .sack_perm = true };
	peer_to(sport, 7000, 0, FJ_TCP_SYN, &o, NULL);
	uint32_t len;
	const uint8_t *f = next_frame(&len);
	struct fj_tcp_hdr sa;
	assert_int_equal(fj_tcp_parse(f + 34, len - 34, US_IP, PEER_IP, false, &sa), FJ_OK);
	assert_int_equal(sa.flags, FJ_TCP_SYN | FJ_TCP_ACK);
	assert_int_equal(sa.seq, syn.seq);
	assert_int_equal(sa.ack, 7001);
	assert_true(sa.o.has_mss && sa.o.sack_perm);
	assert_false(sa.o.has_ws); /* the peer's SYN had no window scale */
	assert_int_equal(client_events, 0);
	/* The peer's SYN-ACK (its SYN again, acknowledging ours): established. */
	peer_to(sport, 7000, syn.seq + 1, FJ_TCP_SYN | FJ_TCP_ACK, &o, NULL);
	assert_int_equal(client_events, 1);
	assert_int_equal(client_last, FJ_AGAIN);
	expect_nothing();
	/* Data both ways. */
	struct fj_buf *b = fj_buf_alloc(S, 3);
	memcpy(fj_buf_data(b), "abc", 3);
	assert_int_equal(fj_flow_write(c, b), 0);
	fj_stack_poll(S);
	f = next_frame(&len);
	struct fj_tcp_hdr d;
	assert_int_equal(fj_tcp_parse(f + 34, len - 34, US_IP, PEER_IP, false, &d), FJ_OK);
	assert_int_equal(d.seq, syn.seq + 1);
	assert_int_equal(d.ack, 7001);
	assert_int_equal(len - 34 - d.hdr_len, 3);
	fj_flow_abort(c);
	fj_stack_poll(S);
	(void)next_frame(&len); /* the RST */
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 0);
}

/* The other way a simultaneous open completes: a plain ACK. And a RST in
 * SYN_RCVD of an active open is a refusal the application hears. */
static void
test_tcp_simultaneous_open_ack_and_refusal(void **state)
{
	(void)state;
	client_events = 0;
	struct fj_addr to = { PEER_IP, 80 };
	assert_non_null(fj_connect_tcp(S, &to, client_cb, NULL));
	fj_stack_poll(S);
	uint16_t sport;
	struct fj_tcp_hdr syn = expect_syn(&sport);
	peer_to(sport, 7000, 0, FJ_TCP_SYN, NULL, NULL);
	uint32_t len;
	(void)next_frame(&len); /* our SYN-ACK */
	peer_to(sport, 7001, syn.seq + 1, FJ_TCP_ACK, NULL, NULL);
	assert_int_equal(client_events, 1);
	assert_int_equal(client_last, FJ_AGAIN);
	fj_flow_close(client);
	fj_stack_poll(S);
	(void)next_frame(&len); /* our FIN */
	/* A second one, refused while in SYN_RCVD. */
	client_events = 0;
	struct fj_flow *c = fj_connect_tcp(S, &to, client_cb, NULL);
	fj_stack_poll(S);
	syn = expect_syn(&sport);
	peer_to(sport, 8000, 0, FJ_TCP_SYN, NULL, NULL);
	(void)next_frame(&len);
	peer_to(sport, 8001, 0, FJ_TCP_RST, NULL, NULL);
	assert_int_equal(client_events, 1);
	assert_int_equal(client_last, FJ_ERROR);
	assert_int_equal(fj_flow_error(c), -ECONNREFUSED);
	fj_flow_close(c);
	/* (the first flow waits in FIN_WAIT_1) */
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 1);
}

static void
keepalive_app(struct fj_flow *f, void *arg)
{
	(void)arg;
	if (fj_flow_user(f) == NULL) {
		assert_int_equal(fj_flow_set_keepalive(f, 10, 0, 3), -EINVAL);
		assert_int_equal(fj_flow_set_keepalive(f, 10, 2, 0), -EINVAL);
		assert_int_equal(fj_flow_set_keepalive(f, 10, 2, 3), 0);
		fj_flow_set_user(f, f);
	}
	client_events++;
	client_last = fj_flow_read(f, &(struct fj_buf *){ NULL });
	if (client_last == FJ_ERROR) {
		client = f;
		assert_int_equal(fj_flow_error(f), -ETIMEDOUT);
	}
}

/* RFC 1122 §4.2.3.6: probes after the idle time, an answer resets them,
 * unanswered ones end the connection. */
static void
test_tcp_keepalive_probes_then_times_out(void **state)
{
	(void)state;
	assert_non_null(fj_listen_tcp(S, 13, keepalive_app, NULL));
	client_events = 0;
	client = NULL;
	uint32_t iss1 = open_flow(13, 65535, false);
	assert_int_equal(client_events, 1);
	advance(9 * SEC);
	expect_nothing();
	advance(SEC + 1000);
	struct fj_tcp_hdr p = expect_tcp(FJ_TCP_ACK, NULL, NULL);
	assert_int_equal(p.seq, iss1 - 1); /* an old sequence: the peer must answer */
	assert_int_equal(p.ack, peer_iss + 1);
	assert_int_equal(fj_stack_counter(S, "tcp_keepalive_probes"), 1);
	/* The answer: alive; the next probe is an idle time away. */
	peer_tcp(13, peer_iss + 1, iss1, FJ_TCP_ACK, 65535, NULL, NULL);
	advance(2 * SEC + 1000);
	expect_nothing();
	advance(8 * SEC);
	p = expect_tcp(FJ_TCP_ACK, NULL, NULL);
	assert_int_equal(p.seq, iss1 - 1);
	/* Unanswered: two more, interval apart, then a RST and -ETIMEDOUT. */
	advance(2 * SEC + 1000);
	expect_tcp(FJ_TCP_ACK, NULL, NULL);
	advance(2 * SEC + 1000);
	expect_tcp(FJ_TCP_ACK, NULL, NULL);
	assert_int_equal(fj_stack_counter(S, "tcp_keepalive_probes"), 4);
	advance(2 * SEC + 1000);
	expect_tcp(FJ_TCP_RST | FJ_TCP_ACK, NULL, NULL);
	assert_int_equal(client_last, FJ_ERROR);
	assert_non_null(client);
	assert_int_equal(fj_stack_counter(S, "tcp_keepalive_timeouts"), 1);
	fj_flow_close(client);
	assert_int_equal(fj_stack_counter(S, "tcp_flows"), 0);
}

/* On accept, one 5000-byte buffer: a chain of segments holding a ramp. */
static void
chain_app(struct fj_flow *f, void *arg)
{
	(void)arg;
	if (fj_flow_user(f) != NULL)
		return;
	fj_flow_set_user(f, f);
	struct fj_buf *b = fj_buf_alloc(S, 5000);
	assert_non_null(b);
	assert_int_equal(fj_buf_pkt_len(b), 5000);
	assert_true(fj_buf_len(b) < 5000);
	uint32_t k = 0, segs = 0;
	for (struct fj_buf *s = b; s != NULL; s = fj_buf_next(s), segs++)
		for (uint32_t i = 0; i < fj_buf_len(s); i++, k++)
			((uint8_t *)fj_buf_data(s))[i] = (uint8_t)(k * 7);
	assert_int_equal(k, 5000);
	assert_true(segs >= 3);
	assert_int_equal(fj_flow_write(f, b), 0);
}

/* A buffer larger than one mbuf (fj_buf_alloc chains them) goes out as
 * MSS-sized segments that cross the chain's seams in order; a size past
 * FJ_BUF_MAX is refused. */
static void
test_tcp_chained_buffer_is_sent_in_order(void **state)
{
	(void)state;
	assert_null(fj_buf_alloc(S, FJ_BUF_MAX + 1));
	assert_non_null(fj_listen_tcp(S, 15, chain_app, NULL));
	struct fj_tcp_opts so = { .has_mss = true, .mss = 1000 };
	peer_tcp(15, peer_iss, 0, FJ_TCP_SYN, 65535, &so, NULL);
	struct fj_tcp_hdr sa = expect_tcp(FJ_TCP_SYN | FJ_TCP_ACK, NULL, NULL);
	uint32_t iss1 = sa.seq + 1, plen;
	peer_tcp(15, peer_iss + 1, iss1, FJ_TCP_ACK, 65535, NULL, NULL);
	for (uint32_t seg = 0; seg < 5; seg++) {
		const uint8_t *p;
		struct fj_tcp_hdr d = expect_tcp(seg == 4 ? FJ_TCP_ACK | FJ_TCP_PSH : FJ_TCP_ACK,
						 &plen, &p);
		assert_int_equal(d.seq, iss1 + 1000 * seg);
		assert_int_equal(plen, 1000);
		for (uint32_t i = 0; i < plen; i++)
			assert_int_equal(p[i], (uint8_t)((1000 * seg + i) * 7));
	}
	expect_nothing();
	assert_int_equal(fj_stack_counter(S, "tcp_tx_bytes"), 5000);
}

/* On accept, 15 segments' worth of data (1000-byte buffers). */
static void
source_app(struct fj_flow *f, void *arg)
{
	(void)arg;
	if (fj_flow_user(f) != NULL)
		return;
	fj_flow_set_user(f, f);
	for (int i = 0; i < 15; i++) {
		struct fj_buf *b = fj_buf_alloc(S, 1000);
		memset(fj_buf_data(b), 'a' + i, 1000);
		assert_int_equal(fj_flow_write(f, b), 0);
	}
}

/* RFC 6675 §5: recovery by the pipe. One segment of ten is lost; the
 * scoreboard marks it lost, it goes once, and new data is sent only as
 * the pipe drains below cwnd = ssthresh = FlightSize / 2. */
static void
test_tcp_sack_recovery_is_paced_by_the_pipe(void **state)
{
	(void)state;
	assert_non_null(fj_listen_tcp(S, 14, source_app, NULL));
	struct fj_tcp_opts so = { .has_mss = true, .mss = 1000, .sack_perm = true };
	peer_tcp(14, peer_iss, 0, FJ_TCP_SYN, 65535, &so, NULL);
	struct fj_tcp_hdr sa = expect_tcp(FJ_TCP_SYN | FJ_TCP_ACK, NULL, NULL);
	uint32_t iss1 = sa.seq + 1, plen;
	peer_tcp(14, peer_iss + 1, iss1, FJ_TCP_ACK, 65535, NULL, NULL);
	/* The initial window: ten segments (RFC 6928). */
	for (int i = 0; i < 10; i++) {
		/* (each write was the end of the data when it went: PSH) */
		struct fj_tcp_hdr d = expect_tcp(FJ_TCP_ACK | FJ_TCP_PSH, &plen, NULL);
		assert_int_equal(d.seq, iss1 + 1000u * i);
		assert_int_equal(plen, 1000);
	}
	expect_nothing();
	/* The first is lost; the peer SACKs the others one by one. */
	struct fj_tcp_opts o = { .nsack = 1 };
	for (uint32_t k = 2; k <= 10; k++) {
		o.sack[0] = (struct fj_sack_block){ iss1 + 1000, iss1 + 1000 * k };
		peer_tcp(14, peer_iss + 1, iss1, FJ_TCP_ACK, 65535, &o, NULL);
		if (k < 4) {
			expect_nothing(); /* two duplicates, 2000 bytes SACKed: not yet */
		} else if (k == 4) {
			/* Third duplicate (and 3000 bytes above it): the hole goes
			 * again, and nothing else while pipe >= cwnd - SMSS. */
			struct fj_tcp_hdr r = expect_tcp(FJ_TCP_ACK, &plen, NULL);
			assert_int_equal(r.seq, iss1);
			assert_int_equal(plen, 1000);
			assert_int_equal(fj_stack_counter(S, "tcp_sack_recoveries"), 1);
			expect_nothing();
		} else if (k < 7) {
			/* pipe = 1000 (the retransmission) + 10000 - 1000 k */
			expect_nothing();
		} else {
			/* cwnd 5000 - pipe >= 1000: one new segment per ACK. */
			struct fj_tcp_hdr n = expect_tcp(FJ_TCP_ACK, &plen, NULL);
			assert_int_equal(n.seq, iss1 + 10000 + 1000 * (k - 7));
			assert_int_equal(plen, 1000);
			expect_nothing();
		}
	}
	assert_int_equal(fj_stack_counter(S, "tcp_retransmits"), 1);
	/* The retransmission arrives: everything up to the recovery point.
	 * Recovery ends; cwnd = ssthresh allows the rest. */
	peer_tcp(14, peer_iss + 1, iss1 + 10000, FJ_TCP_ACK, 65535, NULL, NULL);
	struct fj_tcp_hdr n = expect_tcp(FJ_TCP_ACK | FJ_TCP_PSH, &plen, NULL);
	assert_int_equal(n.seq, iss1 + 14000);
	expect_nothing(); /* 4000 in flight + 1000 = cwnd */
	assert_int_equal(fj_stack_counter(S, "tcp_retransmits"), 1);
}

static void
test_bad_test_port_config_is_refused(void **state)
{
	(void)state;
	struct fj_testport_cfg cfg = { .ip = "10.0.0.2/40", .hz = HZ, .clock = clock_fn,
				       .tx = tx_fn };
	assert_null(fj_stack_testport(&cfg));
	cfg.ip = "10.0.0.2/24";
	cfg.gw = "10.9.9.9"; /* not on the link */
	assert_null(fj_stack_testport(&cfg));
}

int
main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_gratuitous_arp_then_reply_to_requests),
		T(test_arp_reply_to_a_padded_request_is_a_minimum_frame),
		T(test_udp_echo_to_a_known_peer),
		T(test_reply_waits_for_arp_then_leaves),
		T(test_unanswered_arp_retries_each_second_then_drops),
		T(test_neighbour_is_refreshed_by_unicast_and_expires),
		T(test_ping_of_any_size_is_answered),
		T(test_closed_port_unreachable_is_rate_limited),
		T(test_off_link_goes_through_the_gateway),
		T(test_frames_for_others_are_dropped_and_counted),
		T(test_oversize_send_is_refused),
#define TT(t) cmocka_unit_test_setup_teardown(t, tcp_setup, teardown)
		TT(test_tcp_syn_ack_carries_mss_and_window_scale),
		TT(test_tcp_chained_buffer_is_sent_in_order),
		TT(test_tcp_syn_to_a_closed_port_gets_rst),
		TT(test_tcp_echo_data_and_ack),
		TT(test_tcp_out_of_window_segment_gets_an_ack),
		TT(test_tcp_rst_with_wrong_sequence_gets_challenge_ack),
		TT(test_tcp_syn_on_an_established_flow_gets_challenge_ack),
		TT(test_tcp_peer_closes_first_close_wait_last_ack),
		TT(test_tcp_we_close_first_fin_wait_then_time_wait),
		TT(test_tcp_lost_data_is_retransmitted_with_backoff),
		TT(test_tcp_three_duplicate_acks_trigger_fast_retransmit),
		TT(test_tcp_peer_window_scale_is_applied),
		TT(test_tcp_zero_window_is_probed),
		TT(test_tcp_receive_window_closes_when_the_app_does_not_read),
		TT(test_tcp_half_open_connections_are_bounded),
		TT(test_tcp_syn_cookie_lets_a_client_in_during_a_flood),
		TT(test_tcp_syn_cookie_forged_or_stale_gets_rst),
		TT(test_tcp_out_of_order_data_is_sacked),
		TT(test_tcp_sack_blocks_never_push_a_segment_past_the_mtu),
		TT(test_tcp_sack_blocks_and_timestamps_fit_the_mtu),
		TT(test_tcp_timestamps_are_echoed_and_paws_drops_old_segments),
		TT(test_tcp_timestamps_time_the_round_trip),
		TT(test_tcp_sack_scoreboard_retransmits_only_the_holes),
		TT(test_tcp_half_close_keeps_receiving),
		TT(test_tcp_simultaneous_close_goes_through_closing),
		TT(test_tcp_unacknowledged_fin_is_retransmitted),
		TT(test_tcp_last_ack_fin_is_retransmitted_then_acked),
		TT(test_tcp_data_and_fin_in_one_segment),
		TT(test_tcp_old_duplicate_data_is_trimmed),
		TT(test_tcp_ack_of_unsent_data_is_answered_and_ignored),
		TT(test_tcp_rst_in_syn_rcvd_with_exact_sequence_frees_the_flow),
		TT(test_tcp_bad_ack_in_syn_rcvd_gets_rst),
		TT(test_tcp_syn_ack_is_retransmitted_then_given_up),
		TT(test_tcp_window_update_after_the_app_reads),
		TT(test_tcp_nagle_holds_small_segments_while_unacked),
		TT(test_tcp_connect_handshake_and_data),
		TT(test_tcp_connect_refused_by_rst),
		TT(test_tcp_connect_times_out_after_syn_retries),
		TT(test_tcp_simultaneous_open),
		TT(test_tcp_simultaneous_open_ack_and_refusal),
		TT(test_tcp_keepalive_probes_then_times_out),
		TT(test_tcp_sack_recovery_is_paced_by_the_pipe),
		cmocka_unit_test(test_bad_test_port_config_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
