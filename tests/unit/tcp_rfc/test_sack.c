/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SACK as the receiver against the scripted peer (RFC 2018): permission
 * on the SYN, which blocks and how many, blocks as holes fill, and
 * blocks that never push a segment past the MTU.
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

/* ------------------------------------------------------ SACK (receiver) */

/* RFC 2018 §2: without SACK-permitted on the SYN, no SACK-permitted back
 * and no blocks; RFC 5681 §4.2: the duplicate ACK goes at once, so does
 * the ACK when the hole fills. */
static void
test_no_sack_blocks_unless_permitted(void **state)
{
	struct fixture *fx = *state;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1000 };
	struct fj_tcp_hdr sa;
	uint32_t iss1 = hs_opts(fx, 10, &o, 65535, &sa);
	assert_false(sa.o.sack_perm);
	peer_tcp(fx, 10, fx->peer_iss + 6, iss1, ACK, 65535, NULL, "world");
	struct fj_tcp_hdr a = expect_ack(fx, iss1, fx->peer_iss + 1);
	assert_int_equal(a.o.nsack, 0);
	peer_tcp(fx, 10, fx->peer_iss + 1, iss1, ACK, 65535, NULL, "hello");
	a = expect_ack(fx, iss1, fx->peer_iss + 11);
	assert_int_equal(a.o.nsack, 0);
	expect_nothing(fx);
}

/* Five separate out-of-order pieces (5 bytes at 10, 30, 50, 70, 90 past
 * RCV.NXT); returns the last ACK's options. */
static struct fj_tcp_opts
five_islands(struct fixture *fx, uint16_t port, uint32_t iss1, bool with_ts)
{
	struct fj_tcp_opts o = ts(1002), *op = with_ts ? &o : NULL;
	struct fj_tcp_hdr a = { 0 };
	for (uint32_t i = 0; i < 5; i++) {
		peer_tcp(fx, port, fx->peer_iss + 1 + 10 + 20 * i, iss1, ACK, 65535, op, "isle!");
		a = expect_ack(fx, iss1, fx->peer_iss + 1);
		/* RFC 2018 §4: the first block holds the segment just come. */
		assert_true(a.o.nsack >= 1);
		assert_int_equal(a.o.sack[0].left, fx->peer_iss + 11 + 20 * i);
		assert_int_equal(a.o.sack[0].right, fx->peer_iss + 16 + 20 * i);
	}
	expect_nothing(fx);
	return a.o;
}

/* RFC 2018 §3: as many blocks as fit (4 without timestamps), distinct,
 * each exactly one of the islands, the newest first. */
static void
test_sack_reports_four_blocks_newest_first(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = hs_sack(fx, 10);
	struct fj_tcp_opts o = five_islands(fx, 10, iss1, false);
	assert_int_equal(o.nsack, 4);
	for (int i = 0; i < 4; i++) {
		uint32_t off = o.sack[i].left - (fx->peer_iss + 11);
		assert_int_equal(off % 20, 0);
		assert_true(off <= 80);
		assert_int_equal(o.sack[i].right - o.sack[i].left, 5);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(o.sack[i].left, o.sack[j].left);
	}
}

/* RFC 2018 §4: after the first block, the most recently reported blocks
 * are repeated: 90, then 70, 50, 30 (not the oldest, 10). */
static void
test_sack_repeats_the_most_recently_reported_blocks(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = hs_sack(fx, 10);
	struct fj_tcp_opts o = five_islands(fx, 10, iss1, false);
	assert_int_equal(o.nsack, 4);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(o.sack[i].left, fx->peer_iss + 11 + 20 * (4 - i));
}

/* RFC 2018 §3: with timestamps only 3 blocks fit in 40 bytes of options. */
static void
test_sack_with_timestamps_reports_three_blocks(void **state)
{
	struct fixture *fx = *state;
	struct fj_tcp_opts so = { .has_mss = true, .mss = 1000, .sack_perm = true, .has_ts = true,
				  .tsval = 1000 };
	uint32_t iss1 = hs_opts(fx, 10, &so, 65535, NULL);
	struct fj_tcp_opts o = five_islands(fx, 10, iss1, true);
	assert_int_equal(o.nsack, 3);
	assert_true(o.has_ts);
	assert_int_equal(o.sack[0].left, fx->peer_iss + 91);
}

/* RFC 2018 §4: blocks leave as the holes fill; RFC 5681 §4.2: an ACK at
 * once for each fill. */
static void
test_sack_blocks_go_as_holes_fill(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = hs_sack(fx, 10);
	uint32_t o0 = fx->peer_iss + 1;
	peer_tcp(fx, 10, o0 + 10, iss1, ACK, 65535, NULL, "BBBBB"); /* [10,15) */
	expect_ack(fx, iss1, o0);
	peer_tcp(fx, 10, o0 + 20, iss1, ACK, 65535, NULL, "DDDDD"); /* [20,25) */
	struct fj_tcp_hdr a = expect_ack(fx, iss1, o0);
	assert_int_equal(a.o.nsack, 2);
	peer_tcp(fx, 10, o0, iss1, ACK, 65535, NULL, "AAAAAAAAAA"); /* [0,10) */
	a = expect_ack(fx, iss1, o0 + 15);
	assert_int_equal(a.o.nsack, 1);
	assert_int_equal(a.o.sack[0].left, o0 + 20);
	assert_int_equal(a.o.sack[0].right, o0 + 25);
	peer_tcp(fx, 10, o0 + 15, iss1, ACK, 65535, NULL, "CCCCC"); /* [15,20) */
	a = expect_ack(fx, iss1, o0 + 25);
	assert_int_equal(a.o.nsack, 0);
	expect_nothing(fx);
}

/* RFC 5681 §4.2, RFC 2018 §4: the same out-of-order segment twice: a
 * duplicate ACK each time, the same single block, nothing kept twice. */
static void
test_duplicate_out_of_order_segment(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = hs_sack(fx, 10);
	for (int i = 0; i < 2; i++) {
		peer_tcp(fx, 10, fx->peer_iss + 11, iss1, ACK, 65535, NULL, "twice");
		struct fj_tcp_hdr a = expect_ack(fx, iss1, fx->peer_iss + 1);
		assert_int_equal(a.o.nsack, 1);
		assert_int_equal(a.o.sack[0].left, fx->peer_iss + 11);
		assert_int_equal(a.o.sack[0].right, fx->peer_iss + 16);
	}
	peer_tcp(fx, 10, fx->peer_iss + 1, iss1, ACK, 65535, NULL, "0123456789");
	struct fj_tcp_hdr a = expect_ack(fx, iss1, fx->peer_iss + 16);
	assert_int_equal(a.o.nsack, 0);
	expect_nothing(fx);
}

/* RFC 2018 §4: out-of-order data is reported at once in SACK blocks, the
 * newest first; blocks that meet merge; they go when the hole fills. */
static void
test_out_of_order_data_is_sacked(void **state)
{
	struct fixture *fx = *state;
	uint32_t iss1 = hs_sack(fx, 10); /* RFC 2018 §2: answered */
	/* Bytes 10-14 arrive before 0-9: a duplicate ACK with one block. */
	peer_tcp(fx, 10, fx->peer_iss + 11, iss1, ACK, 65535, NULL, "later");
	struct fj_tcp_hdr a = expect_tcp(fx, ACK, NULL, NULL);
	assert_int_equal(a.ack, fx->peer_iss + 1);
	assert_int_equal(a.o.nsack, 1);
	assert_int_equal(a.o.sack[0].left, fx->peer_iss + 11);
	assert_int_equal(a.o.sack[0].right, fx->peer_iss + 16);
	/* Then 30-34: two blocks, the newest first (RFC 2018 §4). */
	peer_tcp(fx, 10, fx->peer_iss + 31, iss1, ACK, 65535, NULL, "again");
	a = expect_tcp(fx, ACK, NULL, NULL);
	assert_int_equal(a.o.nsack, 2);
	assert_int_equal(a.o.sack[0].left, fx->peer_iss + 31);
	assert_int_equal(a.o.sack[1].left, fx->peer_iss + 11);
	/* 15-29 joins them into one block. */
	peer_tcp(fx, 10, fx->peer_iss + 16, iss1, ACK, 65535, NULL, "fifteen bytes!!");
	a = expect_tcp(fx, ACK, NULL, NULL);
	assert_int_equal(a.o.nsack, 1);
	assert_int_equal(a.o.sack[0].left, fx->peer_iss + 11);
	assert_int_equal(a.o.sack[0].right, fx->peer_iss + 36);
	/* The hole filled: everything acknowledged, no blocks left. */
	peer_tcp(fx, 10, fx->peer_iss + 1, iss1, ACK, 65535, NULL, "0123456789");
	a = expect_tcp(fx, ACK, NULL, NULL);
	assert_int_equal(a.ack, fx->peer_iss + 36);
	assert_int_equal(a.o.nsack, 0);
}

/* RFC 2018 §3, RFC 9293 §3.7.1 (Eff.snd.MSS counts the options): SACK
 * blocks never make a full-sized segment larger than the MTU. */
static void
test_sack_blocks_never_push_a_segment_past_the_mtu(void **state)
{
	struct fixture *fx = *state;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1460, .sack_perm = true };
	uint32_t iss1 = hs_opts(fx, 7, &o, 65535, NULL);
	/* Something out of order is held... */
	peer_tcp(fx, 7, fx->peer_iss + 1 + 5000, iss1, ACK, 65535, NULL, "held");
	expect_tcp(fx, ACK, NULL, NULL);
	/* ...when a full-sized segment arrives in order and is echoed. */
	char big[1461];
	memset(big, 'q', 1460);
	big[1460] = 0;
	peer_tcp(fx, 7, fx->peer_iss + 1, iss1, ACK, 65535, NULL, big);
	/* First the ACK for the filled gap (with its block), then the echo. */
	uint32_t plen;
	struct fj_tcp_hdr a = expect_tcp(fx, ACK, &plen, NULL);
	assert_int_equal(plen, 0);
	assert_int_equal(a.o.nsack, 1);
	assert_true(fx->seen < fx->nout);
	assert_true(fx->out[fx->seen].len <= 1514); /* the frame fits the MTU */
	struct seg d = next_seg(fx);
	assert_int_equal(d.plen, 1460);
	assert_int_equal(d.h.o.nsack, 0);
	assert_int_equal(fj_stack_counter(fx->stack, "drop_oversize"), 0);
}

/* The same with timestamps: their 12 bytes count in the room for blocks
 * (a reordering link once made full segments 12 bytes too long). */
static void
test_sack_blocks_and_timestamps_fit_the_mtu(void **state)
{
	struct fixture *fx = *state;
	struct fj_tcp_opts o = { .has_mss = true, .mss = 1460, .sack_perm = true, .has_ts = true,
				 .tsval = 50 };
	struct fj_tcp_hdr sa;
	uint32_t iss1 = hs_opts(fx, 7, &o, 65535, &sa); /* its ACK with TSval 51 */
	struct fj_tcp_opts t = { .has_ts = true, .tsval = 52, .tsecr = sa.o.tsval };
	peer_tcp(fx, 7, fx->peer_iss + 1 + 5000, iss1, ACK, 65535, &t, "held");
	struct fj_tcp_hdr a = expect_tcp(fx, ACK, NULL, NULL);
	assert_int_equal(a.o.nsack, 1);
	assert_true(a.o.has_ts);
	char big[1449];
	memset(big, 'q', 1448);
	big[1448] = 0;
	t.tsval = 53;
	peer_tcp(fx, 7, fx->peer_iss + 1, iss1, ACK, 65535, &t, big);
	uint32_t plen;
	a = expect_tcp(fx, ACK, &plen, NULL);
	assert_int_equal(plen, 0);
	struct fj_tcp_hdr d = expect_tcp(fx, ACK | PSH, &plen, NULL);
	assert_int_equal(plen, 1448);
	assert_true(d.o.has_ts);
	assert_int_equal(d.o.nsack, 0);
	assert_int_equal(fj_stack_counter(fx->stack, "drop_oversize"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		/* SACK (receiver) */
		TCP_CASE(test_no_sack_blocks_unless_permitted),
		TCP_CASE(test_sack_reports_four_blocks_newest_first),
		TCP_CASE(test_sack_repeats_the_most_recently_reported_blocks),
		TCP_CASE(test_sack_with_timestamps_reports_three_blocks),
		TCP_CASE(test_sack_blocks_go_as_holes_fill),
		TCP_CASE(test_duplicate_out_of_order_segment),
		TCP_CASE(test_out_of_order_data_is_sacked),
		TCP_CASE(test_sack_blocks_never_push_a_segment_past_the_mtu),
		TCP_CASE(test_sack_blocks_and_timestamps_fit_the_mtu),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
