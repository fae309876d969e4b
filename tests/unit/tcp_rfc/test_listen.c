/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP's passive open against the scripted peer: segments to a listener
 * (RFC 9293 §3.10.7.2), to no one (§3.10.7.1), in SYN-RECEIVED (§3.10.7.4,
 * RFC 5961), the initial sequence number (RFC 6528) and SYN cookies
 * under a flood (RFC 4987).
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

/* ------------------------------------------------------ LISTEN */

/* RFC 9293 §3.10.7.2 first: a RST to a listener is ignored. */
static void
test_listen_rst_is_ignored(void **state)
{
	struct fixture *fx = *state;
	peer_tcp(fx, 7, fx->peer_iss, 0, RST, 65535, NULL, NULL);
	peer_tcp(fx, 7, fx->peer_iss, 1234, RST | ACK, 65535, NULL, NULL);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 0);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_rst_tx"), 0);
}

/* RFC 9293 §3.10.7.2 second: an ACK (here with data) to a listener: RST
 * <SEQ=SEG.ACK>, no ACK bit; no connection is made. */
static void
test_listen_ack_with_data_gets_rst_from_its_ack(void **state)
{
	struct fixture *fx = *state;
	peer_tcp(fx, 7, fx->peer_iss, 0x80000001u, ACK | PSH, 65535, NULL, "hello");
	expect_seg(fx, RST, 0x80000001u, 0, 0);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 0);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_rst_tx"), 1);
}

/* RFC 9293 §3.10.7.2: a SYN-ACK to a listener is an ACK: RST <SEQ=SEG.ACK>. */
static void
test_listen_syn_ack_gets_rst(void **state)
{
	struct fixture *fx = *state;
	peer_tcp(fx, 7, fx->peer_iss, 4242, SYN | ACK, 65535, NULL, NULL);
	expect_seg(fx, RST, 4242, 0, 0);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 0);
}

/* RFC 9293 §3.10.7.2: the RST check comes first: SYN+RST is ignored. */
static void
test_listen_syn_with_rst_is_ignored(void **state)
{
	struct fixture *fx = *state;
	peer_tcp(fx, 7, fx->peer_iss, 0, SYN | RST, 65535, NULL, NULL);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 0);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_passive_opens"), 0);
}

/* RFC 9293 §3.10.7.2 fourth: neither SYN, ACK nor RST (a bare FIN with
 * data): "drop the segment and return" -- no reset. */
static void
test_listen_segment_without_syn_or_ack_is_dropped(void **state)
{
	struct fixture *fx = *state;
	peer_tcp(fx, 7, fx->peer_iss, 0, FIN | PSH, 65535, NULL, "stray");
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 0);
}

/* RFC 9293 §3.1: a bad checksum: dropped silently, counted, no state. */
static void
test_listen_syn_with_bad_checksum_is_dropped(void **state)
{
	struct fixture *fx = *state;
	send_seg(fx, (struct pseg){ .dport = 7, .seq = fx->peer_iss, .flags = SYN, .wnd = 65535,
				    .bad_csum = true });
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "drop_tcp_checksum"), 1);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 0);
}

/* RFC 9293 §3.10.7.2 third: the SYN-ACK acknowledges the SYN only; a FIN
 * on the SYN is handled later or retransmitted by the peer, never lost. */
static void
test_listen_syn_fin_is_handled_sanely(void **state)
{
	struct fixture *fx = *state;
	peer_tcp(fx, 22, fx->peer_iss, 0, SYN | FIN, 65535, NULL, NULL);
	struct fj_tcp_hdr sa = expect_tcp(fx, SYN | ACK, NULL, NULL);
	assert_int_equal(sa.ack, fx->peer_iss + 1);
	peer_tcp(fx, 22, fx->peer_iss + 1, sa.seq + 1, ACK, 65535, NULL, NULL);
	while (fx->seen < fx->nout) {
		struct seg s = next_seg(fx);
		assert_int_equal(s.h.flags, ACK);
		assert_true(s.h.ack == fx->peer_iss + 1 || s.h.ack == fx->peer_iss + 2);
	}
	/* The peer, unanswered, sends its FIN again: acknowledged, EOF. */
	peer_tcp(fx, 22, fx->peer_iss + 1, sa.seq + 1, FIN | ACK, 65535, NULL, NULL);
	expect_ack(fx, sa.seq + 1, fx->peer_iss + 2);
	expect_nothing(fx);
	assert_int_equal(fx->obs.last, FJ_EOF);
	assert_int_equal(fx->obs.bytes, 0);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 1);
}

/* RFC 9293 §3.10.7.2 third: data on a SYN may be queued or left for the
 * peer to resend; either way it reaches the application once. */
static void
test_listen_syn_with_data_delivers_it_once(void **state)
{
	struct fixture *fx = *state;
	peer_tcp(fx, 7, fx->peer_iss, 0, SYN, 65535, NULL, "early");
	struct fj_tcp_hdr sa = expect_tcp(fx, SYN | ACK, NULL, NULL);
	uint32_t iss1 = sa.seq + 1;
	if (sa.ack == fx->peer_iss + 1) {
		/* Not taken: the peer sends it again with its ACK. */
		peer_tcp(fx, 7, fx->peer_iss + 1, iss1, ACK | PSH, 65535, NULL, "early");
	} else {
		assert_int_equal(sa.ack, fx->peer_iss + 6);
		peer_tcp(fx, 7, fx->peer_iss + 6, iss1, ACK, 65535, NULL, NULL);
	}
	expect_text(fx, ACK | PSH, iss1, fx->peer_iss + 6, "early");
	expect_nothing(fx);
}

/* RFC 6528 §3: ISN = M + F(4-tuple, key), M a 4-microsecond clock: the
 * same 4-tuple one second later starts 250000 further on. */
static void
test_isn_advances_with_a_4us_clock(void **state)
{
	struct fixture *fx = *state;
	peer_tcp(fx, 7, fx->peer_iss, 0, SYN, 65535, NULL, NULL);
	struct fj_tcp_hdr a = expect_tcp(fx, SYN | ACK, NULL, NULL);
	peer_tcp(fx, 7, fx->peer_iss + 1, 0, RST, 65535, NULL, NULL); /* gone again */
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 0);
	advance(fx, SEC);
	expect_nothing(fx);
	peer_tcp(fx, 7, fx->peer_iss, 0, SYN, 65535, NULL, NULL);
	struct fj_tcp_hdr b = expect_tcp(fx, SYN | ACK, NULL, NULL);
	assert_int_equal(b.seq - a.seq, SEC / 4);
	/* Another port of the peer: another, unrelated ISN. */
	send_seg(fx, (struct pseg){ .sport = PPORT + 1, .dport = 7, .seq = fx->peer_iss,
				    .flags = SYN, .wnd = 65535 });
	struct seg c = next_seg(fx);
	assert_int_equal(c.h.flags, SYN | ACK);
	assert_int_equal(c.h.dport, PPORT + 1);
	assert_true(c.h.seq != b.seq);
}

/* ------------------------------------------------------ CLOSED */

/* RFC 9293 §3.10.7.1 (CLOSED): a SYN gets <SEQ=0><ACK=SEG.SEQ+SEG.LEN>
 * <CTL=RST,ACK>, an ACK gets <SEQ=SEG.ACK><CTL=RST>, a RST nothing. */
static void
test_syn_to_a_closed_port_gets_rst(void **state)
{
	struct fixture *fx = *state;
	peer_tcp(fx, 99, fx->peer_iss, 0, SYN, 65535, NULL, NULL);
	struct fj_tcp_hdr r = expect_tcp(fx, RST | ACK, NULL, NULL);
	assert_int_equal(r.seq, 0);
	assert_int_equal(r.ack, fx->peer_iss + 1);
	/* An ACK to nobody: RST with SEQ = SEG.ACK (RFC 9293 §3.10.7.1). */
	peer_tcp(fx, 99, fx->peer_iss, 777, ACK, 65535, NULL, NULL);
	r = expect_tcp(fx, RST, NULL, NULL);
	assert_int_equal(r.seq, 777);
	/* A RST to nobody: silence. */
	peer_tcp(fx, 99, fx->peer_iss, 777, RST, 65535, NULL, NULL);
	expect_nothing(fx);
}

/* RFC 9293 §3.10.7.1: an ACK for a connection that is over (not even
 * TIME_WAIT: we closed last) is answered with RST <SEQ=SEG.ACK>. */
static void
test_ack_for_a_finished_connection_gets_rst(void **state)
{
	struct fixture *fx = *state;
	struct conn c = reach(fx, ST_LA);
	peer_tcp(fx, 7, c.rcv, c.snd, ACK, 65535, NULL, NULL);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 0);
	peer_tcp(fx, 7, c.rcv, c.snd, ACK | PSH, 65535, NULL, "late");
	expect_seg(fx, RST, c.snd, 0, 0);
	expect_nothing(fx);
}

/* ------------------------------------------------------ SYN_RCVD */

/* RFC 5961 §3.2 (all states but SYN-SENT): a RST in the window, not exact:
 * a challenge ACK; the half-open connection still completes. */
static void
test_syn_rcvd_rst_in_window_gets_challenge_ack(void **state)
{
	struct fixture *fx = *state;
	peer_tcp(fx, 22, fx->peer_iss, 0, SYN, 65535, NULL, NULL);
	struct fj_tcp_hdr sa = expect_tcp(fx, SYN | ACK, NULL, NULL);
	peer_tcp(fx, 22, fx->peer_iss + 100, 0, RST, 65535, NULL, NULL);
	expect_ack(fx, sa.seq + 1, fx->peer_iss + 1);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_challenge_acks"), 1);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 1);
	peer_tcp(fx, 22, fx->peer_iss + 1, sa.seq + 1, ACK, 65535, NULL, NULL);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_established"), 1);
	assert_int_equal(fx->obs.events, 1);
}

/* RFC 5961 §3.2 (1): a RST outside the window in SYN_RCVD: silence. */
static void
test_syn_rcvd_rst_out_of_window_is_ignored(void **state)
{
	struct fixture *fx = *state;
	peer_tcp(fx, 22, fx->peer_iss, 0, SYN, 65535, NULL, NULL);
	struct fj_tcp_hdr sa = expect_tcp(fx, SYN | ACK, NULL, NULL);
	peer_tcp(fx, 22, fx->peer_iss + 1 + 5 * RCVBUF, 0, RST, 65535, NULL, NULL);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 1);
	peer_tcp(fx, 22, fx->peer_iss + 1, sa.seq + 1, ACK, 65535, NULL, NULL);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_established"), 1);
}

/* RFC 9293 §3.10.7.4 second (SYN-RECEIVED from a passive open): a RST at
 * RCV.NXT returns to LISTEN: the half-open connection is freed. */
static void
test_rst_in_syn_rcvd_with_exact_sequence_frees_the_flow(void **state)
{
	struct fixture *fx = *state;
	peer_tcp(fx, 7, fx->peer_iss, 0, SYN, 65535, NULL, NULL);
	expect_tcp(fx, SYN | ACK, NULL, NULL);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 1);
	peer_tcp(fx, 7, fx->peer_iss + 1, 0, RST, 65535, NULL, NULL);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 0);
}

/* RFC 9293 §3.10.7.4: our SYN-ACK lost, the peer's SYN again: the same
 * SYN-ACK (same ISN, same options), not a second connection. */
static void
test_syn_rcvd_repeated_syn_gets_the_same_syn_ack(void **state)
{
	struct fixture *fx = *state;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1200, .has_ws = true, .ws = 5,
				 .sack_perm = true };
	peer_tcp(fx, 7, fx->peer_iss, 0, SYN, 65535, &o, NULL);
	struct fj_tcp_hdr a = expect_tcp(fx, SYN | ACK, NULL, NULL);
	/* RFC 9293 §3.7.1, RFC 7323 §2.2: our MSS and shift, whatever the
	 * peer's. */
	assert_int_equal(a.ack, fx->peer_iss + 1);
	assert_true(a.o.has_mss && a.o.mss == 1460);
	assert_true(a.o.has_ws && a.o.ws == 7);
	advance(fx, 300 * MS);
	peer_tcp(fx, 7, fx->peer_iss, 0, SYN, 65535, &o, NULL);
	struct fj_tcp_hdr b = expect_tcp(fx, SYN | ACK, NULL, NULL);
	expect_nothing(fx);
	assert_int_equal(b.seq, a.seq);
	assert_int_equal(b.ack, fx->peer_iss + 1);
	assert_int_equal(b.wnd, a.wnd);
	assert_true(b.o.has_mss && b.o.mss == 1460);
	assert_true(b.o.has_ws && b.o.ws == 7);
	assert_true(b.o.sack_perm);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 1);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_passive_opens"), 1);
	/* The SYN once more without options: the SYN-ACK again. */
	peer_tcp(fx, 7, fx->peer_iss, 0, SYN, 65535, NULL, NULL);
	(void)next_frame(fx, &(uint32_t){ 0 });
}

/* RFC 9293 §3.10.7.4 fifth, SYN-RECEIVED: an ACK of our ISS itself (too
 * old) or of what was never sent (too new) is not acceptable: RST
 * <SEQ=SEG.ACK>; the connection waits on for the right one. */
static void
test_syn_rcvd_unacceptable_ack_gets_rst(void **state)
{
	struct fixture *fx = *state;
	peer_tcp(fx, 7, fx->peer_iss, 0, SYN, 65535, NULL, NULL);
	struct fj_tcp_hdr sa = expect_tcp(fx, SYN | ACK, NULL, NULL);
	peer_tcp(fx, 7, fx->peer_iss + 1, sa.seq, ACK, 65535, NULL, NULL);
	expect_seg(fx, RST, sa.seq, 0, 0);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_established"), 0);
	peer_tcp(fx, 7, fx->peer_iss + 1, sa.seq + 77, ACK, 65535, NULL, NULL);
	expect_seg(fx, RST, sa.seq + 77, 0, 0);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_established"), 0);
	peer_tcp(fx, 7, fx->peer_iss + 1, sa.seq + 1, ACK, 65535, NULL, NULL);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_established"), 1);
}

/* RFC 9293 §3.10.7.4 fifth: without the ACK bit a segment is dropped, even
 * with data; the handshake completes later without it. */
static void
test_syn_rcvd_data_without_ack_is_dropped(void **state)
{
	struct fixture *fx = *state;
	peer_tcp(fx, 22, fx->peer_iss, 0, SYN, 65535, NULL, NULL);
	struct fj_tcp_hdr sa = expect_tcp(fx, SYN | ACK, NULL, NULL);
	peer_tcp(fx, 22, fx->peer_iss + 1, 0, PSH, 65535, NULL, "noack");
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_established"), 0);
	peer_tcp(fx, 22, fx->peer_iss + 1, sa.seq + 1, ACK, 65535, NULL, NULL);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_established"), 1);
	assert_int_equal(fx->obs.bytes, 0);
	assert_int_equal(fx->obs.last, FJ_AGAIN);
}

/* RFC 9293 §3.10.7.4: the ACK that completes the handshake may carry
 * data: it is taken (and echoed) at once. */
static void
test_syn_rcvd_handshake_ack_carries_data(void **state)
{
	struct fixture *fx = *state;
	peer_tcp(fx, 7, fx->peer_iss, 0, SYN, 65535, NULL, NULL);
	struct fj_tcp_hdr sa = expect_tcp(fx, SYN | ACK, NULL, NULL);
	peer_tcp(fx, 7, fx->peer_iss + 1, sa.seq + 1, ACK | PSH, 65535, NULL, "hello");
	expect_text(fx, ACK | PSH, sa.seq + 1, fx->peer_iss + 6, "hello");
	expect_nothing(fx);
}

/* RFC 9293 §3.10.7.4 eighth: a FIN on the handshake's ACK: CLOSE_WAIT;
 * the echo closes, our FIN follows. */
static void
test_syn_rcvd_handshake_ack_carries_fin(void **state)
{
	struct fixture *fx = *state;
	peer_tcp(fx, 7, fx->peer_iss, 0, SYN, 65535, NULL, NULL);
	struct fj_tcp_hdr sa = expect_tcp(fx, SYN | ACK, NULL, NULL);
	peer_tcp(fx, 7, fx->peer_iss + 1, sa.seq + 1, FIN | ACK, 65535, NULL, NULL);
	expect_ack(fx, sa.seq + 1, fx->peer_iss + 2);
	expect_seg(fx, FIN | ACK, sa.seq + 1, fx->peer_iss + 2, 0);
	expect_nothing(fx);
	peer_tcp(fx, 7, fx->peer_iss + 2, sa.seq + 2, ACK, 65535, NULL, NULL);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 0);
}

/* RFC 6298 §5.5, RFC 1122 §4.2.3.5: the SYN-ACK goes again as the timer
 * backs off (1, 2, 4, 8, 16 s), then the half-open connection is dropped. */
static void
test_syn_ack_is_retransmitted_then_given_up(void **state)
{
	struct fixture *fx = *state;
	peer_tcp(fx, 7, fx->peer_iss, 0, SYN, 65535, NULL, NULL);
	struct fj_tcp_hdr sa = expect_tcp(fx, SYN | ACK, NULL, NULL);
	uint64_t wait = SEC;
	for (int i = 0; i < 5; i++) {
		advance(fx, wait + 1000);
		struct fj_tcp_hdr r = expect_tcp(fx, SYN | ACK, NULL, NULL);
		assert_int_equal(r.seq, sa.seq);
		wait *= 2;
	}
	advance(fx, wait + 1000);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 0);
}

/* ------------------------------------------------------ SYN floods and cookies */

/* A SYN flood from @n ports of PEER; what the stack answers is discarded. */
static void
syn_flood(struct fixture *fx, int n)
{
	fx->discard_tx = true;
	for (int i = 0; i < n; i++)
		send_seg(fx, (struct pseg){ .sport = (uint16_t)(1000 + i), .dport = 7,
					    .seq = fx->peer_iss, .flags = SYN, .wnd = 65535 });
	fx->discard_tx = false;
}

/* RFC 4987 §3.6: the half-open backlog is bounded (1024); SYNs past
 * it get cookies and keep no state; unanswered half-open flows time out. */
static void
test_half_open_connections_are_bounded(void **state)
{
	struct fixture *fx = *state;
	/* At most the backlog is kept; SYNs past it get cookies, no state. */
	syn_flood(fx, 1100);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 1024);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_syncookies_sent"), 1100 - 1024);
	/* Unanswered SYN-ACKs are retried, then the half-open flows go. */
	fx->discard_tx = true;
	for (int i = 0; i < 70; i++)
		advance(fx, SEC);
	fx->discard_tx = false;
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 0);
	/* A client gets in the usual way afterwards. */
	open_flow(fx, 7, 65535, true);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 1);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_syncookies_ok"), 0);
}

/* RFC 4987 §3.6: during a flood a client still gets in, with its options
 * carried in the cookie and our TSval. */
static void
test_syn_cookie_lets_a_client_in_during_a_flood(void **state)
{
	struct fixture *fx = *state;
	syn_flood(fx, 1024);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 1024);
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000, .has_ws = true, .ws = 2,
				 .sack_perm = true, .has_ts = true, .tsval = 777 };
	peer_tcp(fx, 7, fx->peer_iss, 0, SYN, 65535, &o, NULL);
	struct fj_tcp_hdr sa = expect_tcp(fx, SYN | ACK, NULL, NULL);
	assert_int_equal(sa.ack, fx->peer_iss + 1);
	assert_true(sa.o.has_mss && sa.o.has_ws && sa.o.sack_perm && sa.o.has_ts);
	assert_int_equal(sa.o.tsecr, 777);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 1024); /* nothing kept */
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_syncookies_sent"), 1);
	/* The ACK brings the cookie back: the flow exists and echoes, with
	 * the client's window shift and MSS (1000 rounds down to 536). */
	struct fj_tcp_opts a = { .has_ts = true, .tsval = 778, .tsecr = sa.o.tsval };
	peer_tcp(fx, 7, fx->peer_iss + 1, sa.seq + 1, ACK, 100, &a, NULL);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_syncookies_ok"), 1);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_flows"), 1025);
	char big[1001];
	memset(big, 'x', 1000);
	big[1000] = 0;
	a.tsval = 779;
	peer_tcp(fx, 7, fx->peer_iss + 1, sa.seq + 1, ACK | PSH, 100, &a, big);
	uint32_t plen;
	struct fj_tcp_hdr d = expect_tcp(fx, ACK, &plen, NULL);
	assert_int_equal(plen, 400); /* the window, 100 << 2 */
	assert_int_equal(d.seq, sa.seq + 1);
	assert_int_equal(d.ack, fx->peer_iss + 1 + 1000);
	/* Our timestamps never go back from the SYN-ACK's (the client's PAWS). */
	assert_true((int32_t)(d.o.tsval - sa.o.tsval) > 0);
	assert_int_equal(d.o.tsecr, 779);
	expect_nothing(fx);
	/* A wider window: segments of the cookie's MSS, less the timestamps. */
	a.tsval = 780;
	peer_tcp(fx, 7, fx->peer_iss + 1001, sa.seq + 401, ACK, 1000, &a, NULL);
	d = expect_tcp(fx, ACK, &plen, NULL);
	assert_int_equal(plen, 536 - 12);
	d = expect_tcp(fx, ACK | PSH, &plen, NULL);
	assert_int_equal(plen, 1000 - 400 - 524);
	expect_nothing(fx);
}

/* RFC 4987 §3.6, RFC 9293 §3.10.7.2 second: an ACK whose cookie does not
 * check (guessed, for another ISN, or two periods old) gets RST
 * <SEQ=SEG.ACK> and is counted; a cookie in time is taken. */
static void
test_syn_cookie_forged_or_stale_gets_rst(void **state)
{
	struct fixture *fx = *state;
	syn_flood(fx, 1024);
	peer_tcp(fx, 7, fx->peer_iss, 0, SYN, 65535, NULL, NULL);
	struct fj_tcp_hdr sa = expect_tcp(fx, SYN | ACK, NULL, NULL);
	/* Without the client's timestamps: no window scaling, no SACK. */
	assert_true(sa.o.has_mss);
	assert_false(sa.o.has_ws || sa.o.sack_perm || sa.o.has_ts);
	/* A guessed cookie is refused with a RST, and counted. */
	peer_tcp(fx, 7, fx->peer_iss + 1, sa.seq + 2, ACK, 100, NULL, NULL);
	struct fj_tcp_hdr r = expect_tcp(fx, RST, NULL, NULL);
	assert_int_equal(r.seq, sa.seq + 2);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_syncookies_failed"), 1);
	/* The right cookie for another client ISN too. */
	peer_tcp(fx, 7, fx->peer_iss + 2, sa.seq + 1, ACK, 100, NULL, NULL);
	expect_tcp(fx, RST, NULL, NULL);
	/* Two periods later the real one has expired as well. */
	fx->discard_tx = true;
	advance(fx, 140 * SEC);
	peer_arp_reply(fx, &PEER, PEER_IP); /* known again after so long */
	fx->discard_tx = false;
	fx->seen = fx->nout;
	/* (The flood's flows are still there: a new SYN gets a cookie.) */
	peer_tcp(fx, 7, fx->peer_iss + 100, 0, SYN, 65535, NULL, NULL);
	expect_tcp(fx, SYN | ACK, NULL, NULL);
	peer_tcp(fx, 7, fx->peer_iss + 1, sa.seq + 1, ACK, 100, NULL, NULL);
	expect_tcp(fx, RST, NULL, NULL);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_syncookies_failed"), 3);
	/* In time, the real one works. */
	peer_tcp(fx, 7, fx->peer_iss, 0, SYN, 65535, NULL, NULL);
	sa = expect_tcp(fx, SYN | ACK, NULL, NULL);
	fx->discard_tx = true; /* the half-open flows' SYN-ACKs again */
	advance(fx, 60 * SEC);
	fx->discard_tx = false;
	peer_tcp(fx, 7, fx->peer_iss + 1, sa.seq + 1, ACK, 100, NULL, "late");
	struct fj_tcp_hdr d = expect_tcp(fx, ACK | PSH, NULL, NULL);
	assert_int_equal(d.ack, fx->peer_iss + 5);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_syncookies_ok"), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		/* LISTEN */
		TCP_CASE(test_listen_rst_is_ignored),
		TCP_CASE(test_listen_ack_with_data_gets_rst_from_its_ack),
		TCP_CASE(test_listen_syn_ack_gets_rst),
		TCP_CASE(test_listen_syn_with_rst_is_ignored),
		TCP_CASE(test_listen_segment_without_syn_or_ack_is_dropped),
		TCP_CASE(test_listen_syn_with_bad_checksum_is_dropped),
		TCP_CASE(test_listen_syn_fin_is_handled_sanely),
		TCP_CASE(test_listen_syn_with_data_delivers_it_once),
		TCP_CASE(test_isn_advances_with_a_4us_clock),
		/* CLOSED */
		TCP_CASE(test_syn_to_a_closed_port_gets_rst),
		TCP_CASE(test_ack_for_a_finished_connection_gets_rst),
		/* SYN_RCVD */
		TCP_CASE(test_syn_rcvd_rst_in_window_gets_challenge_ack),
		TCP_CASE(test_syn_rcvd_rst_out_of_window_is_ignored),
		TCP_CASE(test_rst_in_syn_rcvd_with_exact_sequence_frees_the_flow),
		TCP_CASE(test_syn_rcvd_repeated_syn_gets_the_same_syn_ack),
		TCP_CASE(test_syn_rcvd_unacceptable_ack_gets_rst),
		TCP_CASE(test_syn_rcvd_data_without_ack_is_dropped),
		TCP_CASE(test_syn_rcvd_handshake_ack_carries_data),
		TCP_CASE(test_syn_rcvd_handshake_ack_carries_fin),
		TCP_CASE(test_syn_ack_is_retransmitted_then_given_up),
		/* SYN floods and cookies */
		TCP_CASE(test_half_open_connections_are_bounded),
		TCP_CASE(test_syn_cookie_lets_a_client_in_during_a_flood),
		TCP_CASE(test_syn_cookie_forged_or_stale_gets_rst),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
