/* SPDX-License-Identifier: BSD-3-Clause */
/* The deterministic test port (fjord_testport.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>

/* A 64 KiB IPv4 datagram and its Ethernet header. */
#define TEST_FRAME_MAX (UINT16_MAX + RTE_ETHER_HDR_LEN)

#include "direct.h"
#include "fjord_testport.h"

/* EAL starts once per process; every test port after the first shares it. */
static bool eal_up;

/*
 * TSO as a NIC does it: the payload after the headers in pieces of
 * tso_segsz, each behind a copy of the headers with its own IPv4 length,
 * ID and checksum, its sequence number, FIN and PSH on the last piece
 * only, and the TCP checksum complete.
 */
static void
testport_cut(struct fj_stack *s, struct rte_mbuf *m, const uint8_t *p, uint32_t len)
{
	uint32_t hl = (uint32_t)m->l2_len + m->l3_len + m->l4_len;
	uint8_t f[RTE_ETHER_HDR_LEN + 60 + 60 + 9216];
	uint32_t mss = m->tso_segsz;

	if (hl > len || mss == 0 || mss > sizeof(f) - hl) {
		s->c.drops[FJ_DROP_OVERSIZE]++;
		return;
	}
	for (uint32_t off = hl, k = 0; off < len; off += mss, k++) {
		uint32_t plen = RTE_MIN(mss, len - off);
		memcpy(f, p, hl);
		memcpy(f + hl, p + off, plen);
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + m->l2_len);
		struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(f + m->l2_len + m->l3_len);
		ip->total_length = rte_cpu_to_be_16((uint16_t)(m->l3_len + m->l4_len + plen));
		ip->packet_id = rte_cpu_to_be_16((uint16_t)(rte_be_to_cpu_16(ip->packet_id) + k));
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		th->sent_seq = rte_cpu_to_be_32(rte_be_to_cpu_32(th->sent_seq) + (off - hl));
		if (off + plen < len)
			th->tcp_flags &= (uint8_t)~(RTE_TCP_FIN_FLAG | RTE_TCP_PSH_FLAG);
		th->cksum = 0;
		th->cksum = rte_ipv4_udptcp_cksum(ip, th);
		s->test_tx(s->test_ctx, f, hl + plen);
	}
}

static void
testport_emit(struct fj_stack *s, struct rte_mbuf *m)
{
	uint32_t len = RTE_MIN(m->pkt_len, (uint32_t)TEST_FRAME_MAX);
	const uint8_t *p = rte_pktmbuf_read(m, 0, len, s->test_frame);
	/* Checksums the port would fill are the stack's job here: no
	 * offloads but TSO are offered, so what leaves is complete. */
	if (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG)
		testport_cut(s, m, p, len);
	else
		s->test_tx(s->test_ctx, p, len);
}

/* The kernel exception path of a test port: the frame to its callback. */
void
fj_testport_exception(struct fj_stack *s, struct rte_mbuf *m)
{
	uint32_t len = RTE_MIN(m->pkt_len, (uint32_t)TEST_FRAME_MAX);

	s->test_exc(s->test_ctx, rte_pktmbuf_read(m, 0, len, s->test_frame), len);
	rte_pktmbuf_free(m);
}

static uint16_t
testport_tx(struct fj_stack *s, struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		testport_emit(s, pkts[i]);
		rte_pktmbuf_free(pkts[i]);
	}
	return n;
}

static void testport_clean(struct fj_stack *s);

static uint16_t
testport_hold(struct fj_stack *s, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t i;

	/* Short of room, it takes back what it has sent, as a PMD's burst
	 * reclaims when short of descriptors. */
	if (s->test_nq + n > s->test_qmax && s->test_ndone > 0)
		testport_clean(s);
	for (i = 0; i < n && s->test_nq < s->test_qmax; i++)
		s->test_q[s->test_nq++] = pkts[i];
	return i;
}

/* What a holding port has sent goes back to the pools. */
static void
testport_clean(struct fj_stack *s)
{
	for (uint32_t i = 0; i < s->test_ndone; i++)
		rte_pktmbuf_free(s->test_q[i]);
	memmove(s->test_q, s->test_q + s->test_ndone,
		(s->test_nq - s->test_ndone) * sizeof(s->test_q[0]));
	s->test_nq -= s->test_ndone;
	s->test_ndone = 0;
}

unsigned
fj_testport_waiting(const struct fj_stack *s)
{
	return s->test_q ? s->test_nq - s->test_ndone : 0;
}

void
fj_testport_hold(struct fj_stack *s, bool on)
{
	if (s->test_q == NULL)
		return;
	if (!on) {
		fj_testport_transmit(s, UINT32_MAX);
		testport_clean(s);
	}
	s->tx_fn = on ? testport_hold : testport_tx;
}

void
fj_testport_transmit(struct fj_stack *s, unsigned n)
{
	for (; n > 0 && s->test_q && s->test_ndone < s->test_nq; n--)
		testport_emit(s, s->test_q[s->test_ndone++]);
}

void
fj_testport_close(struct fj_stack *s)
{
	if (s->test_q == NULL)
		return;
	s->test_ndone = s->test_nq;
	testport_clean(s);
	free(s->test_q);
	s->test_q = NULL;
}

struct fj_stack *
fj_stack_testport(const struct fj_testport_cfg *cfg)
{
	struct fj_stack *s;

	if (cfg->tx == NULL || cfg->clock == NULL || cfg->hz == 0 || cfg->ip == NULL) {
		fprintf(stderr, "fjord: a test port needs ip, hz, clock and tx\n");
		return NULL;
	}
	if (cfg->holds && cfg->shards > 1) {
		fprintf(stderr, "fjord: a holding test port has one shard\n");
		return NULL;
	}
	if (!eal_up) {
		char prefix[64];
		snprintf(prefix, sizeof(prefix), "--file-prefix=fjtest%d", (int)getpid());
		char *argv[] = { "fjord-testport", "--no-huge", "-m", "256", "--no-pci",
				 "--no-shconf", "--no-telemetry", "--log-level=*:error", prefix, NULL };
		if (rte_eal_init(9, argv) < 0) {
			fprintf(stderr, "fjord: EAL initialisation failed\n");
			return NULL;
		}
		/* Nothing needs EAL's (empty) runtime directory. */
		rmdir(rte_eal_get_runtime_dir());
		eal_up = true;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->ops = &fj_direct_ops;
	s->test_frame = malloc(TEST_FRAME_MAX);
	if (s->test_frame == NULL) {
		free(s);
		return NULL;
	}
	s->mtu = cfg->mtu ? cfg->mtu : 1500;
	s->hz = cfg->hz;
	s->clock = cfg->clock;
	s->clock_ctx = cfg->ctx;
	s->test_tx = cfg->tx;
	s->test_ctx = cfg->ctx;
	s->test_exc = cfg->exception;
	s->has_exc = cfg->exception != NULL;
	s->tx_fn = testport_tx;
	if (cfg->holds) {
		s->test_qmax = cfg->hold_max && cfg->hold_max < FJ_TESTPORT_HOLD_MAX ?
			       cfg->hold_max : FJ_TESTPORT_HOLD_MAX;
		s->test_q = calloc(s->test_qmax, sizeof(*s->test_q));
		if (s->test_q == NULL) {
			free(s->test_frame);
			free(s);
			return NULL;
		}
		s->tx_clean_fn = testport_clean;
	}
	/* A port that takes chains: TCP's payload goes by reference, as on
	 * most ports (copied only when small). */
	s->tx_refs = true;
	s->tx_max_segs = FJ_TX_SEGS_MAX;
	s->rx_gro = cfg->gro;
	if (cfg->tso) {
		s->tx_tso = true;
		s->tso_max = UINT16_MAX - FJ_IPV4_HDR_LEN - 60;
	}
	s->port = UINT16_MAX;
	memcpy(s->mac.b, cfg->mac, 6);
	if (fj_stack_parse_addr(s, cfg->ip, cfg->gw, cfg->ip6) < 0)
		goto fail;
	s->dad_transmits = cfg->dad_transmits;
	if (cfg->flow_queue_bytes)
		s->flow_queue_bytes = cfg->flow_queue_bytes;
	if (
	    fj_shards_create(s, cfg->shards ? cfg->shards : 1) < 0)
		goto fail;
	/* Shards beyond the first: their own frame buffers; steered in
	 * software, as on a port without RSS. */
	for (unsigned i = 1; i < s->g->n; i++)
		if ((s->g->shard[i]->test_frame = malloc(TEST_FRAME_MAX)) == NULL)
			goto fail;
	if (s->g->n > 1)
		s->g->steer = FJ_STEER_SOFTWARE;
	if (fj_stack_setup(s) < 0)
		goto fail;
	return s;
fail:
	fj_stack_release(s);
	return NULL;
}

/* A frame as an mbuf (chained if longer than one), NULL if dropped. */
static struct rte_mbuf *
frame_mbuf(struct fj_stack *s, const uint8_t *frame, uint32_t len)
{
	struct rte_mbuf *m = NULL;

	if (len > TEST_FRAME_MAX) {
		s->c.drops[FJ_DROP_OVERSIZE]++;
		return NULL;
	}
	/* A frame longer than one buffer comes as a chain, as a port that
	 * scatters (or coalesces, LRO) gives it. */
	for (uint32_t off = 0; off < len || m == NULL;) {
		struct rte_mbuf *seg = rte_pktmbuf_alloc(s->mp);
		if (seg == NULL) {
			s->c.drops[FJ_DROP_NO_MBUF]++;
			rte_pktmbuf_free(m);
			return NULL;
		}
		uint16_t k = (uint16_t)RTE_MIN(len - off, (uint32_t)rte_pktmbuf_tailroom(seg));
		memcpy(rte_pktmbuf_append(seg, k), frame + off, k);
		off += k;
		if (m == NULL)
			m = seg;
		else
			rte_pktmbuf_chain(m, seg);
	}
	return m;
}

void
fj_stack_input_burst(struct fj_stack *s, const uint8_t *const *frames, const uint32_t *lens,
		     unsigned n)
{
	struct rte_mbuf *pkts[FJ_BURST];
	uint16_t k = 0;

	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = frame_mbuf(s, frames[i], lens[i]);
		if (m != NULL && k < FJ_BURST)
			pkts[k++] = m;
		else if (m != NULL)
			fj_drop(s, m, FJ_DROP_NO_MBUF);
	}
	/* As the loop takes a burst: steered when several shards share the
	 * port (shard.h), else coalesced where asked (cfg.gro). */
	if (s->g->steer == FJ_STEER_SOFTWARE) {
		fj_steer_burst(s, pkts, k);
	} else {
		if (s->rx_gro && k > 1)
			k = fj_gro_burst(s, pkts, k);
		for (uint16_t i = 0; i < k; i++)
			fj_eth_input(s, pkts[i]);
	}
	fj_netif_flush(s);
}

void
fj_stack_input(struct fj_stack *s, const uint8_t *frame, uint32_t len)
{
	fj_stack_input_burst(s, &frame, &len, 1);
}

void
fj_stack_poll(struct fj_stack *s)
{
	uint64_t now = fj_now(s);

	if (s->g->n > 1) {
		fj_steer_poll(s);
		fj_shard_poll(s);
	}
	fj_tcp_timers(s, now);
	fj_stack_timers(s, now);
	fj_tcp_flush(s); /* what their callbacks wrote */
	if (s->tcp.qwait != NULL)
		fj_tcp_queue_poll(s);
	fj_netif_flush(s);
}
