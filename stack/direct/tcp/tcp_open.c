/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Opening a connection: segments for a listener (RFC 9293 §3.10.7.2,
 * LISTEN), the passive open with its bounded half-open queue and SYN
 * cookies past it (RFC 4987 §3.6), and segments for a connection we are
 * opening (RFC 9293 §3.10.7.3, SYN-SENT).
 */
#include "syncookie.h"
#include "tcp_impl.h"

/*
 * What the peer's SYN (or SYN-ACK) settles: window scaling both ways only
 * if both SYNs carry it (RFC 7323 §2.2; our shift is in rcv_ws already),
 * SACK (RFC 2018 §2), the segment size (RFC 9293 §3.7.1, 536 without the
 * option), timestamps; the send window, never scaled in a SYN.
 */
static void
syn_options(struct fj_tcp_flow *f, const struct fj_tcp_hdr *th)
{
	struct fj_tcp_ends e = tcp_flow_ends(f);
	uint16_t our_mss = tcp_mss_max(f->s, &e);

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

/* ------------------------------------------------------ LISTEN */

/* A flow for a SYN to @l, in SYN_RCVD with our ISN @iss. */
static struct fj_tcp_flow *
flow_passive(struct fj_stack *s, struct fj_tcp_listener *l, const struct fj_tcp_ends *e,
	     const struct fj_tcp_hdr *th, uint32_t iss)
{
	struct fj_tcp_flow *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->s = s;
	f->l = l;
	f->fn = l->fn;
	f->arg = l->arg;
	tcp_set_key(f, e, th->sport, th->dport);
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
cookie_tuple(const struct fj_tcp_ends *e, const struct fj_tcp_hdr *th, uint32_t peer_isn)
{
	struct fj_cookie_tuple t = { e->laddr, e->raddr, th->dport, th->sport, peer_isn, e->v6,
				     { 0 }, { 0 } };

	if (e->v6) {
		t.laddr = t.raddr = 0;
		memcpy(t.laddr6, e->laddr6.b, 16);
		memcpy(t.raddr6, e->raddr6.b, 16);
	}
	return t;
}

/* The TSval offset of a cookie's connection: keyed per 4-tuple, since
 * nothing of the SYN is kept. */
static uint32_t
cookie_ts_off(struct fj_stack *s, const struct fj_tcp_ends *e, const struct fj_tcp_hdr *th)
{
	return tcp_isn(s, e, th->dport, th->sport, 0) & ~((1u << FJ_COOKIE_TS_BITS) - 1);
}

/* Answer a SYN with a cookie and keep nothing (the queue is full). */
static void
send_cookie(struct fj_stack *s, struct fj_tcp_listener *l, const struct fj_tcp_ends *e,
	    const struct fj_tcp_hdr *th)
{
	uint16_t mss = th->o.has_mss ? RTE_MIN(th->o.mss, tcp_mss_max(s, e)) : MSS_DEFAULT;
	struct fj_cookie_tuple t = cookie_tuple(e, th, th->seq);
	uint64_t now_s = fj_now(s) / s->hz;
	struct fj_tcp_hdr h = { .sport = th->dport, .dport = th->sport, .ack = th->seq + 1,
				.flags = FJ_TCP_SYN | FJ_TCP_ACK, .wnd = 65535 };

	h.seq = fj_syncookie_make(T(s)->isn_key, &t, mss, now_s);
	h.o.has_mss = true;
	h.o.mss = tcp_mss_link(s, e->v6);
	if (th->o.has_ts) {
		/* The options we agree to come back in the client's TSecr. */
		uint32_t ms = (uint32_t)(to_us(s, fj_now(s)) / 1000u) + cookie_ts_off(s, e, th);
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
	if (tcp_send_stateless(s, e, &h) == 0)
		s->c.tcp_syncookies_sent++;
}

/*
 * An ACK for a listener with no flow: a returning cookie makes the
 * connection (in SYN_RCVD, which this very ACK completes). NULL if it is
 * not a cookie of ours.
 */
static struct fj_tcp_flow *
cookie_ack(struct fj_stack *s, struct fj_tcp_listener *l, const struct fj_tcp_ends *e,
	   const struct fj_tcp_hdr *th)
{
	if (l->cookies_until == 0 || fj_now(s) > l->cookies_until ||
	    (th->flags & (FJ_TCP_SYN | FJ_TCP_RST | FJ_TCP_ACK)) != FJ_TCP_ACK)
		return NULL;
	struct fj_cookie_tuple t = cookie_tuple(e, th, th->seq - 1);
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
	struct fj_tcp_flow *f = flow_passive(s, l, e, &syn, th->ack - 1);
	if (f == NULL) {
		s->c.tcp_syncookies_failed++;
		return NULL;
	}
	/* Our TSvals go on from the SYN-ACK's, never back (the client's PAWS). */
	f->ts_off = cookie_ts_off(s, e, th) + (1u << FJ_COOKIE_TS_BITS);
	f->last_ack_sent = f->rcv_nxt;
	f->rcv_adv = f->rcv_nxt + 65535; /* the cookie's SYN-ACK offered that */
	s->c.tcp_syncookies_ok++;
	s->c.tcp_passive_opens++;
	return f;
}

/* The returning cookie's ACK goes through RFC 9293 §3.10.7.4 like any
 * in SYN-RECEIVED: it completes the handshake, or the flow goes. */
static void
cookie_complete(struct fj_stack *s, struct fj_tcp_flow *f, struct rte_mbuf *m,
		const struct fj_tcp_ends *e, const struct fj_tcp_hdr *th, uint32_t len)
{
	tcp_input_other_states(f, m, th, len);
	if (tcp_lookup(s, e, th->sport, th->dport) == f && f->state == FJ_TCP_SYN_RCVD)
		tcp_flow_free(f); /* the ACK did not complete it */
}

static void
tcp_passive_open(struct fj_stack *s, struct fj_tcp_listener *l, const struct fj_tcp_ends *e,
		 const struct fj_tcp_hdr *th)
{
	if (T(s)->nflows >= MAX_FLOWS) {
		s->c.tcp_syn_dropped++;
		return;
	}
	if (l->half_open >= l->backlog) {
		/* A SYN flood fills the bounded queue: from then on SYN cookies
		 * let legitimate clients in without keeping anything. */
		send_cookie(s, l, e, th);
		return;
	}
	uint32_t iss = tcp_isn(s, e, th->dport, th->sport, to_us(s, fj_now(s)));
	struct fj_tcp_flow *f = flow_passive(s, l, e, th, iss);
	if (f == NULL) {
		s->c.tcp_syn_dropped++;
		return;
	}
	s->c.tcp_passive_opens++;
	tcp_send_segment(f, f->iss, FJ_TCP_SYN | FJ_TCP_ACK, 0);
	tcp_time_syn(f);
	tcp_arm_rtx(f);
}

/*
 * RFC 9293 §3.10.7.2: a segment for listener @l that matches no flow;
 * @m is the whole frame, its TCP header ending @hdr_end bytes in.
 */
void
tcp_listen_input(struct fj_stack *s, struct fj_tcp_listener *l, struct rte_mbuf *m,
		 const struct fj_tcp_ends *e, const struct fj_tcp_hdr *th, uint16_t hdr_end,
		 uint32_t len)
{
	if (th->flags & FJ_TCP_RST) {
		/* First, check for a RST: ignored. */
	} else if (th->flags & FJ_TCP_ACK) {
		/* Second, check for an ACK: answered with a RST, unless it
		 * brings back one of our SYN cookies. */
		struct fj_tcp_flow *f = cookie_ack(s, l, e, th);
		if (f != NULL) {
			m = tcp_payload_only(m, hdr_end, len);
			cookie_complete(s, f, m, e, th, len);
			return;
		}
		tcp_send_rst(s, e, th, tcp_seg_len(th, len));
	} else if (th->flags & FJ_TCP_SYN) {
		/* Third, check for a SYN: the passive open (the security
		 * check has nothing to compare: no IP security options). */
		tcp_passive_open(s, l, e, th);
	}
	/* Fourth, other control or text: dropped. */
	rte_pktmbuf_free(m);
}

/* ------------------------------------------------------ SYN-SENT */

/* RFC 9293 §3.10.7.3 fourth check, a SYN: with the ACK of ours the
 * connection is ESTABLISHED; without, a simultaneous open. */
static void
syn_sent_syn(struct fj_tcp_flow *f, const struct fj_tcp_hdr *th, bool ack_ok)
{
	struct fj_stack *s = f->s;

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
	tcp_syn_acked(f);
	f->rtt.backoffs = 0;
	s->c.tcp_established++;
	tcp_send_ack(f);
	tcp_output(f);
	tcp_notify(f); /* connected */
}

/* RFC 9293 §3.10.7.3: a segment for a connection we are opening. */
void
tcp_syn_sent_input(struct fj_tcp_flow *f, const struct fj_tcp_hdr *th)
{
	struct fj_stack *s = f->s;
	bool ack_ok = (th->flags & FJ_TCP_ACK) && th->ack == f->iss + 1;

	/* First, check the ACK bit: an ACK of anything but our SYN
	 * (SEG.ACK =< ISS or > SND.NXT) is answered with a RST. */
	if ((th->flags & FJ_TCP_ACK) && !ack_ok) {
		struct fj_tcp_ends e = tcp_flow_ends(f);
		tcp_send_rst(s, &e, th, 0); /* never answers a RST */
		return;
	}
	/* Second, check the RST bit: with the ACK of our SYN the connection
	 * was refused (RFC 5961 §3.2 leaves SYN-SENT out of its sequence
	 * check); without, dropped. */
	if (th->flags & FJ_TCP_RST) {
		if (ack_ok) {
			s->c.tcp_rst_rx++;
			tcp_flow_closed(f, -ECONNREFUSED);
		}
		return;
	}
	/* Third, security: skipped (no IP security options). Fourth, the SYN
	 * bit; fifth, neither SYN nor RST: dropped. */
	if (th->flags & FJ_TCP_SYN)
		syn_sent_syn(f, th, ack_ok);
}
