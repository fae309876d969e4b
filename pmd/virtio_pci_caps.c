/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "virtio_pci_caps.h"

/* PCI 3.0 configuration header. */
#define PCI_STATUS          0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAP_PTR         0x34
#define PCI_CAP_ID_VNDR     0x09
#define PCI_CAP_ID_MSIX     0x11
#define MSIX_CTRL           2      /* Message Control: table size - 1 in bits 10:0 */
#define MSIX_TABLE_SIZE_MASK 0x07ff
#define PCI_STD_HEADER_END  0x40
/* 256 bytes of conventional space hold at most 48 dword-aligned capabilities. */
#define PCI_CAP_MAX         48

/* struct virtio_pci_cap (§4.1.4) field offsets. */
#define CAP_VNDR   0
#define CAP_NEXT   1
#define CAP_LEN    2
#define CAP_TYPE   3
#define CAP_BAR    4
#define CAP_OFFSET 8
#define CAP_LENGTH 12
#define CAP_SIZE   16
/* struct virtio_pci_notify_cap adds notify_off_multiplier. */
#define NOTIFY_MULT     16
#define NOTIFY_CAP_SIZE 20

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static struct fj_pci_region *
region_of(struct fj_pci_caps *caps, uint8_t type)
{
	switch (type) {
	case VIRTIO_PCI_CAP_COMMON_CFG: return &caps->common;
	case VIRTIO_PCI_CAP_NOTIFY_CFG: return &caps->notify;
	case VIRTIO_PCI_CAP_ISR_CFG: return &caps->isr;
	case VIRTIO_PCI_CAP_DEVICE_CFG: return &caps->device;
	default: return NULL; /* PCI_CFG access, shared memory, vendor: not used */
	}
}

int
fj_pci_caps_parse(const uint8_t *cfg, size_t cfg_len, const uint64_t bar_len[6],
		  struct fj_pci_caps *caps, const char **why)
{
	uint8_t pos;
	uint8_t seen[256 / 4] = { 0 };

	memset(caps, 0, sizeof(*caps));
	if (cfg_len < 256) {
		*why = "PCI configuration space shorter than 256 bytes";
		return -EINVAL;
	}
	if (!(cfg[PCI_STATUS] & PCI_STATUS_CAP_LIST)) {
		*why = "device has no PCI capability list (legacy-only virtio device?)";
		return -ENODEV;
	}
	/* The low two bits of capability pointers are reserved (PCI 3.0 §6.7). */
	pos = cfg[PCI_CAP_PTR] & 0xfc;
	for (int n = 0; pos != 0; n++) {
		if (n == PCI_CAP_MAX || pos < PCI_STD_HEADER_END || seen[pos / 4]) {
			*why = "PCI capability list is malformed (bad pointer or loop)";
			return -EINVAL;
		}
		seen[pos / 4] = 1;
		const uint8_t *c = cfg + pos;
		uint8_t next = c[CAP_NEXT] & 0xfc;

		/* §4.1.5.1.2: MSI-X table size, for the vectors the driver may map. */
		if (c[CAP_VNDR] == PCI_CAP_ID_MSIX && caps->msix_vectors == 0) {
			uint16_t ctrl = (uint16_t)(c[MSIX_CTRL] | c[MSIX_CTRL + 1] << 8);
			caps->msix_vectors = (uint16_t)((ctrl & MSIX_TABLE_SIZE_MASK) + 1);
		}
		if (c[CAP_VNDR] != PCI_CAP_ID_VNDR) {
			pos = next;
			continue;
		}
		/* A vendor capability must fit the conventional space it sits in. */
		if (c[CAP_LEN] < CAP_SIZE || (size_t)pos + c[CAP_LEN] > 256) {
			*why = "virtio PCI capability is truncated";
			return -EINVAL;
		}
		uint8_t type = c[CAP_TYPE], bar = c[CAP_BAR];
		struct fj_pci_region *r = region_of(caps, type);

		/*
		 * §4.1.4: ignore reserved bar values and structures of unknown
		 * type; of several of one type, the first the driver can use is
		 * the device's preference.
		 */
		if (r == NULL || bar > 5 || r->present) {
			pos = next;
			continue;
		}
		uint32_t off = rd32(c + CAP_OFFSET), len = rd32(c + CAP_LENGTH);
		if (bar_len[bar] == 0 || (uint64_t)off + len > bar_len[bar]) {
			*why = "a virtio structure lies outside its BAR";
			return -EINVAL;
		}
		if (type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
			if (c[CAP_LEN] < NOTIFY_CAP_SIZE) {
				*why = "virtio notify capability is truncated";
				return -EINVAL;
			}
			uint32_t mult = rd32(c + NOTIFY_MULT);
			/* §4.1.4.4: an even power of 2, or 0 (one shared address). */
			if (mult != 0 && ((mult & (mult - 1)) != 0 || (mult & 1))) {
				*why = "virtio notify_off_multiplier is not 0 or an even power of 2";
				return -EINVAL;
			}
			/* §4.1.4.4.1: at least one 16-bit notification. */
			if (len < 2) {
				*why = "virtio notify structure is shorter than 2 bytes";
				return -EINVAL;
			}
			caps->notify_off_multiplier = mult;
		}
		if (type == VIRTIO_PCI_CAP_COMMON_CFG && len < VIRTIO_PCI_COMMON_CFG_MIN_LEN) {
			*why = "virtio common configuration structure is too short";
			return -EINVAL;
		}
		if (type == VIRTIO_PCI_CAP_ISR_CFG && len < 1) {
			*why = "virtio ISR structure is empty";
			return -EINVAL;
		}
		r->present = true;
		r->bar = bar;
		r->offset = off;
		r->length = len;
		pos = next;
	}
	if (!caps->common.present || !caps->notify.present || !caps->isr.present) {
		*why = "device lacks a virtio common, notify or ISR structure: not a virtio 1.x (modern) PCI device, and fjord drives no legacy ones";
		return -ENODEV;
	}
	*why = NULL;
	return 0;
}
