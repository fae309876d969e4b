/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 and IPv6 reassembly (RFC 791 §3.2, RFC 815's hole accounting,
 * RFC 8200 §4.5) in bounded memory, on the shard the fragments reach (software steering sends every
 * fragment of a datagram to one shard, fj_steer_owner).
 *
 * Why not DPDK's rte_ip_frag: its table holds at most
 * RTE_LIBRTE_IP_FRAG_MAX_FRAG (8 in Debian's build) fragments a datagram,
 * a fixed compile-time bound, where a 64 KiB datagram over a 1,500-byte
 * MTU comes in 45; it neither tells which expired datagram had its first
 * fragment (RFC 1122 §3.3.2: time exceeded is sent about it) nor drops on
 * overlap.
 *
 * Bounds, per shard: REASM_DGRAMS datagrams under way, REASM_PER_SOURCE
 * of them from one source (a flood from one address cannot take the table
 * from the others), REASM_MBUFS buffers held, REASM_PIECES fragments a
 * datagram. A fragment beyond a bound is dropped (drop_ip_reasm_full) and
 * so is its datagram when it cannot complete any more. A fragment that
 * overlaps another of its datagram drops the datagram and every later
 * fragment of it until the timeout (RFC 5722, the same policy for IPv4); an
 * exact copy of one already held is only itself dropped (RFC 8200 §4.5
 * allows it: networks duplicate). A datagram not complete after
 * REASM_TIMEOUT_S goes, with ICMP time exceeded (code 1) to its source when
 * its first fragment had come.
 */
#include <stdlib.h>

#include "direct.h"

#define REASM_DGRAMS 64
#define REASM_PER_SOURCE 16
#define REASM_MBUFS 1024
#define REASM_PIECES 128
#define REASM_TIMEOUT_S 30 /* RFC 791 suggests 15 s as a lower bound; Linux waits 30 */
#define REASM_TIMEOUT6_S 60 /* RFC 8200 §4.5 */

enum { DG_FREE = 0, DG_OPEN, DG_DEAD };

struct reasm_piece {
	uint16_t off, len; /* payload bytes of the datagram this fragment holds */
	struct rte_mbuf *m; /* the first: from its Ethernet header; the others: payload */
};

struct reasm_dgram {
	uint8_t src[16], dst[16]; /* IPv4's in the first 4 bytes */
	uint32_t id;
	uint8_t proto;
	bool v6;
	uint8_t state;
	uint16_t npieces;  /* sorted by offset, disjoint */
	uint32_t end;      /* payload length, known once the last fragment came; 0 before */
	uint32_t have;     /* payload bytes held */
	uint64_t expires;
	uint16_t frag_hdr_off, frag_nh_at; /* IPv6: in the first fragment */
	struct reasm_piece p[REASM_PIECES];
};

/* A fragment, of either family: what reassembly needs of its header. */
struct frag {
	bool v6;
	uint8_t src[16], dst[16];
	uint32_t id;
	uint8_t proto;
	uint32_t off, len;   /* its place and payload, bytes */
	bool mf;
	uint32_t hdr;        /* bytes before its payload, from the IP header */
};

struct fj_reasm {
	unsigned nmbufs; /* held, over all datagrams */
	struct reasm_dgram d[REASM_DGRAMS];
};

int
fj_reasm_init(struct fj_stack *s)
{
	s->reasm = calloc(1, sizeof(*s->reasm));
	return s->reasm != NULL ? 0 : -ENOMEM;
}

/* Free @d's fragments, each counted as dropped for @why; the datagram is
 * then @state (DG_FREE, or DG_DEAD until it expires). */
static void
dgram_release(struct fj_stack *s, struct reasm_dgram *d, enum fj_drop why, uint8_t state)
{
	for (unsigned i = 0; i < d->npieces; i++) {
		s->reasm->nmbufs -= d->p[i].m->nb_segs;
		fj_drop(s, d->p[i].m, why);
	}
	d->npieces = 0;
	d->have = 0;
	d->state = state;
}

unsigned
fj_reasm_mbufs_held(const struct fj_stack *s)
{
	return s->reasm != NULL ? s->reasm->nmbufs : 0;
}

void
fj_reasm_fini(struct fj_stack *s)
{
	if (s->reasm == NULL)
		return;
	for (unsigned i = 0; i < REASM_DGRAMS; i++)
		dgram_release(s, &s->reasm->d[i], FJ_DROP_REASM_TIMEOUT, DG_FREE);
	free(s->reasm);
	s->reasm = NULL;
}

/* RFC 1122 §3.3.2: time exceeded about a datagram whose fragment zero came,
 * unless it was itself an ICMP error (RFC 1122 §3.2.2) or not addressed to
 * us alone. Takes @first (from its Ethernet header). */
static void
dgram_time_exceeded(struct fj_stack *s, const struct reasm_dgram *d, struct rte_mbuf *first)
{
	const uint8_t *ip = rte_pktmbuf_mtod_offset(first, const uint8_t *, FJ_ETH_HDR_LEN);
	size_t ihl = (size_t)(ip[0] & 0xf) * 4;
	uint32_t dst = (uint32_t)d->dst[0] << 24 | (uint32_t)d->dst[1] << 16 |
		       (uint32_t)d->dst[2] << 8 | d->dst[3];

	s->c.drops[FJ_DROP_REASM_TIMEOUT]++;
	if (d->v6) {
		fj_icmp6_time_exceeded(s, first);
		return;
	}
	if (dst != s->ip ||
	    (d->proto == FJ_IP_PROTO_ICMP && first->data_len > FJ_ETH_HDR_LEN + ihl &&
	     fj_icmp_is_error(ip[ihl]))) {
		rte_pktmbuf_free(first);
		return;
	}
	rte_pktmbuf_adj(first, FJ_ETH_HDR_LEN);
	fj_icmp_error(s, first, FJ_ICMP_TIME_EXCEEDED, FJ_ICMP_REASM_TIME_EXCEEDED);
}

void
fj_reasm_tick(struct fj_stack *s, uint64_t now)
{
	for (unsigned i = 0; s->reasm != NULL && i < REASM_DGRAMS; i++) {
		struct reasm_dgram *d = &s->reasm->d[i];
		if (d->state == DG_FREE || now < d->expires)
			continue;
		if (d->state == DG_OPEN) {
			s->c.ip_reasm_timeouts++;
			if (d->npieces > 0 && d->p[0].off == 0) {
				struct rte_mbuf *first = d->p[0].m;
				s->reasm->nmbufs -= first->nb_segs;
				memmove(&d->p[0], &d->p[1], (d->npieces - 1) * sizeof(d->p[0]));
				d->npieces--;
				dgram_time_exceeded(s, d, first);
			}
		}
		dgram_release(s, d, FJ_DROP_REASM_TIMEOUT, DG_FREE);
	}
}

/* The datagram @ip's fragment belongs to, made when it is the first to
 * come and the bounds allow; NULL (and @m dropped) if they do not. */
static struct reasm_dgram *
dgram_find(struct fj_stack *s, const struct frag *ip, struct rte_mbuf *m)
{
	struct reasm_dgram *free_slot = NULL;
	unsigned from_src = 0;

	for (unsigned i = 0; i < REASM_DGRAMS; i++) {
		struct reasm_dgram *d = &s->reasm->d[i];
		if (d->state == DG_FREE) {
			if (free_slot == NULL)
				free_slot = d;
			continue;
		}
		if (d->v6 == ip->v6 && memcmp(d->src, ip->src, 16) == 0) {
			if (memcmp(d->dst, ip->dst, 16) == 0 && d->id == ip->id &&
			    (ip->v6 || d->proto == ip->proto))
				return d;
			from_src++;
		}
	}
	if (free_slot == NULL || from_src >= REASM_PER_SOURCE) {
		fj_drop(s, m, FJ_DROP_REASM_FULL);
		return NULL;
	}
	*free_slot = (struct reasm_dgram){
		.id = ip->id, .proto = ip->proto, .v6 = ip->v6, .state = DG_OPEN,
		.expires = fj_now(s) + (uint64_t)(ip->v6 ? REASM_TIMEOUT6_S : REASM_TIMEOUT_S) * s->hz,
	};
	memcpy(free_slot->src, ip->src, 16);
	memcpy(free_slot->dst, ip->dst, 16);
	return free_slot;
}

/* The whole datagram from @d's pieces: the first fragment's headers, the
 * payloads chained behind, the header made that of an unfragmented
 * datagram. */
static struct rte_mbuf *
dgram_join(struct fj_stack *s, struct reasm_dgram *d)
{
	struct rte_mbuf *head = d->p[0].m;

	/* A chain counts up to RTE_MBUF_MAX_NB_SEGS segments: never short
	 * here, as fewer are ever held. */
	RTE_BUILD_BUG_ON(REASM_MBUFS > RTE_MBUF_MAX_NB_SEGS);
	for (unsigned i = 1; i < d->npieces; i++)
		(void)rte_pktmbuf_chain(head, d->p[i].m);
	s->reasm->nmbufs -= head->nb_segs;
	d->npieces = 0;
	d->state = DG_FREE;
	uint8_t *ip = rte_pktmbuf_mtod_offset(head, uint8_t *, FJ_ETH_HDR_LEN);
	if (d->v6) {
		/* RFC 8200 §4.5: the unfragmentable part, its last next
		 * header that of the fragment header, which goes. */
		uint32_t fh = d->frag_hdr_off;
		ip[d->frag_nh_at] = ip[fh];
		uint16_t plen = (uint16_t)(fh - FJ_IPV6_HDR_LEN + d->end);
		ip[4] = (uint8_t)(plen >> 8);
		ip[5] = (uint8_t)plen;
		uint8_t *eth = rte_pktmbuf_mtod(head, uint8_t *);
		memmove(eth + 8, eth, FJ_ETH_HDR_LEN + fh);
		rte_pktmbuf_adj(head, 8);
		head->ol_flags &= ~RTE_MBUF_F_RX_L4_CKSUM_MASK;
		s->c.ip_reassembled++;
		return head;
	}
	uint16_t ihl = (uint16_t)((ip[0] & 0xf) * 4);
	uint16_t total = (uint16_t)(ihl + d->end);
	ip[2] = (uint8_t)(total >> 8);
	ip[3] = (uint8_t)total;
	ip[6] = ip[7] = 0;
	ip[10] = ip[11] = 0;
	uint16_t c = fj_csum_fold(fj_csum_add(0, ip, ihl));
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	/* Whatever the port said of the first fragment's checksums does not
	 * hold for the datagram: the transport checks its own over the
	 * chain. */
	head->ol_flags &= ~(RTE_MBUF_F_RX_L4_CKSUM_MASK | RTE_MBUF_F_RX_IP_CKSUM_MASK);
	head->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	s->c.ip_reassembled++;
	return head;
}

static struct rte_mbuf *
reasm_input(struct fj_stack *s, struct rte_mbuf *m, const struct frag *ip, uint32_t frag_hdr_off,
	    uint32_t frag_nh_at)
{
	uint32_t off = ip->off, len = ip->len;
	struct reasm_dgram *d;
	unsigned i;

	s->c.ip_frags_rx++;
	if ((d = dgram_find(s, ip, m)) == NULL)
		return NULL;
	if (d->state == DG_DEAD) {
		fj_drop(s, m, FJ_DROP_FRAG_OVERLAP);
		return NULL;
	}
	/* Where it goes among the pieces, sorted by offset. */
	for (i = 0; i < d->npieces && d->p[i].off < off; i++)
		;
	if (i < d->npieces && d->p[i].off == off && d->p[i].len == len &&
	    (ip->mf || d->end == off + len)) {
		fj_drop(s, m, FJ_DROP_FRAG_DUP);
		return NULL;
	}
	/* Overlapping a neighbour, a second end elsewhere, or data past the
	 * end: the datagram cannot be trusted (RFC 5722). */
	bool bad = (i > 0 && (uint32_t)d->p[i - 1].off + d->p[i - 1].len > off) ||
		   (i < d->npieces && off + len > d->p[i].off) ||
		   (d->end != 0 && (off + len > d->end || (!ip->mf && off + len != d->end))) ||
		   (!ip->mf && d->npieces > 0 &&
		    (uint32_t)d->p[d->npieces - 1].off + d->p[d->npieces - 1].len > off + len);
	if (bad) {
		fj_drop(s, m, FJ_DROP_FRAG_OVERLAP);
		dgram_release(s, d, FJ_DROP_FRAG_OVERLAP, DG_DEAD);
		return NULL;
	}
	if (d->npieces == REASM_PIECES || s->reasm->nmbufs + m->nb_segs > REASM_MBUFS) {
		fj_drop(s, m, FJ_DROP_REASM_FULL);
		dgram_release(s, d, FJ_DROP_REASM_FULL, DG_DEAD);
		return NULL;
	}
	/* The first keeps its headers; the others are cut to their payload;
	 * all lose the Ethernet padding. */
	if (off == 0) {
		/* (IPv6: where its fragment header is, which goes) */
		if (d->v6 && (FJ_ETH_HDR_LEN + frag_hdr_off + 8u > m->data_len ||
			      frag_nh_at >= frag_hdr_off)) {
			fj_drop(s, m, FJ_DROP_OVERSIZE);
			return NULL;
		}
		d->frag_hdr_off = (uint16_t)frag_hdr_off;
		d->frag_nh_at = (uint16_t)frag_nh_at;
		fj_mbuf_cut_back(m, FJ_ETH_HDR_LEN + ip->hdr + len);
	} else {
		m = fj_mbuf_cut_front(m, FJ_ETH_HDR_LEN + ip->hdr);
		fj_mbuf_cut_back(m, len);
	}
	memmove(&d->p[i + 1], &d->p[i], (d->npieces - i) * sizeof(d->p[0]));
	d->p[i] = (struct reasm_piece){ .off = (uint16_t)off, .len = (uint16_t)len, .m = m };
	d->npieces++;
	d->have += len;
	s->reasm->nmbufs += m->nb_segs;
	if (!ip->mf)
		d->end = off + len;
	/* Disjoint pieces within [0, end) adding up to end cover it. */
	if (d->end == 0 || d->have != d->end)
		return NULL;
	return dgram_join(s, d);
}

struct rte_mbuf *
fj_reasm_input(struct fj_stack *s, struct rte_mbuf *m, const struct fj_ipv4 *ip)
{
	struct frag f = { .v6 = false, .id = ip->id, .proto = ip->proto, .off = ip->frag_off,
			  .len = (uint32_t)ip->total_len - ip->hdr_len, .mf = ip->mf,
			  .hdr = ip->hdr_len };

	for (int i = 0; i < 4; i++) {
		f.src[i] = (uint8_t)(ip->src >> (24 - 8 * i));
		f.dst[i] = (uint8_t)(ip->dst >> (24 - 8 * i));
	}
	return reasm_input(s, m, &f, 0, 0);
}

struct rte_mbuf *
fj_reasm6_input(struct fj_stack *s, struct rte_mbuf *m, const struct fj_ipv6 *ip)
{
	struct frag f = { .v6 = true, .id = ip->frag_id, .proto = ip->proto, .off = ip->frag_off,
			  .len = (uint32_t)FJ_IPV6_HDR_LEN + ip->payload_len - ip->l4_off,
			  .mf = ip->mf, .hdr = ip->l4_off };

	memcpy(f.src, ip->src.b, 16);
	memcpy(f.dst, ip->dst.b, 16);
	return reasm_input(s, m, &f, ip->frag_hdr_off, ip->frag_nh_at);
}
