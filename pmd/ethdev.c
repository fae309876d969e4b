/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ethdev operations of fjord's virtio-net port, common to all transports:
 * configuration, start/stop, link, filters, MTU and the ops table; queue
 * setup is in ethdev_queue.c, statistics in ethdev_stats.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <ethdev_driver.h>
#include <rte_malloc.h>
#include <rte_memzone.h>

#include "ethdev_ops.h"
#include "virtio_features.h"

RTE_LOG_REGISTER_DEFAULT(fj_logtype, NOTICE);

struct fj_rxq *
fj_dev_rxq(struct fj_dev *dev, uint16_t q)
{
	struct rte_eth_dev_data *d = dev->eth_dev->data;
	return q < d->nb_rx_queues ? d->rx_queues[q] : NULL;
}

struct fj_txq *
fj_dev_txq(struct fj_dev *dev, uint16_t q)
{
	struct rte_eth_dev_data *d = dev->eth_dev->data;
	return q < d->nb_tx_queues ? d->tx_queues[q] : NULL;
}

uint16_t
fj_dev_nb_rxq(struct fj_dev *dev)
{
	return dev->eth_dev->data->nb_rx_queues;
}

uint16_t
fj_dev_nb_txq(struct fj_dev *dev)
{
	return dev->eth_dev->data->nb_tx_queues;
}


/* ------------------------------------------------------------ config */

static int
fj_configure(struct rte_eth_dev *eth_dev)
{
	struct fj_dev *dev = to_dev(eth_dev);
	struct rte_eth_dev_data *d = eth_dev->data;
	struct rte_eth_conf *conf = &d->dev_conf;

	/* Virtqueues come in pairs (§5.1.2); a pair may use only one of its two. */
	uint16_t pairs = RTE_MAX(d->nb_rx_queues, d->nb_tx_queues);
	if (pairs > dev->max_pairs) {
		FJ_PMD_LOG(ERR, "%s: %u rx and %u tx queues need %u queue pairs, the device has %u",
		           dev->name, d->nb_rx_queues, d->nb_tx_queues, pairs, dev->max_pairs);
		return -EINVAL;
	}
	if (d->mtu > dev->max_mtu || d->mtu < FJ_MIN_MTU) {
		FJ_PMD_LOG(ERR, "%s: MTU %u outside %u..%u", dev->name, d->mtu, FJ_MIN_MTU,
		           dev->max_mtu);
		return -EINVAL;
	}
	int rc = fj_intr_configure(dev);
	if (rc < 0)
		return rc;
	dev->pairs = pairs;
	dev->mtu = d->mtu;
	/*
	 * Transmit checksum offload only when the application asks for it:
	 * with VIRTIO_NET_F_CSUM negotiated the device must read and parse
	 * every packet's header (§5.1.6.2), which a back-end such as DPDK's
	 * vhost library then does on every dequeue. The transports send the
	 * feature set again at each start (§3.1.1). GUEST_CSUM stays: without
	 * it a forwarder could not tell a partial checksum from a whole one.
	 */
	dev->features = dev->capable;
	uint64_t tx = conf->txmode.offloads;
	if (!(tx & (RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM |
		    RTE_ETH_TX_OFFLOAD_TCP_TSO)))
		dev->features &= ~FJ_BIT(VIRTIO_NET_F_CSUM);
	/*
	 * Segmentation both ways on request only, for the same reason: a
	 * device that may hand us 64 KiB segments (GUEST_TSO, §5.1.6.4)
	 * would give them to an application that did not ask for LRO.
	 */
	if (!(tx & RTE_ETH_TX_OFFLOAD_TCP_TSO))
		dev->features &= ~FJ_FEATURES_HOST_TSO;
	if (!(conf->rxmode.offloads & RTE_ETH_RX_OFFLOAD_TCP_LRO))
		dev->features &= ~FJ_FEATURES_GUEST_TSO;
	/* RSS and hash reports only under mq_mode RSS: they cost a longer header. */
	return fj_rss_configure(dev, conf, d->nb_rx_queues);
}

static int
fj_infos_get(struct rte_eth_dev *eth_dev, struct rte_eth_dev_info *info)
{
	struct fj_dev *dev = to_dev(eth_dev);
	bool mrg = dev->features & FJ_BIT(VIRTIO_NET_F_MRG_RXBUF);

	info->max_rx_queues = dev->max_pairs;
	info->max_tx_queues = dev->max_pairs;
	info->max_mac_addrs = 1;
	info->min_mtu = FJ_MIN_MTU;
	info->max_mtu = dev->max_mtu;
	info->max_rx_pktlen = (uint32_t)dev->max_mtu + FJ_VLAN_FRAME_OVERHEAD;
	info->min_rx_bufsize = RTE_ETHER_MIN_LEN;
	info->rx_offload_capa = mrg ? RTE_ETH_RX_OFFLOAD_SCATTER : 0;
	info->tx_offload_capa = RTE_ETH_TX_OFFLOAD_MULTI_SEGS | RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
	/* TCP and UDP checksums (§5.1.6.2, §5.1.6.4.1); virtio has no IPv4
	 * header checksum offload. */
	if (dev->capable & FJ_BIT(VIRTIO_NET_F_GUEST_CSUM))
		info->rx_offload_capa |= RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	if (dev->capable & FJ_BIT(VIRTIO_NET_F_CSUM))
		info->tx_offload_capa |= RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	/* Negotiation kept TSO only with its checksum feature (§5.1.3.1). */
	if (dev->capable & FJ_FEATURES_HOST_TSO)
		info->tx_offload_capa |= RTE_ETH_TX_OFFLOAD_TCP_TSO;
	if (dev->capable & FJ_FEATURES_GUEST_TSO) {
		info->rx_offload_capa |= RTE_ETH_RX_OFFLOAD_TCP_LRO;
		/* The largest segment a device coalesces: a 64 KiB IP datagram
		 * and its Ethernet header (with a VLAN tag). */
		info->max_lro_pkt_size = UINT16_MAX + FJ_VLAN_FRAME_OVERHEAD;
	}
	info->rx_desc_lim.nb_max = FJ_QUEUE_SIZE_MAX;
	info->rx_desc_lim.nb_min = FJ_QUEUE_SIZE_MIN;
	info->rx_desc_lim.nb_align = 1;
	info->tx_desc_lim = info->rx_desc_lim;
	info->tx_desc_lim.nb_seg_max = 64;
	info->tx_desc_lim.nb_mtu_seg_max = 64;
	info->default_rxportconf.ring_size = dev->queue_size;
	info->default_txportconf.ring_size = dev->queue_size;
	info->default_rxportconf.burst_size = 32;
	info->default_txportconf.burst_size = 32;
	info->default_rxportconf.nb_queues = 1;
	info->default_txportconf.nb_queues = 1;
	info->speed_capa = RTE_ETH_LINK_SPEED_FIXED;
	fj_rss_infos(dev, info);
	return 0;
}

/* ------------------------------------------------------------ start/stop */

static int
fj_link_update(struct rte_eth_dev *eth_dev, int wait)
{
	struct fj_dev *dev = to_dev(eth_dev);
	struct rte_eth_link link = {
		.link_speed = RTE_ETH_SPEED_NUM_UNKNOWN,
		.link_duplex = RTE_ETH_LINK_FULL_DUPLEX,
		.link_autoneg = RTE_ETH_LINK_FIXED,
	};

	RTE_SET_USED(wait);
	/* (an application's query on its lcore and the transport's news on
	 * EAL's interrupt thread may meet here) */
	rte_spinlock_lock(&dev->link_lock);
	link.link_status = dev->started && dev->ops->link_up(dev) ? RTE_ETH_LINK_UP
								   : RTE_ETH_LINK_DOWN;
	/* Only a started port's link can go down; a stop is not counted. */
	if (dev->link && !link.link_status && dev->started)
		dev->link_down_events++;
	dev->link = link.link_status;
	int rc = rte_eth_linkstatus_set(eth_dev, &link);
	rte_spinlock_unlock(&dev->link_lock);
	return rc;
}

void
fj_ethdev_link_changed(struct fj_dev *dev)
{
	fj_link_update(dev->eth_dev, 0);
	/* The event goes for a state the application has not been told of
	 * (a query may have seen the change first). */
	rte_spinlock_lock(&dev->link_lock);
	bool news = dev->link != dev->link_told;
	dev->link_told = dev->link;
	rte_spinlock_unlock(&dev->link_lock);
	if (news)
		rte_eth_dev_callback_process(dev->eth_dev, RTE_ETH_EVENT_INTR_LSC, NULL);
}

/* A start or stop: the application made the change, no event tells it. */
static void
link_update_quietly(struct fj_dev *dev)
{
	fj_link_update(dev->eth_dev, 0);
	rte_spinlock_lock(&dev->link_lock);
	dev->link_told = dev->link;
	rte_spinlock_unlock(&dev->link_lock);
}

static void
fj_queues_drain(struct fj_dev *dev)
{
	for (uint16_t q = 0; q < fj_dev_nb_rxq(dev); q++)
		if (fj_dev_rxq(dev, q) != NULL)
			fj_rxq_drain(fj_dev_rxq(dev, q));
	for (uint16_t q = 0; q < fj_dev_nb_txq(dev); q++)
		if (fj_dev_txq(dev, q) != NULL)
			fj_txq_drain(fj_dev_txq(dev, q));
}

/*
 * The bursts of a port whose transport may restart its rings while the
 * application runs (dev->guarded): each holds its queue's lock, which
 * fj_ethdev_restart takes to have the queue to itself. Uncontended but
 * for the moment of a restart: one atomic exchange a burst.
 */
#define GUARDED_BURST(name, inner, qtype)                                          \
	static uint16_t name(void *queue, struct rte_mbuf **pkts, uint16_t n)       \
	{                                                                           \
		qtype *q = queue;                                                   \
		if (!rte_spinlock_trylock(&q->lock))                                \
			return 0;                                                   \
		uint16_t k = inner(q, pkts, n);                                     \
		rte_spinlock_unlock(&q->lock);                                      \
		return k;                                                           \
	}
GUARDED_BURST(rx_burst_guarded, fj_rx_burst, struct fj_rxq)
GUARDED_BURST(tx_burst_guarded, fj_tx_burst, struct fj_txq)
GUARDED_BURST(rx_burst_packed_guarded, fj_rx_burst_packed, struct fj_rxq)
GUARDED_BURST(tx_burst_packed_guarded, fj_tx_burst_packed, struct fj_txq)

/* rte_eth_tx_done_cleanup, from the lcore of the queue's bursts: held off
 * as they are. */
static int
tx_done_cleanup(void *queue, uint32_t free_cnt)
{
	struct fj_txq *q = queue;

	if (q == NULL || !q->dev->guarded)
		return fj_tx_done_cleanup(queue, free_cnt);
	if (!rte_spinlock_trylock(&q->lock))
		return 0;
	int n = fj_tx_done_cleanup(queue, free_cnt);
	rte_spinlock_unlock(&q->lock);
	return n;
}

static void
choose_bursts(struct fj_dev *dev)
{
	/* Queues were laid out for the ring format negotiated at probe. */
	bool packed = dev->features & FJ_BIT(VIRTIO_F_RING_PACKED);
	struct rte_eth_dev *eth_dev = dev->eth_dev;

	if (dev->guarded) {
		eth_dev->rx_pkt_burst = packed ? rx_burst_packed_guarded : rx_burst_guarded;
		eth_dev->tx_pkt_burst = packed ? tx_burst_packed_guarded : tx_burst_guarded;
	} else {
		eth_dev->rx_pkt_burst = packed ? fj_rx_burst_packed : fj_rx_burst;
		eth_dev->tx_pkt_burst = packed ? fj_tx_burst_packed : fj_tx_burst;
	}
}

/* Every queue's ring laid out anew (rx rings filled). */
static int
queues_start(struct fj_dev *dev)
{
	int rc = 0;

	for (uint16_t q = 0; q < fj_dev_nb_rxq(dev) && rc == 0; q++) {
		struct fj_rxq *rxq = fj_dev_rxq(dev, q);

		if (rxq == NULL) {
			FJ_PMD_LOG(ERR, "%s: rx queue %u is not set up", dev->name, q);
			rc = -EINVAL;
			break;
		}
		rc = fj_rxq_start(rxq);
	}
	for (uint16_t q = 0; q < fj_dev_nb_txq(dev) && rc == 0; q++) {
		struct fj_txq *txq = fj_dev_txq(dev, q);

		if (txq == NULL) {
			FJ_PMD_LOG(ERR, "%s: tx queue %u is not set up", dev->name, q);
			rc = -EINVAL;
			break;
		}
		rc = fj_txq_start(txq);
	}
	return rc;
}

static int
start_locked(struct rte_eth_dev *eth_dev)
{
	struct fj_dev *dev = to_dev(eth_dev);
	int rc = queues_start(dev);

	choose_bursts(dev);
	if (rc == 0) {
		rc = dev->ops->start(dev);
		if (rc < 0)
			FJ_PMD_LOG(ERR, "%s: the %s transport did not start: %s", dev->name,
			           dev->ops->name, rte_strerror(-rc));
	}
	if (rc == 0) {
		rc = fj_rss_start(dev);
		if (rc < 0) {
			FJ_PMD_LOG(ERR, "%s: the device refused the RSS configuration: %s",
			           dev->name, rte_strerror(-rc));
			dev->ops->stop(dev);
		}
	}
	if (rc < 0) {
		fj_queues_drain(dev);
		return rc;
	}
	for (uint16_t q = 0; q < fj_dev_nb_rxq(dev); q++)
		eth_dev->data->rx_queue_state[q] = RTE_ETH_QUEUE_STATE_STARTED;
	for (uint16_t q = 0; q < fj_dev_nb_txq(dev); q++)
		eth_dev->data->tx_queue_state[q] = RTE_ETH_QUEUE_STATE_STARTED;
	dev->started = true;
	link_update_quietly(dev);
	return 0;
}

static int
fj_start(struct rte_eth_dev *eth_dev)
{
	struct fj_dev *dev = to_dev(eth_dev);

	pthread_mutex_lock(&dev->ctl_lock);
	int rc = start_locked(eth_dev);
	pthread_mutex_unlock(&dev->ctl_lock);
	return rc;
}

/* What a tx ring still holds, about to be freed with it. */
static uint64_t
txq_held(const struct fj_txq *q)
{
	uint64_t n = 0;

	for (uint16_t i = 0; i < q->nb_desc; i++)
		n += q->sw[i].m != NULL;
	return n;
}

int
fj_ethdev_restart(struct fj_dev *dev)
{
	uint16_t nrx = fj_dev_nb_rxq(dev), ntx = fj_dev_nb_txq(dev);
	int rc;

	if (!dev->started)
		return 0;
	/* The bursts run on the application's lcores: each queue is ours
	 * once its current burst is over. */
	for (uint16_t q = 0; q < nrx; q++)
		rte_spinlock_lock(&fj_dev_rxq(dev, q)->lock);
	for (uint16_t q = 0; q < ntx; q++)
		rte_spinlock_lock(&fj_dev_txq(dev, q)->lock);
	/* The old back-end is gone: nothing of the rings is in use. What it
	 * marked used before it went was sent; the rest goes with it. */
	dev->ops->stop(dev);
	for (uint16_t q = 0; q < ntx; q++) {
		struct fj_txq *tq = fj_dev_txq(dev, q);
		fj_tx_done_cleanup(tq, 0);
		tq->st.restart_drops += txq_held(tq);
	}
	fj_queues_drain(dev);
	rc = queues_start(dev);
	if (rc == 0)
		rc = dev->ops->start(dev);
	if (rc == 0)
		rc = fj_rss_start(dev);
	if (rc < 0) {
		/* Link down until the next back-end: the rings stay laid out
		 * empty, the bursts find nothing to do. */
		dev->ops->stop(dev);
		fj_queues_drain(dev);
		queues_start(dev);
	} else {
		dev->restarts++;
	}
	for (uint16_t q = 0; q < ntx; q++)
		rte_spinlock_unlock(&fj_dev_txq(dev, q)->lock);
	for (uint16_t q = 0; q < nrx; q++)
		rte_spinlock_unlock(&fj_dev_rxq(dev, q)->lock);
	return rc;
}

static int
stop_locked(struct rte_eth_dev *eth_dev)
{
	struct fj_dev *dev = to_dev(eth_dev);

	if (!dev->started)
		return 0;
	dev->started = false;
	/* The device gives the rings back before their buffers are freed. */
	dev->ops->stop(dev);
	fj_queues_drain(dev);
	for (uint16_t q = 0; q < fj_dev_nb_rxq(dev); q++)
		eth_dev->data->rx_queue_state[q] = RTE_ETH_QUEUE_STATE_STOPPED;
	for (uint16_t q = 0; q < fj_dev_nb_txq(dev); q++)
		eth_dev->data->tx_queue_state[q] = RTE_ETH_QUEUE_STATE_STOPPED;
	link_update_quietly(dev);
	return 0;
}

static int
fj_stop(struct rte_eth_dev *eth_dev)
{
	struct fj_dev *dev = to_dev(eth_dev);

	pthread_mutex_lock(&dev->ctl_lock);
	int rc = stop_locked(eth_dev);
	pthread_mutex_unlock(&dev->ctl_lock);
	return rc;
}

static int
fj_close(struct rte_eth_dev *eth_dev)
{
	struct fj_dev *dev = to_dev(eth_dev);

	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return 0;
	/* The transport's own work (a reconnection) ends first: it takes
	 * the control lock too. */
	if (dev->ops->quiesce != NULL)
		dev->ops->quiesce(dev);
	fj_stop(eth_dev);
	for (uint16_t q = 0; q < eth_dev->data->nb_rx_queues; q++)
		fj_rx_queue_release(eth_dev, q);
	for (uint16_t q = 0; q < eth_dev->data->nb_tx_queues; q++)
		fj_tx_queue_release(eth_dev, q);
	if (dev->ops->close != NULL)
		dev->ops->close(dev);
	return 0;
}

int
fj_ethdev_close(struct rte_eth_dev *eth_dev)
{
	return fj_close(eth_dev);
}

/* ------------------------------------------------------------ filters */

/*
 * A vhost-user back-end delivers every frame (no VIRTIO_NET_F_CTRL_RX), so
 * promiscuous off and allmulticast off are enforced in software in the rx
 * burst, counted as rx_qN_filtered_packets.
 */
static void
sync_filters(struct fj_dev *dev)
{
	for (uint16_t q = 0; q < fj_dev_nb_rxq(dev); q++) {
		struct fj_rxq *rq = fj_dev_rxq(dev, q);
		if (rq == NULL)
			continue;
		rq->mac = dev->mac;
		rq->allmulti = dev->allmulti;
		rq->filter = !dev->promisc;
	}
}

static int
fj_promisc_enable(struct rte_eth_dev *eth_dev)
{
	to_dev(eth_dev)->promisc = true;
	sync_filters(to_dev(eth_dev));
	return 0;
}

static int
fj_promisc_disable(struct rte_eth_dev *eth_dev)
{
	to_dev(eth_dev)->promisc = false;
	sync_filters(to_dev(eth_dev));
	return 0;
}

static int
fj_allmulti_enable(struct rte_eth_dev *eth_dev)
{
	to_dev(eth_dev)->allmulti = true;
	sync_filters(to_dev(eth_dev));
	return 0;
}

static int
fj_allmulti_disable(struct rte_eth_dev *eth_dev)
{
	to_dev(eth_dev)->allmulti = false;
	sync_filters(to_dev(eth_dev));
	return 0;
}

static int
fj_mac_addr_set(struct rte_eth_dev *eth_dev, struct rte_ether_addr *addr)
{
	struct fj_dev *dev = to_dev(eth_dev);

	if (!rte_is_valid_assigned_ether_addr(addr))
		return -EINVAL;
	dev->mac = *addr;
	sync_filters(dev);
	return 0;
}

static int
fj_mtu_set(struct rte_eth_dev *eth_dev, uint16_t mtu)
{
	struct fj_dev *dev = to_dev(eth_dev);

	if (mtu < FJ_MIN_MTU || mtu > dev->max_mtu) {
		FJ_PMD_LOG(ERR, "%s: MTU %u outside %u..%u", dev->name, mtu, FJ_MIN_MTU,
		           dev->max_mtu);
		return -EINVAL;
	}
	if (!(dev->features & FJ_BIT(VIRTIO_NET_F_MRG_RXBUF))) {
		for (uint16_t q = 0; q < fj_dev_nb_rxq(dev); q++) {
			struct fj_rxq *rq = fj_dev_rxq(dev, q);
			if (rq != NULL && rq->data_room < (uint32_t)mtu + FJ_VLAN_FRAME_OVERHEAD) {
				FJ_PMD_LOG(ERR, "%s: MTU %u does not fit rxq %u buffers without "
					        "mergeable buffers", dev->name, mtu, q);
				return -EINVAL;
			}
		}
	}
	dev->mtu = mtu;
	return 0;
}

static const struct eth_dev_ops fj_ops = {
	.dev_configure = fj_configure,
	.dev_infos_get = fj_infos_get,
	.dev_start = fj_start,
	.dev_stop = fj_stop,
	.dev_close = fj_close,
	.link_update = fj_link_update,
	.rx_queue_setup = fj_rx_queue_setup,
	.rx_queue_release = fj_rx_queue_release,
	.tx_queue_setup = fj_tx_queue_setup,
	.tx_queue_release = fj_tx_queue_release,
	.tx_done_cleanup = tx_done_cleanup,
	.rxq_info_get = fj_rxq_info_get,
	.txq_info_get = fj_txq_info_get,
	.stats_get = fj_stats_get,
	.stats_reset = fj_stats_reset,
	.xstats_get = fj_xstats_get,
	.xstats_get_names = fj_xstats_get_names,
	.xstats_reset = fj_stats_reset,
	.promiscuous_enable = fj_promisc_enable,
	.promiscuous_disable = fj_promisc_disable,
	.allmulticast_enable = fj_allmulti_enable,
	.allmulticast_disable = fj_allmulti_disable,
	.mac_addr_set = fj_mac_addr_set,
	.mtu_set = fj_mtu_set,
	.rx_queue_intr_enable = fj_rx_queue_intr_enable,
	.rx_queue_intr_disable = fj_rx_queue_intr_disable,
	.rss_hash_update = fj_rss_hash_update,
	.rss_hash_conf_get = fj_rss_hash_conf_get,
	.reta_update = fj_rss_reta_update,
	.reta_query = fj_rss_reta_query,
};

int
fj_ethdev_init(struct rte_eth_dev *eth_dev, struct fj_dev *dev)
{
	const char *why;
	char names[256];
	int rc;

	dev->eth_dev = eth_dev;
	dev->port_id = eth_dev->data->port_id;
	pthread_mutex_init(&dev->ctl_lock, NULL);
	rte_spinlock_init(&dev->link_lock);

	/* VIRTIO 1.2 §3.1.1 steps 4-6: read the offer, accept a subset. */
	rc = dev->ops->get_features(dev, &dev->offered);
	if (rc < 0)
		return rc;
	rc = fj_features_negotiate(dev->offered, dev->disabled, dev->ops->transport_features,
				   &dev->features, &why);
	if (rc < 0) {
		FJ_PMD_LOG(ERR, "%s: %s", dev->name, why);
		return rc;
	}
	rc = dev->ops->set_features(dev, dev->features);
	if (rc < 0)
		return rc;
	dev->capable = dev->features;
	fj_features_str(dev->features, names, sizeof(names));
	FJ_PMD_LOG(INFO, "%s: %s features: %s", dev->name, dev->ops->name, names);

	rc = dev->ops->max_queue_pairs(dev, &dev->max_pairs);
	if (rc < 0)
		return rc;
	dev->max_mtu = (dev->features & FJ_BIT(VIRTIO_NET_F_MRG_RXBUF))
			       ? FJ_MAX_RX_PKTLEN - FJ_VLAN_FRAME_OVERHEAD
			       : RTE_ETHER_MTU;
	if ((dev->features & FJ_BIT(VIRTIO_NET_F_MTU)) && dev->ops->read_config != NULL) {
		uint16_t mtu;
		/* §5.1.4: the device's maximum MTU for the driver to use. */
		if (dev->ops->read_config(dev, VIRTIO_NET_CFG_MTU, &mtu, sizeof(mtu)) == 0 &&
		    mtu >= FJ_MIN_MTU)
			dev->max_mtu = RTE_MIN(dev->max_mtu, mtu);
	}
	if ((dev->features & FJ_BIT(VIRTIO_NET_F_MAC)) && dev->ops->read_config != NULL)
		dev->ops->read_config(dev, VIRTIO_NET_CFG_MAC, dev->mac.addr_bytes,
				      RTE_ETHER_ADDR_LEN);
	dev->mtu = RTE_MIN((uint16_t)RTE_ETHER_MTU, dev->max_mtu);
	fj_rss_probe(dev);
	dev->promisc = false; /* as ethdev's own default */

	eth_dev->data->mac_addrs = rte_zmalloc("fj_mac", RTE_ETHER_ADDR_LEN, 0);
	if (eth_dev->data->mac_addrs == NULL)
		return -ENOMEM;
	rte_ether_addr_copy(&dev->mac, eth_dev->data->mac_addrs);
	eth_dev->dev_ops = &fj_ops;
	eth_dev->rx_pkt_burst = fj_rx_burst;
	eth_dev->tx_pkt_burst = fj_tx_burst;
	if (dev->ops->lsc_events)
		eth_dev->data->dev_flags |= RTE_ETH_DEV_INTR_LSC;
	return 0;
}
