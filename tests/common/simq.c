/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <stdlib.h>

#include <rte_memzone.h>

#include "simq.h"

unsigned int simq_kicks;
static unsigned int zone_seq;

static void
count_kick(const struct fj_notify *n)
{
	(void)n;
	simq_kicks++;
}

static const struct rte_memzone *
zone(const char *kind, size_t len)
{
	char name[32];

	snprintf(name, sizeof(name), "simq_%s%u", kind, zone_seq++);
	return rte_memzone_reserve_aligned(name, len, SOCKET_ID_ANY, 0, 4096);
}

struct simq *
simq_new(struct rte_mempool *mp, uint16_t nb, uint64_t features)
{
	struct simq *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->dev.features = FJ_BIT(VIRTIO_F_VERSION_1) | features;
	bool packed = features & FJ_BIT(VIRTIO_F_RING_PACKED);
	for (int i = 0; i < 2; i++)
		s->p_avail_wrap[i] = s->p_used_wrap[i] = true; /* §2.8.1 */
	s->dev.promisc = true;
	s->dev.mac = (struct rte_ether_addr){ { 0x02, 0, 0, 0, 0, 0x01 } };

	struct fj_rxq *r = s->rxq = calloc(1, sizeof(*r));
	struct fj_txq *t = s->txq = calloc(1, sizeof(*t));
	if (r == NULL || t == NULL)
		goto fail;
	r->dev = &s->dev;
	r->nb_desc = nb;
	r->mp = mp;
	r->data_room = rte_pktmbuf_data_room_size(mp) - RTE_PKTMBUF_HEADROOM;
	r->addr_off = offsetof(struct rte_mbuf, buf_addr);
	r->notify.fn = count_kick;
	r->packed = packed;
	r->mz = zone("rx", fj_queue_layout(packed, nb, &r->lay, &r->play));
	r->sw = calloc(nb, sizeof(*r->sw));
	r->refill = calloc(nb, sizeof(uint16_t));
	r->link = calloc(nb, sizeof(uint16_t));
	if (r->mz == NULL || r->sw == NULL || r->refill == NULL || r->link == NULL ||
	    fj_rxq_start(r) != 0)
		goto fail;

	t->dev = &s->dev;
	t->nb_desc = nb;
	t->addr_off = offsetof(struct rte_mbuf, buf_addr);
	t->free_thresh = 32;
	t->notify.fn = count_kick;
	t->packed = packed;
	size_t ring = fj_queue_layout(packed, nb, &t->lay, &t->play);
	t->mz = zone("tx", ring + (size_t)nb * VIRTIO_NET_HDR_MAX_LEN);
	t->sw = calloc(nb, sizeof(*t->sw));
	t->link = calloc(nb, sizeof(uint16_t));
	if (t->mz == NULL || t->sw == NULL || t->link == NULL)
		goto fail;
	t->hdr_base = (uint64_t)(uintptr_t)t->mz->addr + ring;
	t->hdr_va = (uint8_t *)t->mz->addr + ring;
	if (fj_txq_start(t) != 0)
		goto fail;
	simq_kicks = 0;
	return s;
fail:
	simq_free(s);
	return NULL;
}

void
simq_free(struct simq *s)
{
	if (s == NULL)
		return;
	if (s->rxq != NULL) {
		if (s->rxq->sw != NULL)
			fj_rxq_drain(s->rxq);
		rte_memzone_free(s->rxq->mz);
		free(s->rxq->sw);
		free(s->rxq->refill);
		free(s->rxq->link);
		free(s->rxq);
	}
	if (s->txq != NULL) {
		if (s->txq->sw != NULL)
			fj_txq_drain(s->txq);
		rte_memzone_free(s->txq->mz);
		free(s->txq->sw);
		free(s->txq->link);
		free(s->txq);
	}
	free(s);
}

int
simq_next_avail(struct simq *s, bool rx)
{
	struct fj_vring *vr = simq_vr(s, rx);

	if (s->avail_seen[rx] == vr->avail->idx)
		return -1;
	return vr->avail->ring[s->avail_seen[rx]++ & vr->mask];
}

void
simq_used(struct simq *s, bool rx, uint32_t id, uint32_t len, bool publish)
{
	struct fj_vring *vr = simq_vr(s, rx);
	uint16_t at = (uint16_t)(vr->used->idx + s->pending[rx]);

	vr->used->ring[at & vr->mask].id = id;
	vr->used->ring[at & vr->mask].len = len;
	s->pending[rx]++;
	if (publish) {
		vr->used->idx = (uint16_t)(vr->used->idx + s->pending[rx]);
		s->pending[rx] = 0;
	}
}

static struct fj_pring *
simq_pr(struct simq *s, bool rx)
{
	return rx ? &s->rxq->pr : &s->txq->pr;
}

struct vring_packed_desc *
simq_p_next_avail(struct simq *s, bool rx)
{
	struct fj_pring *pr = simq_pr(s, rx);
	struct vring_packed_desc *d = &pr->desc[s->p_avail[rx]];
	bool avail = d->flags & VRING_PACKED_DESC_F_AVAIL;
	bool used = d->flags & VRING_PACKED_DESC_F_USED;

	/* §2.8.1: available when AVAIL matches the wrap counter and USED does not. */
	if (avail != s->p_avail_wrap[rx] || used == s->p_avail_wrap[rx])
		return NULL;
	if (++s->p_avail[rx] == pr->num) {
		s->p_avail[rx] = 0;
		s->p_avail_wrap[rx] = !s->p_avail_wrap[rx];
	}
	return d;
}

void
simq_p_used(struct simq *s, bool rx, uint16_t id, uint32_t len, uint16_t skip)
{
	struct fj_pring *pr = simq_pr(s, rx);
	struct vring_packed_desc *d = &pr->desc[s->p_used[rx]];
	uint16_t f = s->p_used_wrap[rx] ? VRING_PACKED_DESC_F_AVAIL | VRING_PACKED_DESC_F_USED : 0;

	d->id = id;
	d->len = len;
	__atomic_store_n(&d->flags, (uint16_t)(f | (rx ? VRING_DESC_F_WRITE : 0)), __ATOMIC_RELEASE);
	uint32_t next = (uint32_t)s->p_used[rx] + skip;
	while (next >= pr->num) {
		next -= pr->num;
		s->p_used_wrap[rx] = !s->p_used_wrap[rx];
	}
	s->p_used[rx] = (uint16_t)next;
}
