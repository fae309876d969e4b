/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The direct backend's layers, bottom up: netif (the DPDK port and
 * Ethernet II), ARP, IPv4, ICMP, UDP; TCP has its folder (tcp/tcp.h).
 */
#ifndef FJ_DIRECT_H
#define FJ_DIRECT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "stack.h"
#include "flow_hash.h"
#include "wire/wire.h"

/*
 * Chained packets (a large received segment, coalesced by the port, or a
 * send queue's buffers): the headers are in the first segment, the data
 * may span many. These cut a chain where rte_pktmbuf_adj and _trim, which
 * reach only the first and last segment, cannot. A segment left empty is
 * freed unless it is the only one.
 */
/* Drop @n bytes from the front; the chain's new head. */
static inline struct rte_mbuf *
fj_mbuf_cut_front(struct rte_mbuf *m, uint32_t n)
{
	n = RTE_MIN(n, m->pkt_len);
	while (m->next != NULL && n >= m->data_len) {
		struct rte_mbuf *next = m->next;
		next->pkt_len = m->pkt_len - m->data_len;
		next->nb_segs = (uint16_t)(m->nb_segs - 1);
		n -= m->data_len;
		m->next = NULL;
		m->nb_segs = 1;
		rte_pktmbuf_free_seg(m);
		m = next;
	}
	m->data_off = (uint16_t)(m->data_off + n);
	m->data_len = (uint16_t)(m->data_len - n);
	m->pkt_len -= n;
	return m;
}

/* Keep only the first @len bytes. */
static inline void
fj_mbuf_cut_back(struct rte_mbuf *m, uint32_t len)
{
	struct rte_mbuf *seg = m;
	uint32_t left = RTE_MIN(len, m->pkt_len);
	uint16_t nsegs = 1;

	m->pkt_len = left;
	while (left > seg->data_len && seg->next != NULL) {
		left -= seg->data_len;
		seg = seg->next;
		nsegs++;
	}
	seg->data_len = (uint16_t)RTE_MIN(left, (uint32_t)seg->data_len);
	if (seg->next != NULL) {
		rte_pktmbuf_free(seg->next);
		seg->next = NULL;
	}
	m->nb_segs = nsegs;
}

/*
 * Make the first segment hold the chain's first @len bytes (or all of it
 * when shorter), moving them from the segments behind it into its tailroom:
 * the parsers read headers from the first segment only. A chain may come
 * with a short head, as when rte_gro merges a segment with a few bytes of
 * payload and the full one after it. False (nothing changed) when the first
 * segment is shared or has no room.
 */
static inline bool
fj_mbuf_pullup(struct rte_mbuf *m, uint32_t len)
{
	len = RTE_MIN(len, m->pkt_len);
	if (m->data_len >= len)
		return true;
	if (RTE_MBUF_CLONED(m) || rte_mbuf_refcnt_read(m) != 1 ||
	    rte_pktmbuf_tailroom(m) < len - m->data_len)
		return false;
	while (m->data_len < len) {
		struct rte_mbuf *next = m->next;
		uint16_t n = (uint16_t)RTE_MIN(len - m->data_len, (uint32_t)next->data_len);

		memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, m->data_len),
		       rte_pktmbuf_mtod(next, const uint8_t *), n);
		m->data_len = (uint16_t)(m->data_len + n);
		next->data_off = (uint16_t)(next->data_off + n);
		next->data_len = (uint16_t)(next->data_len - n);
		if (next->data_len == 0) {
			m->next = next->next;
			m->nb_segs--;
			next->next = NULL;
			next->nb_segs = 1;
			rte_pktmbuf_free_seg(next);
		}
	}
	return true;
}

/* The one's complement sum of @len bytes at @off of the chain @m, in
 * network order as fj_csum_add gives it (DPDK's is in the host's). */
static inline uint32_t
fj_mbuf_csum_add(uint32_t sum, const struct rte_mbuf *m, uint32_t off, uint32_t len)
{
	uint16_t raw = 0;

	rte_raw_cksum_mbuf(m, off, len, &raw);
	return sum + rte_be_to_cpu_16(raw);
}

/* Whether the Internet checksum of @len bytes at @off of the chain @m
 * checks out (RFC 1071). */
static inline bool
fj_mbuf_csum_ok(const struct rte_mbuf *m, uint32_t off, uint32_t len)
{
	return off + len <= m->pkt_len && fj_csum_fold(fj_mbuf_csum_add(0, m, off, len)) == 0;
}

/* The checksum field's value for @len bytes at @off of @m whose field
 * holds the pseudo-header sum (or 0): UDP's zero goes as all ones
 * (RFC 768). */
static inline uint16_t
fj_mbuf_csum_finish(const struct rte_mbuf *m, uint32_t off, uint32_t len, bool udp)
{
	uint16_t c = fj_csum_fold(fj_mbuf_csum_add(0, m, off, len));

	return udp && c == 0 ? 0xffff : c;
}

/* netif.c */
int fj_netif_open(struct fj_stack *s);
void fj_netif_close(struct fj_stack *s);
void fj_netif_send(struct fj_stack *s, struct rte_mbuf *m);
void fj_netif_flush(struct fj_stack *s);
/* Room in the transmit batch for a flow's data (fj_netif_data_room). */
bool fj_netif_data_room(struct fj_stack *s);
void fj_netif_drop_pending(struct fj_stack *s);
/* Capture (capture.c): pdump for dpdk-dumpcap, and --pcap's file, on
 * shard 0 as the port starts and stops. */
int fj_capture_open(struct fj_stack *s);
void fj_capture_close(struct fj_stack *s);
/* The kernel exception path (exception.c): take @m for the kernel (false
 * without one: the caller answers or drops it as before), or a copy of
 * it; shard 0 opens, polls and closes the tap. */
int fj_exception_open(struct fj_stack *s);
void fj_exception_close(struct fj_stack *s);
bool fj_exception_take(struct fj_stack *s, struct rte_mbuf *m);
void fj_exception_copy(struct fj_stack *s, const struct rte_mbuf *m);
void fj_exception_flush(struct fj_stack *s);
void fj_exception_poll(struct fj_stack *s, uint64_t now);
void fj_testport_exception(struct fj_stack *s, struct rte_mbuf *m);
/* A received burst with runs of TCP segments merged (gro.c); the new
 * count. */
uint16_t fj_gro_burst(struct fj_stack *s, struct rte_mbuf **pkts, uint16_t n);
/* A holding test port's frames go back to the pools (testport.c). */
void fj_testport_close(struct fj_stack *s);
/* Prepend an Ethernet header (to @dst, of @type) to @m and send it. */
void fj_eth_send(struct fj_stack *s, struct rte_mbuf *m, const struct fj_mac *dst, uint16_t type);
/* One frame up the layers (Ethernet dispatch); takes @m. */
void fj_eth_input(struct fj_stack *s, struct rte_mbuf *m);

/* steer.c: software steering between shards (shard.h) */
/* Take a received burst: this shard's frames up the layers, the others'
 * to their owners' rings. */
void fj_steer_burst(struct fj_stack *s, struct rte_mbuf **pkts, uint16_t n);
/* The frames other shards passed to this one, up the layers; how many. */
unsigned fj_steer_poll(struct fj_stack *s);
/* A reassembled TCP or UDP datagram @m for another shard's flow goes to
 * its ring (true); false: it is this shard's. */
bool fj_steer_whole(struct fj_stack *s, struct rte_mbuf *m, const struct fj_ipv4 *ip);
unsigned fj_direct_shard_of(struct fj_stack *s, uint16_t lport, const struct fj_addr *remote);
/* The shard of a TCP flow over IPv6 between @lip:@lport and @rip:@rport. */
unsigned fj_direct_shard_of6(struct fj_stack *s, const struct fj_ip6 *lip, uint16_t lport,
			     const struct fj_ip6 *rip, uint16_t rport);
/* A reassembled TCP segment over IPv6 for another shard's flow goes to
 * its ring (true). */
bool fj_steer_whole6(struct fj_stack *s, struct rte_mbuf *m, const struct fj_ipv6 *ip);

/* arp.c */
void fj_arp_input(struct fj_stack *s, struct rte_mbuf *m, const struct fj_eth *eth);
/* Send @m (an IPv4 datagram behind room for Ethernet) towards @next_hop. */
void fj_arp_output(struct fj_stack *s, struct rte_mbuf *m, uint32_t next_hop);
void fj_arp_announce(struct fj_stack *s);
void fj_arp_tick(struct fj_stack *s, uint64_t now);

/* ipv4.c */
void fj_ipv4_input(struct fj_stack *s, struct rte_mbuf *m);
/*
 * Prepend an IPv4 header to @m (whose data is the transport segment) and
 * send it to @dst. Takes @m.
 */
int fj_ipv4_output(struct fj_stack *s, struct rte_mbuf *m, uint32_t dst, uint8_t proto);

/* icmp.c */
void fj_icmp_input(struct fj_stack *s, struct rte_mbuf *m, const struct fj_ipv4 *ip);
/* An ICMP error (@type, @code: destination unreachable, time exceeded)
 * about the datagram in @m (at its IP header), rate-limited. Takes @m. */
void fj_icmp_error(struct fj_stack *s, struct rte_mbuf *m, uint8_t type, uint8_t code);

/* The ICMP and ICMPv6 errors' token bucket: true if one may go now. */
bool fj_icmp_rate_ok(struct fj_stack *s);

/* ipv6.c */
/* The link-local address from the MAC, the neighbour cache. */
void fj_ipv6_init(struct fj_stack *s);
/* A router solicitation (RFC 4861 §6.3.7). */
void fj_ipv6_start(struct fj_stack *s);
void fj_ipv6_close(struct fj_stack *s);
void fj_ipv6_input(struct fj_stack *s, struct rte_mbuf *m);
/* Prepend an IPv6 header (@src NULL: chosen for @dst; @hop_limit 0: the
 * default) to @m and send it. Takes @m. */
int fj_ipv6_output(struct fj_stack *s, struct rte_mbuf *m, const struct fj_ip6 *src,
		   const struct fj_ip6 *dst, uint8_t proto, uint8_t hop_limit);
void fj_ipv6_tick(struct fj_stack *s, uint64_t now);
/* ICMPv6 port unreachable about @m (at its Ethernet header), rate-limited. */
void fj_icmp6_port_unreachable(struct fj_stack *s, struct rte_mbuf *m, const struct fj_ipv6 *ip);
/* Our source address for @dst (RFC 6724's simplest rules). */
const struct fj_ip6 *fj_ipv6_source(const struct fj_stack *s, const struct fj_ip6 *dst);
/* The MTU towards @dst: the link's, or the lower one a packet too big
 * taught (RFC 8201), for 10 minutes. */
uint16_t fj_ipv6_path_mtu(struct fj_stack *s, const struct fj_ip6 *dst);
/* ICMPv6 time exceeded, reassembly (code 1), about the first fragment
 * @first (from its Ethernet header) of a datagram that timed out. */
void fj_icmp6_time_exceeded(struct fj_stack *s, struct rte_mbuf *first);
/* A multicast MAC of ours: all-nodes or a solicited-node group's. */
bool fj_ipv6_mac_for_us(const struct fj_stack *s, const struct fj_mac *mac);

/* reasm.c: IPv4 reassembly, per shard */
int fj_reasm_init(struct fj_stack *s);
void fj_reasm_fini(struct fj_stack *s);
/* Take the fragment @m (from its Ethernet header; @ip parsed): NULL while
 * its datagram is incomplete or when it was dropped (counted), else the
 * whole datagram as a chain, its header that of an unfragmented one. */
struct rte_mbuf *fj_reasm_input(struct fj_stack *s, struct rte_mbuf *m, const struct fj_ipv4 *ip);
/* The same for an IPv6 fragment (RFC 8200 §4.5): the whole datagram has
 * no fragment header. */
struct rte_mbuf *fj_reasm6_input(struct fj_stack *s, struct rte_mbuf *m, const struct fj_ipv6 *ip);
/* Expire what waited too long. */
void fj_reasm_tick(struct fj_stack *s, uint64_t now);
/* The buffers its datagrams hold. */
unsigned fj_reasm_mbufs_held(const struct fj_stack *s);

/* udp.c */
void fj_udp_input(struct fj_stack *s, struct rte_mbuf *m, const struct fj_ipv4 *ip);
struct fj_udp *fj_direct_udp_bind(struct fj_stack *s, uint16_t port);
int fj_direct_udp_send(struct fj_udp *u, struct rte_mbuf *m, const struct fj_addr *to);
void fj_udp6_input(struct fj_stack *s, struct rte_mbuf *m, const struct fj_ipv6 *ip);
void fj_direct_udp_close(struct fj_udp *u);

/* The port finishes this TCP or UDP checksum (@flag), the L4 header being
 * @l4_len bytes; the field holds the pseudo-header sum. fj_ipv4_output
 * adds RTE_MBUF_F_TX_IPV4 and the L2/L3 lengths. */
static inline void
fj_tx_l4_csum(struct rte_mbuf *m, uint64_t flag, uint16_t l4_len)
{
	m->ol_flags = (m->ol_flags & ~RTE_MBUF_F_TX_L4_MASK) | flag;
	m->l4_len = l4_len;
}

/*
 * The port vouches for a received TCP or UDP checksum: it checked it, or
 * the packet carries a sender's partial sum over data that never left the
 * host (RTE_MBUF_F_RX_L4_CKSUM_NONE, a virtio NEEDS_CSUM packet). Where the
 * stack coalesces (rx_gro) its pass checked every segment it marked good,
 * and cleared the marks of a port that checks nothing (gro.c).
 */
static inline bool
fj_rx_l4_vouched(const struct fj_stack *s, const struct rte_mbuf *m)
{
	uint64_t l4 = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;

	return (s->rx_l4_csum &&
		(l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD || l4 == RTE_MBUF_F_RX_L4_CKSUM_NONE)) ||
	       (s->rx_gro && l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD);
}

#endif
