/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Software steering (shard.h): with more than one shard and no RSS in the
 * device, a TCP or UDP frame that arrived at one shard's queue but belongs
 * to another's flow goes to its owner through the owner's steering ring, a
 * bounded rte_ring (full: a counted drop, steer_ring_full). The owner is
 * fj_flow_owner of the 4-tuple, the same for both directions, so an active
 * open chooses a source port its own shard owns (fj_direct_shard_of). TCP
 * over IPv6 is steered the same way by its folded addresses (flow_hash.h).
 */
#include <rte_byteorder.h>
#include <rte_ring.h>
#include <rte_thash.h>

#include "direct.h"
#include "flow_hash.h"

/* Hand @pkts[0..n-1], all for shard @to, to its ring; what does not fit is
 * dropped and counted here. */
static void
steer_out(struct fj_stack *s, unsigned to, struct rte_mbuf **pkts, unsigned n)
{
	unsigned sent = rte_ring_mp_enqueue_burst(s->g->shard[to]->steer_ring, (void **)pkts, n,
						  NULL);

	s->c.steered_out += sent;
	for (unsigned i = sent; i < n; i++)
		fj_drop(s, pkts[i], FJ_DROP_STEER_FULL);
}

void
fj_steer_burst(struct fj_stack *s, struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_mbuf *away[FJ_BURST], *batch[FJ_BURST];
	uint16_t owner[FJ_BURST], naway = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		int o = fj_steer_owner(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, s->g->n);
		if (o < 0 || (unsigned)o == s->id) {
			fj_eth_input(s, m);
		} else {
			away[naway] = m;
			owner[naway++] = (uint16_t)o;
		}
	}
	/* One enqueue per owner, the burst's order kept within each. */
	while (naway > 0) {
		uint16_t to = owner[0], nb = 0, left = 0;
		for (uint16_t i = 0; i < naway; i++) {
			if (owner[i] == to) {
				batch[nb++] = away[i];
			} else {
				away[left] = away[i];
				owner[left++] = owner[i];
			}
		}
		steer_out(s, to, batch, nb);
		naway = left;
	}
}

bool
fj_steer_whole(struct fj_stack *s, struct rte_mbuf *m, const struct fj_ipv4 *ip)
{
	uint32_t l4 = FJ_ETH_HDR_LEN + ip->hdr_len;

	if ((ip->proto != FJ_IP_PROTO_TCP && ip->proto != FJ_IP_PROTO_UDP) ||
	    !fj_mbuf_pullup(m, l4 + 4))
		return false;
	const uint8_t *p = rte_pktmbuf_mtod_offset(m, const uint8_t *, l4);
	struct fj_addr from = { .ip = ip->src, .port = (uint16_t)(p[0] << 8 | p[1]) };
	unsigned o = fj_direct_shard_of(s, (uint16_t)(p[2] << 8 | p[3]), &from);
	if (o == s->id)
		return false;
	steer_out(s, o, &m, 1);
	return true;
}

unsigned
fj_steer_poll(struct fj_stack *s)
{
	struct rte_mbuf *pkts[FJ_BURST];
	unsigned n;

	if (s->steer_ring == NULL)
		return 0;
	n = rte_ring_sc_dequeue_burst(s->steer_ring, (void **)pkts, FJ_BURST, NULL);
	s->c.steered_in += n;
	for (unsigned i = 0; i < n; i++)
		fj_eth_input(s, pkts[i]);
	return n;
}

/*
 * The queue the device's RSS puts a packet from @rip:@rport to
 * @lip:@lport on: the Toeplitz hash of (source, destination, source port,
 * destination port) with the port's key, through its indirection table.
 */
static unsigned
rss_queue(const struct fj_shards *g, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport)
{
	struct rte_ipv4_tuple t = { .src_addr = rip, .dst_addr = lip, .sport = rport, .dport = lport };
	uint32_t h = rte_softrss((uint32_t *)&t, RTE_THASH_V4_L4_LEN, g->rss_key);

	return g->reta[h % g->reta_size];
}

/*
 * The same for TCP over IPv6 (RFC 8200 §7's flow is the 5-tuple's): the
 * addresses as Toeplitz takes them (host-order words, DPDK's
 * rte_thash_load_v6_addrs). A port that does not hash it puts it on the
 * first entry's queue, as DPDK's ports put what they do not classify.
 */
static unsigned
rss_queue6(const struct fj_shards *g, const struct fj_ip6 *lip, uint16_t lport,
	   const struct fj_ip6 *rip, uint16_t rport)
{
	struct rte_ipv6_hdr h;
	union rte_thash_tuple t;

	if (!g->rss_v6)
		return g->reta[0];
	memcpy(h.src_addr, rip->b, 16);
	memcpy(h.dst_addr, lip->b, 16);
	rte_thash_load_v6_addrs(&h, &t);
	t.v6.sport = rport;
	t.v6.dport = lport;
	uint32_t hv = rte_softrss((uint32_t *)&t, RTE_THASH_V6_L4_LEN, g->rss_key);

	return g->reta[hv % g->reta_size];
}

unsigned
fj_direct_shard_of6(struct fj_stack *s, const struct fj_ip6 *lip, uint16_t lport,
		    const struct fj_ip6 *rip, uint16_t rport)
{
	const struct fj_shards *g = s->g;

	if (g->n <= 1)
		return 0;
	if (g->steer == FJ_STEER_RSS)
		return rss_queue6(g, lip, lport, rip, rport);
	return fj_flow_owner(fj_ip6_fold(lip->b), fj_ip6_fold(rip->b), lport, rport, g->n);
}

unsigned
fj_direct_shard_of(struct fj_stack *s, uint16_t lport, const struct fj_addr *remote)
{
	const struct fj_shards *g = s->g;

	if (remote->family == FJ_AF_INET6) {
		/* From the source address a connect to it would take. */
		struct fj_ip6 rip;
		memcpy(rip.b, remote->ip6, 16);
		return fj_direct_shard_of6(s, fj_ipv6_source(s, &rip), lport, &rip, remote->port);
	}
	if (g->steer == FJ_STEER_RSS)
		return rss_queue(g, s->ip, lport, remote->ip, remote->port);
	return fj_flow_owner(s->ip, remote->ip, lport, remote->port, g->n);
}

bool
fj_steer_whole6(struct fj_stack *s, struct rte_mbuf *m, const struct fj_ipv6 *ip)
{
	uint32_t l4 = FJ_ETH_HDR_LEN + ip->l4_off;

	if (s->g->n <= 1 || ip->proto != FJ_IP_PROTO_TCP || !fj_mbuf_pullup(m, l4 + 4))
		return false;
	const uint8_t *p = rte_pktmbuf_mtod_offset(m, const uint8_t *, l4);
	unsigned o = fj_direct_shard_of6(s, &ip->dst, (uint16_t)(p[2] << 8 | p[3]), &ip->src,
					 (uint16_t)(p[0] << 8 | p[1]));
	if (o == s->id)
		return false;
	steer_out(s, o, &m, 1);
	return true;
}
