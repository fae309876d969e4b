/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv6 (RFC 8200) on the direct backend: input with its extension headers
 * and parameter problems, output with source selection and next hop,
 * ICMPv6 echo (RFC 4443), and Neighbor Discovery (RFC 4861): solicitations
 * answered, neighbours resolved through the cache of nd.c, router
 * advertisements giving the default router, on-link prefixes and, for
 * autonomous /64 prefixes, an address (RFC 4862 §5.5.3); duplicate
 * address detection for every address of ours (RFC 4862 §5.4).
 * Every shard answers what reaches its queue; what one learns of
 * neighbours and routers it tells the others.
 */
#include <string.h>

#include <rte_ip_frag.h>

#include "direct.h"
#include "shard.h"
#include "tcp/tcp.h"

#define HOP_LIMIT 64
#define FJ_IPV6_FRAGS_MAX 128 /* 64 KiB in pieces of an MTU of 1,280 and more */
#define ND_HOP_LIMIT 255 /* RFC 4861 §6.1, §7.1: never forwarded */

static const struct fj_ip6 ALL_NODES = { { 0xff, 0x02, [15] = 1 } };

void
fj_ipv6_init(struct fj_stack *s)
{
	/* RFC 4861 §10's defaults. */
	struct fj_nd_params p = { .reachable = 30 * s->hz, .retrans = s->hz, .delay = 5 * s->hz,
				  .max_multicast = 3, .max_unicast = 3 };

	fj_nd_init(&s->nd, &p);
	s->ip6[0].a = fj_ip6_link_local(&s->mac);
	s->ip6[0].plen = 64;
	if (s->nip6 == 0)
		s->nip6 = 1;
	/* RFC 4862 §5.4: every address is tentative until its probes went
	 * unanswered (shard 0 sends them and tells the others). */
	for (unsigned i = 0; i < s->nip6; i++) {
		s->ip6[i].state = s->dad_transmits ? FJ_IP6_TENTATIVE : FJ_IP6_PREFERRED;
		s->ip6[i].dad_left = s->dad_transmits;
		s->ip6[i].dad_next = 0;
	}
}

/* Where @a is among our addresses, in any state (-1: not ours). */
static int
listed(const struct fj_stack *s, const struct fj_ip6 *a)
{
	for (unsigned i = 0; i < s->nip6; i++)
		if (fj_ip6_eq(&s->ip6[i].a, a))
			return (int)i;
	return -1;
}

/* An address of ours that is assigned (RFC 4862 §5.4: a tentative or
 * duplicate one neither receives nor sends, Neighbor Discovery aside). */
static bool
is_ours(const struct fj_stack *s, const struct fj_ip6 *a)
{
	int i = listed(s, a);
	return i >= 0 && s->ip6[i].state == FJ_IP6_PREFERRED;
}

/* Ours, all-nodes, or the solicited-node group of one of ours. */
static bool
for_us(const struct fj_stack *s, const struct fj_ip6 *a)
{
	if (fj_ip6_eq(a, &ALL_NODES) || is_ours(s, a))
		return true;
	if (!fj_ip6_is_solicited_node(a))
		return false;
	for (unsigned i = 0; i < s->nip6; i++)
		if (memcmp(s->ip6[i].a.b + 13, a->b + 13, 3) == 0)
			return true;
	return false;
}

bool
fj_ipv6_mac_for_us(const struct fj_stack *s, const struct fj_mac *mac)
{
	if (mac->b[0] != 0x33 || mac->b[1] != 0x33)
		return false;
	struct fj_mac all = fj_ip6_multicast_mac(&ALL_NODES);
	if (fj_mac_eq(mac, &all))
		return true;
	for (unsigned i = 0; i < s->nip6; i++) {
		struct fj_ip6 sn = fj_ip6_solicited_node(&s->ip6[i].a);
		struct fj_mac m = fj_ip6_multicast_mac(&sn);
		if (fj_mac_eq(mac, &m))
			return true;
	}
	return false;
}

/* RFC 6724's simplest rules: link-local and multicast destinations get
 * the link-local address; others the global one whose prefix covers them,
 * else the first global, else the link-local. */
static const struct fj_ip6 *
select_source(const struct fj_stack *s, const struct fj_ip6 *dst)
{
	int best = -1, rank = -1;

	if (fj_ip6_is_link_local(dst) || fj_ip6_is_multicast(dst))
		return &s->ip6[0].a;
	/* A preferred address first, then one in @dst's prefix. A tentative
	 * one is no candidate for RFC 6724 §4, but it is the source its
	 * datagrams will have: they wait for its DAD (fj_ipv6_output); a
	 * duplicate is never a source. */
	for (unsigned i = 1; i < s->nip6; i++) {
		if (s->ip6[i].state == FJ_IP6_DUPLICATE)
			continue;
		int r = (s->ip6[i].state == FJ_IP6_PREFERRED ? 2 : 0) +
			fj_ip6_prefix_eq(&s->ip6[i].a, dst, s->ip6[i].plen);
		if (r > rank)
			best = (int)i, rank = r;
	}
	return &s->ip6[best < 0 ? 0 : best].a;
}

const struct fj_ip6 *
fj_ipv6_source(const struct fj_stack *s, const struct fj_ip6 *dst)
{
	return select_source(s, dst);
}

static bool
on_link(const struct fj_stack *s, const struct fj_ip6 *dst)
{
	if (fj_ip6_is_link_local(dst))
		return true;
	for (unsigned i = 1; i < s->nip6; i++)
		if (fj_ip6_prefix_eq(&s->ip6[i].a, dst, s->ip6[i].plen))
			return true;
	for (unsigned i = 0; i < s->nprefix6; i++)
		if (fj_ip6_prefix_eq(&s->prefix6[i].a, dst, s->prefix6[i].plen))
			return true;
	return false;
}

/* RFC 8201 §4: a path MTU below the link's, for PMTU_AGE (10 min). */
#define PMTU_AGE_S 600
#define IPV6_MIN_MTU 1280

static void
pmtu6_learn(struct fj_stack *s, const struct fj_ip6 *dst, uint16_t mtu)
{
	uint64_t now = fj_now(s);
	int slot = 0;

	for (int i = 0; i < FJ_PMTU6_MAX; i++) {
		if (s->pmtu6[i].mtu != 0 && fj_ip6_eq(&s->pmtu6[i].dst, dst)) {
			slot = i;
			break;
		}
		if (s->pmtu6[i].mtu == 0 || s->pmtu6[i].expires < s->pmtu6[slot].expires)
			slot = i; /* a free one, else the one aging out first */
	}
	s->pmtu6[slot].dst = *dst;
	s->pmtu6[slot].mtu = mtu;
	s->pmtu6[slot].expires = now + (uint64_t)PMTU_AGE_S * s->hz;
}

/* The MTU towards @dst: the link's, or less if a router said so. */
uint16_t
fj_ipv6_path_mtu(struct fj_stack *s, const struct fj_ip6 *dst)
{
	for (int i = 0; i < FJ_PMTU6_MAX; i++)
		if (s->pmtu6[i].mtu != 0 && fj_ip6_eq(&s->pmtu6[i].dst, dst)) {
			if (fj_now(s) >= s->pmtu6[i].expires) {
				s->pmtu6[i].mtu = 0; /* aged: try the link's again */
				break;
			}
			return RTE_MIN(s->pmtu6[i].mtu, s->mtu);
		}
	return s->mtu;
}

struct pmtu6_learnt {
	struct fj_ip6 dst;
	uint16_t mtu;
};

static void
pmtu6_msg(struct fj_stack *s, void *payload)
{
	const struct pmtu6_learnt *l = payload;
	pmtu6_learn(s, &l->dst, l->mtu);
}

static void
send_with_mac(struct fj_stack *s, struct rte_mbuf *m, const struct fj_mac *mac)
{
	fj_eth_send(s, m, mac, FJ_ETH_P_IPV6);
}

/* An NS for @target: to its solicited-node group, or to @mac unicast
 * (RFC 4861 §7.2.2), with our link-layer address. */
static void
send_ns(struct fj_stack *s, const struct fj_ip6 *target, const struct fj_mac *mac)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(s->mp);
	struct fj_ip6 dst = mac != NULL ? *target : fj_ip6_solicited_node(target);
	const struct fj_ip6 *src = select_source(s, target);
	uint8_t *p;

	/* RFC 4862 §5.4: not from an address that is not yet ours; the
	 * link-local one if it is, else no solicitation (what waits for it
	 * waits on the cache's retries). */
	if (!is_ours(s, src)) {
		if (!is_ours(s, &s->ip6[0].a)) {
			rte_pktmbuf_free(m);
			return;
		}
		src = &s->ip6[0].a;
	}
	if (m == NULL || (p = (uint8_t *)rte_pktmbuf_append(m, 40 + 32)) == NULL) {
		rte_pktmbuf_free(m);
		s->c.drops[FJ_DROP_NO_MBUF]++;
		return;
	}
	size_t n = fj_nd_build_ns(p + 40, target, &s->mac);
	fj_icmp6_set_csum(p + 40, n, src, &dst);
	fj_ipv6_build(p, src, &dst, FJ_IP_PROTO_ICMPV6, (uint16_t)n, ND_HOP_LIMIT, 0);
	s->c.nd_ns_tx++;
	s->c.ip6_tx++;
	if (mac == NULL) {
		struct fj_mac mm = fj_ip6_multicast_mac(&dst);
		send_with_mac(s, m, &mm);
	} else {
		send_with_mac(s, m, mac);
	}
}

/* ------------------------------------------------------ DAD */

/* RFC 4862 §5.4.2: a probe for tentative @target, from the unspecified
 * address to its solicited-node group, without our link-layer address. */
static void
send_dad_ns(struct fj_stack *s, const struct fj_ip6 *target)
{
	static const struct fj_ip6 unspecified;
	struct rte_mbuf *m = rte_pktmbuf_alloc(s->mp);
	struct fj_ip6 dst = fj_ip6_solicited_node(target);
	uint8_t *p;

	if (m == NULL || (p = (uint8_t *)rte_pktmbuf_append(m, 40 + 32)) == NULL) {
		rte_pktmbuf_free(m);
		s->c.drops[FJ_DROP_NO_MBUF]++;
		return;
	}
	size_t n = fj_nd_build_ns(p + 40, target, NULL);
	rte_pktmbuf_trim(m, (uint16_t)(32 - n));
	fj_icmp6_set_csum(p + 40, n, &unspecified, &dst);
	fj_ipv6_build(p, &unspecified, &dst, FJ_IP_PROTO_ICMPV6, (uint16_t)n, ND_HOP_LIMIT, 0);
	s->c.nd_ns_tx++;
	s->c.ip6_tx++;
	s->c.ip6_dad_probes++;
	struct fj_mac mm = fj_ip6_multicast_mac(&dst);
	send_with_mac(s, m, &mm);
}

static void send_rs(struct fj_stack *s);
static void dad_release(struct fj_stack *s, const struct fj_ip6 *a, bool ours);

/* What became of address @a (every shard keeps the same list). */
struct dad_result {
	struct fj_ip6 a;
	uint8_t state;
};

static void
dad_set(struct fj_stack *s, const struct dad_result *r)
{
	int i = listed(s, &r->a);

	if (i < 0 || s->ip6[i].state != FJ_IP6_TENTATIVE)
		return;
	s->ip6[i].state = r->state;
	s->ip6[i].dad_left = 0;
	dad_release(s, &r->a, r->state == FJ_IP6_PREFERRED);
	/* RFC 4861 §6.3.7's solicitation goes from the link-local address,
	 * once it may be used. */
	if (i == 0 && r->state == FJ_IP6_PREFERRED && s->rs_after_dad) {
		s->rs_after_dad = false;
		send_rs(s);
	}
}

static void
dad_msg(struct fj_stack *s, void *payload)
{
	dad_set(s, payload);
}

static void
dad_set_all(struct fj_stack *s, const struct fj_ip6 *a, uint8_t state)
{
	struct dad_result r = { *a, state };

	dad_set(s, &r);
	if (s->g->n > 1)
		fj_shard_post_others(s, dad_msg, &r, sizeof(r));
}

/* RFC 4862 §5.4.3-5.4.5: another node has tentative address @i (its
 * advertisement, or its own probe): ours is not used. */
static void
dad_conflict(struct fj_stack *s, int i)
{
	char t[64];

	s->c.ip6_dad_duplicates++;
	FJ_STACK_LOG(WARNING, "IPv6 address %s is in use on the link (duplicate address "
		     "detection): not used", fj_ip6_text(&s->ip6[i].a, t));
	dad_set_all(s, &s->ip6[i].a, FJ_IP6_DUPLICATE);
}

/* Shard 0: the probes due, a second apart (RFC 4861 §10 RetransTimer);
 * an address whose last probe went unanswered that long is preferred. */
static void
dad_tick(struct fj_stack *s, uint64_t now)
{
	for (unsigned i = 0; i < s->nip6; i++) {
		struct fj_ip6_pfx *p = &s->ip6[i];
		if (p->state != FJ_IP6_TENTATIVE || now < p->dad_next)
			continue;
		if (p->dad_left > 0) {
			send_dad_ns(s, &p->a);
			p->dad_left--;
			p->dad_next = now + s->hz;
			continue;
		}
		char t[64];
		FJ_STACK_LOG(NOTICE, "IPv6 address %s: no duplicate on the link, in use",
			     fj_ip6_text(&p->a, t));
		dad_set_all(s, &p->a, FJ_IP6_PREFERRED);
	}
}

static void
nd_output(struct fj_stack *s, struct rte_mbuf *m, const struct fj_ip6 *next)
{
	struct fj_mac mac;

	if (fj_ip6_is_multicast(next)) {
		mac = fj_ip6_multicast_mac(next);
		send_with_mac(s, m, &mac);
		return;
	}
	switch (fj_nd_lookup(&s->nd, next, fj_now(s), &mac)) {
	case FJ_ND_HIT:
		send_with_mac(s, m, &mac);
		return;
	case FJ_ND_SOLICIT:
		send_ns(s, next, NULL);
		/* fall through */
	case FJ_ND_WAIT:
		if (fj_nd_queue(&s->nd, next, m))
			return;
		/* fall through */
	default:
		fj_drop(s, m, FJ_DROP_ND_PENDING_FULL);
	}
}

/* Send @m (at its IPv6 header, no extension headers) in fragments of at
 * most the MTU, through DPDK's rte_ipv6_fragment_packet, which leaves the
 * identification to us: one per datagram, unique per shard (the shard's
 * index in the low bits). */
static int
ipv6_fragment(struct fj_stack *s, struct rte_mbuf *m, const struct fj_ip6 *next, uint16_t mtu)
{
	struct rte_mbuf *frags[FJ_IPV6_FRAGS_MAX];
	int n = rte_ipv6_fragment_packet(m, frags, FJ_IPV6_FRAGS_MAX, mtu, s->mp, s->ref_mp);

	if (n < 0) {
		fj_drop(s, m, n == -ENOMEM ? FJ_DROP_NO_MBUF : FJ_DROP_OVERSIZE);
		return n;
	}
	rte_pktmbuf_free(m);
	s->c.ip_fragmented++;
	uint32_t id = s->frag6_id;
	s->frag6_id += s->g->n;
	for (int i = 0; i < n; i++) {
		uint8_t *fh = rte_pktmbuf_mtod_offset(frags[i], uint8_t *, FJ_IPV6_HDR_LEN);
		fh[4] = (uint8_t)(id >> 24), fh[5] = (uint8_t)(id >> 16);
		fh[6] = (uint8_t)(id >> 8), fh[7] = (uint8_t)id;
		frags[i]->ol_flags &= RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL;
		s->c.ip_frags_tx++;
		nd_output(s, frags[i], next);
	}
	return 0;
}

/* RFC 4862 §5.4: a tentative address sends nothing (Neighbor Discovery
 * aside) until its DAD is over: a datagram from it waits here, a bounded
 * few per shard, and leaves when the address is ours (a connect issued as
 * the stack starts, say); from a duplicate address nothing leaves. */
static int
dad_hold(struct fj_stack *s, struct rte_mbuf *m, uint8_t state, const struct fj_ip6 *next,
	 uint16_t mtu)
{
	if (state != FJ_IP6_TENTATIVE || s->ndad_held == FJ_DAD_HELD) {
		fj_drop(s, m, FJ_DROP_IP6_SRC_UNUSABLE);
		return -EADDRNOTAVAIL;
	}
	s->dad_held[s->ndad_held].m = m;
	s->dad_held[s->ndad_held].next = *next;
	s->dad_held[s->ndad_held++].mtu = mtu;
	return 0;
}

/* DAD for @a is over: what waited for it leaves, or is dropped. */
static void
dad_release(struct fj_stack *s, const struct fj_ip6 *a, bool ours)
{
	unsigned kept = 0;

	for (unsigned i = 0; i < s->ndad_held; i++) {
		struct rte_mbuf *m = s->dad_held[i].m;
		const uint8_t *h = rte_pktmbuf_mtod_offset(m, const uint8_t *, 0);
		if (memcmp(h + 8, a->b, 16) != 0) {
			s->dad_held[kept++] = s->dad_held[i];
			continue;
		}
		if (!ours) {
			fj_drop(s, m, FJ_DROP_IP6_SRC_UNUSABLE);
			continue;
		}
		s->c.ip6_tx++;
		if (s->dad_held[i].mtu)
			ipv6_fragment(s, m, &s->dad_held[i].next, s->dad_held[i].mtu);
		else
			nd_output(s, m, &s->dad_held[i].next);
	}
	s->ndad_held = kept;
}

int
fj_ipv6_output(struct fj_stack *s, struct rte_mbuf *m, const struct fj_ip6 *src,
	       const struct fj_ip6 *dst, uint8_t proto, uint8_t hop_limit)
{
	uint32_t plen = rte_pktmbuf_pkt_len(m);
	const struct fj_ip6 *next = dst;
	/* Beyond the path's MTU (RFC 8201), anything but TCP leaves in
	 * fragments (RFC 8200 §4.5), up to 65,535 bytes of payload; a TCP
	 * segment the port cuts (TSO) may be that large too. */
	uint16_t mtu = fj_ip6_is_multicast(dst) ? s->mtu : fj_ipv6_path_mtu(s, dst);
	bool tso = (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) != 0;
	bool frag = !tso && plen + FJ_IPV6_HDR_LEN > mtu && proto != FJ_IP_PROTO_TCP;

	if ((!frag && !tso && plen + FJ_IPV6_HDR_LEN > mtu) || plen > UINT16_MAX) {
		fj_drop(s, m, FJ_DROP_OVERSIZE);
		return -EMSGSIZE;
	}
	if (!fj_ip6_is_multicast(dst) && !on_link(s, dst)) {
		if (!s->has_gw6) {
			fj_drop(s, m, FJ_DROP_NO_ROUTE);
			return -ENETUNREACH;
		}
		next = &s->gw6;
	}
	uint8_t *h = (uint8_t *)rte_pktmbuf_prepend(m, FJ_IPV6_HDR_LEN);
	if (h == NULL) {
		fj_drop(s, m, FJ_DROP_NO_MBUF);
		return -ENOBUFS;
	}
	fj_ipv6_build(h, src != NULL ? src : select_source(s, dst), dst, proto, (uint16_t)plen,
		      hop_limit ? hop_limit : HOP_LIMIT, 0);
	/* TCP's checksum and segmentation offloads stay (fj_tx_l4_csum). */
	m->ol_flags &= RTE_MBUF_F_TX_OFFLOAD_MASK | RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL;
	if (m->ol_flags & (RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG))
		m->ol_flags |= RTE_MBUF_F_TX_IPV6;
	m->l2_len = FJ_ETH_HDR_LEN;
	m->l3_len = FJ_IPV6_HDR_LEN;
	int at = listed(s, src != NULL ? src : (const struct fj_ip6 *)(h + 8));
	if (unlikely(at >= 0 && s->ip6[at].state != FJ_IP6_PREFERRED))
		return dad_hold(s, m, s->ip6[at].state, next, frag ? mtu : 0);
	s->c.ip6_tx++;
	if (unlikely(frag))
		return ipv6_fragment(s, m, next, mtu);
	nd_output(s, m, next);
	return 0;
}

/* ICMPv6 errors: the same token bucket as ICMP's (RFC 4443 §2.4 (f)). */
static void
icmp6_error(struct fj_stack *s, struct rte_mbuf *m, const struct fj_ipv6 *ip, uint8_t type,
	    uint8_t code, uint32_t ptr)
{
	/* RFC 4443 §2.4 (e): not about an error, nor from :: or to a
	 * multicast source; quote as much as fits in the minimum MTU. */
	const uint8_t *orig = rte_pktmbuf_mtod_offset(m, const uint8_t *, FJ_ETH_HDR_LEN);
	size_t quote = RTE_MIN((size_t)m->data_len - FJ_ETH_HDR_LEN, (size_t)1280 - 40 - 8);
	struct rte_mbuf *e;
	uint8_t *p;

	if (fj_ip6_is_unspecified(&ip->src) || !fj_icmp_rate_ok(s)) {
		fj_drop(s, m, FJ_DROP_ICMP_RATE);
		return;
	}
	e = rte_pktmbuf_alloc(s->mp);
	if (e == NULL || (p = (uint8_t *)rte_pktmbuf_append(e, (uint16_t)(8 + quote))) == NULL) {
		rte_pktmbuf_free(e);
		fj_drop(s, m, FJ_DROP_NO_MBUF);
		return;
	}
	p[0] = type, p[1] = code, p[2] = p[3] = 0;
	p[4] = (uint8_t)(ptr >> 24), p[5] = (uint8_t)(ptr >> 16), p[6] = (uint8_t)(ptr >> 8);
	p[7] = (uint8_t)ptr;
	memcpy(p + 8, orig, quote);
	struct fj_ip6 to = ip->src;
	const struct fj_ip6 *src = is_ours(s, &ip->dst) ? &ip->dst : select_source(s, &to);
	fj_icmp6_set_csum(p, 8 + quote, src, &to);
	rte_pktmbuf_free(m);
	s->c.icmp6_tx++;
	fj_ipv6_output(s, e, src, &to, FJ_IP_PROTO_ICMPV6, 0);
}

/* RFC 4443 §3.1: a datagram to a port nobody listens on (UDP), @m at
 * its Ethernet header. */
void
fj_icmp6_port_unreachable(struct fj_stack *s, struct rte_mbuf *m, const struct fj_ipv6 *ip)
{
	icmp6_error(s, m, ip, FJ_ICMP6_DEST_UNREACH, FJ_ICMP6_PORT_UNREACH, 0);
}

/* What one shard learnt of a neighbour, for the others. */
struct nd_learnt {
	struct fj_ip6 ip;
	struct fj_mac mac;
	bool is_na, solicited, override;
};

static void
nd_learn(struct fj_stack *s, const struct nd_learnt *l)
{
	int idx = fj_nd_learn(&s->nd, &l->ip, &l->mac, l->is_na, l->solicited, l->override,
			      fj_now(s));
	if (idx >= 0) {
		void *pkts[FJ_ND_PENDING_PER_IP];
		unsigned n = fj_nd_take(&s->nd, &l->ip, pkts, FJ_ND_PENDING_PER_IP);
		for (unsigned i = 0; i < n; i++)
			send_with_mac(s, pkts[i], &l->mac);
	}
}

static void
nd_learnt_msg(struct fj_stack *s, void *payload)
{
	nd_learn(s, payload);
}

static void
nd_learn_all(struct fj_stack *s, const struct nd_learnt *l)
{
	nd_learn(s, l);
	if (s->g->n > 1)
		fj_shard_post_others(s, nd_learnt_msg, l, sizeof(*l));
}

/* What an RA told, for every shard (RFC 4861 §6.3.4): the router, and
 * one of its prefixes a message. */
struct ra_learnt {
	struct fj_ip6 router;
	uint16_t lifetime;
	uint8_t nprefix; /* 0 or 1 */
	struct fj_nd_prefix prefix[1];
};

static void
ra_apply(struct fj_stack *s, const struct ra_learnt *r)
{
	/* A configured --gw6 wins; else the advertising router is the
	 * default one while its lifetime lasts (expiry: not yet kept). */
	if (!s->gw6_configured && r->lifetime > 0) {
		s->gw6 = r->router;
		s->has_gw6 = true;
	} else if (!s->gw6_configured && fj_ip6_eq(&s->gw6, &r->router)) {
		s->has_gw6 = false;
	}
	for (unsigned i = 0; i < r->nprefix; i++) {
		const struct fj_nd_prefix *x = &r->prefix[i];
		if (fj_ip6_is_link_local(&x->prefix) || x->valid == 0)
			continue;
		bool known = false;
		for (unsigned k = 0; k < s->nprefix6; k++)
			known |= s->prefix6[k].plen == x->len &&
				 fj_ip6_prefix_eq(&s->prefix6[k].a, &x->prefix, x->len);
		if ((x->flags & FJ_ND_PREFIX_ONLINK) && !known && s->nprefix6 < FJ_IP6_PREFIXES) {
			s->prefix6[s->nprefix6].a = x->prefix;
			s->prefix6[s->nprefix6++].plen = x->len;
		}
		/* RFC 4862 §5.5.3: an autonomous /64 makes an address of the
		 * prefix and our interface identifier. */
		if ((x->flags & FJ_ND_PREFIX_AUTO) && x->len == 64 && x->preferred <= x->valid) {
			struct fj_ip6 a = x->prefix;
			memcpy(a.b + 8, s->ip6[0].a.b + 8, 8);
			if (listed(s, &a) < 0 && s->nip6 < FJ_IP6_MAX) {
				struct fj_ip6_pfx *n = &s->ip6[s->nip6++];
				n->a = a;
				n->plen = 64;
				n->state = s->dad_transmits ? FJ_IP6_TENTATIVE : FJ_IP6_PREFERRED;
				n->dad_left = s->dad_transmits;
				n->dad_next = 0;
				s->c.ip6_slaac_addrs++;
			}
		}
	}
}

static void
ra_msg(struct fj_stack *s, void *payload)
{
	ra_apply(s, payload);
}

static void
nd_input(struct fj_stack *s, struct rte_mbuf *m, const struct fj_ipv6 *ip, uint8_t *icmp,
	 size_t len)
{
	struct fj_nd nd;
	enum fj_wire_err r = fj_nd_parse(icmp, len, ip, &nd);

	if (r != FJ_OK) {
		fj_drop(s, m, fj_drop_of(r));
		return;
	}
	switch (nd.type) {
	case FJ_ND_NEIGHBOR_SOLICIT: {
		s->c.nd_ns_rx++;
		bool dad = fj_ip6_is_unspecified(&ip->src);
		int at = listed(s, &nd.target);
		if (at < 0) {
			fj_drop(s, m, FJ_DROP_NOT_FOR_US);
			return;
		}
		if (s->ip6[at].state != FJ_IP6_PREFERRED) {
			/* RFC 4862 §5.4.3: a tentative address is not answered
			 * for; another node's probe for it is a duplicate. */
			if (dad && s->ip6[at].state == FJ_IP6_TENTATIVE)
				dad_conflict(s, at);
			fj_drop(s, m, FJ_DROP_NOT_FOR_US);
			return;
		}
		if (!dad && nd.has_sll) {
			struct nd_learnt l = { ip->src, nd.sll, false, false, false };
			nd_learn_all(s, &l);
		}
		/* §7.2.4: the NA goes to the soliciting address, solicited and
		 * overriding; to a DAD probe (RFC 4862 §5.4.3), to all nodes. */
		rte_pktmbuf_reset(m);
		uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, 32);
		struct fj_ip6 to = dad ? ALL_NODES : ip->src, target = nd.target;
		size_t n = fj_nd_build_na(p, &target, dad ? FJ_ND_NA_OVERRIDE :
					  FJ_ND_NA_SOLICITED | FJ_ND_NA_OVERRIDE, &s->mac);
		fj_icmp6_set_csum(p, n, &target, &to);
		s->c.nd_na_tx++;
		fj_ipv6_output(s, m, &target, &to, FJ_IP_PROTO_ICMPV6, ND_HOP_LIMIT);
		return;
	}
	case FJ_ND_NEIGHBOR_ADVERT:
		s->c.nd_na_rx++;
		int at = listed(s, &nd.target);
		/* RFC 4862 §5.4.4: an advertisement for a tentative address
		 * of ours: another node has it. */
		if (at >= 0 && s->ip6[at].state == FJ_IP6_TENTATIVE)
			dad_conflict(s, at);
		if (nd.has_tll && at < 0) {
			struct nd_learnt l = { nd.target, nd.tll, true,
					       (nd.flags & FJ_ND_NA_SOLICITED) != 0,
					       (nd.flags & FJ_ND_NA_OVERRIDE) != 0 };
			nd_learn_all(s, &l);
		}
		break;
	case FJ_ND_ROUTER_ADVERT: {
		s->c.nd_ra_rx++;
		if (nd.has_sll) {
			struct nd_learnt l = { ip->src, nd.sll, false, false, false };
			nd_learn_all(s, &l);
		}
		for (unsigned i = 0; i < RTE_MAX(1u, (unsigned)nd.nprefix); i++) {
			struct ra_learnt ra = { .router = ip->src, .lifetime = nd.router_lifetime,
						.nprefix = i < nd.nprefix };
			if (ra.nprefix)
				ra.prefix[0] = nd.prefix[i];
			ra_apply(s, &ra);
			if (s->g->n > 1) {
				RTE_BUILD_BUG_ON(sizeof(ra) > FJ_MSG_PAYLOAD);
				fj_shard_post_others(s, ra_msg, &ra, sizeof(ra));
			}
		}
		break;
	}
	default: /* an RS: for routers */
		break;
	}
	rte_pktmbuf_free(m);
}

/* An ICMPv6 error for a TCP flow of this shard, from the one it came to. */
static void
tcp_icmp6_msg(struct fj_stack *s, void *payload)
{
	struct fj_icmp6_error e;

	memcpy(&e, payload, sizeof(e));
	bool taken = fj_tcp_icmp6_error(s, &e);
	/* (a packet too big was counted where it came, as it lowered the
	 * path MTU there) */
	if (e.type == FJ_ICMP6_PKT_TOO_BIG)
		return;
	if (taken)
		s->c.icmp_errors_rx++;
	else
		s->c.drops[FJ_DROP_ICMP_ERROR]++;
}

/*
 * An ICMPv6 error about a datagram of ours (RFC 4443 §3): packet too big
 * lowers the path MTU towards its destination for every shard (RFC 8201;
 * below 1,280 is ignored, RFC 8021) and the segment size of a TCP flow
 * towards it (tcp_icmp.c, which takes other errors as ICMP's); a UDP
 * endpoint keeps the error (fj_udp_error) like ICMP's.
 */
static void
icmp6_error_input(struct fj_stack *s, struct rte_mbuf *m, const uint8_t *icmp, size_t len)
{
	struct fj_icmp6_error e;
	bool taken = false;

	if (m->nb_segs > 1 || fj_icmp6_error_parse(icmp, len, &e) != FJ_OK) {
		fj_drop(s, m, FJ_DROP_ICMP_QUOTE);
		return;
	}
	/* (a packet too big below IPv6's minimum, or not below our MTU,
	 * says nothing: RFC 8021 has it discarded) */
	if (!is_ours(s, &e.src) ||
	    (e.type == FJ_ICMP6_PKT_TOO_BIG && (e.mtu < IPV6_MIN_MTU || e.mtu >= s->mtu))) {
		fj_drop(s, m, FJ_DROP_ICMP_ERROR);
		return;
	}
	rte_pktmbuf_free(m);
	if (e.type == FJ_ICMP6_PKT_TOO_BIG) {
		struct pmtu6_learnt l = { e.dst, (uint16_t)e.mtu };
		pmtu6_learn(s, &l.dst, l.mtu);
		if (s->g->n > 1)
			fj_shard_post_others(s, pmtu6_msg, &l, sizeof(l));
		s->c.ip6_pmtu_updates++;
		taken = true;
	}
	if (e.proto == FJ_IP_PROTO_TCP && e.has_ports) {
		/* The flow may be another shard's (the message came by its
		 * own addresses): it goes there, behind the path MTU. */
		unsigned owner = s->g->n > 1 ? fj_direct_shard_of6(s, &e.src, e.sport, &e.dst, e.dport)
					     : s->id;
		if (owner != s->id) {
			RTE_BUILD_BUG_ON(sizeof(e) > FJ_MSG_PAYLOAD);
			fj_shard_post(s, s->g->shard[owner], tcp_icmp6_msg, &e, sizeof(e));
			if (taken)
				s->c.icmp_errors_rx++;
			return;
		}
		taken |= fj_tcp_icmp6_error(s, &e);
	}
	struct fj_udp *u = e.proto == FJ_IP_PROTO_UDP && e.has_ports ? s->udp_ports[e.sport] : NULL;
	if (u != NULL) {
		u->err = fj_icmp6_errno(&e);
		u->err_to = (struct fj_addr){ .port = e.dport, .family = FJ_AF_INET6 };
		memcpy(u->err_to.ip6, e.dst.b, 16);
		s->c.udp_icmp_errors++;
		taken = true;
	}
	if (taken)
		s->c.icmp_errors_rx++;
	else
		s->c.drops[FJ_DROP_ICMP_ERROR]++;
}

static void
icmp6_input(struct fj_stack *s, struct rte_mbuf *m, const struct fj_ipv6 *ip)
{
	uint32_t off = FJ_ETH_HDR_LEN + ip->l4_off;
	uint8_t *icmp = rte_pktmbuf_mtod_offset(m, uint8_t *, off);
	size_t len = (size_t)FJ_IPV6_HDR_LEN + ip->payload_len - ip->l4_off;
	struct fj_icmp6 h;
	enum fj_wire_err r;

	/* A reassembled message is a chain: its checksum is summed over the
	 * segments, the header read from the first. */
	if (m->nb_segs > 1) {
		uint32_t ps = fj_csum_pseudo6(&ip->src, &ip->dst, (uint32_t)len, FJ_IP_PROTO_ICMPV6);
		r = m->data_len < off + 8 ? FJ_WIRE_TRUNCATED :
		    fj_csum_fold(fj_mbuf_csum_add(ps, m, off, (uint32_t)len)) != 0 ?
						  FJ_WIRE_ICMP6_CHECKSUM :
						  fj_icmp6_parse(icmp, 8, NULL, NULL, true, &h);
	} else {
		r = fj_icmp6_parse(icmp, len, &ip->src, &ip->dst, false, &h);
	}
	if (r != FJ_OK) {
		fj_drop(s, m, fj_drop_of(r));
		return;
	}
	s->c.icmp6_rx++;
	if (h.type >= FJ_ND_ROUTER_SOLICIT && h.type <= FJ_ND_NEIGHBOR_ADVERT) {
		/* RFC 6980: Neighbor Discovery never comes in fragments. */
		if (m->nb_segs > 1) {
			fj_drop(s, m, FJ_DROP_ND_FORMAT);
			return;
		}
		nd_input(s, m, ip, icmp, len);
		return;
	}
	if (fj_icmp6_is_error(h.type)) {
		icmp6_error_input(s, m, icmp, len);
		return;
	}
	if (h.type != FJ_ICMP6_ECHO_REQUEST || fj_ip6_is_unspecified(&ip->src)) {
		fj_drop(s, m, FJ_DROP_ICMP_TYPE);
		return;
	}
	/* RFC 4443 §4.2: the reply carries the request's data, from the
	 * address it was sent to (a unicast one of ours for a multicast). */
	struct fj_ip6 to = ip->src;
	const struct fj_ip6 *src = is_ours(s, &ip->dst) ? &ip->dst : select_source(s, &to);
	struct fj_ip6 from = *src;
	/* (summed over the segments: a reassembled request is a chain) */
	icmp[0] = FJ_ICMP6_ECHO_REPLY;
	icmp[1] = icmp[2] = icmp[3] = 0;
	uint16_t c = fj_csum_fold(fj_mbuf_csum_add(
		fj_csum_pseudo6(&from, &to, (uint32_t)len, FJ_IP_PROTO_ICMPV6), m, off, (uint32_t)len));
	icmp[2] = (uint8_t)(c >> 8);
	icmp[3] = (uint8_t)c;
	rte_pktmbuf_adj(m, (uint16_t)off);
	s->c.icmp6_tx++;
	s->c.icmp6_echo_replies++;
	fj_ipv6_output(s, m, &from, &to, FJ_IP_PROTO_ICMPV6, 0);
}

void
fj_ipv6_input(struct fj_stack *s, struct rte_mbuf *m)
{
	uint8_t *p = rte_pktmbuf_mtod_offset(m, uint8_t *, FJ_ETH_HDR_LEN);
	struct fj_ipv6 ip;
	enum fj_wire_err r;

	size_t len = m->data_len - FJ_ETH_HDR_LEN;
	if (unlikely(m->nb_segs != 1)) {
		/* A chain is a TCP segment the port (LRO) or GRO coalesced,
		 * TCP right behind the fixed header, which is all the parser
		 * reads of it; its headers are in the first segment
		 * (fj_eth_input pulled them up). */
		if (m->data_len < FJ_ETH_HDR_LEN + FJ_IPV6_HDR_LEN || p[6] != FJ_IP_PROTO_TCP) {
			fj_drop(s, m, FJ_DROP_OVERSIZE);
			return;
		}
		len = m->pkt_len - FJ_ETH_HDR_LEN;
	}
	r = fj_ipv6_parse(p, len, &ip);
	if (r != FJ_OK && r != FJ_WIRE_IP6_EXT && r != FJ_WIRE_IP6_OPTION &&
	    r != FJ_WIRE_IP_FRAGMENT) {
		fj_drop(s, m, fj_drop_of(r));
		return;
	}
	if (!for_us(s, &ip.dst)) {
		fj_drop(s, m, FJ_DROP_NOT_FOR_US);
		return;
	}
	bool mcast = fj_ip6_is_multicast(&ip.dst);
	if (r != FJ_OK) {
		if (ip.param_code != FJ_IPV6_NO_ICMP && (!mcast || ip.param_to_mcast)) {
			s->c.drops[fj_drop_of(r)]++;
			icmp6_error(s, m, &ip, FJ_ICMP6_PARAM_PROBLEM, ip.param_code, ip.param_ptr);
		} else {
			fj_drop(s, m, fj_drop_of(r));
		}
		return;
	}
	fj_mbuf_cut_back(m, FJ_ETH_HDR_LEN + FJ_IPV6_HDR_LEN + ip.payload_len);
	if (ip.frag) {
		/* The whole datagram once its last piece came: a chain, its
		 * headers those of the first fragment without the fragment
		 * header, the upper layer right behind them. */
		uint16_t fh = ip.frag_hdr_off;
		if ((m = fj_reasm6_input(s, m, &ip)) == NULL)
			return;
		ip.frag = false;
		ip.l4_off = fh;
		ip.payload_len = (uint16_t)(m->pkt_len - FJ_ETH_HDR_LEN - FJ_IPV6_HDR_LEN);
		/* (fragments go by addresses: the flow may be another's) */
		if (fj_steer_whole6(s, m, &ip))
			return;
	}
	s->c.ip6_rx++;
	switch (ip.proto) {
	case FJ_IP_PROTO_ICMPV6:
		icmp6_input(s, m, &ip);
		break;
	case FJ_IP_PROTO_UDP:
		fj_udp6_input(s, m, &ip);
		break;
	case FJ_IP_PROTO_TCP:
		fj_tcp6_input(s, m, &ip);
		break;
	case FJ_IPV6_NH_NONE:
		fj_drop(s, m, FJ_DROP_IP_PROTO);
		break;
	default:
		/* RFC 8200 §4: an unrecognised next header, code 1. */
		if (!mcast && fj_exception_take(s, m))
			break;
		if (mcast) {
			fj_drop(s, m, FJ_DROP_IP_PROTO);
		} else {
			s->c.drops[FJ_DROP_IP_PROTO]++;
			icmp6_error(s, m, &ip, FJ_ICMP6_PARAM_PROBLEM, 1, ip.param_ptr);
		}
	}
}

static void
tick_solicit(void *ctx, const struct fj_ip6 *ip, const struct fj_mac *mac)
{
	send_ns(ctx, ip, mac);
}

static void
tick_drop(void *ctx, void *pkt)
{
	fj_drop(ctx, pkt, FJ_DROP_ND_TIMEOUT);
}

void
fj_ipv6_tick(struct fj_stack *s, uint64_t now)
{
	fj_nd_tick(&s->nd, now, tick_solicit, tick_drop, s);
	if (s->id == 0)
		dad_tick(s, now);
}

void
fj_ipv6_start(struct fj_stack *s)
{
	/* RFC 4861 §6.3.7: a host asks for routers when it comes up, from
	 * its link-local address once that is no longer tentative. */
	if (s->ip6[0].state == FJ_IP6_TENTATIVE) {
		s->rs_after_dad = true;
		return;
	}
	send_rs(s);
}

static void
send_rs(struct fj_stack *s)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(s->mp);
	static const struct fj_ip6 all_routers = { { 0xff, 0x02, [15] = 2 } };
	uint8_t *p;

	if (m == NULL || (p = (uint8_t *)rte_pktmbuf_append(m, 16)) == NULL) {
		rte_pktmbuf_free(m);
		return;
	}
	size_t n = fj_nd_build_rs(p, &s->mac);
	fj_icmp6_set_csum(p, n, &s->ip6[0].a, &all_routers);
	fj_ipv6_output(s, m, &s->ip6[0].a, &all_routers, FJ_IP_PROTO_ICMPV6, ND_HOP_LIMIT);
}

void
fj_ipv6_close(struct fj_stack *s)
{
	for (unsigned i = 0; i < s->ndad_held; i++)
		rte_pktmbuf_free(s->dad_held[i].m);
	s->ndad_held = 0;
	for (int i = 0; i < FJ_ND_MAX; i++)
		if (s->nd.e[i].state != FJ_ND_FREE) {
			void *pkts[FJ_ND_PENDING_PER_IP];
			unsigned n = fj_nd_take(&s->nd, &s->nd.e[i].ip, pkts, FJ_ND_PENDING_PER_IP);
			for (unsigned k = 0; k < n; k++)
				rte_pktmbuf_free(pkts[k]);
		}
}

void
fj_icmp6_time_exceeded(struct fj_stack *s, struct rte_mbuf *first)
{
	struct fj_ipv6 ip;
	const uint8_t *p = rte_pktmbuf_mtod_offset(first, const uint8_t *, FJ_ETH_HDR_LEN);

	/* (parsed when it came; not about a multicast datagram, RFC 4443
	 * §2.4 (e.3)) */
	if (fj_ipv6_parse(p, first->data_len - FJ_ETH_HDR_LEN, &ip) != FJ_OK ||
	    fj_ip6_is_multicast(&ip.dst)) {
		rte_pktmbuf_free(first);
		return;
	}
	icmp6_error(s, first, &ip, FJ_ICMP6_TIME_EXCEEDED, FJ_ICMP6_REASM_TIME_EXCEEDED, 0);
}
