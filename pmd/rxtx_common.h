/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The skeleton the split (rxtx.c) and packed (rxtx_packed.c) bursts share:
 * chain assembly of mergeable rx buffers, the end of a packet's way in,
 * the tx burst loop, and the counting rules. Each layout keeps its own
 * burst functions (chosen at start) and passes its ring accessors to these
 * helpers, which are inlined into each burst, so the calls through them
 * become direct ones.
 */
#ifndef FJ_RXTX_COMMON_H
#define FJ_RXTX_COMMON_H

#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_common.h>
#include <rte_prefetch.h>

#include "fj_pmd.h"

#define RX_REFILL_BATCH 32
#define FREE_BATCH 64

static inline uint64_t
mbuf_dev_addr(uint16_t addr_off, const struct rte_mbuf *m)
{
	/* buf_iova or buf_addr, both 64-bit, chosen per transport. */
	return *(const uint64_t *)((const char *)m + addr_off);
}

/* Notify the device (the caller has checked it wants one, §2.7.13.4 / §2.8.21.3). */
static inline void
fj_kick(struct fj_notify *n, uint64_t *kicks)
{
	n->fn(n);
	(*kicks)++;
}

static inline void
rx_ring_broken(struct fj_rxq *q)
{
	if (!q->broken)
		FJ_PMD_LOG(ERR, "port %u rxq %u: device broke the used ring contract; "
			        "queue stopped until the port is restarted",
		           q->port_id, q->queue_id);
	q->broken = true;
}

static inline void
tx_ring_broken(struct fj_txq *q)
{
	if (!q->broken)
		FJ_PMD_LOG(ERR, "port %u txq %u: device broke the used ring contract; "
			        "queue stopped until the port is restarted",
		           q->dev->port_id, q->queue_id);
	q->broken = true;
}

static inline bool
rx_wanted(const struct fj_rxq *q, const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

	if (rte_is_same_ether_addr(&eh->dst_addr, &q->mac))
		return true;
	if (rte_is_broadcast_ether_addr(&eh->dst_addr))
		return true;
	return q->allmulti && rte_is_multicast_ether_addr(&eh->dst_addr);
}

static inline void
tx_free_flush(struct fj_txq *q, struct rte_mbuf **m, unsigned int n)
{
	if (n == 0)
		return;
	if (q->fast_free)
		rte_mempool_put_bulk(m[0]->pool, (void **)m, n);
	else
		rte_pktmbuf_free_bulk(m, n);
}

/*
 * A transmitted mbuf goes back to its pool. With fast free nothing here
 * touches it, and the application that takes it next from the lcore's
 * mempool cache (a packet generator, a forwarder's rx refill) writes its
 * first two lines at once: start loading them now.
 */
static inline void
tx_done(struct fj_txq *q, struct rte_mbuf **done, unsigned int *nd, struct rte_mbuf *m)
{
	rte_prefetch0(m);
	rte_prefetch0((char *)m + RTE_CACHE_LINE_SIZE);
	done[(*nd)++] = m;
	if (*nd == FREE_BATCH) {
		tx_free_flush(q, done, *nd);
		*nd = 0;
	}
}

/*
 * The header (12 or 20 bytes, fj_net_hdr_len) may go in the first
 * segment's headroom (one descriptor, VIRTIO_F_VERSION_1 implies
 * ANY_LAYOUT, §5.1.6.6) when that headroom is ours alone to write.
 */
static inline bool
tx_can_push(const struct rte_mbuf *m, uint8_t hdr_len)
{
	return RTE_MBUF_DIRECT(m) && rte_mbuf_refcnt_read(m) == 1 &&
	       rte_pktmbuf_headroom(m) >= hdr_len;
}

/*
 * The header for @m: zero, or with VIRTIO_NET_F_CSUM (§5.1.6.2) and a TCP
 * or UDP checksum asked for in ol_flags, NEEDS_CSUM: the device sums from
 * csum_start (past the L2 and L3 headers) to the end, the field at
 * csum_offset holding the pseudo-header's sum as DPDK's offload API has it.
 * A header that already holds the right bytes (a recycled mbuf's headroom,
 * a slot's own header) is left alone, so its cache line stays clean. The
 * hash fields of a 20-byte header (@hdr_len, VIRTIO_NET_F_HASH_REPORT)
 * are zero on transmit.
 */
static inline void
tx_hdr_fill(void *hdr, const struct rte_mbuf *m, bool csum, uint8_t hdr_len)
{
	struct virtio_net_hdr h = { 0 };
	uint64_t l4 = m->ol_flags & RTE_MBUF_F_TX_L4_MASK;
	bool tso = m->ol_flags & RTE_MBUF_F_TX_TCP_SEG;

	if (csum && (tso || l4 == RTE_MBUF_F_TX_TCP_CKSUM || l4 == RTE_MBUF_F_TX_UDP_CKSUM)) {
		h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h.csum_start = rte_cpu_to_le_16((uint16_t)(m->l2_len + m->l3_len));
		h.csum_offset = rte_cpu_to_le_16(tso || l4 == RTE_MBUF_F_TX_TCP_CKSUM ? 16 : 6);
	}
	/*
	 * TSO (§5.1.6.2, HOST_TSO4/6; tx_tso_check let only enabled ones
	 * through): the device cuts the payload after hdr_len bytes into
	 * gso_size pieces, each with a copy of the headers.
	 */
	if (csum && tso) {
		h.gso_type = m->ol_flags & RTE_MBUF_F_TX_IPV6 ? VIRTIO_NET_HDR_GSO_TCPV6
							      : VIRTIO_NET_HDR_GSO_TCPV4;
		h.hdr_len = rte_cpu_to_le_16((uint16_t)(m->l2_len + m->l3_len + m->l4_len));
		h.gso_size = rte_cpu_to_le_16(m->tso_segsz);
	}
	uint64_t want_lo, have_lo;
	uint32_t want_hi, have_hi;
	memcpy(&want_lo, &h, 8);
	memcpy(&want_hi, (const char *)&h + 8, 4);
	memcpy(&have_lo, hdr, 8);
	memcpy(&have_hi, (const char *)hdr + 8, 4);
	if (have_lo != want_lo || have_hi != want_hi)
		memcpy(hdr, &h, VIRTIO_NET_HDR_LEN);
	if (hdr_len > VIRTIO_NET_HDR_LEN) {
		uint64_t hash;
		memcpy(&hash, (const char *)hdr + VIRTIO_NET_HDR_LEN, 8);
		if (hash != 0)
			memset((char *)hdr + VIRTIO_NET_HDR_LEN, 0, 8);
	}
}

/*
 * Write the header in front of the frame and return the device address
 * where header and first segment start.
 */
static inline uint64_t
tx_push_hdr(uint16_t addr_off, struct rte_mbuf *m, bool csum, uint8_t hdr_len)
{
	tx_hdr_fill(rte_pktmbuf_mtod_offset(m, void *, -(int)hdr_len), m, csum, hdr_len);
	return mbuf_dev_addr(addr_off, m) + m->data_off - hdr_len;
}

/*
 * RX buffers come raw from the mempool (no per-mbuf reset at refill: that
 * would touch each mbuf's second cache line). A pool hands out mbufs with
 * refcnt 1, nb_segs 1 and next NULL; the rest is set once, on receive.
 */
static inline void
rx_mbuf_init(uint16_t port, struct rte_mbuf *m, uint16_t data_off, uint32_t len)
{
	m->data_off = data_off;
	m->port = port;
	m->ol_flags = 0;
	m->packet_type = 0;
	m->vlan_tci = 0;
	m->vlan_tci_outer = 0;
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
}

/*
 * The virtio-net header the device wrote in front of an rx buffer's frame;
 * its first 12 bytes have the same layout at either length (§5.1.6).
 */
static inline const struct virtio_net_hdr *
rx_hdr(const struct rte_mbuf *m, uint8_t hdr_len)
{
	return (const struct virtio_net_hdr *)((const char *)m->buf_addr + RTE_PKTMBUF_HEADROOM -
					       hdr_len);
}

/*
 * With VIRTIO_NET_F_HASH_REPORT, the hash the device computed for the
 * packet (§5.1.6.4.3) goes to mbuf->hash.rss, flagged, when hash_report
 * names a known type: NONE (no hash type applied) and values beyond the
 * known ones leave the mbuf without a hash.
 */
static inline void
rx_hash(const struct fj_rxq *q, struct rte_mbuf *m)
{
	if (!q->hash_report)
		return;
	const struct virtio_net_hdr_v1_hash *h =
		(const struct virtio_net_hdr_v1_hash *)rx_hdr(m, q->hdr_len);
	uint16_t report = rte_le_to_cpu_16(h->hash_report);
	if (report == VIRTIO_NET_HASH_REPORT_NONE || report > VIRTIO_NET_HASH_REPORT_UDPv6_EX)
		return;
	m->hash.rss = rte_le_to_cpu_32(h->hash_value);
	m->ol_flags |= RTE_MBUF_F_RX_RSS_HASH;
}

/*
 * How many descriptors a reclaim frees at most: about what the burst needs.
 * Taking back everything the device has used at once (up to a ring's worth)
 * would return more mbufs than the lcore's mempool cache holds, so they
 * would cycle through the whole pool and come back cold; a burst's worth
 * keeps the working set small and warm.
 */
static inline uint16_t
tx_reclaim_budget(const struct fj_txq *q, uint16_t n)
{
	return RTE_MAX(n, q->free_thresh);
}

enum tx_room { TX_FITS, TX_FULL, TX_DROP };

/*
 * A packet asking for TSO (RTE_MBUF_F_TX_TCP_SEG) is sent only when the
 * queue segments its IP version and its fields make sense: a segment size,
 * a TCP header of 20 to 60 bytes, all headers in the first segment (the
 * device copies them into every piece, and the checksum fix below writes
 * there), and not more than a 64 KiB IP datagram. Anything else would
 * reach the wire as one oversized frame: dropped, counted.
 */
static inline bool
tx_tso_check(struct fj_txq *q, const struct rte_mbuf *m)
{
	uint8_t v = m->ol_flags & RTE_MBUF_F_TX_IPV6 ? FJ_GSO_V6 : FJ_GSO_V4;
	uint32_t hdrs = (uint32_t)m->l2_len + m->l3_len + m->l4_len;
	uint32_t ip_max = v == FJ_GSO_V6 ? UINT16_MAX + 40 : UINT16_MAX;

	if (likely((q->gso & v) && m->tso_segsz != 0 && m->l3_len >= 20 && m->l4_len >= 20 &&
		   m->l4_len <= 60 && hdrs <= m->data_len && m->pkt_len - m->l2_len <= ip_max))
		return true;
	q->st.bad_tso++;
	return false;
}

/*
 * DPDK's TSO convention leaves the TCP length out of the pseudo-header sum
 * in the checksum field (the length of each piece differs); a virtio device
 * expects the sum of the pseudo-header as for the whole packet (§5.1.6.2:
 * replacing the field by the checksum of header and body gives the right
 * result) and adjusts it per piece, as Linux does. Add the length once,
 * as the packet is committed to the ring.
 */
static inline void
tx_tso_fix_cksum(struct rte_mbuf *m)
{
	uint8_t *field = rte_pktmbuf_mtod_offset(m, uint8_t *, m->l2_len + m->l3_len + 16);
	uint16_t old, len = rte_cpu_to_be_16((uint16_t)(m->pkt_len - m->l2_len - m->l3_len));

	/* One's complement sums are the same in either byte order (RFC 1071 §2(B)). */
	memcpy(&old, field, 2);
	uint32_t sum = (uint32_t)old + len;
	sum = (sum & 0xffff) + (sum >> 16);
	uint16_t fixed = (uint16_t)sum;
	memcpy(field, &fixed, 2);
}

/*
 * After a reclaim: does a packet needing @need descriptors fit in @nfree?
 * A chain longer than the whole ring never will: it is dropped, counted.
 */
static inline enum tx_room
tx_room(struct fj_txq *q, uint16_t need, uint16_t nfree, uint16_t num)
{
	if (unlikely(q->broken))
		return TX_FULL;
	if (need <= nfree)
		return TX_FITS;
	if (need > num) {
		q->st.too_many_segs++;
		return TX_DROP;
	}
	q->st.ring_full++;
	return TX_FULL;
}

/*
 * Receive checksum offload, §5.1.6.4.1 (only with GUEST_CSUM: otherwise
 * the flags are not the device's to set and are ignored). DATA_VALID: the
 * device checked the checksums. NEEDS_CSUM: the checksum field holds only
 * a partial sum (the packet came from a sender that offloaded it, and its
 * data is intact); an application that takes checksum flags is told so
 * (RTE_MBUF_F_RX_L4_CKSUM_NONE), for any other the checksum is completed
 * here, so a forwarded packet leaves correct. False when csum_start and
 * csum_offset do not point into the frame: the packet is dropped, counted.
 */
static inline bool
rx_csum(struct fj_rxq *q, struct rte_mbuf *m)
{
	if (likely(!q->guest_csum))
		return true;
	const struct virtio_net_hdr *h = rx_hdr(m, q->hdr_len);
	uint8_t flags = h->flags;
	if (!(flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)))
		return true;
	if (!(flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
		if (q->csum_offload)
			m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
		return true;
	}
	uint32_t start = rte_le_to_cpu_16(h->csum_start), off = rte_le_to_cpu_16(h->csum_offset);
	if (unlikely(start + off + 2 > m->data_len)) {
		q->st.bad_csum++;
		return false;
	}
	if (q->csum_offload) {
		m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_NONE;
		return true;
	}
	uint16_t sum;
	if (rte_raw_cksum_mbuf(m, start, m->pkt_len - start, &sum) < 0) {
		q->st.bad_csum++;
		return false;
	}
	sum = (uint16_t)~sum;
	if (sum == 0)
		sum = 0xffff; /* (the same in one's complement; UDP's zero means none) */
	memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, start + off), &sum, 2);
	q->st.csum_done++;
	return true;
}

/*
 * Large received segments, §5.1.6.4 (GUEST_TSO4/6 with mergeable buffers):
 * the device coalesced several TCP segments of gso_size bytes into one,
 * with a partial checksum (NEEDS_CSUM) or a checked one. The mbuf says so
 * as DPDK's LRO does (RTE_MBUF_F_RX_LRO, tso_segsz). A gso_type the queue
 * did not negotiate (a device must not send one, and an application that
 * did not ask for LRO must not see a 64 KiB frame), an unknown one, or a
 * zero segment size is a counted drop.
 */
static inline bool
rx_gso(struct fj_rxq *q, struct rte_mbuf *m)
{
	/* Without GUEST_TSO nor mergeable buffers a frame cannot outgrow its
	 * buffer, and nothing else read the header: leave its line alone. */
	if (likely(q->gso == 0 && !q->mrg_rxbuf))
		return true;
	const struct virtio_net_hdr *h = rx_hdr(m, q->hdr_len);
	uint8_t type = h->gso_type;

	if (likely(type == VIRTIO_NET_HDR_GSO_NONE))
		return true;
	uint16_t size = rte_le_to_cpu_16(h->gso_size);
	uint8_t v = type == VIRTIO_NET_HDR_GSO_TCPV4   ? FJ_GSO_V4
		    : type == VIRTIO_NET_HDR_GSO_TCPV6 ? FJ_GSO_V6
						       : 0;
	if (unlikely(!(q->gso & v) || size == 0)) {
		q->st.bad_gso++;
		return false;
	}
	m->ol_flags |= RTE_MBUF_F_RX_LRO;
	m->tso_segsz = size;
	q->st.lro++;
	return true;
}

/* ------------------------------------------------- rx chain assembly */

/* A used buffer as the device returned it (§2.7.8 used element, §2.8.7). */
struct rx_used {
	uint32_t id;
	uint32_t len;
};

/*
 * A layout's view of its used buffers, in the burst's working ring state
 * @ring: the next used buffer of the packet being assembled, moving past
 * it (false: the device has not marked it used); and the mbuf posted in
 * buffer @id, taken back (NULL: the device does not own @id).
 */
typedef bool (*rx_next_fn)(void *ring, struct rx_used *u);
typedef struct rte_mbuf *(*rx_take_fn)(struct fj_rxq *q, void *ring, uint32_t id);

/*
 * How many buffers the packet in @head spans (§5.1.6.4): 1 without
 * VIRTIO_NET_F_MRG_RXBUF, else num_buffers, which is at least 1 and cannot
 * exceed the ring. 0: an impossible count; the head is freed and counted.
 */
static __rte_always_inline uint16_t
rx_num_buffers(struct fj_rxq *q, struct rte_mbuf *head, uint16_t num)
{
	if (!q->mrg_rxbuf)
		return 1;
	uint16_t nbuf = __atomic_load_n(&rx_hdr(head, q->hdr_len)->num_buffers, __ATOMIC_RELAXED);
	if (unlikely(nbuf == 0 || nbuf > num)) {
		q->st.bad_len++;
		rte_pktmbuf_free(head);
		return 0;
	}
	return nbuf;
}

static __rte_always_inline bool
rx_len_bad(const struct fj_rxq *q, uint32_t len, uint32_t min)
{
	return len < min || len > q->buf_room;
}

/*
 * One packet, from its head buffer (@len bytes, header included) and the
 * @nbuf - 1 buffers that follow it: chained, its checksum seen to, and
 * filtered. Returns the packet to deliver, or NULL when it was dropped
 * (counted; when the device broke the ring, q->broken is set too and the
 * burst ends there).
 *
 * Counting rule, both layouts: a packet the device gave an impossible
 * length (the frame, any of its buffers, or buffers it never marked used)
 * counts once in bad_len however many of its buffers were wrong, as the
 * packet counts once in ierrors (rx_q<N>_bad_length_errors in xstats);
 * an id the device does not own counts in bad_id and stops the queue.
 */
static __rte_always_inline struct rte_mbuf *
rx_packet(struct fj_rxq *q, void *ring, struct rte_mbuf *head, uint32_t len, uint16_t nbuf,
	  rx_next_fn next, rx_take_fn take)
{
	uint8_t hdr_len = q->hdr_len;
	bool bad = rx_len_bad(q, len, (uint32_t)hdr_len + RTE_ETHER_HDR_LEN);

	if (likely(!bad))
		rx_mbuf_init(q->port_id, head, RTE_PKTMBUF_HEADROOM, len - hdr_len);
	if (unlikely(nbuf > 1)) {
		bool stop = false; /* the queue broke (q->broken, kept in a register) */
		struct rte_mbuf *tail = head;

		for (uint16_t j = 1; j < nbuf; j++) {
			/* §5.1.6.4: later buffers hold frame data only, no header. */
			struct rx_used s;
			struct rte_mbuf *m;

			if (unlikely(!next(ring, &s))) {
				bad = stop = true;
				rx_ring_broken(q);
				break;
			}
			m = take(q, ring, s.id);
			if (unlikely(m == NULL)) {
				q->st.bad_id++;
				rx_ring_broken(q);
				stop = true;
				break;
			}
			if (unlikely(rx_len_bad(q, s.len, 1))) {
				rte_pktmbuf_free(m);
				bad = true;
				continue;
			}
			rx_mbuf_init(q->port_id, m, (uint16_t)(RTE_PKTMBUF_HEADROOM - hdr_len), s.len);
			tail->next = m;
			tail = m;
			head->pkt_len += s.len;
			head->nb_segs++;
			q->st.merged_segs++;
		}
		if (unlikely(stop)) {
			q->st.bad_len += bad;
			rte_pktmbuf_free(head);
			return NULL;
		}
	}
	if (unlikely(bad)) {
		q->st.bad_len++;
		rte_pktmbuf_free(head);
		return NULL;
	}
	if (unlikely(!rx_gso(q, head) || !rx_csum(q, head))) {
		rte_pktmbuf_free(head);
		return NULL;
	}
	if (unlikely(q->filter) && !rx_wanted(q, head)) {
		q->st.filtered++;
		rte_pktmbuf_free(head);
		return NULL;
	}
	rx_hash(q, head);
	return head;
}

/* ------------------------------------------------------- tx burst loop */

/*
 * A layout's tx ring, in the burst's working ring state @ring: take back
 * about @budget used descriptors; make packet @m available in @need
 * descriptors (its header pushed into headroom when @push) and return the
 * id its slot in q->sw goes by; publish what was made available and say
 * whether the device wants a notification.
 */
/* Returns how many packets (chains) it gave back. */
typedef uint32_t (*tx_reclaim_fn)(struct fj_txq *q, void *ring, uint16_t budget);
typedef uint16_t (*tx_put_fn)(struct fj_txq *q, void *ring, struct rte_mbuf *m, bool push,
			      uint16_t need);
typedef bool (*tx_publish_fn)(void *ring);

/*
 * The first descriptor of a chain (§5.1.6.6, VIRTIO_F_VERSION_1 implies
 * ANY_LAYOUT): the header pushed into the first segment's headroom and
 * sent with it, or the header slot @hdr_slot of the queue on its own.
 * Sets @len and the first segment still to describe.
 */
static __rte_always_inline uint64_t
tx_chain_head(struct fj_txq *q, struct rte_mbuf *m, bool push, uint16_t hdr_slot,
	      uint32_t *len, struct rte_mbuf **seg)
{
	if (push) {
		*len = (uint32_t)m->data_len + q->hdr_len;
		*seg = m->next;
		return tx_push_hdr(q->addr_off, m, q->csum, q->hdr_len);
	}
	tx_hdr_fill(q->hdr_va + (size_t)hdr_slot * VIRTIO_NET_HDR_MAX_LEN, m, q->csum, q->hdr_len);
	q->st.hdr_desc++;
	*len = q->hdr_len;
	*seg = m;
	return q->hdr_base + (uint64_t)hdr_slot * VIRTIO_NET_HDR_MAX_LEN;
}

/*
 * The burst: reclaim when short of descriptors, then each packet as it
 * fits; a packet that never fits is dropped and counted (tx_room). @nfree
 * points at the working ring's free descriptor count, @num is its size.
 * Returns how many of @pkts were taken (sent or dropped).
 */
static __rte_always_inline uint16_t
tx_burst(struct fj_txq *q, void *ring, const uint16_t *nfree, uint16_t num,
	 struct rte_mbuf **pkts, uint16_t n, tx_reclaim_fn reclaim, tx_put_fn put,
	 tx_publish_fn publish)
{
	uint64_t bytes = 0;
	uint16_t i, pushed = 0;

	if (*nfree < q->free_thresh) {
		reclaim(q, ring, tx_reclaim_budget(q, n));
		if (unlikely(q->broken))
			return 0;
	}
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		bool tso = m->ol_flags & RTE_MBUF_F_TX_TCP_SEG;
		if (unlikely(tso) && !tx_tso_check(q, m)) {
			rte_pktmbuf_free(m);
			continue;
		}
		bool push = tx_can_push(m, q->hdr_len);
		uint16_t need = (uint16_t)(m->nb_segs + !push);

		if (unlikely(need > *nfree)) {
			reclaim(q, ring, tx_reclaim_budget(q, (uint16_t)(n - i + need)));
			enum tx_room r = tx_room(q, need, *nfree, num);
			if (r == TX_FULL)
				break;
			if (r == TX_DROP) {
				rte_pktmbuf_free(m);
				continue;
			}
		}
		if (unlikely(tso)) {
			tx_tso_fix_cksum(m);
			q->st.tso++;
		}
		uint16_t id = put(q, ring, m, push, need);
		q->sw[id].m = m;
		q->sw[id].ndesc = need;
		bytes += m->pkt_len;
		pushed++;
	}
	if (likely(pushed != 0) && publish(ring))
		fj_kick(&q->notify, &q->st.kicks);
	q->st.packets += pushed;
	q->st.bytes += bytes;
	return i;
}

#endif
