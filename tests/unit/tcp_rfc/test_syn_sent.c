/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP's active open against the scripted peer: our SYN's options (RFC
 * 9293 §3.7.1, RFC 7323, RFC 2018), SYN-SENT's segment processing (RFC
 * 9293 §3.10.7.3), refusal and time-out, and the simultaneous open of
 * RFC 9293 §3.5 figure 8.
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

/* ------------------------------------------------------ SYN_SENT */

/* RFC 9293 §3.7.1, RFC 7323 §2.2 and §3.2, RFC 2018 §2: our SYN offers
 * MSS 1460, shift 7, SACK, timestamps with TSecr 0; its window unscaled. */
static void
test_connect_syn_carries_all_options(void **state)
{
	struct fixture *fx = *state;
	struct fj_tcp_hdr syn = connect_syn(fx, client_cb);
	assert_int_equal(syn.dport, 80);
	assert_true(syn.o.has_mss);
	assert_int_equal(syn.o.mss, 1460);
	assert_true(syn.o.has_ws);
	assert_int_equal(syn.o.ws, 7);
	assert_true(syn.o.sack_perm);
	assert_true(syn.o.has_ts);
	assert_int_equal(syn.o.tsecr, 0);
	assert_int_equal(syn.wnd, 65535);
	assert_int_equal(syn.urg, 0);
	expect_nothing(fx);
}

/* RFC 9293 §3.10.7.3 first: a SYN-ACK whose ACK is not ours (beyond
 * SND.NXT, or at or below ISS): RST <SEQ=SEG.ACK>; still connecting. */
static void
test_connect_syn_ack_with_bad_ack_gets_rst(void **state)
{
	struct fixture *fx = *state;
	struct fj_tcp_hdr syn = connect_syn(fx, client_cb);
	from80(fx, 9000, syn.seq + 5, SYN | ACK, 1000, NULL, NULL);
	expect_to80(fx, RST, syn.seq + 5, 0, 0);
	from80(fx, 9000, syn.seq, SYN | ACK, 1000, NULL, NULL);
	expect_to80(fx, RST, syn.seq, 0, 0);
	expect_nothing(fx);
	assert_int_equal(fx->client.events, 0);
	from80(fx, 9000, syn.seq + 1, SYN | ACK, 1000, NULL, NULL);
	expect_to80(fx, ACK, syn.seq + 1, 9001, 0);
	assert_int_equal(fx->client.events, 1);
	assert_int_equal(fx->client.last, FJ_AGAIN);
}

/* RFC 9293 §3.10.7.3 second: a RST without ACK in SYN_SENT is dropped;
 * the SYN is retransmitted as if nothing came. */
static void
test_connect_rst_without_ack_is_ignored(void **state)
{
	struct fixture *fx = *state;
	struct fj_tcp_hdr syn = connect_syn(fx, client_cb);
	from80(fx, 9000, 0, RST, 1000, NULL, NULL);
	expect_nothing(fx);
	assert_int_equal(fx->client.events, 0);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 1);
	advance(fx, SEC + MS);
	uint16_t p;
	struct fj_tcp_hdr again = expect_syn(fx, &p);
	assert_int_equal(p, fx->cport);
	assert_int_equal(again.seq, syn.seq);
}

/* RFC 9293 §3.10.7.3 first: a RST whose ACK is not acceptable is dropped
 * (no RST answers a RST); the connection still completes. */
static void
test_connect_rst_with_wrong_ack_is_ignored(void **state)
{
	struct fixture *fx = *state;
	struct fj_tcp_hdr syn = connect_syn(fx, client_cb);
	from80(fx, 0, syn.seq + 77, RST | ACK, 1000, NULL, NULL);
	expect_nothing(fx);
	assert_int_equal(fx->client.events, 0);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_rst_rx"), 0);
	from80(fx, 9000, syn.seq + 1, SYN | ACK, 1000, NULL, NULL);
	expect_to80(fx, ACK, syn.seq + 1, 9001, 0);
	assert_int_equal(fx->client.last, FJ_AGAIN);
}

/* RFC 9293 §3.10.7.3 fifth: neither SYN nor RST (a plain ACK, even an
 * acceptable one): dropped; still SYN_SENT. */
static void
test_connect_plain_ack_in_syn_sent_is_dropped(void **state)
{
	struct fixture *fx = *state;
	struct fj_tcp_hdr syn = connect_syn(fx, client_cb);
	from80(fx, 9000, syn.seq + 1, ACK, 1000, NULL, NULL);
	expect_nothing(fx);
	assert_int_equal(fx->client.events, 0);
	advance(fx, SEC + MS);
	uint16_t p;
	expect_syn(fx, &p);
	assert_int_equal(p, fx->cport);
}

/* RFC 9293 §3.10.7.3, RFC 7323: a good SYN-ACK: our ACK with the peer's
 * TSval echoed, our window now scaled (shift 7); the client is told. */
static void
test_connect_syn_ack_completes_with_scaling_and_timestamps(void **state)
{
	struct fixture *fx = *state;
	struct fj_tcp_hdr syn = connect_syn(fx, client_cb);
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000, .has_ws = true, .ws = 3,
				 .sack_perm = true, .has_ts = true, .tsval = 5555,
				 .tsecr = syn.o.tsval };
	from80(fx, 9000, syn.seq + 1, SYN | ACK, 1000, &o, NULL);
	struct fj_tcp_hdr a = expect_to80(fx, ACK, syn.seq + 1, 9001, 0);
	assert_true(a.o.has_ts);
	assert_int_equal(a.o.tsecr, 5555);
	assert_int_equal(a.wnd, RCVBUF >> 7);
	expect_nothing(fx);
	assert_int_equal(fx->client.events, 1);
	assert_int_equal(fx->client.last, FJ_AGAIN);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_established"), 1);
}

/* RFC 7323 §2.2: a SYN-ACK without window scale: no scaling either way,
 * our windows at most 65535, their right edge steady. */
static void
test_connect_syn_ack_without_scale_keeps_windows_unscaled(void **state)
{
	struct fixture *fx = *state;
	struct fj_tcp_hdr syn = connect_syn(fx, client_cb);
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000 };
	from80(fx, 9000, syn.seq + 1, SYN | ACK, 1000, &o, NULL);
	struct fj_tcp_hdr a = expect_to80(fx, ACK, syn.seq + 1, 9001, 0);
	assert_false(a.o.has_ts);
	assert_int_equal(a.wnd, 65535);
	from80(fx, 9001, syn.seq + 1, ACK | PSH, 1000, NULL, "abc");
	advance(fx, 50 * MS);
	a = expect_to80(fx, ACK, syn.seq + 1, 9004, 0);
	assert_int_equal(a.ack + a.wnd, 9001 + 65535);
	expect_nothing(fx);
}

/* RFC 7323 §2.2, RFC 9293 §3.7.1: the SYN-ACK's window (1000) is not
 * scaled even though it carries a shift; its MSS (500) sizes our data. */
static void
test_connect_syn_ack_window_is_unscaled_and_mss_applies(void **state)
{
	struct fixture *fx = *state;
	fx->client.write_total = 3000;
	struct fj_tcp_hdr syn = connect_syn(fx, client_writer);
	struct fj_tcp_opts o = { .has_mss = true, .mss = 500, .has_ws = true, .ws = 3 };
	from80(fx, 9000, syn.seq + 1, SYN | ACK, 1000, &o, NULL);
	expect_to80(fx, ACK, syn.seq + 1, 9001, 0);
	struct seg s = next_seg(fx);
	assert_int_equal(s.h.flags & ~PSH, ACK);
	assert_int_equal(s.h.seq, syn.seq + 1);
	assert_int_equal(s.plen, 500);
	s = next_seg(fx);
	assert_int_equal(s.h.flags & ~PSH, ACK);
	assert_int_equal(s.h.seq, syn.seq + 501);
	assert_int_equal(s.plen, 500);
	expect_nothing(fx);
	/* The next ACK's window is scaled: 125 << 3 = 1000 bytes more. */
	from80(fx, 9001, syn.seq + 1001, ACK, 125, NULL, NULL);
	s = next_seg(fx);
	assert_int_equal(s.h.seq, syn.seq + 1001);
	assert_int_equal(s.plen, 500);
	s = next_seg(fx);
	assert_int_equal(s.h.seq, syn.seq + 1501);
	assert_int_equal(s.plen, 500);
	expect_nothing(fx);
}

/* RFC 9293 §3.5, RFC 6335 §6: from an ephemeral port, the handshake and
 * then the peer's data and FIN reach the client in order. */
static void
test_connect_handshake_and_data(void **state)
{
	struct fixture *fx = *state;
	struct fj_tcp_hdr syn = connect_syn(fx, client_cb);
	assert_true(fx->cport >= 49152);
	assert_true(syn.o.has_mss && syn.o.has_ws);
	/* The peer's SYN-ACK without window scaling: none either way. */
	struct fj_tcp_opts o = { .has_mss = true, .mss = 536 };
	from80(fx, 9000, syn.seq + 1, SYN | ACK, 1000, &o, NULL);
	struct seg a = next_seg(fx);
	assert_int_equal(a.h.flags, ACK);
	assert_int_equal(a.h.ack, 9001);
	assert_int_equal(fx->client.events, 1);
	assert_int_equal(fx->client.last, FJ_AGAIN);
	/* Data and the peer's FIN reach the client. */
	from80(fx, 9001, syn.seq + 1, ACK | FIN, 1000, NULL, "page");
	assert_true(fx->client.events >= 2);
	assert_int_equal(fx->client.last, FJ_DATA);
	struct fj_buf *b = NULL;
	assert_int_equal(fj_flow_read(fx->client.flow, &b), FJ_EOF);
	fj_flow_close(fx->client.flow);
}

/* RFC 9293 §3.10.7.3 second: an acceptable RST in SYN-SENT: "connection
 * reset" (refused), the connection is gone. */
static void
test_connect_refused_by_rst(void **state)
{
	struct fixture *fx = *state;
	struct fj_tcp_hdr syn = connect_syn(fx, client_cb);
	struct fj_flow *c = fx->client.flow;
	from80(fx, 0, syn.seq + 1, RST | ACK, 1000, NULL, NULL);
	assert_int_equal(fx->client.events, 1);
	assert_int_equal(fx->client.last, FJ_ERROR);
	assert_int_equal(fj_flow_error(c), -ECONNREFUSED);
	fj_flow_close(c);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 0);
}

/* RFC 6298 §5.5, RFC 1122 §4.2.3.5: the SYN is retransmitted with the
 * timer backing off, and after R2 the attempt fails. */
static void
test_connect_times_out_after_syn_retries(void **state)
{
	struct fixture *fx = *state;
	connect_syn(fx, client_cb);
	struct fj_flow *c = fx->client.flow;
	/* SYNs again after 1, 2, 4, 8, 16, 32 s; then the attempt fails. */
	uint64_t wait = SEC;
	for (int i = 0; i < 6; i++) {
		advance(fx, wait + 1000);
		expect_syn(fx, NULL);
		wait *= 2;
	}
	advance(fx, wait + 1000);
	assert_int_equal(fx->client.last, FJ_ERROR);
	assert_int_equal(fj_flow_error(c), -ETIMEDOUT);
	fj_flow_close(c);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 0);
}

/* ------------------------------------------------------ simultaneous open */

/* RFC 9293 §3.5 figure 8: our SYN and the peer's cross. */
static void
test_simultaneous_open(void **state)
{
	struct fixture *fx = *state;
	struct fj_tcp_hdr syn = connect_syn(fx, client_cb);
	struct fj_flow *c = fx->client.flow;
	assert_non_null(c);
	/* The peer's own SYN: SYN_RCVD, our SYN again with an ACK. */
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000, .sack_perm = true };
	from80(fx, 7000, 0, SYN, 1000, &o, NULL);
	struct fj_tcp_hdr sa = next_seg(fx).h;
	assert_int_equal(sa.flags, SYN | ACK);
	assert_int_equal(sa.seq, syn.seq);
	assert_int_equal(sa.ack, 7001);
	assert_true(sa.o.has_mss && sa.o.sack_perm);
	assert_false(sa.o.has_ws); /* the peer's SYN had no window scale */
	assert_int_equal(fx->client.events, 0);
	/* The peer's SYN-ACK (its SYN again, acknowledging ours): established. */
	from80(fx, 7000, syn.seq + 1, SYN | ACK, 1000, &o, NULL);
	assert_int_equal(fx->client.events, 1);
	assert_int_equal(fx->client.last, FJ_AGAIN);
	expect_nothing(fx);
	/* Data both ways. */
	struct fj_buf *b = fj_buf_alloc(fx->stack, 3);
	memcpy(fj_buf_data(b), "abc", 3);
	assert_int_equal(fj_flow_write(c, b), 0);
	fj_stack_poll(fx->stack);
	struct seg d = next_seg(fx);
	assert_int_equal(d.h.seq, syn.seq + 1);
	assert_int_equal(d.h.ack, 7001);
	assert_int_equal(d.plen, 3);
	fj_flow_abort(c);
	fj_stack_poll(fx->stack);
	(void)next_seg(fx); /* the RST */
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 0);
}

/* RFC 9293 §3.10.7.4 fifth (SYN-RECEIVED): the other way a simultaneous
 * open completes, a plain ACK. And §3.10.7.4 second: a RST in SYN_RCVD of
 * an active open is a refusal the application hears. */
static void
test_simultaneous_open_ack_and_refusal(void **state)
{
	struct fixture *fx = *state;
	struct fj_tcp_hdr syn = connect_syn(fx, client_cb);
	from80(fx, 7000, 0, SYN, 1000, NULL, NULL);
	(void)next_seg(fx); /* our SYN-ACK */
	from80(fx, 7001, syn.seq + 1, ACK, 1000, NULL, NULL);
	assert_int_equal(fx->client.events, 1);
	assert_int_equal(fx->client.last, FJ_AGAIN);
	fj_flow_close(fx->client.flow);
	fj_stack_poll(fx->stack);
	(void)next_seg(fx); /* our FIN */
	/* A second one, refused while in SYN_RCVD. */
	fx->client.events = 0;
	connect_syn(fx, client_cb);
	struct fj_flow *c = fx->client.flow;
	from80(fx, 8000, 0, SYN, 1000, NULL, NULL);
	(void)next_seg(fx);
	from80(fx, 8001, 0, RST, 1000, NULL, NULL);
	assert_int_equal(fx->client.events, 1);
	assert_int_equal(fx->client.last, FJ_ERROR);
	assert_int_equal(fj_flow_error(c), -ECONNREFUSED);
	fj_flow_close(c);
	/* (the first flow waits in FIN_WAIT_1) */
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		/* SYN_SENT */
		TCP_CASE(test_connect_syn_carries_all_options),
		TCP_CASE(test_connect_syn_ack_with_bad_ack_gets_rst),
		TCP_CASE(test_connect_rst_without_ack_is_ignored),
		TCP_CASE(test_connect_rst_with_wrong_ack_is_ignored),
		TCP_CASE(test_connect_plain_ack_in_syn_sent_is_dropped),
		TCP_CASE(test_connect_syn_ack_completes_with_scaling_and_timestamps),
		TCP_CASE(test_connect_syn_ack_without_scale_keeps_windows_unscaled),
		TCP_CASE(test_connect_syn_ack_window_is_unscaled_and_mss_applies),
		TCP_CASE(test_connect_handshake_and_data),
		TCP_CASE(test_connect_refused_by_rst),
		TCP_CASE(test_connect_times_out_after_syn_retries),
		/* simultaneous open */
		TCP_CASE(test_simultaneous_open),
		TCP_CASE(test_simultaneous_open_ack_and_refusal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
