/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-user transport: fjord is the front-end of QEMU's vhost-user protocol
 * (docs/interop/vhost-user.rst) over a unix socket, so the virtio-net data
 * path runs on a host against any vhost-user back-end (DPDK's net_vhost,
 * OVS-DPDK, VPP). Guest memory is DPDK's own hugepage memory, shared by fd;
 * "guest physical" addresses are this process's virtual addresses.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <bus_vdev_driver.h>
#include <ethdev_driver.h>
#include <ethdev_vdev.h>
#include <rte_eal.h>
#include <rte_interrupts.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include "virtio_features.h"
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
};

static const char *
vu_req_name(uint32_t r)
{
	switch (r) {
	case VU_GET_FEATURES: return "GET_FEATURES";
	case VU_SET_FEATURES: return "SET_FEATURES";
	case VU_SET_OWNER: return "SET_OWNER";
	case VU_SET_MEM_TABLE: return "SET_MEM_TABLE";
	case VU_SET_VRING_NUM: return "SET_VRING_NUM";
	case VU_SET_VRING_ADDR: return "SET_VRING_ADDR";
	case VU_SET_VRING_BASE: return "SET_VRING_BASE";
	case VU_GET_VRING_BASE: return "GET_VRING_BASE";
	case VU_SET_VRING_KICK: return "SET_VRING_KICK";
	case VU_SET_VRING_CALL: return "SET_VRING_CALL";
	case VU_GET_PROTOCOL_FEATURES: return "GET_PROTOCOL_FEATURES";
	case VU_SET_PROTOCOL_FEATURES: return "SET_PROTOCOL_FEATURES";
	case VU_GET_QUEUE_NUM: return "GET_QUEUE_NUM";
	case VU_SET_VRING_ENABLE: return "SET_VRING_ENABLE";
	case VU_SET_STATUS: return "SET_STATUS";
	case VU_GET_STATUS: return "GET_STATUS";
	default: return "?";
	}
}

static bool
vu_has_reply(uint32_t r)
{
	switch (r) {
	case VU_GET_FEATURES:
	case VU_GET_PROTOCOL_FEATURES:
	case VU_GET_QUEUE_NUM:
	case VU_GET_VRING_BASE:
	case VU_GET_STATUS:
		return true;
	default:
		return false;
	}
}

static int
vu_send(struct fj_vhost *vh, struct vu_msg *m, const int *fds, int nfds)
{
	struct iovec iov = { .iov_base = m, .iov_len = VU_HDR_SIZE + m->size };
	char control[CMSG_SPACE(sizeof(int) * VU_MAX_REGIONS)];
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	memset(control, 0, sizeof(control));
	if (nfds > 0) {
		struct cmsghdr *c;

		mh.msg_control = control;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	do {
		/* MSG_NOSIGNAL: a vanished back-end is an error, not SIGPIPE. */
		n = sendmsg(vh->sock, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == (ssize_t)iov.iov_len ? 0 : -EIO;
}

static int
vu_recv_exact(struct fj_vhost *vh, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd pfd = { .fd = vh->sock, .events = POLLIN };
		int rc = poll(&pfd, 1, VU_REPLY_TIMEOUT_MS);

		if (rc == 0)
			return -ETIMEDOUT;
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		ssize_t n = recv(vh->sock, (char *)buf + got, len - got, 0);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	return 0;
}

/*
 * One exchange: send @m; read the reply into @m when the request has one,
 * or the REPLY_ACK status when negotiated (vhost-user.rst "REPLY_ACK").
 */
static int
vu_request(struct fj_vhost *vh, struct vu_msg *m, const int *fds, int nfds)
{
	uint32_t req = m->request;
	bool ack = !vu_has_reply(req) && (vh->protocol & FJ_BIT(VU_PROTO_F_REPLY_ACK));
	int rc;

	if (vh->sock < 0)
		return -ENOTCONN;
	m->flags = VU_VERSION | (ack ? VU_FLAG_NEED_REPLY : 0);
	pthread_mutex_lock(&vh->lock);
	rc = vu_send(vh, m, fds, nfds);
	if (rc == 0 && (ack || vu_has_reply(req))) {
		rc = vu_recv_exact(vh, m, VU_HDR_SIZE);
		if (rc == 0 && (m->request != req || !(m->flags & VU_FLAG_REPLY) ||
				(m->flags & 0x3) != VU_VERSION || m->size > sizeof(m->p)))
			rc = -EPROTO;
		if (rc == 0)
			rc = vu_recv_exact(vh, &m->p, m->size);
		if (rc == 0 && ack && (m->size != sizeof(uint64_t) || m->p.u64 != 0))
			rc = -EREMOTEIO;
	}
	pthread_mutex_unlock(&vh->lock);
	if (rc < 0)
		FJ_PMD_LOG(ERR, "%s: vhost-user %s failed: %s", vh->dev->name, vu_req_name(req),
		           rc == -EREMOTEIO ? "back-end refused it" : strerror(-rc));
	return rc;
}

static int
vu_get_u64(struct fj_vhost *vh, uint32_t req, uint64_t *v)
{
	struct vu_msg m = { .request = req, .size = 0 };
	int rc = vu_request(vh, &m, NULL, 0);

	if (rc == 0 && m.size != sizeof(uint64_t))
		rc = -EPROTO;
	if (rc == 0)
		*v = m.p.u64;
	return rc;
}

static int
vu_set_u64(struct fj_vhost *vh, uint32_t req, uint64_t v)
{
	struct vu_msg m = { .request = req, .size = sizeof(uint64_t) };

	m.p.u64 = v;
	return vu_request(vh, &m, NULL, 0);
}

static int
vu_set_state(struct fj_vhost *vh, uint32_t req, uint32_t index, uint32_t num)
{
	struct vu_msg m = { .request = req, .size = sizeof(m.p.state) };

	m.p.state.index = index;
	m.p.state.num = num;
	return vu_request(vh, &m, NULL, 0);
}

static int
vu_set_fd(struct fj_vhost *vh, uint32_t req, uint32_t index, int fd)
{
	struct vu_msg m = { .request = req, .size = sizeof(uint64_t) };

	m.p.u64 = index;
	return vu_request(vh, &m, &fd, 1);
}

/* ------------------------------------------------------------ memory */

struct mem_walk {
	struct vu_region r[VU_MAX_REGIONS];
	int fd[VU_MAX_REGIONS];
	unsigned int n;
	int err;
};

/*
 * Every DPDK memory segment joins the region of its backing file. With
 * --single-file-segments each memseg list is one file, so a handful of
 * regions covers all memory; per-page files would need one region a page.
 */
static int
mem_walk_seg(const struct rte_memseg_list *msl, const struct rte_memseg *ms, void *arg)
{
	struct mem_walk *w = arg;
	size_t off;
	int fd;

	if (msl->external)
		return 0;
	fd = rte_memseg_get_fd_thread_unsafe(ms);
	if (fd < 0 || rte_memseg_get_fd_offset_thread_unsafe(ms, &off) < 0) {
		w->err = -ENOTSUP;
		return -1;
	}
	uint64_t va = (uint64_t)(uintptr_t)ms->addr;
	for (unsigned int i = 0; i < w->n; i++) {
		struct vu_region *r = &w->r[i];

		if (w->fd[i] != fd)
			continue;
		/* Within one file, offset and address must move together. */
		if (va - r->userspace_addr != off - r->mmap_offset) {
			w->err = -EINVAL;
			return -1;
		}
		if (va < r->userspace_addr) {
			r->memory_size += r->userspace_addr - va;
			r->userspace_addr = va;
			r->guest_phys_addr = va;
			r->mmap_offset = off;
		}
		if (va + ms->len > r->userspace_addr + r->memory_size)
			r->memory_size = va + ms->len - r->userspace_addr;
		return 0;
	}
	if (w->n == VU_MAX_REGIONS) {
		w->err = -E2BIG;
		return -1;
	}
	w->fd[w->n] = fd;
	w->r[w->n] = (struct vu_region){ va, ms->len, va, off };
	w->n++;
	return 0;
}

static int
vu_set_mem_table(struct fj_vhost *vh, bool hotplug_lock_held)
{
	struct mem_walk w = { .n = 0, .err = 0 };
	struct vu_msg m = { .request = VU_SET_MEM_TABLE };

	if (hotplug_lock_held)
		rte_memseg_walk_thread_unsafe(mem_walk_seg, &w);
	else
		rte_memseg_walk(mem_walk_seg, &w);
	if (w.err == -E2BIG || w.err == -ENOTSUP || w.n == 0) {
		FJ_PMD_LOG(ERR, "%s: vhost-user shares memory by file descriptor, at most %d regions: "
			        "run EAL with hugepages and --single-file-segments (or --in-memory)",
		           vh->dev->name, VU_MAX_REGIONS);
		return -ENOTSUP;
	}
	if (w.err < 0) {
		FJ_PMD_LOG(ERR, "%s: memory segments are not laid out linearly in their files",
		           vh->dev->name);
		return w.err;
	}
	m.size = (uint32_t)(sizeof(uint64_t) + w.n * sizeof(struct vu_region));
	m.p.mem.nregions = w.n;
	memcpy(m.p.mem.regions, w.r, w.n * sizeof(struct vu_region));
	return vu_request(vh, &m, w.fd, (int)w.n);
}

static void
vu_mem_event(enum rte_mem_event type, const void *addr, size_t len, void *arg)
{
	struct fj_vhost *vh = arg;

	RTE_SET_USED(addr);
	RTE_SET_USED(len);
	/* New memory may hold mbufs: the back-end must be able to reach it. */
	if (type == RTE_MEM_EVENT_ALLOC && vh->running && vh->connected)
		vu_set_mem_table(vh, true);
}

/* ------------------------------------------------------ connection */

static void vu_hangup_cb(void *arg);

static void
vu_disconnect(struct fj_vhost *vh)
{
	if (vh->intr_registered) {
		rte_intr_callback_unregister_sync(vh->intr, vu_hangup_cb, vh);
		vh->intr_registered = false;
	}
	if (vh->sock >= 0) {
		close(vh->sock);
		vh->sock = -1;
	}
	vh->connected = false;
}

/* The back-end closed the socket: link down, nothing else breaks. */
static void
vu_hangup_cb(void *arg)
{
	struct fj_vhost *vh = arg;
	char c;
	ssize_t n = recv(vh->sock, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
		return;
	FJ_PMD_LOG(WARNING, "%s: vhost-user back-end at %s went away", vh->dev->name,
	           vh->args.path);
	vh->connected = false;
	rte_intr_callback_unregister_pending(vh->intr, vu_hangup_cb, vh, NULL);
	vh->intr_registered = false;
	fj_ethdev_link_changed(vh->dev);
}

/*
 * The opening exchange on a connected socket (vhost-user.rst "Starting the
 * device"): take ownership, read the device features and settle the
 * protocol features. Everything the back-end answers is checked.
 */
static int
vu_handshake(struct fj_vhost *vh)
{
	uint64_t features = 0;
	int rc = vu_set_u64(vh, VU_SET_OWNER, 0);

	if (rc == 0)
		rc = vu_get_u64(vh, VU_GET_FEATURES, &features);
	vh->protocol = 0;
	if (rc == 0 && (features & FJ_BIT(VU_F_PROTOCOL_FEATURES))) {
		uint64_t proto = 0;
		rc = vu_get_u64(vh, VU_GET_PROTOCOL_FEATURES, &proto);
		if (rc == 0)
			rc = vu_set_u64(vh, VU_SET_PROTOCOL_FEATURES, proto & VU_PROTOCOL_WANTED);
		if (rc == 0)
			vh->protocol = proto & VU_PROTOCOL_WANTED;
	}
	if (rc == 0)
		vh->dev->offered = features;
	return rc;
}

static int
vu_connect(struct fj_vhost *vh)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", vh->args.path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		FJ_PMD_LOG(ERR, "%s: cannot connect to vhost-user socket %s: %s (is the back-end listening?)",
		           vh->dev->name, vh->args.path, strerror(e));
		close(fd);
		return -e;
	}
	vh->sock = fd;
	vh->connected = true;

	int rc = vu_handshake(vh);
	if (rc == 0) {
		if (rte_intr_fd_set(vh->intr, vh->sock) == 0 &&
		    rte_intr_callback_register(vh->intr, vu_hangup_cb, vh) == 0)
			vh->intr_registered = true;
		else
			FJ_PMD_LOG(WARNING, "%s: cannot watch the socket; link loss will show on restart only",
			           vh->dev->name);
	}
	if (rc < 0)
		vu_disconnect(vh);
	return rc;
}

/* ------------------------------------------------------ transport ops */

static int
vu_get_features(struct fj_dev *dev, uint64_t *features)
{
	*features = dev->offered;
	return 0;
}

static int
vu_set_features(struct fj_dev *dev, uint64_t features)
{
	return vu_set_u64(dev->tp, VU_SET_FEATURES, features);
}

static int
vu_max_queue_pairs(struct fj_dev *dev, uint16_t *pairs)
{
	struct fj_vhost *vh = dev->tp;
	uint64_t n = 1;

	if ((dev->features & FJ_BIT(VIRTIO_NET_F_MQ)) && (vh->protocol & FJ_BIT(VU_PROTO_F_MQ))) {
		/* GET_QUEUE_NUM counts queue pairs for a net back-end. */
		int rc = vu_get_u64(vh, VU_GET_QUEUE_NUM, &n);
		if (rc < 0)
			return rc;
		if (n == 0)
			n = 1;
	}
	*pairs = (uint16_t)RTE_MIN(n, (uint64_t)FJ_MAX_QUEUE_PAIRS);
	return 0;
}

static int
vu_set_status(struct fj_vhost *vh, uint8_t status)
{
	if (!(vh->protocol & FJ_BIT(VU_PROTO_F_STATUS)))
		return 0;
	return vu_set_u64(vh, VU_SET_STATUS, status);
}

static void
vu_kick(const struct fj_notify *n)
{
	uint64_t one = 1;
	/* A full eventfd counter still wakes the back-end; nothing to retry. */
	if (write(n->fd, &one, sizeof(one)) < 0)
		return;
}

static int
vu_setup_vring(struct fj_vhost *vh, uint16_t idx, struct fj_ring_addrs r, struct fj_notify *nt)
{
	struct vu_msg m = { .request = VU_SET_VRING_ADDR, .size = sizeof(m.p.addr) };
	int rc;

	vh->kickfd[idx] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	vh->callfd[idx] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (vh->kickfd[idx] < 0 || vh->callfd[idx] < 0)
		return -errno;
	rc = vu_set_state(vh, VU_SET_VRING_NUM, idx, r.num);
	/*
	 * Where the device starts: index 0; for a packed ring bit 15 carries
	 * the wrap counter, which starts at 1 (VIRTIO 1.2 §2.8.1).
	 */
	if (rc == 0)
		rc = vu_set_state(vh, VU_SET_VRING_BASE, idx, r.packed ? 1u << 15 : 0);
	if (rc == 0) {
		/* Packed: avail/used name the driver/device event areas. */
		m.p.addr.index = idx;
		m.p.addr.desc = (uint64_t)(uintptr_t)r.desc;
		m.p.addr.avail = (uint64_t)(uintptr_t)r.driver;
		m.p.addr.used = (uint64_t)(uintptr_t)r.device;
		rc = vu_request(vh, &m, NULL, 0);
	}
	/* The call fd is required by back-ends; fjord polls and never reads it. */
	if (rc == 0)
		rc = vu_set_fd(vh, VU_SET_VRING_CALL, idx, vh->callfd[idx]);
	/* The kick fd starts the ring (vhost-user.rst "Ring states"). */
	if (rc == 0)
		rc = vu_set_fd(vh, VU_SET_VRING_KICK, idx, vh->kickfd[idx]);
	nt->fn = vu_kick;
	nt->fd = vh->kickfd[idx];
	nt->vq_index = idx;
	return rc;
}

static void
vu_close_fds(struct fj_vhost *vh)
{
	for (unsigned int i = 0; i < RTE_DIM(vh->kickfd); i++) {
		if (vh->kickfd[i] >= 0)
			close(vh->kickfd[i]);
		if (vh->callfd[i] >= 0)
			close(vh->callfd[i]);
		vh->kickfd[i] = vh->callfd[i] = -1;
	}
}

static void vu_stop(struct fj_dev *dev);

static int
vu_start(struct fj_dev *dev)
{
	struct fj_vhost *vh = dev->tp;
	int rc;

	if (!vh->connected) {
		vu_disconnect(vh);
		rc = vu_connect(vh);
		if (rc < 0)
			return rc;
		if ((dev->offered & dev->features) != dev->features) {
			FJ_PMD_LOG(ERR, "%s: the back-end came back offering fewer features; "
				        "close and probe the port again",
			           dev->name);
			return -ENOTSUP;
		}
	}
	rc = vu_set_status(vh, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	if (rc == 0)
		rc = vu_set_features(dev, dev->features);
	if (rc == 0)
		rc = vu_set_status(vh, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
					       VIRTIO_STATUS_FEATURES_OK);
	if (rc == 0)
		rc = vu_set_mem_table(vh, false);
	if (rc < 0)
		return rc;

	vh->vq_live = 0;
	vh->running = true;
	/*
	 * Only the queues the application configured become rings: with
	 * fewer tx than rx queues (or the reverse) the other virtqueue of a
	 * pair stays disabled (vhost-user.rst "Ring states").
	 */
	for (uint16_t q = 0; q < dev->pairs && rc == 0; q++) {
		struct fj_rxq *rxq = fj_dev_rxq(dev, q);
		struct fj_txq *txq = fj_dev_txq(dev, q);

		if (rxq != NULL) {
			rc = vu_setup_vring(vh, fj_rx_vq(q), fj_rxq_rings(rxq), &rxq->notify);
			vh->vq_live |= FJ_BIT(fj_rx_vq(q));
		}
		if (rc == 0 && txq != NULL) {
			rc = vu_setup_vring(vh, fj_tx_vq(q), fj_txq_rings(txq), &txq->notify);
			vh->vq_live |= FJ_BIT(fj_tx_vq(q));
		}
	}
	/* With PROTOCOL_FEATURES, rings start disabled ("Ring states"). */
	if (dev->features & FJ_BIT(VU_F_PROTOCOL_FEATURES))
		for (uint16_t i = 0; i < 2 * FJ_MAX_QUEUE_PAIRS && rc == 0; i++)
			if (vh->vq_live & FJ_BIT(i))
				rc = vu_set_state(vh, VU_SET_VRING_ENABLE, i, 1);
	if (rc == 0)
		rc = vu_set_status(vh, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
					       VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	if (rc < 0)
		vu_stop(dev);
	return rc;
}

/*
 * Take the rings back: GET_VRING_BASE stops a ring, and its reply means the
 * back-end no longer touches it, so the driver may free the buffers.
 */
static void
vu_stop(struct fj_dev *dev)
{
	struct fj_vhost *vh = dev->tp;

	if (vh->running && vh->connected) {
		if (dev->features & FJ_BIT(VU_F_PROTOCOL_FEATURES))
			for (uint16_t i = 0; i < 2 * FJ_MAX_QUEUE_PAIRS; i++)
				if ((vh->vq_live & FJ_BIT(i)) &&
				    vu_set_state(vh, VU_SET_VRING_ENABLE, i, 0) < 0)
					break;
		for (uint16_t i = 0; i < 2 * FJ_MAX_QUEUE_PAIRS && vh->connected; i++) {
			struct vu_msg m = { .request = VU_GET_VRING_BASE, .size = sizeof(m.p.state) };

			if (!(vh->vq_live & FJ_BIT(i)))
				continue;
			m.p.state.index = i;
			if (vu_request(vh, &m, NULL, 0) < 0)
				break;
		}
		vu_set_status(vh, 0);
	}
	vh->running = false;
	vh->vq_live = 0;
	vu_close_fds(vh);
}

static bool
vu_link_up(struct fj_dev *dev)
{
	struct fj_vhost *vh = dev->tp;

	return vh->connected && vh->running;
}

static void
vu_close(struct fj_dev *dev)
{
	struct fj_vhost *vh = dev->tp;

	if (vh == NULL)
		return;
	vu_stop(dev);
	if (vh->mem_cb_registered) {
		char name[RTE_DEV_NAME_MAX_LEN + 8];
		snprintf(name, sizeof(name), "fjord_%s", dev->name);
		rte_mem_event_callback_unregister(name, vh);
	}
	vu_disconnect(vh);
	rte_intr_instance_free(vh->intr);
	pthread_mutex_destroy(&vh->lock);
	rte_free(vh);
	dev->tp = NULL;
}

static const struct fj_transport_ops vu_ops = {
	.name = "vhost-user",
	.get_features = vu_get_features,
	.transport_features = FJ_BIT(VU_F_PROTOCOL_FEATURES),
	.set_features = vu_set_features,
	.read_config = NULL,
	.max_queue_pairs = vu_max_queue_pairs,
	.start = vu_start,
	.stop = vu_stop,
	.link_up = vu_link_up,
	.close = vu_close,
	.use_va = true,
	.lsc_events = true,
};

/* ------------------------------------------------------ vdev driver */

static int
fj_vhost_probe(struct rte_vdev_device *vdev)
{
	const char *name = rte_vdev_device_name(vdev);
	struct fj_vhost_args args;
	struct rte_eth_dev *eth_dev;
	struct fj_vhost *vh;
	struct fj_dev *dev;
	char err[256];
	int rc;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		FJ_PMD_LOG(ERR, "%s: secondary processes are not supported", name);
		return -ENOTSUP;
	}
	if (fj_vhost_args_parse(rte_vdev_device_args(vdev), &args, err, sizeof(err)) < 0) {
		FJ_PMD_LOG(ERR, "%s: %s", name, err);
		return -EINVAL;
	}
	eth_dev = rte_eth_vdev_allocate(vdev, sizeof(struct fj_dev));
	if (eth_dev == NULL)
		return -ENOMEM;
	dev = eth_dev->data->dev_private;
	snprintf(dev->name, sizeof(dev->name), "%s", name);
	dev->ops = &vu_ops;
	dev->disabled = args.disabled;
	dev->queue_size = args.queue_size;

	vh = rte_zmalloc_socket(name, sizeof(*vh), RTE_CACHE_LINE_SIZE, rte_socket_id());
	if (vh == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	vh->args = args;
	vh->dev = dev;
	vh->sock = -1;
	pthread_mutex_init(&vh->lock, NULL);
	for (unsigned int i = 0; i < RTE_DIM(vh->kickfd); i++)
		vh->kickfd[i] = vh->callfd[i] = -1;
	dev->tp = vh;
	vh->intr = rte_intr_instance_alloc(RTE_INTR_INSTANCE_F_SHARED);
	if (vh->intr == NULL || rte_intr_type_set(vh->intr, RTE_INTR_HANDLE_EXT) < 0) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = vu_connect(vh);
	if (rc < 0)
		goto fail;
	if (args.has_mac)
		memcpy(dev->mac.addr_bytes, args.mac, RTE_ETHER_ADDR_LEN);
	else
		rte_eth_random_addr(dev->mac.addr_bytes);

	char cbname[RTE_DEV_NAME_MAX_LEN + 8];
	snprintf(cbname, sizeof(cbname), "fjord_%s", name);
	if (rte_mem_event_callback_register(cbname, vu_mem_event, vh) == 0)
		vh->mem_cb_registered = true;

	rc = fj_ethdev_init(eth_dev, dev);
	if (rc < 0)
		goto fail;
	if (args.queues > dev->max_pairs) {
		FJ_PMD_LOG(ERR, "%s: queues=%u but the back-end has %u queue pair(s)", name,
		           args.queues, dev->max_pairs);
		rc = -EINVAL;
		goto fail;
	}
	dev->max_pairs = args.queues;
	rte_eth_dev_probing_finish(eth_dev);
	FJ_PMD_LOG(INFO, "%s: port %u on vhost-user %s, %u queue pair(s), %u descriptors",
	           name, eth_dev->data->port_id, args.path, dev->max_pairs, dev->queue_size);
	return 0;

fail:
	if (dev->tp != NULL)
		vu_close(dev);
	rte_eth_dev_release_port(eth_dev);
	return rc;
}

static int
fj_vhost_remove(struct rte_vdev_device *vdev)
{
	struct rte_eth_dev *eth_dev = rte_eth_dev_allocated(rte_vdev_device_name(vdev));

	if (eth_dev == NULL)
		return 0; /* already closed */
	rte_eth_dev_close(eth_dev->data->port_id);
	return 0;
}

static struct rte_vdev_driver fj_vhost_driver = {
	.probe = fj_vhost_probe,
	.remove = fj_vhost_remove,
};

RTE_PMD_REGISTER_VDEV(net_fjord_vhost, fj_vhost_driver);
RTE_PMD_REGISTER_ALIAS(net_fjord_vhost, eth_fjord_vhost);
RTE_PMD_REGISTER_PARAM_STRING(net_fjord_vhost, FJ_VHOST_PARAMS);
