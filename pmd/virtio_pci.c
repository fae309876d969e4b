/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PCI transport: a virtio-net 1.x device on DPDK's PCI bus (VIRTIO 1.2
 * §4.1), modern 1af4:1041 or transitional 1af4:1000 driven through its
 * modern interface. BARs are mapped by DPDK (vfio-pci or uio_pci_generic);
 * descriptors and rings carry IOVAs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bus_pci_driver.h>
#include <ethdev_driver.h>
#include <ethdev_pci.h>
#include <rte_cycles.h>
#include <rte_alarm.h>
#include <rte_devargs.h>
#include <rte_interrupts.h>
#include <rte_io.h>
#include <rte_malloc.h>

#include "virtio_pci.h"
#include "virtio_pci_caps.h"


/* §4.1.3.1: 64-bit fields may be written as two 32-bit halves. */
static void
cc_w64(struct fj_vpci *p, uint32_t o, uint64_t v)
{
	cc_w32(p, o, (uint32_t)v);
	cc_w32(p, o + 4, (uint32_t)(v >> 32));
}

static uint8_t
vpci_status(struct fj_vpci *p)
{
	uint8_t s = cc_r8(p, CC_STATUS);

	/* A device that went away reads as all ones. */
	if (s == 0xff)
		p->removed = true;
	return s;
}

/* §4.1.4.3.2 / §2.4: writing 0 resets; the device is reset when 0 reads back. */
static int
vpci_reset(struct fj_vpci *p)
{
	cc_w8(p, CC_STATUS, 0);
	for (int i = 0; i < RESET_WAIT_MS; i++) {
		if (vpci_status(p) == 0)
			return 0;
		if (p->removed)
			return -ENODEV;
		rte_delay_ms(1);
	}
	return -ETIMEDOUT;
}

static void
vpci_add_status(struct fj_vpci *p, uint8_t bits)
{
	cc_w8(p, CC_STATUS, (uint8_t)(vpci_status(p) | bits));
}

static int
vpci_get_features(struct fj_dev *dev, uint64_t *features)
{
	struct fj_vpci *p = dev->tp;

	cc_w32(p, CC_DFSELECT, 0);
	uint64_t lo = cc_r32(p, CC_DF);
	cc_w32(p, CC_DFSELECT, 1);
	uint64_t hi = cc_r32(p, CC_DF);
	*features = lo | hi << 32;
	return p->removed ? -ENODEV : 0;
}

/* §3.1.1 steps 5-6: write the subset, set FEATURES_OK, re-read it. */
static int
vpci_set_features(struct fj_dev *dev, uint64_t features)
{
	struct fj_vpci *p = dev->tp;

	cc_w32(p, CC_GFSELECT, 0);
	cc_w32(p, CC_GF, (uint32_t)features);
	cc_w32(p, CC_GFSELECT, 1);
	cc_w32(p, CC_GF, (uint32_t)(features >> 32));
	vpci_add_status(p, VIRTIO_STATUS_FEATURES_OK);
	if (!(vpci_status(p) & VIRTIO_STATUS_FEATURES_OK) || p->removed) {
		FJ_PMD_LOG(ERR, "%s: device refused the feature set (FEATURES_OK not kept)", dev->name);
		vpci_add_status(p, VIRTIO_STATUS_FAILED);
		return -ENOTSUP;
	}
	return 0;
}

/*
 * §4.1.4.3.1: a device-configuration read is consistent when
 * config_generation is the same before and after it.
 */
static int
vpci_read_config(struct fj_dev *dev, uint32_t off, void *buf, uint32_t len)
{
	struct fj_vpci *p = dev->tp;

	if (p->device == NULL || (uint64_t)off + len > p->device_len)
		return -ENOTSUP;
	for (int tries = 0; tries < 100; tries++) {
		uint8_t g0 = cc_r8(p, CC_CFGGEN);
		for (uint32_t i = 0; i < len; i++)
			((uint8_t *)buf)[i] = dc_r8(p, off + i);
		if (cc_r8(p, CC_CFGGEN) == g0)
			return p->removed ? -ENODEV : 0;
	}
	return -EAGAIN;
}

static int
vpci_max_queue_pairs(struct fj_dev *dev, uint16_t *pairs)
{
	uint16_t n = 1;

	/* §5.1.3: VIRTIO_NET_F_MQ needs the control queue to enable pairs. */
	if ((dev->features & FJ_BIT(VIRTIO_NET_F_MQ)) &&
	    (dev->features & FJ_BIT(VIRTIO_NET_F_CTRL_VQ)) &&
	    vpci_read_config(dev, VIRTIO_NET_CFG_MAX_VQ_PAIRS, &n, sizeof(n)) < 0)
		n = 1;
	((struct fj_vpci *)dev->tp)->cfg_pairs = RTE_MAX(n, (uint16_t)1);
	*pairs = (uint16_t)RTE_MIN(RTE_MAX(n, (uint16_t)1), (uint16_t)FJ_MAX_QUEUE_PAIRS);
	return 0;
}

static uint16_t
vpci_queue_size_max(struct fj_dev *dev, uint16_t vq)
{
	struct fj_vpci *p = dev->tp;

	/* A multiqueue device shows the queues beyond the first pair only
	 * once MQ is accepted, at start: until then, a data queue is taken
	 * to be as large as the first pair's queue of its direction (QEMU
	 * sizes every rx and every tx queue alike); the start checks again. */
	if (vq >= p->num_queues && vq < 2 * p->cfg_pairs && p->num_queues >= 2)
		vq = (uint16_t)(vq % 2);
	if (vq >= p->num_queues)
		return 0;
	cc_w16(p, CC_Q_SELECT, vq);
	return cc_r16(p, CC_Q_SIZE);
}

static void
vpci_notify(const struct fj_notify *n)
{
	/* rte_write16 orders the ring updates before the doorbell (§4.1.5.2). */
	rte_write16(n->vq_index, n->addr);
}


static int
vpci_setup_queue(struct fj_dev *dev, uint16_t vq, struct fj_ring_addrs r, struct fj_notify *nt,
		 uint16_t vec)
{
	struct fj_vpci *p = dev->tp;

	if (vq >= p->num_queues) {
		FJ_PMD_LOG(ERR, "%s: virtqueue %u beyond the device's %u", dev->name, vq, p->num_queues);
		return -EINVAL;
	}
	cc_w16(p, CC_Q_SELECT, vq);
	uint16_t max = cc_r16(p, CC_Q_SIZE);
	if (max == 0 || r.num > max) {
		FJ_PMD_LOG(ERR, "%s: virtqueue %u: %u descriptors, the device takes %u", dev->name, vq,
		           r.num, max);
		return -EINVAL;
	}
	/* §4.1.5.1.3: size, vector, ring addresses, then enable. */
	cc_w16(p, CC_Q_SIZE, r.num);
	if (!vpci_vector_kept(p, CC_Q_MSIX, vec)) {
		FJ_PMD_LOG(ERR, "%s: virtqueue %u: the device refused MSI-X vector %u (it read back "
			        "VIRTIO_MSI_NO_VECTOR; the device has %u vectors)", dev->name, vq, vec,
		           p->msix_vectors);
		return -ENOSPC;
	}
	cc_w64(p, CC_Q_DESC, fj_ring_iova(&r, r.desc));
	cc_w64(p, CC_Q_DRIVER, fj_ring_iova(&r, r.driver));
	cc_w64(p, CC_Q_DEVICE, fj_ring_iova(&r, r.device));
	uint64_t off = (uint64_t)cc_r16(p, CC_Q_NOFF) * p->notify_mult;
	if (off + 2 > p->notify_len) {
		FJ_PMD_LOG(ERR, "%s: virtqueue %u notify offset outside the notify structure", dev->name,
		           vq);
		return -EINVAL;
	}
	cc_w16(p, CC_Q_ENABLE, 1);
	nt->fn = vpci_notify;
	nt->fd = -1;
	nt->addr = p->notify + off;
	nt->vq_index = vq;
	return p->removed ? -ENODEV : 0;
}

static void vpci_stop(struct fj_dev *dev);

/*
 * §5.1.2: the control queue follows the data queues: index 2 * N, N being
 * max_virtqueue_pairs with VIRTIO_NET_F_MQ, else 1.
 */
static uint16_t
vpci_cvq_index(struct fj_dev *dev)
{
	struct fj_vpci *p = dev->tp;

	return (uint16_t)(2 * p->cfg_pairs);
}

/* Polled by the control queue while it waits for an answer. */
static bool
vpci_alive(void *arg)
{
	struct fj_vpci *p = arg;

	vpci_status(p);
	return !p->removed;
}

/* §2.8: with VIRTIO_F_RING_PACKED every virtqueue is packed, this one too. */
static int
vpci_cvq_setup(struct fj_dev *dev)
{
	struct fj_vpci *p = dev->tp;
	uint16_t vq = vpci_cvq_index(dev);
	char name[RTE_MEMZONE_NAMESIZE];
	int rc;

	if (vq >= p->num_queues) {
		FJ_PMD_LOG(ERR, "%s: no control virtqueue (index %u, %u queues)", dev->name, vq,
		           p->num_queues);
		return -ENODEV;
	}
	snprintf(name, sizeof(name), "fj_cvq_%u", dev->port_id);
	rc = fj_ctrlq_init(&p->cvq, vpci_queue_size_max(dev, vq),
			   (dev->features & FJ_BIT(VIRTIO_F_RING_PACKED)) != 0, name,
			   p->pci->device.numa_node);
	if (rc == -ENOMEM)
		FJ_PMD_LOG(ERR, "%s: no memory for the control virtqueue", dev->name);
	if (rc < 0)
		return rc;
	p->cvq.alive = vpci_alive;
	p->cvq.alive_arg = p;
	return vpci_setup_queue(dev, vq, fj_ctrlq_rings(&p->cvq), &p->cvq.notify,
				VIRTIO_MSI_NO_VECTOR);
}

static int
vpci_start(struct fj_dev *dev)
{
	struct fj_vpci *p = dev->tp;
	int rc;

	/* §3.1.1 from the top: the device may have been used before. */
	rc = vpci_reset(p);
	if (rc == 0) {
		vpci_add_status(p, VIRTIO_STATUS_ACKNOWLEDGE);
		vpci_add_status(p, VIRTIO_STATUS_DRIVER);
		rc = vpci_set_features(dev, dev->features);
	}
	if (rc == 0)
		rc = fj_vpci_intr_prepare(dev);
	if (rc == 0) {
		fj_vpci_config_vector(dev);
		/* The device may add queues for the features just accepted (MQ). */
		p->num_queues = cc_r16(p, CC_NUMQ);
	}
	for (uint16_t q = 0; q < dev->pairs && rc == 0; q++) {
		struct fj_rxq *rxq = fj_dev_rxq(dev, q);
		struct fj_txq *txq = fj_dev_txq(dev, q);

		if (rxq != NULL)
			rc = vpci_setup_queue(dev, fj_rx_vq(q), fj_rxq_rings(rxq), &rxq->notify,
					      fj_vpci_rxq_vector(p, q));
		if (rc == 0 && txq != NULL)
			rc = vpci_setup_queue(dev, fj_tx_vq(q), fj_txq_rings(txq), &txq->notify,
					      VIRTIO_MSI_NO_VECTOR);
	}
	if (rc == 0 && (dev->features & FJ_BIT(VIRTIO_NET_F_CTRL_VQ)))
		rc = vpci_cvq_setup(dev);
	if (rc == 0)
		vpci_add_status(p, VIRTIO_STATUS_DRIVER_OK);
	if (rc == 0 && (vpci_status(p) & VIRTIO_STATUS_DEVICE_NEEDS_RESET))
		rc = -EIO;
	/*
	 * §5.1.6.5.5: a multiqueue device starts with one queue pair; the
	 * driver asks for more through the control queue after DRIVER_OK.
	 * With VIRTIO_NET_F_RSS the RSS configuration (fj_rss_start, next)
	 * sets the queue pairs instead (§5.1.6.5.7.1, max_tx_vq).
	 */
	if (rc == 0 && (dev->features & FJ_BIT(VIRTIO_NET_F_MQ)) &&
	    !(dev->features & FJ_BIT(VIRTIO_NET_F_RSS)) && p->cvq.mz != NULL) {
		uint16_t pairs = dev->pairs;
		rc = fj_ctrlq_cmd(&p->cvq, dev->name, VIRTIO_NET_CTRL_MQ,
				  VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &pairs, sizeof(pairs));
	}
	if (rc == 0)
		rc = fj_vpci_intr_enable(dev);
	if (rc < 0)
		vpci_stop(dev);
	return rc;
}

/* A reset takes every ring back from the device (§2.4). */
static void
vpci_stop(struct fj_dev *dev)
{
	struct fj_vpci *p = dev->tp;

	if (p->common == NULL)
		return; /* never mapped */
	fj_vpci_intr_stop(dev);
	if (!p->removed && vpci_reset(p) < 0)
		FJ_PMD_LOG(ERR, "%s: device did not complete its reset", dev->name);
}

static int
vpci_ctrl(struct fj_dev *dev, uint8_t cls, uint8_t cmd, const void *data, uint16_t len)
{
	struct fj_vpci *p = dev->tp;

	if (p->cvq.mz == NULL)
		return -ENOTSUP;
	return fj_ctrlq_cmd(&p->cvq, dev->name, cls, cmd, data, len);
}

static bool
vpci_link_up(struct fj_dev *dev)
{
	struct fj_vpci *p = dev->tp;
	uint8_t st = vpci_status(p);

	if (p->removed || (st & (VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_FAILED)))
		return false;
	if (dev->features & FJ_BIT(VIRTIO_NET_F_STATUS)) {
		uint16_t s = 0;
		if (vpci_read_config(dev, VIRTIO_NET_CFG_STATUS, &s, sizeof(s)) == 0)
			return s & VIRTIO_NET_S_LINK_UP;
	}
	return true;
}

static void
vpci_close(struct fj_dev *dev)
{
	struct fj_vpci *p = dev->tp;

	if (p == NULL)
		return;
	vpci_stop(dev);
	fj_vpci_intr_close(dev);
	fj_ctrlq_free(&p->cvq);
	rte_free(p);
	dev->tp = NULL;
}

static const struct fj_transport_ops vpci_ops = {
	.name = "virtio-pci",
	.get_features = vpci_get_features,
	.transport_features = FJ_BIT(VIRTIO_NET_F_CTRL_VQ),
	.set_features = vpci_set_features,
	.read_config = vpci_read_config,
	.max_queue_pairs = vpci_max_queue_pairs,
	.start = vpci_start,
	.stop = vpci_stop,
	.link_up = vpci_link_up,
	.close = vpci_close,
	.use_va = false,
	/* LSC is advertised per device at probe, where an interrupt can come. */
	.lsc_events = false,
	.queue_size_max = vpci_queue_size_max,
	.intr_check = fj_vpci_intr_check,
	.rxq_intr_raise = fj_vpci_rxq_intr_raise,
	.ctrl = vpci_ctrl,
};

/* ------------------------------------------------------ PCI driver */

/*
 * Locate the virtio structures (§4.1.4) in the mapped BARs from the PCI
 * configuration space @cfg; a BAR that is not mapped has length 0.
 */
static int
vpci_map_caps(struct fj_dev *dev, struct fj_vpci *p, const uint8_t *cfg, size_t cfg_len,
	      uint8_t *const bar_addr[6], const uint64_t bar_len[6])
{
	struct fj_pci_caps caps;
	const char *why;

	if (fj_pci_caps_parse(cfg, cfg_len, bar_len, &caps, &why) < 0) {
		FJ_PMD_LOG(ERR, "%s: %s", dev->name, why);
		return -ENODEV;
	}
	p->common = bar_addr[caps.common.bar] + caps.common.offset;
	p->isr = bar_addr[caps.isr.bar] + caps.isr.offset;
	p->notify = bar_addr[caps.notify.bar] + caps.notify.offset;
	p->notify_len = caps.notify.length;
	p->notify_mult = caps.notify_off_multiplier;
	p->msix_vectors = caps.msix_vectors;
	if (caps.device.present) {
		p->device = bar_addr[caps.device.bar] + caps.device.offset;
		p->device_len = caps.device.length;
	}
	return 0;
}

static int
vpci_map(struct fj_dev *dev, struct rte_pci_device *pci, struct fj_vpci *p)
{
	uint8_t cfg[256];
	uint8_t *bar_addr[6];
	uint64_t bar_len[6];

	if (rte_pci_read_config(pci, cfg, sizeof(cfg), 0) != (int)sizeof(cfg)) {
		FJ_PMD_LOG(ERR, "%s: cannot read PCI configuration space", dev->name);
		return -EIO;
	}
	for (int i = 0; i < 6; i++) {
		bar_addr[i] = pci->mem_resource[i].addr;
		bar_len[i] = bar_addr[i] != NULL ? pci->mem_resource[i].len : 0;
	}
	return vpci_map_caps(dev, p, cfg, sizeof(cfg), bar_addr, bar_len);
}

/*
 * §6.1: a device without VIRTIO_F_ACCESS_PLATFORM bypasses any IOMMU and
 * takes descriptor addresses as guest-physical. That only works when DPDK's
 * IOVAs are physical addresses; with IOVA as VA the device would DMA to
 * wrong memory, so refuse it up front.
 */
static int
vpci_check_dma(struct fj_dev *dev)
{
	uint64_t offered;
	int rc = vpci_get_features(dev, &offered);

	if (rc < 0)
		return rc;
	if (!(offered & FJ_BIT(VIRTIO_F_ACCESS_PLATFORM)) && rte_eal_iova_mode() != RTE_IOVA_PA) {
		FJ_PMD_LOG(ERR,
		           "%s: the device does not offer VIRTIO_F_ACCESS_PLATFORM, so it bypasses the "
		           "IOMMU and needs physical addresses, but EAL's IOVA mode is VA; give the "
		           "device iommu_platform=on (QEMU), or use uio_pci_generic / --iova-mode=pa",
		           dev->name);
		return -ENOTSUP;
	}
	return 0;
}

/* ------------------------------------------------------ devargs */

/*
 * Device arguments after the PCI address (-a BDF,packed_vq=0,rss=0):
 * every feature fjord drives is used when offered unless switched off.
 */
static int
vpci_parse_devargs(struct fj_dev *dev, const char *args)
{
	char err[256];

	if (fj_pci_args_parse(args, &dev->disabled, err, sizeof(err)) == 0)
		return 0;
	FJ_PMD_LOG(ERR, "%s: %s", dev->name, err);
	return -EINVAL;
}

static int
fj_pci_init(struct rte_eth_dev *eth_dev)
{
	struct rte_pci_device *pci = RTE_ETH_DEV_TO_PCI(eth_dev);
	struct fj_dev *dev = eth_dev->data->dev_private;
	struct fj_vpci *p;
	int rc;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return -ENOTSUP;
	snprintf(dev->name, sizeof(dev->name), "%s", pci->device.name);
	dev->ops = &vpci_ops;
	dev->disabled = 0;
	dev->queue_size = FJ_QUEUE_SIZE_DEFAULT;
	rc = vpci_parse_devargs(dev, pci->device.devargs ? pci->device.devargs->args : NULL);
	if (rc < 0)
		return rc;
	p = rte_zmalloc("fj_vpci", sizeof(*p), 0);
	if (p == NULL)
		return -ENOMEM;
	p->pci = pci;
	dev->tp = p;
	rc = vpci_map(dev, pci, p);
	/* §3.1.1 steps 1-3: reset, ACKNOWLEDGE, DRIVER. */
	if (rc == 0)
		rc = vpci_reset(p);
	if (rc == 0) {
		vpci_add_status(p, VIRTIO_STATUS_ACKNOWLEDGE);
		vpci_add_status(p, VIRTIO_STATUS_DRIVER);
		p->num_queues = cc_r16(p, CC_NUMQ);
		rc = vpci_check_dma(dev);
	}
	if (rc == 0) {
		rte_eth_random_addr(dev->mac.addr_bytes);
		rc = fj_ethdev_init(eth_dev, dev);
	}
	p->intx = fj_vpci_intx(p);
	if (rc == 0 && fj_vpci_lsc_possible(p))
		eth_dev->data->dev_flags |= RTE_ETH_DEV_INTR_LSC;
	else if (rc == 0)
		FJ_PMD_LOG(INFO, "%s: no interrupt for config changes (%s): no LSC events, the link "
			         "is read on each query", dev->name,
		           p->msix_vectors == 0 ? "no MSI-X, and INTx is not set up under vfio-pci"
					        : "interrupts not delivered by this kernel driver");
	if (rc == 0) {
		/* The device's own queue size, capped, is the default. */
		uint16_t qs = vpci_queue_size_max(dev, 0);
		if (qs != 0)
			dev->queue_size = (uint16_t)RTE_MIN(rte_align32prevpow2(qs),
							    (uint32_t)FJ_QUEUE_SIZE_DEFAULT);
		FJ_PMD_LOG(INFO, "%s: port %u on virtio-pci %04x:%04x, %u virtqueues, %u queue pair(s)",
		           dev->name, eth_dev->data->port_id, pci->id.vendor_id, pci->id.device_id,
		           p->num_queues, dev->max_pairs);
		return 0;
	}
	vpci_close(dev);
	return rc;
}

static int
fj_pci_uninit(struct rte_eth_dev *eth_dev)
{
	/* Hot-unplug or bus cleanup of a port still open: close it here. */
	return fj_ethdev_close(eth_dev);
}

static int
fj_pci_probe(struct rte_pci_driver *drv, struct rte_pci_device *pci)
{
	RTE_SET_USED(drv);
	return rte_eth_dev_pci_generic_probe(pci, sizeof(struct fj_dev), fj_pci_init);
}

static int
fj_pci_remove(struct rte_pci_device *pci)
{
	return rte_eth_dev_pci_generic_remove(pci, fj_pci_uninit);
}

/* §4.1.2: 0x1041 is a modern network device, 0x1000 a transitional one. */
static const struct rte_pci_id fj_pci_ids[] = {
	{ RTE_PCI_DEVICE(0x1af4, 0x1041) },
	{ RTE_PCI_DEVICE(0x1af4, 0x1000) },
	{ .vendor_id = 0 },
};

static struct rte_pci_driver fj_pci_driver = {
	.id_table = fj_pci_ids,
	.drv_flags = RTE_PCI_DRV_NEED_MAPPING,
	.probe = fj_pci_probe,
	.remove = fj_pci_remove,
};

RTE_PMD_REGISTER_PCI(net_fjord, fj_pci_driver);
RTE_PMD_REGISTER_PCI_TABLE(net_fjord, fj_pci_ids);
RTE_PMD_REGISTER_KMOD_DEP(net_fjord, "* vfio-pci | uio_pci_generic");
RTE_PMD_REGISTER_PARAM_STRING(net_fjord, FJ_PCI_PARAMS);
