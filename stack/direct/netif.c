/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The network interface: the DPDK port the stack runs on (shard i on queue
 * pair i), its set-up, the batched transmit path, and Ethernet II dispatch.
 * Only this file and the loop (backend.c) touch the port's queues.
 */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "direct.h"

#define NB_RXD 1024
#define NB_TXD 1024
#define NB_TXD_TSO 2048

static uint16_t
port_tx(struct fj_stack *s, struct rte_mbuf **pkts, uint16_t n)
{
	return rte_eth_tx_burst(s->port, (uint16_t)s->id, pkts, n);
}

static void
port_clean(struct fj_stack *s)
{
	rte_eth_tx_done_cleanup(s->port, (uint16_t)s->id, 0);
}

/* The well-known Toeplitz key of Microsoft's RSS specification (40
 * bytes), which every device supporting RSS takes. */
static const uint8_t rss_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};
#define RSS_HF (RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV4_UDP)

/*
 * How frames find their shard: by the device's RSS when it has an
 * indirection table and hashes IPv4 TCP and UDP by their ports, else in
 * software. --steer software|rss overrides the choice.
 */
static int
choose_steer(struct fj_stack *s, const struct rte_eth_dev_info *info, struct rte_eth_conf *conf)
{
	struct fj_shards *g = s->g;
	bool rss_ok = info->reta_size > 0 && info->reta_size <= FJ_RETA_MAX &&
		      (info->flow_type_rss_offloads & RSS_HF) == RSS_HF &&
		      (info->hash_key_size == 0 || info->hash_key_size == sizeof(rss_key));

	if (g->n == 1) {
		g->steer = FJ_STEER_NONE;
		return 0;
	}
	if (info->max_rx_queues < g->n || info->max_tx_queues < g->n) {
		FJ_STACK_LOG(ERR, "port %u has %u rx and %u tx queues: %u shards need one pair each "
			     "(give the port more queues, or fewer lcores with -l)", s->port,
			     info->max_rx_queues, info->max_tx_queues, g->n);
		return -EINVAL;
	}
	if (s->steer_want == FJ_STEER_RSS && !rss_ok) {
		FJ_STACK_LOG(ERR, "port %u (%s): --steer rss, but the port has no RSS for IPv4 "
			     "TCP and UDP", s->port, info->driver_name);
		return -ENOTSUP;
	}
	g->steer = rss_ok && s->steer_want != FJ_STEER_SOFTWARE ? FJ_STEER_RSS : FJ_STEER_SOFTWARE;
	if (g->steer == FJ_STEER_RSS) {
		conf->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf->rx_adv_conf.rss_conf.rss_key = (uint8_t *)(uintptr_t)rss_key;
		conf->rx_adv_conf.rss_conf.rss_key_len = sizeof(rss_key);
		/* TCP over IPv6 by its ports too where the port hashes it. */
		conf->rx_adv_conf.rss_conf.rss_hf =
			RSS_HF | (info->flow_type_rss_offloads & RTE_ETH_RSS_NONFRAG_IPV6_TCP);
	}
	return 0;
}

/* Spread the indirection table over the shards and keep what the device
 * holds (table and key), to predict the queue of a flow (steer.c). */
static int
rss_table(struct fj_stack *s, uint16_t reta_size)
{
	struct fj_shards *g = s->g;
	struct rte_eth_rss_reta_entry64 reta[FJ_RETA_MAX / RTE_ETH_RETA_GROUP_SIZE];
	struct rte_eth_rss_conf rc = { .rss_key = g->rss_key, .rss_key_len = FJ_RSS_KEY_MAX };
	int rv;

	memset(reta, 0, sizeof(reta));
	for (uint16_t i = 0; i < reta_size; i++) {
		reta[i / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ull << (i % RTE_ETH_RETA_GROUP_SIZE);
		reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] =
			(uint16_t)(i % g->n);
	}
	rv = rte_eth_dev_rss_reta_update(s->port, reta, reta_size);
	if (rv == 0)
		rv = rte_eth_dev_rss_reta_query(s->port, reta, reta_size);
	if (rv == 0)
		rv = rte_eth_dev_rss_hash_conf_get(s->port, &rc);
	if (rv < 0) {
		FJ_STACK_LOG(ERR, "port %u: RSS table: %s", s->port, rte_strerror(-rv));
		return rv;
	}
	for (uint16_t i = 0; i < reta_size; i++) {
		g->reta[i] = reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];
		if (g->reta[i] >= g->n)
			return -EINVAL;
	}
	g->reta_size = reta_size;
	g->rss_v6 = (rc.rss_hf & RTE_ETH_RSS_NONFRAG_IPV6_TCP) != 0;
	g->rss_key_len = rc.rss_key_len ? rc.rss_key_len : sizeof(rss_key);
	if (rc.rss_key_len == 0) /* a device that does not tell: ours */
		memcpy(g->rss_key, rss_key, sizeof(rss_key));
	return 0;
}

/*
 * TCP's large segments and references. A port that takes chains gets
 * segments whose payload refers to the send queue's buffers (at most
 * tx_max_segs pieces). TSO (which needs the TCP checksum offload too):
 * segments of up to 64 KiB of IP datagram that the port cuts at the MSS.
 * LRO: the port may hand up segments it coalesced, as chains.
 */
static void
tcp_offloads(struct fj_stack *s, const struct rte_eth_dev_info *info, struct rte_eth_conf *conf)
{
	uint16_t segs = info->tx_desc_lim.nb_seg_max;

	if (info->tx_desc_lim.nb_mtu_seg_max)
		segs = segs ? RTE_MIN(segs, info->tx_desc_lim.nb_mtu_seg_max)
			    : info->tx_desc_lim.nb_mtu_seg_max;
	s->tx_max_segs = segs ? RTE_MIN(segs, (uint16_t)FJ_TX_SEGS_MAX) : FJ_TX_SEGS_DEFAULT;
	s->tx_refs = !s->no_tso && (info->tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) &&
		     s->tx_max_segs >= 2;
	s->tx_tso = s->tx_refs && s->tx_tcp_csum &&
		    (info->tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_TSO);
	/* An IPv4 datagram's total length is 16 bits. */
	s->tso_max = s->tx_tso ? UINT16_MAX - FJ_IPV4_HDR_LEN - 60 : 0;
	/*
	 * DPDK 22.11's net_tap refuses a TSO segment whose pieces, Ethernet
	 * header included, exceed the MTU: it holds the pieces to the MTU
	 * with their L2 header. Its pieces are made that much shorter.
	 */
	s->tso_short = s->tx_tso && info->driver_name != NULL &&
				       strcmp(info->driver_name, "net_tap") == 0
			       ? RTE_ETHER_HDR_LEN
			       : 0;
	/* Its software GSO also cuts a segment into at most 64 pieces and
	 * drops one that needs more (a 64 KiB segment at an MSS below
	 * about 1,000: after path MTU discovery, or for a peer's MSS 536). */
	s->tso_pieces = s->tso_short ? 64 : 0;
	/* The same net_tap cuts in software with rte_gso, which in DPDK
	 * 22.11 cuts TCP over IPv4 only; ethdev's TSO flag names no family,
	 * and other ports (virtio's HOST_TSO4 and 6 together) cut both. */
	s->tx_tso6 = s->tx_tso && !s->tso_short;
	const uint64_t lro = RTE_ETH_RX_OFFLOAD_TCP_LRO | RTE_ETH_RX_OFFLOAD_SCATTER;
	s->rx_lro = !s->no_lro && (info->rx_offload_capa & lro) == lro;
	if (s->tx_refs)
		conf->txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	if (s->tx_tso)
		conf->txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_TSO;
	if (s->rx_lro) {
		conf->rxmode.offloads |= lro;
		/* The port's largest (0: it gives none, ethdev takes the MTU's). */
		conf->rxmode.max_lro_pkt_size = info->max_lro_pkt_size;
	}
}

/* Every shard's queue pair, each receiving into its own shard's buffers. */
static int
queues_setup(struct fj_stack *s, uint16_t nb_rxd, uint16_t nb_txd)
{
	int sock = rte_eth_dev_socket_id(s->port);

	for (unsigned i = 0; i < s->g->n; i++) {
		int rc = rte_eth_rx_queue_setup(s->port, (uint16_t)i, nb_rxd, sock, NULL,
						s->g->shard[i]->mp);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(s->port, (uint16_t)i, nb_txd, sock, NULL);
		if (rc < 0) {
			FJ_STACK_LOG(ERR, "port %u: queue %u setup failed: %s", s->port, i,
				     rte_strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* Shards after the first use the port shard 0 set up. */
static void
netif_join(struct fj_stack *s)
{
	const struct fj_stack *s0 = s->g->shard[0];

	s->mac = s0->mac;
	s->tx_ip_csum = s0->tx_ip_csum;
	s->tx_udp_csum = s0->tx_udp_csum;
	s->tx_tcp_csum = s0->tx_tcp_csum;
	s->rx_ip_csum = s0->rx_ip_csum;
	s->rx_l4_csum = s0->rx_l4_csum;
	s->tx_tso = s0->tx_tso;
	s->tso_short = s0->tso_short;
	s->tx_tso6 = s0->tx_tso6;
	s->tso_pieces = s0->tso_pieces;
	s->tx_refs = s0->tx_refs;
	s->rx_lro = s0->rx_lro;
	s->rx_gro = s0->rx_gro;
	s->tx_max_segs = s0->tx_max_segs;
	s->tso_max = s0->tso_max;
	s->tx_fn = port_tx;
	s->tx_clean_fn = s0->tx_clean_fn;
	s->has_exc = s0->has_exc;
	s->exc_port = s0->exc_port;
}

int
fj_netif_open(struct fj_stack *s)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	struct rte_ether_addr mac;
	uint16_t nb_rxd = NB_RXD, nb_txd = NB_TXD;
	int rc;

	if (s->id > 0) {
		netif_join(s);
		return 0;
	}
	if (!rte_eth_dev_is_valid_port(s->port)) {
		FJ_STACK_LOG(ERR, "port %u does not exist (%u ports: give one with --vdev/-a)", s->port,
			rte_eth_dev_count_avail());
		return -ENODEV;
	}
	rc = rte_eth_dev_info_get(s->port, &info);
	if (rc < 0)
		return rc;
	memset(&conf, 0, sizeof(conf));
	/* Each checksum in hardware when the port offers it, else in
	 * software (a virtio port offers TCP and UDP but not IPv4's). */
	const uint64_t rx_l4 = RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	s->tx_ip_csum = info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
	s->tx_udp_csum = info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	s->tx_tcp_csum = info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
	s->rx_ip_csum = info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
	s->rx_l4_csum = (info.rx_offload_capa & rx_l4) == rx_l4;
	if (s->no_csum_offload)
		s->tx_ip_csum = s->tx_udp_csum = s->tx_tcp_csum = s->rx_ip_csum = s->rx_l4_csum = false;
	conf.txmode.offloads = (s->tx_ip_csum ? RTE_ETH_TX_OFFLOAD_IPV4_CKSUM : 0) |
			       (s->tx_udp_csum ? RTE_ETH_TX_OFFLOAD_UDP_CKSUM : 0) |
			       (s->tx_tcp_csum ? RTE_ETH_TX_OFFLOAD_TCP_CKSUM : 0);
	conf.rxmode.offloads = (s->rx_ip_csum ? RTE_ETH_RX_OFFLOAD_IPV4_CKSUM : 0) |
			       (s->rx_l4_csum ? rx_l4 : 0);
	tcp_offloads(s, &info, &conf);
	/* A TSO segment by reference takes a descriptor a piece (up to 64):
	 * a ring of 1024 holds only some 16 of them, and what a full ring
	 * refuses is dropped and resent after a timeout (measured: 16
	 * sending flows lost segments to it; with 2048 none, and one flow
	 * no slower within the noise). */
	if (s->tx_tso)
		nb_txd = NB_TXD_TSO;
	rc = choose_steer(s, &info, &conf);
	if (rc < 0)
		return rc;
	rc = rte_eth_dev_configure(s->port, (uint16_t)s->g->n, (uint16_t)s->g->n, &conf);
	if (rc < 0) {
		FJ_STACK_LOG(ERR, "port %u: configure failed: %s", s->port, rte_strerror(-rc));
		return rc;
	}
	rte_eth_dev_adjust_nb_rx_tx_desc(s->port, &nb_rxd, &nb_txd);
	rc = queues_setup(s, nb_rxd, nb_txd);
	if (rc < 0)
		return rc;
	rc = rte_eth_dev_set_mtu(s->port, s->mtu);
	if (rc < 0 && rc != -ENOTSUP) {
		FJ_STACK_LOG(ERR, "port %u: MTU %u refused: %s", s->port, s->mtu, rte_strerror(-rc));
		return rc;
	}
	rc = rte_eth_dev_start(s->port);
	if (rc < 0) {
		FJ_STACK_LOG(ERR, "port %u: start failed: %s", s->port, rte_strerror(-rc));
		return rc;
	}
	/* Filtering by MAC is ours to do as well (a tap or vhost port passes
	 * everything); the port's own filter is a bonus. */
	if (s->promisc)
		rte_eth_promiscuous_enable(s->port);
	else
		rte_eth_promiscuous_disable(s->port);
	/* IPv6's solicitations come to a solicited-node group's multicast
	 * MAC (RFC 4861 §7.2.1; no MLD reports are sent): the port passes
	 * multicast, the stack keeps its groups' (fj_ipv6_mac_for_us). */
	if ((rc = rte_eth_allmulticast_enable(s->port)) < 0 && rc != -ENOTSUP)
		FJ_STACK_LOG(WARNING, "port %u: no multicast reception (%s): IPv6 neighbours "
			     "cannot solicit it", s->port, rte_strerror(-rc));
	if (s->g->steer == FJ_STEER_RSS && (rc = rss_table(s, info.reta_size)) < 0)
		return rc;
	if ((rc = fj_capture_open(s)) < 0)
		return rc;
	/* Software coalescing of what the port did not coalesce (without
	 * LRO, or with LRO from a back-end that passes segments as they come,
	 * as DPDK's vhost library does from a sender without TSO); not on
	 * frames steered between shards (they come one by one). */
	s->rx_gro = !s->no_gro && s->g->steer != FJ_STEER_SOFTWARE;
	rte_eth_macaddr_get(s->port, &mac);
	memcpy(s->mac.b, mac.addr_bytes, 6);
	if ((rc = fj_exception_open(s)) < 0)
		return rc;
	s->tx_fn = port_tx;
	/* TCP's per-flow queue limit sees what the port still holds by the
	 * reference counts of the send queues' buffers, which a port gives
	 * back when it frees what it sent: most do that only when short of
	 * descriptors, so the limit needs the port to do it on request. */
	s->tx_clean_fn = NULL;
	if (s->flow_queue_bytes > 0 && s->tx_refs) {
		rc = rte_eth_tx_done_cleanup(s->port, 0, 0);
		if (rc >= 0)
			s->tx_clean_fn = port_clean;
		else if (rc != -ENOTSUP)
			FJ_STACK_LOG(WARNING, "port %u: tx_done_cleanup: %s", s->port,
				     rte_strerror(-rc));
	}
	FJ_STACK_LOG(NOTICE, "port %u (%s): MAC " RTE_ETHER_ADDR_PRT_FMT ", IPv4 %u.%u.%u.%u/%d%s, "
		"checksums offloaded: tx%s%s%s, rx%s%s; TCP segments: %s%s%s%s; %s", s->port,
		info.driver_name,
		RTE_ETHER_ADDR_BYTES(&mac), s->ip >> 24, (s->ip >> 16) & 0xff, (s->ip >> 8) & 0xff,
		s->ip & 0xff, __builtin_popcount(s->mask), s->gw ? " with a gateway" : "",
		s->tx_ip_csum ? " ipv4" : "", s->tx_tcp_csum ? " tcp" : "",
		s->tx_udp_csum ? " udp" : "", s->rx_ip_csum ? " ipv4" : "",
		s->rx_l4_csum ? " tcp udp" : "", s->tx_tso ? "TSO" : "one MSS",
		s->tx_refs ? ", payload by reference" : ", payload copied",
		s->rx_lro ? ", LRO" : "", s->rx_gro ? ", GRO (rte_gro)" : "",
		s->tx_clean_fn ? "a flow's data in the port limited (--flow-queue-bytes)" :
		"no per-flow limit in the port's queue (it does not give back sent buffers on request)");
	if (s->g->n > 1)
		FJ_STACK_LOG(NOTICE, "port %u: %u shards on %u queue pairs, flows steered by %s",
			s->port, s->g->n, s->g->n,
			s->g->steer == FJ_STEER_RSS ? "the port's RSS" : "software (rings)");
	return 0;
}

void
fj_netif_close(struct fj_stack *s)
{
	fj_netif_flush(s);
	fj_netif_drop_pending(s);
	if (s->has_exc)
		fj_exception_flush(s);
	if (s->id > 0)
		return;
	fj_exception_close(s);
	rte_eth_dev_stop(s->port);
	fj_capture_close(s);
	rte_eth_dev_close(s->port);
}

/*
 * A full ring gets a few more chances within this call; what it still does
 * not take waits, first in line, for the next call (the next loop turn):
 * back-pressure, not loss. Only when the batch is full and the ring still
 * refuses is a new frame dropped (fj_netif_send, counted drop_tx_full).
 */
void
fj_netif_flush(struct fj_stack *s)
{
	uint16_t sent = 0;

	for (int tries = 0; sent < s->ntx && tries < 4; tries++)
		sent = (uint16_t)(sent + s->tx_fn(s, s->tx + sent, (uint16_t)(s->ntx - sent)));
	s->c.tx_frames += sent;
	if (sent > 0 && sent < s->ntx)
		memmove(s->tx, s->tx + sent, (size_t)(s->ntx - sent) * sizeof(s->tx[0]));
	s->ntx = (uint16_t)(s->ntx - sent);
}

/*
 * Whether a flow's data may go into the batch: not while the ring refuses
 * and the batch is down to its last FJ_TX_RESERVE places. The data then
 * waits in its flow's send queue, the flow on the list of those waiting
 * for the port (fj_tcp_queue_poll, the next loop turn), instead of being
 * dropped and sent again a round trip later; the reserve keeps room for
 * frames that have no queue to wait in.
 */
bool
fj_netif_data_room(struct fj_stack *s)
{
	if (s->ntx + FJ_TX_RESERVE < FJ_TX_BATCH)
		return true;
	fj_netif_flush(s);
	return s->ntx + FJ_TX_RESERVE < FJ_TX_BATCH;
}

/* What still waits for the ring goes back to the pool, counted (closing). */
void
fj_netif_drop_pending(struct fj_stack *s)
{
	for (uint16_t i = 0; i < s->ntx; i++)
		fj_drop(s, s->tx[i], FJ_DROP_TX_FULL);
	s->ntx = 0;
}

void
fj_netif_send(struct fj_stack *s, struct rte_mbuf *m)
{
	/* Short frames are padded by the port (Ethernet minimum 60 bytes). */
	if (s->ntx == FJ_TX_BATCH) {
		fj_netif_flush(s);
		if (s->ntx == FJ_TX_BATCH) {
			fj_drop(s, m, FJ_DROP_TX_FULL);
			return;
		}
	}
	s->tx[s->ntx++] = m;
}

void
fj_eth_send(struct fj_stack *s, struct rte_mbuf *m, const struct fj_mac *dst, uint16_t type)
{
	uint8_t *eth = (uint8_t *)rte_pktmbuf_prepend(m, FJ_ETH_HDR_LEN);

	if (eth == NULL) {
		fj_drop(s, m, FJ_DROP_NO_MBUF);
		return;
	}
	fj_eth_build(eth, dst, &s->mac, type);
	fj_netif_send(s, m);
}

void
fj_eth_input(struct fj_stack *s, struct rte_mbuf *m)
{
	struct fj_eth eth;
	enum fj_wire_err r;

	s->c.rx_frames++;
	/* A chained frame (a large TCP segment coalesced by the port or by
	 * GRO) needs its headers in the first segment, which is all the
	 * parsers read: as many bytes as the longest headers, pulled up from
	 * behind when the head is short. */
	if (unlikely(m->nb_segs != 1) && !fj_mbuf_pullup(m, FJ_HEADROOM_NEEDED)) {
		fj_drop(s, m, FJ_DROP_OVERSIZE);
		return;
	}
	r = fj_eth_parse(rte_pktmbuf_mtod(m, uint8_t *), m->data_len, &eth);
	if (r != FJ_OK) {
		/* An Ethernet type the stack does not speak, to us: the kernel's
		 * (--kernel-exception), if it is there. */
		if (r != FJ_WIRE_ETHERTYPE || !fj_mac_eq(&eth.dst, &s->mac) ||
		    !fj_exception_take(s, m))
			fj_drop(s, m, fj_drop_of(r));
		return;
	}
	if (!fj_mac_eq(&eth.dst, &s->mac) && !fj_mac_is_broadcast(&eth.dst) && !s->promisc &&
	    !(eth.type == FJ_ETH_P_IPV6 && fj_ipv6_mac_for_us(s, &eth.dst))) {
		fj_drop(s, m, FJ_DROP_NOT_FOR_US);
		return;
	}
	if (eth.type == FJ_ETH_P_ARP) {
		/* A reply to us: the kernel's resolutions need it too. */
		if (unlikely(s->has_exc) && fj_mac_eq(&eth.dst, &s->mac))
			fj_exception_copy(s, m);
		fj_arp_input(s, m, &eth);
	} else if (eth.type == FJ_ETH_P_IPV6) {
		fj_ipv6_input(s, m);
	} else {
		fj_ipv4_input(s, m);
	}
}
