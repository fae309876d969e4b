/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtio-net control virtqueue (VIRTIO 1.2 §5.1.6.5), driver side:
 * one command at a time, answered through the used ring and polled,
 * bounded. The ring is split (§2.7) or packed (§2.8) as negotiated for
 * every queue of the device (VIRTIO_F_RING_PACKED, §6). The transport
 * tells the device where the ring lives and rings its doorbell.
 */
#ifndef FJ_CTRLQ_H
#define FJ_CTRLQ_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_memzone.h>

#include "fj_pmd.h"

#define FJ_CTRLQ_SIZE     16
#define FJ_CTRLQ_CMD_ROOM 2048 /* header + data + ack, after the ring: room for
				* the largest RSS configuration (FJ_RSS_CMD_MAX) */
#define FJ_CTRLQ_WAIT_MS  1000
_Static_assert(FJ_RSS_CMD_MAX + 3 <= FJ_CTRLQ_CMD_ROOM, "an RSS configuration fits");

#define VIRTIO_NET_CTRL_MQ              4
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 0
#define VIRTIO_NET_OK                   0

struct fj_ctrlq {
	const struct rte_memzone *mz; /* ring, then the command area */
	bool packed;
	uint16_t num;
	size_t ring_size;
	struct fj_vring vr;
	struct fj_vring_layout lay;
	struct fj_pring pr;
	struct fj_pring_layout play;
	struct fj_notify notify;
	uint16_t link[FJ_CTRLQ_SIZE];
	/* Polled while waiting: false when the device went away. */
	bool (*alive)(void *arg);
	void *alive_arg;
};

/*
 * Lay out a ring of at most @max descriptors (the device's queue size),
 * reserving its memory zone @name on the first call. Returns 0, -ENODEV
 * for a device that takes no queue, or -ENOMEM.
 */
int fj_ctrlq_init(struct fj_ctrlq *cq, uint16_t max, bool packed, const char *name,
		  int socket);
/* Where the ring's parts are, for the transport's queue setup. */
struct fj_ring_addrs fj_ctrlq_rings(const struct fj_ctrlq *cq);
/*
 * Send {@cls, @cmd} with @len bytes of @data and wait for the device's ack.
 * Returns 0, -EIO (refused, or a broken answer), -ETIMEDOUT or -ENOSPC.
 */
int fj_ctrlq_cmd(struct fj_ctrlq *cq, const char *devname, uint8_t cls, uint8_t cmd,
		 const void *data, uint16_t len);
void fj_ctrlq_free(struct fj_ctrlq *cq);

#endif
