/* SPDX-License-Identifier: BSD-3-Clause */
/* ARP for IPv4 over Ethernet (RFC 826) on top of the neighbour cache. */
#include <string.h>

#include <rte_cycles.h>

#include "direct.h"

static const struct fj_mac BROADCAST = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };

static void
arp_send(struct fj_stack *s, uint16_t op, const struct fj_mac *eth_dst,
	 const struct fj_mac *tha, uint32_t tpa, uint32_t spa)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(s->mp);
	uint8_t *p;

	if (m == NULL || (p = (uint8_t *)rte_pktmbuf_append(m, 60)) == NULL) {
		s->c.drops[FJ_DROP_NO_MBUF]++;
		rte_pktmbuf_free(m);
		return;
	}
	struct fj_arp a = { op, s->mac, spa, *tha, tpa };
	memset(p, 0, 60);
	fj_eth_build(p, eth_dst, &s->mac, FJ_ETH_P_ARP);
	fj_arp_build(p + FJ_ETH_HDR_LEN, &a);
	s->c.arp_tx++;
	if (op == FJ_ARP_REQUEST)
		s->c.arp_requests_tx++;
	else
		s->c.arp_replies_tx++;
	fj_netif_send(s, m);
}

static void
send_with_mac(struct fj_stack *s, struct rte_mbuf *m, const struct fj_mac *mac)
{
	fj_eth_send(s, m, mac, FJ_ETH_P_IPV4);
}

static void
release_pending(struct fj_stack *s, uint32_t ip, const struct fj_mac *mac)
{
	void *pkts[FJ_NEIGH_PENDING_PER_IP];
	unsigned n = fj_neigh_take(&s->neigh, ip, pkts, FJ_NEIGH_PENDING_PER_IP);

	for (unsigned i = 0; i < n; i++)
		send_with_mac(s, pkts[i], mac);
}

/* What one shard learnt from an ARP packet, for the others (each keeps its
 * own neighbour cache: nothing writable is shared). */
struct arp_learnt {
	uint32_t ip;
	struct fj_mac mac;
	bool for_us;
};

static void
arp_learn(struct fj_stack *s, uint32_t ip, const struct fj_mac *mac, bool for_us)
{
	if (fj_neigh_learn(&s->neigh, ip, mac, fj_now(s), for_us) >= 0)
		release_pending(s, ip, mac);
}

static void
arp_learnt_msg(struct fj_stack *s, void *payload)
{
	const struct arp_learnt *l = payload;

	arp_learn(s, l->ip, &l->mac, l->for_us);
}

void
fj_arp_input(struct fj_stack *s, struct rte_mbuf *m, const struct fj_eth *eth)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	struct fj_arp a;
	enum fj_wire_err r;

	RTE_SET_USED(eth);
	r = fj_arp_parse(p + FJ_ETH_HDR_LEN, m->data_len - FJ_ETH_HDR_LEN, &a);
	if (r != FJ_OK) {
		fj_drop(s, m, fj_drop_of(r));
		return;
	}
	s->c.arp_rx++;
	bool for_us = a.tpa == s->ip;
	/* A probe (sender 0.0.0.0, RFC 5227) teaches nothing. */
	if (a.spa != 0 && a.spa != s->ip) {
		arp_learn(s, a.spa, &a.sha, for_us);
		if (s->g->n > 1) {
			/* RFC 826's merge is each shard's own: an entry
			 * another shard waits on is completed there. */
			struct arp_learnt l = { a.spa, a.sha, for_us };
			fj_shard_post_others(s, arp_learnt_msg, &l, sizeof(l));
		}
	}
	if (!for_us || a.op != FJ_ARP_REQUEST) {
		rte_pktmbuf_free(m);
		return;
	}
	/* The reply reuses the request's buffer. */
	struct fj_arp reply = { FJ_ARP_REPLY, s->mac, s->ip, a.sha, a.spa };
	/* Exactly a minimum frame, whatever padding the request came with. */
	if (m->data_len < 60)
		rte_pktmbuf_append(m, (uint16_t)(60 - m->data_len));
	else
		rte_pktmbuf_trim(m, (uint16_t)(m->data_len - 60));
	memset(p, 0, m->data_len);
	fj_eth_build(p, &a.sha, &s->mac, FJ_ETH_P_ARP);
	fj_arp_build(p + FJ_ETH_HDR_LEN, &reply);
	s->c.arp_tx++;
	s->c.arp_replies_tx++;
	fj_netif_send(s, m);
}

void
fj_arp_output(struct fj_stack *s, struct rte_mbuf *m, uint32_t next_hop)
{
	struct fj_mac mac;

	if (next_hop == FJ_IPV4_BROADCAST || next_hop == (s->ip | ~s->mask)) {
		send_with_mac(s, m, &BROADCAST);
		return;
	}
	switch (fj_neigh_lookup(&s->neigh, next_hop, fj_now(s), &mac)) {
	case FJ_NEIGH_HIT:
		send_with_mac(s, m, &mac);
		return;
	case FJ_NEIGH_ASK:
		arp_send(s, FJ_ARP_REQUEST, &BROADCAST, &(struct fj_mac){ { 0 } }, next_hop, s->ip);
		/* fall through */
	case FJ_NEIGH_WAIT:
		if (fj_neigh_queue(&s->neigh, next_hop, m) == 0)
			return;
		/* fall through */
	case FJ_NEIGH_FULL:
	default:
		fj_drop(s, m, FJ_DROP_ARP_PENDING_FULL);
	}
}

void
fj_arp_announce(struct fj_stack *s)
{
	/* Gratuitous ARP: a request for our own address (RFC 5227 §3). */
	arp_send(s, FJ_ARP_REQUEST, &BROADCAST, &(struct fj_mac){ { 0 } }, s->ip, s->ip);
}

static void
tick_ask(void *ctx, uint32_t ip, const struct fj_mac *mac)
{
	struct fj_stack *s = ctx;

	arp_send(s, FJ_ARP_REQUEST, mac ? mac : &BROADCAST, &(struct fj_mac){ { 0 } }, ip, s->ip);
}

static void
tick_drop(void *ctx, void *pkt)
{
	fj_drop(ctx, pkt, FJ_DROP_ARP_TIMEOUT);
}

void
fj_arp_tick(struct fj_stack *s, uint64_t now)
{
	fj_neigh_tick(&s->neigh, now, tick_ask, tick_drop, s);
}
