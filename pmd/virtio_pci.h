/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The PCI transport's private state and register access (VIRTIO 1.2 §4.1),
 * shared by the transport (virtio_pci.c) and its interrupts
 * (virtio_pci_intr.c).
 */
#ifndef FJ_VIRTIO_PCI_H
#define FJ_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include <bus_pci_driver.h>
#include <rte_io.h>

#include "ctrlq.h"
#include "fj_pmd.h"

/* struct virtio_pci_common_cfg field offsets, §4.1.4.3. */
#define CC_DFSELECT      0x00
#define CC_DF            0x04
#define CC_GFSELECT      0x08
#define CC_GF            0x0c
#define CC_MSIX          0x10
#define CC_NUMQ          0x12
#define CC_STATUS        0x14
#define CC_CFGGEN        0x15
#define CC_Q_SELECT      0x16
#define CC_Q_SIZE        0x18
#define CC_Q_MSIX        0x1a
#define CC_Q_ENABLE      0x1c
#define CC_Q_NOFF        0x1e
#define CC_Q_DESC        0x20
#define CC_Q_DRIVER      0x28
#define CC_Q_DEVICE      0x30
#define VIRTIO_MSI_NO_VECTOR 0xffff
#define VIRTIO_PCI_ISR_CONFIG 0x2 /* §4.1.4.5: a configuration change */
#define RESET_WAIT_MS 1000
/* Link polling when the device refuses its configuration-change vector. */
#define LSC_POLL_US 200000

struct fj_vpci {
	struct rte_pci_device *pci;
	uint8_t *common;
	uint8_t *notify;
	uint8_t *isr;
	uint8_t *device;
	uint32_t notify_len;
	uint32_t device_len;
	uint32_t notify_mult;
	uint16_t num_queues;
	uint16_t cfg_pairs; /* max_virtqueue_pairs as the device gives it */
	uint16_t *notify_off; /* per virtqueue, read at start */
	bool removed;
	/* Interrupts (§4.1.5.1.2): how the kernel driver delivers them, what is on. */
	uint16_t msix_vectors; /* MSI-X table size; 0: no MSI-X capability */
	bool intx;             /* INTx: one line, the ISR status says why */
	bool lsc;              /* config changes signalled (intr_conf.lsc) */
	bool lsc_cb;           /* vpci_intr_handler registered */
	bool lsc_poll;         /* no config interrupt after all: an alarm polls */
	bool rxq_intr;         /* rx queue q on MSI-X vector 1 + q, its own event fd */
	bool intr_on;          /* rte_intr_enable done */
	uint16_t cfg_vector;
	/* The control virtqueue (§5.1.6.5), when VIRTIO_NET_F_CTRL_VQ is used. */
	struct fj_ctrlq cvq;
};

#ifdef FJ_VPCI_SIM
/*
 * Unit tests compile the transport with a simulated device behind the common
 * and device-specific configuration registers (tests/unit).
 */
uint32_t fj_sim_read(struct fj_vpci *p, bool common, uint32_t off, int width);
void fj_sim_write(struct fj_vpci *p, uint32_t off, uint32_t v, int width);
static inline uint8_t cc_r8(struct fj_vpci *p, uint32_t o) { return (uint8_t)fj_sim_read(p, true, o, 1); }
static inline uint16_t cc_r16(struct fj_vpci *p, uint32_t o) { return (uint16_t)fj_sim_read(p, true, o, 2); }
static inline uint32_t cc_r32(struct fj_vpci *p, uint32_t o) { return fj_sim_read(p, true, o, 4); }
static inline void cc_w8(struct fj_vpci *p, uint32_t o, uint8_t v) { fj_sim_write(p, o, v, 1); }
static inline void cc_w16(struct fj_vpci *p, uint32_t o, uint16_t v) { fj_sim_write(p, o, v, 2); }
static inline void cc_w32(struct fj_vpci *p, uint32_t o, uint32_t v) { fj_sim_write(p, o, v, 4); }
static inline uint8_t dc_r8(struct fj_vpci *p, uint32_t o) { return (uint8_t)fj_sim_read(p, false, o, 1); }
#else
static inline uint8_t cc_r8(struct fj_vpci *p, uint32_t o) { return rte_read8(p->common + o); }
static inline uint16_t cc_r16(struct fj_vpci *p, uint32_t o) { return rte_read16(p->common + o); }
static inline uint32_t cc_r32(struct fj_vpci *p, uint32_t o) { return rte_read32(p->common + o); }
static inline void cc_w8(struct fj_vpci *p, uint32_t o, uint8_t v) { rte_write8(v, p->common + o); }
static inline void cc_w16(struct fj_vpci *p, uint32_t o, uint16_t v) { rte_write16(v, p->common + o); }
static inline void cc_w32(struct fj_vpci *p, uint32_t o, uint32_t v) { rte_write32(v, p->common + o); }
static inline uint8_t dc_r8(struct fj_vpci *p, uint32_t o) { return rte_read8(p->device + o); }
#endif
/* §4.1.4.5: reading the ISR status also clears it (and deasserts INTx). */
static inline uint8_t isr_r8(struct fj_vpci *p) { return rte_read8(p->isr); }

/*
 * §4.1.5.1.2: map an event to MSI-X vector @vec through the register at
 * @reg and read it back; a device that could not map it answers
 * VIRTIO_MSI_NO_VECTOR.
 */
static inline bool
vpci_vector_kept(struct fj_vpci *p, uint32_t reg, uint16_t vec)
{
	cc_w16(p, reg, vec);
	return vec == VIRTIO_MSI_NO_VECTOR || cc_r16(p, reg) == vec;
}

/* virtio_pci_intr.c: interrupts (§4.1.5.1.2 MSI-X vectors, §4.1.4.5 ISR, INTx) */
bool fj_vpci_intx(struct fj_vpci *p);
bool fj_vpci_lsc_possible(struct fj_vpci *p);
int fj_vpci_intr_check(struct fj_dev *dev);
uint16_t fj_vpci_rxq_vector(struct fj_vpci *p, uint16_t q);
int fj_vpci_intr_prepare(struct fj_dev *dev);
void fj_vpci_config_vector(struct fj_dev *dev);
int fj_vpci_intr_enable(struct fj_dev *dev);
void fj_vpci_intr_stop(struct fj_dev *dev);
void fj_vpci_intr_close(struct fj_dev *dev);
void fj_vpci_rxq_intr_raise(struct fj_dev *dev, uint16_t q);

#endif
