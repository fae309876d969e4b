/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A pair of fjord queues wired to nothing but memory, so a test or fuzzer
 * can play the device side of the split rings (VIRTIO 1.2 §2.7) directly.
 * Descriptors carry virtual addresses, as over vhost-user.
 */
#ifndef FJ_TEST_SIMQ_H
#define FJ_TEST_SIMQ_H

#include <stdbool.h>
#include <stdint.h>

#include "fj_pmd.h"

struct simq {
	struct fj_dev dev;
	struct fj_rxq *rxq;
	struct fj_txq *txq;
	uint16_t avail_seen[2]; /* device's position in each avail ring (rx, tx) */
	uint16_t pending[2];    /* used entries written, not yet published */
	/* packed rings: the device's positions and wrap counters */
	uint16_t p_avail[2], p_used[2];
	bool p_avail_wrap[2], p_used_wrap[2];
};

extern unsigned int simq_kicks;

/* Both queues started with @nb descriptors on @mp; NULL on failure. */
struct simq *simq_new(struct rte_mempool *mp, uint16_t nb, uint64_t features);
/* Drain and free both queues. */
void simq_free(struct simq *s);

static inline struct fj_vring *
simq_vr(struct simq *s, bool rx)
{
	return rx ? &s->rxq->vr : &s->txq->vr;
}

/* Next head the driver made available, or -1 when there is none. */
int simq_next_avail(struct simq *s, bool rx);
/* Write a used entry; publish it (and any pending ones) if @publish. */
void simq_used(struct simq *s, bool rx, uint32_t id, uint32_t len, bool publish);

/*
 * Packed rings (features with VIRTIO_F_RING_PACKED): the next available
 * descriptor at the device's position, or NULL; and a used descriptor
 * written at the device's used position, which then skips @skip slots
 * (the length of the chain or batch it stands for, §2.8.7).
 */
struct vring_packed_desc *simq_p_next_avail(struct simq *s, bool rx);
void simq_p_used(struct simq *s, bool rx, uint16_t id, uint32_t len, uint16_t skip);

#endif
