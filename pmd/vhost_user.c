/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-user transport: fjord is the front-end of QEMU's vhost-user protocol
 * (docs/interop/vhost-user.rst) over a unix socket, so the virtio-net data
 * path runs on a host against any vhost-user back-end (DPDK's net_vhost,
 * OVS-DPDK, VPP). Guest memory is DPDK's own hugepage memory, shared by fd;
 * "guest physical" addresses are this process's virtual addresses.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <bus_vdev_driver.h>
#include <ethdev_driver.h>
#include <ethdev_vdev.h>
#include <rte_alarm.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_interrupts.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include "vhost_user.h"
#include "virtio_features.h"

static void
vu_mem_event(enum rte_mem_event type, const void *addr, size_t len, void *arg)
{
	struct fj_vhost *vh = arg;

	RTE_SET_USED(addr);
	RTE_SET_USED(len);
	/* New memory may hold mbufs: the back-end must be able to reach it. */
	if (type == RTE_MEM_EVENT_ALLOC && vh->running && vh->connected)
		fj_vu_set_mem_table(vh, true);
}

/* ------------------------------------------------------ connection */

static void vu_hangup_cb(void *arg);
static void vu_schedule_reconnect(struct fj_vhost *vh);

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
	pthread_mutex_lock(&vh->dev->ctl_lock);
	vu_schedule_reconnect(vh);
	pthread_mutex_unlock(&vh->dev->ctl_lock);
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
	int rc = fj_vu_set_u64(vh, VU_SET_OWNER, 0);

	if (rc == 0)
		rc = fj_vu_get_u64(vh, VU_GET_FEATURES, &features);
	vh->protocol = 0;
	if (rc == 0 && (features & FJ_BIT(VU_F_PROTOCOL_FEATURES))) {
		uint64_t proto = 0;
		rc = fj_vu_get_u64(vh, VU_GET_PROTOCOL_FEATURES, &proto);
		if (rc == 0)
			rc = fj_vu_set_u64(vh, VU_SET_PROTOCOL_FEATURES, proto & VU_PROTOCOL_WANTED);
		if (rc == 0)
			vh->protocol = proto & VU_PROTOCOL_WANTED;
	}
	if (rc == 0)
		vh->dev->offered = features;
	return rc;
}

/* A connected socket @fd: the opening exchange, then the hang-up watch. */
static int
vu_attach(struct fj_vhost *vh, int fd)
{
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

/* Client (the default): connect to the back-end's socket; @quiet for the
 * retries of a reconnection, which fail until the back-end is back. */
static int
vu_connect(struct fj_vhost *vh, bool quiet)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", vh->args.path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		if (!quiet)
			FJ_PMD_LOG(ERR, "%s: cannot connect to vhost-user socket %s: %s (is the back-end listening?)",
			           vh->dev->name, vh->args.path, strerror(e));
		close(fd);
		return -e;
	}
	return vu_attach(vh, fd);
}

/* server=1: the socket back-ends connect to; a stale socket file of an
 * earlier run is replaced, anything else at the path is left alone. */
static int
vu_listen(struct fj_vhost *vh)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", vh->args.path);
	if (lstat(sa.sun_path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(sa.sun_path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0) {
		int e = errno;
		FJ_PMD_LOG(ERR, "%s: cannot listen on vhost-user socket %s: %s", vh->dev->name,
		           vh->args.path, strerror(e));
		close(fd);
		return -e;
	}
	vh->listen_fd = fd;
	return 0;
}

/* server=1: a back-end that connected, waiting up to @wait_ms for one. */
static int
vu_accept(struct fj_vhost *vh, int wait_ms)
{
	struct pollfd p = { .fd = vh->listen_fd, .events = POLLIN };
	int rc = poll(&p, 1, wait_ms);

	if (rc <= 0)
		return rc == 0 ? -EAGAIN : -errno;
	/* (blocking, as the exchanges expect) */
	int fd = accept4(vh->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return -errno;
	return vu_attach(vh, fd);
}

/* ------------------------------------------------------ reconnection */

/* The first try soon after the back-end went, then backing off to one
 * every 100 ms (a connect to a unix socket costs next to nothing), so a
 * back-end that is back is tried within that. */
#define RECONNECT_FIRST_US 20000u
#define RECONNECT_MAX_US 100000u

static void vu_reconnect_alarm(void *arg);

/* (ctl_lock held) */
static void
vu_schedule_reconnect(struct fj_vhost *vh)
{
	if (vh->args.no_reconnect || vh->closing || vh->alarm_armed)
		return;
	vh->retry_us = vh->retry_us == 0 ? RECONNECT_FIRST_US
					 : RTE_MIN(2 * vh->retry_us, RECONNECT_MAX_US);
	if (rte_eal_alarm_set(vh->retry_us, vu_reconnect_alarm, vh) == 0)
		vh->alarm_armed = true;
	else
		FJ_PMD_LOG(ERR, "%s: cannot schedule a reconnection: %s", vh->dev->name,
		           rte_strerror(rte_errno));
}

/*
 * In EAL's interrupt thread: try the back-end again (connect, or accept
 * one with server=1); once it is there with the features the port runs
 * with, a started port's rings go to it (fj_ethdev_restart) and the link
 * is up again.
 */
static void
vu_reconnect_alarm(void *arg)
{
	struct fj_vhost *vh = arg;
	struct fj_dev *dev = vh->dev;
	int rc;

	pthread_mutex_lock(&dev->ctl_lock);
	vh->alarm_armed = false;
	if (vh->closing || vh->connected) {
		pthread_mutex_unlock(&dev->ctl_lock);
		return;
	}
	vu_disconnect(vh);
	/* The rings the old back-end had are not to be asked back from the
	 * new one: fj_ethdev_restart only closes their eventfds, once the
	 * bursts that kick them are held off. */
	vh->running = false;
	uint64_t t0 = rte_get_timer_cycles();
	rc = vh->args.server ? vu_accept(vh, 0) : vu_connect(vh, true);
	uint64_t t1 = rte_get_timer_cycles(); /* (the back-end has answered) */
	if (rc == 0 && (dev->offered & dev->features) != dev->features) {
		if (!vh->told_features)
			FJ_PMD_LOG(ERR, "%s: the back-end at %s came back offering fewer features "
			           "than the port runs with; waiting for another",
			           dev->name, vh->args.path);
		vh->told_features = true;
		vu_disconnect(vh);
		rc = -ENOTSUP;
	}
	if (rc == 0 && dev->started) {
		rc = fj_ethdev_restart(dev);
		if (rc < 0) {
			FJ_PMD_LOG(ERR, "%s: the back-end at %s is back but took no rings: %s",
			           dev->name, vh->args.path, rte_strerror(-rc));
			vu_disconnect(vh);
		}
	}
	if (rc < 0) {
		vu_schedule_reconnect(vh);
		pthread_mutex_unlock(&dev->ctl_lock);
		return;
	}
	vh->retry_us = 0;
	vh->told_features = false;
	uint64_t hz = rte_get_timer_hz(), t2 = rte_get_timer_cycles();
	FJ_PMD_LOG(NOTICE, "%s: vhost-user back-end at %s is back%s (it answered in %" PRIu64
	           " ms, the rings took %" PRIu64 " ms)",
	           dev->name, vh->args.path, dev->started ? ", rings restarted" : "",
	           (t1 - t0) * 1000 / hz, (t2 - t1) * 1000 / hz);
	pthread_mutex_unlock(&dev->ctl_lock);
	fj_ethdev_link_changed(dev);
}

/* Before the port closes: no reconnection runs or starts after this. */
static void
vu_quiesce(struct fj_dev *dev)
{
	struct fj_vhost *vh = dev->tp;

	if (vh == NULL)
		return;
	pthread_mutex_lock(&dev->ctl_lock);
	vh->closing = true;
	pthread_mutex_unlock(&dev->ctl_lock);
	/* (waits for an alarm that is running; ctl_lock is not held) */
	rte_eal_alarm_cancel(vu_reconnect_alarm, vh);
	vh->alarm_armed = false;
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
	return fj_vu_set_u64(dev->tp, VU_SET_FEATURES, features);
}

static int
vu_max_queue_pairs(struct fj_dev *dev, uint16_t *pairs)
{
	struct fj_vhost *vh = dev->tp;
	uint64_t n = 1;

	if ((dev->features & FJ_BIT(VIRTIO_NET_F_MQ)) && (vh->protocol & FJ_BIT(VU_PROTO_F_MQ))) {
		/* GET_QUEUE_NUM counts queue pairs for a net back-end. */
		int rc = fj_vu_get_u64(vh, VU_GET_QUEUE_NUM, &n);
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
	return fj_vu_set_u64(vh, VU_SET_STATUS, status);
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
	rc = fj_vu_set_state(vh, VU_SET_VRING_NUM, idx, r.num);
	/*
	 * Where the device starts: index 0; for a packed ring bit 15 carries
	 * the wrap counter, which starts at 1 (VIRTIO 1.2 §2.8.1).
	 */
	if (rc == 0)
		rc = fj_vu_set_state(vh, VU_SET_VRING_BASE, idx, r.packed ? 1u << 15 : 0);
	if (rc == 0) {
		/* Packed: avail/used name the driver/device event areas. */
		m.p.addr.index = idx;
		m.p.addr.desc = (uint64_t)(uintptr_t)r.desc;
		m.p.addr.avail = (uint64_t)(uintptr_t)r.driver;
		m.p.addr.used = (uint64_t)(uintptr_t)r.device;
		rc = fj_vu_request(vh, &m, NULL, 0);
	}
	/* The call fd is required by back-ends; fjord polls and never reads it. */
	if (rc == 0)
		rc = fj_vu_set_fd(vh, VU_SET_VRING_CALL, idx, vh->callfd[idx]);
	/* The kick fd starts the ring (vhost-user.rst "Ring states"). */
	if (rc == 0)
		rc = fj_vu_set_fd(vh, VU_SET_VRING_KICK, idx, vh->kickfd[idx]);
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
		rc = vh->args.server ? vu_accept(vh, 0) : vu_connect(vh, false);
		if (rc == -EAGAIN)
			FJ_PMD_LOG(ERR, "%s: no vhost-user back-end has connected to %s", dev->name,
			           vh->args.path);
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
		rc = fj_vu_set_mem_table(vh, false);
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
				rc = fj_vu_set_state(vh, VU_SET_VRING_ENABLE, i, 1);
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
				    fj_vu_set_state(vh, VU_SET_VRING_ENABLE, i, 0) < 0)
					break;
		for (uint16_t i = 0; i < 2 * FJ_MAX_QUEUE_PAIRS && vh->connected; i++) {
			struct vu_msg m = { .request = VU_GET_VRING_BASE, .size = sizeof(m.p.state) };

			if (!(vh->vq_live & FJ_BIT(i)))
				continue;
			m.p.state.index = i;
			if (fj_vu_request(vh, &m, NULL, 0) < 0)
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
	vu_quiesce(dev);
	vu_stop(dev);
	if (vh->mem_cb_registered) {
		char name[RTE_DEV_NAME_MAX_LEN + 8];
		snprintf(name, sizeof(name), "fjord_%s", dev->name);
		rte_mem_event_callback_unregister(name, vh);
	}
	vu_disconnect(vh);
	if (vh->listen_fd >= 0) {
		close(vh->listen_fd);
		unlink(vh->args.path);
	}
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
	.quiesce = vu_quiesce,
	.use_va = true,
	.lsc_events = true,
};

/* ------------------------------------------------------ vdev driver */

/* server=1: how long the probe waits for the first back-end (the port's
 * features come from it). */
#define SERVER_WAIT_S 30u

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
	vh->listen_fd = -1;
	pthread_mutex_init(&vh->lock, NULL);
	for (unsigned int i = 0; i < RTE_DIM(vh->kickfd); i++)
		vh->kickfd[i] = vh->callfd[i] = -1;
	dev->tp = vh;
	vh->intr = rte_intr_instance_alloc(RTE_INTR_INSTANCE_F_SHARED);
	if (vh->intr == NULL || rte_intr_type_set(vh->intr, RTE_INTR_HANDLE_EXT) < 0) {
		rc = -ENOMEM;
		goto fail;
	}
	if (args.server) {
		rc = vu_listen(vh);
		if (rc == 0) {
			FJ_PMD_LOG(NOTICE, "%s: waiting up to %u s for a vhost-user back-end to connect to %s",
			           name, SERVER_WAIT_S, args.path);
			rc = vu_accept(vh, SERVER_WAIT_S * 1000);
			if (rc == -EAGAIN)
				FJ_PMD_LOG(ERR, "%s: no vhost-user back-end connected to %s within %u s",
				           name, args.path, SERVER_WAIT_S);
		}
	} else {
		rc = vu_connect(vh, false);
	}
	if (rc < 0)
		goto fail;
	/* A lost back-end is reconnected to in the background (and its
	 * successor given the rings), which the bursts make room for. */
	dev->guarded = !args.no_reconnect;
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
