/* SPDX-License-Identifier: BSD-3-Clause */
/* The ARP cache, its pending queue and routing (stack/neigh) in virtual time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "neigh.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static const struct fj_neigh_params P = { .reachable = 1000, .refresh = 800, .retry = 10,
					  .max_tries = 3 };
static struct fj_neigh N;
static const struct fj_mac M1 = { { 2, 0, 0, 0, 0, 1 } };
static const struct fj_mac M2 = { { 2, 0, 0, 0, 0, 2 } };

static int asks, asks_unicast, drops;
static uint32_t last_ask;

static void
ask(void *ctx, uint32_t ip, const struct fj_mac *mac)
{
	(void)ctx;
	asks++;
	if (mac)
		asks_unicast++;
	last_ask = ip;
}

static void
drop(void *ctx, void *pkt)
{
	(void)ctx;
	(void)pkt;
	drops++;
}

static int
setup(void **state)
{
	(void)state;
	fj_neigh_init(&N, &P);
	asks = asks_unicast = drops = 0;
	return 0;
}

static void
test_miss_asks_once_then_waits(void **state)
{
	(void)state;
	struct fj_mac m;
	assert_int_equal(fj_neigh_lookup(&N, IP(10, 0, 0, 1), 0, &m), FJ_NEIGH_ASK);
	assert_int_equal(fj_neigh_lookup(&N, IP(10, 0, 0, 1), 1, &m), FJ_NEIGH_WAIT);
}

static void
test_reply_resolves_and_releases_waiting_packets_in_order(void **state)
{
	(void)state;
	struct fj_mac m;
	int a = 1, b = 2;
	void *out[8];

	assert_int_equal(fj_neigh_lookup(&N, IP(10, 0, 0, 1), 0, &m), FJ_NEIGH_ASK);
	assert_int_equal(fj_neigh_queue(&N, IP(10, 0, 0, 1), &a), 0);
	assert_int_equal(fj_neigh_queue(&N, IP(10, 0, 0, 1), &b), 0);
	assert_true(fj_neigh_learn(&N, IP(10, 0, 0, 1), &M1, 5, false) >= 0);
	assert_int_equal(fj_neigh_take(&N, IP(10, 0, 0, 1), out, 8), 2);
	assert_ptr_equal(out[0], &a);
	assert_ptr_equal(out[1], &b);
	assert_int_equal(fj_neigh_lookup(&N, IP(10, 0, 0, 1), 6, &m), FJ_NEIGH_HIT);
	assert_true(fj_mac_eq(&m, &M1));
}

static void
test_pending_queue_is_bounded_per_address(void **state)
{
	(void)state;
	struct fj_mac m;
	int x[FJ_NEIGH_PENDING_PER_IP + 1];

	fj_neigh_lookup(&N, IP(10, 0, 0, 1), 0, &m);
	for (int i = 0; i < FJ_NEIGH_PENDING_PER_IP; i++)
		assert_int_equal(fj_neigh_queue(&N, IP(10, 0, 0, 1), &x[i]), 0);
	assert_int_equal(fj_neigh_queue(&N, IP(10, 0, 0, 1), &x[FJ_NEIGH_PENDING_PER_IP]), -1);
	/* No entry, no queueing. */
	assert_int_equal(fj_neigh_queue(&N, IP(10, 0, 0, 9), &x[0]), -1);
}

static void
test_unanswered_resolution_retries_then_drops(void **state)
{
	(void)state;
	struct fj_mac m;
	int a;

	fj_neigh_lookup(&N, IP(10, 0, 0, 1), 0, &m);
	fj_neigh_queue(&N, IP(10, 0, 0, 1), &a);
	fj_neigh_tick(&N, 5, ask, drop, NULL);
	assert_int_equal(asks, 0); /* not yet time */
	fj_neigh_tick(&N, 10, ask, drop, NULL);
	fj_neigh_tick(&N, 20, ask, drop, NULL);
	assert_int_equal(asks, 2);
	assert_int_equal(last_ask, IP(10, 0, 0, 1));
	fj_neigh_tick(&N, 30, ask, drop, NULL);
	assert_int_equal(drops, 1);
	assert_null(fj_neigh_find(&N, IP(10, 0, 0, 1)));
	/* A new lookup starts over. */
	assert_int_equal(fj_neigh_lookup(&N, IP(10, 0, 0, 1), 31, &m), FJ_NEIGH_ASK);
}

static void
test_entries_refresh_with_unicast_then_expire(void **state)
{
	(void)state;
	struct fj_mac m;

	fj_neigh_learn(&N, IP(10, 0, 0, 1), &M1, 0, true);
	fj_neigh_tick(&N, 799, ask, drop, NULL);
	assert_int_equal(asks, 0);
	fj_neigh_tick(&N, 800, ask, drop, NULL);
	assert_int_equal(asks_unicast, 1);
	/* Still usable while refreshing. */
	assert_int_equal(fj_neigh_lookup(&N, IP(10, 0, 0, 1), 801, &m), FJ_NEIGH_HIT);
	/* A reply renews it. */
	fj_neigh_learn(&N, IP(10, 0, 0, 1), &M2, 850, false);
	fj_neigh_tick(&N, 1200, ask, drop, NULL);
	assert_int_equal(fj_neigh_lookup(&N, IP(10, 0, 0, 1), 1200, &m), FJ_NEIGH_HIT);
	assert_true(fj_mac_eq(&m, &M2));
	/* Without answers it expires. */
	fj_neigh_tick(&N, 1850, ask, drop, NULL);
	assert_null(fj_neigh_find(&N, IP(10, 0, 0, 1)));
}

static void
test_merge_updates_but_creates_only_when_asked(void **state)
{
	(void)state;
	/* RFC 826: a sender we have no entry for is added only when the packet
	 * was for us. */
	fj_neigh_learn(&N, IP(10, 0, 0, 1), &M1, 0, false);
	assert_null(fj_neigh_find(&N, IP(10, 0, 0, 1)));
	fj_neigh_learn(&N, IP(10, 0, 0, 1), &M1, 0, true);
	assert_non_null(fj_neigh_find(&N, IP(10, 0, 0, 1)));
	fj_neigh_learn(&N, IP(10, 0, 0, 1), &M2, 1, false);
	assert_true(fj_mac_eq(&fj_neigh_find(&N, IP(10, 0, 0, 1))->mac, &M2));
}

static void
test_full_cache_evicts_oldest_resolved(void **state)
{
	(void)state;
	struct fj_mac m;
	for (uint32_t i = 0; i < FJ_NEIGH_MAX; i++)
		fj_neigh_learn(&N, IP(10, 0, 1, i), &M1, 100 + i, true);
	assert_int_equal(fj_neigh_lookup(&N, IP(10, 0, 2, 1), 500, &m), FJ_NEIGH_ASK);
	assert_null(fj_neigh_find(&N, IP(10, 0, 1, 0)));
	assert_non_null(fj_neigh_find(&N, IP(10, 0, 1, 1)));
	/* Questions hold at most half the cache: the rest is kept for
	 * answers, which still get in. */
	fj_neigh_init(&N, &P);
	for (uint32_t i = 0; i < FJ_NEIGH_MAX / 2; i++)
		assert_int_equal(fj_neigh_lookup(&N, IP(10, 0, 1, i), 0, &m), FJ_NEIGH_ASK);
	assert_int_equal(fj_neigh_lookup(&N, IP(10, 0, 2, 1), 0, &m), FJ_NEIGH_FULL);
	fj_neigh_learn(&N, IP(10, 0, 3, 1), &M2, 1, true);
	assert_non_null(fj_neigh_find(&N, IP(10, 0, 3, 1)));
	/* Once they have had a retry interval to answer, the one asked for
	 * longest ago makes room (a flood of spoofed sources must not keep a
	 * live neighbour out); what waited for it is dropped at the tick. */
	int pkt = 7;
	assert_int_equal(fj_neigh_queue(&N, IP(10, 0, 1, 0), &pkt), 0);
	assert_int_equal(fj_neigh_lookup(&N, IP(10, 0, 2, 1), P.retry - 1, &m), FJ_NEIGH_FULL);
	assert_int_equal(fj_neigh_lookup(&N, IP(10, 0, 2, 1), P.retry, &m), FJ_NEIGH_ASK);
	assert_null(fj_neigh_find(&N, IP(10, 0, 1, 0)));
	drops = 0;
	fj_neigh_tick(&N, P.retry, ask, drop, NULL);
	assert_int_equal(drops, 1);
}

/* A flood of questions to addresses that never answer (a spoofed SYN
 * flood's SYN-ACKs) never pushes out a live neighbour, however long it
 * lasts, and the live neighbour's own answers always get in. */
static void
test_unanswered_questions_never_evict_a_live_neighbour(void **state)
{
	(void)state;
	struct fj_mac m;
	const uint32_t live = IP(10, 0, 0, 1);
	fj_neigh_learn(&N, live, &M1, 0, true);
	for (uint64_t t = 0; t < 3 * P.reachable; t++) {
		for (uint32_t k = 0; k < 8; k++)
			fj_neigh_lookup(&N, IP(10, 0, 1, (t * 8 + k) % 151 + 100), t, &m);
		fj_neigh_tick(&N, t, ask, drop, NULL);
		if (asks_unicast > 0) {
			/* the live one answers its refresh */
			fj_neigh_learn(&N, live, &M1, t, true);
			asks_unicast = 0;
		}
		assert_int_equal(fj_neigh_lookup(&N, live, t, &m), FJ_NEIGH_HIT);
	}
	/* Forgotten (it stopped answering), it is learnt again from a request
	 * for us even with the cache full of questions. */
	fj_neigh_init(&N, &P);
	for (uint32_t i = 0; i < FJ_NEIGH_MAX; i++)
		fj_neigh_lookup(&N, IP(10, 0, 1, i), 0, &m);
	fj_neigh_learn(&N, live, &M1, 1, true);
	assert_int_equal(fj_neigh_lookup(&N, live, 1, &m), FJ_NEIGH_HIT);
}

static void
test_routing_on_link_gateway_and_broadcast(void **state)
{
	(void)state;
	uint32_t ip = IP(10, 77, 0, 2), mask = 0xffffff00, gw = IP(10, 77, 0, 1);
	assert_int_equal(fj_route_next_hop(ip, mask, gw, IP(10, 77, 0, 9)), IP(10, 77, 0, 9));
	assert_int_equal(fj_route_next_hop(ip, mask, gw, IP(8, 8, 8, 8)), gw);
	assert_int_equal(fj_route_next_hop(ip, mask, 0, IP(8, 8, 8, 8)), 0);
	assert_int_equal(fj_route_next_hop(ip, mask, gw, FJ_IPV4_BROADCAST), FJ_IPV4_BROADCAST);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_miss_asks_once_then_waits, setup),
		cmocka_unit_test_setup(test_reply_resolves_and_releases_waiting_packets_in_order, setup),
		cmocka_unit_test_setup(test_pending_queue_is_bounded_per_address, setup),
		cmocka_unit_test_setup(test_unanswered_resolution_retries_then_drops, setup),
		cmocka_unit_test_setup(test_entries_refresh_with_unicast_then_expire, setup),
		cmocka_unit_test_setup(test_merge_updates_but_creates_only_when_asked, setup),
		cmocka_unit_test_setup(test_full_cache_evicts_oldest_resolved, setup),
		cmocka_unit_test_setup(test_unanswered_questions_never_evict_a_live_neighbour, setup),
		cmocka_unit_test_setup(test_routing_on_link_gateway_and_broadcast, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
