/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4 input and output (RFC 791, RFC 1122). */
#include <string.h>

#include <rte_cycles.h>

#include "direct.h"

#define TTL 64

static bool
is_broadcast(const struct fj_stack *s, uint32_t a)
{
	return a == FJ_IPV4_BROADCAST || a == (s->ip | ~s->mask);
}

void
fj_ipv4_input(struct fj_stack *s, struct rte_mbuf *m)
{
	uint8_t *p = rte_pktmbuf_mtod_offset(m, uint8_t *, FJ_ETH_HDR_LEN);
	uint64_t ipf = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	struct fj_ipv4 ip;
	enum fj_wire_err r;

	/* A port's "good" (or the GRO pass's, which checked it) spares the
	 * software check; anything else is checked here, after the lengths. */
	r = fj_ipv4_parse(p, m->pkt_len - FJ_ETH_HDR_LEN,
			  (s->rx_ip_csum || s->rx_gro) && ipf == RTE_MBUF_F_RX_IP_CKSUM_GOOD, &ip);
	if (r != FJ_OK) {
		fj_drop(s, m, fj_drop_of(r));
		return;
	}
	if (ip.dst != s->ip && !is_broadcast(s, ip.dst)) {
		fj_drop(s, m, FJ_DROP_NOT_FOR_US);
		return;
	}
	/* Only TCP takes segments beyond the MTU (coalesced by the port). */
	if (unlikely(m->nb_segs != 1) && ip.proto != FJ_IP_PROTO_TCP) {
		fj_drop(s, m, FJ_DROP_OVERSIZE);
		return;
	}
	s->c.ip_rx++;
	/* Ethernet padding behind a short datagram goes. */
	fj_mbuf_cut_back(m, FJ_ETH_HDR_LEN + ip.total_len);
	switch (ip.proto) {
	case FJ_IP_PROTO_ICMP:
		fj_icmp_input(s, m, &ip);
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

	/* A TSO segment may exceed the MTU up to IPv4's 64 KiB: the port
	 * cuts it into datagrams within the MTU. */
	uint32_t max = (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) ? UINT16_MAX : s->mtu;
	if (plen + FJ_IPV4_HDR_LEN > max) {
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
