/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stack below TCP, frame by frame in virtual time through its test
 * port (fjord_testport.h): ARP (RFC 826, RFC 1122 §2.3.2), IPv4 and the
 * gateway, ICMP echo and port unreachable (RFC 792), UDP, the drops and
 * their counters, and the test port itself.
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

/* ------------------------------------------------------ ARP */

/* RFC 5227 §2.3 (announcement), RFC 826: the stack announces its address,
 * answers requests for it and no others. */
static void
test_gratuitous_arp_then_reply_to_requests(void **state)
{
	struct fixture *fx = *state;
	start_and_learn_peer(fx);
	/* A request for another address is not answered but still teaches
	 * nothing new (RFC 826: no entry is created for it). */
	uint8_t q[60];
	struct fj_mac other = { { 2, 0, 0, 0, 0, 9 } };
	fj_stack_input(fx->stack, q,
		       mk_arp(q, FJ_ARP_REQUEST, &BCAST, &other, IP(10, 0, 0, 9), &BCAST,
			      IP(10, 0, 0, 3)));
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "arp_replies_tx"), 1);
}

/* RFC 826, RFC 894: a request with any padding gets a reply of the
 * minimum frame, 60 bytes, padded with zeros. */
static void
test_arp_reply_to_a_padded_request_is_a_minimum_frame(void **state)
{
	struct fixture *fx = *state;
	uint32_t len;
	next_frame(fx, &len);
	uint8_t q[1000];
	memset(q, 0xee, sizeof(q));
	mk_arp(q, FJ_ARP_REQUEST, &BCAST, &PEER, PEER_IP, &BCAST, US_IP);
	memset(q + 42, 0xee, sizeof(q) - 42);
	fj_stack_input(fx->stack, q, sizeof(q));
	const uint8_t *f = next_frame(fx, &len);
	assert_int_equal(len, 60);
	expect_arp(f, len, &PEER, FJ_ARP_REPLY);
	for (uint32_t i = 42; i < 60; i++)
		assert_int_equal(f[i], 0);
}

/* RFC 1122 §2.3.2.2: a datagram to an unresolved neighbour waits while
 * ARP asks, and leaves with the reply. */
static void
test_reply_waits_for_arp_then_leaves(void **state)
{
	struct fixture *fx = *state;
	uint32_t len;
	next_frame(fx, &len); /* the announcement */
	struct fj_mac m3 = { { 2, 0, 0, 0, 0, 3 } };
	uint8_t f[128];
	fj_stack_input(fx->stack, f, mk_udp(f, IP(10, 0, 0, 3), 6000, 7, "queued", &m3));
	/* Unknown sender: the echo waits while its address is asked for. */
	struct fj_arp a = expect_next_arp(fx, &BCAST, FJ_ARP_REQUEST);
	assert_int_equal(a.tpa, IP(10, 0, 0, 3));
	expect_nothing(fx);
	peer_arp_reply(fx, &m3, IP(10, 0, 0, 3));
	struct fj_ipv4 ip = expect_next_ipv4(fx, &m3, FJ_IP_PROTO_UDP);
	assert_int_equal(ip.dst, IP(10, 0, 0, 3));
	expect_nothing(fx);
}

/* RFC 1122 §2.3.2.1: requests no more than once a second; after three
 * unanswered the waiting datagram is dropped and counted. */
static void
test_unanswered_arp_retries_each_second_then_drops(void **state)
{
	struct fixture *fx = *state;
	uint32_t len;
	next_frame(fx, &len);
	struct fj_mac m4 = { { 2, 0, 0, 0, 0, 4 } };
	uint8_t f[128];
	fj_stack_input(fx->stack, f, mk_udp(f, IP(10, 0, 0, 4), 6000, 7, "x", &m4));
	expect_next_arp(fx, &BCAST, FJ_ARP_REQUEST);
	advance(fx, SEC / 2);
	expect_nothing(fx);
	advance(fx, SEC / 2);
	expect_next_arp(fx, &BCAST, FJ_ARP_REQUEST);
	advance(fx, SEC);
	expect_next_arp(fx, &BCAST, FJ_ARP_REQUEST);
	advance(fx, SEC);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "drop_arp_timeout"), 1);
}

/* RFC 1122 §2.3.2.1: an entry is revalidated by unicast requests before it
 * lapses, and expires when they go unanswered. */
static void
test_neighbour_is_refreshed_by_unicast_and_expires(void **state)
{
	struct fixture *fx = *state;
	start_and_learn_peer(fx);
	advance(fx, 89 * SEC);
	expect_nothing(fx);
	advance(fx, 1 * SEC);
	/* RFC 1122 §2.3.2.1: re-asked for, unicast, before it lapses. */
	struct fj_arp a = expect_next_arp(fx, &PEER, FJ_ARP_REQUEST);
	assert_int_equal(a.tpa, PEER_IP);
	advance(fx, SEC);
	expect_next_arp(fx, &PEER, FJ_ARP_REQUEST);
	advance(fx, SEC);
	expect_next_arp(fx, &PEER, FJ_ARP_REQUEST);
	advance(fx, 30 * SEC);
	expect_nothing(fx);
	/* Expired: an echo to PEER now needs a broadcast request again. */
	uint8_t f[128];
	fj_stack_input(fx->stack, f, mk_udp(f, PEER_IP, 5000, 7, "again", &PEER));
	expect_next_arp(fx, &BCAST, FJ_ARP_REQUEST);
}

/* ------------------------------------------------------ UDP, ICMP, IPv4 */

/* RFC 768: a datagram to a bound port reaches its application; the reply
 * goes back with the ports swapped. */
static void
test_udp_echo_to_a_known_peer(void **state)
{
	struct fixture *fx = *state;
	start_and_learn_peer(fx);
	uint8_t f[128];
	uint32_t len;
	fj_stack_input(fx->stack, f, mk_udp(f, PEER_IP, 5000, 7, "hello", &PEER));
	const uint8_t *o = next_frame(fx, &len);
	struct fj_ipv4 ip = expect_ipv4(o, len, &PEER, FJ_IP_PROTO_UDP);
	assert_int_equal(ip.dst, PEER_IP);
	struct fj_udp_hdr u;
	assert_int_equal(fj_udp_parse(o + 34, len - 34, US_IP, PEER_IP, false, &u), FJ_OK);
	assert_int_equal(u.sport, 7);
	assert_int_equal(u.dport, 5000);
	assert_int_equal(u.len, 8 + 5);
	assert_memory_equal(o + 42, "hello", 5);
	expect_nothing(fx);
}

/* RFC 792, RFC 1122 §3.2.2.6: an echo request of any size is answered
 * with its identifier, sequence number and data. */
static void
test_ping_of_any_size_is_answered(void **state)
{
	struct fixture *fx = *state;
	start_and_learn_peer(fx);
	uint8_t f[1600];
	uint32_t len;
	const uint16_t sizes[] = { 0, 1, 56, 1000, 1472 };
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint32_t n = mk_ping(f, PEER_IP, 77, (uint16_t)i, sizes[i]);
		fj_stack_input(fx->stack, f, n < 60 ? 60 : n);
		const uint8_t *o = next_frame(fx, &len);
		struct fj_ipv4 ip = expect_ipv4(o, len, &PEER, FJ_IP_PROTO_ICMP);
		assert_int_equal(ip.total_len, 20 + 8 + sizes[i]);
		struct fj_icmp ic;
		assert_int_equal(fj_icmp_parse(o + 34, ip.total_len - 20u, false, &ic), FJ_OK);
		assert_int_equal(ic.type, FJ_ICMP_ECHO_REPLY);
		/* Identifier, sequence and data come back unchanged. */
		assert_memory_equal(o + 34 + 4, f + 34 + 4, 4u + sizes[i]);
	}
	expect_nothing(fx);
}

/* RFC 1122 §4.1.3.1, RFC 792: a datagram to a closed port gets a port
 * unreachable; RFC 1812 §4.3.2.8: ICMP errors are rate-limited. */
static void
test_closed_port_unreachable_is_rate_limited(void **state)
{
	struct fixture *fx = *state;
	start_and_learn_peer(fx);
	uint8_t f[128];
	uint32_t len;
	for (int i = 0; i < 60; i++)
		fj_stack_input(fx->stack, f, mk_udp(f, PEER_IP, 5000, 9, "closed?", &PEER));
	/* A burst of 50, then the rest suppressed. */
	for (int i = 0; i < 50; i++) {
		const uint8_t *o = next_frame(fx, &len);
		struct fj_ipv4 ip = expect_ipv4(o, len, &PEER, FJ_IP_PROTO_ICMP);
		struct fj_icmp ic;
		assert_int_equal(fj_icmp_parse(o + 34, ip.total_len - 20u, false, &ic), FJ_OK);
		assert_int_equal(ic.type, FJ_ICMP_DEST_UNREACH);
		assert_int_equal(ic.code, FJ_ICMP_PORT_UNREACH);
		/* RFC 792: the offending IP header and 8 bytes follow. */
		assert_int_equal(ip.total_len, 20 + 8 + 20 + 8);
		assert_memory_equal(o + 34 + 8, f + 14, 28);
	}
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "drop_icmp_rate_limited"), 10);
	/* 100 a second come back. */
	fx->now_us += SEC / 10;
	for (int i = 0; i < 12; i++)
		fj_stack_input(fx->stack, f, mk_udp(f, PEER_IP, 5000, 9, "closed?", &PEER));
	assert_int_equal(fx->nout - fx->seen, 10);
}

/* RFC 1122 §3.3.1: a destination off the link is reached through the
 * gateway, whose address is resolved first. */
static void
test_off_link_goes_through_the_gateway(void **state)
{
	struct fixture *fx = *state;
	start_and_learn_peer(fx);
	uint8_t f[128];
	/* A datagram from far away arrives through the gateway's MAC. */
	fj_stack_input(fx->stack, f, mk_udp(f, IP(192, 0, 2, 7), 5000, 7, "far", &GW));
	struct fj_arp a = expect_next_arp(fx, &BCAST, FJ_ARP_REQUEST);
	assert_int_equal(a.tpa, GW_IP);
	peer_arp_reply(fx, &GW, GW_IP);
	struct fj_ipv4 ip = expect_next_ipv4(fx, &GW, FJ_IP_PROTO_UDP);
	assert_int_equal(ip.dst, IP(192, 0, 2, 7));
}

/* RFC 1122 §3.2.1.3: a frame or datagram not addressed to us is dropped,
 * and counted. */
static void
test_frames_for_others_are_dropped_and_counted(void **state)
{
	struct fixture *fx = *state;
	start_and_learn_peer(fx);
	uint8_t f[128];
	uint32_t n = mk_udp(f, PEER_IP, 5000, 7, "not you", &PEER);
	f[5] = 0x77; /* another unicast MAC */
	fj_stack_input(fx->stack, f, n);
	n = mk_udp(f, PEER_IP, 5000, 7, "not you", &PEER);
	fj_ipv4_build(f + 14, PEER_IP, IP(10, 0, 0, 99), FJ_IP_PROTO_UDP, 8 + 7, 1, 64, false);
	fj_stack_input(fx->stack, f, n);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "drop_not_for_us"), 2);
}

/* A datagram larger than IPv4 can carry (65,535 bytes with the headers)
 * is refused with -EMSGSIZE and counted; up to the MTU it goes whole
 * (beyond it, in fragments: test_fragments.c). */
static void
test_oversize_send_is_refused(void **state)
{
	struct fixture *fx = *state;
	start_and_learn_peer(fx);
	struct fj_udp *u = fj_udp_bind(fx->stack, 99, echo, NULL);
	struct fj_buf *b = fj_buf_alloc(fx->stack, 65508);
	assert_non_null(b);
	struct fj_addr to = { .ip = PEER_IP, .port = 1 };
	assert_int_equal(fj_udp_send(u, b, &to), -EMSGSIZE);
	b = fj_buf_alloc(fx->stack, 1472);
	assert_int_equal(fj_udp_send(u, b, &to), 0);
	/* Sends made outside a callback leave with the loop's next turn. */
	expect_nothing(fx);
	fj_stack_poll(fx->stack);
	struct fj_ipv4 ip = expect_next_ipv4(fx, &PEER, FJ_IP_PROTO_UDP);
	assert_int_equal(ip.total_len, 1500);
	assert_int_equal(fj_stack_counter(fx->stack, "drop_oversize"), 1);
	/* A port bound twice is refused. */
	assert_null(fj_udp_bind(fx->stack, 99, echo, NULL));
}

/* ------------------------------------------------------ the test port */

/* fjord_testport.h: a bad prefix length or a gateway off the link is
 * refused. */
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

/* ------------------------------------------------------ the kernel exception path */

/* --kernel-exception: what the stack does not take goes to the kernel
 * whole, as it came, instead of the stack's answer: a datagram to a closed
 * port (no port unreachable), a segment for no flow and no listener (no
 * RST: it is the kernel's connection), an unknown IP protocol, an unknown
 * Ethernet type, an echo reply (the kernel's ping); an ARP reply to us is
 * learnt and copied; an echo request is still answered by the stack. */
static void
test_kernel_exception_takes_what_the_stack_does_not(void **state)
{
	struct fixture *fx = *state;
	start_and_learn_peer(fx);
	uint8_t f[256];
	uint32_t n, len;

	n = mk_udp(f, PEER_IP, 5000, 9, "closed?", &PEER);
	fj_stack_input(fx->stack, f, n);
	assert_int_equal(fx->nexc, 1);
	/* (the Ethernet padding behind the datagram gone) */
	assert_int_equal(fx->exc[0].len, 14 + 20 + 8 + 7);
	assert_memory_equal(fx->exc[0].b, f, fx->exc[0].len);
	(void)n;
	n = mk_seg(f, &(struct pseg){ .dport = 2222, .seq = 1000, .flags = FJ_TCP_SYN,
				      .wnd = 65535 }, sizeof(f));
	fj_stack_input(fx->stack, f, n);
	assert_int_equal(fx->nexc, 2);
	assert_memory_equal(fx->exc[1].b, f, fx->exc[1].len);
	/* An unknown protocol (47, GRE) and an unknown Ethernet type. */
	n = mk_udp(f, PEER_IP, 5000, 9, "gre", &PEER);
	f[14 + 9] = 47;
	f[14 + 10] = f[14 + 11] = 0;
	uint16_t c = fj_csum_fold(fj_csum_add(0, f + 14, 20));
	f[14 + 10] = (uint8_t)(c >> 8), f[14 + 11] = (uint8_t)c;
	fj_stack_input(fx->stack, f, n);
	memcpy(f + 12, "\x88\xcc", 2); /* (LLDP's type, to our MAC) */
	fj_stack_input(fx->stack, f, n);
	assert_int_equal(fx->nexc, 4);
	/* The kernel's ping answered: the reply is the kernel's. */
	n = mk_ping(f, PEER_IP, 9, 1, 8);
	f[34] = FJ_ICMP_ECHO_REPLY;
	f[36] = f[37] = 0;
	c = fj_csum_fold(fj_csum_add(0, f + 34, 16));
	f[36] = (uint8_t)(c >> 8), f[37] = (uint8_t)c;
	fj_stack_input(fx->stack, f, n < 60 ? 60 : n);
	assert_int_equal(fx->nexc, 5);
	assert_int_equal(fx->exc[4].b[34], FJ_ICMP_ECHO_REPLY);
	/* Nothing of that was answered by the stack. */
	expect_nothing(fx);
	/* An ARP reply to us: copied to the kernel, and still learnt. */
	fj_stack_input(fx->stack, f, mk_arp(f, FJ_ARP_REPLY, &US, &PEER, PEER_IP, &US, US_IP));
	assert_int_equal(fx->nexc, 6);
	assert_int_equal(fx->exc[5].b[12] << 8 | fx->exc[5].b[13], FJ_ETH_P_ARP);
	/* A ping to us is the stack's. */
	n = mk_ping(f, PEER_IP, 9, 2, 8);
	fj_stack_input(fx->stack, f, n < 60 ? 60 : n);
	expect_next_ipv4(fx, &PEER, FJ_IP_PROTO_ICMP);
	assert_int_equal(fx->nexc, 6);
	assert_int_equal(fj_stack_counter(fx->stack, "exception_to_kernel"), 6);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_rst_tx"), 0);
	assert_int_equal(fj_stack_counter(fx->stack, "icmp_unreach_tx"), 0);
	(void)len;
}

int
main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		/* ARP */
		T(test_gratuitous_arp_then_reply_to_requests),
		T(test_arp_reply_to_a_padded_request_is_a_minimum_frame),
		T(test_reply_waits_for_arp_then_leaves),
		T(test_unanswered_arp_retries_each_second_then_drops),
		T(test_neighbour_is_refreshed_by_unicast_and_expires),
		/* UDP, ICMP, IPv4 */
		T(test_udp_echo_to_a_known_peer),
		T(test_ping_of_any_size_is_answered),
		T(test_closed_port_unreachable_is_rate_limited),
		T(test_off_link_goes_through_the_gateway),
		T(test_frames_for_others_are_dropped_and_counted),
		T(test_oversize_send_is_refused),
		/* the kernel exception path */
		cmocka_unit_test_setup_teardown(test_kernel_exception_takes_what_the_stack_does_not,
						setup_exception, teardown),
		/* the test port */
		cmocka_unit_test(test_bad_test_port_config_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
