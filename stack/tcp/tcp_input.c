/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP input: passive and active opens, the checks of RFC 9293 §3.10.7 on
 * every arriving segment, acknowledgements and congestion control, data
 * in and out of order, FIN.
 */
#include "syncookie.h"
#include "tcp_impl.h"

/* ------------------------------------------------------ input */

/*
 * What the peer's SYN (or SYN-ACK) settles: window scaling both ways only
 * if both SYNs carry it (RFC 7323 §2.2; our shift is in rcv_ws already),
 * SACK (RFC 2018 §2), the segment size (RFC 9293 §3.7.1, 536 without the
 * option), timestamps; the send window, never scaled in a SYN.
 */
static void
syn_options(struct fj_flow *f, const struct fj_tcp_hdr *th)
{
	uint16_t our_mss = (uint16_t)(f->s->mtu - FJ_IPV4_HDR_LEN - FJ_TCP_HDR_LEN);

	f->snd_ws = th->o.has_ws ? th->o.ws : 0;
	if (!th->o.has_ws)
		f->rcv_ws = 0;
	f->sack_ok = th->o.sack_perm;
	f->snd_wnd = th->wnd;
	f->max_wnd = th->wnd;
	f->snd_wl1 = th->seq;
	f->mss = th->o.has_mss ? RTE_MIN(th->o.mss, our_mss) : MSS_DEFAULT;
	if (f->mss < 64)
		f->mss = 64;
	tcp_ts_negotiated(f, th);
}

/* A flow for a SYN to @l, in SYN_RCVD with our ISN @iss. */
static struct fj_flow *
flow_passive(struct fj_stack *s, struct fj_listener *l, uint32_t raddr,
	     const struct fj_tcp_hdr *th, uint32_t iss)
{
	struct fj_flow *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->s = s;
	f->l = l;
	f->fn = l->fn;
	f->arg = l->arg;
	f->key = (struct fj_tcp_key){ raddr, s->ip, th->sport, th->dport };
	if (tcp_flow_link(f) < 0) {
		free(f);
		return NULL;
	}
	l->half_open++;
	tcp_set_state(f, FJ_TCP_SYN_RCVD);
	f->irs = th->seq;
	f->rcv_nxt = th->seq + 1;
	f->rcv_adv = f->rcv_nxt;
	f->iss = iss;
	f->snd_una = f->iss;
	f->snd_nxt = f->snd_max = f->iss + 1;
	f->rcv_ws = RCV_WS;
	f->ts_off = f->iss;
	syn_options(f, th);
	f->snd_wl2 = f->iss;
	tcp_cc_init(f);
	f->recover = f->iss;
	fj_rtt_init(&f->rtt, 200000, 60000000, to_us(s, s->hz / 1000) + 1);
	return f;
}

static struct fj_cookie_tuple
cookie_tuple(const struct fj_stack *s, uint32_t raddr, const struct fj_tcp_hdr *th,
	     uint32_t peer_isn)
{
	return (struct fj_cookie_tuple){ s->ip, raddr, th->dport, th->sport, peer_isn };
}

/* The TSval offset of a cookie's connection: keyed per 4-tuple, since
 * nothing of the SYN is kept. */
static uint32_t
cookie_ts_off(struct fj_stack *s, uint32_t raddr, const struct fj_tcp_hdr *th)
{
	return fj_tcp_isn(T(s)->isn_key, s->ip, th->dport, raddr, th->sport, 0) &
	       ~((1u << FJ_COOKIE_TS_BITS) - 1);
}

/* Answer a SYN with a cookie and keep nothing (the queue is full). */
static void
send_cookie(struct fj_stack *s, struct fj_listener *l, uint32_t raddr,
	    const struct fj_tcp_hdr *th)
{
	uint16_t our_mss = (uint16_t)(s->mtu - FJ_IPV4_HDR_LEN - FJ_TCP_HDR_LEN);
	uint16_t mss = th->o.has_mss ? RTE_MIN(th->o.mss, our_mss) : MSS_DEFAULT;
	struct fj_cookie_tuple t = cookie_tuple(s, raddr, th, th->seq);
	uint64_t now_s = fj_now(s) / s->hz;
	struct fj_tcp_hdr h = { .sport = th->dport, .dport = th->sport, .ack = th->seq + 1,
				.flags = FJ_TCP_SYN | FJ_TCP_ACK, .wnd = 65535 };

	h.seq = fj_syncookie_make(T(s)->isn_key, &t, mss, now_s);
	h.o.has_mss = true;
	h.o.mss = our_mss;
	if (th->o.has_ts) {
		/* The options we agree to come back in the client's TSecr. */
		uint32_t ms = (uint32_t)(to_us(s, fj_now(s)) / 1000u) + cookie_ts_off(s, raddr, th);
		h.o.has_ts = true;
		h.o.tsval = (ms & ~((1u << FJ_COOKIE_TS_BITS) - 1)) |
			    fj_syncookie_ts_bits(th->o.has_ws, th->o.ws, th->o.sack_perm);
		h.o.tsecr = th->o.tsval;
		if (th->o.has_ws) {
			h.o.has_ws = true;
			h.o.ws = RCV_WS;
		}
		h.o.sack_perm = th->o.sack_perm;
	}
	l->cookies_until = fj_now(s) + 2 * FJ_COOKIE_PERIOD_S * s->hz;
	if (tcp_send_stateless(s, raddr, &h) == 0)
		s->c.tcp_syncookies_sent++;
}

/*
 * An ACK for a listener with no flow: a returning cookie makes the
 * connection (in SYN_RCVD, which this very ACK completes). NULL if it is
 * not a cookie of ours.
 */
static struct fj_flow *
cookie_ack(struct fj_stack *s, struct fj_listener *l, uint32_t raddr,
	   const struct fj_tcp_hdr *th)
{
	if (l->cookies_until == 0 || fj_now(s) > l->cookies_until ||
	    (th->flags & (FJ_TCP_SYN | FJ_TCP_RST | FJ_TCP_ACK)) != FJ_TCP_ACK)
		return NULL;
	struct fj_cookie_tuple t = cookie_tuple(s, raddr, th, th->seq - 1);
	uint16_t mss = fj_syncookie_check(T(s)->isn_key, &t, th->ack - 1, fj_now(s) / s->hz);
	if (mss == 0 || T(s)->nflows >= MAX_FLOWS) {
		s->c.tcp_syncookies_failed++;
		return NULL;
	}
	/* The SYN as it must have been. */
	struct fj_tcp_hdr syn = *th;
	syn.seq = th->seq - 1;
	syn.flags = FJ_TCP_SYN;
	syn.o = (struct fj_tcp_opts){ .has_mss = true, .mss = mss };
	if (th->o.has_ts) {
		syn.o.has_ts = true;
		syn.o.tsval = th->o.tsval;
		fj_syncookie_ts_opts(th->o.tsecr, &syn.o.has_ws, &syn.o.ws, &syn.o.sack_perm);
	}
	struct fj_flow *f = flow_passive(s, l, raddr, &syn, th->ack - 1);
	if (f == NULL) {
		s->c.tcp_syncookies_failed++;
		return NULL;
	}
	/* Our TSvals go on from the SYN-ACK's, never back (the client's PAWS). */
	f->ts_off = cookie_ts_off(s, raddr, th) + (1u << FJ_COOKIE_TS_BITS);
	f->last_ack_sent = f->rcv_nxt;
	f->rcv_adv = f->rcv_nxt + 65535; /* the cookie's SYN-ACK offered that */
	s->c.tcp_syncookies_ok++;
	s->c.tcp_passive_opens++;
	return f;
}

static void
tcp_passive_open(struct fj_stack *s, struct fj_listener *l, const struct fj_ipv4 *ip,
		 const struct fj_tcp_hdr *th)
{
	if (T(s)->nflows >= MAX_FLOWS) {
		s->c.tcp_syn_dropped++;
		return;
	}
	if (l->half_open >= l->backlog) {
		/* A SYN flood fills the bounded queue: from then on SYN cookies
		 * let legitimate clients in without keeping anything. */
		send_cookie(s, l, ip->src, th);
		return;
	}
	uint32_t iss = fj_tcp_isn(T(s)->isn_key, s->ip, th->dport, ip->src, th->sport,
				  to_us(s, fj_now(s)));
	struct fj_flow *f = flow_passive(s, l, ip->src, th, iss);
	if (f == NULL) {
		s->c.tcp_syn_dropped++;
		return;
	}
	s->c.tcp_passive_opens++;
	tcp_send_segment(f, f->iss, FJ_TCP_SYN | FJ_TCP_ACK, 0);
	tcp_arm_rtx(f);
}

/* RFC 9293 §3.10.7.4, first check: is the segment in the window? */
static bool
acceptable(const struct fj_flow *f, uint32_t seq, uint32_t seglen)
{
	uint32_t wnd = tcp_rcv_wnd(f);

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
	tcp_send_ack(f);
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
				rte_pktmbuf_adj(o, (uint16_t)(f->rcv_nxt - s0));
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
keep_ooo(struct fj_flow *f, uint32_t seq, struct rte_mbuf *m)
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

/*
 * Merge the peer's SACK blocks into the scoreboard, drop what SND.UNA has
 * passed; blocks outside (SND.UNA, SND.MAX] are ignored (RFC 2018 §5 and
 * RFC 6675 §5: they may be stale or forged). Returns bytes newly SACKed.
 */
static uint32_t
sack_update(struct fj_flow *f, const struct fj_tcp_opts *o)
{
	uint32_t before = 0, after = 0;
	int n = 0;

	for (int i = 0; i < f->nsb; i++) {
		before += f->sb[i].right - f->sb[i].left;
		if (fj_seq_le(f->sb[i].right, f->snd_una))
			continue;
		struct fj_sack_block b = f->sb[i];
		if (fj_seq_lt(b.left, f->snd_una))
			b.left = f->snd_una;
		f->sb[n++] = b;
	}
	f->nsb = (uint8_t)n;
	for (int k = 0; k < o->nsack; k++) {
		struct fj_sack_block b = o->sack[k];
		if (!fj_seq_lt(b.left, b.right) || !fj_seq_gt(b.left, f->snd_una) ||
		    fj_seq_gt(b.right, f->snd_max))
			continue;
		/* Insert sorted, merging what it touches. */
		int i = 0;
		while (i < f->nsb && fj_seq_lt(f->sb[i].right, b.left))
			i++;
		int j = i;
		while (j < f->nsb && fj_seq_le(f->sb[j].left, b.right)) {
			b.left = fj_seq_min(b.left, f->sb[j].left);
			b.right = fj_seq_max(b.right, f->sb[j].right);
			j++;
		}
		int keep = f->nsb - j;
		if (i + 1 + keep > (int)RTE_DIM(f->sb))
			keep = (int)RTE_DIM(f->sb) - i - 1; /* the highest go */
		memmove(&f->sb[i + 1], &f->sb[j], (size_t)RTE_MAX(keep, 0) * sizeof(b));
		f->sb[i] = b;
		f->nsb = (uint8_t)(i + 1 + RTE_MAX(keep, 0));
	}
	for (int i = 0; i < f->nsb; i++)
		after += f->sb[i].right - f->sb[i].left;
	return after > before ? after - before : 0;
}

/* The ACK field of an acceptable segment (RFC 9293 §3.10.7.4, fifth check). */
static bool
process_ack(struct fj_flow *f, const struct fj_tcp_hdr *th, uint32_t seglen)
{
	struct fj_stack *s = f->s;
	uint32_t ack = th->ack;

	if (fj_seq_gt(ack, f->snd_max)) {
		/* Acknowledges what we never sent. */
		tcp_send_ack(f);
		return false;
	}
	if (fj_seq_gt(ack, f->snd_una)) {
		uint32_t acked = ack - f->snd_una;
		uint32_t data = RTE_MIN(acked, f->sndq.bytes);
		tcp_mq_consume(&f->sndq, data);
		f->snd_una = ack;
		if (fj_seq_lt(f->snd_nxt, f->snd_una))
			f->snd_nxt = f->snd_una;
		if (f->sack_ok)
			sack_update(f, &th->o);
		if (f->ts_ok && th->o.has_ts && th->o.tsecr != 0) {
			/* RFC 7323 §4: the echoed timestamp times every ACK, even
			 * after retransmissions (no Karn ambiguity). */
			uint32_t ms = tcp_ts_now(f) - th->o.tsecr;
			if (ms < 60000)
				fj_rtt_sample(&f->rtt, (uint64_t)ms * 1000u + 500u);
			f->timing = false;
		} else if (f->timing && fj_seq_gt(ack, f->rtt_seq)) {
			fj_rtt_sample(&f->rtt, to_us(s, fj_now(s) - f->rtt_t0));
			f->timing = false;
		}
		if (f->in_recovery && fj_seq_ge(ack, f->recover)) {
			/* RFC 6582 §3.2 (3): full acknowledgement. */
			f->in_recovery = false;
			f->cc->exit_recovery(f);
		} else {
			if (f->in_recovery && !f->sack_ok) {
				/* RFC 6582 §3.2 (5), partial ACK: the segment at
				 * SND.UNA goes now. (With SACK the pipe decides
				 * what goes: tcp_output, RFC 6675 §5.) */
				f->rexmit_nxt = f->snd_una;
				tcp_retransmit_first(f);
			}
			f->cc->on_ack(f, acked, f->in_recovery);
		}
		f->dupacks = 0;
		fj_wheel_cancel(&T(s)->wheel, &f->rtx);
		f->rtt.backoffs = 0;
		if (f->snd_una != f->snd_max)
			tcp_arm_rtx(f);
		if (f->want_write && f->sndq.n < FJ_TCP_QUEUE && f->sndq.bytes < SND_BUF) {
			f->want_write = false;
			f->writable = true; /* told at the end of this segment */
		}
	} else if (ack == f->snd_una && f->snd_una != f->snd_max && f->snd_wnd != 0 && th->wnd != 0 &&
		   ((f->sack_ok && sack_update(f, &th->o) > 0) ||
		    (seglen == 0 && (uint32_t)th->wnd << f->snd_ws == f->snd_wnd))) {
		/* RFC 5681 §3.2: a duplicate ACK; with SACK (RFC 6675 §2), any
		 * ACK that reports new SACKed data, even one carrying data. */
		f->dupacks++;
		/* RFC 6675 §5 (4): recovery starts at the third duplicate, or
		 * earlier when the scoreboard shows SND.UNA lost; not again for
		 * losses of the same window (RFC 6582 §3.2 (2)). */
		if (!f->in_recovery && fj_seq_gt(f->snd_una, f->recover) &&
		    (f->dupacks >= 3 || (f->sack_ok && tcp_is_lost(f, f->snd_una)))) {
			f->cc->enter_recovery(f);
			f->recover = f->snd_max;
			f->in_recovery = true;
			f->timing = false;
			f->rexmit_nxt = f->snd_una;
			tcp_retransmit_first(f);
			s->c.tcp_fast_retransmits++;
			if (f->sack_ok)
				s->c.tcp_sack_recoveries++;
		} else {
			f->cc->on_dupack(f);
		}
	}
	/* Window update (RFC 9293 §3.10.7.4: SND.WL1/WL2 guard old segments). */
	if (fj_seq_lt(f->snd_wl1, th->seq) ||
	    (f->snd_wl1 == th->seq && fj_seq_le(f->snd_wl2, ack))) {
		uint32_t was = f->snd_wnd;
		f->snd_wnd = (uint32_t)th->wnd << f->snd_ws;
		f->max_wnd = RTE_MAX(f->max_wnd, f->snd_wnd);
		f->snd_wl1 = th->seq;
		f->snd_wl2 = ack;
		if (was == 0 && f->snd_wnd > 0 && f->snd_nxt - f->snd_una == 1 &&
		    f->snd_max - f->snd_una == 1 && f->sndq.bytes > 0) {
			/* The window opened without taking the probe byte: it
			 * goes again with the rest, now. */
			f->snd_nxt = f->snd_una;
			fj_wheel_cancel(&T(s)->wheel, &f->rtx);
			f->rtt.backoffs = 0;
		}
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
		tcp_send_rst(s, f->key.raddr, th, 0); /* never answers a RST */
		return;
	}
	if (th->flags & FJ_TCP_RST) {
		if (ack_ok) {
			s->c.tcp_rst_rx++;
			tcp_flow_closed(f, -ECONNREFUSED);
		}
		return;
	}
	if (!(th->flags & FJ_TCP_SYN))
		return;
	f->irs = th->seq;
	f->rcv_nxt = th->seq + 1;
	f->rcv_adv = f->rcv_nxt;
	syn_options(f, th);
	tcp_cc_init(f);
	if (!ack_ok) {
		/* Simultaneous open (RFC 9293 §3.5, figure 8): the peer's SYN
		 * crossed ours; SYN_RCVD, and our SYN again with an ACK. */
		tcp_set_state(f, FJ_TCP_SYN_RCVD);
		f->snd_wl2 = f->iss;
		tcp_send_segment(f, f->iss, FJ_TCP_SYN | FJ_TCP_ACK, 0);
		return;
	}
	f->snd_una = th->ack;
	f->snd_wl2 = th->ack;
	tcp_set_state(f, FJ_TCP_ESTABLISHED);
	fj_wheel_cancel(&T(s)->wheel, &f->rtx);
	f->rtt.backoffs = 0;
	s->c.tcp_established++;
	tcp_send_ack(f);
	tcp_output(f);
	tcp_notify(f); /* connected */
}

static void
flow_input(struct fj_flow *f, struct rte_mbuf *m, const struct fj_tcp_hdr *th, uint32_t len)
{
	struct fj_stack *s = f->s;
	uint32_t seq = th->seq;
	uint32_t seglen = len + !!(th->flags & FJ_TCP_SYN) + !!(th->flags & FJ_TCP_FIN);
	bool tell = false, cut = false;

	if (f->state == FJ_TCP_SYN_SENT) {
		rte_pktmbuf_free(m);
		syn_sent_input(f, th);
		return;
	}

	struct fj_tcp_hdr synack;
	if (f->state == FJ_TCP_SYN_RCVD && (th->flags & FJ_TCP_SYN) && !(th->flags & FJ_TCP_RST) &&
	    seq == f->irs) {
		if (!(th->flags & FJ_TCP_ACK)) {
			/* The peer's SYN again: our SYN-ACK was lost. */
			tcp_send_segment(f, f->iss, FJ_TCP_SYN | FJ_TCP_ACK, 0);
			rte_pktmbuf_free(m);
			return;
		}
		/* A simultaneous open's SYN-ACK: the SYN is the one we have;
		 * its ACK (checked below) completes the handshake. */
		synack = *th;
		synack.flags &= (uint8_t)~FJ_TCP_SYN;
		synack.seq = ++seq;
		th = &synack;
		seglen--;
	}
	if (f->ts_ok && !(th->flags & FJ_TCP_RST)) {
		/* RFC 7323 §3.2: without the option it is dropped; §5.3 PAWS: an
		 * older timestamp than the last in-window one is a duplicate of
		 * an old segment, answered with an ACK. */
		if (!th->o.has_ts || fj_seq_lt(th->o.tsval, f->ts_recent)) {
			if (th->o.has_ts)
				tcp_send_ack(f);
			s->c.tcp_paws_rejected++;
			rte_pktmbuf_free(m);
			return;
		}
	}
	if (!acceptable(f, seq, seglen)) {
		if (!(th->flags & FJ_TCP_RST))
			tcp_send_ack(f);
		s->c.tcp_out_of_window++;
		rte_pktmbuf_free(m);
		return;
	}
	f->last_rx = fj_now(s); /* the peer is alive (keepalive) */
	f->ka_sent = 0;
	/* RFC 7323 §4.3: remember the timestamp to echo. */
	if (f->ts_ok && th->o.has_ts && fj_seq_le(seq, f->last_ack_sent))
		f->ts_recent = th->o.tsval;
	if (th->flags & FJ_TCP_RST) {
		/* RFC 5961 §3.2: only the exact next sequence resets. */
		rte_pktmbuf_free(m);
		if (seq != f->rcv_nxt) {
			challenge_ack(f);
			return;
		}
		s->c.tcp_rst_rx++;
		/* RFC 9293 §3.10.7.4: in SYN_RCVD of an active open (a
		 * simultaneous one), the connection was refused. */
		tcp_flow_closed(f, f->state == FJ_TCP_SYN_RCVD && f->l == NULL ? -ECONNREFUSED
										: -ECONNRESET);
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
			tcp_send_rst(s, f->key.raddr, th, seglen);
			return;
		}
		tcp_set_state(f, FJ_TCP_ESTABLISHED);
		if (f->l)
			f->l->half_open--;
		f->snd_una = th->ack;
		f->snd_wnd = (uint32_t)th->wnd << f->snd_ws;
		f->max_wnd = RTE_MAX(f->max_wnd, f->snd_wnd);
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
			tcp_set_state(f, FJ_TCP_FIN_WAIT_2);
		break;
	case FJ_TCP_CLOSING:
		if (fin_acked) {
			tcp_enter_time_wait(f);
		}
		break;
	case FJ_TCP_LAST_ACK:
		if (fin_acked) {
			rte_pktmbuf_free(m);
			tcp_flow_closed(f, 0);
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
		/* Beyond the window we offered (or the buffer): keep what fits;
		 * a FIN past the cut is not here yet. */
		uint32_t room = RTE_MIN(tcp_rcv_space(f), tcp_rcv_wnd(f));
		uint32_t fit = fj_seq_lt(seq, f->rcv_nxt + room) ? f->rcv_nxt + room - seq : 0;
		if (len > fit) {
			rte_pktmbuf_trim(m, (uint16_t)(len - fit));
			len = fit;
			cut = true;
			if (len == 0)
				tcp_send_ack(f); /* nothing of it fits: say where we are */
		}
		if (len > 0 && seq == f->rcv_nxt) {
			/* RFC 5681 §4.2: ACK at once when this fills a gap. */
			bool filled = f->nooo > 0;
			take_data(f, m);
			m = NULL;
			tell = true;
			s->c.tcp_rx_bytes += len;
			/* (A FIN with the data is acknowledged below, once.) */
			if (filled || (++f->unacked >= 2 && !(th->flags & FJ_TCP_FIN))) {
				tcp_send_ack(f);
			} else if (!fj_timer_armed(&f->delack)) {
				fj_wheel_arm(&T(s)->wheel, &f->delack,
					     fj_now(s) + s->hz * DELACK_MS / 1000, tcp_delack_fire);
			}
		} else if (len > 0) {
			keep_ooo(f, seq, m);
			m = NULL;
			tcp_send_ack(f); /* an immediate duplicate ACK (RFC 5681 §4.2) */
		}
	}
	if (m != NULL)
		rte_pktmbuf_free(m);

	/* FIN (eighth check), when everything before it is here. */
	if ((th->flags & FJ_TCP_FIN) && !cut && seq + len == f->rcv_nxt && !f->fin_rcvd &&
	    f->state != FJ_TCP_TIME_WAIT) {
		f->fin_rcvd = true;
		f->rcv_nxt++;
		tell = true;
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
	} else if ((th->flags & FJ_TCP_FIN) && f->state == FJ_TCP_TIME_WAIT) {
		/* A retransmitted FIN: ACK it, restart 2 MSL. */
		tcp_send_ack(f);
		tcp_enter_time_wait(f);
	}
	tcp_output(f);
	/* The application hears last: it may close or abort the flow. */
	if (tell || f->writable) {
		f->writable = false;
		tcp_notify(f);
	}
}

void
fj_tcp_input(struct fj_stack *s, struct rte_mbuf *m, const struct fj_ipv4 *ip)
{
	uint16_t off = (uint16_t)(FJ_ETH_HDR_LEN + ip->hdr_len);
	uint8_t *p = rte_pktmbuf_mtod_offset(m, uint8_t *, off);
	uint32_t tlen = ip->total_len - ip->hdr_len;
	struct fj_tcp_hdr th;
	enum fj_drop r;

	r = fj_tcp_parse(p, tlen, ip->src, ip->dst, fj_rx_l4_vouched(s, m), &th);
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
		if (l != NULL && (th.flags & (FJ_TCP_SYN | FJ_TCP_ACK | FJ_TCP_RST)) == FJ_TCP_SYN) {
			tcp_passive_open(s, l, ip, &th);
		} else if (l != NULL && !(th.flags & (FJ_TCP_SYN | FJ_TCP_ACK | FJ_TCP_RST))) {
			/* RFC 9293 §3.10.7.2, LISTEN, fourth: dropped. */
		} else if (l == NULL || (data = cookie_ack(s, l, ip->src, &th)) == NULL) {
			tcp_send_rst(s, ip->src, &th, seglen);
		} else {
			/* The returning cookie's ACK completes the handshake. */
			rte_pktmbuf_adj(m, (uint16_t)(off + th.hdr_len));
			rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - len));
			flow_input(data, m, &th, len);
			struct fj_flow *f = data;
			if (rte_hash_lookup_data(T(s)->flows, &key, &data) >= 0 && data == f &&
			    f->state == FJ_TCP_SYN_RCVD)
				tcp_flow_free(f); /* the ACK did not complete it */
			return;
		}
		rte_pktmbuf_free(m);
		return;
	}
	/* The payload alone, as the application will see it. */
	rte_pktmbuf_adj(m, (uint16_t)(off + th.hdr_len));
	rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - len));
	flow_input(data, m, &th, len);
	fj_tcp_flush(s);
}

