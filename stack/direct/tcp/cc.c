/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Congestion control behind struct fj_cc_ops (cc.h): NewReno (RFC 5681,
 * RFC 6582) and, on a flow with SACK, the congestion window rules of
 * SACK-based loss recovery (RFC 6675 §5), where cwnd holds at ssthresh
 * and the pipe decides what is sent (tcp_output.c).
 */
#include "tcp_impl.h"

/* RFC 5681 §3.1, RFC 6928: ten segments; no threshold yet. */
static void
newreno_init(struct fj_tcp_flow *f)
{
	f->cwnd = IW_SEGS * (uint32_t)f->mss;
	f->ssthresh = UINT32_MAX;
}

/* RFC 5681 §3.1 equation 4: half the flight, at least two segments. */
static uint32_t
half_flight(const struct fj_tcp_flow *f)
{
	uint32_t flight = f->snd_max - f->snd_una;

	return RTE_MAX(flight / 2, 2u * f->mss);
}

static void
newreno_on_ack(struct fj_tcp_flow *f, uint32_t acked, bool in_recovery)
{
	if (in_recovery) {
		/* RFC 6582 §3.2 (5), partial ACK: deflate by what was acked
		 * (the segment at SND.UNA went again). With SACK, cwnd holds at
		 * ssthresh and the pipe decides what goes: RFC 6675 §5. */
		if (!f->sack_ok)
			f->cwnd = f->cwnd > acked ? f->cwnd - acked + f->mss : f->mss;
		return;
	}
	if (f->cwnd < f->ssthresh)
		f->cwnd += RTE_MIN(acked, (uint32_t)f->mss); /* slow start (eq. 2) */
	else
		f->cwnd += RTE_MAX(1u, (uint32_t)f->mss * f->mss / f->cwnd); /* (eq. 3) */
}

static void
newreno_on_dupack(struct fj_tcp_flow *f)
{
	/* RFC 6582 §3.2 (4): each further duplicate inflates by a segment
	 * that left the network; with SACK the pipe counts them instead. */
	if (f->in_recovery && !f->sack_ok)
		f->cwnd += f->mss;
}

static void
newreno_enter_recovery(struct fj_tcp_flow *f)
{
	f->ssthresh = half_flight(f);
	/* SACK: cwnd = ssthresh and the pipe rules (RFC 6675 §5 (4.2));
	 * NewReno inflates by the three segments that left (RFC 5681 §3.2). */
	f->cwnd = f->ssthresh + (f->sack_ok ? 0 : 3u * f->mss);
}

static void
newreno_exit_recovery(struct fj_tcp_flow *f)
{
	/* RFC 6582 §3.2 (3), the first choice: min(ssthresh, max(FlightSize, SMSS) +
	 * SMSS), no burst of what the inflated window allowed. */
	f->cwnd = RTE_MIN(f->ssthresh, RTE_MAX(f->snd_max - f->snd_una, (uint32_t)f->mss) + f->mss);
}

static void
newreno_on_rto(struct fj_tcp_flow *f)
{
	/* RFC 5681 §3.1: after a timeout, one segment and slow start. */
	f->ssthresh = half_flight(f);
	f->cwnd = f->mss;
}

static const struct fj_cc_ops newreno = {
	.name = "newreno",
	.init = newreno_init,
	.on_ack = newreno_on_ack,
	.on_dupack = newreno_on_dupack,
	.enter_recovery = newreno_enter_recovery,
	.exit_recovery = newreno_exit_recovery,
	.on_rto = newreno_on_rto,
};

void
tcp_cc_init(struct fj_tcp_flow *f)
{
	f->cc = &newreno;
	f->cc->init(f);
}
