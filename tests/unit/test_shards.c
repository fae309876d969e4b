/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shards (stack/shard.h) on a two-shard test port, in virtual time: the
 * steering hash agrees for both directions, a frame for another shard's
 * flow is handed over by ring (and counted when the ring is full), active
 * opens pick ports whose replies come back to the opening shard (software
 * steering and RSS), and what one shard learns of a neighbour reaches the
 * other.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <rte_thash.h>

#include "scripted.h"
#include "stack.h"
#include "direct.h"
#include "flow_hash.h"

static int
setup2(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	fx->now_us = 1000 * SEC;
	struct fj_testport_cfg cfg = { .ip = "10.0.0.2/24", .gw = "10.0.0.254", .hz = HZ,
				       .clock = clock_fn, .tx = tx_fn, .ctx = fx, .shards = 2 };
	memcpy(cfg.mac, US.b, 6);
	fx->stack = fj_stack_testport(&cfg);
	assert_non_null(fx->stack);
	assert_int_equal(fj_stack_shards(fx->stack), 2);
	assert_non_null(fj_udp_bind(fx->stack, 7, echo, NULL));
	*state = fx;
	return 0;
}

static struct fj_stack *
shard(struct fixture *fx, unsigned i)
{
	return fj_stack_shard(fx->stack, i);
}

/* A UDP source port from PEER whose flow to port 7 shard @k owns. */
static uint16_t
peer_port_of(unsigned k)
{
	for (uint16_t p = 30000;; p++)
		if (fj_flow_owner(PEER_IP, US_IP, p, 7, 2) == k)
			return p;
}

static uint32_t
xorshift(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static void
test_flow_hash_is_symmetric_and_spreads(void **state)
{
	(void)state;
	unsigned count[16] = { 0 };
	uint32_t x = 12345;

	for (int i = 0; i < 20000; i++) {
		uint32_t a = xorshift(&x), b = xorshift(&x);
		uint16_t pa = (uint16_t)xorshift(&x), pb = (uint16_t)xorshift(&x);
		for (unsigned n = 2; n <= 16; n++)
			assert_int_equal(fj_flow_owner(a, b, pa, pb, n), fj_flow_owner(b, a, pb, pa, n));
		count[fj_flow_owner(a, b, pa, pb, 16)]++;
	}
	/* Between the two ends of one host pair, the ports alone spread. */
	unsigned two[2] = { 0 };
	for (uint16_t p = 40000; p < 41000; p++)
		two[fj_flow_owner(PEER_IP, US_IP, p, 7, 2)]++;
	for (unsigned k = 0; k < 16; k++)
		assert_in_range(count[k], 20000 / 16 / 2, 20000 / 16 * 2);
	assert_in_range(two[0], 400, 600);
}

static void
test_steer_owner_reads_the_four_tuple_and_leaves_the_rest(void **state)
{
	(void)state;
	uint8_t f[128];
	uint32_t len = mk_udp(f, PEER_IP, 4242, 7, "x", &PEER);

	assert_int_equal(fj_steer_owner(f, len, 4), (int)fj_flow_owner(PEER_IP, US_IP, 4242, 7, 4));
	assert_int_equal(fj_steer_owner(f, len, 1), -1);
	assert_int_equal(fj_steer_owner(f, 14 + 20 + 3, 4), -1); /* no room for the ports */
	/* A fragment, its ports or not: the addresses choose, so that all
	 * pieces of a datagram meet. */
	f[14 + 6] = 0x20;
	assert_int_equal(fj_steer_owner(f, len, 4), (int)fj_flow_owner(PEER_IP, US_IP, 0, 0, 4));
	f[14 + 6] = 0x00;
	f[14 + 7] = 0x10;
	f[14 + 9] = FJ_IP_PROTO_ICMP;
	assert_int_equal(fj_steer_owner(f, 14 + 20, 4), (int)fj_flow_owner(PEER_IP, US_IP, 0, 0, 4));
	f[14 + 9] = FJ_IP_PROTO_UDP;
	f[14 + 7] = 0;
	/* IPv6: a fragment by its addresses, the rest to whoever gets it. */
	uint8_t f6[14 + 40 + 8] = { [12] = 0x86, [13] = 0xdd, [14] = 0x60, [20] = 44 };
	int o6 = fj_steer_owner(f6, sizeof(f6), 4);
	assert_in_range(o6, 0, 3);
	f6[14 + 8 + 15] = 9; /* another source */
	bool moved = false;
	for (uint8_t b = 0; b < 16 && !moved; b++) {
		f6[14 + 8 + 15] = b;
		moved = fj_steer_owner(f6, sizeof(f6), 4) != o6;
	}
	assert_true(moved);
	f6[20] = FJ_IP_PROTO_UDP;
	assert_int_equal(fj_steer_owner(f6, sizeof(f6), 4), -1);
	f[14 + 9] = FJ_IP_PROTO_ICMP;
	assert_int_equal(fj_steer_owner(f, len, 4), -1);
	f[14 + 9] = FJ_IP_PROTO_UDP;
	f[14] = 0x4f; /* a 60-byte header beyond the frame */
	assert_int_equal(fj_steer_owner(f, len, 4), -1);
	f[14] = 0x45;
	len = mk_arp(f, FJ_ARP_REQUEST, &BCAST, &PEER, PEER_IP, &BCAST, US_IP);
	assert_int_equal(fj_steer_owner(f, len, 4), -1);
}

static void
test_frame_for_another_shard_is_handed_over(void **state)
{
	struct fixture *fx = *state;
	uint8_t f[128];
	uint16_t p1 = peer_port_of(1);

	start_and_learn_peer(fx);
	fj_stack_poll(shard(fx, 1)); /* the neighbour's MAC, by message */
	fj_stack_input(shard(fx, 0), f, mk_udp(f, PEER_IP, p1, 7, "to shard one", &PEER));
	expect_nothing(fx);
	assert_int_equal(fj_shard_counter(shard(fx, 0), "steered_out"), 1);
	assert_int_equal(fj_shard_counter(shard(fx, 0), "udp_rx"), 0);
	fj_stack_poll(shard(fx, 1));
	struct fj_ipv4 ip = expect_next_ipv4(fx, &PEER, FJ_IP_PROTO_UDP);
	assert_int_equal(ip.dst, PEER_IP);
	assert_int_equal(fj_shard_counter(shard(fx, 1), "udp_rx"), 1);
	assert_int_equal(fj_shard_counter(shard(fx, 1), "steered_in"), 1);
	/* The stack's counters are the shards' sum. */
	assert_int_equal(fj_stack_counter(fx->stack, "udp_tx"), 1);
	/* Its own flow stays: no ring. */
	fj_stack_input(shard(fx, 1), f, mk_udp(f, PEER_IP, p1, 7, "again", &PEER));
	expect_next_ipv4(fx, &PEER, FJ_IP_PROTO_UDP);
	assert_int_equal(fj_shard_counter(shard(fx, 1), "steered_in"), 1);
	checked_all(fx);
}

static void
test_full_steering_ring_is_a_counted_drop(void **state)
{
	struct fixture *fx = *state;
	uint8_t f[128];
	uint16_t p1 = peer_port_of(1);
	uint32_t len = mk_udp(f, PEER_IP, p1, 7, "flood", &PEER);
	const unsigned n = 5000;

	start_and_learn_peer(fx);
	fj_stack_poll(shard(fx, 1));
	uint64_t mbufs0 = fj_shard_counter(shard(fx, 0), "mbufs_in_use");
	fx->discard_tx = true;
	for (unsigned i = 0; i < n; i++)
		fj_stack_input(shard(fx, 0), f, len);
	uint64_t out = fj_shard_counter(shard(fx, 0), "steered_out");
	uint64_t full = fj_shard_counter(shard(fx, 0), "drop_steer_ring_full");
	assert_true(out > 1000 && out < n);
	assert_int_equal(out + full, n);
	/* The owner takes what waited; nothing is lost unaccounted. */
	for (int i = 0; i < 1000 && fj_shard_counter(shard(fx, 1), "steered_in") < out; i++)
		fj_stack_poll(shard(fx, 1));
	assert_int_equal(fj_shard_counter(shard(fx, 1), "steered_in"), out);
	assert_int_equal(fj_shard_counter(shard(fx, 1), "udp_rx"), out);
	assert_int_equal(fj_shard_counter(shard(fx, 0), "mbufs_in_use"), mbufs0);
}

static void
test_frames_still_in_a_steering_ring_at_free_are_released(void **state)
{
	struct fixture *fx = *state;
	uint8_t f[128];
	uint32_t len = mk_udp(f, PEER_IP, peer_port_of(1), 7, "never taken", &PEER);

	for (int i = 0; i < 10; i++)
		fj_stack_input(shard(fx, 0), f, len);
	assert_int_equal(fj_shard_counter(shard(fx, 0), "steered_out"), 10);
	assert_true(fj_stack_counter(fx->stack, "mbufs_in_use") >= 10);
	/* teardown frees the stack with them waiting: back to their pool
	 * before it goes */
}

/* Connect from shard @k to PEER:80 @n times: every SYN's source port must
 * be one whose replies @owner maps back to @k. */
static void
connect_from(struct fixture *fx, unsigned k, int n, unsigned (*owner)(uint16_t sport))
{
	for (int i = 0; i < n; i++) {
		struct fj_addr to = { .ip = PEER_IP, .port = 80 };
		struct fj_flow *fl = fj_connect_tcp(shard(fx, k), &to, client_cb, fx);
		assert_non_null(fl);
		assert_ptr_equal(fj_flow_stack(fl), shard(fx, k));
		fj_stack_poll(shard(fx, k)); /* the loop's turn sends the SYN */
		uint16_t sport;
		expect_syn(fx, &sport);
		assert_int_equal(owner(sport), k);
		assert_int_equal(fj_stack_shard_of(shard(fx, k), sport, &to), k);
		fj_flow_abort(fl);
		fj_stack_poll(shard(fx, k));
		/* Whatever the abort sent; the capture starts afresh. */
		fx->nout = fx->seen = 0;
	}
}

static unsigned
software_owner(uint16_t sport)
{
	return fj_flow_owner(US_IP, PEER_IP, sport, 80, 2);
}

static void
test_active_opens_choose_ports_their_shard_owns(void **state)
{
	struct fixture *fx = *state;

	start_and_learn_peer(fx);
	/* Shard 1 learnt PEER's MAC from shard 0's message: its SYN goes
	 * out at once, no ARP request first. */
	fj_stack_poll(shard(fx, 1));
	connect_from(fx, 1, 100, software_owner);
	connect_from(fx, 0, 100, software_owner);
	checked_all(fx);
}

static const uint8_t ms_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

/* The queue a device's RSS picks for PEER:80 -> US:@sport, computed here
 * as the device does, with the key and a table of 128 alternating
 * entries. */
static unsigned
rss_owner(uint16_t sport)
{
	struct rte_ipv4_tuple t = { .src_addr = PEER_IP, .dst_addr = US_IP, .sport = 80,
				    .dport = sport };
	return rte_softrss((uint32_t *)&t, RTE_THASH_V4_L4_LEN, ms_key) % 128 % 2;
}

static void
test_active_opens_under_rss_choose_ports_the_device_sends_back(void **state)
{
	struct fixture *fx = *state;
	struct fj_shards *g = fx->stack->g;

	g->steer = FJ_STEER_RSS;
	memcpy(g->rss_key, ms_key, sizeof(ms_key));
	g->rss_key_len = sizeof(ms_key);
	g->reta_size = 128;
	for (unsigned i = 0; i < 128; i++)
		g->reta[i] = (uint16_t)(i % 2);
	/* Microsoft's published verification vector for the key. */
	struct rte_ipv4_tuple v = { .src_addr = IP(66, 9, 149, 187), .dst_addr = IP(161, 142, 100, 80),
				    .sport = 2794, .dport = 1766 };
	assert_int_equal(rte_softrss((uint32_t *)&v, RTE_THASH_V4_L4_LEN, ms_key), 0x51ccc178);
	start_and_learn_peer(fx);
	fj_stack_poll(shard(fx, 1));
	connect_from(fx, 0, 100, rss_owner);
	connect_from(fx, 1, 100, rss_owner);
	checked_all(fx);
}

static void
test_bindings_reach_every_shard(void **state)
{
	struct fixture *fx = *state;
	uint8_t f[128];

	assert_null(fj_udp_bind(shard(fx, 1), 7, echo, NULL)); /* bound on all */
	struct fj_udp *u = fj_udp_bind(fx->stack, 9999, echo, NULL);
	assert_non_null(u);
	start_and_learn_peer(fx);
	fj_stack_poll(shard(fx, 1));
	for (unsigned k = 0; k < 2; k++) {
		uint16_t p = 30000;
		while (fj_flow_owner(PEER_IP, US_IP, p, 9999, 2) != k)
			p++;
		fj_stack_input(shard(fx, k), f, mk_udp(f, PEER_IP, p, 9999, "hi", &PEER));
		expect_next_ipv4(fx, &PEER, FJ_IP_PROTO_UDP);
	}
	fj_udp_close(u);
	fj_stack_input(shard(fx, 1), f, mk_udp(f, PEER_IP, 30001, 9999, "closed", &PEER));
	fj_stack_poll(shard(fx, 0));
	fj_stack_poll(shard(fx, 1));
	/* Port unreachable from whichever shard owns it. */
	expect_next_ipv4(fx, &PEER, FJ_IP_PROTO_ICMP);
	checked_all(fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flow_hash_is_symmetric_and_spreads),
		cmocka_unit_test(test_steer_owner_reads_the_four_tuple_and_leaves_the_rest),
		cmocka_unit_test_setup_teardown(test_frame_for_another_shard_is_handed_over, setup2,
						teardown),
		cmocka_unit_test_setup_teardown(test_full_steering_ring_is_a_counted_drop, setup2,
						teardown),
		cmocka_unit_test_setup_teardown(test_active_opens_choose_ports_their_shard_owns,
						setup2, teardown),
		cmocka_unit_test_setup_teardown(
			test_active_opens_under_rss_choose_ports_the_device_sends_back, setup2,
			teardown),
		cmocka_unit_test_setup_teardown(test_bindings_reach_every_shard, setup2, teardown),
		cmocka_unit_test_setup_teardown(
			test_frames_still_in_a_steering_ring_at_free_are_released, setup2, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
