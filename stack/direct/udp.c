/* SPDX-License-Identifier: BSD-3-Clause */
/* UDP (RFC 768) over the direct backend. */
#include <errno.h>
#include <stdlib.h>

#include "direct.h"

void
fj_udp_input(struct fj_stack *s, struct rte_mbuf *m, const struct fj_ipv4 *ip)
{
	uint16_t off = (uint16_t)(FJ_ETH_HDR_LEN + ip->hdr_len);
	uint8_t *p = rte_pktmbuf_mtod_offset(m, uint8_t *, off);
	struct fj_udp_hdr h;
	enum fj_wire_err r;

	/* A port's word spares the software check; anything else (bad,
	 * unknown) is checked here, after the lengths. */
	r = fj_udp_parse(p, ip->total_len - ip->hdr_len, ip->src, ip->dst,
			 fj_rx_l4_vouched(s, m), &h);
	if (r != FJ_OK) {
		fj_drop(s, m, fj_drop_of(r));
		return;
	}
	struct fj_udp *u = s->udp_ports[h.dport];
	if (u == NULL) {
		if (ip->dst == s->ip) {
			/* RFC 1122 §4.1.3.1: port unreachable for a closed port. */
			s->c.drops[FJ_DROP_UDP_PORT]++;
			rte_pktmbuf_adj(m, FJ_ETH_HDR_LEN);
			fj_icmp_unreachable(s, m, FJ_ICMP_PORT_UNREACH);
		} else {
			fj_drop(s, m, FJ_DROP_UDP_PORT);
		}
		return;
	}
	/* The application sees the payload; the headers stay in front of it
	 * as headroom for the reply. */
	rte_pktmbuf_adj(m, (uint16_t)(off + FJ_UDP_HDR_LEN));
	rte_pktmbuf_trim(m, (uint16_t)(m->data_len - (h.len - FJ_UDP_HDR_LEN)));
	s->c.udp_rx++;
	s->c.udp_rx_bytes += h.len - FJ_UDP_HDR_LEN;
	struct fj_addr from = { ip->src, h.sport };
	u->recv(u, (struct fj_buf *)m, &from, u->arg);
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

	if (plen + FJ_UDP_HDR_LEN + FJ_IPV4_HDR_LEN > s->mtu) {
		fj_drop(s, m, FJ_DROP_OVERSIZE);
		return -EMSGSIZE;
	}
	/* The software checksum wants the payload in one piece. */
	if (m->nb_segs > 1 && !s->tx_udp_csum && rte_pktmbuf_linearize(m) < 0) {
		fj_drop(s, m, FJ_DROP_NO_MBUF);
		return -ENOBUFS;
	}
	h = (uint8_t *)rte_pktmbuf_prepend(m, FJ_UDP_HDR_LEN);
	if (h == NULL) {
		fj_drop(s, m, FJ_DROP_NO_MBUF);
		return -ENOBUFS;
	}
	fj_udp_build(h, s->ip, to->ip, u->port, to->port, (uint16_t)plen, s->tx_udp_csum);
	if (s->tx_udp_csum)
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
