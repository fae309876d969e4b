/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_io.h>

#include "ctrlq.h"

int
fj_ctrlq_init(struct fj_ctrlq *cq, uint16_t max, bool packed, const char *name, int socket)
{
	uint16_t num = (uint16_t)RTE_MIN((uint32_t)FJ_CTRLQ_SIZE, rte_align32prevpow2(max));
	int rc;

	if (num == 0)
		return -ENODEV;
	rc = packed ? fj_pring_layout(num, &cq->play)
		    : fj_vring_layout(num, RTE_CACHE_LINE_SIZE, &cq->lay);
	if (rc < 0)
		return -ENODEV;
	cq->ring_size = packed ? cq->play.size : cq->lay.size;
	/* The zone is sized for the larger layout, so a restart may switch. */
	if (cq->mz == NULL) {
		struct fj_vring_layout l;
		struct fj_pring_layout pl;

		fj_vring_layout(FJ_CTRLQ_SIZE, RTE_CACHE_LINE_SIZE, &l);
		fj_pring_layout(FJ_CTRLQ_SIZE, &pl);
		cq->mz = rte_memzone_reserve_aligned(name, RTE_MAX(l.size, pl.size) +
							   FJ_CTRLQ_CMD_ROOM,
						     socket, RTE_MEMZONE_IOVA_CONTIG, 4096);
		if (cq->mz == NULL)
			return -ENOMEM;
	}
	memset(cq->mz->addr, 0, cq->ring_size + FJ_CTRLQ_CMD_ROOM);
	cq->packed = packed;
	cq->num = num;
	/* Both initialisers suppress used-buffer notifications: we poll. */
	if (packed)
		return fj_pring_init(&cq->pr, cq->mz->addr, &cq->play, num, cq->link);
	return fj_vring_init(&cq->vr, cq->mz->addr, &cq->lay, num, false, cq->link);
}

struct fj_ring_addrs
fj_ctrlq_rings(const struct fj_ctrlq *cq)
{
	if (cq->packed)
		return (struct fj_ring_addrs){ cq->pr.desc, cq->pr.driver_event,
					       cq->pr.device_event, cq->num, true, cq->mz };
	return (struct fj_ring_addrs){ cq->vr.desc, cq->vr.avail, cq->vr.used, cq->num, false,
				       cq->mz };
}

/*
 * The command as one chain (§5.1.6.5): header {class, command}, the data
 * (when there is any), both device-readable, then the device-writable ack.
 * Returns the id the device will answer with.
 */
static uint16_t
put_split(struct fj_vring *vr, uint64_t iova, uint16_t len, uint16_t ndesc)
{
	uint16_t ids[3];

	fj_vring_alloc_chain(vr, ndesc, ids);
	vr->desc[ids[0]].addr = iova;
	vr->desc[ids[0]].len = 2;
	if (ndesc == 3) {
		vr->desc[ids[1]].addr = iova + 2;
		vr->desc[ids[1]].len = len;
	}
	vr->desc[ids[ndesc - 1]].addr = iova + 2 + len;
	vr->desc[ids[ndesc - 1]].len = 1;
	vr->desc[ids[ndesc - 1]].flags = VRING_DESC_F_WRITE;
	fj_vring_push_avail(vr, ids[0]);
	fj_vring_publish(vr);
	return ids[0];
}

/* §2.8.6: every descriptor of the chain first, its head last. */
static uint16_t
put_packed(struct fj_pring *pr, uint64_t iova, uint16_t len, uint16_t ndesc)
{
	uint16_t id = fj_pring_id_get(pr);
	uint16_t head_flags;
	uint16_t head = fj_pring_put(pr, iova, 2, id, VRING_DESC_F_NEXT, &head_flags);

	if (ndesc == 3)
		fj_pring_put(pr, iova + 2, len, id, VRING_DESC_F_NEXT, NULL);
	fj_pring_put(pr, iova + 2 + len, 1, id, VRING_DESC_F_WRITE, NULL);
	fj_pring_publish_head(pr, head, head_flags);
	return id;
}

/* 1: the device used buffer @id; 0: not yet; -EIO: it broke the ring. */
static int
poll_split(struct fj_vring *vr, uint16_t id, uint16_t ndesc)
{
	int n = fj_vring_used_pending(vr);

	if (n <= 0)
		return n < 0 ? -EIO : 0;
	struct vring_used_elem e = fj_vring_used_elem(vr, 0);

	vr->used_seen++;
	if (e.id != id)
		return -EIO;
	fj_vring_free_chain(vr, id, ndesc);
	return 1;
}

static int
poll_packed(struct fj_pring *pr, uint16_t id, uint16_t ndesc)
{
	struct fj_pused u;

	if (!fj_pring_used_get(pr, pr->used_idx, pr->used_wrap, &u))
		return 0;
	/* §2.8.7: one used descriptor, at the head's slot, for the chain. */
	if (u.id != id)
		return -EIO;
	fj_pring_used_advance(pr, ndesc);
	fj_pring_id_put(pr, id);
	return 1;
}

static int
wait_answer(struct fj_ctrlq *cq, const char *devname, uint16_t id, uint16_t ndesc)
{
	for (int i = 0; i < FJ_CTRLQ_WAIT_MS * 10; i++) {
		int rc = cq->packed ? poll_packed(&cq->pr, id, ndesc)
				    : poll_split(&cq->vr, id, ndesc);

		if (rc < 0 || (cq->alive != NULL && (i & 1023) == 0 && !cq->alive(cq->alive_arg))) {
			FJ_PMD_LOG(ERR, "%s: control queue: the device broke its used ring or went away",
			           devname);
			return -EIO;
		}
		if (rc > 0)
			return 0;
		rte_delay_us(100);
	}
	return -ETIMEDOUT;
}

int
fj_ctrlq_cmd(struct fj_ctrlq *cq, const char *devname, uint8_t cls, uint8_t cmd,
	     const void *data, uint16_t len)
{
	uint8_t *area = (uint8_t *)cq->mz->addr + cq->ring_size;
	uint64_t iova = cq->mz->iova + cq->ring_size;
	uint16_t ndesc = len ? 3 : 2;
	uint16_t nfree = cq->packed ? cq->pr.nfree : cq->vr.nfree;
	uint16_t id;
	int rc;

	if (len > FJ_CTRLQ_CMD_ROOM - 3 || nfree < ndesc)
		return -ENOSPC;
	area[0] = cls;
	area[1] = cmd;
	memcpy(area + 2, data, len);
	area[2 + len] = 0xff; /* not an answer the device can give */
	id = cq->packed ? put_packed(&cq->pr, iova, len, ndesc)
			: put_split(&cq->vr, iova, len, ndesc);
	rte_io_wmb();
	cq->notify.fn(&cq->notify);

	rc = wait_answer(cq, devname, id, ndesc);
	if (rc == -ETIMEDOUT)
		FJ_PMD_LOG(ERR, "%s: control command %u/%u: no answer in %d ms", devname, cls, cmd,
		           FJ_CTRLQ_WAIT_MS);
	if (rc < 0)
		return rc;
	uint8_t ack = __atomic_load_n(&area[2 + len], __ATOMIC_ACQUIRE);
	if (ack != VIRTIO_NET_OK) {
		FJ_PMD_LOG(ERR, "%s: control command %u/%u refused (ack %u)", devname, cls, cmd, ack);
		return -EIO;
	}
	return 0;
}

void
fj_ctrlq_free(struct fj_ctrlq *cq)
{
	rte_memzone_free(cq->mz);
	cq->mz = NULL;
}
