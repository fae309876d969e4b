/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP (RFC 9293) for the direct backend: passive open, data transfer with
 * retransmission (RFC 6298), slow start, congestion avoidance, fast
 * retransmit and NewReno recovery (RFC 5681, RFC 6582), window scaling
 * (RFC 7323 §2), delayed ACKs, zero-window probes, the closing states and
 * TIME_WAIT, RST handling with RFC 5961's checks, bounded half-open
 * connections. Received data stays in its mbufs (zero-copy reads); written
 * buffers are queued by reference and copied into segments when sent.
 *
 * Active open too (connect). Not yet: SACK (RFC 2018/6675), timestamps and
 * PAWS (RFC 7323 §3-5), keepalive, simultaneous open.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_random.h>

#include "../stack_impl.h"
#include "isn.h"
#include "tcp_seq.h"

#define MSS_DEFAULT 536      /* RFC 9293 §3.7.1 without the option */
#define RCV_BUF (256 * 1024)
#define SND_BUF (256 * 1024)
#define RCV_WS 7             /* our window shift */
#define IW_SEGS 10           /* RFC 6928 */
#define DELACK_MS 40
#define MAX_RTX 12           /* retransmissions before giving up */
#define MAX_SYNACK 5
#define MAX_SYN 6
#define MAX_FLOWS 65536
#define BACKLOG 1024

static inline struct fj_tcp *T(struct fj_stack *s) { return &s->tcp; }

static uint64_t
to_us(const struct fj_stack *s, uint64_t ticks)
{
	return ticks * 1000000u / s->hz;
}

static uint64_t
from_us(const struct fj_stack *s, uint64_t us)
{
	return us * s->hz / 1000000u;
}

#define FLOW_OF(node, field) \
	((struct fj_flow *)((char *)(node) - offsetof(struct fj_flow, field)))

/* ------------------------------------------------------ mbuf queues */

static void
mq_push(struct fj_mq *q, struct rte_mbuf *m)
{
	q->m[(q->head + q->n) % FJ_TCP_QUEUE] = m;
	q->n++;
	q->bytes += m->pkt_len;
}

static void
mq_free(struct fj_mq *q)
{
	for (uint16_t i = 0; i < q->n; i++)
		rte_pktmbuf_free(q->m[(q->head + i) % FJ_TCP_QUEUE]);
	q->n = 0;
	q->bytes = 0;
	q->off = 0;
}

/* Drop @n bytes from the front. */
static void
mq_consume(struct fj_mq *q, uint32_t n)
{
	while (n > 0 && q->n > 0) {
		struct rte_mbuf *m = q->m[q->head];
		uint32_t left = m->pkt_len - q->off;
		if (n < left) {
			q->off += n;
			q->bytes -= n;
			return;
		}
		n -= left;
		q->bytes -= left;
		rte_pktmbuf_free(m);
		q->head = (uint16_t)((q->head + 1) % FJ_TCP_QUEUE);
		q->n--;
		q->off = 0;
	}
}

/* Copy @len bytes starting @off bytes into the queue. */
static void
mq_copy(const struct fj_mq *q, uint32_t off, uint32_t len, uint8_t *dst)
{
	off += q->off;
	for (uint16_t i = 0; i < q->n && len > 0; i++) {
		struct rte_mbuf *m = q->m[(q->head + i) % FJ_TCP_QUEUE];
		if (off >= m->pkt_len) {
			off -= m->pkt_len;
			continue;
		}
		uint32_t k = RTE_MIN(len, m->pkt_len - off);
		const void *p = rte_pktmbuf_read(m, off, k, dst);
		if (p != dst)
			memcpy(dst, p, k);
		dst += k;
		len -= k;
		off = 0;
	}
}

/* ------------------------------------------------------ flows */

static void
notify(struct fj_flow *f)
{
	if (!f->app_closed && f->state != FJ_TCP_SYN_RCVD && f->fn != NULL)
		f->fn(f, f->arg);
}

static void
flow_release(struct fj_flow *f)
{
	struct fj_stack *s = f->s;

	fj_wheel_cancel(&T(s)->wheel, &f->rtx);
	fj_wheel_cancel(&T(s)->wheel, &f->delack);
	fj_wheel_cancel(&T(s)->wheel, &f->tw);
	mq_free(&f->sndq);
	mq_free(&f->rcvq);
	for (int i = 0; i < f->nooo; i++)
		rte_pktmbuf_free(f->ooo[i].m);
	f->nooo = 0;
	f->ooo_bytes = 0;
}

static void
flow_free(struct fj_flow *f)
{
	struct fj_stack *s = f->s;

	if (f->state == FJ_TCP_SYN_RCVD && f->l)
		f->l->half_open--;
	flow_release(f);
	rte_hash_del_key(T(s)->flows, &f->key);
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
static void
flow_closed(struct fj_flow *f, int err)
{
	if (f->state == FJ_TCP_SYN_RCVD) {
		flow_free(f);
		return;
	}
	f->state = FJ_TCP_CLOSED;
	if (err && !f->err)
		f->err = err;
	flow_release(f);
	if (f->app_closed)
		flow_free(f);
	else
		notify(f);
}

/* ------------------------------------------------------ output */

static uint32_t
rcv_space(const struct fj_flow *f)
{
	uint32_t used = f->rcvq.bytes + f->ooo_bytes;
	if (f->rcvq.n + f->nooo + 4 >= FJ_TCP_QUEUE)
		return 0;
	return used >= RCV_BUF ? 0 : RCV_BUF - used;
}

/* The window to advertise, never shrinking the right edge (RFC 9293
 * §3.8.6.2.2) and not moving it by small amounts (receiver SWS avoidance). */
static uint16_t
rcv_window(struct fj_flow *f)
{
	uint32_t space = rcv_space(f);
	uint32_t edge = f->rcv_nxt + space;
	if (fj_seq_lt(edge, f->rcv_adv) ||
	    (fj_seq_gt(f->rcv_adv, f->rcv_nxt) && edge - f->rcv_adv < RTE_MIN(f->mss, RCV_BUF / 2u)))
		edge = fj_seq_max(f->rcv_adv, f->rcv_nxt);
	f->rcv_adv = edge;
	/* RFC 7323 §2.2: the window of a SYN is never scaled. */
	uint32_t w = (edge - f->rcv_nxt) >>
		     (f->state == FJ_TCP_SYN_RCVD || f->state == FJ_TCP_SYN_SENT ? 0 : f->rcv_ws);
	return (uint16_t)RTE_MIN(w, 65535u);
}

/*
 * The out-of-order data we hold as SACK blocks (RFC 2018 §4): contiguous
 * pieces merged, the block with the latest arrival first, then the rest.
 */
static void
sack_blocks(const struct fj_flow *f, struct fj_tcp_opts *o)
{
	struct fj_sack_block b[FJ_TCP_OOO];
	int n = 0;

	for (int i = 0; i < f->nooo; i++) {
		uint32_t l = f->ooo[i].seq, r = l + f->ooo[i].m->pkt_len;
		int j;
		for (j = 0; j < n; j++) {
			if (fj_seq_le(l, b[j].right) && fj_seq_ge(r, b[j].left)) {
				b[j].left = fj_seq_min(b[j].left, l);
				b[j].right = fj_seq_max(b[j].right, r);
				break;
			}
		}
		if (j == n)
			b[n++] = (struct fj_sack_block){ l, r };
	}
	/* Merging may have made blocks touch: once more. */
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (fj_seq_le(b[j].left, b[i].right) && fj_seq_ge(b[j].right, b[i].left)) {
				b[i].left = fj_seq_min(b[i].left, b[j].left);
				b[i].right = fj_seq_max(b[i].right, b[j].right);
				b[j--] = b[--n];
			}
	o->nsack = 0;
	for (int i = 0; i < n && o->nsack < FJ_TCP_MAX_SACK; i++)
		if (fj_seq_in(f->last_ooo, b[i].left, b[i].right))
			o->sack[o->nsack++] = b[i];
	for (int i = 0; i < n && o->nsack < FJ_TCP_MAX_SACK; i++)
		if (!fj_seq_in(f->last_ooo, b[i].left, b[i].right))
			o->sack[o->nsack++] = b[i];
}

static int
send_segment(struct fj_flow *f, uint32_t seq, uint8_t flags, uint32_t len)
{
	struct fj_stack *s = f->s;
	struct fj_tcp_hdr h = { .sport = f->key.lport, .dport = f->key.rport, .seq = seq,
				.ack = (flags & FJ_TCP_ACK) ? f->rcv_nxt : 0, .flags = flags };
	if (flags & FJ_TCP_SYN) {
		/* RFC 9293 §3.7.1 and RFC 7323 §2.2: our MSS and window shift
		 * (on a SYN-ACK only if the peer's SYN had one). */
		h.o.has_mss = true;
		h.o.mss = (uint16_t)(s->mtu - FJ_IPV4_HDR_LEN - FJ_TCP_HDR_LEN);
		if (f->rcv_ws) {
			h.o.has_ws = true;
			h.o.ws = f->rcv_ws;
		}
		/* Offered on our SYN, answered on a SYN-ACK. */
		h.o.sack_perm = f->state == FJ_TCP_SYN_SENT || f->sack_ok;
	} else if (f->sack_ok && f->nooo > 0) {
		sack_blocks(f, &h.o);
	}
	h.wnd = rcv_window(f);
	size_t hl = FJ_TCP_HDR_LEN + fj_tcp_opts_len(&h.o);
	struct rte_mbuf *m = rte_pktmbuf_alloc(s->mp);
	uint8_t *p;
	if (m == NULL || (p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(hl + len))) == NULL) {
		rte_pktmbuf_free(m);
		s->c.drops[FJ_DROP_NO_MBUF]++;
		return -ENOBUFS;
	}
	if (len)
		mq_copy(&f->sndq, seq - f->snd_una, len, p + hl);
	fj_tcp_build(p, &h, s->ip, f->key.raddr, len, false);
	/* Whatever we send carries the latest ACK. */
	f->unacked = 0;
	fj_wheel_cancel(&T(s)->wheel, &f->delack);
	s->c.tcp_tx++;
	return fj_ipv4_output(s, m, f->key.raddr, FJ_IP_PROTO_TCP);
}

static void
send_ack(struct fj_flow *f)
{
	send_segment(f, f->snd_nxt, FJ_TCP_ACK, 0);
}

static void rtx_fire(struct fj_wheel *w, struct fj_timer_node *t, void *ctx);

static void
arm_rtx(struct fj_flow *f)
{
	struct fj_stack *s = f->s;
	fj_wheel_arm(&T(s)->wheel, &f->rtx, fj_now(s) + from_us(s, f->rtt.rto), rtx_fire);
}

/* Send what the windows allow (RFC 5681 §3.1; no Nagle: flows want latency). */
static void
tcp_output(struct fj_flow *f)
{
	if (f->state == FJ_TCP_CLOSED || f->state == FJ_TCP_SYN_RCVD ||
	    f->state == FJ_TCP_TIME_WAIT)
		return;
	uint32_t data_end = f->snd_una + f->sndq.bytes;
	uint32_t wnd = RTE_MIN(f->snd_wnd, f->cwnd);
	bool sent = false;

	while (fj_seq_lt(f->snd_nxt, data_end)) {
		uint32_t inflight = f->snd_nxt - f->snd_una;
		if (inflight >= wnd)
			break;
		uint32_t len = RTE_MIN(RTE_MIN(data_end - f->snd_nxt, (uint32_t)f->mss), wnd - inflight);
		/* Nagle, when asked for: a small segment waits while data is
		 * unacknowledged (RFC 9293 §3.7.4). */
		if (f->nagle && len < f->mss && inflight > 0)
			break;
		uint8_t flags = FJ_TCP_ACK;
		if (f->snd_nxt + len == data_end)
			flags |= FJ_TCP_PSH;
		if (!f->timing && f->snd_nxt == f->snd_max) {
			/* Karn: time only new data. */
			f->timing = true;
			f->rtt_seq = f->snd_nxt;
			f->rtt_t0 = fj_now(f->s);
		}
		if (send_segment(f, f->snd_nxt, flags, len) < 0)
			break;
		f->snd_nxt += len;
		f->snd_max = fj_seq_max(f->snd_max, f->snd_nxt);
		sent = true;
	}
	/* FIN after the last byte, once (or again after a timeout). */
	if (f->fin_queued && f->snd_nxt == data_end &&
	    (!f->fin_sent || fj_seq_lt(f->snd_nxt, f->snd_max)) &&
	    f->snd_nxt - f->snd_una < RTE_MAX(wnd, 1u)) {
		if (send_segment(f, f->snd_nxt, FJ_TCP_FIN | FJ_TCP_ACK, 0) == 0) {
			f->snd_nxt++;
			f->snd_max = fj_seq_max(f->snd_max, f->snd_nxt);
			f->fin_sent = true;
			sent = true;
		}
	}
	if ((sent || f->snd_wnd == 0) && !fj_timer_armed(&f->rtx) &&
	    (f->snd_una != f->snd_max || f->sndq.bytes > 0))
		arm_rtx(f);
}

/* RFC 9293 §3.10.7.1: a reset for a segment that has no connection. */
static void
send_rst(struct fj_stack *s, const struct fj_ipv4 *ip, const struct fj_tcp_hdr *th,
	 uint32_t seglen)
{
	struct fj_tcp_hdr h = { .sport = th->dport, .dport = th->sport };
	struct rte_mbuf *m;
	uint8_t *p;

	if (th->flags & FJ_TCP_RST)
		return;
	if (th->flags & FJ_TCP_ACK) {
		h.seq = th->ack;
		h.flags = FJ_TCP_RST;
	} else {
		h.ack = th->seq + seglen;
		h.flags = FJ_TCP_RST | FJ_TCP_ACK;
	}
	m = rte_pktmbuf_alloc(s->mp);
	if (m == NULL || (p = (uint8_t *)rte_pktmbuf_append(m, FJ_TCP_HDR_LEN)) == NULL) {
		rte_pktmbuf_free(m);
		s->c.drops[FJ_DROP_NO_MBUF]++;
		return;
	}
	fj_tcp_build(p, &h, s->ip, ip->src, 0, false);
	s->c.tcp_rst_tx++;
	fj_ipv4_output(s, m, ip->src, FJ_IP_PROTO_TCP);
}

static void
send_rst_flow(struct fj_flow *f)
{
	send_segment(f, f->snd_nxt, FJ_TCP_RST | FJ_TCP_ACK, 0);
	f->s->c.tcp_rst_tx++;
}

/* ------------------------------------------------------ timers */

static void
rtx_fire(struct fj_wheel *w, struct fj_timer_node *t, void *ctx)
{
	struct fj_flow *f = FLOW_OF(t, rtx);
	struct fj_stack *s = f->s;

	(void)w;
	(void)ctx;
	if (f->state == FJ_TCP_SYN_SENT) {
		/* RFC 6298 §5.7 aside, SYNs back off from 1 s like data. */
		if (++f->syn_tries > MAX_SYN) {
			flow_closed(f, -ETIMEDOUT);
			return;
		}
		fj_rtt_backoff(&f->rtt);
		send_segment(f, f->iss, FJ_TCP_SYN, 0);
		arm_rtx(f);
		return;
	}
	if (f->state == FJ_TCP_SYN_RCVD) {
		if (++f->syn_tries > MAX_SYNACK) {
			flow_free(f);
			return;
		}
		fj_rtt_backoff(&f->rtt);
		send_segment(f, f->iss, FJ_TCP_SYN | FJ_TCP_ACK, 0);
		arm_rtx(f);
		return;
	}
	if (f->snd_una == f->snd_max && f->sndq.bytes > 0 && f->snd_wnd == 0) {
		/* Zero-window probe (RFC 9293 §3.8.6.1): one byte past the
		 * window, backing off like a retransmission. */
		send_segment(f, f->snd_una, FJ_TCP_ACK, 1);
		s->c.tcp_window_probes++;
		fj_rtt_backoff(&f->rtt);
		arm_rtx(f);
		return;
	}
	if (f->snd_una == f->snd_max)
		return;
	if (f->rtt.backoffs >= MAX_RTX) {
		send_rst_flow(f);
		flow_closed(f, -ETIMEDOUT);
		return;
	}
	/* RFC 5681 §3.1 (4): after a timeout, one segment and slow start. */
	uint32_t flight = f->snd_max - f->snd_una;
	f->ssthresh = RTE_MAX(flight / 2, 2u * f->mss);
	f->cwnd = f->mss;
	f->in_recovery = false;
	f->dupacks = 0;
	f->timing = false;
	f->snd_nxt = f->snd_una;
	fj_rtt_backoff(&f->rtt);
	s->c.tcp_retransmits++;
	tcp_output(f);
	arm_rtx(f);
}

static void
delack_fire(struct fj_wheel *w, struct fj_timer_node *t, void *ctx)
{
	(void)w;
	(void)ctx;
	send_ack(FLOW_OF(t, delack));
}

static void
tw_fire(struct fj_wheel *w, struct fj_timer_node *t, void *ctx)
{
	struct fj_flow *f = FLOW_OF(t, tw);

	(void)w;
	(void)ctx;
	f->state = FJ_TCP_CLOSED;
	flow_free(f);
}

static void
enter_time_wait(struct fj_flow *f)
{
	struct fj_stack *s = f->s;

	f->state = FJ_TCP_TIME_WAIT;
	fj_wheel_cancel(&T(s)->wheel, &f->rtx);
	mq_free(&f->sndq);
	/* RFC 9293 §3.10.7.4: 2 MSL. */
	fj_wheel_arm(&T(s)->wheel, &f->tw, fj_now(s) + 2 * T(s)->msl, tw_fire);
}

void
fj_tcp_timers(struct fj_stack *s, uint64_t now)
{
	fj_wheel_advance(&T(s)->wheel, now, NULL);
}

/* ------------------------------------------------------ input */

static struct fj_flow *
passive_open(struct fj_stack *s, struct fj_listener *l, const struct fj_ipv4 *ip,
	     const struct fj_tcp_hdr *th)
{
	struct fj_flow *f;

	if (l->half_open >= l->backlog || T(s)->nflows >= MAX_FLOWS) {
		/* A SYN flood fills the bounded queue; the rest are dropped and
		 * counted, and the connections already made are not touched. */
		s->c.tcp_syn_dropped++;
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return NULL;
	f->s = s;
	f->l = l;
	f->fn = l->fn;
	f->arg = l->arg;
	f->key = (struct fj_tcp_key){ ip->src, s->ip, th->sport, th->dport };
	if (rte_hash_add_key_data(T(s)->flows, &f->key, f) < 0) {
		free(f);
		s->c.tcp_syn_dropped++;
		return NULL;
	}
	T(s)->nflows++;
	f->lnext = T(s)->all;
	if (f->lnext)
		f->lnext->lprev = f;
	T(s)->all = f;
	l->half_open++;
	f->state = FJ_TCP_SYN_RCVD;
	f->irs = th->seq;
	f->rcv_nxt = th->seq + 1;
	f->rcv_adv = f->rcv_nxt;
	f->iss = fj_tcp_isn(T(s)->isn_key, s->ip, th->dport, ip->src, th->sport,
			    to_us(s, fj_now(s)));
	f->snd_una = f->iss;
	f->snd_nxt = f->snd_max = f->iss + 1;
	/* RFC 7323 §2.2: scale both ways only if the SYN offered it. */
	f->snd_ws = th->o.has_ws ? th->o.ws : 0;
	f->rcv_ws = th->o.has_ws ? RCV_WS : 0;
	f->sack_ok = th->o.sack_perm;
	f->snd_wnd = th->wnd; /* never scaled in a SYN */
	f->snd_wl1 = th->seq;
	f->snd_wl2 = f->iss;
	uint16_t our_mss = (uint16_t)(s->mtu - FJ_IPV4_HDR_LEN - FJ_TCP_HDR_LEN);
	f->mss = th->o.has_mss ? RTE_MIN(th->o.mss, our_mss) : MSS_DEFAULT;
	if (f->mss < 64)
		f->mss = 64;
	f->cwnd = IW_SEGS * (uint32_t)f->mss;
	f->ssthresh = UINT32_MAX;
	fj_rtt_init(&f->rtt, 200000, 60000000, to_us(s, s->hz / 1000) + 1);
	s->c.tcp_passive_opens++;
	send_segment(f, f->iss, FJ_TCP_SYN | FJ_TCP_ACK, 0);
	arm_rtx(f);
	return f;
}

/* RFC 9293 §3.10.7.4, first check: is the segment in the window? */
static bool
acceptable(const struct fj_flow *f, uint32_t seq, uint32_t seglen)
{
	uint32_t wnd = f->rcv_adv - f->rcv_nxt;

	if (seglen == 0)
		return wnd == 0 ? seq == f->rcv_nxt : fj_seq_in(seq, f->rcv_nxt, f->rcv_nxt + wnd);
	if (wnd == 0)
		return false;
	return fj_seq_in(seq, f->rcv_nxt, f->rcv_nxt + wnd) ||
	       fj_seq_in(seq + seglen - 1, f->rcv_nxt, f->rcv_nxt + wnd);
}

static void
challenge_ack(struct fj_flow *f)
{
	/* RFC 5961 §3.2, §4.2: answer a suspicious RST or SYN with an ACK. */
	f->s->c.tcp_challenge_acks++;
	send_ack(f);
}

/* Take in-order payload @m (trimmed to its data), then what it unblocks. */
static void
take_data(struct fj_flow *f, struct rte_mbuf *m)
{
	uint32_t len = m->pkt_len;

	if (f->app_closed) {
		/* Nobody will read it: acknowledged and dropped. */
		rte_pktmbuf_free(m);
	} else {
		mq_push(&f->rcvq, m);
	}
	f->rcv_nxt += len;
	/* Out-of-order segments that now fit. */
	for (bool more = true; more;) {
		more = false;
		for (int i = 0; i < f->nooo; i++) {
			uint32_t s0 = f->ooo[i].seq;
			struct rte_mbuf *o = f->ooo[i].m;
			uint32_t e0 = s0 + o->pkt_len;
			if (fj_seq_gt(s0, f->rcv_nxt))
				continue;
			f->ooo_bytes -= o->pkt_len;
			f->ooo[i] = f->ooo[--f->nooo];
			if (fj_seq_le(e0, f->rcv_nxt)) {
				rte_pktmbuf_free(o); /* all old */
			} else {
				rte_pktmbuf_adj(o, (uint16_t)(f->rcv_nxt - s0));
				uint32_t l2 = o->pkt_len;
				if (f->app_closed)
					rte_pktmbuf_free(o);
				else
					mq_push(&f->rcvq, o);
				f->rcv_nxt += l2;
			}
			more = true;
			break;
		}
	}
}

static void
keep_ooo(struct fj_flow *f, uint32_t seq, struct rte_mbuf *m)
{
	for (int i = 0; i < f->nooo; i++)
		if (f->ooo[i].seq == seq && f->ooo[i].m->pkt_len >= m->pkt_len) {
			rte_pktmbuf_free(m); /* a duplicate */
			return;
		}
	if (f->nooo == FJ_TCP_OOO || m->pkt_len > rcv_space(f)) {
		f->s->c.tcp_ooo_dropped++;
		rte_pktmbuf_free(m);
		return;
	}
	f->ooo[f->nooo].seq = seq;
	f->ooo[f->nooo].m = m;
	f->nooo++;
	f->last_ooo = seq;
	f->ooo_bytes += m->pkt_len;
}

/* The ACK field of an acceptable segment (RFC 9293 §3.10.7.4, fifth check). */
static bool
process_ack(struct fj_flow *f, const struct fj_tcp_hdr *th, uint32_t seglen)
{
	struct fj_stack *s = f->s;
	uint32_t ack = th->ack;

	if (fj_seq_gt(ack, f->snd_max)) {
		/* Acknowledges what we never sent. */
		send_ack(f);
		return false;
	}
	if (fj_seq_gt(ack, f->snd_una)) {
		uint32_t acked = ack - f->snd_una;
		uint32_t data = RTE_MIN(acked, f->sndq.bytes);
		mq_consume(&f->sndq, data);
		f->snd_una = ack;
		if (fj_seq_lt(f->snd_nxt, f->snd_una))
			f->snd_nxt = f->snd_una;
		if (f->timing && fj_seq_gt(ack, f->rtt_seq)) {
			fj_rtt_sample(&f->rtt, to_us(s, fj_now(s) - f->rtt_t0));
			f->timing = false;
		}
		if (f->in_recovery) {
			if (fj_seq_ge(ack, f->recover)) {
				/* RFC 6582 §3.2 (3): full acknowledgement. */
				f->in_recovery = false;
				f->cwnd = RTE_MIN(f->ssthresh,
						  RTE_MAX(f->snd_max - f->snd_una, (uint32_t)f->mss) +
							  f->mss);
			} else {
				/* Partial ACK: the next hole goes now. */
				send_segment(f, f->snd_una, FJ_TCP_ACK,
					     RTE_MIN((uint32_t)f->mss, f->sndq.bytes));
				f->cwnd = f->cwnd > acked ? f->cwnd - acked + f->mss : f->mss;
				s->c.tcp_retransmits++;
			}
		} else if (f->cwnd < f->ssthresh) {
			f->cwnd += RTE_MIN(acked, (uint32_t)f->mss); /* slow start */
		} else {
			f->cwnd += RTE_MAX(1u, (uint32_t)f->mss * f->mss / f->cwnd);
		}
		f->dupacks = 0;
		fj_wheel_cancel(&T(s)->wheel, &f->rtx);
		f->rtt.backoffs = 0;
		if (f->snd_una != f->snd_max)
			arm_rtx(f);
		if (f->want_write && f->sndq.n < FJ_TCP_QUEUE && f->sndq.bytes < SND_BUF) {
			f->want_write = false;
			f->writable = true; /* told at the end of this segment */
		}
	} else if (ack == f->snd_una && seglen == 0 && f->snd_una != f->snd_max &&
		   (uint32_t)th->wnd << f->snd_ws == f->snd_wnd) {
		/* RFC 5681 §3.2: a duplicate ACK. */
		f->dupacks++;
		if (f->dupacks == 3 && !f->in_recovery) {
			uint32_t flight = f->snd_max - f->snd_una;
			f->ssthresh = RTE_MAX(flight / 2, 2u * f->mss);
			f->recover = f->snd_max;
			f->in_recovery = true;
			f->timing = false;
			send_segment(f, f->snd_una, FJ_TCP_ACK,
				     RTE_MIN((uint32_t)f->mss, f->sndq.bytes));
			f->cwnd = f->ssthresh + 3u * f->mss;
			s->c.tcp_fast_retransmits++;
		} else if (f->dupacks > 3 && f->in_recovery) {
			f->cwnd += f->mss;
		}
	}
	/* Window update (RFC 9293 §3.10.7.4: SND.WL1/WL2 guard old segments). */
	if (fj_seq_lt(f->snd_wl1, th->seq) ||
	    (f->snd_wl1 == th->seq && fj_seq_le(f->snd_wl2, ack))) {
		f->snd_wnd = (uint32_t)th->wnd << f->snd_ws;
		f->snd_wl1 = th->seq;
		f->snd_wl2 = ack;
	}
	return true;
}

/* RFC 9293 §3.10.7.3: a segment for a connection we are opening. */
static void
syn_sent_input(struct fj_flow *f, const struct fj_tcp_hdr *th)
{
	struct fj_stack *s = f->s;
	bool ack_ok = (th->flags & FJ_TCP_ACK) && th->ack == f->iss + 1;

	if ((th->flags & FJ_TCP_ACK) && !ack_ok) {
		if (!(th->flags & FJ_TCP_RST)) {
			struct fj_ipv4 ip = { .src = f->key.raddr };
			send_rst(s, &ip, th, 0);
		}
		return;
	}
	if (th->flags & FJ_TCP_RST) {
		if (ack_ok) {
			s->c.tcp_rst_rx++;
			flow_closed(f, -ECONNREFUSED);
		}
		return;
	}
	if (!(th->flags & FJ_TCP_SYN) || !ack_ok)
		return; /* simultaneous open is not supported: the peer retries */
	f->irs = th->seq;
	f->rcv_nxt = th->seq + 1;
	f->rcv_adv = f->rcv_nxt;
	f->snd_una = th->ack;
	/* RFC 7323 §2.2: scaling both ways only if both SYNs carried it. */
	f->snd_ws = th->o.has_ws ? th->o.ws : 0;
	if (!th->o.has_ws)
		f->rcv_ws = 0;
	f->sack_ok = th->o.sack_perm;
	f->snd_wnd = th->wnd;
	f->snd_wl1 = th->seq;
	f->snd_wl2 = th->ack;
	uint16_t our_mss = (uint16_t)(s->mtu - FJ_IPV4_HDR_LEN - FJ_TCP_HDR_LEN);
	f->mss = th->o.has_mss ? RTE_MIN(th->o.mss, our_mss) : MSS_DEFAULT;
	if (f->mss < 64)
		f->mss = 64;
	f->cwnd = IW_SEGS * (uint32_t)f->mss;
	f->state = FJ_TCP_ESTABLISHED;
	fj_wheel_cancel(&T(s)->wheel, &f->rtx);
	f->rtt.backoffs = 0;
	s->c.tcp_established++;
	send_ack(f);
	tcp_output(f);
	notify(f); /* connected */
}

static void
flow_input(struct fj_flow *f, struct rte_mbuf *m, const struct fj_tcp_hdr *th, uint32_t len)
{
	struct fj_stack *s = f->s;
	uint32_t seq = th->seq;
	uint32_t seglen = len + !!(th->flags & FJ_TCP_SYN) + !!(th->flags & FJ_TCP_FIN);
	bool tell = false;

	if (f->state == FJ_TCP_SYN_SENT) {
		rte_pktmbuf_free(m);
		syn_sent_input(f, th);
		return;
	}

	if (f->state == FJ_TCP_SYN_RCVD && (th->flags & FJ_TCP_SYN) && !(th->flags & FJ_TCP_ACK) &&
	    seq == f->irs) {
		/* The peer's SYN again: our SYN-ACK was lost. */
		send_segment(f, f->iss, FJ_TCP_SYN | FJ_TCP_ACK, 0);
		rte_pktmbuf_free(m);
		return;
	}
	if (!acceptable(f, seq, seglen)) {
		if (!(th->flags & FJ_TCP_RST))
			send_ack(f);
		s->c.tcp_out_of_window++;
		rte_pktmbuf_free(m);
		return;
	}
	if (th->flags & FJ_TCP_RST) {
		/* RFC 5961 §3.2: only the exact next sequence resets. */
		rte_pktmbuf_free(m);
		if (seq != f->rcv_nxt) {
			challenge_ack(f);
			return;
		}
		s->c.tcp_rst_rx++;
		flow_closed(f, -ECONNRESET);
		return;
	}
	if (th->flags & FJ_TCP_SYN) {
		rte_pktmbuf_free(m);
		challenge_ack(f); /* RFC 5961 §4.2 */
		return;
	}
	if (!(th->flags & FJ_TCP_ACK)) {
		rte_pktmbuf_free(m);
		return;
	}
	if (f->state == FJ_TCP_SYN_RCVD) {
		if (!fj_seq_in(th->ack, f->snd_una + 1, f->snd_nxt + 1)) {
			rte_pktmbuf_free(m);
			struct fj_ipv4 ip = { .src = f->key.raddr };
			send_rst(s, &ip, th, seglen);
			return;
		}
		f->state = FJ_TCP_ESTABLISHED;
		if (f->l)
			f->l->half_open--;
		f->snd_una = th->ack;
		f->snd_wnd = (uint32_t)th->wnd << f->snd_ws;
		f->snd_wl1 = seq;
		f->snd_wl2 = th->ack;
		fj_wheel_cancel(&T(s)->wheel, &f->rtx);
		f->rtt.backoffs = 0;
		s->c.tcp_established++;
		tell = true; /* accepted: the callback runs at the end */
	} else if (!process_ack(f, th, len)) {
		rte_pktmbuf_free(m);
		return;
	}
	if (f->state == FJ_TCP_CLOSED) {
		rte_pktmbuf_free(m);
		return;
	}
	/* Our FIN acknowledged? */
	bool fin_acked = f->fin_sent && f->snd_una == f->snd_max;
	switch (f->state) {
	case FJ_TCP_FIN_WAIT_1:
		if (fin_acked)
			f->state = FJ_TCP_FIN_WAIT_2;
		break;
	case FJ_TCP_CLOSING:
		if (fin_acked) {
			enter_time_wait(f);
		}
		break;
	case FJ_TCP_LAST_ACK:
		if (fin_acked) {
			rte_pktmbuf_free(m);
			flow_closed(f, 0);
			return;
		}
		break;
	default:
		break;
	}

	/* Payload (sixth and seventh checks): trim what we already have. */
	if (len > 0 && (f->state == FJ_TCP_ESTABLISHED || f->state == FJ_TCP_FIN_WAIT_1 ||
			f->state == FJ_TCP_FIN_WAIT_2)) {
		if (fj_seq_lt(seq, f->rcv_nxt)) {
			uint32_t old = f->rcv_nxt - seq;
			rte_pktmbuf_adj(m, (uint16_t)RTE_MIN(old, len));
			len -= RTE_MIN(old, len);
			seq = f->rcv_nxt;
		}
		uint32_t space = rcv_space(f);
		if (len > space) {
			/* Beyond the window we offered: keep what fits. */
			rte_pktmbuf_trim(m, (uint16_t)(len - space));
			len = space;
		}
		if (len > 0 && seq == f->rcv_nxt) {
			/* RFC 5681 §4.2: ACK at once when this fills a gap. */
			bool filled = f->nooo > 0;
			take_data(f, m);
			m = NULL;
			tell = true;
			s->c.tcp_rx_bytes += len;
			if (filled || ++f->unacked >= 2 || (th->flags & FJ_TCP_FIN)) {
				send_ack(f);
			} else if (!fj_timer_armed(&f->delack)) {
				fj_wheel_arm(&T(s)->wheel, &f->delack,
					     fj_now(s) + s->hz * DELACK_MS / 1000, delack_fire);
			}
		} else if (len > 0) {
			keep_ooo(f, seq, m);
			m = NULL;
			send_ack(f); /* an immediate duplicate ACK (RFC 5681 §4.2) */
		}
	}
	if (m != NULL)
		rte_pktmbuf_free(m);

	/* FIN (eighth check), when everything before it is here. */
	if ((th->flags & FJ_TCP_FIN) && seq + len == f->rcv_nxt && !f->fin_rcvd &&
	    f->state != FJ_TCP_TIME_WAIT) {
		f->fin_rcvd = true;
		f->rcv_nxt++;
		tell = true;
		switch (f->state) {
		case FJ_TCP_ESTABLISHED:
			f->state = FJ_TCP_CLOSE_WAIT;
			break;
		case FJ_TCP_FIN_WAIT_1:
			if (f->fin_sent && f->snd_una == f->snd_max)
				enter_time_wait(f);
			else
				f->state = FJ_TCP_CLOSING;
			break;
		case FJ_TCP_FIN_WAIT_2:
			enter_time_wait(f);
			break;
		default:
			break;
		}
		send_ack(f);
	} else if ((th->flags & FJ_TCP_FIN) && f->state == FJ_TCP_TIME_WAIT) {
		/* A retransmitted FIN: ACK it, restart 2 MSL. */
		send_ack(f);
		enter_time_wait(f);
	}
	tcp_output(f);
	/* The application hears last: it may close or abort the flow. */
	if (tell || f->writable) {
		f->writable = false;
		notify(f);
	}
}

void
fj_tcp_input(struct fj_stack *s, struct rte_mbuf *m, const struct fj_ipv4 *ip)
{
	uint16_t off = (uint16_t)(FJ_ETH_HDR_LEN + ip->hdr_len);
	uint8_t *p = rte_pktmbuf_mtod_offset(m, uint8_t *, off);
	uint32_t tlen = ip->total_len - ip->hdr_len;
	uint64_t l4 = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	struct fj_tcp_hdr th;
	enum fj_drop r;

	r = fj_tcp_parse(p, tlen, ip->src, ip->dst, s->rx_csum && l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD,
			 &th);
	if (r != FJ_OK) {
		fj_drop(s, m, r);
		return;
	}
	if (ip->dst != s->ip) {
		fj_drop(s, m, FJ_DROP_NOT_FOR_US); /* no TCP to broadcast */
		return;
	}
	s->c.tcp_rx++;
	uint32_t len = tlen - th.hdr_len;
	uint32_t seglen = len + !!(th.flags & FJ_TCP_SYN) + !!(th.flags & FJ_TCP_FIN);
	struct fj_tcp_key key = { ip->src, ip->dst, th.sport, th.dport };
	void *data = NULL;

	if (rte_hash_lookup_data(T(s)->flows, &key, &data) < 0) {
		struct fj_listener *l = T(s)->listeners[th.dport];
		if (l != NULL && (th.flags & (FJ_TCP_SYN | FJ_TCP_ACK | FJ_TCP_RST)) == FJ_TCP_SYN)
			passive_open(s, l, ip, &th);
		else
			send_rst(s, ip, &th, seglen);
		rte_pktmbuf_free(m);
		return;
	}
	/* The payload alone, as the application will see it. */
	rte_pktmbuf_adj(m, (uint16_t)(off + th.hdr_len));
	rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - len));
	flow_input(data, m, &th, len);
}

/* ------------------------------------------------------ the flow API */

struct fj_listener *
fj_listen_tcp(struct fj_stack *s, uint16_t port, fj_flow_fn fn, void *arg)
{
	struct fj_listener *l;

	if (port == 0 || fn == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if (s->backend == FJ_NET_SOCKET)
		return fj_socket_listen(s, port, fn, arg);
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
	return l;
}

struct fj_flow *
fj_connect_tcp(struct fj_stack *s, const struct fj_addr *to, fj_flow_fn fn, void *arg)
{
	struct fj_flow *f;

	if (to == NULL || to->port == 0 || to->ip == 0 || fn == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if (s->backend == FJ_NET_SOCKET)
		return fj_socket_connect(s, to, fn, arg);
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
	/* An ephemeral port (RFC 6056 would randomise more; one counter from a
	 * random start) that makes the 4-tuple unique. */
	for (int tries = 0;; tries++) {
		if (tries == 16384) {
			free(f);
			errno = EADDRNOTAVAIL;
			return NULL;
		}
		uint16_t port = (uint16_t)(49152 + T(s)->next_port++ % 16384);
		f->key = (struct fj_tcp_key){ to->ip, s->ip, to->port, port };
		if (T(s)->listeners[port] == NULL &&
		    rte_hash_add_key_data(T(s)->flows, &f->key, f) >= 0) {
			void *other;
			if (rte_hash_lookup_data(T(s)->flows, &f->key, &other) >= 0 && other == f)
				break;
		}
	}
	T(s)->nflows++;
	f->lnext = T(s)->all;
	if (f->lnext)
		f->lnext->lprev = f;
	T(s)->all = f;
	f->state = FJ_TCP_SYN_SENT;
	f->iss = fj_tcp_isn(T(s)->isn_key, s->ip, f->key.lport, to->ip, to->port,
			    to_us(s, fj_now(s)));
	f->snd_una = f->iss;
	f->snd_nxt = f->snd_max = f->iss + 1;
	f->rcv_ws = RCV_WS;
	f->mss = MSS_DEFAULT;
	f->ssthresh = UINT32_MAX;
	fj_rtt_init(&f->rtt, 200000, 60000000, to_us(s, s->hz / 1000) + 1);
	s->c.tcp_active_opens++;
	send_segment(f, f->iss, FJ_TCP_SYN, 0);
	arm_rtx(f);
	return f;
}

enum fj_read
fj_flow_read(struct fj_flow *f, struct fj_buf **buf)
{
	if (f->s->backend == FJ_NET_SOCKET)
		return fj_socket_flow_read(f, buf);
	if (f->rcvq.n > 0) {
		struct fj_mq *q = &f->rcvq;
		struct rte_mbuf *m = q->m[q->head];
		if (q->off)
			rte_pktmbuf_adj(m, (uint16_t)q->off);
		q->bytes -= m->pkt_len;
		q->head = (uint16_t)((q->head + 1) % FJ_TCP_QUEUE);
		q->n--;
		q->off = 0;
		*buf = (struct fj_buf *)m;
		/* Tell the peer when the window has opened by a lot. */
		if (f->state == FJ_TCP_ESTABLISHED &&
		    f->rcv_nxt + rcv_space(f) - f->rcv_adv >= RTE_MAX(2u * f->mss, RCV_BUF / 4u))
			send_ack(f);
		return FJ_DATA;
	}
	if (f->state == FJ_TCP_CLOSED)
		return f->err ? FJ_ERROR : FJ_EOF;
	if (f->fin_rcvd)
		return FJ_EOF;
	return FJ_AGAIN;
}

int
fj_flow_write(struct fj_flow *f, struct fj_buf *buf)
{
	struct rte_mbuf *m = (struct rte_mbuf *)buf;

	if (f->s->backend == FJ_NET_SOCKET)
		return fj_socket_flow_write(f, buf);
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
	mq_push(&f->sndq, m);
	f->s->c.tcp_tx_bytes += m->pkt_len;
	tcp_output(f);
	return 0;
}

void
fj_flow_close(struct fj_flow *f)
{
	if (f->s->backend == FJ_NET_SOCKET) {
		fj_socket_flow_close(f);
		return;
	}
	if (f->app_closed)
		return;
	f->app_closed = true;
	mq_free(&f->rcvq); /* unread data is dropped */
	switch (f->state) {
	case FJ_TCP_ESTABLISHED:
		f->state = FJ_TCP_FIN_WAIT_1;
		break;
	case FJ_TCP_CLOSE_WAIT:
		f->state = FJ_TCP_LAST_ACK;
		break;
	case FJ_TCP_SYN_SENT:
	case FJ_TCP_CLOSED:
		f->state = FJ_TCP_CLOSED;
		flow_free(f);
		return;
	default:
		return; /* already closing (after a shutdown) */
	}
	f->fin_queued = true;
	tcp_output(f);
}

int
fj_flow_shutdown(struct fj_flow *f)
{
	if (f->s->backend == FJ_NET_SOCKET)
		return shutdown(f->fd, SHUT_WR) < 0 ? -errno : 0;
	switch (f->state) {
	case FJ_TCP_ESTABLISHED:
		f->state = FJ_TCP_FIN_WAIT_1;
		break;
	case FJ_TCP_CLOSE_WAIT:
		f->state = FJ_TCP_LAST_ACK;
		break;
	default:
		return f->fin_queued ? 0 : -ENOTCONN;
	}
	f->fin_queued = true;
	tcp_output(f);
	return 0;
}

void
fj_flow_set_nagle(struct fj_flow *f, bool on)
{
	if (f->s->backend == FJ_NET_SOCKET) {
		int v = !on;
		setsockopt(f->fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v));
		return;
	}
	f->nagle = on;
}

void
fj_flow_abort(struct fj_flow *f)
{
	if (f->s->backend == FJ_NET_SOCKET) {
		fj_socket_flow_abort(f);
		return;
	}
	f->app_closed = true;
	if (f->state != FJ_TCP_CLOSED)
		send_rst_flow(f);
	f->state = FJ_TCP_CLOSED;
	flow_free(f);
}

int
fj_flow_error(const struct fj_flow *f)
{
	return f->err;
}

void
fj_flow_set_user(struct fj_flow *f, void *user)
{
	f->user = user;
}

void *
fj_flow_user(const struct fj_flow *f)
{
	return f->user;
}

struct fj_addr
fj_flow_peer(const struct fj_flow *f)
{
	return (struct fj_addr){ f->key.raddr, f->key.rport };
}

unsigned
fj_tcp_mbufs_held(struct fj_stack *s)
{
	unsigned n = 0;

	for (const struct fj_flow *f = T(s)->all; f != NULL; f = f->lnext)
		n += f->sndq.n + f->rcvq.n + f->nooo;
	return n;
}

/* ------------------------------------------------------ set-up */

int
fj_tcp_init(struct fj_stack *s)
{
	static unsigned serial;
	char name[RTE_HASH_NAMESIZE];
	struct fj_tcp *t = T(s);

	snprintf(name, sizeof(name), "fj_tcp%u", serial++);
	struct rte_hash_parameters hp = {
		.name = name, .entries = MAX_FLOWS * 2, .key_len = sizeof(struct fj_tcp_key),
		.hash_func = rte_jhash, .socket_id = (int)rte_socket_id(),
	};
	t->flows = rte_hash_create(&hp);
	t->listeners = calloc(65536, sizeof(*t->listeners));
	if (t->flows == NULL || t->listeners == NULL)
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
		struct fj_flow *f = t->all;
		t->all = f->lnext;
		flow_release(f);
		free(f);
	}
	if (t->flows != NULL)
		rte_hash_free(t->flows);
	if (t->listeners != NULL)
		for (uint32_t p = 0; p < 65536; p++)
			free(t->listeners[p]);
	free(t->listeners);
	t->flows = NULL;
	t->listeners = NULL;
}
