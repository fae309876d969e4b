/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Split virtqueue driver side (VIRTIO 1.2 §2.7), pure: memory in, indices
 * out. No EAL, no mbufs, no transport; the RX/TX bursts and the unit tests
 * build on it alike.
 *
 * Device-writable memory (the used ring, and in a hostile device everything
 * it can reach) is read exactly once per field and validated; the driver
 * keeps its own copy of every index and link it needs, so a device that
 * scribbles over the descriptor table cannot steer the driver.
 */
#ifndef FJ_VIRTQUEUE_H
#define FJ_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio_spec.h"

struct fj_vring {
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t num;       /* queue size, a power of two */
	uint16_t mask;
	uint16_t avail_idx; /* next avail->idx to publish (driver shadow) */
	uint16_t used_seen; /* used->idx up to which entries were consumed */
	uint16_t nfree;     /* descriptors not owned by the device */
	uint16_t free_head; /* in-order: next id to hand out; else list head */
	bool in_order;      /* VIRTIO_F_IN_ORDER negotiated (§2.7.9) */
	uint16_t *link;     /* num entries: private free-list/chain links */
};

/* Byte offsets of the three parts inside one contiguous ring area. */
struct fj_vring_layout {
	size_t avail_off;
	size_t used_off;
	size_t size;
};

/* Returns 0 and fills @lay, or -EINVAL when @num is not a valid split size. */
int fj_vring_layout(uint16_t num, size_t used_align, struct fj_vring_layout *lay);

/*
 * Lay a vring over @mem (lay->size bytes, zeroed here) with @link holding
 * @num entries of private state. Interrupts from the device are suppressed:
 * fjord polls (§2.7.10, VRING_AVAIL_F_NO_INTERRUPT).
 */
int fj_vring_init(struct fj_vring *vr, void *mem, const struct fj_vring_layout *lay,
		  uint16_t num, bool in_order, uint16_t *link);

/*
 * Take @n descriptors for one chain, write their ids to @ids (ids[0] is the
 * head) and link them with VRING_DESC_F_NEXT except the last. The caller
 * fills addr/len and the WRITE flag. Caller checks nfree >= n first.
 */
static inline uint16_t
fj_vring_alloc_chain(struct fj_vring *vr, uint16_t n, uint16_t *ids)
{
	uint16_t id = vr->free_head;
	uint16_t i;

	for (i = 0; i < n; i++) {
		ids[i] = id;
		/* §2.7.9: in order, descriptors are used in ring order. */
		id = vr->in_order ? (uint16_t)((id + 1) & vr->mask) : vr->link[id];
	}
	for (i = 0; i + 1 < n; i++) {
		vr->desc[ids[i]].flags = VRING_DESC_F_NEXT;
		vr->desc[ids[i]].next = ids[i + 1];
		vr->link[ids[i]] = ids[i + 1];
	}
	vr->desc[ids[n - 1]].flags = 0;
	vr->free_head = id;
	vr->nfree = (uint16_t)(vr->nfree - n);
	return ids[0];
}

/* One free descriptor; single-descriptor buffers (RX, small TX). */
static inline uint16_t
fj_vring_alloc_one(struct fj_vring *vr)
{
	uint16_t id = vr->free_head;

	vr->free_head = vr->in_order ? (uint16_t)((id + 1) & vr->mask) : vr->link[id];
	vr->nfree--;
	return id;
}

/*
 * Return a chain of @n descriptors starting at @head. Links come from the
 * driver's private copy, never from the descriptor table. In-order rings
 * reclaim in order, so only the count moves.
 */
static inline void
fj_vring_free_chain(struct fj_vring *vr, uint16_t head, uint16_t n)
{
	vr->nfree = (uint16_t)(vr->nfree + n);
	if (vr->in_order)
		return;
	uint16_t tail = head;
	for (uint16_t i = 1; i < n; i++)
		tail = vr->link[tail];
	vr->link[tail] = vr->free_head;
	vr->free_head = head;
}

/* Put a chain head in the next available slot (not yet visible). */
static inline void
fj_vring_push_avail(struct fj_vring *vr, uint16_t head)
{
	vr->avail->ring[vr->avail_idx & vr->mask] = head;
	vr->avail_idx++;
}

/*
 * Make pushed heads visible. §2.7.13: the driver performs a suitable memory
 * barrier before the idx update, so the device never sees an index ahead of
 * the ring entries and descriptors it covers: a release store.
 */
static inline void
fj_vring_publish(struct fj_vring *vr)
{
	__atomic_store_n(&vr->avail->idx, vr->avail_idx, __ATOMIC_RELEASE);
}

/*
 * How many used entries the device has published beyond used_seen.
 * Returns -1 when the device claims more than the queue can hold: a broken
 * or hostile device, which the caller counts and stops trusting.
 * The acquire load pairs with the device's barrier before its used->idx
 * update (§2.7.14): entries up to idx are read only after idx.
 */
static inline int
fj_vring_used_pending(const struct fj_vring *vr)
{
	uint16_t idx = __atomic_load_n(&vr->used->idx, __ATOMIC_ACQUIRE);
	uint16_t n = (uint16_t)(idx - vr->used_seen);

	return n > vr->num ? -1 : (int)n;
}

/* The used element @k entries past used_seen (k < pending). */
static inline struct vring_used_elem
fj_vring_used_elem(const struct fj_vring *vr, uint16_t k)
{
	const struct vring_used_elem *e =
		&vr->used->ring[(uint16_t)(vr->used_seen + k) & vr->mask];
	struct vring_used_elem copy;

	/* One read of each field: the device may change them under us. */
	copy.id = __atomic_load_n(&e->id, __ATOMIC_RELAXED);
	copy.len = __atomic_load_n(&e->len, __ATOMIC_RELAXED);
	return copy;
}

/*
 * Whether the device wants a notification after a publish. §2.7.13.4 (and
 * §2.7.10 without VIRTIO_F_EVENT_IDX): the driver reads used->flags after
 * the idx update with a full barrier between, or it could miss the moment
 * the device stops polling and waits for a kick.
 */
static inline bool
fj_vring_need_notify(const struct fj_vring *vr)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !(__atomic_load_n(&vr->used->flags, __ATOMIC_RELAXED) &
		 VRING_USED_F_NO_NOTIFY);
}

/*
 * Used buffer notifications (§2.7.7; fjord does not negotiate
 * VIRTIO_F_EVENT_IDX, so avail->flags is the whole interface): off is
 * VRING_AVAIL_F_NO_INTERRUPT, as fj_vring_init leaves a ring.
 */
static inline void
fj_vring_intr_disable(struct fj_vring *vr)
{
	__atomic_store_n(&vr->avail->flags, VRING_AVAIL_F_NO_INTERRUPT, __ATOMIC_RELAXED);
}

/*
 * Ask for used buffer notifications again. Returns true when a used buffer
 * is already waiting: the device may have used it while notifications were
 * off and will not notify for it (§2.7.14: enable, full barrier, re-check
 * used->idx). A ring the device broke counts as waiting, so the caller
 * polls and the burst counts it.
 */
static inline bool
fj_vring_intr_enable(struct fj_vring *vr)
{
	__atomic_store_n(&vr->avail->flags, 0, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return fj_vring_used_pending(vr) != 0;
}

#endif
