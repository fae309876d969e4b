/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP's timers on the stack's wheel: retransmission (RFC 6298) with the
 * SYN and SYN-ACK retries and zero-window probes, the delayed ACK,
 * TIME-WAIT's 2 MSL and keepalive.
 */
#include "tcp_impl.h"

/* ------------------------------------------------------ retransmission */

/* Our SYN (SYN-SENT) or SYN-ACK (SYN-RECEIVED) again, at most @max times;
 * RFC 6298 §5.7 aside, they back off from 1 s like data. */
static void
rtx_syn(struct fj_tcp_flow *f, uint8_t max, uint8_t flags)
{
	if (++f->syn_tries > max) {
		tcp_flow_closed(f, f->soft_err ? f->soft_err : -ETIMEDOUT);
		return;
	}
	fj_rtt_backoff(&f->rtt);
	f->timing = false; /* Karn: no sample from a retransmitted SYN */
	tcp_send_segment(f, f->iss, flags, 0);
	tcp_arm_rtx(f);
}

/*
 * Zero-window probe (RFC 9293 §3.8.6.1): the next byte, past the window,
 * counted as sent so that an ACK taking it is understood; backing off
 * like a retransmission, never giving up while the peer answers.
 */
static void
rtx_window_probe(struct fj_tcp_flow *f)
{
	tcp_send_segment(f, f->snd_una, FJ_TCP_ACK, 1);
	f->snd_nxt = f->snd_una + 1;
	f->snd_max = fj_seq_max(f->snd_max, f->snd_nxt);
	f->s->c.tcp_window_probes++;
	fj_rtt_backoff(&f->rtt);
	if (f->rtt.backoffs > MAX_RTX)
		f->rtt.backoffs = MAX_RTX; /* (the interval stays capped) */
	tcp_arm_rtx(f);
}

/* RFC 6298 §5.4-5.6: the first unacknowledged segment again, the timer
 * backed off; after MAX_RTX of them the connection is given up. */
static void
rtx_data(struct fj_tcp_flow *f)
{
	if (f->rtt.backoffs >= MAX_RTX) {
		tcp_send_rst_flow(f);
		/* RFC 1122 §4.2.3.9: a soft error seen meanwhile says why. */
		tcp_flow_closed(f, f->soft_err ? f->soft_err : -ETIMEDOUT);
		return;
	}
	/* RFC 5681 §3.1 (4): after a timeout, one segment and slow start. */
	f->cc->on_rto(f);
	f->in_recovery = false;
	f->recover = f->snd_max; /* RFC 6582 §3.2 (4) */
	f->dupacks = 0;
	f->timing = false;
	f->snd_nxt = f->snd_una;
	f->rexmit_nxt = f->snd_una;
	/* RFC 2018 §8: after a timeout the SACKed bits are forgotten. */
	f->nsb = 0;
	fj_rtt_backoff(&f->rtt);
	f->s->c.tcp_retransmits++;
	f->s->c.tcp_rto_timeouts++;
	tcp_output(f);
	tcp_arm_rtx(f);
}

static void
rtx_fire(struct fj_wheel *w, struct fj_timer_node *t, void *ctx)
{
	struct fj_tcp_flow *f = FLOW_OF(t, rtx);

	(void)w;
	(void)ctx;
	if (f->state == FJ_TCP_SYN_SENT)
		rtx_syn(f, MAX_SYN, FJ_TCP_SYN);
	else if (f->state == FJ_TCP_SYN_RCVD)
		rtx_syn(f, MAX_SYNACK, FJ_TCP_SYN | FJ_TCP_ACK);
	else if (f->snd_wnd == 0 && f->sndq.bytes > 0 && f->snd_max - f->snd_una <= 1)
		rtx_window_probe(f);
	else if (f->snd_una != f->snd_max)
		rtx_data(f);
}

void
tcp_arm_rtx(struct fj_tcp_flow *f)
{
	struct fj_stack *s = f->s;
	fj_wheel_arm(&T(s)->wheel, &f->rtx, fj_now(s) + from_us(s, f->rtt.rto), rtx_fire);
}

/* ------------------------------------------------------ delayed ACK, TIME-WAIT */

void
tcp_delack_fire(struct fj_wheel *w, struct fj_timer_node *t, void *ctx)
{
	(void)w;
	(void)ctx;
	tcp_send_ack(FLOW_OF(t, delack));
}

static void
tw_fire(struct fj_wheel *w, struct fj_timer_node *t, void *ctx)
{
	struct fj_tcp_flow *f = FLOW_OF(t, tw);

	(void)w;
	(void)ctx;
	tcp_set_state(f, FJ_TCP_CLOSED);
	tcp_flow_free(f);
}

void
tcp_enter_time_wait(struct fj_tcp_flow *f)
{
	struct fj_stack *s = f->s;

	tcp_set_state(f, FJ_TCP_TIME_WAIT);
	f->tw_since = fj_now(s);
	fj_wheel_cancel(&T(s)->wheel, &f->rtx);
	tcp_mq_free(&f->sndq);
	/* RFC 9293 §3.10.7.4: 2 MSL. */
	fj_wheel_arm(&T(s)->wheel, &f->tw, fj_now(s) + 2 * T(s)->msl, tw_fire);
}

/* ------------------------------------------------------ keepalive */

/*
 * Keepalive (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6): after @ka_idle without
 * a segment from the peer, an ACK one below SND.NXT (an old sequence the
 * peer must answer); @ka_probes unanswered ones, @ka_intvl apart, end the
 * connection with -ETIMEDOUT. Idle means nothing heard: while data is
 * unacknowledged the retransmission timer decides instead.
 */
static void
ka_fire(struct fj_wheel *w, struct fj_timer_node *t, void *ctx)
{
	struct fj_tcp_flow *f = FLOW_OF(t, ka);
	struct fj_stack *s = f->s;
	uint64_t now = fj_now(s);

	(void)w;
	(void)ctx;
	if (f->ka_idle == 0)
		return;
	bool synced = f->state == FJ_TCP_ESTABLISHED || f->state == FJ_TCP_CLOSE_WAIT ||
		      f->state == FJ_TCP_FIN_WAIT_2;
	if (f->state == FJ_TCP_CLOSED || f->state == FJ_TCP_TIME_WAIT)
		return;
	if (!synced || f->snd_una != f->snd_max || (f->ka_sent == 0 && now - f->last_rx < f->ka_idle)) {
		tcp_arm_keepalive(f);
		return;
	}
	if (f->ka_sent >= f->ka_probes) {
		s->c.tcp_keepalive_timeouts++;
		tcp_send_rst_flow(f);
		tcp_flow_closed(f, -ETIMEDOUT);
		return;
	}
	f->ka_sent++;
	s->c.tcp_keepalive_probes++;
	tcp_send_segment(f, f->snd_nxt - 1, FJ_TCP_ACK, 0);
	fj_wheel_arm(&T(s)->wheel, &f->ka, now + f->ka_intvl, ka_fire);
}

void
tcp_arm_keepalive(struct fj_tcp_flow *f)
{
	struct fj_stack *s = f->s;
	uint64_t now = fj_now(s), at = f->last_rx + f->ka_idle;

	fj_wheel_arm(&T(s)->wheel, &f->ka, at > now ? at : now + f->ka_idle, ka_fire);
}

void
fj_tcp_timers(struct fj_stack *s, uint64_t now)
{
	fj_wheel_advance(&T(s)->wheel, now, NULL);
	fj_tcp_flush(s);
}

