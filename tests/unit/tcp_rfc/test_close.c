/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP's closing states against the scripted peer: CLOSE and ABORT (RFC
 * 9293 §3.10.4, §3.10.5), FIN-WAIT-1/2, CLOSING, TIME-WAIT, CLOSE-WAIT and
 * LAST-ACK (§3.10.7.4, §3.6), the user told of a reset.
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

/* ------------------------------------------------------ CLOSE, ABORT */

/* RFC 9293 §3.10.2 (SEND in CLOSE-WAIT): after the peer's FIN we may still
 * send; our FIN follows the data. */
static void
test_peer_half_close_we_keep_sending(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = hs(fx, 25, 65535, true);
	expect_nothing(fx);
	peer_tcp(fx, 25, fx->peer_iss + 1, iss1, FIN | ACK, 65535, NULL, NULL);
	expect_ack(fx, iss1, fx->peer_iss + 2);
	uint32_t plen;
	const uint8_t *pl;
	struct fj_tcp_hdr d = expect_tcp(fx, ACK | PSH, &plen, &pl);
	assert_int_equal(d.seq, iss1);
	assert_int_equal(plen, 7);
	assert_memory_equal(pl, "bye now", 7);
	expect_seg(fx, FIN | ACK, iss1 + 7, fx->peer_iss + 2, 0);
	expect_nothing(fx);
	peer_tcp(fx, 25, fx->peer_iss + 2, iss1 + 8, ACK, 65535, NULL, NULL);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 0);
}

/* RFC 9293 §3.10.4 (CLOSE): queued data goes first, as the window
 * allows; the FIN after the last byte. */
static void
test_close_sends_queued_data_then_fin(void **state)
{
	struct fixture *fx = *state;
	fx->wr.total = 3000;
	fx->wr.close = true;
	uint32_t iss1 = hs(fx, 20, 1000, false);
	for (uint32_t off = 0; off < 3000; off += 1000) {
		struct seg s = next_seg(fx);
		assert_int_equal(s.h.flags & ~(PSH | FIN), ACK);
		assert_int_equal(s.h.seq, iss1 + off);
		assert_int_equal(s.plen, 1000);
		assert_int_equal(s.pl[0], pat(off));
		expect_nothing(fx);
		bool fin = s.h.flags & FIN;
		assert_true(!fin || off == 2000);
		peer_tcp(fx, 20, fx->peer_iss + 1, iss1 + off + 1000, ACK, 1000, NULL, NULL);
		if (off == 2000 && !fin)
			expect_seg(fx, FIN | ACK, iss1 + 3000, fx->peer_iss + 1, 0);
	}
	expect_nothing(fx);
	peer_tcp(fx, 20, fx->peer_iss + 1, iss1 + 3001, FIN | ACK, 1000, NULL, NULL);
	expect_ack(fx, iss1 + 3001, fx->peer_iss + 2);
	expect_nothing(fx);
}

/* RFC 9293 §3.10.5 (ABORT): a RST <SEQ=SND.NXT> at once; the connection
 * is gone, so a later segment of the peer gets a RST of its own. */
static void
test_abort_sends_rst_and_forgets(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = hs(fx, 24, 65535, true);
	expect_nothing(fx);
	peer_tcp(fx, 24, fx->peer_iss + 1, iss1, ACK | PSH, 65535, NULL, "kill");
	struct seg r = next_seg(fx);
	assert_int_equal(r.h.flags & ~ACK, RST);
	assert_int_equal(r.h.seq, iss1);
	assert_int_equal(r.plen, 0);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 0);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_rst_tx"), 1);
	peer_tcp(fx, 24, fx->peer_iss + 5, iss1, ACK | PSH, 65535, NULL, "more");
	expect_seg(fx, RST, iss1, 0, 0);
	advance(fx, 5 * SEC);
	expect_nothing(fx);
}

/* RFC 9293 §3.10.2 (SEND in FIN-WAIT-1): "connection closing": refused. */
static void
test_write_after_shutdown_is_refused(void **state)
{
	struct fixture *fx = *state;
	reach(fx, ST_FW1);
	assert_non_null(fx->obs.flow);
	struct fj_buf *b = fj_buf_alloc(fx->stack, 10);
	memset(fj_buf_data(b), 'x', 10);
	assert_int_equal(fj_flow_write(fx->obs.flow, b), -EPIPE);
	fj_stack_poll(fx->stack);
	expect_nothing(fx);
}

/* RFC 9293 §3.10.7.4 (RST): the user is told "connection reset": reads
 * give the error and so do writes. */
static void
test_reset_connection_reports_econnreset_to_reads_and_writes(void **state)
{
	struct fixture *fx = *state;
	hs(fx, 21, 65535, true);
	assert_non_null(fx->lazy_flow);
	int ev = fx->lazy_events;
	peer_tcp(fx, 21, fx->peer_iss + 1, 0, RST, 65535, NULL, NULL);
	assert_int_equal(fx->lazy_events, ev + 1);
	struct fj_buf *b = NULL;
	assert_int_equal(fj_flow_read(fx->lazy_flow, &b), FJ_ERROR);
	assert_int_equal(fj_flow_error(fx->lazy_flow), -ECONNRESET);
	b = fj_buf_alloc(fx->stack, 10);
	memset(fj_buf_data(b), 'x', 10);
	assert_int_equal(fj_flow_write(fx->lazy_flow, b), -ECONNRESET);
	fj_flow_close(fx->lazy_flow);
	fj_stack_poll(fx->stack);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 0);
}

/* RFC 9293 §3.10.7.4 seventh and eighth: the text of a segment is taken
 * before its FIN, one ACK covers both; the echo's data goes, then our FIN
 * after its last byte. */
static void
test_data_and_fin_in_one_segment(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = open_flow(fx, 7, 65535, true);
	peer_tcp(fx, 7, fx->peer_iss + 1, iss1, FIN | ACK | PSH, 65535, NULL, "bye");
	/* The data is echoed, the FIN acknowledged, then our own FIN. */
	uint32_t plen;
	struct fj_tcp_hdr a = expect_tcp(fx, ACK, NULL, NULL);
	assert_int_equal(a.ack, fx->peer_iss + 5);
	struct fj_tcp_hdr d = expect_tcp(fx, ACK | PSH, &plen, NULL);
	assert_int_equal(plen, 3);
	struct fj_tcp_hdr fin = expect_tcp(fx, FIN | ACK, NULL, NULL);
	assert_int_equal(fin.seq, d.seq + 3);
}

/* ------------------------------------------------------ FIN_WAIT_1, FIN_WAIT_2 */

/* RFC 9293 §3.10.7.4 seventh, FIN-WAIT-1: after our FIN the peer's data
 * is still delivered and acknowledged (with the usual delay). */
static void
test_fin_wait_1_data_is_delivered_and_acked(void **state)
{
	struct fixture *fx = *state;
	struct conn c = reach(fx, ST_FW1);
	peer_tcp(fx, c.port, c.rcv, c.snd - 1, ACK | PSH, 65535, NULL, "data");
	assert_int_equal(fx->obs.bytes, 4);
	assert_memory_equal(fx->obs.data, "data", 4);
	advance(fx, 41 * MS);
	expect_ack(fx, c.snd, c.rcv + 4);
	expect_nothing(fx);
	/* Our FIN is still unacknowledged: it goes again at the RTO. */
	advance(fx, SEC);
	expect_seg(fx, FIN | ACK, c.snd - 1, c.rcv + 4, 0);
}

/* RFC 9293 §3.10.4, RFC 6298 §5: our FIN takes a sequence number and goes
 * again at the RTO until acknowledged; FIN-WAIT-2 then has nothing to send. */
static void
test_unacknowledged_fin_is_retransmitted(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = open_flow(fx, 8, 65535, true);
	struct fj_tcp_hdr fin = expect_tcp(fx, FIN | ACK, NULL, NULL);
	advance(fx, SEC + 1000);
	struct fj_tcp_hdr again = expect_tcp(fx, FIN | ACK, NULL, NULL);
	assert_int_equal(again.seq, fin.seq);
	peer_tcp(fx, 8, fx->peer_iss + 1, iss1 + 1, ACK, 65535, NULL, NULL);
	advance(fx, 10 * SEC);
	expect_nothing(fx); /* FIN_WAIT_2: nothing more to send */
}

/* RFC 9293 §3.10.7.4 eighth, FIN-WAIT-1: a FIN that also acknowledges our
 * FIN: straight to TIME_WAIT, for 2 MSL. */
static void
test_fin_wait_1_fin_acking_our_fin_enters_time_wait(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = hs(fx, 8, 65535, true);
	expect_seg(fx, FIN | ACK, iss1, fx->peer_iss + 1, 0);
	peer_tcp(fx, 8, fx->peer_iss + 1, iss1 + 1, FIN | ACK, 65535, NULL, NULL);
	expect_ack(fx, iss1 + 1, fx->peer_iss + 2);
	expect_nothing(fx);
	advance(fx, 59 * SEC);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 1);
	expect_nothing(fx); /* no FIN again: it was acknowledged */
	advance(fx, 2 * SEC);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 0);
}

/* RFC 9293 §3.6 (the normal close sequence): FIN-WAIT-1, FIN-WAIT-2 on the
 * ACK of our FIN, TIME-WAIT on the peer's, whose retransmission is
 * acknowledged again; the flow ends after 2 MSL (60 s here). */
static void
test_we_close_first_fin_wait_then_time_wait(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = open_flow(fx, 8, 65535, true); /* the app closes on accept */
	struct fj_tcp_hdr fin = expect_tcp(fx, FIN | ACK, NULL, NULL);
	assert_int_equal(fin.seq, iss1);
	peer_tcp(fx, 8, fx->peer_iss + 1, iss1 + 1, ACK, 65535, NULL, NULL); /* FIN_WAIT_2 */
	expect_nothing(fx);
	peer_tcp(fx, 8, fx->peer_iss + 1, iss1 + 1, FIN | ACK, 65535, NULL, NULL);
	struct fj_tcp_hdr a = expect_tcp(fx, ACK, NULL, NULL);
	assert_int_equal(a.ack, fx->peer_iss + 2);
	/* TIME_WAIT: a retransmitted FIN is ACKed again... */
	peer_tcp(fx, 8, fx->peer_iss + 1, iss1 + 1, FIN | ACK, 65535, NULL, NULL);
	expect_tcp(fx, ACK, NULL, NULL);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 1);
	/* ...and after 2 MSL (60 s) the flow is gone. */
	advance(fx, 59 * SEC);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 1);
	advance(fx, 2 * SEC);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 0);
	expect_nothing(fx);
}

/* RFC 9293 §3.6 (the simultaneous close sequence): FIN-WAIT-1, CLOSING on
 * the peer's crossing FIN, TIME-WAIT on the ACK of ours, 2 MSL. */
static void
test_simultaneous_close_goes_through_closing(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = open_flow(fx, 8, 65535, true); /* we send FIN at once */
	expect_tcp(fx, FIN | ACK, NULL, NULL);
	/* The peer's FIN crosses ours (it has not seen ours): CLOSING. */
	peer_tcp(fx, 8, fx->peer_iss + 1, iss1, FIN | ACK, 65535, NULL, NULL);
	struct fj_tcp_hdr a = expect_tcp(fx, ACK, NULL, NULL);
	assert_int_equal(a.ack, fx->peer_iss + 2);
	/* Its ACK of our FIN: TIME_WAIT, the flow stays for 2 MSL. */
	peer_tcp(fx, 8, fx->peer_iss + 2, iss1 + 1, ACK, 65535, NULL, NULL);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 1);
	advance(fx, 61 * SEC);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 0);
}

/* ------------------------------------------------------ TIME_WAIT */

/* RFC 9293 §3.10.7.4, TIME-WAIT: a duplicate of the peer's last ACK needs
 * no answer. */
static void
test_time_wait_pure_ack_is_silent(void **state)
{
	struct fixture *fx = *state;
	struct conn c = reach(fx, ST_TW);
	peer_tcp(fx, c.port, c.rcv, c.snd, ACK, 65535, NULL, NULL);
	expect_nothing(fx);
	advance(fx, SEC);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 1);
}

/* RFC 9293 §3.10.7.4 first: in TIME_WAIT an old retransmission of data is
 * unacceptable: answered with an ACK of everything, FIN included. */
static void
test_time_wait_old_data_is_acked(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = hs(fx, 23, 65535, true);
	expect_seg(fx, FIN | ACK, iss1, fx->peer_iss + 1, 0);
	/* FIN_WAIT_2: what the peer sends is still received. */
	peer_tcp(fx, 23, fx->peer_iss + 1, iss1 + 1, ACK | PSH, 65535, NULL, "abc");
	assert_int_equal(fx->obs.bytes, 3);
	/* TIME_WAIT */
	peer_tcp(fx, 23, fx->peer_iss + 4, iss1 + 1, FIN | ACK, 65535, NULL, NULL);
	expect_ack(fx, iss1 + 1, fx->peer_iss + 5);
	expect_nothing(fx);
	assert_int_equal(fx->obs.bytes, 3);
	peer_tcp(fx, 23, fx->peer_iss + 1, iss1 + 1, ACK | PSH, 65535, NULL, "abc");
	expect_ack(fx, iss1 + 1, fx->peer_iss + 5);
	expect_nothing(fx);
	assert_int_equal(fx->obs.bytes, 3);
}

/* RFC 9293 §3.10.7.4, TIME-WAIT: every retransmission of the peer's FIN
 * (its ACK was lost) is acknowledged again, exactly; the wait still ends
 * (whether or not a FIN restarts it). */
static void
test_time_wait_acks_every_retransmitted_fin(void **state)
{
	struct fixture *fx = *state;
	struct conn c = reach(fx, ST_TW);
	for (int i = 0; i < 3; i++) {
		advance_fresh(fx, 15 * SEC);
		peer_tcp(fx, c.port, c.rcv - 1, c.snd, FIN | ACK, 65535, NULL, NULL);
		expect_ack(fx, c.snd, c.rcv);
		expect_nothing(fx);
	}
	advance_fresh(fx, 14 * SEC); /* 59 s after entering TIME_WAIT */
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 1);
	advance_fresh(fx, 47 * SEC); /* 61 s after the last FIN */
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 0);
	expect_nothing(fx);
}

/* ------------------------------------------------------ CLOSE_WAIT, LAST_ACK */

/* RFC 9293 §3.10.7.4 seventh, CLOSE-WAIT: text after the peer's FIN is
 * ignored: not delivered, never acknowledged. */
static void
test_close_wait_data_after_fin_is_ignored(void **state)
{
	struct fixture *fx = *state;
	struct conn c = reach(fx, ST_CW);
	peer_tcp(fx, c.port, c.rcv, c.snd, ACK | PSH, 65535, NULL, "zombie");
	advance(fx, 100 * MS);
	drain_acks(fx, c.rcv);
	assert_int_equal(fx->obs.bytes, 0);
	assert_int_equal(fx->obs.last, FJ_EOF);
}

/* RFC 9293 §3.10.7.4 first: the peer's FIN again in CLOSE_WAIT is an old
 * duplicate: an ACK, nothing else. */
static void
test_close_wait_retransmitted_fin_is_acked(void **state)
{
	struct fixture *fx = *state;
	struct conn c = reach(fx, ST_CW);
	peer_tcp(fx, c.port, c.rcv - 1, c.snd, FIN | ACK, 65535, NULL, NULL);
	expect_ack(fx, c.snd, c.rcv);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 1);
}

/* RFC 9293 §3.10.7.4 fifth (LAST-ACK), RFC 6298 §5: our FIN goes again
 * at the RTO; its ACK deletes the connection. */
static void
test_last_ack_fin_is_retransmitted_then_acked(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = open_flow(fx, 7, 65535, true);
	peer_tcp(fx, 7, fx->peer_iss + 1, iss1, FIN | ACK, 65535, NULL, NULL);
	expect_tcp(fx, ACK, NULL, NULL);
	expect_tcp(fx, FIN | ACK, NULL, NULL); /* LAST_ACK */
	advance(fx, SEC + 1000);
	expect_tcp(fx, FIN | ACK, NULL, NULL);
	peer_tcp(fx, 7, fx->peer_iss + 2, iss1 + 1, ACK, 65535, NULL, NULL);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		/* CLOSE, ABORT */
		TCP_CASE(test_peer_half_close_we_keep_sending),
		TCP_CASE(test_close_sends_queued_data_then_fin),
		TCP_CASE(test_abort_sends_rst_and_forgets),
		TCP_CASE(test_write_after_shutdown_is_refused),
		TCP_CASE(test_reset_connection_reports_econnreset_to_reads_and_writes),
		TCP_CASE(test_data_and_fin_in_one_segment),
		/* FIN_WAIT_1, FIN_WAIT_2 */
		TCP_CASE(test_fin_wait_1_data_is_delivered_and_acked),
		TCP_CASE(test_unacknowledged_fin_is_retransmitted),
		TCP_CASE(test_fin_wait_1_fin_acking_our_fin_enters_time_wait),
		TCP_CASE(test_we_close_first_fin_wait_then_time_wait),
		TCP_CASE(test_simultaneous_close_goes_through_closing),
		/* TIME_WAIT */
		TCP_CASE(test_time_wait_pure_ack_is_silent),
		TCP_CASE(test_time_wait_old_data_is_acked),
		TCP_CASE(test_time_wait_acks_every_retransmitted_fin),
		/* CLOSE_WAIT, LAST_ACK */
		TCP_CASE(test_close_wait_data_after_fin_is_ignored),
		TCP_CASE(test_close_wait_retransmitted_fin_is_acked),
		TCP_CASE(test_last_ack_fin_is_retransmitted_then_acked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
