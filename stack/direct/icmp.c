/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ICMP (RFC 792): echo replies, destination unreachable (rate-limited),
 * and the errors about our own datagrams, passed to TCP and UDP.
 */
#include <rte_cycles.h>

#include "direct.h"
#include "shard.h"
#include "tcp/tcp.h"

/* ICMP errors: at most this many a second, in bursts of ICMP_BURST. */
#define ICMP_RATE 100.0
#define ICMP_BURST 50.0

/* The error for UDP: the endpoint bound to the port the datagram came
 * from keeps it (fj_udp_error). */
static bool
udp_icmp_error(struct fj_stack *s, const struct fj_icmp_error *e)
{
	struct fj_udp *u = s->udp_ports[e->sport];

	if (u == NULL || e->type == FJ_ICMP_SOURCE_QUENCH)
		return false;
	u->err = fj_icmp_errno(e);
	u->err_to = (struct fj_addr){ .ip = e->dst, .port = e->dport };
	s->c.udp_icmp_errors++;
	return true;
}

/* To the transport, counted as taken or ignored. */
static void
icmp_error_deliver(struct fj_stack *s, const struct fj_icmp_error *e)
{
	bool taken = e->proto == FJ_IP_PROTO_TCP ? fj_tcp_icmp_error(s, e) :
		     e->proto == FJ_IP_PROTO_UDP ? udp_icmp_error(s, e) : false;
	if (taken)
		s->c.icmp_errors_rx++;
	else
		s->c.drops[FJ_DROP_ICMP_ERROR]++;
}

/* On the shard that owns the flow, passed on by message. */
static void
icmp_error_msg(struct fj_stack *s, void *payload)
{
	struct fj_icmp_error e;

	memcpy(&e, payload, sizeof(e));
	icmp_error_deliver(s, &e);
}

/*
 * An error about a datagram we sent (RFC 1122 §3.2.2): it quotes one from
 * our address; TCP and UDP check the rest. The flow may be another
 * shard's (the device steered the ICMP message by its own addresses): it
 * goes there by message.
 */
static void
icmp_error_input(struct fj_stack *s, struct rte_mbuf *m, const uint8_t *icmp, size_t len,
		 const struct fj_ipv4 *ip)
{
	struct fj_icmp_error e;
	enum fj_wire_err r = fj_icmp_error_parse(icmp, len, &e);

	if (r != FJ_OK) {
		fj_drop(s, m, fj_drop_of(r));
		return;
	}
	if (e.src != s->ip || ip->dst != s->ip) {
		fj_drop(s, m, FJ_DROP_ICMP_ERROR);
		return;
	}
	rte_pktmbuf_free(m);
	if (s->g->n > 1 && e.proto == FJ_IP_PROTO_TCP) {
		struct fj_addr to = { .ip = e.dst, .port = e.dport };
		unsigned owner = fj_direct_shard_of(s, e.sport, &to);
		if (owner != s->id) {
			RTE_BUILD_BUG_ON(sizeof(e) > FJ_MSG_PAYLOAD);
			fj_shard_post(s, s->g->shard[owner], icmp_error_msg, &e, sizeof(e));
			return;
		}
	}
	icmp_error_deliver(s, &e);
}

void
fj_icmp_input(struct fj_stack *s, struct rte_mbuf *m, const struct fj_ipv4 *ip)
{
	uint32_t off = FJ_ETH_HDR_LEN + ip->hdr_len;
	uint8_t *icmp = rte_pktmbuf_mtod_offset(m, uint8_t *, off);
	size_t len = ip->total_len - ip->hdr_len;
	struct fj_icmp h;
	enum fj_wire_err r;

	/* A reassembled datagram is a chain: its checksum is summed over
	 * the segments, the header read from the first. */
	if (m->nb_segs > 1) {
		if (!fj_mbuf_pullup(m, off + FJ_ICMP_HDR_LEN)) {
			fj_drop(s, m, FJ_DROP_OVERSIZE);
			return;
		}
		icmp = rte_pktmbuf_mtod_offset(m, uint8_t *, off);
		r = fj_mbuf_csum_ok(m, off, (uint32_t)len) ? fj_icmp_parse(icmp, m->data_len - off, true, &h)
							   : FJ_WIRE_ICMP_CHECKSUM;
		/* An error's quote is in the first 576 bytes (RFC 1812
		 * §4.3.2.3): what the first segment holds is read. */
		len = RTE_MIN(len, (size_t)(m->data_len - off));
	} else {
		r = fj_icmp_parse(icmp, len, false, &h);
	}

	if (r != FJ_OK) {
		fj_drop(s, m, fj_drop_of(r));
		return;
	}
	s->c.icmp_rx++;
	if (fj_icmp_is_error(h.type)) {
		icmp_error_input(s, m, icmp, len, ip);
		return;
	}
	/* Echo requests to a broadcast address go unanswered (RFC 1122 §3.2.2.6 MAY). */
	if (h.type != FJ_ICMP_ECHO_REQUEST || ip->dst != s->ip) {
		/* (an echo reply to the kernel's ping, say) */
		if (ip->dst != s->ip || !fj_exception_take(s, m))
			fj_drop(s, m, FJ_DROP_ICMP_TYPE);
		return;
	}
	/* The reply is the request turned around, in the same buffer. */
	fj_icmp_echo_to_reply(icmp);
	rte_pktmbuf_adj(m, (uint16_t)(FJ_ETH_HDR_LEN + ip->hdr_len));
	s->c.icmp_tx++;
	s->c.icmp_echo_replies++;
	fj_ipv4_output(s, m, ip->src, FJ_IP_PROTO_ICMP);
}

bool
fj_icmp_rate_ok(struct fj_stack *s)
{
	uint64_t now = fj_now(s);

	s->icmp_tokens += (double)(now - s->icmp_last) * ICMP_RATE / (double)s->hz;
	if (s->icmp_tokens > ICMP_BURST)
		s->icmp_tokens = ICMP_BURST;
	s->icmp_last = now;
	if (s->icmp_tokens < 1.0)
		return false;
	s->icmp_tokens -= 1.0;
	return true;
}

void
fj_icmp_error(struct fj_stack *s, struct rte_mbuf *m, uint8_t type, uint8_t code)
{
	/* @m's data starts at the offending IP header. RFC 792: quote it and
	 * the first 64 bits of its payload. */
	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);
	size_t quote = RTE_MIN((size_t)((ip[0] & 0xf) * 4 + 8), (size_t)m->data_len);
	struct rte_mbuf *e;
	uint8_t *p;

	if (!fj_icmp_rate_ok(s)) {
		fj_drop(s, m, FJ_DROP_ICMP_RATE);
		return;
	}
	uint32_t dst = (uint32_t)ip[12] << 24 | (uint32_t)ip[13] << 16 | (uint32_t)ip[14] << 8 | ip[15];
	e = rte_pktmbuf_alloc(s->mp);
	if (e == NULL || (p = (uint8_t *)rte_pktmbuf_append(e, (uint16_t)(FJ_ICMP_HDR_LEN + quote))) == NULL) {
		rte_pktmbuf_free(e);
		fj_drop(s, m, FJ_DROP_NO_MBUF);
		return;
	}
	fj_icmp_error_build(p, type, code, ip, quote);
	rte_pktmbuf_free(m);
	s->c.icmp_tx++;
	if (type == FJ_ICMP_DEST_UNREACH)
		s->c.icmp_unreach_tx++;
	fj_ipv4_output(s, e, dst, FJ_IP_PROTO_ICMP);
}
