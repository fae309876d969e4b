/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fjord-kernel-echo on io_uring. Each thread's ring has a multishot accept
 * per listening socket, a multishot recv per connection and a multishot
 * recvmsg on the UDP socket, all into provided buffer rings (one of 16 KiB
 * buffers for TCP, one of 4 KiB for datagrams). A received buffer is sent
 * back as it is and returned to its ring when the send completes; a
 * connection has one send in flight, the rest queued in order. A recv that
 * found no buffer (ENOBUFS) is counted and armed again once buffers are
 * back. Without multishot recvmsg (before Linux 6.0) datagrams fall back to
 * one recvmsg at a time, said once at start.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liburing.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <x86intrin.h>

#include "kecho.h"

#define RING_ENTRIES 4096
#define CQ_ENTRIES 16384
#define TCP_BUFS 1024
#define TCP_BUF_SIZE 16384
#define UDP_BUFS 1024
#define UDP_BUF_SIZE 4096
enum { BGID_TCP, BGID_UDP };

/* user_data: a pointer with its kind in the low bits. */
enum tag { T_ACCEPT = 1, T_RECV, T_SEND, T_URECV, T_USEND, T_STOP };
#define TAG_MASK 7u

struct bufring {
	struct io_uring_buf_ring *br;
	uint8_t *mem;
	unsigned entries, size, free;
	int bgid;
};

struct uconn {
	int fd;
	bool discard;
	bool recv_armed, sending, closing, starved;
	int q_head, q_tail;   /* queued TCP buffers, by id; -1: none */
	struct uconn *next_starved;
};

struct listener {
	int fd;
	bool discard;
};

struct udp_send { /* one per UDP buffer: the buffer's send */
	struct msghdr mh;
	struct iovec iov;
	struct sockaddr_in to;
};

struct ur {
	struct kecho_thread *t;
	struct kecho_stats *st;
	struct io_uring ring;
	struct bufring tcp, udp;
	struct listener echo, discard;
	/* per TCP buffer: its data and the next in its connection's queue */
	uint32_t q_off[TCP_BUFS], q_len[TCP_BUFS];
	int q_next[TCP_BUFS];
	struct udp_send usend[UDP_BUFS];
	struct msghdr urecv_mh;       /* the multishot recvmsg's template */
	struct sockaddr_in urecv_from; /* single-shot recvmsg's source */
	bool udp_multishot, udp_seen;
	struct uconn *starved;
	unsigned nconns;
};

static void *
ud_ptr(uint64_t ud)
{
	return (void *)(uintptr_t)(ud & ~(uint64_t)TAG_MASK);
}

static struct io_uring_sqe *
sqe_get(struct ur *u, void *p, enum tag tag)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	if (sqe == NULL) {
		io_uring_submit(&u->ring);
		sqe = io_uring_get_sqe(&u->ring);
	}
	if (sqe != NULL)
		io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)p | tag);
	else
		u->st->errors++;
	return sqe;
}

/* ------------------------------------------------------ buffer rings */

static int
bufring_open(struct ur *u, struct bufring *b, int bgid, unsigned entries, unsigned size)
{
	size_t ring_bytes = entries * sizeof(struct io_uring_buf);
	*b = (struct bufring){ .entries = entries, .size = size, .free = entries, .bgid = bgid };
	void *r = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	b->mem = malloc((size_t)entries * size);
	if (r == MAP_FAILED || b->mem == NULL)
		return -ENOMEM;
	b->br = r;
	struct io_uring_buf_reg reg = { .ring_addr = (uint64_t)(uintptr_t)r,
					.ring_entries = entries, .bgid = (uint16_t)bgid };
	int rc = io_uring_register_buf_ring(&u->ring, &reg, 0);
	if (rc < 0)
		return rc;
	io_uring_buf_ring_init(b->br);
	for (unsigned i = 0; i < entries; i++)
		io_uring_buf_ring_add(b->br, b->mem + (size_t)i * size, size, (unsigned short)i,
				      io_uring_buf_ring_mask(entries), (int)i);
	io_uring_buf_ring_advance(b->br, (int)entries);
	return 0;
}

static void
bufring_close(struct bufring *b)
{
	if (b->br != NULL)
		munmap(b->br, b->entries * sizeof(struct io_uring_buf));
	free(b->mem);
}

static uint8_t *
buf_addr(struct bufring *b, unsigned bid)
{
	return b->mem + (size_t)bid * b->size;
}

static void
buf_return(struct bufring *b, unsigned bid)
{
	io_uring_buf_ring_add(b->br, buf_addr(b, bid), b->size, (unsigned short)bid,
			      io_uring_buf_ring_mask(b->entries), 0);
	io_uring_buf_ring_advance(b->br, 1);
	b->free++;
}

/* ------------------------------------------------------ arming */

static void
arm_accept(struct ur *u, struct listener *l)
{
	struct io_uring_sqe *sqe = sqe_get(u, l, T_ACCEPT);
	if (sqe)
		io_uring_prep_multishot_accept(sqe, l->fd, NULL, NULL, SOCK_CLOEXEC);
}

static void
arm_recv(struct ur *u, struct uconn *c)
{
	struct io_uring_sqe *sqe = sqe_get(u, c, T_RECV);
	if (sqe == NULL)
		return;
	io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID_TCP;
	c->recv_armed = true;
}

static void
arm_udp(struct ur *u)
{
	struct io_uring_sqe *sqe = sqe_get(u, u, T_URECV);
	if (sqe == NULL)
		return;
	u->urecv_mh = (struct msghdr){ .msg_namelen = sizeof(struct sockaddr_in) };
	if (u->udp_multishot) {
		io_uring_prep_recvmsg_multishot(sqe, u->t->udp, &u->urecv_mh, 0);
	} else {
		u->urecv_mh.msg_name = &u->urecv_from;
		io_uring_prep_recvmsg(sqe, u->t->udp, &u->urecv_mh, 0);
	}
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID_UDP;
}

static void
arm_stop(struct ur *u)
{
	struct io_uring_sqe *sqe = sqe_get(u, NULL, T_STOP);
	if (sqe)
		io_uring_prep_poll_add(sqe, u->t->stop_fd, POLLIN);
}

/* ------------------------------------------------------ TCP */

static void
conn_maybe_free(struct ur *u, struct uconn *c)
{
	if (!c->closing || c->recv_armed || c->sending || c->starved)
		return;
	while (c->q_head >= 0) { /* dropped after an error */
		int bid = c->q_head;
		c->q_head = u->q_next[bid];
		buf_return(&u->tcp, (unsigned)bid);
	}
	close(c->fd);
	free(c);
	u->nconns--;
	u->st->closes++;
}

static void
send_head(struct ur *u, struct uconn *c)
{
	int bid = c->q_head;
	struct io_uring_sqe *sqe = sqe_get(u, c, T_SEND);
	if (sqe == NULL) {
		c->closing = true;
		return;
	}
	io_uring_prep_send(sqe, c->fd, buf_addr(&u->tcp, (unsigned)bid) + u->q_off[bid],
			   u->q_len[bid] - u->q_off[bid], MSG_NOSIGNAL);
	c->sending = true;
}

static void
enqueue(struct ur *u, struct uconn *c, unsigned bid, uint32_t len)
{
	u->q_off[bid] = 0;
	u->q_len[bid] = len;
	u->q_next[bid] = -1;
	if (c->q_head < 0)
		c->q_head = (int)bid;
	else
		u->q_next[c->q_tail] = (int)bid;
	c->q_tail = (int)bid;
	if (!c->sending)
		send_head(u, c);
}

static void
on_send(struct ur *u, struct uconn *c, int res)
{
	int bid = c->q_head;

	c->sending = false;
	if (res < 0) {
		kecho_count_errno(u->st, -res);
		c->closing = true;
		shutdown(c->fd, SHUT_RDWR); /* ends the recv too */
	} else if ((u->q_off[bid] += (uint32_t)res) >= u->q_len[bid]) {
		c->q_head = u->q_next[bid];
		buf_return(&u->tcp, (unsigned)bid);
	}
	if (c->q_head >= 0 && !(res < 0))
		send_head(u, c);
	else
		conn_maybe_free(u, c);
}

static void
recv_ended(struct ur *u, struct uconn *c, int res)
{
	c->recv_armed = false;
	if (res == -ENOBUFS && !c->closing) {
		u->st->enobufs++;
		c->starved = true;
		c->next_starved = u->starved;
		u->starved = c;
		return;
	}
	if (res > 0 && !c->closing) {
		arm_recv(u, c); /* ended without an error: go on */
		return;
	}
	if (res < 0) {
		kecho_count_errno(u->st, -res);
		shutdown(c->fd, SHUT_RDWR);
	}
	c->closing = true; /* EOF: what is queued still goes back */
	if (c->q_head < 0 || res < 0)
		conn_maybe_free(u, c);
}

static void
on_recv(struct ur *u, struct uconn *c, const struct io_uring_cqe *cqe)
{
	if (cqe->res > 0 && (cqe->flags & IORING_CQE_F_BUFFER)) {
		unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
		u->tcp.free--;
		u->st->bytes += (uint64_t)cqe->res;
		if (c->discard || c->closing) {
			buf_return(&u->tcp, bid);
		} else {
			u->st->requests++;
			enqueue(u, c, bid, (uint32_t)cqe->res);
		}
	}
	if (!(cqe->flags & IORING_CQE_F_MORE))
		recv_ended(u, c, cqe->res);
}

/* Connections that found no buffer, armed again once a quarter is back. */
static void
rearm_starved(struct ur *u)
{
	if (u->starved == NULL || u->tcp.free < u->tcp.entries / 4)
		return;
	while (u->starved) {
		struct uconn *c = u->starved;
		u->starved = c->next_starved;
		c->starved = false;
		if (c->closing)
			conn_maybe_free(u, c);
		else
			arm_recv(u, c);
	}
}

static void
on_accept(struct ur *u, struct listener *l, const struct io_uring_cqe *cqe)
{
	if (cqe->res >= 0) {
		struct uconn *c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(cqe->res);
			u->st->errors++;
		} else {
			*c = (struct uconn){ .fd = cqe->res, .discard = l->discard, .q_head = -1,
					     .q_tail = -1 };
			kecho_set_nodelay(c->fd);
			kecho_busy_poll_opts(u->t->o, c->fd);
			u->st->accepts++;
			u->nconns++;
			arm_recv(u, c);
		}
	} else if (cqe->res != -ECONNABORTED) {
		kecho_count_errno(u->st, -cqe->res);
	}
	if (!(cqe->flags & IORING_CQE_F_MORE))
		arm_accept(u, l);
}

/* ------------------------------------------------------ UDP */

/* The datagram in UDP buffer @bid: its payload and source, or NULL. */
static void *
udp_payload(struct ur *u, unsigned bid, int res, uint32_t *len, struct sockaddr_in *from)
{
	uint8_t *buf = buf_addr(&u->udp, bid);
	if (!u->udp_multishot) {
		*len = (uint32_t)res;
		*from = u->urecv_from;
		return buf;
	}
	struct io_uring_recvmsg_out *o = io_uring_recvmsg_validate(buf, res, &u->urecv_mh);
	if (o == NULL || (o->flags & MSG_TRUNC) || o->namelen < sizeof(*from))
		return NULL;
	memcpy(from, io_uring_recvmsg_name(o), sizeof(*from));
	*len = io_uring_recvmsg_payload_length(o, res, &u->urecv_mh);
	return io_uring_recvmsg_payload(o, &u->urecv_mh);
}

static void
udp_echo(struct ur *u, unsigned bid, int res)
{
	struct udp_send *s = &u->usend[bid];
	uint32_t len;
	void *p = udp_payload(u, bid, res, &len, &s->to);
	struct io_uring_sqe *sqe = p ? sqe_get(u, s, T_USEND) : NULL;

	if (sqe == NULL) {
		u->st->errors++; /* truncated, or no room to send */
		buf_return(&u->udp, bid);
		return;
	}
	u->st->requests++;
	u->st->bytes += len;
	s->iov = (struct iovec){ .iov_base = p, .iov_len = len };
	s->mh = (struct msghdr){ .msg_name = &s->to, .msg_namelen = sizeof(s->to),
				 .msg_iov = &s->iov, .msg_iovlen = 1 };
	io_uring_prep_sendmsg(sqe, u->t->udp, &s->mh, 0);
}

static void
on_urecv(struct ur *u, const struct io_uring_cqe *cqe)
{
	if (cqe->res == -EINVAL && u->udp_multishot && !u->udp_seen) {
		fprintf(stderr, "fjord-kernel-echo: thread %u: this kernel has no multishot "
				"recvmsg (Linux 6.0): UDP falls back to one recvmsg at a time\n",
			u->t->idx);
		u->udp_multishot = false;
		arm_udp(u);
		return;
	}
	u->udp_seen = true;
	if (cqe->res >= 0 && (cqe->flags & IORING_CQE_F_BUFFER)) {
		u->udp.free--;
		udp_echo(u, cqe->flags >> IORING_CQE_BUFFER_SHIFT, cqe->res);
	} else if (cqe->res < 0) {
		kecho_count_errno(u->st, -cqe->res);
	}
	if (!(cqe->flags & IORING_CQE_F_MORE))
		arm_udp(u);
}

static void
on_usend(struct ur *u, struct udp_send *s, int res)
{
	if (res < 0)
		kecho_count_errno(u->st, -res);
	buf_return(&u->udp, (unsigned)(s - u->usend));
}

/* ------------------------------------------------------ the loop */

/* One completion; false when stopping. */
static bool
complete(struct ur *u, const struct io_uring_cqe *cqe)
{
	void *p = ud_ptr(cqe->user_data);
	switch ((enum tag)(cqe->user_data & TAG_MASK)) {
	case T_ACCEPT:
		on_accept(u, p, cqe);
		break;
	case T_RECV:
		on_recv(u, p, cqe);
		break;
	case T_SEND:
		on_send(u, p, cqe->res);
		break;
	case T_URECV:
		on_urecv(u, cqe);
		break;
	case T_USEND:
		on_usend(u, p, cqe->res);
		break;
	case T_STOP:
		return false;
	}
	return true;
}

static int
ur_open(struct ur *u, struct kecho_thread *t)
{
	struct io_uring_params p = { .flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER |
					      IORING_SETUP_DEFER_TASKRUN,
				     .cq_entries = CQ_ENTRIES };
	int rc = io_uring_queue_init_params(RING_ENTRIES, &u->ring, &p);
	if (rc == -EINVAL) { /* before Linux 6.1 */
		p = (struct io_uring_params){ .flags = IORING_SETUP_CQSIZE, .cq_entries = CQ_ENTRIES };
		rc = io_uring_queue_init_params(RING_ENTRIES, &u->ring, &p);
	}
	if (rc < 0) {
		fprintf(stderr, "fjord-kernel-echo: thread %u: io_uring_queue_init: %s\n", t->idx,
			strerror(-rc));
		return -1;
	}
	io_uring_register_ring_fd(&u->ring); /* fewer fd look-ups; optional (5.18) */
	if ((rc = bufring_open(u, &u->tcp, BGID_TCP, TCP_BUFS, TCP_BUF_SIZE)) < 0 ||
	    (rc = bufring_open(u, &u->udp, BGID_UDP, UDP_BUFS, UDP_BUF_SIZE)) < 0) {
		fprintf(stderr, "fjord-kernel-echo: thread %u: provided buffer ring (Linux 5.19): "
				"%s\n", t->idx, strerror(-rc));
		return -1;
	}
	return 0;
}

/* Submit, and wait for or (spinning) look for completions; false when
 * stopping. */
static bool
ur_turn(struct ur *u, bool busy)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;
	uint64_t c0 = busy ? __rdtsc() : 0;
	bool go = true;

	if (busy)
		io_uring_submit_and_get_events(&u->ring);
	else
		io_uring_submit_and_wait(&u->ring, 1);
	io_uring_for_each_cqe(&u->ring, head, cqe) {
		n++;
		if (!complete(u, cqe))
			go = false;
	}
	io_uring_cq_advance(&u->ring, n);
	rearm_starved(u);
	if (busy && n > 0)
		u->st->busy_cycles += __rdtsc() - c0;
	return go && !atomic_load_explicit(&kecho_stop, memory_order_relaxed);
}

int
kecho_run_uring(struct kecho_thread *t)
{
	struct ur *u = calloc(1, sizeof(*u));
	int rc = -1;

	if (u == NULL)
		return -1;
	*u = (struct ur){ .t = t, .st = &t->st, .echo = { t->tcp, false },
			  .discard = { t->discard, true },
			  .udp_multishot = !t->o->uring_udp_single };
	if (ur_open(u, t) == 0) {
		arm_accept(u, &u->echo);
		arm_accept(u, &u->discard);
		arm_udp(u);
		arm_stop(u);
		kecho_ready(t);
		while (ur_turn(u, t->o->uring_busy))
			;
		rc = 0;
	}
	/* Connections still open go with the ring (their fds stay open
	 * until the process exits). */
	if (u->ring.ring_fd > 0)
		io_uring_queue_exit(&u->ring);
	bufring_close(&u->tcp);
	bufring_close(&u->udp);
	free(u);
	return rc;
}
