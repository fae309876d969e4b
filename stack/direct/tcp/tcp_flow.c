/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP (RFC 9293) for the direct backend, the life of a flow and the flow
 * API: passive, active and simultaneous open, data transfer with
 * retransmission (RFC 6298), slow start, congestion avoidance, fast
 * retransmit and NewReno recovery (RFC 5681, RFC 6582) or, with SACK,
 * recovery by the scoreboard and the pipe (RFC 6675), window scaling
 * (RFC 7323 §2), SACK blocks for out-of-order data (RFC 2018),
 * timestamps with RTT measurement and PAWS (RFC 7323 §3-5), delayed ACKs,
 * Nagle on request, zero-window probes, keepalive, the closing states and
 * TIME_WAIT, RST handling with RFC 5961's checks, a bounded half-open
 * queue with SYN cookies past it (RFC 4987).
 * Received data stays in its mbufs (zero-copy reads); written buffers are
 * queued by reference and copied into segments when sent.
 */
#include <inttypes.h>

#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_random.h>

#include "tcp_impl.h"

/* ------------------------------------------------------ flows */

void
tcp_notify(struct fj_tcp_flow *f)
{
	if (!f->app_closed && f->state != FJ_TCP_SYN_RCVD && f->fn != NULL)
		f->fn(&f->base, f->arg);
}

void
tcp_flow_release(struct fj_tcp_flow *f)
{
	struct fj_stack *s = f->s;

	fj_wheel_cancel(&T(s)->wheel, &f->rtx);
	fj_wheel_cancel(&T(s)->wheel, &f->delack);
	fj_wheel_cancel(&T(s)->wheel, &f->tw);
	fj_wheel_cancel(&T(s)->wheel, &f->ka);
	tcp_update_due(f, false);
	tcp_queue_wait(f, false);
	tcp_mq_free(&f->sndq);
	tcp_mq_free(&f->rcvq);
	for (int i = 0; i < f->nooo; i++)
		rte_pktmbuf_free(f->ooo[i].m);
	f->nooo = 0;
	f->ooo_bytes = 0;
}

/* Put @f on (or take it off) the list of due window updates. */
void
tcp_update_due(struct fj_tcp_flow *f, bool due)
{
	struct fj_tcp *t = T(f->s);

	if (due == f->update_due)
		return;
	f->update_due = due;
	if (due) {
		f->uprev = NULL;
		f->unext = t->updates;
		if (f->unext)
			f->unext->uprev = f;
		t->updates = f;
		return;
	}
	if (f->uprev)
		f->uprev->unext = f->unext;
	else
		t->updates = f->unext;
	if (f->unext)
		f->unext->uprev = f->uprev;
}

/* Put @f at the end of (or take it off) the list of flows held by the
 * port's queue. */
void
tcp_queue_wait(struct fj_tcp_flow *f, bool wait)
{
	struct fj_tcp *t = T(f->s);

	if (wait == f->queue_wait)
		return;
	f->queue_wait = wait;
	if (wait) {
		f->qnext = NULL;
		f->qprev = t->qwait_tail;
		if (t->qwait_tail)
			t->qwait_tail->qnext = f;
		else
			t->qwait = f;
		t->qwait_tail = f;
		t->nqwait++;
		return;
	}
	if (f->qprev)
		f->qprev->qnext = f->qnext;
	else
		t->qwait = f->qnext;
	if (f->qnext)
		f->qnext->qprev = f->qprev;
	else
		t->qwait_tail = f->qprev;
	t->nqwait--;
}

void
fj_tcp_flush(struct fj_stack *s)
{
	while (T(s)->updates != NULL) {
		struct fj_tcp_flow *f = T(s)->updates;
		bool out = f->output_due, ack = f->ack_due;
		uint64_t sent = s->c.tcp_tx;
		f->output_due = f->ack_due = false;
		tcp_update_due(f, false);
		if (out)
			tcp_output(f);
		/* A segment that went carries the window update. */
		if (ack && s->c.tcp_tx == sent)
			tcp_send_ack(f);
	}
}

/* Enter @f under its key (unless the 4-tuple is taken) and in the list. */
int
tcp_flow_link(struct fj_tcp_flow *f)
{
	struct fj_tcp *t = T(f->s);

	struct rte_hash *h = tcp_table(f->s, f->v6);

	/* rte_hash_add_key_data would replace an existing entry: look first. */
	if (rte_hash_lookup(h, tcp_key_of(f)) >= 0)
		return -EEXIST;
	if (rte_hash_add_key_data(h, tcp_key_of(f), f) < 0)
		return -ENOSPC;
	t->nflows++;
	f->lnext = t->all;
	if (f->lnext)
		f->lnext->lprev = f;
	t->all = f;
	return 0;
}

void
tcp_flow_free(struct fj_tcp_flow *f)
{
	struct fj_stack *s = f->s;

	if (f->state == FJ_TCP_SYN_RCVD && f->l)
		f->l->half_open--;
	tcp_flow_release(f);
	rte_hash_del_key(tcp_table(s, f->v6), tcp_key_of(f));
	T(s)->nflows--;
	if (f->lprev)
		f->lprev->lnext = f->lnext;
	else
		T(s)->all = f->lnext;
	if (f->lnext)
		f->lnext->lprev = f->lprev;
	s->c.tcp_flows_closed++;
	free(f);
}

/* The connection is over: free it if the application let go, else tell it. */
void
tcp_flow_closed(struct fj_tcp_flow *f, int err)
{
	if (f->state == FJ_TCP_SYN_RCVD && f->l != NULL) {
		tcp_flow_free(f); /* nobody knew of it */
		return;
	}
	tcp_set_state(f, FJ_TCP_CLOSED);
	if (err && !f->err)
		f->err = err;
	tcp_flow_release(f);
	if (f->app_closed)
		tcp_flow_free(f);
	else
		tcp_notify(f);
}

/* ------------------------------------------------------ the flow API */

struct fj_listener *
fj_tcp_listen(struct fj_stack *s, uint16_t port, fj_flow_fn fn, void *arg)
{
	struct fj_tcp_listener *l;

	if (T(s)->listeners[port] != NULL) {
		errno = EADDRINUSE;
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return NULL;
	l->s = s;
	l->port = port;
	l->fn = fn;
	l->arg = arg;
	l->backlog = BACKLOG;
	T(s)->listeners[port] = l;
	return &l->base;
}

/*
 * Link @f under an ephemeral port (RFC 6056 would randomise more; one
 * counter from a random start) that makes its 4-tuple to @to unique and
 * is owned by this shard: one port in n shards' is, on average.
 */
static int
link_ephemeral(struct fj_tcp_flow *f, const struct fj_addr *to, const struct fj_tcp_ends *e,
	       uint32_t *ts_off, bool *reuse_ts)
{
	struct fj_stack *s = f->s;

	for (int tries = 0;; tries++) {
		if (tries == 16384)
			return -EADDRNOTAVAIL;
		uint16_t port = (uint16_t)(49152 + T(s)->next_port++ % 16384);
		tcp_set_key(f, e, to->port, port);
		/* A port whose replies come back to this shard (shard.h). */
		if (T(s)->listeners[port] != NULL ||
		    (s->g->n > 1 && fj_direct_shard_of(s, port, to) != s->id))
			continue;
		if (tcp_flow_link(f) == 0)
			return 0;
		/* A 4-tuple in our TIME_WAIT may be taken again (RFC 6191 with
		 * RFC 1122 §4.2.2.13) when timestamps were on, the new ISN is
		 * beyond everything the old connection sent, and TSvals go on
		 * from the old connection's (10 ms later, so they are larger):
		 * the peer tells old duplicates apart by sequence and by PAWS. */
		struct fj_tcp_flow *old = tcp_lookup(s, e, to->port, port);
		if (old == NULL)
			continue;
		uint32_t iss = tcp_isn(s, e, port, to->port, to_us(s, fj_now(s)));
		if (old->state != FJ_TCP_TIME_WAIT || !old->ts_ok ||
		    fj_now(s) - old->tw_since < s->hz / 100 || !fj_seq_gt(iss, old->snd_max))
			continue;
		*ts_off = old->ts_off;
		*reuse_ts = true;
		tcp_flow_free(old);
		s->c.tcp_time_wait_reused++;
		if (tcp_flow_link(f) == 0)
			return 0;
	}
}

struct fj_flow *
fj_tcp_connect(struct fj_stack *s, const struct fj_addr *to, fj_flow_fn fn, void *arg)
{
	struct fj_tcp_flow *f;
	uint32_t ts_off = 0;
	bool reuse_ts = false;

	if (T(s)->nflows >= MAX_FLOWS) {
		errno = ENOBUFS;
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return NULL;
	f->s = s;
	f->fn = fn;
	f->arg = arg;
	struct fj_tcp_ends e = { .v6 = to->family == FJ_AF_INET6, .raddr = to->ip, .laddr = s->ip };
	if (e.v6) {
		/* RFC 6724's source for the destination. */
		memcpy(e.raddr6.b, to->ip6, 16);
		e.laddr6 = *fj_ipv6_source(s, &e.raddr6);
	}
	if (link_ephemeral(f, to, &e, &ts_off, &reuse_ts) < 0) {
		free(f);
		errno = EADDRNOTAVAIL;
		return NULL;
	}
	tcp_set_state(f, FJ_TCP_SYN_SENT);
	f->iss = tcp_isn(s, &e, f->key.lport, to->port, to_us(s, fj_now(s)));
	f->snd_una = f->iss;
	f->snd_nxt = f->snd_max = f->iss + 1;
	f->ts_off = reuse_ts ? ts_off : f->iss;
	f->rcv_ws = RCV_WS;
	f->mss = MSS_DEFAULT;
	f->recover = f->iss;
	fj_rtt_init(&f->rtt, 200000, 60000000, to_us(s, s->hz / 1000) + 1);
	s->c.tcp_active_opens++;
	tcp_send_segment(f, f->iss, FJ_TCP_SYN, 0);
	tcp_time_syn(f);
	tcp_arm_rtx(f);
	return &f->base;
}

enum fj_read
fj_tcp_read(struct fj_flow *base, struct fj_buf **buf)
{
	struct fj_tcp_flow *f = tcp_flow(base);
	if (f->rcvq.n > 0) {
		struct fj_mq *q = &f->rcvq;
		struct rte_mbuf *m = q->m[q->head];
		if (q->off)
			m = fj_mbuf_cut_front(m, q->off);
		q->bytes -= m->pkt_len;
		q->head = (uint16_t)((q->head + 1) % FJ_TCP_QUEUE);
		q->n--;
		q->off = 0;
		*buf = (struct fj_buf *)m;
		/* Tell the peer when reading opened the window by a lot (RFC
		 * 9293 §3.8.6.2.2): after the application is done, unless a
		 * segment it sends meanwhile carries the news. */
		if (f->state == FJ_TCP_ESTABLISHED && !f->ack_due &&
		    f->rcv_nxt + tcp_rcv_space(f) - f->rcv_adv >= RTE_MAX(2u * f->mss, RCV_BUF / 4u)) {
			f->ack_due = true;
			tcp_update_due(f, true);
		}
		return FJ_DATA;
	}
	if (f->state == FJ_TCP_CLOSED)
		return f->err ? FJ_ERROR : FJ_EOF;
	if (f->fin_rcvd)
		return FJ_EOF;
	return FJ_AGAIN;
}

int
fj_tcp_write(struct fj_flow *base, struct fj_buf *buf)
{
	struct fj_tcp_flow *f = tcp_flow(base);
	struct rte_mbuf *m = (struct rte_mbuf *)buf;

	if (f->app_closed || (f->state != FJ_TCP_ESTABLISHED && f->state != FJ_TCP_CLOSE_WAIT)) {
		rte_pktmbuf_free(m);
		return f->err ? f->err : -EPIPE;
	}
	if (f->sndq.n >= FJ_TCP_QUEUE || f->sndq.bytes >= SND_BUF) {
		f->want_write = true;
		return -EAGAIN;
	}
	if (m->pkt_len == 0) {
		rte_pktmbuf_free(m);
		return 0;
	}
	tcp_mq_push(&f->sndq, m);
	f->s->c.tcp_tx_bytes += m->pkt_len;
	/*
	 * What the application writes in one callback (or turn) goes
	 * together at its end (fj_tcp_flush): many small writes make full
	 * segments (or one large one where the port cuts) rather than a
	 * segment each with a short one at every write's end.
	 */
	f->output_due = true;
	tcp_update_due(f, true);
	return 0;
}

void
fj_tcp_close(struct fj_flow *base)
{
	struct fj_tcp_flow *f = tcp_flow(base);
	if (f->app_closed)
		return;
	f->app_closed = true;
	tcp_mq_free(&f->rcvq); /* unread data is dropped */
	switch (f->state) {
	case FJ_TCP_ESTABLISHED:
		tcp_set_state(f, FJ_TCP_FIN_WAIT_1);
		break;
	case FJ_TCP_CLOSE_WAIT:
		tcp_set_state(f, FJ_TCP_LAST_ACK);
		break;
	case FJ_TCP_SYN_RCVD: /* a simultaneous open not yet complete */
		tcp_send_rst_flow(f);
		/* fall through */
	case FJ_TCP_SYN_SENT:
	case FJ_TCP_CLOSED:
		tcp_set_state(f, FJ_TCP_CLOSED);
		tcp_flow_free(f);
		return;
	default:
		return; /* already closing (after a shutdown) */
	}
	f->fin_queued = true;
	tcp_output(f);
}

int
fj_tcp_shutdown(struct fj_flow *base)
{
	struct fj_tcp_flow *f = tcp_flow(base);
	switch (f->state) {
	case FJ_TCP_ESTABLISHED:
		tcp_set_state(f, FJ_TCP_FIN_WAIT_1);
		break;
	case FJ_TCP_CLOSE_WAIT:
		tcp_set_state(f, FJ_TCP_LAST_ACK);
		break;
	default:
		return f->fin_queued ? 0 : -ENOTCONN;
	}
	f->fin_queued = true;
	tcp_output(f);
	return 0;
}

void
fj_tcp_set_nagle(struct fj_flow *base, bool on)
{
	struct fj_tcp_flow *f = tcp_flow(base);
	f->nagle = on;
}

int
fj_tcp_set_keepalive(struct fj_flow *base, unsigned idle_s, unsigned interval_s, unsigned probes)
{
	struct fj_tcp_flow *f = tcp_flow(base);
	struct fj_stack *s = f->s;

	f->ka_idle = (uint64_t)idle_s * s->hz;
	f->ka_intvl = (uint64_t)interval_s * s->hz;
	f->ka_probes = (uint8_t)probes;
	f->ka_sent = 0;
	fj_wheel_cancel(&T(s)->wheel, &f->ka);
	if (idle_s != 0) {
		if (f->last_rx == 0)
			f->last_rx = fj_now(s);
		tcp_arm_keepalive(f);
	}
	return 0;
}

void
fj_tcp_abort(struct fj_flow *base)
{
	struct fj_tcp_flow *f = tcp_flow(base);
	f->app_closed = true;
	if (f->state != FJ_TCP_CLOSED)
		tcp_send_rst_flow(f);
	tcp_set_state(f, FJ_TCP_CLOSED);
	tcp_flow_free(f);
}

struct fj_addr
fj_tcp_peer(const struct fj_flow *base)
{
	const struct fj_tcp_flow *f = (const struct fj_tcp_flow *)base;
	struct fj_addr a = { .ip = f->key.raddr, .port = f->key.rport, .family = FJ_AF_INET };

	if (f->v6) {
		a.family = FJ_AF_INET6;
		memcpy(a.ip6, f->key6.raddr.b, 16);
	}
	return a;
}

unsigned
fj_tcp_mbufs_held(struct fj_stack *s)
{
	unsigned n = 0;

	/* (by segment: a coalesced segment, or a chain written, is several) */
	for (const struct fj_tcp_flow *f = T(s)->all; f != NULL; f = f->lnext) {
		for (uint16_t i = 0; i < f->sndq.n; i++)
			n += f->sndq.m[(f->sndq.head + i) % FJ_TCP_QUEUE]->nb_segs;
		for (uint16_t i = 0; i < f->rcvq.n; i++)
			n += f->rcvq.m[(f->rcvq.head + i) % FJ_TCP_QUEUE]->nb_segs;
		for (uint8_t i = 0; i < f->nooo; i++)
			n += f->ooo[i].m->nb_segs;
	}
	return n;
}

/* ------------------------------------------------------ set-up */

int
fj_tcp_init(struct fj_stack *s)
{
	char name[RTE_HASH_NAMESIZE];
	struct fj_tcp *t = T(s);

	/* Table names are unique per process: the stack's address is. */
	snprintf(name, sizeof(name), "fj_tcp_%" PRIxPTR, (uintptr_t)s);
	struct rte_hash_parameters hp = {
		.name = name, .entries = MAX_FLOWS * 2, .key_len = sizeof(struct fj_tcp_key),
		.hash_func = rte_jhash, .socket_id = (int)rte_socket_id(),
	};
	t->flows = rte_hash_create(&hp);
	snprintf(name, sizeof(name), "fj_tcp6_%" PRIxPTR, (uintptr_t)s);
	hp.key_len = sizeof(struct fj_tcp_key6);
	t->flows6 = rte_hash_create(&hp);
	t->listeners = calloc(65536, sizeof(*t->listeners));
	if (t->flows == NULL || t->flows6 == NULL || t->listeners == NULL)
		return -ENOMEM;
	t->hz = s->hz;
	/* RFC 9293 suggests 2 minutes; 30 s by default (TIME_WAIT 60 s, as
	 * Linux's), --msl sets it. */
	t->msl = s->hz * s->msl_s;
	for (int i = 0; i < 16; i += 8) {
		uint64_t r = rte_rand();
		memcpy(t->isn_key + i, &r, 8);
	}
	fj_wheel_init(&t->wheel, fj_now(s), s->hz / 1000 ? s->hz / 1000 : 1);
	return 0;
}

void
fj_tcp_fini(struct fj_stack *s)
{
	struct fj_tcp *t = T(s);

	while (t->all != NULL) {
		struct fj_tcp_flow *f = t->all;
		t->all = f->lnext;
		tcp_flow_release(f);
		free(f);
	}
	if (t->flows != NULL)
		rte_hash_free(t->flows);
	if (t->flows6 != NULL)
		rte_hash_free(t->flows6);
	t->flows6 = NULL;
	if (t->listeners != NULL)
		for (uint32_t p = 0; p < 65536; p++)
			free(t->listeners[p]);
	free(t->listeners);
	t->flows = NULL;
	t->listeners = NULL;
}
