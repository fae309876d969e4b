/* SPDX-License-Identifier: BSD-3-Clause */
/* TCP building blocks: sequence arithmetic, RFC 6298 RTO, RFC 6528 ISNs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tcp/isn.h"
#include "tcp/syncookie.h"
#include "tcp/rtt.h"
#include "tcp/tcp_seq.h"

static void
test_sequence_comparisons_wrap_around(void **state)
{
	(void)state;
	assert_true(fj_seq_lt(0xfffffff0u, 0x10));
	assert_true(fj_seq_gt(0x10, 0xfffffff0u));
	assert_true(fj_seq_le(5, 5) && fj_seq_ge(5, 5));
	assert_true(fj_seq_in(0, 0xfffffff0u, 0x10));
	assert_false(fj_seq_in(0x10, 0xfffffff0u, 0x10));
	assert_int_equal(fj_seq_max(0xfffffff0u, 3), 3);
	assert_int_equal(fj_seq_min(0xfffffff0u, 3), 0xfffffff0u);
}

static void
test_rto_starts_at_one_second(void **state)
{
	(void)state;
	struct fj_rtt r;
	fj_rtt_init(&r, 200000, 120000000, 1000);
	assert_int_equal(r.rto, 1000000);
}

static void
test_rto_follows_rfc6298_formulas(void **state)
{
	(void)state;
	struct fj_rtt r;
	fj_rtt_init(&r, 0, 60000000, 1000);
	/* §2.2: SRTT = R, RTTVAR = R/2, RTO = SRTT + 4 RTTVAR = 3R. */
	fj_rtt_sample(&r, 100000);
	assert_int_equal(r.srtt, 100000);
	assert_int_equal(r.rttvar, 50000);
	assert_int_equal(r.rto, 300000);
	/* §2.3 with R' = 200000: RTTVAR = 3/4*50000 + 1/4*100000 = 62500,
	 * SRTT = 7/8*100000 + 1/8*200000 = 112500, RTO = 112500 + 250000. */
	fj_rtt_sample(&r, 200000);
	assert_int_equal(r.rttvar, 62500);
	assert_int_equal(r.srtt, 112500);
	assert_int_equal(r.rto, 362500);
	/* Steady samples shrink RTTVAR until the granularity G bounds it. */
	for (int i = 0; i < 200; i++)
		fj_rtt_sample(&r, 112500);
	assert_int_equal(r.rto, 112500 + 1000);
}

static void
test_rto_is_clamped_and_backs_off(void **state)
{
	(void)state;
	struct fj_rtt r;
	fj_rtt_init(&r, 200000, 60000000, 1000);
	fj_rtt_sample(&r, 10);
	assert_int_equal(r.rto, 200000); /* the floor */
	fj_rtt_backoff(&r);
	assert_int_equal(r.rto, 400000);
	for (int i = 0; i < 20; i++)
		fj_rtt_backoff(&r);
	assert_int_equal(r.rto, 60000000); /* §2.5: at least 60 s max */
	/* A new sample ends the backoff. */
	fj_rtt_sample(&r, 300000);
	assert_int_equal(r.backoffs, 0);
	assert_true(r.rto < 60000000);
}

static void
test_siphash_matches_reference_vector(void **state)
{
	(void)state;
	/* The SipHash paper, Appendix A: key 00..0f, message 00..0e. */
	uint8_t key[16], msg[15];
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	assert_int_equal(fj_siphash24(key, msg, 15), 0xa129ca6149be45e5ull);
	/* Empty input, first entry of the reference table (vectors.h). */
	assert_int_equal(fj_siphash24(key, msg, 0), 0x726fdb47dd0e0e31ull);
}

static void
test_isn_depends_on_tuple_key_and_clock(void **state)
{
	(void)state;
	uint8_t k1[16] = { 1 }, k2[16] = { 2 };
	uint32_t a = fj_tcp_isn(k1, 0x0a000001, 7, 0x0a000002, 40000, 0);
	assert_int_not_equal(a, fj_tcp_isn(k1, 0x0a000001, 7, 0x0a000002, 40001, 0));
	assert_int_not_equal(a, fj_tcp_isn(k2, 0x0a000001, 7, 0x0a000002, 40000, 0));
	/* RFC 6528: M ticks every 4 us. */
	assert_int_equal(fj_tcp_isn(k1, 0x0a000001, 7, 0x0a000002, 40000, 400), a + 100);
}

/* RFC 6528 over IPv6: all 128 bits of each address count, so two
 * addresses whose words XOR to the same value still differ. */
static void
test_isn6_and_cookies6_take_whole_addresses(void **state)
{
	(void)state;
	uint8_t k[16] = { 3 };
	uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, b[16], us[16] = { 0x20, 0x01, [15] = 2 };
	/* b: a's first two words swapped (the same XOR fold) */
	memcpy(b, a + 4, 4);
	memcpy(b + 4, a, 4);
	memcpy(b + 8, a + 8, 8);
	uint32_t ia = fj_tcp_isn6(k, us, 7, a, 40000, 0);
	assert_int_not_equal(ia, fj_tcp_isn6(k, us, 7, b, 40000, 0));
	assert_int_equal(fj_tcp_isn6(k, us, 7, a, 40000, 400), ia + 100);
	struct fj_cookie_tuple t = { .lport = 7, .rport = 40000, .peer_isn = 99, .v6 = true };
	memcpy(t.laddr6, us, 16);
	memcpy(t.raddr6, a, 16);
	uint32_t c = fj_syncookie_make(k, &t, 1440, 1000);
	assert_int_equal(fj_syncookie_check(k, &t, c, 1000), 1440);
	memcpy(t.raddr6, b, 16);
	assert_int_equal(fj_syncookie_check(k, &t, c, 1000), 0);
	/* ...nor is it an IPv4 tuple's cookie */
	t.v6 = false;
	assert_int_equal(fj_syncookie_check(k, &t, c, 1000), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sequence_comparisons_wrap_around),
		cmocka_unit_test(test_rto_starts_at_one_second),
		cmocka_unit_test(test_rto_follows_rfc6298_formulas),
		cmocka_unit_test(test_rto_is_clamped_and_backs_off),
		cmocka_unit_test(test_siphash_matches_reference_vector),
		cmocka_unit_test(test_isn_depends_on_tuple_key_and_clock),
		cmocka_unit_test(test_isn6_and_cookies6_take_whole_addresses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
