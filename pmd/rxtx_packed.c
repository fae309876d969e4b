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
					     VIRTIO_NET_HDR_LEN,
				     q->buf_room, id, VRING_DESC_F_WRITE, NULL);
		}
		posted = (uint16_t)(posted + n);
	}
	if (posted != 0 && live && fj_pring_need_notify(pr)) {
		q->notify.fn(&q->notify);
		q->st.kicks++;
	}
}

/* The mbuf of buffer @id, taken back; NULL if the device does not own it. */
static inline struct rte_mbuf *
rx_take_packed(struct fj_rxq *q, struct fj_pring *pr, uint32_t id)
{
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

	if (unlikely(q->broken))
		return 0;
	while (nb_rx < n && fj_pring_is_used(pr, pr->used_idx, pr->used_wrap)) {
		const struct vring_packed_desc *d = &pr->desc[pr->used_idx];
		uint16_t id = d->id;
		uint32_t len = d->len;
		struct rte_mbuf *head = rx_take_packed(q, pr, id);
		uint16_t nbuf = 1;

		if (unlikely(head == NULL)) {
			q->st.bad_id++;
			rx_ring_broken(q);
			break;
		}
		if (q->mrg_rxbuf) {
			const struct virtio_net_hdr *h = rx_hdr(head);
			nbuf = __atomic_load_n(&h->num_buffers, __ATOMIC_RELAXED);
			if (unlikely(nbuf == 0 || nbuf > pr->num)) {
				q->st.bad_len++;
				rte_pktmbuf_free(head);
				fj_pring_used_advance(pr, 1);
				continue;
			}
			/*
			 * §2.8.17: the device marks a request's first buffer
			 * used after the others, so they must all be there.
			 */
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
		bool bad = len < VIRTIO_NET_HDR_LEN + RTE_ETHER_HDR_LEN || len > q->buf_room;
		if (!bad) {
			rx_mbuf_init(q->port_id, head, RTE_PKTMBUF_HEADROOM, len - VIRTIO_NET_HDR_LEN);
		}
		struct rte_mbuf *tail = head;
		for (uint16_t j = 1; j < nbuf; j++) {
			if (unlikely(!fj_pring_is_used(pr, pr->used_idx, pr->used_wrap))) {
				q->st.bad_len++;
				rx_ring_broken(q);
				bad = true;
				break;
			}
			const struct vring_packed_desc *s = &pr->desc[pr->used_idx];
			uint32_t slen = s->len;
			struct rte_mbuf *m = rx_take_packed(q, pr, s->id);

			fj_pring_used_advance(pr, 1);
			if (unlikely(m == NULL)) {
				q->st.bad_id++;
				rx_ring_broken(q);
				bad = true;
				break;
			}
			if (unlikely(slen == 0 || slen > q->buf_room)) {
				rte_pktmbuf_free(m);
				bad = true;
				continue;
			}
			rx_mbuf_init(q->port_id, m, RTE_PKTMBUF_HEADROOM - VIRTIO_NET_HDR_LEN, slen);
			tail->next = m;
			tail = m;
			head->pkt_len += slen;
			head->nb_segs++;
			q->st.merged_segs++;
		}
		if (unlikely(bad)) {
			q->st.bad_len += !q->broken;
			rte_pktmbuf_free(head);
			if (q->broken)
				break;
			continue;
		}
		if (unlikely(!rx_csum(q, head))) {
			rte_pktmbuf_free(head);
			continue;
		}
		if (unlikely(q->filter) && !rx_wanted(q, head)) {
			q->st.filtered++;
			rte_pktmbuf_free(head);
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

int
fj_rxq_start_packed(struct fj_rxq *q)
{
	int rc = fj_pring_init(&q->pr, q->mz->addr, &q->play, q->nb_desc, q->link);

	if (rc < 0)
		return rc;
	q->mrg_rxbuf = (q->dev->features & FJ_BIT(VIRTIO_NET_F_MRG_RXBUF)) != 0;
	q->broken = false;
	q->filter = !q->dev->promisc;
	q->allmulti = q->dev->allmulti;
	q->mac = q->dev->mac;
	memset(q->sw, 0, sizeof(*q->sw) * q->nb_desc);
	rx_refill_packed(q, &q->pr, false);
	if (q->pr.nfree != 0) {
		FJ_PMD_LOG(ERR, "port %u rxq %u: mempool %s cannot fill %u descriptors",
		           q->port_id, q->queue_id, q->mp->name, q->nb_desc);
		fj_rxq_drain(q);
		return -ENOMEM;
	}
	return 0;
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
static inline void
tx_reclaim_packed(struct fj_txq *q, struct fj_pring *pr, uint16_t budget)
{
	struct rte_mbuf *done[FREE_BATCH];
	unsigned int nd = 0;
	uint16_t goal = (uint16_t)RTE_MIN((uint32_t)pr->nfree + budget, (uint32_t)pr->num);

	while (pr->nfree < goal && fj_pring_is_used(pr, pr->used_idx, pr->used_wrap)) {
		uint16_t id = pr->desc[pr->used_idx].id;

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
			} while (x != id);
		} else {
			tx_retire(q, pr, done, &nd, id);
			fj_pring_id_put(pr, id);
		}
	}
out:
	tx_free_flush(q, done, nd);
}

uint16_t
fj_tx_burst_packed(void *txq, struct rte_mbuf **pkts, uint16_t n)
{
	struct fj_txq *q = txq;
	/* A register copy of the ring state, as in the split burst. */
	struct fj_pring p = q->pr;
	struct fj_pring *pr = &p;
	const uint16_t addr_off = q->addr_off;
	uint64_t bytes = 0;
	uint16_t i = 0, pushed = 0;

	if (unlikely(q->broken))
		return 0;
	if (pr->nfree < q->free_thresh) {
		tx_reclaim_packed(q, pr, tx_reclaim_budget(q, n));
		if (unlikely(q->broken))
			goto out;
	}

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		bool push = tx_can_push(m);
		uint16_t need = (uint16_t)(m->nb_segs + !push);

		/* Buffers in flight never outnumber descriptors: a free
		 * descriptor means a free buffer id too. */
		if (unlikely(need > pr->nfree)) {
			tx_reclaim_packed(q, pr, tx_reclaim_budget(q, (uint16_t)(n - i + need)));
			enum tx_room r = tx_room(q, need, pr->nfree, pr->num);
			if (r == TX_FULL)
				break;
			if (r == TX_DROP) {
				rte_pktmbuf_free(m);
				continue;
			}
		}
		uint16_t id = q->in_order ? pr->avail_idx : fj_pring_id_get(pr);

		if (likely(need == 1)) {
			fj_pring_put(pr, tx_push_hdr(addr_off, m, q->csum),
				     (uint32_t)m->data_len + VIRTIO_NET_HDR_LEN, id, 0, NULL);
		} else {
			/* §2.8.6: the head goes live after the rest of the chain. */
			uint16_t head_flags, head_slot;
			struct rte_mbuf *seg = m;
			uint16_t left = need;

			if (push) {
				head_slot = fj_pring_put(pr, tx_push_hdr(addr_off, m, q->csum),
							 (uint32_t)m->data_len + VIRTIO_NET_HDR_LEN, id,
							 VRING_DESC_F_NEXT, &head_flags);
				seg = m->next;
			} else {
				tx_hdr_fill(q->hdr_va + (size_t)id * VIRTIO_NET_HDR_LEN, m, q->csum);
				head_slot = fj_pring_put(pr, q->hdr_base + (uint64_t)id * VIRTIO_NET_HDR_LEN,
							 VIRTIO_NET_HDR_LEN, id, VRING_DESC_F_NEXT,
							 &head_flags);
				q->st.hdr_desc++;
			}
			for (left--; seg != NULL; seg = seg->next, left--)
				fj_pring_put(pr, mbuf_dev_addr(addr_off, seg) + seg->data_off,
					     seg->data_len, id, left > 1 ? VRING_DESC_F_NEXT : 0, NULL);
			fj_pring_publish_head(pr, head_slot, head_flags);
		}
		q->sw[id].m = m;
		q->sw[id].ndesc = need;
		bytes += m->pkt_len;
		pushed++;
	}
	if (likely(pushed != 0) && fj_pring_need_notify(pr)) {
		q->notify.fn(&q->notify);
		q->st.kicks++;
	}
	q->st.packets += pushed;
	q->st.bytes += bytes;
out:
	q->pr = p;
	return i;
}

int
fj_txq_start_packed(struct fj_txq *q)
{
	int rc = fj_pring_init(&q->pr, q->mz->addr, &q->play, q->nb_desc, q->link);

	if (rc < 0)
		return rc;
	memset((char *)q->mz->addr + q->play.size, 0, (size_t)q->nb_desc * VIRTIO_NET_HDR_LEN);
	memset(q->sw, 0, sizeof(*q->sw) * q->nb_desc);
	q->in_order = (q->dev->features & FJ_BIT(VIRTIO_F_IN_ORDER)) != 0;
	q->broken = false;
	return 0;
}
