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
					    RTE_PKTMBUF_HEADROOM - q->hdr_len;
			fj_vring_push_avail(vr, id);
		}
		q->refill_count = (uint16_t)(q->refill_count - n);
		posted = (uint16_t)(posted + n);
	}
	if (posted == 0)
		return;
	fj_vring_publish(vr);
	/* Before the device is live there is nobody to notify. */
	if (live && fj_vring_need_notify(vr))
		fj_kick(&q->notify, &q->st.kicks);
}

/*
 * Take back the mbuf of descriptor @id, or NULL if the device does not own
 * it; the descriptor joins the refill FIFO. (@ring, the burst's cursor, is
 * not needed: ids index the queue's own arrays.)
 */
static __rte_always_inline struct rte_mbuf *
rx_take(struct fj_rxq *q, void *ring, uint32_t id)
{
	struct fj_vring *vr = &q->vr;
	struct rte_mbuf *m;

	RTE_SET_USED(ring);
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

/* The burst's place in the used ring: @k entries past used_seen. */
struct rx_cursor {
	const struct fj_vring *vr;
	uint16_t k;
};

/* The burst checked that a packet's buffers are all published (§2.7.14). */
static __rte_always_inline bool
rx_next(void *ring, struct rx_used *u)
{
	struct rx_cursor *c = ring;
	struct vring_used_elem e = fj_vring_used_elem(c->vr, c->k);

	c->k++;
	u->id = e.id;
	u->len = e.len;
	return true;
}

uint16_t
fj_rx_burst(void *rxq, struct rte_mbuf **pkts, uint16_t n)
{
	struct fj_rxq *q = rxq;
	struct rx_cursor c = { &q->vr, 0 };
	uint16_t nb_rx = 0;
	uint64_t bytes = 0;
	int pending;

	if (unlikely(q->broken))
		return 0;
	pending = fj_vring_used_pending(&q->vr);
	if (unlikely(pending < 0)) {
		q->st.bad_ring++;
		rx_ring_broken(q);
		return 0;
	}
	while (c.k < pending && nb_rx < n) {
		struct vring_used_elem e = fj_vring_used_elem(c.vr, c.k);
		struct rte_mbuf *head = rx_take(q, &c, e.id);

		if (unlikely(head == NULL)) {
			q->st.bad_id++;
			rx_ring_broken(q);
			break;
		}
		uint16_t nbuf = rx_num_buffers(q, head, c.vr->num);
		if (unlikely(nbuf == 0)) {
			c.k++;
			continue;
		}
		if (unlikely(c.k + nbuf > pending)) {
			/* The rest of this packet is not published yet: give the head back, wait. */
			q->refill_count--;
			q->sw[e.id] = head;
			break;
		}
		c.k++;
		head = rx_packet(q, &c, head, e.len, nbuf, rx_next, rx_take);
		if (unlikely(head == NULL)) {
			if (q->broken)
				break;
			continue;
		}
		bytes += head->pkt_len;
		pkts[nb_rx++] = head;
	}
	q->vr.used_seen = (uint16_t)(q->vr.used_seen + c.k);
	q->st.packets += nb_rx;
	q->st.bytes += bytes;
	if (q->refill_count >= RX_REFILL_BATCH || (q->refill_count > 0 && nb_rx == 0))
		rx_refill(q, true);
	return nb_rx;
}

/*
 * Each rx buffer is one device-writable descriptor of buf_room bytes, set
 * once here; the refill FIFO starts with every descriptor.
 */
uint16_t
fj_rxq_fill(struct fj_rxq *q)
{
	struct fj_vring *vr = &q->vr;

	for (uint16_t i = 0; i < vr->num; i++) {
		vr->desc[i].len = q->buf_room;
		vr->desc[i].flags = VRING_DESC_F_WRITE;
		q->refill[i] = i;
	}
	q->refill_head = 0;
	q->refill_count = vr->num;
	rx_refill(q, false);
	return q->refill_count;
}

/* ---------------------------------------------------------------- TX */

/*
 * Reclaim what the device has consumed (§2.7.8), about @budget descriptors
 * (whole used entries, so possibly a little more), freeing mbufs in bulk.
 * @vr is the burst's working copy of the ring state.
 */
static inline uint32_t
tx_reclaim(struct fj_txq *q, void *ring, uint16_t budget)
{
	struct fj_vring *vr = ring;
	struct rte_mbuf *done[FREE_BATCH];
	unsigned int nd = 0;
	int pending = fj_vring_used_pending(vr);
	uint32_t freed = 0, pkts = 0;
	uint16_t k;

	if (pending <= 0) {
		if (unlikely(pending < 0)) {
			q->st.bad_ring++;
			tx_ring_broken(q);
		}
		return 0;
	}
	if (q->in_order) {
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
					pkts++;
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
			pkts++;
		}
	}
	vr->used_seen = (uint16_t)(vr->used_seen + k);
	tx_free_flush(q, done, nd);
	return pkts;
}

/* A chained or shared packet: header descriptor and/or one per segment. */
static inline uint16_t
tx_enqueue_chain(struct fj_txq *q, struct fj_vring *vr, struct rte_mbuf *m, bool push,
		 uint16_t need)
{
	uint16_t ids[need];
	struct rte_mbuf *seg;
	uint16_t head = fj_vring_alloc_chain(vr, need, ids);

	/* The header slot is the head descriptor's own. */
	vr->desc[ids[0]].addr = tx_chain_head(q, m, push, head, &vr->desc[ids[0]].len, &seg);
	for (uint16_t j = 1; seg != NULL; seg = seg->next, j++) {
		vr->desc[ids[j]].addr = mbuf_dev_addr(q->addr_off, seg) + seg->data_off;
		vr->desc[ids[j]].len = seg->data_len;
	}
	return head;
}

static __rte_always_inline uint16_t
tx_put(struct fj_txq *q, void *ring, struct rte_mbuf *m, bool push, uint16_t need)
{
	struct fj_vring *vr = ring;
	uint16_t head;

	if (likely(need == 1)) {
		struct vring_desc *d;

		head = fj_vring_alloc_one(vr);
		d = &vr->desc[head];
		d->addr = tx_push_hdr(q->addr_off, m, q->csum, q->hdr_len);
		d->len = (uint32_t)m->data_len + q->hdr_len;
		d->flags = 0;
	} else {
		head = tx_enqueue_chain(q, vr, m, push, need);
	}
	fj_vring_push_avail(vr, head);
	return head;
}

static __rte_always_inline bool
tx_publish(void *ring)
{
	struct fj_vring *vr = ring;

	fj_vring_publish(vr);
	return fj_vring_need_notify(vr);
}

uint16_t
fj_tx_burst(void *txq, struct rte_mbuf **pkts, uint16_t n)
{
	struct fj_txq *q = txq;

	if (unlikely(q->broken))
		return 0;
	/*
	 * Work on a copy of the ring state: the compiler keeps it in
	 * registers instead of reloading it after every descriptor store.
	 */
	struct fj_vring v = q->vr;
	uint16_t i = tx_burst(q, &v, &v.nfree, v.num, pkts, n, tx_reclaim, tx_put, tx_publish);

	q->vr = v;
	return i;
}

/*
 * rte_eth_tx_done_cleanup: give back every buffer the device has used, at
 * once. The bursts reclaim only when short of descriptors; an application
 * that holds data back until the port has sent what it has (a stack's
 * per-flow queue limit) asks here. @free_cnt 0 means all; otherwise at
 * least that many packets if the device has used them. Returns the
 * packets freed.
 */
int
fj_tx_done_cleanup(void *txq, uint32_t free_cnt)
{
	struct fj_txq *q = txq;
	uint32_t pkts = 0, want = free_cnt ? free_cnt : UINT32_MAX;

	if (q == NULL)
		return -EINVAL;
	while (!q->broken && pkts < want) {
		uint32_t k = q->packed ? fj_tx_reclaim_packed_all(q) : tx_reclaim(q, &q->vr, q->vr.num);
		if (k == 0)
			break;
		pkts += k;
	}
	return (int)RTE_MIN(pkts, (uint32_t)INT32_MAX);
}
