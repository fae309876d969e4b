/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Segments larger than the MSS against the scripted peer. Received: what a
 * port hands up after LRO (or a jumbo frame), taken whole, with the ACK
 * (RFC 5681 §4.2), SACK (RFC 2018) and window (RFC 9293 §3.10.7.4)
 * accounting of their bytes. Sent: TSO on the test port, which cuts a
 * large segment into MSS frames as a NIC would; what goes within the
 * peer's window (RFC 9293 §3.8.6.2.1), and what is resent when a piece of
 * a large segment is lost (RFC 6675).
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

/* ------------------------------------------------------ received */

/* A coalesced segment of 8 MSS: taken whole, read byte-exact, and ACKed
 * at once (it stands for more than one full segment, RFC 5681 §4.2). */
static void
test_a_large_segment_is_taken_whole_and_acked_at_once(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = hs(fx, 22, 65535, true);
	peer_big(fx, 22, fx->peer_iss + 1, iss1, 65535, 8000, 0, NULL);
	expect_ack(fx, iss1, fx->peer_iss + 8001);
	drain_acks(fx, fx->peer_iss + 8001);
	assert_int_equal(fx->obs.bytes, 8000);
	assert_int_equal(fx->obs.not_pat, 0);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_rx_large_segs"), 1);
	/* An MSS-sized one after it waits for the delayed ACK as usual. */
	peer_big(fx, 22, fx->peer_iss + 8001, iss1, 65535, 1000, 8000, NULL);
	expect_nothing(fx);
	advance(fx, 500 * MS);
	expect_ack(fx, iss1, fx->peer_iss + 9001);
	assert_int_equal(fx->obs.not_pat, 0);
}

/* A large segment that runs past the right edge of our window: the part
 * inside is taken, the rest dropped, the ACK names the edge with the
 * window closed (RFC 9293 §3.10.7.4: "trim to the window"). */
static void
test_a_large_segment_past_the_window_is_trimmed_to_it(void **state)
{
	struct fixture *fx = *state;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000, .has_ws = true, .ws = 2 };
	struct fj_tcp_hdr sa;
	uint32_t iss1 = handshake(fx, 21, &o, 65535, 65535, &sa);
	assert_true(sa.o.has_ws);
	uint32_t seq = fx->peer_iss + 1, edge = seq;
	/* Port 21 never reads: the window only closes. Fill most of it. */
	for (int i = 0; i < 4; i++) {
		peer_big(fx, 21, seq, iss1, 65535, 60000, seq - fx->peer_iss - 1, NULL);
		seq += 60000;
		struct fj_tcp_hdr a = expect_ack(fx, iss1, seq);
		edge = seq + ((uint32_t)a.wnd << sa.o.ws);
		drain_acks(fx, seq);
	}
	assert_true((int32_t)(edge - seq) > 0);
	uint32_t room = edge - seq;
	assert_true(room < 60000);
	peer_big(fx, 21, seq, iss1, 65535, room + 3000, seq - fx->peer_iss - 1, NULL);
	struct fj_tcp_hdr a = expect_ack(fx, iss1, edge);
	assert_int_equal(a.wnd, 0);
	drain_acks(fx, edge);
	/* What lay past the edge comes again once the window opens; the
	 * bytes that did come are in the flow, in order. */
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_rx_large_segs"), 5);
	assert_non_null(fx->lazy_flow);
	uint32_t got = 0, bad = 0;
	struct fj_buf *b;
	while (fj_flow_read(fx->lazy_flow, &b) == FJ_DATA) {
		for (struct fj_buf *s = b; s != NULL; s = fj_buf_next(s)) {
			const uint8_t *p = fj_buf_data(s);
			for (uint32_t i = 0; i < fj_buf_len(s); i++, got++)
				bad += p[i] != pat(got);
		}
		fj_buf_free(b);
	}
	assert_int_equal(got, edge - fx->peer_iss - 1);
	assert_int_equal(bad, 0);
}

/* Large out-of-order segments are SACKed as one block each, merged as
 * they touch, and the hole's arrival takes everything at once (RFC 2018
 * §4; RFC 5681 §4.2: the ACKs for out-of-order data and for the filled
 * hole go at once). */
static void
test_sack_blocks_cover_large_out_of_order_segments(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = hs_sack(fx, 22), base = fx->peer_iss + 1;
	peer_big(fx, 22, base + 1000, iss1, 65535, 8000, 1000, NULL);
	struct fj_tcp_hdr a = expect_ack(fx, iss1, base);
	assert_int_equal(a.o.nsack, 1);
	assert_int_equal(a.o.sack[0].left, base + 1000);
	assert_int_equal(a.o.sack[0].right, base + 9000);
	peer_big(fx, 22, base + 9000, iss1, 65535, 8000, 9000, NULL);
	a = expect_ack(fx, iss1, base);
	assert_int_equal(a.o.nsack, 1);
	assert_int_equal(a.o.sack[0].left, base + 1000);
	assert_int_equal(a.o.sack[0].right, base + 17000);
	/* A later one with a gap: its own block, first. */
	peer_big(fx, 22, base + 20000, iss1, 65535, 5000, 20000, NULL);
	a = expect_ack(fx, iss1, base);
	assert_int_equal(a.o.nsack, 2);
	assert_int_equal(a.o.sack[0].left, base + 20000);
	assert_int_equal(a.o.sack[0].right, base + 25000);
	assert_int_equal(a.o.sack[1].left, base + 1000);
	assert_int_equal(a.o.sack[1].right, base + 17000);
	expect_nothing(fx);
	assert_int_equal(fx->obs.bytes, 0);
	/* The first hole fills: up to the second hole, one block left. */
	peer_big(fx, 22, base, iss1, 65535, 1000, 0, NULL);
	a = expect_ack(fx, iss1, base + 17000);
	assert_int_equal(a.o.nsack, 1);
	assert_int_equal(a.o.sack[0].left, base + 20000);
	drain_acks(fx, base + 17000);
	assert_int_equal(fx->obs.bytes, 17000);
	/* The second, as a large segment overlapping both of its sides. */
	peer_big(fx, 22, base + 16000, iss1, 65535, 10000, 16000, NULL);
	a = expect_ack(fx, iss1, base + 26000);
	assert_int_equal(a.o.nsack, 0);
	drain_acks(fx, base + 26000);
	assert_int_equal(fx->obs.bytes, 26000);
	assert_int_equal(fx->obs.not_pat, 0);
}

/* ------------------------------------------------------ received, GRO */

/* The peer's @n segments of 1000 bytes to the observer (port 22) from
 * stream offset @off, as one receive burst: IP IDs counting up, ACK only,
 * except @psh (PSH too) and @bad (a wrong checksum), -1 for none. */
static void
peer_burst_lens(struct fixture *fx, uint32_t iss1, uint32_t off, const uint32_t *lens,
		unsigned n, int psh, int bad)
{
	static uint8_t frames[8][1100];
	const uint8_t *f[8];
	uint32_t len[8];
	uint8_t data[1000];

	assert_true(n <= 8);
	for (unsigned i = 0; i < n; i++) {
		assert_true(lens[i] <= sizeof(data));
		for (uint32_t k = 0; k < lens[i]; k++)
			data[k] = pat(off + k);
		struct pseg p = { .dport = 22, .seq = fx->peer_iss + 1 + off,
				  .ack = iss1, .flags = (uint8_t)(ACK | ((int)i == psh ? PSH : 0)),
				  .wnd = 65535, .data = data, .len = lens[i],
				  .bad_csum = (int)i == bad, .ip_id = (uint16_t)(100 + off / 1000 + i) };
		len[i] = mk_seg(frames[i], &p, sizeof(frames[i]));
		f[i] = frames[i];
		off += lens[i];
	}
	fj_stack_input_burst(fx->stack, f, len, n);
}

static void
peer_burst(struct fixture *fx, uint32_t iss1, uint32_t off, unsigned n, int psh, int bad)
{
	const uint32_t lens[8] = { 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000 };
	peer_burst_lens(fx, iss1, off, lens, n, psh, bad);
}

/* Eight segments in one burst on a port without LRO: rte_gro merges them,
 * and TCP takes one segment of 8,000 bytes, ACKed at once. */
static void
test_gro_merges_a_burst_into_one_segment(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = hs(fx, 22, 65535, true);
	peer_burst(fx, iss1, 0, 8, -1, -1);
	expect_ack(fx, iss1, fx->peer_iss + 8001);
	drain_acks(fx, fx->peer_iss + 8001);
	assert_int_equal(fj_stack_counter(fx->stack, "gro_merged"), 7);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_rx_large_segs"), 1);
	assert_int_equal(fx->obs.bytes, 8000);
	assert_int_equal(fx->obs.not_pat, 0);
}

/*
 * A short segment then full ones: rte_gro's merged chain starts with the
 * short one's few bytes of payload, so its first segment is shorter than
 * the longest headers could be. The stack pulls the headers up and takes
 * the whole (it once dropped such a chain, and its retransmission, which
 * GRO merged the same way, again and again).
 */
static void
test_gro_chain_with_a_short_head_is_taken(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = hs(fx, 22, 65535, true);
	const uint32_t lens[3] = { 29, 971, 1000 };
	peer_burst_lens(fx, iss1, 0, lens, 3, -1, -1);
	expect_ack(fx, iss1, fx->peer_iss + 2001);
	drain_acks(fx, fx->peer_iss + 2001);
	assert_int_equal(fj_stack_counter(fx->stack, "gro_merged"), 2);
	assert_int_equal(fj_stack_counter(fx->stack, "drop_oversize"), 0);
	assert_int_equal(fx->obs.bytes, 2000);
	assert_int_equal(fx->obs.not_pat, 0);
	/* A middle piece shorter than what the head lacks is taken whole and
	 * its segment freed. */
	const uint32_t lens2[4] = { 10, 20, 970, 1000 };
	peer_burst_lens(fx, iss1, 2000, lens2, 4, -1, -1);
	expect_ack(fx, iss1, fx->peer_iss + 4001);
	drain_acks(fx, fx->peer_iss + 4001);
	assert_int_equal(fj_stack_counter(fx->stack, "gro_merged"), 5);
	assert_int_equal(fj_stack_counter(fx->stack, "drop_oversize"), 0);
	assert_int_equal(fx->obs.bytes, 4000);
	assert_int_equal(fx->obs.not_pat, 0);
}

/*
 * What rte_gro does not take (PSH set, a bad checksum) keeps its place in
 * the burst: the merged runs on either side of it stay in order, and the
 * segment with the bad checksum is dropped by TCP's own check (counted),
 * not merged into its neighbours.
 */
static void
test_gro_keeps_the_order_around_what_it_cannot_merge(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = hs(fx, 22, 65535, true);
	peer_burst(fx, iss1, 0, 5, 2, -1);
	/* ACKs as the pieces are taken, in order, the last for all. */
	uint32_t last = 0;
	while (fx->seen < fx->nout) {
		struct seg g = next_seg(fx);
		assert_int_equal(g.plen, 0);
		assert_true(last == 0 || (int32_t)(g.h.ack - last) > 0);
		last = g.h.ack;
	}
	assert_int_equal(last, fx->peer_iss + 5001);
	assert_int_equal(fj_stack_counter(fx->stack, "gro_merged"), 2);
	assert_int_equal(fx->obs.bytes, 5000);
	assert_int_equal(fx->obs.not_pat, 0);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_ooo_dropped"), 0);
	/* 5000..7999, the middle one corrupt: 5000 arrives, 7000 waits out
	 * of order, 6000 is dropped for its checksum. */
	peer_burst(fx, iss1, 5000, 3, -1, 1);
	assert_int_equal(fj_stack_counter(fx->stack, "drop_tcp_checksum"), 1);
	assert_int_equal(fx->obs.bytes, 6000);
	/* The peer resends it: everything is there, in order. */
	peer_burst(fx, iss1, 6000, 1, -1, -1);
	assert_int_equal(fx->obs.bytes, 8000);
	assert_int_equal(fx->obs.not_pat, 0);
}

/* ------------------------------------------------------ sent (TSO) */

/* The peer's window: 5,500 bytes (1375 << 2) over MSS 1000. */
#define PWND 1375

/* Handshake to the writer (port 20) with MSS 1000, window shift 2 and
 * SACK; the writer has @total bytes to send. Returns our ISS + 1. */
static uint32_t
tso_flow(struct fixture *fx, uint32_t total)
{
	fx->wr.total = total;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000, .has_ws = true, .ws = 2,
				 .sack_perm = true };
	struct fj_tcp_hdr sa;
	return handshake(fx, 20, &o, 65535, PWND, &sa);
}

/* The test port's frames of one large segment: MSS pieces of pat() from
 * stream offset @from to @to, then nothing more. */
static void
expect_pieces(struct fixture *fx, uint32_t iss1, uint32_t ack, uint32_t from, uint32_t to)
{
	for (uint32_t off = from; off < to; off += 1000)
		expect_data(fx, iss1 + off, ack, 1000, off);
	expect_nothing(fx);
}

/*
 * With TSO the sender fills the peer's window in one large segment of
 * whole MSS (the port cuts it into frames of the MSS); the 500 bytes the
 * window leaves past the last whole MSS wait (sender SWS avoidance,
 * RFC 9293 §3.8.6.2.1: less than a segment and than half the largest
 * window), and go once the window moves.
 */
static void
test_tso_fills_the_window_in_whole_segments(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = tso_flow(fx, 20000), ack = fx->peer_iss + 1;
	/* The writer's 20 writes of one callback: one segment. */
	expect_pieces(fx, iss1, ack, 0, 5000);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_tso_segs"), 1);
	/* The window moves by 5,000: the next 5 MSS, again as one. */
	peer_tcp(fx, 20, ack, iss1 + 5000, ACK, PWND, NULL, NULL);
	expect_pieces(fx, iss1, ack, 5000, 10000);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_tso_segs"), 2);
}

/*
 * A piece of a large segment is lost: the peer SACKs what came after it,
 * and the sender resends that piece alone, one MSS from the send queue's
 * buffers (RFC 6675 §5: IsLost once more than two segments are SACKed
 * above it), not the whole large segment.
 */
static void
test_a_lost_piece_of_a_large_segment_is_resent_alone(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = tso_flow(fx, 5000), ack = fx->peer_iss + 1;
	expect_pieces(fx, iss1, ack, 0, 5000);
	uint64_t tso = fj_stack_counter(fx->stack, "tcp_tso_segs");
	assert_int_equal(tso, 1);
	/* The piece at 1000 was lost; 0 and 2000..5000 came. */
	struct fj_tcp_opts o = { .nsack = 1 };
	o.sack[0].left = iss1 + 2000;
	o.sack[0].right = iss1 + 3000;
	peer_tcp(fx, 20, ack, iss1 + 1000, ACK, PWND, &o, NULL);
	o.sack[0].right = iss1 + 4000;
	peer_tcp(fx, 20, ack, iss1 + 1000, ACK, PWND, &o, NULL);
	o.sack[0].right = iss1 + 5000;
	peer_tcp(fx, 20, ack, iss1 + 1000, ACK, PWND, &o, NULL);
	expect_data(fx, iss1 + 1000, ack, 1000, 1000);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_fast_retransmits"), 1);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_tso_segs"), tso);
	/* Its ACK covers everything: nothing more to send. */
	peer_tcp(fx, 20, ack, iss1 + 5000, ACK, PWND, NULL, NULL);
	advance(fx, 5 * SEC);
	expect_nothing(fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TCP_CASE(test_a_large_segment_is_taken_whole_and_acked_at_once),
		TCP_CASE(test_a_large_segment_past_the_window_is_trimmed_to_it),
		TCP_CASE(test_sack_blocks_cover_large_out_of_order_segments),
		GRO_CASE(test_gro_merges_a_burst_into_one_segment),
		GRO_CASE(test_gro_keeps_the_order_around_what_it_cannot_merge),
		GRO_CASE(test_gro_chain_with_a_short_head_is_taken),
		TSO_CASE(test_tso_fills_the_window_in_whole_segments),
		TSO_CASE(test_a_lost_piece_of_a_large_segment_is_resent_alone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
