/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Feature negotiation (VIRTIO 1.2 §2.2, §3.1.1 steps 4-6), pure: the
 * device's offer and the driver's wishes in, the accepted set out.
 */
#ifndef FJ_FEATURES_H
#define FJ_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include "virtio_spec.h"

/* What fjord's data path can drive, whatever the transport. */
#define FJ_FEATURES_SUPPORTED                                                    \
	(FJ_BIT(VIRTIO_F_VERSION_1) | FJ_BIT(VIRTIO_F_ACCESS_PLATFORM) |          \
	 FJ_BIT(VIRTIO_F_IN_ORDER) | FJ_BIT(VIRTIO_F_ORDER_PLATFORM) |                    \
	 FJ_BIT(VIRTIO_F_RING_PACKED) |            \
	 FJ_BIT(VIRTIO_NET_F_MAC) | FJ_BIT(VIRTIO_NET_F_MTU) |                    \
	 FJ_BIT(VIRTIO_NET_F_MRG_RXBUF) | FJ_BIT(VIRTIO_NET_F_STATUS) |           \
	 FJ_BIT(VIRTIO_NET_F_MQ) | FJ_BIT(VIRTIO_NET_F_CSUM) | FJ_BIT(VIRTIO_NET_F_GUEST_CSUM) |  \
	 FJ_BIT(VIRTIO_NET_F_RSS) | FJ_BIT(VIRTIO_NET_F_HASH_REPORT) | FJ_FEATURES_TSO)

/* TCP segmentation by the device (HOST_TSO, §5.1.6.2) and large received
 * segments (GUEST_TSO, §5.1.6.4), IPv4 and IPv6; no ECN variants. */
#define FJ_FEATURES_HOST_TSO (FJ_BIT(VIRTIO_NET_F_HOST_TSO4) | FJ_BIT(VIRTIO_NET_F_HOST_TSO6))
#define FJ_FEATURES_GUEST_TSO (FJ_BIT(VIRTIO_NET_F_GUEST_TSO4) | FJ_BIT(VIRTIO_NET_F_GUEST_TSO6))
#define FJ_FEATURES_TSO (FJ_FEATURES_HOST_TSO | FJ_FEATURES_GUEST_TSO)

/* Receive-side scaling and hash reports (§5.1.6.5.7, §5.1.6.4.3), kept together. */
#define FJ_FEATURES_RSS (FJ_BIT(VIRTIO_NET_F_RSS) | FJ_BIT(VIRTIO_NET_F_HASH_REPORT))

/*
 * Accept from @offered what fjord supports, minus @disabled (devargs), plus
 * @transport_bits (bits a transport owns, such as vhost-user's
 * PROTOCOL_FEATURES) when offered. RSS is taken only with the control
 * queue and MQ it is configured through, HASH_REPORT only with RSS; HOST_TSO
 * only with CSUM, GUEST_TSO only with GUEST_CSUM and mergeable buffers.
 * Returns 0 and the set in @accepted, or
 * -ENOTSUP with a sentence in @why when the device is unusable.
 */
int fj_features_negotiate(uint64_t offered, uint64_t disabled, uint64_t transport_bits,
			  uint64_t *accepted, const char **why);

/* Human-readable list of known feature names in @bits, for logs. */
size_t fj_features_str(uint64_t bits, char *buf, size_t len);

#endif
