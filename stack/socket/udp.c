/* SPDX-License-Identifier: BSD-3-Clause */
/* UDP on kernel sockets: a socket per bound port, datagrams by recvmmsg/sendmsg. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "socket.h"

struct fj_udp *
fj_sock_udp_bind(struct fj_stack *s, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(s->ip) };
	int one = 1, e;
	struct fj_sock_udp *u = calloc(1, sizeof(*u));
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (u == NULL || fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* ICMP errors about what it sends, with whom the datagram was for,
	 * on the socket's error queue (ip(7)); read in fj_sock_udp_readable. */
	setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	if (fj_sock_reuseport(s, fd) < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    fj_sock_reuseport_steer(s, fd) < 0)
		goto fail;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = FJ_EP_TAG(u, FJ_EP_UDP) };
	if (epoll_ctl(s->sock->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		goto fail;
	u->base.s = s;
	u->base.port = port;
	u->fd = fd;
	return &u->base;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	free(u);
	errno = e;
	return NULL;
}

void
fj_sock_udp_close(struct fj_udp *base)
{
	struct fj_sock_udp *u = (struct fj_sock_udp *)base;

	fj_sock_close_fd(base->s, u->fd);
	free(u);
}

int
fj_sock_udp_send(struct fj_udp *base, struct rte_mbuf *m, const struct fj_addr *to)
{
	struct fj_sock_udp *u = (struct fj_sock_udp *)base;
	struct fj_stack *s = base->s;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(to->port),
				 .sin_addr.s_addr = htonl(to->ip) };
	struct iovec iov[RTE_MBUF_MAX_NB_SEGS];
	struct msghdr mh = { .msg_name = &a, .msg_namelen = sizeof(a), .msg_iov = iov };
	uint32_t len = rte_pktmbuf_pkt_len(m);

	/* (IPv6 on kernel sockets: not yet) */
	if (to->family != FJ_AF_INET) {
		rte_pktmbuf_free(m);
		s->c.drops[FJ_DROP_NO_ROUTE]++;
		return -EAFNOSUPPORT;
	}
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

/* The kernel's ICMP errors about @u's datagrams: the last one is kept
 * (fj_udp_error), with the datagram's destination. */
static void
udp_errors(struct fj_stack *s, struct fj_sock_udp *u)
{
	for (int i = 0; i < 16; i++) {
		struct sockaddr_in to;
		union {
			char b[CMSG_SPACE(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in))];
			struct cmsghdr align;
		} ctl;
		char byte;
		struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
		struct msghdr mh = { .msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = &iov,
				     .msg_iovlen = 1, .msg_control = ctl.b,
				     .msg_controllen = sizeof(ctl.b) };
		if (recvmsg(u->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level != IPPROTO_IP || c->cmsg_type != IP_RECVERR)
				continue;
			struct sock_extended_err ee;
			memcpy(&ee, CMSG_DATA(c), sizeof(ee));
			if (ee.ee_origin != SO_EE_ORIGIN_ICMP || ee.ee_errno == 0)
				continue;
			u->base.err = -(int)ee.ee_errno;
			u->base.err_to = (struct fj_addr){ .ip = ntohl(to.sin_addr.s_addr),
							   .port = ntohs(to.sin_port) };
			s->c.udp_icmp_errors++;
		}
	}
}

#define SPILL 65536

/* @n bytes at @p behind @m, in a chain of buffers. */
static int
spill_chain(struct fj_stack *s, struct rte_mbuf *m, const uint8_t *p, uint32_t n)
{
	struct rte_mbuf *tail = (struct rte_mbuf *)fj_buf_alloc(s, n);

	if (tail == NULL)
		return -ENOBUFS;
	for (struct rte_mbuf *seg = tail; seg != NULL; seg = seg->next) {
		memcpy(rte_pktmbuf_mtod(seg, void *), p, seg->data_len);
		p += seg->data_len;
	}
	if (rte_pktmbuf_chain(m, tail) < 0) {
		rte_pktmbuf_free(tail);
		return -ENOBUFS;
	}
	return 0;
}

/* Read what is waiting on @u's socket, a batch at a time, into mbufs. */
void
fj_sock_udp_readable(struct fj_stack *s, struct fj_sock_udp *u)
{
	struct rte_mbuf *m[FJ_BURST];
	struct mmsghdr msgs[FJ_BURST];
	struct iovec iov[FJ_BURST][2];
	struct sockaddr_in from[FJ_BURST];

	/* First: a pending error would fail the reads below. */
	udp_errors(s, u);
	/* A datagram larger than a buffer (up to 65,507 bytes, maybe sent
	 * in fragments) goes on in a spill area, then into a chain. */
	if (s->sock->udp_spill == NULL && (s->sock->udp_spill = malloc(FJ_BURST * SPILL)) == NULL) {
		s->c.drops[FJ_DROP_NO_MBUF]++;
		return;
	}
	for (int round = 0; round < 8; round++) {
		if (rte_pktmbuf_alloc_bulk(s->mp, m, FJ_BURST) < 0) {
			s->c.drops[FJ_DROP_NO_MBUF]++;
			return;
		}
		for (int i = 0; i < FJ_BURST; i++) {
			iov[i][0].iov_base = rte_pktmbuf_mtod(m[i], void *);
			iov[i][0].iov_len = rte_pktmbuf_tailroom(m[i]);
			iov[i][1].iov_base = s->sock->udp_spill + (size_t)i * SPILL;
			iov[i][1].iov_len = SPILL;
			memset(&msgs[i], 0, sizeof(msgs[i]));
			msgs[i].msg_hdr.msg_iov = iov[i];
			msgs[i].msg_hdr.msg_iovlen = 2;
			msgs[i].msg_hdr.msg_name = &from[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
		int n = recvmmsg(u->fd, msgs, FJ_BURST, MSG_DONTWAIT, NULL);
		int got = n < 0 ? 0 : n;
		for (int i = got; i < FJ_BURST; i++)
			rte_pktmbuf_free(m[i]);
		for (int i = 0; i < got; i++) {
			struct fj_addr a = { .ip = ntohl(from[i].sin_addr.s_addr), .port = ntohs(from[i].sin_port) };
			if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
				s->c.drops[FJ_DROP_OVERSIZE]++;
				rte_pktmbuf_free(m[i]);
				continue;
			}
			uint32_t len = msgs[i].msg_len, first = (uint32_t)iov[i][0].iov_len;
			rte_pktmbuf_append(m[i], (uint16_t)RTE_MIN(len, first));
			if (len > first && spill_chain(s, m[i], iov[i][1].iov_base, len - first) < 0) {
				s->c.drops[FJ_DROP_NO_MBUF]++;
				rte_pktmbuf_free(m[i]);
				continue;
			}
			s->c.udp_rx++;
			s->c.udp_rx_bytes += msgs[i].msg_len;
			u->base.recv(&u->base, (struct fj_buf *)m[i], &a, u->base.arg);
		}
		if (got < FJ_BURST)
			return;
	}
}
