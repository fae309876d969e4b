/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rx queue interrupts, common to all transports: the application sleeps
 * on a queue's event fd (rte_eth_dev_rx_intr_ctl_q) after
 * rte_eth_dev_rx_intr_enable, and polls again after it wakes. Enabling and
 * disabling is used buffer notification suppression in the ring itself
 * (VIRTIO 1.2 §2.7.7 split, §2.8.10 packed); the transport routes the
 * device's notification to the fd (PCI: an MSI-X vector per rx queue).
 */
#include <errno.h>

#include <ethdev_driver.h>

#include "fj_pmd.h"

int
fj_intr_configure(struct fj_dev *dev)
{
	const struct rte_eth_intr_conf *ic = &dev->eth_dev->data->dev_conf.intr_conf;

	if (ic->rxq && dev->ops->intr_check == NULL) {
		FJ_PMD_LOG(ERR, "%s: rx queue interrupts are not available on %s", dev->name,
		           dev->ops->name);
		return -ENOTSUP;
	}
	return dev->ops->intr_check != NULL ? dev->ops->intr_check(dev) : 0;
}

static struct fj_rxq *
intr_rxq(struct rte_eth_dev *eth_dev, uint16_t qid)
{
	struct fj_dev *dev = eth_dev->data->dev_private;

	if (!eth_dev->data->dev_conf.intr_conf.rxq || !dev->started)
		return NULL;
	return fj_dev_rxq(dev, qid);
}

int
fj_rx_queue_intr_enable(struct rte_eth_dev *eth_dev, uint16_t qid)
{
	struct fj_rxq *q = intr_rxq(eth_dev, qid);
	bool waiting;

	if (q == NULL)
		return -EINVAL;
	waiting = q->packed ? fj_pring_intr_enable(&q->pr) : fj_vring_intr_enable(&q->vr);
	/*
	 * A buffer used while notifications were off brings no interrupt
	 * (§2.7.14's enable-then-recheck): wake the sleeper ourselves, so
	 * that a frame that came just before this call is not left waiting
	 * for the next one.
	 */
	if (waiting && q->dev->ops->rxq_intr_raise != NULL)
		q->dev->ops->rxq_intr_raise(q->dev, qid);
	return 0;
}

int
fj_rx_queue_intr_disable(struct rte_eth_dev *eth_dev, uint16_t qid)
{
	struct fj_rxq *q = intr_rxq(eth_dev, qid);

	if (q == NULL)
		return -EINVAL;
	if (q->packed)
		fj_pring_intr_disable(&q->pr);
	else
		fj_vring_intr_disable(&q->vr);
	return 0;
}
