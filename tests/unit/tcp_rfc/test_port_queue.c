/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-flow limit on data waiting in the port's transmit queue
 * (--flow-queue-bytes), on a test port that holds what it is given as a
 * device does until it has read its ring, and frees the buffers of what it
 * sent only when the stack asks (rte_eth_tx_done_cleanup). A bulk flow
 * gives the port at most the limit and one segment more; another flow's
 * frame goes into the port behind that much, not behind the bulk flow's
 * whole window; the bulk flow sends on once the port has sent.
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

static const struct holding LIMIT = { .flow_queue_bytes = 3000 }; /* three MSS of 1000 */
static const struct holding NO_LIMIT = { .flow_queue_bytes = UINT32_MAX };
/* A port with room for four frames, no limit: its ring fills. */
static const struct holding SMALL_RING = { .flow_queue_bytes = UINT32_MAX, .hold_max = 4 };

/* The writer (port 20, MSS 1000, a large window) connected with nothing
 * to write; then the port holds, and a byte from the peer makes the
 * writer write @total bytes at once. Returns our ISS + 1. */
static uint32_t
bulk_into_a_holding_port(struct fixture *fx, uint32_t total)
{
	uint32_t iss1 = hs(fx, 20, 65535, true);
	expect_nothing(fx);
	fj_testport_hold(fx->stack, true);
	fx->wr.total = total;
	peer_tcp(fx, 20, fx->peer_iss + 1, iss1, ACK, 65535, NULL, "x");
	return iss1;
}

/* The peer's UDP datagram to the echo on port 7: its reply goes into the
 * port's queue behind what is there. */
static void
udp_request(struct fixture *fx)
{
	uint8_t f[128];
	fj_stack_input(fx->stack, f, mk_udp(f, PEER_IP, 4242, 7, "ping", &PEER));
}

static void
test_a_bulk_flow_keeps_its_limit_in_the_port(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = bulk_into_a_holding_port(fx, 20000), ack = fx->peer_iss + 2;

	/* The initial window is 10 MSS; the port got the limit and one
	 * segment more, the rest waits in the send queue. */
	expect_nothing(fx);
	assert_int_equal(fj_testport_waiting(fx->stack), 4);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_queue_waits"), 1);
	/* Another flow's reply queues behind those four, not behind ten. */
	udp_request(fx);
	assert_int_equal(fj_testport_waiting(fx->stack), 5);
	fj_testport_transmit(fx->stack, 5);
	for (uint32_t off = 0; off < 4000; off += 1000)
		expect_data(fx, iss1 + off, ack, 1000, off);
	expect_next_ipv4(fx, &PEER, FJ_IP_PROTO_UDP);
	expect_nothing(fx);
	/* Sent, not yet freed: the next loop turn asks the port for the
	 * buffers back, and the flow sends on, up to the limit again (three
	 * segments: the byte 3,000 back from the last is in the port). */
	fj_stack_poll(fx->stack);
	assert_int_equal(fj_testport_waiting(fx->stack), 3);
	/* Nothing was lost on the way: with the port sending at once again,
	 * ACKs bring the rest, every byte in order. */
	fj_testport_hold(fx->stack, false);
	for (uint32_t off = 4000; off < 7000; off += 1000)
		expect_data(fx, iss1 + off, ack, 1000, off);
	expect_nothing(fx);
	/* The peer ACKs all it got each time; slow start sends more. */
	uint32_t next = 7000;
	for (int round = 0; round < 20 && next < 20000; round++) {
		peer_tcp(fx, 20, ack, iss1 + next, ACK, 65535, NULL, NULL);
		while (fx->seen < fx->nout) {
			struct seg g = next_seg(fx);
			assert_int_equal(g.h.seq, iss1 + next);
			assert_int_equal(g.h.ack, ack);
			for (uint32_t i = 0; i < g.plen; i++)
				assert_int_equal(g.pl[i], pat(next + i));
			next += g.plen;
		}
	}
	assert_int_equal(next, 20000);
	assert_true(fj_stack_counter(fx->stack, "tcp_queue_waits") >= 2);
	assert_int_equal(fj_stack_counter(fx->stack, "drop_tx_full"), 0);
}

/* The control: without the limit the whole initial window goes into the
 * port, and the reply waits behind all ten segments. */
static void
test_without_the_limit_the_window_goes_into_the_port(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = bulk_into_a_holding_port(fx, 20000), ack = fx->peer_iss + 2;

	expect_nothing(fx);
	assert_int_equal(fj_testport_waiting(fx->stack), 10);
	udp_request(fx);
	fj_testport_transmit(fx->stack, 11);
	for (uint32_t off = 0; off < 10000; off += 1000)
		expect_data(fx, iss1 + off, ack, 1000, off);
	expect_next_ipv4(fx, &PEER, FJ_IP_PROTO_UDP);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_queue_waits"), 0);
}

/* A flow whose earlier data the port has sent but not yet given back is
 * not held for long: the stack asks for the buffers when it would wait,
 * so the next loop turn sends on with nothing else happening. */
static void
test_the_stack_asks_the_port_for_sent_buffers(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = bulk_into_a_holding_port(fx, 4000), ack = fx->peer_iss + 2;

	/* 4,000 bytes: all of it fits in the limit and one segment. */
	assert_int_equal(fj_testport_waiting(fx->stack), 4);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_queue_waits"), 0);
	/* The peer's next byte makes the writer write more: the flow waits
	 * for the port. */
	fx->wr.total = 9000;
	peer_tcp(fx, 20, ack, iss1, ACK, 65535, NULL, "y");
	assert_int_equal(fj_testport_waiting(fx->stack), 4);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_queue_waits"), 1);
	fj_testport_transmit(fx->stack, 4);
	for (uint32_t off = 0; off < 4000; off += 1000)
		expect_data(fx, iss1 + off, ack, 1000, off);
	expect_nothing(fx);
	fj_stack_poll(fx->stack);
	assert_int_equal(fj_testport_waiting(fx->stack), 3);
	fj_testport_transmit(fx->stack, 3);
	for (uint32_t off = 4000; off < 7000; off += 1000)
		expect_data(fx, iss1 + off, ack + 1, 1000, off);
	expect_nothing(fx);
}

/*
 * What a full ring does not take waits in the stack for the next loop
 * turn, in order (back-pressure): the ten segments of the initial window
 * go four at a time as the port sends, none dropped or sent twice.
 */
static void
test_a_full_ring_holds_frames_back_instead_of_dropping_them(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = bulk_into_a_holding_port(fx, 10000), ack = fx->peer_iss + 2;

	assert_int_equal(fj_testport_waiting(fx->stack), 4);
	for (uint32_t off = 0; off < 10000; off += 4000) {
		uint32_t n = off + 4000 <= 10000 ? 4 : 2;
		assert_int_equal(fj_testport_waiting(fx->stack), n);
		fj_testport_transmit(fx->stack, n);
		for (uint32_t k = 0; k < n; k++)
			expect_data(fx, iss1 + off + k * 1000, ack, 1000, off + k * 1000);
		expect_nothing(fx);
		fj_stack_poll(fx->stack); /* the next loop turn */
	}
	assert_int_equal(fj_testport_waiting(fx->stack), 0);
	assert_int_equal(fj_stack_counter(fx->stack, "drop_tx_full"), 0);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_retransmits"), 0);
}

/* The frames the stack sent so far: TCP segments checked to carry the
 * writer's stream from *next on, in order; UDP replies counted. */
static void
take_frames(struct fixture *fx, uint32_t iss1, uint32_t *next, int *udp)
{
	while (fx->seen < fx->nout) {
		if (fx->out[fx->seen].b[23] == FJ_IP_PROTO_UDP) {
			expect_next_ipv4(fx, &PEER, FJ_IP_PROTO_UDP);
			(*udp)++;
			continue;
		}
		struct seg g = next_seg(fx);
		assert_int_equal(g.h.seq, iss1 + *next);
		for (uint32_t i = 0; i < g.plen; i++)
			assert_int_equal(g.pl[i], pat(*next + i));
		*next += g.plen;
	}
	checked_all(fx);
}

/*
 * A window larger than the ring and the stack's transmit batch together:
 * once the ring refuses and the batch is down to its reserve, the flow
 * waits with its data in its send queue and sends on as the port takes
 * frames, loop turn by loop turn; nothing is dropped or sent twice, and a
 * UDP reply (which has no queue to wait in) still finds room.
 */
static void
test_a_refusing_port_makes_a_flow_wait_instead_of_dropping(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = hs(fx, 20, 65535, true), ack = fx->peer_iss + 2;
	uint32_t next = 0;
	int udp = 0;

	expect_nothing(fx);
	fx->wr.total = 1000000;
	peer_tcp(fx, 20, fx->peer_iss + 1, iss1, ACK, 65535, NULL, "x");
	/* Slow start, the port sending at once and the peer ACKing every
	 * segment, until a round's ACKs open more than 64 segments (the
	 * batch) and 4 (the ring). */
	uint32_t from = 0;
	for (int round = 0; round < 10; round++) {
		from = next;
		take_frames(fx, iss1, &next, &udp);
		if (next - from >= 64 * 1000)
			break;
		for (uint32_t a = from + 1000; a <= next; a += 1000)
			peer_tcp(fx, 20, ack, iss1 + a, ACK, 65535, NULL, NULL);
	}
	assert_true(next - from >= 64 * 1000);
	/* The ring holds from now on: the last round's ACKs open twice its
	 * size. */
	fj_testport_hold(fx->stack, true);
	uint32_t last = next - from;
	for (uint32_t a = from + 1000; a <= next; a += 1000)
		peer_tcp(fx, 20, ack, iss1 + a, ACK, 65535, NULL, NULL);
	from = next;
	assert_int_equal(fj_testport_waiting(fx->stack), 4);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_port_waits"), 1);
	udp_request(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "drop_tx_full"), 0);
	for (int turn = 0; turn < 400 && fj_testport_waiting(fx->stack) > 0; turn++) {
		fj_testport_transmit(fx->stack, fj_testport_waiting(fx->stack));
		take_frames(fx, iss1, &next, &udp);
		fj_stack_poll(fx->stack);
	}
	assert_int_equal(fj_testport_waiting(fx->stack), 0);
	assert_int_equal(udp, 1);
	/* The whole window went, twice the last round. */
	assert_int_equal(next - from, 2 * last);
	assert_int_equal(fj_stack_counter(fx->stack, "drop_tx_full"), 0);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_retransmits"), 0);
}

#define HOLD_CASE(t, limit) \
	{ #t, t, tcp_setup_holding, teardown, (void *)(uintptr_t)&(limit) }

int
main(void)
{
	const struct CMUnitTest tests[] = {
		HOLD_CASE(test_a_bulk_flow_keeps_its_limit_in_the_port, LIMIT),
		HOLD_CASE(test_without_the_limit_the_window_goes_into_the_port, NO_LIMIT),
		HOLD_CASE(test_the_stack_asks_the_port_for_sent_buffers, LIMIT),
		HOLD_CASE(test_a_full_ring_holds_frames_back_instead_of_dropping_them, SMALL_RING),
		HOLD_CASE(test_a_refusing_port_makes_a_flow_wait_instead_of_dropping, SMALL_RING),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
