/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port statistics: the basic ethdev counters summed over the queues, and
 * every named per-queue counter as an xstat (each drop has one).
 */
#include <stdio.h>
#include <string.h>

#include "ethdev_ops.h"

#define RXS(f) offsetof(struct fj_rxq_stats, f)
#define TXS(f) offsetof(struct fj_txq_stats, f)

static const struct {
	const char *fmt;
	size_t off;
} rx_xstats[] = {
	{ "rx_q%u_packets", RXS(packets) },
	{ "rx_q%u_bytes", RXS(bytes) },
	{ "rx_q%u_mbuf_allocation_errors", RXS(nombuf) },
	{ "rx_q%u_bad_length_errors", RXS(bad_len) },
	{ "rx_q%u_bad_id_errors", RXS(bad_id) },
	{ "rx_q%u_ring_errors", RXS(bad_ring) },
	{ "rx_q%u_filtered_packets", RXS(filtered) },
	{ "rx_q%u_merged_buffers", RXS(merged_segs) },
	{ "rx_q%u_bad_checksum_header_errors", RXS(bad_csum) },
	{ "rx_q%u_checksums_completed", RXS(csum_done) },
	{ "rx_q%u_lro_packets", RXS(lro) },
	{ "rx_q%u_bad_gso_errors", RXS(bad_gso) },
	{ "rx_q%u_notifications", RXS(kicks) },
}, tx_xstats[] = {
	{ "tx_q%u_packets", TXS(packets) },
	{ "tx_q%u_bytes", TXS(bytes) },
	{ "tx_q%u_ring_full", TXS(ring_full) },
	{ "tx_q%u_oversized_chain_drops", TXS(too_many_segs) },
	{ "tx_q%u_header_descriptors", TXS(hdr_desc) },
	{ "tx_q%u_tso_packets", TXS(tso) },
	{ "tx_q%u_bad_tso_errors", TXS(bad_tso) },
	{ "tx_q%u_bad_id_errors", TXS(bad_id) },
	{ "tx_q%u_ring_errors", TXS(bad_ring) },
	{ "tx_q%u_notifications", TXS(kicks) },
	{ "tx_q%u_restart_drops", TXS(restart_drops) },
};

#define DEV_XSTATS 2 /* link_down_events, restarts */

static unsigned int
xstats_count(struct fj_dev *dev)
{
	return DEV_XSTATS + fj_dev_nb_rxq(dev) * RTE_DIM(rx_xstats) +
	       fj_dev_nb_txq(dev) * RTE_DIM(tx_xstats);
}

int
fj_xstats_get_names(struct rte_eth_dev *eth_dev, struct rte_eth_xstat_name *names,
		    unsigned int size)
{
	struct fj_dev *dev = to_dev(eth_dev);
	unsigned int n = xstats_count(dev), k = 0;

	if (names == NULL || size < n)
		return (int)n;
	snprintf(names[k++].name, RTE_ETH_XSTATS_NAME_SIZE, "link_down_events");
	snprintf(names[k++].name, RTE_ETH_XSTATS_NAME_SIZE, "restarts");
	for (uint16_t q = 0; q < fj_dev_nb_rxq(dev); q++)
		for (unsigned int i = 0; i < RTE_DIM(rx_xstats); i++)
			snprintf(names[k++].name, RTE_ETH_XSTATS_NAME_SIZE, rx_xstats[i].fmt, q);
	for (uint16_t q = 0; q < fj_dev_nb_txq(dev); q++)
		for (unsigned int i = 0; i < RTE_DIM(tx_xstats); i++)
			snprintf(names[k++].name, RTE_ETH_XSTATS_NAME_SIZE, tx_xstats[i].fmt, q);
	return (int)n;
}

int
fj_xstats_get(struct rte_eth_dev *eth_dev, struct rte_eth_xstat *xs, unsigned int size)
{
	struct fj_dev *dev = to_dev(eth_dev);
	unsigned int n = xstats_count(dev), k = 0;

	if (xs == NULL || size < n)
		return (int)n;
	xs[k].id = k;
	xs[k++].value = dev->link_down_events;
	xs[k].id = k;
	xs[k++].value = dev->restarts;
	for (uint16_t q = 0; q < fj_dev_nb_rxq(dev); q++) {
		struct fj_rxq *rq = fj_dev_rxq(dev, q);
		for (unsigned int i = 0; i < RTE_DIM(rx_xstats); i++, k++) {
			xs[k].id = k;
			xs[k].value = rq ? *(const uint64_t *)((const char *)&rq->st +
							       rx_xstats[i].off) : 0;
		}
	}
	for (uint16_t q = 0; q < fj_dev_nb_txq(dev); q++) {
		struct fj_txq *tq = fj_dev_txq(dev, q);
		for (unsigned int i = 0; i < RTE_DIM(tx_xstats); i++, k++) {
			xs[k].id = k;
			xs[k].value = tq ? *(const uint64_t *)((const char *)&tq->st +
							       tx_xstats[i].off) : 0;
		}
	}
	return (int)n;
}

int
fj_stats_get(struct rte_eth_dev *eth_dev, struct rte_eth_stats *s)
{
	struct fj_dev *dev = to_dev(eth_dev);

	for (uint16_t q = 0; q < fj_dev_nb_rxq(dev); q++) {
		struct fj_rxq *rq = fj_dev_rxq(dev, q);
		if (rq == NULL)
			continue;
		s->ipackets += rq->st.packets;
		s->ibytes += rq->st.bytes;
		s->rx_nombuf += rq->st.nombuf;
		s->ierrors += rq->st.bad_len + rq->st.bad_id + rq->st.bad_ring + rq->st.bad_csum +
			       rq->st.bad_gso;
		if (q < RTE_ETHDEV_QUEUE_STAT_CNTRS) {
			s->q_ipackets[q] = rq->st.packets;
			s->q_ibytes[q] = rq->st.bytes;
			s->q_errors[q] = rq->st.bad_len + rq->st.bad_id + rq->st.bad_ring +
					 rq->st.bad_csum + rq->st.bad_gso;
		}
	}
	for (uint16_t q = 0; q < fj_dev_nb_txq(dev); q++) {
		struct fj_txq *tq = fj_dev_txq(dev, q);
		if (tq == NULL)
			continue;
		s->opackets += tq->st.packets;
		s->obytes += tq->st.bytes;
		s->oerrors += tq->st.too_many_segs + tq->st.bad_tso + tq->st.bad_id +
			      tq->st.bad_ring;
		if (q < RTE_ETHDEV_QUEUE_STAT_CNTRS) {
			s->q_opackets[q] = tq->st.packets;
			s->q_obytes[q] = tq->st.bytes;
		}
	}
	return 0;
}

int
fj_stats_reset(struct rte_eth_dev *eth_dev)
{
	struct fj_dev *dev = to_dev(eth_dev);

	for (uint16_t q = 0; q < fj_dev_nb_rxq(dev); q++)
		if (fj_dev_rxq(dev, q) != NULL)
			memset(&fj_dev_rxq(dev, q)->st, 0, sizeof(struct fj_rxq_stats));
	for (uint16_t q = 0; q < fj_dev_nb_txq(dev); q++)
		if (fj_dev_txq(dev, q) != NULL)
			memset(&fj_dev_txq(dev, q)->st, 0, sizeof(struct fj_txq_stats));
	dev->link_down_events = 0;
	dev->restarts = 0;
	return 0;
}
