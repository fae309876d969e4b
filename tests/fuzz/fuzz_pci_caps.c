/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer: a hostile device's PCI configuration space and BAR sizes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio_pci_caps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t cfg[256] = { 0 };
	uint64_t bar_len[6] = { 0 };
	struct fj_pci_caps caps;
	const char *why = NULL;

	if (size < 6)
		return 0;
	/* First six bytes: BAR sizes as powers of two (or absent). */
	for (int i = 0; i < 6; i++)
		bar_len[i] = data[i] % 33 ? UINT64_C(1) << (data[i] % 33) : 0;
	memcpy(cfg, data + 6, size - 6 < sizeof(cfg) ? size - 6 : sizeof(cfg));
	if (fj_pci_caps_parse(cfg, sizeof(cfg), bar_len, &caps, &why) == 0) {
		const struct fj_pci_region *r[] = { &caps.common, &caps.notify, &caps.isr,
						    &caps.device };
		for (int i = 0; i < 4; i++)
			if (r[i]->present &&
			    (r[i]->bar > 5 || (uint64_t)r[i]->offset + r[i]->length > bar_len[r[i]->bar]))
				abort();
		if (!caps.common.present || !caps.notify.present || !caps.isr.present)
			abort();
	} else if (why == NULL) {
		abort();
	}
	return 0;
}
