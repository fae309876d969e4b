/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The direct backend: fjord's own stack on a DPDK port, each shard run to
 * completion on its lcore and queue pair. Its set-up, its loop and its
 * table of operations (backend.h).
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_prefetch.h>

#include "direct.h"

#define TICK_MS 100 /* the neighbour cache's and reassembly's clock */

static void
neigh_tick(struct fj_stack *s, void *arg)
{
	RTE_SET_USED(arg);
	uint64_t now = fj_now(s);

	fj_arp_tick(s, now);
	fj_ipv6_tick(s, now);
	fj_reasm_tick(s, now);
}

#define LINK_WATCH_MS 250

/*
 * Shard 0: the port's link, four times a second (a cached value on most
 * ports, one system call on a tap). A link that comes back (a vhost-user
 * back-end restarted, a cable) is announced again by gratuitous ARP (RFC
 * 5227 §3), so that switches and peers find the stack at once; flows stay
 * as they are and TCP resends what the gap lost.
 */
static void
link_watch(struct fj_stack *s, void *arg)
{
	struct rte_eth_link l;

	RTE_SET_USED(arg);
	if (rte_eth_link_get_nowait(s->port, &l) < 0)
		return;
	bool up = l.link_status == RTE_ETH_LINK_UP;
	if (up == s->link_up)
		return;
	s->link_up = up;
	if (!up) {
		s->c.port_link_downs++;
		FJ_STACK_LOG(NOTICE, "port %u: link down", s->port);
		return;
	}
	s->c.port_link_ups++;
	FJ_STACK_LOG(NOTICE, "port %u: link up", s->port);
	fj_arp_announce(s);
}

static int
direct_open(struct fj_stack *s)
{
	s->icmp_last = fj_now(s);
	s->ip_id = (uint16_t)s->id; /* then steps by the shard count (ipv4.c) */
	s->frag6_id = s->id;        /* (ipv6.c) */
	s->icmp_tokens = 50;
	/* RFC 1122 §2.3.2.1: entries time out; used ones are re-asked for by
	 * unicast first. Requests go every second, three times. */
	struct fj_neigh_params np = {
		.reachable = 120 * s->hz, .refresh = 90 * s->hz, .retry = s->hz, .max_tries = 3,
	};
	fj_neigh_init(&s->neigh, &np);
	if (fj_tcp_init(s) < 0 || fj_reasm_init(s) < 0) {
		fprintf(stderr, "fjord: out of memory for the TCP and reassembly tables\n");
		fj_tcp_fini(s);
		fj_reasm_fini(s);
		return -ENOMEM;
	}
	/* The first tick at once, then every TICK_MS. */
	fj_stack_timer_add(s, s->hz * TICK_MS / 1000, 0, neigh_tick, NULL);
	if (s->test_tx == NULL) {
		if (fj_netif_open(s) < 0) {
			fprintf(stderr, "fjord: cannot use port %u\n", s->port);
			fj_tcp_fini(s);
			fj_reasm_fini(s);
			return -ENODEV;
		}
		if (s->id == 0) {
			fj_stack_telemetry_register(s);
			s->link_up = true; /* (as started: a first down is news) */
			fj_stack_timer_add(s, s->hz * LINK_WATCH_MS / 1000, s->hz * LINK_WATCH_MS / 1000,
					   link_watch, NULL);
		}
	}
	fj_ipv6_init(s);
	if (s->id == 0) {
		fj_arp_announce(s);
		fj_ipv6_start(s);
	}
	fj_netif_flush(s);
	return 0;
}

static void
direct_close(struct fj_stack *s)
{
	void *pkts[FJ_NEIGH_PENDING_MAX];

	for (int i = 0; i < FJ_NEIGH_MAX; i++)
		if (s->neigh.e[i].state != FJ_NEIGH_FREE) {
			unsigned n = fj_neigh_take(&s->neigh, s->neigh.e[i].ip, pkts,
						   FJ_NEIGH_PENDING_MAX);
			for (unsigned k = 0; k < n; k++)
				rte_pktmbuf_free(pkts[k]);
		}
	fj_tcp_fini(s);
	fj_reasm_fini(s);
	fj_ipv6_close(s);
	fj_testport_close(s);
	if (s->test_tx != NULL)
		fj_netif_drop_pending(s);
	if (s->test_tx == NULL) {
		fj_netif_close(s);
		if (s->id == 0)
			fj_stack_telemetry_unregister(s);
	}
}

static int
direct_run(struct fj_stack *s)
{
	struct rte_mbuf *pkts[FJ_BURST];
	uint64_t next = fj_stack_next_timer(s), prev = fj_now(s);

	const bool steer = s->g->steer == FJ_STEER_SOFTWARE, shared = s->g->n > 1;

	while (!s->stop) {
		unsigned n = rte_eth_rx_burst(s->port, (uint16_t)s->id, pkts, FJ_BURST);
		if (s->rx_gro && n > 1 && !steer)
			n = fj_gro_burst(s, pkts, (uint16_t)n);
		if (steer) {
			fj_steer_burst(s, pkts, (uint16_t)n);
		} else {
			for (unsigned i = 0; i < n; i++) {
				if (i + 1 < n)
					rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
				fj_eth_input(s, pkts[i]);
			}
		}
		/* What other shards passed on: frames (steered) and calls. */
		if (shared)
			n += fj_steer_poll(s) + fj_shard_poll(s);
		uint64_t now = fj_now(s);
		/* TCP's wheel every turn (cheap when nothing is due); the
		 * coarser timers when one is. */
		fj_tcp_timers(s, now);
		if (now >= next) {
			fj_stack_timers(s, now);
			next = fj_stack_next_timer(s);
			fj_tcp_flush(s); /* what their callbacks wrote */
		}
		/* Flows the port's queue held, where it has sent their data. */
		if (s->tcp.qwait != NULL)
			fj_tcp_queue_poll(s);
		/* The kernel's frames (--kernel-exception), now and then. */
		if (unlikely(s->has_exc)) {
			if (s->id == 0)
				fj_exception_poll(s, now);
			fj_exception_flush(s);
		}
		/* Everything this turn produced leaves in one burst. */
		fj_netif_flush(s);
		/* A turn that received something was busy (its timers and
		 * flush land in the next turn's share). */
		s->c.loop_cycles += now - prev;
		if (n > 0)
			s->c.loop_busy_cycles += now - prev;
		prev = now;
		if (n == 0 && s->idle_yield) {
			/* Idle time, and the other thread's, are not this
			 * loop's work. */
			sched_yield();
			uint64_t back = fj_now(s);
			s->c.loop_cycles += back - prev;
			prev = back;
		}
	}
	return 0;
}


static unsigned
direct_nflows(const struct fj_stack *s)
{
	return s->tcp.nflows;
}

const struct fj_backend_ops fj_direct_ops = {
	.name = "direct",
	.eal_init = rte_eal_init,
	.open = direct_open,
	.run = direct_run,
	.close = direct_close,
	.nflows = direct_nflows,
	.udp_bind = fj_direct_udp_bind,
	.udp_send = fj_direct_udp_send,
	.udp_close = fj_direct_udp_close,
	.listen = fj_tcp_listen,
	.connect = fj_tcp_connect,
	.read = fj_tcp_read,
	.write = fj_tcp_write,
	.close_flow = fj_tcp_close,
	.shutdown = fj_tcp_shutdown,
	.abort = fj_tcp_abort,
	.set_nagle = fj_tcp_set_nagle,
	.set_keepalive = fj_tcp_set_keepalive,
	.peer = fj_tcp_peer,
	.shard_of = fj_direct_shard_of,
};
