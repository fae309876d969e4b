/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fjord-kernel-echo on epoll: level-triggered, non-blocking sockets; a
 * batch of datagrams in one recvmmsg goes back in one sendmmsg; a TCP read
 * is sent back at once from the thread's buffer, and only what the socket
 * did not take is copied aside (the connection then waits for EPOLLOUT and
 * reads nothing more until it is sent).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <x86intrin.h>

#include "kecho.h"

#define UDP_BATCH 32
#define UDP_SLOT 65536
#define TCP_BUF 65536
#define EVENTS 64

enum kind { K_UDP, K_LISTEN, K_DISCARD_LISTEN, K_STOP, K_CONN };

struct item {
	enum kind kind;
	int fd;
};

struct conn {
	struct item it;
	bool discard;
	struct conn *prev, *next; /* the thread's connections */
	uint8_t *pend;            /* what send did not take */
	uint32_t pend_off, pend_len;
};

struct ep {
	struct kecho_thread *t;
	struct kecho_stats *st;
	int fd;
	struct item udp, listen, discard, stop;
	struct conn *conns;
	uint8_t *tcp_buf;
	uint8_t *udp_buf;
	struct mmsghdr msgs[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	struct sockaddr_in from[UDP_BATCH];
};

static int
ep_ctl(struct ep *e, int op, struct item *it, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = it };
	return epoll_ctl(e->fd, op, it->fd, &ev);
}

/* ------------------------------------------------------ UDP */

static unsigned
udp_recv_batch(struct ep *e)
{
	for (unsigned i = 0; i < UDP_BATCH; i++) {
		e->iov[i] = (struct iovec){ .iov_base = e->udp_buf + (size_t)i * UDP_SLOT,
					    .iov_len = UDP_SLOT };
		e->msgs[i].msg_hdr = (struct msghdr){ .msg_name = &e->from[i],
						      .msg_namelen = sizeof(e->from[i]),
						      .msg_iov = &e->iov[i], .msg_iovlen = 1 };
	}
	int n = recvmmsg(e->udp.fd, e->msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			kecho_count_errno(e->st, errno);
		return 0;
	}
	return (unsigned)n;
}

/* Send datagrams [0, n) back where they came from; a refused one is
 * counted and skipped. */
static void
udp_send_batch(struct ep *e, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		e->iov[i].iov_len = e->msgs[i].msg_len;
		e->st->requests++;
		e->st->bytes += e->msgs[i].msg_len;
	}
	for (unsigned done = 0; done < n;) {
		int k = sendmmsg(e->udp.fd, e->msgs + done, n - done, MSG_DONTWAIT);
		if (k > 0) {
			done += (unsigned)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		kecho_count_errno(e->st, k < 0 ? errno : EIO);
		done++;
	}
}

static void
udp_readable(struct ep *e)
{
	for (unsigned round = 0; round < 4; round++) {
		unsigned n = udp_recv_batch(e);
		if (n > 0)
			udp_send_batch(e, n);
		if (n < UDP_BATCH)
			return;
	}
}

/* ------------------------------------------------------ TCP */

static void
conn_close(struct ep *e, struct conn *c)
{
	close(c->it.fd); /* leaves the epoll set with it */
	if (c->prev)
		c->prev->next = c->next;
	else
		e->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c->pend);
	free(c);
	e->st->closes++;
}

static void
conn_failed(struct ep *e, struct conn *c, int err)
{
	kecho_count_errno(e->st, err);
	conn_close(e, c);
}

static void
accept_all(struct ep *e, bool discard)
{
	int lfd = discard ? e->discard.fd : e->listen.fd;
	for (unsigned n = 0; n < 64; n++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				kecho_count_errno(e->st, errno);
			return;
		}
		struct conn *c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			e->st->errors++;
			continue;
		}
		*c = (struct conn){ .it = { K_CONN, fd }, .discard = discard, .next = e->conns };
		if (e->conns)
			e->conns->prev = c;
		e->conns = c;
		kecho_set_nodelay(fd);
		kecho_busy_poll_opts(e->t->o, fd);
		e->st->accepts++;
		if (ep_ctl(e, EPOLL_CTL_ADD, &c->it, EPOLLIN) < 0)
			conn_failed(e, c, errno);
	}
}

/* Keep the @len bytes send did not take and wait for room. */
static int
hold_rest(struct ep *e, struct conn *c, const uint8_t *p, uint32_t len)
{
	c->pend = malloc(len);
	if (c->pend == NULL)
		return ENOMEM;
	memcpy(c->pend, p, len);
	c->pend_off = 0;
	c->pend_len = len;
	return ep_ctl(e, EPOLL_CTL_MOD, &c->it, EPOLLOUT) < 0 ? errno : 0;
}

/* Echo @len bytes of the thread's buffer: 0, or an errno. */
static int
echo_back(struct ep *e, struct conn *c, uint32_t len)
{
	ssize_t k = send(c->it.fd, e->tcp_buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (k < 0 && errno != EAGAIN)
		return errno;
	if (k < 0)
		k = 0;
	return (uint32_t)k == len ? 0 : hold_rest(e, c, e->tcp_buf + k, len - (uint32_t)k);
}

static void
conn_readable(struct ep *e, struct conn *c)
{
	/* The discard port drains more per turn: nothing goes back. */
	for (unsigned n = 0; n < (c->discard ? 8u : 1u); n++) {
		ssize_t k = recv(c->it.fd, e->tcp_buf, TCP_BUF, MSG_DONTWAIT);
		if (k < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (k < 0) {
			conn_failed(e, c, errno);
			return;
		}
		if (k == 0) {
			conn_close(e, c); /* nothing is pending while reading */
			return;
		}
		e->st->bytes += (uint64_t)k;
		if (c->discard)
			continue;
		e->st->requests++;
		int err = echo_back(e, c, (uint32_t)k);
		if (err)
			conn_failed(e, c, err);
		return;
	}
}

static void
conn_writable(struct ep *e, struct conn *c)
{
	ssize_t k = send(c->it.fd, c->pend + c->pend_off, c->pend_len - c->pend_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
	if (k < 0 && errno == EAGAIN)
		return;
	if (k < 0) {
		conn_failed(e, c, errno);
		return;
	}
	c->pend_off += (uint32_t)k;
	if (c->pend_off < c->pend_len)
		return;
	free(c->pend);
	c->pend = NULL;
	if (ep_ctl(e, EPOLL_CTL_MOD, &c->it, EPOLLIN) < 0)
		conn_failed(e, c, errno);
}

static void
conn_event(struct ep *e, struct conn *c, uint32_t events)
{
	if (c->pend != NULL) {
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			conn_writable(e, c);
		return;
	}
	conn_readable(e, c);
}

/* ------------------------------------------------------ the loop */

static bool
dispatch(struct ep *e, const struct epoll_event *ev)
{
	struct item *it = ev->data.ptr;
	switch (it->kind) {
	case K_UDP:
		udp_readable(e);
		break;
	case K_LISTEN:
	case K_DISCARD_LISTEN:
		accept_all(e, it->kind == K_DISCARD_LISTEN);
		break;
	case K_STOP:
		return false;
	case K_CONN:
		conn_event(e, (struct conn *)it, ev->events);
		break;
	}
	return true;
}

static int
ep_open(struct ep *e, struct kecho_thread *t)
{
	*e = (struct ep){ .t = t, .st = &t->st, .udp = { K_UDP, t->udp },
			  .listen = { K_LISTEN, t->tcp }, .discard = { K_DISCARD_LISTEN, t->discard },
			  .stop = { K_STOP, t->stop_fd } };
	e->fd = epoll_create1(EPOLL_CLOEXEC);
	e->tcp_buf = malloc(TCP_BUF);
	e->udp_buf = malloc((size_t)UDP_BATCH * UDP_SLOT);
	if (e->fd < 0 || e->tcp_buf == NULL || e->udp_buf == NULL ||
	    ep_ctl(e, EPOLL_CTL_ADD, &e->udp, EPOLLIN) < 0 ||
	    ep_ctl(e, EPOLL_CTL_ADD, &e->listen, EPOLLIN) < 0 ||
	    ep_ctl(e, EPOLL_CTL_ADD, &e->discard, EPOLLIN) < 0 ||
	    ep_ctl(e, EPOLL_CTL_ADD, &e->stop, EPOLLIN) < 0) {
		fprintf(stderr, "fjord-kernel-echo: thread %u: epoll set-up: %s\n", t->idx,
			strerror(errno));
		return -1;
	}
	return 0;
}

static void
ep_close(struct ep *e)
{
	while (e->conns)
		conn_close(e, e->conns);
	if (e->fd >= 0)
		close(e->fd);
	free(e->tcp_buf);
	free(e->udp_buf);
}

/* One turn; false when stopping or epoll failed (@rc set). */
static bool
turn(struct ep *e, int timeout, int *rc)
{
	struct epoll_event ev[EVENTS];
	uint64_t c0 = timeout == 0 ? __rdtsc() : 0;
	int n = epoll_wait(e->fd, ev, EVENTS, timeout);

	if (n < 0 && errno != EINTR) {
		fprintf(stderr, "fjord-kernel-echo: epoll_wait: %s\n", strerror(errno));
		*rc = -1;
		return false;
	}
	for (int i = 0; i < n; i++)
		if (!dispatch(e, &ev[i]))
			return false;
	if (timeout == 0 && n > 0)
		e->st->busy_cycles += __rdtsc() - c0;
	return !atomic_load_explicit(&kecho_stop, memory_order_relaxed);
}

int
kecho_run_epoll(struct kecho_thread *t)
{
	struct ep *e = calloc(1, sizeof(*e));
	int rc = 0;

	if (e == NULL)
		return -1;
	if (ep_open(e, t) == 0) {
		int timeout = t->o->mode == MODE_EPOLL_BUSY ? 0 : -1;
		kecho_ready(t);
		while (turn(e, timeout, &rc))
			;
	} else {
		rc = -1;
	}
	ep_close(e);
	free(e);
	return rc;
}
