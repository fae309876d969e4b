/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RFC 9293 §3.10.7.4's checks (first to fifth) and RFC 5961's defences
 * against blind attacks, the same in every synchronized state: a RST in
 * the window, exactly at RCV.NXT, outside it; a SYN; data outside the
 * window; an ACK of what was never sent; data without the ACK bit. Each
 * check is one function run once per state, the state a cmocka prestate.
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

/* ------------------------------------------------------ the checks */

/* RFC 5961 §3.2: a RST in the window but not at RCV.NXT: a challenge ACK,
 * the connection stays. */
static void
rst_in_window(void **state)
{
	struct fixture *fx = *state;
	enum st st = *(const enum st *)fx->param;
	struct conn c = reach(fx, st);
	peer_tcp(fx, c.port, c.rcv + 10, 0, RST, 65535, NULL, NULL);
	expect_ack(fx, c.snd, c.rcv);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_challenge_acks"), 1);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_rst_rx"), 0);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 1);
}

/* RFC 9293 §3.10.7.4 first check, RFC 5961 §3.2: a RST at exactly
 * RCV.NXT ends the connection: nothing more is sent, the flow is gone. */
static void
exact_rst(void **state)
{
	struct fixture *fx = *state;
	enum st st = *(const enum st *)fx->param;
	struct conn c = reach(fx, st);
	peer_tcp(fx, c.port, c.rcv, 0, RST, 65535, NULL, NULL);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_rst_rx"), 1);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_challenge_acks"), 0);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 0);
	if (c.port == 22 || c.port == 23) {
		assert_int_equal(fx->obs.last, FJ_ERROR);
		assert_int_equal(fx->obs.err, -ECONNRESET);
	}
	/* Nothing is retransmitted for a connection that is gone. */
	advance(fx, 10 * SEC);
	expect_nothing(fx);
}

/* RFC 5961 §3.2 (1): a RST outside the window is dropped silently. */
static void
rst_out_of_window(void **state)
{
	struct fixture *fx = *state;
	enum st st = *(const enum st *)fx->param;
	struct conn c = reach(fx, st);
	peer_tcp(fx, c.port, c.rcv + 5 * RCVBUF, 0, RST, 65535, NULL, NULL);
	peer_tcp(fx, c.port, c.rcv - 1000, 0, RST | ACK, 65535, NULL, NULL);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_rst_rx"), 0);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_challenge_acks"), 0);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 1);
}

/* RFC 9293 §3.10.7.4 fourth check, RFC 5961 §4.2: a SYN in a synchronized
 * state, whatever its sequence number: a challenge ACK, nothing else. */
static void
syn_in_state(void **state)
{
	struct fixture *fx = *state;
	enum st st = *(const enum st *)fx->param;
	struct conn c = reach(fx, st);
	peer_tcp(fx, c.port, c.rcv, 0, SYN, 65535, NULL, NULL);
	expect_ack(fx, c.snd, c.rcv);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_challenge_acks"), 1);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 1);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_passive_opens"), 1);
}

/* RFC 9293 §3.10.7.4 first check: data outside the window is not
 * acceptable: an ACK in reply, nothing delivered. */
static void
data_out_of_window(void **state)
{
	struct fixture *fx = *state;
	enum st st = *(const enum st *)fx->param;
	struct conn c = reach(fx, st);
	uint32_t bytes = fx->obs.bytes;
	peer_tcp(fx, c.port, c.rcv + 5 * RCVBUF, c.snd, ACK | PSH, 65535, NULL, "far away");
	expect_ack(fx, c.snd, c.rcv);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_out_of_window"), 1);
	assert_int_equal(fx->obs.bytes, bytes);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 1);
}

/* RFC 9293 §3.10.7.4 fifth check: an ACK of something not yet sent is
 * answered with an ACK and the segment dropped. */
static void
ack_of_unsent(void **state)
{
	struct fixture *fx = *state;
	enum st st = *(const enum st *)fx->param;
	struct conn c = reach(fx, st);
	peer_tcp(fx, c.port, c.rcv, c.snd + 1000, ACK, 65535, NULL, NULL);
	expect_ack(fx, c.snd, c.rcv);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 1);
}

/* RFC 9293 §3.10.7.4 fifth: "if the ACK bit is off, drop the segment":
 * data without it is neither delivered nor acknowledged; the same data
 * with an ACK is taken. */
static void
data_without_ack(void **state)
{
	struct fixture *fx = *state;
	enum st st = *(const enum st *)fx->param;
	struct conn c = reach(fx, st);
	peer_tcp(fx, c.port, c.rcv, 0, PSH, 65535, NULL, "naked");
	advance(fx, 100 * MS);
	expect_nothing(fx);
	assert_int_equal(fx->obs.bytes, 0);
	peer_tcp(fx, c.port, c.rcv, c.snd, ACK | PSH, 65535, NULL, "dressed");
	advance(fx, 100 * MS);
	expect_ack(fx, c.snd, c.rcv + 7);
	assert_int_equal(fx->obs.bytes, 7);
}

/* RFC 9293 §3.10.7.4 fifth, FIN-WAIT-1: an ACK beyond SND.NXT does not
 * acknowledge our FIN: it is answered, and the FIN still goes again. */
static void
test_fin_wait_1_ack_of_unsent_does_not_ack_our_fin(void **state)
{
	struct fixture *fx = *state;
	struct conn c = reach(fx, ST_FW1);
	peer_tcp(fx, c.port, c.rcv, c.snd + 1000, ACK, 65535, NULL, NULL);
	expect_ack(fx, c.snd, c.rcv);
	expect_nothing(fx);
	advance(fx, SEC + 2 * MS);
	expect_seg(fx, FIN | ACK, c.snd - 1, c.rcv, 0);
	expect_nothing(fx);
}

/* ------------------------------------------------------ main */

/* The states a check runs in, as cmocka prestates. */
static const enum st STATES[] = { ST_EST, ST_FW1, ST_FW2, ST_CW, ST_CLOSING, ST_LA, ST_TW };

/* A case named @n: @check in state ST_@st. */
#define IN(n, check, st)                                                                 \
	{ .name = #n, .test_func = check, .setup_func = tcp_setup,                     \
	  .teardown_func = teardown, .initial_state = (void *)&STATES[ST_##st] }

int
main(void)
{
	const struct CMUnitTest tests[] = {
		/* RST in the window (RFC 5961 §3.2) */
		IN(test_established_rst_in_window_gets_challenge_ack, rst_in_window, EST),
		IN(test_fin_wait_1_rst_in_window_gets_challenge_ack, rst_in_window, FW1),
		IN(test_fin_wait_2_rst_in_window_gets_challenge_ack, rst_in_window, FW2),
		IN(test_close_wait_rst_in_window_gets_challenge_ack, rst_in_window, CW),
		IN(test_closing_rst_in_window_gets_challenge_ack, rst_in_window, CLOSING),
		IN(test_last_ack_rst_in_window_gets_challenge_ack, rst_in_window, LA),
		IN(test_time_wait_rst_in_window_gets_challenge_ack, rst_in_window, TW),
		/* RST at RCV.NXT (RFC 9293 §3.10.7.4 first, RFC 5961 §3.2) */
		IN(test_established_exact_rst_tells_the_app, exact_rst, EST),
		IN(test_fin_wait_1_exact_rst_ends_the_flow, exact_rst, FW1),
		IN(test_fin_wait_2_exact_rst_ends_the_flow, exact_rst, FW2),
		IN(test_close_wait_exact_rst_ends_the_flow, exact_rst, CW),
		IN(test_closing_exact_rst_ends_the_flow, exact_rst, CLOSING),
		IN(test_last_ack_exact_rst_ends_the_flow, exact_rst, LA),
		/* RST outside the window (RFC 5961 §3.2 (1)) */
		IN(test_established_rst_out_of_window_is_ignored, rst_out_of_window, EST),
		IN(test_close_wait_rst_out_of_window_is_ignored, rst_out_of_window, CW),
		IN(test_time_wait_rst_out_of_window_is_ignored, rst_out_of_window, TW),
		/* SYN (RFC 9293 §3.10.7.4 fourth, RFC 5961 §4.2) */
		IN(test_established_syn_gets_challenge_ack, syn_in_state, EST),
		IN(test_fin_wait_1_syn_gets_challenge_ack, syn_in_state, FW1),
		IN(test_fin_wait_2_syn_gets_challenge_ack, syn_in_state, FW2),
		IN(test_close_wait_syn_gets_challenge_ack, syn_in_state, CW),
		IN(test_closing_syn_gets_challenge_ack, syn_in_state, CLOSING),
		IN(test_last_ack_syn_gets_challenge_ack, syn_in_state, LA),
		IN(test_time_wait_syn_gets_challenge_ack, syn_in_state, TW),
		/* data outside the window (RFC 9293 §3.10.7.4 first) */
		IN(test_established_data_out_of_window_gets_ack, data_out_of_window, EST),
		IN(test_fin_wait_1_data_out_of_window_gets_ack, data_out_of_window, FW1),
		IN(test_fin_wait_2_data_out_of_window_gets_ack, data_out_of_window, FW2),
		IN(test_close_wait_data_out_of_window_gets_ack, data_out_of_window, CW),
		IN(test_closing_data_out_of_window_gets_ack, data_out_of_window, CLOSING),
		IN(test_last_ack_data_out_of_window_gets_ack, data_out_of_window, LA),
		IN(test_time_wait_data_out_of_window_gets_ack, data_out_of_window, TW),
		/* ACK of unsent data (RFC 9293 §3.10.7.4 fifth) */
		IN(test_fin_wait_2_ack_of_unsent_gets_ack, ack_of_unsent, FW2),
		IN(test_close_wait_ack_of_unsent_gets_ack, ack_of_unsent, CW),
		IN(test_closing_ack_of_unsent_gets_ack, ack_of_unsent, CLOSING),
		/* data without the ACK bit (RFC 9293 §3.10.7.4 fifth) */
		IN(test_established_data_without_ack_is_dropped, data_without_ack, EST),
		IN(test_fin_wait_2_data_without_ack_is_dropped, data_without_ack, FW2),
		/* an ACK of unsent data does not acknowledge our FIN */
		TCP_CASE(test_fin_wait_1_ack_of_unsent_does_not_ack_our_fin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
