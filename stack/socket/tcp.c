/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP on kernel sockets: nonblocking listeners and connections on the
 * backend's epoll, TCP_NODELAY; writes queue one chain and hand it to the
 * kernel in one sendmsg, reads grow to as many segments as the last read
 * filled.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "socket.h"

struct fj_listener *
fj_sock_listen(struct fj_stack *s, uint16_t port, fj_flow_fn fn, void *arg)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(s->ip) };
	int one = 1;
	struct fj_sock_listener *l = calloc(1, sizeof(*l));
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (l == NULL || fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fj_sock_reuseport(s, fd) < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(fd, 1024) < 0 || fj_sock_reuseport_steer(s, fd) < 0)
		goto fail;
	l->base.s = s;
	l->base.port = port;
	l->base.fn = fn;
	l->base.arg = arg;
	l->fd = fd;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = FJ_EP_TAG(l, FJ_EP_LISTEN) };
	if (epoll_ctl(s->sock->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		goto fail;
	l->next = s->sock->listeners;
	s->sock->listeners = l;
	return &l->base;
fail:;
	int e = errno;
	if (fd >= 0)
		close(fd);
	free(l);
	errno = e;
	return NULL;
}

static void
flow_watch(struct fj_sock_flow *f, uint32_t events)
{
	if (f->events == events)
		return;
	struct epoll_event ev = { .events = events, .data.u64 = FJ_EP_TAG(f, FJ_EP_FLOW) };
	epoll_ctl(f->base.s->sock->epfd, EPOLL_CTL_MOD, f->fd, &ev);
	f->events = events;
}

static void
flow_link(struct fj_sock *k, struct fj_sock_flow *f)
{
	f->prev = NULL;
	f->next = k->flows;
	if (k->flows != NULL)
		k->flows->prev = f;
	k->flows = f;
	k->nflows++;
}

static void
flow_destroy(struct fj_sock_flow *f)
{
	struct fj_sock *k = f->base.s->sock;

	if (f->prev != NULL)
		f->prev->next = f->next;
	else
		k->flows = f->next;
	if (f->next != NULL)
		f->next->prev = f->prev;
	k->nflows--;
	fj_sock_close_fd(f->base.s, f->fd);
	rte_pktmbuf_free(f->pending);
	free(f);
}

void
fj_sock_accept(struct fj_stack *s, struct fj_sock_listener *l)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_in a;
		socklen_t al = sizeof(a);
		int one = 1;
		int fd = accept4(l->fd, (struct sockaddr *)&a, &al,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct fj_sock_flow *f = calloc(1, sizeof(*f));
		if (f == NULL) {
			close(fd);
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		f->base.s = s;
		f->base.fn = l->base.fn;
		f->base.arg = l->base.arg;
		f->fd = fd;
		f->peer.ip = ntohl(a.sin_addr.s_addr);
		f->peer.port = ntohs(a.sin_port);
		f->events = EPOLLIN | EPOLLRDHUP;
		struct epoll_event ev = { .events = f->events, .data.u64 = FJ_EP_TAG(f, FJ_EP_FLOW) };
		if (epoll_ctl(s->sock->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(f);
			continue;
		}
		flow_link(s->sock, f);
		s->c.tcp_established++;
		l->base.fn(&f->base, l->base.arg);
	}
}

/* Hand the kernel what waits, a whole chain per call; true when nothing is left. */
static bool
flush_pending(struct fj_sock_flow *f)
{
	while (f->pending != NULL) {
		struct iovec iov[FJ_SOCK_IOV];
		struct msghdr mh = { .msg_iov = iov };
		for (struct rte_mbuf *m = f->pending; m != NULL && mh.msg_iovlen < FJ_SOCK_IOV;
		     m = m->next) {
			iov[mh.msg_iovlen].iov_base = rte_pktmbuf_mtod(m, void *);
			iov[mh.msg_iovlen++].iov_len = m->data_len;
		}
		ssize_t n = sendmsg(f->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return false;
			f->base.err = -errno;
			rte_pktmbuf_free(f->pending);
			f->pending = NULL;
			return true;
		}
		/* Free the segments sent whole; trim a partly sent one. */
		size_t left = (size_t)n;
		while (f->pending != NULL && left >= f->pending->data_len) {
			struct rte_mbuf *m = f->pending;
			left -= m->data_len;
			f->pending = m->next;
			if (f->pending != NULL) {
				f->pending->pkt_len = m->pkt_len - m->data_len;
				f->pending->nb_segs = (uint16_t)(m->nb_segs - 1);
			}
			m->next = NULL;
			m->nb_segs = 1;
			m->pkt_len = m->data_len;
			rte_pktmbuf_free(m);
		}
		if (left > 0) {
			rte_pktmbuf_adj(f->pending, (uint16_t)left);
			return false;
		}
	}
	return true;
}

void
fj_sock_flow_event(struct fj_sock_flow *f, uint32_t events)
{
	if (f->connecting) {
		int e = 0;
		socklen_t el = sizeof(e);
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &e, &el);
		f->connecting = false;
		if (e != 0)
			f->base.err = -e;
		else
			f->base.s->c.tcp_established++;
		flow_watch(f, EPOLLIN | EPOLLRDHUP);
		if (!f->app_closed)
			f->base.fn(&f->base, f->base.arg);
		return;
	}
	if ((events & EPOLLOUT) && flush_pending(f)) {
		flow_watch(f, EPOLLIN | EPOLLRDHUP);
		if (f->app_closed) {
			flow_destroy(f);
			return;
		}
		f->want_write = false;
	}
	if (!f->app_closed)
		f->base.fn(&f->base, f->base.arg);
}

struct fj_flow *
fj_sock_connect(struct fj_stack *s, const struct fj_addr *to, fj_flow_fn fn, void *arg)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(to->port),
				 .sin_addr.s_addr = htonl(to->ip) };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(to->port) };
	bool v6 = to->family == FJ_AF_INET6;
	int one = 1;
	struct fj_sock_flow *f = calloc(1, sizeof(*f));
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	memcpy(&a6.sin6_addr, to->ip6, 16);
	if (f == NULL || fd < 0)
		goto fail;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((v6 ? connect(fd, (struct sockaddr *)&a6, sizeof(a6))
		: connect(fd, (struct sockaddr *)&a, sizeof(a))) < 0 &&
	    errno != EINPROGRESS)
		goto fail;
	f->base.s = s;
	f->base.fn = fn;
	f->base.arg = arg;
	f->fd = fd;
	f->connecting = true;
	f->peer = *to;
	f->events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
	struct epoll_event ev = { .events = f->events, .data.u64 = FJ_EP_TAG(f, FJ_EP_FLOW) };
	if (epoll_ctl(s->sock->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		goto fail;
	flow_link(s->sock, f);
	s->c.tcp_active_opens++;
	return &f->base;
fail:;
	int e = errno;
	if (fd >= 0)
		close(fd);
	free(f);
	errno = e;
	return NULL;
}

enum fj_read
fj_sock_read(struct fj_flow *base, struct fj_buf **buf)
{
	struct fj_sock_flow *f = sock_flow(base);
	struct fj_stack *s = f->base.s;

	if (f->base.err)
		return FJ_ERROR;
	if (f->fin_rcvd)
		return FJ_EOF;
	/*
	 * Read into as many segments as the last read filled (1 to FJ_SOCK_IOV):
	 * one for request/response traffic, up to a large read for a stream,
	 * as a kernel-sockets program sizes its buffer.
	 */
	struct rte_mbuf *m[FJ_SOCK_IOV];
	struct iovec iov[FJ_SOCK_IOV];
	unsigned nseg = f->rd_segs ? f->rd_segs : 1;
	if (rte_pktmbuf_alloc_bulk(s->mp, m, nseg) != 0) {
		s->c.drops[FJ_DROP_NO_MBUF]++;
		return FJ_AGAIN;
	}
	for (unsigned i = 0; i < nseg; i++) {
		iov[i].iov_base = rte_pktmbuf_mtod(m[i], void *);
		iov[i].iov_len = rte_pktmbuf_tailroom(m[i]);
	}
	ssize_t n = readv(f->fd, iov, (int)nseg);
	if (n > 0) {
		size_t left = (size_t)n;
		unsigned used = 0;
		for (; used < nseg && left > 0; used++) {
			uint16_t k = (uint16_t)RTE_MIN(left, iov[used].iov_len);
			rte_pktmbuf_append(m[used], k);
			left -= k;
			if (used > 0) {
				m[used - 1]->next = m[used];
				m[0]->nb_segs++;
				m[0]->pkt_len += k;
			}
		}
		for (unsigned i = used; i < nseg; i++)
			rte_pktmbuf_free(m[i]);
		if (used == nseg && m[nseg - 1]->data_len == iov[nseg - 1].iov_len)
			f->rd_segs = (uint8_t)RTE_MIN(2 * nseg, FJ_SOCK_IOV);
		else if (used * 2 <= nseg)
			f->rd_segs = (uint8_t)RTE_MAX(nseg / 2, 1u);
		s->c.tcp_rx_bytes += (uint64_t)n;
		*buf = (struct fj_buf *)m[0];
		return FJ_DATA;
	}
	for (unsigned i = 0; i < nseg; i++)
		rte_pktmbuf_free(m[i]);
	if (n == 0) {
		f->fin_rcvd = true;
		return FJ_EOF;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return FJ_AGAIN;
	f->base.err = -errno;
	return FJ_ERROR;
}

int
fj_sock_write(struct fj_flow *base, struct fj_buf *buf)
{
	struct fj_sock_flow *f = sock_flow(base);
	struct rte_mbuf *m = (struct rte_mbuf *)buf;

	if (f->base.err || f->app_closed) {
		rte_pktmbuf_free(m);
		return f->base.err ? f->base.err : -EPIPE;
	}
	if (f->pending != NULL) {
		f->want_write = true;
		return -EAGAIN;
	}
	f->base.s->c.tcp_tx_bytes += m->pkt_len;
	f->pending = m;
	if (!flush_pending(f))
		flow_watch(f, EPOLLIN | EPOLLRDHUP | EPOLLOUT);
	return 0;
}

void
fj_sock_close_flow(struct fj_flow *base)
{
	struct fj_sock_flow *f = sock_flow(base);

	f->app_closed = true;
	if (f->pending != NULL && !f->base.err)
		return; /* closed once what is queued has gone */
	flow_destroy(f);
}

void
fj_sock_abort(struct fj_flow *base)
{
	struct fj_sock_flow *f = sock_flow(base);
	struct linger lg = { 1, 0 };

	/* SO_LINGER 0: close sends RST. */
	setsockopt(f->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	flow_destroy(f);
}

int
fj_sock_set_keepalive(struct fj_flow *base, unsigned idle_s, unsigned interval_s, unsigned probes)
{
	struct fj_sock_flow *f = sock_flow(base);
	int on = idle_s != 0, idle = (int)idle_s, intvl = (int)interval_s, cnt = (int)probes;

	if (setsockopt(f->fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) < 0)
		return -errno;
	if (on && (setsockopt(f->fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) < 0 ||
		   setsockopt(f->fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl)) < 0 ||
		   setsockopt(f->fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)) < 0))
		return -errno;
	return 0;
}

int
fj_sock_shutdown(struct fj_flow *f)
{
	return shutdown(sock_flow(f)->fd, SHUT_WR) < 0 ? -errno : 0;
}

void
fj_sock_set_nagle(struct fj_flow *f, bool on)
{
	int v = !on;

	setsockopt(sock_flow(f)->fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v));
}

struct fj_addr
fj_sock_peer(const struct fj_flow *f)
{
	return ((const struct fj_sock_flow *)f)->peer;
}

void
fj_sock_tcp_close_all(struct fj_stack *s)
{
	struct fj_sock *k = s->sock;

	while (k->flows != NULL)
		flow_destroy(k->flows);
	while (k->listeners != NULL) {
		struct fj_sock_listener *l = k->listeners;
		k->listeners = l->next;
		fj_sock_close_fd(s, l->fd);
		free(l);
	}
}
