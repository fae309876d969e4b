/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP's loss recovery against the scripted peer: the retransmission timer
 * (RFC 6298), slow start and the initial window (RFC 5681, RFC 6928),
 * fast retransmit and NewReno (RFC 5681 §3.2, RFC 6582), SACK-based
 * recovery (RFC 6675).
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

/* ------------------------------------------------------ retransmission timer */

/* RFC 6298 §2.1, §5.5, §5.2: a lost segment goes again at the RTO, which
 * doubles with each expiry; the ACK stops the timer. */
static void
test_lost_data_is_retransmitted_with_backoff(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = open_flow(fx, 7, 65535, true);
	peer_tcp(fx, 7, fx->peer_iss + 1, iss1, ACK, 65535, NULL, "data");
	uint32_t plen;
	struct fj_tcp_hdr d = expect_tcp(fx, ACK | PSH, &plen, NULL);
	assert_int_equal(d.seq, iss1);
	/* No ACK comes: after RTO (1 s before any sample, RFC 6298 §2.1) the
	 * segment goes again, then after 2 s, then 4 s. */
	advance_past(fx, SEC);
	d = expect_tcp(fx, ACK | PSH, &plen, NULL);
	assert_int_equal(d.seq, iss1);
	assert_int_equal(plen, 4);
	advance_past(fx, 2 * SEC);
	expect_tcp(fx, ACK | PSH, NULL, NULL);
	advance(fx, 4 * SEC + 1000);
	expect_tcp(fx, ACK | PSH, NULL, NULL);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_retransmits"), 3);
	/* The ACK ends it. */
	peer_tcp(fx, 7, fx->peer_iss + 5, iss1 + 4, ACK, 65535, NULL, NULL);
	advance(fx, 30 * SEC);
	expect_nothing(fx);
}

/* RFC 6298 §5.5, §2.5: each timeout doubles the RTO up to 60 s; after 12
 * retransmissions the connection is given up: a RST, -ETIMEDOUT. */
static void
test_rto_doubles_to_a_cap_then_gives_up(void **state)
{
	struct fixture *fx = *state;
	fx->wr.total = 100;
	fx->wr.chunk = 100;
	uint32_t iss1 = hs(fx, 20, 65535, true);
	expect_data(fx, iss1, fx->peer_iss + 1, 100, 0);
	uint64_t wait = SEC;
	for (int i = 0; i < 12; i++) {
		advance_fresh(fx, wait - MS);
		expect_nothing(fx);
		advance(fx, 2 * MS);
		expect_data(fx, iss1, fx->peer_iss + 1, 100, 0);
		expect_nothing(fx);
		wait = wait * 2 > 60 * SEC ? 60 * SEC : wait * 2;
	}
	assert_int_equal(wait, 60 * SEC);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_retransmits"), 12);
	advance_fresh(fx, wait - MS);
	expect_nothing(fx);
	advance(fx, 2 * MS);
	struct seg r = next_seg(fx);
	assert_int_equal(r.h.flags & ~ACK, RST);
	assert_int_equal(r.h.seq, iss1 + 100);
	expect_nothing(fx);
	assert_int_equal(fx->wr.err, -ETIMEDOUT);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 0);
	advance_fresh(fx, 60 * SEC);
	advance_fresh(fx, 60 * SEC);
	expect_nothing(fx);
}

/* RFC 6298 §3 (Karn): no RTT sample from a retransmitted segment; the
 * backed-off RTO (2 s) stays for the next segment. */
static void
test_karn_no_sample_from_a_retransmission(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = hs(fx, 7, 65535, true);
	peer_tcp(fx, 7, fx->peer_iss + 1, iss1, ACK | PSH, 65535, NULL, "a");
	expect_seg(fx, ACK | PSH, iss1, fx->peer_iss + 2, 1);
	advance(fx, SEC + MS);
	expect_seg(fx, ACK | PSH, iss1, fx->peer_iss + 2, 1);
	advance(fx, 50 * MS);
	peer_tcp(fx, 7, fx->peer_iss + 2, iss1 + 1, ACK | PSH, 65535, NULL, "b");
	expect_seg(fx, ACK | PSH, iss1 + 1, fx->peer_iss + 3, 1);
	/* A sample of 50 ms would give 200 ms, of 1.05 s over 3 s. */
	advance_past(fx, 2 * SEC);
	expect_seg(fx, ACK | PSH, iss1 + 1, fx->peer_iss + 3, 1);
}

/* RFC 6298 §5 (after 5.7): the first fresh sample recomputes the RTO
 * (after the handshake's 100 ms, a 100 ms sample: SRTT 100 ms, RTTVAR
 * 37.5 ms: 250 ms), collapsing the back-off. */
static void
test_rto_collapses_after_a_fresh_sample(void **state)
{
	struct fixture *fx = *state;
	fx->hs_rtt = 100 * MS;
	uint32_t iss1 = hs(fx, 7, 65535, true);
	peer_tcp(fx, 7, fx->peer_iss + 1, iss1, ACK | PSH, 65535, NULL, "a");
	expect_seg(fx, ACK | PSH, iss1, fx->peer_iss + 2, 1);
	advance(fx, 300 * MS + MS);
	expect_seg(fx, ACK | PSH, iss1, fx->peer_iss + 2, 1); /* RTO now 600 ms */
	peer_tcp(fx, 7, fx->peer_iss + 2, iss1 + 1, ACK | PSH, 65535, NULL, "b");
	expect_seg(fx, ACK | PSH, iss1 + 1, fx->peer_iss + 3, 1);
	advance(fx, 100 * MS);
	/* "b" acknowledged in 100 ms */
	peer_tcp(fx, 7, fx->peer_iss + 3, iss1 + 2, ACK | PSH, 65535, NULL, "c");
	expect_seg(fx, ACK | PSH, iss1 + 2, fx->peer_iss + 4, 1);
	advance_past(fx, 250 * MS);
	expect_seg(fx, ACK | PSH, iss1 + 2, fx->peer_iss + 4, 1);
}

/* RFC 7323 §4.1 (RTTM), RFC 6298 §2.3: the TSecr of an ACK times the
 * round trip, and the sample joins the handshake's in the RTO. */
static void
test_timestamps_time_the_round_trip(void **state)
{
	struct fixture *fx = *state;
	fx->hs_rtt = 100 * MS;
	uint32_t ts;
	uint32_t iss1 = open_flow_ts(fx, 1000, &ts);
	struct fj_tcp_opts o = { .has_ts = true, .tsval = 1005, .tsecr = ts };
	peer_tcp(fx, 7, fx->peer_iss + 1, iss1, ACK | PSH, 65535, &o, "ping");
	struct fj_tcp_hdr d = expect_tcp(fx, ACK | PSH, NULL, NULL);
	/* The echo is acknowledged 100 ms later, its TSval echoed (100.5 ms
	 * at the timestamps' millisecond granularity): after the handshake's
	 * 100 ms, SRTT 100.06 ms, RTTVAR 37.6 ms, RTO 250.6 ms (§2.3). */
	advance(fx, 100000);
	o.tsval = 1105;
	o.tsecr = d.o.tsval;
	peer_tcp(fx, 7, fx->peer_iss + 5, iss1 + 4, ACK | PSH, 65535, &o, "pong");
	d = expect_tcp(fx, ACK | PSH, NULL, NULL);
	/* This one is lost: it goes again after 251 ms, not 1 s. */
	advance(fx, 245000);
	expect_nothing(fx);
	advance(fx, 10000);
	struct fj_tcp_hdr r = expect_tcp(fx, ACK | PSH, NULL, NULL);
	assert_int_equal(r.seq, d.seq);
}

/* RFC 6298 §2 (it permits timing the SYN): a passive open whose
 * handshake took 100 ms starts with RTO 300 ms (SRTT 100, RTTVAR 50),
 * not 1 s: data lost right after it goes again at 300 ms. */
static void
test_handshake_times_the_first_rto_passive(void **state)
{
	struct fixture *fx = *state;
	fx->hs_rtt = 100 * MS;
	uint32_t iss1 = hs(fx, 7, 65535, true);
	peer_tcp(fx, 7, fx->peer_iss + 1, iss1, ACK | PSH, 65535, NULL, "a");
	expect_seg(fx, ACK | PSH, iss1, fx->peer_iss + 2, 1);
	advance_past(fx, 300 * MS);
	expect_seg(fx, ACK | PSH, iss1, fx->peer_iss + 2, 1);
}

/* The same for an active open: our SYN answered in 100 ms. */
static void
test_handshake_times_the_first_rto_active(void **state)
{
	struct fixture *fx = *state;
	fx->client.write_total = 10;
	struct fj_tcp_hdr syn = connect_syn(fx, client_writer);
	advance(fx, 100 * MS);
	from80(fx, 9000, syn.seq + 1, SYN | ACK, 1000, NULL, NULL);
	expect_to80(fx, ACK, syn.seq + 1, 9001, 0);
	expect_to80(fx, ACK | PSH, syn.seq + 1, 9001, 10);
	advance_past(fx, 300 * MS);
	expect_to80(fx, ACK | PSH, syn.seq + 1, 9001, 10);
}

/* RFC 6298 §3 (Karn): a SYN-ACK that went twice gives no sample, however
 * quickly the ACK follows the second; and §5.7: after a SYN timed out,
 * data starts with an RTO of 3 s. */
static void
test_retransmitted_syn_ack_gives_no_sample(void **state)
{
	struct fixture *fx = *state;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000 };
	peer_tcp(fx, 7, fx->peer_iss, 0, SYN, 65535, &o, NULL);
	struct fj_tcp_hdr sa = expect_tcp(fx, SYN | ACK, NULL, NULL);
	advance_past(fx, SEC);
	assert_int_equal(expect_tcp(fx, SYN | ACK, NULL, NULL).seq, sa.seq);
	advance(fx, 10 * MS);
	peer_tcp(fx, 7, fx->peer_iss + 1, sa.seq + 1, ACK, 65535, NULL, NULL);
	peer_tcp(fx, 7, fx->peer_iss + 1, sa.seq + 1, ACK | PSH, 65535, NULL, "a");
	expect_seg(fx, ACK | PSH, sa.seq + 1, fx->peer_iss + 2, 1);
	advance_past(fx, 3 * SEC);
	expect_seg(fx, ACK | PSH, sa.seq + 1, fx->peer_iss + 2, 1);
}

/* RFC 6298 §2.4: the computed RTO has a floor (200 ms here): a 10 ms
 * round trip does not make it 30 ms. */
static void
test_rto_has_a_200ms_floor(void **state)
{
	struct fixture *fx = *state;
	fx->hs_rtt = 10 * MS;
	uint32_t iss1 = hs(fx, 7, 65535, true);
	peer_tcp(fx, 7, fx->peer_iss + 1, iss1, ACK | PSH, 65535, NULL, "a");
	expect_seg(fx, ACK | PSH, iss1, fx->peer_iss + 2, 1);
	advance(fx, 10 * MS);
	peer_tcp(fx, 7, fx->peer_iss + 2, iss1 + 1, ACK | PSH, 65535, NULL, "b");
	expect_seg(fx, ACK | PSH, iss1 + 1, fx->peer_iss + 3, 1);
	advance_past(fx, 200 * MS);
	expect_seg(fx, ACK | PSH, iss1 + 1, fx->peer_iss + 3, 1);
}

/* RFC 5681 §3.1 (4): after a timeout, one segment (cwnd = 1 SMSS), then
 * slow start from there: two when it is acknowledged. */
static void
test_timeout_restarts_from_one_segment(void **state)
{
	struct fixture *fx = *state;
	fx->wr.total = 3000;
	uint32_t iss1 = hs(fx, 20, 65535, true);
	for (uint32_t off = 0; off < 3000; off += 1000)
		expect_data(fx, iss1 + off, fx->peer_iss + 1, 1000, off);
	advance(fx, SEC + MS);
	expect_data(fx, iss1, fx->peer_iss + 1, 1000, 0);
	expect_nothing(fx);
	peer_tcp(fx, 20, fx->peer_iss + 1, iss1 + 1000, ACK, 65535, NULL, NULL);
	expect_data(fx, iss1 + 1000, fx->peer_iss + 1, 1000, 1000);
	expect_data(fx, iss1 + 2000, fx->peer_iss + 1, 1000, 2000);
	expect_nothing(fx);
}

/* ------------------------------------------------------ congestion control */

/* A writer with 40000 bytes for a peer with MSS 1460 and shift 2: what
 * goes before any ACK, ten 1460-byte segments. */
static uint32_t
initial_window_out(struct fixture *fx)
{
	fx->wr.total = 40000;
	fx->wr.chunk = 1460;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1460, .has_ws = true, .ws = 2 };
	uint32_t iss1 = hs_opts(fx, 20, &o, 65535, NULL);
	for (uint32_t i = 0; i < 10; i++)
		expect_data(fx, iss1 + i * 1460, fx->peer_iss + 1, 1460, i * 1460);
	return iss1;
}

/* RFC 6928 §2: the initial window is min(10 MSS, max(2 MSS, 14600)):
 * exactly ten 1460-byte segments before any ACK. */
static void
test_initial_window_is_ten_segments(void **state)
{
	struct fixture *fx = *state;
	initial_window_out(fx);
	expect_nothing(fx);
	advance(fx, 500 * MS);
	expect_nothing(fx);
}

/* RFC 5681 §3.1: in slow start each ACK grows cwnd by at most one SMSS,
 * even when it acknowledges two segments. */
static void
test_slow_start_grows_one_segment_per_ack(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = initial_window_out(fx);
	/* One segment acknowledged: it and one more (cwnd 11). */
	peer_tcp(fx, 20, fx->peer_iss + 1, iss1 + 1460, ACK, 65535, NULL, NULL);
	for (uint32_t i = 10; i < 12; i++)
		expect_data(fx, iss1 + i * 1460, fx->peer_iss + 1, 1460, i * 1460);
	expect_nothing(fx);
	/* Two at once: two replaced and one more (cwnd 12, not 13). */
	peer_tcp(fx, 20, fx->peer_iss + 1, iss1 + 3 * 1460, ACK, 65535, NULL, NULL);
	for (uint32_t i = 12; i < 15; i++)
		expect_data(fx, iss1 + i * 1460, fx->peer_iss + 1, 1460, i * 1460);
	expect_nothing(fx);
}

/* Ten 1000-byte segments out, the first acknowledged. */
static uint32_t
ten_out(struct fixture *fx)
{
	fx->wr.total = 10000;
	uint32_t iss1 = hs(fx, 20, 65535, true);
	for (uint32_t off = 0; off < 10000; off += 1000)
		expect_data(fx, iss1 + off, fx->peer_iss + 1, 1000, off);
	peer_tcp(fx, 20, fx->peer_iss + 1, iss1 + 1000, ACK, 65535, NULL, NULL);
	expect_nothing(fx);
	return iss1;
}

/* RFC 5681 §3.2: two duplicate ACKs are not enough; the third retransmits
 * the segment at SND.UNA; a fourth does not retransmit it again. */
static void
test_fast_retransmit_on_the_third_duplicate_only(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = ten_out(fx);
	for (int i = 0; i < 2; i++)
		peer_tcp(fx, 20, fx->peer_iss + 1, iss1 + 1000, ACK, 65535, NULL, NULL);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_fast_retransmits"), 0);
	peer_tcp(fx, 20, fx->peer_iss + 1, iss1 + 1000, ACK, 65535, NULL, NULL);
	expect_data(fx, iss1 + 1000, fx->peer_iss + 1, 1000, 1000);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_fast_retransmits"), 1);
	peer_tcp(fx, 20, fx->peer_iss + 1, iss1 + 1000, ACK, 65535, NULL, NULL);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_retransmits"), 1);
}

/* RFC 5681 §2 (DUPLICATE ACKNOWLEDGMENT (b)): an ACK that carries data is
 * not a duplicate (without SACK). */
static void
test_acks_carrying_data_are_not_duplicates(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = ten_out(fx);
	const char *m[] = { "x", "y", "z" };
	for (uint32_t i = 0; i < 3; i++)
		peer_tcp(fx, 20, fx->peer_iss + 1 + i, iss1 + 1000, ACK | PSH, 65535, NULL, m[i]);
	expect_ack(fx, iss1 + 10000, fx->peer_iss + 3); /* the second segment's ACK */
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_fast_retransmits"), 0);
	advance(fx, 41 * MS);
	expect_ack(fx, iss1 + 10000, fx->peer_iss + 4);
	expect_nothing(fx);
}

/* RFC 5681 §2 (e): an ACK that changes the window is not a duplicate;
 * three of them trigger nothing, three true duplicates afterwards do. */
static void
test_window_updates_are_not_duplicate_acks(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = ten_out(fx);
	for (uint16_t w = 60001; w <= 60003; w++)
		peer_tcp(fx, 20, fx->peer_iss + 1, iss1 + 1000, ACK, w, NULL, NULL);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_fast_retransmits"), 0);
	for (int i = 0; i < 2; i++)
		peer_tcp(fx, 20, fx->peer_iss + 1, iss1 + 1000, ACK, 60003, NULL, NULL);
	expect_nothing(fx);
	peer_tcp(fx, 20, fx->peer_iss + 1, iss1 + 1000, ACK, 60003, NULL, NULL);
	expect_data(fx, iss1 + 1000, fx->peer_iss + 1, 1000, 1000);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_fast_retransmits"), 1);
}

/* RFC 5681 §3.2, RFC 6582 §3.2 (NewReno): the third duplicate ACK
 * retransmits at once, a partial ACK the next hole at once; the full ACK
 * ends recovery. */
static void
test_three_duplicate_acks_trigger_fast_retransmit(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = open_flow(fx, 7, 65535, true);
	/* Four segments echoed back: 4 x 5 bytes in flight. */
	const char *msgs[] = { "aaaaa", "bbbbb", "ccccc", "ddddd" };
	uint32_t seq = fx->peer_iss + 1;
	for (int i = 0; i < 4; i++) {
		peer_tcp(fx, 7, seq, iss1, ACK | PSH, 65535, NULL, msgs[i]);
		seq += 5;
		expect_tcp(fx, ACK | PSH, NULL, NULL);
	}
	/* The peer got the first, lost the second: its ACK, then three
	 * duplicates of it (RFC 5681 §3.2). */
	for (int i = 0; i < 4; i++) {
		peer_tcp(fx, 7, seq, iss1 + 5, ACK, 65535, NULL, NULL);
		if (i < 3)
			expect_nothing(fx);
	}
	uint32_t plen;
	const uint8_t *pl;
	/* The hole goes again at once (repacketized with what follows it). */
	struct fj_tcp_hdr r = expect_tcp(fx, ACK, &plen, &pl);
	assert_int_equal(r.seq, iss1 + 5);
	assert_int_equal(plen, 15);
	assert_memory_equal(pl, "bbbbbcccccddddd", 15);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_fast_retransmits"), 1);
	/* A partial ACK (RFC 6582): the next hole goes at once too. */
	peer_tcp(fx, 7, seq, iss1 + 10, ACK, 65535, NULL, NULL);
	r = expect_tcp(fx, ACK, &plen, &pl);
	assert_int_equal(r.seq, iss1 + 10);
	assert_memory_equal(pl, "cccccddddd", 10);
	/* The full ACK ends recovery; nothing is outstanding. */
	peer_tcp(fx, 7, seq, iss1 + 20, ACK, 65535, NULL, NULL);
	expect_nothing(fx);
	advance(fx, 10 * SEC);
	expect_nothing(fx);
}

/* ------------------------------------------------------ SACK recovery */

/* RFC 6675 §5, RFC 2018 §3: recovery retransmits only what the SACK
 * blocks say is missing, hole by hole. */
static void
test_sack_scoreboard_retransmits_only_the_holes(void **state)
{
	struct fixture *fx = *state;
	struct fj_tcp_opts so = { .has_mss = true, .mss = 1460, .sack_perm = true };
	uint32_t iss1 = hs_opts(fx, 7, &so, 65535, NULL);
	const char *msgs[] = { "aaaaa", "bbbbb", "ccccc", "ddddd", "eeeee" };
	uint32_t seq = fx->peer_iss + 1;
	for (int i = 0; i < 5; i++) {
		peer_tcp(fx, 7, seq, iss1, ACK | PSH, 65535, NULL, msgs[i]);
		seq += 5;
		expect_tcp(fx, ACK | PSH, NULL, NULL);
	}
	/* The peer has a, c and e: b and d are holes. */
	peer_tcp(fx, 7, seq, iss1 + 5, ACK, 65535, NULL, NULL);
	struct fj_tcp_opts o = { .nsack = 1, .sack = { { iss1 + 10, iss1 + 15 } } };
	peer_tcp(fx, 7, seq, iss1 + 5, ACK, 65535, &o, NULL);
	o.nsack = 2;
	o.sack[0] = (struct fj_sack_block){ iss1 + 20, iss1 + 25 };
	o.sack[1] = (struct fj_sack_block){ iss1 + 10, iss1 + 15 };
	peer_tcp(fx, 7, seq, iss1 + 5, ACK, 65535, &o, NULL);
	expect_nothing(fx);
	peer_tcp(fx, 7, seq, iss1 + 5, ACK, 65535, &o, NULL); /* third duplicate */
	uint32_t plen;
	const uint8_t *pl;
	struct fj_tcp_hdr r = expect_tcp(fx, ACK, &plen, &pl);
	assert_int_equal(r.seq, iss1 + 5);
	assert_int_equal(plen, 5); /* only the hole, not what the peer has */
	assert_memory_equal(pl, "bbbbb", 5);
	/* The partial ACK up to c: the next hole, d, alone. */
	o.nsack = 1;
	peer_tcp(fx, 7, seq, iss1 + 15, ACK, 65535, &o, NULL);
	r = expect_tcp(fx, ACK, &plen, &pl);
	assert_int_equal(r.seq, iss1 + 15);
	assert_int_equal(plen, 5);
	assert_memory_equal(pl, "ddddd", 5);
	peer_tcp(fx, 7, seq, iss1 + 25, ACK, 65535, NULL, NULL);
	expect_nothing(fx);
	/* A block outside what was sent is ignored (RFC 6675 §5). */
	o.sack[0] = (struct fj_sack_block){ iss1 + 100, iss1 + 200 };
	peer_tcp(fx, 7, seq, iss1 + 25, ACK, 65535, &o, NULL);
	expect_nothing(fx);
}

/* On accept, 15 segments' worth of data (1000-byte buffers). */
static void
source_app(struct fj_flow *f, void *arg)
{
	struct fixture *fx = arg;
	if (fj_flow_user(f) != NULL)
		return;
	fj_flow_set_user(f, f);
	for (int i = 0; i < 15; i++) {
		struct fj_buf *b = fj_buf_alloc(fx->stack, 1000);
		memset(fj_buf_data(b), 'a' + i, 1000);
		assert_int_equal(fj_flow_write(f, b), 0);
	}
}

/* RFC 6675 §5: recovery by the pipe. One segment of ten is lost; the
 * scoreboard marks it lost, it goes once, and new data is sent only as
 * the pipe drains below cwnd = ssthresh = FlightSize / 2. */
static void
test_sack_recovery_is_paced_by_the_pipe(void **state)
{
	struct fixture *fx = *state;
	assert_non_null(fj_listen_tcp(fx->stack, 14, source_app, fx));
	uint32_t iss1 = hs_sack(fx, 14), plen;
	/* The initial window: ten segments (RFC 6928). */
	for (int i = 0; i < 10; i++) {
		/* (the writes went together at the callback's end: no PSH
		 * before the last byte) */
		struct fj_tcp_hdr d = expect_tcp(fx, ACK, &plen, NULL);
		assert_int_equal(d.seq, iss1 + 1000u * i);
		assert_int_equal(plen, 1000);
	}
	expect_nothing(fx);
	/* The first is lost; the peer SACKs the others one by one. */
	struct fj_tcp_opts o = { .nsack = 1 };
	for (uint32_t k = 2; k <= 10; k++) {
		o.sack[0] = (struct fj_sack_block){ iss1 + 1000, iss1 + 1000 * k };
		peer_tcp(fx, 14, fx->peer_iss + 1, iss1, ACK, 65535, &o, NULL);
		if (k < 4) {
			expect_nothing(fx); /* two duplicates, 2000 bytes SACKed: not yet */
		} else if (k == 4) {
			/* Third duplicate (and 3000 bytes above it): the hole goes
			 * again, and nothing else while pipe >= cwnd - SMSS. */
			struct fj_tcp_hdr r = expect_tcp(fx, ACK, &plen, NULL);
			assert_int_equal(r.seq, iss1);
			assert_int_equal(plen, 1000);
			assert_int_equal(fj_stack_counter(fx->stack, "tcp_sack_recoveries"), 1);
			expect_nothing(fx);
		} else if (k < 7) {
			/* pipe = 1000 (the retransmission) + 10000 - 1000 k */
			expect_nothing(fx);
		} else {
			/* cwnd 5000 - pipe >= 1000: one new segment per ACK. */
			struct fj_tcp_hdr n = expect_tcp(fx, ACK, &plen, NULL);
			assert_int_equal(n.seq, iss1 + 10000 + 1000 * (k - 7));
			assert_int_equal(plen, 1000);
			expect_nothing(fx);
		}
	}
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_retransmits"), 1);
	/* The retransmission arrives: everything up to the recovery point.
	 * Recovery ends; cwnd = ssthresh allows the rest. */
	peer_tcp(fx, 14, fx->peer_iss + 1, iss1 + 10000, ACK, 65535, NULL, NULL);
	struct fj_tcp_hdr n = expect_tcp(fx, ACK | PSH, &plen, NULL);
	assert_int_equal(n.seq, iss1 + 14000);
	expect_nothing(fx); /* 4000 in flight + 1000 = cwnd */
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_retransmits"), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		/* retransmission timer */
		TCP_CASE(test_lost_data_is_retransmitted_with_backoff),
		TCP_CASE(test_rto_doubles_to_a_cap_then_gives_up),
		TCP_CASE(test_karn_no_sample_from_a_retransmission),
		TCP_CASE(test_rto_collapses_after_a_fresh_sample),
		TCP_CASE(test_timestamps_time_the_round_trip),
		TCP_CASE(test_rto_has_a_200ms_floor),
		TCP_CASE(test_handshake_times_the_first_rto_passive),
		TCP_CASE(test_handshake_times_the_first_rto_active),
		TCP_CASE(test_retransmitted_syn_ack_gives_no_sample),
		TCP_CASE(test_timeout_restarts_from_one_segment),
		/* congestion control */
		TCP_CASE(test_initial_window_is_ten_segments),
		TCP_CASE(test_slow_start_grows_one_segment_per_ack),
		TCP_CASE(test_fast_retransmit_on_the_third_duplicate_only),
		TCP_CASE(test_acks_carrying_data_are_not_duplicates),
		TCP_CASE(test_window_updates_are_not_duplicate_acks),
		TCP_CASE(test_three_duplicate_acks_trigger_fast_retransmit),
		/* SACK recovery */
		TCP_CASE(test_sack_scoreboard_retransmits_only_the_holes),
		TCP_CASE(test_sack_recovery_is_paced_by_the_pipe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
