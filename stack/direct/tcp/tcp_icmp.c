/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ICMP errors about our segments (RFC 1122 §4.2.3.9): taken only for a
 * segment still in flight (RFC 5927 §4.1, against forged errors). A hard
 * error (protocol or port unreachable, a prohibited or unknown
 * destination) ends a connection still in SYN-SENT at once; everywhere
 * else errors are soft (RFC 5461 §4): recorded, and reported if the
 * connection later times out. "Fragmentation needed" lowers the flow's
 * segment size to the path's MTU (RFC 1191) and sends what is in flight
 * again at the new size.
 */
#include "tcp_impl.h"

/* A "fragmentation needed" below this is taken as this (RFC 5927 §7.2: a
 * forged tiny MTU would cut a flow into tiny segments). */
#define PMTU_MIN 552

/* RFC 1191 §7's plateaus, for a router that gives no next-hop MTU. */
static const uint16_t plateaus[] = { 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68 };

/* Whether the error ends a connecting flow (RFC 1122 §4.2.3.9). */
static bool
hard_error(const struct fj_icmp_error *e)
{
	if (e->type != FJ_ICMP_DEST_UNREACH)
		return false;
	switch (e->code) {
	case FJ_ICMP_PROTO_UNREACH:
	case FJ_ICMP_PORT_UNREACH:
	case FJ_ICMP_NET_UNKNOWN:
	case FJ_ICMP_HOST_UNKNOWN:
	case FJ_ICMP_NET_PROHIBITED:
	case FJ_ICMP_HOST_PROHIBITED:
	case FJ_ICMP_ADMIN_PROHIBITED:
		return true;
	default:
		return false;
	}
}

/* RFC 1191 §6.3: the new path MTU lowers the segment size; what is in
 * flight was too large for the path, and goes again at the new size at
 * once (this is no sign of congestion: cwnd stays). */
static bool
path_mtu(struct fj_tcp_flow *f, const struct fj_icmp_error *e)
{
	uint32_t mtu = e->mtu;

	if (mtu == 0) {
		/* RFC 1191 §5: the plateau below the datagram's length. */
		mtu = plateaus[RTE_DIM(plateaus) - 1];
		for (unsigned i = 0; i < RTE_DIM(plateaus); i++)
			if (plateaus[i] < e->total_len) {
				mtu = plateaus[i];
				break;
			}
	}
	mtu = RTE_MAX(mtu, (uint32_t)PMTU_MIN);
	uint32_t mss = mtu - FJ_IPV4_HDR_LEN - FJ_TCP_HDR_LEN - (f->ts_ok ? 12u : 0u);
	if (mss >= f->mss)
		return false; /* it only ever lowers (no increase probes, §6.3) */
	f->mss = (uint16_t)mss;
	f->s->c.tcp_pmtu_updates++;
	if (f->state != FJ_TCP_SYN_SENT && !f->in_recovery && f->snd_nxt != f->snd_una) {
		f->snd_nxt = f->snd_una;
		f->rexmit_nxt = f->snd_una;
		f->timing = false; /* Karn */
		tcp_output(f);
	}
	return true;
}

bool
fj_tcp_icmp_error(struct fj_stack *s, const struct fj_icmp_error *e)
{
	struct fj_tcp_key key = { e->dst, e->src, e->dport, e->sport };
	void *data;

	if (e->type == FJ_ICMP_SOURCE_QUENCH)
		return false; /* RFC 6633: ignored */
	if (rte_hash_lookup_data(T(s)->flows, &key, &data) < 0)
		return false;
	struct fj_tcp_flow *f = data;
	/* RFC 5927 §4.1: the quoted segment is one we sent and that is not
	 * yet acknowledged (in SYN-SENT, our SYN). */
	bool in_flight = f->state == FJ_TCP_SYN_SENT ?
				 e->seq == f->iss :
				 fj_seq_le(f->snd_una, e->seq) && fj_seq_lt(e->seq, f->snd_max);
	if (!in_flight || f->state == FJ_TCP_TIME_WAIT)
		return false;
	if (e->type == FJ_ICMP_DEST_UNREACH && e->code == FJ_ICMP_FRAG_NEEDED) {
		path_mtu(f, e);
		return true;
	}
	if (f->state == FJ_TCP_SYN_SENT && hard_error(e)) {
		s->c.tcp_icmp_aborts++;
		tcp_flow_closed(f, fj_icmp_errno(e));
		return true;
	}
	f->soft_err = fj_icmp_errno(e);
	return true;
}
