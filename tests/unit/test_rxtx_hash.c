/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The bursts with VIRTIO_NET_F_HASH_REPORT (VIRTIO 1.2 §5.1.6,
 * §5.1.6.4.3): every rx and tx buffer starts with the 20-byte struct
 * virtio_net_hdr_v1_hash; the device's hash reaches mbuf->hash.rss only
 * with a known hash_report. A scripted device plays the split and packed
 * rings (tests/common/simq.c); EAL runs without hugepages or devices.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>

#include "simq.h"

int fj_logtype;

static struct rte_mempool *mp;
static const uint8_t our_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };

#define HASH FJ_BIT(VIRTIO_NET_F_HASH_REPORT)
#define MRG FJ_BIT(VIRTIO_NET_F_MRG_RXBUF)
#define PACKED FJ_BIT(VIRTIO_F_RING_PACKED)

static void
make_frame(uint8_t *f, uint32_t len, uint8_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		f[i] = (uint8_t)(seed + i * 7);
	memcpy(f, our_mac, 6);
}

/* The next rx buffer the driver made available: its address and length. */
static uint8_t *
next_rx_buf(struct simq *s, uint16_t *id, uint32_t *len)
{
	if (s->rxq->packed) {
		struct vring_packed_desc *d = simq_p_next_avail(s, true);
		assert_non_null(d);
		*id = d->id;
		*len = d->len;
		return (uint8_t *)(uintptr_t)d->addr;
	}
	int i = simq_next_avail(s, true);
	assert_true(i >= 0);
	*id = (uint16_t)i;
	*len = s->rxq->vr.desc[i].len;
	return (uint8_t *)(uintptr_t)s->rxq->vr.desc[i].addr;
}

static void
rx_used(struct simq *s, uint16_t id, uint32_t len)
{
	if (s->rxq->packed)
		simq_p_used(s, true, id, len, 1);
	else
		simq_used(s, true, id, len, true);
}

/*
 * The device writes @frame (@len bytes) behind a 20-byte header with
 * @hash and @report, spread over as many buffers as it takes.
 */
static void
deliver(struct simq *s, const uint8_t *frame, uint32_t len, uint32_t hash, uint16_t report)
{
	struct virtio_net_hdr_v1_hash *h = NULL;
	uint32_t off = 0;
	uint16_t nbuf = 0;

	do {
		uint16_t id;
		uint32_t room, at = 0;
		uint8_t *buf = next_rx_buf(s, &id, &room);

		assert_int_equal(room, s->rxq->data_room + VIRTIO_NET_HDR_HASH_LEN);
		if (h == NULL) {
			h = (struct virtio_net_hdr_v1_hash *)buf;
			memset(h, 0, sizeof(*h));
			h->hash_value = hash;
			h->hash_report = report;
			at = VIRTIO_NET_HDR_HASH_LEN;
		}
		uint32_t n = RTE_MIN(room - at, len - off);
		memcpy(buf + at, frame + off, n);
		off += n;
		nbuf++;
		h->hdr.num_buffers = nbuf;
		rx_used(s, id, at + n);
	} while (off < len);
}

static uint16_t
rx(struct simq *s, struct rte_mbuf **pk, uint16_t n)
{
	return s->rxq->packed ? fj_rx_burst_packed(s->rxq, pk, n) : fj_rx_burst(s->rxq, pk, n);
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

static void
rx_hash_reports(uint64_t features)
{
	struct simq *s = simq_new(mp, 64, HASH | features);
	static uint8_t f[4][3000];
	const uint32_t lens[4] = { 60, 1514, 3000, 200 };
	/* TCPv4; NONE; UDPv4; a value no specification defines */
	const uint16_t reports[4] = { 2, 0, 3, 0xbeef };
	struct rte_mbuf *pk[8];

	assert_non_null(s);
	assert_int_equal(s->rxq->hdr_len, VIRTIO_NET_HDR_HASH_LEN);
	for (int i = 0; i < 4; i++) {
		make_frame(f[i], lens[i], (uint8_t)i);
		deliver(s, f[i], lens[i], 0x12345670u + (uint32_t)i, reports[i]);
	}
	assert_int_equal(rx(s, pk, 8), 4);
	for (int i = 0; i < 4; i++) {
		assert_mbuf_holds(pk[i], f[i], lens[i]);
		bool known = reports[i] != 0 && reports[i] <= 9;
		assert_int_equal(!!(pk[i]->ol_flags & RTE_MBUF_F_RX_RSS_HASH), known);
		if (known)
			assert_int_equal(pk[i]->hash.rss, 0x12345670u + (uint32_t)i);
	}
	assert_true(pk[2]->nb_segs > 1); /* the 3000-byte frame spans buffers */
	rte_pktmbuf_free_bulk(pk, 4);
	simq_free(s);
	assert_int_equal(rte_mempool_in_use_count(mp), 0);
}

static void
test_rx_hash_reaches_the_mbuf_only_when_reported(void **state)
{
	(void)state;
	rx_hash_reports(MRG);
}

static void
test_rx_hash_on_packed_rings(void **state)
{
	(void)state;
	rx_hash_reports(MRG | PACKED);
}

static void
test_rx_without_hash_report_leaves_the_hash_unset(void **state)
{
	(void)state;
	struct simq *s = simq_new(mp, 64, FJ_BIT(VIRTIO_NET_F_RSS));
	struct rte_mbuf *pk[2];
	uint8_t f[100];
	uint16_t id;
	uint32_t room;

	assert_non_null(s);
	assert_int_equal(s->rxq->hdr_len, VIRTIO_NET_HDR_LEN);
	make_frame(f, sizeof(f), 3);
	uint8_t *buf = next_rx_buf(s, &id, &room);
	assert_int_equal(room, s->rxq->data_room + VIRTIO_NET_HDR_LEN);
	memset(buf, 0, VIRTIO_NET_HDR_LEN);
	memcpy(buf + VIRTIO_NET_HDR_LEN, f, sizeof(f));
	rx_used(s, id, VIRTIO_NET_HDR_LEN + sizeof(f));
	assert_int_equal(rx(s, pk, 2), 1);
	assert_mbuf_holds(pk[0], f, sizeof(f));
	assert_false(pk[0]->ol_flags & RTE_MBUF_F_RX_RSS_HASH);
	rte_pktmbuf_free(pk[0]);
	simq_free(s);
}

static void
test_rx_frame_shorter_than_the_longer_header_is_dropped(void **state)
{
	(void)state;
	struct simq *s = simq_new(mp, 64, HASH);
	struct rte_mbuf *pk[2];
	uint16_t id;
	uint32_t room;

	assert_non_null(s);
	(void)next_rx_buf(s, &id, &room);
	rx_used(s, id, VIRTIO_NET_HDR_HASH_LEN + 13); /* less than an Ethernet header */
	assert_int_equal(rx(s, pk, 2), 0);
	assert_int_equal(s->rxq->st.bad_len, 1);
	simq_free(s);
}

static struct rte_mbuf *
mk_pkt(uint32_t len, uint8_t seed)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);

	assert_non_null(p);
	make_frame(p, len, seed);
	return m;
}

static void
test_tx_header_is_20_zeroed_bytes_in_headroom(void **state)
{
	(void)state;
	struct simq *s = simq_new(mp, 64, HASH);
	struct rte_mbuf *m = mk_pkt(60, 1);
	uint8_t copy[60];
	static const uint8_t zero[VIRTIO_NET_HDR_HASH_LEN];

	assert_non_null(s);
	memcpy(copy, rte_pktmbuf_mtod(m, void *), 60);
	memset(rte_pktmbuf_mtod_offset(m, char *, -VIRTIO_NET_HDR_HASH_LEN), 0xaa,
	       VIRTIO_NET_HDR_HASH_LEN);
	assert_int_equal(fj_tx_burst(s->txq, &m, 1), 1);
	int id = simq_next_avail(s, false);
	assert_true(id >= 0);
	struct vring_desc *d = &s->txq->vr.desc[id];
	assert_int_equal(d->len, 60 + VIRTIO_NET_HDR_HASH_LEN);
	const uint8_t *buf = (const uint8_t *)(uintptr_t)d->addr;
	assert_memory_equal(buf, zero, sizeof(zero));
	assert_memory_equal(buf + VIRTIO_NET_HDR_HASH_LEN, copy, 60);
	simq_used(s, false, (uint32_t)id, 0, true);
	simq_free(s);
}

static void
test_tx_header_slot_holds_the_longer_header(void **state)
{
	(void)state;
	struct simq *s = simq_new(mp, 64, HASH | PACKED);
	struct rte_mbuf *m[2] = { mk_pkt(200, 4), mk_pkt(300, 5) };
	static const uint8_t zero[VIRTIO_NET_HDR_HASH_LEN];

	assert_non_null(s);
	/* A slot's previous contents do not leak into the hash fields. */
	memset(s->txq->hdr_va, 0x55, 2 * VIRTIO_NET_HDR_MAX_LEN);
	rte_mbuf_refcnt_update(m[0], 1); /* shared: its headroom is not ours */
	rte_mbuf_refcnt_update(m[1], 1);
	assert_int_equal(fj_tx_burst_packed(s->txq, m, 2), 2);
	for (int i = 0; i < 2; i++) {
		struct vring_packed_desc *h = simq_p_next_avail(s, false);
		assert_non_null(h);
		assert_int_equal(h->len, VIRTIO_NET_HDR_HASH_LEN);
		assert_memory_equal((void *)(uintptr_t)h->addr, zero, sizeof(zero));
		struct vring_packed_desc *d = simq_p_next_avail(s, false);
		assert_non_null(d);
		assert_int_equal(d->len, i == 0 ? 200 : 300);
		/* Slots do not overlap at the longer length. */
		assert_int_equal(h->addr, s->txq->hdr_base + (uint64_t)i * VIRTIO_NET_HDR_MAX_LEN);
	}
	rte_pktmbuf_free(m[0]);
	rte_pktmbuf_free(m[1]);
	simq_free(s);
}

static int
setup(void **state)
{
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "--file-prefix=fjhash_%d", (int)getpid());
	char *argv[] = { "test_rxtx_hash", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
			 "--log-level=lib.eal:error", "--no-telemetry", prefix, NULL };
	(void)state;
	if (rte_eal_init(9, argv) < 0)
		return -1;
	mp = rte_pktmbuf_pool_create("h_pool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	return mp == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	rte_mempool_free(mp);
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
		cmocka_unit_test(test_rx_hash_reaches_the_mbuf_only_when_reported),
		cmocka_unit_test(test_rx_hash_on_packed_rings),
		cmocka_unit_test(test_rx_without_hash_report_leaves_the_hash_unset),
		cmocka_unit_test(test_rx_frame_shorter_than_the_longer_header_is_dropped),
		cmocka_unit_test(test_tx_header_is_20_zeroed_bytes_in_headroom),
		cmocka_unit_test(test_tx_header_slot_holds_the_longer_header),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
