/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-user front-end (docs/interop/vhost-user.rst), private to the
 * transport: the messages and their exchange (vhost_user_msg.c), used by
 * the device and its rings (vhost_user.c).
 */
#ifndef FJ_VHOST_USER_H
#define FJ_VHOST_USER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_interrupts.h>

#include "devargs.h"
#include "fj_pmd.h"

/* Message types, vhost-user.rst "Front-end message types". */
enum {
	VU_GET_FEATURES = 1,
	VU_SET_FEATURES = 2,
	VU_SET_OWNER = 3,
	VU_SET_MEM_TABLE = 5,
	VU_SET_VRING_NUM = 8,
	VU_SET_VRING_ADDR = 9,
	VU_SET_VRING_BASE = 10,
	VU_GET_VRING_BASE = 11,
	VU_SET_VRING_KICK = 12,
	VU_SET_VRING_CALL = 13,
	VU_GET_PROTOCOL_FEATURES = 15,
	VU_SET_PROTOCOL_FEATURES = 16,
	VU_GET_QUEUE_NUM = 17,
	VU_SET_VRING_ENABLE = 18,
	VU_SET_STATUS = 39,
	VU_GET_STATUS = 40,
};

#define VU_F_PROTOCOL_FEATURES 30
#define VU_PROTO_F_MQ 0
#define VU_PROTO_F_REPLY_ACK 3
#define VU_PROTO_F_STATUS 16
#define VU_PROTOCOL_WANTED                                                      \
	(FJ_BIT(VU_PROTO_F_MQ) | FJ_BIT(VU_PROTO_F_REPLY_ACK) | FJ_BIT(VU_PROTO_F_STATUS))

#define VU_VERSION 0x1
#define VU_FLAG_REPLY (1u << 2)
#define VU_FLAG_NEED_REPLY (1u << 3)
#define VU_MAX_REGIONS 8
#define VU_REPLY_TIMEOUT_MS 5000

struct vu_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t mmap_offset;
};

struct vu_msg {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
	union {
		uint64_t u64;
		struct {
			uint32_t index;
			uint32_t num;
		} state;
		struct {
			uint32_t index;
			uint32_t flags;
			uint64_t desc;
			uint64_t used;
			uint64_t avail;
			uint64_t log;
		} addr;
		struct {
			uint32_t nregions;
			uint32_t padding;
			struct vu_region regions[VU_MAX_REGIONS];
		} mem;
	} p;
} __attribute__((packed));

#define VU_HDR_SIZE offsetof(struct vu_msg, p)

struct fj_vhost {
	struct fj_vhost_args args;
	struct fj_dev *dev;
	int sock;
	uint64_t protocol;            /* negotiated protocol features */
	bool running;                 /* rings handed to the back-end */
	volatile bool connected;
	pthread_mutex_t lock;         /* one request/reply exchange at a time */
	struct rte_intr_handle *intr; /* socket hang-up watch */
	bool intr_registered;
	bool mem_cb_registered;
	int kickfd[2 * FJ_MAX_QUEUE_PAIRS];
	int callfd[2 * FJ_MAX_QUEUE_PAIRS];
	uint64_t vq_live;              /* bit per virtqueue handed to the back-end */
	int listen_fd;                 /* server=1: where back-ends connect */
	/* Reconnection: the next try's delay, backing off; the alarm's state
	 * and the port's closing under the device's ctl_lock. */
	uint32_t retry_us;
	bool alarm_armed;
	bool closing;
	bool told_features;            /* a back-end with too few features, logged once */
};

/*
 * One exchange: send @m (with @nfds descriptors); read the reply into @m
 * when the request has one, or the REPLY_ACK status when negotiated.
 * Returns 0 or a negative errno, logged.
 */
int fj_vu_request(struct fj_vhost *vh, struct vu_msg *m, const int *fds, int nfds);
int fj_vu_get_u64(struct fj_vhost *vh, uint32_t req, uint64_t *v);
int fj_vu_set_u64(struct fj_vhost *vh, uint32_t req, uint64_t v);
int fj_vu_set_state(struct fj_vhost *vh, uint32_t req, uint32_t index, uint32_t num);
int fj_vu_set_fd(struct fj_vhost *vh, uint32_t req, uint32_t index, int fd);
/*
 * SET_MEM_TABLE with every DPDK memory segment, shared by file descriptor;
 * @hotplug_lock_held from a memory event callback.
 */
int fj_vu_set_mem_table(struct fj_vhost *vh, bool hotplug_lock_held);

#endif
