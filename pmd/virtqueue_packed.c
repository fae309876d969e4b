/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "virtqueue_packed.h"

int
fj_pring_layout(uint16_t num, struct fj_pring_layout *lay)
{
	/* §2.8: at most 2^15 entries; fjord keeps powers of two throughout. */
	if (num == 0 || num > VRING_MAX_SIZE || (num & (num - 1)) != 0)
		return -EINVAL;
	size_t ring = (size_t)num * sizeof(struct vring_packed_desc);

	lay->driver_event_off = ring;
	/* The device's structure on its own cache line: only it writes there. */
	lay->device_event_off = ring + 64;
	lay->size = ring + 128;
	return 0;
}

int
fj_pring_init(struct fj_pring *pr, void *mem, const struct fj_pring_layout *lay,
	      uint16_t num, uint16_t *ids)
{
	if (num == 0 || (num & (num - 1)) != 0 || lay->size == 0)
		return -EINVAL;
	memset(pr, 0, sizeof(*pr));
	memset(mem, 0, lay->size);
	pr->desc = mem;
	pr->driver_event = (struct vring_packed_event *)((char *)mem + lay->driver_event_off);
	pr->device_event = (struct vring_packed_event *)((char *)mem + lay->device_event_off);
	pr->num = num;
	/* §2.8.1: both wrap counters start at 1. */
	pr->avail_flags = VRING_PACKED_DESC_F_AVAIL;
	pr->used_wrap = true;
	pr->nfree = num;
	pr->ids = ids;
	for (uint16_t i = 0; i < num; i++)
		ids[i] = i;
	pr->id_head = 0;
	pr->id_count = num;
	/* fjord polls: no used buffer notifications (§2.8.10). */
	pr->driver_event->flags = RING_EVENT_FLAGS_DISABLE;
	return 0;
}
