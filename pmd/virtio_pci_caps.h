/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtio PCI capability walk (VIRTIO 1.2 §4.1.4), pure: a device's PCI
 * configuration space and BAR sizes in, the locations of its common,
 * notify, ISR and device configuration structures out. Configuration
 * space is device-controlled: every pointer and length is checked, and
 * the walk is bounded even for a looping capability list.
 */
#ifndef FJ_VIRTIO_PCI_CAPS_H
#define FJ_VIRTIO_PCI_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* §4.1.4: cfg_type values. */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG    3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG    5

/* §4.1.4.3: struct virtio_pci_common_cfg up to queue_device (VIRTIO 1.0 layout). */
#define VIRTIO_PCI_COMMON_CFG_MIN_LEN 56

struct fj_pci_region {
	bool present;
	uint8_t bar;
	uint32_t offset;
	uint32_t length;
};

struct fj_pci_caps {
	struct fj_pci_region common;
	struct fj_pci_region notify;
	struct fj_pci_region isr;
	struct fj_pci_region device;
	uint32_t notify_off_multiplier;
	uint16_t msix_vectors; /* MSI-X table size; 0: no MSI-X capability */
};

/*
 * Walk @cfg (@cfg_len bytes of PCI configuration space, at least the 256
 * of conventional PCI) against @bar_len (size of each of the six BARs, 0
 * when not implemented). Returns 0 with @caps filled, or -EINVAL / -ENODEV
 * with a sentence in @why. Common, notify and ISR structures are required
 * (§4.1.4); the device structure is optional (a device without
 * device-specific configuration).
 */
int fj_pci_caps_parse(const uint8_t *cfg, size_t cfg_len, const uint64_t bar_len[6],
		      struct fj_pci_caps *caps, const char **why);

#endif
