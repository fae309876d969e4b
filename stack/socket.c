/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel-sockets backend (`--net socket`): the same flow API over
 * nonblocking kernel sockets and epoll, on the calling thread. Packet
 * buffers are still mbufs from the stack's pool, so applications see the
 * same buffers either way.
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

#include <rte_cycles.h>

#include "stack_impl.h"

#define MAX_EVENTS 64
#define SOCK_IOV 32u /* segments per read or send call (64 KiB) */

/* What an epoll event is for: the low bits of its pointer. */
enum { EP_UDP = 0, EP_LISTEN = 1, EP_FLOW = 2 };
#define EP_TAG(p, t) ((uint64_t)(uintptr_t)(p) | (t))
#define EP_PTR(v) ((void *)(uintptr_t)((v) & ~(uint64_t)3))
#define EP_KIND(v) ((int)((v) & 3))

int
fj_socket_open(struct fj_stack *s)
{
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0) {
		fprintf(stderr, "fjord: epoll: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

void
fj_socket_close_fd(struct fj_stack *s, int fd)
{
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
}

void
fj_socket_close(struct fj_stack *s)
{
	if (s->epfd >= 0)
		close(s->epfd);
	s->epfd = -1;
}

int
fj_socket_udp_bind(struct fj_udp *u)
{
	struct fj_stack *s = u->s;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(u->port),
				 .sin_addr.s_addr = htonl(s->ip) };
	int one = 1;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EP_TAG(u, EP_UDP) };
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	u->fd = fd;
	return 0;
}

int
fj_socket_udp_send(struct fj_udp *u, struct rte_mbuf *m, const struct fj_addr *to)
{
	struct fj_stack *s = u->s;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(to->port),
				 .sin_addr.s_addr = htonl(to->ip) };
	struct iovec iov[RTE_MBUF_MAX_NB_SEGS];
	struct msghdr mh = { .msg_name = &a, .msg_namelen = sizeof(a), .msg_iov = iov };
	uint32_t len = rte_pktmbuf_pkt_len(m);

	for (struct rte_mbuf *seg = m; seg != NULL && mh.msg_iovlen < RTE_MBUF_MAX_NB_SEGS;
	     seg = seg->next) {
		iov[mh.msg_iovlen].iov_base = rte_pktmbuf_mtod(seg, void *);
		iov[mh.msg_iovlen].iov_len = seg->data_len;
		mh.msg_iovlen++;
	}
	ssize_t n = sendmsg(u->fd, &mh, MSG_DONTWAIT);
	int rc = n < 0 ? -errno : 0;
	rte_pktmbuf_free(m);
	if (rc < 0) {
		s->c.drops[rc == -EMSGSIZE ? FJ_DROP_OVERSIZE : FJ_DROP_TX_FULL]++;
		return rc;
	}
	s->c.udp_tx++;
	s->c.udp_tx_bytes += len;
	return 0;
}

/* Read what is waiting on @u's socket, a batch at a time, into mbufs. */
static void
udp_readable(struct fj_stack *s, struct fj_udp *u)
{
	struct rte_mbuf *m[FJ_BURST];
	struct mmsghdr msgs[FJ_BURST];
	struct iovec iov[FJ_BURST];
	struct sockaddr_in from[FJ_BURST];

	for (int round = 0; round < 8; round++) {
		if (rte_pktmbuf_alloc_bulk(s->mp, m, FJ_BURST) < 0) {
			s->c.drops[FJ_DROP_NO_MBUF]++;
			return;
		}
		for (int i = 0; i < FJ_BURST; i++) {
			iov[i].iov_base = rte_pktmbuf_mtod(m[i], void *);
			iov[i].iov_len = rte_pktmbuf_tailroom(m[i]);
			memset(&msgs[i], 0, sizeof(msgs[i]));
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &from[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
		int n = recvmmsg(u->fd, msgs, FJ_BURST, MSG_DONTWAIT, NULL);
		int got = n < 0 ? 0 : n;
		for (int i = got; i < FJ_BURST; i++)
			rte_pktmbuf_free(m[i]);
		for (int i = 0; i < got; i++) {
			struct fj_addr a = { ntohl(from[i].sin_addr.s_addr), ntohs(from[i].sin_port) };
			if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
				s->c.drops[FJ_DROP_OVERSIZE]++;
				rte_pktmbuf_free(m[i]);
				continue;
			}
			rte_pktmbuf_append(m[i], (uint16_t)msgs[i].msg_len);
			s->c.udp_rx++;
			s->c.udp_rx_bytes += msgs[i].msg_len;
			u->recv(u, (struct fj_buf *)m[i], &a, u->arg);
		}
		if (got < FJ_BURST)
			return;
	}
}

/* ------------------------------------------------------ TCP */

struct fj_listener *
fj_socket_listen(struct fj_stack *s, uint16_t port, fj_flow_fn fn, void *arg)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(s->ip) };
	int one = 1;
	struct fj_listener *l = calloc(1, sizeof(*l));
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (l == NULL || fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1024) < 0)
		goto fail;
	l->s = s;
	l->port = port;
	l->fn = fn;
	l->arg = arg;
	l->fd = fd;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EP_TAG(l, EP_LISTEN) };
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		goto fail;
	return l;
fail:;
	int e = errno;
	if (fd >= 0)
		close(fd);
	free(l);
	errno = e;
	return NULL;
}

static void
flow_watch(struct fj_flow *f, uint32_t events)
{
	if (f->events == events)
		return;
	struct epoll_event ev = { .events = events, .data.u64 = EP_TAG(f, EP_FLOW) };
	epoll_ctl(f->s->epfd, EPOLL_CTL_MOD, f->fd, &ev);
	f->events = events;
}

static void
flow_destroy(struct fj_flow *f)
{
	fj_socket_close_fd(f->s, f->fd);
	rte_pktmbuf_free(f->pending);
	free(f);
}

static void
tcp_accept(struct fj_stack *s, struct fj_listener *l)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_in a;
		socklen_t al = sizeof(a);
		int one = 1;
		int fd = accept4(l->fd, (struct sockaddr *)&a, &al,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct fj_flow *f = calloc(1, sizeof(*f));
		if (f == NULL) {
			close(fd);
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		f->s = s;
		f->l = l;
		f->fn = l->fn;
		f->arg = l->arg;
		f->fd = fd;
		f->key.raddr = ntohl(a.sin_addr.s_addr);
		f->key.rport = ntohs(a.sin_port);
		f->key.lport = l->port;
		f->events = EPOLLIN | EPOLLRDHUP;
		struct epoll_event ev = { .events = f->events, .data.u64 = EP_TAG(f, EP_FLOW) };
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(f);
			continue;
		}
		s->c.tcp_established++;
		l->fn(f, l->arg);
	}
}

/* Hand the kernel what waits, a whole chain per call; true when nothing is left. */
static bool
flush_pending(struct fj_flow *f)
{
	while (f->pending != NULL) {
		struct iovec iov[SOCK_IOV];
		struct msghdr mh = { .msg_iov = iov };
		for (struct rte_mbuf *m = f->pending; m != NULL && mh.msg_iovlen < SOCK_IOV;
		     m = m->next) {
			iov[mh.msg_iovlen].iov_base = rte_pktmbuf_mtod(m, void *);
			iov[mh.msg_iovlen++].iov_len = m->data_len;
		}
		ssize_t n = sendmsg(f->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return false;
			f->err = -errno;
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

static void
tcp_event(struct fj_flow *f, uint32_t events)
{
	if (f->connecting) {
		int e = 0;
		socklen_t el = sizeof(e);
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &e, &el);
		f->connecting = false;
		if (e != 0)
			f->err = -e;
		else
			f->s->c.tcp_established++;
		flow_watch(f, EPOLLIN | EPOLLRDHUP);
		if (!f->app_closed)
			f->fn(f, f->arg);
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
		f->fn(f, f->arg);
}

struct fj_flow *
fj_socket_connect(struct fj_stack *s, const struct fj_addr *to, fj_flow_fn fn, void *arg)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(to->port),
				 .sin_addr.s_addr = htonl(to->ip) };
	int one = 1;
	struct fj_flow *f = calloc(1, sizeof(*f));
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (f == NULL || fd < 0)
		goto fail;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 && errno != EINPROGRESS)
		goto fail;
	f->s = s;
	f->fn = fn;
	f->arg = arg;
	f->fd = fd;
	f->connecting = true;
	f->key.raddr = to->ip;
	f->key.rport = to->port;
	f->events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
	struct epoll_event ev = { .events = f->events, .data.u64 = EP_TAG(f, EP_FLOW) };
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		goto fail;
	s->c.tcp_active_opens++;
	return f;
fail:;
	int e = errno;
	if (fd >= 0)
		close(fd);
	free(f);
	errno = e;
	return NULL;
}

enum fj_read
fj_socket_flow_read(struct fj_flow *f, struct fj_buf **buf)
{
	struct fj_stack *s = f->s;

	if (f->err)
		return FJ_ERROR;
	if (f->fin_rcvd)
		return FJ_EOF;
	/*
	 * Read into as many segments as the last read filled (1 to SOCK_IOV):
	 * one for request/response traffic, up to a large read for a stream,
	 * as a kernel-sockets program sizes its buffer.
	 */
	struct rte_mbuf *m[SOCK_IOV];
	struct iovec iov[SOCK_IOV];
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
			f->rd_segs = (uint8_t)RTE_MIN(2 * nseg, SOCK_IOV);
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
	f->err = -errno;
	return FJ_ERROR;
}

int
fj_socket_flow_write(struct fj_flow *f, struct fj_buf *buf)
{
	struct rte_mbuf *m = (struct rte_mbuf *)buf;

	if (f->err || f->app_closed) {
		rte_pktmbuf_free(m);
		return f->err ? f->err : -EPIPE;
	}
	if (f->pending != NULL) {
		f->want_write = true;
		return -EAGAIN;
	}
	f->s->c.tcp_tx_bytes += m->pkt_len;
	f->pending = m;
	if (!flush_pending(f))
		flow_watch(f, EPOLLIN | EPOLLRDHUP | EPOLLOUT);
	return 0;
}

void
fj_socket_flow_close(struct fj_flow *f)
{
	f->app_closed = true;
	if (f->pending != NULL && !f->err)
		return; /* closed once what is queued has gone */
	flow_destroy(f);
}

void
fj_socket_flow_abort(struct fj_flow *f)
{
	struct linger lg = { 1, 0 };

	/* SO_LINGER 0: close sends RST. */
	setsockopt(f->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	flow_destroy(f);
}

int
fj_socket_flow_keepalive(struct fj_flow *f, unsigned idle_s, unsigned interval_s, unsigned probes)
{
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
fj_socket_run(struct fj_stack *s)
{
	struct epoll_event ev[MAX_EVENTS];
	uint64_t prev = fj_now(s);

	while (!s->stop) {
		uint64_t now = fj_now(s), next = fj_stack_next_timer(s);
		uint64_t waited_from = now;
		int timeout = 100;

		if (next != UINT64_MAX) {
			uint64_t ms = next > now ? (next - now) * 1000 / s->hz + 1 : 0;
			timeout = (int)RTE_MIN(ms, (uint64_t)100);
		}
		/* Busy polling: never sleep, as the direct backend never does. */
		int n = epoll_wait(s->epfd, ev, MAX_EVENTS, s->busy_poll ? 0 : timeout);
		if (n < 0 && errno != EINTR)
			return -errno;
		uint64_t woke = fj_now(s);
		for (int i = 0; i < n; i++) {
			void *p = EP_PTR(ev[i].data.u64);
			switch (EP_KIND(ev[i].data.u64)) {
			case EP_UDP:
				udp_readable(s, p);
				break;
			case EP_LISTEN:
				tcp_accept(s, p);
				break;
			default:
				tcp_event(p, ev[i].events);
			}
		}
		now = fj_now(s);
		if (now >= fj_stack_next_timer(s))
			fj_stack_timers(s, now);
		/* Busy: everything but the wait in epoll; when polling, the
		 * turns that found something (as on the direct backend). */
		s->c.loop_cycles += now - prev;
		if (!s->busy_poll)
			s->c.loop_busy_cycles += (waited_from - prev) + (now - woke);
		else if (n > 0)
			s->c.loop_busy_cycles += now - prev;
		prev = now;
	}
	return 0;
}
