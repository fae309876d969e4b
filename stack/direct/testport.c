/* SPDX-License-Identifier: BSD-3-Clause */
/* The deterministic test port (fjord_testport.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>

#define TEST_FRAME_MAX (RTE_MBUF_DEFAULT_BUF_SIZE * 8)

#include "direct.h"
#include "fjord_testport.h"

/* EAL starts once per process; every test port after the first shares it. */
static bool eal_up;

static uint16_t
testport_tx(struct fj_stack *s, struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint32_t len = RTE_MIN(m->pkt_len, (uint32_t)TEST_FRAME_MAX);
		const void *p = rte_pktmbuf_read(m, 0, len, s->test_frame);
		/* Checksums the port would fill are the stack's job here: no
		 * offloads are offered, so what leaves is complete. */
		s->test_tx(s->test_ctx, p, len);
		rte_pktmbuf_free(m);
	}
	return n;
}

struct fj_stack *
fj_stack_testport(const struct fj_testport_cfg *cfg)
{
	struct fj_stack *s;

	if (cfg->tx == NULL || cfg->clock == NULL || cfg->hz == 0 || cfg->ip == NULL) {
		fprintf(stderr, "fjord: a test port needs ip, hz, clock and tx\n");
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
	s->tx_fn = testport_tx;
	/* A port that takes chains: TCP's payload goes by reference, as on
	 * most ports (copied only when small). */
	s->tx_refs = true;
	s->tx_max_segs = FJ_TX_SEGS_MAX;
	s->port = UINT16_MAX;
	memcpy(s->mac.b, cfg->mac, 6);
	if (fj_stack_parse_addr(s, cfg->ip, cfg->gw) < 0 ||
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

void
fj_stack_input(struct fj_stack *s, const uint8_t *frame, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(s->mp);
	char *p;

	if (m == NULL || len > UINT16_MAX || (p = rte_pktmbuf_append(m, (uint16_t)len)) == NULL) {
		s->c.drops[m == NULL ? FJ_DROP_NO_MBUF : FJ_DROP_OVERSIZE]++;
		rte_pktmbuf_free(m);
		return;
	}
	memcpy(p, frame, len);
	/* As the loop takes a burst: steered when several shards share the
	 * port (shard.h). */
	if (s->g->steer == FJ_STEER_SOFTWARE)
		fj_steer_burst(s, &m, 1);
	else
		fj_eth_input(s, m);
	fj_netif_flush(s);
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
	fj_netif_flush(s);
}
