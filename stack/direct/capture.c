/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Capture: what the port receives and sends, two ways. dpdk-dumpcap and
 * dpdk-pdump attach as secondary processes through DPDK's pdump library,
 * which the stack initialises for them; --pcap FILE writes a pcapng file
 * itself (DPDK's rte_pcapng), from rx and tx callbacks on every queue
 * pair, so the loop and the shards know nothing of it. Frames are copied
 * as they pass (up to the snap length), timestamped by the TSC, and
 * written once a burst; a copy that finds no buffer is counted, never
 * waited for.
 */
/* rte_pcapng is experimental in DPDK 22.11 */
#define ALLOW_EXPERIMENTAL_API
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_pcapng.h>
#include <rte_pdump.h>

#include "direct.h"

/* Copies in flight: a queue's are written and freed by the burst that
 * made them, at most RTE_DIM(copy) at a time (capture_burst). */
#define CAPTURE_PER_QUEUE (FJ_BURST * 2)

struct capture_queue {
	struct fj_capture *c;
	const struct rte_eth_rxtx_callback *rx_cb, *tx_cb;
	uint64_t written, lost; /* this queue's, written by its shard only */
} __rte_cache_aligned;

struct fj_capture {
	rte_pcapng_t *w;
	struct rte_mempool *mp;
	uint16_t port;
	unsigned nq;
	uint32_t snaplen;
	struct capture_queue q[RTE_MAX_LCORE];
};

static bool pdump_up;

/* Copy @n frames of queue @q's burst (in direction @dir) into the file. */
static void
capture_burst(struct capture_queue *cq, uint16_t qid, struct rte_mbuf **pkts, uint16_t n,
	      enum rte_pcapng_direction dir)
{
	struct fj_capture *c = cq->c;
	struct rte_mbuf *copy[CAPTURE_PER_QUEUE];
	uint64_t now = rte_get_tsc_cycles();
	uint16_t k = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = rte_pcapng_copy(c->port, qid, pkts[i], c->mp, c->snaplen, now,
						     dir);
		if (m == NULL)
			cq->lost++;
		else
			copy[k++] = m;
		if (k == RTE_DIM(copy) || (i + 1 == n && k > 0)) {
			if (rte_pcapng_write_packets(c->w, copy, k) < 0)
				cq->lost += k;
			else
				cq->written += k;
			rte_pktmbuf_free_bulk(copy, k);
			k = 0;
		}
	}
}

static uint16_t
capture_rx(uint16_t port, uint16_t qid, struct rte_mbuf **pkts, uint16_t n, uint16_t max,
	   void *arg)
{
	RTE_SET_USED(port);
	RTE_SET_USED(max);
	if (n > 0)
		capture_burst(arg, qid, pkts, n, RTE_PCAPNG_DIRECTION_IN);
	return n;
}

/* (What the port then refuses stays in the stack's batch and is offered
 * again: it may show twice in the file, as with dumpcap.) */
static uint16_t
capture_tx(uint16_t port, uint16_t qid, struct rte_mbuf **pkts, uint16_t n, void *arg)
{
	RTE_SET_USED(port);
	if (n > 0)
		capture_burst(arg, qid, pkts, n, RTE_PCAPNG_DIRECTION_OUT);
	return n;
}

/* Shard 0, once the port is configured: the file and every queue pair's
 * callbacks. */
int
fj_capture_open(struct fj_stack *s)
{
	char name[RTE_MEMPOOL_NAMESIZE], hw[64] = "";
	struct rte_eth_dev_info info;
	struct utsname u;
	struct fj_capture *c;
	int fd;

	/* For dpdk-dumpcap and dpdk-pdump (secondary processes): not there
	 * without EAL's multi-process channel (--in-memory, --no-shconf). */
	if (!pdump_up) {
		if (rte_pdump_init() == 0)
			pdump_up = true;
		else
			FJ_STACK_LOG(NOTICE, "no capture by dpdk-dumpcap (pdump: %s)",
				     rte_strerror(rte_errno));
	}
	if (s->pcap_path[0] == '\0')
		return 0;
	c = rte_zmalloc("fj_capture", sizeof(*c), RTE_CACHE_LINE_SIZE);
	if (c == NULL)
		return -ENOMEM;
	c->port = s->port;
	c->nq = s->g->n;
	/* (a copy's buffer, the pcapng block around the frame, is at most
	 * 64 KiB) */
	uint32_t over = rte_pcapng_mbuf_size(0);
	c->snaplen = RTE_MIN(s->pcap_snaplen, UINT16_MAX - over);
	snprintf(name, sizeof(name), "fj_pcap_%u", s->port);
	c->mp = rte_pktmbuf_pool_create(name, RTE_MAX(c->nq * CAPTURE_PER_QUEUE, 256u), 0, 0,
					(uint16_t)rte_pcapng_mbuf_size(c->snaplen), (int)rte_socket_id());
	fd = open(s->pcap_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0640);
	if (c->mp == NULL || fd < 0) {
		int err = fd < 0 ? errno : rte_errno;
		FJ_STACK_LOG(ERR, "--pcap %s: %s", s->pcap_path, strerror(err));
		if (fd >= 0)
			close(fd);
		rte_mempool_free(c->mp);
		rte_free(c);
		return -err;
	}
	if (rte_eth_dev_info_get(s->port, &info) == 0)
		snprintf(hw, sizeof(hw), "%s", info.driver_name);
	uname(&u);
	char os[sizeof(u.sysname) + sizeof(u.release) + 2];
	snprintf(os, sizeof(os), "%s %s", u.sysname, u.release);
	c->w = rte_pcapng_fdopen(fd, os, hw, "fjord", NULL);
	if (c->w == NULL) {
		FJ_STACK_LOG(ERR, "--pcap %s: %s", s->pcap_path, rte_strerror(rte_errno));
		close(fd);
		rte_mempool_free(c->mp);
		rte_free(c);
		return -EIO;
	}
	for (unsigned i = 0; i < c->nq; i++) {
		struct capture_queue *cq = &c->q[i];
		cq->c = c;
		cq->rx_cb = rte_eth_add_rx_callback(s->port, (uint16_t)i, capture_rx, cq);
		cq->tx_cb = rte_eth_add_tx_callback(s->port, (uint16_t)i, capture_tx, cq);
		if (cq->rx_cb == NULL || cq->tx_cb == NULL) {
			FJ_STACK_LOG(ERR, "--pcap: port %u takes no callbacks: %s", s->port,
				     rte_strerror(rte_errno));
			s->capture = c;
			fj_capture_close(s);
			return -ENOTSUP;
		}
	}
	s->capture = c;
	FJ_STACK_LOG(NOTICE, "port %u: capturing to %s (pcapng, %u bytes a frame)", s->port,
		     s->pcap_path, c->snaplen);
	return 0;
}

/* Shard 0, the port stopped: the callbacks gone, the file closed. */
void
fj_capture_close(struct fj_stack *s)
{
	struct fj_capture *c = s->capture;
	uint64_t written = 0, lost = 0;

	if (pdump_up) {
		rte_pdump_uninit();
		pdump_up = false;
	}
	if (c == NULL)
		return;
	for (unsigned i = 0; i < c->nq; i++) {
		struct capture_queue *cq = &c->q[i];
		/* (removing leaves the callback's memory to us: no burst runs
		 * now, the port is stopped) */
		if (cq->rx_cb != NULL && rte_eth_remove_rx_callback(c->port, (uint16_t)i,
								     cq->rx_cb) == 0)
			rte_free((void *)(uintptr_t)cq->rx_cb);
		if (cq->tx_cb != NULL && rte_eth_remove_tx_callback(c->port, (uint16_t)i,
								     cq->tx_cb) == 0)
			rte_free((void *)(uintptr_t)cq->tx_cb);
		written += cq->written;
		lost += cq->lost;
	}
	rte_pcapng_close(c->w);
	rte_mempool_free(c->mp);
	FJ_STACK_LOG(NOTICE, "--pcap %s: %" PRIu64 " frames written, %" PRIu64 " not captured",
		     s->pcap_path, written, lost);
	rte_free(c);
	s->capture = NULL;
}
