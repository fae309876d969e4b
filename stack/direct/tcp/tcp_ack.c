/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ACK field of a segment past SYN-RECEIVED (RFC 9293 §3.10.7.4, fifth
 * check): what it acknowledges, the SACK scoreboard (RFC 2018, RFC 6675
 * §3), RTT samples (RFC 6298, RFC 7323 §4), duplicate ACKs and the start
 * and end of loss recovery (RFC 5681 §3.2, RFC 6582, RFC 6675 §5), with
 * the congestion window left to cc.c; then the send window.
 */
#include "tcp_impl.h"

/*
 * Merge the peer's SACK blocks into the scoreboard, drop what SND.UNA has
 * passed; blocks outside (SND.UNA, SND.MAX] are ignored (RFC 2018 §5 and
 * RFC 6675 §5: they may be stale or forged). Returns bytes newly SACKed.
 */
static uint32_t
sack_update(struct fj_tcp_flow *f, const struct fj_tcp_opts *o)
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

/* An RTT sample from an ACK of new data (RFC 6298 §3). */
static void
sample_rtt(struct fj_tcp_flow *f, const struct fj_tcp_hdr *th)
{
	struct fj_stack *s = f->s;

	if (f->ts_ok && th->o.has_ts && th->o.tsecr != 0) {
		/* RFC 7323 §4: the echoed timestamp times every ACK, even
		 * after retransmissions (no Karn ambiguity). */
		uint32_t ms = tcp_ts_now(f) - th->o.tsecr;
		if (ms < 60000)
			fj_rtt_sample(&f->rtt, (uint64_t)ms * 1000u + 500u);
		f->timing = false;
	} else if (f->timing && fj_seq_gt(th->ack, f->rtt_seq)) {
		fj_rtt_sample(&f->rtt, to_us(s, fj_now(s) - f->rtt_t0));
		f->timing = false;
	}
}

/* New data acknowledged in recovery, or not: the window grows (cc.c), a
 * partial ACK without SACK retransmits, a full one ends recovery. */
static void
recovery_on_ack(struct fj_tcp_flow *f, uint32_t acked)
{
	if (f->in_recovery && fj_seq_ge(f->snd_una, f->recover)) {
		/* RFC 6582 §3.2 (3): full acknowledgement. */
		f->in_recovery = false;
		f->cc->exit_recovery(f);
		return;
	}
	if (f->in_recovery && !f->sack_ok) {
		/* RFC 6582 §3.2 (5), partial ACK: the segment at SND.UNA goes
		 * now. (With SACK the pipe decides what goes: tcp_output.) */
		f->rexmit_nxt = f->snd_una;
		tcp_retransmit_first(f);
	}
	f->cc->on_ack(f, acked, f->in_recovery);
}

/* SND.UNA < SEG.ACK =< SND.MAX: the acknowledged bytes leave the queue. */
static void
ack_new_data(struct fj_tcp_flow *f, const struct fj_tcp_hdr *th)
{
	struct fj_stack *s = f->s;
	uint32_t acked = th->ack - f->snd_una;

	tcp_mq_consume(&f->sndq, RTE_MIN(acked, f->sndq.bytes));
	f->snd_una = th->ack;
	f->soft_err = 0; /* the path works */
	if (fj_seq_lt(f->snd_nxt, f->snd_una))
		f->snd_nxt = f->snd_una;
	if (f->sack_ok)
		sack_update(f, &th->o);
	sample_rtt(f, th);
	recovery_on_ack(f, acked);
	f->dupacks = 0;
	fj_wheel_cancel(&T(s)->wheel, &f->rtx);
	f->rtt.backoffs = 0;
	if (f->snd_una != f->snd_max)
		tcp_arm_rtx(f);
	if (f->want_write && f->sndq.n < FJ_TCP_QUEUE && f->sndq.bytes < SND_BUF) {
		f->want_write = false;
		f->writable = true; /* told at the end of this segment */
	}
}

/*
 * RFC 5681 §3.2: a duplicate ACK; with SACK (RFC 6675 §2), any ACK that
 * reports new SACKed data, even one carrying data. (The scoreboard takes
 * the segment's SACK blocks here, when the tests before it hold.)
 */
static bool
is_duplicate_ack(struct fj_tcp_flow *f, const struct fj_tcp_hdr *th, uint32_t len)
{
	return th->ack == f->snd_una && f->snd_una != f->snd_max && f->snd_wnd != 0 &&
	       th->wnd != 0 &&
	       ((f->sack_ok && sack_update(f, &th->o) > 0) ||
		(len == 0 && (uint32_t)th->wnd << f->snd_ws == f->snd_wnd));
}

/* Fast retransmit: the first segment presumed lost goes now and recovery
 * runs until SND.MAX as it is now is acknowledged. */
static void
enter_recovery(struct fj_tcp_flow *f)
{
	struct fj_stack *s = f->s;

	f->cc->enter_recovery(f);
	f->recover = f->snd_max;
	f->in_recovery = true;
	f->timing = false;
	f->rexmit_nxt = f->snd_una;
	tcp_retransmit_first(f);
	s->c.tcp_fast_retransmits++;
	if (f->sack_ok)
		s->c.tcp_sack_recoveries++;
}

static void
ack_duplicate(struct fj_tcp_flow *f)
{
	f->dupacks++;
	/* RFC 6675 §5 (4): recovery starts at the third duplicate, or
	 * earlier when the scoreboard shows SND.UNA lost; not again for
	 * losses of the same window (RFC 6582 §3.2 (2)). */
	if (!f->in_recovery && fj_seq_gt(f->snd_una, f->recover) &&
	    (f->dupacks >= 3 || (f->sack_ok && tcp_is_lost(f, f->snd_una))))
		enter_recovery(f);
	else
		f->cc->on_dupack(f);
}

/* The send window (RFC 9293 §3.10.7.4: SND.WL1/WL2 guard old segments). */
static void
update_send_window(struct fj_tcp_flow *f, const struct fj_tcp_hdr *th)
{
	struct fj_stack *s = f->s;

	if (!fj_seq_lt(f->snd_wl1, th->seq) &&
	    (f->snd_wl1 != th->seq || !fj_seq_le(f->snd_wl2, th->ack)))
		return;
	uint32_t was = f->snd_wnd;
	f->snd_wnd = (uint32_t)th->wnd << f->snd_ws;
	f->max_wnd = RTE_MAX(f->max_wnd, f->snd_wnd);
	f->snd_wl1 = th->seq;
	f->snd_wl2 = th->ack;
	if (was == 0 && f->snd_wnd > 0 && f->snd_nxt - f->snd_una == 1 &&
	    f->snd_max - f->snd_una == 1 && f->sndq.bytes > 0) {
		/* The window opened without taking the probe byte: it goes
		 * again with the rest, now. */
		f->snd_nxt = f->snd_una;
		fj_wheel_cancel(&T(s)->wheel, &f->rtx);
		f->rtt.backoffs = 0;
	}
}

/*
 * RFC 9293 §3.10.7.4, fifth check, in ESTABLISHED and after, of a segment
 * with @len payload bytes; false when it is to be dropped. RFC 5961 §5.2:
 * an ACK of what was never sent is answered with an ACK and the segment
 * dropped. (Its lower bound, SND.UNA - MAX.SND.WND, is not applied: an
 * older ACK is ignored as RFC 9293 ignores duplicates, the window update
 * aside.)
 */
bool
tcp_ack_input(struct fj_tcp_flow *f, const struct fj_tcp_hdr *th, uint32_t len)
{
	if (fj_seq_gt(th->ack, f->snd_max)) {
		tcp_send_ack(f);
		return false;
	}
	if (fj_seq_gt(th->ack, f->snd_una))
		ack_new_data(f, th);
	else if (is_duplicate_ack(f, th, len))
		ack_duplicate(f);
	update_send_window(f, th);
	return true;
}
