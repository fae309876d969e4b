/* SPDX-License-Identifier: BSD-3-Clause */
/* Split virtqueue ring logic (VIRTIO 1.2 §2.7) against a scripted device. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "virtqueue.h"

struct ring {
	struct fj_vring vr;
	struct fj_vring_layout lay;
	void *mem;
	uint16_t *link;
	uint16_t dev_avail_seen; /* the scripted device's position in avail */
};

static void
ring_new(struct ring *r, uint16_t num, bool in_order)
{
	assert_int_equal(fj_vring_layout(num, 64, &r->lay), 0);
	r->mem = aligned_alloc(4096, (r->lay.size + 4095) & ~(size_t)4095);
	r->link = calloc(num, sizeof(uint16_t));
	assert_non_null(r->mem);
	assert_int_equal(fj_vring_init(&r->vr, r->mem, &r->lay, num, in_order, r->link), 0);
	r->dev_avail_seen = 0;
}

static void
ring_free(struct ring *r)
{
	free(r->mem);
	free(r->link);
}

/* The device takes the next available head (what a back-end does). */
static uint16_t
dev_pop_avail(struct ring *r)
{
	assert_true(r->dev_avail_seen != r->vr.avail->idx);
	return r->vr.avail->ring[r->dev_avail_seen++ & r->vr.mask];
}

static void
dev_push_used(struct ring *r, uint32_t id, uint32_t len)
{
	struct vring_used_elem *e = &r->vr.used->ring[r->vr.used->idx & r->vr.mask];
	e->id = id;
	e->len = len;
	r->vr.used->idx++;
}

static void
test_layout_rejects_sizes_that_are_not_powers_of_two(void **state)
{
	struct fj_vring_layout lay;
	(void)state;
	assert_int_equal(fj_vring_layout(0, 4, &lay), -EINVAL);
	assert_int_equal(fj_vring_layout(3, 4, &lay), -EINVAL);
	assert_int_equal(fj_vring_layout(1000, 4, &lay), -EINVAL);
	assert_int_equal(fj_vring_layout(256, 3, &lay), -EINVAL);
	assert_int_equal(fj_vring_layout(32768, 4, &lay), 0);
}

static void
test_layout_matches_the_spec_sizes(void **state)
{
	struct fj_vring_layout lay;
	(void)state;
	/* §2.7: desc 16*N, avail 6+2*N, used 6+8*N at 4-byte alignment. */
	assert_int_equal(fj_vring_layout(256, 4, &lay), 0);
	assert_int_equal(lay.avail_off, 4096);
	assert_int_equal(lay.used_off, 4096 + 518 + 2);
	assert_int_equal(lay.size, lay.used_off + 6 + 8 * 256);
	assert_int_equal(fj_vring_layout(256, 64, &lay), 0);
	assert_int_equal(lay.used_off % 64, 0);
}

static void
test_init_suppresses_interrupts_and_frees_every_descriptor(void **state)
{
	struct ring r;
	(void)state;
	ring_new(&r, 64, false);
	assert_int_equal(r.vr.avail->flags, VRING_AVAIL_F_NO_INTERRUPT);
	assert_int_equal(r.vr.nfree, 64);
	assert_int_equal(r.vr.avail->idx, 0);
	assert_int_equal(r.vr.used->idx, 0);
	ring_free(&r);
}

static void
test_interrupt_enable_clears_no_interrupt_and_reports_buffers_used_while_off(void **state)
{
	struct ring r;
	(void)state;
	ring_new(&r, 8, false);
	uint16_t id = fj_vring_alloc_one(&r.vr);
	fj_vring_push_avail(&r.vr, id);
	fj_vring_publish(&r.vr);
	/* Nothing used yet: enabling finds nothing waiting. */
	assert_false(fj_vring_intr_enable(&r.vr));
	assert_int_equal(r.vr.avail->flags, 0);
	fj_vring_intr_disable(&r.vr);
	assert_int_equal(r.vr.avail->flags, VRING_AVAIL_F_NO_INTERRUPT);
	/* The device uses the buffer while notifications are off (§2.7.14). */
	dev_push_used(&r, dev_pop_avail(&r), 64);
	assert_true(fj_vring_intr_enable(&r.vr));
	/* Consumed: nothing waits any more. */
	r.vr.used_seen++;
	assert_false(fj_vring_intr_enable(&r.vr));
	/* A used index the ring cannot hold counts as waiting. */
	r.vr.used->idx = (uint16_t)(r.vr.used_seen + 100);
	assert_true(fj_vring_intr_enable(&r.vr));
	ring_free(&r);
}

static void
test_chain_links_descriptors_with_next_except_the_last(void **state)
{
	struct ring r;
	uint16_t ids[4];
	(void)state;
	ring_new(&r, 64, false);
	uint16_t head = fj_vring_alloc_chain(&r.vr, 4, ids);
	assert_int_equal(head, ids[0]);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(r.vr.desc[ids[i]].flags & VRING_DESC_F_NEXT, VRING_DESC_F_NEXT);
		assert_int_equal(r.vr.desc[ids[i]].next, ids[i + 1]);
	}
	assert_int_equal(r.vr.desc[ids[3]].flags & VRING_DESC_F_NEXT, 0);
	assert_int_equal(r.vr.nfree, 60);
	ring_free(&r);
}

static void
test_out_of_order_completion_returns_every_descriptor(void **state)
{
	struct ring r;
	uint16_t heads[16], ids[4];
	(void)state;
	ring_new(&r, 64, false);
	for (int i = 0; i < 16; i++) {
		heads[i] = fj_vring_alloc_chain(&r.vr, 4, ids);
		fj_vring_push_avail(&r.vr, heads[i]);
	}
	assert_int_equal(r.vr.nfree, 0);
	fj_vring_publish(&r.vr);
	assert_int_equal(r.vr.avail->idx, 16);
	/* The device completes them newest first. */
	for (int i = 15; i >= 0; i--)
		dev_push_used(&r, heads[i], 0);
	assert_int_equal(fj_vring_used_pending(&r.vr), 16);
	for (uint16_t k = 0; k < 16; k++) {
		struct vring_used_elem e = fj_vring_used_elem(&r.vr, k);
		assert_int_equal(e.id, heads[15 - k]);
		fj_vring_free_chain(&r.vr, (uint16_t)e.id, 4);
	}
	r.vr.used_seen += 16;
	assert_int_equal(r.vr.nfree, 64);
	/* All 64 ids come out again, each once. */
	uint8_t seen[64] = { 0 };
	for (int i = 0; i < 64; i++) {
		uint16_t id = fj_vring_alloc_one(&r.vr);
		assert_true(id < 64);
		assert_int_equal(seen[id], 0);
		seen[id] = 1;
	}
	ring_free(&r);
}

static void
test_in_order_ring_hands_out_ids_in_ring_order_and_wraps(void **state)
{
	struct ring r;
	uint16_t ids[3];
	(void)state;
	ring_new(&r, 64, true);
	for (int i = 0; i < 21; i++)
		fj_vring_alloc_chain(&r.vr, 3, ids);
	assert_int_equal(ids[0], 60);
	fj_vring_free_chain(&r.vr, 0, 63);
	fj_vring_alloc_chain(&r.vr, 3, ids);
	/* §2.7.9: wraps at the end of the table, links follow. */
	assert_int_equal(ids[0], 63);
	assert_int_equal(ids[1], 0);
	assert_int_equal(ids[2], 1);
	assert_int_equal(r.vr.desc[63].next, 0);
	ring_free(&r);
}

static void
test_used_index_beyond_the_ring_is_reported_as_broken(void **state)
{
	struct ring r;
	(void)state;
	ring_new(&r, 64, false);
	r.vr.used->idx = 65;
	assert_int_equal(fj_vring_used_pending(&r.vr), -1);
	r.vr.used->idx = 64;
	assert_int_equal(fj_vring_used_pending(&r.vr), 64);
	/* Wrap-around of the 16-bit index is normal. */
	r.vr.used_seen = 65530;
	r.vr.used->idx = 4;
	assert_int_equal(fj_vring_used_pending(&r.vr), 10);
	ring_free(&r);
}

static void
test_notification_follows_the_device_no_notify_flag(void **state)
{
	struct ring r;
	(void)state;
	ring_new(&r, 64, false);
	assert_true(fj_vring_need_notify(&r.vr));
	r.vr.used->flags = VRING_USED_F_NO_NOTIFY;
	assert_false(fj_vring_need_notify(&r.vr));
	ring_free(&r);
}

static void
test_publish_exposes_only_pushed_heads_in_order(void **state)
{
	struct ring r;
	uint16_t pushed[7];
	(void)state;
	ring_new(&r, 64, false);
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 7; i++) {
			pushed[i] = fj_vring_alloc_one(&r.vr);
			fj_vring_push_avail(&r.vr, pushed[i]);
		}
		/* Nothing is visible before the publish. */
		assert_int_equal(r.vr.avail->idx, (uint16_t)(round * 7));
		fj_vring_publish(&r.vr);
		for (int i = 0; i < 7; i++) {
			assert_int_equal(dev_pop_avail(&r), pushed[i]);
			dev_push_used(&r, pushed[i], 0);
		}
		assert_int_equal(fj_vring_used_pending(&r.vr), 7);
		for (uint16_t k = 0; k < 7; k++)
			fj_vring_free_chain(&r.vr, (uint16_t)fj_vring_used_elem(&r.vr, k).id, 1);
		r.vr.used_seen += 7;
		assert_int_equal(r.vr.nfree, 64);
	}
	ring_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_rejects_sizes_that_are_not_powers_of_two),
		cmocka_unit_test(test_layout_matches_the_spec_sizes),
		cmocka_unit_test(test_init_suppresses_interrupts_and_frees_every_descriptor),
		cmocka_unit_test(test_interrupt_enable_clears_no_interrupt_and_reports_buffers_used_while_off),
		cmocka_unit_test(test_chain_links_descriptors_with_next_except_the_last),
		cmocka_unit_test(test_out_of_order_completion_returns_every_descriptor),
		cmocka_unit_test(test_in_order_ring_hands_out_ids_in_ring_order_and_wraps),
		cmocka_unit_test(test_used_index_beyond_the_ring_is_reported_as_broken),
		cmocka_unit_test(test_notification_follows_the_device_no_notify_flag),
		cmocka_unit_test(test_publish_exposes_only_pushed_heads_in_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
