/* SPDX-License-Identifier: BSD-3-Clause */
/* Packed virtqueue ring logic (VIRTIO 1.2 §2.8): wrap counters, ids, events. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "virtqueue_packed.h"

#define AVAIL VRING_PACKED_DESC_F_AVAIL
#define USED VRING_PACKED_DESC_F_USED

struct ring {
	struct fj_pring pr;
	struct fj_pring_layout lay;
	void *mem;
	uint16_t *ids;
};

static void
ring_new(struct ring *r, uint16_t num)
{
	assert_int_equal(fj_pring_layout(num, &r->lay), 0);
	r->mem = aligned_alloc(64, (r->lay.size + 63) & ~(size_t)63);
	r->ids = calloc(num, sizeof(uint16_t));
	assert_int_equal(fj_pring_init(&r->pr, r->mem, &r->lay, num, r->ids), 0);
}

static void
ring_free(struct ring *r)
{
	free(r->mem);
	free(r->ids);
}

static void
test_interrupt_enable_sets_driver_event_flags_and_reports_used_descriptors(void **state)
{
	struct ring r;
	(void)state;
	ring_new(&r, 4);
	assert_int_equal(r.pr.driver_event->flags, RING_EVENT_FLAGS_DISABLE);
	fj_pring_put(&r.pr, 0x1000, 64, fj_pring_id_get(&r.pr), VRING_DESC_F_WRITE, NULL);
	assert_false(fj_pring_intr_enable(&r.pr));
	assert_int_equal(r.pr.driver_event->flags, RING_EVENT_FLAGS_ENABLE);
	fj_pring_intr_disable(&r.pr);
	assert_int_equal(r.pr.driver_event->flags, RING_EVENT_FLAGS_DISABLE);
	/* The device marks slot 0 used (AVAIL = USED = its wrap counter 1). */
	r.pr.desc[0].flags = AVAIL | USED;
	assert_true(fj_pring_intr_enable(&r.pr));
	fj_pring_used_advance(&r.pr, 1);
	assert_false(fj_pring_intr_enable(&r.pr));
	ring_free(&r);
}

static void
test_layout_rejects_bad_sizes_and_separates_the_event_areas(void **state)
{
	struct fj_pring_layout lay;
	(void)state;
	assert_int_equal(fj_pring_layout(0, &lay), -EINVAL);
	assert_int_equal(fj_pring_layout(100, &lay), -EINVAL);
	assert_int_equal(fj_pring_layout(256, &lay), 0);
	assert_int_equal(lay.driver_event_off, 256 * 16);
	assert_true(lay.device_event_off >= lay.driver_event_off + 4);
	assert_int_equal(lay.device_event_off % 4, 0);
}

static void
test_init_starts_wrap_counters_at_one_and_disables_driver_events(void **state)
{
	struct ring r;
	(void)state;
	ring_new(&r, 8);
	assert_int_equal(r.pr.avail_flags, AVAIL);
	assert_true(r.pr.used_wrap);
	assert_int_equal(r.pr.driver_event->flags, RING_EVENT_FLAGS_DISABLE);
	assert_int_equal(r.pr.nfree, 8);
	ring_free(&r);
}

static void
test_available_flags_flip_after_the_last_slot(void **state)
{
	struct ring r;
	(void)state;
	ring_new(&r, 4);
	for (int i = 0; i < 4; i++)
		fj_pring_put(&r.pr, 0x1000, 64, (uint16_t)i, 0, NULL);
	for (int i = 0; i < 4; i++)
		assert_int_equal(r.pr.desc[i].flags, AVAIL); /* AVAIL=1, USED=0 */
	/* Device uses all four (wrap 1: both bits set). */
	for (int i = 0; i < 4; i++)
		r.pr.desc[i].flags = AVAIL | USED;
	assert_true(fj_pring_is_used(&r.pr, 0, true));
	fj_pring_used_advance(&r.pr, 4);
	assert_false(r.pr.used_wrap);
	assert_int_equal(r.pr.used_idx, 0);
	/* Second lap: AVAIL=0, USED=1. */
	fj_pring_put(&r.pr, 0x1000, 64, 0, VRING_DESC_F_WRITE, NULL);
	assert_int_equal(r.pr.desc[0].flags, USED | VRING_DESC_F_WRITE);
	/* Not used for the wrap-0 lap until the device writes both bits 0. */
	assert_false(fj_pring_is_used(&r.pr, 0, false));
	r.pr.desc[0].flags = 0;
	assert_true(fj_pring_is_used(&r.pr, 0, false));
	ring_free(&r);
}

static void
test_a_chain_head_stays_unavailable_until_published(void **state)
{
	struct ring r;
	uint16_t hf;
	(void)state;
	ring_new(&r, 8);
	uint16_t head = fj_pring_put(&r.pr, 0x1000, 12, 3, VRING_DESC_F_NEXT, &hf);
	fj_pring_put(&r.pr, 0x2000, 100, 3, 0, NULL);
	assert_int_equal(r.pr.desc[head].flags, 0);
	assert_int_equal(r.pr.desc[1].flags, AVAIL);
	fj_pring_publish_head(&r.pr, head, hf);
	assert_int_equal(r.pr.desc[head].flags, AVAIL | VRING_DESC_F_NEXT);
	ring_free(&r);
}

static void
test_ids_come_back_in_the_order_they_were_returned(void **state)
{
	struct ring r;
	(void)state;
	ring_new(&r, 8);
	for (int i = 0; i < 8; i++)
		assert_int_equal(fj_pring_id_get(&r.pr), i);
	assert_int_equal(r.pr.id_count, 0);
	fj_pring_id_put(&r.pr, 5);
	fj_pring_id_put(&r.pr, 2);
	assert_int_equal(fj_pring_id_get(&r.pr), 5);
	assert_int_equal(fj_pring_id_get(&r.pr), 2);
	ring_free(&r);
}

static void
test_notification_follows_device_event_flags(void **state)
{
	struct ring r;
	(void)state;
	ring_new(&r, 8);
	assert_true(fj_pring_need_notify(&r.pr));
	r.pr.device_event->flags = RING_EVENT_FLAGS_DISABLE;
	assert_false(fj_pring_need_notify(&r.pr));
	ring_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_rejects_bad_sizes_and_separates_the_event_areas),
		cmocka_unit_test(test_interrupt_enable_sets_driver_event_flags_and_reports_used_descriptors),
		cmocka_unit_test(test_init_starts_wrap_counters_at_one_and_disables_driver_events),
		cmocka_unit_test(test_available_flags_flip_after_the_last_slot),
		cmocka_unit_test(test_a_chain_head_stays_unavailable_until_published),
		cmocka_unit_test(test_ids_come_back_in_the_order_they_were_returned),
		cmocka_unit_test(test_notification_follows_device_event_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
