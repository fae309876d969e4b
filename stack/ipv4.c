/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4 input and output (RFC 791, RFC 1122) and ICMP (RFC 792). */
#include <string.h>

#include <rte_cycles.h>

#include "stack_impl.h"

#define TTL 64
/* ICMP errors: at most this many a second, in bursts of ICMP_BURST. */
#define ICMP_RATE 100.0
#define ICMP_BURST 50.0

static bool
is_broadcast(const struct fj_stack *s, uint32_t a)
{
	return a == FJ_IPV4_BROADCAST || a == (s->ip | ~s->mask);
}

static void
icmp_input(struct fj_stack *s, struct rte_mbuf *m, const struct fj_ipv4 *ip)
{
	uint8_t *icmp = rte_pktmbuf_mtod_offset(m, uint8_t *, FJ_ETH_HDR_LEN + ip->hdr_len);
	size_t len = ip->total_len - ip->hdr_len;
	struct fj_icmp h;
	enum fj_drop r = fj_icmp_parse(icmp, len, &h);

	if (r != FJ_OK) {
		fj_drop(s, m, r);
		return;
	}
	s->c.icmp_rx++;
	/* Echo requests to a broadcast address go unanswered (RFC 1122 §3.2.2.6 MAY). */
	if (h.type != FJ_ICMP_ECHO_REQUEST || ip->dst != s->ip) {
		fj_drop(s, m, FJ_DROP_ICMP_TYPE);
		return;
	}
	/* The reply is the request turned around, in the same buffer. */
	fj_icmp_echo_to_reply(icmp, len);
	rte_pktmbuf_adj(m, (uint16_t)(FJ_ETH_HDR_LEN + ip->hdr_len));
	s->c.icmp_tx++;
	s->c.icmp_echo_replies++;
	fj_ipv4_output(s, m, ip->src, FJ_IP_PROTO_ICMP);
}

void
fj_ipv4_input(struct fj_stack *s, struct rte_mbuf *m)
{
	uint8_t *p = rte_pktmbuf_mtod_offset(m, uint8_t *, FJ_ETH_HDR_LEN);
	uint64_t ipf = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	struct fj_ipv4 ip;
	enum fj_drop r;

	/* A port's "good" spares the software check; anything else is
	 * checked here, after the lengths. */
	r = fj_ipv4_parse(p, m->data_len - FJ_ETH_HDR_LEN,
			  s->rx_ip_csum && ipf == RTE_MBUF_F_RX_IP_CKSUM_GOOD, &ip);
	if (r != FJ_OK) {
		fj_drop(s, m, r);
		return;
	}
	if (ip.dst != s->ip && !is_broadcast(s, ip.dst)) {
		fj_drop(s, m, FJ_DROP_NOT_FOR_US);
		return;
	}
	s->c.ip_rx++;
	/* Ethernet padding behind a short datagram goes. */
	rte_pktmbuf_trim(m, (uint16_t)(m->data_len - FJ_ETH_HDR_LEN - ip.total_len));
	switch (ip.proto) {
	case FJ_IP_PROTO_ICMP:
		icmp_input(s, m, &ip);
		break;
	case FJ_IP_PROTO_UDP:
		fj_udp_input(s, m, &ip);
		break;
	case FJ_IP_PROTO_TCP:
		fj_tcp_input(s, m, &ip);
		break;
	default:
		fj_drop(s, m, FJ_DROP_IP_PROTO);
	}
}

int
fj_ipv4_output(struct fj_stack *s, struct rte_mbuf *m, uint32_t dst, uint8_t proto)
{
	uint32_t plen = rte_pktmbuf_pkt_len(m);
	uint32_t next = fj_route_next_hop(s->ip, s->mask, s->gw, dst);
	uint8_t *h;

	if (plen + FJ_IPV4_HDR_LEN > s->mtu) {
		fj_drop(s, m, FJ_DROP_OVERSIZE);
		return -EMSGSIZE;
	}
	if (next == 0) {
		fj_drop(s, m, FJ_DROP_NO_ROUTE);
		return -ENETUNREACH;
	}
	h = (uint8_t *)rte_pktmbuf_prepend(m, FJ_IPV4_HDR_LEN);
	if (h == NULL) {
		fj_drop(s, m, FJ_DROP_NO_MBUF);
		return -ENOBUFS;
	}
	fj_ipv4_build(h, s->ip, dst, proto, (uint16_t)plen, s->ip_id++, TTL, s->tx_ip_csum);
	/* A received buffer going back out keeps no receive flags. */
	m->ol_flags &= RTE_MBUF_F_TX_OFFLOAD_MASK | RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL;
	m->l2_len = FJ_ETH_HDR_LEN;
	m->l3_len = FJ_IPV4_HDR_LEN;
	if (s->tx_ip_csum)
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
	else if (m->ol_flags & RTE_MBUF_F_TX_L4_MASK)
		m->ol_flags |= RTE_MBUF_F_TX_IPV4;
	s->c.ip_tx++;
	fj_arp_output(s, m, next);
	return 0;
}

static bool
icmp_error_allowed(struct fj_stack *s)
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
fj_icmp_unreachable(struct fj_stack *s, struct rte_mbuf *m, uint8_t code)
{
	/* @m's data starts at the offending IP header. RFC 792: quote it and
	 * the first 64 bits of its payload. */
	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);
	size_t quote = RTE_MIN((size_t)((ip[0] & 0xf) * 4 + 8), (size_t)m->data_len);
	struct rte_mbuf *e;
	uint8_t *p;

	if (!icmp_error_allowed(s)) {
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
	fj_icmp_unreach_build(p, code, ip, quote);
	rte_pktmbuf_free(m);
	s->c.icmp_tx++;
	s->c.icmp_unreach_tx++;
	fj_ipv4_output(s, e, dst, FJ_IP_PROTO_ICMP);
}
