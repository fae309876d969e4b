/* SPDX-License-Identifier: BSD-3-Clause */
/* UDP (RFC 768) over the direct backend. */
#include <errno.h>
#include <stdlib.h>

#include "direct.h"

void
fj_udp_input(struct fj_stack *s, struct rte_mbuf *m, const struct fj_ipv4 *ip)
{
	uint16_t off = (uint16_t)(FJ_ETH_HDR_LEN + ip->hdr_len);
	uint32_t len = (uint32_t)ip->total_len - ip->hdr_len;
	bool vouched = fj_rx_l4_vouched(s, m);
	struct fj_udp_hdr h;
	enum fj_wire_err r;

	/* A reassembled datagram is a chain: the header is read from the
	 * first segment, the checksum summed over all of them. */
	if (m->nb_segs > 1 && !fj_mbuf_pullup(m, off + FJ_UDP_HDR_LEN)) {
		fj_drop(s, m, FJ_DROP_OVERSIZE);
		return;
	}
	uint8_t *p = rte_pktmbuf_mtod_offset(m, uint8_t *, off);
	uint16_t ulen = (uint16_t)(p[4] << 8 | p[5]);
	if (m->nb_segs > 1 && !vouched && len >= FJ_UDP_HDR_LEN && ulen >= FJ_UDP_HDR_LEN &&
	    ulen <= len && (p[6] | p[7]) != 0) {
		uint32_t ps = fj_csum_pseudo(ip->src, ip->dst, FJ_IP_PROTO_UDP, ulen);
		if (fj_csum_fold(fj_mbuf_csum_add(ps, m, off, ulen)) != 0) {
			fj_drop(s, m, FJ_DROP_UDP_CHECKSUM);
			return;
		}
		vouched = true;
	}
	/* A port's word spares the software check; anything else (bad,
	 * unknown) is checked here, after the lengths. */
	r = fj_udp_parse(p, m->nb_segs > 1 ? len : RTE_MIN(len, (uint32_t)m->data_len - off),
			 ip->src, ip->dst, vouched, &h);
	if (r != FJ_OK) {
		fj_drop(s, m, fj_drop_of(r));
		return;
	}
	struct fj_udp *u = s->udp_ports[h.dport];
	if (u == NULL) {
		if (ip->dst == s->ip && fj_exception_take(s, m))
			return;
		if (ip->dst == s->ip) {
			/* RFC 1122 §4.1.3.1: port unreachable for a closed port. */
			s->c.drops[FJ_DROP_UDP_PORT]++;
			rte_pktmbuf_adj(m, FJ_ETH_HDR_LEN);
			fj_icmp_error(s, m, FJ_ICMP_DEST_UNREACH, FJ_ICMP_PORT_UNREACH);
		} else {
			fj_drop(s, m, FJ_DROP_UDP_PORT);
		}
		return;
	}
	/* The application sees the payload; the headers stay in front of it
	 * as headroom for the reply. */
	rte_pktmbuf_adj(m, (uint16_t)(off + FJ_UDP_HDR_LEN));
	fj_mbuf_cut_back(m, h.len - FJ_UDP_HDR_LEN);
	s->c.udp_rx++;
	s->c.udp_rx_bytes += h.len - FJ_UDP_HDR_LEN;
	struct fj_addr from = { .ip = ip->src, .port = h.sport };
	u->recv(u, (struct fj_buf *)m, &from, u->arg);
}

/* UDP over IPv6 (RFC 8200 §8.1: the checksum is mandatory, over the
 * IPv6 pseudo-header). @m's IPv6 payload starts at @ip->l4_off. */
void
fj_udp6_input(struct fj_stack *s, struct rte_mbuf *m, const struct fj_ipv6 *ip)
{
	uint32_t off = FJ_ETH_HDR_LEN + ip->l4_off;
	uint32_t len = (uint32_t)FJ_IPV6_HDR_LEN + ip->payload_len - ip->l4_off;

	if (len < FJ_UDP_HDR_LEN || !fj_mbuf_pullup(m, off + FJ_UDP_HDR_LEN)) {
		fj_drop(s, m, FJ_DROP_TRUNCATED);
		return;
	}
	const uint8_t *p = rte_pktmbuf_mtod_offset(m, const uint8_t *, off);
	uint16_t sport = (uint16_t)(p[0] << 8 | p[1]), dport = (uint16_t)(p[2] << 8 | p[3]);
	uint16_t ulen = (uint16_t)(p[4] << 8 | p[5]);
	if (ulen < FJ_UDP_HDR_LEN || ulen > len) {
		fj_drop(s, m, FJ_DROP_UDP_LEN);
		return;
	}
	if ((p[6] | p[7]) == 0 ||
	    fj_csum_fold(fj_mbuf_csum_add(fj_csum_pseudo6(&ip->src, &ip->dst, ulen, FJ_IP_PROTO_UDP),
					  m, off, ulen)) != 0) {
		fj_drop(s, m, FJ_DROP_UDP_CHECKSUM);
		return;
	}
	struct fj_udp *u = s->udp_ports[dport];
	if (u == NULL) {
		if (fj_ip6_is_multicast(&ip->dst)) {
			fj_drop(s, m, FJ_DROP_UDP_PORT);
		} else if (!fj_exception_take(s, m)) {
			/* RFC 4443 §3.1: port unreachable for a closed port. */
			s->c.drops[FJ_DROP_UDP_PORT]++;
			fj_icmp6_port_unreachable(s, m, ip);
		}
		return;
	}
	rte_pktmbuf_adj(m, (uint16_t)(off + FJ_UDP_HDR_LEN));
	fj_mbuf_cut_back(m, ulen - FJ_UDP_HDR_LEN);
	s->c.udp_rx++;
	s->c.udp_rx_bytes += ulen - FJ_UDP_HDR_LEN;
	struct fj_addr from = { .port = sport, .family = FJ_AF_INET6 };
	memcpy(from.ip6, ip->src.b, 16);
	u->recv(u, (struct fj_buf *)m, &from, u->arg);
}

/* The same over IPv6: the checksum in software, over the chain. */
static int
udp6_send(struct fj_udp *u, struct rte_mbuf *m, const struct fj_addr *to)
{
	struct fj_stack *s = u->s;
	uint32_t plen = rte_pktmbuf_pkt_len(m);
	struct fj_ip6 dst;

	memcpy(dst.b, to->ip6, 16);
	if (plen > UINT16_MAX - FJ_UDP_HDR_LEN) {
		fj_drop(s, m, FJ_DROP_OVERSIZE);
		return -EMSGSIZE;
	}
	uint8_t *h = (uint8_t *)rte_pktmbuf_prepend(m, FJ_UDP_HDR_LEN);
	if (h == NULL) {
		fj_drop(s, m, FJ_DROP_NO_MBUF);
		return -ENOBUFS;
	}
	const struct fj_ip6 *src = fj_ipv6_source(s, &dst);
	uint16_t len = (uint16_t)(plen + FJ_UDP_HDR_LEN);
	h[0] = (uint8_t)(u->port >> 8), h[1] = (uint8_t)u->port;
	h[2] = (uint8_t)(to->port >> 8), h[3] = (uint8_t)to->port;
	h[4] = (uint8_t)(len >> 8), h[5] = (uint8_t)len;
	h[6] = h[7] = 0;
	uint16_t c = fj_csum_fold(
		fj_mbuf_csum_add(fj_csum_pseudo6(src, &dst, len, FJ_IP_PROTO_UDP), m, 0, len));
	if (c == 0)
		c = 0xffff;
	h[6] = (uint8_t)(c >> 8), h[7] = (uint8_t)c;
	m->ol_flags &= ~RTE_MBUF_F_TX_L4_MASK;
	s->c.udp_tx++;
	s->c.udp_tx_bytes += plen;
	return fj_ipv6_output(s, m, src, &dst, FJ_IP_PROTO_UDP, 0);
}

struct fj_udp *
fj_direct_udp_bind(struct fj_stack *s, uint16_t port)
{
	struct fj_udp *u = calloc(1, sizeof(*u));

	if (u == NULL)
		return NULL;
	u->s = s;
	u->port = port;
	return u;
}

int
fj_direct_udp_send(struct fj_udp *u, struct rte_mbuf *m, const struct fj_addr *to)
{
	struct fj_stack *s = u->s;
	uint32_t plen = rte_pktmbuf_pkt_len(m);
	uint8_t *h;

	if (to->family == FJ_AF_INET6)
		return udp6_send(u, m, to);
	if (to->family != FJ_AF_INET) {
		fj_drop(s, m, FJ_DROP_NO_ROUTE);
		return -EAFNOSUPPORT;
	}
	/* Beyond the MTU it goes in fragments (fj_ipv4_output), up to
	 * IPv4's 65,535 bytes. */
	if (plen > UINT16_MAX - FJ_UDP_HDR_LEN - FJ_IPV4_HDR_LEN) {
		fj_drop(s, m, FJ_DROP_OVERSIZE);
		return -EMSGSIZE;
	}
	h = (uint8_t *)rte_pktmbuf_prepend(m, FJ_UDP_HDR_LEN);
	if (h == NULL) {
		fj_drop(s, m, FJ_DROP_NO_MBUF);
		return -ENOBUFS;
	}
	/* The port finishes the checksum, or fj_ipv4_output does in
	 * software for a chain (or a datagram it fragments); one segment
	 * without the offload gets it whole from fj_udp_build. */
	bool finish_later = s->tx_udp_csum || m->nb_segs > 1;
	fj_udp_build(h, s->ip, to->ip, u->port, to->port, (uint16_t)plen, finish_later);
	if (finish_later)
		fj_tx_l4_csum(m, RTE_MBUF_F_TX_UDP_CKSUM, FJ_UDP_HDR_LEN);
	s->c.udp_tx++;
	s->c.udp_tx_bytes += plen;
	return fj_ipv4_output(s, m, to->ip, FJ_IP_PROTO_UDP);
}


void
fj_direct_udp_close(struct fj_udp *u)
{
	free(u);
}
