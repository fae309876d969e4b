/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-user messages (docs/interop/vhost-user.rst "Message
 * specification"): one request/reply exchange at a time on the socket,
 * every reply checked, and the memory table that shares DPDK's hugepage
 * memory with the back-end by file descriptor.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_memory.h>

#include "vhost_user.h"

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
int
fj_vu_request(struct fj_vhost *vh, struct vu_msg *m, const int *fds, int nfds)
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

int
fj_vu_get_u64(struct fj_vhost *vh, uint32_t req, uint64_t *v)
{
	struct vu_msg m = { .request = req, .size = 0 };
	int rc = fj_vu_request(vh, &m, NULL, 0);

	if (rc == 0 && m.size != sizeof(uint64_t))
		rc = -EPROTO;
	if (rc == 0)
		*v = m.p.u64;
	return rc;
}

int
fj_vu_set_u64(struct fj_vhost *vh, uint32_t req, uint64_t v)
{
	struct vu_msg m = { .request = req, .size = sizeof(uint64_t) };

	m.p.u64 = v;
	return fj_vu_request(vh, &m, NULL, 0);
}

int
fj_vu_set_state(struct fj_vhost *vh, uint32_t req, uint32_t index, uint32_t num)
{
	struct vu_msg m = { .request = req, .size = sizeof(m.p.state) };

	m.p.state.index = index;
	m.p.state.num = num;
	return fj_vu_request(vh, &m, NULL, 0);
}

int
fj_vu_set_fd(struct fj_vhost *vh, uint32_t req, uint32_t index, int fd)
{
	struct vu_msg m = { .request = req, .size = sizeof(uint64_t) };

	m.p.u64 = index;
	return fj_vu_request(vh, &m, &fd, 1);
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

int
fj_vu_set_mem_table(struct fj_vhost *vh, bool hotplug_lock_held)
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
	return fj_vu_request(vh, &m, w.fd, (int)w.n);
}
