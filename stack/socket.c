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
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_cycles.h>

#include "stack_impl.h"

#define MAX_EVENTS 64

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
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = u };
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

int
fj_socket_run(struct fj_stack *s)
{
	struct epoll_event ev[MAX_EVENTS];

	while (!s->stop) {
		uint64_t now = fj_now(s), next = fj_stack_next_timer(s);
		int timeout = 100;

		if (next != UINT64_MAX) {
			uint64_t ms = next > now ? (next - now) * 1000 / s->hz + 1 : 0;
			timeout = (int)RTE_MIN(ms, (uint64_t)100);
		}
		int n = epoll_wait(s->epfd, ev, MAX_EVENTS, timeout);
		if (n < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < n; i++)
			udp_readable(s, ev[i].data.ptr);
		now = fj_now(s);
		if (now >= fj_stack_next_timer(s))
			fj_stack_timers(s, now);
	}
	return 0;
}
