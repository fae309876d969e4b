/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The network interface: the one DPDK port (queue 0) the stack runs on, its
 * set-up, the batched transmit path, and Ethernet II dispatch. Only this
 * file calls rte_eth_rx_burst/rte_eth_tx_burst.
 */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "direct.h"

#define NB_RXD 1024
#define NB_TXD 1024

static uint16_t
port_tx(struct fj_stack *s, struct rte_mbuf **pkts, uint16_t n)
{
	return rte_eth_tx_burst(s->port, 0, pkts, n);
}

int
fj_netif_open(struct fj_stack *s)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	struct rte_ether_addr mac;
	uint16_t nb_rxd = NB_RXD, nb_txd = NB_TXD;
	int rc;

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
	rc = rte_eth_dev_configure(s->port, 1, 1, &conf);
	if (rc < 0) {
		FJ_STACK_LOG(ERR, "port %u: configure failed: %s", s->port, rte_strerror(-rc));
		return rc;
	}
	rte_eth_dev_adjust_nb_rx_tx_desc(s->port, &nb_rxd, &nb_txd);
	rc = rte_eth_rx_queue_setup(s->port, 0, nb_rxd, rte_eth_dev_socket_id(s->port), NULL,
				    s->mp);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(s->port, 0, nb_txd, rte_eth_dev_socket_id(s->port),
					    NULL);
	if (rc < 0) {
		FJ_STACK_LOG(ERR, "port %u: queue setup failed: %s", s->port, rte_strerror(-rc));
		return rc;
	}
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
	rte_eth_macaddr_get(s->port, &mac);
	memcpy(s->mac.b, mac.addr_bytes, 6);
	s->tx_fn = port_tx;
	FJ_STACK_LOG(NOTICE, "port %u (%s): MAC " RTE_ETHER_ADDR_PRT_FMT ", IPv4 %u.%u.%u.%u/%d%s, "
		"checksums offloaded: tx%s%s%s, rx%s%s", s->port, info.driver_name,
		RTE_ETHER_ADDR_BYTES(&mac), s->ip >> 24, (s->ip >> 16) & 0xff, (s->ip >> 8) & 0xff,
		s->ip & 0xff, __builtin_popcount(s->mask), s->gw ? " with a gateway" : "",
		s->tx_ip_csum ? " ipv4" : "", s->tx_tcp_csum ? " tcp" : "",
		s->tx_udp_csum ? " udp" : "", s->rx_ip_csum ? " ipv4" : "",
		s->rx_l4_csum ? " tcp udp" : "");
	return 0;
}

void
fj_netif_close(struct fj_stack *s)
{
	fj_netif_flush(s);
	rte_eth_dev_stop(s->port);
	rte_eth_dev_close(s->port);
}

void
fj_netif_flush(struct fj_stack *s)
{
	uint16_t sent = 0;

	/* A full ring gets a few more chances within this loop turn; what it
	 * still does not take is dropped and counted, not held. */
	for (int tries = 0; sent < s->ntx && tries < 4; tries++)
		sent = (uint16_t)(sent + s->tx_fn(s, s->tx + sent, (uint16_t)(s->ntx - sent)));
	s->c.tx_frames += sent;
	for (uint16_t i = sent; i < s->ntx; i++)
		fj_drop(s, s->tx[i], FJ_DROP_TX_FULL);
	s->ntx = 0;
}

void
fj_netif_send(struct fj_stack *s, struct rte_mbuf *m)
{
	/* Short frames are padded by the port (Ethernet minimum 60 bytes). */
	if (s->ntx == FJ_TX_BATCH)
		fj_netif_flush(s);
	s->tx[s->ntx++] = m;
}

void
fj_eth_input(struct fj_stack *s, struct rte_mbuf *m)
{
	struct fj_eth eth;
	enum fj_wire_err r;

	s->c.rx_frames++;
	if (m->nb_segs != 1) {
		/* Only frames beyond our MTU arrive chained. */
		fj_drop(s, m, FJ_DROP_OVERSIZE);
		return;
	}
	r = fj_eth_parse(rte_pktmbuf_mtod(m, uint8_t *), m->data_len, &eth);
	if (r != FJ_OK) {
		fj_drop(s, m, fj_drop_of(r));
		return;
	}
	if (!fj_mac_eq(&eth.dst, &s->mac) && !fj_mac_is_broadcast(&eth.dst) && !s->promisc) {
		fj_drop(s, m, FJ_DROP_NOT_FOR_US);
		return;
	}
	if (eth.type == FJ_ETH_P_ARP)
		fj_arp_input(s, m, &eth);
	else
		fj_ipv4_input(s, m);
}
