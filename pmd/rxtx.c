/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RX and TX bursts over split virtqueues (VIRTIO 1.2 §2.7, §5.1.6). The
 * transport is invisible here: descriptors carry whichever mbuf address the
 * transport's device understands (addr_off), and a kick is a function call.
 */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "fj_pmd.h"
#include "rxtx_common.h"

/* ---------------------------------------------------------------- RX */

/*
 * Post fresh mbufs in every descriptor the device has given back. Each RX
 * buffer is one device-writable descriptor whose length and flags were set
 * once at start, so a refill writes only the address and the avail slot.
 */
static void
rx_refill(struct fj_rxq *q, bool live)
{
	struct fj_vring *vr = &q->vr;
	struct rte_mbuf *fresh[RX_REFILL_BATCH];
	uint16_t posted = 0;

	while (q->refill_count > 0) {
		uint16_t n = RTE_MIN(q->refill_count, (uint16_t)RX_REFILL_BATCH);

		if (unlikely(rte_mempool_get_bulk(q->mp, (void **)fresh, n) != 0)) {
			q->st.nombuf += n;
			break;
		}
		for (uint16_t i = 0; i < n; i++) {
			uint16_t id = q->refill[q->refill_head];
			struct rte_mbuf *m = fresh[i];

			q->refill_head = (uint16_t)((q->refill_head + 1) & vr->mask);
			q->sw[id] = m;
			/* The header lands in headroom, the frame at data_off. */
			vr->desc[id].addr = mbuf_dev_addr(q->addr_off, m) +
					    RTE_PKTMBUF_HEADROOM - VIRTIO_NET_HDR_LEN;
			fj_vring_push_avail(vr, id);
		}
		q->refill_count = (uint16_t)(q->refill_count - n);
		posted = (uint16_t)(posted + n);
	}
	if (posted == 0)
		return;
	fj_vring_publish(vr);
	/* Before the device is live there is nobody to notify. */
	if (live && fj_vring_need_notify(vr)) {
		q->notify.fn(&q->notify);
		q->st.kicks++;
	}
}

/* Take back the mbuf of descriptor @id, or NULL if the device does not own it. */
static inline struct rte_mbuf *
rx_take(struct fj_rxq *q, uint32_t id)
{
	struct fj_vring *vr = &q->vr;
	struct rte_mbuf *m;

	if (unlikely(id >= vr->num))
		return NULL;
	m = q->sw[id];
	if (unlikely(m == NULL))
		return NULL;
	q->sw[id] = NULL;
	q->refill[(q->refill_head + q->refill_count) & vr->mask] = (uint16_t)id;
	q->refill_count++;
	return m;
}

uint16_t
fj_rx_burst(void *rxq, struct rte_mbuf **pkts, uint16_t n)
{
	struct fj_rxq *q = rxq;
	struct fj_vring *vr = &q->vr;
	uint16_t nb_rx = 0;
	uint64_t bytes = 0;
	int pending;
	uint16_t k = 0;

	if (unlikely(q->broken))
		return 0;
	pending = fj_vring_used_pending(vr);
	if (unlikely(pending < 0)) {
		q->st.bad_ring++;
		rx_ring_broken(q);
		return 0;
	}

	while (k < pending && nb_rx < n) {
		struct vring_used_elem e = fj_vring_used_elem(vr, k);
		struct rte_mbuf *head = rx_take(q, e.id);
		uint16_t nbuf = 1;

		if (unlikely(head == NULL)) {
			q->st.bad_id++;
			rx_ring_broken(q);
			break;
		}
		if (q->mrg_rxbuf) {
			const struct virtio_net_hdr *h = rx_hdr(head);
			nbuf = __atomic_load_n(&h->num_buffers, __ATOMIC_RELAXED);
			if (unlikely(nbuf == 0 || nbuf > vr->num)) {
				/* §5.1.6.4: num_buffers is at least 1. */
				q->st.bad_len++;
				rte_pktmbuf_free(head);
				k++;
				continue;
			}
			if (unlikely(k + nbuf > pending)) {
				/*
				 * The rest of this packet is not published yet:
				 * give the head back and wait for it.
				 */
				q->refill_count--;
				q->sw[e.id] = head;
				break;
			}
		}
		k++;
		if (unlikely(e.len < VIRTIO_NET_HDR_LEN + RTE_ETHER_HDR_LEN ||
			     e.len > q->buf_room)) {
			q->st.bad_len++;
			for (uint16_t j = 1; j < nbuf; j++) {
				struct vring_used_elem s = fj_vring_used_elem(vr, k);
				struct rte_mbuf *m = rx_take(q, s.id);
				if (m == NULL) {
					q->st.bad_id++;
					rx_ring_broken(q);
					break;
				}
				rte_pktmbuf_free(m);
				k++;
			}
			rte_pktmbuf_free(head);
			if (q->broken)
				break;
			continue;
		}
		rx_mbuf_init(q->port_id, head, RTE_PKTMBUF_HEADROOM, e.len - VIRTIO_NET_HDR_LEN);

		bool bad = false;
		struct rte_mbuf *tail = head;
		for (uint16_t j = 1; j < nbuf; j++) {
			/* §5.1.6.4: later buffers hold frame data only, no header. */
			struct vring_used_elem s = fj_vring_used_elem(vr, k);
			struct rte_mbuf *m = rx_take(q, s.id);

			if (unlikely(m == NULL)) {
				q->st.bad_id++;
				rx_ring_broken(q);
				bad = true;
				break;
			}
			k++;
			if (unlikely(s.len == 0 || s.len > q->buf_room)) {
				q->st.bad_len++;
				rte_pktmbuf_free(m);
				bad = true;
				continue;
			}
			rx_mbuf_init(q->port_id, m, RTE_PKTMBUF_HEADROOM - VIRTIO_NET_HDR_LEN, s.len);
			tail->next = m;
			tail = m;
			head->pkt_len += s.len;
			head->nb_segs++;
			q->st.merged_segs++;
		}
		if (unlikely(bad)) {
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
	vr->used_seen = (uint16_t)(vr->used_seen + k);
	q->st.packets += nb_rx;
	q->st.bytes += bytes;
	if (q->refill_count >= RX_REFILL_BATCH || (q->refill_count > 0 && nb_rx == 0))
		rx_refill(q, true);
	return nb_rx;
}

int
fj_rxq_start(struct fj_rxq *q)
{
	struct fj_dev *dev = q->dev;
	struct fj_vring *vr = &q->vr;
	int rc;

	rc = fj_vring_init(vr, q->mz->addr, &q->lay, q->nb_desc,
			   (dev->features & FJ_BIT(VIRTIO_F_IN_ORDER)) != 0, q->link);
	if (rc < 0)
		return rc;
	q->mrg_rxbuf = (dev->features & FJ_BIT(VIRTIO_NET_F_MRG_RXBUF)) != 0;
	q->broken = false;
	q->filter = !dev->promisc;
	q->allmulti = dev->allmulti;
	q->mac = dev->mac;
	for (uint16_t i = 0; i < vr->num; i++) {
		vr->desc[i].len = q->buf_room;
		vr->desc[i].flags = VRING_DESC_F_WRITE;
		q->refill[i] = i;
		q->sw[i] = NULL;
	}
	q->refill_head = 0;
	q->refill_count = vr->num;
	rx_refill(q, false);
	if (q->refill_count != 0) {
		FJ_PMD_LOG(ERR, "port %u rxq %u: mempool %s cannot fill %u descriptors",
		           q->port_id, q->queue_id, q->mp->name, vr->num);
		fj_rxq_drain(q);
		return -ENOMEM;
	}
	return 0;
}

void
fj_rxq_drain(struct fj_rxq *q)
{
	for (uint16_t i = 0; i < q->nb_desc; i++) {
		if (q->sw[i] != NULL) {
			rte_pktmbuf_free(q->sw[i]);
			q->sw[i] = NULL;
		}
	}
	q->refill_count = 0;
}

/* ---------------------------------------------------------------- TX */

/*
 * Reclaim what the device has consumed (§2.7.8), about @budget descriptors
 * (whole used entries, so possibly a little more), freeing mbufs in bulk.
 * @vr is the burst's working copy of the ring state.
 */
static inline void
tx_reclaim(struct fj_txq *q, struct fj_vring *vr, uint16_t budget)
{
	struct rte_mbuf *done[FREE_BATCH];
	unsigned int nd = 0;
	int pending = fj_vring_used_pending(vr);
	uint32_t freed = 0;
	uint16_t k;

	if (pending <= 0) {
		if (unlikely(pending < 0)) {
			q->st.bad_ring++;
			tx_ring_broken(q);
		}
		return;
	}
	if (vr->in_order) {
		/*
		 * §2.7.9: with IN_ORDER, buffers complete in the order they
		 * were made available, and a device may write one used entry
		 * for a batch: an entry says everything up to and including
		 * its chain is done.
		 */
		for (k = 0; k < pending && freed < budget; k++) {
			uint32_t last = fj_vring_used_elem(vr, k).id;
			uint16_t h = q->clean_head;

			if (unlikely(last >= vr->num || q->sw[last].m == NULL)) {
				q->st.bad_id++;
				tx_ring_broken(q);
				break;
			}
			/*
			 * Descriptors clean_head .. end of @last's chain are
			 * free; only chain heads carry an mbuf. Walking ids (not
			 * chain lengths) keeps the loop free of load-to-address
			 * dependencies.
			 */
			uint16_t count = (uint16_t)(((last - h) & vr->mask) + q->sw[last].ndesc);
			for (uint16_t j = 0; j < count; j++) {
				struct fj_tx_slot *s = &q->sw[(h + j) & vr->mask];

				if (s->m != NULL) {
					tx_done(q, done, &nd, s->m);
					s->m = NULL;
				}
			}
			q->clean_head = (uint16_t)((h + count) & vr->mask);
			vr->nfree = (uint16_t)(vr->nfree + count);
			freed += count;
		}
	} else {
		for (k = 0; k < pending && freed < budget; k++) {
			uint32_t id = fj_vring_used_elem(vr, k).id;

			if (unlikely(id >= vr->num || q->sw[id].m == NULL)) {
				q->st.bad_id++;
				tx_ring_broken(q);
				break;
			}
			fj_vring_free_chain(vr, (uint16_t)id, q->sw[id].ndesc);
			tx_done(q, done, &nd, q->sw[id].m);
			q->sw[id].m = NULL;
			freed += q->sw[id].ndesc;
		}
	}
	vr->used_seen = (uint16_t)(vr->used_seen + k);
	tx_free_flush(q, done, nd);
}

/* A chained or shared packet: header descriptor and/or one per segment. */
static inline uint16_t
tx_enqueue_chain(struct fj_txq *q, struct fj_vring *vr, struct rte_mbuf *m, bool push,
		 uint16_t need)
{
	const uint16_t addr_off = q->addr_off;
	uint16_t ids[need];
	struct rte_mbuf *seg = m;
	uint16_t head = fj_vring_alloc_chain(vr, need, ids);

	if (push) {
		vr->desc[ids[0]].addr = tx_push_hdr(addr_off, m, q->csum);
		vr->desc[ids[0]].len = (uint32_t)m->data_len + VIRTIO_NET_HDR_LEN;
		seg = m->next;
	} else {
		/* The descriptor slot's own header. */
		tx_hdr_fill(q->hdr_va + (size_t)head * VIRTIO_NET_HDR_LEN, m, q->csum);
		vr->desc[ids[0]].addr = q->hdr_base + (uint64_t)head * VIRTIO_NET_HDR_LEN;
		vr->desc[ids[0]].len = VIRTIO_NET_HDR_LEN;
		q->st.hdr_desc++;
	}
	for (uint16_t j = 1; seg != NULL; seg = seg->next, j++) {
		vr->desc[ids[j]].addr = mbuf_dev_addr(addr_off, seg) + seg->data_off;
		vr->desc[ids[j]].len = seg->data_len;
	}
	return head;
}

uint16_t
fj_tx_burst(void *txq, struct rte_mbuf **pkts, uint16_t n)
{
	struct fj_txq *q = txq;
	/*
	 * Work on a copy of the ring state: the compiler keeps it in
	 * registers instead of reloading it after every descriptor store.
	 */
	struct fj_vring v = q->vr;
	struct fj_vring *vr = &v;
	const uint16_t addr_off = q->addr_off;
	uint64_t bytes = 0;
	uint16_t i = 0, pushed = 0;

	if (unlikely(q->broken))
		return 0;
	if (vr->nfree < q->free_thresh) {
		tx_reclaim(q, vr, tx_reclaim_budget(q, n));
		if (unlikely(q->broken))
			goto out;
	}

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		bool push = tx_can_push(m);
		uint16_t need = (uint16_t)(m->nb_segs + !push);
		uint16_t head;

		if (unlikely(need > vr->nfree)) {
			tx_reclaim(q, vr, tx_reclaim_budget(q, (uint16_t)(n - i + need)));
			enum tx_room r = tx_room(q, need, vr->nfree, vr->num);
			if (r == TX_FULL)
				break;
			if (r == TX_DROP) {
				rte_pktmbuf_free(m);
				continue;
			}
		}
		if (likely(need == 1)) {
			struct vring_desc *d;

			head = fj_vring_alloc_one(vr);
			d = &vr->desc[head];
			d->addr = tx_push_hdr(addr_off, m, q->csum);
			d->len = (uint32_t)m->data_len + VIRTIO_NET_HDR_LEN;
			d->flags = 0;
		} else {
			head = tx_enqueue_chain(q, vr, m, push, need);
		}
		q->sw[head].m = m;
		q->sw[head].ndesc = need;
		fj_vring_push_avail(vr, head);
		bytes += m->pkt_len;
		pushed++;
	}
	if (likely(pushed != 0)) {
		fj_vring_publish(vr);
		if (fj_vring_need_notify(vr)) {
			q->notify.fn(&q->notify);
			q->st.kicks++;
		}
	}
	q->st.packets += pushed;
	q->st.bytes += bytes;
out:
	q->vr = v;
	return i;
}

int
fj_txq_start(struct fj_txq *q)
{
	struct fj_dev *dev = q->dev;
	int rc = fj_vring_init(&q->vr, q->mz->addr, &q->lay, q->nb_desc,
			       (dev->features & FJ_BIT(VIRTIO_F_IN_ORDER)) != 0, q->link);

	if (rc < 0)
		return rc;
	/* Header slots follow the ring in the same zone, zeroed once here. */
	memset((char *)q->mz->addr + q->lay.size, 0,
	       (size_t)q->nb_desc * VIRTIO_NET_HDR_LEN);
	memset(q->sw, 0, sizeof(*q->sw) * q->nb_desc);
	q->clean_head = 0;
	q->broken = false;
	return 0;
}

void
fj_txq_drain(struct fj_txq *q)
{
	for (uint16_t i = 0; i < q->nb_desc; i++) {
		if (q->sw[i].m != NULL) {
			rte_pktmbuf_free(q->sw[i].m);
			q->sw[i].m = NULL;
		}
	}
}
