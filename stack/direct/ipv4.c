/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4 input and output (RFC 791, RFC 1122). */
#include <string.h>

#include <rte_cycles.h>
#include <rte_ip_frag.h>

#include "direct.h"

#define TTL 64
/* Fragments of one datagram at most: 64 KiB in pieces of an MTU of 576. */
#define FJ_IPV4_FRAGS_MAX 128

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
	if (unlikely(fj_ipv4_is_fragment(&ip))) {
		/* The whole datagram once its last piece came, a chain the
		 * transports read like any other. */
		if ((m = fj_reasm_input(s, m, &ip)) == NULL)
			return;
		ip.total_len = (uint16_t)(m->pkt_len - FJ_ETH_HDR_LEN);
		ip.mf = false;
		ip.frag_off = 0;
		/* Its flow may be another shard's: the fragments came here
		 * by their addresses alone. */
		if (s->g->n > 1 && fj_steer_whole(s, m, &ip))
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
		if (!fj_exception_take(s, m))
			fj_drop(s, m, FJ_DROP_IP_PROTO);
	}
}

/* The UDP checksum of @m (the transport segment) left for the port,
 * completed in software: where the port cannot finish it (no offload) or
 * not for a datagram it sends in pieces. */
static void
l4_csum_in_software(struct rte_mbuf *m, uint8_t proto)
{
	uint64_t l4 = m->ol_flags & RTE_MBUF_F_TX_L4_MASK;

	if (proto != FJ_IP_PROTO_UDP || l4 != RTE_MBUF_F_TX_UDP_CKSUM)
		return;
	/* The field holds the pseudo-header sum: summed over the whole
	 * segment, it gives the checksum. */
	uint16_t c = fj_mbuf_csum_finish(m, 0, m->pkt_len, true);
	uint8_t *u = rte_pktmbuf_mtod(m, uint8_t *);
	u[6] = (uint8_t)(c >> 8);
	u[7] = (uint8_t)c;
	m->ol_flags &= ~RTE_MBUF_F_TX_L4_MASK;
}

/* Send the datagram @m (at its IPv4 header, DF clear) in fragments of at
 * most the MTU (RFC 791 §3.2), through DPDK's rte_ipv4_fragment_packet:
 * each a new header and a reference to its share of @m's data. */
static int
ipv4_fragment(struct fj_stack *s, struct rte_mbuf *m, uint32_t next)
{
	struct rte_mbuf *frags[FJ_IPV4_FRAGS_MAX];
	int n = rte_ipv4_fragment_packet(m, frags, FJ_IPV4_FRAGS_MAX, s->mtu, s->mp, s->ref_mp);

	if (n < 0) {
		fj_drop(s, m, n == -ENOMEM ? FJ_DROP_NO_MBUF : FJ_DROP_OVERSIZE);
		return n;
	}
	rte_pktmbuf_free(m); /* the fragments hold references to its data */
	s->c.ip_fragmented++;
	for (int i = 0; i < n; i++) {
		struct rte_mbuf *f = frags[i];
		uint8_t *h = rte_pktmbuf_mtod(f, uint8_t *);
		f->ol_flags &= RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL;
		f->l2_len = FJ_ETH_HDR_LEN;
		f->l3_len = FJ_IPV4_HDR_LEN;
		h[10] = h[11] = 0;
		if (s->tx_ip_csum) {
			f->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
		} else {
			uint16_t c = fj_csum_fold(fj_csum_add(0, h, FJ_IPV4_HDR_LEN));
			h[10] = (uint8_t)(c >> 8);
			h[11] = (uint8_t)c;
		}
		s->c.ip_frags_tx++;
		fj_arp_output(s, f, next);
	}
	return 0;
}

int
fj_ipv4_output(struct fj_stack *s, struct rte_mbuf *m, uint32_t dst, uint8_t proto)
{
	uint32_t plen = rte_pktmbuf_pkt_len(m);
	uint32_t next = fj_route_next_hop(s->ip, s->mask, s->gw, dst);
	uint8_t *h;

	/* A TSO segment may exceed the MTU up to IPv4's 64 KiB: the port
	 * cuts it into datagrams within the MTU. TCP is never fragmented
	 * (it sends within the path's MTU, RFC 1191); UDP and ICMP are. */
	bool tso = (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) != 0;
	bool frag = !tso && proto != FJ_IP_PROTO_TCP && plen + FJ_IPV4_HDR_LEN > s->mtu;
	uint32_t max = tso || frag ? UINT16_MAX : s->mtu;
	if (plen + FJ_IPV4_HDR_LEN > max) {
		fj_drop(s, m, FJ_DROP_OVERSIZE);
		return -EMSGSIZE;
	}
	if (next == 0) {
		fj_drop(s, m, FJ_DROP_NO_ROUTE);
		return -ENETUNREACH;
	}
	if (unlikely(proto == FJ_IP_PROTO_UDP && (frag || !s->tx_udp_csum)))
		l4_csum_in_software(m, proto);
	h = (uint8_t *)rte_pktmbuf_prepend(m, FJ_IPV4_HDR_LEN);
	if (h == NULL) {
		fj_drop(s, m, FJ_DROP_NO_MBUF);
		return -ENOBUFS;
	}
	/* IDs step by the shard count from the shard's index: two shards
	 * never send one ID at once (RFC 6864 §4.2, for those fragmented). */
	uint16_t id = s->ip_id;
	s->ip_id = (uint16_t)(s->ip_id + s->g->n);
	fj_ipv4_build(h, s->ip, dst, proto, (uint16_t)plen, id, TTL, s->tx_ip_csum);
	if (unlikely(frag)) {
		h[6] = h[7] = 0; /* DF off: this one goes in pieces */
		s->c.ip_tx++;
		return ipv4_fragment(s, m, next);
	}
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
