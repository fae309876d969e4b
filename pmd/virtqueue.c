/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "virtqueue.h"

static size_t
align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int
fj_vring_layout(uint16_t num, size_t used_align, struct fj_vring_layout *lay)
{
	/* §2.7: split queue sizes are powers of two, at most 32768. */
	if (num == 0 || (num & (num - 1)) != 0)
		return -EINVAL;
	if (used_align < VRING_USED_ALIGN || (used_align & (used_align - 1)) != 0)
		return -EINVAL;

	size_t desc = (size_t)num * sizeof(struct vring_desc);
	/* flags, idx, ring[num], used_event */
	size_t avail = sizeof(uint16_t) * (3 + (size_t)num);
	/* flags, idx, ring[num], avail_event */
	size_t used = sizeof(uint16_t) * 3 + sizeof(struct vring_used_elem) * (size_t)num;

	lay->avail_off = desc;
	/*
	 * The used ring is written by the device and read by the driver: keep
	 * it off the cache lines the driver writes (descriptors, avail ring).
	 */
	lay->used_off = align_up(desc + avail, used_align);
	lay->size = lay->used_off + used;
	return 0;
}

int
fj_vring_init(struct fj_vring *vr, void *mem, const struct fj_vring_layout *lay,
	      uint16_t num, bool in_order, uint16_t *link)
{
	if (num == 0 || (num & (num - 1)) != 0 || lay->size == 0)
		return -EINVAL;
	memset(vr, 0, sizeof(*vr));
	memset(mem, 0, lay->size);
	vr->desc = mem;
	vr->avail = (struct vring_avail *)((char *)mem + lay->avail_off);
	vr->used = (struct vring_used *)((char *)mem + lay->used_off);
	vr->num = num;
	vr->mask = (uint16_t)(num - 1);
	vr->in_order = in_order;
	vr->link = link;
	vr->nfree = num;
	vr->free_head = 0;
	for (uint16_t i = 0; i < num; i++)
		link[i] = (uint16_t)((i + 1) & vr->mask);
	/* §2.7.10: fjord polls; ask the device not to interrupt. */
	vr->avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	return 0;
}
