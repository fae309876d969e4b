/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP in ESTABLISHED against the scripted peer: RFC 9293 §3.10.7.4's
 * processing of what arrives (the ACK bit, old and new ACKs, trimming,
 * urgent data after RFC 6093, a FIN past a hole) and §3.10.2's SEND (a
 * chained buffer, a full send buffer).
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

/* ------------------------------------------------------ segment arrives */

/* RFC 9293 §3.10.7.4 fifth: a FIN without the ACK bit is dropped: no
 * ACK, no end of stream. */
static void
test_established_fin_without_ack_is_dropped(void **state)
{
	struct fixture *fx = *state;
	struct conn c = reach(fx, ST_EST);
	peer_tcp(fx, c.port, c.rcv, 0, FIN, 65535, NULL, NULL);
	advance(fx, 100 * MS);
	expect_nothing(fx);
	assert_int_not_equal(fx->obs.last, FJ_EOF);
	peer_tcp(fx, c.port, c.rcv, c.snd, ACK | PSH, 65535, NULL, "still open");
	advance(fx, 100 * MS);
	expect_ack(fx, c.snd, c.rcv + 10);
	assert_int_equal(fx->obs.bytes, 10);
}

/* RFC 9293 §3.10.7.4 fifth: an old ACK (below SND.UNA) is ignored: no
 * answer, nothing goes again. */
static void
test_established_old_ack_is_ignored(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = hs(fx, 7, 65535, true);
	expect_nothing(fx);
	peer_tcp(fx, 7, fx->peer_iss + 1, iss1, ACK | PSH, 65535, NULL, "hello");
	/* The echo carries the ACK. */
	expect_text(fx, ACK | PSH, iss1, fx->peer_iss + 6, "hello");
	expect_nothing(fx);
	peer_tcp(fx, 7, fx->peer_iss + 6, iss1 + 5, ACK, 65535, NULL, NULL);
	peer_tcp(fx, 7, fx->peer_iss + 6, iss1, ACK, 65535, NULL, NULL);
	peer_tcp(fx, 7, fx->peer_iss + 6, iss1 + 2, ACK, 65535, NULL, NULL);
	expect_nothing(fx);
	advance(fx, 10 * SEC);
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_retransmits"), 0);
}

/* RFC 9293 §3.10.7.4 fifth: an ACK of something not yet sent (SEG.ACK >
 * SND.NXT): an ACK back, the segment and its data dropped. */
static void
test_ack_of_unsent_data_is_answered_and_ignored(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = open_flow(fx, 7, 65535, true);
	peer_tcp(fx, 7, fx->peer_iss + 1, iss1 + 1000, ACK | PSH, 65535, NULL, "x");
	struct fj_tcp_hdr a = expect_tcp(fx, ACK, NULL, NULL);
	assert_int_equal(a.seq, iss1);
	assert_int_equal(a.ack, fx->peer_iss + 1); /* the data was not taken */
	expect_nothing(fx);
}

/* RFC 9293 §3.10.7.4 first, §3.4: of a segment straddling RCV.NXT only
 * the new part is taken; a whole old duplicate gets an ACK alone. */
static void
test_old_duplicate_data_is_trimmed(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = open_flow(fx, 7, 65535, true);
	peer_tcp(fx, 7, fx->peer_iss + 1, iss1, ACK | PSH, 65535, NULL, "abcdef");
	uint32_t plen;
	const uint8_t *pl;
	expect_tcp(fx, ACK | PSH, &plen, &pl);
	/* A retransmission overlapping what we have: only "ghi" is new. */
	peer_tcp(fx, 7, fx->peer_iss + 4, iss1 + 6, ACK | PSH, 65535, NULL, "defghi");
	expect_tcp(fx, ACK | PSH, &plen, &pl);
	assert_int_equal(plen, 3);
	assert_memory_equal(pl, "ghi", 3);
	/* A whole old duplicate: only an ACK (RFC 9293 §3.10.7.4). */
	peer_tcp(fx, 7, fx->peer_iss + 1, iss1 + 9, ACK | PSH, 65535, NULL, "abc");
	struct fj_tcp_hdr a = expect_tcp(fx, ACK, &plen, NULL);
	assert_int_equal(plen, 0);
	assert_int_equal(a.ack, fx->peer_iss + 10);
}

/* RFC 9293 §3.10.7.4 sixth (RFC 6093): URG with an urgent pointer: the
 * bytes are ordinary data in order; we send no URG back. */
static void
test_urgent_data_is_delivered_inline(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = hs(fx, 7, 65535, true);
	send_seg(fx, (struct pseg){ .dport = 7, .seq = fx->peer_iss + 1, .ack = iss1,
				    .flags = URG | ACK | PSH, .wnd = 65535, .urg = 3,
				    .data = "urgent!", .len = 7 });
	uint32_t plen;
	const uint8_t *pl;
	struct fj_tcp_hdr d = expect_tcp(fx, ACK | PSH, &plen, &pl);
	assert_int_equal(d.seq, iss1);
	assert_int_equal(d.ack, fx->peer_iss + 8);
	assert_int_equal(d.urg, 0);
	assert_int_equal(plen, 7);
	assert_memory_equal(pl, "urgent!", 7);
	expect_nothing(fx);
}

/* RFC 6093 §3: an urgent pointer far past the segment is harmless. */
static void
test_urgent_pointer_beyond_the_data_is_harmless(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = hs(fx, 7, 65535, true);
	send_seg(fx, (struct pseg){ .dport = 7, .seq = fx->peer_iss + 1, .ack = iss1,
				    .flags = URG | ACK, .wnd = 65535, .urg = 60000, .data = "ab",
				    .len = 2 });
	uint32_t plen;
	const uint8_t *pl;
	struct fj_tcp_hdr d = expect_tcp(fx, ACK | PSH, &plen, &pl);
	assert_int_equal(d.ack, fx->peer_iss + 3);
	assert_int_equal(plen, 2);
	assert_memory_equal(pl, "ab", 2);
	/* ...and what follows is ordinary data too. */
	peer_tcp(fx, 7, fx->peer_iss + 3, iss1 + 2, ACK, 65535, NULL, "cd");
	d = expect_tcp(fx, ACK | PSH, &plen, &pl);
	assert_int_equal(d.seq, iss1 + 2);
	assert_memory_equal(pl, "cd", 2);
	expect_nothing(fx);
}

/* RFC 9293 §3.10.7.4 eighth: a FIN beyond a hole is not processed before
 * the hole is filled; the stream ends after all the data. */
static void
test_out_of_order_fin_waits_for_the_gap(void **state)
{
	struct fixture *fx = *state;
	struct conn c = reach(fx, ST_EST);
	peer_tcp(fx, c.port, c.rcv + 5, c.snd, FIN | ACK, 65535, NULL, "world");
	expect_ack(fx, c.snd, c.rcv);
	expect_nothing(fx);
	assert_int_equal(fx->obs.bytes, 0);
	assert_int_not_equal(fx->obs.last, FJ_EOF);
	peer_tcp(fx, c.port, c.rcv, c.snd, ACK, 65535, NULL, "hello");
	struct fj_tcp_hdr a = expect_tcp(fx, ACK, NULL, NULL);
	if (a.ack == c.rcv + 10) {
		/* The FIN was not kept: the peer sends it again. */
		drain_acks(fx, c.rcv + 10);
		peer_tcp(fx, c.port, c.rcv + 10, c.snd, FIN | ACK, 65535, NULL, NULL);
		expect_ack(fx, c.snd, c.rcv + 11);
	} else {
		assert_int_equal(a.ack, c.rcv + 11);
	}
	drain_acks(fx, c.rcv + 11);
	assert_int_equal(fx->obs.bytes, 10);
	assert_memory_equal(fx->obs.data, "helloworld", 10);
	assert_int_equal(fx->obs.last, FJ_EOF);
}

/* ------------------------------------------------------ SEND */

/* On accept, one 5000-byte buffer: a chain of segments holding a ramp. */
static void
chain_app(struct fj_flow *f, void *arg)
{
	struct fixture *fx = arg;
	if (fj_flow_user(f) != NULL)
		return;
	fj_flow_set_user(f, f);
	struct fj_buf *b = fj_buf_alloc(fx->stack, 5000);
	assert_non_null(b);
	assert_int_equal(fj_buf_pkt_len(b), 5000);
	assert_true(fj_buf_len(b) < 5000);
	uint32_t k = 0, segs = 0;
	for (struct fj_buf *s = b; s != NULL; s = fj_buf_next(s), segs++)
		for (uint32_t i = 0; i < fj_buf_len(s); i++, k++)
			((uint8_t *)fj_buf_data(s))[i] = (uint8_t)(k * 7);
	assert_int_equal(k, 5000);
	assert_true(segs >= 3);
	assert_int_equal(fj_flow_write(f, b), 0);
}

/* A buffer larger than one mbuf (fj_buf_alloc chains them) goes out as
 * MSS-sized segments that cross the chain's seams in order; a size past
 * FJ_BUF_MAX is refused. */
static void
test_chained_buffer_is_sent_in_order(void **state)
{
	struct fixture *fx = *state;
	assert_null(fj_buf_alloc(fx->stack, FJ_BUF_MAX + 1));
	assert_non_null(fj_listen_tcp(fx->stack, 15, chain_app, fx));
	struct fj_tcp_opts so = { .has_mss = true, .mss = 1000 };
	uint32_t iss1 = hs_opts(fx, 15, &so, 65535, NULL), plen;
	for (uint32_t seg = 0; seg < 5; seg++) {
		const uint8_t *p;
		struct fj_tcp_hdr d = expect_tcp(fx, seg == 4 ? ACK | PSH : ACK,
						 &plen, &p);
		assert_int_equal(d.seq, iss1 + 1000 * seg);
		assert_int_equal(plen, 1000);
		for (uint32_t i = 0; i < plen; i++)
			assert_int_equal(p[i], (uint8_t)((1000 * seg + i) * 7));
	}
	expect_nothing(fx);
	assert_int_equal(fj_stack_counter(fx->stack, "tcp_tx_bytes"), 5000);
}

/* fjord.h (fj_flow_write), RFC 9293 §3.10.2 SEND: a full send buffer
 * refuses with -EAGAIN; the callback runs again once ACKs free room, and
 * exactly the freed room is taken. */
static void
test_full_send_buffer_pushes_back_until_acks_free_room(void **state)
{
	struct fixture *fx = *state;
	fx->wr.fill = true;
	uint32_t iss1 = hs(fx, 20, 65535, true);
	assert_int_equal(fx->wr.eagain, 1);
	assert_true(fx->wr.done >= 256 * 1024 && fx->wr.done < 256 * 1024 + 1000);
	for (uint32_t off = 0; off < 10000; off += 1000)
		expect_data(fx, iss1 + off, fx->peer_iss + 1, 1000, off);
	expect_nothing(fx);
	uint32_t done = fx->wr.done;
	int calls = fx->wr.calls;
	/* A duplicate ACK frees nothing: no callback. */
	peer_tcp(fx, 20, fx->peer_iss + 1, iss1, ACK, 65535, NULL, NULL);
	assert_int_equal(fx->wr.calls, calls);
	peer_tcp(fx, 20, fx->peer_iss + 1, iss1 + 10000, ACK, 65535, NULL, NULL);
	assert_int_equal(fx->wr.calls, calls + 1);
	assert_int_equal(fx->wr.done, done + 10000);
	assert_int_equal(fx->wr.eagain, 2);
	/* What goes next starts right after the acknowledged data. */
	expect_data(fx, iss1 + 10000, fx->peer_iss + 1, 1000, 10000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		/* segment arrives */
		TCP_CASE(test_established_fin_without_ack_is_dropped),
		TCP_CASE(test_established_old_ack_is_ignored),
		TCP_CASE(test_ack_of_unsent_data_is_answered_and_ignored),
		TCP_CASE(test_old_duplicate_data_is_trimmed),
		TCP_CASE(test_urgent_data_is_delivered_inline),
		TCP_CASE(test_urgent_pointer_beyond_the_data_is_harmless),
		TCP_CASE(test_out_of_order_fin_waits_for_the_gap),
		/* SEND */
		TCP_CASE(test_chained_buffer_is_sent_in_order),
		TCP_CASE(test_full_send_buffer_pushes_back_until_acks_free_room),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
