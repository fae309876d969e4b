/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ethdev operations, private to the port: configuration, start/stop and
 * the ops table (ethdev.c), queue setup (ethdev_queue.c) and statistics
 * (ethdev_stats.c).
 */
#ifndef FJ_ETHDEV_OPS_H
#define FJ_ETHDEV_OPS_H

#include <ethdev_driver.h>

#include "fj_pmd.h"

/* Largest frame with mergeable buffers: a jumbo 9000 MTU plus headroom. */
#define FJ_MAX_RX_PKTLEN 9728
#define FJ_MIN_MTU 68
#define FJ_VLAN_FRAME_OVERHEAD (RTE_ETHER_HDR_LEN + 2 * RTE_VLAN_HLEN)
#define FJ_RING_ALIGN 4096

static inline struct fj_dev *
to_dev(struct rte_eth_dev *eth_dev)
{
	return eth_dev->data->dev_private;
}

/* ethdev_queue.c */
int fj_rx_queue_setup(struct rte_eth_dev *eth_dev, uint16_t qid, uint16_t nb_desc,
		      unsigned int socket, const struct rte_eth_rxconf *conf,
		      struct rte_mempool *mp);
int fj_tx_queue_setup(struct rte_eth_dev *eth_dev, uint16_t qid, uint16_t nb_desc,
		      unsigned int socket, const struct rte_eth_txconf *conf);
void fj_rx_queue_release(struct rte_eth_dev *eth_dev, uint16_t qid);
void fj_tx_queue_release(struct rte_eth_dev *eth_dev, uint16_t qid);
void fj_rxq_info_get(struct rte_eth_dev *eth_dev, uint16_t qid, struct rte_eth_rxq_info *qi);
void fj_txq_info_get(struct rte_eth_dev *eth_dev, uint16_t qid, struct rte_eth_txq_info *qi);

/* ethdev_rss.c: receive-side scaling (§5.1.6.5.7) */
uint64_t fj_rss_hf_of_types(uint32_t types);
uint32_t fj_rss_types_of_hf(uint64_t hf);
/* At probe: the device's limits; RSS leaves the port's features if unusable. */
void fj_rss_probe(struct fj_dev *dev);
void fj_rss_infos(struct fj_dev *dev, struct rte_eth_dev_info *info);
/* At configure: RSS on or off for the next start, and its configuration. */
int fj_rss_configure(struct fj_dev *dev, struct rte_eth_conf *conf, uint16_t nb_rxq);
/* At start, after DRIVER_OK: send the configuration when RSS is on. */
int fj_rss_start(struct fj_dev *dev);
int fj_rss_hash_update(struct rte_eth_dev *eth_dev, struct rte_eth_rss_conf *conf);
int fj_rss_hash_conf_get(struct rte_eth_dev *eth_dev, struct rte_eth_rss_conf *conf);
int fj_rss_reta_update(struct rte_eth_dev *eth_dev, struct rte_eth_rss_reta_entry64 *conf,
		       uint16_t size);
int fj_rss_reta_query(struct rte_eth_dev *eth_dev, struct rte_eth_rss_reta_entry64 *conf,
		      uint16_t size);

/* ethdev_stats.c */
int fj_stats_get(struct rte_eth_dev *eth_dev, struct rte_eth_stats *s);
int fj_stats_reset(struct rte_eth_dev *eth_dev);
int fj_xstats_get(struct rte_eth_dev *eth_dev, struct rte_eth_xstat *xs, unsigned int size);
int fj_xstats_get_names(struct rte_eth_dev *eth_dev, struct rte_eth_xstat_name *names,
			unsigned int size);

#endif
