/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receive coalescing in software for ports without LRO: DPDK's rte_gro
 * (lightweight mode, one burst at a time) merges a flow's consecutive TCP
 * segments into one chained segment before the stack takes them, so that
 * TCP's input runs once for what came together.
 *
 * rte_gro checks no checksum and leaves the merged headers' sums stale, and
 * a burst's packets that it does not take come out after the merged ones.
 * So only runs of consecutive candidates go to it: IPv4 without options or
 * fragments, to us, TCP with only ACK set and a payload (what rte_gro
 * merges), both checksums checked here first (or vouched for by the port)
 * and marked good. Anything else keeps its place in the burst.
 */
#include <rte_ether.h>
#include <rte_gro.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "direct.h"

#define GRO_FLOWS 4         /* rte_gro: flows x items at most 128 */
#define GRO_ITEMS FJ_BURST

static bool
gro_candidate(struct fj_stack *s, struct rte_mbuf *m)
{
	const uint32_t min = RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr) +
			     sizeof(struct rte_tcp_hdr);
	uint64_t f = m->ol_flags;

	if (m->nb_segs != 1 || m->data_len < min)
		return false;
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	if (p[12] != 0x08 || p[13] != 0x00)
		return false;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(uintptr_t)(p + RTE_ETHER_HDR_LEN);
	uint16_t tlen = rte_be_to_cpu_16(ip->total_length);
	if (ip->version_ihl != 0x45 || ip->next_proto_id != IPPROTO_TCP ||
	    (rte_be_to_cpu_16(ip->fragment_offset) & (RTE_IPV4_HDR_MF_FLAG |
						      RTE_IPV4_HDR_OFFSET_MASK)) != 0 ||
	    ip->dst_addr != rte_cpu_to_be_32(s->ip) || tlen > m->data_len - RTE_ETHER_HDR_LEN)
		return false;
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);
	uint32_t thl = (uint32_t)(th->data_off >> 4) * 4;
	if (th->tcp_flags != RTE_TCP_ACK_FLAG || thl < sizeof(*th) ||
	    tlen <= sizeof(*ip) + thl)
		return false;
	/* Checked once, here; the stack then trusts the marks. */
	if (!(s->rx_ip_csum && (f & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD) &&
	    rte_ipv4_cksum(ip) != 0) /* over the header with its sum: zero */
		return false;
	uint64_t l4 = f & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	if (!(s->rx_l4_csum && (l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD || l4 == RTE_MBUF_F_RX_L4_CKSUM_NONE))) {
		/* What the stack would find: the sum over the datagram's TCP
		 * part with its pseudo-header comes to all ones. */
		uint32_t sum = rte_raw_cksum(th, tlen - sizeof(*ip)) + rte_ipv4_phdr_cksum(ip, 0);
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		if (sum != 0xffff)
			return false;
	}
	m->packet_type = RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV4 | RTE_PTYPE_L4_TCP;
	m->l2_len = RTE_ETHER_HDR_LEN;
	m->l3_len = sizeof(*ip);
	m->l4_len = thl;
	m->ol_flags = (f & ~(RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK)) |
		      RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	return true;
}

uint16_t
fj_gro_burst(struct fj_stack *s, struct rte_mbuf **pkts, uint16_t n)
{
	const struct rte_gro_param param = {
		.gro_types = RTE_GRO_TCP_IPV4,
		.max_flow_num = GRO_FLOWS,
		.max_item_per_flow = GRO_ITEMS,
		.socket_id = (uint16_t)rte_socket_id(),
	};
	const uint64_t strip = (s->rx_ip_csum ? 0 : RTE_MBUF_F_RX_IP_CKSUM_MASK) |
			       (s->rx_l4_csum ? 0 : RTE_MBUF_F_RX_L4_CKSUM_MASK);
	uint16_t out = 0, i = 0;

	/* Each packet is looked at once: a run of candidates goes to rte_gro,
	 * the packet that ends it (not a candidate) keeps its place behind. */
	while (i < n) {
		uint16_t j = i;
		bool ended = false;
		while (j < n && j - i < GRO_ITEMS) {
			if (!gro_candidate(s, pkts[j])) {
				ended = true;
				break;
			}
			j++;
		}
		if (j - i >= 2) {
			uint16_t k = rte_gro_reassemble_burst(pkts + i, (uint16_t)(j - i), &param);
			s->c.gro_merged += (uint64_t)(j - i - k);
			memmove(pkts + out, pkts + i, (size_t)k * sizeof(*pkts));
			out = (uint16_t)(out + k);
		} else if (j > i) {
			pkts[out++] = pkts[i];
		}
		if (ended) {
			/* Not a candidate: marks only a port that checks set
			 * are believed. */
			pkts[j]->ol_flags &= ~strip;
			pkts[out++] = pkts[j++];
		}
		i = j;
	}
	return out;
}
