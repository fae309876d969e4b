/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packed virtqueue driver side (VIRTIO 1.2 §2.8), pure like virtqueue.h:
 * one descriptor ring both sides read and write, wrap counters instead of
 * indices, and buffer ids the driver hands out and gets back.
 *
 * Buffer ids come from a FIFO of free ids, so a device that completes in
 * order gets them back in ring order, and out-of-order completion never
 * reuses an id still in flight.
 */
#ifndef FJ_VIRTQUEUE_PACKED_H
#define FJ_VIRTQUEUE_PACKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio_spec.h"

/* §2.8.13 */
struct vring_packed_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t id;
	uint16_t flags;
};

struct vring_packed_event {
	uint16_t off_wrap;
	uint16_t flags;
};

#define VRING_PACKED_DESC_F_AVAIL (1u << 7)
#define VRING_PACKED_DESC_F_USED  (1u << 15)
#define RING_EVENT_FLAGS_ENABLE  0x0
#define RING_EVENT_FLAGS_DISABLE 0x1

struct fj_pring {
	struct vring_packed_desc *desc;
	struct vring_packed_event *driver_event; /* written by the driver */
	struct vring_packed_event *device_event; /* written by the device */
	uint16_t num;
	uint16_t avail_idx;    /* next slot the driver writes */
	uint16_t avail_flags;  /* AVAIL/USED bits for the driver wrap counter */
	uint16_t used_idx;     /* next slot the driver polls */
	bool used_wrap;        /* wrap counter the next used descriptor carries */
	uint16_t nfree;        /* slots not owned by the device */
	/* FIFO of free buffer ids (num entries) */
	uint16_t *ids;
	uint16_t id_head;
	uint16_t id_count;
};

struct fj_pring_layout {
	size_t driver_event_off;
	size_t device_event_off;
	size_t size;
};

int fj_pring_layout(uint16_t num, struct fj_pring_layout *lay);
/* Zero @mem and start both wrap counters at 1 (§2.8.1). */
int fj_pring_init(struct fj_pring *pr, void *mem, const struct fj_pring_layout *lay,
		  uint16_t num, uint16_t *ids);

static inline uint16_t
fj_pring_id_get(struct fj_pring *pr)
{
	uint16_t id = pr->ids[pr->id_head];

	pr->id_head = (uint16_t)(pr->id_head + 1 == pr->num ? 0 : pr->id_head + 1);
	pr->id_count--;
	return id;
}

static inline void
fj_pring_id_put(struct fj_pring *pr, uint16_t id)
{
	uint32_t tail = (uint32_t)pr->id_head + pr->id_count;

	pr->ids[tail >= pr->num ? tail - pr->num : tail] = id;
	pr->id_count++;
}

/*
 * Write one available descriptor at avail_idx and advance. The flags word
 * goes last with release order (§2.8.21: the device reads the rest only
 * after seeing the flags); for a chain the caller writes the head last by
 * passing @defer_flags and publishing it with fj_pring_publish_head().
 * Returns the slot written.
 */
static inline uint16_t
fj_pring_put(struct fj_pring *pr, uint64_t addr, uint32_t len, uint16_t id, uint16_t flags,
	     uint16_t *head_flags)
{
	uint16_t slot = pr->avail_idx;
	struct vring_packed_desc *d = &pr->desc[slot];

	d->addr = addr;
	d->len = len;
	d->id = id;
	flags |= pr->avail_flags;
	if (head_flags != NULL)
		*head_flags = flags;
	else
		__atomic_store_n(&d->flags, flags, __ATOMIC_RELEASE);
	if (++pr->avail_idx == pr->num) {
		/* §2.8.1: the driver wrap counter flips after the last slot. */
		pr->avail_idx = 0;
		pr->avail_flags ^= VRING_PACKED_DESC_F_AVAIL | VRING_PACKED_DESC_F_USED;
	}
	pr->nfree--;
	return slot;
}

/* §2.8.6: a chain's first descriptor is made available after the rest. */
static inline void
fj_pring_publish_head(struct fj_pring *pr, uint16_t slot, uint16_t flags)
{
	__atomic_store_n(&pr->desc[slot].flags, flags, __ATOMIC_RELEASE);
}

/*
 * Whether slot @idx holds a used descriptor for wrap counter @wrap (§2.8.1:
 * AVAIL and USED both equal the device wrap counter). Acquire: the id and
 * length are read only after the flags.
 */
static inline bool
fj_pring_is_used(const struct fj_pring *pr, uint16_t idx, bool wrap)
{
	uint16_t f = __atomic_load_n(&pr->desc[idx].flags, __ATOMIC_ACQUIRE);
	bool avail = (f & VRING_PACKED_DESC_F_AVAIL) != 0;
	bool used = (f & VRING_PACKED_DESC_F_USED) != 0;

	return avail == wrap && used == wrap;
}

/* A used descriptor as the device wrote it back (§2.8.7). */
struct fj_pused {
	uint16_t id;  /* buffer id; for a chain, the id of its head */
	uint32_t len; /* bytes written into a device-writable buffer */
};

/*
 * The used descriptor at slot @idx for wrap counter @wrap, if the device
 * has marked it used. §2.8.21.1 and §2.8.7: the flags are read first, with
 * acquire order, and only then id and length; each once, through atomic
 * loads the compiler can neither hoist above the flags nor repeat (the
 * device may rewrite the slot once it is made available again).
 */
static inline bool
fj_pring_used_get(const struct fj_pring *pr, uint16_t idx, bool wrap, struct fj_pused *u)
{
	const struct vring_packed_desc *d = &pr->desc[idx];

	if (!fj_pring_is_used(pr, idx, wrap))
		return false;
	u->id = __atomic_load_n(&d->id, __ATOMIC_RELAXED);
	u->len = __atomic_load_n(&d->len, __ATOMIC_RELAXED);
	return true;
}

/* Slot and wrap counter @n slots after the driver's used position. */
static inline void
fj_pring_used_advance(struct fj_pring *pr, uint16_t n)
{
	uint32_t idx = (uint32_t)pr->used_idx + n;

	if (idx >= pr->num) {
		idx -= pr->num;
		pr->used_wrap = !pr->used_wrap;
	}
	pr->used_idx = (uint16_t)idx;
	pr->nfree = (uint16_t)(pr->nfree + n);
}

/*
 * §2.8.10 and §2.8.21.3: after making buffers available, a full barrier,
 * then the device's event suppression flags say whether to notify.
 * Without VIRTIO_F_EVENT_IDX only ENABLE and DISABLE are possible.
 */
static inline bool
fj_pring_need_notify(const struct fj_pring *pr)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(&pr->device_event->flags, __ATOMIC_RELAXED) !=
	       RING_EVENT_FLAGS_DISABLE;
}

/* §2.8.10: used buffer notifications off, as fj_pring_init leaves a ring. */
static inline void
fj_pring_intr_disable(struct fj_pring *pr)
{
	__atomic_store_n(&pr->driver_event->flags, RING_EVENT_FLAGS_DISABLE, __ATOMIC_RELAXED);
}

/*
 * §2.8.10: used buffer notifications on (ENABLE: one for every used
 * buffer; no EVENT_IDX, so no descriptor-specific events). Returns true
 * when the next descriptor is already used: written while notifications
 * were off, it brings none. The full barrier orders the flags store before
 * the descriptor read, pairing with the device's barrier between writing a
 * used descriptor and reading the flags.
 */
static inline bool
fj_pring_intr_enable(struct fj_pring *pr)
{
	__atomic_store_n(&pr->driver_event->flags, RING_EVENT_FLAGS_ENABLE, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return fj_pring_is_used(pr, pr->used_idx, pr->used_wrap);
}

#endif
