/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer: a hostile device drives fjord's rx and tx queues. The input is
 * a script of device actions (used entries with any id and length, header
 * num_buffers and checksum fields of its choice, used->idx jumps, flag
 * flips) interleaved with
 * the driver's bursts. Whatever the script, the driver must not crash, and
 * once the queues are drained every mbuf must be back in the pool.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_mbuf.h>

#include "simq.h"

int fj_logtype;
static struct rte_mempool *mp;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char prefix[64];
	snprintf(prefix, sizeof(prefix), "--file-prefix=fjfuzz_%d", (int)getpid());
	char *eal[] = { "fuzz_ring", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
			"--log-level=*:crit", "--no-telemetry", prefix, NULL };
	(void)argc;
	(void)argv;
	if (rte_eal_init(9, eal) < 0)
		abort();
	/* Nothing is shared (--no-shconf): the runtime directory can go now. */
	rmdir(rte_eal_get_runtime_dir());
	fj_logtype = rte_log_register("fuzz.fjord");
	rte_log_set_level(fj_logtype, RTE_LOG_CRIT);
	mp = rte_pktmbuf_pool_create("fuzz", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (mp == NULL)
		abort();
	return 0;
}

static uint32_t
rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint64_t features = 0;
	if (data[0] & 1)
		features |= FJ_BIT(VIRTIO_NET_F_MRG_RXBUF);
	if (data[0] & 2)
		features |= FJ_BIT(VIRTIO_F_IN_ORDER);
	bool packed = data[0] & 8;
	if (packed)
		features |= FJ_BIT(VIRTIO_F_RING_PACKED);
	uint16_t (*rx_burst)(void *, struct rte_mbuf **, uint16_t) =
		packed ? fj_rx_burst_packed : fj_rx_burst;
	uint16_t (*tx_burst)(void *, struct rte_mbuf **, uint16_t) =
		packed ? fj_tx_burst_packed : fj_tx_burst;
	struct simq *s = simq_new(mp, 64, features);
	if (s == NULL)
		abort();
	s->rxq->filter = data[0] & 4;
	s->rxq->mac = s->dev.mac;
	/* Checksum offload negotiated (GUEST_CSUM, CSUM); flags taken or not. */
	s->rxq->guest_csum = s->txq->csum = data[0] & 16;
	s->rxq->csum_offload = s->rxq->guest_csum && (data[0] & 32);
	/* TSO and large receive negotiated (HOST_TSO4/6 with CSUM, GUEST_TSO4/6). */
	if ((data[0] & 64) && s->txq->csum)
		s->txq->gso = s->rxq->gso = FJ_GSO_V4 | FJ_GSO_V6;

	struct rte_mbuf *pk[32];
	for (size_t i = 1; i + 10 <= size; i += 10) {
		const uint8_t *c = data + i;
		uint8_t op = c[0] % 8;
		uint32_t a = rd32(c + 1), b = rd32(c + 5);
		bool rx = c[9] & 1;

		switch (op) {
		case 0: /* device returns a buffer it took, honest id, chosen length */
			if (packed) {
				struct vring_packed_desc *d = simq_p_next_avail(s, rx);
				if (d != NULL)
					simq_p_used(s, rx, d->id, a % 20000, 1);
			} else {
				int id = simq_next_avail(s, rx);
				if (id >= 0)
					simq_used(s, rx, (uint32_t)id, a % 20000, c[9] & 2);
			}
			break;
		case 1: /* any id, any length */
			if (packed)
				simq_p_used(s, rx, (uint16_t)a, b, (uint16_t)(1 + c[9] % 64));
			else
				simq_used(s, rx, a, b, c[9] & 2);
			break;
		case 2: { /* write a header into a buffer the device holds */
			uint64_t addr = 0;
			uint16_t id = 0;
			if (packed) {
				struct vring_packed_desc *d = simq_p_next_avail(s, true);
				if (d != NULL) {
					addr = d->addr;
					id = d->id;
				}
			} else {
				int i = simq_next_avail(s, true);
				if (i >= 0) {
					addr = s->rxq->vr.desc[i].addr;
					id = (uint16_t)i;
				}
			}
			if (addr != 0) {
				struct virtio_net_hdr *h = (void *)(uintptr_t)addr;
				h->num_buffers = (uint16_t)a;
				h->flags = (uint8_t)(c[9] >> 2);
				h->csum_start = (uint16_t)(a >> 16);
				h->csum_offset = (uint16_t)(b >> 16);
				/* any gso fields, known types or not */
				h->gso_type = (uint8_t)(b >> 8);
				h->gso_size = (uint16_t)(a >> 8);
				h->hdr_len = (uint16_t)b;
				memcpy((uint8_t *)h + VIRTIO_NET_HDR_LEN, c + 5, 4);
				if (packed)
					simq_p_used(s, true, id, b % 5000, 1);
				else
					simq_used(s, true, id, b % 5000, c[9] & 2);
			}
			break;
		}
		case 3: /* used->idx jumps, or a packed descriptor's flags flip */
			if (packed)
				(rx ? s->rxq->pr.desc : s->txq->pr.desc)[a % 64].flags = (uint16_t)b;
			else
				simq_vr(s, rx)->used->idx = (uint16_t)a;
			break;
		case 4: { /* driver receives */
			uint16_t n = rx_burst(s->rxq, pk, (uint16_t)(1 + a % 32));
			for (uint16_t k = 0; k < n; k++) {
				/* Everything handed up must be a sane mbuf chain. */
				uint32_t len = 0;
				for (struct rte_mbuf *m = pk[k]; m; m = m->next)
					len += m->data_len;
				if (len != pk[k]->pkt_len)
					abort();
			}
			rte_pktmbuf_free_bulk(pk, n);
			break;
		}
		case 5: { /* driver sends */
			uint16_t n = (uint16_t)(1 + a % 8), k;
			for (k = 0; k < n; k++) {
				pk[k] = rte_pktmbuf_alloc(mp);
				if (pk[k] == NULL)
					break;
				if (rte_pktmbuf_append(pk[k], (uint16_t)(60 + b % 1400)) == NULL) {
					rte_pktmbuf_free(pk[k]);
					break;
				}
				/* any checksum request, any header lengths */
				pk[k]->ol_flags = (c[9] & 8) ? RTE_MBUF_F_TX_TCP_CKSUM
					       : (c[9] & 16) ? RTE_MBUF_F_TX_UDP_CKSUM : 0;
				pk[k]->l2_len = b >> 16;
				pk[k]->l3_len = b >> 23;
				/* TSO asked for, with any MSS and TCP header length */
				if (c[9] & 32) {
					pk[k]->ol_flags |= RTE_MBUF_F_TX_TCP_SEG |
							   ((c[9] & 64) ? RTE_MBUF_F_TX_IPV6
									: RTE_MBUF_F_TX_IPV4);
					pk[k]->tso_segsz = (uint16_t)(a >> 16);
					pk[k]->l4_len = (uint8_t)(a >> 8);
				}
				if (k > 0 && (c[9] & 4) && rte_pktmbuf_chain(pk[0], pk[k]) == 0) {
					k--;
					n--;
				}
			}
			uint16_t sent = tx_burst(s->txq, pk, k);
			rte_pktmbuf_free_bulk(pk + sent, k - sent);
			break;
		}
		case 6: /* device polls or wants kicks */
			if (packed)
				(rx ? s->rxq->pr.device_event : s->txq->pr.device_event)->flags = (uint16_t)a;
			else
				simq_vr(s, rx)->used->flags = (uint16_t)a;
			break;
		case 7: /* publish what is pending */
			if (!packed) {
				simq_vr(s, rx)->used->idx =
					(uint16_t)(simq_vr(s, rx)->used->idx + s->pending[rx]);
				s->pending[rx] = 0;
			}
			break;
		}
	}
	simq_free(s);
	if (rte_mempool_in_use_count(mp) != 0) {
		fprintf(stderr, "fuzz_ring: %u mbufs leaked\n", rte_mempool_in_use_count(mp));
		abort();
	}
	return 0;
}
