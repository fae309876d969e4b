/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>

#include "virtio_features.h"

int
fj_features_negotiate(uint64_t offered, uint64_t disabled, uint64_t transport_bits,
		      uint64_t *accepted, const char **why)
{
	/*
	 * fjord is a virtio 1.x driver only: without VERSION_1 the device is
	 * legacy (guest-endian rings, 10-byte header, §7). Refuse it.
	 */
	if (!(offered & FJ_BIT(VIRTIO_F_VERSION_1))) {
		*why = "device does not offer VIRTIO_F_VERSION_1 (legacy-only device); fjord drives virtio 1.x devices only";
		return -ENOTSUP;
	}
	uint64_t want = (FJ_FEATURES_SUPPORTED & ~disabled) | transport_bits;

	/*
	 * §6.1: a driver SHOULD accept VIRTIO_F_ACCESS_PLATFORM when offered, and
	 * a device MAY fail FEATURES_OK without it: it means the device goes
	 * through an IOMMU, which DPDK's IOVAs already account for.
	 */
	want |= FJ_BIT(VIRTIO_F_ACCESS_PLATFORM) | FJ_BIT(VIRTIO_F_VERSION_1);
	*accepted = offered & want;
	/*
	 * §5.1.3.1: VIRTIO_NET_F_RSS and VIRTIO_NET_F_HASH_REPORT require
	 * VIRTIO_NET_F_CTRL_VQ. fjord sets the queue count and the hash in one
	 * VIRTIO_NET_CTRL_MQ_RSS_CONFIG command (§5.1.6.5.7), so RSS needs MQ
	 * (more than one queue to steer to) and HASH_REPORT needs RSS (no
	 * VIRTIO_NET_CTRL_MQ_HASH_CONFIG of its own).
	 */
	uint64_t mq = FJ_BIT(VIRTIO_NET_F_CTRL_VQ) | FJ_BIT(VIRTIO_NET_F_MQ);
	if ((*accepted & mq) != mq)
		*accepted &= ~FJ_FEATURES_RSS;
	if (!(*accepted & FJ_BIT(VIRTIO_NET_F_RSS)))
		*accepted &= ~FJ_BIT(VIRTIO_NET_F_HASH_REPORT);
	/*
	 * §5.1.3.1: HOST_TSO4/6 require CSUM, GUEST_TSO4/6 require GUEST_CSUM.
	 * A large received segment needs buffers of 64 KiB or mergeable ones
	 * (§5.1.6.3.1); fjord posts mbuf-sized buffers, so it takes GUEST_TSO
	 * only with MRG_RXBUF.
	 */
	if (!(*accepted & FJ_BIT(VIRTIO_NET_F_CSUM)))
		*accepted &= ~FJ_FEATURES_HOST_TSO;
	if ((*accepted & (FJ_BIT(VIRTIO_NET_F_GUEST_CSUM) | FJ_BIT(VIRTIO_NET_F_MRG_RXBUF))) !=
	    (FJ_BIT(VIRTIO_NET_F_GUEST_CSUM) | FJ_BIT(VIRTIO_NET_F_MRG_RXBUF)))
		*accepted &= ~FJ_FEATURES_GUEST_TSO;
	*why = NULL;
	return 0;
}

static const struct {
	int bit;
	const char *name;
} feature_names[] = {
	{ VIRTIO_NET_F_CSUM, "CSUM" },
	{ VIRTIO_NET_F_GUEST_CSUM, "GUEST_CSUM" },
	{ VIRTIO_NET_F_MTU, "MTU" },
	{ VIRTIO_NET_F_MAC, "MAC" },
	{ VIRTIO_NET_F_GUEST_TSO4, "GUEST_TSO4" },
	{ VIRTIO_NET_F_GUEST_TSO6, "GUEST_TSO6" },
	{ VIRTIO_NET_F_HOST_TSO4, "HOST_TSO4" },
	{ VIRTIO_NET_F_HOST_TSO6, "HOST_TSO6" },
	{ VIRTIO_NET_F_MRG_RXBUF, "MRG_RXBUF" },
	{ VIRTIO_NET_F_STATUS, "STATUS" },
	{ VIRTIO_NET_F_CTRL_VQ, "CTRL_VQ" },
	{ VIRTIO_NET_F_CTRL_RX, "CTRL_RX" },
	{ VIRTIO_NET_F_MQ, "MQ" },
	{ VIRTIO_NET_F_HASH_REPORT, "HASH_REPORT" },
	{ VIRTIO_NET_F_RSS, "RSS" },
	{ VIRTIO_F_INDIRECT_DESC, "INDIRECT_DESC" },
	{ VIRTIO_F_EVENT_IDX, "EVENT_IDX" },
	{ 30, "PROTOCOL_FEATURES" },
	{ VIRTIO_F_VERSION_1, "VERSION_1" },
	{ VIRTIO_F_ACCESS_PLATFORM, "ACCESS_PLATFORM" },
	{ VIRTIO_F_RING_PACKED, "RING_PACKED" },
	{ VIRTIO_F_IN_ORDER, "IN_ORDER" },
	{ VIRTIO_F_ORDER_PLATFORM, "ORDER_PLATFORM" },
};

size_t
fj_features_str(uint64_t bits, char *buf, size_t len)
{
	size_t off = 0;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(feature_names) / sizeof(feature_names[0]); i++) {
		if (!(bits & FJ_BIT(feature_names[i].bit)))
			continue;
		int n = snprintf(buf + off, len - off, "%s%s", off ? " " : "",
				 feature_names[i].name);
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
	return off;
}
