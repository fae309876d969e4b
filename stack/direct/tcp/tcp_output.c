/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP output: the per-flow queues, the advertised window, building and
 * sending segments, what goes when the windows allow (RFC 5681 §3.1,
 * Nagle and sender SWS avoidance) and in SACK recovery (RFC 6675 §5), and
 * RSTs. The timers are in tcp_timer.c.
 */
#include <rte_ip.h>

#include "tcp_impl.h"

/* Payloads up to this many bytes are copied into the segment's buffer. */
#define TCP_COPY_MAX 512

/* ------------------------------------------------------ mbuf queues */

void
tcp_mq_push(struct fj_mq *q, struct rte_mbuf *m)
{
	q->m[(q->head + q->n) % FJ_TCP_QUEUE] = m;
	q->n++;
	q->bytes += m->pkt_len;
}

void
tcp_mq_free(struct fj_mq *q)
{
	for (uint16_t i = 0; i < q->n; i++)
		rte_pktmbuf_free(q->m[(q->head + i) % FJ_TCP_QUEUE]);
	q->n = 0;
	q->bytes = 0;
	q->off = 0;
}

/* Drop @n bytes from the front. */
void
tcp_mq_consume(struct fj_mq *q, uint32_t n)
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
void
tcp_mq_copy(const struct fj_mq *q, uint32_t off, uint32_t len, uint8_t *dst)
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

/* ------------------------------------------------------ output */

uint32_t
tcp_rcv_space(const struct fj_tcp_flow *f)
{
	uint32_t used = f->rcvq.bytes + f->ooo_bytes;
	if (f->rcvq.n + f->nooo + 4 >= FJ_TCP_QUEUE)
		return 0;
	return used >= RCV_BUF ? 0 : RCV_BUF - used;
}

/* The window to advertise, never shrinking the right edge (RFC 9293
 * §3.8.6.2.2) and not moving it by small amounts (receiver SWS avoidance). */
static uint16_t
rcv_window(struct fj_tcp_flow *f)
{
	/* RFC 7323 §2.2: the window of a SYN is never scaled. */
	uint8_t shift = f->state == FJ_TCP_SYN_RCVD || f->state == FJ_TCP_SYN_SENT ? 0 : f->rcv_ws;
	uint32_t edge = f->rcv_nxt + RTE_MIN(tcp_rcv_space(f), 65535u << shift);
	/* rcv_adv is the edge offered, what we accept; the peer is told it
	 * rounded down to the scale (RFC 7323 appendix F: less than one unit
	 * of retraction). Kept unless it can move right by a useful amount. */
	uint32_t adv = fj_seq_max(f->rcv_adv, f->rcv_nxt);
	if (fj_seq_gt(edge, adv) && edge - adv >= RTE_MIN(f->mss, RCV_BUF / 2u))
		f->rcv_adv = edge;
	return (uint16_t)RTE_MIN(tcp_rcv_wnd(f) >> shift, 65535u);
}

/*
 * The out-of-order data we hold as SACK blocks (RFC 2018 §4): contiguous
 * pieces merged, the block with the latest arrival first, then the rest.
 */
static void
sack_blocks(const struct fj_tcp_flow *f, struct fj_tcp_opts *o)
{
	struct fj_sack_block b[FJ_TCP_OOO];
	uint32_t when[FJ_TCP_OOO];
	int n = 0;

	for (int i = 0; i < f->nooo; i++) {
		uint32_t l = f->ooo[i].seq, r = l + f->ooo[i].m->pkt_len;
		int j;
		for (j = 0; j < n; j++) {
			if (fj_seq_le(l, b[j].right) && fj_seq_ge(r, b[j].left)) {
				b[j].left = fj_seq_min(b[j].left, l);
				b[j].right = fj_seq_max(b[j].right, r);
				when[j] = RTE_MAX(when[j], f->ooo[i].when);
				break;
			}
		}
		if (j == n) {
			b[n] = (struct fj_sack_block){ l, r };
			when[n++] = f->ooo[i].when;
		}
	}
	/* Merging may have made blocks touch: once more. */
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (fj_seq_le(b[j].left, b[i].right) && fj_seq_ge(b[j].right, b[i].left)) {
				b[i].left = fj_seq_min(b[i].left, b[j].left);
				b[i].right = fj_seq_max(b[i].right, b[j].right);
				when[i] = RTE_MAX(when[i], when[j]);
				b[j] = b[--n];
				when[j--] = when[n];
			}
	/* RFC 2018 §4: the block of the latest arrival first, then the
	 * most recently changed ones (which repeats what was reported). */
	o->nsack = 0;
	while (o->nsack < FJ_TCP_MAX_SACK && n > 0) {
		int best = 0;
		for (int i = 1; i < n; i++)
			if (when[i] > when[best])
				best = i;
		o->sack[o->nsack++] = b[best];
		b[best] = b[--n];
		when[best] = when[n];
	}
}

/* A buffer for a segment of @size bytes (header and payload) at *p; NULL
 * (counted) if there is none. */
static struct rte_mbuf *
seg_alloc(struct fj_stack *s, size_t size, uint8_t **p)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(s->mp);

	if (m == NULL || (*p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)size)) == NULL) {
		rte_pktmbuf_free(m);
		s->c.drops[FJ_DROP_NO_MBUF]++;
		return NULL;
	}
	return m;
}

/* Write the header in front of the @len payload bytes already at
 * p + its length, and send. With the port's TCP checksum offload the
 * header carries the pseudo-header sum and the port finishes it. */
static int
seg_send(struct fj_stack *s, struct rte_mbuf *m, uint8_t *p, const struct fj_tcp_hdr *h,
	 const struct fj_tcp_ends *e, uint32_t len)
{
	size_t hl = fj_tcp_build_ph(p, h, tcp_pseudo(e), len, s->tx_tcp_csum);

	if (s->tx_tcp_csum)
		fj_tx_l4_csum(m, RTE_MBUF_F_TX_TCP_CKSUM, (uint16_t)hl);
	s->c.tcp_tx++;
	return tcp_ip_output(s, m, e);
}

/*
 * Zero-copy payload: @len bytes of the send queue from @off on, appended
 * to the header mbuf @m as pieces that refer to the queue's buffers (the
 * buffers' reference counts keep them until the port is done with the
 * segment, and the queue holds its own until the bytes are acknowledged).
 * At most @max_pieces; the bytes taken, which are fewer when the queue's
 * buffers are smaller than the segment allows pieces for. -ENOBUFS
 * (counted) when no reference is left.
 *
 * A piece of odd length ends the segment: every piece but the last is
 * even, so each piece's bytes keep their 16-bit alignment in the
 * checksum. Ports that sum a chain piece by piece, as DPDK 22.11's
 * net_tap does for its checksum and TSO emulation, get it right only so.
 */
static int32_t
seg_refs(struct fj_stack *s, struct rte_mbuf *m, const struct fj_mq *q, uint32_t off,
	 uint32_t len, unsigned max_pieces)
{
	struct rte_mbuf *tail = m;
	uint32_t taken = 0;

	off += q->off;
	for (uint16_t i = 0; i < q->n && taken < len && max_pieces > 0; i++) {
		struct rte_mbuf *qm = q->m[(q->head + i) % FJ_TCP_QUEUE];
		if (off >= qm->pkt_len) {
			off -= qm->pkt_len;
			continue;
		}
		for (struct rte_mbuf *seg = qm; seg != NULL && taken < len && max_pieces > 0;
		     seg = seg->next) {
			if (off >= seg->data_len) {
				off -= seg->data_len;
				continue;
			}
			uint32_t k = RTE_MIN(len - taken, (uint32_t)seg->data_len - off);
			struct rte_mbuf *r = rte_pktmbuf_alloc(s->ref_mp);
			if (r == NULL) {
				s->c.drops[FJ_DROP_NO_MBUF]++;
				return -ENOBUFS;
			}
			rte_pktmbuf_attach(r, seg);
			r->data_off = (uint16_t)(r->data_off + off);
			r->data_len = (uint16_t)k;
			r->pkt_len = k;
			tail->next = r;
			tail = r;
			m->nb_segs++;
			m->pkt_len += k;
			taken += k;
			off = 0;
			max_pieces--;
			if (k & 1)
				return (int32_t)taken;
		}
	}
	return (int32_t)taken;
}

/* Without the port's checksum offload: the sum over a chained segment
 * (its header at @p holds the pseudo-header's sum, fj_tcp_build's
 * offload form). */
static void
seg_csum_chain(struct rte_mbuf *m, uint8_t *p, uint32_t seglen)
{
	uint16_t sum = 0;

	rte_raw_cksum_mbuf(m, 0, seglen, &sum);
	sum = (uint16_t)~sum;
	memcpy(p + 16, &sum, 2);
}

int32_t
tcp_send_segment(struct fj_tcp_flow *f, uint32_t seq, uint8_t flags, uint32_t len)
{
	struct fj_stack *s = f->s;
	struct fj_tcp_hdr h = { .sport = f->key.lport, .dport = f->key.rport, .seq = seq,
				.ack = (flags & FJ_TCP_ACK) ? f->rcv_nxt : 0, .flags = flags };
	/* Timestamps first: the room left for SACK blocks counts them. */
	if (f->ts_ok || f->state == FJ_TCP_SYN_SENT) {
		/* RFC 7323 §3: on every segment but a RST; TSecr 0 on a SYN. */
		h.o.has_ts = !(flags & FJ_TCP_RST);
		h.o.tsval = tcp_ts_now(f);
		h.o.tsecr = f->state == FJ_TCP_SYN_SENT ? 0 : f->ts_recent;
	}
	if (flags & FJ_TCP_SYN) {
		/* RFC 9293 §3.7.1 and RFC 7323 §2.2: our MSS and window shift
		 * (on a SYN-ACK only if the peer's SYN had one). */
		h.o.has_mss = true;
		h.o.mss = tcp_mss_link(s, f->v6);
		if (f->rcv_ws) {
			h.o.has_ws = true;
			h.o.ws = f->rcv_ws;
		}
		/* Offered on our SYN, answered on a SYN-ACK. */
		h.o.sack_perm = f->state == FJ_TCP_SYN_SENT || f->sack_ok;
	} else if (f->sack_ok && f->nooo > 0) {
		sack_blocks(f, &h.o);
		/* Blocks ride only in the room a segment leaves under the MTU
		 * (RFC 6691: the MSS does not count options). */
		uint32_t room = tcp_mss_link(s, f->v6);
		room = room > len ? room - len : 0;
		while (h.o.nsack > 0 && fj_tcp_opts_len(&h.o) > room)
			h.o.nsack--;
	}
	h.wnd = rcv_window(f);
	if (flags & FJ_TCP_ACK)
		f->last_ack_sent = f->rcv_nxt;
	size_t hl = FJ_TCP_HDR_LEN + fj_tcp_opts_len(&h.o);
	uint8_t *p;
	/* Small payloads are copied (one buffer, cheaper than references);
	 * larger ones are referenced where the port takes chains. */
	bool refs = s->tx_refs && len > TCP_COPY_MAX;
	struct rte_mbuf *m = seg_alloc(s, refs ? hl : hl + len, &p);
	if (m == NULL)
		return -ENOBUFS;
	if (refs) {
		int32_t k = seg_refs(s, m, &f->sndq, seq - f->snd_una, len,
				     (unsigned)s->tx_max_segs - 1u);
		if (k <= 0) {
			rte_pktmbuf_free(m);
			return k < 0 ? k : -ENOBUFS;
		}
		len = (uint32_t)k;
		s->c.tcp_tx_ref_segs++;
	} else if (len) {
		tcp_mq_copy(&f->sndq, seq - f->snd_una, len, p + hl);
	}
	/* Whatever we send carries the latest ACK and window. */
	f->unacked = 0;
	f->ack_due = false;
	if (!f->output_due)
		tcp_update_due(f, false);
	fj_wheel_cancel(&T(s)->wheel, &f->delack);
	struct fj_tcp_ends e = tcp_flow_ends(f);
	if (!refs) {
		int rc = seg_send(s, m, p, &h, &e, len);
		return rc < 0 ? rc : (int32_t)len;
	}
	/* Referenced payload: the header holds the pseudo-header's sum, and
	 * the port or the sum over the chain finishes it. */
	uint32_t ph = tcp_pseudo(&e);
	fj_tcp_build_ph(p, &h, ph, len, true);
	if (len > f->mss) {
		/* TSO (send_new asks for more than one MSS only when the port
		 * cuts): the port repeats the header, options included, on
		 * every MSS of payload; the pseudo-header sum leaves the length
		 * out, as DPDK has it. */
		uint16_t c = (uint16_t)~fj_csum_fold(ph);
		p[16] = (uint8_t)(c >> 8);
		p[17] = (uint8_t)c;
		fj_tx_l4_csum(m, RTE_MBUF_F_TX_TCP_CKSUM, (uint16_t)hl);
		m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG;
		m->tso_segsz = (uint16_t)(f->mss - s->tso_short);
		s->c.tcp_tso_segs++;
	} else if (s->tx_tcp_csum) {
		fj_tx_l4_csum(m, RTE_MBUF_F_TX_TCP_CKSUM, (uint16_t)hl);
	} else {
		seg_csum_chain(m, p, (uint32_t)hl + len);
	}
	s->c.tcp_tx++;
	int rc = tcp_ip_output(s, m, &e);
	return rc < 0 ? rc : (int32_t)len;
}

void
tcp_send_ack(struct fj_tcp_flow *f)
{
	tcp_send_segment(f, f->snd_nxt, FJ_TCP_ACK, 0);
}

/* ------------------------------------------------------ SACK recovery */

/*
 * RFC 6675 §4 IsLost(): more than (DupThresh - 1) * SMSS bytes, or
 * DupThresh separate blocks, SACKed above @seq.
 */
bool
tcp_is_lost(const struct fj_tcp_flow *f, uint32_t seq)
{
	uint32_t bytes = 0, blocks = 0;

	for (int i = 0; i < f->nsb; i++)
		if (fj_seq_ge(f->sb[i].left, seq)) {
			bytes += f->sb[i].right - f->sb[i].left;
			blocks++;
		}
	return blocks >= 3 || bytes > 2u * f->mss;
}

/*
 * RFC 6675 §4 SetPipe(): the bytes still in the network, by holes (no
 * byte of a hole is SACKed, so one IsLost answers for the whole hole).
 * A byte counts once if not lost, once more if retransmitted.
 */
uint32_t
tcp_pipe(const struct fj_tcp_flow *f)
{
	uint32_t pipe = 0, cur = f->snd_una, hrx = fj_seq_max(f->rexmit_nxt, f->snd_una);

	for (int i = 0; i <= f->nsb; i++) {
		uint32_t end = i < f->nsb ? f->sb[i].left : f->snd_max;
		if (fj_seq_lt(cur, end)) {
			bool lost = i < f->nsb && tcp_is_lost(f, cur);
			if (!lost)
				pipe += end - cur;
			if (fj_seq_gt(hrx, cur))
				pipe += fj_seq_min(hrx, end) - cur;
		}
		if (i < f->nsb)
			cur = fj_seq_max(cur, f->sb[i].right);
	}
	return pipe;
}

/*
 * RFC 6675 §4 NextSeg() rules 1 and 3: the first hole byte above HighRxt
 * (rexmit_nxt) that is lost, or with @any, any hole byte below the highest
 * SACKed one.
 */
static bool
next_hole(const struct fj_tcp_flow *f, bool any, uint32_t *seq, uint32_t *len)
{
	uint32_t cur = fj_seq_max(f->rexmit_nxt, f->snd_una);

	for (int i = 0; i < f->nsb; i++) {
		if (fj_seq_lt(cur, f->sb[i].left) && (any || tcp_is_lost(f, cur))) {
			*seq = cur;
			*len = RTE_MIN(f->sb[i].left - cur, (uint32_t)f->mss);
			return true;
		}
		cur = fj_seq_max(cur, f->sb[i].right);
	}
	return false;
}

/* Retransmit @len bytes at @seq (HighRxt moves past them). */
static int
retransmit(struct fj_tcp_flow *f, uint32_t seq, uint32_t len)
{
	len = RTE_MIN(len, f->snd_una + f->sndq.bytes - seq);
	int32_t k = len ? tcp_send_segment(f, seq, FJ_TCP_ACK, len) : -1;
	if (k <= 0)
		return -1;
	len = (uint32_t)k;
	f->rexmit_nxt = seq + len;
	f->s->c.tcp_retransmits++;
	return (int)len;
}

/* The first segment presumed lost goes now (RFC 6675 §5 (4.3)). */
void
tcp_retransmit_first(struct fj_tcp_flow *f)
{
	uint32_t seq = f->snd_una, len = f->mss;

	/* With SACK, a lost hole or else the first: never what the peer has. */
	if (f->sack_ok && !next_hole(f, false, &seq, &len))
		next_hole(f, true, &seq, &len);
	retransmit(f, seq, len);
}

/* New data at SND.NXT, at most @room bytes; its length, 0 if none went. */
static uint32_t
send_new(struct fj_tcp_flow *f, uint32_t room)
{
	uint32_t data_end = f->snd_una + f->sndq.bytes;
	uint32_t wnd_end = f->snd_una + f->snd_wnd;

	if (!fj_seq_lt(f->snd_nxt, data_end) || !fj_seq_lt(f->snd_nxt, wnd_end))
		return 0;
	/* With TSO a segment takes as many whole MSS as the windows allow,
	 * up to an IP datagram's 64 KiB; the port cuts it (RFC 9293 §3.7.1:
	 * each piece it sends is at most the MSS). */
	uint32_t seg_max = f->mss;
	if (tcp_tso(f)) {
		uint32_t big = f->s->tso_max;
		if (f->s->tso_pieces)
			big = RTE_MIN(big, (uint32_t)f->s->tso_pieces * (f->mss - f->s->tso_short));
		seg_max = RTE_MAX(seg_max, big / f->mss * f->mss);
	}
	uint32_t len = RTE_MIN(RTE_MIN(data_end - f->snd_nxt, seg_max), room);
	len = RTE_MIN(len, wnd_end - f->snd_nxt);
	if (len > f->mss && f->snd_nxt + len != data_end)
		len -= len % f->mss; /* no short piece in the middle of a stream */
	/* Nagle, when asked for: a small segment waits while data is
	 * unacknowledged (RFC 9293 §3.7.4). Sender SWS avoidance (§3.8.6.2.1):
	 * when the peer's window leaves a piece smaller than a segment and
	 * than half the largest window seen, it waits too, unless it is all
	 * we have; with nothing in flight it goes (the override, no timer). */
	bool small = len < f->mss && f->snd_nxt != f->snd_una;
	if (len == 0 || (small && f->nagle) ||
	    (small && len == wnd_end - f->snd_nxt && fj_seq_lt(f->snd_nxt + len, data_end) &&
	     len < f->max_wnd / 2))
		return 0;
	uint8_t flags = FJ_TCP_ACK;
	if (f->snd_nxt + len == data_end)
		flags |= FJ_TCP_PSH;
	if (!f->timing && f->snd_nxt == f->snd_max) {
		/* Karn: time only new data. */
		f->timing = true;
		f->rtt_seq = f->snd_nxt;
		f->rtt_t0 = fj_now(f->s);
	}
	int32_t k = tcp_send_segment(f, f->snd_nxt, flags, len);
	if (k <= 0)
		return 0;
	len = (uint32_t)k;
	f->snd_nxt += len;
	f->snd_max = fj_seq_max(f->snd_max, f->snd_nxt);
	return len;
}

/* The port's ring refuses and the transmit batch is down to its reserve:
 * the flow waits for the port with its data in its send queue (rather
 * than have segments dropped and sent again a round trip later), on the
 * same list as the per-flow limit's, until the next loop turn. */
static bool
port_wait(struct fj_tcp_flow *f)
{
	if (fj_netif_data_room(f->s))
		return false;
	if (!f->queue_wait)
		f->s->c.tcp_port_waits++;
	tcp_queue_wait(f, true);
	return true;
}

/*
 * RFC 6675 §5 (C): while cwnd - pipe >= 1 SMSS, send NextSeg(): a lost
 * hole, else new data, else any hole below SACKed data. No rescue
 * retransmission (rule 4, optional).
 */
static bool
sack_recovery_output(struct fj_tcp_flow *f)
{
	uint32_t pipe = tcp_pipe(f);
	bool sent = false;

	for (int n = 0; n < FJ_TCP_QUEUE && pipe + f->mss <= f->cwnd; n++) {
		uint32_t seq, len;
		int k;
		if (port_wait(f))
			break;
		if (next_hole(f, false, &seq, &len) && (k = retransmit(f, seq, len)) > 0) {
			pipe += (uint32_t)k;
		} else if ((len = send_new(f, f->mss)) > 0) {
			pipe += len;
		} else if (next_hole(f, true, &seq, &len) && (k = retransmit(f, seq, len)) > 0) {
			pipe += (uint32_t)k;
		} else {
			break;
		}
		sent = true;
	}
	return sent;
}

/*
 * With TSO, each ACK opens the window by a segment or two; sending that
 * at once would make every segment small. While enough is in flight that
 * more ACKs are sure to come (4 MSS: a receiver ACKs at least every second
 * full segment, RFC 5681 §4.2), the sender waits until a third of the
 * window is free, unless that is more than is left to send or than one
 * segment takes (the deferral of Linux's TSO, simplified: no timer, the
 * ACKs end it).
 */
static bool
tso_defer(const struct fj_tcp_flow *f, uint32_t inflight, uint32_t wnd, uint32_t data_end)
{
	if (!tcp_tso(f) || inflight < 4u * f->mss || !fj_seq_lt(f->snd_nxt, data_end))
		return false;
	uint32_t room = wnd - inflight, left = data_end - f->snd_nxt;
	return room < left && room < RTE_MIN(wnd / 3, f->s->tso_max);
}

/*
 * The per-flow queue limit (--flow-queue-bytes; Linux's TCP small queues
 * do the same): a flow gives the port no more while the byte it sent that
 * many bytes ago is still there, so another flow's segment waits behind
 * at most that much of each bulk flow in the port's FIFO (the rest waits
 * in the flow's send queue). Whether the port still holds a byte shows in
 * the reference count of the send queue's buffer (a segment refers to it
 * until the port frees the segment); copied payload is not followed. The
 * port gives back what it has sent on request (tx_clean_fn), as most free
 * sent buffers only when short of descriptors.
 */
static bool
queue_held(struct fj_tcp_flow *f)
{
	struct fj_stack *s = f->s;
	uint32_t sent = f->snd_nxt - f->snd_una;

	if (s->tx_clean_fn == NULL || sent <= s->flow_queue_bytes)
		return false;
	const struct fj_mq *q = &f->sndq;
	uint32_t off = q->off + (sent - s->flow_queue_bytes);
	const struct rte_mbuf *seg = NULL;
	for (uint16_t i = 0; i < q->n && seg == NULL; i++) {
		const struct rte_mbuf *qm = q->m[(q->head + i) % FJ_TCP_QUEUE];
		if (off >= qm->pkt_len) {
			off -= qm->pkt_len;
			continue;
		}
		for (seg = qm; off >= seg->data_len; seg = seg->next)
			off -= seg->data_len;
	}
	if (seg == NULL || rte_mbuf_refcnt_read(seg) == 1)
		return false;
	s->tx_clean_fn(s);
	return rte_mbuf_refcnt_read(seg) > 1;
}

void
fj_tcp_queue_poll(struct fj_stack *s)
{
	struct fj_tcp *t = T(s);

	/* Each waiting flow once, in the order they began to wait: one that
	 * is still held goes to the back. */
	for (uint32_t n = t->nqwait; n > 0 && t->qwait != NULL; n--) {
		struct fj_tcp_flow *f = t->qwait;
		if (!fj_netif_data_room(s))
			break; /* the port still refuses: all wait on */
		tcp_queue_wait(f, false);
		if (queue_held(f))
			tcp_queue_wait(f, true);
		else
			tcp_output(f);
	}
}

/* Send what the windows allow: the lesser of the peer's window and cwnd
 * (RFC 5681 §3.1), or in SACK recovery what the pipe leaves (RFC 6675
 * §5); small segments as send_new decides (Nagle if asked, SWS). */
void
tcp_output(struct fj_tcp_flow *f)
{
	if (f->state == FJ_TCP_CLOSED || f->state == FJ_TCP_SYN_RCVD ||
	    f->state == FJ_TCP_TIME_WAIT)
		return;
	uint32_t data_end = f->snd_una + f->sndq.bytes;
	uint32_t wnd = RTE_MIN(f->snd_wnd, f->cwnd);
	bool sent = false;

	if (f->in_recovery && f->sack_ok) {
		sent = sack_recovery_output(f);
	} else {
		/* One call sends at most turn_bytes (--turn-bytes): a bulk flow
		 * does not hold the shard's loop from the others' flows for
		 * longer than that takes; the ACKs of what it sent bring it
		 * back for more. */
		uint32_t budget = RTE_MAX(f->s->turn_bytes, (uint32_t)f->mss);
		for (;;) {
			uint32_t inflight = f->snd_nxt - f->snd_una;
			uint32_t k;
			if (inflight >= wnd || tso_defer(f, inflight, wnd, data_end))
				break;
			if (fj_seq_lt(f->snd_nxt, data_end) && queue_held(f)) {
				if (!f->queue_wait)
					f->s->c.tcp_queue_waits++;
				tcp_queue_wait(f, true);
				break;
			}
			if (fj_seq_lt(f->snd_nxt, data_end) && port_wait(f))
				break;
			if ((k = send_new(f, RTE_MIN(wnd - inflight, budget))) == 0)
				break;
			sent = true;
			budget = budget > k ? budget - k : 0;
			if (budget == 0)
				break;
		}
	}
	/* FIN after the last byte, once (or again after a timeout). */
	if (f->fin_queued && f->snd_nxt == data_end &&
	    (!f->fin_sent || fj_seq_lt(f->snd_nxt, f->snd_max)) &&
	    f->snd_nxt - f->snd_una < RTE_MAX(wnd, 1u)) {
		if (tcp_send_segment(f, f->snd_nxt, FJ_TCP_FIN | FJ_TCP_ACK, 0) == 0) {
			f->snd_nxt++;
			f->snd_max = fj_seq_max(f->snd_max, f->snd_nxt);
			f->fin_sent = true;
			sent = true;
		}
	}
	if ((sent || f->snd_wnd == 0) && !fj_timer_armed(&f->rtx) &&
	    (f->snd_una != f->snd_max || f->sndq.bytes > 0))
		tcp_arm_rtx(f);
}

/* RFC 9293 §3.10.7.1: a reset for a segment that has no connection. */
void
tcp_send_rst(struct fj_stack *s, const struct fj_tcp_ends *e, const struct fj_tcp_hdr *th,
	     uint32_t seglen)
{
	struct fj_tcp_hdr h = { .sport = th->dport, .dport = th->sport };

	if (th->flags & FJ_TCP_RST)
		return;
	if (th->flags & FJ_TCP_ACK) {
		h.seq = th->ack;
		h.flags = FJ_TCP_RST;
	} else {
		h.ack = th->seq + seglen;
		h.flags = FJ_TCP_RST | FJ_TCP_ACK;
	}
	if (tcp_send_stateless(s, e, &h) == 0)
		s->c.tcp_rst_tx++;
}

/* A segment without payload that belongs to no flow (a RST, a cookie's
 * SYN-ACK). */
int
tcp_send_stateless(struct fj_stack *s, const struct fj_tcp_ends *e, const struct fj_tcp_hdr *h)
{
	uint8_t *p;
	struct rte_mbuf *m = seg_alloc(s, FJ_TCP_HDR_LEN + fj_tcp_opts_len(&h->o), &p);

	if (m == NULL)
		return -ENOBUFS;
	seg_send(s, m, p, h, e, 0);
	return 0;
}

void
tcp_send_rst_flow(struct fj_tcp_flow *f)
{
	tcp_send_segment(f, f->snd_nxt, FJ_TCP_RST | FJ_TCP_ACK, 0);
	f->s->c.tcp_rst_tx++;
}
