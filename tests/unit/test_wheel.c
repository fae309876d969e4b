/* SPDX-License-Identifier: BSD-3-Clause */
/* The hashed timing wheel (stack/wheel) in virtual time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wheel.h"

struct owner {
	struct fj_timer_node t;
	int fired;
	uint64_t fired_at;
	uint64_t rearm; /* period, 0: one-shot */
};

static uint64_t now;
static struct fj_wheel W;

static void
on_fire(struct fj_wheel *w, struct fj_timer_node *t, void *ctx)
{
	struct owner *o = (struct owner *)((char *)t - offsetof(struct owner, t));
	(void)ctx;
	o->fired++;
	o->fired_at = now;
	if (o->rearm)
		fj_wheel_arm(w, t, now + o->rearm, on_fire);
}

static int
setup(void **state)
{
	(void)state;
	now = 1000;
	fj_wheel_init(&W, now, 10);
	return 0;
}

static void
advance_to(uint64_t t)
{
	now = t;
	fj_wheel_advance(&W, now, NULL);
}

static void
test_timer_fires_once_at_its_time_not_before(void **state)
{
	(void)state;
	struct owner a = { 0 };
	fj_wheel_arm(&W, &a.t, 1055, on_fire);
	assert_true(fj_timer_armed(&a.t));
	advance_to(1050);
	assert_int_equal(a.fired, 0);
	advance_to(1055);
	assert_int_equal(a.fired, 1);
	assert_false(fj_timer_armed(&a.t));
	advance_to(5000);
	assert_int_equal(a.fired, 1);
}

static void
test_cancel_and_rearm(void **state)
{
	(void)state;
	struct owner a = { 0 }, b = { 0 };
	fj_wheel_arm(&W, &a.t, 1100, on_fire);
	fj_wheel_arm(&W, &b.t, 1100, on_fire);
	fj_wheel_cancel(&W, &a.t);
	fj_wheel_cancel(&W, &a.t); /* twice is harmless */
	assert_int_equal(W.armed, 1);
	/* Re-arming moves it (no double entry). */
	fj_wheel_arm(&W, &b.t, 1300, on_fire);
	fj_wheel_arm(&W, &b.t, 1200, on_fire);
	assert_int_equal(W.armed, 1);
	advance_to(1150);
	assert_int_equal(a.fired + b.fired, 0);
	advance_to(1200);
	assert_int_equal(b.fired, 1);
	assert_int_equal(a.fired, 0);
}

static void
test_timers_beyond_one_turn_wait_for_their_turn(void **state)
{
	(void)state;
	struct owner a = { 0 };
	/* 256 slots of 10: a turn is 2560; this is three turns away. */
	fj_wheel_arm(&W, &a.t, 1000 + 3 * 2560 + 5, on_fire);
	for (uint64_t t = 1000; t < 1000 + 3 * 2560; t += 7)
		advance_to(t);
	assert_int_equal(a.fired, 0);
	advance_to(1000 + 3 * 2560 + 10);
	assert_int_equal(a.fired, 1);
}

static void
test_a_long_jump_fires_everything_due(void **state)
{
	(void)state;
	struct owner o[300];
	memset(o, 0, sizeof(o));
	for (int i = 0; i < 300; i++)
		fj_wheel_arm(&W, &o[i].t, 1000 + (uint64_t)i * 37, on_fire);
	advance_to(1000 + 150 * 37);
	int n = 0;
	for (int i = 0; i < 300; i++)
		n += o[i].fired;
	assert_int_equal(n, 151);
	advance_to(1000000);
	for (int i = 0; i < 300; i++)
		assert_int_equal(o[i].fired, 1);
	assert_int_equal(W.armed, 0);
}

static void
test_periodic_rearm_from_callback(void **state)
{
	(void)state;
	struct owner a = { .rearm = 100 };
	fj_wheel_arm(&W, &a.t, 1100, on_fire);
	for (uint64_t t = 1000; t <= 2000; t += 10)
		advance_to(t);
	assert_int_equal(a.fired, 10);
	/* A timer due now or in the past fires at the next advance. */
	struct owner b = { 0 };
	fj_wheel_arm(&W, &b.t, 10, on_fire);
	advance_to(2000);
	assert_int_equal(b.fired, 1);
}

static void
self_rearm_now(struct fj_wheel *w, struct fj_timer_node *t, void *ctx)
{
	int *n = ctx;
	(*n)++;
	fj_wheel_arm(w, t, now, self_rearm_now);
}

static void
test_a_timer_rearming_itself_for_now_cannot_spin(void **state)
{
	(void)state;
	struct fj_timer_node t = { 0 };
	int n = 0;
	fj_wheel_arm(&W, &t, 1000, self_rearm_now);
	now = 1000;
	fj_wheel_advance(&W, now, &n);
	assert_true(n >= 1 && n <= 2);
	fj_wheel_cancel(&W, &t);
}

/* The quiet-until shortcut must not hide a timer armed into the current
 * tick after the hand has looked at it, nor one already overdue. */
static void
test_timers_armed_within_the_current_tick_after_a_visit(void **state)
{
	(void)state;
	struct owner a = { 0 }, b = { 0 }, far = { 0 };
	fj_wheel_arm(&W, &far.t, 1000 + 10 * FJ_WHEEL_SLOTS + 5, on_fire); /* same slot, next turn */
	advance_to(1001);  /* visits tick 100: quiet until far's slot-mate turn or 1010 */
	fj_wheel_arm(&W, &a.t, 1004, on_fire);
	advance_to(1003);
	assert_int_equal(a.fired, 0);
	advance_to(1004);
	assert_int_equal(a.fired, 1);
	assert_int_equal(a.fired_at, 1004);
	fj_wheel_arm(&W, &b.t, 900, on_fire); /* already due */
	advance_to(1005);
	assert_int_equal(b.fired, 1);
	advance_to(1000 + 10 * FJ_WHEEL_SLOTS);
	assert_int_equal(far.fired, 0);
	advance_to(1000 + 10 * FJ_WHEEL_SLOTS + 5);
	assert_int_equal(far.fired, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_timer_fires_once_at_its_time_not_before, setup),
		cmocka_unit_test_setup(test_cancel_and_rearm, setup),
		cmocka_unit_test_setup(test_timers_beyond_one_turn_wait_for_their_turn, setup),
		cmocka_unit_test_setup(test_a_long_jump_fires_everything_due, setup),
		cmocka_unit_test_setup(test_periodic_rearm_from_callback, setup),
		cmocka_unit_test_setup(test_a_timer_rearming_itself_for_now_cannot_spin, setup),
		cmocka_unit_test_setup(test_timers_armed_within_the_current_tick_after_a_visit, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
