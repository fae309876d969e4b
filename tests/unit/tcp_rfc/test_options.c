/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP options against the scripted peer: MSS (RFC 9293 §3.7.1), window
 * scaling (RFC 7323 §2), timestamps and PAWS (RFC 7323 §3 to §5).
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

/* ------------------------------------------------------ window scale */

/* RFC 7323 §2.2: the window of a SYN-ACK is never scaled; after it, ours
 * is (shift 7) and its right edge is where the buffer ends. */
static void
test_syn_ack_window_is_unscaled_then_scaled(void **state)
{
	struct fixture *fx = *state;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000, .has_ws = true, .ws = 2 };
	struct fj_tcp_hdr sa;
	uint32_t iss1 = hs_opts(fx, 10, &o, 65535, &sa);
	assert_int_equal(sa.wnd, 65535);
	assert_true(sa.o.has_ws);
	assert_int_equal(sa.o.ws, 7);
	peer_tcp(fx, 10, fx->peer_iss + 1, iss1, ACK | PSH, 65535, NULL, "abc");
	advance(fx, 50 * MS);
	struct fj_tcp_hdr a = expect_ack(fx, iss1, fx->peer_iss + 4);
	uint32_t edge = a.ack + ((uint32_t)a.wnd << 7);
	/* The edge is the buffer's (to the scale's 128-byte precision). */
	assert_true(edge <= fx->peer_iss + 1 + RCVBUF && edge + 128 > fx->peer_iss + 1 + RCVBUF);
	expect_nothing(fx);
}

/* RFC 7323 §2.2: no window scale option from the peer: our windows are
 * never scaled (at most 65535) and their right edge does not creep. */
static void
test_without_peer_window_scale_our_window_is_unscaled(void **state)
{
	struct fixture *fx = *state;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000 };
	struct fj_tcp_hdr sa;
	uint32_t iss1 = hs_opts(fx, 10, &o, 65535, &sa);
	assert_false(sa.o.has_ws);
	assert_int_equal(sa.wnd, 65535);
	peer_tcp(fx, 10, fx->peer_iss + 1, iss1, ACK | PSH, 65535, NULL, "abc");
	advance(fx, 50 * MS);
	struct fj_tcp_hdr a = expect_ack(fx, iss1, fx->peer_iss + 4);
	assert_int_equal(a.ack + a.wnd, fx->peer_iss + 1 + 65535);
	expect_nothing(fx);
}

/* RFC 7323 §2.3: the peer's shift (2) applies to every window after its
 * SYN: a field of 2 means 8 bytes. */
static void
test_peer_window_scale_is_applied(void **state)
{
	struct fixture *fx = *state;
	/* The peer's shift is 2: a window field of 2 means 8 bytes. */
	uint32_t iss1 = open_flow(fx, 7, 2, true);
	peer_tcp(fx, 7, fx->peer_iss + 1, iss1, ACK, 2, NULL, "0123456789abcdef");
	uint32_t plen;
	expect_tcp(fx, ACK, &plen, NULL);
	assert_int_equal(plen, 8);
	expect_nothing(fx);
}

/* Peer window @field under shift @ws (peer MSS 1000): exactly @bytes go. */
static void
window_case(struct fixture *fx, uint8_t ws, uint16_t field, uint32_t bytes)
{
	fx->wr.total = 10000;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000, .has_ws = true, .ws = ws };
	struct fj_tcp_hdr sa;
	uint32_t iss1 = hs_opts(fx, 20, &o, field, &sa);
	assert_int_equal(sa.o.ws, 7);
	for (uint32_t off = 0; off < bytes; off += 1000) {
		struct fj_tcp_hdr d = expect_data(fx, iss1 + off, fx->peer_iss + 1, 1000, off);
		assert_int_equal(d.wnd, RCVBUF >> 7); /* ours is scaled */
	}
	expect_nothing(fx);
}

/* RFC 7323 §2.3: shift 0 is valid (scaling on, factor 1). */
static void
test_peer_window_shift_0(void **state)
{
	struct fixture *fx = *state;
	window_case(fx, 0, 3000, 3000);
}

/* RFC 7323 §2.3: shift 1: a field of 1500 means 3000 bytes. */
static void
test_peer_window_shift_1(void **state)
{
	struct fixture *fx = *state;
	window_case(fx, 1, 1500, 3000);
}

/* Peer MSS 1460 and shift @ws, window field 1: the sender never passes
 * SND.UNA + 16384 once the congestion window is larger. */
static void
window_shift_14_case(struct fixture *fx, uint8_t ws)
{
	fx->wr.total = 40000;
	fx->wr.chunk = 1460;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1460, .has_ws = true, .ws = ws };
	uint32_t iss1 = hs_opts(fx, 20, &o, 1, NULL);
	for (uint32_t i = 0; i < 10; i++) /* IW10: 14600 <= 16384 */
		expect_data(fx, iss1 + i * 1460, fx->peer_iss + 1, 1460, i * 1460);
	expect_nothing(fx);
	peer_tcp(fx, 20, fx->peer_iss + 1, iss1 + 1460, ACK, 1, NULL, NULL);
	expect_data(fx, iss1 + 14600, fx->peer_iss + 1, 1460, 14600);
	expect_data(fx, iss1 + 16060, fx->peer_iss + 1, 1460, 16060);
	expect_nothing(fx);
	/* cwnd is now 17520 > 16384: the window is the limit. */
	peer_tcp(fx, 20, fx->peer_iss + 1, iss1 + 2920, ACK, 1, NULL, NULL);
	expect_data(fx, iss1 + 17520, fx->peer_iss + 1, 1460, 17520);
	while (fx->seen < fx->nout) {
		struct seg s = next_seg(fx);
		assert_true(s.h.seq - iss1 + s.plen <= 2920 + 16384);
	}
}

/* RFC 7323 §2.3: shift 14, the largest: a field of 1 is 16384 bytes. */
static void
test_peer_window_shift_14(void **state)
{
	struct fixture *fx = *state;
	window_shift_14_case(fx, 14);
}

/* RFC 7323 §2.3: a shift above 14 MUST be used as 14. */
static void
test_peer_window_shift_above_14_is_used_as_14(void **state)
{
	struct fixture *fx = *state;
	window_shift_14_case(fx, 15);
}

/* ------------------------------------------------------ MSS */

/* The peer's SYN @o (window 0 after it); the writer queues 3000 bytes;
 * the window opens: the segment sizes. */
static uint32_t
mss_case(struct fixture *fx, const struct fj_tcp_opts *o)
{
	fx->wr.total = 3000;
	uint32_t iss1 = hs_opts(fx, 20, o, 0, NULL);
	expect_nothing(fx); /* a closed window */
	struct fj_tcp_opts t = { .has_ts = o->has_ts, .tsval = o->tsval + 2 };
	peer_tcp(fx, 20, fx->peer_iss + 1, iss1, ACK, 65535, &t, NULL);
	return iss1;
}

static void
expect_sizes(struct fixture *fx, uint32_t iss1, const uint32_t *sizes, int n)
{
	uint32_t off = 0;
	for (int i = 0; i < n; i++) {
		expect_data(fx, iss1 + off, fx->peer_iss + 1, sizes[i], off);
		off += sizes[i];
	}
	expect_nothing(fx);
}

/* RFC 9293 §3.7.1: no MSS option: 536 bytes. */
static void
test_no_mss_option_means_536(void **state)
{
	struct fixture *fx = *state;
	struct fj_tcp_opts o = { 0 };
	uint32_t iss1 = mss_case(fx, &o);
	const uint32_t sizes[] = { 536, 536, 536, 536, 536, 320 };
	expect_sizes(fx, iss1, sizes, 6);
}

/* RFC 9293 §3.7.1: the peer's MSS below ours limits our segments. */
static void
test_peer_mss_limits_our_segments(void **state)
{
	struct fixture *fx = *state;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 700 };
	uint32_t iss1 = mss_case(fx, &o);
	const uint32_t sizes[] = { 700, 700, 700, 700, 200 };
	expect_sizes(fx, iss1, sizes, 5);
}

/* RFC 9293 §3.7.1: a peer MSS above our MTU's: ours (1460) holds. */
static void
test_large_peer_mss_is_capped_by_our_mtu(void **state)
{
	struct fixture *fx = *state;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 9000 };
	uint32_t iss1 = mss_case(fx, &o);
	const uint32_t sizes[] = { 1460, 1460, 80 };
	expect_sizes(fx, iss1, sizes, 3);
}

/* RFC 9293 §3.7.1 (Eff.snd.MSS counts TCP options), RFC 7323: with
 * timestamps each segment carries 12 bytes less data. */
static void
test_timestamps_take_room_from_each_segment(void **state)
{
	struct fixture *fx = *state;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000, .has_ts = true, .tsval = 100 };
	uint32_t iss1 = mss_case(fx, &o);
	const uint32_t sizes[] = { 988, 988, 988, 36 };
	uint32_t off = 0;
	for (int i = 0; i < 4; i++) {
		struct fj_tcp_hdr d = expect_data(fx, iss1 + off, fx->peer_iss + 1, sizes[i], off);
		assert_true(d.o.has_ts);
		assert_int_equal(d.o.tsecr, 102);
		off += sizes[i];
	}
	expect_nothing(fx);
}

/* ------------------------------------------------------ timestamps */

/* RFC 7323 §4.3 (C): an out-of-order segment does not update TS.Recent
 * (its SEQ is beyond Last.ACK.sent); the segment filling the hole does,
 * and its TSval is echoed. */
static void
test_ts_echo_after_out_of_order_and_gap_fill(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = hs_ts(fx, 10, false);
	struct fj_tcp_opts o = ts(1010);
	peer_tcp(fx, 10, fx->peer_iss + 11, iss1, ACK, 65535, &o, "later");
	struct fj_tcp_hdr a = expect_ack(fx, iss1, fx->peer_iss + 1);
	assert_int_equal(a.o.tsecr, 1001);
	o = ts(1005);
	peer_tcp(fx, 10, fx->peer_iss + 1, iss1, ACK, 65535, &o, "0123456789");
	a = expect_ack(fx, iss1, fx->peer_iss + 16);
	assert_int_equal(a.o.tsecr, 1005);
	expect_nothing(fx);
}

/* RFC 7323 §4.3 (A): a delayed ACK covering two segments echoes the TSval
 * of the earlier one. */
static void
test_ts_delayed_ack_echoes_the_earliest_segment(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = hs_ts(fx, 10, false);
	struct fj_tcp_opts o = ts(1002);
	peer_tcp(fx, 10, fx->peer_iss + 1, iss1, ACK, 65535, &o, "aaaa");
	expect_nothing(fx);
	o = ts(1003);
	peer_tcp(fx, 10, fx->peer_iss + 5, iss1, ACK, 65535, &o, "bbbb");
	struct fj_tcp_hdr a = expect_ack(fx, iss1, fx->peer_iss + 9);
	assert_true(a.o.has_ts);
	assert_int_equal(a.o.tsecr, 1002);
	expect_nothing(fx);
}

/* RFC 7323 §4.3: the TSval of the segment taken is echoed; §5.3 (PAWS): an
 * older TSval gets an ACK and its data is not taken; §3.2: once
 * negotiated, a segment without TSopt is dropped. */
static void
test_timestamps_are_echoed_and_paws_drops_old_segments(void **state)
{
	struct fixture *fx = *state;
	uint32_t ts;
	uint32_t iss1 = open_flow_ts(fx, 1000, &ts);
	struct fj_tcp_opts o = { .has_ts = true, .tsval = 1005, .tsecr = ts };
	peer_tcp(fx, 7, fx->peer_iss + 1, iss1, ACK | PSH, 65535, &o, "new");
	uint32_t plen;
	struct fj_tcp_hdr d = expect_tcp(fx, ACK | PSH, &plen, NULL);
	assert_int_equal(plen, 3);
	assert_true(d.o.has_ts);
	assert_int_equal(d.o.tsecr, 1005);
	/* An older timestamp (RFC 7323 §5.3): an ACK, the data not taken. */
	o.tsval = 900;
	peer_tcp(fx, 7, fx->peer_iss + 4, iss1 + 3, ACK | PSH, 65535, &o, "old");
	struct fj_tcp_hdr a = expect_tcp(fx, ACK, &plen, NULL);
	assert_int_equal(plen, 0);
	assert_int_equal(a.ack, fx->peer_iss + 4);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_paws_rejected"), 1);
	/* A segment without the option once negotiated: dropped (§3.2). */
	peer_tcp(fx, 7, fx->peer_iss + 4, iss1 + 3, ACK | PSH, 65535, NULL, "bare");
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_paws_rejected"), 2);
}

/*
 * RFC 7323 §4.3 with RFC 9293 §3.10.7.4's fifth check: a segment whose
 * ACK acknowledges data never sent gets an ACK and is dropped, and its
 * TSval is not remembered: the ACK echoes the old one, and the peer's
 * next genuine segment (an ordinary TSval) is taken, not dropped by PAWS.
 */
static void
test_a_segment_acking_unsent_data_leaves_ts_recent(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = hs_ts(fx, 22, false);
	struct fj_tcp_opts o = ts(2000000000u);
	peer_tcp(fx, 22, fx->peer_iss + 1, iss1 + 5000, ACK, 65535, &o, NULL);
	struct fj_tcp_hdr a = expect_ack(fx, iss1, fx->peer_iss + 1);
	assert_true(a.o.has_ts);
	assert_true(a.o.tsecr != 2000000000u);
	o = ts(a.o.tsecr + 1);
	peer_tcp(fx, 22, fx->peer_iss + 1, iss1, ACK | PSH, 65535, &o, "data");
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_paws_rejected"), 0);
	assert_int_equal(fx->obs.bytes, 4);
	/* What answers it acknowledges the data and echoes the new TSval. */
	advance(fx, 500 * MS);
	struct fj_tcp_hdr d = expect_ack(fx, iss1, fx->peer_iss + 5);
	assert_int_equal(d.o.tsecr, o.tsval);
}

/* RFC 7323 §5.3 (R1): PAWS is not applied to a RST: an exact RST with an
 * old TSval resets the connection. */
static void
test_paws_does_not_apply_to_rst(void **state)
{
	struct fixture *fx = *state;
	hs_ts(fx, 22, false);
	struct fj_tcp_opts o = ts(7); /* far older than 1001 */
	peer_tcp(fx, 22, fx->peer_iss + 1, 0, RST, 65535, &o, NULL);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_paws_rejected"), 0);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 0);
	assert_int_equal(fx->obs.err, -ECONNRESET);
}

/* RFC 7323 §3.2: only non-RST segments must carry TSopt: a RST without
 * it is processed. */
static void
test_rst_without_timestamp_is_accepted(void **state)
{
	struct fixture *fx = *state;
	hs_ts(fx, 22, false);
	peer_tcp(fx, 22, fx->peer_iss + 1, 0, RST, 65535, NULL, NULL);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 0);
	assert_int_equal(fx->obs.err, -ECONNRESET);
}

/* RFC 7323 §5.3: a segment PAWS rejects is not processed: the ACK it
 * carries does not acknowledge our data, which goes again. */
static void
test_paws_rejected_ack_does_not_acknowledge(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = hs_ts(fx, 7, false);
	struct fj_tcp_opts o = ts(1005);
	peer_tcp(fx, 7, fx->peer_iss + 1, iss1, ACK | PSH, 65535, &o, "ping");
	struct fj_tcp_hdr d = expect_seg(fx, ACK | PSH, iss1, fx->peer_iss + 5, 4);
	o = ts(900);
	o.tsecr = d.o.tsval;
	peer_tcp(fx, 7, fx->peer_iss + 5, iss1 + 4, ACK, 65535, &o, NULL);
	struct fj_tcp_hdr a = expect_ack(fx, iss1 + 4, fx->peer_iss + 5);
	assert_int_equal(a.o.tsecr, 1005);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_paws_rejected"), 1);
	advance(fx, SEC - 2 * MS);
	expect_nothing(fx);
	advance(fx, 4 * MS);
	expect_seg(fx, ACK | PSH, iss1, fx->peer_iss + 5, 4);
	expect_nothing(fx);
}

/* RFC 7323 §5.2: timestamps compare modulo 2^32: a TSval that wrapped
 * past zero is newer, not older. */
static void
test_paws_compares_timestamps_modulo_2_32(void **state)
{
	struct fixture *fx = *state;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000, .has_ts = true,
				 .tsval = 0xfffffff0u };
	uint32_t iss1 = hs_opts(fx, 7, &o, 65535, NULL);
	o = ts(5);
	peer_tcp(fx, 7, fx->peer_iss + 1, iss1, ACK | PSH, 65535, &o, "wrap");
	struct fj_tcp_hdr d = expect_seg(fx, ACK | PSH, iss1, fx->peer_iss + 5, 4);
	assert_int_equal(d.o.tsecr, 5);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_paws_rejected"), 0);
}

/* RFC 7323 §5.3: an equal TSval is not old (many segments per tick). */
static void
test_paws_accepts_equal_timestamps(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = hs_ts(fx, 7, false);
	struct fj_tcp_opts o = ts(1001);
	const char *m[] = { "a", "b", "c" };
	for (uint32_t i = 0; i < 3; i++) {
		peer_tcp(fx, 7, fx->peer_iss + 1 + i, iss1 + i, ACK | PSH, 65535, &o, m[i]);
		struct fj_tcp_hdr d = expect_seg(fx, ACK | PSH, iss1 + i, fx->peer_iss + 2 + i, 1);
		assert_int_equal(d.o.tsecr, 1001);
	}
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_paws_rejected"), 0);
}

/* RFC 7323 §3.2: after negotiation, a FIN without TSopt is dropped. */
static void
test_fin_without_timestamp_after_negotiation_is_dropped(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = hs_ts(fx, 22, false);
	peer_tcp(fx, 22, fx->peer_iss + 1, iss1, FIN | ACK, 65535, NULL, NULL);
	expect_nothing(fx);
	assert_int_not_equal(fx->obs.last, FJ_EOF);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_paws_rejected"), 1);
	struct fj_tcp_opts o = ts(1002);
	peer_tcp(fx, 22, fx->peer_iss + 1, iss1, FIN | ACK, 65535, &o, NULL);
	struct fj_tcp_hdr a = expect_ack(fx, iss1, fx->peer_iss + 2);
	assert_int_equal(a.o.tsecr, 1002);
	assert_int_equal(fx->obs.last, FJ_EOF);
}

/* RFC 7323 §3.2: no TSopt on the SYN: none from us ever, and a TSopt
 * that turns up later is ignored and the segment processed normally. */
static void
test_timestamps_not_negotiated_are_ignored(void **state)
{
	struct fixture *fx = *state;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000 };
	struct fj_tcp_hdr sa;
	uint32_t iss1 = hs_opts(fx, 7, &o, 65535, &sa);
	assert_false(sa.o.has_ts);
	o = ts(77);
	peer_tcp(fx, 7, fx->peer_iss + 1, iss1, ACK | PSH, 65535, &o, "hi");
	struct fj_tcp_hdr d = expect_seg(fx, ACK | PSH, iss1, fx->peer_iss + 3, 2);
	assert_false(d.o.has_ts);
	o = ts(3); /* "older": no PAWS without negotiation */
	peer_tcp(fx, 7, fx->peer_iss + 3, iss1 + 2, ACK | PSH, 65535, &o, "yo");
	d = expect_seg(fx, ACK | PSH, iss1 + 2, fx->peer_iss + 5, 2);
	assert_false(d.o.has_ts);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_paws_rejected"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		/* window scale */
		TCP_CASE(test_syn_ack_window_is_unscaled_then_scaled),
		TCP_CASE(test_without_peer_window_scale_our_window_is_unscaled),
		TCP_CASE(test_peer_window_scale_is_applied),
		TCP_CASE(test_peer_window_shift_0),
		TCP_CASE(test_peer_window_shift_1),
		TCP_CASE(test_peer_window_shift_14),
		TCP_CASE(test_peer_window_shift_above_14_is_used_as_14),
		/* MSS */
		TCP_CASE(test_no_mss_option_means_536),
		TCP_CASE(test_peer_mss_limits_our_segments),
		TCP_CASE(test_large_peer_mss_is_capped_by_our_mtu),
		TCP_CASE(test_timestamps_take_room_from_each_segment),
		/* timestamps */
		TCP_CASE(test_ts_echo_after_out_of_order_and_gap_fill),
		TCP_CASE(test_ts_delayed_ack_echoes_the_earliest_segment),
		TCP_CASE(test_timestamps_are_echoed_and_paws_drops_old_segments),
		TCP_CASE(test_a_segment_acking_unsent_data_leaves_ts_recent),
		TCP_CASE(test_paws_does_not_apply_to_rst),
		TCP_CASE(test_rst_without_timestamp_is_accepted),
		TCP_CASE(test_paws_rejected_ack_does_not_acknowledge),
		TCP_CASE(test_paws_compares_timestamps_modulo_2_32),
		TCP_CASE(test_paws_accepts_equal_timestamps),
		TCP_CASE(test_fin_without_timestamp_after_negotiation_is_dropped),
		TCP_CASE(test_timestamps_not_negotiated_are_ignored),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
