/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fjord's rx/tx bursts against a scripted device playing the other side of
 * the split rings (VIRTIO 1.2 §2.7, §5.1.6), honest and hostile. EAL runs
 * without hugepages or devices; descriptors carry virtual addresses as over
 * vhost-user.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <netinet/in.h>

#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>
#include <rte_memzone.h>

#include "simq.h"

int fj_logtype;

static struct rte_mempool *mp;

static int
dev_next_avail(struct simq *s, bool rx)
{
	int id = simq_next_avail(s, rx);
	assert_true(id >= 0);
	return id;
}

#define dev_used simq_used

/* Write @len bytes of @frame into rx buffers as a mergeable device would,
 * behind a header like @tmpl (zero if NULL). */
static unsigned int
dev_deliver_hdr(struct simq *s, const uint8_t *frame, uint32_t len, bool publish_all,
		const struct virtio_net_hdr *tmpl)
{
	struct fj_vring *vr = &s->rxq->vr;
	uint32_t room = s->rxq->buf_room;
	uint32_t total = len + VIRTIO_NET_HDR_LEN;
	unsigned int nbuf = (total + room - 1) / room;
	uint32_t off = 0;
	struct virtio_net_hdr *hdr = NULL;

	for (unsigned int b = 0; b < nbuf; b++) {
		uint16_t id = dev_next_avail(s, true);
		struct vring_desc *d = &vr->desc[id];
		uint8_t *buf = (uint8_t *)(uintptr_t)d->addr;
		uint32_t used = 0;

		assert_int_equal(d->flags, VRING_DESC_F_WRITE);
		assert_int_equal(d->len, room);
		if (b == 0) {
			hdr = (struct virtio_net_hdr *)buf;
			memset(hdr, 0, sizeof(*hdr));
			if (tmpl != NULL)
				*hdr = *tmpl;
			used = VIRTIO_NET_HDR_LEN;
		}
		uint32_t n = RTE_MIN(room - used, len - off);
		memcpy(buf + used, frame + off, n);
		off += n;
		dev_used(s, true, id, used + n, publish_all && b == nbuf - 1);
	}
	hdr->num_buffers = (uint16_t)nbuf;
	return nbuf;
}

static unsigned int
dev_deliver(struct simq *s, const uint8_t *frame, uint32_t len, bool publish_all)
{
	return dev_deliver_hdr(s, frame, len, publish_all, NULL);
}

static void
make_frame(uint8_t *f, uint32_t len, uint8_t seed, const uint8_t *dst)
{
	for (uint32_t i = 0; i < len; i++)
		f[i] = (uint8_t)(seed + i * 7);
	memcpy(f, dst, 6);
}

static const uint8_t our_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t other_mac[6] = { 0x02, 0, 0, 0, 0, 0x99 };

static struct simq *
sim_new(uint16_t nb, uint64_t features)
{
	struct simq *s = simq_new(mp, nb, features);
	assert_non_null(s);
	return s;
}

static void
sim_free(struct simq *s)
{
	simq_free(s);
	/* Every mbuf is back: nothing leaked across a queue's life. */
	assert_int_equal(rte_mempool_in_use_count(mp), 0);
}

static void
assert_mbuf_holds(const struct rte_mbuf *m, const uint8_t *frame, uint32_t len)
{
	uint32_t off = 0;
	assert_int_equal(m->pkt_len, len);
	for (const struct rte_mbuf *seg = m; seg != NULL; seg = seg->next) {
		assert_memory_equal(rte_pktmbuf_mtod(seg, const uint8_t *), frame + off, seg->data_len);
		off += seg->data_len;
	}
	assert_int_equal(off, len);
}

/* ------------------------------------------------------------- RX */

static void
test_rx_delivers_frames_byte_for_byte(void **state)
{
	(void)state;
	struct simq *s = sim_new(256, FJ_BIT(VIRTIO_NET_F_MRG_RXBUF));
	uint8_t f[3][1514];
	uint32_t lens[3] = { 60, 1514, 333 };
	struct rte_mbuf *pk[8];

	for (int i = 0; i < 3; i++) {
		make_frame(f[i], lens[i], (uint8_t)i, our_mac);
		dev_deliver(s, f[i], lens[i], true);
	}
	assert_int_equal(fj_rx_burst(s->rxq, pk, 8), 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pk[i]->nb_segs, 1);
		assert_mbuf_holds(pk[i], f[i], lens[i]);
	}
	assert_int_equal(s->rxq->st.packets, 3);
	assert_int_equal(s->rxq->st.bytes, 60 + 1514 + 333);
	rte_pktmbuf_free_bulk(pk, 3);
	sim_free(s);
}

static void
test_rx_merges_the_buffers_of_a_jumbo_frame(void **state)
{
	(void)state;
	struct simq *s = sim_new(256, FJ_BIT(VIRTIO_NET_F_MRG_RXBUF));
	static uint8_t f[9000];
	struct rte_mbuf *pk[4];

	make_frame(f, sizeof(f), 5, our_mac);
	unsigned int nbuf = dev_deliver(s, f, sizeof(f), true);
	assert_true(nbuf >= 5);
	assert_int_equal(fj_rx_burst(s->rxq, pk, 4), 1);
	assert_int_equal(pk[0]->nb_segs, nbuf);
	assert_mbuf_holds(pk[0], f, sizeof(f));
	assert_int_equal(s->rxq->st.merged_segs, nbuf - 1);
	rte_pktmbuf_free(pk[0]);
	sim_free(s);
}

static void
test_rx_waits_for_every_buffer_of_a_merged_frame(void **state)
{
	(void)state;
	struct simq *s = sim_new(256, FJ_BIT(VIRTIO_NET_F_MRG_RXBUF));
	static uint8_t f[5000];
	struct rte_mbuf *pk[4];
	struct fj_vring *vr = &s->rxq->vr;

	make_frame(f, sizeof(f), 9, our_mac);
	dev_deliver(s, f, sizeof(f), false);
	/* Publish only the first used entry of three. */
	vr->used->idx = 1;
	assert_int_equal(fj_rx_burst(s->rxq, pk, 4), 0);
	vr->used->idx = 3;
	s->pending[1] = 0;
	assert_int_equal(fj_rx_burst(s->rxq, pk, 4), 1);
	assert_mbuf_holds(pk[0], f, sizeof(f));
	rte_pktmbuf_free(pk[0]);
	sim_free(s);
}

static void
test_rx_refills_every_buffer_it_hands_up(void **state)
{
	(void)state;
	struct simq *s = sim_new(128, FJ_BIT(VIRTIO_NET_F_MRG_RXBUF));
	uint8_t f[128];
	struct rte_mbuf *pk[32];

	make_frame(f, sizeof(f), 1, our_mac);
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 32; i++)
			dev_deliver(s, f, sizeof(f), true);
		assert_int_equal(fj_rx_burst(s->rxq, pk, 32), 32);
		rte_pktmbuf_free_bulk(pk, 32);
		/* The ring is full again: 128 buffers posted, 128 owned. */
		assert_int_equal((uint16_t)(s->rxq->vr.avail->idx - s->avail_seen[1]), 128);
	}
	/* Only the rx ring's own buffers are out of the pool. */
	assert_int_equal(rte_mempool_in_use_count(mp), 128);
	sim_free(s);
}

static void
test_rx_drops_and_counts_impossible_lengths(void **state)
{
	(void)state;
	struct simq *s = sim_new(64, FJ_BIT(VIRTIO_NET_F_MRG_RXBUF));
	uint8_t f[100];
	struct rte_mbuf *pk[4];
	struct virtio_net_hdr *h;

	make_frame(f, sizeof(f), 1, our_mac);
	/* Longer than the buffer. */
	uint16_t id = dev_next_avail(s, true);
	h = (struct virtio_net_hdr *)(uintptr_t)s->rxq->vr.desc[id].addr;
	h->num_buffers = 1;
	dev_used(s, true, id, s->rxq->buf_room + 1, true);
	/* Shorter than a header plus an Ethernet header. */
	id = dev_next_avail(s, true);
	h = (struct virtio_net_hdr *)(uintptr_t)s->rxq->vr.desc[id].addr;
	h->num_buffers = 1;
	dev_used(s, true, id, 5, true);
	/* num_buffers of zero (§5.1.6.4 requires at least 1). */
	id = dev_next_avail(s, true);
	h = (struct virtio_net_hdr *)(uintptr_t)s->rxq->vr.desc[id].addr;
	h->num_buffers = 0;
	dev_used(s, true, id, 100, true);
	dev_deliver(s, f, sizeof(f), true);
	assert_int_equal(fj_rx_burst(s->rxq, pk, 4), 1);
	assert_mbuf_holds(pk[0], f, sizeof(f));
	assert_int_equal(s->rxq->st.bad_len, 3);
	assert_false(s->rxq->broken);
	rte_pktmbuf_free(pk[0]);
	sim_free(s);
}

static void
test_rx_stops_a_ring_whose_device_returns_ids_it_was_not_given(void **state)
{
	(void)state;
	struct simq *s = sim_new(64, 0);
	struct rte_mbuf *pk[4];

	dev_used(s, true, 5000, 100, true);
	assert_int_equal(fj_rx_burst(s->rxq, pk, 4), 0);
	assert_int_equal(s->rxq->st.bad_id, 1);
	assert_true(s->rxq->broken);
	/* Stays stopped, does not crash. */
	assert_int_equal(fj_rx_burst(s->rxq, pk, 4), 0);
	sim_free(s);
}

static void
test_rx_rejects_the_same_id_returned_twice(void **state)
{
	(void)state;
	struct simq *s = sim_new(64, 0);
	struct rte_mbuf *pk[4];
	uint8_t f[80];

	make_frame(f, sizeof(f), 3, our_mac);
	dev_deliver(s, f, sizeof(f), true);
	uint16_t id = (uint16_t)s->rxq->vr.used->ring[0].id;
	dev_used(s, true, id, 92, true);
	assert_int_equal(fj_rx_burst(s->rxq, pk, 4), 1);
	assert_int_equal(s->rxq->st.bad_id, 1);
	rte_pktmbuf_free(pk[0]);
	sim_free(s);
}

static void
test_rx_used_index_running_past_the_ring_stops_the_queue(void **state)
{
	(void)state;
	struct simq *s = sim_new(64, 0);
	struct rte_mbuf *pk[4];

	s->rxq->vr.used->idx = 1000;
	assert_int_equal(fj_rx_burst(s->rxq, pk, 4), 0);
	assert_int_equal(s->rxq->st.bad_ring, 1);
	assert_true(s->rxq->broken);
	sim_free(s);
}

static void
test_rx_filters_other_hosts_frames_when_not_promiscuous(void **state)
{
	(void)state;
	struct simq *s = sim_new(64, 0);
	struct rte_mbuf *pk[4];
	uint8_t mine[64], other[64], bcast[64], mcast[64];
	const uint8_t bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	const uint8_t mc[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };

	s->rxq->filter = true;
	s->rxq->mac = s->dev.mac;
	make_frame(mine, 64, 1, our_mac);
	make_frame(other, 64, 2, other_mac);
	make_frame(bcast, 64, 3, bc);
	make_frame(mcast, 64, 4, mc);
	dev_deliver(s, other, 64, true);
	dev_deliver(s, mine, 64, true);
	dev_deliver(s, mcast, 64, true);
	dev_deliver(s, bcast, 64, true);
	assert_int_equal(fj_rx_burst(s->rxq, pk, 4), 2);
	assert_mbuf_holds(pk[0], mine, 64);
	assert_mbuf_holds(pk[1], bcast, 64);
	assert_int_equal(s->rxq->st.filtered, 2);
	rte_pktmbuf_free_bulk(pk, 2);
	s->rxq->allmulti = true;
	dev_deliver(s, mcast, 64, true);
	assert_int_equal(fj_rx_burst(s->rxq, pk, 4), 1);
	rte_pktmbuf_free(pk[0]);
	sim_free(s);
}

static void
test_rx_without_mergeable_buffers_ignores_num_buffers(void **state)
{
	(void)state;
	struct simq *s = sim_new(64, 0);
	struct rte_mbuf *pk[4];
	uint8_t f[200];

	make_frame(f, sizeof(f), 8, our_mac);
	dev_deliver(s, f, sizeof(f), true);
	/* A device without MRG_RXBUF need not set num_buffers (§5.1.6.4). */
	struct vring_desc *d = &s->rxq->vr.desc[s->rxq->vr.used->ring[0].id];
	((struct virtio_net_hdr *)(uintptr_t)d->addr)->num_buffers = 77;
	assert_int_equal(fj_rx_burst(s->rxq, pk, 4), 1);
	assert_mbuf_holds(pk[0], f, sizeof(f));
	rte_pktmbuf_free(pk[0]);
	sim_free(s);
}

/* ------------------------------------------------------------- TX */

static struct rte_mbuf *
mk_pkt(uint32_t len, uint8_t seed)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	assert_non_null(p);
	make_frame(p, len, seed, other_mac);
	return m;
}

static void
test_tx_puts_the_header_in_headroom_in_one_descriptor(void **state)
{
	(void)state;
	struct simq *s = sim_new(64, 0);
	struct rte_mbuf *m = mk_pkt(60, 1);
	uint8_t copy[60];

	memcpy(copy, rte_pktmbuf_mtod(m, void *), 60);
	memset(rte_pktmbuf_mtod_offset(m, char *, -12), 0xaa, 12);
	assert_int_equal(fj_tx_burst(s->txq, &m, 1), 1);
	assert_int_equal(s->txq->vr.avail->idx, 1);
	uint16_t id = dev_next_avail(s, false);
	struct vring_desc *d = &s->txq->vr.desc[id];
	assert_int_equal(d->flags, 0);
	assert_int_equal(d->len, 72);
	const uint8_t *buf = (const uint8_t *)(uintptr_t)d->addr;
	static const uint8_t zero[12];
	assert_memory_equal(buf, zero, 12);
	assert_memory_equal(buf + 12, copy, 60);
	assert_int_equal(simq_kicks, 1);
	assert_int_equal(s->txq->st.packets, 1);
	assert_int_equal(s->txq->st.bytes, 60);
	sim_free(s);
}

static void
test_tx_does_not_kick_a_device_that_polls(void **state)
{
	(void)state;
	struct simq *s = sim_new(64, 0);
	struct rte_mbuf *m[4];

	s->txq->vr.used->flags = VRING_USED_F_NO_NOTIFY;
	for (int i = 0; i < 4; i++)
		m[i] = mk_pkt(100, (uint8_t)i);
	assert_int_equal(fj_tx_burst(s->txq, m, 4), 4);
	assert_int_equal(simq_kicks, 0);
	s->txq->vr.used->flags = 0;
	m[0] = mk_pkt(100, 9);
	assert_int_equal(fj_tx_burst(s->txq, m, 1), 1);
	assert_int_equal(simq_kicks, 1);
	sim_free(s);
}

static void
test_tx_chains_one_descriptor_per_segment(void **state)
{
	(void)state;
	struct simq *s = sim_new(64, 0);
	struct rte_mbuf *m = mk_pkt(1000, 1);
	struct rte_mbuf *m2 = mk_pkt(1500, 2);
	struct rte_mbuf *m3 = mk_pkt(7, 3);

	assert_int_equal(rte_pktmbuf_chain(m, m2), 0);
	assert_int_equal(rte_pktmbuf_chain(m, m3), 0);
	assert_int_equal(fj_tx_burst(s->txq, &m, 1), 1);
	uint16_t id = dev_next_avail(s, false);
	struct vring_desc *d = s->txq->vr.desc;
	assert_int_equal(d[id].len, 1012);
	assert_true(d[id].flags & VRING_DESC_F_NEXT);
	uint16_t n1 = d[id].next;
	assert_int_equal(d[n1].len, 1500);
	assert_true(d[n1].flags & VRING_DESC_F_NEXT);
	uint16_t n2 = d[n1].next;
	assert_int_equal(d[n2].len, 7);
	assert_int_equal(d[n2].flags, 0);
	assert_int_equal(s->txq->vr.nfree, 61);
	dev_used(s, false, id, 0, true);
	m = mk_pkt(60, 1);
	/* Completions are reclaimed once free descriptors run low. */
	s->txq->free_thresh = 64;
	assert_int_equal(fj_tx_burst(s->txq, &m, 1), 1);
	assert_int_equal(s->txq->vr.nfree, 63);
	sim_free(s);
}

/*
 * rte_eth_tx_done_cleanup: what the device has used comes back at once,
 * however many descriptors are free; what it has not used stays (an
 * application sees that in its mbufs' reference counts).
 */
static void
test_tx_done_cleanup_frees_what_the_device_used(void **state)
{
	(void)state;
	struct simq *s = sim_new(64, 0);
	struct rte_mbuf *m[4];
	uint16_t id[4];

	for (int i = 0; i < 4; i++)
		m[i] = mk_pkt(100, (uint8_t)i);
	rte_mbuf_refcnt_update(m[3], 1); /* ours too, to watch (shared: a
					  * header descriptor of its own) */
	assert_int_equal(fj_tx_burst(s->txq, m, 4), 4);
	for (int i = 0; i < 4; i++)
		id[i] = (uint16_t)dev_next_avail(s, false);
	/* Plenty free: a burst would not reclaim; nothing used: nothing freed. */
	assert_int_equal(fj_tx_done_cleanup(s->txq, 0), 0);
	dev_used(s, false, id[0], 0, false);
	dev_used(s, false, id[1], 0, false);
	dev_used(s, false, id[2], 0, true);
	assert_int_equal(fj_tx_done_cleanup(s->txq, 0), 3);
	assert_int_equal(s->txq->vr.nfree, 62);
	assert_int_equal(rte_mbuf_refcnt_read(m[3]), 2);
	dev_used(s, false, id[3], 0, true);
	assert_int_equal(fj_tx_done_cleanup(s->txq, 0), 1);
	assert_int_equal(rte_mbuf_refcnt_read(m[3]), 1);
	assert_int_equal(s->txq->vr.nfree, 64);
	rte_pktmbuf_free(m[3]);
	assert_int_equal(fj_tx_done_cleanup(NULL, 0), -EINVAL);
	sim_free(s);
}

static void
test_tx_uses_a_header_descriptor_for_shared_mbufs(void **state)
{
	(void)state;
	struct simq *s = sim_new(64, 0);
	struct rte_mbuf *m = mk_pkt(200, 4);

	rte_mbuf_refcnt_update(m, 1); /* someone else holds it too */
	assert_int_equal(fj_tx_burst(s->txq, &m, 1), 1);
	uint16_t id = dev_next_avail(s, false);
	struct vring_desc *d = s->txq->vr.desc;
	assert_int_equal(d[id].len, 12);
	static const uint8_t zero[12];
	assert_memory_equal((void *)(uintptr_t)d[id].addr, zero, 12);
	assert_int_equal(d[d[id].next].len, 200);
	assert_int_equal(s->txq->st.hdr_desc, 1);
	rte_pktmbuf_free(m); /* our reference */
	sim_free(s);
}

/* ------------------------------------------------- checksum offload */

/* An Ethernet + IPv4 + UDP (or TCP) frame of @plen payload bytes whose L4
 * checksum field holds only the pseudo-header sum, as an offloading sender
 * leaves it; the complete checksum goes to *full. */
static uint32_t
mk_partial(uint8_t *f, bool tcp, uint32_t plen, uint16_t *full)
{
	uint32_t l4len = (tcp ? 20 : 8) + plen, len = 14 + 20 + l4len;
	memset(f, 0, len);
	memcpy(f, our_mac, 6);
	f[12] = 0x08;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + 14);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + l4len));
	ip->time_to_live = 64;
	ip->next_proto_id = tcp ? IPPROTO_TCP : IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(0x0a000001);
	ip->dst_addr = rte_cpu_to_be_32(0x0a000002);
	uint8_t *l4 = f + 34;
	for (uint32_t i = 0; i < plen; i++)
		l4[(tcp ? 20 : 8) + i] = (uint8_t)(i * 13 + 5);
	uint16_t *field = (uint16_t *)(l4 + (tcp ? 16 : 6));
	if (tcp) {
		l4[12] = 5 << 4;
	} else {
		((struct rte_udp_hdr *)l4)->dgram_len = rte_cpu_to_be_16((uint16_t)l4len);
	}
	*field = 0;
	*full = rte_ipv4_udptcp_cksum(ip, l4);
	*field = rte_ipv4_phdr_cksum(ip, 0);
	return len;
}

/* Deliver one frame behind a header with these checksum fields. */
static void
deliver_with_hdr(struct simq *s, const uint8_t *f, uint32_t len, uint8_t flags, uint16_t start,
		 uint16_t off)
{
	struct virtio_net_hdr h = { .flags = flags, .csum_start = start, .csum_offset = off };
	dev_deliver_hdr(s, f, len, true, &h);
}

/* §5.1.6.4.1 for an application that asked for checksum flags: a partial
 * checksum is flagged "none" (data intact, field not final), a checked one
 * "good"; nothing is computed. */
static void
test_rx_csum_flags_for_an_offloading_application(void **state)
{
	(void)state;
	struct simq *s = sim_new(64, FJ_BIT(VIRTIO_NET_F_GUEST_CSUM));
	s->rxq->guest_csum = s->rxq->csum_offload = true;
	uint8_t f[200], orig[200];
	uint16_t full;
	uint32_t len = mk_partial(f, true, 100, &full);
	memcpy(orig, f, len);
	struct rte_mbuf *pk[4];

	deliver_with_hdr(s, f, len, VIRTIO_NET_HDR_F_NEEDS_CSUM, 34, 16);
	deliver_with_hdr(s, f, len, VIRTIO_NET_HDR_F_DATA_VALID, 0, 0);
	deliver_with_hdr(s, f, len, 0, 0, 0);
	assert_int_equal(fj_rx_burst(s->rxq, pk, 4), 3);
	assert_int_equal(pk[0]->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK, RTE_MBUF_F_RX_L4_CKSUM_NONE);
	assert_mbuf_holds(pk[0], orig, len); /* untouched */
	assert_int_equal(pk[1]->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK, RTE_MBUF_F_RX_L4_CKSUM_GOOD);
	assert_int_equal(pk[2]->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK,
			 RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN);
	assert_int_equal(s->rxq->st.csum_done, 0);
	rte_pktmbuf_free_bulk(pk, 3);
	sim_free(s);
}

/* For an application without checksum flags (a forwarder), the partial
 * checksum is completed in place: the packet leaves correct. */
static void
test_rx_completes_partial_checksums_for_other_applications(void **state)
{
	(void)state;
	struct simq *s = sim_new(64, FJ_BIT(VIRTIO_NET_F_GUEST_CSUM));
	s->rxq->guest_csum = true;
	uint8_t f[2][1514];
	uint16_t full[2];
	uint32_t len[2] = { mk_partial(f[0], true, 1000, &full[0]),
			    mk_partial(f[1], false, 333, &full[1]) };
	struct rte_mbuf *pk[4];

	deliver_with_hdr(s, f[0], len[0], VIRTIO_NET_HDR_F_NEEDS_CSUM, 34, 16);
	deliver_with_hdr(s, f[1], len[1], VIRTIO_NET_HDR_F_NEEDS_CSUM, 34, 6);
	assert_int_equal(fj_rx_burst(s->rxq, pk, 4), 2);
	for (int i = 0; i < 2; i++) {
		uint16_t got;
		memcpy(&got, rte_pktmbuf_mtod_offset(pk[i], uint8_t *, 34 + (i == 0 ? 16 : 6)), 2);
		assert_int_equal(got, full[i]);
		assert_int_equal(pk[i]->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK,
				 RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN);
		/* The receiver's own check now passes. */
		const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(pk[i], void *, 14);
		assert_int_equal(rte_ipv4_udptcp_cksum_verify(ip, (const uint8_t *)ip + 20), 0);
	}
	assert_int_equal(s->rxq->st.csum_done, 2);
	rte_pktmbuf_free_bulk(pk, 2);
	sim_free(s);
}

/* A hostile header: csum_start/csum_offset past the frame is a counted
 * drop, never a write outside it; without GUEST_CSUM the flags are not the
 * device's to set and are ignored. */
static void
test_rx_checksum_header_pointing_outside_the_frame_is_dropped(void **state)
{
	(void)state;
	struct simq *s = sim_new(64, FJ_BIT(VIRTIO_NET_F_GUEST_CSUM));
	s->rxq->guest_csum = true;
	uint8_t f[200];
	uint16_t full;
	uint32_t len = mk_partial(f, false, 50, &full);
	struct rte_mbuf *pk[4];

	deliver_with_hdr(s, f, len, VIRTIO_NET_HDR_F_NEEDS_CSUM, (uint16_t)len, 6);
	deliver_with_hdr(s, f, len, VIRTIO_NET_HDR_F_NEEDS_CSUM, 34, 0xffff);
	deliver_with_hdr(s, f, len, VIRTIO_NET_HDR_F_NEEDS_CSUM, (uint16_t)(len - 1), 0);
	deliver_with_hdr(s, f, len, VIRTIO_NET_HDR_F_NEEDS_CSUM, 34, 6);
	assert_int_equal(fj_rx_burst(s->rxq, pk, 4), 1);
	assert_int_equal(s->rxq->st.bad_csum, 3);
	rte_pktmbuf_free(pk[0]);
	sim_free(s);

	s = sim_new(64, 0); /* GUEST_CSUM not negotiated */
	deliver_with_hdr(s, f, len, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0xfff0, 0xfff0);
	assert_int_equal(fj_rx_burst(s->rxq, pk, 4), 1);
	assert_int_equal(pk[0]->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK,
			 RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN);
	assert_int_equal(s->rxq->st.bad_csum, 0);
	rte_pktmbuf_free(pk[0]);
	sim_free(s);
}

/* §5.1.6.2: with VIRTIO_NET_F_CSUM a TCP or UDP checksum asked for in
 * ol_flags becomes NEEDS_CSUM with csum_start past L2+L3, in the headroom
 * header and in a separate header descriptor alike; without it, or without
 * the flag, the header stays zero. */
static void
test_tx_asks_the_device_for_checksums(void **state)
{
	(void)state;
	struct simq *s = sim_new(64, FJ_BIT(VIRTIO_NET_F_CSUM));
	s->txq->csum = true;
	struct rte_mbuf *m[3] = { mk_pkt(100, 1), mk_pkt(100, 2), mk_pkt(100, 3) };
	m[0]->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
	m[1]->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM;
	for (int i = 0; i < 2; i++) {
		m[i]->l2_len = 14;
		m[i]->l3_len = 20;
	}
	rte_mbuf_refcnt_update(m[1], 1); /* shared: a header descriptor */
	assert_int_equal(fj_tx_burst(s->txq, m, 3), 3);
	static const uint8_t zero[12];
	for (int i = 0; i < 3; i++) {
		uint16_t id = dev_next_avail(s, false);
		const struct virtio_net_hdr *h =
			(const void *)(uintptr_t)s->txq->vr.desc[id].addr;
		if (i == 2) {
			assert_memory_equal(h, zero, 12);
			continue;
		}
		assert_int_equal(h->flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
		assert_int_equal(h->csum_start, 34);
		assert_int_equal(h->csum_offset, i == 0 ? 16 : 6);
		assert_int_equal(h->gso_type, 0);
	}
	rte_pktmbuf_free(m[1]); /* our reference */
	sim_free(s);

	s = sim_new(64, 0); /* the device did not take CSUM: no header flags */
	m[0] = mk_pkt(100, 1);
	m[0]->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
	assert_int_equal(fj_tx_burst(s->txq, m, 1), 1);
	uint16_t id = dev_next_avail(s, false);
	assert_memory_equal((void *)(uintptr_t)s->txq->vr.desc[id].addr, zero, 12);
	sim_free(s);
}

/* A TCP/IPv4 segment of @plen payload bytes in one mbuf, asking for TSO
 * with segments of @mss, its checksum field as DPDK has it for TSO (the
 * pseudo-header without the length). */
static struct rte_mbuf *
mk_tso(uint32_t plen, uint16_t mss)
{
	static uint8_t f[RTE_MBUF_DEFAULT_DATAROOM];
	uint16_t full;
	uint32_t len = mk_partial(f, true, plen, &full);
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	assert_non_null(p);
	memcpy(p, f, len);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + 14);
	uint16_t phdr = rte_ipv4_phdr_cksum(ip, RTE_MBUF_F_TX_TCP_SEG);
	memcpy(p + 34 + 16, &phdr, 2);
	m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_TCP_SEG;
	m->l2_len = 14;
	m->l3_len = 20;
	m->l4_len = 20;
	m->tso_segsz = mss;
	return m;
}

/* §5.1.6.2 with HOST_TSO4: a segment asking for TSO goes out with
 * gso_type TCPV4, hdr_len over all headers, gso_size the MSS, and the
 * checksum field holding the pseudo-header sum with the TCP length, as
 * the device (and Linux behind it) adjusts per piece. TSO not enabled for
 * the IP version, a zero MSS or headers outside the first segment: a
 * counted drop. */
static void
test_tx_tso_fills_the_gso_fields(void **state)
{
	(void)state;
	struct simq *s = sim_new(64, FJ_BIT(VIRTIO_NET_F_CSUM) | FJ_BIT(VIRTIO_NET_F_HOST_TSO4));
	s->txq->csum = true;
	assert_int_equal(s->txq->gso, FJ_GSO_V4);
	struct rte_mbuf *m[5] = { mk_tso(1900, 1448), mk_tso(100, 0), mk_tso(1900, 1448),
				  mk_tso(1900, 1448), mk_tso(1000, 536) };
	m[2]->ol_flags = RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_TCP_SEG;
	m[3]->l4_len = 8;
	rte_mbuf_refcnt_update(m[4], 1); /* shared: the header goes in its own descriptor */
	assert_int_equal(fj_tx_burst(s->txq, m, 5), 5);
	assert_int_equal(s->txq->st.bad_tso, 3);
	assert_int_equal(s->txq->st.tso, 2);
	assert_int_equal(s->txq->st.packets, 2);
	for (int i = 0; i < 2; i++) {
		struct rte_mbuf *sent = i == 0 ? m[0] : m[4];
		uint16_t id = dev_next_avail(s, false);
		const struct virtio_net_hdr *h =
			(const void *)(uintptr_t)s->txq->vr.desc[id].addr;
		assert_int_equal(h->flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
		assert_int_equal(h->gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
		assert_int_equal(h->hdr_len, 54);
		assert_int_equal(h->gso_size, i == 0 ? 1448 : 536);
		assert_int_equal(h->csum_start, 34);
		assert_int_equal(h->csum_offset, 16);
		const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(sent, void *, 14);
		uint16_t field, want = rte_ipv4_phdr_cksum(ip, 0);
		memcpy(&field, rte_pktmbuf_mtod_offset(sent, uint8_t *, 50), 2);
		assert_int_equal(field, want);
	}
	rte_pktmbuf_free(m[4]); /* our reference */
	sim_free(s);

	/* Without HOST_TSO negotiated, nothing asking for TSO leaves. */
	s = sim_new(64, FJ_BIT(VIRTIO_NET_F_CSUM));
	s->txq->csum = true;
	m[0] = mk_tso(1900, 1448);
	assert_int_equal(fj_tx_burst(s->txq, m, 1), 1);
	assert_int_equal(s->txq->st.bad_tso, 1);
	assert_int_equal(s->txq->st.packets, 0);
	sim_free(s);
}

/* §5.1.6.4 with GUEST_TSO4 and mergeable buffers: a coalesced segment is
 * handed up as LRO with its segment size; a gso_type not negotiated or
 * unknown, or a zero gso_size, is a counted drop. */
static void
test_rx_large_segments_are_flagged_lro(void **state)
{
	(void)state;
	uint64_t feat = FJ_BIT(VIRTIO_NET_F_MRG_RXBUF) | FJ_BIT(VIRTIO_NET_F_GUEST_CSUM) |
			FJ_BIT(VIRTIO_NET_F_GUEST_TSO4);
	struct simq *s = sim_new(256, feat);
	s->rxq->guest_csum = s->rxq->csum_offload = true;
	assert_int_equal(s->rxq->gso, FJ_GSO_V4);
	static uint8_t f[14 + 20 + 20 + 8000];
	uint16_t full;
	uint32_t len = mk_partial(f, true, 8000, &full);
	struct virtio_net_hdr h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				    .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .hdr_len = 54,
				    .gso_size = 1448, .csum_start = 34, .csum_offset = 16 };
	struct rte_mbuf *pk[8];

	dev_deliver_hdr(s, f, len, true, &h);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6; /* not negotiated */
	dev_deliver_hdr(s, f, len, true, &h);
	h.gso_type = 3; /* UDP: not driven */
	dev_deliver_hdr(s, f, len, true, &h);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h.gso_size = 0;
	dev_deliver_hdr(s, f, len, true, &h);
	assert_int_equal(fj_rx_burst(s->rxq, pk, 8), 1);
	assert_true(pk[0]->ol_flags & RTE_MBUF_F_RX_LRO);
	assert_int_equal(pk[0]->tso_segsz, 1448);
	assert_int_equal(pk[0]->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK, RTE_MBUF_F_RX_L4_CKSUM_NONE);
	assert_mbuf_holds(pk[0], f, len);
	assert_int_equal(s->rxq->st.lro, 1);
	assert_int_equal(s->rxq->st.bad_gso, 3);
	rte_pktmbuf_free(pk[0]);
	sim_free(s);

	/* Without GUEST_TSO the device had no business coalescing. */
	s = sim_new(256, FJ_BIT(VIRTIO_NET_F_MRG_RXBUF) | FJ_BIT(VIRTIO_NET_F_GUEST_CSUM));
	s->rxq->guest_csum = true;
	h.gso_size = 1448;
	dev_deliver_hdr(s, f, len, true, &h);
	h.gso_type = VIRTIO_NET_HDR_GSO_NONE;
	dev_deliver_hdr(s, f, len, true, &h);
	assert_int_equal(fj_rx_burst(s->rxq, pk, 8), 1);
	assert_false(pk[0]->ol_flags & RTE_MBUF_F_RX_LRO);
	assert_int_equal(s->rxq->st.bad_gso, 1);
	rte_pktmbuf_free(pk[0]);
	sim_free(s);
}

static void
test_tx_frees_mbufs_completed_out_of_order(void **state)
{
	(void)state;
	struct simq *s = sim_new(64, 0);
	struct rte_mbuf *m[64];
	uint16_t ids[64];

	for (int i = 0; i < 64; i++)
		m[i] = mk_pkt(64, (uint8_t)i);
	assert_int_equal(fj_tx_burst(s->txq, m, 64), 64);
	for (int i = 0; i < 64; i++)
		ids[i] = dev_next_avail(s, false);
	for (int i = 63; i >= 0; i--)
		dev_used(s, false, ids[i], 0, true);
	m[0] = mk_pkt(64, 1);
	assert_int_equal(fj_tx_burst(s->txq, m, 1), 1);
	/*
	 * A reclaim takes back about a burst's worth (the free threshold),
	 * not all 64: the rest stays until later bursts need room.
	 */
	uint16_t thresh = s->txq->free_thresh;
	assert_int_equal(rte_mempool_in_use_count(mp), s->rxq->nb_desc + 64 - thresh + 1);
	assert_int_equal(s->txq->vr.nfree, thresh - 1);
	for (int round = 0; round < 64 / thresh; round++) {
		s->txq->free_thresh = 64;
		assert_int_equal(fj_tx_burst(s->txq, m, 0), 0);
	}
	/* What is left in use: the rx ring's buffers and the new packet. */
	assert_int_equal(rte_mempool_in_use_count(mp), s->rxq->nb_desc + 1);
	sim_free(s);
}

static void
test_tx_reclaim_takes_back_about_a_burst(void **state)
{
	(void)state;
	struct simq *s = sim_new(256, 0);
	struct rte_mbuf *m[32];

	/* Fill the ring, then let the device complete everything. */
	for (int k = 0; k < 8; k++) {
		for (int i = 0; i < 32; i++)
			m[i] = mk_pkt(64, (uint8_t)i);
		assert_int_equal(fj_tx_burst(s->txq, m, 32), 32);
	}
	for (int i = 0; i < 256; i++)
		dev_used(s, false, dev_next_avail(s, false), 0, true);
	/* Each burst of 32 frees 32 and uses them again: the working set stays small. */
	for (int k = 0; k < 4; k++) {
		for (int i = 0; i < 32; i++)
			m[i] = mk_pkt(64, (uint8_t)i);
		assert_int_equal(fj_tx_burst(s->txq, m, 32), 32);
		assert_true(s->txq->vr.nfree < 32);
		assert_int_equal(rte_mempool_in_use_count(mp), s->rxq->nb_desc + 256);
	}
	sim_free(s);
}

static void
test_tx_in_order_device_may_complete_a_batch_with_one_entry(void **state)
{
	(void)state;
	struct simq *s = sim_new(64, FJ_BIT(VIRTIO_F_IN_ORDER));
	struct rte_mbuf *m[60];
	uint16_t last = 0;

	for (int i = 0; i < 60; i++)
		m[i] = mk_pkt(64, (uint8_t)i);
	assert_int_equal(fj_tx_burst(s->txq, m, 60), 60);
	for (int i = 0; i < 60; i++) {
		last = dev_next_avail(s, false);
		assert_int_equal(last, i); /* §2.7.9: ring order */
	}
	dev_used(s, false, last, 0, true); /* §2.7.9: one entry for the batch */
	m[0] = mk_pkt(64, 1);
	assert_int_equal(fj_tx_burst(s->txq, m, 1), 1);
	assert_int_equal(s->txq->vr.nfree, 63);
	assert_int_equal(rte_mempool_in_use_count(mp), s->rxq->nb_desc + 1);
	sim_free(s);
}

static void
test_tx_stops_at_a_full_ring_and_keeps_the_rest(void **state)
{
	(void)state;
	struct simq *s = sim_new(64, 0);
	struct rte_mbuf *m[70];

	for (int i = 0; i < 70; i++)
		m[i] = mk_pkt(64, (uint8_t)i);
	assert_int_equal(fj_tx_burst(s->txq, m, 70), 64);
	assert_int_equal(s->txq->st.ring_full, 1);
	rte_pktmbuf_free_bulk(m + 64, 6);
	sim_free(s);
}

static void
test_tx_drops_a_chain_longer_than_the_ring(void **state)
{
	(void)state;
	struct simq *s = sim_new(64, 0);
	struct rte_mbuf *m = mk_pkt(10, 0);

	for (int i = 0; i < 70; i++)
		assert_int_equal(rte_pktmbuf_chain(m, mk_pkt(10, (uint8_t)i)), 0);
	assert_int_equal(fj_tx_burst(s->txq, &m, 1), 1);
	assert_int_equal(s->txq->st.too_many_segs, 1);
	assert_int_equal(s->txq->st.packets, 0);
	sim_free(s);
}

static void
test_tx_stops_a_ring_whose_device_completes_unknown_ids(void **state)
{
	(void)state;
	struct simq *s = sim_new(64, 0);
	struct rte_mbuf *m[64];

	for (int i = 0; i < 64; i++)
		m[i] = mk_pkt(64, (uint8_t)i);
	assert_int_equal(fj_tx_burst(s->txq, m, 64), 64);
	dev_used(s, false, 4242, 0, true);
	m[0] = mk_pkt(64, 1);
	assert_int_equal(fj_tx_burst(s->txq, m, 1), 0);
	assert_true(s->txq->broken);
	assert_int_equal(s->txq->st.bad_id, 1);
	rte_pktmbuf_free(m[0]);
	sim_free(s);
}


/* ----------------------------------------------------- packed rings */

#define PACKED FJ_BIT(VIRTIO_F_RING_PACKED)

/* Deliver @frame into packed rx buffers; returns the number of buffers. */
static unsigned int
p_deliver(struct simq *s, const uint8_t *frame, uint32_t len)
{
	uint32_t room = s->rxq->buf_room, off = 0;
	unsigned int nbuf = (len + VIRTIO_NET_HDR_LEN + room - 1) / room;
	struct { uint16_t id; uint32_t n; } used[16];
	struct virtio_net_hdr *hdr = NULL;

	assert_true(nbuf <= 16);
	for (unsigned int b = 0; b < nbuf; b++) {
		struct vring_packed_desc *d = simq_p_next_avail(s, true);
		assert_non_null(d);
		assert_true(d->flags & VRING_DESC_F_WRITE);
		assert_int_equal(d->len, room);
		uint8_t *buf = (uint8_t *)(uintptr_t)d->addr;
		uint32_t at = 0;
		if (b == 0) {
			hdr = (struct virtio_net_hdr *)buf;
			memset(hdr, 0, sizeof(*hdr));
			at = VIRTIO_NET_HDR_LEN;
		}
		uint32_t n = RTE_MIN(room - at, len - off);
		memcpy(buf + at, frame + off, n);
		off += n;
		used[b].id = d->id;
		used[b].n = at + n;
	}
	hdr->num_buffers = (uint16_t)nbuf;
	for (unsigned int b = 0; b < nbuf; b++)
		simq_p_used(s, true, used[b].id, used[b].n, 1);
	return nbuf;
}

static void
test_packed_rx_delivers_and_merges_frames(void **state)
{
	(void)state;
	struct simq *s = sim_new(256, PACKED | FJ_BIT(VIRTIO_NET_F_MRG_RXBUF));
	static uint8_t f[3][9000];
	uint32_t lens[3] = { 60, 9000, 1514 };
	struct rte_mbuf *pk[8];

	for (int round = 0; round < 100; round++) {
		for (int i = 0; i < 3; i++) {
			make_frame(f[i], lens[i], (uint8_t)(i + round), our_mac);
			p_deliver(s, f[i], lens[i]);
		}
		assert_int_equal(fj_rx_burst_packed(s->rxq, pk, 8), 3);
		for (int i = 0; i < 3; i++)
			assert_mbuf_holds(pk[i], f[i], lens[i]);
		assert_true(pk[1]->nb_segs >= 5);
		rte_pktmbuf_free_bulk(pk, 3);
	}
	/* 100 rounds wrapped the 256-slot ring several times. */
	assert_int_equal(s->rxq->st.packets, 300);
	sim_free(s);
}

static void
test_packed_rx_stops_on_an_id_it_did_not_give(void **state)
{
	(void)state;
	struct simq *s = sim_new(64, PACKED);
	struct rte_mbuf *pk[4];

	simq_p_used(s, true, 999, 100, 1);
	assert_int_equal(fj_rx_burst_packed(s->rxq, pk, 4), 0);
	assert_true(s->rxq->broken);
	assert_int_equal(s->rxq->st.bad_id, 1);
	sim_free(s);
}

static void
test_packed_tx_makes_the_chain_head_available_last(void **state)
{
	(void)state;
	struct simq *s = sim_new(64, PACKED);
	struct rte_mbuf *m = mk_pkt(1000, 1);

	assert_int_equal(rte_pktmbuf_chain(m, mk_pkt(500, 2)), 0);
	assert_int_equal(fj_tx_burst_packed(s->txq, &m, 1), 1);
	struct vring_packed_desc *d0 = simq_p_next_avail(s, false);
	struct vring_packed_desc *d1 = simq_p_next_avail(s, false);
	assert_non_null(d0);
	assert_non_null(d1);
	assert_true(d0->flags & VRING_DESC_F_NEXT);
	assert_false(d1->flags & VRING_DESC_F_NEXT);
	assert_int_equal(d0->len, 1012);
	assert_int_equal(d1->len, 500);
	/* §2.8.6: the buffer id is in the last descriptor. */
	uint16_t id = d1->id;
	assert_null(simq_p_next_avail(s, false));
	simq_p_used(s, false, id, 0, 2);
	s->txq->free_thresh = 64;
	m = mk_pkt(60, 3);
	assert_int_equal(fj_tx_burst_packed(s->txq, &m, 1), 1);
	assert_int_equal(s->txq->pr.nfree, 63);
	sim_free(s);
}

static void
test_packed_tx_in_order_batch_completes_with_one_used_descriptor(void **state)
{
	(void)state;
	struct simq *s = sim_new(64, PACKED | FJ_BIT(VIRTIO_F_IN_ORDER));
	struct rte_mbuf *m[40];
	uint16_t last = 0;

	for (int round = 0; round < 5; round++) {
		for (int i = 0; i < 40; i++)
			m[i] = mk_pkt(64, (uint8_t)i);
		assert_int_equal(fj_tx_burst_packed(s->txq, m, 40), 40);
		for (int i = 0; i < 40; i++)
			last = simq_p_next_avail(s, false)->id;
		/* §2.8.9: one used descriptor with the last buffer's id. */
		simq_p_used(s, false, last, 0, 40);
		s->txq->free_thresh = 64;
		assert_int_equal(fj_tx_burst_packed(s->txq, m, 0), 0);
		assert_int_equal(s->txq->pr.nfree, 64);
	}
	assert_int_equal(rte_mempool_in_use_count(mp), s->rxq->nb_desc);
	sim_free(s);
}

/* The same on a packed ring, in order: one used descriptor for a batch. */
static void
test_packed_tx_done_cleanup_frees_what_the_device_used(void **state)
{
	(void)state;
	struct simq *s = sim_new(64, PACKED | FJ_BIT(VIRTIO_F_IN_ORDER));
	struct rte_mbuf *m[10];
	uint16_t ids[10];

	for (int i = 0; i < 10; i++)
		m[i] = mk_pkt(64, (uint8_t)i);
	assert_int_equal(fj_tx_burst_packed(s->txq, m, 10), 10);
	for (int i = 0; i < 10; i++)
		ids[i] = simq_p_next_avail(s, false)->id;
	assert_int_equal(fj_tx_done_cleanup(s->txq, 0), 0);
	simq_p_used(s, false, ids[5], 0, 6);
	assert_int_equal(fj_tx_done_cleanup(s->txq, 0), 6);
	assert_int_equal(s->txq->pr.nfree, 60);
	simq_p_used(s, false, ids[9], 0, 4);
	assert_int_equal(fj_tx_done_cleanup(s->txq, 0), 4);
	assert_int_equal(s->txq->pr.nfree, 64);
	assert_int_equal(rte_mempool_in_use_count(mp), s->rxq->nb_desc);
	sim_free(s);
}

static void
test_packed_tx_out_of_order_completion_never_reuses_a_busy_id(void **state)
{
	(void)state;
	struct simq *s = sim_new(64, PACKED);
	struct rte_mbuf *m[64];
	uint16_t ids[64];

	for (int i = 0; i < 64; i++)
		m[i] = mk_pkt(64, (uint8_t)i);
	assert_int_equal(fj_tx_burst_packed(s->txq, m, 64), 64);
	for (int i = 0; i < 64; i++)
		ids[i] = simq_p_next_avail(s, false)->id;
	/* Complete only the odd ones, newest first. */
	for (int i = 63; i > 0; i -= 2)
		simq_p_used(s, false, ids[i], 0, 1);
	s->txq->free_thresh = 64;
	for (int i = 0; i < 32; i++)
		m[i] = mk_pkt(64, (uint8_t)i);
	assert_int_equal(fj_tx_burst_packed(s->txq, m, 32), 32);
	/* The new buffers carry exactly the ids that came back. */
	for (int i = 0; i < 32; i++) {
		uint16_t id = simq_p_next_avail(s, false)->id;
		assert_int_equal(id % 2, 1);
	}
	sim_free(s);
}

static void
test_packed_tx_stops_on_a_used_id_not_in_flight(void **state)
{
	(void)state;
	struct simq *s = sim_new(64, PACKED);
	struct rte_mbuf *m = mk_pkt(64, 1);

	assert_int_equal(fj_tx_burst_packed(s->txq, &m, 1), 1);
	simq_p_used(s, false, 40, 0, 1);
	s->txq->free_thresh = 64;
	m = mk_pkt(64, 2);
	assert_int_equal(fj_tx_burst_packed(s->txq, &m, 1), 0);
	assert_true(s->txq->broken);
	rte_pktmbuf_free(m);
	sim_free(s);
}

static void
test_packed_tx_in_order_ids_are_first_slots_and_a_tail_slot_id_breaks_the_ring(void **state)
{
	(void)state;
	struct simq *s = sim_new(64, PACKED | FJ_BIT(VIRTIO_F_IN_ORDER));
	struct rte_mbuf *m[2];

	/* A two-segment chain in slots 0-1, then a one-segment packet in slot 2. */
	m[0] = mk_pkt(1000, 1);
	assert_int_equal(rte_pktmbuf_chain(m[0], mk_pkt(500, 2)), 0);
	m[1] = mk_pkt(60, 3);
	assert_int_equal(fj_tx_burst_packed(s->txq, m, 2), 2);
	assert_int_equal(simq_p_next_avail(s, false)->id, 0);
	assert_int_equal(simq_p_next_avail(s, false)->id, 0);
	assert_int_equal(simq_p_next_avail(s, false)->id, 2);
	/* Slot 1 is in flight but starts no buffer: not an id the device was given. */
	simq_p_used(s, false, 1, 0, 2);
	s->txq->free_thresh = 64;
	struct rte_mbuf *x = mk_pkt(60, 4);
	assert_int_equal(fj_tx_burst_packed(s->txq, &x, 1), 0);
	assert_true(s->txq->broken);
	assert_int_equal(s->txq->st.bad_id, 1);
	rte_pktmbuf_free(x);
	sim_free(s);
}

static void
test_packed_tx_in_order_used_id_ahead_retires_everything_before_it(void **state)
{
	(void)state;
	struct simq *s = sim_new(64, PACKED | FJ_BIT(VIRTIO_F_IN_ORDER));
	struct rte_mbuf *m[3];

	m[0] = mk_pkt(1000, 1);
	assert_int_equal(rte_pktmbuf_chain(m[0], mk_pkt(500, 2)), 0);
	m[1] = mk_pkt(60, 3);
	m[2] = mk_pkt(60, 4);
	assert_int_equal(fj_tx_burst_packed(s->txq, m, 3), 3);
	for (int i = 0; i < 4; i++)
		assert_non_null(simq_p_next_avail(s, false));
	/* §2.8.9: one used descriptor for all three, with the last one's id (slot 3). */
	simq_p_used(s, false, 3, 0, 4);
	s->txq->free_thresh = 64;
	assert_int_equal(fj_tx_burst_packed(s->txq, m, 0), 0);
	assert_false(s->txq->broken);
	assert_int_equal(s->txq->pr.nfree, 64);
	assert_int_equal(rte_mempool_in_use_count(mp), s->rxq->nb_desc);
	sim_free(s);
}

static int
setup(void **state)
{
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "--file-prefix=fjunit_%d", (int)getpid());
	char *argv[] = { "test_rxtx", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
			 "--log-level=lib.eal:error", "--no-telemetry", prefix, NULL };
	(void)state;
	if (rte_eal_init(9, argv) < 0)
		return -1;
	mp = rte_pktmbuf_pool_create("t_pool", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	return mp == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	rte_mempool_free(mp);
	/* EAL leaves its (empty, --no-shconf) runtime directory behind. */
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(dir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rx_delivers_frames_byte_for_byte),
		cmocka_unit_test(test_rx_csum_flags_for_an_offloading_application),
		cmocka_unit_test(test_tx_tso_fills_the_gso_fields),
		cmocka_unit_test(test_rx_large_segments_are_flagged_lro),
		cmocka_unit_test(test_rx_completes_partial_checksums_for_other_applications),
		cmocka_unit_test(test_rx_checksum_header_pointing_outside_the_frame_is_dropped),
		cmocka_unit_test(test_tx_asks_the_device_for_checksums),
		cmocka_unit_test(test_rx_merges_the_buffers_of_a_jumbo_frame),
		cmocka_unit_test(test_rx_waits_for_every_buffer_of_a_merged_frame),
		cmocka_unit_test(test_rx_refills_every_buffer_it_hands_up),
		cmocka_unit_test(test_rx_drops_and_counts_impossible_lengths),
		cmocka_unit_test(test_rx_stops_a_ring_whose_device_returns_ids_it_was_not_given),
		cmocka_unit_test(test_rx_rejects_the_same_id_returned_twice),
		cmocka_unit_test(test_rx_used_index_running_past_the_ring_stops_the_queue),
		cmocka_unit_test(test_rx_filters_other_hosts_frames_when_not_promiscuous),
		cmocka_unit_test(test_rx_without_mergeable_buffers_ignores_num_buffers),
		cmocka_unit_test(test_tx_puts_the_header_in_headroom_in_one_descriptor),
		cmocka_unit_test(test_tx_does_not_kick_a_device_that_polls),
		cmocka_unit_test(test_tx_chains_one_descriptor_per_segment),
		cmocka_unit_test(test_tx_done_cleanup_frees_what_the_device_used),
		cmocka_unit_test(test_tx_uses_a_header_descriptor_for_shared_mbufs),
		cmocka_unit_test(test_tx_frees_mbufs_completed_out_of_order),
		cmocka_unit_test(test_tx_reclaim_takes_back_about_a_burst),
		cmocka_unit_test(test_tx_in_order_device_may_complete_a_batch_with_one_entry),
		cmocka_unit_test(test_tx_stops_at_a_full_ring_and_keeps_the_rest),
		cmocka_unit_test(test_tx_drops_a_chain_longer_than_the_ring),
		cmocka_unit_test(test_tx_stops_a_ring_whose_device_completes_unknown_ids),
		cmocka_unit_test(test_packed_rx_delivers_and_merges_frames),
		cmocka_unit_test(test_packed_rx_stops_on_an_id_it_did_not_give),
		cmocka_unit_test(test_packed_tx_makes_the_chain_head_available_last),
		cmocka_unit_test(test_packed_tx_in_order_batch_completes_with_one_used_descriptor),
		cmocka_unit_test(test_packed_tx_done_cleanup_frees_what_the_device_used),
		cmocka_unit_test(test_packed_tx_out_of_order_completion_never_reuses_a_busy_id),
		cmocka_unit_test(test_packed_tx_stops_on_a_used_id_not_in_flight),
		cmocka_unit_test(test_packed_tx_in_order_ids_are_first_slots_and_a_tail_slot_id_breaks_the_ring),
		cmocka_unit_test(test_packed_tx_in_order_used_id_ahead_retires_everything_before_it),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
