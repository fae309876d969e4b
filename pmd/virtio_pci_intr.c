/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The PCI transport's interrupts (VIRTIO 1.2 §4.1.5.1.2, §4.1.5.5): link
 * changes by an MSI-X vector or INTx (or a polling alarm when the device
 * gives neither), and one MSI-X vector per rx queue for rx interrupts.
 */
#include <errno.h>
#include <unistd.h>

#include <ethdev_driver.h>
#include <rte_alarm.h>
#include <rte_interrupts.h>

#include "virtio_pci.h"

/* How the kernel driver delivers this device's interrupts (DPDK's PCI bus). */
static enum rte_intr_handle_type
vpci_intr_type(struct fj_vpci *p)
{
	if (p->pci->intr_handle == NULL)
		return RTE_INTR_HANDLE_UNKNOWN;
	return rte_intr_type_get(p->pci->intr_handle);
}

/* INTx: one line for every cause, the ISR status says which (§4.1.4.5). */
bool
fj_vpci_intx(struct fj_vpci *p)
{
	enum rte_intr_handle_type t = vpci_intr_type(p);

	return t == RTE_INTR_HANDLE_UIO_INTX || t == RTE_INTR_HANDLE_VFIO_LEGACY;
}

/*
 * A configuration change (§4.1.5.5) reaches the driver through an MSI-X
 * vector (vfio-pci), or through INTx (uio_pci_generic, or vfio-pci with
 * EAL's --vfio-intr=legacy).
 */
bool
fj_vpci_lsc_possible(struct fj_vpci *p)
{
	/* DPDK sets up MSI-X under vfio-pci even for a device without it. */
	if (vpci_intr_type(p) == RTE_INTR_HANDLE_VFIO_MSIX)
		return p->msix_vectors > 0;
	return fj_vpci_intx(p);
}

/* Runs on EAL's interrupt thread: a config change, or INTx for any reason. */
static void
vpci_intr_handler(void *arg)
{
	struct fj_dev *dev = arg;
	struct fj_vpci *p = dev->tp;

	if (p == NULL)
		return;
	if (p->intx)
		(void)isr_r8(p); /* deasserts the line; the link tells the rest */
	if (p->lsc)
		fj_ethdev_link_changed(dev);
	rte_intr_ack(p->pci->intr_handle);
}

static void
vpci_lsc_poll(void *arg)
{
	struct fj_dev *dev = arg;

	fj_ethdev_link_changed(dev);
	rte_eal_alarm_set(LSC_POLL_US, vpci_lsc_poll, dev);
}

/* LSC events without an interrupt: the promise made at probe still holds. */
static void
vpci_lsc_fallback(struct fj_dev *dev, const char *why)
{
	struct fj_vpci *p = dev->tp;

	FJ_PMD_LOG(WARNING, "%s: %s: the link is polled every %d ms for LSC events instead",
	           dev->name, why, LSC_POLL_US / 1000);
	if (rte_eal_alarm_set(LSC_POLL_US, vpci_lsc_poll, dev) == 0)
		p->lsc_poll = true;
}

/* Configure-time check of what dev_conf.intr_conf asks for. */
int
fj_vpci_intr_check(struct fj_dev *dev)
{
	struct fj_vpci *p = dev->tp;
	uint16_t nb = fj_dev_nb_rxq(dev);

	if (!dev->eth_dev->data->dev_conf.intr_conf.rxq)
		return 0;
	if (vpci_intr_type(p) != RTE_INTR_HANDLE_VFIO_MSIX || p->msix_vectors == 0) {
		FJ_PMD_LOG(ERR, "%s: rx queue interrupts need MSI-X through vfio-pci, and %s",
		           dev->name, p->msix_vectors == 0 ? "the device has no MSI-X capability"
						           : "its kernel driver gives INTx only");
		return -ENOTSUP;
	}
	if (nb > RTE_MAX_RXTX_INTR_VEC_ID || p->msix_vectors < nb + 1) {
		FJ_PMD_LOG(ERR, "%s: %u rx queue interrupts need %u MSI-X vectors (one for config "
			        "changes, one per rx queue); the device has %u",
		           dev->name, nb, nb + 1, p->msix_vectors);
		return -ENOSPC;
	}
	return 0;
}

/* MSI-X vector of rx queue @q: 1 + q with rx interrupts, none otherwise. */
uint16_t
fj_vpci_rxq_vector(struct fj_vpci *p, uint16_t q)
{
	return p->rxq_intr ? (uint16_t)(RTE_INTR_VEC_RXTX_OFFSET + q) : VIRTIO_MSI_NO_VECTOR;
}

/*
 * Before the queues are set up: what this start signals, and one event fd
 * per rx queue for vectors 1..n (vector 0 is the device handle's own fd).
 */
int
fj_vpci_intr_prepare(struct fj_dev *dev)
{
	struct fj_vpci *p = dev->tp;
	struct rte_intr_handle *h = p->pci->intr_handle;
	const struct rte_eth_dev_data *d = dev->eth_dev != NULL ? dev->eth_dev->data : NULL;
	uint16_t nb = fj_dev_nb_rxq(dev);

	p->lsc = d != NULL && d->dev_conf.intr_conf.lsc && (d->dev_flags & RTE_ETH_DEV_INTR_LSC);
	p->rxq_intr = false;
	p->cfg_vector = p->lsc && !p->intx ? RTE_INTR_VEC_ZERO_OFFSET : VIRTIO_MSI_NO_VECTOR;
	if (d == NULL || !d->dev_conf.intr_conf.rxq || nb == 0)
		return 0;
	if (h == NULL || rte_intr_efd_enable(h, nb) < 0) {
		FJ_PMD_LOG(ERR, "%s: no event fds for %u rx queue interrupts", dev->name, nb);
		return -ENOMEM;
	}
	p->rxq_intr = true; /* from here fj_vpci_intr_stop undoes it */
	if (rte_intr_vec_list_alloc(h, "fj_intr_vec", nb) < 0) {
		FJ_PMD_LOG(ERR, "%s: no memory for the rx interrupt vector list", dev->name);
		return -ENOMEM;
	}
	for (uint16_t q = 0; q < nb; q++)
		rte_intr_vec_list_index_set(h, q, fj_vpci_rxq_vector(p, q));
	return 0;
}

/* §4.1.5.1.2: config changes on vector 0 when asked for, read back. */
void
fj_vpci_config_vector(struct fj_dev *dev)
{
	struct fj_vpci *p = dev->tp;

	if (vpci_vector_kept(p, CC_MSIX, p->cfg_vector))
		return;
	p->cfg_vector = VIRTIO_MSI_NO_VECTOR;
	vpci_lsc_fallback(dev, "the device refused MSI-X vector 0 for config changes");
}

/* After DRIVER_OK: the handler for config changes, then the vectors live. */
int
fj_vpci_intr_enable(struct fj_dev *dev)
{
	struct fj_vpci *p = dev->tp;
	struct rte_intr_handle *h = p->pci->intr_handle;
	bool irq_lsc = p->lsc && !p->lsc_poll;

	if (!irq_lsc && !p->rxq_intr)
		return 0;
	if (irq_lsc && !p->lsc_cb) {
		if (rte_intr_callback_register(h, vpci_intr_handler, dev) == 0)
			p->lsc_cb = true;
		else
			irq_lsc = false;
	}
	/* The kernel sizes its MSI-X set when enabled: from scratch each start. */
	rte_intr_disable(h);
	if (rte_intr_enable(h) < 0) {
		if (p->rxq_intr) {
			FJ_PMD_LOG(ERR, "%s: the kernel driver did not enable the device's interrupts",
			           dev->name);
			return -EIO;
		}
		irq_lsc = false;
	} else {
		p->intr_on = true;
	}
	if (p->lsc && !irq_lsc && !p->lsc_poll)
		vpci_lsc_fallback(dev, "no config-change interrupt could be set up");
	if (irq_lsc)
		FJ_PMD_LOG(INFO, "%s: link changes by interrupt (%s)", dev->name,
		           p->intx ? "INTx" : "MSI-X vector 0");
	return 0;
}

void
fj_vpci_intr_stop(struct fj_dev *dev)
{
	struct fj_vpci *p = dev->tp;
	struct rte_intr_handle *h = p->pci->intr_handle;

	if (p->lsc_poll) {
		rte_eal_alarm_cancel(vpci_lsc_poll, dev);
		p->lsc_poll = false;
	}
	if (p->intr_on) {
		rte_intr_disable(h);
		p->intr_on = false;
	}
	if (p->rxq_intr) {
		rte_intr_efd_disable(h);
		rte_intr_vec_list_free(h);
		p->rxq_intr = false;
	}
	p->lsc = false;
}

/* Wake the thread sleeping on rx queue @q's event fd. */
void
fj_vpci_rxq_intr_raise(struct fj_dev *dev, uint16_t q)
{
	struct fj_vpci *p = dev->tp;
	uint64_t one = 1;
	int fd = p->rxq_intr ? rte_intr_efds_index_get(p->pci->intr_handle, q) : -1;

	if (fd >= 0 && write(fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		FJ_PMD_LOG(DEBUG, "%s: rxq %u: cannot signal its event fd", dev->name, q);
}

/* Before the device state goes: no handler may run on it any more. */
void
fj_vpci_intr_close(struct fj_dev *dev)
{
	struct fj_vpci *p = dev->tp;

	if (p->lsc_cb)
		rte_intr_callback_unregister_sync(p->pci->intr_handle, vpci_intr_handler, dev);
}
