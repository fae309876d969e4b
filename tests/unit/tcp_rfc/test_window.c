/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP's flow control against the scripted peer: delayed ACKs (RFC 1122
 * §4.2.3.2, RFC 5681 §4.2), the peer's window and silly window avoidance
 * (RFC 9293 §3.8.6, RFC 1122 §4.2.3.4, Nagle), zero windows and their
 * probes (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17), our receive window
 * (§3.8.6.2.2), keep-alives (RFC 1122 §4.2.3.6).
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

/* ------------------------------------------------------ delayed ACKs */

/* RFC 1122 §4.2.3.2, RFC 5681 §4.2: a lone segment is acknowledged by the
 * delayed-ACK timer (40 ms here), not at once. */
static void
test_delayed_ack_fires_after_40ms(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = hs(fx, 10, 65535, true);
	peer_tcp(fx, 10, fx->peer_iss + 1, iss1, ACK | PSH, 65535, NULL, "abc");
	expect_nothing(fx);
	advance(fx, 39 * MS);
	expect_nothing(fx);
	advance(fx, 2 * MS);
	expect_ack(fx, iss1, fx->peer_iss + 4);
	advance(fx, SEC);
	expect_nothing(fx);
}

/* RFC 5681 §4.2: an ACK for at least every second full-sized segment. */
static void
test_every_second_full_segment_is_acked_at_once(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = hs(fx, 10, 65535, true);
	uint32_t seq = fx->peer_iss + 1;
	for (int i = 1; i <= 4; i++) {
		peer_bytes(fx, 10, seq, iss1, 65535, 1460, NULL);
		seq += 1460;
		if (i % 2 == 0)
			expect_ack(fx, iss1, seq);
		expect_nothing(fx);
	}
}

/* RFC 1122 §4.2.3.2: data going back carries the ACK; no separate one
 * follows when the timer would have fired. */
static void
test_piggybacked_ack_cancels_the_delayed_ack(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = hs(fx, 7, 65535, true);
	peer_tcp(fx, 7, fx->peer_iss + 1, iss1, ACK | PSH, 65535, NULL, "hi");
	expect_seg(fx, ACK | PSH, iss1, fx->peer_iss + 3, 2);
	advance(fx, 100 * MS);
	expect_nothing(fx);
}

/* RFC 9293 §3.10.7.4 eighth: a FIN is acknowledged at once. */
static void
test_fin_is_acked_at_once(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = hs(fx, 10, 65535, true);
	peer_tcp(fx, 10, fx->peer_iss + 1, iss1, FIN | ACK, 65535, NULL, NULL);
	expect_ack(fx, iss1, fx->peer_iss + 2);
	expect_nothing(fx);
}

/* ------------------------------------------------------ the peer's window */

/* RFC 9293 §3.8.6: never beyond SND.UNA + SND.WND; an ACK that keeps the
 * right edge frees nothing, a window update that moves it does. */
static void
test_sender_stays_within_the_peer_window(void **state)
{
	struct fixture *fx = *state;
	fx->wr.total = 10000;
	uint32_t iss1 = hs(fx, 20, 3000, false);
	for (uint32_t off = 0; off < 3000; off += 1000)
		expect_data(fx, iss1 + off, fx->peer_iss + 1, 1000, off);
	expect_nothing(fx);
	peer_tcp(fx, 20, fx->peer_iss + 1, iss1 + 1000, ACK, 2000, NULL, NULL);
	expect_nothing(fx);
	peer_tcp(fx, 20, fx->peer_iss + 1, iss1 + 1000, ACK, 3000, NULL, NULL);
	expect_data(fx, iss1 + 3000, fx->peer_iss + 1, 1000, 3000);
	expect_nothing(fx);
}

/* RFC 9293 §3.8.6.2.1 (MUST-38), RFC 1122 §4.2.3.4: sender silly window
 * avoidance: 100 usable bytes out of a 10100-byte window, plenty queued:
 * no tiny segment (it is less than an MSS and than half the largest
 * window seen); a full one goes once the window allows it. */
static void
test_sender_avoids_silly_window_segments(void **state)
{
	struct fixture *fx = *state;
	fx->wr.total = 20000;
	uint32_t iss1 = hs(fx, 20, 10100, false);
	for (uint32_t off = 0; off < 10000; off += 1000)
		expect_data(fx, iss1 + off, fx->peer_iss + 1, 1000, off);
	expect_nothing(fx);
	peer_tcp(fx, 20, fx->peer_iss + 1, iss1 + 1000, ACK, 9100, NULL, NULL);
	expect_nothing(fx);
	peer_tcp(fx, 20, fx->peer_iss + 1, iss1 + 2000, ACK, 9100, NULL, NULL);
	expect_data(fx, iss1 + 10000, fx->peer_iss + 1, 1000, 10000);
	expect_nothing(fx);
}

/* RFC 1122 §4.2.3.4 (Nagle, RFC 896): while data is unacknowledged a
 * small segment waits; the delayed ACK still goes (§4.2.3.2); the ACK
 * releases the segment. */
static void
test_nagle_holds_small_segments_while_unacked(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = open_flow(fx, 12, 65535, true);
	peer_tcp(fx, 12, fx->peer_iss + 1, iss1, ACK | PSH, 65535, NULL, "a");
	uint32_t plen;
	expect_tcp(fx, ACK | PSH, &plen, NULL);
	/* The echo of "b" waits: "a" is not acknowledged yet. Only the
	 * delayed ACK for "b" goes, 40 ms later. */
	peer_tcp(fx, 12, fx->peer_iss + 2, iss1, ACK | PSH, 65535, NULL, "b");
	expect_nothing(fx);
	advance(fx, 50000);
	struct fj_tcp_hdr a = expect_tcp(fx, ACK, &plen, NULL);
	assert_int_equal(plen, 0); /* only an ACK for "b" */
	assert_int_equal(a.ack, fx->peer_iss + 3);
	peer_tcp(fx, 12, fx->peer_iss + 3, iss1 + 1, ACK, 65535, NULL, NULL);
	struct fj_tcp_hdr d = expect_tcp(fx, ACK | PSH, &plen, NULL);
	assert_int_equal(plen, 1);
	assert_int_equal(d.seq, iss1 + 1);
}

/* Zero window: nothing but probes, at the RTO and then backing off. */
static uint32_t
zero_window_flow(struct fixture *fx, uint32_t bytes)
{
	fx->wr.total = bytes;
	uint32_t iss1 = hs(fx, 20, 0, false);
	expect_nothing(fx);
	return iss1;
}

/* RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17: probes at 1, 2, 4, 8 s, each
 * answered with a zero window. */
static void
test_zero_window_probes_back_off(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = zero_window_flow(fx, 1000);
	uint64_t wait = SEC;
	for (int i = 0; i < 4; i++) {
		advance_past(fx, wait);
		expect_data(fx, iss1, fx->peer_iss + 1, 1, 0);
		expect_nothing(fx);
		peer_tcp(fx, 20, fx->peer_iss + 1, iss1, ACK, 0, NULL, NULL);
		expect_nothing(fx);
		wait *= 2;
	}
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_window_probes"), 4);
}

/* RFC 1122 §4.2.2.17: a zero window that the peer keeps acknowledging
 * never ends the connection, however long (here 20 probes, ~15 min). */
static void
test_zero_window_probes_never_give_up(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = zero_window_flow(fx, 1000);
	for (int i = 0; i < 20; i++) {
		advance_fresh(fx, 61 * SEC);
		expect_data(fx, iss1, fx->peer_iss + 1, 1, 0);
		expect_nothing(fx);
		peer_tcp(fx, 20, fx->peer_iss + 1, iss1, ACK, 0, NULL, NULL);
	}
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_window_probes"), 20);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 1);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_rst_tx"), 0);
	assert_int_equal(fx->wr.err, 0);
}

/* RFC 9293 §3.8.6.1: the probe is one new byte; a receiver whose window
 * has opened takes it and acknowledges it with the new window: the rest
 * follows from the next byte. */
static void
test_zero_window_probe_byte_taken_by_the_peer(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = zero_window_flow(fx, 5);
	advance(fx, SEC + MS);
	expect_data(fx, iss1, fx->peer_iss + 1, 1, 0);
	peer_tcp(fx, 20, fx->peer_iss + 1, iss1 + 1, ACK, 1000, NULL, NULL);
	expect_data(fx, iss1 + 1, fx->peer_iss + 1, 4, 1);
	expect_nothing(fx);
}

/* RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17: into a zero window only ACKs
 * go; the persist timer probes with one byte; the window opens, the data
 * flows. */
static void
test_zero_window_is_probed(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = open_flow(fx, 7, 0, false);
	peer_tcp(fx, 7, fx->peer_iss + 1, iss1, ACK, 0, NULL, "stuck");
	/* Nothing may go, only an ACK for the data (delayed). */
	advance(fx, 50000);
	struct fj_tcp_hdr a = expect_tcp(fx, ACK, NULL, NULL);
	assert_int_equal(a.ack, fx->peer_iss + 6);
	expect_nothing(fx);
	/* The persist timer sends one byte past the closed window. */
	advance(fx, SEC);
	uint32_t plen;
	struct fj_tcp_hdr p = expect_tcp(fx, ACK, &plen, NULL);
	assert_int_equal(plen, 1);
	assert_int_equal(p.seq, iss1);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_window_probes"), 1);
	/* The window opens: the data flows. */
	peer_tcp(fx, 7, fx->peer_iss + 6, iss1, ACK, 1000, NULL, NULL);
	expect_tcp(fx, ACK | PSH, &plen, NULL);
	assert_int_equal(plen, 5);
}

/* RFC 9293 §3.8.6.1: the window closes mid-stream: sending stops, a
 * probe after the RTO (200 ms after 10 ms samples), the window opens:
 * the rest, from where it stopped. */
static void
test_window_closing_mid_stream_then_reopening(void **state)
{
	struct fixture *fx = *state;
	fx->hs_rtt = 10 * MS;
	fx->wr.total = 5000;
	uint32_t iss1 = hs(fx, 20, 2000, false);
	expect_data(fx, iss1, fx->peer_iss + 1, 1000, 0);
	expect_data(fx, iss1 + 1000, fx->peer_iss + 1, 1000, 1000);
	expect_nothing(fx);
	advance(fx, 10 * MS);
	peer_tcp(fx, 20, fx->peer_iss + 1, iss1 + 2000, ACK, 0, NULL, NULL);
	expect_nothing(fx);
	advance_past(fx, 200 * MS);
	expect_data(fx, iss1 + 2000, fx->peer_iss + 1, 1, 2000);
	peer_tcp(fx, 20, fx->peer_iss + 1, iss1 + 2000, ACK, 3000, NULL, NULL);
	for (uint32_t off = 2000; off < 5000; off += 1000)
		expect_data(fx, iss1 + off, fx->peer_iss + 1, 1000, off);
	expect_nothing(fx);
}

/* ------------------------------------------------------ our receive window */

/* RFC 9293 §3.8.6.2.2, RFC 7323 §2.4: unread data shrinks the window by
 * what came (to the scale's 128-byte precision): the right edge stays at
 * the buffer's end. */
static void
test_receive_window_shrinks_by_unread_data(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = hs(fx, 10, 65535, true);
	uint32_t seq = fx->peer_iss + 1;
	uint32_t end = fx->peer_iss + 1 + RCVBUF, last = 0;
	for (int i = 1; i <= 40; i++) {
		peer_bytes(fx, 10, seq, iss1, 65535, 1460, NULL);
		seq += 1460;
		if (i % 2 == 0) {
			struct fj_tcp_hdr a = expect_ack(fx, iss1, seq);
			uint32_t edge = a.ack + ((uint32_t)a.wnd << 7);
			assert_true(edge + 128 > end && edge < end + 128);
			/* (RFC 7323 appendix F: rounding may retract it by less
			 * than one unit of the scale, never more.) */
			assert_true(last == 0 || edge + 128 > last);
			last = edge;
		}
	}
	expect_nothing(fx);
}

/* RFC 9293 §3.8.6.2.2, RFC 1122 §4.2.3.3: once the application reads, the
 * window reopens: an update with the whole buffer free. */
static void
test_receive_window_reopens_after_reads(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = hs(fx, 21, 65535, true);
	uint32_t seq = fx->peer_iss + 1;
	for (int i = 0; i < 50; i++) {
		peer_bytes(fx, 21, seq, iss1, 65535, 1460, NULL);
		seq += 1460;
	}
	struct seg last = { 0 };
	while (fx->seen < fx->nout) {
		last = next_seg(fx);
		assert_int_equal(last.h.flags, ACK);
	}
	assert_int_equal(last.h.ack, seq);
	assert_true(last.h.wnd <= (RCVBUF - 50 * 1460 + 127) >> 7);
	checked_all(fx);
	struct fj_buf *b;
	uint32_t got = 0;
	while (fj_flow_read(fx->lazy_flow, &b) == FJ_DATA) {
		got += fj_buf_pkt_len(b);
		fj_buf_free(b);
	}
	assert_int_equal(got, 50 * 1460);
	fj_stack_poll(fx->stack);
	struct fj_tcp_hdr a = { 0 };
	int n = 0;
	while (fx->seen < fx->nout) {
		a = expect_ack(fx, iss1, seq);
		n++;
	}
	assert_true(n >= 1);
	assert_int_equal(a.wnd, RCVBUF >> 7);
}

/* RFC 9293 §3.8.6.2.2, RFC 7323 §2.4: while the application reads, the
 * right edge of our window never moves left. */
static void
test_window_update_after_the_app_reads(void **state)
{
	struct fixture *fx = *state;
	/* Port 7 echoes and so reads at once: a full-sized burst keeps the
	 * window open; the advertised window never shrinks below the edge. */
	uint32_t iss1 = open_flow(fx, 7, 65535, true);
	char chunk[1001];
	memset(chunk, 'w', 1000);
	chunk[1000] = 0;
	uint32_t seq = fx->peer_iss + 1;
	uint32_t edge = 0;
	for (int i = 0; i < 20; i++) {
		peer_tcp(fx, 7, seq, iss1, ACK, 65535, NULL, chunk);
		seq += 1000;
	}
	while (fx->seen < fx->nout) {
		struct fj_tcp_hdr h = next_seg(fx).h;
		uint32_t e = h.ack + ((uint32_t)h.wnd << 7);
		assert_true(edge == 0 || (int32_t)(e - edge) >= 0);
		edge = e;
	}
}

/* RFC 9293 §3.10.7.4: with a zero receive window no data is acceptable
 * (an ACK says so), but a RST at RCV.NXT still is. */
static void
test_zero_receive_window_refuses_data_but_takes_rst(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = hs(fx, 10, 65535, true);
	uint32_t seq = fx->peer_iss + 1;
	for (int i = 0; i < 180; i++) {
		uint32_t n = i < 179 ? 1460 : RCVBUF - 179 * 1460;
		peer_bytes(fx, 10, seq, iss1, 65535, n, NULL);
		seq += n;
	}
	struct seg last = { 0 };
	int acks = 0;
	while (fx->seen < fx->nout) {
		last = next_seg(fx);
		assert_int_equal(last.h.flags, ACK);
		assert_int_equal(last.plen, 0);
		acks++;
	}
	assert_int_equal(acks, 90);
	assert_int_equal(last.h.ack, seq);
	assert_int_equal(last.h.wnd, 0);
	/* The application that never reads was told of the data. */
	assert_true(fx->events_seen > 0);
	checked_all(fx);
	/* One more byte: not acceptable, an ACK says where we are. */
	peer_bytes(fx, 10, seq, iss1, 65535, 1, NULL);
	struct fj_tcp_hdr a = expect_ack(fx, iss1, seq);
	assert_int_equal(a.wnd, 0);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_out_of_window"), 1);
	/* The RST at RCV.NXT is taken. */
	peer_tcp(fx, 10, seq, 0, RST, 65535, NULL, NULL);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_rst_rx"), 1);
}

/* ------------------------------------------------------ keep-alive */

static void
keepalive_app(struct fj_flow *f, void *arg)
{
	struct fixture *fx = arg;
	if (fj_flow_user(f) == NULL) {
		assert_int_equal(fj_flow_set_keepalive(f, 10, 0, 3), -EINVAL);
		assert_int_equal(fj_flow_set_keepalive(f, 10, 2, 0), -EINVAL);
		assert_int_equal(fj_flow_set_keepalive(f, 10, 2, 3), 0);
		fj_flow_set_user(f, f);
	}
	fx->client.events++;
	fx->client.last = fj_flow_read(f, &(struct fj_buf *){ NULL });
	if (fx->client.last == FJ_ERROR) {
		fx->client.flow = f;
		assert_int_equal(fj_flow_error(f), -ETIMEDOUT);
	}
}

/* RFC 1122 §4.2.3.6: probes after the idle time, an answer resets them,
 * unanswered ones end the connection. */
static void
test_keepalive_probes_then_times_out(void **state)
{
	struct fixture *fx = *state;
	assert_non_null(fj_listen_tcp(fx->stack, 13, keepalive_app, fx));
	uint32_t iss1 = open_flow(fx, 13, 65535, false);
	assert_int_equal(fx->client.events, 1);
	advance(fx, 9 * SEC);
	expect_nothing(fx);
	advance(fx, SEC + 1000);
	struct fj_tcp_hdr p = expect_tcp(fx, ACK, NULL, NULL);
	assert_int_equal(p.seq, iss1 - 1); /* an old sequence: the peer must answer */
	assert_int_equal(p.ack, fx->peer_iss + 1);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_keepalive_probes"), 1);
	/* The answer: alive; the next probe is an idle time away. */
	peer_tcp(fx, 13, fx->peer_iss + 1, iss1, ACK, 65535, NULL, NULL);
	advance(fx, 2 * SEC + 1000);
	expect_nothing(fx);
	advance(fx, 8 * SEC);
	p = expect_tcp(fx, ACK, NULL, NULL);
	assert_int_equal(p.seq, iss1 - 1);
	/* Unanswered: two more, interval apart, then a RST and -ETIMEDOUT. */
	advance(fx, 2 * SEC + 1000);
	expect_tcp(fx, ACK, NULL, NULL);
	advance(fx, 2 * SEC + 1000);
	expect_tcp(fx, ACK, NULL, NULL);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_keepalive_probes"), 4);
	advance(fx, 2 * SEC + 1000);
	expect_tcp(fx, RST | ACK, NULL, NULL);
	assert_int_equal(fx->client.last, FJ_ERROR);
	assert_non_null(fx->client.flow);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_keepalive_timeouts"), 1);
	fj_flow_close(fx->client.flow);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		/* delayed ACKs */
		TCP_CASE(test_delayed_ack_fires_after_40ms),
		TCP_CASE(test_every_second_full_segment_is_acked_at_once),
		TCP_CASE(test_piggybacked_ack_cancels_the_delayed_ack),
		TCP_CASE(test_fin_is_acked_at_once),
		/* the peer's window */
		TCP_CASE(test_sender_stays_within_the_peer_window),
		TCP_CASE(test_sender_avoids_silly_window_segments),
		TCP_CASE(test_nagle_holds_small_segments_while_unacked),
		TCP_CASE(test_zero_window_probes_back_off),
		TCP_CASE(test_zero_window_probes_never_give_up),
		TCP_CASE(test_zero_window_probe_byte_taken_by_the_peer),
		TCP_CASE(test_zero_window_is_probed),
		TCP_CASE(test_window_closing_mid_stream_then_reopening),
		/* our receive window */
		TCP_CASE(test_receive_window_shrinks_by_unread_data),
		TCP_CASE(test_receive_window_reopens_after_reads),
		TCP_CASE(test_window_update_after_the_app_reads),
		TCP_CASE(test_zero_receive_window_refuses_data_but_takes_rst),
		/* keep-alive */
		TCP_CASE(test_keepalive_probes_then_times_out),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
