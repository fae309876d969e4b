/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP input: where an arriving segment goes (RFC 9293 §3.10.7) and, for a
 * flow past SYN-SENT, the checks of §3.10.7.4 in their order, one
 * function a step:
 *
 *   fj_tcp_input                  parse, find the flow
 *     no flow, no listener        §3.10.7.1 CLOSED     input_closed
 *     no flow, a listener         §3.10.7.2 LISTEN     tcp_listen_input (tcp_open.c)
 *     a flow in SYN-SENT          §3.10.7.3            tcp_syn_sent_input (tcp_open.c)
 *     a flow in any other state   §3.10.7.4            tcp_input_other_states:
 *       syn_rcvd_syn     SYN-RECEIVED's repeated SYN, a simultaneous SYN-ACK
 *       check_seq        first: PAWS (RFC 7323 §5.3), the window
 *       check_rst        second: RST (RFC 5961 §3.2)
 *                        third: security, skipped
 *       check_syn        fourth: SYN (RFC 5961 §4.2)
 *       check_ack        fifth: ACK (tcp_ack_input in tcp_ack.c, RFC 5961 §5.2)
 *                        sixth: URG, ignored
 *       seg_text         seventh: the segment text
 *       seg_fin          eighth: FIN
 *     then tcp_output and the application's callback.
 *
 * Each check either lets the segment on or disposes of it (dropped, or
 * answered with an ACK, a challenge ACK or a RST, as RFC 5961 asks).
 */
#include <rte_ip.h>

#include "tcp_impl.h"

/* A segment on its way through the checks of RFC 9293 §3.10.7.4. */
struct seg {
	struct fj_tcp_flow *f;
	struct rte_mbuf *m; /* the payload alone; NULL once kept or freed */
	const struct fj_tcp_hdr *th;
	struct fj_tcp_hdr synack; /* th, when a SYN-ACK is taken as its ACK */
	uint32_t seq;    /* of the first payload byte left */
	uint32_t len;    /* payload bytes left (the checks trim) */
	uint32_t seglen; /* SEG.LEN */
	bool tell;       /* the application hears of it at the end */
	bool cut;        /* the text was cut at the window: the FIN is not here */
};

static void
seg_drop(struct seg *g)
{
	rte_pktmbuf_free(g->m);
	g->m = NULL;
}

static void
challenge_ack(struct fj_tcp_flow *f)
{
	/* RFC 5961 §3.2, §4.2: answer a suspicious RST or SYN with an ACK. */
	f->s->c.tcp_challenge_acks++;
	tcp_send_ack(f);
}

/*
 * SYN-RECEIVED, before the checks: the peer's SYN again means our SYN-ACK
 * was lost, and it goes again. A simultaneous open's SYN-ACK carries the
 * SYN we have: only its ACK goes on, and completes the handshake.
 */
static bool
syn_rcvd_syn(struct seg *g)
{
	struct fj_tcp_flow *f = g->f;
	const struct fj_tcp_hdr *th = g->th;

	if (f->state != FJ_TCP_SYN_RCVD || !(th->flags & FJ_TCP_SYN) || (th->flags & FJ_TCP_RST) ||
	    g->seq != f->irs)
		return true;
	if (!(th->flags & FJ_TCP_ACK)) {
		tcp_send_segment(f, f->iss, FJ_TCP_SYN | FJ_TCP_ACK, 0);
		seg_drop(g);
		return false;
	}
	g->synack = *th;
	g->synack.flags &= (uint8_t)~FJ_TCP_SYN;
	g->synack.seq = ++g->seq;
	g->th = &g->synack;
	g->seglen--;
	return true;
}

/*
 * RFC 7323 §5.3 R1, PAWS, before the window test: with timestamps on, a
 * segment without the option is dropped (§3.2), one with an older TSval
 * than the last in-window one is an old duplicate, answered with an ACK.
 */
static bool
paws_ok(struct seg *g)
{
	struct fj_tcp_flow *f = g->f;
	const struct fj_tcp_hdr *th = g->th;

	if (!f->ts_ok || (th->flags & FJ_TCP_RST) ||
	    (th->o.has_ts && !fj_seq_lt(th->o.tsval, f->ts_recent)))
		return true;
	if (th->o.has_ts)
		tcp_send_ack(f);
	f->s->c.tcp_paws_rejected++;
	seg_drop(g);
	return false;
}

/* The window test of the first check: RCV.NXT =< SEG.SEQ < RCV.NXT +
 * RCV.WND, or the segment's last byte so; the four cases of RFC 9293. */
static bool
acceptable(const struct fj_tcp_flow *f, uint32_t seq, uint32_t seglen)
{
	uint32_t wnd = tcp_rcv_wnd(f);

	if (seglen == 0)
		return wnd == 0 ? seq == f->rcv_nxt : fj_seq_in(seq, f->rcv_nxt, f->rcv_nxt + wnd);
	if (wnd == 0)
		return false;
	return fj_seq_in(seq, f->rcv_nxt, f->rcv_nxt + wnd) ||
	       fj_seq_in(seq + seglen - 1, f->rcv_nxt, f->rcv_nxt + wnd);
}

/* RFC 9293 §3.10.7.4, first check: the sequence number, PAWS first. An
 * unacceptable segment is answered with an ACK (not a RST) and dropped. */
static bool
check_seq(struct seg *g)
{
	struct fj_tcp_flow *f = g->f;
	const struct fj_tcp_hdr *th = g->th;

	if (!paws_ok(g))
		return false;
	if (!acceptable(f, g->seq, g->seglen)) {
		if (!(th->flags & FJ_TCP_RST))
			tcp_send_ack(f);
		f->s->c.tcp_out_of_window++;
		seg_drop(g);
		return false;
	}
	f->last_rx = fj_now(f->s); /* the peer is alive (keepalive) */
	f->ka_sent = 0;
	return true;
}

/*
 * RFC 7323 §4.3 and appendix D: remember the timestamp to echo, from a
 * segment that passed every check, its ACK field included. A segment
 * acknowledging data never sent is dropped with an ACK (RFC 9293
 * §3.10.7.4, fifth check): were its TSval taken, one forged segment with
 * a large one would have PAWS drop every genuine segment after it.
 */
static void
take_ts_recent(struct seg *g)
{
	struct fj_tcp_flow *f = g->f;
	const struct fj_tcp_hdr *th = g->th;

	if (f->ts_ok && th->o.has_ts && fj_seq_le(g->seq, f->last_ack_sent))
		f->ts_recent = th->o.tsval;
}

/* Second check, RST. RFC 5961 §3.2: only the exact next sequence resets;
 * elsewhere in the window it gets a challenge ACK. */
static bool
check_rst(struct seg *g)
{
	struct fj_tcp_flow *f = g->f;

	if (!(g->th->flags & FJ_TCP_RST))
		return true;
	seg_drop(g);
	if (g->seq != f->rcv_nxt) {
		challenge_ack(f);
		return false;
	}
	f->s->c.tcp_rst_rx++;
	/* RFC 9293 §3.10.7.4: in SYN_RCVD of an active open (a
	 * simultaneous one), the connection was refused. */
	tcp_flow_closed(f, f->state == FJ_TCP_SYN_RCVD && f->l == NULL ? -ECONNREFUSED
								       : -ECONNRESET);
	return false;
}

/* Fourth check, SYN: in any of these states, in the window or not, a
 * challenge ACK (RFC 5961 §4.2, as RFC 9293 adopts it). */
static bool
check_syn(struct seg *g)
{
	if (!(g->th->flags & FJ_TCP_SYN))
		return true;
	seg_drop(g);
	challenge_ack(g->f);
	return false;
}

/* Fifth check in SYN-RECEIVED: SND.UNA < SEG.ACK =< SND.NXT makes the
 * connection ESTABLISHED; any other ACK is answered with a RST. */
static bool
ack_syn_rcvd(struct seg *g)
{
	struct fj_tcp_flow *f = g->f;
	const struct fj_tcp_hdr *th = g->th;
	struct fj_stack *s = f->s;

	if (!fj_seq_in(th->ack, f->snd_una + 1, f->snd_nxt + 1)) {
		seg_drop(g);
		struct fj_tcp_ends e = tcp_flow_ends(f);
		tcp_send_rst(s, &e, th, g->seglen);
		return false;
	}
	tcp_set_state(f, FJ_TCP_ESTABLISHED);
	if (f->l)
		f->l->half_open--;
	f->snd_una = th->ack;
	f->snd_wnd = (uint32_t)th->wnd << f->snd_ws;
	f->max_wnd = RTE_MAX(f->max_wnd, f->snd_wnd);
	f->snd_wl1 = g->seq;
	f->snd_wl2 = th->ack;
	fj_wheel_cancel(&T(s)->wheel, &f->rtx);
	tcp_syn_acked(f);
	f->rtt.backoffs = 0;
	s->c.tcp_established++;
	g->tell = true; /* accepted: the callback runs at the end */
	return true;
}

/* Fifth check, the closing states: our FIN acknowledged moves FIN-WAIT-1
 * to FIN-WAIT-2 and CLOSING to TIME-WAIT, and ends LAST-ACK. */
static bool
ack_of_fin(struct seg *g)
{
	struct fj_tcp_flow *f = g->f;

	if (!f->fin_sent || f->snd_una != f->snd_max)
		return true;
	switch (f->state) {
	case FJ_TCP_FIN_WAIT_1:
		tcp_set_state(f, FJ_TCP_FIN_WAIT_2);
		break;
	case FJ_TCP_CLOSING:
		tcp_enter_time_wait(f);
		break;
	case FJ_TCP_LAST_ACK:
		seg_drop(g);
		tcp_flow_closed(f, 0);
		return false;
	default:
		break;
	}
	return true;
}

/* Fifth check, the ACK field: without it the segment is dropped. */
static bool
check_ack(struct seg *g)
{
	struct fj_tcp_flow *f = g->f;

	if (!(g->th->flags & FJ_TCP_ACK)) {
		seg_drop(g);
		return false;
	}
	if (f->state == FJ_TCP_SYN_RCVD) {
		if (!ack_syn_rcvd(g))
			return false;
	} else if (!tcp_ack_input(f, g->th, g->len)) {
		seg_drop(g);
		return false;
	}
	if (f->state == FJ_TCP_CLOSED) {
		seg_drop(g);
		return false;
	}
	return ack_of_fin(g);
}

/* Take in-order payload @m (trimmed to its data), then what it unblocks. */
static void
take_data(struct fj_tcp_flow *f, struct rte_mbuf *m)
{
	uint32_t len = m->pkt_len;

	if (f->app_closed) {
		/* Nobody will read it: acknowledged and dropped. */
		rte_pktmbuf_free(m);
	} else {
		tcp_mq_push(&f->rcvq, m);
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
				o = fj_mbuf_cut_front(o, f->rcv_nxt - s0);
				uint32_t l2 = o->pkt_len;
				if (f->app_closed)
					rte_pktmbuf_free(o);
				else
					tcp_mq_push(&f->rcvq, o);
				f->rcv_nxt += l2;
			}
			more = true;
			break;
		}
	}
}

static void
keep_ooo(struct fj_tcp_flow *f, uint32_t seq, struct rte_mbuf *m)
{
	for (int i = 0; i < f->nooo; i++)
		if (f->ooo[i].seq == seq && f->ooo[i].m->pkt_len >= m->pkt_len) {
			rte_pktmbuf_free(m); /* a duplicate */
			return;
		}
	if (f->nooo == FJ_TCP_OOO || m->pkt_len > tcp_rcv_space(f)) {
		f->s->c.tcp_ooo_dropped++;
		rte_pktmbuf_free(m);
		return;
	}
	f->ooo[f->nooo].seq = seq;
	f->ooo[f->nooo].when = ++f->ooo_clock;
	f->ooo[f->nooo].m = m;
	f->nooo++;
	f->ooo_bytes += m->pkt_len;
}

/* The text we already have goes, and what is beyond the window we
 * offered (or the buffer): what fits is kept, a FIN past the cut is not
 * here yet. */
static void
text_trim(struct seg *g)
{
	struct fj_tcp_flow *f = g->f;

	if (fj_seq_lt(g->seq, f->rcv_nxt)) {
		uint32_t old = f->rcv_nxt - g->seq;
		g->m = fj_mbuf_cut_front(g->m, RTE_MIN(old, g->len));
		g->len -= RTE_MIN(old, g->len);
		g->seq = f->rcv_nxt;
	}
	uint32_t room = RTE_MIN(tcp_rcv_space(f), tcp_rcv_wnd(f));
	uint32_t fit = fj_seq_lt(g->seq, f->rcv_nxt + room) ? f->rcv_nxt + room - g->seq : 0;
	if (g->len > fit) {
		fj_mbuf_cut_back(g->m, fit);
		g->len = fit;
		g->cut = true;
		if (g->len == 0)
			tcp_send_ack(f); /* nothing of it fits: say where we are */
	}
}

/* Text at RCV.NXT: taken, acknowledged now or by the delayed ACK. */
static void
text_in_order(struct seg *g)
{
	struct fj_tcp_flow *f = g->f;
	struct fj_stack *s = f->s;
	/* RFC 5681 §4.2: ACK at once when this fills a gap. */
	bool filled = f->nooo > 0;

	/* Beyond the MSS we offered: a segment the port coalesced (LRO). */
	bool coalesced = g->len > (uint32_t)s->mtu - FJ_IPV4_HDR_LEN - FJ_TCP_HDR_LEN;

	s->c.tcp_rx_large_segs += coalesced;
	take_data(f, g->m);
	g->m = NULL;
	g->tell = true;
	s->c.tcp_rx_bytes += g->len;
	/* (A FIN with the data is acknowledged below, once.) Every second
	 * full-sized segment is acknowledged (RFC 5681 §4.2): a coalesced
	 * segment counts as two. */
	f->unacked = (uint8_t)RTE_MIN(f->unacked + (coalesced ? 2u : 1u), 255u);
	if (filled || (f->unacked >= 2 && !(g->th->flags & FJ_TCP_FIN))) {
		tcp_send_ack(f);
	} else if (!fj_timer_armed(&f->delack)) {
		fj_wheel_arm(&T(s)->wheel, &f->delack, fj_now(s) + s->hz * DELACK_MS / 1000,
			     tcp_delack_fire);
	}
}

/* Seventh check, the segment text, taken in ESTABLISHED, FIN-WAIT-1 and
 * FIN-WAIT-2 only (later the peer has sent its FIN). */
static void
seg_text(struct seg *g)
{
	struct fj_tcp_flow *f = g->f;

	if (g->len == 0 || (f->state != FJ_TCP_ESTABLISHED && f->state != FJ_TCP_FIN_WAIT_1 &&
			    f->state != FJ_TCP_FIN_WAIT_2))
		return;
	text_trim(g);
	if (g->len > 0 && g->seq == f->rcv_nxt) {
		text_in_order(g);
	} else if (g->len > 0) {
		keep_ooo(f, g->seq, g->m);
		g->m = NULL;
		tcp_send_ack(f); /* an immediate duplicate ACK (RFC 5681 §4.2) */
	}
}

/* Eighth check, FIN, once everything before it is here: acknowledged,
 * and the state moves on. In TIME-WAIT a retransmitted FIN is
 * acknowledged again and restarts the 2 MSL. */
static void
seg_fin(struct seg *g)
{
	struct fj_tcp_flow *f = g->f;

	if (!(g->th->flags & FJ_TCP_FIN))
		return;
	if (f->state == FJ_TCP_TIME_WAIT) {
		tcp_send_ack(f);
		tcp_enter_time_wait(f);
		return;
	}
	if (g->cut || g->seq + g->len != f->rcv_nxt || f->fin_rcvd)
		return;
	f->fin_rcvd = true;
	f->rcv_nxt++;
	g->tell = true;
	switch (f->state) {
	case FJ_TCP_ESTABLISHED:
		tcp_set_state(f, FJ_TCP_CLOSE_WAIT);
		break;
	case FJ_TCP_FIN_WAIT_1:
		if (f->fin_sent && f->snd_una == f->snd_max)
			tcp_enter_time_wait(f);
		else
			tcp_set_state(f, FJ_TCP_CLOSING);
		break;
	case FJ_TCP_FIN_WAIT_2:
		tcp_enter_time_wait(f);
		break;
	default:
		break;
	}
	tcp_send_ack(f);
}

/*
 * RFC 9293 §3.10.7.4, "Other states": SYN-RECEIVED and the synchronized
 * ones (and a CLOSED flow the application still holds), @m the @len
 * payload bytes alone.
 */
void
tcp_input_other_states(struct fj_tcp_flow *f, struct rte_mbuf *m, const struct fj_tcp_hdr *th,
		       uint32_t len)
{
	struct seg g = { .f = f, .m = m, .th = th, .seq = th->seq, .len = len,
			 .seglen = tcp_seg_len(th, len) };

	/* The third check, security, has nothing to compare (no IP
	 * security options): skipped. */
	if (!syn_rcvd_syn(&g) || !check_seq(&g) || !check_rst(&g) || !check_syn(&g) ||
	    !check_ack(&g))
		return;
	take_ts_recent(&g);
	/* Sixth, the URG bit: ignored; urgent data is just data (RFC 6093). */
	seg_text(&g);
	seg_drop(&g); /* what was not kept */
	seg_fin(&g);
	tcp_output(f);
	/* The application hears last: it may close or abort the flow. */
	if (g.tell || f->writable) {
		f->writable = false;
		tcp_notify(f);
	}
}

/* RFC 9293 §3.10.7.1, CLOSED (no flow, no listener): anything but a RST
 * is answered with a RST. */
static void
input_closed(struct fj_stack *s, struct rte_mbuf *m, const struct fj_tcp_ends *e,
	     const struct fj_tcp_hdr *th, uint32_t len)
{
	tcp_send_rst(s, e, th, tcp_seg_len(th, len)); /* never answers a RST */
	rte_pktmbuf_free(m);
}

/*
 * A segment of @tlen bytes @off bytes into the frame @m, between the ends
 * @e (remote: its source), of either family; @ph the pseudo-header's sum
 * without its length.
 */
static void
tcp_seg_input(struct fj_stack *s, struct rte_mbuf *m, const struct fj_tcp_ends *e, uint16_t off,
	      uint32_t tlen, uint32_t ph)
{
	uint8_t *p = rte_pktmbuf_mtod_offset(m, uint8_t *, off);
	struct fj_tcp_hdr th;
	enum fj_wire_err r;

	bool csum_ok = fj_rx_l4_vouched(s, m);
	if (unlikely(m->nb_segs != 1) && !csum_ok) {
		/* A chain the port did not vouch for: summed here, segment
		 * by segment (the parser sums only contiguous bytes). */
		if (tlen > UINT16_MAX || off + tlen > m->pkt_len ||
		    fj_csum_fold(fj_mbuf_csum_add(ph + tlen, m, off, tlen)) != 0) {
			fj_drop(s, m, FJ_DROP_TCP_CHECKSUM);
			return;
		}
		csum_ok = true;
	}
	/* (a chain's TCP header is in its first segment: fj_eth_input) */
	r = fj_tcp_parse_ph(p, m->nb_segs != 1 ? RTE_MIN(tlen, (uint32_t)m->data_len - off) : tlen,
			    ph, csum_ok, &th);
	if (r != FJ_OK) {
		fj_drop(s, m, fj_drop_of(r));
		return;
	}
	s->c.tcp_rx++;
	uint32_t len = tlen - th.hdr_len;
	uint16_t hdr_end = (uint16_t)(off + th.hdr_len);
	struct fj_tcp_flow *f = tcp_lookup(s, e, th.sport, th.dport);

	if (f == NULL) {
		struct fj_tcp_listener *l = T(s)->listeners[th.dport];
		if (l != NULL)
			tcp_listen_input(s, l, m, e, &th, hdr_end, len);
		else if (!fj_exception_take(s, m)) /* (else the kernel's connection) */
			input_closed(s, m, e, &th, len);
		fj_tcp_flush(s); /* what a new flow's first callback wrote */
		return;
	}
	m = tcp_payload_only(m, hdr_end, len);
	if (f->state == FJ_TCP_SYN_SENT) {
		rte_pktmbuf_free(m);
		tcp_syn_sent_input(f, &th);
	} else {
		tcp_input_other_states(f, m, &th, len);
	}
	fj_tcp_flush(s);
}

void
fj_tcp_input(struct fj_stack *s, struct rte_mbuf *m, const struct fj_ipv4 *ip)
{
	if (ip->dst != s->ip) {
		fj_drop(s, m, FJ_DROP_NOT_FOR_US); /* no TCP to broadcast */
		return;
	}
	struct fj_tcp_ends e = { .raddr = ip->src, .laddr = ip->dst };
	tcp_seg_input(s, m, &e, (uint16_t)(FJ_ETH_HDR_LEN + ip->hdr_len),
		      (uint32_t)ip->total_len - ip->hdr_len,
		      fj_csum_pseudo(ip->src, ip->dst, FJ_IP_PROTO_TCP, 0));
}

void
fj_tcp6_input(struct fj_stack *s, struct rte_mbuf *m, const struct fj_ipv6 *ip)
{
	/* No TCP to multicast (RFC 9293 §3.9.1.1 opens to unicast ends),
	 * nor from the unspecified address. */
	if (fj_ip6_is_multicast(&ip->dst) || fj_ip6_is_unspecified(&ip->src)) {
		fj_drop(s, m, FJ_DROP_NOT_FOR_US);
		return;
	}
	struct fj_tcp_ends e = { .v6 = true, .raddr6 = ip->src, .laddr6 = ip->dst };
	tcp_seg_input(s, m, &e, (uint16_t)(FJ_ETH_HDR_LEN + ip->l4_off),
		      (uint32_t)FJ_IPV6_HDR_LEN + ip->payload_len - ip->l4_off,
		      fj_csum_pseudo6(&ip->src, &ip->dst, 0, FJ_IP_PROTO_TCP));
}
