/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RX and TX bursts over packed virtqueues (VIRTIO 1.2 §2.8, §5.1.6): one
 * ring of descriptors the driver makes available and the device marks used
 * in place. Same contract as the split bursts: zero copy, header in
 * headroom, mergeable rx buffers, hostile devices dropped and counted.
 */
#include <string.h>

#include "fj_pmd.h"
#include "rxtx_common.h"

/* ---------------------------------------------------------------- RX */

/* Packed descriptors in one cache line (§2.8.13: 16 bytes each). */
#define PDESC_PER_LINE (RTE_CACHE_LINE_SIZE / sizeof(struct vring_packed_desc))

/*
 * Make fresh buffers available in whole cache lines of descriptors: the
 * device writes used descriptors in place, so a line the driver fills while
 * the device still writes its neighbours would bounce between the cores,
 * and the device (DPDK's vhost library, for one) serves aligned groups of
 * four available descriptors on its fast path. The ring's size is a power
 * of two, so avail_idx stays on a line boundary.
 */
static void
rx_refill_packed(struct fj_rxq *q, struct fj_pring *pr, bool live)
{
	struct rte_mbuf *fresh[RX_REFILL_BATCH];
	uint16_t posted = 0;
	uint16_t room = RTE_MIN(pr->id_count, pr->nfree);

	if (live) {
		uint16_t past = (uint16_t)((pr->avail_idx + room) % PDESC_PER_LINE);
		room = past <= room ? (uint16_t)(room - past) : 0;
	}
	while (room > 0) {
		uint16_t n = RTE_MIN(room, (uint16_t)RX_REFILL_BATCH);

		if (unlikely(rte_mempool_get_bulk(q->mp, (void **)fresh, n) != 0)) {
			q->st.nombuf += n;
			break;
		}
		room = (uint16_t)(room - n);
		for (uint16_t i = 0; i < n; i++) {
			uint16_t id = fj_pring_id_get(pr);

			q->sw[id] = fresh[i];
			fj_pring_put(pr, mbuf_dev_addr(q->addr_off, fresh[i]) + RTE_PKTMBUF_HEADROOM -
					     q->hdr_len,
				     q->buf_room, id, VRING_DESC_F_WRITE, NULL);
		}
		posted = (uint16_t)(posted + n);
	}
	if (posted != 0 && live && fj_pring_need_notify(pr))
		fj_kick(&q->notify, &q->st.kicks);
}

/* The mbuf of buffer @id, taken back; NULL if the device does not own it. */
static __rte_always_inline struct rte_mbuf *
rx_take_packed(struct fj_rxq *q, void *ring, uint32_t id)
{
	struct fj_pring *pr = ring;
	struct rte_mbuf *m;

	if (unlikely(id >= pr->num))
		return NULL;
	m = q->sw[id];
	if (unlikely(m == NULL))
		return NULL;
	q->sw[id] = NULL;
	fj_pring_id_put(pr, (uint16_t)id);
	return m;
}

/* The used descriptor at the driver's used position, if there is one. */
static __rte_always_inline bool
rx_peek_packed(const struct fj_pring *pr, struct rx_used *u)
{
	struct fj_pused d;

	if (!fj_pring_used_get(pr, pr->used_idx, pr->used_wrap, &d))
		return false;
	u->id = d.id;
	u->len = d.len;
	return true;
}

static __rte_always_inline bool
rx_next_packed(void *ring, struct rx_used *u)
{
	struct fj_pring *pr = ring;

	if (!rx_peek_packed(pr, u))
		return false;
	fj_pring_used_advance(pr, 1);
	return true;
}

/* Slot and wrap counter @k slots after the used position. */
static inline uint16_t
slot_after(const struct fj_pring *pr, uint16_t k, bool *wrap)
{
	uint32_t idx = (uint32_t)pr->used_idx + k;

	*wrap = pr->used_wrap;
	if (idx >= pr->num) {
		idx -= pr->num;
		*wrap = !*wrap;
	}
	return (uint16_t)idx;
}

uint16_t
fj_rx_burst_packed(void *rxq, struct rte_mbuf **pkts, uint16_t n)
{
	struct fj_rxq *q = rxq;
	struct fj_pring p = q->pr;
	struct fj_pring *pr = &p;
	uint16_t nb_rx = 0;
	uint64_t bytes = 0;
	struct rx_used u;

	if (unlikely(q->broken))
		return 0;
	while (nb_rx < n && rx_peek_packed(pr, &u)) {
		struct rte_mbuf *head = rx_take_packed(q, pr, u.id);

		if (unlikely(head == NULL)) {
			q->st.bad_id++;
			rx_ring_broken(q);
			break;
		}
		uint16_t nbuf = rx_num_buffers(q, head, pr->num);
		if (unlikely(nbuf == 0)) {
			fj_pring_used_advance(pr, 1);
			continue;
		}
		/*
		 * §2.8.17: the device marks a request's first buffer used
		 * after the others, so they must all be there.
		 */
		if (nbuf > 1) {
			bool w;
			uint16_t last = slot_after(pr, (uint16_t)(nbuf - 1), &w);
			if (unlikely(!fj_pring_is_used(pr, last, w))) {
				q->st.bad_len++;
				rx_ring_broken(q);
				rte_pktmbuf_free(head);
				break;
			}
		}
		fj_pring_used_advance(pr, 1);
		head = rx_packet(q, pr, head, u.len, nbuf, rx_next_packed, rx_take_packed);
		if (unlikely(head == NULL)) {
			if (q->broken)
				break;
			continue;
		}
		bytes += head->pkt_len;
		pkts[nb_rx++] = head;
	}
	q->st.packets += nb_rx;
	q->st.bytes += bytes;
	if (pr->nfree >= RX_REFILL_BATCH || (pr->nfree >= PDESC_PER_LINE && nb_rx == 0))
		rx_refill_packed(q, pr, true);
	q->pr = p;
	return nb_rx;
}

/* The first fill: every descriptor, not just whole lines of them. */
uint16_t
fj_rxq_fill_packed(struct fj_rxq *q)
{
	rx_refill_packed(q, &q->pr, false);
	return q->pr.nfree;
}

/* ---------------------------------------------------------------- TX */

/*
 * Buffer ids: with VIRTIO_F_IN_ORDER a buffer's id is the slot of its first
 * descriptor. The device hands buffers back in the order they were made
 * available (§2.8.9), so the oldest one in flight always starts at the
 * driver's used position: no free-id list, no record of the order.
 * Without IN_ORDER ids come from the ring's FIFO of free ids.
 */
static inline void
tx_retire(struct fj_txq *q, struct fj_pring *pr, struct rte_mbuf **done, unsigned int *nd,
	  uint16_t id)
{
	struct fj_tx_slot *s = &q->sw[id];

	tx_done(q, done, nd, s->m);
	s->m = NULL;
	fj_pring_used_advance(pr, s->ndesc);
}

/*
 * Take back about @budget descriptors the device has used (whole used
 * descriptors, so possibly a few more). @pr is the burst's working copy of
 * the ring state.
 */
static inline uint32_t
tx_reclaim_packed(struct fj_txq *q, void *ring, uint16_t budget)
{
	struct fj_pring *pr = ring;
	struct rte_mbuf *done[FREE_BATCH];
	unsigned int nd = 0;
	uint32_t pkts = 0;
	uint16_t goal = (uint16_t)RTE_MIN((uint32_t)pr->nfree + budget, (uint32_t)pr->num);
	struct fj_pused u;

	while (pr->nfree < goal && fj_pring_used_get(pr, pr->used_idx, pr->used_wrap, &u)) {
		uint16_t id = u.id;

		if (unlikely(id >= pr->num || q->sw[id].m == NULL)) {
			q->st.bad_id++;
			tx_ring_broken(q);
			break;
		}
		if (q->in_order) {
			/*
			 * §2.8.9: one used descriptor may stand for a batch:
			 * every buffer made available up to @id is done. @id is
			 * in flight, so the walk from the oldest reaches it.
			 */
			uint16_t x;
			do {
				x = pr->used_idx;
				if (unlikely(q->sw[x].m == NULL)) {
					q->st.bad_id++;
					tx_ring_broken(q);
					goto out;
				}
				tx_retire(q, pr, done, &nd, x);
				pkts++;
			} while (x != id);
		} else {
			tx_retire(q, pr, done, &nd, id);
			fj_pring_id_put(pr, id);
			pkts++;
		}
	}
out:
	tx_free_flush(q, done, nd);
	return pkts;
}

/*
 * Buffers in flight never outnumber descriptors: a free descriptor means a
 * free buffer id too.
 */
static __rte_always_inline uint16_t
tx_put_packed(struct fj_txq *q, void *ring, struct rte_mbuf *m, bool push, uint16_t need)
{
	struct fj_pring *pr = ring;
	uint16_t id = q->in_order ? pr->avail_idx : fj_pring_id_get(pr);

	if (likely(need == 1)) {
		fj_pring_put(pr, tx_push_hdr(q->addr_off, m, q->csum, q->hdr_len),
			     (uint32_t)m->data_len + q->hdr_len, id, 0, NULL);
		return id;
	}
	/* §2.8.6: the head goes live after the rest of the chain. */
	uint16_t head_flags, head_slot, left = need;
	struct rte_mbuf *seg;
	uint32_t len;
	uint64_t addr = tx_chain_head(q, m, push, id, &len, &seg);

	head_slot = fj_pring_put(pr, addr, len, id, VRING_DESC_F_NEXT, &head_flags);
	for (left--; seg != NULL; seg = seg->next, left--)
		fj_pring_put(pr, mbuf_dev_addr(q->addr_off, seg) + seg->data_off, seg->data_len, id,
			     left > 1 ? VRING_DESC_F_NEXT : 0, NULL);
	fj_pring_publish_head(pr, head_slot, head_flags);
	return id;
}

/* Descriptors went live one by one (§2.8.21): nothing left to publish. */
static __rte_always_inline bool
tx_publish_packed(void *ring)
{
	return fj_pring_need_notify(ring);
}

uint16_t
fj_tx_burst_packed(void *txq, struct rte_mbuf **pkts, uint16_t n)
{
	struct fj_txq *q = txq;

	if (unlikely(q->broken))
		return 0;
	/* A register copy of the ring state, as in the split burst. */
	struct fj_pring p = q->pr;
	uint16_t i = tx_burst(q, &p, &p.nfree, p.num, pkts, n, tx_reclaim_packed, tx_put_packed,
			      tx_publish_packed);

	q->pr = p;
	return i;
}

/* fj_tx_done_cleanup's packed half: whatever the device has used. */
uint32_t
fj_tx_reclaim_packed_all(struct fj_txq *q)
{
	return tx_reclaim_packed(q, &q->pr, q->pr.num);
}
