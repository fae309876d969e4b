/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ICMP errors about our segments (RFC 1122 §4.2.3.9): taken only for a
 * segment still in flight (RFC 5927 §4.1, against forged errors). A hard
 * error (protocol or port unreachable, a prohibited or unknown
 * destination) ends a connection still in SYN-SENT at once; everywhere
 * else errors are soft (RFC 5461 §4): recorded, and reported if the
 * connection later times out. "Fragmentation needed" (ICMPv6's packet
 * too big) lowers the flow's segment size to the path's MTU (RFC 1191,
 * RFC 8201) and sends what is in flight again at the new size.
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

/* RFC 1191 §6.3 (RFC 8201 §4 for IPv6): the new path MTU lowers the
 * segment size; what is in flight was too large for the path, and goes
 * again at the new size at once (this is no sign of congestion: cwnd
 * stays). */
static bool
lower_mss(struct fj_tcp_flow *f, uint32_t mtu)
{
	uint32_t mss = mtu - tcp_ip_hdr_len(f->v6) - FJ_TCP_HDR_LEN - (f->ts_ok ? 12u : 0u);

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
	return lower_mss(f, RTE_MAX(mtu, (uint32_t)PMTU_MIN));
}

/* RFC 5927 §4.1: the flow whose segment @seq is quoted, if that segment
 * is one we sent and that is not yet acknowledged (in SYN-SENT, our SYN). */
static struct fj_tcp_flow *
flow_in_flight(struct fj_stack *s, const struct fj_tcp_ends *ends, uint16_t rport, uint16_t lport,
	       uint32_t seq)
{
	struct fj_tcp_flow *f = tcp_lookup(s, ends, rport, lport);

	if (f == NULL || f->state == FJ_TCP_TIME_WAIT)
		return NULL;
	bool in_flight = f->state == FJ_TCP_SYN_SENT ?
				 seq == f->iss :
				 fj_seq_le(f->snd_una, seq) && fj_seq_lt(seq, f->snd_max);
	return in_flight ? f : NULL;
}

bool
fj_tcp_icmp_error(struct fj_stack *s, const struct fj_icmp_error *e)
{
	struct fj_tcp_ends ends = { .raddr = e->dst, .laddr = e->src };

	if (e->type == FJ_ICMP_SOURCE_QUENCH)
		return false; /* RFC 6633: ignored */
	struct fj_tcp_flow *f = flow_in_flight(s, &ends, e->dport, e->sport, e->seq);
	if (f == NULL)
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

/* Whether an ICMPv6 error ends a connecting flow: destination
 * unreachable for administrative reasons, an unreachable address or
 * port, a failed policy or a reject route (RFC 4443 §3.1 codes 1, 3-6),
 * or a parameter problem naming an unknown next header (§3.4 code 1, as
 * protocol unreachable is for ICMP). */
static bool
hard_error6(const struct fj_icmp6_error *e)
{
	if (e->type == FJ_ICMP6_PARAM_PROBLEM)
		return e->code == 1;
	return e->type == FJ_ICMP6_DEST_UNREACH && e->code != 0 && e->code != 2 && e->code <= 6;
}

bool
fj_tcp_icmp6_error(struct fj_stack *s, const struct fj_icmp6_error *e)
{
	struct fj_tcp_ends ends = { .v6 = true, .raddr6 = e->dst, .laddr6 = e->src };

	if (!e->has_seq)
		return false;
	struct fj_tcp_flow *f = flow_in_flight(s, &ends, e->dport, e->sport, e->seq);
	if (f == NULL)
		return false;
	if (e->type == FJ_ICMP6_PKT_TOO_BIG) {
		/* ipv6.c took the MTU (at least 1,280, below the link's). */
		lower_mss(f, e->mtu);
		return true;
	}
	if (f->state == FJ_TCP_SYN_SENT && hard_error6(e)) {
		s->c.tcp_icmp_aborts++;
		tcp_flow_closed(f, fj_icmp6_errno(e));
		return true;
	}
	f->soft_err = fj_icmp6_errno(e);
	return true;
}
