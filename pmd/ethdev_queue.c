/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Queue setup and release: each queue's ring zone (IOVA-contiguous, in the
 * layout negotiated at probe: VIRTIO 1.2 §2.7 split or §2.8 packed), its
 * private arrays, and what rte_eth_rx/tx_queue_info_get report.
 */
#include <errno.h>
#include <stdio.h>

#include <rte_malloc.h>
#include <rte_memzone.h>

#include "ethdev_ops.h"

static uint16_t
ring_size(struct fj_dev *dev, uint16_t nb_desc, uint16_t vq)
{
	uint32_t n = nb_desc ? nb_desc : dev->queue_size;
	uint32_t max = FJ_QUEUE_SIZE_MAX;

	/* A device may cap its queues (PCI queue_size, §4.1.4.3). */
	if (dev->ops->queue_size_max != NULL && dev->ops->queue_size_max(dev, vq) != 0)
		max = rte_align32prevpow2(dev->ops->queue_size_max(dev, vq));
	/* Split queues are powers of two (VIRTIO 1.2 §2.7): round up. */
	n = rte_align32pow2(n);
	return (uint16_t)RTE_MIN(RTE_MAX(n, (uint32_t)FJ_QUEUE_SIZE_MIN), max);
}

static void
fj_rxq_free(struct fj_rxq *q)
{
	if (q == NULL)
		return;
	fj_rxq_drain(q);
	rte_free(q->sw);
	rte_free(q->refill);
	rte_free(q->link);
	rte_memzone_free(q->mz);
	rte_free(q);
}

static void
fj_txq_free(struct fj_txq *q)
{
	if (q == NULL)
		return;
	fj_txq_drain(q);
	rte_free(q->sw);
	rte_free(q->link);
	rte_memzone_free(q->mz);
	rte_free(q);
}

void
fj_rx_queue_release(struct rte_eth_dev *eth_dev, uint16_t qid)
{
	fj_rxq_free(eth_dev->data->rx_queues[qid]);
	eth_dev->data->rx_queues[qid] = NULL;
}

void
fj_tx_queue_release(struct rte_eth_dev *eth_dev, uint16_t qid)
{
	fj_txq_free(eth_dev->data->tx_queues[qid]);
	eth_dev->data->tx_queues[qid] = NULL;
}

static const struct rte_memzone *
ring_zone(struct fj_dev *dev, const char *kind, uint16_t qid, size_t size, int socket)
{
	char name[RTE_MEMZONE_NAMESIZE];

	snprintf(name, sizeof(name), "fj_%u_%s%u", dev->port_id, kind, qid);
	return rte_memzone_reserve_aligned(name, size, socket, RTE_MEMZONE_IOVA_CONTIG,
					   FJ_RING_ALIGN);
}

int
fj_rx_queue_setup(struct rte_eth_dev *eth_dev, uint16_t qid, uint16_t nb_desc,
		  unsigned int socket, const struct rte_eth_rxconf *conf,
		  struct rte_mempool *mp)
{
	struct fj_dev *dev = to_dev(eth_dev);
	uint16_t nb = ring_size(dev, nb_desc, fj_rx_vq(qid));
	uint32_t room = rte_pktmbuf_data_room_size(mp);
	struct fj_rxq *q;

	uint64_t offloads = conf->offloads | eth_dev->data->dev_conf.rxmode.offloads;
	if (room < RTE_PKTMBUF_HEADROOM + RTE_ETHER_MIN_LEN) {
		FJ_PMD_LOG(ERR, "%s: rxq %u: mbufs of pool %s have no room past the headroom",
		           dev->name, qid, mp->name);
		return -EINVAL;
	}
	/* The header goes in the headroom's end (fj_rxq_start), the frame after it. */
	room = room - RTE_PKTMBUF_HEADROOM;
	if (!(dev->features & FJ_BIT(VIRTIO_NET_F_MRG_RXBUF)) &&
	    room < (uint32_t)dev->mtu + FJ_VLAN_FRAME_OVERHEAD) {
		FJ_PMD_LOG(ERR, "%s: rxq %u: without mergeable buffers an mbuf must hold a whole "
			        "frame: pool %s has %u bytes, MTU %u needs more",
		           dev->name, qid, mp->name, room, dev->mtu);
		return -EINVAL;
	}
	fj_rx_queue_release(eth_dev, qid);

	q = rte_zmalloc_socket("fj_rxq", sizeof(*q), RTE_CACHE_LINE_SIZE, (int)socket);
	if (q == NULL)
		return -ENOMEM;
	q->dev = dev;
	q->queue_id = qid;
	q->port_id = dev->port_id;
	q->nb_desc = nb;
	q->mp = mp;
	q->data_room = room;
	q->buf_room = room + fj_net_hdr_len(dev->features);
	q->addr_off = dev->ops->use_va ? offsetof(struct rte_mbuf, buf_addr)
				       : offsetof(struct rte_mbuf, buf_iova);
	q->packed = (dev->features & FJ_BIT(VIRTIO_F_RING_PACKED)) != 0;
	q->guest_csum = (dev->features & FJ_BIT(VIRTIO_NET_F_GUEST_CSUM)) != 0;
	q->csum_offload = q->guest_csum && (offloads & (RTE_ETH_RX_OFFLOAD_TCP_CKSUM |
							RTE_ETH_RX_OFFLOAD_UDP_CKSUM));
	q->mz = ring_zone(dev, "rx", qid, fj_queue_layout(q->packed, nb, &q->lay, &q->play),
			  (int)socket);
	q->sw = rte_zmalloc_socket("fj_rx_sw", sizeof(*q->sw) * nb, RTE_CACHE_LINE_SIZE,
				   (int)socket);
	q->refill = rte_zmalloc_socket("fj_rx_refill", sizeof(uint16_t) * nb, 0, (int)socket);
	q->link = rte_zmalloc_socket("fj_rx_link", sizeof(uint16_t) * nb, 0, (int)socket);
	if (q->mz == NULL || q->sw == NULL || q->refill == NULL || q->link == NULL) {
		FJ_PMD_LOG(ERR, "%s: rxq %u: out of memory for %u descriptors", dev->name, qid, nb);
		fj_rxq_free(q);
		return -ENOMEM;
	}
	eth_dev->data->rx_queues[qid] = q;
	return 0;
}

int
fj_tx_queue_setup(struct rte_eth_dev *eth_dev, uint16_t qid, uint16_t nb_desc,
		  unsigned int socket, const struct rte_eth_txconf *conf)
{
	struct fj_dev *dev = to_dev(eth_dev);
	uint16_t nb = ring_size(dev, nb_desc, fj_tx_vq(qid));
	uint64_t offloads = conf->offloads | eth_dev->data->dev_conf.txmode.offloads;
	struct fj_txq *q;

	fj_tx_queue_release(eth_dev, qid);
	q = rte_zmalloc_socket("fj_txq", sizeof(*q), RTE_CACHE_LINE_SIZE, (int)socket);
	if (q == NULL)
		return -ENOMEM;
	q->dev = dev;
	q->queue_id = qid;
	q->nb_desc = nb;
	q->addr_off = dev->ops->use_va ? offsetof(struct rte_mbuf, buf_addr)
				       : offsetof(struct rte_mbuf, buf_iova);
	q->free_thresh = conf->tx_free_thresh ? conf->tx_free_thresh
					      : (uint16_t)RTE_MIN(32, nb / 4);
	q->fast_free = (offloads & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE) &&
		       !(offloads & RTE_ETH_TX_OFFLOAD_MULTI_SEGS);
	q->packed = (dev->features & FJ_BIT(VIRTIO_F_RING_PACKED)) != 0;
	q->csum = (dev->features & FJ_BIT(VIRTIO_NET_F_CSUM)) &&
		  (offloads & (RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM));
	size_t ring = fj_queue_layout(q->packed, nb, &q->lay, &q->play);
	/* Ring, then one zeroed header per descriptor for non-pushable mbufs, each
	 * with room for the longer header (§5.1.6), whichever a start negotiates. */
	q->mz = ring_zone(dev, "tx", qid, ring + (size_t)nb * VIRTIO_NET_HDR_MAX_LEN, (int)socket);
	q->sw = rte_zmalloc_socket("fj_tx_sw", sizeof(*q->sw) * nb, RTE_CACHE_LINE_SIZE,
				   (int)socket);
	q->link = rte_zmalloc_socket("fj_tx_link", sizeof(uint16_t) * nb, 0, (int)socket);
	if (q->mz == NULL || q->sw == NULL || q->link == NULL) {
		FJ_PMD_LOG(ERR, "%s: txq %u: out of memory for %u descriptors", dev->name, qid, nb);
		fj_txq_free(q);
		return -ENOMEM;
	}
	q->hdr_base = (dev->ops->use_va ? (uint64_t)(uintptr_t)q->mz->addr : q->mz->iova) + ring;
	q->hdr_va = (uint8_t *)q->mz->addr + ring;
	eth_dev->data->tx_queues[qid] = q;
	return 0;
}

void
fj_rxq_info_get(struct rte_eth_dev *eth_dev, uint16_t qid, struct rte_eth_rxq_info *qi)
{
	struct fj_rxq *q = eth_dev->data->rx_queues[qid];

	qi->mp = q->mp;
	qi->nb_desc = q->nb_desc;
	qi->scattered_rx = q->dev->features & FJ_BIT(VIRTIO_NET_F_MRG_RXBUF) ? 1 : 0;
	qi->rx_buf_size = (uint16_t)q->data_room;
}

void
fj_txq_info_get(struct rte_eth_dev *eth_dev, uint16_t qid, struct rte_eth_txq_info *qi)
{
	struct fj_txq *q = eth_dev->data->tx_queues[qid];

	qi->nb_desc = q->nb_desc;
	qi->conf.tx_free_thresh = q->free_thresh;
}
