/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fjord's virtio-net PMD, private to pmd/: the device, its queues and the
 * transport seam. (Applications include the stack's public fjord.h; this
 * header is the driver's own.)
 *
 * The data path (rxtx.c) and the ethdev operations (ethdev.c) see a
 * transport only through struct fj_transport_ops; vhost-user (vhost_user.c)
 * is one such table, PCI another.
 */
#ifndef FJ_PMD_H
#define FJ_PMD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_dev.h>
#include <rte_ether.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>
#include <rte_spinlock.h>

#include "devargs.h"
#include "rss.h"
#include "virtqueue.h"
#include "virtqueue_packed.h"

extern int fj_logtype;
#define FJ_PMD_LOG(level, fmt, ...)                                              \
	rte_log(RTE_LOG_##level, fj_logtype, "fjord: " fmt "\n", ##__VA_ARGS__)

struct fj_dev;
struct rte_eth_dev;

/* How the data path tells the device a queue has new buffers. */
struct fj_notify {
	void (*fn)(const struct fj_notify *n);
	int fd;              /* vhost-user: kick eventfd */
	volatile void *addr; /* PCI: notify register */
	uint16_t vq_index;
};

/* Which IP versions a queue segments (tx) or takes coalesced (rx). */
#define FJ_GSO_V4 1
#define FJ_GSO_V6 2

struct fj_rxq_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t nombuf;      /* refill could not get mbufs */
	uint64_t bad_len;     /* device reported an impossible length */
	uint64_t bad_id;      /* device returned an id it does not own */
	uint64_t bad_ring;    /* used->idx ran ahead of the ring */
	uint64_t filtered;    /* software MAC filter dropped (promiscuous off) */
	uint64_t merged_segs; /* buffers beyond the first of mergeable packets */
	uint64_t bad_csum;    /* NEEDS_CSUM with csum_start/offset outside the frame */
	uint64_t csum_done;   /* partial checksums completed in software */
	uint64_t lro;         /* large segments the device coalesced (GUEST_TSO) */
	uint64_t bad_gso;     /* gso fields not negotiated or impossible */
	uint64_t kicks;
};

struct fj_txq_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t ring_full;   /* bursts cut short for lack of descriptors */
	uint64_t too_many_segs;
	uint64_t hdr_desc;    /* packets whose header could not go in headroom */
	uint64_t tso;         /* segments the device is to split (HOST_TSO) */
	uint64_t bad_tso;     /* TSO asked for but not enabled, or its fields impossible */
	uint64_t bad_id;
	uint64_t bad_ring;
	uint64_t kicks;
	uint64_t restart_drops; /* packets in the ring when it was restarted for a new back-end */
};

/*
 * A queue's ring is split (VIRTIO 1.2 §2.7) or packed (§2.8, with
 * VIRTIO_F_RING_PACKED) for the whole life of the port: one ring state, in
 * the layout @packed names.
 */
struct fj_rxq {
	union {
		struct fj_vring vr; /* split layout */
		struct fj_pring pr; /* packed layout */
	};
	struct rte_mbuf **sw;   /* mbuf posted in each descriptor, by id */
	uint16_t *refill;       /* FIFO of descriptor ids waiting for an mbuf */
	uint16_t refill_head;
	uint16_t refill_count;
	uint16_t addr_off;      /* offsetof(rte_mbuf, buf_iova or buf_addr) */
	uint16_t port_id;
	bool mrg_rxbuf;
	bool hash_report;       /* VIRTIO_NET_F_HASH_REPORT: the header carries the hash */
	uint8_t hdr_len;        /* virtio-net header length, set at start (fj_net_hdr_len) */
	bool guest_csum;        /* VIRTIO_NET_F_GUEST_CSUM: the header's flags count */
	bool csum_offload;      /* the application takes L4 checksum flags */
	uint8_t gso;            /* FJ_GSO_V4/V6: large segments accepted (GUEST_TSO4/6) */
	bool filter;            /* drop frames not for us (promiscuous off) */
	bool broken;            /* the device broke the ring contract */
	bool allmulti;
	struct rte_ether_addr mac;
	struct rte_mempool *mp;
	uint32_t buf_room;      /* bytes a descriptor offers the device: header and data */
	uint32_t data_room;     /* mbuf bytes past the headroom */
	struct fj_notify notify;
	struct fj_rxq_stats st;
	/* Held by each burst of a port that restarts its rings behind the
	 * application's back (fj_ethdev_restart): the burst that finds it
	 * taken returns nothing. */
	rte_spinlock_t lock;
	/* control path */
	struct fj_dev *dev;
	uint16_t queue_id;
	uint16_t nb_desc;
	const struct rte_memzone *mz;
	union {                 /* where the ring's parts sit in @mz */
		struct fj_vring_layout lay;
		struct fj_pring_layout play;
	};
	bool packed;
	uint16_t *link;         /* split: free list; packed: free buffer ids */
};

struct fj_tx_slot {
	struct rte_mbuf *m;
	uint16_t ndesc;
};

struct fj_txq {
	union {
		struct fj_vring vr; /* split layout */
		struct fj_pring pr; /* packed layout */
	};
	struct fj_tx_slot *sw;  /* split: by head descriptor id; packed: by buffer id */
	uint16_t clean_head;    /* in-order: oldest outstanding head */
	uint16_t addr_off;
	uint16_t free_thresh;
	bool broken;
	bool fast_free;         /* RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE */
	bool in_order;          /* VIRTIO_F_IN_ORDER, chosen at queue start (split: also
				 * vr.in_order; packed: buffer id = first slot) */
	bool csum;              /* VIRTIO_NET_F_CSUM and TCP/UDP checksum offload enabled */
	uint8_t gso;            /* FJ_GSO_V4/V6: TSO enabled for it (HOST_TSO4/6), set at start */
	uint8_t hdr_len;        /* virtio-net header length, set at start (fj_net_hdr_len) */
	uint8_t *hdr_va;        /* the per-descriptor headers (VIRTIO_NET_HDR_MAX_LEN
				 * apart), as the driver sees them */
	uint64_t hdr_base;      /* device address of hdrs[0] */
	struct fj_notify notify;
	struct fj_txq_stats st;
	rte_spinlock_t lock;    /* (as the rx queue's) */
	/* control path */
	struct fj_dev *dev;
	uint16_t queue_id;
	uint16_t nb_desc;
	const struct rte_memzone *mz;
	union {                 /* where the ring's parts sit in @mz */
		struct fj_vring_layout lay;
		struct fj_pring_layout play;
	};
	bool packed;
	uint16_t *link;
};

/*
 * Lay out a ring of @nb descriptors in the queue's layout (split parts on
 * cache lines, §2.7; packed, §2.8); returns the ring's size in bytes.
 */
static inline size_t
fj_queue_layout(bool packed, uint16_t nb, struct fj_vring_layout *lay,
		struct fj_pring_layout *play)
{
	if (packed) {
		fj_pring_layout(nb, play);
		return play->size;
	}
	fj_vring_layout(nb, RTE_CACHE_LINE_SIZE, lay);
	return lay->size;
}

/* Where a queue's ring parts live, for the transport to tell the device. */
struct fj_ring_addrs {
	void *desc;   /* descriptor table / ring */
	void *driver; /* split: avail ring; packed: driver event suppression */
	void *device; /* split: used ring; packed: device event suppression */
	uint16_t num;
	bool packed;
	const struct rte_memzone *mz; /* holds all three, IOVA-contiguous */
};

/* The IOVA of @p, a pointer into the ring zone of @r. */
static inline uint64_t
fj_ring_iova(const struct fj_ring_addrs *r, const void *p)
{
	return r->mz->iova + (uint64_t)((const char *)p - (const char *)r->mz->addr);
}

static inline struct fj_ring_addrs
fj_ring_addrs_of(bool packed, const struct fj_vring *vr, const struct fj_pring *pr,
		 const struct rte_memzone *mz)
{
	if (packed)
		return (struct fj_ring_addrs){ pr->desc, pr->driver_event, pr->device_event,
					       pr->num, true, mz };
	return (struct fj_ring_addrs){ vr->desc, vr->avail, vr->used, vr->num, false, mz };
}

static inline struct fj_ring_addrs
fj_rxq_rings(const struct fj_rxq *q)
{
	return fj_ring_addrs_of(q->packed, &q->vr, &q->pr, q->mz);
}

static inline struct fj_ring_addrs
fj_txq_rings(const struct fj_txq *q)
{
	return fj_ring_addrs_of(q->packed, &q->vr, &q->pr, q->mz);
}

/*
 * A transport: how features, status, configuration and queues reach the
 * device. Every operation returns 0 or a negative errno.
 */
struct fj_transport_ops {
	const char *name;
	/* Device offer, including transport-owned bits. */
	int (*get_features)(struct fj_dev *dev, uint64_t *features);
	/* Bits the transport itself negotiates when offered. */
	uint64_t transport_features;
	int (*set_features)(struct fj_dev *dev, uint64_t features);
	/* Optional: -ENOTSUP when the device space cannot be read. */
	int (*read_config)(struct fj_dev *dev, uint32_t off, void *buf, uint32_t len);
	int (*max_queue_pairs)(struct fj_dev *dev, uint16_t *pairs);
	/* Bring the configured rings live and set DRIVER_OK. */
	int (*start)(struct fj_dev *dev);
	/* Take the rings back from the device: it stops touching them. */
	void (*stop)(struct fj_dev *dev);
	/* Whether the device is there and running. */
	bool (*link_up)(struct fj_dev *dev);
	void (*close)(struct fj_dev *dev);
	/* Optional: end the transport's background work (reconnection)
	 * before the port closes. */
	void (*quiesce)(struct fj_dev *dev);
	/* Descriptors and rings carry virtual addresses instead of IOVAs. */
	bool use_va;
	/*
	 * The transport reports link changes as they happen (LSC events);
	 * otherwise every link query reads the device.
	 */
	bool lsc_events;
	/* Optional: the largest queue the device takes for @vq (0: any). */
	uint16_t (*queue_size_max)(struct fj_dev *dev, uint16_t vq);
	/*
	 * Optional: whether the interrupts the configuration asks for
	 * (dev_conf.intr_conf) can be delivered: 0, or a negative errno after
	 * a message. A transport without it has no rx queue interrupts.
	 */
	int (*intr_check)(struct fj_dev *dev);
	/* Optional: wake whoever sleeps on rx queue @q's interrupt. */
	void (*rxq_intr_raise)(struct fj_dev *dev, uint16_t q);
	/*
	 * Optional: one control-queue command (§5.1.6.5) to the started
	 * device, answered; -ENOTSUP without a control queue.
	 */
	int (*ctrl)(struct fj_dev *dev, uint8_t cls, uint8_t cmd, const void *data,
		    uint16_t len);
};

struct fj_dev {
	const struct fj_transport_ops *ops;
	void *tp;                 /* transport private state */
	struct rte_eth_dev *eth_dev;
	uint16_t port_id;
	char name[RTE_DEV_NAME_MAX_LEN];

	uint64_t offered;         /* device features */
	uint64_t capable;         /* negotiated at probe: what the port can use */
	uint64_t features;        /* set at each start: @capable less what the
				   * application's configuration does not use */
	uint64_t disabled;        /* switched off by devargs */
	uint16_t max_pairs;       /* device maximum */
	uint16_t pairs;           /* configured */
	uint16_t queue_size;      /* default/maximum descriptors per queue */
	uint16_t max_mtu;
	uint16_t mtu;
	struct rte_ether_addr mac;
	bool started;
	bool promisc;
	bool allmulti;
	bool link;                /* last reported link state */
	bool link_told;           /* the state the last LSC event told */
	rte_spinlock_t link_lock; /* link, link_told, link_down_events */
	uint64_t link_down_events;
	uint64_t restarts;        /* rings restarted for a new back-end (fj_ethdev_restart) */
	/* The transport may restart the rings while the application runs
	 * (vhost-user reconnection): the bursts take the queues' locks. */
	bool guarded;
	/* Start, stop, close and the transport's restart, one at a time. */
	pthread_mutex_t ctl_lock;
	/* Receive-side scaling, with VIRTIO_NET_F_RSS (ethdev_rss.c). */
	struct fj_rss_caps rss_caps;
	struct fj_rss rss;
	uint64_t rss_hf;          /* the RTE_ETH_RSS_* flags asked for */
};

/*
 * The virtio-net header in front of every rx and tx buffer (§5.1.6):
 * struct virtio_net_hdr_v1_hash with VIRTIO_NET_F_HASH_REPORT, else
 * struct virtio_net_hdr (num_buffers always there with VERSION_1).
 */
static inline uint8_t
fj_net_hdr_len(uint64_t features)
{
	return (features & FJ_BIT(VIRTIO_NET_F_HASH_REPORT)) ? VIRTIO_NET_HDR_HASH_LEN
							      : VIRTIO_NET_HDR_LEN;
}

/* A queue's virtqueue index (VIRTIO 1.2 §5.1.2: receiveq N = 2N, transmitq N = 2N+1). */
static inline uint16_t fj_rx_vq(uint16_t q) { return (uint16_t)(2 * q); }
static inline uint16_t fj_tx_vq(uint16_t q) { return (uint16_t)(2 * q + 1); }

/* ethdev.c */
int fj_ethdev_init(struct rte_eth_dev *eth_dev, struct fj_dev *dev);
int fj_ethdev_close(struct rte_eth_dev *eth_dev);
void fj_ethdev_link_changed(struct fj_dev *dev);
/*
 * Restart the started port's rings on a device that came back (a new
 * vhost-user back-end): the bursts held off, what the rings held freed
 * (counted), the rings laid out anew and handed over. Called by the
 * transport with @dev's ctl_lock held.
 */
int fj_ethdev_restart(struct fj_dev *dev);
struct fj_rxq *fj_dev_rxq(struct fj_dev *dev, uint16_t q);
struct fj_txq *fj_dev_txq(struct fj_dev *dev, uint16_t q);
uint16_t fj_dev_nb_rxq(struct fj_dev *dev);
uint16_t fj_dev_nb_txq(struct fj_dev *dev);

/* intr.c: rx queue interrupts (eth_dev_ops), checked at configure */
int fj_intr_configure(struct fj_dev *dev);
int fj_rx_queue_intr_enable(struct rte_eth_dev *eth_dev, uint16_t qid);
int fj_rx_queue_intr_disable(struct rte_eth_dev *eth_dev, uint16_t qid);

/* rxtx_start.c: queue start and drain, for either layout */
int fj_rxq_start(struct fj_rxq *q);
void fj_rxq_drain(struct fj_rxq *q);
int fj_txq_start(struct fj_txq *q);
void fj_txq_drain(struct fj_txq *q);

/*
 * rxtx.c (split) and rxtx_packed.c (packed): the bursts, and the first
 * fill of a started rx ring, which returns how many descriptors it could
 * not fill.
 */
uint16_t fj_rx_burst(void *rxq, struct rte_mbuf **pkts, uint16_t n);
uint16_t fj_tx_burst(void *txq, struct rte_mbuf **pkts, uint16_t n);
uint16_t fj_rxq_fill(struct fj_rxq *q);
uint16_t fj_rx_burst_packed(void *rxq, struct rte_mbuf **pkts, uint16_t n);
uint16_t fj_tx_burst_packed(void *txq, struct rte_mbuf **pkts, uint16_t n);
uint16_t fj_rxq_fill_packed(struct fj_rxq *q);
uint32_t fj_tx_reclaim_packed_all(struct fj_txq *q);
int fj_tx_done_cleanup(void *txq, uint32_t free_cnt);

#endif
