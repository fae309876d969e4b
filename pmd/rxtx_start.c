/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Queue start and drain, the same for split (VIRTIO 1.2 §2.7) and packed
 * (§2.8) rings: everything a burst relies on is chosen here, once, from
 * the features the port started with; only the ring itself and the first
 * fill of an rx ring differ by layout (rxtx.c, rxtx_packed.c).
 */
#include <string.h>

#include <rte_mbuf.h>

#include "fj_pmd.h"

/* The ring over the queue's zone in its layout; @in_order is §2.7.9 for split rings. */
static int
ring_init(bool packed, struct fj_vring *vr, struct fj_pring *pr, void *mem,
	  const struct fj_vring_layout *lay, const struct fj_pring_layout *play, uint16_t num,
	  bool in_order, uint16_t *link)
{
	if (packed)
		return fj_pring_init(pr, mem, play, num, link);
	return fj_vring_init(vr, mem, lay, num, in_order, link);
}

int
fj_rxq_start(struct fj_rxq *q)
{
	const struct fj_dev *dev = q->dev;
	int rc = ring_init(q->packed, &q->vr, &q->pr, q->mz->addr, &q->lay, &q->play, q->nb_desc,
			   (dev->features & FJ_BIT(VIRTIO_F_IN_ORDER)) != 0, q->link);

	if (rc < 0)
		return rc;
	q->mrg_rxbuf = (dev->features & FJ_BIT(VIRTIO_NET_F_MRG_RXBUF)) != 0;
	/* The header's length follows the features of this start (§5.1.6). */
	q->hdr_len = fj_net_hdr_len(dev->features);
	q->hash_report = (dev->features & FJ_BIT(VIRTIO_NET_F_HASH_REPORT)) != 0;
	q->gso = (uint8_t)(((dev->features & FJ_BIT(VIRTIO_NET_F_GUEST_TSO4)) ? FJ_GSO_V4 : 0) |
			   ((dev->features & FJ_BIT(VIRTIO_NET_F_GUEST_TSO6)) ? FJ_GSO_V6 : 0));
	q->buf_room = q->data_room + q->hdr_len;
	q->broken = false;
	q->filter = !dev->promisc;
	q->allmulti = dev->allmulti;
	q->mac = dev->mac;
	memset(q->sw, 0, sizeof(*q->sw) * q->nb_desc);
	if ((q->packed ? fj_rxq_fill_packed(q) : fj_rxq_fill(q)) != 0) {
		FJ_PMD_LOG(ERR, "port %u rxq %u: mempool %s cannot fill %u descriptors",
			   q->port_id, q->queue_id, q->mp->name, q->nb_desc);
		fj_rxq_drain(q);
		return -ENOMEM;
	}
	return 0;
}

void
fj_rxq_drain(struct fj_rxq *q)
{
	for (uint16_t i = 0; i < q->nb_desc; i++) {
		if (q->sw[i] != NULL) {
			rte_pktmbuf_free(q->sw[i]);
			q->sw[i] = NULL;
		}
	}
	q->refill_count = 0;
}

int
fj_txq_start(struct fj_txq *q)
{
	/*
	 * §2.7.9 / §2.8.9: with VIRTIO_F_IN_ORDER the device uses buffers in
	 * the order they were made available; the bursts read the choice
	 * from the queue.
	 */
	q->in_order = (q->dev->features & FJ_BIT(VIRTIO_F_IN_ORDER)) != 0;
	q->hdr_len = fj_net_hdr_len(q->dev->features);
	uint64_t f = q->dev->features;
	q->gso = (uint8_t)(((f & FJ_BIT(VIRTIO_NET_F_HOST_TSO4)) ? FJ_GSO_V4 : 0) |
			   ((f & FJ_BIT(VIRTIO_NET_F_HOST_TSO6)) ? FJ_GSO_V6 : 0));
	int rc = ring_init(q->packed, &q->vr, &q->pr, q->mz->addr, &q->lay, &q->play, q->nb_desc,
			   q->in_order, q->link);

	if (rc < 0)
		return rc;
	/* Header slots follow the ring in the same zone, zeroed once here. */
	memset((char *)q->mz->addr + (q->packed ? q->play.size : q->lay.size), 0,
	       (size_t)q->nb_desc * VIRTIO_NET_HDR_MAX_LEN);
	memset(q->sw, 0, sizeof(*q->sw) * q->nb_desc);
	q->clean_head = 0;
	q->broken = false;
	return 0;
}

void
fj_txq_drain(struct fj_txq *q)
{
	for (uint16_t i = 0; i < q->nb_desc; i++) {
		if (q->sw[i].m != NULL) {
			rte_pktmbuf_free(q->sw[i].m);
			q->sw[i].m = NULL;
		}
	}
}
